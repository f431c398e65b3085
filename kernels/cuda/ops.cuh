// ops.cuh — the device-pointer API of llmplan's CUDA kernels, for the training engine.
//
// CUDA-side header (includes cuda_runtime.h, cuBLAS and cuBLASLt): only code compiled by nvcc in
// kernels/ and profiler/ includes it; host code uses kernels/ops_gpu.h. Conventions are those of
// reference/ops.h (row-major, linear weights [out, in], attention [B, S, heads, d],
// causal, scale 1/√d, GQA head h reads kv head h / (heads / kv_heads); parameter gradients
// accumulate, input gradients are overwritten). Tensors of activations and weights are `void*` in
// the storage type `dt` (fp32, bf16 or fp16); statistics (mean, rstd, lse), master weights,
// optimizer moments, losses and norms are fp32. Every function enqueues on ctx.stream() and does
// not synchronise; every CUDA/cuBLAS call is checked (kernels/cuda/check.cuh) and a failure
// throws std::runtime_error.
#pragma once

#include "kernels/ops_gpu.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

namespace llmplan::kernels::cuda {

// Per-stream state: cuBLASLt and cuBLAS handles, the cuBLASLt workspace, a cache of matmul
// plans (descriptors + heuristic algorithm per shape), and a growable scratch buffer that ops use
// for their temporaries (partial sums, attention's dS and D, pointer arrays). An op's scratch is
// dead once the next op on the same stream starts, so ops share it. Not thread-safe.
class Context {
public:
    explicit Context(cudaStream_t stream = nullptr, std::size_t lt_workspace_bytes = std::size_t{32} << 20);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    cudaStream_t stream() const { return stream_; }
    cublasLtHandle_t lt() const { return lt_; }
    cublasHandle_t blas() const { return blas_; }
    void* lt_workspace() const { return lt_workspace_; }
    std::size_t lt_workspace_bytes() const { return lt_workspace_bytes_; }
    // At least `bytes` of device memory, 256-byte aligned; valid until the next scratch() call
    // that grows it (growing synchronises the stream and frees the old buffer).
    void* scratch(std::size_t bytes);
    std::size_t scratch_bytes() const { return scratch_bytes_; }

