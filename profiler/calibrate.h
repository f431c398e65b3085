// calibrate.h — `llmplan profile calibrate`: measures, on this machine's GPU, every kernel the
// training engine runs for a model (planner/engine_time.h lists them per precision, micro-batch
// and attention form), the launch floor and the copy bandwidth, and writes them as a calibration
// file (schema "llmplan.calibration/1") that `plan --calibration FILE --framework llmplan` and
// `profile --calibration FILE` use for the engine's step time.
//
// Plain C++ (no CUDA type): the kernels are timed by the GPU backend module (backend/backend.h);
// without it, a driver or a GPU it refuses (profiler::cuda_device_available says why).
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "planner/engine_time.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace llmplan::backend {
class GpuBackend;
}

namespace llmplan::profiler {

struct CalibrateRequest {
    ModelSpec model;
    std::vector<Precision> precisions = {Precision::mixed_bf16};
    std::vector<int> micro_batches = {1, 2, 4, 8};
    int seq = 1024;
    std::vector<Attention> attentions = {Attention::flash, Attention::eager};
};

// The distinct kernel shapes a request covers (the union of engine_step_kernels over its
// precisions, micro-batches and attention forms; recompute modes add no new shapes).
std::vector<EngineKernelCall> calibration_shapes(const CalibrateRequest& request);

// The size of the device-to-device copy whose bandwidth a calibration measures (1 GiB).
inline constexpr double kCalibrationCopyBytes = 1073741824.0;

struct CalibrationRun {
    std::string gpu;                       // device name
    double launch_seconds = 0;
    double copy_bandwidth = 0;             // bytes/s, read + write
    std::vector<EngineKernelTiming> kernels;
    std::vector<std::string> skipped;      // shapes that failed (e.g. out of memory), with the reason
    double seconds = 0;                    // wall time of the calibration
};

// The GPU backend that times the kernels; InputError in one line when none can be used (no module,
// no driver, no GPU: profiler::cuda_device_available's reason).
backend::GpuBackend& calibration_gpu();

// Times every shape; progress(done, total, shape description) after each. Throws InputError when
// no GPU can be used (calibration_gpu).
CalibrationRun run_calibration(const CalibrateRequest& request,
                               const std::function<void(int, int, const std::string&)>& progress);

// The best matmul (linear_*) and attention FLOP rates among `timings`, per storage type.
struct BestRates {
    double matmul_flops = 0, attention_flops = 0;
};
std::map<std::string, BestRates> best_rates(const std::vector<EngineKernelTiming>& timings);

// The calibration file: a new one, or `existing` (the text of the file being replaced, may be
// empty) with its engine kernel times for this GPU replaced shape by shape and its other keys
// (e.g. "collectives", "gemm_efficiency") kept. Throws InputError naming `what` when `existing`
// is not a calibration file or was measured on another GPU.
std::string calibration_json(const CalibrationRun& run, const CalibrateRequest& request, const std::string& existing,
                             const std::string& what);

// The run's measured rates as a kernel table (core/kernel_table.h, schema "llmplan.kernel-tables/1")
// for `plan --kernel-table FILE`, which reads it over the GPU's built-in table (its rows replace the
// built-in rows of the same format and op) or alone on a GPU without one: every linear_forward timing without the
// GELU epilogue as a GEMM row — m = T tokens, n outputs, k inputs, 2·m·n·k FLOPs over the measured
// time, in the storage type's format (bf16, fp16; the engine's fp32 GEMMs are strict fp32, "fp32",
// not TF32) — and the device copy as a "copy" row at kCalibrationCopyBytes. The engine's backward
// kernels run two GEMMs in one timing and its attention is neither FlashAttention nor cuDNN's, so
// they give no rows (the planner looks backward GEMM shapes up among the forward rows). Throws
// InputError naming `what` when the run timed no GEMM.
std::string kernel_table_json(const CalibrationRun& run, const std::string& what);

}  // namespace llmplan::profiler
