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

// gelu: a two-matrix MLP (up, act, down); swiglu: a gated three-matrix MLP act(gate(x))·up(x) then
// down, whatever the activation (SiLU for SwiGLU, tanh-GELU for Gemma's GeGLU: same parameters
// and FLOPs); relu2: a two-matrix MLP with squared ReLU, relu(x)² (So et al. 2021, "Primer";
// Nemotron-4, Megatron-LM's --squared-relu): GELU's parameters and FLOPs, its own saved tensors.
enum class Activation { gelu, swiglu, relu2 };
// Whether the MLP is gated (gate, up and down projections) — else two matrices, up and down. The
// one test every parameter, FLOP and saved-tensor count asks of the activation.
constexpr bool gated_mlp(Activation a) { return a == Activation::swiglu; }
// The MLP's weight matrices: 3 gated, else 2.
constexpr int mlp_matrices(Activation a) { return gated_mlp(a) ? 3 : 2; }
enum class Norm { layernorm, rmsnorm };
// learned: a position table (GPT-2); rotary: RoPE, no parameters (Llama);
// relative: Transformer-XL relative attention (Gopher/Chinchilla): one extra d×d projection and
// two bias vectors per layer; alibi: linear biases on the scores, no parameters (BLOOM);
// none: no position information beyond causal masking and the recurrent mixers (Nemotron-H's
// attention layers, Megatron-Core's position_embedding_type "none").
enum class PositionEmbedding { learned, rotary, relative, alibi, none };

// How queries, keys and values are projected (docs/MODEL_FAMILIES.md).
//   standard: q, k, v, o projections of n_heads / n_kv_heads heads of head_dim (MHA, GQA, MQA);
//   mla: DeepSeek-V2's Multi-head Latent Attention (DeepSeek-AI 2024, §2.1.2): keys and values
//        are up-projected from a shared compressed latent of kv_lora_rank plus a decoupled RoPE
//        key of qk_rope_head_dim shared by all heads; queries optionally through a q_lora_rank
//        bottleneck.
enum class AttentionForm { standard, mla };

struct MlaShape {
    int q_lora_rank = 0;       // 0: queries projected directly (DeepSeek-V2-Lite's q_proj)
    int kv_lora_rank = 0;      // compressed latent c_KV: what an MLA KV cache holds per token and layer
    int qk_nope_head_dim = 0;  // per-head query/key width without RoPE
    int qk_rope_head_dim = 0;  // decoupled RoPE width (one key of this width shared by the heads)
    int v_head_dim = 0;        // per-head value width
    int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
    friend bool operator==(const MlaShape&, const MlaShape&) = default;
};

// Normalisation of queries and keys before the dot product (docs/MODEL_FAMILIES.md):
//   per_head: one RMSNorm weight of head_dim shared by the heads (Qwen3, Gemma 3);
//   full_width: an RMSNorm over the whole q (n_heads·head_dim) and k (n_kv_heads·head_dim)
//               projections (OLMo 2);
//   unweighted: an L2 norm without parameters (Llama 4).
enum class QkNorm { none, per_head, full_width, unweighted };

// Which keys a layer's queries attend to.
//   global: every earlier position (causal);
//   sliding: the last `sliding_window` positions (Mistral, Gemma 2/3's local layers, GPT-OSS's
//            banded layers);
//   chunked: positions of the same `attention_chunk`-token chunk (Llama 4's RoPE layers).
enum class LayerAttention { global, sliding, chunked };

// What mixes tokens in a layer (docs/MODEL_FAMILIES.md, "Hybrid Mamba models"):
//   attention: self-attention (a transformer layer);
//   mamba: a Mamba-2 mixer (Dao & Gu 2024, "Transformers are SSMs", §7: the SSD layer with its
//          input projection, causal depthwise convolution, selective state-space scan, gated
//          RMSNorm and output projection);
//   gated_deltanet: a Gated DeltaNet mixer (Yang, Kautz & Hatamizadeh 2025, "Gated Delta Networks":
//          a linear-attention layer whose per-head key-by-value state follows the gated delta rule;
//          input projection to q, k, v, the output gate z and the per-head β and α, a causal
//          depthwise convolution over q, k and v, the chunked delta rule, a gated RMSNorm and the
//          output projection): Qwen3-Next's and Qwen3.5's "linear_attention" layers, with an MLP or
//          MoE block like any transformer layer;
//   none: no token mixing (a hybrid model's MLP or MoE layer).
enum class Mixer { attention, mamba, gated_deltanet, none };

