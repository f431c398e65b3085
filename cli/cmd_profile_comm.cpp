// cmd_profile_comm.cpp — `llmplan profile comm`: NCCL bus bandwidth of all-reduce, all-gather and
// reduce-scatter over message sizes, an nccl-tests-like table measured with one process per GPU.
//
// The command launches itself: the parent checks the flags and the GPUs, starts one child per GPU
// (/proc/self/exe profile comm … with the hidden --rank/--world/--id-file/--result-file flags,
// dist/launcher.h), forwards rank 0's progress, and waits. A child that fails or a run that
// passes --timeout stops every rank and is reported in one line naming the rank and why (its last
// log lines). The children's results become the llmplan.nccl_busbw/1 report (docs/BENCHMARKS.md),
// printed as a table or --json, written with --report, and merged into a calibration file (--out:
// its "collectives" key only). Without the GPU backend module, NCCL in it or GPUs it refuses in one
// line (exit code 2). profiler/comm_bench.h has the measurement and the report.
// Under mpirun (dist/mpi_session.h, a module with MPI) every process is a rank instead: GPU = its
// rank on the node, the unique id through MPI_Bcast, the results gathered to rank 0, which
// reports; without MPI in the module it refuses there in one line.
#include "cli/commands.h"
#include "cli/profile_dist.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "core/quantity.h"
#include "dist/launcher.h"
#include "dist/mpi_session.h"
#include "profiler/comm_bench.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>

#include <unistd.h>

extern char** environ;

