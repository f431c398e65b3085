// engine_types.h — the plain C++17 types of the GPU training engine, shared by kernels/engine.h
// (the host API, C++20) and kernels/cuda/engine.cu (nvcc, C++17): see kernels/engine.h.
#pragma once

#include "dist/collective.h"
#include "kernels/ops_gpu.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmplan::kernels {

class Communicator;  // kernels/comm.h (NCCL, one per process); the engine only holds a pointer

enum class EngineCategory { parameters, gradients, optimizer, activations, logits, workspace };
inline constexpr int kEngineCategories = 6;
enum class EnginePhase { idle, forward, backward, optimizer };
const char* engine_category_name(EngineCategory c);
const char* engine_phase_name(EnginePhase p);

struct EngineMemory {
    std::array<std::size_t, kEngineCategories> current{};   // bytes handed out now
    std::array<std::size_t, kEngineCategories> peak{};      // the most each category held
    std::array<EnginePhase, kEngineCategories> peak_phase{};
    std::array<std::size_t, kEngineCategories> reserved{};  // device bytes each arena holds
    std::size_t total_current = 0, total_peak = 0;
    EnginePhase total_peak_phase = EnginePhase::idle;
    std::size_t library_bytes = 0;  // outside the books: cuBLASLt workspace, kernel scratch, ids/targets
    std::size_t peak_of(EngineCategory c) const { return peak[static_cast<std::size_t>(c)]; }
    EnginePhase peak_phase_of(EngineCategory c) const { return peak_phase[static_cast<std::size_t>(c)]; }
};

enum class EngineRecompute { none, selective, full };

struct EngineOptions {
    EngineRecompute recompute = EngineRecompute::none;
    bool eager = false;  // attention: eager (probabilities kept) or flash (log-sum-exp kept)
    DType precision = DType::fp32;  // storage type: fp32, or bf16 / fp16 (mixed precision)
    float norm_eps = 1e-5f;
    float rope_base = 10000.0f;
    float init_std = 0.02f;
    // fp16's dynamic loss scale (ignored otherwise): PyTorch GradScaler's defaults and rule
    // (torch.amp.GradScaler: init_scale 2^16, growth_factor 2, backoff_factor 0.5,
    // growth_interval 2000). A step whose gradients hold an inf or NaN is skipped and the scale
    // multiplied by the backoff; after `loss_scale_interval` good steps in a row it is multiplied
    // by the growth (unless that would overflow fp32).
    float loss_scale = 65536.0f;
    float loss_scale_growth = 2.0f;
    float loss_scale_backoff = 0.5f;
    int loss_scale_interval = 2000;
    // Data parallelism over `world` ranks (one process per GPU, docs/MULTI_GPU.md): each rank trains
    // the same model on its own micro-batch; gradients are summed over the ranks by the
    // communicator (averaged inside AdamW: grad_scale 1/world) with DDP (zero 0: all-reduce per
    // bucket during the backward) or ZeRO 1–3 (reduce-scatter per bucket / layer unit, optimizer
    // state sharded; ZeRO-2 also the gradients; ZeRO-3 also the weights, gathered per layer unit).
    // world 1 (the default) is the single-GPU engine, unchanged; world > 1 needs `comm` (created
    // for this rank before the engine, on its GPU) and an NCCL build. The buckets follow
    // engine/shard_plan.h with these caps (PyTorch DDP's defaults).
    int world = 1, rank = 0, zero = 0;
    Communicator* comm = nullptr;
    std::size_t bucket_cap_bytes = std::size_t{25} << 20;
    std::size_t first_bucket_bytes = std::size_t{1} << 20;
};

struct EngineAdamW {
    float lr = 3e-4f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f, max_grad_norm = 1.0f;
};

// As reference::ParamInfo: a slice of the flat parameter (and gradient) buffer, in elements.
struct EngineParam {
    std::string name;
    std::size_t offset = 0, size = 0;
    std::int64_t rows = 0, cols = 0;
    bool decay = false;
};

// One collective of a training step as it ran on the communication stream (world > 1).
// purpose: the shard plan's (engine/shard_plan.h CommVolume::purpose) — "gradient
// all-reduce", "gradient reduce-scatter", "parameter all-gather" (ZeRO-1/2, after the optimizer),
// "parameter all-gather, forward" / "…, backward" (ZeRO-3) — or "norm and overflow all-gather"
// (ZeRO ≥ 1, and DDP in fp16: 16 bytes per rank, outside the shard plan).
struct EngineCommCall {
    dist::CommKind kind = dist::CommKind::all_reduce;
    std::string purpose;
    std::uint64_t bytes = 0;  // nccl-tests' S
    std::size_t count = 0;    // elements per rank as NCCL took them
    double ms = 0;            // CUDA-event time on the communication stream
};

