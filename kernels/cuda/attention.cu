// attention.cu — causal multi-head attention with GQA, in two forms.
//
// Eager: scores by batched GEMM (cuBLAS, one pointer triple per (batch, head), so GQA's shared
// K/V heads need no copies), a causal softmax kernel that keeps the probabilities [B,heads,S,S],
// and P·V by batched GEMM. Backward: dP = dO·Vᵀ, dS = P∘(dP − rowsum(P∘dP))·scale in place,
// dQ = dS·K, and dK, dV summed over the query heads of a kv group by one batched GEMM per head
// of the group (beta = 1 after the first: no two GEMMs of one call write the same matrix).
//
// Flash-style (Dao 2022, FlashAttention-2 order): bf16/fp16 with head_dim a multiple of 4 up to
// 128 run on the tensor cores (attention_tc.cu); everything else (fp32, other head sizes ≤ 256)
// on the SIMT kernels below, where one block per 32 query rows of one head walks
// the key tiles up to the diagonal with an online softmax and keeps only the log-sum-exp per
// row. Backward recomputes P from q, k and lse: one kernel for dQ (query tiles, like the
// forward) and one for dK, dV (key tiles, over every query head of the group), so there are no
// atomics and the result is deterministic. Threads: 8 warps, each owning 4 rows of the tile;
// lane j handles key (or query) j of the other tile for the dot products, and owns columns
// lane, lane + 32, … of the head dimension for the accumulators. fp32 SIMT arithmetic (no
// tensor cores): correct for any S and head_dim ≤ 256, several times slower than the
// tensor-core path.
#include "kernels/cuda/attention_tc.cuh"
#include "kernels/cuda/common.cuh"

#include <cmath>

namespace llmplan::kernels::cuda {

namespace {

// --- eager -------------------------------------------------------------------------------------

// Pointer of matrix (b, h) of a batched GEMM: base + (b·bstride + (h / hdiv)·hstride) elements.
struct MatrixSpec {
    const char* base;
    long long bstride, hstride;
    int hdiv;
};

__global__ void fill_pointers_kernel(MatrixSpec a, MatrixSpec b, MatrixSpec c, int elem, int nh, int count,
                                     const void** pa, const void** pb, void** pc) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= count) return;
    const long long bi = i / nh, hi = i % nh;
    pa[i] = a.base + (bi * a.bstride + (hi / a.hdiv) * a.hstride) * elem;
    pb[i] = b.base + (bi * b.bstride + (hi / b.hdiv) * b.hstride) * elem;
    pc[i] = const_cast<char*>(c.base + (bi * c.bstride + (hi / c.hdiv) * c.hstride) * elem);
}

