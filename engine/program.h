// program.h — one description of llmplan's training step: what the engine supports, its flat
// parameter layout, and the ordered list of what one step does (forward, backward, optimizer),
// each kernel call with its shape (engine_kernels.h) and each buffer it allocates and frees
// (name, memory category, bytes). Every consumer iterates it instead of keeping its own copy:
//   the planner's memory books (planner/llmplan_profile.cpp, llmplan_books.cpp) replay its
//     alloc/free events (replay_engine_books below);
//   the planner's time model (planner/engine_time.cpp engine_step_kernels) groups its kernel calls;
//   the CPU reference (reference/model.cpp) allocates its buffers from its events and runs its
//     math at its marks, so its measured books equal the replay by construction;
//   the CUDA engine (kernels/engine.cpp, kernels/cuda/engine.cu) takes its layout and its refusals
//     from here and iterates it as the reference does: its statics and per-step buffers (ZeRO's
//     gathered units and gradient staging too, kernels/cuda/data_parallel.cu) allocated and freed
//     on its events through the engine's arenas, its kernels launched at its marks, so its books
//     equal the replay by construction (tests/gpu_engine.cpp checks it).
//
// The step, as the engine runs it (kernels/cuda/engine.cu, data_parallel.cu; reference/model.cpp).
// e = bytes of the storage type (4 fp32; 2 bf16 / fp16), T = B·S tokens, q = heads·head_dim,
// kv = kv_heads·head_dim, f = d_ff; statistics and the flash log-sum-exp are fp32:
//   idle      weights e·Ψ, gradients e·Ψ, optimizer: fp32 (master in mixed precision,) AdamW m, v
//             (ZeRO 1–3: padded and sliced as engine/shard_plan.h says);
//   forward   zero_grad; per compute step p = 0 … L + 1: the ZeRO-3 gathers issued at p, then
//             p = 0 the residual x0 [T,d] and the embeddings; p = 1 … L the residual x_p [T,d] and
//             layer p − 1's fields (LayerField: kept ones as activations, the others as one
//             layer's workspace allocated once, at p = 1) and its kernels; p = L + 1 the final
//             norm's statistics and output [T,d], the logits [T, V padded] and the fused
//             cross-entropy (the gradient overwrites the logits); then the gathers last used at p
//             are freed;
//   backward  the output layer: dL/d(final-norm output) [T,d], the head's backward, the logits and
//             final-norm output freed, the residual gradient and a temporary [T,d], the final
//             norm's backward, its statistics freed; the gradient buffers (GradField); per layer
//             k = L … 1: x_k freed, the ZeRO-3 gathers and ZeRO-2/3 gradient staging of step k,
//             the recompute mode's re-run, the layer's backward, its kept fields freed, the
//             reduce-scatters issued after it (ZeRO-2/3 free the previous ones' staging); the
//             embeddings' backward; then x0, the layer workspace and the gradient buffers freed;
//   accumulation (A = EngineStepOptions::accumulation micro-batches per optimizer step): the
//             forward and backward above are one micro-batch's events, [micro_begin, micro_end),
//             and run A times, micro-batch after micro-batch, on the same buffers (each
//             micro-batch allocates and frees them again, so the books' peaks are one
//             micro-batch's); zero_grad only in the first, so its backward writes the gradients
//             and the later ones add to them in place (no second gradient buffer); ZeRO's gathers
//             and reduce-scatters repeat with each micro-batch. for_each_step_event walks the
//             step in this order (the events are stored once, whatever A);
//   optimizer (fp16: the inf/NaN check) the global norm and one AdamW per parameter tensor, once.
// docs/MEMORY_MODEL.md §8 (the books), docs/PERFORMANCE_MODEL.md §7 (the kernels).
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "core/vocab.h"
#include "engine/engine_kernels.h"
#include "engine/shard_plan.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llmplan {

// --- what the engine runs ------------------------------------------------------------------------

// The engine's own options (the CUDA engine's EngineOptions and the reference's TrainOptions map
// onto them; engine_step_options maps a TrainConfig).
struct EngineStepOptions {
    Precision precision = Precision::fp32;  // fp32, mixed_bf16 or mixed_fp16
    Recompute recompute = Recompute::none;
    Attention attention = Attention::flash;
    std::int64_t micro_batch = 1, seq = 1;  // B and S of one micro-batch
    std::int64_t accumulation = 1;          // A: micro-batches per optimizer step (--global-batch)
    int world = 1, zero = 0;                // data-parallel ranks and ZeRO stage (zero is 0 when world is 1)
    std::size_t bucket_cap_bytes = std::size_t{25} << 20;   // PyTorch DDP's defaults
    std::size_t first_bucket_bytes = std::size_t{1} << 20;
};
EngineStepOptions engine_step_options(const TrainConfig& c);

