// activations.cpp — the saved-tensor list of a transformer layer (derivation in activations.h).
#include "planner/activations.h"

#include "planner/framework.h"
#include "planner/model_states.h"

#include <algorithm>

namespace llmplan {

namespace {

// An MLP's inner tensors for `tokens` token passes of width f (Korthikanti's 8sbh + 8sbh for GELU
// with f = 4h; SwiGLU keeps the gate and up outputs, then their product for the down projection;
// squared ReLU, relu(x)², keeps relu's output — its own backward and pow's read it, the up
// projection's output is freed — and the down projection's input: GELU's two sizes).
void mlp_inner(std::vector<SavedTensor>& t, const ModelSpec& m, const std::string& prefix, double tokens, double f,
               double act, double lin, bool routed) {
    using T = TpShard;
    if (m.activation == Activation::relu2) {
        t.push_back({prefix + "relu_output", tokens * f, act, T::split, routed});       // relu(x): pow's input
        t.push_back({prefix + "down_input", tokens * f, lin, T::split, routed});        // relu(x)²
    } else if (!gated_mlp(m.activation)) {
        t.push_back({prefix + "activation_input", tokens * f, act, T::split, routed});  // GELU input (8sbh)
        t.push_back({prefix + "down_input", tokens * f, lin, T::split, routed});        // GELU output (8sbh)
    } else {
        t.push_back({prefix + "gate_output", tokens * f, act, T::split, routed});       // SiLU input
        t.push_back({prefix + "up_output", tokens * f, act, T::split, routed});         // multiplied with SiLU(gate)
        t.push_back({prefix + "down_input", tokens * f, lin, T::split, routed});        // SiLU(gate)·up
    }
}

// The attention block of a layer (Korthikanti's 11sbh + 5as²b).
void attention_saved(std::vector<SavedTensor>& t, const ModelSpec& m, const TrainConfig& c, Recompute mode,
                     const LayerKind& kind) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double act = pb.activation, lin = pb.linear_input, mask = 1.0;
    const ActivationShape g = activation_shape(c);
    const double sb = g.s * g.b;
    const double h = m.d_model, a = m.n_heads;
    const double q = static_cast<double>(m.q_dim()), k = static_cast<double>(m.k_dim()),
                 v = static_cast<double>(m.v_dim()), o = static_cast<double>(m.attn_out_dim());
    const bool dropout = c.dropout > 0.0;
    using T = TpShard;
    t.push_back({"attention.norm_input", sb * h, act, T::replicated});     // LayerNorm/RMSNorm input (2sbh)
    t.push_back({"attention.qkv_input", sb * h, lin, T::replicated});      // norm output, shared by the Q,K,V (MLA: down) matmuls (2sbh)
    if (m.is_mla()) {
        // Multi-head latent attention (DeepSeek-V2 §2.1.2; Megatron-LM MLASelfAttention): the
        // down-projections are replicated over tensor-parallel ranks, so their outputs are too.
        const MlaShape& l = m.mla;
        if (l.q_lora_rank > 0) {
            t.push_back({"attention.q_latent", sb * l.q_lora_rank, act, T::replicated});            // q_a_proj output: its norm's input
            t.push_back({"attention.q_latent_norm_output", sb * l.q_lora_rank, lin, T::replicated});  // q_b_proj input
        }
        // kv_a_proj output: the kv latent and the shared RoPE key; the norm reads the latent as a
        // view of it, which keeps the whole tensor alive.
        t.push_back({"attention.kv_latent", sb * (l.kv_lora_rank + l.qk_rope_head_dim), act, T::replicated});
        t.push_back({"attention.kv_latent_norm_output", sb * l.kv_lora_rank, lin, T::replicated});  // kv_b_proj input
    }
    // QK-norm normalises the q and k projections before RoPE: its inputs are kept besides Q and K.
    // Llama 4's weightless L2 norm sits on its RoPE layers only (docs/MODEL_FAMILIES.md, llama4).
    if (m.qk_norm != QkNorm::none && (m.qk_norm != QkNorm::unweighted || kind.rope)) {
        t.push_back({"attention.q_norm_input", sb * q, act, T::split});
        t.push_back({"attention.k_norm_input", sb * static_cast<double>(m.kv_dim()), act, T::split});
    }
    t.push_back({"attention.q", sb * q, act, T::split});                   // Q for QKᵀ (2sbh)
    t.push_back({"attention.k", sb * k, act, T::split});                   // K for QKᵀ (2sbh; GQA: kv/h of it; MLA: up-projected, per head)
    t.push_back({"attention.v", sb * v, act, T::split});                   // V for softmax·V (2sbh)
    // Sliding-window and chunked layers keep the same tensors as global ones: eager attention
    // (Hugging Face's eager_attention_forward) computes the whole s × s score matrix and masks it,
    // and flash attention keeps one log-sum-exp per query row whatever the window.
    if (c.attention == Attention::eager) {
        if (mode != Recompute::selective) {
            // Materialised scores: softmax output (2as²b); with dropout its mask (as²b) and output (2as²b).
            // Attention sinks (GPT-OSS) add one column to the softmax: s × (s + 1) per head.
            const double scores = a * g.s * g.s * g.b;
            t.push_back({"attention.softmax_output", scores + (m.attention_sinks ? a * sb : 0), act, T::split});
            // Gemma 2's soft-capping c·tanh(scores/c) keeps the tanh output for its backward.
            if (m.attn_softcap > 0) t.push_back({"attention.softcap_tanh_output", scores, act, T::split});
            if (dropout) {
                t.push_back({"attention.dropout_mask", scores, mask, T::split});
                t.push_back({"attention.dropout_output", scores, act, T::split});
            }
        }
    } else if (mode != Recompute::selective) {
        // Flash attention keeps the fp32 row log-sum-exp (a·s·b·4) and recomputes scores in backward.
        t.push_back({"attention.logsumexp", a * sb, 4.0, T::split});
    }
    if (m.attention_output_gate) {
        // Qwen3-Next's gated attention (Megatron-Core attention_output_gate): O · sigmoid(gate) keeps
        // both factors; the gate is q_proj's second half.
        t.push_back({"attention.output_gate", sb * q, act, T::split});
        t.push_back({"attention.core_output", sb * o, act, T::split});
    }
    t.push_back({"attention.output_proj_input", sb * o, lin, T::split});   // attention output O (2sbh; gated, with a gate)
    if (m.norms_per_layer == 4)  // Gemma 2/3: a norm on the attention output before the residual add
        t.push_back({"attention.post_norm_input", sb * h, act, T::replicated});
    if (dropout) t.push_back({"attention.residual_dropout_mask", sb * h, mask, T::replicated});  // (sbh)

}

// What Transformer Engine's LayerNormLinear keeps as a recurrent mixer's in_proj (the pre-norm
// fused in): the layer input, the norm's output and its fp32 reciprocal RMS, replicated over the
// tensor-parallel ranks (split with sequence parallelism).
void layernorm_linear_inputs(std::vector<SavedTensor>& t, const std::string& prefix, double sb, double h, double act, double lin) {
    t.push_back({prefix + "norm_input", sb * h, act, TpShard::replicated});
    t.push_back({prefix + "in_proj_input", sb * h, lin, TpShard::replicated});  // the pre-norm's output
    t.push_back({prefix + "norm_rsigma", sb, 4.0, TpShard::replicated});
}

// A Mamba-2 mixer as Megatron-Core trains it (MambaMixer's memory-efficient path, the default;
// docs/MEMORY_MODEL.md §4, "Mamba-2 layers"): in_proj is Transformer Engine's LayerNormLinear,
// which keeps the layer input, the norm's output and its fp32 reciprocal RMS; the fused
// convolution-and-scan (mamba_ssm's mamba_split_conv1d_scan_combined) keeps in_proj's output
// [z, x, B, C, dt] and its output y, recomputing the convolution, dt, the chunk states and C·Bᵀ in
// its backward; the gated RMSNorm keeps its input (a fresh contiguous copy of y) and an fp32
// reciprocal RMS per group; out_proj keeps its input. Per token (16-bit, sequence parallel):
// (4d + 2·W_in + 6·d_inner + 4·G + 4)/t bytes, W_in = 2·d_inner + 2·G·N + H.
void mamba_saved(std::vector<SavedTensor>& t, const ModelSpec& m, const TrainConfig& c) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double act = pb.activation, lin = pb.linear_input;
    const ActivationShape g = activation_shape(c);
    const double sb = g.s * g.b, h = m.d_model;
    const MambaShape& s = m.mamba;
    const double di = static_cast<double>(s.d_inner());
    using T = TpShard;
    layernorm_linear_inputs(t, "mamba.", sb, h, act, lin);
    t.push_back({"mamba.zxbcdt", sb * static_cast<double>(s.in_proj_width()), act, T::split});
    t.push_back({"mamba.scan_output", sb * di, act, T::split});
    t.push_back({"mamba.gated_norm_input", sb * di, act, T::split});
    t.push_back({"mamba.gated_norm_rstd", sb * s.groups, 4.0, T::split});
    t.push_back({"mamba.out_proj_input", sb * di, lin, T::split});
}

