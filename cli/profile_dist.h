// profile_dist.h — `llmplan profile --gpus N` (N > 1): what cmd_profile.cpp hands to
// cmd_profile_dist.cpp, which starts one process per GPU, merges their measurements and reports
// them beside the plan (per-rank books, step time, the collectives). Internal to cli/.
#pragma once

#include "cli/commands.h"
#include "cli/options.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "profiler/runner.h"

#include <ostream>

namespace llmplan::cli {

struct ProfileDistContext {
    const ResolvedModel& model;
    const GpuSpec& gpu;
    const TrainConfig& config;
    const MemoryPlan& plan;
    const PerfPlan& perf;
    const ResolvedPerf& perf_in;
    const profiler::ProfileRequest& request;  // world, zero, per-rank batch; rank 0
    double timeout_seconds = 900;             // the whole run (--timeout)
};

// The parent: launches the ranks (kernels/dist/launcher.h), waits, reports. A rank that fails or
// hangs stops the run with one line naming it (exit 1).
int run_profile_ranks(const ProfileCommand& cmd, const ProfileDistContext& c, std::ostream& out, std::ostream& err);
// A child (hidden --rank): runs the steps as rank r and writes its measurement to --result-file.
int run_profile_rank(const ProfileCommand& cmd, profiler::ProfileRequest request, std::ostream& err);

}  // namespace llmplan::cli
