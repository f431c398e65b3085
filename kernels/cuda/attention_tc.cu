// attention_tc.cu — the tensor-core path of the flash-style attention (bf16/fp16 storage,
// head_dim a multiple of 4 up to 128, aligned tensors); attention.cu falls back to its SIMT
// kernels otherwise (fp32, head sizes above 128 or not a multiple of 4).
//
// Head sizes: the kernels are instantiated for tiles of D = 64 and 128 columns; a head of hd
// columns runs on the smallest that holds it (hd ≤ 64: 64, else 128), its tiles' columns hd … D − 1
// zero-filled in shared memory by the loads and never stored: zero columns add nothing to Q·Kᵀ
// and their outputs (O, dQ, dK, dV columns ≥ hd) are dropped. So 80, 96, 100, 104 and 112 run at
// the cost of 128 (the Llama-style 3.4B's head of 100 pays 28% more attention FLOPs than exact
// tiles would; attention is a few percent of that model's step). Rows are copied 16 bytes at a
// time when hd is a multiple of 8 (every row 16-byte aligned) and 8 bytes at a time otherwise
// (hd = 100: rows of 200 bytes are only 8-byte aligned); hd must be a multiple of 4.
//
// The algorithm is FlashAttention-2 (Tri Dao, "FlashAttention-2: Faster Attention with Better
// Parallelism and Work Partitioning", 2023, arXiv:2307.08691): the S×S scores never leave the
// chip; the forward keeps a running row maximum m and row sum l (online softmax) and rescales the
// output accumulator when m moves; the backward recomputes P = exp(S·scale − lse) from the saved
// log-sum-exp. Every matrix product is a warp-level `mma.sync.m16n8k16` (bf16 or fp16 operands,
// fp32 accumulation; sm_90 without the `a` features, so no wgmma) whose operands come from shared
// memory through `ldmatrix` (`.trans` where the product needs the transposed layout) or straight
// from registers:
//   * S and dP stay in the accumulator registers; the softmax works on them there (a row's
//     columns of an n8 tile live in one quad of 4 threads, so row reductions are two shuffles),
//     and the 16-bit P (or dS) is re-used directly as the A operand of the next product — the
//     m16n8k16 accumulator layout of two adjacent n8 tiles is exactly the A-fragment layout of
//     one k16 step — so P never goes through shared memory.
//   * Tiles move global → shared with 16-byte `cp.async`, double-buffered (the next tile loads
//     while the current one is multiplied); rows at or past S are zero-filled. Shared rows are
//     padded by 16 bytes (D + 8 elements), which makes every `ldmatrix` (8 rows of 16 bytes) and
//     the epilogues' 4-byte stores conflict-free.
//   * Softmax in base 2: the maximum is taken on the raw scores and each probability is one FFMA
//     and one ex2.approx, p = 2^(s·scale·log2e − m); lse is stored in natural-log units,
//     lse = ln Σ_j exp(scale·q·k_j), as attention.cu and the SIMT kernels define it.
//   * Causal: only tiles up to the diagonal are visited; the mask is a separate instantiation
//     used only on tiles that cross the diagonal (otherwise the compiler predicates a compare and
//     select onto every element of every tile), and a warp skips a tile none of its rows can see.
//
// Forward — one CTA per 128 query rows × head × batch, the last (longest) query blocks first;
// 4 warps × 32 rows (two m16 tiles per warp, so every K/V fragment read by ldmatrix feeds two
// mma: the per-warp shared-memory traffic per flop is half that of 16-row warps), key tiles of
// 64. Per tile: S = Q·Kᵀ (64 mma per warp), online softmax, O += P·V (64 mma), and the row sums
// l on the tensor cores too (P times a column of ones: 8 mma instead of 64 FADD per thread).
// d = 64 keeps the Q fragments in registers; d = 128 re-reads them from shared memory (O alone
// takes 128 registers per thread there) and uses FlashAttention-4's lazy rescale (the reference
// maximum moves only when a row's maximum grows by more than 2^8, which keeps O and l exact and
// skips the O rescale almost always). O is scaled by 1/l, staged through the warp's own Q rows
// in shared memory and written with 16-byte stores. Shared memory (Q + 2 × (K, V)):
// (128 + 4·64)·(D + 8)·2 bytes = 54 KB at d = 64, 102 KB at d = 128; about 250 registers per
// thread, so 2 CTAs (8 warps) per SM.
//
// Backward — deterministic (no float atomics), FA2's Algorithm 2 split so that every output has
// one writer, both parts in ONE launch: blocks [0, n_kv) are dK/dV blocks (key block 0, which
// sees the most queries, first), the rest dQ blocks (the last query block first), so the dQ
// blocks fill the SMs while the long dK/dV blocks finish (with GQA each dK/dV block loops over
// every query head of its group; 0.59 → 0.48 ms at B=1 S=2048 H=32 KV=8 d=128). 4 warps each.
//   dK/dV: 64 keys (16 per warp) × kv head × batch, looping over the query tiles at or after the
//     diagonal, for every query head of the GQA group. It works on the transposed products, so
//     that everything stays in registers: Sᵀ = K·Qᵀ, dPᵀ = V·dOᵀ, Pᵀ = exp(Sᵀ·scale − lse),
//     dSᵀ = Pᵀ∘(dPᵀ − D), dV += Pᵀ·dO, dK += dSᵀ·Q (× scale at the end). Query tiles of 32 rows
//     with the K and V fragments in registers at d = 64; tiles of 64 with K and V re-read from
//     shared memory at d = 128 (dK and dV alone take 128 registers per thread there). Q, dO, lse
//     and D tiles are double-buffered.
//   dQ: 64 query rows (16 per warp) × head × batch, Q and dO fragments in registers, looping over
//     key tiles of 32 up to the diagonal: S = Q·Kᵀ, dP = dO·Vᵀ, dS = P∘(dP − D), dQ += dS·K
//     (× scale at the end).
//   Shared memory per CTA (the larger of the two parts): 36.5 KB at d = 64 (168 registers, 3 CTAs
//   per SM), 103 KB at d = 128 (2 CTAs per SM). Both parts recompute S and dP (7 tile products
//   instead of FA2's 5 with dQ atomics): the price of a deterministic dQ without a workspace.
// P and dS are rounded to the storage type before their products, as FlashAttention-2 does.
//
// The kernels are templates over the tile configuration (warps, rows per warp, key tile, Q or
// K/V in registers, minimum CTAs per SM, lazy rescale, tensor-core row sums); forward_impl and
// backward_impl hold the shipped choices, measured against the alternatives on an H100.
#include "kernels/cuda/attention_tc.cuh"

#include <cstring>
#include <type_traits>

