// framework_torchtitan.cpp — the `torchtitan` framework profile: pytorch/torchtitan (commit
// b5bcd76c) on PyTorch's FSDP2, DTensor tensor parallelism and torch.distributed.pipelining, with
// the conventions of their code (docs/MEMORY_MODEL.md §11 names the files):
//  * FSDP2 (fully_shard per transformer block, one unit for the embedding, one for final norm +
//    output layer) with MixedPrecisionPolicy(param_dtype=bf16, reduce_dtype=fp32): fp32 sharded
//    parameters (the optimizer's only copy), fp32 sharded gradients and Adam's states over the
//    data-shard × context ranks (--zero 2/3; --zero 0 replicates over data-parallel ranks);
//  * unsharded bf16 parameters: the unit being computed and the next one (FSDP2 prefetches one
//    unit) with reshard_after_forward, every unit of the stage without it (torchtitan's "default"
//    policy: reshard unless pipeline parallel; final norm + output layer are never resharded
//    after forward); in the backward the unit's bf16 gradients and their fp32 reduce-scatter input;
//  * with pipeline parallelism the pipelining stage turns gradient sync and reshard-after-backward
//    off until the last micro-batch: every unit stays unsharded and gradients accumulate unsharded
//    in fp32; the stage allocates a receive buffer per micro-batch;
//  * float8 (torchao, rowwise) on the transformer blocks' linears: weights stay as above, linear
//    inputs are saved in bf16 (the fp8 casts are redone in the backward);
//  * activation checkpointing: full (every block), selective by op (saves the outputs of matmuls —
//    every second one —, SDPA and the tensor-parallel reduce-scatters, recomputes the rest) or by
//    layer (every k-th block fully, torchtitan before 114151ad4);
//  * tensor parallelism always with sequence parallelism (the norms are SequenceParallel).
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

const std::string kSource = "torchtitan b5bcd76c (docs/MEMORY_MODEL.md §11)";
const std::string kFsdp = "PyTorch FSDP2 (docs/MEMORY_MODEL.md §11): torch/distributed/fsdp/_fully_shard";

// torchtitan's activation-checkpoint choice under --recompute selective: 0 = by op, k = every k-th layer.
int layer_sac_period(const TrainConfig& c) {
    const std::string v = framework_option(c, "selective_ac_option");
    if (to_lower(v) == "op") return 0;
    const double k = framework_option_number(c, "selective_ac_option", 1, 1 << 20);
    if (k != std::floor(k))
        throw InputError("--framework-option selective_ac_option=" + v + ": \"op\" or a whole number of layers");
    return static_cast<int>(k);
}

// The data-parallel shard group of dense parameters: dp_shard × cp (FSDP2 flattens the two).
int shard_ranks(const ParallelLayout& p) { return (p.zero >= 2 ? p.dp() : 1) * p.cp; }

