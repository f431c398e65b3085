// test_pytorch_families.cpp — the `--framework pytorch` op sequences of Qwen3, Gemma 2, Gemma 3
// and GPT-NeoX on tiny shapes whose saved tensors are counted by hand, and which families the
// profile accepts. These families are modelled from the transformers sources but not yet measured
// (docs/validation/pytorch_memory.md); the values below check the model's own arithmetic.
//
// Shapes: batch 2 × sequence 32 = T = 64 tokens, hidden 64, 2 query heads of 32, 1 KV head,
// MLP 128 (GPT-NeoX: 256), vocabulary 256. Every allocation rounds up to 512 B
// (CUDACachingAllocator), so a [T, 64] fp32 tensor is 16384 B, a [T] fp32 one 512 B.
#include "planner/pytorch_profile.h"

#include "core/error.h"
#include "core/hf_config.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

using namespace llmplan;
using nlohmann::json;

namespace {

ModelSpec tiny(const std::string& type, json extra = json::object()) {
    json cfg = {{"model_type", type},  {"hidden_size", 64},       {"intermediate_size", 128},
                {"num_hidden_layers", 2}, {"num_attention_heads", 2}, {"num_key_value_heads", 1},
                {"head_dim", 32},        {"vocab_size", 256},      {"max_position_embeddings", 512}};
    if (type == "gpt_neox") {
        cfg.erase("num_key_value_heads");
        cfg.erase("head_dim");
        cfg["intermediate_size"] = 256;
    }
    for (const auto& [k, v] : extra.items()) cfg[k] = v;
    return model_from_hf_config(cfg, "tiny-" + type);
}

TrainConfig job(Precision p, Attention a) {
    TrainConfig c;
    c.framework = Framework::pytorch;
    c.precision = p;
    c.attention = a;
    c.micro_batch = 2;
    c.seq = 32;
    return c;
}

double total(const std::vector<PytorchSavedTensor>& v) {
    double s = 0;
    for (const PytorchSavedTensor& t : v) s += t.bytes;
    return s;
}

std::vector<std::pair<std::string, double>> listed(const std::vector<PytorchSavedTensor>& v) {
    std::vector<std::pair<std::string, double>> out;
    for (const PytorchSavedTensor& t : v) out.emplace_back(t.name, t.bytes);
    return out;
}

}  // namespace

TEST_CASE("pytorch profile: what one Gemma 2 layer saves under amp-bf16 with SDPA, by hand", "[pytorch][families]") {
    // Gemma2DecoderLayer, autocast(bf16) over an fp32 model, SDPA (cuDNN, GQA natively, no mask:
    // the window 4096 is longer than the sequence; soft-capping is not passed to SDPA).
    const std::vector<PytorchSavedTensor> saved = pytorch_layer_saved(tiny("gemma2"), job(Precision::amp_bf16, Attention::flash), 0);
    using P = std::pair<std::string, double>;
    // GemmaRMSNorm on an fp32 input: pow and x·rsqrt save x itself, rsqrt its [T] output, and
    // x·(1 + w) the fp32 normalised x and the [64] 1 + w.
    const std::vector<P> norm_fp32_input = {{"rsqrt", 512}, {"mul", 16384}, {"one_plus_w", 512}};
    std::vector<P> want = {{"embed_scale", 16384}};  // the layer input (embedding × √d), fp32
    want.insert(want.end(), norm_fp32_input.begin(), norm_fp32_input.end());
    want.insert(want.end(), {
                                // q/k/v_proj: autocast casts the fp32 norm output for each one
                                // (bf16 [T, 64]) and caches a bf16 copy of each weight
                                {"cast_input", 8192}, {"cast_weight", 8192},  // q_proj 64×64
                                {"cast_input", 8192}, {"cast_weight", 4096},  // k_proj 64×32
                                {"cast_input", 8192}, {"cast_weight", 4096},  // v_proj 64×32
                                // SDPA casts the fp32 rotary outputs: q bf16 [T, 2·32], k bf16 [T, 32];
                                // it saves them, v (v_proj's bf16 output [T, 32]), cuDNN's fp32
                                // log-sum-exp [b, 2, s] and its bf16 output
                                {"cast_q", 8192}, {"cast_k", 4096}, {"mm", 4096}, {"lse", 512}, {"sdpa_cudnn", 8192},
                                {"cast_weight", 8192},  // o_proj (its input is the SDPA output)
                                // post_attention_layernorm on o_proj's bf16 output: the fp32 copy of x
                                {"to_fp32", 16384}, {"rsqrt", 512}, {"mul", 16384}, {"one_plus_w", 512},
                                // pre_feedforward_layernorm on the fp32 residual sum
                                {"add", 16384}, {"rsqrt", 512}, {"mul", 16384}, {"one_plus_w", 512},
                                // gate_proj: input cast, weight 64×128 bf16, gate output saved by GELU
                                {"cast_input", 8192}, {"cast_weight", 16384}, {"mm", 16384},
                                {"cast_input", 8192}, {"cast_weight", 16384},  // up_proj
                                {"gelu_tanh", 16384}, {"mm", 16384},           // act(gate) · up saves both
                                {"mul", 16384}, {"cast_weight", 16384},  // down_proj: its input, weight
                                // post_feedforward_layernorm on down_proj's bf16 output
                                {"to_fp32", 16384}, {"rsqrt", 512}, {"mul", 16384}, {"one_plus_w", 512},
                            });
    CHECK(listed(saved) == want);
    CHECK(saved.size() == 37);
    CHECK(total(saved) == 340480);
}

