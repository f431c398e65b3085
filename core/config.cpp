// config.cpp — string forms of the training-config enums, defaults, and combination checks.
#include "core/config.h"

#include "core/checked.h"
#include "core/error.h"
#include "core/text.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace llmplan {

namespace {

template <typename E, std::size_t N>
using Names = std::array<std::pair<const char*, E>, N>;

constexpr Names<Optimizer, 7> kOptimizers{{{"adamw", Optimizer::adamw},
                                           {"adam", Optimizer::adam},
                                           {"sgd", Optimizer::sgd},
                                           {"sgd-momentum", Optimizer::sgd_momentum},
                                           {"adafactor", Optimizer::adafactor},
                                           {"lion", Optimizer::lion},
                                           {"adamw-8bit", Optimizer::adamw_8bit}}};
constexpr Names<Offload, 3> kOffloads{
    {{"none", Offload::none}, {"optimizer", Offload::optimizer}, {"optimizer+params", Offload::optimizer_params}}};
constexpr Names<Framework, 7> kFrameworks{{{"generic", Framework::generic},
                                            {"pytorch", Framework::pytorch},
                                            {"llmplan", Framework::llmplan},
                                            {"megatron", Framework::megatron},
                                            {"megatron-bridge", Framework::megatron_bridge},
                                            {"deepspeed", Framework::deepspeed},
                                            {"torchtitan", Framework::torchtitan}}};

// The (name, value) pairs of an enum whose names core/vocab.h lists in enum order.
template <typename E, std::size_t N>
constexpr Names<E, N> indexed(const std::array<const char*, N>& names) {
    Names<E, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = {names[i], static_cast<E>(i)};
    return out;
}
constexpr auto kPrecisions = indexed<Precision>(kPrecisionNames);
constexpr auto kRecomputes = indexed<Recompute>(kRecomputeNames);
constexpr auto kAttentions = indexed<Attention>(kAttentionNames);

template <typename E, std::size_t N>
const char* name_of(const Names<E, N>& names, E value) {
    for (const auto& [name, v] : names)
        if (v == value) return name;
    return "?";
}

template <typename E, std::size_t N>
std::vector<std::string> all_names(const Names<E, N>& names) {
    std::vector<std::string> out;
    for (const auto& entry : names) out.emplace_back(entry.first);
    return out;
}

// The value named `key` (already lower case and trimmed), if any.
template <typename E, std::size_t N>
std::optional<E> find_named(const Names<E, N>& names, const std::string& key) {
    for (const auto& [name, v] : names)
        if (key == name) return v;
    return std::nullopt;
}

template <typename E, std::size_t N>
E parse_named(const Names<E, N>& names, std::string_view text, std::string_view flag, const char* what) {
    const std::string key = to_lower(trim(text));
    if (const std::optional<E> v = find_named(names, key)) return *v;
    std::string msg = std::string(flag) + ": unknown " + what + " \"" + std::string(text) + "\"";
    if (auto guess = closest_match(key, all_names(names))) msg += " (did you mean \"" + *guess + "\"?)";
    msg += "; choose one of " + join(all_names(names), ", ");
    throw InputError(msg);
}

[[noreturn]] void fail(const std::string& msg) { throw InputError(msg); }

std::string str(std::int64_t v) { return std::to_string(v); }

}  // namespace

const char* to_string(Optimizer o) { return name_of(kOptimizers, o); }
const char* to_string(Offload o) { return name_of(kOffloads, o); }
const char* to_string(Framework f) { return name_of(kFrameworks, f); }

Precision parse_precision(std::string_view t, std::string_view flag) { return parse_named(kPrecisions, t, flag, "precision"); }
Optimizer parse_optimizer(std::string_view t, std::string_view flag) { return parse_named(kOptimizers, t, flag, "optimizer"); }
Recompute parse_recompute(std::string_view t, std::string_view flag) { return parse_named(kRecomputes, t, flag, "recompute mode"); }
Attention parse_attention(std::string_view t, std::string_view flag) { return parse_named(kAttentions, t, flag, "attention"); }
Offload parse_offload(std::string_view t, std::string_view flag) { return parse_named(kOffloads, t, flag, "offload mode"); }
// The names people give the stacks these profiles model, beside the profiles' own: NeMo trains
// through Megatron Bridge (since 25.09; its earlier performance recipes set the same overlaps),
// Megatron-LM and Megatron-Core are the megatron profile's code, the pytorch profile models
// Hugging Face transformers. '_' is read as '-'.
constexpr Names<Framework, 8> kFrameworkAliases{{{"nemo", Framework::megatron_bridge},
                                                  {"mbridge", Framework::megatron_bridge},
                                                  {"megatron-lm", Framework::megatron},
                                                  {"megatron-core", Framework::megatron},
                                                  {"mcore", Framework::megatron},
                                                  {"transformers", Framework::pytorch},
                                                  {"huggingface", Framework::pytorch},
                                                  {"hf", Framework::pytorch}}};

