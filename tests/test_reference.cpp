// test_reference.cpp — the CPU reference engine (reference/): every op's backward against
// central finite differences, attention's eager and flash paths, cross-entropy's ignore_index,
// AdamW by hand, whole-model gradient checks of a tiny GPT-2-style and Llama-style model,
// identical gradients for the three recompute modes, the loss falling on a learnable task, and
// the memory books (what each recompute and attention mode keeps, to the byte).
//
// Finite differences run in fp32 (the ops' storage type), so their noise sets the tolerances:
// an op's output is rounded to fp32 (relative 6e-8), the scalar test loss Σ rᵢ·yᵢ is summed in
// double, and a central difference with step ε carries ~|L|·6e-8/ε of rounding noise plus
// O(ε²·f''') truncation. Each check below states its ε and tolerance; the tolerances are about
// five to a hundred times the largest error measured (stated where it matters).
#include "reference/model.h"
#include "tiny_models.h"
#include "reference/ops.h"

#include "core/error.h"
#include "core/model.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

using namespace llmplan;
using namespace llmplan::reference;

namespace {

std::vector<float> randn(std::size_t n, std::uint32_t seed, float scale = 1.0f) {
    std::mt19937 gen(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = dist(gen);
    return v;
}

// Σ r_i·y_i in double: the scalar whose gradient with respect to y is r.
double dot(const std::vector<float>& r, const std::vector<float>& y) {
    double s = 0;
    for (std::size_t i = 0; i < r.size(); ++i) s += static_cast<double>(r[i]) * y[i];
    return s;
}

// Central difference of `loss` in x[i] (the step actually taken, after fp32 rounding).
double central_difference(const std::function<double()>& loss, float& x, float eps) {
    const float x0 = x;
    const float xp = x0 + eps, xm = x0 - eps;
    x = xp;
    const double lp = loss();
    x = xm;
    const double lm = loss();
    x = x0;
    return (lp - lm) / (static_cast<double>(xp) - static_cast<double>(xm));
}

// Checks every element of `x` (or a stride of them): |fd − analytic| ≤ atol + rtol·|analytic|.
// Returns the largest |fd − analytic| / (atol + rtol·|analytic|) seen (≤ 1 passes).
double check_gradient(const std::function<double()>& loss, std::vector<float>& x, const std::vector<float>& analytic,
                      float eps, double atol, double rtol, std::size_t stride = 1) {
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); i += stride) {
        const double fd = central_difference(loss, x[i], eps);
        const double err = std::abs(fd - analytic[i]);
        const double bound = atol + rtol * std::abs(analytic[i]);
        worst = std::max(worst, err / bound);
        if (err > bound) {
            INFO("element " << i << ": finite difference " << fd << ", analytic " << analytic[i]);
            CHECK(err <= bound);
        }
    }
    return worst;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
    return m;
}

double max_abs(const std::vector<float>& a) {
    double m = 0;
    for (float x : a) m = std::max(m, std::abs(static_cast<double>(x)));
    return m;
}

// Tiny models of each family (the brief: 2 layers, d 16, vocab 32).
using test::tiny_gpt2;
using test::tiny_llama;

struct Batch {
    std::vector<int> ids, targets;
};

// Random tokens, next-token targets, the last position of each sequence ignored (−1).
Batch random_batch(int B, int S, int V, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> tok(0, V - 1);
    Batch b;
    std::vector<int> seq(static_cast<std::size_t>(S + 1));
    for (int i = 0; i < B; ++i) {
        for (int& t : seq) t = tok(gen);
        for (int s = 0; s < S; ++s) {
            b.ids.push_back(seq[static_cast<std::size_t>(s)]);
            b.targets.push_back(s == S - 1 ? -1 : seq[static_cast<std::size_t>(s + 1)]);
        }
    }
    return b;
}

}  // namespace

// --- ops ---------------------------------------------------------------------------------------

TEST_CASE("reference linear: forward by hand, backward against finite differences", "[reference]") {
    // y = x·Wᵀ + b with x [1,2], W [[1,2],[3,4],[5,6]], b [0.5, −1, 2].
    const std::vector<float> x1{1, -2}, w1{1, 2, 3, 4, 5, 6}, b1{0.5f, -1, 2};
    std::vector<float> y1(3);
    linear_forward(x1.data(), w1.data(), b1.data(), y1.data(), 1, 2, 3);
    CHECK(y1 == std::vector<float>{-2.5f, -6, -5});

    const int T = 3, k = 5, n = 4;
    std::vector<float> x = randn(T * k, 1), w = randn(n * k, 2), b = randn(n, 3), r = randn(T * n, 4);
    std::vector<float> y(T * n);
    auto loss = [&] {
        linear_forward(x.data(), w.data(), b.data(), y.data(), T, k, n);
        return dot(r, y);
    };
    // dx overwritten (pre-filled with garbage), dW and db accumulated (pre-filled with 1).
    std::vector<float> dx(T * k, 99.0f), dw(n * k, 1.0f), db(n, 1.0f);
    linear_backward(x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(), T, k, n);
    for (float& g : dw) g -= 1.0f;
    for (float& g : db) g -= 1.0f;
    // ε 1e-2; linear, so only rounding noise (~1e-5): atol 1e-4, rtol 1e-4.
    check_gradient(loss, x, dx, 1e-2f, 1e-4, 1e-4);
    check_gradient(loss, w, dw, 1e-2f, 1e-4, 1e-4);
    check_gradient(loss, b, db, 1e-2f, 1e-4, 1e-4);
    // dx may be skipped, bias may be absent.
    std::vector<float> dw2(n * k, 0.0f);
    linear_backward(x.data(), w.data(), r.data(), nullptr, dw2.data(), nullptr, T, k, n);
    CHECK(max_abs_diff(dw2, dw) < 1e-6);
}

