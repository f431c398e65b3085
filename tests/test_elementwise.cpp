// test_elementwise.cpp — eager against fused element-wise kernels (planner/elementwise.h;
// docs/PERFORMANCE_MODEL.md §2 "Eager element-wise kernels"): the extra bytes of each module worked
// by hand, their time in the step, the --elementwise flag and the torchtitan profile's compile option.
#include "planner/elementwise.h"
#include "planner/framework.h"
#include "planner/perf.h"

#include "cli_run.h"
#include "core/error.h"
#include "core/gpu.h"
#include "core/kernel_table.h"
#include "tiny_models.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <cmath>
#include <memory>

#include <string>
#include <vector>

using namespace llmplan;

namespace {

TrainConfig job(Precision precision = Precision::mixed_bf16, int tp = 1, bool sp = false) {
    TrainConfig c;
    c.precision = precision;
    c.parallel.gpus = tp;
    c.parallel.tp = tp;
    c.parallel.sp = sp;
    c.seq = 64;
    return c;
}

// A small Llama: d 64, 4 heads of 16 (q 64), 2 KV heads (k 32), SwiGLU of 160.
ModelSpec small_llama() { return test::llama_like(2, 64, 4, 2, 160, 32, 64, "small-llama"); }

}  // namespace

TEST_CASE("eager element-wise bytes: a Llama-shaped layer by hand", "[elementwise]") {
    const ModelSpec m = small_llama();
    const LayerKind layer;
    // bf16 (a = 2), per token, one layer, tp 1:
    //   RMSNorm, per element 36 − 4 = 32 forward, 92 − 6 = 86 backward (elementwise.cpp), on 2 norms × 64:
    //     32 × 128 = 4,096 and 86 × 128 = 11,008;
    //   RoPE on q + k = 64 + 32 = 96 elements: torchtitan's complex multiply 16 each way (1,536, 1,536),
    //     transformers' rotate_half 8a = 16 forward and 13a = 26 backward (1,536, 2,496);
    //   SwiGLU on 160: 2a = 4 forward (640), 4a = 8 backward (1,280).
    const EagerTraffic tt = eager_extra_bytes(m, job(), layer, EagerCode::torchtitan);
    CHECK(tt.forward == 4096 + 1536 + 640);     // 6,272
    CHECK(tt.backward == 11008 + 1536 + 1280);  // 13,824
    REQUIRE(tt.ops.size() == 3);
    CHECK(tt.ops[0].name == "RMSNorm");
    CHECK(tt.ops[1].name == "RoPE (complex multiply)");
    CHECK(tt.ops[2].name == "SwiGLU (silu, mul)");
    const EagerTraffic hf = eager_extra_bytes(m, job(), layer, EagerCode::transformers);
    CHECK(hf.forward == 6272);
    CHECK(hf.backward == 11008 + 2496 + 1280);  // 14,784

    // tp 2 without sequence parallelism: the norms see every token's full width (4,096 / 11,008),
    // RoPE and SwiGLU the rank's half (768 / 768, 320 / 640).
    const EagerTraffic tp2 = eager_extra_bytes(m, job(Precision::mixed_bf16, 2, false), layer, EagerCode::torchtitan);
    CHECK(tp2.forward == 4096 + 768 + 320);
    CHECK(tp2.backward == 11008 + 768 + 640);
    // ... with sequence parallelism the norms' tokens split too: everything halves.
    const EagerTraffic sp = eager_extra_bytes(m, job(Precision::mixed_bf16, 2, true), layer, EagerCode::torchtitan);
    CHECK(sp.forward == 6272 / 2);
    CHECK(sp.backward == 13824 / 2);

    // fp32 (a = 4): no casts. RMSNorm 20 + 8 − 8 = 20 forward, 68 + 24 − 12 = 80 backward (× 128);
    // the complex multiply is one fp32 kernel as a fused one would be (0); SwiGLU 8 and 16 (× 160).
    const EagerTraffic f32 = eager_extra_bytes(m, job(Precision::fp32), layer, EagerCode::torchtitan);
    CHECK(f32.forward == 20 * 128 + 8 * 160);
    CHECK(f32.backward == 80 * 128 + 16 * 160);

    // A NoPE layer has no RoPE; an MoE layer's SwiGLU is on top_k × the expert width.
    LayerKind nope;
    nope.rope = false;
    CHECK(eager_extra_bytes(m, job(), nope, EagerCode::torchtitan).forward == 4096 + 640);
    ModelSpec moe = m;
    moe.n_experts = 8;
    moe.top_k = 2;
    moe.moe_d_ff = 32;
    LayerKind moe_layer;
    moe_layer.moe = true;
    CHECK(eager_extra_bytes(moe, job(), moe_layer, EagerCode::torchtitan).forward == 4096 + 1536 + 4 * 2 * 32);
    // Over layer groups: 2 dense layers and 1 NoPE layer, each module summed over the layers.
    const EagerTraffic three = eager_extra_bytes(m, job(), {{layer, 2}, {nope, 1}}, EagerCode::torchtitan);
    CHECK(three.forward == 2 * 6272 + 4096 + 640);
    REQUIRE(three.ops.size() == 3);
    CHECK(three.ops[0].forward == 3 * 4096);
    CHECK(three.ops[1].forward == 2 * 1536);
    CHECK(three.ops[2].backward == 3 * 1280);
}