TEST_CASE("pytorch profile: Qwen3's per-head QK-norm saves 6 more tensors than Llama, by hand", "[pytorch][families]") {
    // bf16 model: each Qwen3RMSNorm on q (bf16 [T, 2·32]) saves the fp32 copy (16384 B), the
    // [T·2] rsqrt (512 B) and the bf16 normalised q for the weight (8192 B); on k ([T, 32]):
    // 8192 + 512 (256 B rounded) + 4096. Everything else is Llama's layer.
    const TrainConfig c = job(Precision::bf16, Attention::flash);
    const std::vector<PytorchSavedTensor> llama = pytorch_layer_saved(tiny("llama"), c, 0);
    const std::vector<PytorchSavedTensor> qwen3 = pytorch_layer_saved(tiny("qwen3"), c, 0);
    CHECK(qwen3.size() - llama.size() == 6);
    CHECK(total(qwen3) - total(llama) == (16384 + 512 + 8192) + (8192 + 512 + 4096));
}

TEST_CASE("pytorch profile: a GPT-NeoX layer in fp32 with SDPA, by hand", "[pytorch][families]") {
    // Parallel residual, rotary on 25% of each head, memory-efficient SDPA (fp32, no GQA).
    const std::vector<PytorchSavedTensor> saved = pytorch_layer_saved(tiny("gpt_neox"), job(Precision::fp32, Attention::flash), 0);
    using P = std::pair<std::string, double>;
    const std::vector<P> want = {
        {"embedding", 16384},  // the layer input, saved by input_layernorm and post_attention_layernorm
        {"mean+rstd", 512},    // LayerNorm statistics [T, 2]
        {"layer_norm", 16384}, // query_key_value's input
        {"cat_pass", 16384},   // q after rotary (cat of rotated and pass-through dims)
        {"cat_pass", 16384},   // k
        {"mm", 49152},         // query_key_value's output [T, 3·64]: v is a view of it
        {"lse", 512},          // memory-efficient log-sum-exp [b, 2, 32]
        {"sdpa_efficient", 16384},
        {"mean+rstd", 512},    // post_attention_layernorm (on the layer input: parallel residual)
        {"layer_norm", 16384}, // dense_h_to_4h's input
        {"mm", 65536},         // dense_h_to_4h's output [T, 256], saved by GELU
        {"gelu", 65536},       // dense_4h_to_h's input
    };
    CHECK(listed(saved) == want);
    CHECK(total(saved) == 280064);
}

