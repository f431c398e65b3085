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

// A fine-grained MoE with a shared expert and a dense first layer (DeepSeek-MoE style, standard
// attention): 4 layers (dense, MoE, MoE, MoE), 64 experts of 1,408, top-8, shared expert 2,816.
ModelSpec fine_grained_moe() {
    ModelSpec m;
    m.name = "fine-grained-moe";
    m.n_layers = 4;
    m.d_model = 2048;
    m.n_heads = m.n_kv_heads = 16;
    m.head_dim = 128;
    m.d_ff = 10944;
    m.vocab_size = 32000;
    m.max_positions = 4096;
    m.n_experts = 64;
    m.top_k = 8;
    m.moe_d_ff = 1408;
    m.shared_d_ff = 2816;
    const LayerKind dense{false, LayerAttention::global, true}, moe{true, LayerAttention::global, true};
    m.layer_kinds = {dense, moe, moe, moe};
    return m;
}

const CollectiveUse& find_collective(const PerfPlan& r, Collective kind) {
    for (const CollectiveUse& u : r.collectives)
        if (u.kind == kind) return u;
    FAIL("no such collective");
    return r.collectives.front();
}

}  // namespace

TEST_CASE("perf: expert-parallel all-to-all bytes by hand for a fine-grained MoE with shared experts",
          "[perf][golden]") {
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 8;
    c.parallel.ep = 8;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 8;  // one micro-batch per step
    c.recompute = Recompute::none;
    const PerfPlan r = perf_of(m, "h100-sxm", c);
    const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
    // S = tokens on the rank × top_k × d × 2 bytes = 4096 · 8 · 2048 · 2 = 134,217,728 (the shared
    // expert and the expert width 1,408 add nothing: tokens travel as d-vectors).
    CHECK(a2a.bytes == 134217728.0);
    // Dispatch + combine, forward + backward, in the 3 MoE layers only (the dense layer has none).
    CHECK(a2a.count == 4 * 3);
    CHECK(a2a.group == 8);
    CHECK(a2a.link == LinkKind::nvlink);  // 8 ranks of stride 1 in one 8-GPU node
    CHECK(a2a.exposed_seconds == a2a.seconds);
    // Leaving each rank: (ep − 1)/ep of S per call, 12 calls: 12 · 117,440,512 = 1,409,286,144.
    CHECK(a2a.count * a2a.bytes * busbw_factor(Collective::all_to_all, 8) == 1409286144.0);
    c.recompute = Recompute::full;  // the recomputed forward dispatches and combines again
    CHECK(find_collective(perf_of(m, "h100-sxm", c), Collective::all_to_all).count == 6 * 3);
    c.recompute = Recompute::none;
    ModelSpec capped = m;
    capped.capacity_factor = 1.25;  // each expert's buffer is 1.25 × its balanced share
    CHECK(find_collective(perf_of(capped, "h100-sxm", c), Collective::all_to_all).bytes == 167772160.0);
}

TEST_CASE("perf: an all-to-all across nodes runs at one NIC per rank beside NVLink", "[perf][golden]") {
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 16;
    c.parallel.ep = 16;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 16;
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const ClusterSpec cl = default_cluster(gpu, 8);
    const PerfPlan r = plan_perf(plan_memory(m, gpu, c), cl, {});
    const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
    CHECK(a2a.link == LinkKind::network);
    // 16 ranks, 8 per node: 8/16 of S crosses the NIC (47 GB/s), 7/16 stays on NVLink at the same
    // time; the bus bandwidth (15/16 · S ÷ time) is 15 · 47 / 8 = 88.125 GB/s.
    CHECK(cl.network_per_gpu == Approx(47e9));
    CHECK(a2a.bus_bandwidth == Approx(15 * cl.network_per_gpu / 8));
    CHECK(a2a.each.protocol == NcclProtocol::simple);  // NCCL's point-to-point path: LL or Simple
    CHECK(a2a.each.bandwidth_seconds == Approx(134217728.0 / 2 / cl.network_per_gpu));
}

TEST_CASE("perf: the pipeline stage with the most FLOPs sets the compute, heterogeneous layers by kind",
          "[perf][golden]") {
    // 4 layers (dense, dense, MoE, MoE). Forward FLOPs per token at T = 1024 (d 2048, 16 heads of 128):
    //   attention block: qkv 2·2048·3·2048 = 25,165,824 + o 2·2048·2048 = 8,388,608
    //                    + scores·values 2·(2048 + 2048)·1025/2 = 4,198,400 → 37,752,832;
    //   dense MLP 3·2·2048·10,944 = 134,479,872; MoE MLP 8·3·2·2048·1,408 + 3·2·2048·2,816
    //                    + 2·2048·64 = 138,412,032 + 34,603,008 + 262,144 = 173,277,184; logits 2·2048·32,000 = 131,072,000.
    ModelSpec m = fine_grained_moe();
    const LayerKind dense{false, LayerAttention::global, true}, moe{true, LayerAttention::global, true};
    m.layer_kinds = {dense, dense, moe, moe};
    const double dense_layer = 37752832.0 + 134479872.0, moe_layer = 37752832.0 + 173277184.0, logits = 131072000.0;
    ParallelLayout p;
    p.pp = 2;
    CHECK(stage_forward_flops(m, p, 0, 1024).total() == 2 * dense_layer);
    CHECK(stage_forward_flops(m, p, 1, 1024).total() == 2 * moe_layer + logits);
    // Interleaved (v = 2): stage 0 runs layers 0 and 2, stage 1 layers 1 and 3 and the output layer.
    p.virtual_stages = 2;
    CHECK(stage_forward_flops(m, p, 0, 1024).total() == dense_layer + moe_layer);
    CHECK(stage_forward_flops(m, p, 1, 1024).total() == dense_layer + moe_layer + logits);

    // Make the dense layers heavy enough that stage 0 (no output layer) is the slowest.
    m.d_ff = 40000;  // dense MLP 3·2·2048·40,000 = 491,520,000
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 2;
    c.parallel.pp = 2;
    c.seq = 1024;
    c.micro_batch = 1;
    c.global_batch = 4;  // 4 micro-batches
    c.recompute = Recompute::none;
    const MemoryPlan plan = plan_memory(m, *find_gpu("h100-sxm"), c);
    const ComputeTime t = compute_time(plan, {});
    const double stage0 = 2 * (37752832.0 + 491520000.0);  // 1,058,545,664 > 2 · 211,030,016 + 131,072,000
    CHECK(t.stage == 0);
    CHECK(t.stage_forward.total() == stage0);
    CHECK(t.moe_layers == 0);
    CHECK(t.matmul_seconds == Approx(4 * 3 * stage0 * 1024 / t.matmul_rate).epsilon(1e-12));
}

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
