// llmplan_books.cpp — one rank's engine books, the step program's (engine/program.h) allocations
// replayed (see llmplan_profile.h, llmplan_engine_books), and the StageMemory of data parallelism.
#include "planner/llmplan_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "engine/program.h"

#include <algorithm>

namespace llmplan {

namespace {
enum Book { kParams = 0, kGrads = 1, kOptim = 2, kActs = 3, kLogits = 4, kWork = 5 };
}  // namespace

EngineBooks llmplan_engine_books(const ModelSpec& m, const TrainConfig& c, std::size_t bucket_cap_bytes,
                                 std::size_t first_bucket_bytes) {
    validate_llmplan_profile(m, c);
    EngineStepOptions o = engine_step_options(c);
    o.bucket_cap_bytes = bucket_cap_bytes;
    o.first_bucket_bytes = first_bucket_bytes;
    const EngineProgram prog = build_engine_program(m, o);
    const EngineBooksReplay r = replay_engine_books(prog);
    EngineBooks out;
    out.world = o.world;
    out.zero = prog.options.zero;
    out.total_elements = static_cast<std::size_t>(count_params(m).total());
    if (o.world > 1) {
        out.padded_elements = prog.shards.padded_total;
        out.shard_elements = prog.shards.shard_elements;
        out.units = prog.shards.units.size();
    }
    if (out.zero == 3)
        out.max_gathered_bytes =
            static_cast<double>(std::max(prog.shards.forward.max_gathered, prog.shards.backward.max_gathered)) *
            prog.element_bytes;
    out.max_staging_bytes = r.max_staging_bytes;
    for (std::size_t i = 0; i < kMemoryCategories; ++i) out.peak_phase[i] = to_string(r.peak_phase[i]);
    out.peak = r.peak;
    out.at_peak = r.at_peak;
    out.total_peak = r.total_peak;
    out.total_peak_phase = to_string(r.total_peak_phase);
    out.forward_peak = r.forward_peak;
    out.backward_peak = r.backward_peak;
    out.statics = r.statics;
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
    const std::string src = "engine/program.h (the engine's arenas, data parallel; engine/shard_plan.h)";
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
