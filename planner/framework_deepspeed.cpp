// framework_deepspeed.cpp — the `deepspeed` framework profile: DeepSpeed's engine and ZeRO
// optimizers as implemented in microsoft/DeepSpeed v0.16.5 (commit 38327e07; docs/MEMORY_MODEL.md
// §10 names the files and compares with DeepSpeed's own estimators):
//  * --zero 0: fp16 keeps fp16 parameters and gradients, fp32 master and Adam on every rank
//    (FP16_Optimizer); bf16 accumulates into a full fp32 gradient buffer beside the bf16 gradients
//    and shards the fp32 master and Adam over data-parallel ranks (BF16_Optimizer);
//  * --zero 1/2 (stage_1_and_2.py): the 16-bit parameters whole; stage 1 the whole 16-bit gradients,
//    stage 2 a 16-bit gradient partition; the contiguous-gradients bucket of reduce_bucket_size
//    elements (two with overlap_comm) through the backward; the fp32 master and Adam partition; at
//    the optimizer step an fp32 copy of the gradient partition;
//  * --zero 3 (stage3.py): 16-bit parameter and gradient partitions, parameters under
//    stage3_param_persistence_threshold elements kept whole, the reduce bucket, the gathered
//    working set (the module being computed and the stage3_prefetch_bucket_size elements fetched
//    ahead, at most stage3_max_live_parameters) and, at the step, the fp32 gradient of one
//    sub-group (sub_group_size elements at most);
//  * offload (ZeRO-Offload / ZeRO-Infinity): the optimizer's fp32 state (and with stage 3 the
//    parameter partition) in CPU memory;
//  * activations as the generic model; the pipeline engine (PipelineModule) with ZeRO 0/1 only.
#include "planner/framework.h"
#include "planner/framework_stage.h"
#include "planner/model_states.h"

#include "core/error.h"
#include "core/text.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace llmplan {

namespace {

const std::string kSource = "DeepSpeed v0.16.5 (docs/MEMORY_MODEL.md §10)";

// The per-tensor quantities stage 3 needs, on one GPU of a stage (after the tensor split).
struct DsTensors {
    double largest = 0;      // elements of the largest single parameter (one module's weight)
    std::string largest_name;
    double persistent = 0;   // elements of the parameters under the persistence threshold (kept whole)
};

DsTensors ds_tensors(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int stage,
                     double threshold) {
    const ParallelLayout& p = c.parallel;
    const std::vector<LayerRange> ranges = stage_layer_ranges(m, p, stage);
    const StageCopies copies_here(m, ranges);
    const bool first = stage == 0, last = stage == p.pp - 1;
    DsTensors d;
    for (const ParamTensor& t : tensors) {
        const bool here = t.block == Block::layer || (first && t.block == Block::embedding) ||
                          (last && (t.block == Block::final_norm || t.block == Block::head || t.block == Block::mtp));
        if (!here) continue;
        const double copies = copies_here(t) / (t.expert ? p.ep : 1);
        if (copies <= 0) continue;
        double rows = 0, cols = 0;
        local_shape(t, p, rows, cols);
        const double elems = rows * cols;
        if (elems > d.largest) {
            d.largest = elems;
            d.largest_name = t.name;
        }
        if (elems < threshold) d.persistent += elems * copies;
    }
    return d;
}

double option_count(const TrainConfig& c, const char* key) { return framework_option_number(c, key, 0, 1e15); }

class DeepspeedProfile final : public FrameworkProfile {
public:
    Framework framework() const override { return Framework::deepspeed; }

    // zero_optimization's keys and defaults (runtime/zero/config.py).
    std::vector<FrameworkOption> options() const override {
        return {
            {"reduce_bucket_size", "5e8"},                   // elements of the gradient reduce bucket
            {"contiguous_gradients", "true"},                // gradients copied into the bucket as produced
            {"overlap_comm", "default"},                     // default: true for stage 3, else false (two buckets)
            {"stage3_prefetch_bucket_size", "5e7"},          // elements fetched ahead
            {"stage3_param_persistence_threshold", "1e5"},   // smaller parameters stay whole
            {"stage3_max_live_parameters", "1e9"},           // elements gathered at most at once
            {"sub_group_size", "1e9"},                       // elements the optimizer steps at a time
            // Megatron-DeepSpeed's fused attention: --use-flash-attn-v2 (flash2), --use-flash-attn-v1
            // (flash1), --use-flash-attn-triton (triton); attention_kernel_family, framework.h.
            {kAttentionKernelOption, "flash2"},
        };
    }
    AttentionKernel attention_kernel(const TrainConfig& c) const override { return attention_kernel_option(c); }

