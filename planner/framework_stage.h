// framework_stage.h — what the megatron, deepspeed and torchtitan profiles (framework_*.cpp) share:
// a stage's memory as named parts, each held during some phases of the step, built on the generic
// model's activations (planner/memory.cpp plan_generic_stage: the saved tensors per layer, the
// pipeline's in-flight micro-batches, the logits and the recompute working set are the same
// tensors whatever the framework; what differs is how each framework keeps parameters, gradients,
// optimizer state and its buffers, and which layers it recomputes).
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/memory.h"

#include <string>
#include <vector>

namespace llmplan {

// The StageMemory field a part adds to.
enum class StageField {
    parameters,
    gradients,
    master,
    optimizer_states,
    communication_buffers,
    gathered,  // StageMemory::zero3_gathered: parameters (and their gradients) gathered from shards
    fp8_weight_cache,
    activations,
    logits,
    temporary,
};

// The phases of a step (StageMemory::phases) a part is allocated in.
enum StagePhases : unsigned {
    at_forward_end = 1,
    at_backward = 2,
    at_optimizer_step = 4,
    in_forward_and_backward = at_forward_end | at_backward,
    in_every_phase = at_forward_end | at_backward | at_optimizer_step,
};

struct StagePart {
    StageField field;
    unsigned phases;
    MemoryTerm term;  // key, label, the bytes the part holds when allocated, formula, source
};

// `base` (a generic stage plan: placement, layers, activations, overhead) with `parts` as its memory:
// the allocated bytes at forward end, in the backward and at the optimizer step are the sums of the
// parts held then; the peak is the largest (a tie goes to the backward, then the forward end);
// each field and each term holds what its parts hold at the peak (a part not held then says when
// it is, and how much); reserved = peak × (1 + fragmentation); device total adds base's overhead
// (the last term). explain = false leaves out the terms.
StageMemory compose_stage(StageMemory base, const std::vector<StagePart>& parts, double fragmentation, bool explain);

// The parts every framework takes from the generic plan `g`: activations and logits (forward end
// and backward) and the recompute working set (backward), with g's formulas.
std::vector<StagePart> generic_activation_parts(const StageMemory& g, const std::string& activation_source);

// The generic stage (plan_generic_stage) with `recomputed` of its layers fully recomputed in units
// of at most `unit` consecutive layers — `units` of them, each keeping its input; the backward
// rematerialises one unit at a time — and the rest keeping every tensor (recompute none):
// Megatron-LM's recompute_method uniform (every layer, units of recompute_num_layers) and block
// (the first recompute_num_layers layers of each chunk, units of one), torchtitan's layer SAC
// (every k-th layer, units of one). The layers' activations mix the two per-layer sizes over the
// stage's layer·micro-batches. `how` describes the choice for the activations term.
StageMemory generic_stage_with_layer_recompute(const ModelSpec& model, const std::vector<ParamTensor>& tensors,
                                               const TrainConfig& config, int stage, double recomputed, double units,
                                               int unit, const std::string& how, bool explain);

// Elements on one GPU of stage `stage` of the matmul weights inside its transformer layers and, on
// the last stage, its MTP modules (the linears Transformer Engine and torchao run in fp8; not the
// embedding, the output layer or a router), after the tensor split, routed experts ÷ ep.
double stage_layer_matmul_elements(const ModelSpec& model, const std::vector<ParamTensor>& tensors,
                                   const TrainConfig& config, int stage);

// Text helpers shared by the profiles' formulas.
std::string stage_gib(double bytes);     // "1.23 GiB"
std::string stage_count(double n);       // "6,738,415,616"
std::string stage_number(double v);      // shortest decimal: "0.5", "4"

}  // namespace llmplan
