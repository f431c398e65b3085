// test_gpu.cpp — the GPU catalog: required keys, the docs/REFERENCES.md §3 dense bf16 peaks, aliases,
// case-insensitive lookup, the unknown-GPU message, and invariants every row must satisfy.
#include "core/gpu.h"

#include "core/error.h"
#include "core/kernel_table.h"
#include "planner/perf.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace llmplan;

namespace {
// x rounded to 3 significant figures (989.4 -> 989, 2039 -> 2040).
double sig3(double x) {
    if (x == 0) return 0;
    const double scale = std::pow(10.0, 2 - std::floor(std::log10(std::fabs(x))));
    return std::round(x * scale) / scale;
}

constexpr double GiB = 1024.0 * 1024.0 * 1024.0;

const std::vector<NumberFormat> all_formats = {NumberFormat::fp64, NumberFormat::fp32, NumberFormat::tf32,
                                               NumberFormat::fp16, NumberFormat::bf16, NumberFormat::fp8, NumberFormat::fp4,
                                               NumberFormat::int8};

// A row's datasheet figures as docs/GPUS.md cites them (TFLOP/s, GB, TB/s, GB/s, W), and the
// checks every catalog-row test makes of them.
struct Datasheet {
    const char* name;
    double gib, tbps, fp64, fp32, tf32, bf16, fp8, int8, link_gbps, tdp;
    int per_node;
};
const GpuSpec& check_datasheet(const Datasheet& r) {
    constexpr double T = 1e12;
    CAPTURE(r.name);
    const GpuSpec& g = gpu_or_throw(r.name, "t");
    CHECK(g.memory_bytes == r.gib * GiB);
    CHECK(g.memory_bandwidth == Approx(r.tbps * 1e12).epsilon(1e-12));
    CHECK(g.peak_fp64 == Approx(r.fp64 * T).epsilon(1e-12));
    CHECK(g.peak_fp32 == Approx(r.fp32 * T).epsilon(1e-12));
    CHECK(g.peak_tf32 == Approx(r.tf32 * T).epsilon(1e-12));
    CHECK(g.peak_bf16 == Approx(r.bf16 * T).epsilon(1e-12));
    CHECK(g.peak_fp16 == g.peak_bf16);
    CHECK(g.peak_fp8 == Approx(r.fp8 * T).epsilon(1e-12));
    CHECK(g.peak_int8 == Approx(r.int8 * T).epsilon(1e-12));
    CHECK(g.intra_node_bandwidth == Approx(r.link_gbps * 1e9).epsilon(1e-12));
    CHECK(g.tdp_watts == r.tdp);
    CHECK(g.default_gpus_per_node == r.per_node);
    return g;
}
}  // namespace

TEST_CASE("the catalog holds every required GPU", "[gpu]") {
    for (const char* key : {"v100-32g", "a100-40g", "a100-80g", "h100-sxm", "h100-pcie", "h200", "b200", "mi300x",
                            "l40s", "rtx-4090", "a10g", "rtx-3090", "h100-nvl", "h800", "h20", "gb200", "mi325x",
                            "rtx-5090", "b300", "gb300", "a800", "gh200", "gh200-144g", "mi250x", "mi355x", "l4", "a40",
                            "rtx-a6000"}) {
        CAPTURE(key);
        const GpuSpec* g = find_gpu(key);
        REQUIRE(g != nullptr);
        CHECK(g->name == key);
        CHECK(&gpu_or_throw(key, "--gpu") == g);
    }
    CHECK(gpu_catalog().size() >= 20);
}

TEST_CASE("dense bf16 peaks match docs/REFERENCES.md §3 at 3 significant figures", "[gpu]") {
    // docs/REFERENCES.md §3: A100 312 TFLOP/s, H100 SXM 989, H200 989 (dense, never the sparsity figure).
    CHECK(sig3(gpu_or_throw("a100-40g", "t").peak_bf16 / 1e12) == 312);
    CHECK(sig3(gpu_or_throw("a100-80g", "t").peak_bf16 / 1e12) == 312);
    CHECK(sig3(gpu_or_throw("h100-sxm", "t").peak_bf16 / 1e12) == 989);
    CHECK(sig3(gpu_or_throw("h200", "t").peak_bf16 / 1e12) == 989);
    // and through peak_flops
    CHECK(sig3(gpu_or_throw("h100-sxm", "t").peak_flops(NumberFormat::bf16) / 1e12) == 989);
}

