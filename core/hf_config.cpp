// hf_config.cpp — Hugging Face config.json <-> ModelSpec: one table of families (kFamilies), each
// with its reader, what its config can express and its writer.
//
// Field names and defaults are those of the transformers config classes
// (src/transformers/models/<type>/configuration_<type>.py) and the layouts of their modeling
// files: GPT2Config, LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config, GPTNeoXConfig; today's
// families (Qwen3 ... BLOOM, Nemotron) and the classic ones (OPTConfig, FalconConfig, MptConfig,
// DbrxConfig) as docs/MODEL_FAMILIES.md cites them.
// A field that is absent takes the class's default; a field set to null takes what the class's
// __init__ substitutes for None (e.g. num_key_value_heads = num_attention_heads).
#include "core/hf_config.h"

#include "core/error.h"
#include "core/file.h"
#include "core/text.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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
    const std::string& what() const { return what_; }

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
        if (!present(key)) {
            // The text part of a composite config (gemma3, llama4) is written as a diff against
            // the text config class: absent fields take the class's defaults.
            if (defaults_ && defaults_->contains(key)) return count(key, defaults_->at(key));
            fail("missing required field \"" + std::string(key) + "\" for model_type \"" + type_ + "\"");
        }
        return count(key, cfg_.at(key));
    }
    // The first of two names a field goes by (BLOOM: hidden_size or n_embed).
    int required_int_alias(const char* key, const char* alias) const {
        return required_int(!present(key) && present(alias) ? alias : key);
    }
    void use_defaults(const json* defaults) { defaults_ = defaults; }

    // A list of non-negative integers (mlp_only_layers, moe_layers, no_rope_layers); absent or
    // null -> empty.
    std::vector<int> int_list(const char* key) const {
        std::vector<int> out;
        const json* v = get(key);
        if (!v) return out;
        if (!v->is_array()) fail("field \"" + std::string(key) + "\" must be a list of integers (got " + describe(*v) + ")");
        for (const json& e : *v) out.push_back(narrow(key, count(key, e, 0)));
        return out;
    }
    // A list of strings (layer_types); absent or null -> empty.
    std::vector<std::string> string_list(const char* key) const {
        std::vector<std::string> out;
        const json* v = get(key);
        if (!v) return out;
        if (!v->is_array()) fail("field \"" + std::string(key) + "\" must be a list of strings (got " + describe(*v) + ")");
        for (const json& e : *v) {
            if (!e.is_string()) fail("field \"" + std::string(key) + "\" must be a list of strings (got " + describe(e) + " in it)");
            out.push_back(e.get<std::string>());
        }
        return out;
    }
    // A non-negative number; absent or null -> `fallback`.
    double optional_real(const char* key, double fallback) const {
        const std::optional<double> v = optional_number(cfg_, key);
        if (!v) return fallback;
        if (!(*v >= 0) || !std::isfinite(*v))
            fail("field \"" + std::string(key) + "\" must be a non-negative number (got " + json(*v).dump() + ")");
        return *v;
    }
    int required_int(const char* key) const { return narrow(key, required_int64(key)); }
    // A layer count: checked against kMaxModelLayers here, before any per-layer pattern is built.
    int layer_count(const char* key) const { return layers(key, required_int(key)); }
    int layer_count_alias(const char* key, const char* alias) const {
        return layers(!present(key) && present(alias) ? alias : key, required_int_alias(key, alias));
    }
    int layers(const char* key, int n) const {
        if (n > kMaxModelLayers)
            fail("field \"" + std::string(key) + "\" is " + std::to_string(n) + ": at most " + std::to_string(kMaxModelLayers) +
                 " layers");
        return n;
    }

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

    // A string field; absent or null -> std::nullopt. The activation names do not change the
    // parameter layout (below); "gelu_new" says how eager PyTorch computes the GELU.
    std::optional<std::string> optional_string(const char* key) const {
        const json* v = get(key);
        if (!v) return std::nullopt;
        if (!v->is_string()) fail("field \"" + std::string(key) + "\" must be a string (got " + describe(*v) + ")");
        return v->get<std::string>();
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
    const json* defaults_ = nullptr;
};

