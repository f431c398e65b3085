// model.cpp — parameter inventory of a decoder-only transformer.
//
// Layouts follow the Hugging Face implementations the presets come from:
//   GPT-2 (modeling_gpt2.py): wte, wpe, per layer ln_1, c_attn (qkv, bias), c_proj (bias), ln_2,
//     c_fc (bias), c_proj (bias); ln_f; lm_head tied to wte.
//   Llama / Mistral / Qwen2 (modeling_llama.py): embed_tokens, per layer input_layernorm,
//     q/k/v/o_proj, post_attention_layernorm, gate/up/down_proj; norm; lm_head.
//   Mixtral (modeling_mixtral.py): the MLP is n_experts × (w1, w3, w2) plus a router (gate, no bias).
//   GPT-NeoX (modeling_gpt_neox.py): like GPT-2 with untied embed_out and parallel residual.
//   Today's families (Qwen3, Qwen2/3-MoE, DeepSeek-V2/V3, Gemma 2/3, GPT-OSS, Llama 4, Phi-3,
//   OLMo 2, BLOOM, Nemotron): docs/MODEL_FAMILIES.md lists every tensor each builds; fused tensors
//   (Phi-3's qkv_proj, GPT-OSS's gate_up_proj) are listed here as their parts, same count.
// The sums reproduce docs/REFERENCES.md §6 exactly (tests/test_model.cpp).
#include "core/model.h"

#include "core/error.h"
#include "core/quantity.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

namespace llmplan {

namespace {

// Appends tensors for one part of the model. In an MTP module every tensor belongs to the
// `mtp` group and block; elsewhere each keeps its own group.
struct Tensors {
    std::vector<ParamTensor>& out;
    std::string prefix;        // "layers.*." or "mtp.*."
    Block block = Block::layer;
    bool mtp = false;
    LayerSet set = LayerSet::all;  // the layers holding a tensor added without naming its set

