// test_flops.cpp — FLOPs per token: llm.c's 803.5 MFLOP/token for GPT-2 124M, Korthikanti App. A,
// PaLM App. B, and the exact count against 2 × (matmul parameters).
#include "planner/flops.h"

#include "core/presets.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmplan;

TEST_CASE("llm.c: GPT-2 124M at T = 1024 is 803.5 MFLOP per token (6N + 6·L·d·T)", "[flops][golden]") {
    ModelSpec m = preset_or_throw("gpt2-124m", "t");
    m.vocab_size = 50304;  // llm.c pads the vocabulary to a multiple of 128
    const double n = static_cast<double>(count_params(m).total());
    CHECK(n == 124475904);
    CHECK(flops_6n_causal_attention(n, 12, 768, 1024) == 803478528.0);
    CHECK(std::round(flops_6n_causal_attention(n, 12, 768, 1024) / 1e5) / 10 == 803.5);
    CHECK(flops_6n(n) == 746855424.0);
}

TEST_CASE("Korthikanti App. A: 72·B·s·l·h²(1 + s/6h + V/12lh) is the exact count with full attention", "[flops][golden]") {
    // GPT-3 175B shape, B = 1536 sequences of 2048 (their Table 5 setting). Their formula counts
    // the full s×s score matrix; llmplan's exact count is causal, so add back 3·L·(4·h·s − 2·h·(s + 1))
    // per token (forward scores + values, times 3 for training).
    const ModelSpec m = preset_or_throw("gpt3-175b", "t");
    const double B = 1536, s = 2048, l = 96, h = 12288, V = 50257;
    const TrainingFlops t = training_flops_per_token(m, 2048, Recompute::none);
    const double causal_to_full = 3 * l * (4 * h * s - 2 * h * (s + 1));
    CHECK((t.model + causal_to_full) * B * s == Approx(flops_korthikanti_iteration(B, s, l, h, V)).epsilon(1e-12));
}

TEST_CASE("PaLM App. B and the dense part: exact count vs 6N + 12·L·d·T", "[flops][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const ParamBreakdown b = count_params(m);
    const ForwardFlops f = forward_flops_per_token(m, 4096);
    // Every matmul weight is used once per token: 2 FLOPs per parameter (no biases in Llama).
    CHECK(f.dense_matmuls() == 2.0 * static_cast<double>(b.attention + b.mlp + b.head));
    // Causal attention: 2 · q · (T + 1) per layer.
    CHECK(f.attention == 32.0 * 2 * 4096 * 4097);
    // PaLM's 6N + 12·L·d·T (hand: 6 · 6,738,415,616 + 12 · 32 · 4096 · 4096 = 40,430,493,696 + 6,442,450,944 = 46,872,944,640).
    CHECK(flops_palm(static_cast<double>(b.total()), 32, 4096, 4096) == 46872944640.0);
    // The exact model FLOPs sit between 6N-without-embeddings and PaLM's (which counts the
    // embedding lookup as 6 FLOPs per parameter and non-causal attention).
    const double exact = training_flops_per_token(m, 4096, Recompute::none).model;
    CHECK(exact < 46872944640.0);
    CHECK(exact > 6.0 * static_cast<double>(b.total() - b.embedding));
}

TEST_CASE("mixture of experts: top-k experts and the router per token", "[flops][golden]") {
    const ModelSpec m = preset_or_throw("mixtral-8x7b", "t");
    const ParamBreakdown b = count_params(m);
    const ForwardFlops f = forward_flops_per_token(m, 4096);
    // Active matmul parameters: all but the embedding and the norms (Mixtral has no biases).
    CHECK(f.dense_matmuls() == 2.0 * static_cast<double>(b.active - b.embedding - b.norm));
}

TEST_CASE("recompute adds hardware FLOPs, not model FLOPs (HFU vs MFU)", "[flops]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const ForwardFlops f = forward_flops_per_token(m, 4096);
    const TrainingFlops none = training_flops_per_token(m, 4096, Recompute::none);
    const TrainingFlops full = training_flops_per_token(m, 4096, Recompute::full);
    const TrainingFlops sel = training_flops_per_token(m, 4096, Recompute::selective);
    CHECK(none.hardware == none.model);
    CHECK(full.model == none.model);
    CHECK(full.hardware == none.model + f.total() - f.logits);
    CHECK(sel.hardware == none.model + f.attention);
}

