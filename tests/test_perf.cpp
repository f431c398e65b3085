// test_perf.cpp — step time, communication and cost: closed forms worked by hand, ZeRO §7's
// communication volumes, pipeline bubbles, and Korthikanti et al. 2022 Table 5 iteration times.
#include "planner/perf.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>

using namespace llmplan;

namespace {

PerfPlan perf_of(const ModelSpec& m, const char* gpu, TrainConfig c, PerfOptions o = {}) {
    const MemoryPlan plan = plan_memory(m, *find_gpu(gpu), c);
    return plan_perf(plan, default_cluster(plan.gpu, plan.config.parallel.gpus_per_node), o);
}

TrainConfig dp_job(int gpus, int zero) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.zero = zero;
    c.seq = 4096;
    return c;
}

// Korthikanti et al. 2022 Table 3: GPT models, s = 2048, V = 51200, micro-batch 1, A100 80GB;
// Table 5: iteration time with full recompute (TP only) and with SP + selective recompute.
struct Korthikanti {
    const char* name;
    int heads, hidden, layers, tp, pp, gpus, batch;
    double full, selective;  // seconds
};
constexpr Korthikanti kTable5[] = {{"22B", 64, 6144, 48, 8, 1, 8, 4, 1.42, 1.10},
                                   {"175B", 96, 12288, 96, 8, 8, 64, 64, 18.13, 13.75},
                                   {"530B", 128, 20480, 105, 8, 35, 280, 280, 49.05, 37.83},
                                   {"1T", 160, 25600, 128, 8, 64, 512, 512, 94.42, 71.49}};

ModelSpec korthikanti_model(const Korthikanti& k) {
    ModelSpec m;
    m.name = k.name;
    m.family = "gpt2";
    m.n_layers = k.layers;
    m.d_model = k.hidden;
    m.n_heads = m.n_kv_heads = k.heads;
    m.head_dim = k.hidden / k.heads;
    m.d_ff = 4 * k.hidden;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.vocab_size = 51200;
    m.max_positions = 2048;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.tied_embeddings = true;
    return m;
}

}  // namespace

TEST_CASE("perf: data-parallel volumes follow ZeRO §7 (2Ψ for DDP and ZeRO-1/2, 3Ψ for ZeRO-3)", "[perf][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    const double psi = 6738415616.0, n = 8;
    // DDP: one all-reduce of the bf16 gradients: S = 2Ψ bytes, through each link 2(n−1)/n · S.
    const PerfPlan ddp = perf_of(m, "h100-sxm", dp_job(8, 0));
    REQUIRE(ddp.collectives.size() == 1);
    CHECK(ddp.collectives[0].kind == Collective::all_reduce);
    CHECK(ddp.collectives[0].bytes == Approx(2 * psi));
    CHECK(ddp.comm_bytes_per_gpu == Approx(2 * psi * 2 * (n - 1) / n));
    // ZeRO-1: reduce-scatter of gradients + all-gather of parameters: the same 2Ψ·2(n−1)/n.
    const PerfPlan z1 = perf_of(m, "h100-sxm", dp_job(8, 1));
    CHECK(z1.comm_bytes_per_gpu == Approx(ddp.comm_bytes_per_gpu));
    // ZeRO-3 (one micro-batch): two all-gathers + one reduce-scatter: 1.5 × DDP.
    const PerfPlan z3 = perf_of(m, "h100-sxm", dp_job(8, 3));
    CHECK(z3.collectives.size() == 3);
    CHECK(z3.comm_bytes_per_gpu == Approx(1.5 * ddp.comm_bytes_per_gpu));
}

TEST_CASE("perf: pipeline bubble (p − 1)/m for 1F1B, (p − 1)/(v·m) interleaved", "[perf][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.parallel.gpus = 4;
    c.parallel.pp = 4;
    c.seq = 4096;
    c.global_batch = 8;  // 8 micro-batches of 1
    const PerfPlan one = perf_of(m, "h100-sxm", c);
    CHECK(one.bubble_fraction == Approx(3.0 / 8));
    CHECK(one.bubble_seconds == Approx(3 * (one.microbatch_forward_seconds + one.microbatch_backward_seconds)));
    c.parallel.virtual_stages = 2;
    const PerfPlan two = perf_of(m, "h100-sxm", c);
    CHECK(two.bubble_fraction == Approx(3.0 / 16));
}

