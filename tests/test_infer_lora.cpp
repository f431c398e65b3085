// test_infer_lora.cpp — `llmplan infer` and LoRA/QLoRA in `plan`: counts as PEFT prints them,
// bytes per format, KV cache, paged blocks, fit searches and the seed lecture's out-of-memory.
#include "planner/infer.h"
#include "planner/lora.h"
#include "planner/memory.h"
#include "planner/quant.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

using namespace llmplan;

TEST_CASE("LoRA: trainable parameters exactly as PEFT prints them", "[lora][golden]") {
    const ModelSpec llama = preset_or_throw("llama-2-7b", "--model");
    LoraConfig l;
    l.rank = 8;  // PEFT default targets for Llama: q_proj, v_proj
    // PEFT: "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622"
    CHECK(count_lora(llama, l).adapter_params == 4194304);
    l.rank = 16;
    l.targets = parse_lora_targets("all", "--lora-targets");
    // 32 × 16 × (4·(4096 + 4096) + 3·(4096 + 11008)) = 39,976,960 (PEFT, all linear layers, r 16)
    CHECK(count_lora(llama, l).adapter_params == 39976960);
    // GPT-2: q, v → the fused c_attn (768 → 2304) once per layer: 12 × 8 × (768 + 2304) = 294,912.
    LoraConfig g;
    g.rank = 8;
    CHECK(count_lora(preset_or_throw("gpt2-124m", "--model"), g).adapter_params == 294912);
    CHECK(parse_lora_targets("q_proj, v_proj", "--lora-targets") == (lora_q | lora_v));
    CHECK_THROWS_WITH(parse_lora_targets("q,x", "--lora-targets"), Catch::Contains("--lora-targets"));
}

TEST_CASE("LoRA and QLoRA memory: frozen base, fp32 adapters with their gradients and AdamW", "[lora][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.seq = 2048;
    c.lora.rank = 8;
    const StageMemory s = plan_memory(m, *find_gpu("a100-80g"), c).worst();
    const double psi = 6738415616.0, a = 4194304.0;
    CHECK(s.parameters == Approx(psi * 2 + a * 4));  // bf16 base + fp32 adapters
    CHECK(s.gradients == Approx(a * 4));
    CHECK(s.master == 0);
    CHECK(s.optimizer_states == Approx(a * 8));  // AdamW m, v
    // QLoRA: the 6,476,005,376 layer matmul weights in NF4 with double quantization
    // (0.5 + 1/64 + 4/16384 B each), the rest (embedding, head, norms: 262,410,240) in bf16.
    c.lora.base_quant = BaseQuant::nf4;
    const StageMemory q = plan_memory(m, *find_gpu("a100-80g"), c).worst();
    const double layer_matmul = 32.0 * (4 * 4096.0 * 4096 + 3 * 4096.0 * 11008);
    CHECK(layer_matmul == 6476005376.0);
    CHECK(q.parameters == Approx(layer_matmul * (0.5 + 1.0 / 64 + 4.0 / 16384) + (psi - layer_matmul) * 2 + a * 4));
    CHECK(q.temporary >= 2 * 4096.0 * 11008);  // one matrix dequantized to bf16
    // Paged optimizer (bitsandbytes): the adapters' AdamW state leaves the GPU peak for CPU memory.
    c.lora.paged_optimizer = true;
    const StageMemory paged = plan_memory(m, *find_gpu("a100-80g"), c).worst();
    CHECK(paged.optimizer_states == 0);
    CHECK(paged.cpu_offload == Approx(a * 8));
    TrainConfig bad;
    bad.lora.base_quant = BaseQuant::nf4;
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("a100-80g"), bad), Catch::Contains("needs --lora-rank"));
}

