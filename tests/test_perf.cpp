// test_perf.cpp — step time, communication and cost: closed forms worked by hand, ZeRO §7's
// communication volumes, pipeline bubbles, and Korthikanti et al. 2022 Table 5 iteration times.
#include "planner/framework.h"
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

// The catalog's fitted efficiencies instead of the GPU's measured kernel table (--kernel-table none):
// the hand computations below follow the efficiency model; the table model has its own tests
// (test_kernel_table.cpp).
PerfOptions fitted_efficiencies() {
    PerfOptions o;
    o.no_kernel_table = true;
    return o;
}

// The hand computations' job on one GPU: `micro_batches` micro-batches of 1 × 1,024 tokens per step.
TrainConfig one_gpu_job(Precision precision, std::int64_t micro_batches) {
    TrainConfig c;
    c.precision = precision;
    c.micro_batch = 1;
    c.global_batch = micro_batches;
    c.seq = 1024;
    return c;
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

// The all-to-all tests' job: expert parallelism 16 over 16 GPUs (two 8-GPU nodes), one micro-batch
// of 4,096 tokens per rank, mixed bf16.
TrainConfig ep16_job() {
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 16;
    c.parallel.ep = 16;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 16;
    return c;
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

TEST_CASE("perf: routed experts as grouped GEMMs at their own shape, and the token permutation, by hand", "[perf][golden]") {
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 8;
    c.parallel.ep = 8;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 8;  // one micro-batch per step
    c.recompute = Recompute::none;
    const PerfPlan r = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    // Each expert receives 4,096 tokens × ep 8 × top-8 ÷ 64 experts = 4,096 rows; its GEMMs are
    // 1,408 wide, the smallest dimension: 0.63 × 1408/1536. The dense matmuls: n = d = 2,048.
    CHECK(r.expert_tokens == 4096.0);
    CHECK(r.expert_gemm_efficiency == Approx(0.63 * 1408 / 1536).epsilon(1e-12));
    const double e = 0.63 * 2048 / 2176, e_e = 0.63 * 1408 / 1536, peak = 989.4e12, T = 4096;
    CHECK(r.gemm_efficiency == Approx(e).epsilon(1e-12));
    // Routed experts: top-8 × 6·d·f_e = 8 · 6 · 2048 · 1408 = 138,412,032 forward FLOPs per token in
    // each of the 3 MoE layers, forward + 2 × backward at peak × e_e; the rest of the linears and
    // the logits at peak × e; the attention core (1 + 2.5) × its forward at 35%.
    const ForwardFlops& f = r.forward_per_token;
    const double routed = 3 * 138412032.0;
    CHECK(f.mlp == Approx(10944.0 * 6 * 2048 + 3 * (138412032.0 + 2816.0 * 6 * 2048 + 2.0 * 2048 * 64)).epsilon(1e-12));
    const double matmuls = 3 * T * ((f.qkv + f.output_proj + f.mlp - routed + f.logits) / (peak * e) + routed / (peak * e_e)) +
                           3.5 * T * f.attention / (peak * 0.35);
    CHECK(r.matmul_seconds == Approx(matmuls).epsilon(1e-9));
    // Permutation, 8 local experts (sorted after the dispatch, back before the combine):
    // 2·2048 + 6·8·2048 = 102,400 elements per token and MoE layer × 2 bytes × 3 layers × 4,096
    // tokens = 2,516,582,400 bytes forward, the same backward, at 3.35 TB/s.
    CHECK(r.moe_permute_seconds == Approx(2 * 2516582400.0 / 3.35e12).epsilon(1e-9));
    // Full recompute moves the forward's once more.
    c.recompute = Recompute::full;
    CHECK(perf_of(m, "h100-sxm", c, fitted_efficiencies()).moe_permute_seconds == Approx(3 * 2516582400.0 / 3.35e12).epsilon(1e-9));
    // Without expert parallelism every rank holds all 64 experts and sees only its own 4,096 tokens:
    // 4096 × 8 ÷ 64 = 512 rows per expert, the smallest dimension; no sort: 2·2048 + 2·8·2048 =
    // 36,864 elements per token and layer.
    c.recompute = Recompute::none;
    c.parallel.ep = 1;
    const PerfPlan q = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK(q.expert_tokens == 512.0);
    CHECK(q.expert_gemm_efficiency == Approx(0.63 * 512 / 640).epsilon(1e-12));
    CHECK(q.moe_permute_seconds == Approx(2 * 36864.0 * 2 * 3 * 4096 / 3.35e12).epsilon(1e-9));
    // A dense model has neither.
    c.seq = 1024;
    const PerfPlan dense = perf_of(preset_or_throw("gpt2-124m", "--model"), "h100-sxm", c);
    CHECK(dense.expert_gemm_efficiency == 0);
    CHECK(dense.moe_permute_seconds == 0);
}

TEST_CASE("perf: an all-to-all across nodes runs at one NIC per rank beside NVLink", "[perf][golden]") {
    const ModelSpec m = fine_grained_moe();
    TrainConfig c = ep16_job();
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
    const ComputeTime t = compute_time(plan, fitted_efficiencies());
    const double stage0 = 2 * (37752832.0 + 491520000.0);  // 1,058,545,664 > 2 · 211,030,016 + 131,072,000
    CHECK(t.stage == 0);
    CHECK(t.stage_forward.total() == stage0);
    CHECK(t.moe_layers == 0);
    // The attention core (2 × 4,198,400 per token) runs forward + FlashAttention's 2.5 × backward at
    // the H100's FlashAttention-2 efficiency (0.35 of 989.4 TFLOP/s); the rest 3 × at the GEMM rate.
    const double attention = 2 * 4198400.0;
    CHECK(t.matmul_seconds ==
          Approx(4 * 1024 * (3 * (stage0 - attention) / t.matmul_rate + 3.5 * attention / (989.4e12 * 0.35))).epsilon(1e-12));
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

TEST_CASE("perf: Korthikanti et al. Table 5 iteration times within 16%, recorded", "[perf][validation]") {
    // In-sample: these eight runs are among the 26 A100 `fit` published runs on which the A100's
    // GEMM efficiency (kGemmEfficiency = 0.735) was fitted (docs/PERFORMANCE_MODEL.md §2); with the
    // earlier fit to these eight alone (0.82) they were within 5.4%. The step-time errors (+ =
    // predicted slower), full then selective + SP per row, are recorded.
    const double recorded[4][2] = {{0.0817, 0.0260}, {0.0962, 0.0484}, {0.1566, 0.0870}, {0.1327, 0.0844}};
    int row = 0;
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
            INFO(k.name << (selective ? " selective" : " full") << ": predicted " << r.step_seconds << " s, measured " << measured
                        << ", error " << err);
            CHECK(std::fabs(err) < 0.16);
            CHECK(err == Approx(recorded[row][selective ? 1 : 0]).margin(0.0005));
        }
        ++row;
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

TEST_CASE("perf: fp8 runs only the layers' linears at the FP8 rate, FlashAttention's backward and FP8 casts by hand", "[perf]") {
    // GPT-2 124M (d 768, 12 layers, 12 heads, f 3072, GELU, V 50257) on one H100 SXM, micro-batch 1
    // × 1,024 tokens. Forward FLOPs per token: per layer qkv 2·768·2304 = 3,538,944, attention core
    // 2·(768 + 768)·512.5 = 1,574,400, output 2·768·768 = 1,179,648, MLP 4·768·3072 = 9,437,184;
    // logits 2·768·50257 = 77,194,752. GEMM efficiency 0.63 × 768/896 (the smallest dimension d).
    TrainConfig c = one_gpu_job(Precision::fp8, 1);
    const ModelSpec m = preset_or_throw("gpt2-124m", "--model");
    const PerfPlan p = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    const double T = 1024, linear = 12 * 14155776.0 * T, attention = 12 * 1574400.0 * T, logits = 77194752.0 * T;
    const double e = 0.63 * 768 / 896;
    CHECK(p.gemm_efficiency == Approx(e).epsilon(1e-12));
    CHECK(p.fp8_linears_only);
    CHECK(p.peak_flops == Approx(1978.9e12).epsilon(1e-12));
    CHECK(p.peak_16bit == Approx(989.4e12).epsilon(1e-12));
    CHECK(p.attention_backward_factor == 2.5);
    CHECK(p.attention_efficiency == 0.35);
    // Linears forward + 2 × backward at 1978.9 × e; logits at 989.4 × e; the attention core
    // (1 + 2.5) × its forward at 989.4 × 0.35: 1.1277 ms.
    const double matmuls = 3 * linear / (1978.9e12 * e) + 3 * logits / (989.4e12 * e) + 3.5 * attention / (989.4e12 * 0.35);
    CHECK(matmuls == Approx(0.0011277279593).epsilon(1e-9));
    CHECK(p.matmul_seconds == Approx(matmuls).epsilon(1e-9));
    // FP8 casts per layer: forward inputs 768 + 768 + 768 + 3072 = 5,376 per token, backward output
    // gradients 2304 + 768 + 3072 + 768 = 6,912 per token, weights 7,077,888 in each pass:
    // 12 × ((5376 + 6912)·1024 + 2 × 7,077,888) = 320,864,256 elements × 5 bytes ÷ 3.35 TB/s.
    CHECK(p.fp8_cast_seconds == Approx(320864256.0 * 5 / 3.35e12).epsilon(1e-9));
    CHECK(p.elementwise_seconds > p.fp8_cast_seconds);

    // mixed-bf16 with eager attention: one rate for every matmul, the attention backward 2 × its
    // forward (the scores are kept), the GEMM efficiency for the batched attention GEMMs, no casts.
    c.precision = Precision::mixed_bf16;
    c.attention = Attention::eager;
    const PerfPlan q = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK_FALSE(q.fp8_linears_only);
    CHECK(q.peak_16bit == q.peak_flops);
    CHECK(q.attention_backward_factor == 2.0);
    CHECK(q.attention_efficiency == Approx(e).epsilon(1e-12));
    CHECK(q.fp8_cast_seconds == 0);
    CHECK(q.matmul_seconds == Approx(3 * (linear + logits + attention) / (989.4e12 * e)).epsilon(1e-9));
}

TEST_CASE("perf: nvfp4 runs the layers' linears at the FP4 peak × the FP4 efficiency ratio, its casts at 7.38 bytes, by hand", "[perf]") {
    // GPT-2 124M on one B200 (no kernel table: the derived GEMM efficiency 0.625 × the GB200's
    // sustained share 0.485/0.587 = 0.516397; FP4 9, FP8 4.5 and bf16 2.25 PFLOP/s, HBM 8 TB/s),
    // micro-batch 1 × 1,024 tokens. FLOPs as in the fp8 test above.
    // The 16-bit efficiency 0.516397 × 768/896; the FP4 GEMMs 1.9025 × the FP8 speed (Transformer
    // Engine's B300 benchmark: MXFP8 7.161 ms ÷ NVFP4 3.764 ms), i.e. 1.9025 ÷ (9 ÷ 4.5) of the
    // fraction of peak.
    const TrainConfig c = one_gpu_job(Precision::nvfp4, 1);
    const ModelSpec m = preset_or_throw("gpt2-124m", "--model");
    const PerfPlan p = perf_of(m, "b200", c, fitted_efficiencies());
    const double T = 1024, linear = 12 * 14155776.0 * T, attention = 12 * 1574400.0 * T, logits = 77194752.0 * T;
    const double e16 = 0.625 * 0.485 / 0.587 * 768 / 896, ratio = 7.161 / 3.764 / 2;
    CHECK(ratio == Approx(0.951249).epsilon(1e-6));
    CHECK(p.fp8_linears_only);
    CHECK(p.peak_flops == 9e15);
    CHECK(p.peak_16bit == 2.25e15);
    CHECK(p.gemm_efficiency == Approx(e16 * ratio).epsilon(1e-12));
    CHECK(p.attention_efficiency == Approx(e16).epsilon(1e-12));  // the attention core stays bf16
    const double matmuls = 3 * linear / (9e15 * e16 * ratio) + 3 * logits / (2.25e15 * e16) + 3.5 * attention / (2.25e15 * e16);
    CHECK(matmuls == Approx(0.00044382).epsilon(1e-4));
    CHECK(p.matmul_seconds == Approx(matmuls).epsilon(1e-9));
    // The casts: the fp8 test's 320,864,256 elements × 5 × 2.689/1.823 bytes ÷ 8 TB/s.
    CHECK(p.fp8_cast_seconds == Approx(320864256.0 * 5 * 2.689 / 1.823 / 8e12).epsilon(1e-9));
    // On the H100 (no FP4): the fp8 rate and efficiency, NVFP4's casts.
    const PerfPlan h = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    const PerfPlan f = perf_of(m, "h100-sxm", one_gpu_job(Precision::fp8, 1), fitted_efficiencies());
    CHECK(h.peak_flops == f.peak_flops);
    CHECK(h.gemm_efficiency == f.gemm_efficiency);
    CHECK(h.matmul_seconds == Approx(f.matmul_seconds).epsilon(1e-12));
    CHECK(h.fp8_cast_seconds == Approx(f.fp8_cast_seconds * 2.689 / 1.823).epsilon(1e-9));
}

TEST_CASE("perf: fp8 weight casts every micro-batch (generic) or once per step (megatron: Transformer Engine's cache)", "[perf]") {
    // GPT-2 124M on one H100 SXM, fp8, 4 micro-batches of 1 × 1,024 tokens. Per layer (the test
    // above): activation casts (5,376 forward + 6,912 backward) per token, weights 7,077,888 in the
    // forward and again (transposed) in the backward. Elements × 5 bytes ÷ 3.35 TB/s.
    TrainConfig c = one_gpu_job(Precision::fp8, 4);
    const ModelSpec m = preset_or_throw("gpt2-124m", "--model");
    const double act_fwd = 12 * 5376.0 * 1024, act_bwd = 12 * 6912.0 * 1024, weights = 12 * 7077888.0, per = 5 / 3.35e12;
    // Generic: every micro-batch casts the weights in both passes:
    // 4 × (66,060,288 + 84,934,656 + 2 × 84,934,656) = 4 × 320,864,256 elements.
    const PerfPlan g = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK(g.fp8_weight_cast_source.empty());
    CHECK(g.fp8_cast_seconds == Approx(4 * (act_fwd + act_bwd + 2 * weights) * per).epsilon(1e-9));
    CHECK(g.fp8_cast_seconds == Approx(4 * 320864256.0 * 5 / 3.35e12).epsilon(1e-9));
    // Megatron: the weights' two casts once per step, the activations' every micro-batch:
    // 4 × 150,994,944 + 2 × 84,934,656 = 773,849,088 elements.
    c.framework = Framework::megatron;
    const PerfPlan mg = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK_FALSE(mg.fp8_weight_cast_source.empty());
    CHECK(mg.fp8_cast_seconds == Approx((4 * (act_fwd + act_bwd) + 2 * weights) * per).epsilon(1e-9));
    CHECK(mg.fp8_cast_seconds == Approx(773849088.0 * 5 / 3.35e12).epsilon(1e-9));
    // Full recompute runs each micro-batch's forward again: its activation casts, and under the
    // generic convention its weight casts too (4 × 84,934,656 more); the cache serves the recompute.
    c.recompute = Recompute::full;
    const PerfPlan mgr = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK(mgr.fp8_cast_seconds == Approx((4 * (2 * act_fwd + act_bwd) + 2 * weights) * per).epsilon(1e-9));
    c.framework = Framework::generic;
    const PerfPlan gr = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK(gr.fp8_cast_seconds == Approx(4 * (2 * act_fwd + act_bwd + 3 * weights) * per).epsilon(1e-9));
}

TEST_CASE("perf: the loss over the logits, fp32 cross-entropy or fused, in time and memory, by hand", "[perf]") {
    // GPT-2 124M (V 50,257) on one H100 SXM (datasheet 3.35 TB/s), 2 micro-batches of 1 × 1,024
    // tokens: 1,024 × 50,257 = 51,463,168 logits per micro-batch.
    TrainConfig c = one_gpu_job(TrainConfig{}.precision, 2);
    const ModelSpec m = preset_or_throw("gpt2-124m", "--model");
    const double logits = 1024 * 50257.0;
    // Generic default, PyTorch's cross_entropy(logits.float()): 22 + 26 = 48 bytes per logit,
    // 2 × 51,463,168 × 48 ÷ 3.35e12 = 1.474766 ms per step; memory keeps the fp32 copy, 4 B each.
    const PerfPlan g = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK(g.loss_seconds == Approx(2 * logits * 48 / 3.35e12).epsilon(1e-12));
    CHECK(g.loss_seconds == Approx(1.4747666e-3).epsilon(1e-6));
    CHECK(plan_memory(m, *find_gpu("h100-sxm"), c).worst().logits == 4 * logits);
    // A fused kernel (--framework-option cross_entropy=fused): 2 + 4 = 6 bytes, the 16-bit logits only.
    c.framework_options = {{"cross_entropy", "fused"}};
    const PerfPlan f = perf_of(m, "h100-sxm", c, fitted_efficiencies());
    CHECK(f.loss_seconds == Approx(2 * logits * 6 / 3.35e12).epsilon(1e-12));
    CHECK(plan_memory(m, *find_gpu("h100-sxm"), c).worst().logits == 2 * logits);
    // The difference is all in the element-wise time: the step moves by 2 × 51,463,168 × 42 B.
    CHECK(g.compute_seconds - f.compute_seconds == Approx(2 * logits * 42 / 3.35e12).epsilon(1e-9));
    c.framework_options = {{"cross_entropy", "lots"}};
    CHECK_THROWS_WITH(perf_of(m, "h100-sxm", c, fitted_efficiencies()), Catch::Contains("cross_entropy=lots"));
    // Megatron: its vocab-parallel cross-entropy on fp32 logits (the argument default), or fused with
    // --cross-entropy-loss-fusion (what the profile plans named alone).
    c.framework = Framework::megatron;
    c.framework_options = {{"cross_entropy_loss_fusion", "false"}};
    CHECK(perf_of(m, "h100-sxm", c, fitted_efficiencies()).loss_seconds == Approx(2 * logits * 48 / 3.35e12).epsilon(1e-12));
    c.framework_options = {{"cross_entropy_loss_fusion", "true"}};
    CHECK(perf_of(m, "h100-sxm", c, fitted_efficiencies()).loss_seconds == Approx(2 * logits * 6 / 3.35e12).epsilon(1e-12));
    c.framework_options = {};
    CHECK(perf_of(m, "h100-sxm", c, fitted_efficiencies()).loss_seconds == Approx(2 * logits * 6 / 3.35e12).epsilon(1e-12));
}

TEST_CASE("perf: the attention core on the A100 at FlashAttention-2's published efficiency, eager at the GEMM's", "[perf]") {
    // GPT-2 124M on one A100 80GB (no kernel table): flash attention at 50% of the 312 TFLOP/s
    // peak (FlashAttention-2 paper, 50-73%, its low end); eager attention's batched GEMMs at the
    // GEMM efficiency 0.735 × 768/896 = 0.63 (the smallest dimension d = 768).
    TrainConfig c;
    c.micro_batch = 8;
    c.global_batch = 8;
    c.seq = 1024;
    const ModelSpec m = preset_or_throw("gpt2-124m", "--model");
    const PerfPlan f = perf_of(m, "a100-80g", c);
    CHECK(f.attention_efficiency == 0.50);
    CHECK(f.attention_efficiency_source.find("FlashAttention-2") != std::string::npos);
    c.attention = Attention::eager;
    CHECK(perf_of(m, "a100-80g", c).attention_efficiency == Approx(0.735 * 768 / 896).epsilon(1e-12));
}

TEST_CASE("perf: older attention kernels at FlashAttention-2's rates divided by the paper's speed-ups", "[perf]") {
    // FlashAttention-2 §4.1: ~2× over FlashAttention v1 / xFormers; 1.3-1.5× (1.4) forward and ~2×
    // backward over FlashAttention in Triton. attention_kernel_family holds the ratios.
    CHECK(attention_kernel_family("flash2", "--x").forward_slowdown == 1);
    CHECK(attention_kernel_family("flash2", "--x").backward_slowdown == 1);
    CHECK(attention_kernel_family("flash1", "--x").forward_slowdown == 2);
    CHECK(attention_kernel_family("flash1", "--x").backward_slowdown == 2);
    CHECK(attention_kernel_family("triton", "--x").forward_slowdown == 1.4);
    CHECK(attention_kernel_family("triton", "--x").backward_slowdown == 2);
    CHECK(attention_kernel_family("triton", "--x").backend == "flash_attention");  // timed from the FA2 rows
    CHECK_THROWS_WITH(attention_kernel_family("fa3", "--x"), Catch::Contains("--x fa3"));
    // cudnn: Transformer Engine's fused attention, timed from the table's own cudnn_attention rows.
    CHECK(attention_kernel_family("cudnn", "--x").backend == "cudnn_attention");
    CHECK(attention_kernel_family("cudnn", "--x").forward_slowdown == 1);

    // GPT-2 124M, micro-batch 8 × 1,024, one A100 80GB (no table; FA2 at 0.50 of 312 TFLOP/s):
    //   triton: 3.5 ÷ (1.4/0.50 + 2.5 × 2/0.50) = 3.5 ÷ 12.8 = 0.2734375; flash1: 3.5 ÷ 14 = 0.25.
    // The attention core's time, forward 1 + backward 2.5 at FA2's rate, becomes 1.4 + 5 of it.
    TrainConfig c;
    c.micro_batch = 8;
    c.global_batch = 8;
    c.seq = 1024;
    const ModelSpec m = preset_or_throw("gpt2-124m", "--model");
    const ComputeTime fa2 = compute_time(plan_memory(m, *find_gpu("a100-80g"), c), {});
    c.framework_options = {{"attention_kernel", "triton"}};
    const ComputeTime tri = compute_time(plan_memory(m, *find_gpu("a100-80g"), c), {});
    CHECK(tri.attention_efficiency == Approx(0.2734375).epsilon(1e-12));
    CHECK(tri.attention_forward_seconds == Approx(1.4 * fa2.attention_forward_seconds).epsilon(1e-12));
    CHECK(tri.attention_matmul_seconds == Approx(6.4 / 3.5 * fa2.attention_matmul_seconds).epsilon(1e-12));
    CHECK(tri.rate_sources.attention.find("FlashAttention in Triton") != std::string::npos);
    CHECK(tri.linear_matmul_seconds == fa2.linear_matmul_seconds);  // the linears are untouched
    c.framework_options = {{"attention_kernel", "flash1"}};
    CHECK(compute_time(plan_memory(m, *find_gpu("a100-80g"), c), {}).attention_efficiency == Approx(0.25).epsilon(1e-12));
    // Megatron-DeepSpeed's --use-flash-attn-v1: the deepspeed profile takes the same option.
    c.framework = Framework::deepspeed;
    c.parallel.zero = 1;
    CHECK(compute_time(plan_memory(m, *find_gpu("a100-80g"), c), {}).attention_efficiency == Approx(0.25).epsilon(1e-12));
    c.framework = Framework::generic;
    c.parallel.zero = 0;
    // On the H200's kernel table: the flash_attention rows' forward ÷ 1.4 and backward ÷ 2.
    c.framework_options = {};
    const ComputeTime t_fa2 = compute_time(plan_memory(m, *find_gpu("h200"), c), {});
    c.framework_options = {{"attention_kernel", "triton"}};
    const ComputeTime t_tri = compute_time(plan_memory(m, *find_gpu("h200"), c), {});
    CHECK(t_tri.attention_forward_seconds == Approx(1.4 * t_fa2.attention_forward_seconds).epsilon(1e-12));
    CHECK(t_tri.attention_matmul_seconds - t_tri.attention_forward_seconds ==
          Approx(2 * (t_fa2.attention_matmul_seconds - t_fa2.attention_forward_seconds)).epsilon(1e-12));
    CHECK(t_tri.rate_sources.attention.find("kernel table: flash_attention rows (FlashAttention in Triton") == 0);
    // The generic model with attention_kernel=cudnn times the attention core as Megatron's profile
    // does on the same table (its default kernel: cuDNN's).
    c.framework_options = {{"attention_kernel", "cudnn"}};
    const ComputeTime t_cudnn = compute_time(plan_memory(m, *find_gpu("h200"), c), {});
    CHECK(t_cudnn.rate_sources.attention.find("kernel table: cudnn_attention rows") == 0);
    c.framework_options = {};
    c.framework = Framework::megatron;
    CHECK(compute_time(plan_memory(m, *find_gpu("h200"), c), {}).attention_matmul_seconds == Approx(t_cudnn.attention_matmul_seconds).epsilon(1e-12));
    c.framework = Framework::generic;
    // Eager attention has no fused kernel to slow down; an unknown kernel is refused.
    c.attention = Attention::eager;
    CHECK(compute_time(plan_memory(m, *find_gpu("a100-80g"), c), {}).attention_efficiency == Approx(0.735 * 768 / 896).epsilon(1e-12));
    c.attention = Attention::flash;
    c.framework_options = {{"attention_kernel", "fa3"}};
    CHECK_THROWS_WITH(perf_of(m, "a100-80g", c), Catch::Contains("attention_kernel"));
}

TEST_CASE("perf: ZeRO-3 gathers the parameters in the compute dtype, also where the shards are fp32", "[perf]") {
    // llama-2-7b (6,738,415,616 parameters) on 8 GPUs, ZeRO-3, mixed-bf16: the generic model keeps
    // bf16 shards, torchtitan's FSDP2 fp32 ones; both all-gather bf16 (param_dtype): 2 B each.
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    for (const Framework f : {Framework::generic, Framework::torchtitan}) {
        TrainConfig c = dp_job(8, 3);
        c.framework = f;
        const PerfPlan p = perf_of(m, "h100-sxm", c);
        REQUIRE_FALSE(p.collectives.empty());
        CHECK(p.collectives.front().purpose == "ZeRO-3 parameter all-gather, forward");
        CHECK(p.collectives.front().bytes == 2 * 6738415616.0);
    }
}

TEST_CASE("perf: Megatron's --tp-comm-overlap and --overlap-param-gather hide TP and the parameter all-gather", "[perf]") {
    // llama-2-7b on 16 H100s: tp 8 with sequence parallelism, dp 2 with the distributed optimizer
    // (ZeRO-1), 4 micro-batches of 1 × 4096 tokens.
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.framework = Framework::megatron;
    c.parallel.gpus = 16;
    c.parallel.tp = 8;
    c.parallel.sp = true;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 8;
    auto collective = [](const PerfPlan& p, const std::string& purpose) {
        for (const CollectiveUse& u : p.collectives)
            if (u.purpose == purpose) return u;
        FAIL("no collective " << purpose);
        return CollectiveUse{};
    };
    // Megatron-LM's argument defaults: neither overlap (named alone the profile plans both).
    c.framework_options = {{"tp_comm_overlap", "false"}, {"overlap_param_gather", "false"}};
    const PerfPlan plain = perf_of(m, "h100-sxm", c);
    CHECK(collective(plain, "sequence-parallel all-gather").exposed_seconds == collective(plain, "sequence-parallel all-gather").seconds);
    const CollectiveUse gather0 = collective(plain, "ZeRO-1 parameter all-gather after the optimizer step");
    CHECK(gather0.exposed_seconds == gather0.seconds);

    c.framework_options = {{"tp_comm_overlap", "true"}, {"overlap_param_gather", "true"}};
    const MemoryPlan plan = plan_memory(m, *find_gpu("h100-sxm"), c);
    const ComputeTime t = compute_time(plan, {});
    const PerfPlan p = plan_perf(plan, default_cluster(plan.gpu, 8), PerfOptions{});
    const CollectiveUse ag = collective(p, "sequence-parallel all-gather"), rs = collective(p, "sequence-parallel reduce-scatter");
    // 4 collectives of each kind per layer per micro-batch, 32 layers, 4 micro-batches: 512 calls each.
    CHECK(ag.count == 512);
    CHECK(rs.count == 512);
    // Per micro-batch all but max(one call, TP comm − the linears' GEMMs) is hidden; of the hidden
    // rest the step still pays the fitted share 0.272 (Transformer Engine's userbuffers' SMs).
    const double comm = ag.seconds + rs.seconds, mb = 4;
    const double left = mb * std::max(comm / 1024, comm / mb - t.linear_matmul_seconds);
    const double exposed = left + 0.272 * (comm - left);
    CHECK(ag.hidden_cost == 0.272);
    CHECK(ag.exposed_seconds + rs.exposed_seconds == Approx(exposed).epsilon(1e-12));
    CHECK(ag.exposed_seconds == Approx(exposed * ag.seconds / comm).epsilon(1e-12));
    CHECK(ag.overlap.find("--tp-comm-overlap") != std::string::npos);
    CHECK(ag.overlap.find("+ 27% of the hidden part") != std::string::npos);
    // The parameter all-gather: bucket by bucket under the next forward (one micro-batch's).
    const CollectiveUse gather = collective(p, "ZeRO-1 parameter all-gather after the optimizer step");
    CHECK(gather.seconds == Approx(gather0.seconds).epsilon(1e-12));
    CHECK(gather.exposed_seconds ==
          Approx(std::max(gather.seconds / 32, gather.seconds - t.microbatch_forward_seconds)).epsilon(1e-12));
    CHECK(p.step_seconds < plain.step_seconds);
    c.framework_options.clear();
    CHECK(perf_of(m, "h100-sxm", c).step_seconds == p.step_seconds);
}

TEST_CASE("perf: Megatron's interleaved schedule runs its pipeline send/recv beside the chunks", "[perf][golden][megatron]") {
    // llama-2-7b (32 layers) on 4 H100s of one node, pp 4, 8 micro-batches of 1 × 4096 tokens.
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.framework = Framework::megatron;
    c.parallel.gpus = 4;
    c.parallel.pp = 4;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 8;
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    auto p2p = [](const PerfPlan& p) { return find_collective(p, Collective::send_recv); };
    // Without interleaving (1F1B: Megatron turns overlap_p2p_comm off) every call is exposed.
    const PerfPlan flat = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    CHECK(p2p(flat).exposed_seconds == p2p(flat).seconds);
    CHECK(p2p(flat).overlap_rule == OverlapRule::exposed);
    // Interleaved, v = 2: 2 · m · v = 32 calls of 4096 · 4096 · 2 B; the first exposed, and each
    // call beyond the chunk pass beside it (forward and backward, half the calls each): here the
    // chunk passes (4 layers) are far longer than one call, so only the first call shows.
    c.parallel.virtual_stages = 2;
    const MemoryPlan mp = plan_memory(m, gpu, c);
    const ComputeTime t = compute_time(mp, {});
    const PerfPlan r = plan_perf(mp, default_cluster(gpu, 8), {});
    const CollectiveUse u = p2p(r);
    CHECK(u.count == 32);
    CHECK(u.bytes == 4096.0 * 4096 * 2);
    CHECK(u.overlap_rule == OverlapRule::under_chunks);
    REQUIRE(t.microbatch_forward_seconds / 2 > u.each.seconds);
    CHECK(u.exposed_seconds == Approx(u.each.seconds).epsilon(1e-12));
    CHECK(u.overlap.find("overlap_p2p_comm") != std::string::npos);
    // --no-overlap-p2p-communication: exposed again.
    c.framework_options = {{"overlap_p2p_comm", "false"}};
    const PerfPlan off = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    CHECK(p2p(off).exposed_seconds == p2p(off).seconds);
    // The generic model does not assume the overlap.
    c.framework = Framework::generic;
    c.framework_options = {};
    const PerfPlan gen = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    CHECK(p2p(gen).exposed_seconds == p2p(gen).seconds);
}

TEST_CASE("perf: Megatron's MoE layers wait for the host per layer and per local expert, unless a CUDA graph covers them", "[perf][golden][megatron]") {
    // fine_grained_moe (3 MoE layers of 64 experts) on 16 H100s, ep 16: 64 / 16 = 4 local experts;
    // 4 micro-batches per rank: 3 × 4 = 12 MoE layer forwards and 12 layer passes. Host work with
    // the alltoall dispatcher (a torch.distributed one) 4.738 ms × 12 + 0.1665 ms × 4 × 12 =
    // 56.856 + 7.992 = 64.848 ms, added to the step beside compute, bubble, exposed communication
    // and the optimizer.
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.framework = Framework::megatron;
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}};
    c.parallel.gpus = 16;
    c.parallel.ep = 16;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 64;
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    auto perf = [&](const TrainConfig& job) { return plan_perf(plan_memory(m, gpu, job), default_cluster(gpu, 8), {}); };
    const PerfPlan r = perf(c);
    CHECK(r.moe_host.per_layer_forward == 4.738e-3);
    CHECK(r.moe_host.layer_forwards == 12);
    CHECK(r.moe_host.per_local_expert == 0.1665e-3);
    CHECK(r.moe_host.local_experts == 4);
    CHECK(r.moe_host.layer_passes == 12);
    CHECK(r.moe_host.seconds == Approx(0.064848).epsilon(1e-12));
    CHECK(r.step_seconds ==
          Approx(r.compute_seconds + r.bubble_seconds + r.comm_exposed_seconds + r.optimizer_seconds + 0.064848).epsilon(1e-12));
    CHECK(r.moe_host.source.find("no CUDA graphs") != std::string::npos);
    CHECK(r.moe_host.source.find("torch.distributed dispatchers'") != std::string::npos);
    // The flex dispatcher (DeepEP / HybridEP: one fused dispatch and one fused combine kernel) has
    // its own per-layer part: 0.994 ms × 12 + 7.992 = 11.928 + 7.992 = 19.92 ms.
    TrainConfig flex = c;
    flex.framework_options = {{"moe_token_dispatcher_type", "flex"}};
    const PerfPlan fx = perf(flex);
    CHECK(fx.moe_host.per_layer_forward == 0.994e-3);
    CHECK(fx.moe_host.seconds == Approx(0.01992).epsilon(1e-12));
    CHECK(fx.moe_host.source.find("flex dispatcher's") != std::string::npos);
    // --recompute full re-runs every MoE layer's forward: it syncs again (24 forwards), and issues
    // its share of a pass's per-expert work, 2 of the 6 grouped GEMMs (fc1 and fc2 forward), again:
    // 12 × (1 + 2/6) = 16 passes. 4.738 ms × 24 + 0.1665 ms × 4 × 16 = 113.712 + 10.656 = 124.368 ms.
    TrainConfig full = c;
    full.recompute = Recompute::full;
    const PerfPlan f = perf(full);
    CHECK(f.moe_host.layer_forwards == Approx(24).epsilon(1e-12));
    CHECK(f.moe_host.layer_passes == Approx(16).epsilon(1e-12));
    CHECK(f.moe_host.seconds == Approx(0.124368).epsilon(1e-12));
    // Per-layer graphs of the router and the dispatcher's preprocessing leave the experts outside: the same.
    TrainConfig partial = c;
    partial.framework_options.push_back({"cuda_graph_impl", "transformer_engine"});
    partial.framework_options.push_back({"cuda_graph_modules", "attn,moe_router,moe_preprocess"});
    CHECK(perf(partial).moe_host.seconds == Approx(0.064848).epsilon(1e-12));
    // A graph of the whole iteration, or of the MoE layer (the module moe, or the whole layer): none.
    for (const auto& [impl, modules] : {std::pair<std::string, std::string>{"full_iteration", ""},
                                        {"transformer_engine", "moe"}, {"local", ""}}) {
        CAPTURE(impl, modules);
        TrainConfig g = c;
        g.framework_options.push_back({"cuda_graph_impl", impl});
        if (!modules.empty()) g.framework_options.push_back({"cuda_graph_modules", modules});
        const PerfPlan q = perf(g);
        CHECK(q.moe_host.seconds == 0);
        CHECK(q.step_seconds == Approx(r.step_seconds - 0.064848).epsilon(1e-12));
    }
    // The generic model has no host term; a dense model none either.
    TrainConfig generic = c;
    generic.framework = Framework::generic;
    generic.framework_options = {};
    CHECK(perf(generic).moe_host.seconds == 0);
    // Refused: a module Megatron does not have, modules without a per-layer implementation.
    TrainConfig bad = c;
    bad.framework_options.push_back({"cuda_graph_impl", "transformer_engine"});
    bad.framework_options.push_back({"cuda_graph_modules", "experts"});
    CHECK_THROWS_WITH(perf(bad), Catch::Contains("'experts' is not one of Megatron's"));
    TrainConfig bad2 = c;
    bad2.framework_options.push_back({"cuda_graph_modules", "attn"});
    CHECK_THROWS_WITH(perf(bad2), Catch::Contains("cuda_graph_impl local or transformer_engine"));
}

TEST_CASE("perf: Megatron's flex dispatcher sends a token once per destination node and GPU", "[perf][golden][megatron]") {
    // The 16-rank all-to-all of the test above (8 ranks per node, two nodes) under --framework
    // megatron with moe_token_dispatcher_type=flex (DeepEP / HybridEP). 64 experts, 32 per node,
    // top-8 of them uniformly: a token has no expert on the other node with probability
    // C(32, 8)/C(64, 8) = (32·31·30·29·28·27·26·25)/(64·63·62·61·60·59·58·57) = 0.0023763911, so it
    // crosses the network R = 1 − 0.0023763911 = 0.9976236089 times instead of 8 · 8/16 = 4: R/8 =
    // 0.1247029511 of the buffer through the NIC (47 GB/s). NVLink: 4 experts per GPU, missed with
    // probability C(60, 8)/C(64, 8) = (56·55·54·53)/(64·63·62·61) = 8745/15128 = 0.5780671603, so a
    // token reaches D = 16 · (1 − 0.5780671603) = 6.7509254363 GPUs, 7/8 of D/8 of the buffer over
    // NVLink at the 8-GPU group's 370 GB/s: 1.996e-12 s/B < 2.653e-12 s/B, the network is the slower.
    const ModelSpec m = fine_grained_moe();
    TrainConfig c = ep16_job();
    c.framework = Framework::megatron;
    c.framework_options = {{"moe_token_dispatcher_type", "flex"}};
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const ClusterSpec cl = default_cluster(gpu, 8);
    const PerfPlan r = plan_perf(plan_memory(m, gpu, c), cl, {});
    const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
    CHECK(a2a.link == LinkKind::network);
    CHECK(a2a.bytes == 134217728.0);  // the buffer is as before: S = 4096 · 8 · 2048 · 2
    CHECK(a2a.each.bandwidth_seconds == Approx(134217728.0 * 0.1247029511 / 47e9).epsilon(1e-9));
    CHECK(a2a.bus_bandwidth == Approx(15.0 / 16 * 47e9 / 0.1247029511).epsilon(1e-9));  // 353.3 GB/s
    CHECK(a2a.purpose.find("once per destination node and GPU") != std::string::npos);
    // In one node (8 ranks, 8 experts each) only the NVLink copies: a token misses a GPU's experts
    // with probability C(56, 8)/C(64, 8) = 157832675/491796152 = 0.3209310898, reaches D = 8 · (1 −
    // 0.3209310898) = 5.4325512819 GPUs: D/8 = 0.6790689102 of the alltoall dispatcher's bytes
    // (every routed copy), at the same NVLink bandwidth and latency.
    c.parallel.gpus = 8;
    c.parallel.ep = 8;
    c.global_batch = 8;
    const PerfPlan one = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}};
    const PerfPlan flat = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    const CollectiveUse& in_node = find_collective(one, Collective::all_to_all);
    const CollectiveUse& nccl = find_collective(flat, Collective::all_to_all);
    CHECK(in_node.link == LinkKind::nvlink);
    CHECK(in_node.bytes == nccl.bytes);
    CHECK(in_node.each.bandwidth_seconds == Approx(nccl.each.bandwidth_seconds * 0.6790689102).epsilon(1e-9));
    CHECK(in_node.each.latency_seconds == nccl.each.latency_seconds);
    CHECK(in_node.bus_bandwidth == Approx(nccl.bus_bandwidth / 0.6790689102).epsilon(1e-9));
}

