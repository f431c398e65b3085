// perf.cpp — step time, communication, MFU, cost and energy; the model is described in perf.h
// and docs/PERFORMANCE_MODEL.md.
#include "planner/perf.h"

#include "core/error.h"
#include "core/json.h"
#include "planner/activations.h"
#include "planner/lora.h"
#include "planner/model_states.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <cmath>

namespace llmplan {

namespace {

constexpr double kGbit = 1e9 / 8;  // bytes/s in one Gb/s

bool starts_with(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Where a parallel group of `size` ranks with rank stride `stride` runs (Megatron's order:
// tensor innermost, then context, data (expert within it), pipeline outermost).
struct Placement {
    LinkKind link = LinkKind::nvlink;
    double busbw = 0;
};
Placement place(const ClusterSpec& cl, int gpus, int size, int stride) {
    Placement p;
    const bool spans = gpus > cl.gpus_per_node && static_cast<long long>(size) * stride > cl.gpus_per_node;
    if (!spans) {
        p.busbw = nvlink_group_busbw(cl, size);
        return p;
    }
    // Across nodes: NCCL runs one ring per NIC ("rails"); members of the group in one node share
    // their NICs, so the group's bus bandwidth is the network per GPU × members per node, capped
    // by what NVLink inside the node carries.
    const int per_node = std::max(1, std::min(size, cl.gpus_per_node / std::max(1, stride)));
    p.link = LinkKind::network;
    p.busbw = std::min(nvlink_group_busbw(cl, per_node), per_node * cl.network_per_gpu);
    return p;
}

}  // namespace

double nvlink_group_busbw(const ClusterSpec& cl, int n) {
    return cl.nvlink_bus_bandwidth * (1 - kNvlinkRingLoss / std::max(1, n));
}

double gemm_efficiency_for(const GpuSpec& g) {
    return g.architecture == "Hopper" ? kGemmEfficiencyHopper : kGemmEfficiency;
}

double peak_for(const GpuSpec& g, Precision p) {
    switch (p) {
        case Precision::fp32: return g.peak_tf32 > 0 ? g.peak_tf32 : g.peak_fp32;
        case Precision::amp_fp16:
        case Precision::mixed_fp16: return g.peak_fp16;
        case Precision::fp8: return g.peak_fp8 > 0 ? g.peak_fp8 : g.peak_bf16;
        case Precision::amp_bf16:
        case Precision::mixed_bf16:
        case Precision::bf16: return g.peak_bf16 > 0 ? g.peak_bf16 : g.peak_fp16;
    }
    return g.peak_bf16;
}

ClusterSpec default_cluster(const GpuSpec& gpu, int gpus_per_node) {
    ClusterSpec c;
    c.gpus_per_node = gpus_per_node;
    c.nvlink_bus_bandwidth = kNvlinkBusbwFraction * gpu.intra_node_bandwidth;
    const std::string& a = gpu.architecture;
    double gbps = 100;  // EDR/HDR-100 class
    std::string nic = "100 Gb/s";
    if (a == "Hopper" || a == "Blackwell" || starts_with(gpu.name, "mi3")) {
        gbps = 400;
        nic = "NDR InfiniBand 400 Gb/s";
    } else if (a == "Ampere" || a == "CDNA 2") {
        gbps = 200;
        nic = "HDR InfiniBand 200 Gb/s";
    }
    // 46–48 GB/s measured busbw per 400 Gb/s NIC (nccl-tests #290): 94% of the line rate.
    c.network_per_gpu = 0.94 * gbps * kGbit;
    c.network_description = std::to_string(gpus_per_node) + " × " + nic + " per node (one NIC per GPU)";
    // Typical on-demand cloud prices per GPU-hour in 2026 (assumed; --price-per-gpu-hour overrides).
    if (starts_with(gpu.name, "h200") || starts_with(gpu.name, "b200")) c.price_per_gpu_hour = 3.50;
    else if (starts_with(gpu.name, "h100")) c.price_per_gpu_hour = 2.50;
    else if (starts_with(gpu.name, "a100")) c.price_per_gpu_hour = 1.50;
    else if (starts_with(gpu.name, "mi300")) c.price_per_gpu_hour = 2.50;
    else c.price_per_gpu_hour = 1.00;
    c.price_source = "typical 2026 cloud on-demand price (assumed)";
    return c;
}

PerfPlan plan_perf(const MemoryPlan& plan, const ClusterSpec& cl, const PerfOptions& opt) {
    if (!(opt.pue >= 1)) throw InputError("--pue " + std::to_string(opt.pue) + ": must be at least 1");
    if (!(opt.grid_intensity >= 0)) throw InputError("--grid-intensity: must not be negative");
    if (!(cl.price_per_gpu_hour >= 0)) throw InputError("--price-per-gpu-hour: must not be negative");
    if (!(cl.network_per_gpu > 0) || !(cl.nvlink_bus_bandwidth > 0))
        throw InputError("--inter-node-bandwidth: link bandwidths must be positive");
    if (opt.mfu < 0 || opt.mfu > 1) throw InputError("--mfu " + std::to_string(opt.mfu) + ": must be between 0 and 1");
    if (opt.tokens < 0) throw InputError("--tokens: must not be negative");

    const ModelSpec& m = plan.model;
    const TrainConfig& c = plan.config;
    const ParallelLayout& p = c.parallel;
    const GpuSpec& g = plan.gpu;
    // The last stage is the slowest (it also runs the output layer); all stages hold the same layers.
    const StageMemory& st = plan.stages.back();
    const PrecisionBytes pb = precision_bytes(c.precision);
    PerfPlan r;

    // --- FLOPs (flops.h; PaLM App. B for MFU / HFU) ----------------------------------------------
    r.forward_per_token = forward_flops_per_token(m, c.seq);
    r.per_token = training_flops_per_token(m, c.seq, c.recompute);
    const bool lora = c.lora.enabled();
    const LoraCount lc = count_lora(m, c.lora);
    if (lora) {
        // A frozen base computes no weight gradients: forward + input gradients (2 × forward), plus
        // the adapters' 6 FLOPs per parameter; recompute adds what it adds without LoRA.
        const double extra = r.per_token.hardware - r.per_token.model;
        const ForwardFlops fw = forward_flops_per_token(m, c.seq);
        r.per_token.model = 2 * fw.total() + 6 * lc.adapter_params;
        r.per_token.hardware = r.per_token.model + extra;
    }
    const double N = static_cast<double>(plan.params.total()), L = m.n_layers, d = m.d_model,
                 T = static_cast<double>(c.seq);
    r.flops_6n = flops_6n(static_cast<double>(plan.params.active));
    r.flops_6n_attention = flops_6n_causal_attention(static_cast<double>(plan.params.active), L, d, T);
    r.flops_palm = flops_palm(static_cast<double>(plan.params.active), L, d, T);
    r.tokens_per_step = static_cast<double>(c.global_batch) * T;
    r.model_flops_per_step = r.per_token.model * r.tokens_per_step;
    r.hardware_flops_per_step = r.per_token.hardware * r.tokens_per_step;

    // --- compute on the worst stage ---------------------------------------------------------------
    r.peak_flops = peak_for(g, c.precision);
    const double tokens_mb = static_cast<double>(c.micro_batch) * T / p.cp;  // tokens one GPU processes
    const double layers = static_cast<double>(st.layers);
    const bool last = st.stage == p.pp - 1;
    // Smallest per-GPU matmul dimension: small ones leave tensor cores idle (shape factor n/(n+128)).
    const double n_min = std::min({d, static_cast<double>(m.q_dim()) / p.tp, static_cast<double>(m.d_ff) / p.tp, tokens_mb});
    r.gemm_efficiency = (opt.gemm_efficiency > 0 ? opt.gemm_efficiency : gemm_efficiency_for(g)) * n_min / (n_min + 128);
    const ForwardFlops& f = r.forward_per_token;
    const double layer_fwd = (f.total() - f.logits) / L;  // per token per layer
    const double fwd_flops = (layer_fwd * layers + (last ? f.logits : 0)) * tokens_mb / p.tp;
    double recompute_flops = 0;
    if (c.recompute == Recompute::full) recompute_flops = layer_fwd * layers * tokens_mb / p.tp;
    if (c.recompute == Recompute::selective) recompute_flops = f.attention / L * layers * tokens_mb / p.tp;
    const double rate = r.peak_flops * r.gemm_efficiency;
    const ActivationShape shape = activation_shape(c);
    const double act = saved_bytes(layer_saved_tensors(m, c, Recompute::none), shape) * layers;
    const double hbm = opt.memory_bandwidth > 0 ? opt.memory_bandwidth : g.memory_bandwidth;
    const double elem = (opt.elementwise_traffic >= 0 ? opt.elementwise_traffic : kElementwiseTraffic) * act / hbm;  // forward 1/3, backward 2/3
    r.microbatch_forward_seconds = fwd_flops / rate + elem / 3;
    const double bwd_mult = lora ? 1 : 2;  // LoRA: input gradients only through the frozen base
    r.microbatch_backward_seconds = (bwd_mult * fwd_flops + recompute_flops) / rate + elem * 2 / 3 +
                                    (c.recompute == Recompute::full ? elem / 3 : 0);
    // QLoRA: every pass dequantizes the frozen matmul weights to bf16 (read the 4/8-bit codes,
    // write and read back 2 bytes per weight): HBM-bound, forward and backward (+ recompute).
    if (lora && c.lora.base_quant != BaseQuant::none) {
        double layer_matmul = 0;
        for (const ParamTensor& t : param_tensors(m))
            if (t.block == Block::layer && t.matmul_weight) layer_matmul += static_cast<double>(t.total_elements());
        layer_matmul = layer_matmul * layers / L / p.tp;
        const double qbytes = c.lora.base_quant == BaseQuant::nf4 ? 0.516 : 1.0;
        const double passes = 2 + (c.recompute == Recompute::full ? 1 : 0);
        const double dq = layer_matmul * (qbytes + 4) / hbm;
        r.microbatch_forward_seconds += dq;
        r.microbatch_backward_seconds += dq * (passes - 1);
    }
    const double mb = static_cast<double>(std::max<std::int64_t>(1, c.grad_accum()));
    const double t_mb = r.microbatch_forward_seconds + r.microbatch_backward_seconds;
    r.matmul_seconds = mb * ((1 + bwd_mult) * fwd_flops + recompute_flops) / rate;
    r.compute_seconds = mb * t_mb;
    r.elementwise_seconds = r.compute_seconds - r.matmul_seconds;
    r.bubble_fraction = (p.pp - 1.0) / (p.virtual_stages * mb);
    r.bubble_seconds = (p.pp - 1.0) / p.virtual_stages * t_mb;  // (p − 1)/(v·m) of the compute
    // Optimizer step: reads and writes weights, master copy and states, reads gradients (HBM-bound).
    r.optimizer_seconds = (2 * (st.parameters + st.master + st.optimizer_states) + st.gradients) / hbm;
    // llmplan's own engine on one device: its kernels one after another on one stream, each timed
    // from the calibration (engine_time.h) — replaces the generic compute terms above. Data
    // parallel (tp = pp = cp = ep = 1, docs/MULTI_GPU.md §5): every rank runs the one-GPU step on
    // its micro-batch, and with ZeRO ≥ 1 AdamW on its 1/N slices; the collectives' exposed time
    // is added below as for any framework.
    const bool engine_dp = p.tp == 1 && p.pp == 1 && p.cp == 1 && p.ep == 1;
    if (c.framework == Framework::llmplan && engine_dp && !lora) {
        TrainConfig one = c;
        one.parallel.gpus = 1;
        one.parallel.zero = 0;
        one.global_batch = c.micro_batch * static_cast<std::int64_t>(mb);
        const EngineStepTime et = engine_step_time(m, one, g, opt.engine_calibration.get());
        r.microbatch_forward_seconds = et.forward_seconds;
        r.microbatch_backward_seconds = et.backward_seconds;
        r.optimizer_seconds = et.optimizer_seconds / (p.gpus > 1 && p.zero >= 1 ? p.gpus : 1);
        r.matmul_seconds = mb * et.matmul_seconds;
        r.compute_seconds = mb * (et.forward_seconds + et.backward_seconds);
        r.elementwise_seconds = r.compute_seconds - r.matmul_seconds;
        r.bubble_seconds = 0;
        r.engine_time = et;
    }

    // --- communication ------------------------------------------------------------------------------
    const int dpN = p.shard_group();
    const double P_local = static_cast<double>(st.params_on_gpu);
    const double act_b = pb.activation;
    r.collectives.reserve(16);  // add() returns references that must stay valid (at most 8 entries)
    auto add = [&](std::string purpose, Collective kind, int group, int stride, double bytes, double count,
                   std::string overlap) -> CollectiveUse& {
        CollectiveUse u;
        u.purpose = std::move(purpose);
        u.kind = kind;
        u.group = group;
        u.bytes = bytes;
        u.count = count;
        const Placement pl = place(cl, p.gpus, kind == Collective::send_recv ? 2 : group, stride);
        u.link = pl.link;
        u.bus_bandwidth = pl.busbw;
        u.each = collective_time(kind, bytes, group, LinkModel{pl.link, pl.busbw});
        if (pl.link == LinkKind::nvlink) {
            const double t = measured_collective_seconds(opt.measured_collectives, kind, group, bytes);
            if (t > 0) {
                u.each.seconds = t;
                u.measured_time = true;
            }
        }
        u.seconds = count * u.each.seconds;
        u.exposed_seconds = u.seconds;
        u.overlap = std::move(overlap);
        r.collectives.push_back(u);
        return r.collectives.back();
    };
    const double t_fwd = r.microbatch_forward_seconds, t_bwd = r.microbatch_backward_seconds;
    // Overlap with a compute window: layer-wise buckets hide all but max(one bucket, comm − window).
    auto hidden_by = [&](double comm, double window) { return std::max(comm / std::max(1.0, layers), comm - window); };
    const int dp_stride = p.tp * p.cp;
    if (dpN > 1) {
        // LoRA: only the adapters' gradients are reduced (fp32); ZeRO-3 still gathers the frozen base.
        const double adapters = lc.adapter_params * st.layers / m.n_layers / p.tp;
        const double grads = lora ? adapters * 4 : P_local * pb.grad;
        const double weights = p.zero >= 3 ? st.parameters * dpN : (lora ? adapters * 4 : P_local * pb.weight);
        if (p.zero == 0) {
            CollectiveUse& u = add("data-parallel gradient all-reduce (DDP)", Collective::all_reduce, dpN, dp_stride, grads, 1,
                                   "bucketed during the last micro-batch's backward: max(one layer's bucket, comm − backward)");
            u.exposed_seconds = hidden_by(u.seconds, t_bwd);
        } else if (p.zero == 1) {
            CollectiveUse& u = add("ZeRO-1 gradient reduce-scatter", Collective::reduce_scatter, dpN, dp_stride, grads, 1,
                                   "bucketed during the last micro-batch's backward: max(one layer's bucket, comm − backward)");
            u.exposed_seconds = hidden_by(u.seconds, t_bwd);
            add("ZeRO-1 parameter all-gather after the optimizer step", Collective::all_gather, dpN, dp_stride, weights, 1,
                "exposed: runs after the optimizer step");
        } else if (p.zero == 2) {
            // A rank keeps only its gradient slice, so the full gradient cannot be accumulated over
            // micro-batches: every micro-batch's backward reduce-scatters (DeepSpeed stage 2;
            // ZeRO §5.2: gradients reduced as they are produced).
            CollectiveUse& u = add("ZeRO-2 gradient reduce-scatter", Collective::reduce_scatter, dpN, dp_stride, grads, mb,
                                   "bucketed during every micro-batch's backward: max(one layer's bucket, comm − backward) each");
            u.exposed_seconds = mb * hidden_by(u.each.seconds, t_bwd);
            add("ZeRO-2 parameter all-gather after the optimizer step", Collective::all_gather, dpN, dp_stride, weights, 1,
                "exposed: runs after the optimizer step");
        } else {
            CollectiveUse& f1 = add("ZeRO-3 parameter all-gather, forward", Collective::all_gather, dpN, dp_stride, weights, mb,
                                    "prefetched layer by layer under the forward: max(one layer, comm − forward)");
            f1.exposed_seconds = mb * hidden_by(f1.each.seconds, t_fwd);
            CollectiveUse& b1 = add("ZeRO-3 parameter all-gather, backward", Collective::all_gather, dpN, dp_stride, weights, mb,
                                    "prefetched under the backward, sharing it with the reduce-scatter");
            CollectiveUse& b2 = add("ZeRO-3 gradient reduce-scatter", Collective::reduce_scatter, dpN, dp_stride, grads, mb,
                                    "under the backward, sharing it with the all-gather");
            const double both = b1.each.seconds + b2.each.seconds;
            const double exposed = mb * hidden_by(both, t_bwd);
            b1.exposed_seconds = exposed * b1.each.seconds / both;
            b2.exposed_seconds = exposed * b2.each.seconds / both;
        }
    }
    if (p.tp > 1) {
        const double S = static_cast<double>(c.micro_batch) * T / p.cp * d * act_b;
        const double per_layer = 4 + (c.recompute == Recompute::full ? 2 : 0);
        const std::string why = "exposed: on the critical path of every layer (Megatron)";
        if (!p.sp) {
            add("tensor-parallel all-reduce (2 forward + 2 backward per layer" +
                    std::string(c.recompute == Recompute::full ? " + 2 recomputed" : "") + ")",
                Collective::all_reduce, p.tp, 1, S, per_layer * layers * mb, why);
        } else {
            add("sequence-parallel all-gather", Collective::all_gather, p.tp, 1, S, per_layer * layers * mb, why);
            add("sequence-parallel reduce-scatter", Collective::reduce_scatter, p.tp, 1, S, per_layer * layers * mb, why);
        }
    }
    if (p.pp > 1) {
        const double S = static_cast<double>(c.micro_batch) * T / p.cp * d * act_b / (p.sp ? p.tp : 1);
        add("pipeline send/recv (activations forward, gradients backward)", Collective::send_recv, 2,
            p.tp * p.cp * p.dp(), S, 2 * mb * p.virtual_stages, "exposed: between dependent stages (1F1B)");
    }
    if (p.cp > 1) {
        const double S = 2 * static_cast<double>(c.micro_batch) * T / p.cp * static_cast<double>(m.kv_dim()) * act_b / p.tp;
        CollectiveUse& u = add("context-parallel ring exchange of K and V blocks", Collective::send_recv, p.cp, p.tp, S,
                               3 * (p.cp - 1) * layers * mb, "overlapped with the attention blocks it feeds");
        const double attention = mb * 3 * f.attention / L * layers * tokens_mb / p.tp / rate;
        u.exposed_seconds = std::max(0.0, u.seconds - attention);
    }
    if (m.is_moe() && p.ep > 1) {
        const double S = static_cast<double>(c.micro_batch) * T / p.cp * d * m.top_k * act_b / (p.sp ? p.tp : 1);
        add("MoE all-to-all (dispatch + combine, forward and backward)", Collective::all_to_all, p.ep, p.tp * p.cp, S,
            (4 + (c.recompute == Recompute::full ? 2 : 0)) * layers * mb, "exposed: tokens wait for their experts");
    }
    for (const CollectiveUse& u : r.collectives) {
        r.comm_bytes_per_gpu += u.count * u.bytes * busbw_factor(u.kind, u.kind == Collective::send_recv ? 2 : u.group);
        r.comm_seconds += u.seconds;
        r.comm_exposed_seconds += u.exposed_seconds;
    }

    // --- the step ------------------------------------------------------------------------------------
    r.step_seconds = r.compute_seconds + r.bubble_seconds + r.comm_exposed_seconds + r.optimizer_seconds;
    if (opt.mfu > 0) {
        r.mfu_given = true;
        r.step_seconds = r.model_flops_per_step / (p.gpus * r.peak_flops * opt.mfu);
    }
    r.tokens_per_second = r.tokens_per_step / r.step_seconds;
    r.mfu = r.model_flops_per_step / (r.step_seconds * p.gpus * r.peak_flops);
    r.hfu = r.hardware_flops_per_step / (r.step_seconds * p.gpus * r.peak_flops);

    // --- the run -------------------------------------------------------------------------------------
    r.tokens_default = opt.tokens <= 0;
    r.training_tokens = r.tokens_default ? 20 * N : opt.tokens;  // Chinchilla: ~20 tokens per parameter
    r.steps = std::ceil(r.training_tokens / r.tokens_per_step);
    r.training_seconds = r.steps * r.step_seconds;
    r.gpu_hours = p.gpus * r.training_seconds / 3600;
    r.cost = r.gpu_hours * cl.price_per_gpu_hour;
    // Board power: 30% while waiting (communication, bubble), full TDP while computing.
    r.busy_fraction = std::min(1.0, r.compute_seconds / r.step_seconds);
    if (r.mfu_given) r.busy_fraction = 1;
    r.average_power_watts = g.tdp_watts * (0.3 + 0.7 * r.busy_fraction);
    r.energy_kwh = p.gpus * r.average_power_watts * r.training_seconds / 3.6e6 * opt.pue;
    r.co2_kg = r.energy_kwh * opt.grid_intensity;
    return r;
}

double measured_collective_seconds(const std::vector<MeasuredCollective>& m, Collective kind, int gpus, double bytes) {
    std::map<double, std::pair<double, int>> by_size;  // bytes -> (Σ seconds, count)
    for (const MeasuredCollective& c : m)
        if (c.kind == kind && c.gpus == gpus && c.bytes > 0 && c.seconds > 0) {
            auto& [sum, n] = by_size[c.bytes];
            sum += c.seconds;
            ++n;
        }
    if (by_size.empty() || bytes <= 0) return 0;
    std::vector<std::pair<double, double>> pts;
    for (const auto& [b, sn] : by_size) pts.emplace_back(b, sn.first / sn.second);
    if (bytes <= pts.front().first) return pts.front().second;
    if (pts.size() == 1) return pts.front().second * bytes / pts.front().first;
    std::size_t i = 1;
    while (i + 1 < pts.size() && pts[i].first < bytes) ++i;
    const auto& [b1, t1] = pts[i - 1];
    const auto& [b2, t2] = pts[i];
    return std::max(t1, t1 + (t2 - t1) * (bytes - b1) / (b2 - b1));
}

void apply_calibration(const std::string& text, const std::string& what, PerfOptions& o) {
    const nlohmann::json j = parse_json_object(text, what);
    auto number = [&](const char* key, double lo, double hi, double& out) {
        if (!j.contains(key)) return;
        if (!j[key].is_number()) throw InputError(what + ": \"" + std::string(key) + "\" must be a number");
        const double v = j[key].get<double>();
        if (!(v >= lo && v <= hi))
            throw InputError(what + ": \"" + std::string(key) + "\" = " + std::to_string(v) + " is outside [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
        out = v;
    };
    number("gemm_efficiency", 0.01, 1.0, o.gemm_efficiency);
    number("elementwise_traffic", 0.0, 1000.0, o.elementwise_traffic);
    number("memory_bandwidth", 1e9, 1e15, o.memory_bandwidth);
    if (j.contains("collectives")) {  // llmplan profile comm --out (docs/REPORTS.md)
        if (!j["collectives"].is_array()) throw InputError(what + ": \"collectives\" must be an array");
        std::size_t index = 0;
        for (const nlohmann::json& e : j["collectives"]) {
            const std::string where = what + ": collectives[" + std::to_string(index++) + "]";
            if (!e.is_object() || !e.contains("collective") || !e["collective"].is_string() || !e.contains("gpus") ||
                !e["gpus"].is_number_integer() || !e.contains("bytes") || !e["bytes"].is_number() ||
                !e.contains("time_us") || !e["time_us"].is_number())
                throw InputError(where + ": expected {\"collective\", \"gpus\", \"bytes\", \"time_us\"}");
            MeasuredCollective c;
            const std::string kind = e["collective"].get<std::string>();
            if (kind == "all_reduce")
                c.kind = Collective::all_reduce;
            else if (kind == "all_gather")
                c.kind = Collective::all_gather;
            else if (kind == "reduce_scatter")
                c.kind = Collective::reduce_scatter;
            else
                throw InputError(where + ": unknown collective \"" + kind + "\"");
            c.gpus = e["gpus"].get<int>();
            c.bytes = e["bytes"].get<double>();
            c.seconds = e["time_us"].get<double>() * 1e-6;
            if (c.gpus < 1 || !(c.bytes > 0) || !(c.seconds > 0))
                throw InputError(where + ": gpus, bytes and time_us must be positive");
            o.measured_collectives.push_back(c);
        }
    }
    EngineCalibration engine = parse_engine_calibration(text, what);
    if (!engine.kernels.empty()) o.engine_calibration = std::make_shared<const EngineCalibration>(std::move(engine));
    o.calibration = what + (j.contains("source") && j["source"].is_string() ? " (" + j["source"].get<std::string>() + ")" : "");
}

}  // namespace llmplan
