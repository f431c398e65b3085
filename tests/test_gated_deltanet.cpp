// test_gated_deltanet.cpp — Gated DeltaNet layers (Qwen3-Next, Qwen3.5) in the planner: their FLOPs
// (docs/PERFORMANCE_MODEL.md §1, "Gated DeltaNet layers"), what they keep for the backward
// (docs/MEMORY_MODEL.md §4), the delta rule's time at its measured rate, the inference state per
// sequence (docs/INFERENCE.md), the model shape's JSON round trip and the refusals. Every number is
// worked out by hand in the comments.
#include "core/error.h"
#include "core/gpu.h"
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

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

using namespace llmplan;

namespace {

// Qwen3-Next 80B-A3B (models/qwen3-next-80b-a3b.json): d 2048; Gated DeltaNet 16 key heads and 32
// value heads of 128, conv 4, chunk 64; attention 16 heads (2 kv) × 256 with an output gate; 512
// experts of 512 top-10, a gated shared expert of 512; layers 3, 7, …, 47 attention, the rest GDN.
const ModelSpec& next80b() {
    static const ModelSpec m = preset_or_throw("qwen3-next-80b-a3b", "t");
    return m;
}

TrainConfig job(int gpus, int tp, int ep) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.tp = tp;
    c.parallel.sp = tp > 1;
    c.parallel.ep = ep;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.micro_batch = 1;
    c.global_batch = gpus / tp;
    c.precision = Precision::mixed_bf16;
    return c;
}

}  // namespace

TEST_CASE("gated deltanet: the layers and the shape Qwen3-Next's config gives", "[gdn][model]") {
    const ModelSpec& m = next80b();
    CHECK(m.has_gdn());
    CHECK_FALSE(m.hybrid());  // every layer has a mixer and a feed-forward block
    CHECK(layers_in_set(m, LayerSet::gdn, 0, 48) == 36);
    CHECK(layers_in_set(m, LayerSet::attention, 0, 48) == 12);
    CHECK(m.layer(3).has_attention());
    CHECK(m.layer(0).has_gdn());
    CHECK(m.layer(0).moe_mlp());
    // in_proj: 2·2048 (q, k) + 2·4096 (v, z) + 2·32 (β, α) = 12,352; conv over q, k, v: 8,192.
    CHECK(m.gdn.in_proj_width() == 12352);
    CHECK(m.gdn.conv_channels() == 8192);
    CHECK(m.q_proj_width() == 8192);  // 16 × 256 queries + as many gate channels
}

TEST_CASE("gated deltanet: FLOPs of a Gated DeltaNet layer and of an attention layer", "[gdn][flops][golden]") {
    const ModelSpec& m = next80b();
    const ForwardFlops g = layer_forward_flops(m, m.layer(0), 4096);
    // Projections: 2·2048·12,352 + 2·4,096·2,048 = 50,593,792 + 16,777,216.
    CHECK(g.gdn_proj == 67371008.0);
    // Delta rule per value head, C 64, dk = dv = 128: 6·64·128 + 4·64·128 + 6·128·128 + 2·64²/3
    // = 49,152 + 32,768 + 98,304 + 2,730.67 = 182,954.67; × 32 heads = 5,854,549.33.
    CHECK(g.delta_rule == Approx(32 * (49152 + 32768 + 98304 + 2.0 * 64 * 64 / 3)).epsilon(1e-12));
    CHECK(g.delta_rule == Approx(5854549.333).epsilon(1e-9));
    CHECK(g.qkv == 0);
    CHECK(g.attention == 0);
    // MoE: 10 × 6·2048·512 + router 2·2048·512 + shared 6·2048·512 + its gate 2·2048 = 71,307,264.
    CHECK(g.mlp == 71307264.0);
    const ForwardFlops a = layer_forward_flops(m, m.layer(3), 4096);
    CHECK(a.gdn_proj == 0);
    CHECK(a.delta_rule == 0);
    // q_proj with its gate 8,192 + k 512 + v 512 wide: 2·2048·9,216 = 37,748,736.
    CHECK(a.qkv == 37748736.0);
    CHECK(a.output_proj == 2.0 * 4096 * 2048);
    // Scores and values over 4,096 + 4,096 wide, (4096 + 1)/2 keys per query: 2·8,192·2,048.5.
    CHECK(a.attention == 2.0 * 8192 * 2048.5);
    // The whole model: 36 GDN + 12 attention layers + logits 2·2048·151,936.
    const ForwardFlops all = forward_flops_per_token(m, 4096);
    CHECK(all.gdn_proj == 36 * 67371008.0);
    CHECK(all.delta_rule == Approx(36 * 5854549.333).epsilon(1e-9));
    CHECK(all.total() == Approx(36 * (67371008.0 + 32 * (49152 + 32768 + 98304 + 2.0 * 64 * 64 / 3)) + 12 * (37748736.0 + 2.0 * 4096 * 2048 + 2.0 * 8192 * 2048.5) +
                                48 * 71307264.0 + 2.0 * 2048 * 151936)
                             .epsilon(1e-12));
    // Full recompute runs every layer's forward again, the delta rule included.
    CHECK(all.recomputed(Recompute::full) == Approx(all.layers()).epsilon(1e-15));
}

