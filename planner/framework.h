// framework.h — what `--framework` changes in a plan, behind one interface.
//
// A FrameworkProfile answers, for one value of the Framework enum (core/config.h, whose string
// forms stay the one vocabulary of the CLI, the GUI and the JSON report):
//  * trained_model: the model as the framework builds it (transformers drops DeepSeek-V3's MTP modules);
//  * validate: what the framework cannot run (throws InputError naming the flag);
//  * plan_stage: the memory of one GPU of one pipeline stage (StageMemory, planner/memory.h) and
//    allocator_reserve, the reserve over the peak it assumes;
//  * step_time: where the framework changes the time model (planner/perf.h, ComputeTime) — the
//    llmplan engine sums its calibrated kernels; the others keep the generic model;
//  * comm_overlap: collectives the framework hides behind computation (Megatron's
//    --tp-comm-overlap, --overlap-param-gather and --overlap-moe-expert-parallel-comm) and how its
//    MoE dispatcher moves tokens (the flex dispatcher: once per destination node and GPU);
//  * fp8_weight_casts: FP8 weights cast every micro-batch or once per step (Transformer Engine's
//    cache under Megatron);
//  * attention_kernel: the fused attention kernel whose kernel-table rows time the attention core;
//  * loss_kernel: the cross-entropy over the logits (fp32 copy or fused), for memory and time;
//  * options: the framework's own settings a job may give (--framework-option KEY=VALUE), each with
//    the framework's default and name for it;
//  * the texts the CLI table, `llmplan profile` and the GUI print for it.
// The registry maps each Framework to its profile; plan_memory, plan_perf, the CLI and the GUI
// reach the framework only through framework_profile(). Adding a framework: a new file with the
// profile and its make_… function, a value in the Framework enum and its string (core/config),
// and one registration line in framework.cpp (docs/ARCHITECTURE.md, "How to add a framework
// profile").
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/elementwise.h"
#include "planner/memory.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace llmplan {

struct PerfOptions;
struct ComputeTime;

// One setting a framework profile takes through --framework-option KEY=VALUE (what each sets:
// the profile's comments and docs/MEMORY_MODEL.md §9-§11).
struct FrameworkOption {
    std::string key;            // "reduce_bucket_size", as the framework names it
    std::string default_value;  // the default the profile plans, as the option would be written
    // Where that is not the framework's own default (Megatron's performance settings, planned when
    // the profile is named alone), the framework's own: what a launch that omits the flag runs
    // (the Megatron-LM argument importer writes it); empty where the two are the same.
    std::string argument_default = {};
};

// Collectives a framework overlaps with computation beyond the generic overlap model
// (docs/PERFORMANCE_MODEL.md §3).
struct CommOverlap {
    bool tp_with_linears = false;         // tensor-parallel collectives pipelined with the linears' GEMMs
    bool param_gather_with_forward = false;  // ZeRO-1's parameter all-gather under the next forward
    // The MoE dispatch and combine of one micro-batch hidden under the computation of another
    // (Megatron-Core's --overlap-moe-expert-parallel-comm, the combined 1F1B schedule).
    bool ep_a2a_with_other_microbatch = false;
    std::string source;                   // the framework's flags that turn on the first two
    std::string ep_source;                // and the one that turns on the MoE overlap
    // How the MoE dispatcher moves tokens: false, an all-to-all that sends every routed copy
    // (NCCL); true, once per destination node over the network and once per destination GPU over
    // NVLink, the GPU copying a token to its local experts (DeepEP / HybridEP, Megatron-Core's flex
    // dispatcher). Not an overlap, but the same hook: the framework's own communication of the step.
    bool ep_dispatch_deduplicated = false;
    // SMs the dispatcher's kernels hold while they run beside the computation (with
    // ep_a2a_with_other_microbatch): the overlapped compute loses ep_comm_sms of the GPU's
    // GpuSpec::sm_count for as long as the hidden all-to-all runs (0: not modelled).
    int ep_comm_sms = 0;
    std::string ep_comm_sms_source;
    // The interleaved schedule's pipeline send/recv posted asynchronously and waited for only before
    // the chunk that needs it, so each runs beside the chunk pass next to it (Megatron-Core's
    // overlap_p2p_comm).
    bool p2p_with_chunks = false;
    std::string p2p_source;
    // With tp_with_linears: the share of the hidden tensor-parallel communication's time the step
    // still pays — the GEMMs beside it run slower while it runs (0: none), and why.
    double tp_overlap_cost = 0;
    std::string tp_overlap_cost_source;
};

// How often a framework casts the layers' linear weights to FP8 (--precision fp8): every GEMM call
// (the generic convention: each pass casts its weight operand), or once per optimizer step — the
// weights do not change between the micro-batches of a step, and a framework that caches the FP8
// copies (Transformer Engine's is_first_microbatch) casts them at the first micro-batch only
// (docs/PERFORMANCE_MODEL.md §2, "FP8 casts").
struct Fp8WeightCasts {
    bool once_per_step = false;
    std::string source;  // why (the framework's mechanism), printed with the casts
};