namespace llmplan::kernels::cuda {

namespace {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// --- PTX wrappers ------------------------------------------------------------------------------

__device__ __forceinline__ std::uint32_t smem_addr(const void* p) {
    return static_cast<std::uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes global → shared, asynchronously; with valid == false the destination is zero-filled
// (nothing is read; `src` must still be a mapped address).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
    const int n = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(n));
}
__device__ __forceinline__ void cp_async8(void* dst, const void* src, bool valid) {
    const int n = valid ? 8 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(n));
}
__device__ __forceinline__ void cp_async4(void* dst, const void* src, bool valid) {
    const int n = valid ? 4 : 0;
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(smem_addr(dst)), "l"(src), "r"(n));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Four 8×8 16-bit matrices; lanes 8i..8i+7 give the row addresses of matrix i, register i of
// lane l holds row l/4, columns 2(l%4), 2(l%4)+1 of matrix i (.trans: of its transpose).
__device__ __forceinline__ void ldsm_x4(std::uint32_t (&r)[4], std::uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}
__device__ __forceinline__ void ldsm_x4_t(std::uint32_t (&r)[4], std::uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

// c[16×8] += a[16×16]·b[16×8]; fragments as in the PTX ISA (m16n8k16, .row.col).
template <typename T>
__device__ __forceinline__ void mma16816(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1);
template <>
__device__ __forceinline__ void mma16816<bf16>(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                               std::uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <>
__device__ __forceinline__ void mma16816<fp16>(float (&c)[4], const std::uint32_t (&a)[4], std::uint32_t b0,
                                               std::uint32_t b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two floats → one register of two 16-bit values (lo in the low half: the lower column).
template <typename T>
__device__ __forceinline__ std::uint32_t pack2(float lo, float hi);
template <>
__device__ __forceinline__ std::uint32_t pack2<bf16>(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    std::uint32_t r;
    memcpy(&r, &v, 4);
    return r;
}
template <>
__device__ __forceinline__ std::uint32_t pack2<fp16>(float lo, float hi) {
    const __half2 v = __floats2half2_rn(lo, hi);
    std::uint32_t r;
    memcpy(&r, &v, 4);
    return r;
}

__device__ __forceinline__ float ex2(float x) {  // 2^x; ex2(-inf) = 0
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// --- tile movement -----------------------------------------------------------------------------

// Rows [row0, row0 + R) of a [S, ·, hd] slice (row stride `stride` elements) into shared [R][LD],
// 16 bytes per cp.async; rows at or past S and columns at or past the head size hd ≤ D are
// zero-filled (the tile's padding: zero columns add nothing to Q·Kᵀ, P·V or the gradients' products).
// hd a multiple of 8: one 16-byte copy per 8 columns; else (a multiple of 4: rows 8-byte aligned)
// two 8-byte copies. Thread t copies column (t % CPR)·8 of rows t / CPR + i·(THREADS / CPR): one
// 64-bit address and two compares per copy.
template <typename T, int D, int R, int THREADS>
__device__ __forceinline__ void load_rows_async(T* dst, const T* src, std::size_t stride, int row0, int S, int hd) {
    constexpr int LD = D + 8, CPR = D / 8, RSTEP = THREADS / CPR;
    static_assert(THREADS % CPR == 0, "whole rows per pass");
    const int tid = static_cast<int>(threadIdx.x);
    const int r0 = tid / CPR, c = (tid % CPR) * 8;
    const T* p = src + static_cast<std::ptrdiff_t>(row0 + r0) * static_cast<std::ptrdiff_t>(stride) + c;
    const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(RSTEP) * static_cast<std::ptrdiff_t>(stride);
    T* d = dst + r0 * LD + c;
#pragma unroll
    for (int i = 0; i < (R + RSTEP - 1) / RSTEP; ++i) {
        if (R % RSTEP == 0 || r0 + i * RSTEP < R) {
            const bool valid = row0 + r0 + i * RSTEP < S;
            if (hd % 8 == 0) {
                const bool ok = valid && c < hd;
                cp_async16(d + i * RSTEP * LD, ok ? p + i * step : src, ok);  // src: a mapped address
            } else {
                const bool lo = valid && c < hd, hi = valid && c + 4 < hd;
                cp_async8(d + i * RSTEP * LD, lo ? p + i * step : src, lo);
                cp_async8(d + i * RSTEP * LD + 4, hi ? p + i * step + 4 : src, hi);
            }
        }
    }
}

// The K/V double buffer of the forward and dQ passes ([2][BN][LD] each): before tile t is used,
// start copying tile t + 1 into the other half (when there is one), then wait until tile t has
// landed (the older cp.async group).
template <typename T, int D, int BN, int THREADS>
__device__ __forceinline__ void next_kv_tile(T* sK, T* sV, const T* kp, const T* vp, std::size_t ks, int t, int n_tiles,
                                             int S, int hd) {
    constexpr int LD = D + 8;
    if (t + 1 < n_tiles) {
        const int st = (t + 1) & 1;
        load_rows_async<T, D, BN, THREADS>(sK + st * BN * LD, kp, ks, (t + 1) * BN, S, hd);
        load_rows_async<T, D, BN, THREADS>(sV + st * BN * LD, vp, ks, (t + 1) * BN, S, hd);
        cp_async_commit();
        cp_async_wait<1>();
    } else {
        cp_async_wait<0>();
    }
}

// The warp's R rows of a 16-bit result staged in shared [·][LD] (rows r0.., already written) →
// global rows grow0.. (stride elements), 16-byte stores (8-byte when hd is not a multiple of 8),
// rows at or past S and the padding columns (at or past hd) skipped.
template <typename T, int D, int R>
__device__ __forceinline__ void store_rows_warp(T* dst, std::size_t stride, const T* stage, int grow0, int S, int hd) {
    constexpr int LD = D + 8, CPR = D / 8;
    const int lane = static_cast<int>(threadIdx.x % 32);
#pragma unroll
    for (int i = 0; i < R * CPR / 32; ++i) {
        const int e = i * 32 + lane, r = e / CPR, c = (e % CPR) * 8;
        if (grow0 + r < S && c < hd) {
            T* to = dst + static_cast<std::size_t>(grow0 + r) * stride + c;
            if (hd % 8 == 0) {
                *reinterpret_cast<uint4*>(to) = *reinterpret_cast<const uint4*>(stage + r * LD + c);
            } else {
                *reinterpret_cast<uint2*>(to) = *reinterpret_cast<const uint2*>(stage + r * LD + c);
                if (c + 4 < hd) *reinterpret_cast<uint2*>(to + 4) = *reinterpret_cast<const uint2*>(stage + r * LD + c + 4);
            }
        }
    }
}

// Writes a warp's fp32 accumulators acc[D/8][4] of 16 rows (times mult) as 16-bit values into
// shared rows stage[0..16)[LD].
template <typename T, int D>
__device__ __forceinline__ void stage_acc(T* stage, const float (&acc)[D / 8][4], float mult) {
    constexpr int LD = D + 8;
    const int lane = static_cast<int>(threadIdx.x % 32), g = lane / 4, t2 = (lane % 4) * 2;
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
        *reinterpret_cast<std::uint32_t*>(stage + g * LD + j * 8 + t2) = pack2<T>(acc[j][0] * mult, acc[j][1] * mult);
        *reinterpret_cast<std::uint32_t*>(stage + (g + 8) * LD + j * 8 + t2) = pack2<T>(acc[j][2] * mult, acc[j][3] * mult);
    }
}

// A fragments (16 rows × 16 columns at column 16kk) of the 16 rows starting at `rows` of a shared
// [·][LD] tile.
template <int LD>
__device__ __forceinline__ void load_a(std::uint32_t (&a)[4], const void* rows, int kk) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const auto* base = static_cast<const unsigned char*>(rows);
    ldsm_x4(a, smem_addr(base + ((lane % 16) * LD + kk * 16 + (lane / 16) * 8) * 2));
}
// B fragments of two n8 tiles (rows n0..n0+15 of a [n][k] row-major tile, k columns 16kk..+15):
// b[0], b[1] for rows n0..n0+7; b[2], b[3] for rows n0+8..n0+15.
template <int LD>
__device__ __forceinline__ void load_b_nk(std::uint32_t (&b)[4], const void* tile, int n0, int kk) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const auto* base = static_cast<const unsigned char*>(tile);
    ldsm_x4(b, smem_addr(base + ((n0 + (lane % 8) + 8 * (lane / 16)) * LD + kk * 16 + 8 * ((lane / 8) % 2)) * 2));
}
// B fragments of two n8 tiles from a [k][n] row-major tile (k rows 16kk..+15, n columns n0..n0+15):
// b[0], b[1] for columns n0..n0+7; b[2], b[3] for columns n0+8..n0+15.
template <int LD>
__device__ __forceinline__ void load_b_kn(std::uint32_t (&b)[4], const void* tile, int kk, int n0) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const auto* base = static_cast<const unsigned char*>(tile);
    ldsm_x4_t(b, smem_addr(base + ((kk * 16 + (lane % 8) + 8 * ((lane / 8) % 2)) * LD + n0 + 8 * (lane / 16)) * 2));
}

