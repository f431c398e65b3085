// engine.cu — the GPU training engine (kernels/engine.h): GpuModel and its state GpuModel::Impl,
// ReferenceModel's structure (reference/model.cpp) on the device ops of kernels/cuda/ops.cuh; the
// data parallelism is the DataParallel it owns (kernels/cuda/data_parallel.cuh). The step is the
// program of engine/program.h, iterated as the reference iterates it: run() walks its events
// (phases on the arenas, buffers allocated and freed through them, by program buffer id) and
// stretch() launches each mark's kernels in the order of the program's kernel events.
#include "kernels/engine.h"

#include "core/error.h"
#include "engine/init.h"
#include "engine/logits_stride.h"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/data_parallel.cuh"
#include "kernels/cuda/engine_state.cuh"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

namespace llmplan::kernels {

bool engine_gpu_available(std::string* why) {
    int n = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        if (why) *why = std::string("no usable CUDA driver or GPU (") + cudaGetErrorString(err) + ")";
        cudaGetLastError();
        return false;
    }
    if (n == 0) {
        if (why) *why = "no CUDA GPU found";
        return false;
    }
    return true;
}

namespace {

using std::size_t;
using cuda::Context;
using cuda::DBuf;
using cuda::LayerParams;
using cuda::ModelParams;
using cuda::Raw;
using cuda::sz;

// One layer's tensors, indexed by LayerField (engine/program.h).
using LayerView = std::array<void*, kLayerFields>;
using F = LayerField;
constexpr size_t fi(LayerField f) { return static_cast<size_t>(f); }  // a[fi(F::q)]

}  // namespace

namespace cuda {

EngineState::EngineState(const EngineShape& shape, const EngineOptions& o) : spec(shape), opt(o) {
    dt = opt.precision;
    eb = dtype_bytes(dt);
    L = spec.layers;
    infos = spec.params;
    N = 0;
    for (const EngineParam& p : infos) N = std::max(N, p.offset + p.size);
}

const EngineParam* EngineState::find(const std::string& name) const {
    for (const EngineParam& p : infos)
        if (p.name == name) return &p;
    return nullptr;
}

ModelParams EngineState::views(void* base) const { return engine_param_views(infos, L, spec.tied, base, eb); }

std::vector<float> EngineState::initial_weights(std::uint64_t seed) const {
    std::vector<float> host(N);
    engine_initial_weights(infos, seed, opt.init_std, host.data());  // engine/init.h, as the reference
    return host;
}

}  // namespace cuda

struct GpuModel::Impl : cuda::EngineState, ProgramIndex {
    int B = 0, S = 0, T = 0;  // T: one micro-batch's tokens
    int A = 1, micro = 0;     // micro-batches per optimizer step (engine/program.h) and the one running
    int d = 0, H = 0, KVH = 0, hd = 0, qd = 0, kvd = 0, f = 0, V = 0;
    int Vp = 0;  // the logits' row stride (dist::logits_row_stride: V padded to 64 in 16-bit storage)
    bool layernorm = true, swiglu = false, rotary = false, eager = false;

    ModelSpec model;  // what the step program is built from

    // The step's program for the current B × S (engine/program.h), as the reference's
    // (reference/model.cpp program_for): its buffers, allocated and freed on its events through
    // the arenas (bufs, by program buffer index), and which buffer holds what.
    EngineProgram prog;
    std::vector<DBuf> bufs;
    Raw ids_dev, targets_dev, pos_dev;
    cudaEvent_t ev[4] = {nullptr, nullptr, nullptr, nullptr};
    std::vector<cudaEvent_t> micro_ev;  // accumulation: after micro-batch 1 … A − 1's forward and backward
    cudaEvent_t micro_event(int i) {
        while (micro_ev.size() <= sz(i)) {
            cudaEvent_t e = nullptr;
            LLMPLAN_CUDA_CHECK(cudaEventCreate(&e));
            micro_ev.push_back(e);
        }
        return micro_ev[sz(i)];
    }
    bool has_wpe = false;  // learned positions (P.wpe is only a view: ZeRO-3 sets it while the unit is gathered)
    // Data parallelism (world > 1; docs/MULTI_GPU.md "The engine"), null on one GPU.
    std::unique_ptr<cuda::DataParallel> dp;