TEST_CASE("reference layernorm and rmsnorm: backward against finite differences", "[reference]") {
    const int T = 3, h = 8;
    std::vector<float> x = randn(T * h, 10, 2.0f), g = randn(h, 11), beta = randn(h, 12), r = randn(T * h, 13);
    for (float& v : x) v += 1.5f;  // a non-zero mean
    for (float& v : g) v += 1.0f;
    std::vector<float> y(T * h), mean(T), rstd(T);
    const float eps = 1e-5f;

    SECTION("layernorm") {
        layernorm_forward(x.data(), g.data(), beta.data(), y.data(), mean.data(), rstd.data(), T, h, eps);
        // Row 0 normalised: mean 0 and variance 1 before γ, β.
        std::vector<float> plain(T * h), ones(h, 1.0f), zeros(h, 0.0f);
        layernorm_forward(x.data(), ones.data(), zeros.data(), plain.data(), nullptr, nullptr, T, h, eps);
        double m = 0, var = 0;
        for (int i = 0; i < h; ++i) m += plain[static_cast<std::size_t>(i)];
        for (int i = 0; i < h; ++i) var += plain[static_cast<std::size_t>(i)] * plain[static_cast<std::size_t>(i)];
        CHECK(std::abs(m / h) < 1e-6);
        CHECK(std::abs(var / h - 1.0) < 1e-4);

        std::vector<float> dx(T * h, 99.0f), dg(h, 0.0f), db(h, 0.0f);
        layernorm_backward(x.data(), g.data(), mean.data(), rstd.data(), r.data(), dx.data(), dg.data(), db.data(), T, h);
        auto loss = [&] {
            layernorm_forward(x.data(), g.data(), beta.data(), y.data(), mean.data(), rstd.data(), T, h, eps);
            return dot(r, y);
        };
        // ε 1e-2 on inputs of scale 2: truncation ~1e-5, noise ~1e-5: atol 2e-4, rtol 1e-3.
        check_gradient(loss, x, dx, 1e-2f, 2e-4, 1e-3);
        check_gradient(loss, g, dg, 1e-2f, 2e-4, 1e-3);
        check_gradient(loss, beta, db, 1e-2f, 2e-4, 1e-3);
    }
    SECTION("rmsnorm") {
        rmsnorm_forward(x.data(), g.data(), y.data(), rstd.data(), T, h, eps);
        double ms = 0;
        for (int i = 0; i < h; ++i) ms += static_cast<double>(x[static_cast<std::size_t>(i)]) * x[static_cast<std::size_t>(i)];
        CHECK(rstd[0] == Approx(1.0 / std::sqrt(ms / h + eps)).epsilon(1e-6));
        std::vector<float> dx(T * h, 99.0f), dg(h, 0.0f);
        rmsnorm_backward(x.data(), g.data(), rstd.data(), r.data(), dx.data(), dg.data(), T, h);
        auto loss = [&] {
            rmsnorm_forward(x.data(), g.data(), y.data(), rstd.data(), T, h, eps);
            return dot(r, y);
        };
        check_gradient(loss, x, dx, 1e-2f, 2e-4, 1e-3);
        check_gradient(loss, g, dg, 1e-2f, 2e-4, 1e-3);
    }
}

TEST_CASE("reference gelu and swiglu: values and backward against finite differences", "[reference]") {
    const std::size_t n = 64;
    std::vector<float> x = randn(n, 20, 2.0f), u = randn(n, 21), r = randn(n, 22), y(n);
    // GELU(1) with the tanh approximation: 0.5·(1 + tanh(√(2/π)·1.044715)) = 0.841192.
    const float one = 1.0f;
    float g1 = 0;
    gelu_forward(&one, &g1, 1);
    CHECK(g1 == Approx(0.8411920).epsilon(1e-6));

    SECTION("gelu") {
        std::vector<float> dx(n, 99.0f);
        gelu_backward(x.data(), r.data(), dx.data(), n);
        auto loss = [&] {
            gelu_forward(x.data(), y.data(), n);
            return dot(r, y);
        };
        // ε 1e-3 (GELU curves sharply near 0): atol 1e-4, rtol 1e-3.
        check_gradient(loss, x, dx, 1e-3f, 1e-4, 1e-3);
        // In place (dx aliasing dy) gives the same.
        std::vector<float> inplace = r;
        gelu_backward(x.data(), inplace.data(), inplace.data(), n);
        CHECK(inplace == dx);
    }
    SECTION("swiglu") {
        std::vector<float> dg(n, 99.0f), du(n, 99.0f);
        swiglu_backward(x.data(), u.data(), r.data(), dg.data(), du.data(), n);
        auto loss = [&] {
            swiglu_forward(x.data(), u.data(), y.data(), n);
            return dot(r, y);
        };
        check_gradient(loss, x, dg, 1e-3f, 1e-4, 1e-3);
        check_gradient(loss, u, du, 1e-3f, 1e-4, 1e-3);
    }
}

TEST_CASE("reference rotary: rotate-half by hand, inverse, backward against finite differences", "[reference]") {
    // One head of dim 4 at position 1, base 10000: θ = (1, 0.01); (x0, x2) and (x1, x3) rotate.
    std::vector<float> one(2 * 4, 0.0f);
    for (int i = 0; i < 4; ++i) one[static_cast<std::size_t>(4 + i)] = 1.0f;  // position 1
    rotary_forward(one.data(), 1, 2, 1, 4, 10000.0f);
    CHECK(one[4] == Approx(std::cos(1.0) - std::sin(1.0)));
    CHECK(one[6] == Approx(std::cos(1.0) + std::sin(1.0)));
    CHECK(one[5] == Approx(std::cos(0.01) - std::sin(0.01)));
    CHECK(one[7] == Approx(std::cos(0.01) + std::sin(0.01)));

    const int B = 2, S = 5, H = 3, hd = 8;
    const std::size_t n = static_cast<std::size_t>(B * S * H * hd);
    std::vector<float> x = randn(n, 30), r = randn(n, 31), y(n);
    std::vector<float> back = x;
    rotary_forward(back.data(), B, S, H, hd, 10000.0f);
    rotary_backward(back.data(), B, S, H, hd, 10000.0f);  // orthogonal: the inverse
    CHECK(max_abs_diff(back, x) < 1e-6);

    std::vector<float> dx = r;
    rotary_backward(dx.data(), B, S, H, hd, 10000.0f);
    auto loss = [&] {
        y = x;
        rotary_forward(y.data(), B, S, H, hd, 10000.0f);
        return dot(r, y);
    };
    check_gradient(loss, x, dx, 1e-2f, 1e-4, 1e-4);  // linear: rounding only
}