Framework parse_framework(std::string_view t, std::string_view flag) {
    std::string key = to_lower(trim(t));
    std::replace(key.begin(), key.end(), '_', '-');
    if (const std::optional<Framework> v = find_named(kFrameworkAliases, key)) return *v;
    if (const std::optional<Framework> v = find_named(kFrameworks, key)) return *v;
    return parse_named(kFrameworks, t, flag, "framework");  // the error, with the closest name
}
std::string framework_aliases() {
    std::string out;
    for (const auto& [name, v] : kFrameworkAliases) out += std::string(out.empty() ? "" : ", ") + name + " = " + to_string(v);
    return out;
}
std::vector<std::string> framework_names() { return all_names(kFrameworks); }
std::vector<std::string> precision_names() { return all_names(kPrecisions); }
std::vector<std::string> optimizer_names() { return all_names(kOptimizers); }

namespace {
std::vector<int> pipeline_chunk_layers_computed(int L, const ParallelLayout& p);
}  // namespace

// The last split of this thread remembered: a plan asks for the same layout's chunks once per
// stage and per term (a search, for every layout it plans). A split that fails is not remembered.
std::vector<int> pipeline_chunk_layers(int L, const ParallelLayout& p) {
    struct Last {
        int L = -1, pp = 0, v = 0;
        PipelineSplit split;
        std::vector<int> chunks;
    };
    thread_local Last last;
    if (last.L == L && last.pp == p.pp && last.v == p.virtual_stages && last.split == p.split) return last.chunks;
    std::vector<int> chunks = pipeline_chunk_layers_computed(L, p);
    last = {L, p.pp, p.virtual_stages, p.split, chunks};
    return chunks;
}

