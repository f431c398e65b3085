// loss.cu — softmax cross-entropy fused with its gradient, in place on the logits: one block per
// row finds the row's max and log-sum-exp in one online pass, then (backward) overwrites the row
// with grad_scale · (softmax − onehot) / count (grad_scale: fp16's loss scale, 1 otherwise).
// Per-row losses go to scratch and are summed by one block in a fixed order (deterministic).
#include "kernels/cuda/common.cuh"

#include <cmath>

namespace llmplan::kernels::cuda {

namespace {

constexpr int kCeThreads = 512;

__global__ void count_targets_kernel(const int* __restrict__ targets, int T, int* __restrict__ count) {
    __shared__ int sh[32];
    int c = 0;
    for (int t = threadIdx.x; t < T; t += blockDim.x) c += targets[t] >= 0 ? 1 : 0;
    c = block_sum(c, sh);
    if (threadIdx.x == 0) *count = c;
}

template <typename T>
__global__ void __launch_bounds__(kCeThreads) cross_entropy_kernel(T* logits, const int* __restrict__ targets,
                                                                   const int* __restrict__ count,
                                                                   float* __restrict__ row_loss, int V, int ld,
                                                                   bool backward, float grad_scale) {
    __shared__ float sh[32];
    __shared__ float target_logit;
    const std::size_t row = blockIdx.x;
    T* r = logits + row * static_cast<std::size_t>(ld);
    const int y = targets[row];
    if (y < 0) {  // ignored row: no loss, zero gradient
        if (threadIdx.x == 0) row_loss[row] = 0.0f;
        if (backward)
            for (int j = threadIdx.x; j < V; j += blockDim.x) r[j] = from_float<T>(0.0f);
        return;
    }
    // Online max and sum of exp per thread, then combined across the block.
    float mx = -INFINITY, s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const float x = to_float(r[j]);
        if (x > mx) {
            s = s * expf(mx - x) + 1.0f;
            mx = x;
        } else {
            s += expf(x - mx);
        }
    }
    if (threadIdx.x == 0) target_logit = to_float(r[y]);
    const float bmx = block_max(mx, sh);
    const float total = block_sum(mx == -INFINITY ? 0.0f : s * expf(mx - bmx), sh);
    const float lse = bmx + logf(total);
    // block_sum's barriers also make target_logit visible and order its read before the writes.
    if (threadIdx.x == 0) row_loss[row] = lse - target_logit;
    if (!backward) return;
    // grad_scale 1: 1.0f / count as before, so fp32 and bf16 gradients are unchanged bit for bit.
    const float inv = grad_scale / static_cast<float>(*count);
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        const float p = expf(to_float(r[j]) - lse);
        r[j] = from_float<T>((p - (j == y ? 1.0f : 0.0f)) * inv);
    }
}

__global__ void mean_loss_kernel(const float* __restrict__ row_loss, const int* __restrict__ count, int T,
                                 float* __restrict__ loss) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int t = threadIdx.x; t < T; t += blockDim.x) s += row_loss[t];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) *loss = *count > 0 ? static_cast<float>(s / *count) : 0.0f;
}

}  // namespace

void cross_entropy(Context& ctx, void* logits, const int* targets, float* loss, int T, int V, DType dt, bool backward,
                   float grad_scale, int ld) {
    if (ld == 0) ld = V;
    require(T > 0 && V > 0, "cross_entropy: T and V must be positive");
    require(ld >= V, "cross_entropy: the row stride must be at least V");
    require(grad_scale > 0 && std::isfinite(grad_scale), "cross_entropy: grad_scale must be positive and finite");
    char* scratch = static_cast<char*>(ctx.scratch(256 + sizeof(float) * static_cast<std::size_t>(T)));
    int* count = reinterpret_cast<int*>(scratch);
    float* row_loss = reinterpret_cast<float*>(scratch + 256);
    count_targets_kernel<<<1, 1024, 0, ctx.stream()>>>(targets, T, count);
    LLMPLAN_CHECK_LAUNCH();
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        cross_entropy_kernel<T_><<<static_cast<unsigned>(T), kCeThreads, 0, ctx.stream()>>>(static_cast<T_*>(logits), targets,
                                                                                           count, row_loss, V, ld, backward,
                                                                                           grad_scale);
        LLMPLAN_CHECK_LAUNCH();
    });
    mean_loss_kernel<<<1, 1024, 0, ctx.stream()>>>(row_loss, count, T, loss);
    LLMPLAN_CHECK_LAUNCH();
}

}  // namespace llmplan::kernels::cuda