    void validate(const ModelSpec&, const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        if (c.precision != Precision::mixed_bf16 && c.precision != Precision::mixed_fp16 && c.precision != Precision::fp32)
            throw InputError(std::string("--precision ") + to_string(c.precision) +
                             " under --framework deepspeed: DeepSpeed trains in fp32, \"bf16\" (mixed-bf16) or \"fp16\" "
                             "(mixed-fp16) with fp32 master weights");
        if (p.pp > 1 && p.zero >= 2)
            throw InputError("--zero " + std::to_string(p.zero) + " with --pp " + std::to_string(p.pp) +
                             ": DeepSpeed's pipeline engine runs ZeRO-0 or ZeRO-1 only (\"ZeRO-2 and ZeRO-3 are "
                             "incompatible with pipeline parallelism\", runtime/pipe/engine.py)");
        if (p.cp > 1)
            throw InputError("--cp under --framework deepspeed: DeepSpeed's sequence parallelism is Ulysses (all-to-all "
                             "over heads), which this profile does not model");
        if (c.optimizer == Optimizer::adafactor || c.optimizer == Optimizer::adamw_8bit)
            throw InputError(std::string("--optimizer ") + to_string(c.optimizer) +
                             " under --framework deepspeed: not modelled (ZeRO steps flat fp32 partitions; adafactor's "
                             "factored and bitsandbytes' 8-bit states are per tensor)");
        if (c.offload != Offload::none && p.zero == 0)
            throw InputError("--offload " + std::string(to_string(c.offload)) +
                             " under --framework deepspeed needs --zero 1, 2 or 3 (offload_optimizer is a ZeRO setting)");
        if (c.offload == Offload::optimizer_params && p.zero != 3)
            throw InputError("--offload optimizer+params under --framework deepspeed needs --zero 3 (\"offload_param: "
                             "valid only with stage 3\", runtime/zero/config.py)");
        if (c.lora.enabled()) throw InputError("--lora-rank under --framework deepspeed: not modelled (use --framework generic)");
        for (const char* key : {"reduce_bucket_size", "stage3_prefetch_bucket_size", "stage3_param_persistence_threshold",
                                "stage3_max_live_parameters", "sub_group_size"})
            option_count(c, key);
        framework_option_flag(c, "contiguous_gradients");
        framework_option_choice(c, "overlap_comm", {"default", "true", "false"});
        validate_attention_kernel_option(c);
    }

    double allocator_reserve(const TrainConfig&) const override { return kGenericFragmentation; }

    StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i,
                           bool explain) const override {
        const ParallelLayout& p = c.parallel;
        StageMemory g = plan_generic_stage(m, tensors, c, i, explain);
        const StageParams sp = stage_params(m, tensors, c, i);
        const double psi = sp.dense + sp.expert;
        const double N = p.shard_group(), Ne = p.expert_shard_group();
        const double shard = sp.dense / N + sp.expert / Ne;            // elements of one partition
        const double state_shard = sp.dense_state / N + sp.expert_state / Ne;
        const bool fp32 = c.precision == Precision::fp32, bf16 = c.precision == Precision::mixed_bf16;
        const double w = fp32 ? 4 : 2;                                  // the model's (and ZeRO's gradient) dtype
        const std::string wname = fp32 ? "fp32" : bf16 ? "bf16" : "fp16";
        const bool offload = c.offload != Offload::none;
        const bool contiguous = framework_option_flag(c, "contiguous_gradients");
        const std::string overlap_opt = framework_option(c, "overlap_comm");
        const bool overlap = overlap_opt == "default" ? p.zero == 3 : overlap_opt == "true";
        const double bucket = option_count(c, "reduce_bucket_size");
        const std::string on_gpu = stage_count(psi) + " params";
        const std::string part_note = " ÷ " + stage_number(N) + " (partition over data-parallel ranks" +
                                      (sp.expert > 0 && Ne != N ? "; experts ÷ " + stage_number(Ne) : std::string()) + ")";
        const std::string s12 = kSource + ": runtime/zero/stage_1_and_2.py";
        const std::string s3 = kSource + ": runtime/zero/stage3.py";
        std::vector<StagePart> parts;
        double cpu = 0;
        std::vector<std::string> cpu_parts;
        auto add = [&](StageField f, unsigned phases, std::string key, std::string label, double bytes, std::string formula,
                       std::string source) {
            parts.push_back({f, phases, {std::move(key), std::move(label), bytes, std::move(formula), std::move(source)}});
        };
        auto to_cpu = [&](const std::string& what, double bytes) {
            cpu += bytes;
            cpu_parts.push_back(what + " " + stage_gib(bytes));
        };
        const std::string master_formula = on_gpu + " × 4 B" + part_note;
        const std::string state_formula = on_gpu + " × " + optimizer_state_description(c.optimizer) + " (fp32)" + part_note;

        if (p.zero == 0) {
            add(StageField::parameters, in_every_phase, "parameters", "parameters", w * psi, on_gpu + " × " + stage_number(w) + " B (" + wname + ")",
                kSource + ": runtime/engine.py");
            if (fp32) {
                add(StageField::gradients, in_every_phase, "gradients", "gradients", 4 * psi, on_gpu + " × 4 B (fp32)", kSource + ": runtime/engine.py");
                add(StageField::optimizer_states, in_every_phase, "optimizer", "optimizer state", sp.dense_state + sp.expert_state,
                    on_gpu + " × " + optimizer_state_description(c.optimizer) + " (fp32), every rank", kSource + ": runtime/engine.py");
            } else if (bf16) {  // BF16_Optimizer: fp32 gradient accumulation, fp32 master and Adam over dp
                add(StageField::gradients, in_every_phase, "gradients", "bf16 gradients", 2 * psi,
                    on_gpu + " × 2 B (bf16 .grad, zeroed not freed after each accumulation)", kSource + ": runtime/bf16_optimizer.py");
                add(StageField::gradients, in_every_phase, "gradients_fp32", "fp32 gradient accumulation buffer", 4 * psi,
                    on_gpu + " × 4 B (fp32_groups_gradients_flat, whole on every rank)", kSource + ": runtime/bf16_optimizer.py");
                add(StageField::master, in_every_phase, "master", "fp32 master parameters", 4 * shard, master_formula,
                    kSource + ": runtime/bf16_optimizer.py (fp32_groups_flat_partition)");
                add(StageField::optimizer_states, in_every_phase, "optimizer", "optimizer state", state_shard, state_formula,
                    kSource + ": runtime/bf16_optimizer.py");
            } else {  // FP16_Optimizer: everything on every rank
                add(StageField::gradients, in_every_phase, "gradients", "gradients", 2 * psi, on_gpu + " × 2 B (fp16)",
                    kSource + ": runtime/fp16/fused_optimizer.py");
                add(StageField::master, in_every_phase, "master", "fp32 master parameters", 4 * psi, on_gpu + " × 4 B, every rank",
                    kSource + ": runtime/fp16/fused_optimizer.py");
                add(StageField::optimizer_states, in_every_phase, "optimizer", "optimizer state", sp.dense_state + sp.expert_state,
                    on_gpu + " × " + optimizer_state_description(c.optimizer) + " (fp32), every rank",
                    kSource + ": runtime/fp16/fused_optimizer.py");
            }
        } else if (p.zero <= 2) {
            add(StageField::parameters, in_every_phase, "parameters", "parameters", w * psi,
                on_gpu + " × " + stage_number(w) + " B (" + wname + " bit16_groups_flat, whole on every rank)", s12);
            if (p.zero == 1)
                add(StageField::gradients, in_every_phase, "gradients", "gradients", w * psi,
                    on_gpu + " × " + stage_number(w) + " B (" + wname + " .grad of every parameter, reduced at the accumulation boundary)", s12);
            else if (!offload)
                add(StageField::gradients, in_every_phase, "gradients", "gradient partition", w * shard,
                    on_gpu + " × " + stage_number(w) + " B (" + wname + " grads_in_partition)" + part_note, s12);
            if (contiguous || offload) {
                const double buffers = overlap ? 2 : 1;
                add(StageField::communication_buffers, in_forward_and_backward, "reduce_bucket", "reduce bucket",
                    buffers * bucket * w,
                    stage_number(buffers) + " × reduce_bucket_size " + stage_count(bucket) + " × " + stage_number(w) +
                        " B (contiguous_gradients ipg_buffer" + (overlap ? ", doubled by overlap_comm" : "") +
                        ", allocated by every backward, released at the step)",
                    s12 + " (backward)");
            }
            if (p.zero == 2) {
                const DsTensors d = ds_tensors(m, tensors, c, i, 0);
                add(StageField::temporary, at_backward, "gradient_in_flight", "one gradient before the bucket", w * d.largest,
                    stage_count(d.largest) + " elements of " + d.largest_name + " × " + stage_number(w) +
                        " B (autograd's gradient, copied into the bucket by its hook)", s12);
            }
            if (!fp32) {
                if (offload) {
                    to_cpu("fp32 master", 4 * shard);
                } else {
                    add(StageField::master, in_every_phase, "master", "fp32 master partition", 4 * shard, master_formula,
                        s12 + " (single_partition_of_fp32_groups)");
                }
            }
            if (offload) {
                to_cpu("optimizer state", state_shard);
                to_cpu("fp32 gradient partition", 4 * shard);
            } else {
                add(StageField::optimizer_states, in_every_phase, "optimizer", "optimizer state", state_shard, state_formula, s12);
                add(StageField::temporary, at_optimizer_step, "gradient_fp32_partition", "fp32 gradient partition",
                    4 * shard, on_gpu + " × 4 B" + part_note + " (the partition's gradients flattened into fp32 for the step)",
                    s12 + " (step)");
            }
        } else {  // ZeRO-3
            const DsTensors d = ds_tensors(m, tensors, c, i, option_count(c, "stage3_param_persistence_threshold"));
            const double partitioned = shard - d.persistent * (sp.dense > 0 ? 1 / N : 0);
            const double params_gpu = w * (partitioned + d.persistent);
            const std::string params_formula = "(" + stage_count(psi) + " params" + part_note + " + " + stage_count(d.persistent) +
                                               " in parameters under stage3_param_persistence_threshold kept whole) × " +
                                               stage_number(w) + " B (" + wname + ")";
            if (c.offload == Offload::optimizer_params) {
                to_cpu("parameter partition", w * partitioned);
                add(StageField::parameters, in_every_phase, "parameters", "persistent parameters", w * d.persistent,
                    stage_count(d.persistent) + " in parameters under stage3_param_persistence_threshold × " + stage_number(w) +
                        " B; the partition is in CPU memory (offload_param)", s3);
            } else {
                add(StageField::parameters, in_every_phase, "parameters", "parameter partition", params_gpu, params_formula, s3);
            }
            if (offload) {
                to_cpu("gradient partition", w * shard);
            } else {
                add(StageField::gradients, in_every_phase, "gradients", "gradient partition", w * shard,
                    on_gpu + " × " + stage_number(w) + " B (" + wname + " grad_partitions_flat_buffer)" + part_note, s3);
            }
            if (contiguous)
                add(StageField::communication_buffers, in_every_phase, "reduce_bucket", "reduce bucket", bucket * w,
                    "reduce_bucket_size " + stage_count(bucket) + " × " + stage_number(w) +
                        " B (contiguous_gradients ipg bucket, allocated with the optimizer)", s3);
            const double prefetch = option_count(c, "stage3_prefetch_bucket_size");
            const double live = std::min(option_count(c, "stage3_max_live_parameters"), d.largest + prefetch);
            add(StageField::gathered, in_forward_and_backward, "gathered", "gathered parameters", w * live,
                "min(stage3_max_live_parameters, " + stage_count(d.largest) + " of the largest module " + d.largest_name +
                    " + stage3_prefetch_bucket_size " + stage_count(prefetch) + ") × " + stage_number(w) + " B",
                s3 + ", runtime/zero/partitioned_param_coordinator.py");
            add(StageField::temporary, at_backward, "gradient_in_flight", "one module's gradient", w * d.largest,
                stage_count(d.largest) + " elements of " + d.largest_name + " × " + stage_number(w) +
                    " B (its full gradient before the reduce-scatter)", s3);
            if (!fp32) {
                if (offload) to_cpu("fp32 master", 4 * shard);
                else
                    add(StageField::master, in_every_phase, "master", "fp32 master partition", 4 * shard, master_formula,
                        s3 + " (fp32_partitioned_groups_flat)");
            }
            const double sub_group = std::min(shard, option_count(c, "sub_group_size"));
            if (offload) {
                to_cpu("optimizer state", state_shard);
                to_cpu("fp32 gradients", 4 * shard);
            } else {
                add(StageField::optimizer_states, in_every_phase, "optimizer", "optimizer state", state_shard, state_formula, s3);
                add(StageField::temporary, at_optimizer_step, "gradient_fp32_subgroup", "fp32 gradient of one sub-group",
                    4 * sub_group,
                    "min(partition " + stage_count(shard) + ", sub_group_size) × 4 B (the sub-group's gradients cast to fp32 for its step)",
                    s3 + " (step)");
            }
        }
        for (StagePart& part : generic_activation_parts(g, "Korthikanti et al. 2022 (docs/MEMORY_MODEL.md §4)"))
            parts.push_back(std::move(part));
        if (p.pp > 1)
            add(StageField::communication_buffers, in_every_phase, "pipeline_buffers", "pipeline send/receive buffers",
                g.communication_buffers, "2 × s·b·h × activation bytes" + std::string(p.sp ? " ÷ tp" : ""),
                kSource + ": runtime/pipe/engine.py");
        StageMemory s = compose_stage(std::move(g), parts, kGenericFragmentation, explain);
        s.cpu_offload = cpu;
        if (explain && cpu > 0)
            for (MemoryTerm& t : s.terms)
                if (t.key == "optimizer" || t.key == "parameters")
                    t.formula += "; in CPU memory: " + join(cpu_parts, ", ");
        return s;
    }

