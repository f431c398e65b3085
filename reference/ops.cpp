// ops.cpp — the CPU reference ops of ops.h: plain loops, fp32 storage, double accumulators.
//
// Written to be obviously right rather than fast: every reduction (dot products, row sums, norms
// statistics, softmax denominators, gradient sums over tokens) accumulates in double, softmax and
// cross-entropy subtract the row maximum, and element-wise math runs in double before the final
// cast to float. Element-wise ops (gelu, swiglu) allow their output to alias their input.
#include "reference/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace llmplan::reference {

namespace {

using std::size_t;

// size_t products of int sizes: no int overflow for large T·V or B·heads·S².
inline size_t sz(int a) { return static_cast<size_t>(a); }

inline float to_f(double x) { return static_cast<float>(x); }

// Row offset of token (b, s), head h in a [B, S, heads, d] tensor.
inline size_t bshd(int b, int s, int h, int S, int heads, int d) {
    return ((sz(b) * sz(S) + sz(s)) * sz(heads) + sz(h)) * sz(d);
}

void check_window(int window) {
    if (window < 0) throw std::invalid_argument("attention: window " + std::to_string(window) + " is negative");
}

// The first key query i sees: 0 (causal), or i − W + 1 with a sliding window of W keys (ops.h).
inline int first_key(int i, int window) { return window > 0 ? std::max(0, i - window + 1) : 0; }

void check_gqa(int heads, int kv_heads) {
    if (heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0)
        throw std::invalid_argument("attention: kv_heads (" + std::to_string(kv_heads) + ") must divide heads (" +
                                    std::to_string(heads) + ")");
}

}  // namespace

// --- linear ------------------------------------------------------------------------------------

void linear_forward(const float* x, const float* w, const float* b, float* y, int T, int k, int n) {
    for (int t = 0; t < T; ++t) {
        const float* xr = x + sz(t) * sz(k);
        float* yr = y + sz(t) * sz(n);
        for (int j = 0; j < n; ++j) {
            const float* wr = w + sz(j) * sz(k);
            double acc = b ? static_cast<double>(b[j]) : 0.0;
            for (int i = 0; i < k; ++i) acc += static_cast<double>(xr[i]) * wr[i];
            yr[j] = to_f(acc);
        }
    }
}

void linear_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, int T, int k,
                     int n) {
    std::vector<double> acc(sz(k));
    if (dx) {  // dx[t, :] = Σ_j dy[t, j] · W[j, :]
        for (int t = 0; t < T; ++t) {
            std::fill(acc.begin(), acc.end(), 0.0);
            const float* dyr = dy + sz(t) * sz(n);
            for (int j = 0; j < n; ++j) {
                const double g = dyr[j];
                const float* wr = w + sz(j) * sz(k);
                for (int i = 0; i < k; ++i) acc[sz(i)] += g * wr[i];
            }
            float* dxr = dx + sz(t) * sz(k);
            for (int i = 0; i < k; ++i) dxr[i] = to_f(acc[sz(i)]);
        }
    }
    if (dw) {  // dW[j, :] += Σ_t dy[t, j] · x[t, :]
        for (int j = 0; j < n; ++j) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int t = 0; t < T; ++t) {
                const double g = dy[sz(t) * sz(n) + sz(j)];
                const float* xr = x + sz(t) * sz(k);
                for (int i = 0; i < k; ++i) acc[sz(i)] += g * xr[i];
            }
            float* dwr = dw + sz(j) * sz(k);
            for (int i = 0; i < k; ++i) dwr[i] = to_f(dwr[i] + acc[sz(i)]);
        }
    }
    if (db) {
        for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int t = 0; t < T; ++t) s += dy[sz(t) * sz(n) + sz(j)];
            db[j] = to_f(db[j] + s);
        }
    }
}

// --- norms -------------------------------------------------------------------------------------

