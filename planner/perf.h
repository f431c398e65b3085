// perf.h — compute, communication, time, cost and energy of a training step and of a whole run.
//
// Built on the memory plan (which fixes the layout, the per-GPU parameters and activations):
//  * FLOPs: exact per-token model FLOPs and hardware FLOPs with recompute (flops.h), MFU and HFU
//    as PaLM App. B defines them;
//  * communication: every collective of a step on one GPU (kind, group, bytes, count, link) timed
//    with the NCCL alpha-beta model (comm.h), with an explicit overlap model for what is exposed;
//  * time: compute = matmul FLOPs ÷ (peak × GEMM efficiency for the per-GPU shapes) + the memory-
//    bound element-wise work (a multiple of the activation bytes ÷ HBM bandwidth), pipeline bubble
//    (p − 1)/(v·m), exposed communication, the optimizer step (memory-bound);
//  * the run: tokens (Chinchilla's 20 per parameter by default), steps, wall time, GPU-hours,
//    cost, energy (board power × utilisation × PUE) and CO2.
// docs/PERFORMANCE_MODEL.md explains each term and its calibration (Korthikanti et al. Table 5).
#pragma once

#include "core/gpu.h"
#include "core/kernel_table.h"
#include "planner/comm.h"
#include "planner/elementwise.h"
#include "planner/engine_time.h"
#include "planner/flops.h"
#include "planner/memory.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llmplan {

struct ClusterSpec;
struct PerfPlan;

// What links the GPUs: NVLink (or PCIe) inside a node, a network between nodes.
struct ClusterSpec {
    int gpus_per_node = 8;
    // B/s a large all-reduce approaches inside a node as the group grows; a group of n reaches
    // nvlink_bus_bandwidth × (1 − kNvlinkRingLoss / n) (nvlink_group_busbw).
    double nvlink_bus_bandwidth = 0;
    double network_per_gpu = 0;        // B/s of network bandwidth per GPU (one NIC each)
    std::string network_description;   // "NDR InfiniBand 8 × 400 Gb/s per node"
    double price_per_gpu_hour = 0;     // USD
    std::string price_source;
};

// NVLink all-reduce bus bandwidth of a group of n: B × (1 − kNvlinkRingLoss / n), with B =
// kNvlinkBusbwFraction × the one-way link bandwidth. Fitted to 2 × H100 measured here (324 GB/s,
// validation/nccl) and 8 × H100 published (≈ 370 GB/s, docs/REFERENCES.md §4).
inline constexpr double kNvlinkBusbwFraction = 0.856;
inline constexpr double kNvlinkRingLoss = 0.318;
double nvlink_group_busbw(const ClusterSpec& cluster, int n);

// Defaults for a GPU, all read from its catalog row (docs/GPUS.md, "Planning defaults"): NVLink as
// above; network = one NIC per GPU (GpuSpec::nic_gbps) at kNicBusbwFraction of its line rate; the
// row's typical cloud price per GPU-hour (assumed, override with --price-per-gpu-hour).
ClusterSpec default_cluster(const GpuSpec& gpu, int gpus_per_node);
// 46–48 of 50 GB/s busbw measured per 400 Gb/s NIC (docs/REFERENCES.md §4).
inline constexpr double kNicBusbwFraction = 0.94;

// Calibration of the compute model (docs/PERFORMANCE_MODEL.md §2): the fraction of peak a large
// GEMM reaches in training is a field of the GPU's catalog row (GpuSpec::gemm_efficiency, with
// kGemmEfficiency and kGemmEfficiencyHopper in core/gpu.h); how many times its activation bytes a
// layer moves through HBM in element-wise kernels per forward + backward is fitted to Korthikanti
// et al. Table 5 (A100).
inline constexpr double kElementwiseTraffic = 6.5;
// The GEMM fraction of a GPU: its catalog row's gemm_efficiency.
double gemm_efficiency_for(const GpuSpec& gpu);
// A built-in kernel table measured on another GPU (GpuSpec::kernel_table names it): its
// memory-bound rates scale by this GPU's memory bandwidth ÷ the measured GPU's; 1 on the GPU itself.
double kernel_table_memory_scale(const GpuSpec& gpu);

