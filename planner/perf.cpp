// perf.cpp — step time, communication, MFU, cost and energy; the model is described in perf.h
// and docs/PERFORMANCE_MODEL.md.
#include "planner/perf.h"

#include "core/error.h"
#include "core/kernel_table.h"
#include "core/json.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/activations.h"
#include "planner/framework.h"
#include "planner/lora.h"
#include "planner/model_states.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace llmplan {

namespace {

constexpr double kGbit = 1e9 / 8;  // bytes/s in one Gb/s

// Where a parallel group of `size` ranks with rank stride `stride` runs (Megatron's order:
// tensor innermost, then context, data (expert within it), pipeline outermost).
struct Placement {
    LinkKind link = LinkKind::nvlink;
    double busbw = 0;
    int per_node = 0;  // the group's members in each node, when it spans nodes (NCCL's hop latencies)
};
Placement place(const ClusterSpec& cl, int gpus, Collective kind, int size, int stride) {
    Placement p;
    const bool spans = gpus > cl.gpus_per_node && static_cast<long long>(size) * stride > cl.gpus_per_node;
    if (!spans) {
        p.busbw = nvlink_group_busbw(cl, size);
        return p;
    }
    const int per_node = std::max(1, std::min(size, cl.gpus_per_node / std::max(1, stride)));
    p.link = LinkKind::network;
    p.per_node = per_node;
    if (kind == Collective::send_recv) {
        // Point to point: a pipeline hop between two nodes, or a ring (context parallelism's K and V
        // exchange) whose members span nodes: every member sends to its neighbour at once, a hop that
        // leaves the node goes through one NIC, and each ring step waits for its slowest hop.
        p.busbw = cl.network_per_gpu;
        return p;
    }
    if (kind == Collective::all_to_all) {
        // An all-to-all cannot aggregate NICs (docs/REFERENCES.md §4): each rank sends the
        // (n − g)/n of its buffer bound for other nodes through its own NIC while (g − 1)/n goes
        // over NVLink to the g − 1 members in its node, at the same time. The bus bandwidth
        // ((n − 1)/n · S ÷ time) is then (n − 1) / max((n − g)/network, (g − 1)/NVLink).
        const double n = size, g = per_node;
        const double nvlink = g > 1 ? (g - 1) / nvlink_group_busbw(cl, per_node) : 0;
        p.busbw = (n - 1) / std::max((n - g) / cl.network_per_gpu, nvlink);
        return p;
    }
    // Across nodes: NCCL runs one ring per NIC ("rails"); members of the group in one node share
    // their NICs, so the group's bus bandwidth is the network per GPU × members per node, capped
    // by what NVLink inside the node carries.
    p.busbw = std::min(nvlink_group_busbw(cl, per_node), per_node * cl.network_per_gpu);
    return p;
}

// The MoE dispatch and combine of a dispatcher that sends a token once to each destination
// (DeepEP, HybridEP: Megatron-Core's flex dispatcher; docs/PERFORMANCE_MODEL.md §3, "MoE
// all-to-all"): over the network once to each other node that holds one of its top_k experts,
// and over NVLink once to each GPU that holds one (its local experts' copies are made there),
// where NCCL's all-to-all sends every routed copy. With balanced (uniformly random) routing over E
// experts spread evenly over the group's n ranks in n/g nodes, a token's k experts miss a given
// set of E·x/n experts with probability C(E − E·x/n, k)/C(E, k); it reaches R = (nodes − 1)·(1 −
// miss(x = g)) other nodes and D = n·(1 − miss(x = 1)) GPUs. The network carries R/k of the
// buffer, NVLink the (g − 1)/g of the D/k of it that is not the GPU's own (the forwarding on the
// receiving node, the copies inside the sender's). Bus bandwidth for nccl-tests' all-to-all factor
// (n − 1)/n: (n − 1)/n ÷ max(R/k ÷ NIC, (g − 1)/g · D/k ÷ NVLink); 0 when nothing changes (one
// rank, no experts).
double deduplicated_dispatch_busbw(const ClusterSpec& cl, int gpus, int size, int stride, int experts, int top_k) {
    if (size <= 1 || experts <= 0 || top_k <= 0) return 0;
    const bool spans = gpus > cl.gpus_per_node && static_cast<long long>(size) * stride > cl.gpus_per_node;
    const double g = spans ? std::max(1, std::min(size, cl.gpus_per_node / std::max(1, stride))) : size;
    const double n = size, nodes = n / g, E = experts, k = top_k;
    auto misses = [&](double held) {  // C(E − held, k) / C(E, k): none of the token's experts among `held`
        double miss = 1;
        for (int i = 0; i < top_k; ++i) miss *= std::max(0.0, (E - held - i) / (E - i));
        return miss;
    };
    const double remote_nodes = spans ? (nodes - 1) * (1 - misses(E * g / n)) : 0;
    const double gpus_reached = n * (1 - misses(E / n));
    const double network = remote_nodes / k / cl.network_per_gpu;
    const double nvlink = g > 1 ? (g - 1) / g * gpus_reached / k / nvlink_group_busbw(cl, static_cast<int>(g)) : 0;
    const double slowest = std::max(network, nvlink);
    return slowest > 0 ? (n - 1) / n / slowest : 0;
}

// A number as a person types it, in messages: 600, 0.5, 7.5 (three decimals at most).
std::string plain(double v) {
    std::string s = format_fixed(v, 3);
    while (s.find('.') != std::string::npos && (s.back() == '0' || s.back() == '.')) {
        const bool point = s.back() == '.';
        s.pop_back();
        if (point) break;
    }
    return s;
}

// The memory plan of pipeline stage `stage`: every stage compute_time can pick is planned
// (plan_memory plans them all; plan_memory_quick the last, or all when stages differ).
const StageMemory& stage_memory(const MemoryPlan& plan, int stage) {
    for (const StageMemory& s : plan.stages)
        if (s.stage == stage) return s;
    return plan.stages.back();
}

// FP8 casts of one layer's linear layers on one rank, per token (activations) and per pass
// (weights), in elements: every FP8 GEMM operand is produced from its 16-bit copy — the forward's
// inputs and weights, the backward's output gradients and weights again (a transposed copy).
// Fused projections (q/k/v, gate/up) count once. Under tensor parallelism column-parallel inputs
// are whole (gathered) and row-parallel inputs split; routed experts: top_k of them per token, the
// rank's E/ep experts' weights.
struct Fp8CastElements {
    double forward_per_token = 0, backward_per_token = 0, weights = 0;
};
Fp8CastElements fp8_cast_elements(const ModelSpec& m, const ParallelLayout& p, const LayerKind& kind) {
    const double d = m.d_model, t = p.tp, q = static_cast<double>(m.q_proj_width());  // with its output gate
    const double qkv_out = q + static_cast<double>(m.k_dim() + m.v_dim());
    const double attn_in = static_cast<double>(m.n_heads) * m.v_head_dim();  // the output projection's input
    const double mats = gated_mlp(m.activation) ? 2 : 1;  // gate and up, or up
    Fp8CastElements e;
    if (kind.has_attention()) {
        e.forward_per_token += d + attn_in / t;
        e.backward_per_token += qkv_out / t + d;
        e.weights += (d * qkv_out + attn_in * d) / t;
    }
    // A recurrent mixer's in_proj d → w_in (column-parallel) and out_proj w_out → d (row-parallel),
    // as the attention's pair: Mamba-2's (w_out = d_inner) or Gated DeltaNet's (w_out = value_dim).
    auto projections = [&](double w_in, double w_out) {
        e.forward_per_token += d + w_out / t;
        e.backward_per_token += w_in / t + d;
        e.weights += (d * w_in + w_out * d) / t;
    };
    if (kind.has_mamba())
        projections(static_cast<double>(m.mamba.in_proj_width()), static_cast<double>(m.mamba.d_inner()));
    if (kind.has_gdn()) projections(static_cast<double>(m.gdn.in_proj_width()), static_cast<double>(m.gdn.value_dim()));
    if (!kind.ffn) return e;
    // An MLP of width w split over tp_mlp ranks; `gathered` of the micro-batch's tokens pass through
    // this rank's copy of it per token (1 for dense MLPs: the tp ranks share their gathered tokens;
    // routed experts whole on each rank (etp 1 < tp) see only the rank's own s/tp tokens: 1/tp).
    auto mlp = [&](double f, double per_token, double copies, double tp_mlp, double gathered, double w) {
        e.forward_per_token += gathered * per_token * (w + f / tp_mlp);
        e.backward_per_token += gathered * per_token * (mats * f / tp_mlp + w);
        e.weights += copies * (mats + 1) * w * f / tp_mlp;
    };
    if (kind.moe) {
        const double etp = p.expert_tp();
        mlp(m.expert_d_ff(), m.top_k, static_cast<double>(m.n_experts) / p.ep, etp, etp / t, m.expert_width());
        if (m.shared_d_ff > 0) mlp(static_cast<double>(m.shared_d_ff), 1, 1, t, 1, d);
        if (m.moe_latent > 0) {  // the latent projections, duplicated on every rank: each rank's own tokens
            const double L = m.moe_latent;
            e.forward_per_token += (d + L) / t;
            e.backward_per_token += (L + d) / t;
            e.weights += 2 * d * L;
        }
    } else {
        mlp(m.d_ff, 1, 1, t, 1, d);
    }
    return e;
}

// The kernel table of the plan (--kernel-table FILE, else the GPU's built-in one), nullptr for none.
struct TableUse {
    const KernelTable* table = nullptr;
    double memory_scale = 1;  // the GPU's memory bandwidth ÷ the measured GPU's (a built-in table of another part)
    std::string source;
};
TableUse table_for(const GpuSpec& g, const PerfOptions& opt) {
    TableUse u;
    if (opt.no_kernel_table) return u;
    if (opt.kernel_table) {
        u.table = opt.kernel_table.get();
        u.source = opt.kernel_table->name;
        return u;
    }
    if (g.kernel_table.empty() || !(u.table = builtin_kernel_table(g.kernel_table))) return u;
    u.memory_scale = kernel_table_memory_scale(g);
    u.source = g.kernel_table_source;
    return u;
}

// The table's GEMM input format for a precision's matmuls on g (fp32 runs on TF32 tensor cores, as
// precision_peak_flops; the 16-bit matmuls of the quantized-linear recipes are bf16).
const char* gemm_dtype(const GpuSpec& g, Precision p, bool sixteen_bit) {
    if (sixteen_bit && precision_traits(p).quantized_linears) return "bf16";
    switch (matmul_format(g, p)) {
        case NumberFormat::tf32:
        case NumberFormat::fp32: return "tf32";
        case NumberFormat::fp16: return "fp16";
        case NumberFormat::fp8: return "fp8_e4m3";
        case NumberFormat::fp4: return "nvfp4";
        default: return "bf16";
    }
}

// One forward GEMM: out (m × n) = in (m × k) · W (k × n).
struct GemmShape {
    double m = 0, n = 0, k = 0;
    double count = 1;  // how many of it a pass runs (a hybrid stage's layers of each kind)
};
struct PassRates {
    double fwd = 0, bwd = 0;  // FLOP/s of the forward and of the backward GEMMs
};
// The GEMMs' rates from the table, each at its own shape: the forward (m, n, k); the backward's
// input gradient dX = dY·Wᵀ (m, k, n) and weight gradient dW = Xᵀ·dY (k, n, m) (LoRA's frozen base:
// input gradients only). A pass's rate is its FLOPs over the sum of its GEMMs' times. {0, 0} when
// the table has no rows of the dtype.
PassRates table_gemm_rates(const KernelTable& t, const char* dtype, const std::vector<GemmShape>& shapes, bool weight_grads,
                           double scale, std::set<std::string>& clamped) {
    double flops = 0, t_fwd = 0, t_bwd = 0, flops_bwd = 0;
    auto rate = [&](double m, double n, double k) {
        const KernelLookup l = gemm_tflops(t, dtype, m, n, k);
        if (!l.clamped.empty()) clamped.insert(std::string(dtype) + " GEMM " + l.clamped);
        return l.value * 1e12 * scale;
    };
    for (const GemmShape& s : shapes) {
        if (!(s.m > 0 && s.n > 0 && s.k > 0 && s.count > 0)) continue;  // an absent GEMM (no dense MLP): no FLOPs
        const double f = 2 * s.m * s.n * s.k * s.count;
        const double fwd = rate(s.m, s.n, s.k);
        if (!(fwd > 0)) return {};
        flops += f;
        t_fwd += f / fwd;
        t_bwd += f / rate(s.m, s.k, s.n);
        flops_bwd += f;
        if (weight_grads) {
            t_bwd += f / rate(s.k, s.n, s.m);
            flops_bwd += f;
        }
    }
    if (!(flops > 0)) return {};
    return {flops / t_fwd, flops_bwd / t_bwd};
}

// Layers of each kind one GPU of `stage` runs per micro-batch: the stage's, and on the last stage
// the MTP modules' layers at each of their `mtp_depths` depths (core/model.h LayerKind).
struct StageKinds {
    double mixers = 0, ffns = 0, attention = 0, mamba = 0, gdn = 0, moe = 0;
};
StageKinds stage_kinds(const ModelSpec& m, const ParallelLayout& p, int stage, double mtp_depths) {
    StageKinds n;
    auto add = [&](const LayerKind& k, double count) {
        if (k.mixer != Mixer::none) n.mixers += count;
        if (k.ffn) n.ffns += count;
        if (k.has_attention()) n.attention += count;
        if (k.has_mamba()) n.mamba += count;
        if (k.has_gdn()) n.gdn += count;
        if (k.moe_mlp()) n.moe += count;
    };
    for (const LayerGroup& g : stage_layer_groups(m, p, stage)) add(g.kind, g.count);
    for (const LayerKind& k : mtp_layer_kinds(m)) add(k, mtp_depths);
    return n;
}

}  // namespace

