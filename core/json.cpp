// json.cpp — JSON forms of model shapes, GPUs and training configs.
#include "core/json.h"

#include "core/error.h"
#include "core/file.h"

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace llmplan {

nlohmann::json bytes_json(double bytes) {
    if (std::isfinite(bytes) && std::abs(bytes) < 9.0e15) return static_cast<std::int64_t>(std::llround(bytes));
    return bytes;
}

namespace {

bool ends_with(const std::string& s, const char* suffix) {
    const std::string t(suffix);
    return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

// An amount that cannot be negative, by its key (check_report, json.h). A headroom (capacity minus
// need) is negative where a plan does not fit.
bool non_negative_key(const std::string& key) {
    if (key.empty() || key.rfind("headroom", 0) == 0) return false;
    for (const char* suffix : {"_bytes", "_seconds", "_flops", "_usd", "_hours", "_per_second"})
        if (ends_with(key, suffix)) return true;
    return key == "parameters" || key == "tokens" || key == "days";
}

// Under a key that names a difference ("error", "pct", "delta", "diff") amounts may be negative:
// error.time_pct.step_seconds is the step time's error in percent.
bool signed_context(const std::string& key) {
    for (const char* part : {"error", "pct", "delta", "diff"})
        if (key.find(part) != std::string::npos) return true;
    return false;
}

template <typename Json>
void check_node(const Json& j, const std::string& path, std::string key, const std::string& what, bool is_signed = false) {
    if (is_signed) key.clear();  // no amount rule below a difference
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            check_node(it.value(), path + "." + it.key(), it.key(), what, is_signed || signed_context(it.key()));
    } else if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) check_node(j[i], path + "[" + std::to_string(i) + "]", key, what, is_signed);
    } else if (j.is_number_float()) {
        const double v = j.template get<double>();
        const char* problem = std::isnan(v)                      ? "is NaN"
                              : std::isinf(v)                    ? "is infinite"
                              : v == 0 && std::signbit(v)        ? "is a negative zero"
                              : v < 0 && non_negative_key(key)   ? "is negative"
                                                                 : nullptr;
        if (problem)
            throw std::logic_error(what + ": " + path + " " + problem +
                                   " (an llmplan bug: every reported number must be finite and meaningful)");
    } else if (j.is_number_integer() && !j.is_number_unsigned() && j.template get<std::int64_t>() < 0 && non_negative_key(key)) {
        throw std::logic_error(what + ": " + path + " is negative (an llmplan bug: every reported number must be meaningful)");
    }
}

}  // namespace

void check_report(const nlohmann::json& report, const std::string& what) { check_node(report, "$", "", what); }
void check_report(const nlohmann::ordered_json& report, const std::string& what) { check_node(report, "$", "", what); }

std::string report_text(const nlohmann::json& report, const std::string& what, int indent) {
    check_report(report, what);
    return report.dump(indent) + "\n";
}
std::string report_text(const nlohmann::ordered_json& report, const std::string& what, int indent) {
    check_report(report, what);
    return report.dump(indent) + "\n";
}

