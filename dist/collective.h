// collective.h — nccl-tests' conventions for the three collectives data parallelism uses
// (all-reduce, reduce-scatter, all-gather), shared by the shard plan (engine/shard_plan.h), the
// NCCL communicator (kernels/comm.h, kernels/cuda/nccl_comm.cu) and `llmplan profile comm`.
// Header-only. The kinds, their names and the bus-bandwidth factor are the vocabulary's
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

// The kernels (kernels/comm.h, kernels/cuda/) still spell the kind dist::CommKind and its
// nccl-tests name dist::to_string; both are the vocabulary's Collective and nccl_name.
using CommKind = Collective;
inline const char* to_string(Collective k) { return nccl_name(k); }

// One of the three data-parallel collectives by nccl-tests' name, with or without the underscore
// ("all_reduce" / "allreduce" → all_reduce, etc.); false for anything else.
inline bool parse_dp_collective(const std::string& text, Collective& out) {
    for (const Collective c : {Collective::all_reduce, Collective::all_gather, Collective::reduce_scatter}) {
        std::string joined = nccl_name(c);
        joined.erase(joined.find('_'), 1);
        if (text == nccl_name(c) || text == joined) {
            out = c;
            return true;
        }
    }
    return false;
}

// S rounded down to what n ranks can run with elements of `element_bytes`: a multiple of the
// element for all-reduce, of n elements for all-gather and reduce-scatter (0: too small).
inline std::uint64_t busbw_round_bytes(Collective k, std::uint64_t requested, std::size_t element_bytes, int n) {
    const std::uint64_t unit = k == Collective::all_reduce ? element_bytes : element_bytes * static_cast<std::uint64_t>(n);
    return unit == 0 ? 0 : requested / unit * unit;
}

// The element count NCCL takes for S bytes: the buffer (all-reduce), the receive count
// (reduce-scatter: S / n) or the send count (all-gather: S / n).
inline std::size_t busbw_count(Collective k, std::uint64_t bytes, std::size_t element_bytes, int n) {
    const std::uint64_t elems = bytes / element_bytes;
    return static_cast<std::size_t>(k == Collective::all_reduce ? elems : elems / static_cast<std::uint64_t>(n));
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
