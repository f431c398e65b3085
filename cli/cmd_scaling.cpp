// cmd_scaling.cpp — `llmplan scaling`: compute-optimal budgets, loss prediction, inference-aware
// sizing, iso-FLOP curves and fitting a law to one's own runs: one function per question, a short
// dispatcher (run_scaling). The laws live in planner/scaling, the report's sections in planner/report.
#include "cli/app.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "core/derive.h"
#include "core/error.h"
#include "core/file.h"
#include "core/gpu.h"
#include "core/json.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/perf.h"
#include "planner/report.h"
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
    add_config_options(a, cmd.write_config);
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

std::string fix(double v, int d) { return format_fixed(v, d); }

// The report and the table text of one run of `llmplan scaling`; --json prints the one, else the other.
struct Answer {
    nlohmann::ordered_json report = report_header(kScalingSchema);
    std::ostringstream text;
};

int print(const ScalingCommand& cmd, const Answer& a, std::ostream& out) {
    out << (cmd.json ? report_text(a.report, "scaling report") : a.text.str());
    return 0;
}

// --fit: a law fitted to the user's runs (written with --out).
int run_fit(const ScalingCommand& cmd, std::ostream& out, std::ostream& err) {
    FitOptions fo;
    fo.bootstrap = static_cast<int>(parse_int(cmd.bootstrap, "--bootstrap", 0, 100000));
    fo.drop_highest_loss = static_cast<int>(parse_int(cmd.drop, "--drop-highest-loss", 0, 1000000));
    const std::vector<ScalingRun> runs = parse_runs_csv(read_text_file(cmd.fit, "--fit"), "--fit " + cmd.fit);
    if (!cmd.json && fo.bootstrap > 50) err << "llmplan scaling: fitting " << runs.size() << " runs, "
                                                      << fo.bootstrap << " bootstrap resamples...\n";
    if (runs.size() >= kFitProgressRuns) fo.progress = [&err](const std::string& line) { err << "llmplan scaling --fit: " << line << std::endl; };
    FitResult r = fit_scaling_law(runs, fo);
    r.law.source = "llmplan scaling --fit " + cmd.fit;
    const ComputeOptimum at = compute_optimal(r.law, 5.76e23);
    Answer a;
    a.report["fit"] = scaling_fit_json(r);
    a.report["law"] = scaling_fit_law_json(r);
    if (!cmd.out.empty()) write_output_file(cmd.out, law_to_json(r.law) + "\n", "--out");
    a.text << "llmplan scaling --fit: " << r.runs << " runs" << (r.dropped ? " (" + std::to_string(r.dropped) + " highest-loss left out)" : "")
           << ", Huber δ 1e-3 on log-loss residuals, L-BFGS from the " << r.refined << " best of " << r.starts << " starting points"
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
    a.text << t.str() << "\n  at 5.76e23 FLOPs: N_opt " << format_count(at.parameters) << ", D_opt " << format_count(at.tokens)
           << ", " << fix(at.tokens_per_parameter(), 1) << " tokens per parameter, loss " << fix(at.loss, 3) << "\n";
    if (!cmd.out.empty()) a.text << "  law written to " << cmd.out << " (use it with --law-file)\n";
    return print(cmd, a, out);
}

// --isoflop: loss against model size at fixed budgets (table, JSON or CSV).
int run_isoflop(const ScalingCommand& cmd, const LawChoice& law, Answer& a, std::ostream& out) {
    const int points = static_cast<int>(parse_int(cmd.points, "--points", 2, 10000));
    nlohmann::json curves = nlohmann::json::array();
    std::ostringstream csv;
    csv << "compute_flops,parameters,tokens,loss\n";
    Table t({"compute", "parameters", "tokens", "loss"}, {true, true, true, true});
    for (const std::string& item : split(cmd.isoflop, ',')) {
        const double c = parse_flops(item, "--isoflop");
        const std::vector<IsoflopPoint> curve = isoflop_curve(law, c, points);
        for (const IsoflopPoint& p : curve) {
            csv << p.compute << "," << p.params << "," << p.tokens << "," << p.loss << "\n";
            t.add({sci(p.compute), format_count(p.params), format_count(p.tokens), fix(p.loss, 4)});
        }
        t.rule();
        curves.push_back(scaling_isoflop_json(c, optimum_for_compute(law, c), curve));
    }
    a.report["isoflop"] = curves;
    if (cmd.csv) {
        out << csv.str();
        return 0;
    }
    a.text << "\nIso-FLOP curves (" << points << " sizes from N_opt/10 to 10·N_opt per budget)\n" << t.str();
    return print(cmd, a, out);
}

