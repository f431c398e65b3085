// test_pipeline_split.cpp — uneven pipeline stages (core/config.h PipelineSplit): the layers each
// stage holds under --pp-layers, --pp-first-last, the balanced split and Megatron-LM's
// embedding/loss accounting; the refusals; a 61-layer model over 8 stages, its most loaded stage's
// memory and its slowest stage's time worked out by hand; today's uneven published layouts.
#include "core/config.h"
#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "planner/search.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace llmplan;

namespace {

ParallelLayout layout(int pp, int v = 1) {
    ParallelLayout p;
    p.gpus = pp;
    p.pp = pp;
    p.virtual_stages = v;
    return p;
}

std::vector<int> per_stage(const ModelSpec& m, const ParallelLayout& p) {
    std::vector<int> out;
    for (int i = 0; i < p.pp; ++i) out.push_back(stage_layer_count(m, p, i));
    return out;
}

// llama-2-7b's shape with 61 layers (DeepSeek-V3's depth).
ModelSpec llama_61() {
    ModelSpec m = preset_or_throw("llama-2-7b", "t");
    m.name = "llama-61";
    m.n_layers = 61;
    return m;
}

}  // namespace

TEST_CASE("pipeline split: the layers of each model chunk", "[pipeline]") {
    // Equal stages: L/(p·v) per chunk.
    CHECK(pipeline_chunk_layers(32, layout(4)) == std::vector<int>{8, 8, 8, 8});
    CHECK(pipeline_chunk_layers(32, layout(4, 2)) == std::vector<int>{4, 4, 4, 4, 4, 4, 4, 4});
    // --pp-layers per stage.
    ParallelLayout p = layout(4);
    p.split.layers = {7, 9, 9, 7};
    CHECK(pipeline_chunk_layers(32, p) == std::vector<int>{7, 9, 9, 7});
    // Per stage with 2 virtual stages: each stage's layers in two equal chunks, model order j·p + i.
    p = layout(2, 2);
    p.split.layers = {6, 10};
    CHECK(pipeline_chunk_layers(16, p) == std::vector<int>{3, 5, 3, 5});
    // Per model chunk (p·v counts), as given.
    p.split.layers = {2, 5, 4, 5};
    CHECK(pipeline_chunk_layers(16, p) == std::vector<int>{2, 5, 4, 5});
    // --pp-first-last (Megatron-LM): the rest spread equally over the middle stages.
    p = layout(16);
    p.split.first = 7;
    p.split.last = 7;
    CHECK(pipeline_chunk_layers(126, p) == std::vector<int>{7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7});
    p.split.last = -1;  // only the first given: 119 over the other 15 does not divide
    CHECK_THROWS_WITH(pipeline_chunk_layers(126, p), "--pp-first-last 7,: the other 119 of the 126 layers do not split equally over the 15 other stages (Megatron-LM requires it)");
    p = layout(4);
    p.split.first = 2;  // 30 over 3 stages: 10 each
    CHECK(pipeline_chunk_layers(32, p) == std::vector<int>{2, 10, 10, 10});
    // With interleaving each stage's count splits into v chunks (Megatron-LM asserts it).
    p = layout(4, 2);
    p.split.first = 6;
    p.split.last = 6;  // middle stages 10 each -> chunks of 3, 5, 5, 3 in each round
    CHECK(pipeline_chunk_layers(32, p) == std::vector<int>{3, 5, 5, 3, 3, 5, 5, 3});
    // The embedding and the loss as layers of the split: (70 + 2)/12 = 6, stage 0 and 11 hold 5.
    p = layout(12);
    p.split.embedding_as_layer = true;
    p.split.loss_as_layer = true;
    CHECK(pipeline_chunk_layers(70, p) == std::vector<int>{5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5});
    // Interleaved: the first chunk of stage 0 holds one fewer ((31 + 1)/(4·2) = 4).
    p = layout(4, 2);
    p.split.embedding_as_layer = true;
    CHECK(pipeline_chunk_layers(31, p) == std::vector<int>{3, 4, 4, 4, 4, 4, 4, 4});
    // One layer per chunk: the first chunk holds the embedding alone and the last the loss alone
    // (Megatron Bridge's Llama 3.1 405B at pp 16 × vp 8: (126 + 2)/128 = 1); here (14 + 2)/(4·4).
    p = layout(4, 4);
    p.split.embedding_as_layer = true;
    p.split.loss_as_layer = true;
    CHECK(pipeline_chunk_layers(14, p) == std::vector<int>{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0});
    CHECK(stage_layers_text(14, p) == "3,4,4,3");
}

