// cmd_plan.cpp — `llmplan plan`: per-GPU training memory, term by term.
#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "core/model_text.h"
#include "core/precision.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/accuracy.h"
#include "planner/framework.h"
#include "planner/memory.h"
#include "planner/lora.h"
#include "planner/report.h"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace llmplan::cli {

void setup_plan(CLI::App& parent, PlanCommand& cmd) {
    cmd.app = parent.add_subcommand("plan", "Per-GPU memory of a training job, term by term, and whether it fits");
    add_model_options(*cmd.app, cmd.model);
    add_job_options(*cmd.app, cmd.job);
    add_perf_options(*cmd.app, cmd.perf);
    add_import_options(*cmd.app, cmd.imports);
    add_scenario_option(*cmd.app, &cmd.write_scenario);
    cmd.app->add_flag("--compare-finetune", cmd.compare_finetune,
                      "Also compare full fine-tuning, LoRA and QLoRA (nf4 base) for this job: memory, fit, step time");
    cmd.app->add_flag("--json", cmd.json, "Print the report as JSON (schema llmplan.plan/1) instead of a table");
    cmd.app->add_option("--report", cmd.report, "Also write the JSON report to FILE")->type_name("FILE");
    cmd.app->add_option("--units", cmd.units, "Byte units of the table: gib (2^30) or gb (10^9)")->capture_default_str()->type_name("U");
}