TEST_CASE("gated deltanet: what a Gated DeltaNet layer keeps for the backward", "[gdn][activations][golden]") {
    const ModelSpec& m = next80b();
    const TrainConfig c = job(8, 1, 8);
    double gdn = 0, gate = 0;
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, m.layer(0)))
        if (t.name.rfind("gdn.", 0) == 0) gdn += t.bytes_per_rank(1, false);
    // Per token, bf16 unless fp32: norm input 4,096 + in_proj input 4,096 + rsigma 4 + [q,k,v,z,β,α]
    // 24,704 + conv input 16,384 + conv output 16,384 + L2-normed q, k 8,192 + their rstd 2·16·4 = 128
    // + q, k repeated to 32 heads 16,384 + g 32·4 = 128 + β 64 + the chunk inverse 32·64·2 = 4,096
    // + the delta rule's output 8,192 + the gated norm's rstd 128 + out_proj's input 8,192 = 111,172.
    CHECK(gdn == 111172.0 * 4096);
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, m.layer(3)))
        if (t.name == "attention.output_gate" || t.name == "attention.core_output") gate += t.bytes_per_rank(1, false);
    // The attention output gate keeps sigmoid's input (16 × 256) and the core output (16 × 256), 2 B each.
    CHECK(gate == 2.0 * 4096 * 2 * 4096);
    // Tensor parallelism 2 with sequence parallelism halves every one of them.
    const TrainConfig c2 = job(8, 2, 4);
    double gdn2 = 0;
    for (const SavedTensor& t : layer_saved_tensors(m, c2, Recompute::none, m.layer(0)))
        if (t.name.rfind("gdn.", 0) == 0) gdn2 += t.bytes_per_rank(2, true);
    CHECK(gdn2 == 111172.0 * 4096 / 2);
}

TEST_CASE("gated deltanet: the delta rule's time at its own rate", "[gdn][perf][golden]") {
    const ModelSpec& m = next80b();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    const MemoryPlan plan = plan_memory(m, gpu, job(8, 1, 8));
    const ComputeTime t = compute_time(plan, PerfOptions{});
    // 36 layers, one call each: its work 5,854,549.33 FLOPs per token × 4,096 tokens at
    // kDeltaRuleEfficiency of 989 TFLOP/s, and its state pass ⌈4096 ÷ 64⌉ = 64 chunks ×
    // kDeltaRuleChunkLatency, in quadrature; the backward kDeltaRuleBackwardFactor times its time.
    const double work = (32 * (49152 + 32768 + 98304 + 2.0 * 64 * 64 / 3)) * 4096 / (gpu.peak_bf16 * kDeltaRuleEfficiency);
    const double chain = 64 * kDeltaRuleChunkLatency;
    const double fwd = 36 * std::sqrt(work * work + chain * chain);
    CHECK(t.delta_rule_forward_seconds == Approx(fwd).epsilon(1e-9));
    CHECK(t.delta_rule_seconds == Approx((1 + kDeltaRuleBackwardFactor) * fwd).epsilon(1e-9));
    CHECK(t.rate_sources.delta_rule.find("delta rule") != std::string::npos);
    CHECK(t.rate_sources.delta_rule.find("the state pass over 4096 tokens in chunks of 64") != std::string::npos);
    CHECK(t.ssm_seconds == 0);  // no Mamba layers
    // Blackwell's tensor peak does not speed the Triton kernels up: the H100's peak is the ceiling.
    CHECK(delta_rule_rate(2.25e15, 1) == Approx(kDeltaRuleEfficiency * gpu.peak_bf16).epsilon(1e-12));
    CHECK(delta_rule_rate(312e12, 0.5) == Approx(kDeltaRuleEfficiency * 312e12 * 0.5).epsilon(1e-12));  // an A100, half clock
    // Half the clock (a power cap) doubles the latency as well as the work.
    CHECK(delta_rule_forward_seconds(1e10, 1, 4096, 64, gpu.peak_bf16, 0.5) ==
          Approx(2 * delta_rule_forward_seconds(1e10, 1, 4096, 64, gpu.peak_bf16, 1)).epsilon(1e-12));
    CHECK(delta_rule_forward_seconds(0, 36, 4096, 64, gpu.peak_bf16, 1) == 0);
    CHECK(recurrent_scan_peak(2.5e15) == gpu.peak_bf16);
}