// What one layer is, where layers differ along depth. A transformer layer has a mixer (attention)
// and a feed-forward block (dense MLP or MoE); a hybrid model's layer (Megatron-Core's hybrid
// layer pattern: M a Mamba layer, * an attention layer, - an MLP layer, E an MoE layer) has one
// of the two, with its own pre-norm.
struct LayerKind {
    bool moe = false;                                  // routed experts (else the dense MLP)
    LayerAttention attention = LayerAttention::global;
    bool rope = true;                                  // false: a NoPE layer (Llama 4's every 4th layer)
    Mixer mixer = Mixer::attention;
    bool ffn = true;                                   // false: no MLP (a hybrid's Mamba or attention layer)
    bool has_attention() const { return mixer == Mixer::attention; }
    bool has_mamba() const { return mixer == Mixer::mamba; }
    bool has_gdn() const { return mixer == Mixer::gated_deltanet; }
    bool dense_mlp() const { return ffn && !moe; }
    bool moe_mlp() const { return ffn && moe; }
    friend bool operator==(const LayerKind&, const LayerKind&) = default;
};

// A Mamba-2 mixer's shape (Megatron-Core MambaMixer; Hugging Face NemotronHConfig's mamba_* fields).
//   in_proj: d → [z, x, B, C, dt] = 2·d_inner + 2·groups·state + heads (d_inner = heads·head_dim);
//   conv1d: depthwise over x, B, C (d_inner + 2·groups·state channels) of conv_kernel taps, biased;
//   per head: dt_bias, A_log, D; the gated RMSNorm over d_inner; out_proj: d_inner → d.
struct MambaShape {
    int heads = 0;        // mamba_num_heads
    int head_dim = 0;     // mamba_head_dim (P)
    int state = 0;        // d_state (N)
    int groups = 1;       // n_groups (G): B and C are shared by heads / groups heads
    int conv_kernel = 4;  // d_conv
    int chunk = 128;      // the SSD scan's chunk length (Q; Megatron-Core's chunk_size)
    std::int64_t d_inner() const { return std::int64_t{heads} * head_dim; }
    std::int64_t bc_width() const { return 2LL * groups * state; }                 // B and C
    std::int64_t in_proj_width() const { return 2 * d_inner() + bc_width() + heads; }  // z, x, B, C, dt
    std::int64_t conv_channels() const { return d_inner() + bc_width(); }          // x, B, C
    friend bool operator==(const MambaShape&, const MambaShape&) = default;
};

