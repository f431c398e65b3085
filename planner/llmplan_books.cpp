// llmplan_books.cpp — one rank's engine books replayed allocation by allocation (see
// llmplan_profile.h, llmplan_engine_books): the one-GPU engine and its data-parallel stages.
#include "planner/llmplan_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "engine/engine_layout.h"
#include "engine/shard_plan.h"

#include <algorithm>
#include <set>
#include <vector>

namespace llmplan {

namespace {

enum Book { kParams = 0, kGrads = 1, kOptim = 2, kActs = 3, kLogits = 4, kWork = 5 };

// The engine's Pools (kernels/cuda/engine.cu): current and peak bytes per category and in total,
// the phase a peak was first reached in (a peak moves only when strictly passed).
struct Replay {
    std::array<double, kMemoryCategories> cur{}, peak{}, at_peak{};
    std::array<std::string, kMemoryCategories> peak_phase{"idle", "idle", "idle", "idle", "idle", "idle"};
    double total = 0, total_peak = 0, forward_peak = 0, backward_peak = 0;
    std::string phase = "idle", total_phase = "idle";
    void alloc(Book c, double bytes) {
        if (bytes <= 0) return;  // an empty DBuf allocates nothing
        cur[c] += bytes;
        total += bytes;
        if (cur[c] > peak[c]) {
            peak[c] = cur[c];
            peak_phase[c] = phase;
        }
        if (total > total_peak) {
            total_peak = total;
            total_phase = phase;
            at_peak = cur;
        }
        if (phase == "forward") forward_peak = std::max(forward_peak, total);
        if (phase == "backward") backward_peak = std::max(backward_peak, total);
    }
    void release(Book c, double bytes) {
        if (bytes <= 0) return;
        cur[c] -= bytes;
        total -= bytes;
    }
};

}  // namespace

EngineBooks llmplan_engine_books(const ModelSpec& m, const TrainConfig& c, std::size_t bucket_cap_bytes,
                                 std::size_t first_bucket_bytes) {
    validate_llmplan_profile(m, c);
    const int n = c.parallel.gpus;
    const int zero = n > 1 ? c.parallel.zero : 0;
    const bool mixed = c.precision == Precision::mixed_bf16 || c.precision == Precision::mixed_fp16;
    const double e = mixed ? 2 : 4;
    const double T = static_cast<double>(c.micro_batch) * static_cast<double>(c.seq), d = m.d_model,
                 q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()), f = m.d_ff,
                 B = static_cast<double>(c.micro_batch), S = static_cast<double>(c.seq), H = m.n_heads;
    const int L = m.n_layers;
    const bool ln = m.norm == Norm::layernorm, swiglu = m.activation == Activation::swiglu,
               eager = c.attention == Attention::eager;
    // The per-layer sizes of llmplan_profile.cpp (kernels/engine.h lists the buffers).
    const double td = T * d, stats = 4 * (ln ? 2 * T : T), mlp = (swiglu ? 3 : 2) * T * f;
    const double common = stats + e * (td + T * q + 2 * T * kv + T * q + td) + stats + e * (td + mlp);
    const double store = eager ? e * B * H * S * S : 4 * B * H * S;
    double kept = 0, scratch = 0;
    switch (c.recompute) {
        case Recompute::none: kept = common + store; break;
        case Recompute::selective: kept = common; scratch = store; break;
        case Recompute::full: scratch = common + store; break;
    }
    const double R = e * td;  // one residual-stream tensor
    const double P = static_cast<double>(count_params(m).total());
    // The logits buffer: whatever the one-GPU books allocate at the end of the forward (so that one
    // definition of it — llmplan_profile.cpp — serves both): forward_end − statics − activations − scratch.
    TrainConfig one = c;
    one.parallel.gpus = 1;
    one.parallel.zero = 0;
    one.global_batch = 0;
    const StageMemory single = plan_llmplan_stage(m, one);
    double forward_end = 0;
    for (const PhaseTotal& ph : single.phases)
        if (ph.name == "forward_end") forward_end = ph.bytes;
    const double activations_all = e * (L + 1) * td + stats + e * td + L * kept;
    const double logits = forward_end - (single.parameters + single.gradients + single.optimizer_states) -
                          activations_all - scratch;

    EngineBooks out;
    out.world = n;
    out.zero = zero;
    out.total_elements = static_cast<std::size_t>(P);
    dist::ShardPlan plan;
    std::vector<int> first_grad;
    if (n > 1) {
        dist::ShardOptions so;
        so.world = n;
        so.zero = zero;
        so.element_bytes = static_cast<std::size_t>(e);
        so.bucket_cap_bytes = bucket_cap_bytes;
        so.first_bucket_bytes = first_bucket_bytes;
        plan = dist::plan_shards(dist::engine_flat_layout(m), so);
        for (const dist::Unit& u : plan.units) first_grad.push_back(dist::first_grad_step(plan, u));
        out.padded_elements = plan.padded_total;
        out.shard_elements = plan.shard_elements;
        out.units = plan.units.size();
    }
    const double full = zero >= 1 ? static_cast<double>(plan.padded_total) : P;
    const double shard = static_cast<double>(plan.shard_elements);
    const double states = zero >= 1 ? shard : P;
    auto unit_bytes = [&](int u) { return static_cast<double>(plan.units[static_cast<std::size_t>(u)].padded) * e; };