// One layer, one micro-batch, bytes on one rank under torchtitan's per-op SAC: the block input and
// the outputs of the ops the policy saves (torchtitan/distributed/activation_checkpoint.py
// SelectiveAC, `_op_sac_save_list`): aten.mm (every second one in the block; a biased addmm is
// not aten.mm and is recomputed), SDPA (output and fp32 log-sum-exp) and the tensor-parallel
// reduce-scatters; aten.max (the float8 amax, a scalar). Float8 linears run torch._scaled_mm, not
// in the list: their outputs are recomputed. Before commit 88247277c (2025-02-06, "Remove abs from
// save list") the list also held aten.abs, so each float8 cast kept abs(x) of the tensor it casts:
// one per distinct linear input (the attention and MLP norm outputs, the attention output, the
// MLP's gated product; torch.compile's CSE merges wq/wk/wv's and w1/w3's identical casts) —
// --framework-option sac_saves_abs=true. A dense layer with standard attention (validate refuses
// the others).
double op_sac_layer_bytes(const ModelSpec& m, const TrainConfig& c, double act, std::string* how) {
    const double s = static_cast<double>(c.seq) / c.parallel.cp, b = static_cast<double>(c.micro_batch);
    const double sb = s * b, h = m.d_model, t = c.parallel.tp;
    const bool fp8 = c.precision == Precision::fp8;
    struct Mm {
        const char* name;
        double width;
        bool split;  // column-parallel (÷ t); row-parallel outputs are partial sums, s·b·h on every rank
        bool bias;
    };
    std::vector<Mm> mms{{"wq", static_cast<double>(m.q_dim()), true, m.qkv_bias},
                        {"wk", static_cast<double>(m.kv_dim()), true, m.qkv_bias},
                        {"wv", static_cast<double>(m.kv_dim()), true, m.qkv_bias},
                        {"wo", h, false, m.out_bias}};
    if (gated_mlp(m.activation)) {
        mms.push_back({"w1", static_cast<double>(m.d_ff), true, m.mlp_bias});
        mms.push_back({"w3", static_cast<double>(m.d_ff), true, m.mlp_bias});
    } else {
        mms.push_back({"w1", static_cast<double>(m.d_ff), true, m.mlp_bias});
    }
    mms.push_back({"w2", h, false, m.mlp_bias});
    double bytes = sb * h * act / t;  // the block's input (sequence-sharded under tensor parallelism)
    std::vector<std::string> kept{"block input"};
    if (!fp8) {
        int counted = 0;
        for (const Mm& mm : mms) {
            if (mm.bias) continue;  // addmm: not aten.mm, recomputed
            if (++counted % 2 == 1) {
                bytes += sb * mm.width * act / (mm.split ? t : 1);
                kept.emplace_back(mm.name);
            }
        }
    } else if (framework_option_flag(c, "sac_saves_abs")) {
        // abs(x) of each distinct float8 cast input, in the activations' dtype: the norm outputs
        // and the attention output are s·b·h (sequence-sharded with TP: cast before the gather),
        // the gated product s·b·f/tp.
        const double f = static_cast<double>(m.d_ff);
        bytes += sb * (3 * h / t + f / t) * act;
        kept.emplace_back("abs of the float8 casts' inputs (attention and MLP norm outputs, attention output, gated product)");
    }
    const double q = static_cast<double>(m.q_dim());
    bytes += sb * q * act / t + m.n_heads * sb * 4 / t;  // SDPA output and log-sum-exp
    kept.emplace_back("SDPA output + log-sum-exp");
    if (t > 1) {
        bytes += 2 * sb * h * act / t;
        kept.emplace_back("2 reduce-scatter outputs");
    }
    if (how) *how = join(kept, ", ");
    return bytes;
}

class TorchtitanProfile final : public FrameworkProfile {
public:
    Framework framework() const override { return Framework::torchtitan; }

    std::vector<FrameworkOption> options() const override {
        return {
            // parallelism.fsdp_reshard_after_forward, with --zero 3 or 0: default (reshard unless
            // pipeline parallel) | always | never; --zero 2 is never.
            {"reshard_after_forward_policy", "default"},
            // with --recompute selective: op (SelectiveAC) or k (every k-th block fully; torchtitan
            // before 114151ad4).
            {"selective_ac_option", "op"},
            // training.compile (torchtitan 9dec370 config_manager.py: store_true, off by default;
            // llama3_8b.toml compile = false): true = torch.compile per block, its element-wise
            // ops fused; false = eager (docs/PERFORMANCE_MODEL.md §2, "Eager element-wise kernels").
            {"compile", "false"},
            // torchtitan before 88247277c (2025-02-06) kept aten.abs under per-op SAC: float8 casts'
            // abs(x) tensors saved (true); since, nothing of a float8 linear is saved (false).
            {"sac_saves_abs", "false"},
        };
    }

    std::optional<ElementwiseChoice> elementwise_kernels(const TrainConfig& c) const override {
        const bool compiled = framework_option_flag(c, "compile");
        return ElementwiseChoice{compiled ? ElementwiseKernels::fused : ElementwiseKernels::eager, EagerCode::torchtitan,
                                 std::string("--framework-option compile=") + (compiled ? "true" : "false") +
                                     (compiled ? " (torch.compile fuses the element-wise ops)"
                                               : " (torchtitan's default: eager, its RMSNorm, complex-multiply RoPE and SwiGLU op by op)")};
    }

