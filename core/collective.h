// collective.h — the collective operations llmplan times and plans, and nccl-tests' bus-bandwidth
// factor for each: the one definition the planner (planner/comm.h) and the multi-GPU code
// (dist/collective.h, whose CommKind maps onto Collective) share. Header-only and
// C++17-clean: nvcc compiles the .cu files that include it as C++17.
//
// nccl-tests doc/PERFORMANCE.md (docs/REFERENCES.md §4): busbw = algbw × factor, factor 2(n−1)/n
// for all-reduce, (n−1)/n for all-gather, reduce-scatter and all-to-all (S = the whole gathered
// buffer), 1 for broadcast, reduce and send/recv. A collective of S bytes thus moves S × factor
// bytes through each GPU's link.
#pragma once

namespace llmplan {

enum class Collective { all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv };

// nccl-tests' bus-bandwidth factor for a group of n ranks (0 for all-reduce etc. when n = 1:
// nothing crosses a link).
inline double busbw_factor(Collective c, int n) {
    const double N = n;
    switch (c) {
        case Collective::all_reduce: return 2 * (N - 1) / N;
        case Collective::all_gather:
        case Collective::reduce_scatter:
        case Collective::all_to_all: return (N - 1) / N;
        case Collective::broadcast:
        case Collective::reduce:
        case Collective::send_recv: return 1;
    }
    return 1;
}

}  // namespace llmplan
