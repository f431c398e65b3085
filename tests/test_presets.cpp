// test_presets.cpp — every preset reproduces its published parameter count exactly
// (docs/REFERENCES.md §6 and the HF checkpoints), breakdowns worked by hand, and lookup errors.
#include "core/presets.h"

#include "core/error.h"
#include "core/hf_config.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

using namespace llmplan;

TEST_CASE("the preset list is the documented one, each spec named after its preset", "[presets]") {
    const std::vector<std::string> expected = {
        "gpt2-124m",  "gpt2-350m",   "gpt2-774m",   "gpt2-1.5b",      "tinyllama-1.1b",
        "llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3-8b",     "llama-3-70b",
        "llama-3.1-405b", "mistral-7b", "mixtral-8x7b", "gpt3-175b",  "chinchilla-70b",
        // read from models/*.json
        "llama-3.1-8b", "llama-3.1-70b", "qwen2.5-7b", "qwen2.5-72b", "qwen3-0.6b", "qwen3-8b", "qwen3-32b",
        "qwen3-30b-a3b", "qwen3-235b-a22b", "qwen1.5-moe-a2.7b", "deepseek-v2-lite", "deepseek-v3", "gemma-2-9b",
        "gemma-3-27b", "gpt-oss-20b", "gpt-oss-120b", "llama-4-scout", "llama-4-maverick", "phi-3-mini",
        "olmo-2-7b", "llama-3.2-1b", "llama-3.2-3b", "mixtral-8x22b", "qwen2-57b-a14b", "deepseek-v2", "kimi-k2",
        "bloom-560m", "nemotron-4-15b", "nemotron-4-340b", "glm-4.5", "glm-4.5-air", "minimax-m2", "qwen3-next-80b-a3b", "qwen3.5-397b-a17b", "nemotron-3-nano",
        "nemotron-3-super",
        // classic published training runs, read from models/*.json (llama-3.3-70b from llama-3.1-70b.json)
        "opt-175b", "opt-66b", "opt-30b", "bloom-176b", "llama-7b", "llama-13b", "llama-33b", "llama-65b", "falcon-7b",
        "falcon-40b", "falcon-180b", "mpt-7b", "dbrx", "llama-3.3-70b",
        // models of published training/inference benchmarks, read from models/*.json
        "qwen3-1.7b", "qwen3-4b", "qwen3-14b", "qwen2.5-14b", "qwen2.5-32b", "qwen2.5-3b", "nemotron-h-8b",
        "nemotron-h-47b", "nemotron-h-56b", "mistral-nemo-12b", "gemma-2-2b", "gemma-2-27b",
        // models of published training-efficiency reports, read from models/*.json
        "gpt-neox-20b", "pythia-12b", "olmo-2-13b", "olmo-2-32b", "phi-4"};
    std::vector<std::string> names;
    for (const Preset& p : model_presets()) names.push_back(p.name);
    CHECK(names == expected);

    const std::set<std::string> families = {"gpt2", "llama", "mistral", "mixtral", "gopher"};
    for (const Preset& p : model_presets()) {
        INFO(p.name);
        CHECK(p.spec.name == p.name);
        // The hand-written presets (the first 15): head_dim = d / heads; the others follow their config's
        // model_type (Mistral NeMo's "mistral" config has head_dim 128 with 32 heads of a 5120 width).
        const bool hand_written = std::find(expected.begin(), expected.begin() + 15, p.name) != expected.begin() + 15;
        if (hand_written && families.count(p.spec.family) == 1 && p.spec.family != "llama")
            CHECK(p.spec.head_dim * p.spec.n_heads == p.spec.d_model);
        CHECK((families.count(p.spec.family) == 1 ||
               std::find(supported_hf_model_types().begin(), supported_hf_model_types().end(), p.spec.family) !=
                   supported_hf_model_types().end()));
        CHECK_FALSE(p.description.empty());
        CHECK_FALSE(p.source.empty());
        CHECK_NOTHROW(validate_model(p.spec, p.name));
    }
}