TEST_CASE("eager element-wise bytes: a GPT-2-shaped layer by hand", "[elementwise]") {
    // LayerNorm (F.layer_norm: one kernel each way), GELU (one kernel), biases inside addmm, learned
    // positions: nothing beyond fused kernels without dropout.
    const ModelSpec m = test::gpt2_like(2, 64, 4, 256, 32, 64);
    const EagerTraffic none = eager_extra_bytes(m, job(), LayerKind{}, EagerCode::transformers);
    CHECK(none.forward == 0);
    CHECK(none.backward == 0);
    CHECK(none.ops.empty());
    // Dropout 0.1 after the attention output and the MLP: the dropped tensor written and read back
    // once more than by a fused bias-dropout-add, 2a = 4 bytes per element forward, on 2 × 64.
    TrainConfig c = job();
    c.dropout = 0.1;
    const EagerTraffic drop = eager_extra_bytes(m, c, LayerKind{}, EagerCode::transformers);
    CHECK(drop.forward == 512);
    CHECK(drop.backward == 0);
    REQUIRE(drop.ops.size() == 1);
    CHECK(drop.ops[0].name == "dropout, then residual add");
}

TEST_CASE("eager element-wise bytes: squared ReLU (relu, then pow), with and without autocast", "[elementwise]") {
    // relu(x)² as transformers' ReLUSquaredActivation and Megatron-LM's squared_relu run it
    // (planner/elementwise.cpp, by hand): forward relu 2a + pow 2f (+ amp's casts 2a + 8), backward
    // PowBackward0 7f + ReluBackward0 3a (+ amp's casts 2a + 8), minus a fused activation's 2a and 3a.
    // Per element of d_ff = 256: amp-bf16 (a 2, f 4): 4 + 8 + 12 = 24 − 4 = 20 forward,
    // 28 + 6 + 12 = 46 − 6 = 40 backward; mixed-bf16 (a = f = 2): 8 − 4 = 4 and 20 − 6 = 14;
    // fp32 (a = f = 4): 16 − 8 = 8 and 40 − 12 = 28.
    ModelSpec m = test::gpt2_like(2, 64, 4, 256, 32, 64);
    m.activation = Activation::relu2;
    struct Case {
        Precision precision;
        double forward, backward;
    };
    for (const Case& k : {Case{Precision::amp_bf16, 20, 40}, Case{Precision::mixed_bf16, 4, 14}, Case{Precision::fp32, 8, 28}}) {
        CAPTURE(to_string(k.precision));
        const EagerTraffic t = eager_extra_bytes(m, job(k.precision), LayerKind{}, EagerCode::transformers);
        CHECK(t.forward == k.forward * 256);
        CHECK(t.backward == k.backward * 256);
        REQUIRE(t.ops.size() == 1);
        CHECK(t.ops[0].name == "squared ReLU (relu, pow)");
    }
    // Tensor parallelism splits d_ff: 256 / 2 per rank. GELU (F.gelu, one kernel) has none of it.
    CHECK(eager_extra_bytes(m, job(Precision::mixed_bf16, 2), LayerKind{}, EagerCode::transformers).forward == 4 * 128);
    m.activation = Activation::gelu;
    CHECK(eager_extra_bytes(m, job(Precision::mixed_bf16), LayerKind{}, EagerCode::transformers).ops.empty());
    // Routed experts: each token's top_k copies of the expert width (here 2 × 64), as for SwiGLU.
    m.activation = Activation::relu2;
    m.n_experts = 4;
    m.top_k = 2;
    m.moe_d_ff = 64;
    CHECK(eager_extra_bytes(m, job(Precision::mixed_bf16), LayerKind{true}, EagerCode::transformers).backward == 14 * 128);
}