ForwardFlops stage_forward_flops(const ModelSpec& m, const ParallelLayout& p, int stage, std::int64_t seq) {
    ForwardFlops f;
    for (const LayerGroup& g : stage_layer_groups(m, p, stage)) f.add_scaled(layer_forward_flops(m, g.kind, seq), g.count);
    if (stage == p.pp - 1) {
        const ForwardFlops mtp = mtp_forward_flops(m, seq);
        f.logits = logits_flops(m);
        f.mtp = mtp.mtp;
        f.mtp_transformer = mtp.mtp_transformer;
        f.mtp_attention = mtp.mtp_attention;
    }
    return f;
}

double nvlink_group_busbw(const ClusterSpec& cl, int n) {
    return cl.nvlink_bus_bandwidth * (1 - kNvlinkRingLoss / std::max(1, n));
}

double gemm_efficiency_for(const GpuSpec& g) { return g.gemm_efficiency; }

double kernel_table_memory_scale(const GpuSpec& g) {
    const GpuSpec* measured = g.kernel_table.empty() ? nullptr : find_gpu(g.kernel_table);
    return measured && measured->name != g.name && measured->memory_bandwidth > 0 ? g.memory_bandwidth / measured->memory_bandwidth : 1;
}

double power_capped_clock(double limit, const GpuSpec& g) {
    if (!(g.tdp_watts > 0))
        throw InputError("--power-limit: the catalog has no board power (TDP) for the " + g.name + " to set a limit against");
    const double c = limit / g.tdp_watts;
    if (!(c >= kPowerLimitMinFraction && c <= 1))
        throw InputError("--power-limit " + plain(limit) + " W: must be between " + plain(kPowerLimitMinFraction * g.tdp_watts) +
                         " and " + plain(g.tdp_watts) + " W on the " + g.name + " (40–100% of its " + plain(g.tdp_watts) +
                         " W board power, the range the clock model was fitted on)");
    return std::cbrt((c - kPowerStaticShare) / (1 - kPowerStaticShare));
}

double peak_for(const GpuSpec& g, Precision p) { return precision_peak_flops(g, p); }

ClusterSpec default_cluster(const GpuSpec& gpu, int gpus_per_node) {
    ClusterSpec c;
    c.gpus_per_node = gpus_per_node;
    c.nvlink_bus_bandwidth = kNvlinkBusbwFraction * gpu.intra_node_bandwidth;
    // One NIC per GPU, its line rate from the catalog row (docs/GPUS.md, "Planning defaults").
    // 46–48 GB/s measured busbw per 400 Gb/s NIC (docs/REFERENCES.md §4): 94% of the line rate.
    c.network_per_gpu = kNicBusbwFraction * gpu.nic_gbps * kGbit;
    c.network_description = std::to_string(gpus_per_node) + " × " + gpu.nic_description + " per node (one NIC per GPU)";
    // The catalog row's on-demand price per GPU-hour (assumed; --price-per-gpu-hour overrides).
    c.price_per_gpu_hour = gpu.price_per_gpu_hour;
    c.price_source = gpu.price_source;
    return c;
}

StepFlops step_flops(const MemoryPlan& plan) {
    const ModelSpec& m = plan.model;
    const TrainConfig& c = plan.config;
    StepFlops r;
    r.forward_per_token = forward_flops_per_token(m, c.seq);
    r.per_token = training_flops_per_token(m, c.seq, c.recompute);
    if (c.recompute == Recompute::full) {  // the layers the framework's full recompute runs again
        const double share = framework_profile(c.framework).full_recompute_share(m, c, -1);
        r.per_token.hardware = r.per_token.model + share * r.forward_per_token.recomputed(Recompute::full);
    }
    if (c.lora.enabled()) {
        // A frozen base computes no weight gradients: forward + input gradients (2 × forward), plus
        // the adapters' 6 FLOPs per parameter; recompute adds what it adds without LoRA.
        const LoraCount lc = count_lora(m, c.lora);
        const double extra = r.per_token.hardware - r.per_token.model;
        const ForwardFlops fw = forward_flops_per_token(m, c.seq);
        r.per_token.model = 2 * (fw.total() + fw.mtp) + 6 * lc.adapter_params;
        r.per_token.hardware = r.per_token.model + extra;
    }
    const double L = m.n_layers, d = m.d_model, T = static_cast<double>(c.seq);
    const double active = static_cast<double>(plan.params.active);
    r.flops_6n = flops_6n(active);
    r.flops_6n_attention = flops_6n_causal_attention(active, L, d, T);
    r.flops_palm = flops_palm(active, L, d, T);
    r.tokens_per_step = static_cast<double>(c.global_batch) * T;
    r.model_flops_per_step = r.per_token.model * r.tokens_per_step;
    r.hardware_flops_per_step = r.per_token.hardware * r.tokens_per_step;
    return r;
}

double recurrent_scan_peak(double peak_16bit) {
    static const double reference = find_gpu("h100-sxm")->peak_bf16;
    return std::min(peak_16bit, reference);
}

double delta_rule_rate(double peak_16bit, double clock_fraction) {
    return kDeltaRuleEfficiency * recurrent_scan_peak(peak_16bit) * clock_fraction;
}

double delta_rule_chain_seconds(double tokens_per_sequence, int chunk, double clock_fraction) {
    return std::ceil(tokens_per_sequence / std::max(1, chunk)) * kDeltaRuleChunkLatency / clock_fraction;
}

double delta_rule_forward_seconds(double flops, double calls, double tokens_per_sequence, int chunk, double peak_16bit,
                                  double clock_fraction) {
    if (!(calls > 0) || !(flops > 0)) return 0;
    const double work = flops / calls / delta_rule_rate(peak_16bit, clock_fraction);
    const double chain = delta_rule_chain_seconds(tokens_per_sequence, chunk, clock_fraction);
    return calls * std::sqrt(work * work + chain * chain);
}

