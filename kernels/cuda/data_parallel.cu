// data_parallel.cu — the GPU engine's data parallelism (kernels/cuda/data_parallel.cuh).
#include "kernels/cuda/data_parallel.cuh"

#include "engine/engine_layout.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/dist_ops.cuh"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace llmplan::kernels::cuda {

DataParallel::DataParallel(EngineState& state) : s_(state), plan_(state.spec.plan) {
#if LLMPLAN_HAVE_NCCL
    const EngineOptions& o = s_.opt;
    if (!o.comm)
        throw std::invalid_argument("GPU engine: " + std::to_string(o.world) +
                                    " ranks need a communicator (EngineOptions::comm)");
    if (o.comm->world() != o.world || o.comm->rank() != o.rank)
        throw std::invalid_argument("GPU engine: the communicator is rank " + std::to_string(o.comm->rank()) + " of " +
                                    std::to_string(o.comm->world()) + ", the options say rank " +
                                    std::to_string(o.rank) + " of " + std::to_string(o.world));
    int device = -1;
    LLMPLAN_CUDA_CHECK(cudaGetDevice(&device));
    if (device != o.comm->device())
        throw std::invalid_argument("GPU engine: the current GPU " + std::to_string(device) +
                                    " is not the communicator's GPU " + std::to_string(o.comm->device()));
    comm_ = o.comm;
    world_ = o.world;
    rank_ = o.rank;
    zero_ = o.zero;
    // This rank's view of the shard plan: where each unit sits in the padded buffers, the backward
    // step that first writes its gradients, and the pieces of parameters this rank updates.
    base_ = dist::padded_bases(plan_);
    for (const dist::Unit& u : plan_.units) first_grad_.push_back(dist::first_grad_step(plan_, u));
    if (zero_ >= 1)
        for (const dist::ParamOwnership& w : plan_.ownership)
            for (const dist::ParamPiece& piece : w.pieces)
                if (piece.rank == rank_) pieces_.push_back({w.param, piece.param_begin, piece.count, piece.shard_offset});
#else
    throw std::invalid_argument("GPU engine: data parallelism (" + std::to_string(s_.opt.world) +
                                " ranks) needs NCCL, and this llmplan was built without it");
#endif
}

DataParallel::~DataParallel() {
    for (cudaEvent_t e : gather_ev_) cudaEventDestroy(e);
    for (cudaEvent_t e : reduce_ev_) cudaEventDestroy(e);
    for (auto& [a, b] : wait_ev_) {
        cudaEventDestroy(a);
        cudaEventDestroy(b);
    }
    if (comp_ev_) cudaEventDestroy(comp_ev_);
    if (comm_ev_) cudaEventDestroy(comm_ev_);
}

void DataParallel::shutdown() noexcept {
    if (comm_) {
        try {
            comm_synchronize();
        } catch (const std::exception&) {  // the communicator aborted itself
        }
    }
}

// ---- views into padded and per-unit buffers ----

ModelParams DataParallel::empty_views() const {
    ModelParams mp;
    mp.layers.resize(sz(s_.L));
    return mp;
}

void DataParallel::set_view(ModelParams& mp, size_t i, void* ptr) const {
    set_engine_view(mp, s_.infos[i].name, ptr, s_.spec.tied);
}

ModelParams DataParallel::views_at(void* base, const std::vector<size_t>& at) const {
    ModelParams mp = empty_views();
    for (size_t i = 0; i < s_.infos.size(); ++i) set_view(mp, i, static_cast<char*>(base) + at[i] * s_.eb);
    return mp;
}

// A unit's parameters in a buffer that holds the unit alone, padded layout from 0.
void DataParallel::unit_views(ModelParams& mp, int u, void* base) const {
    const dist::Unit& un = plan_.units[sz(u)];
    for (size_t i = un.first_param; i < un.last_param; ++i)
        set_view(mp, i, static_cast<char*>(base) + (s_.infos[i].offset - un.flat.begin) * s_.eb);
}

// ---- buffers and initial weights ----

DBuf* DataParallel::shard(BufferRole role) {
    if (role == BufferRole::weights && zero_ == 3) return &param_shard_;
    if (role == BufferRole::gradients && zero_ >= 2) return &grad_shard_;
    return nullptr;
}

