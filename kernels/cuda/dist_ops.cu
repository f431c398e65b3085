// dist_ops.cu — see dist_ops.cuh.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dist_ops.cuh"

#include <cmath>

namespace llmplan::kernels::cuda {

namespace {

constexpr int kThreads = 256;
constexpr unsigned kMaxBlocks = 1024;

template <typename T>
__global__ void __launch_bounds__(kThreads) partial_sumsq_kernel(const T* __restrict__ x, std::size_t n,
                                                                  double* __restrict__ partial) {
    __shared__ double sh[32];
    double s = 0.0;
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const double v = to_float(x[i]);
        s += v * v;
    }
    s = block_sum(s, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

__global__ void finish_sumsq_kernel(const double* __restrict__ partial, int count, double* __restrict__ out) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) *out = s;
}

__global__ void flag_kernel(const int* __restrict__ flag, float* __restrict__ record) {
    record[2] = flag && *flag ? 1.0f : 0.0f;
    record[3] = 0.0f;
}

__global__ void exchange_finish_kernel(const float* __restrict__ records, int world, double divide_by,
                                       float* __restrict__ norm, int* __restrict__ overflow) {
    double s = 0.0;
    int any = 0;
    for (int r = 0; r < world; ++r) {  // rank order: the same sum on every rank
        s += *reinterpret_cast<const double*>(records + static_cast<std::size_t>(r) * kExchangeFloats);
        if (records[static_cast<std::size_t>(r) * kExchangeFloats + 2] != 0.0f) any = 1;
    }
    if (norm) *norm = static_cast<float>(sqrt(s) / divide_by);
    if (overflow) *overflow = any;
}

}  // namespace

void exchange_sum_squares(Context& ctx, const std::vector<BufferRef>& buffers, float* record) {
    std::vector<unsigned> blocks;
    std::size_t total = 0;
    for (const BufferRef& b : buffers) {
        blocks.push_back(b.n == 0 ? 0u : grid_for(b.n, kThreads, kMaxBlocks));
        total += blocks.back();
    }
    double* partial = static_cast<double*>(ctx.scratch(sizeof(double) * std::max<std::size_t>(total, 1)));
    if (total == 0) LLMPLAN_CUDA_CHECK(cudaMemsetAsync(partial, 0, sizeof(double), ctx.stream()));
    std::size_t offset = 0;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
        if (blocks[i] == 0) continue;
        dispatch(buffers[i].dt, [&](auto tag) {
            using T = decltype(tag);
            partial_sumsq_kernel<T><<<blocks[i], kThreads, 0, ctx.stream()>>>(static_cast<const T*>(buffers[i].data),
                                                                              buffers[i].n, partial + offset);
            LLMPLAN_CHECK_LAUNCH();
        });
        offset += blocks[i];
    }
    finish_sumsq_kernel<<<1, 1024, 0, ctx.stream()>>>(partial, static_cast<int>(std::max<std::size_t>(total, 1)),
                                                      reinterpret_cast<double*>(record));
    LLMPLAN_CHECK_LAUNCH();
}

void exchange_flag(Context& ctx, const int* flag, float* record) {
    flag_kernel<<<1, 1, 0, ctx.stream()>>>(flag, record);
    LLMPLAN_CHECK_LAUNCH();
}

void exchange_finish(Context& ctx, const float* records, int world, double divide_by, float* norm, int* overflow) {
    require(divide_by > 0 && std::isfinite(divide_by), "exchange_finish: divide_by must be positive and finite");
    exchange_finish_kernel<<<1, 1, 0, ctx.stream()>>>(records, world, divide_by, norm, overflow);
    LLMPLAN_CHECK_LAUNCH();
}

}  // namespace llmplan::kernels::cuda
