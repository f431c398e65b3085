// memory.h — per-GPU training memory, term by term, for every pipeline stage.
//
// plan_memory() turns (model, GPU, training config) into the bytes each GPU holds: parameters,
// gradients, optimizer state (with fp32 master copies), saved activations, logits, communication
// buffers, ZeRO-3 gathered parameters, temporaries and CUDA overhead; the phase at which the sum
// peaks (forward end, backward, optimizer step); an allocator-reserved estimate; whether it fits
// the card; and the largest micro-batch that would. Every term carries a human-readable formula
// with the numbers substituted and its source. Model: docs/MEMORY_MODEL.md.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace llmplan {

// One line of the explanation.
struct MemoryTerm {
    std::string key;      // stable identifier, also the JSON key stem ("parameters", ...)
    std::string label;    // what a person reads
    double bytes = 0;
    std::string formula;  // how the bytes were obtained, numbers substituted
    std::string source;   // paper / doc / assumption it follows
};

struct PhaseTotal {
    std::string name;     // "forward_end", "backward", "optimizer_step"
    double bytes = 0;     // allocated at that moment
};

// What one GPU of one pipeline stage holds.
struct StageMemory {
    int stage = 0;
    int first_layer = 0;           // transformer layers [first_layer, first_layer + layers), or with
    int layers = 0;                //   virtual stages the first of its chunks and their total (stage_layer_ranges)
    std::string placement;         // "embedding + layers 0-31 + final norm + head"
    std::int64_t params_on_gpu = 0;  // after tensor/pipeline/expert splits, before ZeRO sharding
    std::int64_t expert_params_on_gpu = 0;  // of them, routed experts' (reduced over the expert data-parallel group)
    double layer_microbatches = 0;   // activation sets held: layers × micro-batches in flight
    double microbatches_in_flight = 0;

    // Bytes per GPU.
    double parameters = 0;
    double gradients = 0;
    double master = 0;            // fp32 master weights (part of optimizer)
    double optimizer_states = 0;  // m, v, ... (part of optimizer)
    double optimizer() const { return master + optimizer_states; }
    double activations = 0;       // saved for backward, all micro-batches in flight
    double activations_per_layer = 0;  // one layer, one micro-batch (layers of several kinds: their average)
    double logits = 0;
    double communication_buffers = 0;
    double zero3_gathered = 0;
    double fp8_weight_cache = 0;
    double recompute_working = 0; // rematerialised during backward
    double temporary = 0;         // temporaries live at the peak
    double overhead = 0;          // CUDA context and library workspaces (outside the allocator)
    double cpu_offload = 0;       // bytes this rank keeps in CPU memory
    double offloaded_activations = 0;  // of them, --offload-activations: the offloaded layers' saved tensors, one micro-batch

    std::vector<PhaseTotal> phases;
    std::string peak_phase;
    double peak_allocated = 0;
    double reserved_estimate = 0;  // allocator reserve at the peak, fragmentation included
    double device_total = 0;       // reserved + overhead: what the GPU must hold
    std::vector<MemoryTerm> terms;
};

struct MemoryPlan {
    ModelSpec model;
    GpuSpec gpu;
    TrainConfig config;  // defaults resolved
    ParamBreakdown params;
    std::vector<std::string> warnings;
    std::vector<StageMemory> stages;  // one per pipeline stage
    int worst_stage = 0;              // the most loaded stage (largest device_total)
    double allocator_fragmentation = 0;
    double capacity_bytes = 0;
    bool fits = false;
    double headroom_bytes = 0;        // capacity − device_total of the worst stage (negative: short by)
    std::int64_t max_micro_batch = 0; // largest micro-batch that fits, same micro-batches per step; 0: none
    const StageMemory& worst() const { return stages[static_cast<std::size_t>(worst_stage)]; }
};

// How a plan sits against the card. A plan that fits with less than `margin` of the capacity to
// spare is tight: the estimate's own error and run-to-run allocator variation (docs/MEMORY_MODEL.md
// "Headroom margin") can take that much. kHeadroomMargin is a convention, not a measured figure;
// the GUI's verdict and search use it, `llmplan search --headroom` sets a margin (default: none).
inline constexpr double kHeadroomMargin = 0.05;
enum class FitState { fits, tight, does_not_fit };
FitState fit_state(double headroom_bytes, double capacity_bytes, double margin = kHeadroomMargin);

// Plans memory for the model as the job's framework builds it (FrameworkProfile::trained_model;
// MemoryPlan::model is that model). Throws InputError (naming the flag) for invalid combinations.
MemoryPlan plan_memory(const ModelSpec& model, const GpuSpec& gpu, const TrainConfig& config);

