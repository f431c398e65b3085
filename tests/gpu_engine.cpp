// gpu_engine.cpp — the GPU training engine (kernels/engine.h) against the CPU reference
// (kernels/reference/model.h) on tiny models of both families (ctest: gpu.engine, label gpu).
// Exits 77 (ctest "Skipped") where there is no driver or GPU, 0 when every check passes, 1
// otherwise; prints one line per check.
//   1. Same seed, same weights: the GPU engine's initial fp32 weights equal the reference's.
//   2. Loss and gradients of one forward+backward: fp32 within 1e-5 (loss, relative) and 1e-4
//      (gradients, ‖Δ‖/‖g‖ over all, and per tensor 1e-3); bf16 (mixed) within 2e-2, 5e-2 and 0.1,
//      for GPT-2 and Llama, recompute none/selective/full, eager and flash attention.
//   3. Memory books: with fp32 storage every category's peak, its phase and the total peak equal
//      the reference's byte for byte; with bf16 they equal the formulas of kernels/engine.h.
//   4. Learning: the loss falls on the reference test's copy task (400 steps, lr 1e-2).
#include "kernels/engine.h"
#include "kernels/reference/model.h"
#include "tiny_models.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace llmplan;
using kernels::DType;
using kernels::EngineCategory;
using kernels::GpuModel;
namespace ref = llmplan::reference;

int failures = 0, checks = 0;

void check(bool ok, const std::string& what) {
    ++checks;
    if (!ok) ++failures;
    std::printf("%s  %s\n", ok ? "pass" : "FAIL", what.c_str());
}

using test::tiny_gpt2;
using test::tiny_llama;

