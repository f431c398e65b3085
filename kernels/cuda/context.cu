// context.cu — the per-stream Context (cuBLASLt/cuBLAS handles, workspace, scratch), the cached
// cuBLASLt matmul behind every linear layer, and storage-type conversion.
#include "kernels/cuda/common.cuh"

#include <cstdint>
#include <vector>

namespace llmplan::kernels::cuda {

cudaDataType_t cuda_type(DType dt) {
    switch (dt) {
    case DType::fp32: return CUDA_R_32F;
    case DType::bf16: return CUDA_R_16BF;
    case DType::fp16: return CUDA_R_16F;
    }
    throw std::invalid_argument("llmplan kernels: unknown dtype");
}

// One shape's cuBLASLt descriptors and the heuristic's algorithm, created on first use.
struct Context::MatmulPlan {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
    cublasLtMatmulAlgo_t algo{};
    std::size_t workspace = 0;
    ~MatmulPlan() {
        // Destructors must not throw: statuses are ignored here.
        if (d) cublasLtMatrixLayoutDestroy(d);
        if (b) cublasLtMatrixLayoutDestroy(b);
        if (a) cublasLtMatrixLayoutDestroy(a);
        if (desc) cublasLtMatmulDescDestroy(desc);
    }
};

Context::Context(cudaStream_t stream, std::size_t lt_workspace_bytes) : stream_(stream) {
    LLMPLAN_CUBLAS_CHECK(cublasLtCreate(&lt_));
    LLMPLAN_CUBLAS_CHECK(cublasCreate(&blas_));
    LLMPLAN_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
    // Strict fp32 (no TF32) for fp32 GEMMs: the kernels are checked against an fp32 reference.
    LLMPLAN_CUBLAS_CHECK(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
    if (lt_workspace_bytes > 0) LLMPLAN_CUDA_CHECK(cudaMalloc(&lt_workspace_, lt_workspace_bytes));
    lt_workspace_bytes_ = lt_workspace_bytes;
}

Context::~Context() {
    plans_.clear();
    if (scratch_) cudaFree(scratch_);
    if (lt_workspace_) cudaFree(lt_workspace_);
    if (blas_) cublasDestroy(blas_);
    if (lt_) cublasLtDestroy(lt_);
}

void* Context::scratch(std::size_t bytes) {
    if (bytes <= scratch_bytes_) return scratch_;
    if (scratch_) {
        LLMPLAN_CUDA_CHECK(cudaStreamSynchronize(stream_));
        LLMPLAN_CUDA_CHECK(cudaFree(scratch_));
        scratch_ = nullptr;
        scratch_bytes_ = 0;
    }
    const std::size_t rounded = (bytes + 255) / 256 * 256;
    LLMPLAN_CUDA_CHECK(cudaMalloc(&scratch_, rounded));
    scratch_bytes_ = rounded;
    return scratch_;
}

Context::MatmulPlan& Context::matmul_plan(const std::vector<std::int64_t>& key) {
    auto it = plans_.find(key);
    if (it == plans_.end()) it = plans_.emplace(key, std::make_unique<MatmulPlan>()).first;
    return *it->second;
}

namespace {

// Largest power of two (≤ 256) that divides the address: cuBLASLt's heuristic assumes 256-byte
// alignment unless told, and picks vectorised kernels that fault on less.
std::uint32_t alignment_of(const void* p) {
    const auto addr = reinterpret_cast<std::uintptr_t>(p);
    std::uint32_t a = 256;
    while (a > 1 && addr % a != 0) a /= 2;
    return a;
}

}  // namespace

void lt_matmul(Context& ctx, bool trans_a, bool trans_b, int m, int n, int k, float alpha, const void* a, int lda,
               const void* b, int ldb, float beta, void* d, int ldd, DType ab_dt, DType d_dt, const void* bias,
               LtEpilogue epi, const void* aux, int ld_aux) {
    if (epi != LtEpilogue::none && (!aux || ld_aux < m || ld_aux % 8 != 0))
        throw std::invalid_argument("lt_matmul: a GELU epilogue needs its aux matrix with a leading dimension ≥ m, a multiple of 8");
    const std::uint32_t align_a = alignment_of(a), align_b = alignment_of(b), align_d = alignment_of(d);
    const std::uint32_t align_bias = bias ? alignment_of(bias) : 256;
    const std::uint32_t align_aux = aux ? alignment_of(aux) : 256;
    const std::vector<std::int64_t> key = {trans_a,  trans_b, m,       n,       k,          lda,
                                           ldb,      ldd,     beta != 0.0f,     static_cast<int>(ab_dt),
                                           static_cast<int>(d_dt), bias != nullptr, align_a, align_b,
                                           align_d,  align_bias, static_cast<int>(epi), ld_aux, align_aux};
    Context::MatmulPlan& plan = ctx.matmul_plan(key);
    if (!plan.desc) {
        const cudaDataType_t ab = cuda_type(ab_dt), dd = cuda_type(d_dt);
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulDescCreate(&plan.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
        const cublasOperation_t ta = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
        cublasLtEpilogue_t mode = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
        if (epi == LtEpilogue::gelu_aux) mode = bias ? CUBLASLT_EPILOGUE_GELU_AUX_BIAS : CUBLASLT_EPILOGUE_GELU_AUX;
        if (epi == LtEpilogue::dgelu) {
            if (bias) throw std::invalid_argument("lt_matmul: DGELU takes no bias");
            mode = CUBLASLT_EPILOGUE_DGELU;
        }
        if (mode != CUBLASLT_EPILOGUE_DEFAULT)
            LLMPLAN_CUBLAS_CHECK(
                cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &mode, sizeof(mode)));
        if (bias) {
            const int32_t bias_type = dd;
            LLMPLAN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                                                &bias_type, sizeof(bias_type)));
        }
        if (epi != LtEpilogue::none) {
            const std::int64_t lda_aux = ld_aux;
            LLMPLAN_CUBLAS_CHECK(
                cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, &lda_aux, sizeof(lda_aux)));
            const int32_t aux_type = dd;
            LLMPLAN_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_DATA_TYPE,
                                                                &aux_type, sizeof(aux_type)));
            // The heuristic reads the pointer's alignment (cublasLt.h); the call sets the real one.
            LLMPLAN_CUBLAS_CHECK(
                cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof(aux)));
        }
        // Stored shapes (before op): A is m×k (or k×m when transposed), B is k×n (or n×k).
        LLMPLAN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.a, ab, static_cast<std::uint64_t>(trans_a ? k : m),
                                                        static_cast<std::uint64_t>(trans_a ? m : k), lda));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.b, ab, static_cast<std::uint64_t>(trans_b ? n : k),
                                                        static_cast<std::uint64_t>(trans_b ? k : n), ldb));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&plan.d, dd, static_cast<std::uint64_t>(m),
                                                        static_cast<std::uint64_t>(n), ldd));
        cublasLtMatmulPreference_t pref = nullptr;
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
        struct PrefGuard {
            cublasLtMatmulPreference_t p;
            ~PrefGuard() { cublasLtMatmulPreferenceDestroy(p); }
        } guard{pref};
        const std::size_t ws = ctx.lt_workspace_bytes();
        LLMPLAN_CUBLAS_CHECK(
            cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                                                  &align_a, sizeof(align_a)));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                                                  &align_b, sizeof(align_b)));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                                                  &align_d, sizeof(align_d)));
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                                                  &align_d, sizeof(align_d)));
        cublasLtMatmulHeuristicResult_t result{};
        int found = 0;
        LLMPLAN_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(ctx.lt(), plan.desc, plan.a, plan.b, plan.d, plan.d, pref, 1,
                                                            &result, &found));
        if (found == 0)
            throw std::runtime_error(std::string(__FILE__) + ": cuBLASLt found no algorithm for a " + std::to_string(m) +
                                     "×" + std::to_string(n) + "×" + std::to_string(k) + " " + to_string(ab_dt) +
                                     " matmul");
        plan.algo = result.algo;
        plan.workspace = result.workspaceSize;
    }
    if (bias)
        LLMPLAN_CUBLAS_CHECK(
            cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof(bias)));
    if (epi != LtEpilogue::none)
        LLMPLAN_CUBLAS_CHECK(
            cublasLtMatmulDescSetAttribute(plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, &aux, sizeof(aux)));
    LLMPLAN_CUBLAS_CHECK(cublasLtMatmul(ctx.lt(), plan.desc, &alpha, a, plan.a, b, plan.b, &beta, d, plan.d, d, plan.d,
                                        &plan.algo, ctx.lt_workspace(), plan.workspace, ctx.stream()));
}

namespace {

template <typename S, typename D>
__global__ void convert_kernel(const S* __restrict__ src, D* __restrict__ dst, std::size_t n) {
    for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
        dst[i] = from_float<D>(to_float(src[i]));
}

}  // namespace

void convert(Context& ctx, const void* src, DType src_dt, void* dst, DType dst_dt, std::size_t n) {
    if (n == 0) return;
    dispatch(src_dt, [&](auto s_tag) {
        using S = decltype(s_tag);
        dispatch(dst_dt, [&](auto d_tag) {
            using D = decltype(d_tag);
            convert_kernel<S, D><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(static_cast<const S*>(src),
                                                                             static_cast<D*>(dst), n);
            LLMPLAN_CHECK_LAUNCH();
        });
    });
}

}  // namespace llmplan::kernels::cuda
