// lora.h — LoRA adapters counted exactly as PEFT creates them (Hu et al. 2021; huggingface/peft
// LoraLayer: lora_A [r × in] and lora_B [out × r] per targeted Linear, i.e. r·(in + out)
// parameters). GPT-2's attention projections are one fused Conv1D (c_attn, d → 3d): targeting any
// of q, k, v adapts it once. MoE: every routed expert's targeted projection gets its own adapter,
// and so does the shared expert's; dense layers adapt their own MLP. Multi-head latent attention
// (DeepSeek-V2/V3): q targets q_proj, or q_a_proj and q_b_proj; k or v target kv_a_proj_with_mqa
// and kv_b_proj once (keys and values come from one latent, as GPT-2's fused c_attn).
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <string>
#include <vector>

namespace llmplan {

struct LoraCount {
    double adapter_params = 0;       // trainable, over the layers counted (the whole model by default)
    double per_layer = 0;            // one decoder layer (layers of several kinds: their average)
    int modules_per_layer = 0;       // adapted projections per layer (experts counted; several kinds: average, rounded down)
    double targeted_base_params = 0; // frozen parameters those adapters sit on
    double expert_adapter_params = 0;  // the part of adapter_params on routed experts (split by expert parallelism)
    // Rank-r intermediates (lora_A's output, kept for lora_B's backward) per token, summed over
    // the adapters: one per adapter, routed experts' adapters together top_k (× capacity factor)
    // per token as the tokens they see (activations.h, balanced routing).
    double intermediates_per_token = 0;
    std::string description;         // "q_proj, v_proj: 2 × r(d + out) per layer"
};
LoraCount count_lora(const ModelSpec& m, const LoraConfig& lora);
// The adapters of the layers `layers` only (e.g. one pipeline stage's, planner/memory.h).
LoraCount count_lora(const ModelSpec& m, const LoraConfig& lora, const std::vector<LayerGroup>& layers);

// Of `count`, the adapters one GPU holds: the dense ones split by tensor parallelism, those on routed
// experts by the experts' tensor parallelism and expert parallelism.
struct LoraOnGpu {
    double dense = 0, expert = 0;
    double total() const { return dense + expert; }
};
LoraOnGpu lora_on_gpu(const LoraCount& count, const ParallelLayout& p);

// Bytes per element of a frozen base matmul weight under --base-quant (nf4 with double
// quantization, int8 = LLM.int8), or `otherwise` when not quantized.
double base_weight_bytes(BaseQuant q, double in_features, double otherwise);

}  // namespace llmplan