void DataParallel::attach(const ProgramBuffer& buffer, void* p) {
    if (buffer.role == BufferRole::gathered) gathered_[sz(buffer.layer)] = p;
    if (buffer.role == BufferRole::staging) {
        staging_[sz(buffer.layer)] = p;
        reduced_[sz(buffer.layer)] = 0;
    }
}

void DataParallel::setup() {
    // fp16: each rank scales its loss by S / world, so that the ranks' summed gradients carry S, as
    // one GPU's do: the same overflow threshold as one GPU on the global batch (PyTorch DDP divides
    // by the world size before its all-reduce for the same reason). loss_scale() reports S.
    if (s_.scaled()) s_.scale = s_.step_scale = s_.opt.loss_scale / static_cast<float>(world_);
    const size_t U = plan_.units.size();
    pos_.assign(s_.infos.size(), 0);
    for (size_t i = 0; i < s_.infos.size(); ++i) {
        const dist::Unit& un = plan_.units[sz(plan_.ownership[i].unit)];
        pos_[i] = zero_ >= 1 ? base_[sz(un.index)] + (s_.infos[i].offset - un.flat.begin) : s_.infos[i].offset;
    }
    LLMPLAN_CUDA_CHECK(cudaMemset(s_.m.get(), 0, s_.m.bytes()));
    LLMPLAN_CUDA_CHECK(cudaMemset(s_.v.get(), 0, s_.v.bytes()));
    if (s_.grads.get()) LLMPLAN_CUDA_CHECK(cudaMemset(s_.grads.get(), 0, s_.grads.bytes()));
    if (grad_shard_.get()) LLMPLAN_CUDA_CHECK(cudaMemset(grad_shard_.get(), 0, grad_shard_.bytes()));
    if (s_.params.get()) {
        s_.P = views_at(s_.params.get(), pos_);
    } else {
        s_.P = empty_views();
    }
    s_.G = s_.grads.get() ? views_at(s_.grads.get(), pos_) : empty_views();
    staging_.assign(U, nullptr);
    reduced_.assign(U, 0);
    gathered_.assign(U, nullptr);
    gather_ev_.assign(U, nullptr);
    reduce_ev_.assign(U, nullptr);
    for (cudaEvent_t& e : gather_ev_) LLMPLAN_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    for (cudaEvent_t& e : reduce_ev_) LLMPLAN_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    LLMPLAN_CUDA_CHECK(cudaEventCreateWithFlags(&comp_ev_, cudaEventDisableTiming));
    LLMPLAN_CUDA_CHECK(cudaEventCreateWithFlags(&comm_ev_, cudaEventDisableTiming));
    exchange_.ensure(sz(world_ + 1) * cuda::kExchangeFloats * sizeof(float));
    LLMPLAN_CUDA_CHECK(cudaMemset(exchange_.p, 0, exchange_.bytes));
}

// The same initial weights as one GPU (the same seed, the same host computation), laid out as the
// stage keeps them: DDP whole; ZeRO-1/2 the padded buffer (padding zero) and this rank's fp32
// master slices; ZeRO-3 this rank's slices only.
void DataParallel::init(std::uint64_t seed) {
    const std::vector<float> host = s_.initial_weights(seed);
    if (zero_ == 0) {
        float* w32 = s_.fp32_weights();
        LLMPLAN_CUDA_CHECK(cudaMemcpy(w32, host.data(), s_.N * 4, cudaMemcpyHostToDevice));
        if (s_.dt != DType::fp32) cuda::convert(*s_.ctx, w32, DType::fp32, s_.params.get(), s_.dt, s_.N);
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(s_.ctx->stream()));
        return;
    }
    Raw tmp;  // outside the books: freed before the first step
    if (zero_ <= 2) {
        std::vector<float> padded(plan_.padded_total, 0.0f);
        for (size_t i = 0; i < s_.infos.size(); ++i)
            std::copy(host.begin() + static_cast<std::ptrdiff_t>(s_.infos[i].offset),
                      host.begin() + static_cast<std::ptrdiff_t>(s_.infos[i].offset + s_.infos[i].size),
                      padded.begin() + static_cast<std::ptrdiff_t>(pos_[i]));
        if (s_.dt == DType::fp32) {
            LLMPLAN_CUDA_CHECK(cudaMemcpy(s_.params.get(), padded.data(), padded.size() * 4, cudaMemcpyHostToDevice));
        } else {
            tmp.ensure(padded.size() * 4);
            LLMPLAN_CUDA_CHECK(cudaMemcpy(tmp.p, padded.data(), padded.size() * 4, cudaMemcpyHostToDevice));
            cuda::convert(*s_.ctx, tmp.p, DType::fp32, s_.params.get(), s_.dt, padded.size());
        }
    }
    std::vector<float> mine(plan_.shard_elements, 0.0f);
    for (const Piece& piece : pieces_) {
        const size_t from = s_.infos[piece.param].offset + piece.param_begin;
        std::copy(host.begin() + static_cast<std::ptrdiff_t>(from),
                  host.begin() + static_cast<std::ptrdiff_t>(from + piece.count),
                  mine.begin() + static_cast<std::ptrdiff_t>(piece.shard_offset));
    }
    if (s_.dt != DType::fp32) {
        LLMPLAN_CUDA_CHECK(cudaMemcpy(s_.master.get(), mine.data(), mine.size() * 4, cudaMemcpyHostToDevice));
        if (zero_ == 3) cuda::convert(*s_.ctx, s_.master.get(), DType::fp32, param_shard_.get(), s_.dt, mine.size());
    } else if (zero_ == 3) {
        LLMPLAN_CUDA_CHECK(cudaMemcpy(param_shard_.get(), mine.data(), mine.size() * 4, cudaMemcpyHostToDevice));
    }
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(s_.ctx->stream()));
}

