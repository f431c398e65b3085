// accuracy.cpp — the bundled error bands (accuracy.h).
#include "planner/accuracy.h"

#include "core/accuracy_texts.h"
#include "core/quantity.h"
#include "core/text.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <vector>

namespace llmplan {

namespace {

std::vector<AccuracyBand> parse_bands() {
    std::vector<AccuracyBand> out;
    for (const AccuracyText& t : bundled_accuracy_texts()) {
        const nlohmann::json j = nlohmann::json::parse(t.json, nullptr, /*allow_exceptions=*/false);
        if (!j.is_object() || !j.contains("bands") || !j["bands"].is_array()) continue;
        const std::string source = j.value("source", std::string());
        for (const nlohmann::json& b : j["bands"]) {
            try {
                AccuracyBand a;
                a.models = b.at("models").get<std::string>();
                a.planned = b.at("planned").get<std::string>();
                a.profile = b.value("profile", std::string());
                a.runs = b.at("runs").get<int>();
                a.gpus_min = b.at("gpus").at(0).get<int>();
                a.gpus_max = b.at("gpus").at(1).get<int>();
                a.median_abs = b.at("median_abs").get<double>();
                a.p80_abs = b.at("p80_abs").get<double>();
                a.p90_abs = b.at("p90_abs").get<double>();
                a.mean_signed = b.at("mean_signed").get<double>();
                a.source = source;
                out.push_back(std::move(a));
            } catch (const nlohmann::json::exception&) {
                // a malformed band is left out (tests/test_accuracy.cpp checks the bundled file has none)
            }
        }
    }
    return out;
}

}  // namespace

std::optional<AccuracyBand> accuracy_band(const ModelSpec& model, const TrainConfig& config) {
    static const std::vector<AccuracyBand> bands = parse_bands();
    const Framework f = config.framework;
    const bool profiled = megatron_family(f) || f == Framework::torchtitan;
    const char* planned = f == Framework::generic                   ? "generic"
                          : profiled && config.framework_options.empty() ? "defaults"
                          : profiled                                 ? "framework"
                                                                     : nullptr;
    if (!planned) return std::nullopt;
    const std::string models = model.is_moe() ? "moe" : "dense";
    const std::string profile = std::string(planned) == "defaults" ? to_string(f) : "";
    for (const AccuracyBand& b : bands)
        if (b.models == models && b.planned == planned && b.profile == profile && b.runs > 0) return b;
    return std::nullopt;
}

std::pair<double, double> throughput_range_80(const AccuracyBand& band, double predicted) {
    return {predicted / (1 + band.p80_abs), band.p80_abs < 1 ? predicted / (1 - band.p80_abs) : 0.0};
}

AccuracyBandText describe(const AccuracyBand& b, double per_gpu) {
    const auto [lo, hi] = throughput_range_80(b, per_gpu);
    const auto pct = [](double v) { return format_fixed(100 * v, 1) + "%"; };
    AccuracyBandText t;
    t.range = hi > 0 ? format_count(lo) + "–" + format_count(hi) : "≥ " + format_count(lo);
    t.how = "per GPU, where 80% of " + std::to_string(b.runs) + " held-out published " + (b.models == "moe" ? "MoE" : "dense") +
            " training runs (" + std::to_string(b.gpus_min) + "–" + format_int(b.gpus_max) + " GPUs) planned like this (" +
            (b.planned == "generic"    ? std::string("generic")
             : b.planned == "defaults" ? "naming --framework " + b.profile + " and nothing else"
                                       : std::string("with their framework's profile and their recipes' settings")) +
            ") measured: median |error| " +
            pct(b.median_abs) + ", 80% within ±" + pct(b.p80_abs) + ", predicted " + pct(std::abs(b.mean_signed)) +
            (b.mean_signed >= 0 ? " above" : " below") + " the measured on average (" + b.source + ")";
    return t;
}

}  // namespace llmplan
