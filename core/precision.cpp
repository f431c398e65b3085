// precision.cpp — the precision table; what each column means and its sources: precision.h.
#include "core/precision.h"

#include "core/error.h"
#include "core/text.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmplan {

namespace {

using F = NumberFormat;

// Transformer Engine's GEMM profiling tutorial (TransformerEngine docs/examples/gemm_profiling/
// gemm_profiling.rst, commit d0067d0, 2026; docs/REFERENCES.md §12): the 12 GEMMs of one layer
// (hidden 4096, FFN 16384, 15,872 tokens; forward, dgrad and wgrad) on an NVIDIA B300, ms per layer,
// with the inputs quantized beforehand ("pre-quantized") and with TE's own quantization of every
// operand before each GEMM ("autocast"); bf16 took 13.102 ms pre-quantized.
constexpr double kTeB300Mxfp8Ms = 7.161, kTeB300Mxfp8AutocastMs = 8.984;
constexpr double kTeB300Nvfp4Ms = 3.764, kTeB300Nvfp4AutocastMs = 6.453;
// An FP8 cast reads the 16-bit tensor for its absolute maximum, reads it again to scale and cast,
// and writes one byte: 5 bytes per element (the dynamic per-tensor recipes, torchao "tensorwise" and
// TE current scaling; Micikevicius et al. 2022). Against the tutorial's MXFP8 quantization time
// (8.984 − 7.161 ms for 2.48e9 quantized elements) this gives 12.4 GB in 1.82 ms, 6.8 TB/s: 88% of
// the B300's 7.7 TB/s, a copy's streaming rate.
constexpr double kFp8CastBytes = 5;
// NVFP4's quantization (global amax, 16-element E4M3 block scales, stochastic rounding of
// gradients, the random Hadamard transform of the wgrad operands) costs (6.453 − 3.764) ÷ (8.984 −
// 7.161) = 1.475 × MXFP8's on the same tensors: 7.38 bytes per element at the same rate.
constexpr double kNvfp4CastBytes =
    kFp8CastBytes * (kTeB300Nvfp4AutocastMs - kTeB300Nvfp4Ms) / (kTeB300Mxfp8AutocastMs - kTeB300Mxfp8Ms);
// MXFP8 tensors: E4M3 values and one E8M0 scale byte per 32 (OCP Microscaling; TE docs, "MXFP8").
constexpr double kMxfp8Bytes = 1 + 1.0 / 32;
// NVFP4 tensors: 4-bit E2M1 values and one E4M3 scale byte per 16 values (TE docs, "NVFP4"); TE
// keeps a rowwise and a columnwise (transposed) copy of each quantized weight for the forward and
// the dgrad GEMMs.
constexpr double kNvfp4Bytes = 0.5 + 1.0 / 16;

// precision, {weight, grad, master, state, activation, linear_input, fp8_weight_cache}, weight format,
// matmul format, fallback, quantized linears, cast bytes.
constexpr std::array<PrecisionTraits, 9> kPrecisionTraits = {{
    // fp32 everywhere: 4 + 4 bytes, fp32 states, fp32 activations; matmuls on TF32 tensor cores.
    {Precision::fp32, {4, 4, 0, 4, 4, 4, 0}, "fp32", F::tf32, F::fp32},
    // PyTorch autocast (AMP): fp32 weights and grads, no separate master; half activations
    // (docs/REFERENCES.md §1: 4 + 4 + 8 with Adam).
    {Precision::amp_bf16, {4, 4, 0, 4, 2, 2, 0}, "fp32", F::bf16, F::fp16},
    {Precision::amp_fp16, {4, 4, 0, 4, 2, 2, 0}, "fp32", F::fp16, F::fp16},
    // ZeRO paper §3: half weights and grads, fp32 master + fp32 states (2 + 2 + 12 with Adam).
    {Precision::mixed_bf16, {2, 2, 4, 4, 2, 2, 0}, "bf16", F::bf16, F::fp16},
    {Precision::mixed_fp16, {2, 2, 4, 4, 2, 2, 0}, "fp16", F::fp16, F::fp16},
    // Pure bf16 (docs/REFERENCES.md §1): 2 + 2 + 4 with Adam (states in bf16).
    {Precision::bf16, {2, 2, 0, 2, 2, 2, 0}, "bf16", F::bf16, F::fp16},
    // Transformer Engine fp8 (Micikevicius et al. 2022, "FP8 formats for deep learning"; TE docs):
    // bf16 weights with fp32 master as mixed-bf16; linear-layer inputs are cast to fp8 and saved
    // in fp8 for the weight gradient; each matmul weight has an fp8 copy and (Hopper) its fp8 transpose.
    {Precision::fp8, {2, 2, 4, 4, 2, 1, 2}, "bf16", F::fp8, F::bf16, true, kFp8CastBytes},
    // MXFP8 (Transformer Engine's MXFP8BlockScaling, Megatron-LM --fp8-recipe mxfp8): as fp8, with
    // 32-element E8M0 block scales beside every FP8 tensor. Its GEMMs at the FP8 rate: TE's B300
    // benchmark timed them 5% slower than per-tensor FP8 pre-quantized (7.161 vs 6.812 ms) and 2%
    // faster with the quantization (8.984 vs 9.147 ms); its quantization time is the 5 bytes per
    // element above.
    {Precision::mxfp8, {2, 2, 4, 4, 2, kMxfp8Bytes, 2 * kMxfp8Bytes}, "bf16", F::fp8, F::bf16, true, kFp8CastBytes, true},
    // NVFP4 (Transformer Engine's NVFP4BlockScaling; NVIDIA 2025, "Pretraining large language models
    // with NVFP4", arXiv:2509.25149): as fp8, with the linear layers' fprop, dgrad and wgrad GEMMs on
    // FP4 inputs; the wgrad's saved input is the columnwise NVFP4 copy, the weight cache a rowwise +
    // columnwise NVFP4 pair. Where the GPU has no FP4 tensor cores (Hopper) it is timed at FP8.
    {Precision::nvfp4, {2, 2, 4, 4, 2, kNvfp4Bytes, 2 * kNvfp4Bytes}, "bf16", F::fp4, F::fp8, true, kNvfp4CastBytes, true},
}};

}  // namespace

