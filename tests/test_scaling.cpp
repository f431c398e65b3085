// test_scaling.cpp — the compute-optimal frontier of the parametric laws (docs/REFERENCES.md §5).
#include "planner/scaling.h"

#include "core/error.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmplan;

TEST_CASE("the frontier spends C = 6ND and minimises the loss along it", "[scaling][golden]") {
    for (const ScalingLaw& law : scaling_laws())
        for (double c : {1e19, 5.76e23, 1e26}) {
            INFO(law.name << " C=" << c);
            const ComputeOptimum o = compute_optimal(law, c);
            CHECK(6 * o.parameters * o.tokens == Approx(c).epsilon(1e-12));
            CHECK(o.loss == Approx(law.loss(o.parameters, o.tokens)));
            // Moving along the iso-FLOP line in either direction raises the loss.
            CHECK(law.loss(o.parameters * 1.05, o.tokens / 1.05) > o.loss);
            CHECK(law.loss(o.parameters / 1.05, o.tokens * 1.05) > o.loss);
        }
}

TEST_CASE("Chinchilla approach 3 exponents: a = 0.46, b = 0.54 (Hoffmann et al. Table 2)", "[scaling][golden]") {
    const ScalingLaw& u = scaling_law_or_throw("chinchilla-unrounded", "--law");
    CHECK(std::round(u.a() * 100) / 100 == 0.46);
    CHECK(std::round(u.b() * 100) / 100 == 0.54);
    // G = (αA/(βB))^(1/(α+β)), by hand for the rounded constants: (0.34·406.4 / (0.28·410.7))^(1/0.62).
    const ScalingLaw& r = scaling_law_or_throw("chinchilla", "--law");
    CHECK(r.G() == Approx(std::pow(138.176 / 114.996, 1 / 0.62)).epsilon(1e-12));
}

TEST_CASE("Epoch's refit: about 20 tokens per parameter at 5.76e23 FLOPs", "[scaling][golden]") {
    // Hand: G = 0.1196, a = 0.5126: N ≈ 72B, D ≈ 1.33T, D/N ≈ 18.4 (Besiroglu et al.: "about 20").
    const ComputeOptimum o = compute_optimal(scaling_law_or_throw("epoch", "--law"), 5.76e23);
    CHECK(o.parameters == Approx(7.24e10).epsilon(0.01));
    CHECK(o.tokens_per_parameter() == Approx(18.4).epsilon(0.01));
}

TEST_CASE("Chinchilla Table 3 (approach 1) and the 20x rule", "[scaling][golden]") {
    // {parameters, FLOPs, tokens} as published; the 20x rule N = sqrt(C/120) lands within 8% of
    // every row (approach 1 itself is not exactly 20 tokens per parameter: 67B/1.5T is 22).
    const double rows[][3] = {{400e6, 1.92e19, 8.0e9},   {1e9, 1.21e20, 20.2e9},   {10e9, 1.23e22, 205.1e9},
                              {67e9, 5.76e23, 1.5e12},   {175e9, 3.85e24, 3.7e12}, {280e9, 9.90e24, 5.9e12},
                              {520e9, 3.43e25, 11.0e12}, {1e12, 1.27e26, 21.2e12}, {10e12, 1.30e28, 216.2e12}};
    for (const auto& row : rows) {
        INFO(row[0]);
        const ComputeOptimum o = tokens_per_param_optimum(20, row[1]);
        CHECK(o.parameters == Approx(row[0]).epsilon(0.08));
        CHECK(o.tokens == Approx(row[2]).epsilon(0.08));
        CHECK(o.tokens == 20 * o.parameters);
    }
    CHECK(tokens_per_param_optimum(20, 1.92e19).parameters == Approx(4e8).epsilon(1e-12));
}

TEST_CASE("unknown laws name the flag and suggest", "[scaling][errors]") {
    CHECK_THROWS_WITH(scaling_law_or_throw("chinchila", "--law"),
                      Catch::Contains("--law: unknown scaling law \"chinchila\"") && Catch::Contains("did you mean \"chinchilla\"?"));
}