void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd, int T,
                       int h, float eps) {
    for (int t = 0; t < T; ++t) {
        const float* xr = x + sz(t) * sz(h);
        double m = 0;
        for (int i = 0; i < h; ++i) m += xr[i];
        m /= h;
        double var = 0;  // two-pass variance: no cancellation
        for (int i = 0; i < h; ++i) var += (xr[i] - m) * (xr[i] - m);
        var /= h;
        const double r = 1.0 / std::sqrt(var + static_cast<double>(eps));
        float* yr = y + sz(t) * sz(h);
        for (int i = 0; i < h; ++i) yr[i] = to_f((xr[i] - m) * r * gamma[i] + static_cast<double>(beta ? beta[i] : 0.0f));
        if (mean) mean[t] = to_f(m);
        if (rstd) rstd[t] = to_f(r);
    }
}

void layernorm_backward(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy, float* dx,
                        float* dgamma, float* dbeta, int T, int h) {
    std::vector<double> dg(sz(h), 0.0), dbt(sz(h), 0.0);
    for (int t = 0; t < T; ++t) {
        const float* xr = x + sz(t) * sz(h);
        const float* dyr = dy + sz(t) * sz(h);
        const double m = mean[t], r = rstd[t];
        // x̂ = (x − μ)·r; dx̂ = dy·γ; dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)).
        double sum_dxh = 0, sum_dxh_xh = 0;
        for (int i = 0; i < h; ++i) {
            const double xh = (xr[i] - m) * r, dxh = static_cast<double>(dyr[i]) * gamma[i];
            sum_dxh += dxh;
            sum_dxh_xh += dxh * xh;
            dg[sz(i)] += static_cast<double>(dyr[i]) * xh;
            dbt[sz(i)] += dyr[i];
        }
        sum_dxh /= h;
        sum_dxh_xh /= h;
        if (dx) {
            float* dxr = dx + sz(t) * sz(h);
            for (int i = 0; i < h; ++i) {
                const double xh = (xr[i] - m) * r, dxh = static_cast<double>(dyr[i]) * gamma[i];
                dxr[i] = to_f(r * (dxh - sum_dxh - xh * sum_dxh_xh));
            }
        }
    }
    for (int i = 0; i < h; ++i) {
        if (dgamma) dgamma[i] = to_f(dgamma[i] + dg[sz(i)]);
        if (dbeta) dbeta[i] = to_f(dbeta[i] + dbt[sz(i)]);
    }
}

void rmsnorm_forward(const float* x, const float* gamma, float* y, float* rstd, int T, int h, float eps) {
    for (int t = 0; t < T; ++t) {
        const float* xr = x + sz(t) * sz(h);
        double ms = 0;
        for (int i = 0; i < h; ++i) ms += static_cast<double>(xr[i]) * xr[i];
        ms /= h;
        const double r = 1.0 / std::sqrt(ms + static_cast<double>(eps));
        float* yr = y + sz(t) * sz(h);
        for (int i = 0; i < h; ++i) yr[i] = to_f(xr[i] * r * gamma[i]);
        if (rstd) rstd[t] = to_f(r);
    }
}

void rmsnorm_backward(const float* x, const float* gamma, const float* rstd, const float* dy, float* dx, float* dgamma, int T,
                      int h) {
    std::vector<double> dg(sz(h), 0.0);
    for (int t = 0; t < T; ++t) {
        const float* xr = x + sz(t) * sz(h);
        const float* dyr = dy + sz(t) * sz(h);
        const double r = rstd[t];
        // y_i = x_i·r·γ_i, r = (mean(x²) + ε)^−½: dx_i = r·γ_i·dy_i − x_i·r³·mean_j(dy_j·γ_j·x_j).
        double s = 0;
        for (int i = 0; i < h; ++i) {
            s += static_cast<double>(dyr[i]) * gamma[i] * xr[i];
            dg[sz(i)] += static_cast<double>(dyr[i]) * xr[i] * r;
        }
        s /= h;
        if (dx) {
            float* dxr = dx + sz(t) * sz(h);
            for (int i = 0; i < h; ++i) dxr[i] = to_f(r * gamma[i] * dyr[i] - xr[i] * r * r * r * s);
        }
    }
    if (dgamma)
        for (int i = 0; i < h; ++i) dgamma[i] = to_f(dgamma[i] + dg[sz(i)]);
}

// --- activations -------------------------------------------------------------------------------

