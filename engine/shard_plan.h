// shard_plan.h — who holds what, and what crosses the links, when the engine trains on n GPUs
// with data parallelism (DDP) or ZeRO stages 1–3. Plain C++20 (no CUDA, no NCCL): always built
// (target llmplan_dist), unit-tested in CI (tests/test_shard_plan.cpp); the CUDA engine follows
// it (docs/MULTI_GPU.md). All sizes are in elements of the flat buffer unless named *_bytes.
//
// Input: the engine's flat parameter layout (kernels/engine.h EngineParam,
// reference/model.h ParamInfo: a list of {name, offset, size}, contiguous, in layout
// order: embeddings, layers.0.* … layers.L−1.*, final norm, head), the world size n, the storage
// element size and the ZeRO stage.
//
// Units. Everything communicated is a *unit*: a contiguous range of whole parameters of the flat
// buffer, padded at its end to a multiple of n × align elements (align = 128 bytes / element size)
// and split into n equal slices; rank r owns slice r of every unit (sharded stages). This is
// PyTorch FSDP's FlatParameter scheme (one flat buffer per unit, padded so that it divides by the
// world size; torch/distributed/fsdp/_flat_param.py) and what NCCL's reduce-scatter and
// all-gather need: every rank passes the same count (NCCL docs, ncclReduceScatter /
// ncclAllGather: recvcount / sendcount equal on all ranks). The 128-byte slice boundaries keep
// every rank's slice on cache-line boundaries for the optimizer's vector loads.
//  * DDP (stage 0) and ZeRO-1/2: the units are the gradient *buckets*, formed in the order the
//    backward produces gradients (reverse layout order) as PyTorch DDP does
//    (torch.nn.parallel.DistributedDataParallel: bucket_cap_mb = 25, and a first bucket of
//    1 MiB, torch.distributed._DEFAULT_FIRST_BUCKET_BYTES, so the first all-reduce starts early).
//    One difference, documented: PyTorch closes a bucket once it *reaches* the cap (so it may
//    pass it by one tensor); here a bucket is closed *before* it would pass the cap, so every
//    bucket is ≤ its cap unless it holds one parameter larger than the cap. DDP's buckets are not
//    padded (all-reduce takes any count).
//  * ZeRO-3: the units are the layers (FSDP's per-transformer-block wrapping): "pre" (the
//    embeddings), layers.0 … layers.L−1, "post" (final norm and, untied, the head).
//
// Per step, with m micro-batches (ZeRO paper, Rajbhandari et al. 2020, §5 and §7):
//  * DDP: one all-reduce per bucket, in the last micro-batch's backward (PyTorch's no_sync() on
//    the others); S = the bucket's bytes. Σ S = Ψ·b.
//  * ZeRO-1: the gradients stay whole on every rank (accumulated locally over micro-batches);
//    one reduce-scatter per bucket in the last micro-batch's backward; the optimizer updates the
//    rank's slices; one all-gather per bucket after it. Σ S = padded Ψ·b each.
//  * ZeRO-2: each rank keeps only its gradient slices: a reduce-scatter per bucket in *every*
//    micro-batch's backward as the bucket completes (DeepSpeed stage 2 reduces every
//    micro-batch: the full gradient is not kept), the same all-gather after the optimizer.
//  * ZeRO-3: each rank keeps only its parameter slices; per micro-batch an all-gather of every
//    unit before its forward and again before its backward (prefetched one step ahead), and a
//    reduce-scatter of every unit's gradients after its backward. Tied embeddings: the pre unit
//    is also read by the head, so it stays gathered from its first to its last use in a pass
//    (one gather per pass, as FSDP keeps shared parameters in one unit).
// Bytes follow nccl-tests' S convention (doc/PERFORMANCE.md, planner/comm.h): the all-reduce's
// buffer, the all-gather's output, the reduce-scatter's input; bytes through one GPU's links =
// S × busbw factor (2(n−1)/n all-reduce, (n−1)/n all-gather and reduce-scatter).
//
// Planner agreement (tests/test_shard_plan.cpp): unpadded volumes equal planner/perf.cpp's
// CollectiveUse bytes × count exactly (DDP all-reduce P·b; ZeRO-1/2 reduce-scatter P·b and
// all-gather P·b; ZeRO-3 reduce-scatter P·b × m); padded volumes exceed them by the padding
// exactly (the planner's ZeRO-3 all-gather already pads Ψ to a multiple of n: ⌈Ψ/n⌉·n·b). The
// planner counts ZeRO-2's reduce-scatter once per step; this plan, as DeepSpeed, m times.
#pragma once