TEST_CASE("perf: the generic model's moe_dispatcher=deepep is the flex dispatcher's all-to-all", "[perf][golden]") {
    // DeepEP under a PyTorch-native stack (NeMo AutoModel's dispatcher: deepep): the same
    // once-per-destination all-to-all as Megatron's flex dispatcher above, the same bytes and
    // bandwidth (deduplicated_dispatch_busbw), and nothing else of Megatron's (no host-work term).
    const ModelSpec m = fine_grained_moe();
    TrainConfig c = ep16_job();
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const ClusterSpec cl = default_cluster(gpu, 8);
    const PerfPlan nccl = plan_perf(plan_memory(m, gpu, c), cl, {});
    c.framework_options = {{"moe_dispatcher", "deepep"}};
    const PerfPlan deepep = plan_perf(plan_memory(m, gpu, c), cl, {});
    const CollectiveUse& a2a = find_collective(deepep, Collective::all_to_all);
    CHECK(a2a.bytes == 134217728.0);
    CHECK(a2a.each.bandwidth_seconds == Approx(134217728.0 * 0.1247029511 / 47e9).epsilon(1e-9));
    CHECK(a2a.purpose.find("once per destination node and GPU") != std::string::npos);
    CHECK(a2a.seconds < find_collective(nccl, Collective::all_to_all).seconds);
    CHECK(deepep.moe_host.seconds == 0);
    c.framework = Framework::megatron;
    c.framework_options = {{"moe_token_dispatcher_type", "flex"}};
    CHECK(find_collective(plan_perf(plan_memory(m, gpu, c), cl, {}), Collective::all_to_all).seconds == a2a.seconds);
    c.framework = Framework::generic;
    c.framework_options = {{"moe_dispatcher", "nvshmem"}};
    CHECK_THROWS_WITH(plan_perf(plan_memory(m, gpu, c), cl, {}), Catch::Contains("moe_dispatcher"));
}

