// report.cpp — every report's JSON (report.h). The plan report serialises a MemoryPlan (inputs as
// resolved, model, per-GPU memory by term, phases, every pipeline stage, fit and headroom) and a
// PerfPlan; all sizes are plain JSON numbers in bytes.
#include "planner/report.h"
#include "planner/accuracy.h"

#include "core/json.h"
#include "planner/lora.h"
#include "planner/torch_compile.h"

#include <algorithm>
#include <cmath>

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

// The memory half of the plan report: schema, version, inputs, model, gpu, memory, warnings.
nlohmann::ordered_json memory_json(const MemoryPlan& plan) {
    const StageMemory& w = plan.worst();
    nlohmann::json memory = stage_json(w, true);
    memory["gpu_capacity_bytes"] = bytes_json(plan.capacity_bytes);
    memory["fits"] = plan.fits;
    memory["headroom_bytes"] = bytes_json(plan.headroom_bytes);
    memory["max_micro_batch"] = plan.max_micro_batch;
    memory["allocator_fragmentation"] = plan.allocator_fragmentation;
    memory["cpu_offload_bytes_per_node"] =
        bytes_json(w.cpu_offload * std::min(plan.config.parallel.gpus, plan.config.parallel.gpus_per_node));
    if (plan.config.framework == Framework::pytorch && pytorch_compile(plan.config)) {
        nlohmann::json saved = nlohmann::json::array();
        double bytes = 0;
        for (const CompiledSaved& t : compiled_layer_saved(plan.model, plan.config)) {
            saved.push_back({{"name", t.name}, {"bytes", bytes_json(t.bytes)}, {"category", torchsim::to_string(t.cat)}});
            bytes += t.bytes;
        }
        memory["torch_compile"] = {{"backend", "inductor"}, {"mode", "default"}, {"cudagraphs", false},
                                   {"recompute", to_string(plan.config.recompute)}, {"layer_saved_tensors", saved},
                                   {"layer_saved_bytes", bytes_json(bytes)},
                                   {"assumed", compiled_assumption(plan.model, plan.config)}};
    }
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
    if (!plan.config.parallel.split.even()) {  // the split resolved: transformer layers per stage
        std::vector<int> per_stage;
        for (int i = 0; i < plan.config.parallel.pp; ++i) per_stage.push_back(stage_layer_count(plan.model, plan.config.parallel, i));
        inputs["parallel"]["pipeline_split"]["stage_layers"] = per_stage;
    }
    inputs["model"] = model_shape_json(plan.model);
    inputs["gpu"] = plan.gpu.name;
    nlohmann::ordered_json report = report_header(kPlanSchema);
    report["llmplan_version"] = LLMPLAN_VERSION;
    report["inputs"] = inputs;
    report["model"] = model;
    report["gpu"] = gpu_json(plan.gpu);
    report["memory"] = memory;
    report["warnings"] = plan.warnings;
    return report;
}

