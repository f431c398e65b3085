// attention_tc.cu — the tensor-core path of the flash-style attention (bf16/fp16 storage,
// head_dim 64 or 128, 16-byte aligned tensors); attention.cu falls back to its SIMT kernels
// otherwise (fp32, other head sizes).
//
// Tiles of 64 queries × 64 keys, 8 warps. The matrix products run on the tensor cores through
// WMMA (16×16×16 fragments, fp32 accumulation): S = Q·Kᵀ and dP = dO·Vᵀ land in shared memory
// as fp32, where the warps apply the causal mask and the softmax; P and dS are rounded to the
// storage type (as FlashAttention-2 does) and multiplied on the tensor cores again.
//   forward: the online softmax rescales the fp32 output tile kept in shared memory, O += P·V;
//   dQ:      per query tile over the key tiles, dQ += dS·K in registers (fragments);
//   dK, dV:  per key tile over the query tiles of every head of the kv group (GQA without
//            atomics), dV += Pᵀ·dO and dK += dSᵀ·Q in registers.
// Shared memory per block: forward 113 KB, backward 123 KB at head_dim 128.
#include "kernels/cuda/attention_tc.cuh"

#include <mma.h>

namespace llmplan::kernels::cuda {

namespace {

using namespace nvcuda;

constexpr int TB = 64;                // queries and keys per tile
constexpr int kTcThreads = 256;       // 8 warps
constexpr int LDS = TB + 4;           // fp32 score tiles [TB][LDS]
constexpr int LDP = TB + 8;           // 16-bit probability tiles [TB][LDP]

template <int D>
struct TcDims {
    static constexpr int LDT = D + 8;  // 16-bit [TB][D] tiles (padding spreads the banks)
    static constexpr int LDO = D + 4;  // fp32 output staging [TB][LDO]
    static constexpr std::size_t tile16 = std::size_t{TB} * LDT * 2;
    static constexpr std::size_t scores = std::size_t{TB} * LDS * 4;
    static constexpr std::size_t probs16 = std::size_t{TB} * LDP * 2;
    static constexpr std::size_t out32 = std::size_t{TB} * LDO * 4;
    static constexpr std::size_t fwd_bytes = 3 * tile16 + scores + probs16 + out32;
    static constexpr std::size_t bwd_bytes = 4 * tile16 + 2 * scores + 2 * probs16 + 2 * TB * 4;
    static_assert(tile16 % 128 == 0 && scores % 128 == 0 && probs16 % 128 == 0 && out32 % 128 == 0,
                  "regions stay 128-byte aligned (WMMA needs 32)");
    static_assert(out32 <= 2 * scores, "the backward stages its fp32 results in the two score tiles");
};

template <typename T>
using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major>;
template <typename T>
using FragAT = wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::col_major>;
template <typename T>
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major>;
template <typename T>
using FragBT = wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// rows [row0, row0 + TB) of a [S, heads, D] slice (row stride `stride` elements) into a
// [TB][LDT] tile, 16 bytes per access; rows at or past S are zero.
template <typename T, int D>
__device__ __forceinline__ void load_tile(T* dst, const T* src, std::size_t stride, int row0, int S) {
    constexpr int VPR = D / 8;
    for (int e = threadIdx.x; e < TB * VPR; e += kTcThreads) {
        const int r = e / VPR, c = (e % VPR) * 8;
        uint4 val = make_uint4(0, 0, 0, 0);
        if (row0 + r < S) val = *reinterpret_cast<const uint4*>(src + static_cast<std::size_t>(row0 + r) * stride + c);
        *reinterpret_cast<uint4*>(dst + r * TcDims<D>::LDT + c) = val;
    }
}

// C[TB][TB] (fp32, ld LDS) = A·Bᵀ with A, B both [TB][D] 16-bit tiles: 16 output fragments,
// two per warp.
template <typename T, int D>
__device__ __forceinline__ void gemm_abt(float* c, const T* a, const T* b) {
    const int warp = threadIdx.x / 32;
    for (int t = warp; t < 16; t += kTcThreads / 32) {
        const int ti = t / 4, tj = t % 4;
        FragC acc;
        wmma::fill_fragment(acc, 0.0f);
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
            FragA<T> fa;
            FragBT<T> fb;
            wmma::load_matrix_sync(fa, a + ti * 16 * TcDims<D>::LDT + kk * 16, TcDims<D>::LDT);
            wmma::load_matrix_sync(fb, b + tj * 16 * TcDims<D>::LDT + kk * 16, TcDims<D>::LDT);
            wmma::mma_sync(acc, fa, fb, acc);
        }
        wmma::store_matrix_sync(c + ti * 16 * LDS + tj * 16, acc, LDS, wmma::mem_row_major);
    }
}

template <typename T, int D>
__global__ void __launch_bounds__(kTcThreads) flash_tc_fwd_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                  const T* __restrict__ v, T* __restrict__ out,
                                                                  float* __restrict__ lse, int S, int H, int KV,
                                                                  float scale) {
    using L = TcDims<D>;
    extern __shared__ __align__(128) unsigned char smem[];
    T* sQ = reinterpret_cast<T*>(smem);
    T* sK = reinterpret_cast<T*>(smem + L::tile16);
    T* sV = reinterpret_cast<T*>(smem + 2 * L::tile16);
    float* sS = reinterpret_cast<float*>(smem + 3 * L::tile16);
    T* sP = reinterpret_cast<T*>(smem + 3 * L::tile16 + L::scores);
    float* sO = reinterpret_cast<float*>(smem + 3 * L::tile16 + L::scores + L::probs16);
    const int tile = static_cast<int>(gridDim.x - 1 - blockIdx.x);  // the longest rows first
    const int h = blockIdx.y, b = blockIdx.z, g = h / (H / KV);
    const int q0 = tile * TB;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const std::size_t qs = static_cast<std::size_t>(H) * D, ks = static_cast<std::size_t>(KV) * D;
    const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * D;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * D;
    load_tile<T, D>(sQ, q + qoff, qs, q0, S);
    for (int e = threadIdx.x; e < TB * L::LDO; e += kTcThreads) sO[e] = 0.0f;
    constexpr int RPW = TB / (kTcThreads / 32);  // 8 rows per warp for the softmax
    float m[RPW], l[RPW];
#pragma unroll
    for (int i = 0; i < RPW; ++i) {
        m[i] = -INFINITY;
        l[i] = 0.0f;
    }
    const int q_end = min(q0 + TB, S);
    for (int k0 = 0; k0 < q_end; k0 += TB) {
        __syncthreads();
        load_tile<T, D>(sK, k + kvoff, ks, k0, S);
        load_tile<T, D>(sV, v + kvoff, ks, k0, S);
        __syncthreads();
        gemm_abt<T, D>(sS, sQ, sK);
        __syncthreads();
#pragma unroll
        for (int i = 0; i < RPW; ++i) {
            const int r = warp * RPW + i, qi = q0 + r;
            const int kj0 = k0 + lane, kj1 = kj0 + 32;
            const bool v0 = kj0 <= qi && qi < S, v1 = kj1 <= qi && qi < S;
            const float s0 = v0 ? sS[r * LDS + lane] * scale : -INFINITY;
            const float s1 = v1 ? sS[r * LDS + lane + 32] * scale : -INFINITY;
            const float mn = fmaxf(m[i], warp_max(fmaxf(s0, s1)));
            const float corr = mn == -INFINITY ? 1.0f : __expf(m[i] - mn);
            const float p0 = v0 ? __expf(s0 - mn) : 0.0f, p1 = v1 ? __expf(s1 - mn) : 0.0f;
            l[i] = l[i] * corr + warp_sum(p0 + p1);
            m[i] = mn;
            sP[r * LDP + lane] = from_float<T>(p0);
            sP[r * LDP + lane + 32] = from_float<T>(p1);
            for (int c = lane; c < D; c += 32) sO[r * L::LDO + c] *= corr;
        }
        __syncthreads();
        // O[TB][D] += P[TB][TB]·V[TB][D]: 4·D/16 fragments, D/32 per warp.
        for (int t = warp; t < 4 * (D / 16); t += kTcThreads / 32) {
            const int ti = t / (D / 16), tc = t % (D / 16);
            FragC acc;
            wmma::load_matrix_sync(acc, sO + ti * 16 * L::LDO + tc * 16, L::LDO, wmma::mem_row_major);
#pragma unroll
            for (int kk = 0; kk < TB / 16; ++kk) {
                FragA<T> fa;
                FragB<T> fb;
                wmma::load_matrix_sync(fa, sP + ti * 16 * LDP + kk * 16, LDP);
                wmma::load_matrix_sync(fb, sV + kk * 16 * L::LDT + tc * 16, L::LDT);
                wmma::mma_sync(acc, fa, fb, acc);
            }
            wmma::store_matrix_sync(sO + ti * 16 * L::LDO + tc * 16, acc, L::LDO, wmma::mem_row_major);
        }
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < RPW; ++i) {
        const int r = warp * RPW + i, qi = q0 + r;
        if (qi >= S) continue;
        const float inv = 1.0f / l[i];
        T* o = out + qoff + static_cast<std::size_t>(qi) * qs;
        for (int c = lane; c < D; c += 32) o[c] = from_float<T>(sO[r * L::LDO + c] * inv);
        if (lane == 0) lse[(static_cast<std::size_t>(b) * H + h) * S + qi] = m[i] + logf(l[i]);
    }
}

