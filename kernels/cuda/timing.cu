// timing.cu — kernels/op_timing.h: the engine's kernels timed one shape at a time.
#include "kernels/op_timing.h"

#include "kernels/cuda/common.cuh"
#include "engine/logits_stride.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

namespace llmplan::kernels {

namespace {

using cuda::Context;
using std::size_t;

// Deterministic pseudo-random values in [lo, hi) (a 32-bit integer hash of the index and seed).
__device__ __forceinline__ float hash_uniform(size_t i, unsigned seed) {
    unsigned x = static_cast<unsigned>(i) * 0x9E3779B1u ^ static_cast<unsigned>(i >> 32) * 0x85EBCA77u ^ seed * 0xC2B2AE3Du;
    x ^= x >> 16;
    x *= 0x7FEB352Du;
    x ^= x >> 15;
    x *= 0x846CA68Bu;
    x ^= x >> 16;
    return static_cast<float>(x >> 8) * (1.0f / 16777216.0f);
}

template <typename T>
__global__ void fill_kernel(T* __restrict__ p, size_t n, unsigned seed, float lo, float hi) {
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<size_t>(gridDim.x) * blockDim.x)
        p[i] = cuda::from_float<T>(lo + (hi - lo) * hash_uniform(i, seed));
}

__global__ void fill_ids_kernel(int* __restrict__ p, size_t n, unsigned seed, int rows) {
    for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<size_t>(gridDim.x) * blockDim.x)
        p[i] = min(rows - 1, static_cast<int>(hash_uniform(i, seed) * static_cast<float>(rows)));
}

// One device allocation, freed on scope exit.
class Buf {
public:
    Buf() = default;
    explicit Buf(size_t bytes) : bytes_(bytes) {
        if (bytes > 0) LLMPLAN_CUDA_CHECK(cudaMalloc(&p_, bytes));
    }
    Buf(Buf&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    Buf& operator=(Buf&&) = delete;
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() {
        if (p_) cudaFree(p_);
    }
    void* get() const { return p_; }
    int* i() const { return static_cast<int*>(p_); }

private:
    void* p_ = nullptr;
    size_t bytes_ = 0;
};

// Buffers of one timing, filled on the device.
class Operands {
public:
    explicit Operands(Context& ctx) : ctx_(ctx) {}
    void* values(size_t n, DType dt, float lo, float hi) {
        bufs_.emplace_back(n * dtype_bytes(dt));
        void* p = bufs_.back().get();
        const unsigned blocks = cuda::grid_for(n, 256);
        const unsigned seed = static_cast<unsigned>(bufs_.size()) * 7919u;
        switch (dt) {
            case DType::fp32: fill_kernel<<<blocks, 256, 0, ctx_.stream()>>>(static_cast<float*>(p), n, seed, lo, hi); break;
            case DType::bf16: fill_kernel<<<blocks, 256, 0, ctx_.stream()>>>(static_cast<cuda::bf16*>(p), n, seed, lo, hi); break;
            case DType::fp16: fill_kernel<<<blocks, 256, 0, ctx_.stream()>>>(static_cast<cuda::fp16*>(p), n, seed, lo, hi); break;
        }
        LLMPLAN_CUDA_CHECK(cudaGetLastError());
        return p;
    }
    void* act(size_t n, DType dt) { return values(n, dt, -1.0f, 1.0f); }      // activations, gradients
    void* weight(size_t n, DType dt) { return values(n, dt, -0.02f, 0.02f); }  // weights
    float* stat(size_t n, float lo, float hi) { return static_cast<float*>(values(n, DType::fp32, lo, hi)); }
    void* zeros(size_t bytes) {
        bufs_.emplace_back(bytes);
        LLMPLAN_CUDA_CHECK(cudaMemsetAsync(bufs_.back().get(), 0, bytes, ctx_.stream()));
        return bufs_.back().get();
    }
    int* ids(size_t n, int rows) {
        bufs_.emplace_back(n * sizeof(int));
        int* p = bufs_.back().i();
        fill_ids_kernel<<<cuda::grid_for(n, 256), 256, 0, ctx_.stream()>>>(p, n, static_cast<unsigned>(bufs_.size()), rows);
        LLMPLAN_CUDA_CHECK(cudaGetLastError());
        return p;
    }

private:
    Context& ctx_;
    std::vector<Buf> bufs_;
};

Context& timing_context() {
    static Context* ctx = new Context(nullptr);  // lives as long as the process (as ops_gpu.cu's)
    return *ctx;
}

// Median seconds per call over batches of back-to-back launches (op_timing.h).
double time_calls(Context& ctx, const std::function<void()>& f, const KernelTimingOptions& o) {
    cudaEvent_t start = nullptr, stop = nullptr;
    LLMPLAN_CUDA_CHECK(cudaEventCreate(&start));
    LLMPLAN_CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<double> per_call;
    try {
        for (int i = 0; i < std::max(1, o.warmup); ++i) f();
        // One timed call sizes the batches.
        LLMPLAN_CUDA_CHECK(cudaEventRecord(start, ctx.stream()));
        f();
        LLMPLAN_CUDA_CHECK(cudaEventRecord(stop, ctx.stream()));
        LLMPLAN_CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        const double one = std::max(1e-6, ms * 1e-3);
        const int n = static_cast<int>(std::clamp(o.batch_seconds / one, 1.0, 2000.0));
        for (int r = 0; r < std::max(1, o.repeats); ++r) {
            LLMPLAN_CUDA_CHECK(cudaEventRecord(start, ctx.stream()));
            for (int i = 0; i < n; ++i) f();
            LLMPLAN_CUDA_CHECK(cudaEventRecord(stop, ctx.stream()));
            LLMPLAN_CUDA_CHECK(cudaEventSynchronize(stop));
            LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
            per_call.push_back(ms * 1e-3 / n);
        }
    } catch (...) {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        throw;
    }
    LLMPLAN_CUDA_CHECK(cudaEventDestroy(start));
    LLMPLAN_CUDA_CHECK(cudaEventDestroy(stop));
    std::sort(per_call.begin(), per_call.end());
    return per_call[per_call.size() / 2];
}

int as_int(std::int64_t v, const char* what) {
    if (v <= 0 || v > 0x7fffffff) throw std::invalid_argument(std::string("kernel timing: ") + what + " out of range");
    return static_cast<int>(v);
}

}  // namespace