TEST_CASE("perf: --overlap-moe-expert-parallel-comm hides the all-to-all under another micro-batch", "[perf][golden][megatron]") {
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.framework = Framework::megatron;
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}, {"overlap_moe_expert_parallel_comm", "true"}};
    c.parallel.gpus = 16;
    c.parallel.ep = 16;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 16 * 4;  // 4 micro-batches per rank
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const MemoryPlan mp = plan_memory(m, gpu, c);
    const PerfPlan r = plan_perf(mp, default_cluster(gpu, 8), {});
    const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
    // Without pipelining the first forward and the last backward have no partner: 1 of m = 4
    // exposed; the other 3/4 as the layer schedule pairs them (a2a_layer_pair, checked by hand below).
    const ComputeTime t = compute_time(mp, {});
    const double A = a2a.seconds;
    const A2aLayerPair pair = a2a_layer_pair(t, A / a2a.count);
    CHECK(a2a.exposed_seconds == Approx(A / 4 + 0.75 * std::min(A, pair.exposed * t.moe_layers * 4)).epsilon(1e-12));
    CHECK(a2a.exposed_seconds < A);
    // Interleaved 1F1B, pp 2 × v 2, m 8: the first rank's warm-up is 2(p − 1) + (v − 1)·p + 1 = 5 of
    // its m·v = 16 chunk passes.
    c.parallel.pp = 2;
    c.parallel.virtual_stages = 2;
    c.parallel.gpus = 32;
    c.global_batch = 16 * 8;
    const MemoryPlan mq = plan_memory(m, gpu, c);
    const PerfPlan q = plan_perf(mq, default_cluster(gpu, 8), {});
    const CollectiveUse& b = find_collective(q, Collective::all_to_all);
    const ComputeTime tq = compute_time(mq, {});
    const A2aLayerPair pq = a2a_layer_pair(tq, b.seconds / b.count);
    CHECK(b.exposed_seconds ==
          Approx(5.0 / 16 * b.seconds + 11.0 / 16 * std::min(b.seconds, pq.exposed * tq.moe_layers * 8)).epsilon(1e-12));
    // Megatron refuses it without virtual stages when pipelined, and with the allgather dispatcher.
    c.parallel.virtual_stages = 1;
    CHECK_THROWS_AS(plan_memory(m, gpu, c), InputError);
    c.parallel.virtual_stages = 2;
    c.framework_options = {{"moe_token_dispatcher_type", "allgather"}, {"overlap_moe_expert_parallel_comm", "true"}};
    CHECK_THROWS_AS(plan_memory(m, gpu, c), InputError);
    // Named alone the profile runs the flex dispatcher, which overlaps.
    c.framework_options = {{"overlap_moe_expert_parallel_comm", "true"}};
    CHECK_NOTHROW(plan_memory(m, gpu, c));
}

