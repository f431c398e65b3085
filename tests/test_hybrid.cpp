// test_hybrid.cpp — hybrid Mamba-2 / attention / MoE models (NVIDIA Nemotron-H and Nemotron 3, as
// Megatron-Core builds them; docs/MODEL_FAMILIES.md, "Hybrid Mamba models"): the layer pattern, the
// exact parameter inventory, the FLOPs, the saved tensors, the tensor-parallel blocks, the
// Hugging Face reader and the refusals. Every number is worked out by hand in the comments.
#include "cli_run.h"
#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"
#include "core/json.h"
#include "core/presets.h"
#include "planner/activations.h"
#include "planner/flops.h"
#include "planner/infer.h"
#include "planner/lora.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

using namespace llmplan;

namespace {

// Nemotron 3 Nano 30B-A3B's sizes (models/nemotron-3-nano-30b-a3b.json): d 2688; Mamba 64 heads ×
// 64 (d_inner 4096), state N 128, G 8 groups, conv 4, chunk 128; attention 32 heads, 2 kv heads ×
// 128; 128 experts of 1856 top-6, shared 3712, squared ReLU; vocab 131072; 23 M, 6 *, 23 E.
const ModelSpec& nano() {
    static const ModelSpec m = preset_or_throw("nemotron-3-nano", "t");
    return m;
}

TrainConfig nano_job(int gpus, int tp, bool sp) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.tp = tp;
    c.parallel.sp = sp;
    c.parallel.ep = 8;
    c.parallel.zero = 1;
    c.seq = 8192;
    c.micro_batch = 1;
    c.global_batch = gpus / tp;  // one micro-batch per rank
    c.precision = Precision::mixed_bf16;
    return c;
}

}  // namespace

TEST_CASE("hybrid: Megatron-Core's layer pattern reads M, *, - and E", "[hybrid][model]") {
    const std::vector<LayerKind> k = hybrid_layer_kinds("M*-E", "t");
    REQUIRE(k.size() == 4);
    CHECK((k[0].has_mamba() && !k[0].ffn));
    CHECK((k[1].has_attention() && !k[1].ffn));
    CHECK((k[2].mixer == Mixer::none && k[2].dense_mlp()));
    CHECK((k[3].mixer == Mixer::none && k[3].moe_mlp()));
    CHECK(hybrid_layer_kinds("M|E", "t").size() == 2);  // a pipeline-stage separator is not a layer
    CHECK_THROWS_WITH(hybrid_layer_kinds("MEX", "cfg"), Catch::Contains("'X' at position 3"));
    CHECK_THROWS_WITH(hybrid_layer_kinds("", "cfg"), Catch::Contains("empty"));
    const ModelSpec& m = nano();
    CHECK(m.hybrid());
    CHECK(hybrid_layer_pattern(m) == "MEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEM*EMEMEMEM*EMEMEMEME");
    CHECK(layers_in_set(m, LayerSet::mamba, 0, 52) == 23);
    CHECK(layers_in_set(m, LayerSet::attention, 0, 52) == 6);
    CHECK(layers_in_set(m, LayerSet::moe, 0, 52) == 23);
    CHECK(layers_in_set(m, LayerSet::dense, 0, 52) == 0);
    CHECK(layers_in_set(m, LayerSet::ffn, 0, 52) == 23);
}

