// figures.cpp — display text for the planner's numbers.
#include "gui/figures.h"

#include "core/quantity.h"
#include "core/text.h"
#include "planner/accuracy.h"
#include "planner/framework.h"

#include <cmath>

namespace llmplan::gui {

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// "$" + text without GCC 12's false -Wrestrict on operator+(const char*, std::string&&).
std::string prefixed(const char* prefix, const std::string& text) {
    std::string s(prefix);
    s += text;
    return s;
}
}

std::string format_duration(double s) {
    if (!std::isfinite(s)) return "–";
    if (s < 1e-3) return format_fixed(s * 1e6, 1) + " µs";
    if (s < 1) return format_fixed(s * 1e3, 1) + " ms";
    if (s < 120) return format_fixed(s, 2) + " s";
    if (s < 7200) return format_fixed(s / 60, 1) + " min";
    if (s < 3 * 86400) return format_fixed(s / 3600, 1) + " h";
    return format_fixed(s / 86400, 1) + " days";
}

std::string format_value(double v, const std::string& unit) {
    if (!std::isfinite(v)) return "–";
    if (unit == "GiB") return format_fixed(v, 2) + " GiB";
    if (unit == "ms") return format_duration(v / 1e3);
    if (unit == "days") return format_duration(v * 86400);
    if (unit == "USD") return prefixed("$", format_count(v));
    if (unit == "%") return format_fixed(v, 1) + "%";
    if (unit.empty())  // a count: exact while it is a whole number a person reads at a glance
        return v == std::floor(v) && std::abs(v) < 1e6 ? format_int(static_cast<std::int64_t>(v)) : format_count(v);
    return format_count(v) + " " + unit;
}

std::string format_signed_delta(double delta, const std::string& unit) {
    if (delta == 0) return "±0";
    return prefixed(delta > 0 ? "+" : "−", format_value(std::abs(delta), unit));
}

