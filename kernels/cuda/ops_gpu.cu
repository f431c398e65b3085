// ops_gpu.cu — the host wrappers of kernels/ops_gpu.h: upload fp32 vectors, convert to the
// storage type on the GPU, run the device function of ops.cuh, convert back and download. One
// process-wide Context on the legacy default stream (never destroyed: tearing cuBLAS down from
// a static destructor after the CUDA runtime has unloaded is unsafe).
#include "kernels/cuda/attention_tc.cuh"
#include "kernels/cuda/common.cuh"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <utility>

namespace llmplan::kernels {

namespace {

using cuda::Context;

Context& context() {
    static Context* ctx = new Context(nullptr);
    return *ctx;
}

// Owned device allocation.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes) : bytes_(bytes) {
        if (bytes > 0) LLMPLAN_CUDA_CHECK(cudaMalloc(&ptr_, bytes));
    }
    DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&&) = delete;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() {
        if (ptr_) cudaFree(ptr_);
    }
    void* get() const { return ptr_; }
    template <typename P>
    P* as() const {
        return static_cast<P*>(ptr_);
    }

private:
    void* ptr_ = nullptr;
    std::size_t bytes_ = 0;
};

void expect_size(const std::vector<float>& v, std::size_t n, const char* what) {
    if (v.size() != n)
        throw std::invalid_argument(std::string("gpu wrapper: ") + what + " has " + std::to_string(v.size()) +
                                    " values, expected " + std::to_string(n));
}

// v converted to dt on the device.
DeviceBuffer upload(const std::vector<float>& v, DType dt) {
    DeviceBuffer out(v.size() * dtype_bytes(dt));
    if (v.empty()) return out;
    if (dt == DType::fp32) {
        LLMPLAN_CUDA_CHECK(cudaMemcpy(out.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
        return out;
    }
    DeviceBuffer tmp(v.size() * sizeof(float));
    LLMPLAN_CUDA_CHECK(cudaMemcpy(tmp.get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
    cuda::convert(context(), tmp.get(), DType::fp32, out.get(), dt, v.size());
    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());  // tmp is freed on return
    return out;
}

DeviceBuffer upload_ints(const std::vector<int>& v) {
    DeviceBuffer out(v.size() * sizeof(int));
    if (!v.empty()) LLMPLAN_CUDA_CHECK(cudaMemcpy(out.get(), v.data(), v.size() * sizeof(int), cudaMemcpyHostToDevice));
    return out;
}

// n values of dt at p, synchronised (asynchronous kernel errors surface here) and in fp32.
std::vector<float> download(const void* p, std::size_t n, DType dt) {
    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<float> out(n);
    if (n == 0) return out;
    if (dt == DType::fp32) {
        LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost));
        return out;
    }
    DeviceBuffer tmp(n * sizeof(float));
    cuda::convert(context(), p, dt, tmp.get(), DType::fp32, n);
    LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), tmp.get(), n * sizeof(float), cudaMemcpyDeviceToHost));
    return out;
}

float download_scalar(const float* p) { return download(p, 1, DType::fp32)[0]; }

std::size_t count(int a, int b) { return static_cast<std::size_t>(a) * static_cast<std::size_t>(b); }

}  // namespace

std::vector<float> gpu_round(const std::vector<float>& v, DType dt) {
    const DeviceBuffer d = upload(v, dt);
    return download(d.get(), v.size(), dt);
}

// --- linear ------------------------------------------------------------------------------------

namespace {

// [rows, n] → [rows, ld] with NaN in the columns past n (ld ≤ n: unchanged).
std::vector<float> pad_rows(const std::vector<float>& v, int rows, int n, int ld) {
    if (ld <= n) return v;
    std::vector<float> out(count(rows, ld), std::numeric_limits<float>::quiet_NaN());
    for (int r = 0; r < rows; ++r)
        std::copy_n(v.begin() + static_cast<std::ptrdiff_t>(count(r, n)), n, out.begin() + static_cast<std::ptrdiff_t>(count(r, ld)));
    return out;
}

// [rows, ld] → [rows, n]; throws if a column past n is no longer NaN (the kernel wrote it).
std::vector<float> unpad_rows(const std::vector<float>& v, int rows, int n, int ld, const char* what) {
    if (ld <= n) return v;
    std::vector<float> out(count(rows, n));
    for (int r = 0; r < rows; ++r) {
        const auto row = v.begin() + static_cast<std::ptrdiff_t>(count(r, ld));
        std::copy_n(row, n, out.begin() + static_cast<std::ptrdiff_t>(count(r, n)));
        for (int j = n; j < ld; ++j)
            if (!std::isnan(row[j])) throw std::runtime_error(std::string(what) + " wrote a column past the row's end");
    }
    return out;
}

}  // namespace