// Stores the warp's D/32 accumulator fragments of a [TB][D] result (times `mult`) through the
// fp32 staging area to dst rows [row0, row0 + TB) with stride `stride`, rows ≥ S skipped.
template <typename T, int D>
__device__ __forceinline__ void write_fragments(FragC (&acc)[D / 32], float* stage, T* dst, std::size_t stride, int row0,
                                                int S, float mult) {
    using L = TcDims<D>;
    const int warp = threadIdx.x / 32;
    __syncthreads();
#pragma unroll
    for (int i = 0; i < D / 32; ++i) {
        const int t = warp + 8 * i, ti = t / (D / 16), tc = t % (D / 16);
        wmma::store_matrix_sync(stage + ti * 16 * L::LDO + tc * 16, acc[i], L::LDO, wmma::mem_row_major);
    }
    __syncthreads();
    for (int e = threadIdx.x; e < TB * D; e += kTcThreads) {
        const int r = e / D, c = e % D;
        if (row0 + r < S) dst[static_cast<std::size_t>(row0 + r) * stride + c] = from_float<T>(stage[r * L::LDO + c] * mult);
    }
}

template <typename T, int D>
__global__ void __launch_bounds__(kTcThreads) flash_tc_dq_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                 const T* __restrict__ v, const T* __restrict__ dout,
                                                                 const float* __restrict__ lse, const float* __restrict__ Dv,
                                                                 T* __restrict__ dq, int S, int H, int KV, float scale) {
    using L = TcDims<D>;
    extern __shared__ __align__(128) unsigned char smem[];
    T* sQ = reinterpret_cast<T*>(smem);
    T* sO = reinterpret_cast<T*>(smem + L::tile16);  // dO
    T* sK = reinterpret_cast<T*>(smem + 2 * L::tile16);
    T* sV = reinterpret_cast<T*>(smem + 3 * L::tile16);
    float* sS = reinterpret_cast<float*>(smem + 4 * L::tile16);
    float* sdP = sS + TB * LDS;
    T* sdS = reinterpret_cast<T*>(smem + 4 * L::tile16 + 2 * L::scores);
    float* sL = reinterpret_cast<float*>(smem + 4 * L::tile16 + 2 * L::scores + 2 * L::probs16);
    float* sD = sL + TB;
    const int tile = static_cast<int>(gridDim.x - 1 - blockIdx.x);
    const int h = blockIdx.y, b = blockIdx.z, g = h / (H / KV);
    const int q0 = tile * TB;
    const int warp = threadIdx.x / 32;
    const std::size_t qs = static_cast<std::size_t>(H) * D, ks = static_cast<std::size_t>(KV) * D;
    const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * D;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * D;
    const std::size_t stat = (static_cast<std::size_t>(b) * H + h) * S;
    load_tile<T, D>(sQ, q + qoff, qs, q0, S);
    load_tile<T, D>(sO, dout + qoff, qs, q0, S);
    if (threadIdx.x < TB) {
        const int qi = q0 + threadIdx.x;
        sL[threadIdx.x] = qi < S ? lse[stat + qi] : 0.0f;
        sD[threadIdx.x] = qi < S ? Dv[stat + qi] : 0.0f;
    }
    FragC acc[D / 32];
#pragma unroll
    for (int i = 0; i < D / 32; ++i) wmma::fill_fragment(acc[i], 0.0f);
    const int q_end = min(q0 + TB, S);
    for (int k0 = 0; k0 < q_end; k0 += TB) {
        __syncthreads();
        load_tile<T, D>(sK, k + kvoff, ks, k0, S);
        load_tile<T, D>(sV, v + kvoff, ks, k0, S);
        __syncthreads();
        gemm_abt<T, D>(sS, sQ, sK);
        gemm_abt<T, D>(sdP, sO, sV);
        __syncthreads();
        for (int e = threadIdx.x; e < TB * TB; e += kTcThreads) {
            const int r = e / TB, j = e % TB, qi = q0 + r, kj = k0 + j;
            const bool valid = kj <= qi && qi < S;
            const float p = valid ? __expf(sS[r * LDS + j] * scale - sL[r]) : 0.0f;
            sdS[r * LDP + j] = from_float<T>(p * (sdP[r * LDS + j] - sD[r]));
        }
        __syncthreads();
        // dQ[TB][D] += dS[TB][TB]·K[TB][D].
#pragma unroll
        for (int i = 0; i < D / 32; ++i) {
            const int t = warp + 8 * i, ti = t / (D / 16), tc = t % (D / 16);
#pragma unroll
            for (int kk = 0; kk < TB / 16; ++kk) {
                FragA<T> fa;
                FragB<T> fb;
                wmma::load_matrix_sync(fa, sdS + ti * 16 * LDP + kk * 16, LDP);
                wmma::load_matrix_sync(fb, sK + kk * 16 * L::LDT + tc * 16, L::LDT);
                wmma::mma_sync(acc[i], fa, fb, acc[i]);
            }
        }
    }
    write_fragments<T, D>(acc, sS, dq + qoff, qs, q0, S, scale);
}

