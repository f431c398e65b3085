// test_memory_layers.cpp — training memory of models whose layers differ (dense and MoE layers,
// MLA, shared experts, MTP modules), stage by stage, against sums worked out by hand in the comments.
#include "planner/memory.h"

#include "core/gpu.h"
#include "planner/activations.h"
#include "planner/framework.h"
#include "planner/lora.h"

#include <catch2/catch.hpp>

using namespace llmplan;

namespace {

// A small DeepSeek-style model (as in tests/test_activations.cpp): MLA with q_lora_rank 32,
// kv_lora_rank 16, 4 heads of qk 16 + 8 RoPE and v 16; h 64, SwiGLU, RMSNorm, vocab 1,000, untied;
// layer 0 dense (d_ff 128), layers 1-3 MoE with 8 routed experts of 32 (top-2) and a shared
// expert of 64. Parameters:
//   attention per layer: q_a 32·64 = 2,048, q_a_norm 32, q_b 96·32 = 3,072, kv_a 24·64 = 1,536,
//     kv_a_norm 16, kv_b 128·16 = 2,048, o 64·64 = 4,096 → 12,848; two norms 128
//   dense MLP 3·64·128 = 24,576 → dense layer 37,552
//   MoE: router 8·64 = 512, experts 8·3·64·32 = 49,152, shared 3·64·64 = 12,288 → MoE layer 74,928
//   embedding 64,000; final norm 64; lm_head 64,000.
ModelSpec mla_moe() {
    ModelSpec m;
    m.name = "mla-moe";
    m.family = "deepseek_v3";
    m.n_layers = 4;
    m.d_model = 64;
    m.n_heads = m.n_kv_heads = 4;
    m.head_dim = 8;
    m.d_ff = 128;
    m.vocab_size = 1000;
    m.max_positions = 512;
    m.attention_form = AttentionForm::mla;
    m.mla = MlaShape{32, 16, 16, 8, 16};
    m.n_experts = 8;
    m.top_k = 2;
    m.moe_d_ff = 32;
    m.shared_d_ff = 64;
    const LayerKind dense{false, LayerAttention::global, true}, moe{true, LayerAttention::global, true};
    m.layer_kinds = {dense, moe, moe, moe};
    return m;
}

// s 16, b 1; mixed-bf16, AdamW, flash, no dropout, no recompute; pp 2 over `gpus`.
TrainConfig job(int gpus, int zero, int ep = 1) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.pp = 2;
    c.parallel.zero = zero;
    c.parallel.ep = ep;
    c.seq = 16;
    c.micro_batch = 1;
    return c;
}

const GpuSpec& h100() {
    static const GpuSpec g = gpu_or_throw("h100-sxm", "t");
    return g;
}

double term(const StageMemory& s, const std::string& key) {
    for (const MemoryTerm& t : s.terms)
        if (t.key == key) return t.bytes;
    FAIL("no term " << key);
    return 0;
}

std::string formula(const StageMemory& s, const std::string& key) {
    for (const MemoryTerm& t : s.terms)
        if (t.key == key) return t.formula;
    FAIL("no term " << key);
    return {};
}

}  // namespace

TEST_CASE("MLA + MoE on pp 2: stage 0 holds the dense layer, stage 1 two MoE layers", "[memory][layers][golden]") {
    const MemoryPlan plan = plan_memory(mla_moe(), h100(), job(2, 0));
    REQUIRE(plan.stages.size() == 2);
    const StageMemory& s0 = plan.stages[0];
    const StageMemory& s1 = plan.stages[1];
    CHECK(s0.placement == "embedding + layers 0-1 (1 dense, 1 MoE)");
    CHECK(s1.placement == "layers 2-3 (2 MoE) + final norm + output layer");
    // Stage 0: embedding 64,000 + dense layer 37,552 + MoE layer 74,928 = 176,480.
    CHECK(s0.params_on_gpu == 176480);
    // Stage 1: 2 × 74,928 + final norm 64 + lm_head 64,000 = 213,920.
    CHECK(s1.params_on_gpu == 213920);
    // ZeRO-0, mixed-bf16 + AdamW: 2 + 2 + 4 + 8 bytes per parameter.
    CHECK(s0.parameters == 2.0 * 176480);
    CHECK(s0.optimizer() == 12.0 * 176480);
    // Activations (tests/test_activations.cpp): dense layer 34,304, MoE layer 43,008 per micro-batch.
    // Stage 0 holds 2 micro-batches (1F1B, 2 per step): (34,304 + 43,008) × 2 = 154,624, on average
    // 38,656 per layer over 4 layer·micro-batches.
    CHECK(s0.microbatches_in_flight == 2);
    CHECK(s0.activations_per_layer == 38656.0);
    CHECK(s0.layer_microbatches == 4.0);
    CHECK(s0.activations == 154624.0);
    // Stage 1: one micro-batch of 2 MoE layers 86,016 + final-norm and output-layer inputs 2 × 2,048.
    CHECK(s1.activations_per_layer == 43008.0);
    CHECK(s1.activations == 90112.0);
    CHECK(s1.logits == 64000.0);  // 4 · 16 · 1,000
    CHECK(term(s1, "logits") == 64000.0);
    CHECK(formula(s0, "activations").find("average of 1 × dense layer") != std::string::npos);
}

