// cmd_profile_dist.cpp — `llmplan profile --gpus N` with N > 1: data parallelism (DDP, ZeRO 1–3)
// on N GPUs of one node, one process per GPU.
//
// The parent has checked every flag and made the prediction (cmd_profile.cpp); here it refuses in
// one line where it cannot run (no GPU backend module or no NCCL in it, fewer GPUs), starts itself once per GPU
// (dist/launcher.h: the same flags, plus the hidden --rank, --id-file and --result-file),
// forwards rank 0's progress and waits. A rank that fails, or a run past --timeout, stops every
// rank and is reported in one line naming it (exit 1, never a silent hang); inside a rank, one
// NCCL wait longer than --op-timeout aborts the communicator and fails the rank. Each rank runs
// the steps on its rows of the same seeded global batch and writes its measurement (books, step
// times, losses, the collectives of every step) to its result file; the parent merges them into
// one report: per-rank books against llmplan_engine_books (planner/llmplan_profile.h), step time
// (the slowest rank per step), global tokens/s and MFU, and per collective purpose the calls,
// the bytes against the shard plan (exact) and the planner's collective list (the padding apart),
// the time on the NCCL stream and the exposed time (docs/REPORTS.md, llmplan.profile/1 ranks[] and
// communication).
#include "backend/loader.h"
#include "cli/commands.h"
#include "cli/profile_dist.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"
#include "core/quantity.h"
#include "core/text.h"
#include "dist/launcher.h"
#include "engine/shard_plan.h"
#include "planner/llmplan_profile.h"
#include "planner/report.h"
#include "profiler/comm_bench.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <map>
#include <sstream>

#include <unistd.h>

