// infer.h — `llmplan infer`: serving a model — weights by format, KV cache, prefill activations,
// whether it fits, the largest batch and the longest context, time to first token and decode
// speed. Model and sources: docs/INFERENCE.md.
//
//  * weights: matmul weights of the layers in the chosen format (quant.h), embeddings, norms and
//    the output layer unquantized (fp16/bf16; fp32 for fp32) — what GPTQ/AWQ/bitsandbytes leave;
//    multi-token-prediction modules are not served (not loaded without speculative decoding);
//  * KV cache, per kind of layer (KvLayout): K and V of kv_heads · head_dim per token and layer
//    (Pope et al. 2022), or MLA's compressed latent kv_lora_rank + qk_rope_head_dim (DeepSeek-V2
//    §2.1.2) where the framework stores it; sliding-window layers keep at most the window, chunked
//    layers at most the chunk; with `vllm` counted in blocks as vLLM's hybrid KV cache manager
//    allocates them (VllmKvPool);
//  * activations: inference keeps nothing for backward, so the peak is one layer's transient
//    working set (the MLP's gate/up/product, q/k/v and attention out; eager attention's scores
//    and fp32 softmax) for the prefill chunk, plus the logits of the last position;
//  * with `hf` and a GPT-2 / Llama-family model the prefill is replayed op by op with the pytorch
//    profile's simulator (pytorch_profile.h: no_grad forward, or a bare `model(input_ids)` that
//    records autograd and so keeps every activation — the seed lecture's out-of-memory);
//  * frameworks: generic (allocate what is needed), hf (transformers `generate`: DynamicCache grows
//    by concatenation, so one layer's cache is briefly held twice), vllm (reserves
//    gpu_memory_utilization of the card up front; what weights and activations leave is KV blocks);
//  * time: prefill is compute-bound (2 FLOPs per active matmul parameter and token + causal,
//    window-limited attention, at the GEMM efficiency of the time model); a decode step is
//    memory-bound (the weights a step touches — every dense weight, and of the routed experts
//    those the batch's tokens pick, expected_experts_touched — plus every sequence's KV read once,
//    at kDecodeBandwidthEfficiency of HBM bandwidth), or compute-bound for large batches, plus
//    tensor-parallel all-reduces and a per-step framework overhead.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"
#include "planner/memory.h"
#include "planner/quant.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmplan {

enum class InferFramework { generic, hf, vllm };
const char* to_string(InferFramework f);
InferFramework parse_infer_framework(std::string_view text, std::string_view flag);

struct InferConfig {
    QuantSpec weights;                          // format of the layers' matmul weights
    WeightFormat kv = WeightFormat::bf16;       // KV-cache element: fp32, fp16, bf16, fp8 or int8
    std::int64_t batch = 1;                     // sequences decoded together
    std::int64_t prompt = 512;                  // prompt tokens per sequence
    std::int64_t generate = 256;                // generated tokens per sequence
    std::int64_t prefill_chunk = 0;             // tokens per prefill pass (0: whole prompts of the batch)
    int tp = 1;                                 // tensor parallel GPUs
    Attention attention = Attention::flash;
    InferFramework framework = InferFramework::generic;
    double gpu_memory_utilization = 0.9;        // vllm
    // hf only: a single forward pass over the prompts (`model(input_ids)`: logits of every
    // position, no decoding), and whether it records autograd (no torch.no_grad()).
    bool forward_only = false, autograd = false;
    int block_size = 16;                        // vllm paged-attention block (tokens)
};

// A serving job as the text its user typed (`llmplan infer`'s flags, the GUI's inference fields),
// and the one function that turns it into an InferConfig with the CLI's ranges and messages.
struct InferText {
    std::string weights = "bf16", group_size = "128";
    bool double_quant = true;  // not --no-double-quant
    std::string kv;            // --kv-cache; empty: bf16 (fp32 for fp32 weights)
    std::string batch = "1", prompt = "512", generate = "256", prefill_chunk;  // prefill_chunk empty: whole prompts
    std::string tp = "1", attention = "flash", framework = "generic", utilization = "0.9", block_size = "16";
};
// Throws InputError naming the flag.
InferConfig infer_config_from_text(const InferText& t);

