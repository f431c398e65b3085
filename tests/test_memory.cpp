// test_memory.cpp — whole memory plans, checked against sums worked out by hand in the comments
// (model states from docs/REFERENCES.md §1, activations per tensor as in test_activations.cpp).
#include "planner/memory.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "planner/model_states.h"

#include <catch2/catch.hpp>

using namespace llmplan;

namespace {

TrainConfig llama_job(int gpus, int zero) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.zero = zero;
    c.seq = 4096;
    c.micro_batch = 1;
    return c;  // mixed-bf16, AdamW, flash attention, no dropout, no recompute
}

double term(const StageMemory& s, const std::string& key) {
    for (const MemoryTerm& t : s.terms)
        if (t.key == key) return t.bytes;
    FAIL("no term " << key);
    return 0;
}

}  // namespace

TEST_CASE("llama-2-7b on 8 H100s with ZeRO-3: every term by hand", "[memory][golden]") {
    const MemoryPlan plan = plan_memory(preset_or_throw("llama-2-7b", "t"), gpu_or_throw("h100-sxm", "t"), llama_job(8, 3));
    const StageMemory& s = plan.worst();
    // 6,738,415,616 params; shard ceil(/8) = 842,301,952.
    CHECK(plan.params.total() == 6738415616);
    CHECK(s.parameters == 842301952.0 * 2);
    CHECK(s.gradients == 842301952.0 * 2);
    CHECK(s.optimizer() == 842301952.0 * 12);
    // Per layer (flash, no dropout, SwiGLU, MHA): 16sbh + 6sbf + 4as·b = 539,492,352; × 32 layers
    // + final-norm and output-layer inputs 4sbh = 17,330,864,128.
    CHECK(s.activations_per_layer == 539492352.0);
    CHECK(s.activations == 17330864128.0);
    CHECK(s.logits == 524288000.0);  // 4 · 4096 · 32000
    // Largest gather unit is a layer (202,383,360 params): 2 × 2 B + 2 B per param.
    CHECK(s.zero3_gathered == 6.0 * 202383360);
    CHECK(s.communication_buffers == 0);
    CHECK(s.peak_phase == "forward_end");
    CHECK(s.peak_allocated == 32546283520.0);
    CHECK(s.reserved_estimate == Approx(32546283520.0 * 1.05));
    CHECK(s.device_total == Approx(32546283520.0 * 1.05 + 768.0 * 1024 * 1024));
    CHECK(plan.fits);
    CHECK(plan.capacity_bytes == 85017493504.0);
    CHECK(term(s, "parameters") == s.parameters);
    CHECK(plan.warnings.empty());
}

TEST_CASE("model states of a plan agree with the ZeRO closed form", "[memory]") {
    const ModelSpec m = preset_or_throw("llama-2-13b", "t");
    const double psi = static_cast<double>(count_params(m).total());
    for (int zero = 0; zero <= 3; ++zero) {
        const MemoryPlan plan = plan_memory(m, gpu_or_throw("a100-80g", "t"), llama_job(64, zero));
        const StageMemory& s = plan.worst();
        const ModelStateBytes closed = model_state_bytes(psi, Precision::mixed_bf16, Optimizer::adamw, zero, 64);
        INFO("ZeRO-" << zero);
        CHECK(s.parameters + s.gradients + s.optimizer() == Approx(closed.total()).epsilon(1e-9));
    }
}

TEST_CASE("pipeline: the first stage holds p micro-batches, the last the logits (1F1B)", "[memory][golden]") {
    TrainConfig c = llama_job(8, 0);
    c.parallel.tp = 2;
    c.parallel.pp = 4;  // dp 1; default 4 micro-batches per step
    const MemoryPlan plan = plan_memory(preset_or_throw("llama-2-7b", "t"), gpu_or_throw("h100-sxm", "t"), c);
    REQUIRE(plan.stages.size() == 4);
    const StageMemory& first = plan.stages[0];
    const StageMemory& last = plan.stages[3];
    // Per layer with tp 2 (no sp): replicated 8sbh + split (q, k, v, o, lse, 3 MLP tensors)/2 = 336,855,040.
    CHECK(first.activations_per_layer == 336855040.0);
    CHECK(first.microbatches_in_flight == 4);
    CHECK(first.activations == 336855040.0 * 8 * 4);
    CHECK(last.microbatches_in_flight == 1);
    CHECK(last.activations == 336855040.0 * 8 + 4.0 * 4096 * 4096);
    CHECK(last.logits == 4.0 * 4096 * 16000);
    // Stage 0: embedding (16,000 × 4096 per rank) + 8 layers (÷ tp, norms replicated) = 875,102,208 params.
    CHECK(first.params_on_gpu == 875102208);
    CHECK(last.params_on_gpu == 875106304);  // + final norm + lm_head instead of the embedding
    CHECK(first.peak_allocated == 24848105472.0);  // 16 B/param + activations + p2p buffers 2·2sbh
    CHECK(plan.worst_stage == 0);
}