std::vector<float> gpu_linear_forward(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                      int T, int k, int n, DType dt, int ld) {
    expect_size(x, count(T, k), "x");
    expect_size(w, count(n, k), "w");
    if (!b.empty()) expect_size(b, static_cast<std::size_t>(n), "b");
    if (ld < n) ld = n;
    const DeviceBuffer dx = upload(x, dt), dw = upload(w, dt), db = upload(b, dt);
    DeviceBuffer dy = upload(pad_rows(std::vector<float>(count(T, n), 0.0f), T, n, ld), dt);
    cuda::linear_forward(context(), dx.get(), dw.get(), b.empty() ? nullptr : db.get(), dy.get(), T, k, n, dt, ld);
    return unpad_rows(download(dy.get(), count(T, ld), dt), T, n, ld, "linear_forward");
}

LinearGrads gpu_linear_backward(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& dy,
                                const std::vector<float>& dw_init, const std::vector<float>& db_init, int T, int k, int n,
                                DType dt, DType grad_dt, int ld) {
    expect_size(x, count(T, k), "x");
    expect_size(w, count(n, k), "w");
    expect_size(dy, count(T, n), "dy");
    expect_size(dw_init, count(n, k), "dw_init");
    if (!db_init.empty()) expect_size(db_init, static_cast<std::size_t>(n), "db_init");
    if (ld < n) ld = n;
    const DeviceBuffer d_x = upload(x, dt), d_w = upload(w, dt), d_dy = upload(pad_rows(dy, T, n, ld), dt);
    const DeviceBuffer d_dw = upload(dw_init, grad_dt), d_db = upload(db_init, grad_dt);
    DeviceBuffer d_dx(count(T, k) * dtype_bytes(dt));
    cuda::linear_backward(context(), d_x.get(), d_w.get(), d_dy.get(), d_dx.get(), d_dw.get(),
                          db_init.empty() ? nullptr : d_db.get(), T, k, n, dt, grad_dt, ld);
    LinearGrads g;
    g.dx = download(d_dx.get(), count(T, k), dt);
    g.dw = download(d_dw.get(), count(n, k), grad_dt);
    if (!db_init.empty()) g.db = download(d_db.get(), static_cast<std::size_t>(n), grad_dt);
    return g;
}

LinearGelu gpu_linear_gelu_forward(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                   int T, int k, int n, DType dt) {
    expect_size(x, count(T, k), "x");
    expect_size(w, count(n, k), "w");
    if (!b.empty()) expect_size(b, static_cast<std::size_t>(n), "b");
    const DeviceBuffer dx = upload(x, dt), dw = upload(w, dt), db = upload(b, dt);
    DeviceBuffer pre(count(T, n) * dtype_bytes(dt)), y(count(T, n) * dtype_bytes(dt));
    cuda::linear_gelu_forward(context(), dx.get(), dw.get(), b.empty() ? nullptr : db.get(), pre.get(), y.get(), T, k, n, dt);
    return {download(pre.get(), count(T, n), dt), download(y.get(), count(T, n), dt)};
}