template <typename T, int D>
__global__ void __launch_bounds__(kTcThreads) flash_tc_dkdv_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                   const T* __restrict__ v, const T* __restrict__ dout,
                                                                   const float* __restrict__ lse,
                                                                   const float* __restrict__ Dv, T* __restrict__ dk,
                                                                   T* __restrict__ dv, int S, int H, int KV, float scale) {
    using L = TcDims<D>;
    extern __shared__ __align__(128) unsigned char smem[];
    T* sK = reinterpret_cast<T*>(smem);
    T* sV = reinterpret_cast<T*>(smem + L::tile16);
    T* sQ = reinterpret_cast<T*>(smem + 2 * L::tile16);
    T* sO = reinterpret_cast<T*>(smem + 3 * L::tile16);  // dO
    float* sS = reinterpret_cast<float*>(smem + 4 * L::tile16);
    float* sdP = sS + TB * LDS;
    T* sP = reinterpret_cast<T*>(smem + 4 * L::tile16 + 2 * L::scores);
    T* sdS = reinterpret_cast<T*>(smem + 4 * L::tile16 + 2 * L::scores + L::probs16);
    float* sL = reinterpret_cast<float*>(smem + 4 * L::tile16 + 2 * L::scores + 2 * L::probs16);
    float* sD = sL + TB;
    const int k0 = blockIdx.x * TB;  // tile 0 (the most queries) first
    const int g = blockIdx.y, b = blockIdx.z, rep = H / KV;
    const int warp = threadIdx.x / 32;
    const std::size_t qs = static_cast<std::size_t>(H) * D, ks = static_cast<std::size_t>(KV) * D;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * D;
    load_tile<T, D>(sK, k + kvoff, ks, k0, S);
    load_tile<T, D>(sV, v + kvoff, ks, k0, S);
    FragC gk[D / 32], gv[D / 32];
#pragma unroll
    for (int i = 0; i < D / 32; ++i) {
        wmma::fill_fragment(gk[i], 0.0f);
        wmma::fill_fragment(gv[i], 0.0f);
    }
    for (int hr = 0; hr < rep; ++hr) {
        const int h = g * rep + hr;
        const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * D;
        const std::size_t stat = (static_cast<std::size_t>(b) * H + h) * S;
        for (int q0 = k0; q0 < S; q0 += TB) {  // queries before k0 see none of these keys
            __syncthreads();
            load_tile<T, D>(sQ, q + qoff, qs, q0, S);
            load_tile<T, D>(sO, dout + qoff, qs, q0, S);
            if (threadIdx.x < TB) {
                const int qi = q0 + threadIdx.x;
                sL[threadIdx.x] = qi < S ? lse[stat + qi] : 0.0f;
                sD[threadIdx.x] = qi < S ? Dv[stat + qi] : 0.0f;
            }
            __syncthreads();
            gemm_abt<T, D>(sS, sQ, sK);   // S[q][k]
            gemm_abt<T, D>(sdP, sO, sV);  // dP[q][k]
            __syncthreads();
            for (int e = threadIdx.x; e < TB * TB; e += kTcThreads) {
                const int r = e / TB, j = e % TB, qi = q0 + r, kj = k0 + j;
                const bool valid = kj <= qi && qi < S;
                const float p = valid ? __expf(sS[r * LDS + j] * scale - sL[r]) : 0.0f;
                sP[r * LDP + j] = from_float<T>(p);
                sdS[r * LDP + j] = from_float<T>(p * (sdP[r * LDS + j] - sD[r]));
            }
            __syncthreads();
            // dV[TB(k)][D] += Pᵀ·dO, dK += dSᵀ·Q: Pᵀ is P read column-major.
#pragma unroll
            for (int i = 0; i < D / 32; ++i) {
                const int t = warp + 8 * i, tk = t / (D / 16), tc = t % (D / 16);
#pragma unroll
                for (int kk = 0; kk < TB / 16; ++kk) {
                    FragAT<T> fa;
                    FragB<T> fb;
                    wmma::load_matrix_sync(fa, sP + kk * 16 * LDP + tk * 16, LDP);
                    wmma::load_matrix_sync(fb, sO + kk * 16 * L::LDT + tc * 16, L::LDT);
                    wmma::mma_sync(gv[i], fa, fb, gv[i]);
                    wmma::load_matrix_sync(fa, sdS + kk * 16 * LDP + tk * 16, LDP);
                    wmma::load_matrix_sync(fb, sQ + kk * 16 * L::LDT + tc * 16, L::LDT);
                    wmma::mma_sync(gk[i], fa, fb, gk[i]);
                }
            }
        }
    }
    write_fragments<T, D>(gk, sS, dk + kvoff, ks, k0, S, scale);
    write_fragments<T, D>(gv, sS, dv + kvoff, ks, k0, S, 1.0f);
}