namespace {
constexpr double kGeluC = 0.7978845608028654;  // √(2/π)
constexpr double kGeluA = 0.044715;
}  // namespace

void gelu_forward(const float* x, float* y, std::size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const double v = x[i];
        y[i] = to_f(0.5 * v * (1.0 + std::tanh(kGeluC * (v + kGeluA * v * v * v))));
    }
}

void gelu_backward(const float* x, const float* dy, float* dx, std::size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const double v = x[i];
        const double u = kGeluC * (v + kGeluA * v * v * v);
        const double th = std::tanh(u);
        const double du = kGeluC * (1.0 + 3.0 * kGeluA * v * v);
        const double grad = 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * du;
        dx[i] = to_f(grad * dy[i]);
    }
}

void swiglu_forward(const float* gate, const float* up, float* y, std::size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const double g = gate[i];
        const double sig = 1.0 / (1.0 + std::exp(-g));
        y[i] = to_f(g * sig * up[i]);
    }
}

void swiglu_backward(const float* gate, const float* up, const float* dy, float* dgate, float* dup, std::size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const double g = gate[i], u = up[i], d = dy[i];
        const double sig = 1.0 / (1.0 + std::exp(-g));
        const double silu = g * sig;
        // d silu / dg = σ(g)·(1 + g·(1 − σ(g))).
        if (dgate) dgate[i] = to_f(d * u * sig * (1.0 + g * (1.0 - sig)));
        if (dup) dup[i] = to_f(d * silu);
    }
}

// --- rotary ------------------------------------------------------------------------------------

namespace {
// Rotates each (x_i, x_{i+d/2}) pair by `sign`·angle (sign −1: the inverse rotation).
void rotate(float* x, int B, int S, int heads, int head_dim, float base, double sign) {
    if (head_dim % 2 != 0) throw std::invalid_argument("rotary: head_dim must be even (got " + std::to_string(head_dim) + ")");
    const int half = head_dim / 2;
    std::vector<double> inv_freq(sz(half));
    for (int i = 0; i < half; ++i)
        inv_freq[sz(i)] = std::pow(static_cast<double>(base), -2.0 * i / head_dim);
    std::vector<double> c(sz(half)), s(sz(half));
    for (int p = 0; p < S; ++p) {
        for (int i = 0; i < half; ++i) {
            const double angle = p * inv_freq[sz(i)];
            c[sz(i)] = std::cos(angle);
            s[sz(i)] = sign * std::sin(angle);
        }
        for (int b = 0; b < B; ++b)
            for (int h = 0; h < heads; ++h) {
                float* r = x + bshd(b, p, h, S, heads, head_dim);
                for (int i = 0; i < half; ++i) {
                    const double x0 = r[i], x1 = r[i + half];
                    r[i] = to_f(x0 * c[sz(i)] - x1 * s[sz(i)]);
                    r[i + half] = to_f(x1 * c[sz(i)] + x0 * s[sz(i)]);
                }
            }
    }
}
}  // namespace

void rotary_forward(float* x, int B, int S, int heads, int head_dim, float base) {
    rotate(x, B, S, heads, head_dim, base, 1.0);
}

void rotary_backward(float* dx, int B, int S, int heads, int head_dim, float base) {
    // The rotation R is orthogonal, so the gradient is Rᵀ·dy = R(−angle)·dy.
    rotate(dx, B, S, heads, head_dim, base, -1.0);
}

// --- attention ---------------------------------------------------------------------------------

