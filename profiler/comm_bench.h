// comm_bench.h — `llmplan profile comm`: NCCL bus bandwidth of all-reduce, all-gather and
// reduce-scatter over message sizes, measured with one process per GPU (the launcher of
// dist/launcher.h starts them; each runs run_comm_rank), reported in the schema of
// llmplan.nccl_busbw/1 (docs/BENCHMARKS.md) and merged into a calibration file
// ("collectives", schema llmplan.calibration/1).
//
// Plain C++ (no CUDA or NCCL type): run_comm_rank measures through the GPU backend module
// (backend/backend.h: CUDA and NCCL); everything else — the report, the table, the calibration
// merge — is plain JSON work, unit-tested without a GPU (tests/test_profile_comm.cpp).
#pragma once

#include "dist/collective.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace llmplan::profiler {

inline constexpr const char* kBusbwSchema = "llmplan.nccl_busbw/1";
inline constexpr const char* kCalibrationSchema = "llmplan.calibration/1";

struct CommBenchOptions {
    std::vector<dist::CommKind> kinds{dist::CommKind::all_reduce, dist::CommKind::all_gather,
                                      dist::CommKind::reduce_scatter};
    std::uint64_t min_bytes = std::uint64_t{1} << 20;  // 1 MiB
    std::uint64_t max_bytes = std::uint64_t{2} << 30;  // 2 GiB
    int iters = 20, warmup = 5;
    std::string dtype = "float";  // nccl-tests' names: float, bfloat16, half
};

// "float"/"fp32"/"float32", "bfloat16"/"bf16", "half"/"fp16"/"float16" → nccl-tests' name; throws
// InputError naming `flag` otherwise.
std::string parse_comm_dtype(const std::string& text, const std::string& flag);
// "all_reduce,all_gather" (allreduce etc. too; "all" = the three) → kinds; throws InputError.
std::vector<dist::CommKind> parse_comm_kinds(const std::string& text, const std::string& flag);

// GPUs this process sees; 0 with the reason in `why` (no GPU backend module, no NCCL in it, no
// driver, no GPU).
int comm_visible_gpus(std::string* why);

// One rank's measurement (a child of the launcher): sets up the communicator through `id_file`
// (every NCCL wait bounded by `timeout_seconds`), measures, and returns the rank's result
// {"rank", "device" {index, name, pci_bus_id, total_memory_bytes}, "nccl_version_code",
// "cuda_runtime_version_code", "cuda_driver_version_code", "results" [{collective, bytes, count,
// time_us, errors}]}. `progress` gets one line per size. Throws on any failure (kernels::CommError
// names the rank and what it waited for).
// Under mpirun: `broadcast_id` shares the unique id (kernels/comm.h CommConfig::broadcast_id) instead
// of the file, and `device` is the GPU (the node-local rank; -1: the rank).
nlohmann::ordered_json run_comm_rank(int rank, int world, const std::string& id_file, const CommBenchOptions& options,
                                     double timeout_seconds, const std::function<void(const std::string&)>& progress,
                                     int device = -1, const std::function<void(void*, std::size_t)>& broadcast_id = {});

struct BusbwRunInfo {
    std::string command, date, host, launch;  // launch: how the ranks were started
    std::vector<std::pair<std::string, std::string>> nccl_env;  // NCCL_* variables of the run
};

// The llmplan.nccl_busbw/1 report from every rank's result (the order of `ranks` is free):
// time_us = the slowest rank's mean per iteration, min_gpu_time_us the fastest's, errors summed,
// algbw = S / time, busbw = algbw × factor (nccl-tests doc/PERFORMANCE.md). Throws
// std::runtime_error when the ranks disagree on the rows or a rank is missing.
nlohmann::ordered_json busbw_report(const std::vector<nlohmann::ordered_json>& ranks, const CommBenchOptions& options,
                                    const BusbwRunInfo& info);

// Wrong output elements over the whole report.
unsigned long long busbw_errors(const nlohmann::ordered_json& report);

// The human-readable table of a report (one row per collective and size).
std::string busbw_table(const nlohmann::ordered_json& report);

// A calibration file with its "collectives" key updated from a report: `existing` is the text of
// the file being replaced ("" for a new file: then "schema" and "gpu" are written too). Only
// "collectives" changes: its entries for the same collective, GPU count and dtype as the report's
// are replaced, the others kept. Throws InputError naming `what` when `existing` is not JSON, not a
// llmplan.calibration/1 file, or was measured on another GPU.
std::string merge_collectives(const std::string& existing, const nlohmann::ordered_json& report, const std::string& what);

}  // namespace llmplan::profiler
