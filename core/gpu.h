// gpu.h — the GPU catalog: memory capacity and bandwidth, dense peak FLOP/s per matmul input
// format, the intra-node link and board power of each accelerator llmplan plans for.
//
// Every figure comes from the vendor's datasheet or architecture whitepaper, cited beside it in
// gpu.cpp; docs/GPUS.md tabulates them with notes on units and on dense vs sparse peaks.
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// The GPU a plan is for when none is named: the default of the CLI's --gpu and the GUI's first screen.
inline constexpr const char* kDefaultGpu = "h100-sxm";

// GEMM efficiency (docs/PERFORMANCE_MODEL.md §2): the fraction of the dense peak a large GEMM
// reaches in training, everything the time model does not itemise included. The A100's — the
// default for every GPU without its own fit — fitted on the 26 A100 `fit` runs of the published-runs
// validation (least squares of the log throughput error; 0.82 when fitted on Korthikanti et al.
// Table 5 alone); for Hopper, fitted to GPT-2 124M / 350M training measured on the lent H100
// (docs/REFERENCES.md §7), used where no kernel table applies.
inline constexpr double kGemmEfficiency = 0.735;       // A100 fit; the default
inline constexpr double kGemmEfficiencyHopper = 0.63;  // H100 fit (H100, H200)
// The GB200: DERIVED from Bekman's MAMF table as below (0.587), and FITTED (0.485, 2026-12-06) on
// the 13 dense `fit` runs on GB200 of the published-runs validation — Megatron Bridge's tables,
// planned with --framework megatron, least squares of the log throughput error; the held-out
// dense GB200 runs go from +15.3% to −1.3% (geometric mean) with it (docs/GPUS.md). The catalog uses
// the fit: GB200s sustained 17% less in those trainings than the MAMF ratio implies. The GB300's
// dense fit runs give 0.625 against the derived 0.587 it keeps (its held-out runs no better).
inline constexpr double kGemmEfficiencyGb200Derived = 0.587;
inline constexpr double kGemmEfficiencyGb200 = 0.485;
// What a Blackwell (B200-die) GPU sustains in training of what its MAMF ratio implies: the GB200's
// fit over its derivation, 0.485 / 0.587 = 0.826. The B200 carries the same die at a lower board
// power (1,000 W against 1,200 W), so it takes the same share of its own derived 0.625 (docs/GPUS.md,
// "The GB200 refit"); the GB300 (Blackwell Ultra, 1,400 W) keeps its derivation.
inline constexpr double kBlackwellSustainedShare = kGemmEfficiencyGb200 / kGemmEfficiencyGb200Derived;
// Rows with neither a fit nor a kernel table of their own (B200, GB200, MI300X, MI325X, V100, T4,
// L40S, RTX 3090/4090/5090) carry an efficiency DERIVED from a published GEMM benchmark that also
// measured an H100 the same way (docs/GPUS.md, "Planning defaults"; docs/REFERENCES.md §12):
//   e_gpu = (rate_gpu ÷ rate_H100, published) × T × kKernelTableSustained ÷ (peak_gpu × s/(s + 128))
// (kKernelTableSustained = 0.88, planner/perf.h: the sustained fraction of table rates in training)
// with T the H100 kernel table's rate (measured on the lent H100 SXM; the h100-sxm row's table) at the benchmark's H100 shape and
// s that shape's smallest dimension (the time model's shape factor, divided out so that
// e_gpu × s/(s + 128) reproduces the anchored rate there). Checked by tests/test_gpu.cpp.
// B300 and GB300 (Blackwell Ultra), which no published benchmark has measured, carry the B200's
// and the GB200's derived values ("assumed: …"): the same tensor cores and dense bf16 peaks.

// Attention-core efficiency (docs/PERFORMANCE_MODEL.md §2): the fraction of the 16-bit dense peak
// the fused attention kernel of a PyTorch-class stack (SDPA's flash backend: FlashAttention-2)
// reaches. On Hopper FlashAttention-2 "achieves only 35% utilization on the H100" (Shah et al.
// 2024, FlashAttention-3, abstract and §1); rows without a published figure use their GEMM
// efficiency with its shape factor.
inline constexpr double kAttentionEfficiencyHopperFa2 = 0.35;
// On the A100 FlashAttention-2 reaches "50-73% of the theoretical maximum FLOPs/s" (Dao 2023,
// FlashAttention-2, abstract): the upper end is its forward pass at long sequences and head dim 128;
// its backward (2.5 × the forward's FLOPs) runs below the forward (the paper's §4.1 figures), so a
// training step's attention core is taken at the range's lower end.
inline constexpr double kAttentionEfficiencyAmpereFa2 = 0.50;

// The input format of a matrix multiply (what the tensor / matrix cores read).
enum class NumberFormat { fp64, fp32, tf32, fp16, bf16, fp8, fp4, int8 };

// What pinned host <-> device copies reach of the host link's datasheet rate: 55.0 GB/s device to
// host and 55.3 host to device of PCIe 5.0 x16's 64 GB/s on an H100 SXM5 (1 GiB copies;
// validation/host_link/host_link.py, host_link_h100.json, 2026-12-06), applied to every part's link.
inline constexpr double kHostLinkSustained = 0.86;

