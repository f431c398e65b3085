// llmplan_profile.h — `--framework llmplan`: the memory books of llmplan's own training engine.
//
// The engine (kernels/reference/model.h on the CPU; the CUDA engine mirrors it) allocates every
// buffer from per-category arenas, so its peak follows exactly from the shapes:
//   parameters, gradients, AdamW m and v: 4 fp32 copies of every parameter, from construction;
//   activations: the residual stream at each of the L + 1 layer boundaries, the final norm's
//     statistics and output, and per layer what the recompute mode keeps (model.h lists it);
//   logits: one [T, V] fp32 buffer, overwritten in place by its gradient;
//   workspace: one layer's recomputed fields (selective: the attention store; full: everything)
//     and the backward's gradient buffers (3 [T, d], 2 [T, q], 2 [T, kv], 2–3 [T, f]).
// The step peaks in the backward, either during the output layer's backward (forward state + one
// [T, d] gradient) or once the gradient buffers exist (the logits and the final-norm output freed).
// fp32, one device, AdamW; anything else is refused with the flag named.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/memory.h"

namespace llmplan {

void validate_llmplan_profile(const ModelSpec& m, const TrainConfig& c);
StageMemory plan_llmplan_stage(const ModelSpec& m, const TrainConfig& c);

}  // namespace llmplan