LinearGrads gpu_linear_backward_gelu(const std::vector<float>& x, const std::vector<float>& pre, const std::vector<float>& w,
                                     const std::vector<float>& dy, const std::vector<float>& dw_init,
                                     const std::vector<float>& db_init, int T, int k, int n, DType dt, DType grad_dt) {
    expect_size(x, count(T, k), "x");
    expect_size(pre, count(T, k), "pre");
    expect_size(w, count(n, k), "w");
    expect_size(dy, count(T, n), "dy");
    expect_size(dw_init, count(n, k), "dw_init");
    if (!db_init.empty()) expect_size(db_init, static_cast<std::size_t>(n), "db_init");
    const DeviceBuffer d_x = upload(x, dt), d_pre = upload(pre, dt), d_w = upload(w, dt), d_dy = upload(dy, dt);
    const DeviceBuffer d_dw = upload(dw_init, grad_dt), d_db = upload(db_init, grad_dt);
    DeviceBuffer d_dx(count(T, k) * dtype_bytes(dt));
    cuda::linear_backward(context(), d_x.get(), d_w.get(), d_dy.get(), d_dx.get(), d_dw.get(),
                          db_init.empty() ? nullptr : d_db.get(), T, k, n, dt, grad_dt, 0, false, d_pre.get());
    LinearGrads g;
    g.dx = download(d_dx.get(), count(T, k), dt);
    g.dw = download(d_dw.get(), count(n, k), grad_dt);
    if (!db_init.empty()) g.db = download(d_db.get(), static_cast<std::size_t>(n), grad_dt);
    return g;
}

// --- norms -------------------------------------------------------------------------------------

NormForward gpu_layernorm_forward(const std::vector<float>& x, const std::vector<float>& gamma,
                                  const std::vector<float>& beta, int T, int h, float eps, DType dt) {
    expect_size(x, count(T, h), "x");
    expect_size(gamma, static_cast<std::size_t>(h), "gamma");
    if (!beta.empty()) expect_size(beta, static_cast<std::size_t>(h), "beta");
    const DeviceBuffer d_x = upload(x, dt), d_g = upload(gamma, dt), d_b = upload(beta, dt);
    DeviceBuffer d_y(count(T, h) * dtype_bytes(dt)), d_mean(sizeof(float) * T), d_rstd(sizeof(float) * T);
    cuda::layernorm_forward(context(), d_x.get(), d_g.get(), beta.empty() ? nullptr : d_b.get(), d_y.get(),
                            d_mean.as<float>(), d_rstd.as<float>(), T, h, eps, dt);
    NormForward f;
    f.y = download(d_y.get(), count(T, h), dt);
    f.mean = download(d_mean.get(), static_cast<std::size_t>(T), DType::fp32);
    f.rstd = download(d_rstd.get(), static_cast<std::size_t>(T), DType::fp32);
    return f;
}

NormGrads gpu_layernorm_backward(const std::vector<float>& x, const std::vector<float>& gamma, const std::vector<float>& mean,
                                 const std::vector<float>& rstd, const std::vector<float>& dy,
                                 const std::vector<float>& dgamma_init, const std::vector<float>& dbeta_init, int T, int h,
                                 DType dt, DType grad_dt) {
    expect_size(x, count(T, h), "x");
    expect_size(dy, count(T, h), "dy");
    expect_size(gamma, static_cast<std::size_t>(h), "gamma");
    expect_size(mean, static_cast<std::size_t>(T), "mean");
    expect_size(rstd, static_cast<std::size_t>(T), "rstd");
    expect_size(dgamma_init, static_cast<std::size_t>(h), "dgamma_init");
    if (!dbeta_init.empty()) expect_size(dbeta_init, static_cast<std::size_t>(h), "dbeta_init");
    const DeviceBuffer d_x = upload(x, dt), d_g = upload(gamma, dt), d_dy = upload(dy, dt);
    const DeviceBuffer d_mean = upload(mean, DType::fp32), d_rstd = upload(rstd, DType::fp32);
    const DeviceBuffer d_dg = upload(dgamma_init, grad_dt), d_db = upload(dbeta_init, grad_dt);
    DeviceBuffer d_dx(count(T, h) * dtype_bytes(dt));
    cuda::layernorm_backward(context(), d_x.get(), d_g.get(), d_mean.as<float>(), d_rstd.as<float>(), d_dy.get(), d_dx.get(),
                             d_dg.get(), dbeta_init.empty() ? nullptr : d_db.get(), T, h, dt, grad_dt);
    NormGrads g;
    g.dx = download(d_dx.get(), count(T, h), dt);
    g.dgamma = download(d_dg.get(), static_cast<std::size_t>(h), grad_dt);
    if (!dbeta_init.empty()) g.dbeta = download(d_db.get(), static_cast<std::size_t>(h), grad_dt);
    return g;
}