TEST_CASE("quant: bytes per weight of each format", "[infer][golden]") {
    CHECK(weight_bytes_per_element({WeightFormat::bf16}, 4096) == 2);
    CHECK(weight_bytes_per_element({WeightFormat::int8}, 4096) == Approx(1 + 4.0 / 4096));
    CHECK(weight_bytes_per_element({WeightFormat::int4, 128}, 4096) == Approx(0.5 + 2.5 / 128));
    CHECK(weight_bytes_per_element({WeightFormat::int3, 64}, 4096) == Approx(0.375 + 2.375 / 64));
    CHECK(weight_bytes_per_element({WeightFormat::nf4, 64, true}, 4096) == Approx(0.5 + 1.0 / 64 + 4.0 / 16384));
    CHECK(weight_bytes_per_element({WeightFormat::nf4, 64, false}, 4096) == Approx(0.5625));
    // QLoRA §3: double quantization saves (32 − 8)/64 − 32/(64·256) ≈ 0.373 bits per parameter.
    CHECK((0.5625 - weight_bytes_per_element({WeightFormat::nf4, 64, true}, 4096)) * 8 == Approx(0.373).epsilon(0.01));
    CHECK_THROWS_WITH(parse_weight_format("int5", "--weights"), Catch::Contains("--weights"));
}

TEST_CASE("infer: KV cache, paged blocks, what fits", "[infer][golden]") {
    const ModelSpec m = preset_or_throw("llama-3-8b", "--model");
    InferConfig c;
    c.batch = 16;
    c.prompt = 1000;
    c.generate = 24;
    const InferPlan p = plan_inference(m, *find_gpu("h100-sxm"), c);
    // 2 (K, V) × 32 layers × 8 kv heads × 128 × 2 B = 131,072 B per token.
    CHECK(p.kv_bytes_per_token == 131072);
    CHECK(p.kv_cache == Approx(131072.0 * 16 * 1024));
    CHECK(p.weights == Approx(8030261248.0 * 2));
    CHECK(p.fits);
    // vLLM: 1,024 tokens fit 64 blocks exactly; 1,025 need 65 (15 tokens of waste per sequence).
    c.framework = InferFramework::vllm;
    c.generate = 25;
    const InferPlan v = plan_inference(m, *find_gpu("h100-sxm"), c);
    CHECK(v.kv_cache == Approx(131072.0 * 16 * 65 * 16));
    CHECK(v.kv_waste == Approx(131072.0 * 16 * 15));
    CHECK(v.vllm_max_sequences == v.vllm_kv_blocks / 65);
    // The largest batch fits, one more does not.
    c.framework = InferFramework::generic;
    const InferPlan g = plan_inference(m, *find_gpu("h100-sxm"), c);
    InferConfig at = c, over = c;
    at.batch = g.max_batch;
    over.batch = g.max_batch + 1;
    CHECK(plan_inference(m, *find_gpu("h100-sxm"), at).fits);
    CHECK_FALSE(plan_inference(m, *find_gpu("h100-sxm"), over).fits);
    // int4 weights (GPTQ, group 128): the 6,979,321,856 layer matmul weights at 0.5 + 2.5/128 B, the
    // embedding, head and norms (1,050,939,392) stay bf16.
    c.weights = {WeightFormat::int4, 128};
    CHECK(plan_inference(m, *find_gpu("h100-sxm"), c).weights == Approx(6979321856.0 * (0.5 + 2.5 / 128) + 1050939392.0 * 2));
}

TEST_CASE("infer: a decode step reads weights and KV once (memory-bound)", "[infer][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    InferConfig c;
    c.batch = 1;
    c.prompt = 512;
    c.generate = 256;
    const GpuSpec& h100 = *find_gpu("h100-sxm");
    const InferPlan p = plan_inference(m, h100, c);
    CHECK_FALSE(p.decode_compute_bound);
    const double bytes = 6738415616.0 * 2 + 640 * 524288.0;  // weights + KV at the mean context 512 + 128
    CHECK(p.decode_bytes_per_step == Approx(bytes));
    CHECK(p.decode_step_seconds == Approx(bytes / (3.35e12 * kDecodeBandwidthEfficiency) + 32 * kGraphDecodeOverheadPerLayer));
    CHECK(p.tokens_per_second_per_sequence == Approx(1 / p.decode_step_seconds));
}

