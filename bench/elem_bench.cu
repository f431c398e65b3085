// elem_bench.cu — timing and cross-checks of the memory-bound kernels (elementwise.cu, norms.cu,
// optim.cu) at GPT-2 124M's shapes (B·S = 16,384 tokens, hidden 768, ffn 3072, bf16), the new
// kernels against copies of the scalar kernels they replaced (namespace oldk, as of a750cb9).
// Not built by CMake; by hand, after building llmplan_kernels in build/:
//   nvcc -O3 -arch=sm_90 -std=c++17 -I. bench/elem_bench.cu bench/elem_bench_variants.cu \
//        build/kernels/libllmplan_kernels.a -lcublasLt -lcublas -o elem_bench
// Prints per kernel the median time of 15 batches of 10 back-to-back launches (inputs rotated over
// 4 buffer sets so that L2 holds none of them), GB/s over the byte floor (each input read once,
// each output written once), and the new-vs-old agreement (normalised max error, bitwise where
// the arithmetic is the same); exits 1 when a check fails.
#include "kernels/cuda/colreduce.cuh"
#include "kernels/cuda/common.cuh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace llmplan::kernels;
using namespace llmplan::kernels::cuda;
using llmplan::DType;

namespace llmplan::kernels::cuda::bench {
template <int U>
void gelu_fwd_u(Context& ctx, const bf16* x, bf16* y, std::size_t n);
template <int U>
void add_u(Context& ctx, const bf16* a, const bf16* b, bf16* y, std::size_t n);
void layernorm_fwd_nopf(Context& ctx, const bf16* x, const bf16* g, const bf16* b, bf16* y, float* mean, float* rstd, int T,
                        int h);
void layernorm_bwd_nopf(Context& ctx, const bf16* x, const bf16* g, const float* mean, const float* rstd, const bf16* dy,
                        bf16* dx, bf16* dg, bf16* db, int T, int h);
int norm_team(int h, int bytes);
void adamw_forced(Context& ctx, float* p, const bf16* g, float* m, float* v, std::size_t n, const AdamWHyper& hy,
                  const float* clip, bf16* copy, bool vectors);
}  // namespace llmplan::kernels::cuda::bench