std::vector<Figure> key_figures(const Evaluation& e) {
    const MemoryPlan& m = e.memory;
    const StageMemory& w = m.worst();
    const PerfPlan& p = e.perf;
    std::vector<Figure> f;
    auto gib = [&](const char* key, const char* label, double bytes, std::string how) {
        f.push_back({key, label, bytes / kGiB, "GiB", format_value(bytes / kGiB, "GiB"), std::move(how)});
    };
    auto ms = [&](const char* key, const char* label, double seconds, std::string how) {
        f.push_back({key, label, seconds * 1e3, "ms", format_value(seconds * 1e3, "ms"), std::move(how)});
    };
    gib("device_total", "device total per GPU", w.device_total,
        "reserved estimate + CUDA context and workspaces, most loaded pipeline stage (docs/MEMORY_MODEL.md §6)");
    gib("capacity", "GPU capacity", m.capacity_bytes, m.gpu.display_name);
    gib("headroom", m.fits ? "headroom" : "short by", m.fits ? m.headroom_bytes : -m.headroom_bytes,
        "capacity − device total");
    gib("peak_allocated", "peak allocated", w.peak_allocated, "at " + w.peak_phase);
    {
        const double trainable = trainable_parameters(e), total = static_cast<double>(m.params.total());
        const LoraConfig& l = m.config.lora;
        f.push_back({"trainable", "trainable parameters", trainable, "", format_value(trainable, ""),
                     l.enabled() ? "LoRA r " + std::to_string(l.rank) + " on " + lora_targets_string(l.targets) + ": " +
                                       format_fixed(100 * trainable / total, 3) + "% of " + format_count(total) +
                                       (l.base_quant != BaseQuant::none ? std::string(", frozen base in ") + to_string(l.base_quant) : "") +
                                       " (count_lora: PEFT's r·(in + out) per adapted projection)"
                                 : "every parameter (full training)"});
    }
    f.push_back({"max_micro_batch", "largest micro-batch that fits", static_cast<double>(m.max_micro_batch), "",
                 format_value(static_cast<double>(m.max_micro_batch), ""), "same micro-batches per step"});
    ms("step_time", "step time", p.step_seconds, p.mfu_given ? "from the given MFU" : "compute + exposed communication + bubble + optimizer");
    ms("compute", "compute", p.compute_seconds, "matmuls " + format_duration(p.matmul_seconds) + " at " +
                                                     format_fixed(100 * p.gemm_efficiency, 1) + "% of peak + element-wise " +
                                                     format_duration(p.elementwise_seconds));
    ms("exposed_comm", "exposed communication", p.comm_exposed_seconds,
       "of " + format_duration(p.comm_seconds) + " on the links (overlap model: Communication tab)");
    ms("bubble", "pipeline bubble", p.bubble_seconds, "(p − 1)/(v·m) = " + format_fixed(100 * p.bubble_fraction, 1) + "% of compute");
    ms("optimizer", "optimizer step", p.optimizer_seconds,
       p.optimizer_on_cpu ? "on the CPU (--offload): not modelled, not in the step time"
                          : "weights, master copy, states and gradients through HBM once");
    if (p.moe_host.seconds > 0)
        ms("moe_host", "MoE host work", p.moe_host.seconds,
           format_duration(p.moe_host.per_layer_forward) + " per MoE layer forward + " + format_duration(p.moe_host.per_local_expert) +
               " per local expert per MoE layer pass, the GPU waiting (" + p.moe_host.source + ")");
    if (p.activation_offload.layers > 0)
        ms("activation_offload", "activation offload", p.activation_offload.seconds,
           "the copies of " + std::to_string(p.activation_offload.layers) + " layers' activations over " + p.activation_offload.link +
               " (" + format_duration(p.activation_offload.copy_seconds) + " each way per micro-batch) beyond the " +
               std::to_string(p.activation_offload.of - 2) + " layers beside them");
    f.push_back({"tokens_per_second", "throughput", p.tokens_per_second, "tok/s", format_value(p.tokens_per_second, "tok/s"),
                 format_count(p.tokens_per_second / m.config.parallel.gpus) + " per GPU"});
    // The error band of held-out published runs planned the same way (planner/accuracy.h).
    if (const std::optional<AccuracyBand> b = accuracy_band(m.model, m.config); b && !p.mfu_given) {
        const AccuracyBandText band = describe(*b, p.tokens_per_second / m.config.parallel.gpus);
        f.push_back({"error_band", "error band (80%, tok/s per GPU)", 100 * b->p80_abs, "%", band.range, band.how});
    }
    f.push_back({"mfu", "MFU", 100 * p.mfu, "%", format_value(100 * p.mfu, "%"),
                 "model FLOPs utilisation; HFU " + format_fixed(100 * p.hfu, 1) + "% (PaLM App. B)"});
    f.push_back({"training_days", "training time", p.training_seconds / 86400, "days", format_value(p.training_seconds / 86400, "days"),
                 format_count(p.training_tokens) + " tokens" + (p.tokens_default ? " (20 per parameter, Chinchilla)" : "") +
                     ", " + format_count(p.steps) + " steps"});
    f.push_back({"gpu_hours", "GPU-hours", p.gpu_hours, "GPU·h", format_value(p.gpu_hours, "GPU·h"), std::to_string(m.config.parallel.gpus) + " GPUs"});
    f.push_back({"cost", "cost", p.cost, "USD", format_value(p.cost, "USD"),
                 prefixed("$", format_fixed(e.cluster.price_per_gpu_hour, 2)) + " per GPU-hour (" + e.cluster.price_source + ")"});
    f.push_back({"energy", "energy", p.energy_kwh, "kWh", format_value(p.energy_kwh, "kWh"),
                 format_fixed(p.average_power_watts, 0) + " W per GPU × PUE " + format_fixed(e.perf_options.pue, 2)});
    f.push_back({"co2", "CO₂", p.co2_kg / 1000, "t", format_value(p.co2_kg / 1000, "t"),
                 "energy × " + format_fixed(e.perf_options.grid_intensity, 2) + " kg/kWh"});
    return f;
}