ComputeTime compute_time(const MemoryPlan& plan, const PerfOptions& opt) {
    const ModelSpec& m = plan.model;
    const TrainConfig& c = plan.config;
    const ParallelLayout& p = c.parallel;
    const GpuSpec& g = plan.gpu;
    // The stage with the most forward matmul FLOPs is the slowest: the last also runs the output
    // layer (and MTP modules); dense and MoE layers, attention kinds and, with an uneven split,
    // the number of layers differ.
    ComputeTime r;
    ForwardFlops stage_fwd;
    // Layers all alike on equal stages: every stage runs the same, the last also the output layer.
    // Alike layers on uneven stages: the stages the memory plan holds (plan_memory_quick keeps the
    // last of each run of stages with equally many layers, the one a tie picks here).
    std::vector<int> candidates;
    if (m.heterogeneous()) {
        for (int i = 0; i < p.pp; ++i) candidates.push_back(i);
    } else if (!p.split.even()) {
        for (const StageMemory& s : plan.stages) candidates.push_back(s.stage);
    } else {
        candidates.push_back(p.pp - 1);
    }
    for (int i : candidates) {
        const ForwardFlops f = stage_forward_flops(m, p, i, c.seq);
        if (f.total() + f.mtp >= stage_fwd.total() + stage_fwd.mtp) {
            stage_fwd = f;
            r.stage = i;
        }
    }
    const StageMemory& st = stage_memory(plan, r.stage);
    const bool lora = c.lora.enabled();
    const double L = m.n_layers, d = m.d_model, T = static_cast<double>(c.seq);
    r.peak_given = opt.peak_flops > 0;
    r.peak_flops = r.peak_given ? opt.peak_flops : peak_for(g, c.precision);
    r.clock_fraction = opt.power_limit_watts > 0 ? power_capped_clock(opt.power_limit_watts, g) : 1;
    const double tokens_mb = static_cast<double>(c.micro_batch) * T / p.cp;  // tokens one GPU processes
    const double layers = static_cast<double>(st.layers);
    r.layers = layers;
    r.stage_forward = stage_fwd;
    const bool last = r.stage == p.pp - 1;
    r.mtp_layers = last ? m.mtp_layers : 0;
    const StageKinds kinds = stage_kinds(m, p, r.stage, r.mtp_layers);
    r.moe_layers = kinds.moe;
    const double gdn_layers = kinds.gdn;  // Gated DeltaNet mixers: one delta-rule call each per micro-batch
    r.mtp_module_layers = r.mtp_layers * static_cast<double>(mtp_layer_kinds(m).size());  // each depth runs the module's layers
    r.tokens_per_gpu = tokens_mb;
    // Smallest per-GPU matmul dimension: small ones leave tensor cores idle (shape factor n/(n+128)).
    double n_min = std::min({d, static_cast<double>(m.q_dim()) / p.tp, static_cast<double>(m.d_ff) / p.tp, tokens_mb});
    if (m.has_mamba()) n_min = std::min(n_min, static_cast<double>(m.mamba.d_inner()) / p.tp);
    if (m.has_gdn()) n_min = std::min(n_min, static_cast<double>(m.gdn.value_dim()) / p.tp);
    const double base_efficiency = opt.gemm_efficiency > 0 ? opt.gemm_efficiency : gemm_efficiency_for(g);
    // The 16-bit matmuls' efficiency (a calibration measures 16-bit GEMMs); the quantized linears'
    // format may reach a different fraction of its own peak where no kernel table measures it
    // (format_gemm_efficiency_ratio: NVFP4 against FP8, from Transformer Engine's B300 GEMM benchmark).
    const double efficiency16 = base_efficiency * n_min / (n_min + 128);
    const double format_ratio = format_gemm_efficiency_ratio(g, matmul_format(g, c.precision));
    r.gemm_efficiency = efficiency16 * format_ratio;
    const double fwd_flops = (stage_fwd.total() + stage_fwd.mtp) * tokens_mb / p.tp;
    // Full recompute runs the forward of (a share of) the stage's layers again in the backward.
    const double full_share = c.recompute == Recompute::full ? framework_profile(c.framework).full_recompute_share(m, c, r.stage) : 0;
    r.full_recompute_share = full_share;
    const double recompute_share = c.recompute == Recompute::full ? full_share : 1;  // selective: every layer's attention core
    const double recompute_flops = stage_fwd.recomputed(c.recompute) * recompute_share * tokens_mb / p.tp;
    double rate = r.peak_flops * r.clock_fraction * r.gemm_efficiency;
    // FP8 and NVFP4 recipes cast only the transformer layers' linear layers: the attention core
    // (QKᵀ, softmax·V) and the output layer stay in 16 bits (Transformer Engine: FP8 attention only
    // with fp8_dpa, off by default; Megatron-Core's output layer is not a TE module; torchao's Float8
    // swaps nn.Linear and torchtitan filters "output"; docs/PERFORMANCE_MODEL.md §2).
    r.fp8_linears_only = precision_traits(c.precision).quantized_linears;
    r.peak_16bit = r.peak_flops;
    if (r.fp8_linears_only)
        r.peak_16bit = peak_for(g, Precision::mixed_bf16) * (r.peak_given ? opt.peak_flops / peak_for(g, c.precision) : 1);
    double rate16 = r.peak_16bit * r.clock_fraction * efficiency16;
    // Measured kernel tables (core/kernel_table.h; docs/PERFORMANCE_MODEL.md §2): each GEMM of a layer
    // at its own per-GPU shape — QKV, attention output, MLP up (with gate: one GEMM of width 2f, as
    // Megatron-Core's linear_fc1) and down, the output layer — forward and both backward GEMMs, at
    // the table's rate × the clock under a power limit × kKernelTableSustained. A calibration's
    // gemm_efficiency replaces the table.
    const TableUse tu = table_for(g, opt);
    std::set<std::string> clamped;
    const double table_scale =
        r.clock_fraction * (r.peak_given ? opt.peak_flops / peak_for(g, c.precision) : 1) * kKernelTableSustained;
    double rate_bwd = rate, rate16_bwd = rate16;
    bool table_gemm = false;
    PassRates lin16{rate16, rate16};  // the linears' 16-bit rates (replaced by the table's where it has them)
    const double d_ff = static_cast<double>(m.d_ff), mlp_in = gated_mlp(m.activation) ? 2 : 1;
    if (tu.table && !(opt.gemm_efficiency > 0)) {
        const double q_out = static_cast<double>(m.q_proj_width() + m.k_dim() + m.v_dim());
        const double attn_in = static_cast<double>(m.n_heads) * m.v_head_dim();
        // A stage whose layers' mixers differ (a hybrid's, or Qwen3-Next's Gated DeltaNet and attention
        // layers) weighs each kind's GEMMs by its layers (attention, MLP, Mamba and Gated DeltaNet projections).
        double n_attn = 1, n_ffn = 1, n_mamba = 0, n_gdn = 0;
        if (m.hybrid() || m.has_gdn()) {
            n_attn = n_ffn = 0;
            for (const LayerGroup& lg : stage_layer_groups(m, p, r.stage)) {
                if (lg.kind.has_attention()) n_attn += lg.count;
                if (lg.kind.ffn) n_ffn += lg.count;
                if (lg.kind.has_mamba()) n_mamba += lg.count;
                if (lg.kind.has_gdn()) n_gdn += lg.count;
            }
        }
        const double di = static_cast<double>(m.mamba.d_inner()), w_in = static_cast<double>(m.mamba.in_proj_width());
        const double g_in = static_cast<double>(m.gdn.in_proj_width()), g_v = static_cast<double>(m.gdn.value_dim());
        const std::vector<GemmShape> lin_shapes = {{tokens_mb, q_out / p.tp, d, n_attn}, {tokens_mb, d, attn_in / p.tp, n_attn},
                                                   {tokens_mb, mlp_in * d_ff / p.tp, d, n_ffn}, {tokens_mb, d, d_ff / p.tp, n_ffn},
                                                   {tokens_mb, w_in / p.tp, d, n_mamba}, {tokens_mb, d, di / p.tp, n_mamba},
                                                   {tokens_mb, g_in / p.tp, d, n_gdn}, {tokens_mb, d, g_v / p.tp, n_gdn}};
        const PassRates lin = table_gemm_rates(*tu.table, gemm_dtype(g, c.precision, false), lin_shapes, !lora, table_scale, clamped);
        if (r.fp8_linears_only)  // the same linears in 16 bits, for those a framework keeps out of the recipe
            lin16 = table_gemm_rates(*tu.table, gemm_dtype(g, c.precision, true), lin_shapes, !lora, table_scale, clamped);
        const PassRates out = table_gemm_rates(*tu.table, gemm_dtype(g, c.precision, true),
                                               {{tokens_mb, static_cast<double>(m.vocab_size) / p.tp, d}}, !lora,
                                               table_scale, clamped);
        if (lin.fwd > 0 && out.fwd > 0) {
            table_gemm = true;
            rate = lin.fwd, rate_bwd = lin.bwd, rate16 = out.fwd, rate16_bwd = out.bwd;
            const double bwd = lora ? 1 : 2;
            r.gemm_efficiency = (1 + bwd) / (1 / rate + bwd / rate_bwd) / (r.peak_flops * r.clock_fraction);
            r.rate_sources.gemm = "kernel table (" + tu.source + "): " + gemm_dtype(g, c.precision, false) +
                                  " rows, each GEMM at its per-GPU shape, forward and backward, × " + plain(kKernelTableSustained) +
                                  " sustained in training";
        }
    }
    if (!table_gemm) {
        r.rate_sources.gemm = (opt.gemm_efficiency > 0 ? "calibrated: " + opt.calibration : g.gemm_efficiency_source) +
                              "; × shape factor n/(n + 128) at n = " + plain(n_min);
        if (format_ratio != 1)
            r.rate_sources.gemm += "; " + std::string(to_string(matmul_format(g, c.precision))) + " GEMMs × " +
                                   plain(std::round(format_ratio * 1000) / 1000) +
                                   " (1.90 × the FP8 speed at most, Transformer Engine's B300 benchmark; core/precision.cpp)";
    }
    r.matmul_rate = rate;
    // The fused attention kernel has its own published efficiency on some parts (GpuSpec::
    // attention_efficiency: FlashAttention-2 on Hopper); eager attention runs batched GEMMs, and a
    // calibrated gemm_efficiency replaces both.
    r.attention_efficiency = table_gemm ? r.gemm_efficiency : efficiency16;
    const AttentionKernel kernel = framework_profile(c.framework).attention_kernel(c);
    if (c.attention == Attention::flash && g.attention_efficiency > 0 && !(opt.gemm_efficiency > 0)) {
        r.attention_efficiency = g.attention_efficiency;
        r.attention_efficiency_source = g.attention_efficiency_source;
    }
    double rate_attn = r.peak_16bit * r.clock_fraction * r.attention_efficiency, rate_attn_bwd = rate_attn;
    // FlashAttention's forward (1) and backward (2.5 × its FLOPs) combined, as a fraction of the peak.
    const auto flash_efficiency = [&] { return 3.5 / (1 / rate_attn + 2.5 / rate_attn_bwd) / (r.peak_16bit * r.clock_fraction); };
    if (table_gemm && c.attention == Attention::eager) {  // batched GEMMs of the 16-bit format
        rate_attn = rate16, rate_attn_bwd = rate16_bwd;
        r.attention_efficiency = 2 / (1 / rate16 + 1 / rate16_bwd) / (r.peak_16bit * r.clock_fraction);
        r.rate_sources.attention = "eager: the output layer's GEMM rate from the kernel table";
    } else if (tu.table && c.attention == Attention::flash && !(opt.gemm_efficiency > 0)) {
        // The framework's fused kernel (FrameworkProfile::attention_kernel; PyTorch SDPA's flash
        // backend, FlashAttention-2, by default) at the rank's sequence chunk, the query head dim
        // and the GQA ratio; causal (decoder training).
        const KernelLookup a = attention_tflops(*tu.table, kernel.backend, T / p.cp, m.qk_head_dim(), true,
                                                static_cast<double>(m.n_heads) / std::max(1, m.n_kv_heads));
        if (a.value > 0) {
            if (!a.clamped.empty()) clamped.insert("attention " + a.clamped);
            rate_attn = a.value * 1e12 * table_scale, rate_attn_bwd = a.backward * 1e12 * table_scale;
            r.attention_efficiency = flash_efficiency();
            // The table's provenance is on the GEMM source unless only the attention rows applied.
            r.attention_efficiency_source =
                "kernel table: " + kernel.backend + " rows (" + kernel.source + ")" + (table_gemm ? "" : " (" + tu.source + ")");
            r.rate_sources.attention = r.attention_efficiency_source;
        }
    }
    if (r.rate_sources.attention.empty())
        r.rate_sources.attention = r.attention_efficiency_source.empty() ? "the GEMM efficiency" : r.attention_efficiency_source;
    // An older fused kernel (flash1, triton) at FlashAttention-2's rates above ÷ its published
    // slowdowns, forward and backward apart (attention_kernel_family, planner/framework.h).
    if (c.attention == Attention::flash && !(opt.gemm_efficiency > 0) &&
        (kernel.forward_slowdown != 1 || kernel.backward_slowdown != 1)) {
        rate_attn /= kernel.forward_slowdown, rate_attn_bwd /= kernel.backward_slowdown;
        r.attention_efficiency = flash_efficiency();
        if (r.rate_sources.attention.find(kernel.source) == std::string::npos) {  // the table's source names it already
            r.attention_efficiency_source = r.rate_sources.attention + "; " + kernel.source;
            r.rate_sources.attention = r.attention_efficiency_source;
        }
    }
    // FlashAttention's backward recomputes the scores S = QKᵀ and P = softmax(S) from Q, K and the
    // saved log-sum-exp before its four gradient matmuls: 5 matmuls of the forward's 2 (Dao et al.
    // 2022, Algorithm 4), 2.5 × the forward attention FLOPs; eager attention keeps P (2 ×).
    r.attention_backward_factor = c.attention == Attention::flash ? 2.5 : 2.0;
    const double attn_fwd = (stage_fwd.attention + stage_fwd.mtp_attention) * tokens_mb / p.tp;
    const double logits_fwd = stage_fwd.logits * tokens_mb / p.tp;
    // Mamba-2's SSD scans (hybrid models) at their own rate, outside the linear layers' GEMMs.
    // Gated DeltaNet's chunked delta rule (Qwen3-Next, Qwen3.5) likewise.
    const double ssm_fwd = stage_fwd.ssm * tokens_mb / p.tp, delta_fwd = stage_fwd.delta_rule * tokens_mb / p.tp;
    const double linear_fwd = fwd_flops - attn_fwd - logits_fwd - ssm_fwd - delta_fwd;
    double ssm_time_fwd = 0, ssm_time_bwd = 0;
    if (ssm_fwd > 0) {
        const double rate_ssm = recurrent_scan_peak(r.peak_16bit) * r.clock_fraction * kSsdScanEfficiency;
        ssm_time_fwd = ssm_fwd / rate_ssm;
        ssm_time_bwd = (kSsdBackwardFactor + full_share) * ssm_fwd / rate_ssm;
        r.ssm_forward_seconds = ssm_time_fwd;
        r.ssm_seconds = ssm_time_fwd + ssm_time_bwd;
        r.rate_sources.ssm = "Mamba-2 SSD scan at " + plain(kSsdScanEfficiency) + " of min(the 16-bit peak, the H100's) (" + kSsdScanSource +
                             "), backward " + plain(kSsdBackwardFactor) + " × its forward time";
    }
    if (delta_fwd > 0) {
        // One call per GDN layer; each sequence's chunks walked in order over the whole sequence
        // (a context-parallel rank scans heads ÷ cp over all T tokens, docs/PERFORMANCE_MODEL.md §3).
        const double fwd = delta_rule_forward_seconds(delta_fwd, gdn_layers, T, m.gdn.chunk, r.peak_16bit, r.clock_fraction);
        const double rate_delta = delta_rule_rate(r.peak_16bit, r.clock_fraction);
        const double chain = delta_rule_chain_seconds(T, m.gdn.chunk, r.clock_fraction);
        r.delta_rule_forward_seconds = fwd;
        r.delta_rule_seconds = fwd + (kDeltaRuleBackwardFactor + full_share) * fwd;
        ssm_time_fwd += fwd;
        ssm_time_bwd += (kDeltaRuleBackwardFactor + full_share) * fwd;
        r.rate_sources.delta_rule = "Gated DeltaNet's chunked delta rule: per layer √(work² + chain²), work its FLOPs at " +
                                    format_fixed(rate_delta / 1e12, 0) + " TFLOP/s (" + plain(kDeltaRuleEfficiency) +
                                    " of min(the 16-bit peak, the H100's)), chain " + format_fixed(chain * 1e3, 2) + " ms (" +
                                    "the state pass over " + plain(T) + " tokens in chunks of " + std::to_string(m.gdn.chunk) +
                                    ", " + format_fixed(kDeltaRuleChunkLatency * 1e6, 2) + " µs each); " + kDeltaRuleSource + "; backward " +
                                    plain(kDeltaRuleBackwardFactor) + " × its forward time";
    }
    const double attn_recompute = c.recompute == Recompute::none ? 0 : recompute_share * attn_fwd;  // selective and full run it again
    const double bwd_mult = lora ? 1 : 2;  // LoRA: input gradients only through the frozen base
    const double attn_bwd = (bwd_mult + r.attention_backward_factor - 2) * attn_fwd;
    r.attention_forward_seconds = attn_fwd / rate_attn;
    r.attention_matmul_seconds = attn_fwd / rate_attn + attn_bwd / rate_attn_bwd;
    const double ssm_recompute = c.recompute == Recompute::full ? full_share * (ssm_fwd + delta_fwd) : 0;  // in recompute_flops, timed above
    r.linear_matmul_seconds = (linear_fwd + recompute_flops - attn_recompute - ssm_recompute) / rate + bwd_mult * linear_fwd / rate_bwd;
    const double hbm = opt.memory_bandwidth > 0 ? opt.memory_bandwidth : g.memory_bandwidth;
    double matmul_fwd = linear_fwd / rate + logits_fwd / rate16 + attn_fwd / rate_attn + ssm_time_fwd;
    double matmul_bwd = (recompute_flops - attn_recompute - ssm_recompute) / rate + bwd_mult * linear_fwd / rate_bwd +
                        bwd_mult * logits_fwd / rate16_bwd + attn_recompute / rate_attn + attn_bwd / rate_attn_bwd + ssm_time_bwd;
    // Linears the framework keeps in 16 bits under a quantized recipe (FrameworkProfile::
    // bf16_linear_flops: Megatron's first/last layers, MTP modules, per-module exceptions) run at
    // the 16-bit rate; their casts go (their share of the cast time, by FLOPs).
    double bf16_share = 0;
    if (r.fp8_linears_only && linear_fwd > 0) {
        const FrameworkProfile::Bf16Linears kept = framework_profile(c.framework).bf16_linear_flops(m, c, r.stage);
        const double b = std::min(linear_fwd, kept.flops * tokens_mb / p.tp);
        if (b > 0 && lin16.fwd > 0) {
            bf16_share = b / linear_fwd;
            const double fwd = b * (1 / lin16.fwd - 1 / rate), bwd = bwd_mult * b * (1 / lin16.bwd - 1 / rate_bwd);
            matmul_fwd += fwd;
            matmul_bwd += bwd + full_share * fwd;
            r.linear_matmul_seconds += fwd * (1 + full_share) + bwd;
            r.bf16_linear_share = bf16_share;
            r.bf16_linear_source = kept.source;
        }
    }
    // Memory-bound kernels whose bytes are counted as ideal streaming traffic (FP8 casts, MoE
    // permutation, QLoRA dequantization, the optimizer step) run at the table's measured bandwidth
    // of a copy — the achieved rate of ideal streaming — at their tensor's size, where the GPU has
    // a table. The element-wise term keeps the datasheet bandwidth its traffic multiple was fitted with.
    auto hbm_at = [&](double bytes) {
        if (!tu.table || opt.memory_bandwidth > 0) return hbm;
        const KernelLookup l = memory_gbps(*tu.table, "copy", bytes);
        if (!(l.value > 0)) return hbm;
        if (!l.clamped.empty()) clamped.insert("memory-bound " + l.clamped);
        return l.value * 1e9 * tu.memory_scale;
    };
    const double tensor_bytes = tokens_mb * d * 2;  // one 16-bit activation tensor of the micro-batch
    // Routed experts run as grouped GEMMs, one per local expert over the tokens routed to it: with
    // balanced routing m_e = (the expert group's tokens) × top_k × C ÷ E rows (Megatron-Core's
    // GroupedMLP / TEGroupedMLP; Switch Transformer §2.2 for C), each of width f_e ÷ tp. The same
    // shape factor n/(n + 128) as the dense matmuls applies per expert GEMM at its own smallest
    // dimension (docs/PERFORMANCE_MODEL.md §2, "Mixture of experts").
    const PrecisionBytes pb = precision_bytes(c.precision);
    const double capacity = m.expert_capacity();
    double permute_fwd = 0;
    if (r.moe_layers > 0) {
        const double f_e = static_cast<double>(m.expert_d_ff());
        const double mats = mlp_matrices(m.activation);  // gate, up, down or up, down
        const double w_e = m.expert_width();  // d, or a latent MoE's latent width
        const double routed_fwd = r.moe_layers * 2 * mats * w_e * f_e * m.top_k * tokens_mb / p.tp;
        // Each rank dispatches its s·b/tp tokens (sequence parallel; all s·b with tp 1) over the ep
        // group; experts split over etp ranks gather their etp ranks' tokens: etp = tp (the default)
        // gives the micro-batch's s·b × ep × top_k ÷ E rows per expert, folding (etp 1) ÷ tp of that,
        // each GEMM then over the whole f_e instead of f_e ÷ tp. FLOPs per rank are the same.
        const double etp = p.expert_tp();
        r.expert_tokens = tokens_mb / p.tp * etp * p.ep * m.top_k * capacity / m.n_experts;
        const double n_e = std::min({w_e, f_e / etp, r.expert_tokens});
        r.expert_gemm_efficiency = base_efficiency * n_e / (n_e + 128) * format_ratio;
        double rate_e = r.peak_flops * r.clock_fraction * r.expert_gemm_efficiency, rate_e_bwd = rate_e;
        if (table_gemm) {  // the expert's up (with gate) and down GEMMs of expert_tokens rows
            const PassRates e = table_gemm_rates(*tu.table, gemm_dtype(g, c.precision, false),
                                                 {{r.expert_tokens, (mats - 1) * f_e / etp, w_e}, {r.expert_tokens, w_e, f_e / etp}},
                                                 !lora, table_scale, clamped);
            if (e.fwd > 0) {
                rate_e = e.fwd, rate_e_bwd = e.bwd;
                r.expert_gemm_efficiency = (1 + bwd_mult) / (1 / rate_e + bwd_mult / rate_e_bwd) / (r.peak_flops * r.clock_fraction);
            }
        }
        // the routed experts' FLOPs at rate_e instead of rate
        const double extra = 1 / rate_e - 1 / rate, extra_bwd = 1 / rate_e_bwd - 1 / rate_bwd;
        const double routed_recompute = full_share * routed_fwd;
        matmul_fwd += routed_fwd * extra;
        matmul_bwd += bwd_mult * routed_fwd * extra_bwd + routed_recompute * extra;
        r.linear_matmul_seconds += (routed_fwd + routed_recompute) * extra + bwd_mult * routed_fwd * extra_bwd;
        // Token permutation (Megatron-Core's all-to-all dispatcher, moe_utils permute/unpermute and
        // sort_chunks_by_idxs): the forward reads each token's d-vector and writes top_k copies in
        // expert order (permute), and with several local experts after the all-to-all sorts the
        // received copies by local expert (read + write), and the reverse before the combine
        // (read + write), then reads the top_k results and writes their weighted sum (unpermute):
        // 2·d + (2 + 4)·top_k·d·C elements, HBM-bound; the backward moves the same gradients.
        const double sorts = p.ep > 1 && m.n_experts / p.ep > 1 ? 4 : 0;
        const double elements = 2 * w_e + (2 + sorts) * m.top_k * w_e * capacity;
        permute_fwd = r.moe_layers * tokens_mb / (p.sp ? p.tp : 1) * elements * pb.activation / hbm_at(tensor_bytes);
    }
    const double act = layers_saved_bytes(m, c, Recompute::none, stage_layer_groups(m, p, st.stage));
    const double elem = (opt.elementwise_traffic >= 0 ? opt.elementwise_traffic : kElementwiseTraffic) * act / hbm;  // forward 1/3, backward 2/3
    // FP8 and NVFP4 casts (the quantized-linear recipes): each operand of a quantized linear is
    // cast before its GEMM, HBM-bound at PrecisionTraits::cast_bytes per 16-bit element (FP8: the
    // absolute maximum (one read), then scale and write (a second read, a 1-byte write) = 5 bytes;
    // NVFP4: 1.475 × that, from Transformer Engine's measured quantization times; core/precision.cpp,
    // docs/PERFORMANCE_MODEL.md §2, docs/REFERENCES.md §12).
    // The weights' casts (the forward's copy and the backward's transposed one) come with every
    // micro-batch's passes, or once per step where the framework caches them
    // (FrameworkProfile::fp8_weight_casts): then each micro-batch carries 1/m of them and the
    // recomputed forward none.
    const double micro = static_cast<double>(std::max<std::int64_t>(1, c.grad_accum()));
    double cast_fwd = 0, cast_bwd = 0, cast_recompute = 0;
    if (r.fp8_linears_only) {
        const Fp8WeightCasts wc = framework_profile(c.framework).fp8_weight_casts(c);
        r.fp8_weight_cast_source = wc.once_per_step ? wc.source : "";
        double act_fwd = 0, act_bwd = 0, weights = 0;
        for (const LayerGroup& group : stage_layer_groups(m, p, st.stage)) {
            const Fp8CastElements e = fp8_cast_elements(m, p, group.kind);
            act_fwd += group.count * e.forward_per_token * tokens_mb;
            act_bwd += group.count * e.backward_per_token * tokens_mb;
            weights += group.count * e.weights;
        }
        const double weight_share = wc.once_per_step ? 1 / micro : 1;
        const double per_element = (1 - bf16_share) * precision_traits(c.precision).cast_bytes / hbm_at(tensor_bytes);
        cast_fwd = (act_fwd + weights * weight_share) * per_element;
        cast_bwd = (act_bwd + weights * weight_share) * per_element;
        cast_recompute = (act_fwd + (wc.once_per_step ? 0 : weights)) * per_element;
    }
    const double recomputed_fwd = full_share;  // full recompute runs the forward again
    r.fp8_cast_seconds = (cast_fwd + cast_bwd + recomputed_fwd * cast_recompute) * micro;
    // Eager element-wise kernels (elementwise.h; docs/PERFORMANCE_MODEL.md §2): the fitted term
    // above is fused kernels' traffic; eager PyTorch moves the bytes its composite modules' ops move
    // beyond those kernels on top, HBM-bound: each module's bytes at the table's streaming rate at
    // the size of the tensor its ops stream (EagerOp::tensor_bytes: a d_ff-wide fp32 GELU, not one
    // 16-bit activation tensor; docs/PERFORMANCE_MODEL.md §2, "Eager element-wise kernels").
    r.elementwise = elementwise_choice(c, opt.elementwise);
    double eager_fwd = 0, eager_bwd = 0;
    if (r.elementwise.kernels == ElementwiseKernels::eager) {
        const std::vector<LayerGroup> groups = stage_layer_groups(m, p, st.stage);
        const EagerTraffic e = eager_extra_bytes(m, c, groups, r.elementwise.code);
        r.eager_modules = e.ops;
        r.eager_extra_bytes_per_token = e.forward + e.backward;
        for (const LayerGroup& group : groups)
            for (const EagerOp& op : eager_extra_bytes(m, c, group.kind, r.elementwise.code).ops) {
                const double streaming = hbm_at(op.tensor_bytes * tokens_mb);
                eager_fwd += group.count * op.forward * tokens_mb / streaming;
                eager_bwd += group.count * op.backward * tokens_mb / streaming;
            }
    }
    r.eager_extra_seconds = (eager_fwd + eager_bwd + recomputed_fwd * eager_fwd) * micro;
    r.moe_permute_seconds = (2 + recomputed_fwd) * permute_fwd * micro;
    // The loss (last stage): the framework's cross-entropy (FrameworkProfile::loss_kernel) over the
    // s·b/cp × V/tp logits of each output head (the model's and each MTP module's), HBM-bound at the
    // 16-bit logits' size; recompute does not repeat it.
    double loss_fwd = 0, loss_bwd = 0;
    if (last) {
        const LossKernel lk = framework_profile(c.framework).loss_kernel(c);
        const double logits = logits_per_rank(m, c) * (1 + r.mtp_layers);
        const double bw = hbm_at(logits * 2);
        loss_fwd = logits * (lk.fused ? kCrossEntropyForwardBytesFused : kCrossEntropyForwardBytesFp32) / bw;
        loss_bwd = logits * (lk.fused ? kCrossEntropyBackwardBytesFused : kCrossEntropyBackwardBytesFp32) / bw;
        r.loss_source = lk.source;
    }
    r.loss_seconds = (loss_fwd + loss_bwd) * micro;
    r.microbatch_forward_seconds = matmul_fwd + elem / 3 + cast_fwd + permute_fwd + eager_fwd + loss_fwd;
    r.microbatch_backward_seconds = matmul_bwd + elem * 2 / 3 + recomputed_fwd * (elem / 3 + cast_recompute + permute_fwd + eager_fwd) +
                                    cast_bwd + permute_fwd + eager_bwd + loss_bwd;
    // QLoRA: every pass dequantizes the frozen matmul weights to bf16 (read the 4/8-bit codes,
    // write and read back 2 bytes per weight): HBM-bound, forward and backward (+ recompute).
    if (lora && c.lora.base_quant != BaseQuant::none) {
        double layer_matmul = 0;
        for (const ParamTensor& t : param_tensors(m))
            if (t.block == Block::layer && t.matmul_weight) layer_matmul += static_cast<double>(t.total_elements());
        layer_matmul = layer_matmul * layers / L / p.tp;
        const double qbytes = c.lora.base_quant == BaseQuant::nf4 ? 0.516 : 1.0;
        const double passes = 2 + full_share;
        const double dq = layer_matmul * (qbytes + 4) / hbm_at(d * d * 2);
        r.microbatch_forward_seconds += dq;
        r.microbatch_backward_seconds += dq * (passes - 1);
    }
    r.micro_batches = micro;
    const double t_mb = r.microbatch_forward_seconds + r.microbatch_backward_seconds;
    r.matmul_seconds = micro * (matmul_fwd + matmul_bwd);
    r.compute_seconds = micro * t_mb;
    r.elementwise_seconds = r.compute_seconds - r.matmul_seconds;
    r.bubble_fraction = (p.pp - 1.0) / (p.virtual_stages * micro);
    r.bubble_seconds = (p.pp - 1.0) / p.virtual_stages * t_mb;  // (p − 1)/(v·m) of the compute
    // Optimizer step: reads and writes weights, master copy and states, reads gradients (HBM-bound).
    const double optimizer_bytes = 2 * (st.parameters + st.master + st.optimizer_states) + st.gradients;
    // ZeRO-Offload / ZeRO-Infinity (--offload): the optimizer step runs on the CPU over the rank's fp32
    // shard (DeepSpeedCPUAdam), the gradients and the updated weights crossing the host link. Not
    // modelled (docs/PERFORMANCE_MODEL.md, "Limits"): the step leaves it out, and says so.
    r.optimizer_on_cpu = c.offload != Offload::none;
    r.optimizer_seconds = r.optimizer_on_cpu ? 0 : optimizer_bytes / hbm_at(optimizer_bytes / 2);
    r.rate_sources.memory_bound =
        tu.table && memory_gbps(*tu.table, "copy", 1).value > 0 && !(opt.memory_bandwidth > 0)
            ? std::string("kernel table") + (table_gemm ? "" : " (" + tu.source + ")") +
                  " copy rows at each tensor's size for FP8 casts, MoE permutation, eager element-wise ops, dequantization and the optimizer; element-wise at the datasheet " +
                  plain(hbm / 1e12) + " TB/s × fitted traffic"
            : (opt.memory_bandwidth > 0 ? "calibrated: " + opt.calibration : std::string("datasheet")) + " HBM bandwidth " + plain(hbm / 1e12) + " TB/s";
    r.rate_sources.elementwise = std::string(to_string(r.elementwise.kernels)) + ", " + r.elementwise.source;
    for (const std::string& n : clamped) r.rate_sources.clamped += (r.rate_sources.clamped.empty() ? "" : "; ") + n;
    // --offload-activations (pp 1: validate_config): the copies beside the layers.
    if (st.offloaded_activations > 0) {
        ActivationOffload& a = r.activation_offload;
        a.layers = c.offload_activations;
        a.of = m.n_layers;
        a.bytes = st.offloaded_activations;
        a.link = g.host_link;
        a.link_bandwidth = g.host_link_bandwidth * kHostLinkSustained;
        a.copy_seconds = a.bytes / a.link_bandwidth;
        // A layer's forward (backward): the micro-batch's ÷ L (the output layer's share included).
        a.forward_window = (a.of - 2.0) * r.microbatch_forward_seconds / a.of;
        a.backward_window = (a.of - 2.0) * r.microbatch_backward_seconds / a.of;
        a.seconds = micro * (std::max(0.0, a.copy_seconds - a.forward_window) + std::max(0.0, a.copy_seconds - a.backward_window));
    }
    // The framework's own time model, where it has one (llmplan: the engine's calibrated kernels).
    framework_profile(c.framework).step_time(plan, opt, r);
    return r;
}