TEST_CASE("perf: Megatron's recompute_modules time: the MLA up projections again, core attention not", "[perf][golden][megatron]") {
    // DeepSeek-V3's up projections per MLA layer and token: q_b 1536 → 128 × 192 and kv_b 512 →
    // 128 × (128 + 128): 2 · 128 · (1536 · 192 + 512 · 256) = 109,051,904 FLOPs; 61 layers on one
    // stage, 4,096 tokens per micro-batch, at the linears' rate.
    const ModelSpec m = preset_or_throw("deepseek-v3", "--model");
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.framework = Framework::megatron;
    c.recompute = Recompute::selective;
    c.parallel.gpus = 8;
    c.parallel.ep = 8;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 8;
    const GpuSpec& gpu = *find_gpu("h200");
    c.framework_options = {{"recompute_modules", "core_attn"}};
    const ComputeTime attn = compute_time(plan_memory(m, gpu, c), {});
    c.framework_options = {{"recompute_modules", "core_attn,mla_up_proj"}};
    const ComputeTime both = compute_time(plan_memory(m, gpu, c), {});
    CHECK(both.matmul_seconds - attn.matmul_seconds == Approx(61 * 109051904.0 * 4096 / both.matmul_rate).epsilon(1e-9));
    c.framework_options = {{"recompute_modules", "mla_up_proj"}};
    const ComputeTime up = compute_time(plan_memory(m, gpu, c), {});
    CHECK(up.matmul_seconds == Approx(both.matmul_seconds - up.attention_forward_seconds).epsilon(1e-12));
    CHECK(up.bubble_seconds == 0);
    CHECK(up.compute_seconds == Approx(up.microbatch_forward_seconds + up.microbatch_backward_seconds).epsilon(1e-12));
}