// acc[16 × 8NB] (+)= A[16 × D] · Bᵀ where A's fragments are `a` (registers) and B is the [n][D]
// row-major shared tile `tile` (rows n0.., NB/2 pairs of n8 tiles).
template <typename T, int D, int NB>
__device__ __forceinline__ void mma_abt_regs(float (&acc)[NB][4], const std::uint32_t (&a)[D / 16][4], const T* tile) {
    constexpr int LD = D + 8;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
#pragma unroll
        for (int np = 0; np < NB / 2; ++np) {
            std::uint32_t b[4];
            load_b_nk<LD>(b, tile, np * 16, kk);
            mma16816<T>(acc[2 * np], a[kk], b[0], b[1]);
            mma16816<T>(acc[2 * np + 1], a[kk], b[2], b[3]);
        }
    }
}

// P[16 × 16·KS] (accumulator layout, fp32) → A fragments of KS k16 steps.
template <typename T, int KS>
__device__ __forceinline__ void acc_to_a(std::uint32_t (&a)[KS][4], const float (&p)[2 * KS][4]) {
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
        a[kk][0] = pack2<T>(p[2 * kk][0], p[2 * kk][1]);
        a[kk][1] = pack2<T>(p[2 * kk][2], p[2 * kk][3]);
        a[kk][2] = pack2<T>(p[2 * kk + 1][0], p[2 * kk + 1][1]);
        a[kk][3] = pack2<T>(p[2 * kk + 1][2], p[2 * kk + 1][3]);
    }
}

// acc[16 × D] += A[16 × 16·KS] · B where B is the [k][D] row-major shared tile `tile`.
template <typename T, int D, int KS>
__device__ __forceinline__ void mma_ab_kn(float (&acc)[D / 8][4], const std::uint32_t (&a)[KS][4], const T* tile) {
    constexpr int LD = D + 8;
#pragma unroll
    for (int kk = 0; kk < KS; ++kk) {
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
            std::uint32_t b[4];
            load_b_kn<LD>(b, tile, kk, dp * 16);
            mma16816<T>(acc[2 * dp], a[kk], b[0], b[1]);
            mma16816<T>(acc[2 * dp + 1], a[kk], b[2], b[3]);
        }
    }
}

// --- forward -----------------------------------------------------------------------------------

template <int D, int NW, int MT, int BN>
struct FwdCfg {
    static constexpr int BM = NW * 16 * MT;  // query rows per CTA
    static constexpr int LD = D + 8;
    static constexpr int kThreads = NW * 32;
    static constexpr std::size_t smem = std::size_t{2} * (BM + 4 * BN) * LD;  // Q, 2 × (K, V)
};

// s = Q·Kᵀ for the warp's MT m16 tiles against the BN keys of the shared tile cK; Q fragments from
// registers (QREG) or from the warp's rows of shared Q (sQw).
template <typename T, int D, int MT, int BN, bool QREG>
__device__ __forceinline__ void fwd_qk(float (&s)[MT][BN / 8][4], const std::uint32_t (&qf)[MT][QREG ? D / 16 : 1][4],
                                       const T* sQw, const T* cK) {
    constexpr int LD = D + 8;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt)
#pragma unroll
        for (int j = 0; j < BN / 8; ++j) s[mt][j][0] = s[mt][j][1] = s[mt][j][2] = s[mt][j][3] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
        std::uint32_t qa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
            if constexpr (QREG) {
#pragma unroll
                for (int i = 0; i < 4; ++i) qa[mt][i] = qf[mt][kk][i];
            } else {
                load_a<LD>(qa[mt], sQw + mt * 16 * LD, kk);
            }
        }
#pragma unroll
        for (int np = 0; np < BN / 16; ++np) {
            std::uint32_t bb[4];
            load_b_nk<LD>(bb, cK, np * 16, kk);
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                mma16816<T>(s[mt][2 * np], qa[mt], bb[0], bb[1]);
                mma16816<T>(s[mt][2 * np + 1], qa[mt], bb[2], bb[3]);
            }
        }
    }
}