// One measured collective: nccl-tests' S and the time of one call (slowest rank).
struct MeasuredCollective {
    Collective kind = Collective::all_reduce;
    int gpus = 0;
    double bytes = 0, seconds = 0;
};
// The time of `bytes` from the measurements of the same kind and group (0 when there are none):
// linear in the bytes between the two nearest measured sizes (a collective's time is a latency
// plus bytes over a bandwidth), the smallest size's time below it, the last two sizes' slope
// beyond the largest. Several dtypes at one size are averaged.
double measured_collective_seconds(const std::vector<MeasuredCollective>& m, Collective kind, int gpus, double bytes);

struct PerfOptions {
    double mfu = 0;             // > 0: take this model-FLOPs utilisation instead of the compute model
    double tokens = 0;          // training tokens; 0 = 20 × parameters (Chinchilla approaches 1–2)
    double pue = 1.2;           // data-centre power usage effectiveness
    double grid_intensity = 0.4;  // kg CO2e per kWh
    // Compute-model calibration (docs/PERFORMANCE_MODEL.md §2); a profiler calibration file
    // replaces these.
    double gemm_efficiency = 0;       // 0 = kGemmEfficiency
    double elementwise_traffic = -1;  // < 0 = kElementwiseTraffic
    double memory_bandwidth = 0;      // > 0: measured HBM bandwidth (bytes/s) instead of the datasheet's
    std::string calibration;          // where the three came from ("" = the built-in constants)
    // Kernel times of llmplan's own engine (`llmplan profile calibrate`, engine_time.h): used for
    // --framework llmplan, whose step time is the sum of the engine's kernels.
    std::shared_ptr<const EngineCalibration> engine_calibration;
    // Collective times measured on the target machine (`llmplan profile comm --out FILE`, key
    // "collectives"): a collective of the same kind over the same number of GPUs inside a node is
    // timed from them (measured_collective_seconds) instead of the alpha-beta model.
    std::vector<MeasuredCollective> measured_collectives;
    // The GPU's matmul speed (docs/PERFORMANCE_MODEL.md §2): the dense peak for the job's precision
    // given instead of the catalog's (--peak-flops), and a board power limit below the TDP
    // (--power-limit) that lowers the sustained clock (power_capped_clock). 0: not given.
    double peak_flops = 0;         // FLOP/s
    double power_limit_watts = 0;  // W
    // Measured kernel rates (core/kernel_table.h; docs/PERFORMANCE_MODEL.md §2): a table given with
    // --kernel-table FILE (already merged over the GPU's built-in one) instead of the GPU's
    // built-in table (GpuSpec::kernel_table); no_kernel_table (--kernel-table none) uses the
    // catalog's efficiencies even where the GPU has a table.
    std::shared_ptr<const KernelTable> kernel_table;
    bool no_kernel_table = false;
    // Goodput of the whole run (§5): a given fraction of wall time that trains (--goodput), or one
    // from failures — a GPU's mean time between failures (--mtbf-hours, with its share of host and
    // network), the time to write a checkpoint and to restart (--checkpoint-minutes,
    // --restart-minutes) — and the tokens over which the global batch ramps up (--batch-rampup).
    double goodput = 0;
    double mtbf_hours = 0;
    double checkpoint_minutes = 0;
    double restart_minutes = 0;
    double rampup_tokens = 0;
    // The element-wise kernels (--elementwise fused|eager; docs/PERFORMANCE_MODEL.md §2, "Eager
    // element-wise kernels"); nullopt: the framework's (torchtitan: its compile option), else fused.
    std::optional<ElementwiseKernels> elementwise;
};

// The sustained clock under a board power limit, as a fraction of the clock at the TDP (the
// limit a large training GEMM runs at): f = ((c − s)/(1 − s))^(1/3), c = limit ÷ TDP — dynamic
// power ∝ f·V² with V ∝ f above a static share s of the board power — with s = kPowerStaticShare
// fitted to the power-limit traces Zeus published (You et al., NSDI 2023: BERT-base training on
// V100, A40 and RTX 6000, 237 points, rms 6.8 points of speed; validation/power/fit_power_cap.py;
// docs/PERFORMANCE_MODEL.md §2). Throws InputError naming --power-limit outside
// [kPowerLimitMinFraction × TDP, TDP] (the range measured) or for a GPU without a TDP.
inline constexpr double kPowerStaticShare = 0.36;
inline constexpr double kPowerLimitMinFraction = 0.40;
double power_capped_clock(double limit_watts, const GpuSpec& gpu);

