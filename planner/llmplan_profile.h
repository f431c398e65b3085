// llmplan_profile.h — `--framework llmplan`: the memory books of llmplan's own training engine.
//
// The engine (kernels/reference/model.h on the CPU, fp32; kernels/engine.h on the GPU, fp32,
// mixed-bf16 and mixed-fp16) allocates every buffer from per-category arenas, so its peak follows
// exactly from the shapes. With e the bytes of the storage type (4 for fp32, 2 for mixed-bf16 and
// mixed-fp16: half-precision weights, gradients, activations and logits; fp16's dynamic loss
// scale adds no buffer) and P the parameters:
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
// validation/engine/). One device, AdamW, fp32, mixed-bf16 or mixed-fp16; anything else is
// refused with the flag named.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/memory.h"

namespace llmplan {

void validate_llmplan_profile(const ModelSpec& m, const TrainConfig& c);
StageMemory plan_llmplan_stage(const ModelSpec& m, const TrainConfig& c);

}  // namespace llmplan