    void validate(const ModelSpec& m, const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        framework_option_flag(c, "compile");  // true or false, refused otherwise
        framework_option_flag(c, "sac_saves_abs");
        if (c.precision != Precision::mixed_bf16 && c.precision != Precision::bf16 && c.precision != Precision::fp32 &&
            c.precision != Precision::fp8)
            throw InputError(std::string("--precision ") + to_string(c.precision) +
                             " under --framework torchtitan: torchtitan trains with mixed_precision_param bfloat16 "
                             "(mixed-bf16), float32 (fp32), training.dtype bfloat16 (bf16) or float8 linears (fp8)");
        if (p.zero == 1)
            throw InputError("--zero 1 under --framework torchtitan: torchtitan replicates (--zero 0, "
                             "data_parallel_replicate_degree) or shards with FSDP2 (--zero 2 or 3)");
        if (p.zero == 0 && p.ep > 1)
            throw InputError("--ep " + std::to_string(p.ep) +
                             " under --framework torchtitan needs --zero 2 or 3 (experts are sharded over the FSDP ranks)");
        if (p.tp > 1 && !p.sp)
            throw InputError("--tp " + std::to_string(p.tp) +
                             " under --framework torchtitan needs --sp (its tensor-parallel plan shards the norms' "
                             "sequence: SequenceParallel)");
        if (c.attention != Attention::flash)
            throw InputError("--attention eager under --framework torchtitan: torchtitan runs attention through SDPA or "
                             "FlexAttention; use --attention flash");
        if (c.dropout > 0) throw InputError("--dropout under --framework torchtitan: its models have no dropout");
        if (c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam)
            throw InputError(std::string("--optimizer ") + to_string(c.optimizer) +
                             " under --framework torchtitan: torchtitan builds Adam or AdamW");
        if (c.offload == Offload::optimizer)
            throw InputError("--offload optimizer under --framework torchtitan: its CPU offload (FSDP2 CPUOffloadPolicy, "
                             "training.enable_cpu_offload) moves parameters, gradients and optimizer state together; "
                             "use --offload optimizer+params");
        if (c.lora.enabled()) throw InputError("--lora-rank under --framework torchtitan: not modelled (use --framework generic)");
        const bool policy_given = framework_option_given(c, "reshard_after_forward_policy");
        framework_option_choice(c, "reshard_after_forward_policy", {"default", "always", "never"});
        if (policy_given && p.zero == 2)
            throw InputError("--framework-option reshard_after_forward_policy with --zero 2: --zero 2 is FSDP2 without "
                             "resharding after forward; give the policy with --zero 3 (or 0)");
        const bool sac_given = framework_option_given(c, "selective_ac_option");
        const int period = layer_sac_period(c);
        if (sac_given && c.recompute != Recompute::selective)
            throw InputError("--framework-option selective_ac_option: torchtitan takes it with --recompute selective");
        if (c.recompute == Recompute::selective && period == 0 && (m.is_moe() || m.is_mla()))
            throw InputError("--recompute selective (per-op SAC) under --framework torchtitan: mixture-of-experts and "
                             "MLA layers are not modelled; use selective_ac_option=k, --recompute full or none");
    }

    double allocator_reserve(const TrainConfig&) const override { return kGenericFragmentation; }

    StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i,
                           bool explain) const override {
        const ParallelLayout& p = c.parallel;
        const bool pipelined = p.pp > 1, last = i == p.pp - 1;
        // Activations: bf16 (torchao saves the high-precision inputs of float8 linears), fp32 under
        // mixed_precision_param float32.
        TrainConfig act = c;
        if (c.precision == Precision::fp8) act.precision = Precision::mixed_bf16;
        const double act_bytes = precision_bytes(act.precision).activation;
        StageMemory g;
        std::string sac_how;
        if (c.recompute == Recompute::selective) {
            const int period = layer_sac_period(c);
            if (period > 0) {
                // The counter runs over the blocks this rank builds (all its model chunks).
                const int rank_layers = stage_layer_count(m, p, i);
                g = generic_stage_with_layer_recompute(m, tensors, act, i, rank_layers / period, rank_layers / period, 1,
                                                       "layer SAC: every " + std::to_string(period) + "th block of the rank",
                                                       explain);
            } else {
                TrainConfig none = act;
                none.recompute = Recompute::none;
                g = plan_generic_stage(m, tensors, none, i, explain);
                const double kept = op_sac_layer_bytes(m, c, act_bytes, explain ? &sac_how : nullptr);
                const double before = g.activations_per_layer;
                g.activations -= (before - kept) * g.layer_microbatches;
                g.activations_per_layer = kept;
                g.recompute_working = before - kept;
                if (explain)
                    for (MemoryTerm& t : g.terms)
                        if (t.key == "activations")
                            t.formula = stage_gib(kept) + " per layer per micro-batch (per-op SAC keeps: " + sac_how +
                                        "; without it " + stage_gib(before) + ") × " + stage_number(g.layer_microbatches) +
                                        " layer·micro-batches in flight";
            }
        } else {
            g = plan_generic_stage(m, tensors, act, i, explain);
        }

        // --- model states: FSDP2's sharded parameters, gradients and Adam ---------------------------
        const StageParams sp = stage_params(m, tensors, c, i);
        const double psi = sp.dense + sp.expert;
        // routed experts: FSDP over the ranks their expert-parallel group leaves, which takes tp too
        // when the experts are whole (ParallelDims' dp_shard_mod_ep with etp 1)
        const double Nd = shard_ranks(p), Ne = Nd * p.tp / p.expert_tp() / p.ep;
        const double shard = sp.dense / Nd + sp.expert / Ne;
        const double ps = c.precision == Precision::bf16 ? 2 : 4;      // sharded parameter and gradient dtype
        const double pw = c.precision == Precision::fp32 ? 4 : 2;      // param_dtype of the gathered units
        // --zero 3 and --zero 0 (replicated: FSDP2 over a shard dimension of one) follow the policy,
        // --zero 2 never reshards; pipelining keeps every unit unsharded anyway.
        const bool reshard = p.zero != 2 && !pipelined && framework_option(c, "reshard_after_forward_policy") != "never";
        const bool always = framework_option(c, "reshard_after_forward_policy") == "always";
        const bool offload = c.offload == Offload::optimizer_params;
        const std::string on_gpu = stage_count(psi) + " params";
        const std::string shard_note =
            Nd > 1 ? " ÷ " + stage_number(Nd) + " (FSDP2 shards over " + (p.zero >= 2 ? "data × context" : "context") +
                         " parallel ranks" + (sp.expert > 0 && Ne != Nd ? "; experts ÷ " + stage_number(Ne) : std::string()) + ")"
                   : std::string(" (one rank: the shard is everything)");
        const std::string dtype = ps == 4 ? "fp32" : "bf16";
        std::vector<StagePart> parts;
        double cpu = 0;
        auto add = [&](StageField f, unsigned phases, std::string key, std::string label, double bytes, std::string formula,
                       std::string source) {
            parts.push_back({f, phases, {std::move(key), std::move(label), bytes, std::move(formula), std::move(source)}});
        };
        const double micro_batches = static_cast<double>(std::max<std::int64_t>(1, c.grad_accum()));
        if (offload) {
            cpu = (2 * ps) * shard + (sp.dense_state / Nd + sp.expert_state / Ne);
        } else {
            add(StageField::parameters, in_every_phase, "parameters", "sharded parameters", ps * shard,
                on_gpu + " × " + stage_number(ps) + " B (" + dtype + ", the optimizer's only copy)" + shard_note,
                kFsdp + "/_fsdp_param.py; " + kSource + ": distributed/fsdp.py");
            const unsigned grad_phases = pipelined ? at_optimizer_step
                                                   : (at_backward | at_optimizer_step | (micro_batches > 1 ? unsigned{at_forward_end} : 0u));
            add(StageField::gradients, grad_phases, "gradients", "sharded gradients", ps * shard,
                on_gpu + " × " + stage_number(ps) + " B (" + dtype + ", reduce-scattered in fp32)" + shard_note,
                kFsdp + "/_fsdp_collectives.py (foreach_reduce)");
            add(StageField::optimizer_states, in_every_phase, "optimizer", "optimizer state",
                sp.dense_state / Nd + sp.expert_state / Ne,
                on_gpu + " × " + optimizer_state_description(c.optimizer) + " (" + (ps == 4 ? "fp32" : "bf16") + ")" + shard_note,
                kSource + ": components/optimizer.py");
        }
        // --- unsharded parameters and gradients ------------------------------------------------------
        const double unit = sp.largest_block;
        const std::string pwn = pw == 4 ? "fp32" : "bf16";
        if (!reshard) {
            add(StageField::gathered, in_forward_and_backward, "gathered", "unsharded parameters", pw * psi,
                on_gpu + " × " + stage_number(pw) + " B (" + pwn + "): every unit of the stage stays unsharded from its forward to " +
                    (pipelined ? "the last micro-batch's backward (pipelining turns reshard_after_backward off)"
                               : "its backward (reshard_after_forward=False)"),
                kFsdp + "/fully_shard.py; " + kSource + ": distributed/fsdp.py (get_fsdp_reshard_after_forward_policy)");
        } else {
            add(StageField::gathered, in_forward_and_backward, "gathered", "unsharded parameters", 2 * pw * unit,
                "2 × " + stage_count(unit) + " params of " + sp.largest_block_name + " × " + stage_number(pw) + " B (" + pwn +
                    "): the unit computed and the one FSDP2 prefetches",
                kFsdp + "/_fsdp_state.py (implicit prefetch of one unit)");
            if (last && !always && !(m.tied_embeddings && i != 0)) {
                const double head = std::ceil(static_cast<double>(m.vocab_size) / p.tp) * m.d_model + m.d_model;
                add(StageField::gathered, in_forward_and_backward, "gathered_head", "output layer kept unsharded", pw * head,
                    stage_count(head) + " params of final norm + output layer × " + stage_number(pw) + " B (" + pwn +
                        "): not resharded after forward unless policy always",
                    kSource + ": distributed/fsdp.py (apply_fsdp_to_decoder)");
            }
        }
        add(StageField::temporary, at_backward, "unit_gradients", "one unit's gradients", (pw + 4) * unit,
            stage_count(unit) + " params of " + sp.largest_block_name + " × (" + stage_number(pw) + " B " + pwn +
                " unsharded gradients + 4 B fp32 reduce-scatter input)",
            kFsdp + "/_fsdp_collectives.py (foreach_reduce, reduce_dtype float32)");
        if (pipelined)
            add(StageField::gradients, in_forward_and_backward, "unsharded_gradients", "unsharded fp32 gradients", 4 * psi,
                on_gpu + " × 4 B: gradients accumulate unsharded in reduce_dtype fp32 over the micro-batches "
                         "(the stage turns gradient sync off until the last backward)",
                "PyTorch torch/distributed/pipelining/stage.py (backward_maybe_with_nosync); " + kFsdp +
                    "/_fsdp_param.py (to_accumulated_grad_if_needed)");

        // --- activations, logits, pipeline buffers -------------------------------------------------
        for (StagePart& part : generic_activation_parts(g, "Korthikanti et al. 2022 (docs/MEMORY_MODEL.md §4); " + kSource +
                                                              ": distributed/activation_checkpoint.py"))
            parts.push_back(std::move(part));
        // The loss: torchtitan's loss_fn is F.cross_entropy(pred.flatten(0, 1).float(), labels) and
        // the train step deletes pred before loss.backward(), so the forward leaves the fp32
        // log-softmax output (the logits part above, 4 B per logit); the backward of nll_loss then
        // makes its fp32 gradient and log_softmax's backward the fp32 gradient of its input while
        // both are alive: 2 × 4 B per logit more, at the backward's start, before any block is
        // rematerialised, so the backward holds the larger of them and the recompute working set.
        if (last && g.logits > 0) {
            const double loss_backward = 2 * g.logits;
            const double extra = std::max(0.0, loss_backward - g.recompute_working);
            if (extra > 0)
                add(StageField::temporary, at_backward, "loss_backward", "cross-entropy backward (fp32)", extra,
                    "2 × the fp32 logits (" + stage_gib(g.logits) + "): nll_loss's fp32 gradient and log_softmax's input "
                    "gradient" + (g.recompute_working > 0 ? ", less the recompute working set it precedes (" +
                                                                  stage_gib(g.recompute_working) + ")"
                                                            : std::string()),
                    kSource + ": train.py (loss_fn: cross_entropy on pred.float(); del pred before loss.backward()); "
                              "PyTorch aten log_softmax_backward_data, nll_loss_backward");
        }
        if (pipelined) {
            const double one = static_cast<double>(c.seq) / p.cp * static_cast<double>(c.micro_batch) * m.d_model * act_bytes / p.tp;
            const double directions = (i > 0 ? 1 : 0) + (last ? 0 : 1);
            add(StageField::communication_buffers, in_every_phase, "pipeline_buffers", "pipeline receive buffers",
                directions * micro_batches * one,
                stage_number(directions) + " direction" + (directions == 1 ? "" : "s") + " × " + stage_number(micro_batches) +
                    " micro-batches × s·b·h × " + stage_number(act_bytes) + " B ÷ tp (one receive buffer per micro-batch)",
                "PyTorch torch/distributed/pipelining/stage.py (_prepare_forward_infra, _prepare_backward_infra)");
        }
        StageMemory s = compose_stage(std::move(g), parts, kGenericFragmentation, explain);
        s.cpu_offload = cpu;
        if (explain && offload)
            for (MemoryTerm& t : s.terms)
                if (t.key == "gathered")
                    t.formula += "; sharded parameters, gradients and optimizer state in CPU memory (CPUOffloadPolicy): " +
                                 stage_gib(cpu);
        return s;
    }

    std::string stack_description(const TrainConfig& c) const override {
        const ParallelLayout& p = c.parallel;
        std::string s = "torchtitan b5bcd76c + PyTorch FSDP2: fully_shard per block, MixedPrecisionPolicy(param_dtype=";
        s += c.precision == Precision::fp32 ? "float32" : "bfloat16";
        s += ", reduce_dtype=float32)";
        if (c.precision == Precision::bf16) s += ", training.dtype bfloat16";
        if (c.precision == Precision::fp8) s += ", float8 rowwise (torchao) on the blocks' linears";
        s += p.zero == 0 ? ", data_parallel_replicate_degree " : ", data_parallel_shard_degree ";
        s += std::to_string(p.dp()) + ", reshard_after_forward=" +
             (p.zero != 2 && p.pp == 1 && framework_option(c, "reshard_after_forward_policy") != "never" ? "True" : "False");
        if (p.tp > 1) s += ", TP + SequenceParallel";
        if (p.cp > 1) s += ", context parallel";
        if (p.pp > 1) s += p.virtual_stages > 1 ? ", ScheduleInterleaved1F1B" : ", Schedule1F1B";
        if (c.recompute == Recompute::full) s += ", full AC";
        if (c.recompute == Recompute::selective) {
            const std::string v = framework_option(c, "selective_ac_option");
            s += to_lower(v) == "op" ? ", selective AC by op" : ", selective AC every " + v + " layers";
        }
        if (c.offload == Offload::optimizer_params) s += ", CPUOffloadPolicy";
        s += framework_option_flag(c, "compile") ? ", torch.compile" : ", eager (no torch.compile)";
        return s;
    }

    std::string no_fit_hint() const override {
        return "; try more GPUs with --zero 3 (FSDP2), --tp with --sp, --recompute selective or full\n";
    }
};

}  // namespace

std::shared_ptr<const FrameworkProfile> make_torchtitan_profile() { return std::make_shared<const TorchtitanProfile>(); }

}  // namespace llmplan
