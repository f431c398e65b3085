// elementwise.cu — GELU (tanh), SwiGLU, rotary embeddings, residual add and the embedding
// lookup and its scatter-add backward, fp32 arithmetic.
//
// GELU, SwiGLU and the residual add are memory-bound streams: one generic kernel (ew_kernel) moves
// 16-byte vectors (4 fp32 or 8 bf16/fp16 per access, kUnroll vectors per input in flight per
// thread) through a persistent grid (one wave of resident blocks over the SMs, grid-stride loop);
// the elements before the first index at which every pointer is 16-byte aligned (the head) and
// after the last whole vector (the tail) go through the same op one at a time, and so does
// everything when no such index exists. Rotary and the embedding kernels are plain grid-stride
// loops.
#include "kernels/cuda/common.cuh"

namespace llmplan::kernels::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kUnroll = 2;  // 16-byte vectors per input that a thread loads before it computes
constexpr float kGeluC = 0.7978845608028654f;  // √(2/π)
constexpr float kGeluA = 0.044715f;

#define LLMPLAN_GRID_STRIDE(i, n)                                                                  \
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < (n); \
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)

// Pointers of one element-wise op: NIN inputs, NOUT outputs (a null output is not written). An
// output may alias an input: each element is read before it is written, by the same thread.
template <typename T, int NIN, int NOUT>
struct EwPtrs {
    const T* in[NIN];
    T* out[NOUT];
};

// y = op(x) over n elements; op(const float (&)[NIN], float (&)[NOUT]) in fp32. Vectors k < nvec
// cover elements [head + k·V, head + (k + 1)·V), U of them per thread and step; the rest (head and
// tail) one element at a time.
template <typename T, int NIN, int NOUT, typename Op, int U>
__global__ void __launch_bounds__(kThreads) ew_kernel(EwPtrs<T, NIN, NOUT> p, std::size_t n, std::size_t head,
                                                      std::size_t nvec, Op op) {
    constexpr int V = kVec<T>;
    const std::size_t tid = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x;
    const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
    for (std::size_t k0 = tid; k0 < nvec; k0 += U * stride) {
        uint4 raw[U][NIN];
#pragma unroll
        for (int u = 0; u < U; ++u) {  // every load of the step before any use
            const std::size_t k = k0 + u * stride;
#pragma unroll
            for (int j = 0; j < NIN; ++j)
                raw[u][j] = k < nvec ? reinterpret_cast<const uint4*>(p.in[j] + head)[k] : make_uint4(0, 0, 0, 0);
        }
#pragma unroll
        for (int u = 0; u < U; ++u) {
            const std::size_t k = k0 + u * stride;
            if (k >= nvec) break;
            float in[NIN][V], out[NOUT][V];
#pragma unroll
            for (int j = 0; j < NIN; ++j) unpack16(raw[u][j], in[j], T{});
#pragma unroll
            for (int e = 0; e < V; ++e) {
                float a[NIN], r[NOUT];
#pragma unroll
                for (int j = 0; j < NIN; ++j) a[j] = in[j][e];
                op(a, r);
#pragma unroll
                for (int o = 0; o < NOUT; ++o) out[o][e] = r[o];
            }
#pragma unroll
            for (int o = 0; o < NOUT; ++o)
                if (p.out[o]) reinterpret_cast<uint4*>(p.out[o] + head)[k] = pack16(out[o], T{});
        }
    }
    const std::size_t rest = n - nvec * V;  // head + tail elements
    for (std::size_t r = tid; r < rest; r += stride) {
        const std::size_t i = r < head ? r : r + nvec * V;
        float a[NIN], o[NOUT];
#pragma unroll
        for (int j = 0; j < NIN; ++j) a[j] = to_float(p.in[j][i]);
        op(a, o);
#pragma unroll
        for (int k = 0; k < NOUT; ++k)
            if (p.out[k]) p.out[k][i] = from_float<T>(o[k]);
    }
}

template <int U = kUnroll, typename T, int NIN, int NOUT, typename Op>
void launch_ew(Context& ctx, const EwPtrs<T, NIN, NOUT>& p, std::size_t n, Op op) {
    if (n == 0) return;
    constexpr int V = kVec<T>;
    // The first index at which every pointer is 16-byte aligned (none: all scalar).
    std::size_t head = 0, nvec = 0;
    for (std::size_t h = 0; h < static_cast<std::size_t>(V) && h < n; ++h) {
        bool ok = true;
        for (int j = 0; j < NIN; ++j) ok = ok && is_aligned16(p.in[j] + h);
        for (int o = 0; o < NOUT; ++o) ok = ok && (!p.out[o] || is_aligned16(p.out[o] + h));
        if (ok) {
            head = h;
            nvec = (n - h) / V;
            break;
        }
    }
    const std::size_t rest = n - nvec * V;
    const std::size_t per_block = static_cast<std::size_t>(kThreads) * U;
    const std::size_t want = std::max((nvec + per_block - 1) / per_block, (rest + kThreads - 1) / kThreads);
    const unsigned grid = persistent_grid<ew_kernel<T, NIN, NOUT, Op, U>>(want, kThreads);
    ew_kernel<T, NIN, NOUT, Op, U><<<grid, kThreads, 0, ctx.stream()>>>(p, n, head, nvec, op);
    LLMPLAN_CHECK_LAUNCH();
}

