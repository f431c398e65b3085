// optim.cu — the optimizer step and mixed-precision bookkeeping: global gradient norm
// (deterministic two-stage sum in double), fused AdamW (bias correction, decoupled weight decay,
// gradient scale and on-device clipping, skip on overflow, low-precision weight copy), the
// inf/NaN check and the dynamic loss-scale update for fp16.
//
// AdamW on tensors of at least kAdamVecMin elements streams 8 elements per thread and step as
// 16-byte accesses (2 × float4 of param, m and v; one 16-byte word of a bf16/fp16 gradient or copy,
// two of fp32) over a persistent grid (one wave of resident blocks, grid-stride loop); the elements
// before the first index at which every pointer is 16-byte aligned and after the last whole group
// of 8 take the same per-element code one at a time (all of them when no such index exists, and in
// smaller tensors, which are launch-bound). The arithmetic per element is the same expression, in
// the same order, as the scalar kernel it replaces: the results are bit for bit the same.
#include "kernels/cuda/common.cuh"

#include <cmath>

namespace llmplan::kernels::cuda {

namespace {

constexpr int kThreads = 256;
constexpr unsigned kMaxNormBlocks = 1024;

template <typename T>
__global__ void __launch_bounds__(kThreads) sumsq_kernel(const T* __restrict__ x, std::size_t n, double* __restrict__ partial) {
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

__global__ void finish_norm_kernel(const double* __restrict__ partial, int count, double divide_by,
                                   float* __restrict__ norm) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
    s = block_sum(s, sh);
    // divide_by 1: x / 1.0 == x exactly, so fp32 and bf16 norms are unchanged.
    if (threadIdx.x == 0) *norm = static_cast<float>(sqrt(s) / divide_by);
}

struct AdamWArgs {
    float lr, beta1, beta2, eps, keep, bc1, bc2, grad_scale, max_grad_norm;
};

constexpr int kAdamVec = 8;  // elements a thread updates per step of the vector loop

// One element of the AdamW step (PyTorch's torch.optim.AdamW, single-tensor path: decoupled decay
// p·(1 − lr·λ), then the bias-corrected moments' step).
__device__ __forceinline__ void adamw_element(float& p, float& m, float& v, float g_raw, float scale, const AdamWArgs& a) {
    const float g = g_raw * scale;
    const float mi = a.beta1 * m + (1.0f - a.beta1) * g;
    const float vi = a.beta2 * v + (1.0f - a.beta2) * g * g;
    m = mi;
    v = vi;
    const float mhat = mi / a.bc1, vhat = vi / a.bc2;
    p = p * a.keep - a.lr * mhat / (sqrtf(vhat) + a.eps);
}

// Groups k < nvec cover elements [head + 8k, head + 8k + 8); the rest (head and tail) one by one.
template <typename G, typename C>
__global__ void __launch_bounds__(kThreads) adamw_kernel(float* __restrict__ param, const G* __restrict__ grad,
                                                         float* __restrict__ m, float* __restrict__ v, std::size_t n,
                                                         std::size_t head, std::size_t nvec, AdamWArgs a,
                                                         const float* __restrict__ clip_norm, const int* __restrict__ skip,
                                                         C* __restrict__ copy) {
    if (skip && *skip) return;
    float scale = a.grad_scale;
    if (clip_norm) scale *= fminf(1.0f, a.max_grad_norm / (*clip_norm + 1e-6f));
    const std::size_t tid = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    for (std::size_t k = tid; k < nvec; k += stride) {
        const std::size_t i = head + k * kAdamVec;
        float p[kAdamVec], mm[kAdamVec], vv[kAdamVec], g[kAdamVec];
        load_vec(param + i, p);
        load_vec(m + i, mm);
        load_vec(v + i, vv);
        load_vec(grad + i, g);
#pragma unroll
        for (int e = 0; e < kAdamVec; ++e) adamw_element(p[e], mm[e], vv[e], g[e], scale, a);
        store_vec(m + i, mm);
        store_vec(v + i, vv);
        store_vec(param + i, p);
        if (copy) store_vec(copy + i, p);
    }
    const std::size_t rest = n - nvec * kAdamVec;
    for (std::size_t r = tid; r < rest; r += stride) {
        const std::size_t i = r < head ? r : r + nvec * kAdamVec;
        float p = param[i], mi = m[i], vi = v[i];
        adamw_element(p, mi, vi, to_float(grad[i]), scale, a);
        m[i] = mi;
        v[i] = vi;
        param[i] = p;
        if (copy) copy[i] = from_float<C>(p);
    }
}

// Below this many elements a tensor takes one element per thread (vectors = false): a thread's 8
// elements, each with three IEEE divisions and a square root, are a longer serial chain than a
// short kernel hides (bench/elem_bench on an H100, 2026-11-25, two runs: 768 to 786,432 elements
// ran 0.3 to 1.6 us faster one by one; 2,359,296 ran 2 to 8% and 38.6M 10% faster as vectors).
constexpr std::size_t kAdamVecMin = std::size_t{1} << 20;

template <typename G, typename C>
void launch_adamw(Context& ctx, float* param, const G* g, float* m, float* v, std::size_t n, const AdamWArgs& a,
                  const float* clip_norm, const int* skip, C* copy, bool vectors) {
    // The first index at which every pointer is 16-byte aligned (none, or vectors off: all one by one).
    std::size_t head = 0, nvec = 0;
    for (std::size_t h = 0; vectors && h < static_cast<std::size_t>(kAdamVec) && h < n; ++h) {
        if (is_aligned16(param + h) && is_aligned16(m + h) && is_aligned16(v + h) && is_aligned16(g + h) &&
            (!copy || is_aligned16(copy + h))) {
            head = h;
            nvec = (n - h) / kAdamVec;
            break;
        }
    }
    const std::size_t rest = n - nvec * kAdamVec;
    const std::size_t want = std::max((nvec + kThreads - 1) / kThreads, (rest + kThreads - 1) / kThreads);
    const unsigned grid = persistent_grid<adamw_kernel<G, C>>(want, kThreads);
    adamw_kernel<G, C><<<grid, kThreads, 0, ctx.stream()>>>(param, g, m, v, n, head, nvec, a, clip_norm, skip, copy);
    LLMPLAN_CHECK_LAUNCH();
}

template <typename T>
__global__ void nonfinite_kernel(const T* __restrict__ x, std::size_t n, int* __restrict__ flag) {
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        if (!isfinite(to_float(x[i]))) *flag = 1;  // every writer stores the same value
}

__global__ void loss_scale_kernel(float* scale, int* good_steps, const int* found, float growth, float backoff,
                                  int interval) {
    if (*found) {
        *scale *= backoff;
        *good_steps = 0;
    } else if (++*good_steps >= interval) {
        *scale *= growth;
        *good_steps = 0;
    }
}

}  // namespace

void global_norm(Context& ctx, const std::vector<BufferRef>& buffers, float* norm, double divide_by) {
    require(divide_by > 0 && std::isfinite(divide_by), "global_norm: divide_by must be positive and finite");
    std::vector<unsigned> blocks;
    std::size_t total = 0;
    for (const BufferRef& buf : buffers) {
        blocks.push_back(buf.n == 0 ? 0u : grid_for(buf.n, kThreads, kMaxNormBlocks));
        total += blocks.back();
    }
    double* partial = static_cast<double*>(ctx.scratch(sizeof(double) * std::max<std::size_t>(total, 1)));
    std::size_t offset = 0;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
        if (blocks[i] == 0) continue;
        dispatch(buffers[i].dt, [&](auto tag) {
            using T = decltype(tag);
            sumsq_kernel<T><<<blocks[i], kThreads, 0, ctx.stream()>>>(static_cast<const T*>(buffers[i].data), buffers[i].n,
                                                                      partial + offset);
            LLMPLAN_CHECK_LAUNCH();
        });
        offset += blocks[i];
    }
    finish_norm_kernel<<<1, 1024, 0, ctx.stream()>>>(partial, static_cast<int>(total), divide_by, norm);
    LLMPLAN_CHECK_LAUNCH();
}