namespace {
std::vector<int> pipeline_chunk_layers_computed(int L, const ParallelLayout& p) {
    const PipelineSplit& sp = p.split;
    const int pp = p.pp, v = std::max(1, p.virtual_stages), chunks = pp * v;
    // The messages' words, made only for a message (a search calls this for every layout it plans).
    const auto layers_of = [&] { return " the " + std::to_string(L) + " layers"; };
    // The flags as typed: "--pp-layers 7,8,8,7", "--pp-first-last 7,".
    const auto layers_flag = [&] {
        std::vector<std::string> counts;
        for (int n : sp.layers) counts.push_back(std::to_string(n));
        return "--pp-layers " + join(counts, ",");
    };
    const auto first_last_flag = [&] {
        return "--pp-first-last " + (sp.first >= 0 ? std::to_string(sp.first) : std::string()) + "," +
               (sp.last >= 0 ? std::to_string(sp.last) : std::string());
    };
    // Stage i's layers as v equal chunks, in the model's order (chunk j·p + i).
    auto from_stages = [&](const std::vector<int>& stages, const auto& flag) {
        std::vector<int> out(static_cast<std::size_t>(chunks));
        for (int i = 0; i < pp; ++i) {
            if (stages[static_cast<std::size_t>(i)] % v != 0)
                fail(flag() + ": stage " + std::to_string(i) + "'s " + std::to_string(stages[static_cast<std::size_t>(i)]) +
                     " layers do not split into --virtual-stages " + std::to_string(v) +
                     " equal model chunks (--pp-layers takes the layers of each of the " + std::to_string(chunks) + " chunks)");
            for (int j = 0; j < v; ++j) out[static_cast<std::size_t>(j * pp + i)] = stages[static_cast<std::size_t>(i)] / v;
        }
        return out;
    };
    // Every chunk holds a transformer layer, but where the embedding (the first chunk) or the loss
    // (the last) counts as a layer of the split that chunk may hold it alone (Megatron-LM builds a
    // model chunk of no transformer layer there: 126 + 2 layers over 16 × 8 chunks), as long as
    // each stage keeps one.
    auto check = [&](std::vector<int> out, const auto& flag, bool ends_may_be_empty = false) {
        int sum = 0;
        std::vector<int> per_stage(static_cast<std::size_t>(pp), 0);
        for (std::size_t k = 0; k < out.size(); ++k) {
            const bool end = ends_may_be_empty && v > 1 && ((k == 0 && sp.embedding_as_layer) || (k + 1 == out.size() && sp.loss_as_layer));
            if (out[k] < (end ? 0 : 1))
                fail(flag() + ": " + (v > 1 ? "model chunk " + std::to_string(k) + " (stage " + std::to_string(static_cast<int>(k) % pp) + ")"
                                          : "stage " + std::to_string(k)) +
                     " would hold no transformer layer");
            sum += out[k];
            per_stage[k % static_cast<std::size_t>(pp)] += out[k];
        }
        for (int i = 0; i < pp; ++i)
            if (per_stage[static_cast<std::size_t>(i)] < 1) fail(flag() + ": stage " + std::to_string(i) + " would hold no transformer layer");
        if (sum != L) fail(flag() + ": the stages hold " + std::to_string(sum) + " layers, not" + layers_of() + " of the model");
        return out;
    };
    const int ways = !sp.layers.empty() + (sp.first >= 0 || sp.last >= 0) + sp.balanced;
    if (ways > 1) fail("--pp-layers and --pp-first-last each set the layers per stage; give only one of them");
    if ((sp.embedding_as_layer || sp.loss_as_layer) && ways > 0)
        fail("--account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split split equal stages; "
             "with --pp-layers or --pp-first-last give the transformer layers of each stage instead");
    if (!sp.even() && pp == 1) {
        const std::string flag = sp.balanced ? "--pp-layers balanced"
                                 : !sp.layers.empty() ? layers_flag()
                                 : ways > 0 ? first_last_flag()
                                 : sp.embedding_as_layer ? "--account-for-embedding-in-pipeline-split"
                                                         : "--account-for-loss-in-pipeline-split";
        fail(flag + " splits pipeline stages: it needs --pp > 1");
    }
    if (!sp.layers.empty()) {  // --pp-layers L0,L1,…
        const int n = static_cast<int>(sp.layers.size());
        if (n == chunks) return check(sp.layers, layers_flag);
        if (n != pp)
            fail(layers_flag() + ": " + std::to_string(n) + " counts for --pp " + std::to_string(pp) +
                 (v > 1 ? " × --virtual-stages " + std::to_string(v) + ": give " + std::to_string(pp) +
                              " (one per stage) or " + std::to_string(chunks) + " (one per model chunk)"
                        : ": give one per stage"));
        return check(from_stages(sp.layers, layers_flag), layers_flag);
    }
    if (sp.first >= 0 || sp.last >= 0) {  // Megatron-LM's get_num_layers_to_build
        const int given = (sp.first >= 0) + (sp.last >= 0);
        const int rest = L - std::max(0, sp.first) - std::max(0, sp.last), middle = pp - given;
        if (rest < 0)
            fail(first_last_flag() + ": more layers than" + layers_of() + " of the model");
        if ((middle == 0 && rest != 0) || (middle > 0 && rest % middle != 0))
            fail(first_last_flag() + ": the other " + std::to_string(rest) + " of" + layers_of() +
                 (middle > 0 ? " do not split equally over the " + std::to_string(middle) + " other stages (Megatron-LM requires it)"
                             : " are left for no stage"));
        std::vector<int> stages(static_cast<std::size_t>(pp), middle > 0 ? rest / middle : 0);
        if (sp.first >= 0) stages.front() = sp.first;
        if (sp.last >= 0) stages.back() = sp.last;
        return check(from_stages(stages, first_last_flag), first_last_flag);
    }
    if (sp.balanced) {
        // ⌊L/(p·v)⌋ layers per model chunk; the remainder one layer per chunk, round by round, on
        // the stages in the order middle (from the last backwards), last, first: the first and last
        // stages also hold the embedding and the output layer. With v = 1, per stage.
        std::vector<int> out(static_cast<std::size_t>(chunks), L / chunks);
        std::vector<int> order;
        for (int i = pp - 2; i >= 1; --i) order.push_back(i);
        if (pp > 1) order.push_back(pp - 1);
        order.push_back(0);
        int extra = L % chunks;
        for (int j = 0; j < v && extra > 0; ++j)
            for (int i : order)
                if (extra > 0) ++out[static_cast<std::size_t>(j * pp + i)], --extra;
        return check(out, [] { return std::string("--pp-layers balanced"); });
    }
    // Equal stages; the embedding and the loss as layers of the split (Megatron-LM).
    const int counted = L + sp.embedding_as_layer + sp.loss_as_layer;
    if (counted % chunks != 0) {
        const std::string what = v > 1 ? "--pp × --virtual-stages = " + std::to_string(chunks) : "--pp " + std::to_string(pp);
        if (sp.embedding_as_layer || sp.loss_as_layer)
            fail(what + " does not divide the " + std::to_string(counted) + " layers of the split (" + std::to_string(L) +
                 " transformer layers + " + (sp.embedding_as_layer && sp.loss_as_layer ? "the embedding and the loss" :
                                             sp.embedding_as_layer ? "the embedding" : "the loss") + ")");
        fail(what + " does not divide" + layers_of() + " (--pp-layers sets uneven stages)");
    }
    std::vector<int> out(static_cast<std::size_t>(chunks), counted / chunks);
    if (sp.embedding_as_layer) --out.front();  // the first chunk of stage 0
    if (sp.loss_as_layer) --out.back();        // the last chunk of the last stage
    return check(out, [&] {
        return std::string(sp.embedding_as_layer ? "--account-for-embedding-in-pipeline-split" : "--account-for-loss-in-pipeline-split");
    }, true);
}
}  // namespace