TEST_CASE("pipeline split: balanced puts the remainder on the middle stages, from the last backwards", "[pipeline]") {
    ParallelLayout p = layout(8);
    p.split.balanced = true;
    // 61 = 7·8 + 5: stages 6, 5, 4, 3, 2 get an eighth layer.
    CHECK(pipeline_chunk_layers(61, p) == std::vector<int>{7, 7, 8, 8, 8, 8, 8, 7});
    CHECK(stage_layers_text(61, p) == "7,7,8,8,8,8,8,7");
    // 70 over 12 (BLOOM-176B): 10 extra on stages 10 … 1 = the embedding/loss split above.
    p = layout(12);
    p.split.balanced = true;
    CHECK(pipeline_chunk_layers(70, p) == std::vector<int>{5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5});
    // 126 over 16 (Llama 3.1 405B): 14 extra, every middle stage: Llama 3's 7 + 14 × 8 + 7.
    p = layout(16);
    p.split.balanced = true;
    CHECK(pipeline_chunk_layers(126, p) == std::vector<int>{7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7});
    // A remainder of p − 1: every middle stage and then the last get one more.
    p = layout(4);
    p.split.balanced = true;
    CHECK(pipeline_chunk_layers(11, p) == std::vector<int>{2, 3, 3, 3});
    // p divides L: the equal split.
    CHECK(pipeline_chunk_layers(32, p) == std::vector<int>{8, 8, 8, 8});
}

TEST_CASE("pipeline split: balanced over model chunks, round by round", "[pipeline]") {
    // 61 over 4 stages × 2 chunks: 7 per chunk and 5 more, round 0 to stages 2, 1, 3, 0 (chunks
    // 2, 1, 3, 0), round 1 to stage 2 (chunk 6).
    ParallelLayout p = layout(4, 2);
    p.split.balanced = true;
    CHECK(pipeline_chunk_layers(61, p) == std::vector<int>{8, 8, 8, 8, 7, 7, 8, 7});
    CHECK(stage_layers_text(61, p) == "15,15,16,15");
    // 30 over 4 × 2: 3 per chunk and 6 more: round 0 every stage, round 1 stages 2 and 1.
    CHECK(pipeline_chunk_layers(30, p) == std::vector<int>{4, 4, 4, 4, 3, 4, 4, 3});
}