TEST_CASE("interleaved pipeline: stage 0 holds L·(1 + (p−1)/(p·v)) layer activations", "[memory][golden]") {
    TrainConfig c = llama_job(8, 0);
    c.parallel.pp = 4;
    c.parallel.tp = 2;
    c.parallel.virtual_stages = 2;
    c.global_batch = 8;  // 8 micro-batches per step
    const MemoryPlan plan = plan_memory(preset_or_throw("llama-2-7b", "t"), gpu_or_throw("h100-sxm", "t"), c);
    // Korthikanti §4.2.3: 32 · (1 + 3/8) = 44 layer·micro-batches.
    CHECK(plan.stages[0].layer_microbatches == 44.0);
}

TEST_CASE("recompute: full keeps 2sbh per layer and rematerialises one layer in backward", "[memory]") {
    TrainConfig c = llama_job(8, 3);
    c.recompute = Recompute::full;
    const MemoryPlan plan = plan_memory(preset_or_throw("llama-2-7b", "t"), gpu_or_throw("h100-sxm", "t"), c);
    const StageMemory& s = plan.worst();
    CHECK(s.activations_per_layer == 2.0 * 4096 * 4096);
    CHECK(s.recompute_working == 539492352.0);
    CHECK(s.peak_phase == "backward");
    CHECK(s.temporary == 539492352.0);
}

TEST_CASE("offload: optimizer state to the CPU, and parameters too with ZeRO-3", "[memory]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    TrainConfig c = llama_job(8, 2);
    c.offload = Offload::optimizer;
    const MemoryPlan p2 = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    // ZeRO-2 + optimizer offload: GPU keeps the bf16 weights; the shard's master, m, v and fp32 grads go to CPU.
    CHECK(p2.worst().parameters == 6738415616.0 * 2);
    CHECK(p2.worst().optimizer() == 0);
    CHECK(p2.worst().gradients == 0);
    CHECK(p2.worst().cpu_offload == 842301952.0 * (4 + 8 + 4));
    c.parallel.zero = 3;
    c.offload = Offload::optimizer_params;
    const MemoryPlan p3 = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    CHECK(p3.worst().parameters == 0);
    CHECK(p3.worst().cpu_offload == 842301952.0 * (4 + 8 + 4 + 2));
    c.parallel.zero = 2;
    CHECK_THROWS_WITH(plan_memory(m, gpu_or_throw("h100-sxm", "t"), c), Catch::Contains("--offload optimizer+params needs --zero 3"));
}

TEST_CASE("fits, headroom and the largest micro-batch", "[memory]") {
    const ModelSpec m = preset_or_throw("gpt2-124m", "t");
    GpuSpec gpu = gpu_or_throw("rtx-4090", "t");
    TrainConfig c;
    c.seq = 1024;
    const MemoryPlan plan = plan_memory(m, gpu, c);
    REQUIRE(plan.fits);
    REQUIRE(plan.max_micro_batch > 1);
    CHECK(plan.headroom_bytes == Approx(plan.capacity_bytes - plan.worst().device_total));
    // The reported maximum fits and one more does not.
    c.micro_batch = plan.max_micro_batch;
    CHECK(plan_memory(m, gpu, c).fits);
    c.micro_batch = plan.max_micro_batch + 1;
    CHECK_FALSE(plan_memory(m, gpu, c).fits);
    // A 70B model on one 80 GB card does not fit at all.
    const MemoryPlan big = plan_memory(preset_or_throw("llama-2-70b", "t"), gpu_or_throw("h100-sxm", "t"), TrainConfig{});
    CHECK_FALSE(big.fits);
    CHECK(big.max_micro_batch == 0);
    CHECK(big.headroom_bytes < 0);
}

