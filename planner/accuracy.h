// accuracy.h — how far llmplan's throughput has been from measured training runs like the one
// planned: the error bands of the held-out published runs (validation/published/, never used to
// fit anything), by kind of model (dense or MoE) and by how they were planned (generic, or with the
// run's framework profile). `plan` prints the band beside its throughput (docs/REPORTS.md,
// time.accuracy; docs/validation/published_runs.md for the runs).
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <optional>
#include <string>

namespace llmplan {

struct AccuracyBand {
    std::string models;         // "dense" or "moe"
    std::string planned;        // "generic"; "framework" (the run's own profile with its recipe's settings:
                                // megatron, torchtitan); "defaults" (the profile named, no --framework-option)
    std::string profile;        // "defaults" bands: the profile named (megatron-bridge, megatron, torchtitan)
    int runs = 0;               // held-out runs in the band
    int gpus_min = 0, gpus_max = 0;
    double median_abs = 0;      // median |error|
    double p80_abs = 0;         // 80% of the runs within ±this
    double p90_abs = 0;
    double mean_signed = 0;     // + : llmplan predicted faster than measured
    std::string source;         // where the runs and their errors are listed
};

// The band for a plan of `model` under `config`: generic plans take the generic band; the megatron,
// megatron-bridge and torchtitan profiles the "framework" band when --framework-option settings are
// given (the runs planned with their recipes' settings) and, when none are, the "defaults" band of
// the profile named (the runs planned naming that profile and nothing else: under megatron the
// Megatron-LM runs and the NeMo runs planned with it; none where no held-out run of that kind of
// model was, e.g. torchtitan MoE); other profiles (pytorch, deepspeed, llmplan), which no published
// run of the set was planned with, none. Throws nothing: a bundled
// file that does not parse gives none (the build's tests check it does).
std::optional<AccuracyBand> accuracy_band(const ModelSpec& model, const TrainConfig& config);

// Per-GPU throughput t predicted: the measured throughputs 80% of the band's runs would allow,
// [t ÷ (1 + p80), t ÷ (1 − p80)] (error = predicted ÷ measured − 1); the upper end 0 where p80 ≥ 1
// (no upper bound).
std::pair<double, double> throughput_range_80(const AccuracyBand& band, double predicted);

// The band in words for a plan of `per_gpu` tokens/s per GPU, as `plan` and the GUI show it:
// `range` ("1.3K–1.66K"), `how` (the runs, their median and 80% |error| and mean, the source).
struct AccuracyBandText {
    std::string range;
    std::string how;
};
AccuracyBandText describe(const AccuracyBand& band, double per_gpu);

}  // namespace llmplan
