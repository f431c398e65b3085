// what_fits.h — which models a set of GPUs holds: for each model, full training, LoRA and QLoRA
// fine-tuning and serving, each with what fits at most. The GUI's "What fits" view asks it for
// the presets on the GPU and GPU count of its inputs.
//
// Training (full, LoRA, QLoRA): search_layouts (planner/search.h) with the job as given, over a
// small layout space (ZeRO 0 and 3, recompute none and full, micro-batch 1, no interleaving),
// keeping `margin` of the card free; LoRA is rank 16 on q,v (PEFT's default targets), QLoRA the
// same on an nf4 base (docs/INFERENCE.md "LoRA and QLoRA"). Serving: plan_inference in bf16 with
// the CLI's other defaults on the fewest tensor-parallel GPUs (a power of two up to the count,
// dividing the heads) that hold the weights and one request.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmplan {

struct TrainFit {
    bool fits = false;
    std::string layout;          // the fastest layout that fits ("tp 2, pp 1, dp 4, ZeRO-3, recompute none")
    double step_seconds = 0;     // its step time
    double device_total = 0;     // its bytes on the most loaded GPU
};

struct ModelFit {
    std::string model;
    double parameters = 0;
    TrainFit full, lora, qlora;
    bool serves = false;
    int serve_tp = 0;                  // tensor-parallel GPUs serving it (0: none holds it)
    std::int64_t serve_max_batch = 0;  // at the CLI's default request (512 + 256 tokens)
    std::int64_t serve_max_context = 0;  // at batch 1
};

// `job` supplies the GPU count, GPUs per node, precision, optimizer, sequence (0: each model's
// default) and framework; its layout is ignored (the search chooses it). A model the checks refuse
// for every layout simply does not fit.
ModelFit what_fits(const ModelSpec& model, const GpuSpec& gpu, const TrainConfig& job, double margin);

}  // namespace llmplan
