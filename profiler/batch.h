// batch.h — the token stream of `llmplan profile`'s steps, shared by the CPU reference's run
// (profiler/runner.cpp) and the GPU engine's (backend/cuda/profile_run.cpp): uniform random ids
// and targets from the seed (speed and memory do not depend on the values), and a rank's rows of
// the global batch under data parallelism.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace llmplan::profiler {

struct Batch {
    std::vector<int> ids, targets;
};

inline Batch make_batch(std::mt19937_64& gen, int tokens, int vocab) {
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    Batch b;
    b.ids.resize(static_cast<std::size_t>(tokens));
    b.targets.resize(static_cast<std::size_t>(tokens));
    for (int& t : b.ids) t = tok(gen);
    for (int& t : b.targets) t = tok(gen);
    return b;
}

// Rank r's rows of the global batch (world × batch sequences of seq tokens; `tokens` per rank).
inline Batch rank_rows(const Batch& global, int rank, int tokens) {
    const auto b = static_cast<std::ptrdiff_t>(rank) * tokens, e = b + tokens;
    return {std::vector<int>(global.ids.begin() + b, global.ids.begin() + e),
            std::vector<int>(global.targets.begin() + b, global.targets.begin() + e)};
}

}  // namespace llmplan::profiler