namespace {

// DeepSeek-V3's shape (config.json: 61 layers, the first 3 dense, MLA with kv_lora_rank 512 and a
// 64-wide RoPE key, 256 routed experts of 2048, top 8, one shared expert, one MTP module).
ModelSpec deepseek_v3_shape() {
    ModelSpec m;
    m.name = "deepseek-v3-shape";
    m.family = "deepseek_v3";
    m.n_layers = 61;
    m.d_model = 7168;
    m.n_heads = m.n_kv_heads = 128;
    m.head_dim = 64;  // transformers sets head_dim = qk_rope_head_dim; MLA's widths are in `mla`
    m.d_ff = 18432;
    m.moe_d_ff = 2048;
    m.shared_d_ff = 2048;
    m.n_experts = 256;
    m.top_k = 8;
    m.vocab_size = 129280;
    m.max_positions = 163840;
    m.attention_form = AttentionForm::mla;
    m.mla = {1536, 512, 128, 64, 128};
    m.mtp_layers = 1;
    for (int i = 0; i < m.n_layers; ++i) m.layer_kinds.push_back({i >= 3, LayerAttention::global, true});
    return m;
}

// Gemma-3-27B's attention shape: 62 layers, every 6th global, the others sliding over 1024 tokens;
// 16 kv heads of 128. `all_global`: the same model without windows.
ModelSpec gemma3_like(bool all_global = false) {
    ModelSpec m;
    m.name = "gemma3-like";
    m.family = "gemma3_text";
    m.n_layers = 62;
    m.d_model = 5376;
    m.n_heads = 32;
    m.n_kv_heads = 16;
    m.head_dim = 128;
    m.d_ff = 21504;
    m.vocab_size = 262208;
    m.max_positions = 131072;
    m.tied_embeddings = true;
    m.norms_per_layer = 4;
    m.qk_norm = QkNorm::per_head;
    m.sliding_window = 1024;
    for (int i = 0; i < m.n_layers; ++i)
        m.layer_kinds.push_back({false, all_global || (i + 1) % 6 == 0 ? LayerAttention::global : LayerAttention::sliding, true});
    return m;
}

KvLayout layout_of(std::vector<KvGroup> groups) {
    KvLayout kv;
    kv.groups = std::move(groups);
    return kv;
}

}  // namespace

TEST_CASE("infer: MLA's KV cache is the compressed latent, expanded only in transformers", "[infer][golden]") {
    const ModelSpec m = deepseek_v3_shape();
    InferConfig c;
    c.prompt = 1000;
    c.generate = 24;
    const GpuSpec& h200 = *find_gpu("h200");
    // 61 layers × (kv_lora_rank 512 + qk_rope_head_dim 64) × 2 B = 70,272 B per token (DeepSeek-V2 Table 1).
    const InferPlan p = plan_inference(m, h200, c);
    CHECK(p.kv.mla_latent);
    CHECK(p.kv_bytes_per_token == 70272);
    CHECK(p.kv_cache == 70272.0 * 1024);
    // vLLM stores the same latent, whole on every tensor-parallel GPU (one "kv head").
    c.framework = InferFramework::vllm;
    c.tp = 8;
    const InferPlan v = plan_inference(m, h200, c);
    CHECK(v.kv_bytes_per_token == 70272);
    CHECK(v.vllm_pool.block_bytes == 16.0 * 61 * 576 * 2);
    CHECK(v.vllm_blocks_per_sequence == 64);  // 1,024 tokens, one group of all 61 layers
    // transformers caches keys of 128 heads × (128 + 64) and values of 128 heads × 128:
    // 61 × 128 × 320 × 2 B = 4,997,120 B per token; split by heads under tensor parallelism.
    c.framework = InferFramework::hf;
    c.tp = 1;
    const InferPlan h = plan_inference(m, h200, c);
    CHECK_FALSE(h.kv.mla_latent);
    CHECK(h.kv_bytes_per_token == 4997120);
    c.tp = 8;
    CHECK(plan_inference(m, h200, c).kv_bytes_per_token == 4997120 / 8);
    // The MTP module is not served: the weights are the 671,026,404,352 parameters of the model in bf16.
    CHECK(count_params(m).mtp > 0);
    CHECK(count_params(m).total() == 671026404352);
    CHECK(p.weights == 671026404352.0 * 2);
}

