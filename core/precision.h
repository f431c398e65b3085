// precision.h — what each training precision (Precision, the --precision values: core/vocab.h) means for
// storage and for the matrix units, as one table (precision.cpp) the planner reads.
//
// Sources (docs/MEMORY_MODEL.md §1): ZeRO paper §3 (mixed precision: 2 + 2 bytes, fp32 master and
// states); PyTorch autocast (fp32 weights and grads, half activations); pure bf16 (2 + 2, bf16
// states); Transformer Engine fp8 (Micikevicius et al. 2022; TE docs: bf16 weights with an fp32
// master, fp8 linear inputs, fp8 weight copies + transposes). Peaks: docs/GPUS.md.
#pragma once

#include "core/config.h"
#include "core/gpu.h"

#include <string_view>

namespace llmplan {

// Storage sizes (bytes per element) a precision implies.
struct PrecisionBytes {
    double weight;        // working copy used by forward/backward
    double grad;          // gradient as produced by backward and reduced across ranks
    double master;        // separate fp32 master copy (mixed precision), 0 if none
    double state;         // one optimizer-state element (fp32, or bf16 under pure bf16)
    double activation;    // saved activations
    double linear_input;  // saved inputs of linear layers (fp8 under Transformer Engine's fp8)
    double fp8_weight_cache;  // fp8 copies of matmul weights (+ transpose) kept during the step
};

struct PrecisionTraits {
    Precision precision;
    PrecisionBytes bytes;
    const char* weight_format;    // the working weights' format, as explanations name it
    NumberFormat matmul;          // the matrix-unit input format whose dense peak the matmuls run at
    NumberFormat matmul_fallback; // the format used where the GPU lacks `matmul` (peak 0)
};

// The row of p (every Precision has one).
const PrecisionTraits& precision_traits(Precision p);

// Dense peak FLOP/s of `gpu` for p's matmuls: matmul, or matmul_fallback where that is 0. Where
// both are 0 (fp8 on a V100: no fp8 and no bf16 tensor cores) p cannot run there: InputError naming
// `flag`, p, the GPU and the precisions it can run, e.g.
//   --precision fp8: the v100-32g (NVIDIA Tesla V100 SXM2 32GB) has no fp8 or bf16 matrix throughput
//   (docs/GPUS.md); choose one of fp32, amp-fp16, mixed-fp16
double precision_peak_flops(const GpuSpec& gpu, Precision p, std::string_view flag = "--precision");

}  // namespace llmplan