// The time half of the plan report: compute, communication, time, training.
void add_perf_json(nlohmann::ordered_json& report, const PerfPlan& r, const ClusterSpec& cl) {
    nlohmann::json compute = {
        {"flops_per_token_model", r.per_token.model},
        {"flops_per_token_hardware", r.per_token.hardware},
        {"flops_per_token_6n", r.flops_6n},
        {"flops_per_token_6n_12ldt", r.flops_palm},
        {"flops_per_token_6n_6ldt", r.flops_6n_attention},
        {"forward_flops_per_token", {{"qkv", r.forward_per_token.qkv},
                                     {"attention", r.forward_per_token.attention},
                                     {"output_projection", r.forward_per_token.output_proj},
                                     {"mlp", r.forward_per_token.mlp},
                                     {"mamba_projections", r.forward_per_token.mamba_proj},
                                     {"ssm_scan", r.forward_per_token.ssm},
                                     {"gated_deltanet_projections", r.forward_per_token.gdn_proj},
                                     {"delta_rule", r.forward_per_token.delta_rule},
                                     {"logits", r.forward_per_token.logits},
                                     {"mtp", r.forward_per_token.mtp}}},
        {"slowest_stage", r.compute_stage},
        {"flops_per_step", r.model_flops_per_step},
        {"hardware_flops_per_step", r.hardware_flops_per_step},
        {"tokens_per_step", r.tokens_per_step},
        {"peak_flops_per_gpu", r.peak_flops},
        {"gemm_efficiency", r.gemm_efficiency},
        {"attention_backward_factor", r.attention_backward_factor},
        {"attention_efficiency", r.attention_efficiency},
        {"attention_and_output_layer_peak_flops", r.peak_16bit}};
    compute["rate_sources"] = {{"gemm", r.rate_sources.gemm},
                               {"attention", r.rate_sources.attention},
                               {"memory_bound", r.rate_sources.memory_bound},
                               {"elementwise", r.rate_sources.elementwise}};
    if (!r.rate_sources.clamped.empty()) compute["rate_sources"]["clamped"] = r.rate_sources.clamped;
    if (!r.rate_sources.ssm.empty()) compute["rate_sources"]["ssm"] = r.rate_sources.ssm;
    if (!r.rate_sources.delta_rule.empty()) compute["rate_sources"]["delta_rule"] = r.rate_sources.delta_rule;
    compute["elementwise_kernels"] = to_string(r.elementwise.kernels);  // docs/PERFORMANCE_MODEL.md §2
    compute["eager_extra_bytes_per_token"] = r.eager_extra_bytes_per_token;
    if (!r.eager_modules.empty()) {
        nlohmann::json modules = nlohmann::json::array();
        for (const EagerOp& op : r.eager_modules)
            modules.push_back({{"module", op.name}, {"forward_bytes_per_token", op.forward}, {"backward_bytes_per_token", op.backward}});
        compute["eager_extra_bytes_by_module"] = modules;
    }
    if (r.peak_given) compute["peak_flops_given"] = true;  // --peak-flops
    if (r.expert_gemm_efficiency > 0) {  // MoE layers on the slowest stage
        compute["expert_gemm_efficiency"] = r.expert_gemm_efficiency;
        compute["expert_tokens_per_micro_batch"] = r.expert_tokens;
    }
    if (r.ssm_seconds > 0) compute["ssm_scan_seconds"] = r.ssm_seconds;  // hybrid models' Mamba-2 scans, in the matmuls
    if (r.delta_rule_seconds > 0) compute["delta_rule_seconds"] = r.delta_rule_seconds;  // Gated DeltaNet layers, in the matmuls
    if (r.bf16_linear_share > 0) compute["bf16_linears"] = {{"share", r.bf16_linear_share}, {"source", r.bf16_linear_source}};
    if (r.clock_fraction < 1) {                            // --power-limit
        compute["power_limit_watts"] = r.board_watts;
        compute["clock_fraction"] = r.clock_fraction;
    }
    nlohmann::json collectives = nlohmann::json::array();
    for (const CollectiveUse& u : r.collectives)
        collectives.push_back({{"purpose", u.purpose},
                               {"kind", to_string(u.kind)},
                               {"group", u.group},
                               {"bytes", u.bytes},
                               {"count_per_step", u.count},
                               {"link", to_string(u.link)},
                               {"bus_bandwidth", u.bus_bandwidth},
                               {"algorithm", to_string(u.each.algorithm)},
                               {"protocol", to_string(u.each.protocol)},
                               {"seconds_each", u.each.seconds},
                               {"seconds_per_step", u.seconds},
                               {"exposed_seconds_per_step", u.exposed_seconds},
                               {"overlap", u.overlap},
                               {"hidden_cost_share", u.hidden_cost},
                               {"time_source", u.measured_time ? "measured (calibration)" : "alpha-beta model"}});
    nlohmann::json communication = {{"bytes_per_gpu_per_step", r.comm_bytes_per_gpu},
                                    {"seconds_per_step", r.comm_seconds},
                                    {"exposed_seconds_per_step", r.comm_exposed_seconds},
                                    {"collectives", collectives},
                                    {"cluster", {{"gpus_per_node", cl.gpus_per_node},
                                                 {"nvlink_bus_bandwidth", cl.nvlink_bus_bandwidth},
                                                 {"network_bandwidth_per_gpu", cl.network_per_gpu},
                                                 {"network", cl.network_description}}}};
    nlohmann::json time = {{"step_seconds", r.step_seconds},
                           {"compute_seconds", r.compute_seconds},
                           {"matmul_seconds", r.matmul_seconds},
                           {"elementwise_seconds", r.elementwise_seconds},
                           {"fp8_cast_seconds", r.fp8_cast_seconds},
                           {"fp8_weights_cast_once_per_step", !r.fp8_weight_cast_source.empty()},
                           {"moe_permute_seconds", r.moe_permute_seconds},
                           {"eager_extra_seconds", r.eager_extra_seconds},
                           {"loss_seconds", r.loss_seconds},
                           {"loss_kernel", r.loss_source},
                           {"bubble_seconds", r.bubble_seconds},
                           {"bubble_fraction", r.bubble_fraction},
                           {"exposed_communication_seconds", r.comm_exposed_seconds},
                           {"optimizer_seconds", r.optimizer_seconds},
                           {"optimizer_on_cpu", r.optimizer_on_cpu},
                           {"moe_host_seconds", r.moe_host.seconds},
                           {"moe_host", {{"per_layer_forward_seconds", r.moe_host.per_layer_forward},
                                         {"layer_forwards", r.moe_host.layer_forwards},
                                         {"per_local_expert_seconds", r.moe_host.per_local_expert},
                                         {"local_experts", r.moe_host.local_experts},
                                         {"layer_passes", r.moe_host.layer_passes},
                                         {"source", r.moe_host.source}}},
                           {"activation_offload_seconds", r.activation_offload.seconds},
                           {"activation_offload", {{"layers", r.activation_offload.layers},
                                                   {"of_layers", r.activation_offload.of},
                                                   {"bytes_per_micro_batch", bytes_json(r.activation_offload.bytes)},
                                                   {"host_link", r.activation_offload.link},
                                                   {"link_bytes_per_second", r.activation_offload.link_bandwidth},
                                                   {"copy_seconds", r.activation_offload.copy_seconds},
                                                   {"forward_window_seconds", r.activation_offload.forward_window},
                                                   {"backward_window_seconds", r.activation_offload.backward_window}}},
                           {"tokens_per_second", r.tokens_per_second},
                           {"mfu", r.mfu},
                           {"hfu", r.hfu},
                           {"mfu_given", r.mfu_given}};
    if (r.engine_time) {  // --framework llmplan: the engine's kernels (engine_time.h)
        const EngineStepTime& e = *r.engine_time;
        nlohmann::json kernels = nlohmann::json::array();
        for (const EngineKernelTime& k : e.by_kernel)
            kernels.push_back({{"kernel", to_string(k.kernel)}, {"calls", k.calls}, {"seconds", k.seconds},
                               {"flops", k.flops}, {"bytes", k.bytes}});
        time["engine"] = {{"forward_seconds", e.forward_seconds},
                          {"backward_seconds", e.backward_seconds},
                          {"optimizer_seconds", e.optimizer_seconds},
                          {"attention_seconds", e.attention_seconds},
                          {"calibrated", e.calibrated},
                          {"calibration_gpu", e.calibration_gpu},
                          {"calls_measured", e.calls_by_source[0]},
                          {"calls_interpolated", e.calls_by_source[1]},
                          {"calls_scaled", e.calls_by_source[2]},
                          {"calls_roofline", e.calls_by_source[3]},
                          {"kernels", kernels}};
    }
    nlohmann::json training = {{"tokens", r.training_tokens},
                               {"tokens_default_chinchilla", r.tokens_default},
                               {"steps", r.steps},
                               {"seconds", r.training_seconds},
                               {"days", r.training_seconds / 86400},
                               {"gpu_hours", r.gpu_hours},
                               {"price_per_gpu_hour", cl.price_per_gpu_hour},
                               {"cost", r.cost},
                               {"average_power_watts_per_gpu", r.average_power_watts},
                               {"energy_kwh", r.energy_kwh},
                               {"co2_kg", r.co2_kg}};
    if (r.goodput.modelled) {  // the expected run beside the steady state above
        const RunGoodput& g = r.goodput;
        training["goodput"] = {{"goodput", g.goodput},
                               {"given", g.given},
                               {"job_mtbf_hours", g.job_mtbf_hours},
                               {"checkpoint_interval_hours", g.checkpoint_interval_hours},
                               {"checkpoint_fraction", g.checkpoint_fraction},
                               {"lost_work_fraction", g.lost_work_fraction},
                               {"restart_fraction", g.restart_fraction},
                               {"rampup_tokens", g.rampup_tokens},
                               {"rampup_steps", g.rampup_steps},
                               {"rampup_extra_seconds", g.rampup_extra_seconds},
                               {"expected_seconds", g.expected_seconds},
                               {"expected_days", g.expected_seconds / 86400},
                               {"expected_gpu_hours", g.expected_gpu_hours},
                               {"expected_cost", g.expected_cost}};
    }
    report["compute"] = compute;
    report["communication"] = communication;
    report["time"] = time;
    report["training"] = training;
}


}  // namespace