TEST_CASE("gated deltanet inference: attention layers hold K and V, Gated DeltaNet layers a fixed state", "[gdn][infer][golden]") {
    const ModelSpec& m = next80b();
    InferConfig c;
    c.batch = 4;
    c.prompt = 1000;
    c.generate = 100;
    c.tp = 2;
    const RecurrentState s = recurrent_state(m, c);
    CHECK(s.gdn);
    CHECK(s.layers == 36);
    // conv: 3 × 8,192 ÷ 2 × 2 B = 24,576; state 32 × 128 × 128 ÷ 2 × 2 B = 524,288, per layer.
    CHECK(s.conv_bytes == 24576.0);
    CHECK(s.ssm_bytes == 524288.0);
    CHECK(s.per_sequence() == 36 * (24576.0 + 524288.0));
    const InferPlan p = plan_inference(m, gpu_or_throw("h200", "t"), c);
    CHECK(p.recurrent_state == 4 * s.per_sequence());
    // 12 attention layers × 2 kv heads ÷ tp 2 = 1 head × 256 × 2 (K, V) × 2 B per token.
    REQUIRE(p.kv.groups.size() == 1);
    CHECK(p.kv.groups[0].layers == 12);
    CHECK(p.kv.groups[0].bytes_per_token == 2 * 1 * 256 * 2.0);
    // The prefill's delta rules at their own rate, one call per layer: 4 × 1,000 tokens ×
    // 5,854,549.33 FLOPs ÷ tp 2 at 0.079 of the H200's (= the H100's) 16-bit peak, and the state
    // pass over a prompt's ⌈1000 ÷ 64⌉ = 16 chunks, in quadrature, × 36 layers.
    const GpuSpec& h200 = gpu_or_throw("h200", "t");
    const double work = 4 * 1000 * (32 * (49152 + 32768 + 98304 + 2.0 * 64 * 64 / 3)) / 2 / (kDeltaRuleEfficiency * h200.peak_bf16);
    const double chain = 16 * kDeltaRuleChunkLatency;
    CHECK(p.prefill_scan_seconds == Approx(36 * std::sqrt(work * work + chain * chain)).epsilon(1e-9));
    CHECK(p.prefill_scan_seconds < p.prefill_seconds);
    InferConfig c3 = c;
    c3.tp = 32;  // divides the 16 attention heads? no: refused first by the attention heads
    CHECK_THROWS_AS(plan_inference(m, gpu_or_throw("h200", "t"), c3), InputError);
}

TEST_CASE("gated deltanet: the model shape's JSON keeps the mixer and the output gate", "[gdn][json]") {
    const ModelSpec& m = next80b();
    const ModelSpec back = model_shape_from_json(model_shape_json(m), "t");
    CHECK(back == m);
    CHECK(count_params(back).linear_attention == count_params(m).linear_attention);
    CHECK(count_params(m).linear_attention == 36 * (2048LL * 12352 + 8192 * 4 + 32 + 32 + 4096LL * 2048));
}

TEST_CASE("gated deltanet: refusals name the flag and the reason", "[gdn][config]") {
    const ModelSpec& m = next80b();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    TrainConfig cp = job(96, 1, 8);
    cp.parallel.cp = 3;  // 16 key heads do not split over 3 context-parallel ranks
    cp.seq = 6144;
    CHECK_THROWS_WITH(plan_memory(m, gpu, cp), Catch::Contains("--cp 3") && Catch::Contains("Gated DeltaNet"));
    TrainConfig fw = job(8, 1, 8);
    fw.framework = Framework::deepspeed;
    CHECK_THROWS_WITH(plan_memory(m, gpu, fw), Catch::Contains("--framework deepspeed") && Catch::Contains("Gated DeltaNet"));
}