TEST_CASE("expert parallelism splits routed experts, the shared expert, router and dense layers stay whole", "[memory][layers][golden]") {
    // 4 GPUs = pp 2 × dp 2, ep 2: each rank holds 4 of the 8 experts of each MoE layer.
    const MemoryPlan plan = plan_memory(mla_moe(), h100(), job(4, 1, 2));
    const StageMemory& s0 = plan.stages[0];
    const StageMemory& s1 = plan.stages[1];
    // Stage 0: 176,480 − 49,152 / 2 = 151,904 (24,576 of them routed-expert parameters).
    CHECK(s0.params_on_gpu == 151904);
    // Stage 1: 213,920 − 2 × 49,152 / 2 = 164,768.
    CHECK(s1.params_on_gpu == 164768);
    // ZeRO-1: master and AdamW state of the 127,328 dense parameters over dp·cp = 2, of the 24,576
    // expert parameters over dp·cp/ep = 1: 4 × (63,664 + 24,576) and 8 × (63,664 + 24,576).
    CHECK(s0.parameters == 2.0 * 151904);
    CHECK(s0.gradients == 2.0 * 151904);
    CHECK(s0.master == 4.0 * 88240);
    CHECK(s0.optimizer_states == 8.0 * 88240);
    // Balanced routing: an MoE layer's activations do not depend on ep.
    CHECK(s0.activations == 154624.0);
    // The dropless worst case is reported, not planned: 2× the received tokens and expert tensors
    // (10,240 bytes) of the MoE layer × 2 micro-batches in flight = + 20,480 bytes.
    const LayerKind moe{true, LayerAttention::global, true};
    CHECK(2 * (dropless_worst_case_bytes(plan.model, plan.config, Recompute::none, moe) - 43008.0) == 20480.0);
    CHECK(formula(s0, "activations").find("dropless routing's worst case") != std::string::npos);
    CHECK(formula(s0, "activations").find("min(top_k 2, 4 experts per rank)") != std::string::npos);
}

TEST_CASE("MTP modules on the last stage: parameters, activations, their own logits", "[memory][layers][golden]") {
    ModelSpec m = mla_moe();
    m.mtp_layers = 1;
    const MemoryPlan plan = plan_memory(m, h100(), job(2, 0));
    const StageMemory& s0 = plan.stages[0];
    const StageMemory& s1 = plan.stages[1];
    CHECK(s0.params_on_gpu == 176480);  // nothing of the MTP module on stage 0
    // MTP module: two norms 2 × 64, eh_proj 64 · 128 = 8,192, one MoE layer 74,928, final norm 64 = 83,312.
    CHECK(s1.params_on_gpu == 213920 + 83312);
    CHECK(s1.placement == "layers 2-3 (2 MoE) + final norm + output layer + 1 MTP module");
    // Its activations 53,248 (tests/test_activations.cpp) on top of stage 1's 90,112; logits 2 × 64,000.
    CHECK(s1.activations == 90112.0 + 53248.0);
    CHECK(s1.logits == 128000.0);
    CHECK(s0.activations == 154624.0);
    CHECK(s0.logits == 0);
    // Hugging Face transformers builds no MTP module: under --framework pytorch the plan is of the
    // model without it (the profile's one rule, FrameworkProfile::trained_model).
    CHECK(framework_profile(Framework::pytorch).trained_model(m).mtp_layers == 0);
    CHECK(framework_profile(Framework::generic).trained_model(m).mtp_layers == 1);
    CHECK(plan.model.mtp_layers == 1);
}

TEST_CASE("ZeRO-3 gathers one layer at a time: the largest single layer, not dense + MoE", "[memory][layers][golden]") {
    // pp 2 × dp 2, ZeRO-3, ep 1: stage 0's units are the embedding (64,000), the dense layer (37,552)
    // and the MoE layer (74,928): the MoE layer, 2 × 2 B + 2 B per parameter (the sum of a dense MLP
    // and an MoE MLP in one "layer", 99,504, would overstate it).
    ModelSpec m = mla_moe();
    const MemoryPlan plan = plan_memory(m, h100(), job(4, 3));
    CHECK(plan.stages[0].zero3_gathered == 6.0 * 74928);
    CHECK(formula(plan.stages[0], "zero3_gathered").find("of one MoE layer") != std::string::npos);
    CHECK(plan.stages[1].zero3_gathered == 6.0 * 74928);  // > the output layer, 64,064
    // ep 2 halves the routed experts of a layer (50,352): the embedding becomes the largest unit on
    // stage 0, the output layer (final norm + lm_head, 64,064) on stage 1.
    const MemoryPlan ep2 = plan_memory(m, h100(), job(4, 3, 2));
    CHECK(ep2.stages[0].zero3_gathered == 6.0 * 64000);
    CHECK(formula(ep2.stages[0], "zero3_gathered").find("of the embedding") != std::string::npos);
    CHECK(ep2.stages[1].zero3_gathered == 6.0 * 64064);
    // An MTP module (83,312) is one unit of its own on the last stage.
    m.mtp_layers = 1;
    const MemoryPlan mtp = plan_memory(m, h100(), job(4, 3));
    CHECK(mtp.stages[1].zero3_gathered == 6.0 * 83312);
    CHECK(formula(mtp.stages[1], "zero3_gathered").find("of one MTP module") != std::string::npos);
}