double format_gemm_efficiency_ratio(const GpuSpec& gpu, NumberFormat format) {
    if (format != NumberFormat::fp4 || !(gpu.peak_fp4 > 0) || !(gpu.peak_fp8 > 0)) return 1;
    // The B300's NVFP4 GEMMs ran kTeB300Mxfp8Ms ÷ kTeB300Nvfp4Ms = 1.90 × as fast as its MXFP8 ones.
    constexpr double fp4_over_fp8 = kTeB300Mxfp8Ms / kTeB300Nvfp4Ms;
    return std::min(1.0, fp4_over_fp8 / (gpu.peak_fp4 / gpu.peak_fp8));
}

const PrecisionTraits& precision_traits(Precision p) {
    for (const PrecisionTraits& t : kPrecisionTraits)
        if (t.precision == p) return t;
    throw std::logic_error("precision_traits: unknown precision");
}

NumberFormat matmul_format(const GpuSpec& gpu, Precision p) {
    const PrecisionTraits& t = precision_traits(p);
    return gpu.peak_flops(t.matmul) > 0 ? t.matmul : t.matmul_fallback;
}

double precision_peak_flops(const GpuSpec& gpu, Precision p, std::string_view flag) {
    const PrecisionTraits& t = precision_traits(p);
    if (const double peak = gpu.peak_flops(matmul_format(gpu, p)); peak > 0) return peak;
    std::vector<std::string> usable;
    for (const PrecisionTraits& other : kPrecisionTraits)
        if (gpu.peak_flops(matmul_format(gpu, other.precision)) > 0) usable.emplace_back(to_string(other.precision));
    std::string formats = to_string(t.matmul);
    if (t.matmul_fallback != t.matmul) formats += std::string(" or ") + to_string(t.matmul_fallback);
    throw InputError(std::string(flag) + " " + to_string(p) + ": the " + gpu.name + " (" + gpu.display_name + ") has no " +
                     formats + " matrix throughput (docs/GPUS.md); choose one of " + join(usable, ", "));
}

std::string precision_fallback_warning(const GpuSpec& gpu, Precision p, std::string_view flag, std::string_view value) {
    const PrecisionTraits& t = precision_traits(p);
    const std::string what = std::string(flag) + " " + std::string(value.empty() ? std::string_view(to_string(p)) : value);
    if (t.block_scaled && gpu.peak_fp4 <= 0 && gpu.peak_flops(t.matmul) > 0)
        return what + ": the " + gpu.name + " (" + gpu.display_name + ") has no block-scaled tensor cores (Blackwell and "
               "later; Transformer Engine trains " + to_string(p) + " only there); its matmuls are timed at its " +
               to_string(t.matmul) + " peak";
    if (gpu.peak_flops(t.matmul) > 0 || gpu.peak_flops(t.matmul_fallback) <= 0) return {};
    return what + ": the " + gpu.name + " (" + gpu.display_name + ") has no " +
           to_string(t.matmul) + " tensor cores (docs/GPUS.md); its matmuls are timed at the " + to_string(t.matmul_fallback) +
           " peak, which " + to_string(t.matmul) + " does not reach there (use " + to_string(t.matmul_fallback) +
           " on this GPU)";
}

}  // namespace llmplan
