// engine_state.cuh — what the GPU training engine (kernels/cuda/engine.cu, GpuModel::Impl) and its
// data parallelism (kernels/cuda/data_parallel.cuh, DataParallel) share: the booked device
// buffers (one caching arena per MemoryCategory), the parameter views by layer, and EngineState —
// the model's weights, gradients and optimizer state with the options, the layout and the loss
// scale. nvcc only.
#pragma once

#include "core/vocab.h"
#include "engine/param_views.h"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/ops.cuh"
#include "kernels/engine.h"

#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace llmplan::kernels::cuda {

inline std::size_t sz(int a) { return static_cast<std::size_t>(a); }

// The books and the caching arenas, one per category.
class Pools {
public:
    ~Pools() {
        for (auto& fl : free_)
            for (auto& [bytes, p] : fl) cudaFree(p);
    }
    void* allocate(MemoryCategory c, size_t bytes) {
        const auto i = static_cast<size_t>(c);
        void* p = nullptr;
        auto it = free_[i].find(bytes);
        if (it != free_[i].end()) {
            p = it->second;
            free_[i].erase(it);
        } else {
            const cudaError_t err = cudaMalloc(&p, bytes);
            if (err != cudaSuccess) {
                cudaGetLastError();
                throw std::runtime_error(std::string("GPU engine: out of memory allocating ") + std::to_string(bytes) +
                                         " bytes of " + to_string(c) + " during the " +
                                         to_string(phase_) + " phase (" + cudaGetErrorString(err) + ")");
            }
            s_.reserved[i] += bytes;
        }
        s_.add(c, bytes, phase_);
        return p;
    }
    void release(MemoryCategory c, void* p, size_t bytes) {
        s_.remove(c, bytes);
        free_[static_cast<size_t>(c)].emplace(bytes, p);
    }
    void set_phase(MemoryPhase p) { phase_ = p; }
    void reset_peaks() { s_.reset_peaks(phase_); }
    const EngineMemory& stats() const { return s_; }

private:
    EngineMemory s_;
    MemoryPhase phase_ = MemoryPhase::idle;
    std::array<std::multimap<size_t, void*>, kMemoryCategories> free_;
};

// A device buffer booked in one category for its lifetime. Move-only.
class DBuf {
public:
    DBuf() = default;
    DBuf(Pools& pools, MemoryCategory c, size_t bytes) : pools_(&pools), cat_(c), bytes_(bytes) {
        if (bytes > 0) p_ = pools.allocate(c, bytes);
    }
    DBuf(DBuf&& o) noexcept
        : pools_(std::exchange(o.pools_, nullptr)), cat_(o.cat_), p_(std::exchange(o.p_, nullptr)),
          bytes_(std::exchange(o.bytes_, 0)) {}
    DBuf& operator=(DBuf&& o) noexcept {
        if (this != &o) {
            reset();
            pools_ = std::exchange(o.pools_, nullptr);
            cat_ = o.cat_;
            p_ = std::exchange(o.p_, nullptr);
            bytes_ = std::exchange(o.bytes_, 0);
        }
        return *this;
    }
    DBuf(const DBuf&) = delete;
    DBuf& operator=(const DBuf&) = delete;
    ~DBuf() { reset(); }
    void reset() {
        if (pools_ && p_) pools_->release(cat_, p_, bytes_);
        pools_ = nullptr;
        p_ = nullptr;
        bytes_ = 0;
    }
    void* get() const { return p_; }
    float* f() const { return static_cast<float*>(p_); }
    size_t bytes() const { return bytes_; }

private:
    Pools* pools_ = nullptr;
    MemoryCategory cat_ = MemoryCategory::workspace;
    void* p_ = nullptr;
    size_t bytes_ = 0;
};

// Unbooked device memory (ids, targets, scalars).
struct Raw {
    void* p = nullptr;
    size_t bytes = 0;
    ~Raw() {
        if (p) cudaFree(p);
    }
    void ensure(size_t b) {
        if (b <= bytes) return;
        if (p) LLMPLAN_CUDA_CHECK(cudaFree(p));
        p = nullptr;
        LLMPLAN_CUDA_CHECK(cudaMalloc(&p, b));
        bytes = b;
    }
};

// AdamW's hyper-parameters of a step as the kernels take them (ops_gpu.h).
inline AdamWHyper adamw_hyper(const EngineAdamW& o) {
    AdamWHyper h;
    h.lr = o.lr;
    h.beta1 = o.beta1;
    h.beta2 = o.beta2;
    h.eps = o.eps;
    h.weight_decay = o.weight_decay;
    return h;
}

// The named views of the flat parameter buffer (engine/param_views.h), into device memory.
using LayerParams = EngineLayerViews<void*>;
using ModelParams = EngineModelViews<void*>;

// The model's state: options and layout, the weights, gradients and optimizer state (booked), their
// views, the optimizer step count and fp16's loss scale. GpuModel::Impl (engine.cu) derives from it;
// DataParallel allocates and updates it for world > 1.
struct EngineState {
    EngineShape spec;
    EngineOptions opt;
    DType dt = DType::fp32;
    std::size_t eb = 4;  // bytes per stored element
    int L = 0;           // layers
    std::unique_ptr<Context> ctx;
    Pools pools;
    std::vector<EngineParam> infos;
    std::size_t N = 0;
    DBuf params, grads, master, m, v;
    ModelParams P, G;
    int steps = 0;  // optimizer steps taken (AdamW's bias correction counts them from 1)
    // fp16's dynamic loss scale, kept on the host (engine.cu, optimizer() and finish_step()): `scale`
    // is the one the next backward uses, `step_scale` the one the latest backward used (the
    // gradients in `grads` carry it), `good_steps` the run of finite steps since the last change.
    float scale = 1.0f, step_scale = 1.0f;
    int good_steps = 0;
    Raw scalars;  // loss, norm (fp32), fp16's overflow flag (int)

    EngineState(const EngineShape& shape, const EngineOptions& o);

    float* fp32_weights() const { return dt == DType::fp32 ? params.f() : master.f(); }
    bool scaled() const { return dt == DType::fp16; }
    float* scalars_loss() const { return static_cast<float*>(scalars.p); }
    float* scalars_norm() const { return static_cast<float*>(scalars.p) + 1; }
    int* scalars_overflow() const { return reinterpret_cast<int*>(static_cast<float*>(scalars.p) + 2); }
    const EngineParam* find(const std::string& name) const;
    // The views of a buffer in the compact layout (params() order from `base`).
    ModelParams views(void* base) const;
    // The reference's initialisation (reference/model.cpp), computed on the host.
    std::vector<float> initial_weights(std::uint64_t seed) const;
};

}  // namespace llmplan::kernels::cuda
