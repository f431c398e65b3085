// test_model_text.cpp — how a model reads (core/model_text.h): the lines of `llmplan plan`,
// `llmplan models NAME` and its list. The families planned before today's read byte for byte as
// they did; today's models name their experts, attention layout and MTP modules, with parameter
// counts checked by hand (below, per model, from its config.json and docs/MODEL_FAMILIES.md).
#include "core/model_text.h"

#include "cli_run.h"
#include "core/file.h"
#include "core/hf_config.h"
#include "core/presets.h"
#include "core/text.h"

#include <catch2/catch.hpp>

#include <string>

using namespace llmplan;

namespace {

const ModelSpec& preset(const char* name) {
    const Preset* p = find_preset(name);
    REQUIRE(p != nullptr);
    return p->spec;
}

// The "model" block of `llmplan plan`: the shape line, the detail line (if any), the parameter line.
std::string model_block(const ModelSpec& m) {
    std::string s = "  model   " + model_shape_line(m) + "\n";
    if (const std::string d = model_detail_line(m); !d.empty()) s += "          " + d + "\n";
    return s + "          " + model_params_line(m, count_params(m)) + "\n";
}

}  // namespace

TEST_CASE("Llama, GPT-2 and Mixtral read exactly as they always have", "[model_text]") {
    // The lines `llmplan plan` printed before model_text.h (commit d6043e3).
    CHECK(model_block(preset("llama-2-7b")) ==
          "  model   32 layers, d_model 4096, 32 heads × 128, d_ff 11008 swiglu, rmsnorm, vocab 32000, rotary positions\n"
          "          6,738,415,616 parameters (6.74B)\n");
    CHECK(model_block(preset("llama-2-70b")) ==
          "  model   80 layers, d_model 8192, 64 heads (8 kv) × 128, d_ff 28672 swiglu, rmsnorm, vocab 32000, rotary "
          "positions\n"
          "          68,976,648,192 parameters (69B)\n");
    CHECK(model_block(preset("gpt2-124m")) ==
          "  model   12 layers, d_model 768, 12 heads × 64, d_ff 3072 gelu, layernorm, vocab 50257, learned positions, "
          "tied head\n"
          "          124,439,808 parameters (124M)\n");
    CHECK(model_block(preset("mixtral-8x7b")) ==
          "  model   32 layers, d_model 4096, 32 heads (8 kv) × 128, d_ff 14336 swiglu, 8 experts top-2, rmsnorm, vocab "
          "32000, rotary positions\n"
          "          46,702,792,704 parameters (46.7B), 12.9B active per token\n");
    CHECK(model_detail_line(preset("llama-3-8b")).empty());
    CHECK(model_size_text(preset("llama-2-7b"), count_params(preset("llama-2-7b"))) == "6.74B parameters");
}