std::string stage_layers_text(int L, const ParallelLayout& p) {
    const std::vector<int> chunks = pipeline_chunk_layers(L, p);
    std::vector<std::string> parts;
    for (int i = 0; i < p.pp; ++i) {
        int n = 0;
        for (std::size_t k = static_cast<std::size_t>(i); k < chunks.size(); k += static_cast<std::size_t>(p.pp)) n += chunks[k];
        parts.push_back(std::to_string(n));
    }
    return join(parts, ",");
}

std::int64_t default_seq(const ModelSpec& model) { return std::min<std::int64_t>(model.max_positions, 4096); }

PipelineSplit default_pipeline_split(int L, int pp, int v) {
    PipelineSplit s;
    const std::int64_t chunks = std::int64_t{pp} * std::max(1, v);  // both ints: no overflow in 64 bits
    // Equal stages, or nothing to choose (more chunks than L + 2 leave a stage without a layer).
    if (pp <= 1 || L < 1 || chunks > std::int64_t{L} + 2 || L % chunks == 0) return s;
    // In this order, the first that places every layer (pipeline_chunk_layers accepts it): the
    // embedding and the loss as layers, as NVIDIA's recipes for 126- and 94-layer models (a model
    // chunk at either end may then hold no transformer layer: 126 + 2 over 16 × 8 chunks); the loss
    // alone (the output layer: the heavier end); balanced.
    ParallelLayout p;
    p.pp = pp, p.virtual_stages = std::max(1, v);
    PipelineSplit both, loss, balanced;
    both.embedding_as_layer = both.loss_as_layer = true;
    loss.loss_as_layer = true;
    balanced.balanced = true;
    for (const auto& [candidate, divides] : {std::pair{both, (L + 2) % chunks == 0}, std::pair{loss, (L + 1) % chunks == 0},
                                             std::pair{balanced, L >= chunks}}) {
        if (!divides) continue;
        p.split = candidate;
        try {
            pipeline_chunk_layers(L, p);
        } catch (const InputError&) {
            continue;
        }
        p.split.chosen_by_llmplan = true;
        return p.split;
    }
    return s;  // fewer layers than model chunks: validate_config says so
}

TrainConfig resolve_defaults(const ModelSpec& model, TrainConfig c) {
    if (c.seq == 0) c.seq = default_seq(model);
    if (c.parallel.split.even() && !c.parallel.split.chosen_by_llmplan)
        c.parallel.split = default_pipeline_split(model.n_layers, c.parallel.pp, c.parallel.virtual_stages);
    ParallelLayout& pl = c.parallel;
    // (dp() is 0 for a layout that does not fit the GPUs: nothing is chosen, validate_config says why.)
    if (model.is_moe() && pl.etp == 0 && pl.tp > 1 && pl.sp && pl.ep > 1 && pl.dp() > 0 && pl.expert_shard_group() == 0) {
        ParallelLayout folded = pl;
        folded.etp = 1;
        if (folded.expert_shard_group() > 0) pl.etp = 1, pl.etp_chosen_by_llmplan = true;
    }
    const ParallelLayout& p = c.parallel;
    if (c.global_batch == 0 && p.gpus > 0 && p.tp > 0 && p.pp > 0 && p.cp > 0 && p.dp() > 0) {
        // One micro-batch per pipeline stage per step: the fewest that keep a 1F1B pipeline full.
        const std::optional<std::int64_t> per_rank = checked_mul(c.micro_batch, std::int64_t{p.dp()} * p.pp);
        const std::optional<std::int64_t> batch =
            per_rank ? checked_mul(*per_rank, std::int64_t{std::max(1, p.virtual_stages)}) : std::nullopt;
        if (!batch)
            fail("--micro-batch " + str(c.micro_batch) + ": the default global batch (micro-batch × data-parallel × pipeline × "
                 "virtual stages) is too large; give --global-batch");
        c.global_batch = *batch;
    }
    return c;
}

int default_zero_stage(Framework f, const ParallelLayout& p) {
    if (p.dp() * p.cp <= 1) return 0;
    return megatron_family(f) ? 1 : f == Framework::torchtitan ? 3 : 0;
}