template <typename T, int D, typename F>
void with_tc(F&& f) {
    f(T{}, std::integral_constant<int, D>{});
}

// Calls f(T{}, integral_constant<D>) for a supported (dt, d).
template <typename F>
void dispatch_tc(DType dt, int d, F&& f) {
    if (dt == DType::bf16) {
        if (d == 64) return with_tc<bf16, 64>(f);
        return with_tc<bf16, 128>(f);
    }
    if (d == 64) return with_tc<fp16, 64>(f);
    return with_tc<fp16, 128>(f);
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace

bool flash_tc_supported(DType dt, int d, std::initializer_list<const void*> tensors) {
    if (dt == DType::fp32 || (d != 64 && d != 128)) return false;
    for (const void* p : tensors)
        if (!aligned16(p)) return false;
    return true;
}

void flash_tc_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                      int heads, int kv_heads, int d, DType dt, float scale) {
    const dim3 grid(static_cast<unsigned>((S + TB - 1) / TB), static_cast<unsigned>(heads), static_cast<unsigned>(B));
    dispatch_tc(dt, d, [&](auto tag, auto dim) {
        using T = decltype(tag);
        constexpr int D = decltype(dim)::value;
        constexpr std::size_t smem = TcDims<D>::fwd_bytes;
        LLMPLAN_CUDA_CHECK(cudaFuncSetAttribute(flash_tc_fwd_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                static_cast<int>(smem)));
        flash_tc_fwd_kernel<T, D><<<grid, kTcThreads, smem, ctx.stream()>>>(static_cast<const T*>(q), static_cast<const T*>(k),
                                                                          static_cast<const T*>(v), static_cast<T*>(out), lse,
                                                                          S, heads, kv_heads, scale);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void flash_tc_backward(Context& ctx, const void* q, const void* k, const void* v, const float* lse, const float* D,
                       const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d, DType dt,
                       float scale) {
    dispatch_tc(dt, d, [&](auto tag, auto dim) {
        using T = decltype(tag);
        constexpr int HD = decltype(dim)::value;
        constexpr std::size_t smem = TcDims<HD>::bwd_bytes;
        const dim3 qgrid(static_cast<unsigned>((S + TB - 1) / TB), static_cast<unsigned>(heads), static_cast<unsigned>(B));
        LLMPLAN_CUDA_CHECK(cudaFuncSetAttribute(flash_tc_dq_kernel<T, HD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                static_cast<int>(smem)));
        flash_tc_dq_kernel<T, HD><<<qgrid, kTcThreads, smem, ctx.stream()>>>(
            static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<const T*>(dout), lse, D,
            static_cast<T*>(dq), S, heads, kv_heads, scale);
        LLMPLAN_CHECK_LAUNCH();
        const dim3 kgrid(static_cast<unsigned>((S + TB - 1) / TB), static_cast<unsigned>(kv_heads), static_cast<unsigned>(B));
        LLMPLAN_CUDA_CHECK(cudaFuncSetAttribute(flash_tc_dkdv_kernel<T, HD>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                static_cast<int>(smem)));
        flash_tc_dkdv_kernel<T, HD><<<kgrid, kTcThreads, smem, ctx.stream()>>>(
            static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<const T*>(dout), lse, D,
            static_cast<T*>(dk), static_cast<T*>(dv), S, heads, kv_heads, scale);
        LLMPLAN_CHECK_LAUNCH();
    });
}

}  // namespace llmplan::kernels::cuda