std::vector<CollectiveUse> step_collectives(const MemoryPlan& plan, const ClusterSpec& cl, const PerfOptions& opt,
                                            const ComputeTime& t) {
    const ModelSpec& m = plan.model;
    const TrainConfig& c = plan.config;
    const ParallelLayout& p = c.parallel;
    const StageMemory& st = stage_memory(plan, t.stage);
    const PrecisionBytes pb = precision_bytes(c.precision);
    const bool lora = c.lora.enabled();
    const double T = static_cast<double>(c.seq), d = m.d_model, layers = t.layers, mb = t.micro_batches;
    const int dpN = p.shard_group();
    const double P_local = static_cast<double>(st.params_on_gpu);
    const double act_b = pb.activation;
    const CommOverlap fw_overlap = framework_profile(c.framework).comm_overlap(c);
    std::vector<CollectiveUse> out;
    auto add = [&](std::string purpose, Collective kind, int group, int stride, double bytes, double count,
                   OverlapRule rule, std::string overlap) {
        CollectiveUse u;
        u.purpose = std::move(purpose);
        u.kind = kind;
        u.group = group;
        u.bytes = bytes;
        u.count = count;
        const Placement pl = place(cl, p.gpus, kind, group, stride);
        u.link = pl.link;
        u.bus_bandwidth = pl.busbw;
        u.each = collective_time(kind, bytes, group, LinkModel{pl.link, pl.busbw, pl.per_node});
        if (pl.link == LinkKind::nvlink) {
            const double measured = measured_collective_seconds(opt.measured_collectives, kind, group, bytes);
            if (measured > 0) {
                u.each.seconds = measured;
                u.measured_time = true;
            }
        }
        u.seconds = count * u.each.seconds;
        u.exposed_seconds = u.seconds;
        u.overlap_rule = rule;
        u.overlap = std::move(overlap);
        out.push_back(std::move(u));
    };
    const int dp_stride = p.tp * p.cp;
    // Routed experts' gradients and parameters go over their own expert data-parallel group
    // (tp × cp × dp ÷ (etp × ep) ranks, rank stride etp × ep: Megatron-Core's expert RankGenerator
    // and its separate expert-parallel grad buffers), the dense ones over dp × cp: one row per
    // collective, its time the two groups' in turn (both in the same overlap window).
    const int Ne = p.expert_shard_group();
    const double P_expert = lora ? 0 : std::min(static_cast<double>(st.expert_params_on_gpu), P_local);
    const bool experts_apart = P_expert > 0 && Ne != dpN;
    auto add_dp = [&](std::string purpose, Collective kind, double bytes, double bytes_per_param, double count,
                      OverlapRule rule, std::string overlap) {
        if (!experts_apart) return add(std::move(purpose), kind, dpN, dp_stride, bytes, count, rule, std::move(overlap));
        const double expert_bytes = P_expert * bytes_per_param;
        add(purpose + " (routed experts over their " + std::to_string(Ne) + " expert data-parallel ranks)", kind, dpN,
            dp_stride, bytes - expert_bytes, count, rule, std::move(overlap));
        CollectiveUse& u = out.back();
        u.bytes = bytes;
        if (Ne > 1) {
            const Placement pl = place(cl, p.gpus, kind, Ne, p.expert_tp() * p.ep);
            u.each.seconds += collective_time(kind, expert_bytes, Ne, LinkModel{pl.link, pl.busbw, pl.per_node}).seconds;
        }
        u.seconds = u.exposed_seconds = u.count * u.each.seconds;
    };
    if (dpN > 1 || (experts_apart && Ne > 1)) {
        // LoRA: only the adapters' gradients are reduced (fp32); ZeRO-3 still gathers the frozen base.
        const double adapters = count_lora(m, c.lora).adapter_params * st.layers / m.n_layers / p.tp;
        const double grads = lora ? adapters * 4 : P_local * pb.grad;
        // ZeRO-3 gathers the parameters in the dtype the layers compute with (FSDP2's
        // MixedPrecisionPolicy param_dtype: "the dtype for the unsharded parameter and hence ... the
        // parameter all-gather"), even where the shards are kept in fp32 (torchtitan); a LoRA base
        // is gathered as it is stored (quantized under QLoRA).
        const double weights = p.zero >= 3 ? (lora ? st.parameters * dpN : P_local * pb.weight) : (lora ? adapters * 4 : P_local * pb.weight);
        const char* last_backward = "bucketed during the last micro-batch's backward: max(one layer's bucket, comm − backward)";
        if (p.zero == 0) {
            add_dp("data-parallel gradient all-reduce (DDP)", Collective::all_reduce, grads, lora ? 0 : pb.grad, 1,
                OverlapRule::bucketed_last_backward, last_backward);
        } else if (p.zero == 1) {
            add_dp("ZeRO-1 gradient reduce-scatter", Collective::reduce_scatter, grads, lora ? 0 : pb.grad, 1,
                OverlapRule::bucketed_last_backward, last_backward);
            if (fw_overlap.param_gather_with_forward)
                add_dp("ZeRO-1 parameter all-gather after the optimizer step", Collective::all_gather, weights, lora ? 0 : pb.weight, 1,
                    OverlapRule::under_first_forward,
                    "bucket by bucket under the next forward (" + fw_overlap.source + "): max(one layer's bucket, comm − forward)");
            else
                add_dp("ZeRO-1 parameter all-gather after the optimizer step", Collective::all_gather, weights, lora ? 0 : pb.weight, 1,
                    OverlapRule::exposed, "exposed: runs after the optimizer step");
        } else if (p.zero == 2) {
            // A rank keeps only its gradient slice, so the full gradient cannot be accumulated over
            // micro-batches: every micro-batch's backward reduce-scatters (DeepSpeed stage 2;
            // ZeRO §5.2: gradients reduced as they are produced).
            add_dp("ZeRO-2 gradient reduce-scatter", Collective::reduce_scatter, grads, lora ? 0 : pb.grad, mb,
                OverlapRule::bucketed_every_backward,
                "bucketed during every micro-batch's backward: max(one layer's bucket, comm − backward) each");
            add_dp("ZeRO-2 parameter all-gather after the optimizer step", Collective::all_gather, weights, lora ? 0 : pb.weight, 1,
                OverlapRule::exposed, "exposed: runs after the optimizer step");
        } else {
            add_dp("ZeRO-3 parameter all-gather, forward", Collective::all_gather, weights, lora ? 0 : pb.weight, mb,
                OverlapRule::prefetched_forward, "prefetched layer by layer under the forward: max(one layer, comm − forward)");
            add_dp("ZeRO-3 parameter all-gather, backward", Collective::all_gather, weights, lora ? 0 : pb.weight, mb,
                OverlapRule::shared_backward, "prefetched under the backward, sharing it with the reduce-scatter");
            add_dp("ZeRO-3 gradient reduce-scatter", Collective::reduce_scatter, grads, lora ? 0 : pb.grad, mb,
                OverlapRule::shared_backward, "under the backward, sharing it with the all-gather");
        }
    }
    // Transformer layers this GPU runs: the stage's, and the MTP modules' on the last stage.
    const double stage_layers = layers + t.mtp_module_layers;
    // Tensor-parallel blocks: each layer's mixer (attention or Mamba) and feed-forward block; a
    // hybrid model's layer has one of the two (core/model.h LayerKind).
    const StageKinds kinds = stage_kinds(m, p, t.stage, t.mtp_layers);
    const double mixers = kinds.mixers, ffns = kinds.ffns, attention_mixers = kinds.attention, mamba_mixers = kinds.mamba,
                 gdn_mixers = kinds.gdn;
    if (p.tp > 1) {
        const double S = static_cast<double>(c.micro_batch) * T / p.cp * d * act_b;
        const double per_layer = 4 + 2 * t.full_recompute_share;
        const OverlapRule rule = fw_overlap.tp_with_linears ? OverlapRule::under_linears : OverlapRule::exposed;
        const std::string why = fw_overlap.tp_with_linears
                                    ? "pipelined with the linear layers' GEMMs (" + fw_overlap.source + "): max(one call, comm − GEMMs)"
                                    : "exposed: on the critical path of every layer (Megatron)";
        if (!p.sp) {
            add("tensor-parallel all-reduce (2 forward + 2 backward per layer" +
                    std::string(c.recompute == Recompute::full ? " + 2 recomputed" : "") + ")",
                Collective::all_reduce, p.tp, 1, S, per_layer / 2 * (mixers + ffns) * mb, rule, why);
        } else {
            // Per block (attention, MLP) one all-gather before and one reduce-scatter after, forward
            // and backward. An MoE layer's routed experts instead (Megatron-Core's all-to-all
            // dispatcher, token_dispatcher.py): each rank routes its own s/tp tokens; experts split
            // over etp = tp gather the etp ranks' dispatched copies (top_k·C × the block's s·b·h)
            // and reduce-scatter them back; experts whole on each rank (etp 1) need neither.
            // Shared experts are a tensor-parallel MLP of their own: s·b·h as a dense block.
            const double moe = t.moe_layers, blocks = mixers + (ffns - moe);  // mixers + dense MLPs
            const double capacity = m.expert_capacity();
            const double shared = m.shared_d_ff > 0 ? moe : 0;
            const double half = per_layer / 2;  // calls of each kind per block
            const bool experts_split = p.expert_tp() == p.tp;
            add("sequence-parallel all-gather", Collective::all_gather, p.tp, 1, S, half * (blocks + shared) * mb, rule, why);
            add("sequence-parallel reduce-scatter", Collective::reduce_scatter, p.tp, 1, S, half * (blocks + shared) * mb, rule, why);
            if (moe > 0 && experts_split) {
                const double Se = S * m.top_k * capacity;
                const char* inside = "exposed: inside the token dispatcher, between the all-to-all and the experts' GEMMs";
                add("expert tensor-parallel all-gather of the dispatched tokens", Collective::all_gather, p.tp, 1, Se,
                    half * moe * mb, OverlapRule::exposed, inside);
                add("expert tensor-parallel reduce-scatter before the combine", Collective::reduce_scatter, p.tp, 1, Se,
                    half * moe * mb, OverlapRule::exposed, inside);
            }
        }
    }
    if (p.pp > 1) {
        const double S = static_cast<double>(c.micro_batch) * T / p.cp * d * act_b / (p.sp ? p.tp : 1);
        const bool beside = fw_overlap.p2p_with_chunks;
        add("pipeline send/recv (activations forward, gradients backward)", Collective::send_recv, 2,
            p.tp * p.cp * p.dp(), S, 2 * mb * p.virtual_stages, beside ? OverlapRule::under_chunks : OverlapRule::exposed,
            beside ? "beside the chunk passes (" + fw_overlap.p2p_source +
                         "): the first call and max(0, one call − one chunk's forward or backward) per call"
                   : std::string("exposed: between dependent stages (1F1B)"));
    }
    if (p.cp > 1) {
        // K and V as the attention kernel reads them (MLA: up-projected per head, k_dim + v_dim),
        // for the attention layers (a hybrid's Mamba, Gated DeltaNet and MLP-only layers have none).
        const double S = static_cast<double>(c.micro_batch) * T / p.cp * static_cast<double>(m.k_dim() + m.v_dim()) *
                         act_b / p.tp;
        const double attention_layers = m.hybrid() || m.has_gdn() ? attention_mixers : stage_layers;
        if (attention_layers > 0)
            add("context-parallel ring exchange of K and V blocks", Collective::send_recv, p.cp, p.tp, S,
                3 * (p.cp - 1) * attention_layers * mb, OverlapRule::under_attention, "overlapped with the attention blocks it feeds");
        // The recurrent mixers' head-parallel all-to-all (Megatron-Core: mamba_context_parallel.py,
        // gated_delta_net/common.py tensor_a2a_cp2hp / _hp2cp; docs/PERFORMANCE_MODEL.md §3): the
        // in_proj output of the rank's s/cp tokens goes to the ranks holding its heads, each of
        // which then runs the convolution and the scan over the whole sequence for heads ÷ (tp × cp)
        // heads; the scan's output (after the gated norm for Gated DeltaNet) comes back before
        // out_proj. Forward, and the same two reversed in the backward (+2 when full recompute
        // re-runs the forward). Mamba's B and C are repeated before the exchange when a
        // tensor-parallel rank has fewer groups than cp (group_repeat_count = cp ÷ groups).
        const double tokens = static_cast<double>(c.micro_batch) * T / p.cp * act_b;
        const double calls = (2 + t.full_recompute_share) * mb;  // each direction: forward, backward, recomputed forward
        const std::string why = "exposed: the convolution and the scan wait for the whole sequence of their heads";
        if (mamba_mixers > 0) {
            const MambaShape& a = m.mamba;
            const double groups = static_cast<double>(a.groups) / p.tp, repeat = std::max(1.0, p.cp / groups);
            const double in = 2.0 * static_cast<double>(a.d_inner()) / p.tp + 2.0 * groups * repeat * a.state + static_cast<double>(a.heads) / p.tp;
            add("context-parallel all-to-all of the Mamba in_proj output to whole heads", Collective::all_to_all, p.cp, p.tp,
                tokens * in, calls * mamba_mixers, OverlapRule::exposed, why);
            add("context-parallel all-to-all of the Mamba scan output back to the sequence chunks", Collective::all_to_all, p.cp,
                p.tp, tokens * static_cast<double>(a.d_inner()) / p.tp, calls * mamba_mixers, OverlapRule::exposed, why);
        }
        if (gdn_mixers > 0) {
            const GdnShape& g = m.gdn;
            add("context-parallel all-to-all of the Gated DeltaNet in_proj output to whole heads", Collective::all_to_all, p.cp,
                p.tp, tokens * static_cast<double>(g.in_proj_width()) / p.tp, calls * gdn_mixers, OverlapRule::exposed, why);
            add("context-parallel all-to-all of the Gated DeltaNet gated-norm output back to the sequence chunks",
                Collective::all_to_all, p.cp, p.tp, tokens * static_cast<double>(g.value_dim()) / p.tp, calls * gdn_mixers,
                OverlapRule::exposed, why);
        }
    }
    if (t.moe_layers > 0 && p.ep > 1) {
        // Expert parallelism (GShard, Lepikhin et al. 2020; Megatron-Core's all-to-all token
        // dispatcher): every MoE layer dispatches each token's d-vector to its top_k experts and
        // combines the results back, in the forward and again in the backward (4 all-to-alls per
        // MoE layer per micro-batch, +2 when full recompute re-runs the forward). The buffer holds
        // top_k copies of the rank's tokens (÷ tp under sequence parallelism); with balanced
        // routing (ep − 1)/ep of it leaves the rank (nccl-tests' all-to-all factor). A capacity
        // factor C sizes each expert's buffer at C × its balanced share (Switch Transformer, Fedus
        // et al. 2021 §2.2: padded when C > 1, tokens dropped when C < 1). Shared experts and dense
        // layers stay on the rank: no all-to-all. docs/PERFORMANCE_MODEL.md §3.
        const double capacity = m.expert_capacity();
        const double S =
            static_cast<double>(c.micro_batch) * T / p.cp * m.expert_width() * m.top_k * act_b / (p.sp ? p.tp : 1) * capacity;
        // The framework's EP overlap (Megatron-Core's --overlap-moe-expert-parallel-comm) runs the
        // dispatch and combine of one micro-batch under the computation of another (apply_overlap).
        const bool other_mb = fw_overlap.ep_a2a_with_other_microbatch;
        add(std::string("MoE all-to-all (dispatch + combine, forward and backward") +
                (fw_overlap.ep_dispatch_deduplicated ? "; once per destination node and GPU" : "") + ")",
            Collective::all_to_all, p.ep, p.expert_tp(), S, (4 + 2 * (t.full_recompute_share + t.moe_recompute_share)) * t.moe_layers * mb,
            other_mb ? OverlapRule::under_other_microbatch : OverlapRule::exposed,
            other_mb ? "under another micro-batch's forward or backward (" + fw_overlap.ep_source +
                           "): the warm-up and cool-down micro-batches' share exposed, the rest as Megatron-Core's layer schedule pairs them"
                     : "exposed: tokens wait for their experts (no dispatch/compute overlap such as DeepSeek-V3's DualPipe)");
        if (other_mb) out.back().sms = fw_overlap.ep_comm_sms, out.back().sms_source = fw_overlap.ep_comm_sms_source;
        if (const double busbw = fw_overlap.ep_dispatch_deduplicated
                                     ? deduplicated_dispatch_busbw(cl, p.gpus, p.ep, p.expert_tp(), m.n_experts, m.top_k)
                                     : 0;
            busbw > 0) {
            CollectiveUse& u = out.back();
            u.bus_bandwidth = busbw;
            u.each = collective_time(Collective::all_to_all, S, p.ep, LinkModel{u.link, busbw});
            u.seconds = u.exposed_seconds = u.count * u.each.seconds;
        }
    }
    // The framework's TP-comm overlap still costs a share of what it hides (CommOverlap::tp_overlap_cost).
    if (fw_overlap.tp_overlap_cost > 0)
        for (CollectiveUse& u : out)
            if (u.overlap_rule == OverlapRule::under_linears) {
                u.hidden_cost = fw_overlap.tp_overlap_cost;
                u.hidden_cost_source = fw_overlap.tp_overlap_cost_source;
                u.overlap += "; + " + format_fixed(100 * u.hidden_cost, 0) + "% of the hidden part (" + u.hidden_cost_source + ")";
            }
    return out;
}