TEST_CASE("infer: sliding-window layers keep at most their window", "[infer][golden]") {
    const ModelSpec m = gemma3_like();
    InferConfig c;
    c.prompt = 8000;
    c.generate = 192;  // 8,192 tokens
    c.batch = 2;
    const GpuSpec& h200 = *find_gpu("h200");
    const InferPlan p = plan_inference(m, h200, c);
    // 2 × 16 kv heads × 128 × 2 B = 8,192 B per token and layer; 10 global layers hold 8,192 tokens,
    // 52 sliding layers 1,024: 8,192 × (10 × 8,192 + 52 × 1,024) = 1,107,296,256 B per sequence
    // (without windows 62 × 8,192 × 8,192 = 4,160,749,568).
    REQUIRE(p.kv.groups.size() == 2);
    CHECK(p.kv_bytes_per_token == 62 * 8192);
    CHECK(p.kv_cache == 2 * 1107296256.0);
    CHECK(p.kv_prefill == 2 * (10 * 8192.0 * 8000 + 52 * 8192.0 * 1024));
    // transformers' generate keeps every layer's whole prompt until the first decode step (a sliding
    // layer's cache is a view of the prompt-long K and V), then the window.
    c.framework = InferFramework::hf;
    const InferPlan h = plan_inference(m, h200, c);
    CHECK(h.kv_cache == 2 * 1107296256.0);
    CHECK(h.kv_prefill == 2 * 8000.0 * 62 * 8192);
    // The decode step reads the KV at the mean context 8,096: 10 × 8,096 + 52 × 1,024 tokens per layer.
    c.framework = InferFramework::generic;
    CHECK(p.decode_bytes_per_step == Approx(p.weights + 2 * 8192.0 * (10 * 8096 + 52 * 1024)));
    // Prefill attention over the 8,192-token prompt: a global layer's token meets (T + 1)/2 = 4,096.5
    // keys on average, a sliding one (1024·1025/2 + 7168·1024)/8192 = 960.0625; each key costs
    // 4 × 32 heads × 128 FLOPs. The windows save 52 × 3,136.4375 × 16,384 FLOPs per token.
    c.prompt = 8192;
    c.generate = 0;
    c.batch = 1;
    const double windowed = plan_inference(m, h200, c).prefill_flops;
    const double global = plan_inference(gemma3_like(true), h200, c).prefill_flops;
    CHECK(global - windowed == Approx(8192.0 * 52 * (4096.5 - 960.0625) * 16384));
    // Chunked layers (Llama 4) keep the tokens of their chunk: at most attention_chunk.
    const KvGroup chunked{LayerAttention::chunked, 36, 8192, 4096};
    CHECK(KvLayout::tokens_held(chunked, 5000) == 5000);
    CHECK(KvLayout::tokens_held(chunked, 20000) == 8192);
}

TEST_CASE("infer: GQA K and V per token with head_dim apart from d/h, and kv heads replicated over tp", "[infer][golden]") {
    // Qwen3-32B: 64 layers, 64 heads of 128 (d 5120: d/h = 80), 8 kv heads:
    // 2 × 64 × 8 × 128 × 2 B = 262,144 B per token.
    ModelSpec m = preset_or_throw("llama-3-8b", "--model");
    m.n_layers = 64;
    m.d_model = 5120;
    m.n_heads = 64;
    m.head_dim = 128;
    m.d_ff = 25600;
    m.qk_norm = QkNorm::per_head;
    InferConfig c;
    CHECK(plan_inference(m, *find_gpu("h200"), c).kv_bytes_per_token == 262144);
    // tp 16 > 8 kv heads: every GPU keeps one kv head (vLLM replicates), 2 × 64 × 1 × 128 × 2 B.
    c.tp = 16;
    CHECK(plan_inference(m, *find_gpu("h200"), c).kv_bytes_per_token == 32768);
    c.tp = 4;
    CHECK(plan_inference(m, *find_gpu("h200"), c).kv_bytes_per_token == 65536);
}

