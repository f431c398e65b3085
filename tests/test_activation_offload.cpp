// test_activation_offload.cpp — --offload-activations N (Transformer Engine's CPU offloading, as
// Megatron-LM and NeMo run it): what the GPU stops holding, what CPU memory holds, the copies'
// exposed time (docs/MEMORY_MODEL.md §4 and docs/PERFORMANCE_MODEL.md §2, "Activation offloading"),
// the refusals and the imports. Numbers worked out by hand in the comments.
#include "cli_run.h"
#include "core/error.h"
#include "core/gpu.h"
#include "core/job_text.h"
#include "core/presets.h"
#include "planner/activations.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

using namespace llmplan;

namespace {

// llama-2-7b, s 4096, b 1, mixed-bf16, flash attention, no dropout, no recompute, pp 1 (as
// test_memory.cpp's "every term by hand", whose per-layer activations this reuses).
TrainConfig llama_job(int gpus, int offloaded) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.zero = 3;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 2 * gpus;  // two micro-batches per step
    c.offload_activations = offloaded;
    return c;
}

}  // namespace

TEST_CASE("offload-activations: the GPU holds L − N layers, CPU memory the N first", "[offload][memory][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    const StageMemory none = plan_memory(m, gpu, llama_job(8, 0)).worst();
    const StageMemory eight = plan_memory(m, gpu, llama_job(8, 8)).worst();
    // Per layer 16sbh + 6sbf + 4as·b = 539,492,352 B (test_memory.cpp); 32 layers + the final-norm
    // and output-layer inputs 4sbh = 17,330,864,128 B. Offloading layers 0–7 takes 8 × 539,492,352 =
    // 4,315,938,816 B off the GPU and puts them in pinned CPU memory.
    CHECK(none.activations == 17330864128.0);
    CHECK(eight.activations == 17330864128.0 - 4315938816.0);
    CHECK(eight.offloaded_activations == 4315938816.0);
    CHECK(eight.cpu_offload == 4315938816.0);
    CHECK(none.cpu_offload == 0);
    CHECK(eight.peak_allocated == none.peak_allocated - 4315938816.0);
    bool said = false;
    for (const MemoryTerm& t : eight.terms)
        if (t.key == "activations") said = t.formula.find("of layers 0–7 in CPU memory (--offload-activations 8") != std::string::npos;
    CHECK(said);

    // Under --framework megatron (Megatron FSDP with --zero 3) the same activations leave the GPU.
    TrainConfig mc = llama_job(8, 8);
    mc.framework = Framework::megatron;
    TrainConfig mc0 = mc;
    mc0.offload_activations = 0;
    const StageMemory meg = plan_memory(m, gpu, mc).worst(), meg0 = plan_memory(m, gpu, mc0).worst();
    CHECK(meg.activations == meg0.activations - 4315938816.0);
    CHECK(meg.cpu_offload == 4315938816.0);
}

TEST_CASE("offload-activations: the first N layers' own sizes, not the average", "[offload][memory]") {
    // DeepSeek-V3 style: the first dense layers save less than the MoE layers. Offloading exactly the
    // dense ones takes their bytes, which the stage's average would overstate.
    const ModelSpec m = preset_or_throw("deepseek-v3", "t");
    REQUIRE((!m.layer(0).moe && !m.layer(2).moe && m.layer(3).moe));
    TrainConfig c;
    c.parallel.gpus = 256;
    c.parallel.ep = 256;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = 256;
    TrainConfig off = c;
    off.offload_activations = 3;
    const GpuSpec& gpu = gpu_or_throw("h200", "t");
    const StageMemory a = plan_memory(m, gpu, c).worst(), b = plan_memory(m, gpu, off).worst();
    const double dense = saved_bytes(layer_saved_tensors(m, c, Recompute::none, m.layer(0)), activation_shape(c));
    CHECK(b.offloaded_activations == Approx(3 * dense).epsilon(1e-12));
    CHECK(a.activations - b.activations == Approx(3 * dense).epsilon(1e-12));
    CHECK(3 * dense < 3 * a.activations_per_layer);  // the average (MoE layers) is larger
}

