// lbfgs.h — limited-memory BFGS with a backtracking Armijo line search (Nocedal & Wright 2006,
// Algorithm 7.4 two-loop recursion, Algorithm 3.1 backtracking). Small and dependency-free: the
// scaling-law fit has 5 parameters and a few hundred points (docs/SCALING.md says why it is
// written here rather than taken from a library).
#pragma once

#include <functional>
#include <vector>

namespace llmplan {

struct LbfgsOptions {
    int memory = 10;             // correction pairs kept
    int max_iterations = 1000;
    double gradient_tolerance = 1e-9;  // stop when ‖g‖∞ ≤ this
    double relative_tolerance = 1e-12; // or when |f_k − f_{k+1}| ≤ this · max(1, |f_k|)
};

struct LbfgsResult {
    std::vector<double> x;
    double value = 0;
    int iterations = 0;
    bool converged = false;
};

// Minimises f; `fg(x, grad)` returns f(x) and writes ∇f(x) into grad (same size as x).
LbfgsResult lbfgs_minimize(const std::function<double(const std::vector<double>&, std::vector<double>&)>& fg,
                           std::vector<double> x0, const LbfgsOptions& options = {});

}  // namespace llmplan
