// gpu_kernels.cpp — every CUDA kernel of the training engine against the CPU reference
// (ctest: gpu.kernels, label gpu). Exits 77 (ctest "Skipped") where there is no driver or GPU, 0
// when every check is within its tolerance, 1 otherwise; prints one row per compared tensor.
//
// Inputs are random (fixed seeds) and are first rounded to the storage type on the GPU
// (gpu_round), and those same rounded values feed the reference, so each row measures the
// kernel's own error, not the input's rounding. The error of a tensor is the normalised maximum
//     err = max_i |gpu_i − ref_i| / max_i |ref_i|
// (scalars: |gpu − ref| / |ref|). Tolerances, from each storage type's unit roundoff u
// (fp32 2^−24, bf16 2^−8, fp16 2^−11) and how many roundings an op's result goes through:
//   fp32  1e-4 for every op: fp32 arithmetic against a double reference; sums over a few
//         hundred terms in varying order (GEMMs, norms, attention) stay near 1e-6, and
//         __expf's relative error (~2^−21) enters the softmaxes.
//   bf16  1e-2 (≈ 2.5 u) for ops whose result is rounded to bf16 once (element-wise, norms,
//         linear, rotary, cross-entropy, embedding lookup, attention forward);
//         3e-2 (≈ 8 u) for the attention backward (eager keeps P and dS in bf16 and feeds them to
//         the next GEMMs; dS = P∘(dP − D) cancels, which magnifies dP's rounding) and for the
//         embedding backward with bf16 gradients (one rounding per atomicAdd of a repeated id).
//   fp16  2e-3 and 6e-3 for the same two classes (fp16 has 3 more mantissa bits than bf16).
// Parameter gradients stored in fp32 while activations are bf16 (the mixed-precision engine's
// choice) are checked at bf16's tolerance, since their inputs are bf16 products.
#include "kernels/device.h"
#include "kernels/ops_gpu.h"
#include "reference/ops.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using llmplan::kernels::AttentionKind;
using llmplan::DType;
namespace gpu = llmplan::kernels;
namespace ref = llmplan::reference;

using Vec = std::vector<float>;

enum class Class { single, accumulating };

double tolerance(DType dt, Class c) {
    switch (dt) {
    case DType::fp32: return 1e-4;
    case DType::bf16: return c == Class::single ? 1e-2 : 3e-2;
    case DType::fp16: return c == Class::single ? 2e-3 : 6e-3;
    }
    return 0;
}

struct Row {
    std::string op, shape, dtype, tensor;
    double err = 0, tol = 0;
    bool pass = false;
    std::string note;
};
std::vector<Row> g_rows;