A2aLayerPair a2a_layer_pair(const ComputeTime& t, double a2a) {
    // Megatron-Core's combined 1F1B (models/common/model_chunk_schedule_plan.py,
    // TransformerLayerSchedulePlan.run): one MoE layer's forward of micro-batch i beside the same
    // layer's backward of micro-batch j, on a computation and a communication stream:
    //   comm:  combine_bwd     | dispatch_fwd → dispatch_bwd        | combine_fwd
    //   comp:  pre_dispatch_fwd | mlp_bwd → mlp_bwd_dw → mlp_fwd     | pre_dispatch_bwd
    // with the data dependencies: dispatch_bwd after mlp_bwd, mlp_fwd after dispatch_fwd,
    // combine_fwd after mlp_fwd, pre_dispatch_bwd after dispatch_bwd. Each phase hides only the
    // communication beside it. Per layer and micro-batch: the attention part (QKV, the attention
    // core, the output projection, norms and router: pre_dispatch) and the MLP part (experts and
    // shared expert) of the stage's forward time, split by FLOPs with the attention core at its own
    // time; each backward part 2 × its forward (the MLP's input and weight gradients one each; the
    // attention core's backward its own factor).
    A2aLayerPair r;
    r.a2a = a2a;
    const ForwardFlops& f = t.stage_forward;
    // (A hybrid model's Mamba mixers and Qwen3-Next's Gated DeltaNet mixers count with the attention
    // part: they are not the MLP.)
    const double mixer_proj = f.qkv + f.output_proj + f.mamba_proj + f.gdn_proj;
    const double linear = mixer_proj + f.mlp;
    if (!(t.layers > 0) || !(linear > 0)) return r;
    const double rest_fwd = std::max(0.0, t.microbatch_forward_seconds - t.attention_forward_seconds);
    const double attn_share = mixer_proj / linear;
    r.attention_forward = (t.attention_forward_seconds + rest_fwd * attn_share) / t.layers;
    r.mlp_forward = rest_fwd * (1 - attn_share) / t.layers;
    const double attn_bwd = (t.attention_forward_seconds * t.attention_backward_factor + 2 * rest_fwd * attn_share) / t.layers;
    // Each stream runs its operations in order; an operation starts when its stream is free and
    // its input is ready.
    const double A = a2a, af = r.attention_forward, mf = r.mlp_forward, mb1 = mf, mb2 = mf;
    const double combine_bwd = A;                                              // comm [0, A]
    const double attention_fwd = af;                                           // comp [0, af]
    const double mlp_bwd = std::max(attention_fwd, combine_bwd) + mb1;         // needs combine_bwd
    const double dispatch_fwd = std::max(combine_bwd, attention_fwd) + A;      // needs attention_fwd
    const double mlp_dw = mlp_bwd + mb2;
    const double dispatch_bwd = std::max(dispatch_fwd, mlp_bwd) + A;           // needs mlp_bwd
    const double mlp_fwd = std::max(mlp_dw, dispatch_fwd) + mf;                // needs dispatch_fwd
    const double combine_fwd = std::max(dispatch_bwd, mlp_fwd) + A;            // needs mlp_fwd
    const double attention_bwd = std::max(mlp_fwd, dispatch_bwd) + attn_bwd;   // needs dispatch_bwd
    r.exposed = std::max(0.0, std::max(combine_fwd, attention_bwd) - (af + mb1 + mb2 + mf + attn_bwd));
    return r;
}

