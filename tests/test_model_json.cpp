// test_model_json.cpp — model_shape_from_json is the exact inverse of model_shape_json
// (core/json.h): every preset, and a shape using every field, survive JSON text unchanged; bad
// shapes fail with one line naming the field.
#include "core/json.h"

#include "cli_run.h"
#include "core/error.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

#include <string>

using namespace llmplan;

namespace {

// Through JSON text, as a scenario file or a plan report carries it.
ModelSpec round_trip(const ModelSpec& m) {
    return model_shape_from_json(nlohmann::json::parse(model_shape_json(m).dump()), "test model");
}

std::string error_of(const nlohmann::json& j) {
    try {
        model_shape_from_json(j, "s.json model");
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("every preset's shape reads back from its JSON exactly", "[json][model]") {
    REQUIRE(!model_presets().empty());
    for (const Preset& p : model_presets()) {
        INFO(p.name);
        const ModelSpec back = round_trip(p.spec);
        CHECK(back == p.spec);
        CHECK(count_params(back).total() == count_params(p.spec).total());
    }
    // The fields today's presets carry are really in the JSON (not left to defaults on both sides).
    const nlohmann::json v3 = model_shape_json(find_preset("deepseek-v3")->spec);
    CHECK(v3["mla"] == nlohmann::json({{"q_lora_rank", 1536}, {"kv_lora_rank", 512}, {"qk_nope_head_dim", 128},
                                       {"qk_rope_head_dim", 64}, {"v_head_dim", 128}}));
    CHECK(v3["mtp_layers"] == 1);
    CHECK(v3["layer_pattern"] == nlohmann::json::parse(R"([{"count": 3, "moe": false, "attention": "global", "rope": true},
                                                          {"count": 58, "moe": true, "attention": "global", "rope": true}])"));
    CHECK(round_trip(find_preset("bloom-560m")->spec).position == PositionEmbedding::alibi);
}

TEST_CASE("a shape of more layers than kMaxModelLayers is refused before its pattern is built", "[json][model]") {
    nlohmann::json j = model_shape_json(preset_or_throw("llama-3.1-8b", "t"));
    j["layers"] = 1000000000;
    j["layer_pattern"] = nlohmann::json::array({{{"count", 1000000000}}});
    CHECK(error_of(j).find("at most 100000 (got 1000000000)") != std::string::npos);
}

TEST_CASE("a shape with every optional field set reads back exactly", "[json][model]") {
    ModelSpec m = find_preset("llama-4-maverick")->spec;  // a layer pattern with chunked and NoPE layers
    m.name = "every-field";
    m.family = "custom-family";
    m.qkv_bias = m.out_bias = m.mlp_bias = m.tied_embeddings = true;
    m.parallel_residual = true;
    m.rotary_pct = 0.25;
    m.sliding_window = 512;
    m.layer_kinds[0].attention = LayerAttention::sliding;
    m.qk_norm = QkNorm::full_width;
    m.attention_sinks = true;
    m.attn_softcap = 50;
    m.final_softcap = 30.5;
    m.norms_per_layer = 4;
    m.embedding_norm = true;
    m.shared_expert_gate = true;
    m.router_bias = m.expert_bias = true;
    m.capacity_factor = 1.25;
    m.mtp_layers = 2;
    m.position = PositionEmbedding::relative;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    validate_model(m, "test");
    CHECK(round_trip(m) == m);
    // MLA with a q_lora_rank of 0 (DeepSeek-V2-Lite) and a layer pattern that is uniform but kept.
    const ModelSpec lite = find_preset("deepseek-v2-lite")->spec;
    CHECK(round_trip(lite) == lite);
    ModelSpec kept = find_preset("llama-2-7b")->spec;
    kept.layer_kinds.assign(static_cast<std::size_t>(kept.n_layers), LayerKind{});
    CHECK(round_trip(kept) == kept);
}

TEST_CASE("a hand-written shape: the fields model_shape_json always writes may be left out", "[json][model]") {
    const ModelSpec m = model_shape_from_json(
        {{"layers", 32}, {"d_model", 4096}, {"heads", 32}, {"d_ff", 11008}, {"vocab_size", 32000}, {"max_positions", 4096}},
        "s.json model");
    const ModelSpec& llama = find_preset("llama-2-7b")->spec;
    CHECK(m.name == "custom");
    CHECK(m.n_kv_heads == 32);
    CHECK(m.head_dim == 128);
    CHECK(count_params(m).total() == count_params(llama).total());  // 6,738,415,616: the Llama layout by default
    CHECK(count_params(m).total() == 6'738'415'616);
}

TEST_CASE("bad shapes: one line naming the field", "[json][model][errors]") {
    nlohmann::json j = model_shape_json(find_preset("deepseek-v3")->spec);
    CHECK(error_of(nlohmann::json::array()) == "s.json model: a model shape must be a JSON object");
    nlohmann::json bad = j;
    bad["mla"]["kv_lora_rank"] = "512";
    CHECK(error_of(bad) == "s.json model: \"mla.kv_lora_rank\" must be an integer");
    bad = j;
    bad["mla"] = 3;
    CHECK(error_of(bad) == "s.json model: \"mla\" must be an object");
    bad = j;
    bad["expert"] = 8;
    CHECK(error_of(bad) == "s.json model: unknown field \"expert\" (docs/REPORTS.md lists the fields of a model shape)");
    bad = j;
    bad["mla"]["rank"] = 8;
    CHECK(error_of(bad) == "s.json model: unknown field \"mla.rank\" (docs/REPORTS.md lists the fields of a model shape)");
    bad = j;
    bad["layer_pattern"][1]["count"] = 57;
    CHECK(error_of(bad) == "s.json model: \"layer_pattern\" must be runs covering all 61 layers (they cover 60)");
    bad = j;
    bad["layer_pattern"][1]["count"] = 59;
    CHECK(error_of(bad) == "s.json model: \"layer_pattern[1].count\" must be between 1 and the layers not yet listed "
                           "(58; got 59)");
    bad = j;
    bad["layer_pattern"][0]["attention"] = "local";
    CHECK(error_of(bad) == "s.json model: \"layer_pattern[0].attention\" must be one of global, sliding, chunked "
                           "(got \"local\")");
    bad = j;
    bad["layer_pattern"][0].erase("count");
    CHECK(error_of(bad) == "s.json model: \"layer_pattern[0].count\" must be given (the layers in this run)");
    bad = j;
    bad["layer_pattern"] = nlohmann::json::object();
    CHECK(error_of(bad) == "s.json model: \"layer_pattern\" must be an array of runs {count, moe, attention, rope}");
    bad = j;
    bad["position_embedding"] = "rope";
    CHECK(error_of(bad) == "s.json model: \"position_embedding\" must be one of learned, rotary, relative, alibi, none "
                           "(got \"rope\")");
    bad = j;
    bad["layers"] = 1LL << 40;
    CHECK(error_of(bad) == "s.json model: \"layers\" must be an integer from -1073741824 to 1073741824");
    bad = j;
    bad["attn_softcap"] = true;
    CHECK(error_of(bad) == "s.json model: \"attn_softcap\" must be a number");
    // What parses is then validated (validate_model's line, naming `what`).
    bad = j;
    bad["top_k"] = 300;
    CHECK(error_of(bad) == "s.json model: top_k (300) exceeds the number of experts (256)");
}

TEST_CASE("the JSON reports carry the shape and the active count: infer, models, models NAME, plan", "[json][model][cli]") {
    const ModelSpec& v3 = find_preset("deepseek-v3")->spec;
    const test::CliResult infer = test::run_cli({"infer", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8", "--json"});
    REQUIRE(infer.code == 0);
    const nlohmann::json i = nlohmann::json::parse(infer.out);
    CHECK(i["model"]["parameters"] == 671'026'404'352);
    CHECK(i["model"]["active_parameters"] == 37'552'282'624);
    CHECK(model_shape_from_json(i["model"]["shape"], "infer report") == v3);

    const nlohmann::json list = nlohmann::json::parse(test::run_cli({"models", "--json"}).out);
    REQUIRE(list["models"].size() == model_presets().size());
    for (const nlohmann::json& e : list["models"]) {
        const Preset& p = *find_preset(e["name"].get<std::string>());
        INFO(p.name);
        CHECK(e["active_parameters"] == count_params(p.spec).active);
        CHECK(model_shape_from_json(e["shape"], p.name) == p.spec);
    }
    CHECK(list["models"][0]["active_parameters"] == 124'439'808);  // gpt2-124m: dense, all of them

    const nlohmann::json one = nlohmann::json::parse(test::run_cli({"models", "deepseek-v3", "--json"}).out);
    CHECK(one["parameters"]["mlp_parts"] == nlohmann::json({{"dense", 1'189'085'184}, {"routed_experts", 653'908'770'816},
                                                            {"shared_experts", 2'554'331'136}, {"router", 106'430'464}}));
    CHECK(one["parameters"]["mtp"] == 11'610'067'968);
    CHECK(one["parameters"]["total"] == 671'026'404'352);

    const test::CliResult plan = test::run_cli({"plan", "--model", "gemma-3-27b", "--gpus", "8", "--zero", "3", "--json"});
    REQUIRE(plan.code == 0);
    const nlohmann::json p = nlohmann::json::parse(plan.out);
    CHECK(model_shape_from_json(p["inputs"]["model"], "plan report") == find_preset("gemma-3-27b")->spec);
    CHECK(p["model"]["shape"]["layer_pattern"].size() == 21);  // (5 sliding, 1 global) × 10, then 2 sliding
}