    Replay r;
    // Between steps: weights, gradients, optimizer state (kernels/cuda/engine.cu, allocate_dist).
    r.alloc(kParams, zero <= 2 ? full * e : shard * e);
    r.alloc(kGrads, zero <= 1 ? full * e : shard * e);
    r.alloc(kOptim, (mixed ? 3 : 2) * 4 * states);
    out.statics = r.total;

    // The forward: per compute step p, ZeRO-3's gathers issued at p, then the step's buffers; the
    // units last used at p freed after it.
    r.phase = "forward";
    for (int p = 0; p <= L + 1; ++p) {
        if (zero == 3)
            for (const dist::GatherEvent& g : plan.forward.gathers)
                if (g.issue_at == p) r.alloc(kParams, unit_bytes(g.unit));
        if (p <= L) r.alloc(kActs, R);  // the residual stream entering step p
        if (p >= 1 && p <= L) {
            r.alloc(kActs, kept);
            if (p == 1) r.alloc(kWork, scratch);  // one layer's unkept fields, allocated once
        }
        if (p == L + 1) {
            r.alloc(kActs, stats);  // final norm: mean (LayerNorm) and rstd
            r.alloc(kActs, R);      // final norm output
            r.alloc(kLogits, logits);
        }
        if (zero == 3)
            for (const dist::GatherEvent& g : plan.forward.gathers)
                if (g.last_use == p) r.release(kParams, unit_bytes(g.unit));
    }

    // The backward: step k = L + 1 … 0, pass position p = L + 1 − k.
    r.phase = "backward";
    std::set<int> staged;
    std::vector<int> in_flight;
    double staging_now = 0;
    auto before = [&](int k) {
        const int p = L + 1 - k;
        if (zero == 3)
            for (const dist::GatherEvent& g : plan.backward.gathers)
                if (g.issue_at == p) r.alloc(kParams, unit_bytes(g.unit));
        if (zero >= 2)
            for (std::size_t u = 0; u < plan.units.size(); ++u)
                if (first_grad[u] == k && !staged.count(static_cast<int>(u))) {
                    staged.insert(static_cast<int>(u));
                    r.alloc(kGrads, unit_bytes(static_cast<int>(u)));
                    staging_now += unit_bytes(static_cast<int>(u));
                    out.max_staging_bytes = std::max(out.max_staging_bytes, staging_now);
                }
    };
    auto after = [&](int k) {
        const int p = L + 1 - k;
        std::vector<int> ready;
        if (zero == 3) {
            for (const dist::ReduceEvent& rd : plan.backward.reduces)
                if (rd.after == p) ready.push_back(rd.unit);
        } else if (n > 1) {
            for (const dist::Unit& u : plan.units)
                if (u.ready_after_step == k) ready.push_back(u.index);
        }
        if (!ready.empty() && zero >= 2) {
            for (const int u : in_flight) {  // freed once the compute stream waited for their reduce-scatter
                r.release(kGrads, unit_bytes(u));
                staging_now -= unit_bytes(u);
            }
            in_flight = ready;
        }
        if (zero == 3)
            for (const dist::GatherEvent& g : plan.backward.gathers)
                if (g.last_use == p) r.release(kParams, unit_bytes(g.unit));
    };
    before(L + 1);
    r.alloc(kWork, R);       // dL/d(final-norm output)
    r.release(kLogits, logits);
    r.release(kActs, R);     // final-norm output
    r.alloc(kWork, R);       // residual gradient
    r.alloc(kWork, R);       // temporary
    r.release(kActs, stats);
    after(L + 1);
    r.alloc(kWork, e * T * q);   // attention output gradient
    r.alloc(kWork, e * T * q);   // dq
    r.alloc(kWork, e * T * kv);  // dk
    r.alloc(kWork, e * T * kv);  // dv
    r.alloc(kWork, e * T * f);   // MLP activation gradient
    r.alloc(kWork, e * T * f);   // dfc
    if (swiglu) r.alloc(kWork, e * T * f);
    for (int k = L; k >= 1; --k) {
        r.release(kActs, R);  // the residual leaving layer k − 1
        before(k);
        r.release(kActs, kept);
        after(k);
    }
    before(0);
    after(0);
    if (zero == 3)
        out.max_gathered_bytes = static_cast<double>(std::max(plan.forward.max_gathered, plan.backward.max_gathered)) * e;

