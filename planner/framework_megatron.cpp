// framework_megatron.cpp — the `megatron` framework profile: Megatron-LM / Megatron-Core training
// (NeMo runs the same code), with the conventions of its own code, NVIDIA/Megatron-LM at commit
// d98e8a64 (docs/MEMORY_MODEL.md §9 names the files):
//  * --bf16 keeps bf16 parameters in DDP's contiguous param buffer and fp32 main gradients in its
//    grad buffer (accumulate_allreduce_grads_in_fp32 is forced on for bf16, unless
//    --grad-reduce-in-bf16), the whole buffer on every rank; --fp16 keeps fp16 gradients;
//  * the distributed optimizer (--use-distributed-optimizer, --zero 1) shards the fp32 main
//    parameters and Adam's states over the data × context parallel group and reduce-scatters into,
//    and all-gathers from, those buffers in place; without it every rank keeps all of them;
//  * Transformer Engine fp8 (--fp8-format): the linears of the transformer layers keep an fp8 copy
//    and transpose of their weight during the step (with --fp8-param-gather the fp8 weight is the
//    parameter itself), embedding, output layer, norms and router stay 16-bit; linear inputs are
//    saved in fp8;
//  * recompute: selective (core attention), full with recompute_method uniform (units of
//    recompute_num_layers layers) or block (the first recompute_num_layers layers of each chunk);
//  * 1F1B / interleaved in-flight counts and the activations as the generic model (Korthikanti et
//    al., which Megatron's theoretical_memory_usage.py also follows);
//  * the MoE allgather token dispatcher (Megatron-Core's argument default) gathers every token of the tp × ep
//    group with its routing probabilities and map for each MoE layer.
//  * --recompute-granularity selective --recompute-modules (--recompute selective with the option
//    recompute_modules): core_attn, moe_act, layernorm, mla_up_proj, mlp, moe, shared_experts drop their tensors from the
//    saved set and run their forward again in the backward (transformer_config.py recompute_modules);
//  * the flex token dispatcher (DeepEP / HybridEP) crosses nodes once per destination node, and
//    --overlap-moe-expert-parallel-comm hides the MoE all-to-all under another micro-batch.
// Named alone it plans Megatron-LM's performance settings (MegatronProfile::performance_default:
// overlapped parameter gather, TP overlap, fused cross-entropy, fp8 parameter gather, the flex
// dispatcher), each one --framework-option away from the argument default. The step time otherwise
// keeps the generic model.
#include "planner/framework.h"
#include "planner/activations.h"
#include "planner/flops.h"
#include "planner/framework_stage.h"
#include "planner/memory.h"
#include "planner/lora.h"
#include "planner/model_states.h"
#include "planner/perf.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

namespace llmplan {

namespace {

const std::string kSource = "Megatron-LM d98e8a64 (docs/MEMORY_MODEL.md §9)";

// --recompute-modules under --recompute-granularity selective (Megatron-Core transformer_config.py,
// recompute_modules; default core_attn): the modules this profile models.
const std::vector<std::string> kRecomputeModules = {"core_attn", "moe_act", "layernorm", "mla_up_proj", "mlp", "moe", "shared_experts"};

// A comma-separated option as its items.
std::vector<std::string> option_items(const TrainConfig& c, const std::string& key) {
    std::vector<std::string> out;
    const std::string v = framework_option(c, key);
    std::string::size_type start = 0;
    while (start <= v.size()) {
        const std::string::size_type end = std::min(v.find(',', start), v.size());
        if (end > start) out.push_back(v.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::vector<std::string> recompute_modules(const TrainConfig& c) {
    if (c.recompute != Recompute::selective) return {};
    return option_items(c, "recompute_modules");
}
// Whether `name` is one of `items` (a comma-separated option's, option_items).
bool listed(const std::vector<std::string>& items, const std::string& name) {
    return std::find(items.begin(), items.end(), name) != items.end();
}

// CUDA graphs (transformer_config.py cuda_graph_impl, cuda_graph_modules; enums.py CudaGraphModule):
// impl none | local | transformer_engine | full_iteration; the per-layer impls capture the modules
// listed (attn, mlp, moe, moe_router, moe_preprocess, mamba), the whole layer when none is listed.
const std::vector<std::string> kCudaGraphModules = {"attn", "mlp", "moe", "moe_router", "moe_preprocess", "mamba"};

// MoE host work (docs/PERFORMANCE_MODEL.md §2, "MoE host work"): host work the GPU waits for in
// each MoE layer. Every token dispatcher copies the tokens per expert to the host and synchronises
// in each MoE layer's forward (token_dispatcher.py: the allgather dispatcher's `.cpu()`; the
// alltoall one's "A synchronization is needed before expert parallel AlltoAll communication to get
// the input_splits and output_splits CPU values"; the flex one's DeepEP dispatch returns the
// received tokens per expert as a host list, fused_a2a.py), which drains the GPU's queue; the host
// then issues the rest of the layer — the dispatch, permutation, the experts and the combine — and
// the GPU waits until it runs ahead again. Two parts: one per MoE layer forward (the sync and the
// layer's host work that does not depend on the experts), and one per local expert per layer pass
// (the experts' grouped GEMMs are issued per local expert from those host-side splits: Transformer
// Engine's GroupedLinear, one GEMM, and with FP8 one quantisation, per expert, forward and
// backward). The per-layer part by dispatcher: the torch.distributed dispatchers (allgather,
// alltoall: permutation, the splits' device-to-host copy and sync, all_to_all_single's per-peer
// NCCL sends and receives from host-side split sizes, the sort of the received chunks by local
// expert, and all of it again in reverse for the combine) and the flex one (one fused dispatch
// kernel — layout, dispatch and permutation — and one fused combine, DeepEP or HybridEP).
// FITTED, all three: the constants that make the step time match, in the least-squares sense of
// the log step time, the MoE `fit` runs of the published set planned with their recipes' settings
// under this profile and not under a CUDA graph of the MoE layer (validation/published/
// fit_megatron.py; docs/PERFORMANCE_MODEL.md for the figures). The slope per local expert agrees
// with the one measured in isolation (validation/moe_host/, 0.166 ms).
constexpr double kMoeHostSecondsPerLayerForwardTorch = 4.738e-3;  // allgather, alltoall
constexpr double kMoeHostSecondsPerLayerForwardFlex = 0.994e-3;
constexpr double kMoeHostSecondsPerLocalExpert = 0.1665e-3;
// The share of a pass's host work a recomputed forward issues again: its 2 of the 6 per-expert
// grouped GEMMs of a layer pass (forward fc1 and fc2; the backward's dgrad and wgrad of each are 4).
constexpr double kMoeHostRecomputeShare = 2.0 / 6.0;

// --tp-comm-overlap's cost (docs/PERFORMANCE_MODEL.md §3, "what the TP overlap still costs"): the
// share of the tensor-parallel communication it hides that the step still pays. Transformer
// Engine's userbuffers overlap runs part of the communication on SMs taken from the GEMMs beside it
// (the "pipeline" and "bulk" methods' num_sm, the GEMM launched with that margin) and splits those
// GEMMs into chunks (num_splits). FITTED: the one share that makes the step time match, in the
// least-squares sense of the log throughput, the `fit` runs of the published set planned with
// --tp-comm-overlap under this profile (validation/published/fit_megatron.py).
constexpr double kTpOverlapHiddenCost = 0.272;

// The names of the tensors (planner/activations.h) one layer of `kind` no longer keeps when Megatron
// recomputes `modules`: core_attn, what the generic selective recompute drops (the attention core's
// own saved tensors); moe_act, the routed experts' activation output (the down projection's input;
// output-discarding checkpoint of the activation, experts.py); layernorm, the outputs of the norms
// that are modules of their own (TransformerLayer: not IdentityOp) — pre_mlp_layernorm in every
// layer of an MoE model, input_layernorm with MLA (gpt_layer_specs.py; elsewhere Transformer
// Engine fuses them into the next linear); mla_up_proj, the up-projected per-head Q, K and V
// (multi_latent_attention.py, output-discarding checkpoint of the up projections and RoPE); mlp,
// a dense layer's MLP from its input (checkpoint of the MLP module: its inner tensors, and the norm
// output when the norm is fused into linear_fc1, a model without experts); shared_experts, an MoE
// layer's shared expert from its input (moe/shared_experts.py checkpoints SharedExpertMLP's
// forward, its sigmoid gate included: its inner tensors and the gate's).
std::vector<std::string> dropped_tensors(const ModelSpec& m, const TrainConfig& c, const LayerKind& kind,
                                         const std::vector<std::string>& modules) {
    std::vector<std::string> out;
    if (listed(modules, "core_attn")) {
        std::vector<std::string> kept;
        for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::selective, kind)) kept.push_back(t.name);
        for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, kind))
            if (std::find(kept.begin(), kept.end(), t.name) == kept.end()) out.push_back(t.name);
    }
    if (listed(modules, "moe_act") && kind.moe) out.emplace_back("moe.experts.down_input");
    if (listed(modules, "layernorm")) {
        if (m.is_moe()) out.emplace_back("mlp.input");
        if (m.is_mla()) out.emplace_back("attention.qkv_input");
    }
    if (listed(modules, "mla_up_proj") && m.is_mla())
        for (const char* n : {"attention.q", "attention.k", "attention.v"}) out.emplace_back(n);
    // moe: the whole MoE block from its input (transformer_layer.py checkpoints self.mlp, the MoE
    // layer, with recompute "moe"): router, dispatch, experts, shared expert and combine run again,
    // only the block's input (the pre-MLP norm's output) is kept.
    if (listed(modules, "moe") && kind.moe_mlp())
        for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, kind))
            if (t.name.rfind("moe.", 0) == 0) out.push_back(t.name);
    if (listed(modules, "shared_experts") && kind.moe_mlp() && m.shared_d_ff > 0)
        for (const char* n : {"moe.shared_expert.activation_input", "moe.shared_expert.relu_output", "moe.shared_expert.gate_output",
                              "moe.shared_expert.up_output", "moe.shared_expert.down_input", "moe.shared_expert_gate_output",
                              "moe.shared_expert_output"})
            out.emplace_back(n);
    if (listed(modules, "mlp") && kind.dense_mlp()) {
        for (const char* n : {"mlp.activation_input", "mlp.relu_output", "mlp.gate_output", "mlp.up_output", "mlp.down_input"})
            out.emplace_back(n);
        if (!m.is_moe()) out.emplace_back("mlp.input");
    }
    return out;
}