nlohmann::json model_shape_json(const ModelSpec& m) {
    nlohmann::json j = {{"name", m.name},
                        {"family", m.family},
                        {"layers", m.n_layers},
                        {"d_model", m.d_model},
                        {"heads", m.n_heads},
                        {"kv_heads", m.n_kv_heads},
                        {"head_dim", m.head_dim},
                        {"d_ff", m.d_ff},
                        {"activation", to_string(m.activation)},
                        {"norm", to_string(m.norm)},
                        {"vocab_size", m.vocab_size},
                        {"max_positions", m.max_positions},
                        {"position_embedding", to_string(m.position)},
                        {"qkv_bias", m.qkv_bias},
                        {"out_bias", m.out_bias},
                        {"mlp_bias", m.mlp_bias},
                        {"tied_embeddings", m.tied_embeddings},
                        {"experts", m.n_experts},
                        {"top_k", m.top_k}};
    if (m.gelu_tanh_op_by_op) j["gelu_tanh_op_by_op"] = true;
    if (m.parallel_residual) j["parallel_residual"] = true;
    if (m.rotary_pct != 1.0) j["rotary_pct"] = m.rotary_pct;
    if (m.sliding_window > 0) j["sliding_window"] = m.sliding_window;
    // Today's variants, written only when present (docs/MODEL_FAMILIES.md).
    if (m.is_mla())
        j["mla"] = {{"q_lora_rank", m.mla.q_lora_rank}, {"kv_lora_rank", m.mla.kv_lora_rank},
                    {"qk_nope_head_dim", m.mla.qk_nope_head_dim}, {"qk_rope_head_dim", m.mla.qk_rope_head_dim},
                    {"v_head_dim", m.mla.v_head_dim}};
    if (m.qk_norm != QkNorm::none) j["qk_norm"] = to_string(m.qk_norm);
    if (m.attention_sinks) j["attention_sinks"] = true;
    if (m.attention_output_gate) j["attention_output_gate"] = true;
    if (m.attn_softcap > 0) j["attn_softcap"] = m.attn_softcap;
    if (m.final_softcap > 0) j["final_softcap"] = m.final_softcap;
    if (m.attention_chunk > 0) j["attention_chunk"] = m.attention_chunk;
    if (m.norms_per_layer != 2) j["norms_per_layer"] = m.norms_per_layer;
    if (m.embedding_norm) j["embedding_norm"] = true;
    if (m.moe_d_ff > 0) j["moe_d_ff"] = m.moe_d_ff;
    if (m.shared_d_ff > 0) j["shared_d_ff"] = m.shared_d_ff;
    if (m.shared_expert_gate) j["shared_expert_gate"] = true;
    if (m.router_bias) j["router_bias"] = true;
    if (m.expert_bias) j["expert_bias"] = true;
    if (m.capacity_factor > 0) j["capacity_factor"] = m.capacity_factor;
    if (m.mtp_layers > 0) j["mtp_layers"] = m.mtp_layers;
    if (m.mtp_repeated) j["mtp_repeated"] = true;
    if (!m.mtp_kinds.empty()) {  // a hybrid's MTP module, in Megatron-Core's symbols
        std::string pattern;
        for (const LayerKind& k : m.mtp_kinds) pattern += hybrid_symbol(k);
        j["mtp_pattern"] = pattern;
    }
    if (m.moe_latent > 0) j["moe_latent"] = m.moe_latent;
    if (m.has_mamba())
        j["mamba"] = {{"heads", m.mamba.heads}, {"head_dim", m.mamba.head_dim}, {"state", m.mamba.state},
                      {"groups", m.mamba.groups}, {"conv_kernel", m.mamba.conv_kernel}, {"chunk", m.mamba.chunk}};
    if (m.has_gdn())
        j["gated_deltanet"] = {{"key_heads", m.gdn.k_heads},       {"value_heads", m.gdn.v_heads},
                               {"key_head_dim", m.gdn.k_head_dim}, {"value_head_dim", m.gdn.v_head_dim},
                               {"conv_kernel", m.gdn.conv_kernel}, {"chunk", m.gdn.chunk}};
    if (m.heterogeneous()) {
        // Run-length form: [{"count": 3, "moe": false, "attention": "global", "rope": true}, ...]
        nlohmann::json runs = nlohmann::json::array();
        for (int i = 0; i < m.n_layers;) {
            const LayerKind k = m.layer(i);
            int n = 1;
            while (i + n < m.n_layers && m.layer(i + n) == k) ++n;
            nlohmann::json run = {{"count", n}, {"moe", k.moe}, {"attention", to_string(k.attention)}, {"rope", k.rope}};
            if (k.mixer != Mixer::attention) run["mixer"] = to_string(k.mixer);  // hybrid layers only
            if (!k.ffn) run["ffn"] = false;
            runs.push_back(run);
            i += n;
        }
        j["layer_pattern"] = runs;
    }
    return j;
}