TEST_CASE("mixture of experts: experts split by expert parallelism and sharded over dp·cp/ep", "[memory]") {
    const ModelSpec m = preset_or_throw("mixtral-8x7b", "t");
    TrainConfig c = llama_job(8, 1);
    c.parallel.ep = 8;
    const MemoryPlan plan = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    const ParamBreakdown b = count_params(m);
    // Each rank holds 1 of 8 experts per layer and everything else.
    const std::int64_t expert_params = 32LL * 8 * 3 * 4096 * 14336;
    CHECK(plan.worst().params_on_gpu == b.total() - expert_params + expert_params / 8);
    CHECK(plan.worst().parameters == 2.0 * static_cast<double>(plan.worst().params_on_gpu));
}

TEST_CASE("invalid combinations name the flag", "[memory][errors]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const GpuSpec gpu = gpu_or_throw("h100-sxm", "t");
    TrainConfig c = llama_job(8, 0);
    c.parallel.tp = 3;
    c.parallel.gpus = 6;
    CHECK_THROWS_WITH(plan_memory(m, gpu, c), Catch::Contains("--tp 3 does not divide the 32 attention heads"));
    c = llama_job(6, 0);
    c.parallel.tp = 4;
    CHECK_THROWS_WITH(plan_memory(m, gpu, c), Catch::Contains("--gpus 6 is not divisible by tp × pp × cp = 4"));
    c = llama_job(1, 3);
    CHECK(plan_memory(m, gpu, c).warnings.at(0).find("ZeRO-3 on a single data-parallel rank") != std::string::npos);
}

TEST_CASE("mixture of experts with expert tensor parallelism: experts split over etp, sharded over tp·cp·dp/(etp·ep)",
          "[memory][moe]") {
    // Mixtral 8x7B on 16 GPUs, tp 2 (sequence parallel), dp 8, ZeRO-1.
    const ModelSpec m = preset_or_throw("mixtral-8x7b", "t");
    TrainConfig c = llama_job(16, 1);
    c.parallel.tp = 2;
    c.parallel.sp = true;
    const std::int64_t expert_params = 32LL * 8 * 3 * 4096 * 14336;  // routed experts of all layers
    // etp = tp (default): ep 8 within dp 8; each rank 1 expert per layer, split over tp 2.
    c.parallel.ep = 8;
    CHECK(c.parallel.expert_tp() == 2);
    CHECK(c.parallel.expert_shard_group() == 1);  // tp 2 · dp 8 ÷ (etp 2 · ep 8)
    const StageMemory a = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c).worst();
    CHECK(a.expert_params_on_gpu == expert_params / 8 / 2);
    // etp 1 (folding): ep 8 over tp 2 × dp 8 = 16 ranks leaves an expert data-parallel group of 2;
    // each rank holds 1 whole expert per layer, twice the etp = tp share.
    c.parallel.etp = 1;
    CHECK(c.parallel.expert_shard_group() == 2);
    const StageMemory b = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c).worst();
    CHECK(b.expert_params_on_gpu == expert_params / 8);
    CHECK(b.params_on_gpu - b.expert_params_on_gpu == a.params_on_gpu - a.expert_params_on_gpu);  // dense: ÷ tp either way
    // Adam's fp32 master + 2 states (12 B) of the experts shard over that group of 2, the dense over dp 8.
    const double dense = static_cast<double>(b.params_on_gpu - b.expert_params_on_gpu);
    CHECK(b.optimizer() == Approx(12 * (dense / 8 + static_cast<double>(b.expert_params_on_gpu) / 2)).epsilon(1e-6));
    // ep 16 with etp 1: every rank its own half-expert set, no expert data parallelism.
    c.parallel.ep = 16;
    CHECK_THROWS_WITH(plan_memory(m, gpu_or_throw("h100-sxm", "t"), c), Catch::Contains("--ep 16 does not divide the 8 experts"));
}