TEST_CASE("pipeline split: llmplan's default where p·v does not divide the layers", "[pipeline]") {
    auto chosen = [](int L, int pp, int v) {
        ParallelLayout p = layout(pp, v);
        p.split = default_pipeline_split(L, pp, v);
        return p;
    };
    // Llama 3.1 405B: 126 + the embedding + the loss = 128 over 16 × 8 chunks, one each; the
    // chunks at the two ends hold the embedding and the loss alone (Megatron Bridge's recipes).
    ParallelLayout p = chosen(126, 16, 8);
    CHECK(p.split.chosen_by_llmplan);
    CHECK(p.split.embedding_as_layer);
    CHECK(p.split.loss_as_layer);
    std::vector<int> ones(128, 1);
    ones.front() = ones.back() = 0;
    CHECK(pipeline_chunk_layers(126, p) == ones);
    // Qwen3-235B: 94 + 2 = 96 over 8 × 4 chunks: 3 each, 2 in the first and the last.
    p = chosen(94, 8, 4);
    CHECK(p.split.embedding_as_layer);
    CHECK(stage_layers_text(94, p) == "11,12,12,12,12,12,12,11");
    // 32 over 3: 33 = 32 + the loss divides, 34 does not: the loss alone.
    p = chosen(32, 3, 1);
    CHECK_FALSE(p.split.embedding_as_layer);
    CHECK(p.split.loss_as_layer);
    CHECK(stage_layers_text(32, p) == "11,11,10");
    // DeepSeek-V3's 61 over 16: neither 62 nor 63 divides: balanced, 3 + 13 on the middle stages.
    p = chosen(61, 16, 1);
    CHECK(p.split.balanced);
    CHECK(stage_layers_text(61, p) == "3,3,4,4,4,4,4,4,4,4,4,4,4,4,4,3");
    // p·v divides: the equal split, nothing chosen.
    CHECK(default_pipeline_split(32, 4, 2).even());
    CHECK_FALSE(default_pipeline_split(32, 4, 2).chosen_by_llmplan);
    // 6 layers over 8 stages: (6 + 2)/8 = 1 would leave stage 0 the embedding alone, 7 does not
    // divide, 6 < 8 cannot be balanced: nothing chosen, validate_config refuses.
    CHECK(default_pipeline_split(6, 8, 1).even());
    // resolve_defaults applies it only where no split is given.
    const ModelSpec m = llama_61();
    TrainConfig c;
    c.parallel = layout(16);
    CHECK(resolve_defaults(m, c).parallel.split.balanced);
    c.parallel.split.first = 1;
    c.parallel.split.last = 0;  // a split given: kept (and judged) as given
    CHECK_FALSE(resolve_defaults(m, c).parallel.split.chosen_by_llmplan);
}

TEST_CASE("pipeline split: one clear refusal per bad split, naming the flag", "[pipeline]") {
    ParallelLayout p = layout(4);
    p.split.layers = {8, 8, 8};
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p), "--pp-layers 8,8,8: 3 counts for --pp 4: give one per stage");
    p.split.layers = {8, 8, 8, 9};
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p), "--pp-layers 8,8,8,9: the stages hold 33 layers, not the 32 layers of the model");
    p.split.layers = {0, 10, 11, 11};
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p), "--pp-layers 0,10,11,11: stage 0 would hold no transformer layer");
    p = layout(2, 2);
    p.split.layers = {7, 9};
    CHECK_THROWS_WITH(pipeline_chunk_layers(16, p),
                      Catch::StartsWith("--pp-layers 7,9: stage 0's 7 layers do not split into --virtual-stages 2 equal model chunks"));
    p.split.layers = {7, 9, 1};
    CHECK_THROWS_WITH(pipeline_chunk_layers(16, p), Catch::Contains("give 2 (one per stage) or 4 (one per model chunk)"));
    p = layout(4);
    p.split.layers = {8, 8, 8, 8};
    p.split.first = 8;
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p), Catch::Contains("give only one of them"));
    p = layout(4);
    p.split.first = 8;
    p.split.embedding_as_layer = true;
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p), Catch::StartsWith("--account-for-embedding-in-pipeline-split"));
    p = layout(1);
    p.split.balanced = true;
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p), "--pp-layers balanced splits pipeline stages: it needs --pp > 1");
    // Without interleaving the stage itself would be empty: refused.
    p = layout(4);
    p.split.embedding_as_layer = true;
    p.split.loss_as_layer = true;  // (2 + 2)/4 = 1: stage 0 holds the embedding alone
    CHECK_THROWS_WITH(pipeline_chunk_layers(2, p), "--account-for-embedding-in-pipeline-split: stage 0 would hold no transformer layer");
    p = layout(5);
    p.split.embedding_as_layer = true;  // 33 over 5
    CHECK_THROWS_WITH(pipeline_chunk_layers(32, p),
                      "--pp 5 does not divide the 33 layers of the split (32 transformer layers + the embedding)");
    // Without a split, the old refusal, now pointing at the uneven flags.
    TrainConfig c;
    c.parallel = layout(3);
    c.seq = 4096;
    CHECK_THROWS_WITH(validate_config(preset_or_throw("llama-2-7b", "t"), c),
                      Catch::Contains("--pp 3 does not divide the 32 layers of the llama-2-7b model (--pp-layers or --pp-first-last"));
}

