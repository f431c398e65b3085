// scaling.cpp — the parametric laws and the closed-form compute-optimal frontier.
#include "planner/scaling.h"

#include "core/derive.h"
#include "core/error.h"
#include "core/file.h"
#include "core/quantity.h"
#include "planner/flops.h"
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

void validate_law(const ScalingLaw& law, const std::string& what) {
    auto in = [&](const char* key, double v, double lo, double hi, bool open_low) {
        if (std::isfinite(v) && (open_low ? v > lo : v >= lo) && v <= hi) return;
        throw InputError(what + ": \"" + key + "\" = " + format_sci(std::isfinite(v) ? v : 0, 3) +
                         (std::isfinite(v) ? "" : " (not finite)") + " is outside " + (open_low ? "(" : "[") +
                         format_sci(lo, 3) + ", " + format_sci(hi, 3) + "]: the law is degenerate");
    };
    in("E", law.E, 0, 100, true);
    in("A", law.A, 0, 1e20, true);
    in("B", law.B, 0, 1e20, true);
    in("alpha", law.alpha, 0.01, 5, false);
    in("beta", law.beta, 0.01, 5, false);
}

namespace {

[[noreturn]] void degenerate(const ScalingLaw& law, const std::string& where) {
    throw InputError("scaling law \"" + law.name + "\" (" + law.source + ") is degenerate " + where +
                     ": G = (alpha·A / (beta·B))^(1/(alpha+beta)) with alpha " + format_sci(law.alpha, 3) + ", beta " +
                     format_sci(law.beta, 3) + ", A " + format_sci(law.A, 3) + ", B " + format_sci(law.B, 3) +
                     " puts N_opt or D_opt outside [1, 1e30]");
}

}  // namespace

