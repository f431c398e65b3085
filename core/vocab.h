// vocab.h — the words the engine, its CPU reference, the profiler and the planner's engine models
// share, each defined once with its traits: the storage type of a tensor (DType: byte size, name,
// nccl-tests' name) and the engine's memory books (MemoryCategory, MemoryPhase: names, order).
// Header-only, plain C++20 (no CUDA, no Qt), so nvcc-compiled code includes it too.
//
// Where the rest of the vocabulary lives (docs/ARCHITECTURE.md "Choices"): the recompute mode
// (Recompute) and the job's precision (Precision) in core/config.h, the collective kinds
// (dist::CommKind and nccl-tests' conventions for them) in dist/collective.h.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace llmplan {

// --- storage types --------------------------------------------------------------------------------

// How a tensor is stored on the device. Arithmetic is fp32 in every kernel of the engine; bf16 and
// fp16 are rounded to nearest even on store.
enum class DType { fp32, bf16, fp16 };

struct DTypeTraits {
    DType type;
    const char* name;       // llmplan's spelling: flags, calibration files, reports
    std::size_t bytes;      // per element
    const char* nccl_name;  // nccl-tests' (the "dtype" key of llmplan.nccl_busbw/1)
};
// In enum order.
inline constexpr std::array<DTypeTraits, 3> kDTypes{{
    {DType::fp32, "fp32", 4, "float"},
    {DType::bf16, "bf16", 2, "bfloat16"},
    {DType::fp16, "fp16", 2, "half"},
}};

constexpr const DTypeTraits& traits(DType t) { return kDTypes[static_cast<std::size_t>(t)]; }
constexpr std::size_t dtype_bytes(DType t) { return traits(t).bytes; }
constexpr const char* to_string(DType t) { return traits(t).name; }
// "fp32", "bf16", "fp16" → the type; nothing for any other text (callers name the flag or file).
constexpr std::optional<DType> parse_dtype(std::string_view text) {
    for (const DTypeTraits& t : kDTypes)
        if (text == t.name) return t.type;
    return std::nullopt;
}

// --- memory books ---------------------------------------------------------------------------------

// The engine's six books (reference/model.h on the CPU, kernels/engine.h on the GPU; the planner's
// books of planner/llmplan_profile.h predict them), in report order:
//   parameters   the weights in the storage type;
//   gradients    the weights' gradients in the storage type (ZeRO-2/3: slices and staging);
//   optimizer    AdamW m and v (fp32) and, in mixed precision, the fp32 master weights;
//   activations  what the forward keeps for the backward;
//   logits       [T, V] in the storage type, overwritten in place by their gradient;
//   workspace    the backward's activation gradients and one layer of unkept tensors.
enum class MemoryCategory { parameters, gradients, optimizer, activations, logits, workspace };
inline constexpr int kMemoryCategories = 6;
inline constexpr std::array<const char*, kMemoryCategories> kMemoryCategoryNames{
    "parameters", "gradients", "optimizer", "activations", "logits", "workspace"};
constexpr const char* to_string(MemoryCategory c) { return kMemoryCategoryNames[static_cast<std::size_t>(c)]; }

// The phase of a training step in which memory is booked (idle: construction and between calls).
enum class MemoryPhase { idle, forward, backward, optimizer };
inline constexpr std::array<const char*, 4> kMemoryPhaseNames{"idle", "forward", "backward", "optimizer"};
constexpr const char* to_string(MemoryPhase p) { return kMemoryPhaseNames[static_cast<std::size_t>(p)]; }

}  // namespace llmplan