void attention_forward(const float* q, const float* k, const float* v, float* out, float* probs, float* lse, int B, int S,
                       int heads, int kv_heads, int d, bool keep_probs, int window) {
    check_gqa(heads, kv_heads);
    check_window(window);
    const int group = heads / kv_heads;
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    std::vector<double> sc(sz(S)), acc(sz(d));
    for (int b = 0; b < B; ++b)
        for (int h = 0; h < heads; ++h) {
            const int kvh = h / group;
            for (int i = 0; i < S; ++i) {
                const float* qi = q + bshd(b, i, h, S, heads, d);
                const int j0 = first_key(i, window);
                double mx = -std::numeric_limits<double>::infinity();
                for (int j = j0; j <= i; ++j) {
                    const float* kj = k + bshd(b, j, kvh, S, kv_heads, d);
                    double dot = 0;
                    for (int c = 0; c < d; ++c) dot += static_cast<double>(qi[c]) * kj[c];
                    sc[sz(j)] = dot * scale;
                    mx = std::max(mx, sc[sz(j)]);
                }
                double sum = 0;
                for (int j = j0; j <= i; ++j) sum += std::exp(sc[sz(j)] - mx);
                const double row_lse = mx + std::log(sum);
                std::fill(acc.begin(), acc.end(), 0.0);
                const size_t prow = ((sz(b) * sz(heads) + sz(h)) * sz(S) + sz(i)) * sz(S);
                for (int j = j0; j <= i; ++j) {
                    const double p = std::exp(sc[sz(j)] - row_lse);
                    const float* vj = v + bshd(b, j, kvh, S, kv_heads, d);
                    for (int c = 0; c < d; ++c) acc[sz(c)] += p * vj[c];
                    if (keep_probs && probs) probs[prow + sz(j)] = to_f(p);
                }
                if (keep_probs && probs) {  // masked: exactly zero
                    for (int j = 0; j < j0; ++j) probs[prow + sz(j)] = 0.0f;
                    for (int j = i + 1; j < S; ++j) probs[prow + sz(j)] = 0.0f;
                }
                if (lse) lse[(sz(b) * sz(heads) + sz(h)) * sz(S) + sz(i)] = to_f(row_lse);
                float* oi = out + bshd(b, i, h, S, heads, d);
                for (int c = 0; c < d; ++c) oi[c] = to_f(acc[sz(c)]);
            }
        }
}

void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* probs,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv, int B, int S, int heads,
                        int kv_heads, int d, bool keep_probs, int window) {
    check_gqa(heads, kv_heads);
    check_window(window);
    if (keep_probs ? probs == nullptr : lse == nullptr)
        throw std::invalid_argument(keep_probs ? "attention_backward: keep_probs needs probs"
                                               : "attention_backward: the flash path needs lse");
    const int group = heads / kv_heads;
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    // dK and dV gather contributions from every query row and every head of a kv group: double.
    const size_t kv_elems = sz(S) * sz(kv_heads) * sz(d);
    std::vector<double> dk_acc(kv_elems), dv_acc(kv_elems);
    std::vector<double> p(sz(S)), ds(sz(S)), dqi(sz(d));
    for (int b = 0; b < B; ++b) {
        std::fill(dk_acc.begin(), dk_acc.end(), 0.0);
        std::fill(dv_acc.begin(), dv_acc.end(), 0.0);
        // Offset of (j, kvh) inside one batch element's [S, kv_heads, d] accumulators.
        auto kv_off = [&](int j, int kvh) { return (sz(j) * sz(kv_heads) + sz(kvh)) * sz(d); };
        for (int h = 0; h < heads; ++h) {
            const int kvh = h / group;
            for (int i = 0; i < S; ++i) {
                const float* qi = q + bshd(b, i, h, S, heads, d);
                const float* oi = out + bshd(b, i, h, S, heads, d);
                const float* doi = dout + bshd(b, i, h, S, heads, d);
                const size_t row = (sz(b) * sz(heads) + sz(h)) * sz(S) + sz(i);
                const int j0 = first_key(i, window);
                // P: saved (eager) or recomputed from the scores and the saved log-sum-exp (flash).
                for (int j = j0; j <= i; ++j) {
                    if (keep_probs) {
                        p[sz(j)] = probs[row * sz(S) + sz(j)];
                    } else {
                        const float* kj = k + bshd(b, j, kvh, S, kv_heads, d);
                        double dot = 0;
                        for (int c = 0; c < d; ++c) dot += static_cast<double>(qi[c]) * kj[c];
                        p[sz(j)] = std::exp(dot * scale - static_cast<double>(lse[row]));
                    }
                }
                // D_i = Σ_c dO_ic·O_ic = Σ_j P_ij·dP_ij (FlashAttention-2, Alg. 2).
                double D = 0;
                for (int c = 0; c < d; ++c) D += static_cast<double>(doi[c]) * oi[c];
                std::fill(dqi.begin(), dqi.end(), 0.0);
                for (int j = j0; j <= i; ++j) {
                    const float* kj = k + bshd(b, j, kvh, S, kv_heads, d);
                    const float* vj = v + bshd(b, j, kvh, S, kv_heads, d);
                    double dp = 0;
                    for (int c = 0; c < d; ++c) dp += static_cast<double>(doi[c]) * vj[c];
                    const double dsj = p[sz(j)] * (dp - D) * scale;  // dS·scale: the gradient of q·k
                    double* dkj = dk_acc.data() + kv_off(j, kvh);
                    double* dvj = dv_acc.data() + kv_off(j, kvh);
                    for (int c = 0; c < d; ++c) {
                        dqi[sz(c)] += dsj * kj[c];
                        dkj[c] += dsj * qi[c];
                        dvj[c] += p[sz(j)] * doi[c];
                    }
                }
                float* dqr = dq + bshd(b, i, h, S, heads, d);
                for (int c = 0; c < d; ++c) dqr[c] = to_f(dqi[sz(c)]);
            }
        }
        float* dkb = dk + sz(b) * kv_elems;
        float* dvb = dv + sz(b) * kv_elems;
        for (size_t e = 0; e < kv_elems; ++e) {
            dkb[e] = to_f(dk_acc[e]);
            dvb[e] = to_f(dv_acc[e]);
        }
    }
}

