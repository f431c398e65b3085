// cmd_scaling.cpp — `llmplan scaling`: compute-optimal budgets, loss prediction, inference-aware
// sizing, iso-FLOP curves and fitting a law to one's own runs. The laws live in planner/scaling.
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/table.h"
#include "core/derive.h"
#include "core/error.h"
#include "core/file.h"
#include "core/gpu.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/perf.h"
#include "planner/scaling.h"
#include "planner/scaling_fit.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace llmplan::cli {

void setup_scaling(CLI::App& parent, ScalingCommand& cmd) {
    cmd.app = parent.add_subcommand("scaling", "Compute-optimal model size and tokens, loss prediction, fitting your own runs");
    CLI::App& a = *cmd.app;
    a.add_option("--law", cmd.law, "chinchilla | chinchilla-unrounded | epoch | kaplan | tokens-per-param")
        ->capture_default_str()->type_name("LAW");
    a.add_option("--tokens-per-param", cmd.ratio, "R for --law tokens-per-param")->capture_default_str()->type_name("R");
    a.add_option("--law-file", cmd.law_file, "A law as JSON {E, A, B, alpha, beta} (e.g. written by --fit --out)")->type_name("FILE");
    a.add_option("--compute", cmd.compute, "Training FLOPs (C = 6ND), e.g. 5.76e23")->type_name("C");
    a.add_option("--flops", cmd.flops, "How a budget counts FLOPs: 6nd (C = 6ND) | exact (the architecture's FLOPs at --seq)")
        ->capture_default_str()->type_name("F");
    a.add_option("--seq", cmd.seq, "Sequence length for --flops exact")->capture_default_str()->type_name("T");
    a.add_option("--params", cmd.params, "Model size: its optimal tokens (with --tokens: assess that run)")->type_name("N");
    a.add_option("--tokens", cmd.tokens, "Token budget: its optimal model size")->type_name("D");
    a.add_option("--gpu-hours", cmd.gpu_hours, "GPU-hours to spend (with --gpu, --mfu)")->type_name("H");
    a.add_option("--budget", cmd.budget, "Dollars to spend (with --price-per-gpu-hour or the GPU's default price)")->type_name("USD");
    a.add_option("--price-per-gpu-hour", cmd.price, "USD per GPU-hour")->type_name("USD");
    a.add_option("--gpus", cmd.gpus, "GPUs (with --days; also the cluster for --then-plan)")->type_name("G");
    a.add_option("--days", cmd.days, "Days of training (with --gpus)")->type_name("T");
    a.add_option("--gpu", cmd.gpu, "GPU type for budgets in GPU time")->capture_default_str()->type_name("NAME");
    a.add_option("--mfu", cmd.mfu, "Model-FLOPs utilisation turning GPU time into FLOPs")->capture_default_str()->type_name("X");
    a.add_option("--inference-tokens", cmd.inference_tokens,
                 "Tokens the model will serve: minimise training + inference FLOPs (Sardana et al.)")->type_name("T");
    a.add_option("--target-loss", cmd.target_loss, "Loss to reach for --inference-tokens (default: the optimum's)")->type_name("L");
    a.add_option("--isoflop", cmd.isoflop, "Loss-vs-size curves for these budgets, e.g. 1e20,1e21,1e22")->type_name("C1,C2");
    a.add_option("--points", cmd.points, "Points per iso-FLOP curve")->capture_default_str()->type_name("K");
    a.add_option("--fit", cmd.fit, "Fit L = E + A/N^α + B/D^β to runs (CSV: parameters, tokens or FLOPs, loss)")->type_name("CSV");
    a.add_option("--bootstrap", cmd.bootstrap, "Bootstrap resamples for standard errors (with --fit)")->capture_default_str()->type_name("K");
    a.add_option("--drop-highest-loss", cmd.drop, "Leave out the K highest-loss runs (Epoch dropped 5)")->capture_default_str()->type_name("K");
    a.add_option("--out", cmd.out, "Write the fitted law as JSON (for --law-file)")->type_name("FILE");
    a.add_flag("--then-plan", cmd.then_plan, "Also run `llmplan plan` on the optimal size (with --gpus)");
    a.add_flag("--json", cmd.json, "Print JSON (schema llmplan.scaling/1)");
    a.add_flag("--csv", cmd.csv, "Print CSV (iso-FLOP curves)");
}

