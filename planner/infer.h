// infer.h — `llmplan infer`: serving a model — weights by format, KV cache, prefill activations,
// whether it fits, the largest batch and the longest context, time to first token and decode
// speed. Model and sources: docs/INFERENCE.md.
//
//  * weights: matmul weights of the layers in the chosen format (quant.h), embeddings, norms and
//    the output layer unquantized (fp16/bf16; fp32 for fp32) — what GPTQ/AWQ/bitsandbytes leave;
//  * KV cache: 2 · layers · kv_heads · head_dim · bytes per token (K and V), for batch × (prompt +
//    generated) tokens; with `vllm` allocated in blocks of 16 tokens (Kwon et al. 2023, the
//    "waste" is the unused tail of each sequence's last block);
//  * activations: inference keeps nothing for backward, so the peak is one layer's transient
//    working set (the MLP's gate/up/product, q/k/v and attention out; eager attention's scores
//    and fp32 softmax) for the prefill chunk, plus the logits of the last position;
//  * with `hf` and a GPT-2 / Llama-family model the prefill is replayed op by op with the pytorch
//    profile's simulator (pytorch_profile.h: no_grad forward, or a bare `model(input_ids)` that
//    records autograd and so keeps every activation — the seed lecture's out-of-memory);
//  * frameworks: generic (allocate what is needed), hf (transformers `generate`: DynamicCache grows
//    by concatenation, so one layer's cache is briefly held twice), vllm (reserves
//    gpu_memory_utilization of the card up front; what weights and activations leave is KV blocks);
//  * time: prefill is compute-bound (2·N·tokens + causal attention FLOPs at the GEMM efficiency of
//    the time model); a decode step is memory-bound (weights + every sequence's KV read once, at
//    kDecodeBandwidthEfficiency of HBM bandwidth), or compute-bound for large batches, plus tensor-
//    parallel all-reduces and a per-step framework overhead.
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

struct InferPlan {
    ModelSpec model;
    GpuSpec gpu;
    InferConfig config;
    std::vector<MemoryTerm> terms;   // weights, kv_cache, activations, logits, framework, overhead
    double weights = 0, kv_cache = 0, kv_waste = 0, activations = 0, logits = 0, framework_extra = 0, overhead = 0;
    double kv_bytes_per_token = 0;   // per GPU
    double peak = 0;                 // allocated at the peak (prefill end / last decode step)
    double device_total = 0;         // peak + overhead (or vLLM's reservation + overhead)
    double capacity = 0;
    bool fits = false;
    double headroom = 0;
    std::int64_t max_batch = 0;      // largest batch that fits at prompt + generate tokens
    std::int64_t max_context = 0;    // longest prompt + generate that fits at this batch
    std::int64_t vllm_kv_blocks = 0, vllm_max_sequences = 0;
    // time
    double prefill_flops = 0, prefill_seconds = 0;    // whole batch; = time to first token
    double decode_bytes_per_step = 0, decode_step_seconds = 0;  // per GPU, at the mean context
    bool decode_compute_bound = false;
    double tokens_per_second_per_sequence = 0, tokens_per_second_per_gpu = 0;
    double total_seconds = 0;        // prefill + all decode steps
};

// Throws InputError naming the flag for impossible requests.
InferPlan plan_inference(const ModelSpec& model, const GpuSpec& gpu, const InferConfig& config);

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