TEST_CASE("pytorch profile: a sliding window shorter than the sequence materialises SDPA's mask", "[pytorch][families]") {
    // Gemma 2's layer 0 is a sliding layer. With window 16 < s = 32 transformers builds a bool mask,
    // repeats K and V to both heads (no enable_gqa with a mask) and SDPA saves a bf16 additive mask
    // [b, 1, s, s]: saved k (4096 B) and v (4096 B) become the repeated k and v (8192 B each), plus
    // the mask 2·32·32·2 = 4096 B.
    const TrainConfig c = job(Precision::bf16, Attention::flash);
    const std::vector<PytorchSavedTensor> wide = pytorch_layer_saved(tiny("gemma2"), c, 0);
    const std::vector<PytorchSavedTensor> narrow = pytorch_layer_saved(tiny("gemma2", {{"sliding_window", 16}}), c, 0);
    CHECK(narrow.size() - wide.size() == 1);
    CHECK(total(narrow) - total(wide) == (8192 + 8192 + 4096) - (4096 + 4096));
    // Layer 1 is global: is_causal, no mask, unchanged.
    CHECK(total(pytorch_layer_saved(tiny("gemma2", {{"sliding_window", 16}}), c, 1)) ==
          total(pytorch_layer_saved(tiny("gemma2"), c, 1)));
}

TEST_CASE("pytorch profile: Gemma 2 soft-capping keeps one more scores-sized and logits-sized tensor", "[pytorch][families]") {
    // Eager attention: scores / 50 → tanh (saved) → · 50: one bf16 [b, 2, s, s] = 8192 B per layer.
    const TrainConfig eager = job(Precision::bf16, Attention::eager);
    const ModelSpec capped = tiny("gemma2");
    const ModelSpec plain = tiny("gemma2", {{"attn_logit_softcapping", nullptr}, {"final_logit_softcapping", nullptr}});
    const std::vector<PytorchSavedTensor> a = pytorch_layer_saved(capped, eager, 0), b = pytorch_layer_saved(plain, eager, 0);
    CHECK(a.size() - b.size() == 1);
    CHECK(total(a) - total(b) == 2 * 2 * 32 * 32 * 2);
    // Final logit soft-capping: after the forward the output logits and the saved tanh of them,
    // both bf16 [T, 256] = 32768 B, against the logits alone.
    TrainConfig sdpa = job(Precision::bf16, Attention::flash);
    const PytorchForward fa = pytorch_forward(capped, sdpa, true, false);
    const PytorchForward fb = pytorch_forward(plain, sdpa, true, false);
    CHECK(fa.end - fb.end == 64 * 256 * 2);
}

TEST_CASE("pytorch profile: which families it models", "[pytorch][families]") {
    const std::string data = std::string(LLMPLAN_TEST_DATA) + "/hf/";
    TrainConfig c = job(Precision::bf16, Attention::flash);
    for (const char* f : {"tiny-qwen3", "tiny-gemma2", "tiny-gemma3_text", "pythia-160m", "gpt2", "llama-2-7b",
                          "mistral-7b-v0.1", "qwen2-0.5b"}) {
        INFO(f);
        CHECK_NOTHROW(validate_pytorch_profile(model_from_hf_config_file(data + f + ".json", "--hf-config"), c));
    }
    for (const char* f : {"tiny-qwen3_moe", "mixtral-8x7b", "tiny-deepseek_v3", "tiny-gpt_oss", "tiny-llama4_text",
                          "tiny-qwen2_moe"}) {
        INFO(f);
        CHECK_THROWS_WITH(validate_pytorch_profile(model_from_hf_config_file(data + f + ".json", "--hf-config"), c),
                          Catch::Contains("mixture-of-experts models") && Catch::Contains("use --framework generic"));
    }
    for (const char* f : {"tiny-olmo2", "tiny-phi3", "tiny-bloom"}) {
        INFO(f);
        CHECK_THROWS_WITH(validate_pytorch_profile(model_from_hf_config_file(data + f + ".json", "--hf-config"), c),
                          Catch::Contains("are not modelled (gpt2, llama, mistral, qwen2, qwen3, gemma2, gemma3_text, "
                                          "gpt_neox are)"));
    }
    c.lora.rank = 8;
    CHECK_THROWS_WITH(validate_pytorch_profile(model_from_hf_config_file(data + "pythia-160m.json", "--hf-config"), c),
                      Catch::Contains("--lora-rank with a gpt_neox model"));
}
