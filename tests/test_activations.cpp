// test_activations.cpp — saved activations per layer: every row of Korthikanti et al. 2022
// Table 2 (16-bit, dropout, eager attention, GELU 4h), then the extensions (flash, GQA, SwiGLU,
// fp32, fp8, MoE) against sums worked out by hand in the comments.
#include "planner/activations.h"

#include <catch2/catch.hpp>

using namespace llmplan;

namespace {

// GPT-3-like layer: h 4096, a 32 heads of 128, GELU with f = 4h, LayerNorm.
ModelSpec gpt_layer() {
    ModelSpec m;
    m.name = "gpt-like";
    m.n_layers = 1;
    m.d_model = 4096;
    m.n_heads = m.n_kv_heads = 32;
    m.head_dim = 128;
    m.d_ff = 4 * 4096;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.vocab_size = 50257;
    m.max_positions = 2048;
    m.position = PositionEmbedding::learned;
    return m;
}

// Llama-style layer: SwiGLU f 11008 (Mixtral: 14336, 8 experts top-2), GQA with 8 kv heads.
ModelSpec llama_layer(int d_ff = 11008, int kv = 8) {
    ModelSpec m = gpt_layer();
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.d_ff = d_ff;
    m.n_kv_heads = kv;
    m.position = PositionEmbedding::rotary;
    m.vocab_size = 32000;
    m.max_positions = 4096;
    return m;
}

TrainConfig job(std::int64_t s, std::int64_t b, int t, bool sp, Recompute r, Attention att, double dropout,
                Precision p = Precision::mixed_bf16) {
    TrainConfig c;
    c.seq = s;
    c.micro_batch = b;
    c.parallel.gpus = t;
    c.parallel.tp = t;
    c.parallel.sp = sp;
    c.recompute = r;
    c.attention = att;
    c.dropout = dropout;
    c.precision = p;
    return c;
}

double layer_bytes(const ModelSpec& m, const TrainConfig& c) {
    return saved_bytes(layer_saved_tensors(m, c, c.recompute), activation_shape(c));
}

}  // namespace

TEST_CASE("Korthikanti Table 2, every row (s 2048, b 4, h 4096, a 32, t 8)", "[activations][golden]") {
    const ModelSpec m = gpt_layer();
    const double sbh = 2048.0 * 4 * 4096;  // 33,554,432; 5as/h = 80
    struct Row { const char* name; int t; bool sp; Recompute r; double expected; };
    const Row rows[] = {
        {"no parallelism, no recompute: sbh(34 + 5as/h)", 1, false, Recompute::none, 114 * sbh},        // 3,825,205,248
        {"tensor parallel: sbh(10 + 24/t + 5as/(ht))", 8, false, Recompute::none, 23 * sbh},            // 771,751,936
        {"tensor + sequence parallel: sbh(34/t + 5as/(ht))", 8, true, Recompute::none, 14.25 * sbh},    // 478,150,656
        {"tensor parallel + selective: sbh(10 + 24/t)", 8, false, Recompute::selective, 13 * sbh},      // 436,207,616
        {"tensor + sequence parallel + selective: 34sbh/t", 8, true, Recompute::selective, 4.25 * sbh}, // 142,606,336
        {"full recompute: 2sbh", 1, false, Recompute::full, 2 * sbh},                                   // 67,108,864
    };
    for (const Row& row : rows) {
        INFO(row.name);
        const TrainConfig c = job(2048, 4, row.t, row.sp, row.r, Attention::eager, 0.1);
        CHECK(layer_bytes(m, c) == row.expected);
        CHECK(korthikanti_layer_bytes(2048, 4, 4096, 32, row.t, row.sp, row.r) == row.expected);
    }
    CHECK(layer_bytes(m, job(2048, 4, 1, false, Recompute::none, Attention::eager, 0.1)) == 3825205248.0);
    // Full recompute with sequence parallelism stores the layer input split over t: 2sbh/t.
    CHECK(layer_bytes(m, job(2048, 4, 8, true, Recompute::full, Attention::eager, 0.1)) == 2 * sbh / 8);
}

TEST_CASE("the 34 = 11 + 19 + 4 split and the 5as²b term, tensor by tensor", "[activations][golden]") {
    const ModelSpec m = gpt_layer();
    const TrainConfig c = job(2048, 4, 1, false, Recompute::none, Attention::eager, 0.1);
    const auto tensors = layer_saved_tensors(m, c, Recompute::none);
    const double sbh = 2048.0 * 4 * 4096, as2b = 32.0 * 2048 * 2048 * 4;
    double attention = 0, mlp = 0, s2 = 0;
    for (const SavedTensor& t : tensors) {
        const double bytes = t.elements * t.element_bytes;
        if (t.name == "attention.softmax_output" || t.name == "attention.dropout_mask" || t.name == "attention.dropout_output")
            s2 += bytes;
        else if (t.name.rfind("attention.", 0) == 0) attention += bytes;
        else mlp += bytes;
    }
    CHECK(s2 == 5 * as2b);
    CHECK(attention == 13 * sbh);  // 11sbh + the attention LayerNorm input (2sbh)
    CHECK(mlp == 21 * sbh);        // 19sbh + the MLP LayerNorm input (2sbh)
}