TEST_CASE("infer: expected routed experts a decode step reads", "[infer][golden]") {
    // E · (1 − (1 − k/E)^B), E = 256, k = 8: one token reads its 8 experts; 8 tokens 57.42; 256 tokens
    // nearly all (255.92).
    CHECK(expected_experts_touched(256, 8, 1) == Approx(8.0).epsilon(1e-12));
    CHECK(expected_experts_touched(256, 8, 8) == Approx(57.420830785995349).epsilon(1e-12));
    CHECK(expected_experts_touched(256, 8, 256) == Approx(255.92441438744697).epsilon(1e-12));
    // DeepSeek-V3 at batch 1: the step reads every weight but 248 of 256 routed experts in each of
    // the 58 MoE layers (653,908,770,816 routed parameters): 2 × 37,552,282,624 active parameters.
    const ModelSpec m = deepseek_v3_shape();
    InferConfig c;
    c.prompt = 1000;
    c.generate = 48;
    const InferPlan p = plan_inference(m, *find_gpu("h200"), c);
    CHECK(p.experts_touched == Approx(8.0));
    CHECK(p.decode_weight_bytes == Approx(2 * 37552282624.0));
    CHECK(count_params(m).active == 37552282624);
    CHECK(p.decode_bytes_per_step == Approx(2 * 37552282624.0 + 1024 * 70272.0));
    c.batch = 8;
    const InferPlan b8 = plan_inference(m, *find_gpu("h200"), c);
    CHECK(b8.decode_weight_bytes ==
          Approx(p.weights - 2 * 653908770816.0 * (1 - 57.420830785995349 / 256)));
}

TEST_CASE("infer: vLLM's hybrid KV cache manager — groups, blocks per request, the pool", "[infer][golden]") {
    // Grouping (kv_cache_utils._get_kv_cache_groups_uniform_page_size): Gemma-3-27B's 52 sliding and
    // 10 full layers give groups of 10 — 1 full + 6 sliding, 8 padding layers (vLLM's design doc);
    // gpt-oss-20b with an EAGLE layer, 12 sliding + 13 full, groups of 13 (13 < 1.5 × 12), 1 padding.
    const double per_layer = 8192;
    const KvLayout gemma = layout_of({{LayerAttention::sliding, 52, 1024, per_layer}, {LayerAttention::global, 10, 0, per_layer}});
    const VllmKvPool g = vllm_kv_pool(gemma, 16);
    CHECK(g.group_size == 10);
    REQUIRE(g.kinds.size() == 2);
    CHECK(g.kinds[0].groups == 6);
    CHECK(g.kinds[1].groups == 1);
    CHECK(g.padding_layers() == 8);
    CHECK(g.block_bytes == 16 * 10 * per_layer);
    const KvLayout oss = layout_of({{LayerAttention::sliding, 12, 128, 1}, {LayerAttention::global, 13, 0, 1}});
    CHECK(vllm_kv_pool(oss, 16).group_size == 13);
    CHECK(vllm_kv_pool(oss, 16).padding_layers() == 1);
    // Blocks of an 8,192-token request with 2,048 tokens scheduled per step: the full group
    // cdiv(8192, 16) = 512; each sliding group cdiv(min(1023 + 2048, 8192), 16) + 1 = 193.
    CHECK(vllm_blocks_per_request(g, 16, 8192, 2048) == 512 + 6 * 193);
    // A whole 8,000-token prompt in one step: the sliding groups span the whole context (513 each).
    CHECK(vllm_blocks_per_request(g, 16, 8192, 8000) == 512 + 6 * 513);
    // Chunked (Llama 4, chunk 8192): cdiv(min(8192 + 2048, 20000), 16) = 640 per group.
    const KvLayout llama4 = layout_of({{LayerAttention::chunked, 36, 8192, 1}, {LayerAttention::global, 12, 0, 1}});
    const VllmKvPool l4 = vllm_kv_pool(llama4, 16);
    CHECK(l4.group_size == 12);
    CHECK(vllm_blocks_per_request(l4, 16, 20000, 2048) == 1250 + 3 * 640);

    // The plan: the pool is what the reservation leaves, in blocks of 16 tokens × 10 layers.
    const ModelSpec m = gemma3_like();
    InferConfig c;
    c.framework = InferFramework::vllm;
    c.prompt = 8000;
    c.generate = 192;
    c.prefill_chunk = 2048;
    const GpuSpec& h200 = *find_gpu("h200");
    const InferPlan v = plan_inference(m, h200, c);
    CHECK(v.vllm_pool.block_bytes == 1310720);
    CHECK(v.vllm_blocks_per_sequence == 1670);
    CHECK(v.kv_cache == 1670 * 1310720.0);
    CHECK(v.kv_waste == 1670 * 1310720.0 - 1107296256.0);
    const double free_for_kv = 0.9 * h200.memory_bytes - (v.weights + v.activations + v.logits + kVllmGraphBytes);
    CHECK(v.vllm_kv_blocks == static_cast<std::int64_t>(free_for_kv / 1310720));
    CHECK(v.vllm_max_sequences == v.vllm_kv_blocks / 1670);
}