// ---- KV cache by kind of layer (docs/INFERENCE.md "KV cache") --------------------------------

// The layers of one attention kind as the KV cache sees them.
struct KvGroup {
    LayerAttention attention = LayerAttention::global;
    int layers = 0;
    std::int64_t window = 0;      // sliding: sliding_window; chunked: attention_chunk; global: 0 (every token)
    double bytes_per_token = 0;   // K and V (or MLA's latent) of one token in one layer, per GPU
};

// What one sequence's KV cache holds, per GPU.
struct KvLayout {
    std::vector<KvGroup> groups;  // global, sliding, chunked: those the model has
    bool mla_latent = false;      // MLA stored as its compressed latent (else expanded per head)
    std::string per_layer_formula;  // bytes per token and layer, numbers substituted
    double bytes_per_token() const;  // every layer, before any window
    // Tokens a layer of `g` holds once a sequence has n: min(n, window), n for global layers.
    static double tokens_held(const KvGroup& g, double n);
    double bytes_at(double n) const;           // one sequence of n tokens, every layer
    double largest_layer_at(double n) const;   // the largest single layer's share of that
};
// Throws nothing: the model is validated by the caller (plan_inference). Only attention layers
// hold K and V (a hybrid's Mamba and MLP layers none).
KvLayout kv_layout(const ModelSpec& m, const InferConfig& c);

// A hybrid model's Mamba-2 layers keep a recurrent state per sequence instead of a KV cache,
// whatever its length (docs/INFERENCE.md "Hybrid Mamba models"): the causal convolution's last
// conv_kernel − 1 inputs of x, B and C, (k − 1)·(d_inner + 2·G·N) elements, and the SSM state
// H·P·N, per layer, ÷ tp. Element sizes: the model dtype for both in transformers and llmplan's
// default; vLLM keeps the convolution state in the model dtype and the SSM state in fp32 for
// Nemotron-H (its NemotronH config hook: "only float32 is known to have no accuracy issues").
struct RecurrentState {
    int layers = 0;                  // Mamba (or Gated DeltaNet) layers
    bool gdn = false;                // the layers are Gated DeltaNet mixers (Qwen3-Next), not Mamba-2
    double conv_bytes = 0, ssm_bytes = 0;  // one sequence, one layer, per GPU
    double per_sequence() const { return layers * (conv_bytes + ssm_bytes); }
    std::string formula;
};
RecurrentState recurrent_state(const ModelSpec& m, const InferConfig& c);

// vLLM's hybrid KV cache manager (vllm/v1/core/kv_cache_utils.py): layers are split into KV cache
// groups of one attention kind and `group_size` layers each (the smallest kind's layer count, or
// the largest when it is under 1.5 × the smallest; the last group of a kind padded); one block
// holds block_size tokens of one group, i.e. of group_size layers, and every group draws blocks
// from one pool.
struct VllmKvGroups {
    KvGroup kind;
    int groups = 0;  // KV cache groups of this kind
};
struct VllmKvPool {
    int group_size = 0;              // layers per KV cache group
    std::vector<VllmKvGroups> kinds;
    double block_bytes = 0;          // block_size tokens × group_size layers
    int padding_layers() const;      // groups × group_size − layers
};
VllmKvPool vllm_kv_pool(const KvLayout& kv, int block_size);
// Blocks one request of `context` tokens needs at its peak by vLLM's own estimate (each group's
// KVCacheSpec.max_memory_usage_bytes, the figure behind vLLM's "Maximum concurrency" line):
// full attention cdiv(context, block); sliding cdiv(min(window − 1 + batched, context), block) + 1;
// chunked cdiv(min(chunk + batched, context), block), `batched` = tokens scheduled per step.
std::int64_t vllm_blocks_per_request(const VllmKvPool& pool, int block_size, std::int64_t context,
                                     std::int64_t batched_tokens);

