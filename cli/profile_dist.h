// profile_dist.h — `llmplan profile --gpus N` (N > 1): what cmd_profile.cpp hands to
// cmd_profile_dist.cpp, which starts one process per GPU (or, under mpirun, is one of them),
// merges their measurements and reports them beside the plan (per-rank books, step time, the
// collectives). Internal to cli/.
#pragma once

#include "cli/commands.h"
#include "cli/options.h"
#include "dist/mpi_session.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "profiler/runner.h"

#include <memory>
#include <ostream>
#include <string>
#include <vector>

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
    // How the ranks were started (the report's job.launch).
    std::string launch = "one process per GPU started by llmplan (fork/exec of itself), device = rank; NCCL unique id through a file";
};

// `mpirun -np N llmplan profile --gpus N …` (dist/mpi_session.h; a GPU backend module with MPI):
// the session and whether every rank has passed the start check. Before it, a rank's error joins
// the check (MpiSession::first_error), so that every rank stops with exit 2 and rank 0 prints the
// one line; after it, a rank that fails prints one line and MPI_Abort stops them all (no rank
// waits forever).
struct MpiRun {
    kernels::MpiSession& session;
    bool agreed = false;
    // The start check; throws MpiRefused when some rank refused (every rank then exits 2).
    void agree(const std::string& error = "");
};
struct MpiRefused {
    std::string verdict;  // the first rank's error, "rank r: …"
};
// This process as rank session.rank() of the run (c.request.world = session.world()): the steps on
// GPU local_rank(), the per-rank results gathered to rank 0, which reports as run_profile_ranks does.
int run_profile_mpi(const ProfileCommand& cmd, const ProfileDistContext& c, MpiRun& mpi, std::ostream& out, std::ostream& err);
// Under mpirun: MPI started through the GPU backend module (backend/backend.h), or InputError in one
// line saying why not (no module, or one without MPI) and what `command` does instead.
std::unique_ptr<kernels::MpiSession> start_mpi(const std::string& command);

// The parent: launches the ranks (dist/launcher.h), waits, reports. A rank that fails or
// hangs stops the run with one line naming it (exit 1).
int run_profile_ranks(const ProfileCommand& cmd, const ProfileDistContext& c, std::ostream& out, std::ostream& err);
// A child (hidden --rank): runs the steps as rank r and writes its measurement to --result-file.
int run_profile_rank(const ProfileCommand& cmd, profiler::ProfileRequest request, std::ostream& err);
// One rank's steps (request.rank of request.world), its measurement as JSON text (what a child
// writes to its result file); progress lines on `progress` when given. Throws on a failure.
std::string measure_profile_rank(const profiler::ProfileRequest& request, std::ostream* progress);
// The report from every rank's JSON text (index = rank): per-rank books against the prediction,
// step time, the collectives against the shard plan (exit 1 when the bytes differ). Shared by the
// launcher (run_profile_ranks) and mpirun (run_profile_mpi).
int report_profile_ranks(const ProfileCommand& cmd, const ProfileDistContext& c, const std::vector<std::string>& rank_results,
                         std::ostream& out, std::ostream& err);

}  // namespace llmplan::cli
