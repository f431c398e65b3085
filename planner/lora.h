// lora.h — LoRA adapters counted exactly as PEFT creates them (Hu et al. 2021; huggingface/peft
// LoraLayer: lora_A [r × in] and lora_B [out × r] per targeted Linear, i.e. r·(in + out)
// parameters). GPT-2's attention projections are one fused Conv1D (c_attn, d → 3d): targeting any
// of q, k, v adapts it once. MoE: every expert's targeted projection gets its own adapter.
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <string>

namespace llmplan {

struct LoraCount {
    double adapter_params = 0;       // trainable, whole model
    double per_layer = 0;            // one decoder layer
    int modules_per_layer = 0;       // adapted projections per layer (experts counted)
    double targeted_base_params = 0; // frozen parameters those adapters sit on
    std::string description;         // "q_proj, v_proj: 2 × r(d + out) per layer"
};
LoraCount count_lora(const ModelSpec& m, const LoraConfig& lora);

// Bytes per element of a frozen base matmul weight under --base-quant (nf4 with double
// quantization, int8 = LLM.int8), or `otherwise` when not quantized.
double base_weight_bytes(BaseQuant q, double in_features, double otherwise);

}  // namespace llmplan
