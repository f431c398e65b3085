// plan_json.h — the `llmplan plan` report as JSON (schema "llmplan.plan/1", docs/REPORTS.md).
#pragma once

#include "planner/memory.h"

#include <nlohmann/json.hpp>

namespace llmplan {

inline constexpr const char* kPlanSchema = "llmplan.plan/1";

// Top-level keys in reading order (schema first); nested objects are sorted by key.
nlohmann::ordered_json plan_to_json(const MemoryPlan& plan);

}  // namespace llmplan
