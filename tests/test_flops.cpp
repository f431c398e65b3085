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
