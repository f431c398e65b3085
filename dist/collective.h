// collective.h — nccl-tests' conventions for the three collectives data parallelism uses
// (all-reduce, reduce-scatter, all-gather), shared by the shard plan (engine/shard_plan.h), the
// NCCL communicator (kernels/comm.h, kernels/cuda/nccl_comm.cu) and `llmplan profile comm`.
// Header-only. The kinds' values, their names and the bus-bandwidth factor are the vocabulary's
// (core/vocab.h: Collective, nccl_name, busbw_factor).
//
// nccl-tests doc/PERFORMANCE.md (docs/REFERENCES.md §4): S is the all-reduce's buffer, the
// all-gather's output and the reduce-scatter's input; algbw = S / time; busbw = algbw × factor.
// S must split into n equal blocks of whole elements for all-gather and reduce-scatter
// (nccl-tests rounds S down the same way).
#pragma once

#include "core/vocab.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llmplan::dist {

// The three collectives data parallelism runs: a subset of the vocabulary's Collective with the
// same values (to_collective is a cast), kept as its own type so that the engine's switches over
// it (kernels/cuda/nccl_comm.cu, data_parallel.cu) stay exhaustive.
enum class CommKind {
    all_reduce = static_cast<int>(Collective::all_reduce),
    reduce_scatter = static_cast<int>(Collective::reduce_scatter),
    all_gather = static_cast<int>(Collective::all_gather),
};
constexpr Collective to_collective(CommKind k) { return static_cast<Collective>(k); }

// nccl-tests' names (the "collective" key of llmplan.nccl_busbw/1): the vocabulary's nccl_name.
inline const char* to_string(CommKind k) { return nccl_name(to_collective(k)); }

// By nccl-tests' name, with or without the underscore ("all_reduce" / "allreduce" → all_reduce,
// etc.); false for anything else.
inline bool parse_comm_kind(const std::string& text, CommKind& out) {
    for (const CommKind k : {CommKind::all_reduce, CommKind::all_gather, CommKind::reduce_scatter}) {
        std::string joined = to_string(k);
        joined.erase(joined.find('_'), 1);
        if (text == to_string(k) || text == joined) {
            out = k;
            return true;
        }
    }
    return false;
}

// nccl-tests' bus-bandwidth factor (0 for n = 1: nothing crosses a link): core/vocab.h's.
inline double busbw_factor(CommKind k, int n) { return llmplan::busbw_factor(to_collective(k), n); }

// S rounded down to what n ranks can run with elements of `element_bytes`: a multiple of the
// element for all-reduce, of n elements for all-gather and reduce-scatter (0: too small).
inline std::uint64_t busbw_round_bytes(CommKind k, std::uint64_t requested, std::size_t element_bytes, int n) {
    const std::uint64_t unit = k == CommKind::all_reduce ? element_bytes : element_bytes * static_cast<std::uint64_t>(n);
    return unit == 0 ? 0 : requested / unit * unit;
}

// The element count NCCL takes for S bytes: the buffer (all-reduce), the receive count
// (reduce-scatter: S / n) or the send count (all-gather: S / n).
inline std::size_t busbw_count(CommKind k, std::uint64_t bytes, std::size_t element_bytes, int n) {
    const std::uint64_t elems = bytes / element_bytes;
    return static_cast<std::size_t>(k == CommKind::all_reduce ? elems : elems / static_cast<std::uint64_t>(n));
}

// min, 2·min, 4·min, … up to max (max itself only when it is min times a power of two).
inline std::vector<std::uint64_t> busbw_sizes(std::uint64_t min_bytes, std::uint64_t max_bytes) {
    std::vector<std::uint64_t> out;
    if (min_bytes == 0 || min_bytes > max_bytes) return out;
    for (std::uint64_t s = min_bytes;; s *= 2) {
        out.push_back(s);
        if (s > max_bytes / 2) break;  // s * 2 would pass max (or overflow)
    }
    return out;
}

}  // namespace llmplan::dist
