// nccl_check.cuh — the device side of llmplan's NCCL bandwidth measurement, `llmplan profile comm`
// (kernels/cuda/nccl_comm.cu, one process per GPU): fill a send buffer with rank + 1, then count the output elements
// that differ from their exact value (all-reduce and reduce-scatter: n(n+1)/2, exact in fp32,
// bf16 and fp16 for n ≤ 22; all-gather block j: j + 1).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>

namespace llmplan::kernels::cuda::nccl_check {

template <typename T>
__device__ inline T from_float(float v);
template <>
__device__ inline float from_float<float>(float v) { return v; }
template <>
__device__ inline __nv_bfloat16 from_float<__nv_bfloat16>(float v) { return __float2bfloat16(v); }
template <>
__device__ inline __half from_float<__half>(float v) { return __float2half(v); }

__device__ inline float to_float(float v) { return v; }
__device__ inline float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ inline float to_float(__half v) { return __half2float(v); }

template <typename T>
__global__ void fill_kernel(T* data, std::size_t count, float value) {
    const T v = from_float<T>(value);
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        data[i] = v;
    }
}

// Element i must equal `expected`, or (block > 0) i / block + 1: all-gather's block j is rank j's r+1.
template <typename T>
__global__ void check_kernel(const T* data, std::size_t count, float expected, std::size_t block,
                             unsigned long long* errors) {
    unsigned long long local = 0;
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < count;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const float want = block > 0 ? static_cast<float>(i / block + 1) : expected;
        if (to_float(data[i]) != want) ++local;
    }
    if (local > 0) atomicAdd(errors, local);
}

constexpr unsigned kThreads = 256;
constexpr unsigned kBlocks = 1024;

}  // namespace llmplan::kernels::cuda::nccl_check