    void add(const std::string& name, ParamGroup group, std::int64_t rows, std::int64_t cols, std::int64_t count,
             TpSplit tp, std::optional<LayerSet> layers = std::nullopt, bool expert = false, bool matmul = false) const {
        if (count <= 0) return;  // e.g. the dense MLP of a model whose every layer is MoE
        out.push_back(ParamTensor{prefix + name, mtp ? ParamGroup::mtp : group, block, rows, cols, count, tp, expert,
                                  matmul, block == Block::layer ? layers.value_or(set) : LayerSet::all});
    }
    // A norm has a weight, and a bias when it is a LayerNorm.
    void norm(const std::string& name, std::int64_t d, std::int64_t count, Norm kind,
              std::optional<LayerSet> layers = std::nullopt) const {
        add(name + ".weight", ParamGroup::norm, 1, d, count, TpSplit::replicated, layers);
        if (kind == Norm::layernorm) add(name + ".bias", ParamGroup::norm, 1, d, count, TpSplit::replicated, layers);
    }
    // A matmul weight rows × cols and, when `bias`, its bias (split with the columns it produces
    // under column parallelism, replicated under row parallelism: Megatron §3).
    void linear(const std::string& name, ParamGroup group, std::int64_t rows, std::int64_t cols, std::int64_t count,
                TpSplit tp, bool bias, std::optional<LayerSet> layers = std::nullopt, bool expert = false) const {
        add(name + ".weight", group, rows, cols, count, tp, layers, expert, true);
        if (bias)
            add(name + ".bias", group, 1, rows, count,
                tp == TpSplit::column ? TpSplit::column : TpSplit::replicated, layers, expert);
    }
};

// Attention of `n` layers: standard (q, k, v, o) or MLA (docs/MODEL_FAMILIES.md). q, k, v and the
// MLA up-projections are column-parallel, o row-parallel (Megatron §3); MLA's down-projections
// and their norms are replicated (each rank needs the whole latent).
void attention_tensors(const Tensors& t0, const ModelSpec& m, std::int64_t n) {
    Tensors t = t0;
    t.set = LayerSet::attention;  // every tensor below: the attention layers'
    const std::int64_t d = m.d_model, h = m.n_heads;
    using G = ParamGroup;
    if (m.is_mla()) {
        const MlaShape& a = m.mla;
        if (a.q_lora_rank > 0) {
            t.linear("attn.q_a_proj", G::attention, a.q_lora_rank, d, n, TpSplit::replicated, m.qkv_bias);
            t.norm("attn.q_a_norm", a.q_lora_rank, n, m.norm);
            t.linear("attn.q_b_proj", G::attention, h * a.qk_head_dim(), a.q_lora_rank, n, TpSplit::column, false);
        } else {
            t.linear("attn.q_proj", G::attention, h * a.qk_head_dim(), d, n, TpSplit::column, false);
        }
        t.linear("attn.kv_a_proj", G::attention, a.kv_lora_rank + a.qk_rope_head_dim, d, n, TpSplit::replicated,
                 m.qkv_bias);
        t.norm("attn.kv_a_norm", a.kv_lora_rank, n, m.norm);
        t.linear("attn.kv_b_proj", G::attention, h * (a.qk_nope_head_dim + a.v_head_dim), a.kv_lora_rank, n,
                 TpSplit::column, false);
    } else {
        const std::int64_t q = m.q_dim(), kv = m.kv_dim();
        // With an output gate q_proj also produces the gate, H·head_dim more rows (Qwen3-Next).
        t.add("attn.q_proj.weight", G::attention, m.q_proj_width(), d, n, TpSplit::column, LayerSet::attention, false, true);
        t.add("attn.k_proj.weight", G::attention, kv, d, n, TpSplit::column, LayerSet::attention, false, true);
        t.add("attn.v_proj.weight", G::attention, kv, d, n, TpSplit::column, LayerSet::attention, false, true);
        if (m.qkv_bias) {
            t.add("attn.q_proj.bias", G::attention, 1, m.q_proj_width(), n, TpSplit::column);  // the gate's rows biased too
            t.add("attn.k_proj.bias", G::attention, 1, kv, n, TpSplit::column);
            t.add("attn.v_proj.bias", G::attention, 1, kv, n, TpSplit::column);
        }
        switch (m.qk_norm) {
            case QkNorm::none:
            case QkNorm::unweighted: break;
            case QkNorm::per_head:  // one weight of head_dim, shared by the heads
                t.norm("attn.q_norm", m.head_dim, n, Norm::rmsnorm);
                t.norm("attn.k_norm", m.head_dim, n, Norm::rmsnorm);
                break;
            case QkNorm::full_width:  // over the whole projection, so split with it
                t.add("attn.q_norm.weight", G::norm, 1, q, n, TpSplit::column);
                t.add("attn.k_norm.weight", G::norm, 1, kv, n, TpSplit::column);
                break;
        }
    }
    t.add("attn.o_proj.weight", G::attention, d, m.attn_out_dim(), n, TpSplit::row, LayerSet::attention, false, true);
    if (m.out_bias) t.add("attn.o_proj.bias", G::attention, 1, d, n, TpSplit::replicated);
    if (m.attention_sinks) t.add("attn.sinks", G::attention, 1, h, n, TpSplit::column);  // one logit per head
    if (m.position == PositionEmbedding::relative) {
        // Transformer-XL (Dai et al. 2019, §3.3): W_{k,R} projects relative positions; u, v biases.
        const std::int64_t q = m.q_dim();
        t.add("attn.r_proj.weight", G::attention, q, d, n, TpSplit::column, LayerSet::attention, false, true);
        t.add("attn.r_u_bias", G::attention, 1, q, n, TpSplit::column);
        t.add("attn.r_v_bias", G::attention, 1, q, n, TpSplit::column);
    }
}

// One MLP of inner size f (gate/up column-parallel, down row-parallel), `copies` times.
void mlp_tensors(const Tensors& t, const ModelSpec& m, const std::string& prefix, ParamGroup group, std::int64_t f,
                 std::int64_t copies, bool bias, LayerSet layers, bool expert, std::int64_t d) {
    if (gated_mlp(m.activation))
        t.add(prefix + "gate_proj.weight", group, f, d, copies, TpSplit::column, layers, expert, true);
    t.add(prefix + "up_proj.weight", group, f, d, copies, TpSplit::column, layers, expert, true);
    if (bias) {
        if (gated_mlp(m.activation))
            t.add(prefix + "gate_proj.bias", group, 1, f, copies, TpSplit::column, layers, expert);
        t.add(prefix + "up_proj.bias", group, 1, f, copies, TpSplit::column, layers, expert);
    }
    t.add(prefix + "down_proj.weight", group, d, f, copies, TpSplit::row, layers, expert, true);
    if (bias) t.add(prefix + "down_proj.bias", group, 1, d, copies, TpSplit::replicated, layers, expert);
}

// A Mamba-2 mixer of `n` layers (Megatron-Core MambaMixer, ssm/mamba_mixer.py; Hugging Face
// NemotronHMamba2Mixer): in_proj column-parallel (z, x, B, C, dt each split by heads or groups
// over the tp ranks), the depthwise conv1d and the per-head dt_bias, A_log and D split with the
// channels and heads they act on, the gated RMSNorm's weight over d_inner split likewise, out_proj
// row-parallel. docs/MODEL_FAMILIES.md, "Hybrid Mamba models".
void mamba_tensors(const Tensors& t, const ModelSpec& m, std::int64_t n) {
    const MambaShape& s = m.mamba;
    const std::int64_t d = m.d_model;
    using G = ParamGroup;
    t.add("mamba.in_proj.weight", G::mamba, s.in_proj_width(), d, n, TpSplit::column, LayerSet::mamba, false, true);
    t.add("mamba.conv1d.weight", G::mamba, s.conv_channels(), s.conv_kernel, n, TpSplit::column, LayerSet::mamba);
    t.add("mamba.conv1d.bias", G::mamba, 1, s.conv_channels(), n, TpSplit::column, LayerSet::mamba);
    t.add("mamba.dt_bias", G::mamba, 1, s.heads, n, TpSplit::column, LayerSet::mamba);
    t.add("mamba.A_log", G::mamba, 1, s.heads, n, TpSplit::column, LayerSet::mamba);
    t.add("mamba.D", G::mamba, 1, s.heads, n, TpSplit::column, LayerSet::mamba);
    t.add("mamba.norm.weight", G::norm, 1, s.d_inner(), n, TpSplit::column, LayerSet::mamba);
    t.add("mamba.out_proj.weight", G::mamba, d, s.d_inner(), n, TpSplit::row, LayerSet::mamba, false, true);
}

// A Gated DeltaNet mixer of `n` layers (Hugging Face Qwen3NextGatedDeltaNet; Megatron-Core
// GatedDeltaNet, ssm/gated_delta_net): in_proj (transformers' in_proj_qkvz and in_proj_ba, one
// matrix in Megatron-Core) column-parallel, split by key heads (q, k) and value heads (v, z, β, α);
// the depthwise conv1d over q, k, v and the per-value-head dt_bias and A_log split with them;
// the gated RMSNorm's weight of one value head, shared by the heads (replicated); out_proj
// row-parallel. docs/MODEL_FAMILIES.md, "qwen3_next".
void gdn_tensors(const Tensors& t, const ModelSpec& m, std::int64_t n) {
    const GdnShape& s = m.gdn;
    const std::int64_t d = m.d_model;
    using G = ParamGroup;
    const LayerSet L = LayerSet::gdn;
    t.add("linear_attn.in_proj.weight", G::linear_attention, s.in_proj_width(), d, n, TpSplit::column, L, false, true);
    t.add("linear_attn.conv1d.weight", G::linear_attention, s.conv_channels(), s.conv_kernel, n, TpSplit::column, L);
    t.add("linear_attn.dt_bias", G::linear_attention, 1, s.v_heads, n, TpSplit::column, L);
    t.add("linear_attn.A_log", G::linear_attention, 1, s.v_heads, n, TpSplit::column, L);
    t.add("linear_attn.norm.weight", G::norm, 1, s.v_head_dim, n, TpSplit::replicated, L);
    t.add("linear_attn.out_proj.weight", G::linear_attention, d, s.value_dim(), n, TpSplit::row, L, false, true);
}

// How many layers of each set a run of layers holds.
struct LayerCounts {
    std::int64_t attention = 0, mamba = 0, gdn = 0, ffn = 0, dense = 0, moe = 0;
    void add(const LayerKind& k, std::int64_t n) {
        attention += k.has_attention() ? n : 0, mamba += k.has_mamba() ? n : 0, gdn += k.has_gdn() ? n : 0, ffn += k.ffn ? n : 0;
        dense += k.dense_mlp() ? n : 0, moe += k.moe_mlp() ? n : 0;
    }
};
LayerCounts layer_counts(const ModelSpec& m, int first, int count) {
    LayerCounts c;
    for (const LayerGroup& g : layer_groups(m, first, count)) c.add(g.kind, g.count);
    return c;
}

// The layers' tensors: attention layers' attention (with its pre-norm), Mamba layers' mixer
// (with its pre-norm), feed-forward layers' pre-norm with the dense MLP or router, routed experts
// and shared expert. A transformer layer is an attention and a feed-forward layer at once.
void layer_tensors(const Tensors& t, const ModelSpec& m, const LayerCounts& n) {
    const std::int64_t d = m.d_model;
    t.norm("attn_norm", d, n.attention, m.norm, LayerSet::attention);
    attention_tensors(t, m, n.attention);
    if (m.norms_per_layer == 4) t.norm("post_attn_norm", d, n.attention, m.norm, LayerSet::attention);
    if (n.mamba > 0) {
        t.norm("mamba_norm", d, n.mamba, m.norm, LayerSet::mamba);
        mamba_tensors(t, m, n.mamba);
    }
    if (n.gdn > 0) {
        t.norm("linear_attn_norm", d, n.gdn, m.norm, LayerSet::gdn);
        gdn_tensors(t, m, n.gdn);
    }
    t.norm("mlp_norm", d, n.ffn, m.norm, LayerSet::ffn);
    if (m.norms_per_layer == 4) t.norm("post_mlp_norm", d, n.ffn, m.norm, LayerSet::ffn);
    const std::int64_t moe = n.moe;
    if (moe > 0) {
        // Router: d → n_experts, replicated (Mixtral's `gate`; GPT-OSS's has a bias).
        t.add("router.weight", ParamGroup::router, m.n_experts, d, moe, TpSplit::replicated, LayerSet::moe);
        if (m.router_bias) t.add("router.bias", ParamGroup::router, 1, m.n_experts, moe, TpSplit::replicated, LayerSet::moe);
        if (m.moe_latent > 0) {
            // Latent MoE (Megatron-Core moe_layer.py fc1_latent_proj / fc2_latent_proj): d → latent
            // before the dispatch, latent → d after the combine; duplicated on every tensor-parallel rank.
            t.add("latent_down_proj.weight", ParamGroup::latent, m.moe_latent, d, moe, TpSplit::replicated, LayerSet::moe,
                  false, true);
            t.add("latent_up_proj.weight", ParamGroup::latent, d, m.moe_latent, moe, TpSplit::replicated, LayerSet::moe,
                  false, true);
        }
        mlp_tensors(t, m, "experts.*.", ParamGroup::experts, m.expert_d_ff(), moe * m.n_experts, m.expert_bias,
                    LayerSet::moe, true, m.expert_width());
        if (m.shared_d_ff > 0) {
            mlp_tensors(t, m, "shared_expert.", ParamGroup::shared_experts, m.shared_d_ff, moe, false, LayerSet::moe,
                        false, d);
            if (m.shared_expert_gate)  // Qwen2-MoE: sigmoid(x·w) scales the shared expert's output
                t.add("shared_expert_gate.weight", ParamGroup::shared_experts, 1, d, moe, TpSplit::replicated,
                      LayerSet::moe);
        }
    }
    mlp_tensors(t, m, "mlp.", ParamGroup::mlp, m.d_ff, n.dense, m.mlp_bias, LayerSet::dense, false, d);
}

}  // namespace

LayerKind ModelSpec::layer(int i) const {
    if (!layer_kinds.empty()) return layer_kinds.at(static_cast<std::size_t>(i));
    return LayerKind{is_moe(), sliding_window > 0 ? LayerAttention::sliding : LayerAttention::global, true};
}

std::vector<LayerGroup> layer_groups(const ModelSpec& m, int first, int count) {
    std::vector<LayerGroup> groups;
    // Every layer alike (no per-layer kinds): one group, without visiting each layer (the search
    // asks for a stage's groups for every layout it plans).
    if (m.layer_kinds.empty()) {
        if (count > 0) groups.push_back({m.layer(first), count});
        return groups;
    }
    for (int i = first; i < first + count; ++i) {
        const LayerKind k = m.layer(i);
        auto it = std::find_if(groups.begin(), groups.end(), [&](const LayerGroup& g) { return g.kind == k; });
        if (it == groups.end()) groups.push_back({k, 1});
        else ++it->count;
    }
    return groups;
}
std::vector<LayerGroup> layer_groups(const ModelSpec& m) { return layer_groups(m, 0, m.n_layers); }

int moe_layer_count(const ModelSpec& m, int first, int count) {
    if (m.layer_kinds.empty()) return m.is_moe() ? count : 0;
    int n = 0;
    for (int i = first; i < first + count; ++i) n += m.layer(i).moe_mlp() ? 1 : 0;
    return n;
}
int moe_layer_count(const ModelSpec& m) { return moe_layer_count(m, 0, m.n_layers); }

LayerKind mtp_layer_kind(const ModelSpec& m) { return LayerKind{m.is_moe(), LayerAttention::global, true}; }
std::vector<LayerKind> mtp_layer_kinds(const ModelSpec& m) {
    return m.mtp_kinds.empty() ? std::vector<LayerKind>{mtp_layer_kind(m)} : m.mtp_kinds;
}

bool ModelSpec::hybrid() const {
    return std::any_of(layer_kinds.begin(), layer_kinds.end(), [](const LayerKind& k) { return k.mixer == Mixer::none || !k.ffn; });
}
bool ModelSpec::has_gdn() const {
    return std::any_of(layer_kinds.begin(), layer_kinds.end(), [](const LayerKind& k) { return k.has_gdn(); });
}
bool ModelSpec::has_mamba() const {
    return std::any_of(layer_kinds.begin(), layer_kinds.end(), [](const LayerKind& k) { return k.has_mamba(); });
}

bool in_set(LayerSet s, const LayerKind& k) {
    switch (s) {
        case LayerSet::all: return true;
        case LayerSet::dense: return k.dense_mlp();
        case LayerSet::moe: return k.moe_mlp();
        case LayerSet::attention: return k.has_attention();
        case LayerSet::mamba: return k.has_mamba();
        case LayerSet::ffn: return k.ffn;
        case LayerSet::gdn: return k.has_gdn();
    }
    return false;
}

int layers_in_set(const ModelSpec& m, LayerSet s, int first, int count) {
    if (m.layer_kinds.empty()) return count > 0 && in_set(s, m.layer(first)) ? count : 0;  // every layer alike
    int n = 0;
    for (int i = first; i < first + count; ++i) n += in_set(s, m.layer(i)) ? 1 : 0;  // no groups built: called per tensor
    return n;
}

std::vector<LayerKind> hybrid_layer_kinds(const std::string& pattern, const std::string& what) {
    std::vector<LayerKind> kinds;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        LayerKind k;
        switch (pattern[i]) {
            case 'M': k.mixer = Mixer::mamba, k.ffn = false; break;
            case '*': k.ffn = false; break;
            case '-': k.mixer = Mixer::none; break;
            case 'E': k.mixer = Mixer::none, k.moe = true; break;
            case '|': continue;  // Megatron-Core's pipeline-stage separator: the stages are the layout's
            default: {
                const unsigned char c = static_cast<unsigned char>(pattern[i]);
                std::string sym = "byte " + std::to_string(c);
                if (c >= 0x20 && c < 0x7f) {
                    sym.assign(3, '\'');
                    sym[1] = pattern[i];
                }
                throw InputError(what + ": the hybrid layer pattern has " + sym + " at position " + std::to_string(i + 1) +
                                 "; llmplan reads M (Mamba-2), * (attention), - (MLP) and E (MoE)");
            }
        }
        kinds.push_back(k);
    }
    if (kinds.empty()) throw InputError(what + ": the hybrid layer pattern is empty");
    return kinds;
}

