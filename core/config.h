// config.h — what a training job is: precision, optimizer, parallel layout, batch, recompute.
//
// The enums map one-to-one onto `llmplan plan` flags (their string forms are the flag values),
// so the CLI, the GUI and the JSON report share one vocabulary; those the engine shares too
// (Precision, Recompute, Attention) are core/vocab.h's. validate_config() turns a
// (model, config) pair into either warnings or one clear InputError naming the flag at fault.
#pragma once

#include "core/model.h"
#include "core/vocab.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmplan {

enum class Optimizer { adamw, adam, sgd, sgd_momentum, adafactor, lion, adamw_8bit };
enum class Offload { none, optimizer, optimizer_params };
// Whose memory behaviour to model. generic: the textbook model (ZeRO paper + Korthikanti et al.);
// pytorch: PyTorch 2.x eager training of Hugging Face transformers models, op by op
// (planner/pytorch_profile.h); llmplan: llmplan's own engine's memory books (planner/llmplan_profile.h);
// megatron, deepspeed, torchtitan: those frameworks' own conventions, read from their code
// (planner/framework_megatron.cpp, framework_deepspeed.cpp, framework_torchtitan.cpp).
enum class Framework { generic, pytorch, llmplan, megatron, deepspeed, torchtitan, megatron_bridge };
// Megatron-Core's memory and time: --framework megatron (named alone, Megatron-LM's performance
// settings) and megatron-bridge (the same code under Megatron Bridge's performance-recipe defaults).
inline bool megatron_family(Framework f) { return f == Framework::megatron || f == Framework::megatron_bridge; }
// Frameworks whose "bf16" is mixed precision with fp32 master weights (Megatron-LM's --bf16,
// DeepSpeed's "bf16" section): no pure bf16 training to plan, so --precision bf16 reads as mixed-bf16.
inline bool framework_bf16_is_mixed(Framework f) { return megatron_family(f) || f == Framework::deepspeed; }

// Fine-tuning with LoRA adapters (Hu et al. 2021) as PEFT implements them; with a quantized frozen
// base it is QLoRA (Dettmers et al. 2023). rank 0 = full training.
enum class BaseQuant { none, nf4, int8 };
// in_proj / out_proj: a recurrent mixer's input and output projections (Mamba-2, Gated DeltaNet;
// Megatron Bridge's PEFT target modules of the same names); attention and MLP layers have none.
enum LoraTarget : unsigned {
    lora_q = 1, lora_k = 2, lora_v = 4, lora_o = 8, lora_gate = 16, lora_up = 32, lora_down = 64,
    lora_in_proj = 128, lora_out_proj = 256
};
struct LoraConfig {
    int rank = 0;
    double alpha = 16;
    unsigned targets = lora_q | lora_v;  // PEFT's default for Llama-family models
    BaseQuant base_quant = BaseQuant::none;
    // bitsandbytes paged optimizers: the adapters' optimizer state lives in CUDA unified memory and
    // is evicted to CPU memory under pressure, so it does not count against the GPU peak.
    bool paged_optimizer = false;
    bool enabled() const { return rank > 0; }
};

// How pipeline stages split the transformer layers (docs/MEMORY_MODEL.md §3). Default (nothing
// set): equal stages, L/(p·v) layers per model chunk, which p × v must divide (Megatron-LM's default).
struct PipelineSplit {
    // --pp-layers L0,L1,…: layers per pipeline stage (p entries; with v virtual stages each split
    // into v equal chunks), or per model chunk in the order the model runs them (p·v entries,
    // chunk j·p + i being stage i's j-th; Megatron-LM's --pipeline-model-parallel-layout order).
    std::vector<int> layers;
    // --pp-first-last F,L: Megatron-LM's --decoder-first-pipeline-num-layers and
    // --decoder-last-pipeline-num-layers; the other stages share the rest equally. -1: not given.
    int first = -1, last = -1;
    // --pp-layers balanced, and `search` where p does not divide L: ⌊L/p⌋ layers per stage, one
    // more on L mod p stages — the middle stages from the last backwards, then the last stage.
    bool balanced = false;
    // Megatron-LM's --account-for-embedding-in-pipeline-split / --account-for-loss-in-pipeline-split:
    // the embedding (the loss) counts as one layer of the split, so the first (last) stage holds one
    // transformer layer fewer: (L + 1 or 2)/p per stage.
    bool embedding_as_layer = false, loss_as_layer = false;
    // Set by default_pipeline_split (none of the above given, p·v does not divide the layers):
    // the split above was llmplan's choice, and the plan says so.
    bool chosen_by_llmplan = false;
    bool even() const {
        return layers.empty() && first < 0 && last < 0 && !balanced && !embedding_as_layer && !loss_as_layer;
    }
    friend bool operator==(const PipelineSplit&, const PipelineSplit&) = default;
};

