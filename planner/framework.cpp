// framework.cpp — the registry of framework profiles, the generic profile and the defaults of
// FrameworkProfile's texts; the interface is described in framework.h.
#include "planner/framework.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/perf.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

namespace llmplan {

ModelSpec FrameworkProfile::trained_model(const ModelSpec& model) const { return model; }

void FrameworkProfile::validate(const ModelSpec&, const TrainConfig&) const {}

std::vector<FrameworkOption> FrameworkProfile::options() const { return {}; }

const std::vector<FrameworkOption>& FrameworkProfile::option_list() const {
    std::call_once(options_made_, [this] { options_ = options(); });
    return options_;
}

std::string FrameworkProfile::option_default(const TrainConfig&, const FrameworkOption& option) const { return option.default_value; }

void FrameworkProfile::step_time(const MemoryPlan&, const PerfOptions&, ComputeTime&) const {}
CommOverlap FrameworkProfile::comm_overlap(const TrainConfig&) const { return {}; }

AttentionKernel FrameworkProfile::attention_kernel(const TrainConfig&) const { return {}; }

AttentionKernel attention_kernel_family(const std::string& name, const std::string& flag) {
    AttentionKernel k;  // FlashAttention-2: the flash backend's rows as they are
    if (name == "flash2") return k;
    // Dao 2023, FlashAttention-2, §4.1 (A100 80GB, sequence 512-16k, head dim 64 and 128, with and
    // without the causal mask; docs/REFERENCES.md §12): "FlashAttention-2 is around 2× faster than
    // FlashAttention and FlashAttention in xformers ... around 1.3-1.5× faster than FlashAttention in
    // Triton in the forward pass and around 2× faster in the backward pass". 1.4: the forward range's middle.
    if (name == "flash1") {
        k.forward_slowdown = 2, k.backward_slowdown = 2;
        k.source = "FlashAttention v1 / xFormers: FlashAttention-2's rates ÷ 2 forward and backward (Dao 2023, FlashAttention-2, §4.1)";
        return k;
    }
    if (name == "triton") {
        k.forward_slowdown = 1.4, k.backward_slowdown = 2;
        k.source = "FlashAttention in Triton (flash-attn v1's flash_attn_triton): FlashAttention-2's rates ÷ 1.4 forward, ÷ 2 "
                   "backward (Dao 2023, FlashAttention-2, §4.1)";
        return k;
    }
    if (name == "cudnn") {  // the cuDNN fused attention's own rows: Transformer Engine's DotProductAttention
        k.backend = "cudnn_attention";
        k.source = "cuDNN fused attention (Transformer Engine's DotProductAttention / FusedAttention)";
        return k;
    }
    throw InputError(flag + " " + name + ": expected flash2, flash1, triton or cudnn");
}

AttentionKernel attention_kernel_option(const TrainConfig& c) {
    const std::string name = framework_option(c, kAttentionKernelOption);
    return attention_kernel_family(name.empty() ? "flash2" : name, std::string("--framework-option ") + kAttentionKernelOption);
}

void validate_attention_kernel_option(const TrainConfig& c) {
    framework_option_choice(c, kAttentionKernelOption, {"flash2", "flash1", "triton", "cudnn"});
}

Fp8WeightCasts FrameworkProfile::fp8_weight_casts(const TrainConfig&) const { return {}; }

double FrameworkProfile::full_recompute_share(const ModelSpec&, const TrainConfig&, int) const { return 1; }

FrameworkProfile::Bf16Linears FrameworkProfile::bf16_linear_flops(const ModelSpec&, const TrainConfig&, int) const { return {}; }

std::optional<ElementwiseChoice> FrameworkProfile::elementwise_kernels(const TrainConfig&) const { return std::nullopt; }

std::optional<ElementwiseChoice> FrameworkProfile::default_elementwise_kernels(const TrainConfig&) const { return std::nullopt; }

ElementwiseChoice elementwise_choice(const TrainConfig& c, std::optional<ElementwiseKernels> given) {
    if (std::optional<ElementwiseChoice> own = framework_profile(c.framework).elementwise_kernels(c)) {
        if (given && *given != own->kernels)
            throw InputError(std::string("--elementwise ") + to_string(*given) + ": under --framework " + to_string(c.framework) +
                             " the element-wise kernels follow " + own->source + "; change that setting instead");
        return *own;
    }
    if (given && *given == ElementwiseKernels::eager)
        return {ElementwiseKernels::eager, EagerCode::transformers,
                "--elementwise eager (PyTorch op by op; Hugging Face transformers' modules)"};
    if (!given)
        if (std::optional<ElementwiseChoice> d = framework_profile(c.framework).default_elementwise_kernels(c)) return *d;
    return {ElementwiseKernels::fused, EagerCode::transformers,
            std::string(given ? "--elementwise fused" : "the default") + " (fused kernels, as Megatron-LM's that k was fitted on)"};
}

LossKernel FrameworkProfile::loss_kernel(const TrainConfig&) const { return {}; }

std::string FrameworkProfile::reserve_note() const { return "allocator fragmentation, assumed"; }

std::string FrameworkProfile::reserve_source() const { return "allocator fragmentation (assumed; docs/MEMORY_MODEL.md §6)"; }

std::string FrameworkProfile::stack_description(const TrainConfig&) const { return {}; }

std::string FrameworkProfile::no_fit_hint() const {
    return "; try more GPUs, a higher --zero stage, --tp/--pp, --recompute full or --offload\n";
}

std::string FrameworkProfile::profile_prediction_note() const { return "; --framework llmplan predicts the engine's own books"; }

std::string FrameworkProfile::profile_step_time_note() const {
    return "  Step time: the generic time model (a PyTorch-class stack); --framework llmplan with --calibration times "
           "the engine's own kernels.\n";
}

namespace {

// The textbook model: ZeRO §3 model states and Korthikanti et al. activations per stage
// (planner/memory.cpp, plan_generic_stage), a fixed allocator fragmentation, the generic time model.
class GenericProfile final : public FrameworkProfile {
public:
    Framework framework() const override { return Framework::generic; }
    // cross_entropy: fp32 (PyTorch's F.cross_entropy on an fp32 copy of the logits, the default) or
    // fused (a fused cross-entropy kernel over the 16-bit logits: flash-attn's, Liger's, Transformer
    // Engine's) — docs/PERFORMANCE_MODEL.md §2, "Loss".
    // attention_kernel: flash2 (PyTorch SDPA's flash backend, the default), flash1, triton or cudnn
    // (Transformer Engine's) (attention_kernel_family, framework.h) — docs/PERFORMANCE_MODEL.md §2,
    // "Attention kernel".
    // moe_dispatcher: nccl (an all-to-all that sends every routed copy, the default) or deepep
    // (DeepEP's dispatch and combine: a token crosses the network once per destination node, as
    // Megatron's flex dispatcher does; the same all-to-all model, docs/PERFORMANCE_MODEL.md §3,
    // "MoE all-to-all") — for the PyTorch-native stacks that run DeepEP (NeMo AutoModel, …).
    std::vector<FrameworkOption> options() const override {
        return {{"cross_entropy", "fp32"}, {kAttentionKernelOption, "flash2"}, {"moe_dispatcher", "nccl"}};
    }
    void validate(const ModelSpec&, const TrainConfig& c) const override {
        framework_option_choice(c, "cross_entropy", {"fp32", "fused"});
        validate_attention_kernel_option(c);
        framework_option_choice(c, "moe_dispatcher", {"nccl", "deepep"});
    }
    CommOverlap comm_overlap(const TrainConfig& c) const override {
        CommOverlap o;
        o.ep_dispatch_deduplicated = framework_option(c, "moe_dispatcher") == "deepep";
        return o;
    }
    AttentionKernel attention_kernel(const TrainConfig& c) const override { return attention_kernel_option(c); }
    LossKernel loss_kernel(const TrainConfig& c) const override {
        if (framework_option(c, "cross_entropy") == "fused")
            return {true, "a fused cross-entropy kernel over the 16-bit logits (--framework-option cross_entropy=fused)"};
        return {};
    }
    double allocator_reserve(const TrainConfig&) const override { return kGenericFragmentation; }
    StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int stage,
                           bool explain) const override {
        return plan_generic_stage(m, tensors, c, stage, explain);
    }
};

using Registry = std::map<Framework, std::shared_ptr<const FrameworkProfile>>;

Registry& registry() {
    static Registry r = [] {
        Registry built_in;
        // One line per built-in framework profile.
        for (std::shared_ptr<const FrameworkProfile> p :
             {make_generic_profile(), make_pytorch_profile(), make_llmplan_profile(), make_megatron_profile(),
              make_megatron_bridge_profile(), make_deepspeed_profile(), make_torchtitan_profile()})
            built_in[p->framework()] = std::move(p);
        return built_in;
    }();
    return r;
}

}  // namespace