// C_i = alpha·op(A_i)·op(B_i) + beta·C_i for the count = B·nh matrices given by the specs.
void batched_gemm(Context& ctx, void** ptrs, bool ta, bool tb, int m, int n, int k, float alpha, MatrixSpec a, int lda,
                  MatrixSpec b, int ldb, float beta, MatrixSpec c, int ldc, int count, int nh, DType dt) {
    const void** pa = const_cast<const void**>(ptrs);
    const void** pb = pa + count;
    void** pc = ptrs + 2 * static_cast<std::size_t>(count);
    fill_pointers_kernel<<<static_cast<unsigned>((count + 127) / 128), 128, 0, ctx.stream()>>>(
        a, b, c, static_cast<int>(dtype_bytes(dt)), nh, count, pa, pb, pc);
    LLMPLAN_CHECK_LAUNCH();
    const cudaDataType_t t = cuda_type(dt);
    LLMPLAN_CUBLAS_CHECK(cublasGemmBatchedEx(ctx.blas(), ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m,
                                             n, k, &alpha, pa, t, lda, pb, t, ldb, &beta, pc, t, ldc, count,
                                             CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

constexpr int kSoftmaxThreads = 128;

// In place on each score row (b, h, i): causal softmax over j0 ≤ j ≤ i (j0 = 0, or i − window + 1
// with a sliding window), exact zeros elsewhere.
template <typename T>
__global__ void __launch_bounds__(kSoftmaxThreads) causal_softmax_kernel(T* __restrict__ p, int S, int window) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const int i = static_cast<int>(row % S), j0 = window > 0 ? max(0, i - window + 1) : 0;
    T* r = p + row * S;
    float mx = -INFINITY;
    for (int j = j0 + static_cast<int>(threadIdx.x); j <= i; j += blockDim.x) mx = fmaxf(mx, to_float(r[j]));
    mx = block_max(mx, sh);
    float s = 0.0f;
    for (int j = j0 + static_cast<int>(threadIdx.x); j <= i; j += blockDim.x) s += expf(to_float(r[j]) - mx);
    const float inv = 1.0f / block_sum(s, sh);
    for (int j = threadIdx.x; j < S; j += blockDim.x)
        r[j] = from_float<T>(j0 <= j && j <= i ? expf(to_float(r[j]) - mx) * inv : 0.0f);
}

// In place on dP: dS = P∘(dP − Σ_j P∘dP)·scale (zero above the diagonal).
template <typename T>
__global__ void __launch_bounds__(kSoftmaxThreads) causal_softmax_bwd_kernel(const T* __restrict__ p, T* __restrict__ ds,
                                                                             int S, float scale) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const int i = static_cast<int>(row % S);
    const T* pr = p + row * S;
    T* dr = ds + row * S;
    float dot = 0.0f;
    for (int j = threadIdx.x; j <= i; j += blockDim.x) dot += to_float(pr[j]) * to_float(dr[j]);
    dot = block_sum(dot, sh);
    for (int j = threadIdx.x; j < S; j += blockDim.x)
        dr[j] = from_float<T>(j <= i ? to_float(pr[j]) * (to_float(dr[j]) - dot) * scale : 0.0f);
}

// --- flash ---------------------------------------------------------------------------------------

constexpr int kWarps = 8, kRowsPerWarp = 4, kBr = kWarps * kRowsPerWarp, kBc = 32, kFlashThreads = kWarps * 32;
static_assert(kBr == kBc, "the dK/dV kernel starts its query tiles at the key tile's start");
constexpr unsigned kFull = 0xffffffffu;

template <typename T, int CH>
__global__ void __launch_bounds__(kFlashThreads) flash_fwd_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                  const T* __restrict__ v, T* __restrict__ out,
                                                                  float* __restrict__ lse, int S, int H, int KV, int d,
                                                                  float scale, int window) {
    extern __shared__ float smem[];
    const int dp = d + 1;  // padded rows: lane j reading row j hits bank (j + c) mod 32
    float* sQ = smem;                   // [kBr][d]
    float* sK = sQ + kBr * d;           // [kBc][d + 1]
    float* sV = sK + kBc * dp;          // [kBc][d]
    const int tile = static_cast<int>(gridDim.x - 1 - blockIdx.x);  // the longest rows first
    const int h = blockIdx.y, b = blockIdx.z, g = h / (H / KV);
    const int q0 = tile * kBr;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const std::size_t qs = static_cast<std::size_t>(H) * d, ks = static_cast<std::size_t>(KV) * d;
    const T* qb = q + static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * d;
    const T* kb = k + static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * d;
    const T* vb = v + static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * d;
    for (int e = tid; e < kBr * d; e += kFlashThreads) {
        const int r = e / d, c = e - r * d, qi = q0 + r;
        sQ[e] = qi < S ? to_float(qb[static_cast<std::size_t>(qi) * qs + c]) : 0.0f;
    }
    float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][CH];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        m[rr] = -INFINITY;
        l[rr] = 0.0f;
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) acc[rr][ch] = 0.0f;
    }
    const int q_end = min(q0 + kBr, S);
    // Sliding window: the tile's first key is q0 − window + 1 (rows seeing none of a tile's keys
    // keep m = −∞ and add nothing).
    for (int k0 = window > 0 ? max(0, q0 - window + 1) / kBc * kBc : 0; k0 < q_end; k0 += kBc) {
        __syncthreads();
        for (int e = tid; e < kBc * d; e += kFlashThreads) {
            const int r = e / d, c = e - r * d, kj = k0 + r;
            const bool ok = kj < S;
            sK[r * dp + c] = ok ? to_float(kb[static_cast<std::size_t>(kj) * ks + c]) : 0.0f;
            sV[r * d + c] = ok ? to_float(vb[static_cast<std::size_t>(kj) * ks + c]) : 0.0f;
        }
        __syncthreads();
        float s[kRowsPerWarp];
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; ++rr) s[rr] = 0.0f;
        const float* kr = sK + lane * dp;
        const float* qw = sQ + warp * kRowsPerWarp * d;
        for (int c = 0; c < d; ++c) {
            const float kv = kr[c];
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) s[rr] += qw[rr * d + c] * kv;
        }
        const int kj = k0 + lane;
        float p[kRowsPerWarp];
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; ++rr) {
            const int qi = q0 + warp * kRowsPerWarp + rr;
            const bool valid = kj <= qi && qi < S && (window == 0 || kj > qi - window);
            const float sc = valid ? s[rr] * scale : -INFINITY;
            const float mn = fmaxf(m[rr], warp_max(sc));
            const float corr = mn == -INFINITY ? 1.0f : __expf(m[rr] - mn);
            p[rr] = valid ? __expf(sc - mn) : 0.0f;
            l[rr] = l[rr] * corr + warp_sum(p[rr]);
#pragma unroll
            for (int ch = 0; ch < CH; ++ch) acc[rr][ch] *= corr;
            m[rr] = mn;
        }
        for (int jj = 0; jj < kBc; ++jj) {
            float pj[kRowsPerWarp];
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) pj[rr] = __shfl_sync(kFull, p[rr], jj);
            const float* vr = sV + jj * d;
