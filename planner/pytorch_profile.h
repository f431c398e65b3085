// pytorch_profile.h — `--framework pytorch`: what torch.cuda.max_memory_allocated() reports when
// Hugging Face transformers models train in PyTorch 2.x eager mode.
//
// The step is replayed op by op in the allocator/autograd simulator (torch_sim.h) following the
// transformers 5 modules (GPT-2: modeling_gpt2.py; Llama, Mistral, Qwen2: modeling_llama.py), as
// traced on an H100 by validation/pytorch_memory/trace_ops.py. Also written from the transformers
// 5 sources, then measured on an H200 (docs/validation/pytorch_memory.md, "Qwen3, Gemma 2,
// Gemma 3, GPT-NeoX"): Qwen3 (per-head q_norm / k_norm, head_dim independent of hidden / heads), Gemma 2
// and Gemma 3 text (GemmaRMSNorm in fp32 · (1 + w), four norms per layer, embedding × √d, GeGLU,
// Gemma 2's soft-capping of eager attention scores and of the logits, Gemma 3's QK-norm and second
// rotary table, sliding-window masks), GPT-NeoX (LayerNorm, fused query_key_value, partial
// rotary, parallel residual, GELU MLP with biases). Mixture-of-experts families are refused.
// Flags under this profile:
//   --precision fp32      fp32 model, no autocast
//   --precision amp-bf16  fp32 model, forward under torch.autocast(bfloat16) (cached bf16 weight
//                         copies, per-linear bf16 input casts, fp32 norms / softmax / GELU pow)
//   --precision bf16      model.to(torch.bfloat16); AdamW states bf16
//   --attention flash|eager = attn_implementation "sdpa" | "eager" (sdpa picks cuDNN attention for
//                         bf16, memory-efficient for fp32 MHA in GPT-2, the math fallback for fp32
//                         Llama: transformers passes enable_gqa, which only math supports in fp32)
//   --recompute full      model.gradient_checkpointing_enable() (non-reentrant, per decoder layer)
//   --recompute selective each decoder layer under torch.utils.checkpoint with an op policy
//                         (torchtitan's SelectiveAC list: pytorch_sac_policy())
//   --global-batch        > micro-batch × GPUs: gradient accumulation (.grad accumulated in place;
//                         the later micro-batches run with every gradient allocated)
//   --gpus N --zero 0|1   DDP (+ ZeroRedundancyOptimizer for 1), fp32 reduction buckets
//   --gpus N --zero 2|3   FSDP2 fully_shard per decoder layer and root, bf16 parameters,
//                         fp32 reduction, reshard_after_forward False | True
// Framework options (--framework-option KEY=VALUE):
//   optimizer_impl=foreach|fused|forloop  torch.optim's implementation (default: PyTorch's own
//                         default on CUDA, foreach; fused under trainer=hf); what each allocates:
//                         pytorch_optimizer_step
//   trainer=none|hf       hf: the Hugging Face Trainer's defaults (optim adamw_torch_fused)
// Optimizer: torch.optim.AdamW (also adam; sgd, sgd-momentum). Validation and the accuracy table:
// docs/validation/pytorch_memory.md; the sources of the optimizer, SAC and accumulation models:
// docs/MEMORY_MODEL.md §7.1.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/memory.h"

#include <string>
#include <vector>