// The run's goodput (docs/PERFORMANCE_MODEL.md §5): what failures, checkpoints and restarts cost
// and what a batch ramp-up adds, and the run's expected totals beside its steady-state ones.
struct RunGoodput {
    bool modelled = false;         // a goodput option was given; otherwise expected = steady state
    bool given = false;            // --goodput X (the fractions below stay 0)
    double goodput = 1;            // fraction of wall time that trains
    double job_mtbf_hours = 0;     // --mtbf-hours ÷ GPUs
    double checkpoint_interval_hours = 0;  // Young's optimum √(2·δ·M)
    double checkpoint_fraction = 0, lost_work_fraction = 0, restart_fraction = 0;  // of wall time
    double rampup_tokens = 0, rampup_steps = 0;
    double rampup_extra_seconds = 0;  // wall time the ramp-up adds to the steady state
    double expected_seconds = 0, expected_gpu_hours = 0, expected_cost = 0;
};

// A calibration file (schema "llmplan.calibration/1", docs/PERFORMANCE_MODEL.md §2 and §8):
// {"gemm_efficiency": 0.7, "elementwise_traffic": 6.5, "memory_bandwidth": 3.0e12, "gpu": "...",
//  "source": "...", "launch_seconds": 2.5e-6, "engine_kernels": [...]} — any subset. The first three
// tune the generic compute model; the engine kernel times (engine_time.h) time --framework
// llmplan. Throws InputError naming `what` for bad JSON or values.
void apply_calibration(const std::string& json_text, const std::string& what, PerfOptions& options);

// How a collective's time hides under compute (apply_overlap; docs/PERFORMANCE_MODEL.md §3).
enum class OverlapRule {
    exposed,                  // on the critical path
    bucketed_last_backward,   // layer buckets during the last micro-batch's backward
    bucketed_every_backward,  // layer buckets during every micro-batch's backward
    prefetched_forward,       // prefetched layer by layer under every forward
    shared_backward,          // ZeRO-3: gather and reduce-scatter share every backward
    under_attention,          // context parallel: under the attention blocks it feeds
    under_linears,            // tensor parallel with the framework's TP overlap: pipelined with the linears' GEMMs
    under_first_forward,      // ZeRO-1 parameter all-gather with the framework's overlap: under the next forward
    under_other_microbatch,   // MoE all-to-all with the framework's EP overlap: under another micro-batch's compute
    under_chunks,             // pipeline send/recv with the framework's p2p overlap: beside the chunk passes
};

// One collective as one GPU of the worst pipeline stage runs it.
struct CollectiveUse {
    std::string purpose;       // "data-parallel gradient all-reduce", ...
    Collective kind;
    int group = 1;             // ranks in the collective
    double bytes = 0;          // nccl-tests' S: the buffer size of one call
    double count = 0;          // calls per step
    LinkKind link = LinkKind::nvlink;
    double bus_bandwidth = 0;  // B/s used for it
    CollectiveTime each;       // one call
    double seconds = 0;        // count × each
    double exposed_seconds = 0;
    std::string overlap;       // how the exposed part follows
    OverlapRule overlap_rule = OverlapRule::exposed;
    bool measured_time = false;  // timed from the calibration's measured collectives
    // SMs its kernels hold while it runs beside computation (the framework's MoE dispatcher,
    // CommOverlap::ep_comm_sms; 0: not modelled), and where that number comes from.
    int sms = 0;
    std::string sms_source;
    // The share of its hidden time the step still pays (the framework's TP-comm overlap,
    // CommOverlap::tp_overlap_cost; 0: none), and why.
    double hidden_cost = 0;
    std::string hidden_cost_source;
};

// plan_perf in named steps, each a function of the memory plan and the steps before it.

// 1. FLOPs of a step (flops.h; PaLM App. B): per token, the approximations, whole cluster per step.
struct StepFlops {
    ForwardFlops forward_per_token;
    TrainingFlops per_token;   // LoRA: forward + input gradients + the adapters' 6 per parameter
    double flops_6n = 0, flops_6n_attention = 0, flops_palm = 0;
    double tokens_per_step = 0;
    double model_flops_per_step = 0, hardware_flops_per_step = 0;
};
StepFlops step_flops(const MemoryPlan& plan);

// Forward FLOPs per token of pipeline stage `stage`: its layers by kind (memory.h
// stage_layer_groups, interleaved chunks included; flops.h per kind), and on the last
// stage the output layer and DeepSeek-V3's MTP modules (which follow it, core/model.h Block::mtp).
ForwardFlops stage_forward_flops(const ModelSpec& m, const ParallelLayout& p, int stage, std::int64_t seq);