#pragma unroll
            for (int ch = 0; ch < CH; ++ch) {
                const int c = lane + 32 * ch;
                const float vv = c < d ? vr[c] : 0.0f;
#pragma unroll
                for (int rr = 0; rr < kRowsPerWarp; ++rr) acc[rr][ch] += pj[rr] * vv;
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int qi = q0 + warp * kRowsPerWarp + rr;
        if (qi >= S) continue;
        const float inv = 1.0f / l[rr];
        T* o = out + static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(qi) * qs + static_cast<std::size_t>(h) * d;
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) {
            const int c = lane + 32 * ch;
            if (c < d) o[c] = from_float<T>(acc[rr][ch] * inv);
        }
        if (lane == 0) lse[(static_cast<std::size_t>(b) * H + h) * S + qi] = m[rr] + logf(l[rr]);
    }
}

// D[b,h,i] = Σ_c dO[b,i,h,c]·O[b,i,h,c]: one warp per row.
template <typename T>
__global__ void flash_bwd_dot_kernel(const T* __restrict__ out, const T* __restrict__ dout, float* __restrict__ D, int S,
                                     int H, int d, std::size_t rows) {
    const std::size_t w = (blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x) / 32;
    const int lane = threadIdx.x % 32;
    if (w >= rows) return;
    const std::size_t h = w % H, bi = w / H;  // bi = b·S + i
    const std::size_t b = bi / S, i = bi % S;
    const T* o = out + w * d;
    const T* g = dout + w * d;
    float s = 0.0f;
    for (int c = lane; c < d; c += 32) s += to_float(o[c]) * to_float(g[c]);
    s = warp_sum(s);
    if (lane == 0) D[(b * H + h) * S + i] = s;
}