// The loss kernel a framework runs over the output layer's 16-bit logits (docs/PERFORMANCE_MODEL.md
// §2, "Loss"): PyTorch's cross-entropy on an fp32 copy, F.cross_entropy(logits.float(), labels) —
// the generic model's, Hugging Face's and torchtitan's — which keeps the fp32 logits (the memory
// model's 4 B per logit) and moves kCrossEntropy*BytesFp32 per logit (planner/perf.h); or a fused
// kernel that reads the 16-bit logits and writes their gradient in place (flash-attn's xentropy,
// Transformer Engine's parallel cross-entropy, Liger's): no fp32 copy, kCrossEntropy*BytesFused.
struct LossKernel {
    bool fused = false;
    std::string source = "PyTorch cross_entropy on an fp32 copy of the logits";
};

// The fused attention kernel a framework runs for --attention flash: the backend's rows in a
// measured kernel table (core/kernel_table.h) and why.
struct AttentionKernel {
    std::string backend = "flash_attention";  // PyTorch SDPA's flash backend (FlashAttention-2)
    std::string source = "PyTorch SDPA's flash backend (FlashAttention-2)";
    // An older kernel timed from FlashAttention-2's rates (the backend's rows, or the GPU's published
    // FlashAttention-2 efficiency): its forward and backward passes run at those rates ÷ these
    // (1: the backend itself). attention_kernel_family() holds the published ratios.
    double forward_slowdown = 1, backward_slowdown = 1;
};

// The fused attention kernels a PyTorch-class stack may run for --attention flash, as the generic
// profile's `attention_kernel` option names them: "flash2" (PyTorch SDPA's flash backend,
// FlashAttention-2: the default), "flash1" (FlashAttention v1 and xFormers' kernels) and "triton"
// (FlashAttention in Triton, flash-attn v1's flash_attn_triton.py: llm-foundry's attn_impl triton).
// The slowdowns are FlashAttention-2's measured speed-ups over them on the A100 (Dao 2023,
// FlashAttention-2, §4.1; docs/PERFORMANCE_MODEL.md §2, "Attention kernel"). Throws InputError
// naming `flag` for another name.
AttentionKernel attention_kernel_family(const std::string& name, const std::string& flag);
// The `attention_kernel` framework option of the profiles that take it (generic, deepspeed):
// its kernel family (flash2 when not given); validate_attention_kernel_option refuses another name.
inline constexpr const char* kAttentionKernelOption = "attention_kernel";
AttentionKernel attention_kernel_option(const TrainConfig& config);
void validate_attention_kernel_option(const TrainConfig& config);

class FrameworkProfile {
public:
    virtual ~FrameworkProfile() = default;

    // The enum value this profile models (the registry's key).
    virtual Framework framework() const = 0;

    // The model as the framework builds it for training; default: as given. Every plan under the
    // framework (memory, time) is of this model.
    virtual ModelSpec trained_model(const ModelSpec& model) const;
    // Throws InputError for a (model, config) the framework cannot run; default: accepts all.
    // Called after check_framework_options.
    virtual void validate(const ModelSpec& model, const TrainConfig& config) const;
    // The settings the framework takes (--framework-option); default: none.
    virtual std::vector<FrameworkOption> options() const;
    // options(), made once per profile and kept (a plan reads dozens of options, a search plans
    // thousands of layouts): what framework_option and check_framework_options read.
    const std::vector<FrameworkOption>& option_list() const;
    // The value an option not given takes for this job; default: its FrameworkOption::default_value.
    // A profile whose defaults depend on the job (Megatron Bridge's recipes: the TP overlap with
    // tensor parallelism, bf16 gradient reduction under bf16) resolves them here.
    virtual std::string option_default(const TrainConfig& config, const FrameworkOption& option) const;
    // Allocator reserve over the peak allocated bytes (MemoryPlan::allocator_fragmentation).
    virtual double allocator_reserve(const TrainConfig& config) const = 0;
    // One GPU of pipeline stage `stage` (config with defaults resolved); `tensors` is
    // param_tensors(model); explain = false leaves out terms and formulas (the search's quick path).
    virtual StageMemory plan_stage(const ModelSpec& model, const std::vector<ParamTensor>& tensors,
                                   const TrainConfig& config, int stage, bool explain) const = 0;