// 2. Compute time of the worst stage: the generic model (matmul FLOPs at peak × GEMM efficiency ×
// shape factor, element-wise HBM traffic, QLoRA dequantization, bubble, optimizer), then the
// framework's step_time hook (framework.h) replaces what its own time model gives. The worst
// stage is the one with the most forward matmul FLOPs (the last on a tie): dense and MoE layers,
// attention kinds, the output layer and, with an uneven split, the number of layers differ. Its
// memory plan supplies the activation bytes and the optimizer's state (and step_collectives' sizes).
// Bytes one logit element moves through HBM in the loss, forward and backward (the logits are the
// output layer's 16-bit s·b·V/tp; docs/PERFORMANCE_MODEL.md §2, "Loss"; PyTorch's kernels in
// aten/src/ATen/native/cuda/SoftMax.cu and Loss.cu, docs/REFERENCES.md §12):
//  * PyTorch's F.cross_entropy(logits.float(), labels): forward, the upcast (read 2, write 4) and
//    log_softmax over rows longer than shared memory holds (three reads — max, sum of exponentials,
//    the write pass — and a write: 16); backward, nll_loss's zero-filled gradient (write 4),
//    log_softmax's backward (read the gradient for its row sum, then the gradient and the output
//    again and write: 16) and the downcast (read 4, write 2): 22 + 26 = 48;
//  * a fused kernel (flash-attn's xentropy, Transformer Engine's): the forward reads the 16-bit
//    logits once (row statistics in registers), the backward reads them and writes the gradient in
//    place: 2 + 4 = 6.
inline constexpr double kCrossEntropyForwardBytesFp32 = 22, kCrossEntropyBackwardBytesFp32 = 26;
inline constexpr double kCrossEntropyForwardBytesFused = 2, kCrossEntropyBackwardBytesFused = 4;

// Where each rate of the compute model came from (printed beside the times, "rate_sources" in JSON).
struct RateSources {
    std::string gemm;          // the linear layers' and output layer's GEMMs
    std::string attention;     // the attention core
    std::string ssm;           // hybrid models: the Mamba-2 SSD scans ("" none)
    std::string delta_rule;    // Gated DeltaNet layers: the chunked delta rule ("" none)
    std::string memory_bound;  // element-wise, casts, permutation, dequantization, optimizer
    std::string elementwise;   // fused or eager element-wise kernels and what decided it
    std::string clamped;       // kernel-table lookups outside the measured range ("" none)
};

// The kernel-table rates are of isolated kernels run back to back; a training step sustains this
// fraction of them (what the table does not see: gaps between a step's many different kernels,
// clocks and power over a long run, kernels the time model does not itemise). One constant, fitted
// as the least-squares minimum of log(predicted ÷ measured throughput) over the 28 `fit` runs of
// validation/published on GPUs with a table (h100-sxm, h100-sxm-96g, h200), on a grid of 0.005;
// never on held-out runs (docs/PERFORMANCE_MODEL.md §2, docs/validation/published_runs.md).
inline constexpr double kKernelTableSustained = 0.88;

// Mamba-2's SSD scan (mamba_ssm's chunked Triton kernels: chunk_cumsum, chunk_state,
// state_passing, bmm_chunk, chunk_scan; backward ~20 kernels) runs far from the tensor cores'
// peak: memory- and launch-bound at the chunk sizes models use. Its FLOPs (flops.h ForwardFlops::
// ssm) at this fraction of recurrent_scan_peak, backward this many × its forward's time. MEASURED
// by llmplan on a lent H100 SXM (validation/kernels/recurrent_scans_h100.json, 2026-12-07; not
// fitted): mamba_chunk_scan_combined at Nemotron 3's shapes (64 or 128 heads × 64, state 128, 8
// groups, chunk 128, 16K tokens) 74–80 TFLOP/s forward (median 78.0: 0.079 of 989.4), backward
// 3.37–3.67 × the forward's time (median 3.50). (Before: 0.07, derived from a published H100
// timing, docs/REFERENCES.md §15, and 2.5 from the kernel sequence.)
inline constexpr double kSsdScanEfficiency = 0.079;
inline constexpr double kSsdBackwardFactor = 3.5;
inline constexpr const char* kSsdScanSource =
    "mamba_ssm's Triton kernels, measured on an H100 SXM: validation/kernels/recurrent_scans_h100.json";

