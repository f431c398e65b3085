// model.h — the shape of a decoder-only transformer and its exact parameter inventory.
//
// A ModelSpec is everything the planner needs to know about a model: sizes, the kind of
// activation / norm / position embedding, biases, tied embeddings and mixture-of-experts.
// param_tensors() lists every parameter tensor (per layer, with a repeat count), from which the
// exact parameter count and its breakdown follow, and the planner derives sharding per tensor.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmplan {

enum class Activation { gelu, swiglu };
enum class Norm { layernorm, rmsnorm };
// learned: a position table (GPT-2); rotary: RoPE, no parameters (Llama);
// relative: Transformer-XL relative attention (Gopher/Chinchilla): one extra d×d projection and
// two bias vectors per layer.
enum class PositionEmbedding { learned, rotary, relative };

struct ModelSpec {
    std::string name = "custom";   // preset name, "hf:<model_type>" or "derived"
    std::string family = "llama";  // HF model_type this shape follows (gpt2, llama, mistral, ...)
    int n_layers = 0;
    int d_model = 0;
    int n_heads = 0;
    int n_kv_heads = 0;             // == n_heads: MHA; 1: MQA; in between: GQA
    int head_dim = 0;               // usually d_model / n_heads
    int d_ff = 0;                   // MLP inner size (per expert for MoE)
    Activation activation = Activation::swiglu;
    Norm norm = Norm::rmsnorm;
    std::int64_t vocab_size = 0;
    std::int64_t max_positions = 0;
    PositionEmbedding position = PositionEmbedding::rotary;
    bool qkv_bias = false;          // bias on the q, k, v projections
    bool out_bias = false;          // bias on the attention output projection
    bool mlp_bias = false;          // bias on the MLP projections
    bool tied_embeddings = false;   // lm_head shares the token embedding matrix
    int n_experts = 1;              // > 1: mixture of experts (every layer's MLP)
    int top_k = 1;                  // experts per token
    bool parallel_residual = false; // GPT-NeoX: attention and MLP read the same residual input
    double rotary_pct = 1.0;        // GPT-NeoX: fraction of head_dim that is rotated
    int sliding_window = 0;         // Mistral: attention window (0 = none)

    bool is_moe() const { return n_experts > 1; }
    std::int64_t q_dim() const { return std::int64_t{n_heads} * head_dim; }      // width of Q (and of attention output)
    std::int64_t kv_dim() const { return std::int64_t{n_kv_heads} * head_dim; }  // width of K and of V
    friend bool operator==(const ModelSpec&, const ModelSpec&) = default;
};

// Which part of the model a parameter belongs to, for the breakdown that `plan` and `models` print.
enum class ParamGroup { embedding, attention, mlp, norm, head };

// Where a tensor lives along the depth of the model (pipeline stages split by this).
enum class Block { embedding, layer, final_norm, head };

// How Megatron-style tensor parallelism splits a tensor over `tp` ranks
// (Shoeybi et al. 2019, §3): column-parallel weights and their biases are split, row-parallel
// weights are split but their biases replicated, norms replicated, embeddings split by vocabulary.
enum class TpSplit { replicated, column, row, vocab };

struct ParamTensor {
    std::string name;       // e.g. "layers.*.self_attn.q_proj.weight"
    ParamGroup group;
    Block block;
    std::int64_t rows;      // output features (vocab for embeddings); 1 for vectors
    std::int64_t cols;      // input features; the length for vectors
    std::int64_t count;     // copies in the model: n_layers for per-layer tensors (× n_experts for experts)
    TpSplit tp;
    bool expert = false;        // part of an MoE expert (sharded by expert parallelism)
    bool matmul_weight = false; // 2-D weight that feeds a matmul (fp8 casts, LoRA targets)
    bool is_matrix() const { return rows > 1 && cols > 1; }
    std::int64_t elements() const { return rows * cols; }       // one copy
    std::int64_t total_elements() const { return rows * cols * count; }
};

struct ParamBreakdown {
    std::int64_t embedding = 0;  // token (+ learned position) embeddings
    std::int64_t attention = 0;  // q, k, v, o (+ biases, + relative-position projections)
    std::int64_t mlp = 0;        // dense MLP or all experts, + router
    std::int64_t norm = 0;       // every layer norm, including the final one
    std::int64_t head = 0;       // untied output projection (0 when tied)
    std::int64_t total() const { return embedding + attention + mlp + norm + head; }
    // Parameters a token actually uses in a MoE forward pass (top_k of n_experts).
    std::int64_t active = 0;
};

// Every parameter tensor of the model, per-layer tensors listed once with count = n_layers.
std::vector<ParamTensor> param_tensors(const ModelSpec& spec);

// Exact parameter count by group.
ParamBreakdown count_params(const ModelSpec& spec);

// Parameters of one transformer layer (all experts included).
std::int64_t params_per_layer(const ModelSpec& spec);

// Throws InputError (naming `what`, e.g. "--hf-config llama.json") if the shape is inconsistent:
// non-positive sizes, kv heads not dividing heads, top_k > experts, ...
void validate_model(const ModelSpec& spec, const std::string& what);

const char* to_string(Activation a);
const char* to_string(Norm n);
const char* to_string(PositionEmbedding p);
const char* to_string(ParamGroup g);

}  // namespace llmplan