template <typename T, int CH>
__global__ void __launch_bounds__(kFlashThreads) flash_bwd_dq_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                     const T* __restrict__ v, const T* __restrict__ dout,
                                                                     const float* __restrict__ lse,
                                                                     const float* __restrict__ D, T* __restrict__ dq, int S,
                                                                     int H, int KV, int d, float scale, int window) {
    extern __shared__ float smem[];
    const int dp = d + 1;
    float* sQ = smem;               // [kBr][d]
    float* sO = sQ + kBr * d;       // dO [kBr][d]
    float* sK = sO + kBr * d;       // [kBc][d + 1]
    float* sV = sK + kBc * dp;      // [kBc][d + 1]
    const int tile = static_cast<int>(gridDim.x - 1 - blockIdx.x);
    const int h = blockIdx.y, b = blockIdx.z, g = h / (H / KV);
    const int q0 = tile * kBr;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const std::size_t qs = static_cast<std::size_t>(H) * d, ks = static_cast<std::size_t>(KV) * d;
    const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * d;
    const T* kb = k + static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * d;
    const T* vb = v + static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * d;
    for (int e = tid; e < kBr * d; e += kFlashThreads) {
        const int r = e / d, c = e - r * d, qi = q0 + r;
        const std::size_t at = qoff + static_cast<std::size_t>(qi) * qs + c;
        sQ[e] = qi < S ? to_float(q[at]) : 0.0f;
        sO[e] = qi < S ? to_float(dout[at]) : 0.0f;
    }
    const std::size_t stat = (static_cast<std::size_t>(b) * H + h) * S;
    float row_lse[kRowsPerWarp], row_D[kRowsPerWarp], acc[kRowsPerWarp][CH];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int qi = q0 + warp * kRowsPerWarp + rr;
        row_lse[rr] = qi < S ? lse[stat + qi] : 0.0f;
        row_D[rr] = qi < S ? D[stat + qi] : 0.0f;
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) acc[rr][ch] = 0.0f;
    }
    const int q_end = min(q0 + kBr, S);
    // Sliding window: from the tile's first key, q0 − window + 1.
    for (int k0 = window > 0 ? max(0, q0 - window + 1) / kBc * kBc : 0; k0 < q_end; k0 += kBc) {
        __syncthreads();
        for (int e = tid; e < kBc * d; e += kFlashThreads) {
            const int r = e / d, c = e - r * d, kj = k0 + r;
            const bool ok = kj < S;
            sK[r * dp + c] = ok ? to_float(kb[static_cast<std::size_t>(kj) * ks + c]) : 0.0f;
            sV[r * dp + c] = ok ? to_float(vb[static_cast<std::size_t>(kj) * ks + c]) : 0.0f;
        }
        __syncthreads();
        float s[kRowsPerWarp], dpv[kRowsPerWarp];
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; ++rr) s[rr] = dpv[rr] = 0.0f;
        const float* kr = sK + lane * dp;
        const float* vr = sV + lane * dp;
        const float* qw = sQ + warp * kRowsPerWarp * d;
        const float* ow = sO + warp * kRowsPerWarp * d;
        for (int c = 0; c < d; ++c) {
            const float kv = kr[c], vv = vr[c];
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) {
                s[rr] += qw[rr * d + c] * kv;
                dpv[rr] += ow[rr * d + c] * vv;
            }
        }
        const int kj = k0 + lane;
        float ds[kRowsPerWarp];
#pragma unroll
        for (int rr = 0; rr < kRowsPerWarp; ++rr) {
            const int qi = q0 + warp * kRowsPerWarp + rr;
            const bool valid = kj <= qi && qi < S && (window == 0 || kj > qi - window);
            const float p = valid ? __expf(s[rr] * scale - row_lse[rr]) : 0.0f;
            ds[rr] = p * (dpv[rr] - row_D[rr]);
        }
        for (int jj = 0; jj < kBc; ++jj) {
            float dsj[kRowsPerWarp];
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) dsj[rr] = __shfl_sync(kFull, ds[rr], jj);
            const float* krow = sK + jj * dp;
#pragma unroll
            for (int ch = 0; ch < CH; ++ch) {
                const int c = lane + 32 * ch;
                const float kk = c < d ? krow[c] : 0.0f;
#pragma unroll
                for (int rr = 0; rr < kRowsPerWarp; ++rr) acc[rr][ch] += dsj[rr] * kk;
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int qi = q0 + warp * kRowsPerWarp + rr;
        if (qi >= S) continue;
        T* o = dq + qoff + static_cast<std::size_t>(qi) * qs;
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) {
            const int c = lane + 32 * ch;
            if (c < d) o[c] = from_float<T>(acc[rr][ch] * scale);
        }
    }
}