std::shared_ptr<const FrameworkProfile> make_generic_profile() { return std::make_shared<const GenericProfile>(); }

const FrameworkProfile& framework_profile(Framework f) {
    const Registry& r = registry();
    const auto it = r.find(f);
    if (it == r.end() || !it->second)
        throw std::logic_error(std::string("no framework profile registered for --framework ") + to_string(f));
    return *it->second;
}

namespace {

const FrameworkOption* find_option(const std::vector<FrameworkOption>& options, const std::string& key) {
    for (const FrameworkOption& o : options)
        if (o.key == key) return &o;
    return nullptr;
}

std::string option_flag(const std::string& key, const std::string& value) {
    return "--framework-option " + key + "=" + value;
}

}  // namespace

void check_framework_options(const TrainConfig& c) {
    if (c.framework_options.empty()) return;
    const std::vector<FrameworkOption>& options = framework_profile(c.framework).option_list();
    std::vector<std::string> keys;
    for (const FrameworkOption& o : options) keys.push_back(o.key + " (default " + o.default_value + ")");
    for (const auto& [key, value] : c.framework_options)
        if (!find_option(options, key))
            throw InputError("--framework-option " + key + ": --framework " + to_string(c.framework) +
                             (keys.empty() ? std::string(" takes no options")
                                           : " takes " + join(keys, ", ") + " (docs/MEMORY_MODEL.md)"));
}