    std::string stack_description(const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        std::string s = "DeepSpeed v0.16.5 engine: ";
        s += c.precision == Precision::fp32 ? "fp32" : c.precision == Precision::mixed_bf16 ? "bf16" : "fp16";
        if (p.zero == 0)
            s += c.precision == Precision::mixed_bf16 ? ", BF16_Optimizer (fp32 gradient buffer, fp32 master + Adam over dp)"
                                                      : ", no ZeRO";
        else
            s += ", ZeRO stage " + std::to_string(p.zero);
        if (c.offload == Offload::optimizer) s += ", offload_optimizer cpu";
        if (c.offload == Offload::optimizer_params) s += ", offload_optimizer + offload_param cpu";
        if (p.tp > 1) s += ", tensor parallel (Megatron-DeepSpeed mpu)";
        if (p.pp > 1) s += ", PipelineModule 1F1B";
        if (p.ep > 1) s += ", DeepSpeed-MoE expert parallel";
        if (c.recompute != Recompute::none) s += std::string(", activation checkpointing ") + to_string(c.recompute);
        const std::string overlap = framework_option(c, "overlap_comm");
        if (p.zero >= 1)
            s += "; reduce_bucket_size " + framework_option(c, "reduce_bucket_size") + ", contiguous_gradients " +
                 framework_option(c, "contiguous_gradients") + ", overlap_comm " +
                 (overlap == "default" ? std::string(p.zero == 3 ? "true" : "false") : overlap);
        if (p.zero == 3)
            s += ", stage3_prefetch_bucket_size " + framework_option(c, "stage3_prefetch_bucket_size") +
                 ", stage3_param_persistence_threshold " + framework_option(c, "stage3_param_persistence_threshold") +
                 ", stage3_max_live_parameters " + framework_option(c, "stage3_max_live_parameters") + ", sub_group_size " +
                 framework_option(c, "sub_group_size");
        return s;
    }

    std::string no_fit_hint() const override {
        return "; try more GPUs, a higher --zero stage, --offload optimizer (ZeRO-Offload) or --recompute full\n";
    }
};

}  // namespace

std::shared_ptr<const FrameworkProfile> make_deepspeed_profile() { return std::make_shared<const DeepspeedProfile>(); }

}  // namespace llmplan
