// elementwise.cu — GELU (tanh), SwiGLU, rotary embeddings, residual add and the embedding
// lookup and its scatter-add backward: grid-stride loops, fp32 arithmetic.
#include "kernels/cuda/common.cuh"

namespace llmplan::kernels::cuda {

namespace {

constexpr int kThreads = 256;
constexpr float kGeluC = 0.7978845608028654f;  // √(2/π)
constexpr float kGeluA = 0.044715f;

#define LLMPLAN_GRID_STRIDE(i, n)                                                                  \
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < (n); \
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)

template <typename T>
__global__ void gelu_fwd_kernel(const T* x, T* y, std::size_t n) {
    LLMPLAN_GRID_STRIDE(i, n) {
        const float v = to_float(x[i]);
        y[i] = from_float<T>(0.5f * v * (1.0f + tanhf(kGeluC * (v + kGeluA * v * v * v))));
    }
}

template <typename T>
__global__ void gelu_bwd_kernel(const T* x, const T* dy, T* dx, std::size_t n) {
    LLMPLAN_GRID_STRIDE(i, n) {
        const float v = to_float(x[i]);
        const float th = tanhf(kGeluC * (v + kGeluA * v * v * v));
        const float du = kGeluC * (1.0f + 3.0f * kGeluA * v * v);
        const float g = 0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du;
        dx[i] = from_float<T>(g * to_float(dy[i]));
    }
}

__device__ __forceinline__ float sigmoid(float g) { return 1.0f / (1.0f + expf(-g)); }

template <typename T>
__global__ void swiglu_fwd_kernel(const T* gate, const T* up, T* y, std::size_t n) {
    LLMPLAN_GRID_STRIDE(i, n) {
        const float g = to_float(gate[i]);
        y[i] = from_float<T>(g * sigmoid(g) * to_float(up[i]));
    }
}

template <typename T>
__global__ void swiglu_bwd_kernel(const T* gate, const T* up, const T* dy, T* dgate, T* dup, std::size_t n) {
    LLMPLAN_GRID_STRIDE(i, n) {
        const float g = to_float(gate[i]), u = to_float(up[i]), d = to_float(dy[i]);
        const float s = sigmoid(g);
        // Both outputs may alias inputs: everything is read above before the writes.
        if (dgate) dgate[i] = from_float<T>(d * u * s * (1.0f + g * (1.0f - s)));
        if (dup) dup[i] = from_float<T>(d * g * s);
    }
}

// One thread per (b, s, h, i < d/2) pair; sign −1 rotates back (the backward).
template <typename T>
__global__ void rotary_kernel(T* x, int S, int heads, int d, double log_base, double sign, std::size_t pairs) {
    const int half = d / 2;
    LLMPLAN_GRID_STRIDE(p, pairs) {
        const int i = static_cast<int>(p % half);
        const std::size_t row = p / half;  // (b·S + s)·heads + h
        const int s = static_cast<int>((row / heads) % S);
        // θ_i = base^(−2i/d); the angle in double, as the reference, then its sine and cosine.
        const double angle = s * exp(-2.0 * i / d * log_base);
        double sn, cs;
        sincos(angle, &sn, &cs);
        const float c = static_cast<float>(cs), sg = static_cast<float>(sign * sn);
        T* r = x + row * d;
        const float x0 = to_float(r[i]), x1 = to_float(r[i + half]);
        r[i] = from_float<T>(x0 * c - x1 * sg);
        r[i + half] = from_float<T>(x1 * c + x0 * sg);
    }
}

template <typename T>
__global__ void add_kernel(const T* a, const T* b, T* y, std::size_t n) {
    LLMPLAN_GRID_STRIDE(i, n) y[i] = from_float<T>(to_float(a[i]) + to_float(b[i]));
}

template <typename T>
__global__ void embedding_fwd_kernel(const T* table, const int* ids, T* y, int h, std::size_t n) {
    LLMPLAN_GRID_STRIDE(e, n) {
        const std::size_t t = e / h, j = e % h;
        y[e] = table[static_cast<std::size_t>(ids[t]) * h + j];
    }
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(bf16* p, float v) { atomicAdd(p, __float2bfloat16_rn(v)); }
__device__ __forceinline__ void atomic_add(fp16* p, float v) { atomicAdd(p, __float2half_rn(v)); }

template <typename T, typename G>
__global__ void embedding_bwd_kernel(const int* ids, const T* dy, G* dtable, int h, std::size_t n) {
    LLMPLAN_GRID_STRIDE(e, n) {
        const std::size_t t = e / h, j = e % h;
        atomic_add(dtable + static_cast<std::size_t>(ids[t]) * h + j, to_float(dy[e]));
    }
}

#undef LLMPLAN_GRID_STRIDE

}  // namespace

void gelu_forward(Context& ctx, const void* x, void* y, std::size_t n, DType dt) {
    if (n == 0) return;
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        gelu_fwd_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(static_cast<const T*>(x),
                                                                                 static_cast<T*>(y), n);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void gelu_backward(Context& ctx, const void* x, const void* dy, void* dx, std::size_t n, DType dt) {
    if (n == 0) return;
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        gelu_bwd_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(
            static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<T*>(dx), n);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void swiglu_forward(Context& ctx, const void* gate, const void* up, void* y, std::size_t n, DType dt) {
    if (n == 0) return;
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        swiglu_fwd_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(
            static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<T*>(y), n);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void swiglu_backward(Context& ctx, const void* gate, const void* up, const void* dy, void* dgate, void* dup, std::size_t n,
                     DType dt) {
    if (n == 0) return;
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        swiglu_bwd_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(
            static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<const T*>(dy), static_cast<T*>(dgate),
            static_cast<T*>(dup), n);
        LLMPLAN_CHECK_LAUNCH();
    });
}

namespace {
void rotary(Context& ctx, void* x, int B, int S, int heads, int d, float base, DType dt, double sign) {
    require(B > 0 && S > 0 && heads > 0 && d > 0 && d % 2 == 0, "rotary: B, S, heads must be positive and d even");
    require(base > 0.0f, "rotary: base must be positive");
    const std::size_t pairs = static_cast<std::size_t>(B) * S * heads * (d / 2);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        rotary_kernel<T><<<grid_for(pairs, kThreads), kThreads, 0, ctx.stream()>>>(
            static_cast<T*>(x), S, heads, d, std::log(static_cast<double>(base)), sign, pairs);
        LLMPLAN_CHECK_LAUNCH();
    });
}
}  // namespace