// The recurrent mixers' scans are Triton kernels (mamba_ssm's, flash-linear-attention's): they do
// not run faster on Blackwell's tensor cores. flash-linear-attention 0.5.1's chunk_gated_delta_rule
// forward takes the same time on a GB200 as on an H200 at every Qwen3.5 shape FlashQLA's benchmark
// publishes (e.g. 32 value heads, one sequence of 8,192 tokens: 0.468 ms vs 0.472 ms;
// docs/REFERENCES.md §16). Their rate is a fraction of a reference peak — the H100 SXM's dense
// 16-bit peak in the GPU catalog, where the fractions were measured — or of the GPU's own 16-bit
// peak where that is lower (A100, H20, L40S: the same kernels on fewer tensor cores).
double recurrent_scan_peak(double peak_16bit);

// Gated DeltaNet's chunked delta rule (flash-linear-attention's chunk_gated_delta_rule: the
// cumulative gate, β·K·Kᵀ, the triangular solve, W and U, the state pass, the output). Each call
// (one layer, one micro-batch) takes √(t_work² + t_chain²): t_work its FLOPs (flops.h
// ForwardFlops::delta_rule) at the saturated rate kDeltaRuleEfficiency × recurrent_scan_peak(the
// GPU's 16-bit peak), t_chain the state pass's sequential walk over a sequence's chunks, ⌈tokens
// per sequence ÷ chunk⌉ × kDeltaRuleChunkLatency — the floor that few chains (sequences × value
// heads on the GPU, which the kernels run in parallel) cannot fill; backward
// kDeltaRuleBackwardFactor × the forward's time. MEASURED by llmplan on a lent H100 SXM, not fitted
// (flash-linear-attention bc3b101d): the saturated rate at Qwen3-Next's shapes (32 or 64 value heads
// × 128, 16K tokens, ≥ 64 chains) 77.3–78.7 TFLOP/s forward at llmplan's FLOP count (median 77.7:
// 0.079 of 989.4; validation/kernels/recurrent_scans_h100.json, eighth session), backward
// 2.55–2.69 × the forward's time (median 2.56); the latency from one sequence of 16,384 tokens with
// 2, 4 and 8 value heads, whose forward takes 0.639–0.649 ms whatever the heads: 2.526 µs per
// chunk of 64 (median; validation/kernels/recurrent_scans_chains_h100.json, ninth session). The
// form fits all ten measured rows (2 to 256 chains, 2K–16K tokens per sequence) within 12%, the
// worst +11.2% at 16 chains (docs/PERFORMANCE_MODEL.md §2). FlashQLA's published H200 timings run the kernels about 1.3 ×
// faster than the H100 here (more HBM bandwidth; another release; docs/REFERENCES.md §16): llmplan
// is that much pessimistic on an H200 or a Blackwell GPU.
inline constexpr double kDeltaRuleEfficiency = 0.079;
inline constexpr double kDeltaRuleChunkLatency = 2.526e-6;  // seconds per chunk of the forward's state pass
inline constexpr double kDeltaRuleBackwardFactor = 2.56;
inline constexpr const char* kDeltaRuleSource =
    "flash-linear-attention's Triton kernels, measured on an H100 SXM: validation/kernels/recurrent_scans_h100.json, "
    "recurrent_scans_chains_h100.json";
// The delta rule's saturated forward rate (FLOP/s) on a GPU of this 16-bit peak and clock.
double delta_rule_rate(double peak_16bit, double clock_fraction);
// One call's state-pass floor: ⌈tokens_per_sequence ÷ chunk⌉ × kDeltaRuleChunkLatency ÷ clock.
double delta_rule_chain_seconds(double tokens_per_sequence, int chunk, double clock_fraction);
// The forward seconds of `calls` delta-rule calls of `flops` FLOPs together, over sequences of
// `tokens_per_sequence` tokens in chunks of `chunk` (the latency scales with the clock too).
double delta_rule_forward_seconds(double flops, double calls, double tokens_per_sequence, int chunk, double peak_16bit,
                                  double clock_fraction);

// One MoE layer's forward beside another micro-batch's backward of the same layer under the
// framework's all-to-all overlap (Megatron-Core's combined 1F1B): per layer and micro-batch, the
// attention and MLP parts' forward time and the all-to-all time the schedule leaves exposed
// (a2a_layer_pair, docs/PERFORMANCE_MODEL.md §3).
struct A2aLayerPair {
    double a2a = 0;                // one dispatch or combine, one direction
    double attention_forward = 0;  // pre_dispatch: QKV, attention core, output projection, norms, router
    double mlp_forward = 0;        // the experts and the shared expert
    double exposed = 0;            // of the pair's 4 all-to-alls
};

