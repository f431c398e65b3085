// memory.cpp — the generic (textbook) memory model: ZeRO paper §3 for model states,
// Korthikanti et al. 2022 for activations, 1F1B / interleaved in-flight counts from Megatron-LM;
// plan_memory, which plans each stage through the job's framework profile (framework.h).
#include "planner/memory.h"

#include "core/error.h"
#include "core/precision.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/activations.h"
#include "planner/framework.h"
#include "planner/lora.h"
#include "planner/model_states.h"

#include <algorithm>
#include <numeric>
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

}  // namespace

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

void local_shape(const ParamTensor& t, const ParallelLayout& p, double& rows, double& cols) {
    local_shape(t, t.expert ? p.expert_tp() : p.tp, rows, cols);
}

StageCopies::StageCopies(const ModelSpec& m, const std::vector<LayerRange>& ranges) : model_(&m) {
    for (std::size_t s = 0; s < kSets; ++s) model_layers_[s] = layers_in_set(m, static_cast<LayerSet>(s), 0, m.n_layers);
    for (const LayerRange& r : ranges) {
        std::array<int, kSets> n{};
        for (std::size_t s = 0; s < kSets; ++s) n[s] = layers_in_set(m, static_cast<LayerSet>(s), r.first, r.count);
        range_layers_.push_back(n);
    }
}

// copies_in_layers' arithmetic (core/model.cpp): t.count ÷ the layers holding it × those here.
double StageCopies::share(const ParamTensor& t, int holding, int here) {
    return holding > 0 ? static_cast<double>(t.count) / holding * here : 0.0;
}

double StageCopies::operator()(const ParamTensor& t) const {
    if (t.block != Block::layer) return static_cast<double>(t.count);
    const std::size_t s = static_cast<std::size_t>(t.layers);
    double n = 0;
    for (const std::array<int, kSets>& here : range_layers_) n += share(t, model_layers_[s], here[s]);
    return n;
}

double StageCopies::in_layer(const ParamTensor& t, int layer) const {
    if (t.block != Block::layer) return static_cast<double>(t.count);
    return share(t, model_layers_[static_cast<std::size_t>(t.layers)], in_set(t.layers, model_->layer(layer)) ? 1 : 0);
}


namespace {

// "one layer", or "one MoE layer" / "one dense layer" where the model has both.
// A hybrid model's layer by its one block: "Mamba layer", "attention layer", "MoE layer", "MLP layer".
std::string hybrid_kind_name(const LayerKind& k) {
    return k.has_mamba() ? "Mamba layer" : k.has_attention() ? "attention layer" : k.moe ? "MoE layer" : "MLP layer";
}

std::string layer_name(const ModelSpec& m, const LayerKind& k) {
    if (m.hybrid()) return "one " + hybrid_kind_name(k);
    const int moe = moe_layer_count(m);
    if (moe == 0 || moe == m.n_layers) return "one layer";
    return k.moe ? "one MoE layer" : "one dense layer";
}

}  // namespace