// ---- the communicator and the two streams ----

[[noreturn]] [[maybe_unused]] static void no_nccl() {
    throw std::logic_error("GPU engine: data parallelism needs NCCL, and this llmplan was built without it");
}

void DataParallel::collective(dist::CommKind kind, const void* send, void* recv, size_t count, const char* purpose, DType type) {
#if LLMPLAN_HAVE_NCCL
    switch (kind) {
        case dist::CommKind::all_reduce: comm_->all_reduce(send, recv, count, type); break;
        case dist::CommKind::reduce_scatter: comm_->reduce_scatter(send, recv, count, type); break;
        case dist::CommKind::all_gather: comm_->all_gather(send, recv, count, type); break;
    }
    purposes_.emplace_back(purpose);
#else
    (void)kind, (void)send, (void)recv, (void)count, (void)purpose, (void)type;
    no_nccl();
#endif
}

void DataParallel::comm_record(cudaEvent_t e) {
#if LLMPLAN_HAVE_NCCL
    comm_->record(e);
#else
    (void)e;
    no_nccl();
#endif
}

void DataParallel::comm_synchronize() {
#if LLMPLAN_HAVE_NCCL
    comm_->synchronize();
#else
    no_nccl();
#endif
}

std::vector<CommCall> DataParallel::comm_take() {
#if LLMPLAN_HAVE_NCCL
    return comm_->take_calls();
#else
    no_nccl();
#endif
}

// The communication stream waits for everything enqueued on the compute stream so far.
void DataParallel::comm_after_compute() {
    LLMPLAN_CUDA_CHECK(cudaEventRecord(comp_ev_, s_.ctx->stream()));
#if LLMPLAN_HAVE_NCCL
    comm_->wait_for(comp_ev_);
#else
    no_nccl();
#endif
}

// The compute stream waits for an event of the communication stream, timed from both sides.
void DataParallel::compute_wait(cudaEvent_t e, const char* purpose) {
    if (waits_ == wait_ev_.size()) {
        cudaEvent_t a = nullptr, b = nullptr;
        LLMPLAN_CUDA_CHECK(cudaEventCreate(&a));
        const cudaError_t err = cudaEventCreate(&b);
        if (err != cudaSuccess) cudaEventDestroy(a);
        LLMPLAN_CUDA_CHECK(err);
        wait_ev_.emplace_back(a, b);
    }
    if (wait_purposes_.size() < waits_ + 1) wait_purposes_.resize(waits_ + 1);
    wait_purposes_[waits_] = purpose;
    const auto [before, after] = wait_ev_[waits_++];
    LLMPLAN_CUDA_CHECK(cudaEventRecord(before, s_.ctx->stream()));
    LLMPLAN_CUDA_CHECK(cudaStreamWaitEvent(s_.ctx->stream(), e, 0));
    LLMPLAN_CUDA_CHECK(cudaEventRecord(after, s_.ctx->stream()));
}

// ---- the passes' hooks (forward step / backward step k = compute step, pass position p) ----