char hybrid_symbol(const LayerKind& k) {
    if (k.mixer != Mixer::none && k.ffn) return '?';
    return k.has_mamba() ? 'M' : k.has_attention() ? '*' : k.moe ? 'E' : '-';
}

std::string hybrid_layer_pattern(const ModelSpec& m) {
    std::string out;
    for (int i = 0; i < m.n_layers; ++i) {
        const LayerKind k = m.layer(i);
        if (k.mixer != Mixer::none && k.ffn) return "";
        out += hybrid_symbol(k);
    }
    return out;
}

std::vector<ParamTensor> param_tensors(const ModelSpec& m) {
    std::vector<ParamTensor> out;
    const std::int64_t d = m.d_model, V = m.vocab_size;
    const Tensors top{out, "", Block::embedding};

    // Embeddings (vocab-parallel under tensor parallelism, Megatron VocabParallelEmbedding).
    top.add("embed_tokens.weight", ParamGroup::embedding, V, d, 1, TpSplit::vocab);
    if (m.position == PositionEmbedding::learned)
        top.add("embed_positions.weight", ParamGroup::embedding, m.max_positions, d, 1, TpSplit::replicated);
    if (m.embedding_norm) top.norm("embed_norm", d, 1, m.norm);  // BLOOM's word_embeddings_layernorm

    layer_tensors(Tensors{out, "layers.*.", Block::layer}, m, layer_counts(m, 0, m.n_layers));

    Tensors{out, "", Block::final_norm}.norm("final_norm", d, 1, m.norm);
    if (!m.tied_embeddings)
        Tensors{out, "", Block::head}.add("lm_head.weight", ParamGroup::head, V, d, 1, TpSplit::vocab, LayerSet::all,
                                          false, true);

    if (m.mtp_layers > 0) {
        // DeepSeek-V3 §2.2: each MTP module has two RMSNorms (of the hidden state and of the next
        // token's embedding), a projection 2d → d, one transformer layer (an MoE layer) and the
        // output norm; embedding and output head are shared with the main model.
        const Tensors t{out, "mtp.*.", Block::mtp, true};
        const std::int64_t n = m.mtp_weight_modules();
        t.norm("hidden_norm", d, n, m.norm);
        t.norm("embed_norm", d, n, m.norm);
        t.add("eh_proj.weight", ParamGroup::mtp, d, 2 * d, n, TpSplit::replicated, LayerSet::all, false, true);
        LayerCounts modules;  // each module's layers (a hybrid's "*E": an attention and an MoE layer), n times
        for (const LayerKind& k : mtp_layer_kinds(m)) modules.add(k, n);
        layer_tensors(t, m, modules);
        t.norm("final_norm", d, n, m.norm);
    }
    return out;
}

