// linear.cu — linear layers through cuBLASLt (row-major [T, features] activations, weights
// [out, in]). Row-major X is column-major Xᵀ, so each product is written for cuBLAS's
// column-major view:
//   y  = x·Wᵀ + b   →  Yᵀ[n,T]  = op_T(W as k×n)·(Xᵀ as k×T)         + bias epilogue
//   dx = dy·W       →  dXᵀ[k,T] = (W as k×n)·(dYᵀ as n×T)         (or dx += with beta = 1: the
//                                                                   engine sums q/k/v's input
//                                                                   gradients this way, no add kernel)
//   dW += dyᵀ·x     →  dWᵀ[k,n] = (Xᵀ as k×T)·op_T(dYᵀ as n×T), beta = 1 (accumulate)
//   db += Σ_t dy    →  deterministic column sum (colreduce.cuh)
// GPT-2's MLP in 16-bit storage fuses its GELU into the GEMMs (as llm.c does on sm_90): the fc
// projection with the GELU_AUX(_BIAS) epilogue (y = GELU(pre), pre kept for the backward) and the
// down projection's dx with DGELU (the gradient of pre directly), which saves the two separate
// passes over [T, 4d] (bench/NOTES.md version 1).
//
// The output's row stride ld (≥ n) may exceed n: the engine gives GPT-2's logits a row stride of
// 50,304 for its 50,257 words (kernels/engine.h, logits_row_stride). When ld keeps rows 16-byte
// aligned but n is not a multiple of 64, each product is split at n₀ = ⌊n / 64⌋·64 into a main part
// (n₀ outputs: cuBLASLt's TMA kernels) and a tail (n − n₀ < 64 outputs; for dx, a second product
// accumulated with beta = 1). Measured on an H100 for [16,384 × 768] → 50,257 in bf16
// (bench/gemm_ld_probe.cu, bench/NOTES.md version 1): forward 12.8 ms with n odd, 1.6 ms with
// n = 50,304; dx 8.7 → 1.4 ms; dW 8.1 → 1.4 ms. Columns ld > j ≥ n are never read or written.
#include "kernels/cuda/colreduce.cuh"