TEST_CASE("reference attention: causal softmax, eager and flash backward against finite differences, GQA",
          "[reference]") {
    const int B = 2, S = 5, d = 4;
    const std::pair<int, int> heads = GENERATE(std::pair{2, 2}, std::pair{4, 2}, std::pair{4, 1});
    const int H = heads.first, KVH = heads.second;  // MHA, GQA 2:1, MQA
    CAPTURE(H, KVH);
    const std::size_t nq = static_cast<std::size_t>(B * S * H * d), nkv = static_cast<std::size_t>(B * S * KVH * d);
    std::vector<float> q = randn(nq, 40), k = randn(nkv, 41), v = randn(nkv, 42), r = randn(nq, 43);
    std::vector<float> out(nq), out_flash(nq);
    std::vector<float> probs(static_cast<std::size_t>(B * H * S * S)), lse(static_cast<std::size_t>(B * H * S));
    attention_forward(q.data(), k.data(), v.data(), out.data(), probs.data(), nullptr, B, S, H, KVH, d, true);
    attention_forward(q.data(), k.data(), v.data(), out_flash.data(), nullptr, lse.data(), B, S, H, KVH, d, false);
    CHECK(out == out_flash);  // same arithmetic: identical outputs

    // Rows sum to 1, the future is masked, the first token attends only to itself (out = v).
    for (int row = 0; row < B * H * S; ++row) {
        const int i = row % S;
        double s = 0;
        for (int j = 0; j < S; ++j) {
            const float p = probs[static_cast<std::size_t>(row * S + j)];
            if (j > i) CHECK(p == 0.0f);
            s += p;
        }
        CHECK(s == Approx(1.0).epsilon(1e-6));
    }
    for (int c = 0; c < d; ++c) CHECK(out[static_cast<std::size_t>(c)] == Approx(v[static_cast<std::size_t>(c)]));
    // lse is consistent with the probabilities: p_ij = exp(q_i·k_j/√d − lse_i).
    {
        double dotqk = 0;  // b 0, head 0, i 1, j 0 (kv head 0)
        for (int c = 0; c < d; ++c)
            dotqk += static_cast<double>(q[static_cast<std::size_t>(H * d + c)]) * k[static_cast<std::size_t>(c)];
        CHECK(probs[static_cast<std::size_t>(S)] == Approx(std::exp(dotqk / 2.0 - lse[1])).epsilon(1e-5));
    }

    std::vector<float> dq(nq, 99.0f), dk(nkv, 99.0f), dv(nkv, 99.0f);
    std::vector<float> dq2(nq, 99.0f), dk2(nkv, 99.0f), dv2(nkv, 99.0f);
    attention_backward(q.data(), k.data(), v.data(), out.data(), probs.data(), nullptr, r.data(), dq.data(), dk.data(),
                       dv.data(), B, S, H, KVH, d, true);
    attention_backward(q.data(), k.data(), v.data(), out.data(), nullptr, lse.data(), r.data(), dq2.data(), dk2.data(),
                       dv2.data(), B, S, H, KVH, d, false);
    // Eager and flash agree to fp32 rounding of P (stored vs recomputed from the fp32 lse):
    // 1e-6 of the largest gradient (measured ≤ 1.2e-7).
    CHECK(max_abs_diff(dq, dq2) <= 1e-6 * max_abs(dq));
    CHECK(max_abs_diff(dk, dk2) <= 1e-6 * max_abs(dk));
    CHECK(max_abs_diff(dv, dv2) <= 1e-6 * max_abs(dv));

    auto loss = [&] {
        attention_forward(q.data(), k.data(), v.data(), out.data(), nullptr, lse.data(), B, S, H, KVH, d, false);
        return dot(r, out);
    };
    // ε 1e-2 on unit-scale inputs: truncation ~1e-5, noise ~1e-5: atol 2e-4, rtol 1e-3.
    check_gradient(loss, q, dq, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, k, dk, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, v, dv, 1e-2f, 2e-4, 1e-3);
}