namespace {

// Bytes one cast of a quantized-linear recipe moves per 16-bit element, as the plan prints it: 5, 7.38.
std::string cast_bytes_text(Precision p) {
    const double b = precision_traits(p).cast_bytes;
    return fixed(b, b == std::round(b) ? 0 : 2);
}

// "RMSNorm 30.9, RoPE (rotate_half) 6.9, SwiGLU (silu, mul) 5.5 MB" (forward + backward, per token).
std::string eager_modules(const std::vector<EagerOp>& ops) {
    std::string s;
    for (const EagerOp& op : ops) s += (s.empty() ? "" : ", ") + op.name + " " + fixed((op.forward + op.backward) / 1e6, 1);
    return s + " MB";
}

// Where an uneven split came from, in the words of its flag.
std::string split_origin(const PipelineSplit& s) {
    if (s.chosen_by_llmplan) {
        PipelineSplit as_given = s;
        as_given.chosen_by_llmplan = false;
        return "llmplan's default where the layers do not divide: " +
               (s.balanced ? std::string("the remainder on the middle stages") : split_origin(as_given)) + "; --pp-layers sets them";
    }
    if (s.balanced) return "--pp-layers balanced: the remainder on the middle stages";
    if (!s.layers.empty()) return "--pp-layers";
    if (s.first >= 0 || s.last >= 0) return "--pp-first-last";
    std::vector<std::string> parts;
    if (s.embedding_as_layer) parts.emplace_back("the embedding");
    if (s.loss_as_layer) parts.emplace_back("the loss");
    return join(parts, " and ") + " counted as a layer";
}

std::string render(const MemoryPlan& plan, const ResolvedModel& rm, ByteUnit unit) {
    const TrainConfig& c = plan.config;
    const ParallelLayout& p = c.parallel;
    const StageMemory& w = plan.worst();
    const char* u = unit == ByteUnit::gib ? "GiB" : "GB";
    auto b = [&](double bytes) {
        std::string s = format_bytes(bytes, unit);
        return s.substr(0, s.find(' '));  // the unit is in the column header
    };
    std::ostringstream o;
    o << "llmplan plan: " << (rm.derived ? "derived model (" + rm.origin + ")" : plan.model.name) << " on "
      << p.gpus << " × " << plan.gpu.display_name << "\n";
    o << "  model   " << model_shape_line(plan.model) << "\n";
    if (const std::string detail = model_detail_line(plan.model); !detail.empty()) o << "          " << detail << "\n";
    o << "          " << model_params_line(plan.model, plan.params) << "\n";
    if (rm.derived)
        o << "          shape derived by llmplan's rule (Llama-2 style, width/depth near 128; docs/MEMORY_MODEL.md §0)\n";
    o << "  layout  dp " << p.dp() << " × tp " << p.tp << " × pp " << p.pp;
    if (p.cp > 1) o << " × cp " << p.cp;
    if (p.ep > 1) o << ", ep " << p.ep;
    if (p.expert_tp() != p.tp) o << " (experts whole on each rank: etp " << p.expert_tp() << ", expert dp " << p.expert_shard_group() << ")";
    if (p.virtual_stages > 1) o << ", " << p.virtual_stages << " virtual stages";
    if (!p.split.even()) o << ", layers per stage " << stage_layers_text(plan.model.n_layers, p) << " (" << split_origin(p.split) << ")";
    if (p.sp) o << ", sequence parallel";
    o << " (" << p.gpus_per_node << " GPUs per node); ZeRO-" << p.zero << "; " << to_string(c.precision) << "; "
      << to_string(c.optimizer) << "\n";
    const FrameworkProfile& framework = framework_profile(c.framework);
    if (const std::string stack = framework.stack_description(c); !stack.empty()) o << "  as      " << stack << "\n";
    if (c.lora.enabled()) {
        const LoraCount lc = count_lora(plan.model, c.lora);
        o << "  tune    LoRA r " << c.lora.rank << ", alpha " << c.lora.alpha << " on " << lc.description << ": "
          << format_int(static_cast<std::int64_t>(lc.adapter_params)) << " trainable parameters ("
          << format_fixed(100 * lc.adapter_params / static_cast<double>(plan.params.total()), 4) << "% of "
          << format_count(static_cast<double>(plan.params.total())) << ")"
          << (c.lora.base_quant != BaseQuant::none ? std::string(", frozen base in ") + to_string(c.lora.base_quant) + " (QLoRA)" : "")
          << "\n";
    }
    o << "  job     micro-batch " << c.micro_batch << " × " << c.seq << " tokens; global batch " << c.global_batch
      << " sequences (" << c.grad_accum() << " micro-batch" << (c.grad_accum() == 1 ? "" : "es")
      << " per step per rank); recompute " << to_string(c.recompute) << "; " << to_string(c.attention)
      << " attention; dropout " << c.dropout << "; offload " << to_string(c.offload)
      << (c.offload_activations > 0 ? "; activations of " + std::to_string(c.offload_activations) + " layers offloaded to CPU memory" : "")
      << "\n\n";

    o << "Memory per GPU (" << u << " = " << (unit == ByteUnit::gib ? "2^30" : "10^9") << " bytes)";
    if (p.pp > 1) o << ", most loaded pipeline stage " << w.stage << " of " << p.pp << ": " << w.placement;
    o << "\n";
    Table t({"term", u, "how"}, {false, true, false});
    for (const MemoryTerm& term : w.terms) {
        if (term.key == "overhead") continue;
        t.add({term.label, b(term.bytes), term.formula});
    }
    t.rule();
    std::ostringstream phases;
    phases << "at " << w.peak_phase << " (";
    for (std::size_t i = 0; i < w.phases.size(); ++i)
        phases << (i ? ", " : "") << w.phases[i].name << " " << b(w.phases[i].bytes);
    phases << ")";
    t.add({"peak allocated", b(w.peak_allocated), phases.str()});
    std::ostringstream frag;
    frag << "peak × " << (w.peak_allocated > 0 ? w.reserved_estimate / w.peak_allocated : 1 + plan.allocator_fragmentation)
         << " (" << framework.reserve_note() << ")";
    t.add({"reserved estimate", b(w.reserved_estimate), frag.str()});
    for (const MemoryTerm& term : w.terms)
        if (term.key == "overhead") t.add({"+ " + term.label, b(term.bytes), term.formula});
    std::ostringstream verdict;
    verdict << "of " << b(plan.capacity_bytes) << " " << u << " on the " << plan.gpu.name << ": "
            << (plan.fits ? "FITS, headroom " : "DOES NOT FIT, short by ")
            << format_bytes(std::abs(plan.headroom_bytes), unit);
    t.add({"device total", b(w.device_total), verdict.str()});
    o << t.str();
    if (w.cpu_offload > 0)
        o << "  CPU memory for offloaded state" << (w.offloaded_activations > 0 ? " and activations" : "") << ": " << format_bytes(w.cpu_offload, unit) << " per GPU, "
          << format_bytes(w.cpu_offload * std::min(p.gpus, p.gpus_per_node), unit) << " per node\n";
    o << "\n";
    if (plan.max_micro_batch > 0)
        o << "Largest micro-batch that fits (same " << c.grad_accum() << " micro-batch" << (c.grad_accum() == 1 ? "" : "es")
          << " per step): " << plan.max_micro_batch << "\n";
    else
        o << "No micro-batch fits: even --micro-batch 1 needs " << format_bytes(w.device_total, unit)
          << framework.no_fit_hint();
    if (p.pp > 1) {
        o << "\nPer pipeline stage (" << u << "):\n";
        Table st({"stage", "holds", "params/GPU", "activations", "peak allocated", "device total"}, {true, false, true, true, true, true});
        for (const StageMemory& s : plan.stages)
            st.add({std::to_string(s.stage), s.placement, format_int(s.params_on_gpu), b(s.activations), b(s.peak_allocated),
                    b(s.device_total)});
        o << st.str();
    }
    for (const std::string& warning : plan.warnings) o << "warning: " << warning << "\n";
    return o.str();
}

std::string duration(double s) {
    if (s < 1e-3) return format_fixed(s * 1e6, 1) + " µs";
    if (s < 1) return format_fixed(s * 1e3, 1) + " ms";
    if (s < 120) return format_fixed(s, 2) + " s";
    if (s < 7200) return format_fixed(s / 60, 1) + " min";
    if (s < 3 * 86400) return format_fixed(s / 3600, 1) + " h";
    return format_fixed(s / 86400, 1) + " days";
}

std::string pct(double v) { return fixed(100 * v, 1) + "%"; }

std::string size(double bytes) {  // decimal units for message sizes, as nccl-tests prints them
    if (bytes >= 1e9) return fixed(bytes / 1e9, 2) + " GB";
    if (bytes >= 1e6) return fixed(bytes / 1e6, 1) + " MB";
    return fixed(bytes / 1e3, 1) + " kB";
}

std::string render_perf(const MemoryPlan& plan, const PerfPlan& r, const ClusterSpec& cl, const std::string& calibration) {
    std::ostringstream o;
    const ParallelLayout& p = plan.config.parallel;
    o << "\nCompute and time per step (per GPU of the slowest stage; docs/PERFORMANCE_MODEL.md)\n";
    Table t({"term", "value", "how"}, {false, true, false});
    t.add({"FLOPs per token", format_sci(r.per_token.model, 3),
           "exact model FLOPs (fwd + bwd); 6N " + format_sci(r.flops_6n, 3) + ", 6N+12·L·d·T " + format_sci(r.flops_palm, 3) +
               "; with recompute " + format_sci(r.per_token.hardware, 3)});
    t.add({"tokens per step", format_int(static_cast<std::int64_t>(r.tokens_per_step)),
           "global batch " + std::to_string(plan.config.global_batch) + " × " + std::to_string(plan.config.seq) + " tokens"});
    if (r.engine_time) {  // --framework llmplan: the engine's kernels, summed (engine_time.h)
        const EngineStepTime& e = *r.engine_time;
        const auto& n = e.calls_by_source;
        const double calls = n[0] + n[1] + n[2] + n[3];
        t.add({"compute", duration(r.compute_seconds),
               "the engine's " + format_int(static_cast<std::int64_t>(calls)) + " kernel calls one after another: matmuls " +
                   duration(r.matmul_seconds) + ", attention " + duration(e.attention_seconds) + ", the rest " +
                   duration(r.compute_seconds - r.matmul_seconds - e.attention_seconds)});
        t.add({"  kernel times", "",
               e.calibrated ? "from " + calibration + ": " +
                                  format_int(static_cast<std::int64_t>(n[0])) + " calls measured, " +
                                  format_int(static_cast<std::int64_t>(n[1])) + " interpolated, " +
                                  format_int(static_cast<std::int64_t>(n[2])) + " scaled, " +
                                  format_int(static_cast<std::int64_t>(n[3])) + " roofline"
                            : std::string("uncalibrated roofline (llmplan profile calibrate measures them)")});
        std::string top;
        for (std::size_t i = 0; i < std::min<std::size_t>(4, e.by_kernel.size()); ++i)
            top += (i ? ", " : "") + std::string(to_string(e.by_kernel[i].kernel)) + " " + duration(e.by_kernel[i].seconds);
        t.add({"  slowest kernels", "", top});
    } else {
        std::string peak = fixed(r.peak_flops / 1e12, 0) + " TFLOP/s" + (r.peak_given ? " (--peak-flops)" : "");
        if (r.clock_fraction < 1)
            peak += " × clock " + fixed(r.clock_fraction, 3) + " (--power-limit " + fixed(r.board_watts, 0) + " W of " +
                    fixed(plan.gpu.tdp_watts, 0) + " W: ((c − 0.36)/0.64)^(1/3), c = " + fixed(r.board_watts / plan.gpu.tdp_watts, 3) +
                    "; fitted to Zeus's power-limit traces)";
        t.add({"compute", duration(r.compute_seconds),
               "matmuls " + duration(r.matmul_seconds) + " at " + pct(r.gemm_efficiency) + " of " + peak +
                   " + element-wise " + duration(r.elementwise_seconds) +
                   " (activation bytes × traffic ÷ HBM bandwidth" + (calibration.empty() ? "" : "; calibrated: " + calibration) + ")"});
        std::string attention = "attention core backward " + fixed(r.attention_backward_factor, 1) + " × its forward FLOPs" +
                                (plan.config.attention == Attention::flash ? " (FlashAttention recomputes QKᵀ and softmax)" : "") +
                                ", at " + pct(r.attention_efficiency) + " of the 16-bit peak" +
                                (r.attention_efficiency_source.empty() ? std::string(" (the GEMM efficiency)")
                                                                       : " (" + r.attention_efficiency_source + ")");
        if (r.fp8_linears_only)
            attention += "; it and the output layer on the 16-bit peak " + fixed(r.peak_16bit / 1e12, 0) + " TFLOP/s (" +
                         to_string(plan.config.precision) + " recipes cast only the layers' linear matmuls); element-wise includes " +
                         duration(r.fp8_cast_seconds) + " of " + to_string(plan.config.precision) +
                         " casts (amax + cast of each operand: " + cast_bytes_text(plan.config.precision) +
                         " bytes per 16-bit element; weights " +
                         (r.fp8_weight_cast_source.empty() ? std::string("cast in every micro-batch")
                                                           : "once per step: " + r.fp8_weight_cast_source) +
                         ")";
        if (r.bf16_linear_share > 0)
            attention += "; " + pct(r.bf16_linear_share) + " of the linears' FLOPs at the 16-bit rate (" + r.bf16_linear_source + ")";
        if (r.ssm_seconds > 0)
            attention += "; Mamba-2 SSD scans " + duration(r.ssm_seconds) + " (in matmuls; " + r.rate_sources.ssm + ")";
        if (r.delta_rule_seconds > 0)
            attention += "; Gated DeltaNet delta rules " + duration(r.delta_rule_seconds) + " (in matmuls; " + r.rate_sources.delta_rule + ")";
        if (r.expert_gemm_efficiency > 0)
            attention += "; routed experts as grouped GEMMs of " + fixed(r.expert_tokens, 0) + " tokens each (balanced routing) at " +
                         pct(r.expert_gemm_efficiency) + " (the shape factor at the expert GEMM's smallest dimension); element-wise includes " +
                         duration(r.moe_permute_seconds) + " of token permutation for the dispatch and combine";
        if (r.elementwise.kernels == ElementwiseKernels::eager)
            attention += "; element-wise includes " + duration(r.eager_extra_seconds) + " of eager ops' traffic beyond fused kernels (" +
                         fixed(r.eager_extra_bytes_per_token / 1e6, 2) + " MB per token over the stage's layers, forward + backward: " +
                         eager_modules(r.eager_modules) + ")";
        if (r.loss_seconds > 0)
            attention += "; element-wise includes " + duration(r.loss_seconds) + " of the loss over the logits (" + r.loss_source + ")";
        t.add({"  matmuls by kind", "", attention});
        t.add({"  rates from", "", "GEMMs: " + r.rate_sources.gemm + "; attention: " + r.rate_sources.attention +
                                        "; memory-bound: " + r.rate_sources.memory_bound + "; element-wise kernels: " + r.rate_sources.elementwise +
                                        (r.rate_sources.clamped.empty() ? "" : "; outside the table, clamped: " + r.rate_sources.clamped)});
    }
    if (p.pp > 1)
        t.add({"pipeline bubble", duration(r.bubble_seconds),
               "(p − 1)/(v·m) = " + std::to_string(p.pp - 1) + "/(" + std::to_string(p.virtual_stages) + "·" +
                   std::to_string(std::max<std::int64_t>(1, plan.config.grad_accum())) + ") = " + pct(r.bubble_fraction) + " of compute"});
    t.add({"communication (exposed)", duration(r.comm_exposed_seconds),
           "of " + duration(r.comm_seconds) + " on the links (" + size(r.comm_bytes_per_gpu) +
               " per GPU per step); overlap model below"});
    t.add({"optimizer step", r.optimizer_on_cpu ? std::string("not modelled") : duration(r.optimizer_seconds),
           r.optimizer_on_cpu ? "on the CPU (--offload " + std::string(to_string(plan.config.offload)) +
                                    ": the rank's fp32 shard through the CPU's Adam, its gradients and the updated weights over "
                                    "the host link): not in the step time below (docs/PERFORMANCE_MODEL.md, Limits)"
           : r.engine_time ? "global norm + one fused AdamW launch per parameter tensor"
                           : "weights, master copy, states and gradients through HBM once"});
    if (r.moe_host.seconds > 0) {
        const MoeHostWork& h = r.moe_host;
        t.add({"MoE host work", duration(h.seconds),
               duration(h.per_layer_forward) + " per MoE layer forward × " + format_count(h.layer_forwards) + " + " +
                   duration(h.per_local_expert) + " per local expert × " + format_count(h.local_experts) + " local experts × " +
                   format_count(h.layer_passes) + " MoE layer passes, the GPU waiting (" + h.source + ")"});
    }
    if (const ActivationOffload& a = r.activation_offload; a.layers > 0) {
        auto exposed = [&](const char* way, double window) {
            return std::string(way) + " " + duration(a.copy_seconds) + (a.copy_seconds > window ? " beyond " : " under ") +
                   std::to_string(a.of - 2) + " layers' " + duration(window);
        };
        t.add({"activation offload", duration(a.seconds),
               size(a.bytes) + " of " + std::to_string(a.layers) + " layers per micro-batch over " + a.link + " at " +
                   fixed(a.link_bandwidth / 1e9, 0) + " GB/s each way: " + exposed("to the CPU", a.forward_window) + " forward, " +
                   exposed("back", a.backward_window) + " backward (Transformer Engine's schedule: copies beside L − 2 layers; "
                   "docs/PERFORMANCE_MODEL.md §2)"});
    }
    t.rule();
    t.add({"step time", duration(r.step_seconds),
           r.mfu_given ? "from --mfu " + fixed(r.mfu, 3) : std::string("sum of the above")});
    t.add({"throughput", format_count(r.tokens_per_second) + " tok/s",
           format_count(r.tokens_per_second / p.gpus) + " per GPU; MFU " + pct(r.mfu) + ", HFU " + pct(r.hfu) + " (PaLM App. B)"});
    // The error band of held-out published runs planned the same way (planner/accuracy.h).
    if (const std::optional<AccuracyBand> b = accuracy_band(plan.model, plan.config); b && !r.mfu_given) {
        const AccuracyBandText band = describe(*b, r.tokens_per_second / p.gpus);
        t.add({"  error band", band.range, band.how});
    }
    o << t.str();
    if (!r.collectives.empty()) {
        o << "\nCommunication per GPU per step (" << cl.network_description << "; NVLink all-reduce busbw up to "
          << fixed(cl.nvlink_bus_bandwidth / 1e9, 0) << " GB/s)\n";
        Table c({"collective", "group", "link", "size", "calls", "time", "exposed", "overlap"},
                {false, true, false, true, true, true, true, false});
        for (const CollectiveUse& u : r.collectives)
            c.add({u.purpose, std::to_string(u.group),
                   u.measured_time ? std::string(to_string(u.link)) + ", measured"
                                   : std::string(to_string(u.link)) + " " + fixed(u.bus_bandwidth / 1e9, 0) + " GB/s",
                   size(u.bytes), fixed(u.count, 0), duration(u.seconds), duration(u.exposed_seconds),
                   u.overlap});
        o << c.str();
    }
    o << "\nTraining run\n";
    const RunGoodput& g = r.goodput;
    // With a goodput model the expected run stands beside the steady state.
    Table tr(g.modelled ? std::vector<std::string>{"", "steady state", "expected", "how"} : std::vector<std::string>{"", "value", "how"},
             g.modelled ? std::vector<bool>{false, true, true, false} : std::vector<bool>{false, true, false});
    auto row = [&](const std::string& what, const std::string& steady, const std::string& expected, const std::string& how) {
        if (g.modelled) tr.add({what, steady, expected, how});
        else tr.add({what, steady, how});
    };
    row("tokens", format_count(r.training_tokens), "",
        r.tokens_default ? "20 per parameter (Chinchilla; --tokens to set)" : std::string("--tokens"));
    row("steps", format_int(static_cast<std::int64_t>(r.steps)), "", "tokens ÷ tokens per step");
    if (g.modelled) {
        std::vector<std::string> parts;
        if (g.given) parts.push_back("--goodput " + fixed(g.goodput, 3));
        if (g.job_mtbf_hours > 0)
            parts.push_back("a failure every " + duration(g.job_mtbf_hours * 3600) + " (--mtbf-hours ÷ " + std::to_string(p.gpus) +
                            " GPUs): checkpoints " +
                            (g.checkpoint_interval_hours > 0
                                 ? pct(g.checkpoint_fraction) + " (every " + duration(g.checkpoint_interval_hours * 3600) +
                                       ", Young's √(2δM))"
                                 : std::string("cost nothing (--checkpoint-minutes 0: Young's √(2δM) is 0, no work is lost)")) +
                            ", lost work " +
                            pct(g.lost_work_fraction) + ", restarts " + pct(g.restart_fraction) + " of wall time");
        if (g.rampup_tokens > 0)
            parts.push_back("batch ramp-up over " + format_count(g.rampup_tokens) + " tokens: " +
                            format_int(std::llround(g.rampup_steps)) + " steps, +" + duration(g.rampup_extra_seconds));
        row("goodput", pct(1.0), pct(g.goodput), join(parts, "; "));
    }
    row("wall time", duration(r.training_seconds), g.modelled ? duration(g.expected_seconds) : "",
        g.modelled ? "steps × step time; expected: (steady + ramp-up) ÷ goodput" : "steps × step time");
    row("GPU-hours", format_count(r.gpu_hours), g.modelled ? format_count(g.expected_gpu_hours) : "", std::to_string(p.gpus) + " GPUs");
    row("cost", "$" + format_count(r.cost), g.modelled ? "$" + format_count(g.expected_cost) : "",
        "$" + fixed(cl.price_per_gpu_hour, 2) + " per GPU-hour (" + cl.price_source + ")");
    row("energy", format_count(r.energy_kwh) + " kWh", "",
        fixed(r.average_power_watts, 0) + " W per GPU (" + fixed(r.board_watts, 0) + " W" +
            (r.board_watts < plan.gpu.tdp_watts ? " power limit" : "") + " × (0.3 + 0.7 × busy " + pct(r.busy_fraction) +
            ")) × PUE" + (g.modelled ? "; steady state" : ""));
    row("CO2", format_count(r.co2_kg / 1000) + " t", "", "energy × grid intensity");
    o << tr.str();
    return o.str();
}

}  // namespace