template <typename T, int CH>
__global__ void __launch_bounds__(kFlashThreads) flash_bwd_dkdv_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                       const T* __restrict__ v, const T* __restrict__ dout,
                                                                       const float* __restrict__ lse,
                                                                       const float* __restrict__ D, T* __restrict__ dk,
                                                                       T* __restrict__ dv, int S, int H, int KV, int d,
                                                                       float scale, int window) {
    extern __shared__ float smem[];
    const int dp = d + 1;
    float* sK = smem;               // [kBc][d]
    float* sV = sK + kBc * d;       // [kBc][d]
    float* sQ = sV + kBc * d;       // [kBr][d + 1]
    float* sO = sQ + kBr * dp;      // dO [kBr][d + 1]
    float* sL = sO + kBr * dp;      // lse [kBr]
    float* sD = sL + kBr;           // D [kBr]
    const int k0 = blockIdx.x * kBc;  // tile 0 (the most queries) first
    const int g = blockIdx.y, b = blockIdx.z, rep = H / KV;
    const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const std::size_t qs = static_cast<std::size_t>(H) * d, ks = static_cast<std::size_t>(KV) * d;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * d;
    for (int e = tid; e < kBc * d; e += kFlashThreads) {
        const int r = e / d, c = e - r * d, kj = k0 + r;
        const std::size_t at = kvoff + static_cast<std::size_t>(kj) * ks + c;
        sK[e] = kj < S ? to_float(k[at]) : 0.0f;
        sV[e] = kj < S ? to_float(v[at]) : 0.0f;
    }
    float gk[kRowsPerWarp][CH], gv[kRowsPerWarp][CH];
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr)
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) gk[rr][ch] = gv[rr][ch] = 0.0f;
    const float* kw = sK + warp * kRowsPerWarp * d;
    const float* vw = sV + warp * kRowsPerWarp * d;
    for (int hr = 0; hr < rep; ++hr) {
        const int h = g * rep + hr;
        const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * d;
        const std::size_t stat = (static_cast<std::size_t>(b) * H + h) * S;
        // Queries before k0 see none of these keys (causal), nor (sliding window) queries after
        // the tile's last key + window − 1; kBr == kBc keeps tiles aligned.
        const int q_stop = window > 0 ? min(S, k0 + kBc + window - 1) : S;
        for (int q0 = k0; q0 < q_stop; q0 += kBr) {
            __syncthreads();
            for (int e = tid; e < kBr * d; e += kFlashThreads) {
                const int r = e / d, c = e - r * d, qi = q0 + r;
                const std::size_t at = qoff + static_cast<std::size_t>(qi) * qs + c;
                sQ[r * dp + c] = qi < S ? to_float(q[at]) : 0.0f;
                sO[r * dp + c] = qi < S ? to_float(dout[at]) : 0.0f;
            }
            if (tid < kBr) {
                const int qi = q0 + tid;
                sL[tid] = qi < S ? lse[stat + qi] : 0.0f;
                sD[tid] = qi < S ? D[stat + qi] : 0.0f;
            }
            __syncthreads();
            float s[kRowsPerWarp], dpv[kRowsPerWarp];
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) s[rr] = dpv[rr] = 0.0f;
            const float* qr = sQ + lane * dp;
            const float* orow = sO + lane * dp;
            for (int c = 0; c < d; ++c) {
                const float qv = qr[c], ov = orow[c];
#pragma unroll
                for (int rr = 0; rr < kRowsPerWarp; ++rr) {
                    s[rr] += kw[rr * d + c] * qv;
                    dpv[rr] += vw[rr * d + c] * ov;
                }
            }
            const int qi = q0 + lane;
            float p[kRowsPerWarp], ds[kRowsPerWarp];
#pragma unroll
            for (int rr = 0; rr < kRowsPerWarp; ++rr) {
                const int kj = k0 + warp * kRowsPerWarp + rr;
                const bool valid = kj <= qi && qi < S && (window == 0 || kj > qi - window);
                p[rr] = valid ? __expf(s[rr] * scale - sL[lane]) : 0.0f;
                ds[rr] = p[rr] * (dpv[rr] - sD[lane]);
            }
            for (int ii = 0; ii < kBr; ++ii) {
                float pi[kRowsPerWarp], dsi[kRowsPerWarp];
#pragma unroll
                for (int rr = 0; rr < kRowsPerWarp; ++rr) {
                    pi[rr] = __shfl_sync(kFull, p[rr], ii);
                    dsi[rr] = __shfl_sync(kFull, ds[rr], ii);
                }
                const float* qrow = sQ + ii * dp;
                const float* orow2 = sO + ii * dp;
#pragma unroll
                for (int ch = 0; ch < CH; ++ch) {
                    const int c = lane + 32 * ch;
                    const float qq = c < d ? qrow[c] : 0.0f, oo = c < d ? orow2[c] : 0.0f;
#pragma unroll
                    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
                        gv[rr][ch] += pi[rr] * oo;
                        gk[rr][ch] += dsi[rr] * qq;
                    }
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < kRowsPerWarp; ++rr) {
        const int kj = k0 + warp * kRowsPerWarp + rr;
        if (kj >= S) continue;
        const std::size_t at = kvoff + static_cast<std::size_t>(kj) * ks;
#pragma unroll
        for (int ch = 0; ch < CH; ++ch) {
            const int c = lane + 32 * ch;
            if (c < d) {
                dk[at + c] = from_float<T>(gk[rr][ch] * scale);
                dv[at + c] = from_float<T>(gv[rr][ch]);
            }
        }
    }
}

