// llmplan_profile.cpp — the engine's arena bytes, term by term; see llmplan_profile.h.
#include "planner/llmplan_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "engine/logits_stride.h"

#include <algorithm>

namespace llmplan {

void validate_llmplan_profile(const ModelSpec& m, const TrainConfig& c) {
    const auto fail = [](const std::string& msg) { throw InputError(msg); };
    if (m.is_moe() || m.position == PositionEmbedding::relative || m.parallel_residual || m.rotary_pct < 1 ||
        m.sliding_window > 0)
        fail("--framework llmplan: the engine trains GPT-2 and Llama-style decoders (no MoE, relative positions, parallel "
             "residual, partial rotary or sliding window)");
    if (c.precision != Precision::fp32 && c.precision != Precision::mixed_bf16 && c.precision != Precision::mixed_fp16)
        fail(std::string("--precision ") + to_string(c.precision) +
             ": --framework llmplan models the engine's fp32, mixed-bf16 and mixed-fp16 steps");
    const ParallelLayout& p = c.parallel;
    if (p.tp != 1 || p.pp != 1 || p.cp != 1 || p.ep != 1)
        fail("--framework llmplan: the engine runs data parallel only (--tp, --pp, --cp and --ep 1; --gpus N = N "
             "data-parallel ranks with --zero 0-3)");
    if (p.gpus < 1) fail("--gpus " + std::to_string(p.gpus) + ": needs at least one GPU");
    if (p.zero < 0 || p.zero > 3) fail("--zero " + std::to_string(p.zero) + ": the engine runs ZeRO 0, 1, 2 or 3");
    if (c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam)
        fail(std::string("--optimizer ") + to_string(c.optimizer) + ": the engine's optimizer is AdamW");
    if (c.offload != Offload::none) fail("--offload: the engine keeps everything on the device");
    if (c.lora.enabled()) fail("--lora-rank: the engine trains every parameter");
    if (c.dropout > 0) fail("--dropout: the engine has no dropout");
}

StageMemory plan_llmplan_stage(const ModelSpec& m, const TrainConfig& c) {
    validate_llmplan_profile(m, c);
    if (c.parallel.gpus > 1) return plan_llmplan_dist_stage(m, c);  // llmplan_books.cpp
    const double T = static_cast<double>(c.micro_batch) * static_cast<double>(c.seq), d = m.d_model,
                 q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()), f = m.d_ff,
                 L = m.n_layers, V = static_cast<double>(m.vocab_size), B = static_cast<double>(c.micro_batch),
                 S = static_cast<double>(c.seq), H = m.n_heads;
    const bool ln = m.norm == Norm::layernorm, swiglu = m.activation == Activation::swiglu,
               eager = c.attention == Attention::eager;
    const double P = static_cast<double>(count_params(m).total());
    // Bytes per element of the storage type (fp32, or bf16 / fp16 in mixed precision); the norm
    // statistics and the flash log-sum-exp stay fp32, and so do the master weights and AdamW m, v.
    // mixed-fp16 allocates exactly what mixed-bf16 does: its loss scale, overflow flag and the
    // scale's bookkeeping are host values and a few bytes of scalars outside the books.
    const bool fp16 = c.precision == Precision::mixed_fp16;
    const bool mixed = c.precision == Precision::mixed_bf16 || fp16;
    const double e = mixed ? 2 : 4;
    const double td = T * d, stats = 4 * (ln ? 2 * T : T), mlp = (swiglu ? 3 : 2) * T * f;
    // model.h: per layer without the attention store, and the store (eager probabilities or lse).
    const double common = stats + e * (td + T * q + 2 * T * kv + T * q + td) + stats + e * (td + mlp);
    const double store = eager ? e * B * H * S * S : 4 * B * H * S;
    const double outside = e * (L + 1) * td + stats + e * td;  // layer boundaries, final-norm stats and output
    double kept = 0, scratch = 0;
    switch (c.recompute) {
        case Recompute::none: kept = common + store; break;
        case Recompute::selective: kept = common; scratch = store; break;
        case Recompute::full: scratch = common + store; break;
    }
    const double activations = outside + L * kept;
    // The logits' rows are padded to a multiple of 64 elements in bf16/fp16 (kernels/engine.h,
    // dist::logits_row_stride: GPT-2's 50,257 → 50,304), V in fp32.
    const double Vrow = static_cast<double>(dist::logits_row_stride(static_cast<std::int64_t>(V), mixed));
    const double logits = e * T * Vrow;
    const double work = e * (3 * td + 2 * T * q + 2 * T * kv + (swiglu ? 3 : 2) * T * f);
    StageMemory s;
    s.stage = 0;
    s.layers = m.n_layers;
    s.placement = "whole model";
    s.params_on_gpu = count_params(m).total();
    s.parameters = e * P;
    s.gradients = e * P;
    s.optimizer_states = (mixed ? 12 : 8) * P;  // AdamW m and v, and the fp32 master in mixed precision
    s.activations = activations;
    s.activations_per_layer = kept;
    s.layer_microbatches = L;
    s.microbatches_in_flight = 1;
    s.logits = logits;
    const double statics = s.parameters + s.gradients + s.optimizer_states;
    const double forward_end = statics + activations + scratch + logits;
    const double head_backward = forward_end + e * td;                                  // + dL/d(final-norm output)
    const double gradients_ready = statics + activations - (e * td + stats) + scratch + work;  // logits, lnf freed
    s.phases = {{"forward_end", forward_end}, {"backward_head", head_backward}, {"backward_workspace", gradients_ready},
                {"optimizer_step", statics}};
    const bool head = head_backward >= gradients_ready;
    s.peak_phase = "backward";
    s.peak_allocated = std::max(head_backward, gradients_ready);
    s.temporary = scratch + (head ? e * td : work);
    if (!head) {
        s.logits = 0;
        s.activations = activations - (e * td + stats);
    }
    s.reserved_estimate = s.peak_allocated;  // one allocation per buffer: no allocator cache
    s.overhead = 0;
    s.device_total = s.reserved_estimate;
    const std::string src = mixed ? std::string("kernels/engine.h (the GPU engine's arenas, ") + to_string(c.precision) + ")"
                                  : "reference/model.h (the engine's arenas)";
    auto gib = [](double b) { return format_bytes(b, ByteUnit::gib); };
    const std::string half = fp16 ? "2 B (fp16)" : "2 B (bf16)";
    const std::string eb = mixed ? " × " + half : " × 4 B (fp32)";
    s.terms.push_back({"parameters", "parameters", s.parameters, format_int(s.params_on_gpu) + eb, src});
    s.terms.push_back({"gradients", "gradients", s.gradients, format_int(s.params_on_gpu) + eb + ", allocated once", src});
    s.terms.push_back({"optimizer", "optimizer state", s.optimizer_states,
                       std::string(mixed ? "fp32 master, AdamW m and v: 3 × " : "AdamW m and v: 2 × ") +
                           format_int(s.params_on_gpu) + " × 4 B",
                       src});
    s.terms.push_back({"activations", "activations", s.activations,
                       "(L + 1) residual tensors + final-norm stats and output + " + std::to_string(m.n_layers) + " layers × " +
                           gib(kept) + " (recompute " + to_string(c.recompute) + ", " + to_string(c.attention) + ")" +
                           (head ? "" : "; the final-norm output and stats already freed"),
                       src});
    s.terms.push_back({"logits", "logits (gradient in place)", s.logits,
                       std::string(mixed ? "T × " + format_int(static_cast<long long>(Vrow)) + " (V padded to 64) × " + half
                                         : "T × V × 4 B") +
                           " = " + gib(logits),
                       src});
    s.terms.push_back({"temporary", "workspace", s.temporary,
                       (scratch > 0 ? "one layer's recomputed fields " + gib(scratch) + " + " : std::string()) +
                           (head ? "the output layer's input gradient [T, d]" : "backward gradient buffers " + gib(work)),
                       src});
    return s;
}

}  // namespace llmplan
