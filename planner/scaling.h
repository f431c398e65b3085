// scaling.h — parametric scaling laws L(N, D) = E + A/N^α + B/D^β and their compute-optimal
// frontier under C = 6·N·D (Hoffmann et al. 2022, approach 3; Besiroglu et al. 2024).
// The `llmplan scaling` command builds on these; constants: docs/REFERENCES.md §5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llmplan {

struct ScalingLaw {
    std::string name;
    double E, A, B, alpha, beta;
    std::string source;
    // Predicted loss for N parameters trained on D tokens.
    double loss(double n, double d) const;
    // Frontier exponents: N_opt ∝ C^a, D_opt ∝ C^b, a = β/(α+β), b = α/(α+β).
    double a() const { return beta / (alpha + beta); }
    double b() const { return alpha / (alpha + beta); }
    // G = (αA/(βB))^(1/(α+β)): N_opt = G·(C/6)^a, D_opt = G⁻¹·(C/6)^b (Hoffmann et al. eq. 4).
    double G() const;
};

// Bounds a law's constants to where the law means something (docs/RELIABILITY.md, "Ranges"):
// E in (0, 100] nats, A and B in (0, 1e20], alpha and beta in [0.01, 5] (published exponents lie
// between 0.07 and 0.5, docs/REFERENCES.md §5). InputError naming `what` and the constant.
void validate_law(const ScalingLaw& law, const std::string& what);

// chinchilla (approach 3, published rounding), chinchilla-unrounded, epoch (Besiroglu et al. 2024).
const std::vector<ScalingLaw>& scaling_laws();
const ScalingLaw& scaling_law_or_throw(const std::string& name, const std::string& flag);

struct ComputeOptimum {
    double compute;     // FLOPs, C = 6·N·D
    double parameters;  // N_opt
    double tokens;      // D_opt
    double loss;        // L(N_opt, D_opt)
    double tokens_per_parameter() const { return tokens / parameters; }
};
// Throws InputError naming the law and its exponents where the frontier leaves the finite numbers
// (a degenerate law: G overflows, or N_opt or D_opt is below 1 or above 1e30).
ComputeOptimum compute_optimal(const ScalingLaw& law, double compute);

// Chinchilla approaches 1–2 as a rule: D = R·N, C = 6·N·D, so N = sqrt(C / (6R)).
ComputeOptimum tokens_per_param_optimum(double ratio, double compute);

}  // namespace llmplan

namespace llmplan {

// Kaplan et al. 2020: L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D (eq. 1.5), α_N = 0.076,
// α_D = 0.095, N_c = 8.8e13, D_c = 5.4e13 (N: non-embedding parameters, loss in nats);
// compute-efficient size N_opt = 1.3e9 · (C / PF-day)^0.73 (Fig. 14; 1 PF-day = 8.64e19 FLOPs),
// D = C / (6N).
double kaplan_loss(double n, double d);
ComputeOptimum kaplan_optimum(double compute);
inline constexpr double kKaplanExponent = 0.73;

// What `--law` names: a parametric law (chinchilla, chinchilla-unrounded, epoch, a JSON file or a
// fit), Kaplan's, or a tokens-per-parameter rule (no loss model).
enum class LawKind { parametric, kaplan, ratio };
struct LawChoice {
    LawKind kind = LawKind::parametric;
    ScalingLaw law;     // parametric
    double ratio = 20;  // tokens per parameter (ratio)
    std::string name, source;
    bool has_loss() const { return kind != LawKind::ratio; }
    double loss(double n, double d) const;  // NaN for a ratio rule
};
// "chinchilla", "chinchilla-unrounded", "epoch", "kaplan", "tokens-per-param" (ratio R).
LawChoice law_choice(const std::string& name, double ratio, const std::string& flag);
// A law from JSON text {"E":…, "A":…, "B":…, "alpha":…, "beta":…} (name and source optional).
LawChoice law_from_json(const std::string& text, const std::string& what);
std::string law_to_json(const ScalingLaw& law);

// The optimum for a compute budget, for a model size (its optimal tokens and compute), for a
// token budget (its optimal size).
ComputeOptimum optimum_for_compute(const LawChoice& law, double compute);
ComputeOptimum optimum_for_params(const LawChoice& law, double params);
ComputeOptimum optimum_for_tokens(const LawChoice& law, double tokens);

// The optimum when C counts the exact training FLOPs of the architecture `llmplan plan --params N`
// would use (flops.h: attention and logits included) at sequence length `seq`, instead of 6ND:
// minimise L(N, C / f(N)) over N, f(N) the exact FLOPs per token (golden-section search in log N).
ComputeOptimum optimum_for_exact_compute(const LawChoice& law, double compute, std::int64_t seq);

// How a run of N parameters on D tokens compares with the compute-optimal run of the same compute.
struct RunAssessment {
    double compute = 0, loss = 0;
    ComputeOptimum optimal;              // at the same compute
    double loss_gap = 0;                 // loss − optimal.loss
    double compute_for_same_loss = 0;    // FLOPs an optimal run needs to reach `loss`
    double tokens_per_parameter = 0, optimal_tokens_per_parameter = 0;
    double overtraining = 0;             // (D/N) ÷ (D_opt/N_opt): > 1 over-trained, < 1 under-trained
};
RunAssessment assess_run(const LawChoice& law, double params, double tokens);

// Sardana et al. 2024: minimise 6·N·D + 2·N·T_inference subject to L(N, D) = target.
struct InferenceAware {
    double target_loss = 0, inference_tokens = 0;
    ComputeOptimum chinchilla;            // the training-optimal model reaching the target
    double chinchilla_total_flops = 0;    // its training + inference FLOPs
    double params = 0, tokens = 0;        // the inference-aware model
    double training_flops = 0, total_flops = 0;
    double saved_flops = 0, saved_fraction = 0;
};
InferenceAware inference_optimal(const LawChoice& law, double target_loss, double inference_tokens);

// Loss along an iso-FLOP curve: `points` sizes log-spaced over [N_opt/10, 10·N_opt].
struct IsoflopPoint {
    double compute, params, tokens, loss;
};
std::vector<IsoflopPoint> isoflop_curve(const LawChoice& law, double compute, int points);

}  // namespace llmplan