double rel_err(const std::vector<float>& a, const float* b, std::size_t n) {
    double num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
        num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
        den += static_cast<double>(b[i]) * b[i];
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

const char* rname(Recompute r) { return r == Recompute::none ? "none" : r == Recompute::selective ? "selective" : "full"; }

// The engine's books from its formulas (kernels/engine.h), for one step of B×S tokens.
struct Expected {
    std::size_t parameters, gradients, optimizer, activations, logits;
};
Expected expected_books(const ModelSpec& m, std::size_t N, DType dt, Recompute r, bool eager, int B, int S) {
    const std::size_t eb = kernels::dtype_bytes(dt), T = static_cast<std::size_t>(B) * S;
    const std::size_t d = m.d_model, q = m.n_heads * m.head_dim, kv = m.n_kv_heads * m.head_dim, f = m.d_ff;
    const bool ln = m.norm == Norm::layernorm, swiglu = m.activation == Activation::swiglu;
    const std::size_t stats = T * 4 * (ln ? 2 : 1);  // mean (LayerNorm) and rstd, fp32
    std::size_t layer = T * d * eb;                 // the layer input
    if (r != Recompute::full) {
        layer += 2 * stats + (3 * T * d + 2 * T * q + 2 * T * kv + (swiglu ? 3 : 2) * T * f) * eb;
        if (r == Recompute::none)
            layer += eager ? static_cast<std::size_t>(B) * m.n_heads * S * S * eb : static_cast<std::size_t>(B) * m.n_heads * S * 4;
    }
    Expected e{};
    e.parameters = N * eb;
    e.gradients = N * eb;
    e.optimizer = N * 4 * (dt == DType::fp32 ? 2 : 3);
    e.activations = layer * m.n_layers + T * d * eb /* final-norm input */ + stats + T * d * eb /* its output */;
    e.logits = T * static_cast<std::size_t>(m.vocab_size) * eb;
    return e;
}

void compare(const ModelSpec& spec, DType dt, Recompute r, Attention att) {
    const std::string tag = spec.name + " " + kernels::dtype_name(dt) + " recompute " + rname(r) + " " +
                            (att == Attention::eager ? "eager" : "flash");
    ref::TrainOptions ro;
    ro.recompute = r;
    ro.attention = att;
    ref::ReferenceModel cpu(spec, ro, 7);
    GpuModel gpu(spec, kernels::engine_options(r, att, dt), 7);
    const bool fp32 = dt == DType::fp32;
    if (fp32 && r == Recompute::none) {
        const std::vector<float> w = gpu.parameters();
        const auto c = cpu.parameters();
        bool same = w.size() == c.size();
        for (std::size_t i = 0; same && i < w.size(); ++i) same = w[i] == c[i];
        check(same, tag + ": same seed, same initial weights (" + std::to_string(w.size()) + ")");
    }
    const int B = 2, S = 16;
    std::mt19937 gen(11);
    std::uniform_int_distribution<int> tok(0, static_cast<int>(spec.vocab_size) - 1);
    std::vector<int> ids, targets;
    for (int i = 0; i < B * S; ++i) {
        ids.push_back(tok(gen));
        targets.push_back(i % 7 == 3 ? -1 : tok(gen));
    }
    const float lc = cpu.forward_backward(ids, targets, B, S);
    const float lg = gpu.forward_backward(ids, targets, B, S);
    const double loss_err = std::fabs(static_cast<double>(lg) - lc) / std::fabs(static_cast<double>(lc));
    char buf[256];
    std::snprintf(buf, sizeof buf, ": loss %.6f vs reference %.6f (rel err %.2e)", lg, lc, loss_err);
    check(loss_err < (fp32 ? 1e-5 : 2e-2), tag + buf);
    const std::vector<float> g = gpu.gradients();
    const auto gc = cpu.gradients();
    const double all = rel_err(g, gc.data(), gc.size());
    double gnorm = 0;
    for (float x : gc) gnorm += static_cast<double>(x) * x;
    gnorm = std::sqrt(gnorm);
    double worst = 0;
    std::string worst_name;
    for (const auto& p : cpu.params()) {
        const std::vector<float> slice(g.begin() + static_cast<std::ptrdiff_t>(p.offset),
                                       g.begin() + static_cast<std::ptrdiff_t>(p.offset + p.size));
        // Normalised by the tensor's norm, but not below 1e-3 of the whole gradient's: some
        // gradients are zero in exact arithmetic (the key bias: softmax ignores a constant added
        // to every score of a row) and only rounding remains of them.
        double num = 0, den = 0;
        for (std::size_t i = 0; i < p.size; ++i) {
            const double dlt = static_cast<double>(slice[i]) - gc[p.offset + i];
            num += dlt * dlt;
            den += static_cast<double>(gc[p.offset + i]) * gc[p.offset + i];
        }
        const double e = std::sqrt(num) / std::max(std::sqrt(den), 1e-3 * gnorm);
        if (e > worst) {
            worst = e;
            worst_name = p.name;
        }
    }
    std::snprintf(buf, sizeof buf, ": gradients rel err %.2e over all, worst tensor %.2e (%s)", all, worst,
                  worst_name.c_str());
    check(fp32 ? all < 1e-4 && worst < 1e-3 : all < 5e-2 && worst < 0.1, tag + buf);

    // One optimizer step: the weights stay together.
    ref::AdamW ao;
    kernels::EngineAdamW go;
    cpu.optimizer_step(ao);
    gpu.optimizer_step(go);
    const auto wc = cpu.parameters();
    const double werr = rel_err(gpu.parameters(), wc.data(), wc.size());
    std::snprintf(buf, sizeof buf, ": weights after one AdamW step rel err %.2e", werr);
    check(werr < (fp32 ? 1e-5 : 1e-2), tag + buf);

    // The books.
    const kernels::EngineMemory gm = gpu.memory();
    const ref::MemoryStats& cm = cpu.memory();
    const Expected e = expected_books(spec, gpu.param_count(), dt, r, att == Attention::eager, B, S);
    const std::size_t want[] = {e.parameters, e.gradients, e.optimizer, e.activations, e.logits};
    bool books = true;
    std::string detail;
    for (int c = 0; c < 5; ++c) {
        const auto cat = static_cast<EngineCategory>(c);
        const std::size_t got = gm.peak_of(cat);
        bool ok = got == want[c];
        if (fp32)
            ok = ok && got == cm.peak[static_cast<std::size_t>(c)] &&
                 static_cast<int>(gm.peak_phase_of(cat)) == static_cast<int>(cm.peak_phase[static_cast<std::size_t>(c)]);
        if (!ok) {
            books = false;
            detail += std::string(" ") + kernels::engine_category_name(cat) + " " + std::to_string(got) + " vs " +
                      std::to_string(want[c]) + (fp32 ? " (reference " + std::to_string(cm.peak[static_cast<std::size_t>(c)]) + ")" : "");
        }
    }
    if (fp32) {
        books = books && gm.peak[5] == cm.peak[5] && gm.total_peak == cm.total_peak &&
                static_cast<int>(gm.total_peak_phase) == static_cast<int>(cm.total_peak_phase);
        if (gm.peak[5] != cm.peak[5]) detail += " workspace " + std::to_string(gm.peak[5]) + " vs " + std::to_string(cm.peak[5]);
    }
    check(books, tag + ": memory books " + (fp32 ? "equal the reference's and the formulas (total peak " +
                                                       std::to_string(gm.total_peak) + " B)"
                                                 : "equal the formulas") +
                     detail);
}

void learn(const ModelSpec& spec, DType dt) {
    GpuModel model(spec, kernels::engine_options(Recompute::none, Attention::flash, dt), 2);
    kernels::EngineAdamW opt;
    opt.lr = 1e-2f;
    opt.weight_decay = 0.0f;
    const int B = 8, S = 16, period = 2, steps = 400;
    std::mt19937 gen(123);
    std::uniform_int_distribution<int> tok(0, 31);
    float first = 0, last = 0;
    double ms = 0;
    for (int step = 0; step < steps; ++step) {
        std::vector<int> ids, targets;
        for (int i = 0; i < B; ++i) {
            const int block[2] = {tok(gen), tok(gen)};
            for (int s = 0; s < S; ++s) {
                ids.push_back(block[s % period]);
                targets.push_back(s == S - 1 ? -1 : block[(s + 1) % period]);
            }
        }
        const kernels::EngineStepStats st = model.train_step(ids, targets, B, S, opt);
        if (step == 0) first = st.loss;
        last = st.loss;
        ms += st.total_ms;
        if (!std::isfinite(st.loss)) break;
    }
    char buf[200];
    std::snprintf(buf, sizeof buf, " %s: copy task loss %.3f -> %.3f in %d steps (%.3f ms/step)", kernels::dtype_name(dt),
                  first, last, steps, ms / steps);
    check(std::isfinite(last) && last < 0.5f * first && last < 1.2f, spec.name + buf);
}

}  // namespace

int main() {
    std::string why;
    if (!kernels::engine_gpu_available(&why)) {
        std::printf("gpu.engine: skipped: %s\n", why.c_str());
        return 77;
    }
    try {
        for (const ModelSpec& spec : {tiny_gpt2(), tiny_llama()})
            for (DType dt : {DType::fp32, DType::bf16})
                for (Recompute r : {Recompute::none, Recompute::selective, Recompute::full})
                    for (Attention a : {Attention::eager, Attention::flash}) compare(spec, dt, r, a);
        for (const ModelSpec& spec : {tiny_gpt2(), tiny_llama()})
            for (DType dt : {DType::fp32, DType::bf16}) learn(spec, dt);
    } catch (const std::exception& e) {
        std::printf("FAIL  exception: %s\n", e.what());
        ++failures;
    }
    std::printf("gpu.engine: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