NormForward gpu_rmsnorm_forward(const std::vector<float>& x, const std::vector<float>& gamma, int T, int h, float eps,
                                DType dt) {
    expect_size(x, count(T, h), "x");
    expect_size(gamma, static_cast<std::size_t>(h), "gamma");
    const DeviceBuffer d_x = upload(x, dt), d_g = upload(gamma, dt);
    DeviceBuffer d_y(count(T, h) * dtype_bytes(dt)), d_rstd(sizeof(float) * T);
    cuda::rmsnorm_forward(context(), d_x.get(), d_g.get(), d_y.get(), d_rstd.as<float>(), T, h, eps, dt);
    NormForward f;
    f.y = download(d_y.get(), count(T, h), dt);
    f.rstd = download(d_rstd.get(), static_cast<std::size_t>(T), DType::fp32);
    return f;
}

NormGrads gpu_rmsnorm_backward(const std::vector<float>& x, const std::vector<float>& gamma, const std::vector<float>& rstd,
                               const std::vector<float>& dy, const std::vector<float>& dgamma_init, int T, int h, DType dt,
                               DType grad_dt) {
    expect_size(x, count(T, h), "x");
    expect_size(dy, count(T, h), "dy");
    expect_size(gamma, static_cast<std::size_t>(h), "gamma");
    expect_size(rstd, static_cast<std::size_t>(T), "rstd");
    expect_size(dgamma_init, static_cast<std::size_t>(h), "dgamma_init");
    const DeviceBuffer d_x = upload(x, dt), d_g = upload(gamma, dt), d_dy = upload(dy, dt);
    const DeviceBuffer d_rstd = upload(rstd, DType::fp32), d_dg = upload(dgamma_init, grad_dt);
    DeviceBuffer d_dx(count(T, h) * dtype_bytes(dt));
    cuda::rmsnorm_backward(context(), d_x.get(), d_g.get(), d_rstd.as<float>(), d_dy.get(), d_dx.get(), d_dg.get(), T, h, dt,
                           grad_dt);
    NormGrads g;
    g.dx = download(d_dx.get(), count(T, h), dt);
    g.dgamma = download(d_dg.get(), static_cast<std::size_t>(h), grad_dt);
    return g;
}

// --- element-wise --------------------------------------------------------------------------------

std::vector<float> gpu_gelu_forward(const std::vector<float>& x, DType dt) {
    const DeviceBuffer d_x = upload(x, dt);
    DeviceBuffer d_y(x.size() * dtype_bytes(dt));
    cuda::gelu_forward(context(), d_x.get(), d_y.get(), x.size(), dt);
    return download(d_y.get(), x.size(), dt);
}

std::vector<float> gpu_gelu_backward(const std::vector<float>& x, const std::vector<float>& dy, DType dt) {
    expect_size(dy, x.size(), "dy");
    const DeviceBuffer d_x = upload(x, dt), d_dy = upload(dy, dt);
    DeviceBuffer d_dx(x.size() * dtype_bytes(dt));
    cuda::gelu_backward(context(), d_x.get(), d_dy.get(), d_dx.get(), x.size(), dt);
    return download(d_dx.get(), x.size(), dt);
}

std::vector<float> gpu_swiglu_forward(const std::vector<float>& gate, const std::vector<float>& up, DType dt) {
    expect_size(up, gate.size(), "up");
    const DeviceBuffer d_g = upload(gate, dt), d_u = upload(up, dt);
    DeviceBuffer d_y(gate.size() * dtype_bytes(dt));
    cuda::swiglu_forward(context(), d_g.get(), d_u.get(), d_y.get(), gate.size(), dt);
    return download(d_y.get(), gate.size(), dt);
}

SwigluGrads gpu_swiglu_backward(const std::vector<float>& gate, const std::vector<float>& up, const std::vector<float>& dy,
                                DType dt) {
    expect_size(up, gate.size(), "up");
    expect_size(dy, gate.size(), "dy");
    const DeviceBuffer d_g = upload(gate, dt), d_u = upload(up, dt), d_dy = upload(dy, dt);
    DeviceBuffer d_dg(gate.size() * dtype_bytes(dt)), d_du(gate.size() * dtype_bytes(dt));
    cuda::swiglu_backward(context(), d_g.get(), d_u.get(), d_dy.get(), d_dg.get(), d_du.get(), gate.size(), dt);
    SwigluGrads g;
    g.dgate = download(d_dg.get(), gate.size(), dt);
    g.dup = download(d_du.get(), gate.size(), dt);
    return g;
}

