// profile_run.cpp — `llmplan profile --device cuda`'s steps on the GPU engine (kernels/engine.h),
// one rank of --gpus N / mpirun with its communicator (kernels/comm.h); part of the GPU backend
// module (backend/cuda/module.cpp). The CPU reference's run is profiler/runner.cpp; both draw the
// same token stream (profiler/batch.h).
#include "backend/cuda/module.h"

#include "core/error.h"
#include "kernels/engine.h"
#include "profiler/batch.h"
#if LLMPLAN_HAVE_NCCL
#include "kernels/comm.h"
#endif

#include <memory>
#include <random>

namespace llmplan::backend {

using namespace profiler;

ProfileMeasurement run_engine_profile(const ProfileRequest& r, const StepProgress& progress) {
    using namespace kernels;
    EngineOptions options = engine_options(r.recompute, r.attention, r.storage);  // storage resolved by profiler::run_profile
#if LLMPLAN_HAVE_NCCL
    // The communicator first: it selects this rank's GPU, on which the engine then allocates.
    std::unique_ptr<Communicator> comm;
    if (r.world > 1) {
        CommConfig cc;
        cc.rank = r.rank;
        cc.world = r.world;
        cc.id_file = r.id_file;
        cc.device = r.gpu;
        cc.broadcast_id = r.broadcast_id;
        cc.timeout_seconds = r.op_timeout;
        comm = std::make_unique<Communicator>(cc);
        options.world = r.world;
        options.rank = r.rank;
        options.zero = r.zero;
        options.comm = comm.get();
    }
#else
    if (r.world > 1) throw InputError("--gpus " + std::to_string(r.world) + ": the GPU backend was built without NCCL");
#endif
    GpuModel model(r.model, options, r.seed);
    std::mt19937_64 gen(r.seed + 1);
    const EngineAdamW opt;
    ProfileMeasurement m;
    m.device_name = model.device_name();
    const int total = r.warmup + r.steps;
    EngineMemory mem;
    for (int i = 0; i < total; ++i) {
        // One GPU: the step's r.accumulation micro-batches of r.batch sequences, micro-batch after
        // micro-batch (the CPU reference's order, profiler/runner.cpp); several: one micro-batch each.
        const int tokens = r.batch * r.seq;
        const Batch global = make_batch(gen, tokens * r.world * r.accumulation, static_cast<int>(r.model.vocab_size));
        const Batch b = r.world > 1 ? rank_rows(global, r.rank, tokens) : global;
        if (i == r.warmup) model.reset_peaks();
        const EngineStepStats st = model.train_step(b.ids, b.targets, r.batch, r.seq, opt, r.accumulation);
        StepTiming t;
        t.loss = st.loss;
        t.total_ms = st.total_ms;
        t.forward_ms = st.forward_ms;
        t.backward_ms = st.backward_ms;
        t.optimizer_ms = st.optimizer_ms;
        t.loss_scale = st.loss_scale;
        t.skipped = st.skipped;
        for (const EngineCommCall& c : st.comm) t.comm.push_back({dist::to_string(c.kind), c.purpose, c.bytes, c.ms});
        for (const EngineCommWait& w : st.waits) t.waits.push_back({w.purpose, w.ms});
        t.comm_ms = st.comm_ms;
        t.exposed_ms = st.exposed_ms;
        if (i >= r.warmup) m.steps.push_back(t);
        if (st.skipped) ++(i >= r.warmup ? m.skipped_steps : m.warmup_skipped_steps);
        mem = st.memory;
        if (progress) progress(i + 1, total, t, i < r.warmup);
    }
    for (int c = 0; c < kMemoryCategories; ++c) {
        m.peak_bytes[static_cast<std::size_t>(c)] = static_cast<double>(mem.peak[static_cast<std::size_t>(c)]);
        m.peak_phase[static_cast<std::size_t>(c)] = to_string(mem.peak_phase[static_cast<std::size_t>(c)]);
    }
    m.total_peak_bytes = static_cast<double>(mem.total_peak);
    m.total_peak_phase = to_string(mem.total_peak_phase);
    m.library_bytes = static_cast<double>(mem.library_bytes);
    m.final_loss_scale = model.loss_scale();
    m.rank = r.rank;
    m.world = r.world;
    return m;
}

}  // namespace llmplan::backend