// A wait of the compute stream for the communication stream, named by the purpose of the
// collective it waited for; ms = the compute stream's event after the wait − the one before it.
struct EngineCommWait {
    std::string purpose;
    double ms = 0;
};

struct EngineStepStats {
    // loss: unscaled. grad_norm: the true (unscaled) global norm before clipping; inf or NaN on a
    // skipped fp16 step (that is how the overflow shows).
    float loss = 0, grad_norm = 0;
    float loss_scale = 1;  // the scale this step's gradients carried (fp16; 1 in fp32 and bf16)
    bool skipped = false;  // fp16: inf/NaN gradients, so no optimizer step (weights, moments and step count unchanged)
    // CUDA-event times of the step's phases (forward includes the fused loss and its gradient;
    // optimizer: global norm, clipping and AdamW).
    double forward_ms = 0, backward_ms = 0, optimizer_ms = 0, total_ms = 0;
    EngineMemory memory;
    // world > 1: the step's collectives in issue order; comm_ms = Σ their times on the
    // communication stream; exposed_ms = the time the compute stream stood waiting for the
    // communication stream: Σ over its waits of (event recorded after the wait − event recorded
    // before it), both on the compute stream (0 where the collective had already finished).
    std::vector<EngineCommCall> comm;
    std::vector<EngineCommWait> waits;
    double comm_ms = 0, exposed_ms = 0;
};

// Whether a CUDA GPU can be used; when not, `why` (if given) says why in one line.
bool engine_gpu_available(std::string* why = nullptr);

// The shard plan (engine/shard_plan.h, C++20) as the engine needs it: filled by
// kernels/engine.cpp engine_shape() for world > 1. Units are DDP / ZeRO-1/2 buckets (backward
// order) or ZeRO-3 layer units (layout order); sharded stages lay units out padded, in layout
// order, at `padded_base` (the ZeRO-1/2 weight and gradient buffers, the ZeRO-3 gathered copy).
struct EngineDistUnit {
    std::size_t begin = 0, end = 0;          // compact flat range (whole parameters)
    std::size_t padded = 0, shard = 0, shard_offset = 0, padded_base = 0;
    std::size_t first_param = 0, last_param = 0;
    int ready_after_step = 0;                // complete after this compute step's backward
    int first_grad_step = 0;                 // the first backward step that writes its gradients
};
struct EngineDistPiece {                     // this rank's part of a parameter (sharded stages)
    std::size_t param = 0, param_begin = 0, count = 0, shard_offset = 0;
};
struct EngineDistGather {
    int unit = 0, issue_at = 0, first_use = 0, last_use = 0;  // pass positions
};
struct EngineDistReduce {
    int unit = 0, after = 0;
};
struct EngineDistPlan {
    int world = 1, rank = 0, zero = 0;
    std::size_t padded_total = 0, shard_elements = 0;
    std::vector<EngineDistUnit> units;
    std::vector<int> param_unit;             // the unit of every parameter
    std::vector<EngineDistPiece> pieces;     // this rank's, in layout order
    std::vector<EngineDistGather> forward_gathers, backward_gathers;  // ZeRO-3
    std::vector<EngineDistReduce> backward_reduces;                   // ZeRO-3
};

// The model's shape as the engine needs it (filled from a ModelSpec by kernels/engine.cpp).
struct EngineShape {
    std::string name;
    int d = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, d_ff = 0, vocab = 0, max_positions = 0;
    bool layernorm = true, swiglu = false, rotary = false, tied = false;
    std::vector<EngineParam> params;  // the layout, in order
    EngineDistPlan dist;              // world > 1 only
};

// The engine proper (kernels/cuda/engine.cu); GpuModel (kernels/engine.h) is its C++20 face.
class EngineCore {
public:
    EngineCore(const EngineShape& shape, const EngineOptions& options, std::uint64_t seed);
    ~EngineCore();
    EngineCore(const EngineCore&) = delete;
    EngineCore& operator=(const EngineCore&) = delete;
    float forward_backward(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S);
    float optimizer_step(const EngineAdamW& opt);
    EngineStepStats train_step(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S,
                               const EngineAdamW& opt);
    const std::vector<EngineParam>& params() const;
    std::size_t param_count() const;
    std::vector<float> parameters() const;
    std::vector<float> gradients() const;
    std::vector<float> grad(const std::string& name) const;
    std::vector<float> param(const std::string& name) const;
    std::vector<float> adam_m() const;
    std::vector<float> adam_v() const;
    int optimizer_steps() const;
    float loss_scale() const;
    EngineMemory memory() const;
    void reset_peaks();
    const EngineOptions& options() const;
    std::string device_name() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace llmplan::kernels