#include "core/model.h"
#include "dist/collective.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llmplan::dist {

inline constexpr std::size_t kMiB = std::size_t{1} << 20;
// PyTorch DDP defaults: bucket_cap_mb = 25 and _DEFAULT_FIRST_BUCKET_BYTES = 1 MiB.
inline constexpr std::size_t kDefaultBucketCapBytes = 25 * kMiB;
inline constexpr std::size_t kDefaultFirstBucketBytes = 1 * kMiB;
inline constexpr std::size_t kDefaultAlignBytes = 128;

// One parameter tensor: [offset, offset + size) of the flat buffer, in elements.
struct FlatParam {
    std::string name;
    std::size_t offset = 0, size = 0;
};

struct FlatLayout {
    std::vector<FlatParam> params;  // contiguous from 0, in layout order
    // The parameter the output layer also reads with tied embeddings ("" if untied).
    std::string tied_head;
    std::size_t total() const { return params.empty() ? 0 : params.back().offset + params.back().size; }
};

// The engine's layout for a model (engine/program.h engine_param_layout: embeddings, layer 0 …
// L−1 in param_tensors() order with the layer index for "*", final norm, head), the tied
// embedding named when tied. No shape checks (plain bookkeeping).
FlatLayout engine_flat_layout(const ModelSpec& spec);

struct ShardOptions {
    int world = 1;                  // data-parallel ranks n ≥ 1
    int zero = 0;                   // 0 = DDP, 1, 2, 3
    std::size_t element_bytes = 4;  // storage element: 4 fp32, 2 bf16 / fp16 (weights and gradients alike)
    std::size_t align_bytes = kDefaultAlignBytes;  // slice alignment; a multiple of element_bytes
    std::size_t bucket_cap_bytes = kDefaultBucketCapBytes;
    std::size_t first_bucket_bytes = kDefaultFirstBucketBytes;  // 0: the first bucket uses the cap too
    int micro_batches = 1;          // gradient accumulation m ≥ 1
};

struct Range {
    std::size_t begin = 0, end = 0;
    std::size_t size() const { return end > begin ? end - begin : 0; }
    bool empty() const { return end <= begin; }
    bool operator==(const Range&) const = default;
};

// A unit: whole parameters [first_param, last_param) = flat range `flat`, communicated together.
struct Unit {
    int index = 0;
    std::string name;               // "bucket 0", "pre", "layers.3", "post"
    Range flat;                     // in the compact flat buffer
    std::size_t first_param = 0, last_param = 0;
    std::size_t padded = 0;         // flat.size() rounded up to n × align (DDP buckets: unpadded)
    std::size_t shard = 0;          // padded / n: every rank's slice (0 for DDP)
    std::size_t shard_offset = 0;   // where this unit's slice starts in each rank's shard buffer
    int ready_after_step = 0;       // buckets: complete once the backward of this compute step ran
    // The real (unpadded) elements rank r owns: [flat.begin + r·shard, flat.begin + (r+1)·shard) ∩ flat.
    Range owned(int rank) const;
    std::size_t padding() const { return padded - flat.size(); }
};

// A part of a parameter one rank holds (sharded stages; DDP: every rank the whole tensor).
struct ParamPiece {
    int rank = 0;
    std::size_t param_begin = 0;   // first element within the parameter
    std::size_t count = 0;
    std::size_t flat_begin = 0;    // = param.offset + param_begin
    std::size_t shard_offset = 0;  // where it lives in that rank's shard buffer (DDP: = flat_begin)
};
struct ParamOwnership {
    std::size_t param = 0;  // index into the layout
    int unit = 0;           // the unit (bucket or layer) it belongs to
    int step = 0;           // its compute step (0 pre, 1 … L layers, L+1 post)
    std::vector<ParamPiece> pieces;  // by rank, then by position
};

// CommKind, to_string(CommKind) and busbw_factor: dist/collective.h (over core/vocab.h's Collective).

