// test_config.cpp — flag values of the training config, defaults and combination checks.
#include "core/config.h"

#include "core/error.h"
#include "core/json.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

using namespace llmplan;

TEST_CASE("enum flag values round-trip and suggest on typos", "[config]") {
    for (const std::string& name : precision_names()) CHECK(to_string(parse_precision(name, "--precision")) == name);
    for (const std::string& name : optimizer_names()) CHECK(to_string(parse_optimizer(name, "--optimizer")) == name);
    CHECK(parse_precision("AMP-BF16", "--precision") == Precision::amp_bf16);
    CHECK(parse_offload("optimizer+params", "--offload") == Offload::optimizer_params);
    CHECK_THROWS_WITH(parse_precision("bf61", "--precision"),
                      Catch::Contains("--precision: unknown precision \"bf61\"") && Catch::Contains("did you mean \"bf16\"?"));
    CHECK_THROWS_WITH(parse_optimizer("adamw8bit", "--optimizer"), Catch::Contains("did you mean \"adamw-8bit\"?"));
    CHECK_THROWS_WITH(parse_recompute("some", "--recompute"), Catch::Contains("choose one of none, selective, full"));
}

TEST_CASE("framework names: --framework takes the names people give the stacks: nemo, Megatron-LM, megatron_bridge, hf", "[config]") {
    for (const std::string& name : framework_names()) CHECK(to_string(parse_framework(name, "--framework")) == name);
    CHECK(parse_framework("nemo", "--framework") == Framework::megatron_bridge);
    CHECK(parse_framework(" NeMo ", "--framework") == Framework::megatron_bridge);
    CHECK(parse_framework("megatron_bridge", "--framework") == Framework::megatron_bridge);
    CHECK(parse_framework("Megatron-LM", "--framework") == Framework::megatron);
    CHECK(parse_framework("megatron_core", "--framework") == Framework::megatron);
    CHECK(parse_framework("mcore", "--framework") == Framework::megatron);
    CHECK(parse_framework("transformers", "--framework") == Framework::pytorch);
    CHECK(parse_framework("HF", "--framework") == Framework::pytorch);
    CHECK(framework_aliases().find("nemo = megatron-bridge") == 0);
    // A name no profile or alias has is refused with the closest profile and the profiles' names.
    CHECK_THROWS_WITH(parse_framework("nemoo", "--framework"),
                      Catch::Contains("--framework: unknown framework \"nemoo\"") &&
                          Catch::Contains("choose one of generic, pytorch, llmplan, megatron, megatron-bridge, deepspeed, torchtitan"));
    CHECK_THROWS_AS(parse_framework("fsdp", "--framework"), InputError);
}

TEST_CASE("defaults: sequence from the model, one micro-batch per pipeline stage", "[config]") {
    const ModelSpec gpt2 = preset_or_throw("gpt2-124m", "t");
    const ModelSpec llama3 = preset_or_throw("llama-3-8b", "t");
    CHECK(default_seq(gpt2) == 1024);
    CHECK(default_seq(llama3) == 4096);  // 8192 positions, capped at 4096
    TrainConfig c;
    c.parallel.gpus = 16;
    c.parallel.pp = 2;
    c.micro_batch = 2;
    const TrainConfig r = resolve_defaults(llama3, c);
    CHECK(r.global_batch == 2 * 8 * 2);
    CHECK(r.grad_accum() == 2);
}

TEST_CASE("a layout whose tp × pp × cp overflows an int has no data parallelism and is refused", "[config][errors]") {
    // tp, pp and cp may each be up to 2^24 (core/job_text.cpp); their product used to overflow in
    // dp() (found by fuzz/fuzz_job_text under UBSan).
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    TrainConfig c;
    c.parallel.gpus = 1 << 24;
    c.parallel.tp = c.parallel.pp = 1 << 24;
    c.parallel.cp = 1 << 10;
    CHECK(c.parallel.dp() == 0);
    const TrainConfig r = resolve_defaults(m, c);
    CHECK(r.global_batch == 0);  // no default from a layout without data parallelism
    CHECK_THROWS_WITH(validate_config(m, r), Catch::Contains("--gpus 16777216 is not divisible by tp × pp × cp = 288230376151711744"));
}

TEST_CASE("tp × pp × cp beyond int64 has no data parallelism and is refused without overflow", "[config][errors]") {
    // tp 6,409,664 × pp 6,410,964 × cp 640,296 ≈ 2.6e19 > 2^63 (found by fuzz/fuzz_job_text under
    // UBSan in dp(), resolve_defaults and validate_config).
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    TrainConfig c;
    c.parallel.gpus = 6;
    c.parallel.tp = 6409664;
    c.parallel.pp = 6410964;
    c.parallel.cp = 640296;
    CHECK(c.parallel.dp() == 0);
    const TrainConfig r = resolve_defaults(m, c);
    CHECK(r.global_batch == 0);
    CHECK_THROWS_WITH(validate_config(m, r),
                      Catch::Contains("--gpus 6 is not divisible by tp × pp × cp = 6409664 × 6410964 × 640296"));
    // Sizes below 1 have no data parallelism either (validate_config refuses them by name).
    c.parallel.tp = 0;
    CHECK(c.parallel.dp() == 0);
    // A default global batch past int64 is refused in one line.
    TrainConfig big;
    big.parallel.gpus = 1 << 30;
    big.parallel.pp = 1;
    big.parallel.virtual_stages = 1 << 30;
    big.micro_batch = std::int64_t{1} << 40;
    CHECK_THROWS_WITH(resolve_defaults(m, big), Catch::StartsWith("--micro-batch 1099511627776: the default global batch"));
}