    struct MatmulPlan;  // defined in context.cu
    MatmulPlan& matmul_plan(const std::vector<std::int64_t>& key);

private:
    cudaStream_t stream_ = nullptr;
    cublasLtHandle_t lt_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    void* lt_workspace_ = nullptr;
    std::size_t lt_workspace_bytes_ = 0;
    void* scratch_ = nullptr;
    std::size_t scratch_bytes_ = 0;
    std::map<std::vector<std::int64_t>, std::unique_ptr<MatmulPlan>> plans_;
};

cudaDataType_t cuda_type(DType dt);

// The GELU epilogues of cuBLASLt (tanh GELU, as GPT-2's): gelu_aux writes D = GELU(A·B + bias)
// and the pre-activation A·B + bias to aux; dgelu writes D = (A·B) ∘ GELU'(aux).
enum class LtEpilogue { none, gelu_aux, dgelu };

// D[m,n] = alpha·op(A)·op(B) + beta·C (column-major, cuBLAS conventions; C = D) through
// cuBLASLt with CUBLAS_COMPUTE_32F; A and B in ab_dt, D in d_dt; bias (in d_dt, length m,
// nullable) added by the BIAS epilogue; epi with aux (in d_dt, leading dimension ld_aux, a
// multiple of 8) as LtEpilogue says.
void lt_matmul(Context& ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha, const void* a, int lda,
               const void* b, int ldb, float beta, void* d, int ldd, DType ab_dt, DType d_dt, const void* bias,
               LtEpilogue epi = LtEpilogue::none, const void* aux = nullptr, int ld_aux = 0);

// Converts n values between storage types (fp32 ↔ bf16/fp16; src and dst must not alias).
void convert(Context& ctx, const void* src, DType src_dt, void* dst, DType dst_dt, std::size_t n);

// --- linear ------------------------------------------------------------------------------------
// y[T,n] = x[T,k]·W[n,k]ᵀ + b[n] (b nullable; bias epilogue). ld: y's row stride (0 = n; ≥ n;
// the engine pads the logits' rows, see linear.cu).
void linear_forward(Context& ctx, const void* x, const void* w, const void* b, void* y, int T, int k, int n, DType dt,
                    int ld = 0);
// dx = dy·W (overwritten; nullable to skip), dW += dyᵀ·x (nullable), db += Σ_t dy (nullable).
// dw and db are stored in grad_dt (dt or fp32). ld: dy's row stride (0 = n; ≥ n). accumulate_dx:
// dx += dy·W (beta 1) instead of overwriting it. gelu_pre (nullable; [T, k] in dt): x was GELU(pre),
// and dx becomes the gradient of pre, (dy·W) ∘ GELU'(pre) (the DGELU epilogue in 16-bit storage; a
// GEMM and gelu_backward in fp32); not with accumulate_dx or a padded ld.
void linear_backward(Context& ctx, const void* x, const void* w, const void* dy, void* dx, void* dw, void* db, int T, int k,
                     int n, DType dt, DType grad_dt, int ld = 0, bool accumulate_dx = false, const void* gelu_pre = nullptr);
// pre[T,n] = x·Wᵀ + b and y = GELU(pre) (tanh form): one GEMM with the GELU_AUX(_BIAS) epilogue in
// 16-bit storage (no separate pass over [T, n]); linear_forward + gelu_forward in fp32 (cuBLASLt
// computes its GELU in fp32 before rounding, within fp32's tolerance only in 16-bit storage).
void linear_gelu_forward(Context& ctx, const void* x, const void* w, const void* b, void* pre, void* y, int T, int k, int n,
                         DType dt);

// --- norms -------------------------------------------------------------------------------------
// mean and rstd [T] fp32 (mean nullable). beta nullable. gamma/beta in dt.
void layernorm_forward(Context& ctx, const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
                       int T, int h, float eps, DType dt);
// dx overwritten (nullable); dgamma, dbeta accumulated in grad_dt (nullable).
void layernorm_backward(Context& ctx, const void* x, const void* gamma, const float* mean, const float* rstd, const void* dy,
                        void* dx, void* dgamma, void* dbeta, int T, int h, DType dt, DType grad_dt);
void rmsnorm_forward(Context& ctx, const void* x, const void* gamma, void* y, float* rstd, int T, int h, float eps,
                     DType dt);
void rmsnorm_backward(Context& ctx, const void* x, const void* gamma, const float* rstd, const void* dy, void* dx,
                      void* dgamma, int T, int h, DType dt, DType grad_dt);

// --- element-wise --------------------------------------------------------------------------------
// y may alias x (gelu) / gate or up (swiglu); dx may alias dy.
void gelu_forward(Context& ctx, const void* x, void* y, std::size_t n, DType dt);
void gelu_backward(Context& ctx, const void* x, const void* dy, void* dx, std::size_t n, DType dt);
void swiglu_forward(Context& ctx, const void* gate, const void* up, void* y, std::size_t n, DType dt);
void swiglu_backward(Context& ctx, const void* gate, const void* up, const void* dy, void* dgate, void* dup, std::size_t n,
                     DType dt);
// In place on x [B,S,heads,d] (d even); angles in double, as the reference.
void rotary_forward(Context& ctx, void* x, int B, int S, int heads, int d, float base, DType dt);
void rotary_backward(Context& ctx, void* dx, int B, int S, int heads, int d, float base, DType dt);
// y = a + b; y may alias a or b.
void residual_add(Context& ctx, const void* a, const void* b, void* y, std::size_t n, DType dt);

// --- attention ---------------------------------------------------------------------------------
// Causal; window > 0: sliding-window causal attention, query i sees keys i − window < j ≤ i
// (reference/ops.h's convention), 0: every earlier key.
// Eager: probs [B,heads,S,S] in dt (masked entries exactly 0). Scratch: B·heads pointer triples.
// Its backward needs no window: the masked probabilities are 0.
void attention_eager_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, void* probs, int B, int S,
                             int heads, int kv_heads, int d, DType dt, int window = 0);
// dq, dk, dv overwritten. Scratch: a [B,heads,S,S] dS buffer in dt plus pointer arrays.
void attention_eager_backward(Context& ctx, const void* q, const void* k, const void* v, const void* probs, const void* dout,
                              void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d, DType dt);