// One collective call of a step. bytes: nccl-tests' S of what NCCL moves (padded units);
// unpadded_bytes: the same without the padding (the parameters' own bytes).
struct CommCall {
    CommKind kind = CommKind::all_reduce;
    std::string phase;       // "backward", "after optimizer", "forward"
    int unit = 0;
    std::uint64_t bytes = 0, unpadded_bytes = 0;
    std::size_t count = 0;   // elements per rank as NCCL takes it (all-reduce: the buffer; reduce-scatter:
                             // the receive count; all-gather: the send count)
    int per_step = 1;        // 1, or m (every micro-batch)
};

// The calls of one kind and purpose, summed over a step.
struct CommVolume {
    CommKind kind = CommKind::all_reduce;
    std::string purpose;             // "gradient all-reduce", "parameter all-gather, forward", ...
    std::uint64_t calls_per_step = 0;
    std::uint64_t bytes_per_step = 0;           // Σ S × calls (padded)
    std::uint64_t unpadded_bytes_per_step = 0;  // Σ of the parameters' own bytes
    std::uint64_t padding_bytes_per_step() const { return bytes_per_step - unpadded_bytes_per_step; }
    double link_bytes_per_step = 0;             // through one GPU's links: bytes × busbw factor
};

// ZeRO-3: one pass (forward or backward) as a list of compute steps and the gathers around them.
struct GatherEvent {
    int unit = 0;
    int issue_at = 0;    // position in the pass when the all-gather is issued (prefetch: one step early)
    int first_use = 0;   // position of the first step that reads the unit
    int last_use = 0;    // the unit's gathered copy is freed after this position
};
struct ReduceEvent {
    int unit = 0;
    int after = 0;       // position after which the unit's gradients are complete and reduce-scattered
};
struct PassSchedule {
    std::vector<int> steps;               // compute steps in pass order (forward 0 … L+1, backward L+1 … 0)
    std::vector<GatherEvent> gathers;     // in issue order
    std::vector<ReduceEvent> reduces;     // backward only, in order
    std::size_t max_gathered = 0;         // the most padded elements gathered at once (prefetch included)
};

struct ShardPlan {
    ShardOptions options;
    std::size_t align_elements = 1;        // align_bytes / element_bytes
    int layers = 0;                        // L (from the names layers.N.*)
    std::vector<FlatParam> params;
    std::vector<int> param_step;           // 0 pre, 1 … L, L+1 post
    std::string tied_head;
    std::size_t total = 0;                 // Ψ: real elements
    std::size_t padded_total = 0;          // Σ padded over the sharded units (DDP: = total)
    std::size_t shard_elements = 0;        // one rank's shard buffer: padded_total / n (DDP: 0)
    std::vector<Unit> units;               // buckets (stages 0–2, backward order) or layer units (stage 3, layout order)
    std::vector<ParamOwnership> ownership; // one per parameter, in layout order
    PassSchedule forward, backward;        // ZeRO-3 only
    std::vector<CommCall> calls;           // one step's collectives, in issue order (per micro-batch ones once)
    std::vector<CommVolume> volumes;       // by purpose, in the order they first run
    // Elements one rank keeps between steps (weights, gradients, optimizer-state copies: each of
    // the fp32 master, m and v holds this many): the sharded stages' padded slices.
    std::size_t param_elements_per_rank = 0, grad_elements_per_rank = 0, optimizer_elements_per_rank = 0;

    const CommVolume* volume(const std::string& purpose) const;  // nullptr if none
    std::uint64_t bytes_per_step(CommKind k) const;               // Σ over purposes (padded)
    std::uint64_t unpadded_bytes_per_step(CommKind k) const;
    double link_bytes_per_step() const;                           // Σ over everything
};

// Throws InputError for a bad layout (not contiguous from 0, empty, zero-size parameters) or
// options (world < 1, zero not 0–3, element_bytes 0, align not a multiple of it, cap 0, m < 1).
ShardPlan plan_shards(const FlatLayout& layout, const ShardOptions& options);

// Compute steps of a layout: 0 for parameters before layers.0, N + 1 for layers.N.*, L + 1 after.
std::vector<int> compute_steps(const std::vector<FlatParam>& params, int* layers = nullptr);

}  // namespace llmplan::dist