TEST_CASE("LoRA on layers of several kinds: the stage's own layers and adapters", "[memory][layers][lora][golden]") {
    const ModelSpec m = mla_moe();
    LoraConfig l;
    l.rank = 4;
    l.targets = lora_q | lora_v;
    // MLA: q → q_a_proj (64 → 32), q_b_proj (32 → 96); v → kv_a_proj_with_mqa (64 → 24), kv_b_proj
    // (16 → 128): 4 · (96 + 128 + 88 + 144) = 1,824 per layer, 7,296 for the 4 layers.
    const LoraCount qv = count_lora(m, l);
    CHECK(qv.adapter_params == 7296);
    CHECK(qv.description == "q_a_proj, q_b_proj, kv_a_proj_with_mqa, kv_b_proj (r = 4: r·(in + out) each, per layer)");
    // Every linear layer: + o_proj 4 · 128 = 512; dense layer MLP 3 · 4 · (64 + 128) = 2,304;
    // MoE layer 8 experts × 3 · 4 · (64 + 32) = 9,216 and the shared expert 3 · 4 · 128 = 1,536.
    // Dense layer 4,640, MoE layer 13,088: 43,904 in all, 27,648 on routed experts.
    l.targets = parse_lora_targets("all", "--lora-targets");
    const LoraCount all = count_lora(m, l);
    CHECK(all.adapter_params == 43904);
    CHECK(all.expert_adapter_params == 27648);
    // Rank-4 intermediates per token: 8 adapters of the dense layer; 5 attention + 3 shared-expert
    // adapters and the experts' 3 projections seen by top-2 copies of each token in a MoE layer
    // (4 · (8 + 3 · (5 + 3 + 3 · 2)) = 200).
    CHECK(all.intermediates_per_token == 200);

    // The plan, q and v, pp 2, one GPU per stage: stage 0 keeps its own 176,480 frozen parameters
    // (bf16) and the 3,648 adapters of layers 0-1 in fp32, with fp32 gradients and AdamW state.
    TrainConfig c = job(2, 0);
    c.lora.rank = 4;
    c.lora.targets = lora_q | lora_v;
    const MemoryPlan plan = plan_memory(m, h100(), c);
    const StageMemory& s0 = plan.stages[0];
    CHECK(s0.parameters == 2.0 * 176480 + 4.0 * 3648);
    CHECK(s0.gradients == 4.0 * 3648);
    CHECK(s0.optimizer() == 8.0 * 3648);
    CHECK(plan.stages[1].parameters == 2.0 * 213920 + 4.0 * 3648);
    // Activations: each adapter's rank-4 output, 4 per layer × 16 tokens × 4 × 2 B = 512 bytes per layer.
    CHECK(s0.activations == 154624.0 + 2 * 2 * 512.0);
}

TEST_CASE("interleaved stages hold their model chunks' layers", "[memory][layers]") {
    // 8 layers, pp 2, v 2: stage 0 holds chunks 0 and 2 (layers 0-1, 4-5), stage 1 chunks 1 and 3.
    ModelSpec m = mla_moe();
    m.n_layers = 8;
    const LayerKind dense{false, LayerAttention::global, true}, moe{true, LayerAttention::global, true};
    m.layer_kinds = {dense, dense, moe, moe, moe, moe, moe, moe};
    ParallelLayout p;
    p.gpus = 2;
    p.pp = 2;
    p.virtual_stages = 2;
    const std::vector<LayerRange> r0 = stage_layer_ranges(m, p, 0);
    REQUIRE(r0.size() == 2);
    CHECK((r0[0].first == 0 && r0[0].count == 2 && r0[1].first == 4 && r0[1].count == 2));
    const std::vector<LayerGroup> g0 = stage_layer_groups(m, p, 0);
    REQUIRE(g0.size() == 2);
    CHECK((g0[0].kind == dense && g0[0].count == 2 && g0[1].kind == moe && g0[1].count == 2));
    TrainConfig c = job(2, 0);
    c.parallel.virtual_stages = 2;
    const MemoryPlan plan = plan_memory(m, h100(), c);
    CHECK(plan.stages[0].placement == "embedding + layers 0-1, 4-5 (2 dense, 2 MoE)");
    // Stage 0: embedding 64,000 + 2 dense 37,552 + 2 MoE 74,928 = 288,960.
    CHECK(plan.stages[0].params_on_gpu == 288960);
}