void apply_overlap(std::vector<CollectiveUse>& collectives, const MemoryPlan& plan, const ComputeTime& t) {
    const double layers = t.layers, mb = t.micro_batches;
    const double t_fwd = t.microbatch_forward_seconds, t_bwd = t.microbatch_backward_seconds;
    // Overlap with a compute window: layer-wise buckets hide all but max(one bucket, comm − window).
    auto hidden_by = [&](double comm, double window) { return std::max(comm / std::max(1.0, layers), comm - window); };
    double shared_each = 0;  // ZeRO-3's backward gather and reduce-scatter share one window
    double tp_seconds = 0, tp_calls = 0;  // the tensor-parallel collectives pipelined with the linears
    for (const CollectiveUse& u : collectives) {
        if (u.overlap_rule == OverlapRule::shared_backward) shared_each += u.each.seconds;
        if (u.overlap_rule == OverlapRule::under_linears) {
            tp_seconds += u.seconds;
            tp_calls += u.count;
        }
    }
    // Per micro-batch, all but max(one call, comm − the linears' GEMMs) hides under the GEMMs.
    const double tp_exposed =
        tp_calls > 0 ? mb * std::max(tp_seconds / tp_calls, tp_seconds / mb - t.linear_matmul_seconds) : 0;
    for (CollectiveUse& u : collectives) {
        switch (u.overlap_rule) {
            case OverlapRule::exposed: u.exposed_seconds = u.seconds; break;
            case OverlapRule::bucketed_last_backward: u.exposed_seconds = hidden_by(u.seconds, t_bwd); break;
            case OverlapRule::bucketed_every_backward: u.exposed_seconds = mb * hidden_by(u.each.seconds, t_bwd); break;
            case OverlapRule::prefetched_forward: u.exposed_seconds = mb * hidden_by(u.each.seconds, t_fwd); break;
            case OverlapRule::shared_backward: {
                const double exposed = mb * hidden_by(shared_each, t_bwd);
                u.exposed_seconds = exposed * u.each.seconds / shared_each;
                break;
            }
            case OverlapRule::under_linears: {
                // What the pipelining leaves exposed, and the share of the hidden rest the GEMMs beside
                // it lose (hidden_cost: the framework's, 0 unless it says).
                const double left = tp_exposed * u.seconds / tp_seconds;
                u.exposed_seconds = left + u.hidden_cost * (u.seconds - left);
                break;
            }
            case OverlapRule::under_first_forward: u.exposed_seconds = hidden_by(u.seconds, t_fwd); break;
            case OverlapRule::under_other_microbatch: {
                // Megatron-Core's combined 1F1B (pipeline_parallel/schedules.py, get_pp_rank_microbatches):
                // in the steady state each model chunk's forward runs beside another's backward and
                // each hides the other's all-to-alls; the first pipeline rank's warm-up forwards
                // 2(p − 1) + (v − 1)·p + 1 (one extra for the overlap) of its m·v chunk passes, and
                // as many cool-down backwards, have no partner (without pipelining: the first
                // forward and the last backward, 1 of m).
                const ParallelLayout& p = plan.config.parallel;
                const double warmup = p.pp > 1 ? 2.0 * (p.pp - 1) + (p.virtual_stages - 1.0) * p.pp + 1 : 1;
                const double unpaired = std::min(1.0, warmup / (mb * p.virtual_stages));
                const A2aLayerPair pair = a2a_layer_pair(t, u.count > 0 ? u.seconds / u.count : 0);
                // The paired layers' all-to-alls: each pair exposes what the layer schedule cannot hide.
                const double paired_exposed = std::min(u.seconds, pair.exposed * t.moe_layers * mb);
                u.exposed_seconds = unpaired * u.seconds + (1 - unpaired) * paired_exposed;
                auto us = [](double seconds) { return format_fixed(seconds * 1e6, 0) + " µs"; };
                u.overlap += "; per layer pair " + us(pair.exposed) + " of 4 × " + us(pair.a2a) +
                             " exposed by the layer schedule (beside attention " + us(pair.attention_forward) + " and MLP " +
                             us(pair.mlp_forward) + " forward, 2 × each backward)";
                // The dispatcher's kernels hold their SMs while the hidden part runs: the compute
                // beside them runs on the rest, losing hidden × SMs ÷ the GPU's SMs (charged here,
                // as what the overlap costs).
                if (const double hidden = u.seconds - u.exposed_seconds; u.sms > 0 && plan.gpu.sm_count > 0 && hidden > 0) {
                    const double f = std::min(1.0, static_cast<double>(u.sms) / plan.gpu.sm_count);
                    u.exposed_seconds += hidden * f;
                    u.overlap += "; + hidden × " + std::to_string(u.sms) + "/" + std::to_string(plan.gpu.sm_count) +
                                 " SMs the dispatcher takes from that compute (" + u.sms_source + ")";
                }
                break;
            }
            case OverlapRule::under_chunks: {
                // The interleaved schedule with overlapped p2p (Megatron-Core schedules.py,
                // forward_backward_pipelining_with_interleaving, overlap_p2p_comm): each chunk's send
                // and the next receive are posted without waiting and waited for before the chunk
                // that needs them, so a call runs beside one chunk pass, forward (activations) or
                // backward (gradients), half the calls each; the pipeline's first call has nothing
                // beside it.
                const double v = std::max(1, plan.config.parallel.virtual_stages);
                const double each = u.each.seconds, half = u.count / 2;
                u.exposed_seconds = std::min(u.seconds, each + half * std::max(0.0, each - t_fwd / v) +
                                                            half * std::max(0.0, each - t_bwd / v));
                break;
            }
            case OverlapRule::under_attention: {
                const double attention = mb * t.attention_matmul_seconds;
                u.exposed_seconds = std::max(0.0, u.seconds - attention);
                break;
            }
        }
    }
}