namespace llmplan::cli {

namespace {

using json = nlohmann::ordered_json;

std::string pct(double x) { return (x >= 0 ? "+" : "") + fixed(x, 1) + "%"; }
std::string ms(double seconds) { return fixed(seconds * 1e3, 2) + " ms"; }

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---- a rank's measurement through its result file ----

json to_json(const profiler::ProfileMeasurement& m) {
    json j;
    j["rank"] = m.rank;
    j["world"] = m.world;
    j["device_name"] = m.device_name;
    for (int c = 0; c < kMemoryCategories; ++c) {
        const auto i = static_cast<std::size_t>(c);
        j["memory"][kMemoryCategoryNames[c]] = {{"peak_bytes", m.peak_bytes[i]}, {"phase", m.peak_phase[i]}};
    }
    j["total_peak_bytes"] = m.total_peak_bytes;
    j["total_peak_phase"] = m.total_peak_phase;
    j["library_bytes"] = m.library_bytes;
    j["skipped_steps"] = m.skipped_steps;
    j["warmup_skipped_steps"] = m.warmup_skipped_steps;
    j["final_loss_scale"] = m.final_loss_scale;
    json steps = json::array();
    for (const profiler::StepTiming& t : m.steps) {
        json s = {{"loss", t.loss},         {"total_ms", t.total_ms},     {"forward_ms", t.forward_ms},
                  {"backward_ms", t.backward_ms}, {"optimizer_ms", t.optimizer_ms}, {"loss_scale", t.loss_scale},
                  {"skipped", t.skipped},   {"comm_ms", t.comm_ms},       {"exposed_ms", t.exposed_ms}};
        json calls = json::array(), waits = json::array();
        for (const profiler::CommRecord& c : t.comm)
            calls.push_back({{"kind", c.kind}, {"purpose", c.purpose}, {"bytes", c.bytes}, {"ms", c.ms}});
        for (const profiler::CommWait& w : t.waits) waits.push_back({{"purpose", w.purpose}, {"ms", w.ms}});
        s["comm"] = calls;
        s["waits"] = waits;
        steps.push_back(s);
    }
    j["steps"] = steps;
    return j;
}

profiler::ProfileMeasurement from_json(const nlohmann::json& j) {
    profiler::ProfileMeasurement m;
    m.rank = j.at("rank").get<int>();
    m.world = j.at("world").get<int>();
    m.device_name = j.at("device_name").get<std::string>();
    for (int c = 0; c < kMemoryCategories; ++c) {
        const auto i = static_cast<std::size_t>(c);
        const nlohmann::json& b = j.at("memory").at(kMemoryCategoryNames[c]);
        m.peak_bytes[i] = b.at("peak_bytes").get<double>();
        m.peak_phase[i] = b.at("phase").get<std::string>();
    }
    m.total_peak_bytes = j.at("total_peak_bytes").get<double>();
    m.total_peak_phase = j.at("total_peak_phase").get<std::string>();
    m.library_bytes = j.at("library_bytes").get<double>();
    m.skipped_steps = j.at("skipped_steps").get<int>();
    m.warmup_skipped_steps = j.at("warmup_skipped_steps").get<int>();
    m.final_loss_scale = j.at("final_loss_scale").get<double>();
    for (const nlohmann::json& s : j.at("steps")) {
        profiler::StepTiming t;
        t.loss = s.at("loss").get<float>();
        t.total_ms = s.at("total_ms").get<double>();
        t.forward_ms = s.at("forward_ms").get<double>();
        t.backward_ms = s.at("backward_ms").get<double>();
        t.optimizer_ms = s.at("optimizer_ms").get<double>();
        t.loss_scale = s.at("loss_scale").get<float>();
        t.skipped = s.at("skipped").get<bool>();
        t.comm_ms = s.at("comm_ms").get<double>();
        t.exposed_ms = s.at("exposed_ms").get<double>();
        for (const nlohmann::json& c : s.at("comm"))
            t.comm.push_back({c.at("kind").get<std::string>(), c.at("purpose").get<std::string>(),
                              c.at("bytes").get<std::uint64_t>(), c.at("ms").get<double>()});
        for (const nlohmann::json& w : s.at("waits"))
            t.waits.push_back({w.at("purpose").get<std::string>(), w.at("ms").get<double>()});
        m.steps.push_back(std::move(t));
    }
    return m;
}

// The flags this command was given, for the ranks (without the report's and the hidden ones).
std::vector<std::string> forwarded_flags(const CLI::App& app) {
    std::vector<std::string> out = {"profile"};
    for (const CLI::Option* o : app.get_options()) {
        if (o->count() == 0 || o->get_lnames().empty()) continue;
        const std::string name = "--" + o->get_lnames().front();
        if (name == "--help" || name == "--json" || name == "--report" || name == "--rank" || name == "--id-file" ||
            name == "--result-file")
            continue;
        if (o->get_type_size_max() == 0) {  // a flag
            for (std::size_t i = 0; i < o->count(); ++i) out.push_back(name);
            continue;
        }
        for (const std::string& v : o->results()) {
            out.push_back(name);
            out.push_back(v);
        }
    }
    return out;
}

// rank 0's new complete log lines, forwarded as progress.

// The planner's collective (planner/perf.cpp) that matches a shard-plan purpose, or nullptr.
const CollectiveUse* planner_collective(const PerfPlan& perf, const std::string& purpose) {
    for (const CollectiveUse& u : perf.collectives) {
        const bool ar = u.kind == Collective::all_reduce, rs = u.kind == Collective::reduce_scatter,
                   ag = u.kind == Collective::all_gather;
        if (purpose == "gradient all-reduce" && ar) return &u;
        if (purpose == "gradient reduce-scatter" && rs) return &u;
        if (purpose == "parameter all-gather" && ag) return &u;
        if (purpose == "parameter all-gather, forward" && ag && u.purpose.find("forward") != std::string::npos) return &u;
        if (purpose == "parameter all-gather, backward" && ag && u.purpose.find("backward") != std::string::npos) return &u;
    }
    return nullptr;
}

}  // namespace

std::string measure_profile_rank(const profiler::ProfileRequest& req, std::ostream* progress) {
    if (progress)
        *progress << "llmplan profile: rank " << req.rank << " of " << req.world << " (ZeRO-" << req.zero << "): "
                  << req.warmup << " warm-up + " << req.steps << " steps\n"
                  << std::flush;
    const profiler::ProfileMeasurement m =
        profiler::run_profile(req, [&](int step, int total, const profiler::StepTiming& t, bool warm) {
            if (!progress) return;
            *progress << "step " << step << "/" << total << (warm ? " (warm-up)" : "") << "  loss " << fixed(t.loss, 4)
                      << "  " << fixed(t.total_ms, 2) << " ms  comm " << fixed(t.comm_ms, 2) << " ms, exposed "
                      << fixed(t.exposed_ms, 2) << " ms" << (t.skipped ? "  (inf/NaN gradients: skipped)" : "") << "\n"
                      << std::flush;
        });
    return report_text(to_json(m), "profile result", 1);
}

int run_profile_rank(const ProfileCommand& cmd, profiler::ProfileRequest req, std::ostream& err) {
    req.rank = static_cast<int>(parse_int(cmd.rank, "--rank", 0, req.world - 1));
    if (cmd.id_file.empty() || cmd.result_file.empty())
        throw InputError("--rank: needs --id-file and --result-file (set by llmplan for its ranks)");
    req.id_file = cmd.id_file;
    std::string result;
    try {
        result = measure_profile_rank(req, &err);
    } catch (const InputError&) {
        throw;
    } catch (const std::exception& e) {
        err << "llmplan profile: rank " << req.rank << ": the run failed: " << e.what() << "\n";
        return 1;
    }
    write_output_file(cmd.result_file, result, "--result-file");
    return 0;
}

int run_profile_ranks(const ProfileCommand& cmd, const ProfileDistContext& c, std::ostream& out, std::ostream& err) {
    const profiler::ProfileRequest& req = c.request;
    const int world = req.world;
    std::string why;
    const int visible = profiler::comm_visible_gpus(&why);
    if (visible == 0) throw InputError("--gpus " + std::to_string(world) + ": needs GPUs: " + why);
    if (world > visible)
        throw InputError("--gpus: \"" + std::to_string(world) + "\" GPUs asked, " + std::to_string(visible) +
                         " visible (one process per GPU)");

    const std::filesystem::path dir = dist::make_private_dir("llmplan-profile");
    dist::LaunchOptions launch;
    launch.program = dist::self_executable();
    launch.log_dir = dir.string();
    launch.timeout_seconds = c.timeout_seconds;
    const std::vector<std::string> common = forwarded_flags(*cmd.app);
    for (int r = 0; r < world; ++r) {
        std::vector<std::string> args = common;
        args.insert(args.end(), {"--rank", std::to_string(r), "--id-file", (dir / "nccl_unique_id").string(), "--result-file",
                                 (dir / ("rank" + std::to_string(r) + ".json")).string()});
        launch.args.push_back(std::move(args));
    }
    const TrainConfig& config = c.plan.config;
    err << "llmplan profile: " << c.model.spec.name << ", " << world << " GPUs (one process each), ZeRO-" << req.zero
        << ", " << req.batch << " × " << req.seq << " tokens per rank, " << to_string(config.precision) << ", recompute "
        << to_string(config.recompute) << ", " << to_string(config.attention) << " attention: " << req.warmup
        << " warm-up + " << req.steps << " steps; logs in " << dir.string() << "\n";
    dist::LogFollower follow((dir / "rank0.log").string(), "rank 0: ");
    launch.on_poll = [&] { follow.forward(err); };
    const dist::LaunchResult result = dist::launch_ranks(launch);
    follow.forward(err, true);
    if (!result.ok) throw std::runtime_error(result.summary());
    std::vector<std::string> texts;
    for (int r = 0; r < world; ++r) {
        try {
            texts.push_back(read_text_file((dir / ("rank" + std::to_string(r) + ".json")).string(), "its result"));
        } catch (const InputError& e) {
            throw std::runtime_error("rank " + std::to_string(r) + " finished but " + e.what());
        }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return report_profile_ranks(cmd, c, texts, out, err);
}

int report_profile_ranks(const ProfileCommand& cmd, const ProfileDistContext& c, const std::vector<std::string>& rank_results,
                         std::ostream& out, std::ostream& err) {
    const profiler::ProfileRequest& req = c.request;
    const int world = req.world;
    if (rank_results.size() != static_cast<std::size_t>(world))
        throw std::runtime_error(std::to_string(rank_results.size()) + " rank results for " + std::to_string(world) + " ranks");
    std::vector<profiler::ProfileMeasurement> ranks;
    for (int r = 0; r < world; ++r) {
        try {
            ranks.push_back(from_json(parse_json_text(rank_results[static_cast<std::size_t>(r)], "its result is unreadable")));
        } catch (const InputError& e) {
            throw std::runtime_error("rank " + std::to_string(r) + " finished but " + e.what());
        } catch (const nlohmann::json::exception&) {  // a key missing or of another type
            throw std::runtime_error("rank " + std::to_string(r) +
                                     " finished but its result is unreadable: not a complete rank result");
        }
        if (ranks.back().rank != r || ranks.back().world != world)
            throw std::runtime_error("rank " + std::to_string(r) + "'s result says rank " + std::to_string(ranks.back().rank) +
                                     " of " + std::to_string(ranks.back().world));
        if (ranks.back().steps.size() != ranks.front().steps.size())
            throw std::runtime_error("rank " + std::to_string(r) + " measured " + std::to_string(ranks.back().steps.size()) +
                                     " steps, rank 0 " + std::to_string(ranks.front().steps.size()));
    }
    const TrainConfig& config = c.plan.config;

    // ---- the prediction: the books, the shard plan's collectives, the planner's list ----
    const ModelSpec& spec = c.model.spec;
    const EngineBooks books = llmplan_engine_books(spec, config);
    const bool mixed = config.precision != Precision::fp32;
    dist::ShardOptions so;
    so.world = world;
    so.zero = req.zero;
    so.element_bytes = mixed ? 2 : 4;
    const dist::ShardPlan shards = dist::plan_shards(dist::engine_flat_layout(spec), so);
    const PerfPlan& perf = c.perf;

    // ---- the measurement: the slowest rank per step, the ranks' mean loss ----
    const std::size_t steps = ranks.front().steps.size();
    std::vector<double> step_s, fwd_s, bwd_s, opt_s, comm_s, exposed_s, loss;
    for (std::size_t i = 0; i < steps; ++i) {
        double t = 0, f = 0, b = 0, o = 0, cm = 0, ex = 0, l = 0;
        for (const profiler::ProfileMeasurement& m : ranks) {
            const profiler::StepTiming& s = m.steps[i];
            t = std::max(t, s.total_ms);
            f = std::max(f, s.forward_ms);
            b = std::max(b, s.backward_ms);
            o = std::max(o, s.optimizer_ms);
            cm = std::max(cm, s.comm_ms);
            ex = std::max(ex, s.exposed_ms);
            l += s.loss;
        }
        step_s.push_back(t / 1e3);
        fwd_s.push_back(f / 1e3);
        bwd_s.push_back(b / 1e3);
        opt_s.push_back(o / 1e3);
        comm_s.push_back(cm / 1e3);
        exposed_s.push_back(ex / 1e3);
        loss.push_back(l / world);
    }
    const double step = median(step_s);
    const double tokens = static_cast<double>(req.batch) * req.seq * world;
    const double tps = step > 0 ? tokens / step : 0;
    const double mfu = step > 0 && perf.peak_flops > 0 ? perf.model_flops_per_step / (step * world * perf.peak_flops) : 0;

    // Per purpose: calls, bytes (rank 0; every rank issues the same), NCCL-stream time and exposed
    // time per step (median over the steps of the slowest rank's sum).
    struct Row {
        std::string purpose, kind;
        double calls = 0, bytes = 0;
        bool same_on_ranks = true;
        std::vector<double> time, exposed;
    };
    std::vector<Row> rows;
    auto row = [&](const std::string& purpose) -> Row& {
        for (Row& r : rows)
            if (r.purpose == purpose) return r;
        rows.push_back({purpose, "", 0, 0, true, std::vector<double>(steps, 0.0), std::vector<double>(steps, 0.0)});
        return rows.back();
    };
    for (const dist::CommVolume& v : shards.volumes) row(v.purpose).kind = dist::to_string(v.kind);
    for (std::size_t i = 0; i < steps; ++i) {
        std::map<std::string, double> calls0, bytes0;
        for (const profiler::ProfileMeasurement& m : ranks) {
            std::map<std::string, double> t, ex, calls, bytes;
            for (const profiler::CommRecord& rec : m.steps[i].comm) {
                t[rec.purpose] += rec.ms / 1e3;
                calls[rec.purpose] += 1;
                bytes[rec.purpose] += static_cast<double>(rec.bytes);
                if (row(rec.purpose).kind.empty()) row(rec.purpose).kind = rec.kind;
            }
            for (const profiler::CommWait& w : m.steps[i].waits) ex[w.purpose] += w.ms / 1e3;
            for (Row& r : rows) {
                r.time[i] = std::max(r.time[i], t[r.purpose]);
                r.exposed[i] = std::max(r.exposed[i], ex[r.purpose]);
            }
            if (m.rank == 0) {
                calls0 = calls;
                bytes0 = bytes;
            } else if (i == 0) {
                for (Row& r : rows)
                    if (calls[r.purpose] != calls0[r.purpose] || bytes[r.purpose] != bytes0[r.purpose]) r.same_on_ranks = false;
            }
        }
        if (i == 0)
            for (Row& r : rows) {
                r.calls = calls0[r.purpose];
                r.bytes = bytes0[r.purpose];
            }
    }
    bool bytes_exact = true;
    json comm_rows = json::array();
    Table ct({"collective", "calls", "bytes measured", "shard plan", "planner", "NCCL stream", "predicted", "exposed",
              "predicted"},
             {false, true, true, true, true, true, true, true, true});
    double pred_comm = 0, pred_exposed = 0;
    for (const Row& r : rows) {
        const dist::CommVolume* v = shards.volume(r.purpose);
        const CollectiveUse* u = planner_collective(perf, r.purpose);
        const double plan_bytes = v ? static_cast<double>(v->bytes_per_step) : 0;
        const double plan_unpadded = v ? static_cast<double>(v->unpadded_bytes_per_step) : 0;
        const double planner_bytes = u ? u->bytes * u->count : 0;
        if (v && (r.bytes != plan_bytes || r.calls != static_cast<double>(v->calls_per_step))) bytes_exact = false;
        if (!r.same_on_ranks) bytes_exact = false;
        const double t = median(r.time), ex = median(r.exposed);
        if (u) {
            pred_comm += u->seconds;
            pred_exposed += u->exposed_seconds;
        }
        json j = {{"purpose", r.purpose},
                  {"kind", r.kind},
                  {"calls_per_step", r.calls},
                  {"bytes_per_step", r.bytes},
                  {"same_on_every_rank", r.same_on_ranks}};
        if (v) {
            j["shard_plan"] = {{"calls_per_step", v->calls_per_step},
                               {"bytes_per_step", v->bytes_per_step},
                               {"unpadded_bytes_per_step", v->unpadded_bytes_per_step},
                               {"padding_bytes_per_step", v->padding_bytes_per_step()},
                               {"link_bytes_per_step", v->link_bytes_per_step},
                               {"bytes_equal", r.bytes == plan_bytes}};
        } else {
            j["shard_plan"] = nullptr;  // outside the shard plan (the norm and overflow exchange)
        }
        if (u) {
            j["planner"] = {{"purpose", u->purpose},
                            {"bytes_per_step", planner_bytes},
                            {"measured_minus_planner_bytes", r.bytes - planner_bytes},
                            {"seconds_per_step", u->seconds},
                            {"exposed_seconds_per_step", u->exposed_seconds}};
        } else {
            j["planner"] = nullptr;
        }
        j["measured"] = {{"seconds_per_step", t}, {"exposed_seconds_per_step", ex}};
        comm_rows.push_back(j);
        ct.add({r.purpose, fixed(r.calls, 0), format_int(static_cast<std::int64_t>(r.bytes)),
                v ? format_int(static_cast<std::int64_t>(plan_bytes)) + (r.bytes == plan_bytes ? " (=)" : " (≠)") : "—",
                u ? format_int(static_cast<std::int64_t>(planner_bytes)) : "—", ms(t), u ? ms(u->seconds) : "—", ms(ex),
                u ? ms(u->exposed_seconds) : "—"});
        (void)plan_unpadded;
    }
    ct.rule();
    ct.add({"step total", "", "", "", "", ms(median(comm_s)), ms(pred_comm), ms(median(exposed_s)), ms(pred_exposed)});

    // ---- the report ----
    json j = report_header(kProfileSchema, spec.name, c.model.origin);
    j["job"] = {{"device", "cuda"},
                {"device_name", ranks.front().device_name},
                {"gpu_planned", c.gpu.name},
                {"gpus", world},
                {"zero", req.zero},
                {"precision", to_string(config.precision)},
                {"recompute", to_string(config.recompute)},
                {"attention", to_string(config.attention)},
                {"micro_batch", req.batch},
                {"global_batch", req.batch * world},
                {"seq", req.seq},
                {"steps", req.steps},
                {"warmup", req.warmup},
                {"seed", req.seed},
                {"launch", c.launch}};
    json pm, mm, em;
    for (int k = 0; k < kMemoryCategories; ++k) {
        const auto i = static_cast<std::size_t>(k);
        double worst = 0;
        std::string phase;
        for (const profiler::ProfileMeasurement& m : ranks)
            if (m.peak_bytes[i] >= worst) {
                worst = m.peak_bytes[i];
                phase = m.peak_phase[i];
            }
        pm["memory"][kMemoryCategoryNames[k]] = books.peak[i];
        mm["memory"][kMemoryCategoryNames[k]] = {{"peak_bytes", worst}, {"phase", phase}};
        em["memory_pct"][kMemoryCategoryNames[k]] = pct_error(worst, books.peak[i]);
    }
    double worst_total = 0;
    std::string worst_phase;
    for (const profiler::ProfileMeasurement& m : ranks)
        if (m.total_peak_bytes >= worst_total) {
            worst_total = m.total_peak_bytes;
            worst_phase = m.total_peak_phase;
        }
    pm["memory"]["peak_allocated"] = books.total_peak;
    pm["memory"]["peak_phase"] = books.total_peak_phase;
    json at_peak;
    for (int k = 0; k < kMemoryCategories; ++k) at_peak[kMemoryCategoryNames[k]] = books.at_peak[static_cast<std::size_t>(k)];
    pm["memory"]["at_peak"] = at_peak;
    mm["memory"]["peak_allocated"] = {{"peak_bytes", worst_total}, {"phase", worst_phase}};
    mm["memory"]["outside_books_bytes"] = ranks.front().library_bytes;
    em["memory_pct"]["peak_allocated"] = pct_error(worst_total, books.total_peak);
    pm["time"] = {{"step_seconds", perf.step_seconds},
                  {"tokens_per_second", perf.tokens_per_second},
                  {"mfu", perf.mfu},
                  {"comm_seconds", perf.comm_seconds},
                  {"comm_exposed_seconds", perf.comm_exposed_seconds},
                  {"model", perf.engine_time ? "engine kernels" : "generic"}};
    auto spread = [](const std::vector<double>& v) {
        return json{{"median", median(v)},
                    {"min", v.empty() ? 0 : *std::min_element(v.begin(), v.end())},
                    {"max", v.empty() ? 0 : *std::max_element(v.begin(), v.end())}};
    };
    mm["time"] = {{"step_seconds", spread(step_s)},   {"forward_seconds", spread(fwd_s)},
                  {"backward_seconds", spread(bwd_s)}, {"optimizer_seconds", spread(opt_s)},
                  {"tokens_per_second", tps},          {"mfu", mfu}};
    mm["losses"] = loss;
    mm["skipped_steps"] = ranks.front().skipped_steps;
    mm["warmup_skipped_steps"] = ranks.front().warmup_skipped_steps;
    mm["loss_scale"] = ranks.front().final_loss_scale;
    em["time_pct"] = {{"step_seconds", pct_error(step, perf.step_seconds)},
                      {"tokens_per_second", pct_error(tps, perf.tokens_per_second)},
                      {"mfu", pct_error(mfu, perf.mfu)}};
    em["note"] = "percent error = (predicted − measured) / measured; memory: the worst rank";
    j["predicted"] = pm;
    j["measured"] = mm;
    j["error"] = em;
    json rj = json::array();
    for (const profiler::ProfileMeasurement& m : ranks) {
        json r;
        r["rank"] = m.rank;
        r["device_name"] = m.device_name;
        for (int k = 0; k < kMemoryCategories; ++k) {
            const auto i = static_cast<std::size_t>(k);
            r["memory"][kMemoryCategoryNames[k]] = {{"peak_bytes", m.peak_bytes[i]},
                                                     {"phase", m.peak_phase[i]},
                                                     {"predicted_bytes", books.peak[i]}};
        }
        r["memory"]["peak_allocated"] = {{"peak_bytes", m.total_peak_bytes},
                                         {"phase", m.total_peak_phase},
                                         {"predicted_bytes", books.total_peak}};
        r["memory"]["outside_books_bytes"] = m.library_bytes;
        std::vector<double> t, l, cm, ex;
        for (const profiler::StepTiming& s : m.steps) {
            t.push_back(s.total_ms / 1e3);
            l.push_back(s.loss);
            cm.push_back(s.comm_ms / 1e3);
            ex.push_back(s.exposed_ms / 1e3);
        }
        r["step_seconds"] = spread(t);
        r["comm_seconds"] = spread(cm);
        r["exposed_seconds"] = spread(ex);
        r["losses"] = l;
        rj.push_back(r);
    }
    j["ranks"] = rj;
    j["communication"] = {
        {"collectives", comm_rows},
        {"bytes_equal_shard_plan", bytes_exact},
        {"shard_plan", {{"units", shards.units.size()}, {"total_elements", shards.total}, {"padded_elements", shards.padded_total},
                        {"shard_elements", shards.shard_elements}, {"element_bytes", so.element_bytes}}},
        {"measured",
         {{"comm_seconds_per_step", median(comm_s)}, {"exposed_seconds_per_step", median(exposed_s)}}},
        {"predicted", {{"comm_seconds_per_step", pred_comm}, {"exposed_seconds_per_step", pred_exposed}}},
        {"definitions",
         "bytes: nccl-tests' S summed over a step's calls (rank 0; every rank issues the same calls); seconds: CUDA "
         "events around each call on the communication stream, summed per step, the slowest rank, median over the "
         "steps; exposed: the compute stream's waits for the communication stream (an event before and after each "
         "wait on the compute stream), summed the same way"}};
    const std::string json_text = report_text(j, "profile report");
    if (!cmd.report.empty()) write_output_file(cmd.report, json_text, "--report");
    if (cmd.json) {
        out << json_text;
        return bytes_exact ? 0 : 1;
    }

    out << "llmplan profile: " << spec.name << " (" << c.model.origin << ") on " << world << " × " << ranks.front().device_name
        << ", data parallel, ZeRO-" << req.zero << "\n"
        << "  " << req.batch << " × " << req.seq << " tokens per rank (global batch " << req.batch * world << "), "
        << to_string(config.precision) << ", recompute " << to_string(config.recompute) << ", "
        << to_string(config.attention) << " attention; " << req.steps << " measured steps after " << req.warmup
        << " warm-up; predicted for " << c.gpu.name << "\n\n";
    std::vector<std::string> head = {"memory per rank", "predicted"};
    std::vector<bool> align = {false, true};
    for (int r = 0; r < world; ++r) {
        head.push_back("rank " + std::to_string(r));
        align.push_back(true);
    }
    head.push_back("phase");
    head.push_back("error");
    align.push_back(false);
    align.push_back(true);
    Table mem(head, align);
    for (int k = 0; k <= kMemoryCategories; ++k) {
        const bool total = k == kMemoryCategories;
        const auto i = static_cast<std::size_t>(std::min(k, kMemoryCategories - 1));
        if (total) mem.rule();
        const double predicted = total ? books.total_peak : books.peak[i];
        std::vector<std::string> cells = {total ? "peak allocated" : kMemoryCategoryNames[k], bytes_text(predicted)};
        double worst_err = 0;
        for (const profiler::ProfileMeasurement& m : ranks) {
            const double measured = total ? m.total_peak_bytes : m.peak_bytes[i];
            cells.push_back(bytes_text(measured));
            const double e = pct_error(measured, predicted);
            if (std::fabs(e) >= std::fabs(worst_err)) worst_err = e;
        }
        cells.push_back(total ? ranks.front().total_peak_phase : ranks.front().peak_phase[i]);
        cells.push_back(pct(worst_err));
        mem.add(cells);
    }
    out << mem.str();
    out << "  outside the books (cuBLASLt workspace, kernel scratch, token ids, the norm exchange): "
        << bytes_text(ranks.front().library_bytes) << " on rank 0\n";
    Table time({"time", "predicted", "measured (median)", "min – max", "error"}, {false, true, true, true, true});
    const auto mn = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); };
    const auto mx = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
    time.add({"step (slowest rank)", ms(perf.step_seconds), ms(step), ms(mn(step_s)) + " – " + ms(mx(step_s)),
              pct(pct_error(step, perf.step_seconds))});
    time.add({"  forward", "", ms(median(fwd_s)), ms(mn(fwd_s)) + " – " + ms(mx(fwd_s)), ""});
    time.add({"  backward", "", ms(median(bwd_s)), ms(mn(bwd_s)) + " – " + ms(mx(bwd_s)), ""});
    time.add({"  optimizer", "", ms(median(opt_s)), ms(mn(opt_s)) + " – " + ms(mx(opt_s)), ""});
    time.add({"tokens/s (global)", format_count(perf.tokens_per_second), format_count(tps), "",
              pct(pct_error(tps, perf.tokens_per_second))});
    time.add({"MFU", fixed(100 * perf.mfu, 1) + "%", fixed(100 * mfu, 2) + "%", "", pct(pct_error(mfu, perf.mfu))});
    out << "\n" << time.str();
    out << "\n  collectives per step (bytes: nccl-tests' S; shard plan: padded units, must be equal; planner: its "
           "collective list, unpadded)\n"
        << ct.str();
    out << "  NCCL stream: CUDA events around each call; exposed: the compute stream's waits for it (events before and "
           "after each wait); the slowest rank, median over the steps.\n";
    out << "\n  loss (mean over the ranks) per measured step:";
    for (const double l : loss) out << " " << fixed(l, 4);
    out << "\n";
    if (!bytes_exact) {
        err << "llmplan profile: error: the measured collective bytes differ from the shard plan's (see the "
               "communication table)\n";
        return 1;
    }
    return 0;
}