TEST_CASE("perf: --mfu fixes the step time: the run's totals follow by hand", "[perf][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c = dp_job(8, 1);
    c.global_batch = 256;  // 256 × 4096 = 1,048,576 tokens per step
    PerfOptions o;
    o.mfu = 0.5;
    o.tokens = 1e12;
    const PerfPlan r = perf_of(m, "h100-sxm", c, o);
    const double flops_per_step = r.per_token.model * 1048576.0;
    CHECK(r.peak_flops == Approx(989e12).epsilon(0.001));  // H100 SXM dense bf16
    const double step = flops_per_step / (8 * r.peak_flops * 0.5);
    CHECK(r.step_seconds == Approx(step));
    CHECK(r.mfu == Approx(0.5));
    CHECK(r.steps == std::ceil(1e12 / 1048576.0));  // 953,675 steps
    CHECK(r.gpu_hours == Approx(8 * r.steps * step / 3600));
    CHECK(r.cost == Approx(r.gpu_hours * 2.50));
    // Busy all the time at a given MFU: 700 W per GPU × PUE 1.2; CO2 at 0.4 kg/kWh.
    CHECK(r.energy_kwh == Approx(8 * 700 * r.training_seconds / 3.6e6 * 1.2));
    CHECK(r.co2_kg == Approx(r.energy_kwh * 0.4));
}

TEST_CASE("perf: tensor parallel all-reduces: 4 per layer per micro-batch, 6 with full recompute", "[perf][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.parallel.gpus = 8;
    c.parallel.tp = 8;
    c.seq = 4096;
    const PerfPlan r = perf_of(m, "h100-sxm", c);
    REQUIRE(r.collectives.size() == 1);
    CHECK(r.collectives[0].count == 4 * 32);
    CHECK(r.collectives[0].bytes == 4096.0 * 4096 * 2);  // s·b·h in bf16
    CHECK(r.collectives[0].link == LinkKind::nvlink);
    c.recompute = Recompute::full;
    CHECK(perf_of(m, "h100-sxm", c).collectives[0].count == 6 * 32);
    c.recompute = Recompute::none;
    c.parallel.sp = true;  // all-gather + reduce-scatter instead, same volume
    const PerfPlan sp = perf_of(m, "h100-sxm", c);
    REQUIRE(sp.collectives.size() == 2);
    CHECK(sp.comm_bytes_per_gpu == Approx(r.comm_bytes_per_gpu));
}

TEST_CASE("perf: Korthikanti et al. Table 5 iteration times within 8%", "[perf][validation]") {
    const bool print = std::getenv("LLMPLAN_PRINT_TABLE") != nullptr;
    if (print) std::cout << "| model | recompute | measured s | predicted s | error | MFU | HFU |\n|---|---|---|---|---|---|---|\n";
    for (const Korthikanti& k : kTable5) {
        for (const bool selective : {false, true}) {
            TrainConfig c;
            c.precision = Precision::mixed_fp16;
            c.parallel.gpus = k.gpus;
            c.parallel.tp = k.tp;
            c.parallel.pp = k.pp;
            c.parallel.sp = selective;
            c.recompute = selective ? Recompute::selective : Recompute::full;
            c.attention = Attention::eager;  // 2022: no flash attention
            c.dropout = 0.1;
            c.micro_batch = 1;
            c.seq = 2048;
            c.global_batch = k.batch;
            const PerfPlan r = perf_of(korthikanti_model(k), "a100-80g", c);
            const double measured = selective ? k.selective : k.full;
            const double err = (r.step_seconds - measured) / measured;
            if (print) {
                char line[200];
                std::snprintf(line, sizeof line, "| %s | %s | %.2f | %.2f | %+.1f%% | %.1f%% | %.1f%% |\n", k.name,
                              selective ? "selective + SP" : "full", measured, r.step_seconds, 100 * err, 100 * r.mfu,
                              100 * r.hfu);
                std::cout << line;
            }
            INFO(k.name << (selective ? " selective" : " full") << ": predicted " << r.step_seconds << " s, measured " << measured);
            CHECK(std::fabs(err) < 0.08);
        }
    }
}

TEST_CASE("perf: bad options name their flag", "[perf][errors]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    PerfOptions o;
    o.pue = 0.5;
    CHECK_THROWS_WITH(perf_of(m, "h100-sxm", dp_job(8, 0), o), Catch::Contains("--pue"));
    o = {};
    o.mfu = 1.5;
    CHECK_THROWS_WITH(perf_of(m, "h100-sxm", dp_job(8, 0), o), Catch::Contains("--mfu"));
}
