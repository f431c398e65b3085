// hf_config.cpp — Hugging Face config.json <-> ModelSpec: one table of families (kFamilies), each
// with its reader, what its config can express and its writer.
//
// Field names and defaults are those of the transformers config classes
// (src/transformers/models/<type>/configuration_<type>.py) and the layouts of their modeling
// files: GPT2Config, LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config, GPTNeoXConfig.
// A field that is absent takes the class's default; a field set to null takes what the class's
// __init__ substitutes for None (e.g. num_key_value_heads = num_attention_heads).
#include "core/hf_config.h"

#include "core/error.h"
#include "core/file.h"
#include "core/text.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>

namespace llmplan {

namespace {

using nlohmann::json;

// How a JSON value looks in an error message: `the string "4096"`, `4096.5`, `true`, `an array`.
std::string describe(const json& v) {
    if (v.is_string()) {
        std::string s = v.get<std::string>();
        if (s.size() > 40) s = s.substr(0, 40) + "...";
        // replace: a cut through a multi-byte UTF-8 character must not make dump() throw.
        return "the string " + json(s).dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (v.is_array()) return "an array";
    if (v.is_object()) return "an object";
    return v.dump();  // number, boolean or null
}

// Reads typed fields of one config object; every failure names `what` and the field.
class Reader {
public:
    Reader(const json& cfg, std::string_view what, std::string type) : cfg_(cfg), what_(what), type_(std::move(type)) {}

    [[noreturn]] void fail(const std::string& message) const { throw InputError(what_ + ": " + message); }

    // The field's value, or nullptr when it is absent or null.
    const json* get(const char* key) const {
        const auto it = cfg_.find(key);
        if (it == cfg_.end() || it->is_null()) return nullptr;
        return &*it;
    }
    bool present(const char* key) const { return cfg_.contains(key); }

    std::int64_t integer(const char* key, const json& v) const {
        if (v.is_number_unsigned()) {
            if (v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                fail("field \"" + std::string(key) + "\" is out of range (got " + v.dump() + ")");
            return static_cast<std::int64_t>(v.get<std::uint64_t>());
        }
        if (v.is_number_integer()) return v.get<std::int64_t>();
        fail("field \"" + std::string(key) + "\" must be an integer (got " + describe(v) + ")");
    }

    // A positive integer; `lo` = 0 allows zero (sliding_window).
    std::int64_t count(const char* key, const json& v, std::int64_t lo = 1) const {
        const std::int64_t n = integer(key, v);
        if (n < lo)
            fail("field \"" + std::string(key) + "\" must be a " + (lo > 0 ? "positive" : "non-negative") +
                 " integer (got " + std::to_string(n) + ")");
        return n;
    }

    std::int64_t required_int64(const char* key) const {
        if (!present(key)) fail("missing required field \"" + std::string(key) + "\" for model_type \"" + type_ + "\"");
        return count(key, cfg_.at(key));
    }
    int required_int(const char* key) const { return narrow(key, required_int64(key)); }

    // Absent -> `absent`; null -> `null_value` (std::nullopt: the caller substitutes).
    std::optional<int> optional_int(const char* key, std::optional<int> absent, std::optional<int> null_value,
                                    std::int64_t lo = 1) const {
        if (!present(key)) return absent;
        if (const json* v = get(key)) return narrow(key, count(key, *v, lo));
        return null_value;
    }

    bool optional_bool(const char* key, bool fallback) const {
        const json* v = get(key);
        if (!v) return fallback;
        if (!v->is_boolean()) fail("field \"" + std::string(key) + "\" must be true or false (got " + describe(*v) + ")");
        return v->get<bool>();
    }

    std::optional<double> optional_number(const json& obj, const char* key) const {
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null()) return std::nullopt;
        if (!it->is_number()) fail("field \"" + std::string(key) + "\" must be a number (got " + describe(*it) + ")");
        return it->get<double>();
    }

    // Only checks the type: the activation name does not change the parameter layout (below).
    void optional_string(const char* key) const {
        if (const json* v = get(key); v && !v->is_string())
            fail("field \"" + std::string(key) + "\" must be a string (got " + describe(*v) + ")");
    }

    int narrow(const char* key, std::int64_t n) const {
        if (n > std::numeric_limits<int>::max())
            fail("field \"" + std::string(key) + "\" is out of range (got " + std::to_string(n) + ")");
        return static_cast<int>(n);
    }

    // head_dim when the class derives it as hidden_size // num_attention_heads.
    int derived_head_dim(const ModelSpec& m, const char* hidden_key, const char* heads_key) const {
        if (m.d_model % m.n_heads != 0)
            fail("\"" + std::string(hidden_key) + "\" (" + std::to_string(m.d_model) + ") is not a multiple of \"" +
                 heads_key + "\" (" + std::to_string(m.n_heads) + ")");
        return m.d_model / m.n_heads;
    }

    const json& cfg() const { return cfg_; }

private:
    const json& cfg_;
    std::string what_;
    std::string type_;
};

// GPT2Config (configuration_gpt2.py) and modeling_gpt2.py: n_inner None -> 4 * n_embd (GPT2Block),
// activation_function "gelu_new", tie_word_embeddings True (PretrainedConfig's default);
// LayerNorm, learned positions (wpe, n_positions rows), biases on c_attn, c_proj, c_fc, c_proj.
ModelSpec read_gpt2(const Reader& r) {
    ModelSpec m;
    m.d_model = r.required_int("n_embd");
    m.n_layers = r.required_int("n_layer");
    m.n_heads = m.n_kv_heads = r.required_int("n_head");
    m.head_dim = r.derived_head_dim(m, "n_embd", "n_head");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("n_positions");
    // (Clamped, not overflowed: validate_model rejects such a d_model anyway.)
    m.d_ff = r.optional_int("n_inner", std::nullopt, std::nullopt)
                 .value_or(static_cast<int>(std::min<std::int64_t>(4LL * m.d_model, std::numeric_limits<int>::max())));
    r.optional_string("activation_function");  // gelu_new, gelu, relu, ...: always a 2-matrix MLP
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", true);
    return m;
}

// The Llama family (LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config): RMSNorm, rotary,
// gated MLP gate/up/down. The MLP is act(gate(x)) * up(x) whatever hidden_act is (silu by default),
// so its parameters are SwiGLU's. `default_kv_heads`: the class default when the field is absent
// (LlamaConfig None -> heads; MistralConfig 8; MixtralConfig 8; Qwen2Config 32).
ModelSpec read_llama_like(const Reader& r, std::optional<int> default_kv_heads) {
    ModelSpec m;
    m.d_model = r.required_int("hidden_size");
    m.d_ff = r.required_int("intermediate_size");
    m.n_layers = r.required_int("num_hidden_layers");
    m.n_heads = r.required_int("num_attention_heads");
    m.n_kv_heads = r.optional_int("num_key_value_heads", default_kv_heads, std::nullopt).value_or(m.n_heads);
    // head_dim None -> hidden_size // num_attention_heads (LlamaConfig.__init__; Mistral, Mixtral
    // and Qwen2 attention read getattr(config, "head_dim", ...) the same way).
    const std::optional<int> head_dim = r.optional_int("head_dim", std::nullopt, std::nullopt);
    m.head_dim = head_dim ? *head_dim : r.derived_head_dim(m, "hidden_size", "num_attention_heads");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("max_position_embeddings");
    r.optional_string("hidden_act");
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.position = PositionEmbedding::rotary;
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", false);  // False in all four classes
    return m;
}

ModelSpec read_llama(const Reader& r) {
    ModelSpec m = read_llama_like(r, std::nullopt);
    // LlamaAttention: q, k, v and o_proj all take bias=config.attention_bias (default False);
    // LlamaMLP: gate, up, down take bias=config.mlp_bias (default False).
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.mlp_bias = r.optional_bool("mlp_bias", false);
    return m;
}

ModelSpec read_mistral(const Reader& r) {
    // MistralConfig: num_key_value_heads default 8; sliding_window default 4096, None = no window.
    // MistralAttention / MistralMLP have no biases (no attention_bias or mlp_bias fields).
    ModelSpec m = read_llama_like(r, 8);
    m.sliding_window = r.optional_int("sliding_window", 4096, 0, 0).value_or(0);
    return m;
}

ModelSpec read_mixtral(const Reader& r) {
    // MixtralConfig: num_key_value_heads default 8; sliding_window default None. The expert count
    // and top-k fix the shape, so they are required here (the class defaults them to 8 and 2).
    ModelSpec m = read_llama_like(r, 8);
    m.sliding_window = r.optional_int("sliding_window", 0, 0, 0).value_or(0);
    m.n_experts = r.required_int("num_local_experts");
    m.top_k = r.required_int("num_experts_per_tok");
    return m;
}

ModelSpec read_qwen2(const Reader& r) {
    // Qwen2Config: num_key_value_heads default 32; sliding_window (default 4096) applies only when
    // use_sliding_window (default False). Qwen2Attention: q, k, v_proj bias=True, o_proj bias=False;
    // Qwen2MLP has no biases. (max_window_layers, which picks the windowed layers, is not modelled.)
    ModelSpec m = read_llama_like(r, 32);
    m.qkv_bias = true;
    if (r.optional_bool("use_sliding_window", false))
        m.sliding_window = r.optional_int("sliding_window", 4096, 0, 0).value_or(0);
    return m;
}

ModelSpec read_gpt_neox(const Reader& r) {
    // GPTNeoXConfig and modeling_gpt_neox.py: LayerNorm, GELU MLP dense_h_to_4h / dense_4h_to_h
    // (with biases), query_key_value and dense with bias=config.attention_bias (default True),
    // untied embed_out (tie_word_embeddings default False), use_parallel_residual default True,
    // rotary on rotary_pct (default 0.25) of each head; transformers 5 moves rotary_pct into
    // rope_parameters.partial_rotary_factor.
    ModelSpec m;
    m.d_model = r.required_int("hidden_size");
    m.n_layers = r.required_int("num_hidden_layers");
    m.n_heads = m.n_kv_heads = r.required_int("num_attention_heads");
    m.head_dim = r.derived_head_dim(m, "hidden_size", "num_attention_heads");
    m.d_ff = r.required_int("intermediate_size");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("max_position_embeddings");
    r.optional_string("hidden_act");
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.position = PositionEmbedding::rotary;
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", true);
    m.mlp_bias = true;
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", false);
    m.parallel_residual = r.optional_bool("use_parallel_residual", true);
    std::optional<double> pct = r.optional_number(r.cfg(), "rotary_pct");
    if (!pct)
        if (const json* rope = r.get("rope_parameters"); rope && rope->is_object())
            pct = r.optional_number(*rope, "partial_rotary_factor");
    m.rotary_pct = pct.value_or(0.25);
    return m;
}

// ---- writers: the fields of each family's config class ------------------------------------------

// Refuses, in one line, a spec the family's config cannot express.
struct Require {
    const ModelSpec& m;
    const std::string& type;
    void operator()(bool ok, const std::string& why) const {
        if (!ok) throw InputError("cannot write model \"" + m.name + "\" as a Hugging Face \"" + type + "\" config: " + why);
    }
};

void write_gpt2(const ModelSpec& m, json& j, const Require& require) {
    // GPT2Config field names.
    require(m.qkv_bias && m.out_bias && m.mlp_bias, "every GPT-2 projection has a bias");
    j["architectures"] = {"GPT2LMHeadModel"};
    j["n_embd"] = m.d_model;
    j["n_layer"] = m.n_layers;
    j["n_head"] = m.n_heads;
    j["n_inner"] = m.d_ff;
    j["n_positions"] = m.max_positions;
    j["vocab_size"] = m.vocab_size;
    j["activation_function"] = "gelu_new";
    j["tie_word_embeddings"] = m.tied_embeddings;
}

void write_gpt_neox(const ModelSpec& m, json& j, const Require& require) {
    // GPTNeoXConfig field names.
    require(m.qkv_bias == m.out_bias, "attention_bias covers both query_key_value and dense");
    require(m.mlp_bias, "its MLP always has biases");
    j["architectures"] = {"GPTNeoXForCausalLM"};
    j["hidden_size"] = m.d_model;
    j["num_hidden_layers"] = m.n_layers;
    j["num_attention_heads"] = m.n_heads;
    j["intermediate_size"] = m.d_ff;
    j["vocab_size"] = m.vocab_size;
    j["max_position_embeddings"] = m.max_positions;
    j["hidden_act"] = "gelu";
    j["rotary_pct"] = m.rotary_pct;
    j["use_parallel_residual"] = m.parallel_residual;
    j["attention_bias"] = m.qkv_bias;
    j["tie_word_embeddings"] = m.tied_embeddings;
}

// The fields LlamaConfig, MistralConfig, MixtralConfig and Qwen2Config share.
void write_llama_like(const ModelSpec& m, json& j, const char* architecture) {
    j["architectures"] = {architecture};
    j["hidden_size"] = m.d_model;
    j["intermediate_size"] = m.d_ff;
    j["num_hidden_layers"] = m.n_layers;
    j["num_attention_heads"] = m.n_heads;
    j["num_key_value_heads"] = m.n_kv_heads;
    j["head_dim"] = m.head_dim;
    j["vocab_size"] = m.vocab_size;
    j["max_position_embeddings"] = m.max_positions;
    j["hidden_act"] = "silu";
    j["tie_word_embeddings"] = m.tied_embeddings;
}

json window_or_null(const ModelSpec& m) { return m.sliding_window > 0 ? json(m.sliding_window) : json(nullptr); }

void write_llama(const ModelSpec& m, json& j, const Require& require) {
    require(m.qkv_bias == m.out_bias, "attention_bias covers q, k, v and o_proj alike");
    write_llama_like(m, j, "LlamaForCausalLM");
    j["attention_bias"] = m.qkv_bias;
    j["mlp_bias"] = m.mlp_bias;
}

void write_mistral(const ModelSpec& m, json& j, const Require& require) {
    require(!m.qkv_bias && !m.out_bias && !m.mlp_bias, "it has no biases");
    write_llama_like(m, j, "MistralForCausalLM");
    j["sliding_window"] = window_or_null(m);
}

void write_mixtral(const ModelSpec& m, json& j, const Require& require) {
    require(!m.qkv_bias && !m.out_bias && !m.mlp_bias, "it has no biases");
    write_llama_like(m, j, "MixtralForCausalLM");
    j["sliding_window"] = window_or_null(m);
    j["num_local_experts"] = m.n_experts;
    j["num_experts_per_tok"] = m.top_k;
}

void write_qwen2(const ModelSpec& m, json& j, const Require& require) {
    require(m.qkv_bias && !m.out_bias && !m.mlp_bias, "Qwen2 has biases on q, k, v_proj only");
    write_llama_like(m, j, "Qwen2ForCausalLM");
    j["use_sliding_window"] = m.sliding_window > 0;
    j["sliding_window"] = window_or_null(m);
}

// ---- the families -------------------------------------------------------------------------------

// One Hugging Face model_type: how to read its config, what its config can express (checked in
// this order before writing; the refusals name the families that can), and how to write it.
struct HfFamily {
    const char* type;
    ModelSpec (*read)(const Reader&);
    Norm norm;
    Activation activation;
    PositionEmbedding position;
    bool experts = false;            // MoE MLPs
    bool parallel_residual = false;  // attention and MLP both read the layer input
    bool partial_rotary = false;     // rotary on a fraction of each head
    bool sliding_window = false;
    bool free_heads = false;         // grouped-query attention and head_dim ≠ d_model / n_heads
    void (*write)(const ModelSpec&, json&, const Require&);
};

// To add a model family: its reader and writer above, one row here (docs/ARCHITECTURE.md, "How to
// add a model family").
const HfFamily kFamilies[] = {
    {"gpt2", read_gpt2, Norm::layernorm, Activation::gelu, PositionEmbedding::learned, false, false, false, false, false,
     write_gpt2},
    {"llama", read_llama, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, false, true,
     write_llama},
    {"mistral", read_mistral, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, true,
     true, write_mistral},
    {"mixtral", read_mixtral, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false, true,
     true, write_mixtral},
    {"qwen2", read_qwen2, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, true, true,
     write_qwen2},
    {"gpt_neox", read_gpt_neox, Norm::layernorm, Activation::gelu, PositionEmbedding::rotary, false, true, true, false,
     false, write_gpt_neox},
};

const HfFamily* find_family(std::string_view type) {
    for (const HfFamily& f : kFamilies)
        if (type == f.type) return &f;
    return nullptr;
}

// The families with a feature, as "a", "a or b", "a, b or c".
std::string families_with(bool HfFamily::*feature) {
    std::vector<std::string> names;
    for (const HfFamily& f : kFamilies)
        if (f.*feature) names.emplace_back(f.type);
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
    return out;
}

std::string unsupported_type(std::string_view type) {
    // Quoted as JSON, so that a stray newline in the value cannot break the one-line message.
    std::string message = "unsupported model_type " +
                          json(std::string(type)).dump(-1, ' ', false, json::error_handler_t::replace) + " (";
    if (const std::optional<std::string> guess = closest_match(type, supported_hf_model_types()))
        message += "did you mean \"" + *guess + "\"? ";
    message += "supported: " + join(supported_hf_model_types(), ", ") + ")";
    return message;
}

}  // namespace

const std::vector<std::string>& supported_hf_model_types() {
    static const std::vector<std::string> types = [] {
        std::vector<std::string> out;
        for (const HfFamily& f : kFamilies) out.emplace_back(f.type);
        return out;
    }();
    return types;
}

ModelSpec model_from_hf_config(const nlohmann::json& cfg, std::string_view what) {
    const std::string where(what);
    if (!cfg.is_object()) throw InputError(where + ": expected a JSON object (got " + describe(cfg) + ")");
    const auto type_it = cfg.find("model_type");
    if (type_it == cfg.end()) throw InputError(where + ": missing required field \"model_type\"");
    if (!type_it->is_string())
        throw InputError(where + ": field \"model_type\" must be a string (got " + describe(*type_it) + ")");
    const std::string type = type_it->get<std::string>();
    if (const HfFamily* family = find_family(type)) {
        const Reader reader(cfg, what, type);
        ModelSpec m = family->read(reader);
        m.family = type;
        m.name = "hf:" + type;
        if (const auto it = cfg.find("_name_or_path"); it != cfg.end() && it->is_string() && !it->get<std::string>().empty())
            m.name = "hf:" + it->get<std::string>();
        validate_model(m, where);
        return m;
    }
    throw InputError(where + ": " + unsupported_type(type));
}

ModelSpec model_from_hf_config_file(const std::string& path, std::string_view flag) {
    return model_from_hf_config(read_json_file(path, std::string(flag)), std::string(flag) + " " + path);
}

nlohmann::json hf_config_from_model(const ModelSpec& m, std::string_view model_type) {
    const std::string type(model_type);
    const HfFamily* family = find_family(type);
    if (!family) throw InputError("hf_config_from_model: " + unsupported_type(type));
    validate_model(m, "model \"" + m.name + "\"");

    const Require require{m, type};
    const HfFamily& f = *family;
    require(m.norm == f.norm, std::string("it needs ") + to_string(f.norm) + " (the model has " + to_string(m.norm) + ")");
    require(m.activation == f.activation, std::string("it needs a ") + to_string(f.activation) +
                                              " MLP (the model's is " + to_string(m.activation) + ")");
    require(m.position == f.position, std::string("it needs ") + to_string(f.position) + " positions (the model has " +
                                          to_string(m.position) + ")");
    require(f.experts || !m.is_moe(), "it has no experts (use " + families_with(&HfFamily::experts) + ")");
    require(f.parallel_residual || !m.parallel_residual,
            "it has no parallel residual (use " + families_with(&HfFamily::parallel_residual) + ")");
    require(f.partial_rotary || m.rotary_pct == 1.0, "only " + families_with(&HfFamily::partial_rotary) +
                                                         " has a partial rotary_pct (the model has " +
                                                         json(m.rotary_pct).dump() + ")");
    require(f.sliding_window || m.sliding_window == 0,
            "it has no sliding window (use " + families_with(&HfFamily::sliding_window) + ")");
    if (!f.free_heads) {
        require(m.n_kv_heads == m.n_heads, "it has no grouped-query attention (n_kv_heads must equal n_heads)");
        require(static_cast<std::int64_t>(m.head_dim) * m.n_heads == m.d_model, "its head_dim is d_model / n_heads");
    }
    json j;
    j["model_type"] = type;
    f.write(m, j, require);
    return j;
}

}  // namespace llmplan