void check_attention(int B, int S, int heads, int kv_heads, int d, int window = 0) {
    require(B > 0 && S > 0 && heads > 0 && kv_heads > 0 && d > 0, "attention: B, S, heads, kv_heads, d must be positive");
    require(heads % kv_heads == 0, "attention: kv_heads must divide heads");
    require(window >= 0, "attention: the sliding window must not be negative");
}

// Calls f(std::integral_constant<int, CH>) for the smallest head-dim chunk count that fits d.
template <typename F>
void dispatch_chunks(int d, F&& f) {
    if (d <= 64) {
        f(std::integral_constant<int, 2>{});
    } else if (d <= 128) {
        f(std::integral_constant<int, 4>{});
    } else if (d <= 256) {
        f(std::integral_constant<int, 8>{});
    } else {
        throw std::invalid_argument("llmplan kernels: flash attention supports head_dim ≤ 256 (got " + std::to_string(d) +
                                    ")");
    }
}

template <typename Kernel>
void allow_smem(Kernel kernel, std::size_t bytes) {
    LLMPLAN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
}

}  // namespace

void attention_eager_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, void* probs, int B, int S,
                             int heads, int kv_heads, int d, DType dt, int window) {
    check_attention(B, S, heads, kv_heads, d, window);
    const int count = B * heads, rep = heads / kv_heads;
    const long long sS = S, sd = d, sH = heads, sKV = kv_heads;
    void** ptrs = static_cast<void**>(ctx.scratch(3 * sizeof(void*) * static_cast<std::size_t>(count)));
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    const auto* qc = static_cast<const char*>(q);
    const auto* kc = static_cast<const char*>(k);
    const auto* vc = static_cast<const char*>(v);
    // Scores, row-major [S(i), S(j)] = column-major [j, i]: C = op_T(K_bg)·Q_bh, alpha = scale.
    batched_gemm(ctx, ptrs, true, false, S, S, d, scale, MatrixSpec{kc, sS * sKV * sd, sd, rep}, kv_heads * d,
                 MatrixSpec{qc, sS * sH * sd, sd, 1}, heads * d, 0.0f,
                 MatrixSpec{static_cast<const char*>(probs), sH * sS * sS, sS * sS, 1}, S, count, heads, dt);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        causal_softmax_kernel<T><<<static_cast<unsigned>(count * S), kSoftmaxThreads, 0, ctx.stream()>>>(
            static_cast<T*>(probs), S, window);
        LLMPLAN_CHECK_LAUNCH();
    });
    // out_bhᵀ [d, S(i)] = V_bgᵀ [d, S(j)] · Pᵀ (P row-major = column-major [j, i]).
    batched_gemm(ctx, ptrs, false, false, d, S, S, 1.0f, MatrixSpec{vc, sS * sKV * sd, sd, rep}, kv_heads * d,
                 MatrixSpec{static_cast<const char*>(probs), sH * sS * sS, sS * sS, 1}, S, 0.0f,
                 MatrixSpec{static_cast<const char*>(out), sS * sH * sd, sd, 1}, heads * d, count, heads, dt);
}