TEST_CASE("datasheet spot checks: capacity in GiB, bandwidth per direction", "[gpu]") {
    const GpuSpec& h100 = gpu_or_throw("h100-sxm", "t");
    CHECK(h100.memory_bytes == 85017493504.0);  // measured cudaMemGetInfo total on the lent H100
    CHECK(h100.memory_bandwidth == Approx(3.35e12));
    CHECK(h100.intra_node_bandwidth == Approx(450e9));  // NVLink 4: 900 GB/s bidirectional
    CHECK(h100.peak_fp8 == Approx(1978.9e12));
    CHECK(h100.tdp_watts == 700);
    CHECK(h100.sm_count == 132);  // H100 whitepaper: H100 SXM5 132 SMs
    CHECK(gpu_or_throw("b200", "t").sm_count == 148);
    CHECK(gpu_or_throw("gb200", "t").sm_count == 0);  // not in the catalog: nothing charged for a dispatcher's SMs
    CHECK(gpu_or_throw("h200", "t").memory_bytes == 141 * GiB);
    CHECK(gpu_or_throw("h200", "t").memory_bandwidth == Approx(4.8e12));
    CHECK(gpu_or_throw("a100-80g", "t").memory_bandwidth == Approx(2039e9));
    CHECK(gpu_or_throw("a100-40g", "t").memory_bandwidth == Approx(1555e9));
    CHECK(gpu_or_throw("b200", "t").memory_bytes == 180 * GiB);
    CHECK(gpu_or_throw("b200", "t").peak_bf16 == Approx(2.25e15));
    CHECK(gpu_or_throw("b200", "t").intra_node_bandwidth == Approx(900e9));
    CHECK(gpu_or_throw("mi300x", "t").peak_bf16 == Approx(1307.4e12));
    CHECK(gpu_or_throw("mi300x", "t").vendor == "AMD");
    // Formats the hardware lacks are 0, not a guess.
    CHECK(gpu_or_throw("v100-32g", "t").peak_bf16 == 0);
    CHECK(gpu_or_throw("v100-32g", "t").peak_fp16 == Approx(125e12));
    CHECK(gpu_or_throw("a100-80g", "t").peak_fp8 == 0);
}

TEST_CASE("aliases resolve to catalog keys", "[gpu]") {
    CHECK(gpu_or_throw("h100", "--gpu").name == "h100-sxm");
    CHECK(gpu_or_throw("a100", "--gpu").name == "a100-80g");
    CHECK(gpu_or_throw("4090", "--gpu").name == "rtx-4090");
    CHECK(gpu_or_throw("mi300", "--gpu").name == "mi300x");
    CHECK(gpu_or_throw("v100", "--gpu").name == "v100-32g");
    CHECK(gpu_or_throw("h200-sxm", "--gpu").name == "h200");
    CHECK(find_gpu("h100") == find_gpu("h100-sxm"));
}

TEST_CASE("a GPU named as nvidia-smi, a datasheet or a person writes it finds its row", "[gpu]") {
    // nvidia-smi --query-gpu=name (the lent H100 reports "NVIDIA H100 80GB HBM3"; the others as the
    // drivers name those boards), the vendors' names, and the usual shorthands.
    const std::pair<const char*, const char*> named[] = {
        {"NVIDIA H100 80GB HBM3", "h100-sxm"}, {"NVIDIA H100 PCIe", "h100-pcie"},     {"NVIDIA H100 NVL", "h100-nvl"},
        {"NVIDIA H200", "h200"},               {"NVIDIA A100-SXM4-80GB", "a100-80g"}, {"NVIDIA A100-SXM4-40GB", "a100-40g"},
        {"NVIDIA A800-SXM4-80GB", "a800"},     {"Tesla V100-SXM2-32GB", "v100-32g"},  {"NVIDIA A10G", "a10g"},
        {"Tesla T4", "t4"},                    {"NVIDIA L40S", "l40s"},               {"NVIDIA GeForce RTX 4090", "rtx-4090"},
        {"NVIDIA B200", "b200"},               {"NVIDIA GB200", "gb200"},             {"NVIDIA H800", "h800"},
        {"AMD Instinct MI300X", "mi300x"},     {"h100-80gb", "h100-sxm"},             {"H100-SXM5-80GB", "h100-sxm"},
        {"h100 sxm 96gb", "h100-sxm-96g"},     {"a100-40gb", "a100-40g"},             {"rtx4090", "rtx-4090"},
        {"gb200 nvl72", "gb200"},              {"H200 141GB", "h200"},
        // Rows added later: nvidia-smi's names ("NVIDIA GH200 480GB" on the 96 GB GH200, the
        // superchip's LPDDR5X in it), ROCm's (torch.cuda.get_device_name and rocm-smi's card series
        // name each MI250X GCD "AMD Instinct MI250X"), and the usual shorthands.
        {"NVIDIA GH200 480GB", "gh200"},       {"GH200 144GB", "gh200-144g"},         {"grace hopper", "gh200"},
        {"AMD Instinct MI250X", "mi250x"},     {"mi250x gcd", "mi250x"},              {"AMD Instinct MI355X", "mi355x"},
        {"NVIDIA L4", "l4"},                   {"NVIDIA A40", "a40"},                 {"NVIDIA RTX A6000", "rtx-a6000"},
        {"a6000", "rtx-a6000"},                {"mi355", "mi355x"},
    };
    for (const auto& [name, key] : named) {
        CAPTURE(name);
        REQUIRE(find_gpu(name));
        CHECK(find_gpu(name)->name == key);
    }
    // Words that fit several rows: the one its chip's own name is ("h100" is h100-sxm) where that
    // is among them, else the error lists them; words no row holds find nothing.
    CHECK_THROWS_WITH(gpu_or_throw("80gb", "--gpu"),
                      "--gpu: GPU \"80gb\" could be any of a100-80g, a800, h100-sxm, h100-pcie, h800 (name one; `llmplan gpus` lists all)");
    CHECK(find_gpu("80gb") == nullptr);
    CHECK(find_gpu("h100 pcie 96gb") == nullptr);
    CHECK(find_gpu("NVIDIA") == nullptr);
    CHECK(find_gpu("  --  ") == nullptr);
    CHECK(find_gpu("a100\n") == nullptr);             // a damaged value is never a name
    CHECK(find_gpu("NVIDIA H100\xc2\xa0") == nullptr);  // (a no-break space)
    CHECK_THROWS_WITH(gpu_or_throw("NVIDIA H300", "--gpu"), Catch::StartsWith("--gpu: unknown GPU \"NVIDIA H300\""));
}

