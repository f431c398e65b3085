// cmd_profile.cpp — `llmplan profile`: runs real training steps (profiler/runner.h: the CUDA
// engine, or the CPU reference with --device cpu), measures peak memory by category and phase and
// step time, and prints them beside the planner's prediction (plan_memory + plan_perf).
#include "cli/commands.h"
#include "cli/profile_dist.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "core/quantity.h"
#include "core/text.h"
#include "engine/program.h"
#include "planner/framework.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "planner/report.h"
#include "profiler/runner.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <iomanip>
#include <limits>
#include <new>
#include <optional>
#include <sstream>

namespace llmplan::cli {

void setup_profile(CLI::App& parent, ProfileCommand& cmd) {
    cmd.app = parent.add_subcommand("profile", "Run real training steps on one GPU (or the CPU reference) and compare "
                                               "measured memory and time with the plan");
    add_model_options(*cmd.app, cmd.model);
    add_job_options(*cmd.app, cmd.job);
    cmd.app->add_option("--steps", cmd.steps, "Measured training steps")->capture_default_str()->type_name("N");
    cmd.app->add_option("--warmup", cmd.warmup, "Warm-up steps before measuring")->capture_default_str()->type_name("N");
    cmd.app->add_option("--device", cmd.device, "cuda (the GPU engine) or cpu (the fp32 CPU reference: tiny models, CI)")
        ->capture_default_str()
        ->type_name("D");
    cmd.app->add_option("--seed", cmd.seed, "Seed of the weights and of the random tokens")->capture_default_str()->type_name("N");
    cmd.app->add_flag("--force", cmd.force,
                      "Run even when the plan predicts out of memory; an allocation failure is then reported with its phase");
    cmd.app->add_option("--calibration", cmd.calibration,
                        "Calibration file (llmplan profile calibrate) for the predicted step time: with --framework llmplan "
                        "the engine's kernels are timed from it")
        ->type_name("FILE");
    cmd.app->add_flag("--json", cmd.json, "Print the report as JSON (schema llmplan.profile/1) instead of a table");
    cmd.app->add_option("--report", cmd.report, "Also write the JSON report to FILE")->type_name("FILE");
    cmd.app->add_option("--timeout", cmd.timeout,
                        "With --gpus N > 1: stop every rank when the whole run takes longer (seconds)")
        ->capture_default_str()
        ->type_name("S");
    cmd.app->add_option("--op-timeout", cmd.op_timeout,
                        "With --gpus N > 1: a rank aborts NCCL when one wait (setup, a step's collectives) takes longer (seconds)")
        ->capture_default_str()
        ->type_name("S");
    // Set by llmplan for the processes of --gpus N > 1 (one per GPU): hidden from --help.
    cmd.app->add_option("--rank", cmd.rank)->group("");
    cmd.app->add_option("--id-file", cmd.id_file)->group("");
    cmd.app->add_option("--result-file", cmd.result_file)->group("");
}

namespace {

int parse_int(const std::string& text, const char* flag, int min) {
    long long v = 0;
    std::size_t used = 0;
    try {
        v = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != text.size() || v < min || v > std::numeric_limits<int>::max())
        throw InputError(std::string(flag) + ": \"" + text + "\" is not a whole number ≥ " + std::to_string(min));
    return static_cast<int>(v);
}

struct Spread {
    double median = 0, min = 0, max = 0;
};
Spread spread(std::vector<double> v) {
    Spread s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.min = v.front();
    s.max = v.back();
    return s;
}

std::string pct(double x) { return (x >= 0 ? "+" : "") + fixed(x, 1) + "%"; }

// A loss scale: a whole number as such (65536, 1048576), else six significant digits.
std::string scale_text(double x) {
    if (x >= 1 && x < 1e15 && x == std::floor(x)) return fixed(x, 0);
    std::ostringstream s;
    s << std::setprecision(6) << x;
    return s.str();
}

}  // namespace

namespace {

// What one `llmplan profile` runs: the resolved job and the engine's request.
struct ProfileJob {
    ResolvedModel model;
    GpuSpec gpu;
    TrainConfig config;
    profiler::ProfileRequest req;
    double run_timeout = 0;  // the whole run (--timeout)
};

// The planner's prediction for the job (it needs no GPU).
struct ProfilePrediction {
    MemoryPlan plan;
    ResolvedPerf perf_in;
    PerfPlan perf;
    const StageMemory& worst() const { return plan.worst(); }
};

// The measured steps in seconds, as median / min / max, and what follows from the step's median.
struct ProfileSpreads {
    Spread total, fwd, bwd, opt;
    double tps = 0, mfu = 0;
    std::array<double, kMemoryCategories> pred_books{};  // the planner's terms in the engine's books
};

// The step's predicted forward and backward, as measured: every micro-batch's (accumulation).
double step_forward(const profiler::ProfileRequest& req, const PerfPlan& perf) {
    return req.accumulation * perf.microbatch_forward_seconds;
}
double step_backward(const profiler::ProfileRequest& req, const PerfPlan& perf) {
    return req.accumulation * perf.microbatch_backward_seconds;
}

// "B × S tokens", or "A micro-batches of B × S tokens" with gradient accumulation.
std::string step_tokens_text(const profiler::ProfileRequest& req) {
    const std::string micro = std::to_string(req.batch) + " × " + std::to_string(req.seq) + " tokens";
    return req.accumulation > 1 ? std::to_string(req.accumulation) + " micro-batches of " + micro : micro;
}

// Resolve the request: the device, the model, the GPU and the job as planned.
ProfileJob resolve_request(const ProfileCommand& cmd) {
    ProfileJob job;
    const std::string device = to_lower(cmd.device);
    if (device == "cuda") {
        job.req.device = profiler::ProfileDevice::cuda;
    } else if (device == "cpu") {
        job.req.device = profiler::ProfileDevice::cpu;
    } else {
        throw InputError("--device: \"" + cmd.device + "\" is not a device; use cuda or cpu");
    }
    job.model = resolve_model(cmd.model);
    job.gpu = resolve_gpu(cmd.job);
    job.config = resolve_defaults(job.model.spec, resolve_job(cmd.job, job.gpu));
    if (job.req.device == profiler::ProfileDevice::cuda) {
        // What the CUDA engine does not run yet (engine/program.h), before the device is looked at.
        if (const std::string why = cuda_engine_supports(engine_step_options(job.config)); !why.empty())
            throw InputError(why);
        std::string why;
        if (!profiler::cuda_device_available(&why)) throw InputError("--device cuda: " + why);
    }
    return job;
}

// Check that the engine runs the job (engine/program.h): data parallel only, fp32 / mixed-bf16 /
// mixed-fp16, AdamW, every weight on the GPU, no dropout, GPT-2 and Llama-style decoders (on CUDA
// accumulation on one GPU only: resolve_request); several GPUs on CUDA only, as many as mpirun started.
void check_request(const ProfileJob& job, const ProfileCommand& cmd, const MpiRun* mpi) {
    if (const std::string why = engine_supports(job.model.spec, job.config); !why.empty()) throw InputError(why);
    const int world = job.config.parallel.gpus;
    if (world > 1 && job.req.device != profiler::ProfileDevice::cuda)
        throw InputError("--gpus " + std::to_string(world) + ": the CPU reference runs on one device; --gpus N > 1 needs --device cuda");
    if (!cmd.rank.empty() && world < 2) throw InputError("--rank: set by llmplan for the ranks of --gpus N > 1 only");
    if (mpi && world != mpi->session.world())
        throw InputError("--gpus " + std::to_string(world) + ": mpirun started " + std::to_string(mpi->session.world()) +
                         " processes (the MPI world size); pass --gpus " + std::to_string(mpi->session.world()) +
                         " or mpirun -np " + std::to_string(world));
}

// The engine's request: shape, storage type, steps, seed, ranks and time limits.
void fill_request(ProfileJob& job, const ProfileCommand& cmd) {
    const TrainConfig& config = job.config;
    profiler::ProfileRequest& req = job.req;
    req.model = job.model.spec;
    req.recompute = config.recompute;
    req.attention = config.attention;
    req.storage = config.precision == Precision::mixed_bf16   ? DType::bf16
                  : config.precision == Precision::mixed_fp16 ? DType::fp16
                                                              : DType::fp32;
    if (req.storage != DType::fp32 && req.device == profiler::ProfileDevice::cpu)
        throw InputError(std::string("--device cpu runs the fp32 CPU reference only; pass --precision fp32 (") +
                         to_string(config.precision) + " needs --device cuda)");
    req.batch = static_cast<int>(config.micro_batch);
    req.seq = static_cast<int>(config.seq);
    req.accumulation = static_cast<int>(engine_step_options(config).accumulation);
    req.steps = parse_int(cmd.steps, "--steps", 1);
    req.warmup = parse_int(cmd.warmup, "--warmup", 0);
    req.seed = static_cast<std::uint64_t>(parse_int(cmd.seed, "--seed", 0));
    req.world = config.parallel.gpus;
    req.zero = req.world > 1 ? config.parallel.zero : 0;
    job.run_timeout = llmplan::parse_real(cmd.timeout, "--timeout", 1, 7 * 86400.0);
    req.op_timeout = llmplan::parse_real(cmd.op_timeout, "--op-timeout", 1, 86400);
}

ProfilePrediction predict(const ProfileJob& job, const ProfileCommand& cmd) {
    ProfilePrediction p;
    p.plan = plan_memory(job.model.spec, job.gpu, job.config);
    PerfFlags perf_flags;
    perf_flags.calibration = cmd.calibration;
    p.perf_in = resolve_perf(perf_flags, job.gpu, p.plan.config);
    p.perf = plan_perf(p.plan, p.perf_in.cluster, p.perf_in.options);
    return p;
}

// Predicted out of memory: refuse before touching the device, unless --force (then warn).
void check_fits(const ProfileJob& job, const ProfilePrediction& p, const ProfileCommand& cmd, std::ostream& err) {
    const StageMemory& st = p.worst();
    const bool dist = job.req.world > 1;
    if (!p.plan.fits && !cmd.force)
        throw InputError("the plan predicts out of memory: " + format_bytes(st.device_total) + " needed of " +
                         format_bytes(p.plan.capacity_bytes) + (dist ? " per GPU" : "") + " on the " + job.gpu.name +
                         " (peak at " + st.peak_phase + "); lower --micro-batch or --seq, use " +
                         (dist ? "a higher --zero or --recompute full, " : "--recompute full, ") +
                         "or pass --force to try anyway");
    if (!p.plan.fits && !dist)
        err << "llmplan profile: warning: the plan predicts out of memory (" << format_bytes(st.device_total) << " of "
            << format_bytes(p.plan.capacity_bytes) << "); running anyway (--force)\n";
}

// Run the steps on one device, printing each step's progress; nothing when the run failed (the
// reason is printed).
std::optional<profiler::ProfileMeasurement> run_steps(const ProfileJob& job, const ProfilePrediction& p,
                                                      std::ostream& err) {
    const profiler::ProfileRequest& req = job.req;
    const TrainConfig& config = job.config;
    const StageMemory& st = p.worst();
    const bool fp16 = req.storage == DType::fp16;
    err << "llmplan profile: " << job.model.spec.name << ", " << step_tokens_text(req) << ", "
        << to_string(config.precision) << ", recompute " << to_string(config.recompute) << ", "
        << to_string(config.attention) << " attention on " << (req.device == profiler::ProfileDevice::cuda ? "cuda" : "cpu")
        << ": " << req.warmup << " warm-up + " << req.steps << " steps\n";
    try {
        return profiler::run_profile(req, [&](int step, int total, const profiler::StepTiming& t, bool warm) {
            err << "llmplan profile: step " << step << "/" << total << (warm ? " (warm-up)" : "") << "  loss "
                << fixed(t.loss, 4) << "  " << fixed(t.total_ms, 2) << " ms";
            if (fp16) err << "  loss scale " << scale_text(t.loss_scale) << (t.skipped ? " (inf/NaN gradients: skipped)" : "");
            err << "\n";
        });
    } catch (const InputError&) {
        throw;
    } catch (const std::bad_alloc&) {
        err << "llmplan profile: out of memory (host allocation failed); predicted " << format_bytes(st.device_total)
            << " at " << st.peak_phase << "\n";
    } catch (const std::exception& e) {  // the engine names the arena category and the phase
        err << "llmplan profile: the run failed: " << e.what() << " (predicted " << format_bytes(st.device_total) << " of "
            << format_bytes(p.plan.capacity_bytes) << ", peak at " << st.peak_phase << ")\n";
    }
    return std::nullopt;
}

ProfileSpreads spreads(const ProfileJob& job, const ProfilePrediction& p, const profiler::ProfileMeasurement& m) {
    std::vector<double> total, fwd, bwd, opt;
    for (const profiler::StepTiming& t : m.steps) {
        total.push_back(t.total_ms / 1e3);
        fwd.push_back(t.forward_ms / 1e3);
        bwd.push_back(t.backward_ms / 1e3);
        opt.push_back(t.optimizer_ms / 1e3);
    }
    ProfileSpreads s;
    s.total = spread(total);
    s.fwd = spread(fwd);
    s.bwd = spread(bwd);
    s.opt = spread(opt);
    const double tokens = static_cast<double>(job.req.accumulation) * job.req.batch * job.req.seq;  // a step's
    s.tps = s.total.median > 0 ? tokens / s.total.median : 0;
    s.mfu = s.total.median > 0 && p.perf.peak_flops > 0 ? p.perf.model_flops_per_step / s.total.median / p.perf.peak_flops
                                                        : 0;
    // Predicted books: the planner's terms mapped onto the engine's categories.
    const StageMemory& st = p.worst();
    s.pred_books = {st.parameters, st.gradients, st.optimizer(), st.activations, st.logits,
                    st.recompute_working + st.temporary};
    return s;
}

// Build the report (llmplan.profile/1, docs/REPORTS.md): the job, predicted, measured, error.
nlohmann::ordered_json build_report(const ProfileJob& job, const ProfilePrediction& p,
                                    const profiler::ProfileMeasurement& m, const ProfileSpreads& s) {
    const profiler::ProfileRequest& req = job.req;
    const TrainConfig& config = job.config;
    const PerfPlan& perf = p.perf;
    const StageMemory& st = p.worst();
    nlohmann::ordered_json j = report_header(kProfileSchema, job.model.spec.name, job.model.origin);
    j["job"] = {{"device", req.device == profiler::ProfileDevice::cuda ? "cuda" : "cpu"},
                {"device_name", m.device_name},
                {"gpu_planned", job.gpu.name},
                {"precision", to_string(config.precision)},
                {"recompute", to_string(config.recompute)},
                {"attention", to_string(config.attention)},
                {"micro_batch", req.batch},
                {"seq", req.seq},
                {"global_batch", static_cast<std::int64_t>(req.accumulation) * req.batch},
                {"steps", req.steps},
                {"warmup", req.warmup},
                {"seed", req.seed}};
    nlohmann::ordered_json pm, mm, em;
    for (int c = 0; c < kMemoryCategories; ++c) {
        const auto i = static_cast<std::size_t>(c);
        pm["memory"][kMemoryCategoryNames[i]] = s.pred_books[i];
        mm["memory"][kMemoryCategoryNames[i]] = {{"peak_bytes", m.peak_bytes[i]}, {"phase", m.peak_phase[i]}};
        em["memory_pct"][kMemoryCategoryNames[i]] = pct_error(m.peak_bytes[i], s.pred_books[i]);
    }
    pm["memory"]["peak_allocated"] = st.peak_allocated;
    pm["memory"]["peak_phase"] = st.peak_phase;
    mm["memory"]["peak_allocated"] = {{"peak_bytes", m.total_peak_bytes}, {"phase", m.total_peak_phase}};
    mm["memory"]["outside_books_bytes"] = m.library_bytes;
    em["memory_pct"]["peak_allocated"] = pct_error(m.total_peak_bytes, st.peak_allocated);
    pm["time"] = {{"step_seconds", perf.step_seconds},
                  {"forward_seconds", step_forward(job.req, perf)},
                  {"backward_seconds", step_backward(job.req, perf)},
                  {"optimizer_seconds", perf.optimizer_seconds},
                  {"tokens_per_second", perf.tokens_per_second},
                  {"mfu", perf.mfu},
                  {"model", perf.engine_time ? (perf.engine_time->calibrated ? "engine kernels, calibrated"
                                                                             : "engine kernels, uncalibrated roofline")
                                             : "generic"}};
    if (!p.perf_in.options.calibration.empty()) pm["time"]["calibration"] = p.perf_in.options.calibration;
    auto spread_json = [](const Spread& x) {
        return nlohmann::ordered_json{{"median", x.median}, {"min", x.min}, {"max", x.max}};
    };
    mm["time"] = {{"step_seconds", spread_json(s.total)},
                  {"forward_seconds", spread_json(s.fwd)},
                  {"backward_seconds", spread_json(s.bwd)},
                  {"optimizer_seconds", spread_json(s.opt)},
                  {"tokens_per_second", s.tps},
                  {"mfu", s.mfu}};
    nlohmann::ordered_json losses = nlohmann::ordered_json::array();
    for (const profiler::StepTiming& t : m.steps) losses.push_back(t.loss);
    mm["losses"] = losses;
    // fp16's dynamic loss scaling (fp32 and bf16: 0 skipped, scale 1): the measured steps skipped
    // for inf/NaN gradients (their time is in the spread above: forward and backward ran, the
    // AdamW kernels returned at once), those of the warm-up, and the scale after the last step.
    mm["skipped_steps"] = m.skipped_steps;
    mm["warmup_skipped_steps"] = m.warmup_skipped_steps;
    mm["loss_scale"] = m.final_loss_scale;
    em["time_pct"] = {{"step_seconds", pct_error(s.total.median, perf.step_seconds)},
                      {"forward_seconds", pct_error(s.fwd.median, step_forward(job.req, perf))},
                      {"backward_seconds", pct_error(s.bwd.median, step_backward(job.req, perf))},
                      {"optimizer_seconds", pct_error(s.opt.median, perf.optimizer_seconds)},
                      {"tokens_per_second", pct_error(s.tps, perf.tokens_per_second)},
                      {"mfu", pct_error(s.mfu, perf.mfu)}};
    em["note"] = "percent error = (predicted − measured) / measured";
    j["predicted"] = pm;
    j["measured"] = mm;
    j["error"] = em;
    return j;
}

// Build the tables: memory by book and time by phase, predicted beside measured, and the notes.
std::string build_tables(const ProfileJob& job, const ProfilePrediction& p, const profiler::ProfileMeasurement& m,
                         const ProfileSpreads& s) {
    const profiler::ProfileRequest& req = job.req;
    const TrainConfig& config = job.config;
    const PerfPlan& perf = p.perf;
    const StageMemory& st = p.worst();
    std::ostringstream out;
    out << "llmplan profile: " << job.model.spec.name << " (" << job.model.origin << ") on " << m.device_name << "\n"
        << "  " << step_tokens_text(req) << ", " << to_string(config.precision) << ", recompute "
        << to_string(config.recompute) << ", " << to_string(config.attention) << " attention; " << req.steps
        << " measured steps after " << req.warmup << " warm-up; predicted for " << job.gpu.name << "\n\n";
    Table mem({"memory", "predicted", "measured", "phase of peak", "error"}, {false, true, true, false, true});
    for (int c = 0; c < kMemoryCategories; ++c) {
        const auto i = static_cast<std::size_t>(c);
        mem.add({kMemoryCategoryNames[i], bytes_text(s.pred_books[i]), bytes_text(m.peak_bytes[i]), m.peak_phase[i],
                 pct(pct_error(m.peak_bytes[i], s.pred_books[i]))});
    }
    mem.rule();
    mem.add({"peak allocated", bytes_text(st.peak_allocated),
             bytes_text(m.total_peak_bytes), m.total_peak_phase,
             pct(pct_error(m.total_peak_bytes, st.peak_allocated))});
    out << mem.str();
    if (m.library_bytes > 0)
        out << "  outside the books (cuBLASLt workspace, kernel scratch, token ids): "
            << bytes_text(m.library_bytes) << "\n";
    Table time({"time", "predicted", "measured (median)", "min – max", "error"}, {false, true, true, true, true});
    auto ms = [](double x) { return fixed(x * 1e3, 2) + " ms"; };
    auto row = [&](const char* what, double predicted, const Spread& measured) {
        time.add({what, ms(predicted), ms(measured.median), ms(measured.min) + " – " + ms(measured.max),
                  pct(pct_error(measured.median, predicted))});
    };
    row("step", perf.step_seconds, s.total);
    row("  forward", step_forward(job.req, perf), s.fwd);
    row("  backward", step_backward(job.req, perf), s.bwd);
    row("  optimizer", perf.optimizer_seconds, s.opt);
    time.add({"tokens/s", format_count(perf.tokens_per_second), format_count(s.tps), "",
              pct(pct_error(s.tps, perf.tokens_per_second))});
    time.add({"MFU", fixed(100 * perf.mfu, 1) + "%", fixed(100 * s.mfu, 2) + "%", "", pct(pct_error(s.mfu, perf.mfu))});
    out << "\n" << time.str();
    if (req.storage == DType::fp16)
        out << "\n  fp16 dynamic loss scaling: " << m.skipped_steps << " of " << req.steps
            << " measured steps skipped (inf/NaN gradients), " << m.warmup_skipped_steps << " of " << req.warmup
            << " warm-up steps; loss scale " << scale_text(m.final_loss_scale) << " after the last step\n";
    out << "\n  error = (predicted − measured) / measured. Predicted with --framework " << to_string(config.framework)
        << framework_profile(config.framework).profile_prediction_note() << ".\n";
    if (perf.engine_time)
        out << "  Step time: the engine's kernels summed, "
            << (perf.engine_time->calibrated ? "timed from " + p.perf_in.options.calibration
                                             : std::string("uncalibrated (roofline); llmplan profile calibrate measures them"))
            << ".\n";
    else
        out << framework_profile(config.framework).profile_step_time_note();
    return out.str();
}

// The whole command; `mpi` is set when this process is a rank of mpirun (run_profile below).
int profile_body(const ProfileCommand& cmd, std::ostream& out, std::ostream& err, MpiRun* mpi) {
    ProfileJob job = resolve_request(cmd);
    check_request(job, cmd, mpi);
    fill_request(job, cmd);
    if (!cmd.rank.empty()) return run_profile_rank(cmd, job.req, err);  // a process of --gpus N (cmd_profile_dist.cpp)

    const ProfilePrediction p = predict(job, cmd);  // first: it needs no GPU
    check_fits(job, p, cmd, err);
    if (job.req.world > 1) {
        ProfileDistContext dc{job.model, job.gpu, job.config, p.plan, p.perf, p.perf_in, job.req, job.run_timeout};
        if (mpi) return run_profile_mpi(cmd, dc, *mpi, out, err);
        return run_profile_ranks(cmd, dc, out, err);
    }
    const std::optional<profiler::ProfileMeasurement> m = run_steps(job, p, err);
    if (!m) return 1;
    const ProfileSpreads s = spreads(job, p, *m);
    const std::string json_text = report_text(build_report(job, p, *m, s), "profile report");
    if (!cmd.report.empty()) write_output_file(cmd.report, json_text, "--report");
    if (cmd.json)
        out << json_text;
    else
        out << build_tables(job, p, *m, s);
    return 0;
}

}  // namespace

int run_profile(const ProfileCommand& cmd, std::ostream& out, std::ostream& err) {
    // Started by mpirun (and not as a child of llmplan's own launcher): every process is a rank.
    if (!cmd.rank.empty() || !kernels::launched_by_mpi()) return profile_body(cmd, out, err, nullptr);
    const std::unique_ptr<kernels::MpiSession> started = start_mpi("llmplan profile --gpus N");
    kernels::MpiSession& session = *started;
    MpiRun mpi{session};
    try {
        return profile_body(cmd, out, err, &mpi);
    } catch (const MpiRefused& refused) {  // some rank refused at the start check: all exit 2
        if (session.rank() == 0) throw InputError(refused.verdict);
        return 2;
    } catch (const std::exception& e) {
        if (mpi.agreed) throw;  // after the check: rank 0's report (the others are done)
        // Before the check: this rank's refusal joins it, so that no rank waits for it.
        std::string verdict;
        try {
            verdict = session.first_error(e.what());
        } catch (const std::exception& m) {
            err << "llmplan profile: rank " << session.rank() << ": " << e.what() << " (" << m.what() << ")\n";
            session.abort(2);
        }
        if (session.rank() == 0) throw InputError(verdict);
        return 2;
    }
}

}  // namespace llmplan::cli
