// commands.h — one options struct, setup function and run function per subcommand
// (cmd_plan.cpp, cmd_models.cpp, cmd_gpus.cpp). The commands hold no model logic.
#pragma once

#include "cli/options.h"

#include <CLI/CLI.hpp>

#include <ostream>
#include <string>

namespace llmplan::cli {

struct PlanCommand {
    CLI::App* app = nullptr;
    ModelOptions model;
    JobOptions job;
    PerfFlags perf;
    ImportFlags imports;
    bool json = false, compare_finetune = false;
    std::string report, write_scenario;
    std::string units = "gib";
};
void setup_plan(CLI::App& parent, PlanCommand& cmd);
int run_plan(const PlanCommand& cmd, std::ostream& out, std::ostream& err);

struct SearchCommand {
    CLI::App* app = nullptr;
    ModelOptions model;
    JobOptions job;
    PerfFlags perf;
    ImportFlags imports;
    std::string top = "10", rank = "time", max_tp, max_pp, zero = "0,1,2,3", recompute = "none,selective,full",
                micro_batches, cp = "1", virtual_stages = "1,2,4", ep, etp = "tp", headroom = "0";
    bool json = false, csv = false, quiet = false;
};
void setup_search(CLI::App& parent, SearchCommand& cmd);
int run_search(const SearchCommand& cmd, std::ostream& out, std::ostream& err);

struct ScalingCommand {
    CLI::App* app = nullptr;
    std::string law = "epoch", ratio = "20", law_file;
    std::string compute, params, tokens, gpu_hours, budget, price, gpus, days, gpu = kDefaultGpu, mfu = "0.4";
    std::string inference_tokens, target_loss, isoflop, points = "21", flops = "6nd", seq = "2048";
    std::string fit, bootstrap = "0", drop = "0", out, write_config;
    bool then_plan = false, json = false, csv = false;
};
void setup_scaling(CLI::App& parent, ScalingCommand& cmd);
int run_scaling(const ScalingCommand& cmd, std::ostream& out, std::ostream& err);

struct InferCommand {
    CLI::App* app = nullptr;
    ModelOptions model;
    std::string gpu = kDefaultGpu, gpu_memory, weights = "bf16", group_size = "128", kv, batch = "1", prompt = "512",
                generate = "256", prefill_chunk, tp = "1", attention = "flash", framework = "generic", utilization = "0.9",
                block_size = "16", report, vllm_args, write_config;
    bool no_double_quant = false, json = false, forward_only = false, autograd = false;
};
void setup_infer(CLI::App& parent, InferCommand& cmd);
int run_infer(const InferCommand& cmd, std::ostream& out, std::ostream& err);

struct ProfileCommand {
    CLI::App* app = nullptr;
    ModelOptions model;
    JobOptions job;
    std::string steps = "10", warmup = "2", device = "cuda", seed = "0", report, calibration;
    bool json = false, force = false;
    // --gpus N > 1 (cmd_profile_dist.cpp): the whole run's and one NCCL wait's limits (seconds);
    // rank, id_file and result_file are the hidden flags of the processes it starts.
    std::string timeout = "900", op_timeout = "120", rank, id_file, result_file;
};
void setup_profile(CLI::App& parent, ProfileCommand& cmd);
int run_profile(const ProfileCommand& cmd, std::ostream& out, std::ostream& err);

// `llmplan profile calibrate` (cmd_calibrate.cpp): a subcommand of profile.
struct ProfileCalibrateCommand {
    CLI::App* app = nullptr;
    ModelOptions model;
    std::string precision = "mixed-bf16", micro_batch = "1,2,4,8", seq = "1024", attention = "flash,eager", out;
    std::string kernel_table;  // also write the measured GEMM and copy rates as a kernel table
    bool dry_run = false;
};
void setup_profile_calibrate(CLI::App& profile_app, ProfileCalibrateCommand& cmd);
int run_profile_calibrate(const ProfileCalibrateCommand& cmd, std::ostream& out, std::ostream& err);

// `llmplan profile comm` (cmd_profile_comm.cpp): a subcommand of profile; rank, world, id_file and
// result_file are the hidden flags of the processes it starts (one per GPU).
struct ProfileCommCommand {
    CLI::App* app = nullptr;
    std::string gpus, min_bytes = "1MiB", max_bytes = "2GiB", iters = "20", warmup = "5", dtype = "float",
                collectives = "all_reduce,all_gather,reduce_scatter", timeout = "300", op_timeout = "60", report, out;
    bool json = false;
    std::string rank, world, id_file, result_file;
};
void setup_profile_comm(CLI::App& profile_app, ProfileCommCommand& cmd);
int run_profile_comm(const ProfileCommCommand& cmd, std::ostream& out, std::ostream& err);

struct ModelsCommand {
    CLI::App* app = nullptr;
    std::string name;       // optional: show one model in detail
    std::string hf_config;  // or a Hugging Face config
    bool json = false;
};
void setup_models(CLI::App& parent, ModelsCommand& cmd);
int run_models(const ModelsCommand& cmd, std::ostream& out, std::ostream& err);

struct GpusCommand {
    CLI::App* app = nullptr;
    bool json = false;
};
void setup_gpus(CLI::App& parent, GpusCommand& cmd);
int run_gpus(const GpusCommand& cmd, std::ostream& out, std::ostream& err);

}  // namespace llmplan::cli