nlohmann::ordered_json report_header(const char* schema) {
    nlohmann::ordered_json j;
    j["schema"] = schema;
    return j;
}

nlohmann::ordered_json report_header(const char* schema, const std::string& model_name, const std::string& origin) {
    nlohmann::ordered_json j = report_header(schema);
    j["model"] = {{"name", model_name}, {"origin", origin}};
    return j;
}

nlohmann::ordered_json plan_to_json(const MemoryPlan& plan, const PerfPlan& perf, const ClusterSpec& cluster,
                                    const std::string& origin, bool derived, const std::string& calibration) {
    nlohmann::ordered_json report = memory_json(plan);
    add_perf_json(report, perf, cluster);
    if (!calibration.empty()) report["time"]["calibration"] = calibration;
    // The error band of held-out published runs planned the same way (planner/accuracy.h); null
    // where none applies (other profiles, or --mfu).
    report["time"]["accuracy"] = nullptr;
    if (const std::optional<AccuracyBand> b = accuracy_band(plan.model, plan.config); b && !perf.mfu_given) {
        const auto [lo, hi] = throughput_range_80(*b, perf.tokens_per_second / plan.config.parallel.gpus);
        report["time"]["accuracy"] = {{"models", b->models}, {"planned", b->planned}, {"runs", b->runs},
                                      {"gpus", {b->gpus_min, b->gpus_max}}, {"median_abs_error", b->median_abs},
                                      {"p80_abs_error", b->p80_abs}, {"p90_abs_error", b->p90_abs},
                                      {"mean_signed_error", b->mean_signed},
                                      {"tokens_per_second_per_gpu_80", {lo, hi > 0 ? nlohmann::json(hi) : nlohmann::json(nullptr)}},
                                      {"source", b->source}};
        if (!b->profile.empty()) report["time"]["accuracy"]["profile"] = b->profile;  // "defaults": the profile named
    }
    if (plan.config.lora.enabled()) {
        const LoraCount lc = count_lora(plan.model, plan.config.lora);
        report["lora"] = {{"trainable_parameters", lc.adapter_params}, {"per_layer", lc.per_layer},
                          {"modules_per_layer", lc.modules_per_layer}, {"modules", lc.description}};
    }
    report["model"]["origin"] = origin;
    report["model"]["derived"] = derived;
    return report;
}

