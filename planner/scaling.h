// scaling.h — parametric scaling laws L(N, D) = E + A/N^α + B/D^β and their compute-optimal
// frontier under C = 6·N·D (Hoffmann et al. 2022, approach 3; Besiroglu et al. 2024).
// The `llmplan scaling` command (issue 5) builds on these; constants: ../shared/REFERENCES.md §5.
#pragma once

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
ComputeOptimum compute_optimal(const ScalingLaw& law, double compute);

// Chinchilla approaches 1–2 as a rule: D = R·N, C = 6·N·D, so N = sqrt(C / (6R)).
ComputeOptimum tokens_per_param_optimum(double ratio, double compute);

}  // namespace llmplan
