// torch_compile.h — `--compile` under `--framework pytorch`: what torch.compile(model) (inductor,
// default mode: no CUDA graphs) changes in a training step's memory.
//
// torch.compile traces forward and backward into one joint graph (AOTAutograd), and
// min_cut_rematerialization_partition (torch/_functorch/partitioners.py) decides which forward
// values the backward receives: the cheapest set (bytes) from which the backward can recompute
// everything else with cheap ops. Its rules, applied here to a decoder layer (docs/REFERENCES.md
// §13 cites the source; docs/MEMORY_MODEL.md §7.2 derives each tensor):
//  * matmuls and the fused attention kernels are never recomputed (compute_intensive_ops), so the
//    outputs the backward needs are kept: the MLP's first matmul outputs (gate and up; GPT-2's
//    c_fc output), the attention output and its log-sum-exp;
//  * a value a backward matmul reads must be materialised there (is_materialized_backwards), so
//    every matmul input is kept: the normed inputs of the projections (in the matmul dtype),
//    SwiGLU's product / GELU's output, and under autocast the bf16 weight copies;
//  * reductions whose output is at least 4× smaller are not recomputed (ban_recompute_reductions):
//    the norms' rstd (LayerNorm: mean and rstd) are kept; each norm's input (the residual stream,
//    in its own dtype) is kept for the norm's backward;
//  * everything element-wise is recomputed inside the backward's fused kernels (rotary embedding,
//    casts, SiLU / GELU chains, residual adds) and, fused with its consumer in the forward, is never
//    materialised: the forward peak is what is kept plus the logits.
// Under torch.compile transformers builds the causal mask as a tensor (masking_utils skips it only
// outside tracing), so SDPA gets a mask: K and V are repeated to every head before the kernel
// (use_gqa_in_sdpa needs no mask) and the mask becomes one additive bias shared by all layers
// (the partitioner's CSE). The loss runs inside the graph: the backward starts from the
// materialised tangent of the logits output (zeros_like, as autograd materialises the unused
// output's gradient), the gradient of the logits in their dtype, a copy padded to a multiple of 8
// columns for a bf16 matmul (inductor's pad_mm) and the head's weight gradient in the matmul dtype.
// Measured on one H200 (PyTorch 2.11, transformers 5.17; docs/validation/pytorch_memory.md,
// "torch.compile"); no constant here is fitted to those runs.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/torch_sim.h"

#include <string>
#include <vector>

namespace llmplan {

// --compile (framework option compile=inductor) is set.
bool pytorch_compile(const TrainConfig& c);

// Throws InputError naming --compile for a job the compiled model does not describe (several
// GPUs, accumulation, LoRA, dropout, eager attention, selective checkpointing, families other than
// gpt2 / llama / mistral / qwen2 / qwen3).
void validate_pytorch_compile(const ModelSpec& m, const TrainConfig& c);

// What the partitioner keeps for the backward from one decoder layer (named, in bytes, 512-byte
// rounded, with its torch_sim category). With --recompute full the layer keeps only its input; the
// list is then what its recomputation makes again.
struct CompiledSaved {
    std::string name;
    double bytes = 0;
    torchsim::Cat cat = torchsim::Cat::activation;
};
std::vector<CompiledSaved> compiled_layer_saved(const ModelSpec& m, const TrainConfig& c);

// The compiled step replayed in `sim` (which must be fresh): one autograd node per decoder layer
// holding its saved tensors, the final norm, the head and the loss; backward frees each layer's
// tensors when it reaches it. The events feed the caching allocator's replay like the eager ones.
torchsim::StepPeaks run_compiled_step(const ModelSpec& m, const TrainConfig& c, torchsim::Sim& sim);

// One line for the plan: what the model assumed (mode, what a layer keeps, the loss's backward).
std::string compiled_assumption(const ModelSpec& m, const TrainConfig& c);

}  // namespace llmplan
