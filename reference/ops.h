// ops.h — the CPU reference of every op of llmplan's training engine (fp32, plain C++20, no CUDA).
//
// It is the ground truth the CUDA kernels (kernels/cuda) are tested against, and with
// reference/model.h it runs whole training steps on the CPU (`llmplan profile --device
// cpu`, the whole-model gradient check and the learning test in CI). Conventions:
//  * row-major; T = tokens = batch × sequence; activations are [T, features];
//  * linear weights are [out, in] (PyTorch's nn.Linear layout): y = x·Wᵀ + b;
//  * attention tensors are [B, S, heads, head_dim]; K and V have kv_heads ≤ heads (GQA: query
//    head h reads kv head h / (heads / kv_heads)); attention is causal (optionally within a
//    sliding window), scale 1/√head_dim;
//  * every backward ACCUMULATES (+=) into parameter gradients (dW, db, dgamma, dbeta, dtable) and
//    OVERWRITES (=) input gradients (dx, dq, dk, dv, dgate, dup) unless stated otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace llmplan::reference {

// y[T,n] = x[T,k] · W[n,k]ᵀ + b[n] (b may be null).
void linear_forward(const float* x, const float* w, const float* b, float* y, int T, int k, int n);
// dx = dy·W (overwritten; may be null to skip), dW += dyᵀ·x, db += Σ_t dy (db may be null).
void linear_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, float* db, int T, int k, int n);

// LayerNorm over the last dimension: y = (x − mean)·rstd·γ + β; mean, rstd saved per row [T].
void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd, int T,
                       int h, float eps);
void layernorm_backward(const float* x, const float* gamma, const float* mean, const float* rstd, const float* dy, float* dx,
                        float* dgamma, float* dbeta, int T, int h);

// RMSNorm (Llama): y = x·rstd·γ, rstd = 1/√(mean(x²) + eps) saved per row [T].
void rmsnorm_forward(const float* x, const float* gamma, float* y, float* rstd, int T, int h, float eps);
void rmsnorm_backward(const float* x, const float* gamma, const float* rstd, const float* dy, float* dx, float* dgamma, int T,
                      int h);

// (Reference: the element-wise ops below allow their output to alias an input.)
// GELU, tanh approximation (GPT-2's gelu_new): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
void gelu_forward(const float* x, float* y, std::size_t n);
void gelu_backward(const float* x, const float* dy, float* dx, std::size_t n);

// SwiGLU (Llama MLP): y = silu(gate)·up, silu(g) = g·σ(g).
void swiglu_forward(const float* gate, const float* up, float* y, std::size_t n);
void swiglu_backward(const float* gate, const float* up, const float* dy, float* dgate, float* dup, std::size_t n);

// Rotary position embedding, in place on x [B, S, heads, head_dim], Llama's rotate-half
// convention: for i < d/2 with θ_i = base^(−2i/d) and angle = position·θ_i,
// (x_i, x_{i+d/2}) → (x_i·cos − x_{i+d/2}·sin, x_{i+d/2}·cos + x_i·sin). Position = index in S.
void rotary_forward(float* x, int B, int S, int heads, int head_dim, float base);
// The gradient of the rotation: the inverse rotation applied in place to dx.
void rotary_backward(float* dx, int B, int S, int heads, int head_dim, float base);

// Causal attention. q [B,S,heads,d], k and v [B,S,kv_heads,d], out [B,S,heads,d].
// keep_probs = true (eager): saves the softmax probabilities in `probs` [B,heads,S,S];
// keep_probs = false (flash-style): saves only the log-sum-exp of each score row in `lse` [B,heads,S].
// (Reference behaviour: `lse` is written whenever it is non-null, also with keep_probs, and
// `probs` only with keep_probs; masked entries j > i of `probs` are exactly 0. The output uses
// the unrounded probabilities, so both paths give identical `out`.)
// window W > 0: sliding-window causal attention, query i sees keys i − W < j ≤ i (W keys, its own
// included: Hugging Face transformers' sliding-window mask `kv_idx > q_idx − sliding_window`;
// Mistral 7B §2, docs/REFERENCES.md §3); 0: every earlier key. The keys outside the window are
// masked like the future (exactly 0 in `probs`), in the forward and the backward of both paths.
void attention_forward(const float* q, const float* k, const float* v, float* out, float* probs, float* lse, int B, int S,
                       int heads, int kv_heads, int d, bool keep_probs, int window = 0);