TEST_CASE("perf: expert tensor parallelism — experts split over tp (etp = tp) or whole with folding (etp 1), by hand",
          "[perf][golden][moe]") {
    // fine_grained_moe on 16 H100s (two 8-GPU nodes), tp 2 with sequence parallelism, s = 4,096, b = 1:
    // each rank holds s·b/tp = 2,048 tokens of the micro-batch.
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 16;
    c.parallel.tp = 2;
    c.parallel.sp = true;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 8;  // dp 8: one micro-batch per step
    c.recompute = Recompute::none;
    auto count_of = [](const PerfPlan& r, const std::string& purpose) {
        for (const CollectiveUse& u : r.collectives)
            if (u.purpose == purpose) return u.count;
        return -1.0;
    };
    const double S = 4096.0 * 2048 * 2;  // one micro-batch's s·b·h in bf16: 16,777,216 B

    SECTION("etp = tp (the default): ep 8 within dp 8, each expert gathers its 2 tp ranks' tokens") {
        c.parallel.ep = 8;
        const PerfPlan r = perf_of(m, "h100-sxm", c, fitted_efficiencies());
        // rows per expert: 2,048 tokens × etp 2 × ep 8 × top-8 ÷ 64 experts = 4,096; width 1,408 ÷ 2.
        CHECK(r.expert_tokens == 4096.0);
        CHECK(r.expert_gemm_efficiency == Approx(0.63 * 704 / 832).epsilon(1e-12));
        // sequence-parallel gather/scatter: attention in 4 layers + the dense MLP + the 3 shared
        // experts = 8 blocks × 2 (forward, backward); the routed experts' own gather of the
        // dispatched copies, top-8 × S, in the 3 MoE layers × 2.
        CHECK(count_of(r, "sequence-parallel all-gather") == 16);
        CHECK(count_of(r, "expert tensor-parallel all-gather of the dispatched tokens") == 6);
        for (const CollectiveUse& u : r.collectives)
            if (u.purpose == "expert tensor-parallel all-gather of the dispatched tokens") CHECK(u.bytes == 8 * S);
        // the dispatch: 2,048 tokens × top-8 × 2,048 × 2 B over ep 8 of rank stride etp 2 (two nodes)
        const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
        CHECK(a2a.bytes == 67108864.0);
        CHECK(a2a.group == 8);
        CHECK(a2a.link == LinkKind::network);
    }
    SECTION("etp 1 (Megatron-Core's parallel folding): ep 16 over tp 2 × dp 8, experts whole on each rank") {
        c.parallel.ep = 16;
        c.parallel.etp = 1;
        const PerfPlan r = perf_of(m, "h100-sxm", c, fitted_efficiencies());
        // rows per expert: 2,048 × etp 1 × ep 16 × 8 ÷ 64 = 4,096, now 1,408 wide (the smallest: 0.63 × 1408/1536)
        CHECK(r.expert_tokens == 4096.0);
        CHECK(r.expert_gemm_efficiency == Approx(0.63 * 1408 / 1536).epsilon(1e-12));
        // the routed experts need no tensor-parallel gather; the shared experts keep theirs
        CHECK(count_of(r, "sequence-parallel all-gather") == 16);
        CHECK(count_of(r, "expert tensor-parallel all-gather of the dispatched tokens") == -1);
        const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
        CHECK(a2a.bytes == 67108864.0);
        CHECK(a2a.group == 16);
        // FLOPs per rank do not depend on etp: the same matmul FLOPs as with etp = tp
        TrainConfig d = c;
        d.parallel.ep = 8;
        d.parallel.etp = 0;
        CHECK(r.forward_per_token.mlp == perf_of(m, "h100-sxm", d, fitted_efficiencies()).forward_per_token.mlp);
        // without shared experts the MoE layers' MLP blocks have no tensor-parallel collective at all:
        // attention in 4 layers + 1 dense MLP = 5 blocks × 2
        ModelSpec no_shared = m;
        no_shared.shared_d_ff = 0;
        CHECK(count_of(perf_of(no_shared, "h100-sxm", c, fitted_efficiencies()), "sequence-parallel all-gather") == 10);
    }
}

