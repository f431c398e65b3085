// comm.cpp — the alpha-beta cost of NCCL collectives; formulas and sources in comm.h.
#include "planner/comm.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmplan {

const char* to_string(LinkKind k) { return k == LinkKind::nvlink ? "nvlink" : "network"; }
const char* to_string(NcclAlgorithm a) { return a == NcclAlgorithm::ring ? "ring" : "tree"; }
const char* to_string(NcclProtocol p) {
    switch (p) {
        case NcclProtocol::ll: return "LL";
        case NcclProtocol::ll128: return "LL128";
        case NcclProtocol::simple: return "Simple";
    }
    return "?";
}

namespace {

// NCCL src/graph/tuning.cc latencies in µs: base (ring) and per hop, per protocol.
struct ProtocolCost {
    double base_us, nvlink_hop_us, network_hop_us, efficiency;
};
ProtocolCost protocol_cost(NcclProtocol p) {
    switch (p) {
        case NcclProtocol::ll: return {6.6, 0.6, 2.7, 0.5};           // 8 B payload per 16 B line
        case NcclProtocol::ll128: return {14.0, 1.9, 4.0, 120.0 / 128};  // 120 B payload per 128 B line
        case NcclProtocol::simple: return {8.4, 3.4, 14.0, 1.0};
    }
    return {8.4, 3.4, 14.0, 1.0};
}

// Sequential latency steps of one collective (the α multiplier).
double latency_steps(Collective c, int n, NcclAlgorithm a) {
    const double N = n;
    if (a == NcclAlgorithm::tree) return 2 * std::ceil(std::log2(N));  // up the tree, then down
    switch (c) {
        case Collective::all_reduce: return 2 * (N - 1);  // reduce-scatter + all-gather phases
        case Collective::send_recv: return 1;
        default: return N - 1;  // one pass around the ring (pipelined broadcast / reduce too)
    }
}

// The steps of a group spanning nodes that cross the network, NCCL's nInterSteps (tuning.cc):
// ring all-reduce 2·nodes, all-gather / reduce-scatter nodes − 1, broadcast / reduce nodes; the
// tree ⌈log2 nodes⌉ each way. The rest are NVLink hops. Point-to-point (send/recv, all-to-all)
// counts every step at the link's latency.
struct Hops {
    double intra = 0, inter = 0;
};
Hops split_steps(Collective c, int n, NcclAlgorithm a, int per_node) {
    const double N = n, g = per_node, nodes = std::ceil(N / g);
    if (a == NcclAlgorithm::tree) {
        const double inter = 2 * std::ceil(std::log2(nodes));
        return {2 * (g - 1), inter};
    }
    const double steps = latency_steps(c, n, a);
    double inter = 0;
    switch (c) {
        case Collective::all_reduce: inter = nodes > 1 ? 2 * nodes : 0; break;
        case Collective::all_gather:
        case Collective::reduce_scatter: inter = nodes - 1; break;
        default: inter = nodes; break;
    }
    inter = std::min(inter, steps);
    return {steps - inter, inter};
}

// Send/recv and all-to-all run on NCCL's point-to-point path, which picks LL (up to
// NCCL_P2P_LL_THRESHOLD per channel) or Simple, never LL128 (src/enqueue.cc, addP2pToPlan).
bool point_to_point(Collective c) { return c == Collective::send_recv || c == Collective::all_to_all; }

}  // namespace

CollectiveTime collective_time(Collective c, double bytes, int n, const LinkModel& link, NcclAlgorithm a,
                               NcclProtocol p) {
    if (n < 1) throw InputError("collective over " + std::to_string(n) + " ranks: the group needs at least 1 rank");
    if (!(bytes >= 0)) throw InputError("collective of a negative or undefined byte count");
    if (!(link.bus_bandwidth > 0)) throw InputError("link bandwidth must be positive");
    CollectiveTime t;
    t.algorithm = a;
    t.protocol = p;
    if ((n == 1 && c != Collective::send_recv) || bytes == 0) return t;  // nothing crosses a link
    const ProtocolCost pc = protocol_cost(p);
    const double hop = link.kind == LinkKind::nvlink ? pc.nvlink_hop_us : pc.network_hop_us;
    double hops_us = latency_steps(c, n, a) * hop;
    if (link.kind == LinkKind::network && link.members_per_node > 0 && link.members_per_node < n && !point_to_point(c)) {
        const Hops h = split_steps(c, n, a, link.members_per_node);
        hops_us = h.intra * pc.nvlink_hop_us + h.inter * pc.network_hop_us;
    }
    t.latency_seconds = (pc.base_us + hops_us) * 1e-6 + kCollectiveCallLatency;
    const double kind = (c == Collective::all_gather || c == Collective::reduce_scatter) ? kGatherScatterBusbwRatio : 1.0;
    t.bandwidth_seconds = bytes * busbw_factor(c, n) / (link.bus_bandwidth * kind * pc.efficiency);
    t.seconds = t.latency_seconds + t.bandwidth_seconds;
    return t;
}

CollectiveTime collective_time(Collective c, double bytes, int n, const LinkModel& link) {
    CollectiveTime best;
    best.seconds = std::numeric_limits<double>::infinity();
    for (NcclAlgorithm a : {NcclAlgorithm::ring, NcclAlgorithm::tree}) {
        if (a == NcclAlgorithm::tree && (c != Collective::all_reduce || link.kind != LinkKind::network)) continue;
        for (NcclProtocol p : {NcclProtocol::ll, NcclProtocol::ll128, NcclProtocol::simple}) {
            if (p == NcclProtocol::ll128 && point_to_point(c)) continue;
            const CollectiveTime t = collective_time(c, bytes, n, link, a, p);
            if (t.seconds < best.seconds) best = t;
        }
    }
    return best;
}

}  // namespace llmplan