std::size_t attention_eager_backward_scratch_bytes(int B, int S, int heads, int kv_heads, DType dt);
// Flash-style: lse [B,heads,S] fp32; head_dim d ≤ 256.
void attention_flash_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                             int heads, int kv_heads, int d, DType dt, int window = 0);
// dq, dk, dv overwritten. Scratch: D = rowsum(dout∘out) [B,heads,S] fp32.
void attention_flash_backward(Context& ctx, const void* q, const void* k, const void* v, const void* out, const float* lse,
                              const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d,
                              DType dt, int window = 0);

// --- loss ----------------------------------------------------------------------------------------
// Mean softmax cross-entropy over rows whose target is ≥ 0 (−1 ignored) into *loss (device fp32);
// with `backward`, the logits are overwritten in place by dlogits = grad_scale · (softmax −
// onehot) / count (zero rows for ignored targets): grad_scale is fp16's loss scale S, applied
// here so that scaling the loss costs no extra pass over [T, V] (the backward of S·loss, as
// PyTorch's GradScaler's scaler.scale(loss).backward()); *loss stays the unscaled loss. count 0:
// loss 0 and zero gradients. ld: the logits' row stride (0 = V; ≥ V); columns ≥ V are untouched.
// Gradient accumulation (one micro-batch of a step of several): `count_targets` [count_T] are the
// whole step's targets, whose entries ≥ 0 are the count (so each micro-batch's loss and gradient
// are its share of the step's mean, as the CPU reference's), and add_loss adds to *loss instead
// of overwriting it (the step's loss is the sum of its micro-batches' shares). nullptr: `targets`.
void cross_entropy(Context& ctx, void* logits, const int* targets, float* loss, int T, int V, DType dt, bool backward,
                   float grad_scale = 1.0f, int ld = 0, const int* count_targets = nullptr, int count_T = 0,
                   bool add_loss = false);

// --- embedding -----------------------------------------------------------------------------------
void embedding_forward(Context& ctx, const void* table, const int* ids, void* y, int T, int h, DType dt);
// dtable[ids[t]] += dy[t] (atomicAdd; dtable in grad_dt).
void embedding_backward(Context& ctx, const int* ids, const void* dy, void* dtable, int T, int h, DType dt, DType grad_dt);

// --- optimizer and mixed precision -----------------------------------------------------------------
struct BufferRef {
    const void* data = nullptr;
    std::size_t n = 0;
    DType dt = DType::fp32;
};
// *norm (device fp32) = √(Σ over all buffers of x²) / divide_by, accumulated in double. divide_by
// is fp16's loss scale S, so that the norm of gradients stored ×S is the true ‖g‖ (exactly, up
// to the final rounding to fp32; S is a power of two in the engine), which clipping needs; 1
// leaves the norm as it was.
void global_norm(Context& ctx, const std::vector<BufferRef>& buffers, float* norm, double divide_by = 1.0);
// One fused AdamW step (PyTorch order: p ← p·(1 − lr·λ) when decay, then the bias-corrected Adam
// step) on fp32 param/m/v with the gradient (in grad_dt) multiplied by grad_scale and, when
// clip_norm (device) is given, by min(1, max_grad_norm / (*clip_norm + 1e-6)). When skip (device,
// nullable) is nonzero the kernel changes nothing (fp16 step with inf/NaN gradients).
// param_copy (nullable) receives the updated weights in copy_dt. step counts from 1.
void adamw_update(Context& ctx, float* param, const void* grad, DType grad_dt, float* m, float* v, std::size_t n,
                  const AdamWHyper& hyper, int step, float grad_scale, const float* clip_norm, float max_grad_norm,
                  bool decay, const int* skip, void* param_copy, DType copy_dt);
// Sets *flag (device int) to 1 when some value is inf or NaN; leaves it untouched otherwise (so
// several buffers can be checked into one flag zeroed beforehand).
void check_nonfinite(Context& ctx, const void* x, std::size_t n, DType dt, int* flag);
// Dynamic loss scale step on device (see ops_gpu.h LossScaleState).
void update_loss_scale(Context& ctx, float* scale, int* good_steps, const int* found_nonfinite, float growth, float backoff,
                       int interval);

}  // namespace llmplan::kernels::cuda
