// runner.cpp — see runner.h. The token stream is random (uniform ids and targets from --seed):
// speed and memory do not depend on the values.
#include "profiler/runner.h"

#include "core/error.h"
#include "kernels/reference/model.h"
#if LLMPLAN_PROFILE_CUDA
#include "kernels/engine.h"
#endif

#include <chrono>
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
    const ProfileStorage storage = storage_of(r);
    if (storage != ProfileStorage::fp32)
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
        StepTiming t{st.loss, st.total_s * 1e3, st.forward_s * 1e3, st.backward_s * 1e3, st.optimizer_s * 1e3, 1.0f, false};
        if (i >= r.warmup) m.steps.push_back(t);
        if (progress) progress(i + 1, total, t, i < r.warmup);
    }
    const reference::MemoryStats& s = model.memory();
    for (int c = 0; c < kBooks; ++c) {
        m.peak_bytes[static_cast<std::size_t>(c)] = static_cast<double>(s.peak[static_cast<std::size_t>(c)]);
        m.peak_phase[static_cast<std::size_t>(c)] = reference::to_string(s.peak_phase[static_cast<std::size_t>(c)]);
    }
    m.total_peak_bytes = static_cast<double>(s.total_peak);
    m.total_peak_phase = reference::to_string(s.total_peak_phase);
    return m;
}

#if LLMPLAN_PROFILE_CUDA
ProfileMeasurement run_cuda(const ProfileRequest& r, const std::function<void(int, int, const StepTiming&, bool)>& progress) {
    using namespace kernels;
    const ProfileStorage storage = storage_of(r);
    const DType dt = storage == ProfileStorage::bf16   ? DType::bf16
                     : storage == ProfileStorage::fp16 ? DType::fp16
                                                       : DType::fp32;
    GpuModel model(r.model, engine_options(r.recompute, r.attention, dt), r.seed);
    std::mt19937_64 gen(r.seed + 1);
    const EngineAdamW opt;
    ProfileMeasurement m;
    m.device_name = model.device_name();
    const int total = r.warmup + r.steps;
    EngineMemory mem;
    for (int i = 0; i < total; ++i) {
        const Batch b = make_batch(gen, r.batch * r.seq, static_cast<int>(r.model.vocab_size));
        if (i == r.warmup) model.reset_peaks();
        const EngineStepStats st = model.train_step(b.ids, b.targets, r.batch, r.seq, opt);
        StepTiming t{st.loss, st.total_ms, st.forward_ms, st.backward_ms, st.optimizer_ms, st.loss_scale, st.skipped};
        if (i >= r.warmup) m.steps.push_back(t);
        if (st.skipped) ++(i >= r.warmup ? m.skipped_steps : m.warmup_skipped_steps);
        mem = st.memory;
        if (progress) progress(i + 1, total, t, i < r.warmup);
    }
    for (int c = 0; c < kBooks; ++c) {
        m.peak_bytes[static_cast<std::size_t>(c)] = static_cast<double>(mem.peak[static_cast<std::size_t>(c)]);
        m.peak_phase[static_cast<std::size_t>(c)] = engine_phase_name(mem.peak_phase[static_cast<std::size_t>(c)]);
    }
    m.total_peak_bytes = static_cast<double>(mem.total_peak);
    m.total_peak_phase = engine_phase_name(mem.total_peak_phase);
    m.library_bytes = static_cast<double>(mem.library_bytes);
    m.final_loss_scale = model.loss_scale();
    return m;
}
#endif

}  // namespace

const char* to_string(ProfileStorage s) {
    switch (s) {
        case ProfileStorage::fp32: return "fp32";
        case ProfileStorage::bf16: return "bf16";
        case ProfileStorage::fp16: return "fp16";
    }
    return "?";
}

ProfileStorage storage_of(const ProfileRequest& r) {
    return r.storage == ProfileStorage::fp32 && r.bf16 ? ProfileStorage::bf16 : r.storage;
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
    if (r.device == ProfileDevice::cpu) return run_cpu(r, progress);
#if LLMPLAN_PROFILE_CUDA
    return run_cuda(r, progress);
#else
    throw InputError("--device cuda: this llmplan was built without CUDA (LLMPLAN_CUDA=OFF)");
#endif
}

}  // namespace llmplan::profiler