TEST_CASE("every published parameter count is reproduced exactly", "[presets][golden]") {
    // docs/REFERENCES.md §6 for the first ten; gpt2-large, gpt2-xl and Llama-3.1-405B from their HF
    // checkpoints. Listed here again so that a wrong published_params cannot hide a wrong shape.
    const std::vector<std::pair<std::string, std::int64_t>> published = {
        {"gpt2-124m", 124'439'808},          {"gpt2-350m", 354'823'168},
        {"gpt2-774m", 774'030'080},          {"gpt2-1.5b", 1'557'611'200},
        {"tinyllama-1.1b", 1'100'048'384},   {"llama-2-7b", 6'738'415'616},
        {"llama-2-13b", 13'015'864'320},     {"llama-2-70b", 68'976'648'192},
        {"llama-3-8b", 8'030'261'248},       {"llama-3-70b", 70'553'706'496},
        {"llama-3.1-405b", 405'853'388'800}, {"mistral-7b", 7'241'732'096},
        {"mixtral-8x7b", 46'702'792'704},    {"bloom-176b", 176'247'271'424}};
    for (const auto& [name, count] : published) {
        INFO(name);
        const Preset* p = find_preset(name);
        REQUIRE(p != nullptr);
        CHECK(p->published_params == count);
        CHECK(count_params(p->spec).total() == count);
    }
    int with_count = 0;
    for (const Preset& p : model_presets()) {
        INFO(p.name);
        if (p.published_params == 0) continue;
        ++with_count;
        CHECK(count_params(p.spec).total() == p.published_params);
    }
    CHECK(with_count == 18);  // + llama-3.1-8b and -70b (the Llama 3 checkpoints' shapes), bloom-560m, bloom-176b
                              // and gpt-neox-20b
}

TEST_CASE("every model card's rounded figure is reproduced to its rounding", "[presets][golden]") {
    // docs/PRESETS.md §3. A figure "8.2B" admits [8.15B, 8.25B]; model cards also truncate (Qwen2.5-7B:
    // 7.6156B is "7.61B"), so within one unit of the last digit. Active counts that leave out the
    // input embedding (gpt-oss, DeepSeek-V2-Lite) are compared without it.
    int checked = 0;
    for (const Preset& p : model_presets()) {
        if (p.published.step == 0) continue;
        INFO(p.name);
        const ParamBreakdown b = count_params(p.spec);
        if (p.published.total > 0) CHECK(std::abs(static_cast<double>(b.total()) - p.published.total) <= p.published.step);
        if (p.published.active > 0) {
            const double active = static_cast<double>(b.active) -
                                  (p.published.active_excludes_embedding ? static_cast<double>(b.embedding) : 0.0);
            CHECK(std::abs(active - p.published.active) <= p.published.step);
        }
        ++checked;
    }
    CHECK(checked == 66);
    // Exact figures of docs/PRESETS.md §3 that the rounded ones stand for:
    CHECK(count_params(preset_or_throw("bloom-560m", "--model")).total() == 559'214'592);  // model card
    const ParamBreakdown gemma2 = count_params(preset_or_throw("gemma-2-9b", "--model"));
    CHECK(gemma2.total() - gemma2.embedding == 8'324'201'984);  // Gemma 2 report Table 2, non-embedding
    const ParamBreakdown gemma2_2b = count_params(preset_or_throw("gemma-2-2b", "--model"));
    CHECK(gemma2_2b.total() - gemma2_2b.embedding == 2'024'517'888);  // likewise, 2B
    const ParamBreakdown gemma2_27b = count_params(preset_or_throw("gemma-2-27b", "--model"));
    CHECK(gemma2_27b.total() - gemma2_27b.embedding == 26'047'480'320);  // likewise, 27B
    // Nemotron-H 8B: the checkpoint total as recorded in public code (docs/PRESETS.md §3).
    CHECK(count_params(preset_or_throw("nemotron-h-8b", "--model")).total() == 8'100'852'736);
}

TEST_CASE("training-efficiency report models: counts by hand against the model cards", "[presets][golden]") {
    // docs/PRESETS.md §3. GPT-NeoX layout (GPT-NeoX-20B, Pythia 12B): untied embed_in and embed_out V·d;
    // per layer query_key_value 3d² + 3d, dense d² + d, dense_h_to_4h d·f + f, dense_4h_to_h f·d + d,
    // two LayerNorms 4d; the final LayerNorm 2d.
    const auto neox = [](std::int64_t V, std::int64_t L, std::int64_t d, std::int64_t f) {
        return 2 * V * d + L * (3 * d * d + 3 * d + d * d + d + 2 * d * f + f + d + 4 * d) + 2 * d;
    };
    // GPT-NeoX-20B card: 20,554,567,680 parameters (V 50432, 44 layers, d 6144, f 24576).
    const ParamBreakdown neox20 = count_params(preset_or_throw("gpt-neox-20b", "t"));
    CHECK(neox(50432, 44, 6144, 24576) == 20'554'567'680);
    CHECK(neox20.total() == 20'554'567'680);
    // Pythia 12B card: 11,327,027,200 non-embedding (V 50688, 36 layers, d 5120, f 20480).
    const ParamBreakdown pythia = count_params(preset_or_throw("pythia-12b", "t"));
    CHECK(neox(50688, 36, 5120, 20480) == 11'846'072'320);
    CHECK(pythia.total() == 11'846'072'320);
    CHECK(pythia.total() - pythia.embedding - pythia.head == 11'327'027'200);
    // OLMo 2 (post-norms; q_norm over n_heads·h, k_norm over n_kv·h): untied 2·100352·d; per layer q, o
    // 2d², k, v 2·d·kv·h, gate, up, down 3·d·f, post-attention and post-feed-forward norms 2d, q/k norms
    // d + kv·h; the final norm d.
    const auto olmo2 = [](std::int64_t L, std::int64_t d, std::int64_t kvh, std::int64_t f) {
        return 2 * 100352 * d + L * (2 * d * d + 2 * d * kvh + 3 * d * f + 3 * d + kvh) + d;
    };
    CHECK(count_params(preset_or_throw("olmo-2-13b", "t")).total() == olmo2(40, 5120, 5120, 13824));
    CHECK(olmo2(40, 5120, 5120, 13824) == 13'716'198'400);
    CHECK(count_params(preset_or_throw("olmo-2-32b", "t")).total() == olmo2(64, 5120, 1024, 27648));
    CHECK(olmo2(64, 5120, 1024, 27648) == 32'234'279'936);
    // Phi-4 (Phi-3 layout): untied 2·100352·5120; per layer qkv_proj 5120·(5120 + 2·1280), o_proj 5120²,
    // gate_up_proj 5120·2·17920, down_proj 17920·5120, two RMSNorms; 40 layers; the final norm.
    const std::int64_t phi4_layer = 5120LL * 7680 + 5120LL * 5120 + 5120LL * 35840 + 17920LL * 5120 + 2 * 5120;
    CHECK(count_params(preset_or_throw("phi-4", "t")).total() == 2 * 100352LL * 5120 + 40 * phi4_layer + 5120);
    CHECK(count_params(preset_or_throw("phi-4", "t")).total() == 14'659'507'200);
}

TEST_CASE("classic published runs: counts by hand against the papers and model cards", "[presets][golden]") {
    // docs/PRESETS.md §3. BLOOM (bigscience/bloom card): 176,247,271,424 parameters, 3,596,615,680 of
    // them embedding (250880 · 14336). Per layer: query_key_value 3·14336² + 3·14336, dense 14336² +
    // 14336, dense_h_to_4h 4·14336² + 4·14336, dense_4h_to_h 4·14336² + 14336, two LayerNorms 4·14336
    // = 2,466,437,120; 70 layers; the embedding LayerNorm and ln_f 2·14336 each.
    const ParamBreakdown bloom = count_params(preset_or_throw("bloom-176b", "t"));
    CHECK(bloom.embedding == 3'596'615'680);
    CHECK(bloom.total() == 3'596'615'680LL + 70LL * 2'466'437'120 + 2 * 28'672);
    CHECK(bloom.total() == 176'247'271'424);

    // LLaMA (Touvron et al. 2023, Table 2: 6.7B, 13.0B, 32.5B, 65.2B): untied embed_tokens and lm_head
    // 2·32000·d; per layer q, k, v, o 4d², gate, up, down 3·d·f, two RMSNorms 2d; the final norm d.
    struct Llama {
        const char* preset;
        std::int64_t layers, d, f, total;
    };
    for (const Llama& l : {Llama{"llama-7b", 32, 4096, 11008, 6'738'415'616},
                           Llama{"llama-13b", 40, 5120, 13824, 13'015'864'320},
                           Llama{"llama-33b", 60, 6656, 17920, 32'528'943'616},
                           Llama{"llama-65b", 80, 8192, 22016, 65'285'660'672}}) {
        INFO(l.preset);
        const ModelSpec m = preset_or_throw(l.preset, "t");
        CHECK(m.max_positions == 2048);
        CHECK(count_params(m).total() == 2 * 32000 * l.d + l.layers * (4 * l.d * l.d + 3 * l.d * l.f + 2 * l.d) + l.d);
        CHECK(count_params(m).total() == l.total);
    }
    // LLaMA 7B and 13B are Llama 2 7B's and 13B's shapes with a 2048-token context.
    ModelSpec seven = preset_or_throw("llama-7b", "t");
    seven.max_positions = 4096;
    CHECK(seven.name == "llama-7b");
    seven.name = "llama-2-7b";
    CHECK(seven == preset_or_throw("llama-2-7b", "t"));

    // OPT (Zhang et al. 2022, Table 1; metaseq MODEL_SIZES): tied embeddings, 2048 learned positions
    // (transformers' table holds 2 more rows: 2·d fewer here); per layer 4(d² + d) + 8d² + 5d + 4d.
    struct Opt {
        const char* preset;
        std::int64_t layers, d, total;
    };
    for (const Opt& o : {Opt{"opt-30b", 48, 7168, 29'974'525'952}, Opt{"opt-66b", 64, 9216, 65'719'683'072},
                         Opt{"opt-175b", 96, 12288, 174'604'443'648}}) {
        INFO(o.preset);
        const std::int64_t d = o.d;
        CHECK(count_params(preset_or_throw(o.preset, "t")).total() ==
              (50272 + 2048) * d + o.layers * (12 * d * d + 13 * d) + 2 * d);
        CHECK(count_params(preset_or_throw(o.preset, "t")).total() == o.total);
    }

    // Falcon-180B: d 14848, 80 layers, 232 heads of 64, 8 KV groups: query_key_value 14848·(2·8 + 232)·64
    // = 235,667,456; dense 220,463,104; MLP 2·14848·59392 = 1,763,704,832; ln_attn + ln_mlp 59,392;
    // word_embeddings 65024·14848 (lm_head tied); ln_f 29,696.
    CHECK(count_params(preset_or_throw("falcon-180b", "t")).total() ==
          80LL * (235'667'456LL + 220'463'104 + 1'763'704'832 + 59'392) + 65024LL * 14848 + 29'696);
    CHECK(count_params(preset_or_throw("falcon-180b", "t")).total() == 178'557'088'768);

    // Llama 3.3 70B reads Llama 3.1 70B's file: the same spec apart from its name.
    ModelSpec l33 = preset_or_throw("llama-3.3-70b", "t");
    CHECK(l33.name == "llama-3.3-70b");
    l33.name = "llama-3.1-70b";
    CHECK(l33 == preset_or_throw("llama-3.1-70b", "t"));
    CHECK(count_params(l33).total() == 70'553'706'496);
}

TEST_CASE("gpt2-124m breakdown by hand", "[presets][golden]") {
    const ParamBreakdown b = count_params(preset_or_throw("gpt2-124m", "t"));
    CHECK(b.embedding == 38'597'376 + 786'432);  // wte 50257·768 + wpe 1024·768
    // Per layer: c_attn 768·2304 + 2304 = 1,771,776; attn c_proj 768·768 + 768 = 590,592.
    CHECK(b.attention == 12LL * (1'771'776 + 590'592));  // 28,348,416
    // Per layer: c_fc 768·3072 + 3072 = 2,362,368; mlp c_proj 3072·768 + 768 = 2,360,064.
    CHECK(b.mlp == 12LL * (2'362'368 + 2'360'064));  // 56,669,184
    CHECK(b.norm == 12LL * 2 * (768 + 768) + (768 + 768));  // ln_1, ln_2 per layer, ln_f = 38,400
    CHECK(b.head == 0);                                       // lm_head tied to wte
    CHECK(b.total() == 39'383'808 + 28'348'416 + 56'669'184 + 38'400);
    CHECK(b.total() == 124'439'808);
}

TEST_CASE("llama-2-7b breakdown by hand", "[presets][golden]") {
    const ParamBreakdown b = count_params(preset_or_throw("llama-2-7b", "t"));
    CHECK(b.embedding == 32000LL * 4096);                // embed_tokens = 131,072,000
    CHECK(b.attention == 32LL * 4 * 4096 * 4096);        // q, k, v, o: 4096² each = 2,147,483,648
    CHECK(b.mlp == 32LL * 3 * 4096 * 11008);             // gate, up, down = 4,328,521,728
    CHECK(b.norm == 32LL * 2 * 4096 + 4096);             // 2 RMSNorms per layer + final = 266,240
    CHECK(b.head == 32000LL * 4096);                     // untied lm_head = 131,072,000
    CHECK(b.total() == 2 * 131'072'000LL + 2'147'483'648LL + 4'328'521'728LL + 266'240);
    CHECK(b.total() == 6'738'415'616);
    CHECK(b.active == b.total());  // dense
}

TEST_CASE("mixtral-8x7b active parameters by hand", "[presets][golden]") {
    // One expert = w1, w3, w2 = 3 · 4096 · 14336 = 176,160,768; 8 experts × 32 layers =
    // 45,097,156,608. A token uses 2 of 8, so 6 · 32 · 176,160,768 = 33,822,867,456 sit idle:
    //   active = 46,702,792,704 − 33,822,867,456 = 12,879,925,248.
    // Built up instead: embeddings + lm_head 2 · 131,072,000 = 262,144,000; attention
    // 32 · (2 · 4096² + 2 · 4096 · 1024) = 1,342,177,280; 2 experts 64 · 176,160,768 =
    // 11,274,289,152; routers 32 · 8 · 4096 = 1,048,576; norms 32 · 2 · 4096 + 4096 = 266,240;
    // sum 12,879,925,248. (The brief's 12,879,476,736 is 448,512 lower and matches no
    // combination of these terms.)
    const ParamBreakdown b = count_params(preset_or_throw("mixtral-8x7b", "t"));
    CHECK(b.total() == 46'702'792'704);
    CHECK(b.mlp == 32LL * (8 * 176'160'768 + 8 * 4096));
    CHECK(b.active == 46'702'792'704 - 6LL * 32 * 176'160'768);
    CHECK(b.active == 262'144'000LL + 1'342'177'280LL + 11'274'289'152LL + 1'048'576 + 266'240);
    CHECK(b.active == 12'879'925'248);
}

TEST_CASE("papers' rounded counts: gpt3-175b and chinchilla-70b", "[presets][golden]") {
    // GPT-3 (Brown et al. 2020 Table 2.1): wte 50257·12288 + wpe 2048·12288 = 642,723,840;
    // per layer c_attn 12288·36864 + 36864, c_proj 12288² + 12288 = 604,028,928,
    // MLP 2·12288·49152 + 49152 + 12288 = 1,208,020,992, norms 4·12288; ln_f 2·12288.
    const Preset* gpt3 = find_preset("gpt3-175b");
    REQUIRE(gpt3 != nullptr);
    CHECK(gpt3->published_params == 0);
    const ParamBreakdown g = count_params(gpt3->spec);
    CHECK(g.embedding == 642'723'840);
    CHECK(g.attention == 96LL * 604'028'928);
    CHECK(g.mlp == 96LL * 1'208'020'992);
    CHECK(g.norm == 96LL * 4 * 12288 + 2 * 12288);
    CHECK(g.total() == 174'604'259'328);  // "175.0B" in Table 2.1

    // Chinchilla (Hoffmann et al. 2022 Table 4), Gopher layout: per layer q, k, v, o 4·8192² plus
    // the Transformer-XL relative projection 8192² and two 8192 bias vectors; MLP 2·8192·32768.
    const Preset* chin = find_preset("chinchilla-70b");
    REQUIRE(chin != nullptr);
    CHECK(chin->published_params == 0);
    const ParamBreakdown c = count_params(chin->spec);
    CHECK(c.embedding == 32000LL * 8192);
    CHECK(c.attention == 80LL * (5 * 8192LL * 8192 + 2 * 8192));
    CHECK(c.mlp == 80LL * 2 * 8192 * 32768);
    CHECK(c.norm == 80LL * 2 * 8192 + 8192);  // RMSNorm: weights only
    CHECK(c.head == 0);                        // tied
    CHECK(c.total() == 70'057'992'192);        // "70B"
}

TEST_CASE("shape details that do not show in the count", "[presets]") {
    const ModelSpec mistral = preset_or_throw("mistral-7b", "t");
    CHECK(mistral.sliding_window == 4096);
    CHECK(mistral.max_positions == 32768);
    const ModelSpec mixtral = preset_or_throw("mixtral-8x7b", "t");
    CHECK(mixtral.n_experts == 8);
    CHECK(mixtral.top_k == 2);
    CHECK(mixtral.sliding_window == 0);  // config.json: "sliding_window": null
    CHECK(preset_or_throw("llama-3.1-405b", "t").max_positions == 131072);
    CHECK(preset_or_throw("llama-3-8b", "t").n_kv_heads == 8);
    CHECK(preset_or_throw("llama-2-70b", "t").n_kv_heads == 8);
    CHECK(preset_or_throw("gpt3-175b", "t").max_positions == 2048);
    const ModelSpec chin = preset_or_throw("chinchilla-70b", "t");
    CHECK(chin.position == PositionEmbedding::relative);
    CHECK(chin.norm == Norm::rmsnorm);
    CHECK(chin.head_dim == 128);
}

TEST_CASE("find_preset is case-insensitive, unknown names get a suggestion", "[presets][errors]") {
    REQUIRE(find_preset("Llama-2-7B") != nullptr);
    CHECK(find_preset("Llama-2-7B")->name == "llama-2-7b");
    CHECK(find_preset("GPT2-124M") == find_preset("gpt2-124m"));
    CHECK(preset_or_throw("MIXTRAL-8x7B", "--model").name == "mixtral-8x7b");

    CHECK_THROWS_AS(preset_or_throw("llama-2-8b", "--model"), InputError);
    CHECK_THROWS_WITH(preset_or_throw("llama-2-8b", "--model"),
                      "--model: unknown model \"llama-2-8b\" (did you mean \"llama-2-7b\"? `llmplan models` lists the "
                      "presets; a Hugging Face ORG/NAME in the local cache, or --hf-config PATH, works too)");
    CHECK_THROWS_WITH(preset_or_throw("Mistral-7B-v0.1", "models"),
                      Catch::StartsWith("models: unknown model \"Mistral-7B-v0.1\" (") &&
                          Catch::EndsWith("`llmplan models` lists the presets; a Hugging Face ORG/NAME in the local "
                                          "cache, or --hf-config PATH, works too)"));
    CHECK_THROWS_WITH(preset_or_throw("", "--model"), Catch::StartsWith("--model: unknown model \"\" ("));
}

TEST_CASE("a model named as people and model hubs write it finds its preset by the name's words", "[presets]") {
    // The same words as a preset's name, as a multiset, once the publisher, the tuned variants and
    // base/hf are left out (the same shape).
    const std::pair<const char*, const char*> named[] = {
        {"llama2-7b", "llama-2-7b"},          {"Llama 3.1 405B", "llama-3.1-405b"},  {"llama3-70b", "llama-3-70b"},
        {"Meta-Llama-3-70B-Instruct", "llama-3-70b"}, {"Llama-2-70b-hf", "llama-2-70b"}, {"llama-3.3-70B-Instruct", "llama-3.3-70b"},
        {"gemma-2-9b-it", "gemma-2-9b"},      {"Qwen3 235B A22B", "qwen3-235b-a22b"}, {"DeepSeek-V3-Base", "deepseek-v3"},
        {"Nemotron-4-340B-Base", "nemotron-4-340b"}, {"Kimi-K2-Instruct", "kimi-k2"},
        {"Qwen3 14B", "qwen3-14b"},           {"Qwen2.5-32B-Instruct", "qwen2.5-32b"}, {"gemma-2-27b-it", "gemma-2-27b"},
        {"Mistral-Nemo-12B", "mistral-nemo-12b"}, {"Nemotron-H-56B", "nemotron-h-56b"},
        {"GPT-NeoX-20B", "gpt-neox-20b"},     {"OLMo 2 13B", "olmo-2-13b"},       {"OLMo-2-32B-Instruct", "olmo-2-32b"},
        {"phi-4", "phi-4"},                   {"Phi 4", "phi-4"},                 {"Pythia 12B", "pythia-12b"},
    };
    for (const auto& [name, preset] : named) {
        CAPTURE(name);
        REQUIRE(find_preset(name));
        CHECK(find_preset(name)->name == preset);
    }
    // Two 3s are not one ("llama-3.3-70b" against "llama-3-70b"); words a preset lacks or a version
    // suffix (a release of another shape: Mistral 7B v0.3's vocabulary) find nothing; nor does a
    // damaged value.
    CHECK(find_preset("Llama 3 70B")->name == "llama-3-70b");
    CHECK(find_preset("Llama 3.3 70B")->name == "llama-3.3-70b");
    CHECK(find_preset("Mistral-7B-v0.3") == nullptr);
    CHECK(find_preset("GPT-3") == nullptr);
    CHECK(find_preset("llama-3-70b-finetune") == nullptr);
    CHECK(find_preset("llama-2-7b\x7f") == nullptr);
    CHECK(find_preset("llama\x1b[2J-2-7b") == nullptr);
    // Every preset is found by its name spelled with spaces: no two presets have the same words.
    for (const Preset& p : model_presets()) {
        std::string spaced = p.name;
        std::replace(spaced.begin(), spaced.end(), '-', ' ');
        CAPTURE(p.name);
        CHECK(find_preset(spaced) == &p);
    }
    // A Hugging Face id: the preset read from that repository's config.json, else NAME's preset.
    CHECK(preset_for_hf_id("meta-llama/Meta-Llama-3-70B")->name == "llama-3-70b");
    CHECK(preset_for_hf_id("META-LLAMA/meta-llama-3-70b")->name == "llama-3-70b");
    CHECK(preset_for_hf_id("mistralai/Mistral-7B-v0.1")->name == "mistral-7b");
    CHECK(preset_for_hf_id("huggyllama/llama-65b")->name == "llama-65b");
    CHECK(preset_for_hf_id("google/gemma-2-9b-it")->name == "gemma-2-9b");
    CHECK(preset_for_hf_id("Qwen/Qwen3-14B")->name == "qwen3-14b");
    CHECK(preset_for_hf_id("Qwen/Qwen3-1.7B")->name == "qwen3-1.7b");
    CHECK(preset_for_hf_id("Qwen/Qwen2.5-32B-Instruct")->name == "qwen2.5-32b");
    CHECK(preset_for_hf_id("mistralai/Mistral-Nemo-Base-2407")->name == "mistral-nemo-12b");
    CHECK(preset_for_hf_id("EleutherAI/gpt-neox-20b")->name == "gpt-neox-20b");
    CHECK(preset_for_hf_id("EleutherAI/pythia-12b")->name == "pythia-12b");
    CHECK(preset_for_hf_id("allenai/OLMo-2-1124-13B")->name == "olmo-2-13b");
    CHECK(preset_for_hf_id("allenai/OLMo-2-0325-32B")->name == "olmo-2-32b");
    CHECK(preset_for_hf_id("microsoft/phi-4")->name == "phi-4");
    CHECK(preset_for_hf_id("nvidia/Nemotron-H-8B-Base-8K")->name == "nemotron-h-8b");
    CHECK(preset_for_hf_id("mistralai/Mistral-7B-Instruct-v0.3") == nullptr);
    CHECK(preset_for_hf_id("llama-3-70b") == nullptr);  // not ORG/NAME
}
