// ops_gpu.h — host-callable wrappers of the CUDA kernels of llmplan's training engine, for tests.
//
// Plain C++ on purpose (no CUDA type or header): each function uploads its std::vector<float>
// inputs to the current GPU, converts them to the storage type `dt` there, runs the kernel,
// converts the outputs back to fp32 and downloads them. It is the kernels' test surface
// (tests/gpu_kernels.cpp checks each against reference/ops.h); the engine calls the
// device-pointer functions of kernels/cuda/ops.cuh instead. Layouts, shapes and the
// accumulate-vs-overwrite rules are those of reference/ops.h: parameter gradients
// (dw, db, dgamma, dbeta, dtable) start from the `*_init` vectors given and are accumulated into;
// input gradients are overwritten. Every function throws std::runtime_error (file:line and the
// CUDA/cuBLAS error text) when a call fails; exists only with LLMPLAN_CUDA=ON (llmplan_kernels).
#pragma once

#include "core/vocab.h"

#include <cstddef>
#include <string>
#include <vector>

namespace llmplan::kernels {

// The storage type of a tensor on the GPU is DType (core/vocab.h). Arithmetic is fp32 in every
// kernel (fp32 accumulation in the GEMMs: CUBLAS_COMPUTE_32F, no TF32); bf16/fp16 are rounded to
// nearest even on store.

// The values as the GPU stores them in `dt` (round to nearest even), back in fp32: tests feed
// the same rounded inputs to the reference so that only the kernel's own error is measured.
std::vector<float> gpu_round(const std::vector<float>& v, DType dt);

// --- linear (cuBLASLt) ---------------------------------------------------------------------------
// y[T,n] = x[T,k]·W[n,k]ᵀ + b (b empty: none). ld > n: y lives on the GPU with row stride ld
// (the engine's padded logits); the columns past n are filled with NaN beforehand and the call
// throws std::runtime_error if the kernel wrote any of them. Host vectors stay [T, n].
std::vector<float> gpu_linear_forward(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                      int T, int k, int n, DType dt, int ld = 0);
struct LinearGrads {
    std::vector<float> dx, dw, db;
};
// dx = dy·W; dw = dw_init + dyᵀ·x; db = db_init + Σ_t dy (db_init empty: no bias). `grad_dt` is
// the storage type of dw and db (dt or fp32). ld > n: dy on the GPU with row stride ld, NaN in the
// columns past n (so a kernel that read them would return NaN).
LinearGrads gpu_linear_backward(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& dy,
                                const std::vector<float>& dw_init, const std::vector<float>& db_init, int T, int k, int n,
                                DType dt, DType grad_dt, int ld = 0);

// GPT-2's MLP with its GELU fused into the GEMMs (16-bit storage; fp32 runs them apart):
// pre = x·Wᵀ + b, y = GELU(pre); and the down projection's backward through GELU': for x =
// GELU(pre) with dy the gradient of its output, dx is the gradient of pre.
struct LinearGelu {
    std::vector<float> pre, y;
};
LinearGelu gpu_linear_gelu_forward(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                   int T, int k, int n, DType dt);
LinearGrads gpu_linear_backward_gelu(const std::vector<float>& x, const std::vector<float>& pre, const std::vector<float>& w,
                                     const std::vector<float>& dy, const std::vector<float>& dw_init,
                                     const std::vector<float>& db_init, int T, int k, int n, DType dt, DType grad_dt);

// --- norms ----------------------------------------------------------------------------------------
struct NormForward {
    std::vector<float> y, mean, rstd;  // mean, rstd [T] in fp32 (mean empty for RMSNorm)
};
NormForward gpu_layernorm_forward(const std::vector<float>& x, const std::vector<float>& gamma,
                                  const std::vector<float>& beta, int T, int h, float eps, DType dt);
struct NormGrads {
    std::vector<float> dx, dgamma, dbeta;
};
NormGrads gpu_layernorm_backward(const std::vector<float>& x, const std::vector<float>& gamma, const std::vector<float>& mean,
                                 const std::vector<float>& rstd, const std::vector<float>& dy,
                                 const std::vector<float>& dgamma_init, const std::vector<float>& dbeta_init, int T, int h,
                                 DType dt, DType grad_dt);
NormForward gpu_rmsnorm_forward(const std::vector<float>& x, const std::vector<float>& gamma, int T, int h, float eps,
                                DType dt);
NormGrads gpu_rmsnorm_backward(const std::vector<float>& x, const std::vector<float>& gamma, const std::vector<float>& rstd,
                               const std::vector<float>& dy, const std::vector<float>& dgamma_init, int T, int h, DType dt,
                               DType grad_dt);

// --- activations, rotary, residual ------------------------------------------------------------
std::vector<float> gpu_gelu_forward(const std::vector<float>& x, DType dt);
std::vector<float> gpu_gelu_backward(const std::vector<float>& x, const std::vector<float>& dy, DType dt);
std::vector<float> gpu_swiglu_forward(const std::vector<float>& gate, const std::vector<float>& up, DType dt);
struct SwigluGrads {
    std::vector<float> dgate, dup;
};
SwigluGrads gpu_swiglu_backward(const std::vector<float>& gate, const std::vector<float>& up, const std::vector<float>& dy,
                                DType dt);
// x [B,S,heads,d] rotated (forward) or rotated back (backward, applied to a gradient).
std::vector<float> gpu_rotary_forward(const std::vector<float>& x, int B, int S, int heads, int d, float base, DType dt);
std::vector<float> gpu_rotary_backward(const std::vector<float>& dx, int B, int S, int heads, int d, float base, DType dt);
// y = a + b.
std::vector<float> gpu_residual_add(const std::vector<float>& a, const std::vector<float>& b, DType dt);

// --- attention ----------------------------------------------------------------------------------
enum class AttentionKind {
    eager,  // scores by batched GEMM, softmax kernel, probs [B,heads,S,S] kept
    flash,  // fused tiled kernel with online softmax, only lse [B,heads,S] kept
};
const char* attention_kind_name(AttentionKind kind);
// Whether the flash kind runs on the tensor-core kernels (bf16/fp16, head_dim a multiple of 4 up
// to 128, aligned tensors) rather than the SIMT ones (fp32 and other head sizes up to 256).
bool flash_uses_tensor_cores(DType dt, int d);
struct AttentionForward {
    std::vector<float> out, probs, lse;  // probs (eager) or lse (flash, fp32); the other empty
};
AttentionForward gpu_attention_forward(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                       int B, int S, int heads, int kv_heads, int d, AttentionKind kind, DType dt,
                                       int window = 0);
struct AttentionGrads {
    std::vector<float> dq, dk, dv;
};
// probs is read by the eager kind, lse by the flash kind (pass the forward's outputs). window > 0:
// sliding-window causal attention (query i sees keys i − window < j ≤ i, reference/ops.h).
AttentionGrads gpu_attention_backward(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                      const std::vector<float>& out, const std::vector<float>& probs,
                                      const std::vector<float>& lse, const std::vector<float>& dout, int B, int S, int heads,
                                      int kv_heads, int d, AttentionKind kind, DType dt, int window = 0);

// --- loss, embedding ------------------------------------------------------------------------------
struct CrossEntropyResult {
    float loss = 0;
    std::vector<float> dlogits;  // written in place over the logits on the GPU
};
// ld > V: the logits on the GPU with row stride ld, NaN in the columns past V; the call throws
// std::runtime_error if the kernel changed any of them.
CrossEntropyResult gpu_cross_entropy_forward_backward(const std::vector<float>& logits, const std::vector<int>& targets,
                                                      int T, int V, DType dt, int ld = 0);
float gpu_cross_entropy_forward(const std::vector<float>& logits, const std::vector<int>& targets, int T, int V, DType dt);
std::vector<float> gpu_embedding_forward(const std::vector<float>& table, const std::vector<int>& ids, int T, int h,
                                         DType dt);
// dtable_init + scatter-add of dy (atomicAdd); dtable stored in grad_dt (dt or fp32).
std::vector<float> gpu_embedding_backward(const std::vector<int>& ids, const std::vector<float>& dy,
                                          const std::vector<float>& dtable_init, int T, int h, DType dt, DType grad_dt);

// --- optimizer, mixed precision ----------------------------------------------------------------------
float gpu_global_norm(const std::vector<std::vector<float>>& buffers, DType dt);
struct AdamWHyper {
    float lr = 3e-4f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-8f, weight_decay = 0.1f;
};
struct AdamWState {
    std::vector<float> param, m, v;  // fp32 master weights and moments
    std::vector<float> param_copy;   // the updated weights in `copy_dt` (mixed precision), fp32 here
};
// One AdamW step on fp32 master weights with a gradient stored in grad_dt. grad_scale multiplies
// the gradient; with clip_on_device, the kernel also multiplies it by min(1, max_grad_norm /
// (‖grad‖ + 1e-6)) with ‖grad‖ computed by the global-norm kernel on the GPU (PyTorch's
// clip_grad_norm_ rule), so no host round trip is needed.
AdamWState gpu_adamw_update(const std::vector<float>& param, const std::vector<float>& grad, const std::vector<float>& m,
                            const std::vector<float>& v, const AdamWHyper& hyper, int step, float grad_scale, bool decay,
                            DType grad_dt, bool clip_on_device, float max_grad_norm, DType copy_dt);
// True when some value of v, stored in dt, is inf or NaN (after the conversion: 1e5 is finite
// in bf16 but inf in fp16).
bool gpu_has_nonfinite(const std::vector<float>& v, DType dt);
// One update of the dynamic loss scale (PyTorch GradScaler's rule): on inf/NaN the scale is
// multiplied by backoff and the run of good steps restarts; after `interval` good steps in a row
// it is multiplied by growth.
struct LossScaleState {
    float scale = 65536.0f;
    int good_steps = 0;
};
LossScaleState gpu_update_loss_scale(LossScaleState state, bool found_nonfinite, float growth, float backoff, int interval);

// --- timings (informational, random data, median over iters after 2 warm-up runs) -------------
struct KernelTiming {
    double forward_ms = 0, backward_ms = 0;
};
KernelTiming gpu_time_attention(int B, int S, int heads, int kv_heads, int d, AttentionKind kind, DType dt, int iters);
// Forward with bias; backward computes dx, dW and db.
KernelTiming gpu_time_linear(int T, int k, int n, DType dt, int iters);

}  // namespace llmplan::kernels
