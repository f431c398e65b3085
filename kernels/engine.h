// engine.h — the GPU training engine: a whole decoder-only transformer trained on one CUDA GPU
// from the kernels of kernels/cuda/ops.cuh, mirroring the CPU reference (reference/model.h).
//
// Plain C++20 host API, no CUDA type or header (llmplan_kernels, LLMPLAN_CUDA=ON only): GpuModel
// is the engine itself, its state a pimpl (GpuModel::Impl, kernels/cuda/engine.cu) that nvcc
// compiles against this header; the data parallelism is an object it owns (DataParallel,
// kernels/cuda/data_parallel.cuh); kernels/engine.cpp holds the host-side helpers (the spec checks,
// the layout, the shard plan). The vocabulary (DType, MemoryCategory, MemoryPhase) is
// core/vocab.h's, the recompute mode core/vocab.h's Recompute. GpuModel
// follows ReferenceModel exactly: the same shapes (GPT-2 style and Llama style, from the
// ModelSpec's flags; the same refusals), the same parameter layout and names, the same
// initialisation from the same seed (so both can be compared tensor by tensor), the same layer
// order, the same saved tensors per recompute mode and the same memory books per category:
//   parameters   the weights in the storage type (fp32, or bf16 / fp16 in mixed precision);
//   gradients    one buffer the size of the parameters, in the storage type;
//   optimizer    AdamW m and v (fp32) and, in mixed precision, the fp32 master weights;
//   activations  what the forward keeps for the backward (model.h lists it per recompute mode),
//                in the storage type except the norm statistics and the flash log-sum-exp (fp32);
//   logits       [T, V] in the storage type, overwritten in place by their gradient; in bf16/fp16
//                each row is padded to a multiple of 64 elements (dist::logits_row_stride:
//                GPT-2's 50,257 → 50,304) so the output layer's GEMMs run on TMA kernels;
//   workspace    the backward's activation gradients and one layer of unkept tensors.
// Like the reference, the engine iterates the step program of engine/program.h (built from
// engine_step_options below, once per B × S): the weights, gradients and optimizer state are the
// program's allocations before its first phase, every per-step buffer is allocated and freed on
// the program's events (looked up by role, layer and field: residuals, kept LayerFields, the
// layer scratch, the final norm's, the logits, the GradField buffers, ZeRO's gathered units and
// gradient staging), and each stretch's kernels are launched at the program's mark, in the order
// of its kernel events — so the books equal replay_engine_books of the same program by
// construction. With fp32 storage every book equals the reference's byte for byte; fp16's books
// are bf16's (2 bytes per stored element, the same buffers). Each category allocates from its own caching arena
// (device blocks reused by size, like PyTorch's caching allocator, so that steady-state steps do
// not call cudaMalloc); the books count the bytes handed out (current, peak, phase of the peak),
// `reserved` the device bytes the arena holds. Outside the books (reported in `library_bytes`):
// the cuBLASLt workspace and the kernels' shared scratch (eager attention's backward keeps its
// [B, heads, S, S] dS there), the token ids and targets, the loss/norm/overflow scalars.
//
// Precisions: fp32; bf16 (mixed: bf16 weights, activations, gradients and logits, fp32 master
// weights and AdamW moments); fp16 (mixed, the same storage as bf16) with dynamic loss scaling,
// the loss scaling of Micikevicius et al. 2018 ("Mixed Precision Training", §3.2) made dynamic
// as PyTorch's GradScaler does it (the seed lecture's AMP recipe: scaler.scale(loss).backward(),
// scaler.step(optimizer), scaler.update()): the loss gradient is multiplied by the scale S (inside the fused
// cross-entropy, EngineOptions::loss_scale, 2^16 at first) so that small gradients stay out of
// fp16's subnormal range; after the backward every gradient is checked for inf/NaN; with one, the
// optimizer step is skipped (weights, AdamW moments and the bias-correction step count unchanged)
// and S is halved; else the gradients are unscaled inside AdamW (×1/S), clipped with the true
// norm ‖g‖ = ‖S·g‖ / S, and S doubles after 2000 good steps in a row (growth, backoff and
// interval are EngineOptions). S lives on the host: the flag is read once per step, after the
// step's synchronisation (kernels/cuda/engine.cu, optimizer()). The reported loss is unscaled.
// Every CUDA/cuBLAS failure throws std::runtime_error; an allocation failure names the category
// and the phase in which it happened.
//
// Several GPUs (EngineOptions::world > 1, one process per GPU, each with its own Communicator of
// kernels/comm.h created first): data parallelism over NCCL following the shard plan of
// engine/shard_plan.h — DDP (zero 0: gradients all-reduced bucket by bucket in the backward,
// on the communicator's stream, overlapped with the rest of the backward), ZeRO-1 (gradients
// reduce-scattered, fp32 master and AdamW moments for this rank's slices only, the updated weights
// all-gathered after the optimizer), ZeRO-2 (also only the gradient slices: each bucket's gradient
// is a staging buffer freed after its reduce-scatter) and ZeRO-3 (also only the weight slices: each
// layer unit all-gathered before its forward and its backward, one step ahead). Each rank trains on
// its own micro-batch; the gradients are the ranks' sum, averaged inside AdamW (×1/world), and the
// global norm for clipping is the same on every rank (kernels/cuda/dist_ops.cuh). fp16: each rank
// scales its loss by S / world (loss_scale() reports S) and every rank skips a step when any rank
// saw an inf/NaN. The books gain the padded ZeRO buffers, the ZeRO-2/3 gradient staging
// (gradients) and the ZeRO-3 gathered units (parameters); planner/llmplan_profile.h
// llmplan_engine_books predicts them to the byte. Per step, EngineStepStats::comm lists the
// collectives (purpose, bytes, time on the communication stream) and waits the compute stream's
// waits for them (the exposed time). With world > 1 and ZeRO ≥ 1, parameters() and param() are
// collectives (every rank must call them; the slices are all-gathered) and gradients(), grad(),
// adam_m() and adam_v() are refused (each rank holds only slices); DDP's gradients() are the
// average over the ranks. docs/MULTI_GPU.md has the details.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "core/vocab.h"
#include "dist/collective.h"
#include "engine/program.h"
#include "engine/shard_plan.h"
#include "kernels/ops_gpu.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmplan::kernels {

