// model.cpp — parameter inventory of a decoder-only transformer.
//
// Layouts follow the Hugging Face implementations the presets come from:
//   GPT-2 (modeling_gpt2.py): wte, wpe, per layer ln_1, c_attn (qkv, bias), c_proj (bias), ln_2,
//     c_fc (bias), c_proj (bias); ln_f; lm_head tied to wte.
//   Llama / Mistral / Qwen2 (modeling_llama.py): embed_tokens, per layer input_layernorm,
//     q/k/v/o_proj, post_attention_layernorm, gate/up/down_proj; norm; lm_head.
//   Mixtral (modeling_mixtral.py): the MLP is n_experts × (w1, w3, w2) plus a router (gate, no bias).
//   GPT-NeoX (modeling_gpt_neox.py): like GPT-2 with untied embed_out and parallel residual.
// The sums reproduce docs/REFERENCES.md §6 exactly (tests/test_model.cpp).
#include "core/model.h"

#include "core/error.h"

#include <sstream>

namespace llmplan {

namespace {

void add(std::vector<ParamTensor>& out, std::string name, ParamGroup group, Block block,
         std::int64_t rows, std::int64_t cols, std::int64_t count, TpSplit tp,
         bool expert = false, bool matmul = false) {
    out.push_back(ParamTensor{std::move(name), group, block, rows, cols, count, tp, expert, matmul});
}

// A norm has a weight, and a bias when it is a LayerNorm.
void add_norm(std::vector<ParamTensor>& out, const std::string& name, Block block,
              std::int64_t d, std::int64_t count, Norm norm) {
    add(out, name + ".weight", ParamGroup::norm, block, 1, d, count, TpSplit::replicated);
    if (norm == Norm::layernorm)
        add(out, name + ".bias", ParamGroup::norm, block, 1, d, count, TpSplit::replicated);
}

}  // namespace

std::vector<ParamTensor> param_tensors(const ModelSpec& m) {
    std::vector<ParamTensor> t;
    const std::int64_t d = m.d_model, L = m.n_layers, q = m.q_dim(), kv = m.kv_dim(), f = m.d_ff;
    const std::int64_t V = m.vocab_size;

    // Embeddings (vocab-parallel under tensor parallelism, Megatron VocabParallelEmbedding).
    add(t, "embed_tokens.weight", ParamGroup::embedding, Block::embedding, V, d, 1, TpSplit::vocab);
    if (m.position == PositionEmbedding::learned)
        add(t, "embed_positions.weight", ParamGroup::embedding, Block::embedding, m.max_positions, d, 1,
            TpSplit::replicated);

    // Attention: q, k, v are column-parallel, o is row-parallel (Megatron §3).
    add_norm(t, "layers.*.attn_norm", Block::layer, d, L, m.norm);
    add(t, "layers.*.attn.q_proj.weight", ParamGroup::attention, Block::layer, q, d, L, TpSplit::column, false, true);
    add(t, "layers.*.attn.k_proj.weight", ParamGroup::attention, Block::layer, kv, d, L, TpSplit::column, false, true);
    add(t, "layers.*.attn.v_proj.weight", ParamGroup::attention, Block::layer, kv, d, L, TpSplit::column, false, true);
    if (m.qkv_bias) {
        add(t, "layers.*.attn.q_proj.bias", ParamGroup::attention, Block::layer, 1, q, L, TpSplit::column);
        add(t, "layers.*.attn.k_proj.bias", ParamGroup::attention, Block::layer, 1, kv, L, TpSplit::column);
        add(t, "layers.*.attn.v_proj.bias", ParamGroup::attention, Block::layer, 1, kv, L, TpSplit::column);
    }
    add(t, "layers.*.attn.o_proj.weight", ParamGroup::attention, Block::layer, d, q, L, TpSplit::row, false, true);
    if (m.out_bias)
        add(t, "layers.*.attn.o_proj.bias", ParamGroup::attention, Block::layer, 1, d, L, TpSplit::replicated);
    if (m.position == PositionEmbedding::relative) {
        // Transformer-XL (Dai et al. 2019, §3.3): W_{k,R} projects relative positions; u, v biases.
        add(t, "layers.*.attn.r_proj.weight", ParamGroup::attention, Block::layer, q, d, L, TpSplit::column, false, true);
        add(t, "layers.*.attn.r_u_bias", ParamGroup::attention, Block::layer, 1, q, L, TpSplit::column);
        add(t, "layers.*.attn.r_v_bias", ParamGroup::attention, Block::layer, 1, q, L, TpSplit::column);
    }

    // MLP: up/gate column-parallel, down row-parallel.
    add_norm(t, "layers.*.mlp_norm", Block::layer, d, L, m.norm);
    const bool moe = m.is_moe();
    const std::int64_t copies = moe ? L * m.n_experts : L;
    const std::string mlp = moe ? "layers.*.experts.*." : "layers.*.mlp.";
    if (moe)  // router: d -> n_experts, replicated (Mixtral's `gate`, no bias)
        add(t, "layers.*.router.weight", ParamGroup::mlp, Block::layer, m.n_experts, d, L, TpSplit::replicated);
    if (m.activation == Activation::swiglu)
        add(t, mlp + "gate_proj.weight", ParamGroup::mlp, Block::layer, f, d, copies, TpSplit::column, moe, true);
    add(t, mlp + "up_proj.weight", ParamGroup::mlp, Block::layer, f, d, copies, TpSplit::column, moe, true);
    if (m.mlp_bias) {
        if (m.activation == Activation::swiglu)
            add(t, mlp + "gate_proj.bias", ParamGroup::mlp, Block::layer, 1, f, copies, TpSplit::column, moe);
        add(t, mlp + "up_proj.bias", ParamGroup::mlp, Block::layer, 1, f, copies, TpSplit::column, moe);
    }
    add(t, mlp + "down_proj.weight", ParamGroup::mlp, Block::layer, d, f, copies, TpSplit::row, moe, true);
    if (m.mlp_bias)
        add(t, mlp + "down_proj.bias", ParamGroup::mlp, Block::layer, 1, d, copies, TpSplit::replicated, moe);

    add_norm(t, "final_norm", Block::final_norm, d, 1, m.norm);
    if (!m.tied_embeddings)
        add(t, "lm_head.weight", ParamGroup::head, Block::head, V, d, 1, TpSplit::vocab, false, true);
    return t;
}

ParamBreakdown count_params(const ModelSpec& m) {
    ParamBreakdown b;
    std::int64_t expert_params = 0;
    for (const ParamTensor& p : param_tensors(m)) {
        const std::int64_t n = p.total_elements();
        switch (p.group) {
            case ParamGroup::embedding: b.embedding += n; break;
            case ParamGroup::attention: b.attention += n; break;
            case ParamGroup::mlp: b.mlp += n; break;
            case ParamGroup::norm: b.norm += n; break;
            case ParamGroup::head: b.head += n; break;
        }
        if (p.expert) expert_params += n;
    }
    // A token passes through top_k of n_experts experts (Mixtral: "47B total, 13B active").
    b.active = b.total() - (m.is_moe() ? expert_params - expert_params / m.n_experts * m.top_k : 0);
    return b;
}

std::int64_t params_per_layer(const ModelSpec& m) {
    std::int64_t n = 0;
    for (const ParamTensor& p : param_tensors(m))
        if (p.block == Block::layer) n += p.total_elements();
    return n / m.n_layers;
}

void validate_model(const ModelSpec& m, const std::string& what) {
    auto fail = [&](const std::string& msg) { throw InputError(what + ": " + msg); };
    auto positive = [&](std::int64_t v, const char* field) {
        if (v <= 0) {
            std::ostringstream s;
            s << field << " must be a positive integer (got " << v << ")";
            fail(s.str());
        }
    };
    positive(m.n_layers, "n_layers");
    positive(m.d_model, "d_model");
    positive(m.n_heads, "n_heads");
    positive(m.n_kv_heads, "n_kv_heads");
    positive(m.head_dim, "head_dim");
    positive(m.d_ff, "d_ff");
    positive(m.vocab_size, "vocab_size");
    positive(m.max_positions, "max_positions");
    positive(m.n_experts, "n_experts");
    positive(m.top_k, "top_k");
    if (m.n_heads % m.n_kv_heads != 0)
        fail("n_kv_heads (" + std::to_string(m.n_kv_heads) + ") must divide n_heads (" +
             std::to_string(m.n_heads) + ")");
    if (m.top_k > m.n_experts)
        fail("top_k (" + std::to_string(m.top_k) + ") exceeds the number of experts (" +
             std::to_string(m.n_experts) + ")");
    if (!(m.rotary_pct > 0.0 && m.rotary_pct <= 1.0)) fail("rotary_pct must be in (0, 1]");
    // Guard the arithmetic: every count below stays far inside int64 and exact in a double.
    if (m.d_model > (1 << 20) || m.d_ff > (1 << 24) || m.n_layers > 100000 || m.vocab_size > (1LL << 32) ||
        m.n_experts > 100000 || m.max_positions > (1LL << 32) || m.n_heads > 65536 || m.head_dim > 65536 ||
        m.q_dim() > (1 << 24))
        fail("sizes are implausibly large (d_model <= 1,048,576, d_ff <= 16,777,216, layers <= 100,000, "
             "vocab <= 2^32, heads and head_dim <= 65,536)");
}

const char* to_string(Activation a) { return a == Activation::gelu ? "gelu" : "swiglu"; }
const char* to_string(Norm n) { return n == Norm::layernorm ? "layernorm" : "rmsnorm"; }
const char* to_string(PositionEmbedding p) {
    switch (p) {
        case PositionEmbedding::learned: return "learned";
        case PositionEmbedding::rotary: return "rotary";
        case PositionEmbedding::relative: return "relative";
    }
    return "?";
}
const char* to_string(ParamGroup g) {
    switch (g) {
        case ParamGroup::embedding: return "embedding";
        case ParamGroup::attention: return "attention";
        case ParamGroup::mlp: return "mlp";
        case ParamGroup::norm: return "norm";
        case ParamGroup::head: return "head";
    }
    return "?";
}

}  // namespace llmplan