TEST_CASE("hybrid: Nemotron 3 Nano's parameters, tensor by tensor", "[hybrid][model][golden]") {
    const ParamBreakdown b = count_params(nano());
    // Mamba layer: pre-norm 2688 + in_proj 2688 × (2·4096 + 2·8·128 + 64 = 10304) = 27,697,152 + conv1d
    // (4096 + 2048) × 4 = 24,576 and its bias 6,144 + dt_bias, A_log, D 3 × 64 = 192 + gated-norm
    // weight 4096 + out_proj 4096 × 2688 = 11,010,048: 38,744,896, of which 38,738,112 in `mamba`
    // (the two norms' 6,784 in `norm`). × 23.
    CHECK(b.mamba == 23LL * (27697152 + 24576 + 6144 + 192 + 11010048));
    // Attention layer: q 4096 × 2688 + k, v 256 × 2688 each + o 2688 × 4096 = 23,396,352. × 6.
    CHECK(b.attention == 6LL * 23396352);
    // MoE layer: router 128 × 2688 = 344,064; experts 128 × 2 × 1856 × 2688 = 1,277,165,568; shared
    // 2 × 3712 × 2688 = 19,955,712. × 23.
    CHECK(b.routed_experts == 23LL * 1277165568);
    CHECK(b.shared_experts == 23LL * 19955712);
    CHECK(b.router == 23LL * 344064);
    CHECK(b.mlp_dense == 0);
    // Norms: 52 pre-norms of 2688 + 23 gated norms of 4096 + the final norm 2688.
    CHECK(b.norm == 52LL * 2688 + 23LL * 4096 + 2688);
    CHECK(b.embedding == 131072LL * 2688);
    CHECK(b.head == 131072LL * 2688);
    // 31,577,937,344 in all (the model card: 31.6B).
    CHECK(b.total() == 31577937344LL);
    // Active: all but 122 of 128 experts' share of each MoE layer: 31,577,937,344 − 23 × 122/128 ×
    // 1,277,165,568 = 31,577,937,344 − 23 × 1,217,298,432 = 31,577,937,344 − 27,997,863,936.
    CHECK(b.active == 3580073408LL);
}

TEST_CASE("hybrid: FLOPs of a Mamba-2 layer and of the whole model", "[hybrid][flops][golden]") {
    const ModelSpec& m = nano();
    const ForwardFlops mamba = layer_forward_flops(m, m.layer(0), 8192);
    // in_proj 2 × 2688 × 10304 = 55,394,304 + out_proj 2 × 4096 × 2688 = 22,020,096.
    CHECK(mamba.mamba_proj == 77414400.0);
    // SSD, chunk 128: 2·G·Q·N = 2·8·128·128 = 262,144; 2·H·Q·P = 2·64·128·64 = 1,048,576; 4·H·N·P =
    // 4·64·128·64 = 2,097,152.
    CHECK(mamba.ssm == 3407872.0);
    CHECK(mamba.qkv == 0);
    CHECK(mamba.attention == 0);
    CHECK(mamba.mlp == 0);
    const ForwardFlops moe = layer_forward_flops(m, m.layer(1), 8192);
    // top-6 experts 6 × 2 × 2 × 2688 × 1856 + shared 2 × 2 × 2688 × 3712 + router 2 × 2688 × 128.
    CHECK(moe.mlp == 6.0 * 4 * 2688 * 1856 + 4.0 * 2688 * 3712 + 2.0 * 2688 * 128);
    CHECK(moe.qkv == 0);
    CHECK(moe.mamba_proj == 0);
    const ForwardFlops attn = layer_forward_flops(m, m.layer(5), 8192);
    // q, k, v 2 × 2688 × (4096 + 512) = 24,772,608; o 2 × 4096 × 2688; scores and values 2 × (4096 +
    // 4096) × (8192 + 1)/2 keys.
    CHECK(attn.qkv == 24772608.0);
    CHECK(attn.output_proj == 22020096.0);
    CHECK(attn.attention == 2.0 * 8192 * 8193 / 2);
    CHECK(attn.mlp == 0);
    const ForwardFlops all = forward_flops_per_token(m, 8192);
    CHECK(all.mamba_proj == 23 * 77414400.0);
    CHECK(all.ssm == 23 * 3407872.0);
    CHECK(all.total() == Approx(23 * (77414400.0 + 3407872.0) + 23 * moe.mlp + 6 * (attn.qkv + attn.output_proj + attn.attention) +
                                2.0 * 2688 * 131072)
                             .epsilon(1e-12));
}