TEST_CASE("infer: KV cache of today's presets, read from their config.json", "[infer][golden]") {
    const GpuSpec& h200 = *find_gpu("h200");
    InferConfig c;
    c.prompt = 8000;
    c.generate = 192;
    const auto plan = [&](const std::string& name) { return plan_inference(preset_or_throw(name, "--model"), h200, c); };
    // DeepSeek-V3: 61 × (512 + 64) × 2 B.
    CHECK(plan("deepseek-v3").kv_bytes_per_token == 70272);
    // Qwen3-32B: 2 × 64 layers × 8 kv heads × 128 × 2 B.
    CHECK(plan("qwen3-32b").kv_bytes_per_token == 262144);
    // Gemma-3-27B: every 6th of 62 layers global, the others sliding over 1,024 tokens; 16 kv heads of 128.
    const InferPlan gemma = plan("gemma-3-27b");
    REQUIRE(gemma.kv.groups.size() == 2);
    CHECK(gemma.kv.groups[0].attention == LayerAttention::sliding);
    CHECK(gemma.kv.groups[0].layers == 52);
    CHECK(gemma.kv.groups[0].window == 1024);
    CHECK(gemma.kv_cache == 1107296256.0);
    // gpt-oss-120b: 18 sliding (128) and 18 full layers of 2 × 8 × 64 × 2 B; vLLM: 2 groups of 18.
    c.framework = InferFramework::vllm;
    c.tp = 8;
    const InferPlan oss = plan("gpt-oss-120b");
    CHECK(oss.kv.groups[0].window == 128);
    CHECK(oss.kv_bytes_per_token == 36 * 2 * 1 * 64 * 2);
    CHECK(oss.vllm_pool.group_size == 18);
    CHECK(oss.vllm_pool.padding_layers() == 0);
    // 8,192 tokens, every prompt in one step: full cdiv(8192, 16) = 512; sliding cdiv(min(127 + 8000, 8192), 16) + 1 = 509.
    CHECK(oss.vllm_blocks_per_sequence == 512 + 509);
    // Llama 4 Scout: 36 chunked layers (8,192-token chunks) and 12 global NoPE layers.
    const InferPlan scout = plan("llama-4-scout");
    REQUIRE(scout.kv.groups.size() == 2);
    CHECK(scout.kv.groups[0].attention == LayerAttention::chunked);
    CHECK(scout.kv.groups[0].layers == 36);
    CHECK(scout.kv.groups[0].window == 8192);
    CHECK(scout.vllm_pool.group_size == 12);
}

TEST_CASE("infer: the seed lecture's TinyLlama, fp32, 100 prompts on a T4", "[infer][validation]") {
    // Seed lecture 003: `model(input_ids)` on 100 chat prompts (about 25 tokens each after the
    // template and padding) with TinyLlama-1.1B in fp32 on a T4 (14.75 GiB): CUDA out of memory.
    const ModelSpec m = model_from_hf_config_file(std::string(LLMPLAN_TEST_DATA) + "/hf/tinyllama-1.1b.json", "--hf-config");
    InferConfig c;
    c.weights = {WeightFormat::fp32};
    c.kv = WeightFormat::fp32;
    c.framework = InferFramework::hf;
    c.forward_only = true;
    c.autograd = true;  // called without torch.no_grad(): autograd keeps every activation
    c.attention = Attention::eager;
    c.batch = 100;
    c.prompt = 28;
    c.generate = 0;
    const GpuSpec& t4 = *find_gpu("t4");
    const InferPlan oom = plan_inference(m, t4, c);
    CHECK_FALSE(oom.fits);
    CHECK(oom.activations > 2 * oom.weights);  // the cause: activations kept for a backward that never comes
    // The fixes: torch.no_grad(), or bf16 weights (half of everything), or fewer prompts at once.
    InferConfig no_grad = c;
    no_grad.autograd = false;
    CHECK(plan_inference(m, t4, no_grad).fits);
    InferConfig half = c;
    half.weights = {WeightFormat::bf16};
    half.kv = WeightFormat::bf16;
    CHECK(plan_inference(m, t4, half).fits);
    InferConfig fewer = c;
    fewer.batch = 50;
    CHECK(plan_inference(m, t4, fewer).fits);
}