struct ParallelLayout {
    int gpus = 1;           // total GPUs
    int gpus_per_node = 8;  // for node counts and CPU memory per node
    int tp = 1;             // tensor parallel
    int pp = 1;             // pipeline parallel
    int cp = 1;             // context parallel (sequence split across GPUs in attention)
    int ep = 1;             // expert parallel (MoE experts split over data × context parallel ranks)
    int etp = 0;            // expert tensor parallel: the routed experts' own tp, 1 or tp; 0 = tp (expert_tp())
    bool etp_chosen_by_llmplan = false;  // etp 1 set by resolve_defaults: --ep fits only with it (the plan says so)
    int virtual_stages = 1; // interleaved pipeline: model chunks per pipeline rank
    bool sp = false;        // Megatron sequence parallelism (with tp > 1)
    int zero = 0;           // ZeRO stage 0..3 over the data-parallel group
    PipelineSplit split;    // layers per pipeline stage (default: equal)
    // In 64 bits, and without overflow for any int sizes: tp × pp (< 2^62) first; past the GPUs the
    // layout has dp 0 (which validate_config refuses) before cp multiplies it; a size below 1 too.
    int dp() const {
        const std::int64_t tp_pp = std::int64_t{tp} * pp;
        if (tp < 1 || pp < 1 || cp < 1 || tp_pp > gpus) return 0;
        return static_cast<int>(gpus / (tp_pp * cp));  // tp_pp ≤ gpus < 2^31, cp < 2^31
    }
    // The routed experts' tensor-parallel size: tp unless --etp says otherwise. With 1 < tp the
    // experts may run unsplit (etp 1, Megatron-Core's "MoE parallel folding", arXiv:2504.14960):
    // the expert-parallel group then spans the tp × cp × dp ranks of a pipeline stage
    // (docs/MEMORY_MODEL.md §3, docs/PERFORMANCE_MODEL.md §3 "Expert tensor parallelism").
    int expert_tp() const { return etp > 0 ? etp : tp; }
    // ZeRO shards dense states over data × context parallel ranks (Megatron-Core's
    // distributed optimizer uses the dp×cp group), expert states over the expert data-parallel
    // group: tp × cp × dp ÷ (etp × ep) ranks (dp × cp ÷ ep when etp = tp).
    int shard_group() const { return dp() * cp; }
    int expert_shard_group() const {
        const std::int64_t ranks = std::int64_t{tp} * cp * dp(), per = std::int64_t{expert_tp()} * ep;
        return per > 0 && ranks % per == 0 ? static_cast<int>(ranks / per) : 0;
    }
};

struct TrainConfig {
    Precision precision = Precision::mixed_bf16;
    Optimizer optimizer = Optimizer::adamw;
    ParallelLayout parallel;
    Recompute recompute = Recompute::none;
    Attention attention = Attention::flash;
    double dropout = 0.0;             // probability; 0 = no dropout (no masks stored)
    std::int64_t micro_batch = 1;     // sequences per GPU per forward pass
    std::int64_t seq = 0;             // tokens per sequence; 0 = default_seq(model)
    std::int64_t global_batch = 0;    // sequences per optimizer step; 0 = micro × dp × pp
    Offload offload = Offload::none;
    // --offload-activations N: the saved activations of the first N transformer layers go to CPU
    // memory after their forward and come back before their backward (Transformer Engine's CPU
    // offloading, which Megatron-Core runs with --cpu-offloading --cpu-offloading-num-layers N):
    // the GPU holds L − N layers' activations; the copies cross the host link beside the compute
    // (docs/MEMORY_MODEL.md §4 and docs/PERFORMANCE_MODEL.md §2, "Activation offloading").
    int offload_activations = 0;
    Framework framework = Framework::generic;
    // The framework's own settings (--framework-option KEY=VALUE), in the order given, keys
    // unique; which keys a framework takes and their defaults: its profile (planner/framework.h).
    std::vector<std::pair<std::string, std::string>> framework_options{};
    LoraConfig lora;
    // How an input was read where it is not what was typed (train_config_from_text: "bf16" under a
    // framework whose --bf16 is mixed precision); validate_config returns them among its warnings.
    std::vector<std::string> input_notes{};