TEST_CASE("hybrid: what a Mamba layer keeps for the backward", "[hybrid][activations][golden]") {
    const ModelSpec& m = nano();
    TrainConfig c = nano_job(8, 1, false);
    // Per token, bf16: layer input 2d + pre-norm output 2d + rsigma 4 + zxbcdt 2 × 10304 + scan output,
    // gated-norm input and out_proj input 3 × 2 × 4096 + gated-norm rstd 4 × 8 groups:
    // 10,752 + 4 + 20,608 + 24,576 + 32 = 55,972 B, × 8192 tokens = 458,522,624 B.
    const double mamba = saved_bytes(layer_saved_tensors(m, c, Recompute::none, m.layer(0)), activation_shape(c));
    CHECK(mamba == 458522624.0);
    // An attention-only layer keeps no MLP tensors; an MoE-only layer no attention tensors.
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, m.layer(5)))
        CHECK((t.name.rfind("attention.", 0) == 0));
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, m.layer(1)))
        CHECK((t.name.rfind("attention.", 0) != 0 && t.name.rfind("mamba.", 0) != 0));
    // Tensor parallelism 2 with sequence parallelism divides every one of them by 2.
    TrainConfig c2 = nano_job(8, 2, true);
    CHECK(saved_bytes(layer_saved_tensors(m, c2, Recompute::none, m.layer(0)), activation_shape(c2)) == 458522624.0 / 2);
    // Full recompute keeps the layer input alone, whatever the kind: 2 × 2688 × 8192.
    CHECK(saved_bytes(layer_saved_tensors(m, c, Recompute::full, m.layer(0)), activation_shape(c)) == 2.0 * 2688 * 8192);
}

TEST_CASE("hybrid: one tensor-parallel block per layer, shared experts their own", "[hybrid][perf][golden]") {
    const ModelSpec& m = nano();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    const MemoryPlan plan = plan_memory(m, gpu, nano_job(16, 2, true));
    const ComputeTime t = compute_time(plan, PerfOptions{});
    // Blocks: 29 mixers (23 Mamba + 6 attention) + 0 dense MLPs + 23 shared experts = 52; one
    // all-gather per block forward and one backward: 104 per micro-batch (one micro-batch per step).
    bool found = false;
    for (const CollectiveUse& u : step_collectives(plan, default_cluster(gpu, 8), PerfOptions{}, t))
        if (u.purpose == "sequence-parallel all-gather") {
            found = true;
            CHECK(u.count == 104);
        }
    CHECK(found);
    // The SSD scans: 23 × 3,407,872 FLOPs per token × 8192 tokens ÷ tp 2 at 0.079 of 989.4 TFLOP/s
    // (the H100 is the reference peak), forward 1 + backward 3.5 × its time.
    const double ssm = 23 * 3407872.0 * 8192 / 2;
    CHECK(kSsdScanEfficiency == 0.079);
    CHECK(kSsdBackwardFactor == 3.5);
    CHECK(t.ssm_seconds == Approx(4.5 * ssm / (gpu.peak_bf16 * 0.079)).epsilon(1e-9));
    CHECK(t.ssm_forward_seconds == Approx(ssm / (gpu.peak_bf16 * kSsdScanEfficiency)).epsilon(1e-9));
    CHECK(t.rate_sources.ssm.find("SSD") != std::string::npos);
}

