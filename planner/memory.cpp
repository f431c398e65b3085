// memory.cpp — the generic (textbook) memory model: ZeRO paper §3 for model states,
// Korthikanti et al. 2022 for activations, 1F1B / interleaved in-flight counts from Megatron-LM;
// plan_memory, which plans each stage through the job's framework profile (framework.h).
#include "planner/memory.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/activations.h"
#include "planner/framework.h"
#include "planner/lora.h"
#include "planner/model_states.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace llmplan {

namespace {

std::string gib(double bytes) { return format_bytes(bytes, ByteUnit::gib); }
std::string num(double v) { return format_int(static_cast<std::int64_t>(std::llround(v))); }
std::string dec(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}
double ceil_div(double a, double b) { return std::ceil(a / b); }

// Parameters one GPU of a stage holds, before ZeRO sharding, split by shard group.
struct StageParams {
    double dense = 0, expert = 0;               // elements
    double dense_state = 0, expert_state = 0;   // unsharded optimizer-state bytes
    double matmul = 0;                          // elements of matmul weights (fp8 copies)
    double largest_block = 0;                   // elements of the largest gather unit (ZeRO-3)
    std::string largest_block_name;
};

// Local shape of a tensor under tensor parallelism (Megatron §3; biases are 1 × n vectors).
void local_shape(const ParamTensor& p, int t, double& rows, double& cols) {
    rows = static_cast<double>(p.rows);
    cols = static_cast<double>(p.cols);
    switch (p.tp) {
        case TpSplit::replicated: break;
        case TpSplit::column: (p.rows == 1 ? cols : rows) /= t; break;
        case TpSplit::row: cols /= t; break;
        case TpSplit::vocab: rows = std::ceil(rows / t); break;
    }
}

StageParams stage_params(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c,
                         int stage) {
    const ParallelLayout& p = c.parallel;
    const bool first = stage == 0, last = stage == p.pp - 1;
    const double state_elem = precision_bytes(c.precision).state;
    StageParams sp;
    double embed_block = 0, layer_block = 0, head_block = 0;
    auto account = [&](const ParamTensor& t, double copies, double& block, double block_copies) {
        double rows = 0, cols = 0;
        local_shape(t, p.tp, rows, cols);
        if (t.expert) {
            copies /= p.ep;
            block_copies /= p.ep;
        }
        const double elems = rows * cols;
        const double state = optimizer_state_bytes(c.optimizer, static_cast<std::int64_t>(rows),
                                                   static_cast<std::int64_t>(cols), state_elem);
        (t.expert ? sp.expert : sp.dense) += elems * copies;
        (t.expert ? sp.expert_state : sp.dense_state) += state * copies;
        if (t.matmul_weight) sp.matmul += elems * copies;
        block += elems * block_copies;
    };
    for (const ParamTensor& t : tensors) {
        const double count = static_cast<double>(t.count);
        switch (t.block) {
            case Block::embedding:
                if (first) account(t, count, embed_block, count);
                break;
            case Block::layer: {  // equal stages of L / pp layers; dense and MoE layers where they fall
                const int layers = m.n_layers / p.pp;
                const double here = copies_in_layers(t, m, stage * layers, layers);
                const double holding = t.layers == LayerSet::all ? m.n_layers
                                       : t.layers == LayerSet::moe ? moe_layer_count(m)
                                                                   : m.n_layers - moe_layer_count(m);
                account(t, here, layer_block, holding > 0 ? count / holding : 0);
                break;
            }
            case Block::final_norm:
            case Block::head:
            case Block::mtp:  // DeepSeek-V3's MTP modules follow the output layer (last stage)
                if (last) account(t, count, head_block, count);
                break;
        }
    }
    // Tied embeddings with a pipeline: the last stage keeps its own copy of the word embedding
    // for the output layer (Megatron-LM, "shared embedding" all-reduced between first and last stage).
    if (m.tied_embeddings && p.pp > 1 && last)
        for (const ParamTensor& t : tensors)
            if (t.block == Block::embedding && t.tp == TpSplit::vocab) account(t, 1, head_block, 1);
    sp.largest_block = layer_block;
    sp.largest_block_name = "one layer";
    if (embed_block > sp.largest_block) { sp.largest_block = embed_block; sp.largest_block_name = "the embedding"; }
    if (head_block > sp.largest_block) { sp.largest_block = head_block; sp.largest_block_name = "the output layer"; }
    return sp;
}

// Layer × micro-batch activation sets stage `i` holds at the 1F1B steady state.
// 1F1B (Narayanan et al. 2021, §2.2): stage i has min(p − i, m) micro-batches in flight.
// Interleaved (Megatron-LM schedules.py warm-up count): 2(p − i − 1) + (v − 1)p + 1 model chunks
// of L/(p·v) layers; stage 0 gives Korthikanti's L·(1 + (p − 1)/(p·v)) (§4.2.3).
double layer_microbatches(const ModelSpec& m, const ParallelLayout& p, int i, std::int64_t micro_batches,
                          double& in_flight) {
    const double L = m.n_layers, pp = p.pp, v = p.virtual_stages, mb = static_cast<double>(micro_batches);
    if (p.virtual_stages == 1) {
        in_flight = std::min(pp - i, mb);
        return in_flight * L / pp;
    }
    const double chunks = std::min(2 * (pp - i - 1) + (v - 1) * pp + 1, mb * v);
    in_flight = chunks / v;
    return chunks * L / (pp * v);
}

std::string placement(const ModelSpec& m, int stage, int pp, int first_layer, int layers) {
    std::vector<std::string> parts;
    if (stage == 0) parts.emplace_back("embedding");
    parts.push_back(layers == 1 ? "layer " + std::to_string(first_layer)
                                : "layers " + std::to_string(first_layer) + "-" + std::to_string(first_layer + layers - 1));
    if (stage == pp - 1) {
        parts.emplace_back("final norm");
        parts.emplace_back(m.tied_embeddings ? (pp > 1 ? "output layer (copy of the tied embedding)" : "output layer (tied)")
                                             : "output layer");
    }
    return join(parts, " + ");
}

}  // namespace