// Online softmax of the raw scores s of keys n0.. (masked where a key follows the row), the
// rescale of O, and O += P·V with V the shared tile cV. m is the reference maximum in scaled
// base-2 units (scale·log2(e)·s), so that each probability is one FFMA and one ex2.
// LAZY (as in FlashAttention-4): m moves only when a row's maximum exceeds it by more than
// kLazyTau, so P ≤ 2^kLazyTau and O and l, which share the same reference, stay exact; the
// rescale of O (and its exponentials) is skipped for the whole warp when no row moved, which
// after the first tiles is nearly always.
constexpr float kLazyTau = 8.0f;
// MASK: the tile crosses the diagonal (a separate instantiation, so that the other tiles carry
// no compare/select per element). MMASUM: the row sums l come from the tensor cores, P times a
// column of ones (4 more mma per 16 rows and 64 keys instead of 32 FADD per thread); l is then
// an accumulator fragment (l[mt][0] = l[mt][1]: row g, l[mt][2] = l[mt][3]: row g + 8) holding the
// complete sums, else l[mt][0] and l[mt][2] hold this thread's partial sums of those rows.
template <typename T, int D, int MT, int BN, bool LAZY, bool MASK, bool MMASUM>
__device__ __forceinline__ void fwd_softmax_pv(float (&s)[MT][BN / 8][4], float (&o)[MT][D / 8][4], float (&m)[MT][2],
                                               float (&l)[MT][4], const T* cV, int n0, int w_first, float scale_log2,
                                               int window) {
    constexpr int LD = D + 8;
    constexpr std::uint32_t kOnes = std::is_same_v<T, bf16> ? 0x3F803F80u : 0x3C003C00u;  // (1, 1)
    const int lane = static_cast<int>(threadIdx.x % 32), row_lo = lane / 4, col2 = (lane % 4) * 2;
    std::uint32_t pa[MT][BN / 16][4];
    float mnew[MT][2];
    bool move = false;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
            if constexpr (MASK) {
                const int row = w_first + mt * 16 + row_lo + hi * 8;
#pragma unroll
                for (int j = 0; j < BN / 8; ++j)
#pragma unroll
                    for (int c = 0; c < 2; ++c)
                        if (n0 + j * 8 + col2 + c > row || (window > 0 && n0 + j * 8 + col2 + c <= row - window))
                            s[mt][j][2 * hi + c] = -INFINITY;
            }
            float mx = fmaxf(s[mt][0][2 * hi], s[mt][0][2 * hi + 1]);
#pragma unroll
            for (int j = 1; j < BN / 8; ++j) mx = fmaxf(mx, fmaxf(s[mt][j][2 * hi], s[mt][j][2 * hi + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            // Causal: the reference is finite after the first tile (every warp sees key 0 in
            // tile 0 first; scale > 0 keeps the order of the raw scores). A sliding window can
            // mask a row's whole tile: its maximum stays −∞ until the row's first key (guarded
            // below: no rescale by ex2(−∞ + ∞), no exponent offset of +∞).
            mnew[mt][hi] = mx * scale_log2;
            if constexpr (LAZY) {
                move = move || mnew[mt][hi] > m[mt][hi] + kLazyTau;
            } else {
                move = true;
            }
        }
    }
    if (!LAZY || __any_sync(0xffffffffu, move)) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
            for (int hi = 0; hi < 2; ++hi) {
                const float m_new = LAZY ? (mnew[mt][hi] > m[mt][hi] + kLazyTau ? mnew[mt][hi] : m[mt][hi])
                                         : fmaxf(m[mt][hi], mnew[mt][hi]);
                const float corr = m_new == -INFINITY ? 1.0f : ex2(m[mt][hi] - m_new);  // m = -inf before the first key: 0
                m[mt][hi] = m_new;
                l[mt][2 * hi] *= corr;
                l[mt][2 * hi + 1] *= corr;
#pragma unroll
                for (int j = 0; j < D / 8; ++j) {
                    o[mt][j][2 * hi] *= corr;
                    o[mt][j][2 * hi + 1] *= corr;
                }
            }
        }
    }
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
            const float mneg = m[mt][hi] == -INFINITY ? 0.0f : -m[mt][hi];  // a row with no key yet: every p = 0
#pragma unroll
            for (int j = 0; j < BN / 8; ++j)
#pragma unroll
                for (int c = 0; c < 2; ++c) s[mt][j][2 * hi + c] = ex2(fmaf(s[mt][j][2 * hi + c], scale_log2, mneg));
            if constexpr (!MMASUM) {
                float sum = s[mt][0][2 * hi] + s[mt][0][2 * hi + 1];
#pragma unroll
                for (int j = 1; j < BN / 8; ++j) sum += s[mt][j][2 * hi] + s[mt][j][2 * hi + 1];
                l[mt][2 * hi] += sum;  // this thread's columns; the quad sums at the end
            }
        }
        acc_to_a<T, BN / 16>(pa[mt], s[mt]);
        if constexpr (MMASUM) {
#pragma unroll
            for (int kk = 0; kk < BN / 16; ++kk) mma16816<T>(l[mt], pa[mt][kk], kOnes, kOnes);
        }
    }
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
#pragma unroll
        for (int dp = 0; dp < D / 16; ++dp) {
            std::uint32_t bb[4];
            load_b_kn<LD>(bb, cV, kk, dp * 16);
#pragma unroll
            for (int mt = 0; mt < MT; ++mt) {
                mma16816<T>(o[mt][2 * dp], pa[mt][kk], bb[0], bb[1]);
                mma16816<T>(o[mt][2 * dp + 1], pa[mt][kk], bb[2], bb[3]);
            }
        }
    }
}

// O / l through the warp's own rows of shared Q (stage; only this warp reads them), and lse.
template <typename T, int D, int MT, bool MMASUM>
__device__ __forceinline__ void fwd_epilogue(float (&o)[MT][D / 8][4], const float (&m)[MT][2], const float (&l)[MT][4],
                                             T* stage, T* out, std::size_t qs, float* lse_bh, int w_first, int S,
                                             int hd) {
    constexpr int LD = D + 8;
    const int lane = static_cast<int>(threadIdx.x % 32), row_lo = lane / 4;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
        float inv[2];
#pragma unroll
        for (int hi = 0; hi < 2; ++hi) {
            float sum = l[mt][2 * hi];
            if constexpr (!MMASUM) {
                sum += __shfl_xor_sync(0xffffffffu, sum, 1);
                sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            }
            inv[hi] = 1.0f / sum;
            const int row = w_first + mt * 16 + row_lo + hi * 8;
            if (lane % 4 == 0 && row < S) lse_bh[row] = m[mt][hi] * kLn2 + logf(sum);
        }
#pragma unroll
        for (int j = 0; j < D / 8; ++j) {
            o[mt][j][0] *= inv[0];
            o[mt][j][1] *= inv[0];
            o[mt][j][2] *= inv[1];
            o[mt][j][3] *= inv[1];
        }
        stage_acc<T, D>(stage + mt * 16 * LD, o[mt], 1.0f);
    }
    __syncwarp();
    store_rows_warp<T, D, 16 * MT>(out, qs, stage, w_first, S, hd);
}