// "" when the engine runs this model with these options, else the one-line reason, naming the
// flag. The model: GPT-2 and Llama-style decoders (no MoE, relative positions, parallel residual,
// partial rotary, rotary with an odd head_dim, sliding window, vocabulary or context over 2^31);
// flash attention up to head_dim 256; fp32, mixed-bf16 and mixed-fp16; ZeRO 0–3.
std::string engine_supports(const ModelSpec& spec, const EngineStepOptions& options);
// The same, plus what a TrainConfig can ask for that the engine does not do: tensor, pipeline,
// context or expert parallelism, an optimizer other than AdamW, offload, LoRA, dropout.
std::string engine_supports(const ModelSpec& spec, const TrainConfig& config);
// What the CUDA engine (kernels/cuda) does not run yet of what the step program describes: "" or
// the one-line reason, naming the flag. It accumulates gradients over several micro-batches on one
// GPU only (not with data parallelism, whose per-micro-batch reductions the planner models).
std::string cuda_engine_supports(const EngineStepOptions& options);

// --- the parameter layout --------------------------------------------------------------------------

// One tensor of the flat parameter (and gradient) buffer: [offset, offset + size). Names are
// param_tensors()'s with the layer index for "*" ("layers.0.attn.q_proj.weight"); shapes [rows,
// cols] (rows 1 for vectors); decay: AdamW weight decay (matrices yes, norms and biases no).
struct EngineParamSlot {
    std::string name;
    std::size_t offset = 0;
    std::size_t size = 0;
    std::int64_t rows = 0, cols = 0;
    bool decay = false;
};
// The engine's layout: embeddings, layer 0 … L − 1 (each in param_tensors() order), final norm,
// head. One function for the reference, the CUDA engine and the shard plan (engine_flat_layout).
std::vector<EngineParamSlot> engine_param_layout(const ModelSpec& spec);

// --- the step --------------------------------------------------------------------------------------

// Memory categories (the six books) and phases: MemoryCategory and MemoryPhase of core/vocab.h.

// The tensors of one layer's forward, by role (which ones each recompute mode keeps: program.cpp).
enum class LayerField : int {
    ln1_mean, ln1_rstd, ln1_out, q, k, v, probs, lse, att, x_mid, ln2_mean, ln2_rstd, ln2_out, fc, up, act
};
inline constexpr int kLayerFields = 16;
// The backward's gradient buffers (one set for all layers).
enum class GradField : int { ln, res, tmp, att, dq, dk, dv, act, fc, up };
inline constexpr int kGradFields = 10;

// What a buffer is; `layer` and `field` say which one.
enum class BufferRole {
    weights, gradients, master, adam_m, adam_v,  // between steps
    residual,        // x_layer [T,d], layer 0 … L (x_L: the final norm's input)
    layer_field,     // a field kept for layer `layer`'s backward (activations)
    layer_scratch,   // a field the mode does not keep: one layer's worth, shared (workspace)
    final_norm_mean, final_norm_rstd, final_norm_out,
    logits,          // [T, V padded], overwritten in place by its gradient
    grad,            // a GradField buffer of the backward (workspace)
    gathered,        // ZeRO-3: unit `layer` all-gathered (parameters)
    staging          // ZeRO-2/3: unit `layer`'s full gradient until its reduce-scatter (gradients)
};

struct ProgramBuffer {
    BufferRole role = BufferRole::weights;
    int layer = -1;  // the layer (residual, layer_field), the unit (gathered, staging); −1 otherwise
    int field = -1;  // LayerField (layer_field, layer_scratch) or GradField (grad); −1 otherwise
    MemoryCategory category = MemoryCategory::workspace;
    std::size_t elements = 0;
    std::size_t element_bytes = 4;
    double bytes() const { return static_cast<double>(elements) * static_cast<double>(element_bytes); }
    std::string name() const;  // "layers.3.q", "grad.dq", "x.2", "logits", …
};

// The points of the step at which a consumer does one stretch of work (the reference's math runs
// at each; the books read the total at forward_end, head_backward — the forward's state and
// dL/d(final-norm output) —, backward_workspace and optimizer_step).
enum class StepMark {
    embed_forward, layer_forward, final_norm_forward, head_forward, forward_end,
    head_backward, final_norm_backward, backward_workspace, layer_backward, embed_backward,
    optimizer_step
};