ParamBreakdown count_params(const ModelSpec& m) {
    ParamBreakdown b;
    std::int64_t unused_experts = 0;
    for (const ParamTensor& p : param_tensors(m)) {
        const std::int64_t n = p.total_elements();
        switch (p.group) {
            case ParamGroup::embedding: b.embedding += n; break;
            case ParamGroup::attention: b.attention += n; break;
            case ParamGroup::mlp: b.mlp_dense += n; break;
            case ParamGroup::experts:
                b.routed_experts += n;
                // A token passes through top_k of the n_experts experts of each MoE layer
                // (Mixtral: "47B total, 13B active"; DeepSeek-V3: 671B total, 37B activated).
                unused_experts += n / m.n_experts * (m.n_experts - m.top_k);
                break;
            case ParamGroup::shared_experts: b.shared_experts += n; break;
            case ParamGroup::router: b.router += n; break;
            case ParamGroup::norm: b.norm += n; break;
            case ParamGroup::head: b.head += n; break;
            case ParamGroup::mtp: b.mtp += n; break;
            case ParamGroup::mamba: b.mamba += n; break;
            case ParamGroup::linear_attention: b.linear_attention += n; break;
            case ParamGroup::latent: b.latent_projections += n; break;
        }
    }
    b.mlp = b.mlp_dense + b.routed_experts + b.shared_experts + b.router + b.latent_projections;
    b.active = b.total() - unused_experts;
    return b;
}