// Forward: per K/V tile, wait for it (the next one is already loading), S = Q·Kᵀ, softmax, O += P·V.
template <typename T, int D, int NW, int MT, int BN, bool QREG, int MINB, bool LAZY, bool MMASUM>
__global__ void __launch_bounds__(NW * 32, MINB) flash_tc_fwd_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                     const T* __restrict__ v, T* __restrict__ out,
                                                                     float* __restrict__ lse, int S, int H, int KV,
                                                                     int BH, int nqb, float scale_log2, int hd,
                                                                     int window) {
    using C = FwdCfg<D, NW, MT, BN>;
    constexpr int BM = C::BM, LD = C::LD, THREADS = C::kThreads;
    extern __shared__ __align__(128) unsigned char smem[];
    T* sQ = reinterpret_cast<T*>(smem);
    T* sK = sQ + BM * LD;      // [2][BN][LD]
    T* sV = sK + 2 * BN * LD;  // [2][BN][LD]

    const int bid = static_cast<int>(blockIdx.x);
    const int qb = nqb - 1 - bid / BH, bh = bid % BH;  // the longest rows first
    const int h = bh % H, b = bh / H, g = h / (H / KV);
    const int q0 = qb * BM;
    const int warp = static_cast<int>(threadIdx.x / 32);
    const std::size_t qs = static_cast<std::size_t>(H) * hd, ks = static_cast<std::size_t>(KV) * hd;
    const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * hd;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * hd;
    const T* kp = k + kvoff;
    const T* vp = v + kvoff;

    const int n_tiles = (min(q0 + BM, S) + BN - 1) / BN;
    // Sliding window W: the block's first key is q0 − W + 1.
    const int t_begin = window > 0 ? max(0, q0 - window + 1) / BN : 0;
    load_rows_async<T, D, BM, THREADS>(sQ, q + qoff, qs, q0, S, hd);
    load_rows_async<T, D, BN, THREADS>(sK + (t_begin & 1) * BN * LD, kp, ks, t_begin * BN, S, hd);
    load_rows_async<T, D, BN, THREADS>(sV + (t_begin & 1) * BN * LD, vp, ks, t_begin * BN, S, hd);
    cp_async_commit();

    const int wr0 = warp * 16 * MT;  // the warp's first row in the tile
    const int w_first = q0 + wr0, w_last = w_first + 16 * MT - 1;
    T* sQw = sQ + wr0 * LD;

    std::uint32_t qf[MT][QREG ? D / 16 : 1][4];  // Q fragments, when kept in registers
    float o[MT][D / 8][4];
    float m[MT][2], l[MT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int j = 0; j < D / 8; ++j) o[mt][j][0] = o[mt][j][1] = o[mt][j][2] = o[mt][j][3] = 0.0f;
        m[mt][0] = m[mt][1] = -INFINITY;
        l[mt][0] = l[mt][1] = l[mt][2] = l[mt][3] = 0.0f;
    }

    for (int t = t_begin; t < n_tiles; ++t) {
        next_kv_tile<T, D, BN, THREADS>(sK, sV, kp, vp, ks, t, n_tiles, S, hd);
        __syncthreads();
        if constexpr (QREG) {
            if (t == t_begin) {
#pragma unroll
                for (int mt = 0; mt < MT; ++mt)
#pragma unroll
                    for (int kk = 0; kk < D / 16; ++kk) load_a<LD>(qf[mt][kk], sQw + mt * 16 * LD, kk);
            }
        }
        const int n0 = t * BN;
        // Some row of the warp sees some key of the tile (causal; and within the window).
        if (n0 <= w_last && (window == 0 || n0 + BN - 1 > w_first - window)) {
            float s[MT][BN / 8][4];
            fwd_qk<T, D, MT, BN, QREG>(s, qf, sQw, sK + (t & 1) * BN * LD);
            // The tile crosses the diagonal of some row of the warp, or the window's start.
            if (n0 + BN - 1 > w_first || (window > 0 && n0 <= w_last - window)) {
                fwd_softmax_pv<T, D, MT, BN, LAZY, true, MMASUM>(s, o, m, l, sV + (t & 1) * BN * LD, n0, w_first,
                                                                 scale_log2, window);
            } else {
                fwd_softmax_pv<T, D, MT, BN, LAZY, false, MMASUM>(s, o, m, l, sV + (t & 1) * BN * LD, n0, w_first,
                                                                  scale_log2, window);
            }
        }
        __syncthreads();
    }
    fwd_epilogue<T, D, MT, MMASUM>(o, m, l, sQw, out + qoff, qs, lse + static_cast<std::size_t>(bh) * S, w_first, S, hd);
}

// --- backward: dQ ------------------------------------------------------------------------------

template <int D, int NW, int BN>
struct DqCfg {
    static constexpr int BM = NW * 16;
    static constexpr int LD = D + 8;
    static constexpr int kThreads = NW * 32;
    static constexpr std::size_t smem = std::size_t{2} * (2 * BM + 4 * BN) * LD;  // Q, dO, 2 × (K, V)
};

