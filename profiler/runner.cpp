// runner.cpp — see runner.h. The CPU reference's run is here; the GPU engine's runs in the GPU
// backend module (backend/cuda/profile_run.cpp), reached through backend/loader.h.
#include "profiler/runner.h"

#include "backend/loader.h"
#include "core/error.h"
#include "profiler/batch.h"
#include "reference/model.h"

#include <random>

namespace llmplan::profiler {

namespace {

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
        const Batch b = make_batch(gen, r.accumulation * r.batch * r.seq, static_cast<int>(r.model.vocab_size));
        if (i == r.warmup) model.reset_peaks();
        const reference::StepStats st = model.train_step(b.ids, b.targets, r.batch, r.seq, opt, r.accumulation);
        StepTiming t;
        t.loss = st.loss;
        t.total_ms = st.total_s * 1e3;
        t.forward_ms = st.forward_s * 1e3;
        t.backward_ms = st.backward_s * 1e3;
        t.optimizer_ms = st.optimizer_s * 1e3;
        if (i >= r.warmup) m.steps.push_back(t);
        if (progress) progress(i + 1, total, t, i < r.warmup);
    }
    const MemoryBooks& s = model.memory();
    for (int c = 0; c < kMemoryCategories; ++c) {
        m.peak_bytes[static_cast<std::size_t>(c)] = static_cast<double>(s.peak[static_cast<std::size_t>(c)]);
        m.peak_phase[static_cast<std::size_t>(c)] = to_string(s.peak_phase[static_cast<std::size_t>(c)]);
    }
    m.total_peak_bytes = static_cast<double>(s.total_peak);
    m.total_peak_phase = to_string(s.total_peak_phase);
    return m;
}

}  // namespace

DType storage_of(const ProfileRequest& r) {
    return r.storage == DType::fp32 && r.bf16 ? DType::bf16 : r.storage;
}

bool cuda_device_available(std::string* why) {
    std::string reason;
    backend::GpuBackend* gpu = backend::gpu_backend(&reason);
    if (gpu && gpu->gpu_available(&reason)) return true;
    if (why) *why = reason;
    return false;
}

ProfileMeasurement run_profile(const ProfileRequest& r, const std::function<void(int, int, const StepTiming&, bool)>& progress) {
    if (r.steps < 1) throw InputError("--steps must be at least 1");
    if (r.warmup < 0) throw InputError("--warmup must not be negative");
    if (r.world < 1 || r.rank < 0 || r.rank >= r.world)
        throw InputError("rank " + std::to_string(r.rank) + " of " + std::to_string(r.world) + " is out of range");
    if (r.world > 1 && r.device != ProfileDevice::cuda) throw InputError("--gpus: several ranks need --device cuda");
    if (r.accumulation < 1) throw InputError("--global-batch: needs at least one micro-batch per step");
    if (r.device == ProfileDevice::cpu) return run_cpu(r, progress);
    EngineStepOptions step;
    step.accumulation = r.accumulation;
    step.world = r.world;
    if (const std::string refused = cuda_engine_supports(step); !refused.empty()) throw InputError(refused);
    std::string why;
    backend::GpuBackend* gpu = backend::gpu_backend(&why);
    if (!gpu) throw InputError("--device cuda: " + why);
    ProfileRequest resolved = r;
    resolved.storage = storage_of(r);
    resolved.bf16 = false;
    return gpu->run_profile(resolved, progress);
}

}  // namespace llmplan::profiler
