// engine_time.h — the step time of llmplan's own training engine (`--framework llmplan`), kernel
// by kernel, from a calibration measured on the GPU (`llmplan profile calibrate`).
//
// The engine (kernels/cuda/engine.cu) runs one CUDA stream, one kernel after another, with no
// overlap between kernels: its step time is the sum of its kernels' times. engine_step_kernels()
// lists every kernel call of one training step in the engine's order, grouped by identical
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

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// The engine's kernels (kernels/cuda/ops.cuh). dims, by kernel:
//   linear_forward, linear_backward       {T, k, n, bias (0/1), ld, gelu (0/1)}
//                                         y[T,n] = x[T,k]·W[n,k]ᵀ (+ b), y's row stride ld (n, or
//                                         the padded logits' stride for the output layer); gelu:
//                                         GPT-2's GELU in the GEMM's epilogue (forward: y = GELU(pre),
//                                         pre written too; backward: dx through GELU'); a
//                                         calibration file's 4-dim entries, from before ld and gelu
//                                         were dimensions, read as ld = n, gelu 0
//   layernorm_*, rmsnorm_*                {T, h}
//   gelu_*, swiglu_*, residual_add        {n}                      elements of one operand
//   rotary_forward, rotary_backward       {B, S, heads, head_dim}
//   attention_{eager,flash}_{forward,backward}  {B, S, heads, kv_heads, head_dim}
//   cross_entropy                         {T, V}                   forward and backward, fused
//   embedding_forward, embedding_backward {T, h, rows}
//   zero_grad                             {bytes}                  cudaMemsetAsync of the gradients
//   global_norm                           {n}
//   adamw                                 {n}                      one parameter tensor
//   check_nonfinite                       {n}                      fp16: inf/NaN in the scaled gradients
enum class EngineKernel {
    linear_forward, linear_backward,
    layernorm_forward, layernorm_backward, rmsnorm_forward, rmsnorm_backward,
    gelu_forward, gelu_backward, swiglu_forward, swiglu_backward,
    rotary_forward, rotary_backward, residual_add,
    attention_eager_forward, attention_eager_backward, attention_flash_forward, attention_flash_backward,
    cross_entropy, embedding_forward, embedding_backward,
    zero_grad, global_norm, adamw, check_nonfinite
};
inline constexpr int kEngineKernels = 24;
const char* to_string(EngineKernel k);
std::optional<EngineKernel> parse_engine_kernel(std::string_view name);

enum class EngineTimePhase { forward, backward, optimizer };
const char* to_string(EngineTimePhase p);

struct EngineKernelCall {
    EngineKernel kernel = EngineKernel::linear_forward;
    DType dtype = DType::bf16;         // storage type
    std::vector<std::int64_t> dims;    // see EngineKernel
    EngineTimePhase phase = EngineTimePhase::forward;
    double calls = 0;                  // per step
    double flops = 0;                  // one call: matmul / attention FLOPs (0 for memory-bound kernels)
    double bytes = 0;                  // one call: ideal HBM traffic (each operand read or written once)
};

// Fills call.flops and call.bytes from its kernel, dtype and dims (formulas in engine_time.cpp).
void fill_engine_kernel_work(EngineKernelCall& call);

// The engine's storage type for a precision (fp32, mixed-bf16, mixed-fp16); InputError for others.
DType engine_dtype(Precision p);

// Every kernel call of one training step (one micro-batch), grouped; InputError for what the
// engine does not run (planner/llmplan_profile.h's refusals).
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
