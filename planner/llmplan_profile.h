// llmplan_profile.h — `--framework llmplan`: the memory books of llmplan's own training engine.
//
// The engine (reference/model.h on the CPU, fp32; kernels/engine.h on the GPU, fp32,
// mixed-bf16 and mixed-fp16) allocates every buffer from per-category arenas, so its peak follows
// exactly from the shapes. Its step is described once, in engine/program.h: the books here are
// the replay of that program's alloc/free events (replay_engine_books), printed term by term.
// With e the bytes of the storage type (4 for fp32, 2 for mixed-bf16 and mixed-fp16:
// half-precision weights, gradients, activations and logits; fp16's dynamic loss scale adds no
// buffer) and P the parameters:
//   parameters e·P, gradients e·P; optimizer: AdamW m and v (fp32) and, in mixed precision, the
//     fp32 master weights: 8·P or 12·P (16·P of statics in every precision);
//   activations: the residual stream at each of the L + 1 layer boundaries (e·T·d each), the final
//     norm's statistics (fp32: 4·T, ×2 for LayerNorm's mean) and output (e·T·d), and per layer what
//     the recompute mode keeps (model.h lists it): in the storage type except the norm statistics
//     and the flash log-sum-exp [B, heads, S], which stay fp32 (eager probabilities: e·B·heads·S²);
//   logits: one [T, V] buffer in the storage type, overwritten in place by its gradient;
//   workspace: one layer's recomputed fields (selective: the attention store; full: everything)
//     and the backward's gradient buffers in the storage type (3 [T, d], 2 [T, q], 2 [T, kv],
//     2–3 [T, f]).
// The step peaks in the backward, either during the output layer's backward (forward state + one
// [T, d] gradient) or once the gradient buffers exist (the logits and the final-norm output and
// statistics freed). fp32 equals the CPU engine's measured peak to the byte; mixed-bf16 and
// mixed-fp16 the books of kernels/engine.h (and the GPU engine's measured peaks in
// validation/engine/). What the engine does not run is refused with engine_supports' line.
//
// Several GPUs (--gpus N = N data-parallel ranks, --zero 0–3; no tp, pp, cp or ep): every rank
// holds the same books (every slice is padded to the same size), worked out by
// llmplan_engine_books below. They follow the shard plan (engine/shard_plan.h): DDP keeps the
// one-GPU books; ZeRO-1 pads weights and gradients to Ψ′ (units padded to n × 128 bytes) and keeps
// fp32 master, m and v for its Ψ′/n slice; ZeRO-2 keeps only its gradient slice plus the staging
// buffer of each bucket from the backward step that first writes it until the next bucket's
// reduce-scatter; ZeRO-3 also keeps only its weight slice plus the gathered layer units (one-step
// prefetch: two, or three with the tied embedding, at once). docs/MEMORY_MODEL.md §8.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "core/vocab.h"
#include "planner/memory.h"

#include <array>
#include <cstddef>
#include <string>

namespace llmplan {

// InputError with engine_supports(m, c)'s line (engine/program.h) when the engine does not run it.
void validate_llmplan_profile(const ModelSpec& m, const TrainConfig& c);
StageMemory plan_llmplan_stage(const ModelSpec& m, const TrainConfig& c);
// gpus > 1 (plan_llmplan_stage calls it): the StageMemory of llmplan_engine_books — each term the
// category at the total peak.
StageMemory plan_llmplan_dist_stage(const ModelSpec& m, const TrainConfig& c);

// The engine's six books as `llmplan profile` measures them, in MemoryCategory order (core/vocab.h).
struct EngineBooks {
    std::array<double, kMemoryCategories> peak{};           // each category's own peak in a step
    std::array<std::string, kMemoryCategories> peak_phase;  // idle, forward, backward (first reached)
    std::array<double, kMemoryCategories> at_peak{};        // each category when the total peaks
    double total_peak = 0;
    std::string total_peak_phase;
    double forward_peak = 0, backward_peak = 0, statics = 0;  // the total's largest in each pass; between steps
    // Data parallel (world > 1): the shard plan's sizes, elements.
    int world = 1, zero = 0;
    std::size_t total_elements = 0, padded_elements = 0, shard_elements = 0, units = 0;
    double max_gathered_bytes = 0, max_staging_bytes = 0;  // ZeRO-3 gathered units, ZeRO-2/3 gradient staging
};
// One rank's books for one training step (one micro-batch): the step program of engine/program.h
// for this rank replayed — statics, then the forward's allocations step by step (ZeRO-3 gathers
// first), the backward's (gathers and gradient staging at the start of each step, frees after
// it), no allocation in the optimizer.
// The bucket caps are the engine's (EngineOptions); the defaults are PyTorch DDP's.
EngineBooks llmplan_engine_books(const ModelSpec& m, const TrainConfig& c,
                                 std::size_t bucket_cap_bytes = std::size_t{25} << 20,
                                 std::size_t first_bucket_bytes = std::size_t{1} << 20);

}  // namespace llmplan
