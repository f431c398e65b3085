// common.cuh — shared device helpers of the kernels: storage-type conversion, dispatch from the
// runtime DType to a template argument, warp and block reductions, launch sizes.
#pragma once

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/ops.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace llmplan::kernels::cuda {

using bf16 = __nv_bfloat16;
using fp16 = __half;

// Loads and stores in fp32 arithmetic; bf16/fp16 round to nearest even on store.
__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(bf16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_float(fp16 x) { return __half2float(x); }

template <typename T>
__device__ __forceinline__ T from_float(float x);
template <>
__device__ __forceinline__ float from_float<float>(float x) { return x; }
template <>
__device__ __forceinline__ bf16 from_float<bf16>(float x) { return __float2bfloat16_rn(x); }
template <>
__device__ __forceinline__ fp16 from_float<fp16>(float x) { return __float2half_rn(x); }

// Calls f(T{}) with T the C++ type of `dt`: DISPATCH(dt, [&](auto tag) { using T = decltype(tag); ... }).
template <typename F>
void dispatch(DType dt, F&& f) {
    switch (dt) {
    case DType::fp32: f(float{}); return;
    case DType::bf16: f(bf16{}); return;
    case DType::fp16: f(fp16{}); return;
    }
    throw std::invalid_argument("llmplan kernels: unknown dtype");
}

// Parameter-gradient type: the storage type itself or fp32 (the two the engine uses).
template <typename T, typename F>
void dispatch_grad(DType dt, DType grad_dt, F&& f) {
    if (grad_dt == DType::fp32) {
        f(float{});
    } else if (grad_dt == dt) {
        f(T{});
    } else {
        throw std::invalid_argument(std::string("llmplan kernels: gradient type ") + dtype_name(grad_dt) +
                                    " must be fp32 or the storage type " + dtype_name(dt));
    }
}

template <typename V>
__device__ __forceinline__ V warp_sum(V v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, ≤ 1024); every thread gets the result.
// `shared` holds 32 values; the call begins with a barrier so that it can be called repeatedly.
template <typename V>
__device__ __forceinline__ V block_sum(V v, V* shared) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    V r = lane < warps ? shared[lane] : V(0);
    return warp_sum(r);
}
__device__ __forceinline__ float block_max(float v, float* shared) {
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float r = lane < warps ? shared[lane] : -INFINITY;
    return warp_max(r);
}

// Grid for a grid-stride loop over n elements.
inline unsigned grid_for(std::size_t n, int threads, unsigned cap = 65535u * 8u) {
    const std::size_t blocks = (n + static_cast<std::size_t>(threads) - 1) / static_cast<std::size_t>(threads);
    return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(blocks, cap)));
}

inline void require(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("llmplan kernels: ") + what);
}

}  // namespace llmplan::kernels::cuda