TEST_CASE("hybrid: context parallelism's head-parallel all-to-all over the Mamba layers", "[hybrid][perf][golden]") {
    // Megatron-Core's Mamba context parallelism (mamba_context_parallel.py): 16 GPUs, ep 8, cp 2,
    // tp 1: each rank holds 8192 ÷ 2 = 4096 tokens. Per Mamba layer and micro-batch (one per rank
    // here) the in_proj output z, x (4096 each), B, C (8 groups × 128 each) and dt (64 heads) —
    // 10,304 values per token, 2 bytes — goes to the ranks of its heads: 4096 × 10,304 × 2 =
    // 84,410,368 bytes; the scan's d_inner 4096 comes back: 4096 × 4096 × 2 = 33,554,432 bytes.
    // Forward and backward: 2 calls of each per layer, 23 Mamba layers: 46. The ring exchange of K
    // and V runs over the 6 attention layers only: 3 × (cp − 1) × 6 = 18 calls of 4096 × 2 kv heads
    // × 128 × 2 (K, V) × 2 bytes = 4,194,304.
    const ModelSpec& m = nano();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    TrainConfig c = nano_job(16, 1, false);
    c.parallel.cp = 2;
    c.global_batch = 8;
    auto collectives = [&](const TrainConfig& job) {
        const MemoryPlan plan = plan_memory(m, gpu, job);
        return step_collectives(plan, default_cluster(gpu, 8), PerfOptions{}, compute_time(plan, PerfOptions{}));
    };
    auto find = [](const std::vector<CollectiveUse>& all, const std::string& start) -> const CollectiveUse& {
        for (const CollectiveUse& u : all)
            if (u.purpose.rfind(start, 0) == 0) return u;
        FAIL("no collective " << start);
        return all.front();
    };
    const std::vector<CollectiveUse> all = collectives(c);
    const CollectiveUse& in = find(all, "context-parallel all-to-all of the Mamba in_proj output");
    CHECK(in.kind == Collective::all_to_all);
    CHECK(in.group == 2);
    CHECK(in.bytes == 84410368.0);
    CHECK(in.count == 46);
    CHECK(in.exposed_seconds == in.seconds);
    const CollectiveUse& out = find(all, "context-parallel all-to-all of the Mamba scan output");
    CHECK(out.bytes == 33554432.0);
    CHECK(out.count == 46);
    const CollectiveUse& ring = find(all, "context-parallel ring exchange");
    CHECK(ring.bytes == 4194304.0);
    CHECK(ring.count == 18);
    // Tensor parallelism 2 and cp 8: 4 groups per tensor-parallel rank, fewer than cp, so B and C
    // are repeated 8 ÷ 4 = 2 times before the exchange: 2 × 4096 ÷ 2 + 2 × 4 × 2 × 128 + 64 ÷ 2 =
    // 6,176 values per token of the rank's 8192 ÷ 8 = 1024 tokens, 2 bytes: 12,648,448 bytes.
    TrainConfig c8 = nano_job(64, 2, true);
    c8.parallel.cp = 8;
    c8.global_batch = 4;
    CHECK(find(collectives(c8), "context-parallel all-to-all of the Mamba in_proj output").bytes == 1024.0 * 6176 * 2);
    // Full recompute runs the forward's pair again: 3 calls of each per layer.
    TrainConfig full = c;
    full.recompute = Recompute::full;
    CHECK(find(collectives(full), "context-parallel all-to-all of the Mamba in_proj output").count == 69);
}

TEST_CASE("hybrid: LoRA adapters by layer kind, the Mamba projections as in_proj and out_proj", "[hybrid][lora][golden]") {
    // Megatron Bridge's Nemotron 3 Nano LoRA recipe targets linear_qkv, linear_proj, linear_fc1,
    // linear_fc2, in_proj and out_proj: "all" here. r 16, r·(in + out) per adapter:
    //   Mamba layer: in_proj 2688 → 10,304: 16 × 12,992 = 207,872; out_proj 4096 → 2688: 108,544;
    //     316,416 × 23 layers = 7,277,568;
    //   attention layer: q 2688 → 4096: 108,544; k, v 2688 → 256: 47,104 each; o 4096 → 2688:
    //     108,544; 311,296 × 6 = 1,867,776;
    //   MoE layer: each of 128 experts' up and down (squared ReLU: no gate) 2688 ↔ 1856: 72,704 × 2
    //     × 128 = 18,612,224, the shared expert's 2688 ↔ 3712: 102,400 × 2 = 204,800; × 23 =
    //     432,791,552.
    // Total 441,936,896, of which the routed experts' 23 × 18,612,224 = 428,081,152.
    const ModelSpec& m = nano();
    LoraConfig lora;
    lora.rank = 16;
    lora.targets = parse_lora_targets("all", "t");
    CHECK(lora_targets_string(lora.targets) == "q,k,v,o,gate,up,down,in_proj,out_proj");
    const LoraCount all = count_lora(m, lora);
    CHECK(all.adapter_params == 441936896.0);
    CHECK(all.expert_adapter_params == 428081152.0);
    // PEFT's default q,v adapts the 6 attention layers only: 6 × (108,544 + 47,104) = 933,888.
    lora.targets = lora_q | lora_v;
    CHECK(count_lora(m, lora).adapter_params == 933888.0);
    // The mixer projections alone: 7,277,568; "in_proj" and "out_proj" parse as given.
    lora.targets = parse_lora_targets("in_proj, out_proj", "t");
    CHECK(lora.targets == (lora_in_proj | lora_out_proj));
    CHECK(count_lora(m, lora).adapter_params == 7277568.0);
    // Planned under Megatron: the frozen base, the adapters' states; the step plans.
    TrainConfig c = nano_job(8, 1, false);
    c.framework = Framework::megatron;
    c.lora = lora;
    const MemoryPlan plan = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    CHECK(plan.fits);
    // The frozen base's backward computes input gradients only: a faster step than full training's.
    const GpuSpec& h100 = gpu_or_throw("h100-sxm", "t");
    TrainConfig full = c;
    full.lora = LoraConfig{};
    const double tuned = plan_perf(plan, default_cluster(h100, 8), {}).step_seconds;
    CHECK(std::isfinite(tuned));
    CHECK(tuned < plan_perf(plan_memory(m, h100, full), default_cluster(h100, 8), {}).step_seconds);
}