// One dQ block (query block × head × batch, block index bid; the last query blocks first).
template <typename T, int D, int NW, int BN>
__device__ __forceinline__ void dq_block(unsigned char* smem, int bid, const T* __restrict__ q, const T* __restrict__ k,
                                         const T* __restrict__ v, const T* __restrict__ dout,
                                         const float* __restrict__ lse, const float* __restrict__ Dv,
                                         T* __restrict__ dq, int S, int H, int KV, int BH, int nqb, float scale_log2,
                                         float scale, int hd, int window) {
    using C = DqCfg<D, NW, BN>;
    constexpr int BM = C::BM, LD = C::LD, THREADS = C::kThreads;
    T* sQ = reinterpret_cast<T*>(smem);
    T* sO = sQ + BM * LD;      // dO
    T* sK = sO + BM * LD;      // [2][BN][LD]
    T* sV = sK + 2 * BN * LD;  // [2][BN][LD]

    const int qb = nqb - 1 - bid / BH, bh = bid % BH;
    const int h = bh % H, b = bh / H, g = h / (H / KV);
    const int q0 = qb * BM;
    const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
    const std::size_t qs = static_cast<std::size_t>(H) * hd, ks = static_cast<std::size_t>(KV) * hd;
    const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * hd;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * hd;
    const T* kp = k + kvoff;
    const T* vp = v + kvoff;

    const int n_tiles = (min(q0 + BM, S) + BN - 1) / BN;
    const int t_begin = window > 0 ? max(0, q0 - window + 1) / BN : 0;  // the block's first key: q0 − W + 1
    load_rows_async<T, D, BM, THREADS>(sQ, q + qoff, qs, q0, S, hd);
    load_rows_async<T, D, BM, THREADS>(sO, dout + qoff, qs, q0, S, hd);
    load_rows_async<T, D, BN, THREADS>(sK + (t_begin & 1) * BN * LD, kp, ks, t_begin * BN, S, hd);
    load_rows_async<T, D, BN, THREADS>(sV + (t_begin & 1) * BN * LD, vp, ks, t_begin * BN, S, hd);
    cp_async_commit();

    const int wr0 = warp * 16;
    const int w_first = q0 + wr0, w_last = w_first + 15;
    const int row_lo = lane / 4, col2 = (lane % 4) * 2;
    float lse2[2], dd[2];
#pragma unroll
    for (int hi = 0; hi < 2; ++hi) {
        const int row = w_first + row_lo + hi * 8;
        lse2[hi] = row < S ? lse[static_cast<std::size_t>(bh) * S + row] * kLog2e : 0.0f;
        dd[hi] = row < S ? Dv[static_cast<std::size_t>(bh) * S + row] : 0.0f;
    }

    std::uint32_t qf[D / 16][4], of[D / 16][4];
    float acc[D / 8][4];
#pragma unroll
    for (int j = 0; j < D / 8; ++j) acc[j][0] = acc[j][1] = acc[j][2] = acc[j][3] = 0.0f;

    for (int t = t_begin; t < n_tiles; ++t) {
        next_kv_tile<T, D, BN, THREADS>(sK, sV, kp, vp, ks, t, n_tiles, S, hd);
        __syncthreads();
        if (t == t_begin) {
#pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) {
                load_a<LD>(qf[kk], sQ + wr0 * LD, kk);
                load_a<LD>(of[kk], sO + wr0 * LD, kk);
            }
        }
        const int n0 = t * BN;
        if (n0 <= w_last && (window == 0 || n0 + BN - 1 > w_first - window)) {
            const T* cK = sK + (t & 1) * BN * LD;
            const T* cV = sV + (t & 1) * BN * LD;
            float s[BN / 8][4], dp[BN / 8][4];
#pragma unroll
            for (int j = 0; j < BN / 8; ++j) {
                s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
                dp[j][0] = dp[j][1] = dp[j][2] = dp[j][3] = 0.0f;
            }
            mma_abt_regs<T, D, BN / 8>(s, qf, cK);   // S = Q·Kᵀ
            mma_abt_regs<T, D, BN / 8>(dp, of, cV);  // dP = dO·Vᵀ
            // dS = P∘(dP − D), the causal mask only where the tile crosses the diagonal.
            auto ds = [&](auto mask) {
#pragma unroll
                for (int j = 0; j < BN / 8; ++j) {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int hi = e / 2, row = w_first + row_lo + hi * 8, key = n0 + j * 8 + col2 + (e % 2);
                        float p = ex2(fmaf(s[j][e], scale_log2, -lse2[hi]));
                        if (decltype(mask)::value && (key > row || (window > 0 && key <= row - window))) p = 0.0f;
                        s[j][e] = p * (dp[j][e] - dd[hi]);
                    }
                }
            };
            if (n0 + BN - 1 > w_first || (window > 0 && n0 <= w_last - window)) {
                ds(std::true_type{});
            } else {
                ds(std::false_type{});
            }
            std::uint32_t da[BN / 16][4];
            acc_to_a<T, BN / 16>(da, s);
            mma_ab_kn<T, D, BN / 16>(acc, da, cK);  // dQ += dS·K
        }
        __syncthreads();
    }
    T* stage = sQ + wr0 * LD;
    stage_acc<T, D>(stage, acc, scale);
    __syncwarp();
    store_rows_warp<T, D, 16>(dq + qoff, qs, stage, w_first, S, hd);
}

// --- backward: dK, dV --------------------------------------------------------------------------

template <int D, int NW, int BMQ>
struct DkvCfg {
    static constexpr int BN = NW * 16;  // keys per CTA
    static constexpr int LD = D + 8;
    static constexpr int kThreads = NW * 32;
    // K, V, 2 × (Q, dO) 16-bit rows, 2 × (lse, D) floats.
    static constexpr std::size_t smem = std::size_t{2} * (2 * BN + 4 * BMQ) * LD + std::size_t{4} * 4 * BMQ;
    static_assert(2 * BMQ <= kThreads, "one thread per lse and D value");
};