struct ProgramEvent {
    enum class Kind { phase, alloc, free, kernel, mark };
    Kind kind = Kind::mark;
    MemoryPhase phase = MemoryPhase::idle;  // phase: the phase entered
    int buffer = -1;                    // alloc, free: index into EngineProgram::buffers
    StepMark mark = StepMark::forward_end;
    int layer = -1;                     // mark: layer_forward, layer_backward
    EngineKernel kernel = EngineKernel::linear_forward;
    std::array<std::int64_t, 6> dims{};  // kernel: the first engine_kernel_dims(kernel)
    int calls = 1;                       // kernel: back-to-back launches of this shape
};

struct EngineProgram {
    EngineStepOptions options;
    double element_bytes = 4;  // e: the storage type's
    std::int64_t logits_row = 0;  // the logits' row stride (engine/logits_stride.h)
    std::vector<EngineParamSlot> layout;
    dist::ShardPlan shards;    // world > 1 only
    std::vector<ProgramBuffer> buffers;
    std::vector<ProgramEvent> events;
    // One micro-batch's events (its forward and backward phases), run options.accumulation times.
    std::size_t micro_begin = 0, micro_end = 0;
    // The bytes of every buffer with this role (and layer, when ≥ 0).
    double bytes_of(BufferRole role, int layer = -1) const;
};

// Which program buffer holds what (ids into EngineProgram::buffers, −1: none) and where the
// forward and the backward begin in its events: the index the CPU reference and the CUDA engine
// look their per-step buffers up in (the statics, ZeRO's gathered units and staging are not in it).
struct ProgramIndex {
    std::vector<int> resid;                            // x_l: input of layer l; x_L: final-norm input
    std::vector<std::array<int, kLayerFields>> saved;  // per layer, the fields the mode keeps
    std::array<int, kLayerFields> scratch{};           // the fields it does not keep (one layer)
    std::array<int, kGradFields> gradw{};              // the backward's gradient buffers
    int lnf_mean = -1, lnf_rstd = -1, lnf_out = -1, logits = -1;
    std::size_t forward_begin = 0, backward_begin = 0;  // event indices of the phases (every micro-batch's)
};
ProgramIndex index_program(const EngineProgram& program, int layers);

// The step for one rank; InputError with engine_supports' reason when the engine does not run it.
EngineProgram build_engine_program(const ModelSpec& spec, const EngineStepOptions& options);

// Calls f(event, micro) for every event of the step in the order the engine runs it: the events
// before the micro-batch, its events once per micro-batch (micro = 0 … A − 1; zero_grad in the
// first only), the optimizer's (micro = A − 1). The books, the time model and the reference walk
// the step through it (the reference runs one micro-batch's forward and backward at a time).
template <class F>
void for_each_step_event(const EngineProgram& p, F&& f) {
    const std::int64_t A = p.options.accumulation;
    for (std::size_t i = 0; i < p.micro_begin; ++i) f(p.events[i], std::int64_t{0});
    for (std::int64_t a = 0; a < A; ++a)
        for (std::size_t i = p.micro_begin; i < p.micro_end; ++i) {
            const ProgramEvent& e = p.events[i];
            if (a > 0 && e.kind == ProgramEvent::Kind::kernel && e.kernel == EngineKernel::zero_grad) continue;
            f(e, a);
        }
    for (std::size_t i = p.micro_end; i < p.events.size(); ++i) f(p.events[i], A - 1);
}

// The books of one step, its alloc/free events replayed (the engine's per-category arenas): current
// and peak bytes per category, the phase each peak was first reached in (a peak moves only when
// strictly passed), each category when the total peaked, the total at each mark.
struct EngineBooksReplay {
    std::array<double, kMemoryCategories> peak{}, at_peak{};
    std::array<MemoryPhase, kMemoryCategories> peak_phase{};
    double total_peak = 0;
    MemoryPhase total_peak_phase = MemoryPhase::idle;
    double forward_peak = 0, backward_peak = 0;  // the total's largest in each pass (over all micro-batches)
    double statics = 0;                          // the total between steps
    double max_staging_bytes = 0;                // ZeRO-2/3 gradient staging held at once
    std::vector<std::pair<StepMark, double>> marks;  // the total at each mark (each micro-batch's)
    double at_mark(StepMark m) const;                // the first one's
};
EngineBooksReplay replay_engine_books(const EngineProgram& program);

}  // namespace llmplan