TEST_CASE("pipeline split: stage ranges follow the chunks in the model's order", "[pipeline]") {
    const ModelSpec m = llama_61();
    ParallelLayout p = layout(8);
    p.split.balanced = true;
    CHECK(per_stage(m, p) == std::vector<int>{7, 7, 8, 8, 8, 8, 8, 7});
    const std::vector<LayerRange> s2 = stage_layer_ranges(m, p, 2);
    REQUIRE(s2.size() == 1);
    CHECK(s2[0].first == 14);
    CHECK(s2[0].count == 8);
    CHECK(stage_layer_ranges(m, p, 7)[0].first == 54);
    // Interleaved per-chunk counts: stage 1 holds chunks 1 and 3.
    ModelSpec m16 = m;
    m16.n_layers = 16;
    ParallelLayout q = layout(2, 2);
    q.split.layers = {2, 5, 4, 5};
    const std::vector<LayerRange> r1 = stage_layer_ranges(m16, q, 1);
    REQUIRE(r1.size() == 2);
    CHECK(r1[0].first == 2);
    CHECK(r1[0].count == 5);
    CHECK(r1[1].first == 11);
    CHECK(r1[1].count == 5);
}

TEST_CASE("61 layers over 8 stages: the most loaded stage's memory and the slowest stage's time by hand",
          "[pipeline][golden]") {
    // llama-2-7b's shape (d 4096, 32 heads, SwiGLU f 11008, vocab 32000) with 61 layers on 8 H100s,
    // pp 8, the balanced split 7,7,8,8,8,8,8,7; mixed bf16 + AdamW (16 B per parameter), ZeRO-0,
    // flash attention, no recompute, s 4096, b 1, 8 micro-batches (the default: one per stage).
    const ModelSpec m = llama_61();
    TrainConfig c;
    c.parallel = layout(8);
    c.parallel.split.balanced = true;
    c.seq = 4096;
    const MemoryPlan plan = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    REQUIRE(plan.stages.size() == 8);
    // Stage 0: embedding 32000·4096 = 131,072,000 + 7 layers × 202,383,360 = 1,547,755,520 params;
    // 8 micro-batches in flight × 7 layers = 56 layer·micro-batches of 539,492,352 B (per layer:
    // 16sbh + 6sbf + 4as·b) = 30,211,571,712 B; + pipeline buffers 2·2sbh = 67,108,864 B.
    const StageMemory& s0 = plan.stages[0];
    CHECK(s0.layers == 7);
    CHECK(s0.params_on_gpu == 1547755520);
    CHECK(s0.layer_microbatches == 56);
    CHECK(s0.activations == 30211571712.0);
    CHECK(s0.peak_allocated == 16.0 * 1547755520 + 30211571712.0 + 67108864.0);  // 55,042,768,896
    CHECK(s0.placement == "embedding + layers 0-6");
    // Stage 2: 8 layers (1,619,066,880 params), 6 in flight: 48 layer·micro-batches — 51,867,811,840 B.
    const StageMemory& s2 = plan.stages[2];
    CHECK(s2.layers == 8);
    CHECK(s2.first_layer == 14);
    CHECK(s2.params_on_gpu == 1619066880);
    CHECK(s2.peak_allocated == 51867811840.0);
    // Stage 7: 7 layers + final norm + head, 1 in flight, + output-layer inputs 4sbh and fp32 logits.
    CHECK(plan.stages[7].peak_allocated == 29199106048.0);
    CHECK(plan.worst_stage == 0);
    CHECK(plan.worst().device_total == Approx(55042768896.0 * 1.05 + 768.0 * 1024 * 1024));
    CHECK(plan.fits);

    // Time: stages 2–6 run 8 layers, 8 × 438,312,960 = 3,506,503,680 forward FLOPs per token (qkv
    // 100,663,296 + attention core 2·8192·2048.5 = 33,562,624 + o 33,554,432 + MLP 270,532,608),
    // more than the last stage's 7 layers + logits (3,330,334,720): the slowest is stage 6 (the last
    // on a tie).
    PerfOptions fitted;  // the catalog's efficiencies (the hand computation's), not the H100's kernel table
    fitted.no_kernel_table = true;
    const ComputeTime t = compute_time(plan, fitted);
    CHECK(t.stage == 6);
    CHECK(t.layers == 8);
    CHECK(t.stage_forward.total() == 3506503680.0);
    // 989.4 TFLOP/s × 0.63 (H100 fit) × 4096/(4096 + 128) = 604.43 TFLOP/s; 8 micro-batches of 4096
    // tokens; the linears forward + backward = 3 × forward: 8 · 3 · (3,506,503,680 − 268,500,992) ·
    // 4096 / rate = 0.52664 s; the attention core (8 × 33,562,624 = 268,500,992 per token) forward +
    // FlashAttention's 2.5 × backward at 0.35 × 989.4 TFLOP/s (FlashAttention-2 on Hopper):
    // 8 · 3.5 · 268,500,992 · 4096 / 346.29e12 = 0.08892 s; together 0.61555 s.
    const double rate = 989.4e12 * 0.63 * 4096 / 4224;
    CHECK(t.matmul_rate == Approx(rate).epsilon(1e-12));
    const double attention = 8 * 33562624.0;
    CHECK(t.matmul_seconds == Approx(8 * 4096 * (3 * (3506503680.0 - attention) / rate + 3.5 * attention / (989.4e12 * 0.35)))
                                  .epsilon(1e-12));
    CHECK(t.matmul_seconds == Approx(0.6155481046).epsilon(1e-9));
    // Element-wise: 6.5 × the 8 layers' 4,315,938,816 activation bytes ÷ 3.35 TB/s per micro-batch.
    CHECK(t.elementwise_seconds == Approx(8 * 6.5 * 8 * 539492352.0 / 3.35e12).epsilon(1e-9));
    CHECK(t.compute_seconds == Approx(0.6825417818).epsilon(1e-9));
    CHECK(t.bubble_seconds == Approx(7 * 0.6825417818 / 8).epsilon(1e-9));
    // Optimizer step of stage 6's 1,619,066,880 parameters: (2 × (2 + 4 + 8) + 2) B each ÷ 3.35 TB/s.
    CHECK(t.optimizer_seconds == Approx(30 * 1619066880.0 / 3.35e12).epsilon(1e-12));
}

