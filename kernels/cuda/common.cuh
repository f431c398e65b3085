// common.cuh — shared device helpers of the kernels: storage-type conversion, dispatch from the
// runtime DType to a template argument, warp and block reductions, launch sizes, and (at the end)
// 16-byte vector loads/stores with fp32 conversion and the one-wave grid of a persistent
// grid-stride kernel (the memory-bound kernels of elementwise.cu, norms.cu and optim.cu).
#pragma once

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/ops.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
        throw std::invalid_argument(std::string("llmplan kernels: gradient type ") + to_string(grad_dt) +
                                    " must be fp32 or the storage type " + to_string(dt));
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

// --- 16-byte vector access and persistent grids (elementwise.cu, norms.cu, optim.cu) -------------
namespace llmplan::kernels::cuda {

// Elements of T in one 16-byte access: 4 fp32, 8 bf16/fp16.
template <typename T>
inline constexpr int kVec = 16 / static_cast<int>(sizeof(T));

// One 16-byte word (kVec<T> values of T) to fp32 and back; stores round to nearest even, as
// from_float. The address of a load or store must be 16-byte aligned.
__device__ __forceinline__ void unpack16(const uint4& w, float* out, float) {
    out[0] = __uint_as_float(w.x);
    out[1] = __uint_as_float(w.y);
    out[2] = __uint_as_float(w.z);
    out[3] = __uint_as_float(w.w);
}
__device__ __forceinline__ void unpack16(const uint4& w, float* out, bf16) {
    const unsigned u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {  // low half first: the element at the lower address
        out[2 * i] = __uint_as_float(u[i] << 16);
        out[2 * i + 1] = __uint_as_float(u[i] & 0xffff0000u);
    }
}
__device__ __forceinline__ void unpack16(const uint4& w, float* out, fp16) {
    const unsigned u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        __half2 h2;
        memcpy(&h2, &u[i], 4);
        const float2 f = __half22float2(h2);
        out[2 * i] = f.x;
        out[2 * i + 1] = f.y;
    }
}
__device__ __forceinline__ uint4 pack16(const float* in, float) {
    return make_uint4(__float_as_uint(in[0]), __float_as_uint(in[1]), __float_as_uint(in[2]), __float_as_uint(in[3]));
}
__device__ __forceinline__ uint4 pack16(const float* in, bf16) {
    unsigned u[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const __nv_bfloat162 b = __floats2bfloat162_rn(in[2 * i], in[2 * i + 1]);
        memcpy(&u[i], &b, 4);
    }
    return make_uint4(u[0], u[1], u[2], u[3]);
}
__device__ __forceinline__ uint4 pack16(const float* in, fp16) {
    unsigned u[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const __half2 h2 = __floats2half2_rn(in[2 * i], in[2 * i + 1]);
        memcpy(&u[i], &h2, 4);
    }
    return make_uint4(u[0], u[1], u[2], u[3]);
}

// N values (N·sizeof(T) a multiple of 16) at a 16-byte aligned address, as 16-byte accesses.
template <typename T, int N>
__device__ __forceinline__ void load_vec(const T* p, float (&out)[N]) {
    static_assert(N % kVec<T> == 0, "load_vec: whole 16-byte words");
#pragma unroll
    for (int w = 0; w < N / kVec<T>; ++w) unpack16(reinterpret_cast<const uint4*>(p)[w], out + w * kVec<T>, T{});
}
template <typename T, int N>
__device__ __forceinline__ void store_vec(T* p, const float (&in)[N]) {
    static_assert(N % kVec<T> == 0, "store_vec: whole 16-byte words");
#pragma unroll
    for (int w = 0; w < N / kVec<T>; ++w) reinterpret_cast<uint4*>(p)[w] = pack16(in + w * kVec<T>, T{});
}

inline bool is_aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// Multiprocessors of the current device (cached per device).
inline int device_multiprocessors() {
    int dev = 0;
    LLMPLAN_CUDA_CHECK(cudaGetDevice(&dev));
    constexpr int kMaxDevices = 64;
    static std::atomic<int> cached[kMaxDevices];  // static storage: zero until first set
    if (dev >= 0 && dev < kMaxDevices) {
        const int c = cached[dev].load(std::memory_order_relaxed);
        if (c > 0) return c;
    }
    int count = 0;
    LLMPLAN_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, dev));
    count = std::max(count, 1);
    if (dev >= 0 && dev < kMaxDevices) cached[dev].store(count, std::memory_order_relaxed);
    return count;
}

// The blocks of `threads` threads of Kernel that are resident on the current device at once
// (multiprocessors × the occupancy calculator's blocks per multiprocessor, the latter cached per
// kernel): the grid of a grid-stride kernel that fills the device in one wave.
template <auto Kernel>
unsigned resident_grid(int threads) {
    static const int per_sm = [threads] {
        int b = 0;
        LLMPLAN_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, Kernel, threads, 0));
        return std::max(b, 1);
    }();
    return static_cast<unsigned>(per_sm) * static_cast<unsigned>(device_multiprocessors());
}

// The grid of a grid-stride kernel that wants `want` blocks: at most one resident wave, at least one
// block. Small grids (≤ 128 blocks, a single wave on any GPU these kernels target) skip the device
// query: launch-bound calls keep their host path short.
template <auto Kernel>
unsigned persistent_grid(std::size_t want, int threads) {
    if (want <= 128) return static_cast<unsigned>(std::max<std::size_t>(want, 1));
    return static_cast<unsigned>(std::min<std::size_t>(want, resident_grid<Kernel>(threads)));
}

}  // namespace llmplan::kernels::cuda