// Megatron's MoE layers: the host work that runs after each layer's device-to-host sync while the
// GPU waits — a part per layer forward and a part per local expert (docs/PERFORMANCE_MODEL.md §2,
// "MoE host work"). seconds = per_layer_forward × layer_forwards + per_local_expert × local_experts × layer_passes.
struct MoeHostWork {
    double seconds = 0;              // per step on the worst stage
    double per_layer_forward = 0;    // seconds per MoE layer forward (the sync and the layer's host work after it)
    double layer_forwards = 0;       // MoE layer forwards of the step (× micro-batches, recomputed ones included)
    double per_local_expert = 0;     // seconds per local expert per MoE layer pass
    double local_experts = 0;        // routed experts on each GPU (n_experts ÷ ep)
    double layer_passes = 0;         // MoE layer passes of the step (× micro-batches, + the recomputed share)
    std::string source;              // why (the framework's mechanism and the constants' fit)
};

// --offload-activations: the copies of the offloaded layers' activations over the host link, device
// to host during the forward and back during the backward, and what of them the layers beside them
// leave exposed (docs/PERFORMANCE_MODEL.md §2, "Activation offloading"). Transformer Engine's schedule
// (cpu_offload.py) gives layer i's copy until layer L − N + i starts, and its reload from the backward
// of layer L − 1 − N + i until its own: N serial copies of x seconds each hide behind L − 2 layers'
// forward (backward), so each direction leaves max(0, N·x − (L − 2)·layer time) exposed.
struct ActivationOffload {
    int layers = 0;               // N, offloaded
    int of = 0;                   // L, the stage's layers
    double bytes = 0;             // the N layers' saved tensors, one micro-batch (StageMemory::offloaded_activations)
    std::string link;             // the GPU's host link (GpuSpec::host_link)
    double link_bandwidth = 0;    // bytes/s one way: the host link × kHostLinkSustained
    double copy_seconds = 0;      // the N layers one way, one micro-batch: bytes ÷ link_bandwidth
    double forward_window = 0;    // (L − 2) layers' forward, one micro-batch
    double backward_window = 0;   // (L − 2) layers' backward
    double seconds = 0;           // per step: micro-batches × the two directions' exposed parts
};