std::vector<float> gpu_rotary_forward(const std::vector<float>& x, int B, int S, int heads, int d, float base, DType dt) {
    expect_size(x, count(B, S) * count(heads, d), "x");
    DeviceBuffer d_x = upload(x, dt);
    cuda::rotary_forward(context(), d_x.get(), B, S, heads, d, base, dt);
    return download(d_x.get(), x.size(), dt);
}

std::vector<float> gpu_rotary_backward(const std::vector<float>& dx, int B, int S, int heads, int d, float base, DType dt) {
    expect_size(dx, count(B, S) * count(heads, d), "dx");
    DeviceBuffer d_x = upload(dx, dt);
    cuda::rotary_backward(context(), d_x.get(), B, S, heads, d, base, dt);
    return download(d_x.get(), dx.size(), dt);
}

std::vector<float> gpu_residual_add(const std::vector<float>& a, const std::vector<float>& b, DType dt) {
    expect_size(b, a.size(), "b");
    DeviceBuffer d_a = upload(a, dt);
    const DeviceBuffer d_b = upload(b, dt);
    cuda::residual_add(context(), d_a.get(), d_b.get(), d_a.get(), a.size(), dt);  // in place, as the engine does
    return download(d_a.get(), a.size(), dt);
}

// --- attention ---------------------------------------------------------------------------------

const char* attention_kind_name(AttentionKind kind) { return kind == AttentionKind::eager ? "eager" : "flash"; }

bool flash_uses_tensor_cores(DType dt, int d) { return cuda::flash_tc_supported(dt, d, {}); }

AttentionForward gpu_attention_forward(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                       int B, int S, int heads, int kv_heads, int d, AttentionKind kind, DType dt,
                                       int window) {
    const std::size_t nq = count(B, S) * count(heads, d), nkv = count(B, S) * count(kv_heads, d);
    expect_size(q, nq, "q");
    expect_size(k, nkv, "k");
    expect_size(v, nkv, "v");
    const DeviceBuffer d_q = upload(q, dt), d_k = upload(k, dt), d_v = upload(v, dt);
    DeviceBuffer d_o(nq * dtype_bytes(dt));
    AttentionForward f;
    if (kind == AttentionKind::eager) {
        const std::size_t np = count(B, heads) * count(S, S);
        DeviceBuffer d_p(np * dtype_bytes(dt));
        cuda::attention_eager_forward(context(), d_q.get(), d_k.get(), d_v.get(), d_o.get(), d_p.get(), B, S, heads, kv_heads,
                                      d, dt, window);
        f.out = download(d_o.get(), nq, dt);
        f.probs = download(d_p.get(), np, dt);
    } else {
        const std::size_t nl = count(B, heads) * static_cast<std::size_t>(S);
        DeviceBuffer d_l(nl * sizeof(float));
        cuda::attention_flash_forward(context(), d_q.get(), d_k.get(), d_v.get(), d_o.get(), d_l.as<float>(), B, S, heads,
                                      kv_heads, d, dt, window);
        f.out = download(d_o.get(), nq, dt);
        f.lse = download(d_l.get(), nl, DType::fp32);
    }
    return f;
}