std::unique_ptr<kernels::MpiSession> start_mpi(const std::string& command) {
    std::string why;
    backend::GpuBackend* gpu = backend::gpu_backend(&why);
    std::unique_ptr<kernels::MpiSession> session = gpu ? gpu->mpi_session(&why) : nullptr;
    if (!session)
        throw InputError("started by mpirun, but " + why + "; run `" + command +
                         "` without mpirun (it starts one process per GPU itself), or build the GPU backend with MPI "
                         "(libopenmpi-dev) for mpirun");
    return session;
}

void MpiRun::agree(const std::string& error) {
    const std::string verdict = session.first_error(error);
    agreed = true;
    if (!verdict.empty()) throw MpiRefused{verdict};
}

int run_profile_mpi(const ProfileCommand& cmd, const ProfileDistContext& c, MpiRun& mpi, std::ostream& out, std::ostream& err) {
    kernels::MpiSession& s = mpi.session;
    profiler::ProfileRequest req = c.request;
    req.rank = s.rank();
    req.gpu = s.local_rank();
    req.broadcast_id = [&s](void* data, std::size_t bytes) { s.broadcast(data, bytes, 0); };
    mpi.agree();  // every rank got here: the flags and the plan are good everywhere
    if (s.rank() == 0) {
        const TrainConfig& config = c.plan.config;
        err << "llmplan profile: " << c.model.spec.name << ", " << req.world << " GPUs (mpirun: one process each, GPU = "
            << "the rank on its node), ZeRO-" << req.zero << ", " << req.batch << " × " << req.seq << " tokens per rank, "
            << to_string(config.precision) << ", recompute " << to_string(config.recompute) << ", "
            << to_string(config.attention) << " attention: " << req.warmup << " warm-up + " << req.steps << " steps\n"
            << std::flush;
    }
    // From here a failing rank stops every rank: one line, then MPI_Abort (mpirun ends the job).
    std::vector<std::string> results;
    try {
        const std::string result = measure_profile_rank(req, s.rank() == 0 ? &err : nullptr);
        results = s.gather(result, 0);
    } catch (const std::exception& e) {
        err << "llmplan profile: rank " << s.rank() << " (GPU " << s.local_rank() << "): the run failed: " << e.what()
            << "; stopping every rank (MPI_Abort)\n"
            << std::flush;
        s.abort(1);
    }
    if (s.rank() != 0) return 0;  // rank 0 reports
    ProfileDistContext rc = c;
    rc.launch = "mpirun: one process per GPU started by MPI (" + std::to_string(s.world()) +
                " ranks), device = the rank on its node; NCCL unique id through MPI_Bcast";
    return report_profile_ranks(cmd, rc, results, out, err);
}

}  // namespace llmplan::cli