// Bytes one layer of `kind` keeps for one micro-batch on one rank without the dropped tensors.
double kept_layer_bytes(const ModelSpec& m, const TrainConfig& c, const LayerKind& kind, const std::vector<std::string>& modules) {
    const std::vector<std::string> drop = dropped_tensors(m, c, kind, modules);
    std::vector<SavedTensor> kept;
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, kind))
        if (std::find(drop.begin(), drop.end(), t.name) == drop.end()) kept.push_back(t);
    return saved_bytes(kept, activation_shape(c));
}

// --use-precision-aware-optimizer (megatron/core/optimizer/optimizer_config.py; Transformer Engine's
// FusedAdam, megatron/core/optimizer/__init__.py): Adam's moments in --exp-avg-dtype and
// --exp-avg-sq-dtype, the main parameters in --main-params-dtype. Bytes of one element of each.
double optimizer_dtype_bytes(const std::string& dtype) { return dtype == "fp32" ? 4 : dtype == "fp8" ? 1 : 2; }

// Bytes per parameter of the distributed optimizer's main parameters. Without the option, fp32.
// With it, Transformer Engine's FusedAdam holds them (master_weight_dtype) unless the run quantizes its
// linears with a recipe other than delayed scaling and the main parameters stay fp32, where Megatron-
// Core keeps them as before (use_precision_aware_optimizer_no_fp8_or_ds_fp8; llmplan's fp8, MXFP8 and
// NVFP4 are taken as Transformer Engine's current-scaling recipes); in TE's, fp32 main parameters of a
// --bf16 run are stored as the 16-bit remainders the bf16 parameter does not hold
// (store_param_remainders, default true).
double megatron_main_param_bytes(const TrainConfig& c) {
    if (!framework_option_flag(c, "use_precision_aware_optimizer")) return 4;
    const std::string dtype = framework_option(c, "main_params_dtype");
    if (dtype != "fp32") return optimizer_dtype_bytes(dtype);
    if (precision_traits(c.precision).quantized_linears) return 4;
    return c.precision == Precision::mixed_bf16 && framework_option_flag(c, "store_param_remainders") ? 2 : 4;
}

// The share of Adam's fp32 moments (8 B per parameter) its --exp-avg-dtype and --exp-avg-sq-dtype keep.
double megatron_state_share(const TrainConfig& c) {
    if (!framework_option_flag(c, "use_precision_aware_optimizer")) return 1;
    return (optimizer_dtype_bytes(framework_option(c, "exp_avg_dtype")) + optimizer_dtype_bytes(framework_option(c, "exp_avg_sq_dtype"))) / 8;
}

// How the optimizer state line names its element types.
std::string megatron_state_note(const TrainConfig& c) {
    if (megatron_state_share(c) == 1) return " (fp32)";
    return " (exp_avg " + framework_option(c, "exp_avg_dtype") + ", exp_avg_sq " + framework_option(c, "exp_avg_sq_dtype") +
           ": --use-precision-aware-optimizer)";
}
std::string megatron_main_param_note(const TrainConfig& c) {
    const double b = megatron_main_param_bytes(c);
    if (!framework_option_flag(c, "use_precision_aware_optimizer")) return " × 4 B";
    if (b == 2 && framework_option(c, "main_params_dtype") == "fp32")
        return " × 2 B (fp32 kept as the 16-bit remainders beside the bf16 parameters: Transformer Engine's FusedAdam, store_param_remainders)";
    return " × " + stage_number(b) + " B (--main-params-dtype " + framework_option(c, "main_params_dtype") + ")";
}

// Bytes of one gradient element in Megatron's grad buffer.
double megatron_grad_bytes(const TrainConfig& c) {
    if (c.precision == Precision::fp32) return 4;
    if (c.precision == Precision::mixed_fp16) return framework_option_flag(c, "accumulate_allreduce_grads_in_fp32") ? 4 : 2;
    return framework_option_flag(c, "grad_reduce_in_bf16") ? 2 : 4;  // --bf16 (and fp8 on top of it)
}

// The option that keeps a quantized-linear precision's layer weights in its own format
// (transformer_config.py fp8_param / fp4_param: --fp8-param-gather for fp8 and mxfp8,
// --fp4-param-gather for nvfp4); "" for the other precisions.
std::string param_gather_option(Precision p) {
    if (!precision_traits(p).quantized_linears) return "";
    return p == Precision::nvfp4 ? "fp4_param_gather" : "fp8_param_gather";
}

// The name of a 16- or 32-bit element of the job's parameters and gradients, as the terms print it.
std::string element_name(double bytes, Precision p) {
    return bytes == 4 ? "fp32" : p == Precision::mixed_fp16 ? "fp16" : "bf16";
}

// Megatron FSDP (--use-megatron-fsdp, megatron/core/distributed/fsdp; docs/MEMORY_MODEL.md §9):
// --zero 3 is --data-parallel-sharding-strategy optim_grads_params, --zero 2 optim_grads. Per the
// design notes (megatron/core/distributed/fsdp/src/docs/mfsdp_design.md) each parameter group keeps a
// model_weight buffer in the compute dtype (sharded with optim_grads_params, whole with optim_grads),
// a main_weight buffer in --megatron-fsdp-main-params-dtype (fp32 by default) and a main_grad buffer
// in --megatron-fsdp-main-grads-dtype (default: the compute parameters' dtype,
// distributed_data_parallel_config.py), both sharded over the data × context parallel ranks (the
// routed experts over their expert data-parallel group); Adam's states beside the main weights. The
// unsharded copies: the unit computed and the one prefetched (--fsdp-double-buffer's two buffers,
// the default prefetch of one unit), and one unit's unsharded gradients before their reduce-scatter.
std::vector<StagePart> megatron_fsdp_states(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i) {
    const ParallelLayout& p = c.parallel;
    const StageParams sp = stage_params(m, tensors, c, i);
    const double psi = sp.dense + sp.expert;
    const double N = p.shard_group(), Ne = p.expert_shard_group();
    const double shard = sp.dense / N + sp.expert / Ne;
    const double w = c.precision == Precision::fp32 ? 4 : 2;  // compute dtype: model_weight and main_grad ("auto")
    const bool params_sharded = p.zero == 3;
    const std::string gather_option = param_gather_option(c.precision);
    const bool q_param = !gather_option.empty() && framework_option_flag(c, gather_option);
    const double q = precision_bytes(c.precision).fp8_weight_cache / 2;
    const double te_linear = q_param ? stage_layer_matmul_elements(m, tensors, c, i) : 0;
    const std::string strategy = params_sharded ? "optim_grads_params" : "optim_grads";
    const std::string on_gpu = stage_count(psi) + " params";
    const std::string shard_note = " ÷ " + stage_number(N) + " (Megatron FSDP " + strategy + ": sharded over data × context parallel ranks" +
                                   (sp.expert > 0 && Ne != N ? "; experts ÷ " + stage_number(Ne) : std::string()) + ")";
    const std::string wname = element_name(w, c.precision);
    const std::string fsdp = kSource + ": distributed/fsdp/src/docs/mfsdp_design.md, distributed_data_parallel_config.py";
    std::vector<StagePart> parts;
    {
        const double whole = w * psi - (q_param ? (w - q) * te_linear : 0);
        const std::string q_note = q_param ? "; the layers' " + stage_count(te_linear) + " linear weights in " + to_string(c.precision) + ", " +
                                                 stage_number(q) + " B (--" + gather_option.substr(0, 3) + "-param-gather)"
                                           : std::string();
        parts.push_back({StageField::parameters, in_every_phase,
                         {"parameters", params_sharded ? "sharded parameters" : "parameters",
                          params_sharded ? whole * shard / psi : whole,
                          on_gpu + " × " + stage_number(w) + " B (" + wname + " model_weight" + q_note + ")" +
                              (params_sharded ? shard_note : std::string(" (optim_grads: every rank keeps them)")),
                          fsdp}});
    }
    parts.push_back({StageField::gradients, in_every_phase,
                     {"gradients", "sharded main gradients", w * shard,
                      on_gpu + " × " + stage_number(w) + " B (" + wname + " main_grad: --megatron-fsdp-main-grads-dtype auto)" + shard_note,
                      fsdp}});
    if (c.precision != Precision::fp32)
        parts.push_back({StageField::master, in_every_phase,
                         {"main_params", "fp32 main parameters", 4 * shard, on_gpu + " × 4 B (main_weight)" + shard_note, fsdp}});
    parts.push_back({StageField::optimizer_states, in_every_phase,
                     {"optimizer", "optimizer state", megatron_state_share(c) * (sp.dense_state / N + sp.expert_state / Ne),
                      on_gpu + " × " + optimizer_state_description(c.optimizer) + megatron_state_note(c) + shard_note, fsdp}});
    const double unit = sp.largest_block;
    if (params_sharded)
        parts.push_back({StageField::gathered, in_forward_and_backward,
                         {"gathered", "unsharded parameters", 2 * w * unit,
                          "2 × " + stage_count(unit) + " params of " + sp.largest_block_name + " × " + stage_number(w) + " B (" + wname +
                              "): the unit computed and the one prefetched",
                          fsdp + " (all-gather prefetch, double buffer)"}});
    parts.push_back({StageField::temporary, at_backward,
                     {"unit_gradients", "one unit's gradients", w * unit,
                      stage_count(unit) + " params of " + sp.largest_block_name + " × " + stage_number(w) + " B (" + wname +
                          " unsharded gradients before their reduce-scatter)",
                      fsdp}});
    return parts;
}

