// flops.cpp — matmul FLOPs of a decoder-only transformer, component by component.
#include "planner/flops.h"

namespace llmplan {

ForwardFlops forward_flops_per_token(const ModelSpec& m, std::int64_t seq) {
    const double L = m.n_layers, d = m.d_model, q = static_cast<double>(m.q_dim()),
                 kv = static_cast<double>(m.kv_dim()), f = m.d_ff, V = static_cast<double>(m.vocab_size),
                 T = static_cast<double>(seq);
    ForwardFlops out;
    out.qkv = L * 2 * d * (q + 2 * kv);
    if (m.position == PositionEmbedding::relative) out.qkv += L * 2 * d * q;  // W_{k,R} (Transformer-XL)
    // Causal: averaged over positions, a token meets (T + 1)/2 keys; scores and values cost 2·q each.
    out.attention = L * 2 * (2 * q * (T + 1) / 2);
    out.output_proj = L * 2 * q * d;
    // Each token runs top_k expert MLPs (1 for a dense model) and, for MoE, the router.
    const double matrices = m.activation == Activation::swiglu ? 3 : 2;
    const double router = m.is_moe() ? 2 * d * m.n_experts : 0;
    out.mlp = L * (m.top_k * matrices * 2 * d * f + router);
    out.logits = 2 * d * V;
    return out;
}

TrainingFlops training_flops_per_token(const ModelSpec& m, std::int64_t seq, Recompute recompute) {
    const ForwardFlops f = forward_flops_per_token(m, seq);
    TrainingFlops t;
    t.model = 3 * f.total();
    t.hardware = t.model;
    if (recompute == Recompute::full) t.hardware += f.total() - f.logits;  // the layers run forward again
    if (recompute == Recompute::selective) t.hardware += f.attention;    // only the core attention
    return t;
}

double flops_6n(double n) { return 6 * n; }
double flops_6n_causal_attention(double n, double L, double d, double T) { return 6 * n + 6 * L * d * T; }
double flops_palm(double n, double L, double d, double T) { return 6 * n + 12 * L * d * T; }
double flops_korthikanti_iteration(double B, double s, double l, double h, double V) {
    return 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * l * h));
}

}  // namespace llmplan