std::vector<std::string> validate_config(const ModelSpec& m, const TrainConfig& c) {
    std::vector<std::string> warnings = c.input_notes;
    const ParallelLayout& p = c.parallel;
    const std::string model = "the " + m.name + " model";

    auto positive = [](int v, const char* flag) {
        if (v < 1) fail(std::string(flag) + ": \"" + std::to_string(v) + "\" must be a positive integer");
    };
    positive(p.gpus, "--gpus");
    positive(p.gpus_per_node, "--gpus-per-node");
    positive(p.tp, "--tp");
    positive(p.pp, "--pp");
    positive(p.cp, "--cp");
    positive(p.ep, "--ep");
    positive(p.virtual_stages, "--virtual-stages");
    if (p.zero < 0 || p.zero > 3) fail("--zero: \"" + std::to_string(p.zero) + "\" must be between 0 and 3");
    if (c.lora.rank < 0) fail("--lora-rank: \"" + std::to_string(c.lora.rank) + "\" must not be negative");
    if (c.lora.base_quant != BaseQuant::none && !c.lora.enabled())
        fail(std::string("--base-quant ") + to_string(c.lora.base_quant) + " quantizes a frozen base: it needs --lora-rank (QLoRA)");
    if (c.lora.enabled() && !(c.lora.alpha > 0)) fail("--lora-alpha: must be positive");
    if (c.lora.paged_optimizer && !c.lora.enabled()) fail("--paged-optimizer: pages the adapters' optimizer state; it needs --lora-rank");
    if (c.micro_batch < 1) fail("--micro-batch: \"" + str(c.micro_batch) + "\" must be a positive integer");
    if (c.seq < 1) fail("--seq: \"" + str(c.seq) + "\" must be a positive integer");
    if (c.dropout < 0.0 || c.dropout >= 1.0) fail("--dropout: \"" + std::to_string(c.dropout) + "\" must be in [0, 1)");

    // Layout: gpus = dp × tp × pp × cp.
    // tp × pp × cp of int sizes can leave int64: an overflowing product is more than the GPUs.
    const std::optional<std::int64_t> model_parallel = checked_mul(std::int64_t{p.tp} * p.pp, p.cp);
    if (!model_parallel || p.gpus % *model_parallel != 0)
        fail("--gpus " + std::to_string(p.gpus) + " is not divisible by tp × pp × cp = " +
             (model_parallel ? str(*model_parallel)
                             : std::to_string(p.tp) + " × " + std::to_string(p.pp) + " × " + std::to_string(p.cp)) +
             " (data parallel = gpus / (tp × pp × cp) must be a whole number)");
    if (p.gpus > p.gpus_per_node && p.gpus % p.gpus_per_node != 0)
        warnings.push_back("--gpus " + std::to_string(p.gpus) + " is not a whole number of nodes of --gpus-per-node " +
                           std::to_string(p.gpus_per_node) + " (the last node is partly used)");

    // Tensor parallel splits heads, KV heads, the MLP and (padded) the vocabulary (Megatron §3).
    if (m.n_heads % p.tp != 0)
        fail("--tp " + std::to_string(p.tp) + " does not divide the " + std::to_string(m.n_heads) +
             " attention heads of " + model);
    if (m.n_kv_heads % p.tp != 0)
        fail("--tp " + std::to_string(p.tp) + " does not divide the " + std::to_string(m.n_kv_heads) +
             " key/value heads of " + model + " (Megatron requires num_query_groups % tp == 0)");
    if (m.d_ff % p.tp != 0)
        fail("--tp " + std::to_string(p.tp) + " does not divide the MLP size " + std::to_string(m.d_ff) + " of " + model);
    if (p.sp && p.tp == 1) warnings.push_back("--sp has no effect with --tp 1 (sequence parallelism splits along tensor-parallel ranks)");
    if (p.sp && c.seq % p.tp != 0)
        fail("--seq " + str(c.seq) + " is not divisible by --tp " + std::to_string(p.tp) + " (sequence parallelism splits the sequence)");

    // Pipeline: stages of whole layers, equal by default (Megatron's; 1F1B or interleaved); where
    // p·v does not divide the layers and no split is given, default_pipeline_split's (said here).
    const std::string chunks_do_not_divide =
        (p.virtual_stages > 1 ? "--pp × --virtual-stages = " + str(std::int64_t{p.pp} * p.virtual_stages) : "--pp " + std::to_string(p.pp)) +
        " does not divide the " + std::to_string(m.n_layers) + " layers of " + model;
    if (p.split.chosen_by_llmplan) {
        pipeline_chunk_layers(m.n_layers, p);
        const PipelineSplit& s = p.split;
        warnings.push_back(chunks_do_not_divide +
                           ": planned with uneven stages of " + stage_layers_text(m.n_layers, p) + " layers (" +
                           (s.balanced ? std::string("the remainder on the middle stages")
                                       : s.embedding_as_layer ? std::string("the embedding and the loss each counted as a layer, as "
                                                                            "--account-for-embedding-in-pipeline-split "
                                                                            "--account-for-loss-in-pipeline-split")
                                                              : std::string("the loss counted as a layer, as --account-for-loss-in-pipeline-split")) +
                           "); --pp-layers or --pp-first-last set them");
    } else if (p.split.even()) {
        if (m.n_layers % (std::int64_t{p.pp} * p.virtual_stages) != 0)
            fail(chunks_do_not_divide + " (--pp-layers or --pp-first-last set uneven stages)");
    } else {
        pipeline_chunk_layers(m.n_layers, p);  // throws, naming the flag, if the split does not fit
    }
    if (p.virtual_stages > 1 && p.pp == 1) fail("--virtual-stages " + std::to_string(p.virtual_stages) + " needs --pp > 1");

    // Context parallel: ring attention over sequence chunks, with a fused (flash) kernel.
    if (c.seq % p.cp != 0)
        fail("--seq " + str(c.seq) + " is not divisible by --cp " + std::to_string(p.cp));
    if (p.cp > 1 && c.attention == Attention::eager)
        fail("--cp " + std::to_string(p.cp) + " needs --attention flash (context parallelism runs ring attention "
             "with a fused kernel; eager scores are not split)");

    // Expert parallel.
    if (p.ep > 1 && !m.is_moe()) fail("--ep " + std::to_string(p.ep) + " needs a mixture-of-experts model; " + model + " is dense");
    if (m.is_moe() && m.n_experts % p.ep != 0)
        fail("--ep " + std::to_string(p.ep) + " does not divide the " + std::to_string(m.n_experts) + " experts of " + model);
    // Expert tensor parallel (--etp): the experts split like the dense layers (etp = tp, the
    // default) or whole on each rank (etp 1, Megatron-Core's parallel folding; torchtitan's
    // expert_tensor_parallel_degree takes the same two values). The expert-parallel group is then
    // carved from tp × cp × dp ÷ etp ranks (Megatron-Core's expert RankGenerator: etp, ep, edp, pp).
    if (p.etp < 0) fail("--etp: \"" + std::to_string(p.etp) + "\" must be a positive integer");
    if (p.etp_chosen_by_llmplan)
        warnings.push_back("--ep " + std::to_string(p.ep) + " does not divide data × context parallel = " + std::to_string(p.dp() * p.cp) +
                           ", as it must with the experts split like the dense layers (--etp tp, Megatron-Core's default): "
                           "planned with --etp 1 (parallel folding: the expert-parallel group spans the tensor-parallel ranks "
                           "too), the layout that fits; --etp sets it");
    if (p.etp > 0 && p.etp != 1 && p.etp != p.tp)
        fail("--etp " + std::to_string(p.etp) + " must be 1 or --tp " + std::to_string(p.tp) +
             " (experts split like the dense layers, or whole on each rank; sizes between are not modelled)");
    if (p.expert_tp() != p.tp && !m.is_moe())
        fail("--etp " + std::to_string(p.etp) + " needs a mixture-of-experts model; " + model + " is dense");
    if (p.expert_tp() != p.tp && !p.sp)
        fail("--etp " + std::to_string(p.etp) + " with --tp " + std::to_string(p.tp) +
             " needs --sp (Megatron-Core runs mixture-of-experts layers under tensor parallelism only with sequence "
             "parallelism: each rank dispatches its own s/tp tokens)");
    if (m.is_moe() && m.expert_d_ff() % p.expert_tp() != 0)
        fail("--" + std::string(p.etp > 0 ? "etp " : "tp ") + std::to_string(p.expert_tp()) + " does not divide the expert MLP size " +
             std::to_string(m.expert_d_ff()) + " of " + model);
    // tp × cp × dp = etp × ep × edp: ParallelLayout::expert_shard_group is 0 where ep does not fit.
    if (p.expert_shard_group() == 0) {
        if (p.expert_tp() == p.tp)
            fail("--ep " + std::to_string(p.ep) + " does not divide data × context parallel = " +
                 std::to_string(p.dp() * p.cp) + " (experts are split across data-parallel ranks; with --tp > 1, --etp 1 "
                 "lets expert parallelism span the tensor-parallel ranks too)");
        fail("--ep " + std::to_string(p.ep) + " does not divide tp × cp × dp = " + str(std::int64_t{p.tp} * p.cp * p.dp()) +
             " (with --etp 1 the expert-parallel group spans a pipeline stage's tensor, context and data-parallel ranks)");
    }

    // Sequence length vs. the model's positions.
    if (c.seq > m.max_positions) {
        if (m.position == PositionEmbedding::learned)
            fail("--seq " + str(c.seq) + " exceeds the " + str(m.max_positions) + " learned positions of " + model);
        warnings.push_back("--seq " + str(c.seq) + " is longer than the " + str(m.max_positions) +
                           " positions " + m.name + " was trained with (rotary scaling needed)");
    }

    // Batch.
    if (c.global_batch != 0) {
        // Tokens per step in 64-bit integers: checked, and at most 10^15 (exact in a double).
        const std::optional<std::int64_t> tokens = checked_mul(c.global_batch, c.seq);
        if (!tokens || *tokens > kMaxTokensPerStep)
            fail("--global-batch " + str(c.global_batch) + " × --seq " + str(c.seq) +
                 " is more than 10^15 tokens per step");
        const std::int64_t per_step = c.micro_batch * p.dp();
        if (c.global_batch < per_step || c.global_batch % per_step != 0)
            fail("--global-batch " + str(c.global_batch) + " is not a multiple of --micro-batch × data parallel = " +
                 str(c.micro_batch) + " × " + std::to_string(p.dp()) + " = " + str(per_step));
        if (p.virtual_stages > 1 && c.grad_accum() % p.pp != 0)
            fail("--global-batch " + str(c.global_batch) + " gives " + str(c.grad_accum()) +
                 " micro-batches per step; the interleaved schedule needs a multiple of --pp " + std::to_string(p.pp));
    }

    // ZeRO and offload.
    if (p.zero > 0 && p.shard_group() == 1)
        warnings.push_back("ZeRO-" + std::to_string(p.zero) +
                           " on a single data-parallel rank shards nothing: memory is as with --zero 0");
    if (c.offload == Offload::optimizer_params && p.zero != 3)
        fail("--offload optimizer+params needs --zero 3 (ZeRO-Infinity offloads parameter shards)");
    if (c.offload != Offload::none && p.zero == 0)
        warnings.push_back("--offload " + std::string(to_string(c.offload)) +
                           " with --zero 0: ZeRO-Offload keeps a full optimizer copy on the CPU of every rank");
    if (c.offload != Offload::none)
        warnings.push_back("--offload " + std::string(to_string(c.offload)) +
                           ": the optimizer step runs on the CPU, and its time (CPU Adam, the copies over the host link) is not "
                           "modelled: the step time leaves it out");
    // Hybrid Mamba models (Nemotron-H, Nemotron 3): modelled as Megatron-Core builds and trains them.
    if (m.hybrid()) {
        if (c.framework != Framework::generic && !megatron_family(c.framework))
            fail("--framework " + std::string(to_string(c.framework)) + ": " + model +
                 " is a hybrid (Mamba/attention/MLP layers), modelled as Megatron-Core trains it: --framework generic, megatron or megatron-bridge");
        if (m.has_mamba() && (m.mamba.heads % p.tp != 0 || m.mamba.groups % p.tp != 0))
            fail("--tp " + std::to_string(p.tp) + ": Megatron-Core splits the Mamba heads (" + std::to_string(m.mamba.heads) +
                 ") and groups (" + std::to_string(m.mamba.groups) + ") over the tensor-parallel ranks; --tp must divide both");
        // Context parallelism over Mamba layers: Megatron-Core's head-parallel all-to-all
        // (megatron/core/ssm/mamba_context_parallel.py) gives each context-parallel rank the whole
        // sequence of heads ÷ (tp × cp) heads; the groups of B and C are split the same way, or,
        // fewer than cp per tensor-parallel rank, repeated so that cp is a multiple of them.
        if (m.has_mamba() && p.cp > 1) {
            const int heads = m.mamba.heads / p.tp, groups = m.mamba.groups / p.tp;
            if (heads % p.cp != 0 || (groups < p.cp ? p.cp % groups != 0 : groups % p.cp != 0))
                fail("--cp " + std::to_string(p.cp) + ": Megatron-Core's context parallelism over Mamba layers gives each rank "
                     "whole heads and groups: the " + std::to_string(heads) + " heads and " + std::to_string(groups) +
                     " groups per tensor-parallel rank must divide by --cp (or --cp by the groups)");
        }
    }
    // Gated DeltaNet layers (Qwen3-Next, Qwen3.5): modelled as Megatron-Core's GatedDeltaNet runs them.
    if (m.has_gdn()) {
        if (c.framework != Framework::generic && !megatron_family(c.framework))
            fail("--framework " + std::string(to_string(c.framework)) + ": " + model +
                 " has Gated DeltaNet layers, modelled as Megatron-Core trains them: --framework generic, megatron or megatron-bridge");
        if (m.gdn.k_heads % p.tp != 0 || m.gdn.v_heads % p.tp != 0)
            fail("--tp " + std::to_string(p.tp) + ": Megatron-Core splits the Gated DeltaNet key heads (" +
                 std::to_string(m.gdn.k_heads) + ") and value heads (" + std::to_string(m.gdn.v_heads) +
                 ") over the tensor-parallel ranks; --tp must divide both");
        // Context parallelism: the head-parallel all-to-all (megatron/core/ssm/gated_delta_net/
        // common.py, tensor_a2a_cp2hp) gives each rank whole key and value heads.
        if (p.cp > 1 && ((m.gdn.k_heads / p.tp) % p.cp != 0 || (m.gdn.v_heads / p.tp) % p.cp != 0))
            fail("--cp " + std::to_string(p.cp) + ": Megatron-Core's context parallelism over Gated DeltaNet layers gives each "
                 "rank whole heads: the " + std::to_string(m.gdn.k_heads / p.tp) + " key and " +
                 std::to_string(m.gdn.v_heads / p.tp) + " value heads per tensor-parallel rank must divide by --cp");
    }
    // Activation offloading, as Transformer Engine's CPU offload context runs it under Megatron-Core
    // (transformer_config.py refuses the same three cases).
    if (c.offload_activations != 0) {
        const std::string flag = "--offload-activations " + std::to_string(c.offload_activations);
        if (c.offload_activations < 0) fail(flag + ": expected a number of layers, 0 or more");
        if (c.framework != Framework::generic && !megatron_family(c.framework))
            fail(flag + ": activation offloading is modelled as Transformer Engine runs it (Megatron-LM, NeMo), under "
                        "--framework generic, megatron or megatron-bridge, not " + std::string(to_string(c.framework)));
        if (p.pp > 1)
            fail(flag + " with --pp " + std::to_string(p.pp) +
                 ": Megatron-Core runs CPU offloading without pipeline parallelism only");
        if (c.recompute != Recompute::none)
            fail(flag + " with --recompute " + std::string(to_string(c.recompute)) +
                 ": Megatron-Core runs CPU offloading without activation recomputation only");
        if (c.offload_activations >= m.n_layers)
            fail(flag + ": " + model + " has " + std::to_string(m.n_layers) +
                 " layers; at most " + std::to_string(m.n_layers - 1) + " can be offloaded (Transformer Engine keeps one on the GPU)");
    }
    return warnings;
}