// --- cross-entropy -----------------------------------------------------------------------------

namespace {
void check_target(int target, int V, int t) {
    if (target >= V || target < -1)
        throw std::invalid_argument("cross_entropy: target " + std::to_string(target) + " of row " + std::to_string(t) +
                                    " is outside [0, " + std::to_string(V) + ") and is not −1 (ignored)");
}

// max and log Σ exp(x − max) of one row, in double.
double row_lse(const float* r, int V) {
    double mx = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < V; ++j) mx = std::max(mx, static_cast<double>(r[j]));
    double sum = 0;
    for (int j = 0; j < V; ++j) sum += std::exp(r[j] - mx);
    return mx + std::log(sum);
}
}  // namespace

float cross_entropy_forward_backward(const float* logits, const int* targets, float* dlogits, int T, int V,
                                     int denominator) {
    int count = 0;
    for (int t = 0; t < T; ++t) {
        check_target(targets[t], V, t);
        if (targets[t] >= 0) ++count;
    }
    if (denominator > 0) count = denominator;
    const double inv = count > 0 ? 1.0 / count : 0.0;
    double loss = 0;
    for (int t = 0; t < T; ++t) {
        const float* lr = logits + sz(t) * sz(V);
        float* dr = dlogits + sz(t) * sz(V);  // may alias lr: each element is read before it is written
        const int y = targets[t];
        if (y < 0) {
            std::fill(dr, dr + V, 0.0f);
            continue;
        }
        const double l = row_lse(lr, V);
        loss += l - lr[y];
        for (int j = 0; j < V; ++j) {
            const double pj = std::exp(lr[j] - l);
            dr[j] = to_f((pj - (j == y ? 1.0 : 0.0)) * inv);
        }
    }
    return to_f(loss * inv);
}

float cross_entropy_forward(const float* logits, const int* targets, int T, int V) {
    int count = 0;
    double loss = 0;
    for (int t = 0; t < T; ++t) {
        check_target(targets[t], V, t);
        if (targets[t] < 0) continue;
        const float* lr = logits + sz(t) * sz(V);
        loss += row_lse(lr, V) - lr[targets[t]];
        ++count;
    }
    return count > 0 ? to_f(loss / count) : 0.0f;
}

// --- mixture of experts ------------------------------------------------------------------------