// dq, dk, dv overwritten. Uses `probs` when keep_probs, else recomputes them from q, k and `lse`.
// (Reference: the softmax-gradient row term is D_i = Σ_c dout_ic·out_ic, FlashAttention-2's form.)
void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* probs,
                        const float* lse, const float* dout, float* dq, float* dk, float* dv, int B, int S, int heads,
                        int kv_heads, int d, bool keep_probs, int window = 0);

// A mixture-of-experts MLP (the CPU reference only; the step program and the CUDA engine do not
// run it yet). Per token x_t [d]: router logits r = x_t·Wrᵀ [E], p = softmax(r); the top_k experts
// by p (ties: the lower index); gates g_e = p_e (DeepSeek-V2 §2.2.1, no renormalisation) or, with
// normalize_top_k, p_e / Σ_top-k p (= softmax over the top-k logits: Mixtral, Jiang et al. 2024);
//   out_t = Σ_{e ∈ top-k} g_e · expert_e(x_t) + shared(x_t),
// every expert (and the optional shared expert, DeepSeekMoE, Dai et al. 2024) a SwiGLU MLP
// down·(silu(gate·x) ⊙ up·x) with its own weights. No auxiliary load-balancing loss, no capacity
// limit (no token dropped). docs/REFERENCES.md §3 (fine-grained and shared experts).
struct MoeShape {
    int T = 0, d = 0;
    int experts = 0, top_k = 0, expert_ff = 0;
    int shared_ff = 0;  // 0: no shared expert
    bool normalize_top_k = false;
};
struct MoeWeights {  // linear weights [out, in]; experts stacked: gate, up [E, f, d], down [E, d, f]
    const float *router = nullptr, *gate = nullptr, *up = nullptr, *down = nullptr;
    const float *shared_gate = nullptr, *shared_up = nullptr, *shared_down = nullptr;  // [fs, d], [fs, d], [d, fs]
};
struct MoeGrads {  // accumulated (+=), the same shapes; shared ones may be null without a shared expert
    float *router = nullptr, *gate = nullptr, *up = nullptr, *down = nullptr;
    float *shared_gate = nullptr, *shared_up = nullptr, *shared_down = nullptr;
};
// What the forward keeps for the backward: each token's router probabilities [T, E], its experts
// and gates [T, top_k] (the experts' hidden states are recomputed from x in the backward).
struct MoeRouting {
    std::vector<float> probs, gates;
    std::vector<int> experts;
};
void moe_forward(const float* x, const MoeWeights& w, const MoeShape& s, float* out, MoeRouting& routing);
// dx overwritten; the weight gradients accumulated. The routing is held fixed (top-k selection
// has no gradient); the gates' gradient flows into the router through the softmax.
void moe_backward(const float* x, const MoeWeights& w, const MoeShape& s, const MoeRouting& routing, const float* dout,
                  float* dx, const MoeGrads& g);

// Softmax cross-entropy over V classes, fused: returns the mean loss over rows whose target is
// ≥ 0 (−1 = ignored) and writes dlogits = (softmax − onehot) / count (zero rows for ignored).
// dlogits may alias logits (the engine overwrites the logits in place: no second [T,V] buffer).
// (Reference: no counted row → loss 0 and zero gradient; a target outside [−1, V) throws
// std::invalid_argument.)
// denominator > 0 (gradient accumulation: the step's counted rows over all its micro-batches)
// replaces count: loss = Σ row losses / denominator and dlogits = (softmax − onehot) / denominator,
// so that the micro-batches' losses and gradients sum to the whole batch's.
float cross_entropy_forward_backward(const float* logits, const int* targets, float* dlogits, int T, int V,
                                     int denominator = 0);
// Loss only.
float cross_entropy_forward(const float* logits, const int* targets, int T, int V);

// Embedding lookup y[t] = table[ids[t]]; backward accumulates dtable[ids[t]] += dy[t].
void embedding_forward(const float* table, const int* ids, float* y, int T, int h);
void embedding_backward(const int* ids, const float* dy, float* dtable, int T, int h);

// Global L2 norm of a set of gradient buffers.
float global_norm(const std::vector<std::pair<const float*, std::size_t>>& buffers);

// AdamW (Loshchilov & Hutter) with bias correction, on one buffer; grad_scale multiplies the
// gradient first (global-norm clipping: min(1, max_norm / norm)). step counts from 1.
struct AdamW {
    float lr = 3e-4f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f, max_grad_norm = 1.0f;
};
void adamw_update(float* param, const float* grad, float* m, float* v, std::size_t n, const AdamW& opt, int step,
                  float grad_scale, bool decay);

}  // namespace llmplan::reference
