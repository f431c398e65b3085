// llmplan_profile.cpp — the engine's arena bytes, term by term; see llmplan_profile.h.
#include "planner/llmplan_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"

#include <algorithm>

namespace llmplan {

void validate_llmplan_profile(const ModelSpec& m, const TrainConfig& c) {
    const auto fail = [](const std::string& msg) { throw InputError(msg); };
    if (m.is_moe() || m.position == PositionEmbedding::relative || m.parallel_residual || m.rotary_pct < 1 ||
        m.sliding_window > 0)
        fail("--framework llmplan: the engine trains GPT-2 and Llama-style decoders (no MoE, relative positions, parallel "
             "residual, partial rotary or sliding window)");
    if (c.precision != Precision::fp32)
        fail(std::string("--precision ") + to_string(c.precision) + ": --framework llmplan models the fp32 engine so far");
    const ParallelLayout& p = c.parallel;
    if (p.gpus != 1 || p.tp != 1 || p.pp != 1 || p.cp != 1 || p.ep != 1)
        fail("--framework llmplan: the engine runs on one device (multi-GPU is issue 8)");
    if (c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam)
        fail(std::string("--optimizer ") + to_string(c.optimizer) + ": the engine's optimizer is AdamW");
    if (c.offload != Offload::none) fail("--offload: the engine keeps everything on the device");
    if (c.lora.enabled()) fail("--lora-rank: the engine trains every parameter");
    if (c.dropout > 0) fail("--dropout: the engine has no dropout");
}

StageMemory plan_llmplan_stage(const ModelSpec& m, const TrainConfig& c) {
    validate_llmplan_profile(m, c);
    const double T = static_cast<double>(c.micro_batch) * static_cast<double>(c.seq), d = m.d_model,
                 q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()), f = m.d_ff,
                 L = m.n_layers, V = static_cast<double>(m.vocab_size), B = static_cast<double>(c.micro_batch),
                 S = static_cast<double>(c.seq), H = m.n_heads;
    const bool ln = m.norm == Norm::layernorm, swiglu = m.activation == Activation::swiglu,
               eager = c.attention == Attention::eager;
    const double P = static_cast<double>(count_params(m).total());
    const double td = T * d, stats = ln ? 2 * T : T, mlp = (swiglu ? 3 : 2) * T * f;
    // model.h: per layer without the attention store, and the store (eager probabilities or lse).
    const double common = stats + td + T * q + 2 * T * kv + T * q + td + stats + td + mlp;
    const double store = eager ? B * H * S * S : B * H * S;
    const double outside = (L + 1) * td + stats + td;  // layer boundaries, final-norm stats and output
    double kept = 0, scratch = 0;
    switch (c.recompute) {
        case Recompute::none: kept = common + store; break;
        case Recompute::selective: kept = common; scratch = store; break;
        case Recompute::full: scratch = common + store; break;
    }
    const double activations = 4 * (outside + L * kept);
    const double logits = 4 * T * V;
    const double work = 4 * (3 * td + 2 * T * q + 2 * T * kv + (swiglu ? 3 : 2) * T * f);
    StageMemory s;
    s.stage = 0;
    s.layers = m.n_layers;
    s.placement = "whole model";
    s.params_on_gpu = count_params(m).total();
    s.parameters = 4 * P;
    s.gradients = 4 * P;
    s.optimizer_states = 8 * P;
    s.activations = activations;
    s.activations_per_layer = 4 * kept;
    s.layer_microbatches = L;
    s.microbatches_in_flight = 1;
    s.logits = logits;
    const double statics = s.parameters + s.gradients + s.optimizer_states;
    const double forward_end = statics + activations + 4 * scratch + logits;
    const double head_backward = forward_end + 4 * td;                                    // + dL/d(final-norm output)
    const double gradients_ready = statics + activations - 4 * (td + stats) + 4 * scratch + work;  // logits, lnf freed
    s.phases = {{"forward_end", forward_end}, {"backward_head", head_backward}, {"backward_workspace", gradients_ready},
                {"optimizer_step", statics}};
    const bool head = head_backward >= gradients_ready;
    s.peak_phase = "backward";
    s.peak_allocated = std::max(head_backward, gradients_ready);
    s.temporary = 4 * scratch + (head ? 4 * td : work);
    if (!head) {
        s.logits = 0;
        s.activations = activations - 4 * (td + stats);
    }
    s.reserved_estimate = s.peak_allocated;  // one allocation per buffer: no allocator cache
    s.overhead = 0;
    s.device_total = s.reserved_estimate;
    const std::string src = "kernels/reference/model.h (the engine's arenas)";
    auto gib = [](double b) { return format_bytes(b, ByteUnit::gib); };
    s.terms.push_back({"parameters", "parameters", s.parameters, format_int(s.params_on_gpu) + " × 4 B (fp32)", src});
    s.terms.push_back({"gradients", "gradients", s.gradients, format_int(s.params_on_gpu) + " × 4 B, allocated once", src});
    s.terms.push_back({"optimizer", "optimizer state", s.optimizer_states, "AdamW m and v: 2 × " + format_int(s.params_on_gpu) + " × 4 B", src});
    s.terms.push_back({"activations", "activations", s.activations,
                       "(L + 1) residual tensors + final-norm stats and output + " + std::to_string(m.n_layers) + " layers × " +
                           gib(4 * kept) + " (recompute " + to_string(c.recompute) + ", " + to_string(c.attention) + ")" +
                           (head ? "" : "; the final-norm output and stats already freed"),
                       src});
    s.terms.push_back({"logits", "logits (gradient in place)", s.logits, "T × V × 4 B = " + gib(logits), src});
    s.terms.push_back({"temporary", "workspace", s.temporary,
                       (scratch > 0 ? "one layer's recomputed fields " + gib(4 * scratch) + " + " : std::string()) +
                           (head ? "the output layer's input gradient [T, d]" : "backward gradient buffers " + gib(work)),
                       src});
    return s;
}

}  // namespace llmplan