class Communicator;  // kernels/comm.h (NCCL, one per process); the engine only holds a pointer

// The books: one entry per MemoryCategory (core/vocab.h), in its order.
struct EngineMemory : MemoryBooks {  // the books (core/vocab.h), and what the arenas hold beyond them
    std::array<std::size_t, kMemoryCategories> reserved{};  // device bytes each arena holds
    std::size_t library_bytes = 0;  // outside the books: cuBLASLt workspace, kernel scratch, ids/targets
};

struct EngineOptions {
    Recompute recompute = Recompute::none;
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

// The model's shape as the engine needs it (filled from a ModelSpec by kernels/engine.cpp).
struct EngineShape {
    std::string name;
    int d = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, d_ff = 0, vocab = 0, max_positions = 0;
    bool layernorm = true, swiglu = false, rotary = false, tied = false;
    std::vector<EngineParam> params;  // the layout, in order
    dist::ShardPlan plan;             // world > 1 only: the shard plan of engine/shard_plan.h (every rank's)
};

// Options: EngineOptions plus the planner's Recompute and Attention.
EngineOptions engine_options(Recompute recompute, Attention attention, DType precision);
// The step program's options (engine/program.h) for these engine options and a B × S step: the
// storage type's precision, the recompute mode, eager or flash, the world, the ZeRO stage, the
// bucket caps and A micro-batches per step. GpuModel builds its program from them; a test replays
// the same program's books.
EngineStepOptions engine_step_options(const EngineOptions& options, std::int64_t B = 1, std::int64_t S = 1,
                                      std::int64_t A = 1);
// The engine's shape and layout for a spec (the reference's), or InputError (see above); with
// options.world > 1 also the shard plan of engine/shard_plan.h for the layout, the ZeRO stage
// and the bucket caps of `options` (storage element size from the precision): InputError for a
// world < 2, a rank outside it or a stage not 0–3.
EngineShape engine_shape(const ModelSpec& spec, const EngineOptions& options);

class GpuModel {
public:
    // Throws InputError for shapes the engine cannot run (as ReferenceModel) and for fp16 loss-scale
    // options out of range.
    GpuModel(const ModelSpec& spec, const EngineOptions& options = {}, std::uint64_t seed = 0);
    ~GpuModel();
    GpuModel(const GpuModel&) = delete;
    GpuModel& operator=(const GpuModel&) = delete;

    // As ReferenceModel::forward_backward (ids and targets [B·S]; targets −1 ignored). A > 1:
    // gradient accumulation as the step program runs it (engine/program.h): ids and targets hold A
    // micro-batches of B × S ([A·B·S], micro-batch after micro-batch), each run forward and
    // backward on the same buffers, the gradients zeroed once and added to in place; loss and
    // gradients are those of the mean over the step's counted targets (one batch of A·B). One GPU
    // only (cuda_engine_supports refuses A > 1 with world > 1).
    float forward_backward(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S, int A = 1);
    // Returns the (true, unscaled) gradient norm before clipping; fp16: inf/NaN when the step was
    // skipped (then optimizer_steps() did not advance and loss_scale() shrank).
    float optimizer_step(const EngineAdamW& opt);
    EngineStepStats train_step(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S,
                               const EngineAdamW& opt, int A = 1);

    const std::vector<EngineParam>& params() const;
    std::size_t param_count() const;
    // Downloaded in fp32, in params() order: the weights (the fp32 master copy in mixed precision)
    // and the gradients (fp16: divided by the scale the latest backward used, i.e. the true ones).
    std::vector<float> parameters() const;
    std::vector<float> gradients() const;
    std::vector<float> grad(const std::string& name) const;
    std::vector<float> param(const std::string& name) const;
    // AdamW's moments (fp32, params() order), the optimizer steps taken (skipped fp16 steps not
    // counted) and the loss scale the next backward will use (fp16; 1 otherwise).
    std::vector<float> adam_m() const;
    std::vector<float> adam_v() const;
    int optimizer_steps() const;
    float loss_scale() const;

    EngineMemory memory() const;
    void reset_peaks();
    const EngineOptions& options() const;
    std::string device_name() const;

    struct Impl;  // kernels/cuda/engine.cu

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace llmplan::kernels