namespace llmplan::kernels::cuda {

namespace {

constexpr int kSplitAlign = 64;

// Where the product splits: n₀ (0 = no split). Only 16-bit storage with 16-byte-aligned rows
// benefits (fp32 GEMMs run on CUDA cores, where an odd n costs nothing measurable).
int split_at(int n, int ld, DType dt) {
    if (dt == DType::fp32 || n % kSplitAlign == 0 || n < kSplitAlign) return 0;
    if ((static_cast<std::size_t>(ld) * dtype_bytes(dt)) % 16 != 0) return 0;
    return n / kSplitAlign * kSplitAlign;
}

// The GELU epilogues: 16-bit storage (cuBLASLt's GELU is evaluated before the output's rounding,
// which fp32's 1e-4 tolerance against the reference's double tanh would not allow for) and an aux
// leading dimension that is a multiple of 8 (cublasLt.h).
bool fused_gelu(DType dt, int ld_aux) { return dt != DType::fp32 && ld_aux % 8 == 0; }

const void* offset(const void* p, std::size_t elements, DType dt) {
    return p ? static_cast<const char*>(p) + elements * dtype_bytes(dt) : nullptr;
}
void* offset(void* p, std::size_t elements, DType dt) {
    return p ? static_cast<char*>(p) + elements * dtype_bytes(dt) : nullptr;
}

}  // namespace

void linear_gelu_forward(Context& ctx, const void* x, const void* w, const void* b, void* pre, void* y, int T, int k, int n,
                         DType dt) {
    require(T > 0 && k > 0 && n > 0, "linear_gelu_forward: T, k and n must be positive");
    if (!fused_gelu(dt, n)) {
        linear_forward(ctx, x, w, b, pre, T, k, n, dt);
        gelu_forward(ctx, pre, y, static_cast<std::size_t>(T) * static_cast<std::size_t>(n), dt);
        return;
    }
    lt_matmul(ctx, true, false, n, T, k, 1.0f, w, k, x, k, 0.0f, y, n, dt, dt, b, LtEpilogue::gelu_aux, pre, n);
}

void linear_forward(Context& ctx, const void* x, const void* w, const void* b, void* y, int T, int k, int n, DType dt,
                    int ld) {
    if (ld == 0) ld = n;
    require(T > 0 && k > 0 && n > 0, "linear_forward: T, k and n must be positive");
    require(ld >= n, "linear_forward: the output row stride must be at least n");
    const int n0 = split_at(n, ld, dt);
    if (n0 == 0) {
        lt_matmul(ctx, /*trans_a=*/true, /*trans_b=*/false, n, T, k, 1.0f, w, k, x, k, 0.0f, y, ld, dt, dt, b);
        return;
    }
    const std::size_t s0 = static_cast<std::size_t>(n0);
    lt_matmul(ctx, true, false, n0, T, k, 1.0f, w, k, x, k, 0.0f, y, ld, dt, dt, b);
    lt_matmul(ctx, true, false, n - n0, T, k, 1.0f, offset(w, s0 * static_cast<std::size_t>(k), dt), k, x, k, 0.0f,
              offset(y, s0, dt), ld, dt, dt, offset(b, s0, dt));
}

void linear_backward(Context& ctx, const void* x, const void* w, const void* dy, void* dx, void* dw, void* db, int T, int k,
                     int n, DType dt, DType grad_dt, int ld, bool accumulate_dx, const void* gelu_pre) {
    if (ld == 0) ld = n;
    require(T > 0 && k > 0 && n > 0, "linear_backward: T, k and n must be positive");
    require(ld >= n, "linear_backward: the output gradient's row stride must be at least n");
    require(grad_dt == dt || grad_dt == DType::fp32, "linear_backward: gradients must be fp32 or the storage type");
    require(!gelu_pre || (!accumulate_dx && ld == n && dx), "linear_backward: gelu_pre needs dx, no accumulation, ld = n");
    const int n0 = split_at(n, ld, dt);
    const std::size_t s0 = static_cast<std::size_t>(n0), sk = static_cast<std::size_t>(k);
    if (dx && gelu_pre) {
        if (fused_gelu(dt, k)) {
            lt_matmul(ctx, false, false, k, T, n, 1.0f, w, k, dy, ld, 0.0f, dx, k, dt, dt, nullptr, LtEpilogue::dgelu,
                      gelu_pre, k);
        } else {
            lt_matmul(ctx, false, false, k, T, n, 1.0f, w, k, dy, ld, 0.0f, dx, k, dt, dt, nullptr);
            gelu_backward(ctx, gelu_pre, dx, dx, static_cast<std::size_t>(T) * sk, dt);
        }
    } else if (dx) {
        const float beta = accumulate_dx ? 1.0f : 0.0f;
        if (n0 == 0) {
            lt_matmul(ctx, false, false, k, T, n, 1.0f, w, k, dy, ld, beta, dx, k, dt, dt, nullptr);
        } else {  // dx = dy[:, :n₀]·W[:n₀] + dy[:, n₀:]·W[n₀:]
            lt_matmul(ctx, false, false, k, T, n0, 1.0f, w, k, dy, ld, beta, dx, k, dt, dt, nullptr);
            lt_matmul(ctx, false, false, k, T, n - n0, 1.0f, offset(w, s0 * sk, dt), k, offset(dy, s0, dt), ld, 1.0f, dx, k,
                      dt, dt, nullptr);
        }
    }
    if (dw) {
        if (n0 == 0) {
            lt_matmul(ctx, false, true, k, n, T, 1.0f, x, k, dy, ld, 1.0f, dw, k, dt, grad_dt, nullptr);
        } else {  // rows [0, n₀) and [n₀, n) of dW
            lt_matmul(ctx, false, true, k, n0, T, 1.0f, x, k, dy, ld, 1.0f, dw, k, dt, grad_dt, nullptr);
            lt_matmul(ctx, false, true, k, n - n0, T, 1.0f, x, k, offset(dy, s0, dt), ld, 1.0f, offset(dw, s0 * sk, grad_dt),
                      k, dt, grad_dt, nullptr);
        }
    }
    if (db) {
        dispatch(dt, [&](auto tag) {
            using T_ = decltype(tag);
            dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                using G = decltype(gtag);
                column_reduce<1, G>(ctx, ColumnValue<T_>{static_cast<const T_*>(dy), ld}, static_cast<G*>(db), nullptr, T, n);
            });
        });
    }
}

}  // namespace llmplan::kernels::cuda
