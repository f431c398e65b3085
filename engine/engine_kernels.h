// engine_kernels.h — the kernels of llmplan's training engine, the one definition that the step
// program (engine/program.h), the planner's time model (planner/engine_time.h), the calibration
// (profiler/calibrate.cpp) and the CUDA engine's timing (kernels/op_timing.h) name them by.
// Plain C++20, header and engine_kernels.cpp. docs/PERFORMANCE_MODEL.md §7.
#pragma once

#include <optional>
#include <string_view>

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
// The number of dimensions a kernel's call has (the list above).
int engine_kernel_dims(EngineKernel k);

}  // namespace llmplan