void DataParallel::gather_unit(int u, const char* purpose) {
    const dist::Unit& un = plan_.units[sz(u)];
    void* buffer = gathered_[sz(u)];
    if (!buffer)
        throw std::logic_error("GPU engine: the program allocated no buffer to gather unit " + std::to_string(u) + " into");
    unit_views(s_.P, u, buffer);
    comm_after_compute();  // the block may have been compute's until now
    collective(dist::CommKind::all_gather, static_cast<const char*>(param_shard_.get()) + un.shard_offset * s_.eb,
               buffer, un.shard, purpose, s_.dt);
    comm_record(gather_ev_[sz(u)]);
}

void DataParallel::forward_before(int p) {
    if (zero_ != 3) return;
    for (const dist::GatherEvent& g : plan_.forward.gathers)
        if (g.issue_at == p) gather_unit(g.unit, "parameter all-gather, forward");
    for (const dist::GatherEvent& g : plan_.forward.gathers)
        if (g.first_use == p) compute_wait(gather_ev_[sz(g.unit)], "parameter all-gather, forward");
}

void DataParallel::backward_before(int k) {
    const int p = s_.L + 1 - k;
    if (zero_ == 3)
        for (const dist::GatherEvent& g : plan_.backward.gathers)
            if (g.issue_at == p) gather_unit(g.unit, "parameter all-gather, backward");
    if (zero_ >= 2)
        for (size_t u = 0; u < plan_.units.size(); ++u) {
            if (first_grad_[u] != k) continue;
            if (!staging_[u])
                throw std::logic_error("GPU engine: the program allocated no gradient staging for unit " + std::to_string(u));
            LLMPLAN_CUDA_CHECK(cudaMemsetAsync(staging_[u], 0, plan_.units[u].padded * s_.eb, s_.ctx->stream()));
            unit_views(s_.G, static_cast<int>(u), staging_[u]);
        }
    if (zero_ == 3)
        for (const dist::GatherEvent& g : plan_.backward.gathers)
            if (g.first_use == p) compute_wait(gather_ev_[sz(g.unit)], "parameter all-gather, backward");
}

// The staging buffers whose reduce-scatter was issued earlier: compute waits for the latest (the
// communication stream runs in order); the program's free events then give them back.
void DataParallel::release_in_flight() {
    if (in_flight_.empty()) return;
    compute_wait(reduce_ev_[sz(in_flight_.back())], "gradient reduce-scatter");
    in_flight_.clear();
}

void DataParallel::backward_after(int k) {
    const int p = s_.L + 1 - k;
    std::vector<int> ready;
    if (zero_ == 3) {
        for (const dist::ReduceEvent& r : plan_.backward.reduces)
            if (r.after == p) ready.push_back(r.unit);
    } else {
        for (size_t u = 0; u < plan_.units.size(); ++u)
            if (plan_.units[u].ready_after_step == k) ready.push_back(static_cast<int>(u));
    }
    if (!ready.empty()) {
        if (zero_ >= 2) release_in_flight();
        comm_after_compute();  // the bucket's gradients are written
        for (const int u : ready) {
            const dist::Unit& un = plan_.units[sz(u)];
            if (zero_ == 0) {
                char* b = static_cast<char*>(s_.grads.get()) + un.flat.begin * s_.eb;
                collective(dist::CommKind::all_reduce, b, b, un.flat.end - un.flat.begin, "gradient all-reduce", s_.dt);
            } else if (zero_ == 1) {  // in place: this rank's slice of the padded bucket
                char* b = static_cast<char*>(s_.grads.get()) + base_[sz(un.index)] * s_.eb;
                collective(dist::CommKind::reduce_scatter, b, b + sz(rank_) * un.shard * s_.eb, un.shard,
                           "gradient reduce-scatter", s_.dt);
            } else {
                collective(dist::CommKind::reduce_scatter, staging_[sz(u)],
                           static_cast<char*>(grad_shard_.get()) + un.shard_offset * s_.eb, un.shard,
                           "gradient reduce-scatter", s_.dt);
                comm_record(reduce_ev_[sz(u)]);
                reduced_[sz(u)] = 1;
                in_flight_.push_back(u);
            }
        }
    }
}

// End of the backward: compute waits for every collective; every staging buffer still held (the
// program frees them next) must have been reduce-scattered.
void DataParallel::backward_finish() {
    comm_record(comm_ev_);
    compute_wait(comm_ev_, zero_ == 0 ? "gradient all-reduce" : "gradient reduce-scatter");
    for (size_t u = 0; u < staging_.size(); ++u)
        if (staging_[u] && !reduced_[u])
            throw std::logic_error("GPU engine: a gradient staging buffer was never reduce-scattered");
    in_flight_.clear();
}

