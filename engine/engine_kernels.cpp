// engine_kernels.cpp — the names and dimension counts of the engine's kernels; see engine_kernels.h.
#include "engine/engine_kernels.h"

#include <array>
#include <cstddef>

namespace llmplan {

namespace {

constexpr std::array<const char*, kEngineKernels> kKernelNames = {
    "linear_forward", "linear_backward",
    "layernorm_forward", "layernorm_backward", "rmsnorm_forward", "rmsnorm_backward",
    "gelu_forward", "gelu_backward", "swiglu_forward", "swiglu_backward",
    "rotary_forward", "rotary_backward", "residual_add",
    "attention_eager_forward", "attention_eager_backward", "attention_flash_forward", "attention_flash_backward",
    "cross_entropy", "embedding_forward", "embedding_backward",
    "zero_grad", "global_norm", "adamw", "check_nonfinite"};

}  // namespace

const char* to_string(EngineKernel k) { return kKernelNames[static_cast<std::size_t>(k)]; }

std::optional<EngineKernel> parse_engine_kernel(std::string_view name) {
    for (std::size_t i = 0; i < kKernelNames.size(); ++i)
        if (name == kKernelNames[i]) return static_cast<EngineKernel>(i);
    return std::nullopt;
}

int engine_kernel_dims(EngineKernel k) {
    switch (k) {
        case EngineKernel::linear_forward:
        case EngineKernel::linear_backward: return 6;
        case EngineKernel::layernorm_forward:
        case EngineKernel::layernorm_backward:
        case EngineKernel::rmsnorm_forward:
        case EngineKernel::rmsnorm_backward:
        case EngineKernel::cross_entropy: return 2;
        case EngineKernel::rotary_forward:
        case EngineKernel::rotary_backward: return 4;
        case EngineKernel::attention_eager_forward:
        case EngineKernel::attention_eager_backward:
        case EngineKernel::attention_flash_forward:
        case EngineKernel::attention_flash_backward: return 5;
        case EngineKernel::embedding_forward:
        case EngineKernel::embedding_backward: return 3;
        default: return 1;
    }
}

}  // namespace llmplan