ComputeOptimum compute_optimal(const ScalingLaw& law, double compute) {
    const double c6 = compute / 6;
    ComputeOptimum o;
    o.compute = compute;
    o.parameters = law.G() * std::pow(c6, law.a());
    o.tokens = std::pow(c6, law.b()) / law.G();
    o.loss = law.loss(o.parameters, o.tokens);
    auto sane = [](double v) { return std::isfinite(v) && v >= 1 && v <= 1e30; };
    if (!sane(o.parameters) || !sane(o.tokens) || !std::isfinite(o.loss))
        degenerate(law, "at " + format_sci(compute, 3) + " FLOPs");
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

#include <nlohmann/json.hpp>

#include <limits>
#include <sstream>

namespace llmplan {

namespace {
constexpr double kPetaflopDay = 8.64e19;
const char* kKaplanSource = "Kaplan et al. 2020, eq. 1.5 and Fig. 14 (N_opt = 1.3e9·C^0.73, C in PF-days)";
}  // namespace

double kaplan_loss(double n, double d) {
    constexpr double aN = 0.076, aD = 0.095, Nc = 8.8e13, Dc = 5.4e13;
    return std::pow(std::pow(Nc / n, aN / aD) + Dc / d, aD);
}

ComputeOptimum kaplan_optimum(double compute) {
    ComputeOptimum o;
    o.compute = compute;
    o.parameters = 1.3e9 * std::pow(compute / kPetaflopDay, kKaplanExponent);
    o.tokens = compute / (6 * o.parameters);
    o.loss = kaplan_loss(o.parameters, o.tokens);
    return o;
}

double LawChoice::loss(double n, double d) const {
    switch (kind) {
        case LawKind::parametric: return law.loss(n, d);
        case LawKind::kaplan: return kaplan_loss(n, d);
        case LawKind::ratio: break;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

LawChoice law_choice(const std::string& name_in, double ratio, const std::string& flag) {
    const std::string name = to_lower(name_in);
    LawChoice c;
    c.name = name;
    if (name == "kaplan") {
        c.kind = LawKind::kaplan;
        c.source = kKaplanSource;
        return c;
    }
    if (name == "tokens-per-param" || name == "ratio") {
        if (!(ratio > 0)) throw InputError("--tokens-per-param: must be positive");
        c.kind = LawKind::ratio;
        c.ratio = ratio;
        std::ostringstream n;
        n << "tokens-per-param " << ratio;
        c.name = n.str();
        c.source = "Hoffmann et al. 2022, approaches 1 and 2 (about 20 tokens per parameter)";
        return c;
    }
    std::vector<std::string> names;
    for (const ScalingLaw& l : scaling_laws()) names.push_back(l.name);
    names.push_back("kaplan");
    names.push_back("tokens-per-param");
    for (const ScalingLaw& l : scaling_laws())
        if (l.name == name) {
            c.law = l;
            c.source = l.source;
            return c;
        }
    std::string msg = flag + ": unknown scaling law \"" + name_in + "\"";
    if (auto guess = closest_match(name_in, names)) msg += " (did you mean \"" + *guess + "\"?)";
    throw InputError(msg + "; choose one of " + join(names, ", ") + ", or --law-file FILE");
}

LawChoice law_from_json(const std::string& text, const std::string& what) {
    nlohmann::json j = parse_json_text(text, what);
    if (j.contains("law") && j["law"].is_object()) j = j["law"];  // a `scaling --fit --json` report
    LawChoice c;
    c.kind = LawKind::parametric;
    auto num = [&](const char* key) {
        if (!j.contains(key) || !j[key].is_number()) throw InputError(what + ": needs a number \"" + std::string(key) + "\"");
        const double v = j[key].get<double>();
        if (!std::isfinite(v) || v <= 0) throw InputError(what + ": \"" + std::string(key) + "\" must be positive");
        return v;
    };
    c.law.E = num("E");
    c.law.A = num("A");
    c.law.B = num("B");
    c.law.alpha = num("alpha");
    c.law.beta = num("beta");
    auto string_of = [&](const char* key, const std::string& otherwise) {
        if (!j.contains(key)) return otherwise;
        if (!j[key].is_string()) throw InputError(what + ": \"" + std::string(key) + "\" must be a string");
        return j[key].get<std::string>();
    };
    c.law.name = label_from_file(string_of("name", "file"));
    c.law.source = label_from_file(string_of("source", what));
    validate_law(c.law, what);
    c.name = c.law.name;
    c.source = c.law.source;
    return c;
}

std::string law_to_json(const ScalingLaw& l) {
    nlohmann::ordered_json j;
    j["name"] = l.name;
    j["E"] = l.E;
    j["A"] = l.A;
    j["B"] = l.B;
    j["alpha"] = l.alpha;
    j["beta"] = l.beta;
    j["source"] = l.source;
    return j.dump(2);
}

ComputeOptimum optimum_for_compute(const LawChoice& c, double compute) {
    if (!(compute > 0)) throw InputError("--compute: must be positive");
    switch (c.kind) {
        case LawKind::parametric: return compute_optimal(c.law, compute);
        case LawKind::kaplan: return kaplan_optimum(compute);
        case LawKind::ratio: {
            ComputeOptimum o = tokens_per_param_optimum(c.ratio, compute);
            o.loss = std::numeric_limits<double>::quiet_NaN();
            return o;
        }
    }
    return {};
}

ComputeOptimum optimum_for_params(const LawChoice& c, double n) {
    if (!(n > 0)) throw InputError("--params: must be positive");
    double compute = 0;
    switch (c.kind) {
        case LawKind::parametric:
            compute = 6 * std::pow(n / c.law.G(), 1 / c.law.a());  // N = G·(C/6)^a
            if (!(std::isfinite(compute) && compute > 0)) degenerate(c.law, "for --params " + format_sci(n, 3));
            break;
        case LawKind::kaplan: compute = kPetaflopDay * std::pow(n / 1.3e9, 1 / kKaplanExponent); break;
        case LawKind::ratio: compute = 6 * n * c.ratio * n; break;
    }
    ComputeOptimum o = optimum_for_compute(c, compute);
    o.parameters = n;  // exact, whatever the rounding of the inversion
    o.tokens = compute / (6 * n);
    o.loss = c.loss(n, o.tokens);
    return o;
}

ComputeOptimum optimum_for_tokens(const LawChoice& c, double d) {
    if (!(d > 0)) throw InputError("--tokens: must be positive");
    double compute = 0;
    switch (c.kind) {
        case LawKind::parametric:
            compute = 6 * std::pow(d * c.law.G(), 1 / c.law.b());  // D = G⁻¹·(C/6)^b
            if (!(std::isfinite(compute) && compute > 0)) degenerate(c.law, "for --tokens " + format_sci(d, 3));
            break;
        case LawKind::kaplan: {
            // D = C/(6·1.3e9·(C/PFd)^0.73) is increasing in C: solve by bisection in log C.
            double lo = 1e10, hi = 1e40;
            for (int i = 0; i < 200; ++i) {
                const double mid = std::sqrt(lo * hi);
                (kaplan_optimum(mid).tokens < d ? lo : hi) = mid;
            }
            compute = std::sqrt(lo * hi);
            break;
        }
        case LawKind::ratio: compute = 6 * d * (d / c.ratio); break;
    }
    ComputeOptimum o = optimum_for_compute(c, compute);
    o.tokens = d;
    o.parameters = compute / (6 * d);
    o.loss = c.loss(o.parameters, d);
    return o;
}

ComputeOptimum optimum_for_exact_compute(const LawChoice& c, double compute, std::int64_t seq) {
    if (!c.has_loss()) throw InputError("--flops exact: needs a law with a loss (not a tokens-per-parameter rule)");
    if (!(compute > 0)) throw InputError("--compute: must be positive");
    if (seq < 1) throw InputError("--seq: must be a positive integer");
    auto per_token = [&](double n) {
        const ModelSpec m = derive_shape(static_cast<std::int64_t>(std::llround(n)), "--params");
        return training_flops_per_token(m, seq, Recompute::none).model;
    };
    auto loss_at = [&](double logn) {
        const double n = std::exp(logn);
        return c.loss(n, compute / per_token(n));
    };
    const ComputeOptimum guess = optimum_for_compute(c, compute);
    double a = std::log(guess.parameters / 10), b = std::log(guess.parameters * 10);
    a = std::max(a, std::log(1e6));  // the smallest size the shape rule derives
    const double phi = (std::sqrt(5.0) - 1) / 2;
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a), f1 = loss_at(x1), f2 = loss_at(x2);
    for (int i = 0; i < 80; ++i) {
        if (f1 < f2) {
            b = x2; x2 = x1; f2 = f1;
            x1 = b - phi * (b - a); f1 = loss_at(x1);
        } else {
            a = x1; x1 = x2; f1 = f2;
            x2 = a + phi * (b - a); f2 = loss_at(x2);
        }
    }
    ComputeOptimum o;
    o.compute = compute;
    o.parameters = std::exp((a + b) / 2);
    o.tokens = compute / per_token(o.parameters);
    o.loss = c.loss(o.parameters, o.tokens);
    return o;
}

RunAssessment assess_run(const LawChoice& c, double n, double d) {
    if (!c.has_loss()) throw InputError("--law " + c.name + ": a tokens-per-parameter rule predicts no loss; use chinchilla, epoch or kaplan");
    if (!(n > 0) || !(d > 0)) throw InputError("--params and --tokens: must be positive");
    RunAssessment a;
    a.compute = 6 * n * d;
    a.loss = c.loss(n, d);
    a.optimal = optimum_for_compute(c, a.compute);
    a.loss_gap = a.loss - a.optimal.loss;
    // The optimal loss falls with compute: bisection in log C for L_opt(C) = loss.
    double lo = a.compute * 1e-6, hi = a.compute;
    for (int i = 0; i < 200; ++i) {
        const double mid = std::sqrt(lo * hi);
        (optimum_for_compute(c, mid).loss > a.loss ? lo : hi) = mid;
    }
    a.compute_for_same_loss = std::sqrt(lo * hi);
    a.tokens_per_parameter = d / n;
    a.optimal_tokens_per_parameter = a.optimal.tokens_per_parameter();
    a.overtraining = a.tokens_per_parameter / a.optimal_tokens_per_parameter;
    return a;
}

InferenceAware inference_optimal(const LawChoice& c, double target, double inference_tokens) {
    if (c.kind != LawKind::parametric)
        throw InputError("--inference-tokens: needs a parametric law (chinchilla, chinchilla-unrounded, epoch or --law-file)");
    if (!(inference_tokens >= 0)) throw InputError("--inference-tokens: must not be negative");
    const ScalingLaw& l = c.law;
    if (!(target > l.E)) throw InputError("--target-loss: must be above the law's irreducible loss E");
    InferenceAware r;
    r.target_loss = target;
    r.inference_tokens = inference_tokens;
    // Training-optimal model for the target: the compute whose optimum reaches it.
    double lo = 1e10, hi = 1e40;
    for (int i = 0; i < 300; ++i) {
        const double mid = std::sqrt(lo * hi);
        (compute_optimal(l, mid).loss > target ? lo : hi) = mid;
    }
    r.chinchilla = compute_optimal(l, std::sqrt(lo * hi));
    r.chinchilla_total_flops = r.chinchilla.compute + 2 * r.chinchilla.parameters * inference_tokens;
    // D(N) on the target-loss contour: B/D^β = target − E − A/N^α (needs N above the size whose
    // parameter term alone reaches the target).
    const double n_min = std::pow(l.A / (target - l.E), 1 / l.alpha);
    auto tokens_for = [&](double n) { return std::pow(l.B / (target - l.E - l.A / std::pow(n, l.alpha)), 1 / l.beta); };
    auto total = [&](double n) { return 6 * n * tokens_for(n) + 2 * n * inference_tokens; };
    // Golden-section search over log N in (n_min, 1e4·n_min]: total is unimodal there.
    double a = std::log(n_min * (1 + 1e-9)), b = std::log(n_min * 1e4);
    const double phi = (std::sqrt(5.0) - 1) / 2;
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
    double f1 = total(std::exp(x1)), f2 = total(std::exp(x2));
    for (int i = 0; i < 300; ++i) {
        if (f1 < f2) {
            b = x2; x2 = x1; f2 = f1;
            x1 = b - phi * (b - a); f1 = total(std::exp(x1));
        } else {
            a = x1; x1 = x2; f1 = f2;
            x2 = a + phi * (b - a); f2 = total(std::exp(x2));
        }
    }
    r.params = std::exp((a + b) / 2);
    r.tokens = tokens_for(r.params);
    r.training_flops = 6 * r.params * r.tokens;
    r.total_flops = r.training_flops + 2 * r.params * inference_tokens;
    r.saved_flops = r.chinchilla_total_flops - r.total_flops;
    r.saved_fraction = r.saved_flops / r.chinchilla_total_flops;
    return r;
}

std::vector<IsoflopPoint> isoflop_curve(const LawChoice& c, double compute, int points) {
    if (!c.has_loss()) throw InputError("--isoflop: needs a law with a loss (not a tokens-per-parameter rule)");
    if (points < 2) points = 2;
    const ComputeOptimum o = optimum_for_compute(c, compute);
    std::vector<IsoflopPoint> out;
    for (int i = 0; i < points; ++i) {
        const double n = o.parameters * std::pow(10.0, -1 + 2.0 * i / (points - 1));
        const double d = compute / (6 * n);
        out.push_back({compute, n, d, c.loss(n, d)});
    }
    return out;
}

}  // namespace llmplan
