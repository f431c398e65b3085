// search.h — `llmplan search`: the best parallel layout for a model on a cluster.
//
// Enumerates tensor × context × pipeline × data parallel sizes, expert parallelism (MoE models),
// interleaving, sequence parallelism, ZeRO stage, recompute and micro-batch for a fixed GPU count and global batch;
// keeps the layouts whose most loaded GPU fits; ranks them by step time (equivalently cost, the
// GPU count being fixed) or by memory. Each layout is evaluated with the same models as
// `llmplan plan` (plan_memory_quick + plan_perf), so a search result and `plan` on it agree.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"
#include "planner/perf.h"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace llmplan {

struct SearchSpace {
    std::vector<int> zero{0, 1, 2, 3};
    std::vector<Recompute> recompute{Recompute::none, Recompute::selective, Recompute::full};
    std::vector<std::int64_t> micro_batches;  // empty: powers of two up to 64 that divide the batch
    std::vector<int> cp{1};                   // context-parallel sizes to try
    std::vector<int> virtual_stages{1, 2, 4};
    // Expert-parallel sizes to try for an MoE model (empty: every divisor of the expert count that
    // divides data × context parallel); dense models use 1.
    std::vector<int> ep;
    // Expert tensor-parallel sizes for an MoE model with tp > 1: 0 = tp (the experts split like
    // the dense layers, ep within dp × cp), 1 = whole on each rank (ep within tp × cp × dp, with
    // sequence parallelism; Megatron-Core's parallel folding). Default: tp only.
    std::vector<int> etp{0};
    int max_tp = 0;  // 0: GPUs per node (tensor parallelism stays inside a node)
    int max_pp = 0;  // 0: no limit
    // The share of the GPU's memory a layout must leave free (--headroom; the GUI: kHeadroomMargin,
    // planner/memory.h); 0: every layout that fits.
    double min_headroom = 0;
};

enum class SearchRank { time, memory };

struct SearchCandidate {
    TrainConfig config;  // resolved
    double device_total = 0, headroom = 0;
    double step_seconds = 0, tokens_per_second = 0, mfu = 0;
    double compute_seconds = 0, bubble_seconds = 0, comm_exposed_seconds = 0, optimizer_seconds = 0, moe_host_seconds = 0;
    double training_seconds = 0, cost = 0;
};

struct SearchResult {
    std::vector<SearchCandidate> top;  // best first
    std::size_t evaluated = 0;         // layouts planned (memory and, if they fit, time)
    std::size_t fitting = 0;
    std::size_t rejected = 0;          // combinations the model or config checks refuse
    double seconds = 0;                // wall time of the search
    std::vector<std::string> why;      // why the winner wins, sentence by sentence
};

// `base` supplies precision, optimizer, sequence, global batch, attention, dropout, framework
// and the GPU count (parallel.gpus, gpus_per_node). Throws InputError if no layout is possible.
// `progress` (optional) is called now and then with (layouts done, layouts to do).
SearchResult search_layouts(const ModelSpec& model, const GpuSpec& gpu, const TrainConfig& base,
                            const ClusterSpec& cluster, const PerfOptions& options, const SearchSpace& space,
                            SearchRank rank, std::size_t top_n,
                            const std::function<void(std::size_t, std::size_t)>& progress = {});

// The values of one layout flag (--tp, --pp, --cp, --ep or --virtual-stages; others: none) that the
// model and config checks (validate_config, the framework's) accept with the rest of `config` as
// given: at most n, those nearest the config's own value first, returned in increasing order.
// What an input error suggests ("--tp 3 does not divide …": 1, 2, 4, 8).
std::vector<int> valid_layout_values(const ModelSpec& model, const TrainConfig& config, const std::string& flag, std::size_t n);

}  // namespace llmplan