std::size_t attention_eager_backward_scratch_bytes(int B, int S, int heads, int kv_heads, DType dt) {
    (void)kv_heads;
    const std::size_t ds = static_cast<std::size_t>(B) * heads * S * S * dtype_bytes(dt);
    return (ds + 255) / 256 * 256 + 3 * sizeof(void*) * static_cast<std::size_t>(B) * heads;
}

void attention_eager_backward(Context& ctx, const void* q, const void* k, const void* v, const void* probs, const void* dout,
                              void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d, DType dt) {
    check_attention(B, S, heads, kv_heads, d);
    const int count = B * heads, rep = heads / kv_heads;
    const long long sS = S, sd = d, sH = heads, sKV = kv_heads, sRep = rep;
    const std::size_t ds_bytes = (static_cast<std::size_t>(B) * heads * S * S * dtype_bytes(dt) + 255) / 256 * 256;
    char* scratch = static_cast<char*>(ctx.scratch(attention_eager_backward_scratch_bytes(B, S, heads, kv_heads, dt)));
    char* ds = scratch;
    void** ptrs = reinterpret_cast<void**>(scratch + ds_bytes);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    const auto* qc = static_cast<const char*>(q);
    const auto* kc = static_cast<const char*>(k);
    const auto* vc = static_cast<const char*>(v);
    const auto* pc = static_cast<const char*>(probs);
    const auto* oc = static_cast<const char*>(dout);
    // dP [S(i), S(j)] = dO_bh·V_bgᵀ, as the scores.
    batched_gemm(ctx, ptrs, true, false, S, S, d, 1.0f, MatrixSpec{vc, sS * sKV * sd, sd, rep}, kv_heads * d,
                 MatrixSpec{oc, sS * sH * sd, sd, 1}, heads * d, 0.0f, MatrixSpec{ds, sH * sS * sS, sS * sS, 1}, S, count,
                 heads, dt);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        causal_softmax_bwd_kernel<T><<<static_cast<unsigned>(count * S), kSoftmaxThreads, 0, ctx.stream()>>>(
            static_cast<const T*>(probs), reinterpret_cast<T*>(ds), S, scale);
        LLMPLAN_CHECK_LAUNCH();
    });
    // dQ_bhᵀ [d, S(i)] = K_bgᵀ [d, S(j)] · dSᵀ.
    batched_gemm(ctx, ptrs, false, false, d, S, S, 1.0f, MatrixSpec{kc, sS * sKV * sd, sd, rep}, kv_heads * d,
                 MatrixSpec{ds, sH * sS * sS, sS * sS, 1}, S, 0.0f,
                 MatrixSpec{static_cast<const char*>(dq), sS * sH * sd, sd, 1}, heads * d, count, heads, dt);
    // dK_bgᵀ [d, S(j)] = Σ_{h in group} Q_bhᵀ [d, S(i)] · dS_bh [i, j]; dV likewise with dO and P.
    // One batched call over (b, g) per head r of the group, accumulating after the first.
    const int kv_count = B * kv_heads;
    for (int r = 0; r < rep; ++r) {
        const float beta = r == 0 ? 0.0f : 1.0f;
        const long long qhead = r * sd, shead = r * sS * sS;
        batched_gemm(ctx, ptrs, false, true, d, S, S, 1.0f, MatrixSpec{qc + qhead * dtype_bytes(dt), sS * sH * sd, sRep * sd, 1},
                     heads * d, MatrixSpec{ds + shead * dtype_bytes(dt), sH * sS * sS, sRep * sS * sS, 1}, S, beta,
                     MatrixSpec{static_cast<const char*>(dk), sS * sKV * sd, sd, 1}, kv_heads * d, kv_count, kv_heads, dt);
        batched_gemm(ctx, ptrs, false, true, d, S, S, 1.0f, MatrixSpec{oc + qhead * dtype_bytes(dt), sS * sH * sd, sRep * sd, 1},
                     heads * d, MatrixSpec{pc + shead * dtype_bytes(dt), sH * sS * sS, sRep * sS * sS, 1}, S, beta,
                     MatrixSpec{static_cast<const char*>(dv), sS * sKV * sd, sd, 1}, kv_heads * d, kv_count, kv_heads, dt);
    }
}

