// framework_pytorch.cpp — the `pytorch` framework profile: PyTorch 2.x eager training of Hugging
// Face transformers models, op by op (planner/pytorch_profile.h, replayed by planner/torch_sim.h),
// with PyTorch's caching allocator replayed for the reserved bytes; the generic time model.
#include "planner/framework.h"
#include "planner/pytorch_profile.h"
#include "planner/torch_compile.h"

namespace llmplan {

namespace {

class PytorchProfile final : public FrameworkProfile {
public:
    Framework framework() const override { return Framework::pytorch; }
    // transformers builds no multi-token-prediction module: DeepseekV3Model builds
    // num_hidden_layers decoder layers and drops the checkpoint's MTP layer on load
    // (docs/MODEL_FAMILIES.md, deepseek_v3), so a Hugging Face training step has none.
    ModelSpec trained_model(const ModelSpec& model) const override {
        ModelSpec m = model;
        m.mtp_layers = 0;
        return m;
    }
    void validate(const ModelSpec& m, const TrainConfig& c) const override { validate_pytorch_profile(m, c); }
    // optimizer_impl: torch.optim's implementation (default: PyTorch's own default, foreach; fused
    // under trainer=hf); trainer: hf = the Hugging Face Trainer's defaults (pytorch_profile.h).
    std::vector<FrameworkOption> options() const override {
        // expandable_segments: PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (torch_alloc.h).
        // compile: inductor = torch.compile(model), default mode (torch_compile.h; --compile).
        // keep_outputs: whether the training loop holds the model's outputs (the logits) through
        // backward — `out = model(...); out.loss.backward()` (true, the default) or
        // `model(...).loss.backward()` (false; the Hugging Face Trainer's compute_loss likewise).
        return {{"optimizer_impl", "default"}, {"trainer", "none"}, {"expandable_segments", "false"}, {"compile", "none"},
                {"keep_outputs", "true"}};
    }
    // compile=inductor: torch.compile fuses the element-wise ops (a contradicting --elementwise
    // eager is refused); without it transformers' modules run op by op: eager unless --elementwise
    // fused is given (docs/PERFORMANCE_MODEL.md §2, "Eager element-wise kernels").
    std::optional<ElementwiseChoice> elementwise_kernels(const TrainConfig& c) const override {
        if (!pytorch_compile(c)) return std::nullopt;
        return ElementwiseChoice{ElementwiseKernels::fused, EagerCode::transformers,
                                 "--framework-option compile=inductor (torch.compile fuses the element-wise ops)"};
    }
    std::optional<ElementwiseChoice> default_elementwise_kernels(const TrainConfig& c) const override {
        if (pytorch_compile(c)) return std::nullopt;
        return ElementwiseChoice{ElementwiseKernels::eager, EagerCode::transformers,
                                 "the pytorch profile without torch.compile (transformers' modules op by op; "
                                 "--elementwise fused to change)"};
    }
    // The loss: transformers' ForCausalLMLoss upcasts the logits (logits.float()) before
    // cross_entropy (PyTorch's fp32 cross-entropy, the default); torch.compile(model) compiles the
    // loss with the model (it is computed in the forward when labels are given) and inductor fuses
    // the upcast, log-softmax and their backward over the 16-bit logits.
    LossKernel loss_kernel(const TrainConfig& c) const override {
        if (pytorch_compile(c))
            return {true, "torch.compile(model): inductor's fused cross-entropy over the 16-bit logits"};
        return {false, "transformers' loss: cross_entropy on logits.float()"};
    }
    // No ratio: each plan replays the caching allocator over the run (planner/torch_alloc.h), and
    // StageMemory::reserved_estimate is the replay's max_memory_reserved.
    double allocator_reserve(const TrainConfig&) const override { return 0; }
    StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>&, const TrainConfig& c, int,
                           bool) const override {
        return plan_pytorch_stage(m, c);
    }
    std::string reserve_note() const override { return "PyTorch's caching allocator replayed over the run's allocations"; }
    std::string reserve_source() const override {
        return "c10/cuda/CUDACachingAllocator.cpp block rules, replayed (planner/torch_alloc.h, docs/MEMORY_MODEL.md §7.1)";
    }
    std::string stack_description(const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        std::string impl;
        pytorch_optimizer_impl(c, &impl);
        return std::string(pytorch_hf_trainer(c) ? "Hugging Face Trainer: " : "") +
               (pytorch_compile(c) ? "PyTorch + torch.compile(model) (inductor, default mode)" : "PyTorch eager") +
               " + Hugging Face transformers" +
               (p.gpus == 1 ? std::string()
                            : p.zero <= 1 ? std::string(p.zero == 0 ? ", DistributedDataParallel" : ", DDP + ZeroRedundancyOptimizer")
                                          : std::string(", FSDP2 fully_shard per layer, reshard_after_forward=") +
                                                (p.zero == 3 ? "True" : "False")) +
               (c.precision == Precision::amp_bf16 && !(p.gpus > 1 && p.zero >= 2) ? ", torch.autocast(bfloat16)" : "") +
               (c.recompute == Recompute::full ? ", gradient_checkpointing_enable()" : "") +
               (c.recompute == Recompute::selective ? ", selective checkpointing (" + pytorch_sac_policy() + ")" : "") +
               ", attn_implementation=" + (c.attention == Attention::eager ? "eager" : "sdpa") + ", " +
               to_string(c.optimizer) + " " + impl +
               (c.grad_accum() > 1 ? ", " + std::to_string(c.grad_accum()) + " micro-batches accumulated per step" : "") +
               (pytorch_keeps_outputs(c) ? ", the loop's `out` (the logits) kept through backward"
                                         : ", the outputs (logits) released before backward");
    }
    std::string no_fit_hint() const override {
        return "; try more GPUs with --zero 3 (FSDP2), --recompute full or --precision bf16\n";
    }
};

}  // namespace

std::shared_ptr<const FrameworkProfile> make_pytorch_profile() { return std::make_shared<const PytorchProfile>(); }

}  // namespace llmplan