nlohmann::json finetune_row_json(const std::string& method, double trainable_parameters, const MemoryPlan& plan,
                                 const PerfPlan& perf) {
    return {{"method", method}, {"trainable_parameters", trainable_parameters},
            {"device_total_bytes", plan.worst().device_total}, {"fits", plan.fits},
            {"step_seconds", perf.step_seconds}, {"tokens_per_second", perf.tokens_per_second},
            {"max_micro_batch", plan.max_micro_batch}};
}

nlohmann::ordered_json infer_to_json(const InferPlan& p, const std::string& origin) {
    const ModelSpec& m = p.model;
    const InferConfig& c = p.config;
    nlohmann::ordered_json j = report_header(kInferSchema, m.name, origin);
    const ParamBreakdown params = count_params(m);
    j["model"]["parameters"] = params.total();
    j["model"]["active_parameters"] = params.active;  // per token (MoE); = parameters for a dense model
    j["model"]["shape"] = model_shape_json(m);
    j["gpu"] = p.gpu.name;
    j["inputs"] = {{"weights", to_string(c.weights.format)}, {"group_size", c.weights.group_size},
                   {"double_quant", c.weights.double_quant}, {"kv_cache", to_string(c.kv)}, {"batch", c.batch},
                   {"prompt", c.prompt}, {"generate", c.generate}, {"prefill_chunk", c.prefill_chunk}, {"tp", c.tp},
                   {"attention", to_string(c.attention)}, {"framework", to_string(c.framework)},
                   {"gpu_memory_utilization", c.gpu_memory_utilization}, {"block_size", c.block_size},
                   {"forward_only", c.forward_only}, {"autograd", c.autograd}};
    nlohmann::json terms = nlohmann::json::array();
    for (const MemoryTerm& t : p.terms)
        terms.push_back({{"key", t.key}, {"label", t.label}, {"bytes", t.bytes}, {"formula", t.formula}, {"source", t.source}});
    j["memory"] = {{"weights_bytes", p.weights}, {"kv_cache_bytes", p.kv_cache}, {"kv_waste_bytes", p.kv_waste},
                   {"kv_prefill_bytes", p.kv_prefill},
                   {"kv_bytes_per_token", p.kv_bytes_per_token}, {"activations_bytes", p.activations},
                   {"logits_bytes", p.logits}, {"framework_bytes", p.framework_extra}, {"overhead_bytes", p.overhead},
                   {"peak_allocated_bytes", p.peak}, {"device_total_bytes", p.device_total},
                   {"gpu_capacity_bytes", p.capacity}, {"fits", p.fits}, {"headroom_bytes", p.headroom},
                   {"max_batch", p.max_batch}, {"max_context", p.max_context}, {"terms", terms}};
    nlohmann::json kv_layers = nlohmann::json::array();
    for (const KvGroup& g : p.kv.groups)
        kv_layers.push_back({{"attention", to_string(g.attention)}, {"layers", g.layers}, {"window", g.window},
                             {"bytes_per_token", g.bytes_per_token}});
    j["memory"]["kv_layers"] = kv_layers;
    j["memory"]["kv_mla_latent"] = p.kv.mla_latent;
    if (p.state.layers > 0)  // a hybrid's Mamba layers
        j["memory"]["recurrent_state"] = {{"bytes", p.recurrent_state}, {"per_sequence_bytes", p.state.per_sequence()},
                                          {"layers", p.state.layers}, {"conv_bytes_per_layer", p.state.conv_bytes},
                                          {"ssm_bytes_per_layer", p.state.ssm_bytes}};
    if (c.framework == InferFramework::vllm)
        j["memory"]["vllm"] = {{"kv_blocks", p.vllm_kv_blocks}, {"max_sequences", p.vllm_max_sequences},
                               {"blocks_per_sequence", p.vllm_blocks_per_sequence},
                               {"layers_per_group", p.vllm_pool.group_size},
                               {"padding_layers", p.vllm_pool.padding_layers()}};
    j["time"] = {{"prefill_flops", p.prefill_flops}, {"time_to_first_token_seconds", p.prefill_seconds},
                 {"decode_bytes_per_step", p.decode_bytes_per_step}, {"decode_weight_bytes", p.decode_weight_bytes},
                 {"experts_touched_per_layer", p.experts_touched}, {"decode_step_seconds", p.decode_step_seconds},
                 {"decode_compute_bound", p.decode_compute_bound},
                 {"tokens_per_second_per_sequence", p.tokens_per_second_per_sequence},
                 {"tokens_per_second_per_gpu", p.tokens_per_second_per_gpu}, {"total_seconds", p.total_seconds}};
    if (p.prefill_scan_seconds > 0) j["time"]["prefill_scan_seconds"] = p.prefill_scan_seconds;  // in the time to first token
    return j;
}