// ---- the old kernels (a750cb9), verbatim but for names ---------------------------------------------
namespace oldk {
constexpr int kThreads = 256;
constexpr float kGeluC = 0.7978845608028654f;
constexpr float kGeluA = 0.044715f;
#define GS(i, n)                                                                                   \
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < (n); \
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
template <typename T>
__global__ void gelu_fwd_kernel(const T* x, T* y, std::size_t n) {
    GS(i, n) {
        const float v = to_float(x[i]);
        y[i] = from_float<T>(0.5f * v * (1.0f + tanhf(kGeluC * (v + kGeluA * v * v * v))));
    }
}
template <typename T>
__global__ void gelu_bwd_kernel(const T* x, const T* dy, T* dx, std::size_t n) {
    GS(i, n) {
        const float v = to_float(x[i]);
        const float th = tanhf(kGeluC * (v + kGeluA * v * v * v));
        const float du = kGeluC * (1.0f + 3.0f * kGeluA * v * v);
        const float g = 0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * du;
        dx[i] = from_float<T>(g * to_float(dy[i]));
    }
}
template <typename T>
__global__ void add_kernel(const T* a, const T* b, T* y, std::size_t n) {
    GS(i, n) y[i] = from_float<T>(to_float(a[i]) + to_float(b[i]));
}
template <typename T>
__global__ void __launch_bounds__(256) layernorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                            const T* __restrict__ beta, T* __restrict__ y,
                                                            float* __restrict__ mean, float* __restrict__ rstd, int h,
                                                            float eps) {
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
__global__ void __launch_bounds__(256) layernorm_bwd_dx_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                               const float* __restrict__ mean, const float* __restrict__ rstd,
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
struct LayerNormParamGrad {
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
#undef GS

template <typename T>
void gelu_forward(Context& ctx, const T* x, T* y, std::size_t n) {
    gelu_fwd_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(x, y, n);
}
template <typename T>
void gelu_backward(Context& ctx, const T* x, const T* dy, T* dx, std::size_t n) {
    gelu_bwd_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(x, dy, dx, n);
}
template <typename T>
void residual_add(Context& ctx, const T* a, const T* b, T* y, std::size_t n) {
    add_kernel<T><<<grid_for(n, kThreads), kThreads, 0, ctx.stream()>>>(a, b, y, n);
}
template <typename T>
void layernorm_forward(Context& ctx, const T* x, const T* g, const T* b, T* y, float* mean, float* rstd, int T_, int h) {
    layernorm_fwd_kernel<T><<<T_, 256, 0, ctx.stream()>>>(x, g, b, y, mean, rstd, h, 1e-5f);
}
template <typename T, typename G>
void layernorm_backward(Context& ctx, const T* x, const T* g, const float* mean, const float* rstd, const T* dy, T* dx, G* dg,
                        G* db, int T_, int h) {
    layernorm_bwd_dx_kernel<T><<<T_, 256, 0, ctx.stream()>>>(x, g, mean, rstd, dy, dx, h);
    column_reduce<2, G>(ctx, LayerNormParamGrad<T>{x, dy, mean, rstd, h}, dg, db, T_, h);
}
template <typename G, typename C>
void adamw(Context& ctx, float* p, const G* g, float* m, float* v, std::size_t n, const AdamWHyper& hy, int step, float gs,
           const float* clip, float maxn, bool decay, C* copy) {
    AdamWArgs a{};
    a.lr = hy.lr;
    a.beta1 = hy.beta1;
    a.beta2 = hy.beta2;
    a.eps = hy.eps;
    a.keep = decay ? static_cast<float>(1.0 - static_cast<double>(hy.lr) * hy.weight_decay) : 1.0f;
    a.bc1 = static_cast<float>(1.0 - std::pow(static_cast<double>(hy.beta1), step));
    a.bc2 = static_cast<float>(1.0 - std::pow(static_cast<double>(hy.beta2), step));
    a.grad_scale = gs;
    a.max_grad_norm = maxn;
    adamw_kernel<G, C><<<grid_for(n, kThreads, 65535), kThreads, 0, ctx.stream()>>>(p, g, m, v, n, a, clip, nullptr, copy);
}
}  // namespace oldk

// ---- harness ----------------------------------------------------------------------------------------
namespace {

int g_fail = 0;

__device__ __forceinline__ unsigned hash32(unsigned long long i, unsigned seed) {
    unsigned long long z = i * 0x9E3779B97F4A7C15ull + seed * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return static_cast<unsigned>(z ^ (z >> 31));
}
template <typename T>
__global__ void fill_kernel(T* p, std::size_t n, unsigned seed, float lo, float hi) {
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
        const float u = (hash32(i, seed) >> 8) * (1.0f / 16777216.0f);
        p[i] = from_float<T>(lo + (hi - lo) * u);
    }
}
template <typename T>
void fill(T* p, std::size_t n, unsigned seed, float lo, float hi) {
    fill_kernel<T><<<1024, 256>>>(p, n, seed, lo, hi);
    LLMPLAN_CUDA_CHECK(cudaGetLastError());
}

template <typename T>
T* dalloc(std::size_t n) {
    void* p = nullptr;
    LLMPLAN_CUDA_CHECK(cudaMalloc(&p, std::max<std::size_t>(n, 1) * sizeof(T) + 64));
    return static_cast<T*>(p);
}

float host_float(float x) { return x; }
float host_float(bf16 x) {
    unsigned short u;
    std::memcpy(&u, &x, 2);
    unsigned w = static_cast<unsigned>(u) << 16;
    float f;
    std::memcpy(&f, &w, 4);
    return f;
}
template <typename T>
std::vector<float> down(const T* p, std::size_t n) {
    std::vector<T> h(n);
    LLMPLAN_CUDA_CHECK(cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost));
    std::vector<float> f(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = host_float(h[i]);
    return f;
}

// normalised max error of a against b; bitwise mismatches counted.
void compare(const char* what, const std::vector<float>& a, const std::vector<float>& b, double tol, bool want_bitwise = false) {
    double diff = 0, scale = 0;
    std::size_t mism = 0;
    bool finite = true;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i]) || !std::isfinite(b[i])) finite = false;
        diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
        if (std::memcmp(&a[i], &b[i], 4) != 0) ++mism;
    }
    const double err = scale > 0 ? diff / scale : diff;
    const bool ok = finite && err <= tol && (!want_bitwise || mism == 0);
    if (!ok) ++g_fail;
    std::printf("  check %-44s err %.2e (tol %.0e)  bit-mismatch %zu/%zu  %s\n", what, err, tol, mism, a.size(),
                ok ? "ok" : "FAIL");
}

struct Timer {
    cudaStream_t s;
    cudaEvent_t a, b;
    explicit Timer(cudaStream_t st) : s(st) {
        LLMPLAN_CUDA_CHECK(cudaEventCreate(&a));
        LLMPLAN_CUDA_CHECK(cudaEventCreate(&b));
    }
    // median ms per call over 15 batches of `batch` calls; f(i) gets the call index (to rotate buffers)
    double time(const std::function<void(int)>& f, int batch = 10) {
        for (int i = 0; i < 3; ++i) f(i);
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(s));
        std::vector<double> ms;
        int k = 0;
        for (int r = 0; r < 15; ++r) {
            LLMPLAN_CUDA_CHECK(cudaEventRecord(a, s));
            for (int i = 0; i < batch; ++i) f(k++);
            LLMPLAN_CUDA_CHECK(cudaEventRecord(b, s));
            LLMPLAN_CUDA_CHECK(cudaEventSynchronize(b));
            float t = 0;
            LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
            ms.push_back(t / batch);
        }
        LLMPLAN_CUDA_CHECK(cudaGetLastError());
        std::sort(ms.begin(), ms.end());
        return ms[ms.size() / 2];
    }
};

struct Row {
    std::string name;
    double bytes, ms_new, ms_old, calls;
};
std::vector<Row> g_rows;

