// The error bands `plan` prints beside its throughput (planner/accuracy.h): the bundled file
// (validation/published/accuracy_published.json, written by run.py --write and checked against
// results.json by the ctest test validation.published_runs) parses, and the right band is chosen.
#include "planner/accuracy.h"

#include "core/accuracy_texts.h"
#include "core/presets.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace llmplan;

TEST_CASE("accuracy: the bundled bands parse whole and are sane", "[accuracy]") {
    REQUIRE(bundled_accuracy_texts().size() == 1);
    CHECK(bundled_accuracy_texts().front().key == "published");
    const nlohmann::json j = nlohmann::json::parse(bundled_accuracy_texts().front().json);
    CHECK(j.at("schema") == "llmplan.accuracy/1");
    // dense: generic, framework, defaults of megatron-bridge, megatron, torchtitan; moe: the same
    // but torchtitan (no held-out torchtitan MoE run).
    REQUIRE(j.at("bands").size() == 9);
    for (const nlohmann::json& b : j.at("bands")) {
        CAPTURE(b.dump());
        CHECK(b.at("runs").get<int>() > 10);
        const double med = b.at("median_abs"), p80 = b.at("p80_abs"), p90 = b.at("p90_abs");
        CHECK(std::isfinite(b.at("mean_signed").get<double>()));
        CHECK(0 < med);
        CHECK(med <= p80);
        CHECK(p80 <= p90);
        CHECK(p90 < 1);
    }
}

TEST_CASE("accuracy: a plan takes its kind of model's band, generic or profile, and none for other profiles", "[accuracy]") {
    const ModelSpec dense = preset_or_throw("llama-3-70b", "--model"), moe = preset_or_throw("qwen3-30b-a3b", "--model");
    // With a framework option given (a recipe's settings): the profile's band; without: the band of
    // the runs planned naming the profile and nothing else.
    const auto band = [](const ModelSpec& m, Framework f, bool options = true) {
        TrainConfig c;
        c.framework = f;
        if (options) c.framework_options = {{"overlap_param_gather", "true"}};
        return accuracy_band(m, c);
    };
    REQUIRE(band(dense, Framework::generic, false));
    CHECK(band(dense, Framework::generic, false)->models == "dense");
    CHECK(band(dense, Framework::generic, false)->planned == "generic");
    CHECK(band(dense, Framework::megatron)->planned == "framework");
    CHECK(band(dense, Framework::megatron_bridge)->planned == "framework");
    CHECK(band(dense, Framework::torchtitan)->planned == "framework");
    CHECK(band(dense, Framework::megatron, false)->planned == "defaults");
    // The defaults band is the profile named's: NeMo runs under megatron-bridge, the Megatron-LM runs
    // and the NeMo runs under megatron, torchtitan's own.
    CHECK(band(dense, Framework::megatron, false)->profile == "megatron");
    CHECK(band(dense, Framework::megatron_bridge, false)->profile == "megatron-bridge");
    CHECK(band(dense, Framework::torchtitan, false)->profile == "torchtitan");
    CHECK(band(moe, Framework::megatron, false)->runs > band(moe, Framework::megatron_bridge, false)->runs);
    CHECK(band(dense, Framework::megatron)->profile.empty());  // recipe settings: one band for all profiles
    CHECK_FALSE(band(moe, Framework::torchtitan, false));      // no held-out torchtitan MoE run
    CHECK(band(moe, Framework::megatron_bridge, false)->planned == "defaults");
    CHECK(band(moe, Framework::megatron_bridge, false)->models == "moe");
    CHECK(band(moe, Framework::megatron)->models == "moe");
    CHECK(band(moe, Framework::generic)->models == "moe");
    CHECK(band(moe, Framework::generic)->source == "docs/validation/published_runs.md");
    // No published run of the set was planned with these profiles.
    CHECK_FALSE(band(dense, Framework::pytorch));
    CHECK_FALSE(band(dense, Framework::deepspeed));
    CHECK_FALSE(band(dense, Framework::llmplan));
}

TEST_CASE("accuracy: the 80% range of the measured throughput, by hand", "[accuracy]") {
    // error = predicted ÷ measured − 1 within ±p80: measured in [t ÷ (1 + p80), t ÷ (1 − p80)].
    AccuracyBand b;
    b.p80_abs = 0.25;
    const auto [lo, hi] = throughput_range_80(b, 1000);
    CHECK(lo == Approx(800).epsilon(1e-12));
    CHECK(hi == Approx(1333.3333333333).epsilon(1e-12));
    b.p80_abs = 1.2;  // no upper bound: 0
    CHECK(throughput_range_80(b, 1000).second == 0);
    CHECK(throughput_range_80(b, 1000).first == Approx(1000 / 2.2).epsilon(1e-12));
}
