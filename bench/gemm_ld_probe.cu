// gemm_ld_probe.cu — the engine-speed work, lever 1 (bench/NOTES.md): does padding the logits' row stride (or the vocabulary)
// bring GPT-2's output-layer GEMMs to the speed of the model's other linears?
//
// Times, through cuBLASLt with the engine's own conventions (kernels/cuda/linear.cu: row-major
// activations, weights [n, k], bf16 in, fp32 compute, heuristic's first algorithm, 32 MiB
// workspace), the three GEMMs of the output layer y[T, n] = x[T, k]·W[n, k]ᵀ at T = 16,384,
// k = 768 for three layouts:
//   odd      n = 50,257, row stride 50,257 (version 0 of the engine)
//   ld       n = 50,257, row stride 50,304 (the padded stride; columns ≥ n never touched)
//   padded   n = 50,304, row stride 50,304 (a padded vocabulary, as llm.c)
// forward y = x·Wᵀ, dx = dy·W, dW += dyᵀ·x (fp32 accumulate, beta 1). Median of 20 launches.
// Build: nvcc -O2 -arch=sm_90 -std=c++17 bench/gemm_ld_probe.cu -lcublasLt -o gemm_ld_probe
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(x)                                                                              \
    do {                                                                                   \
        auto e_ = (x);                                                                     \
        if (static_cast<int>(e_) != 0) {                                                   \
            std::fprintf(stderr, "%s:%d: %s failed (%d)\n", __FILE__, __LINE__, #x, (int)e_); \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

static cublasLtHandle_t lt;
static void* ws;
static const size_t kWs = size_t{32} << 20;

// D[m, n] = op(A)·op(B) + beta·D, column-major (cuBLAS conventions), bf16 A/B, D in d_type.
static float time_gemm(bool ta, bool tb, int m, int n, int k, const void* a, int lda, const void* b, int ldb, float beta,
                       void* d, int ldd, cudaDataType_t d_type) {
    cublasLtMatmulDesc_t desc;
    CK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    CK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa));
    CK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb));
    cublasLtMatrixLayout_t la, lb, ld;
    CK(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, ta ? k : m, ta ? m : k, lda));
    CK(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, tb ? n : k, tb ? k : n, ldb));
    CK(cublasLtMatrixLayoutCreate(&ld, d_type, m, n, ldd));
    cublasLtMatmulPreference_t pref;
    CK(cublasLtMatmulPreferenceCreate(&pref));
    CK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &kWs, sizeof kWs));
    cublasLtMatmulHeuristicResult_t h{};
    int found = 0;
    CK(cublasLtMatmulAlgoGetHeuristic(lt, desc, la, lb, ld, ld, pref, 1, &h, &found));
    if (found == 0) {
        std::fprintf(stderr, "no algorithm\n");
        std::exit(1);
    }
    const float alpha = 1.0f;
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    std::vector<float> ms;
    for (int i = 0; i < 23; ++i) {
        CK(cudaEventRecord(e0));
        CK(cublasLtMatmul(lt, desc, &alpha, a, la, b, lb, &beta, d, ld, d, ld, &h.algo, ws, kWs, nullptr));
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float t = 0;
        CK(cudaEventElapsedTime(&t, e0, e1));
        if (i >= 3) ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(la);
    cublasLtMatrixLayoutDestroy(lb);
    cublasLtMatrixLayoutDestroy(ld);
    cublasLtMatmulDescDestroy(desc);
    return ms[ms.size() / 2];
}

int main() {
    const int T = 16384, k = 768, V = 50257, Vp = 50304;
    CK(cublasLtCreate(&lt));
    CK(cudaMalloc(&ws, kWs));
    void *x, *w, *y, *dx, *dw;
    CK(cudaMalloc(&x, size_t{2} * T * k));
    CK(cudaMalloc(&w, size_t{2} * Vp * k));
    CK(cudaMalloc(&y, size_t{2} * T * Vp));
    CK(cudaMalloc(&dx, size_t{2} * T * k));
    CK(cudaMalloc(&dw, size_t{4} * Vp * k));
    CK(cudaMemset(x, 0, size_t{2} * T * k));
    CK(cudaMemset(w, 0, size_t{2} * Vp * k));
    CK(cudaMemset(y, 0, size_t{2} * T * Vp));
    CK(cudaMemset(dw, 0, size_t{4} * Vp * k));
    struct Layout {
        const char* name;
        int n, ld;
    };
    std::printf("output layer GEMMs, T=%d k=%d, bf16 in, fp32 compute (TFLOP/s from 2*T*k*n)\n", T, k);
    for (const Layout L : {Layout{"odd", V, V}, Layout{"ld", V, Vp}, Layout{"padded", Vp, Vp}}) {
        const double f = 2.0 * T * k * L.n;
        // y = x·Wᵀ: Yᵀ[n, T] = (W as k×n)ᵀ · (Xᵀ as k×T)
        const float tf = time_gemm(true, false, L.n, T, k, w, k, x, k, 0.0f, y, L.ld, CUDA_R_16BF);
        // dx = dy·W: dXᵀ[k, T] = (W as k×n)·(dYᵀ as n×T, ld)
        const float tdx = time_gemm(false, false, k, T, L.n, w, k, y, L.ld, 0.0f, dx, k, CUDA_R_16BF);
        // dW += dyᵀ·x: dWᵀ[k, n] = (Xᵀ as k×T)·(dYᵀ as n×T, ld)ᵀ, fp32
        const float tdw = time_gemm(false, true, k, L.n, T, x, k, y, L.ld, 1.0f, dw, k, CUDA_R_32F);
        std::printf("%-7s n=%d ld=%d: forward %.3f ms (%.0f TFLOP/s), dx %.3f ms (%.0f), dW %.3f ms (%.0f), total %.3f ms\n",
                    L.name, L.n, L.ld, tf, f / tf * 1e-9, tdx, f / tdx * 1e-9, tdw, f / tdw * 1e-9, tf + tdx + tdw);
    }
    return 0;
}