// ---- the optimizer over this rank's slices ----

// This rank's record (norm's partial sum when `norm`, the overflow flag) to every rank, combined.
void DataParallel::exchange_values(float* norm, int* overflow, double divide_by) {
    float* record = static_cast<float*>(exchange_.p);
    float* records = record + cuda::kExchangeFloats;
    cuda::exchange_flag(*s_.ctx, overflow, record);
    comm_after_compute();
    collective(dist::CommKind::all_gather, record, records, cuda::kExchangeFloats, "norm and overflow all-gather",
               DType::fp32);
    comm_record(comm_ev_);
    compute_wait(comm_ev_, "norm and overflow all-gather");
    cuda::exchange_finish(*s_.ctx, records, world_, divide_by, norm, overflow);
}

void DataParallel::optimizer(const EngineAdamW& o) {
    s_.pools.set_phase(MemoryPhase::optimizer);
    int* overflow = s_.scaled() ? s_.scalars_overflow() : nullptr;
    // The summed gradients carry world × what each rank's carry (fp16: its scale S / world, so S):
    // the norm divides by it, AdamW multiplies by its inverse (exact for a power-of-two world).
    const double divide_by = static_cast<double>(s_.scaled() ? s_.step_scale : 1.0f) * world_;
    std::vector<cuda::BufferRef> mine;  // the reduced gradient elements this rank holds
    if (zero_ == 0) {
        mine.push_back({s_.grads.get(), s_.N, s_.dt});
    } else if (zero_ == 1) {
        for (const dist::Unit& un : plan_.units)
            mine.push_back({static_cast<const char*>(s_.grads.get()) + (base_[sz(un.index)] + sz(rank_) * un.shard) * s_.eb, un.shard, s_.dt});
    } else {
        mine.push_back({grad_shard_.get(), plan_.shard_elements, s_.dt});
    }
    if (overflow) {
        LLMPLAN_CUDA_CHECK(cudaMemsetAsync(overflow, 0, sizeof(int), s_.ctx->stream()));
        for (const cuda::BufferRef& b : mine) cuda::check_nonfinite(*s_.ctx, b.data, b.n, s_.dt, overflow);
    }
    if (zero_ == 0) {  // every rank holds the whole reduced gradient: the same norm everywhere
        cuda::global_norm(*s_.ctx, mine, s_.scalars_norm(), divide_by);
        if (overflow) exchange_values(nullptr, overflow, divide_by);
    } else {
        cuda::exchange_sum_squares(*s_.ctx, mine, static_cast<float*>(exchange_.p));
        exchange_values(s_.scalars_norm(), overflow, divide_by);
    }
    const int step = s_.scaled() ? s_.steps + 1 : ++s_.steps;
    const float grad_scale = static_cast<float>(1.0 / divide_by);
    const AdamWHyper h = adamw_hyper(o);
    const float* clip = o.max_grad_norm > 0 ? s_.scalars_norm() : nullptr;
    if (zero_ == 0) {
        for (const EngineParam& p : s_.infos) {
            void* copy = s_.dt == DType::fp32 ? nullptr : static_cast<char*>(s_.params.get()) + p.offset * s_.eb;
            cuda::adamw_update(*s_.ctx, s_.fp32_weights() + p.offset, static_cast<const char*>(s_.grads.get()) + p.offset * s_.eb, s_.dt,
                               s_.m.f() + p.offset, s_.v.f() + p.offset, p.size, h, step, grad_scale, clip, o.max_grad_norm,
                               p.decay, overflow, copy, s_.dt);
        }
    } else {
        for (const Piece& piece : pieces_) {
            const EngineParam& p = s_.infos[piece.param];
            const size_t at = pos_[piece.param] + piece.param_begin;  // in the padded buffers (ZeRO-1/2)
            const void* g = zero_ == 1 ? static_cast<const void*>(static_cast<const char*>(s_.grads.get()) + at * s_.eb)
                                      : static_cast<const void*>(static_cast<const char*>(grad_shard_.get()) +
                                                                 piece.shard_offset * s_.eb);
            float* w = nullptr;
            void* copy = nullptr;
            if (s_.dt == DType::fp32) {
                w = zero_ <= 2 ? s_.params.f() + at : static_cast<float*>(param_shard_.get()) + piece.shard_offset;
            } else {
                w = s_.master.f() + piece.shard_offset;
                copy = zero_ <= 2 ? static_cast<void*>(static_cast<char*>(s_.params.get()) + at * s_.eb)
                                 : static_cast<void*>(static_cast<char*>(param_shard_.get()) + piece.shard_offset * s_.eb);
            }
            cuda::adamw_update(*s_.ctx, w, g, s_.dt, s_.m.f() + piece.shard_offset, s_.v.f() + piece.shard_offset, piece.count, h, step,
                               grad_scale, clip, o.max_grad_norm, p.decay, overflow, copy, s_.dt);
        }
        if (zero_ <= 2) {  // every rank's updated slices to every rank, in place, bucket by bucket
            comm_after_compute();
            for (const dist::Unit& un : plan_.units) {
                char* b = static_cast<char*>(s_.params.get()) + base_[sz(un.index)] * s_.eb;
                collective(dist::CommKind::all_gather, b + sz(rank_) * un.shard * s_.eb, b, un.shard, "parameter all-gather",
                           s_.dt);
            }
            comm_record(comm_ev_);
            compute_wait(comm_ev_, "parameter all-gather");
        }
    }
    s_.pools.set_phase(MemoryPhase::idle);
}