const char* to_string(BaseQuant q) {
    switch (q) {
        case BaseQuant::none: return "none";
        case BaseQuant::nf4: return "nf4";
        case BaseQuant::int8: return "int8";
    }
    return "?";
}

BaseQuant parse_base_quant(std::string_view text, std::string_view flag) {
    const std::string t = to_lower(trim(text));
    if (t == "none") return BaseQuant::none;
    if (t == "nf4") return BaseQuant::nf4;
    if (t == "int8") return BaseQuant::int8;
    throw InputError(std::string(flag) + ": \"" + std::string(text) + "\" is not a base quantization; use none, nf4 (QLoRA) or int8");
}

namespace {
constexpr std::pair<const char*, unsigned> kLoraTargets[] = {
    {"q", lora_q},       {"k", lora_k},     {"v", lora_v},       {"o", lora_o},           {"gate", lora_gate},
    {"up", lora_up},     {"down", lora_down}, {"in_proj", lora_in_proj}, {"out_proj", lora_out_proj}};
}  // namespace

std::string lora_target_names() {
    std::vector<std::string> v;
    for (const auto& [name, bit] : kLoraTargets) v.emplace_back(name);
    return join(v, ", ");
}

unsigned parse_lora_targets(std::string_view text, std::string_view flag) {
    unsigned all = 0;
    for (const auto& [name, bit] : kLoraTargets) all |= bit;
    auto find = [](const std::string& t) -> unsigned {
        for (const auto& [name, bit] : kLoraTargets)
            if (t == name) return bit;
        return 0;
    };
    unsigned bits = 0;
    for (const std::string& raw : split(std::string(text), ',')) {
        const std::string t = to_lower(trim(raw));
        if (t.empty()) continue;
        if (t == "all") {
            bits |= all;
            continue;
        }
        unsigned bit = find(t);
        if (bit == 0 && t.size() > 5 && t.substr(t.size() - 5) == "_proj") bit = find(t.substr(0, t.size() - 5));  // q_proj -> q
        if (bit == 0)
            throw InputError(std::string(flag) + ": \"" + raw + "\" is not a LoRA target; use " + lora_target_names() + " or all");
        bits |= bit;
    }
    if (bits == 0) throw InputError(std::string(flag) + ": give at least one target (e.g. q,v)");
    return bits;
}

std::string lora_targets_string(unsigned targets) {
    std::vector<std::string> v;
    for (const auto& [name, bit] : kLoraTargets)
        if (targets & bit) v.emplace_back(name);
    return join(v, ",");
}

}  // namespace llmplan
