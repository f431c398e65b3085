// lora.cpp — PEFT's adapter count; see lora.h.
#include "planner/lora.h"

#include "planner/quant.h"

#include <algorithm>
#include <sstream>

namespace llmplan {

namespace {

// One adapted projection of a layer: in → out features, `copies` of it (routed experts: n_experts),
// `tokens` token passes through those copies together per token (routed: top_k × capacity factor).
struct Adapter {
    const char* name;
    double in, out, copies, tokens;
    bool routed;
};

// The adapters PEFT puts on one layer of kind `kind` for the targets (lora.h).
std::vector<Adapter> layer_adapters(const ModelSpec& m, unsigned targets, const LayerKind& kind) {
    const double d = m.d_model, kv = static_cast<double>(m.kv_dim());
    std::vector<Adapter> a;
    auto add = [&](const char* name, double in, double out) { a.push_back({name, in, out, 1, 1, false}); };
    const bool gpt2 = m.family == "gpt2";
    // A recurrent mixer's projections (a hybrid's Mamba-2 layer, a Gated DeltaNet layer): in_proj
    // d → its fused width, out_proj its inner width → d, as Megatron-Core builds them (one module
    // each; Megatron Bridge's target modules "in_proj", "out_proj").
    if (kind.has_mamba()) {
        if (targets & lora_in_proj) add("in_proj", d, static_cast<double>(m.mamba.in_proj_width()));
        if (targets & lora_out_proj) add("out_proj", static_cast<double>(m.mamba.d_inner()), d);
    } else if (kind.has_gdn()) {
        if (targets & lora_in_proj) add("in_proj", d, static_cast<double>(m.gdn.in_proj_width()));
        if (targets & lora_out_proj) add("out_proj", static_cast<double>(m.gdn.value_dim()), d);
    } else if (!kind.has_attention()) {
        // no mixer (a hybrid's MLP-only or MoE-only layer)
    } else if (gpt2 && (targets & (lora_q | lora_k | lora_v))) {
        add("c_attn", d, 3 * d);
    } else if (m.is_mla()) {
        const MlaShape& l = m.mla;
        const double q = static_cast<double>(m.q_dim()), h = m.n_heads;
        if (targets & lora_q) {
            if (l.q_lora_rank > 0) {
                add("q_a_proj", d, l.q_lora_rank);
                add("q_b_proj", l.q_lora_rank, q);
            } else {
                add("q_proj", d, q);
            }
        }
        if (targets & (lora_k | lora_v)) {
            add("kv_a_proj_with_mqa", d, l.kv_lora_rank + l.qk_rope_head_dim);
            add("kv_b_proj", l.kv_lora_rank, h * (l.qk_nope_head_dim + l.v_head_dim));
        }
    } else {
        if (targets & lora_q) add("q_proj", d, static_cast<double>(m.q_proj_width()));  // with an output gate: Q and the gate
        if (targets & lora_k) add("k_proj", d, kv);
        if (targets & lora_v) add("v_proj", d, kv);
    }
    if ((targets & lora_o) && kind.has_attention()) add(gpt2 ? "attn.c_proj" : "o_proj", static_cast<double>(m.attn_out_dim()), d);
    // An MLP of width f: its gate, up and down projections, `copies` of each.
    auto mlp = [&](const char* gate, const char* up, const char* down, double f, double copies, double tokens,
                   bool routed) {
        if ((targets & lora_gate) && gated_mlp(m.activation)) a.push_back({gate, d, f, copies, tokens, routed});
        if (targets & lora_up) a.push_back({up, d, f, copies, tokens, routed});
        if (targets & lora_down) a.push_back({down, f, d, copies, tokens, routed});
    };
    if (!kind.ffn) {
        // no feed-forward block (a hybrid's Mamba or attention-only layer)
    } else if (kind.moe) {
        const double tokens = m.top_k * m.expert_capacity();
        mlp("gate_proj", "up_proj", "down_proj", m.expert_d_ff(), m.n_experts, tokens, true);
        if (m.shared_d_ff > 0)
            mlp("shared_expert.gate_proj", "shared_expert.up_proj", "shared_expert.down_proj",
                static_cast<double>(m.shared_d_ff), 1, 1, false);
    } else {
        mlp("gate_proj", gpt2 ? "c_fc" : "up_proj", gpt2 ? "mlp.c_proj" : "down_proj", m.d_ff, 1, 1, false);
    }
    return a;
}

}  // namespace

LoraCount count_lora(const ModelSpec& m, const LoraConfig& lora) { return count_lora(m, lora, layer_groups(m)); }

LoraCount count_lora(const ModelSpec& m, const LoraConfig& lora, const std::vector<LayerGroup>& layers) {
    LoraCount c;
    if (!lora.enabled()) return c;
    const double r = lora.rank;
    std::vector<std::string> names;
    double modules = 0;
    int n_layers = 0;
    for (const LayerGroup& g : layers) {
        n_layers += g.count;
        for (const Adapter& a : layer_adapters(m, lora.targets, g.kind)) {
            const double params = g.count * a.copies * r * (a.in + a.out);
            c.adapter_params += params;
            if (a.routed) c.expert_adapter_params += params;
            c.targeted_base_params += g.count * a.copies * a.in * a.out;
            c.intermediates_per_token += g.count * a.tokens * r;
            modules += g.count * a.copies;
            if (std::find(names.begin(), names.end(), a.name) == names.end()) names.emplace_back(a.name);
        }
    }
    if (n_layers > 0) {
        c.per_layer = c.adapter_params / n_layers;
        c.modules_per_layer = static_cast<int>(modules / n_layers);
    }
    std::ostringstream desc;
    for (const std::string& n : names) desc << (desc.tellp() > 0 ? ", " : "") << n;
    c.description = desc.str() + " (r = " + std::to_string(lora.rank) + ": r·(in + out) each, per layer)";
    return c;
}

double base_weight_bytes(BaseQuant q, double in_features, double otherwise) {
    switch (q) {
        case BaseQuant::none: return otherwise;
        case BaseQuant::nf4: return weight_bytes_per_element(QuantSpec{WeightFormat::nf4, 64, true}, in_features);
        case BaseQuant::int8: return weight_bytes_per_element(QuantSpec{WeightFormat::int8, 128, false}, in_features);
    }
    return otherwise;
}

LoraOnGpu lora_on_gpu(const LoraCount& count, const ParallelLayout& p) {
    return {(count.adapter_params - count.expert_adapter_params) / p.tp, count.expert_adapter_params / p.expert_tp() / p.ep};
}

}  // namespace llmplan
