// cmd_search.cpp — `llmplan search`: the fastest parallel layouts that fit, as a table, JSON or CSV.
#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/json.h"
#include "core/model_text.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/report.h"
#include "planner/search.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iomanip>
#include <sstream>

namespace llmplan::cli {

void setup_search(CLI::App& parent, SearchCommand& cmd) {
    cmd.app = parent.add_subcommand("search", "The fastest parallel layouts of a model on a cluster that fit in memory");
    add_model_options(*cmd.app, cmd.model);
    add_job_options(*cmd.app, cmd.job, false);
    add_perf_options(*cmd.app, cmd.perf);
    add_import_options(*cmd.app, cmd.imports);
    cmd.app->add_option("--top", cmd.top, "How many layouts to show")->capture_default_str()->type_name("N");
    cmd.app->add_option("--rank", cmd.rank, "Order by: time (step time; the same as cost at a fixed GPU count) | memory")
        ->capture_default_str()->type_name("R");
    cmd.app->add_option("--max-tp", cmd.max_tp, "Largest tensor-parallel size (default: GPUs per node)")->type_name("N");
    cmd.app->add_option("--max-pp", cmd.max_pp, "Largest pipeline-parallel size (default: no limit)")->type_name("N");
    cmd.app->add_option("--headroom", cmd.headroom,
                        "Keep only layouts that leave this share of the GPU's memory free, in percent (e.g. 5 or 5%; "
                        "the GUI's search keeps 5%)")
        ->capture_default_str()->type_name("PCT");
    cmd.app->add_option("--zero-stages", cmd.zero, "ZeRO stages to try")->capture_default_str()->type_name("LIST");
    cmd.app->add_option("--recompute", cmd.recompute, "Recompute modes to try")->capture_default_str()->type_name("LIST");
    cmd.app->add_option("--micro-batches", cmd.micro_batches, "Micro-batches to try (default: 1, 2, 4, ... 64)")->type_name("LIST");
    cmd.app->add_option("--cp", cmd.cp, "Context-parallel sizes to try")->capture_default_str()->type_name("LIST");
    cmd.app->add_option("--ep", cmd.ep, "Expert-parallel sizes to try for an MoE model (default: every divisor of the expert count)")
        ->type_name("LIST");
    cmd.app->add_option("--etp", cmd.etp,
                        "Expert tensor-parallel sizes to try for an MoE model: tp (the experts split like the dense "
                        "layers), 1 (whole on each rank, ep over tp × cp × dp: Megatron-Core's parallel folding), or both: 1,tp")
        ->capture_default_str()->type_name("LIST");
    cmd.app->add_option("--virtual-stages", cmd.virtual_stages, "Interleaving depths to try (with pp > 1)")
        ->capture_default_str()->type_name("LIST");
    cmd.app->add_flag("--json", cmd.json, "Print the result as JSON (schema llmplan.search/1)");
    cmd.app->add_flag("--csv", cmd.csv, "Print the layouts as CSV");
    cmd.app->add_flag("--quiet", cmd.quiet, "No progress lines on standard error");
}

namespace {

std::vector<std::string> items(const std::string& list) {
    std::vector<std::string> out;
    for (const std::string& part : split(list, ',')) {
        const std::string t = trim(part);
        if (!t.empty()) out.push_back(t);
    }
    return out;
}

std::string step_time(double s) { return s < 1 ? fixed(s * 1e3, 1) + " ms" : fixed(s, 2) + " s"; }

}  // namespace

int run_search(const SearchCommand& cmd, std::ostream& out, std::ostream& err) {
    if (cmd.json && cmd.csv) throw InputError("--json and --csv: choose one output format");
    const PreparedJob prepared =
        prepare_job(*cmd.app, cmd.model, cmd.job, cmd.perf, cmd.imports, err, {"--recompute", "--cp", "--ep", "--etp", "--virtual-stages"});
    const ResolvedModel& model = prepared.model;
    const JobOptions& job = prepared.job;
    const GpuSpec gpu = resolve_gpu(job);
    TrainConfig base = resolve_job(job, gpu);
    if (!job.global_batch.empty()) base.global_batch = parse_int(job.global_batch, "--global-batch", 1, std::int64_t{1} << 40);
    else base.global_batch = 0;  // the search picks about 4M tokens per step
    const ResolvedPerf perf = resolve_perf(prepared.perf, gpu, base);

    SearchSpace space;
    space.zero.clear();
    for (const std::string& z : items(cmd.zero)) space.zero.push_back(static_cast<int>(parse_int(z, "--zero-stages", 0, 3)));
    space.recompute.clear();
    for (const std::string& r : items(cmd.recompute)) space.recompute.push_back(parse_recompute(r, "--recompute"));
    for (const std::string& b : items(cmd.micro_batches)) space.micro_batches.push_back(parse_int(b, "--micro-batches", 1, 1 << 20));
    space.cp.clear();
    for (const std::string& c : items(cmd.cp)) space.cp.push_back(static_cast<int>(parse_int(c, "--cp", 1, 1 << 20)));
    for (const std::string& e : items(cmd.ep)) space.ep.push_back(static_cast<int>(parse_int(e, "--ep", 1, 1 << 20)));
    space.etp.clear();
    for (const std::string& e : items(cmd.etp)) {
        if (to_lower(e) == "tp") space.etp.push_back(0);
        else if (e == "1") space.etp.push_back(1);
        else throw InputError("--etp: \"" + e + "\" is not 1 or tp (the experts whole on each rank, or split like the dense layers)");
    }
    if (space.etp.empty()) throw InputError("--etp: give 1, tp or both (1,tp)");
    space.virtual_stages.clear();
    for (const std::string& v : items(cmd.virtual_stages))
        space.virtual_stages.push_back(static_cast<int>(parse_int(v, "--virtual-stages", 1, 1024)));
    if (space.zero.empty()) throw InputError("--zero-stages: give at least one stage (e.g. 0,1,2,3)");
    if (space.recompute.empty()) throw InputError("--recompute: give at least one mode (e.g. none,selective,full)");
    if (space.cp.empty()) throw InputError("--cp: give at least one size (e.g. 1)");
    if (space.virtual_stages.empty()) throw InputError("--virtual-stages: give at least one depth (e.g. 1)");
    if (!cmd.max_tp.empty()) space.max_tp = static_cast<int>(parse_int(cmd.max_tp, "--max-tp", 1, 1 << 20));
    if (!cmd.max_pp.empty()) space.max_pp = static_cast<int>(parse_int(cmd.max_pp, "--max-pp", 1, 1 << 20));
    {
        std::string pct = trim(cmd.headroom);
        if (!pct.empty() && pct.back() == '%') pct.pop_back();
        space.min_headroom = parse_real(pct, "--headroom", 0, 99) / 100;
    }
    const std::size_t top = static_cast<std::size_t>(parse_int(cmd.top, "--top", 1, 1000000));
    const std::string rank_text = to_lower(cmd.rank);
    if (rank_text != "time" && rank_text != "memory" && rank_text != "cost")
        throw InputError("--rank: \"" + cmd.rank + "\" is not an order; use time, cost or memory");
    const SearchRank rank = rank_text == "memory" ? SearchRank::memory : SearchRank::time;

    // Progress on standard error once the search has run for a second.
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    auto progress = [&](std::size_t done, std::size_t total) {
        if (cmd.quiet || done == total) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - start < std::chrono::seconds(1) || now - last < std::chrono::milliseconds(500)) return;
        last = now;
        err << "llmplan search: " << format_int(static_cast<std::int64_t>(done)) << " of "
            << format_int(static_cast<std::int64_t>(total)) << " layouts\n";
    };
    const SearchResult r = search_layouts(model.spec, gpu, base, perf.cluster, perf.options, space, rank, top, progress);
    const double rate = r.seconds > 0 ? static_cast<double>(r.evaluated) / r.seconds : 0;