// ---- questions, Kaplan, inference-aware sizing, iso-FLOP curves, fitting ----------------------

#include "planner/scaling_fit.h"
#include "core/derive.h"
#include "planner/flops.h"

#include <fstream>
#include <sstream>

namespace {

LawChoice epoch() { return law_choice("epoch", 20, "--law"); }

std::string fig4() {
    std::ifstream in(std::string(LLMPLAN_TEST_DATA) + "/chinchilla_fig4_points.csv");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("scaling: --params and --tokens invert the frontier", "[scaling][golden]") {
    for (const char* name : {"epoch", "chinchilla", "kaplan", "tokens-per-param"}) {
        const LawChoice law = law_choice(name, 20, "--law");
        const ComputeOptimum at = optimum_for_compute(law, 5.76e23);
        const ComputeOptimum byN = optimum_for_params(law, at.parameters);
        const ComputeOptimum byD = optimum_for_tokens(law, at.tokens);
        INFO(name);
        CHECK(byN.compute == Approx(5.76e23).epsilon(1e-6));
        CHECK(byN.tokens == Approx(at.tokens).epsilon(1e-6));
        CHECK(byD.compute == Approx(5.76e23).epsilon(1e-6));
        CHECK(byD.parameters == Approx(at.parameters).epsilon(1e-6));
    }
    // The 20× rule: C = 6·N·20N.
    const ComputeOptimum r = optimum_for_params(law_choice("tokens-per-param", 20, "--law"), 1e9);
    CHECK(r.tokens == Approx(2e10));
    CHECK(r.compute == Approx(1.2e20));
}

TEST_CASE("scaling: Kaplan's N_opt ∝ C^0.73 with 1.3e9 at one PF-day", "[scaling][golden]") {
    const ComputeOptimum one = kaplan_optimum(8.64e19);  // 1 PF-day
    CHECK(one.parameters == Approx(1.3e9));
    CHECK(kaplan_optimum(8.64e20).parameters / one.parameters == Approx(std::pow(10.0, 0.73)));
    // eq. 1.5: with infinite data L(N) = (N_c/N)^α_N.
    CHECK(kaplan_loss(1e9, 1e30) == Approx(std::pow(8.8e13 / 1e9, 0.076)).epsilon(1e-6));
}

TEST_CASE("scaling: assessing a run on and off the frontier", "[scaling][golden]") {
    const LawChoice law = epoch();
    const ComputeOptimum o = optimum_for_compute(law, 1e23);
    const RunAssessment on = assess_run(law, o.parameters, o.tokens);
    CHECK(on.loss_gap == Approx(0).margin(1e-12));
    CHECK(on.overtraining == Approx(1));
    CHECK(on.compute_for_same_loss == Approx(1e23).epsilon(1e-6));
    // 70B on 15T tokens (Llama-3-like): over-trained ~12× relative to Epoch's optimum, and an
    // optimal run reaches the same loss with less compute.
    const RunAssessment llama = assess_run(law, 70e9, 15e12);
    CHECK(llama.overtraining > 10);
    CHECK(llama.loss_gap > 0);
    CHECK(llama.compute_for_same_loss < llama.compute);
    CHECK_THROWS_AS(assess_run(law_choice("tokens-per-param", 20, "--law"), 1e9, 1e10), InputError);
}

TEST_CASE("scaling: inference-aware sizing (Sardana et al.), checked by brute force", "[scaling][golden]") {
    // Epoch law, the loss of the 1e24-FLOP optimum (1.95971), serving 2e12 tokens. A brute-force
    // scan of N in steps of 0.01% (done by hand in Python): N = 70.04B, D = 2.476T, total
    // 1.32063e24 FLOPs vs 1.38344e24 for the training-optimal 95.86B model: 4.54% saved.
    const LawChoice law = epoch();
    const ComputeOptimum o = optimum_for_compute(law, 1e24);
    const InferenceAware r = inference_optimal(law, o.loss, 2e12);
    CHECK(r.chinchilla.parameters == Approx(95.8607e9).epsilon(1e-4));
    CHECK(r.params == Approx(70.04e9).epsilon(1e-3));
    CHECK(r.tokens == Approx(2.4758e12).epsilon(1e-3));
    CHECK(r.total_flops == Approx(1.32063e24).epsilon(1e-4));
    CHECK(r.saved_fraction == Approx(0.0454).epsilon(0.01));
    // Without inference the training-optimal model is the answer.
    const InferenceAware none = inference_optimal(law, o.loss, 0);
    CHECK(none.params == Approx(o.parameters).epsilon(1e-4));
    CHECK(none.saved_fraction == Approx(0).margin(1e-6));
}

TEST_CASE("scaling: an iso-FLOP curve has its minimum at N_opt", "[scaling][golden]") {
    const std::vector<IsoflopPoint> c = isoflop_curve(epoch(), 1e21, 21);
    REQUIRE(c.size() == 21);
    std::size_t best = 0;
    for (std::size_t i = 0; i < c.size(); ++i) {
        CHECK(6 * c[i].params * c[i].tokens == Approx(1e21));
        if (c[i].loss < c[best].loss) best = i;
    }
    CHECK(best == 10);  // the middle point is N_opt
}

TEST_CASE("scaling fit: Chinchilla's Figure 4 data gives Epoch's constants within their standard errors", "[scaling][fit]") {
    const std::vector<ScalingRun> runs = parse_runs_csv(fig4(), "fig4");
    REQUIRE(runs.size() == 245);
    FitOptions o;
    o.drop_highest_loss = 5;  // as Besiroglu et al.: the five highest-loss runs are outliers
    o.bootstrap = 40;
    const FitResult r = fit_scaling_law(runs, o);
    CHECK(r.runs == 240);
    // Epoch: E 1.8172 ± 0.03, A 482.01 ± 124.58, B 2085.43 ± 1293.23, α 0.3478 ± 0.02, β 0.3658 ± 0.02.
    CHECK(std::fabs(r.law.E - 1.8172) < 0.03);
    CHECK(std::fabs(r.law.A - 482.01) < 124.58);
    CHECK(std::fabs(r.law.B - 2085.43) < 1293.23);
    CHECK(std::fabs(r.law.alpha - 0.3478) < 0.02);
    CHECK(std::fabs(r.law.beta - 0.3658) < 0.02);
    // The minimum itself, as L-BFGS from every one of the 4,500 starts found it (before the fit
    // started from the 32 lowest only): E 1.8172181, A 477.82587, B 2143.4174, α 0.34731050,
    // β 0.36717243, objective 0.00101827401780.
    CHECK(r.starts == 4500);
    CHECK(r.refined == 32);
    CHECK(r.law.E == Approx(1.8172181).epsilon(1e-6));
    CHECK(r.law.A == Approx(477.82587).epsilon(1e-5));
    CHECK(r.law.B == Approx(2143.4174).epsilon(1e-5));
    CHECK(r.law.alpha == Approx(0.34731050).epsilon(1e-6));
    CHECK(r.law.beta == Approx(0.36717243).epsilon(1e-6));
    CHECK(r.objective == Approx(0.00101827401780).epsilon(1e-10));
    // About 20 tokens per parameter at Chinchilla's budget.
    const double tpp = compute_optimal(r.law, 5.76e23).tokens_per_parameter();
    CHECK(tpp > 15);
    CHECK(tpp < 25);
    // The bootstrap's standard errors are of the published size.
    CHECK(r.bootstrap == 40);
    CHECK(r.E.standard_error > 0.005);
    CHECK(r.E.standard_error < 0.06);
    CHECK(r.alpha.low < r.law.alpha);
    CHECK(r.alpha.high > r.law.alpha);
}

TEST_CASE("scaling fit: 20,000 runs on Chinchilla's law, fitted through the subsample, give its constants back", "[scaling][fit]") {
    // Noise-free runs on a 200 × 100 grid of N in [1e7, 1e11] and D in [1e9, 1e13]: more than the
    // 2,000 runs of the coarse pass, so the minima found on the subsample are refined on all.
    const ScalingLaw truth{"t", 1.69, 406.4, 410.7, 0.34, 0.28, "Hoffmann et al. 2022"};
    std::vector<ScalingRun> runs;
    for (int i = 0; i < 200; ++i)
        for (int j = 0; j < 100; ++j) {
            const double n = std::pow(10.0, 7 + 4.0 * i / 199), d = std::pow(10.0, 9 + 4.0 * j / 99);
            runs.push_back({n, d, truth.loss(n, d)});
        }
    std::vector<std::string> stages;
    FitOptions o;
    o.progress = [&](const std::string& line) { stages.push_back(line); };
    const FitResult r = fit_scaling_law(runs, o);
    CHECK(r.runs == 20000);
    CHECK(r.law.E == Approx(1.69).epsilon(1e-4));
    CHECK(r.law.A == Approx(406.4).epsilon(1e-3));
    CHECK(r.law.B == Approx(410.7).epsilon(1e-3));
    CHECK(r.law.alpha == Approx(0.34).epsilon(1e-4));
    CHECK(r.law.beta == Approx(0.28).epsilon(1e-4));
    REQUIRE(stages.size() >= 3);
    CHECK(stages[0] == "coarse pass: the objective at 4,500 starting points on 2,000 of 20,000 runs");
    CHECK(stages[1] == "L-BFGS from the 32 lowest starting points on the 2,000 runs");
    CHECK(stages[2].rfind("L-BFGS from the ", 0) == 0);
}

TEST_CASE("scaling fit: a degenerate CSV gets one clear error", "[scaling][fit][errors]") {
    const std::string header = "parameters,tokens,loss\n";
    CHECK_THROWS_WITH(parse_runs_csv("", "--fit x.csv"), Catch::Contains("empty"));
    CHECK_THROWS_WITH(parse_runs_csv("params,loss\n1e9,3\n", "--fit x.csv"), Catch::Contains("no tokens column"));
    CHECK_THROWS_WITH(parse_runs_csv("tokens,loss\n1e9,3\n", "--fit x.csv"), Catch::Contains("no parameters column"));
    CHECK_THROWS_WITH(parse_runs_csv(header + "1e9,2e10,-1\n", "--fit x.csv"),
                      Catch::Equals("--fit x.csv line 2, column 10 (loss): -1 must be positive"));
    CHECK_THROWS_WITH(parse_runs_csv(header + "1e9,nan,3\n", "--fit x.csv"),
                      Catch::Equals("--fit x.csv line 2, column 5 (tokens): \"nan\" is not a finite number"));
    CHECK_THROWS_WITH(parse_runs_csv(header + "1e9,2e10\n", "--fit x.csv"),
                      Catch::Equals("--fit x.csv line 2 (loss): missing value (2 fields, the header has 3)"));
    const std::vector<ScalingRun> few = parse_runs_csv(header + "1e9,2e10,3\n2e9,4e10,2.9\n", "--fit x.csv");
    CHECK_THROWS_WITH(fit_scaling_law(few), Catch::Contains("too few"));
    std::string many = header;
    for (std::size_t i = 0; i <= kMaxFitRuns; ++i) many += "1e9,2e10,3\n";
    CHECK_THROWS_WITH(parse_runs_csv(many, "--fit x.csv"), Catch::Equals("--fit x.csv: 1,000,001 runs, more than the 1,000,000 a fit takes"));
    // FLOPs instead of tokens: tokens = FLOPs / (6N).
    const std::vector<ScalingRun> viaC = parse_runs_csv("N,FLOPs,loss\n1e9,1.2e20,3\n", "--fit x.csv");
    CHECK(viaC[0].tokens == Approx(2e10));
}

TEST_CASE("scaling fit: CSV as spreadsheets write it: a byte-order mark, CRLF, quoted fields", "[scaling][fit]") {
    // Excel's "CSV UTF-8": a BOM, CRLF, a quoted header name with a comma and one with a line break.
    const std::string excel = "\xEF\xBB\xBF\"Model Size\",\"Training\r\nTokens\",\"loss, final\",tokens,loss\r\n"
                              "\"1e9\",x,y,2e10,3.5\r\n"
                              "2.5E+9 , ,, \"4e10\" ,\"+2.75\"\r\n";
    const std::vector<ScalingRun> runs = parse_runs_csv(excel, "--fit x.csv");
    REQUIRE(runs.size() == 2);
    CHECK(runs[0].params == 1e9);
    CHECK(runs[0].tokens == 2e10);
    CHECK(runs[0].loss == 3.5);
    CHECK(runs[1].params == 2.5e9);
    CHECK(runs[1].tokens == 4e10);
    CHECK(runs[1].loss == 2.75);
    // Lines count the line break inside the quoted header name: the sixth line holds the bad value.
    CHECK_THROWS_WITH(parse_runs_csv(excel + "1e9,,,2e10,3,5\r\n1e9,,,2e10,\"3,5\"\r\n", "--fit x.csv"),
                      Catch::Equals("--fit x.csv line 6, column 12 (loss): \"3,5\" is not a number"));
}

TEST_CASE("scaling: a law from JSON, and its errors", "[scaling]") {
    const LawChoice l = law_from_json(R"({"E": 1.8, "A": 400, "B": 2000, "alpha": 0.34, "beta": 0.36})", "--law-file x");
    CHECK(l.law.loss(1e9, 2e10) == Approx(1.8 + 400 / std::pow(1e9, 0.34) + 2000 / std::pow(2e10, 0.36)));
    CHECK(law_from_json(law_to_json(l.law), "round trip").law.B == 2000);
    CHECK_THROWS_WITH(law_from_json(R"({"E": 1.8})", "--law-file x"), Catch::Contains("\"A\""));
    CHECK_THROWS_WITH(law_from_json("not json", "--law-file x"), Catch::Contains("not valid JSON"));
    CHECK_THROWS_WITH(law_from_json(R"({"E": 1.8, "A": 400, "B": 2000, "alpha": 0.34, "beta": 0.36, "name": 7})", "--law-file x"),
                      Catch::Equals("--law-file x: \"name\" must be a string"));
    CHECK_THROWS_WITH(law_choice("chinchila", 20, "--law"), Catch::Contains("did you mean \"chinchilla\""));
}

TEST_CASE("scaling: --flops exact spends the architecture's exact FLOPs", "[scaling]") {
    const LawChoice law = epoch();
    const ComputeOptimum exact = optimum_for_exact_compute(law, 5.76e23, 2048);
    const ComputeOptimum six = optimum_for_compute(law, 5.76e23);
    // The budget is spent: D × exact FLOPs per token of the derived shape = C.
    const ModelSpec m = derive_shape(static_cast<std::int64_t>(std::llround(exact.parameters)), "--params");
    CHECK(exact.tokens * training_flops_per_token(m, 2048, Recompute::none).model == Approx(5.76e23).epsilon(1e-6));
    // Attention and logits make a token dearer than 6N: a somewhat smaller model, close to 6ND's.
    CHECK(exact.parameters < six.parameters);
    CHECK(exact.parameters > 0.8 * six.parameters);
    CHECK(exact.loss >= six.loss - 1e-9);
    CHECK_THROWS_AS(optimum_for_exact_compute(law_choice("tokens-per-param", 20, "--law"), 1e21, 2048), InputError);
}
