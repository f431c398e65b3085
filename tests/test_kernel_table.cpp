// test_kernel_table.cpp — measured kernel tables (core/kernel_table.h): golden lookups at measured
// points of the compiled-in H100 and H200 tables, interpolation between two points by hand, refusals of bad
// tables, and a plan whose matmul time is worked by hand from a table.
#include "core/kernel_table.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "planner/perf.h"
#include "profiler/calibrate.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

using namespace llmplan;

namespace {

const KernelTable& h200() {
    const KernelTable* t = builtin_kernel_table("h200");
    REQUIRE(t != nullptr);
    return *t;
}

std::string table_text(const std::string& rows) { return R"({"schema": "llmplan.kernel-tables/1", )" + rows + "}"; }

}  // namespace

TEST_CASE("kernel table: the compiled-in H200 table, exact at measured points", "[kernel_table][golden]") {
    const KernelTable& t = h200();
    CHECK(t.device == "NVIDIA H200");
    CHECK(t.gemm.size() == 207);
    CHECK(t.attention.size() == 116);
    CHECK(t.memory_bound.size() == 35);
    CHECK(builtin_kernel_table_keys() == std::vector<std::string>{"h100", "h200"});
    // validation/kernels/kernel_tables_h200.json rows.
    CHECK(gemm_tflops(t, "bf16", 8192, 4096, 14336).value == 670.25);
    CHECK(gemm_tflops(t, "fp8_e4m3", 2048, 4096, 4096).value == 1052.16);
    CHECK(gemm_tflops(t, "tf32", 32768, 50304, 768).value == 269.66);
    // 8192³ was measured twice (square sizes and transformer shapes): the mean.
    CHECK(gemm_tflops(t, "bf16", 8192, 8192, 8192).value == Approx((699.42 + 672.48) / 2).epsilon(1e-15));
    CHECK(gemm_tflops(t, "bf16", 8192, 4096, 14336).clamped.empty());
    CHECK(gemm_tflops(t, "int4", 8192, 8192, 8192).value == 0);  // no rows: the caller falls back
    const KernelLookup a = attention_tflops(t, "flash_attention", 8192, 128, true, 4);
    CHECK(a.value == 332.52);
    CHECK(a.backward == 284.19);
    const KernelLookup c = attention_tflops(t, "cudnn_attention", 131072, 128, true, 1);
    CHECK(c.value == 553.03);
    CHECK(c.backward == 562.24);
    CHECK(memory_gbps(t, "add", 1073741824).value == 4375.2);
    CHECK(memory_gbps(t, "cast_bf16_fp32", 16777216).value == 1881.8);
    CHECK(memory_gbps(t, "softmax", 16777216).value == 0);  // not measured: the caller falls back
}

TEST_CASE("kernel table: the compiled-in H100 table, exact at measured points", "[kernel_table][golden]") {
    const KernelTable* p = builtin_kernel_table("h100");
    REQUIRE(p != nullptr);
    const KernelTable& t = *p;
    CHECK(t.device == "NVIDIA H100 80GB HBM3");
    CHECK(t.gemm.size() == 207);
    CHECK(t.attention.size() == 116);
    CHECK(t.memory_bound.size() == 35);
    // validation/kernels/kernel_tables_h100.json rows (the H200 table's script and shapes).
    CHECK(gemm_tflops(t, "bf16", 8192, 4096, 14336).value == 708.37);
    CHECK(gemm_tflops(t, "fp8_e4m3", 2048, 4096, 4096).value == 1148.25);
    CHECK(gemm_tflops(t, "tf32", 32768, 50304, 768).value == 292.73);
    CHECK(gemm_tflops(t, "bf16", 8192, 8192, 8192).value == Approx((714.66 + 687.85) / 2).epsilon(1e-15));
    const KernelLookup a = attention_tflops(t, "flash_attention", 8192, 128, true, 4);
    CHECK(a.value == 332.1);
    CHECK(a.backward == 289.13);
    const KernelLookup c = attention_tflops(t, "cudnn_attention", 131072, 128, true, 1);
    CHECK(c.value == 560.97);
    CHECK(c.backward == 583.8);
    CHECK(memory_gbps(t, "add", 1073741824).value == 3103.5);
    CHECK(memory_gbps(t, "cast_bf16_fp32", 16777216).value == 1719.1);
}