    Impl(const ModelSpec& model_spec, const EngineShape& shape, const EngineOptions& o, std::uint64_t seed)
        : EngineState(shape, o), model(model_spec) {
        if (dt == DType::fp16) scale = step_scale = opt.loss_scale;
        d = spec.d;
        H = spec.heads;
        KVH = spec.kv_heads;
        hd = spec.head_dim;
        qd = H * hd;
        kvd = KVH * hd;
        f = spec.d_ff;
        V = spec.vocab;
        Vp = static_cast<int>(dist::logits_row_stride(V, dt != DType::fp32));
        layernorm = spec.layernorm;
        swiglu = spec.swiglu;
        rotary = spec.rotary;
        eager = opt.eager;
        has_wpe = find("embed_positions.weight") != nullptr;
        if (opt.world > 1) dp = std::make_unique<cuda::DataParallel>(*this);  // before any device work: checks the communicator
        ctx = std::make_unique<Context>(nullptr);
        for (auto& e : ev) LLMPLAN_CUDA_CHECK(cudaEventCreate(&e));
        allocate_statics(build_engine_program(model, engine_step_options(opt)));
        if (!dp) {
            LLMPLAN_CUDA_CHECK(cudaMemset(m.get(), 0, m.bytes()));
            LLMPLAN_CUDA_CHECK(cudaMemset(v.get(), 0, v.bytes()));
            LLMPLAN_CUDA_CHECK(cudaMemset(grads.get(), 0, grads.bytes()));
            P = views(params.get());
            G = views(grads.get());
            init(seed);
        } else {
            dp->setup();
            dp->init(seed);
        }
        scalars.ensure(256);
    }

    // The step's buffers go back to the arenas with `bufs` (host bookkeeping only; the arenas'
    // device memory is freed last, with EngineState).
    ~Impl() {
        if (ctx) cudaStreamSynchronize(ctx->stream());
        if (dp) dp->shutdown();
        for (auto& e : ev)
            if (e) cudaEventDestroy(e);
        for (cudaEvent_t e : micro_ev) cudaEventDestroy(e);
    }

    // The weights, gradients, master weights and AdamW moments: the program's allocations before
    // its first phase event, each in its slot (ZeRO's shards in DataParallel's).
    void allocate_statics(const EngineProgram& statics) {
        if (dp && (statics.shards.padded_total != spec.plan.padded_total ||
                   statics.shards.shard_elements != spec.plan.shard_elements))
            throw std::logic_error("GPU engine: the step program's shard plan is not the engine's");
        for (const ProgramEvent& e : statics.events) {
            if (e.kind == ProgramEvent::Kind::phase) break;
            if (e.kind != ProgramEvent::Kind::alloc) continue;
            const ProgramBuffer& b = statics.buffers[sz(e.buffer)];
            static_buffer(b) = DBuf(pools, b.category, b.elements * b.element_bytes);
        }
    }

    DBuf& static_buffer(const ProgramBuffer& b) {
        if (dp)
            if (DBuf* shard = dp->shard(b.role)) return *shard;
        switch (b.role) {
            case BufferRole::weights: return params;
            case BufferRole::gradients: return grads;
            case BufferRole::master: return master;
            case BufferRole::adam_m: return m;
            case BufferRole::adam_v: return v;
            default: break;
        }
        throw std::logic_error("GPU engine: unexpected static buffer " + b.name());
    }