TEST_CASE("eager element-wise bytes: transformers' gelu_new, op by op, with and without autocast", "[elementwise]") {
    // 0.5·x·(1 + tanh(c·(x + 0.044715·x³))) as eight kernels (planner/elementwise.cpp, by hand):
    //   forward 4a + 14f (+ amp's two casts 2a + 8), backward 19f + 9a (+ amp's casts 4a + 16),
    //   minus F.gelu's 2a and 3a. Per element of d_ff = 256:
    //   amp-bf16 (a 2, f 4): 76 − 4 = 72 and 118 − 6 = 112; mixed-bf16 (no autocast, a = f = 2):
    //   36 − 4 = 32 and 56 − 6 = 50; fp32 (a = f = 4): 72 − 8 = 64 and 112 − 12 = 100.
    ModelSpec m = test::gpt2_like(2, 64, 4, 256, 32, 64);
    m.gelu_tanh_op_by_op = true;
    struct Case {
        Precision precision;
        double forward, backward;
    };
    for (const Case& k : {Case{Precision::amp_bf16, 72, 112}, Case{Precision::mixed_bf16, 32, 50}, Case{Precision::fp32, 64, 100}}) {
        CAPTURE(to_string(k.precision));
        const EagerTraffic t = eager_extra_bytes(m, job(k.precision), LayerKind{}, EagerCode::transformers);
        CHECK(t.forward == k.forward * 256);
        CHECK(t.backward == k.backward * 256);
        REQUIRE(t.ops.size() == 1);
        CHECK(t.ops[0].name == "GELU tanh (gelu_new, op by op)");
    }
    // Tensor parallelism splits d_ff: 256 / 2 per rank.
    CHECK(eager_extra_bytes(m, job(Precision::amp_bf16, 2), LayerKind{}, EagerCode::transformers).forward == 72 * 128);
    // Under fused kernels (or torch.compile) nothing of it is counted; eager: 2 layers × 256 × (72 + 112)
    // = 94,208 bytes per token.
    TrainConfig c = job(Precision::amp_bf16);
    c.micro_batch = 2;
    c.global_batch = 2;
    const ModelSpec plain = test::gpt2_like(2, 64, 4, 256, 32, 64);
    const GpuSpec& gpu = *find_gpu("a100-80g");
    PerfOptions o;
    o.no_kernel_table = true;
    CHECK(compute_time(plan_memory(m, gpu, c), o).compute_seconds == compute_time(plan_memory(plain, gpu, c), o).compute_seconds);
    o.elementwise = ElementwiseKernels::eager;
    CHECK(compute_time(plan_memory(m, gpu, c), o).eager_extra_bytes_per_token == 94208.0);
    CHECK(compute_time(plan_memory(plain, gpu, c), o).eager_extra_bytes_per_token == 0);
    // The pytorch profile (eager transformers) counts them by default; --elementwise fused or its
    // compile option fuse them.
    c.framework = Framework::pytorch;
    CHECK(elementwise_choice(c, std::nullopt).kernels == ElementwiseKernels::eager);
    CHECK(elementwise_choice(c, std::nullopt).source.find("the pytorch profile without torch.compile") == 0);
    CHECK(elementwise_choice(c, ElementwiseKernels::fused).kernels == ElementwiseKernels::fused);
    o.elementwise.reset();
    CHECK(compute_time(plan_memory(m, gpu, c), o).eager_extra_bytes_per_token == 94208.0);
    c.framework_options = {{"compile", "inductor"}};
    CHECK(elementwise_choice(c, std::nullopt).kernels == ElementwiseKernels::fused);
    CHECK(compute_time(plan_memory(m, gpu, c), o).eager_extra_bytes_per_token == 0);
}