    // The step-time hook: given the generic model's compute terms of the worst stage, replace those
    // the framework times differently. Default: keep the generic model.
    virtual void step_time(const MemoryPlan& plan, const PerfOptions& options, ComputeTime& time) const;
    // Under --recompute full, the share of the transformer layers whose forward runs again in the
    // backward: on pipeline stage `stage`, or over the whole model with stage -1. Default 1 (every
    // layer; Megatron's --recompute-method block checkpoints only the first k layers of each chunk).
    virtual double full_recompute_share(const ModelSpec& model, const TrainConfig& config, int stage) const;
    // Under a quantized-linear recipe (fp8, mxfp8, nvfp4): the forward FLOPs per token of stage
    // `stage`'s linear layers that the framework keeps in 16 bits (Megatron's first/last layers in
    // BF16, its MTP modules in BF16, a recipe's per-module exceptions), with the reason; default none.
    struct Bf16Linears {
        double flops = 0;
        std::string source;
    };
    virtual Bf16Linears bf16_linear_flops(const ModelSpec& model, const TrainConfig& config, int stage) const;
    // The collectives the framework overlaps beyond the generic rules; default: none.
    virtual CommOverlap comm_overlap(const TrainConfig& config) const;
    // The loss kernel over the logits; default: PyTorch's cross-entropy on fp32 logits.
    virtual LossKernel loss_kernel(const TrainConfig& config) const;
    // How the framework casts FP8 weights; default: every pass of every micro-batch.
    virtual Fp8WeightCasts fp8_weight_casts(const TrainConfig& config) const;
    // The attention kernel the framework runs on a GPU with a kernel table; default: SDPA's flash.
    virtual AttentionKernel attention_kernel(const TrainConfig& config) const;
    // The element-wise kernels where one of the framework's own settings decides them (torchtitan's
    // compile); default: nullopt (--elementwise, else fused).
    virtual std::optional<ElementwiseChoice> elementwise_kernels(const TrainConfig& config) const;
    // The element-wise kernels when --elementwise is not given and elementwise_kernels decides
    // nothing (the pytorch profile: eager without torch.compile); nullopt: fused, the generic default.
    virtual std::optional<ElementwiseChoice> default_elementwise_kernels(const TrainConfig& config) const;

    // Texts. The reserve: the CLI table's "peak × f (…)" note and the GUI tooltip's source.
    virtual std::string reserve_note() const;
    virtual std::string reserve_source() const;
    // The plan's "as" line: the software stack as the framework runs the job ("" = no line).
    virtual std::string stack_description(const TrainConfig& config) const;
    // What the plan suggests when no micro-batch fits (starts with "; ", ends with a newline).
    virtual std::string no_fit_hint() const;
    // `llmplan profile`: what follows "Predicted with --framework NAME", and the step-time line
    // printed when the framework supplied no engine time ("" = none).
    virtual std::string profile_prediction_note() const;
    virtual std::string profile_step_time_note() const;

private:
    mutable std::once_flag options_made_;
    mutable std::vector<FrameworkOption> options_;
};

// The profile registered for f (every Framework value has one). Throws std::logic_error if none.
const FrameworkProfile& framework_profile(Framework f);

// Registers `profile` under profile->framework(), replacing the current one, which is returned
// (nullptr if none) so that a caller (a test) can put it back. Not synchronised: register before
// planning starts.
std::shared_ptr<const FrameworkProfile> register_framework_profile(std::shared_ptr<const FrameworkProfile> profile);

// Throws InputError naming --framework-option for a key the job's framework does not take (the
// message lists those it takes).
void check_framework_options(const TrainConfig& config);
// The value of `key` for the job (lower case): as given with --framework-option, else the
// framework's default.
// Throws std::logic_error when the job's framework declares no such option.
std::string framework_option(const TrainConfig& config, const std::string& key);
// framework_option read as a number in [min, max], as "true"/"false", or as one of `choices`;
// InputError naming --framework-option KEY otherwise.
double framework_option_number(const TrainConfig& config, const std::string& key, double min, double max);
bool framework_option_flag(const TrainConfig& config, const std::string& key);
// Whether the job gives `key` with --framework-option (rather than taking the framework's default).
bool framework_option_given(const TrainConfig& config, const std::string& key);
std::string framework_option_choice(const TrainConfig& config, const std::string& key,
                                    const std::vector<std::string>& choices);

// The job's element-wise kernels: the framework's where it decides them, else `given`
// (--elementwise), else fused (the generic model's convention). A `given` that contradicts the
// framework's is an InputError naming --elementwise and the framework's setting.
ElementwiseChoice elementwise_choice(const TrainConfig& config, std::optional<ElementwiseKernels> given);

// The built-in profiles (framework.cpp registers them).
std::shared_ptr<const FrameworkProfile> make_generic_profile();     // framework.cpp
std::shared_ptr<const FrameworkProfile> make_pytorch_profile();     // framework_pytorch.cpp
std::shared_ptr<const FrameworkProfile> make_llmplan_profile();     // framework_llmplan.cpp
std::shared_ptr<const FrameworkProfile> make_megatron_profile();    // framework_megatron.cpp
std::shared_ptr<const FrameworkProfile> make_megatron_bridge_profile();  // framework_megatron.cpp
std::shared_ptr<const FrameworkProfile> make_deepspeed_profile();   // framework_deepspeed.cpp
std::shared_ptr<const FrameworkProfile> make_torchtitan_profile();  // framework_torchtitan.cpp

}  // namespace llmplan