    out.peak = r.peak;
    out.peak_phase = r.peak_phase;
    out.at_peak = r.at_peak;
    out.total_peak = r.total_peak;
    out.total_peak_phase = r.total_phase;
    out.forward_peak = r.forward_peak;
    out.backward_peak = r.backward_peak;
    return out;
}

StageMemory plan_llmplan_dist_stage(const ModelSpec& m, const TrainConfig& c) {
    const EngineBooks b = llmplan_engine_books(m, c);
    const bool mixed = c.precision == Precision::mixed_bf16 || c.precision == Precision::mixed_fp16;
    const int n = c.parallel.gpus, z = c.parallel.zero;
    StageMemory s;
    s.stage = 0;
    s.layers = m.n_layers;
    s.placement = "whole model on each of " + std::to_string(n) + " data-parallel ranks (ZeRO-" + std::to_string(z) + ")";
    s.params_on_gpu = count_params(m).total();
    s.layer_microbatches = m.n_layers;
    s.microbatches_in_flight = 1;
    // The persistent buffers in parameters / gradients (the terms plan_perf reads: ZeRO-3's
    // all-gather is n × the weight shard), the temporary ones in their own terms.
    const double e = mixed ? 2 : 4;
    const double weights = z == 3 ? static_cast<double>(b.shard_elements) * e : b.at_peak[kParams];
    const double grads = z >= 2 ? static_cast<double>(b.shard_elements) * e : b.at_peak[kGrads];
    s.parameters = weights;
    s.zero3_gathered = b.at_peak[kParams] - weights;
    s.gradients = grads;
    s.communication_buffers = b.at_peak[kGrads] - grads;
    s.optimizer_states = b.at_peak[kOptim];
    s.activations = b.at_peak[kActs];
    s.logits = b.at_peak[kLogits];
    s.temporary = b.at_peak[kWork];
    s.phases = {{"forward", b.forward_peak}, {"backward", b.backward_peak}, {"optimizer_step", b.statics}};
    s.peak_phase = b.total_peak_phase;
    s.peak_allocated = b.total_peak;
    s.reserved_estimate = s.peak_allocated;
    s.overhead = 0;
    s.device_total = s.reserved_estimate;
    const std::string src = "kernels/cuda/data_parallel.cu (the engine's arenas, data parallel; engine/shard_plan.h)";
    const std::string eb = mixed ? std::string(c.precision == Precision::mixed_fp16 ? " × 2 B (fp16)" : " × 2 B (bf16)")
                                 : " × 4 B (fp32)";
    const std::string P = format_int(s.params_on_gpu), Pp = format_int(static_cast<std::int64_t>(b.padded_elements)),
                      Ps = format_int(static_cast<std::int64_t>(b.shard_elements));
    auto gib = [](double x) { return format_bytes(x, ByteUnit::gib); };
    std::string pw, gw, ow;
    if (z == 0) {
        pw = P + eb;
        gw = P + eb + ", all-reduced in place bucket by bucket";
        ow = std::string(mixed ? "fp32 master, AdamW m and v: 3 × " : "AdamW m and v: 2 × ") + P + " × 4 B";
    } else {
        pw = z <= 2 ? Pp + eb + " (units padded to " + std::to_string(n) + " × 128 B)" : Ps + eb + " (this rank's slices)";
        gw = z <= 1 ? Pp + eb + ", reduce-scattered in place" : Ps + eb + " (this rank's slices)";
        ow = std::string(mixed ? "fp32 master, AdamW m and v: 3 × " : "AdamW m and v: 2 × ") + Ps + " × 4 B (this rank's slices)";
    }
    s.terms.push_back({"parameters", "parameters", s.parameters, pw, src});
    if (z == 3)
        s.terms.push_back({"zero3_gathered", "ZeRO-3 gathered parameters", s.zero3_gathered,
                           "layer units all-gathered for the pass at the peak (one-step prefetch; at most " +
                               gib(b.max_gathered_bytes) + ")",
                           src});
    s.terms.push_back({"gradients", "gradients", s.gradients, gw, src});
    if (z >= 2)
        s.terms.push_back({"communication_buffers", "gradient staging", s.communication_buffers,
                           "full gradients of the units being filled or reduce-scattered at the peak (at most " +
                               gib(b.max_staging_bytes) + ")",
                           src});
    s.terms.push_back({"optimizer", "optimizer state", s.optimizer_states, ow, src});
    s.terms.push_back({"activations", "activations", s.activations, "as on one GPU (the rank's micro-batch), at the peak", src});
    s.terms.push_back({"logits", "logits (gradient in place)", s.logits, "as on one GPU, at the peak", src});
    s.terms.push_back({"temporary", "workspace", s.temporary, "as on one GPU, at the peak", src});
    return s;
}

}  // namespace llmplan