TEST_CASE("lookup ignores case", "[gpu]") {
    CHECK(gpu_or_throw("H100-SXM", "--gpu").name == "h100-sxm");
    CHECK(gpu_or_throw("MI300X", "--gpu").name == "mi300x");
    CHECK(gpu_or_throw("Rtx-4090", "--gpu").name == "rtx-4090");
    CHECK(gpu_or_throw("H100", "--gpu").name == "h100-sxm");  // aliases too
    CHECK(gpu_or_throw("L40S", "--gpu").name == "l40s");
}

TEST_CASE("an unknown GPU names the flag and value and suggests the closest key", "[gpu][errors]") {
    CHECK(find_gpu("h300") == nullptr);
    CHECK(find_gpu("") == nullptr);
    CHECK_THROWS_AS(gpu_or_throw("h300", "--gpu"), InputError);
    CHECK_THROWS_WITH(gpu_or_throw("h300", "--gpu"),
                      "--gpu: unknown GPU \"h300\" (did you mean \"h200\"? `llmplan gpus` lists all)");
    CHECK_THROWS_WITH(gpu_or_throw("a100-80", "--gpu"), Catch::Contains("did you mean \"a100-80g\"?"));
    // The value is echoed as typed; the flag is whichever the caller names.
    CHECK_THROWS_WITH(gpu_or_throw("H300", "gpu"), Catch::StartsWith("gpu: unknown GPU \"H300\""));
    // Nothing close: no suggestion, still the pointer to the list.
    CHECK_THROWS_WITH(gpu_or_throw("quantum-accelerator-9000", "--gpu"),
                      "--gpu: unknown GPU \"quantum-accelerator-9000\" (`llmplan gpus` lists all)");
}