AttentionGrads gpu_attention_backward(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                      const std::vector<float>& out, const std::vector<float>& probs,
                                      const std::vector<float>& lse, const std::vector<float>& dout, int B, int S, int heads,
                                      int kv_heads, int d, AttentionKind kind, DType dt, int window) {
    const std::size_t nq = count(B, S) * count(heads, d), nkv = count(B, S) * count(kv_heads, d);
    expect_size(q, nq, "q");
    expect_size(k, nkv, "k");
    expect_size(v, nkv, "v");
    expect_size(out, nq, "out");
    expect_size(dout, nq, "dout");
    const DeviceBuffer d_q = upload(q, dt), d_k = upload(k, dt), d_v = upload(v, dt), d_o = upload(out, dt),
                       d_do = upload(dout, dt);
    DeviceBuffer d_dq(nq * dtype_bytes(dt)), d_dk(nkv * dtype_bytes(dt)), d_dv(nkv * dtype_bytes(dt));
    if (kind == AttentionKind::eager) {
        expect_size(probs, count(B, heads) * count(S, S), "probs");
        const DeviceBuffer d_p = upload(probs, dt);
        cuda::attention_eager_backward(context(), d_q.get(), d_k.get(), d_v.get(), d_p.get(), d_do.get(), d_dq.get(),
                                       d_dk.get(), d_dv.get(), B, S, heads, kv_heads, d, dt);
        LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());  // before d_p is freed
    } else {
        expect_size(lse, count(B, heads) * static_cast<std::size_t>(S), "lse");
        const DeviceBuffer d_l = upload(lse, DType::fp32);
        cuda::attention_flash_backward(context(), d_q.get(), d_k.get(), d_v.get(), d_o.get(), d_l.as<float>(), d_do.get(),
                                       d_dq.get(), d_dk.get(), d_dv.get(), B, S, heads, kv_heads, d, dt, window);
        LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    }
    AttentionGrads g;
    g.dq = download(d_dq.get(), nq, dt);
    g.dk = download(d_dk.get(), nkv, dt);
    g.dv = download(d_dv.get(), nkv, dt);
    return g;
}

// --- loss, embedding -------------------------------------------------------------------------------

CrossEntropyResult gpu_cross_entropy_forward_backward(const std::vector<float>& logits, const std::vector<int>& targets,
                                                      int T, int V, DType dt, int ld) {
    expect_size(logits, count(T, V), "logits");
    if (targets.size() != static_cast<std::size_t>(T)) throw std::invalid_argument("gpu wrapper: targets must have T values");
    if (ld < V) ld = V;
    DeviceBuffer d_l = upload(pad_rows(logits, T, V, ld), dt);
    const DeviceBuffer d_t = upload_ints(targets);
    DeviceBuffer d_loss(sizeof(float));
    cuda::cross_entropy(context(), d_l.get(), d_t.as<int>(), d_loss.as<float>(), T, V, dt, true, 1.0f, ld);
    CrossEntropyResult r;
    r.loss = download_scalar(d_loss.as<float>());
    r.dlogits = unpad_rows(download(d_l.get(), count(T, ld), dt), T, V, ld, "cross_entropy");
    return r;
}

float gpu_cross_entropy_forward(const std::vector<float>& logits, const std::vector<int>& targets, int T, int V, DType dt) {
    expect_size(logits, count(T, V), "logits");
    if (targets.size() != static_cast<std::size_t>(T)) throw std::invalid_argument("gpu wrapper: targets must have T values");
    DeviceBuffer d_l = upload(logits, dt);
    const DeviceBuffer d_t = upload_ints(targets);
    DeviceBuffer d_loss(sizeof(float));
    cuda::cross_entropy(context(), d_l.get(), d_t.as<int>(), d_loss.as<float>(), T, V, dt, false);
    return download_scalar(d_loss.as<float>());
}

std::vector<float> gpu_embedding_forward(const std::vector<float>& table, const std::vector<int>& ids, int T, int h,
                                         DType dt) {
    if (ids.size() != static_cast<std::size_t>(T)) throw std::invalid_argument("gpu wrapper: ids must have T values");
    const DeviceBuffer d_tab = upload(table, dt), d_ids = upload_ints(ids);
    DeviceBuffer d_y(count(T, h) * dtype_bytes(dt));
    cuda::embedding_forward(context(), d_tab.get(), d_ids.as<int>(), d_y.get(), T, h, dt);
    return download(d_y.get(), count(T, h), dt);
}

std::vector<float> gpu_embedding_backward(const std::vector<int>& ids, const std::vector<float>& dy,
                                          const std::vector<float>& dtable_init, int T, int h, DType dt, DType grad_dt) {
    if (ids.size() != static_cast<std::size_t>(T)) throw std::invalid_argument("gpu wrapper: ids must have T values");
    expect_size(dy, count(T, h), "dy");
    const DeviceBuffer d_ids = upload_ints(ids), d_dy = upload(dy, dt);
    DeviceBuffer d_tab = upload(dtable_init, grad_dt);
    cuda::embedding_backward(context(), d_ids.as<int>(), d_dy.get(), d_tab.get(), T, h, dt, grad_dt);
    return download(d_tab.get(), dtable_init.size(), grad_dt);
}