TEST_CASE("reference attention: sliding window, masks by hand, eager and flash backward against finite differences",
          "[reference]") {
    const int B = 2, S = 7, d = 4, W = 3;
    const std::pair<int, int> heads = GENERATE(std::pair{2, 2}, std::pair{4, 2}, std::pair{4, 1});
    const int H = heads.first, KVH = heads.second;  // MHA, GQA 2:1, MQA
    CAPTURE(H, KVH);
    const std::size_t nq = static_cast<std::size_t>(B * S * H * d), nkv = static_cast<std::size_t>(B * S * KVH * d);
    std::vector<float> q = randn(nq, 50), k = randn(nkv, 51), v = randn(nkv, 52), r = randn(nq, 53);
    std::vector<float> out(nq), out_flash(nq), out_causal(nq), out_wide(nq);
    std::vector<float> probs(static_cast<std::size_t>(B * H * S * S)), lse(static_cast<std::size_t>(B * H * S));
    attention_forward(q.data(), k.data(), v.data(), out.data(), probs.data(), nullptr, B, S, H, KVH, d, true, W);
    attention_forward(q.data(), k.data(), v.data(), out_flash.data(), nullptr, lse.data(), B, S, H, KVH, d, false, W);
    CHECK(out == out_flash);  // same arithmetic: identical outputs
    // Query i sees keys i − 2, i − 1, i only: exactly 0 elsewhere, rows sum to 1.
    for (int row = 0; row < B * H * S; ++row) {
        const int i = row % S;
        double s = 0;
        for (int j = 0; j < S; ++j) {
            const float p = probs[static_cast<std::size_t>(row * S + j)];
            if (j > i || j <= i - W) CHECK(p == 0.0f);
            if (j <= i && j > i - W) CHECK(p > 0.0f);
            s += p;
        }
        CHECK(s == Approx(1.0).epsilon(1e-6));
    }
    // The first W queries see what causal attention sees; the later ones do not.
    attention_forward(q.data(), k.data(), v.data(), out_causal.data(), nullptr, lse.data(), B, S, H, KVH, d, false);
    const auto at = [&](const std::vector<float>& x, int i) { return x[static_cast<std::size_t>(i * H * d)]; };  // b 0, head 0
    for (int i = 0; i < W; ++i) CHECK(at(out, i) == at(out_causal, i));
    CHECK(at(out, S - 1) != at(out_causal, S - 1));
    // A window of S or more is plain causal attention, bit for bit.
    attention_forward(q.data(), k.data(), v.data(), out_wide.data(), nullptr, lse.data(), B, S, H, KVH, d, false, S);
    CHECK(out_wide == out_causal);
    // W = 1: each query sees only itself, out = its kv head's v.
    attention_forward(q.data(), k.data(), v.data(), out_wide.data(), nullptr, lse.data(), B, S, H, KVH, d, false, 1);
    for (int i = 0; i < S; ++i)
        for (int c = 0; c < d; ++c)
            CHECK(out_wide[static_cast<std::size_t>(i * H * d + (H - 1) * d + c)] ==
                  Approx(v[static_cast<std::size_t>(i * KVH * d + (KVH - 1) * d + c)]));
    CHECK_THROWS_AS(attention_forward(q.data(), k.data(), v.data(), out.data(), nullptr, lse.data(), B, S, H, KVH, d, false, -1),
                    std::invalid_argument);

    attention_forward(q.data(), k.data(), v.data(), out.data(), nullptr, lse.data(), B, S, H, KVH, d, false, W);
    std::vector<float> dq(nq, 99.0f), dk(nkv, 99.0f), dv(nkv, 99.0f);
    std::vector<float> dq2(nq, 99.0f), dk2(nkv, 99.0f), dv2(nkv, 99.0f);
    attention_backward(q.data(), k.data(), v.data(), out.data(), probs.data(), nullptr, r.data(), dq.data(), dk.data(),
                       dv.data(), B, S, H, KVH, d, true, W);
    attention_backward(q.data(), k.data(), v.data(), out.data(), nullptr, lse.data(), r.data(), dq2.data(), dk2.data(),
                       dv2.data(), B, S, H, KVH, d, false, W);
    CHECK(max_abs_diff(dq, dq2) <= 1e-6 * max_abs(dq));
    CHECK(max_abs_diff(dk, dk2) <= 1e-6 * max_abs(dk));
    CHECK(max_abs_diff(dv, dv2) <= 1e-6 * max_abs(dv));
    auto loss = [&] {
        attention_forward(q.data(), k.data(), v.data(), out.data(), nullptr, lse.data(), B, S, H, KVH, d, false, W);
        return dot(r, out);
    };
    // As for causal attention: ε 1e-2 on unit-scale inputs, atol 2e-4, rtol 1e-3.
    check_gradient(loss, q, dq, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, k, dk, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, v, dv, 1e-2f, 2e-4, 1e-3);
    // The eager path's gradient against finite differences too.
    auto loss_eager = [&] {
        attention_forward(q.data(), k.data(), v.data(), out.data(), probs.data(), nullptr, B, S, H, KVH, d, true, W);
        return dot(r, out);
    };
    check_gradient(loss_eager, k, dk, 1e-2f, 2e-4, 1e-3);
}

