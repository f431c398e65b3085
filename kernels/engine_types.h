// engine_types.h — the plain C++17 types of the GPU training engine, shared by kernels/engine.h
// (the host API, C++20) and kernels/cuda/engine.cu (nvcc, C++17): see kernels/engine.h.
#pragma once

#include "kernels/ops_gpu.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llmplan::kernels {

enum class EngineCategory { parameters, gradients, optimizer, activations, logits, workspace };
inline constexpr int kEngineCategories = 6;
enum class EnginePhase { idle, forward, backward, optimizer };
const char* engine_category_name(EngineCategory c);
const char* engine_phase_name(EnginePhase p);

struct EngineMemory {
    std::array<std::size_t, kEngineCategories> current{};   // bytes handed out now
    std::array<std::size_t, kEngineCategories> peak{};      // the most each category held
    std::array<EnginePhase, kEngineCategories> peak_phase{};
    std::array<std::size_t, kEngineCategories> reserved{};  // device bytes each arena holds
    std::size_t total_current = 0, total_peak = 0;
    EnginePhase total_peak_phase = EnginePhase::idle;
    std::size_t library_bytes = 0;  // outside the books: cuBLASLt workspace, kernel scratch, ids/targets
    std::size_t peak_of(EngineCategory c) const { return peak[static_cast<std::size_t>(c)]; }
    EnginePhase peak_phase_of(EngineCategory c) const { return peak_phase[static_cast<std::size_t>(c)]; }
};

enum class EngineRecompute { none, selective, full };

struct EngineOptions {
    EngineRecompute recompute = EngineRecompute::none;
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
};

// Whether a CUDA GPU can be used; when not, `why` (if given) says why in one line.
bool engine_gpu_available(std::string* why = nullptr);

// The model's shape as the engine needs it (filled from a ModelSpec by kernels/engine.cpp).
struct EngineShape {
    std::string name;
    int d = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, d_ff = 0, vocab = 0, max_positions = 0;
    bool layernorm = true, swiglu = false, rotary = false, tied = false;
    std::vector<EngineParam> params;  // the layout, in order
};

// The engine proper (kernels/cuda/engine.cu); GpuModel (kernels/engine.h) is its C++20 face.
class EngineCore {
public:
    EngineCore(const EngineShape& shape, const EngineOptions& options, std::uint64_t seed);
    ~EngineCore();
    EngineCore(const EngineCore&) = delete;
    EngineCore& operator=(const EngineCore&) = delete;
    float forward_backward(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S);
    float optimizer_step(const EngineAdamW& opt);
    EngineStepStats train_step(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S,
                               const EngineAdamW& opt);
    const std::vector<EngineParam>& params() const;
    std::size_t param_count() const;
    std::vector<float> parameters() const;
    std::vector<float> gradients() const;
    std::vector<float> grad(const std::string& name) const;
    std::vector<float> param(const std::string& name) const;
    std::vector<float> adam_m() const;
    std::vector<float> adam_v() const;
    int optimizer_steps() const;
    float loss_scale() const;
    EngineMemory memory() const;
    void reset_peaks();
    const EngineOptions& options() const;
    std::string device_name() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace llmplan::kernels