struct GpuSpec {
    std::string name;          // catalog key, lower case, e.g. "h100-sxm"
    std::string display_name;  // "NVIDIA H100 SXM5 80GB"
    std::string vendor;        // "NVIDIA" / "AMD"
    std::string architecture;  // "Hopper"
    // Capacity as marketed, read in binary units the way the drivers report it: "A100 80GB" is
    // 80 GiB = 80 × 2^30 bytes (nvidia-smi: 81920 MiB). Some boards expose a little less than
    // the round figure (H100 80GB HBM3: 81559 MiB; H200 141GB: 143771 MiB); --gpu-memory
    // overrides it.
    double memory_bytes = 0;
    std::string memory_kind;       // "HBM3", "GDDR6X", ...
    double memory_bandwidth = 0;   // bytes/s, datasheet peak (decimal: 3.35 TB/s = 3.35e12)
    // Dense (non-sparse) peak FLOP/s per matmul input format, on the matrix units where the GPU
    // has them; 0 = not supported in hardware. Never the 2:4 structured-sparsity figure.
    // fp32 is the non-tensor (CUDA core / vector) rate; fp16 and bf16 accumulate in fp32.
    double peak_fp64 = 0;
    double peak_fp32 = 0;
    double peak_tf32 = 0;
    double peak_fp16 = 0;
    double peak_bf16 = 0;
    double peak_fp8 = 0;
    double peak_fp4 = 0;   // FP4 (E2M1) inputs with block scales (NVFP4, MXFP4): Blackwell and later
    double peak_int8 = 0;  // OP/s
    std::string intra_node_link;        // "NVLink 4 (18 links)", "PCIe 4.0 x16", "Infinity Fabric"
    // Bytes/s per GPU in ONE direction: half the bidirectional figure datasheets print
    // (NVLink 4: 900 GB/s bidirectional -> 450e9).
    double intra_node_bandwidth = 0;
    // The link to the host CPU's memory (what activation offloading copies over): its name and its
    // bytes/s per GPU in ONE direction as the datasheet gives it (PCIe 5.0 x16: 64e9; a GB200's
    // NVLink-C2C, 900 GB/s bidirectional between the Grace and its two GPUs: 225e9 per GPU). Copies
    // reach kHostLinkSustained of it (docs/GPUS.md, "Host link").
    std::string host_link = "PCIe 4.0 x16 (assumed)";
    double host_link_bandwidth = 32e9;
    int default_gpus_per_node = 8;      // GPUs in the usual server of this part
    double tdp_watts = 0;               // board power (TDP / TBP), datasheet maximum
    // Streaming multiprocessors (AMD: compute units) a kernel can use; 0 = not in the catalog.
    // The time model takes a communication kernel's SMs from the computation it overlaps
    // (docs/PERFORMANCE_MODEL.md §3, "SMs a dispatcher takes").
    int sm_count = 0;
    std::string source;                 // datasheet(s) this row comes from

    // What the time and cost models assume of the part (docs/GPUS.md, "Planning defaults"). A row
    // built elsewhere (a test, a custom GPU) that leaves these out gets the defaults below: the A100
    // GEMM fit, a 100 Gb/s NIC per GPU and 1.00 USD per GPU-hour.
    double gemm_efficiency = kGemmEfficiency;  // fraction of the dense peak a large GEMM reaches
    std::string gemm_efficiency_source = "default: the A100 fit to Korthikanti et al. Table 5 (not fitted on this part)";
    double attention_efficiency = 0;           // of the 16-bit peak, the attention core's kernel (0: gemm_efficiency)
    std::string attention_efficiency_source = {};  // where attention_efficiency comes from
    // A measured kernel table compiled in (core/kernel_table.h; validation/kernels/kernel_tables_<key>.json):
    // its key, "" for none. The table's key is the catalog key of the GPU it was measured on; on
    // another part its memory-bound rates scale by this part's memory_bandwidth ÷ that GPU's.
    std::string kernel_table = {};
    std::string kernel_table_source = {};  // "measured on this part" or why another part's table applies
    double nic_gbps = 100;                     // the usual network card per GPU, Gb/s line rate
    std::string nic_description = "100 Gb/s";  // what the cluster line prints
    double price_per_gpu_hour = 1.00;          // USD, typical cloud on-demand (assumed)
    std::string price_source = "typical 2026 cloud on-demand price (assumed)";

    // The dense peak for matmuls whose inputs are in format f (0: not supported).
    double peak_flops(NumberFormat f) const;
};

// Every GPU llmplan knows, in catalog order (by vendor, then generation), then the rows added by
// register_gpu. A deque: references to rows stay valid while rows are added.
const std::deque<GpuSpec>& gpu_catalog();

// Adds a row to the catalog (after the built-in ones), so --gpu, find_gpu and the planner see it.
// Throws InputError for an empty, upper-case or already-known key, a non-positive capacity,
// memory bandwidth or bf16/fp16 peak. Not thread-safe: register before planning starts.
const GpuSpec& register_gpu(GpuSpec gpu);
// Removes a row added by register_gpu (false: no such added row). References to rows added after
// it become invalid; remove in the reverse order of registration.
bool unregister_gpu(std::string_view name);

// Case-insensitive lookup by catalog key or alias ("h100" -> h100-sxm, "a100" -> a100-80g,
// "4090" -> rtx-4090, "mi300" -> mi300x, "v100" -> v100-32g, "h200-sxm" -> h200), else by the words
// of a name as nvidia-smi or a datasheet writes it ("NVIDIA H100 80GB HBM3" -> h100-sxm,
// "A100-SXM4-40GB" -> a100-40g; docs/GPUS.md gives the rule); nullptr if unknown or if the words
// fit several rows (gpu_or_throw then lists them).
const GpuSpec* find_gpu(std::string_view name);

// find_gpu, or an InputError naming the flag, the value and the closest catalog key:
//   --gpu: unknown GPU "h300" (did you mean "h200"? `llmplan gpus` lists all)
const GpuSpec& gpu_or_throw(std::string_view name, std::string_view flag);

// "fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "fp4", "int8".
const char* to_string(NumberFormat f);

}  // namespace llmplan
