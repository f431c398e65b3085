// linear.cu — linear layers through cuBLASLt (row-major [T, features] activations, weights
// [out, in]). Row-major X is column-major Xᵀ, so each product is written for cuBLAS's
// column-major view:
//   y  = x·Wᵀ + b   →  Yᵀ[n,T]  = op_T(W as k×n)·(Xᵀ as k×T)         + bias epilogue
//   dx = dy·W       →  dXᵀ[k,T] = (W as k×n)·(dYᵀ as n×T)
//   dW += dyᵀ·x     →  dWᵀ[k,n] = (Xᵀ as k×T)·op_T(dYᵀ as n×T), beta = 1 (accumulate)
//   db += Σ_t dy    →  deterministic column sum (colreduce.cuh)
#include "kernels/cuda/colreduce.cuh"

namespace llmplan::kernels::cuda {

void linear_forward(Context& ctx, const void* x, const void* w, const void* b, void* y, int T, int k, int n, DType dt) {
    require(T > 0 && k > 0 && n > 0, "linear_forward: T, k and n must be positive");
    lt_matmul(ctx, /*trans_a=*/true, /*trans_b=*/false, n, T, k, 1.0f, w, k, x, k, 0.0f, y, n, dt, dt, b);
}

void linear_backward(Context& ctx, const void* x, const void* w, const void* dy, void* dx, void* dw, void* db, int T, int k,
                     int n, DType dt, DType grad_dt) {
    require(T > 0 && k > 0 && n > 0, "linear_backward: T, k and n must be positive");
    require(grad_dt == dt || grad_dt == DType::fp32, "linear_backward: gradients must be fp32 or the storage type");
    if (dx) lt_matmul(ctx, false, false, k, T, n, 1.0f, w, k, dy, n, 0.0f, dx, k, dt, dt, nullptr);
    if (dw) lt_matmul(ctx, false, true, k, n, T, 1.0f, x, k, dy, n, 1.0f, dw, k, dt, grad_dt, nullptr);
    if (db) {
        dispatch(dt, [&](auto tag) {
            using T_ = decltype(tag);
            dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                using G = decltype(gtag);
                column_reduce<1, G>(ctx, ColumnValue<T_>{static_cast<const T_*>(dy), n}, static_cast<G*>(db), nullptr, T, n);
            });
        });
    }
}

}  // namespace llmplan::kernels::cuda