void step_and_run_totals(PerfPlan& r, const MemoryPlan& plan, const ClusterSpec& cl, const PerfOptions& opt) {
    const ParallelLayout& p = plan.config.parallel;
    for (const CollectiveUse& u : r.collectives) {
        r.comm_bytes_per_gpu += u.count * u.bytes * busbw_factor(u.kind, u.kind == Collective::send_recv ? 2 : u.group);
        r.comm_seconds += u.seconds;
        r.comm_exposed_seconds += u.exposed_seconds;
    }

    // --- the step ------------------------------------------------------------------------------------
    r.step_seconds = r.compute_seconds + r.bubble_seconds + r.comm_exposed_seconds + r.optimizer_seconds + r.moe_host.seconds +
                     r.activation_offload.seconds;
    if (opt.mfu > 0) {
        r.mfu_given = true;
        r.step_seconds = r.model_flops_per_step / (p.gpus * r.peak_flops * opt.mfu);
    }
    r.tokens_per_second = r.tokens_per_step / r.step_seconds;
    r.mfu = r.model_flops_per_step / (r.step_seconds * p.gpus * r.peak_flops);
    r.hfu = r.hardware_flops_per_step / (r.step_seconds * p.gpus * r.peak_flops);

    // --- the run -------------------------------------------------------------------------------------
    const double N = static_cast<double>(plan.params.total());
    r.tokens_default = opt.tokens <= 0;
    r.training_tokens = r.tokens_default ? 20 * N : opt.tokens;  // Chinchilla: ~20 tokens per parameter
    r.steps = std::ceil(r.training_tokens / r.tokens_per_step);
    r.training_seconds = r.steps * r.step_seconds;
    r.gpu_hours = p.gpus * r.training_seconds / 3600;
    r.cost = r.gpu_hours * cl.price_per_gpu_hour;
    // Board power: 30% while waiting (communication, bubble), full TDP while computing.
    r.busy_fraction = std::min(1.0, r.compute_seconds / r.step_seconds);
    if (r.mfu_given) r.busy_fraction = 1;
    r.board_watts = opt.power_limit_watts > 0 ? opt.power_limit_watts : plan.gpu.tdp_watts;
    r.average_power_watts = r.board_watts * (0.3 + 0.7 * r.busy_fraction);
    r.energy_kwh = p.gpus * r.average_power_watts * r.training_seconds / 3.6e6 * opt.pue;
    r.co2_kg = r.energy_kwh * opt.grid_intensity;

    // --- goodput: the expected run (docs/PERFORMANCE_MODEL.md §5) -----------------------------------
    RunGoodput& g = r.goodput;
    g.modelled = opt.goodput > 0 || opt.mtbf_hours > 0 || opt.rampup_tokens > 0;
    if (opt.goodput > 0) {
        g.given = true;
        g.goodput = opt.goodput;
    } else if (opt.mtbf_hours > 0) {
        // Failures at rate 1/M for the job (M = a GPU's MTBF ÷ GPUs, independent failures);
        // checkpoints of δ every τ = √(2δM) (Young 1974's optimum); a failure loses τ/2 of work on
        // average and R to restart. First order in δ/M and R/M: goodput = 1 − δ/τ − τ/(2M) − R/M.
        const double M = opt.mtbf_hours / p.gpus, d = opt.checkpoint_minutes / 60, R = opt.restart_minutes / 60;
        g.job_mtbf_hours = M;
        g.checkpoint_interval_hours = std::sqrt(2 * d * M);
        g.checkpoint_fraction = d > 0 ? d / g.checkpoint_interval_hours : 0;
        g.lost_work_fraction = g.checkpoint_interval_hours / (2 * M);
        g.restart_fraction = R / M;
        g.goodput = 1 - g.checkpoint_fraction - g.lost_work_fraction - g.restart_fraction;
        if (!(g.goodput > 0))
            throw InputError("--mtbf-hours " + plain(opt.mtbf_hours) + ": the job (" + std::to_string(p.gpus) +
                             " GPUs) fails every " + plain(M * 60) +
                             " minutes, too often to make progress with these checkpoint and restart times");
    }
    if (opt.rampup_tokens > 0 && !r.mfu_given) {
        // The global batch grows linearly in tokens from one micro-batch per data-parallel rank (b0
        // sequences) to B over T_r tokens: ∫ dτ/(b(τ)·s) = T_r·ln(B/b0)/(s·(B − b0)) steps instead of
        // T_r/(s·B). What a step costs whatever its batch — the bubble, the optimizer step and the
        // collectives run once per step (gradient reduction, ZeRO's parameter all-gather) — is paid
        // for the extra steps; compute and per-micro-batch collectives scale with the tokens.
        const double B = static_cast<double>(plan.config.global_batch), S = static_cast<double>(plan.config.seq);
        const double b0 = static_cast<double>(plan.config.micro_batch) * p.dp();
        g.rampup_tokens = std::min(opt.rampup_tokens, r.training_tokens);
        const double steady_steps = g.rampup_tokens / (B * S);
        g.rampup_steps = B > b0 ? g.rampup_tokens * std::log(B / b0) / (S * (B - b0)) : steady_steps;
        double per_step = r.bubble_seconds + r.optimizer_seconds;
        for (const CollectiveUse& u : r.collectives)
            if (u.count == 1) per_step += u.exposed_seconds;
        g.rampup_extra_seconds = (g.rampup_steps - steady_steps) * per_step;
    }
    g.expected_seconds = (r.training_seconds + g.rampup_extra_seconds) / g.goodput;
    g.expected_gpu_hours = p.gpus * g.expected_seconds / 3600;
    g.expected_cost = g.expected_gpu_hours * cl.price_per_gpu_hour;
}

