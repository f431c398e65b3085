// plan_json.cpp — serialises a MemoryPlan: inputs as resolved, model, per-GPU memory by term,
// phases, every pipeline stage, fit and headroom. All sizes are plain JSON numbers in bytes.
#include "planner/plan_json.h"

#include "core/json.h"

#include <algorithm>

namespace llmplan {

namespace {

nlohmann::json stage_json(const StageMemory& s, bool with_terms) {
    nlohmann::json per_gpu = {{"parameters_bytes", bytes_json(s.parameters)},
                              {"gradients_bytes", bytes_json(s.gradients)},
                              {"optimizer_bytes", bytes_json(s.optimizer())},
                              {"optimizer_master_bytes", bytes_json(s.master)},
                              {"optimizer_states_bytes", bytes_json(s.optimizer_states)},
                              {"activations_bytes", bytes_json(s.activations)},
                              {"activations_per_layer_bytes", bytes_json(s.activations_per_layer)},
                              {"logits_bytes", bytes_json(s.logits)},
                              {"communication_buffers_bytes", bytes_json(s.communication_buffers)},
                              {"zero3_gathered_bytes", bytes_json(s.zero3_gathered)},
                              {"temporary_bytes", bytes_json(s.temporary)},
                              {"overhead_bytes", bytes_json(s.overhead)},
                              {"peak_allocated_bytes", bytes_json(s.peak_allocated)},
                              {"reserved_estimate_bytes", bytes_json(s.reserved_estimate)},
                              {"device_total_bytes", bytes_json(s.device_total)},
                              {"cpu_offload_bytes", bytes_json(s.cpu_offload)},
                              {"peak_phase", s.peak_phase}};
    nlohmann::json j = {{"stage", s.stage},
                        {"placement", s.placement},
                        {"layers", s.layers},
                        {"params_on_gpu", s.params_on_gpu},
                        {"microbatches_in_flight", s.microbatches_in_flight},
                        {"per_gpu", per_gpu}};
    nlohmann::json phases = nlohmann::json::array();
    for (const PhaseTotal& p : s.phases) phases.push_back({{"name", p.name}, {"allocated_bytes", bytes_json(p.bytes)}});
    j["phases"] = phases;
    if (with_terms) {
        nlohmann::json terms = nlohmann::json::array();
        for (const MemoryTerm& t : s.terms)
            terms.push_back({{"key", t.key}, {"label", t.label}, {"bytes", bytes_json(t.bytes)},
                             {"formula", t.formula}, {"source", t.source}});
        j["terms"] = terms;
    }
    return j;
}

}  // namespace

nlohmann::ordered_json plan_to_json(const MemoryPlan& plan) {
    const StageMemory& w = plan.worst();
    nlohmann::json memory = stage_json(w, true);
    memory["gpu_capacity_bytes"] = bytes_json(plan.capacity_bytes);
    memory["fits"] = plan.fits;
    memory["headroom_bytes"] = bytes_json(plan.headroom_bytes);
    memory["max_micro_batch"] = plan.max_micro_batch;
    memory["allocator_fragmentation"] = plan.allocator_fragmentation;
    memory["cpu_offload_bytes_per_node"] =
        bytes_json(w.cpu_offload * std::min(plan.config.parallel.gpus, plan.config.parallel.gpus_per_node));
    if (plan.stages.size() > 1) {
        nlohmann::json stages = nlohmann::json::array();
        for (const StageMemory& s : plan.stages) stages.push_back(stage_json(s, false));
        memory["stages"] = stages;
    }
    nlohmann::json model = {{"name", plan.model.name},
                            {"parameters", plan.params.total()},
                            {"active_parameters", plan.params.active},
                            {"parameters_breakdown", param_breakdown_json(plan.params)},
                            {"shape", model_shape_json(plan.model)}};
    nlohmann::json inputs = config_json(plan.config);
    inputs["model"] = model_shape_json(plan.model);
    inputs["gpu"] = plan.gpu.name;
    nlohmann::ordered_json report;
    report["schema"] = kPlanSchema;
    report["llmplan_version"] = LLMPLAN_VERSION;
    report["inputs"] = inputs;
    report["model"] = model;
    report["gpu"] = gpu_json(plan.gpu);
    report["memory"] = memory;
    report["warnings"] = plan.warnings;
    return report;
}

}  // namespace llmplan
