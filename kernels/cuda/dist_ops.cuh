// dist_ops.cuh — the few device helpers the engine's data parallelism needs besides NCCL
// (kernels/cuda/engine.cu): a rank's partial sum of squares of its gradient slices and the
// exchange of that sum and of fp16's overflow flag between ranks. nvcc only.
//
// The exchange record of one rank is 16 bytes: the partial sum of squares as a double (bytes 0–7),
// the overflow flag as a float 0 or 1 (bytes 8–11) and 4 bytes of zeros. The ranks all-gather
// their records (a byte copy: NCCL does no arithmetic on an all-gather), and every rank then sums
// the n doubles in rank order — the same operations in the same order on every rank, so the global
// norm, and with it the clipping factor, is bit for bit the same everywhere; the flag is the
// maximum (any rank's overflow skips the step on every rank).
#pragma once

#include "kernels/cuda/ops.cuh"

#include <cstddef>
#include <vector>

namespace llmplan::kernels::cuda {

inline constexpr std::size_t kExchangeFloats = 4;  // one rank's record: 16 bytes

// record[0..1] (a double) = Σ over the buffers of x² (in double; two-stage, deterministic).
void exchange_sum_squares(Context& ctx, const std::vector<BufferRef>& buffers, float* record);
// record[2] = *flag != 0 ? 1 : 0 (flag nullable: 0), record[3] = 0.
void exchange_flag(Context& ctx, const int* flag, float* record);
// From the all-gathered records (world × 4 floats): *norm = √(Σ_r sum_r) / divide_by (nullable:
// skipped) and *overflow = 1 if any rank's flag is set, else 0 (nullable: skipped).
void exchange_finish(Context& ctx, const float* records, int world, double divide_by, float* norm, int* overflow);

}  // namespace llmplan::kernels::cuda