void attention_flash_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                             int heads, int kv_heads, int d, DType dt, int window) {
    check_attention(B, S, heads, kv_heads, d, window);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    if (flash_tc_supported(dt, d, {q, k, v, out})) {
        flash_tc_forward(ctx, q, k, v, out, lse, B, S, heads, kv_heads, d, dt, scale, window);
        return;
    }
    const dim3 grid(static_cast<unsigned>((S + kBr - 1) / kBr), static_cast<unsigned>(heads), static_cast<unsigned>(B));
    const std::size_t smem = sizeof(float) * (static_cast<std::size_t>(kBr) * d + static_cast<std::size_t>(kBc) * (d + 1) +
                                              static_cast<std::size_t>(kBc) * d);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        dispatch_chunks(d, [&](auto ch) {
            constexpr int CH = decltype(ch)::value;
            allow_smem(flash_fwd_kernel<T, CH>, smem);
            flash_fwd_kernel<T, CH><<<grid, kFlashThreads, smem, ctx.stream()>>>(
                static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(out), lse, S,
                heads, kv_heads, d, scale, window);
            LLMPLAN_CHECK_LAUNCH();
        });
    });
}

void attention_flash_backward(Context& ctx, const void* q, const void* k, const void* v, const void* out, const float* lse,
                              const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d,
                              DType dt, int window) {
    check_attention(B, S, heads, kv_heads, d, window);
    const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
    const std::size_t rows = static_cast<std::size_t>(B) * S * heads;
    float* D = static_cast<float*>(ctx.scratch(sizeof(float) * rows));
    const std::size_t dq_smem =
        sizeof(float) * (2 * static_cast<std::size_t>(kBr) * d + 2 * static_cast<std::size_t>(kBc) * (d + 1));
    const std::size_t dkdv_smem = sizeof(float) * (2 * static_cast<std::size_t>(kBc) * d +
                                                   2 * static_cast<std::size_t>(kBr) * (d + 1) + 2 * kBr);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        flash_bwd_dot_kernel<T><<<static_cast<unsigned>((rows * 32 + 255) / 256), 256, 0, ctx.stream()>>>(
            static_cast<const T*>(out), static_cast<const T*>(dout), D, S, heads, d, rows);
        LLMPLAN_CHECK_LAUNCH();
        if (flash_tc_supported(dt, d, {q, k, v, out, dout, dq, dk, dv})) {
            flash_tc_backward(ctx, q, k, v, lse, D, dout, dq, dk, dv, B, S, heads, kv_heads, d, dt, scale, window);
            return;
        }
        dispatch_chunks(d, [&](auto ch) {
            constexpr int CH = decltype(ch)::value;
            const dim3 qgrid(static_cast<unsigned>((S + kBr - 1) / kBr), static_cast<unsigned>(heads),
                             static_cast<unsigned>(B));
            allow_smem(flash_bwd_dq_kernel<T, CH>, dq_smem);
            flash_bwd_dq_kernel<T, CH><<<qgrid, kFlashThreads, dq_smem, ctx.stream()>>>(
                static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<const T*>(dout),
                lse, D, static_cast<T*>(dq), S, heads, kv_heads, d, scale, window);
            LLMPLAN_CHECK_LAUNCH();
            const dim3 kgrid(static_cast<unsigned>((S + kBc - 1) / kBc), static_cast<unsigned>(kv_heads),
                             static_cast<unsigned>(B));
            allow_smem(flash_bwd_dkdv_kernel<T, CH>, dkdv_smem);
            flash_bwd_dkdv_kernel<T, CH><<<kgrid, kFlashThreads, dkdv_smem, ctx.stream()>>>(
                static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<const T*>(dout),
                lse, D, static_cast<T*>(dk), static_cast<T*>(dv), S, heads, kv_heads, d, scale, window);
            LLMPLAN_CHECK_LAUNCH();
        });
    });
}

}  // namespace llmplan::kernels::cuda