// A Gated DeltaNet mixer's shape (Hugging Face Qwen3NextConfig's linear_* fields; Megatron-Core
// GatedDeltaNet). Keys have k_heads heads of k_head_dim, values (and the state, the output gate and
// β, α) v_heads heads of v_head_dim; each key head serves v_heads / k_heads value heads.
//   in_proj: d → [q, k, v, z, β, α] = 2·key_dim + 2·value_dim + 2·v_heads (no bias);
//   conv1d: depthwise over q, k, v (2·key_dim + value_dim channels) of conv_kernel taps, no bias;
//   per value head: dt_bias, A_log; the gated RMSNorm's weight [v_head_dim]; out_proj: value_dim → d.
struct GdnShape {
    int k_heads = 0;      // linear_num_key_heads
    int v_heads = 0;      // linear_num_value_heads
    int k_head_dim = 0;   // linear_key_head_dim
    int v_head_dim = 0;   // linear_value_head_dim
    int conv_kernel = 4;  // linear_conv_kernel_dim
    int chunk = 64;       // the chunked delta rule's chunk (flash-linear-attention's and Megatron-Core's 64)
    std::int64_t key_dim() const { return std::int64_t{k_heads} * k_head_dim; }
    std::int64_t value_dim() const { return std::int64_t{v_heads} * v_head_dim; }
    std::int64_t in_proj_width() const { return 2 * key_dim() + 2 * value_dim() + 2LL * v_heads; }  // q, k, v, z, β, α
    std::int64_t conv_channels() const { return 2 * key_dim() + value_dim(); }                    // q, k, v
    friend bool operator==(const GdnShape&, const GdnShape&) = default;
};

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
    // GELU's tanh approximation written op by op, as transformers' NewGELUActivation (activation
    // "gelu_new": GPT-2's) computes it: eight element-wise kernels in eager PyTorch where F.gelu is
    // one (planner/elementwise.cpp). Parameters and FLOPs are GELU's either way.
    bool gelu_tanh_op_by_op = false;
    int n_experts = 1;              // > 1: mixture of experts: routed experts of each MoE layer
    int top_k = 1;                  // routed experts per token
    bool parallel_residual = false; // GPT-NeoX: attention and MLP read the same residual input
    double rotary_pct = 1.0;        // GPT-NeoX: fraction of head_dim that is rotated
    int sliding_window = 0;         // window of the `sliding` layers (0 = none)

    // Attention variants (docs/MODEL_FAMILIES.md).
    AttentionForm attention_form = AttentionForm::standard;
    MlaShape mla;                   // attention_form == mla
    QkNorm qk_norm = QkNorm::none;
    bool attention_sinks = false;   // GPT-OSS: one learned sink logit per head and layer
    // Qwen3-Next / Qwen3.5: q_proj also produces a per-channel output gate (H·head_dim more rows);
    // the attention output is multiplied by sigmoid(gate) before o_proj (Megatron-Core's
    // attention_output_gate).
    bool attention_output_gate = false;
    double attn_softcap = 0;        // Gemma 2: scores → c·tanh(scores / c) (0 = none)
    double final_softcap = 0;       // Gemma 2: the same on the output logits
    int attention_chunk = 0;        // Llama 4: the chunk of the `chunked` layers (0 = none)
    int norms_per_layer = 2;        // Gemma 2/3: 4 (pre and post norms around attention and MLP)
    bool embedding_norm = false;    // BLOOM: a LayerNorm right after the token embedding

    // Mixture-of-experts variants (docs/MODEL_FAMILIES.md).
    int moe_d_ff = 0;               // a routed expert's inner size (0: d_ff, as in Mixtral)
    std::int64_t shared_d_ff = 0;   // inner size of the always-active shared-expert MLP (0 = none;
                                    // DeepSeek: n_shared_experts × moe_intermediate_size)
    bool shared_expert_gate = false;// Qwen2-MoE: a sigmoid gate d → 1 on the shared expert
    bool router_bias = false;       // GPT-OSS: the router has a bias
    bool expert_bias = false;       // GPT-OSS: every expert projection has a bias
    double capacity_factor = 0;     // tokens an expert accepts, × the balanced share (0 = dropless)
    int mtp_layers = 0;             // DeepSeek-V3 multi-token prediction modules (trained, not served): the depths run
    // Megatron-Core's mtp_use_repeated_layer (Nemotron 3 Super's recipes): one module's weights run
    // at every one of the mtp_layers depths.
    bool mtp_repeated = false;
    // The layers of one MTP module where they are not one transformer layer of the model's kind
    // (a hybrid's mtp_hybrid_override_pattern, "*E": an attention and an MoE layer); empty: one.
    std::vector<LayerKind> mtp_kinds;
    // Latent mixture of experts (Nemotron 3 Super/Ultra; Megatron-Core moe_latent_size): each MoE
    // layer projects tokens d → moe_latent before the dispatch and back after the combine; the
    // routed experts work at this width. 0: none (experts on d_model).
    int moe_latent = 0;

    // The kind of each layer, when layers differ (empty: every layer is layer(0)'s default kind).
    std::vector<LayerKind> layer_kinds;
    MambaShape mamba;               // the Mamba layers' mixer (heads 0: none)
    GdnShape gdn;                   // the Gated DeltaNet layers' mixer (v_heads 0: none)

    bool is_moe() const { return n_experts > 1; }
    bool is_mla() const { return attention_form == AttentionForm::mla; }
    int expert_d_ff() const { return moe_d_ff > 0 ? moe_d_ff : d_ff; }
    // The width routed tokens travel and experts work at: the latent width, or d_model.
    int expert_width() const { return moe_latent > 0 ? moe_latent : d_model; }
    // MTP modules whose weights the model holds (one when repeated).
    int mtp_weight_modules() const { return mtp_layers > 0 && mtp_repeated ? 1 : mtp_layers; }
    // The routed token copies an expert's buffer holds, × its balanced share: the capacity factor,
    // or 1 when dropless (balanced routing).
    double expert_capacity() const { return capacity_factor > 0 ? capacity_factor : 1.0; }
    // Width of Q·Kᵀ per head and of V per head.
    int qk_head_dim() const { return is_mla() ? mla.qk_head_dim() : head_dim; }
    int v_head_dim() const { return is_mla() ? mla.v_head_dim : head_dim; }
    std::int64_t q_dim() const { return std::int64_t{n_heads} * qk_head_dim(); }  // width of Q
    // Width of K and of V as the attention kernel reads them (MLA: up-projected, per head).
    std::int64_t k_dim() const { return is_mla() ? std::int64_t{n_heads} * mla.qk_head_dim() : kv_dim(); }
    std::int64_t v_dim() const { return is_mla() ? std::int64_t{n_heads} * mla.v_head_dim : kv_dim(); }
    std::int64_t kv_dim() const { return std::int64_t{n_kv_heads} * head_dim; }  // standard attention's K (= V) width
    std::int64_t attn_out_dim() const { return std::int64_t{n_heads} * v_head_dim(); }  // input of o_proj
    // Rows of the query projection: Q, and the output gate where the model has one.
    std::int64_t q_proj_width() const { return attention_output_gate ? 2 * q_dim() : q_dim(); }

    // The kind of layer i (0-based): layer_kinds[i], or the uniform default (MoE iff experts,
    // sliding iff a window is set).
    LayerKind layer(int i) const;
    bool heterogeneous() const { return !layer_kinds.empty(); }
    // A hybrid model: some layer lacks a mixer or a feed-forward block (Nemotron-H's Mamba,
    // attention, MLP and MoE layers, Megatron-Core's hybrid pattern). Qwen3-Next's Gated DeltaNet
    // layers are whole transformer layers with another mixer: not hybrid in this sense.
    bool hybrid() const;
    bool has_mamba() const;
    bool has_gdn() const;
    friend bool operator==(const ModelSpec&, const ModelSpec&) = default;
};