namespace {

// The timed eager jobs below: Llama 3.1 8B-shaped, micro-batch 2 × 2,048 tokens, one GPU.
ModelSpec llama8b_like() { return test::llama_like(32, 4096, 32, 8, 14336, 128256, 8192, "llama-8b-like"); }
TrainConfig llama8b_job() {
    TrainConfig c = job();
    c.micro_batch = 2;
    c.seq = 2048;
    c.global_batch = 2;
    return c;
}

}  // namespace

TEST_CASE("eager element-wise kernels in the step time and fused (the default) unchanged", "[elementwise][perf]") {
    // Llama 3.1 8B-shaped, b 2 × s 2048, one A100 80GB with the catalog efficiencies (no kernel
    // table: the bytes at the datasheet 2.039 TB/s).
    const ModelSpec m = llama8b_like();
    TrainConfig c = llama8b_job();
    const GpuSpec& gpu = *find_gpu("a100-80g");
    PerfOptions fused;
    fused.no_kernel_table = true;
    const MemoryPlan plan = plan_memory(m, gpu, c);
    const ComputeTime base = compute_time(plan, fused);
    CHECK(base.elementwise.kernels == ElementwiseKernels::fused);
    CHECK(base.eager_extra_seconds == 0);
    CHECK(base.rate_sources.elementwise == "fused, the default (fused kernels, as Megatron-LM's that k was fitted on)");
    PerfOptions given_fused = fused;
    given_fused.elementwise = ElementwiseKernels::fused;
    CHECK(compute_time(plan, given_fused).compute_seconds == base.compute_seconds);

    PerfOptions eager = fused;
    eager.elementwise = ElementwiseKernels::eager;
    const ComputeTime e = compute_time(plan, eager);
    // Per token and layer (transformers' code, bf16): norms 2 × 4096 × (32 + 86) = 966,656;
    // RoPE (4096 + 1024) × (16 + 26) = 215,040; SwiGLU 14336 × (4 + 8) = 172,032: 1,353,728 bytes;
    // × 32 layers = 43,319,296 per token; × 4,096 tokens ÷ 2.039e12 B/s = 87.02 ms.
    CHECK(e.eager_extra_bytes_per_token == 43319296.0);
    CHECK(e.eager_extra_seconds == Approx(43319296.0 * 4096 / gpu.memory_bandwidth).epsilon(1e-12));
    CHECK(e.eager_extra_seconds == Approx(0.08702).epsilon(1e-3));
    CHECK(e.compute_seconds == Approx(base.compute_seconds + e.eager_extra_seconds).epsilon(1e-12));
    CHECK(e.matmul_seconds == base.matmul_seconds);
    CHECK(e.rate_sources.elementwise == "eager, --elementwise eager (PyTorch op by op; Hugging Face transformers' modules)");

    // Full recompute runs the forward's eager ops once more: per token and layer, forward, norms
    // 8,192 × 32 = 262,144, RoPE 5,120 × 16 = 81,920, SwiGLU 14,336 × 4 = 57,344: 401,408; the
    // step moves 43,319,296 + 32 × 401,408 = 56,164,352 bytes per token.
    c.recompute = Recompute::full;
    const ComputeTime full = compute_time(plan_memory(m, gpu, c), eager);
    CHECK(full.eager_extra_seconds == Approx((43319296.0 + 32 * 401408.0) * 4096 / gpu.memory_bandwidth).epsilon(1e-12));
}