std::vector<Figure> infer_figures(const InferEvaluation& e) {
    const InferPlan& p = e.plan;
    const InferConfig& c = p.config;
    const bool vllm = c.framework == InferFramework::vllm;
    std::vector<Figure> f;
    auto gib = [&](const char* key, const char* label, double bytes, std::string how) {
        f.push_back({key, label, bytes / kGiB, "GiB", format_fixed(bytes / kGiB, 2) + " GiB", std::move(how)});
    };
    auto secs = [&](const char* key, const char* label, double seconds, std::string how) {
        f.push_back({key, label, seconds * 1e3, "ms", format_duration(seconds), std::move(how)});
    };
    auto count = [&](const char* key, const char* label, std::int64_t v, std::string how) {
        f.push_back({key, label, static_cast<double>(v), "", std::to_string(v), std::move(how)});
    };
    gib("device_total", "device total per GPU", p.device_total,
        vllm ? "vLLM's reservation (gpu_memory_utilization × capacity) + CUDA context"
             : "peak allocated + CUDA context; peak = max(prefill, last decode step)");
    gib("headroom", p.fits ? "headroom" : "short by", p.fits ? p.headroom : -p.headroom,
        vllm ? "reservation − (weights + activations + graphs + this batch's KV blocks)" : "capacity − device total");
    gib("peak_allocated", "peak allocated", p.peak,
        vllm ? "weights + activations + graphs + this batch's KV blocks"
             : "max(prefill: weights + prompt KV + activations, last decode step: weights + full KV)");
    gib("kv_cache", "KV cache", p.kv_cache, format_bytes(p.kv_bytes_per_token) + " per token per GPU");
    // With the CLI's qualifiers: the batch at this request length, the context at this batch.
    const std::string tokens = std::to_string(c.prompt + c.generate);
    count("max_batch", ("largest batch at " + tokens + " tokens").c_str(), p.max_batch,
          "sequences of " + tokens + " tokens that fit" +
              (vllm ? " in the whole peak (weights, activations, graphs and KV); vLLM sequences count the KV blocks alone" : ""));
    count("max_context", ("longest context at batch " + std::to_string(c.batch)).c_str(), p.max_context,
          "prompt + generated tokens that fit at batch " + std::to_string(c.batch));
    if (p.max_context == 0) {
        f.back().text = "none";
        f.back().how = "not even a one-token prompt fits at batch " + std::to_string(c.batch);
    }
    if (vllm) {
        count("vllm_kv_blocks", "vLLM KV blocks", p.vllm_kv_blocks, "of " + std::to_string(c.block_size) + " tokens");
        count("vllm_max_sequences", ("vLLM sequences of " + tokens + " tokens its KV blocks hold").c_str(), p.vllm_max_sequences,
              "KV blocks ÷ blocks per sequence of " + tokens +
                  " tokens: how many sequences vLLM's block pool admits at once (the largest batch also counts activations)");
    }
    secs("ttft", "time to first token", p.prefill_seconds, prefill_time_text(p));
    secs("token_latency", "per-token latency", p.decode_step_seconds,
         std::string(p.decode_compute_bound ? "compute-bound" : "memory-bound: ") +
             (p.decode_compute_bound ? "" : format_bytes(p.decode_bytes_per_step, ByteUnit::gb) + " (weights + KV) per step at " +
                                                format_fixed(100 * kDecodeBandwidthEfficiency, 0) + "% of HBM bandwidth") +
             " + framework overhead");
    f.push_back({"tokens_per_second", "tokens/s per sequence", p.tokens_per_second_per_sequence, "tok/s",
                 format_fixed(p.tokens_per_second_per_sequence, 1) + " tok/s", "1 ÷ per-token latency"});
    f.push_back({"tokens_per_second_per_gpu", "tokens/s per GPU", p.tokens_per_second_per_gpu, "tok/s",
                 format_count(p.tokens_per_second_per_gpu) + " tok/s", "batch ÷ per-token latency ÷ tp"});
    secs("total", "whole request", p.total_seconds, "prefill + " + std::to_string(c.generate) + " decode steps");
    return f;
}

