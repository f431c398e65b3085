// model.h — a whole decoder-only transformer trained on the CPU from the reference ops (fp32).
//
// ReferenceModel builds GPT-2-style and Llama-style models from a llmplan::ModelSpec, following
// its flags rather than its family string: Norm (layernorm | rmsnorm), Activation (gelu |
// swiglu), PositionEmbedding (learned table | rotary, base TrainOptions::rope_base), the q/k/v,
// output and MLP biases, GQA (n_kv_heads), head_dim, d_ff and tied or untied embeddings.
// Unsupported (InputError with engine/program.h engine_supports' reason): mixture of experts,
// relative positions, parallel residual, partial rotary (rotary_pct < 1) and sliding-window
// attention (reference/ops.h already has sliding-window attention and an MoE layer; the model and
// the step program do not use them yet). Layers are pre-norm:
//   x_mid = x + o_proj(attention(rope(q_proj(n1(x))), rope(k_proj(n1(x))), v_proj(n1(x))))
//   x_out = x_mid + down_proj(gelu(up_proj(n2(x_mid))))            (GELU MLP)
//   x_out = x_mid + down_proj(silu(gate_proj(n2)) · up_proj(n2))   (SwiGLU MLP)
// then final_norm and lm_head (the token embedding when tied); loss = mean cross-entropy over
// targets ≥ 0 (−1 = ignored).
//
// Memory is accounted like a real engine's (llm.c style): every buffer is a Buffer registered
// with the model's Arena under one category, and the arena keeps current and peak bytes per
// category and the phase (forward / backward / optimizer) of each peak. The buffers, their sizes,
// categories and order are the step program's (engine/program.h): the model walks its events,
// allocating and freeing as they say and running its math at each mark, so its books equal
// replay_engine_books of the program by construction:
//   parameters   all weights, one buffer, allocated at construction;
//   gradients    one buffer the size of the parameters, allocated at construction;
//   optimizer    AdamW m and v (fp32), allocated at construction;
//   activations  what the forward keeps for the backward (below), released layer by layer as
//                the backward consumes them;
//   logits       the [T, V] fp32 logits; the fused cross-entropy overwrites them with their
//                gradient in place (no second [T, V] buffer), released after the lm_head backward;
//   workspace    transient buffers: gradients of activations during the backward, one layer of
//                tensors the mode does not keep (shared by all layers, recomputed in backward).
// Saved per layer (T = B·S tokens, fp32; q = heads·head_dim, kv = kv_heads·head_dim, f = d_ff):
//   recompute none:      layer input [T,d] · norm-1 stats (mean [T] for LayerNorm, rstd [T]) ·
//                        norm-1 output [T,d] · q [T,q] and k [T,kv] (after rotary) · v [T,kv] ·
//                        eager: softmax probabilities [B,heads,S,S] | flash: log-sum-exp
//                        [B,heads,S] · attention output [T,q] · x_mid [T,d] · norm-2 stats ·
//                        norm-2 output [T,d] · GELU: up output and GELU output [T,f] each |
//                        SwiGLU: gate, up and silu(gate)·up outputs [T,f] each;
//   recompute selective: the same without probabilities / log-sum-exp (attention's core is
//                        recomputed from q, k, v in the backward; Korthikanti et al. 2022 §5);
//   recompute full:      the layer input only; the layer is recomputed in the backward.
// Outside the layers: the final-norm input [T,d] (the last layer's output), its stats and its
// output [T,d] (the lm_head input). Recomputation reproduces the forward bit for bit, so the
// three recompute modes give identical gradients.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "core/vocab.h"
#include "engine/program.h"
#include "reference/ops.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan::reference {

// --- memory accounting -------------------------------------------------------------------------

// The books and phases: MemoryCategory and MemoryPhase (core/vocab.h).

// Keeps the books: every Buffer reports its bytes here when allocated and when released.
class Arena {
public:
    void allocate(MemoryCategory c, std::size_t bytes);
    void release(MemoryCategory c, std::size_t bytes);
    void set_phase(MemoryPhase p) { phase_ = p; }
    MemoryPhase phase() const { return phase_; }
    const MemoryBooks& stats() const { return stats_; }
    void reset_peaks();  // peaks := current (phase: the current one)

private:
    MemoryBooks stats_;
    MemoryPhase phase_ = MemoryPhase::idle;
};

// An owned, zero-initialised fp32 buffer whose bytes are booked in an Arena for its lifetime.
// Move-only; the Arena must outlive it.
class Buffer {
public:
    Buffer() = default;
    Buffer(Arena& arena, MemoryCategory category, std::size_t elements);
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { reset(); }