    // The reference's initialisation, computed on the host and uploaded.
    void init(std::uint64_t seed) {
        const std::vector<float> host = initial_weights(seed);
        float* w32 = fp32_weights();
        LLMPLAN_CUDA_CHECK(cudaMemcpy(w32, host.data(), N * 4, cudaMemcpyHostToDevice));
        if (dt != DType::fp32) cuda::convert(*ctx, w32, DType::fp32, params.get(), dt, N);
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(ctx->stream()));
    }

    // ---- geometry and storage ----

    void begin(const std::vector<int>& ids, const std::vector<int>& targets, int batch, int seq, int accumulation) {
        if (accumulation <= 0)
            throw std::invalid_argument("GPU engine: micro-batches per step must be positive (got " +
                                        std::to_string(accumulation) + ")");
        if (accumulation > 1 && dp)
            throw std::invalid_argument("GPU engine: gradient accumulation runs on one GPU (world " +
                                        std::to_string(opt.world) + ")");
        if (batch <= 0 || seq <= 0)
            throw std::invalid_argument("GPU engine: batch and sequence must be positive (got " + std::to_string(batch) + " × " +
                             std::to_string(seq) + ")");
        if (has_wpe && seq > spec.max_positions)
            throw std::invalid_argument("GPU engine: sequence " + std::to_string(seq) + " exceeds the " +
                             std::to_string(spec.max_positions) + " learned positions");
        const auto tokens = static_cast<std::int64_t>(batch) * seq;
        if (tokens * accumulation > std::numeric_limits<int>::max())
            throw std::invalid_argument("GPU engine: too many tokens in one step");
        const auto all = static_cast<size_t>(tokens * accumulation);
        if (ids.size() != all || targets.size() != all)
            throw std::invalid_argument("GPU engine: ids and targets must hold micro-batches × batch × sequence = " +
                                        std::to_string(all) + " tokens (got " + std::to_string(ids.size()) + " and " +
                                        std::to_string(targets.size()) + ")");
        for (int id : ids)
            if (id < 0 || id >= V)
                throw std::invalid_argument("GPU engine: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                 std::to_string(V) + ")");
        for (int t : targets)
            if (t < -1 || t >= V)
                throw std::invalid_argument("GPU engine: target " + std::to_string(t) + " is outside [0, " + std::to_string(V) +
                                 ") and not −1");
        B = batch;
        S = seq;
        T = static_cast<int>(tokens);
        A = accumulation;
        micro = 0;
        const size_t all_bytes = all * sizeof(int), bytes = sz(T) * sizeof(int);
        ids_dev.ensure(all_bytes);
        targets_dev.ensure(all_bytes);
        LLMPLAN_CUDA_CHECK(cudaMemcpyAsync(ids_dev.p, ids.data(), all_bytes, cudaMemcpyHostToDevice, ctx->stream()));
        LLMPLAN_CUDA_CHECK(cudaMemcpyAsync(targets_dev.p, targets.data(), all_bytes, cudaMemcpyHostToDevice, ctx->stream()));
        if (has_wpe) {
            std::vector<int> positions(sz(T));
            for (int t = 0; t < T; ++t) positions[sz(t)] = t % S;
            pos_dev.ensure(bytes);
            LLMPLAN_CUDA_CHECK(cudaMemcpy(pos_dev.p, positions.data(), bytes, cudaMemcpyHostToDevice));
        }
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(ctx->stream()));  // the host vectors may go
        program_for(batch, seq, accumulation);
    }

    // The program for B × S × A and its index of buffers by role (built when one of them changes).
    void program_for(int batch, int seq, int accumulation) {
        if (!bufs.empty() && prog.options.micro_batch == batch && prog.options.seq == seq &&
            prog.options.accumulation == accumulation)
            return;
        prog = build_engine_program(model, engine_step_options(opt, batch, seq, accumulation));
        if (prog.element_bytes != static_cast<double>(eb) || prog.logits_row != Vp)
            throw std::logic_error("GPU engine: the step program's storage is not the engine's");
        bufs = std::vector<DBuf>(prog.buffers.size());
        static_cast<ProgramIndex&>(*this) = index_program(prog, L);
    }

    void* ptr(int id) const { return id < 0 ? nullptr : bufs[sz(id)].get(); }
    // The running micro-batch's token ids and targets (all A micro-batches are on the device).
    const int* micro_ids() const { return static_cast<const int*>(ids_dev.p) + sz(micro) * sz(T); }
    const int* micro_targets() const { return static_cast<const int*>(targets_dev.p) + sz(micro) * sz(T); }

    // Pointers for layer l: the kept fields from saved[l], the rest from the shared scratch.
    LayerView layer_view(int l) const {
        LayerView view{};
        for (size_t i = 0; i < sz(kLayerFields); ++i) view[i] = ptr(saved[sz(l)][i] >= 0 ? saved[sz(l)][i] : scratch[i]);
        return view;
    }

    // ---- math ----

    DType gdt() const { return dt; }

    void norm_forward(const void* x, const void* w, const void* b, void* y, void* mean, void* rstd) {
        if (layernorm)
            cuda::layernorm_forward(*ctx, x, w, b, y, static_cast<float*>(mean), static_cast<float*>(rstd), T, d,
                                    opt.norm_eps, dt);
        else
            cuda::rmsnorm_forward(*ctx, x, w, y, static_cast<float*>(rstd), T, d, opt.norm_eps, dt);
    }

    void norm_backward(const void* x, const void* w, const void* mean, const void* rstd, const void* dy, void* dx, void* dw,
                       void* db) {
        if (layernorm)
            cuda::layernorm_backward(*ctx, x, w, static_cast<const float*>(mean), static_cast<const float*>(rstd), dy, dx, dw,
                                     db, T, d, dt, gdt());
        else
            cuda::rmsnorm_backward(*ctx, x, w, static_cast<const float*>(rstd), dy, dx, dw, T, d, dt, gdt());
    }

    void attention_core(const LayerView& a) {
        if (eager)
            cuda::attention_eager_forward(*ctx, a[fi(F::q)], a[fi(F::k)], a[fi(F::v)], a[fi(F::att)], a[fi(F::probs)], B,
                                          S, H, KVH, hd, dt);
        else
            cuda::attention_flash_forward(*ctx, a[fi(F::q)], a[fi(F::k)], a[fi(F::v)], a[fi(F::att)],
                                          static_cast<float*>(a[fi(F::lse)]), B, S, H, KVH, hd, dt);
    }

    void linear(const void* x, const void* w, const void* b, void* y, int k, int n) {
        cuda::linear_forward(*ctx, x, w, b, y, T, k, n, dt);
    }
    // accumulate: dx += (q/k/v and gate/up share their input; their input gradients are summed
    // by the GEMM's beta = 1 instead of an add kernel).
    void linear_back(const void* x, const void* w, const void* dy, void* dx, void* dw, void* db, int k, int n,
                     bool accumulate = false) {
        cuda::linear_backward(*ctx, x, w, dy, dx, dw, db, T, k, n, dt, gdt(), 0, accumulate);
    }
    void add(void* y, const void* x, size_t n) { cuda::residual_add(*ctx, y, x, y, n, dt); }

    void layer_forward(const LayerParams& p, const void* x, const LayerView& a, void* x_out) {
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        norm_forward(x, p.ln1_w, p.ln1_b, a[fi(F::ln1_out)], a[fi(F::ln1_mean)], a[fi(F::ln1_rstd)]);
        linear(a[fi(F::ln1_out)], p.wq, p.bq, a[fi(F::q)], d, qd);
        linear(a[fi(F::ln1_out)], p.wk, p.bk, a[fi(F::k)], d, kvd);
        linear(a[fi(F::ln1_out)], p.wv, p.bv, a[fi(F::v)], d, kvd);
        if (rotary) {
            cuda::rotary_forward(*ctx, a[fi(F::q)], B, S, H, hd, opt.rope_base, dt);
            cuda::rotary_forward(*ctx, a[fi(F::k)], B, S, KVH, hd, opt.rope_base, dt);
        }
        attention_core(a);
        linear(a[fi(F::att)], p.wo, p.bo, a[fi(F::x_mid)], qd, d);
        add(a[fi(F::x_mid)], x, td);
        norm_forward(a[fi(F::x_mid)], p.ln2_w, p.ln2_b, a[fi(F::ln2_out)], a[fi(F::ln2_mean)], a[fi(F::ln2_rstd)]);
        if (swiglu) {
            linear(a[fi(F::ln2_out)], p.wg, p.bg, a[fi(F::fc)], d, f);
            linear(a[fi(F::ln2_out)], p.wu, p.bu, a[fi(F::up)], d, f);
            cuda::swiglu_forward(*ctx, a[fi(F::fc)], a[fi(F::up)], a[fi(F::act)], tf, dt);
        } else {  // fc and its GELU in one GEMM in 16-bit storage (linear.cu)
            cuda::linear_gelu_forward(*ctx, a[fi(F::ln2_out)], p.wu, p.bu, a[fi(F::fc)], a[fi(F::act)], T, d, f, dt);
        }
        if (!x_out) return;
        linear(a[fi(F::act)], p.wd, p.bd, x_out, f, d);
        add(x_out, a[fi(F::x_mid)], td);
    }

    // The backward's gradient buffers (engine/program.h GradField).
    struct GradWork {
        void *ln, *res, *tmp, *att, *dq, *dk, *dv, *act, *fc, *up;
    };
    GradWork grad_work() const {
        auto g = [&](GradField x) { return ptr(gradw[static_cast<size_t>(x)]); };
        return {g(GradField::ln), g(GradField::res), g(GradField::tmp), g(GradField::att), g(GradField::dq),
                g(GradField::dk), g(GradField::dv), g(GradField::act), g(GradField::fc), g(GradField::up)};
    }

    // w.res holds dL/d(x_out) on entry and dL/d(x) on exit.
    void layer_backward(const LayerParams& p, LayerParams& g, const void* x, const LayerView& a, const GradWork& w) {
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        if (swiglu)
            linear_back(a[fi(F::act)], p.wd, w.res, w.act, g.wd, g.bd, f, d);
        else  // the down projection's dx through GELU' in one GEMM: the gradient of fc's output
            cuda::linear_backward(*ctx, a[fi(F::act)], p.wd, w.res, w.fc, g.wd, g.bd, T, f, d, dt, gdt(), 0, false,
                                  a[fi(F::fc)]);
        if (swiglu) {
            cuda::swiglu_backward(*ctx, a[fi(F::fc)], a[fi(F::up)], w.act, w.fc, w.up, tf, dt);
            linear_back(a[fi(F::ln2_out)], p.wg, w.fc, w.ln, g.wg, g.bg, d, f);
            linear_back(a[fi(F::ln2_out)], p.wu, w.up, w.ln, g.wu, g.bu, d, f, true);
        } else {
            linear_back(a[fi(F::ln2_out)], p.wu, w.fc, w.ln, g.wu, g.bu, d, f);
        }
        norm_backward(a[fi(F::x_mid)], p.ln2_w, a[fi(F::ln2_mean)], a[fi(F::ln2_rstd)], w.ln, w.tmp, g.ln2_w, g.ln2_b);
        add(w.res, w.tmp, td);
        linear_back(a[fi(F::att)], p.wo, w.res, w.att, g.wo, g.bo, qd, d);
        if (eager)
            cuda::attention_eager_backward(*ctx, a[fi(F::q)], a[fi(F::k)], a[fi(F::v)], a[fi(F::probs)], w.att, w.dq, w.dk,
                                           w.dv, B, S, H, KVH, hd, dt);
        else
            cuda::attention_flash_backward(*ctx, a[fi(F::q)], a[fi(F::k)], a[fi(F::v)], a[fi(F::att)],
                                           static_cast<const float*>(a[fi(F::lse)]), w.att, w.dq, w.dk, w.dv, B, S, H, KVH,
                                           hd, dt);
        if (rotary) {
            cuda::rotary_backward(*ctx, w.dq, B, S, H, hd, opt.rope_base, dt);
            cuda::rotary_backward(*ctx, w.dk, B, S, KVH, hd, opt.rope_base, dt);
        }
        linear_back(a[fi(F::ln1_out)], p.wq, w.dq, w.ln, g.wq, g.bq, d, qd);
        linear_back(a[fi(F::ln1_out)], p.wk, w.dk, w.ln, g.wk, g.bk, d, kvd, true);
        linear_back(a[fi(F::ln1_out)], p.wv, w.dv, w.ln, g.wv, g.bv, d, kvd, true);
        norm_backward(x, p.ln1_w, a[fi(F::ln1_mean)], a[fi(F::ln1_rstd)], w.ln, w.tmp, g.ln1_w, g.ln1_b);
        add(w.res, w.tmp, td);
    }

    // ---- passes ----

    // Runs the program's events from `begin` up to (not including) the first event of phase
    // `until` — or its forward_end mark when `until` is backward (as reference/model.cpp run): the
    // phases on the arenas, each allocation and free through them (ZeRO's gathered units and
    // gradient staging handed to DataParallel), each stretch's kernels at its mark.
    void run(size_t begin, MemoryPhase until) {
        for (size_t i = begin; i < prog.events.size(); ++i) {
            const ProgramEvent& e = prog.events[i];
            switch (e.kind) {
                case ProgramEvent::Kind::phase:
                    if (i != begin && e.phase == until) return;
                    pools.set_phase(e.phase);
                    break;
                case ProgramEvent::Kind::alloc: {
                    const ProgramBuffer& b = prog.buffers[sz(e.buffer)];
                    DBuf& buf = bufs[sz(e.buffer)];
                    buf = DBuf(pools, b.category, b.elements * b.element_bytes);
                    if (dp) dp->attach(b, buf.get());
                    break;
                }
                case ProgramEvent::Kind::free:
                    if (dp) dp->attach(prog.buffers[sz(e.buffer)], nullptr);
                    // Device memory handed back to the arenas is reused by later kernels on the
                    // same stream only, so no synchronisation is needed before releasing it.
                    bufs[sz(e.buffer)].reset();
                    break;
                case ProgramEvent::Kind::kernel: break;  // launched by the stretch at the mark before it
                case ProgramEvent::Kind::mark:
                    if (e.mark == StepMark::forward_end && until == MemoryPhase::backward) return;
                    stretch(e);
                    break;
            }
        }
    }

    // One stretch of the step, at its mark (engine/program.h StepMark), with the data-parallel
    // hooks around it: forward_before(p) before forward step p (0 embeddings, 1 … L layers, L + 1
    // the final norm and head); backward_before(k) and backward_after(k) around backward step k
    // (L + 1 the head and final norm, L … 1 the layers, 0 the embeddings), backward_finish() last.
    void stretch(const ProgramEvent& e) {
        const size_t td = sz(T) * sz(d);
        switch (e.mark) {
            case StepMark::embed_forward: {
                if (dp) dp->forward_before(0);
                void* x = ptr(resid[0]);
                cuda::embedding_forward(*ctx, P.wte, micro_ids(), x, T, d, dt);
                if (P.wpe) {
                    void* pe = ctx->scratch(td * eb);  // kernel scratch: dead after the add
                    cuda::embedding_forward(*ctx, P.wpe, static_cast<const int*>(pos_dev.p), pe, T, d, dt);
                    add(x, pe, td);
                }
                break;
            }
            case StepMark::layer_forward: {
                const int l = e.layer;
                if (dp) dp->forward_before(l + 1);
                layer_forward(P.layers[sz(l)], ptr(resid[sz(l)]), layer_view(l), ptr(resid[sz(l + 1)]));
                break;
            }
            case StepMark::final_norm_forward:
                if (dp) dp->forward_before(L + 1);
                norm_forward(ptr(resid[sz(L)]), P.lnf_w, P.lnf_b, ptr(lnf_out), ptr(lnf_mean), ptr(lnf_rstd));
                break;
            case StepMark::head_forward:
                cuda::linear_forward(*ctx, ptr(lnf_out), P.head, nullptr, ptr(logits), T, d, V, dt, Vp);
                // fp16: the loss gradient is multiplied by the loss scale S inside the fused
                // cross-entropy (the backward of S·loss, no extra pass over [T, V]); every gradient
                // downstream carries S.
                step_scale = scaled() ? scale : 1.0f;
                // Accumulation: each micro-batch's share of the step's mean (counted over all A
                // micro-batches' targets), the loss summed over them.
                cuda::cross_entropy(*ctx, ptr(logits), micro_targets(), scalars_loss(), T, V, dt, true, step_scale, Vp,
                                    static_cast<const int*>(targets_dev.p), T * A, micro > 0);
                break;
            case StepMark::head_backward:
                if (dp) dp->backward_before(L + 1);
                cuda::linear_backward(*ctx, ptr(lnf_out), P.head, ptr(logits), grad_work().ln, G.head, nullptr, T, d, V, dt,
                                      gdt(), Vp);
                break;
            case StepMark::final_norm_backward: {
                const GradWork w = grad_work();
                norm_backward(ptr(resid[sz(L)]), P.lnf_w, ptr(lnf_mean), ptr(lnf_rstd), w.ln, w.res, G.lnf_w, G.lnf_b);
                if (dp) dp->backward_after(L + 1);
                break;
            }
            case StepMark::layer_backward: {
                const int l = e.layer;
                if (dp) dp->backward_before(l + 1);
                const LayerView a = layer_view(l);
                const void* x = ptr(resid[sz(l)]);
                if (opt.recompute == Recompute::full) layer_forward(P.layers[sz(l)], x, a, nullptr);
                if (opt.recompute == Recompute::selective) attention_core(a);
                layer_backward(P.layers[sz(l)], G.layers[sz(l)], x, a, grad_work());
                if (dp) dp->backward_after(l + 1);
                break;
            }
            case StepMark::embed_backward: {
                if (dp) dp->backward_before(0);
                const GradWork w = grad_work();
                cuda::embedding_backward(*ctx, micro_ids(), w.res, G.wte, T, d, dt, gdt());
                if (G.wpe)
                    cuda::embedding_backward(*ctx, static_cast<const int*>(pos_dev.p), w.res, G.wpe, T, d, dt, gdt());
                if (dp) {
                    dp->backward_after(0);
                    dp->backward_finish();
                }
                break;
            }
            case StepMark::forward_end:
            case StepMark::backward_workspace:
            case StepMark::optimizer_step: break;  // points the books read
        }
    }

    // The program's forward (its loss and, fused, the logits' gradient in place of the logits).
    void forward() {
        run(forward_begin, MemoryPhase::backward);
        pools.set_phase(MemoryPhase::idle);
    }

    // The program's backward (up to its optimizer phase): every per-step buffer is freed by its end.
    void backward() {
        run(backward_begin, MemoryPhase::optimizer);
        pools.set_phase(MemoryPhase::idle);
    }

    // fp32 and bf16: global norm, then AdamW with clipping. fp16 (gradients ×S): the overflow flag
    // from every gradient (check_nonfinite over the flat buffer), the true norm ‖g‖ = ‖S·g‖ / S
    // (global_norm divides in double, so clipping sees exactly what it would see unscaled), and
    // AdamW with grad_scale 1/S and the flag as its skip: with an inf or NaN the kernel changes no
    // weight and no moment. All of it is enqueued without waiting; the host learns of the overflow
    // in finish_step(), after the step's own synchronisation, and only then counts the step (for
    // the bias correction) and moves the scale. So the step passed to AdamW is steps + 1 and
    // becomes `steps` only if the step was taken — as in PyTorch, where GradScaler.step does not
    // call optimizer.step on inf/NaN gradients and the optimizer's step count does not advance.
    // (PyTorch reads found_inf on the host before optimizer.step, a synchronisation in the middle
    // of the step; here the flag is read once per step after the end-of-step synchronisation that
    // train_step makes anyway for the loss and the timings.)
    void optimizer(const EngineAdamW& o) {
        if (dp) {
            dp->optimizer(o);
            return;
        }
        pools.set_phase(MemoryPhase::optimizer);
        int* overflow = nullptr;
        if (scaled()) {
            overflow = scalars_overflow();
            LLMPLAN_CUDA_CHECK(cudaMemsetAsync(overflow, 0, sizeof(int), ctx->stream()));
            cuda::check_nonfinite(*ctx, grads.get(), N, dt, overflow);
            cuda::global_norm(*ctx, {cuda::BufferRef{grads.get(), N, dt}}, scalars_norm(), step_scale);
        } else {
            cuda::global_norm(*ctx, {cuda::BufferRef{grads.get(), N, dt}}, scalars_norm());
        }
        const int step = scaled() ? steps + 1 : ++steps;
        const float grad_scale = scaled() ? 1.0f / step_scale : 1.0f;
        const AdamWHyper h = cuda::adamw_hyper(o);
        const bool clip = o.max_grad_norm > 0;
        for (const EngineParam& p : infos) {
            void* copy = dt == DType::fp32 ? nullptr : static_cast<char*>(params.get()) + p.offset * eb;
            cuda::adamw_update(*ctx, fp32_weights() + p.offset, static_cast<const char*>(grads.get()) + p.offset * eb, dt,
                               m.f() + p.offset, v.f() + p.offset, p.size, h, step, grad_scale,
                               clip ? scalars_norm() : nullptr, o.max_grad_norm, p.decay, overflow, copy, dt);
        }
        pools.set_phase(MemoryPhase::idle);
    }

    // fp16, once the step's kernels are done: reads the overflow flag (one 4-byte device→host
    // copy) and applies GradScaler's rule (torch/amp/grad_scaler.py update(), the CUDA kernel
    // _amp_update_scale_): overflow → the step was skipped, scale × backoff, the run of good steps
    // restarts; else the step counts, and after `interval` good steps in a row scale × growth
    // (kept if the product is finite, as PyTorch does). Returns whether the step was skipped.
    bool finish_step() {
        if (!scaled()) return false;
        int overflow = 0;
        LLMPLAN_CUDA_CHECK(cudaMemcpy(&overflow, scalars_overflow(), sizeof(int), cudaMemcpyDeviceToHost));
        if (overflow) {
            scale *= opt.loss_scale_backoff;
            good_steps = 0;
            if (!(scale >= std::numeric_limits<float>::min()))
                throw std::runtime_error("GPU engine: the fp16 loss scale fell below the smallest normal float: every "
                                         "step's gradients held an inf or NaN (the loss or the weights have diverged)");
            return true;
        }
        ++steps;
        if (++good_steps >= opt.loss_scale_interval) {
            const float grown = scale * opt.loss_scale_growth;
            if (std::isfinite(grown)) scale = grown;
            good_steps = 0;
        }
        return false;
    }

    // ZeRO-2/3 keep no full gradient buffer: each step's reduce-scatters overwrite the whole shard.
    void zero_grad() {
        if (grads.get()) LLMPLAN_CUDA_CHECK(cudaMemsetAsync(grads.get(), 0, grads.bytes(), ctx->stream()));
    }

    float read_scalar(const float* p) const {
        float x = 0;
        LLMPLAN_CUDA_CHECK(cudaMemcpy(&x, p, sizeof(float), cudaMemcpyDeviceToHost));
        return x;
    }

    std::vector<float> download(const void* p, size_t n) const {
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(ctx->stream()));
        std::vector<float> out(n);
        if (n == 0) return out;
        if (dt == DType::fp32) {
            LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), p, n * 4, cudaMemcpyDeviceToHost));
            return out;
        }
        float* tmp = nullptr;
        LLMPLAN_CUDA_CHECK(cudaMalloc(&tmp, n * 4));
        try {
            cuda::convert(*ctx, p, dt, tmp, DType::fp32, n);
            LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), tmp, n * 4, cudaMemcpyDeviceToHost));
        } catch (...) {
            cudaFree(tmp);
            throw;
        }
        LLMPLAN_CUDA_CHECK(cudaFree(tmp));
        return out;
    }

    std::vector<float> unscale(std::vector<float> g) const {
        if (scaled()) {
            const double inv = 1.0 / static_cast<double>(step_scale);
            for (float& x : g) x = static_cast<float>(x * inv);
        }
        if (dp) {
            const double inv = 1.0 / static_cast<double>(dp->world());
            for (float& x : g) x = static_cast<float>(x * inv);
        }
        return g;
    }

    void whole_state(const char* what) const {
        if (dp && dp->zero() >= 1)
            throw std::logic_error(std::string("GPU engine: ") + what + " is not available with ZeRO-" +
                                   std::to_string(dp->zero()) + ": each rank holds only its slices");
    }

    std::vector<float> download_fp32(const float* p, size_t n) const {
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(ctx->stream()));
        std::vector<float> out(n);
        if (n > 0) LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), p, n * 4, cudaMemcpyDeviceToHost));
        return out;
    }

    EngineMemory memory() const {
        EngineMemory m2 = pools.stats();
        m2.library_bytes = ctx->lt_workspace_bytes() + ctx->scratch_bytes() + ids_dev.bytes + targets_dev.bytes +
                           pos_dev.bytes + scalars.bytes + (dp ? dp->library_bytes() : 0);
        return m2;
    }

};

