// optim.cu — the optimizer step and mixed-precision bookkeeping: global gradient norm
// (deterministic two-stage sum in double), fused AdamW (bias correction, decoupled weight decay,
// gradient scale and on-device clipping, skip on overflow, low-precision weight copy), the
// inf/NaN check and the dynamic loss-scale update for fp16.
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

template <typename G, typename C>
__global__ void __launch_bounds__(kThreads) adamw_kernel(float* __restrict__ param, const G* __restrict__ grad,
                                                         float* __restrict__ m, float* __restrict__ v, std::size_t n,
                                                         AdamWArgs a, const float* __restrict__ clip_norm,
                                                         const int* __restrict__ skip, C* __restrict__ copy) {
    if (skip && *skip) return;
    float scale = a.grad_scale;
    if (clip_norm) scale *= fminf(1.0f, a.max_grad_norm / (*clip_norm + 1e-6f));
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const float g = to_float(grad[i]) * scale;
        const float mi = a.beta1 * m[i] + (1.0f - a.beta1) * g;
        const float vi = a.beta2 * v[i] + (1.0f - a.beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        const float mhat = mi / a.bc1, vhat = vi / a.bc2;
        const float p = param[i] * a.keep - a.lr * mhat / (sqrtf(vhat) + a.eps);
        param[i] = p;
        if (copy) copy[i] = from_float<C>(p);
    }
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
            adamw_kernel<G, C><<<grid_for(n, kThreads, 65535), kThreads, 0, ctx.stream()>>>(
                param, static_cast<const G*>(grad), m, v, n, a, clip_norm, skip, static_cast<C*>(param_copy));
            LLMPLAN_CHECK_LAUNCH();
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
