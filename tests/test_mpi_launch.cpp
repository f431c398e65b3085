// test_mpi_launch.cpp — `mpirun -np N llmplan profile …` without MPI or GPUs: how a process knows
// that an MPI launcher started it (dist/mpi_session.h, environment only), and the merge of the
// ranks' results that the launcher and mpirun share (cli/profile_dist.h report_profile_ranks)
// refusing results that do not fit the run.
#include "cli/profile_dist.h"
#include "dist/mpi_session.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

// Sets or clears an environment variable for one scope, then restores it.
class EnvVar {
public:
    EnvVar(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            REQUIRE(setenv(name, value, 1) == 0);
        else
            REQUIRE(unsetenv(name) == 0);
    }
    ~EnvVar() {
        if (old_)
            (void)setenv(name_, old_->c_str(), 1);
        else
            (void)unsetenv(name_);
    }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("launched_by_mpi reads the launchers' environment variables", "[mpi]") {
    EnvVar a("OMPI_COMM_WORLD_SIZE", nullptr), b("PMI_SIZE", nullptr), c("PMIX_RANK", nullptr);
    CHECK_FALSE(llmplan::kernels::launched_by_mpi());
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
        EnvVar set(name, "2");
        INFO(name);
        CHECK(llmplan::kernels::launched_by_mpi());
    }
    CHECK_FALSE(llmplan::kernels::launched_by_mpi());
    // Only the presence counts (Open MPI sets OMPI_COMM_WORLD_SIZE for every rank it starts).
    EnvVar empty("PMIX_RANK", "");
    CHECK(llmplan::kernels::launched_by_mpi());
}

TEST_CASE("report_profile_ranks refuses results that do not fit the run", "[mpi][profile]") {
    using namespace llmplan;
    const cli::ResolvedModel model{};
    const GpuSpec gpu{};
    const TrainConfig config{};
    const MemoryPlan plan{};
    const PerfPlan perf{};
    const cli::ResolvedPerf perf_in{};
    profiler::ProfileRequest request;
    request.world = 2;
    const cli::ProfileDistContext c{model, gpu, config, plan, perf, perf_in, request};
    cli::ProfileCommand cmd;
    std::ostringstream out, err;
    CHECK_THROWS_WITH(cli::report_profile_ranks(cmd, c, {"{}"}, out, err), "1 rank results for 2 ranks");
    CHECK_THROWS_WITH(cli::report_profile_ranks(cmd, c, {"not json", "{}"}, out, err),
                      Catch::StartsWith("rank 0 finished but its result is unreadable: not valid JSON at line 1, column 2: "));
    CHECK_THROWS_WITH(cli::report_profile_ranks(cmd, c, {"{\"rank\": 0}", "{}"}, out, err),
                      Catch::Equals("rank 0 finished but its result is unreadable: not a complete rank result"));
    CHECK(out.str().empty());
}