// The FLOPs a budget in GPU time or money buys (--gpu-hours, --budget, --days), and how.
double budget_compute(const ScalingCommand& cmd, std::string& how, Answer& a) {
    const GpuSpec& gpu = gpu_or_throw(cmd.gpu, "--gpu");
    const double mfu = parse_real(cmd.mfu, "--mfu", 1e-4, 1);
    double hours = 0;
    if (!cmd.gpu_hours.empty()) hours = parse_real(cmd.gpu_hours, "--gpu-hours", 1e-9, 1e15);
    if (!cmd.budget.empty()) {
        const double price = cmd.price.empty() ? default_cluster(gpu, gpu.default_gpus_per_node).price_per_gpu_hour
                                               : parse_real(cmd.price, "--price-per-gpu-hour", 1e-9, kMaxPricePerGpuHour);
        hours = parse_real(cmd.budget, "--budget", 1e-9, 1e18) / price;
        how = "$" + cmd.budget + " at $" + fix(price, 2) + " per GPU-hour";
    }
    if (!cmd.days.empty()) {
        if (cmd.gpus.empty()) throw InputError("--days needs --gpus (GPU-hours = GPUs × days × 24)");
        hours = static_cast<double>(parse_int(cmd.gpus, "--gpus", 1, 1 << 24)) * parse_real(cmd.days, "--days", 1e-9, 1e6) * 24;
        how = cmd.gpus + " GPUs × " + cmd.days + " days";
    }
    if (!cmd.gpu_hours.empty()) how = cmd.gpu_hours + " GPU-hours";
    const double peak = peak_for(gpu, Precision::mixed_bf16);
    how += " of " + gpu.name + " at " + fix(peak / 1e12, 0) + " TFLOP/s × MFU " + fix(mfu, 2) + " = " + fix(hours, 0) +
           " GPU-hours";
    a.report["budget"] = scaling_budget_json(gpu.name, hours, mfu, peak);
    return hours * 3600 * peak * mfu;
}

// --params with --tokens: how that run compares with the compute-optimal one.
ComputeOptimum assess(const ScalingCommand& cmd, const LawChoice& law, Answer& a) {
    const double n = static_cast<double>(parse_count(cmd.params, "--params"));
    const double d = static_cast<double>(parse_count(cmd.tokens, "--tokens"));
    const RunAssessment r = assess_run(law, n, d);
    a.report["question"] = "assess";
    a.report["assessment"] = scaling_assessment_json(n, d, r);
    a.text << "\n" << format_count(n) << " parameters on " << format_count(d) << " tokens (" << sci(r.compute) << " FLOPs, "
           << fix(r.tokens_per_parameter, 1) << " tokens per parameter):\n";
    Table t({"", "value", "how"}, {false, true, false});
    t.add({"predicted loss", fix(r.loss, 4), "L(N, D)"});
    t.add({"compute-optimal at the same FLOPs", fix(r.optimal.loss, 4),
           format_count(r.optimal.parameters) + " parameters on " + format_count(r.optimal.tokens) + " tokens"});
    t.add({"loss gap", fix(r.loss_gap, 4), "how much worse than optimal"});
    t.add({"compute for this loss, optimally", sci(r.compute_for_same_loss),
           fix(100 * (1 - r.compute_for_same_loss / r.compute), 1) + "% less than this run"});
    t.add({r.overtraining >= 1 ? "over-trained by" : "under-trained by",
           fix(r.overtraining >= 1 ? r.overtraining : 1 / r.overtraining, 2) + "×",
           "tokens per parameter vs the optimum's " + fix(r.optimal_tokens_per_parameter, 1)});
    a.text << t.str();
    ComputeOptimum answer;
    answer.parameters = n;
    answer.tokens = d;
    answer.loss = r.loss;
    answer.compute = r.compute;
    return answer;
}