namespace {

// A tiny DeepSeek-style model: MLA attention (q through a q_lora_rank bottleneck), a dense first
// layer, then fine-grained routed experts with a shared expert.
ModelSpec tiny_mla_moe() {
    ModelSpec m;
    m.name = "tiny-mla-moe";
    m.family = "deepseek_v3";
    m.n_layers = 2;
    m.d_model = 64;
    m.n_heads = m.n_kv_heads = 4;
    m.head_dim = 4;  // HF sets head_dim = qk_rope_head_dim for MLA; unused by MLA's shapes
    m.d_ff = 128;    // the dense layer
    m.vocab_size = 100;
    m.max_positions = 64;
    m.attention_form = AttentionForm::mla;
    m.mla = MlaShape{32, 16, 8, 4, 8};  // q_lora_rank, kv_lora_rank, qk_nope, qk_rope, v_head_dim
    m.n_experts = 8;
    m.top_k = 2;
    m.moe_d_ff = 16;
    m.shared_d_ff = 32;
    m.layer_kinds = {LayerKind{false, LayerAttention::global, true}, LayerKind{true, LayerAttention::global, true}};
    return m;
}

// A single-layer standard-attention model whose head_dim (32) is not d/h (16), GQA 4/2.
ModelSpec one_layer(int window, int chunk, LayerAttention kind) {
    ModelSpec m;
    m.n_layers = 1;
    m.d_model = 64;
    m.n_heads = 4;
    m.n_kv_heads = 2;
    m.head_dim = 32;
    m.d_ff = 96;
    m.vocab_size = 100;
    m.max_positions = 64;
    m.sliding_window = window;
    m.attention_chunk = chunk;
    m.layer_kinds = {LayerKind{false, kind, true}};
    return m;
}

}  // namespace

TEST_CASE("MLA + fine-grained MoE with a shared expert and a dense first layer: FLOPs per token by hand",
          "[flops][golden]") {
    const ModelSpec m = tiny_mla_moe();
    validate_model(m, "tiny");
    // T = 10, d 64, H 4, q_lora 32, kv_lora 16, qk_nope 8, qk_rope 4 (qk_head 12), v_head 8:
    //   q: 2·64·32 + 2·32·(4·12) = 4,096 + 3,072; kv_a: 2·64·(16 + 4) = 2,560; kv_b: 2·16·4·(8 + 8) = 2,048
    //   → 11,776 per layer; scores + values 2·(4·12 + 4·8)·(10 + 1)/2 = 880; o: 2·(4·8)·64 = 4,096.
    //   dense MLP (SwiGLU, f 128): 3·2·64·128 = 49,152;
    //   MoE: 2 experts × 3·2·64·16 = 12,288 + shared 3·2·64·32 = 12,288 + router 2·64·8 = 1,024 = 25,600.
    //   logits 2·64·100 = 12,800.
    const ForwardFlops f = forward_flops_per_token(m, 10);
    CHECK(f.qkv == 23552.0);
    CHECK(f.attention == 1760.0);
    CHECK(f.output_proj == 8192.0);
    CHECK(f.mlp == 49152.0 + 25600.0);
    CHECK(f.logits == 12800.0);
    CHECK(f.total() == 121056.0);
    CHECK(f.mtp == 0.0);
    const ForwardFlops dense = layer_forward_flops(m, m.layer(0), 10), moe = layer_forward_flops(m, m.layer(1), 10);
    CHECK(dense.total() == 65904.0);
    CHECK(moe.total() == 42352.0);
    // Every active matmul weight once per token: 2 × (active − embedding − norms), no biases here.
    const ParamBreakdown b = count_params(m);
    CHECK(f.dense_matmuls() == 2.0 * static_cast<double>(b.active - b.embedding - b.norm));
    CHECK(f.dense_matmuls() == 119296.0);
    const TrainingFlops t = training_flops_per_token(m, 10, Recompute::full);
    CHECK(t.model == 3 * 121056.0);
    CHECK(t.hardware == 3 * 121056.0 + 121056.0 - 12800.0);
}

TEST_CASE("DeepSeek-V3 MTP modules: projection 2d → d, one MoE layer and logits, in training FLOPs only",
          "[flops][golden]") {
    ModelSpec m = tiny_mla_moe();
    m.mtp_layers = 1;
    const ForwardFlops f = forward_flops_per_token(m, 10);
    // 2·(2·64)·64 = 16,384 + the MoE layer 42,352 + logits 12,800 = 71,536.
    CHECK(f.mtp == 71536.0);
    CHECK(f.mtp_transformer == 42352.0);
    CHECK(f.mtp_attention == 880.0);
    CHECK(f.total() == 121056.0);  // the served model is unchanged
    CHECK(training_flops_per_token(m, 10, Recompute::none).model == 3 * (121056.0 + 71536.0));
    // Full recompute runs every layer's forward again, the MTP layer's too (121,056 − 12,800 + 42,352).
    CHECK(training_flops_per_token(m, 10, Recompute::full).hardware == 577776.0 + 150608.0);
    CHECK(training_flops_per_token(m, 10, Recompute::selective).hardware == 577776.0 + 1760.0 + 880.0);
}

