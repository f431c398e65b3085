// torch_alloc.cpp — the caching allocator's block rules; their sources are listed in torch_alloc.h.
#include "planner/torch_alloc.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>

namespace llmplan::torchsim {

namespace {

constexpr double kMinBlockSize = 512;
constexpr double kSmallSize = 1048576;        // 1 MiB
constexpr double kSmallBuffer = 2097152;      // 2 MiB
constexpr double kLargeBuffer = 20971520;     // 20 MiB
constexpr double kMinLargeAlloc = 10485760;   // 10 MiB
constexpr double kRoundLarge = 2097152;       // 2 MiB

double round_up(double x, double unit) { return std::ceil(x / unit) * unit; }

double segment_size(double size) {
    if (size <= kSmallSize) return kSmallBuffer;
    if (size < kMinLargeAlloc) return kLargeBuffer;
    return round_up(size, kRoundLarge);
}

bool should_split(bool small, double remaining) { return small ? remaining >= kMinBlockSize : remaining > kSmallSize; }

}  // namespace

void CachingAllocator::grow_expandable(bool small, double size) {
    const double page = small ? kSmallBuffer : kLargeBuffer;
    auto it = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) { return s.small == small; });
    if (it == segments_.end()) {
        segments_.push_back(Segment{small, 0, {}});
        it = segments_.end() - 1;
        ++device_allocs_;
    }
    const int index = static_cast<int>(it - segments_.begin());
    Segment& seg = *it;
    const bool tail_free = !seg.blocks.empty() && seg.blocks.rbegin()->second.owner < 0;
    const double have = tail_free ? seg.blocks.rbegin()->second.size : 0;
    const double grow = round_up(size - have, page);
    if (tail_free) {
        auto& [offset, blk] = *seg.blocks.rbegin();
        free_set(small).erase(free_key(blk.size, index, offset));
        blk.size += grow;
        free_set(small).insert(free_key(blk.size, index, offset));
    } else {
        seg.blocks[seg.size] = Block{grow, -1};
        free_set(small).insert(free_key(grow, index, seg.size));
    }
    seg.size += grow;
    reserved_ += grow;
    peak_reserved_ = std::max(peak_reserved_, reserved_);
}

void CachingAllocator::allocate(std::int64_t id, double bytes) {
    const double size = std::max(kMinBlockSize, round_up(bytes, kMinBlockSize));
    const bool small = size <= kSmallSize;
    std::set<FreeKey>& pool = free_set(small);
    // Best fit: the smallest block, then the lowest address (the newest segment: free_key).
    auto fit = pool.lower_bound({size, std::numeric_limits<int>::min(), -1.0});
    if (fit == pool.end()) {
        if (expandable_) {
            grow_expandable(small, size);
        } else {
            const double seg = segment_size(size);
            segments_.push_back(Segment{small, seg, {{0.0, Block{seg, -1}}}});
            pool.insert(free_key(seg, static_cast<int>(segments_.size()) - 1, 0.0));
            reserved_ += seg;
            peak_reserved_ = std::max(peak_reserved_, reserved_);
            ++device_allocs_;
        }
        fit = pool.lower_bound({size, std::numeric_limits<int>::min(), -1.0});
    }
    const auto [block_size, rank, offset] = *fit;
    const int index = -rank;
    pool.erase(fit);
    Segment& seg = segments_[static_cast<std::size_t>(index)];
    Block& blk = seg.blocks.at(offset);
    const double remaining = block_size - size;
    if (should_split(small, remaining)) {
        blk.size = size;
        seg.blocks[offset + size] = Block{remaining, -1};
        pool.insert(free_key(remaining, index, offset + size));
    }
    seg.blocks.at(offset).owner = id;
    allocated_ += seg.blocks.at(offset).size;
    where_[id] = {index, offset};
}

void CachingAllocator::release(std::int64_t id) {
    const auto it = where_.find(id);
    if (it == where_.end()) return;
    const auto [index, at] = it->second;
    where_.erase(it);
    Segment& seg = segments_[static_cast<std::size_t>(index)];
    std::set<FreeKey>& pool = free_set(seg.small);
    auto blk = seg.blocks.find(at);
    allocated_ -= blk->second.size;
    blk->second.owner = -1;
    // Merge with the free neighbours (the allocator keeps prev/next pointers within a segment).
    const auto next = std::next(blk);
    if (next != seg.blocks.end() && next->second.owner < 0) {
        pool.erase(free_key(next->second.size, index, next->first));
        blk->second.size += next->second.size;
        seg.blocks.erase(next);
    }
    if (blk != seg.blocks.begin()) {
        const auto prev = std::prev(blk);
        if (prev->second.owner < 0) {
            pool.erase(free_key(prev->second.size, index, prev->first));
            prev->second.size += blk->second.size;
            seg.blocks.erase(blk);
            blk = prev;
        }
    }
    pool.insert(free_key(blk->second.size, index, blk->first));
}

}  // namespace llmplan::torchsim