#include <nlohmann/json.hpp>

#include <fstream>

namespace {
// A fixture under validation/ (measured runs and the model shapes they used).
nlohmann::json validation_json(const std::string& path) {
    std::ifstream in(std::string(LLMPLAN_VALIDATION_DIR) + "/" + path);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}
}  // namespace

TEST_CASE("infer --framework hf against 10 measured transformers runs on an H100", "[infer][validation]") {
    // validation/inference/infer_h100.json (measure_infer.py; PyTorch 2.11, transformers 5.17):
    // forward passes (no_grad and autograd) and generate, bf16 and fp32, three families.
    // Target: peak within 5% of torch.cuda.max_memory_allocated().
    const nlohmann::json doc = validation_json("inference/infer_h100.json");
    const nlohmann::json shapes = validation_json("pytorch_memory/shapes.json");
    int checked = 0;
    for (const nlohmann::json& r : doc["results"]) {
        if (!r.contains("max_memory_allocated")) continue;
        const nlohmann::json& c = r["config"];
        const ModelSpec m = model_from_hf_config(shapes.at(c["shape"].get<std::string>()), c["shape"].get<std::string>());
        InferConfig ic;
        ic.weights = {c["dtype"] == "fp32" ? WeightFormat::fp32 : WeightFormat::bf16};
        ic.kv = ic.weights.format;
        ic.framework = InferFramework::hf;
        ic.batch = c["batch"];
        ic.prompt = c["prompt"];
        ic.generate = c["generate"];
        ic.attention = c["attention"] == "eager" ? Attention::eager : Attention::flash;
        ic.forward_only = c["mode"] == "forward";
        ic.autograd = c["autograd"];
        const InferPlan p = plan_inference(m, *find_gpu("h100-sxm"), ic);
        const double measured = r["max_memory_allocated"];
        INFO(c["name"].get<std::string>() << ": predicted " << p.peak << " B, measured " << measured << " B");
        CHECK(std::fabs(p.peak - measured) / measured < 0.05);
        ++checked;
    }
    CHECK(checked == 10);
}

#include "planner/pytorch_profile.h"

TEST_CASE("LoRA with PEFT: --framework pytorch against 8 measured fine-tuning runs on an H100", "[lora][validation]") {
    // validation/inference/lora_h100.json (measure_lora.py; PyTorch 2.11, transformers 5.17, PEFT):
    // LoRA r 8/16 on q,v / all linear layers, bf16 and amp-bf16 bases, GPT-2 and Llama families,
    // eager and SDPA. Target: peak within 5% of torch.cuda.max_memory_allocated(); the
    // trainable-parameter counts must equal PEFT's exactly.
    const nlohmann::json doc = validation_json("inference/lora_h100.json");
    const nlohmann::json shapes = validation_json("pytorch_memory/shapes.json");
    int checked = 0;
    for (const nlohmann::json& r : doc["results"]) {
        if (!r.contains("max_memory_allocated")) continue;
        const nlohmann::json& c = r["config"];
        const ModelSpec m = model_from_hf_config(shapes.at(c["shape"].get<std::string>()), c["shape"].get<std::string>());
        TrainConfig t;
        t.framework = Framework::pytorch;
        t.precision = parse_precision(c["precision"].get<std::string>(), "--precision");
        t.attention = c["attention"] == "eager" ? Attention::eager : Attention::flash;
        t.micro_batch = c["batch"];
        t.seq = c["seq"];
        t.lora.rank = c["rank"];
        t.lora.targets = parse_lora_targets(c["targets"].get<std::string>(), "--lora-targets");
        CHECK(count_lora(m, t.lora).adapter_params == r["trainable"].get<double>());
        const double predicted = plan_memory(m, *find_gpu("h100-sxm"), t).worst().peak_allocated;
        const double measured = r["max_memory_allocated"];
        INFO(c["name"].get<std::string>() << ": predicted " << predicted << " B, measured " << measured << " B");
        CHECK(std::fabs(predicted - measured) / measured < 0.05);
        ++checked;
    }
    CHECK(checked == 8);
}
