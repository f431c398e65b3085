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
    return saved_bytes(layer_saved_tensors(m, c, c.recompute, m.layer(0)), activation_shape(c));
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
    const auto tensors = layer_saved_tensors(m, c, Recompute::none, m.layer(0));
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

TEST_CASE("extensions: squared ReLU (Nemotron-4 15B layer), GELU's sizes, SwiGLU's one tensor fewer", "[activations][golden]") {
    // h 6144, 48 heads of 128, 8 kv heads, f 24576, LayerNorm, rotary, relu2; flash, no dropout,
    // mixed-bf16 (2 bytes), s 4096, b 1, t 1; sb = 4096, sbh = 25,165,824.
    //   hidden-sized: both norm inputs, qkv input, Q, attention output, MLP input: 6 × 2sbh = 301,989,888
    //   K and V of 8 × 128 = 1024: 2 × 2·sb·1024 = 16,777,216; log-sum-exp 4·48·sb = 786,432
    //   MLP: relu's output (pow's input, its backward's and relu's own) and the down projection's
    //   input relu(x)², 2 × 2·sb·f = 402,653,184 (the up projection's output is not kept)
    //   sum 722,206,720.
    ModelSpec m = llama_layer(24576, 8);
    m.d_model = 6144;
    m.n_heads = 48;
    m.activation = Activation::relu2;
    m.norm = Norm::layernorm;
    const TrainConfig c = job(4096, 1, 1, false, Recompute::none, Attention::flash, 0.0);
    CHECK(layer_bytes(m, c) == 722206720.0);
    std::vector<std::string> mlp;
    for (const SavedTensor& t : layer_saved_tensors(m, c, Recompute::none, m.layer(0)))
        if (t.name.rfind("mlp.", 0) == 0) mlp.push_back(t.name + " " + std::to_string(static_cast<long long>(t.elements)));
    CHECK(mlp == std::vector<std::string>{"mlp.norm_input 25165824", "mlp.input 25165824", "mlp.relu_output 100663296",
                                          "mlp.down_input 100663296"});
    // GELU keeps the same two sizes (its input and output); SwiGLU one more, the up output 2·sb·f.
    ModelSpec gelu = m;
    gelu.activation = Activation::gelu;
    CHECK(layer_bytes(gelu, c) == 722206720.0);
    ModelSpec swiglu = m;
    swiglu.activation = Activation::swiglu;
    CHECK(layer_bytes(swiglu, c) == 722206720.0 + 2 * 4096.0 * 24576);
    // fp8: the down projection's input is 1 byte, relu's output stays 2 (not a linear input); tensor
    // parallelism (t 8, no sp) splits both: (2 + 1)·sb·f / 8 = 37,748,736.
    const TrainConfig fp8 = job(4096, 1, 8, false, Recompute::none, Attention::flash, 0.0, Precision::fp8);
    double inner = 0;
    for (const SavedTensor& t : layer_saved_tensors(m, fp8, Recompute::none, m.layer(0)))
        if (t.name == "mlp.relu_output" || t.name == "mlp.down_input") inner += t.bytes_per_rank(8, false);
    CHECK(inner == 37748736.0);
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

namespace {

// A small DeepSeek-style model: MLA (q_lora_rank 32, kv_lora_rank 16, qk 16 + 8 RoPE, v 16, 4 heads),
// h 64, SwiGLU; layer 0 dense (d_ff 128), layers 1-3 MoE: 8 routed experts of 32, top-2, one
// shared expert of 64. The same shape as tests/test_memory_layers.cpp.
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

double kind_bytes(const ModelSpec& m, const TrainConfig& c, const LayerKind& k) {
    return saved_bytes(layer_saved_tensors(m, c, c.recompute, k), activation_shape(c));
}

}  // namespace

TEST_CASE("MLA layers: latents, up-projected K and V, Q, output of v_head_dim, LSE", "[activations][golden]") {
    // s 16, b 1 (sb 16), bf16, flash, no dropout. Attention block, bytes:
    //   norm input, q/kv down-projections' input: 2 × 16·64·2            = 4,096
    //   q latent (q_a_proj output = its norm's input) and its norm output 2 × 16·32·2 = 2,048
    //   kv latent + RoPE key (16 + 8) 16·24·2 = 768; its norm output 16·16·2 = 512
    //   Q 16·(4·24)·2 = 3,072; K 16·(4·24)·2 = 3,072; V 16·(4·16)·2 = 2,048
    //   LSE 4·16·4 = 256; attention output 16·(4·16)·2 = 2,048            → 17,920
    // Dense MLP: norm input + input 2 × 2,048; gate, up, down 3 × 16·128·2 = 12,288 → 34,304.
    const ModelSpec m = mla_moe();
    const TrainConfig c = job(16, 1, 1, false, Recompute::none, Attention::flash, 0.0);
    CHECK(kind_bytes(m, c, m.layer(0)) == 34304.0);
    // MoE layer: the same attention + MLP norm input and input 4,096; router logits fp32 16·8·4 = 512;
    // dispatched tokens and expert outputs 2 × 2·16·64·2 = 8,192; expert SwiGLU 3 × 2·16·32·2 = 6,144;
    // shared expert 3 × 16·64·2 = 6,144 → 17,920 + 4,096 + 20,992 = 43,008.
    CHECK(kind_bytes(m, c, m.layer(1)) == 43008.0);
    // Without the q bottleneck (q_proj straight from the norm output) the two q-latent tensors go.
    ModelSpec lite = m;
    lite.mla.q_lora_rank = 0;
    CHECK(kind_bytes(lite, c, lite.layer(0)) == 34304.0 - 2048.0);
    // The stage sums: layers 0-1 = 34,304 + 43,008; all four layers = 34,304 + 3 × 43,008.
    CHECK(layers_saved_bytes(m, c, Recompute::none, layer_groups(m, 0, 2)) == 77312.0);
    CHECK(layers_saved_bytes(m, c, Recompute::none, layer_groups(m)) == 163328.0);
    // Tensor parallel 2 without sp: the replicated latents (q 2 × 1,024, kv 768 + 512) stay whole, Q, K,
    // V, LSE and the output halve: dense layer = 8,192 replicated + 2,048 + 1,280 + (10,496 split)/2 + MLP.
    const TrainConfig t2 = job(16, 1, 2, false, Recompute::none, Attention::flash, 0.0);
    CHECK(kind_bytes(m, t2, m.layer(0)) == 8192.0 / 2 + 2048.0 + 1280.0 + 10496.0 / 2 + 4096.0 + 12288.0 / 2);
}

TEST_CASE("MoE layers: capacity factor, dropless worst case under expert parallelism", "[activations][golden]") {
    const ModelSpec m = mla_moe();
    TrainConfig c = job(16, 1, 1, false, Recompute::none, Attention::flash, 0.0);
    // The expert-slot tensors (dispatched 4,096, expert outputs 4,096, expert SwiGLU 6,144 = 14,336
    // bytes) scale with top_k × capacity factor: 1.25 → + 3,584.
    ModelSpec cf = m;
    cf.capacity_factor = 1.25;
    CHECK(kind_bytes(cf, c, cf.layer(1)) == 43008.0 + 0.25 * 14336.0);
    // Dropless on ep 2 (4 experts per rank): a rank may receive min(2, 4) copies of each of the
    // 2 × s·b tokens of its group, twice the balanced 2 × s·b: the received tokens and the expert
    // SwiGLU tensors (4,096 + 6,144) double; the combine holds the rank's own copies: + 10,240.
    c.parallel.gpus = 2;
    c.parallel.ep = 2;
    CHECK(dropless_worst_case_ratio(m, c) == 2.0);
    CHECK(dropless_worst_case_bytes(m, c, Recompute::none, m.layer(1)) == 43008.0 + 10240.0);
    CHECK(dropless_worst_case_bytes(m, c, Recompute::none, m.layer(0)) == 34304.0);  // a dense layer: no routing
    // ep 8 leaves one expert per rank: at most min(2, 1) = 1 copy of each of 8 × s·b tokens: 4× balanced.
    c.parallel.gpus = 8;
    c.parallel.ep = 8;
    CHECK(dropless_worst_case_ratio(m, c) == 4.0);
    // With a capacity factor the capacity is the bound: nothing beyond the plan.
    CHECK(dropless_worst_case_ratio(cf, c) == 1.0);
}

TEST_CASE("sliding-window layers: the full s × s scores under eager, the LSE under flash", "[activations][golden]") {
    // Gemma-2-like: 4 heads of 16, 2 kv heads, four norms per layer, attention soft-capping, window 4,
    // layer 0 sliding and layer 1 global; s 16, b 1, bf16, no dropout.
    ModelSpec m = llama_layer(128, 2);
    m.n_layers = 2;
    m.d_model = 64;
    m.n_heads = 4;
    m.head_dim = 16;
    m.norms_per_layer = 4;
    m.attn_softcap = 50;
    m.sliding_window = 4;
    m.layer_kinds = {LayerKind{false, LayerAttention::sliding, true}, LayerKind{false, LayerAttention::global, true}};
    // Eager: ten tensors of 2,048 bytes (norm inputs and outputs, Q 16·64·2, softmax output 4·16²·2,
    // soft-cap tanh output 4·16²·2, attention output, the two post-norm inputs, MLP norm input and
    // input), K and V 16·32·2 = 1,024 each, gate/up/down 3 × 16·128·2 = 12,288 → 34,816 —
    // for the sliding layer too: Hugging Face's eager attention masks a full 16 × 16 score matrix.
    const TrainConfig eager = job(16, 1, 1, false, Recompute::none, Attention::eager, 0.0);
    CHECK(kind_bytes(m, eager, m.layer(0)) == 34816.0);
    CHECK(kind_bytes(m, eager, m.layer(1)) == 34816.0);
    // Flash: the two s² tensors (4,096 bytes) give way to the fp32 LSE 4·16·4 = 256, window or not.
    const TrainConfig flash = job(16, 1, 1, false, Recompute::none, Attention::flash, 0.0);
    CHECK(kind_bytes(m, flash, m.layer(0)) == 34816.0 - 4096.0 + 256.0);
    CHECK(kind_bytes(m, flash, m.layer(1)) == 34816.0 - 4096.0 + 256.0);
    // Per-head QK-norm (Gemma 3) keeps the q and k projections before the norm: + 2,048 + 1,024.
    m.qk_norm = QkNorm::per_head;
    CHECK(kind_bytes(m, flash, m.layer(0)) == 30976.0 + 3072.0);
    // Llama 4's weightless L2 QK-norm sits on RoPE layers only: a NoPE layer keeps no norm input.
    m.qk_norm = QkNorm::unweighted;
    CHECK(kind_bytes(m, flash, LayerKind{false, LayerAttention::global, true}) == 30976.0 + 3072.0);
    CHECK(kind_bytes(m, flash, LayerKind{false, LayerAttention::global, false}) == 30976.0);
    // GPT-OSS's sinks add one column to each head's softmax under eager: + 4·16·2 bytes.
    m.qk_norm = QkNorm::none;
    m.attn_softcap = 0;
    m.attention_sinks = true;
    CHECK(kind_bytes(m, eager, m.layer(1)) == 34816.0 - 2048.0 + 128.0);
}

TEST_CASE("MTP module: embedding-norm and projection inputs, its layer, final-norm and head inputs", "[activations][golden]") {
    // s 16, b 1, bf16, flash: next-token embedding (norm input) 2,048 + [norm(h); norm(e)] 2 × 2,048
    // + its MoE layer 43,008 + final-norm input 2,048 + output-layer input 2,048 = 53,248.
    ModelSpec m = mla_moe();
    m.mtp_layers = 1;
    const TrainConfig c = job(16, 1, 1, false, Recompute::none, Attention::flash, 0.0);
    CHECK(saved_bytes(mtp_saved_tensors(m, c, Recompute::none), activation_shape(c)) == 53248.0);
    // Full recompute keeps the layer's input only (2,048) besides the module's own inputs.
    CHECK(saved_bytes(mtp_saved_tensors(m, c, Recompute::full), activation_shape(c)) == 53248.0 - 43008.0 + 2048.0);
    // Logits: 4 · 16 · 1,000 per output head; Gemma 2's final soft-capping keeps the tanh output too.
    CHECK(logits_bytes(m, c) == 64000.0);
    m.final_softcap = 30;
    CHECK(logits_bytes(m, c) == 128000.0);
}
