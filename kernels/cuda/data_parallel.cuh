// data_parallel.cuh — the GPU engine's data parallelism (world > 1): DDP and ZeRO 1–3 over the
// communicator of kernels/comm.h, following the shard plan of engine/shard_plan.h (this rank's
// pieces, the padded bases and the backward's first gradient writes from engine/engine_layout.h).
// The engine (kernels/cuda/engine.cu) owns one and calls it at its hook points; docs/MULTI_GPU.md
// ("The engine") describes the streams, buckets, prefetch and books. In short:
//
//  * Two streams. Compute runs on ctx->stream(); every collective on the communicator's stream.
//    comm_after_compute() records an event on the compute stream that the communication stream
//    waits for (before a collective reads gradients or writes a buffer compute used);
//    compute_wait(e) makes the compute stream wait for an event of the communication stream
//    (before compute reads what a collective wrote, or frees a buffer it reads). Each such wait
//    is bracketed by two compute-stream events: their distance is the time compute stood still
//    for communication (EngineStepStats::exposed_ms).
//  * DDP: after the backward of the step that completes a bucket, all-reduce (sum) it in place;
//    the optimizer waits for the last one and scales by 1/world inside AdamW.
//  * ZeRO-1: weights and gradients in padded buffers (units in layout order, dist::padded_bases);
//    the bucket is reduce-scattered in place, AdamW updates this rank's slices (fp32 master, m, v
//    of the slices only), the weights are all-gathered in place bucket by bucket after it.
//  * ZeRO-2: as ZeRO-1, but a bucket's gradient is a staging buffer allocated (zeroed) at the
//    start of the backward step that first writes it and reduce-scattered into this rank's
//    gradient shard; it is freed when the next bucket is reduce-scattered (after the compute
//    stream waited for its reduce-scatter), so one bucket's reduction overlaps the next one's
//    backward.
//  * ZeRO-3: the weights are this rank's shard; each layer unit is all-gathered into a temporary
//    buffer before its forward and again before its backward, issued one step early on the
//    communication stream (prefetch) and freed after its last use in the pass; its gradients are
//    staged and reduce-scattered as ZeRO-2's.
//  * The buffers are the step program's (engine/program.h): the engine allocates the statics
//    (shard() names the ZeRO-3 weight shard's and the ZeRO-2/3 gradient shard's slots) and the
//    gathered units and gradient staging on the program's alloc and free events, and hands their
//    addresses here (attach()); the hooks issue the collectives and waits into them.
//  * Global-norm clipping and fp16's overflow: each rank's sum of squares over its slices and its
//    overflow flag are all-gathered (16 bytes a rank) and combined identically on every rank
//    (kernels/cuda/dist_ops.cuh), so that every rank clips by the same norm and skips together.
//
// Hook points (p: position in the pass; k: compute step, 0 embeddings, 1 … L layers, L + 1 the
// final norm and head), at the program's marks: forward_before(p) before each forward step (ZeRO-3
// gathers and their waits); backward_before(k) / backward_after(k) around each backward step
// (ZeRO-3 gathers, ZeRO-2/3 gradient staging zeroed, the bucket's reduction once it is complete);
// backward_finish() at the end of the backward; optimizer() instead of the one-GPU optimizer;
// take_step_comm() once the step is synchronised.
#pragma once