StageParams stage_params(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c,
                         int stage) {
    const ParallelLayout& p = c.parallel;
    const bool first = stage == 0, last = stage == p.pp - 1;
    const double state_elem = precision_bytes(c.precision).state;
    const std::vector<LayerRange> ranges = stage_layer_ranges(m, p, stage);
    // The first layer of each kind on the stage: a ZeRO-3 gather unit is one layer, so the largest
    // unit is the largest single layer (an MoE layer's experts, not a dense MLP added to them).
    std::vector<int> kind_layer;
    for (const LayerRange& r : ranges)
        for (int l = r.first; l < r.first + r.count; ++l)
            if (std::none_of(kind_layer.begin(), kind_layer.end(), [&](int k) { return m.layer(k) == m.layer(l); }))
                kind_layer.push_back(l);
    std::vector<double> layer_block(kind_layer.size(), 0.0);
    const StageCopies stage_copies_of(m, ranges);
    StageParams sp;
    double embed_block = 0, head_block = 0, mtp_block = 0;
    // Adds `copies` of t to the stage; returns the elements of one copy on this GPU (÷ tp).
    auto account = [&](const ParamTensor& t, double copies) {
        double rows = 0, cols = 0;
        local_shape(t, p, rows, cols);
        if (t.expert) copies /= p.ep;
        const double elems = rows * cols;
        const double state = optimizer_state_bytes(c.optimizer, static_cast<std::int64_t>(rows),
                                                   static_cast<std::int64_t>(cols), state_elem);
        (t.expert ? sp.expert : sp.dense) += elems * copies;
        (t.expert ? sp.expert_state : sp.dense_state) += state * copies;
        if (t.matmul_weight) sp.matmul += elems * copies;
        return elems;
    };
    // Elements of `copies` of t in one gather unit on this GPU (routed experts ÷ ep).
    auto unit = [&](const ParamTensor& t, double elems, double copies) { return elems * (t.expert ? copies / p.ep : copies); };
    for (const ParamTensor& t : tensors) {
        const double count = static_cast<double>(t.count);
        switch (t.block) {
            case Block::embedding:
                if (first) embed_block += unit(t, account(t, count), count);
                break;
            case Block::layer: {  // the stage's layers; dense and MoE layers where they fall
                const double elems = account(t, stage_copies_of(t));
                for (std::size_t k = 0; k < kind_layer.size(); ++k)
                    layer_block[k] += unit(t, elems, stage_copies_of.in_layer(t, kind_layer[k]));
                break;
            }
            case Block::final_norm:
            case Block::head:
                if (last) head_block += unit(t, account(t, count), count);
                break;
            case Block::mtp:  // DeepSeek-V3's MTP modules follow the output layer (last stage); one module a unit
                if (last) mtp_block += unit(t, account(t, count), count / m.mtp_weight_modules());
                break;
        }
    }
    // Tied embeddings with a pipeline: the last stage keeps its own copy of the word embedding
    // for the output layer (Megatron-LM, "shared embedding" all-reduced between first and last stage).
    if (m.tied_embeddings && p.pp > 1 && last)
        for (const ParamTensor& t : tensors)
            if (t.block == Block::embedding && t.tp == TpSplit::vocab) head_block += unit(t, account(t, 1), 1);
    for (std::size_t k = 0; k < kind_layer.size(); ++k)
        if (k == 0 || layer_block[k] > sp.largest_block) {
            sp.largest_block = layer_block[k];
            sp.largest_block_name = layer_name(m, m.layer(kind_layer[k]));
        }
    if (embed_block > sp.largest_block) { sp.largest_block = embed_block; sp.largest_block_name = "the embedding"; }
    if (head_block > sp.largest_block) { sp.largest_block = head_block; sp.largest_block_name = "the output layer"; }
    if (mtp_block > sp.largest_block) { sp.largest_block = mtp_block; sp.largest_block_name = "one MTP module"; }
    return sp;
}

