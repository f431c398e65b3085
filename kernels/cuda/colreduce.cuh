// colreduce.cuh — deterministic column sums over tokens for parameter gradients (db, dgamma,
// dbeta): Σ_t f(t, j) for each column j of a [T, h] tensor, added (+=) into one or two gradient
// vectors. Two stages: blocks of 32 columns × a chunk of rows write partial sums to scratch, then
// one thread per column adds the chunks in a fixed order (no atomics: the same result every run).
#pragma once

#include "kernels/cuda/common.cuh"

namespace llmplan::kernels::cuda {

namespace detail {

constexpr int kColTile = 32, kColRows = 8;

template <int NOUT, typename F>
__global__ void colreduce_partial_kernel(F f, float* __restrict__ partial, int T, int h, int rows_per_chunk) {
    __shared__ float s[NOUT][kColRows][kColTile + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int j = blockIdx.x * kColTile + tx;
    const int t0 = blockIdx.y * rows_per_chunk, t1 = min(T, t0 + rows_per_chunk);
    float acc[NOUT];
#pragma unroll
    for (int o = 0; o < NOUT; ++o) acc[o] = 0.0f;
    if (j < h)
        for (int t = t0 + ty; t < t1; t += kColRows) f(t, j, acc);
#pragma unroll
    for (int o = 0; o < NOUT; ++o) s[o][ty][tx] = acc[o];
    __syncthreads();
    if (ty == 0 && j < h) {
#pragma unroll
        for (int o = 0; o < NOUT; ++o) {
            float sum = 0.0f;
#pragma unroll
            for (int r = 0; r < kColRows; ++r) sum += s[o][r][tx];
            partial[(static_cast<std::size_t>(o) * gridDim.y + blockIdx.y) * h + j] = sum;
        }
    }
}

template <typename G>
__global__ void colreduce_finish_kernel(const float* __restrict__ partial, G* __restrict__ dst0, G* __restrict__ dst1,
                                        int chunks, int h) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= h) return;
    G* dsts[2] = {dst0, dst1};
    for (int o = 0; o < 2; ++o) {
        if (!dsts[o]) continue;
        float sum = 0.0f;
        for (int c = 0; c < chunks; ++c) sum += partial[(static_cast<std::size_t>(o) * chunks + c) * h + j];
        dsts[o][j] = from_float<G>(to_float(dsts[o][j]) + sum);
    }
}

}  // namespace detail

// f for a plain column sum of a [T, h] tensor: acc[0] += v[t, j].
template <typename T>
struct ColumnValue {
    const T* v;
    int h;
    __device__ void operator()(int t, int j, float (&acc)[1]) const {
        acc[0] += to_float(v[static_cast<std::size_t>(t) * h + j]);
    }
};

// dst0[j] += Σ_t f0, dst1[j] += Σ_t f1 (dst1 may be null; NOUT = 1 or 2 values from f).
// f(t, j, float (&acc)[NOUT]) adds its values into acc.
template <int NOUT, typename G, typename F>
void column_reduce(Context& ctx, F f, G* dst0, G* dst1, int T, int h) {
    if (T <= 0 || h <= 0) return;
    const int max_chunks = 256;
    int rows_per_chunk = std::max(64, (T + max_chunks - 1) / max_chunks);
    rows_per_chunk = (rows_per_chunk + detail::kColRows - 1) / detail::kColRows * detail::kColRows;
    const int chunks = (T + rows_per_chunk - 1) / rows_per_chunk;
    float* partial = static_cast<float*>(ctx.scratch(sizeof(float) * 2 * static_cast<std::size_t>(chunks) * h));
    const dim3 grid(static_cast<unsigned>((h + detail::kColTile - 1) / detail::kColTile), static_cast<unsigned>(chunks));
    const dim3 block(detail::kColTile, detail::kColRows);
    detail::colreduce_partial_kernel<NOUT><<<grid, block, 0, ctx.stream()>>>(f, partial, T, h, rows_per_chunk);
    LLMPLAN_CHECK_LAUNCH();
    if (NOUT == 1) dst1 = nullptr;
    detail::colreduce_finish_kernel<G><<<static_cast<unsigned>((h + 255) / 256), 256, 0, ctx.stream()>>>(
        partial, dst0, dst1, chunks, h);
    LLMPLAN_CHECK_LAUNCH();
}

}  // namespace llmplan::kernels::cuda