GpuModel::GpuModel(const ModelSpec& spec, const EngineOptions& options, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(spec, engine_shape(spec, options), options, seed)) {}
GpuModel::~GpuModel() = default;

// Bad ids, targets or sizes are the caller's input (std::invalid_argument inside): InputError.
float GpuModel::forward_backward(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S, int A) {
    try {
        impl_->begin(ids, targets, B, S, A);
        impl_->zero_grad();
        for (impl_->micro = 0; impl_->micro < A; ++impl_->micro) {
            impl_->forward();
            impl_->backward();
        }
        return impl_->read_scalar(impl_->scalars_loss());
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
}

float GpuModel::optimizer_step(const EngineAdamW& opt) {
    impl_->optimizer(opt);
    const float norm = impl_->read_scalar(impl_->scalars_norm());
    impl_->finish_step();
    if (impl_->dp) impl_->dp->drain_comm();
    return norm;
}

EngineStepStats GpuModel::train_step(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S,
                                     const EngineAdamW& opt, int A) {
    try {
        Impl& im = *impl_;
        im.begin(ids, targets, B, S, A);
        const cudaStream_t s = im.ctx->stream();
        LLMPLAN_CUDA_CHECK(cudaEventRecord(im.ev[0], s));
        im.zero_grad();
        // Events: ev[0] the start, then after each micro-batch's forward and backward (A > 1: the
        // later micro-batches' in micro_ev), ev[3] after the optimizer. forward_ms and backward_ms
        // sum the micro-batches' passes.
        auto after = [&](int a, int pass) { return a == 0 ? im.ev[1 + pass] : im.micro_event(2 * (a - 1) + pass); };
        for (im.micro = 0; im.micro < A; ++im.micro) {
            im.forward();
            LLMPLAN_CUDA_CHECK(cudaEventRecord(after(im.micro, 0), s));
            im.backward();
            LLMPLAN_CUDA_CHECK(cudaEventRecord(after(im.micro, 1), s));
        }
        im.optimizer(opt);
        LLMPLAN_CUDA_CHECK(cudaEventRecord(im.ev[3], s));
        LLMPLAN_CUDA_CHECK(cudaEventSynchronize(im.ev[3]));
        EngineStepStats st;
        float ms = 0;
        for (int a = 0; a < A; ++a) {
            LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, a == 0 ? im.ev[0] : after(a - 1, 1), after(a, 0)));
            st.forward_ms += ms;
            LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, after(a, 0), after(a, 1)));
            st.backward_ms += ms;
        }
        LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, after(A - 1, 1), im.ev[3]));
        st.optimizer_ms = ms;
        LLMPLAN_CUDA_CHECK(cudaEventElapsedTime(&ms, im.ev[0], im.ev[3]));
        st.total_ms = ms;
        st.loss = im.read_scalar(im.scalars_loss());
        st.grad_norm = im.read_scalar(im.scalars_norm());
        st.loss_scale = im.dp ? im.step_scale * static_cast<float>(im.dp->world()) : im.step_scale;
        st.skipped = im.finish_step();
        st.memory = im.memory();
        if (im.dp) im.dp->take_step_comm(st);
        return st;
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
}