nlohmann::ordered_json search_to_json(const SearchResult& r, const std::string& model_name, const std::string& origin,
                                      const std::string& gpu, int gpus) {
    nlohmann::ordered_json j = report_header(kSearchSchema, model_name, origin);
    j["gpu"] = gpu;
    j["gpus"] = gpus;
    j["evaluated"] = r.evaluated;
    j["fitting"] = r.fitting;
    j["rejected"] = r.rejected;
    j["seconds"] = r.seconds;
    j["layouts_per_second"] = r.seconds > 0 ? static_cast<double>(r.evaluated) / r.seconds : 0;
    nlohmann::json layouts = nlohmann::json::array();
    for (const SearchCandidate& c : r.top) {
        const ParallelLayout& p = c.config.parallel;
        layouts.push_back({{"tp", p.tp}, {"pp", p.pp}, {"dp", p.dp()}, {"cp", p.cp}, {"ep", p.ep}, {"etp", p.expert_tp()},
                           {"virtual_stages", p.virtual_stages}, {"sp", p.sp}, {"zero", p.zero},
                           {"micro_batch", c.config.micro_batch}, {"global_batch", c.config.global_batch},
                           {"seq", c.config.seq}, {"recompute", to_string(c.config.recompute)},
                           {"device_total_bytes", c.device_total}, {"headroom_bytes", c.headroom},
                           {"step_seconds", c.step_seconds}, {"tokens_per_second", c.tokens_per_second},
                           {"mfu", c.mfu}, {"training_seconds", c.training_seconds}, {"cost", c.cost}});
        // pp (or pp × virtual stages) does not divide the layers: the split searched
        if (p.split.balanced) layouts.back()["pp_layers"] = "balanced";
        else if (p.split.embedding_as_layer || p.split.loss_as_layer)
            layouts.back()["pp_layers"] = p.split.embedding_as_layer ? "embedding_and_loss_as_layers" : "loss_as_layer";
    }
    j["layouts"] = layouts;
    j["why"] = r.why;
    return j;
}

