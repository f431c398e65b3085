// options.h — flags shared by the subcommands that take a model and a training job
// (plan now; search, profile later): binding them to CLI11 and resolving them into core types.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"

#include <CLI/CLI.hpp>

#include <string>

namespace llmplan::cli {

struct ModelOptions {
    std::string model;      // --model NAME (preset)
    std::string hf_config;  // --hf-config FILE
    std::string params;     // --params N (derive a standard shape)
};

struct JobOptions {
    std::string gpu = "h100-sxm";
    std::string gpu_memory;  // override of the card's capacity
    std::string gpus = "1", gpus_per_node, tp = "1", pp = "1", cp = "1", ep = "1", virtual_stages = "1", zero = "0";
    bool sp = false;
    std::string precision, optimizer = "adamw", recompute = "none", attention = "flash";
    std::string dropout = "0", micro_batch = "1", seq, global_batch, offload = "none", framework = "generic";
};

void add_model_options(CLI::App& app, ModelOptions& o);
void add_job_options(CLI::App& app, JobOptions& o);

// How the model was chosen, for the report header ("preset", "--hf-config x.json", "--params 7B").
struct ResolvedModel {
    ModelSpec spec;
    std::string origin;
    bool derived = false;
};
ResolvedModel resolve_model(const ModelOptions& o);
GpuSpec resolve_gpu(const JobOptions& o);
TrainConfig resolve_job(const JobOptions& o, const GpuSpec& gpu);

}  // namespace llmplan::cli
