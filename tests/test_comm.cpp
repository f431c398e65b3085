// test_comm.cpp — the NCCL alpha-beta model on sums worked out by hand (REFERENCES.md §4).
#include "planner/comm.h"

#include "core/error.h"

#include <catch2/catch.hpp>

using namespace llmplan;

TEST_CASE("comm: nccl-tests bus-bandwidth factors", "[comm][golden]") {
    CHECK(busbw_factor(Collective::all_reduce, 8) == Approx(1.75));      // 2·7/8
    CHECK(busbw_factor(Collective::all_gather, 8) == Approx(0.875));     // 7/8
    CHECK(busbw_factor(Collective::reduce_scatter, 2) == Approx(0.5));
    CHECK(busbw_factor(Collective::all_to_all, 4) == Approx(0.75));
    CHECK(busbw_factor(Collective::broadcast, 64) == 1);
    CHECK(busbw_factor(Collective::send_recv, 2) == 1);
}

TEST_CASE("comm: ring all-reduce of 1 GiB on 8 H100s over NVLink", "[comm][golden]") {
    const LinkModel nvlink{LinkKind::nvlink, 370e9};  // published 8×H100 ring busbw
    // Simple: (8.4 + 14 hops × 3.4) µs = 56.0 µs; 2^30 B × 1.75 / 370e9 B/s = 5.078508 ms.
    const CollectiveTime t = collective_time(Collective::all_reduce, 1073741824.0, 8, nvlink, NcclAlgorithm::ring,
                                             NcclProtocol::simple);
    CHECK(t.latency_seconds == Approx(56.0e-6));
    CHECK(t.bandwidth_seconds == Approx(1073741824.0 * 1.75 / 370e9));
    CHECK(t.seconds == Approx(56.0e-6 + 5.078508e-3).epsilon(1e-6));
    // NCCL's choice at 1 GiB inside a node: ring + Simple (LL128 pays 120/128 of bandwidth).
    const CollectiveTime best = collective_time(Collective::all_reduce, 1073741824.0, 8, nvlink);
    CHECK(best.algorithm == NcclAlgorithm::ring);
    CHECK(best.protocol == NcclProtocol::simple);
    CHECK(best.seconds == Approx(t.seconds));
}

TEST_CASE("comm: small messages take the low-latency protocol", "[comm][golden]") {
    const LinkModel nvlink{LinkKind::nvlink, 370e9};
    // 1 KiB all-reduce on 8 GPUs: LL (6.6 + 14 × 0.6) µs = 15.0 µs + 1024·1.75/(0.5·370e9) s.
    const CollectiveTime t = collective_time(Collective::all_reduce, 1024, 8, nvlink);
    CHECK(t.protocol == NcclProtocol::ll);
    CHECK(t.seconds == Approx(15.0e-6 + 1024 * 1.75 / 185e9));
}

TEST_CASE("comm: across nodes the tree's log latency wins for all-reduce", "[comm][golden]") {
    const LinkModel ib{LinkKind::network, 47e9};  // NDR 400 Gb/s per GPU, measured 46-48 GB/s
    // 64 ranks, 8 MiB, Simple: ring 8.4 + 126 × 14 = 1772.4 µs; tree 8.4 + 2·6·14 = 176.4 µs.
    const CollectiveTime ring = collective_time(Collective::all_reduce, 8388608, 64, ib, NcclAlgorithm::ring,
                                                NcclProtocol::simple);
    const CollectiveTime tree = collective_time(Collective::all_reduce, 8388608, 64, ib, NcclAlgorithm::tree,
                                                NcclProtocol::simple);
    CHECK(ring.latency_seconds == Approx(1772.4e-6));
    CHECK(tree.latency_seconds == Approx(176.4e-6));
    CHECK(collective_time(Collective::all_reduce, 8388608, 64, ib).algorithm == NcclAlgorithm::tree);
    // All-gather has no tree in NCCL: ring, (n − 1) steps.
    CHECK(collective_time(Collective::all_gather, 8388608, 64, ib).algorithm == NcclAlgorithm::ring);
}

TEST_CASE("comm: degenerate groups and bad input", "[comm]") {
    const LinkModel nvlink{LinkKind::nvlink, 370e9};
    CHECK(collective_time(Collective::all_reduce, 1e9, 1, nvlink).seconds == 0);
    CHECK(collective_time(Collective::all_gather, 0, 8, nvlink).seconds == 0);
    CHECK_THROWS_AS(collective_time(Collective::all_reduce, 1e9, 0, nvlink), InputError);
    CHECK_THROWS_AS(collective_time(Collective::all_reduce, -1, 8, nvlink), InputError);
    CHECK_THROWS_AS(collective_time(Collective::all_reduce, 1e6, 8, LinkModel{LinkKind::nvlink, 0}), InputError);
}
