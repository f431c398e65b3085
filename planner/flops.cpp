// flops.cpp — matmul FLOPs of a decoder-only transformer, layer kind by layer kind; conventions
// and sources in flops.h and docs/PERFORMANCE_MODEL.md §1.
#include "planner/flops.h"

namespace llmplan {

namespace {

// One MLP of inner size f on width d (d_model, or a latent MoE's expert width): GELU and squared
// ReLU two matrices, SwiGLU / GeGLU three, 2·d·f FLOPs each.
double mlp_flops(const ModelSpec& m, double f, double d) {
    const double matrices = mlp_matrices(m.activation);
    return matrices * 2 * d * f;
}
double mlp_flops(const ModelSpec& m, double f) { return mlp_flops(m, f, m.d_model); }

}  // namespace

void ForwardFlops::add_scaled(const ForwardFlops& b, double n) {
    qkv += n * b.qkv;
    attention += n * b.attention;
    output_proj += n * b.output_proj;
    mlp += n * b.mlp;
    mamba_proj += n * b.mamba_proj;
    ssm += n * b.ssm;
    gdn_proj += n * b.gdn_proj;
    delta_rule += n * b.delta_rule;
    logits += n * b.logits;
    mtp += n * b.mtp;
    mtp_transformer += n * b.mtp_transformer;
    mtp_attention += n * b.mtp_attention;
}

double ForwardFlops::recomputed(Recompute r) const {
    if (r == Recompute::full) return layers() + mtp_transformer;
    if (r == Recompute::selective) return attention + mtp_attention;
    return 0;
}

double mean_keys_per_query(const ModelSpec& m, LayerAttention a, std::int64_t seq) {
    const double T = static_cast<double>(seq);
    // Σ_{t<n} (t + 1) = n(n + 1)/2 keys over the first n positions of a causal block.
    auto triangle = [](double n) { return n * (n + 1) / 2; };
    if (a == LayerAttention::sliding && m.sliding_window > 0 && seq > m.sliding_window) {
        const double w = static_cast<double>(m.sliding_window);  // positions ≥ w meet exactly w keys
        return (triangle(w) + (T - w) * w) / T;
    }
    if (a == LayerAttention::chunked && m.attention_chunk > 0 && seq > m.attention_chunk) {
        const std::int64_t c = m.attention_chunk, n = seq / c, r = seq % c;
        return (static_cast<double>(n) * triangle(static_cast<double>(c)) + triangle(static_cast<double>(r))) / T;
    }
    return (T + 1) / 2;  // every earlier position (also a window or chunk that holds the whole sequence, or none set)
}

ForwardFlops layer_forward_flops(const ModelSpec& m, const LayerKind& k, std::int64_t seq) {
    const double d = m.d_model, h = m.n_heads;
    ForwardFlops out;
    if (k.has_mamba()) {
        // Mamba-2 (Dao & Gu 2024, §6 and §7; docs/PERFORMANCE_MODEL.md §1): the projections are
        // matmuls, once per token; the SSD scan in chunks of Q tokens computes per token and chunk
        // its C·Bᵀ row over the chunk for each of the G groups (2·Q·N), that row's product with the
        // chunk's X for each head (2·Q·P), its contribution to the chunk's state (2·N·P per head) and
        // its output from the previous state (2·N·P per head) — whole Q × Q blocks, as the kernels
        // compute them; the state passing between chunks (N·P per head and chunk) is not counted.
        const MambaShape& s = m.mamba;
        out.mamba_proj = 2 * d * static_cast<double>(s.in_proj_width()) + 2 * static_cast<double>(s.d_inner()) * d;
        const double G = s.groups, H = s.heads, P = s.head_dim, N = s.state, Q = s.chunk;
        out.ssm = 2 * G * Q * N + 2 * H * Q * P + 4 * H * N * P;
    }
    if (k.has_gdn()) {
        // Gated DeltaNet (Yang, Kautz & Hatamizadeh 2025, §3.3; the chunkwise WY form of Yang et al.
        // 2024, "Parallelizing Linear Transformers with the Delta Rule over Sequence Length", §3;
        // docs/PERFORMANCE_MODEL.md §1): the projections are matmuls, once per token. The delta rule
        // in chunks of C tokens, per value head (keys repeated to the value heads, as the kernels run
        // them), per token: its row of β·K·Kᵀ (2·C·dk), of the unit-triangular inverse ((2/3)·C²,
        // C³/3 multiply-adds per chunk), of W = T·(β·K·e^g) (2·C·dk) and U = T·(β·V) (2·C·dv); the
        // state pass v_new = U − W·S and S += Kᵀ·v_new (4·dk·dv); the output Q·S (2·dk·dv) and the
        // masked (Q·Kᵀ)·v_new over the chunk (2·C·dk + 2·C·dv) — whole C × C blocks, as
        // flash-linear-attention's chunk kernels compute them.
        const GdnShape& s = m.gdn;
        out.gdn_proj = 2 * d * static_cast<double>(s.in_proj_width()) + 2 * static_cast<double>(s.value_dim()) * d;
        const double C = s.chunk, dk = s.k_head_dim, dv = s.v_head_dim;
        out.delta_rule = s.v_heads * (6 * C * dk + 4 * C * dv + 6 * dk * dv + 2 * C * C / 3);
    }
    if (k.ffn) {
        if (k.moe) {
            // Each token runs top_k routed experts of expert_d_ff, the shared expert (if any) and the
            // router d → E; Qwen2-MoE's shared-expert gate d → 1 is a matmul too.
            // A latent MoE's experts work at the latent width, with the projections d → latent and
            // back, 2·2·d·latent (Megatron-Core moe_layer.py).
            out.mlp = m.top_k * mlp_flops(m, m.expert_d_ff(), m.expert_width()) + 2 * d * m.n_experts;
            if (m.moe_latent > 0) out.mlp += 4 * d * m.moe_latent;
            if (m.shared_d_ff > 0) out.mlp += mlp_flops(m, static_cast<double>(m.shared_d_ff));
            if (m.shared_d_ff > 0 && m.shared_expert_gate) out.mlp += 2 * d;
        } else {
            out.mlp = mlp_flops(m, m.d_ff);
        }
    }
    if (!k.has_attention()) return out;
    if (m.is_mla()) {
        // DeepSeek-V2 §2.1.2 (docs/MODEL_FAMILIES.md deepseek_v3): every projection weight is used
        // once per token. Queries: d → q_lora_rank → H·qk_head_dim, or d → H·qk_head_dim directly;
        // kv_a: d → kv_lora_rank + qk_rope_head_dim; kv_b: kv_lora_rank → H·(qk_nope + v_head_dim).
        const MlaShape& a = m.mla;
        const double q_out = h * a.qk_head_dim();
        out.qkv = a.q_lora_rank > 0 ? 2 * d * a.q_lora_rank + 2.0 * a.q_lora_rank * q_out : 2 * d * q_out;
        out.qkv += 2 * d * (a.kv_lora_rank + a.qk_rope_head_dim);
        out.qkv += 2.0 * a.kv_lora_rank * h * (a.qk_nope_head_dim + a.v_head_dim);
    } else {
        out.qkv = 2 * d * static_cast<double>(m.q_proj_width() + 2 * m.kv_dim());  // q_proj with its output gate
    }
    if (m.position == PositionEmbedding::relative)
        out.qkv += 2 * d * static_cast<double>(m.q_dim());  // W_{k,R} (Transformer-XL)
    // Scores Q·Kᵀ over H·qk_head_dim and values over H·v_head_dim, per key the query meets.
    const double keys = mean_keys_per_query(m, k.attention, seq);
    out.attention = 2 * static_cast<double>(m.q_dim() + m.attn_out_dim()) * keys;
    out.output_proj = 2 * static_cast<double>(m.attn_out_dim()) * d;
    return out;
}

ForwardFlops layers_forward_flops(const ModelSpec& m, int first, int count, std::int64_t seq) {
    ForwardFlops out;
    for (const LayerGroup& g : layer_groups(m, first, count)) out.add_scaled(layer_forward_flops(m, g.kind, seq), g.count);
    return out;
}

double logits_flops(const ModelSpec& m) { return 2 * static_cast<double>(m.d_model) * static_cast<double>(m.vocab_size); }

ForwardFlops mtp_forward_flops(const ModelSpec& m, std::int64_t seq) {
    ForwardFlops out;
    if (m.mtp_layers <= 0) return out;
    // DeepSeek-V3 §2.2: each module projects [RMSNorm(h); RMSNorm(embedding)] 2d → d, runs one
    // transformer layer (core/model.h mtp_layer_kind) and the shared output head. Megatron-Core
    // runs it on every position (the inputs rolled along the sequence), so it counts per token
    // like the main model.
    // A hybrid's module holds several layers (mtp_layer_kinds: "*E"); a repeated module runs its
    // one set of weights at each of the n depths, the same FLOPs.
    const double d = m.d_model, n = m.mtp_layers;
    ForwardFlops layer;
    for (const LayerKind& k : mtp_layer_kinds(m)) layer.add_scaled(layer_forward_flops(m, k, seq), 1);
    out.mtp_transformer = n * layer.layers();
    out.mtp_attention = n * layer.attention;
    out.mtp = n * (2 * (2 * d) * d + logits_flops(m)) + out.mtp_transformer;
    return out;
}

ForwardFlops forward_flops_per_token(const ModelSpec& m, std::int64_t seq) {
    ForwardFlops out = layers_forward_flops(m, 0, m.n_layers, seq);
    out.logits = logits_flops(m);
    out.add_scaled(mtp_forward_flops(m, seq), 1);
    return out;
}

TrainingFlops training_flops_per_token(const ModelSpec& m, std::int64_t seq, Recompute recompute) {
    const ForwardFlops f = forward_flops_per_token(m, seq);
    TrainingFlops t;
    t.model = 3 * (f.total() + f.mtp);
    t.hardware = t.model + f.recomputed(recompute);
    return t;
}

double flops_6n(double n) { return 6 * n; }
double flops_6n_causal_attention(double n, double L, double d, double T) { return 6 * n + 6 * L * d * T; }
double flops_palm(double n, double L, double d, double T) { return 6 * n + 12 * L * d * T; }
double flops_korthikanti_iteration(double B, double s, double l, double h, double V) {
    return 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
}

}  // namespace llmplan
