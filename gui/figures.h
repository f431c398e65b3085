// figures.h — the numbers the GUI shows, read off an Evaluation, with their display text.
// Display only: every value is a field the planner filled in (nothing is recomputed here).
#pragma once

#include "core/quantity.h"
#include "gui/scenario.h"

#include <map>
#include <string>
#include <vector>

namespace llmplan::gui {

struct Figure {
    std::string key;    // stable id ("device_total", "step_time", ...), used by A/B compare and tests
    std::string label;  // what a person reads
    double value = 0;   // in `unit`
    std::string unit;   // "GiB", "ms", "tok/s", "%", "days", "USD", "kWh", "t", ""
    std::string text;   // value formatted with its unit
    std::string how;    // tooltip: where the number comes from
};

// Memory, time, throughput, run and cost figures of an evaluation, in display order.
std::vector<Figure> key_figures(const Evaluation& e);
// key_figures(*e) by key (nothing for nullptr): A's figures, for the Δs against a pinned plan.
std::map<std::string, Figure> figures_by_key(const Evaluation* e);

// A memory term of the most loaded GPU, as the stacked bar shows it (GiB).
struct MemorySegment {
    std::string key, label;
    double gib = 0;
    std::string tooltip;  // label, size, formula, source
};
// The terms of the worst stage's device total (reserve over the peak included as its own segment).
std::vector<MemorySegment> memory_segments(const Evaluation& e);

// The step time split (ms): compute, exposed communication, pipeline bubble, optimizer step.
struct TimeSegment {
    std::string key, label;
    double ms = 0;
    std::string tooltip;
};
std::vector<TimeSegment> time_segments(const Evaluation& e);

// Serving: memory, fit, largest batch and context, vLLM blocks, latency and throughput of an
// InferPlan, in display order.
std::vector<Figure> infer_figures(const InferEvaluation& e);
// The InferPlan's memory terms as the stacked bar shows them (GiB), in the planner's order.
std::vector<MemorySegment> infer_segments(const InferEvaluation& e);

// (Fixed-point numbers: format_fixed, core/quantity.h.)
std::string format_duration(double seconds);
std::string format_signed_delta(double delta, const std::string& unit);

}  // namespace llmplan::gui
