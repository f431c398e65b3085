// gpu.cpp — the GPU catalog rows, each figure cited beside it, and lookup by name or alias.
//
// Units: memory capacity in binary units (GiB = 2^30 bytes, as the drivers report it);
// bandwidths and FLOP/s in decimal units (GB/s = 1e9 bytes/s, TFLOP/s = 1e12), as datasheets print
// them. Peaks are dense: NVIDIA and AMD datasheets mark the 2:4 structured-sparsity figures with
// an asterisk, and those are exactly twice the dense ones; we halve them where only those are given.
#include "core/gpu.h"

#include "core/error.h"
#include "core/text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace llmplan {

namespace {

constexpr double GiB = 1024.0 * 1024.0 * 1024.0;  // 2^30 bytes
constexpr double GBps = 1e9;                       // bytes/s, decimal as in datasheets
constexpr double TBps = 1e12;
constexpr double TFLOPS = 1e12;  // FLOP/s (OP/s for int8)
constexpr double PFLOPS = 1e15;

std::vector<GpuSpec> build_catalog() {
    std::vector<GpuSpec> c;
    // A row added above, for a part that takes a sibling's planning value (one source for it).
    auto row = [&c](const char* name) -> const GpuSpec& {
        for (const GpuSpec& g : c)
            if (g.name == name) return g;
        throw std::logic_error(std::string("build_catalog: no row ") + name + " above");
    };

    // ---- NVIDIA Volta -------------------------------------------------------------------------
    c.push_back(GpuSpec{
        .name = "v100-32g",
        .display_name = "NVIDIA Tesla V100 SXM2 32GB",
        .vendor = "NVIDIA",
        .architecture = "Volta",
        .memory_bytes = 32 * GiB,            // V100 datasheet: 32 GB HBM2
        .memory_kind = "HBM2",
        .memory_bandwidth = 900 * GBps,      // V100 datasheet (SXM2): 900 GB/s
        .peak_fp64 = 7.8 * TFLOPS,           // V100 datasheet (SXM2): 7.8 TFLOPS double precision (no FP64 tensor cores)
        .peak_fp32 = 15.7 * TFLOPS,          // V100 datasheet (SXM2): 15.7 TFLOPS single precision
        .peak_tf32 = 0,                      // TF32 arrives with Ampere (A100 whitepaper)
        .peak_fp16 = 125 * TFLOPS,           // V100 datasheet (SXM2): 125 TFLOPS tensor performance (fp16 in, fp32 accumulate)
        .peak_bf16 = 0,                      // Volta tensor cores take fp16 only (Volta whitepaper)
        .peak_fp8 = 0,                       // FP8 arrives with Hopper
        .peak_fp4 = 0,                       // FP4 arrives with Blackwell
        .peak_int8 = 0,                      // no INT8 tensor cores; the datasheet gives no INT8 rate (DP4A on CUDA cores not counted)
        .intra_node_link = "NVLink 2 (6 links)",
        .intra_node_bandwidth = 150 * GBps,  // V100 datasheet: NVLink 300 GB/s bidirectional -> 150 GB/s each way
        .host_link = "PCIe 3.0 x16",
        .host_link_bandwidth = 16 * GBps,  // V100 datasheet: PCIe Gen3 host interface; PCIe 3.0 x16: 16 GB/s each way
        .default_gpus_per_node = 8,          // DGX-1 (8 × V100 SXM2, hybrid cube-mesh NVLink)
        .tdp_watts = 300,                    // V100 datasheet (SXM2): 300 W
        .sm_count = 80,                   // V100 whitepaper (2017): Tesla V100 80 SMs
        .source = "NVIDIA Tesla V100 GPU Accelerator datasheet (SXM2 column); NVIDIA Tesla V100 GPU Architecture whitepaper (2017)",
        .gemm_efficiency = 0.687,  // V100-SXM2-16GB 94.84 ÷ H100 759.09 fp16 (same SXM2 compute as the 32GB); derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: V100 SXM2 94.84 vs H100 759.09 TFLOP/s fp16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // EDR / HDR-100 class (DGX-1 era); assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Ampere ------------------------------------------------------------------------
    // A100 whitepaper and datasheet agree: FP64 tensor 19.5, FP32 19.5, TF32 156, BF16/FP16 312,
    // INT8 624 TOPS dense (312/624/624/1248 with sparsity).
    c.push_back(GpuSpec{
        .name = "a100-40g",
        .display_name = "NVIDIA A100 SXM4 40GB",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 40 * GiB,            // A100 datasheet: 40 GB HBM2 (nvidia-smi: 40960 MiB)
        .memory_kind = "HBM2",
        .memory_bandwidth = 1555 * GBps,     // A100 datasheet (40GB SXM): 1,555 GB/s
        .peak_fp64 = 19.5 * TFLOPS,          // A100 datasheet: FP64 Tensor Core 19.5 TFLOPS (vector FP64: 9.7)
        .peak_fp32 = 19.5 * TFLOPS,          // A100 datasheet: FP32 19.5 TFLOPS
        .peak_tf32 = 156 * TFLOPS,           // A100 datasheet: TF32 Tensor Core 156 TFLOPS (312 with sparsity)
        .peak_fp16 = 312 * TFLOPS,           // A100 datasheet: FP16 Tensor Core 312 TFLOPS (624 with sparsity)
        .peak_bf16 = 312 * TFLOPS,           // A100 datasheet: BFLOAT16 Tensor Core 312 TFLOPS (624 with sparsity)
        .peak_fp8 = 0,                       // FP8 arrives with Hopper
        .peak_fp4 = 0,                       // FP4 arrives with Blackwell
        .peak_int8 = 624 * TFLOPS,           // A100 datasheet: INT8 Tensor Core 624 TOPS (1,248 with sparsity)
        .intra_node_link = "NVLink 3 (12 links)",
        .intra_node_bandwidth = 300 * GBps,  // A100 datasheet: NVLink 600 GB/s bidirectional -> 300 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // A100 datasheet: PCIe Gen4 64 GB/s; PCIe 4.0 x16: 32 GB/s each way (64 GB/s bidirectional)
        .default_gpus_per_node = 8,          // DGX A100 / HGX A100 8-GPU
        .tdp_watts = 400,                    // A100 datasheet (SXM): 400 W
        .sm_count = 108,                  // A100 whitepaper (2020): A100 Tensor Core GPU 108 SMs
        .source = "NVIDIA A100 Tensor Core GPU datasheet (SXM 40GB column); NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020)",
        .gemm_efficiency = kGemmEfficiency,
        .gemm_efficiency_source = "fitted: the 26 A100 runs of the published-runs validation's fit part (Korthikanti, Narayanan, MPT, BLOOM, OPT, MT-NLG; docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyAmpereFa2,
        .attention_efficiency_source = "FlashAttention-2 on A100: 50-73% of peak (Dao 2023, FlashAttention-2, abstract), the lower end for forward + backward",
        .nic_gbps = 200,                      // DGX A100: one HDR 200 Gb/s HCA per GPU
        .nic_description = "HDR InfiniBand 200 Gb/s",
        .price_per_gpu_hour = 1.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    c.push_back(GpuSpec{
        .name = "a100-80g",
        .display_name = "NVIDIA A100 SXM4 80GB",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 80 * GiB,            // A100 datasheet: 80 GB HBM2e (nvidia-smi: 81920 MiB)
        .memory_kind = "HBM2e",
        .memory_bandwidth = 2039 * GBps,     // A100 datasheet (80GB SXM): 2,039 GB/s
        .peak_fp64 = 19.5 * TFLOPS,          // A100 datasheet: FP64 Tensor Core 19.5 TFLOPS (vector FP64: 9.7)
        .peak_fp32 = 19.5 * TFLOPS,          // A100 datasheet: FP32 19.5 TFLOPS
        .peak_tf32 = 156 * TFLOPS,           // A100 datasheet: TF32 Tensor Core 156 TFLOPS (312 with sparsity)
        .peak_fp16 = 312 * TFLOPS,           // A100 datasheet: FP16 Tensor Core 312 TFLOPS (624 with sparsity)
        .peak_bf16 = 312 * TFLOPS,           // A100 datasheet: BFLOAT16 Tensor Core 312 TFLOPS (624 with sparsity)
        .peak_fp8 = 0,                       // FP8 arrives with Hopper
        .peak_fp4 = 0,                       // FP4 arrives with Blackwell
        .peak_int8 = 624 * TFLOPS,           // A100 datasheet: INT8 Tensor Core 624 TOPS (1,248 with sparsity)
        .intra_node_link = "NVLink 3 (12 links)",
        .intra_node_bandwidth = 300 * GBps,  // A100 datasheet: NVLink 600 GB/s bidirectional -> 300 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // A100 datasheet: PCIe Gen4 64 GB/s; PCIe 4.0 x16: 32 GB/s each way (64 GB/s bidirectional)
        .default_gpus_per_node = 8,          // DGX A100 / HGX A100 8-GPU
        .tdp_watts = 400,                    // A100 datasheet (80GB SXM): 400 W
        .sm_count = 108,                  // A100 whitepaper (2020): 108 SMs
        .source = "NVIDIA A100 Tensor Core GPU datasheet (SXM 80GB column); NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020)",
        .gemm_efficiency = kGemmEfficiency,
        .gemm_efficiency_source = "fitted: the 26 A100 runs of the published-runs validation's fit part (Korthikanti, Narayanan, MPT, BLOOM, OPT, MT-NLG; docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyAmpereFa2,
        .attention_efficiency_source = "FlashAttention-2 on A100: 50-73% of peak (Dao 2023, FlashAttention-2, abstract), the lower end for forward + backward",
        .nic_gbps = 200,                      // DGX A100: one HDR 200 Gb/s HCA per GPU
        .nic_description = "HDR InfiniBand 200 Gb/s",
        .price_per_gpu_hour = 1.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // A800: the A100 for China (2022), the A100 80GB SXM's compute and memory with NVLink cut to
    // 400 GB/s; trained on by several Chinese labs' published models.
    c.push_back(GpuSpec{
        .name = "a800",
        .display_name = "NVIDIA A800 SXM4 80GB",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 80 * GiB,            // A800 datasheet (80GB SXM): 80 GB HBM2e
        .memory_kind = "HBM2e",
        .memory_bandwidth = 2039 * GBps,     // A800 datasheet (80GB SXM): 2,039 GB/s
        .peak_fp64 = 19.5 * TFLOPS,          // A800 datasheet: FP64 Tensor Core 19.5 TFLOPS (vector FP64: 9.7)
        .peak_fp32 = 19.5 * TFLOPS,          // A800 datasheet: FP32 19.5 TFLOPS
        .peak_tf32 = 156 * TFLOPS,           // A800 datasheet: TF32 Tensor Core 156 TFLOPS (312 with sparsity)
        .peak_fp16 = 312 * TFLOPS,           // A800 datasheet: FP16 Tensor Core 312 TFLOPS (624 with sparsity)
        .peak_bf16 = 312 * TFLOPS,           // A800 datasheet: BFLOAT16 Tensor Core 312 TFLOPS (624 with sparsity)
        .peak_fp8 = 0,                       // FP8 arrives with Hopper
        .peak_fp4 = 0,                       // FP4 arrives with Blackwell
        .peak_int8 = 624 * TFLOPS,           // A800 datasheet: INT8 Tensor Core 624 TOPS (1,248 with sparsity)
        .intra_node_link = "NVLink 3 (reduced)",
        .intra_node_bandwidth = 200 * GBps,  // A800 datasheet (SXM): NVLink 400 GB/s bidirectional -> 200 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // A800 datasheet: PCIe Gen4 64 GB/s; PCIe 4.0 x16: 32 GB/s each way
        .default_gpus_per_node = 8,          // HGX A800 8-GPU
        .tdp_watts = 400,                    // A800 datasheet (80GB SXM): 400 W
        .sm_count = 108,                  // the A100's GA100 configuration, 108 SMs (A100 whitepaper)
        .source = "NVIDIA A800 Tensor Core GPU datasheet (SXM 80GB column); compute as the A100 SXM4 80GB's",
        .gemm_efficiency = row("a100-80g").gemm_efficiency,
        .gemm_efficiency_source = "assumed: the A100 80GB's fit (the same GA100 compute and HBM2e; only NVLink differs)",
        .attention_efficiency = kAttentionEfficiencyAmpereFa2,
        .attention_efficiency_source = "FlashAttention-2 on A100: 50-73% of peak (Dao 2023, FlashAttention-2, abstract), the lower end for forward + backward",
        .nic_gbps = 200,                      // as the DGX A100: one HDR 200 Gb/s HCA per GPU (assumed)
        .nic_description = "HDR InfiniBand 200 Gb/s (assumed)",
        .price_per_gpu_hour = 1.50,           // as the A100 80GB (assumed; --price-per-gpu-hour overrides)
    });

    // A10G: AWS's variant of the A10 (GA102), in EC2 G5 instances. NVIDIA publishes no A10G
    // datasheet and AWS no peak figures, so the compute and memory figures are the A10 datasheet's
    // (an assumption: reports give the A10G 80 SMs to the A10's 72); its power limit is what
    // nvidia-smi reports on G5 instances, twice the A10's 150 W.
    c.push_back(GpuSpec{
        .name = "a10g",
        .display_name = "NVIDIA A10G 24GB (AWS G5)",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 24 * GiB,            // A10 datasheet: 24 GB GDDR6
        .memory_kind = "GDDR6",
        .memory_bandwidth = 600 * GBps,      // A10 datasheet: 600 GB/s
        .peak_fp64 = 31.2 / 64 * TFLOPS,     // FP32 ÷ 64 (GA10x rate, Ampere GA102 whitepaper): 0.49 TFLOPS
        .peak_fp32 = 31.2 * TFLOPS,          // A10 datasheet: FP32 31.2 TFLOPS
        .peak_tf32 = 62.5 * TFLOPS,          // A10 datasheet: TF32 Tensor Core 62.5 TFLOPS (125 with sparsity)
        .peak_fp16 = 125 * TFLOPS,           // A10 datasheet: FP16 Tensor Core 125 TFLOPS (250 with sparsity)
        .peak_bf16 = 125 * TFLOPS,           // A10 datasheet: BFLOAT16 Tensor Core 125 TFLOPS (250 with sparsity)
        .peak_fp8 = 0,                       // FP8 arrives with Hopper / Ada
        .peak_fp4 = 0,                       // FP4 arrives with Blackwell
        .peak_int8 = 250 * TFLOPS,           // A10 datasheet: INT8 Tensor Core 250 TOPS (500 with sparsity)
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // A10 datasheet: PCIe Gen4 64 GB/s bidirectional -> 32 GB/s each way (no NVLink)
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // A10 datasheet: PCIe Gen4 x16 64 GB/s; PCIe 4.0 x16: 32 GB/s each way (64 GB/s bidirectional)
        .default_gpus_per_node = 8,          // g5.48xlarge: 8 A10G (the G5 instance with the most GPUs)
        .tdp_watts = 300,                    // nvidia-smi power limit on G5 instances (AWS's table of its GPU instances); A10 datasheet: 150 W
        .source = "NVIDIA A10 Tensor Core GPU datasheet (AWS publishes no separate A10G figures); AWS EC2 G5 instances (8 × A10G, 100 Gb/s)",
        .gemm_efficiency = kGemmEfficiency,
        .gemm_efficiency_source = "default: the A100 fit (no published GEMM measurement of the A10G found; docs/GPUS.md)",
        .nic_gbps = 12.5,                     // g5.48xlarge: 100 Gb/s networking for 8 GPUs
        .nic_description = "100 Gb/s ENA per 8 GPUs (g5.48xlarge)",
        .price_per_gpu_hour = 2.036,          // AWS on-demand list price of g5.48xlarge, 16.288 USD/h for 8 A10G (us-east-1)
        .price_source = "AWS on-demand list price: g5.48xlarge 16.288 USD/h ÷ 8 GPUs (us-east-1)",
    });
    // GeForce RTX 3090 (GA102): the Ampere GA102 whitepaper's Appendix A. GeForce runs fp16/bf16
    // tensor ops at half rate with fp32 accumulation (71 TFLOPS; 142 with fp16 accumulation).
    c.push_back(GpuSpec{
        .name = "rtx-3090",
        .display_name = "NVIDIA GeForce RTX 3090 24GB",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 24 * GiB,            // GA102 whitepaper, Appendix A: 24 GB GDDR6X
        .memory_kind = "GDDR6X",
        .memory_bandwidth = 936 * GBps,      // GA102 whitepaper, Appendix A: 936 GB/s (19.5 Gbps × 384-bit)
        .peak_fp64 = 35.6 / 64 * TFLOPS,     // FP32 ÷ 64 (GA10x rate, GA102 whitepaper): 0.56 TFLOPS
        .peak_fp32 = 35.6 * TFLOPS,          // GA102 whitepaper, Appendix A: peak FP32 35.6 TFLOPS
        .peak_tf32 = 35.6 * TFLOPS,          // GA102 whitepaper, Appendix A: TF32 Tensor 35.6 TFLOPS (71 with sparsity)
        .peak_fp16 = 71 * TFLOPS,            // GA102 whitepaper, Appendix A: FP16 Tensor, FP32 accumulate, 71 TFLOPS (142 with sparsity)
        .peak_bf16 = 71 * TFLOPS,            // GA102 whitepaper, Appendix A: BF16 Tensor, FP32 accumulate, 71 TFLOPS (142 with sparsity)
        .peak_fp8 = 0,                       // FP8 arrives with Hopper / Ada
        .peak_fp4 = 0,                       // FP4 arrives with Blackwell
        .peak_int8 = 284 * TFLOPS,           // GA102 whitepaper, Appendix A: INT8 Tensor 284 TOPS (568 with sparsity)
        // Its NVLink bridge joins two cards only (112.5 GB/s total, GA102 whitepaper), so
        // collectives over a workstation of four go through PCIe.
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // PCIe 4.0 x16: 64 GB/s bidirectional (PCI-SIG) -> 32 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // GA102: PCIe 4.0 x16; PCIe 4.0 x16: 32 GB/s each way (64 GB/s bidirectional)
        .default_gpus_per_node = 4,          // a workstation, as the RTX 4090
        .tdp_watts = 350,                    // GA102 whitepaper, Appendix A: total graphics power 350 W
        .sm_count = 82,                   // GA102 whitepaper, Appendix A: RTX 3090 82 SMs
        .source = "NVIDIA Ampere GA102 GPU Architecture whitepaper (2020), Appendix A (GeForce RTX 3090)",
        .gemm_efficiency = 0.919,  // RTX 3090 76.58 ÷ H100 790.585 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: RTX 3090 76.58 vs H100 790.6 TFLOP/s bf16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // workstations; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Hopper ------------------------------------------------------------------------
    // The H100 whitepaper's comparison table gives the unrounded dense/sparse figures (SXM5:
    // BF16 989.4/1978.9, FP8 1978.9/3957.8, TF32 494.7/989.4, FP32 66.9, FP64 tensor 66.9);
    // the datasheet prints the sparse ones rounded (1,979 BF16*, 3,958 FP8*) and FP32 67.
    // We use the whitepaper's.
    c.push_back(GpuSpec{
        .name = "h100-sxm",
        .display_name = "NVIDIA H100 SXM5 80GB",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        // Measured on the lent H100 80GB HBM3 (2026-11-22, validation/pytorch_memory/pytorch_1gpu_h100.json):
        // cudaMemGetInfo total = 85,017,493,504 bytes (79.18 GiB) — what a process can use; the
        // datasheet's "80 GB" (nvidia-smi: 81559 MiB) includes memory the driver keeps.
        .memory_bytes = 85017493504.0,
        .memory_kind = "HBM3",
        .memory_bandwidth = 3.35 * TBps,     // H100 datasheet (SXM): 3.35 TB/s
        .peak_fp64 = 66.9 * TFLOPS,          // H100 whitepaper: FP64 Tensor 66.9 TFLOPS (vector 33.5; datasheet 67 / 34)
        .peak_fp32 = 66.9 * TFLOPS,          // H100 whitepaper: FP32 66.9 TFLOPS (datasheet 67)
        .peak_tf32 = 494.7 * TFLOPS,         // H100 whitepaper: TF32 Tensor 494.7 TFLOPS (989.4 with sparsity)
        .peak_fp16 = 989.4 * TFLOPS,         // H100 whitepaper: FP16 Tensor, FP32 accumulate, 989.4 TFLOPS
        .peak_bf16 = 989.4 * TFLOPS,         // H100 whitepaper: BF16 Tensor 989.4 TFLOPS (datasheet 1,979 with sparsity)
        .peak_fp8 = 1978.9 * TFLOPS,         // H100 whitepaper: FP8 Tensor 1978.9 TFLOPS (datasheet 3,958 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper (FP4 arrives with Blackwell)
        .peak_int8 = 1978.9 * TFLOPS,        // H100 whitepaper: INT8 Tensor 1978.9 TOPS (3,958 with sparsity)
        .intra_node_link = "NVLink 4 (18 links)",
        .intra_node_bandwidth = 450 * GBps,  // H100 datasheet: NVLink 900 GB/s bidirectional -> 450 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H100 datasheet: PCIe Gen5 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // DGX H100 / HGX H100 8-GPU (NVSwitch)
        .tdp_watts = 700,                    // H100 datasheet (SXM): up to 700 W (configurable)
        .sm_count = 132,                  // H100 whitepaper (2022): H100 SXM5 132 SMs
        .source = "NVIDIA H100 Tensor Core GPU datasheet (SXM column); NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022)",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "fitted: GPT-2 124M / 350M training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .kernel_table = "h100",
        .kernel_table_source = "measured on an H100 SXM5 80GB HBM3 at 700 W (validation/kernels/kernel_tables_h100.json, 2026-12-05)",
        .nic_gbps = 400,                      // DGX H100: one ConnectX-7 NDR 400 Gb/s per GPU
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    // H100 SXM5 with 96 GB of HBM2e (Meta's Grand Teton hosts, where torchtitan's H100 benchmarks
    // ran). No NVIDIA datasheet is public; torchtitan's benchmark page
    // (benchmarks/llama3_h100_202412_torchtitan.md, "Hardware") gives its memory, bandwidth and
    // power: 96 GB HBM2e, 2.4 TB/s, a default 500 W limit of a 700 W TDP. Its compute is the
    // GH100 SXM5's (the H100 whitepaper's figures, as for the H200); that page's footnote says the
    // part's real peak lies between the SXM and the NVL and is not known: plan it with
    // --power-limit 500 as it runs, or --peak-flops.
    c.push_back(GpuSpec{
        .name = "h100-sxm-96g",
        .display_name = "NVIDIA H100 SXM5 96GB HBM2e",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 96 * GiB,            // torchtitan benchmarks, Hardware: 96GB HBM2e
        .memory_kind = "HBM2e",
        .memory_bandwidth = 2.4 * TBps,      // torchtitan benchmarks, Hardware: 2.4 TB/sec peak memory bandwidth
        .peak_fp64 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): FP64 Tensor 66.9
        .peak_fp32 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): 66.9
        .peak_tf32 = 494.7 * TFLOPS,         // H100 whitepaper (SXM5): 494.7 (989.4 with sparsity)
        .peak_fp16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4
        .peak_bf16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (1,979 with sparsity)
        .peak_fp8 = 1978.9 * TFLOPS,         // H100 whitepaper (SXM5): 1978.9 (3,958 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1978.9 * TFLOPS,        // H100 whitepaper (SXM5): 1978.9 TOPS
        .intra_node_link = "NVLink 4 (18 links)",
        .intra_node_bandwidth = 450 * GBps,  // torchtitan benchmarks: 8 H100 fully connected with NVLink (the SXM5's 900 GB/s bidirectional)
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H100 datasheet: PCIe Gen5 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // torchtitan benchmarks: 8 H100 per host
        .tdp_watts = 700,                    // torchtitan benchmarks: "the default 500W power limit ... up to 700W TDP"
        .sm_count = 132,                  // the GH100 SXM5 configuration: 132 SMs (H100 whitepaper)
        .source = "torchtitan benchmarks/llama3_h100_202412_torchtitan.md, Hardware (memory, bandwidth, power); compute as H100 SXM5 in the NVIDIA H100 Tensor Core GPU Architecture whitepaper",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "the H100 SXM fit (same GH100 SXM5 compute): GPT-2 training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .kernel_table = "h100",
        .kernel_table_source = "derived from H100 SXM5 80GB measurements (validation/kernels/kernel_tables_h100.json): the GH100 SXM5 compute its peaks assume and 700 W TDP (its own clock is not published); memory-bound rates scaled by HBM bandwidth",
        .nic_gbps = 400,                      // torchtitan benchmarks: backend RDMA network with 400 Gb/s per GPU
        .nic_description = "RDMA 400 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, as the H100 SXM (assumed; --price-per-gpu-hour overrides)
    });
    c.push_back(GpuSpec{
        .name = "h100-pcie",
        .display_name = "NVIDIA H100 PCIe 80GB",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 80 * GiB,            // H100 datasheet (PCIe): 80 GB HBM2e
        .memory_kind = "HBM2e",
        .memory_bandwidth = 2.0 * TBps,      // H100 datasheet (PCIe): 2 TB/s (whitepaper: 2000 GB/s)
        .peak_fp64 = 51.2 * TFLOPS,          // H100 whitepaper (PCIe): FP64 Tensor 51.2 TFLOPS (datasheet 51; vector 25.6)
        .peak_fp32 = 51.2 * TFLOPS,          // H100 whitepaper (PCIe): FP32 51.2 TFLOPS (datasheet 51)
        .peak_tf32 = 378 * TFLOPS,           // H100 whitepaper (PCIe): TF32 Tensor 378 TFLOPS (datasheet 756 with sparsity)
        .peak_fp16 = 756 * TFLOPS,           // H100 whitepaper (PCIe): FP16 Tensor, FP32 accumulate, 756 TFLOPS
        .peak_bf16 = 756 * TFLOPS,           // H100 whitepaper (PCIe): BF16 Tensor 756 TFLOPS (datasheet 1,513 with sparsity)
        .peak_fp8 = 1513 * TFLOPS,           // H100 whitepaper (PCIe): FP8 Tensor 1513 TFLOPS (datasheet 3,026 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1513 * TFLOPS,          // H100 whitepaper (PCIe): INT8 Tensor 1513 TOPS (3,026 with sparsity)
        // An optional NVLink bridge joins pairs only (600 GB/s bidirectional, H100 datasheet), so
        // collectives over a whole 8-GPU node go through PCIe.
        .intra_node_link = "PCIe 5.0 x16",
        .intra_node_bandwidth = 64 * GBps,   // H100 datasheet (PCIe): PCIe Gen5 128 GB/s bidirectional -> 64 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H100 datasheet: PCIe Gen5 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // mainstream 8-card PCIe servers (H100 PCIe is a dual-slot passive card)
        .tdp_watts = 350,                    // H100 datasheet (PCIe): 300–350 W configurable; the maximum
        .sm_count = 114,                  // H100 whitepaper (2022): H100 PCIe 114 SMs
        .source = "NVIDIA H100 Tensor Core GPU datasheet (PCIe column); NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022)",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "the H100 SXM fit: GPT-2 training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .nic_gbps = 400,                      // one NDR 400 Gb/s NIC per GPU, as the SXM part
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    // H100 NVL: a PCIe card with the SXM part's 132 SMs and six HBM3 stacks (94 GB), sold in
    // NVLink-bridged pairs. NVIDIA's H100 product page (technical specifications, H100 NVL
    // column) prints the sparse tensor figures: dense is half.
    c.push_back(GpuSpec{
        .name = "h100-nvl",
        .display_name = "NVIDIA H100 NVL 94GB",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 94 * GiB,            // H100 product page (NVL): 94 GB HBM3
        .memory_kind = "HBM3",
        .memory_bandwidth = 3.9 * TBps,      // H100 product page (NVL): 3.9 TB/s
        .peak_fp64 = 60 * TFLOPS,            // H100 product page (NVL): FP64 Tensor Core 60 TFLOPS (vector 30)
        .peak_fp32 = 60 * TFLOPS,            // H100 product page (NVL): FP32 60 TFLOPS
        .peak_tf32 = 417.5 * TFLOPS,         // H100 product page (NVL): TF32 Tensor Core 835 TFLOPS with sparsity -> 417.5
        .peak_fp16 = 835.5 * TFLOPS,         // H100 product page (NVL): FP16 Tensor Core 1,671 TFLOPS with sparsity -> 835.5
        .peak_bf16 = 835.5 * TFLOPS,         // H100 product page (NVL): BFLOAT16 Tensor Core 1,671 TFLOPS with sparsity -> 835.5
        .peak_fp8 = 1670.5 * TFLOPS,         // H100 product page (NVL): FP8 Tensor Core 3,341 TFLOPS with sparsity -> 1670.5
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1670.5 * TFLOPS,        // H100 product page (NVL): INT8 Tensor Core 3,341 TOPS with sparsity -> 1670.5
        // The NVLink bridge (600 GB/s bidirectional) joins pairs only, so collectives over a whole
        // 8-GPU server go through PCIe, as for the H100 PCIe.
        .intra_node_link = "PCIe 5.0 x16",
        .intra_node_bandwidth = 64 * GBps,   // H100 product page (NVL): PCIe Gen5 128 GB/s bidirectional -> 64 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H100 NVL datasheet: PCIe Gen5 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // H100 product page (NVL): partner and NVIDIA-Certified systems with 1–8 GPUs
        .tdp_watts = 400,                    // H100 product page (NVL): 350–400 W configurable; the maximum
        .sm_count = 132,                  // H100 NVL: 16,896 FP32 cores = 132 SMs of 128 (H100 product page)
        .source = "NVIDIA H100 Tensor Core GPU product page, technical specifications (H100 NVL column; sparse ÷ 2)",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "the H100 SXM fit (same GH100 SMs): GPT-2 training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .nic_gbps = 400,                      // one NDR 400 Gb/s NIC per GPU, as the H100 PCIe (assumed)
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    // H200 SXM: the same GH100 SXM5 configuration as the H100 SXM (132 SMs, same clocks), so the
    // H100 whitepaper's unrounded compute figures apply; the H200 datasheet's rounded ones
    // (FP32 67, BF16 1,979*, FP8 3,958* with sparsity) agree.
    c.push_back(GpuSpec{
        .name = "h200",
        .display_name = "NVIDIA H200 SXM 141GB",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 141 * GiB,           // H200 datasheet: 141 GB HBM3e (nvidia-smi: 143771 MiB = 140.4 GiB usable)
        .memory_kind = "HBM3e",
        .memory_bandwidth = 4.8 * TBps,      // H200 datasheet (SXM): 4.8 TB/s
        .peak_fp64 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): FP64 Tensor 66.9 (H200 datasheet: 67)
        .peak_fp32 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): 66.9 (H200 datasheet: 67)
        .peak_tf32 = 494.7 * TFLOPS,         // H100 whitepaper (SXM5): 494.7 (H200 datasheet: 989 with sparsity)
        .peak_fp16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (H200 datasheet: 1,979 with sparsity)
        .peak_bf16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (H200 datasheet: 1,979 with sparsity)
        .peak_fp8 = 1978.9 * TFLOPS,         // H100 whitepaper (SXM5): 1978.9 (H200 datasheet: 3,958 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1978.9 * TFLOPS,        // H100 whitepaper (SXM5): 1978.9 TOPS (H200 datasheet: 3,958 with sparsity)
        .intra_node_link = "NVLink 4 (18 links)",
        .intra_node_bandwidth = 450 * GBps,  // H200 datasheet: NVLink 900 GB/s bidirectional -> 450 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H200 datasheet: PCIe Gen5 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // HGX H200 8-GPU
        .tdp_watts = 700,                    // H200 datasheet (SXM): up to 700 W (configurable)
        .sm_count = 132,                  // H200: the GH100 SXM5 configuration, 132 SMs (H100 whitepaper)
        .source = "NVIDIA H200 Tensor Core GPU datasheet (SXM column); compute as H100 SXM5 in the NVIDIA H100 Tensor Core GPU Architecture whitepaper",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "the H100 SXM fit (same GH100 SXM5 compute): GPT-2 training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .kernel_table = "h200",
        .kernel_table_source = "measured on an H200 SXM 141GB at 700 W (validation/kernels/kernel_tables_h200.json, 2026-12-05)",
        .nic_gbps = 400,                      // HGX H200: one ConnectX-7 NDR 400 Gb/s per GPU
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 3.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // H800 SXM: the H100 SXM for China (2022), NVLink cut to 400 GB/s and FP64 to 1 TFLOPS. Its
    // datasheet's tensor figures (BF16 1,979*, FP8 3,958*, TF32 989*, with sparsity) are the H100
    // SXM's, so the dense ones are the H100 whitepaper's as for the H200.
    c.push_back(GpuSpec{
        .name = "h800",
        .display_name = "NVIDIA H800 SXM5 80GB",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 80 * GiB,            // H800 datasheet (SXM): 80 GB HBM3
        .memory_kind = "HBM3",
        .memory_bandwidth = 3.35 * TBps,     // H800 datasheet (SXM): 3.35 TB/s
        .peak_fp64 = 1 * TFLOPS,             // H800 datasheet (SXM): FP64 and FP64 Tensor Core 1 TFLOPS
        .peak_fp32 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): 66.9 (H800 datasheet: 67)
        .peak_tf32 = 494.7 * TFLOPS,         // H100 whitepaper (SXM5): 494.7 (H800 datasheet: 989 with sparsity)
        .peak_fp16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (H800 datasheet: 1,979 with sparsity)
        .peak_bf16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (H800 datasheet: 1,979 with sparsity)
        .peak_fp8 = 1978.9 * TFLOPS,         // H100 whitepaper (SXM5): 1978.9 (H800 datasheet: 3,958 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1978.9 * TFLOPS,        // H100 whitepaper (SXM5): 1978.9 TOPS (H800 datasheet: 3,958 with sparsity)
        .intra_node_link = "NVLink 4 (reduced)",
        .intra_node_bandwidth = 200 * GBps,  // H800 datasheet: NVLink 400 GB/s bidirectional -> 200 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H800 SXM: the H100 SXM5 host interface, PCIe Gen5; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // HGX H800 8-GPU
        .tdp_watts = 700,                    // H800 datasheet (SXM): up to 700 W
        .sm_count = 132,                  // H800 SXM: the GH100 SXM5 configuration, 132 SMs
        .source = "NVIDIA H800 Tensor Core GPU datasheet (SXM column); compute as H100 SXM5 in the NVIDIA H100 Tensor Core GPU Architecture whitepaper",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "the H100 SXM fit (same GH100 SXM5 compute): GPT-2 training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .nic_gbps = 400,                      // DeepSeek-V3 report §3.2.2: InfiniBand at 50 GB/s (400 Gb/s) per H800
        .nic_description = "InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 2.00,           // DeepSeek-V3 report Table 1: 2 USD per H800 GPU-hour (assumed rental price)
        .price_source = "DeepSeek-V3 report Table 1: 2 USD per H800 GPU-hour (their assumed rental price)",
    });
    // H20: the Hopper part for China (2024), 78 SMs at a reduced tensor rate. NVIDIA publishes no
    // datasheet; its AI Enterprise documentation lists the 96 GB SXM5 SKU (and a later 141 GB one).
    // The figures are the ones distributors and users publish, dense (Ant Group / LMSYS print them
    // beside the H800's dense 989): no sparse figure has been published.
    c.push_back(GpuSpec{
        .name = "h20",
        .display_name = "NVIDIA H20 96GB",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 96 * GiB,            // H20 specification (distributors): 96 GB HBM3; NVIDIA vGPU docs: H20 SXM5 96 GB
        .memory_kind = "HBM3",
        .memory_bandwidth = 4.0 * TBps,      // H20 specification: 4.0 TB/s
        .peak_fp64 = 1 * TFLOPS,             // H20 specification: FP64 1 TFLOPS
        .peak_fp32 = 44 * TFLOPS,            // H20 specification: FP32 44 TFLOPS
        .peak_tf32 = 74 * TFLOPS,            // H20 specification: TF32 Tensor Core 74 TFLOPS (dense)
        .peak_fp16 = 148 * TFLOPS,           // H20 specification: FP16 Tensor Core 148 TFLOPS (dense)
        .peak_bf16 = 148 * TFLOPS,           // H20 specification: BF16 Tensor Core 148 TFLOPS (dense)
        .peak_fp8 = 296 * TFLOPS,            // H20 specification: FP8 Tensor Core 296 TFLOPS (dense)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 296 * TFLOPS,           // H20 specification: INT8 Tensor Core 296 TOPS (dense)
        .intra_node_link = "NVLink 4 (18 links)",
        .intra_node_bandwidth = 450 * GBps,  // H20 specification: NVLink 900 GB/s bidirectional -> 450 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // H20: PCIe Gen5 x16 (the Hopper SXM host interface); PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // HGX H20 8-GPU (SXM5)
        .tdp_watts = 400,                    // H20 specification: 400 W
        .source = "NVIDIA H20 specification as published by distributors and Ant Group/LMSYS (no public NVIDIA datasheet; "
                  "the 96 GB SXM5 SKU is listed in NVIDIA AI Enterprise's Hopper vGPU reference)",
        .gemm_efficiency = kGemmEfficiencyHopper,
        .gemm_efficiency_source = "the H100 SXM fit (Hopper SMs): GPT-2 training measured on the lent H100 (docs/PERFORMANCE_MODEL.md §2)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .nic_gbps = 400,                      // one 400 Gb/s NIC per GPU, as HGX H100 (assumed)
        .nic_description = "400 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // GH200 Grace Hopper Superchip: one Grace CPU and one H100-class Hopper GPU (the GH100 SXM5
    // configuration, 132 SMs) on one module, joined by NVLink-C2C (900 GB/s bidirectional, one GPU per
    // link). The row is the GPU half. NVIDIA's GH200 datasheet prints the H100 SXM's tensor figures
    // with sparsity (FP8 3,958*, BF16 1,979*, TF32 989*; FP64 Tensor 67, FP32 67), so the dense ones
    // are the H100 whitepaper's unrounded SXM5 figures, as for the H200. Two memory versions: 96 GB
    // HBM3 at 4 TB/s (the original; nvidia-smi names it "NVIDIA GH200 480GB", the module's LPDDR5X)
    // and 144 GB HBM3e at 4.9 TB/s (gh200-144g). The module's power, 450 W to 1,000 W configurable,
    // covers the CPU and its memory too. Systems put 4 GH200 in a node (CSCS Alps, HPE Cray EX254n:
    // four modules and four Slingshot 11 NICs per node).
    c.push_back(GpuSpec{
        .name = "gh200",
        .display_name = "NVIDIA GH200 480GB Grace Hopper Superchip (GPU 96GB HBM3)",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 96 * GiB,            // GH200 datasheet: 96 GB HBM3
        .memory_kind = "HBM3",
        .memory_bandwidth = 4.0 * TBps,      // GH200 datasheet: 4 TB/s (HBM3 version)
        .peak_fp64 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): FP64 Tensor 66.9 (GH200 datasheet: 67)
        .peak_fp32 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): 66.9 (GH200 datasheet: 67)
        .peak_tf32 = 494.7 * TFLOPS,         // H100 whitepaper (SXM5): 494.7 (GH200 datasheet: 989 with sparsity)
        .peak_fp16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (GH200 datasheet: 1,979 with sparsity)
        .peak_bf16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (GH200 datasheet: 1,979 with sparsity)
        .peak_fp8 = 1978.9 * TFLOPS,         // H100 whitepaper (SXM5): 1978.9 (GH200 datasheet: 3,958 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1978.9 * TFLOPS,        // H100 whitepaper (SXM5): 1978.9 TOPS (GH200 datasheet: 3,958 with sparsity)
        .intra_node_link = "NVLink 4 (18 links)",
        .intra_node_bandwidth = 450 * GBps,  // GH200 datasheet: NVLink 900 GB/s bidirectional per GPU -> 450 GB/s each way
        .host_link = "NVLink-C2C (one GPU)",
        .host_link_bandwidth = 450 * GBps,   // GH200 datasheet: NVLink-C2C 900 GB/s bidirectional to its own Grace CPU -> 450 GB/s each way
        .default_gpus_per_node = 4,          // CSCS Alps (HPE Cray EX254n): four GH200 modules per node
        .tdp_watts = 1000,                   // GH200 datasheet: module power 450–1,000 W configurable, CPU + GPU + memory; the maximum
        .sm_count = 132,                     // the GH100 SXM5 configuration of the H100 (H100 whitepaper): 132 SMs
        .source = "NVIDIA GH200 Grace Hopper Superchip datasheet (https://resources.nvidia.com/en-us-grace-cpu/grace-hopper-superchip); "
                  "compute as H100 SXM5 in the NVIDIA H100 Tensor Core GPU Architecture whitepaper; CSCS Alps hardware page (node)",
        .gemm_efficiency = row("h100-sxm").gemm_efficiency,  // the H100 SXM's (docs/GPUS.md): same tensor cores, same 989.4 TFLOP/s bf16 peak
        .gemm_efficiency_source = "assumed: as the H100 SXM (the same GH100 SXM5 tensor cores and 989.4 TFLOP/s dense bf16 peak; "
                                  "its fit, GPT-2 training on the lent H100; Bekman's MAMF table measures the 144 GB GH200 4% above the H100 SXM, docs/GPUS.md)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .nic_gbps = 200,                      // CSCS Alps: one Slingshot 11 NIC per GH200; Slingshot 11 NICs run at 200 Gb/s (OLCF Frontier User Guide)
        .nic_description = "Slingshot 11 200 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, as the H100 SXM (assumed; --price-per-gpu-hour overrides)
    });
    c.push_back(GpuSpec{
        .name = "gh200-144g",
        .display_name = "NVIDIA GH200 144GB HBM3e Grace Hopper Superchip",
        .vendor = "NVIDIA",
        .architecture = "Hopper",
        .memory_bytes = 144 * GiB,           // GH200 datasheet: 144 GB HBM3e
        .memory_kind = "HBM3e",
        .memory_bandwidth = 4.9 * TBps,      // GH200 datasheet: 4.9 TB/s (HBM3e version)
        .peak_fp64 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): FP64 Tensor 66.9 (GH200 datasheet: 67)
        .peak_fp32 = 66.9 * TFLOPS,          // H100 whitepaper (SXM5): 66.9 (GH200 datasheet: 67)
        .peak_tf32 = 494.7 * TFLOPS,         // H100 whitepaper (SXM5): 494.7 (GH200 datasheet: 989 with sparsity)
        .peak_fp16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (GH200 datasheet: 1,979 with sparsity)
        .peak_bf16 = 989.4 * TFLOPS,         // H100 whitepaper (SXM5): 989.4 (GH200 datasheet: 1,979 with sparsity)
        .peak_fp8 = 1978.9 * TFLOPS,         // H100 whitepaper (SXM5): 1978.9 (GH200 datasheet: 3,958 with sparsity)
        .peak_fp4 = 0,                       // no FP4 tensor cores on Hopper
        .peak_int8 = 1978.9 * TFLOPS,        // H100 whitepaper (SXM5): 1978.9 TOPS (GH200 datasheet: 3,958 with sparsity)
        .intra_node_link = "NVLink 4 (18 links)",
        .intra_node_bandwidth = 450 * GBps,  // GH200 datasheet: NVLink 900 GB/s bidirectional per GPU -> 450 GB/s each way
        .host_link = "NVLink-C2C (one GPU)",
        .host_link_bandwidth = 450 * GBps,   // GH200 datasheet: NVLink-C2C 900 GB/s bidirectional to its own Grace CPU -> 450 GB/s each way
        .default_gpus_per_node = 4,          // four GH200 per node, as the 96 GB part's systems (CSCS Alps)
        .tdp_watts = 1000,                   // GH200 datasheet: module power 450–1,000 W configurable, CPU + GPU + memory; the maximum
        .sm_count = 132,                     // the GH100 SXM5 configuration of the H100 (H100 whitepaper): 132 SMs
        .source = "NVIDIA GH200 Grace Hopper Superchip datasheet, HBM3e version (https://resources.nvidia.com/en-us-grace-cpu/grace-hopper-superchip); "
                  "compute as H100 SXM5 in the NVIDIA H100 Tensor Core GPU Architecture whitepaper",
        .gemm_efficiency = row("h100-sxm").gemm_efficiency,  // the H100 SXM's (docs/GPUS.md): same tensor cores, same 989.4 TFLOP/s bf16 peak
        .gemm_efficiency_source = "assumed: as the H100 SXM (the same GH100 SXM5 tensor cores and 989.4 TFLOP/s dense bf16 peak; "
                                  "its fit, GPT-2 training on the lent H100; Bekman's MAMF table measures this part 4% above the H100 SXM, docs/GPUS.md)",
        .attention_efficiency = kAttentionEfficiencyHopperFa2,
        .attention_efficiency_source = "FlashAttention-2 on Hopper: 35% of the H100's peak (Shah et al. 2024, FlashAttention-3, abstract)",
        .nic_gbps = 200,                      // one Slingshot 11 200 Gb/s NIC per GH200, as the 96 GB part in Alps (assumed for this version)
        .nic_description = "Slingshot 11 200 Gb/s",
        .price_per_gpu_hour = 3.50,           // USD per GPU-hour, as the H200 (HBM3e Hopper; assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Blackwell ---------------------------------------------------------------------
    // B200 as it ships in HGX B200 / DGX B200 (1,000 W per GPU). The HGX B200 datasheet gives
    // 8-GPU totals with sparsity: FP8 72 PFLOPS*, FP16/BF16 36 PFLOPS*, TF32 18 PFLOPS*, INT8
    // 72 POPS*, FP32 600 TFLOPS, FP64 296 TFLOPS, 1.44 TB HBM3e, 64 TB/s. Per GPU: ÷ 8, and ÷ 2
    // for dense. NVIDIA's later GB200 NVL72 / HGX page prints per-GPU TF32 2.2 PFLOPS* (1.1 dense)
    // and 7.7 TB/s (62 TB/s per 8): we keep the HGX B200 datasheet's figures, which the DGX B200
    // datasheet (64 TB/s, 1,440 GB) repeats; the difference is 2% (TF32) and 4% (bandwidth).
    c.push_back(GpuSpec{
        .name = "b200",
        .display_name = "NVIDIA B200 180GB (HGX B200)",
        .vendor = "NVIDIA",
        .architecture = "Blackwell",
        .memory_bytes = 180 * GiB,           // HGX B200 datasheet: 1.44 TB HBM3e per 8 GPUs -> 180 GB
        .memory_kind = "HBM3e",
        .memory_bandwidth = 8 * TBps,        // HGX B200 / DGX B200 datasheet: 64 TB/s per 8 GPUs -> 8 TB/s
        .peak_fp64 = 37 * TFLOPS,            // HGX B200 datasheet: FP64/FP64 Tensor 296 TFLOPS per 8 -> 37
        .peak_fp32 = 75 * TFLOPS,            // HGX B200 datasheet: FP32 600 TFLOPS per 8 -> 75
        .peak_tf32 = 1.125 * PFLOPS,         // HGX B200 datasheet: TF32 18 PFLOPS* per 8 -> 2.25* -> 1.125 dense
        .peak_fp16 = 2.25 * PFLOPS,          // HGX B200 datasheet: FP16/BF16 36 PFLOPS* per 8 -> 4.5* -> 2.25 dense
        .peak_bf16 = 2.25 * PFLOPS,          // HGX B200 datasheet: FP16/BF16 36 PFLOPS* per 8 -> 4.5* -> 2.25 dense
        .peak_fp8 = 4.5 * PFLOPS,            // HGX B200 datasheet: FP8/FP6 72 PFLOPS* per 8 -> 9* -> 4.5 dense
        .peak_fp4 = 9 * PFLOPS,              // HGX B200 datasheet: FP4 Tensor Core 144 PFLOPS* per 8 -> 18* -> 9 dense
        .peak_int8 = 4.5 * PFLOPS,           // HGX B200 datasheet: INT8 72 POPS* per 8 -> 9* -> 4.5 dense
        .intra_node_link = "NVLink 5 (18 links)",
        .intra_node_bandwidth = 900 * GBps,  // HGX B200 datasheet: NVLink 1.8 TB/s bidirectional per GPU -> 900 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // HGX B200 datasheet: PCIe Gen5 x16 to the host; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // HGX B200 / DGX B200 8-GPU
        .tdp_watts = 1000,                   // HGX B200 datasheet: configurable up to 1,000 W per GPU
        .sm_count = 148,                  // Chips and Cheese, 'Nvidia's B200: Keeping the CUDA Juggernaut Rolling' (2025): 74 SMs per die enabled, 148 (third-party; NVIDIA's datasheet does not list it)
        .source = "NVIDIA HGX B200 datasheet (8-GPU totals ÷ 8, sparse ÷ 2); NVIDIA DGX B200 datasheet",
        .gemm_efficiency = 0.625 * kBlackwellSustainedShare,  // MAMF-derived 0.625 (B200 1745.0 ÷ H100 794.5 bf16) × the GB200's sustained share; docs/GPUS.md
        .gemm_efficiency_source = "derived: B200 1745.0 vs H100 794.5 TFLOP/s bf16 in Bekman's ml-engineering MAMF table, anchored to the H100 kernel table × 0.88, "
                                  "gives 0.625; × 0.826, the share of its MAMF ratio the GB200 (the same die) sustains in training (its fit, 0.485 / 0.587; docs/GPUS.md)",
        .nic_gbps = 400,                      // DGX B200: one ConnectX-7 400 Gb/s per GPU
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 3.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // GB200: one Blackwell GPU of a GB200 NVL72 rack (36 Grace CPUs, 72 GPUs in one NVLink
    // domain). NVIDIA's GB200 NVL72 page gives per-GPU figures with sparsity (FP16/BF16 5 PFLOPS,
    // FP8 10, TF32 2.5, INT8 10 POPS): dense is half.
    c.push_back(GpuSpec{
        .name = "gb200",
        .display_name = "NVIDIA GB200 (one GPU of a GB200 NVL72)",
        .vendor = "NVIDIA",
        .architecture = "Blackwell",
        .memory_bytes = 186 * GiB,           // GB200 NVL72 page: 186 GB HBM3E per GPU
        .memory_kind = "HBM3e",
        .memory_bandwidth = 8 * TBps,        // GB200 NVL72 page: 8 TB/s per GPU
        .peak_fp64 = 40 * TFLOPS,            // GB200 NVL72 page: FP64 / FP64 Tensor Core 40 TFLOPS per GPU
        .peak_fp32 = 80 * TFLOPS,            // GB200 NVL72 page: FP32 80 TFLOPS per GPU
        .peak_tf32 = 1.25 * PFLOPS,          // GB200 NVL72 page: TF32 Tensor Core 2.5 PFLOPS with sparsity -> 1.25
        .peak_fp16 = 2.5 * PFLOPS,           // GB200 NVL72 page: FP16/BF16 Tensor Core 5 PFLOPS with sparsity -> 2.5
        .peak_bf16 = 2.5 * PFLOPS,           // GB200 NVL72 page: FP16/BF16 Tensor Core 5 PFLOPS with sparsity -> 2.5
        .peak_fp8 = 5 * PFLOPS,              // GB200 NVL72 page: FP8/FP6 Tensor Core 10 PFLOPS with sparsity -> 5
        .peak_fp4 = 10 * PFLOPS,             // GB200 NVL72 page: FP4 Tensor Core 1,440 PFLOPS* per 72 -> 20 with sparsity -> 10
        .peak_int8 = 5 * PFLOPS,             // GB200 NVL72 page: INT8 Tensor Core 10 POPS with sparsity -> 5
        .intra_node_link = "NVLink 5 (NVL72 domain)",
        .intra_node_bandwidth = 900 * GBps,  // GB200 NVL72 page: fifth-generation NVLink 1.8 TB/s per GPU -> 900 GB/s each way
        // The NVLink domain is the rack: all 72 GPUs reach each other over NVLink switches.
        .host_link = "NVLink-C2C (shared by 2 GPUs)",
        .host_link_bandwidth = 225 * GBps,  // GB200 NVL72 datasheet; NVLink-C2C 900 GB/s bidirectional between the Grace CPU and its two GPUs -> 450 GB/s each way, 225 GB/s per GPU when both copy
        .default_gpus_per_node = 72,         // GB200 NVL72: 72 GPUs in one NVLink domain
        .tdp_watts = 1200,                   // GB200 NVL72 page: configurable up to 1,200 W per GPU
        .source = "NVIDIA GB200 NVL72 page, technical specifications (per-GPU column; sparse ÷ 2)",
        .gemm_efficiency = kGemmEfficiencyGb200,  // fitted; MAMF-derived 0.587 (kGemmEfficiencyGb200Derived), docs/GPUS.md
        .gemm_efficiency_source = "fitted: 0.485 on the 13 dense GB200 fit runs of Megatron Bridge's tables under --framework megatron "
                                  "(the MAMF derivation, GB200 1822.0 vs H100 794.5 TFLOP/s bf16, gives 0.587; docs/GPUS.md)",
        .nic_gbps = 400,                      // one ConnectX-7 400 Gb/s per GPU, as DGX B200 (assumed)
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 3.50,           // USD per GPU-hour, as the B200 (assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Blackwell Ultra ---------------------------------------------------------------
    // B300 as it ships in HGX B300 / DGX B300 (8 GPUs per server). NVIDIA's HGX page gives 8-GPU
    // totals with sparsity, as for the HGX B200: FP8/FP6 72 PFLOPS*, FP16/BF16 36*, TF32 18*,
    // INT8 2 POPS*, FP32 600 TFLOPS, FP64 10 TFLOPS, and FP4 144 | 108 PFLOPS (with | without
    // sparsity: Blackwell Ultra's FP4 sparsity gain is 1.33×, not 2×, so the dense figure is taken
    // as printed, never halved). Per GPU: ÷ 8, and ÷ 2 for the starred figures. Memory, bandwidth
    // and power: the HGX B300 per-GPU column of NVIDIA's Blackwell Architecture Technical Brief
    // (v2.1, Table 3: 270 GB HBM3e, 7.7 TB/s, 1,100 W), whose compute rows round the same figures
    // (FP4 14 | 18, BF16 2.2, TF32 1.1, FP64 1.2, INT8 0.15 | 0.30 P). Blackwell Ultra cut FP64
    // (B200 37 -> 1.25 TFLOPS) and INT8 (4.5 -> 0.125 POPS dense) for 1.5× the B200's FP4.
    // docs/GPUS.md, "Where two sources disagree", says why these figures and not the others.
    c.push_back(GpuSpec{
        .name = "b300",
        .display_name = "NVIDIA B300 270GB (HGX B300)",
        .vendor = "NVIDIA",
        .architecture = "Blackwell Ultra",
        .memory_bytes = 270 * GiB,           // Blackwell technical brief, HGX B300 per GPU: 270 GB HBM3e (DGX B300 datasheet: 2.3 TB per 8)
        .memory_kind = "HBM3e",
        .memory_bandwidth = 7.7 * TBps,      // Blackwell technical brief, HGX B300 per GPU: 7.7 TB/s
        .peak_fp64 = 1.25 * TFLOPS,          // HGX B300 page: FP64/FP64 Tensor Core 10 TFLOPS per 8 -> 1.25
        .peak_fp32 = 75 * TFLOPS,            // HGX B300 page: FP32 600 TFLOPS per 8 -> 75
        .peak_tf32 = 1.125 * PFLOPS,         // HGX B300 page: TF32 Tensor Core 18 PFLOPS* per 8 -> 2.25* -> 1.125 dense
        .peak_fp16 = 2.25 * PFLOPS,          // HGX B300 page: FP16/BF16 36 PFLOPS* per 8 -> 4.5* -> 2.25 dense
        .peak_bf16 = 2.25 * PFLOPS,          // HGX B300 page: FP16/BF16 36 PFLOPS* per 8 -> 4.5* -> 2.25 dense
        .peak_fp8 = 4.5 * PFLOPS,            // HGX B300 page: FP8/FP6 72 PFLOPS* per 8 -> 9* -> 4.5 dense
        .peak_fp4 = 13.5 * PFLOPS,           // HGX B300 page: FP4 Tensor Core 144 | 108 PFLOPS (sparse | dense) per 8 -> 13.5 dense
        .peak_int8 = 0.125 * PFLOPS,         // HGX B300 page: INT8 Tensor Core 2 POPS* per 8 -> 0.25* -> 0.125 dense
        .intra_node_link = "NVLink 5 (18 links)",
        .intra_node_bandwidth = 900 * GBps,  // HGX B300 page: NVLink GPU-to-GPU 1.8 TB/s bidirectional -> 900 GB/s each way
        .host_link = "PCIe 6.0 x16",
        .host_link_bandwidth = 128 * GBps,  // HGX B300 datasheet: PCIe Gen6 256 GB/s bidirectional; PCIe 6.0 x16: 128 GB/s each way
        .default_gpus_per_node = 8,          // HGX B300 / DGX B300 8-GPU
        .tdp_watts = 1100,                   // Blackwell technical brief, HGX B300 per GPU: max TDP 1,100 W
        .source = "NVIDIA HGX B300 specifications (8-GPU totals ÷ 8, sparse ÷ 2; FP4 dense as printed); "
                  "NVIDIA Blackwell Architecture Technical Brief v2.1, Table 3 (HGX B300 per GPU: memory, bandwidth, TDP); "
                  "NVIDIA DGX B300 datasheet (networking)",
        .gemm_efficiency = row("b200").gemm_efficiency,  // the B200's derived value (docs/GPUS.md): same tensor cores, same 2.25 PFLOP/s bf16 peak
        .gemm_efficiency_source = "assumed: as the B200 (the same Blackwell tensor cores and the same 2.25 PFLOP/s dense bf16 peak; "
                                  "no published GEMM measurement of the B300)",
        .nic_gbps = 800,                      // DGX B300 datasheet: 8 × ConnectX-8 VPI, up to 800 Gb/s each (one per GPU)
        .nic_description = "ConnectX-8 SuperNIC 800 Gb/s",
        .price_per_gpu_hour = 4.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // GB300: one Blackwell Ultra GPU of a GB300 NVL72 rack (36 Grace CPUs, 72 GPUs in one NVLink
    // domain). NVIDIA's GB300 NVL72 page gives rack totals: FP4 1,440 | 1,080 PFLOPS (with |
    // without sparsity), FP8/FP6 720 PFLOPS*, INT8 24 POPS*, FP16/BF16 360 PFLOPS*, TF32 180*,
    // FP32 6 PFLOPS, FP64 100 TFLOPS, 20 TB HBM3e at 576 TB/s, NVLink 130 TB/s. Per GPU: ÷ 72,
    // and ÷ 2 for the starred figures. The dense FP4 per GPU, 15 PFLOPS, is the one NVIDIA's
    // "Inside NVIDIA Blackwell Ultra" prints for the chip. The 16-bit, TF32 and FP8 rates equal
    // the GB200's; FP64 and INT8 are cut.
    c.push_back(GpuSpec{
        .name = "gb300",
        .display_name = "NVIDIA GB300 (one GPU of a GB300 NVL72)",
        .vendor = "NVIDIA",
        .architecture = "Blackwell Ultra",
        .memory_bytes = 279 * GiB,           // Blackwell technical brief: up to 279 GB HBM3e per GPU (NVL72 page: 20 TB per 72)
        .memory_kind = "HBM3e",
        .memory_bandwidth = 8 * TBps,        // GB300 NVL72 page: 576 TB/s per 72 -> 8 TB/s
        .peak_fp64 = 100.0 / 72 * TFLOPS,    // GB300 NVL72 page: FP64/FP64 Tensor Core 100 TFLOPS per 72 -> 1.39
        .peak_fp32 = 6000.0 / 72 * TFLOPS,   // GB300 NVL72 page: FP32 6 PFLOPS per 72 -> 83.3 TFLOPS
        .peak_tf32 = 1.25 * PFLOPS,          // GB300 NVL72 page: TF32 Tensor Core 180 PFLOPS* per 72 -> 2.5* -> 1.25 dense
        .peak_fp16 = 2.5 * PFLOPS,           // GB300 NVL72 page: FP16/BF16 Tensor Core 360 PFLOPS* per 72 -> 5* -> 2.5 dense
        .peak_bf16 = 2.5 * PFLOPS,           // GB300 NVL72 page: FP16/BF16 Tensor Core 360 PFLOPS* per 72 -> 5* -> 2.5 dense
        .peak_fp8 = 5 * PFLOPS,              // GB300 NVL72 page: FP8/FP6 Tensor Core 720 PFLOPS* per 72 -> 10* -> 5 dense
        .peak_fp4 = 15 * PFLOPS,             // GB300 NVL72 page: FP4 Tensor Core 1,080 PFLOPS dense per 72 -> 15 (Inside Blackwell Ultra: 15 dense)
        .peak_int8 = 24.0 / 72 / 2 * PFLOPS, // GB300 NVL72 page: INT8 Tensor Core 24 POPS* per 72 -> 0.333* -> 0.167 dense
        .intra_node_link = "NVLink 5 (NVL72 domain)",
        .intra_node_bandwidth = 900 * GBps,  // GB300 NVL72 page: NVLink 130 TB/s per 72 = 1.8 TB/s per GPU -> 900 GB/s each way
        // The NVLink domain is the rack: all 72 GPUs reach each other over NVLink switches.
        .host_link = "NVLink-C2C (shared by 2 GPUs)",
        .host_link_bandwidth = 225 * GBps,  // GB300 NVL72 datasheet; NVLink-C2C 900 GB/s bidirectional between the Grace CPU and its two GPUs -> 225 GB/s per GPU each way
        .default_gpus_per_node = 72,         // GB300 NVL72: 72 GPUs in one NVLink domain
        .tdp_watts = 1400,                   // NVIDIA Hot Chips 2025, Blackwell Ultra: GPU TDP 1,400 W (GB200: 1,200 W)
        .source = "NVIDIA GB300 NVL72 page, technical specifications (rack totals ÷ 72, sparse ÷ 2; FP4 dense as printed); "
                  "NVIDIA Technical Blog, Inside NVIDIA Blackwell Ultra (2025); NVIDIA Blackwell Architecture Technical Brief v2.1; "
                  "NVIDIA Hot Chips 2025 Blackwell Ultra presentation (TDP)",
        .gemm_efficiency = kGemmEfficiencyGb200Derived,  // the GB200's MAMF-derived value (docs/GPUS.md): same tensor cores, same 2.5 PFLOP/s bf16 peak
        .gemm_efficiency_source = "assumed: the GB200's MAMF-derived 0.587 (the same Blackwell tensor cores and the same 2.5 PFLOP/s dense bf16 peak; "
                                  "no published GEMM measurement of the GB300; its 10 dense fit runs give 0.625, not adopted)",
        .nic_gbps = 800,                      // GB300 NVL72: one ConnectX-8 SuperNIC, 800 Gb/s, per GPU
        .nic_description = "ConnectX-8 SuperNIC 800 Gb/s",
        .price_per_gpu_hour = 4.50,           // USD per GPU-hour, as the B300 (assumed; --price-per-gpu-hour overrides)
    });

    // ---- AMD CDNA 2 ---------------------------------------------------------------------------
    // MI250X: two Graphics Compute Dies (GCDs) on one OAM module, each its own GPU to ROCm, PyTorch
    // and the job launcher (one rank per GCD on Frontier and LUMI, where OLMo 1 was trained). This
    // row is ONE GCD: AMD's per-module figures ÷ 2 (128 GB HBM2e, 3.2 TB/s, 220 CUs, FP64/FP32
    // matrix 95.7, FP16/BF16 383.0, INT8 383 TOPS, 560 W). No TF32 and no FP8 (CDNA 2).
    c.push_back(GpuSpec{
        .name = "mi250x",
        .display_name = "AMD Instinct MI250X 64GB (one GCD: half of the module)",
        .vendor = "AMD",
        .architecture = "CDNA 2",
        .memory_bytes = 64 * GiB,            // MI250X specifications: 128 GB HBM2e per module -> 64 GB per GCD (Frontier User Guide: 64 GB per GCD)
        .memory_kind = "HBM2e",
        .memory_bandwidth = 1.6 * TBps,      // MI250X specifications: 3.2 TB/s per module -> 1.6 TB/s per GCD
        .peak_fp64 = 95.7 / 2 * TFLOPS,      // MI250X specifications: FP64 Matrix 95.7 TFLOPS per module -> 47.85 (vector 47.9 -> 23.95)
        .peak_fp32 = 95.7 / 2 * TFLOPS,      // MI250X specifications: FP32 Matrix (and packed FP32) 95.7 TFLOPS per module -> 47.85 (vector 47.9 -> 23.95)
        .peak_tf32 = 0,                      // CDNA 2 has no TF32 (MI250X specifications list none)
        .peak_fp16 = 383.0 / 2 * TFLOPS,     // MI250X specifications: FP16 383.0 TFLOPS per module -> 191.5
        .peak_bf16 = 383.0 / 2 * TFLOPS,     // MI250X specifications: BF16 383.0 TFLOPS per module -> 191.5
        .peak_fp8 = 0,                       // FP8 arrives with CDNA 3
        .peak_fp4 = 0,
        .peak_int8 = 383.0 / 2 * TFLOPS,     // MI250X specifications: INT8 383 TOPS per module -> 191.5
        // Frontier node: the two GCDs of a module share 4 Infinity Fabric links (200 GB/s); GCDs on
        // different modules 1 or 2 links (50–100 GB/s), so a ring over the node's 8 GCDs runs at
        // the one-link 50 GB/s (ROCm MI250 microarchitecture: 50 GB/s per 16-wide link and direction).
        .intra_node_link = "Infinity Fabric (1–4 links per GCD pair)",
        .intra_node_bandwidth = 50 * GBps,   // Frontier User Guide: 50–100 GB/s between GCDs of different MI250X; the one-link 50 GB/s each way
        .host_link = "Infinity Fabric CPU-GPU",
        .host_link_bandwidth = 36 * GBps,    // Frontier User Guide: host-to-device and device-to-host 36+36 GB/s peak per GCD
        .default_gpus_per_node = 8,          // Frontier / LUMI-G: 4 MI250X = 8 GCDs per node (Frontier User Guide; CSCS Alps mi200 nodes)
        .tdp_watts = 280,                    // MI250X specifications: 560 W peak per module -> 280 W per GCD (rocm-smi reports the module's on one GCD)
        .sm_count = 110,                     // MI250X specifications: 220 compute units per module -> 110 per GCD
        .source = "AMD Instinct MI250X specifications (https://www.amd.com/en/products/accelerators/instinct/mi200/mi250x.html), per module ÷ 2 for one GCD; "
                  "OLCF Frontier User Guide (https://docs.olcf.ornl.gov/systems/frontier_user_guide.html: node, links, NICs); "
                  "ROCm MI250 microarchitecture (Infinity Fabric links)",
        .gemm_efficiency = 0.634,  // MAMF: MI250X (one GCD) 147.0 ÷ H100 792.1 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: MI250X (one GCD) 147.0 vs H100 792.1 TFLOP/s bf16 in Bekman's ml-engineering MAMF table (its earlier ROCm 6.2 / CUDA 12.1 table), "
                                  "anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // Frontier User Guide: 4 × Slingshot 200 Gb/s NICs per node of 8 GCDs (one per MI250X) -> 100 Gb/s per GCD
        .nic_description = "Slingshot 11 100 Gb/s (one 200 Gb/s NIC per 2 GCDs)",
        .price_per_gpu_hour = 1.00,           // USD per GCD-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // ---- AMD CDNA 3 ---------------------------------------------------------------------------
    c.push_back(GpuSpec{
        .name = "mi300x",
        .display_name = "AMD Instinct MI300X 192GB",
        .vendor = "AMD",
        .architecture = "CDNA 3",
        .memory_bytes = 192 * GiB,           // MI300X datasheet: 192 GB HBM3 (8 stacks × 24 GB)
        .memory_kind = "HBM3",
        .memory_bandwidth = 5.3 * TBps,      // MI300X datasheet: 5.3 TB/s peak
        .peak_fp64 = 163.4 * TFLOPS,         // MI300X datasheet: FP64 Matrix 163.4 TFLOPS (vector 81.7)
        .peak_fp32 = 163.4 * TFLOPS,         // MI300X datasheet: FP32 Vector 163.4 TFLOPS (FP32 Matrix also 163.4)
        .peak_tf32 = 653.7 * TFLOPS,         // MI300X datasheet: TF32 Matrix 653.7 TFLOPS (1,307.4 with sparsity)
        .peak_fp16 = 1307.4 * TFLOPS,        // MI300X datasheet: FP16 1,307.4 TFLOPS (2,614.9 with sparsity)
        .peak_bf16 = 1307.4 * TFLOPS,        // MI300X datasheet: BF16 1,307.4 TFLOPS (2,614.9 with sparsity)
        .peak_fp8 = 2614.9 * TFLOPS,         // MI300X datasheet: FP8 2,614.9 TFLOPS (5,229.8 with sparsity)
        .peak_fp4 = 0,                       // MI300X datasheet / CDNA 3 whitepaper: no FP4 (or FP6) matrix format
        .peak_int8 = 2614.9 * TFLOPS,        // MI300X datasheet: INT8 2,614.9 TOPS (5,229.8 with sparsity)
        // Seven xGMI links, one to each peer in a fully connected 8-GPU platform: 128 GB/s
        // bidirectional each, 896 GB/s aggregate (datasheet). A collective that uses every link
        // gets 448 GB/s each way; one peer-to-peer pair gets only 64 GB/s each way.
        .intra_node_link = "Infinity Fabric (7 links)",
        .intra_node_bandwidth = 448 * GBps,  // MI300X datasheet: 896 GB/s aggregate bidirectional -> 448 GB/s each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // AMD MI300X datasheet: PCIe Gen5 x16 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // AMD Instinct MI300X Platform: 8 OAM modules
        .tdp_watts = 750,                    // MI300X datasheet: 750 W peak TBP
        .sm_count = 304,                  // AMD CDNA 3 whitepaper: MI300X 304 compute units
        .source = "AMD Instinct MI300X Accelerator datasheet (2023); AMD CDNA 3 Architecture whitepaper (2023)",
        .gemm_efficiency = 0.412,  // MAMF: MI300X 668.4 ÷ H100 794.5 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: MI300X 668.4 vs H100 794.5 TFLOP/s bf16 in Bekman's ml-engineering MAMF table, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 400,                      // one 400 Gb/s NIC per OAM module, as NVIDIA's 8-GPU servers (assumed)
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // MI325X: the MI300X's CDNA 3 compute with 256 GB of HBM3E at 6 TB/s and a 1,000 W board.
    c.push_back(GpuSpec{
        .name = "mi325x",
        .display_name = "AMD Instinct MI325X 256GB",
        .vendor = "AMD",
        .architecture = "CDNA 3",
        .memory_bytes = 256 * GiB,           // MI325X datasheet: 256 GB HBM3E
        .memory_kind = "HBM3e",
        .memory_bandwidth = 6 * TBps,        // MI325X datasheet: 6 TB/s peak
        .peak_fp64 = 163.4 * TFLOPS,         // MI325X datasheet: FP64 Matrix 163.4 TFLOPS (vector 81.7)
        .peak_fp32 = 163.4 * TFLOPS,         // MI325X datasheet: FP32 Vector 163.4 TFLOPS
        .peak_tf32 = 653.7 * TFLOPS,         // MI325X datasheet: TF32 Matrix 653.7 TFLOPS (1,307.4 with sparsity)
        .peak_fp16 = 1307.4 * TFLOPS,        // MI325X datasheet: FP16 1,307.4 TFLOPS (2,614.9 with sparsity)
        .peak_bf16 = 1307.4 * TFLOPS,        // MI325X datasheet: BF16 1,307.4 TFLOPS (2,614.9 with sparsity)
        .peak_fp8 = 2614.9 * TFLOPS,         // MI325X datasheet: FP8 2,614.9 TFLOPS (5,229.8 with sparsity)
        .peak_fp4 = 0,                       // MI325X datasheet / CDNA 3 whitepaper: no FP4 (or FP6) matrix format
        .peak_int8 = 2614.9 * TFLOPS,        // MI325X datasheet: INT8 2,614.9 TOPS (5,229.8 with sparsity)
        .intra_node_link = "Infinity Fabric (7 links)",
        .intra_node_bandwidth = 448 * GBps,  // MI325X datasheet: 7 links × 128 GB/s = 896 GB/s aggregate bidirectional -> 448 each way
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // AMD MI325X datasheet: PCIe Gen5 x16 128 GB/s; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 8,          // AMD Instinct MI325X Platform: 8 OAM modules
        .tdp_watts = 1000,                   // MI325X datasheet: 1000 W peak TBP
        .sm_count = 304,                  // AMD MI325X datasheet: 304 compute units
        .source = "AMD Instinct MI325X Accelerator datasheet (2024); AMD CDNA 3 Architecture whitepaper (2023)",
        .gemm_efficiency = 0.484,  // MAMF: MI325X 784.9 ÷ H100 794.5 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: MI325X 784.9 vs H100 794.5 TFLOP/s bf16 in Bekman's ml-engineering MAMF table, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 400,                      // one 400 Gb/s NIC per OAM module (assumed), as the MI300X
        .nic_description = "NDR InfiniBand 400 Gb/s",
        .price_per_gpu_hour = 2.50,           // USD per GPU-hour, as the MI300X (assumed; --price-per-gpu-hour overrides)
    });

    // ---- AMD CDNA 4 ---------------------------------------------------------------------------
    // MI355X: AMD's product page prints dense figures (the structured-sparsity ones, exactly 2×,
    // beside them for FP16, BF16, FP8 and INT8; none for MXFP6/MXFP4). It prints "2.5 PFLOPS"
    // BF16, rounded: 256 CUs × 2.4 GHz give 2,516.6. We use the figures as printed.
    c.push_back(GpuSpec{
        .name = "mi355x",
        .display_name = "AMD Instinct MI355X 288GB",
        .vendor = "AMD",
        .architecture = "CDNA 4",
        .memory_bytes = 288 * GiB,           // MI355X specifications: 288 GB HBM3E
        .memory_kind = "HBM3e",
        .memory_bandwidth = 8 * TBps,        // MI355X specifications: 8 TB/s
        .peak_fp64 = 78.6 * TFLOPS,          // MI355X specifications: FP64 (vector and matrix) 78.6 TFLOPS
        .peak_fp32 = 157.3 * TFLOPS,         // MI355X specifications: FP32 157.3 TFLOPS
        .peak_tf32 = 0,                      // MI355X specifications: no TF32 figure (CDNA 4 lists none)
        .peak_fp16 = 2500 * TFLOPS,          // MI355X specifications: FP16 2.5 PFLOPS (5.0 with sparsity)
        .peak_bf16 = 2500 * TFLOPS,          // MI355X specifications: BF16 2.5 PFLOPS (5.0 with sparsity)
        .peak_fp8 = 5000 * TFLOPS,           // MI355X specifications: OCP-FP8 5.0 PFLOPS (10.1 with sparsity)
        .peak_fp4 = 10100 * TFLOPS,          // MI355X specifications: MXFP4 10.1 PFLOPS (dense; no sparsity for MXFP4)
        .peak_int8 = 5000 * TFLOPS,          // MI355X specifications: INT8 5.0 POPS (10.1 with sparsity)
        // Seven Infinity Fabric links, one to each peer of the 8-OAM platform.
        .intra_node_link = "Infinity Fabric (7 links)",
        .intra_node_bandwidth = 537.6 * GBps,  // MI355X datasheet: 7 links × 153.6 GB/s = 1,075.2 GB/s aggregate bidirectional -> 537.6 each way (not confirmed from a stored copy; docs/GPUS.md)
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,    // MLPerf Inference v6.0, AMD MI355X systems: PCIe Gen 5 x16 host interconnect; 64 GB/s each way
        .default_gpus_per_node = 8,          // AMD Instinct MI355X platform: 8 OAM modules (ROCm docs: 8 MI355X per node)
        .tdp_watts = 1400,                   // AMD (ISC / Hot Chips 2025): MI355X 1,400 W total board power (MI350X 1,000 W)
        .sm_count = 256,                     // ROCm GPU specifications: MI355X 256 CUs (32 per XCD)
        .source = "AMD Instinct MI355X specifications (https://www.amd.com/en/products/accelerators/instinct/mi350/mi355x.html; dense as printed); "
                  "ROCm GPU specifications (CUs); AMD Hot Chips 2025 MI350 presentation (TBP); ROCm SGLang-MoRI guide (NICs)",
        .gemm_efficiency = 0.504,  // MAMF: MI355X 1565.0 ÷ H100 794.5 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: MI355X 1565.0 vs H100 794.5 TFLOP/s bf16 in Bekman's ml-engineering MAMF table (TunableOp off), "
                                  "anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 400,                      // ROCm SGLang-MoRI guide: 8 × AMD Pensando Pollara 400 AI NICs per node, one per GPU
        .nic_description = "Pensando Pollara 400 Gb/s",
        .price_per_gpu_hour = 3.50,           // USD per GPU-hour, as the B200 it is sold against (assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Ampere (professional PCIe) ------------------------------------------------------
    // A40 and RTX A6000: the GA102 with 84 SMs (10,752 CUDA cores ÷ 128), 48 GB of GDDR6, PCIe Gen4,
    // an NVLink bridge for pairs only. Unlike the GeForce RTX 3090 they run fp16/bf16 tensor ops
    // with fp32 accumulate at the full rate. Datasheets print the tensor figures with 2:4 sparsity
    // beside the dense ones (A40) or the sparse one alone (RTX A6000): dense is half.
    c.push_back(GpuSpec{
        .name = "a40",
        .display_name = "NVIDIA A40 48GB PCIe",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 48 * GiB,            // A40 datasheet: 48 GB GDDR6 with ECC
        .memory_kind = "GDDR6",
        .memory_bandwidth = 696 * GBps,      // A40 datasheet: 696 GB/s
        .peak_fp64 = 37.4 / 64 * TFLOPS,     // FP32 ÷ 64 (GA102's FP64 rate, as the RTX 3090 row); the datasheet prints none
        .peak_fp32 = 37.4 * TFLOPS,          // A40 datasheet: peak FP32 37.4 TFLOPS (non-Tensor)
        .peak_tf32 = 74.8 * TFLOPS,          // A40 datasheet: peak TF32 Tensor 74.8 | 149.6* TFLOPS
        .peak_fp16 = 149.7 * TFLOPS,         // A40 datasheet: peak FP16 Tensor 149.7 | 299.4* TFLOPS
        .peak_bf16 = 149.7 * TFLOPS,         // A40 datasheet: peak BF16 Tensor with FP32 accumulate 149.7 | 299.4* TFLOPS
        .peak_fp8 = 0,                       // FP8 arrives with Ada / Hopper
        .peak_fp4 = 0,
        .peak_int8 = 299.3 * TFLOPS,         // A40 datasheet: peak INT8 Tensor 299.3 | 598.6* TOPS
        // The NVLink bridge (112.5 GB/s bidirectional) joins pairs only: collectives over a server go through PCIe.
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // A40 datasheet: PCIe Gen4 64 GB/s bidirectional -> 32 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,    // A40 datasheet: PCIe Gen4 64 GB/s; 32 GB/s each way
        .default_gpus_per_node = 8,          // 8-card PCIe servers, as the L40S and A10G rows (assumed)
        .tdp_watts = 300,                    // A40 datasheet: max power consumption 300 W
        .sm_count = 84,                      // A40 datasheet: 10,752 CUDA cores = 84 SMs of 128 (GA102 whitepaper: 128 per SM)
        .source = "NVIDIA A40 datasheet (https://images.nvidia.com/content/Solutions/data-center/a40/nvidia-a40-datasheet.pdf); "
                  "NVIDIA Ampere GA102 GPU Architecture whitepaper (FP64 ratio, SM size)",
        .gemm_efficiency = kGemmEfficiency,
        .gemm_efficiency_source = "default: the A100 fit (no published GEMM measurement of the A40 found; docs/GPUS.md)",
        .nic_gbps = 100,                      // PCIe servers; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    c.push_back(GpuSpec{
        .name = "rtx-a6000",
        .display_name = "NVIDIA RTX A6000 48GB PCIe",
        .vendor = "NVIDIA",
        .architecture = "Ampere",
        .memory_bytes = 48 * GiB,            // RTX A6000 datasheet: 48 GB GDDR6 with ECC
        .memory_kind = "GDDR6",
        .memory_bandwidth = 768 * GBps,      // RTX A6000 datasheet: 768 GB/s
        .peak_fp64 = 38.7 / 64 * TFLOPS,     // FP32 ÷ 64 (GA102's FP64 rate, as the RTX 3090 row); the datasheet prints none
        .peak_fp32 = 38.7 * TFLOPS,          // RTX A6000 datasheet: single-precision performance 38.7 TFLOPS
        // The datasheet prints one tensor figure, 309.7 TFLOPS with sparsity (FP16/BF16): dense 154.85.
        // GA102's tensor cores run TF32 at half and INT8 at twice the 16-bit rate (GA102 whitepaper).
        .peak_tf32 = 309.7 / 4 * TFLOPS,     // RTX A6000 datasheet: tensor 309.7* -> 154.85 dense 16-bit -> TF32 at half: 77.425
        .peak_fp16 = 309.7 / 2 * TFLOPS,     // RTX A6000 datasheet: tensor performance 309.7 TFLOPS* -> 154.85
        .peak_bf16 = 309.7 / 2 * TFLOPS,     // RTX A6000 datasheet: tensor performance 309.7 TFLOPS* -> 154.85
        .peak_fp8 = 0,                       // FP8 arrives with Ada / Hopper
        .peak_fp4 = 0,
        .peak_int8 = 309.7 * TFLOPS,         // INT8 at twice the 16-bit rate on GA102 (GA102 whitepaper): 309.7 TOPS dense
        // The NVLink bridge (112.5 GB/s bidirectional) joins pairs only: collectives over a server go through PCIe.
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // RTX A6000 datasheet: PCI Express 4.0 x16 -> 32 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,    // RTX A6000 datasheet: PCIe 4.0 x16; 32 GB/s each way
        .default_gpus_per_node = 4,          // a workstation card (active cooling, display outputs), as the RTX 3090 row
        .tdp_watts = 300,                    // RTX A6000 datasheet: max power consumption 300 W
        .sm_count = 84,                      // RTX A6000 datasheet: 10,752 CUDA cores = 84 SMs of 128 (GA102 whitepaper)
        .source = "NVIDIA RTX A6000 datasheet (https://www.nvidia.com/content/dam/en-zz/Solutions/design-visualization/quadro-product-literature/proviz-print-nvidia-rtx-a6000-datasheet-us-nvidia-1454980-r9-web%20(1).pdf); "
                  "NVIDIA Ampere GA102 GPU Architecture whitepaper (tensor-core rates, FP64 ratio, SM size)",
        .gemm_efficiency = 0.679,  // RTX A6000 123.34 ÷ H100 790.585 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: RTX A6000 123.34 vs H100 790.6 TFLOP/s bf16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // workstations; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Turing ---------------------------------------------------------------------------
    // The T4 of the seed lectures (the free Colab GPU): 16 GB GDDR6, of which 14.75 GiB are usable
    // (PyTorch's out-of-memory message in seed lecture 003). No bf16 (Turing's tensor cores take
    // fp16 and int8).
    c.push_back(GpuSpec{
        .name = "t4",
        .display_name = "NVIDIA Tesla T4 16GB",
        .vendor = "NVIDIA",
        .architecture = "Turing",
        .memory_bytes = 14.75 * GiB,         // T4 datasheet: 16 GB GDDR6; PyTorch on Colab: "total capacity of 14.75 GiB" (seed lecture 003)
        .memory_kind = "GDDR6",
        .memory_bandwidth = 320 * GBps,      // T4 datasheet: 320+ GB/s
        .peak_fp64 = 8.1 / 32 * TFLOPS,      // Turing runs FP64 at 1/32 of FP32 (Turing whitepaper): 0.25 TFLOPS
        .peak_fp32 = 8.1 * TFLOPS,           // T4 datasheet: single precision 8.1 TFLOPS
        .peak_tf32 = 0,                      // TF32 arrives with Ampere
        .peak_fp16 = 65 * TFLOPS,            // T4 datasheet: mixed precision (FP16/FP32) 65 TFLOPS
        .peak_bf16 = 0,                      // Turing has no bf16
        .peak_fp8 = 0,
        .peak_fp4 = 0,
        .peak_int8 = 130 * TFLOPS,           // T4 datasheet: INT8 130 TOPS
        .intra_node_link = "PCIe 3.0 x16",
        .intra_node_bandwidth = 16 * GBps,   // T4 datasheet: PCIe Gen3 x16, 32 GB/s bidirectional -> 16 GB/s each way
        .host_link = "PCIe 3.0 x16",
        .host_link_bandwidth = 16 * GBps,  // T4 datasheet: PCIe Gen3 x16 32 GB/s; PCIe 3.0 x16: 16 GB/s each way
        .default_gpus_per_node = 1,          // a single card (Colab, cloud inference instances)
        .tdp_watts = 70,                     // T4 datasheet: 70 W
        .sm_count = 40,                   // T4 / TU104 (Turing whitepaper): 40 SMs
        .source = "NVIDIA T4 Tensor Core GPU datasheet (2019); NVIDIA Turing architecture whitepaper (FP64 ratio)",
        .gemm_efficiency = 0.584,  // T4 41.93 ÷ H100 759.09 fp16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: T4 41.93 vs H100 759.09 TFLOP/s fp16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // cloud inference instances; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });

    // ---- NVIDIA Ada Lovelace ------------------------------------------------------------------
    // Ada runs FP64 at 1/64 of the FP32 rate (Ada Lovelace whitepaper); neither board's datasheet
    // prints it, so we derive it.
    c.push_back(GpuSpec{
        .name = "l40s",
        .display_name = "NVIDIA L40S 48GB",
        .vendor = "NVIDIA",
        .architecture = "Ada Lovelace",
        .memory_bytes = 48 * GiB,            // L40S datasheet: 48 GB GDDR6 with ECC
        .memory_kind = "GDDR6",
        .memory_bandwidth = 864 * GBps,      // L40S datasheet: 864 GB/s
        .peak_fp64 = 91.6 / 64 * TFLOPS,     // FP32 ÷ 64 (Ada whitepaper ratio): 1.43 TFLOPS
        .peak_fp32 = 91.6 * TFLOPS,          // L40S datasheet: FP32 91.6 TFLOPS
        .peak_tf32 = 183 * TFLOPS,           // L40S datasheet: TF32 Tensor Core 183 TFLOPS (366 with sparsity)
        // The datasheet's dense 362.05 is not half of its sparse 733 (366.5 would be); we use
        // the dense figure as printed, the lower and more conservative of the two readings.
        .peak_fp16 = 362.05 * TFLOPS,        // L40S datasheet: FP16 Tensor Core 362.05 TFLOPS (733 with sparsity)
        .peak_bf16 = 362.05 * TFLOPS,        // L40S datasheet: BFLOAT16 Tensor Core 362.05 TFLOPS (733 with sparsity)
        .peak_fp8 = 733 * TFLOPS,            // L40S datasheet: FP8 Tensor Core 733 TFLOPS (1,466 with sparsity)
        .peak_fp4 = 0,                       // Ada has no FP4 tensor cores (FP4 arrives with Blackwell)
        .peak_int8 = 733 * TFLOPS,           // L40S datasheet: INT8 Tensor 733 TOPS (1,466 with sparsity)
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // L40S datasheet: PCIe Gen4 x16 64 GB/s bidirectional -> 32 GB/s each way (no NVLink)
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // L40S datasheet: PCIe Gen4 x16 64 GB/s; PCIe 4.0 x16: 32 GB/s each way (64 GB/s bidirectional)
        .default_gpus_per_node = 8,          // NVIDIA-Certified L40S / OVX servers hold up to 8 dual-slot passive cards
        .tdp_watts = 350,                    // L40S datasheet: max power consumption 350 W
        .sm_count = 142,                  // Ada whitepaper / L40S datasheet: 18,176 CUDA cores = 142 SMs
        .source = "NVIDIA L40S datasheet (2023); NVIDIA Ada Lovelace GPU Architecture whitepaper (FP64 ratio)",
        .gemm_efficiency = 0.633,  // L40S 269.15 ÷ H100 790.585 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: L40S 269.15 vs H100 790.6 TFLOP/s bf16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // PCIe servers; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    c.push_back(GpuSpec{
        .name = "rtx-4090",
        .display_name = "NVIDIA GeForce RTX 4090 24GB",
        .vendor = "NVIDIA",
        .architecture = "Ada Lovelace",
        .memory_bytes = 24 * GiB,            // Ada whitepaper / RTX 4090 spec page: 24 GB GDDR6X
        .memory_kind = "GDDR6X",
        .memory_bandwidth = 1008 * GBps,     // Ada whitepaper, Appendix A: 1008 GB/s (21 Gbps × 384-bit)
        .peak_fp64 = 82.6 / 64 * TFLOPS,     // FP32 ÷ 64 (Ada whitepaper ratio): 1.29 TFLOPS
        .peak_fp32 = 82.6 * TFLOPS,          // Ada whitepaper, Appendix A: peak FP32 82.6 TFLOPS
        .peak_tf32 = 82.6 * TFLOPS,          // Ada whitepaper, Appendix A: TF32 Tensor 82.6 TFLOPS (165.2 with sparsity)
        // GeForce runs fp16/bf16/fp8 tensor ops at half rate when accumulating in fp32, which is
        // what training uses; with fp16 accumulate the whitepaper gives 330.3 (fp16) and 660.6 (fp8).
        .peak_fp16 = 165.2 * TFLOPS,         // Ada whitepaper, Appendix A: FP16 Tensor, FP32 accumulate, 165.2 TFLOPS
        .peak_bf16 = 165.2 * TFLOPS,         // Ada whitepaper, Appendix A: BF16 Tensor, FP32 accumulate, 165.2 TFLOPS
        .peak_fp8 = 330.3 * TFLOPS,          // Ada whitepaper, Appendix A: FP8 Tensor, FP32 accumulate, 330.3 TFLOPS
        .peak_fp4 = 0,                       // Ada has no FP4 tensor cores (FP4 arrives with Blackwell)
        .peak_int8 = 660.6 * TFLOPS,         // Ada whitepaper, Appendix A: INT8 Tensor 660.6 TOPS (1321.2 with sparsity)
        // No NVLink, and GeForce drivers disable PCIe peer-to-peer, so NCCL stages through host
        // memory: the real figure is lower than this link peak.
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // PCIe 4.0 x16: 64 GB/s bidirectional (PCI-SIG) -> 32 GB/s each way
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,  // AD102: PCIe 4.0 x16; PCIe 4.0 x16: 32 GB/s each way (64 GB/s bidirectional)
        .default_gpus_per_node = 4,          // a workstation: four 3-slot cards fill an ATX/EATX tower; 8-card rigs are rarer
        .tdp_watts = 450,                    // Ada whitepaper / RTX 4090 spec page: total graphics power 450 W
        .sm_count = 128,                  // Ada whitepaper, Appendix A: RTX 4090 128 SMs
        .source = "NVIDIA Ada Lovelace GPU Architecture whitepaper (2022), Appendix A (GeForce RTX 4090); NVIDIA GeForce RTX 4090 specifications page",
        .gemm_efficiency = 0.852,  // RTX 4090 165.26 ÷ H100 790.585 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: RTX 4090 165.26 vs H100 790.6 TFLOP/s bf16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // workstations; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    // L4: Ada's low-profile 72 W data-center card (AD104). Its datasheet prints the tensor figures
    // with sparsity only: dense is half. Data-center Ada runs fp16/bf16/fp8 with fp32 accumulate at
    // the full rate (no GeForce halving).
    c.push_back(GpuSpec{
        .name = "l4",
        .display_name = "NVIDIA L4 24GB PCIe",
        .vendor = "NVIDIA",
        .architecture = "Ada Lovelace",
        .memory_bytes = 24 * GiB,            // L4 datasheet: 24 GB GDDR6
        .memory_kind = "GDDR6",
        .memory_bandwidth = 300 * GBps,      // L4 datasheet: 300 GB/s
        .peak_fp64 = 30.3 / 64 * TFLOPS,     // FP32 ÷ 64 (Ada whitepaper ratio): 0.47 TFLOPS
        .peak_fp32 = 30.3 * TFLOPS,          // L4 datasheet: FP32 30.3 TFLOPS
        .peak_tf32 = 60 * TFLOPS,            // L4 datasheet: TF32 Tensor Core 120 TFLOPS with sparsity -> 60
        .peak_fp16 = 121 * TFLOPS,           // L4 datasheet: FP16 Tensor Core 242 TFLOPS with sparsity -> 121
        .peak_bf16 = 121 * TFLOPS,           // L4 datasheet: BFLOAT16 Tensor Core 242 TFLOPS with sparsity -> 121
        .peak_fp8 = 242.5 * TFLOPS,          // L4 datasheet: FP8 Tensor Core 485 TFLOPS with sparsity -> 242.5
        .peak_fp4 = 0,                       // Ada has no FP4 tensor cores
        .peak_int8 = 242.5 * TFLOPS,         // L4 datasheet: INT8 Tensor Core 485 TOPS with sparsity -> 242.5
        .intra_node_link = "PCIe 4.0 x16",
        .intra_node_bandwidth = 32 * GBps,   // L4 datasheet: PCIe Gen4 x16 64 GB/s bidirectional -> 32 GB/s each way (no NVLink)
        .host_link = "PCIe 4.0 x16",
        .host_link_bandwidth = 32 * GBps,    // L4 datasheet: PCIe Gen4 x16 64 GB/s; 32 GB/s each way
        .default_gpus_per_node = 8,          // 8-card servers of single-slot cards, as the L40S row (assumed)
        .tdp_watts = 72,                     // L4 datasheet: max thermal design power 72 W
        .sm_count = 0,                       // not in NVIDIA's datasheet; third-party listings disagree (58 or 60)
        .source = "NVIDIA L4 Tensor Core GPU datasheet (https://resources.nvidia.com/en-us-data-center-overview/l4-gpu-datasheet); "
                  "NVIDIA Ada Lovelace GPU Architecture whitepaper (FP64 ratio)",
        .gemm_efficiency = 0.499,  // L4 70.89 ÷ H100 790.585 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: L4 70.89 vs H100 790.6 TFLOP/s bf16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // PCIe servers; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    // ---- NVIDIA Blackwell (GeForce) -----------------------------------------------------------
    // RTX 5090 (GB202): the RTX Blackwell whitepaper's Appendix A. As on the RTX 4090, fp16/bf16
    // and fp8 tensor ops with fp32 accumulation run at half the fp16-accumulate rate.
    c.push_back(GpuSpec{
        .name = "rtx-5090",
        .display_name = "NVIDIA GeForce RTX 5090 32GB",
        .vendor = "NVIDIA",
        .architecture = "Blackwell",
        .memory_bytes = 32 * GiB,            // RTX Blackwell whitepaper, Appendix A: 32 GB GDDR7
        .memory_kind = "GDDR7",
        .memory_bandwidth = 1792 * GBps,     // RTX Blackwell whitepaper, Appendix A: 1792 GB/s (28 Gbps × 512-bit)
        .peak_fp64 = 104.8 / 64 * TFLOPS,    // FP32 ÷ 64 (the GeForce rate): 1.64 TFLOPS
        .peak_fp32 = 104.8 * TFLOPS,         // RTX Blackwell whitepaper, Appendix A: peak FP32 104.8 TFLOPS
        .peak_tf32 = 104.8 * TFLOPS,         // RTX Blackwell whitepaper, Appendix A: TF32 Tensor 104.8 TFLOPS (209.5 with sparsity)
        .peak_fp16 = 209.5 * TFLOPS,         // RTX Blackwell whitepaper, Appendix A: FP16 Tensor, FP32 accumulate, 209.5 TFLOPS
        .peak_bf16 = 209.5 * TFLOPS,         // RTX Blackwell whitepaper, Appendix A: BF16 Tensor, FP32 accumulate, 209.5 TFLOPS
        .peak_fp8 = 419 * TFLOPS,            // RTX Blackwell whitepaper, Appendix A: FP8 Tensor, FP32 accumulate, 419 TFLOPS
        // FP4 carries no fp32-accumulate halving on GeForce: the table's only FP4 row is 4 × its fp8 one.
        .peak_fp4 = 1676 * TFLOPS,           // RTX Blackwell whitepaper, Appendix A: Peak FP4 Tensor TFLOPS with FP32 Accumulate 1676 (3352 with sparsity)
        .peak_int8 = 838 * TFLOPS,           // RTX Blackwell whitepaper, Appendix A: INT8 Tensor 838 TOPS (1,676 with sparsity)
        .intra_node_link = "PCIe 5.0 x16",
        .intra_node_bandwidth = 64 * GBps,   // PCIe 5.0 x16: 128 GB/s bidirectional (PCI-SIG) -> 64 GB/s each way (no NVLink)
        .host_link = "PCIe 5.0 x16",
        .host_link_bandwidth = 64 * GBps,  // GB202: PCIe 5.0 x16; PCIe 5.0 x16: 64 GB/s each way (128 GB/s bidirectional)
        .default_gpus_per_node = 4,          // a workstation, as the RTX 4090
        .tdp_watts = 575,                    // RTX Blackwell whitepaper, Appendix A: total graphics power 575 W
        .sm_count = 170,                  // RTX Blackwell whitepaper, Appendix A: RTX 5090 170 SMs
        .source = "NVIDIA RTX Blackwell GPU Architecture whitepaper (2025), Appendix A (GeForce RTX 5090)",
        .gemm_efficiency = 0.968,  // RTX 5090 238.04 ÷ H100 790.585 bf16; derivation in docs/GPUS.md
        .gemm_efficiency_source = "derived: RTX 5090 238.04 vs H100 790.6 TFLOP/s bf16 in the torch-performance-test-data database, anchored to the H100 kernel table × 0.88 (docs/GPUS.md)",
        .nic_gbps = 100,                      // workstations; assumed
        .nic_description = "100 Gb/s",
        .price_per_gpu_hour = 1.00,           // USD per GPU-hour, typical 2026 cloud on-demand (assumed; --price-per-gpu-hour overrides)
    });
    return c;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return out;
}

// Short names people type; each maps to one catalog key.
constexpr std::array<std::pair<std::string_view, std::string_view>, 12> aliases = {{
    {"h100", "h100-sxm"},
    {"a100", "a100-80g"},
    {"4090", "rtx-4090"},
    {"mi300", "mi300x"},
    {"v100", "v100-32g"},
    {"h200-sxm", "h200"},
    {"3090", "rtx-3090"},
    {"5090", "rtx-5090"},
    {"mi325", "mi325x"},
    {"grace hopper", "gh200"},
    {"mi355", "mi355x"},
    {"a6000", "rtx-a6000"},
}};

}  // namespace

double GpuSpec::peak_flops(NumberFormat f) const {
    switch (f) {
        case NumberFormat::fp64: return peak_fp64;
        case NumberFormat::fp32: return peak_fp32;
        case NumberFormat::tf32: return peak_tf32;
        case NumberFormat::fp16: return peak_fp16;
        case NumberFormat::bf16: return peak_bf16;
        case NumberFormat::fp8: return peak_fp8;
        case NumberFormat::fp4: return peak_fp4;
        case NumberFormat::int8: return peak_int8;
    }
    return 0;
}

namespace {

std::deque<GpuSpec>& catalog_rows() {
    static std::deque<GpuSpec> catalog = [] {
        std::vector<GpuSpec> rows = build_catalog();
        return std::deque<GpuSpec>(rows.begin(), rows.end());
    }();
    return catalog;
}

std::size_t builtin_rows() {
    static const std::size_t n = build_catalog().size();
    return n;
}

// The row of a catalog key or alias, exactly (case-insensitive).
const GpuSpec* find_key(std::string_view name) {
    std::string key = lower(name);
    for (const auto& [alias, target] : aliases)
        if (key == alias) key = std::string(target);
    for (const GpuSpec& g : catalog_rows())
        if (g.name == key) return &g;
    return nullptr;
}

}  // namespace

const std::deque<GpuSpec>& gpu_catalog() { return catalog_rows(); }

const GpuSpec& register_gpu(GpuSpec gpu) {
    const std::string what = "GPU \"" + gpu.name + "\"";
    if (gpu.name.empty() || gpu.name != lower(gpu.name)) throw InputError(what + ": the key must be non-empty and lower case");
    if (find_key(gpu.name)) throw InputError(what + ": already in the catalog");
    if (!(gpu.memory_bytes > 0) || !(gpu.memory_bandwidth > 0))
        throw InputError(what + ": memory capacity and bandwidth must be positive");
    if (!(gpu.peak_bf16 > 0) && !(gpu.peak_fp16 > 0)) throw InputError(what + ": needs a bf16 or fp16 peak");
    if (!(gpu.gemm_efficiency > 0 && gpu.gemm_efficiency <= 1)) throw InputError(what + ": gemm_efficiency must be in (0, 1]");
    std::deque<GpuSpec>& rows = catalog_rows();
    rows.push_back(std::move(gpu));
    return rows.back();
}

bool unregister_gpu(std::string_view name) {
    std::deque<GpuSpec>& rows = catalog_rows();
    const std::string key = lower(name);
    for (std::size_t i = builtin_rows(); i < rows.size(); ++i)
        if (rows[i].name == key) {
            rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(i));
            return true;
        }
    return false;
}

namespace {

// A GPU's name as people and tools write it ("NVIDIA H100 80GB HBM3", nvidia-smi's; "A100-SXM4-40GB";
// "rtx4090"; "H100 SXM5 80GB"), as words that say which row it is: its name_words (core/text.h)
// without the vendor's and brand words and the memory technology (they name no row), "80gb" read
// as "80g" (the catalog's keys) and "sxm4"/"sxm5" as "sxm".
std::vector<std::string> gpu_words(std::string_view name) {
    static const std::vector<std::string_view> noise = {"nvidia", "tesla", "amd", "instinct", "geforce", "radeon", "hbm2",
                                                        "hbm2e", "hbm3", "hbm3e", "gddr6", "gddr6x", "gddr7", "gpu",
                                                        "one", "of", "a", "hgx", "dgx"};
    std::vector<std::string> words = name_words(name, noise);  // core/text.h
    for (std::string& w : words) {
        std::size_t digits = 0;
        while (digits < w.size() && std::isdigit(static_cast<unsigned char>(w[digits]))) ++digits;
        if (digits > 0 && w.substr(digits) == "gb") w.pop_back();  // 80gb -> 80g
        if (w.size() == 4 && w.compare(0, 3, "sxm") == 0 && std::isdigit(static_cast<unsigned char>(w[3]))) w = "sxm";
    }
    return words;
}

// The rows whose key and display name hold every word of `name` (gpu_words); where several do,
// the one its first word names as a key or alias ("h100 80gb": h100-sxm and h100-pcie both hold
// h100 and 80g; "h100" is h100-sxm) when that is among them.
std::vector<const GpuSpec*> rows_named(std::string_view name) {
    std::vector<const GpuSpec*> hits;
    const std::vector<std::string> want = gpu_words(name);  // none for a damaged value
    if (want.empty()) return hits;
    for (const GpuSpec& g : gpu_catalog()) {
        std::vector<std::string> have = gpu_words(g.name);
        for (std::string& w : gpu_words(g.display_name)) have.push_back(std::move(w));
        if (std::all_of(want.begin(), want.end(),
                        [&](const std::string& w) { return std::find(have.begin(), have.end(), w) != have.end(); }))
            hits.push_back(&g);
    }
    if (hits.size() > 1)
        if (const GpuSpec* first = find_key(want.front()); first && std::find(hits.begin(), hits.end(), first) != hits.end())
            return {first};
    return hits;
}

}  // namespace

const GpuSpec* find_gpu(std::string_view name) {
    if (const GpuSpec* g = find_key(name)) return g;
    const std::vector<const GpuSpec*> hits = rows_named(name);
    return hits.size() == 1 ? hits.front() : nullptr;
}

const GpuSpec& gpu_or_throw(std::string_view name, std::string_view flag) {
    if (const GpuSpec* g = find_key(name)) return *g;
    const std::vector<const GpuSpec*> hits = rows_named(name);
    if (hits.size() == 1) return *hits.front();
    if (hits.size() > 1) {
        std::vector<std::string> keys;
        for (const GpuSpec* g : hits) keys.push_back(g->name);
        throw InputError(std::string(flag) + ": GPU \"" + std::string(name) + "\" could be any of " + join(keys, ", ") +
                         " (name one; `llmplan gpus` lists all)");
    }
    std::vector<std::string> keys;
    for (const GpuSpec& g : gpu_catalog()) keys.push_back(g.name);
    const std::optional<std::string> suggestion = closest_match(lower(name), keys);
    std::string message = std::string(flag) + ": unknown GPU \"" + std::string(name) + "\" (";
    if (suggestion) message += "did you mean \"" + *suggestion + "\"? ";
    message += "`llmplan gpus` lists all)";
    throw InputError(message);
}

const char* to_string(NumberFormat f) {
    switch (f) {
        case NumberFormat::fp64: return "fp64";
        case NumberFormat::fp32: return "fp32";
        case NumberFormat::tf32: return "tf32";
        case NumberFormat::fp16: return "fp16";
        case NumberFormat::bf16: return "bf16";
        case NumberFormat::fp8: return "fp8";
        case NumberFormat::fp4: return "fp4";
        case NumberFormat::int8: return "int8";
    }
    return "?";
}

}  // namespace llmplan