PerfPlan plan_perf(const MemoryPlan& plan, const ClusterSpec& cl, const PerfOptions& opt) {
    if (!(opt.pue >= 1)) throw InputError("--pue " + std::to_string(opt.pue) + ": must be at least 1");
    if (!(opt.grid_intensity >= 0)) throw InputError("--grid-intensity: must not be negative");
    if (!(cl.price_per_gpu_hour >= 0)) throw InputError("--price-per-gpu-hour: must not be negative");
    if (!(cl.network_per_gpu > 0) || !(cl.nvlink_bus_bandwidth > 0))
        throw InputError("--inter-node-bandwidth: link bandwidths must be positive");
    if (opt.mfu < 0 || opt.mfu > 1) throw InputError("--mfu " + std::to_string(opt.mfu) + ": must be between 0 and 1");
    if (opt.tokens < 0) throw InputError("--tokens: must not be negative");
    if (opt.peak_flops < 0) throw InputError("--peak-flops: must be positive");
    if (opt.power_limit_watts < 0) throw InputError("--power-limit: must be positive");
    if (opt.goodput < 0 || opt.goodput > 1) throw InputError("--goodput " + plain(opt.goodput) + ": must be in (0, 1]");
    if (opt.goodput > 0 && opt.mtbf_hours > 0)
        throw InputError("--goodput and --mtbf-hours each set the run's goodput; give only one of them");
    if (opt.mtbf_hours < 0 || opt.checkpoint_minutes < 0 || opt.restart_minutes < 0 || opt.rampup_tokens < 0)
        throw InputError("--mtbf-hours, --checkpoint-minutes, --restart-minutes and --batch-rampup must not be negative");
    if ((opt.checkpoint_minutes > 0 || opt.restart_minutes > 0) && !(opt.mtbf_hours > 0))
        throw InputError(std::string(opt.checkpoint_minutes > 0 ? "--checkpoint-minutes" : "--restart-minutes") +
                         " needs --mtbf-hours (how often a GPU fails)");

    PerfPlan r;
    // 1. FLOPs (flops.h; PaLM App. B for MFU / HFU)
    const StepFlops flops = step_flops(plan);
    r.forward_per_token = flops.forward_per_token;
    r.per_token = flops.per_token;
    r.flops_6n = flops.flops_6n;
    r.flops_6n_attention = flops.flops_6n_attention;
    r.flops_palm = flops.flops_palm;
    r.tokens_per_step = flops.tokens_per_step;
    r.model_flops_per_step = flops.model_flops_per_step;
    r.hardware_flops_per_step = flops.hardware_flops_per_step;
    // 2. compute on the worst stage, the framework's time model included
    ComputeTime t = compute_time(plan, opt);
    r.rate_sources = t.rate_sources;
    r.peak_flops = t.peak_flops;
    r.peak_given = t.peak_given;
    r.clock_fraction = t.clock_fraction;
    r.compute_stage = t.stage;
    r.gemm_efficiency = t.gemm_efficiency;
    r.fp8_linears_only = t.fp8_linears_only;
    r.peak_16bit = t.peak_16bit;
    r.attention_backward_factor = t.attention_backward_factor;
    r.attention_efficiency = t.attention_efficiency;
    r.attention_efficiency_source = t.attention_efficiency_source;
    r.fp8_cast_seconds = t.fp8_cast_seconds;
    r.fp8_weight_cast_source = t.fp8_weight_cast_source;
    r.moe_permute_seconds = t.moe_permute_seconds;
    r.elementwise = t.elementwise;
    r.eager_extra_bytes_per_token = t.eager_extra_bytes_per_token;
    r.eager_modules = t.eager_modules;
    r.eager_extra_seconds = t.eager_extra_seconds;
    r.loss_seconds = t.loss_seconds;
    r.loss_source = t.loss_source;
    r.ssm_seconds = t.ssm_seconds * t.micro_batches;
    r.delta_rule_seconds = t.delta_rule_seconds * t.micro_batches;
    r.bf16_linear_share = t.bf16_linear_share;
    r.bf16_linear_source = t.bf16_linear_source;
    r.expert_gemm_efficiency = t.expert_gemm_efficiency;
    r.expert_tokens = t.expert_tokens;
    r.microbatch_forward_seconds = t.microbatch_forward_seconds;
    r.microbatch_backward_seconds = t.microbatch_backward_seconds;
    r.matmul_seconds = t.matmul_seconds;
    r.elementwise_seconds = t.elementwise_seconds;
    r.compute_seconds = t.compute_seconds;
    r.bubble_seconds = t.bubble_seconds;
    r.bubble_fraction = t.bubble_fraction;
    r.optimizer_seconds = t.optimizer_seconds;
    r.optimizer_on_cpu = t.optimizer_on_cpu;
    r.moe_host = t.moe_host;
    r.activation_offload = t.activation_offload;
    r.engine_time = std::move(t.engine_time);
    // 3–4. communication and what of it compute hides
    r.collectives = step_collectives(plan, cl, opt, t);
    apply_overlap(r.collectives, plan, t);
    // 5. the step and the run
    step_and_run_totals(r, plan, cl, opt);
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
            // Ranges (docs/RELIABILITY.md): 1 to 2^24 GPUs, 1 byte to 1e15 bytes (a petabyte), 1 ns
            // to 1e10 µs (about 3 hours) per call; a measurement outside them is not one.
            const double gpus = e["gpus"].get<double>(), bytes = e["bytes"].get<double>(), us = e["time_us"].get<double>();
            if (!(gpus >= 1 && gpus <= (1 << 24)))
                throw InputError(where + ": \"gpus\" = " + e["gpus"].dump() + " is outside [1, 16777216]");
            if (!(bytes >= 1 && bytes <= 1e15))
                throw InputError(where + ": \"bytes\" = " + e["bytes"].dump() + " is outside [1, 1e15]");
            if (!(us >= 1e-3 && us <= 1e10))
                throw InputError(where + ": \"time_us\" = " + e["time_us"].dump() + " is outside [0.001, 1e10]");
            c.gpus = static_cast<int>(gpus);
            c.bytes = bytes;
            c.seconds = us * 1e-6;
            o.measured_collectives.push_back(c);
        }
    }
    EngineCalibration engine = parse_engine_calibration(text, what);
    if (!engine.kernels.empty()) o.engine_calibration = std::make_shared<const EngineCalibration>(std::move(engine));
    o.calibration = what + (j.contains("source") && j["source"].is_string() ? " (" + label_from_file(j["source"].get<std::string>()) + ")" : "");
}

}  // namespace llmplan