void report(const std::string& name, double bytes, double ms_new, double ms_old, double calls) {
    g_rows.push_back({name, bytes, ms_new, ms_old, calls});
    std::printf("  %-40s new %8.4f ms (%6.0f GB/s)  old %8.4f ms (%6.0f GB/s)  floor %.4f ms -> new/floor %.2f\n",
                name.c_str(), ms_new, bytes / ms_new * 1e-6, ms_old, bytes / ms_old * 1e-6, bytes / 3.0e9,
                ms_new / (bytes / 3.0e9));
}

constexpr int kSets = 4;
constexpr int kTok = 16384, kHid = 768, kFfn = 3072;

}  // namespace

int main() {
    cudaDeviceProp prop{};
    LLMPLAN_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize >> 20);
    cudaStream_t stream;
    LLMPLAN_CUDA_CHECK(cudaStreamCreate(&stream));
    Context ctx(stream);
    Timer tm(stream);

    // ---- copy ceiling
    {
        const std::size_t bytes = std::size_t{512} << 20;
        char* a = dalloc<char>(bytes);
        char* b = dalloc<char>(bytes);
        const double ms = tm.time([&](int) { LLMPLAN_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, stream)); }, 5);
        std::printf("device copy 512 MiB: %.3f ms, %.0f GB/s (read + write)\n", ms, 2.0 * bytes / ms * 1e-6);
        cudaFree(a);
        cudaFree(b);
    }

    // ---- element-wise at GPT-2 shapes
    {
        const std::size_t nr = std::size_t{kTok} * kHid, nf = std::size_t{kTok} * kFfn;
        bf16 *A[kSets], *B[kSets], *Y[kSets], *Y2[kSets];
        for (int s = 0; s < kSets; ++s) {
            A[s] = dalloc<bf16>(nf);
            B[s] = dalloc<bf16>(nf);
            Y[s] = dalloc<bf16>(nf);
            Y2[s] = dalloc<bf16>(nf);
            fill(A[s], nf, 11 + s, -6.0f, 6.0f);
            fill(B[s], nf, 21 + s, -2.0f, 2.0f);
        }
        std::printf("\nelement-wise (bf16)\n");
        // correctness new vs old at the full shape
        gelu_forward(ctx, A[0], Y[0], nf, DType::bf16);
        oldk::gelu_forward(ctx, A[0], Y2[0], nf);
        compare("gelu fwd new vs old (bf16, n=50.3M)", down(Y[0], nf), down(Y2[0], nf), 1e-2);
        gelu_backward(ctx, A[0], B[0], Y[0], nf, DType::bf16);
        oldk::gelu_backward(ctx, A[0], B[0], Y2[0], nf);
        compare("gelu bwd new vs old (bf16)", down(Y[0], nf), down(Y2[0], nf), 1e-2);
        residual_add(ctx, A[0], B[0], Y[0], nr, DType::bf16);
        oldk::residual_add(ctx, A[0], B[0], Y2[0], nr);
        compare("residual add new vs old (bf16)", down(Y[0], nr), down(Y2[0], nr), 0, true);
        // misaligned / odd n: pointers offset by 1..3 elements, n = 1,000,003
        for (int off : {1, 3}) {
            const std::size_t n = 1000003;
            residual_add(ctx, A[1] + off, B[1] + off, Y[1] + off, n, DType::bf16);
            oldk::residual_add(ctx, A[1] + off, B[1] + off, Y2[1] + off, n);
            compare(("residual add, +" + std::to_string(off) + " elements, odd n").c_str(), down(Y[1] + off, n),
                    down(Y2[1] + off, n), 0, true);
            gelu_backward(ctx, A[1] + off, B[1] + off, Y[1] + off, n, DType::bf16);
            oldk::gelu_backward(ctx, A[1] + off, B[1] + off, Y2[1] + off, n);
            compare(("gelu bwd, +" + std::to_string(off) + " elements, odd n").c_str(), down(Y[1] + off, n),
                    down(Y2[1] + off, n), 1e-2);
            // in place (y aliases a), as the engine
            LLMPLAN_CUDA_CHECK(cudaMemcpy(Y[2], A[1], n * 2 + 16, cudaMemcpyDeviceToDevice));
            residual_add(ctx, Y[2] + off, B[1] + off, Y[2] + off, n, DType::bf16);
            oldk::residual_add(ctx, A[1] + off, B[1] + off, Y2[1] + off, n);
            compare("residual add in place (y = a)", down(Y[2] + off, n), down(Y2[1] + off, n), 0, true);
        }
        {  // a/b mismatched alignment (a +1, b +2): no common aligned index -> scalar path
            const std::size_t n = 777777;
            residual_add(ctx, A[1] + 1, B[1] + 2, Y[1] + 1, n, DType::bf16);
            oldk::residual_add(ctx, A[1] + 1, B[1] + 2, Y2[1] + 1, n);
            compare("residual add, mixed alignment (scalar)", down(Y[1] + 1, n), down(Y2[1] + 1, n), 0, true);
        }
        // fp32 gelu vs old (tanhf) at the fp32 tolerance
        {
            float* xf = dalloc<float>(4000037);
            float* yf = dalloc<float>(4000037);
            float* yf2 = dalloc<float>(4000037);
            float* df = dalloc<float>(4000037);
            fill(xf, 4000037, 5, -8.0f, 8.0f);
            fill(df, 4000037, 6, -3.0f, 3.0f);
            gelu_forward(ctx, xf, yf, 4000037, DType::fp32);
            oldk::gelu_forward(ctx, xf, yf2, 4000037);
            compare("gelu fwd fp32 new vs old (tanhf)", down(yf, 4000037), down(yf2, 4000037), 1e-5);
            gelu_backward(ctx, xf, df, yf, 4000037, DType::fp32);
            oldk::gelu_backward(ctx, xf, df, yf2, 4000037);
            compare("gelu bwd fp32 new vs old (tanhf)", down(yf, 4000037), down(yf2, 4000037), 1e-5);
            cudaFree(xf);
            cudaFree(yf);
            cudaFree(yf2);
            cudaFree(df);
        }
        LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());

        const double br = 3.0 * nr * 2, bgf = 2.0 * nf * 2, bgb = 3.0 * nf * 2;
        report("residual_add [16384x768] y=y+x", br,
               tm.time([&](int i) { residual_add(ctx, Y[i % kSets], A[i % kSets], Y[i % kSets], nr, DType::bf16); }),
               tm.time([&](int i) { oldk::residual_add(ctx, Y[i % kSets], A[i % kSets], Y[i % kSets], nr); }), 73);
        report("  residual_add unroll 1", br,
               tm.time([&](int i) { bench::add_u<1>(ctx, Y[i % kSets], A[i % kSets], Y[i % kSets], nr); }), 0, 0);
        report("  residual_add unroll 4", br,
               tm.time([&](int i) { bench::add_u<4>(ctx, Y[i % kSets], A[i % kSets], Y[i % kSets], nr); }), 0, 0);
        report("gelu_forward [16384x3072]", bgf, tm.time([&](int i) { gelu_forward(ctx, A[i % kSets], Y[i % kSets], nf, DType::bf16); }),
               tm.time([&](int i) { oldk::gelu_forward(ctx, A[i % kSets], Y[i % kSets], nf); }), 12);
        report("  gelu_forward unroll 1", bgf, tm.time([&](int i) { bench::gelu_fwd_u<1>(ctx, A[i % kSets], Y[i % kSets], nf); }), 0, 0);
        report("  gelu_forward unroll 4", bgf, tm.time([&](int i) { bench::gelu_fwd_u<4>(ctx, A[i % kSets], Y[i % kSets], nf); }), 0, 0);
        report("gelu_backward [16384x3072] dx=dy (in place)", bgb,
               tm.time([&](int i) { gelu_backward(ctx, A[i % kSets], B[i % kSets], B[i % kSets], nf, DType::bf16); }),
               tm.time([&](int i) { oldk::gelu_backward(ctx, A[i % kSets], B[i % kSets], B[i % kSets], nf); }), 12);
        for (int s = 0; s < kSets; ++s) {
            cudaFree(A[s]);
            cudaFree(B[s]);
            cudaFree(Y[s]);
            cudaFree(Y2[s]);
        }
    }

    // ---- LayerNorm
    {
        std::printf("\nlayernorm\n");
        // cross-checks against the old kernels over the team shapes (fp32: tight; bf16: GPT-2)
        struct Shp {
            int T, h;
        };
        for (const Shp s : {Shp{300, 768}, Shp{77, 1000}, Shp{129, 1536}, Shp{64, 2048}, Shp{33, 4096}, Shp{17, 8192},
                            Shp{9, 16384}, Shp{40, 771}, Shp{5, 24}}) {
            const std::size_t n = std::size_t(s.T) * s.h;
            float *x = dalloc<float>(n), *dy = dalloc<float>(n), *g = dalloc<float>(s.h), *b = dalloc<float>(s.h);
            float *y1 = dalloc<float>(n), *y2 = dalloc<float>(n), *m1 = dalloc<float>(s.T), *m2 = dalloc<float>(s.T),
                  *r1 = dalloc<float>(s.T), *r2 = dalloc<float>(s.T);
            float *dg1 = dalloc<float>(s.h), *dg2 = dalloc<float>(s.h), *db1 = dalloc<float>(s.h), *db2 = dalloc<float>(s.h);
            fill(x, n, 1, -3.0f, 4.0f);
            fill(dy, n, 2, -1.0f, 1.0f);
            fill(g, s.h, 3, 0.5f, 1.5f);
            fill(b, s.h, 4, -0.5f, 0.5f);
            fill(dg1, s.h, 5, -1.0f, 1.0f);
            fill(db1, s.h, 6, -1.0f, 1.0f);
            LLMPLAN_CUDA_CHECK(cudaMemcpy(dg2, dg1, s.h * 4, cudaMemcpyDeviceToDevice));
            LLMPLAN_CUDA_CHECK(cudaMemcpy(db2, db1, s.h * 4, cudaMemcpyDeviceToDevice));
            const std::string tag = "T=" + std::to_string(s.T) + " h=" + std::to_string(s.h) + " fp32 team " +
                                    std::to_string(bench::norm_team(s.h, 4));
            layernorm_forward(ctx, x, g, b, y1, m1, r1, s.T, s.h, 1e-5f, DType::fp32);
            oldk::layernorm_forward(ctx, x, g, b, y2, m2, r2, s.T, s.h);
            compare(("ln fwd y " + tag).c_str(), down(y1, n), down(y2, n), 2e-6);
            compare(("ln fwd rstd " + tag).c_str(), down(r1, s.T), down(r2, s.T), 2e-6);
            compare(("ln fwd mean " + tag).c_str(), down(m1, s.T), down(m2, s.T), 2e-6);
            layernorm_backward(ctx, x, g, m2, r2, dy, y1, dg1, db1, s.T, s.h, DType::fp32, DType::fp32);
            oldk::layernorm_backward<float, float>(ctx, x, g, m2, r2, dy, y2, dg2, db2, s.T, s.h);
            compare(("ln bwd dx " + tag).c_str(), down(y1, n), down(y2, n), 2e-5);
            compare(("ln bwd dgamma " + tag).c_str(), down(dg1, s.h), down(dg2, s.h), 2e-5);
            compare(("ln bwd dbeta " + tag).c_str(), down(db1, s.h), down(db2, s.h), 2e-5);
            // RMSNorm: forward against old layernorm math is different; check dx/dgamma via finite self-consistency:
            // rmsnorm(x) == layernorm(x) when rows have zero mean is not cheap to arrange; compare rms fwd vs a host loop.
            {
                float* rr = dalloc<float>(s.T);
                rmsnorm_forward(ctx, x, g, y1, rr, s.T, s.h, 1e-5f, DType::fp32);
                const auto hx = down(x, n), hg = down(g, s.h), hy = down(y1, n), hr = down(rr, s.T);
                std::vector<float> ry(n), rrs(s.T);
                for (int t = 0; t < s.T; ++t) {
                    double q = 0;
                    for (int j = 0; j < s.h; ++j) q += double(hx[t * s.h + j]) * hx[t * s.h + j];
                    const double r = 1.0 / std::sqrt(q / s.h + 1e-5);
                    rrs[t] = float(r);
                    for (int j = 0; j < s.h; ++j) ry[t * s.h + j] = float(hx[t * s.h + j] * r * hg[j]);
                }
                compare(("rms fwd y vs host " + tag).c_str(), hy, ry, 2e-6);
                compare(("rms fwd rstd vs host " + tag).c_str(), hr, rrs, 2e-6);
                // rms backward vs host double
                fill(dg1, s.h, 7, -1.0f, 1.0f);
                const auto hdg0 = down(dg1, s.h), hdy = down(dy, n);
                rmsnorm_backward(ctx, x, g, rr, dy, y2, dg1, s.T, s.h, DType::fp32, DType::fp32);
                std::vector<float> rdx(n), rdg(hdg0.begin(), hdg0.end());
                std::vector<double> dgacc(s.h, 0.0);
                for (int t = 0; t < s.T; ++t) {
                    const double r = hr[t];
                    double sacc = 0;
                    for (int j = 0; j < s.h; ++j) sacc += double(hdy[t * s.h + j]) * hg[j] * hx[t * s.h + j];
                    const double ms = sacc / s.h;
                    for (int j = 0; j < s.h; ++j) {
                        const double xx = hx[t * s.h + j], d = hdy[t * s.h + j];
                        rdx[t * s.h + j] = float(r * hg[j] * d - xx * r * r * r * ms);
                        dgacc[j] += d * xx * r;
                    }
                }
                for (int j = 0; j < s.h; ++j) rdg[j] = float(hdg0[j] + dgacc[j]);
                compare(("rms bwd dx vs host " + tag).c_str(), down(y2, n), rdx, 2e-5);
                compare(("rms bwd dgamma vs host " + tag).c_str(), down(dg1, s.h), rdg, 2e-5);
                cudaFree(rr);
            }
            for (float* p : {x, dy, g, b, y1, y2, m1, m2, r1, r2, dg1, dg2, db1, db2}) cudaFree(p);
        }
        LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());

        // GPT-2 shape in bf16: agreement, determinism, timing
        const int T = kTok, h = kHid;
        const std::size_t n = std::size_t(T) * h;
        bf16 *X[kSets], *DY[kSets], *Y[kSets];
        float *M[kSets], *R[kSets];
        bf16* g = dalloc<bf16>(h);
        bf16* b = dalloc<bf16>(h);
        bf16 *dg = dalloc<bf16>(h), *db = dalloc<bf16>(h), *dg2 = dalloc<bf16>(h), *db2 = dalloc<bf16>(h);
        fill(g, h, 3, 0.5f, 1.5f);
        fill(b, h, 4, -0.5f, 0.5f);
        for (int s = 0; s < kSets; ++s) {
            X[s] = dalloc<bf16>(n);
            DY[s] = dalloc<bf16>(n);
            Y[s] = dalloc<bf16>(n);
            M[s] = dalloc<float>(T);
            R[s] = dalloc<float>(T);
            fill(X[s], n, 31 + s, -3.0f, 4.0f);
            fill(DY[s], n, 41 + s, -0.01f, 0.01f);
        }
        bf16* Y2 = dalloc<bf16>(n);
        float *M2 = dalloc<float>(T), *R2 = dalloc<float>(T);
        layernorm_forward(ctx, X[0], g, b, Y[0], M[0], R[0], T, h, 1e-5f, DType::bf16);
        oldk::layernorm_forward(ctx, X[0], g, b, Y2, M2, R2, T, h);
        compare("ln fwd y bf16 GPT-2 new vs old", down(Y[0], n), down(Y2, n), 1e-2);
        compare("ln fwd rstd bf16 GPT-2 new vs old", down(R[0], T), down(R2, T), 1e-5);
        LLMPLAN_CUDA_CHECK(cudaMemset(dg, 0, h * 2));
        LLMPLAN_CUDA_CHECK(cudaMemset(db, 0, h * 2));
        LLMPLAN_CUDA_CHECK(cudaMemset(dg2, 0, h * 2));
        LLMPLAN_CUDA_CHECK(cudaMemset(db2, 0, h * 2));
        layernorm_backward(ctx, X[0], g, M[0], R[0], DY[0], Y[0], dg, db, T, h, DType::bf16, DType::bf16);
        oldk::layernorm_backward<bf16, bf16>(ctx, X[0], g, M[0], R[0], DY[0], Y2, dg2, db2, T, h);
        compare("ln bwd dx bf16 GPT-2 new vs old", down(Y[0], n), down(Y2, n), 1e-2);
        compare("ln bwd dgamma bf16 GPT-2 new vs old", down(dg, h), down(dg2, h), 1e-2);
        compare("ln bwd dbeta bf16 GPT-2 new vs old", down(db, h), down(db2, h), 1e-2);
        {  // determinism: twice more from zero, fp32 grads, bitwise
            float *f1 = dalloc<float>(2 * h), *f2 = dalloc<float>(2 * h);
            LLMPLAN_CUDA_CHECK(cudaMemset(f1, 0, 2 * h * 4));
            LLMPLAN_CUDA_CHECK(cudaMemset(f2, 0, 2 * h * 4));
            layernorm_backward(ctx, X[0], g, M[0], R[0], DY[0], Y[0], f1, f1 + h, T, h, DType::bf16, DType::fp32);
            layernorm_backward(ctx, X[0], g, M[0], R[0], DY[0], Y[1], f2, f2 + h, T, h, DType::bf16, DType::fp32);
            compare("ln bwd dgamma/dbeta fp32 run-to-run (bitwise)", down(f1, 2 * h), down(f2, 2 * h), 0, true);
            compare("ln bwd dx run-to-run (bitwise)", down(Y[0], n), down(Y[1], n), 0, true);
            cudaFree(f1);
            cudaFree(f2);
        }
        LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
        const double bf = 2.0 * n * 2, bb = 3.0 * n * 2;
        report("layernorm_forward [16384x768]", bf,
               tm.time([&](int i) {
                   const int s = i % kSets;
                   layernorm_forward(ctx, X[s], g, b, Y[s], M[s], R[s], T, h, 1e-5f, DType::bf16);
               }),
               tm.time([&](int i) {
                   const int s = i % kSets;
                   oldk::layernorm_forward(ctx, X[s], g, b, Y[s], M[s], R[s], T, h);
               }),
               25);
        report("  layernorm_forward no prefetch", bf,
               tm.time([&](int i) {
                   const int s = i % kSets;
                   bench::layernorm_fwd_nopf(ctx, X[s], g, b, Y[s], M[s], R[s], T, h);
               }),
               0, 0);
        report("layernorm_backward [16384x768] (+dgamma,dbeta)", bb,
               tm.time([&](int i) {
                   const int s = i % kSets;
                   layernorm_backward(ctx, X[s], g, M[s], R[s], DY[s], Y[s], dg, db, T, h, DType::bf16, DType::bf16);
               }),
               tm.time([&](int i) {
                   const int s = i % kSets;
                   oldk::layernorm_backward<bf16, bf16>(ctx, X[s], g, M[s], R[s], DY[s], Y[s], dg, db, T, h);
               }),
               25);
        report("  layernorm_backward no prefetch", bb,
               tm.time([&](int i) {
                   const int s = i % kSets;
                   bench::layernorm_bwd_nopf(ctx, X[s], g, M[s], R[s], DY[s], Y[s], dg, db, T, h);
               }),
               0, 0);
        report("  layernorm_backward dx only", bb,
               tm.time([&](int i) {
                   const int s = i % kSets;
                   layernorm_backward(ctx, X[s], g, M[s], R[s], DY[s], Y[s], nullptr, nullptr, T, h, DType::bf16, DType::bf16);
               }),
               0, 0);
        for (int s = 0; s < kSets; ++s) {
            cudaFree(X[s]);
            cudaFree(DY[s]);
            cudaFree(Y[s]);
            cudaFree(M[s]);
            cudaFree(R[s]);
        }
    }

    // ---- AdamW: GPT-2 124M's 196 tensors, packed as the engine packs them
    {
        std::printf("\nadamw\n");
        std::vector<std::size_t> sizes = {50257ull * 768, 1024ull * 768};
        for (int l = 0; l < 12; ++l) {
            const std::size_t d = 768, f = 3072;
            for (std::size_t s : {d, d, d * d, d, d * d, d, d * d, d, d * d, d, d, d, d * f, f, f * d, d}) sizes.push_back(s);
        }
        sizes.push_back(768);
        sizes.push_back(768);
        std::size_t N = 0;
        std::vector<std::size_t> offs;
        for (std::size_t s : sizes) {
            offs.push_back(N);
            N += s;
        }
        std::printf("  %zu tensors, %zu parameters\n", sizes.size(), N);
        float *p = dalloc<float>(N), *m = dalloc<float>(N), *v = dalloc<float>(N), *p2 = dalloc<float>(N), *m2 = dalloc<float>(N),
              *v2 = dalloc<float>(N);
        bf16 *g = dalloc<bf16>(N), *c = dalloc<bf16>(N), *c2 = dalloc<bf16>(N);
        float* gf = dalloc<float>(N);
        float* norm = dalloc<float>(1);
        fill(p, N, 51, -0.05f, 0.05f);
        fill(m, N, 52, -1e-3f, 1e-3f);
        fill(v, N, 53, 0.0f, 1e-6f);
        fill(g, N, 54, -1e-2f, 1e-2f);
        fill(gf, N, 55, -1e-2f, 1e-2f);
        fill(norm, 1, 56, 1.5f, 1.5f);
        AdamWHyper hy;
        hy.lr = 6e-4f;
        auto reset = [&] {
            LLMPLAN_CUDA_CHECK(cudaMemcpy(p2, p, N * 4, cudaMemcpyDeviceToDevice));
            LLMPLAN_CUDA_CHECK(cudaMemcpy(m2, m, N * 4, cudaMemcpyDeviceToDevice));
            LLMPLAN_CUDA_CHECK(cudaMemcpy(v2, v, N * 4, cudaMemcpyDeviceToDevice));
        };
        // bitwise new vs old: bf16 grads + bf16 copy, clip, decay; fp32 grads; odd head/tail
        float *pa = dalloc<float>(N), *ma = dalloc<float>(N), *va = dalloc<float>(N);
        auto snap = [&] {
            LLMPLAN_CUDA_CHECK(cudaMemcpy(pa, p2, N * 4, cudaMemcpyDeviceToDevice));
            LLMPLAN_CUDA_CHECK(cudaMemcpy(ma, m2, N * 4, cudaMemcpyDeviceToDevice));
            LLMPLAN_CUDA_CHECK(cudaMemcpy(va, v2, N * 4, cudaMemcpyDeviceToDevice));
        };
        const std::size_t nn = 3000001;
        for (int off : {0, 3}) {
            reset();
            adamw_update(ctx, p2 + off, g + off, DType::bf16, m2 + off, v2 + off, nn, hy, 7, 0.5f, norm, 1.0f, true, nullptr,
                         c + off, DType::bf16);
            snap();
            reset();
            oldk::adamw<bf16, bf16>(ctx, p2 + off, g + off, m2 + off, v2 + off, nn, hy, 7, 0.5f, norm, 1.0f, true, c2 + off);
            const std::string t = " (bf16 grad, clip, decay, +" + std::to_string(off) + ")";
            compare(("adamw param" + t).c_str(), down(pa + off, nn), down(p2 + off, nn), 0, true);
            compare(("adamw m" + t).c_str(), down(ma + off, nn), down(m2 + off, nn), 0, true);
            compare(("adamw v" + t).c_str(), down(va + off, nn), down(v2 + off, nn), 0, true);
            compare(("adamw copy" + t).c_str(), down(c + off, nn), down(c2 + off, nn), 0, true);
            reset();
            adamw_update(ctx, p2 + off, gf + off, DType::fp32, m2 + off, v2 + off, nn, hy, 3, 1.0f, nullptr, 1.0f, false,
                         nullptr, nullptr, DType::fp32);
            snap();
            reset();
            oldk::adamw<float, float>(ctx, p2 + off, gf + off, m2 + off, v2 + off, nn, hy, 3, 1.0f, nullptr, 1.0f, false,
                                      nullptr);
            const std::string t2 = " (fp32 grad, no clip/decay/copy, +" + std::to_string(off) + ")";
            compare(("adamw param" + t2).c_str(), down(pa + off, nn), down(p2 + off, nn), 0, true);
            compare(("adamw m" + t2).c_str(), down(ma + off, nn), down(m2 + off, nn), 0, true);
            compare(("adamw v" + t2).c_str(), down(va + off, nn), down(v2 + off, nn), 0, true);
        }
        {  // skip flag set: nothing changes
            int* skip = dalloc<int>(1);
            const int one = 1;
            LLMPLAN_CUDA_CHECK(cudaMemcpy(skip, &one, 4, cudaMemcpyHostToDevice));
            reset();
            adamw_update(ctx, p2, g, DType::bf16, m2, v2, nn, hy, 7, 1.0f, norm, 1.0f, true, skip, nullptr, DType::bf16);
            compare("adamw skip: param unchanged", down(p2, nn), down(p, nn), 0, true);
            cudaFree(skip);
        }
        cudaFree(pa);
        cudaFree(ma);
        cudaFree(va);
        LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
        const double bytes_all = 28.0 * N, bytes_wte = 28.0 * sizes[0];
        auto all_new = [&](int) {
            for (std::size_t t = 0; t < sizes.size(); ++t)
                adamw_update(ctx, p + offs[t], g + offs[t], DType::bf16, m + offs[t], v + offs[t], sizes[t], hy, 1, 1.0f, norm,
                             1.0f, true, nullptr, c + offs[t], DType::bf16);
        };
        auto all_old = [&](int) {
            for (std::size_t t = 0; t < sizes.size(); ++t)
                oldk::adamw<bf16, bf16>(ctx, p + offs[t], g + offs[t], m + offs[t], v + offs[t], sizes[t], hy, 1, 1.0f, norm,
                                        1.0f, true, c + offs[t]);
        };
        report("adamw 196 tensors (bf16 grad+copy), per step", bytes_all, tm.time(all_new, 1), tm.time(all_old, 1), 1);
        for (std::size_t thr : {std::size_t{0}, std::size_t{65536}, std::size_t{1} << 20, std::size_t{1} << 23, ~std::size_t{0}}) {
            const double t = tm.time(
                [&](int) {
                    for (std::size_t k = 0; k < sizes.size(); ++k)
                        bench::adamw_forced(ctx, p + offs[k], g + offs[k], m + offs[k], v + offs[k], sizes[k], hy, norm,
                                            c + offs[k], sizes[k] >= thr);
                },
                1);
            std::printf("  adamw 196 tensors, vectors from n >= %zu: %.4f ms\n", thr == ~std::size_t{0} ? 0 : thr, t);
        }
        report("adamw wte only [50257x768]", bytes_wte,
               tm.time([&](int) {
                   adamw_update(ctx, p, g, DType::bf16, m, v, sizes[0], hy, 1, 1.0f, norm, 1.0f, true, nullptr, c, DType::bf16);
               }),
               tm.time([&](int) { oldk::adamw<bf16, bf16>(ctx, p, g, m, v, sizes[0], hy, 1, 1.0f, norm, 1.0f, true, c); }), 1);
        std::printf("  adamw per size (batch of 10 back-to-back calls): vectors / one-element / old, us\n");
        for (std::size_t sz : {std::size_t{768}, std::size_t{3072}, std::size_t{65536}, std::size_t{262144},
                               std::size_t{589824}, std::size_t{786432}, std::size_t{2359296}, std::size_t{38597376}}) {
            const double tv = tm.time([&](int) { bench::adamw_forced(ctx, p, g, m, v, sz, hy, norm, c, true); });
            const double ts = tm.time([&](int) { bench::adamw_forced(ctx, p, g, m, v, sz, hy, norm, c, false); });
            const double to = tm.time([&](int) { oldk::adamw<bf16, bf16>(ctx, p, g, m, v, sz, hy, 1, 1.0f, norm, 1.0f, true, c); });
            std::printf("    n=%9zu  vec %8.2f  one %8.2f  old %8.2f   floor %8.2f\n", sz, tv * 1e3, ts * 1e3, to * 1e3,
                        28.0 * sz / 3.0e9 * 1e3);
        }
        report("adamw one 768 tensor (launch-bound)", 28.0 * 768,
               tm.time([&](int) {
                   adamw_update(ctx, p + offs[2], g + offs[2], DType::bf16, m + offs[2], v + offs[2], 768, hy, 1, 1.0f, norm, 1.0f,
                                true, nullptr, c + offs[2], DType::bf16);
               }),
               tm.time([&](int) {
                   oldk::adamw<bf16, bf16>(ctx, p + offs[2], g + offs[2], m + offs[2], v + offs[2], 768, hy, 1, 1.0f, norm, 1.0f,
                                           true, c + offs[2]);
               }),
               1);
    }

    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    std::printf("\nsummary (GPT-2 124M step: per-call ms x calls; floor at 3.0 TB/s)\n");
    std::printf("  %-46s %9s %9s %9s %9s %9s\n", "kernel", "calls", "new ms", "old ms", "floor ms", "new/floor");
    for (const Row& r : g_rows) {
        if (r.calls == 0) continue;
        std::printf("  %-46s %9.0f %9.3f %9.3f %9.3f %9.2f\n", r.name.c_str(), r.calls, r.ms_new * r.calls, r.ms_old * r.calls,
                    r.bytes / 3.0e9 * r.calls, r.ms_new / (r.bytes / 3.0e9));
    }
    std::printf("\n%s: %d check(s) failed\n", g_fail ? "FAIL" : "PASS", g_fail);
    return g_fail ? 1 : 0;
}