TEST_CASE("perf: routed experts' gradients reduce over their expert data-parallel group, by hand", "[perf][golden][moe]") {
    // 16 GPUs, ep 16 over dp 16 (tp 1): every rank holds 4 of the 64 experts and no other rank holds
    // them, so the expert data-parallel group is one rank: only the dense gradients are reduced.
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.parallel.gpus = 16;
    c.parallel.ep = 16;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 16;
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const MemoryPlan plan = plan_memory(m, gpu, c);
    const ClusterSpec cl = default_cluster(gpu, 8);
    const PerfPlan r = plan_perf(plan, cl, {});
    const StageMemory& st = plan.worst();
    // expert params on a GPU: 3 MoE layers × 4 experts × 3 × 2,048 × 1,408 (+ their biases: none)
    CHECK(st.expert_params_on_gpu == 3LL * 4 * 3 * 2048 * 1408);
    const CollectiveUse& rs = find_collective(r, Collective::reduce_scatter);
    CHECK(rs.bytes == 2.0 * static_cast<double>(st.params_on_gpu));  // the row names every gradient byte
    CHECK(rs.purpose.find("routed experts over their 1 expert data-parallel ranks") != std::string::npos);
    // its time is the dense part's alone: (params − experts) × 2 B over the 16 dp ranks
    const double dense_bytes = 2.0 * static_cast<double>(st.params_on_gpu - st.expert_params_on_gpu);
    CHECK(rs.each.seconds == Approx(collective_time(Collective::reduce_scatter, dense_bytes, 16,
                                                    LinkModel{rs.link, rs.bus_bandwidth, 8}).seconds));
}

