// json.h — JSON forms of the core types, shared by every report schema (llmplan.plan/1, ...).
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"

#include <nlohmann/json.hpp>

#include <string>

namespace llmplan {

nlohmann::json model_shape_json(const ModelSpec& m);       // every ModelSpec field

// The exact inverse of model_shape_json: model_shape_from_json(model_shape_json(m), ...) == m for
// every valid m (tests/test_model_json.cpp checks every preset). The fields model_shape_json always
// writes may be left out of a hand-written shape: kv_heads defaults to heads, head_dim to
// d_model / heads, experts and top_k to 1, the booleans to false, name to "custom", family to
// "llama"; the others default to ModelSpec's defaults (absent = not present in the model). Then
// validate_model. Every failure is one InputError line naming `what` and the field, e.g.
//   scenario.json model: "mla.kv_lora_rank" must be an integer
//   scenario.json model: unknown field "expert" (docs/REPORTS.md lists a shape's fields)
ModelSpec model_shape_from_json(const nlohmann::json& j, const std::string& what);
nlohmann::json param_breakdown_json(const ParamBreakdown& b);
nlohmann::json gpu_json(const GpuSpec& g);
nlohmann::json parallel_json(const ParallelLayout& p);      // incl. derived dp
nlohmann::json config_json(const TrainConfig& c);           // as resolved; "framework_options" only when given

// A byte count as a plain JSON number: an integer where it is one (exact below 2^53).
nlohmann::json bytes_json(double bytes);

// Finite outputs (docs/RELIABILITY.md): every JSON report passes check_report before it is printed
// or written. A NaN or an infinity anywhere (nlohmann would print it as null), a negative zero, or a
// negative number under a key that names an amount that cannot be negative (a key ending in
// "_bytes", "_seconds", "_flops", "_usd", "_hours" or "_per_second", but not "headroom…", or one
// named "parameters", "tokens", "days"; not below a key naming a difference: "error", "pct",
// "delta", "diff") is an llmplan bug: std::logic_error naming `what` and the key path, e.g.
//   plan report: $.perf.step_seconds is NaN (an llmplan bug: every reported number must be finite)
void check_report(const nlohmann::json& report, const std::string& what);
void check_report(const nlohmann::ordered_json& report, const std::string& what);

// check_report, then the text: report.dump(indent) + "\n". The one way a report becomes text.
std::string report_text(const nlohmann::json& report, const std::string& what, int indent = 2);
std::string report_text(const nlohmann::ordered_json& report, const std::string& what, int indent = 2);

// Parses a file's text that must hold a JSON object (parse_json_text, core/file.h: the position
// of a syntax error, the depth limit); InputError "WHAT: expected a JSON object" otherwise.
nlohmann::json parse_json_object(const std::string& text, const std::string& what);

}  // namespace llmplan