// Transformer Engine's quantized linears (fp8, nvfp4): a low-precision copy of each layer weight
// (q bytes per element: 1 for fp8, 0.5625 for NVFP4's 4-bit values and block scales) and its
// transpose; --fp8-param-gather / --fp4-param-gather keep the parameter itself in that format.
struct TeWeights {
    bool fp8 = false;          // the layers' linears quantized
    double q = 0;              // bytes per element of one quantized copy
    std::string gather_option; // fp8_param_gather / fp4_param_gather for the precision ("" for 16-bit)
    bool fp8_param = false;    // that option on: the parameter itself quantized
    std::string qname;
    std::string qbytes() const { return stage_number(q) + " B"; }  // (the words; made only where printed)
    double te_linear = 0;      // the stage's layer linear weights on this GPU
    // `params` parameters of w bytes, the layers' linear weights among them in the quantized format
    // where the parameter itself is (fp8_param), and the words for that.
    double param_bytes(double w, double params) const { return w * params - (fp8_param ? (w - q) * te_linear : 0); }
    std::string param_note() const {
        return fp8_param ? "; the layers' " + stage_count(te_linear) + " linear weights in " + qname + ", " + qbytes() : std::string();
    }
};
TeWeights te_weights(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i) {
    TeWeights t;
    t.fp8 = precision_traits(c.precision).quantized_linears;
    t.q = precision_bytes(c.precision).fp8_weight_cache / 2;
    t.gather_option = param_gather_option(c.precision);
    t.fp8_param = !t.gather_option.empty() && framework_option_flag(c, t.gather_option);
    t.qname = to_string(c.precision);
    t.te_linear = t.fp8 ? stage_layer_matmul_elements(m, tensors, c, i) : 0;
    return t;
}
// Their workspaces, kept across micro-batches (`what`: whose linear weights).
StagePart te_weight_cache_part(const TeWeights& t, const std::string& what) {
    return {StageField::fp8_weight_cache, in_every_phase,
            {"fp8_weights", "Transformer Engine " + t.qname + " weights", (t.fp8_param ? 1 : 2) * t.q * t.te_linear,
             stage_count(t.te_linear) + " " + what + " × " +
                 (t.fp8_param ? t.qbytes() + " (the " + t.qname + " transpose beside the " + t.qname + " parameter)"
                              : stage_number(2 * t.q) + " B (" + t.qname + " copy + " + t.qname + " transpose)"),
             kSource + ": fp8_utils.py; Transformer Engine's weight workspaces, kept across micro-batches"}};
}

// The distributed optimizer (--zero 1) or plain DDP (--zero 0): DDP's contiguous param and grad
// buffers whole on every rank, the fp32 main parameters and Adam sharded over dp × cp with the
// distributed optimizer (experts over their expert data-parallel group), Transformer Engine's
// quantized-weight workspaces.
std::vector<StagePart> megatron_ddp_states(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i,
                                           bool explain) {
    const ParallelLayout& p = c.parallel;
    const bool dist_opt = p.zero == 1;
    const double N = dist_opt ? p.shard_group() : 1, Ne = dist_opt ? p.expert_shard_group() : 1;
    std::vector<StagePart> parts;
    const StageParams sp = stage_params(m, tensors, c, i);
    const double psi = sp.dense + sp.expert;
    const double w = c.precision == Precision::fp32 ? 4 : 2, gb = megatron_grad_bytes(c);
    const TeWeights te = te_weights(m, tensors, c, i);
    // The terms' formulas, written only for a plan that prints them (the search's quick plans do not).
    const auto text = [explain](auto&& make) { return explain ? std::string(make()) : std::string(); };
    const std::string on_gpu = text([&] { return stage_count(psi) + " params"; });
    const std::string shard_note = text([&] {
        return dist_opt ? " ÷ " + stage_number(N) + " (distributed optimizer: sharded over data × context parallel ranks" +
                              (sp.expert > 0 && Ne != N ? "; experts ÷ " + stage_number(Ne) : std::string()) + ")"
                        : std::string(" (no distributed optimizer: every data-parallel rank keeps all)");
    });
    parts.push_back({StageField::parameters, in_every_phase,
                     {"parameters", "parameters", te.param_bytes(w, psi),
                      text([&] {
                          return on_gpu + " × " + stage_number(w) + " B (" + element_name(w, c.precision) + te.param_note() +
                                 (te.fp8_param ? " (--" + te.gather_option.substr(0, 3) + "-param-gather)" : std::string()) + ")" +
                                 (dist_opt ? "; DDP's param buffer, all-gathered in place after the step" : std::string());
                      }),
                      kSource + ": param_and_grad_buffer.py"}});
    parts.push_back({StageField::gradients, in_every_phase,
                     {"gradients", "main-grad buffer", gb * psi,
                      text([&] {
                          return on_gpu + " × " + stage_number(gb) + " B (" + element_name(gb, c.precision) +
                                 " main_grad, the whole buffer on every rank" +
                                 (dist_opt ? ", reduce-scattered in place" : ", all-reduced in place") + ")";
                      }),
                      kSource + ": param_and_grad_buffer.py (grad_data), arguments.py (accumulate_allreduce_grads_in_fp32)"}});
    const double mp = megatron_main_param_bytes(c);
    const double main_params = c.precision == Precision::fp32 ? 0 : mp * (sp.dense / N + sp.expert / Ne);
    if (main_params > 0)
        parts.push_back({StageField::master, in_every_phase,
                         {"main_params", mp == 4 ? "fp32 main parameters" : "main parameters", main_params,
                          text([&] { return on_gpu + megatron_main_param_note(c) + shard_note; }),
                          kSource + ": optimizer/distrib_optimizer.py (shard_fp32_from_float16_groups), optimizer/__init__.py"}});
    parts.push_back({StageField::optimizer_states, in_every_phase,
                     {"optimizer", "optimizer state", megatron_state_share(c) * (sp.dense_state / N + sp.expert_state / Ne),
                      text([&] { return on_gpu + " × " + optimizer_state_description(c.optimizer) + megatron_state_note(c) + shard_note; }),
                      kSource + ": optimizer/distrib_optimizer.py, optimizer/optimizer_config.py"}});
    if (te.fp8) {
        parts.push_back(te_weight_cache_part(te, "linear weights of the transformer layers"));
        parts.back().term.formula += "; embedding, output layer, norms and router stay 16-bit";
    }
    return parts;
}

// LoRA under Megatron (Megatron Bridge's PEFT, peft/lora.py): the base model frozen, adapters on the
// targeted projections in the model's dtype (lora_dtype None: the model's). Megatron-Core's DDP
// builds its param-and-grad buffers from the parameters that require a gradient only
// (distributed_data_parallel.py: "Collect all trainable parameters", `if not param.requires_grad:
// continue`), so the main-grad buffer, the distributed optimizer's fp32 main parameters and its
// states cover the adapters alone; the frozen base stays a plain 16-bit module parameter (its
// Transformer Engine FP8 copies as without LoRA).
std::vector<StagePart> megatron_peft_states(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i) {
    const ParallelLayout& p = c.parallel;
    const bool dist_opt = p.zero == 1;
    const double N = dist_opt ? p.shard_group() : 1, Ne = dist_opt ? p.expert_shard_group() : 1;
    const StageParams sp = stage_params(m, tensors, c, i);
    const double base = sp.dense + sp.expert;
    const LoraOnGpu on_gpu = lora_on_gpu(count_lora(m, c.lora, stage_layer_groups(m, p, i)), p);
    const double dense_adapters = on_gpu.dense, expert_adapters = on_gpu.expert, A = on_gpu.total();
    const double w = c.precision == Precision::fp32 ? 4 : 2, gb = megatron_grad_bytes(c);
    const TeWeights te = te_weights(m, tensors, c, i);
    const std::string adapters = stage_count(A) + " LoRA params";
    const std::string shard_note = dist_opt ? " ÷ " + stage_number(N) + " (distributed optimizer over the adapters: data × context parallel ranks)"
                                            : " (no distributed optimizer: every data-parallel rank keeps all)";
    const std::string source = kSource + ": distributed/distributed_data_parallel.py (trainable parameters only); Megatron Bridge peft/lora.py";
    std::vector<StagePart> parts;
    parts.push_back({StageField::parameters, in_every_phase,
                     {"parameters", "parameters", te.param_bytes(w, base) + w * A,
                      stage_count(base) + " frozen base params × " + stage_number(w) + " B (" + element_name(w, c.precision) +
                          te.param_note() + ") + " + adapters + " × " + stage_number(w) + " B (the model's dtype; DDP's param buffer)",
                      source}});
    parts.push_back({StageField::gradients, in_every_phase,
                     {"gradients", "main-grad buffer", gb * A,
                      adapters + " × " + stage_number(gb) + " B (" + element_name(gb, c.precision) +
                          " main_grad of the adapters only: the frozen base has none)",
                      source}});
    const double dense_share = A > 0 ? dense_adapters / A : 1;
    const double mp = megatron_main_param_bytes(c);
    const double main_params = c.precision == Precision::fp32 ? 0 : mp * (dense_adapters / N + expert_adapters / Ne);
    if (main_params > 0)
        parts.push_back({StageField::master, in_every_phase,
                         {"main_params", mp == 4 ? "fp32 main parameters" : "main parameters", main_params,
                          adapters + megatron_main_param_note(c) + shard_note, source}});
    const double states = megatron_state_share(c) * optimizer_state_bytes(c.optimizer, std::llround(std::max(1.0, A)), 1, 4);
    parts.push_back({StageField::optimizer_states, in_every_phase,
                     {"optimizer", "optimizer state", states * (dense_share / N + (1 - dense_share) / Ne),
                      adapters + " × " + optimizer_state_description(c.optimizer) + megatron_state_note(c) + shard_note, source}});
    if (te.fp8) parts.push_back(te_weight_cache_part(te, "frozen linear weights of the transformer layers"));
    return parts;
}