// One dK/dV block (key block × kv head × batch, block index bid; key block 0 first).
template <typename T, int D, int NW, int BMQ, bool KVREG>
__device__ __forceinline__ void dkdv_block(unsigned char* smem, int bid, const T* __restrict__ q,
                                           const T* __restrict__ k, const T* __restrict__ v,
                                           const T* __restrict__ dout, const float* __restrict__ lse,
                                           const float* __restrict__ Dv, T* __restrict__ dk, T* __restrict__ dv, int S,
                                           int H, int KV, int BKV, float scale_log2, float scale, int hd,
                                           int window) {
    using C = DkvCfg<D, NW, BMQ>;
    constexpr int BN = C::BN, LD = C::LD, THREADS = C::kThreads;
    T* sK = reinterpret_cast<T*>(smem);
    T* sV = sK + BN * LD;
    T* sQ = sV + BN * LD;         // [2][BMQ][LD]
    T* sO = sQ + 2 * BMQ * LD;    // dO, [2][BMQ][LD]
    float* sL = reinterpret_cast<float*>(sO + 2 * BMQ * LD);  // lse, [2][BMQ]
    float* sD = sL + 2 * BMQ;                                  // D, [2][BMQ]

    const int kb = bid / BKV, bg = bid % BKV;  // key block 0 (the most queries) first
    const int g = bg % KV, b = bg / KV, rep = H / KV;
    const int k0 = kb * BN;
    const int warp = static_cast<int>(threadIdx.x / 32), lane = static_cast<int>(threadIdx.x % 32);
    const std::size_t qs = static_cast<std::size_t>(H) * hd, ks = static_cast<std::size_t>(KV) * hd;
    const std::size_t kvoff = static_cast<std::size_t>(b) * S * ks + static_cast<std::size_t>(g) * hd;

    const int qt0 = k0 / BMQ;                       // the first query tile that sees a key of the block
    // Query tiles per head: to the end, or (sliding window W) to the block's last key + W − 1.
    const int n_qt = (window > 0 ? min(S, k0 + BN + window - 1) + BMQ - 1 : S + BMQ - 1) / BMQ - qt0;
    const int total = rep * n_qt;

    // Issues the loads of iteration `it` (head g·rep + it / n_qt, query tile qt0 + it % n_qt) into stage st.
    auto issue = [&](int it, int st) {
        const int h = g * rep + it / n_qt, q0 = (qt0 + it % n_qt) * BMQ;
        const std::size_t qoff = static_cast<std::size_t>(b) * S * qs + static_cast<std::size_t>(h) * hd;
        load_rows_async<T, D, BMQ, THREADS>(sQ + st * BMQ * LD, q + qoff, qs, q0, S, hd);
        load_rows_async<T, D, BMQ, THREADS>(sO + st * BMQ * LD, dout + qoff, qs, q0, S, hd);
        const int tid = static_cast<int>(threadIdx.x);
        if (tid < 2 * BMQ) {
            const int r = tid % BMQ, row = q0 + r;
            const bool valid = row < S;
            const std::size_t at = (static_cast<std::size_t>(b) * H + h) * S + (valid ? row : 0);
            if (tid < BMQ) {
                cp_async4(sL + st * BMQ + r, lse + at, valid);
            } else {
                cp_async4(sD + st * BMQ + r, Dv + at, valid);
            }
        }
    };

    load_rows_async<T, D, BN, THREADS>(sK, k + kvoff, ks, k0, S, hd);
    load_rows_async<T, D, BN, THREADS>(sV, v + kvoff, ks, k0, S, hd);
    issue(0, 0);
    cp_async_commit();

    const int wr0 = warp * 16;
    const int w_first = k0 + wr0;  // the warp's first key
    const int key_lo = lane / 4, col2 = (lane % 4) * 2;
    const T* wK = sK + wr0 * LD;
    const T* wV = sV + wr0 * LD;

    std::uint32_t kf[KVREG ? D / 16 : 1][4], vf[KVREG ? D / 16 : 1][4];
    float gk[D / 8][4], gv[D / 8][4];
#pragma unroll
    for (int j = 0; j < D / 8; ++j) {
        gk[j][0] = gk[j][1] = gk[j][2] = gk[j][3] = 0.0f;
        gv[j][0] = gv[j][1] = gv[j][2] = gv[j][3] = 0.0f;
    }

    for (int it = 0; it < total; ++it) {
        if (it + 1 < total) {
            issue(it + 1, (it + 1) & 1);
            cp_async_commit();
            cp_async_wait<1>();
        } else {
            cp_async_wait<0>();
        }
        __syncthreads();
        if constexpr (KVREG) {
            if (it == 0) {
#pragma unroll
                for (int kk = 0; kk < D / 16; ++kk) {
                    load_a<LD>(kf[kk], wK, kk);
                    load_a<LD>(vf[kk], wV, kk);
                }
            }
        }
        const int q0 = (qt0 + it % n_qt) * BMQ;
        // Some query of the tile sees some key of the warp (causal; and within the window).
        if (q0 + BMQ - 1 >= w_first && (window == 0 || q0 <= w_first + 15 + window - 1)) {
            const int st = it & 1;
            const T* cQ = sQ + st * BMQ * LD;
            const T* cO = sO + st * BMQ * LD;
            const float* cL = sL + st * BMQ;
            const float* cD = sD + st * BMQ;
            float s[BMQ / 8][4], dp[BMQ / 8][4];
#pragma unroll
            for (int j = 0; j < BMQ / 8; ++j) {
                s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.0f;
                dp[j][0] = dp[j][1] = dp[j][2] = dp[j][3] = 0.0f;
            }
            // Sᵀ = K·Qᵀ, dPᵀ = V·dOᵀ (rows: the warp's 16 keys; columns: the tile's queries)
#pragma unroll
            for (int kk = 0; kk < D / 16; ++kk) {
                std::uint32_t ka[4], va[4];
                if constexpr (KVREG) {
#pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        ka[i] = kf[kk][i];
                        va[i] = vf[kk][i];
                    }
                } else {
                    load_a<LD>(ka, wK, kk);
                    load_a<LD>(va, wV, kk);
                }
#pragma unroll
                for (int np = 0; np < BMQ / 16; ++np) {
                    std::uint32_t bb[4];
                    load_b_nk<LD>(bb, cQ, np * 16, kk);
                    mma16816<T>(s[2 * np], ka, bb[0], bb[1]);
                    mma16816<T>(s[2 * np + 1], ka, bb[2], bb[3]);
                    load_b_nk<LD>(bb, cO, np * 16, kk);
                    mma16816<T>(dp[2 * np], va, bb[0], bb[1]);
                    mma16816<T>(dp[2 * np + 1], va, bb[2], bb[3]);
                }
            }
            // Pᵀ and dSᵀ = Pᵀ∘(dPᵀ − D); the mask only where the tiles cross the diagonal or the end.
            auto pds = [&](auto mask) {
#pragma unroll
                for (int j = 0; j < BMQ / 8; ++j) {
                    const float2 l2 = *reinterpret_cast<const float2*>(cL + j * 8 + col2);
                    const float2 d2 = *reinterpret_cast<const float2*>(cD + j * 8 + col2);
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        const int key = w_first + key_lo + (e / 2) * 8, qi = q0 + j * 8 + col2 + (e % 2);
                        const float lq = (e % 2) ? l2.y : l2.x, dq_ = (e % 2) ? d2.y : d2.x;
                        float p = ex2(fmaf(s[j][e], scale_log2, -lq * kLog2e));
                        if (decltype(mask)::value && (key > qi || qi >= S || (window > 0 && key <= qi - window))) p = 0.0f;
                        s[j][e] = p;                      // Pᵀ
                        dp[j][e] = p * (dp[j][e] - dq_);  // dSᵀ
                    }
                }
            };
            if (q0 < w_first + 15 || q0 + BMQ > S || (window > 0 && q0 + BMQ - 1 >= w_first + window)) {
                pds(std::true_type{});
            } else {
                pds(std::false_type{});
            }
            std::uint32_t pa[BMQ / 16][4], da[BMQ / 16][4];
            acc_to_a<T, BMQ / 16>(pa, s);
            acc_to_a<T, BMQ / 16>(da, dp);
            mma_ab_kn<T, D, BMQ / 16>(gv, pa, cO);  // dV += Pᵀ·dO
            mma_ab_kn<T, D, BMQ / 16>(gk, da, cQ);  // dK += dSᵀ·Q
        }
        __syncthreads();
    }
    // The warp's own rows of sK / sV (only it read them) stage dK and dV.
    T* stK = sK + wr0 * LD;
    T* stV = sV + wr0 * LD;
    stage_acc<T, D>(stK, gk, scale);
    stage_acc<T, D>(stV, gv, 1.0f);
    __syncwarp();
    store_rows_warp<T, D, 16>(dk + kvoff, ks, stK, w_first, S, hd);
    store_rows_warp<T, D, 16>(dv + kvoff, ks, stV, w_first, S, hd);
}