namespace {

// Layer × micro-batch activation sets stage `i`, holding `layers` layers, keeps at the 1F1B steady state.
// 1F1B (Narayanan et al. 2021, §2.2): stage i has min(p − i, m) micro-batches in flight.
// Interleaved (Megatron-LM schedules.py warm-up count): 2(p − i − 1) + (v − 1)p + 1 model chunks
// of layers/v layers (equal stages: L/(p·v)); stage 0 gives Korthikanti's L·(1 + (p − 1)/(p·v))
// (§4.2.3). Chunks of one stage that differ (uneven splits) are taken at their average.
double layer_microbatches(const ParallelLayout& p, int i, double layers, std::int64_t micro_batches, double& in_flight) {
    const double pp = p.pp, v = p.virtual_stages, mb = static_cast<double>(micro_batches);
    if (p.virtual_stages == 1) {
        in_flight = std::min(pp - i, mb);
        return in_flight * layers;
    }
    const double chunks = std::min(2 * (pp - i - 1) + (v - 1) * pp + 1, mb * v);
    in_flight = chunks / v;
    return chunks * layers / v;
}

std::string placement(const ModelSpec& m, int stage, int pp, const std::vector<LayerRange>& ranges) {
    std::vector<std::string> parts, runs;
    if (stage == 0) parts.emplace_back("embedding");
    int layers = 0, moe = 0;
    for (const LayerRange& r : ranges) {
        runs.push_back(r.count == 1 ? std::to_string(r.first)
                                    : std::to_string(r.first) + "-" + std::to_string(r.first + r.count - 1));
        layers += r.count;
        moe += moe_layer_count(m, r.first, r.count);
    }
    std::string held = (layers == 1 ? "layer " : "layers ") + join(runs, ", ");
    if (m.hybrid()) {  // a hybrid's layers: how many of each kind here
        std::vector<std::string> kinds;
        for (const auto& [set, word] : {std::pair{LayerSet::mamba, "Mamba"}, std::pair{LayerSet::attention, "attention"},
                                        std::pair{LayerSet::moe, "MoE"}, std::pair{LayerSet::dense, "MLP"}}) {
            int n = 0;
            for (const LayerRange& r : ranges) n += layers_in_set(m, set, r.first, r.count);
            if (n > 0) kinds.push_back(std::to_string(n) + " " + word);
        }
        held += " (" + join(kinds, ", ") + ")";
    } else if (moe_layer_count(m) > 0 && moe_layer_count(m) < m.n_layers) {  // dense and MoE layers: how many of each here
        std::vector<std::string> kinds;
        if (layers > moe) kinds.push_back(std::to_string(layers - moe) + " dense");
        if (moe > 0) kinds.push_back(std::to_string(moe) + " MoE");
        held += " (" + join(kinds, ", ") + ")";
    }
    parts.push_back(held);
    if (stage == pp - 1) {
        parts.emplace_back("final norm");
        parts.emplace_back(m.tied_embeddings ? (pp > 1 ? "output layer (copy of the tied embedding)" : "output layer (tied)")
                                             : "output layer");
        if (m.mtp_layers > 0)
            parts.push_back(m.mtp_repeated ? "1 MTP module (run at " + std::to_string(m.mtp_layers) + " depths)"
                                           : std::to_string(m.mtp_layers) + (m.mtp_layers == 1 ? " MTP module" : " MTP modules"));
    }
    return join(parts, " + ");
}

// "MoE sliding layer": what distinguishes a layer kind in this model.
std::string kind_name(const ModelSpec& m, const LayerKind& k) {
    std::vector<std::string> words;
    if (m.hybrid()) return hybrid_kind_name(k);
    if (m.has_gdn()) words.emplace_back(k.has_gdn() ? "Gated DeltaNet" : "attention");
    if (m.is_moe()) words.emplace_back(k.moe ? "MoE" : "dense");
    if (k.attention != LayerAttention::global || m.sliding_window > 0 || m.attention_chunk > 0)
        words.emplace_back(to_string(k.attention));
    if (!k.rope) words.emplace_back("NoPE");
    words.emplace_back("layer");
    return join(words, " ");
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
    const std::vector<LayerRange> ranges = stage_layer_ranges(m, p, i);
    const std::vector<LayerGroup> groups = stage_layer_groups(m, p, i);
    const bool last = i == p.pp - 1;
    for (const LayerRange& r : ranges) s.layers += r.count;
    s.first_layer = ranges.front().first;
    if (explain) s.placement = placement(m, i, p.pp, ranges);  // words for the tables (the search's quick plans print none)

    // --- model states (ZeRO paper §3) -----------------------------------------------------------
    const StageParams sp = stage_params(m, tensors, c, i);
    s.params_on_gpu = std::llround(sp.dense + sp.expert);
    s.expert_params_on_gpu = std::llround(sp.expert);
    auto shard_elems = [&](bool shard) {
        return shard ? ceil_div(sp.dense, N) + ceil_div(sp.expert, Ne) : sp.dense + sp.expert;
    };
    const double w_elems = shard_elems(p.zero >= 3), g_elems = shard_elems(p.zero >= 2), o_elems = shard_elems(p.zero >= 1);
    s.parameters = pb.weight * w_elems;
    s.gradients = pb.grad * g_elems;
    s.master = pb.master * o_elems;
    s.optimizer_states = p.zero >= 1 ? sp.dense_state / N + sp.expert_state / Ne : sp.dense_state + sp.expert_state;

    auto zero_note = [&](int stage_needed) {
        const bool experts_apart = sp.expert > 0 && Ne != N;  // routed experts shard over their own group
        if (p.zero < stage_needed || !(sharded || (experts_apart && Ne > 1))) return std::string();
        return " ÷ " + std::to_string(N) + " (ZeRO-" + std::to_string(p.zero) + " shards over " + std::to_string(N) +
               " data-parallel ranks" +
               (experts_apart ? "; routed experts ÷ " + std::to_string(Ne) + ", their expert data-parallel group" : "") + ")";
    };
    std::string params_formula, grads_formula, opt_formula;
    if (explain) {
        const std::string split = p.tp > 1 || p.pp > 1 || p.ep > 1
                                      ? " (" + s.placement + (p.tp > 1 ? ", ÷ tp " + std::to_string(p.tp) : "") +
                                            (p.ep > 1 ? ", experts ÷ ep " + std::to_string(p.ep) : "") +
                                            (p.expert_tp() != p.tp ? " × etp " + std::to_string(p.expert_tp()) : "") + ")"
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
    if (c.lora.enabled()) {
        // The adapters of this stage's layers, those on routed experts split by expert parallelism.
        const LoraCount lora = count_lora(m, c.lora, groups);
        lora_adapters = lora_on_gpu(lora, p).total();
        double base_bytes = 0, base_elems = 0;
        const bool first = i == 0;
        const StageCopies copies_here(m, ranges);
        for (const ParamTensor& t : tensors) {
            const bool here = t.block == Block::layer || (first && t.block == Block::embedding) ||
                              (last && (t.block == Block::final_norm || t.block == Block::head || t.block == Block::mtp));
            if (!here) continue;
            double rows = 0, cols = 0;
            local_shape(t, p, rows, cols);
            const double copies = copies_here(t) / (t.expert ? p.ep : 1);
            if (copies <= 0) continue;  // e.g. the dense MLP on a stage of MoE layers
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

    // --- activations (Korthikanti et al. 2022), per layer kind -----------------------------------
    const std::int64_t micro_batches = std::max<std::int64_t>(1, c.grad_accum());
    s.layer_microbatches = layer_microbatches(p, i, s.layers, micro_batches, s.microbatches_in_flight);
    // One layer of each kind on the stage, one micro-batch; with LoRA each adapter also keeps its
    // rank-r intermediate (lora_A's output) for lora_B.
    auto saved = [&](const LayerKind& k, Recompute mode) { return saved_bytes(layer_saved_tensors(m, c, mode, k), shape); };
    // What dropless routing could add to one layer at worst (activations.h; not planned).
    auto dropless_extra = [&](const LayerKind& k) { return dropless_worst_case_bytes(m, c, c.recompute, k) - saved(k, c.recompute); };
    auto layer_bytes = [&](const LayerKind& k) {
        double b = saved(k, c.recompute);
        if (c.lora.enabled()) b += count_lora(m, c.lora, {{k, 1}}).intermediates_per_token * shape.s * shape.b * pb.activation;
        return b;
    };
    std::vector<double> kind_bytes;
    double stage_bytes = 0, stage_dropless = 0;
    for (const LayerGroup& g : groups) {
        const double b = layer_bytes(g.kind);
        kind_bytes.push_back(b);
        stage_bytes += g.count * b;
        if (explain) stage_dropless += g.count * dropless_extra(g.kind);
    }
    // --offload-activations N (validate_config: pp 1, no recompute, N < L): Transformer Engine's CPU
    // offloading copies layers 0 … N−1's saved tensors to pinned CPU memory and frees them on the GPU,
    // so that the GPU holds the other L − N layers' (cpu_offload.py: "(num_layers −
    // num_offloaded_layers) · T"); docs/MEMORY_MODEL.md §4, "Activation offloading".
    double offloaded = 0;
    if (c.offload_activations > 0)
        for (const LayerGroup& g : layer_groups(m, 0, c.offload_activations)) offloaded += g.count * layer_bytes(g.kind);
    s.offloaded_activations = offloaded;
    s.cpu_offload += offloaded;
    // Layers of several kinds: their average, so that activations = per layer × layer·micro-batches
    // (exact with 1F1B; with interleaving each chunk is taken at the stage's average in-flight count).
    s.activations_per_layer = groups.size() == 1 ? kind_bytes.front() : stage_bytes / s.layers;
    const double first_extra = i == 0 ? saved_bytes(first_stage_saved_tensors(m, c), shape) : 0;
    const double first_in_flight = std::min<double>(p.pp, static_cast<double>(micro_batches));
    const double last_extra = last ? saved_bytes(last_stage_saved_tensors(m, c), shape) : 0;
    // DeepSeek-V3's MTP modules run after the output layer on the last stage, one micro-batch at a
    // time like it, each with its own output head (logits).
    const int mtp = last ? m.mtp_layers : 0;
    const std::vector<LayerKind> mtp_kinds = mtp_layer_kinds(m);
    const double mtp_extra = mtp > 0 ? mtp * saved_bytes(mtp_saved_tensors(m, c, c.recompute), shape) : 0;
    s.activations = s.activations_per_layer * s.layer_microbatches - offloaded + first_extra * first_in_flight + last_extra + mtp_extra;
    s.logits = last ? (1 + mtp) * logits_bytes(m, c) : 0;
    const double dropless_more = explain ? stage_dropless * s.layer_microbatches / s.layers +
                                               (mtp > 0 ? mtp * std::accumulate(mtp_kinds.begin(), mtp_kinds.end(), 0.0,
                                                                                [&](double a, const LayerKind& k) { return a + dropless_extra(k); })
                                                        : 0)
                                         : 0;

    // Backward rematerialises one layer at a time: the largest of the stage's layer kinds.
    std::vector<LayerKind> kinds;
    for (const LayerGroup& g : groups) kinds.push_back(g.kind);
    if (mtp > 0) kinds.insert(kinds.end(), mtp_kinds.begin(), mtp_kinds.end());
    for (const LayerKind& k : kinds) {
        const double full_layer = saved(k, Recompute::none);
        if (c.recompute == Recompute::full) s.recompute_working = std::max(s.recompute_working, full_layer);
        if (c.recompute == Recompute::selective)
            s.recompute_working = std::max(s.recompute_working, full_layer - saved(k, Recompute::selective));
    }

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
        f << gib(s.activations_per_layer) << " per layer per micro-batch (";
        if (groups.size() > 1) {  // the average of the stage's layer kinds
            std::vector<std::string> parts;
            for (std::size_t g = 0; g < groups.size(); ++g)
                parts.push_back(std::to_string(groups[g].count) + " × " + kind_name(m, groups[g].kind) + " " + gib(kind_bytes[g]));
            f << "average of " << join(parts, ", ") << "; ";
        }
        f << "recompute " << to_string(c.recompute) << ", " << to_string(c.attention) << " attention, s "
          << dec(shape.s) << ", b " << c.micro_batch << (c.dropout > 0 ? ", dropout" : ", no dropout") << ") × "
          << dec(s.layer_microbatches) << " layer·micro-batches in flight (" << s.layers << " layers × "
          << dec(s.microbatches_in_flight) << (p.virtual_stages > 1 ? " interleaved" : "") << ")";
        if (offloaded > 0)
            f << " − " << gib(offloaded) << " of layers 0–" << c.offload_activations - 1
              << " in CPU memory (--offload-activations " << c.offload_activations << ": Transformer Engine's CPU offloading)";
        if (first_extra > 0) f << " + embedding dropout masks " << gib(first_extra * first_in_flight);
        if (last_extra > 0) f << " + final-norm and output-layer inputs " << gib(last_extra);
        if (mtp > 0)
            f << " + " << mtp << (m.mtp_repeated ? " MTP depth" : " MTP module") << (mtp > 1 ? "s" : "") << " " << gib(mtp_extra)
              << " (each: its " << join([&] {
                     std::vector<std::string> names;
                     for (const LayerKind& k : mtp_kinds) names.push_back(kind_name(m, k));
                     return names;
                 }(), " and ")
              << ", the embedding-norm, 2d projection, final-norm and output-layer inputs)";
        const bool banded = std::any_of(groups.begin(), groups.end(),
                                        [](const LayerGroup& g) { return g.kind.attention != LayerAttention::global; });
        if (banded && c.attention == Attention::eager)
            f << "; sliding-window and chunked layers keep the full s × s scores (Hugging Face eager attention masks a whole score matrix)";
        if (dropless_more > 0) {
            const double per_rank = static_cast<double>(m.n_experts) / p.ep;
            f << "; not planned, dropless routing's worst case: an expert-parallel rank can receive min(top_k "
              << m.top_k << ", " << dec(per_rank) << " experts per rank) copies of each of the ep " << p.ep
              << " × s·b tokens of its group instead of the balanced " << m.top_k << " × s·b, " << dec(dropless_worst_case_ratio(m, c))
              << "× the received tokens and expert MLP tensors: " << gib(s.activations + dropless_more) << " (+"
              << gib(dropless_more) << ")";
        }
        s.terms.push_back({"activations", "activations", s.activations, f.str(),
                           "Korthikanti et al. 2022 §4 (Table 2), extended per tensor and layer kind (docs/MEMORY_MODEL.md §4)"});
    }
    if (last)
        s.terms.push_back({"logits", logits_label(c), s.logits,
                           dec(logit_bytes_kept(c)) + " B × s " + dec(shape.s) + " × b " + std::to_string(c.micro_batch) + " × vocab " +
                               std::to_string(m.vocab_size) + (p.tp > 1 ? " ÷ tp " + std::to_string(p.tp) : "") +
                               (m.final_softcap > 0 ? " × 2 (final soft-capping keeps its tanh output)" : "") +
                               (mtp > 0 ? " × (1 + " + std::to_string(mtp) + " MTP output heads)" : ""),
                           std::string("Korthikanti et al. 2022 §4.3 (4sbv/t)") +
                               (mtp > 0 ? "; DeepSeek-V3 report §2.2 (one output head per MTP module)" : "")});
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
            parts.push_back(std::string(to_string(c.precision)) + " copies + transposes of matmul weights " + gib(s.fp8_weight_cache));
        if (lora_dequant > 0)
            parts.push_back("one frozen matrix dequantized to 16 bits for its matmul (QLoRA) " + gib(lora_dequant));
        if (s.recompute_working > 0)
            parts.push_back(std::string(c.recompute == Recompute::full ? "one layer's activations" : "one layer's recomputed attention") +
                            " rematerialised in backward " + gib(s.recompute_working));
        s.terms.push_back({"temporary", "temporary buffers", s.temporary,
                           parts.empty() ? std::string("none in the generic model (fused optimizer, in-place loss gradient)")
                                         : join(parts, "; "),
                           "Korthikanti et al. 2022 §5; Transformer Engine fp8 / NVFP4 weight caching"});
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

// The stages that can be the most loaded, or the slowest (compute_time, perf.h, takes the last of
// the stages with the most FLOPs). With alike layers on equal stages, stage 0 (the most
// micro-batches in flight and the embedding) or the last (the logits and the output layer):
// middle stages hold fewer activations than stage 0 and no extras. With uneven stages, also the
// first and the last stage of each run of stages holding equally many layers: within a run the
// first keeps the most micro-batches in flight and the last is the one timed. With layers of
// several kinds a middle stage may hold more parameters (MoE layers where stage 0 holds dense
// ones): every stage.
std::vector<int> loaded_stages(const ModelSpec& m, const ParallelLayout& p) {
    std::vector<int> stages;
    if (m.heterogeneous()) {
        for (int i = 0; i < p.pp; ++i) stages.push_back(i);
        return stages;
    }
    std::vector<int> per_stage(static_cast<std::size_t>(p.pp), 0);
    if (!p.split.even()) {
        const std::vector<int> chunks = pipeline_chunk_layers(m.n_layers, p);
        for (std::size_t k = 0; k < chunks.size(); ++k) per_stage[k % static_cast<std::size_t>(p.pp)] += chunks[k];
    }
    for (int i = 0; i < p.pp; ++i) {
        const auto n = [&](int j) { return per_stage[static_cast<std::size_t>(j)]; };
        if (i == 0 || i == p.pp - 1 || n(i) != n(i - 1) || n(i) != n(i + 1)) stages.push_back(i);
    }
    return stages;
}

// Largest device_total over stages for a micro-batch, keeping micro-batches per step fixed.
double worst_device_total(const ModelSpec& m, const std::vector<ParamTensor>& tensors, TrainConfig c,
                          std::int64_t micro_batch) {
    const std::int64_t accum = std::max<std::int64_t>(1, c.grad_accum());
    c.micro_batch = micro_batch;
    c.global_batch = micro_batch * c.parallel.dp() * accum;
    double worst = 0;
    for (int i : loaded_stages(m, c.parallel)) worst = std::max(worst, plan_stage(m, tensors, c, i, false).device_total);
    return worst;
}

}  // namespace

std::vector<LayerRange> stage_layer_ranges(const ModelSpec& m, const ParallelLayout& p, int stage) {
    const int v = std::max(1, p.virtual_stages);
    std::vector<LayerRange> ranges;
    if (p.split.even()) {  // equal chunks: chunk k holds layers [k·c, (k + 1)·c)
        const int chunk = m.n_layers / (p.pp * v);
        for (int j = 0; j < v; ++j) ranges.push_back({(stage + j * p.pp) * chunk, chunk});
        return ranges;
    }
    // Uneven chunks (core/config.h PipelineSplit): chunk k starts after chunks 0 … k − 1.
    const std::vector<int> chunks = pipeline_chunk_layers(m.n_layers, p);
    int first = 0;
    for (int k = 0; k < static_cast<int>(chunks.size()); ++k) {
        if (k % p.pp == stage) ranges.push_back({first, chunks[static_cast<std::size_t>(k)]});
        first += chunks[static_cast<std::size_t>(k)];
    }
    return ranges;
}

int stage_layer_count(const ModelSpec& m, const ParallelLayout& p, int stage) {
    int n = 0;
    for (const LayerRange& r : stage_layer_ranges(m, p, stage)) n += r.count;
    return n;
}

std::vector<LayerGroup> stage_layer_groups(const ModelSpec& m, const ParallelLayout& p, int stage) {
    std::vector<LayerGroup> groups;
    for (const LayerRange& r : stage_layer_ranges(m, p, stage))
        for (const LayerGroup& g : layer_groups(m, r.first, r.count)) {
            auto it = std::find_if(groups.begin(), groups.end(), [&](const LayerGroup& x) { return x.kind == g.kind; });
            if (it == groups.end()) groups.push_back(g);
            else it->count += g.count;
        }
    return groups;
}

FitState fit_state(double headroom_bytes, double capacity_bytes, double margin) {
    if (headroom_bytes < 0) return FitState::does_not_fit;
    return headroom_bytes < margin * capacity_bytes ? FitState::tight : FitState::fits;
}

MemoryPlan plan_memory(const ModelSpec& given, const GpuSpec& gpu, const TrainConfig& config) {
    validate_model(given, "model " + given.name);
    MemoryPlan plan;
    plan.gpu = gpu;
    plan.config = resolve_defaults(given, config);
    const FrameworkProfile& framework = framework_profile(plan.config.framework);
    const ModelSpec model = framework.trained_model(given);  // what the framework builds and trains
    plan.model = model;
    plan.warnings = validate_config(model, plan.config);
    if (std::string w = precision_fallback_warning(gpu, plan.config.precision); !w.empty()) plan.warnings.push_back(std::move(w));
    plan.params = count_params(model);
    check_framework_options(plan.config);
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

MemoryPlan plan_memory_quick(const ModelSpec& given, const std::vector<ParamTensor>& given_tensors,
                             const ParamBreakdown& given_params, const GpuSpec& gpu, const TrainConfig& config) {
    MemoryPlan plan;
    plan.gpu = gpu;
    plan.config = resolve_defaults(given, config);
    const FrameworkProfile& framework = framework_profile(plan.config.framework);
    const ModelSpec model = framework.trained_model(given);
    const bool same = model == given;
    const std::vector<ParamTensor> own_tensors = same ? std::vector<ParamTensor>{} : param_tensors(model);
    const std::vector<ParamTensor>& tensors = same ? given_tensors : own_tensors;
    plan.model = model;
    plan.warnings = validate_config(model, plan.config);
    check_framework_options(plan.config);
    framework.validate(model, plan.config);
    plan.params = same ? given_params : count_params(model);
    plan.capacity_bytes = gpu.memory_bytes;
    for (int i : loaded_stages(model, plan.config.parallel)) {
        plan.stages.push_back(plan_stage(model, tensors, plan.config, i, false));
        if (plan.stages.back().device_total > plan.worst().device_total)
            plan.worst_stage = static_cast<int>(plan.stages.size()) - 1;
    }
    const double total = plan.worst().device_total;
    plan.fits = total <= plan.capacity_bytes;
    plan.headroom_bytes = plan.capacity_bytes - total;
    return plan;
}

}  // namespace llmplan
