// lbfgs.cpp — L-BFGS two-loop recursion with backtracking; see lbfgs.h.
#include "planner/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace llmplan {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

double inf_norm(const std::vector<double>& a) {
    double m = 0;
    for (double v : a) m = std::max(m, std::fabs(v));
    return m;
}

}  // namespace

LbfgsResult lbfgs_minimize(const std::function<double(const std::vector<double>&, std::vector<double>&)>& fg,
                           std::vector<double> x, const LbfgsOptions& opt) {
    const std::size_t n = x.size();
    std::vector<double> g(n), g_new(n), d(n), x_new(n);
    double f = fg(x, g);
    std::deque<std::vector<double>> S, Y;
    std::deque<double> rho;
    LbfgsResult r;
    for (int it = 0; it < opt.max_iterations; ++it) {
        r.iterations = it;
        if (!std::isfinite(f)) break;
        if (inf_norm(g) <= opt.gradient_tolerance) {
            r.converged = true;
            break;
        }
        // Two-loop recursion: d = −H·g.
        std::vector<double> q = g;
        std::vector<double> alpha(S.size());
        for (std::size_t k = S.size(); k-- > 0;) {
            alpha[k] = rho[k] * dot(S[k], q);
            for (std::size_t i = 0; i < n; ++i) q[i] -= alpha[k] * Y[k][i];
        }
        double gamma = 1;
        if (!S.empty()) gamma = dot(S.back(), Y.back()) / dot(Y.back(), Y.back());
        for (std::size_t i = 0; i < n; ++i) q[i] *= gamma;
        for (std::size_t k = 0; k < S.size(); ++k) {
            const double beta = rho[k] * dot(Y[k], q);
            for (std::size_t i = 0; i < n; ++i) q[i] += S[k][i] * (alpha[k] - beta);
        }
        for (std::size_t i = 0; i < n; ++i) d[i] = -q[i];
        double slope = dot(g, d);
        if (!(slope < 0)) {  // not a descent direction: restart from steepest descent
            S.clear();
            Y.clear();
            rho.clear();
            for (std::size_t i = 0; i < n; ++i) d[i] = -g[i];
            slope = dot(g, d);
        }
        // Backtracking line search (Armijo, c = 1e-4); the first step of a fresh start is scaled.
        double step = S.empty() ? std::min(1.0, 1.0 / std::max(1e-12, inf_norm(g))) : 1.0;
        double f_new = 0;
        bool accepted = false;
        for (int ls = 0; ls < 60; ++ls) {
            for (std::size_t i = 0; i < n; ++i) x_new[i] = x[i] + step * d[i];
            f_new = fg(x_new, g_new);
            if (std::isfinite(f_new) && f_new <= f + 1e-4 * step * slope) {
                accepted = true;
                break;
            }
            step *= 0.5;
        }
        if (!accepted) break;
        std::vector<double> s(n), y(n);
        for (std::size_t i = 0; i < n; ++i) {
            s[i] = x_new[i] - x[i];
            y[i] = g_new[i] - g[i];
        }
        const double sy = dot(s, y);
        if (sy > 1e-16) {
            S.push_back(s);
            Y.push_back(y);
            rho.push_back(1 / sy);
            if (static_cast<int>(S.size()) > opt.memory) {
                S.pop_front();
                Y.pop_front();
                rho.pop_front();
            }
        }
        const double change = std::fabs(f - f_new);
        x.swap(x_new);
        g.swap(g_new);
        f = f_new;
        if (change <= opt.relative_tolerance * std::max(1.0, std::fabs(f))) {
            r.converged = true;
            r.iterations = it + 1;
            break;
        }
    }
    r.x = x;
    r.value = f;
    return r;
}

}  // namespace llmplan
