// plan_json.h — the `llmplan plan` report as JSON (schema "llmplan.plan/1", docs/REPORTS.md).
#pragma once

#include "planner/memory.h"
#include "planner/infer.h"
#include "planner/perf.h"

#include <string>

#include <nlohmann/json.hpp>

namespace llmplan {

inline constexpr const char* kPlanSchema = "llmplan.plan/1";

// Top-level keys in reading order (schema first); nested objects are sorted by key.
nlohmann::ordered_json plan_to_json(const MemoryPlan& plan);

// The `llmplan infer` report (schema "llmplan.infer/1", docs/REPORTS.md); `origin` says how the
// model was chosen ("preset llama-3-8b", "--hf-config x.json").
nlohmann::ordered_json infer_to_json(const InferPlan& plan, const std::string& origin);

// Adds the compute / communication / time / training sections (issue 4) to a plan report.
void add_perf_json(nlohmann::ordered_json& report, const PerfPlan& perf, const ClusterSpec& cluster);

}  // namespace llmplan