TEST_CASE("perf: the flex dispatcher's SMs, taken from the compute its overlapped all-to-all runs beside", "[perf][golden][megatron]") {
    // As above (ep 16 over two H100 nodes, 4 micro-batches, no pipelining), with the flex dispatcher
    // (DeepEP): its kernels hold moe_flex_dispatcher_num_sms (default 20) of the H100's 132 SMs while
    // the hidden part of the all-to-all runs, so the compute beside it loses hidden × 20/132.
    const ModelSpec m = fine_grained_moe();
    TrainConfig c;
    c.precision = Precision::mixed_bf16;
    c.framework = Framework::megatron;
    c.framework_options = {{"moe_token_dispatcher_type", "flex"}, {"overlap_moe_expert_parallel_comm", "true"}};
    c.parallel.gpus = 16;
    c.parallel.ep = 16;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 16 * 4;
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    CHECK(gpu.sm_count == 132);
    const MemoryPlan mp = plan_memory(m, gpu, c);
    const PerfPlan r = plan_perf(mp, default_cluster(gpu, 8), {});
    const CollectiveUse& a2a = find_collective(r, Collective::all_to_all);
    const ComputeTime t = compute_time(mp, {});
    const double A = a2a.seconds;
    const double base = A / 4 + 0.75 * std::min(A, a2a_layer_pair(t, A / a2a.count).exposed * t.moe_layers * 4);  // the overlap alone
    CHECK(a2a.exposed_seconds == Approx(base + (A - base) * 20 / 132).epsilon(1e-12));
    CHECK(a2a.overlap.find("20/132 SMs the dispatcher takes") != std::string::npos);
    // 33 SMs: a quarter of the hidden time.
    c.framework_options.push_back({"moe_flex_dispatcher_num_sms", "33"});
    const PerfPlan q = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    const CollectiveUse& b = find_collective(q, Collective::all_to_all);
    CHECK(b.exposed_seconds == Approx(base + (b.seconds - base) * 0.25).epsilon(1e-12));
    // A GPU without an SM count in the catalog is charged nothing, and the NCCL dispatcher neither.
    GpuSpec unknown = gpu;
    unknown.sm_count = 0;
    const PerfPlan plain = plan_perf(plan_memory(m, unknown, c), default_cluster(unknown, 8), {});
    CHECK(find_collective(plain, Collective::all_to_all).exposed_seconds == Approx(base).epsilon(1e-12));
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}, {"overlap_moe_expert_parallel_comm", "true"}};
    const MemoryPlan mn = plan_memory(m, gpu, c);
    const PerfPlan n = plan_perf(mn, default_cluster(gpu, 8), {});
    const CollectiveUse& na = find_collective(n, Collective::all_to_all);
    const ComputeTime tn = compute_time(mn, {});
    CHECK(na.exposed_seconds ==
          Approx(na.seconds / 4 + 0.75 * std::min(na.seconds, a2a_layer_pair(tn, na.seconds / na.count).exposed * tn.moe_layers * 4))
              .epsilon(1e-12));
    // A count outside 1..1024 names the option.
    c.framework_options = {{"moe_token_dispatcher_type", "flex"}, {"overlap_moe_expert_parallel_comm", "true"},
                           {"moe_flex_dispatcher_num_sms", "0"}};
    CHECK_THROWS_WITH(plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {}),
                      Catch::Contains("moe_flex_dispatcher_num_sms"));
}