TEST_CASE("extensions: flash attention, GQA, SwiGLU, no dropout", "[activations][golden]") {
    // Llama-style, flash, no dropout, bf16, s 4096, b 1: 12sbh of hidden-sized tensors (2 norm inputs,
    // qkv input, q, o, mlp input) = 201,326,592; k and v with 8 kv heads: 2·2·sb·1024 = 16,777,216;
    // log-sum-exp 4·a·s·b = 524,288; gate, up, down inputs 3·2·sb·f = 270,532,608. Sum 489,160,704.
    const ModelSpec m = llama_layer();
    CHECK(layer_bytes(m, job(4096, 1, 1, false, Recompute::none, Attention::flash, 0.0)) == 489160704.0);
    // Selective recompute with flash drops the log-sum-exp only.
    CHECK(layer_bytes(m, job(4096, 1, 1, false, Recompute::selective, Attention::flash, 0.0)) == 489160704.0 - 524288.0);
    // Eager without dropout: the softmax output replaces the LSE: + 2·a·s²·b.
    CHECK(layer_bytes(m, job(4096, 1, 1, false, Recompute::none, Attention::eager, 0.0)) ==
          489160704.0 - 524288.0 + 2.0 * 32 * 4096 * 4096);
}

TEST_CASE("extensions: fp32 and fp8 storage", "[activations][golden]") {
    // GPT-2 124M layer in fp32, eager, no dropout, s 1024, b 1 (h 768, a 12, f 3072):
    // 8 hidden-sized tensors (8 · 786,432) + 2 MLP tensors (2 · 3,145,728) + softmax 12 · 1024² elements
    // = 25,165,824 elements × 4 bytes.
    ModelSpec m = gpt_layer();
    m.d_model = 768;
    m.n_heads = m.n_kv_heads = 12;
    m.head_dim = 64;
    m.d_ff = 3072;
    CHECK(layer_bytes(m, job(1024, 1, 1, false, Recompute::none, Attention::eager, 0.0, Precision::fp32)) == 100663296.0);
    // fp8 (Transformer Engine): linear inputs qkv, o, mlp input (3 sbh) and down input (sbf) are 1 byte.
    const ModelSpec l = llama_layer();
    CHECK(layer_bytes(l, job(4096, 1, 1, false, Recompute::none, Attention::flash, 0.0, Precision::fp8)) ==
          489160704.0 - 3 * 16777216.0 - 45088768.0);
}

TEST_CASE("extensions: mixture of experts (Mixtral shape, top-2)", "[activations][golden]") {
    // Attention as Llama with 8 kv heads: 151,519,232. MLP: norm input + input 4sbh = 67,108,864;
    // router logits fp32 4·sb·8 = 131,072; dispatched tokens and expert outputs 2 × 2·k·sbh = 134,217,728;
    // expert SwiGLU tensors k·3·2·sb·f = 704,643,072. Sum 1,057,619,968.
    ModelSpec m = llama_layer(14336, 8);
    m.n_experts = 8;
    m.top_k = 2;
    CHECK(layer_bytes(m, job(4096, 1, 1, false, Recompute::none, Attention::flash, 0.0)) == 1057619968.0);
}

TEST_CASE("logits: fp32, vocabulary split over tensor-parallel ranks (4sbv/t)", "[activations][golden]") {
    const ModelSpec l = llama_layer();
    CHECK(logits_bytes(l, job(4096, 1, 1, false, Recompute::none, Attention::flash, 0.0)) == 524288000.0);
    CHECK(logits_bytes(l, job(4096, 1, 8, false, Recompute::none, Attention::flash, 0.0)) == 65536000.0);
    const ModelSpec g = gpt_layer();  // 50257 / 8 rounds up to 6283 per rank
    CHECK(logits_bytes(g, job(4096, 1, 8, false, Recompute::none, Attention::flash, 0.0)) == 102940672.0);
}

TEST_CASE("context parallelism divides the sequence each rank holds", "[activations]") {
    const ModelSpec m = llama_layer();
    TrainConfig c = job(8192, 1, 1, false, Recompute::none, Attention::flash, 0.0);
    const double whole = layer_bytes(m, c);
    c.parallel.cp = 2;
    c.parallel.gpus = 2;
    CHECK(layer_bytes(m, c) == whole / 2);
}