    // Micro-batches per optimizer step per data-parallel rank; 0 for a layout without data
    // parallelism (tp × pp × cp above the GPUs: validate_config refuses it, but a GUI scenario is
    // written before it is validated).
    std::int64_t grad_accum() const {
        const std::int64_t per_rank_step = micro_batch * parallel.dp();
        return per_rank_step > 0 ? global_batch / per_rank_step : 0;
    }
};

// The transformer layers of each model chunk, in the order the model runs them: p × v entries,
// chunk j·p + i being pipeline stage i's j-th (Megatron-LM's interleaved placement; v = 1: one
// chunk per stage). Throws InputError naming the flag when the split does not fit the n_layers
// layers (every chunk holds at least one layer).
std::vector<int> pipeline_chunk_layers(int n_layers, const ParallelLayout& parallel);
// "7,7,8,8,8,8,8,7": the layers of each pipeline stage.
std::string stage_layers_text(int n_layers, const ParallelLayout& parallel);

// Default training sequence length for a model: its context, capped at 4,096 tokens.
std::int64_t default_seq(const ModelSpec& model);

// Fills seq and global_batch defaults; returns the config as it will be planned.
TrainConfig resolve_defaults(const ModelSpec& model, TrainConfig config);
// resolve_defaults also sets --etp 1 where no --etp is given, the model is a mixture of experts under
// --tp > 1 with --sp, and --ep fits tp × cp × dp only with the experts whole on each rank (Megatron-
// Core's parallel folding; with etp = tp, its default, ep must divide dp × cp).
// The split llmplan plans where no split is given and p·v does not divide the L layers: the
// embedding and the loss counted as layers where L + 2 divides (Megatron-LM's
// --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split, which NVIDIA's
// recipes set for such models), the loss alone where L + 1 does, else balanced (PipelineSplit::
// balanced). An even split (nothing set) where p·v divides L or there is no pipeline.
PipelineSplit default_pipeline_split(int n_layers, int pp, int virtual_stages);

// The most tokens one optimizer step may hold (global batch × sequence): 10^15, a million times
// today's largest batches, and exact in a double.
inline constexpr std::int64_t kMaxTokensPerStep = 1'000'000'000'000'000;

// Checks the combination; throws InputError naming the flag (e.g. "--tp 3 does not divide the
// 32 attention heads of llama-2-7b") or returns warnings (e.g. ZeRO-3 on one data-parallel rank).
std::vector<std::string> validate_config(const ModelSpec& model, const TrainConfig& config);

// The ZeRO stage of a job that gives no --zero, with data (× context) parallelism to shard over:
// 1 under megatron and megatron-bridge (--use-distributed-optimizer: every Megatron-LM example
// script and its README benchmark, Megatron Bridge's recipes/common.py), 3 under torchtitan
// (FSDP2 over every data-parallel rank: data_parallel_shard_degree −1, its default); 0 elsewhere
// and without data parallelism (docs/MEMORY_MODEL.md §9, §11).
int default_zero_stage(Framework f, const ParallelLayout& p);

// String forms (the flag values; Precision's, Recompute's and Attention's: core/vocab.h) and parsers
// that throw InputError naming `flag`.
const char* to_string(Optimizer o);
const char* to_string(Offload o);
const char* to_string(Framework f);
Precision parse_precision(std::string_view text, std::string_view flag);
Optimizer parse_optimizer(std::string_view text, std::string_view flag);
Recompute parse_recompute(std::string_view text, std::string_view flag);
Attention parse_attention(std::string_view text, std::string_view flag);
Offload parse_offload(std::string_view text, std::string_view flag);
Framework parse_framework(std::string_view text, std::string_view flag);  // a profile's name or an alias
std::string framework_aliases();  // "nemo = megatron-bridge, ..." for help texts
std::vector<std::string> framework_names();
std::vector<std::string> precision_names();
const char* to_string(BaseQuant q);
BaseQuant parse_base_quant(std::string_view text, std::string_view flag);
// "q,k,v,o,gate,up,down,in_proj,out_proj" (any subset, or "all"; q_proj etc. accepted) <-> bits;
// throws InputError naming `flag`. lora_target_names(): the list, "q, k, …", for help texts.
unsigned parse_lora_targets(std::string_view text, std::string_view flag);
std::string lora_targets_string(unsigned targets);
std::string lora_target_names();
std::vector<std::string> optimizer_names();

}  // namespace llmplan