// --params, --tokens or a budget: the compute-optimal run.
ComputeOptimum optimum(const ScalingCommand& cmd, const LawChoice& law, double compute, std::string how, Answer& a) {
    ComputeOptimum answer;
    if (!cmd.params.empty()) {
        answer = optimum_for_params(law, static_cast<double>(parse_count(cmd.params, "--params")));
        a.report["question"] = "params";
        how = "--params " + cmd.params + ": its optimal tokens and compute";
    } else if (!cmd.tokens.empty()) {
        answer = optimum_for_tokens(law, static_cast<double>(parse_count(cmd.tokens, "--tokens")));
        a.report["question"] = "tokens";
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
        a.report["question"] = "compute";
        a.report["flops_model"] = flops;
    }
    a.report["compute_flops"] = answer.compute;
    a.report["optimal"] = scaling_optimum_json(answer);
    a.text << "\nCompute-optimal (" << how << ")\n";
    Table t({"", "value"}, {false, true});
    t.add({"compute", sci(answer.compute) + " FLOPs"});
    t.add({"parameters N", format_count(answer.parameters)});
    t.add({"tokens D", format_count(answer.tokens)});
    t.add({"tokens per parameter", fix(answer.tokens_per_parameter(), 1)});
    if (std::isfinite(answer.loss)) t.add({"predicted loss", fix(answer.loss, 4)});
    a.text << t.str();
    return answer;
}

// --inference-tokens: the smaller model, trained longer, with the fewest training + inference FLOPs.
void inference_aware(const ScalingCommand& cmd, const LawChoice& law, ComputeOptimum& answer, Answer& a) {
    const double t_inf = static_cast<double>(parse_count(cmd.inference_tokens, "--inference-tokens"));
    const double target = cmd.target_loss.empty() ? answer.loss : parse_real(cmd.target_loss, "--target-loss", 0, 100);
    const InferenceAware ia = inference_optimal(law, target, t_inf);
    a.report["inference_aware"] = scaling_inference_json(target, t_inf, ia);
    a.text << "\nInference-aware (Sardana et al. 2024): reach loss " << fix(target, 4) << " and serve "
           << format_count(t_inf) << " tokens with the fewest training + inference FLOPs\n";
    Table t({"", "parameters", "training tokens", "training FLOPs", "total FLOPs"}, {false, true, true, true, true});
    t.add({"training-optimal", format_count(ia.chinchilla.parameters), format_count(ia.chinchilla.tokens),
           sci(ia.chinchilla.compute), sci(ia.chinchilla_total_flops)});
    t.add({"inference-aware", format_count(ia.params), format_count(ia.tokens), sci(ia.training_flops), sci(ia.total_flops)});
    a.text << t.str() << "  saves " << sci(ia.saved_flops) << " FLOPs (" << fix(100 * ia.saved_fraction, 1)
           << "%): a " << fix(ia.chinchilla.parameters / ia.params, 2) << "× smaller model trained "
           << fix(ia.tokens / ia.chinchilla.tokens, 2) << "× longer\n";
    answer.parameters = ia.params;
    answer.tokens = ia.tokens;
}