// ---- after the step ----

// The step's collectives (times from the communicator's event pairs) and the compute stream's
// waits; the compute stream must be synchronised (train_step's last event).
void DataParallel::take_step_comm(EngineStepStats& st) {
    const std::vector<CommCall> calls = comm_take();
    if (calls.size() != purposes_.size())
        throw std::logic_error("GPU engine: " + std::to_string(calls.size()) + " collectives ran, " +
                               std::to_string(purposes_.size()) + " were issued");
    for (size_t i = 0; i < calls.size(); ++i) {
        st.comm.push_back({calls[i].kind, purposes_[i], calls[i].bytes, calls[i].count, calls[i].ms});
        st.comm_ms += calls[i].ms;
    }
    for (size_t i = 0; i < waits_; ++i) {
        float ms = 0;
        LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, wait_ev_[i].first, wait_ev_[i].second));
        st.exposed_ms += ms;
        st.waits.push_back({wait_purposes_[i], ms});
    }
    waits_ = 0;
    purposes_.clear();
}

// Forgets the collectives and waits recorded so far (outside train_step).
void DataParallel::drain_comm() {
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(s_.ctx->stream()));
    (void)comm_take();
    waits_ = 0;
    purposes_.clear();
}

// The fp32 weights in params() order. ZeRO-1/2 in fp32 hold them whole; otherwise every rank's
// slices are all-gathered (a collective: every rank must call it).
std::vector<float> DataParallel::parameters() {
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(s_.ctx->stream()));
    std::vector<float> out(s_.N);
    if (zero_ == 0) {
        LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), s_.fp32_weights(), s_.N * 4, cudaMemcpyDeviceToHost));
        return out;
    }
    std::vector<float> padded(plan_.padded_total);
    if (zero_ <= 2 && s_.dt == DType::fp32) {
        LLMPLAN_CUDA_CHECK(cudaMemcpy(padded.data(), s_.params.get(), padded.size() * 4, cudaMemcpyDeviceToHost));
    } else {
        const float* shard = s_.dt == DType::fp32 ? param_shard_.f() : s_.master.f();
        Raw tmp;
        tmp.ensure(padded.size() * 4);
        comm_after_compute();
        for (const dist::Unit& un : plan_.units)
            collective(dist::CommKind::all_gather, shard + un.shard_offset, static_cast<float*>(tmp.p) + base_[sz(un.index)],
                       un.shard, "weights to the host", DType::fp32);
        comm_synchronize();
        LLMPLAN_CUDA_CHECK(cudaMemcpy(padded.data(), tmp.p, padded.size() * 4, cudaMemcpyDeviceToHost));
        drain_comm();
    }
    for (size_t i = 0; i < s_.infos.size(); ++i)
        std::copy(padded.begin() + static_cast<std::ptrdiff_t>(pos_[i]),
                  padded.begin() + static_cast<std::ptrdiff_t>(pos_[i] + s_.infos[i].size),
                  out.begin() + static_cast<std::ptrdiff_t>(s_.infos[i].offset));
    return out;
}

}  // namespace llmplan::kernels::cuda
