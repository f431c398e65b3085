// engine.h — the GPU training engine: a whole decoder-only transformer trained on one CUDA GPU
// from the kernels of kernels/cuda/ops.cuh, mirroring the CPU reference (reference/model.h).
//
// Plain C++20 host API, no CUDA type or header (llmplan_kernels, LLMPLAN_CUDA=ON only); nvcc code
// sees only the C++17 types of kernels/engine_types.h (core/model.h is C++20). GpuModel
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
// With fp32 storage every book equals the reference's byte for byte; fp16's books are bf16's (2
// bytes per stored element, the same buffers). Each category allocates from its own caching arena
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
#include "kernels/engine_types.h"
#include "kernels/ops_gpu.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmplan::kernels {

// Options: EngineOptions (engine_types.h) plus the planner's Recompute and Attention.
EngineOptions engine_options(Recompute recompute, Attention attention, DType precision);
// The engine's shape and layout for a spec (the reference's), or InputError (see above); with
// options.world > 1 also the rank's shard plan (engine_dist_plan).
EngineShape engine_shape(const ModelSpec& spec, const EngineOptions& options);
// The shard plan of engine/shard_plan.h for the shape's layout, this rank, the ZeRO stage
// and the bucket caps of `options` (storage element size from the precision); InputError for a
// world < 2, a rank outside it or a stage not 0–3.
EngineDistPlan engine_dist_plan(const EngineShape& shape, const EngineOptions& options);

class GpuModel {
public:
    // Throws InputError for shapes the engine cannot run (as ReferenceModel) and for fp16 loss-scale
    // options out of range.
    GpuModel(const ModelSpec& spec, const EngineOptions& options = {}, std::uint64_t seed = 0);
    ~GpuModel();
    GpuModel(const GpuModel&) = delete;
    GpuModel& operator=(const GpuModel&) = delete;

    // As ReferenceModel::forward_backward (ids and targets [B·S]; targets −1 ignored).
    float forward_backward(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S);
    // Returns the (true, unscaled) gradient norm before clipping; fp16: inf/NaN when the step was
    // skipped (then optimizer_steps() did not advance and loss_scale() shrank).
    float optimizer_step(const EngineAdamW& opt);
    EngineStepStats train_step(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S,
                               const EngineAdamW& opt);

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

private:
    EngineShape shape_;
    std::unique_ptr<EngineCore> core_;
};

}  // namespace llmplan::kernels