// The architecture `plan --params N` would use and the `llmplan plan` command (run with --then-plan).
int hand_off(const ScalingCommand& cmd, const ComputeOptimum& answer, Answer& a, std::ostream& out, std::ostream& err) {
    std::string arch;
    nlohmann::json arch_json;  // null for sizes --params rejects
    try {
        const ModelSpec m = derive_shape(static_cast<std::int64_t>(std::llround(answer.parameters)), "--params");
        arch = std::to_string(m.n_layers) + " layers × d_model " + std::to_string(m.d_model) + " (" +
               std::to_string(m.n_heads) + " heads, d_ff " + std::to_string(m.d_ff) + ", " +
               format_count(static_cast<double>(count_params(m).total())) + " parameters; llmplan's --params shape rule)";
        arch_json = scaling_architecture_json(m);
    } catch (const InputError&) {  // a size the shape rule refuses: no architecture, null in the report
    }
    a.report["architecture"] = arch_json;
    const std::string gpus = cmd.gpus.empty() ? "64" : cmd.gpus;
    std::ostringstream plan_cmd;
    plan_cmd << "llmplan plan --params " << format_count(answer.parameters) << " --tokens " << format_count(answer.tokens)
             << " --gpus " << gpus;
    a.report["plan_command"] = plan_cmd.str();
    if (!arch.empty()) a.text << "\n  architecture: " << arch << "\n";
    a.text << "  plan it: " << plan_cmd.str() << "\n";
    print(cmd, a, out);
    if (cmd.json || !cmd.then_plan) return 0;
    out << "\n";
    std::vector<std::string> args{"plan", "--params", std::to_string(std::llround(answer.parameters)), "--tokens",
                                  std::to_string(std::llround(answer.tokens)), "--gpus", gpus};
    if (std::stoll(gpus) > 1) {
        args.push_back("--zero");
        args.push_back("3");
    }
    return run(args, out, err);
}

}  // namespace

int run_scaling(const ScalingCommand& cmd, std::ostream& out, std::ostream& err) {
    if (cmd.json && cmd.csv) throw InputError("--json and --csv: choose one output format");
    if (!cmd.write_config.empty()) write_job_config(*cmd.app, {}, cmd.write_config);
    if (!cmd.fit.empty()) return run_fit(cmd, out, err);

    const LawChoice law = cmd.law_file.empty()
                              ? law_choice(cmd.law, parse_real(cmd.ratio, "--tokens-per-param", 1e-6, 1e9), "--law")
                              : law_from_json(read_text_file(cmd.law_file, "--law-file"), "--law-file " + cmd.law_file);
    Answer a;
    a.report["law"] = scaling_law_json(law);
    a.text << "llmplan scaling: law " << law.name << " — " << law.source << "\n";
    if (!cmd.isoflop.empty()) return run_isoflop(cmd, law, a, out);

    const bool has_compute = !cmd.compute.empty(), has_params = !cmd.params.empty(), has_tokens = !cmd.tokens.empty();
    const int budgets = has_compute + !cmd.gpu_hours.empty() + !cmd.budget.empty() + !cmd.days.empty();
    if (budgets > 1) throw InputError("--compute, --gpu-hours, --budget and --days each give the budget; give only one of them");
    if (budgets == 1 && (has_params || has_tokens))
        throw InputError("give a budget (--compute, --gpu-hours, --budget, --days) or --params / --tokens, not both");
    double compute = 0;
    std::string how;
    if (has_compute) {
        compute = parse_flops(cmd.compute, "--compute");
        how = "--compute";
    } else if (budgets == 1) {
        compute = budget_compute(cmd, how, a);
    }
    if (budgets == 0 && !has_params && !has_tokens)
        throw InputError("nothing to answer: give --compute, --params, --tokens, --gpu-hours, --budget, --gpus with --days, "
                         "--isoflop or --fit (see llmplan scaling --help)");
    ComputeOptimum answer = has_params && has_tokens ? assess(cmd, law, a) : optimum(cmd, law, compute, how, a);
    if (!cmd.inference_tokens.empty()) inference_aware(cmd, law, answer, a);
    return hand_off(cmd, answer, a, out, err);
}

}  // namespace llmplan::cli