// A Gated DeltaNet mixer as Megatron-Core trains it (ssm/gated_delta_net: GatedDeltaNet; the
// kernels of flash-linear-attention; docs/MEMORY_MODEL.md §4, "Gated DeltaNet layers"): in_proj is
// Transformer Engine's LayerNormLinear (the layer input, the norm's output, its fp32 reciprocal
// RMS); its output [q, k, v, z, β, α] stays alive (the convolution's input, z and α are views of
// it); the causal convolution keeps a contiguous copy of its q, k, v input and its SiLU output (v is
// the kernel's input, a view of it); the L2 norm of q and k keeps its output and an fp32
// reciprocal norm per head; q and k repeated to the value heads (when there are fewer key heads)
// are the kernel's inputs; the chunked delta rule keeps the cumulative gate g (fp32) and β per
// value head and token, and the inverted chunk matrix A (C per value head and token); the gated
// RMSNorm keeps its input (the delta rule's output) and an fp32 reciprocal RMS per value head;
// out_proj keeps its input.
void gdn_saved(std::vector<SavedTensor>& t, const ModelSpec& m, const TrainConfig& c) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double act = pb.activation, lin = pb.linear_input;
    const ActivationShape g = activation_shape(c);
    const double sb = g.s * g.b, h = m.d_model;
    const GdnShape& s = m.gdn;
    const double kd = static_cast<double>(s.key_dim()), vd = static_cast<double>(s.value_dim()), hv = s.v_heads;
    using T = TpShard;
    layernorm_linear_inputs(t, "gdn.", sb, h, act, lin);
    t.push_back({"gdn.qkvzba", sb * static_cast<double>(s.in_proj_width()), act, T::split});
    t.push_back({"gdn.conv_input", sb * static_cast<double>(s.conv_channels()), act, T::split});
    t.push_back({"gdn.conv_output", sb * static_cast<double>(s.conv_channels()), act, T::split});
    t.push_back({"gdn.qk_l2norm_output", sb * 2 * kd, act, T::split});
    t.push_back({"gdn.qk_l2norm_rstd", sb * 2 * s.k_heads, 4.0, T::split});
    if (s.v_heads > s.k_heads) t.push_back({"gdn.qk_repeated", sb * 2 * hv * s.k_head_dim, act, T::split});
    t.push_back({"gdn.gate_g", sb * hv, 4.0, T::split});
    t.push_back({"gdn.beta", sb * hv, act, T::split});
    t.push_back({"gdn.chunk_inverse", sb * hv * s.chunk, act, T::split});
    t.push_back({"gdn.core_output", sb * vd, act, T::split});
    t.push_back({"gdn.gated_norm_rstd", sb * hv, 4.0, T::split});
    t.push_back({"gdn.out_proj_input", sb * vd, lin, T::split});
}

}  // namespace

