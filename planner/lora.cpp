// lora.cpp — PEFT's adapter count; see lora.h.
#include "planner/lora.h"

#include "planner/quant.h"

#include <sstream>

namespace llmplan {

LoraCount count_lora(const ModelSpec& m, const LoraConfig& lora) {
    LoraCount c;
    if (!lora.enabled()) return c;
    const double r = lora.rank, d = m.d_model, q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()),
                 f = m.d_ff, experts = m.is_moe() ? m.n_experts : 1;
    std::ostringstream desc;
    auto add = [&](const char* name, double in, double out, double copies) {
        c.per_layer += copies * r * (in + out);
        c.targeted_base_params += copies * in * out;
        c.modules_per_layer += static_cast<int>(copies);
        desc << (desc.tellp() > 0 ? ", " : "") << name;
    };
    const bool gpt2 = m.family == "gpt2";
    if (gpt2 && (lora.targets & (lora_q | lora_k | lora_v))) {
        add("c_attn", d, 3 * d, 1);
    } else {
        if (lora.targets & lora_q) add("q_proj", d, q, 1);
        if (lora.targets & lora_k) add("k_proj", d, kv, 1);
        if (lora.targets & lora_v) add("v_proj", d, kv, 1);
    }
    if (lora.targets & lora_o) add(gpt2 ? "attn.c_proj" : "o_proj", q, d, 1);
    if ((lora.targets & lora_gate) && m.activation == Activation::swiglu) add("gate_proj", d, f, experts);
    if (lora.targets & lora_up) add(gpt2 ? "c_fc" : "up_proj", d, f, experts);
    if (lora.targets & lora_down) add(gpt2 ? "mlp.c_proj" : "down_proj", f, d, experts);
    c.adapter_params = c.per_layer * m.n_layers;
    c.targeted_base_params *= m.n_layers;
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

}  // namespace llmplan