nlohmann::json scaling_optimum_json(const ComputeOptimum& o) {
    return {{"compute_flops", o.compute}, {"parameters", o.parameters}, {"tokens", o.tokens},
            {"loss", std::isfinite(o.loss) ? nlohmann::json(o.loss) : nlohmann::json(nullptr)},
            {"tokens_per_parameter", o.tokens_per_parameter()}};
}

nlohmann::json scaling_law_json(const LawChoice& law) {
    nlohmann::json lj = {{"name", law.name}, {"source", law.source}};
    if (law.kind == LawKind::parametric)
        lj.update({{"E", law.law.E}, {"A", law.law.A}, {"B", law.law.B}, {"alpha", law.law.alpha}, {"beta", law.law.beta},
                   {"frontier_a", law.law.a()}, {"frontier_b", law.law.b()}});
    if (law.kind == LawKind::ratio) lj["tokens_per_parameter"] = law.ratio;
    return lj;
}

nlohmann::ordered_json scaling_fit_law_json(const FitResult& r) {
    return {{"name", "fit"}, {"E", r.law.E}, {"A", r.law.A}, {"B", r.law.B}, {"alpha", r.law.alpha},
            {"beta", r.law.beta}, {"source", r.law.source}};
}

nlohmann::ordered_json scaling_fit_json(const FitResult& r) {
    auto stat = [&](const FitParameterStats& s) {
        nlohmann::json j = {{"value", s.value}};
        if (r.bootstrap > 1) {
            j["standard_error"] = s.standard_error;
            j["ci95"] = {s.low, s.high};
        }
        return j;
    };
    return {{"runs", r.runs}, {"dropped_highest_loss", r.dropped}, {"starts", r.starts}, {"refined_starts", r.refined},
            {"objective", r.objective}, {"bootstrap", r.bootstrap},
            {"E", stat(r.E)}, {"A", stat(r.A)}, {"B", stat(r.B)}, {"alpha", stat(r.alpha)},
            {"beta", stat(r.beta)}, {"frontier_a", stat(r.a)}, {"frontier_b", stat(r.b)},
            {"tokens_per_parameter_at_5.76e23", compute_optimal(r.law, 5.76e23).tokens_per_parameter()}};
}

nlohmann::ordered_json scaling_budget_json(const std::string& gpu, double gpu_hours, double mfu, double peak_flops) {
    return {{"gpu", gpu}, {"gpu_hours", gpu_hours}, {"mfu", mfu}, {"peak_flops", peak_flops}};
}

nlohmann::ordered_json scaling_assessment_json(double n, double d, const RunAssessment& a) {
    return {{"parameters", n}, {"tokens", d}, {"compute_flops", a.compute}, {"loss", a.loss},
            {"optimal_at_same_compute", scaling_optimum_json(a.optimal)}, {"loss_gap", a.loss_gap},
            {"compute_for_same_loss", a.compute_for_same_loss},
            {"tokens_per_parameter", a.tokens_per_parameter},
            {"optimal_tokens_per_parameter", a.optimal_tokens_per_parameter},
            {"overtraining_factor", a.overtraining}};
}

