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

#include <string>
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
    // Quantized-linear recipes (fp8, nvfp4): only the transformer layers' linear matmuls run in
    // `matmul`; the attention core and the output layer stay in 16 bits, and every operand of those
    // linears is cast (quantized) before its GEMM. cast_bytes: HBM bytes one cast moves per element
    // of the 16-bit tensor (docs/PERFORMANCE_MODEL.md §2, "FP8 and NVFP4 casts"); 0 for the others.
    bool quantized_linears = false;
    double cast_bytes = 0;
    // Block-scaled formats (MXFP8, NVFP4) need the block-scaled MMA of Blackwell and later (a GPU
    // with FP4 tensor cores); elsewhere they are planned at the matmul format's rate with a warning.
    bool block_scaled = false;
};

// The row of p (every Precision has one).
const PrecisionTraits& precision_traits(Precision p);

// The fraction of its own dense peak a GEMM with `format` inputs reaches on `gpu` relative to the
// fraction the GPU's GEMM efficiency gives (bf16 and fp8 alike), where no kernel table measures the
// format: 1, except FP4 (NVFP4). Transformer Engine's GEMM profiling tutorial measured NVFP4 GEMMs
// on a B300 1.90 × as fast as MXFP8 ones of the same shapes, against a 3 × higher peak there; FP4
// GEMMs are taken to run min(1.90, peak_fp4 ÷ peak_fp8) × as fast as FP8 ones, so the ratio is
// min(1, 1.90 ÷ (peak_fp4 ÷ peak_fp8)): 0.95 on a part whose FP4 is 2 × its FP8 (B200, GB200),
// 0.634 on the B300 (docs/PERFORMANCE_MODEL.md §2, "NVFP4 GEMMs").
double format_gemm_efficiency_ratio(const GpuSpec& gpu, NumberFormat format);

// The matmul input format p's matmuls run in on `gpu`: its own, or matmul_fallback where the GPU
// lacks it (nvfp4 on Hopper runs at FP8; the fallback's peak may be 0 too: precision_peak_flops).
NumberFormat matmul_format(const GpuSpec& gpu, Precision p);

// Dense peak FLOP/s of `gpu` for p's matmuls: matmul, or matmul_fallback where that is 0. Where
// both are 0 (fp8 on a V100: no fp8 and no bf16 tensor cores) p cannot run there: InputError naming
// `flag`, p, the GPU and the precisions it can run, e.g.
//   --precision fp8: the v100-32g (NVIDIA Tesla V100 SXM2 32GB) has no fp8 or bf16 matrix throughput
//   (docs/GPUS.md); choose one of fp32, amp-fp16, mixed-fp16
double precision_peak_flops(const GpuSpec& gpu, Precision p, std::string_view flag = "--precision");

// A warning where `gpu` lacks p's matmul format but has its fallback (bf16 on a V100: Volta's
// tensor cores take fp16 only), so p's matmuls are timed at the fallback's peak, which p itself does
// not reach there; "" where the GPU has the format (or has neither: precision_peak_flops refuses).
// The planner adds it to its plans' warnings (plan_memory, plan_inference); the CLI and the GUI show them.
// `flag` and `value` name the input (default: --precision and p's name).
std::string precision_fallback_warning(const GpuSpec& gpu, Precision p, std::string_view flag = "--precision",
                                       std::string_view value = {});

}  // namespace llmplan