TEST_CASE("offload-activations: copies hide behind L − 2 layers, else the excess is exposed", "[offload][perf][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const GpuSpec& gpu = gpu_or_throw("a100-80g", "t");
    auto perf = [&](const TrainConfig& c) { return plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {}); };
    // The A100's host link: PCIe 4.0 x16, 32 GB/s each way × 0.86 sustained = 27.52 GB/s.
    CHECK(gpu.host_link_bandwidth == 32e9);
    CHECK(kHostLinkSustained == 0.86);
    // 8 layers: 4,315,938,816 B → 0.156829 s each way, under 30 layers' forward (≈ 0.26 s): hidden.
    const PerfPlan few = perf(llama_job(8, 8));
    CHECK(few.activation_offload.layers == 8);
    CHECK(few.activation_offload.of == 32);
    CHECK(few.activation_offload.link_bandwidth == Approx(27.52e9).epsilon(1e-15));
    CHECK(few.activation_offload.copy_seconds == Approx(4315938816.0 / 27.52e9).epsilon(1e-12));
    CHECK(few.activation_offload.forward_window == Approx(30.0 / 32 * few.microbatch_forward_seconds).epsilon(1e-12));
    CHECK(few.activation_offload.copy_seconds < few.activation_offload.forward_window);
    CHECK(few.activation_offload.seconds == 0);
    const PerfPlan base = perf(llama_job(8, 0));
    CHECK(base.activation_offload.layers == 0);
    CHECK(few.step_seconds == Approx(base.step_seconds).epsilon(1e-12));
    // 30 layers: 30 × 539,492,352 = 16,184,770,560 B → 0.588109 s each way: beyond the 30 layers'
    // forward, so both directions' excess counts, twice (two micro-batches per step).
    const PerfPlan many = perf(llama_job(8, 30));
    const ActivationOffload& a = many.activation_offload;
    CHECK(a.bytes == 16184770560.0);
    CHECK(a.copy_seconds == Approx(16184770560.0 / 27.52e9).epsilon(1e-12));
    REQUIRE(a.copy_seconds > a.forward_window);
    const double fwd = a.copy_seconds - 30.0 / 32 * many.microbatch_forward_seconds;
    const double bwd = std::max(0.0, a.copy_seconds - 30.0 / 32 * many.microbatch_backward_seconds);
    CHECK(a.seconds == Approx(2 * (fwd + bwd)).epsilon(1e-12));
    CHECK(many.step_seconds == Approx(many.compute_seconds + many.bubble_seconds + many.comm_exposed_seconds +
                                      many.optimizer_seconds + a.seconds).epsilon(1e-12));
    // The same job on a GB200 (NVLink-C2C, 225 GB/s per GPU each way × 0.86): 0.0836 s each way,
    // still beyond its faster layers' forward (≈ 0.04 s), well under their backward.
    const GpuSpec& gb = gpu_or_throw("gb200", "t");
    CHECK(gb.host_link_bandwidth == 225e9);
    const PerfPlan g = plan_perf(plan_memory(m, gb, llama_job(8, 30)), default_cluster(gb, 72), {});
    CHECK(g.activation_offload.copy_seconds == Approx(16184770560.0 / 193.5e9).epsilon(1e-12));
    CHECK(g.activation_offload.copy_seconds < g.activation_offload.backward_window);
    CHECK(g.activation_offload.seconds ==
          Approx(2 * (g.activation_offload.copy_seconds - 30.0 / 32 * g.microbatch_forward_seconds)).epsilon(1e-12));
    CHECK(g.activation_offload.seconds < a.seconds);
}

TEST_CASE("offload-activations: refused where Transformer Engine does not run it", "[offload][errors]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    TrainConfig c = llama_job(8, 8);
    c.parallel.pp = 2;
    c.global_batch = 16;
    CHECK_THROWS_WITH(validate_config(m, c), "--offload-activations 8 with --pp 2: Megatron-Core runs CPU offloading without "
                                             "pipeline parallelism only");
    c = llama_job(8, 8);
    c.recompute = Recompute::selective;
    CHECK_THROWS_WITH(validate_config(m, c), Catch::Contains("without activation recomputation only"));
    c = llama_job(8, 32);
    CHECK_THROWS_WITH(validate_config(m, c), "--offload-activations 32: the llama-2-7b model has 32 layers; at most 31 can be "
                                             "offloaded (Transformer Engine keeps one on the GPU)");
    c = llama_job(8, 8);
    c.framework = Framework::deepspeed;
    CHECK_THROWS_WITH(validate_config(m, c), Catch::Contains("under --framework generic, megatron or megatron-bridge, not deepspeed"));
    CHECK(validate_config(m, llama_job(8, 31)).empty());
    JobText t;
    t.offload_activations = "-3";
    CHECK_THROWS_WITH(train_config_from_text(t, 8), Catch::Contains("--offload-activations"));
}