double copies_in_layers(const ParamTensor& t, const ModelSpec& m, int first, int count) {
    if (t.block != Block::layer) return static_cast<double>(t.count);
    const int here = layers_in_set(m, t.layers, first, count), holding = layers_in_set(m, t.layers, 0, m.n_layers);
    return holding > 0 ? static_cast<double>(t.count) / holding * here : 0.0;
}

std::int64_t params_in_layers(const ModelSpec& m, int first, int count) {
    double n = 0;
    for (const ParamTensor& p : param_tensors(m))
        if (p.block == Block::layer) n += static_cast<double>(p.elements()) * copies_in_layers(p, m, first, count);
    return static_cast<std::int64_t>(std::llround(n));
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
    auto non_negative = [&](std::int64_t v, const char* field) {
        if (v < 0) fail(std::string(field) + " must be zero or a positive integer (got " + std::to_string(v) + ")");
    };
    non_negative(m.sliding_window, "sliding_window");
    non_negative(m.attention_chunk, "attention_chunk");
    non_negative(m.moe_d_ff, "moe_intermediate_size");
    non_negative(m.shared_d_ff, "shared expert intermediate size");
    non_negative(m.mtp_layers, "mtp_layers");
    if (m.norms_per_layer != 2 && m.norms_per_layer != 4) fail("norms_per_layer must be 2 or 4");
    if (!(std::isfinite(m.capacity_factor) && m.capacity_factor >= 0 && m.capacity_factor <= 1000))
        fail("capacity_factor must be 0 (dropless) or in (0, 1000]");
    for (double cap : {m.attn_softcap, m.final_softcap})
        if (!(std::isfinite(cap) && cap >= 0)) fail("logit soft-capping must be zero (none) or positive");
    if (!m.is_moe() && (m.shared_d_ff > 0 || m.moe_d_ff > 0 || m.router_bias || m.expert_bias))
        fail("shared experts, expert sizes and router biases need routed experts (n_experts > 1)");
    if (m.is_mla()) {
        const MlaShape& a = m.mla;
        non_negative(a.q_lora_rank, "q_lora_rank");
        positive(a.kv_lora_rank, "kv_lora_rank");
        positive(a.qk_rope_head_dim, "qk_rope_head_dim");
        positive(a.v_head_dim, "v_head_dim");
        non_negative(a.qk_nope_head_dim, "qk_nope_head_dim");
        if (m.qk_norm != QkNorm::none || m.attention_sinks || m.attention_output_gate)
            fail("QK-norm, attention sinks and an attention output gate are not defined for multi-head latent attention");
        if (a.q_lora_rank > (1 << 20) || a.kv_lora_rank > (1 << 20) || a.qk_nope_head_dim > 65536 ||
            a.qk_rope_head_dim > 65536 || a.v_head_dim > 65536)
            fail("MLA sizes are implausibly large (ranks <= 1,048,576, head dims <= 65,536)");
    }
    if (!m.layer_kinds.empty()) {
        if (m.layer_kinds.size() != static_cast<std::size_t>(m.n_layers))
            fail("the layer pattern lists " + std::to_string(m.layer_kinds.size()) + " layers but the model has " +
                 std::to_string(m.n_layers));
        for (std::size_t i = 0; i < m.layer_kinds.size(); ++i) {
            const LayerKind& k = m.layer_kinds[i];
            const std::string layer = "layer " + std::to_string(i);
            if (k.moe && !m.is_moe()) fail(layer + " is an MoE layer but the model has no routed experts");
            if (k.moe && !k.ffn) fail(layer + " has routed experts but no feed-forward block");
            if (k.mixer == Mixer::none && !k.ffn) fail(layer + " has neither a mixer nor a feed-forward block");
            if (k.has_mamba() && m.mamba.heads <= 0)
                fail(layer + " is a Mamba layer but the model has no Mamba shape (mamba heads, head_dim, state)");
            if (k.has_gdn() && m.gdn.v_heads <= 0)
                fail(layer + " is a Gated DeltaNet layer but the model has no linear-attention shape (linear_num_value_heads, ...)");
            if (k.attention == LayerAttention::sliding && m.sliding_window <= 0)
                fail(layer + " uses sliding-window attention but no sliding_window is set");
            if (k.attention == LayerAttention::chunked && m.attention_chunk <= 0)
                fail(layer + " uses chunked attention but no attention_chunk is set");
        }
    } else if (m.attention_chunk > 0) {
        fail("chunked attention needs a layer pattern saying which layers are chunked");
    }
    if (m.has_mamba()) {
        const MambaShape& s = m.mamba;
        positive(s.heads, "mamba_num_heads");
        positive(s.head_dim, "mamba_head_dim");
        positive(s.state, "ssm_state_size");
        positive(s.groups, "mamba n_groups");
        positive(s.conv_kernel, "conv_kernel");
        positive(s.chunk, "chunk_size");
        if (s.heads % s.groups != 0)
            fail("mamba n_groups (" + std::to_string(s.groups) + ") must divide mamba_num_heads (" + std::to_string(s.heads) + ")");
        if (s.heads > 65536 || s.head_dim > 65536 || s.state > 65536 || s.conv_kernel > 1024 || s.chunk > 65536)
            fail("Mamba sizes are implausibly large (heads, head_dim, state, chunk <= 65,536; conv_kernel <= 1,024)");
    }
    if (m.has_gdn()) {
        const GdnShape& s = m.gdn;
        positive(s.k_heads, "linear_num_key_heads");
        positive(s.v_heads, "linear_num_value_heads");
        positive(s.k_head_dim, "linear_key_head_dim");
        positive(s.v_head_dim, "linear_value_head_dim");
        positive(s.conv_kernel, "linear_conv_kernel_dim");
        positive(s.chunk, "the delta rule's chunk");
        if (s.v_heads % s.k_heads != 0)
            fail("linear_num_key_heads (" + std::to_string(s.k_heads) + ") must divide linear_num_value_heads (" +
                 std::to_string(s.v_heads) + ")");
        if (s.k_heads > 65536 || s.v_heads > 65536 || s.k_head_dim > 65536 || s.v_head_dim > 65536 || s.conv_kernel > 1024 ||
            s.chunk > 65536)
            fail("Gated DeltaNet sizes are implausibly large (heads, head dims, chunk <= 65,536; conv kernel <= 1,024)");
    }
    non_negative(m.moe_latent, "moe_latent_size");
    if (m.moe_latent > 0 && !m.is_moe()) fail("moe_latent_size needs routed experts (n_experts > 1)");
    if (m.moe_latent > (1 << 20)) fail("moe_latent_size is implausibly large (<= 1,048,576)");
    if (m.mtp_repeated && m.mtp_layers <= 0) fail("a repeated MTP layer needs MTP depths (mtp_layers > 0)");
    for (const LayerKind& k : m.mtp_kinds) {
        if (k.has_mamba()) fail("Mamba layers in an MTP module are not modelled");
        if (k.has_gdn()) fail("Gated DeltaNet layers in an MTP module are not modelled");
        if (k.moe && !m.is_moe()) fail("the MTP pattern has an MoE layer but the model has no routed experts");
        if (k.moe && !k.ffn) fail("an MTP layer has routed experts but no feed-forward block");
        if (k.mixer == Mixer::none && !k.ffn) fail("an MTP layer has neither a mixer nor a feed-forward block");
    }
    // Guard the arithmetic: every count below stays far inside int64 and exact in a double.
    if (m.d_model > (1 << 20) || m.d_ff > (1 << 24) || m.n_layers > kMaxModelLayers || m.vocab_size > (1LL << 32) ||
        m.n_experts > 100000 || m.max_positions > (1LL << 32) || m.n_heads > 65536 || m.head_dim > 65536 ||
        m.q_dim() > (1 << 24) || m.moe_d_ff > (1 << 24) || m.shared_d_ff > (1 << 26) || m.mtp_layers > 1000 ||
        m.sliding_window > (1LL << 32) || m.attention_chunk > (1LL << 32))
        fail("sizes are implausibly large (d_model <= 1,048,576, d_ff <= 16,777,216, layers <= 100,000, "
             "vocab <= 2^32, heads and head_dim <= 65,536)");
    // The products of those sizes: each tensor's elements and the model's total stay at most 10^15
    // (ParamTensor::total_elements and ParamBreakdown add them in int64; 10^15 is 1,500 times
    // DeepSeek-V3's 671B). Summed in long double, so that the check itself cannot overflow.
    long double total = 0;
    for (const ParamTensor& t : param_tensors(m))
        total += static_cast<long double>(t.rows) * static_cast<long double>(t.cols) * static_cast<long double>(t.count);
    if (total > static_cast<long double>(kMaxParameters))
        fail("the sizes give " + format_sci(static_cast<double>(total)) +
             " parameters, more than 10^15 (d_model, d_ff, vocab_size, layers and experts multiply)");
}