nlohmann::ordered_json scaling_inference_json(double target, double t_inf, const InferenceAware& ia) {
    return {{"target_loss", target}, {"inference_tokens", t_inf},
            {"chinchilla", scaling_optimum_json(ia.chinchilla)},
            {"chinchilla_total_flops", ia.chinchilla_total_flops},
            {"parameters", ia.params}, {"tokens", ia.tokens}, {"training_flops", ia.training_flops},
            {"total_flops", ia.total_flops}, {"saved_flops", ia.saved_flops},
            {"saved_fraction", ia.saved_fraction}};
}

nlohmann::json scaling_isoflop_json(double c, const ComputeOptimum& optimal, const std::vector<IsoflopPoint>& points) {
    nlohmann::json pts = nlohmann::json::array();
    for (const IsoflopPoint& p : points) pts.push_back({{"parameters", p.params}, {"tokens", p.tokens}, {"loss", p.loss}});
    return {{"compute_flops", c}, {"optimal", scaling_optimum_json(optimal)}, {"points", pts}};
}

nlohmann::json scaling_architecture_json(const ModelSpec& m) {
    return {{"layers", m.n_layers}, {"d_model", m.d_model}, {"heads", m.n_heads}, {"d_ff", m.d_ff},
            {"parameters", count_params(m).total()}};
}

nlohmann::json gpus_to_json(const std::deque<GpuSpec>& catalog) {
    nlohmann::json list = nlohmann::json::array();
    for (const GpuSpec& g : catalog) {
        nlohmann::json j = gpu_json(g);
        j["source"] = g.source;
        list.push_back(j);
    }
    return {{"schema", kGpusSchema}, {"gpus", list}};
}

nlohmann::json models_to_json(const std::vector<Preset>& presets) {
    nlohmann::json list = nlohmann::json::array();
    for (const Preset& p : presets) {
        const ParamBreakdown b = count_params(p.spec);
        list.push_back({{"name", p.name}, {"description", p.description}, {"parameters", b.total()},
                        {"active_parameters", b.active}, {"shape", model_shape_json(p.spec)}, {"source", p.source}});
    }
    return {{"schema", kModelsSchema}, {"models", list}};
}

nlohmann::json model_to_json(const ModelSpec& m, const Preset* preset) {
    nlohmann::json j = {{"schema", kModelSchema}, {"shape", model_shape_json(m)},
                        {"parameters", param_breakdown_json(count_params(m))}};
    if (preset) j["source"] = preset->source;
    return j;
}

MeasuredRun measured_run_from_json(const nlohmann::json& report) {
    MeasuredRun r;
    if (!report.is_object()) return r;
    const auto text = [](const nlohmann::json& j, const char* key) {
        return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
    };
    const auto integer = [](const nlohmann::json& j, const char* key) -> std::int64_t {
        return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<std::int64_t>() : 0;
    };
    if (report.contains("model")) r.model = report["model"].is_string() ? report["model"].get<std::string>() : text(report["model"], "name");
    const nlohmann::json& job = report.contains("job") && report["job"].is_object() ? report["job"] : report;
    r.precision = text(job, "precision");
    r.recompute = text(job, "recompute");
    r.micro_batch = integer(job, "micro_batch");
    r.seq = integer(job, "seq");
    r.gpus = integer(job, "gpus");
    r.tp = integer(job, "tp");
    r.pp = integer(job, "pp");
    return r;
}

std::vector<std::string> measured_run_mismatches(const MeasuredRun& run, const MemoryPlan& plan) {
    std::vector<std::string> out;
    const TrainConfig& c = plan.config;
    const auto differs = [&](const char* what, const std::string& measured, const std::string& planned) {
        if (!measured.empty() && measured != planned) out.push_back(std::string(what) + " " + measured + ", not " + planned);
    };
    const auto differs_n = [&](const char* what, std::int64_t measured, std::int64_t planned) {
        if (measured != 0 && measured != planned)
            out.push_back(std::string(what) + " " + std::to_string(measured) + ", not " + std::to_string(planned));
    };
    differs("model", run.model, plan.model.name);
    differs("precision", run.precision, to_string(c.precision));
    differs("recompute", run.recompute, to_string(c.recompute));
    differs_n("micro-batch", run.micro_batch, c.micro_batch);
    differs_n("sequence", run.seq, c.seq);
    differs_n("GPUs", run.gpus, c.parallel.gpus);
    differs_n("tp", run.tp, c.parallel.tp);
    differs_n("pp", run.pp, c.parallel.pp);
    return out;
}

}  // namespace llmplan