namespace llmplan {

// Checks that the pytorch profile models this job; throws InputError naming the flag otherwise
// (tensor/pipeline/context/expert parallelism, offload, fp16/fp8 precisions, MoE, families other
// than gpt2, llama, mistral, qwen2, qwen3, gemma2, gemma3_text, gpt_neox; LoRA on gpt_neox).
void validate_pytorch_profile(const ModelSpec& m, const TrainConfig& c);

// One pipeline stage (the whole model: the profile has no pipeline) under the pytorch profile.
StageMemory plan_pytorch_stage(const ModelSpec& m, const TrainConfig& c);
// The segments the replayed caching allocator reserves over the run (cudaMalloc calls:
// torch.cuda.memory_stats()["num_device_alloc"]); c with its defaults resolved.
int pytorch_allocator_segments(const ModelSpec& m, const TrainConfig& c);

// One forward pass as PyTorch + transformers run it, for inference (`llmplan infer --framework
// hf`): dynamic bytes only (weights and library workspaces are not included). record_grad = false
// is torch.no_grad() / inference_mode; true is a notebook's bare `model(input_ids)`, which keeps
// every activation for a backward that never comes. last_logits_only: generate's prefill.
struct PytorchForward {
    double peak = 0, end = 0;              // highest point; what stays (the output logits)
    double activations = 0, logits = 0, other = 0;  // at the peak
    std::string where;                     // the op at the peak
};
PytorchForward pytorch_forward(const ModelSpec& m, const TrainConfig& c, bool record_grad, bool last_logits_only);

// What autograd keeps for backward from decoder layer `layer` once the forward pass is done (the
// job's flags, without checkpointing): each distinct storage that the layer's autograd nodes
// saved, named by the op that allocated it, with its allocated bytes (512-byte rounded) and
// category (torch_sim.h Cat). Tensors the layer received and saved (its input hidden states, the
// attention mask, autocast's bf16 weight copies) are listed; parameters (static memory) are not.
struct PytorchSavedTensor {
    std::string name;
    double bytes = 0;
    std::string category;
};
std::vector<PytorchSavedTensor> pytorch_layer_saved(const ModelSpec& m, const TrainConfig& c, int layer);

// torch.optim's three implementations of an optimizer step (torch/optim/adam.py, adamw.py).
enum class OptimizerImpl { foreach, fused, forloop };
const char* to_string(OptimizerImpl impl);
// The job's implementation: --framework-option optimizer_impl, else trainer=hf's fused, else
// foreach (_default_to_fused_or_foreach with use_fused=False on CUDA tensors). `stated`: how the
// output names it, e.g. "foreach (PyTorch's default; --framework-option optimizer_impl=...)".
OptimizerImpl pytorch_optimizer_impl(const TrainConfig& c, std::string* stated = nullptr);
bool pytorch_hf_trainer(const TrainConfig& c);
// Whether the training loop holds the model's outputs (the logits) through backward:
// --framework-option keep_outputs (default true: `out = model(...)`), never under trainer=hf
// (the Trainer's compute_loss returns only the loss).
bool pytorch_keeps_outputs(const TrainConfig& c);

// What the optimizer step allocates on one GPU besides the states, for the parameter tensors the
// GPU's optimizer updates (`elements`: one entry per tensor, its local elements; `state_bytes`:
// bytes per element of the states, the parameter's dtype):
//  * step_tensors: the 0-d `step` tensor per parameter, on the GPU only with fused (or
//    capturable); foreach and for-loop keep it on the CPU (AdamW.init_state_per_param /
//    Adam._init_group);
//  * temporaries: the most the step holds at once beyond the states — foreach: exp_avg_sq_sqrt =
//    _foreach_sqrt(exp_avg_sqs), one tensor per parameter of the (device, dtype) group, alive until
//    the step's addcdiv (Adam with weight decay first makes a same-sized grad + λ·param list and
//    frees it before the sqrt); for-loop: exp_avg_sq.sqrt() and its division by the bias
//    correction, both of the largest tensor; fused: none. SGD (with or without momentum, no
//    nesterov) updates in place: none.
struct OptimizerStep {
    double step_tensors = 0, temporaries = 0;
};
OptimizerStep pytorch_optimizer_step(Optimizer opt, OptimizerImpl impl, const std::vector<double>& elements,
                                     double state_bytes);

// ZeroRedundancyOptimizer's partition (_partition_parameters): parameters sorted by size, largest
// first, each given to the rank with the fewest elements so far (the first such rank). Returns
// the tensors (elements) of the rank that receives the most.
std::vector<double> zero_partition_largest(std::vector<double> elements, int ranks);

// The op policy of --recompute selective, as the output states it.
std::string pytorch_sac_policy();

// The steps measure.py runs (validation/pytorch_memory): the caching allocator's replay covers
// as many, so that segments cached in step 1 are reused or outgrown in steps 2 and 3.
inline constexpr int kPytorchMeasuredSteps = 3;


// Library workspaces the caching allocator holds at the start of every step after the first:
// cuBLAS/cuBLASLt workspaces of the forward and the autograd threads; measured 65 MiB
// (68,159,488 B) on H100 with PyTorch 2.11 + CUDA 13 for every model and precision,
// +1 MiB with activation checkpointing (validation/pytorch_memory/traces, "# start").
inline constexpr double kPytorchWorkspaceBytes = 65.0 * 1024 * 1024;
inline constexpr double kPytorchCheckpointExtraBytes = 1.0 * 1024 * 1024;

}  // namespace llmplan