const char* to_string(Activation a) {
    switch (a) {
        case Activation::gelu: return "gelu";
        case Activation::swiglu: return "swiglu";
        case Activation::relu2: return "relu2";
    }
    return "?";
}
const char* to_string(Norm n) { return n == Norm::layernorm ? "layernorm" : "rmsnorm"; }
const char* to_string(PositionEmbedding p) {
    switch (p) {
        case PositionEmbedding::learned: return "learned";
        case PositionEmbedding::rotary: return "rotary";
        case PositionEmbedding::relative: return "relative";
        case PositionEmbedding::alibi: return "alibi";
        case PositionEmbedding::none: return "none";
    }
    return "?";
}
const char* to_string(ParamGroup g) {
    switch (g) {
        case ParamGroup::embedding: return "embedding";
        case ParamGroup::attention: return "attention";
        case ParamGroup::mlp: return "mlp";
        case ParamGroup::experts: return "routed_experts";
        case ParamGroup::shared_experts: return "shared_experts";
        case ParamGroup::router: return "router";
        case ParamGroup::norm: return "norm";
        case ParamGroup::head: return "head";
        case ParamGroup::mtp: return "mtp";
        case ParamGroup::mamba: return "mamba";
        case ParamGroup::linear_attention: return "linear_attention";
        case ParamGroup::latent: return "latent_projections";
    }
    return "?";
}
const char* to_string(AttentionForm f) { return f == AttentionForm::mla ? "mla" : "standard"; }
const char* to_string(QkNorm n) {
    switch (n) {
        case QkNorm::none: return "none";
        case QkNorm::per_head: return "per_head";
        case QkNorm::full_width: return "full_width";
        case QkNorm::unweighted: return "unweighted";
    }
    return "?";
}
const char* to_string(Mixer x) {
    switch (x) {
        case Mixer::attention: return "attention";
        case Mixer::mamba: return "mamba";
        case Mixer::gated_deltanet: return "gated_deltanet";
        case Mixer::none: return "none";
    }
    return "?";
}
const char* to_string(LayerAttention a) {
    switch (a) {
        case LayerAttention::global: return "global";
        case LayerAttention::sliding: return "sliding";
        case LayerAttention::chunked: return "chunked";
    }
    return "?";
}

}  // namespace llmplan