TEST_CASE("hybrid: the Hugging Face nemotron_h config, and what it cannot say", "[hybrid][hf]") {
    nlohmann::json cfg = {{"model_type", "nemotron_h"},      {"hidden_size", 1024},        {"vocab_size", 1000},
                          {"num_attention_heads", 8},        {"num_key_value_heads", 2},   {"head_dim", 128},
                          {"intermediate_size", 4096},       {"mamba_num_heads", 32},      {"mamba_head_dim", 64},
                          {"ssm_state_size", 128},           {"n_groups", 4},              {"conv_kernel", 4},
                          {"hybrid_override_pattern", "M-M*-"}, {"num_hidden_layers", 5}};
    const ModelSpec m = model_from_hf_config(cfg, "t");
    CHECK(m.n_layers == 5);
    CHECK(m.position == PositionEmbedding::none);
    CHECK(m.activation == Activation::relu2);
    CHECK(m.mamba.d_inner() == 2048);
    CHECK(m.mamba.groups == 4);
    CHECK(hybrid_layer_pattern(m) == "M-M*-");
    CHECK(count_params(m).mlp_dense == 2LL * 2 * 4096 * 1024);  // two MLP layers, up and down
    // transformers' layers_block_type spells the same layers.
    nlohmann::json listed = cfg;
    listed.erase("hybrid_override_pattern");
    listed["layers_block_type"] = {"mamba", "mlp", "mamba", "attention", "mlp"};
    CHECK(model_from_hf_config(listed, "t") == m);
    nlohmann::json bad = cfg;
    bad["num_hidden_layers"] = 6;
    CHECK_THROWS_WITH(model_from_hf_config(bad, "t"), Catch::Contains("5 layers but num_hidden_layers is 6"));
    bad = cfg;
    bad["moe_latent_size"] = 1024;
    CHECK_THROWS_WITH(model_from_hf_config(bad, "t"), Catch::Contains("moe_latent_size needs routed experts"));
    bad = cfg;
    bad["hybrid_override_pattern"] = "M-ME-";
    CHECK_THROWS_WITH(model_from_hf_config(bad, "t"), Catch::Contains("no n_routed_experts"));
    bad = cfg;
    bad["n_groups"] = 3;
    CHECK_THROWS_WITH(model_from_hf_config(bad, "t"), Catch::Contains("must divide mamba_num_heads"));
    // The model shape JSON round trip keeps the mixers.
    CHECK(model_shape_from_json(model_shape_json(m), "t") == m);
}

TEST_CASE("hybrid: refusals name the flag and the reason", "[hybrid][config]") {
    const ModelSpec& m = nano();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    TrainConfig c = nano_job(16, 1, false);
    c.framework = Framework::pytorch;
    CHECK_THROWS_WITH(plan_memory(m, gpu, c), Catch::Contains("--framework pytorch") && Catch::Contains("generic, megatron or megatron-bridge"));
    c = nano_job(48, 1, false);
    c.parallel.cp = 3;  // 64 heads per tensor-parallel rank do not split over 3 ranks
    c.seq = 6144;
    c.global_batch = 16;
    CHECK_THROWS_WITH(plan_memory(m, gpu, c), Catch::Contains("--cp 3") && Catch::Contains("whole heads and groups"));
    c = nano_job(48, 3, true);
    CHECK_THROWS_WITH(plan_memory(m, gpu, c), Catch::Contains("--tp 3"));
    const test::CliResult r = test::run_cli({"plan", "--model", "nemotron-3-nano", "--gpu", "h100-sxm", "--gpus", "16", "--ep", "8",
                                 "--zero", "1", "--seq", "8192", "--global-batch", "16", "--framework", "megatron"});
    CHECK(r.code == 0);
    CHECK(r.out.find("hybrid layers: 23 Mamba-2 (64 heads × 64, state 128, 8 groups, chunk 128) + 6 attention + 23 MoE") !=
          std::string::npos);
    CHECK(r.out.find("23 × Mamba layer 0.43 GiB, 23 × MoE layer 1.03 GiB, 6 × attention layer 0.22 GiB") != std::string::npos);
}

