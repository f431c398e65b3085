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
    return j;
}

nlohmann::json param_breakdown_json(const ParamBreakdown& b) {
    return {{"embedding", b.embedding}, {"attention", b.attention}, {"mlp", b.mlp},
            {"norm", b.norm},           {"head", b.head},           {"total", b.total()},
            {"active", b.active}};
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
