// engine_time.h — the step time of llmplan's own training engine (`--framework llmplan`), kernel
// by kernel, from a calibration measured on the GPU (`llmplan profile calibrate`).
//
// The engine (kernels/cuda/engine.cu) runs one CUDA stream, one kernel after another, with no
// overlap between kernels: its step time is the sum of its kernels' times. engine_step_kernels()
// lists every kernel call of one training step (the program of engine/program.h) in the engine's
// order, grouped by identical
// shape (kernel, storage type, dimensions) with a call count and the phase it is timed in:
//   forward    zero_grad, embeddings, the L layers, final norm, output projection and the fused
//              cross-entropy (whose backward runs in the same kernel);
//   backward   output projection and final norm backward, per layer (in reverse) what the
//              recompute mode re-runs (full: the layer's forward up to the MLP activation;
//              selective: the attention core) and the layer's backward, embedding backward;
//   optimizer  the global gradient norm and one fused AdamW launch per parameter tensor.
// Each call carries its analytic work (matmul/attention FLOPs, ideal HBM bytes; formulas beside
// the code in engine_time.cpp) so that times measured at one size carry over to another.
//
// A calibration (schema "llmplan.calibration/1", key "engine_kernels", docs/PERFORMANCE_MODEL.md
// §8) is a list of measured kernel times: {kernel, dtype, dims, seconds}. Each call is timed by,
// in order of preference:
//   measured      the same kernel, storage type and dimensions were measured;
//   interpolated  the same kernel and storage type in the same class — the same dimensions but
//                 the size ones (dims[0]; B and S for attention and rotary, whose heads and head
//                 size fix the kernel's tiling): a kernel's time is flat while it does not fill
//                 the GPU and proportional to its work once it does, so between two measurements
//                 x1 < x < x2 it is max(t1, t2·x/x2) (x: dims[0], or the work for attention and
//                 rotary); proportional to the nearest beyond them; never below the launch floor;
//   scaled        the same kernel and storage type at other shapes: the same rule on the work
//                 (FLOPs for matmuls and attention, bytes otherwise) with the nearest measured
//                 works below and above;
//   roofline      nothing measured: FLOPs ÷ (peak × the GEMM efficiency of perf.h) + bytes ÷
//                 (80% of the datasheet HBM bandwidth) + a 4 µs launch — the uncalibrated guess.
// The report counts how many calls each way was used, so a prediction says how much of it rests
// on measurements.
#pragma once

#include "core/config.h"
#include "core/gpu.h"
#include "core/model.h"
#include "core/vocab.h"
#include "engine/engine_kernels.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// The engine's kernels and their dims: engine/engine_kernels.h.

struct EngineKernelCall {
    EngineKernel kernel = EngineKernel::linear_forward;
    DType dtype = DType::bf16;         // storage type
    std::vector<std::int64_t> dims;    // see EngineKernel
    MemoryPhase phase = MemoryPhase::forward;
    double calls = 0;                  // per step
    double flops = 0;                  // one call: matmul / attention FLOPs (0 for memory-bound kernels)
    double bytes = 0;                  // one call: ideal HBM traffic (each operand read or written once)
};

// Fills call.flops and call.bytes from its kernel, dtype and dims (formulas in engine_time.cpp).
void fill_engine_kernel_work(EngineKernelCall& call);

// The engine's storage type for a precision (fp32, mixed-bf16, mixed-fp16); InputError for others.
DType engine_dtype(Precision p);

// Every kernel call of one training step (one micro-batch): the kernel events of the step's
// program (engine/program.h), grouped; InputError for what the engine does not run
// (engine_supports) and for more than one GPU.
std::vector<EngineKernelCall> engine_step_kernels(const ModelSpec& m, const TrainConfig& c);

// One measured kernel time.
struct EngineKernelTiming {
    EngineKernel kernel = EngineKernel::linear_forward;
    DType dtype = DType::bf16;
    std::vector<std::int64_t> dims;
    double seconds = 0;  // one call, median of repeated back-to-back launches
};

struct EngineCalibration {
    std::string gpu;                         // the device it was measured on
    double launch_seconds = 0;               // back-to-back launches of a tiny kernel (0: unknown)
    std::vector<EngineKernelTiming> kernels;
};

enum class KernelTimeSource { measured, interpolated, scaled, roofline };
const char* to_string(KernelTimeSource s);

// One call's time and how it was obtained.
double engine_kernel_seconds(const EngineKernelCall& call, const EngineCalibration* cal, const GpuSpec& gpu,
                             KernelTimeSource* source = nullptr);

struct EngineKernelTime {
    EngineKernel kernel;
    double seconds = 0;  // all calls of this kernel in the step
    double calls = 0;
    double flops = 0, bytes = 0;  // all calls' work: the floors are flops ÷ peak and bytes ÷ bandwidth
};

struct EngineStepTime {
    double forward_seconds = 0, backward_seconds = 0, optimizer_seconds = 0, step_seconds = 0;
    double matmul_seconds = 0;     // linear_* calls
    double attention_seconds = 0;  // attention_* calls
    std::array<double, 4> calls_by_source{};  // KernelTimeSource order
    std::vector<EngineKernelTime> by_kernel;  // kernels with calls, slowest first
    bool calibrated = false;
    std::string calibration_gpu;
};

EngineStepTime engine_step_time(const ModelSpec& m, const TrainConfig& c, const GpuSpec& gpu,
                                const EngineCalibration* cal);

// Reads the "engine_kernels" and "launch_seconds" keys of a calibration JSON (absent: an empty
// calibration). Throws InputError naming `what` for malformed entries.
EngineCalibration parse_engine_calibration(const std::string& json_text, const std::string& what);

}  // namespace llmplan
