// report.h — every JSON report llmplan writes is built here (layouts: docs/REPORTS.md): the
// schema names, the common header, and each report's sections. The CLI (cli/cmd_*.cpp) and the
// GUI (gui/scenario.cpp's plan report, the inference export) print or write what these return,
// so a field is added in one place. Top-level keys keep their reading order (ordered_json);
// nested objects built from nlohmann::json are sorted by key, as the reports always were.
// The profiler's own files (llmplan.nccl_busbw/1, llmplan.calibration/1) are built beside their
// measurements in profiler/comm_bench and profiler/calibrate.
#pragma once

#include "core/gpu.h"
#include "core/model.h"
#include "core/presets.h"
#include "planner/infer.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "planner/scaling.h"
#include "planner/scaling_fit.h"
#include "planner/search.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <string>
#include <vector>

namespace llmplan {

inline constexpr const char* kPlanSchema = "llmplan.plan/1";        // plan --json / --report, the GUI's export
inline constexpr const char* kInferSchema = "llmplan.infer/1";      // infer --json / --report, the GUI's export
inline constexpr const char* kSearchSchema = "llmplan.search/1";    // search --json
inline constexpr const char* kScalingSchema = "llmplan.scaling/1";  // scaling --json
inline constexpr const char* kProfileSchema = "llmplan.profile/1";  // profile --json / --report
inline constexpr const char* kGpusSchema = "llmplan.gpus/1";        // gpus --json
inline constexpr const char* kModelsSchema = "llmplan.models/1";    // models --json
inline constexpr const char* kModelSchema = "llmplan.model/1";      // models NAME --json

// The header a report starts with: "schema", then (for a report about one model) "model"
// {"name", "origin"} — origin as the user chose the model ("preset llama-3-8b", "--hf-config x.json").
nlohmann::ordered_json report_header(const char* schema);
nlohmann::ordered_json report_header(const char* schema, const std::string& model_name, const std::string& origin);

// ---- llmplan.plan/1 ----------------------------------------------------------------------------
// The whole training report: inputs, model (with origin and derived), gpu, memory, warnings,
// compute, communication, time (with "calibration" when a file was given), training, and lora
// when the job has adapters.
nlohmann::ordered_json plan_to_json(const MemoryPlan& plan, const PerfPlan& perf, const ClusterSpec& cluster,
                                    const std::string& origin, bool derived, const std::string& calibration = "");
// One finetune_comparison[] row of plan --compare-finetune.
nlohmann::json finetune_row_json(const std::string& method, double trainable_parameters, const MemoryPlan& plan,
                                 const PerfPlan& perf);

// ---- llmplan.infer/1 ---------------------------------------------------------------------------
nlohmann::ordered_json infer_to_json(const InferPlan& plan, const std::string& origin);

// ---- llmplan.search/1 --------------------------------------------------------------------------
nlohmann::ordered_json search_to_json(const SearchResult& result, const std::string& model_name,
                                      const std::string& origin, const std::string& gpu, int gpus);

// ---- llmplan.scaling/1 (sections; cli/cmd_scaling.cpp assembles them per question) -------------
nlohmann::json scaling_optimum_json(const ComputeOptimum& o);
nlohmann::json scaling_law_json(const LawChoice& law);
nlohmann::ordered_json scaling_fit_law_json(const FitResult& fit);   // "law" of a --fit report
nlohmann::ordered_json scaling_fit_json(const FitResult& fit);       // "fit", with tokens per parameter at 5.76e23 FLOPs
nlohmann::ordered_json scaling_budget_json(const std::string& gpu, double gpu_hours, double mfu, double peak_flops);
nlohmann::ordered_json scaling_assessment_json(double parameters, double tokens, const RunAssessment& a);
nlohmann::ordered_json scaling_inference_json(double target_loss, double inference_tokens, const InferenceAware& ia);
nlohmann::json scaling_isoflop_json(double compute, const ComputeOptimum& optimal, const std::vector<IsoflopPoint>& points);
nlohmann::json scaling_architecture_json(const ModelSpec& m);  // the --params shape of the answer

// ---- llmplan.gpus/1, llmplan.models/1, llmplan.model/1 -----------------------------------------
nlohmann::json gpus_to_json(const std::deque<GpuSpec>& catalog);
nlohmann::json models_to_json(const std::vector<Preset>& presets);
nlohmann::json model_to_json(const ModelSpec& m, const Preset* preset);  // preset: adds its "source"

// What a measured run was (the model and the job), as far as its report says: an `llmplan
// profile --json` report's model.name and job (micro_batch, seq, precision, recompute, gpus, tp,
// pp), or the same keys at the top of any JSON ("model" may be a name). Empty or unset: unknown.
struct MeasuredRun {
    std::string model;
    std::string precision, recompute;
    std::int64_t micro_batch = 0, seq = 0, gpus = 0, tp = 0, pp = 0;  // 0: not in the report
};
MeasuredRun measured_run_from_json(const nlohmann::json& report);
// How the measured run differs from the plan ("model gpt2-350m, not llama-3-70b", "micro-batch 8,
// not 1", …): measurements compare with a plan only where this is empty. Unknown fields match.
std::vector<std::string> measured_run_mismatches(const MeasuredRun& run, const MemoryPlan& plan);

}  // namespace llmplan