    if (cmd.json) {
        const nlohmann::ordered_json j = search_to_json(r, model.spec.name, model.origin, gpu.name, base.parallel.gpus);
        out << report_text(j, "search report");
        return r.top.empty() ? 1 : 0;
    }
    if (cmd.csv) {
        out << "rank,tp,pp,dp,cp,ep,virtual_stages,sp,zero,micro_batch,global_batch,seq,recompute,device_total_bytes,"
               "step_seconds,tokens_per_second,mfu,training_days,cost,etp\n";
        int i = 0;
        for (const SearchCandidate& c : r.top) {
            const ParallelLayout& p = c.config.parallel;
            out << ++i << "," << p.tp << "," << p.pp << "," << p.dp() << "," << p.cp << "," << p.ep << "," << p.virtual_stages
                << "," << (p.sp ? 1 : 0) << "," << p.zero << "," << c.config.micro_batch << "," << c.config.global_batch << ","
                << c.config.seq << "," << to_string(c.config.recompute) << "," << std::llround(c.device_total) << ","
                << c.step_seconds << "," << c.tokens_per_second << "," << c.mfu << "," << c.training_seconds / 86400 << ","
                << c.cost << "," << p.expert_tp() << "\n";
        }
        return r.top.empty() ? 1 : 0;
    }
    out << "llmplan search: " << model.spec.name << " (" << model_size_text(model.spec, count_params(model.spec))
        << ") on " << base.parallel.gpus << " × " << gpu.display_name << " (" << base.parallel.gpus_per_node
        << " per node)\n";
    const std::int64_t gb = r.top.empty() ? base.global_batch : r.top.front().config.global_batch;
    const std::int64_t seq = r.top.empty() ? base.seq : r.top.front().config.seq;
    out << "  global batch " << gb << " × " << seq << " tokens; " << to_string(base.precision) << ", "
        << to_string(base.optimizer) << ", " << to_string(base.attention) << " attention; ranked by "
        << (rank == SearchRank::memory ? "memory" : "step time") << "\n";
    out << "  " << format_int(static_cast<std::int64_t>(r.evaluated)) << " layouts in " << fixed(r.seconds * 1e3, 1) << " ms ("
        << format_count(rate) << " layouts/s), " << format_int(static_cast<std::int64_t>(r.fitting)) << " fit in "
        << format_bytes(gpu.memory_bytes)
        << (space.min_headroom > 0 ? " with " + fixed(100 * space.min_headroom, 1) + "% of it free (--headroom)" : std::string())
        << "\n\n";
    if (r.top.empty()) {
        out << "No layout fits. Try more GPUs, --recompute full, a smaller --seq or --global-batch, or a GPU with more memory.\n";
        return 1;
    }
    // MoE models get an expert-parallel column.
    const bool moe = model.spec.is_moe();
    std::vector<std::string> head = {"#", "tp", "pp", "dp", "cp", "sp", "ZeRO", "micro", "recompute", "GiB/GPU", "step",
                                     "tokens/s", "MFU", "days", "cost"};
    std::vector<bool> right = {true, true, true, true, true, false, true, true, false, true, true, true, true, true, true};
    if (moe) {
        head.insert(head.begin() + 5, "ep");
        right.insert(right.begin() + 5, true);
    }
    Table t(head, right);
    int i = 0;
    for (const SearchCandidate& c : r.top) {
        const ParallelLayout& p = c.config.parallel;
        std::vector<std::string> row = {
            std::to_string(++i), std::to_string(p.tp),
            std::to_string(p.pp) + (p.virtual_stages > 1 ? "×" + std::to_string(p.virtual_stages) : "") +
                (!p.split.even() ? " (uneven)" : ""),
            std::to_string(p.dp()), std::to_string(p.cp), p.sp ? "yes" : "", std::to_string(p.zero),
            std::to_string(c.config.micro_batch), to_string(c.config.recompute), fixed(c.device_total / (1 << 30), 1),
            step_time(c.step_seconds), format_count(c.tokens_per_second), fixed(100 * c.mfu, 1) + "%",
            fixed(c.training_seconds / 86400, 1), "$" + format_count(c.cost)};
        if (moe) row.insert(row.begin() + 5, std::to_string(p.ep) + (p.expert_tp() != p.tp ? " (etp 1)" : ""));
        t.add(row);
    }
    out << t.str() << "\nWhy #1:\n";
    for (const std::string& w : r.why) out << "  - " << w << "\n";
    const SearchCandidate& w = r.top.front();
    const ParallelLayout& p = w.config.parallel;
    std::string model_words = !cmd.model.model.empty()       ? "model " + cmd.model.model
                              : !cmd.model.hf_config.empty() ? "hf-config " + cmd.model.hf_config
                              : !cmd.model.params.empty()    ? "params " + cmd.model.params
                                                             : "model " + model.spec.name;
    for (const JobImport& imp : prepared.imports)  // a shape only the import spells out
        if (cmd.model.model.empty() && cmd.model.hf_config.empty() && cmd.model.params.empty() && imp.model)
            model_words = imp.flag.substr(2) + " " + imp.source;
    out << "\nPlan it term by term:\n  llmplan plan --" << model_words
        << " --gpu " << gpu.name << " --gpus " << p.gpus << " --tp " << p.tp << " --pp " << p.pp;
    if (p.virtual_stages > 1) out << " --virtual-stages " << p.virtual_stages;
    if (p.split.balanced) out << " --pp-layers balanced";
    if (p.split.embedding_as_layer) out << " --account-for-embedding-in-pipeline-split";
    if (p.split.loss_as_layer) out << " --account-for-loss-in-pipeline-split";
    if (p.cp > 1) out << " --cp " << p.cp;
    if (p.ep > 1) out << " --ep " << p.ep;
    if (p.expert_tp() != p.tp) out << " --etp " << p.expert_tp();
    if (p.sp) out << " --sp";
    out << " --zero " << p.zero << " --micro-batch " << w.config.micro_batch << " --global-batch " << w.config.global_batch
        << " --seq " << w.config.seq << " --recompute " << to_string(w.config.recompute);
    // The rest of the job as searched, so the command plans candidate #1 and not a default job.
    const TrainConfig& j = w.config;
    if (p.gpus_per_node != gpu.default_gpus_per_node) out << " --gpus-per-node " << p.gpus_per_node;
    out << " --precision " << to_string(j.precision);
    if (j.optimizer != Optimizer::adamw) out << " --optimizer " << to_string(j.optimizer);
    if (j.attention != Attention::flash) out << " --attention " << to_string(j.attention);
    if (j.dropout > 0) out << " --dropout " << j.dropout;
    if (j.offload != Offload::none) out << " --offload " << to_string(j.offload);
    if (j.framework != Framework::generic) out << " --framework " << to_string(j.framework);
    for (const auto& [key, value] : j.framework_options) out << " --framework-option " << key << "=" << value;
    out << "\n";
    return 0;
}

}  // namespace llmplan::cli
