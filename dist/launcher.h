// launcher.h — one process per GPU on one node, started and watched by llmplan itself: no mpirun,
// torchrun or other software. Plain C++20 over POSIX (fork, execve, waitpid, kill); Linux only
// (prctl(PR_SET_PDEATHSIG) so that no rank outlives the launcher). Target llmplan_dist, always
// built; tests/test_launcher.cpp drives it with /bin/sh children on any machine.
//
// The launcher starts rank 0 … n−1 of `program` with their own arguments and the extra
// environment entries, each rank's stdout and stderr going to log_dir/rank<r>.log, and waits.
//  * A rank that exits non-zero or dies on a signal fails the run: every other rank still running
//    gets SIGTERM, then SIGKILL after `grace_seconds`, and the result names the first rank that
//    failed, how (exit code or signal) and the last lines of its log.
//  * A run that passes `timeout_seconds` is stopped the same way; the ranks still running are
//    reported as hung (`timed_out`), with the last lines of their logs.
// Nothing here hangs: every wait is bounded by the timeout plus the grace period.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace llmplan::dist {

struct LaunchOptions {
    std::string program;                         // path of the executable every rank runs
    std::vector<std::vector<std::string>> args;  // per rank: argv[1 …] (args.size() = ranks)
    std::vector<std::string> env;                // "KEY=VALUE" added to (or replacing in) the launcher's environment
    std::string log_dir;                         // existing folder: rank r writes log_dir/rank<r>.log
    double timeout_seconds = 600;                // the whole run
    double grace_seconds = 5;                    // between SIGTERM and SIGKILL
    double poll_seconds = 0.01;
    std::function<void()> on_poll;              // called on every poll while ranks run (e.g. to show progress)
};

enum class RankState {
    ok,          // exit code 0
    failed,      // exited non-zero (127: the program could not be started)
    signaled,    // died on a signal it did not get from the launcher
    timed_out,   // still running at the deadline: killed (hung?)
    stopped,     // killed by the launcher because another rank failed
};
const char* to_string(RankState s);

struct RankOutcome {
    int rank = 0;
    RankState state = RankState::ok;
    int exit_code = -1;  // when it exited
    int signal = 0;      // when a signal ended it
    double seconds = 0;  // from launch to its end
    std::string log_path;
    std::string log_tail;  // the last non-empty lines of its log (at most 3, joined by " | ")
};

struct LaunchResult {
    bool ok = false;
    double seconds = 0;
    int first_failure = -1;  // the rank whose failure stopped the run (-1: none, or a timeout)
    std::vector<RankOutcome> ranks;
    // One line: "all 4 ranks finished", or e.g. "rank 1 failed (exit code 1) after 2.1 s: <log>;
    // stopped ranks 0, 2, 3" / "timed out after 600 s: rank 0 and rank 1 still running (hung?): …".
    std::string summary() const;
};

// Starts and waits for every rank. Throws std::runtime_error only when the launcher itself cannot
// work (no ranks, a log file it cannot create, fork failing); every rank failure is in the result.
LaunchResult launch_ranks(const LaunchOptions& options);

// The running executable (readlink /proc/self/exe); throws std::runtime_error if unknown.
std::string self_executable();

// A new folder only this user can enter, under the system's temporary directory, named
// `prefix` + "-XXXXXX" (mkdtemp): for the NCCL id file, the ranks' results and logs. Throws
// std::runtime_error if it cannot be created.
std::string make_private_dir(const std::string& prefix);

// The last non-empty lines (at most `lines`) of a text file, joined by " | " ("" if unreadable).
std::string file_tail(const std::string& path, int lines = 3);

// Forwards the complete lines a rank has added to its log since the last call to `out`, each
// with `prefix` — at most every 200 ms unless `now` (the parent shows rank 0's progress while it
// waits: profile --gpus N, profile comm).
class LogFollower {
public:
    LogFollower(std::string path, std::string prefix) : path_(std::move(path)), prefix_(std::move(prefix)) {}
    void forward(std::ostream& out, bool now = false);

private:
    std::string path_, prefix_;
    std::size_t offset_ = 0;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace llmplan::dist