TEST_CASE("offload-activations: the CLI, the report and Megatron's --cpu-offloading-num-layers", "[offload][cli][imports]") {
    const std::vector<std::string> job = {"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "3", "--seq", "4096",
                                          "--global-batch", "16", "--framework", "megatron", "--json"};
    std::vector<std::string> flags = job;
    flags.insert(flags.end(), {"--offload-activations", "8"});
    const test::CliResult r = test::run_cli(flags);
    INFO(r.err);
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["inputs"]["offload_activations"] == 8);
    CHECK(j["memory"]["per_gpu"]["cpu_offload_bytes"] == 4315938816LL);
    CHECK(j["time"]["activation_offload"]["layers"] == 8);
    CHECK(j["time"]["activation_offload"]["bytes_per_micro_batch"] == 4315938816LL);
    CHECK(j["time"]["activation_offload"]["host_link"] == "PCIe 5.0 x16");
    CHECK(j["time"]["activation_offload_seconds"] == 0);
    // Megatron's own argument gives the same plan.
    const std::string shape = "--num-layers 32 --hidden-size 4096 --ffn-hidden-size 11008 --num-attention-heads 32 --swiglu "
                              "--normalization RMSNorm --position-embedding-type rope --disable-bias-linear "
                              "--untie-embeddings-and-output-weights --seq-length 4096 --max-position-embeddings 4096 "
                              "--padded-vocab-size 32000 --bf16 --hidden-dropout 0 --micro-batch-size 1 --global-batch-size 16 ";
    const test::CliResult imported =
        test::run_cli({"plan", "--gpus", "8", "--zero", "3", "--framework", "megatron", "--megatron-args",
                       shape + "--cpu-offloading-num-layers 8", "--json"});
    INFO(imported.err);
    REQUIRE(imported.code == 0);
    const nlohmann::json ij = nlohmann::json::parse(imported.out);
    CHECK(ij["inputs"]["offload_activations"] == 8);
    CHECK(ij["memory"]["per_gpu"]["activations_bytes"] == j["memory"]["per_gpu"]["activations_bytes"]);
    // 0 (Megatron's default) is no offloading.
    const test::CliResult zero = test::run_cli({"plan", "--gpus", "8", "--megatron-args", shape + "--cpu-offloading-num-layers 0", "--json"});
    REQUIRE(zero.code == 0);
    CHECK(nlohmann::json::parse(zero.out)["inputs"]["offload_activations"] == 0);
    // One line naming the flag.
    flags.back() = "40";
    const test::CliResult bad = test::run_cli(flags);
    CHECK(bad.code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.find("--offload-activations 40: the llama-2-7b model has 32 layers") != std::string::npos);
}

TEST_CASE("offload optimizer: the CPU's optimizer step is said to be outside the model, not guessed", "[offload][perf]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const GpuSpec& gpu = gpu_or_throw("a100-80g", "t");
    TrainConfig c = llama_job(8, 0);
    const PerfPlan on_gpu = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    CHECK_FALSE(on_gpu.optimizer_on_cpu);
    CHECK(on_gpu.optimizer_seconds > 0);
    c.offload = Offload::optimizer;
    const PerfPlan off = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), {});
    CHECK(off.optimizer_on_cpu);
    CHECK(off.optimizer_seconds == 0);
    CHECK(off.step_seconds == Approx(off.compute_seconds + off.bubble_seconds + off.comm_exposed_seconds).epsilon(1e-12));
    bool warned = false;
    for (const std::string& w : validate_config(m, c)) warned = warned || w.find("is not modelled: the step time leaves it out") != std::string::npos;
    CHECK(warned);
    const test::CliResult r = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "3", "--offload", "optimizer"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("optimizer step           not modelled  on the CPU (--offload optimizer") != std::string::npos);
}