int run_plan(const PlanCommand& cmd, std::ostream& out, std::ostream& err) {
    const ByteUnit unit = [&] {
        const std::string u = to_lower(cmd.units);
        if (u == "gib") return ByteUnit::gib;
        if (u == "gb") return ByteUnit::gb;
        throw InputError("--units: \"" + cmd.units + "\" is not a unit; use gib (2^30 bytes) or gb (10^9 bytes)");
    }();
    const PreparedJob prepared = prepare_job(*cmd.app, cmd.model, cmd.job, cmd.perf, cmd.imports, err);
    const ResolvedModel& model = prepared.model;
    const GpuSpec gpu = resolve_gpu(prepared.job);
    const TrainConfig config = resolve_job(prepared.job, gpu);
    const MemoryPlan plan = plan_memory(model.spec, gpu, config);
    const ResolvedPerf perf_in = resolve_perf(prepared.perf, gpu, plan.config);
    if (!cmd.write_scenario.empty())
        write_output_file(cmd.write_scenario,
                          report_text(gui::scenario_to_json(scenario_from_job(cmd.model, prepared, config)), "scenario"),
                          "--write-scenario");
    const PerfPlan perf = plan_perf(plan, perf_in.cluster, perf_in.options);

    nlohmann::ordered_json report =
        plan_to_json(plan, perf, perf_in.cluster, model.origin, model.derived, perf_in.options.calibration);
    if (!prepared.imports.empty()) {
        report["imports"] = nlohmann::ordered_json::array();
        for (const JobImport& imp : prepared.imports) report["imports"].push_back(import_json(imp));
    }
    std::string comparison;
    if (cmd.compare_finetune) {
        // Full fine-tuning vs LoRA vs QLoRA for the same model, GPUs and batch.
        const int rank = config.lora.enabled() ? config.lora.rank : 16;
        struct Row {
            const char* name;
            TrainConfig c;
        };
        std::vector<Row> rows;
        TrainConfig full = config;
        full.lora = LoraConfig{};
        TrainConfig lora_c = config;
        lora_c.lora.rank = rank;
        lora_c.lora.base_quant = BaseQuant::none;
        TrainConfig qlora = lora_c;
        qlora.lora.base_quant = BaseQuant::nf4;
        rows.push_back({"full fine-tuning", full});
        rows.push_back({"LoRA", lora_c});
        rows.push_back({"QLoRA (nf4 base)", qlora});
        Table t({"method", "trainable", "GiB per GPU", "fits", "step", "tokens/s", "largest micro-batch"},
                {false, true, true, false, true, true, true});
        nlohmann::json cmp = nlohmann::json::array();
        for (const Row& row : rows) {
            const MemoryPlan mp = plan_memory(model.spec, gpu, row.c);
            const PerfPlan pf = plan_perf(mp, perf_in.cluster, perf_in.options);
            const double trainable = row.c.lora.enabled() ? count_lora(model.spec, row.c.lora).adapter_params
                                                          : static_cast<double>(mp.params.total());
            const std::string step = pf.step_seconds < 1 ? format_fixed(pf.step_seconds * 1e3, 1) + " ms"
                                                         : format_fixed(pf.step_seconds, 2) + " s";
            t.add({row.name, format_count(trainable), format_bytes(mp.worst().device_total, unit).substr(0, format_bytes(mp.worst().device_total, unit).find(' ')),
                   mp.fits ? "yes" : "NO", step, format_count(pf.tokens_per_second), std::to_string(mp.max_micro_batch)});
            cmp.push_back(finetune_row_json(row.name, trainable, mp, pf));
        }
        report["finetune_comparison"] = cmp;
        comparison = "\nFull fine-tuning vs LoRA (r " + std::to_string(rank) + ", " + lora_targets_string(config.lora.targets) +
                     ") vs QLoRA, same GPUs and batch\n" + t.str();
    }
    const std::string json_text = report_text(report, "plan report");
    if (!cmd.report.empty()) write_output_file(cmd.report, json_text, "--report");
    if (cmd.json) {
        out << json_text;
    } else {
        out << render(plan, model, unit) << render_perf(plan, perf, perf_in.cluster, perf_in.options.calibration) << comparison;
    }
    if (cmd.json)
        for (const std::string& w : plan.warnings) err << "llmplan plan: warning: " << w << "\n";
    return 0;
}

}  // namespace llmplan::cli