TEST_CASE("eager element-wise kernels: each module's bandwidth at the size of the tensor it streams", "[elementwise][perf][kernel_table]") {
    // The job above (Llama 3.1 8B-shaped, b 2 × s 2048 = 4,096 tokens, tp 1, bf16 on an A100 80GB)
    // with a kernel table of two copy rows: 32 MiB at 1,000 GB/s and 128 MiB at 2,000 GB/s, linear
    // in log2 bytes between them. Each module's largest tensor per token and its size at 4,096 tokens:
    //   RMSNorm  d 4096 × 4 B (fp32 inside) = 16,384 B -> 64 MiB:  1000 + 1000 × log2(2)/2    = 1,500 GB/s
    //   RoPE     the queries, 4096 × 2 B    =  8,192 B -> 32 MiB:  1,000 GB/s
    //   SwiGLU   14336 × 2 B                = 28,672 B -> 112 MiB: 1000 + 1000 × log2(3.5)/2  = 1,903.68 GB/s
    // Bytes per token and layer (above): 966,656, 215,040 and 172,032; × 32 layers × 4,096 tokens
    // ÷ each rate = 84.47 + 28.19 + 11.84 ms = 124.50 ms. At one 16-bit activation tensor's size
    // (d × 2 B = 32 MiB: 1,000 GB/s) all three would take 177.43 ms.
    const ModelSpec m = llama8b_like();
    TrainConfig c = llama8b_job();
    const GpuSpec& gpu = *find_gpu("a100-80g");
    PerfOptions o;
    o.elementwise = ElementwiseKernels::eager;
    o.kernel_table = std::make_shared<const KernelTable>(parse_kernel_table(
        R"({"schema": "llmplan.kernel-tables/1", "memory_bound": [
              {"op": "copy", "bytes": 33554432, "gbps": 1000}, {"op": "copy", "bytes": 134217728, "gbps": 2000}]})",
        "t.json"));
    const ComputeTime e = compute_time(plan_memory(m, gpu, c), o);
    const auto rate = [](double mib) { return (1000 + 1000 * std::log2(mib / 32) / 2) * 1e9; };
    CHECK(rate(112) == Approx(1903.677e9).epsilon(1e-6));
    const double expected = 32 * 4096 * (966656 / rate(64) + 215040 / rate(32) + 172032 / rate(112));
    CHECK(expected == Approx(0.12450).epsilon(1e-4));
    CHECK(e.eager_extra_seconds == Approx(expected).epsilon(1e-12));
    CHECK(e.eager_extra_bytes_per_token == 43319296.0);  // the bytes are the table-free case's
    // The per-layer modules carry their tensors; the sums over the stage's layers do not.
    const EagerTraffic layer = eager_extra_bytes(m, c, m.layer(0), EagerCode::transformers);
    REQUIRE(layer.ops.size() == 3);
    CHECK(layer.ops[0].tensor_bytes == 4096 * 4);
    CHECK(layer.ops[1].tensor_bytes == 4096 * 2);
    CHECK(layer.ops[2].tensor_bytes == 14336 * 2);
    CHECK(e.eager_modules.front().tensor_bytes == 0);
}

namespace {

test::CliResult plan(std::vector<std::string> extra) {
    std::vector<std::string> args{"plan", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--gpus", "8", "--zero", "3",
                                  "--micro-batch", "1", "--seq", "4096", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(std::move(args));
}

nlohmann::json plan_json(std::vector<std::string> extra) {
    const test::CliResult r = plan(std::move(extra));
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
}

void refused(std::vector<std::string> extra, const std::string& line) {
    const test::CliResult r = plan(std::move(extra));
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "llmplan plan: error: " + line + "\n");
}

}  // namespace

