// runner.cpp — see runner.h. The token stream is random (uniform ids and targets from --seed):
// speed and memory do not depend on the values.
#include "profiler/runner.h"

#include "core/error.h"
#include "reference/model.h"
#if LLMPLAN_PROFILE_CUDA
#include "kernels/engine.h"
#endif
#if LLMPLAN_PROFILE_CUDA && LLMPLAN_HAVE_NCCL
#include "kernels/comm.h"
#endif

#include <chrono>
#include <memory>
#include <random>

namespace llmplan::profiler {

namespace {

struct Batch {
    std::vector<int> ids, targets;
};

Batch make_batch(std::mt19937_64& gen, int tokens, int vocab) {
    std::uniform_int_distribution<int> tok(0, vocab - 1);
    Batch b;
    b.ids.resize(static_cast<std::size_t>(tokens));
    b.targets.resize(static_cast<std::size_t>(tokens));
    for (int& t : b.ids) t = tok(gen);
    for (int& t : b.targets) t = tok(gen);
    return b;
}

ProfileMeasurement run_cpu(const ProfileRequest& r, const std::function<void(int, int, const StepTiming&, bool)>& progress) {
    const DType storage = storage_of(r);
    if (storage != DType::fp32)
        throw InputError(std::string("--device cpu runs the fp32 CPU reference only; pass --precision fp32 (mixed-") +
                         to_string(storage) + " needs --device cuda)");
    reference::TrainOptions o;
    o.recompute = r.recompute;
    o.attention = r.attention;
    reference::ReferenceModel model(r.model, o, r.seed);
    std::mt19937_64 gen(r.seed + 1);
    const reference::AdamW opt;
    ProfileMeasurement m;
    m.device_name = "CPU (llmplan reference engine, fp32)";
    const int total = r.warmup + r.steps;
    for (int i = 0; i < total; ++i) {
        const Batch b = make_batch(gen, r.batch * r.seq, static_cast<int>(r.model.vocab_size));
        if (i == r.warmup) model.reset_peaks();
        const reference::StepStats st = model.train_step(b.ids, b.targets, r.batch, r.seq, opt);
        StepTiming t;
        t.loss = st.loss;
        t.total_ms = st.total_s * 1e3;
        t.forward_ms = st.forward_s * 1e3;
        t.backward_ms = st.backward_s * 1e3;
        t.optimizer_ms = st.optimizer_s * 1e3;
        if (i >= r.warmup) m.steps.push_back(t);
        if (progress) progress(i + 1, total, t, i < r.warmup);
    }
    const reference::MemoryStats& s = model.memory();
    for (int c = 0; c < kMemoryCategories; ++c) {
        m.peak_bytes[static_cast<std::size_t>(c)] = static_cast<double>(s.peak[static_cast<std::size_t>(c)]);
        m.peak_phase[static_cast<std::size_t>(c)] = to_string(s.peak_phase[static_cast<std::size_t>(c)]);
    }
    m.total_peak_bytes = static_cast<double>(s.total_peak);
    m.total_peak_phase = to_string(s.total_peak_phase);
    return m;
}

// Rank r's rows of the global batch (world × batch sequences of seq tokens).
[[maybe_unused]] Batch rank_rows(const Batch& global, int rank, int tokens) {
    const auto b = static_cast<std::ptrdiff_t>(rank) * tokens, e = b + tokens;
    return {std::vector<int>(global.ids.begin() + b, global.ids.begin() + e),
            std::vector<int>(global.targets.begin() + b, global.targets.begin() + e)};
}

#if LLMPLAN_PROFILE_CUDA
ProfileMeasurement run_cuda(const ProfileRequest& r, const std::function<void(int, int, const StepTiming&, bool)>& progress) {
    using namespace kernels;
    EngineOptions options = engine_options(r.recompute, r.attention, storage_of(r));
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
    if (r.world > 1) throw InputError("--gpus " + std::to_string(r.world) + ": this llmplan was built without NCCL");
#endif
    GpuModel model(r.model, options, r.seed);
    std::mt19937_64 gen(r.seed + 1);
    const EngineAdamW opt;
    ProfileMeasurement m;
    m.device_name = model.device_name();
    const int total = r.warmup + r.steps;
    EngineMemory mem;
    for (int i = 0; i < total; ++i) {
        const int tokens = r.batch * r.seq;
        const Batch global = make_batch(gen, tokens * r.world, static_cast<int>(r.model.vocab_size));
        const Batch b = r.world > 1 ? rank_rows(global, r.rank, tokens) : global;
        if (i == r.warmup) model.reset_peaks();
        const EngineStepStats st = model.train_step(b.ids, b.targets, r.batch, r.seq, opt);
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
#endif

}  // namespace

DType storage_of(const ProfileRequest& r) {
    return r.storage == DType::fp32 && r.bf16 ? DType::bf16 : r.storage;
}

bool cuda_engine_built() { return LLMPLAN_PROFILE_CUDA != 0; }

bool cuda_device_available(std::string* why) {
#if LLMPLAN_PROFILE_CUDA
    return kernels::engine_gpu_available(why);
#else
    if (why) *why = "this llmplan was built without CUDA (LLMPLAN_CUDA=OFF); use --device cpu or rebuild with CUDA";
    return false;
#endif
}

ProfileMeasurement run_profile(const ProfileRequest& r, const std::function<void(int, int, const StepTiming&, bool)>& progress) {
    if (r.steps < 1) throw InputError("--steps must be at least 1");
    if (r.warmup < 0) throw InputError("--warmup must not be negative");
    if (r.world < 1 || r.rank < 0 || r.rank >= r.world)
        throw InputError("rank " + std::to_string(r.rank) + " of " + std::to_string(r.world) + " is out of range");
    if (r.world > 1 && r.device != ProfileDevice::cuda) throw InputError("--gpus: several ranks need --device cuda");
    if (r.device == ProfileDevice::cpu) return run_cpu(r, progress);
#if LLMPLAN_PROFILE_CUDA
    return run_cuda(r, progress);
#else
    throw InputError("--device cuda: this llmplan was built without CUDA (LLMPLAN_CUDA=OFF)");
#endif
}

}  // namespace llmplan::profiler