TEST_CASE("reference MoE: routing by hand, one expert is its SwiGLU MLP, backward against finite differences",
          "[reference]") {
    const std::pair<bool, int> cfg = GENERATE(std::pair{false, 0}, std::pair{true, 0}, std::pair{false, 3}, std::pair{true, 3});
    MoeShape s;
    s.T = 6;
    s.d = 4;
    s.experts = 4;
    s.top_k = 2;
    s.expert_ff = 5;
    s.normalize_top_k = cfg.first;
    s.shared_ff = cfg.second;
    CAPTURE(s.normalize_top_k, s.shared_ff);
    const std::size_t E = 4, d = 4, f = 5, fs = 3, T = 6;
    std::vector<float> x = randn(T * d, 60), router = randn(E * d, 61), gate = randn(E * f * d, 62, 0.5f),
                       up = randn(E * f * d, 63, 0.5f), down = randn(E * d * f, 64, 0.5f), sg = randn(fs * d, 65, 0.5f),
                       su = randn(fs * d, 66, 0.5f), sd = randn(d * fs, 67, 0.5f), r = randn(T * d, 68);
    MoeWeights w{router.data(), gate.data(), up.data(), down.data(), sg.data(), su.data(), sd.data()};
    std::vector<float> out(T * d);
    MoeRouting routing;
    moe_forward(x.data(), w, s, out.data(), routing);
    // Routing: probabilities sum to 1 per token; the two experts are the two most probable, in
    // order; gates = their probabilities, or those over their sum with normalize_top_k.
    double min_gap = 1;
    for (std::size_t t = 0; t < T; ++t) {
        const float* p = routing.probs.data() + t * E;
        double sum = 0;
        for (std::size_t e = 0; e < E; ++e) sum += p[e];
        CHECK(sum == Approx(1.0).epsilon(1e-6));
        std::vector<float> sorted(p, p + E);
        std::sort(sorted.begin(), sorted.end(), std::greater<>());
        const int e0 = routing.experts[2 * t], e1 = routing.experts[2 * t + 1];
        CHECK(p[e0] == sorted[0]);
        CHECK(p[e1] == sorted[1]);
        min_gap = std::min(min_gap, static_cast<double>(sorted[1] - sorted[2]));
        const float g0 = routing.gates[2 * t], g1 = routing.gates[2 * t + 1];
        if (s.normalize_top_k) {
            CHECK(g0 + g1 == Approx(1.0f));
            CHECK(g0 / g1 == Approx(p[e0] / p[e1]));
        } else {
            CHECK(g0 == p[e0]);
            CHECK(g1 == p[e1]);
        }
    }
    // Every token's top-k is clear of the next expert by more than the finite differences move it.
    CHECK(min_gap > 0.01);

    std::vector<float> dx(T * d, 99.0f), drouter(E * d), dgate(E * f * d), dup(E * f * d), ddown(E * d * f), dsg(fs * d),
        dsu(fs * d), dsd(d * fs);
    MoeGrads g{drouter.data(), dgate.data(), dup.data(), ddown.data(), dsg.data(), dsu.data(), dsd.data()};
    moe_backward(x.data(), w, s, routing, r.data(), dx.data(), g);
    auto loss = [&] {
        MoeRouting rr;
        moe_forward(x.data(), w, s, out.data(), rr);
        return dot(r, out);
    };
    // ε 1e-2: atol 2e-4, rtol 1e-3 as for the other ops.
    check_gradient(loss, x, dx, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, router, drouter, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, gate, dgate, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, up, dup, 1e-2f, 2e-4, 1e-3);
    check_gradient(loss, down, ddown, 1e-2f, 2e-4, 1e-3);
    if (s.shared_ff > 0) {
        check_gradient(loss, sg, dsg, 1e-2f, 2e-4, 1e-3);
        check_gradient(loss, su, dsu, 1e-2f, 2e-4, 1e-3);
        check_gradient(loss, sd, dsd, 1e-2f, 2e-4, 1e-3);
    }
    // The router's gradient is not zero: the gates carry the loss into it.
    CHECK(max_abs(drouter) > 1e-3);

    // One expert, top-1, renormalised: the gate is 1 and the layer is that expert's SwiGLU MLP
    // plus the shared one, computed here from the plain ops.
    MoeShape one = s;
    one.experts = 1;
    one.top_k = 1;
    one.normalize_top_k = true;
    moe_forward(x.data(), w, one, out.data(), routing);
    std::vector<float> fc(T * f), upo(T * f), h(T * f), y(T * d);
    linear_forward(x.data(), gate.data(), nullptr, fc.data(), 6, 4, 5);
    linear_forward(x.data(), up.data(), nullptr, upo.data(), 6, 4, 5);
    swiglu_forward(fc.data(), upo.data(), h.data(), T * f);
    linear_forward(h.data(), down.data(), nullptr, y.data(), 6, 5, 4);
    if (s.shared_ff > 0) {
        std::vector<float> sfc(T * fs), sup(T * fs), sh(T * fs), sy(T * d);
        linear_forward(x.data(), sg.data(), nullptr, sfc.data(), 6, 4, 3);
        linear_forward(x.data(), su.data(), nullptr, sup.data(), 6, 4, 3);
        swiglu_forward(sfc.data(), sup.data(), sh.data(), T * fs);
        linear_forward(sh.data(), sd.data(), nullptr, sy.data(), 6, 3, 4);
        for (std::size_t i = 0; i < y.size(); ++i) y[i] += sy[i];
    }
    for (std::size_t t = 0; t < T; ++t) CHECK(routing.gates[t] == 1.0f);
    CHECK(out == y);
    // Bad shapes are refused.
    MoeShape bad = s;
    bad.top_k = 5;
    CHECK_THROWS_AS(moe_forward(x.data(), w, bad, out.data(), routing), std::invalid_argument);
}

TEST_CASE("reference cross-entropy: loss by hand, ignore_index, in place, finite differences", "[reference]") {
    // Two classes, logits (0, ln 3): p = (1/4, 3/4); target 1: loss −ln(3/4).
    const std::vector<float> two{0.0f, static_cast<float>(std::log(3.0))};
    const int t1 = 1;
    CHECK(cross_entropy_forward(two.data(), &t1, 1, 2) == Approx(-std::log(0.75)).epsilon(1e-6));

    const int T = 6, V = 7;
    std::vector<float> logits = randn(static_cast<std::size_t>(T * V), 50, 3.0f);
    logits[3] += 80.0f;  // a large logit: the max-subtraction keeps exp() finite
    const std::vector<int> targets{3, -1, 0, 6, -1, 2};
    std::vector<float> dl(static_cast<std::size_t>(T * V), 99.0f);
    const float loss = cross_entropy_forward_backward(logits.data(), targets.data(), dl.data(), T, V);
    CHECK(std::isfinite(loss));
    CHECK(loss == cross_entropy_forward(logits.data(), targets.data(), T, V));
    // The mean is over the 4 targets that count; ignored rows have zero gradient.
    double by_hand = 0;
    for (int t = 0; t < T; ++t) {
        if (targets[static_cast<std::size_t>(t)] < 0) continue;
        const float* row = logits.data() + t * V;
        const double mx = *std::max_element(row, row + V);
        double s = 0;
        for (int j = 0; j < V; ++j) s += std::exp(row[j] - mx);
        by_hand += mx + std::log(s) - row[targets[static_cast<std::size_t>(t)]];
    }
    CHECK(loss == Approx(by_hand / 4).epsilon(1e-6));
    for (int j = 0; j < V; ++j) {
        CHECK(dl[static_cast<std::size_t>(V + j)] == 0.0f);
        CHECK(dl[static_cast<std::size_t>(4 * V + j)] == 0.0f);
    }
    // Each counted row's gradient sums to 0 (softmax − one-hot).
    double row_sum = 0;
    for (int j = 0; j < V; ++j) row_sum += dl[static_cast<std::size_t>(2 * V + j)];
    CHECK(std::abs(row_sum) < 1e-7);

    // In place on the logits (the engine's way): the same gradient.
    std::vector<float> inplace = logits;
    CHECK(cross_entropy_forward_backward(inplace.data(), targets.data(), inplace.data(), T, V) == loss);
    CHECK(inplace == dl);

    // All ignored: loss 0, gradient 0.
    const std::vector<int> none(static_cast<std::size_t>(T), -1);
    std::vector<float> dz(static_cast<std::size_t>(T * V), 5.0f);
    CHECK(cross_entropy_forward_backward(logits.data(), none.data(), dz.data(), T, V) == 0.0f);
    CHECK(max_abs(dz) == 0.0);
    // A target outside [0, V) is an error.
    const std::vector<int> bad{7, 0, 0, 0, 0, 0};
    CHECK_THROWS(cross_entropy_forward(logits.data(), bad.data(), T, V));

    logits[3] -= 80.0f;  // back to unit scale for the finite differences
    cross_entropy_forward_backward(logits.data(), targets.data(), dl.data(), T, V);
    auto f = [&] { return static_cast<double>(cross_entropy_forward(logits.data(), targets.data(), T, V)); };
    // The loss is returned as fp32 (~2e-7 absolute at loss ~2): ε 1e-2 gives noise ~1e-5; atol 1e-4.
    check_gradient(f, logits, dl, 1e-2f, 1e-4, 1e-3);
}