// GPT2Config (configuration_gpt2.py) and modeling_gpt2.py: n_inner None -> 4 * n_embd (GPT2Block),
// activation_function "gelu_new", tie_word_embeddings True (PretrainedConfig's default);
// LayerNorm, learned positions (wpe, n_positions rows), biases on c_attn, c_proj, c_fc, c_proj.
ModelSpec read_gpt2(const Reader& r) {
    ModelSpec m;
    m.d_model = r.required_int("n_embd");
    m.n_layers = r.layer_count("n_layer");
    m.n_heads = m.n_kv_heads = r.required_int("n_head");
    m.head_dim = r.derived_head_dim(m, "n_embd", "n_head");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("n_positions");
    // (Clamped, not overflowed: validate_model rejects such a d_model anyway.)
    m.d_ff = r.optional_int("n_inner", std::nullopt, std::nullopt)
                 .value_or(static_cast<int>(std::min<std::int64_t>(4LL * m.d_model, std::numeric_limits<int>::max())));
    // gelu_new (the class default), gelu, relu, ...: always a 2-matrix MLP; transformers computes
    // gelu_new (NewGELUActivation, activations.py) op by op.
    m.gelu_tanh_op_by_op = r.optional_string("activation_function").value_or("gelu_new") == "gelu_new";
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
// `ffn_key`: the field of the MLP's inner size (Qwen3.5's text model, every layer MoE, has only
// moe_intermediate_size).
ModelSpec read_llama_like(const Reader& r, std::optional<int> default_kv_heads, const char* ffn_key = "intermediate_size") {
    ModelSpec m;
    m.d_model = r.required_int("hidden_size");
    m.d_ff = r.required_int(ffn_key);
    m.n_layers = r.layer_count("num_hidden_layers");
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
    m.n_layers = r.layer_count("num_hidden_layers");
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

// ---- today's families (docs/MODEL_FAMILIES.md lists each one's fields, defaults and tensors) ----

// Keeps a per-layer pattern only when layers differ from the uniform default (ModelSpec::layer).
void set_pattern(ModelSpec& m, std::vector<LayerKind> kinds) {
    m.layer_kinds.clear();
    bool uniform = true;
    for (int i = 0; i < m.n_layers && uniform; ++i) uniform = kinds[static_cast<std::size_t>(i)] == m.layer(i);
    if (!uniform) m.layer_kinds = std::move(kinds);
}

// transformers 5 `layer_types`: "full_attention", "sliding_attention" or "chunked_attention"
// per layer. Absent: `fallback(i)`.
std::vector<LayerKind> attention_pattern(const Reader& r, const ModelSpec& m,
                                         const std::function<LayerAttention(int)>& fallback) {
    const std::vector<std::string> types = r.string_list("layer_types");
    if (!types.empty() && types.size() != static_cast<std::size_t>(m.n_layers))
        r.fail("field \"layer_types\" lists " + std::to_string(types.size()) + " layers but num_hidden_layers is " +
               std::to_string(m.n_layers));
    std::vector<LayerKind> kinds(static_cast<std::size_t>(m.n_layers));
    for (int i = 0; i < m.n_layers; ++i) {
        LayerKind& k = kinds[static_cast<std::size_t>(i)];
        k.moe = m.is_moe();
        if (types.empty()) {
            k.attention = fallback(i);
            continue;
        }
        const std::string& t = types[static_cast<std::size_t>(i)];
        if (t == "full_attention") k.attention = LayerAttention::global;
        else if (t == "sliding_attention") k.attention = LayerAttention::sliding;
        else if (t == "chunked_attention") k.attention = LayerAttention::chunked;
        else
            r.fail("field \"layer_types\": layer " + std::to_string(i) + " is \"" + t +
                   "\" (supported: full_attention, sliding_attention, chunked_attention)");
    }
    return kinds;
}
// Gemma 2 and GPT-OSS: sliding on even layers, full on odd ones (their configs' layer_types default).
LayerAttention even_sliding(int i) { return i % 2 == 0 ? LayerAttention::sliding : LayerAttention::global; }

// Qwen2/Qwen3-MoE (Qwen2MoeDecoderLayer): layer i is MoE iff i is not in mlp_only_layers and
// (i + 1) % decoder_sparse_step == 0.
void qwen_moe_layers(const Reader& r, ModelSpec& m, std::vector<LayerKind>& kinds) {
    const int step = r.optional_int("decoder_sparse_step", 1, 1).value_or(1);
    const std::vector<int> dense = r.int_list("mlp_only_layers");
    for (int i = 0; i < m.n_layers; ++i)
        kinds[static_cast<std::size_t>(i)].moe =
            (i + 1) % step == 0 && std::find(dense.begin(), dense.end(), i) == dense.end();
}

ModelSpec read_qwen3(const Reader& r) {
    // Qwen3Config: head_dim defaults to 128 (not d / H); num_key_value_heads None -> H;
    // attention_bias (q, k, v, o) default False; q_norm and k_norm of head_dim per layer.
    ModelSpec m = read_llama_like(r, std::nullopt);
    m.head_dim = r.optional_int("head_dim", 128, 128).value_or(128);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.qk_norm = QkNorm::per_head;
    // Qwen3Config: use_sliding_window (default False) windows the layers from max_window_layers
    // (default 28) on; transformers 5 writes the result as layer_types.
    if (r.optional_bool("use_sliding_window", false))
        m.sliding_window = r.optional_int("sliding_window", 4096, 0, 0).value_or(0);
    const int from = r.optional_int("max_window_layers", 28, 28, 0).value_or(28);
    set_pattern(m, attention_pattern(r, m, [&](int i) {
                    return m.sliding_window > 0 && i >= from ? LayerAttention::sliding : LayerAttention::global;
                }));
    return m;
}

// Qwen3-MoE and Qwen2-MoE: routed experts of moe_intermediate_size in the layers the sparse step
// picks, a dense MLP of intermediate_size elsewhere.
ModelSpec read_qwen_moe(const Reader& r, std::optional<int> default_kv_heads) {
    ModelSpec m = read_llama_like(r, default_kv_heads);
    m.n_experts = r.required_int("num_experts");
    m.top_k = r.required_int("num_experts_per_tok");
    m.moe_d_ff = r.required_int("moe_intermediate_size");
    std::vector<LayerKind> kinds(static_cast<std::size_t>(m.n_layers));
    qwen_moe_layers(r, m, kinds);
    if (std::none_of(kinds.begin(), kinds.end(), [](const LayerKind& k) { return k.moe; }))
        r.fail("no layer is an MoE layer (check decoder_sparse_step and mlp_only_layers)");
    set_pattern(m, kinds);
    return m;
}

ModelSpec read_qwen3_moe(const Reader& r) {
    // Qwen3MoeConfig: num_key_value_heads default 4; no bias; q_norm / k_norm of head_dim.
    ModelSpec m = read_qwen_moe(r, 4);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.qk_norm = QkNorm::per_head;
    return m;
}

ModelSpec read_qwen2_moe(const Reader& r) {
    // Qwen2MoeConfig: num_key_value_heads default 16; qkv_bias (q, k, v; default True), o_proj
    // unbiased; one shared expert of shared_expert_intermediate_size with a sigmoid gate d -> 1.
    ModelSpec m = read_qwen_moe(r, 16);
    m.qkv_bias = r.optional_bool("qkv_bias", true);
    m.shared_d_ff = r.optional_int("shared_expert_intermediate_size", 5632, 5632, 0).value_or(5632);
    m.shared_expert_gate = m.shared_d_ff > 0;
    return m;
}

// DeepSeek's layer plan, which GLM-4.5 keeps: the first first_k_dense_replace layers dense
// (intermediate_size), the rest MoE with n_routed_experts (absent: `default_experts`; none or one:
// no MoE) of moe_intermediate_size and n_shared_experts shared ones of moe_intermediate_size each.
void dense_then_routed(const Reader& r, ModelSpec& m, std::optional<int> default_experts, int default_dense,
                       std::optional<int> default_shared) {
    const std::optional<int> routed = r.optional_int("n_routed_experts", default_experts, std::nullopt);
    if (!routed || *routed <= 1) return;
    m.n_experts = *routed;
    m.top_k = r.required_int("num_experts_per_tok");
    m.moe_d_ff = r.required_int("moe_intermediate_size");
    const int shared = r.optional_int("n_shared_experts", default_shared, 0, 0).value_or(0);
    m.shared_d_ff = std::int64_t{shared} * m.moe_d_ff;
    const int dense = r.optional_int("first_k_dense_replace", default_dense, 0, 0).value_or(0);
    std::vector<LayerKind> kinds(static_cast<std::size_t>(m.n_layers));
    for (int i = 0; i < m.n_layers; ++i) kinds[static_cast<std::size_t>(i)].moe = i >= dense;
    if (dense >= m.n_layers) r.fail("first_k_dense_replace (" + std::to_string(dense) + ") leaves no MoE layer");
    set_pattern(m, kinds);
}

// DeepSeek-V2 / V3: MLA attention; dense_then_routed's layer plan.
ModelSpec read_deepseek(const Reader& r, int default_dense, std::optional<int> default_shared) {
    ModelSpec m;
    m.d_model = r.required_int("hidden_size");
    m.d_ff = r.required_int("intermediate_size");
    m.n_layers = r.layer_count("num_hidden_layers");
    m.n_heads = m.n_kv_heads = r.required_int("num_attention_heads");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("max_position_embeddings");
    r.optional_string("hidden_act");
    m.attention_form = AttentionForm::mla;
    m.mla.q_lora_rank = r.optional_int("q_lora_rank", 1536, 0, 0).value_or(0);  // null: a plain q_proj
    m.mla.kv_lora_rank = r.required_int("kv_lora_rank");
    m.mla.qk_nope_head_dim = r.required_int("qk_nope_head_dim");
    m.mla.qk_rope_head_dim = r.required_int("qk_rope_head_dim");
    m.mla.v_head_dim = r.required_int("v_head_dim");
    m.head_dim = m.mla.qk_head_dim();
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);  // q_a, kv_a and o_proj
    m.mlp_bias = r.optional_bool("mlp_bias", false);                      // the dense MLP (V2)
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", false);
    dense_then_routed(r, m, std::nullopt, default_dense, default_shared);
    return m;
}

ModelSpec read_deepseek_v2(const Reader& r) {
    // DeepseekV2Config: first_k_dense_replace 0, n_shared_experts 2 (None: no shared expert).
    return read_deepseek(r, 0, 2);
}

ModelSpec read_deepseek_v3(const Reader& r) {
    // DeepseekV3Config: first_k_dense_replace 3, n_shared_experts 1. num_nextn_predict_layers
    // (the checkpoint's MTP modules, which transformers does not build) is kept as mtp_layers.
    ModelSpec m = read_deepseek(r, 3, 1);
    m.mtp_layers = r.optional_int("num_nextn_predict_layers", 0, 0, 0).value_or(0);
    return m;
}

ModelSpec read_gpt_oss(const Reader& r) {
    // GptOssConfig: every layer MoE (num_local_experts of intermediate_size, biased, router
    // biased); attention biased (attention_bias default True) with one sink per head; head_dim 64;
    // num_key_value_heads 8; layer_types default: sliding (window 128) on even layers.
    ModelSpec m = read_llama_like(r, 8);
    m.head_dim = r.optional_int("head_dim", 64, std::nullopt).value_or(m.d_model / m.n_heads);
    m.n_experts = r.required_int(r.present("num_local_experts") ? "num_local_experts" : "num_experts");
    m.top_k = r.optional_int("num_experts_per_tok", 4, 4).value_or(4);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", true);
    m.attention_sinks = m.router_bias = m.expert_bias = true;
    m.sliding_window = r.optional_int("sliding_window", 128, 0, 0).value_or(0);
    set_pattern(m, attention_pattern(r, m, even_sliding));
    return m;
}

// Gemma 2 and 3: head_dim (default 256) independent of d / H, GeGLU MLP, four RMSNorms per layer,
// tied embeddings by default.
ModelSpec read_gemma(const Reader& r, std::optional<int> default_kv_heads) {
    ModelSpec m = read_llama_like(r, default_kv_heads);
    m.head_dim = r.optional_int("head_dim", 256, 256).value_or(256);
    r.optional_string("hidden_activation");
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", true);
    m.norms_per_layer = 4;
    m.sliding_window = r.optional_int("sliding_window", 4096, 0, 0).value_or(0);
    return m;
}

ModelSpec read_gemma2(const Reader& r) {
    // Gemma2Config: attn_logit_softcapping 50, final_logit_softcapping 30 (None: off);
    // layer_types default: sliding on even layers.
    ModelSpec m = read_gemma(r, 4);
    m.attn_softcap = r.present("attn_logit_softcapping") ? r.optional_real("attn_logit_softcapping", 0) : 50.0;
    m.final_softcap = r.present("final_logit_softcapping") ? r.optional_real("final_logit_softcapping", 0) : 30.0;
    set_pattern(m, attention_pattern(r, m, even_sliding));
    return m;
}

ModelSpec read_gemma3_text(const Reader& r) {
    // Gemma3TextConfig: q_norm / k_norm of head_dim; soft-capping off by default; every
    // sliding_window_pattern-th layer (default 6) global, the others sliding.
    ModelSpec m = read_gemma(r, 4);
    m.qk_norm = QkNorm::per_head;
    m.attn_softcap = r.optional_real("attn_logit_softcapping", 0);
    m.final_softcap = r.optional_real("final_logit_softcapping", 0);
    const int pattern =
        r.optional_int(r.present("sliding_window_pattern") ? "sliding_window_pattern" : "_sliding_window_pattern", 6, 6)
            .value_or(6);
    set_pattern(m, attention_pattern(r, m, [&](int i) {
                    return (i + 1) % pattern == 0 ? LayerAttention::global : LayerAttention::sliding;
                }));
    return m;
}

ModelSpec read_llama4_text(const Reader& r) {
    // Llama4TextConfig: routed and shared experts of intermediate_size, dense layers of
    // intermediate_size_mlp; MoE layers moe_layers, else every interleave_moe_layer_step-th
    // (default 1: all); NoPE layers: no_rope_layers[i] == 0, else every
    // no_rope_layer_interval-th (default 4); RoPE layers use chunked attention
    // (attention_chunk_size 8192), NoPE layers full attention; the QK L2 norm has no weights.
    ModelSpec m = read_llama_like(r, std::nullopt);
    m.head_dim = r.optional_int("head_dim", 128, std::nullopt).value_or(m.d_model / m.n_heads);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    if (r.optional_bool("use_qk_norm", true)) m.qk_norm = QkNorm::unweighted;
    m.n_experts = r.required_int("num_local_experts");
    m.top_k = r.optional_int("num_experts_per_tok", 1, 1).value_or(1);
    m.moe_d_ff = m.d_ff;  // intermediate_size
    m.shared_d_ff = m.d_ff;
    m.d_ff = r.optional_int("intermediate_size_mlp", 16384, 16384).value_or(16384);
    m.attention_chunk = r.optional_int("attention_chunk_size", 8192, 0, 0).value_or(0);
    std::vector<int> moe = r.int_list("moe_layers");
    if (moe.empty()) {
        const int step = r.optional_int("interleave_moe_layer_step", 1, 1).value_or(1);
        for (int i = step - 1; i < m.n_layers; i += step) moe.push_back(i);
    }
    const std::vector<int> rope = r.int_list("no_rope_layers");
    if (!rope.empty() && rope.size() != static_cast<std::size_t>(m.n_layers))
        r.fail("field \"no_rope_layers\" lists " + std::to_string(rope.size()) + " layers but num_hidden_layers is " +
               std::to_string(m.n_layers));
    const int interval = r.optional_int("no_rope_layer_interval", 4, 4).value_or(4);
    std::vector<LayerKind> kinds(static_cast<std::size_t>(m.n_layers));
    for (int i = 0; i < m.n_layers; ++i) {
        LayerKind& k = kinds[static_cast<std::size_t>(i)];
        k.moe = std::find(moe.begin(), moe.end(), i) != moe.end();
        k.rope = rope.empty() ? (i + 1) % interval != 0 : rope[static_cast<std::size_t>(i)] != 0;
        k.attention = k.rope && m.attention_chunk > 0 ? LayerAttention::chunked : LayerAttention::global;
    }
    if (m.attention_chunk > 0 && std::none_of(kinds.begin(), kinds.end(), [](const LayerKind& k) {
            return k.attention == LayerAttention::chunked;
        }))
        m.attention_chunk = 0;
    m.layer_kinds = kinds;  // always heterogeneous enough to keep (chunked or NoPE layers)
    if (std::none_of(kinds.begin(), kinds.end(), [](const LayerKind& k) { return k.moe; }))
        r.fail("no layer is an MoE layer (check moe_layers and interleave_moe_layer_step)");
    return m;
}

ModelSpec read_phi3(const Reader& r) {
    // Phi3Config: fused qkv_proj and gate_up_proj (the same counts as separate ones), no biases;
    // sliding_window (None: none) on every layer, as Mistral's.
    ModelSpec m = read_llama_like(r, std::nullopt);
    m.sliding_window = r.optional_int("sliding_window", 0, 0, 0).value_or(0);
    return m;
}

ModelSpec read_olmo2(const Reader& r) {
    // Olmo2Config: attention_bias default False; q_norm / k_norm over the whole projection;
    // post-norms (two per layer).
    ModelSpec m = read_llama_like(r, std::nullopt);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.qk_norm = QkNorm::full_width;
    return m;
}

// Rotary on a fraction of each head: partial_rotary_factor (transformers 5 also writes it inside
// rope_parameters), else `fallback`.
double partial_rotary(const Reader& r, double fallback) {
    std::optional<double> f = r.optional_number(r.cfg(), "partial_rotary_factor");
    if (!f)
        if (const json* rope = r.get("rope_parameters"); rope && rope->is_object())
            f = r.optional_number(*rope, "partial_rotary_factor");
    if (f && !(*f > 0 && *f <= 1)) r.fail("field \"partial_rotary_factor\" must be in (0, 1] (got " + json(*f).dump() + ")");
    return f.value_or(fallback);
}

ModelSpec read_glm4_moe(const Reader& r) {
    // Glm4MoeConfig (GLM-4.5, 4.5-Air, 4.6, 4.7; defaults are 4.5-Air's): GQA with head_dim 128
    // (not d / H; required here) and num_key_value_heads 8; q, k, v_proj biased iff attention_bias (default False),
    // o_proj never; q_norm / k_norm of head_dim iff use_qk_norm (default False); rotary on
    // partial_rotary_factor 0.5 of each head; dense_then_routed's layers (128 experts of 1408, one
    // shared expert, first_k_dense_replace 1); the router's e_score_correction_bias is a buffer.
    // num_nextn_predict_layers (1 in the releases) is the checkpoint's MTP layer, which
    // transformers does not build (it skips model.layers.<L>.*): kept as mtp_layers.
    r.required_int("head_dim");  // every release gives it (128, not d / H); the class default is not relied on
    ModelSpec m = read_llama_like(r, 8);
    m.qkv_bias = r.optional_bool("attention_bias", false);
    m.out_bias = false;
    if (r.optional_bool("use_qk_norm", false)) m.qk_norm = QkNorm::per_head;
    m.rotary_pct = partial_rotary(r, 0.5);
    dense_then_routed(r, m, 128, 1, 1);
    if (!m.is_moe()) r.fail("n_routed_experts must be 2 or more for model_type \"glm4_moe\"");
    m.mtp_layers = r.optional_int("num_nextn_predict_layers", 0, 0, 0).value_or(0);
    return m;
}

// Qwen3-Next and Qwen3.5's gated-attention hybrids (Qwen3NextConfig, Qwen3_5MoeTextConfig): the
// mixer of each layer from layer_types ("linear_attention": a Gated DeltaNet, "full_attention":
// attention), absent: every full_attention_interval-th layer (default 4) attention, the rest
// Gated DeltaNet; the Gated DeltaNet shape from the linear_* fields (class defaults 16 key heads and
// 32 value heads of 128, a 4-tap convolution). Attention: GQA with head_dim (default 256), q_proj
// doubled by the output gate (always built), q_norm / k_norm of head_dim, rotary on partial_rotary_factor (0.25)
// of each head, biases iff attention_bias (default False). MoE: num_experts (512 / 256) of
// moe_intermediate_size, top num_experts_per_tok, one shared expert of
// shared_expert_intermediate_size with its sigmoid gate d → 1 (Qwen2-MoE's block). The checkpoint's
// mtp_num_hidden_layers multi-token-prediction layers (Qwen3.5's config gives 1; transformers
// builds none) are kept as mtp_layers. docs/MODEL_FAMILIES.md, "qwen3_next".
void read_gated_attention_hybrid(const Reader& r, ModelSpec& m, std::vector<LayerKind>& kinds) {
    m.head_dim = r.optional_int("head_dim", 256, 256).value_or(256);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.qk_norm = QkNorm::per_head;
    // transformers builds the gate whatever Qwen3.5's attn_output_gate says (its configs write true).
    r.optional_bool("attn_output_gate", true);
    m.attention_output_gate = true;
    m.rotary_pct = partial_rotary(r, 0.25);
    m.shared_d_ff = r.optional_int("shared_expert_intermediate_size", 512, 512, 0).value_or(512);
    m.shared_expert_gate = m.shared_d_ff > 0;
    m.gdn.k_heads = r.optional_int("linear_num_key_heads", 16, 16).value_or(16);
    m.gdn.v_heads = r.optional_int("linear_num_value_heads", 32, 32).value_or(32);
    m.gdn.k_head_dim = r.optional_int("linear_key_head_dim", 128, 128).value_or(128);
    m.gdn.v_head_dim = r.optional_int("linear_value_head_dim", 128, 128).value_or(128);
    m.gdn.conv_kernel = r.optional_int("linear_conv_kernel_dim", 4, 4).value_or(4);
    m.mtp_layers = r.optional_int("mtp_num_hidden_layers", 0, 0, 0).value_or(0);
    const std::vector<std::string> types = r.string_list("layer_types");
    if (!types.empty() && types.size() != static_cast<std::size_t>(m.n_layers))
        r.fail("field \"layer_types\" lists " + std::to_string(types.size()) + " layers but num_hidden_layers is " +
               std::to_string(m.n_layers));
    const int interval = r.optional_int("full_attention_interval", 4, 4).value_or(4);
    for (int i = 0; i < m.n_layers; ++i) {
        LayerKind& k = kinds[static_cast<std::size_t>(i)];
        const std::string t = types.empty() ? ((i + 1) % interval == 0 ? "full_attention" : "linear_attention")
                                            : types[static_cast<std::size_t>(i)];
        if (t == "linear_attention") k.mixer = Mixer::gated_deltanet;
        else if (t != "full_attention")
            r.fail("field \"layer_types\": layer " + std::to_string(i) + " is \"" + t +
                   "\" (supported for this model_type: linear_attention, full_attention)");
    }
}

ModelSpec read_qwen3_next(const Reader& r) {
    // Qwen3NextConfig: num_key_value_heads default 2; MoE layers as Qwen2/Qwen3-MoE's
    // (decoder_sparse_step, mlp_only_layers; a dense MLP of intermediate_size elsewhere).
    ModelSpec m = read_llama_like(r, 2);
    m.n_experts = r.required_int("num_experts");
    m.top_k = r.required_int("num_experts_per_tok");
    m.moe_d_ff = r.required_int("moe_intermediate_size");
    std::vector<LayerKind> kinds(static_cast<std::size_t>(m.n_layers));
    qwen_moe_layers(r, m, kinds);
    read_gated_attention_hybrid(r, m, kinds);
    set_pattern(m, kinds);
    return m;
}

ModelSpec read_qwen3_5_moe_text(const Reader& r) {
    // Qwen3_5MoeTextConfig: every layer MoE (no dense MLP, no intermediate_size: the expert width
    // is moe_intermediate_size); num_key_value_heads default 2.
    ModelSpec m = read_llama_like(r, 2, "moe_intermediate_size");
    m.n_experts = r.required_int("num_experts");
    m.top_k = r.required_int("num_experts_per_tok");
    std::vector<LayerKind> kinds(static_cast<std::size_t>(m.n_layers), LayerKind{true});
    read_gated_attention_hybrid(r, m, kinds);
    set_pattern(m, kinds);
    return m;
}

ModelSpec read_minimax_m2(const Reader& r) {
    // MiniMaxM2Config (MiniMax-M2, M2.1, M2.5, M2.7): every layer MoE, num_local_experts (256) of
    // intermediate_size (1536, the expert width; no dense MLP), top num_experts_per_tok (8), no
    // shared expert; GQA with head_dim 128 (required here), no biases; q_norm / k_norm over the whole projection
    // (H·hd and K·hd, qk_norm_type "per_layer"); rotary on rotary_dim of head_dim; the router's
    // e_score_correction_bias is a buffer. The config's MTP modules have no published weights and
    // transformers builds none: not planned.
    r.required_int("head_dim");  // every release gives it (128, not d / H); the class default is not relied on
    ModelSpec m = read_llama_like(r, 8);
    m.n_experts = r.required_int("num_local_experts");
    m.top_k = r.required_int("num_experts_per_tok");
    if (m.n_experts < 2) r.fail("num_local_experts must be 2 or more for model_type \"minimax_m2\"");
    if (r.optional_int("shared_intermediate_size", 0, 0, 0).value_or(0) > 0)
        r.fail("field \"shared_intermediate_size\" > 0: MiniMax-M2's transformers class builds no shared expert");
    if (r.optional_bool("use_qk_norm", true)) {
        const std::optional<std::string> kind = r.optional_string("qk_norm_type");
        if (kind && *kind != "per_layer")
            r.fail("field \"qk_norm_type\" is \"" + *kind + "\" (transformers' MiniMax-M2 builds per_layer q/k norms only)");
        m.qk_norm = QkNorm::full_width;
    }
    const std::optional<int> rotary_dim = r.optional_int("rotary_dim", std::nullopt, std::nullopt);
    if (rotary_dim && *rotary_dim > m.head_dim)
        r.fail("field \"rotary_dim\" (" + std::to_string(*rotary_dim) + ") exceeds head_dim (" + std::to_string(m.head_dim) + ")");
    m.rotary_pct = rotary_dim ? static_cast<double>(*rotary_dim) / m.head_dim : partial_rotary(r, 0.5);
    return m;
}

ModelSpec read_bloom(const Reader& r) {
    // BloomConfig: hidden_size (alias n_embed), n_layer, n_head; LayerNorm, ALiBi (no position
    // parameters), a LayerNorm on the word embedding, fused biased query_key_value and dense,
    // an MLP of always 4·hidden_size (n_inner is ignored), tied embeddings by default. ALiBi has
    // no position limit; the planner's default sequence is BLOOM's training length, seq_length
    // (2048, Scao et al. 2022, Table 3) when the config lacks it.
    ModelSpec m;
    m.d_model = r.required_int_alias("hidden_size", "n_embed");
    m.n_layers = r.layer_count_alias("n_layer", "num_hidden_layers");
    m.n_heads = m.n_kv_heads = r.required_int_alias("n_head", "num_attention_heads");
    m.head_dim = r.derived_head_dim(m, "hidden_size", "n_head");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.optional_int("seq_length", 2048, 2048).value_or(2048);
    m.d_ff = static_cast<int>(std::min<std::int64_t>(4LL * m.d_model, std::numeric_limits<int>::max()));
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.position = PositionEmbedding::alibi;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.embedding_norm = true;
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", true);
    return m;
}

ModelSpec read_nemotron(const Reader& r) {
    // NemotronConfig (configuration_nemotron.py) and modeling_nemotron.py: head_dim None -> d / H,
    // num_key_value_heads None -> H; NemotronLayerNorm1P, a LayerNorm (weight and bias) applied as
    // (1 + weight): LayerNorm's parameters; q, k, v and o_proj with bias=attention_bias (default
    // False); a two-matrix MLP up_proj -> act -> down_proj with bias=mlp_bias (default False) whose
    // act is hidden_act, "relu2" (squared ReLU) by default; rotary on partial_rotary_factor (default
    // 0.5; a later layout keeps it in rope_parameters) of each head; untied lm_head
    // (tie_word_embeddings default False). Another hidden_act keeps the layout (one element-wise
    // activation between the two matrices): planned as GELU's.
    ModelSpec m = read_llama_like(r, std::nullopt);
    m.activation = r.optional_string("hidden_act").value_or("relu2") == "relu2" ? Activation::relu2 : Activation::gelu;
    m.norm = Norm::layernorm;
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.mlp_bias = r.optional_bool("mlp_bias", false);
    m.rotary_pct = partial_rotary(r, 0.5);
    return m;
}

ModelSpec read_nemotron_h(const Reader& r) {
    // NemotronHConfig (transformers configuration_nemotron_h.py; NVIDIA's Nemotron-H and Nemotron 3
    // checkpoints) and Megatron-Core's hybrid model: one mixer or MLP per layer, spelled by
    // hybrid_override_pattern (M Mamba-2, * attention, - MLP, E MoE) or layers_block_type
    // ("mamba", "attention", "mlp", "moe"). Attention without position embedding (NoPE),
    // num_key_value_heads default 8, head_dim default 128, no biases (attention_bias, mlp_bias
    // default False); MLPs of squared ReLU (mlp_hidden_act "relu2"); RMSNorms; untied lm_head.
    // The Mamba-2 mixers: mamba_num_heads (128) × mamba_head_dim (64), ssm_state_size (128),
    // n_groups (8), conv_kernel (4), chunk_size (128); in/out projections without bias (use_bias
    // False), the convolution biased. MoE layers: n_routed_experts of moe_intermediate_size, top
    // num_experts_per_tok, a shared expert of moe_shared_expert_intermediate_size × n_shared_experts.
    ModelSpec m;
    m.d_model = r.required_int("hidden_size");
    m.vocab_size = r.required_int64("vocab_size");
    m.n_heads = r.optional_int("num_attention_heads", 32, 32).value_or(32);
    m.n_kv_heads = r.optional_int("num_key_value_heads", 8, std::nullopt).value_or(m.n_heads);
    m.head_dim = r.optional_int("head_dim", 128, std::nullopt).value_or(m.d_model / std::max(1, m.n_heads));
    m.d_ff = r.optional_int("intermediate_size", 21504, 21504).value_or(21504);
    m.max_positions = r.optional_int("max_position_embeddings", 4096, 4096).value_or(4096);
    m.activation = r.optional_string("mlp_hidden_act").value_or("relu2") == "relu2" ? Activation::relu2 : Activation::gelu;
    r.optional_string("mamba_hidden_act");
    m.norm = Norm::rmsnorm;
    m.position = PositionEmbedding::none;
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", false);
    m.qkv_bias = m.out_bias = r.optional_bool("attention_bias", false);
    m.mlp_bias = r.optional_bool("mlp_bias", false);
    if (r.optional_bool("use_bias", false) || r.optional_bool("mamba_proj_bias", false))
        r.fail("biased Mamba projections (use_bias or mamba_proj_bias true) are not modelled");
    // Latent MoE (moe_latent_size, Nemotron 3 Super and Ultra): the routed experts and the dispatch
    // at that width, with a projection d → latent and back in each MoE layer (Megatron-Core moe_layer.py).
    m.moe_latent = r.optional_int("moe_latent_size", 0, 0, 0).value_or(0);
    // Multi-token prediction: num_nextn_predict_layers modules of mtp_hybrid_override_pattern's layers
    // ("*E": an attention and an MoE layer, with the DeepSeek-V3 module's norms and 2d → d projection);
    // Megatron Bridge's mtp_use_repeated_layer runs one module's weights at every depth.
    m.mtp_layers = r.optional_int("num_nextn_predict_layers", 0, 0, 0).value_or(0);
    m.mtp_repeated = r.optional_bool("mtp_use_repeated_layer", false);
    if (m.mtp_layers > 0) {
        const std::string mtp = r.optional_string("mtp_hybrid_override_pattern").value_or("*E");
        m.mtp_kinds = hybrid_layer_kinds(mtp, r.what() + " field \"mtp_hybrid_override_pattern\"");
    }
    m.mamba.heads = r.optional_int("mamba_num_heads", 128, 128).value_or(128);
    m.mamba.head_dim = r.optional_int("mamba_head_dim", 64, 64).value_or(64);
    m.mamba.state = r.optional_int("ssm_state_size", 128, 128).value_or(128);
    m.mamba.groups = r.optional_int(r.present("n_groups") ? "n_groups" : "mamba_n_groups", 8, 8).value_or(8);
    m.mamba.conv_kernel = r.optional_int(r.present("conv_kernel") ? "conv_kernel" : "mamba_d_conv", 4, 4).value_or(4);
    m.mamba.chunk = r.optional_int(r.present("chunk_size") ? "chunk_size" : "mamba_chunk_size", 128, 128).value_or(128);
    if (r.present("n_routed_experts") || r.present("num_experts")) {
        m.n_experts = r.required_int(r.present("n_routed_experts") ? "n_routed_experts" : "num_experts");
        m.top_k = r.optional_int("num_experts_per_tok", 1, 1).value_or(1);
        m.moe_d_ff = r.optional_int("moe_intermediate_size", m.d_ff, m.d_ff).value_or(m.d_ff);
        const int shared = r.optional_int("n_shared_experts", 1, 1, 0).value_or(1);
        m.shared_d_ff = static_cast<std::int64_t>(shared) *
                        r.optional_int("moe_shared_expert_intermediate_size", 0, 0, 0).value_or(0);
    }
    std::vector<LayerKind> kinds;
    if (const std::optional<std::string> pattern = r.optional_string("hybrid_override_pattern")) {
        kinds = hybrid_layer_kinds(*pattern, r.what() + " field \"hybrid_override_pattern\"");
    } else {
        const std::vector<std::string> types = r.string_list("layers_block_type");
        if (types.empty()) r.fail("missing required field \"hybrid_override_pattern\" (or \"layers_block_type\") for model_type \"nemotron_h\"");
        std::string spelled;
        for (const std::string& t : types) {
            // transformers' names: "mamba"/"attention", or "linear_attention"/"full_attention" in later versions
            if (t == "mamba" || t == "linear_attention") spelled += 'M';
            else if (t == "attention" || t == "full_attention") spelled += '*';
            else if (t == "mlp") spelled += '-';
            else if (t == "moe") spelled += 'E';
            else r.fail("field \"layers_block_type\" has \"" + t.substr(0, 40) + "\"; llmplan reads mamba, attention, mlp and moe");
        }
        kinds = hybrid_layer_kinds(spelled, r.what() + " field \"layers_block_type\"");
    }
    m.n_layers = static_cast<int>(kinds.size());
    if (const std::optional<int> n = r.optional_int("num_hidden_layers", std::nullopt, std::nullopt); n && *n != m.n_layers)
        r.fail("the layer pattern has " + std::to_string(m.n_layers) + " layers but num_hidden_layers is " + std::to_string(*n));
    if (std::any_of(kinds.begin(), kinds.end(), [](const LayerKind& k) { return k.moe; }) && !m.is_moe())
        r.fail("the layer pattern has MoE layers (E) but the config names no n_routed_experts");
    m.layer_kinds = std::move(kinds);
    return m;
}

// ---- classic published-run families: OPT, Falcon, MPT, DBRX (docs/MODEL_FAMILIES.md) ----------

// A nested config object (MPT's attn_config, DBRX's attn_config and ffn_config): read with its own
// Reader, its errors naming "<source> <key>"; absent or null: an empty object, so that every field
// takes the nested class's default.
const json& nested_object(const Reader& r, const char* key) {
    static const json empty = json::object();
    const json* v = r.get(key);
    if (!v) return empty;
    if (!v->is_object()) r.fail("field \"" + std::string(key) + "\" must be an object (got " + describe(*v) + ")");
    return *v;
}

ModelSpec read_opt(const Reader& r) {
    // OPTConfig (configuration_opt.py) and modeling_opt.py: hidden_size (d_model in configs before
    // transformers 4.20), num_hidden_layers, num_attention_heads, ffn_dim, vocab_size,
    // max_position_embeddings; q, k, v, out_proj and fc1, fc2 with bias=enable_bias (default True);
    // two LayerNorms per layer (self_attn_layer_norm, final_layer_norm) and a final LayerNorm,
    // elementwise_affine=layer_norm_elementwise_affine (default True); a two-matrix MLP fc1 ->
    // activation_function (default "relu") -> fc2; lm_head tied to embed_tokens
    // (tie_word_embeddings default True, PretrainedConfig's).
    // Approximated: OPTLearnedPositionalEmbedding holds max_position_embeddings + 2 rows (its
    // padding offset); the spec keeps max_position_embeddings as the context length the model
    // addresses and counts that many rows, 2·hidden_size parameters fewer than transformers builds
    // (24,576 for OPT-175B). ReLU is planned as GELU's MLP (the same parameters and FLOPs).
    // Refused: word_embed_proj_dim != hidden_size (OPT-350m's project_in/project_out around a
    // narrower embedding), do_layer_norm_before false (OPT-350m's post-LayerNorm layout, which
    // builds no final LayerNorm) and parameterless LayerNorms: none has a ModelSpec form.
    ModelSpec m;
    m.d_model = r.required_int_alias("hidden_size", "d_model");
    m.n_layers = r.layer_count("num_hidden_layers");
    m.n_heads = m.n_kv_heads = r.required_int("num_attention_heads");
    m.head_dim = r.derived_head_dim(m, r.present("hidden_size") ? "hidden_size" : "d_model", "num_attention_heads");
    m.d_ff = r.required_int("ffn_dim");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("max_position_embeddings");
    // word_embed_proj_dim None -> hidden_size (OPTConfig.__init__).
    if (const std::optional<int> proj = r.optional_int("word_embed_proj_dim", std::nullopt, std::nullopt);
        proj && *proj != m.d_model)
        r.fail("field \"word_embed_proj_dim\" (" + std::to_string(*proj) + ") differs from hidden_size (" +
               std::to_string(m.d_model) + "): OPT's project_in/project_out around a narrower embedding are not modelled");
    if (!r.optional_bool("do_layer_norm_before", true))
        r.fail("field \"do_layer_norm_before\" is false: OPT-350m's post-LayerNorm layout (no final LayerNorm) is not modelled");
    if (r.optional_bool("_remove_final_layer_norm", false))
        r.fail("field \"_remove_final_layer_norm\" is true: a model without its final LayerNorm is not modelled");
    if (!r.optional_bool("layer_norm_elementwise_affine", true))
        r.fail("field \"layer_norm_elementwise_affine\" is false: LayerNorms without parameters are not modelled");
    m.gelu_tanh_op_by_op = r.optional_string("activation_function").value_or("relu") == "gelu_new";
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = r.optional_bool("enable_bias", true);
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", true);
    return m;
}

ModelSpec read_falcon(const Reader& r) {
    // FalconConfig (configuration_falcon.py) and modeling_falcon.py: hidden_size (n_embed before),
    // num_hidden_layers (n_layer), num_attention_heads (n_head), vocab_size; head_dim = hidden_size
    // // num_attention_heads. FalconAttention's fused query_key_value: new_decoder_architecture
    // (default False) -> (2·num_kv_heads + H)·head_dim rows (num_kv_heads None -> H); else
    // multi_query (default True) -> H·head_dim + 2·head_dim (one K and one V head); else 3·hidden.
    // query_key_value, dense, dense_h_to_4h and dense_4h_to_h take bias=config.bias (default False);
    // the MLP is two matrices of ffn_hidden_size (None -> 4·hidden_size) with activation (default
    // "gelu"). Positions: alibi (default False), else rotary; max_position_embeddings default 2048.
    // Norms (FalconDecoderLayer): parallel_attn (default True) with num_ln_in_parallel_attn 2 (the
    // default under new_decoder_architecture) -> ln_attn and ln_mlp; parallel_attn with one norm
    // (Falcon-7B) -> input_layernorm only; sequential -> input_layernorm and
    // post_attention_layernorm; all LayerNorms, plus ln_f. lm_head tied (tie_word_embeddings
    // default True, FalconForCausalLM's _tied_weights_keys).
    // Approximated: ModelSpec has two norms per layer, so the one-norm parallel layout (Falcon-7B)
    // counts one LayerNorm per layer more than transformers builds (2·hidden_size per layer:
    // 290,816 for Falcon-7B). Another activation keeps the two matrices: planned as GELU's.
    ModelSpec m;
    m.d_model = r.required_int_alias("hidden_size", "n_embed");
    m.n_layers = r.layer_count_alias("num_hidden_layers", "n_layer");
    m.n_heads = r.required_int_alias("num_attention_heads", "n_head");
    m.head_dim = r.derived_head_dim(m, "hidden_size", "num_attention_heads");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.optional_int("max_position_embeddings", 2048, 2048).value_or(2048);
    const bool new_arch = r.optional_bool("new_decoder_architecture", false);
    const bool multi_query = r.optional_bool("multi_query", true);
    const char* kv_key = !r.present("num_kv_heads") && r.present("n_head_kv") ? "n_head_kv" : "num_kv_heads";
    const int kv_heads = r.optional_int(kv_key, std::nullopt, std::nullopt).value_or(m.n_heads);
    m.n_kv_heads = new_arch ? kv_heads : multi_query ? 1 : m.n_heads;
    m.d_ff = r.optional_int("ffn_hidden_size", std::nullopt, std::nullopt)
                 .value_or(static_cast<int>(std::min<std::int64_t>(4LL * m.d_model, std::numeric_limits<int>::max())));
    r.optional_string("activation");
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.position = r.optional_bool("alibi", false) ? PositionEmbedding::alibi : PositionEmbedding::rotary;
    m.qkv_bias = m.out_bias = m.mlp_bias = r.optional_bool("bias", false);
    m.parallel_residual = r.optional_bool("parallel_attn", true);
    r.optional_int("num_ln_in_parallel_attn", std::nullopt, std::nullopt);
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", true);
    return m;
}

// The shape fields MosaicML's configs share (MptConfig, DbrxConfig): d_model, n_heads, n_layers
// (head_dim = d_model / n_heads), vocab_size, max_seq_len.
ModelSpec read_mosaic_shape(const Reader& r) {
    ModelSpec m;
    m.d_model = r.required_int("d_model");
    m.n_heads = r.required_int("n_heads");
    m.n_layers = r.layer_count("n_layers");
    m.head_dim = r.derived_head_dim(m, "d_model", "n_heads");
    m.vocab_size = r.required_int64("vocab_size");
    m.max_positions = r.required_int64("max_seq_len");
    return m;
}

ModelSpec read_mpt(const Reader& r) {
    // MptConfig (configuration_mpt.py: d_model, n_heads, n_layers, expansion_ratio 4, max_seq_len,
    // vocab_size, no_bias True, learned_pos_emb True, norm_type "low_precision_layernorm",
    // tie_word_embeddings True; MptAttentionConfig: attn_type "multihead_attention", alibi True,
    // qk_ln False) and modeling_mpt.py: wte (tied lm_head), per block norm_1, attn.Wqkv
    // (d -> 3d), attn.out_proj, norm_2, ffn.up_proj (d -> 4d), GELU, ffn.down_proj, then norm_f; no
    // linear biases and LayerNorms whose bias is removed ("backward compatibility with weights on
    // the Hub"); ALiBi, no position table. transformers' port builds only that released layout
    // (MPT-7B, MPT-30B); the options it ignores are read as MosaicML's llm-foundry
    // (llmfoundry/models/mpt/configuration_mpt.py, modeling_mpt.py), whose model the config
    // describes: expansion_ratio (or ffn_config.ffn_hidden_size) sets the MLP width, ffn_config
    // ffn_type "mptglu" a gated MLP; no_bias false keeps the biases of Wqkv, out_proj, up_proj,
    // down_proj and the norms; attn_type "multiquery_attention" / "grouped_query_attention" one /
    // kv_n_heads K and V heads (Wqkv d -> d + 2·K·head_dim); without alibi, attn_config.rope
    // rotates and learned_pos_emb adds wpe of max_seq_len rows.
    // Approximated: a LayerNorm without bias (the released models) has RMSNorm's parameters (one
    // weight of d) and is planned as such (Norm::rmsnorm), so the count is exact; its mean
    // subtraction is not timed apart. Refused: qk_ln (LayerNorms on q and k) and MoE ffn_types.
    ModelSpec m = read_mosaic_shape(r);
    const Reader ffn(nested_object(r, "ffn_config"), r.what() + " ffn_config", "mpt");
    const std::string ffn_type = ffn.optional_string("ffn_type").value_or("mptmlp");
    if (ffn_type == "mptglu") m.activation = Activation::swiglu;
    else if (ffn_type == "mptmlp" || ffn_type == "te_ln_mlp") m.activation = Activation::gelu;
    else
        ffn.fail("field \"ffn_type\" is \"" + ffn_type.substr(0, 40) + "\" (llmplan reads mptmlp, te_ln_mlp and mptglu)");
    if (const std::optional<int> width = ffn.optional_int("ffn_hidden_size", std::nullopt, std::nullopt)) {
        m.d_ff = *width;
    } else {
        const double ratio = r.optional_number(r.cfg(), "expansion_ratio").value_or(4.0);
        const double width_d = ratio * m.d_model;  // llm-foundry: d_model · expansion_ratio, a whole number
        if (!(ratio > 0) || !(width_d <= std::numeric_limits<int>::max()) || width_d != std::floor(width_d))
            r.fail("field \"expansion_ratio\" (" + json(ratio).dump() + ") times d_model (" + std::to_string(m.d_model) +
                   ") must be a positive whole number");
        m.d_ff = static_cast<int>(width_d);
    }
    const Reader attn(nested_object(r, "attn_config"), r.what() + " attn_config", "mpt");
    const std::string attn_type = attn.optional_string("attn_type").value_or("multihead_attention");
    if (attn_type == "multihead_attention") m.n_kv_heads = m.n_heads;
    else if (attn_type == "multiquery_attention") m.n_kv_heads = 1;
    else if (attn_type == "grouped_query_attention") m.n_kv_heads = attn.required_int("kv_n_heads");
    else
        attn.fail("field \"attn_type\" is \"" + attn_type.substr(0, 40) +
                  "\" (llmplan reads multihead_attention, multiquery_attention and grouped_query_attention)");
    if (attn.optional_bool("qk_ln", false)) attn.fail("field \"qk_ln\" is true: LayerNorms on q and k are not modelled");
    const bool bias = !r.optional_bool("no_bias", true);
    m.qkv_bias = m.out_bias = m.mlp_bias = bias;
    const std::string norm = to_lower(r.optional_string("norm_type").value_or("low_precision_layernorm"));
    if (norm.find("rmsnorm") != std::string::npos) m.norm = Norm::rmsnorm;
    else if (norm.find("layernorm") != std::string::npos) m.norm = bias ? Norm::layernorm : Norm::rmsnorm;
    else
        r.fail("field \"norm_type\" is \"" + norm.substr(0, 40) + "\" (llmplan reads LayerNorm and RMSNorm types)");
    if (attn.optional_bool("alibi", true)) m.position = PositionEmbedding::alibi;
    else if (attn.optional_bool("rope", false)) m.position = PositionEmbedding::rotary;
    else if (r.optional_bool("learned_pos_emb", true)) m.position = PositionEmbedding::learned;
    else m.position = PositionEmbedding::none;
    m.tied_embeddings = r.optional_bool("tie_word_embeddings", true);
    return m;
}

ModelSpec read_dbrx(const Reader& r) {
    // DbrxConfig (configuration_dbrx.py) and modeling_dbrx.py: d_model, n_heads, n_layers,
    // max_seq_len, vocab_size; attn_config (DbrxAttentionConfig: kv_n_heads default 1, clip_qkv,
    // rope_theta: rotary positions) and ffn_config (DbrxFFNConfig: ffn_hidden_size, moe_num_experts,
    // moe_top_k, ffn_act_fn {"name": "silu"}). Per block: norm_1, attn.Wqkv (d -> d +
    // 2·kv_n_heads·head_dim), attn.out_proj, norm_2 (nn.LayerNorm(d, bias=False) each), the router
    // Linear(d -> moe_num_experts, bias=False) and the experts' w1, v1, w2 of [moe_num_experts ·
    // ffn_hidden_size, d] (a gated MLP: act(x·w1ᵀ) · x·v1ᵀ, then w2); every layer MoE; no biases;
    // norm_f without bias; untied lm_head (DbrxConfig refuses tie_word_embeddings). The expert
    // count, top-k and expert width fix the shape, so they are required here (the class defaults
    // them to 4, 1 and 3584). Approximated as in read_mpt: the bias-free LayerNorms are planned as
    // RMSNorm (the same parameters; exact count).
    ModelSpec m = read_mosaic_shape(r);
    const Reader attn(nested_object(r, "attn_config"), r.what() + " attn_config", "dbrx");
    m.n_kv_heads = attn.optional_int("kv_n_heads", 1, 1).value_or(1);
    attn.optional_number(attn.cfg(), "clip_qkv");
    attn.optional_number(attn.cfg(), "rope_theta");
    const Reader ffn(nested_object(r, "ffn_config"), r.what() + " ffn_config", "dbrx");
    m.d_ff = ffn.required_int("ffn_hidden_size");
    m.n_experts = ffn.required_int("moe_num_experts");
    m.top_k = ffn.required_int("moe_top_k");
    if (m.n_experts < 2) ffn.fail("moe_num_experts must be 2 or more for model_type \"dbrx\"");
    if (r.optional_bool("tie_word_embeddings", false))
        r.fail("field \"tie_word_embeddings\" is true: DbrxConfig refuses tied embeddings");
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.position = PositionEmbedding::rotary;
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
    j["activation_function"] = m.gelu_tanh_op_by_op ? "gelu_new" : "gelu";
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
    // Read only (no writer): today's families.
    {"qwen3", read_qwen3, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, true, true,
     nullptr},
    {"qwen3_moe", read_qwen3_moe, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false,
     false, true, nullptr},
    {"qwen2_moe", read_qwen2_moe, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false,
     false, true, nullptr},
    {"deepseek_v2", read_deepseek_v2, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false,
     false, true, nullptr},
    {"deepseek_v3", read_deepseek_v3, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false,
     false, true, nullptr},
    {"gemma2", read_gemma2, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, true,
     true, nullptr},
    {"gemma3_text", read_gemma3_text, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false,
     true, true, nullptr},
    {"phi3", read_phi3, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, true, true,
     nullptr},
    {"gpt_oss", read_gpt_oss, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false, true,
     true, nullptr},
    {"llama4_text", read_llama4_text, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false,
     false, true, nullptr},
    {"olmo2", read_olmo2, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, false, false, false, false,
     true, nullptr},
    {"glm4_moe", read_glm4_moe, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, true, false,
     true, nullptr},
    {"minimax_m2", read_minimax_m2, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, true,
     false, true, nullptr},
    {"qwen3_next", read_qwen3_next, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, true,
     false, true, nullptr},
    {"qwen3_5_moe_text", read_qwen3_5_moe_text, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false,
     true, false, true, nullptr},
    {"bloom", read_bloom, Norm::layernorm, Activation::gelu, PositionEmbedding::alibi, false, false, false, false,
     false, nullptr},
    {"nemotron", read_nemotron, Norm::layernorm, Activation::relu2, PositionEmbedding::rotary, false, false, true, false,
     true, nullptr},
    {"nemotron_h", read_nemotron_h, Norm::rmsnorm, Activation::relu2, PositionEmbedding::none, true, false, false, false,
     true, nullptr},
    {"opt", read_opt, Norm::layernorm, Activation::gelu, PositionEmbedding::learned, false, false, false, false, false,
     nullptr},
    {"falcon", read_falcon, Norm::layernorm, Activation::gelu, PositionEmbedding::rotary, false, true, false, false, true,
     nullptr},
    {"mpt", read_mpt, Norm::rmsnorm, Activation::gelu, PositionEmbedding::alibi, false, false, false, false, true,
     nullptr},
    {"dbrx", read_dbrx, Norm::rmsnorm, Activation::swiglu, PositionEmbedding::rotary, true, false, false, false, true,
     nullptr},
};

// Image-text models whose language model is a text family built from the config's "text_config"
// (fields it lacks take the text config class's defaults; the vision tower is not planned).
struct CompositeFamily {
    const char* type;
    const char* text_type;
    const char* defaults;  // the text config class's defaults for the fields that fix the shape
};
const CompositeFamily kComposites[] = {
    // Gemma3TextConfig (configuration_gemma3.py)
    {"gemma3", "gemma3_text",
     R"({"vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
         "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "max_position_embeddings": 131072})"},
    // Llama4TextConfig (configuration_llama4.py)
    {"llama4", "llama4_text",
     R"({"vocab_size": 202048, "hidden_size": 5120, "intermediate_size": 8192, "intermediate_size_mlp": 16384,
         "num_hidden_layers": 48, "num_attention_heads": 40, "num_key_value_heads": 8, "head_dim": 128,
         "num_local_experts": 16, "max_position_embeddings": 131072})"},
    // Qwen3_5MoeTextConfig (configuration_qwen3_5_moe.py); the linear_* fields' defaults are the reader's
    {"qwen3_5_moe", "qwen3_5_moe_text",
     R"({"vocab_size": 248320, "hidden_size": 2048, "num_hidden_layers": 40, "num_attention_heads": 16,
         "num_key_value_heads": 2, "head_dim": 256, "moe_intermediate_size": 512, "num_experts": 256,
         "num_experts_per_tok": 8, "max_position_embeddings": 32768})"},
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
        if (f.*feature && f.write) names.emplace_back(f.type);  // only those a config can be written as
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
        for (const CompositeFamily& c : kComposites) out.emplace_back(c.type);
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
    const json* text = &cfg;
    std::string read_type = type;
    json defaults;
    for (const CompositeFamily& c : kComposites) {
        if (type != c.type) continue;
        const auto it = cfg.find("text_config");
        if (it == cfg.end() || !it->is_object())
            throw InputError(where + ": model_type \"" + type + "\" needs a \"text_config\" object (its language model)");
        text = &*it;
        read_type = c.text_type;
        defaults = json::parse(c.defaults);
    }
    if (const HfFamily* family = find_family(read_type)) {
        Reader reader(*text, text == &cfg ? std::string(what) : where + " text_config", read_type);
        if (!defaults.is_null()) reader.use_defaults(&defaults);
        ModelSpec m = family->read(reader);
        m.family = read_type;
        m.name = "hf:" + type;
        if (const auto it = cfg.find("_name_or_path"); it != cfg.end() && it->is_string() && !it->get<std::string>().empty())
            m.name = "hf:" + label_from_file(it->get<std::string>());
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
    if (!f.write) {
        std::vector<std::string> writable;
        for (const HfFamily& w : kFamilies)
            if (w.write) writable.emplace_back(w.type);
        require(false, "llmplan reads " + type + " configs but writes only " + join(writable, ", "));
    }
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