ActivationShape activation_shape(const TrainConfig& c) {
    return ActivationShape{static_cast<double>(c.seq) / c.parallel.cp, static_cast<double>(c.micro_batch),
                           c.parallel.tp, c.parallel.sp};
}

std::vector<SavedTensor> layer_saved_tensors(const ModelSpec& m, const TrainConfig& c, Recompute mode,
                                             const LayerKind& kind) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double act = pb.activation, lin = pb.linear_input, mask = 1.0;  // masks: 1 byte (torch.bool)
    const ActivationShape g = activation_shape(c);
    const double sb = g.s * g.b;
    const double h = m.d_model;
    const bool dropout = c.dropout > 0.0;
    using T = TpShard;
    std::vector<SavedTensor> t;

    if (mode == Recompute::full) {
        // Only the layer input survives the forward pass (Korthikanti §5: 2sbh per layer).
        t.push_back({"layer.input", sb * h, act, T::replicated});
        return t;
    }
    if (kind.has_attention()) attention_saved(t, m, c, mode, kind);
    if (kind.has_mamba()) mamba_saved(t, m, c);
    if (kind.has_gdn()) gdn_saved(t, m, c);
    if (!kind.ffn) return t;

    // MLP block: Korthikanti's 19sbh for GELU with f = 4h.
    t.push_back({"mlp.norm_input", sb * h, act, T::replicated});           // (2sbh)
    t.push_back({"mlp.input", sb * h, lin, T::replicated});                // norm output (2sbh)
    if (kind.moe) {
        // Router logits in fp32 for the softmax/top-k; the tokens permuted to their experts (the
        // dispatch buffer each expert's first matmul reads: the token copies this rank receives);
        // the expert outputs kept for the weighted combine (the unpermute, on the rank that sent
        // the tokens, after the return all-to-all: its own copies). Balanced routing: top_k copies
        // of each token, or top_k × capacity_factor slots when experts take a fixed capacity
        // (dropped tokens padded).
        const double copies = m.top_k * m.expert_capacity();
        const double w = m.expert_width();  // a latent MoE dispatches latent-width tokens
        t.push_back({"moe.router_logits", sb * m.n_experts, 4.0, T::replicated});
        t.push_back({"moe.dispatched_input", copies * sb * w, lin, T::replicated, true});
        t.push_back({"moe.expert_output", copies * sb * w, act, T::replicated});
        // Latent MoE: latent → d after the combine keeps its input (the combined latent tokens); d →
        // latent reads the MLP input, kept above.
        if (m.moe_latent > 0) t.push_back({"moe.latent_up_input", sb * w, lin, T::replicated});
        mlp_inner(t, m, "moe.experts.", copies * sb, m.expert_d_ff(), act, lin, true);
        if (m.shared_d_ff > 0) {
            // The always-active shared expert reads the MLP input like a dense MLP.
            mlp_inner(t, m, "moe.shared_expert.", sb, static_cast<double>(m.shared_d_ff), act, lin, false);
            if (m.shared_expert_gate) {  // Qwen2-MoE: sigmoid(x·w) × shared output keeps both factors
                t.push_back({"moe.shared_expert_gate_output", sb, act, T::replicated});
                t.push_back({"moe.shared_expert_output", sb * h, act, T::replicated});
            }
        }
    } else {
        mlp_inner(t, m, "mlp.", sb, m.d_ff, act, lin, false);
    }
    if (m.norms_per_layer == 4)  // Gemma 2/3: the post-feed-forward norm's input
        t.push_back({"mlp.post_norm_input", sb * h, act, T::replicated});
    if (dropout) t.push_back({"mlp.dropout_mask", sb * h, mask, T::replicated});  // (sbh)
    return t;
}

