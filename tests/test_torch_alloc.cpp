// test_torch_alloc.cpp — the caching allocator model (planner/torch_alloc.h) on request sequences
// whose segments are worked out by hand from the rules of c10/cuda/CUDACachingAllocator.cpp.
#include "planner/torch_alloc.h"

#include <catch2/catch.hpp>

using llmplan::torchsim::CachingAllocator;

namespace {
constexpr double MiB = 1024.0 * 1024;
}

TEST_CASE("caching allocator: small requests share 2 MiB segments", "[pytorch][allocator]") {
    CachingAllocator a;
    a.allocate(1, 100);  // rounded to 512 B, a new 2 MiB segment
    CHECK(a.allocated() == 512);
    CHECK(a.reserved() == 2 * MiB);
    // 600 KiB (614,400 B) each: the segment holds three more, 2,097,152 − 512 − 3 × 614,400 =
    // 253,440 B are left, too little for a fourth, which takes a second segment.
    a.allocate(2, 614400);
    a.allocate(3, 614400);
    a.allocate(4, 614400);
    CHECK(a.reserved() == 2 * MiB);
    a.allocate(5, 614400);
    CHECK(a.reserved() == 4 * MiB);
    CHECK(a.device_allocations() == 2);
}

TEST_CASE("caching allocator: large segments, splitting and the 1 MiB rule", "[pytorch][allocator]") {
    CachingAllocator a;
    a.allocate(1, 5 * MiB);  // 1–10 MiB: a 20 MiB segment, split (15 MiB > 1 MiB left)
    a.allocate(2, 5 * MiB);  // the 15 MiB rest
    CHECK(a.reserved() == 20 * MiB);
    a.allocate(3, 12 * MiB);  // 10 MiB free < 12 MiB: a new segment of 12 MiB (≥ 10 MiB: rounded to 2 MiB)
    CHECK(a.reserved() == 32 * MiB);
    CachingAllocator b;
    b.allocate(1, 19.5 * MiB);  // a 20 MiB segment; 0.5 MiB left is not > 1 MiB: the whole block
    CHECK(b.allocated() == 20 * MiB);
    b.allocate(2, 1.5 * MiB);  // nothing free: another 20 MiB segment
    CHECK(b.reserved() == 40 * MiB);
}

TEST_CASE("caching allocator: freed neighbours merge, best fit reuses them", "[pytorch][allocator]") {
    CachingAllocator a;
    for (int i = 1; i <= 3; ++i) a.allocate(i, 4 * MiB);  // 3 × 4 MiB in one 20 MiB segment (8 MiB left)
    a.release(2);
    a.release(1);  // merges with 2: an 8 MiB block at the start
    a.allocate(4, 8 * MiB);  // best fit: two 8 MiB free blocks, the lower address first; no new segment
    CHECK(a.reserved() == 20 * MiB);
    CHECK(a.allocated() == 12 * MiB);
    a.release(99);  // never allocated: ignored
    CHECK(a.allocated() == 12 * MiB);
}

TEST_CASE("caching allocator: expandable segments grow a free tail instead of a new segment", "[pytorch][allocator]") {
    // Default: 100 MiB, 100 MiB, free the second, 150 MiB → a third segment: 350 MiB reserved.
    CachingAllocator fixed;
    fixed.allocate(1, 100 * MiB);
    fixed.allocate(2, 100 * MiB);
    fixed.release(2);
    fixed.allocate(3, 150 * MiB);
    CHECK(fixed.reserved() == 350 * MiB);
    CHECK(fixed.peak_reserved() == 350 * MiB);
    // expandable_segments: one segment of 20 MiB pages; the free 100 MiB tail grows by 60 MiB.
    CachingAllocator grow(true);
    grow.allocate(1, 100 * MiB);
    grow.allocate(2, 100 * MiB);
    grow.release(2);
    grow.allocate(3, 150 * MiB);
    CHECK(grow.reserved() == 260 * MiB);
    CHECK(grow.device_allocations() == 1);
}