namespace {

// Reads the fields of one JSON object, naming each failure by its path ("mla.kv_lora_rank").
struct ShapeReader {
    const nlohmann::json& j;
    std::string what;    // "scenario.json model"
    std::string prefix;  // "" or "mla." or "layer_pattern[2]."

    bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
    [[noreturn]] void bad(const std::string& key, const std::string& expected) const {
        throw InputError(what + ": \"" + prefix + key + "\" must be " + expected);
    }
    std::int64_t integer(const char* key, std::int64_t fallback, std::int64_t max = std::int64_t{1} << 53) const {
        if (!has(key)) return fallback;
        if (!j[key].is_number_integer()) bad(key, "an integer");
        const std::int64_t v = j[key].is_number_unsigned() && j[key].get<std::uint64_t>() > std::uint64_t{1} << 62
                                   ? max + 1
                                   : j[key].get<std::int64_t>();
        if (v < -max || v > max) bad(key, "an integer from -" + std::to_string(max) + " to " + std::to_string(max));
        return v;
    }
    int small(const char* key, int fallback) const {  // an int field of ModelSpec
        return static_cast<int>(integer(key, fallback, std::int64_t{1} << 30));
    }
    double real(const char* key, double fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_number()) bad(key, "a number");
        return j[key].get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_boolean()) bad(key, "true or false");
        return j[key].get<bool>();
    }
    std::string text(const char* key, const std::string& fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_string()) bad(key, "a string");
        return j[key].get<std::string>();
    }
    // One of an enum's names, as to_string writes them.
    template <typename E, std::size_t N>
    E name_of(const char* key, const E (&values)[N], E fallback) const {
        const std::string t = text(key, to_string(fallback));
        std::string names;
        for (E v : values) {
            if (t == to_string(v)) return v;
            names += std::string(names.empty() ? "" : ", ") + to_string(v);
        }
        bad(key, "one of " + names + " (got \"" + t + "\")");
    }
    // Only the fields model_shape_json writes.
    void only(std::initializer_list<const char*> keys) const {
        for (const auto& [key, value] : j.items()) {
            bool known = false;
            for (const char* k : keys) known = known || key == k;
            if (!known)
                throw InputError(what + ": unknown field \"" + prefix + key +
                                 "\" (docs/REPORTS.md lists the fields of a model shape)");
        }
    }
};

}  // namespace

