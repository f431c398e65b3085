// norms.cu — LayerNorm and RMSNorm over the last dimension: one block per row for the forward and
// the input gradient (statistics in fp32, two-pass variance), deterministic column sums for the
// parameter gradients (colreduce.cuh).
#include "kernels/cuda/colreduce.cuh"

namespace llmplan::kernels::cuda {

namespace {

constexpr int kNormThreads = 256;

template <typename T>
__global__ void __launch_bounds__(kNormThreads) layernorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                     const T* __restrict__ beta, T* __restrict__ y,
                                                                     float* __restrict__ mean, float* __restrict__ rstd,
                                                                     int h, float eps) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    float s = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) s += to_float(xr[i]);
    const float m = block_sum(s, sh) / static_cast<float>(h);
    float v = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float d = to_float(xr[i]) - m;
        v += d * d;
    }
    const float r = rsqrtf(block_sum(v, sh) / static_cast<float>(h) + eps);
    T* yr = y + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float b = beta ? to_float(beta[i]) : 0.0f;
        yr[i] = from_float<T>((to_float(xr[i]) - m) * r * to_float(gamma[i]) + b);
    }
    if (threadIdx.x == 0) {
        if (mean) mean[row] = m;
        if (rstd) rstd[row] = r;
    }
}

template <typename T>
__global__ void __launch_bounds__(kNormThreads) layernorm_bwd_dx_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                        const float* __restrict__ mean,
                                                                        const float* __restrict__ rstd,
                                                                        const T* __restrict__ dy, T* __restrict__ dx, int h) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    const T* dyr = dy + row * h;
    const float m = mean[row], r = rstd[row];
    float s1 = 0.0f, s2 = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float g = to_float(dyr[i]) * to_float(gamma[i]);
        s1 += g;
        s2 += g * (to_float(xr[i]) - m) * r;
    }
    const float mean_g = block_sum(s1, sh) / static_cast<float>(h);
    const float mean_gx = block_sum(s2, sh) / static_cast<float>(h);
    T* dxr = dx + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float g = to_float(dyr[i]) * to_float(gamma[i]);
        const float xh = (to_float(xr[i]) - m) * r;
        dxr[i] = from_float<T>(r * (g - mean_g - xh * mean_gx));
    }
}

template <typename T>
struct LayerNormParamGrad {  // acc[0] += dy·x̂ (dgamma), acc[1] += dy (dbeta)
    const T* x;
    const T* dy;
    const float* mean;
    const float* rstd;
    int h;
    __device__ void operator()(int t, int j, float (&acc)[2]) const {
        const std::size_t i = static_cast<std::size_t>(t) * h + j;
        const float g = to_float(dy[i]);
        acc[0] += g * (to_float(x[i]) - mean[t]) * rstd[t];
        acc[1] += g;
    }
};

template <typename T>
__global__ void __launch_bounds__(kNormThreads) rmsnorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                   T* __restrict__ y, float* __restrict__ rstd, int h,
                                                                   float eps) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    float s = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float v = to_float(xr[i]);
        s += v * v;
    }
    const float r = rsqrtf(block_sum(s, sh) / static_cast<float>(h) + eps);
    T* yr = y + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) yr[i] = from_float<T>(to_float(xr[i]) * r * to_float(gamma[i]));
    if (threadIdx.x == 0 && rstd) rstd[row] = r;
}

template <typename T>
__global__ void __launch_bounds__(kNormThreads) rmsnorm_bwd_dx_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                      const float* __restrict__ rstd,
                                                                      const T* __restrict__ dy, T* __restrict__ dx, int h) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    const T* dyr = dy + row * h;
    const float r = rstd[row];
    float s = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) s += to_float(dyr[i]) * to_float(gamma[i]) * to_float(xr[i]);
    const float mean_s = block_sum(s, sh) / static_cast<float>(h);
    const float r3 = r * r * r;
    T* dxr = dx + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x)
        dxr[i] = from_float<T>(r * to_float(gamma[i]) * to_float(dyr[i]) - to_float(xr[i]) * r3 * mean_s);
}

template <typename T>
struct RmsNormParamGrad {  // acc[0] += dy·x·rstd (dgamma)
    const T* x;
    const T* dy;
    const float* rstd;
    int h;
    __device__ void operator()(int t, int j, float (&acc)[1]) const {
        const std::size_t i = static_cast<std::size_t>(t) * h + j;
        acc[0] += to_float(dy[i]) * to_float(x[i]) * rstd[t];
    }
};

void check_shape(int T, int h, const char* what) {
    if (T <= 0 || h <= 0) throw std::invalid_argument(std::string("llmplan kernels: ") + what + ": T and h must be positive");
}

}  // namespace

void layernorm_forward(Context& ctx, const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
                       int T, int h, float eps, DType dt) {
    check_shape(T, h, "layernorm_forward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        layernorm_fwd_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
            static_cast<const T_*>(x), static_cast<const T_*>(gamma), static_cast<const T_*>(beta), static_cast<T_*>(y),
            mean, rstd, h, eps);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void layernorm_backward(Context& ctx, const void* x, const void* gamma, const float* mean, const float* rstd, const void* dy,
                        void* dx, void* dgamma, void* dbeta, int T, int h, DType dt, DType grad_dt) {
    check_shape(T, h, "layernorm_backward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        if (dx) {
            layernorm_bwd_dx_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
                static_cast<const T_*>(x), static_cast<const T_*>(gamma), mean, rstd, static_cast<const T_*>(dy),
                static_cast<T_*>(dx), h);
            LLMPLAN_CHECK_LAUNCH();
        }
        if (dgamma || dbeta) {
            dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                using G = decltype(gtag);
                const LayerNormParamGrad<T_> f{static_cast<const T_*>(x), static_cast<const T_*>(dy), mean, rstd, h};
                if (dgamma) {
                    column_reduce<2, G>(ctx, f, static_cast<G*>(dgamma), static_cast<G*>(dbeta), T, h);
                } else {
                    column_reduce<1, G>(ctx, ColumnValue<T_>{static_cast<const T_*>(dy), h}, static_cast<G*>(dbeta), nullptr, T,
                                        h);
                }
            });
        }
    });
}

void rmsnorm_forward(Context& ctx, const void* x, const void* gamma, void* y, float* rstd, int T, int h, float eps,
                     DType dt) {
    check_shape(T, h, "rmsnorm_forward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        rmsnorm_fwd_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
            static_cast<const T_*>(x), static_cast<const T_*>(gamma), static_cast<T_*>(y), rstd, h, eps);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void rmsnorm_backward(Context& ctx, const void* x, const void* gamma, const float* rstd, const void* dy, void* dx,
                      void* dgamma, int T, int h, DType dt, DType grad_dt) {
    check_shape(T, h, "rmsnorm_backward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        if (dx) {
            rmsnorm_bwd_dx_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
                static_cast<const T_*>(x), static_cast<const T_*>(gamma), rstd, static_cast<const T_*>(dy),
                static_cast<T_*>(dx), h);
            LLMPLAN_CHECK_LAUNCH();
        }
        if (dgamma) {
            dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                using G = decltype(gtag);
                column_reduce<1, G>(ctx, RmsNormParamGrad<T_>{static_cast<const T_*>(x), static_cast<const T_*>(dy), rstd, h},
                                    static_cast<G*>(dgamma), nullptr, T, h);
            });
        }
    });
}

}  // namespace llmplan::kernels::cuda