TEST_CASE("gated deltanet: context parallelism's head-parallel all-to-all", "[gdn][perf][golden]") {
    // Megatron-Core's GatedDeltaNet under context parallelism (gated_delta_net/common.py
    // tensor_a2a_cp2hp / _hp2cp): 16 GPUs, ep 8, cp 2, tp 1, one micro-batch per rank of 4096 ÷ 2 =
    // 2048 tokens. Per GDN layer the in_proj output q, k (2048 each), v, z (4096 each), β, α (32
    // each) — 12,352 values per token, 2 bytes — goes to the ranks of its heads: 2048 × 12,352 × 2
    // = 50,593,792 bytes; the gated norm's output (value_dim 4096) comes back: 16,777,216 bytes.
    // Forward and backward, 36 GDN layers: 72 calls of each. The K/V ring runs over the 12 attention
    // layers: 3 × 1 × 12 = 36 calls of 2048 × 2 kv heads × 256 × 2 × 2 bytes = 4,194,304.
    const ModelSpec& m = next80b();
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    TrainConfig c = job(16, 1, 8);
    c.parallel.cp = 2;
    c.global_batch = 8;
    const MemoryPlan plan = plan_memory(m, gpu, c);
    const ComputeTime t = compute_time(plan, PerfOptions{});
    const std::vector<CollectiveUse> all = step_collectives(plan, default_cluster(gpu, 8), PerfOptions{}, t);
    auto find = [&](const std::string& start) -> const CollectiveUse& {
        for (const CollectiveUse& u : all)
            if (u.purpose.rfind(start, 0) == 0) return u;
        FAIL("no collective " << start);
        return all.front();
    };
    const CollectiveUse& in = find("context-parallel all-to-all of the Gated DeltaNet in_proj output");
    CHECK(in.kind == Collective::all_to_all);
    CHECK(in.bytes == 50593792.0);
    CHECK(in.count == 72);
    CHECK(in.exposed_seconds == in.seconds);
    const CollectiveUse& out = find("context-parallel all-to-all of the Gated DeltaNet gated-norm output");
    CHECK(out.bytes == 16777216.0);
    CHECK(out.count == 72);
    const CollectiveUse& ring = find("context-parallel ring exchange");
    CHECK(ring.bytes == 4194304.0);
    CHECK(ring.count == 36);
    // Each rank scans 32 ÷ 2 = 16 value heads over the whole sequence: the work of its 2048
    // tokens' share, the state pass over all 4096 tokens' 64 chunks.
    const double work = (32 * (49152 + 32768 + 98304 + 2.0 * 64 * 64 / 3)) * 2048 / (gpu.peak_bf16 * kDeltaRuleEfficiency);
    const double chain = 64 * kDeltaRuleChunkLatency;
    CHECK(t.delta_rule_forward_seconds == Approx(36 * std::sqrt(work * work + chain * chain)).epsilon(1e-9));
    // cp 32 would leave half a key head per rank: refused.
    TrainConfig c32 = job(256, 1, 8);
    c32.parallel.cp = 32;
    CHECK_THROWS_WITH(plan_memory(m, gpu, c32), Catch::Contains("--cp 32") && Catch::Contains("16 key"));
}

TEST_CASE("gated deltanet: LoRA on in_proj, out_proj and the attention layers' q and v", "[gdn][lora][golden]") {
    // r 16, r·(in + out): a GDN layer's in_proj 2048 → 12,352 (q, k, v, z, β, α): 230,400 and
    // out_proj 4096 → 2048: 98,304; 328,704 × 36 = 11,833,344. An attention layer's q_proj holds Q
    // and its output gate, 2048 → 2 × 16 × 256 = 8192: 163,840; v_proj 2048 → 512: 40,960;
    // 204,800 × 12 = 2,457,600. Total 14,290,944.
    const ModelSpec& m = next80b();
    LoraConfig lora;
    lora.rank = 16;
    lora.targets = parse_lora_targets("in_proj,out_proj,q,v", "t");
    CHECK(count_lora(m, lora).adapter_params == 14290944.0);
    CHECK(count_lora(m, lora).expert_adapter_params == 0);
    TrainConfig c = job(8, 1, 8);
    c.lora = lora;
    const MemoryPlan plan = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    // The frozen base's backward computes input gradients only: a faster step than full training's.
    const GpuSpec& h100 = gpu_or_throw("h100-sxm", "t");
    TrainConfig full = c;
    full.lora = LoraConfig{};
    const double tuned = plan_perf(plan, default_cluster(h100, 8), {}).step_seconds;
    CHECK(std::isfinite(tuned));
    CHECK(tuned < plan_perf(plan_memory(m, h100, full), default_cluster(h100, 8), {}).step_seconds);
    // A dense transformer's "all" is what it was before the mixer targets: no in_proj, no out_proj.
    const ModelSpec& llama = preset_or_throw("llama-3.1-8b", "t");
    LoraConfig a;
    a.rank = 16;
    a.targets = parse_lora_targets("all", "t");
    LoraConfig seven = a;
    seven.targets = parse_lora_targets("q,k,v,o,gate,up,down", "t");
    CHECK(count_lora(llama, a).adapter_params == count_lora(llama, seven).adapter_params);
}