const std::vector<EngineParam>& GpuModel::params() const { return impl_->infos; }
std::size_t GpuModel::param_count() const { return impl_->N; }

std::vector<float> GpuModel::parameters() const {
    if (impl_->dp) return impl_->dp->parameters();
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(impl_->ctx->stream()));
    std::vector<float> out(impl_->N);
    LLMPLAN_CUDA_CHECK(cudaMemcpy(out.data(), impl_->fp32_weights(), impl_->N * 4, cudaMemcpyDeviceToHost));
    return out;
}

// fp16 gradients are stored ×S; these return them divided by S (the true gradients).
// Data parallel: the gradients are the ranks' sum (DDP: whole on every rank, divided here by the
// world size as AdamW does); ZeRO keeps only slices of them and of the moments.
std::vector<float> GpuModel::gradients() const {
    impl_->whole_state("gradients()");
    return impl_->unscale(impl_->download(impl_->grads.get(), impl_->N));
}

std::vector<float> GpuModel::grad(const std::string& name) const {
    impl_->whole_state("grad()");
    const EngineParam* p = impl_->find(name);
    if (!p) throw std::out_of_range("GPU engine: no parameter named " + name);
    return impl_->unscale(impl_->download(static_cast<const char*>(impl_->grads.get()) + p->offset * impl_->eb, p->size));
}

