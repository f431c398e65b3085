// options.h — flags shared by the subcommands that take a model and a training job
// (plan now; search, profile later): binding them to CLI11 and resolving them into core types.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/job_text.h"
#include "core/model.h"
#include "gui/scenario.h"
#include "planner/job_import.h"
#include "planner/perf.h"

#include <CLI/CLI.hpp>

#include <set>
#include <string>

namespace llmplan::cli {

struct ModelOptions {
    std::string model;      // --model NAME (a preset or a Hugging Face ORG/NAME: core/model_source.h)
    std::string hf_config;  // --hf-config PATH (a config.json or a folder holding one)
    std::string params;     // --params N (derive a standard shape)
};

// The job's flags are core's JobText (core/job_text.h, shared with the GUI) plus the GPU.
struct JobOptions : JobText {
    std::string gpu = kDefaultGpu;
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
    std::string kernel_table;          // --kernel-table FILE (llmplan.kernel-tables/1) or "none"
    std::string elementwise;           // --elementwise fused|eager (PerfOptions::elementwise)
    std::string goodput, mtbf_hours, checkpoint_minutes, restart_minutes, batch_rampup;  // the run's goodput
    // (flag, key) of each value apply_cluster_file took from --cluster, so a refusal names the file.
    std::vector<std::pair<std::string, std::string>> from_cluster{};
};

void add_model_options(CLI::App& app, ModelOptions& o);
void add_perf_options(CLI::App& app, PerfFlags& o);
// Fills the job's --gpu, --gpus, --gpus-per-node and the cluster flags of `p` from --cluster FILE
// where the flags were not given (app.count(flag) == 0).
void apply_cluster_file(const CLI::App& app, PerfFlags& p, JobOptions& job);
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

// The job file and the imports of the training commands (plan, search): --config FILE (CLI11's
// TOML config: KEY = VALUE per long flag), --write-config FILE, --deepspeed FILE,
// --megatron-args FILE|'ARGS', --torchtitan FILE (planner/job_import.h).
struct ImportFlags {
    std::string deepspeed, megatron_args, megatron_bridge, torchtitan, write_config;
};
// --config and --write-config only (infer and scaling take the job file too).
void add_config_options(CLI::App& app, std::string& write_config);
void add_import_options(CLI::App& app, ImportFlags& o);
// --config FILE of the parsed subcommand: each KEY = VALUE sets the flag --KEY unless it was given
// on the command line; an unknown key is an InputError naming the file. Called right after parsing.
void apply_job_file(CLI::App& app);

// The job as it will be planned: the flags, then (where a flag was not given) --cluster and the
// imports; the model from the flags or, failing them, from the import. Prints what each import
// took, derived and ignored on `err`, and writes --write-config.
struct PreparedJob {
    ResolvedModel model;
    JobOptions job;
    PerfFlags perf;
    std::vector<JobImport> imports;
};
// `search_space`: flags the command takes as lists of candidates rather than the job's value
// (search: --recompute, --cp, ...); an import's value for one is listed as ignored, as is one for a
// flag the command lacks.
PreparedJob prepare_job(const CLI::App& app, const ModelOptions& m, const JobOptions& j, const PerfFlags& p,
                        const ImportFlags& imports, std::ostream& err, const std::set<std::string>& search_space = {});

// --write-config FILE: the options given (command line, --config) with the values the imports set
// on top, as a TOML job file that --config reads back.
void write_job_config(const CLI::App& app, const std::vector<JobImport>& imports, const std::string& path);
// --scenario FILE (a GUI scenario, gui/scenario.h) on plan and infer, and --write-scenario FILE
// (plan) when `write_scenario` is given. apply_scenario_file sets each flag the scenario holds that
// was not given (command line, --config); called right after apply_job_file.
void add_scenario_option(CLI::App& app, std::string* write_scenario);
void apply_scenario_file(CLI::App& app);
// The resolved training job as a GUI scenario; an InputError names what a scenario cannot hold.
gui::Scenario scenario_from_job(const ModelOptions& flags, const PreparedJob& prepared, const TrainConfig& resolved);

// The text of a --megatron-args / --vllm-args value: the file it names, or the arguments themselves.
std::string argument_list_text(const std::string& value, const char* flag, std::string* source);

}  // namespace llmplan::cli
