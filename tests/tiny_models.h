// tiny_models.h — the GPT-2-style and Llama-style shapes the engine tests train (the CPU
// reference, the GPU engine and the --framework llmplan profile use the same ones).
#pragma once

#include "core/model.h"

#include <cstddef>
#include <random>
#include <vector>

namespace llmplan::test {

// GPT-2 style: LayerNorm, GELU, learned positions, biases, tied embeddings.
inline ModelSpec gpt2_like(int layers, int d, int heads, int ff, int vocab, int positions, const char* name = "gpt2-like") {
    ModelSpec m;
    m.name = name;
    m.family = "gpt2";
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = m.n_kv_heads = heads;
    m.head_dim = d / heads;
    m.d_ff = ff;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.vocab_size = vocab;
    m.max_positions = positions;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.tied_embeddings = true;
    return m;
}

// Llama style: RMSNorm, SwiGLU, rotary positions, GQA (kv heads), untied head.
inline ModelSpec llama_like(int layers, int d, int heads, int kv, int ff, int vocab, int positions = 4096,
                            const char* name = "llama-like") {
    ModelSpec m;
    m.name = name;
    m.family = "llama";
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = heads;
    m.n_kv_heads = kv;
    m.head_dim = d / heads;
    m.d_ff = ff;
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.vocab_size = vocab;
    m.max_positions = positions;
    m.position = PositionEmbedding::rotary;
    m.tied_embeddings = false;
    return m;
}

// The smallest of each, for gradient checks: 2 layers, d 16, 4 heads (2 kv heads for Llama), vocab 32.
inline ModelSpec tiny_gpt2() { return gpt2_like(2, 16, 4, 64, 32, 16, "tiny-gpt2"); }
inline ModelSpec tiny_llama() { return llama_like(2, 16, 4, 2, 40, 32, 64, "tiny-llama"); }

// Uniform random token ids and targets for B·S positions (the engine tests' batches).
struct Tokens {
    std::vector<int> ids, targets;
};
inline Tokens random_tokens(const ModelSpec& m, int B, int S, unsigned seed = 7) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<int> tok(0, static_cast<int>(m.vocab_size) - 1);
    Tokens t;
    t.ids.resize(static_cast<std::size_t>(B * S));
    t.targets.resize(t.ids.size());
    for (std::size_t i = 0; i < t.ids.size(); ++i) {
        t.ids[i] = tok(gen);
        t.targets[i] = tok(gen);
    }
    return t;
}

}  // namespace llmplan::test