struct ComputeTime {
    RateSources rate_sources;
    double micro_batches = 1;   // m, per step per data-parallel rank
    int stage = 0;              // the worst pipeline stage
    double layers = 0;          // transformer layers of the worst stage
    double moe_layers = 0;      // of them, MoE layers (with the MTP modules' on the last stage)
    double mtp_layers = 0;      // MTP depths on the worst stage (the last stage holds them all): output heads beyond the model's
    double mtp_module_layers = 0;  // the layers those depths run (a hybrid's "*E" module: 2 per depth)
    ForwardFlops stage_forward; // forward FLOPs per token of the worst stage (stage_forward_flops)
    double tokens_per_gpu = 0;  // tokens one GPU processes per micro-batch
    double peak_flops = 0;      // per GPU, for the precision (the catalog's, or --peak-flops)
    bool peak_given = false;    // --peak-flops
    double clock_fraction = 1;  // under --power-limit (power_capped_clock); matmuls run at peak × this
    double gemm_efficiency = 0; // with the shape factor
    double matmul_rate = 0;     // peak × clock_fraction × gemm_efficiency (the generic model's FLOP/s)
    bool fp8_linears_only = false;  // fp8: only the layers' linear matmuls at the FP8 rate
    double peak_16bit = 0;          // the attention core's and output layer's peak (= peak_flops unless fp8)
    double attention_backward_factor = 2;  // backward ÷ forward FLOPs of the attention core (flash 2.5)
    double attention_matmul_seconds = 0;   // one micro-batch's attention core, forward + backward
    double attention_forward_seconds = 0;  // of it, the forward (what selective recompute runs again)
    double linear_matmul_seconds = 0;      // one micro-batch's linear layers (not the output layer), forward + backward
    double bf16_linear_share = 0;          // quantized recipes: the share of the linears' FLOPs the framework keeps in 16 bits
    std::string bf16_linear_source;        // which (FrameworkProfile::bf16_linear_flops)
    double ssm_seconds = 0;                // one micro-batch's Mamba-2 SSD scans, forward + backward (+ full recompute)
    double ssm_forward_seconds = 0;        // of it, the forward
    double delta_rule_seconds = 0;         // one micro-batch's Gated DeltaNet delta rules, forward + backward (+ full recompute)
    double delta_rule_forward_seconds = 0; // of it, the forward
    double attention_efficiency = 0;       // the attention core's fraction of peak_16bit
    std::string attention_efficiency_source;  // GpuSpec::attention_efficiency_source, or empty (= gemm_efficiency)
    double fp8_cast_seconds = 0;           // per step, fp8 only: the casts of the linears' operands (in elementwise)
    std::string fp8_weight_cast_source;    // fp8: why weights are cast once per step (empty: every micro-batch)
    double expert_tokens = 0;              // MoE: rows of each routed expert's grouped GEMM per micro-batch (balanced)
    double expert_gemm_efficiency = 0;     // MoE: the routed experts' GEMM efficiency at their own shape
    double moe_permute_seconds = 0;        // per step, MoE: token permutation for the dispatch and combine (in elementwise)
    ElementwiseChoice elementwise;         // fused or eager element-wise kernels, and what decided it
    double eager_extra_bytes_per_token = 0;  // eager: bytes the stage's layers move per token beyond fused kernels (forward + backward)
    std::vector<EagerOp> eager_modules;      // eager: those bytes by module (eager_extra_bytes' names), summed over the stage's layers
    double eager_extra_seconds = 0;        // per step, eager: those bytes' time (in elementwise)
    double loss_seconds = 0;               // per step, last stage: the cross-entropy over the logits (in elementwise)
    std::string loss_source;               // the loss kernel (FrameworkProfile::loss_kernel)
    double full_recompute_share = 0;  // --recompute full: the share of the stage's layers run again (FrameworkProfile::full_recompute_share)
    double moe_recompute_share = 0;   // selective recompute of the MoE blocks (Megatron's module moe): their forward again, 1 or 0
    double microbatch_forward_seconds = 0, microbatch_backward_seconds = 0;
    double matmul_seconds = 0, elementwise_seconds = 0, compute_seconds = 0;  // per step
    double bubble_seconds = 0, bubble_fraction = 0;
    double optimizer_seconds = 0;
    bool optimizer_on_cpu = false;  // --offload: the CPU runs the optimizer step, outside this model (0 s above)
    // Per step: host work the GPU waits for, outside the compute (FrameworkProfile::step_time: Megatron's
    // MoE layers after their token dispatcher's device-to-host sync, docs/PERFORMANCE_MODEL.md §2,
    // "MoE host work"); 0 elsewhere.
    MoeHostWork moe_host;
    ActivationOffload activation_offload;  // --offload-activations (per step, outside the compute)
    std::optional<EngineStepTime> engine_time;  // set by the llmplan profile
};
// The pairing of one MoE layer's all-to-alls under the framework's overlap, for the stage `t` times
// and one all-to-all call of `a2a` seconds (A2aLayerPair above).
A2aLayerPair a2a_layer_pair(const ComputeTime& t, double a2a);
ComputeTime compute_time(const MemoryPlan& plan, const PerfOptions& options);

// 3. The collectives of a step on one GPU: kind, group, bytes, count, link and time of each
// (alpha-beta, or measured), all still fully exposed.
std::vector<CollectiveUse> step_collectives(const MemoryPlan& plan, const ClusterSpec& cluster, const PerfOptions& options,
                                            const ComputeTime& compute);

// 4. Overlap: each collective's exposed_seconds from its overlap_rule and the compute windows.
void apply_overlap(std::vector<CollectiveUse>& collectives, const MemoryPlan& plan, const ComputeTime& compute);

// 5. Totals: communication sums, the step, MFU/HFU, then the run (tokens, steps, time, GPU-hours,
// cost, energy, CO2). `r` holds steps 1–4; fills the rest.
void step_and_run_totals(PerfPlan& r, const MemoryPlan& plan, const ClusterSpec& cluster, const PerfOptions& options);