TEST_CASE("reference embedding, global norm and AdamW", "[reference]") {
    const int h = 3;
    const std::vector<float> table{0, 1, 2, 10, 11, 12, 20, 21, 22};
    const std::vector<int> ids{2, 0, 2};
    std::vector<float> y(9);
    embedding_forward(table.data(), ids.data(), y.data(), 3, h);
    CHECK(y == std::vector<float>{20, 21, 22, 0, 1, 2, 20, 21, 22});
    std::vector<float> dtable(9, 1.0f);
    const std::vector<float> dy{1, 2, 3, 4, 5, 6, 7, 8, 9};
    embedding_backward(ids.data(), dy.data(), dtable.data(), 3, h);
    CHECK(dtable == std::vector<float>{5, 6, 7, 1, 1, 1, 9, 11, 13});  // id 2 twice: accumulated

    const std::vector<float> a{3, 4}, b{12};
    CHECK(global_norm({{a.data(), a.size()}, {b.data(), b.size()}}) == Approx(13.0));

    // Step 1 by hand: m = (1−β1)g, v = (1−β2)g², m̂ = g, v̂ = g²: p ← p(1 − lr·λ) − lr·g/(|g| + ε).
    AdamW opt;
    opt.lr = 0.1f;
    opt.weight_decay = 0.5f;
    float p = 2.0f, g = -0.25f, m = 0, v = 0;
    adamw_update(&p, &g, &m, &v, 1, opt, 1, 1.0f, true);
    CHECK(m == Approx(0.1 * -0.25));
    CHECK(v == Approx(0.05 * 0.0625));
    CHECK(p == Approx(2.0 * (1 - 0.05) + 0.1 * 0.25 / (0.25 + 1e-8)).epsilon(1e-6));
    // No decay, and a gradient scale (clipping) of 0.5; step 2 bias corrections.
    float p2 = 2.0f, m2 = 0, v2 = 0;
    adamw_update(&p2, &g, &m2, &v2, 1, opt, 1, 0.5f, false);
    CHECK(p2 == Approx(2.0 + 0.1).epsilon(1e-6));
    adamw_update(&p2, &g, &m2, &v2, 1, opt, 2, 0.5f, false);
    // Constant gradient: m̂ = g and v̂ = g² again, another lr·sign step.
    CHECK(p2 == Approx(2.0 + 0.2).epsilon(1e-6));
}

// --- the whole model ---------------------------------------------------------------------------

TEST_CASE("reference model: parameter layout matches the planner's inventory: unsupported shapes refused",
          "[reference]") {
    for (const ModelSpec& spec : {tiny_gpt2(), tiny_llama()}) {
        ReferenceModel model(spec);
        CHECK(static_cast<std::int64_t>(model.param_count()) == count_params(spec).total());
        std::size_t expected_offset = 0;
        for (const ParamInfo& p : model.params()) {
            CHECK(p.offset == expected_offset);
            expected_offset += p.size;
        }
        CHECK(model.memory().current_of(MemoryCategory::parameters) == model.param_count() * 4);
        CHECK(model.memory().current_of(MemoryCategory::gradients) == model.param_count() * 4);
        CHECK(model.memory().current_of(MemoryCategory::optimizer) == model.param_count() * 8);
    }
    ReferenceModel gpt(tiny_gpt2(), {}, 7);
    CHECK(gpt.param("layers.1.attn.q_proj.weight").size() == 16 * 16);
    CHECK(gpt.param_info("layers.0.attn.q_proj.weight").decay);
    CHECK_FALSE(gpt.param_info("layers.0.attn.q_proj.bias").decay);
    CHECK_FALSE(gpt.param_info("final_norm.weight").decay);
    CHECK(gpt.param("final_norm.weight")[3] == 1.0f);
    CHECK(gpt.param("final_norm.bias")[3] == 0.0f);
    CHECK_THROWS_AS(gpt.param("lm_head.weight"), std::out_of_range);  // tied
    // Deterministic: the same seed gives the same weights, another seed others.
    ReferenceModel same(tiny_gpt2(), {}, 7), other(tiny_gpt2(), {}, 8);
    CHECK(std::equal(gpt.parameters().begin(), gpt.parameters().end(), same.parameters().begin()));
    CHECK_FALSE(std::equal(gpt.parameters().begin(), gpt.parameters().end(), other.parameters().begin()));
    // normal(0, 0.02): the sample standard deviation of the token embedding.
    double s2 = 0;
    for (float w : gpt.param("embed_tokens.weight")) s2 += static_cast<double>(w) * w;
    CHECK(std::sqrt(s2 / (32 * 16)) == Approx(0.02).epsilon(0.1));

    ModelSpec moe = tiny_llama();
    moe.n_experts = 4;
    moe.top_k = 2;
    CHECK_THROWS_AS(ReferenceModel(moe), InputError);
    ModelSpec window = tiny_llama();
    window.sliding_window = 4;
    CHECK_THROWS_AS(ReferenceModel(window), InputError);
    // Bad batches: token ids outside the vocabulary, sizes that do not match.
    const Batch bb = random_batch(2, 8, 32, 1);
    std::vector<int> ids = bb.ids;
    ids[3] = 32;
    CHECK_THROWS_AS(gpt.forward_backward(ids, bb.targets, 2, 8), InputError);
    CHECK_THROWS_AS(gpt.forward_backward(bb.ids, bb.targets, 2, 7), InputError);
    CHECK_THROWS_AS(gpt.loss_only(random_batch(1, 17, 32, 1).ids, random_batch(1, 17, 32, 1).targets, 1, 17),
                    InputError);  // 17 > 16 learned positions
}