std::vector<MemorySegment> infer_segments(const InferEvaluation& e) {
    std::vector<MemorySegment> out;
    for (const MemoryTerm& t : e.plan.terms)
        out.push_back({t.key, t.label, t.bytes / kGiB,
                       t.label + ": " + format_fixed(t.bytes / kGiB, 3) + " GiB\n" + t.formula + "\nsource: " + t.source});
    return out;
}

std::map<std::string, Figure> figures_by_key(const Evaluation* e) {
    std::map<std::string, Figure> by_key;
    if (e)
        for (Figure& f : key_figures(*e)) by_key[f.key] = std::move(f);
    return by_key;
}

std::vector<MemorySegment> memory_segments(const Evaluation& e) {
    const StageMemory& w = e.memory.worst();
    std::vector<MemorySegment> out;
    auto tip = [](const std::string& label, double bytes, const std::string& formula, const std::string& source) {
        return label + ": " + format_fixed(bytes / kGiB, 3) + " GiB\n" + formula + "\nsource: " + source;
    };
    const MemoryTerm* overhead = nullptr;
    for (const MemoryTerm& t : w.terms) {
        if (t.key == "overhead") {
            overhead = &t;
            continue;
        }
        out.push_back({t.key, t.label, t.bytes / kGiB, tip(t.label, t.bytes, t.formula, t.source)});
    }
    const double reserve = w.reserved_estimate - w.peak_allocated;
    out.push_back({"allocator_reserve", "allocator reserve", reserve / kGiB,
                   tip("allocator reserve", reserve,
                       "reserved estimate − peak allocated = peak × " +
                           format_fixed(w.peak_allocated > 0 ? reserve / w.peak_allocated : e.memory.allocator_fragmentation, 3),
                       framework_profile(e.memory.config.framework).reserve_source())});
    if (overhead) out.push_back({overhead->key, overhead->label, overhead->bytes / kGiB,
                                 tip(overhead->label, overhead->bytes, overhead->formula, overhead->source)});
    return out;
}

std::vector<TimeSegment> time_segments(const Evaluation& e) {
    const PerfPlan& p = e.perf;
    const std::string src = "\nsource: docs/PERFORMANCE_MODEL.md";
    return {
        {"compute", "compute", p.compute_seconds * 1e3,
         "compute: " + format_duration(p.compute_seconds) + "\nmatmuls " + format_duration(p.matmul_seconds) + " at " +
             format_fixed(100 * p.gemm_efficiency, 1) + "% of " + format_fixed(p.peak_flops / 1e12, 0) +
             " TFLOP/s + element-wise " + format_duration(p.elementwise_seconds) + src + " §2"},
        {"exposed_comm", "exposed communication", p.comm_exposed_seconds * 1e3,
         "exposed communication: " + format_duration(p.comm_exposed_seconds) + "\nof " + format_duration(p.comm_seconds) +
             " on the links; NCCL alpha-beta model per collective, overlap rules" + src + " §3–4"},
        {"bubble", "pipeline bubble", p.bubble_seconds * 1e3,
         "pipeline bubble: " + format_duration(p.bubble_seconds) + "\n(p − 1)/(v·m) = " + format_fixed(100 * p.bubble_fraction, 1) +
             "% of compute (1F1B; Narayanan et al. 2021)" + src},
        {"optimizer", "optimizer step", p.optimizer_seconds * 1e3,
         "optimizer step: " + format_duration(p.optimizer_seconds) +
             "\nweights, master copy, states and gradients through HBM once (memory-bound)" + src},
        {"moe_host", "MoE host work", p.moe_host.seconds * 1e3,
         "MoE host work: " + format_duration(p.moe_host.seconds) + "\nhost work after each MoE layer's device-to-host sync, per layer "
         "and per local expert, the GPU waiting" + src + " §2"},
        {"activation_offload", "activation offload", p.activation_offload.seconds * 1e3,
         "activation offload: " + format_duration(p.activation_offload.seconds) +
             "\nthe offloaded layers' copies to and from CPU memory the layers beside them leave exposed" + src + " §2"},
    };
}

}  // namespace llmplan::gui
