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
#include "core/gpu.h"
#include "core/model.h"
#include "planner/infer.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace llmplan::gui {

enum class ModelSource { preset, hf_config, params, shape };
const char* to_string(ModelSource s);

// Training (plan_memory + plan_perf, as `llmplan plan`) or serving (plan_inference, as `llmplan infer`).
enum class Mode { training, inference };
const char* to_string(Mode m);

// The serving inputs: the flags of `llmplan infer` as plain values (cli/cmd_infer.cpp).
struct InferInputs {
    std::string weights = "bf16";  // --weights
    int group_size = 128;          // --group-size (int4/int3)
    bool double_quant = true;      // not --no-double-quant (nf4)
    std::string kv_cache;          // --kv-cache; empty: bf16 (fp32 for fp32 weights), as the CLI
    std::int64_t batch = 1, prompt = 512, generate = 256;
    std::int64_t prefill_chunk = 0;  // 0: whole prompts of the batch
    int tp = 1;
    std::string attention = "flash", framework = "generic";  // framework: generic | hf | vllm
    double gpu_memory_utilization = 0.9;
    int block_size = 16;
    friend bool operator==(const InferInputs&, const InferInputs&) = default;
};

// The member values only make a Scenario well-formed: default_scenario() is where the GUI starts.
struct Scenario {
    Mode mode = Mode::training;
    ModelSource source = ModelSource::preset;
    std::string model = "llama-2-7b";  // preset name | config.json path | parameter count ("7B")
    ModelSpec shape;                    // source == shape: the shape a scenario file carried
    std::string gpu = kDefaultGpu;
    int gpus = 8, gpus_per_node = 8;
    int tp = 1, pp = 1, cp = 1, ep = 1, virtual_stages = 1, zero = 1;
    int etp = 0;  // the routed experts' tensor-parallel size (--etp): 1, or 0 for tp (the default)
    bool sp = false;
    std::string precision;  // empty: the framework's default (mixed-bf16; amp-bf16 for pytorch)
    std::string optimizer = "adamw", recompute = "none", attention = "flash", offload = "none", framework = "generic";
    int offload_activations = 0;  // --offload-activations: layers whose activations go to CPU memory
    double dropout = 0;
    std::int64_t micro_batch = 1;
    std::int64_t global_batch = 0;  // 0: micro-batch × dp × pp
    std::int64_t seq = 0;           // 0: the model's context, at most 4096
    std::string tokens;             // training tokens ("2T"); empty: 20 per parameter
    std::string price;              // USD per GPU-hour; empty: the planner's default
    // LoRA / QLoRA (--lora-rank, 0: full training; --lora-alpha; --lora-targets; --base-quant; --paged-optimizer).
    int lora_rank = 0;
    double lora_alpha = 16;
    std::string lora_targets = "q,v", base_quant = "none";
    bool paged_optimizer = false;
    InferInputs infer;  // mode == inference (the model and GPU are shared)
    friend bool operator==(const Scenario&, const Scenario&) = default;
};

// The model the GUI opens on: the CLI requires one, so this is the GUI's own choice, a preset that
// fits one GPU of kDefaultGpu for full training with the CLI's defaults (a green first screen).
inline constexpr const char* kStartModel = "tinyllama-1.1b";

// The scenario the window opens on and a scenario file's missing keys fall back to: every job and
// serving field as the CLI defaults it (core/job_text.h JobText, planner/infer.h InferText,
// core/gpu.h kDefaultGpu), read from those structs, not copied; the model kStartModel.
Scenario default_scenario();
// Sets the scenario's layout fields (tp, pp, cp, ep, virtual stages, ZeRO stage, sequence
// parallelism) from a layout; the GPU count and GPUs per node stay as they are.
void set_layout(Scenario& s, const ParallelLayout& p);

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

// What plan_inference returned for a scenario in inference mode.
struct InferEvaluation {
    ModelSpec model;
    std::string origin;
    bool derived = false;
    GpuSpec gpu;
    InferPlan plan;     // plan.config: the InferConfig as planned
    double seconds = 0;  // wall time of the planner call
};

// The model, GPU and training config a scenario names (throws InputError).
ModelSpec resolve_model(const Scenario& s, std::string* origin = nullptr, bool* derived = nullptr);
TrainConfig resolve_config(const Scenario& s);
// The serving config, built as `llmplan infer` builds it from its flags (throws InputError).
InferConfig resolve_infer_config(const Scenario& s);

// Plans the scenario: plan_memory, then plan_perf on default_cluster(gpu). Throws InputError.
Evaluation evaluate(const Scenario& s);
// Plans the serving scenario: plan_inference. Throws InputError.
InferEvaluation evaluate_inference(const Scenario& s);

// Trainable parameters: count_lora's adapter count with LoRA, else every parameter.
double trainable_parameters(const Evaluation& e);

// The same report `llmplan plan --json` writes (schema llmplan.plan/1), `lora` included.
nlohmann::ordered_json report_json(const Evaluation& e);

// Scenario JSON. With an evaluation, seq and global_batch are written as resolved. `mode` and
// `inference` (the keys of an `llmplan infer --json` report's `inputs`) are written always.
nlohmann::ordered_json scenario_to_json(const Scenario& s, const Evaluation* resolved = nullptr);
// Reads a scenario, or the `inputs` of a plan report. Throws InputError naming `what` and the key.
Scenario scenario_from_json(const nlohmann::json& j, const std::string& what);
Scenario load_scenario_file(const std::string& path);

}  // namespace llmplan::gui