TEST_CASE("hybrid: Nemotron 3 Super's latent MoE and its MTP module, by hand", "[hybrid][model][flops][golden]") {
    const ModelSpec& m = preset_or_throw("nemotron-3-super", "t");
    REQUIRE(m.moe_latent == 1024);
    REQUIRE(m.expert_width() == 1024);
    REQUIRE(m.mtp_layers == 1);
    REQUIRE(mtp_layer_kinds(m).size() == 2);  // "*E": an attention and an MoE layer
    const ParamBreakdown b = count_params(m);
    // d 4096, latent 1024, 512 experts of 2688 (up 1024 → 2688, down 2688 → 1024), shared 5376 on d,
    // router 512 × 4096, projections 4096 × 1024 twice; 40 MoE layers.
    CHECK(b.routed_experts == 40LL * 512 * 2 * 1024 * 2688);
    CHECK(b.latent_projections == 40LL * 2 * 4096 * 1024);
    CHECK(b.shared_experts == 40LL * 2 * 4096 * 5376);
    CHECK(b.router == 40LL * 512 * 4096);
    // Mamba: 128 heads × 64 (d_inner 8192), W_in 2·8192 + 2·8·128 + 128 = 18,560; conv (8192 + 2048) × 4 + bias.
    CHECK(b.mamba == 40LL * (4096LL * 18560 + 10240 * 4 + 10240 + 3 * 128 + 8192LL * 4096));
    CHECK(b.total() == 120668687360LL);  // hand_count.py gives the same
    // The MTP module: enorm, hnorm 2 × 4096, eh_proj 2 × 4096², its attention layer (pre-norm +
    // q 4096², k and v 256 × 4096, o 4096²) and its MoE layer (pre-norm + the MoE block), final norm.
    const double moe_block = 512.0 * 2 * 1024 * 2688 + 2.0 * 4096 * 1024 + 2.0 * 4096 * 5376 + 512.0 * 4096;
    const double attn = 2.0 * 4096 * 4096 + 2.0 * 256 * 4096;
    CHECK(static_cast<double>(b.mtp) == 2 * 4096 + 2.0 * 4096 * 4096 + 4096 + attn + 4096 + moe_block + 4096);
    // Forward FLOPs of an MoE layer per token: 22 experts × 2 matrices × 2 × 1024 × 2688, the
    // projections 2 × 2 × 4096 × 1024, the shared expert 2 × 2 × 4096 × 5376, the router 2 × 4096 × 512.
    const ForwardFlops moe = layer_forward_flops(m, m.layer(1), 8192);
    CHECK(moe.mlp == 22.0 * 4 * 1024 * 2688 + 4.0 * 4096 * 1024 + 4.0 * 4096 * 5376 + 2.0 * 4096 * 512);
    // The MTP module at two depths of one set of weights: twice the FLOPs, the weights once.
    nlohmann::json cfg = nlohmann::json::parse(R"({"model_type": "nemotron_h", "hidden_size": 256, "vocab_size": 1000,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "mamba_num_heads": 8, "mamba_head_dim": 32,
        "ssm_state_size": 16, "n_groups": 2, "hybrid_override_pattern": "M*E", "n_routed_experts": 8,
        "num_experts_per_tok": 2, "moe_intermediate_size": 128, "moe_latent_size": 64, "num_nextn_predict_layers": 1})");
    const ModelSpec one = model_from_hf_config(cfg, "t");
    cfg["num_nextn_predict_layers"] = 2;
    cfg["mtp_use_repeated_layer"] = true;
    const ModelSpec two = model_from_hf_config(cfg, "t");
    CHECK(two.mtp_layers == 2);
    CHECK(count_params(two).mtp == count_params(one).mtp);
    CHECK(mtp_forward_flops(two, 1024).mtp == 2 * mtp_forward_flops(one, 1024).mtp);
    CHECK(model_shape_from_json(model_shape_json(two), "t") == two);
}