void rotary_forward(Context& ctx, void* x, int B, int S, int heads, int d, float base, DType dt) {
    rotary(ctx, x, B, S, heads, d, base, dt, 1.0);
}

void rotary_backward(Context& ctx, void* dx, int B, int S, int heads, int d, float base, DType dt) {
    rotary(ctx, dx, B, S, heads, d, base, dt, -1.0);
}

void residual_add(Context& ctx, const void* a, const void* b, void* y, std::size_t n, DType dt) {
    if (n == 0) return;
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        add_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(static_cast<const T*>(a),
                                                                            static_cast<const T*>(b), static_cast<T*>(y), n);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void embedding_forward(Context& ctx, const void* table, const int* ids, void* y, int T, int h, DType dt) {
    require(T > 0 && h > 0, "embedding_forward: T and h must be positive");
    const std::size_t n = static_cast<std::size_t>(T) * h;
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        embedding_fwd_kernel<T_><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(
            static_cast<const T_*>(table), ids, static_cast<T_*>(y), h, n);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void embedding_backward(Context& ctx, const int* ids, const void* dy, void* dtable, int T, int h, DType dt, DType grad_dt) {
    require(T > 0 && h > 0, "embedding_backward: T and h must be positive");
    const std::size_t n = static_cast<std::size_t>(T) * h;
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
            using G = decltype(gtag);
            embedding_bwd_kernel<T_, G><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(
                ids, static_cast<const T_*>(dy), static_cast<G*>(dtable), h, n);
            LLMPLAN_CHECK_LAUNCH();
        });
    });
}

}  // namespace llmplan::kernels::cuda