TEST_CASE("deepseek-v3: MLA ranks, 58 MoE + 3 dense layers, the MTP module outside the total", "[model_text]") {
    // Hand count (config.json: V 129280, d 7168, L 61, H 128, q rank 1536, kv rank 512, qk 128 + 64,
    // v 128, dense I 18432 in the first 3 layers, 256 experts of 2048 top-8 + 1 shared of 2048):
    //   attention per layer  d·1536 + 1536·128·192 + d·(512 + 64) + 512·128·(128 + 128) + 128·128·d
    //                        = 187,105,280 (+ q_a / kv_a norms 1536 + 512, counted as norms)
    //   MoE layer MLP        256·3·d·2048 + 3·d·2048 + 256·d = 11,320,164,352
    //   dense layer MLP      3·d·18432 = 396,361,728
    //   total = 2·V·d + d + 61·(attention + 2048 + 2·d) + 58·MoE + 3·dense = 671,026,404,352
    //   active = total − 58·(256 − 8)·3·d·2048 = 37,552,282,624
    //   MTP = 2·d + 2d·d + (attention + norms + MoE MLP of one layer) + d = 11,610,067,968
    const ModelSpec& m = preset("deepseek-v3");
    const ParamBreakdown b = count_params(m);
    CHECK(b.total() == 671'026'404'352);
    CHECK(b.active == 37'552'282'624);
    CHECK(b.mtp == 11'610'067'968);
    CHECK(mla_text(m) == "MLA (q rank 1536, kv rank 512, qk 128 + 64 rope, v 128)");
    CHECK(experts_text(m) == "58 MoE layers of 256 experts (2048) top-8 + shared (2048); 3 dense layers (18432)");
    CHECK(model_block(m) ==
          "  model   61 layers, d_model 7168, 128 heads MLA (q rank 1536, kv rank 512, qk 128 + 64 rope, v 128), "
          "swiglu MLPs, rmsnorm, vocab 129280, rotary positions\n"
          "          58 MoE layers of 256 experts (2048) top-8 + shared (2048); 3 dense layers (18432)\n"
          "          671,026,404,352 parameters (671B), 37.6B active per token; + 11.6B in 1 MTP module, trained, "
          "not served\n");
    CHECK(model_size_text(m, b) == "671B parameters, 37.6B active per token");
    // DeepSeek-V2-Lite: queries without a low-rank bottleneck, one dense layer.
    CHECK(mla_text(preset("deepseek-v2-lite")) == "MLA (kv rank 512, qk 128 + 64 rope, v 128)");
    CHECK(experts_text(preset("deepseek-v2-lite")) ==
          "26 MoE layers of 64 experts (1408) top-6 + shared (2816); 1 dense layer (10944)");
}

TEST_CASE("gemma-3-27b: 52 sliding + 10 global layers, QK-norm, four norms per layer", "[model_text]") {
    // Hand count (text_config: V 262208 (Gemma3TextConfig default), d 5376, L 62, H 32, K 16, hd 128,
    // I 21504, tied): per layer q/o 2·d·4096 + k/v 2·d·2048 + q/k norms 2·128 + 4 norms 4·d + MLP 3·d·I;
    // total = V·d + 62·layer + d = 27,009,346,304. Global layers: every 6th (sliding_window_pattern 6),
    // 10 of 62.
    const ModelSpec& m = preset("gemma-3-27b");
    CHECK(count_params(m).total() == 27'009'346'304);
    CHECK(layer_pattern_text(m) == "52 sliding (1024) + 10 global");
    CHECK(model_block(m) ==
          "  model   62 layers, d_model 5376, 32 heads (16 kv) × 128, d_ff 21504 swiglu, rmsnorm, vocab 262208, rotary "
          "positions, tied head\n"
          "          attention: 52 sliding (1024) + 10 global; QK-norm per head; 4 norms per layer\n"
          "          27,009,346,304 parameters (27B)\n");
    CHECK(model_detail_line(preset("gemma-2-9b")) ==
          "attention: 21 sliding (4096) + 21 global; logits soft-capped: attention 50, final 30; 4 norms per layer");
}

TEST_CASE("llama-4-maverick: MoE every second layer, chunked and NoPE layers", "[model_text]") {
    // Hand count (text_config: V 202048, d 5120, L 48, H 40, K 8, hd 128, experts 128 of 8192 top-1 +
    // shared 8192 in the odd layers (interleave_moe_layer_step 2), dense 16384 in the even ones, untied):
    //   attention 2·d·5120 + 2·d·1024 + 2 norms·d per layer; MoE layer 128·3·d·8192 + 3·d·8192 + 128·d;
    //   dense layer 3·d·16384; total = 2·V·d + d + 48·attention + 24·MoE + 24·dense = 400,711,848,960;
    //   active = total − 24·127·3·d·8192 = 17,184,691,200. NoPE: every 4th layer (12), global.
    const ModelSpec& m = preset("llama-4-maverick");
    const ParamBreakdown b = count_params(m);
    CHECK(b.total() == 400'711'848'960);
    CHECK(b.active == 17'184'691'200);
    CHECK(model_block(m) ==
          "  model   48 layers, d_model 5120, 40 heads (8 kv) × 128, swiglu MLPs, rmsnorm, vocab 202048, rotary "
          "positions\n"
          "          24 MoE layers of 128 experts (8192) top-1 + shared (8192); 24 dense layers (16384); attention: 36 "
          "chunked (8192) + 12 global NoPE\n"
          "          400,711,848,960 parameters (401B), 17.2B active per token\n");
    // Scout: every layer MoE, and the unweighted QK L2-norm.
    CHECK(model_detail_line(preset("llama-4-scout")) ==
          "48 MoE layers of 16 experts (8192) top-1 + shared (8192); attention: 36 chunked (8192) + 12 global NoPE; "
          "QK L2-norm (no weights)");
}

TEST_CASE("gpt-oss-20b: Mixtral-style experts with biases, banded layers, sinks", "[model_text]") {
    // Hand count (config.json: V 201088, d 2880, L 24, H 64, K 8, hd 64, 32 experts of 2880 top-4,
    // attention_bias): attention q 2880·4096 + 4096, k/v 2·(2880·512 + 512), o 4096·2880 + 2880, sinks 64;
    // expert gate/up 2880·5760 + 5760, down 2880·2880 + 2880; router 32·2880 + 32; 2 norms.
    //   total = 2·V·d + d + 24·(attention + 2·d + router + 32·expert) = 20,914,757,184
    //   active = total − 24·28·expert = 4,187,440,704
    const ModelSpec& m = preset("gpt-oss-20b");
    const ParamBreakdown b = count_params(m);
    CHECK(b.total() == 20'914'757'184);
    CHECK(b.active == 4'187'440'704);
    CHECK(model_block(m) ==
          "  model   24 layers, d_model 2880, 64 heads (8 kv) × 64, d_ff 2880 swiglu, 32 experts top-4, rmsnorm, vocab "
          "201088, rotary positions\n"
          "          router and expert biases; attention: 12 sliding (128) + 12 global; attention sinks\n"
          "          20,914,757,184 parameters (20.9B), 4.19B active per token\n");
}

TEST_CASE("the other details: uniform windows, QK-norm kinds, gated shared experts, embedding norm", "[model_text]") {
    CHECK(model_detail_line(preset("mistral-7b")) == "attention: 32 sliding (4096)");
    CHECK(model_detail_line(preset("qwen3-8b")) == "QK-norm per head");
    CHECK(model_detail_line(preset("olmo-2-7b")) == "QK-norm full width");
    CHECK(model_detail_line(preset("bloom-560m")) == "embedding norm");
    CHECK(model_detail_line(preset("qwen1.5-moe-a2.7b")) == "24 MoE layers of 60 experts (1408) top-4 + gated shared (5632)");
    CHECK(model_shape_line(preset("qwen3-30b-a3b")) ==
          "48 layers, d_model 2048, 32 heads (4 kv) × 128, swiglu MLPs, rmsnorm, vocab 151936, rotary positions");
    ModelSpec m = preset("mixtral-8x7b");
    m.capacity_factor = 1.25;
    CHECK(model_detail_line(m) == "capacity factor 1.25");
    CHECK(qk_norm_text(QkNorm::none).empty());
    CHECK(softcap_text(preset("llama-2-7b")).empty());
}

TEST_CASE("plan and models print these lines, and models lists the active parameters", "[model_text][cli]") {
    const test::CliResult plan = test::run_cli({"plan", "--model", "deepseek-v3", "--gpus", "256", "--ep", "8", "--zero", "3"});
    INFO(plan.err);
    REQUIRE(plan.code == 0);
    CHECK(plan.out.find(model_block(preset("deepseek-v3"))) != std::string::npos);

    const test::CliResult one = test::run_cli({"models", "deepseek-v3"});
    REQUIRE(one.code == 0);
    for (const char* row :
         {"  attention                 MLA (q rank 1536, kv rank 512, qk 128 + 64 rope, v 128)\n",
          "  d_ff                      18432 (swiglu), in 3 dense layers\n",
          "  experts                   256 of 2048 (swiglu), top-8, in 58 of 61 layers\n",
          "  shared expert             2048\n", "  MTP modules               1 (trained, not served)\n",
          "    dense              1,189,085,184   0.2%\n", "    routed experts   653,908,770,816  97.4%\n",
          "    shared experts     2,554,331,136   0.4%\n", "    router               106,430,464   0.0%\n",
          "  active per token    37,552,282,624  37.6B\n", "  + MTP, not served   11,610,067,968  11.6B\n"}) {
        INFO(one.out);
        CHECK(one.out.find(row) != std::string::npos);
    }
    CHECK(test::run_cli({"models", "deepseek-v2-lite"}).out.find("  d_ff                      10944 (swiglu), in 1 dense layer\n") !=
          std::string::npos);
    const test::CliResult gemma = test::run_cli({"models", "gemma-3-27b"});
    CHECK(gemma.out.find("  attention layers             52 sliding (1024) + 10 global\n") != std::string::npos);
    CHECK(gemma.out.find("  QK-norm                      per head\n") != std::string::npos);
    CHECK(gemma.out.find("  norms per layer              4 (before and after attention and MLP)\n") != std::string::npos);

    const test::CliResult list = test::run_cli({"models"});
    REQUIRE(list.code == 0);
    CHECK(list.out.find("  name                parameters  active  layers") != std::string::npos);
    CHECK(list.out.find("  deepseek-v3               671B   37.6B      61     7168    128  128  18432  129280") !=
          std::string::npos);
    CHECK(list.out.find("  qwen3-30b-a3b            30.5B   3.35B      48     2048     32    4      -  151936") !=
          std::string::npos);
    CHECK(list.out.find("  llama-2-7b               6.74B              32     4096     32   32  11008   32000") !=
          std::string::npos);

    const test::CliResult infer = test::run_cli({"infer", "--model", "deepseek-v3", "--gpu", "h200", "--tp", "8",
                                                 "--weights", "fp8"});
    INFO(infer.err);
    REQUIRE(infer.code == 0);
    CHECK(infer.out.rfind("llmplan infer: deepseek-v3 (671B parameters, 37.6B active per token) on 8 × ", 0) == 0);
}

TEST_CASE("the README names every preset and, in order, every family --hf-config reads", "[model_text][docs]") {
    const std::string readme = read_text_file(std::string(LLMPLAN_SOURCE_DIR) + "/README.md", "README.md");
    for (const Preset& p : model_presets()) {
        INFO(p.name);
        CHECK(readme.find("`" + p.name + "`") != std::string::npos);
    }
    const std::string lead = "Families read (its `model_type`): ";
    const std::size_t at = readme.find(lead);
    REQUIRE(at != std::string::npos);
    std::string listed = readme.substr(at + lead.size(), readme.find(" (the last ", at) - at - lead.size());
    for (char& c : listed)
        if (c == '\n') c = ' ';
    std::string compact;  // the README wraps the list: one space between names
    for (char c : listed)
        if (c != ' ' || (!compact.empty() && compact.back() != ' ')) compact += c;
    CHECK(compact == join(supported_hf_model_types(), ", "));
}