TEST_CASE("kernel table: interpolation in log space between measured points, by hand", "[kernel_table]") {
    const KernelTable& t = h200();
    // Attention, FlashAttention-2 causal hd 128 MHA: seq 4096 → 313.4 / 262.54, 8192 → 324.41 / 291.16;
    // halfway in log2(seq) is 4096·√2.
    const KernelLookup a = attention_tflops(t, "flash_attention", 4096 * std::sqrt(2.0), 128, true, 1);
    CHECK(a.value == Approx((313.4 + 324.41) / 2).epsilon(1e-12));
    CHECK(a.backward == Approx((262.54 + 291.16) / 2).epsilon(1e-12));
    // A quarter of the way from hd 64 (291.42) to hd 128 (324.41) at seq 8192: hd 2^6.25.
    CHECK(attention_tflops(t, "flash_attention", 8192, std::exp2(6.25), true, 1).value ==
          Approx(291.42 + 0.25 * (324.41 - 291.42)).epsilon(1e-12));
    // GQA ratio 2, halfway between MHA (324.41) and ratio 4 (332.52) at seq 8192, hd 128.
    CHECK(attention_tflops(t, "flash_attention", 8192, 128, true, 2).value == Approx((324.41 + 332.52) / 2).epsilon(1e-12));
    // Beyond the measured range: clamped, and said so.
    const KernelLookup far = attention_tflops(t, "flash_attention", 262144, 128, true, 1);
    CHECK(far.value == 316.64);
    CHECK(far.clamped == "seq 262144 → 131072");
    // Memory-bound, copy alone: 1 MiB 304.2 GB/s, 4 MiB 959.0; 2 MiB is halfway in log2(bytes).
    const KernelTable copy = parse_kernel_table(
        table_text(R"("memory_bound": [{"op": "copy", "bytes": 1048576, "gbps": 304.2}, {"op": "copy", "bytes": 4194304, "gbps": 959.0}])"),
        "test");
    CHECK(memory_gbps(copy, "copy", 2097152).value == Approx((304.2 + 959.0) / 2).epsilon(1e-12));
    CHECK(memory_gbps(copy, "copy", 1 << 30).clamped == "copy bytes 1073741824 → 4194304");
    // GEMM: two points (1024, 1024, 1024) = 100 and (4096, 1024, 1024) = 300 TFLOP/s. At m = 2048
    // both are 1 away in log2: the mean. At m = 2^10.5 the distances are 0.5 and 1.5, weights 1/d²
    // 4 and 4/9: (100·4 + 300·4/9) ÷ (4 + 4/9) = 120.
    const KernelTable two = parse_kernel_table(
        table_text(R"("gemm": [{"dtype": "bf16", "m": 1024, "n": 1024, "k": 1024, "tflops": 100},
                               {"dtype": "bf16", "m": 4096, "n": 1024, "k": 1024, "tflops": 300}])"),
        "test");
    CHECK(gemm_tflops(two, "bf16", 2048, 1024, 1024).value == Approx(200).epsilon(1e-12));
    CHECK(gemm_tflops(two, "bf16", std::exp2(10.5), 1024, 1024).value == Approx(120).epsilon(1e-12));
    const KernelLookup low = gemm_tflops(two, "bf16", 512, 2048, 1024);
    CHECK(low.value == 100);
    CHECK(low.clamped == "m 512 → 1024, n 2048 → 1024");
}

TEST_CASE("kernel table: a user's table replaces the built-in rows of its dtypes, backends and ops", "[kernel_table]") {
    const KernelTable mine = parse_kernel_table(
        table_text(R"("gemm": [{"dtype": "bf16", "m": 1024, "n": 1024, "k": 1024, "tflops": 100}])"), "--kernel-table mine.json");
    const KernelTable merged = merge_kernel_tables(h200(), mine);
    CHECK(merged.name == "--kernel-table mine.json");
    CHECK(gemm_tflops(merged, "bf16", 8192, 8192, 8192).value == 100);        // replaced: only the user's bf16 row
    CHECK(gemm_tflops(merged, "fp8_e4m3", 2048, 4096, 4096).value == 1052.16);  // kept
    CHECK(merged.attention.size() == 116);
    CHECK(merged.memory_bound.size() == 35);
}