class MegatronProfile : public FrameworkProfile {
public:
    Framework framework() const override { return Framework::megatron; }

    // Each option with Megatron-LM's argument default (megatron/training/arguments.py), except those
    // its performance runs set (performance_default below), which show and plan their setting.
    std::vector<FrameworkOption> options() const override {
        std::vector<FrameworkOption> out = argument_options();
        for (FrameworkOption& o : out)
            if (const PerformanceDefault* d = performance_default(o.key)) {
                o.argument_default = o.default_value;
                o.default_value = d->shown;
            }
        return out;
    }

    std::string option_default(const TrainConfig& c, const FrameworkOption& o) const override {
        if (const PerformanceDefault* d = performance_default(o.key)) return d->value(c);
        return FrameworkProfile::option_default(c, o);
    }

    static std::vector<FrameworkOption> argument_options() {
        return {
            {"grad_reduce_in_bf16", "false"},                 // --grad-reduce-in-bf16: bf16 main grads under --bf16
            {"accumulate_allreduce_grads_in_fp32", "false"},  // fp32 main grads under --fp16 (forced on under --bf16)
            {"fp8_param_gather", "false"},                    // --fp8-param-gather: the layers' linear weights in fp8
            {"fp4_param_gather", "false"},                    // --fp4-param-gather: the layers' linear weights in NVFP4
            {"recompute_method", "uniform"},                  // --recompute-method (with --recompute full): uniform | block
            {"recompute_num_layers", "1"},                    // --recompute-num-layers
            {"moe_token_dispatcher_type", "allgather"},       // --moe-token-dispatcher-type: allgather | alltoall | flex
            {"overlap_moe_expert_parallel_comm", "false"},    // --overlap-moe-expert-parallel-comm: MoE all-to-all under another micro-batch
            {"recompute_modules", "core_attn"},               // --recompute-modules (with --recompute selective), comma-separated
            {"tp_comm_overlap", "false"},                     // --tp-comm-overlap: TE userbuffers overlap TP with GEMMs
            {"overlap_param_gather", "false"},                // --overlap-param-gather: the distributed optimizer's all-gather under the next forward
            {"cross_entropy_loss_fusion", "false"},           // --cross-entropy-loss-fusion: fused vocab-parallel cross-entropy
            {"moe_flex_dispatcher_num_sms", "20"},            // --moe-flex-dispatcher-num-sms: SMs of the flex dispatcher's kernels (DeepEP's default 20)
            {"overlap_p2p_comm", "true"},                     // --no-overlap-p2p-communication sets it false: the interleaved schedule's p2p beside the chunks
            {"cuda_graph_impl", "none"},                      // --cuda-graph-impl: none | local | transformer_engine | full_iteration
            {"cuda_graph_modules", ""},                       // --cuda-graph-modules (per-layer impls), comma-separated; empty: the whole layer
            {"use_precision_aware_optimizer", "false"},       // --use-precision-aware-optimizer: the dtypes below (Transformer Engine's FusedAdam)
            {"exp_avg_dtype", "fp32"},                        // --exp-avg-dtype: fp32 | bf16 | fp16 | fp8
            {"exp_avg_sq_dtype", "fp32"},                     // --exp-avg-sq-dtype: fp32 | bf16 | fp16 | fp8
            {"main_params_dtype", "fp32"},                    // --main-params-dtype: fp32 | fp16
            {"store_param_remainders", "true"},               // OptimizerConfig.store_param_remainders (TE's FusedAdam; no Megatron-LM argument)
            {"first_last_layers_bf16", "false"},              // --first-last-layers-bf16: the first and last layers' linears in BF16 under fp8/fp4
            {"num_layers_at_start_in_bf16", "1"},             // --num-layers-at-start-in-bf16
            {"num_layers_at_end_in_bf16", "1"},               // --num-layers-at-end-in-bf16
            {"keep_mtp_spec_in_bf16", "false"},               // Megatron Bridge's keep_mtp_spec_in_bf16: the MTP modules' linears in BF16
            {"bf16_linears", ""},                             // a recipe's per-module exceptions (Transformer Engine quantization config): attention, moe_latent
            {"attention_backend", "auto"},                    // --attention-backend: auto | fused (cuDNN) | flash (FlashAttention; NVTE_FUSED_ATTN=0 does the same) | unfused | local
        };
    }

    // Named alone (no --framework-option), the profile plans Megatron-LM as its own performance runs
    // set it, not its bare argument defaults (docs/MEMORY_MODEL.md §9, "megatron"): README.md's
    // benchmark ("Fine-grained overlapping with DP (--overlap-grad-reduce, --overlap-param-gather),
    // TP (--tp-comm-overlap)"), megatron/core/transformer/moe/README.md's "General Performance Tips"
    // ("general performance flags that can help to achieve higher performance on almost all
    // workloads": the flex dispatcher with DeepEP, --cross-entropy-loss-fusion, the distributed
    // optimizer with --overlap-param-gather and --overlap-grad-reduce, --tp-comm-overlap), and the FP8
    // example scripts (examples/llama/train_llama3_8b_h100_fp8.sh, examples/gptoss/02_train.sh:
    // --fp8-param-gather). Each default, its listing text and its value for a job:
    //   overlap_param_gather      true   (with the distributed optimizer, --zero 1; nothing without it)
    //   tp_comm_overlap           true with --tp > 1 and --sp (arguments.py: "Tensor parallel
    //                                    communication/GEMM overlap can happen only when sequence
    //                                    parallelism is enabled")
    //   cross_entropy_loss_fusion true
    //   fp8_param_gather          true under fp8 and mxfp8
    //   moe_token_dispatcher_type flex
    // Everything else keeps the argument default; each is one --framework-option away (false, or
    // allgather / alltoall) for a run that does not set it.
    struct PerformanceDefault {
        const char* key;
        const char* shown;
        const char* (*value)(const TrainConfig&);
        const char* what = "";  // in words, for the plan's "as" line
    };
    static const char* flag(bool on) { return on ? "true" : "false"; }
    static std::span<const PerformanceDefault> performance_defaults() {
        static const PerformanceDefault table[] = {
            {"overlap_param_gather", "true", [](const TrainConfig&) { return "true"; }, "overlapped parameter gather"},
            {"tp_comm_overlap", "true with --tp > 1 and --sp", [](const TrainConfig& c) { return flag(c.parallel.tp > 1 && c.parallel.sp); },
             "TP overlap"},
            {"cross_entropy_loss_fusion", "true", [](const TrainConfig&) { return "true"; }, "fused cross-entropy"},
            {"fp8_param_gather", "true under fp8 and mxfp8",
             [](const TrainConfig& c) { return flag(c.precision == Precision::fp8 || c.precision == Precision::mxfp8); },
             "fp8 parameter gather"},
            {"moe_token_dispatcher_type", "flex", [](const TrainConfig&) { return "flex"; }, "the flex MoE dispatcher"},
        };
        return table;
    }
    // The row of `table` for `key`, if any (this profile's table, and Megatron Bridge's below).
    static const PerformanceDefault* find_default(std::span<const PerformanceDefault> table, const std::string& key) {
        for (const PerformanceDefault& d : table)
            if (key == d.key) return &d;
        return nullptr;
    }
    static const PerformanceDefault* performance_default(const std::string& key) { return find_default(performance_defaults(), key); }

    // Linears a quantized recipe keeps in BF16 (docs/PERFORMANCE_MODEL.md §2, "Layers kept in BF16"):
    // --first-last-layers-bf16 keeps the first num_layers_at_start_in_bf16 and the last
    // num_layers_at_end_in_bf16 transformer layers out of the fp8/fp4 autocast (megatron/core/
    // transformer/transformer_block.py, get_fp8_context / get_fp4_context by layer number);
    // keep_mtp_spec_in_bf16 builds the MTP modules without it (Megatron Bridge); a recipe's
    // Transformer Engine quantization config may name modules to leave in BF16 (Nemotron 3 Super's
    // te_quant.cfg: attention's linear_qkv and linear_proj, the latent MoE projections).
    Bf16Linears bf16_linear_flops(const ModelSpec& m, const TrainConfig& c, int stage) const override {
        Bf16Linears out;
        if (!precision_traits(c.precision).quantized_linears) return out;
        const ParallelLayout& p = c.parallel;
        std::vector<std::string> why;
        const std::vector<LayerRange> ranges = stage_layer_ranges(m, p, stage);
        auto in_bf16_layers = [&](int first, int count) {  // the stage's layers among [first, first + count)
            double f = 0;
            for (const LayerRange& r : ranges) {
                const int a = std::max(first, r.first), b = std::min(first + count, r.first + r.count);
                if (a < b) f += layers_forward_flops(m, a, b - a, c.seq).dense_matmuls();  // (no logits in layers)
            }
            return f;
        };
        std::vector<bool> counted(static_cast<std::size_t>(m.n_layers), false);
        if (framework_option_flag(c, "first_last_layers_bf16")) {
            const int start = static_cast<int>(framework_option_number(c, "num_layers_at_start_in_bf16", 0, m.n_layers));
            const int end = static_cast<int>(framework_option_number(c, "num_layers_at_end_in_bf16", 0, m.n_layers));
            out.flops += in_bf16_layers(0, start);
            const int from = std::max(start, m.n_layers - end);  // a layer in both counts once
            out.flops += in_bf16_layers(from, m.n_layers - from);
            for (int i = 0; i < start; ++i) counted[static_cast<std::size_t>(i)] = true;
            for (int i = from; i < m.n_layers; ++i) counted[static_cast<std::size_t>(i)] = true;
            why.push_back("the first " + std::to_string(start) + " and last " + std::to_string(end) + " layers");
        }
        const std::vector<std::string> modules = option_items(c, "bf16_linears");
        if (!modules.empty()) {
            for (const LayerRange& r : ranges)
                for (int i = r.first; i < r.first + r.count; ++i) {
                    if (counted[static_cast<std::size_t>(i)]) continue;  // already whole in BF16
                    const LayerKind k = m.layer(i);
                    const ForwardFlops f = layer_forward_flops(m, k, c.seq);
                    if (listed(modules, "attention")) out.flops += f.qkv + f.output_proj;
                    if (listed(modules, "moe_latent") && k.moe_mlp()) out.flops += 4.0 * m.d_model * m.moe_latent;
                }
            why.push_back("the " + join(modules, " and ") + " linears of the other layers");
        }
        const bool last = stage == p.pp - 1;
        if (last && m.mtp_layers > 0 && framework_option_flag(c, "keep_mtp_spec_in_bf16")) {
            const ForwardFlops mtp = mtp_forward_flops(m, c.seq);
            out.flops += mtp.mtp - mtp.mtp_attention - m.mtp_layers * logits_flops(m);  // (no Mamba layers in MTP modules)
            why.push_back("the MTP modules (keep_mtp_spec_in_bf16)");
        }
        if (out.flops > 0) out.source = "Megatron keeps " + join(why, ", ") + " in BF16";
        return out;
    }