std::string framework_option(const TrainConfig& c, const std::string& key) {
    for (const auto& [k, v] : c.framework_options)
        if (k == key) return to_lower(v);
    const FrameworkProfile& profile = framework_profile(c.framework);
    const std::vector<FrameworkOption>& options = profile.option_list();
    if (const FrameworkOption* o = find_option(options, key)) return profile.option_default(c, *o);
    throw std::logic_error("--framework " + std::string(to_string(c.framework)) + " declares no option " + key);
}

double framework_option_number(const TrainConfig& c, const std::string& key, double min, double max) {
    const std::string value = framework_option(c, key);
    return parse_real(value, option_flag(key, value), min, max);
}

bool framework_option_given(const TrainConfig& c, const std::string& key) {
    return std::any_of(c.framework_options.begin(), c.framework_options.end(), [&](const auto& o) { return o.first == key; });
}

bool framework_option_flag(const TrainConfig& c, const std::string& key) {
    return framework_option_choice(c, key, {"true", "false"}) == "true";
}

std::string framework_option_choice(const TrainConfig& c, const std::string& key, const std::vector<std::string>& choices) {
    const std::string value = framework_option(c, key);
    if (std::find(choices.begin(), choices.end(), value) == choices.end())
        throw InputError(option_flag(key, value) + ": choose one of " + join(choices, ", "));
    return value;
}

std::shared_ptr<const FrameworkProfile> register_framework_profile(std::shared_ptr<const FrameworkProfile> profile) {
    if (!profile) throw std::invalid_argument("register_framework_profile: null profile");
    std::shared_ptr<const FrameworkProfile>& slot = registry()[profile->framework()];
    return std::exchange(slot, std::move(profile));
}

}  // namespace llmplan