namespace {

void check_moe(const MoeShape& s, const MoeWeights& w) {
    if (s.T < 0 || s.d <= 0 || s.experts <= 0 || s.top_k <= 0 || s.top_k > s.experts || s.expert_ff <= 0 || s.shared_ff < 0)
        throw std::invalid_argument("moe: needs d, experts, expert_ff > 0, 0 < top_k ≤ experts, shared_ff ≥ 0");
    if (s.shared_ff > 0 && (!w.shared_gate || !w.shared_up || !w.shared_down))
        throw std::invalid_argument("moe: shared_ff > 0 needs the shared expert's weights");
}

// One SwiGLU expert on n rows: fc = x·Wgᵀ, up = x·Wuᵀ, h = silu(fc)·up, y = h·Wdᵀ.
struct ExpertWork {
    std::vector<float> fc, up, h, y;
    void forward(const float* x, const float* wg, const float* wu, const float* wd, int n, int d, int f) {
        fc.resize(sz(n) * sz(f));
        up.resize(fc.size());
        h.resize(fc.size());
        y.resize(sz(n) * sz(d));
        linear_forward(x, wg, nullptr, fc.data(), n, d, f);
        linear_forward(x, wu, nullptr, up.data(), n, d, f);
        swiglu_forward(fc.data(), up.data(), h.data(), fc.size());
        linear_forward(h.data(), wd, nullptr, y.data(), n, f, d);
    }
    // dx (overwritten) from dy; the weight gradients accumulated.
    void backward(const float* x, const float* wg, const float* wu, const float* wd, const float* dy, float* dx, float* dwg,
                  float* dwu, float* dwd, int n, int d, int f) {
        std::vector<float> dh(fc.size()), dfc(fc.size()), dup(fc.size()), tmp(sz(n) * sz(d));
        linear_backward(h.data(), wd, dy, dh.data(), dwd, nullptr, n, f, d);
        swiglu_backward(fc.data(), up.data(), dh.data(), dfc.data(), dup.data(), fc.size());
        linear_backward(x, wg, dfc.data(), dx, dwg, nullptr, n, d, f);
        linear_backward(x, wu, dup.data(), tmp.data(), dwu, nullptr, n, d, f);
        for (size_t i = 0; i < tmp.size(); ++i) dx[i] += tmp[i];
    }
};

// The rows routed to expert e: (token, slot in its top-k).
std::vector<std::pair<int, int>> routed_to(const MoeRouting& r, const MoeShape& s, int e) {
    std::vector<std::pair<int, int>> rows;
    for (int t = 0; t < s.T; ++t)
        for (int k = 0; k < s.top_k; ++k)
            if (r.experts[sz(t) * sz(s.top_k) + sz(k)] == e) rows.emplace_back(t, k);
    return rows;
}

std::vector<float> gather_rows(const float* x, const std::vector<std::pair<int, int>>& rows, int d) {
    std::vector<float> out(rows.size() * sz(d));
    for (size_t i = 0; i < rows.size(); ++i) std::copy_n(x + sz(rows[i].first) * sz(d), sz(d), out.data() + i * sz(d));
    return out;
}

}  // namespace