TEST_CASE("hybrid: a latent MoE layer dispatches and saves latent-width tokens", "[hybrid][activations][golden]") {
    const ModelSpec& m = preset_or_throw("nemotron-3-super", "t");
    TrainConfig c;
    c.parallel.gpus = 64;
    c.parallel.ep = 64;
    c.seq = 8192;
    c.micro_batch = 1;
    c.global_batch = 64;
    double dispatched = -1, latent_up = -1;
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, m.layer(1))) {
        if (t.name == "moe.dispatched_input") dispatched = t.elements;
        if (t.name == "moe.latent_up_input") latent_up = t.elements;
    }
    CHECK(dispatched == 22.0 * 8192 * 1024);  // top-22 copies of each token, 1024 wide
    CHECK(latent_up == 8192.0 * 1024);
}

TEST_CASE("megatron: linears kept in BF16 under a quantized recipe run at the 16-bit rate", "[hybrid][megatron][perf]") {
    const ModelSpec& m = preset_or_throw("nemotron-3-super", "t");
    const GpuSpec& gpu = gpu_or_throw("gb300", "t");
    TrainConfig c;
    c.framework = Framework::megatron;
    c.precision = Precision::nvfp4;
    c.parallel.gpus = 64;
    c.parallel.gpus_per_node = 72;
    c.parallel.ep = 64;
    c.parallel.zero = 1;
    c.seq = 8192;
    c.micro_batch = 1;
    c.global_batch = 64;
    const ComputeTime plain = compute_time(plan_memory(m, gpu, c), PerfOptions{});
    CHECK(plain.bf16_linear_share == 0);
    TrainConfig kept = c;
    kept.framework_options = {{"first_last_layers_bf16", "true"}, {"num_layers_at_start_in_bf16", "0"}, {"num_layers_at_end_in_bf16", "14"}};
    const ComputeTime last14 = compute_time(plan_memory(m, gpu, kept), PerfOptions{});
    // The last 14 layers' linear FLOPs over all the stage's linears at the recipe's rate (the main
    // model's 88 layers and the MTP module with its output head; the model's own output layer and the
    // attention cores apart), worked from layers_forward_flops.
    auto linear = [](const ForwardFlops& f) { return f.qkv + f.output_proj + f.mlp + f.mamba_proj; };
    const ForwardFlops all = forward_flops_per_token(m, 8192);
    const double expected = linear(layers_forward_flops(m, 74, 14, 8192)) / (linear(all) + all.mtp - all.mtp_attention);
    CHECK(last14.bf16_linear_share == Approx(expected).epsilon(1e-9));
    CHECK(last14.bf16_linear_source.find("last 14 layers") != std::string::npos);
    CHECK(last14.microbatch_forward_seconds > plain.microbatch_forward_seconds);
    CHECK(last14.fp8_cast_seconds == Approx(plain.fp8_cast_seconds * (1 - expected)).epsilon(1e-9));
    TrainConfig bf16 = c;
    bf16.precision = Precision::mixed_bf16;
    bf16.framework_options = {{"keep_mtp_spec_in_bf16", "true"}};
    CHECK_THROWS_WITH(plan_memory(m, gpu, bf16), Catch::Contains("needs --precision fp8, mxfp8 or nvfp4"));
    TrainConfig badmod = c;
    badmod.framework_options = {{"bf16_linears", "router"}};
    CHECK_THROWS_WITH(plan_memory(m, gpu, badmod), Catch::Contains("'router' is not one llmplan models"));
}