TEST_CASE("peak_flops returns the field for each format: formats have names", "[gpu]") {
    const GpuSpec& g = gpu_or_throw("h100-sxm", "t");
    CHECK(g.peak_flops(NumberFormat::fp64) == g.peak_fp64);
    CHECK(g.peak_flops(NumberFormat::fp32) == g.peak_fp32);
    CHECK(g.peak_flops(NumberFormat::tf32) == g.peak_tf32);
    CHECK(g.peak_flops(NumberFormat::fp16) == g.peak_fp16);
    CHECK(g.peak_flops(NumberFormat::bf16) == g.peak_bf16);
    CHECK(g.peak_flops(NumberFormat::fp8) == g.peak_fp8);
    CHECK(g.peak_flops(NumberFormat::fp4) == g.peak_fp4);
    CHECK(g.peak_flops(NumberFormat::int8) == g.peak_int8);
    std::set<std::string> names;
    for (NumberFormat f : all_formats) names.insert(to_string(f));
    CHECK(names == std::set<std::string>{"fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "fp4", "int8"});
}

TEST_CASE("every catalog row is sane", "[gpu]") {
    std::set<std::string> names;
    for (const GpuSpec& g : gpu_catalog()) {
        CAPTURE(g.name);
        // unique, lower-case keys that look the row up
        CHECK(names.insert(g.name).second);
        CHECK_FALSE(g.name.empty());
        for (char ch : g.name) CHECK_FALSE(std::isupper(static_cast<unsigned char>(ch)));
        CHECK(find_gpu(g.name) == &g);
        CHECK_FALSE(g.display_name.empty());
        CHECK((g.vendor == "NVIDIA" || g.vendor == "AMD"));
        CHECK_FALSE(g.architecture.empty());
        CHECK_FALSE(g.memory_kind.empty());
        CHECK_FALSE(g.intra_node_link.empty());
        CHECK_FALSE(g.source.empty());
        // capacity and bandwidths
        CHECK(g.memory_bytes >= 14 * GiB);
        if (g.name != "h100-sxm" && g.name != "t4")  // measured usable capacity; the others are whole GiB, as marketed
            CHECK(g.memory_bytes == std::round(g.memory_bytes / GiB) * GiB);
        CHECK(g.memory_bandwidth > 100e9);
        CHECK(g.intra_node_bandwidth > 0);
        CHECK(g.intra_node_bandwidth < g.memory_bandwidth);
        CHECK(g.default_gpus_per_node >= 1);
        CHECK(g.default_gpus_per_node <= 72);  // GB200 NVL72: one NVLink domain of 72 GPUs
        CHECK(g.tdp_watts > 0);
        // peaks: non-negative, fp32 always there, the usual ordering where a format is supported
        for (NumberFormat f : all_formats) CHECK(g.peak_flops(f) >= 0);
        CHECK(g.peak_fp32 > 0);
        CHECK(g.peak_fp16 > 0);
        if (g.peak_fp8 > 0) CHECK(g.peak_fp8 >= g.peak_bf16);
        if (g.peak_fp4 > 0) CHECK(g.peak_fp4 >= g.peak_fp8);
        if (g.peak_bf16 > 0) {
            CHECK(g.peak_bf16 >= g.peak_tf32);
            CHECK(g.peak_bf16 == g.peak_fp16);  // same tensor-core rate on every part listed
        }
        if (g.peak_tf32 > 0) CHECK(g.peak_tf32 >= g.peak_fp32);
        CHECK(g.peak_fp16 >= g.peak_fp32);
        CHECK(g.peak_fp64 <= g.peak_fp32 * 2);
        // INT8 runs at least at the FP8 rate, except on Blackwell Ultra, which cut INT8 to a
        // fraction of it (B300 0.125, GB300 0.167 POPS dense against 4.5 and 5 PFLOPS FP8).
        if (g.peak_int8 > 0 && g.peak_fp8 > 0) {
            if (g.architecture == "Blackwell Ultra")
                CHECK(g.peak_int8 < g.peak_fp8 / 20);
            else
                CHECK(g.peak_int8 >= g.peak_fp8);
        }
        // dense figures stay below the sparse ones' scale: no part here exceeds 5 PFLOP/s dense bf16
        CHECK(g.peak_bf16 < 5e15);
    }
}

TEST_CASE("the rows added for today's runs hold their cited figures exactly", "[gpu]") {
    // Each figure as docs/GPUS.md cites it; tensor figures printed with sparsity are halved.
    const Datasheet rows[] = {
        // A10 datasheet (AWS publishes no A10G figures); 300 W: nvidia-smi on G5.
        {"a10g", 24, 0.6, 31.2 / 64, 31.2, 62.5, 125, 0, 250, 32, 300, 8},
        // GA102 whitepaper, Appendix A (fp16/bf16 with fp32 accumulate).
        {"rtx-3090", 24, 0.936, 35.6 / 64, 35.6, 35.6, 71, 0, 284, 32, 350, 4},
        // H100 product page, NVL column: 835*, 1,671*, 3,341* with sparsity.
        {"h100-nvl", 94, 3.9, 60, 60, 417.5, 835.5, 1670.5, 1670.5, 64, 400, 8},
        // torchtitan's benchmark page (96 GB HBM2e, 2.4 TB/s, 700 W TDP) with the H100 SXM5's compute.
        {"h100-sxm-96g", 96, 2.4, 66.9, 66.9, 494.7, 989.4, 1978.9, 1978.9, 450, 700, 8},
        // A800 datasheet (80GB SXM): the A100 80GB's figures, NVLink 400 GB/s.
        {"a800", 80, 2.039, 19.5, 19.5, 156, 312, 0, 624, 200, 400, 8},
        // H800 datasheet (FP64 1, NVLink 400 GB/s) with the H100 SXM5's compute.
        {"h800", 80, 3.35, 1, 66.9, 494.7, 989.4, 1978.9, 1978.9, 200, 700, 8},
        // H20 as published (dense): 148 bf16, 296 fp8.
        {"h20", 96, 4.0, 1, 44, 74, 148, 296, 296, 450, 400, 8},
        // GB200 NVL72 page, per GPU: 5 / 10 / 2.5 PFLOPS with sparsity.
        {"gb200", 186, 8, 40, 80, 1250, 2500, 5000, 5000, 900, 1200, 72},
        // MI325X datasheet.
        {"mi325x", 256, 6, 163.4, 163.4, 653.7, 1307.4, 2614.9, 2614.9, 448, 1000, 8},
        // RTX Blackwell whitepaper, Appendix A (fp32 accumulate).
        {"rtx-5090", 32, 1.792, 104.8 / 64, 104.8, 104.8, 209.5, 419, 838, 64, 575, 4},
        // HGX B300 page, 8-GPU totals: FP64 10 T, FP32 600 T, TF32 18 P*, BF16 36 P*, FP8 72 P*,
        // INT8 2 P* (÷ 8, ÷ 2); Blackwell technical brief, HGX B300 per GPU: 270 GB, 7.7 TB/s, 1,100 W.
        {"b300", 270, 7.7, 1.25, 75, 1125, 2250, 4500, 125, 900, 1100, 8},
        // GB300 NVL72 page, rack totals ÷ 72: FP64 100 T, FP32 6 P, TF32 180 P*, BF16 360 P*,
        // FP8 720 P*, INT8 24 P*, 576 TB/s; 279 GB per GPU (technical brief); 1,400 W.
        {"gb300", 279, 8, 100.0 / 72, 6000.0 / 72, 1250, 2500, 5000, 24000.0 / 72 / 2, 900, 1400, 72},
    };
    for (const Datasheet& r : rows) check_datasheet(r);
    // Planning defaults with a published source: the AWS list price of g5.48xlarge (8 A10G) and
    // the H800 rental price DeepSeek-V3 assumed; the H800's 400 Gb/s InfiniBand per GPU.
    const GpuSpec& a10g = gpu_or_throw("a10g", "t");
    CHECK(a10g.price_per_gpu_hour == 2.036);
    CHECK(a10g.nic_gbps == 12.5);
    const GpuSpec& h800 = gpu_or_throw("h800", "t");
    CHECK(h800.price_per_gpu_hour == 2.00);
    CHECK(h800.nic_gbps == 400);
    CHECK(h800.gemm_efficiency == kGemmEfficiencyHopper);
    CHECK(gpu_or_throw("h20", "t").gemm_efficiency == kGemmEfficiencyHopper);
    // The GB200: fitted on its dense fit runs (0.485); its MAMF derivation (0.587, the test below) is
    // what the GB300 assumes.
    CHECK(gpu_or_throw("gb200", "t").gemm_efficiency == kGemmEfficiencyGb200);
    CHECK(kGemmEfficiencyGb200 == 0.485);
    CHECK(gpu_or_throw("gb200", "t").gemm_efficiency_source.rfind("fitted: ", 0) == 0);
    CHECK(gpu_or_throw("gb300", "t").gemm_efficiency == kGemmEfficiencyGb200Derived);
    // The B200 (the same die as the GB200, at 1,000 W): its MAMF derivation 0.625 × the share the
    // GB200 sustains of its own, 0.485 / 0.587 = 0.82624 -> 0.51640.
    CHECK(kBlackwellSustainedShare == Approx(0.485 / 0.587).epsilon(1e-15));
    CHECK(gpu_or_throw("b200", "t").gemm_efficiency == Approx(0.51640).epsilon(1e-4));
    CHECK(gpu_or_throw("b200", "t").gemm_efficiency_source.find("0.485 / 0.587") != std::string::npos);
    // Blackwell Ultra: no published GEMM measurement, so the Blackwell sibling with the same bf16
    // peak lends its derived efficiency, and the source says so; 800 Gb/s ConnectX-8 per GPU.
    for (const auto& [ultra, sibling] : {std::pair{"b300", "b200"}, std::pair{"gb300", "gb200"}}) {
        CAPTURE(ultra);
        const GpuSpec& u = gpu_or_throw(ultra, "t");
        const GpuSpec& s = gpu_or_throw(sibling, "t");
        CHECK(u.peak_bf16 == s.peak_bf16);
        CHECK(u.gemm_efficiency == (std::string(sibling) == "gb200" ? kGemmEfficiencyGb200Derived : s.gemm_efficiency));
        CHECK(u.gemm_efficiency_source.rfind("assumed: ", 0) == 0);
        CHECK(u.nic_gbps == 800);
        CHECK(u.nic_description == "ConnectX-8 SuperNIC 800 Gb/s");
        CHECK(u.price_per_gpu_hour == 4.50);
        CHECK(u.architecture == "Blackwell Ultra");
    }
    // Aliases of the new rows.
    CHECK(gpu_or_throw("3090", "--gpu").name == "rtx-3090");
    CHECK(gpu_or_throw("5090", "--gpu").name == "rtx-5090");
    CHECK(gpu_or_throw("mi325", "--gpu").name == "mi325x");
}

TEST_CASE("dense FP4 peaks: the Blackwell parts hold their cited figures, the others have none", "[gpu]") {
    // Checked by hand against the sources docs/GPUS.md cites (per GPU, dense):
    //  b200     HGX B200 datasheet: FP4 144 PFLOPS* per 8 GPUs -> 18* -> 9 P = 2 × FP8 4.5
    //  gb200    GB200 NVL72 page: FP4 1,440 PFLOPS* per 72 GPUs -> 20* -> 10 P = 2 × FP8 5
    //  rtx-5090 RTX Blackwell whitepaper, Appendix A: FP4, FP32 accumulate, 1676 (3352*) T
    //           = 4 × the FP32-accumulate FP8 419 (GeForce halves FP8, not FP4, under FP32 accumulate)
    //  b300     HGX B300 page: FP4 144 | 108 PFLOPS (sparse | dense) per 8 -> 13.5 P = 3 × FP8 4.5
    //  gb300    GB300 NVL72 page: FP4 1,440 | 1,080 PFLOPS per 72 -> 15 P = 3 × FP8 5
    //           (Blackwell Ultra's FP4 sparsity gain is 1.33×: the dense figure is printed, not halved)
    struct Fp4 {
        const char* name;
        double fp4, fp8;  // TFLOP/s
    };
    const Fp4 rows[] = {
        {"b200", 9000, 4500}, {"gb200", 10000, 5000}, {"rtx-5090", 1676, 419}, {"b300", 13500, 4500}, {"gb300", 15000, 5000},
    };
    for (const Fp4& r : rows) {
        CAPTURE(r.name);
        const GpuSpec& g = gpu_or_throw(r.name, "t");
        CHECK(g.peak_fp4 == Approx(r.fp4 * 1e12).epsilon(1e-12));
        CHECK(g.peak_fp8 == Approx(r.fp8 * 1e12).epsilon(1e-12));
        CHECK(g.peak_flops(NumberFormat::fp4) == g.peak_fp4);
    }
    CHECK(gpu_or_throw("b200", "t").peak_fp4 == 2 * gpu_or_throw("b200", "t").peak_fp8);
    CHECK(gpu_or_throw("gb200", "t").peak_fp4 == 2 * gpu_or_throw("gb200", "t").peak_fp8);
    CHECK(gpu_or_throw("b300", "t").peak_fp4 == 3 * gpu_or_throw("b300", "t").peak_fp8);
    CHECK(gpu_or_throw("gb300", "t").peak_fp4 == 3 * gpu_or_throw("gb300", "t").peak_fp8);
    // Only Blackwell and AMD's CDNA 4 (MI355X: MXFP4 10.1 PFLOPS dense) have FP4 matrix units: every
    // Hopper, Ampere, Ada, Volta, Turing, CDNA 2 and CDNA 3 row is 0.
    for (const GpuSpec& g : gpu_catalog()) {
        CAPTURE(g.name);
        const bool fp4 = g.architecture == "Blackwell" || g.architecture == "Blackwell Ultra" || g.architecture == "CDNA 4";
        CHECK((g.peak_fp4 > 0) == fp4);
    }
    CHECK(gpu_or_throw("mi355x", "t").peak_fp4 == Approx(10100e12).epsilon(1e-12));
    CHECK(gpu_or_throw("mi250x", "t").peak_fp4 == 0);
    for (const char* hopper : {"h100-sxm", "h100-sxm-96g", "h100-pcie", "h100-nvl", "h200", "h800", "h20", "gh200", "gh200-144g"}) {
        CAPTURE(hopper);
        CHECK(gpu_or_throw(hopper, "t").architecture == "Hopper");
        CHECK(gpu_or_throw(hopper, "t").peak_fp4 == 0);
    }
    CHECK(gpu_or_throw("mi300x", "t").peak_fp4 == 0);
    CHECK(gpu_or_throw("mi325x", "t").peak_fp4 == 0);
}

// The GEMM efficiencies derived from published GEMM benchmarks (docs/GPUS.md, "Planning defaults";
// docs/REFERENCES.md §12), each recomputed here from the published figures, the H100 kernel table
// (measured on the lent H100 SXM, validation/kernels/kernel_tables_h100.json) and
// kKernelTableSustained, and compared with the catalog's value rounded to 3 decimals:
//   e = (rate_gpu ÷ rate_H100) × T × 0.88 ÷ (peak_gpu × s/(s + 128)).
// By hand:
//  * Bekman's MAMF table (bf16; the H100's best shape 2048×2048×13312, s = 2048): the table's rate
//    there T = 684.5834 TFLOP/s (Shepard interpolation), × 0.88 = 602.4334, ÷ (2048/2176) = 640.0854.
//    B200 1745.0/794.5 = 2.196350 × 640.0854 = 1405.85 ÷ 2250 = 0.6248 -> 0.625;
//    GB200 1822.0/794.5 = 2.293266 -> 1467.89 ÷ 2500 = 0.5872 -> 0.587;
//    MI300X 668.4/794.5 = 0.841284 -> 538.49 ÷ 1307.4 = 0.4119 -> 0.412;
//    MI325X 784.9/794.5 = 0.987917 -> 632.35 ÷ 1307.4 = 0.4837 -> 0.484.
//  * The torch-performance-test-data database (squares 1024–10240, the best one; medians of a
//    part's rows): the table's best of those squares is 4096³ (s = 4096, factor 4096/4224):
//    bf16 T = 742.14 (measured) -> × 0.88 ÷ (4096/4224) = 673.4921, H100 median(797.51, 783.66) = 790.585;
//    fp16 T = 757.65 (measured) -> 687.5674, H100 median(760.04, 758.14) = 759.09.
//    RTX 3090 76.58/790.585 × 673.4921 = 65.24 ÷ 71 = 0.9188 -> 0.919;
//    RTX 4090 165.26 -> 140.78 ÷ 165.2 = 0.8522 -> 0.852; RTX 5090 238.04 -> 202.78 ÷ 209.5 = 0.9679
//    -> 0.968; L40S 269.15 -> 229.29 ÷ 362.05 = 0.6333 -> 0.633;
//    T4 (fp16) 41.93/759.09 × 687.5674 = 37.98 ÷ 65 = 0.5843 -> 0.584;
//    V100 SXM2 (fp16) 94.84 -> 85.90 ÷ 125 = 0.6872 -> 0.687.
TEST_CASE("derived GEMM efficiencies follow from the published benchmarks and the H100 kernel table", "[gpu]") {
    const KernelTable* table = builtin_kernel_table("h100");
    REQUIRE(table != nullptr);
    // The catalog's H100 SXM row uses this table (the anchor of every derivation below).
    CHECK(gpu_or_throw(kDefaultGpu, "t").kernel_table == "h100");
    const auto anchored = [&](const char* dtype, double m, double n, double k) {
        const KernelLookup r = gemm_tflops(*table, dtype, m, n, k);
        CHECK(r.clamped.empty());
        const double s = std::min({m, n, k});
        return r.value * kKernelTableSustained / (s / (s + 128));
    };
    const double mamf = anchored("bf16", 2048, 2048, 13312);
    CHECK(mamf == Approx(640.0854).epsilon(1e-6));
    // The MAMF table's earlier form (until 2025-09-02; its MI250X row): H100 SXM 792.1 at 6144x2816x17920.
    const double mamf_old = anchored("bf16", 6144, 2816, 17920);
    CHECK(mamf_old == Approx(654.5870).epsilon(1e-5));
    const double crowd_bf16 = anchored("bf16", 4096, 4096, 4096);
    const double crowd_fp16 = anchored("fp16", 4096, 4096, 4096);
    CHECK(crowd_bf16 == Approx(673.4921).epsilon(1e-6));
    CHECK(crowd_fp16 == Approx(687.5674).epsilon(1e-6));
    // The database's best square on the H100 table is 4096³ for both formats (of 1024–10240).
    for (const char* dtype : {"bf16", "fp16"}) {
        const double best = gemm_tflops(*table, dtype, 4096, 4096, 4096).value;
        for (double sq : {1024.0, 2048.0, 8192.0, 10240.0}) CHECK(gemm_tflops(*table, dtype, sq, sq, sq).value < best);
    }
    struct Derived {
        const char* gpu;
        double rate, h100_rate, anchor;
        NumberFormat format;
        double expected;
    };
    const double h100_bf16 = (797.51 + 783.66) / 2, h100_fp16 = (760.04 + 758.14) / 2;
    const Derived rows[] = {
        {"b200", 1745.0, 794.5, mamf, NumberFormat::bf16, 0.625},
        {"gb200", 1822.0, 794.5, mamf, NumberFormat::bf16, 0.587},
        {"mi300x", 668.4, 794.5, mamf, NumberFormat::bf16, 0.412},
        {"mi325x", 784.9, 794.5, mamf, NumberFormat::bf16, 0.484},
        {"mi355x", 1565.0, 794.5, mamf, NumberFormat::bf16, 0.504},
        {"mi250x", 147.0, 792.1, mamf_old, NumberFormat::bf16, 0.634},  // one GCD, the table's earlier H100 row
        {"rtx-a6000", 123.34, h100_bf16, crowd_bf16, NumberFormat::bf16, 0.679},
        {"l4", 70.89, h100_bf16, crowd_bf16, NumberFormat::bf16, 0.499},
        {"rtx-3090", 76.58, h100_bf16, crowd_bf16, NumberFormat::bf16, 0.919},
        {"rtx-4090", (164.81 + 165.71) / 2, h100_bf16, crowd_bf16, NumberFormat::bf16, 0.852},
        {"rtx-5090", (236.03 + 240.05) / 2, h100_bf16, crowd_bf16, NumberFormat::bf16, 0.968},
        {"l40s", 269.15, h100_bf16, crowd_bf16, NumberFormat::bf16, 0.633},
        {"t4", 41.93, h100_fp16, crowd_fp16, NumberFormat::fp16, 0.584},
        {"v100-32g", 94.84, h100_fp16, crowd_fp16, NumberFormat::fp16, 0.687},
    };
    for (const Derived& d : rows) {
        CAPTURE(d.gpu);
        const GpuSpec& g = gpu_or_throw(d.gpu, "t");
        const double e = d.rate / d.h100_rate * d.anchor / (g.peak_flops(d.format) / 1e12);
        CHECK(std::round(e * 1000) / 1000 == Approx(d.expected).epsilon(1e-12));
        if (std::string(d.gpu) == "gb200") {  // derived, then fitted (the catalog uses the fit)
            CHECK(kGemmEfficiencyGb200Derived == d.expected);
            continue;
        }
        // The B200: derived, then × the GB200's sustained share (kBlackwellSustainedShare, above).
        const double share = std::string(d.gpu) == "b200" ? kBlackwellSustainedShare : 1.0;
        CHECK(g.gemm_efficiency == d.expected * share);
        CHECK(g.gemm_efficiency_source.rfind("derived: ", 0) == 0);
    }
    // The A10G and the A40: no published measurement of their GEMMs was found; they keep the A100
    // default and say so.
    for (const char* none : {"a10g", "a40"}) {
        CAPTURE(none);
        const GpuSpec& g = gpu_or_throw(none, "t");
        CHECK(g.gemm_efficiency == kGemmEfficiency);
        CHECK(g.gemm_efficiency_source.rfind("default: ", 0) == 0);
    }
    // The GH200s: the H100 SXM's value by reference (same tensor cores and bf16 peak), "assumed". The
    // MAMF table's GH200 row (828.6, the 144 GB part at 900 W) would derive 0.675; not adopted
    // (docs/GPUS.md): recorded here so a change of the anchor shows.
    for (const char* gh : {"gh200", "gh200-144g"}) {
        CAPTURE(gh);
        const GpuSpec& g = gpu_or_throw(gh, "t");
        CHECK(g.gemm_efficiency == gpu_or_throw("h100-sxm", "t").gemm_efficiency);
        CHECK(g.peak_bf16 == gpu_or_throw("h100-sxm", "t").peak_bf16);
        CHECK(g.gemm_efficiency_source.rfind("assumed: ", 0) == 0);
        CHECK(g.kernel_table.empty());
    }
    CHECK(std::round(828.6 / 794.5 * mamf / 989.4 * 1000) / 1000 == Approx(0.675).epsilon(1e-12));
    // No catalog row is left on the default without saying why.
    for (const GpuSpec& g : gpu_catalog()) {
        CAPTURE(g.name);
        CHECK(g.gemm_efficiency_source.find("not fitted on this part") == std::string::npos);
    }
}

TEST_CASE("GH200, MI250X (one GCD), MI355X, L4, A40 and RTX A6000 hold their cited figures exactly", "[gpu]") {
    // Checked by hand against the sources docs/GPUS.md cites ("*": printed with 2:4 sparsity, halved):
    //  gh200       GH200 datasheet: 96 GB HBM3, 4 TB/s; compute the H100 SXM5's (whitepaper: 66.9 / 494.7 /
    //              989.4 / 1978.9; datasheet 67, 989*, 1,979*, 3,958*); NVLink 900 and NVLink-C2C 900 GB/s
    //              bidirectional; module 450–1,000 W; 4 per node (CSCS Alps)
    //  gh200-144g  the same with 144 GB HBM3e at 4.9 TB/s
    //  mi250x      MI250X specifications ÷ 2 (one GCD): 128 GB, 3.2 TB/s, FP64/FP32 matrix 95.7, FP16/BF16
    //              383.0, INT8 383, 560 W, 220 CUs; no TF32, no FP8; Frontier: 50–100 GB/s between
    //              GCDs, 36+36 GB/s to the host, 8 GCDs and 4 × 200 Gb/s Slingshot per node
    //  mi355x      MI355X specifications (dense as printed): 288 GB, 8 TB/s, FP64 78.6, FP32 157.3,
    //              FP16/BF16 2,500, FP8 5,000, INT8 5,000, MXFP4 10,100; 1,400 W; 256 CUs
    //  l4          L4 datasheet: 24 GB, 300 GB/s, FP32 30.3, TF32 120*, BF16 242*, FP8 485*, INT8 485*, 72 W
    //  a40         A40 datasheet: 48 GB, 696 GB/s, FP32 37.4, TF32 74.8, BF16 149.7, INT8 299.3, 300 W
    //  rtx-a6000   RTX A6000 datasheet: 48 GB, 768 GB/s, FP32 38.7, tensor 309.7* (16-bit), 300 W
    struct Row {
        Datasheet sheet;
        double host_gbps;
        int sms;
    };
    const Row rows[] = {
        {{"gh200", 96, 4.0, 66.9, 66.9, 494.7, 989.4, 1978.9, 1978.9, 450, 1000, 4}, 450, 132},
        {{"gh200-144g", 144, 4.9, 66.9, 66.9, 494.7, 989.4, 1978.9, 1978.9, 450, 1000, 4}, 450, 132},
        {{"mi250x", 64, 1.6, 47.85, 47.85, 0, 191.5, 0, 191.5, 50, 280, 8}, 36, 110},
        {{"mi355x", 288, 8, 78.6, 157.3, 0, 2500, 5000, 5000, 537.6, 1400, 8}, 64, 256},
        {{"l4", 24, 0.3, 30.3 / 64, 30.3, 60, 121, 242.5, 242.5, 32, 72, 8}, 32, 0},
        {{"a40", 48, 0.696, 37.4 / 64, 37.4, 74.8, 149.7, 0, 299.3, 32, 300, 8}, 32, 84},
        {{"rtx-a6000", 48, 0.768, 38.7 / 64, 38.7, 77.425, 154.85, 0, 309.7, 32, 300, 4}, 32, 84},
    };
    for (const Row& r : rows) {
        const GpuSpec& g = check_datasheet(r.sheet);
        CAPTURE(r.sheet.name);
        CHECK(g.host_link_bandwidth == Approx(r.host_gbps * 1e9).epsilon(1e-12));
        CHECK(g.sm_count == r.sms);
    }
    // MI250X: one GCD is exactly half of the module AMD's page describes, and the name says so.
    const GpuSpec& gcd = gpu_or_throw("mi250x", "t");
    CHECK(gcd.peak_bf16 * 2 == Approx(383.0e12).epsilon(1e-12));
    CHECK(gcd.memory_bandwidth * 2 == Approx(3.2e12).epsilon(1e-12));
    CHECK(gcd.display_name.find("one GCD") != std::string::npos);
    CHECK(gcd.nic_gbps == 100);  // one 200 Gb/s Slingshot NIC per MI250X = per 2 GCDs
    CHECK(gcd.architecture == "CDNA 2");
    // Networks and prices as docs/GPUS.md labels them.
    CHECK(gpu_or_throw("gh200", "t").nic_gbps == 200);
    CHECK(gpu_or_throw("gh200", "t").nic_description == "Slingshot 11 200 Gb/s");
    CHECK(gpu_or_throw("gh200", "t").host_link == "NVLink-C2C (one GPU)");
    CHECK(gpu_or_throw("mi355x", "t").nic_gbps == 400);
    for (const char* key : {"gh200", "gh200-144g", "mi250x", "mi355x", "l4", "a40", "rtx-a6000"}) {
        CAPTURE(key);
        CHECK(gpu_or_throw(key, "t").price_source == "typical 2026 cloud on-demand price (assumed)");
        CHECK(gpu_or_throw(key, "t").attention_efficiency == (gpu_or_throw(key, "t").architecture == "Hopper" ? kAttentionEfficiencyHopperFa2 : 0.0));
    }
}
