// torch_alloc.cpp — the caching allocator's block rules; their sources are listed in torch_alloc.h.
#include "planner/torch_alloc.h"

#include <algorithm>
#include <cmath>

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

std::pair<int, int> CachingAllocator::best_fit(bool small, double size) const {
    std::pair<int, int> best{-1, -1};
    double best_size = 0;
    for (std::size_t s = 0; s < segments_.size(); ++s) {
        const Segment& seg = segments_[s];
        if (seg.small != small) continue;
        for (std::size_t b = 0; b < seg.blocks.size(); ++b) {
            const Block& blk = seg.blocks[b];
            if (blk.owner >= 0 || blk.size < size) continue;
            if (best.first < 0 || blk.size < best_size) {  // ties: the earlier (lower) address stays
                best = {static_cast<int>(s), static_cast<int>(b)};
                best_size = blk.size;
            }
        }
    }
    return best;
}

void CachingAllocator::grow_expandable(bool small, double size) {
    const double page = small ? kSmallBuffer : kLargeBuffer;
    auto it = std::find_if(segments_.begin(), segments_.end(), [&](const Segment& s) { return s.small == small; });
    if (it == segments_.end()) {
        segments_.push_back(Segment{small, 0, {}});
        it = segments_.end() - 1;
        ++device_allocs_;
    }
    Segment& seg = *it;
    const bool tail_free = !seg.blocks.empty() && seg.blocks.back().owner < 0;
    const double have = tail_free ? seg.blocks.back().size : 0;
    const double grow = round_up(size - have, page);
    if (tail_free)
        seg.blocks.back().size += grow;
    else
        seg.blocks.push_back(Block{seg.size, grow, -1});
    seg.size += grow;
    reserved_ += grow;
    peak_reserved_ = std::max(peak_reserved_, reserved_);
}

void CachingAllocator::allocate(std::int64_t id, double bytes) {
    const double size = std::max(kMinBlockSize, round_up(bytes, kMinBlockSize));
    const bool small = size <= kSmallSize;
    std::pair<int, int> at = best_fit(small, size);
    if (at.first < 0) {
        if (expandable_) {
            grow_expandable(small, size);
        } else {
            const double seg = segment_size(size);
            segments_.push_back(Segment{small, seg, {Block{0, seg, -1}}});
            reserved_ += seg;
            peak_reserved_ = std::max(peak_reserved_, reserved_);
            ++device_allocs_;
        }
        at = best_fit(small, size);
    }
    Segment& seg = segments_[static_cast<std::size_t>(at.first)];
    const std::size_t b = static_cast<std::size_t>(at.second);
    const double remaining = seg.blocks[b].size - size;
    if (should_split(small, remaining)) {
        const Block rest{seg.blocks[b].offset + size, remaining, -1};
        seg.blocks[b].size = size;
        seg.blocks.insert(seg.blocks.begin() + static_cast<std::ptrdiff_t>(b) + 1, rest);
    }
    seg.blocks[b].owner = id;
    allocated_ += seg.blocks[b].size;
    segment_of_[id] = at.first;
}

void CachingAllocator::release(std::int64_t id) {
    const auto it = segment_of_.find(id);
    if (it == segment_of_.end()) return;
    Segment& seg = segments_[static_cast<std::size_t>(it->second)];
    segment_of_.erase(it);
    auto blk = std::find_if(seg.blocks.begin(), seg.blocks.end(), [&](const Block& b) { return b.owner == id; });
    if (blk == seg.blocks.end()) return;
    allocated_ -= blk->size;
    blk->owner = -1;
    // Merge with the free neighbours (the block set keeps prev/next pointers within a segment).
    if (blk + 1 != seg.blocks.end() && (blk + 1)->owner < 0) {
        blk->size += (blk + 1)->size;
        blk = seg.blocks.erase(blk + 1) - 1;
    }
    if (blk != seg.blocks.begin() && (blk - 1)->owner < 0) {
        (blk - 1)->size += blk->size;
        seg.blocks.erase(blk);
    }
}

}  // namespace llmplan::torchsim