TEST_CASE("kernel table: bad tables are refused in one line naming the file and the key", "[kernel_table][errors]") {
    auto refusal = [](const std::string& text) {
        try {
            parse_kernel_table(text, "--kernel-table t.json");
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(refusal(R"({"schema": "llmplan.kernel-tables/2", "gemm": []})") ==
          "--kernel-table t.json: schema must be \"llmplan.kernel-tables/1\" (is \"llmplan.kernel-tables/2\")");
    CHECK(refusal(table_text(R"("gemm": [{"dtype": "bf16", "m": 1, "n": 1, "k": 1, "tflops": -3}])")) ==
          "--kernel-table t.json: gemm[0].tflops must be a positive number (is -3)");
    CHECK(refusal(table_text(R"("gemm": [{"dtype": "bf16", "n": 1, "k": 1, "tflops": 3}])")) ==
          "--kernel-table t.json: gemm[0].m is missing");
    CHECK(refusal(table_text(R"("attention": [{"backend": "flash_attention", "seq": 1024, "heads": 8, "kv_heads": 32,
                                                "head_dim": 128, "causal": true, "fwd_tflops": 1, "bwd_tflops": 1}])")) ==
          "--kernel-table t.json: attention[0].kv_heads must not exceed heads (32 > 8)");
    CHECK(refusal(table_text(R"("memory_bound": [{"op": "copy", "bytes": 1024, "gbps": "fast"}])")) ==
          "--kernel-table t.json: memory_bound[0].gbps must be a positive number (is \"fast\")");
    CHECK(refusal(table_text(R"("gemm": {"dtype": "bf16"})")) == "--kernel-table t.json: gemm must be a list of rows");
    CHECK(refusal(table_text(R"("gemm": [{"dtype": "bf16", "m": 1, "n": 1, "k": 1, "tflops": 1e300}])")) ==
          "--kernel-table t.json: gemm[0].tflops must be at most 1000000 (is 1e+300)");
    CHECK(refusal(table_text(R"("gemm": [])")) ==
          "--kernel-table t.json: gemm, attention and memory_bound are all missing or empty: nothing to use");
    CHECK(refusal("[1, 2]") == "--kernel-table t.json: a kernel table must be a JSON object");
    CHECK_THROWS_WITH(read_kernel_table("no-such-table.json", "--kernel-table"), Catch::Contains("no-such-table.json"));
}

TEST_CASE("kernel table: the catalog names a table for the H100 SXM and H200 (measured) and the H100 SXM 96GB (derived), no other",
          "[kernel_table][gpu]") {
    for (const GpuSpec& g : gpu_catalog()) {
        INFO(g.name);
        if (g.name == "h200") {
            CHECK(g.kernel_table == "h200");
            CHECK(g.kernel_table_source.find("measured on an H200") == 0);
        } else if (g.name == "h100-sxm") {
            CHECK(g.kernel_table == "h100");
            CHECK(g.kernel_table_source.find("measured on an H100 SXM5 80GB") == 0);
        } else if (g.name == "h100-sxm-96g") {
            CHECK(g.kernel_table == "h100");
            CHECK(g.kernel_table_source.find("derived from H100 SXM5 80GB measurements") == 0);
        } else {
            CHECK(g.kernel_table.empty());
        }
        if (!g.kernel_table.empty()) CHECK(builtin_kernel_table(g.kernel_table) != nullptr);
    }
    // Memory-bound rows scale by bandwidth where the table was measured on another part: the
    // 96GB's 2.4 of the H100 SXM's 3.35 TB/s; a part's own table is taken as is.
    CHECK(kernel_table_memory_scale(*find_gpu("h100-sxm-96g")) == Approx(2.4 / 3.35).epsilon(1e-15));
    CHECK(kernel_table_memory_scale(*find_gpu("h100-sxm")) == 1);
    CHECK(kernel_table_memory_scale(*find_gpu("h200")) == 1);
}

TEST_CASE("kernel table: a plan's matmul time worked by hand from a table, each GEMM at its own shape", "[kernel_table][perf]") {
    // GPT-2 124M (d 768, 12 layers, 12 heads of 64, f 3072, GELU, V 50257) on one H100 SXM, bf16,
    // micro-batch 1 × 1024 tokens. A table with a row at every GEMM shape of the step, so each lookup
    // is exact: forward (m, n, k) = QKV (1024, 2304, 768), out (1024, 768, 768), up (1024, 3072, 768),
    // down (1024, 768, 3072) at 400 TFLOP/s; input gradients (m, k, n): QKV's (1024, 768, 2304) at
    // 300, the others share the forward shapes above (out's is its own; up's is down's and down's
    // up's); weight gradients (k, n, m) at 200; the output layer (1024, 50257, 768) 500, its input
    // gradient 250, its weight gradient 125. Attention: FlashAttention-2 at seq 1024, hd 64: 150 / 100.
    auto shared = std::make_shared<KernelTable>(parse_kernel_table(table_text(R"(
        "gemm": [{"dtype": "bf16", "m": 1024, "n": 2304, "k": 768, "tflops": 400},
                 {"dtype": "bf16", "m": 1024, "n": 768, "k": 768, "tflops": 400},
                 {"dtype": "bf16", "m": 1024, "n": 3072, "k": 768, "tflops": 400},
                 {"dtype": "bf16", "m": 1024, "n": 768, "k": 3072, "tflops": 400},
                 {"dtype": "bf16", "m": 1024, "n": 768, "k": 2304, "tflops": 300},
                 {"dtype": "bf16", "m": 768, "n": 2304, "k": 1024, "tflops": 200},
                 {"dtype": "bf16", "m": 768, "n": 768, "k": 1024, "tflops": 200},
                 {"dtype": "bf16", "m": 768, "n": 3072, "k": 1024, "tflops": 200},
                 {"dtype": "bf16", "m": 3072, "n": 768, "k": 1024, "tflops": 200},
                 {"dtype": "bf16", "m": 1024, "n": 50257, "k": 768, "tflops": 500},
                 {"dtype": "bf16", "m": 1024, "n": 768, "k": 50257, "tflops": 250},
                 {"dtype": "bf16", "m": 768, "n": 50257, "k": 1024, "tflops": 125}],
        "attention": [{"backend": "flash_attention", "seq": 1024, "heads": 12, "kv_heads": 12, "head_dim": 64,
                       "causal": true, "fwd_tflops": 150, "bwd_tflops": 100}])"),
                                                                   "--kernel-table hand.json"));
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.micro_batch = 1;
    c.global_batch = 1;
    c.seq = 1024;
    c.recompute = Recompute::none;
    const MemoryPlan plan = plan_memory(preset_or_throw("gpt2-124m", "--model"), *find_gpu("h100-sxm"), c);
    PerfOptions o;
    o.kernel_table = shared;
    const PerfPlan p = plan_perf(plan, default_cluster(plan.gpu, 8), o);
    // Forward FLOPs per token (test_perf.cpp's fp8 case): per layer QKV 3,538,944, out 1,179,648,
    // up and down 4,718,592 each, attention core 1,574,400; output layer 77,194,752.
    const double T = 1024, s = kKernelTableSustained, P = 1e12 * s;
    const double qkv = 3538944.0 * T, out = 1179648.0 * T, mlp = 2 * 4718592.0 * T, attn = 1574400.0 * T;
    const double logits = 77194752.0 * T;
    const double layer_fwd = (qkv + out + mlp) / (400 * P);
    const double layer_bwd = qkv / (300 * P) + (out + mlp) / (400 * P) + (qkv + out + mlp) / (200 * P);
    const double fwd = 12 * layer_fwd + logits / (500 * P) + 12 * attn / (150 * P);
    const double bwd = 12 * layer_bwd + logits / (250 * P) + logits / (125 * P) + 12 * 2.5 * attn / (100 * P);
    CHECK(p.matmul_seconds == Approx(fwd + bwd).epsilon(1e-12));
    // The printed efficiencies: the layers' GEMMs over forward and backward, and the attention core's.
    const double linear = qkv + out + mlp;
    CHECK(p.gemm_efficiency == Approx(3 * linear / (linear / (400 * P) + layer_bwd) / 989.4e12).epsilon(1e-12));
    CHECK(p.attention_efficiency == Approx(3.5 / (1 / (150 * P) + 2.5 / (100 * P)) / 989.4e12).epsilon(1e-12));
    CHECK(p.rate_sources.gemm ==
          "kernel table (--kernel-table hand.json): bf16 rows, each GEMM at its per-GPU shape, forward and backward, × 0.88 "
          "sustained in training");
    CHECK(p.rate_sources.attention == "kernel table: flash_attention rows (PyTorch SDPA's flash backend (FlashAttention-2))");
    CHECK(p.rate_sources.clamped.empty());
    // No memory-bound rows: the datasheet bandwidth.
    CHECK(p.rate_sources.memory_bound.find("kernel table") == std::string::npos);
    // --framework megatron runs Transformer Engine's cuDNN fused attention: the cudnn_attention rows
    // of the H200 table (causal, hd 128, GQA 4 at seq 8192: 601.47 forward, 555.82 backward).
    TrainConfig mc = c;
    mc.framework = Framework::megatron;
    mc.seq = 8192;
    const MemoryPlan mp = plan_memory(preset_or_throw("llama-3.1-8b", "--model"), *find_gpu("h200"), mc);
    const PerfPlan meg = plan_perf(mp, default_cluster(mp.gpu, 8), PerfOptions{});
    CHECK(meg.attention_efficiency ==
          Approx(3.5 / (1 / (601.47 * P) + 2.5 / (555.82 * P)) / 989.4e12).epsilon(1e-12));
    CHECK(meg.rate_sources.attention.find("kernel table: cudnn_attention rows") == 0);
    // --kernel-table none: the catalog's fitted efficiencies again.
    PerfOptions none;
    none.no_kernel_table = true;
    const PerfPlan q = plan_perf(plan, default_cluster(plan.gpu, 8), none);
    CHECK(q.gemm_efficiency == Approx(0.63 * 768 / 896).epsilon(1e-12));
    CHECK(q.rate_sources.gemm.find("fitted: GPT-2") == 0);
}

TEST_CASE("kernel table: `profile calibrate --kernel-table` writes the engine's GEMM and copy timings as a table, by hand",
          "[kernel_table][calibrate]") {
    profiler::CalibrationRun run;
    run.gpu = "Test GPU";
    run.copy_bandwidth = 2.5e12;  // bytes read + written per second
    // GPT-2 124M's QKV at 2 × 1,024 tokens (dims {T, k, n, bias, ld, gelu}) in 10 µs:
    // 2 · 2048 · 2304 · 768 = 7,247,757,312 FLOP → 724.7757312 TFLOP/s.
    run.kernels.push_back({EngineKernel::linear_forward, DType::bf16, {2048, 768, 2304, 1, 2304, 0}, 10e-6});
    // The MLP's up projection with GELU in the epilogue: not a plain GEMM, no row.
    run.kernels.push_back({EngineKernel::linear_forward, DType::bf16, {2048, 768, 3072, 1, 3072, 1}, 12e-6});
    // A backward timing holds two GEMMs: no row.
    run.kernels.push_back({EngineKernel::linear_backward, DType::bf16, {2048, 768, 2304, 1, 2304, 0}, 20e-6});
    // Strict fp32: 2 · 1024 · 768 · 768 = 1,207,959,552 FLOP in 100 µs → 12.07959552 TFLOP/s.
    run.kernels.push_back({EngineKernel::linear_forward, DType::fp32, {1024, 768, 768, 0, 768, 0}, 100e-6});
    const std::string text = profiler::kernel_table_json(run, "--kernel-table t.json");
    const KernelTable t = parse_kernel_table(text, "t.json");
    CHECK(t.device == "Test GPU");
    REQUIRE(t.gemm.size() == 2);
    CHECK(t.gemm[0].dtype == "bf16");
    CHECK(t.gemm[0].m == 2048);
    CHECK(t.gemm[0].n == 2304);
    CHECK(t.gemm[0].k == 768);
    CHECK(t.gemm[0].tflops == Approx(724.7757312).epsilon(1e-12));
    CHECK(t.gemm[1].dtype == "fp32");
    CHECK(t.gemm[1].tflops == Approx(12.07959552).epsilon(1e-12));
    CHECK(t.attention.empty());
    REQUIRE(t.memory_bound.size() == 1);
    CHECK(t.memory_bound[0].op == "copy");
    CHECK(t.memory_bound[0].bytes == 1073741824.0);
    CHECK(t.memory_bound[0].gbps == Approx(2500).epsilon(1e-12));
    // Over a built-in table its bf16 rows replace the built-in bf16 rows; the rest stays.
    const KernelTable merged = merge_kernel_tables(*builtin_kernel_table("h200"), t);
    const auto bf16 = std::count_if(merged.gemm.begin(), merged.gemm.end(), [](const KernelGemmRow& r) { return r.dtype == "bf16"; });
    CHECK(bf16 == 1);
    CHECK(std::count_if(merged.gemm.begin(), merged.gemm.end(), [](const KernelGemmRow& r) { return r.dtype == "fp8_e4m3"; }) > 0);
    CHECK(merged.attention.size() == builtin_kernel_table("h200")->attention.size());

    profiler::CalibrationRun none;
    none.copy_bandwidth = 1e12;
    none.kernels.push_back({EngineKernel::linear_forward, DType::bf16, {2048, 768, 3072, 1, 3072, 1}, 12e-6});
    CHECK_THROWS_WITH(profiler::kernel_table_json(none, "--kernel-table t.json"),
                      Catch::Contains("--kernel-table t.json") && Catch::Contains("no GEMM"));
}

TEST_CASE("kernel table: remembered lookups equal computed ones, and a table changed by hand is never remembered", "[kernel_table]") {
    // gemm_tflops, attention_tflops and memory_gbps remember their results per table whose rows do
    // not change (lookup_cache_id, given by parse_kernel_table and merge_kernel_tables). The same
    // lookups on a copy with lookup_cache_id 0 are computed every time: equal, twice over.
    const KernelTable* h100 = builtin_kernel_table("h100");
    REQUIRE(h100);
    REQUIRE(h100->lookup_cache_id != 0);
    KernelTable computed = *h100;
    computed.lookup_cache_id = 0;
    for (int pass = 0; pass < 2; ++pass)
        for (double m : {512.0, 3000.0, 8192.0, 65536.0})
            for (double n : {128.0, 1000.0, 8192.0})
                for (double k : {256.0, 4096.0, 28672.0}) {
                    CAPTURE(pass, m, n, k);
                    const KernelLookup a = gemm_tflops(*h100, "bf16", m, n, k), b = gemm_tflops(computed, "bf16", m, n, k);
                    CHECK(a.value == b.value);
                    CHECK(a.clamped == b.clamped);
                }
    for (double seq : {1024.0, 8192.0, 131072.0}) {
        const KernelLookup a = attention_tflops(*h100, "cudnn_attention", seq, 128, true, 8);
        const KernelLookup b = attention_tflops(computed, "cudnn_attention", seq, 128, true, 8);
        CHECK(a.value == b.value);
        CHECK(a.backward == b.backward);
        CHECK(memory_gbps(*h100, "copy", seq * 1e4).value == memory_gbps(computed, "copy", seq * 1e4).value);
    }
    // Rows changed by hand after a lookup: that table (id 0) gives the new value, not a remembered one.
    const double before = gemm_tflops(computed, "bf16", 8192, 8192, 8192).value;
    for (KernelGemmRow& r : computed.gemm) r.tflops *= 0.5;
    CHECK(gemm_tflops(computed, "bf16", 8192, 8192, 8192).value == Approx(before * 0.5).epsilon(1e-12));
    // A merged table is a new table: its own lookups.
    const KernelTable merged = merge_kernel_tables(*h100, computed);
    CHECK(merged.lookup_cache_id != 0);
    CHECK(merged.lookup_cache_id != h100->lookup_cache_id);
    CHECK(gemm_tflops(merged, "bf16", 8192, 8192, 8192).value == Approx(before * 0.5).epsilon(1e-12));
}
