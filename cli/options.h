// options.h — flags shared by the subcommands that take a model and a training job
// (plan now; search, profile later): binding them to CLI11 and resolving them into core types.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/job_text.h"
#include "core/model.h"
#include "planner/perf.h"

#include <CLI/CLI.hpp>

#include <string>

namespace llmplan::cli {

struct ModelOptions {
    std::string model;      // --model NAME (a preset or a Hugging Face ORG/NAME: core/model_source.h)
    std::string hf_config;  // --hf-config PATH (a config.json or a folder holding one)
    std::string params;     // --params N (derive a standard shape)
};

// The job's flags are core's JobText (core/job_text.h, shared with the GUI) plus the GPU.
struct JobOptions : JobText {
    std::string gpu = "h100-sxm";
    std::string gpu_memory;  // override of the card's capacity
};

// The cluster and the run (time, cost, energy): plan and search.
struct PerfFlags {
    std::string cluster;               // --cluster FILE (JSON)
    std::string inter_node_bandwidth;  // per node, e.g. 8x400Gb/s
    std::string nvlink_bandwidth;      // bus bandwidth inside a node
    std::string price, mfu, tokens, pue = "1.2", grid_intensity = "0.4";
    std::string calibration;           // --calibration FILE (llmplan.calibration/1)
    std::string peak_flops, power_limit;  // the GPU's matmul speed (PerfOptions)
    std::string goodput, mtbf_hours, checkpoint_minutes, restart_minutes, batch_rampup;  // the run's goodput
};

void add_model_options(CLI::App& app, ModelOptions& o);
void add_perf_options(CLI::App& app, PerfFlags& o);
// Fills --gpu, --gpus and --gpus-per-node from --cluster FILE where the flags were not given.
void apply_cluster_file(const CLI::App& app, const PerfFlags& p, JobOptions& job);
struct ResolvedPerf {
    ClusterSpec cluster;
    PerfOptions options;
};
ResolvedPerf resolve_perf(const PerfFlags& o, const GpuSpec& gpu, const TrainConfig& config);
// layout = false leaves out the flags `search` chooses itself (--tp, --pp, --zero, --micro-batch, ...).
void add_job_options(CLI::App& app, JobOptions& o, bool layout = true);

// How the model was chosen, for the report header ("preset llama-2-7b", "Hugging Face cache FILE",
// "--hf-config x.json", "--params 7B").
struct ResolvedModel {
    ModelSpec spec;
    std::string origin;
    bool derived = false;
};
ResolvedModel resolve_model(const ModelOptions& o);
GpuSpec resolve_gpu(const JobOptions& o);
TrainConfig resolve_job(const JobOptions& o, const GpuSpec& gpu);

}  // namespace llmplan::cli
