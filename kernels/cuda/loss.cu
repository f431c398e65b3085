// loss.cu — softmax cross-entropy fused with its gradient, in place on the logits: one block per
// row finds the row's max and log-sum-exp in one online pass, then (backward) overwrites the row
// with grad_scale · (softmax − onehot) / count (grad_scale: fp16's loss scale, 1 otherwise).
// Per-row losses go to scratch and are summed by one block in a fixed order (deterministic).
#include "kernels/cuda/common.cuh"

#include <cmath>
#include <cstdint>

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

// One value into a thread's online (max, Σ exp) pair.
__device__ __forceinline__ void online_add(float x, float& mx, float& s) {
    if (x > mx) {
        s = s * expf(mx - x) + 1.0f;
        mx = x;
    } else {
        s += expf(x - mx);
    }
}

// vec: the row start is 16-byte aligned (ld·sizeof(T) and the pointer are), so whole 16-byte
// packs of N = 16 / sizeof(T) values are read and written with one access each (version 1 of
// bench/NOTES.md: the kernel ran at 2.2× its byte floor with 2-byte accesses); the last V mod N
// values of a row go one by one.
template <typename T>
__global__ void __launch_bounds__(kCeThreads) cross_entropy_kernel(T* logits, const int* __restrict__ targets,
                                                                   const int* __restrict__ count,
                                                                   float* __restrict__ row_loss, int V, int ld,
                                                                   bool backward, float grad_scale, bool vec) {
    constexpr int N = 16 / sizeof(T);
    __shared__ float sh[32];
    __shared__ float target_logit;
    const std::size_t row = blockIdx.x;
    T* r = logits + row * static_cast<std::size_t>(ld);
    const int y = targets[row];
    const int packs = vec ? V / N : 0;  // values [0, packs·N) by packs, the rest one by one
    uint4* rv = reinterpret_cast<uint4*>(r);
    if (y < 0) {  // ignored row: no loss, zero gradient
        if (threadIdx.x == 0) row_loss[row] = 0.0f;
        if (backward) {
            for (int c = threadIdx.x; c < packs; c += blockDim.x) rv[c] = make_uint4(0, 0, 0, 0);
            for (int j = packs * N + static_cast<int>(threadIdx.x); j < V; j += blockDim.x) r[j] = from_float<T>(0.0f);
        }
        return;
    }
    // Online max and sum of exp per thread, then combined across the block.
    float mx = -INFINITY, s = 0.0f;
    for (int c = threadIdx.x; c < packs; c += blockDim.x) {
        const uint4 u = rv[c];
        const T* e = reinterpret_cast<const T*>(&u);
#pragma unroll
        for (int i = 0; i < N; ++i) online_add(to_float(e[i]), mx, s);
    }
    for (int j = packs * N + static_cast<int>(threadIdx.x); j < V; j += blockDim.x) online_add(to_float(r[j]), mx, s);
    if (threadIdx.x == 0) target_logit = to_float(r[y]);
    const float bmx = block_max(mx, sh);
    const float total = block_sum(mx == -INFINITY ? 0.0f : s * expf(mx - bmx), sh);
    const float lse = bmx + logf(total);
    // block_sum's barriers also make target_logit visible and order its read before the writes.
    if (threadIdx.x == 0) row_loss[row] = lse - target_logit;
    if (!backward) return;
    // grad_scale 1: 1.0f / count as before, so fp32 and bf16 gradients are unchanged bit for bit.
    const float inv = grad_scale / static_cast<float>(*count);
    for (int c = threadIdx.x; c < packs; c += blockDim.x) {
        uint4 u = rv[c];
        T* e = reinterpret_cast<T*>(&u);
#pragma unroll
        for (int i = 0; i < N; ++i) {
            const float p = expf(to_float(e[i]) - lse);
            e[i] = from_float<T>((p - (c * N + i == y ? 1.0f : 0.0f)) * inv);
        }
        rv[c] = u;
    }
    for (int j = packs * N + static_cast<int>(threadIdx.x); j < V; j += blockDim.x) {
        const float p = expf(to_float(r[j]) - lse);
        r[j] = from_float<T>((p - (j == y ? 1.0f : 0.0f)) * inv);
    }
}

__global__ void mean_loss_kernel(const float* __restrict__ row_loss, const int* __restrict__ count, int T,
                                 float* __restrict__ loss, bool add) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int t = threadIdx.x; t < T; t += blockDim.x) s += row_loss[t];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) {
        const float mean = *count > 0 ? static_cast<float>(s / *count) : 0.0f;
        *loss = add ? *loss + mean : mean;
    }
}

}  // namespace

void cross_entropy(Context& ctx, void* logits, const int* targets, float* loss, int T, int V, DType dt, bool backward,
                   float grad_scale, int ld, const int* count_targets, int count_T, bool add_loss) {
    if (ld == 0) ld = V;
    if (!count_targets) {
        count_targets = targets;
        count_T = T;
    }
    require(count_T >= T, "cross_entropy: the counted targets must cover the rows");
    require(T > 0 && V > 0, "cross_entropy: T and V must be positive");
    require(ld >= V, "cross_entropy: the row stride must be at least V");
    require(grad_scale > 0 && std::isfinite(grad_scale), "cross_entropy: grad_scale must be positive and finite");
    char* scratch = static_cast<char*>(ctx.scratch(256 + sizeof(float) * static_cast<std::size_t>(T)));
    int* count = reinterpret_cast<int*>(scratch);
    float* row_loss = reinterpret_cast<float*>(scratch + 256);
    count_targets_kernel<<<1, 1024, 0, ctx.stream()>>>(count_targets, count_T, count);
    LLMPLAN_CHECK_LAUNCH();
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        const bool vec = (static_cast<std::size_t>(ld) * sizeof(T_)) % 16 == 0 &&
                         reinterpret_cast<std::uintptr_t>(logits) % 16 == 0;
        cross_entropy_kernel<T_><<<static_cast<unsigned>(T), kCeThreads, 0, ctx.stream()>>>(static_cast<T_*>(logits), targets,
                                                                                           count, row_loss, V, ld, backward,
                                                                                           grad_scale, vec);
        LLMPLAN_CHECK_LAUNCH();
    });
    mean_loss_kernel<<<1, 1024, 0, ctx.stream()>>>(row_loss, count, T, loss, add_loss);
    LLMPLAN_CHECK_LAUNCH();
}

}  // namespace llmplan::kernels::cuda