TEST_CASE("perf: Megatron's --recompute-method block runs again only the first k layers of each chunk", "[perf][golden][megatron]") {
    // llama-2-7b on 4 H100s: tp 2 with sequence parallelism, pp 2 (16 layers per stage), 4
    // micro-batches; --recompute full with recompute_method block, recompute_num_layers 4: 4 of each
    // stage's 16 layers (one chunk per stage) run their forward again, a share of 1/4.
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.framework = Framework::megatron;
    c.parallel.gpus = 4;
    c.parallel.tp = 2;
    c.parallel.sp = true;
    c.parallel.pp = 2;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 4;
    auto time_of = [&](Recompute r, const char* method) {
        TrainConfig x = c;
        x.recompute = r;
        if (method) x.framework_options = {{"recompute_method", method}, {"recompute_num_layers", "4"}};
        return compute_time(plan_memory(m, *find_gpu("h100-sxm"), x), {});
    };
    const ComputeTime none = time_of(Recompute::none, nullptr), uniform = time_of(Recompute::full, "uniform"),
                      block = time_of(Recompute::full, "block");
    CHECK(uniform.full_recompute_share == 1);
    CHECK(block.full_recompute_share == 0.25);
    // The recomputed forward's matmuls (and fp8 casts, none here): a quarter of uniform's.
    CHECK(block.matmul_seconds - none.matmul_seconds == Approx(0.25 * (uniform.matmul_seconds - none.matmul_seconds)).epsilon(1e-9));
    // Hardware FLOPs per token: the model's + a quarter of the layers' forward (HFU).
    TrainConfig b = c;
    b.recompute = Recompute::full;
    b.framework_options = {{"recompute_method", "block"}, {"recompute_num_layers", "4"}};
    const StepFlops f = step_flops(plan_memory(m, *find_gpu("h100-sxm"), b));
    CHECK(f.per_token.hardware == Approx(f.per_token.model + 0.25 * f.forward_per_token.layers()).epsilon(1e-12));
    // The recomputed forward's tensor-parallel collectives: of each kind 4 + 2 × 1/4 per layer per
    // micro-batch (4 without recompute, 6 with every layer), 16 layers, 4 micro-batches: 288.
    const PerfPlan p = perf_of(m, "h100-sxm", b);
    bool seen = false;
    for (const CollectiveUse& u : p.collectives)
        if (u.purpose == "sequence-parallel all-gather") {
            CHECK(u.count == Approx(4.5 * 16 * 4));
            seen = true;
        }
    CHECK(seen);
    // More layers than a chunk holds: every layer, as uniform.
    b.framework_options = {{"recompute_method", "block"}, {"recompute_num_layers", "20"}};
    CHECK(compute_time(plan_memory(m, *find_gpu("h100-sxm"), b), {}).full_recompute_share == 1);
}

TEST_CASE("perf: the all-to-all overlap's layer schedule, by hand", "[perf][golden][megatron]") {
    // Megatron-Core's combined 1F1B pairs one MoE layer's forward (micro-batch i) with its backward
    // (micro-batch j): comm combine_bwd | dispatch_fwd → dispatch_bwd | combine_fwd beside comp
    // attention_fwd | mlp_bwd → mlp_dw → mlp_fwd | attention_bwd. A stage of 2 layers whose forward
    // takes 10 ms per micro-batch, 2 of them the attention core; the linears' FLOPs half attention
    // (QKV 1 + output 1) and half MLP (2): per layer attention forward (2 + 8/2)/2 = 3 ms, MLP 8/2/2
    // = 2 ms; attention backward (2 × 2.5 + 2 × 4)/2 = 6.5 ms, MLP backward 2 + 2 ms. Compute alone:
    // 3 + 2 + 2 + 2 + 6.5 = 15.5 ms.
    ComputeTime t;
    t.layers = 2;
    t.stage_forward.qkv = 1;
    t.stage_forward.output_proj = 1;
    t.stage_forward.mlp = 2;
    t.microbatch_forward_seconds = 10e-3;
    t.attention_forward_seconds = 2e-3;
    t.attention_backward_factor = 2.5;
    A2aLayerPair p = a2a_layer_pair(t, 1e-3);
    CHECK(p.attention_forward == Approx(3e-3));
    CHECK(p.mlp_forward == Approx(2e-3));
    CHECK(p.exposed == Approx(0).margin(1e-15));  // each 1 ms all-to-all under a longer block
    // 4 ms each: comm combine_bwd 0-4, dispatch_fwd 4-8 (after attention 0-3), dispatch_bwd 8-12
    // (after mlp_bwd 4-6), combine_fwd 12-16 (after mlp_fwd 8-10, which waited for dispatch_fwd);
    // comp mlp_dw 6-8, attention backward 12-18.5 (after dispatch_bwd): 18.5 ms, 3 more than the compute.
    p = a2a_layer_pair(t, 4e-3);
    CHECK(p.exposed == Approx(3e-3));
    // 10 ms each: the four all-to-alls back to back on their stream, 0-40 ms, the compute waiting
    // between them: 40 − 15.5 = 24.5 ms exposed.
    p = a2a_layer_pair(t, 10e-3);
    CHECK(p.exposed == Approx(24.5e-3));
}

TEST_CASE("perf: a context-parallel ring that spans nodes runs at its slowest hop, one NIC", "[perf][golden]") {
    // llama-2-7b at 32K tokens, tp 2 × cp 8 = 16 ranks: Megatron's order puts the cp ranks two apart,
    // so the ring holds 4 members in each of two 8-GPU nodes and two of its hops leave a node. Every
    // member sends its K and V block to its neighbour at once; a step waits for the hop through one
    // NIC: 400 Gb/s NDR = 50 GB/s line rate, the catalog's 47 GB/s per GPU for the H100's NIC.
    // K and V per block: s/cp × (k_dim + v_dim) × 2 B ÷ tp = 4096 × 8192 × 2 / 2 = 33,554,432 B.
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    TrainConfig c;
    c.parallel.gpus = 16;
    c.parallel.tp = 2;
    c.parallel.cp = 8;
    c.parallel.sp = true;
    c.seq = 32768;
    c.micro_batch = 1;
    c.global_batch = 1;
    auto ring = [](const PerfPlan& r) {
        for (const CollectiveUse& u : r.collectives)
            if (u.purpose == "context-parallel ring exchange of K and V blocks") return u;
        FAIL("no ring");
        return CollectiveUse{};
    };
    const PerfPlan across = perf_of(m, "h100-sxm", c);
    const CollectiveUse a = ring(across);
    CHECK(a.group == 8);
    CHECK(a.bytes == 33554432.0);
    CHECK(a.link == LinkKind::network);
    CHECK(a.bus_bandwidth == default_cluster(*find_gpu("h100-sxm"), 8).network_per_gpu);
    // tp 1 × cp 8 on one node: every hop on NVLink.
    c.parallel.tp = 1;
    c.parallel.sp = false;
    c.parallel.gpus = 8;
    const CollectiveUse inside = ring(perf_of(m, "h100-sxm", c));
    CHECK(inside.link == LinkKind::nvlink);
    CHECK(inside.bus_bandwidth > a.bus_bandwidth);
}