double saved_bytes(const std::vector<SavedTensor>& tensors, const ActivationShape& g) {
    double total = 0;
    for (const SavedTensor& t : tensors) total += t.bytes_per_rank(g.tp, g.sp);
    return total;
}

double layers_saved_bytes(const ModelSpec& m, const TrainConfig& c, Recompute mode, const std::vector<LayerGroup>& groups) {
    const ActivationShape g = activation_shape(c);
    double total = 0;
    for (const LayerGroup& lg : groups) total += lg.count * saved_bytes(layer_saved_tensors(m, c, mode, lg.kind), g);
    return total;
}

double dropless_worst_case_ratio(const ModelSpec& m, const TrainConfig& c) {
    if (!m.is_moe() || m.capacity_factor > 0) return 1.0;
    const int ep = c.parallel.ep;
    const double experts_per_rank = static_cast<double>(m.n_experts) / ep;
    return ep * std::min<double>(m.top_k, experts_per_rank) / m.top_k;
}

double dropless_worst_case_bytes(const ModelSpec& m, const TrainConfig& c, Recompute mode, const LayerKind& kind) {
    const ActivationShape g = activation_shape(c);
    const double ratio = dropless_worst_case_ratio(m, c);
    double total = 0;
    for (const SavedTensor& t : layer_saved_tensors(m, c, mode, kind))
        total += t.bytes_per_rank(g.tp, g.sp) * (t.routed ? ratio : 1.0);
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

std::vector<SavedTensor> mtp_saved_tensors(const ModelSpec& m, const TrainConfig& c, Recompute mode) {
    const PrecisionBytes pb = precision_bytes(c.precision);
    const ActivationShape g = activation_shape(c);
    const double sbh = g.s * g.b * m.d_model;
    using T = TpShard;
    std::vector<SavedTensor> t{{"mtp.embedding_norm_input", sbh, pb.activation, T::replicated},  // Emb(t_{i+k})
                               {"mtp.projection_input", 2 * sbh, pb.linear_input, T::replicated}};  // [norm(h); norm(e)]
    for (const LayerKind& k : mtp_layer_kinds(m))
        for (SavedTensor& s : layer_saved_tensors(m, c, mode, k)) {
            s.name = "mtp." + s.name;
            t.push_back(std::move(s));
        }
    t.push_back({"mtp.final_norm_input", sbh, pb.activation, T::replicated});
    t.push_back({"mtp.output_layer_input", sbh, pb.linear_input, T::replicated});
    return t;
}

double logits_per_rank(const ModelSpec& m, const TrainConfig& c) {
    const ActivationShape g = activation_shape(c);
    return g.s * g.b * static_cast<double>((m.vocab_size + c.parallel.tp - 1) / c.parallel.tp);
}

double logit_bytes_kept(const TrainConfig& c) {
    // An fp32 copy of the logits (4 B each), or with a fused cross-entropy only the output layer's
    // 16-bit logits (FrameworkProfile::loss_kernel).
    return framework_profile(c.framework).loss_kernel(c).fused ? 2.0 : 4.0;
}

double logits_bytes(const ModelSpec& m, const TrainConfig& c) {
    // Gemma 2's final soft-capping c·tanh(logits/c) keeps its tanh output (Hugging Face
    // Gemma2ForCausalLM) beside the logits the loss reads.
    return (m.final_softcap > 0 ? 2.0 : 1.0) * logit_bytes_kept(c) * logits_per_rank(m, c);
}

std::string logits_label(const TrainConfig& c) {
    return logit_bytes_kept(c) == 2.0 ? "logits (16-bit, fused loss)" : "logits (fp32, for the loss)";
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
