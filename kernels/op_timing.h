// op_timing.h — times the training engine's kernels one shape at a time, for
// `llmplan profile calibrate` (profiler/calibrate.h) and the engine's step-time model
// (planner/engine_time.h, whose kernel names and dimension conventions these are).
//
// Plain C++ (no CUDA type or header); exists only with LLMPLAN_CUDA=ON (llmplan_kernels).
// Each call allocates the kernel's operands on the current GPU, fills them on the device with
// deterministic pseudo-random values of a realistic scale (activations ~U(−1, 1), weights
// ~U(−0.02, 0.02), valid token ids, positive norm statistics), runs the kernel exactly as
// kernels/cuda/engine.cu calls it (same device-pointer function of kernels/cuda/ops.cuh, same
// aliasing, gradients in the storage type), and frees everything before returning.
#pragma once

#include "kernels/ops_gpu.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace llmplan::kernels {

struct EngineKernelShape {
    std::string kernel;               // planner/engine_time.h's names, e.g. "linear_forward"
    DType dt = DType::bf16;           // storage type
    std::vector<std::int64_t> dims;   // planner/engine_time.h's dimensions for that kernel
};

struct KernelTimingOptions {
    int warmup = 3;              // untimed launches first
    int repeats = 5;             // timed batches; the median batch counts
    double batch_seconds = 5e-3; // each batch launches the kernel back to back for about this long
};

// Seconds per call: the median over `repeats` batches of back-to-back launches on one stream,
// each batch timed with CUDA events and divided by its launches (so a kernel shorter than its
// launch costs what a stream of launches sustains, as in the engine's step). Throws
// std::invalid_argument for an unknown kernel or wrong dimensions, std::runtime_error for CUDA
// failures (out of memory included).
double gpu_time_engine_kernel(const EngineKernelShape& shape, const KernelTimingOptions& options = {});

// Seconds per launch of a minimal kernel (a 256-element residual add) launched back to back: the
// floor under any kernel of the engine.
double gpu_launch_seconds(const KernelTimingOptions& options = {});

// Device-to-device copy bandwidth in bytes/s (bytes read + bytes written, as nvbandwidth and
// STREAM count them) for a copy of `bytes`.
double gpu_copy_bandwidth(std::size_t bytes, const KernelTimingOptions& options = {});

}  // namespace llmplan::kernels
