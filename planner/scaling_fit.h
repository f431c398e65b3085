// scaling_fit.h — fitting L(N, D) = E + A/N^α + B/D^β to a user's own training runs, the way
// Hoffmann et al. 2022 (§3.3, App. D.2) and Besiroglu et al. 2024 did: Huber loss (δ = 1e-3) on
// the residuals log L̂ − log L with L̂ written as LSE(a − α·log N, b − β·log D, e)
// (A = eᵃ, B = eᵇ, E = eᵉ), minimised with L-BFGS from a grid of starting points; bootstrap
// resampling of the runs gives standard errors and confidence intervals. docs/SCALING.md.
#pragma once

#include "planner/scaling.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace llmplan {

struct ScalingRun {
    double params = 0, tokens = 0, loss = 0;
};

// Runs from CSV text (core/csv.h: RFC 4180 quoting, a UTF-8 byte-order mark, CRLF) with a header:
// a parameters column (parameters, params, N, "Model Size"), tokens (tokens, D) or FLOPs (flops,
// compute, "Training FLOP"; tokens = FLOPs / (6·N)), and loss; numbers read by std::from_chars,
// whatever the locale. Throws InputError naming `what` (e.g. "--fit runs.csv"), the line and
// column and the column's name for a bad value.
// At most kMaxFitRuns runs (more is refused, naming the limit): a million runs fit in about a
// minute (docs/BENCHMARKS.md); from kFitProgressRuns on, the CLI shows the fit's progress.
std::vector<ScalingRun> parse_runs_csv(const std::string& text, const std::string& what);
inline constexpr std::size_t kMaxFitRuns = 1'000'000, kFitProgressRuns = 100'000;

struct FitOptions {
    double huber_delta = 1e-3;
    int bootstrap = 0;            // resamples for standard errors and 95% intervals (0: none)
    int drop_highest_loss = 0;    // leave out the K runs with the highest loss first (Besiroglu et
                                  // al. left out Chinchilla's 5 highest-loss points as outliers)
    std::uint64_t seed = 20240416;
    int refine_starts = 32;       // L-BFGS from this many of the grid's starts, those with the lowest objective
    // Called with one line at each stage of a long fit (the coarse pass, the refinement, every
    // tenth of the bootstrap); the CLI prints them on stderr for large inputs.
    std::function<void(const std::string&)> progress;
};

struct FitParameterStats {
    double value = 0, standard_error = 0, low = 0, high = 0;  // low/high: 2.5th / 97.5th percentile
};

struct FitResult {
    ScalingLaw law;                // name "fit"
    double objective = 0;          // Σ Huber(residual) at the optimum
    std::size_t runs = 0;          // runs fitted (after drop_highest_loss)
    std::size_t dropped = 0;
    int starts = 0;                // grid starting points evaluated
    int refined = 0;               // of which L-BFGS started from (the lowest objective)
    int bootstrap = 0;             // resamples that converged
    FitParameterStats E, A, B, alpha, beta, a, b;  // a, b: frontier exponents β/(α+β), α/(α+β)
};

// Throws InputError for fewer than 6 runs (5 constants) or a fit that does not converge.
FitResult fit_scaling_law(const std::vector<ScalingRun>& runs, const FitOptions& options = {});

}  // namespace llmplan
