// engine_layout.h — facts of the GPU engine's layout that the engine (kernels/engine.cpp,
// kernels/cuda/engine.cu) and the step program (engine/program.cpp, which the planner's books and
// time model replay) must agree on: the logits'
// row stride (logits_stride.h), and, following from the shard plan (shard_plan.h), where each unit sits in a padded
// buffer and in which backward step its gradients are first written. Header-only, C++20.
#pragma once

#include "engine/logits_stride.h"
#include "engine/shard_plan.h"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace llmplan::dist {


// Sharded stages (ZeRO 1–3) keep units padded and in layout order (flat.begin ascending): the
// ZeRO-1/2 weight and gradient buffers are Σ padded elements long and unit u starts at
// padded_bases(s)[u]; a parameter sits at that base + (offset − unit.flat.begin). ZeRO-3's
// gathered copy of a unit is laid out the same way from 0. DDP: the compact layout (base = begin).
inline std::vector<std::size_t> padded_bases(const ShardPlan& s) {
    std::vector<std::size_t> order(s.units.size()), base(s.units.size(), 0);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return s.units[a].flat.begin < s.units[b].flat.begin; });
    std::size_t at = 0;
    for (const std::size_t u : order) {
        base[u] = s.options.zero >= 1 ? at : s.units[u].flat.begin;
        at += s.units[u].padded;
    }
    return base;
}

// The backward's first write into a unit's gradients: the highest compute step among its
// parameters (the backward runs from step L + 1 down to 0), or L + 1 when the unit holds the tied
// embedding, whose gradient the output layer's backward (step L + 1) writes first. ZeRO-2/3
// allocate a unit's gradient staging buffer at the start of that step.
inline int first_grad_step(const ShardPlan& s, const Unit& u) {
    int step = 0;
    for (std::size_t i = u.first_param; i < u.last_param; ++i) {
        step = std::max(step, s.param_step[i]);
        if (!s.tied_head.empty() && s.params[i].name == s.tied_head) step = s.layers + 1;
    }
    return step;
}

}  // namespace llmplan::dist
