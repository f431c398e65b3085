// scaling.cpp — the parametric laws and the closed-form compute-optimal frontier.
#include "planner/scaling.h"

#include "core/error.h"
#include "core/text.h"

#include <cmath>

namespace llmplan {

double ScalingLaw::loss(double n, double d) const { return E + A / std::pow(n, alpha) + B / std::pow(d, beta); }

double ScalingLaw::G() const { return std::pow(alpha * A / (beta * B), 1.0 / (alpha + beta)); }

const std::vector<ScalingLaw>& scaling_laws() {
    static const std::vector<ScalingLaw> laws = {
        {"chinchilla", 1.69, 406.4, 410.7, 0.34, 0.28, "Hoffmann et al. 2022, approach 3 (eq. 10, published rounding)"},
        {"chinchilla-unrounded", 1.6934, 406.4, 410.7, 0.3392, 0.2849, "Hoffmann et al. 2022, approach 3, unrounded"},
        {"epoch", 1.8172, 482.01, 2085.43, 0.3478, 0.3658,
         "Besiroglu et al. 2024 (arXiv 2404.10102), refit of Chinchilla's Figure 4 data"},
    };
    return laws;
}

const ScalingLaw& scaling_law_or_throw(const std::string& name, const std::string& flag) {
    std::vector<std::string> names;
    for (const ScalingLaw& law : scaling_laws()) {
        if (law.name == to_lower(name)) return law;
        names.push_back(law.name);
    }
    std::string msg = flag + ": unknown scaling law \"" + name + "\"";
    if (auto guess = closest_match(name, names)) msg += " (did you mean \"" + *guess + "\"?)";
    throw InputError(msg + "; choose one of " + join(names, ", "));
}

ComputeOptimum compute_optimal(const ScalingLaw& law, double compute) {
    const double c6 = compute / 6;
    ComputeOptimum o;
    o.compute = compute;
    o.parameters = law.G() * std::pow(c6, law.a());
    o.tokens = std::pow(c6, law.b()) / law.G();
    o.loss = law.loss(o.parameters, o.tokens);
    return o;
}

ComputeOptimum tokens_per_param_optimum(double ratio, double compute) {
    ComputeOptimum o;
    o.compute = compute;
    o.parameters = std::sqrt(compute / (6 * ratio));
    o.tokens = ratio * o.parameters;
    o.loss = 0;  // a rule, not a loss model
    return o;
}

}  // namespace llmplan