struct PerfPlan {
    // FLOPs
    ForwardFlops forward_per_token;
    TrainingFlops per_token;
    double flops_6n = 0, flops_6n_attention = 0, flops_palm = 0;  // per token, approximations
    double tokens_per_step = 0;
    double model_flops_per_step = 0, hardware_flops_per_step = 0;  // whole cluster
    // Compute model
    RateSources rate_sources;         // where the compute model's rates came from
    double peak_flops = 0;            // per GPU, for the precision (the MFU's denominator)
    bool peak_given = false;          // --peak-flops
    double clock_fraction = 1;        // under --power-limit
    double board_watts = 0;           // the TDP, or --power-limit
    int compute_stage = 0;            // the slowest pipeline stage (ComputeTime::stage), which the times below are for
    double gemm_efficiency = 0;       // achieved / peak for this GPU and the per-GPU matmul shapes
    bool fp8_linears_only = false;    // fp8: attention core and output layer at peak_16bit
    double peak_16bit = 0;            // their peak (= peak_flops unless fp8)
    double attention_backward_factor = 2;  // backward ÷ forward FLOPs of the attention core (flash: 2.5)
    double attention_efficiency = 0;  // the attention core's fraction of peak_16bit
    std::string attention_efficiency_source;  // empty: the GEMM efficiency
    double fp8_cast_seconds = 0;      // per step, of elementwise_seconds: fp8 casts of the linears' operands
    std::string fp8_weight_cast_source;  // fp8: why weights are cast once per step (empty: every micro-batch)
    double expert_tokens = 0;         // MoE: rows of each routed expert's grouped GEMM per micro-batch (balanced routing)
    double expert_gemm_efficiency = 0;  // MoE: the routed experts' GEMM efficiency at their own shape (0: no MoE layer)
    double moe_permute_seconds = 0;   // per step, of elementwise_seconds: MoE token permutation (dispatch and combine)
    ElementwiseChoice elementwise;    // fused or eager element-wise kernels, and what decided it
    double eager_extra_bytes_per_token = 0;  // eager: per token, the stage's layers, forward + backward
    std::vector<EagerOp> eager_modules;      // eager: by module, per token over the stage's layers
    double eager_extra_seconds = 0;   // per step, of elementwise_seconds: eager ops' bytes beyond fused kernels
    double loss_seconds = 0;          // per step, of elementwise_seconds: the cross-entropy over the logits (last stage)
    std::string loss_source;          // the loss kernel it assumes
    double ssm_seconds = 0;           // per step, of matmul_seconds: hybrid models' Mamba-2 SSD scans
    double delta_rule_seconds = 0;    // per step, of matmul_seconds: Gated DeltaNet layers' chunked delta rules
    double bf16_linear_share = 0;     // quantized recipes: the linears' FLOPs share the framework keeps in 16 bits
    std::string bf16_linear_source;   // which (ComputeTime::bf16_linear_source)
    double microbatch_forward_seconds = 0, microbatch_backward_seconds = 0;  // worst stage, one micro-batch
    double matmul_seconds = 0, elementwise_seconds = 0;  // per step, worst stage
    double compute_seconds = 0;       // per step (m micro-batches), worst stage
    double bubble_seconds = 0;
    double bubble_fraction = 0;       // (p − 1)/(v·m)
    double optimizer_seconds = 0;
    bool optimizer_on_cpu = false;    // --offload: the CPU's optimizer step is not modelled (ComputeTime::optimizer_on_cpu)
    MoeHostWork moe_host;             // host work the GPU waits for (ComputeTime::moe_host)
    ActivationOffload activation_offload;  // the offloaded activations' copies, their exposed part (ComputeTime::activation_offload)
    // --framework llmplan on one device: the engine's kernels, summed (engine_time.h); it then
    // supplies the forward, backward and optimizer times above.
    std::optional<EngineStepTime> engine_time;
    // Communication
    std::vector<CollectiveUse> collectives;
    double comm_bytes_per_gpu = 0;    // bytes through one GPU's links per step (S × busbw factor)
    double comm_seconds = 0, comm_exposed_seconds = 0;
    // Step
    double step_seconds = 0;
    double tokens_per_second = 0;
    double mfu = 0, hfu = 0;
    bool mfu_given = false;
    // The run
    double training_tokens = 0;
    bool tokens_default = false;
    double steps = 0;
    double training_seconds = 0, gpu_hours = 0, cost = 0;
    double busy_fraction = 0, average_power_watts = 0;  // per GPU
    double energy_kwh = 0, co2_kg = 0;
    RunGoodput goodput;               // the expected run beside the steady state above
};

// Throws InputError (naming the flag) for impossible options (negative price, PUE < 1, ...).
PerfPlan plan_perf(const MemoryPlan& plan, const ClusterSpec& cluster, const PerfOptions& options);

// Peak dense FLOP/s of the GPU for a precision's matmul inputs: precision_peak_flops (core/precision.h;
// fp32 uses TF32 tensor cores, a format the GPU lacks falls back as the precision table says).
double peak_for(const GpuSpec& gpu, Precision p);


}  // namespace llmplan