namespace {

std::string sci(double v) { return format_sci(v, 3); }

std::string fix(double v, int d) {
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o << std::setprecision(d) << v;
    return o.str();
}

nlohmann::json optimum_json(const ComputeOptimum& o) {
    return {{"compute_flops", o.compute}, {"parameters", o.parameters}, {"tokens", o.tokens},
            {"loss", std::isfinite(o.loss) ? nlohmann::json(o.loss) : nlohmann::json(nullptr)},
            {"tokens_per_parameter", o.tokens_per_parameter()}};
}

// The architecture `plan --params N` would use, as text and JSON (nothing for sizes it rejects).
void architecture(double n, std::string& text, nlohmann::json& j) {
    try {
        const ModelSpec m = derive_shape(static_cast<std::int64_t>(std::llround(n)), "--params");
        text = std::to_string(m.n_layers) + " layers × d_model " + std::to_string(m.d_model) + " (" +
               std::to_string(m.n_heads) + " heads, d_ff " + std::to_string(m.d_ff) + ", " +
               format_count(static_cast<double>(count_params(m).total())) + " parameters; llmplan's --params shape rule)";
        j = {{"layers", m.n_layers}, {"d_model", m.d_model}, {"heads", m.n_heads}, {"d_ff", m.d_ff},
             {"parameters", count_params(m).total()}};
    } catch (const InputError&) {
        text.clear();
        j = nullptr;
    }
}

}  // namespace