// Layers [first, first + count) grouped by kind, in order of first appearance, with how many of each.
struct LayerGroup {
    LayerKind kind;
    int count = 0;
};
std::vector<LayerGroup> layer_groups(const ModelSpec& spec, int first, int count);
std::vector<LayerGroup> layer_groups(const ModelSpec& spec);  // all layers
int moe_layer_count(const ModelSpec& spec, int first, int count);
int moe_layer_count(const ModelSpec& spec);
// The transformer layer of a multi-token-prediction module: an MoE layer when the model has routed
// experts, full attention with RoPE (DeepSeek-AI 2024, V3 report §2.2).
LayerKind mtp_layer_kind(const ModelSpec& spec);
// The layers of one MTP module: spec.mtp_kinds, or {mtp_layer_kind(spec)}.
std::vector<LayerKind> mtp_layer_kinds(const ModelSpec& spec);

// Which part of the model a parameter belongs to, for the breakdown that `plan` and `models` print.
//   mlp: the dense MLP; experts: routed experts; shared_experts: the always-active expert MLP and
//   its gate; router: the routing projection; mtp: DeepSeek-V3's multi-token-prediction modules
//   (outside the served model: transformers does not build them).
//   mamba: a Mamba-2 mixer's projections, convolution and per-head parameters (its norms: norm);
//   latent: a latent MoE layer's projections d → latent and back (always active, part of the MLP);
//   linear_attention: a Gated DeltaNet mixer's projections, convolution and per-head parameters
//   (its gated norm: norm).
enum class ParamGroup { embedding, attention, mlp, experts, shared_experts, router, norm, head, mtp, mamba, latent, linear_attention };

// Where a tensor lives along the depth of the model (pipeline stages split by this). The MTP
// modules sit after the output layer, on the last stage (DeepSeek-AI 2024, V3 report §2.2).
enum class Block { embedding, layer, final_norm, head, mtp };