TEST_CASE("reference model: whole-model gradient check of tiny GPT-2 and Llama models", "[reference]") {
    const bool llama = GENERATE(false, true);
    const Attention attention = GENERATE(Attention::flash, Attention::eager);
    const ModelSpec spec = llama ? tiny_llama() : tiny_gpt2();
    CAPTURE(spec.name, to_string(attention));
    TrainOptions opt;
    opt.attention = attention;
    opt.init_std = 0.2f;  // larger weights than 0.02: gradients well above the fp32 loss noise
    ReferenceModel model(spec, opt, 3);
    const int B = 2, S = 8;
    const Batch batch = random_batch(B, S, 32, 5);
    const float loss = model.forward_backward(batch.ids, batch.targets, B, S);
    CHECK(loss == model.loss_only(batch.ids, batch.targets, B, S));  // same forward, same loss
    CHECK(loss > 2.0f);
    const std::vector<float> g(model.gradients().begin(), model.gradients().end());
    std::span<float> w = model.parameters();
    auto f = [&] { return static_cast<double>(model.loss_only(batch.ids, batch.targets, B, S)); };

    // 1. Directional derivative along a random unit direction u over all parameters:
    //    (L(w + εu) − L(w − εu)) / 2ε against g·u, ε 1e-2. g·u is 0.03–0.05 here; the fp32 loss
    //    (ulp 2.4e-7 at ~3.5) adds ~1e-5 after division. Tolerance 2e-5 + 1e-3·|g·u|; the
    //    largest error measured is 1e-5 (a fifth of the bound).
    {
        std::vector<float> u = randn(w.size(), 77);
        double un = 0;
        for (float x : u) un += static_cast<double>(x) * x;
        for (float& x : u) x = static_cast<float>(x / std::sqrt(un));
        const std::vector<float> w0(w.begin(), w.end());
        const double eps = 1e-2;
        std::vector<float> plus(w.size()), minus(w.size());
        for (std::size_t i = 0; i < w.size(); ++i) {
            plus[i] = static_cast<float>(w0[i] + eps * u[i]);
            minus[i] = static_cast<float>(w0[i] - eps * u[i]);
        }
        // g·(w₊ − w₋) / 2ε: the step actually taken after fp32 rounding.
        double gu = 0;
        for (std::size_t i = 0; i < w.size(); ++i)
            gu += static_cast<double>(g[i]) * (static_cast<double>(plus[i]) - minus[i]) / (2 * eps);
        std::copy(plus.begin(), plus.end(), w.begin());
        const double lp = f();
        std::copy(minus.begin(), minus.end(), w.begin());
        const double lm = f();
        std::copy(w0.begin(), w0.end(), w.begin());
        const double fd = (lp - lm) / (2 * eps);
        CAPTURE(fd, gu);
        CHECK(std::abs(fd - gu) <= 2e-5 + 1e-3 * std::abs(gu));
    }
    // 2. Per tensor: the element with the largest gradient and two others, ε 1e-2 (fp32 loss
    //    noise ~1e-5 after division, truncation of a curved loss O(ε²)). Tolerance 2e-4 +
    //    1e-2·|g|; the largest error measured is a tenth of the bound (relative error ≤ 1.5e-3
    //    where |g| > 1e-2).
    for (const ParamInfo& p : model.params()) {
        CAPTURE(p.name);
        std::vector<std::size_t> picks{0, p.size / 2};
        std::size_t best = 0;
        for (std::size_t i = 1; i < p.size; ++i)
            if (std::abs(g[p.offset + i]) > std::abs(g[p.offset + best])) best = i;
        picks.push_back(best);
        for (std::size_t i : picks) {
            const double an = g[p.offset + i];
            const double fd = central_difference(f, w[p.offset + i], 1e-2f);
            CAPTURE(i, fd, an);
            CHECK(std::abs(fd - an) <= 2e-4 + 1e-2 * std::abs(an));
        }
    }
}

TEST_CASE("reference model: recompute none, selective and full give identical gradients: eager ≈ flash",
          "[reference]") {
    const bool llama = GENERATE(false, true);
    const ModelSpec spec = llama ? tiny_llama() : tiny_gpt2();
    CAPTURE(spec.name);
    const int B = 2, S = 8;
    const Batch batch = random_batch(B, S, 32, 9);
    std::vector<float> reference_grads;
    float reference_loss = 0;
    for (Attention attention : {Attention::flash, Attention::eager}) {
        std::vector<float> mode_grads;
        for (Recompute r : {Recompute::none, Recompute::selective, Recompute::full}) {
            CAPTURE(to_string(attention), to_string(r));
            TrainOptions opt;
            opt.attention = attention;
            opt.recompute = r;
            ReferenceModel model(spec, opt, 11);
            const float loss = model.forward_backward(batch.ids, batch.targets, B, S);
            const std::vector<float> g(model.gradients().begin(), model.gradients().end());
            if (reference_grads.empty()) {
                reference_grads = g;
                reference_loss = loss;
            }
            CHECK(loss == reference_loss);  // the forward is the same arithmetic in every mode
            if (mode_grads.empty()) mode_grads = g;
            CHECK(g == mode_grads);  // recompute reproduces the forward bit for bit
            // Eager vs flash: P stored vs recomputed, fp32 rounding only (measured 7e-8 relative
            // to the largest gradient).
            CHECK(max_abs_diff(g, reference_grads) <= 1e-6 * max_abs(reference_grads));
            // Every activation, logit and workspace byte is released after the step.
            CHECK(model.memory().current_of(MemoryCategory::activations) == 0);
            CHECK(model.memory().current_of(MemoryCategory::logits) == 0);
            CHECK(model.memory().current_of(MemoryCategory::workspace) == 0);
        }
    }
    // Gradient accumulation: a second pass with accumulate doubles the gradients.
    ReferenceModel model(spec, {}, 11);
    model.forward_backward(batch.ids, batch.targets, B, S);
    model.forward_backward(batch.ids, batch.targets, B, S, true);
    std::vector<float> twice(reference_grads.size());
    std::transform(reference_grads.begin(), reference_grads.end(), twice.begin(), [](float x) { return 2 * x; });
    const std::vector<float> accumulated(model.gradients().begin(), model.gradients().end());
    CHECK(max_abs_diff(accumulated, twice) <= 1e-6 * max_abs(twice));
}