// --- optimizer, mixed precision ----------------------------------------------------------------------

float gpu_global_norm(const std::vector<std::vector<float>>& buffers, DType dt) {
    std::vector<DeviceBuffer> dev;
    std::vector<cuda::BufferRef> refs;
    for (const auto& b : buffers) {
        dev.push_back(upload(b, dt));
        refs.push_back({dev.back().get(), b.size(), dt});
    }
    DeviceBuffer d_norm(sizeof(float));
    cuda::global_norm(context(), refs, d_norm.as<float>());
    return download_scalar(d_norm.as<float>());
}

AdamWState gpu_adamw_update(const std::vector<float>& param, const std::vector<float>& grad, const std::vector<float>& m,
                            const std::vector<float>& v, const AdamWHyper& hyper, int step, float grad_scale, bool decay,
                            DType grad_dt, bool clip_on_device, float max_grad_norm, DType copy_dt) {
    const std::size_t n = param.size();
    expect_size(grad, n, "grad");
    expect_size(m, n, "m");
    expect_size(v, n, "v");
    DeviceBuffer d_p = upload(param, DType::fp32), d_m = upload(m, DType::fp32), d_v = upload(v, DType::fp32);
    const DeviceBuffer d_g = upload(grad, grad_dt);
    DeviceBuffer d_copy(n * dtype_bytes(copy_dt)), d_norm(sizeof(float));
    if (clip_on_device) cuda::global_norm(context(), {{d_g.get(), n, grad_dt}}, d_norm.as<float>());
    cuda::adamw_update(context(), d_p.as<float>(), d_g.get(), grad_dt, d_m.as<float>(), d_v.as<float>(), n, hyper, step,
                       grad_scale, clip_on_device ? d_norm.as<float>() : nullptr, max_grad_norm, decay, nullptr,
                       d_copy.get(), copy_dt);
    AdamWState s;
    s.param = download(d_p.get(), n, DType::fp32);
    s.m = download(d_m.get(), n, DType::fp32);
    s.v = download(d_v.get(), n, DType::fp32);
    s.param_copy = download(d_copy.get(), n, copy_dt);
    return s;
}

bool gpu_has_nonfinite(const std::vector<float>& v, DType dt) {
    const DeviceBuffer d = upload(v, dt);
    DeviceBuffer flag(sizeof(int));
    LLMPLAN_CUDA_CHECK(cudaMemset(flag.get(), 0, sizeof(int)));
    cuda::check_nonfinite(context(), d.get(), v.size(), dt, flag.as<int>());
    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    int h = 0;
    LLMPLAN_CUDA_CHECK(cudaMemcpy(&h, flag.get(), sizeof(int), cudaMemcpyDeviceToHost));
    return h != 0;
}

LossScaleState gpu_update_loss_scale(LossScaleState state, bool found_nonfinite, float growth, float backoff, int interval) {
    DeviceBuffer d_scale(sizeof(float)), d_good(sizeof(int)), d_found(sizeof(int));
    const int found = found_nonfinite ? 1 : 0;
    LLMPLAN_CUDA_CHECK(cudaMemcpy(d_scale.get(), &state.scale, sizeof(float), cudaMemcpyHostToDevice));
    LLMPLAN_CUDA_CHECK(cudaMemcpy(d_good.get(), &state.good_steps, sizeof(int), cudaMemcpyHostToDevice));
    LLMPLAN_CUDA_CHECK(cudaMemcpy(d_found.get(), &found, sizeof(int), cudaMemcpyHostToDevice));
    cuda::update_loss_scale(context(), d_scale.as<float>(), d_good.as<int>(), d_found.as<int>(), growth, backoff, interval);
    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    LossScaleState out;
    LLMPLAN_CUDA_CHECK(cudaMemcpy(&out.scale, d_scale.get(), sizeof(float), cudaMemcpyDeviceToHost));
    LLMPLAN_CUDA_CHECK(cudaMemcpy(&out.good_steps, d_good.get(), sizeof(int), cudaMemcpyDeviceToHost));
    return out;
}

// --- timings -----------------------------------------------------------------------------------