    // Time only (docs/PERFORMANCE_MODEL.md §3): --tp-comm-overlap pipelines sequence parallelism's
    // all-gather and reduce-scatter (and the all-reduce without it) with the linear layers' GEMMs
    // in chunks (Transformer Engine userbuffers; megatron/training/arguments.py, megatron/core/
    // model_parallel_config.py tp_comm_overlap); --overlap-param-gather issues the distributed
    // optimizer's parameter all-gather bucket by bucket and waits for each bucket only before its
    // first use in the next forward (megatron/core/distributed/distributed_data_parallel.py).
    // MoE (docs/PERFORMANCE_MODEL.md §3, "MoE all-to-all"): --moe-token-dispatcher-type flex runs
    // DeepEP or HybridEP, which "removes redundant tokens during cross-node communication"
    // (megatron/core/transformer/moe/README.md, token dispatchers): a token crosses the network once
    // per destination node. --overlap-moe-expert-parallel-comm overlaps "EP A2A communications with
    // independent computations of different micro-batches in 1f1b phase" (model_parallel_config.py).
    CommOverlap comm_overlap(const TrainConfig& c) const override {
        CommOverlap o;
        o.tp_with_linears = c.parallel.tp > 1 && framework_option_flag(c, "tp_comm_overlap");
        if (o.tp_with_linears) {
            o.tp_overlap_cost = kTpOverlapHiddenCost;
            o.tp_overlap_cost_source = "Transformer Engine's userbuffers take SMs from the GEMMs beside them; fitted on the "
                                       "published runs with --tp-comm-overlap, docs/PERFORMANCE_MODEL.md §3";
        }
        o.param_gather_with_forward = c.parallel.zero == 1 && framework_option_flag(c, "overlap_param_gather");
        o.ep_a2a_with_other_microbatch = c.parallel.ep > 1 && framework_option_flag(c, "overlap_moe_expert_parallel_comm");
        o.ep_dispatch_deduplicated = framework_option(c, "moe_token_dispatcher_type") == "flex";
        std::vector<std::string> flags;
        if (o.tp_with_linears) flags.emplace_back("--tp-comm-overlap");
        if (o.param_gather_with_forward) flags.emplace_back("--overlap-param-gather");
        o.source = join(flags, " ");
        if (o.ep_a2a_with_other_microbatch) o.ep_source = "--overlap-moe-expert-parallel-comm";
        // The interleaved schedule overlaps its pipeline send/recv with the chunks
        // (megatron/training/arguments.py: --no-overlap-p2p-communication, store_false, so
        // overlap_p2p_comm is on by default and turned off without interleaving; Megatron Bridge's
        // training/comm_overlap.py sets it exactly when pp > 1 and vp > 1).
        o.p2p_with_chunks = c.parallel.pp > 1 && c.parallel.virtual_stages > 1 && framework_option_flag(c, "overlap_p2p_comm");
        if (o.p2p_with_chunks) o.p2p_source = "overlap_p2p_comm, Megatron-LM's default with --num-layers-per-virtual-pipeline-stage";
        // The flex dispatcher's kernels run on a fixed number of SMs (transformer_config.py
        // moe_flex_dispatcher_num_sms; token_dispatcher.py: unset, DeepEP gets "DeepEP's historical
        // mcore default" 20); overlapped with another micro-batch they take those SMs from it.
        if (o.ep_a2a_with_other_microbatch && o.ep_dispatch_deduplicated) {
            o.ep_comm_sms = static_cast<int>(framework_option_number(c, "moe_flex_dispatcher_num_sms", 1, 1024));
            o.ep_comm_sms_source = "--moe-flex-dispatcher-num-sms " + std::to_string(o.ep_comm_sms) +
                                   (framework_option_given(c, "moe_flex_dispatcher_num_sms") ? "" : " (Megatron-Core's DeepEP default)");
        }
        return o;
    }
    // --recompute-modules: the forward of mla_up_proj's up projections and of mlp's dense MLPs again
    // in the backward, at the layers' linear rate; core_attn left out of the list takes back the
    // generic selective recompute of the attention core. The element-wise modules (layernorm,
    // moe_act) re-read their inputs; their traffic is not added (the element-wise term's).
    void step_time(const MemoryPlan& plan, const PerfOptions&, ComputeTime& t) const override {
        recompute_modules_time(plan, t);
        moe_host_time(plan, t);
    }

    // The MoE layers' host work the GPU waits for: kMoeHostSecondsPerLayerForward{Torch,Flex} (by
    // --moe-token-dispatcher-type) × the stage's MoE layer forwards (per micro-batch, and each
    // forward that --recompute full or the module moe runs again: it syncs again) +
    // kMoeHostSecondsPerLocalExpert × the routed experts on each GPU
    // (n_experts ÷ ep) × the MoE layer passes (per micro-batch, and a recomputed forward's share
    // kMoeHostRecomputeShare). None where the MoE layer runs inside a CUDA graph: the full-iteration
    // graph (static shapes, no host sync), or per-layer graphs that capture the MoE layer itself (the
    // module moe, or the whole layer: no module listed), which Megatron allows for drop-and-pad MoE
    // layers only (enums.py: "moe: Captures MoE layers (drop-and-pad MoE layers only)"); the setting
    // is taken as given.
    static void moe_host_time(const MemoryPlan& plan, ComputeTime& t) {
        const TrainConfig& c = plan.config;
        const ModelSpec& m = plan.model;
        if (!(t.moe_layers > 0)) return;  // (MoE layers on the stage: the model is a mixture of experts)
        const std::string impl = framework_option(c, "cuda_graph_impl");
        const std::vector<std::string> modules = option_items(c, "cuda_graph_modules");
        const bool layer_graph =
            (impl == "local" || impl == "transformer_engine") && (modules.empty() || listed(modules, "moe"));
        if (impl == "full_iteration" || layer_graph) return;
        MoeHostWork& h = t.moe_host;
        const double recomputed = t.full_recompute_share + t.moe_recompute_share;  // forwards run again, per forward
        const bool flex = framework_option(c, "moe_token_dispatcher_type") == "flex";
        h.per_layer_forward = flex ? kMoeHostSecondsPerLayerForwardFlex : kMoeHostSecondsPerLayerForwardTorch;
        h.layer_forwards = t.moe_layers * t.micro_batches * (1 + recomputed);
        h.per_local_expert = kMoeHostSecondsPerLocalExpert;
        h.local_experts = static_cast<double>(m.n_experts) / c.parallel.ep;
        // A recomputed forward issues the forward's share of the experts' GEMMs again: per local
        // expert, 2 of the 6 grouped GEMMs of a pass (fc1, fc2; the backward's dgrad and wgrad of both are not re-run).
        h.layer_passes = t.moe_layers * t.micro_batches * (1 + kMoeHostRecomputeShare * recomputed);
        h.seconds = h.per_layer_forward * h.layer_forwards + h.per_local_expert * h.local_experts * h.layer_passes;
        h.source = "each MoE layer's token dispatcher syncs with the host, then issues the layer and the experts' GEMMs per local expert "
                   "(" + std::string(impl == "none" ? "no CUDA graphs" : "CUDA graphs " + impl + " without the MoE layer") +
                   "); " + format_fixed(h.per_layer_forward * 1e3, 2) + " ms (the " +
                   (flex ? std::string("flex dispatcher's") : "torch.distributed dispatchers'") + ") and " +
                   format_fixed(kMoeHostSecondsPerLocalExpert * 1e3, 3) +
                   " ms fitted on the published MoE fit runs, docs/PERFORMANCE_MODEL.md §2";
    }