// Which layers hold a per-layer tensor (Block::layer): all of them, those with a dense MLP, with
// routed experts, with attention, with a Mamba mixer, with a feed-forward block (dense or MoE), with
// a Gated DeltaNet mixer.
enum class LayerSet { all, dense, moe, attention, mamba, ffn, gdn };
bool in_set(LayerSet s, const LayerKind& k);
// Layers of [first, first + count) in set s.
int layers_in_set(const ModelSpec& spec, LayerSet s, int first, int count);

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
    std::int64_t count;     // copies in the model: the layers holding it for per-layer tensors (× n_experts for experts)
    TpSplit tp;
    bool expert = false;        // part of a routed MoE expert (sharded by expert parallelism)
    bool matmul_weight = false; // 2-D weight that feeds a matmul (fp8 casts, LoRA targets)
    LayerSet layers = LayerSet::all;  // for Block::layer: which layers hold it
    bool is_matrix() const { return rows > 1 && cols > 1; }
    std::int64_t elements() const { return rows * cols; }       // one copy
    std::int64_t total_elements() const { return rows * cols * count; }
};

struct ParamBreakdown {
    std::int64_t embedding = 0;  // token (+ learned position) embeddings
    std::int64_t attention = 0;  // q, k, v, o (+ biases, sinks, MLA projections, relative-position projections)
    std::int64_t mlp = 0;        // every MLP parameter: mlp_dense + routed_experts + shared_experts + router + latent_projections
    std::int64_t norm = 0;       // every norm, including the final one and QK-norms
    std::int64_t head = 0;       // untied output projection (0 when tied)
    std::int64_t mamba = 0;      // Mamba-2 mixers (hybrid models): in/out projections, conv1d, dt_bias, A_log, D
    std::int64_t linear_attention = 0;  // Gated DeltaNet mixers: in/out projections, conv1d, dt_bias, A_log
    std::int64_t total() const { return embedding + attention + mlp + norm + head + mamba + linear_attention; }
    // The parts of `mlp`.
    std::int64_t mlp_dense = 0, routed_experts = 0, shared_experts = 0, router = 0, latent_projections = 0;
    // Parameters a token actually uses in a forward pass: all but the routed experts it skips
    // (top_k of n_experts in each MoE layer).
    std::int64_t active = 0;
    // Multi-token-prediction modules, outside total() (not part of the served model).
    std::int64_t mtp = 0;
};

// Every parameter tensor of the model, per-layer tensors listed once with count = n_layers.
std::vector<ParamTensor> param_tensors(const ModelSpec& spec);

// Exact parameter count by group.
ParamBreakdown count_params(const ModelSpec& spec);

// Parameters of one transformer layer (all experts included), averaged over the layers.
std::int64_t params_per_layer(const ModelSpec& spec);

// Parameters of layers [first, first + count) (all experts included).
std::int64_t params_in_layers(const ModelSpec& spec, int first, int count);

// Copies of a per-layer tensor in layers [first, first + count): count / (layers holding it) ×
// (those among [first, first + count)). For other blocks: its count.
double copies_in_layers(const ParamTensor& t, const ModelSpec& spec, int first, int count);

// Throws InputError (naming `what`, e.g. "--hf-config llama.json") if the shape is inconsistent:
// non-positive sizes, kv heads not dividing heads, top_k > experts, ...
// The most layers a model may have (validate_model; the config readers check it before they build
// anything per layer).
inline constexpr int kMaxModelLayers = 100000;
void validate_model(const ModelSpec& spec, const std::string& what);
// The most parameters validate_model accepts (all tensors, MTP modules included).
inline constexpr std::int64_t kMaxParameters = 1'000'000'000'000'000;

const char* to_string(Activation a);
const char* to_string(Norm n);
const char* to_string(PositionEmbedding p);
const char* to_string(ParamGroup g);
const char* to_string(AttentionForm f);
const char* to_string(QkNorm n);
const char* to_string(LayerAttention a);
const char* to_string(Mixer x);

// Megatron-Core's hybrid layer pattern (M Mamba, * attention, - MLP, E MoE; one symbol per layer):
// the layer kinds it spells, or an InputError naming `what` and the first symbol it cannot read.
std::vector<LayerKind> hybrid_layer_kinds(const std::string& pattern, const std::string& what);
// The pattern of a model's layers (each kind's symbol; "" when some layer is a transformer layer).
std::string hybrid_layer_pattern(const ModelSpec& spec);
// A hybrid layer's symbol in that pattern (M, *, E or -; a transformer layer has none: '?').
char hybrid_symbol(const LayerKind& k);

}  // namespace llmplan