void moe_forward(const float* x, const MoeWeights& w, const MoeShape& s, float* out, MoeRouting& r) {
    check_moe(s, w);
    const int E = s.experts, K = s.top_k, d = s.d, f = s.expert_ff;
    r.probs.assign(sz(s.T) * sz(E), 0.0f);
    r.gates.assign(sz(s.T) * sz(K), 0.0f);
    r.experts.assign(sz(s.T) * sz(K), 0);
    // Router: softmax over the experts, top-k by probability (ties: the lower index).
    std::vector<float> logits(sz(s.T) * sz(E));
    linear_forward(x, w.router, nullptr, logits.data(), s.T, d, E);
    std::vector<int> order(sz(E));
    for (int t = 0; t < s.T; ++t) {
        const float* lr = logits.data() + sz(t) * sz(E);
        float* pr = r.probs.data() + sz(t) * sz(E);
        const double lse = row_lse(lr, E);
        for (int e = 0; e < E; ++e) pr[e] = to_f(std::exp(lr[e] - lse));
        for (int e = 0; e < E; ++e) order[sz(e)] = e;
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return pr[a] > pr[b]; });
        double kept = 0;
        for (int k = 0; k < K; ++k) kept += pr[order[sz(k)]];
        for (int k = 0; k < K; ++k) {
            const int e = order[sz(k)];
            r.experts[sz(t) * sz(K) + sz(k)] = e;
            r.gates[sz(t) * sz(K) + sz(k)] = s.normalize_top_k ? to_f(pr[e] / kept) : pr[e];
        }
    }
    std::fill(out, out + sz(s.T) * sz(d), 0.0f);
    // The routed experts, one GEMM chain per expert over the rows routed to it.
    ExpertWork work;
    for (int e = 0; e < E; ++e) {
        const auto rows = routed_to(r, s, e);
        if (rows.empty()) continue;
        const std::vector<float> xe = gather_rows(x, rows, d);
        const size_t fd = sz(f) * sz(d);
        work.forward(xe.data(), w.gate + sz(e) * fd, w.up + sz(e) * fd, w.down + sz(e) * fd, static_cast<int>(rows.size()), d, f);
        for (size_t i = 0; i < rows.size(); ++i) {
            const float g = r.gates[sz(rows[i].first) * sz(K) + sz(rows[i].second)];
            float* o = out + sz(rows[i].first) * sz(d);
            for (int c = 0; c < d; ++c) o[c] += g * work.y[i * sz(d) + sz(c)];
        }
    }
    if (s.shared_ff > 0) {
        work.forward(x, w.shared_gate, w.shared_up, w.shared_down, s.T, d, s.shared_ff);
        for (size_t i = 0; i < work.y.size(); ++i) out[i] += work.y[i];
    }
}

void moe_backward(const float* x, const MoeWeights& w, const MoeShape& s, const MoeRouting& r, const float* dout, float* dx,
                  const MoeGrads& g) {
    check_moe(s, w);
    const int E = s.experts, K = s.top_k, d = s.d, f = s.expert_ff;
    std::fill(dx, dx + sz(s.T) * sz(d), 0.0f);
    std::vector<double> dgate(sz(s.T) * sz(K), 0.0);  // dL/dg per token and slot
    ExpertWork work;
    for (int e = 0; e < E; ++e) {
        const auto rows = routed_to(r, s, e);
        if (rows.empty()) continue;
        const int n = static_cast<int>(rows.size());
        const std::vector<float> xe = gather_rows(x, rows, d);
        const size_t fd = sz(f) * sz(d);
        work.forward(xe.data(), w.gate + sz(e) * fd, w.up + sz(e) * fd, w.down + sz(e) * fd, n, d, f);  // recomputed
        std::vector<float> dy(sz(n) * sz(d)), dxe(sz(n) * sz(d));
        for (size_t i = 0; i < rows.size(); ++i) {
            const size_t slot = sz(rows[i].first) * sz(K) + sz(rows[i].second);
            const float* dor = dout + sz(rows[i].first) * sz(d);
            double dg = 0;
            for (int c = 0; c < d; ++c) {
                dy[i * sz(d) + sz(c)] = r.gates[slot] * dor[c];
                dg += static_cast<double>(dor[c]) * work.y[i * sz(d) + sz(c)];
            }
            dgate[slot] = dg;
        }
        work.backward(xe.data(), w.gate + sz(e) * fd, w.up + sz(e) * fd, w.down + sz(e) * fd, dy.data(), dxe.data(),
                      g.gate + sz(e) * fd, g.up + sz(e) * fd, g.down + sz(e) * fd, n, d, f);
        for (size_t i = 0; i < rows.size(); ++i)
            for (int c = 0; c < d; ++c) dx[sz(rows[i].first) * sz(d) + sz(c)] += dxe[i * sz(d) + sz(c)];
    }
    // The gates through the softmax into the router logits. Without renormalisation g_e = p_e:
    // dr_j = Σ_e dg_e·p_e·(δ_ej − p_j). With it g = softmax over the top-k logits:
    // dr_j = g_j·(dg_j − Σ_e dg_e·g_e) for j in the top-k, 0 for the others.
    std::vector<float> dlogits(sz(s.T) * sz(E), 0.0f);
    for (int t = 0; t < s.T; ++t) {
        const float* pr = r.probs.data() + sz(t) * sz(E);
        float* dr = dlogits.data() + sz(t) * sz(E);
        const size_t base = sz(t) * sz(K);
        if (s.normalize_top_k) {
            double sum = 0;
            for (int k = 0; k < K; ++k) sum += dgate[base + sz(k)] * r.gates[base + sz(k)];
            for (int k = 0; k < K; ++k)
                dr[r.experts[base + sz(k)]] = to_f(r.gates[base + sz(k)] * (dgate[base + sz(k)] - sum));
        } else {
            double sum = 0;
            for (int k = 0; k < K; ++k) sum += dgate[base + sz(k)] * pr[r.experts[base + sz(k)]];
            for (int j = 0; j < E; ++j) dr[j] = to_f(-pr[j] * sum);
            for (int k = 0; k < K; ++k) {
                const int e = r.experts[base + sz(k)];
                dr[e] = to_f(dr[e] + dgate[base + sz(k)] * pr[e]);
            }
        }
    }
    std::vector<float> tmp(sz(s.T) * sz(d));
    linear_backward(x, w.router, dlogits.data(), tmp.data(), g.router, nullptr, s.T, d, E);
    for (size_t i = 0; i < tmp.size(); ++i) dx[i] += tmp[i];
    if (s.shared_ff > 0) {
        work.forward(x, w.shared_gate, w.shared_up, w.shared_down, s.T, d, s.shared_ff);
        work.backward(x, w.shared_gate, w.shared_up, w.shared_down, dout, tmp.data(), g.shared_gate, g.shared_up,
                      g.shared_down, s.T, d, s.shared_ff);
        for (size_t i = 0; i < tmp.size(); ++i) dx[i] += tmp[i];
    }
}