// The fast path `llmplan search` evaluates layouts with: the same numbers as plan_memory for the
// stages that can be the most loaded or the slowest (the first and the last; with an uneven split
// also the ends of each run of stages holding equally many layers; every stage of a model whose
// layers differ; `stages` holds those in order), without the explanations and without the
// largest-micro-batch search (max_micro_batch stays 0).
// `tensors` and `params` are param_tensors(model) and count_params(model), computed once.
MemoryPlan plan_memory_quick(const ModelSpec& model, const std::vector<ParamTensor>& tensors, const ParamBreakdown& params,
                             const GpuSpec& gpu, const TrainConfig& config);

// The transformer layers pipeline stage `stage` holds: L/p consecutive layers, or with v virtual
// stages its v model chunks of L/(p·v) layers, chunk j holding virtual chunk stage + j·p
// (Megatron-LM's interleaved placement, get_transformer_layer_offset; Narayanan et al. 2021 §2.2);
// with an uneven split (ParallelLayout::split) the chunks of pipeline_chunk_layers (core/config.h),
// placed one after another in the model's order. The one placement the memory and time models use.
struct LayerRange {
    int first = 0;
    int count = 0;
};
std::vector<LayerRange> stage_layer_ranges(const ModelSpec& model, const ParallelLayout& parallel, int stage);
// The number of transformer layers on pipeline stage `stage` (its ranges' counts, summed).
int stage_layer_count(const ModelSpec& model, const ParallelLayout& parallel, int stage);
// Those layers grouped by kind (core/model.h layer_groups) over all the stage's ranges.
std::vector<LayerGroup> stage_layer_groups(const ModelSpec& model, const ParallelLayout& parallel, int stage);

// Parameters one GPU of pipeline stage `stage` holds (after the tensor, pipeline and expert
// splits, before ZeRO sharding), split by shard group: the generic model's and the framework
// profiles' common count. `tensors` is param_tensors(model).
struct StageParams {
    double dense = 0, expert = 0;               // elements
    double dense_state = 0, expert_state = 0;   // unsharded optimizer-state bytes
    double matmul = 0;                          // elements of matmul weights (fp8 copies)
    double largest_block = 0;                   // elements of the largest gather unit (ZeRO-3)
    std::string largest_block_name;
};
StageParams stage_params(const ModelSpec& model, const std::vector<ParamTensor>& tensors, const TrainConfig& config,
                         int stage);
// Local shape of a tensor under tensor parallelism t (Megatron §3; biases are 1 × n vectors).
void local_shape(const ParamTensor& tensor, int t, double& rows, double& cols);
// The same on a GPU of layout p: routed experts split by the experts' own tensor-parallel size
// (ParallelLayout::expert_tp, --etp), every other tensor by tp.
void local_shape(const ParamTensor& tensor, const ParallelLayout& p, double& rows, double& cols);
// Copies of a tensor on a stage: for per-layer tensors those in the stage's layer ranges
// (core/model.h copies_in_layers: dense and MoE layers counted where they fall), summed range by
// range. Made once per stage: the layers of each LayerSet are counted once for the model and for
// each range, not twice per tensor (a model with per-layer kinds, DeepSeek-V3's dense and MoE
// layers, would walk its layers for every tensor of every stage of every layout a search plans).
class StageCopies {
public:
    StageCopies(const ModelSpec& model, const std::vector<LayerRange>& ranges);
    double operator()(const ParamTensor& tensor) const;               // the stage's copies
    double in_layer(const ParamTensor& tensor, int layer) const;      // = copies_in_layers(tensor, model, layer, 1)

private:
    static constexpr std::size_t kSets = 7;  // the LayerSet values
    static double share(const ParamTensor& tensor, int holding, int here);
    const ModelSpec* model_;
    std::array<int, kSets> model_layers_{};
    std::vector<std::array<int, kSets>> range_layers_;
};

// One GPU of pipeline stage `stage` in the generic (textbook) model: the `generic` framework
// profile's plan_stage (framework.h). `tensors` is param_tensors(model); explain = false leaves out
// the terms and formulas.
StageMemory plan_generic_stage(const ModelSpec& model, const std::vector<ParamTensor>& tensors, const TrainConfig& config,
                               int stage, bool explain);

// Assumptions of the generic profile (documented in docs/MEMORY_MODEL.md §6).
inline constexpr double kGenericFragmentation = 0.05;                   // allocator reserve over peak
// CUDA context and library workspaces outside the allocator: device used − PyTorch reserved,
// measured 766.8 MiB on the lent H100 (CUDA 13, PyTorch 2.11; validation/pytorch_memory).
inline constexpr double kGenericCudaContextBytes = 768.0 * 1024 * 1024;

}  // namespace llmplan