void adamw_update(Context& ctx, float* param, const void* grad, DType grad_dt, float* m, float* v, std::size_t n,
                  const AdamWHyper& hyper, int step, float grad_scale, const float* clip_norm, float max_grad_norm,
                  bool decay, const int* skip, void* param_copy, DType copy_dt) {
    require(step >= 1, "adamw_update: step counts from 1");
    if (n == 0) return;
    AdamWArgs a{};
    a.lr = hyper.lr;
    a.beta1 = hyper.beta1;
    a.beta2 = hyper.beta2;
    a.eps = hyper.eps;
    a.keep = decay ? static_cast<float>(1.0 - static_cast<double>(hyper.lr) * hyper.weight_decay) : 1.0f;
    a.bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(hyper.beta1), step));
    a.bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(hyper.beta2), step));
    a.grad_scale = grad_scale;
    a.max_grad_norm = max_grad_norm;
    dispatch(grad_dt, [&](auto gtag) {
        using G = decltype(gtag);
        dispatch(param_copy ? copy_dt : DType::fp32, [&](auto ctag) {
            using C = decltype(ctag);
            launch_adamw(ctx, param, static_cast<const G*>(grad), m, v, n, a, clip_norm, skip, static_cast<C*>(param_copy),
                         n >= kAdamVecMin);
        });
    });
}

void check_nonfinite(Context& ctx, const void* x, std::size_t n, DType dt, int* flag) {
    if (n == 0) return;
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        nonfinite_kernel<T><<<grid_for(n, kThreads, 65535), kThreads, 0, ctx.stream()>>>(static_cast<const T*>(x), n, flag);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void update_loss_scale(Context& ctx, float* scale, int* good_steps, const int* found_nonfinite, float growth, float backoff,
                       int interval) {
    loss_scale_kernel<<<1, 1, 0, ctx.stream()>>>(scale, good_steps, found_nonfinite, growth, backoff, interval);
    LLMPLAN_CHECK_LAUNCH();
}

}  // namespace llmplan::kernels::cuda