// Expected distinct routed experts of one MoE layer that `tokens` tokens touch, each picking
// top_k of `experts` uniformly at random and independently of the others: an expert is missed by
// one token with probability 1 − k/E, by all of them with (1 − k/E)^tokens, so
// E · (1 − (1 − k/E)^tokens) (docs/INFERENCE.md "Decode of a mixture of experts").
double expected_experts_touched(int experts, int top_k, double tokens);

struct InferPlan {
    ModelSpec model;
    GpuSpec gpu;
    InferConfig config;
    std::vector<MemoryTerm> terms;   // weights, kv_cache, activations, logits, framework, overhead
    std::vector<std::string> warnings;  // e.g. bf16 weights on a GPU without bf16 (precision_fallback_warning)
    double weights = 0, kv_cache = 0, kv_waste = 0, activations = 0, logits = 0, framework_extra = 0, overhead = 0;
    KvLayout kv;
    RecurrentState state;            // a hybrid's Mamba layers: per-sequence state (layers 0: none)
    double recurrent_state = 0;      // batch × state.per_sequence()
    double kv_bytes_per_token = 0;   // per GPU, every layer, before sliding windows and chunks
    double kv_prefill = 0;           // KV held when the prefill ends (generic, hf; vLLM: its blocks, kv_cache)
    double peak = 0;                 // allocated at the peak (prefill end / last decode step)
    double device_total = 0;         // peak + overhead (or vLLM's reservation + overhead)
    double capacity = 0;
    bool fits = false;
    double headroom = 0;
    std::int64_t max_batch = 0;      // largest batch that fits at prompt + generate tokens
    std::int64_t max_context = 0;    // longest prompt + generate that fits at this batch; 0: not even a 1-token prompt
    std::int64_t vllm_kv_blocks = 0, vllm_max_sequences = 0;
    std::int64_t vllm_blocks_per_sequence = 0;  // at prompt + generate tokens (vllm_blocks_per_request)
    VllmKvPool vllm_pool;
    // time
    double prefill_flops = 0, prefill_seconds = 0;    // whole batch; = time to first token
    double prefill_scan_seconds = 0;                  // of prefill_seconds: a hybrid's or Gated DeltaNet model's recurrent scans, at their own rates
    double decode_bytes_per_step = 0, decode_step_seconds = 0;  // per GPU, at the mean context
    double decode_weight_bytes = 0;  // the weights one decode step reads (per GPU)
    double experts_touched = 0;      // routed experts per MoE layer the batch's tokens pick (expected)
    bool decode_compute_bound = false;
    double tokens_per_second_per_sequence = 0, tokens_per_second_per_gpu = 0;
    double total_seconds = 0;        // prefill + all decode steps
};

// Throws InputError naming the flag for impossible requests.
InferPlan plan_inference(const ModelSpec& model, const GpuSpec& gpu, const InferConfig& config);
// How the time to first token was reached, as `infer` and the GUI print it.
std::string prefill_time_text(const InferPlan& p);

// Decode steps read weights and KV at this fraction of the HBM bandwidth (measured copy: 3.0 of
// 3.35 TB/s on H100, docs/REFERENCES.md §7: 0.9; reads alone run a little lower).
inline constexpr double kDecodeBandwidthEfficiency = 0.85;
// Per-step host overhead of a decode step (kernel launches, Python): per layer, by framework.
// hf: transformers eager generate; vllm and generic: CUDA-graph captured decoding.
inline constexpr double kHfDecodeOverheadPerLayer = 0.55e-3;
inline constexpr double kGraphDecodeOverheadPerLayer = 0.01e-3;
// transformers 5.17 generate: hidden-size tensors per prompt token held during the prefill beyond a
// plain no_grad forward (fitted to the generate runs in validation/inference/infer_h100.json).
inline constexpr double kHfGeneratePrefillHidden = 3;
// vLLM: memory of CUDA-graph captures and its sampler beyond the profiled activations (about 0.5 GiB).
inline constexpr double kVllmGraphBytes = 0.5 * 1024 * 1024 * 1024;

}  // namespace llmplan
