// vocab.h — the project's vocabulary: the words the planner, the engine, its CPU reference, the
// profiler and the multi-GPU code share, each defined once with its names and traits. Read this
// header first. Header-only, plain C++20 (no CUDA, no Qt, no other project header), so
// nvcc-compiled code includes it too.
//
//   DType           how a tensor is stored (byte size, llmplan's name, nccl-tests' name)
//   Precision       the job's training precision (the --precision values)
//   Recompute       activation recomputation (--recompute)
//   Attention       the attention kernel: eager or flash (--attention)
//   Collective      the collective operations, their names and nccl-tests' bus-bandwidth factor
//   MemoryCategory  the engine's memory books, in report order
//   MemoryPhase     the phase of a step in which memory is booked
//
// Where the rest lives (docs/ARCHITECTURE.md "Choices"): what each Precision means for storage and
// for the matrix units (bytes per weight, gradient, master, state; matmul format) is the table of
// core/precision.h, because it names the GPU catalog's number formats and peaks (core/gpu.h); the
// flags' parsers with their InputError messages, and the planner-only job enums (Optimizer,
// Offload, Framework, BaseQuant), are core/config.h's; nccl-tests' size conventions for the three
// collectives data parallelism runs (S, element counts, size sweeps) are dist/collective.h's, with
// dist::CommKind, that subset of Collective (same values) which the engine's kernels switch on.
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

// --- the training job -----------------------------------------------------------------------------

// How weights, gradients, optimizer states and activations are stored (docs/MEMORY_MODEL.md §1;
// the bytes and matmul formats of each: core/precision.h). The engine runs fp32, mixed_bf16 and
// mixed_fp16.
enum class Precision { fp32, amp_bf16, amp_fp16, mixed_bf16, mixed_fp16, bf16, fp8, mxfp8, nvfp4 };
// The flag values, in enum order.
inline constexpr std::array<const char*, 9> kPrecisionNames{"fp32", "amp-bf16", "amp-fp16", "mixed-bf16", "mixed-fp16",
                                                            "bf16", "fp8",      "mxfp8",    "nvfp4"};
constexpr const char* to_string(Precision p) { return kPrecisionNames[static_cast<std::size_t>(p)]; }

// Activation recomputation: none, selective (attention's inner tensors, Korthikanti et al. 2022),
// full (each layer's input only).
enum class Recompute { none, selective, full };
inline constexpr std::array<const char*, 3> kRecomputeNames{"none", "selective", "full"};
constexpr const char* to_string(Recompute r) { return kRecomputeNames[static_cast<std::size_t>(r)]; }

// The attention kernel: flash keeps the log-sum-exp for the backward, eager the probabilities.
enum class Attention { flash, eager };
inline constexpr std::array<const char*, 2> kAttentionNames{"flash", "eager"};
constexpr const char* to_string(Attention a) { return kAttentionNames[static_cast<std::size_t>(a)]; }

// --- collectives ----------------------------------------------------------------------------------

// The collective operations llmplan times and plans: the planner's communication model
// (planner/comm.h) and the multi-GPU engine's calls (dist/collective.h, engine/shard_plan.h).
enum class Collective { all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv };

struct CollectiveTraits {
    Collective kind;
    const char* name;       // as reports and explanations write it: "all-reduce"
    const char* nccl_name;  // nccl-tests' (the "collective" key of llmplan.nccl_busbw/1 and engine runs)
};
// In enum order.
inline constexpr std::array<CollectiveTraits, 7> kCollectives{{
    {Collective::all_reduce, "all-reduce", "all_reduce"},
    {Collective::all_gather, "all-gather", "all_gather"},
    {Collective::reduce_scatter, "reduce-scatter", "reduce_scatter"},
    {Collective::broadcast, "broadcast", "broadcast"},
    {Collective::reduce, "reduce", "reduce"},
    {Collective::all_to_all, "all-to-all", "alltoall"},
    {Collective::send_recv, "send/recv", "sendrecv"},
}};

constexpr const CollectiveTraits& traits(Collective c) { return kCollectives[static_cast<std::size_t>(c)]; }
constexpr const char* to_string(Collective c) { return traits(c).name; }
constexpr const char* nccl_name(Collective c) { return traits(c).nccl_name; }

// nccl-tests doc/PERFORMANCE.md (docs/REFERENCES.md §4): busbw = algbw × factor, factor 2(n−1)/n
// for all-reduce, (n−1)/n for all-gather, reduce-scatter and all-to-all (S = the whole gathered
// buffer), 1 for broadcast, reduce and send/recv. A collective of S bytes thus moves S × factor
// bytes through each GPU's link; 0 for all-reduce etc. when n = 1 (nothing crosses a link).
constexpr double busbw_factor(Collective c, int n) {
    const double N = n;
    switch (c) {
        case Collective::all_reduce: return 2 * (N - 1) / N;
        case Collective::all_gather:
        case Collective::reduce_scatter:
        case Collective::all_to_all: return (N - 1) / N;
        case Collective::broadcast:
        case Collective::reduce:
        case Collective::send_recv: return 1;
    }
    return 1;
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

// The engine's memory books (the CPU reference's Arena, reference/model.h, and the CUDA engine's
// arenas, kernels/cuda/engine_state.cuh, keep the same ones): per category and in total the bytes
// held now, the most ever held, and the phase in which that peak was first reached (a peak moves
// only when strictly passed). docs/MEMORY_MODEL.md §8.
struct MemoryBooks {
    std::array<std::size_t, kMemoryCategories> current{};  // bytes held now
    std::array<std::size_t, kMemoryCategories> peak{};     // the most each category held
    std::array<MemoryPhase, kMemoryCategories> peak_phase{};
    std::size_t total_current = 0, total_peak = 0;        // all categories together
    MemoryPhase total_peak_phase = MemoryPhase::idle;

    void add(MemoryCategory c, std::size_t bytes, MemoryPhase phase) {
        const auto i = static_cast<std::size_t>(c);
        current[i] += bytes;
        total_current += bytes;
        if (current[i] > peak[i]) {
            peak[i] = current[i];
            peak_phase[i] = phase;
        }
        if (total_current > total_peak) {
            total_peak = total_current;
            total_peak_phase = phase;
        }
    }
    // False (and nothing changed) when more would be released than the category holds.
    bool remove(MemoryCategory c, std::size_t bytes) {
        const auto i = static_cast<std::size_t>(c);
        if (bytes > current[i]) return false;
        current[i] -= bytes;
        total_current -= bytes;
        return true;
    }
    // The peaks restart from what is held now, in `phase`.
    void reset_peaks(MemoryPhase phase) {
        peak = current;
        peak_phase.fill(phase);
        total_peak = total_current;
        total_peak_phase = phase;
    }
    std::size_t current_of(MemoryCategory c) const { return current[static_cast<std::size_t>(c)]; }
    std::size_t peak_of(MemoryCategory c) const { return peak[static_cast<std::size_t>(c)]; }
    MemoryPhase peak_phase_of(MemoryCategory c) const { return peak_phase[static_cast<std::size_t>(c)]; }
};

}  // namespace llmplan