ModelSpec model_shape_from_json(const nlohmann::json& j, const std::string& what) {
    if (!j.is_object()) throw InputError(what + ": a model shape must be a JSON object");
    const ShapeReader r{j, what, ""};
    r.only({"name", "family", "layers", "d_model", "heads", "kv_heads", "head_dim", "d_ff", "activation", "norm",
            "vocab_size", "max_positions", "position_embedding", "qkv_bias", "out_bias", "mlp_bias",
            "tied_embeddings", "experts", "top_k", "parallel_residual", "rotary_pct", "sliding_window", "mla",
            "qk_norm", "attention_sinks", "attn_softcap", "final_softcap", "attention_chunk", "norms_per_layer",
            "embedding_norm", "moe_d_ff", "shared_d_ff", "shared_expert_gate", "router_bias", "expert_bias",
            "capacity_factor", "mtp_layers", "layer_pattern", "gelu_tanh_op_by_op", "mamba", "mtp_repeated",
            "mtp_pattern", "moe_latent", "attention_output_gate", "gated_deltanet"});
    static const Activation kActivations[] = {Activation::gelu, Activation::swiglu, Activation::relu2};
    static const Norm kNorms[] = {Norm::layernorm, Norm::rmsnorm};
    static const PositionEmbedding kPositions[] = {PositionEmbedding::learned, PositionEmbedding::rotary,
                                                   PositionEmbedding::relative, PositionEmbedding::alibi,
                                                   PositionEmbedding::none};
    static const Mixer kMixers[] = {Mixer::attention, Mixer::mamba, Mixer::gated_deltanet, Mixer::none};
    static const QkNorm kQkNorms[] = {QkNorm::none, QkNorm::per_head, QkNorm::full_width, QkNorm::unweighted};
    static const LayerAttention kAttention[] = {LayerAttention::global, LayerAttention::sliding,
                                                LayerAttention::chunked};
    ModelSpec m;
    m.name = r.text("name", "custom");
    m.family = r.text("family", "llama");
    m.n_layers = r.small("layers", 0);
    if (m.n_layers > kMaxModelLayers)  // before a layer_pattern builds one entry per layer
        r.bad("layers", "at most " + std::to_string(kMaxModelLayers) + " (got " + std::to_string(m.n_layers) + ")");
    m.d_model = r.small("d_model", 0);
    m.n_heads = r.small("heads", 0);
    m.n_kv_heads = r.small("kv_heads", m.n_heads);
    m.head_dim = r.small("head_dim", m.n_heads > 0 ? m.d_model / m.n_heads : 0);
    m.d_ff = r.small("d_ff", 0);
    m.activation = r.name_of("activation", kActivations, m.activation);
    m.norm = r.name_of("norm", kNorms, m.norm);
    m.vocab_size = r.integer("vocab_size", 0);
    m.max_positions = r.integer("max_positions", 0);
    m.position = r.name_of("position_embedding", kPositions, m.position);
    m.qkv_bias = r.boolean("qkv_bias", false);
    m.out_bias = r.boolean("out_bias", false);
    m.mlp_bias = r.boolean("mlp_bias", false);
    m.tied_embeddings = r.boolean("tied_embeddings", false);
    m.n_experts = r.small("experts", 1);
    m.top_k = r.small("top_k", 1);
    m.gelu_tanh_op_by_op = r.boolean("gelu_tanh_op_by_op", m.gelu_tanh_op_by_op);
    m.parallel_residual = r.boolean("parallel_residual", m.parallel_residual);
    m.rotary_pct = r.real("rotary_pct", m.rotary_pct);
    m.sliding_window = r.small("sliding_window", m.sliding_window);
    if (r.has("mla")) {
        if (!j["mla"].is_object()) r.bad("mla", "an object");
        const ShapeReader a{j["mla"], what, "mla."};
        a.only({"q_lora_rank", "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"});
        m.attention_form = AttentionForm::mla;
        m.mla.q_lora_rank = a.small("q_lora_rank", 0);
        m.mla.kv_lora_rank = a.small("kv_lora_rank", 0);
        m.mla.qk_nope_head_dim = a.small("qk_nope_head_dim", 0);
        m.mla.qk_rope_head_dim = a.small("qk_rope_head_dim", 0);
        m.mla.v_head_dim = a.small("v_head_dim", 0);
    }
    m.qk_norm = r.name_of("qk_norm", kQkNorms, m.qk_norm);
    m.attention_sinks = r.boolean("attention_sinks", m.attention_sinks);
    m.attention_output_gate = r.boolean("attention_output_gate", m.attention_output_gate);
    m.attn_softcap = r.real("attn_softcap", m.attn_softcap);
    m.final_softcap = r.real("final_softcap", m.final_softcap);
    m.attention_chunk = r.small("attention_chunk", m.attention_chunk);
    m.norms_per_layer = r.small("norms_per_layer", m.norms_per_layer);
    m.embedding_norm = r.boolean("embedding_norm", m.embedding_norm);
    m.moe_d_ff = r.small("moe_d_ff", m.moe_d_ff);
    m.shared_d_ff = r.integer("shared_d_ff", m.shared_d_ff);
    m.shared_expert_gate = r.boolean("shared_expert_gate", m.shared_expert_gate);
    m.router_bias = r.boolean("router_bias", m.router_bias);
    m.expert_bias = r.boolean("expert_bias", m.expert_bias);
    m.capacity_factor = r.real("capacity_factor", m.capacity_factor);
    m.mtp_layers = r.small("mtp_layers", m.mtp_layers);
    m.mtp_repeated = r.boolean("mtp_repeated", m.mtp_repeated);
    if (r.has("mtp_pattern")) m.mtp_kinds = hybrid_layer_kinds(r.text("mtp_pattern", ""), what + " \"mtp_pattern\"");
    m.moe_latent = r.small("moe_latent", m.moe_latent);
    if (r.has("mamba")) {
        if (!j["mamba"].is_object()) r.bad("mamba", "an object");
        const ShapeReader a{j["mamba"], what, "mamba."};
        a.only({"heads", "head_dim", "state", "groups", "conv_kernel", "chunk"});
        m.mamba.heads = a.small("heads", 0);
        m.mamba.head_dim = a.small("head_dim", 0);
        m.mamba.state = a.small("state", 0);
        m.mamba.groups = a.small("groups", m.mamba.groups);
        m.mamba.conv_kernel = a.small("conv_kernel", m.mamba.conv_kernel);
        m.mamba.chunk = a.small("chunk", m.mamba.chunk);
    }
    if (r.has("gated_deltanet")) {
        if (!j["gated_deltanet"].is_object()) r.bad("gated_deltanet", "an object");
        const ShapeReader a{j["gated_deltanet"], what, "gated_deltanet."};
        a.only({"key_heads", "value_heads", "key_head_dim", "value_head_dim", "conv_kernel", "chunk"});
        m.gdn.k_heads = a.small("key_heads", 0);
        m.gdn.v_heads = a.small("value_heads", 0);
        m.gdn.k_head_dim = a.small("key_head_dim", 0);
        m.gdn.v_head_dim = a.small("value_head_dim", 0);
        m.gdn.conv_kernel = a.small("conv_kernel", m.gdn.conv_kernel);
        m.gdn.chunk = a.small("chunk", m.gdn.chunk);
    }
    if (r.has("layer_pattern")) {
        // Runs of equal layers, as model_shape_json writes them; together exactly `layers` long.
        const nlohmann::json& runs = j["layer_pattern"];
        if (m.n_layers <= 0) r.bad("layers", "a positive integer (the layer_pattern runs add up to it)");
        if (!runs.is_array()) r.bad("layer_pattern", "an array of runs {count, moe, attention, rope}");
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const std::string at = "layer_pattern[" + std::to_string(i) + "]";
            if (!runs[i].is_object()) r.bad(at, "an object {count, moe, attention, rope}");
            const ShapeReader run{runs[i], what, at + "."};
            run.only({"count", "moe", "attention", "rope", "mixer", "ffn"});
            if (!run.has("count")) run.bad("count", "given (the layers in this run)");
            const std::int64_t count = run.integer("count", 0);
            if (count < 1 || count > m.n_layers - static_cast<std::int64_t>(m.layer_kinds.size()))
                run.bad("count", "between 1 and the layers not yet listed (" +
                                     std::to_string(m.n_layers - static_cast<std::int64_t>(m.layer_kinds.size())) +
                                     "; got " + std::to_string(count) + ")");
            LayerKind k;
            k.moe = run.boolean("moe", k.moe);
            k.attention = run.name_of("attention", kAttention, k.attention);
            k.rope = run.boolean("rope", k.rope);
            k.mixer = run.name_of("mixer", kMixers, k.mixer);
            k.ffn = run.boolean("ffn", k.ffn);
            m.layer_kinds.insert(m.layer_kinds.end(), static_cast<std::size_t>(count), k);
        }
        if (m.layer_kinds.size() != static_cast<std::size_t>(m.n_layers))
            r.bad("layer_pattern", "runs covering all " + std::to_string(m.n_layers) + " layers (they cover " +
                                       std::to_string(m.layer_kinds.size()) + ")");
    }
    validate_model(m, what);
    return m;
}

