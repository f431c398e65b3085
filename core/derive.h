// derive.h — a standard decoder shape for a bare parameter count (`--params 7B` without a model).
#pragma once

#include "core/model.h"

#include <cstdint>

namespace llmplan {

// The rule (docs/MEMORY_MODEL.md §0; printed with every plan that uses it):
//   family   Llama-2 style: RMSNorm, SwiGLU, rotary positions, no biases, untied head,
//            vocabulary 32,000, 4,096 positions, multi-head attention (kv heads = heads);
//   widths   head_dim 64 below d_model 2,048, else 128; d_model = heads × head_dim;
//            d_ff = 8·d/3 rounded up to a multiple of 256 (Llama's multiple_of);
//   choice   among all (d_model, layers) within 10% of the target count, minimise
//            |ln(N/target)| + 0.5·|ln((d/L)/128)| + 0.05·[heads % 8 ≠ 0] + 0.05·[L % 4 ≠ 0]:
//            close to the count, the width/depth ratio of Llama-2 7B/13B (128), and heads and
//            layers that tensor and pipeline parallelism can split.
// Layers 1..4096, d_model up to 65,536. 7B gives Llama-2-7B's shape (32 × 4096, 6.74B). Accepts 10M to 20T; throws InputError naming `flag`.
ModelSpec derive_shape(std::int64_t target_params, const char* flag = "--params");

}  // namespace llmplan
