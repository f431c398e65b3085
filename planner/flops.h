// flops.h — floating-point operations of a training step, exactly from the model spec, beside the
// published approximations (planner/perf.h builds step time and MFU on these).
//
// Counting convention: a matmul of (m × k)·(k × n) is 2mkn FLOPs; element-wise ops, norms, softmax
// and biases are not counted (as in Kaplan et al. 2020 §2.1, Narayanan et al. 2021 App., PaLM App. B).
// Backward costs twice the forward (gradients with respect to inputs and to weights).
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <cstdint>

namespace llmplan {

// Forward FLOPs per token of one sequence of `seq` tokens, by component (whole model).
struct ForwardFlops {
    double qkv = 0;          // 2·d·(q + 2·kv) per layer (+ the relative-position projection)
    double attention = 0;    // QKᵀ and softmax·V, causal: token t attends to t+1 keys → 2·q·(T+1) per layer
    double output_proj = 0;  // 2·q·d per layer
    double mlp = 0;          // GELU 4·d·f, SwiGLU 6·d·f per layer; MoE × top_k + router 2·d·E
    double logits = 0;       // 2·d·V
    double total() const { return qkv + attention + output_proj + mlp + logits; }
    double dense_matmuls() const { return qkv + output_proj + mlp + logits; }  // ≈ 2 × active parameters
};
ForwardFlops forward_flops_per_token(const ModelSpec& m, std::int64_t seq);

// Training FLOPs per token: model FLOPs (forward + backward = 3 × forward) and hardware FLOPs,
// which add what recomputation runs again (full: the layers' forward; selective: the attention
// scores and softmax·V) — the MFU / HFU distinction of PaLM App. B and Korthikanti §5.
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