// GELU, tanh form (Hendrycks & Gimpel 2016, as GPT-2): gelu(v) = 0.5·v·(1 + tanh(u)), u =
// √(2/π)·(v + 0.044715·v³). Evaluated through 0.5·(1 + tanh(u)) = σ(2u) = 1 / (1 + e), e = e^(−2u)
// (e clamped to e^80 so that 1 + e stays finite and e·σ is defined): one __expf and one fast
// reciprocal instead of tanhf, each within a few ulp, so the fp32 result stays near 1e-6 of the
// double reference.
struct GeluForward {
    __device__ void operator()(const float (&a)[1], float (&r)[1]) const {
        const float v = a[0];
        const float u = kGeluC * (v + kGeluA * v * v * v);
        const float e = __expf(fminf(-2.0f * u, 80.0f));
        r[0] = v * __fdividef(1.0f, 1.0f + e);
    }
};

// d gelu / dv = 0.5·(1 + tanh u) + 0.5·v·(1 − tanh² u)·du/dv, du/dv = √(2/π)·(1 + 3·0.044715·v²);
// with s = σ(2u): 0.5·(1 + tanh u) = s and 1 − tanh² u = 4·s·(1 − s), 1 − s = e·s.
struct GeluBackward {  // a = {x, dy}
    __device__ void operator()(const float (&a)[2], float (&r)[1]) const {
        const float v = a[0];
        const float u = kGeluC * (v + kGeluA * v * v * v);
        const float e = __expf(fminf(-2.0f * u, 80.0f));
        const float s = __fdividef(1.0f, 1.0f + e);
        const float du = kGeluC * (1.0f + 3.0f * kGeluA * v * v);
        const float g = s + 2.0f * v * s * (e * s) * du;
        r[0] = g * a[1];
    }
};

__device__ __forceinline__ float sigmoid(float g) { return 1.0f / (1.0f + expf(-g)); }

// SwiGLU: y = silu(gate)·up, silu(g) = g·σ(g).
struct SwigluForward {  // a = {gate, up}
    __device__ void operator()(const float (&a)[2], float (&r)[1]) const {
        const float g = a[0];
        r[0] = g * sigmoid(g) * a[1];
    }
};

struct SwigluBackward {  // a = {gate, up, dy}; r = {dgate, dup}
    __device__ void operator()(const float (&a)[3], float (&r)[2]) const {
        const float g = a[0], u = a[1], d = a[2];
        const float s = sigmoid(g);
        r[0] = d * u * s * (1.0f + g * (1.0f - s));
        r[1] = d * g * s;
    }
};

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

struct Add {
    __device__ void operator()(const float (&a)[2], float (&r)[1]) const { r[0] = a[0] + a[1]; }
};

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
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        launch_ew(ctx, EwPtrs<T, 1, 1>{{static_cast<const T*>(x)}, {static_cast<T*>(y)}}, n, GeluForward{});
    });
}

void gelu_backward(Context& ctx, const void* x, const void* dy, void* dx, std::size_t n, DType dt) {
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        launch_ew(ctx, EwPtrs<T, 2, 1>{{static_cast<const T*>(x), static_cast<const T*>(dy)}, {static_cast<T*>(dx)}}, n,
                  GeluBackward{});
    });
}

void swiglu_forward(Context& ctx, const void* gate, const void* up, void* y, std::size_t n, DType dt) {
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        launch_ew(ctx, EwPtrs<T, 2, 1>{{static_cast<const T*>(gate), static_cast<const T*>(up)}, {static_cast<T*>(y)}}, n,
                  SwigluForward{});
    });
}

void swiglu_backward(Context& ctx, const void* gate, const void* up, const void* dy, void* dgate, void* dup, std::size_t n,
                     DType dt) {
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        // Both outputs may alias inputs: each element's inputs are read before its outputs are written.
        launch_ew(ctx,
                  EwPtrs<T, 3, 2>{{static_cast<const T*>(gate), static_cast<const T*>(up), static_cast<const T*>(dy)},
                                  {static_cast<T*>(dgate), static_cast<T*>(dup)}},
                  n, SwigluBackward{});
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
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        launch_ew(ctx, EwPtrs<T, 2, 1>{{static_cast<const T*>(a), static_cast<const T*>(b)}, {static_cast<T*>(y)}}, n, Add{});
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