namespace {

DeviceBuffer random_buffer(std::size_t n, DType dt, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return upload(v, dt);
}

// Median of `iters` timed runs of f (CUDA events on the context's stream), after 2 warm-ups.
double median_ms(const std::function<void()>& f, int iters) {
    cudaEvent_t start = nullptr, stop = nullptr;
    LLMPLAN_CUDA_CHECK(cudaEventCreate(&start));
    LLMPLAN_CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<double> ms;
    try {
        for (int i = 0; i < 2; ++i) f();
        for (int i = 0; i < std::max(1, iters); ++i) {
            LLMPLAN_CUDA_CHECK(cudaEventRecord(start, context().stream()));
            f();
            LLMPLAN_CUDA_CHECK(cudaEventRecord(stop, context().stream()));
            LLMPLAN_CUDA_CHECK(cudaEventSynchronize(stop));
            float t = 0;
            LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&t, start, stop));
            ms.push_back(t);
        }
    } catch (...) {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
        throw;
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

}  // namespace

KernelTiming gpu_time_attention(int B, int S, int heads, int kv_heads, int d, AttentionKind kind, DType dt, int iters) {
    const std::size_t nq = count(B, S) * count(heads, d), nkv = count(B, S) * count(kv_heads, d);
    const DeviceBuffer q = random_buffer(nq, dt, 1), k = random_buffer(nkv, dt, 2), v = random_buffer(nkv, dt, 3),
                       dout = random_buffer(nq, dt, 4);
    DeviceBuffer out(nq * dtype_bytes(dt)), dq(nq * dtype_bytes(dt)), dk(nkv * dtype_bytes(dt)), dv(nkv * dtype_bytes(dt));
    Context& ctx = context();
    KernelTiming t;
    if (kind == AttentionKind::eager) {
        DeviceBuffer probs(count(B, heads) * count(S, S) * dtype_bytes(dt));
        t.forward_ms = median_ms(
            [&] {
                cuda::attention_eager_forward(ctx, q.get(), k.get(), v.get(), out.get(), probs.get(), B, S, heads, kv_heads,
                                              d, dt);
            },
            iters);
        t.backward_ms = median_ms(
            [&] {
                cuda::attention_eager_backward(ctx, q.get(), k.get(), v.get(), probs.get(), dout.get(), dq.get(), dk.get(),
                                               dv.get(), B, S, heads, kv_heads, d, dt);
            },
            iters);
    } else {
        DeviceBuffer lse(count(B, heads) * static_cast<std::size_t>(S) * sizeof(float));
        t.forward_ms = median_ms(
            [&] {
                cuda::attention_flash_forward(ctx, q.get(), k.get(), v.get(), out.get(), lse.as<float>(), B, S, heads,
                                              kv_heads, d, dt);
            },
            iters);
        t.backward_ms = median_ms(
            [&] {
                cuda::attention_flash_backward(ctx, q.get(), k.get(), v.get(), out.get(), lse.as<float>(), dout.get(),
                                               dq.get(), dk.get(), dv.get(), B, S, heads, kv_heads, d, dt);
            },
            iters);
    }
    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    return t;
}

KernelTiming gpu_time_linear(int T, int k, int n, DType dt, int iters) {
    const DeviceBuffer x = random_buffer(count(T, k), dt, 5), w = random_buffer(count(n, k), dt, 6),
                       b = random_buffer(static_cast<std::size_t>(n), dt, 7), dy = random_buffer(count(T, n), dt, 8);
    DeviceBuffer y(count(T, n) * dtype_bytes(dt)), dx(count(T, k) * dtype_bytes(dt)), dw(count(n, k) * dtype_bytes(dt)),
        db(static_cast<std::size_t>(n) * dtype_bytes(dt));
    Context& ctx = context();
    KernelTiming t;
    t.forward_ms = median_ms([&] { cuda::linear_forward(ctx, x.get(), w.get(), b.get(), y.get(), T, k, n, dt); }, iters);
    t.backward_ms = median_ms(
        [&] {
            cuda::linear_backward(ctx, x.get(), w.get(), dy.get(), dx.get(), dw.get(), db.get(), T, k, n, dt, dt);
        },
        iters);
    LLMPLAN_CUDA_CHECK(cudaDeviceSynchronize());
    return t;
}

}  // namespace llmplan::kernels
