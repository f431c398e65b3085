// model_text.cpp — the words for a model's shape (core/model_text.h).
#include "core/model_text.h"

#include "core/quantity.h"
#include "core/text.h"

#include <charconv>
#include <sstream>

namespace llmplan {

namespace {

std::string shortest(double v) {  // 50, 1.25: the digits the config.json had
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

}  // namespace

bool uniform_experts(const ModelSpec& m) {
    return m.is_moe() && moe_layer_count(m) == m.n_layers && m.expert_d_ff() == m.d_ff && m.shared_d_ff == 0;
}

std::string mla_text(const ModelSpec& m) {
    if (!m.is_mla()) return "";
    const MlaShape& a = m.mla;
    std::ostringstream s;
    s << "MLA (";
    if (a.q_lora_rank > 0) s << "q rank " << a.q_lora_rank << ", ";
    s << "kv rank " << a.kv_lora_rank << ", qk " << a.qk_nope_head_dim << " + " << a.qk_rope_head_dim << " rope, v "
      << a.v_head_dim << ")";
    return s.str();
}

std::string hybrid_text(const ModelSpec& m) {
    if (!m.hybrid()) return "";
    const int mamba = layers_in_set(m, LayerSet::mamba, 0, m.n_layers), attention = layers_in_set(m, LayerSet::attention, 0, m.n_layers);
    const int moe = layers_in_set(m, LayerSet::moe, 0, m.n_layers), dense = layers_in_set(m, LayerSet::dense, 0, m.n_layers);
    std::vector<std::string> parts;
    if (mamba > 0) {
        const MambaShape& a = m.mamba;
        parts.push_back(std::to_string(mamba) + " Mamba-2 (" + std::to_string(a.heads) + " heads × " + std::to_string(a.head_dim) +
                        ", state " + std::to_string(a.state) + ", " + std::to_string(a.groups) + " groups, chunk " +
                        std::to_string(a.chunk) + ")");
    }
    if (attention > 0) parts.push_back(std::to_string(attention) + " attention");
    if (moe > 0) parts.push_back(std::to_string(moe) + " MoE");
    if (dense > 0) parts.push_back(std::to_string(dense) + " MLP");
    return "hybrid layers: " + join(parts, " + ") + " (" + hybrid_layer_pattern(m) + ")";
}

std::string gdn_text(const ModelSpec& m) {
    if (!m.has_gdn()) return "";
    const GdnShape& s = m.gdn;
    const int gdn = layers_in_set(m, LayerSet::gdn, 0, m.n_layers), attention = layers_in_set(m, LayerSet::attention, 0, m.n_layers);
    std::string out = std::to_string(gdn) + " Gated DeltaNet (" + std::to_string(s.k_heads) + " key heads × " +
                      std::to_string(s.k_head_dim) + ", " + std::to_string(s.v_heads) + " value heads × " +
                      std::to_string(s.v_head_dim) + ", conv " + std::to_string(s.conv_kernel) + ", chunk " +
                      std::to_string(s.chunk) + ")";
    if (attention > 0) out += " + " + std::to_string(attention) + (m.attention_output_gate ? " gated attention" : " attention");
    return out;
}

std::string layer_pattern_text(const ModelSpec& m) {
    if (m.hybrid()) return "";  // hybrid_text says it
    struct Run {
        LayerAttention attention;
        bool rope;
        int count;
    };
    std::vector<Run> runs;  // by kind of attention, in order of first appearance
    for (const LayerGroup& g : layer_groups(m)) {
        bool merged = false;
        for (Run& r : runs)
            if (r.attention == g.kind.attention && r.rope == g.kind.rope) r.count += g.count, merged = true;
        if (!merged) runs.push_back({g.kind.attention, g.kind.rope, g.count});
    }
    if (runs.size() == 1 && runs[0].attention == LayerAttention::global && runs[0].rope) return "";
    std::vector<std::string> parts;
    for (const Run& r : runs) {
        std::string p = std::to_string(r.count) + " " + to_string(r.attention);
        if (r.attention == LayerAttention::sliding) p += " (" + std::to_string(m.sliding_window) + ")";
        if (r.attention == LayerAttention::chunked) p += " (" + std::to_string(m.attention_chunk) + ")";
        if (!r.rope) p += " NoPE";
        parts.push_back(p);
    }
    return join(parts, " + ");
}

std::string experts_text(const ModelSpec& m) {
    if (!m.is_moe()) return "";
    std::ostringstream s;
    if (uniform_experts(m)) {
        s << m.n_experts << " experts top-" << m.top_k;
        return s.str();
    }
    const int moe = moe_layer_count(m);
    s << moe << " MoE layers of " << m.n_experts << " experts (" << m.expert_d_ff() << ") top-" << m.top_k;
    if (m.moe_latent > 0) s << " on a latent width of " << m.moe_latent;
    if (m.shared_d_ff > 0) s << " + " << (m.shared_expert_gate ? "gated " : "") << "shared (" << m.shared_d_ff << ")";
    const int dense = layers_in_set(m, LayerSet::dense, 0, m.n_layers);
    if (dense > 0) s << "; " << dense << " dense layer" << (dense == 1 ? "" : "s") << " (" << m.d_ff << ")";
    return s.str();
}

std::string qk_norm_text(QkNorm n) {
    switch (n) {
        case QkNorm::none: return "";
        case QkNorm::per_head: return "per head";
        case QkNorm::full_width: return "full width";
        case QkNorm::unweighted: return "L2, no weights";
    }
    return "";
}

std::string softcap_text(const ModelSpec& m) {
    std::vector<std::string> parts;
    if (m.attn_softcap > 0) parts.push_back("attention " + shortest(m.attn_softcap));
    if (m.final_softcap > 0) parts.push_back("final " + shortest(m.final_softcap));
    return join(parts, ", ");
}

std::string model_shape_line(const ModelSpec& m) {
    std::ostringstream s;
    s << m.n_layers << " layers, d_model " << m.d_model << ", " << m.n_heads << " heads";
    if (m.is_mla()) {
        s << " " << mla_text(m);
    } else {
        if (m.n_kv_heads != m.n_heads) s << " (" << m.n_kv_heads << " kv)";
        s << " × " << m.head_dim;
    }
    if (!m.is_moe() || uniform_experts(m)) s << ", d_ff " << m.d_ff << " " << to_string(m.activation);
    else s << ", " << to_string(m.activation) << " MLPs";  // their widths: model_detail_line
    if (uniform_experts(m)) s << ", " << experts_text(m);
    s << ", " << to_string(m.norm) << ", vocab " << m.vocab_size << ", " << to_string(m.position) << " positions"
      << (m.tied_embeddings ? ", tied head" : "");
    return s.str();
}

std::string model_detail_line(const ModelSpec& m) {
    std::vector<std::string> parts;
    if (const std::string h = hybrid_text(m); !h.empty()) parts.push_back(h);
    if (const std::string g = gdn_text(m); !g.empty()) parts.push_back("token mixers: " + g);
    else if (m.attention_output_gate) parts.push_back("gated attention");
    if (m.is_moe() && !uniform_experts(m)) parts.push_back(experts_text(m));
    if (m.router_bias || m.expert_bias)
        parts.push_back(m.router_bias && m.expert_bias ? "router and expert biases"
                        : m.router_bias                ? "router bias"
                                                       : "expert biases");
    if (m.capacity_factor > 0) parts.push_back("capacity factor " + shortest(m.capacity_factor));
    if (const std::string p = layer_pattern_text(m); !p.empty()) parts.push_back("attention: " + p);
    if (m.qk_norm != QkNorm::none)
        parts.push_back(m.qk_norm == QkNorm::unweighted ? "QK L2-norm (no weights)" : "QK-norm " + qk_norm_text(m.qk_norm));
    if (m.attention_sinks) parts.push_back("attention sinks");
    if (const std::string c = softcap_text(m); !c.empty()) parts.push_back("logits soft-capped: " + c);
    if (m.norms_per_layer != 2) parts.push_back(std::to_string(m.norms_per_layer) + " norms per layer");
    if (m.embedding_norm) parts.push_back("embedding norm");
    return join(parts, "; ");
}

std::vector<BreakdownRow> param_breakdown_rows(const ParamBreakdown& b) {
    std::vector<BreakdownRow> rows = {{"embedding", b.embedding, 0}, {"attention", b.attention, 0}};
    if (b.mamba > 0) rows.push_back({"mamba", b.mamba, 0});
    if (b.linear_attention > 0) rows.push_back({"linear attention", b.linear_attention, 0});
    rows.push_back({"mlp", b.mlp, 0});
    if (b.routed_experts > 0) {  // the MLP's parts (docs/MODEL_FAMILIES.md's components)
        if (b.mlp_dense > 0) rows.push_back({"dense", b.mlp_dense, 1});
        rows.push_back({"routed experts", b.routed_experts, 1});
        if (b.shared_experts > 0) rows.push_back({"shared experts", b.shared_experts, 1});
        rows.push_back({"router", b.router, 1});
        if (b.latent_projections > 0) rows.push_back({"latent projections", b.latent_projections, 1});
    }
    rows.push_back({"norm", b.norm, 0});
    rows.push_back({"head", b.head, 0});
    return rows;
}

std::string model_size_text(const ModelSpec& m, const ParamBreakdown& b) {
    std::string s = format_count(static_cast<double>(b.total())) + " parameters";
    if (m.is_moe()) s += ", " + format_count(static_cast<double>(b.active)) + " active per token";
    return s;
}

std::string model_params_line(const ModelSpec& m, const ParamBreakdown& b) {
    std::ostringstream o;
    o << format_int(b.total()) << " parameters (" << format_count(static_cast<double>(b.total())) << ")";
    if (m.is_moe()) o << ", " << format_count(static_cast<double>(b.active)) << " active per token";
    if (b.mtp > 0)
        o << "; + " << format_count(static_cast<double>(b.mtp)) << " in " << m.mtp_weight_modules() << " MTP module"
          << (m.mtp_weight_modules() == 1 ? "" : "s") << (m.mtp_repeated ? " run at " + std::to_string(m.mtp_layers) + " depths" : "")
          << ", trained, not served";
    return o.str();
}

}  // namespace llmplan
