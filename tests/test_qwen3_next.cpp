// test_qwen3_next.cpp — the Gated DeltaNet hybrids Qwen3-Next (`qwen3_next`) and Qwen3.5
// (`qwen3_5_moe`, its language model `qwen3_5_moe_text`): what the reader makes of their configs
// (layer pattern, Gated DeltaNet shape, gated attention, partial rotary, class defaults), their
// parameter counts worked by hand from docs/MODEL_FAMILIES.md ("qwen3_next", "qwen3_5_moe"), and
// one-line errors for bad configs. validation/params/hand_count.py counts the same configs
// independently (tests/test_model_families.cpp compares every component).
#include "core/error.h"
#include "core/hf_config.h"
#include "core/model.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

#include <string>

using namespace llmplan;
using nlohmann::json;

namespace {

ModelSpec fixture(const std::string& file) {
    return model_from_hf_config_file(std::string(LLMPLAN_TEST_DATA) + "/hf/" + file, "--hf-config");
}

// Which layers are attention layers, as a string: 'A' attention, 'G' Gated DeltaNet.
std::string mixers(const ModelSpec& m) {
    std::string out;
    for (int i = 0; i < m.n_layers; ++i) out += m.layer(i).has_attention() ? 'A' : m.layer(i).has_gdn() ? 'G' : '?';
    return out;
}

// The smallest qwen3_next config the reader takes: the fields it requires, nothing optional.
json minimal_qwen3_next() {
    return json{{"model_type", "qwen3_next"},        {"hidden_size", 256},         {"intermediate_size", 512},
                {"num_hidden_layers", 8},            {"num_attention_heads", 4},    {"vocab_size", 1000},
                {"max_position_embeddings", 4096},   {"num_experts", 8},            {"num_experts_per_tok", 2},
                {"moe_intermediate_size", 64}};
}

// The message of the InputError `f` throws ("" if none), and that it is one line.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const InputError& e) {
        const std::string message = e.what();
        CHECK(message.find('\n') == std::string::npos);
        return message;
    }
    return "";
}

}  // namespace

