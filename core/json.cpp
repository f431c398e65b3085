// json.cpp — JSON forms of model shapes, GPUs and training configs.
#include "core/json.h"

#include "core/error.h"
#include "core/file.h"

#include <cmath>

namespace llmplan {

nlohmann::json bytes_json(double bytes) {
    if (std::isfinite(bytes) && std::abs(bytes) < 9.0e15) return static_cast<std::int64_t>(std::llround(bytes));
    return bytes;
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
    if (m.heterogeneous()) {
        // Run-length form: [{"count": 3, "moe": false, "attention": "global", "rope": true}, ...]
        nlohmann::json runs = nlohmann::json::array();
        for (int i = 0; i < m.n_layers;) {
            const LayerKind k = m.layer(i);
            int n = 1;
            while (i + n < m.n_layers && m.layer(i + n) == k) ++n;
            runs.push_back({{"count", n}, {"moe", k.moe}, {"attention", to_string(k.attention)}, {"rope", k.rope}});
            i += n;
        }
        j["layer_pattern"] = runs;
    }
    return j;
}

nlohmann::json param_breakdown_json(const ParamBreakdown& b) {
    nlohmann::json j = {{"embedding", b.embedding}, {"attention", b.attention}, {"mlp", b.mlp},
                        {"norm", b.norm},           {"head", b.head},           {"total", b.total()},
                        {"active", b.active}};
    if (b.routed_experts > 0)  // the MLP's parts, for MoE models
        j["mlp_parts"] = {{"dense", b.mlp_dense}, {"routed_experts", b.routed_experts},
                          {"shared_experts", b.shared_experts}, {"router", b.router}};
    if (b.mtp > 0) j["mtp"] = b.mtp;  // outside total: not part of the served model
    return j;
}

nlohmann::json gpu_json(const GpuSpec& g) {
    return {{"name", g.name},
            {"display_name", g.display_name},
            {"memory_bytes", bytes_json(g.memory_bytes)},
            {"memory_bandwidth_bytes_per_s", g.memory_bandwidth},
            {"peak_dense_flops", {{"fp32", g.peak_fp32}, {"tf32", g.peak_tf32}, {"fp16", g.peak_fp16},
                                  {"bf16", g.peak_bf16}, {"fp8", g.peak_fp8}, {"int8", g.peak_int8}}},
            {"intra_node_link", g.intra_node_link},
            {"intra_node_bandwidth_bytes_per_s", g.intra_node_bandwidth},
            {"tdp_watts", g.tdp_watts}};
}

nlohmann::json parallel_json(const ParallelLayout& p) {
    return {{"gpus", p.gpus}, {"gpus_per_node", p.gpus_per_node}, {"dp", p.dp()},
            {"tp", p.tp},     {"pp", p.pp},                       {"cp", p.cp},
            {"ep", p.ep},     {"virtual_stages", p.virtual_stages}, {"sp", p.sp},
            {"zero", p.zero}};
}

nlohmann::json config_json(const TrainConfig& c) {
    return {{"precision", to_string(c.precision)},
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
            {"lora", {{"rank", c.lora.rank}, {"alpha", c.lora.alpha}, {"targets", lora_targets_string(c.lora.targets)},
                      {"base_quant", to_string(c.lora.base_quant)}, {"paged_optimizer", c.lora.paged_optimizer}}},
            {"framework", to_string(c.framework)}};
}

nlohmann::json parse_json_object(const std::string& text, const std::string& what) {
    const nlohmann::json j = parse_json_text(text, what);
    if (!j.is_object()) throw InputError(what + ": expected a JSON object");
    return j;
}

}  // namespace llmplan
