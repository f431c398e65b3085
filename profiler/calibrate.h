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

}  // namespace llmplan::profiler
