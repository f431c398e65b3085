// flops.h — floating-point operations of a training step, exactly from the model spec, beside the
// published approximations (planner/perf.h builds step time and MFU on these).
//
// Counting convention: a matmul of (m × k)·(k × n) is 2mkn FLOPs; element-wise ops, norms, softmax
// and biases are not counted (as in Kaplan et al. 2020 §2.1, Narayanan et al. 2021 App., PaLM App. B);
// neither are attention sinks, logit soft-capping and QK-norm (element-wise on the scores or on
// q and k). Backward costs twice the forward (gradients with respect to inputs and to weights).
// Layers are counted by kind (core/model.h layer_groups): dense or MoE MLP; global, sliding-window
// or chunked attention; standard or MLA projections. docs/PERFORMANCE_MODEL.md §1 gives each term
// and its source.
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <cstdint>

namespace llmplan {

// Forward FLOPs per token of one sequence of `seq` tokens, by component (whole model, or the
// layers asked for).
struct ForwardFlops {
    double qkv = 0;          // standard: 2·d·(q + k + v) (+ the relative-position projection);
                             // MLA: q (direct or through q_lora_rank), kv_a, kv_b
    double attention = 0;    // QKᵀ and softmax·V: 2·(H·qk_head_dim + H·v_head_dim) × mean keys per query
    double output_proj = 0;  // 2·(H·v_head_dim)·d
    double mlp = 0;          // dense: GELU 4·d·f, SwiGLU 6·d·f; MoE: top_k routed experts + shared expert + router 2·d·E
    // Mamba-2 mixers (hybrid models; docs/PERFORMANCE_MODEL.md §1, "Mamba-2 layers"):
    double mamba_proj = 0;   // in_proj 2·d·(2·d_inner + 2·G·N + H) + out_proj 2·d_inner·d
    double ssm = 0;          // the SSD scan, chunk Q: 2·G·Q·N (C·Bᵀ) + 2·H·Q·P (its product with X) + 4·H·N·P (chunk states, output from states)
    // Gated DeltaNet mixers (Qwen3-Next, Qwen3.5; docs/PERFORMANCE_MODEL.md §1, "Gated DeltaNet layers"):
    double gdn_proj = 0;     // in_proj 2·d·(2·key_dim + 2·value_dim + 2·Hv) + out_proj 2·value_dim·d
    double delta_rule = 0;   // the chunked gated delta rule, chunk C, per value head: 6·C·dk + 4·C·dv + 6·dk·dv + (2/3)·C²
    double logits = 0;       // 2·d·V
    // DeepSeek-V3's multi-token-prediction modules (trained, not served; outside total()): per
    // module the projection 2·(2d)·d, one layer and the logits 2·d·V.
    double mtp = 0;
    double mtp_transformer = 0;  // of `mtp`, their transformer layers (full recompute runs them again)
    double mtp_attention = 0;    // of `mtp`, their QKᵀ and softmax·V (selective recompute runs them again)
    double total() const { return layers() + logits; }
    double dense_matmuls() const { return qkv + output_proj + mlp + mamba_proj + gdn_proj + logits; }  // ≈ 2 × active parameters
    double layers() const { return qkv + attention + output_proj + mlp + mamba_proj + ssm + gdn_proj + delta_rule; }  // the transformer layers
    // Adds n × b, component by component (every field: a new one is added here once).
    void add_scaled(const ForwardFlops& b, double n);
    // What recompute runs again in the backward: full: every layer's forward (not the logits);
    // selective: the attention core (Korthikanti et al. 2022 §5).
    double recomputed(Recompute r) const;
};
ForwardFlops forward_flops_per_token(const ModelSpec& m, std::int64_t seq);

// Forward FLOPs per token of one layer of kind `k` (logits and MTP 0).
ForwardFlops layer_forward_flops(const ModelSpec& m, const LayerKind& k, std::int64_t seq);
// The same summed over layers [first, first + count), by kind (layer_groups).
ForwardFlops layers_forward_flops(const ModelSpec& m, int first, int count, std::int64_t seq);
// The output layer's forward FLOPs per token, 2·d·V.
double logits_flops(const ModelSpec& m);
// Forward FLOPs per token of the MTP modules alone (in `mtp`, `mtp_transformer`, `mtp_attention`).
ForwardFlops mtp_forward_flops(const ModelSpec& m, std::int64_t seq);

// Keys a query meets, averaged exactly over the positions 0 … seq − 1 of one sequence:
//   global: position t meets t + 1 keys → (T + 1)/2;
//   sliding (window w): min(t + 1, w) → (T + 1)/2 for T ≤ w, (w(w + 1)/2 + (T − w)·w)/T beyond;
//   chunked (chunk c): (t mod c) + 1 → (n·c(c + 1)/2 + r(r + 1)/2)/T for T = n·c + r.
// A window or chunk of 0 (none set; validate_model refuses such layers) counts as global.
double mean_keys_per_query(const ModelSpec& m, LayerAttention a, std::int64_t seq);

// Training FLOPs per token: model FLOPs (forward + backward = 3 × forward, MTP modules included)
// and hardware FLOPs, which add what recomputation runs again (full: the layers' forward;
// selective: the attention scores and softmax·V) — the MFU / HFU distinction of PaLM App. B and
// Korthikanti §5.
struct TrainingFlops {
    double model = 0;
    double hardware = 0;
};
TrainingFlops training_flops_per_token(const ModelSpec& m, std::int64_t seq, Recompute recompute);

// The approximations, per token (N parameters, L layers, d width, T sequence):
double flops_6n(double n);                                          // 6N (Kaplan §2.1, training)
double flops_6n_causal_attention(double n, double L, double d, double T);  // 6N + 6·L·d·T (Kaplan, llm.c)
double flops_palm(double n, double L, double d, double T);          // 6N + 12·L·d·T (PaLM App. B, MFU)
// Korthikanti et al. 2022 App. A, per iteration of B sequences of s tokens, no recompute:
// 72·B·s·l·h²·(1 + s/(6h) + V/(12·l·h)).
double flops_korthikanti_iteration(double B, double s, double l, double h, double V);

}  // namespace llmplan