nlohmann::json param_breakdown_json(const ParamBreakdown& b) {
    nlohmann::json j = {{"embedding", b.embedding}, {"attention", b.attention}, {"mlp", b.mlp},
                        {"norm", b.norm},           {"head", b.head},           {"total", b.total()},
                        {"active", b.active}};
    if (b.routed_experts > 0)  // the MLP's parts, for MoE models
        j["mlp_parts"] = {{"dense", b.mlp_dense}, {"routed_experts", b.routed_experts},
                          {"shared_experts", b.shared_experts}, {"router", b.router}};
    if (b.latent_projections > 0) j["mlp_parts"]["latent_projections"] = b.latent_projections;
    if (b.mtp > 0) j["mtp"] = b.mtp;  // outside total: not part of the served model
    if (b.mamba > 0) j["mamba"] = b.mamba;  // hybrid models' Mamba-2 mixers (inside total)
    if (b.linear_attention > 0) j["linear_attention"] = b.linear_attention;  // Gated DeltaNet mixers (inside total)
    return j;
}

nlohmann::json gpu_json(const GpuSpec& g) {
    return {{"name", g.name},
            {"display_name", g.display_name},
            {"memory_bytes", bytes_json(g.memory_bytes)},
            {"memory_bandwidth_bytes_per_s", g.memory_bandwidth},
            {"peak_dense_flops", {{"fp32", g.peak_fp32}, {"tf32", g.peak_tf32}, {"fp16", g.peak_fp16},
                                  {"bf16", g.peak_bf16}, {"fp8", g.peak_fp8}, {"fp4", g.peak_fp4},
                                  {"int8", g.peak_int8}}},
            {"intra_node_link", g.intra_node_link},
            {"intra_node_bandwidth_bytes_per_s", g.intra_node_bandwidth},
            {"host_link", g.host_link},
            {"host_link_bandwidth_bytes_per_s", g.host_link_bandwidth},
            {"tdp_watts", g.tdp_watts},
            {"sm_count", g.sm_count}};
}