// The whole backward in one launch: the first n_kv blocks are dK/dV blocks (longest first), the
// rest dQ blocks (longest first). dQ blocks fill the SMs while the long dK/dV blocks of the
// first key blocks (which loop over every query tile of every head of their GQA group) finish,
// so neither kernel's tail idles the GPU.
template <typename T, int D, int NW, int BNQ, int BMQ, bool KVREG, int MINB>
__global__ void __launch_bounds__(NW * 32, MINB) flash_tc_bwd_kernel(const T* __restrict__ q, const T* __restrict__ k,
                                                                     const T* __restrict__ v, const T* __restrict__ dout,
                                                                     const float* __restrict__ lse,
                                                                     const float* __restrict__ Dv, T* __restrict__ dq,
                                                                     T* __restrict__ dk, T* __restrict__ dv, int S, int H,
                                                                     int KV, int n_kv, int nqb, float scale_log2,
                                                                     float scale, int hd, int window) {
    extern __shared__ __align__(128) unsigned char smem[];
    const int bid = static_cast<int>(blockIdx.x);
    const int B = static_cast<int>(gridDim.x - n_kv) / (nqb * H);
    if (bid < n_kv) {
        dkdv_block<T, D, NW, BMQ, KVREG>(smem, bid, q, k, v, dout, lse, Dv, dk, dv, S, H, KV, B * KV, scale_log2, scale,
                                         hd, window);
    } else {
        dq_block<T, D, NW, BNQ>(smem, bid - n_kv, q, k, v, dout, lse, Dv, dq, S, H, KV, B * H, nqb, scale_log2, scale, hd,
                                window);
    }
}

// --- launchers ---------------------------------------------------------------------------------

template <typename T, int D, int NW, int MT, int BN, bool QREG, int MINB, bool LAZY, bool MMASUM>
void launch_fwd(cudaStream_t stream, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                int heads, int kv_heads, float scale, int hd, int window) {
    using C = FwdCfg<D, NW, MT, BN>;
    const int nqb = (S + C::BM - 1) / C::BM;
    const unsigned grid = static_cast<unsigned>(nqb) * static_cast<unsigned>(B * heads);
    LLMPLAN_CUDA_CHECK(cudaFuncSetAttribute(flash_tc_fwd_kernel<T, D, NW, MT, BN, QREG, MINB, LAZY, MMASUM>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(C::smem)));
    flash_tc_fwd_kernel<T, D, NW, MT, BN, QREG, MINB, LAZY, MMASUM><<<grid, C::kThreads, C::smem, stream>>>(
        static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<T*>(out), lse, S, heads,
        kv_heads, B * heads, nqb, scale * kLog2e, hd, window);
    LLMPLAN_CHECK_LAUNCH();
}

template <typename T, int D, int NW, int BNQ, int BMQ, bool KVREG, int MINB>
void launch_bwd_fused(cudaStream_t stream, const void* q, const void* k, const void* v, const float* lse, const float* Dv,
                      const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads,
                      float scale, int hd, int window) {
    using CQ = DqCfg<D, NW, BNQ>;
    using CK = DkvCfg<D, NW, BMQ>;
    const int nqb = (S + CQ::BM - 1) / CQ::BM, nkb = (S + CK::BN - 1) / CK::BN;
    const int n_kv = nkb * B * kv_heads;
    const unsigned grid = static_cast<unsigned>(n_kv) + static_cast<unsigned>(nqb) * static_cast<unsigned>(B * heads);
    const std::size_t smem = CQ::smem > CK::smem ? CQ::smem : CK::smem;
    LLMPLAN_CUDA_CHECK(cudaFuncSetAttribute(flash_tc_bwd_kernel<T, D, NW, BNQ, BMQ, KVREG, MINB>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
    flash_tc_bwd_kernel<T, D, NW, BNQ, BMQ, KVREG, MINB><<<grid, NW * 32, smem, stream>>>(
        static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v), static_cast<const T*>(dout), lse, Dv,
        static_cast<T*>(dq), static_cast<T*>(dk), static_cast<T*>(dv), S, heads, kv_heads, n_kv, nqb, scale * kLog2e,
        scale, hd, window);
    LLMPLAN_CHECK_LAUNCH();
}

// The shipped configurations (see the header comment).
template <typename T, int D>
void forward_impl(cudaStream_t stream, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                  int heads, int kv_heads, float scale, int hd, int window) {
    if constexpr (D == 64) {
        launch_fwd<T, D, 4, 2, 64, true, 1, false, true>(stream, q, k, v, out, lse, B, S, heads, kv_heads, scale, hd,
                                                         window);
    } else {
        launch_fwd<T, D, 4, 2, 64, false, 1, true, true>(stream, q, k, v, out, lse, B, S, heads, kv_heads, scale, hd,
                                                         window);
    }
}

template <typename T, int D>
void backward_impl(cudaStream_t stream, const void* q, const void* k, const void* v, const float* lse, const float* Dv,
                   const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, float scale,
                   int hd, int window) {
    if constexpr (D == 64) {
        launch_bwd_fused<T, D, 4, 32, 32, true, 3>(stream, q, k, v, lse, Dv, dout, dq, dk, dv, B, S, heads, kv_heads, scale,
                                                   hd, window);
    } else {
        launch_bwd_fused<T, D, 4, 32, 64, false, 1>(stream, q, k, v, lse, Dv, dout, dq, dk, dv, B, S, heads, kv_heads,
                                                    scale, hd, window);
    }
}

// Calls f(T{}, integral_constant<D>) for a supported (dt, d): D, the tiles' head size, is d
// rounded up to 64 or 128 (the padding columns are zero in shared memory, never stored).
template <typename F>
void dispatch_tc(DType dt, int d, F&& f) {
    if (dt == DType::bf16) {
        if (d <= 64) return f(bf16{}, std::integral_constant<int, 64>{});
        return f(bf16{}, std::integral_constant<int, 128>{});
    }
    if (d <= 64) return f(fp16{}, std::integral_constant<int, 64>{});
    return f(fp16{}, std::integral_constant<int, 128>{});
}

}  // namespace

bool flash_tc_supported(DType dt, int d, std::initializer_list<const void*> tensors) {
    if (dt == DType::fp32 || d < 4 || d > 128 || d % 4 != 0) return false;
    // Rows are copied 16 bytes at a time when d is a multiple of 8, else 8 bytes at a time.
    const std::uintptr_t align = d % 8 == 0 ? 16 : 8;
    for (const void* p : tensors)
        if (reinterpret_cast<std::uintptr_t>(p) % align != 0) return false;
    return true;
}

void flash_tc_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                      int heads, int kv_heads, int d, DType dt, float scale, int window) {
    dispatch_tc(dt, d, [&](auto tag, auto dim) {
        using T = decltype(tag);
        constexpr int D = decltype(dim)::value;
        forward_impl<T, D>(ctx.stream(), q, k, v, out, lse, B, S, heads, kv_heads, scale, d, window);
    });
}

void flash_tc_backward(Context& ctx, const void* q, const void* k, const void* v, const float* lse, const float* D,
                       const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d, DType dt,
                       float scale, int window) {
    dispatch_tc(dt, d, [&](auto tag, auto dim) {
        using T = decltype(tag);
        constexpr int HD = decltype(dim)::value;
        backward_impl<T, HD>(ctx.stream(), q, k, v, lse, D, dout, dq, dk, dv, B, S, heads, kv_heads, scale, d, window);
    });
}

}  // namespace llmplan::kernels::cuda