int run_scaling(const ScalingCommand& cmd, std::ostream& out, std::ostream& err) {
    if (cmd.json && cmd.csv) throw InputError("--json and --csv: choose one output format");
    nlohmann::ordered_json report;
    report["schema"] = "llmplan.scaling/1";
    std::ostringstream text;

    // --- fitting ---------------------------------------------------------------------------------
    if (!cmd.fit.empty()) {
        FitOptions fo;
        fo.bootstrap = static_cast<int>(parse_int(cmd.bootstrap, "--bootstrap", 0, 100000));
        fo.drop_highest_loss = static_cast<int>(parse_int(cmd.drop, "--drop-highest-loss", 0, 1000000));
        const std::vector<ScalingRun> runs = parse_runs_csv(read_text_file(cmd.fit, "--fit"), "--fit " + cmd.fit);
        if (!cmd.json && fo.bootstrap > 50) err << "llmplan scaling: fitting " << runs.size() << " runs, "
                                                          << fo.bootstrap << " bootstrap resamples...\n";
        FitResult r = fit_scaling_law(runs, fo);
        r.law.source = "llmplan scaling --fit " + cmd.fit;
        const ComputeOptimum at = compute_optimal(r.law, 5.76e23);
        auto stat = [&](const FitParameterStats& s) {
            nlohmann::json j = {{"value", s.value}};
            if (r.bootstrap > 1) {
                j["standard_error"] = s.standard_error;
                j["ci95"] = {s.low, s.high};
            }
            return j;
        };
        report["fit"] = {{"runs", r.runs}, {"dropped_highest_loss", r.dropped}, {"starts", r.starts},
                         {"objective", r.objective}, {"bootstrap", r.bootstrap},
                         {"E", stat(r.E)}, {"A", stat(r.A)}, {"B", stat(r.B)}, {"alpha", stat(r.alpha)},
                         {"beta", stat(r.beta)}, {"frontier_a", stat(r.a)}, {"frontier_b", stat(r.b)},
                         {"tokens_per_parameter_at_5.76e23", at.tokens_per_parameter()}};
        report["law"] = {{"name", "fit"}, {"E", r.law.E}, {"A", r.law.A}, {"B", r.law.B}, {"alpha", r.law.alpha},
                         {"beta", r.law.beta}, {"source", r.law.source}};
        if (!cmd.out.empty()) write_file_atomically(cmd.out, law_to_json(r.law) + "\n", "--out");
        text << "llmplan scaling --fit: " << r.runs << " runs" << (r.dropped ? " (" + std::to_string(r.dropped) + " highest-loss left out)" : "")
             << ", Huber δ 1e-3 on log-loss residuals, L-BFGS from " << r.starts << " starting points"
             << (r.bootstrap ? ", " + std::to_string(r.bootstrap) + " bootstrap resamples" : "") << "\n\n";
        Table t({"constant", "value", "std. error", "95% interval"}, {false, true, true, false});
        auto row = [&](const char* name, const FitParameterStats& s, int d) {
            t.add({name, fix(s.value, d), r.bootstrap > 1 ? fix(s.standard_error, d) : "",
                   r.bootstrap > 1 ? "[" + fix(s.low, d) + ", " + fix(s.high, d) + "]" : ""});
        };
        row("E", r.E, 4);
        row("A", r.A, 2);
        row("B", r.B, 2);
        row("alpha", r.alpha, 4);
        row("beta", r.beta, 4);
        row("a = β/(α+β)  (N_opt ∝ C^a)", r.a, 4);
        row("b = α/(α+β)  (D_opt ∝ C^b)", r.b, 4);
        text << t.str() << "\n  at 5.76e23 FLOPs: N_opt " << format_count(at.parameters) << ", D_opt " << format_count(at.tokens)
             << ", " << fix(at.tokens_per_parameter(), 1) << " tokens per parameter, loss " << fix(at.loss, 3) << "\n";
        if (!cmd.out.empty()) text << "  law written to " << cmd.out << " (use it with --law-file)\n";
        out << (cmd.json ? report.dump(2) + "\n" : text.str());
        return 0;
    }

    // --- the law -----------------------------------------------------------------------------------
    const LawChoice law = cmd.law_file.empty()
                              ? law_choice(cmd.law, parse_real(cmd.ratio, "--tokens-per-param", 1e-6, 1e9), "--law")
                              : law_from_json(read_text_file(cmd.law_file, "--law-file"), "--law-file " + cmd.law_file);
    {
        nlohmann::json lj = {{"name", law.name}, {"source", law.source}};
        if (law.kind == LawKind::parametric)
            lj.update({{"E", law.law.E}, {"A", law.law.A}, {"B", law.law.B}, {"alpha", law.law.alpha}, {"beta", law.law.beta},
                       {"frontier_a", law.law.a()}, {"frontier_b", law.law.b()}});
        if (law.kind == LawKind::ratio) lj["tokens_per_parameter"] = law.ratio;
        report["law"] = lj;
    }
    text << "llmplan scaling: law " << law.name << " — " << law.source << "\n";

    // --- iso-FLOP curves -----------------------------------------------------------------------------
    if (!cmd.isoflop.empty()) {
        const int points = static_cast<int>(parse_int(cmd.points, "--points", 2, 10000));
        nlohmann::json curves = nlohmann::json::array();
        std::ostringstream csv;
        csv << "compute_flops,parameters,tokens,loss\n";
        Table t({"compute", "parameters", "tokens", "loss"}, {true, true, true, true});
        for (const std::string& item : split(cmd.isoflop, ',')) {
            const double c = parse_flops(item, "--isoflop");
            nlohmann::json pts = nlohmann::json::array();
            for (const IsoflopPoint& p : isoflop_curve(law, c, points)) {
                pts.push_back({{"parameters", p.params}, {"tokens", p.tokens}, {"loss", p.loss}});
                csv << p.compute << "," << p.params << "," << p.tokens << "," << p.loss << "\n";
                t.add({sci(p.compute), format_count(p.params), format_count(p.tokens), fix(p.loss, 4)});
            }
            t.rule();
            curves.push_back({{"compute_flops", c}, {"optimal", optimum_json(optimum_for_compute(law, c))}, {"points", pts}});
        }
        report["isoflop"] = curves;
        if (cmd.csv) {
            out << csv.str();
            return 0;
        }
        text << "\nIso-FLOP curves (" << points << " sizes from N_opt/10 to 10·N_opt per budget)\n" << t.str();
        out << (cmd.json ? report.dump(2) + "\n" : text.str());
        return 0;
    }

    // --- the question --------------------------------------------------------------------------------
    const bool has_compute = !cmd.compute.empty(), has_params = !cmd.params.empty(), has_tokens = !cmd.tokens.empty();
    const bool has_hours = !cmd.gpu_hours.empty(), has_budget = !cmd.budget.empty(), has_days = !cmd.days.empty();
    const int budgets = has_compute + has_hours + has_budget + has_days;
    if (budgets > 1) throw InputError("--compute, --gpu-hours, --budget and --days each give the budget; give only one of them");
    if (budgets == 1 && (has_params || has_tokens))
        throw InputError("give a budget (--compute, --gpu-hours, --budget, --days) or --params / --tokens, not both");
    double compute = 0;
    std::string how;
    if (has_compute) {
        compute = parse_flops(cmd.compute, "--compute");
        how = "--compute";
    } else if (has_hours || has_budget || has_days) {
        const GpuSpec& gpu = gpu_or_throw(cmd.gpu, "--gpu");
        const double mfu = parse_real(cmd.mfu, "--mfu", 1e-4, 1);
        double hours = 0;
        if (has_hours) hours = parse_real(cmd.gpu_hours, "--gpu-hours", 1e-9, 1e15);
        if (has_budget) {
            const double price = cmd.price.empty() ? default_cluster(gpu, gpu.default_gpus_per_node).price_per_gpu_hour
                                                   : parse_real(cmd.price, "--price-per-gpu-hour", 1e-9, 1e6);
            hours = parse_real(cmd.budget, "--budget", 1e-9, 1e18) / price;
            how = "$" + cmd.budget + " at $" + fix(price, 2) + " per GPU-hour";
        }
        if (has_days) {
            if (cmd.gpus.empty()) throw InputError("--days needs --gpus (GPU-hours = GPUs × days × 24)");
            hours = static_cast<double>(parse_int(cmd.gpus, "--gpus", 1, 1 << 24)) * parse_real(cmd.days, "--days", 1e-9, 1e6) * 24;
            how = cmd.gpus + " GPUs × " + cmd.days + " days";
        }
        if (has_hours) how = cmd.gpu_hours + " GPU-hours";
        const double peak = peak_for(gpu, Precision::mixed_bf16);
        compute = hours * 3600 * peak * mfu;
        how += " of " + gpu.name + " at " + fix(peak / 1e12, 0) + " TFLOP/s × MFU " + fix(mfu, 2) + " = " +
               fix(hours, 0) + " GPU-hours";
        report["budget"] = {{"gpu", gpu.name}, {"gpu_hours", hours}, {"mfu", mfu}, {"peak_flops", peak}};
    }
    if (budgets == 0 && !has_params && !has_tokens)
        throw InputError("nothing to answer: give --compute, --params, --tokens, --gpu-hours, --budget, --gpus with --days, "
                         "--isoflop or --fit (see llmplan scaling --help)");

    ComputeOptimum answer;
    if (has_params && has_tokens) {
        const double n = static_cast<double>(parse_count(cmd.params, "--params"));
        const double d = static_cast<double>(parse_count(cmd.tokens, "--tokens"));
        const RunAssessment a = assess_run(law, n, d);
        report["question"] = "assess";
        report["assessment"] = {{"parameters", n}, {"tokens", d}, {"compute_flops", a.compute}, {"loss", a.loss},
                                {"optimal_at_same_compute", optimum_json(a.optimal)}, {"loss_gap", a.loss_gap},
                                {"compute_for_same_loss", a.compute_for_same_loss},
                                {"tokens_per_parameter", a.tokens_per_parameter},
                                {"optimal_tokens_per_parameter", a.optimal_tokens_per_parameter},
                                {"overtraining_factor", a.overtraining}};
        text << "\n" << format_count(n) << " parameters on " << format_count(d) << " tokens (" << sci(a.compute) << " FLOPs, "
             << fix(a.tokens_per_parameter, 1) << " tokens per parameter):\n";
        Table t({"", "value", "how"}, {false, true, false});
        t.add({"predicted loss", fix(a.loss, 4), "L(N, D)"});
        t.add({"compute-optimal at the same FLOPs", fix(a.optimal.loss, 4),
               format_count(a.optimal.parameters) + " parameters on " + format_count(a.optimal.tokens) + " tokens"});
        t.add({"loss gap", fix(a.loss_gap, 4), "how much worse than optimal"});
        t.add({"compute for this loss, optimally", sci(a.compute_for_same_loss),
               fix(100 * (1 - a.compute_for_same_loss / a.compute), 1) + "% less than this run"});
        t.add({a.overtraining >= 1 ? "over-trained by" : "under-trained by",
               fix(a.overtraining >= 1 ? a.overtraining : 1 / a.overtraining, 2) + "×",
               "tokens per parameter vs the optimum's " + fix(a.optimal_tokens_per_parameter, 1)});
        text << t.str();
        answer.parameters = n;
        answer.tokens = d;
        answer.loss = a.loss;
        answer.compute = a.compute;
    } else {
        if (has_params) {
            answer = optimum_for_params(law, static_cast<double>(parse_count(cmd.params, "--params")));
            report["question"] = "params";
            how = "--params " + cmd.params + ": its optimal tokens and compute";
        } else if (has_tokens) {
            answer = optimum_for_tokens(law, static_cast<double>(parse_count(cmd.tokens, "--tokens")));
            report["question"] = "tokens";
            how = "--tokens " + cmd.tokens + ": its optimal model size";
        } else {
            const std::string flops = to_lower(cmd.flops);
            if (flops != "6nd" && flops != "exact")
                throw InputError("--flops: \"" + cmd.flops + "\" is not a FLOP count model; use 6nd or exact");
            if (flops == "exact") {
                answer = optimum_for_exact_compute(law, compute, parse_int(cmd.seq, "--seq", 1, 1 << 24));
                how += (how.empty() ? "" : "; ") + std::string("exact FLOPs of the architecture at seq ") + cmd.seq;
            } else {
                answer = optimum_for_compute(law, compute);
            }
            report["question"] = "compute";
            report["flops_model"] = flops;
        }
        report["compute_flops"] = answer.compute;
        report["optimal"] = optimum_json(answer);
        text << "\nCompute-optimal (" << how << ")\n";
        Table t({"", "value"}, {false, true});
        t.add({"compute", sci(answer.compute) + " FLOPs"});
        t.add({"parameters N", format_count(answer.parameters)});
        t.add({"tokens D", format_count(answer.tokens)});
        t.add({"tokens per parameter", fix(answer.tokens_per_parameter(), 1)});
        if (std::isfinite(answer.loss)) t.add({"predicted loss", fix(answer.loss, 4)});
        text << t.str();
    }

    // --- inference-aware sizing --------------------------------------------------------------------
    if (!cmd.inference_tokens.empty()) {
        const double t_inf = static_cast<double>(parse_count(cmd.inference_tokens, "--inference-tokens"));
        const double target = cmd.target_loss.empty() ? answer.loss : parse_real(cmd.target_loss, "--target-loss", 0, 100);
        const InferenceAware ia = inference_optimal(law, target, t_inf);
        report["inference_aware"] = {{"target_loss", target}, {"inference_tokens", t_inf},
                                     {"chinchilla", optimum_json(ia.chinchilla)},
                                     {"chinchilla_total_flops", ia.chinchilla_total_flops},
                                     {"parameters", ia.params}, {"tokens", ia.tokens}, {"training_flops", ia.training_flops},
                                     {"total_flops", ia.total_flops}, {"saved_flops", ia.saved_flops},
                                     {"saved_fraction", ia.saved_fraction}};
        text << "\nInference-aware (Sardana et al. 2024): reach loss " << fix(target, 4) << " and serve "
             << format_count(t_inf) << " tokens with the fewest training + inference FLOPs\n";
        Table t({"", "parameters", "training tokens", "training FLOPs", "total FLOPs"}, {false, true, true, true, true});
        t.add({"training-optimal", format_count(ia.chinchilla.parameters), format_count(ia.chinchilla.tokens),
               sci(ia.chinchilla.compute), sci(ia.chinchilla_total_flops)});
        t.add({"inference-aware", format_count(ia.params), format_count(ia.tokens), sci(ia.training_flops), sci(ia.total_flops)});
        text << t.str() << "  saves " << sci(ia.saved_flops) << " FLOPs (" << fix(100 * ia.saved_fraction, 1)
             << "%): a " << fix(ia.chinchilla.parameters / ia.params, 2) << "× smaller model trained "
             << fix(ia.tokens / ia.chinchilla.tokens, 2) << "× longer\n";
        answer.parameters = ia.params;
        answer.tokens = ia.tokens;
    }

    // --- the architecture and the hand-off to plan -------------------------------------------------
    std::string arch;
    nlohmann::json arch_json;
    architecture(answer.parameters, arch, arch_json);
    report["architecture"] = arch_json;
    const std::string gpus = cmd.gpus.empty() ? "64" : cmd.gpus;
    std::ostringstream plan_cmd;
    plan_cmd << "llmplan plan --params " << format_count(answer.parameters) << " --tokens " << format_count(answer.tokens)
             << " --gpus " << gpus;
    report["plan_command"] = plan_cmd.str();
    if (!arch.empty()) text << "\n  architecture: " << arch << "\n";
    text << "  plan it: " << plan_cmd.str() << "\n";
    if (cmd.json) {
        out << report.dump(2) << "\n";
        return 0;
    }
    out << text.str();
    if (cmd.then_plan) {
        out << "\n";
        std::vector<std::string> args{"plan", "--params", std::to_string(std::llround(answer.parameters)), "--tokens",
                                      std::to_string(std::llround(answer.tokens)), "--gpus", gpus};
        if (std::stoll(gpus) > 1) {
            args.push_back("--zero");
            args.push_back("3");
        }
        return run(args, out, err);
    }
    return 0;
}

}  // namespace llmplan::cli