TEST_CASE("grad_accum of a layout without data parallelism is 0, and its JSON is written", "[config][errors]") {
    // 8 GPUs, tp 8 × pp 2: dp 0. grad_accum() divided by it (SIGFPE) when the GUI wrote such a
    // scenario before validating it (found by fuzz/fuzz_scenario under UBSan).
    TrainConfig c;
    c.parallel.gpus = 8;
    c.parallel.tp = 8;
    c.parallel.pp = 2;
    c.global_batch = 512;
    CHECK(c.parallel.dp() == 0);
    CHECK(c.grad_accum() == 0);
    CHECK(config_json(c)["grad_accum"] == 0);
    c.parallel.pp = 1;
    CHECK(c.grad_accum() == 512);
}

TEST_CASE("validate_config: errors name the flag, warnings do not stop", "[config][errors]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    auto check = [&](TrainConfig c) { return validate_config(m, resolve_defaults(m, c)); };
    TrainConfig c;
    c.parallel.gpus = 8;
    c.parallel.pp = 3;
    c.parallel.gpus = 6;
    // 32 layers over 3 stages: planned (33 = 32 + the loss over 3: 11, 11, 10) with a warning.
    const std::vector<std::string> pp_warnings = check(c);
    REQUIRE(pp_warnings.size() == 1);
    CHECK(pp_warnings[0] ==
          "--pp 3 does not divide the 32 layers of the llama-2-7b model: planned with uneven stages of 11,11,10 layers "
          "(the loss counted as a layer, as --account-for-loss-in-pipeline-split); --pp-layers or --pp-first-last set them");
    // Fewer layers than stages: refused.
    c.parallel.pp = 34;
    c.parallel.gpus = 34;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--pp 34 does not divide the 32 layers"));
    c = TrainConfig{};
    c.parallel.gpus = 2;
    c.parallel.ep = 2;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--ep 2 needs a mixture-of-experts model"));
    c = TrainConfig{};
    c.parallel.gpus = 2;
    c.parallel.cp = 2;
    c.attention = Attention::eager;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--cp 2 needs --attention flash"));
    c = TrainConfig{};
    c.parallel.gpus = 4;
    c.global_batch = 6;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--global-batch 6 is not a multiple of --micro-batch × data parallel"));
    c = TrainConfig{};
    c.seq = 2048;
    CHECK_THROWS_WITH(validate_config(preset_or_throw("gpt2-124m", "t"), resolve_defaults(m, c)),
                      Catch::Contains("--seq 2048 exceeds the 1024 learned positions"));
    c = TrainConfig{};
    c.parallel.zero = 3;
    const auto warnings = check(c);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("ZeRO-3 on a single data-parallel rank shards nothing") != std::string::npos);
    c = TrainConfig{};
    c.parallel.gpus = 2;
    c.parallel.tp = 2;
    c.parallel.sp = true;
    c.seq = 4095;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--seq 4095 is not divisible by --tp 2"));
}

TEST_CASE("config: --etp is 1 or tp, needs an MoE model and sequence parallelism, and lets ep span tp", "[config][moe]") {
    const ModelSpec moe = preset_or_throw("qwen3-30b-a3b", "t");  // 128 experts of 768
    auto check = [&](const TrainConfig& c) { return validate_config(moe, resolve_defaults(moe, c)); };
    TrainConfig c;
    c.parallel.gpus = 16;
    c.parallel.tp = 2;
    c.parallel.sp = true;
    c.parallel.ep = 16;  // does not divide dp 8 ...
    {
        // ... so with no --etp given, llmplan plans the only layout that fits, etp 1, and says so.
        const TrainConfig r = resolve_defaults(moe, c);
        CHECK(r.parallel.etp == 1);
        CHECK(r.parallel.etp_chosen_by_llmplan);
        const std::vector<std::string> w = validate_config(moe, r);
        REQUIRE(w.size() == 1);
        CHECK(w[0].find("--ep 16 does not divide data × context parallel = 8") != std::string::npos);
        CHECK(w[0].find("planned with --etp 1") != std::string::npos);
        // Without --sp (which Megatron-Core requires for MoE under tp), nothing is chosen: refused.
        TrainConfig no_sp = c;
        no_sp.parallel.sp = false;
        CHECK(resolve_defaults(moe, no_sp).parallel.etp == 0);
        CHECK_THROWS_WITH(check(no_sp), Catch::Contains("--ep 16 does not divide data × context parallel = 8") &&
                                            Catch::Contains("--etp 1"));
        // ep that fits with etp = tp: Megatron-Core's default kept.
        TrainConfig fits = c;
        fits.parallel.ep = 8;
        CHECK(resolve_defaults(moe, fits).parallel.etp == 0);
        CHECK_FALSE(resolve_defaults(moe, fits).parallel.etp_chosen_by_llmplan);
    }
    c.parallel.etp = 1;  // ... but divides tp × cp × dp = 16 once the experts are whole
    CHECK_NOTHROW(check(c));
    CHECK(c.parallel.expert_shard_group() == 1);
    c.parallel.ep = 32;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--ep 32 does not divide tp × cp × dp = 16"));
    c.parallel.ep = 16;
    c.parallel.sp = false;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--etp 1 with --tp 2 needs --sp"));
    c.parallel.sp = true;
    c.parallel.tp = 4;
    c.parallel.etp = 2;
    CHECK_THROWS_WITH(check(c), Catch::Contains("--etp 2 must be 1 or --tp 4"));
    TrainConfig d;
    d.parallel.gpus = 2;
    d.parallel.tp = 2;
    d.parallel.sp = true;
    d.parallel.etp = 1;
    CHECK_THROWS_WITH(validate_config(preset_or_throw("gpt2-124m", "t"), resolve_defaults(preset_or_throw("gpt2-124m", "t"), d)),
                      Catch::Contains("--etp 1 needs a mixture-of-experts model"));
}