TEST_CASE("published uneven layouts plan: DeepSeek-V3, BLOOM-176B, Llama 3.1 405B", "[pipeline]") {
    const GpuSpec& h100 = gpu_or_throw("h100-sxm", "t");
    {  // DeepSeek-V3: 61 layers, pp 16, ep 64 (V3 report §3.2); 2048 GPUs.
        TrainConfig c;
        c.parallel.gpus = 2048;
        c.parallel.pp = 16;
        c.parallel.ep = 64;
        c.parallel.zero = 1;
        c.parallel.split.balanced = true;
        c.seq = 4096;
        c.recompute = Recompute::full;
        const MemoryPlan plan = plan_memory(preset_or_throw("deepseek-v3", "t"), h100, c);
        REQUIRE(plan.stages.size() == 16);
        CHECK(plan.stages[0].layers == 3);
        CHECK(plan.stages[2].layers == 4);
        CHECK(plan.stages[15].layers == 3);
        CHECK(plan.stages[15].first_layer == 58);
        const PerfPlan perf = plan_perf(plan, default_cluster(h100, 8), {});
        CHECK(perf.step_seconds > 0);
    }
    {  // BLOOM-176B: 70 layers over 12 stages, tp 4, 384 A100 80GB; the embedding and the loss
       // counted as layers (Megatron-DeepSpeed's partition): stages 0 and 11 hold 5.
        ModelSpec bloom = preset_or_throw("bloom-560m", "t");
        bloom.name = "bloom-176b";
        bloom.n_layers = 70;
        bloom.d_model = 14336;
        bloom.n_heads = 112;
        bloom.n_kv_heads = 112;
        bloom.head_dim = 128;
        bloom.d_ff = 4 * 14336;
        bloom.vocab_size = 250880;
        TrainConfig c;
        c.parallel.gpus = 384;
        c.parallel.tp = 4;
        c.parallel.pp = 12;
        c.parallel.zero = 1;
        c.parallel.split.embedding_as_layer = true;
        c.parallel.split.loss_as_layer = true;
        c.seq = 2048;
        c.recompute = Recompute::full;
        const MemoryPlan plan = plan_memory(bloom, gpu_or_throw("a100-80g", "t"), c);
        CHECK(plan.stages[0].layers == 5);
        CHECK(plan.stages[1].layers == 6);
        CHECK(plan.stages[11].layers == 5);
    }
    {  // Llama 3.1 405B: 126 layers over 16 stages, one layer fewer on the first and the last
       // (Llama 3 paper §3.3.2): --pp-first-last 7,7.
        TrainConfig c;
        c.parallel.gpus = 16384;
        c.parallel.tp = 8;
        c.parallel.pp = 16;
        c.parallel.split.first = 7;
        c.parallel.split.last = 7;
        c.seq = 8192;
        c.global_batch = 2048;
        const MemoryPlan plan = plan_memory(preset_or_throw("llama-3.1-405b", "t"), h100, c);
        CHECK(plan.stages[0].layers == 7);
        CHECK(plan.stages[1].layers == 8);
        CHECK(plan.stages[15].layers == 7);
        CHECK(plan_perf(plan, default_cluster(h100, 8), {}).step_seconds > 0);
    }
}