TEST_CASE("hybrid: Megatron-LM's arguments of Nemotron 3 Super name its preset", "[hybrid][imports]") {
    // Megatron-LM's ModelOpt arguments for Nemotron 3 Super (docs/PRESETS.md §2), with its MTP module.
    const std::string args =
        "--num-layers 88 --hidden-size 4096 --num-attention-heads 32 --group-query-attention --num-query-groups 2 "
        "--kv-channels 128 --ffn-hidden-size 2688 --moe-ffn-hidden-size 2688 --num-experts 512 --moe-router-topk 22 "
        "--moe-shared-expert-intermediate-size 5376 --moe-latent-size 1024 --mamba-num-heads 128 --mamba-head-dim 64 "
        "--hybrid-override-pattern MEMEMEM*EMEMEMEM*EMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEMEM*EMEMEMEM*EMEMEMEME/*E "
        "--position-embedding-type none --squared-relu --untie-embeddings-and-output-weights --disable-bias-linear "
        "--normalization RMSNorm --padded-vocab-size 131072 --seq-length 8192 --max-position-embeddings 262144 --bf16 "
        "--fp4-format e2m1 --first-last-layers-bf16 --num-layers-at-start-in-bf16 0 --num-layers-at-end-in-bf16 14 "
        "--micro-batch-size 1 --global-batch-size 64";
    const test::CliResult r = test::run_cli({"plan", "--gpu", "gb300", "--gpus", "64", "--gpus-per-node", "72", "--ep", "64", "--zero", "1",
                                             "--megatron-args", args, "--json"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["model"]["name"] == "nemotron-3-super");
    CHECK(j["inputs"]["precision"] == "nvfp4");
    CHECK(j["compute"]["bf16_linears"]["source"].get<std::string>().find("last 14 layers") != std::string::npos);
    // A pattern whose length is not --num-layers: one line naming the argument.
    const test::CliResult bad = test::run_cli({"plan", "--gpus", "8", "--megatron-args",
                                               "--num-layers 4 --hidden-size 256 --num-attention-heads 4 --padded-vocab-size 1000 "
                                               "--seq-length 128 --hybrid-override-pattern M*M --mamba-num-heads 8"});
    CHECK(bad.code == 2);
    CHECK(bad.err.find("--hybrid-override-pattern") != std::string::npos);
    CHECK(bad.err.find("spells 3 layers but --num-layers is 4") != std::string::npos);
}

TEST_CASE("hybrid inference: attention layers hold K and V, Mamba layers a fixed state per sequence", "[hybrid][infer][golden]") {
    const ModelSpec& m = nano();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    InferConfig c;
    c.batch = 8;
    c.prompt = 8192;
    c.generate = 1024;
    const InferPlan p = plan_inference(m, gpu, c);
    // K and V of the 6 attention layers only: 2 × 6 × 2 kv heads × 128 × 2 B = 6,144 B per token.
    REQUIRE(p.kv.groups.size() == 1);
    CHECK(p.kv.groups[0].layers == 6);
    CHECK(p.kv_bytes_per_token == 6144.0);
    CHECK(p.kv_cache == 8.0 * 9216 * 6144);
    // The 23 Mamba layers' state per sequence, bf16: convolution 3 × (4096 + 2 × 8 × 128) × 2 B =
    // 36,864 B and SSM 64 × 64 × 128 × 2 B = 1,048,576 B per layer.
    CHECK(p.state.layers == 23);
    CHECK(p.state.conv_bytes == 36864.0);
    CHECK(p.state.ssm_bytes == 1048576.0);
    CHECK(p.recurrent_state == 8.0 * 23 * (36864.0 + 1048576.0));
    // vLLM keeps the SSM state in fp32 for Nemotron-H.
    InferConfig v = c;
    v.framework = InferFramework::vllm;
    CHECK(plan_inference(m, gpu, v).state.ssm_bytes == 2097152.0);
    // A decode step reads and writes every sequence's state once, besides weights and K, V.
    CHECK(p.decode_bytes_per_step == Approx(p.decode_weight_bytes + 8 * p.kv.bytes_at(8192 + 512) + 2 * p.recurrent_state).epsilon(1e-12));
    // The Mamba heads and groups split over tp: tp 3 is refused.
    InferConfig t3 = c;
    t3.tp = 3;
    CHECK_THROWS_WITH(plan_inference(preset_or_throw("nemotron-3-super", "t"), gpu, t3), Catch::Contains("--tp 3"));
}