StageMemory plan_generic_stage(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i,
                               bool explain) {
    const ParallelLayout& p = c.parallel;
    const PrecisionBytes pb = precision_bytes(c.precision);
    const int N = p.shard_group(), Ne = p.expert_shard_group();
    const bool sharded = N > 1;
    const ActivationShape shape = activation_shape(c);
    StageMemory s;
    s.stage = i;
    s.layers = m.n_layers / p.pp;
    s.first_layer = i * s.layers;
    s.placement = placement(m, i, p.pp, s.first_layer, s.layers);

    // --- model states (ZeRO paper §3) -----------------------------------------------------------
    const StageParams sp = stage_params(m, tensors, c, i);
    s.params_on_gpu = std::llround(sp.dense + sp.expert);
    auto shard_elems = [&](bool shard) {
        return shard ? ceil_div(sp.dense, N) + ceil_div(sp.expert, Ne) : sp.dense + sp.expert;
    };
    const double w_elems = shard_elems(p.zero >= 3), g_elems = shard_elems(p.zero >= 2), o_elems = shard_elems(p.zero >= 1);
    s.parameters = pb.weight * w_elems;
    s.gradients = pb.grad * g_elems;
    s.master = pb.master * o_elems;
    s.optimizer_states = p.zero >= 1 ? sp.dense_state / N + sp.expert_state / Ne : sp.dense_state + sp.expert_state;

    auto zero_note = [&](int stage_needed) {
        return p.zero >= stage_needed && sharded ? " ÷ " + std::to_string(N) + " (ZeRO-" + std::to_string(p.zero) +
                                                       " shards over " + std::to_string(N) + " data-parallel ranks)"
                                                 : std::string();
    };
    std::string params_formula, grads_formula, opt_formula;
    if (explain) {
        const std::string split = p.tp > 1 || p.pp > 1 || p.ep > 1
                                      ? " (" + s.placement + (p.tp > 1 ? ", ÷ tp " + std::to_string(p.tp) : "") +
                                            (p.ep > 1 ? ", experts ÷ ep " + std::to_string(p.ep) : "") + ")"
                                      : "";
        const std::string on_gpu = num(sp.dense + sp.expert) + " params" + split;
        const char* weight_desc = precision_traits(c.precision).weight_format;
        const char* grad_desc = pb.grad == 4 ? "fp32" : weight_desc;
        params_formula = on_gpu + " × " + dec(pb.weight) + " B (" + weight_desc + " weights)" + zero_note(3);
        grads_formula = on_gpu + " × " + dec(pb.grad) + " B (" + grad_desc + " gradients)" + zero_note(2);
        const double state_per_elem = (sp.dense + sp.expert) > 0 ? (sp.dense_state + sp.expert_state) / (sp.dense + sp.expert) : 0;
        opt_formula = on_gpu + " × (" + (pb.master > 0 ? dec(pb.master) + " B fp32 master + " : std::string()) +
                                  dec(std::round(state_per_elem * 1e4) / 1e4) + " B " + to_string(c.optimizer) + ": " +
                                  optimizer_state_description(c.optimizer) + ")" + zero_note(1);
    }

    // --- LoRA / QLoRA (Hu et al. 2021; Dettmers et al. 2023): a frozen base, trainable adapters ---
    // The base keeps only its weights (in the working precision, or nf4 / int8 with
    // --base-quant); adapters are fp32 (PEFT's autocast_adapter_dtype) with fp32 gradients and
    // optimizer state; ZeRO shards apply as usual.
    double lora_adapters = 0, lora_dequant = 0, lora_largest = 0;
    LoraCount lora;
    if (c.lora.enabled()) {
        lora = count_lora(m, c.lora);
        lora_adapters = lora.adapter_params * s.layers / m.n_layers / p.tp;
        double base_bytes = 0, base_elems = 0;
        const bool first = i == 0, last = i == p.pp - 1;
        for (const ParamTensor& t : tensors) {
            const bool here = t.block == Block::layer || (first && t.block == Block::embedding) ||
                              (last && (t.block == Block::final_norm || t.block == Block::head));
            if (!here) continue;
            double rows = 0, cols = 0;
            local_shape(t, p.tp, rows, cols);
            const double copies = t.block == Block::layer ? static_cast<double>(t.count) / p.pp : static_cast<double>(t.count);
            const double el = rows * cols * copies;
            base_elems += el;
            if (t.block == Block::layer && t.matmul_weight) {
                base_bytes += el * base_weight_bytes(c.lora.base_quant, cols, pb.weight);
                lora_largest = std::max(lora_largest, rows * cols);
            } else {
                base_bytes += el * pb.weight;
            }
        }
        const double n3 = p.zero >= 3 && sharded ? N : 1, n2 = p.zero >= 2 && sharded ? N : 1, n1 = p.zero >= 1 && sharded ? N : 1;
        s.parameters = base_bytes / n3 + 4 * lora_adapters / n3;
        s.gradients = 4 * lora_adapters / n2;
        s.master = 0;
        s.optimizer_states = optimizer_state_bytes(c.optimizer, std::llround(std::max(1.0, lora_adapters)), 1, 4) / n1;
        if (c.lora.base_quant != BaseQuant::none) lora_dequant = 2 * lora_largest;  // one matrix dequantized to bf16
        if (c.lora.paged_optimizer) {  // unified memory, paged out to the CPU when the GPU is full
            s.cpu_offload += s.optimizer_states;
            s.optimizer_states = 0;
        }
        if (explain) {
            const std::string q = c.lora.base_quant == BaseQuant::none ? "" : std::string(" (matmul weights in ") + to_string(c.lora.base_quant) + ")";
            params_formula = num(base_elems) + " frozen base params" + q + " + " + num(lora_adapters) + " LoRA params × 4 B (fp32)" + zero_note(3);
            grads_formula = num(lora_adapters) + " LoRA params × 4 B (only the adapters train)" + zero_note(2);
            opt_formula = num(lora_adapters) + " LoRA params × " + optimizer_state_description(c.optimizer) + zero_note(1) +
                          (c.lora.paged_optimizer ? "; paged (bitsandbytes): in unified memory, counted as CPU memory" : "");
        }
    }

    // --- offload (ZeRO-Offload, Ren et al. 2021; ZeRO-Infinity, Rajbhandari et al. 2021) ---------
    if (c.offload != Offload::none) {
        // The CPU runs the optimizer: fp32 master + states + an fp32 copy of the gradient shard.
        s.cpu_offload = s.master + s.optimizer_states + 4.0 * o_elems;
        if (explain) opt_formula += "; offloaded to CPU memory (ZeRO-Offload) with an fp32 gradient copy";
        s.master = s.optimizer_states = 0;
        if (p.zero >= 2) {
            s.gradients = 0;
            if (explain) grads_formula += "; reduced shards move to CPU memory";
        }
        if (c.offload == Offload::optimizer_params) {
            s.cpu_offload += s.parameters;
            s.parameters = 0;
            if (explain) params_formula += "; shards kept in CPU memory (ZeRO-Infinity), gathered per block";
        }
    }

    // --- activations (Korthikanti et al. 2022) ----------------------------------------------------
    const std::int64_t micro_batches = std::max<std::int64_t>(1, c.grad_accum());
    s.layer_microbatches = layer_microbatches(m, p, i, micro_batches, s.microbatches_in_flight);
    const auto layer_tensors = layer_saved_tensors(m, c, c.recompute);
    s.activations_per_layer = saved_bytes(layer_tensors, shape);
    const double first_extra = i == 0 ? saved_bytes(first_stage_saved_tensors(m, c), shape) : 0;
    const double first_in_flight = std::min<double>(p.pp, static_cast<double>(micro_batches));
    const double last_extra = i == p.pp - 1 ? saved_bytes(last_stage_saved_tensors(m, c), shape) : 0;
    if (c.lora.enabled())  // each adapter keeps its rank-r intermediate (lora_A's output) for lora_B
        s.activations_per_layer += lora.modules_per_layer * shape.s * shape.b * c.lora.rank * pb.activation;
    s.activations = s.activations_per_layer * s.layer_microbatches + first_extra * first_in_flight + last_extra;
    s.logits = i == p.pp - 1 ? logits_bytes(m, c) : 0;

    const double full_layer = saved_bytes(layer_saved_tensors(m, c, Recompute::none), shape);
    if (c.recompute == Recompute::full) s.recompute_working = full_layer;
    if (c.recompute == Recompute::selective)
        s.recompute_working = full_layer - saved_bytes(layer_saved_tensors(m, c, Recompute::selective), shape);

    // --- buffers ---------------------------------------------------------------------------------
    std::vector<std::string> comm_parts;
    if (sharded && p.zero == 2) {
        s.communication_buffers += pb.grad * sp.largest_block;
        if (explain)
            comm_parts.push_back("ZeRO-2 unsharded gradients of " + sp.largest_block_name + " before reduce-scatter: " +
                             num(sp.largest_block) + " × " + dec(pb.grad) + " B");
    }
    if (p.pp > 1) {
        const double p2p = 2 * shape.s * shape.b * m.d_model * pb.activation / (p.sp ? p.tp : 1);
        s.communication_buffers += p2p;
        if (explain)
            comm_parts.push_back("pipeline send + receive buffers: 2 × s·b·h × " + dec(pb.activation) + " B" +
                             (p.sp ? " ÷ tp" : ""));
    }
    if (sharded && p.zero == 3)
        s.zero3_gathered = 2 * pb.weight * sp.largest_block + pb.grad * sp.largest_block;
    s.fp8_weight_cache = pb.fp8_weight_cache * (p.zero >= 3 && sharded ? 2 * sp.largest_block : sp.matmul);

    // --- phases -----------------------------------------------------------------------------------
    const double model_states = s.parameters + s.gradients + s.optimizer() + s.communication_buffers;
    const double forward_end = model_states + s.zero3_gathered + s.fp8_weight_cache + lora_dequant + s.activations + s.logits;
    const double backward = forward_end + s.recompute_working;
    const double optimizer_step = model_states;
    s.phases = {{"forward_end", forward_end}, {"backward", backward}, {"optimizer_step", optimizer_step}};
    s.peak_phase = backward > forward_end ? "backward" : "forward_end";
    s.peak_allocated = backward;
    s.temporary = s.fp8_weight_cache + lora_dequant + (s.peak_phase == "backward" ? s.recompute_working : 0);
    s.reserved_estimate = s.peak_allocated * (1 + kGenericFragmentation);
    s.overhead = kGenericCudaContextBytes;
    s.device_total = s.reserved_estimate + s.overhead;

    if (!explain) return s;
    // --- the explanation ----------------------------------------------------------------------------
    const std::string zero_src = "ZeRO paper (Rajbhandari et al. 2020) §3";
    s.terms.push_back({"parameters", "parameters", s.parameters, params_formula, zero_src});
    s.terms.push_back({"gradients", "gradients", s.gradients, grads_formula, zero_src});
    s.terms.push_back({"optimizer", "optimizer state", s.optimizer(), opt_formula,
                       zero_src + "; optimizer papers (docs/MEMORY_MODEL.md §2)"});
    {
        std::ostringstream f;
        f << gib(s.activations_per_layer) << " per layer per micro-batch (recompute " << to_string(c.recompute) << ", "
          << to_string(c.attention) << " attention, s " << dec(shape.s) << ", b " << c.micro_batch
          << (c.dropout > 0 ? ", dropout" : ", no dropout") << ") × " << dec(s.layer_microbatches)
          << " layer·micro-batches in flight (" << s.layers << " layers × " << dec(s.microbatches_in_flight)
          << (p.virtual_stages > 1 ? " interleaved" : "") << ")";
        if (first_extra > 0) f << " + embedding dropout masks " << gib(first_extra * first_in_flight);
        if (last_extra > 0) f << " + final-norm and output-layer inputs " << gib(last_extra);
        s.terms.push_back({"activations", "activations", s.activations, f.str(),
                           "Korthikanti et al. 2022 §4 (Table 2), extended per tensor (docs/MEMORY_MODEL.md §3)"});
    }
    if (i == p.pp - 1)
        s.terms.push_back({"logits", "logits (fp32, for the loss)", s.logits,
                           "4 B × s " + dec(shape.s) + " × b " + std::to_string(c.micro_batch) + " × vocab " +
                               std::to_string(m.vocab_size) + (p.tp > 1 ? " ÷ tp " + std::to_string(p.tp) : ""),
                           "Korthikanti et al. 2022 §4.3 (4sbv/t)"});
    s.terms.push_back({"communication_buffers", "communication buffers", s.communication_buffers,
                       comm_parts.empty() ? std::string("none: gradients are reduced in place in their buffer")
                                          : join(comm_parts, "; "),
                       "ZeRO paper §5-7; Megatron-LM p2p communication"});
    if (p.zero == 3)
        s.terms.push_back({"zero3_gathered", "ZeRO-3 gathered parameters", s.zero3_gathered,
                           sharded ? "2 × " + num(sp.largest_block) + " params of " + sp.largest_block_name + " × " +
                                         dec(pb.weight) + " B (current + prefetched) + " + num(sp.largest_block) +
                                         " × " + dec(pb.grad) + " B (its unsharded gradients)"
                                   : std::string("none: a single data-parallel rank holds everything"),
                           "ZeRO paper §5.3; DeepSpeed estimator: + largest layer params and grads"});
    {
        std::vector<std::string> parts;
        if (s.fp8_weight_cache > 0)
            parts.push_back("fp8 copies + transposes of matmul weights " + gib(s.fp8_weight_cache));
        if (lora_dequant > 0)
            parts.push_back("one frozen matrix dequantized to 16 bits for its matmul (QLoRA) " + gib(lora_dequant));
        if (s.recompute_working > 0)
            parts.push_back(std::string(c.recompute == Recompute::full ? "one layer's activations" : "one layer's recomputed attention") +
                            " rematerialised in backward " + gib(s.recompute_working));
        s.terms.push_back({"temporary", "temporary buffers", s.temporary,
                           parts.empty() ? std::string("none in the generic model (fused optimizer, in-place loss gradient)")
                                         : join(parts, "; "),
                           "Korthikanti et al. 2022 §5; Transformer Engine fp8 weight caching"});
    }
    s.terms.push_back({"overhead", "CUDA context and workspaces", s.overhead,
                       gib(s.overhead) + " per GPU (context, cuBLAS and NCCL workspaces; measured on an H100)",
                       "measured: device used minus PyTorch reserved, validation/pytorch_memory (docs/MEMORY_MODEL.md §6)"});
    return s;
}