    static void recompute_modules_time(const MemoryPlan& plan, ComputeTime& t) {
        const TrainConfig& c = plan.config;
        if (c.recompute != Recompute::selective) return;
        const std::vector<std::string> modules = recompute_modules(c);
        const ModelSpec& m = plan.model;
        const ParallelLayout& p = c.parallel;
        double flops = 0;  // forward FLOPs per token recomputed on the stage
        for (const LayerGroup& g : stage_layer_groups(m, p, t.stage)) {
            if (listed(modules, "mla_up_proj") && m.is_mla()) {
                const MlaShape& l = m.mla;
                flops += g.count * 2.0 * m.n_heads *
                         (static_cast<double>(l.q_lora_rank) * l.qk_head_dim() +
                          static_cast<double>(l.kv_lora_rank) * (l.qk_nope_head_dim + l.v_head_dim));
            }
            if (listed(modules, "mlp") && g.kind.dense_mlp())
                flops += g.count * 2.0 * mlp_matrices(m.activation) * m.d_model * static_cast<double>(m.d_ff);
            if (listed(modules, "shared_experts") && !listed(modules, "moe") && g.kind.moe_mlp() && m.shared_d_ff > 0)
                flops += g.count * 2.0 * mlp_matrices(m.activation) * m.d_model * static_cast<double>(m.shared_d_ff);
        }
        double linears = flops * t.tokens_per_gpu / p.tp / t.matmul_rate;
        double moe_block = 0;  // moe: the MoE blocks' forward again (their all-to-alls and host work: t.moe_recompute_share)
        if (listed(modules, "moe") && t.moe_layers > 0) {
            const double f_e = m.expert_d_ff(), w = m.expert_width(), mats = mlp_matrices(m.activation);
            const double routed = 2 * mats * w * f_e * m.top_k;
            double layer_mlp = 0;  // one MoE layer's MLP forward FLOPs per token, the routed experts apart
            for (const LayerGroup& g : stage_layer_groups(m, p, t.stage))
                if (g.kind.moe_mlp()) layer_mlp = layer_forward_flops(m, g.kind, c.seq).mlp - routed;
            const double tokens = t.tokens_per_gpu / p.tp;
            const double rate_e = t.peak_flops * t.clock_fraction * t.expert_gemm_efficiency;
            linears += t.moe_layers * layer_mlp * tokens / t.matmul_rate;
            if (rate_e > 0) linears += t.moe_layers * routed * tokens / rate_e;
            moe_block = t.moe_permute_seconds / (2 * t.micro_batches);  // the dispatch's and combine's permutation, forward
            t.moe_recompute_share = 1;
        }
        const double extra = linears + moe_block - (listed(modules, "core_attn") ? 0 : t.attention_forward_seconds);
        t.microbatch_backward_seconds += extra;
        t.matmul_seconds += t.micro_batches * extra;
        t.linear_matmul_seconds += linears;
        const double t_mb = t.microbatch_forward_seconds + t.microbatch_backward_seconds;
        t.compute_seconds = t.micro_batches * t_mb;
        t.bubble_seconds = (p.pp - 1.0) / p.virtual_stages * t_mb;
    }

    // --recompute-method block --recompute-num-layers k (megatron/core/transformer/transformer_block.py
    // _checkpointed_forward): only the first k layers of each model chunk are checkpointed and run
    // their forward again in the backward (uniform: every layer, in units of k).
    double full_recompute_share(const ModelSpec& m, const TrainConfig& c, int stage) const override {
        if (c.recompute != Recompute::full || framework_option(c, "recompute_method") != "block") return 1;
        const int k = static_cast<int>(framework_option_number(c, "recompute_num_layers", 1, 1 << 20));
        double all = 0, recomputed = 0;
        for (int i = stage < 0 ? 0 : stage; i < (stage < 0 ? c.parallel.pp : stage + 1); ++i)
            for (const LayerRange& r : stage_layer_ranges(m, c.parallel, i)) {
                all += r.count;
                recomputed += std::min(k, r.count);
            }
        return all > 0 ? recomputed / all : 1;
    }

    // Megatron-Core's attention is Transformer Engine's DotProductAttention (TEDotProductAttention),
    // whose get_attention_backend prefers FusedAttention (cuDNN, the F16_arbitrary_seqlen
    // sub-backend) to FlashAttention on Hopper and later "for performance reasons"
    // (transformer_engine/pytorch/attention/dot_product_attention/utils.py; docs/REFERENCES.md §12).
    // The table's cuDNN rows are PyTorch SDPA's cuDNN backend, the same cuDNN fused attention.
    // --attention-backend flash (or Transformer Engine's NVTE_FUSED_ATTN=0, which a recipe sets in its
    // environment) takes FusedAttention out of the choice and leaves FlashAttention: the table's flash
    // rows (FlashAttention-2, the flash-attn package of those containers).
    AttentionKernel attention_kernel(const TrainConfig& c) const override {
        if (framework_option(c, "attention_backend") == "flash")
            return {"flash_attention", "FlashAttention-2: Transformer Engine's FlashAttention backend (--attention-backend flash)"};
        return {"cudnn_attention", "cuDNN fused attention: Transformer Engine's FusedAttention, preferred on Hopper+"};
    }

    // The loss: without --cross-entropy-loss-fusion, Megatron-Core's vocab-parallel cross-entropy
    // upcasts the rank's logits to fp32 and works on that copy in place
    // (megatron/core/tensor_parallel/cross_entropy.py, calculate_logits_max: .float()), moving about
    // what PyTorch's fp32 cross-entropy moves; with it, the fused kernel (Megatron Bridge's
    // GPTModelProvider turns it on by default; docs/REFERENCES.md §12).
    LossKernel loss_kernel(const TrainConfig& c) const override {
        if (framework_option_flag(c, "cross_entropy_loss_fusion"))
            return {true, "Megatron's fused vocab-parallel cross-entropy (--cross-entropy-loss-fusion)"};
        return {false, "Megatron-Core's vocab-parallel cross-entropy on an fp32 copy of the logits"};
    }

    // Megatron-Core's pipeline schedules call set_is_first_microbatch() on the model at the first
    // micro-batch of each step, which tells Transformer Engine's linear modules to quantize their
    // weights (and the transposed copy the backward uses) and keep them; later micro-batches reuse
    // the cache (megatron/core/transformer/module.py set_is_first_microbatch; TE's
    // is_first_microbatch argument, "caching FP8 versions of the weights"; docs/REFERENCES.md §12).
    Fp8WeightCasts fp8_weight_casts(const TrainConfig&) const override {
        return {true, "Transformer Engine caches the FP8 weights from the first micro-batch of a step (is_first_microbatch)"};
    }