    void reset();  // release now
    float* data() { return data_.get(); }
    const float* data() const { return data_.get(); }
    std::size_t size() const { return size_; }
    std::size_t bytes() const { return size_ * sizeof(float); }
    bool empty() const { return size_ == 0; }
    std::span<float> span() { return {data_.get(), size_}; }

private:
    std::unique_ptr<float[]> data_;
    std::size_t size_ = 0;
    Arena* arena_ = nullptr;
    MemoryCategory category_ = MemoryCategory::workspace;
};

// --- the model ---------------------------------------------------------------------------------

struct TrainOptions {
    Recompute recompute = Recompute::none;
    Attention attention = Attention::flash;  // eager: keep the probabilities; flash: keep the log-sum-exp
    float norm_eps = 1e-5f;                  // LayerNorm and RMSNorm ε (GPT-2 and Llama-2: 1e-5)
    float rope_base = 10000.0f;              // rotary θ base
    float init_std = 0.02f;                  // weights ~ normal(0, init_std)
};

// One parameter tensor: a slice of the flat parameter (and gradient) buffer, in the layout of
// engine/program.h engine_param_layout (names "layers.0.attn.q_proj.weight", shapes [rows, cols],
// decay on matrices only).
using ParamInfo = EngineParamSlot;

struct StepStats {
    float loss = 0;        // mean cross-entropy of the step's tokens
    float grad_norm = 0;   // global L2 norm of the gradients before clipping
    double forward_s = 0;  // wall time: forward passes including the fused loss and its gradient
    double backward_s = 0;  // (accumulation: summed over the micro-batches)
    double optimizer_s = 0;  // clipping and AdamW
    double total_s = 0;
    MemoryBooks memory;    // the arena after the step (peaks since construction or reset_peaks)
};

class ReferenceModel {
public:
    // Parameters are initialised deterministically from `seed`, in layout order: matrices
    // (embeddings, positions, linear weights) ~ normal(0, init_std) from a splitmix64 stream
    // through Box–Muller (the same numbers on every platform), norm weights 1, biases 0.
    // Throws InputError for shapes it cannot run (see the top of this file).
    ReferenceModel(const ModelSpec& spec, const TrainOptions& options = {}, std::uint64_t seed = 0);
    ~ReferenceModel();
    ReferenceModel(ReferenceModel&&) noexcept;
    ReferenceModel& operator=(ReferenceModel&&) noexcept;

    // Forward and backward over B sequences of S tokens (ids and targets [B·S], row-major by
    // sequence; targets −1 are ignored). Returns the loss; the gradients are overwritten, or
    // added to when `accumulate` (the caller scales the loss).
    // A > 1: gradient accumulation as the step program runs it (engine/program.h): ids and targets
    // hold A micro-batches of B × S ([A·B·S], micro-batch after micro-batch), each run forward and
    // backward on the same buffers, the gradients written by the first and added to by the others;
    // the loss and gradients are those of the mean over the step's counted targets, i.e. equal to
    // one pass over A·B sequences (to fp32 rounding).
    float forward_backward(std::span<const int> ids, std::span<const int> targets, int B, int S,
                           bool accumulate = false, int A = 1);
    // The loss only: the step's forward (the same buffers), all freed after the loss.
    float loss_only(std::span<const int> ids, std::span<const int> targets, int B, int S);
    // Global-norm clipping (AdamW::max_grad_norm; ≤ 0: none) then AdamW on every tensor, weight
    // decay on ParamInfo::decay tensors only. Returns the gradient norm before clipping.
    float optimizer_step(const AdamW& opt);
    // forward_backward (A micro-batches) + optimizer_step, timed (std::chrono::steady_clock).
    StepStats train_step(std::span<const int> ids, std::span<const int> targets, int B, int S, const AdamW& opt,
                         int A = 1);
    void zero_grad();

    const std::vector<ParamInfo>& params() const;
    const ParamInfo& param_info(std::string_view name) const;  // throws std::out_of_range
    std::span<float> param(std::string_view name);
    std::span<float> grad(std::string_view name);
    std::span<float> parameters();  // every parameter, flat, in params() order
    std::span<float> gradients();
    std::size_t param_count() const;
    int steps_taken() const;  // optimizer steps so far

    const MemoryBooks& memory() const;
    void reset_peaks();
    const ModelSpec& spec() const;
    const TrainOptions& options() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace llmplan::reference