TEST_CASE("gated deltanet: the delta rule's forward against every measured chain count", "[gdn][perf][measured]") {
    // validation/kernels/recurrent_scans_chains_h100.json and recurrent_scans_h100.json (lent H100,
    // flash-linear-attention bc3b101d): 2 to 256 chains, 2K to 16K tokens per sequence. The
    // latency per chunk is the median of the rows with at most 8 chains (where the time does not
    // move with the heads), to its rounding; every row within 12% of √(work² + chain²) (the worst,
    // 16 chains of 16K tokens, +11.2%).
    const double peak = gpu_or_throw("h100-sxm", "t").peak_bf16;
    std::vector<nlohmann::json> rows;
    std::vector<double> latency;
    for (const char* file : {"recurrent_scans_chains_h100.json", "recurrent_scans_h100.json"}) {
        std::ifstream in(std::string(LLMPLAN_SOURCE_DIR) + "/validation/kernels/" + file);
        REQUIRE(in);
        const nlohmann::json j = nlohmann::json::parse(in);
        for (const auto& r : j.at("gated_delta_rule")) rows.push_back(r);
    }
    REQUIRE(rows.size() >= 10);
    for (const auto& r : rows)
        if (r.at("batch").get<double>() * r.at("heads").get<double>() <= 8)
            latency.push_back(r.at("fwd_s").get<double>() / (r.at("seq").get<double>() / 64));
    REQUIRE(latency.size() == 3);
    std::sort(latency.begin(), latency.end());
    CHECK(kDeltaRuleChunkLatency == Approx(latency[1]).epsilon(0.001));
    for (const auto& r : rows) {
        const double seq = r.at("seq").get<double>();
        const double predicted = delta_rule_forward_seconds(r.at("fwd_flops_llmplan").get<double>(), 1, seq, 64, peak, 1);
        CAPTURE(r.at("batch").get<int>(), r.at("heads").get<int>(), seq);
        CHECK(std::abs(predicted / r.at("fwd_s").get<double>() - 1) < 0.12);
    }
}

TEST_CASE("recurrent scans: the rates are the medians measured on the lent H100", "[gdn][hybrid][perf]") {
    // validation/kernels/recurrent_scans_h100.json (recurrent_scan_bench.py, 2026-12-07): the
    // constants of planner/perf.h must stay what it measured, to their rounding.
    std::ifstream in(std::string(LLMPLAN_SOURCE_DIR) + "/validation/kernels/recurrent_scans_h100.json");
    REQUIRE(in);
    const nlohmann::json j = nlohmann::json::parse(in);
    const double peak = gpu_or_throw("h100-sxm", "t").peak_bf16;
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    };
    std::vector<double> delta_rate, delta_bwd, ssd_rate, ssd_bwd;
    for (const auto& r : j.at("gated_delta_rule")) {
        delta_bwd.push_back(r.at("bwd_over_fwd_time").get<double>());  // one factor for every shape
        if (r.at("batch").get<double>() * r.at("heads").get<double>() < 64) continue;  // the saturated rows
        delta_rate.push_back(r.at("fwd_flops_llmplan").get<double>() / r.at("fwd_s").get<double>() / peak);
    }
    for (const auto& r : j.at("ssd")) {
        if (r.at("groups").get<int>() != 8) continue;  // Nemotron 3's shapes
        ssd_rate.push_back(r.at("fwd_flops_llmplan").get<double>() / r.at("fwd_s").get<double>() / peak);
        ssd_bwd.push_back(r.at("bwd_over_fwd_time").get<double>());
    }
    REQUIRE(delta_rate.size() == 4);
    REQUIRE(ssd_rate.size() == 3);
    CHECK(kDeltaRuleEfficiency == Approx(median(delta_rate)).margin(0.0005));
    CHECK(kDeltaRuleBackwardFactor == Approx(median(delta_bwd)).margin(0.005));
    CHECK(kSsdScanEfficiency == Approx(median(ssd_rate)).margin(0.0005));
    CHECK(kSsdBackwardFactor == Approx(median(ssd_bwd)).margin(0.005));
    // The FLOP counts the rows used are llmplan's: the first delta-rule row, 4 × 4096 tokens.
    const ModelSpec& m = next80b();
    const auto& r0 = j.at("gated_delta_rule").at(0);
    CHECK(r0.at("fwd_flops_llmplan").get<double>() == Approx(4 * 4096 * layer_forward_flops(m, m.layer(0), 4096).delta_rule).epsilon(1e-12));
}
