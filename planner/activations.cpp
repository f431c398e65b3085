// activations.cpp — the saved-tensor list of a transformer layer (derivation in activations.h).
#include "planner/activations.h"

#include "planner/model_states.h"

namespace llmplan {

ActivationShape activation_shape(const TrainConfig& c) {
    return ActivationShape{static_cast<double>(c.seq) / c.parallel.cp, static_cast<double>(c.micro_batch),
                           c.parallel.tp, c.parallel.sp};
}

std::vector<SavedTensor> layer_saved_tensors(const ModelSpec& m, const TrainConfig& c, Recompute mode) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double act = pb.activation, lin = pb.linear_input, mask = 1.0;  // masks: 1 byte (torch.bool)
    const ActivationShape g = activation_shape(c);
    const double sb = g.s * g.b;
    const double h = m.d_model, q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()), f = m.d_ff,
                 a = m.n_heads;
    const bool dropout = c.dropout > 0.0;
    using T = TpShard;
    std::vector<SavedTensor> t;

    if (mode == Recompute::full) {
        // Only the layer input survives the forward pass (Korthikanti §5: 2sbh per layer).
        t.push_back({"layer.input", sb * h, act, T::replicated});
        return t;
    }
    // Attention block: Korthikanti's 11sbh + 5as²b.
    t.push_back({"attention.norm_input", sb * h, act, T::replicated});     // LayerNorm/RMSNorm input (2sbh)
    t.push_back({"attention.qkv_input", sb * h, lin, T::replicated});      // norm output, shared by Q,K,V matmuls (2sbh)
    t.push_back({"attention.q", sb * q, act, T::split});                   // Q for QKᵀ (2sbh)
    t.push_back({"attention.k", sb * kv, act, T::split});                  // K for QKᵀ (2sbh; GQA: kv/h of it)
    t.push_back({"attention.v", sb * kv, act, T::split});                  // V for softmax·V (2sbh)
    if (c.attention == Attention::eager) {
        if (mode != Recompute::selective) {
            // Materialised scores: softmax output (2as²b); with dropout its mask (as²b) and output (2as²b).
            t.push_back({"attention.softmax_output", a * g.s * g.s * g.b, act, T::split});
            if (dropout) {
                t.push_back({"attention.dropout_mask", a * g.s * g.s * g.b, mask, T::split});
                t.push_back({"attention.dropout_output", a * g.s * g.s * g.b, act, T::split});
            }
        }
    } else if (mode != Recompute::selective) {
        // Flash attention keeps the fp32 row log-sum-exp (a·s·b·4) and recomputes scores in backward.
        t.push_back({"attention.logsumexp", a * sb, 4.0, T::split});
    }
    t.push_back({"attention.output_proj_input", sb * q, lin, T::split});   // attention output O (2sbh)
    if (dropout) t.push_back({"attention.residual_dropout_mask", sb * h, mask, T::replicated});  // (sbh)

    // MLP block: Korthikanti's 19sbh for GELU with f = 4h.
    t.push_back({"mlp.norm_input", sb * h, act, T::replicated});           // (2sbh)
    t.push_back({"mlp.input", sb * h, lin, T::replicated});                // norm output (2sbh)
    const double tokens = m.is_moe() ? m.top_k : 1.0;  // each token visits top_k experts
    if (m.is_moe()) {
        // Router logits in fp32 for the softmax/top-k, and the tokens permuted to their experts;
        // expert outputs kept for the weighted combine (balanced routing, capacity factor 1).
        t.push_back({"moe.router_logits", sb * m.n_experts, 4.0, T::replicated});
        t.push_back({"moe.dispatched_input", tokens * sb * h, lin, T::replicated});
        t.push_back({"moe.expert_output", tokens * sb * h, act, T::replicated});
    }
    if (m.activation == Activation::gelu) {
        t.push_back({"mlp.activation_input", tokens * sb * f, act, T::split});  // GELU input (8sbh)
        t.push_back({"mlp.down_input", tokens * sb * f, lin, T::split});        // GELU output (8sbh)
    } else {
        t.push_back({"mlp.gate_output", tokens * sb * f, act, T::split});       // SiLU input
        t.push_back({"mlp.up_output", tokens * sb * f, act, T::split});         // multiplied with SiLU(gate)
        t.push_back({"mlp.down_input", tokens * sb * f, lin, T::split});        // SiLU(gate)·up
    }
    if (dropout) t.push_back({"mlp.dropout_mask", sb * h, mask, T::replicated});  // (sbh)
    return t;
}

double saved_bytes(const std::vector<SavedTensor>& tensors, const ActivationShape& g) {
    double total = 0;
    for (const SavedTensor& t : tensors) total += t.bytes_per_rank(g.tp, g.sp);
    return total;
}

std::vector<SavedTensor> first_stage_saved_tensors(const ModelSpec& m, const TrainConfig& c) {
    const ActivationShape g = activation_shape(c);
    std::vector<SavedTensor> t;
    if (c.dropout > 0.0) t.push_back({"embedding.dropout_mask", g.s * g.b * m.d_model, 1.0, TpShard::replicated});
    return t;
}

std::vector<SavedTensor> last_stage_saved_tensors(const ModelSpec& m, const TrainConfig& c) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const ActivationShape g = activation_shape(c);
    const double sbh = g.s * g.b * m.d_model;
    return {{"final_norm.input", sbh, pb.activation, TpShard::replicated},
            {"output_layer.input", sbh, pb.linear_input, TpShard::replicated}};
}

double logits_bytes(const ModelSpec& m, const TrainConfig& c) {
    const ActivationShape g = activation_shape(c);
    const double vocab_per_rank = static_cast<double>((m.vocab_size + c.parallel.tp - 1) / c.parallel.tp);
    return 4.0 * g.s * g.b * vocab_per_rank;
}

double korthikanti_layer_bytes(double s, double b, double h, double a, int t, bool sp, Recompute r) {
    const double sbh = s * b * h;
    const double T = t;
    switch (r) {
        case Recompute::full: return 2 * sbh;
        case Recompute::selective: return sp ? 34 * sbh / T : sbh * (10 + 24 / T);
        case Recompute::none: break;
    }
    if (t == 1) return sbh * (34 + 5 * a * s / h);
    return sp ? sbh * (34 / T + 5 * a * s / (h * T)) : sbh * (10 + 24 / T + 5 * a * s / (h * T));
}

}  // namespace llmplan
