// framework_stage.cpp — see framework_stage.h.
#include "planner/framework_stage.h"

#include "core/quantity.h"
#include "core/text.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace llmplan {

std::string stage_gib(double bytes) { return format_bytes(bytes, ByteUnit::gib); }
std::string stage_count(double n) { return format_int(static_cast<std::int64_t>(std::llround(n))); }
std::string stage_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

namespace {

constexpr const char* kPhaseNames[3] = {"forward_end", "backward", "optimizer_step"};
constexpr unsigned kPhaseBits[3] = {at_forward_end, at_backward, at_optimizer_step};

std::string held_in(unsigned phases) {
    std::vector<std::string> names;
    for (int k = 0; k < 3; ++k)
        if (phases & kPhaseBits[k]) names.emplace_back(kPhaseNames[k]);
    return join(names, " and ");
}

double& field_of(StageMemory& s, StageField f) {
    switch (f) {
        case StageField::parameters: return s.parameters;
        case StageField::gradients: return s.gradients;
        case StageField::master: return s.master;
        case StageField::optimizer_states: return s.optimizer_states;
        case StageField::communication_buffers: return s.communication_buffers;
        case StageField::gathered: return s.zero3_gathered;
        case StageField::fp8_weight_cache: return s.fp8_weight_cache;
        case StageField::activations: return s.activations;
        case StageField::logits: return s.logits;
        case StageField::temporary: return s.temporary;
    }
    return s.temporary;
}

const MemoryTerm* find_term(const StageMemory& s, const std::string& key) {
    for (const MemoryTerm& t : s.terms)
        if (t.key == key) return &t;
    return nullptr;
}

}  // namespace

StageMemory compose_stage(StageMemory s, const std::vector<StagePart>& parts, double fragmentation, bool explain) {
    MemoryTerm overhead;
    if (const MemoryTerm* t = find_term(s, "overhead")) overhead = *t;
    double totals[3] = {0, 0, 0};
    for (const StagePart& p : parts)
        for (int k = 0; k < 3; ++k)
            if (p.phases & kPhaseBits[k]) totals[k] += p.term.bytes;
    int peak = 1;  // backward, then forward end, then the optimizer step
    if (totals[0] > totals[peak]) peak = 0;
    if (totals[2] > totals[peak]) peak = 2;
    const double activations = s.activations, logits = s.logits, recompute = s.recompute_working;
    for (StageField f : {StageField::parameters, StageField::gradients, StageField::master, StageField::optimizer_states,
                         StageField::communication_buffers, StageField::gathered, StageField::fp8_weight_cache,
                         StageField::activations, StageField::logits, StageField::temporary})
        field_of(s, f) = 0;
    s.terms.clear();
    for (const StagePart& p : parts) {
        const bool held = (p.phases & kPhaseBits[peak]) != 0;
        if (held) field_of(s, p.field) += p.term.bytes;
        if (!explain) continue;
        MemoryTerm t = p.term;
        if (!held) {
            t.formula += "; held at " + held_in(p.phases) + " only (" + stage_gib(p.term.bytes) + "), not at the " +
                         kPhaseNames[peak] + " peak";
            t.bytes = 0;
        }
        s.terms.push_back(std::move(t));
    }
    // The activations the stage keeps for the backward stay StageMemory's description of the
    // stage even where the peak (the optimizer step) holds none.
    if (peak == 2) {
        s.activations = activations;
        s.logits = logits;
    }
    s.recompute_working = recompute;
    s.phases = {{kPhaseNames[0], totals[0]}, {kPhaseNames[1], totals[1]}, {kPhaseNames[2], totals[2]}};
    s.peak_phase = kPhaseNames[peak];
    s.peak_allocated = totals[peak];
    s.reserved_estimate = s.peak_allocated * (1 + fragmentation);
    s.device_total = s.reserved_estimate + s.overhead;
    if (explain) s.terms.push_back(overhead);
    return s;
}

std::vector<StagePart> generic_activation_parts(const StageMemory& g, const std::string& activation_source) {
    std::vector<StagePart> parts;
    const MemoryTerm* act = find_term(g, "activations");
    const MemoryTerm* logits = find_term(g, "logits");
    parts.push_back({StageField::activations, in_forward_and_backward,
                     {"activations", "activations", g.activations, act ? act->formula : std::string(), activation_source}});
    if (g.logits > 0)
        parts.push_back({StageField::logits, in_forward_and_backward,
                         {"logits", logits ? logits->label : std::string("logits"), g.logits, logits ? logits->formula : std::string(),
                          logits ? logits->source : std::string()}});
    if (g.recompute_working > 0)
        parts.push_back({StageField::temporary, at_backward,
                         {"recompute_working", "recomputed in backward", g.recompute_working,
                          "one recomputed unit's activations rematerialised during its backward",
                          "Korthikanti et al. 2022 §5"}});
    return parts;
}

double stage_layer_matmul_elements(const ModelSpec& m, const std::vector<ParamTensor>& tensors, const TrainConfig& c,
                                   int stage) {
    const ParallelLayout& p = c.parallel;
    const std::vector<LayerRange> ranges = stage_layer_ranges(m, p, stage);
    const StageCopies copies_here(m, ranges);
    const bool last = stage == p.pp - 1;
    double total = 0;
    for (const ParamTensor& t : tensors) {
        if (!t.matmul_weight || !(t.block == Block::layer || (t.block == Block::mtp && last))) continue;
        double rows = 0, cols = 0;
        local_shape(t, p, rows, cols);
        total += rows * cols * copies_here(t) / (t.expert ? p.ep : 1);
    }
    return total;
}

StageMemory generic_stage_with_layer_recompute(const ModelSpec& m, const std::vector<ParamTensor>& tensors,
                                               const TrainConfig& c, int stage, double recomputed, double units,
                                               int unit, const std::string& how, bool explain) {
    TrainConfig none = c, full = c;
    none.recompute = Recompute::none;
    full.recompute = Recompute::full;
    StageMemory a = plan_generic_stage(m, tensors, none, stage, explain);
    const StageMemory f = plan_generic_stage(m, tensors, full, stage, false);
    const double n = a.layers, r = std::clamp(recomputed, 0.0, n), u = std::max(1, unit);
    const double kept = a.activations_per_layer, input = f.activations_per_layer;
    const double extras = a.activations - kept * a.layer_microbatches;
    const double per_layer = ((n - r) * kept + units * input) / n;
    a.activations = per_layer * a.layer_microbatches + extras;
    a.activations_per_layer = per_layer;
    a.recompute_working = r > 0 ? u * f.recompute_working : 0;
    if (explain) {
        std::ostringstream s;
        s << stage_gib(per_layer) << " per layer per micro-batch: " << stage_number(r) << " of " << stage_number(n)
          << " layers recomputed (" << how << ") in " << stage_number(units) << " unit" << (units == 1 ? "" : "s")
          << " of at most " << stage_number(u) << " layer" << (u > 1 ? "s" : "") << ", each keeping its input (" << stage_gib(input) << "), the others every tensor ("
          << stage_gib(kept) << ") × " << stage_number(a.layer_microbatches) << " layer·micro-batches in flight";
        if (extras > 0) s << " + " << stage_gib(extras) << " outside the layers";
        for (MemoryTerm& t : a.terms)
            if (t.key == "activations") t.formula = s.str();
    }
    return a;
}

}  // namespace llmplan
