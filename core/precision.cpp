// precision.cpp — the precision table; what each column means and its sources: precision.h.
#include "core/precision.h"

#include "core/error.h"
#include "core/text.h"

#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmplan {

namespace {

using F = NumberFormat;

// precision, {weight, grad, master, state, activation, linear_input, fp8_weight_cache}, weight format,
// matmul format, fallback.
constexpr std::array<PrecisionTraits, 7> kPrecisionTraits = {{
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
    {Precision::fp8, {2, 2, 4, 4, 2, 1, 2}, "bf16", F::fp8, F::bf16},
}};

}  // namespace

const PrecisionTraits& precision_traits(Precision p) {
    for (const PrecisionTraits& t : kPrecisionTraits)
        if (t.precision == p) return t;
    throw std::logic_error("precision_traits: unknown precision");
}

namespace {

double peak_or_zero(const GpuSpec& gpu, const PrecisionTraits& t) {
    const double peak = gpu.peak_flops(t.matmul);
    return peak > 0 ? peak : gpu.peak_flops(t.matmul_fallback);
}

}  // namespace

double precision_peak_flops(const GpuSpec& gpu, Precision p, std::string_view flag) {
    const PrecisionTraits& t = precision_traits(p);
    if (const double peak = peak_or_zero(gpu, t); peak > 0) return peak;
    std::vector<std::string> usable;
    for (const PrecisionTraits& other : kPrecisionTraits)
        if (peak_or_zero(gpu, other) > 0) usable.emplace_back(to_string(other.precision));
    std::string formats = to_string(t.matmul);
    if (t.matmul_fallback != t.matmul) formats += std::string(" or ") + to_string(t.matmul_fallback);
    throw InputError(std::string(flag) + " " + to_string(p) + ": the " + gpu.name + " (" + gpu.display_name + ") has no " +
                     formats + " matrix throughput (docs/GPUS.md); choose one of " + join(usable, ", "));
}

}  // namespace llmplan