double normalised_error(const Vec& got, const Vec& want) {
    if (got.size() != want.size()) return INFINITY;
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - want[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

struct Case;
Row make_row(const Case& c, const std::string& tensor);

struct Case {
    std::string op, shape;
    DType dt;
    void check(const std::string& tensor, const Vec& got, const Vec& want, Class c = Class::single,
               DType tol_dt = DType::fp32) const {
        Row r = make_row(*this, tensor);
        r.err = normalised_error(got, want);
        r.tol = tolerance(tol_dt == DType::fp32 ? dt : tol_dt, c);
        r.pass = r.err <= r.tol;
        g_rows.push_back(r);
    }
    // With an explicit tolerance (stated where it is used).
    void check_tol(const std::string& tensor, const Vec& got, const Vec& want, double tol) const {
        Row r = make_row(*this, tensor);
        r.err = normalised_error(got, want);
        r.tol = tol;
        r.pass = r.err <= r.tol;
        g_rows.push_back(r);
    }
    void check_scalar(const std::string& tensor, double got, double want, Class c = Class::single) const {
        Row r = make_row(*this, tensor);
        r.err = std::isfinite(got) ? std::fabs(got - want) / std::max(std::fabs(want), 1e-30) : INFINITY;
        r.tol = tolerance(dt, c);
        r.pass = r.err <= r.tol;
        g_rows.push_back(r);
    }
    void check_true(const std::string& tensor, bool ok, const std::string& note) const {
        Row r = make_row(*this, tensor);
        r.err = ok ? 0 : 1;
        r.tol = 0;
        r.pass = ok;
        r.note = note;
        g_rows.push_back(r);
    }
};

Row make_row(const Case& c, const std::string& tensor) {
    Row r;
    r.op = c.op;
    r.shape = c.shape;
    r.dtype = to_string(c.dt);
    r.tensor = tensor;
    return r;
}

// Runs one case; an exception becomes a failed row instead of ending the run.
void run_case(const Case& c, const std::function<void(const Case&)>& body) {
    try {
        body(c);
    } catch (const std::exception& e) {
        Row r = make_row(c, "(exception)");
        r.err = INFINITY;
        r.note = e.what();
        g_rows.push_back(r);
    }
}

std::mt19937 g_rng(20251125);

Vec randn(std::size_t n, float stddev = 1.0f, float mean = 0.0f) {
    std::normal_distribution<float> d(mean, stddev);
    Vec v(n);
    for (float& x : v) x = d(g_rng);
    return v;
}

Vec uniform(std::size_t n, float lo, float hi) {
    std::uniform_real_distribution<float> d(lo, hi);
    Vec v(n);
    for (float& x : v) x = d(g_rng);
    return v;
}

// Random values as stored in dt.
Vec randn_dt(std::size_t n, DType dt, float stddev = 1.0f, float mean = 0.0f) {
    return gpu::gpu_round(randn(n, stddev, mean), dt);
}

std::string dims(std::initializer_list<std::pair<const char*, int>> ds) {
    std::string s;
    for (const auto& [name, v] : ds) {
        if (!s.empty()) s += ' ';
        s.append(name).append("=").append(std::to_string(v));
    }
    return s;
}

std::size_t sz(int a) { return static_cast<std::size_t>(a); }

const DType kTypes[] = {DType::fp32, DType::bf16, DType::fp16};

// Parameter-gradient storage types checked with storage type dt: dt itself, and for bf16 also
// fp32 (the mixed-precision engine's choice).
std::vector<DType> grad_types(DType dt) {
    if (dt == DType::bf16) return {DType::bf16, DType::fp32};
    return {dt};
}

// --- the cases ---------------------------------------------------------------------------------

void test_linear() {
    struct Shape {
        int T, k, n;
        bool bias;
        int ld;  // the output's (and its gradient's) row stride; 0 = n
    };
    // The last two: the engine's padded logits (linear.cu splits 16-bit products at ⌊n/64⌋·64 when
    // the row stride is 16-byte aligned): a main part and a tail, with and without bias; the
    // columns past n hold NaN, so reading them would show, and writing them throws.
    for (const Shape s : {Shape{64, 96, 80, true, 0}, Shape{37, 256, 384, false, 0}, Shape{50, 70, 90, true, 0},
                          Shape{50, 64, 100, true, 128}, Shape{33, 64, 50257, false, 50304}})
        for (DType dt : kTypes) {
            const std::string shape = dims({{"T", s.T}, {"k", s.k}, {"n", s.n}}) + (s.ld ? " ld=" + std::to_string(s.ld) : "") +
                                      (s.bias ? " bias" : "");
            run_case({"linear fwd", shape, dt}, [&](const Case& c) {
                const Vec x = randn_dt(sz(s.T) * sz(s.k), dt), w = randn_dt(sz(s.n) * sz(s.k), dt, 0.1f);
                const Vec b = s.bias ? randn_dt(sz(s.n), dt) : Vec{};
                Vec y(sz(s.T) * sz(s.n));
                ref::linear_forward(x.data(), w.data(), s.bias ? b.data() : nullptr, y.data(), s.T, s.k, s.n);
                c.check("y", gpu::gpu_linear_forward(x, w, b, s.T, s.k, s.n, dt, s.ld), y);
            });
            for (DType gdt : grad_types(dt)) {
                const std::string label = gdt == dt ? "linear bwd" : "linear bwd (fp32 grads)";
                run_case({label, shape, dt}, [&](const Case& c) {
                    const Vec x = randn_dt(sz(s.T) * sz(s.k), dt), w = randn_dt(sz(s.n) * sz(s.k), dt, 0.1f);
                    const Vec dy = randn_dt(sz(s.T) * sz(s.n), dt);
                    const Vec dw0 = randn_dt(sz(s.n) * sz(s.k), gdt, 2.0f);
                    const Vec db0 = s.bias ? randn_dt(sz(s.n), gdt, 2.0f) : Vec{};
                    Vec dx(sz(s.T) * sz(s.k)), dw = dw0, db = db0;
                    ref::linear_backward(x.data(), w.data(), dy.data(), dx.data(), dw.data(), s.bias ? db.data() : nullptr,
                                         s.T, s.k, s.n);
                    const gpu::LinearGrads g = gpu::gpu_linear_backward(x, w, dy, dw0, db0, s.T, s.k, s.n, dt, gdt, s.ld);
                    c.check("dx", g.dx, dx);
                    c.check("dw (+=)", g.dw, dw);
                    if (s.bias) c.check("db (+=)", g.db, db);
                });
            }
        }
    // GPT-2's MLP with the GELU in the GEMMs' epilogues (16-bit; fp32 runs the separate kernels):
    // fc forward (pre and GELU(pre)), and the down projection's backward through GELU' (dx is the
    // gradient of pre). d_ff 3,072-like multiples of 8; T not a multiple of the tiles.
    for (const Shape s : {Shape{50, 64, 96, true, 0}, Shape{37, 128, 256, false, 0}})
        for (DType dt : kTypes) {
            const std::string shape = dims({{"T", s.T}, {"k", s.k}, {"n", s.n}}) + (s.bias ? " bias" : "");
            run_case({"linear+gelu fwd", shape, dt}, [&](const Case& c) {
                const Vec x = randn_dt(sz(s.T) * sz(s.k), dt), w = randn_dt(sz(s.n) * sz(s.k), dt, 0.1f);
                const Vec b = s.bias ? randn_dt(sz(s.n), dt) : Vec{};
                Vec pre(sz(s.T) * sz(s.n)), y(pre.size());
                ref::linear_forward(x.data(), w.data(), s.bias ? b.data() : nullptr, pre.data(), s.T, s.k, s.n);
                ref::gelu_forward(pre.data(), y.data(), y.size());
                const gpu::LinearGelu g = gpu::gpu_linear_gelu_forward(x, w, b, s.T, s.k, s.n, dt);
                c.check("pre", g.pre, pre);
                c.check("y = gelu(pre)", g.y, y);
            });
            // The down projection: input x = GELU(pre) [T, n] → output [T, k]; dy [T, k].
            run_case({"linear bwd through gelu", shape, dt}, [&](const Case& c) {
                const Vec pre = randn_dt(sz(s.T) * sz(s.n), dt);
                Vec x(pre.size());
                ref::gelu_forward(pre.data(), x.data(), x.size());
                const Vec xr = gpu::gpu_round(x, dt);
                const Vec w = randn_dt(sz(s.k) * sz(s.n), dt, 0.1f), dy = randn_dt(sz(s.T) * sz(s.k), dt);
                const DType gdt = dt == DType::fp32 ? dt : DType::fp32;
                const Vec dw0 = randn_dt(sz(s.k) * sz(s.n), gdt, 2.0f);
                const Vec db0 = s.bias ? randn_dt(sz(s.k), gdt, 2.0f) : Vec{};
                Vec dx(pre.size()), dpre(pre.size()), dw = dw0, db = db0;
                ref::linear_backward(xr.data(), w.data(), dy.data(), dx.data(), dw.data(), s.bias ? db.data() : nullptr, s.T,
                                     s.n, s.k);
                ref::gelu_backward(pre.data(), dx.data(), dpre.data(), dpre.size());
                const gpu::LinearGrads g = gpu::gpu_linear_backward_gelu(xr, pre, w, dy, dw0, db0, s.T, s.n, s.k, dt, gdt);
                c.check("dpre", g.dx, dpre);
                c.check("dw (+=)", g.dw, dw);
                if (s.bias) c.check("db (+=)", g.db, db);
            });
        }
}

void test_norms() {
    struct Shape {
        int T, h;
    };
    const float eps = 1e-5f;
    for (const Shape s : {Shape{64, 768}, Shape{17, 1000}, Shape{300, 64}})
        for (DType dt : kTypes) {
            const std::string shape = dims({{"T", s.T}, {"h", s.h}});
            const std::size_t n = sz(s.T) * sz(s.h);
            run_case({"layernorm fwd+bwd", shape, dt}, [&](const Case& c) {
                const Vec x = randn_dt(n, dt, 2.0f, 0.5f), gamma = randn_dt(sz(s.h), dt, 0.2f, 1.0f),
                          beta = randn_dt(sz(s.h), dt, 0.2f);
                Vec y(n), mean(sz(s.T)), rstd(sz(s.T));
                ref::layernorm_forward(x.data(), gamma.data(), beta.data(), y.data(), mean.data(), rstd.data(), s.T, s.h,
                                       eps);
                const gpu::NormForward f = gpu::gpu_layernorm_forward(x, gamma, beta, s.T, s.h, eps, dt);
                c.check("y", f.y, y);
                c.check("mean", f.mean, mean);
                c.check("rstd", f.rstd, rstd);
                const Vec dy = randn_dt(n, dt), dg0 = randn_dt(sz(s.h), dt), db0 = randn_dt(sz(s.h), dt);
                Vec dx(n), dg = dg0, db = db0;
                ref::layernorm_backward(x.data(), gamma.data(), mean.data(), rstd.data(), dy.data(), dx.data(), dg.data(),
                                        db.data(), s.T, s.h);
                const gpu::NormGrads g = gpu::gpu_layernorm_backward(x, gamma, mean, rstd, dy, dg0, db0, s.T, s.h, dt, dt);
                c.check("dx", g.dx, dx);
                c.check("dgamma (+=)", g.dgamma, dg);
                c.check("dbeta (+=)", g.dbeta, db);
            });
            run_case({"rmsnorm fwd+bwd", shape, dt}, [&](const Case& c) {
                const Vec x = randn_dt(n, dt, 2.0f, 0.5f), gamma = randn_dt(sz(s.h), dt, 0.2f, 1.0f);
                Vec y(n), rstd(sz(s.T));
                ref::rmsnorm_forward(x.data(), gamma.data(), y.data(), rstd.data(), s.T, s.h, eps);
                const gpu::NormForward f = gpu::gpu_rmsnorm_forward(x, gamma, s.T, s.h, eps, dt);
                c.check("y", f.y, y);
                c.check("rstd", f.rstd, rstd);
                const Vec dy = randn_dt(n, dt), dg0 = randn_dt(sz(s.h), DType::fp32);
                Vec dx(n), dg = dg0;
                ref::rmsnorm_backward(x.data(), gamma.data(), rstd.data(), dy.data(), dx.data(), dg.data(), s.T, s.h);
                // fp32 parameter gradients here (the other storage choice; layernorm above uses dt).
                const gpu::NormGrads g = gpu::gpu_rmsnorm_backward(x, gamma, rstd, dy, dg0, s.T, s.h, dt, DType::fp32);
                c.check("dx", g.dx, dx);
                c.check("dgamma (+=, fp32)", g.dgamma, dg);
            });
        }
}

void test_elementwise() {
    const std::size_t n = 100003;
    for (DType dt : kTypes) {
        const std::string shape = "n=" + std::to_string(n);
        run_case({"gelu fwd+bwd", shape, dt}, [&](const Case& c) {
            const Vec x = gpu::gpu_round(uniform(n, -6.0f, 6.0f), dt), dy = randn_dt(n, dt);
            Vec y(n), dx(n);
            ref::gelu_forward(x.data(), y.data(), n);
            ref::gelu_backward(x.data(), dy.data(), dx.data(), n);
            c.check("y", gpu::gpu_gelu_forward(x, dt), y);
            c.check("dx", gpu::gpu_gelu_backward(x, dy, dt), dx);
        });
        run_case({"swiglu fwd+bwd", shape, dt}, [&](const Case& c) {
            const Vec g = gpu::gpu_round(uniform(n, -8.0f, 8.0f), dt), u = randn_dt(n, dt), dy = randn_dt(n, dt);
            Vec y(n), dg(n), du(n);
            ref::swiglu_forward(g.data(), u.data(), y.data(), n);
            ref::swiglu_backward(g.data(), u.data(), dy.data(), dg.data(), du.data(), n);
            c.check("y", gpu::gpu_swiglu_forward(g, u, dt), y);
            const gpu::SwigluGrads r = gpu::gpu_swiglu_backward(g, u, dy, dt);
            c.check("dgate", r.dgate, dg);
            c.check("dup", r.dup, du);
        });
        run_case({"residual add", shape, dt}, [&](const Case& c) {
            const Vec a = randn_dt(n, dt), b = randn_dt(n, dt);
            Vec y(n);  // no reference op: a host loop
            for (std::size_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
            c.check("y", gpu::gpu_residual_add(a, b, dt), y);
        });
    }
}

void test_rotary() {
    struct Shape {
        int B, S, H, d;
    };
    for (const Shape s : {Shape{2, 37, 4, 64}, Shape{1, 130, 3, 128}})
        for (DType dt : kTypes) {
            run_case({"rotary fwd+bwd", dims({{"B", s.B}, {"S", s.S}, {"heads", s.H}, {"d", s.d}}), dt}, [&](const Case& c) {
                const std::size_t n = sz(s.B) * sz(s.S) * sz(s.H) * sz(s.d);
                const Vec x = randn_dt(n, dt), g = randn_dt(n, dt);
                Vec y = x, dx = g;
                ref::rotary_forward(y.data(), s.B, s.S, s.H, s.d, 10000.0f);
                ref::rotary_backward(dx.data(), s.B, s.S, s.H, s.d, 10000.0f);
                c.check("y", gpu::gpu_rotary_forward(x, s.B, s.S, s.H, s.d, 10000.0f, dt), y);
                c.check("dx", gpu::gpu_rotary_backward(g, s.B, s.S, s.H, s.d, 10000.0f, dt), dx);
            });
        }
}

void test_attention() {
    struct Shape {
        int B, S, H, KV, d;
        int W = 0;  // sliding window (0: causal over every earlier key)
    };
    // MHA at a tile multiple; GQA 4:1 with S not a tile multiple; MQA with d = 128; odd d = 80
    // (not a multiple of 32) with GQA 2:1; a longer sequence with d = 32; GQA 4:1 over several
    // 64-row tiles with d = 128; head sizes between the tiles' 64 and 128 (96, 112, 104 with MQA,
    // 100 — a multiple of 4 only: 8-byte rows — with GQA), 40 below 64, and 256 (beyond the
    // tensor-core tiles). bf16/fp16 flash with d a multiple of 4 up to 128 runs on the tensor-core
    // kernels ("[tc]", the tiles padded to 64 or 128 columns), everything else on the SIMT ones ("[simt]").
    const Shape shapes[] = {{2, 64, 4, 4, 64},   {1, 77, 8, 2, 64},   {2, 100, 4, 1, 128}, {1, 45, 6, 3, 80},
                            {1, 300, 2, 1, 32},  {2, 200, 8, 2, 128}, {2, 150, 8, 2, 96},  {1, 130, 4, 4, 100},
                            {2, 97, 6, 2, 112},  {1, 70, 4, 1, 104},  {1, 129, 4, 2, 100}, {1, 66, 2, 2, 40},
                            {1, 90, 2, 1, 256},
                            // Sliding windows (query i sees keys i − W < j ≤ i): shorter than a tile,
                            // across several tiles, not a tile multiple, W = 1 (only itself), W ≥ S,
                            // on both tensor-core tile sizes, a padded head, and the SIMT kernels (256).
                            {1, 200, 4, 2, 64, 50},  {2, 300, 4, 1, 128, 130}, {1, 333, 2, 2, 100, 64},
                            {1, 130, 4, 2, 80, 1},   {1, 64, 2, 2, 64, 100},   {1, 150, 2, 1, 256, 40},
                            {1, 260, 2, 1, 32, 17}};
    for (const Shape s : shapes)
        for (AttentionKind kind : {AttentionKind::eager, AttentionKind::flash})
            for (DType dt : kTypes) {
                const char* path = kind != AttentionKind::flash                  ? ""
                                   : gpu::flash_uses_tensor_cores(dt, s.d) ? " [tc]"
                                                                            : " [simt]";
                std::string shape = dims({{"B", s.B}, {"S", s.S}, {"heads", s.H}, {"kv", s.KV}, {"d", s.d}});
                if (s.W > 0) shape.append(" window=").append(std::to_string(s.W));
                shape.append(path);
                run_case({std::string("attention ") + gpu::attention_kind_name(kind), shape, dt}, [&](const Case& c) {
                    const bool eager = kind == AttentionKind::eager;
                    const std::size_t nq = sz(s.B) * sz(s.S) * sz(s.H) * sz(s.d);
                    const std::size_t nkv = sz(s.B) * sz(s.S) * sz(s.KV) * sz(s.d);
                    const Vec q = randn_dt(nq, dt), k = randn_dt(nkv, dt), v = randn_dt(nkv, dt), dout = randn_dt(nq, dt);
                    Vec out(nq), probs(sz(s.B) * sz(s.H) * sz(s.S) * sz(s.S)), lse(sz(s.B) * sz(s.H) * sz(s.S));
                    ref::attention_forward(q.data(), k.data(), v.data(), out.data(), probs.data(), lse.data(), s.B, s.S, s.H,
                                           s.KV, s.d, true, s.W);
                    const gpu::AttentionForward f =
                        gpu::gpu_attention_forward(q, k, v, s.B, s.S, s.H, s.KV, s.d, kind, dt, s.W);
                    c.check("out", f.out, out);
                    if (eager) {
                        c.check("probs", f.probs, probs);
                    } else {
                        c.check("lse", f.lse, lse);
                    }
                    // Backward from the reference's saved tensors, rounded as the GPU stores them.
                    const Vec out_dt = gpu::gpu_round(out, dt), probs_dt = gpu::gpu_round(probs, dt);
                    Vec dq(nq), dk(nkv), dv(nkv);
                    ref::attention_backward(q.data(), k.data(), v.data(), out_dt.data(), probs_dt.data(), lse.data(),
                                            dout.data(), dq.data(), dk.data(), dv.data(), s.B, s.S, s.H, s.KV, s.d, eager, s.W);
                    const gpu::AttentionGrads g =
                        gpu::gpu_attention_backward(q, k, v, out_dt, eager ? probs_dt : Vec{}, eager ? Vec{} : lse, dout, s.B,
                                                    s.S, s.H, s.KV, s.d, kind, dt, s.W);
                    c.check("dq", g.dq, dq, Class::accumulating);
                    c.check("dk", g.dk, dk, Class::accumulating);
                    c.check("dv", g.dv, dv, Class::accumulating);
                });
            }
}

void test_cross_entropy() {
    struct Shape {
        int T, V, ld;  // ld: the logits' row stride (0 = V; the engine pads GPT-2's 50,257 to 50,304)
    };
    for (const Shape s : {Shape{64, 1000, 0}, Shape{33, 50257, 0}, Shape{33, 50257, 50304}})
        for (DType dt : kTypes) {
            const std::string shape = dims({{"T", s.T}, {"V", s.V}}) + (s.ld ? " ld=" + std::to_string(s.ld) : "");
            run_case({"cross-entropy fwd+bwd", shape + " (1/8 ignored)", dt}, [&](const Case& c) {
                const Vec logits = randn_dt(sz(s.T) * sz(s.V), dt, 2.0f);
                std::vector<int> targets(sz(s.T));
                std::uniform_int_distribution<int> pick(0, s.V - 1);
                for (int t = 0; t < s.T; ++t) targets[sz(t)] = t % 8 == 3 ? -1 : pick(g_rng);
                Vec dl(logits.size());
                const float loss = ref::cross_entropy_forward_backward(logits.data(), targets.data(), dl.data(), s.T, s.V);
                const gpu::CrossEntropyResult r = gpu::gpu_cross_entropy_forward_backward(logits, targets, s.T, s.V, dt, s.ld);
                c.check_scalar("loss", r.loss, loss);
                c.check("dlogits (in place)", r.dlogits, dl);
                c.check_scalar("loss (forward only)", gpu::gpu_cross_entropy_forward(logits, targets, s.T, s.V, dt),
                               ref::cross_entropy_forward(logits.data(), targets.data(), s.T, s.V));
            });
        }
    run_case({"cross-entropy fwd+bwd", "T=4 V=10 (all ignored)", DType::fp32}, [&](const Case& c) {
        const Vec logits = randn(40);
        const gpu::CrossEntropyResult r = gpu::gpu_cross_entropy_forward_backward(logits, {-1, -1, -1, -1}, 4, 10, DType::fp32);
        c.check_true("loss 0, dlogits 0",
                     r.loss == 0.0f && std::all_of(r.dlogits.begin(), r.dlogits.end(), [](float x) { return x == 0.0f; }),
                     "no counted row: as the reference");
    });
}

void test_embedding() {
    const int vocab = 500, h = 64, T = 1000;  // ~2 uses per id: atomicAdd on repeated rows
    for (DType dt : kTypes)
        for (DType gdt : grad_types(dt)) {
            const std::string label = gdt == dt ? "embedding fwd+bwd" : "embedding fwd+bwd (fp32 grads)";
            run_case({label, dims({{"vocab", vocab}, {"h", h}, {"T", T}}), dt}, [&](const Case& c) {
                const Vec table = randn_dt(sz(vocab) * sz(h), dt);
                std::vector<int> ids(sz(T));
                std::uniform_int_distribution<int> pick(0, vocab - 1);
                for (int& id : ids) id = pick(g_rng);
                Vec y(sz(T) * sz(h));
                ref::embedding_forward(table.data(), ids.data(), y.data(), T, h);
                c.check("y", gpu::gpu_embedding_forward(table, ids, T, h, dt), y);
                const Vec dy = randn_dt(sz(T) * sz(h), dt), dt0 = randn_dt(sz(vocab) * sz(h), gdt);
                Vec dtab = dt0;
                ref::embedding_backward(ids.data(), dy.data(), dtab.data(), T, h);
                c.check("dtable (+=)", gpu::gpu_embedding_backward(ids, dy, dt0, T, h, dt, gdt), dtab, Class::accumulating);
            });
        }
}

void test_optimizer() {
    for (DType dt : kTypes) {
        run_case({"global grad norm", "3 buffers: 1000, 250000, 7", dt}, [&](const Case& c) {
            const std::vector<Vec> bufs = {randn_dt(1000, dt), randn_dt(250000, dt, 0.01f), randn_dt(7, dt, 30.0f)};
            std::vector<std::pair<const float*, std::size_t>> refs;
            for (const Vec& b : bufs) refs.emplace_back(b.data(), b.size());
            c.check_scalar("norm", gpu::gpu_global_norm(bufs, dt), ref::global_norm(refs));
        });
        const std::size_t n = 50000;
        for (const bool decay : {true, false}) {
            for (const bool clip : {false, true}) {
                const std::string shape = "n=50000 step 7" + std::string(decay ? " decay" : " no decay") +
                                          (clip ? " clip on device" : " grad_scale 0.5");
                run_case({"adamw (fp32 master, grad in dtype)", shape, dt}, [&](const Case& c) {
                    const Vec p = randn(n), g = randn_dt(n, dt, clip ? 0.1f : 1.0f), m = randn(n, 0.1f);
                    Vec v = randn(n, 0.1f);
                    for (float& x : v) x = x * x;
                    gpu::AdamWHyper hyper;
                    hyper.lr = 1e-3f;
                    ref::AdamW opt;
                    opt.lr = hyper.lr;
                    opt.beta1 = hyper.beta1;
                    opt.beta2 = hyper.beta2;
                    opt.eps = hyper.eps;
                    opt.weight_decay = hyper.weight_decay;
                    const float max_norm = 1.0f;
                    float scale = 0.5f;
                    if (clip) {  // PyTorch's clip_grad_norm_: min(1, max_norm / (norm + 1e-6))
                        const double norm = ref::global_norm({{g.data(), n}});
                        scale = static_cast<float>(std::min(1.0, max_norm / (norm + 1e-6)));
                    }
                    Vec rp = p, rm = m, rv = v;
                    ref::adamw_update(rp.data(), g.data(), rm.data(), rv.data(), n, opt, 7, scale, decay);
                    const gpu::AdamWState s =
                        gpu::gpu_adamw_update(p, g, m, v, hyper, 7, clip ? 1.0f : 0.5f, decay, dt, clip, max_norm, dt);
                    // The update is ~lr = 1e-3 against weights of ~1, so the weights alone would hide an
                    // error in it: compare the change too. Both sides round the new weight to fp32, and
                    // one ulp of a weight near 4 (4.8e-7) is ~5e-4 of a 1e-3 step: tolerance 2e-3.
                    Vec dp_gpu(n), dp_ref(n);
                    for (std::size_t i = 0; i < n; ++i) {
                        dp_gpu[i] = s.param[i] - p[i];
                        dp_ref[i] = rp[i] - p[i];
                    }
                    c.check("param", s.param, rp, Class::single, DType::fp32);
                    c.check_tol("param change", dp_gpu, dp_ref, 2e-3);
                    c.check("m", s.m, rm, Class::single, DType::fp32);
                    c.check("v", s.v, rv, Class::single, DType::fp32);
                    c.check("param copy (dtype)", s.param_copy, rp);
                });
            }
        }
    }
    run_case({"inf/nan check", "n=4096", DType::fp32}, [&](const Case& c) {
        Vec x = randn(4096);
        c.check_true("clean fp32", !gpu::gpu_has_nonfinite(x, DType::fp32), "finite values: no flag");
        Vec y = x;
        y[1234] = NAN;
        c.check_true("NaN fp32", gpu::gpu_has_nonfinite(y, DType::fp32), "one NaN: flag");
        y = x;
        y[4095] = -INFINITY;
        c.check_true("-inf bf16", gpu::gpu_has_nonfinite(y, DType::bf16), "one -inf: flag");
        y = x;
        y[7] = 1e5f;
        c.check_true("1e5 fp16", gpu::gpu_has_nonfinite(y, DType::fp16), "1e5 overflows fp16 to inf: flag");
        c.check_true("1e5 bf16", !gpu::gpu_has_nonfinite(y, DType::bf16), "1e5 is finite in bf16: no flag");
    });
    run_case({"loss scale update", "growth 2, backoff 0.5, interval 3", DType::fp32}, [&](const Case& c) {
        gpu::LossScaleState s;  // 65536, 0
        const bool found[] = {false, false, false, true, false, false, false, false};
        float want_scale = 65536.0f;
        int want_good = 0;
        bool ok = true;
        for (const bool f : found) {
            s = gpu::gpu_update_loss_scale(s, f, 2.0f, 0.5f, 3);
            if (f) {
                want_scale *= 0.5f;
                want_good = 0;
            } else if (++want_good >= 3) {
                want_scale *= 2.0f;
                want_good = 0;
            }
            ok = ok && s.scale == want_scale && s.good_steps == want_good;
        }
        c.check_true("scale, good steps", ok, "GradScaler rule over 8 steps, ends at " + std::to_string(s.scale));
    });
}

}  // namespace

int main(int argc, char** argv) {
    const llmplan::kernels::DeviceQuery query = llmplan::kernels::query_devices();
    if (!query.ok || query.devices.empty()) {
        std::printf("SKIP: no CUDA device available (%s); GPU kernel tests skipped\n",
                    query.error.empty() ? "no CUDA device" : query.error.c_str());
        return 77;
    }
    const std::string probe = llmplan::kernels::run_probe_kernel(0);
    if (!probe.empty()) {
        std::printf("FAIL: the probe kernel did not run on device 0: %s\n", probe.c_str());
        return 1;
    }
    const llmplan::kernels::DeviceInfo& d = query.devices.front();
    std::printf("device 0: %s, sm_%d%d, %d SMs; CUDA driver %d, runtime %d\n", d.name.c_str(), d.sm_major, d.sm_minor,
                d.multiprocessors, query.driver_version, query.runtime_version);

    // Optional argument: a comma-separated list of groups to run (linear, norms, elementwise,
    // rotary, attention, cross_entropy, embedding, optimizer, timing); all by default.
    const std::string only = argc > 1 ? argv[1] : "";
    const auto wanted = [&](const std::string& name) {
        return only.empty() || ("," + only + ",").find("," + name + ",") != std::string::npos;
    };
    const std::pair<const char*, void (*)()> groups[] = {
        {"linear", test_linear},       {"norms", test_norms},         {"elementwise", test_elementwise},
        {"rotary", test_rotary},       {"attention", test_attention}, {"cross_entropy", test_cross_entropy},
        {"embedding", test_embedding}, {"optimizer", test_optimizer},
    };
    for (const auto& [name, fn] : groups)
        if (wanted(name)) fn();

    std::printf("\n%-36s %-38s %-5s %-22s %10s %8s  %s\n", "op", "shape", "dtype", "tensor", "max norm err", "tol",
                "result");
    int failures = 0;
    for (const Row& r : g_rows) {
        std::printf("%-36s %-38s %-5s %-22s %10.2e %8.0e  %s%s%s\n", r.op.c_str(), r.shape.c_str(), r.dtype.c_str(),
                    r.tensor.c_str(), r.err, r.tol, r.pass ? "ok" : "FAIL", r.note.empty() ? "" : "  ", r.note.c_str());
        if (!r.pass) ++failures;
    }
    // Worst error per op and storage type: the summary docs/validation/gpu_kernels.md records.
    std::printf("\nworst normalised error per op and dtype\n");
    std::vector<std::pair<std::string, std::pair<double, double>>> worst;
    for (const Row& r : g_rows) {
        const std::string key = r.op + " | " + r.dtype;
        auto it = std::find_if(worst.begin(), worst.end(), [&](const auto& w) { return w.first == key; });
        if (it == worst.end()) {
            worst.push_back({key, {r.err, r.tol}});
        } else if (r.err > it->second.first) {
            it->second = {r.err, r.tol};
        }
    }
    for (const auto& [key, v] : worst) std::printf("  %-48s %10.2e  (tol %.0e)\n", key.c_str(), v.first, v.second);
    // Speed, for the record (not checked): GPT-2 124M shapes, micro-batch 4 × 1024, bf16.
    if (wanted("timing")) {
        std::printf("\ntimings (informational; median of 10 runs, random data)\n");
        try {
            struct Shape {
                int B, S, H, KV, d;
                DType dt;
            };
            // GPT-2 124M (micro-batch 4 × 1024, and 16 × 1024, the benchmark configuration) and a
            // Llama-style layer (GQA 4:1, d = 128), plus the
            // SIMT flash kernels in fp32 for comparison.
            // The Llama-style 3.4B layer (d 3,200: 32 heads of 100) and head sizes 80 and 96.
            for (const Shape s : {Shape{4, 1024, 12, 12, 64, DType::bf16}, Shape{16, 1024, 12, 12, 64, DType::bf16},
                                  Shape{1, 2048, 32, 8, 128, DType::bf16}, Shape{4, 1024, 12, 12, 64, DType::fp32},
                                  Shape{1, 2048, 32, 32, 100, DType::bf16}, Shape{1, 2048, 32, 8, 96, DType::bf16},
                                  Shape{1, 2048, 32, 8, 80, DType::bf16}}) {
                // Causal attention FLOPs: 4·B·S²·H·d / 2 forward (QKᵀ and PV, half masked), 2.5× that backward.
                const double attn_flops = 4.0 * s.B * s.S * static_cast<double>(s.S) * s.H * s.d / 2.0;
                for (AttentionKind kind : {AttentionKind::eager, AttentionKind::flash}) {
                    const gpu::KernelTiming t = gpu::gpu_time_attention(s.B, s.S, s.H, s.KV, s.d, kind, s.dt, 10);
                    const std::string path = kind == AttentionKind::eager ? ""
                                             : gpu::flash_uses_tensor_cores(s.dt, s.d) ? " [tc]"
                                                                                       : " [simt]";
                    std::printf("  attention %s%s B=%d S=%d heads=%d kv=%d d=%d %s: forward %.3f ms (%.1f TFLOP/s causal), "
                                "backward %.3f ms (%.1f TFLOP/s)\n",
                                gpu::attention_kind_name(kind), path.c_str(), s.B, s.S, s.H, s.KV, s.d,
                                to_string(s.dt), t.forward_ms, attn_flops / t.forward_ms * 1e-9, t.backward_ms,
                                2.5 * attn_flops / t.backward_ms * 1e-9);
                }
            }
            const gpu::KernelTiming t = gpu::gpu_time_linear(4096, 768, 3072, DType::bf16, 10);
            const double f = 2.0 * 4096 * 768 * 3072;
            std::printf("  linear T=4096 k=768 n=3072 bf16 (+bias): forward %.3f ms (%.0f TFLOP/s), backward dx+dW+db "
                        "%.3f ms (%.0f TFLOP/s)\n",
                        t.forward_ms, f / t.forward_ms * 1e-9, t.backward_ms, 2.0 * f / t.backward_ms * 1e-9);
        } catch (const std::exception& e) {
            std::printf("  timing failed: %s\n", e.what());
            ++failures;
        }
    }
    if (failures != 0) {
        std::printf("\nFAIL: %d of %zu checks outside tolerance\n", failures, g_rows.size());
        return 1;
    }
    std::printf("\nPASS: %zu checks within tolerance\n", g_rows.size());
    return 0;
}
