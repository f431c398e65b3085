// json.h — JSON forms of the core types, shared by every report schema (llmplan.plan/1, ...).
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"

#include <nlohmann/json.hpp>

#include <string>

namespace llmplan {

nlohmann::json model_shape_json(const ModelSpec& m);       // every ModelSpec field
nlohmann::json param_breakdown_json(const ParamBreakdown& b);
nlohmann::json gpu_json(const GpuSpec& g);
nlohmann::json parallel_json(const ParallelLayout& p);      // incl. derived dp
nlohmann::json config_json(const TrainConfig& c);           // as resolved

// A byte count as a plain JSON number: an integer where it is one (exact below 2^53).
nlohmann::json bytes_json(double bytes);

// Parses a file's text that must hold a JSON object (parse_json_text, core/file.h: the position
// of a syntax error, the depth limit); InputError "WHAT: expected a JSON object" otherwise.
nlohmann::json parse_json_object(const std::string& text, const std::string& what);

}  // namespace llmplan