TEST_CASE("sliding-window and chunked attention: exact mean keys per query, by hand", "[flops][golden]") {
    const ModelSpec m = one_layer(8, 3, LayerAttention::sliding);
    // Window 8: T ≤ 8 meets (T + 1)/2; T = 16: (8·9/2 + 8·8)/16 = 100/16; T = 20: (36 + 12·8)/20 = 6.6.
    CHECK(mean_keys_per_query(m, LayerAttention::sliding, 6) == 3.5);
    CHECK(mean_keys_per_query(m, LayerAttention::sliding, 8) == 4.5);
    CHECK(mean_keys_per_query(m, LayerAttention::sliding, 16) == 6.25);
    CHECK(mean_keys_per_query(m, LayerAttention::sliding, 20) == Approx(6.6).epsilon(1e-15));
    // Chunk 3: T = 8 is chunks 3 + 3 + 2: (6 + 6 + 3)/8 = 1.875; T ≤ 3 as causal.
    CHECK(mean_keys_per_query(m, LayerAttention::chunked, 8) == 1.875);
    CHECK(mean_keys_per_query(m, LayerAttention::chunked, 3) == 2.0);
    CHECK(mean_keys_per_query(m, LayerAttention::global, 16) == 8.5);
    // head_dim 32 ≠ d/h: q = 4·32 = 128, k = v = 2·32 = 64; scores + values 2·(128 + 128) = 512 per key.
    const ForwardFlops below = forward_flops_per_token(m, 6), beyond = forward_flops_per_token(m, 16);
    CHECK(below.attention == 512 * 3.5);   // T < w: 1,792, as a global layer
    CHECK(beyond.attention == 512 * 6.25); // T > w: 3,200 (global: 512 · 8.5 = 4,352)
    CHECK(beyond.qkv == 2.0 * 64 * (128 + 2 * 64));
    CHECK(beyond.output_proj == 2.0 * 128 * 64);
    CHECK(forward_flops_per_token(one_layer(8, 3, LayerAttention::chunked), 8).attention == 512 * 1.875);
    CHECK(forward_flops_per_token(one_layer(8, 3, LayerAttention::global), 16).attention == 512 * 8.5);
    // A Gemma-2-style pattern (sliding, global) sums its kinds: 3,200 + 4,352.
    ModelSpec pattern = m;
    pattern.n_layers = 2;
    pattern.layer_kinds = {LayerKind{false, LayerAttention::sliding, true}, LayerKind{false, LayerAttention::global, true}};
    CHECK(forward_flops_per_token(pattern, 16).attention == 7552.0);
}

TEST_CASE("today's presets: every active matmul weight is used once per token (2 FLOPs each)", "[flops][golden]") {
    // Independent of the FLOP formulas: the parameter inventory (core/model.cpp) counts the
    // weights; a token multiplies by each active one once. None of these models has biases; a tied
    // output layer reuses the embedding (V·d weights used once more).
    for (const char* name : {"deepseek-v3", "deepseek-v2-lite", "qwen3-30b-a3b", "qwen3-235b-a22b", "llama-4-scout",
                             "llama-4-maverick", "gemma-2-9b", "gemma-3-27b", "qwen3-8b", "phi-3-mini"}) {
        const ModelSpec m = preset_or_throw(name, "t");
        const ParamBreakdown b = count_params(m);
        const ForwardFlops f = forward_flops_per_token(m, 4096);
        const double tied = m.tied_embeddings ? static_cast<double>(m.vocab_size) * m.d_model : 0;
        INFO(name);
        CHECK(f.dense_matmuls() == 2.0 * (static_cast<double>(b.active - b.embedding - b.norm) + tied));
    }
}

TEST_CASE("DeepSeek-V3: three dense layers, 58 MoE layers and one MTP module, by hand", "[flops][golden]") {
    const ModelSpec m = preset_or_throw("deepseek-v3", "t");
    const ForwardFlops f = forward_flops_per_token(m, 4096);
    // Dense MLP 6·7168·18432 = 792,723,456; MoE: 8 routed + 1 shared expert of 2048, 6·7168·2048
    // = 88,080,384 each, + router 2·7168·256 = 3,670,016 → 796,393,472.
    CHECK(f.mlp == 3 * 792723456.0 + 58 * 796393472.0);
    // MLA attention core: 128 heads × (192 + 128) × 2 × (4096 + 1)/2 per layer.
    CHECK(f.attention == 61 * 2.0 * 128 * (192 + 128) * 4097 / 2);
    // MTP: 2·(2·7168)·7168 + one MoE layer + logits 2·7168·129,280.
    const ForwardFlops moe_layer = layer_forward_flops(m, m.layer(3), 4096);
    CHECK(f.mtp == 2.0 * 2 * 7168 * 7168 + moe_layer.layers() + 2.0 * 7168 * 129280);
}
