// scenario.h — what the GUI's inputs describe, and the one call that plans it.
//
// A Scenario is the inputs panel as plain values (no Qt): the model (a preset, a Hugging Face
// config.json, a parameter count or an explicit shape from a saved scenario), the GPU and cluster,
// the parallel layout and the job. evaluate() hands it to the planner exactly as `llmplan plan`
// does (plan_memory, default_cluster, plan_perf) and returns what the planner computed; the GUI
// computes nothing itself. Invalid inputs throw the planner's InputError, whose message names the
// CLI flag of the field at fault.
//
// Scenario files are JSON with the keys of the `inputs` object of an `llmplan plan` report
// (docs/REPORTS.md) plus `model_source` and `run`; a whole plan report loads as a scenario too.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace llmplan::gui {

enum class ModelSource { preset, hf_config, params, shape };
const char* to_string(ModelSource s);

struct Scenario {
    ModelSource source = ModelSource::preset;
    std::string model = "llama-2-7b";  // preset name | config.json path | parameter count ("7B")
    ModelSpec shape;                    // source == shape: the shape a scenario file carried
    std::string gpu = "h100-sxm";
    int gpus = 8, gpus_per_node = 8;
    int tp = 1, pp = 1, cp = 1, ep = 1, virtual_stages = 1, zero = 1;
    bool sp = false;
    std::string precision;  // empty: the framework's default (mixed-bf16; amp-bf16 for pytorch)
    std::string optimizer = "adamw", recompute = "none", attention = "flash", offload = "none", framework = "generic";
    double dropout = 0;
    std::int64_t micro_batch = 1;
    std::int64_t global_batch = 0;  // 0: micro-batch × dp × pp
    std::int64_t seq = 0;           // 0: the model's context, at most 4096
    std::string tokens;             // training tokens ("2T"); empty: 20 per parameter
    std::string price;              // USD per GPU-hour; empty: the planner's default
    friend bool operator==(const Scenario&, const Scenario&) = default;
};

// Everything the planner returned for a scenario.
struct Evaluation {
    ModelSpec model;
    std::string origin;  // "preset llama-2-7b", "--hf-config x.json", "--params 7B", "scenario shape"
    bool derived = false;
    GpuSpec gpu;
    MemoryPlan memory;
    ClusterSpec cluster;
    PerfOptions perf_options;
    PerfPlan perf;
    double seconds = 0;  // wall time of the planner calls
};

// The model, GPU and training config a scenario names (throws InputError).
ModelSpec resolve_model(const Scenario& s, std::string* origin = nullptr, bool* derived = nullptr);
TrainConfig resolve_config(const Scenario& s);

// Plans the scenario: plan_memory, then plan_perf on default_cluster(gpu). Throws InputError.
Evaluation evaluate(const Scenario& s);

// The same report `llmplan plan --json` writes (schema llmplan.plan/1).
nlohmann::ordered_json report_json(const Evaluation& e);

// Scenario JSON. With an evaluation, seq and global_batch are written as resolved.
nlohmann::ordered_json scenario_to_json(const Scenario& s, const Evaluation* resolved = nullptr);
// Reads a scenario, or the `inputs` of a plan report. Throws InputError naming `what` and the key.
Scenario scenario_from_json(const nlohmann::json& j, const std::string& what);
Scenario load_scenario_file(const std::string& path);
// Writes text to path atomically (temporary + rename); throws InputError on failure.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace llmplan::gui
