// comm.h — time of one NCCL collective: the alpha-beta model of NCCL's ring and tree algorithms.
//
// Sources (docs/REFERENCES.md §4):
//  * nccl-tests doc/PERFORMANCE.md: bus bandwidth = algorithm bandwidth × factor (busbw_factor,
//    core/vocab.h, with the Collective kinds and their names). A collective of S bytes thus moves S × factor
//    bytes through each GPU's link, and takes S × factor / busbw at full speed.
//  * Ring cost: all-reduce 2(n−1)·α + 2(n−1)/n·S·β; all-gather / reduce-scatter (n−1)·α +
//    (n−1)/n·S·β (Thakur et al. 2005; Patarasuk & Yuan 2009). Tree all-reduce (NCCL's double
//    binary tree): 2·⌈log2 n⌉·α latency, same bandwidth term.
//  * NCCL's latency table (src/graph/tuning.cc, µs, protocols LL / LL128 / Simple): base ring
//    6.6 / 14 / 8.4, per NVLink hop 0.6 / 1.9 / 3.4, per network hop 2.7 / 4.0 / 14. LL moves 8
//    bytes of payload per 16-byte line (half the bandwidth), LL128 120 of 128 bytes; NCCL picks
//    the fastest protocol and algorithm for each size, and so does this model.
// Calibrated on the lent GPUs (validation/nccl, 2 × H100 NV18, NCCL 2.28, bench/nccl_busbw.sh):
// every call also pays a launch/synchronisation latency the tuning table leaves out, and NCCL's
// all-gather and reduce-scatter reach a lower bus bandwidth than its all-reduce (constants below).
// Model and validation: docs/PERFORMANCE_MODEL.md §3.
#pragma once

#include "core/vocab.h"

#include <string>

namespace llmplan {

enum class LinkKind { nvlink, network };
enum class NcclAlgorithm { ring, tree };
enum class NcclProtocol { ll, ll128, simple };

// Fitted to the 2 × H100 measurements (messages of 16 MiB to 2 GiB): per-call latency beyond
// NCCL's table (fits: 14–18 µs), and all-gather / reduce-scatter bus bandwidth relative to
// all-reduce (fits: 272 and 268 vs 324 GB/s).
inline constexpr double kCollectiveCallLatency = 14e-6;
inline constexpr double kGatherScatterBusbwRatio = 0.83;

const char* to_string(LinkKind k);
const char* to_string(NcclAlgorithm a);
const char* to_string(NcclProtocol p);

// A link class as NCCL sees it: the bus bandwidth a large all-reduce reaches over it (bytes/s,
// e.g. 324e9 for 2 H100s and 370e9 for 8 over NVLink, 47e9 per GPU for NDR InfiniBand) and the
// hop kind. All-gather and reduce-scatter run at kGatherScatterBusbwRatio of it. A group that
// spans nodes with members_per_node > 0 of its ranks in each node pays NCCL's latency per hop
// kind (src/graph/tuning.cc): a ring's nsteps − nInterSteps hops inside nodes at the NVLink hop
// latency and nInterSteps (all-reduce 2·nodes, all-gather / reduce-scatter nodes − 1) over the
// network; the tree 2·((members_per_node − 1) NVLink + ⌈log2 nodes⌉ network hops). 0: every hop
// at the link's own latency (a group inside one node, or an unknown placement).
struct LinkModel {
    LinkKind kind = LinkKind::nvlink;
    double bus_bandwidth = 0;  // bytes/s
    int members_per_node = 0;
};
struct CollectiveTime {
    double seconds = 0;
    double latency_seconds = 0;    // the α part
    double bandwidth_seconds = 0;  // the S·factor/busbw part
    NcclAlgorithm algorithm = NcclAlgorithm::ring;
    NcclProtocol protocol = NcclProtocol::simple;
};

// Fastest algorithm × protocol for one collective of `bytes` (nccl-tests' S) over n ranks.
// Tree is considered for all-reduce over the network only (NCCL's tree supports all-reduce; inside
// a node its tree is a chain, which the ring beats at every size); send/recv and all-to-all, on
// NCCL's point-to-point path, use LL or Simple only (never LL128). Throws InputError
// for n < 1, negative bytes or a non-positive bandwidth.
CollectiveTime collective_time(Collective c, double bytes, int n, const LinkModel& link);

// The same for one given algorithm and protocol (what the fastest choice is picked from).
CollectiveTime collective_time(Collective c, double bytes, int n, const LinkModel& link, NcclAlgorithm a,
                               NcclProtocol p);

}  // namespace llmplan