TEST_CASE("search tries pipeline sizes that do not divide the layers: balanced, or the embedding and loss as layers", "[pipeline][search]") {
    const ModelSpec m = llama_61();
    TrainConfig base;
    base.parallel.gpus = 8;
    base.seq = 4096;
    base.global_batch = 64;
    SearchSpace space;
    space.zero = {0};
    space.recompute = {Recompute::full};
    space.micro_batches = {1};
    space.virtual_stages = {1, 2};
    space.max_tp = 1;
    const GpuSpec& h100 = gpu_or_throw("h100-sxm", "t");
    const SearchResult r = search_layouts(m, h100, base, default_cluster(h100, 8), {}, space, SearchRank::time, 100);
    // tp 1: pp ∈ {1, 2, 4, 8}; 61 is prime, so pp 2, 4, 8 are uneven; interleaved too, since
    // neither 62 nor 63 divides by pp × 2: balanced over the model chunks.
    bool uneven = false, interleaved = false;
    for (const SearchCandidate& cand : r.top) {
        const ParallelLayout& p = cand.config.parallel;
        CHECK(p.split.balanced == (p.pp > 1));
        CHECK_FALSE(p.split.chosen_by_llmplan);
        uneven = uneven || p.split.balanced;
        interleaved = interleaved || (p.split.balanced && p.virtual_stages == 2);
    }
    CHECK(uneven);
    CHECK(interleaved);
    // 30 layers: pp 4 × 2 chunks = 8 divides 30 + 2, so the interleaved layout counts the
    // embedding and the loss as layers (as NVIDIA's recipes), pp 4 alone is balanced.
    ModelSpec m30 = m;
    m30.n_layers = 30;
    const SearchResult r30 = search_layouts(m30, h100, base, default_cluster(h100, 8), {}, space, SearchRank::time, 100);
    bool accounted = false;
    for (const SearchCandidate& cand : r30.top) {
        const ParallelLayout& p = cand.config.parallel;
        if (p.pp == 4 && p.virtual_stages == 2) {
            CHECK(p.split.embedding_as_layer);
            CHECK(p.split.loss_as_layer);
            CHECK(pipeline_chunk_layers(30, p) == std::vector<int>{3, 4, 4, 4, 4, 4, 4, 3});
            accounted = true;
        }
        if (p.pp == 4 && p.virtual_stages == 1) CHECK(p.split.balanced);
    }
    CHECK(accounted);
}