TEST_CASE("Qwen3-Next 80B-A3B by hand: 79,674,391,296 parameters, 3,874,929,408 active", "[qwen3_next][golden]") {
    const ModelSpec m = preset_or_throw("qwen3-next-80b-a3b", "--model");
    CHECK(m.family == "qwen3_next");
    // 48 layers: every 4th (3, 7, ..., 47) gated attention, the other 36 Gated DeltaNet; all MoE.
    REQUIRE(m.n_layers == 48);
    std::string expected;
    for (int i = 0; i < 48; ++i) expected += (i + 1) % 4 == 0 ? 'A' : 'G';
    CHECK(mixers(m) == expected);
    CHECK(layers_in_set(m, LayerSet::gdn, 0, 48) == 36);
    CHECK(layers_in_set(m, LayerSet::attention, 0, 48) == 12);
    CHECK(moe_layer_count(m) == 48);
    CHECK(m.has_gdn());
    CHECK_FALSE(m.has_mamba());
    CHECK_FALSE(m.hybrid());  // every layer has a mixer and an MoE block: a transformer layer with another mixer
    // Gated DeltaNet: 16 key heads of 128, 32 value heads of 128, a 4-tap convolution.
    CHECK(m.gdn.k_heads == 16);
    CHECK(m.gdn.v_heads == 32);
    CHECK(m.gdn.k_head_dim == 128);
    CHECK(m.gdn.v_head_dim == 128);
    CHECK(m.gdn.conv_kernel == 4);
    CHECK(m.gdn.key_dim() == 2048);
    CHECK(m.gdn.value_dim() == 4096);
    CHECK(m.gdn.in_proj_width() == 2 * 2048 + 2 * 4096 + 2 * 32);  // q, k, v, z; β, α = 12,352
    CHECK(m.gdn.conv_channels() == 2 * 2048 + 4096);                // q, k, v = 8,192
    // Attention: 16 heads and 2 kv heads of 256, q_proj doubled by the output gate, per-head QK
    // norms, rotary on a quarter of each head, no biases.
    CHECK(m.n_heads == 16);
    CHECK(m.n_kv_heads == 2);
    CHECK(m.head_dim == 256);
    CHECK(m.attention_output_gate);
    CHECK(m.q_proj_width() == 2 * 16 * 256);
    CHECK(m.qk_norm == QkNorm::per_head);
    CHECK(m.rotary_pct == 0.25);
    CHECK_FALSE(m.qkv_bias);
    CHECK_FALSE(m.out_bias);
    // MoE: 512 experts of 512, top-10, one shared expert of 512 with its sigmoid gate.
    CHECK(m.n_experts == 512);
    CHECK(m.top_k == 10);
    CHECK(m.expert_d_ff() == 512);
    CHECK(m.shared_d_ff == 512);
    CHECK(m.shared_expert_gate);
    CHECK_FALSE(m.tied_embeddings);
    CHECK(m.mtp_layers == 0);  // the config names no MTP layers

    const ParamBreakdown b = count_params(m);
    const std::int64_t d = 2048, V = 151936;
    // embed_tokens and the untied lm_head: V·d = 311,164,928 each.
    CHECK(b.embedding == V * d);
    CHECK(b.head == V * d);
    // Attention layer: q_proj d·(2·16·256) = 16,777,216; k_proj, v_proj d·(2·256) = 1,048,576 each;
    // o_proj (16·256)·d = 8,388,608: 27,262,976; × 12 = 327,155,712.
    const std::int64_t attn = d * 8192 + 2 * d * 512 + 4096 * d;
    CHECK(attn == 27'262'976);
    CHECK(b.attention == 12 * attn);
    CHECK(b.attention == 327'155'712);
    // Gated DeltaNet layer: in_proj_qkvz d·12,288 = 25,165,824; in_proj_ba d·64 = 131,072; conv1d
    // 8,192·4 = 32,768; dt_bias, A_log 32 each; out_proj 4,096·d = 8,388,608: 33,718,336; × 36 =
    // 1,213,860,096.
    const std::int64_t gdn = d * 12288 + d * 64 + 8192 * 4 + 2 * 32 + 4096 * d;
    CHECK(gdn == 33'718'336);
    CHECK(b.linear_attention == 36 * gdn);
    CHECK(b.linear_attention == 1'213'860'096);
    // MoE layer: 512 experts of 3·d·512 = 3,145,728 each; shared expert 3·d·512 + its gate d =
    // 3,147,776; router 512·d = 1,048,576.
    CHECK(b.routed_experts == 48LL * 512 * 3 * d * 512);
    CHECK(b.routed_experts == 77'309'411'328);
    CHECK(b.shared_experts == 48 * (3 * d * 512 + d));
    CHECK(b.shared_experts == 151'093'248);
    CHECK(b.router == 48LL * 512 * d);
    CHECK(b.router == 50'331'648);
    CHECK(b.mlp_dense == 0);
    // Norms: two of d per layer (196,608), q_norm and k_norm of 256 per attention layer (6,144),
    // the gated norm of 128 per Gated DeltaNet layer (4,608), the final norm (2,048).
    CHECK(b.norm == 48 * 2 * d + 12 * 2 * 256 + 36 * 128 + d);
    CHECK(b.norm == 209'408);
    CHECK(b.mamba == 0);
    // 2 · 311,164,928 + 327,155,712 + 1,213,860,096 + 77,309,411,328 + 151,093,248 + 50,331,648 + 209,408
    CHECK(b.total() == 79'674'391'296);
    // Active: a token skips 502 of the 512 experts in each of the 48 layers (75,799,461,888).
    CHECK(b.active == b.total() - 48LL * 502 * 3 * d * 512);
    CHECK(b.active == 3'874'929'408);
    CHECK(b.mtp == 0);
}

TEST_CASE("Qwen3.5 397B-A17B by hand: the language model, 396,346,350,336 parameters, and its MTP layer",
          "[qwen3_next][golden]") {
    const ModelSpec m = preset_or_throw("qwen3.5-397b-a17b", "--model");
    CHECK(m.family == "qwen3_5_moe_text");
    // 60 layers from text_config.layer_types: every 4th full attention, 45 Gated DeltaNet; all MoE.
    REQUIRE(m.n_layers == 60);
    std::string expected;
    for (int i = 0; i < 60; ++i) expected += (i + 1) % 4 == 0 ? 'A' : 'G';
    CHECK(mixers(m) == expected);
    CHECK(moe_layer_count(m) == 60);
    CHECK(m.gdn.k_heads == 16);
    CHECK(m.gdn.v_heads == 64);
    CHECK(m.gdn.k_head_dim == 128);
    CHECK(m.gdn.v_head_dim == 128);
    CHECK(m.gdn.conv_kernel == 4);
    CHECK(m.attention_output_gate);
    CHECK(m.rotary_pct == 0.25);
    CHECK(m.head_dim == 256);
    CHECK(m.n_heads == 32);
    CHECK(m.n_kv_heads == 2);
    CHECK(m.n_experts == 512);
    CHECK(m.top_k == 10);
    CHECK(m.expert_d_ff() == 1024);
    CHECK(m.shared_d_ff == 1024);
    CHECK(m.mtp_layers == 1);

    const ParamBreakdown b = count_params(m);
    const std::int64_t d = 4096, V = 248320;
    CHECK(b.embedding == V * d);  // 1,017,118,720
    CHECK(b.head == V * d);
    // Attention layer: q_proj d·(2·32·256) = 67,108,864; k_proj, v_proj d·512 = 2,097,152 each;
    // o_proj 8,192·d = 33,554,432: 104,857,600; × 15 = 1,572,864,000.
    const std::int64_t attn = d * 16384 + 2 * d * 512 + 8192 * d;
    CHECK(attn == 104'857'600);
    CHECK(b.attention == 15 * attn);
    // Gated DeltaNet layer: key_dim 2,048, value_dim 8,192; in_proj_qkv + in_proj_z d·20,480 =
    // 83,886,080; in_proj_b + in_proj_a d·128 = 524,288; conv1d 12,288·4 = 49,152; dt_bias, A_log 64
    // each; out_proj 8,192·d = 33,554,432: 118,014,080; × 45 = 5,310,633,600.
    const std::int64_t gdn = d * 20480 + d * 128 + 12288 * 4 + 2 * 64 + 8192 * d;
    CHECK(gdn == 118'014'080);
    CHECK(b.linear_attention == 45 * gdn);
    CHECK(b.linear_attention == 5'310'633'600);
    const std::int64_t expert = 3 * d * 1024, shared = 3 * d * 1024 + d;  // 12,582,912; 12,587,008
    CHECK(b.routed_experts == 60LL * 512 * expert);                      // 386,547,056,640
    CHECK(b.shared_experts == 60 * shared);                              // 755,220,480
    CHECK(b.router == 60LL * 512 * d);                                   // 125,829,120
    CHECK(b.norm == 60 * 2 * d + 15 * 2 * 256 + 45 * 128 + d);           // 509,056
    CHECK(b.total() == 396'346'350'336);
    CHECK(b.active == b.total() - 60LL * 502 * expert);
    CHECK(b.active == 17'349'040'896);
    // The MTP layer (not built by transformers; trained, not served): pre_fc_norm_hidden and
    // pre_fc_norm_embedding of d, fc 2d→d, one full-attention MoE decoder layer (its two norms and
    // QK norms), the final norm: 8,192 + 33,554,432 + (104,857,600 + 8,192 + 512 + 512·12,582,912 +
    // 12,587,008 + 512·d) + 4,096.
    CHECK(b.mtp == 2 * d + 2 * d * d + (attn + 2 * d + 2 * 256 + 512 * expert + shared + 512 * d) + d);
    CHECK(b.mtp == 6'595'568'128);
}

TEST_CASE("tiny qwen3_next / qwen3_5_moe fixtures: layer plans, a dense layer, the gate's q_proj bias",
          "[qwen3_next]") {
    // tiny-qwen3_next.json: 4 layers, full_attention_interval 2 (layers 1 and 3 attention),
    // mlp_only_layers [0] (layer 0 a dense MLP of 96), attention_bias true, partial_rotary_factor 0.5.
    const ModelSpec n = fixture("tiny-qwen3_next.json");
    CHECK(mixers(n) == "GAGA");
    CHECK(n.layer(0).dense_mlp());
    CHECK(n.layer(1).moe_mlp());
    CHECK(n.layer(3).moe_mlp());
    CHECK(moe_layer_count(n) == 3);
    CHECK(n.rotary_pct == 0.5);
    CHECK(n.qkv_bias);
    CHECK(n.out_bias);
    CHECK(n.gdn.k_heads == 2);
    CHECK(n.gdn.v_heads == 4);
    CHECK(n.gdn.k_head_dim == 16);
    CHECK(n.gdn.v_head_dim == 24);
    CHECK(n.gdn.conv_kernel == 3);
    const ParamBreakdown nb = count_params(n);
    // Attention layer (d 64, 4 heads and 2 kv heads of 32): q_proj 64·256 + bias 256 (the gate's half
    // biased too), k_proj and v_proj 64·64 + 64, o_proj 128·64 + 64: 33,216; two layers.
    CHECK(nb.attention == 2 * (64 * 256 + 256 + 2 * (64 * 64 + 64) + 128 * 64 + 64));
    CHECK(nb.attention == 66'432);
    // Gated DeltaNet (key_dim 32, value_dim 96): in_proj_qkvz 64·256, in_proj_ba 64·8, conv1d 160·3,
    // dt_bias and A_log 4 each, out_proj 96·64: 23,528; two layers.
    CHECK(nb.linear_attention == 2 * (64 * 256 + 64 * 8 + 160 * 3 + 8 + 96 * 64));
    CHECK(nb.mlp_dense == 3 * 64 * 96);
    CHECK(nb.routed_experts == 3 * 8 * 3 * 64 * 32);
    CHECK(nb.shared_experts == 3 * (3 * 64 * 48 + 64));
    CHECK(nb.norm == 4 * 2 * 64 + 2 * 2 * 32 + 2 * 24 + 64);
    CHECK(nb.total() == 375'040);

    // tiny-qwen3_5_moe_text.json: layer_types full, linear, linear, full; tied embeddings; one MTP layer.
    const ModelSpec t = fixture("tiny-qwen3_5_moe_text.json");
    CHECK(mixers(t) == "AGGA");
    CHECK(moe_layer_count(t) == 4);
    CHECK(t.tied_embeddings);
    CHECK(t.mtp_layers == 1);
    CHECK(count_params(t).head == 0);
    CHECK(count_params(t).total() == 228'264);

    // tiny-qwen3_5_moe.json: the image-text config; its text_config leaves the vocabulary, kv heads
    // and every linear_* field to Qwen3_5MoeTextConfig's defaults; full_attention_interval 2.
    const ModelSpec c = fixture("tiny-qwen3_5_moe.json");
    CHECK(c.family == "qwen3_5_moe_text");
    CHECK(mixers(c) == "GAGA");
    CHECK(c.vocab_size == 248320);
    CHECK(c.n_kv_heads == 2);
    CHECK(c.gdn.k_heads == 16);
    CHECK(c.gdn.v_heads == 32);
    CHECK(c.gdn.k_head_dim == 128);
    CHECK(c.gdn.v_head_dim == 128);
    CHECK(c.gdn.conv_kernel == 4);
    CHECK(c.mtp_layers == 0);
}

TEST_CASE("qwen3_next / qwen3_5_moe: absent fields take the config classes' defaults", "[qwen3_next][defaults]") {
    // Qwen3NextConfig: num_key_value_heads 2, head_dim 256, attention_bias False, partial_rotary_factor
    // 0.25, shared_expert_intermediate_size 512, decoder_sparse_step 1, full_attention_interval 4, the
    // linear_* fields 16 key heads and 32 value heads of 128, a 4-tap convolution.
    const ModelSpec m = model_from_hf_config(minimal_qwen3_next(), "x");
    CHECK(m.n_kv_heads == 2);
    CHECK(m.head_dim == 256);
    CHECK_FALSE(m.qkv_bias);
    CHECK(m.rotary_pct == 0.25);
    CHECK(m.attention_output_gate);
    CHECK(m.qk_norm == QkNorm::per_head);
    CHECK(m.shared_d_ff == 512);
    CHECK(m.shared_expert_gate);
    CHECK(moe_layer_count(m) == 8);
    CHECK(mixers(m) == "GGGAGGGA");
    CHECK(m.gdn.k_heads == 16);
    CHECK(m.gdn.v_heads == 32);
    CHECK(m.gdn.k_head_dim == 128);
    CHECK(m.gdn.v_head_dim == 128);
    CHECK(m.gdn.conv_kernel == 4);
    CHECK(m.mtp_layers == 0);
    CHECK_FALSE(m.tied_embeddings);
    // partial_rotary_factor may sit inside rope_parameters (transformers 5).
    json rope = minimal_qwen3_next();
    rope["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e7}, {"partial_rotary_factor", 0.5}};
    CHECK(model_from_hf_config(rope, "x").rotary_pct == 0.5);

    // Qwen3_5MoeTextConfig, all of it from the class (Qwen/Qwen3.5-35B-A3B's shape): V 248320, d 2048,
    // 40 layers (30 Gated DeltaNet, 10 attention), 16 heads and 2 kv heads of 256, 256 experts of
    // 512 top-8, a shared expert of 512. 34,660,610,688 is hand_count.py's count of the same config.
    const ModelSpec q = model_from_hf_config(json{{"model_type", "qwen3_5_moe"}, {"text_config", json::object()}}, "x");
    CHECK(q.vocab_size == 248320);
    CHECK(q.d_model == 2048);
    CHECK(q.n_layers == 40);
    CHECK(layers_in_set(q, LayerSet::gdn, 0, 40) == 30);
    CHECK(q.n_experts == 256);
    CHECK(q.top_k == 8);
    CHECK(q.expert_d_ff() == 512);
    CHECK(q.shared_d_ff == 512);
    CHECK(q.max_positions == 32768);
    const ParamBreakdown b = count_params(q);
    CHECK(b.total() == 34'660'610'688);
    CHECK(b.active == 3'454'988'928);
}

TEST_CASE("qwen3_next / qwen3_5_moe: bad configs give one-line errors naming the file and the field",
          "[qwen3_next][errors]") {
    json cfg = minimal_qwen3_next();
    cfg["layer_types"] = {"linear_attention", "linear_attention", "sliding_attention", "full_attention",
                          "linear_attention", "linear_attention", "linear_attention", "full_attention"};
    CHECK(error_of([&] { model_from_hf_config(cfg, "--hf-config next.json"); }) ==
          "--hf-config next.json: field \"layer_types\": layer 2 is \"sliding_attention\" (supported for this "
          "model_type: linear_attention, full_attention)");

    cfg["layer_types"] = {"linear_attention", "full_attention"};
    CHECK(error_of([&] { model_from_hf_config(cfg, "--hf-config next.json"); }) ==
          "--hf-config next.json: field \"layer_types\" lists 2 layers but num_hidden_layers is 8");

    cfg["layer_types"] = "linear_attention";
    CHECK(error_of([&] { model_from_hf_config(cfg, "--hf-config next.json"); }) ==
          "--hf-config next.json: field \"layer_types\" must be a list of strings (got the string "
          "\"linear_attention\")");

    cfg = minimal_qwen3_next();
    cfg["linear_num_key_heads"] = 12;  // 32 value heads in groups of 32 / 12: not whole
    CHECK(error_of([&] { model_from_hf_config(cfg, "--hf-config next.json"); }) ==
          "--hf-config next.json: linear_num_key_heads (12) must divide linear_num_value_heads (32)");

    cfg = minimal_qwen3_next();
    cfg["full_attention_interval"] = 0;
    CHECK(error_of([&] { model_from_hf_config(cfg, "--hf-config next.json"); }) ==
          "--hf-config next.json: field \"full_attention_interval\" must be a positive integer (got 0)");

    cfg = minimal_qwen3_next();
    cfg["linear_value_head_dim"] = -128;
    CHECK(error_of([&] { model_from_hf_config(cfg, "--hf-config next.json"); }) ==
          "--hf-config next.json: field \"linear_value_head_dim\" must be a positive integer (got -128)");

    // In the image-text config, the message names text_config.
    const json composite = {{"model_type", "qwen3_5_moe"},
                            {"text_config", {{"num_hidden_layers", 4}, {"layer_types", {"full_attention"}}}}};
    CHECK(error_of([&] { model_from_hf_config(composite, "--hf-config q35.json"); }) ==
          "--hf-config q35.json text_config: field \"layer_types\" lists 1 layers but num_hidden_layers is 4");
    CHECK(error_of([&] { model_from_hf_config(json{{"model_type", "qwen3_5_moe"}}, "--hf-config q35.json"); }) ==
          "--hf-config q35.json: model_type \"qwen3_5_moe\" needs a \"text_config\" object (its language model)");
}