    void validate(const ModelSpec& m, const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        // (The words of a refusal, made only for one: a search meets many layouts.)
        const auto under = [&c] { return std::string(" under --framework ") + to_string(c.framework); };
        if (c.precision != Precision::mixed_bf16 && c.precision != Precision::mixed_fp16 && c.precision != Precision::fp32 &&
            !precision_traits(c.precision).quantized_linears)
            throw InputError(std::string("--precision ") + to_string(c.precision) +
                             under() + ": Megatron-LM trains in fp32, --bf16 (mixed-bf16), --fp16 "
                             "(mixed-fp16), Transformer Engine fp8 on top of --bf16 (fp8; --fp8-recipe mxfp8: mxfp8) "
                             "or --fp4-format e2m1 --fp4-recipe nvfp4 on top of --bf16 (nvfp4)");
        if (p.zero > 1 && p.pp > 1)
            throw InputError("--zero " + std::to_string(p.zero) + " with --pp " + std::to_string(p.pp) +
                             under() + ": Megatron FSDP (--use-megatron-fsdp) with pipeline parallelism is "
                             "not modelled; --zero 1 is the distributed optimizer");
        if (p.zero > 1 && c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam && c.optimizer != Optimizer::sgd)
            throw InputError(std::string("--optimizer ") + to_string(c.optimizer) + " with --zero " + std::to_string(p.zero) +
                             under() + ": Megatron FSDP takes adam or sgd only (arguments.py)");
        if (c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam && c.optimizer != Optimizer::sgd &&
            c.optimizer != Optimizer::sgd_momentum && c.optimizer != Optimizer::lion)
            throw InputError(std::string("--optimizer ") + to_string(c.optimizer) +
                             under() + ": Megatron-LM's --optimizer is adam (decoupled weight decay), "
                             "sgd or lion (arguments.py; muon and soap are not modelled)");
        if (c.offload != Offload::none)
            throw InputError("--offload" + under() + ": Megatron's --optimizer-cpu-offload is not modelled; "
                             "use --framework deepspeed for ZeRO-Offload");
        if (c.lora.enabled() && c.lora.base_quant != BaseQuant::none)
            throw InputError("--base-quant" + under() + ": Megatron Bridge's LoRA keeps the base in the model's "
                             "dtype (QLoRA is not modelled there; use --framework generic)");
        if (c.lora.enabled() && c.lora.paged_optimizer)
            throw InputError("--paged-optimizer" + under() + ": a bitsandbytes option, not Megatron's");
        if (c.lora.enabled() && p.zero >= 2)
            throw InputError("--lora-rank with --zero " + std::to_string(p.zero) +
                             under() + ": LoRA with Megatron FSDP is not modelled (--zero 1 is the distributed optimizer)");
        framework_option_choice(c, "recompute_method", {"uniform", "block"});
        framework_option_choice(c, "exp_avg_dtype", {"fp32", "bf16", "fp16", "fp8"});
        framework_option_choice(c, "exp_avg_sq_dtype", {"fp32", "bf16", "fp16", "fp8"});
        framework_option_choice(c, "main_params_dtype", {"fp32", "fp16"});
        const bool aware = framework_option_flag(c, "use_precision_aware_optimizer");
        for (const char* key : {"exp_avg_dtype", "exp_avg_sq_dtype", "main_params_dtype"})
            if (!aware && framework_option(c, key) != "fp32")
                throw InputError(std::string("--framework-option ") + key + "=" + framework_option(c, key) +
                                 ": Megatron takes a lower-precision optimizer dtype with --use-precision-aware-optimizer only "
                                 "(--framework-option use_precision_aware_optimizer=true)");
        if (aware && c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam)
            throw InputError(std::string("--framework-option use_precision_aware_optimizer=true with --optimizer ") +
                             to_string(c.optimizer) + ": Megatron supports it with adam only (optimizer_config.py)");
        if (aware && p.zero == 0)
            throw InputError("--framework-option use_precision_aware_optimizer=true with --zero 0: Megatron supports it with the "
                             "distributed optimizer only (--zero 1; optimizer/__init__.py)");
        for (const char* key : {"first_last_layers_bf16", "keep_mtp_spec_in_bf16"})
            if (framework_option_flag(c, key) && !precision_traits(c.precision).quantized_linears)
                throw InputError(std::string("--framework-option ") + key + "=true keeps linears in BF16 under an fp8 or fp4 recipe: "
                                 "it needs --precision fp8, mxfp8 or nvfp4");
        for (const char* key : {"num_layers_at_start_in_bf16", "num_layers_at_end_in_bf16"}) {
            const double n = framework_option_number(c, key, 0, m.n_layers);
            if (n != std::floor(n)) throw InputError(std::string("--framework-option ") + key + "=" + framework_option(c, key) + ": must be a whole number of layers");
        }
        for (const std::string& mod : option_items(c, "bf16_linears")) {
            if (mod != "attention" && mod != "moe_latent")
                throw InputError("--framework-option bf16_linears=" + framework_option(c, "bf16_linears") + ": '" + mod +
                                 "' is not one llmplan models (attention, moe_latent)");
            if (!precision_traits(c.precision).quantized_linears)
                throw InputError("--framework-option bf16_linears needs --precision fp8, mxfp8 or nvfp4");
        }
        // (unfused and local: --attention eager, which the Megatron import sets beside it)
        framework_option_choice(c, "attention_backend", {"auto", "fused", "flash", "unfused", "local"});
        const std::string impl = framework_option_choice(c, "cuda_graph_impl", {"none", "local", "transformer_engine", "full_iteration"});
        for (const std::string& mod : option_items(c, "cuda_graph_modules"))
            if (!listed(kCudaGraphModules, mod))
                throw InputError("--framework-option cuda_graph_modules=" + framework_option(c, "cuda_graph_modules") + ": '" +
                                 mod + "' is not one of Megatron's (" + join(kCudaGraphModules, ", ") + ")");
        if (framework_option_given(c, "cuda_graph_modules") && impl != "local" && impl != "transformer_engine")
            throw InputError("--framework-option cuda_graph_modules: Megatron takes them with cuda_graph_impl local or "
                             "transformer_engine (per-layer graphs), not " + impl);
        const double units = framework_option_number(c, "recompute_num_layers", 1, 1 << 20);
        if (units != std::floor(units))
            throw InputError("--framework-option recompute_num_layers=" + framework_option(c, "recompute_num_layers") +
                             ": must be a whole number of layers");
        const bool method_given =
            framework_option_given(c, "recompute_method") || framework_option_given(c, "recompute_num_layers");
        if (method_given && c.recompute != Recompute::full)
            throw InputError("--framework-option recompute_method / recompute_num_layers: Megatron takes them with "
                             "--recompute full only (selective recomputes the core attention of every layer)");
        for (const char* option : {"fp8_param_gather", "fp4_param_gather"})
            if (framework_option_flag(c, option) && param_gather_option(c.precision) != option)
                throw InputError(std::string("--framework-option ") + option + "=true needs --precision " +
                                 (std::string(option) == "fp4_param_gather" ? "nvfp4" : "fp8 or mxfp8") + " (Transformer Engine)");
        if (framework_option_flag(c, "grad_reduce_in_bf16") && c.precision != Precision::mixed_bf16 &&
            !precision_traits(c.precision).quantized_linears)
            throw InputError("--framework-option grad_reduce_in_bf16=true needs --precision mixed-bf16, fp8, mxfp8 or nvfp4 (--bf16)");
        if (framework_option_flag(c, "accumulate_allreduce_grads_in_fp32") && c.precision != Precision::mixed_fp16)
            throw InputError("--framework-option accumulate_allreduce_grads_in_fp32=true is for --precision mixed-fp16; "
                             "under --bf16 it is always on");
        const std::string dispatcher = framework_option_choice(c, "moe_token_dispatcher_type", {"allgather", "alltoall", "flex"});
        if (framework_option_flag(c, "overlap_moe_expert_parallel_comm")) {
            // transformer_config.py __post_init__: expert parallelism, alltoall or flex, virtual
            // pipeline stages when pipelined, no full recompute.
            const std::string o = "--framework-option overlap_moe_expert_parallel_comm=true";
            if (p.ep < 2) throw InputError(o + " needs expert parallelism (--ep > 1)");
            if (dispatcher == "allgather") throw InputError(o + " needs moe_token_dispatcher_type alltoall or flex");
            if (p.pp > 1 && p.virtual_stages < 2)
                throw InputError(o + " with --pp > 1 needs --virtual-stages > 1 (Megatron: virtual pipeline stages)");
            if (c.recompute == Recompute::full) throw InputError(o + " does not run with --recompute full");
        }
        const bool modules_given = framework_option_given(c, "recompute_modules");
        if (modules_given && c.recompute != Recompute::selective)
            throw InputError("--framework-option recompute_modules: Megatron takes --recompute-modules with "
                             "--recompute-granularity selective (--recompute selective)");
        if (c.recompute == Recompute::selective && recompute_modules(c).empty())
            throw InputError("--framework-option recompute_modules=" + framework_option(c, "recompute_modules") +
                             ": name at least one module (" + join(kRecomputeModules, ", ") + ")");
        for (const std::string& mod : recompute_modules(c))
            if (!listed(kRecomputeModules, mod))
                throw InputError("--framework-option recompute_modules=" + framework_option(c, "recompute_modules") +
                                 ": '" + mod + "' is not modelled (modelled: " + join(kRecomputeModules, ", ") +
                                 "; the others Megatron names are not)");
    }

    double allocator_reserve(const TrainConfig&) const override { return kGenericFragmentation; }

    StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i,
                           bool explain) const override {
        const ParallelLayout& p = c.parallel;

        // --- activations: the generic saved tensors, with Megatron's full-recompute methods ---------
        StageMemory g;
        if (c.recompute == Recompute::full) {
            // Per model chunk (recompute.py): uniform checkpoints units of k layers (the last may be
            // shorter), block the first k layers one by one.
            const std::string method = framework_option(c, "recompute_method");
            const int k = static_cast<int>(framework_option_number(c, "recompute_num_layers", 1, 1 << 20));
            const bool uniform = method == "uniform";
            double recomputed = 0, units = 0;
            int unit = 1;
            for (const LayerRange& r : stage_layer_ranges(m, p, i)) {
                recomputed += uniform ? r.count : std::min(k, r.count);
                units += uniform ? (r.count + k - 1) / k : std::min(k, r.count);
                if (uniform) unit = std::max(unit, std::min(k, r.count));
            }
            g = generic_stage_with_layer_recompute(
                m, tensors, c, i, recomputed, units, unit,
                "--recompute-granularity full --recompute-method " + method + " --recompute-num-layers " + std::to_string(k),
                explain);
        } else if (const std::vector<std::string> modules = recompute_modules(c); !modules.empty()) {
            // --recompute-modules: the generic stage without recompute, less the modules' tensors.
            TrainConfig none = c;
            none.recompute = Recompute::none;
            g = plan_generic_stage(m, tensors, none, i, explain);
            double kept = 0, layers = 0, working = 0;
            for (const LayerGroup& lg : stage_layer_groups(m, p, i)) {
                const double all = saved_bytes(layer_saved_tensors(m, none, Recompute::none, lg.kind), activation_shape(none));
                const double k = kept_layer_bytes(m, none, lg.kind, modules);
                kept += lg.count * k;
                layers += lg.count;
                working = std::max(working, all - k);  // one layer's recomputed tensors during its backward
            }
            const double before = g.activations_per_layer, per_layer = layers > 0 ? kept / layers : before;
            g.activations -= (before - per_layer) * g.layer_microbatches;
            g.activations_per_layer = per_layer;
            g.recompute_working = working;
            if (explain)
                for (MemoryTerm& t : g.terms)
                    if (t.key == "activations")
                        t.formula = stage_gib(per_layer) + " per layer per micro-batch (--recompute-modules " +
                                    join(modules, " ") + "; without them " + stage_gib(before) + ") × " +
                                    stage_number(g.layer_microbatches) + " layer·micro-batches in flight";
        } else {
            g = plan_generic_stage(m, tensors, c, i, explain);
        }

        // --- model states ------------------------------------------------------------------------------
        std::vector<StagePart> parts =
            p.zero >= 2 ? megatron_fsdp_states(m, tensors, c, i)
            : c.lora.enabled() ? megatron_peft_states(m, tensors, c, i)
                               : megatron_ddp_states(m, tensors, c, i, explain);
        // --- activations, logits, recompute, buffers ----------------------------------------------------
        for (StagePart& part : generic_activation_parts(g, "Korthikanti et al. 2022 (docs/MEMORY_MODEL.md §4); "
                                                            "Megatron's own estimate: training/theoretical_memory_usage.py"))
            parts.push_back(std::move(part));
        if (i == 0) {  // the embedding's int64 input token ids, one set per micro-batch in flight
            const double in_flight =
                std::min<double>(p.pp, static_cast<double>(std::max<std::int64_t>(1, c.grad_accum())));
            const double ids = 8.0 * static_cast<double>(c.seq) / p.cp * static_cast<double>(c.micro_batch) * in_flight;
            parts.push_back({StageField::activations, in_forward_and_backward,
                             {"input_ids", "input token ids", ids,
                              "8 B (int64) × s·b × " + stage_number(in_flight) + " micro-batches in flight",
                              kSource + ": training/theoretical_memory_usage.py (\"input to embedding\")"}});
        }
        if (g.communication_buffers > 0)
            parts.push_back({StageField::communication_buffers, in_every_phase,
                             {"communication_buffers", "pipeline send/receive buffers", g.communication_buffers,
                              "2 × s·b·h × activation bytes" + std::string(p.sp ? " ÷ tp" : "") +
                                  " (no other: the distributed optimizer reduces and gathers in its buffers)",
                              kSource + ": pipeline_parallel/p2p_communication.py"}});
        if (const double moe_layers = stage_moe_layers(m, p, i);
            moe_layers > 0 && p.tp * p.ep > 1 && framework_option(c, "moe_token_dispatcher_type") == "allgather") {
            // The tp·ep group's tokens: each rank's s·b (÷ tp with sequence parallelism) × tp·ep.
            const double tokens =
                static_cast<double>(c.seq) / p.cp * static_cast<double>(c.micro_batch) * p.ep * (p.sp ? 1 : p.tp);
            const double bytes = tokens * (m.expert_width() * 2.0 + m.n_experts * 5.0);  // latent MoE: latent-width tokens
            parts.push_back({StageField::temporary, in_forward_and_backward,
                             {"moe_dispatcher", "MoE allgather token dispatcher", bytes,
                              "one MoE layer's gathered tokens of the tp × ep group: " +
                                  (p.sp ? "ep " + std::to_string(p.ep) : "tp × ep " + std::to_string(p.tp * p.ep)) + " × s·b = " +
                                  stage_count(tokens) + " tokens × (h × 2 B hidden + E " + std::to_string(m.n_experts) +
                                  " × (4 B probabilities + 1 B routing map))",
                              kSource + ": transformer/moe/token_dispatcher.py (MoEAllGatherTokenDispatcher)"}});
        }
        return compose_stage(std::move(g), parts, kGenericFragmentation, explain);
    }

    std::string stack_description(const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        std::string s = "Megatron-Core (Megatron-LM d98e8a64): ";
        s += c.precision == Precision::fp32 ? "fp32" : c.precision == Precision::mixed_fp16 ? "--fp16" : "--bf16";
        if (const std::string option = param_gather_option(c.precision); !option.empty())
            s += std::string(" + Transformer Engine ") +
                 (c.precision == Precision::nvfp4   ? "NVFP4 (--fp4-format e2m1 --fp4-recipe nvfp4: "
                  : c.precision == Precision::mxfp8 ? "MXFP8 (--fp8-recipe mxfp8: "
                                                    : "fp8 (") +
                 "layers' linears" + (framework_option_flag(c, option) ? ", --" + option.substr(0, 3) + "-param-gather" : "") + ")";
        const double gb = megatron_grad_bytes(c);
        if (p.zero < 2) s += std::string(", ") + (gb == 4 ? "fp32" : "16-bit") + " main-grad buffer";
        s += p.zero == 1   ? ", --use-distributed-optimizer (fp32 main params + Adam over dp × cp)"
             : p.zero == 3 ? ", Megatron FSDP (--use-megatron-fsdp --data-parallel-sharding-strategy optim_grads_params: "
                             "parameters, gradients, fp32 main params and Adam sharded over dp × cp)"
             : p.zero == 2 ? ", Megatron FSDP (--use-megatron-fsdp --data-parallel-sharding-strategy optim_grads: "
                             "gradients, fp32 main params and Adam sharded over dp × cp)"
                           : ", no distributed optimizer (fp32 main params + Adam on every rank)";
        if (const std::string impl = framework_option(c, "cuda_graph_impl"); impl != "none") {
            const std::string modules = framework_option(c, "cuda_graph_modules");
            s += ", CUDA graphs " + impl + (impl == "full_iteration" ? "" : modules.empty() ? " (whole layers)" : " (" + modules + ")");
        }
        if (framework_option_flag(c, "use_precision_aware_optimizer"))
            s += ", --use-precision-aware-optimizer (exp_avg " + framework_option(c, "exp_avg_dtype") + ", exp_avg_sq " +
                 framework_option(c, "exp_avg_sq_dtype") + ", main params " + stage_number(megatron_main_param_bytes(c)) + " B)";
        if (c.lora.enabled())
            s += ", LoRA as Megatron Bridge's PEFT (the base frozen: main grads, main params and Adam for the adapters only)";
        if (p.tp > 1) s += p.sp ? ", TP + sequence parallel" : ", TP";
        if (p.cp > 1) s += ", context parallel";
        if (p.pp > 1) s += p.virtual_stages > 1 ? ", interleaved 1F1B" : ", 1F1B";
        if (c.recompute == Recompute::selective)
            s += ", --recompute-granularity selective --recompute-modules " + join(recompute_modules(c), " ");
        if (c.recompute == Recompute::full)
            s += ", --recompute-granularity full --recompute-method " + framework_option(c, "recompute_method") +
                 " --recompute-num-layers " + framework_option(c, "recompute_num_layers");
        if (p.ep > 1) {
            const std::string d = framework_option(c, "moe_token_dispatcher_type");
            s += ", MoE " + d + " token dispatcher" + (d == "flex" ? " (DeepEP/HybridEP: once per destination node and GPU)" : "");
            if (framework_option_flag(c, "overlap_moe_expert_parallel_comm")) s += ", --overlap-moe-expert-parallel-comm";
        }
        if (p.tp > 1 && framework_option_flag(c, "tp_comm_overlap")) s += ", --tp-comm-overlap";
        s += ", --overlap-grad-reduce";
        if (p.zero == 1 && framework_option_flag(c, "overlap_param_gather")) s += " --overlap-param-gather";
        if (framework_option_flag(c, "cross_entropy_loss_fusion")) s += ", --cross-entropy-loss-fusion";
        // Named alone, the profile plans the settings of Megatron-LM's own performance runs
        // (performance_default), not its bare argument defaults.
        if (c.framework == Framework::megatron && c.framework_options.empty()) {
            std::vector<std::string> what;
            for (const PerformanceDefault& d : performance_defaults()) what.emplace_back(d.what);
            s += "; named alone: Megatron-LM's performance settings (its README's benchmark and MoE performance tips: " +
                 join(what, ", ") +
                 "), not its bare argument defaults (--framework-option KEY=false, or moe_token_dispatcher_type=alltoall, sets "
                 "one back); a NeMo / Megatron Bridge recipe is --framework megatron-bridge";
        }
        return s;
    }

    std::string no_fit_hint() const override {
        return "; try more GPUs, --zero 1 (distributed optimizer), --tp/--pp, --recompute selective or full\n";
    }

private:
    // MoE layers on the stage (interleaved chunks included).
    static double stage_moe_layers(const ModelSpec& m, const ParallelLayout& p, int stage) {
        double n = 0;
        for (const LayerGroup& g : stage_layer_groups(m, p, stage))
            if (g.kind.moe) n += g.count;
        return n;
    }
};

// --framework megatron-bridge: the same Megatron-Core code, under the defaults of Megatron Bridge's
// performance recipes (NeMo's training library since 25.09; NVIDIA-NeMo/Megatron-Bridge 067f987d,
// docs/MEMORY_MODEL.md §9, "megatron-bridge"): what a NeMo performance table's run sets unless its
// recipe says otherwise. The recipes set Megatron's performance defaults above (recipes/common.py
// _pretrain_common: DistributedDataParallelConfig(overlap_grad_reduce=True, overlap_param_gather=True,
// use_distributed_optimizer=True); models/gpt_provider.py: cross_entropy_loss_fusion = True;
// training/mixed_precision.py: every fp8 and mxfp8 recipe sets fp8_param_gather = True; the recipes'
// CommOverlapConfig(tp_comm_overlap=True), which training/comm_overlap.py turns off below tp 2 or
// without sequence parallelism; the MoE performance recipes since 26.02 the flex dispatcher, DeepEP
// or HybridEP — the model providers' own default is alltoall, which older tables ran), and two more,
// each with the file that sets it:
//   grad_reduce_in_bf16       true   under bf16 precisions: perf_recipes/_common.py _benchmark_common and
//                                    _perf_precision set grad_reduce_in_fp32 = False (mixed and ddp)
//   use_precision_aware_optimizer true  under mixed-bf16 with adam and the distributed optimizer (--zero 1):
//                                    scripts/performance/utils/overrides.py at v0.4.2 (bf16 runs with Adam),
//                                    off under Megatron FSDP
// Everything else (CUDA graphs, recompute modules, the MoE overlap) is per recipe and stays Megatron's
// default until given.
class MegatronBridgeProfile final : public MegatronProfile {
public:
    Framework framework() const override { return Framework::megatron_bridge; }

    std::vector<FrameworkOption> options() const override {
        std::vector<FrameworkOption> out = MegatronProfile::options();
        for (FrameworkOption& o : out)
            if (const BridgeDefault* d = bridge_default(o.key)) o.default_value = d->shown;
        return out;
    }

    std::string option_default(const TrainConfig& c, const FrameworkOption& o) const override {
        if (const BridgeDefault* d = bridge_default(o.key)) return d->value(c);
        return MegatronProfile::option_default(c, o);
    }

    std::string stack_description(const TrainConfig& c) const override {
        return "Megatron Bridge's performance-recipe defaults (067f987d) on " + MegatronProfile::stack_description(c);
    }

private:
    // Each default Megatron Bridge adds to Megatron's once: the key, how the options' listing shows
    // it, and its value for a job.
    using BridgeDefault = PerformanceDefault;
    static const BridgeDefault* bridge_default(const std::string& key) {
        static const BridgeDefault table[] = {
            {"grad_reduce_in_bf16", "true under bf16, fp8, mxfp8 and nvfp4",
             [](const TrainConfig& c) { return flag(c.precision == Precision::mixed_bf16 || precision_traits(c.precision).quantized_linears); }},
            {"use_precision_aware_optimizer", "true under mixed-bf16 with adam and --zero 1",
             [](const TrainConfig& c) {
                 return flag(c.precision == Precision::mixed_bf16 && c.parallel.zero == 1 &&
                             (c.optimizer == Optimizer::adamw || c.optimizer == Optimizer::adam));
             }},
        };
        return find_default(table, key);
    }
};

}  // namespace

std::shared_ptr<const FrameworkProfile> make_megatron_profile() { return std::make_shared<const MegatronProfile>(); }
std::shared_ptr<const FrameworkProfile> make_megatron_bridge_profile() { return std::make_shared<const MegatronBridgeProfile>(); }

}  // namespace llmplan