namespace {

// One stage as the job's framework plans it (framework.h).
StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c, int i,
                       bool explain = true) {
    return framework_profile(c.framework).plan_stage(m, tensors, c, i, explain);
}

// Largest device_total over stages for a micro-batch, keeping micro-batches per step fixed.
double worst_device_total(const ModelSpec& m, const std::vector<ParamTensor>& tensors, TrainConfig c,
                          std::int64_t micro_batch) {
    const std::int64_t accum = std::max<std::int64_t>(1, c.grad_accum());
    c.micro_batch = micro_batch;
    c.global_batch = micro_batch * c.parallel.dp() * accum;
    double worst = 0;
    // Stage 0 holds the most micro-batches in flight and the embedding, the last the logits: one of
    // them is the most loaded (middle stages hold fewer activations than stage 0 and no extras).
    worst = plan_stage(m, tensors, c, 0, false).device_total;
    if (c.parallel.pp > 1) worst = std::max(worst, plan_stage(m, tensors, c, c.parallel.pp - 1, false).device_total);
    return worst;
}

}  // namespace

MemoryPlan plan_memory(const ModelSpec& model, const GpuSpec& gpu, const TrainConfig& config) {
    validate_model(model, "model " + model.name);
    MemoryPlan plan;
    plan.model = model;
    plan.gpu = gpu;
    plan.config = resolve_defaults(model, config);
    plan.warnings = validate_config(model, plan.config);
    plan.params = count_params(model);
    const FrameworkProfile& framework = framework_profile(plan.config.framework);
    framework.validate(model, plan.config);
    plan.allocator_fragmentation = framework.allocator_reserve(plan.config);
    plan.capacity_bytes = gpu.memory_bytes;

    const std::vector<ParamTensor> tensors = param_tensors(model);
    for (int i = 0; i < plan.config.parallel.pp; ++i) {
        plan.stages.push_back(plan_stage(model, tensors, plan.config, i));
        if (plan.stages.back().device_total > plan.stages[static_cast<std::size_t>(plan.worst_stage)].device_total)
            plan.worst_stage = i;
    }
    const double total = plan.worst().device_total;
    plan.fits = total <= plan.capacity_bytes;
    plan.headroom_bytes = plan.capacity_bytes - total;

    // Largest micro-batch that fits: memory grows with the micro-batch, so double then bisect.
    auto fits = [&](std::int64_t b) { return worst_device_total(model, tensors, plan.config, b) <= plan.capacity_bytes; };
    if (fits(1)) {
        std::int64_t lo = 1, hi = 2;
        constexpr std::int64_t kLimit = 1 << 20;
        while (hi <= kLimit && fits(hi)) { lo = hi; hi *= 2; }
        if (hi > kLimit) {
            lo = kLimit;
        } else {
            while (hi - lo > 1) {
                const std::int64_t mid = lo + (hi - lo) / 2;
                (fits(mid) ? lo : hi) = mid;
            }
        }
        plan.max_micro_batch = lo;
    }
    return plan;
}

MemoryPlan plan_memory_quick(const ModelSpec& model, const std::vector<ParamTensor>& tensors, const ParamBreakdown& params,
                             const GpuSpec& gpu, const TrainConfig& config) {
    MemoryPlan plan;
    plan.model = model;
    plan.gpu = gpu;
    plan.config = resolve_defaults(model, config);
    plan.warnings = validate_config(model, plan.config);
    framework_profile(plan.config.framework).validate(model, plan.config);
    plan.params = params;
    plan.capacity_bytes = gpu.memory_bytes;
    const int pp = plan.config.parallel.pp;
    plan.stages.push_back(plan_stage(model, tensors, plan.config, 0, false));
    if (pp > 1) {
        plan.stages.push_back(plan_stage(model, tensors, plan.config, pp - 1, false));
        if (plan.stages[1].device_total > plan.stages[0].device_total) plan.worst_stage = 1;
    }
    const double total = plan.worst().device_total;
    plan.fits = total <= plan.capacity_bytes;
    plan.headroom_bytes = plan.capacity_bytes - total;
    return plan;
}

}  // namespace llmplan