double gpu_time_engine_kernel(const EngineKernelShape& s, const KernelTimingOptions& o) {
    static const std::vector<std::pair<const char*, size_t>> kDims = {
        {"linear_forward", 6}, {"linear_backward", 6}, {"layernorm_forward", 2}, {"layernorm_backward", 2},
        {"rmsnorm_forward", 2}, {"rmsnorm_backward", 2}, {"gelu_forward", 1}, {"gelu_backward", 1},
        {"swiglu_forward", 1}, {"swiglu_backward", 1}, {"rotary_forward", 4}, {"rotary_backward", 4},
        {"residual_add", 1}, {"attention_eager_forward", 5}, {"attention_eager_backward", 5},
        {"attention_flash_forward", 5}, {"attention_flash_backward", 5}, {"cross_entropy", 2},
        {"embedding_forward", 3}, {"embedding_backward", 3}, {"zero_grad", 1}, {"global_norm", 1}, {"adamw", 1}, {"check_nonfinite", 1}};
    const auto known = std::find_if(kDims.begin(), kDims.end(), [&](const auto& k) { return s.kernel == k.first; });
    if (known == kDims.end()) throw std::invalid_argument("kernel timing: unknown kernel \"" + s.kernel + "\"");
    if (s.dims.size() != known->second)
        throw std::invalid_argument("kernel timing: " + s.kernel + " takes " + std::to_string(known->second) + " dims");
    for (std::int64_t v : s.dims)
        if (v < 0) throw std::invalid_argument("kernel timing: negative dimension for " + s.kernel);

    Context& ctx = timing_context();
    Operands ops(ctx);
    const DType dt = s.dt;
    const std::string& k = s.kernel;
    auto D = [&](size_t i) { return static_cast<size_t>(s.dims[i]); };
    std::function<void()> f;
    constexpr float kEps = 1e-5f, kRopeBase = 10000.0f;

    if (k == "linear_forward" || k == "linear_backward") {
        const int T = as_int(s.dims[0], "T"), kk = as_int(s.dims[1], "k"), n = as_int(s.dims[2], "n"),
                  ld = as_int(s.dims[4], "ld");
        if (ld < n) throw std::invalid_argument("kernel timing: " + s.kernel + "'s row stride ld is below n");
        const bool bias = s.dims[3] != 0, gelu = s.dims[5] != 0;
        if (gelu && ld != n) throw std::invalid_argument("kernel timing: " + s.kernel + " with GELU takes ld = n");
        void* x = ops.act(D(0) * D(1), dt);
        void* w = ops.weight(D(2) * D(1), dt);
        if (k == "linear_forward") {
            void* b = bias ? ops.weight(D(2), dt) : nullptr;
            void* y = ops.zeros(D(0) * D(4) * dtype_bytes(dt));
            void* pre = gelu ? ops.zeros(D(0) * D(2) * dtype_bytes(dt)) : nullptr;
            if (gelu)
                f = [=, &ctx] { cuda::linear_gelu_forward(ctx, x, w, b, pre, y, T, kk, n, dt); };
            else
                f = [=, &ctx] { cuda::linear_forward(ctx, x, w, b, y, T, kk, n, dt, ld); };
        } else {
            void* dy = ops.act(D(0) * D(4), dt);
            void* dx = ops.zeros(D(0) * D(1) * dtype_bytes(dt));
            void* dw = ops.zeros(D(2) * D(1) * dtype_bytes(dt));
            void* db = bias ? ops.zeros(D(2) * dtype_bytes(dt)) : nullptr;
            const void* pre = gelu ? ops.act(D(0) * D(1), dt) : nullptr;  // GELU' of the fc output (x = GELU(pre))
            f = [=, &ctx] { cuda::linear_backward(ctx, x, w, dy, dx, dw, db, T, kk, n, dt, dt, ld, false, pre); };
        }
    } else if (k == "layernorm_forward" || k == "rmsnorm_forward" || k == "layernorm_backward" || k == "rmsnorm_backward") {
        const int T = as_int(s.dims[0], "T"), h = as_int(s.dims[1], "h");
        const bool ln = k[0] == 'l';
        void* x = ops.act(D(0) * D(1), dt);
        void* gamma = ops.values(D(1), dt, 0.9f, 1.1f);
        void* beta = ln ? ops.weight(D(1), dt) : nullptr;
        float* mean = ln ? ops.stat(D(0), -0.1f, 0.1f) : nullptr;
        float* rstd = ops.stat(D(0), 0.9f, 1.1f);
        if (k == "layernorm_forward" || k == "rmsnorm_forward") {
            void* y = ops.zeros(D(0) * D(1) * dtype_bytes(dt));
            if (ln)
                f = [=, &ctx] { cuda::layernorm_forward(ctx, x, gamma, beta, y, mean, rstd, T, h, kEps, dt); };
            else
                f = [=, &ctx] { cuda::rmsnorm_forward(ctx, x, gamma, y, rstd, T, h, kEps, dt); };
        } else {
            void* dy = ops.act(D(0) * D(1), dt);
            void* dx = ops.zeros(D(0) * D(1) * dtype_bytes(dt));
            void* dg = ops.zeros(D(1) * dtype_bytes(dt));
            void* dbeta = ln ? ops.zeros(D(1) * dtype_bytes(dt)) : nullptr;
            if (ln)
                f = [=, &ctx] { cuda::layernorm_backward(ctx, x, gamma, mean, rstd, dy, dx, dg, dbeta, T, h, dt, dt); };
            else
                f = [=, &ctx] { cuda::rmsnorm_backward(ctx, x, gamma, rstd, dy, dx, dg, T, h, dt, dt); };
        }
    } else if (k == "gelu_forward" || k == "gelu_backward" || k == "swiglu_forward" || k == "swiglu_backward" ||
               k == "residual_add") {
        const size_t n = D(0);
        void* a = ops.act(n, dt);
        void* b = ops.act(n, dt);
        void* c = ops.act(n, dt);
        void* out = ops.zeros(n * dtype_bytes(dt));
        void* out2 = ops.zeros(n * dtype_bytes(dt));
        if (k == "gelu_forward") f = [=, &ctx] { cuda::gelu_forward(ctx, a, out, n, dt); };
        if (k == "gelu_backward") f = [=, &ctx] { cuda::gelu_backward(ctx, a, b, out, n, dt); };
        if (k == "swiglu_forward") f = [=, &ctx] { cuda::swiglu_forward(ctx, a, b, out, n, dt); };
        if (k == "swiglu_backward") f = [=, &ctx] { cuda::swiglu_backward(ctx, a, b, c, out, out2, n, dt); };
        if (k == "residual_add") f = [=, &ctx] { cuda::residual_add(ctx, out, a, out, n, dt); };  // y += x, as the engine
    } else if (k == "rotary_forward" || k == "rotary_backward") {
        const int B = as_int(s.dims[0], "B"), S = as_int(s.dims[1], "S"), heads = as_int(s.dims[2], "heads"),
                  hd = as_int(s.dims[3], "head_dim");
        void* x = ops.act(D(0) * D(1) * D(2) * D(3), dt);
        if (k == "rotary_forward")
            f = [=, &ctx] { cuda::rotary_forward(ctx, x, B, S, heads, hd, kRopeBase, dt); };
        else
            f = [=, &ctx] { cuda::rotary_backward(ctx, x, B, S, heads, hd, kRopeBase, dt); };
    } else if (k.rfind("attention_", 0) == 0) {
        const int B = as_int(s.dims[0], "B"), S = as_int(s.dims[1], "S"), H = as_int(s.dims[2], "heads"),
                  KVH = as_int(s.dims[3], "kv_heads"), hd = as_int(s.dims[4], "head_dim");
        const size_t nq = D(0) * D(1) * D(2) * D(4), nkv = D(0) * D(1) * D(3) * D(4);
        void* q = ops.act(nq, dt);
        void* kk = ops.act(nkv, dt);
        void* v = ops.act(nkv, dt);
        void* out = ops.zeros(nq * dtype_bytes(dt));
        void* dout = ops.act(nq, dt);
        void* dq = ops.zeros(nq * dtype_bytes(dt));
        void* dk = ops.zeros(nkv * dtype_bytes(dt));
        void* dv = ops.zeros(nkv * dtype_bytes(dt));
        if (k == "attention_eager_forward" || k == "attention_eager_backward") {
            void* probs = ops.zeros(D(0) * D(2) * D(1) * D(1) * dtype_bytes(dt));
            cuda::attention_eager_forward(ctx, q, kk, v, out, probs, B, S, H, KVH, hd, dt);  // valid probabilities
            if (k == "attention_eager_forward")
                f = [=, &ctx] { cuda::attention_eager_forward(ctx, q, kk, v, out, probs, B, S, H, KVH, hd, dt); };
            else
                f = [=, &ctx] {
                    cuda::attention_eager_backward(ctx, q, kk, v, probs, dout, dq, dk, dv, B, S, H, KVH, hd, dt);
                };
        } else if (k == "attention_flash_forward" || k == "attention_flash_backward") {
            float* lse = static_cast<float*>(ops.zeros(D(0) * D(2) * D(1) * sizeof(float)));
            cuda::attention_flash_forward(ctx, q, kk, v, out, lse, B, S, H, KVH, hd, dt);  // valid out and lse
            if (k == "attention_flash_forward")
                f = [=, &ctx] { cuda::attention_flash_forward(ctx, q, kk, v, out, lse, B, S, H, KVH, hd, dt); };
            else
                f = [=, &ctx] {
                    cuda::attention_flash_backward(ctx, q, kk, v, out, lse, dout, dq, dk, dv, B, S, H, KVH, hd, dt);
                };
        }
    } else if (k == "cross_entropy") {
        const int T = as_int(s.dims[0], "T"), V = as_int(s.dims[1], "V");
        // The engine's row stride (padded in bf16/fp16, kernels/engine.h).
        const int ld = static_cast<int>(dist::logits_row_stride(V, dt != DType::fp32));
        void* logits = ops.act(D(0) * static_cast<size_t>(ld), dt);
        int* targets = ops.ids(D(0), V);
        float* loss = static_cast<float*>(ops.zeros(sizeof(float)));
        // In place, as the engine: later calls see gradients instead of logits (same work).
        f = [=, &ctx] { cuda::cross_entropy(ctx, logits, targets, loss, T, V, dt, true, 1.0f, ld); };
    } else if (k == "embedding_forward" || k == "embedding_backward") {
        const int T = as_int(s.dims[0], "T"), h = as_int(s.dims[1], "h"), rows = as_int(s.dims[2], "rows");
        int* ids = ops.ids(D(0), rows);
        if (k == "embedding_forward") {
            void* table = ops.weight(D(2) * D(1), dt);
            void* y = ops.zeros(D(0) * D(1) * dtype_bytes(dt));
            f = [=, &ctx] { cuda::embedding_forward(ctx, table, ids, y, T, h, dt); };
        } else {
            void* dy = ops.act(D(0) * D(1), dt);
            void* dtable = ops.zeros(D(2) * D(1) * dtype_bytes(dt));
            f = [=, &ctx] { cuda::embedding_backward(ctx, ids, dy, dtable, T, h, dt, dt); };
        }
    } else if (k == "zero_grad") {
        const size_t bytes = D(0);
        void* g = ops.zeros(bytes);
        f = [=, &ctx] { LLMPLAN_CUDA_CHECK(cudaMemsetAsync(g, 0, bytes, ctx.stream())); };
    } else if (k == "global_norm") {
        const size_t n = D(0);
        void* g = ops.act(n, dt);
        float* norm = static_cast<float*>(ops.zeros(sizeof(float)));
        f = [=, &ctx] { cuda::global_norm(ctx, {cuda::BufferRef{g, n, dt}}, norm); };
    } else if (k == "check_nonfinite") {  // as the engine: zero the flag, then check the gradients
        const size_t n = D(0);
        void* g = ops.act(n, dt);
        int* flag = static_cast<int*>(ops.zeros(sizeof(int)));
        f = [=, &ctx] {
            LLMPLAN_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), ctx.stream()));
            cuda::check_nonfinite(ctx, g, n, dt, flag);
        };
    } else if (k == "adamw") {
        const size_t n = D(0);
        float* param = static_cast<float*>(ops.values(n, DType::fp32, -0.02f, 0.02f));
        void* grad = ops.values(n, dt, -1e-3f, 1e-3f);
        float* m = static_cast<float*>(ops.zeros(n * 4));
        float* v = static_cast<float*>(ops.zeros(n * 4));
        float* norm = ops.stat(1, 0.5f, 0.5f);
        void* copy = dt == DType::fp32 ? nullptr : ops.zeros(n * dtype_bytes(dt));
        const AdamWHyper h;
        f = [=, &ctx] { cuda::adamw_update(ctx, param, grad, dt, m, v, n, h, 1, 1.0f, norm, 1.0f, true, nullptr, copy, dt); };
    }
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
    const double t = time_calls(ctx, f, o);
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
    return t;
}

double gpu_launch_seconds(const KernelTimingOptions& o) {
    return gpu_time_engine_kernel({"residual_add", DType::fp32, {256}}, o);
}

double gpu_copy_bandwidth(size_t bytes, const KernelTimingOptions& o) {
    Context& ctx = timing_context();
    Operands ops(ctx);
    void* a = ops.zeros(bytes);
    void* b = ops.zeros(bytes);
    const double t = time_calls(
        ctx, [&] { LLMPLAN_CUDA_CHECK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, ctx.stream())); }, o);
    return 2.0 * static_cast<double>(bytes) / t;
}

}  // namespace llmplan::kernels