TEST_CASE("plan --elementwise and the torchtitan profile's compile option", "[elementwise][cli]") {
    const nlohmann::json fused = plan_json({});
    CHECK(fused["compute"]["elementwise_kernels"] == "fused");
    CHECK(fused["compute"]["eager_extra_bytes_per_token"] == 0.0);
    CHECK(fused["time"]["eager_extra_seconds"] == 0.0);
    const nlohmann::json eager = plan_json({"--elementwise", "EAGER"});
    CHECK(eager["compute"]["elementwise_kernels"] == "eager");
    CHECK(eager["compute"]["eager_extra_bytes_per_token"] == 43319296.0);  // as in the test above
    CHECK(eager["time"]["eager_extra_seconds"].get<double>() > 0);
    // By module, over the 32 layers: RMSNorm 32 × 8,192 × 32 and 86 × 8,192 × 32; RoPE (rotate_half)
    // 16 × 5,120 × 32 and 26 × 5,120 × 32; SwiGLU 4 × 14,336 × 32 and 8 × 14,336 × 32.
    const nlohmann::json modules = eager["compute"]["eager_extra_bytes_by_module"];
    REQUIRE(modules.size() == 3);
    CHECK(modules[0] == nlohmann::json{{"module", "RMSNorm"}, {"forward_bytes_per_token", 8388608.0}, {"backward_bytes_per_token", 22544384.0}});
    CHECK(modules[1] == nlohmann::json{{"module", "RoPE (rotate_half)"}, {"forward_bytes_per_token", 2621440.0}, {"backward_bytes_per_token", 4259840.0}});
    CHECK(modules[2] == nlohmann::json{{"module", "SwiGLU (silu, mul)"}, {"forward_bytes_per_token", 1835008.0}, {"backward_bytes_per_token", 3670016.0}});
    CHECK_FALSE(fused["compute"].contains("eager_extra_bytes_by_module"));
    CHECK(eager["time"]["step_seconds"].get<double>() ==
          Approx(fused["time"]["step_seconds"].get<double>() + eager["time"]["eager_extra_seconds"].get<double>()).epsilon(1e-9));
    CHECK(plan_json({"--elementwise", "fused"})["time"] == fused["time"]);
    refused({"--elementwise", "fast"}, "--elementwise fast: expected fused (Megatron-LM / Transformer Engine kernels, "
                                       "torch.compile) or eager (PyTorch op by op, no torch.compile)");

    // torchtitan: eager unless compile (its training.compile defaults to false).
    const nlohmann::json tt = plan_json({"--framework", "torchtitan"});
    CHECK(tt["compute"]["elementwise_kernels"] == "eager");
    // torchtitan's complex-multiply RoPE: (4096 + 1024) × (16 + 16) = 163,840 per layer instead of
    // transformers' 215,040: 43,319,296 − 32 × 51,200.
    CHECK(tt["compute"]["eager_extra_bytes_per_token"] == 43319296.0 - 32 * 51200.0);
    CHECK(tt["compute"]["rate_sources"]["elementwise"] ==
          "eager, --framework-option compile=false (torchtitan's default: eager, its RMSNorm, complex-multiply RoPE and "
          "SwiGLU op by op)");
    CHECK(plan_json({"--framework", "torchtitan", "--elementwise", "eager"})["time"] == tt["time"]);
    const nlohmann::json compiled = plan_json({"--framework", "torchtitan", "--framework-option", "compile=true"});
    CHECK(compiled["compute"]["elementwise_kernels"] == "fused");
    CHECK(compiled["time"]["eager_extra_seconds"] == 0.0);
    CHECK(plan_json({"--framework", "torchtitan", "--compile"})["time"] == compiled["time"]);
    refused({"--framework", "torchtitan", "--elementwise", "fused"},
            "--elementwise fused: under --framework torchtitan the element-wise kernels follow --framework-option "
            "compile=false (torchtitan's default: eager, its RMSNorm, complex-multiply RoPE and SwiGLU op by op); "
            "change that setting instead");
    refused({"--framework", "torchtitan", "--framework-option", "compile=yes"},
            "--framework-option compile=yes: choose one of true, false");
    // pytorch: --compile (compile=inductor) fixes fused kernels; without it --elementwise decides.
    const test::CliResult pt = test::run_cli({"plan", "--model", "tinyllama-1.1b", "--framework", "pytorch", "--compile",
                                              "--elementwise", "eager"});
    CHECK(pt.code == 2);
    CHECK(pt.err == "llmplan plan: error: --elementwise eager: under --framework pytorch the element-wise kernels follow "
                    "--framework-option compile=inductor (torch.compile fuses the element-wise ops); change that setting instead\n");
    refused({"--framework", "megatron", "--compile"},
            "--compile: torch.compile is modelled only under --framework pytorch or torchtitan (not megatron)");
}