std::vector<float> GpuModel::adam_m() const {
    impl_->whole_state("adam_m()");
    return impl_->download_fp32(impl_->m.f(), impl_->N);
}
std::vector<float> GpuModel::adam_v() const {
    impl_->whole_state("adam_v()");
    return impl_->download_fp32(impl_->v.f(), impl_->N);
}
int GpuModel::optimizer_steps() const { return impl_->steps; }
float GpuModel::loss_scale() const {
    return impl_->dp ? impl_->scale * static_cast<float>(impl_->dp->world()) : impl_->scale;
}

std::vector<float> GpuModel::param(const std::string& name) const {
    const EngineParam* p = impl_->find(name);
    if (!p) throw std::out_of_range("GPU engine: no parameter named " + name);
    if (impl_->dp) {
        const std::vector<float> all = impl_->dp->parameters();
        return std::vector<float>(all.begin() + static_cast<std::ptrdiff_t>(p->offset),
                                  all.begin() + static_cast<std::ptrdiff_t>(p->offset + p->size));
    }
    LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(impl_->ctx->stream()));
    std::vector<float> out(p->size);
    LLMPLAN_CUDA_CHECK(
        cudaMemcpy(out.data(), impl_->fp32_weights() + p->offset, p->size * 4, cudaMemcpyDeviceToHost));
    return out;
}

EngineMemory GpuModel::memory() const { return impl_->memory(); }
void GpuModel::reset_peaks() { impl_->pools.reset_peaks(); }
const EngineOptions& GpuModel::options() const { return impl_->opt; }

std::string GpuModel::device_name() const {
    int dev = 0;
    LLMPLAN_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    LLMPLAN_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    return prop.name;
}

}  // namespace llmplan::kernels
