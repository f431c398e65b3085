// collective.h — the three collectives data parallelism uses and nccl-tests' conventions for
// them, shared by the shard plan (shard_plan.h), the NCCL communicator (kernels/comm.h,
// kernels/cuda/nccl_comm.cu) and `llmplan profile comm`. Header-only.
//
// nccl-tests doc/PERFORMANCE.md: S is the all-reduce's buffer, the all-gather's output and the
// reduce-scatter's input; algbw = S / time; busbw = algbw × factor, factor 2(n−1)/n for
// all-reduce and (n−1)/n for all-gather and reduce-scatter; S × factor is what crosses each
// GPU's links. S must split into n equal blocks of whole elements for all-gather and
// reduce-scatter (nccl-tests rounds S down the same way).
#pragma once

#include "core/collective.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llmplan::dist {

enum class CommKind { all_reduce, reduce_scatter, all_gather };

// nccl-tests' names (the "collective" key of llmplan.nccl_busbw/1).
inline const char* to_string(CommKind k) {
    switch (k) {
        case CommKind::all_reduce: return "all_reduce";
        case CommKind::reduce_scatter: return "reduce_scatter";
        case CommKind::all_gather: return "all_gather";
    }
    return "?";
}

// "all_reduce" / "allreduce" → all_reduce, etc.; false for anything else.
inline bool parse_comm_kind(const std::string& text, CommKind& out) {
    if (text == "all_reduce" || text == "allreduce") {
        out = CommKind::all_reduce;
    } else if (text == "all_gather" || text == "allgather") {
        out = CommKind::all_gather;
    } else if (text == "reduce_scatter" || text == "reducescatter") {
        out = CommKind::reduce_scatter;
    } else {
        return false;
    }
    return true;
}

// The planner's Collective of a CommKind.
inline Collective to_collective(CommKind k) {
    switch (k) {
        case CommKind::all_reduce: return Collective::all_reduce;
        case CommKind::reduce_scatter: return Collective::reduce_scatter;
        case CommKind::all_gather: return Collective::all_gather;
    }
    return Collective::all_reduce;
}

// nccl-tests doc/PERFORMANCE.md bus-bandwidth factor (0 for n = 1: nothing crosses a link); the
// one definition is core/collective.h.
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