TEST_CASE("reference model: memory books per recompute and attention mode, to the byte", "[reference]") {
    const bool llama = GENERATE(false, true);
    const ModelSpec m = llama ? tiny_llama() : tiny_gpt2();
    CAPTURE(m.name);
    const int B = 2, S = 8;
    const std::size_t T = 16, d = 16, q = 16, kv = static_cast<std::size_t>(m.kv_dim()), f = static_cast<std::size_t>(m.d_ff),
                      L = 2, H = 4, V = 32;
    const std::size_t stats = llama ? T : 2 * T;  // rstd (+ mean for LayerNorm) per norm
    const std::size_t mlp = (llama ? 3 : 2) * T * f;  // gate, up, product | up, GELU output
    // Per layer without the attention store: norm-1 stats and output, q, k, v, attention output,
    // x_mid, norm-2 stats and output, MLP tensors (model.h).
    const std::size_t layer_common = stats + T * d + T * q + 2 * T * kv + T * q + T * d + stats + T * d + mlp;
    const std::size_t probs = B * H * S * S, lse = B * H * S;
    // Outside the layers: L+1 residual-stream tensors (layer inputs and the final-norm input),
    // the final norm's stats and output.
    const std::size_t outside = (L + 1) * T * d + stats + T * d;
    const Batch batch = random_batch(B, S, 32, 3);

    auto peak_activations = [&](Recompute r, Attention a) {
        TrainOptions opt;
        opt.recompute = r;
        opt.attention = a;
        ReferenceModel model(m, opt, 1);
        const StepStats st = model.train_step(batch.ids, batch.targets, B, S, AdamW{});
        CHECK(st.memory.peak_of(MemoryCategory::logits) == T * V * 4);  // one [T, V] buffer, gradient in place
        CHECK(st.memory.peak_phase_of(MemoryCategory::activations) == MemoryPhase::forward);
        CHECK(st.memory.total_peak_phase == MemoryPhase::backward);  // forward's activations + backward's first buffers
        CHECK(st.forward_s > 0);
        CHECK(st.backward_s > 0);
        CHECK(st.optimizer_s > 0);
        CHECK(st.total_s == Approx(st.forward_s + st.backward_s + st.optimizer_s));
        return st.memory.peak_of(MemoryCategory::activations);
    };
    const std::size_t none_eager = peak_activations(Recompute::none, Attention::eager);
    const std::size_t none_flash = peak_activations(Recompute::none, Attention::flash);
    const std::size_t selective = peak_activations(Recompute::selective, Attention::eager);
    const std::size_t full = peak_activations(Recompute::full, Attention::flash);
    CHECK(none_eager == 4 * (outside + L * (layer_common + probs)));  // eager keeps the s² probabilities
    CHECK(none_flash == 4 * (outside + L * (layer_common + lse)));    // flash only the log-sum-exp
    CHECK(selective == 4 * (outside + L * layer_common));             // neither: recomputed in backward
    CHECK(full == 4 * outside);                                       // layer inputs only
    CHECK(full < selective);
    CHECK(selective < none_flash);
    CHECK(none_flash < none_eager);
}

TEST_CASE("reference model: the loss falls on a learnable copy task", "[reference]") {
    // Each sequence alternates two random tokens (a b a b …, S 16): from the second position on,
    // the next token is the one before the current, so a model that learns to attend one
    // position back approaches 1/15·ln 32 ≈ 0.23 (only the first target is unpredictable); the
    // start is ln 32 ≈ 3.47. Over seeds 1–8 the held-out loss after 400 steps was 0.23–0.60
    // (GPT-2) and 0.42–0.66 (Llama): the bound 1.0 leaves a margin. (With a period of 4, the
    // GPT-2 model reaches its 0.69 floor in 300 steps but the Llama one, whose only position
    // signal is rotary over head_dim 4, needs about 800.)
    const bool llama = GENERATE(false, true);
    const ModelSpec spec = llama ? tiny_llama() : tiny_gpt2();
    CAPTURE(spec.name);
    ReferenceModel model(spec, {}, 2);
    AdamW opt;
    opt.lr = 1e-2f;
    opt.weight_decay = 0.0f;
    const int B = 8, S = 16, period = 2, steps = 400;
    std::mt19937 gen(123);
    std::uniform_int_distribution<int> tok(0, 31);
    auto make = [&] {
        Batch b;
        for (int i = 0; i < B; ++i) {
            std::vector<int> block(period);
            for (int& t : block) t = tok(gen);
            for (int s = 0; s < S; ++s) {
                b.ids.push_back(block[static_cast<std::size_t>(s % period)]);
                b.targets.push_back(s == S - 1 ? -1 : block[static_cast<std::size_t>((s + 1) % period)]);
            }
        }
        return b;
    };
    const Batch held_out = make();
    const float initial = model.loss_only(held_out.ids, held_out.targets, B, S);
    CHECK(initial == Approx(std::log(32.0)).epsilon(0.05));
    float first_train_loss = 0, last_train_loss = 0;
    for (int step = 0; step < steps; ++step) {
        const Batch b = make();
        const StepStats st = model.train_step(b.ids, b.targets, B, S, opt);
        REQUIRE(std::isfinite(st.loss));
        if (step == 0) first_train_loss = st.loss;
        last_train_loss = st.loss;
    }
    const float final_loss = model.loss_only(held_out.ids, held_out.targets, B, S);
    CAPTURE(initial, first_train_loss, last_train_loss, final_loss);
    CHECK(model.steps_taken() == steps);
    CHECK(last_train_loss < 0.5f * first_train_loss);
    CHECK(final_loss < 1.0f);
}