namespace llmplan::cli {

void setup_profile_comm(CLI::App& profile_app, ProfileCommCommand& cmd) {
    cmd.app = profile_app.add_subcommand(
        "comm", "Measure NCCL bus bandwidth (all-reduce, all-gather, reduce-scatter) over message sizes, one process per GPU");
    auto* a = cmd.app;
    a->add_option("--gpus", cmd.gpus, "GPUs (= processes) to use (default: all visible)")->type_name("N");
    a->add_option("--min-bytes", cmd.min_bytes, "Smallest total size S (nccl-tests' S)")->capture_default_str()->type_name("SIZE");
    a->add_option("--max-bytes", cmd.max_bytes, "Largest total size S; sizes double from min to max")
        ->capture_default_str()
        ->type_name("SIZE");
    a->add_option("--iters", cmd.iters, "Timed iterations per size")->capture_default_str()->type_name("N");
    a->add_option("--warmup", cmd.warmup, "Untimed iterations per size before them")->capture_default_str()->type_name("N");
    a->add_option("--dtype", cmd.dtype, "float, bfloat16 or half")->capture_default_str()->type_name("T");
    a->add_option("--collectives", cmd.collectives, "Comma-separated: all_reduce, all_gather, reduce_scatter (or all)")
        ->capture_default_str()
        ->type_name("LIST");
    a->add_option("--timeout", cmd.timeout, "Stop every rank when the whole run takes longer (seconds)")
        ->capture_default_str()
        ->type_name("S");
    a->add_option("--op-timeout", cmd.op_timeout,
                  "A rank aborts NCCL when one wait (setup, a size's calls) takes longer (seconds)")
        ->capture_default_str()
        ->type_name("S");
    a->add_flag("--json", cmd.json, "Print the report as JSON (schema llmplan.nccl_busbw/1) instead of a table");
    a->add_option("--report", cmd.report, "Also write the JSON report to FILE")->type_name("FILE");
    a->add_option("--out", cmd.out,
                  "Merge the results into the calibration file FILE (its \"collectives\" key; created if missing)")
        ->type_name("FILE");
    // Set by the launcher for its children: hidden from --help.
    a->add_option("--rank", cmd.rank)->group("");
    a->add_option("--world", cmd.world)->group("");
    a->add_option("--id-file", cmd.id_file)->group("");
    a->add_option("--result-file", cmd.result_file)->group("");
}

namespace {

std::uint64_t size_flag(const std::string& text, const char* flag) {
    const double b = parse_bytes(text, flag);
    if (b != std::floor(b)) throw InputError(std::string(flag) + ": \"" + text + "\" is not a whole number of bytes");
    if (b > 64.0 * (1ull << 30)) throw InputError(std::string(flag) + ": \"" + text + "\" is too large (at most 64GiB)");
    return static_cast<std::uint64_t>(b);
}

profiler::CommBenchOptions bench_options(const ProfileCommCommand& cmd) {
    profiler::CommBenchOptions o;
    o.min_bytes = size_flag(cmd.min_bytes, "--min-bytes");
    o.max_bytes = size_flag(cmd.max_bytes, "--max-bytes");
    if (o.min_bytes > o.max_bytes)
        throw InputError("--min-bytes: \"" + cmd.min_bytes + "\" is larger than --max-bytes \"" + cmd.max_bytes + "\"");
    o.iters = static_cast<int>(parse_int(cmd.iters, "--iters", 1, 1000000));
    o.warmup = static_cast<int>(parse_int(cmd.warmup, "--warmup", 0, 1000000));
    o.dtype = profiler::parse_comm_dtype(cmd.dtype, "--dtype");
    o.kinds = profiler::parse_comm_kinds(cmd.collectives, "--collectives");
    return o;
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// A child: one rank's measurement, its result written atomically where the parent reads it.
int run_rank(const ProfileCommCommand& cmd, const profiler::CommBenchOptions& o, double op_timeout, std::ostream& err) {
    const int world = static_cast<int>(parse_int(cmd.world, "--world", 1, 4096));
    const int rank = static_cast<int>(parse_int(cmd.rank, "--rank", 0, world - 1));
    if (cmd.result_file.empty()) throw InputError("--rank: needs --result-file (set by the launcher)");
    if (world > 1 && cmd.id_file.empty()) throw InputError("--rank: needs --id-file (set by the launcher)");
    const nlohmann::ordered_json result = profiler::run_comm_rank(rank, world, cmd.id_file, o, op_timeout, [&](const std::string& line) {
        err << "rank " << rank << ": " << line << "\n" << std::flush;
    });
    write_output_file(cmd.result_file, report_text(result, "profile comm result", 1), "--result-file");
    return 0;
}

// The report from every rank's result: the table or --json, --report, --out (shared by the
// launcher and mpirun).
int report_comm(const ProfileCommCommand& cmd, const profiler::CommBenchOptions& options, int gpus,
                const std::vector<nlohmann::ordered_json>& ranks, const std::string& launch, std::ostream& out,
                std::ostream& err) {
    profiler::BusbwRunInfo info;
    info.command = "llmplan profile comm";
    for (const char* f : {"--gpus", "--min-bytes", "--max-bytes", "--iters", "--warmup", "--dtype", "--collectives"}) {
        const std::string flag = f;
        const std::string value = flag == "--gpus" ? std::to_string(gpus) : flag == "--min-bytes" ? cmd.min_bytes
                                  : flag == "--max-bytes" ? cmd.max_bytes : flag == "--iters" ? cmd.iters
                                  : flag == "--warmup" ? cmd.warmup : flag == "--dtype" ? cmd.dtype : cmd.collectives;
        info.command += " " + flag + " " + value;
    }
    info.date = utc_now();
    char host[256] = {0};
    if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
    info.host = host;
    info.launch = launch;
    for (char** e = environ; e && *e; ++e) {
        const std::string kv = *e;
        if (kv.rfind("NCCL_", 0) != 0) continue;
        const std::size_t eq = kv.find('=');
        info.nccl_env.emplace_back(kv.substr(0, eq), eq == std::string::npos ? "" : kv.substr(eq + 1));
    }
    const nlohmann::ordered_json report = profiler::busbw_report(ranks, options, info);
    const unsigned long long errors = profiler::busbw_errors(report);

    // Files first (whole or nothing), then the output.
    if (!cmd.report.empty()) write_output_file(cmd.report, report_text(report, "profile comm report", 1), "--report");
    if (!cmd.out.empty() && errors == 0)
        write_output_file(cmd.out, profiler::merge_collectives(read_text_file_if_present(cmd.out, "--out").value_or(""), report, "--out " + cmd.out), "--out");
    if (cmd.json) {
        out << report_text(report, "profile comm report", 1);
    } else {
        out << "llmplan profile comm: NCCL bus bandwidth\n" << profiler::busbw_table(report);
        if (!cmd.out.empty() && errors == 0) out << "\n  collectives merged into " << cmd.out << "\n";
    }
    if (errors > 0) {
        err << "llmplan profile comm: error: " << errors
            << " output elements were wrong (see \"errors\" in the report); the calibration file was not written\n";
        return 1;
    }
    return 0;
}


}  // namespace

// `mpirun -np N llmplan profile comm`: this process is rank session.rank() (GPU = its rank on the
// node), the unique id through MPI_Bcast, the results gathered to rank 0, which reports. A refusal
// before the start check (MpiSession::first_error) stops every rank with exit 2, rank 0 printing
// the one line; a rank that fails after it prints one line and MPI_Abort stops them all.
int run_profile_comm_mpi(const ProfileCommCommand& cmd, std::ostream& out, std::ostream& err) {
    const std::unique_ptr<kernels::MpiSession> session = start_mpi("llmplan profile comm");
    kernels::MpiSession& s = *session;
    profiler::CommBenchOptions options;
    double op_timeout = 0;
    std::string refusal;
    try {
        options = bench_options(cmd);
        (void)parse_real(cmd.timeout, "--timeout", 1, 86400);
        op_timeout = parse_real(cmd.op_timeout, "--op-timeout", 1, 86400);
        if (!cmd.world.empty() || !cmd.id_file.empty() || !cmd.result_file.empty())
            throw InputError("--world, --id-file and --result-file are set by llmplan for its ranks, not under mpirun");
        if (!cmd.gpus.empty() && parse_int(cmd.gpus, "--gpus", 1, 4096) != s.world())
            throw InputError("--gpus " + cmd.gpus + ": mpirun started " + std::to_string(s.world()) +
                             " processes (the MPI world size); pass --gpus " + std::to_string(s.world()) + " or mpirun -np " +
                             cmd.gpus);
        std::string why;  // a module with MPI has NCCL (backend/CMakeLists.txt)
        if (profiler::comm_visible_gpus(&why) == 0) throw InputError("needs a GPU: " + why);
    } catch (const std::exception& e) {
        refusal = e.what();
    }
    const std::string verdict = s.first_error(refusal);
    if (!verdict.empty()) {
        if (s.rank() == 0) throw InputError(verdict);
        return 2;
    }
    if (s.rank() == 0)
        err << "llmplan profile comm: " << s.world() << " ranks (mpirun: one process per GPU, GPU = the rank on its node), "
            << options.dtype << ", " << options.warmup << " warm-up + " << options.iters << " timed iterations per size\n"
            << std::flush;
    std::vector<std::string> results;
    try {
        const nlohmann::ordered_json result = profiler::run_comm_rank(
            s.rank(), s.world(), "", options, op_timeout,
            [&](const std::string& line) {
                if (s.rank() == 0) err << "llmplan profile comm: rank 0: " << line << "\n" << std::flush;
            },
            s.local_rank(), [&s](void* data, std::size_t bytes) { s.broadcast(data, bytes, 0); });
        results = s.gather(result.dump(), 0);
    } catch (const std::exception& e) {
        err << "llmplan profile comm: rank " << s.rank() << " (GPU " << s.local_rank() << "): " << e.what()
            << "; stopping every rank (MPI_Abort)\n"
            << std::flush;
        s.abort(1);
    }
    if (s.rank() != 0) return 0;
    std::vector<nlohmann::ordered_json> ranks;
    for (std::size_t r = 0; r < results.size(); ++r) {
        try {
            ranks.push_back(parse_json_text<nlohmann::ordered_json>(results[r], "its result"));
        } catch (const InputError& e) {
            throw std::runtime_error("rank " + std::to_string(r) + ": " + e.what());
        }
    }
    return report_comm(cmd, options, s.world(), ranks,
                       "mpirun: one process per GPU started by MPI (" + std::to_string(s.world()) +
                           " ranks), device = the rank on its node; NCCL unique id through MPI_Bcast",
                       out, err);
}

int run_profile_comm(const ProfileCommCommand& cmd, std::ostream& out, std::ostream& err) {
    if (cmd.rank.empty() && kernels::launched_by_mpi()) return run_profile_comm_mpi(cmd, out, err);
    // Every flag is checked before any GPU is touched.
    const profiler::CommBenchOptions options = bench_options(cmd);
    const double timeout = parse_real(cmd.timeout, "--timeout", 1, 86400);
    const double op_timeout = parse_real(cmd.op_timeout, "--op-timeout", 1, 86400);
    if (!cmd.rank.empty()) return run_rank(cmd, options, op_timeout, err);
    if (!cmd.world.empty() || !cmd.id_file.empty() || !cmd.result_file.empty())
        throw InputError("--world, --id-file and --result-file are set by llmplan for its ranks; pass --rank too or none");
    int gpus = 0;
    if (!cmd.gpus.empty()) gpus = static_cast<int>(parse_int(cmd.gpus, "--gpus", 1, 4096));

    std::string why;
    const int visible = profiler::comm_visible_gpus(&why);
    if (visible == 0) throw InputError("needs a GPU: " + why);
    if (gpus == 0) gpus = visible;
    if (gpus > visible)
        throw InputError("--gpus: \"" + cmd.gpus + "\" GPUs asked, " + std::to_string(visible) + " visible (one process per GPU)");

    // A private folder for the unique-id file, the ranks' results and logs.
    const std::filesystem::path dir = dist::make_private_dir("llmplan-comm");

    dist::LaunchOptions launch;
    launch.program = dist::self_executable();
    launch.log_dir = dir.string();
    launch.timeout_seconds = timeout;
    std::vector<std::string> common = {"profile",     "comm",        "--min-bytes",   std::to_string(options.min_bytes) + "B",
                                       "--max-bytes", std::to_string(options.max_bytes) + "B",
                                       "--iters",     cmd.iters,     "--warmup",      cmd.warmup,
                                       "--dtype",     options.dtype, "--collectives", cmd.collectives,
                                       "--op-timeout", cmd.op_timeout, "--world",      std::to_string(gpus),
                                       "--id-file",   (dir / "nccl_unique_id").string()};
    for (int r = 0; r < gpus; ++r) {
        std::vector<std::string> args = common;
        args.insert(args.end(), {"--rank", std::to_string(r), "--result-file", (dir / ("rank" + std::to_string(r) + ".json")).string()});
        launch.args.push_back(std::move(args));
    }
    err << "llmplan profile comm: " << gpus << " ranks (one process per GPU), " << options.dtype << ", "
        << options.warmup << " warm-up + " << options.iters << " timed iterations per size; logs in " << dir.string() << "\n";
    dist::LogFollower follow((dir / "rank0.log").string(), "llmplan profile comm: ");
    launch.on_poll = [&] { follow.forward(err); };
    const dist::LaunchResult result = dist::launch_ranks(launch);
    follow.forward(err, true);
    if (!result.ok) throw std::runtime_error(result.summary());

    std::vector<nlohmann::ordered_json> ranks;
    for (int r = 0; r < gpus; ++r) {
        const std::string path = (dir / ("rank" + std::to_string(r) + ".json")).string();
        try {
            ranks.push_back(read_json_file<nlohmann::ordered_json>(path, "its result"));
        } catch (const InputError& e) {
            throw std::runtime_error("rank " + std::to_string(r) + " finished but " + e.what());
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return report_comm(cmd, options, gpus, ranks,
                       "one process per GPU started by llmplan (fork/exec of itself), device = rank; NCCL unique id through a file",
                       out, err);
}

}  // namespace llmplan::cli
