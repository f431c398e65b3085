// test_model.cpp — the parameter inventory of custom shapes, by hand; validation of shapes.
#include "core/model.h"

#include "core/error.h"

#include <catch2/catch.hpp>

using namespace llmplan;

namespace {
ModelSpec gpt2_small() {
    ModelSpec m;
    m.name = "gpt2-like";
    m.family = "gpt2";
    m.n_layers = 12;
    m.d_model = 768;
    m.n_heads = m.n_kv_heads = 12;
    m.head_dim = 64;
    m.d_ff = 3072;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.vocab_size = 50257;
    m.max_positions = 1024;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.tied_embeddings = true;
    return m;
}
}  // namespace

TEST_CASE("GPT-2 small breakdown by hand", "[model][golden]") {
    const ParamBreakdown b = count_params(gpt2_small());
    CHECK(b.embedding == 50257LL * 768 + 1024LL * 768);  // wte + wpe = 39,383,808
    // Per layer: c_attn 768·2304 + 2304, c_proj 768·768 + 768 = 2,362,368.
    CHECK(b.attention == 12LL * (768 * 2304 + 2304 + 768 * 768 + 768));
    // c_fc 768·3072 + 3072, c_proj 3072·768 + 768 = 4,722,432.
    CHECK(b.mlp == 12LL * (768 * 3072 + 3072 + 3072 * 768 + 768));
    CHECK(b.norm == 12LL * 2 * 2 * 768 + 2 * 768);  // ln_1, ln_2 per layer + ln_f, weight and bias
    CHECK(b.head == 0);                            // tied
    CHECK(b.total() == 124439808);
    CHECK(params_per_layer(gpt2_small()) == 7087872);
}

TEST_CASE("GQA, SwiGLU, untied head, relative positions and experts", "[model][golden]") {
    ModelSpec m = gpt2_small();
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.position = PositionEmbedding::rotary;
    m.qkv_bias = m.out_bias = m.mlp_bias = false;
    m.tied_embeddings = false;
    m.n_kv_heads = 4;  // k, v: 768 × 256 each
    ParamBreakdown b = count_params(m);
    CHECK(b.embedding == 50257LL * 768);
    CHECK(b.attention == 12LL * (2 * 768 * 768 + 2 * 768 * 256));
    CHECK(b.mlp == 12LL * 3 * 768 * 3072);
    CHECK(b.norm == 12LL * 2 * 768 + 768);
    CHECK(b.head == 50257LL * 768);

    m.position = PositionEmbedding::relative;  // Transformer-XL: + 768² and 2 · 768 per layer
    CHECK(count_params(m).attention == b.attention + 12LL * (768 * 768 + 2 * 768));

    m.position = PositionEmbedding::rotary;
    m.n_experts = 8;
    m.top_k = 2;
    b = count_params(m);
    CHECK(b.mlp == 12LL * (8 * 3 * 768 * 3072 + 8 * 768));  // experts + router
    CHECK(b.active == b.total() - 12LL * 6 * 3 * 768 * 3072);  // 6 of 8 experts idle per token
}

TEST_CASE("tensor-parallel split kinds follow Megatron", "[model]") {
    for (const ParamTensor& t : param_tensors(gpt2_small())) {
        if (t.name.find("q_proj.weight") != std::string::npos) CHECK(t.tp == TpSplit::column);
        if (t.name.find("o_proj.weight") != std::string::npos) CHECK(t.tp == TpSplit::row);
        if (t.name.find("o_proj.bias") != std::string::npos) CHECK(t.tp == TpSplit::replicated);
        if (t.name.find("down_proj.bias") != std::string::npos) CHECK(t.tp == TpSplit::replicated);
        if (t.name == "embed_tokens.weight") CHECK(t.tp == TpSplit::vocab);
        if (t.group == ParamGroup::norm) CHECK(t.tp == TpSplit::replicated);
    }
}

TEST_CASE("validate_model rejects inconsistent shapes with a named field", "[model][errors]") {
    ModelSpec m = gpt2_small();
    CHECK_NOTHROW(validate_model(m, "test"));
    m.n_kv_heads = 5;
    CHECK_THROWS_WITH(validate_model(m, "--hf-config x.json"),
                      "--hf-config x.json: n_kv_heads (5) must divide n_heads (12)");
    m = gpt2_small();
    m.n_layers = 0;
    CHECK_THROWS_AS(validate_model(m, "x"), InputError);
    m = gpt2_small();
    m.n_experts = 2;
    m.top_k = 3;
    CHECK_THROWS_WITH(validate_model(m, "x"), Catch::Contains("top_k (3) exceeds the number of experts (2)"));
}