#include "engine/program.h"
#include "engine/shard_plan.h"
#include "kernels/comm.h"
#include "kernels/cuda/engine_state.cuh"

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace llmplan::kernels::cuda {

class DataParallel {
public:
    // Checks the communicator against the options (before any device work: no allocation, no
    // stream); std::invalid_argument for a mismatch, and always without NCCL.
    explicit DataParallel(EngineState& state);
    ~DataParallel();
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

    int world() const { return world_; }
    int zero() const { return zero_; }
    std::size_t library_bytes() const { return exchange_.bytes; }  // outside the books

    // The slot of a static buffer the stage keeps outside EngineState (ZeRO-3's weight shard,
    // ZeRO-2/3's gradient shard), else null: the engine allocates the program's statics into it.
    DBuf* shard(BufferRole role);
    // Once the statics are allocated: the loss scale, the views, the events; then the initial
    // weights (the one-GPU engine's, laid out as the stage keeps them).
    void setup();
    void init(std::uint64_t seed);
    // A gathered unit or a unit's gradient staging (program roles gathered, staging) at `p` from
    // its alloc event, null from its free event; other buffers are ignored.
    void attach(const ProgramBuffer& buffer, void* p);
    // Before the engine goes: waits for the communication stream (errors ignored: the communicator
    // aborted itself).
    void shutdown() noexcept;

    void forward_before(int p);
    void backward_before(int k);
    void backward_after(int k);
    void backward_finish();
    // The sharded optimizer step (global norm and overflow exchanged, AdamW on this rank's slices,
    // the updated weights all-gathered for ZeRO-1/2).
    void optimizer(const EngineAdamW& o);
    // The step's collectives and waits into `st` (the compute stream must be synchronised).
    void take_step_comm(EngineStepStats& st);
    // Forgets the collectives and waits recorded so far (outside train_step).
    void drain_comm();
    // The fp32 weights in params() order (ZeRO ≥ 1 with slices: a collective, every rank calls it).
    std::vector<float> parameters();

private:
    struct Piece {           // this rank's part of a parameter (sharded stages; dist::ParamPiece's fields)
        std::size_t param = 0, param_begin = 0, count = 0, shard_offset = 0;
    };

    ModelParams empty_views() const;
    void set_view(ModelParams& mp, std::size_t i, void* ptr) const;
    ModelParams views_at(void* base, const std::vector<std::size_t>& at) const;
    void unit_views(ModelParams& mp, int u, void* base) const;
    void collective(dist::CommKind kind, const void* send, void* recv, std::size_t count, const char* purpose, DType type);
    void comm_record(cudaEvent_t e);
    void comm_synchronize();
    std::vector<CommCall> comm_take();
    void comm_after_compute();
    void compute_wait(cudaEvent_t e, const char* purpose);
    void gather_unit(int u, const char* purpose);
    void release_in_flight();
    void exchange_values(float* norm, int* overflow, double divide_by);

    EngineState& s_;
    const dist::ShardPlan& plan_;
    Communicator* comm_ = nullptr;
    int world_ = 1, rank_ = 0, zero_ = 0;
    std::vector<std::size_t> base_;        // per unit: where it starts in the padded buffers (dist::padded_bases)
    std::vector<int> first_grad_;          // per unit: the backward step that first writes its gradients
    std::vector<Piece> pieces_;            // this rank's, in layout order
    std::vector<std::size_t> pos_;         // each parameter's element position in the weight/gradient buffers
    DBuf param_shard_, grad_shard_;        // ZeRO-3 weights, ZeRO-2/3 gradients: this rank's slices
    std::vector<void*> staging_;           // ZeRO-2/3: per unit, the full (padded) gradient while the backward fills it
    std::vector<char> reduced_;            // ZeRO-2/3: per unit, whether its staging's reduce-scatter was issued
    std::vector<void*> gathered_;          // ZeRO-3: per unit, the all-gathered weights while a pass uses them
    std::vector<int> in_flight_;           // ZeRO-2/3: units reduce-scattered whose staging is still held
    std::vector<cudaEvent_t> gather_ev_, reduce_ev_;  // per unit: recorded on the comm stream after its call
    cudaEvent_t comp_ev_ = nullptr, comm_ev_ = nullptr;
    std::vector<std::pair<cudaEvent_t, cudaEvent_t>> wait_ev_;  // around each compute-stream wait (exposed time)
    std::size_t waits_ = 0;
    std::vector<const char*> wait_purposes_;
    std::vector<std::string> purposes_;    // of the collectives issued since the last take, in order
    Raw exchange_;                         // 4 floats of this rank's record + world × 4 gathered (dist_ops.cuh)
};

}  // namespace llmplan::kernels::cuda
