// torch_alloc.h — a model of PyTorch's CUDA caching allocator (c10/cuda/CUDACachingAllocator.cpp,
// constants in c10/core/AllocatorConfig.h), replayed over a training step's allocations and frees
// to predict torch.cuda.max_memory_reserved().
//
// The rules modelled (docs/MEMORY_MODEL.md §7.1, "Reserved memory"):
//  * a request is rounded up to a multiple of 512 B (kMinBlockSize);
//  * requests of at most 1 MiB (kSmallSize) use the small pool, larger ones the large pool;
//  * a request takes the smallest cached free block of its pool that is large enough (the block
//    set is ordered by size, then address: best fit, lowest address first; the newest segment
//    has the lowest address, as cudaMalloc placed them in the measured histories);
//  * a block larger than the request is split when the rest is at least 512 B (small pool) or
//    more than 1 MiB (large pool); otherwise the request holds the whole block;
//  * with no fitting block a new segment is reserved (cudaMalloc): 2 MiB (kSmallBuffer) for small
//    requests, 20 MiB (kLargeBuffer) for requests under 10 MiB (kMinLargeAlloc), else the request
//    rounded up to 2 MiB (kRoundLarge);
//  * a freed block merges with free neighbours of its segment; segments are never returned
//    (no empty_cache, no out-of-memory retry: the run fits);
//  * expandable_segments:True (PYTORCH_CUDA_ALLOC_CONF): one segment per pool that grows at its
//    end in pages of 2 MiB (small pool) or 20 MiB (large pool); a request that fits nowhere
//    extends the segment's free tail block (or appends pages) by what is missing.
// Not modelled: several streams (blocks recorded on NCCL's stream), max_split_size_mb,
// roundup_power2_divisions, garbage_collection_threshold.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

namespace llmplan::torchsim {

class CachingAllocator {
public:
    explicit CachingAllocator(bool expandable_segments = false) : expandable_(expandable_segments) {}
    // Allocates `bytes` for tensor `id` (unique among live tensors).
    void allocate(std::int64_t id, double bytes);
    // Frees tensor `id`'s block; an id not allocated is ignored.
    void release(std::int64_t id);

    double reserved() const { return reserved_; }
    double peak_reserved() const { return peak_reserved_; }
    double allocated() const { return allocated_; }
    int device_allocations() const { return device_allocs_; }  // memory_stats num_device_alloc

private:
    struct Block {
        double size = 0;
        std::int64_t owner = -1;  // -1: free
    };
    struct Segment {
        bool small = false;
        double size = 0;
        std::map<double, Block> blocks;  // by offset, covering [0, size)
    };
    // Free blocks of each pool ordered as the allocator's block set: size, then address. A
    // segment's device address is cudaMalloc's choice; the driver placed each new segment below
    // the earlier ones in the measured allocator histories (docs/MEMORY_MODEL.md §7.1), so the
    // address order is the newest segment first: the key is (size, −segment index, offset).
    using FreeKey = std::tuple<double, int, double>;
    static FreeKey free_key(double size, int index, double offset) { return {size, -index, offset}; }
    std::set<FreeKey>& free_set(bool small) { return small ? free_small_ : free_large_; }
    void grow_expandable(bool small, double size);

    bool expandable_;
    std::vector<Segment> segments_;
    std::set<FreeKey> free_small_, free_large_;
    std::unordered_map<std::int64_t, std::pair<int, double>> where_;  // live tensor -> segment, offset
    double reserved_ = 0, peak_reserved_ = 0, allocated_ = 0;
    int device_allocs_ = 0;
};

}  // namespace llmplan::torchsim