nlohmann::json parallel_json(const ParallelLayout& p) {
    nlohmann::json j = {{"gpus", p.gpus}, {"gpus_per_node", p.gpus_per_node}, {"dp", p.dp()},
                        {"tp", p.tp},     {"pp", p.pp},                       {"cp", p.cp},
                        {"ep", p.ep},     {"etp", p.expert_tp()}, {"virtual_stages", p.virtual_stages},
                        {"sp", p.sp},     {"zero", p.zero}};
    if (!p.split.even()) {  // an uneven split as given (the layers each stage holds: memory.stages[].layers)
        const PipelineSplit& s = p.split;
        j["pipeline_split"] = {{"layers", s.layers},
                               {"first", s.first >= 0 ? nlohmann::json(s.first) : nlohmann::json(nullptr)},
                               {"last", s.last >= 0 ? nlohmann::json(s.last) : nlohmann::json(nullptr)},
                               {"balanced", s.balanced},
                               {"account_for_embedding", s.embedding_as_layer},
                               {"account_for_loss", s.loss_as_layer},
                               {"chosen_by_llmplan", s.chosen_by_llmplan}};
    }
    return j;
}

nlohmann::json config_json(const TrainConfig& c) {
    nlohmann::json j = {{"precision", to_string(c.precision)},
            {"optimizer", to_string(c.optimizer)},
            {"parallel", parallel_json(c.parallel)},
            {"recompute", to_string(c.recompute)},
            {"attention", to_string(c.attention)},
            {"dropout", c.dropout},
            {"micro_batch", c.micro_batch},
            {"seq", c.seq},
            {"global_batch", c.global_batch},
            {"grad_accum", c.global_batch > 0 ? c.grad_accum() : 0},
            {"offload", to_string(c.offload)},
            {"offload_activations", c.offload_activations},
            {"lora", {{"rank", c.lora.rank}, {"alpha", c.lora.alpha}, {"targets", lora_targets_string(c.lora.targets)},
                      {"base_quant", to_string(c.lora.base_quant)}, {"paged_optimizer", c.lora.paged_optimizer}}},
            {"framework", to_string(c.framework)}};
    if (!c.framework_options.empty()) {  // --framework-option KEY=VALUE, as given
        nlohmann::json options = nlohmann::json::object();
        for (const auto& [key, value] : c.framework_options) options[key] = value;
        j["framework_options"] = options;
    }
    return j;
}

nlohmann::json parse_json_object(const std::string& text, const std::string& what) {
    const nlohmann::json j = parse_json_text(text, what);
    if (!j.is_object()) throw InputError(what + ": expected a JSON object");
    return j;
}

}  // namespace llmplan