// --- embedding ---------------------------------------------------------------------------------

void embedding_forward(const float* table, const int* ids, float* y, int T, int h) {
    for (int t = 0; t < T; ++t) {
        if (ids[t] < 0) throw std::invalid_argument("embedding: negative id " + std::to_string(ids[t]));
        std::copy_n(table + sz(ids[t]) * sz(h), sz(h), y + sz(t) * sz(h));
    }
}

void embedding_backward(const int* ids, const float* dy, float* dtable, int T, int h) {
    // Rows of a repeated id are summed in order of t (deterministic).
    for (int t = 0; t < T; ++t) {
        if (ids[t] < 0) throw std::invalid_argument("embedding: negative id " + std::to_string(ids[t]));
        float* row = dtable + sz(ids[t]) * sz(h);
        const float* g = dy + sz(t) * sz(h);
        for (int i = 0; i < h; ++i) row[i] += g[i];
    }
}

// --- optimizer ---------------------------------------------------------------------------------

float global_norm(const std::vector<std::pair<const float*, std::size_t>>& buffers) {
    double s = 0;
    for (const auto& [p, n] : buffers)
        for (size_t i = 0; i < n; ++i) s += static_cast<double>(p[i]) * p[i];
    return to_f(std::sqrt(s));
}

void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n, const AdamW& opt, int step,
                  float grad_scale, bool decay) {
    if (step < 1) throw std::invalid_argument("adamw_update: step counts from 1 (got " + std::to_string(step) + ")");
    const double b1 = opt.beta1, b2 = opt.beta2, lr = opt.lr, eps = opt.eps;
    const double bc1 = 1.0 - std::pow(b1, step), bc2 = 1.0 - std::pow(b2, step);
    // PyTorch's AdamW order: decoupled decay p ← p·(1 − lr·λ), then the Adam step.
    const double keep = decay ? 1.0 - lr * static_cast<double>(opt.weight_decay) : 1.0;
    for (size_t i = 0; i < n; ++i) {
        const double g = static_cast<double>(grad[i]) * grad_scale;
        const double mi = b1 * m[i] + (1.0 - b1) * g;
        const double vi = b2 * v[i] + (1.0 - b2) * g * g;
        m[i] = to_f(mi);
        v[i] = to_f(vi);
        const double mhat = mi / bc1, vhat = vi / bc2;
        param[i] = to_f(param[i] * keep - lr * mhat / (std::sqrt(vhat) + eps));
    }
}

}  // namespace llmplan::reference
