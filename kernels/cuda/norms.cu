// norms.cu — LayerNorm and RMSNorm over the last dimension (statistics in fp32, two-pass
// variance).
//
// Main path (h a multiple of the 16-byte vector V — 4 fp32, 8 bf16/fp16 — with 16-byte aligned
// tensors, and h ≤ 2048·V): a team of TT threads (one warp, or up to 16 warps for long rows) owns
// a row at a time; each thread holds VPT ≤ 4 of its 16-byte vectors in registers, so x (and dy)
// cross device memory once. Teams walk the rows with a grid-stride loop over a persistent grid
// (one wave of resident blocks). The row's sums are a warp shuffle tree, then (teams of several
// warps) a fixed-order sum of the warps' values through shared memory.
//
// Backward: one kernel computes dx and the parameter gradients together. A thread's columns are
// the same on every row, so it accumulates dγ (Σ dy·x̂) and dβ (Σ dy) of its columns in registers
// over the rows its team visits; the block's teams then add theirs in team order through shared
// memory, and each block writes its partial sums to scratch. A second kernel adds the blocks'
// partials in block order (each column split over 32 threads, then their fixed-order sum) into
// dγ/dβ; it is launched as a programmatic dependent launch (sm_90), so that its launch overlaps
// the row kernel, and waits for that kernel's end before it reads. No atomics: the same device
// gives the same bits on every run (the split into blocks follows the device's multiprocessor
// count, so another GPU model may round differently).
//
// Fallback (other shapes or alignments): one block per row for the forward and the input gradient,
// and deterministic column sums for the parameter gradients (colreduce.cuh).
#include "kernels/cuda/colreduce.cuh"

#include <initializer_list>
#include <type_traits>

namespace llmplan::kernels::cuda {

namespace {

constexpr int kNormThreads = 256;  // fallback kernels: one block per row

// --- main path: row teams with the row in registers ------------------------------------------------

constexpr int kMaxVecPerThread = 4;   // 16-byte vectors of a row per thread
constexpr int kMaxTeamThreads = 512;  // longest rows: h ≤ 512·4·V
constexpr int kFinishRows = 32;       // threads per column in the partial-sum kernel
constexpr bool kPrefetch = true;      // a team loads its next row while it works on the current one

// Threads of a block of teams of TT threads: 256 (several teams) or the team itself.
template <int TT>
__host__ __device__ constexpr int team_block() {
    return TT > 256 ? TT : 256;
}

// Σ of v over the calling thread's team (TT threads, a warp multiple), in a fixed order: the warp's
// shuffle tree, then the team's warps in order through `sh` (one float per warp of the block). With
// several warps per team every thread of the block must call it (it holds barriers).
template <int TT, int N>
__device__ __forceinline__ void team_sum(float (&v)[N], float* sh) {
#pragma unroll
    for (int i = 0; i < N; ++i) v[i] = warp_sum(v[i]);
    if constexpr (TT > 32) {
        constexpr int TW = TT / 32, BW = team_block<TT>() / 32;
        const int warp = static_cast<int>(threadIdx.x) / 32, first = static_cast<int>(threadIdx.x) / TT * TW;
        if (threadIdx.x % 32 == 0)
#pragma unroll
            for (int i = 0; i < N; ++i) sh[i * BW + warp] = v[i];
        __syncthreads();
#pragma unroll
        for (int i = 0; i < N; ++i) {
            float r = 0.0f;
#pragma unroll
            for (int w = 0; w < TW; ++w) r += sh[i * BW + first + w];
            v[i] = r;
        }
        __syncthreads();  // sh is reused by the next call
    }
}

// y = (x − μ)·r·γ + β (LayerNorm; β nullable) or x·r·γ (RMSNorm: μ = 0, no β), r = 1/√(var + eps),
// var the mean of (x − μ)² (LayerNorm, two-pass) or of x² (RMSNorm). Thread lt of a team holds the
// row's vectors lt + k·TT (k < VPT).
template <typename T, int TT, int VPT, bool PF = kPrefetch>
__global__ void __launch_bounds__(team_block<TT>())
    norm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma, const T* __restrict__ beta, T* __restrict__ y,
                    float* __restrict__ mean, float* __restrict__ rstd, int rows, int h, float eps, bool layernorm) {
    constexpr int V = kVec<T>, NT = team_block<TT>() / TT;
    __shared__ float sh[2 * team_block<TT>() / 32];
    const int nvec = h / V, lt = static_cast<int>(threadIdx.x) % TT, team = static_cast<int>(threadIdx.x) / TT;
    // Every thread of the block runs the same iterations (team_sum's barriers); rows past the end idle.
    const auto load_row = [&](int row, uint4(&raw)[VPT]) {
        const T* xr = x + static_cast<std::size_t>(row < rows ? row : 0) * h;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lt + k * TT;
            raw[k] = row < rows && c < nvec ? reinterpret_cast<const uint4*>(xr)[c] : make_uint4(0, 0, 0, 0);
        }
    };
    const int step = static_cast<int>(gridDim.x) * NT;
    uint4 next[VPT];
    if constexpr (PF) load_row(static_cast<int>(blockIdx.x) * NT + team, next);
    for (int row0 = static_cast<int>(blockIdx.x) * NT; row0 < rows; row0 += step) {
        const int row = row0 + team;
        const bool active = row < rows;
        uint4 raw[VPT];
        if constexpr (PF) {  // this row was loaded during the previous one; start the next
#pragma unroll
            for (int k = 0; k < VPT; ++k) raw[k] = next[k];
            load_row(row + step, next);
        } else {
            load_row(row, raw);
        }
        float v[VPT][V];
        float s[1] = {0.0f};
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            unpack16(raw[k], v[k], T{});
#pragma unroll
            for (int e = 0; e < V; ++e) s[0] += v[k][e];  // missing vectors read as 0
        }
        float m = 0.0f;
        if (layernorm) {
            team_sum<TT>(s, sh);
            m = s[0] / static_cast<float>(h);
        }
        float q[1] = {0.0f};
#pragma unroll
        for (int k = 0; k < VPT; ++k)
            if (lt + k * TT < nvec)
#pragma unroll
                for (int e = 0; e < V; ++e) {
                    const float d = v[k][e] - m;
                    q[0] += d * d;
                }
        team_sum<TT>(q, sh);
        const float r = rsqrtf(q[0] / static_cast<float>(h) + eps);
        if (!active) continue;
        T* yr = y + static_cast<std::size_t>(row) * h;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lt + k * TT;
            if (c >= nvec) continue;
            float g[V], b[V], o[V];
            load_vec(gamma + c * V, g);
            if (beta) {
                load_vec(beta + c * V, b);
            } else {
#pragma unroll
                for (int e = 0; e < V; ++e) b[e] = 0.0f;
            }
#pragma unroll
            for (int e = 0; e < V; ++e) o[e] = (v[k][e] - m) * r * g[e] + b[e];
            store_vec(yr + c * V, o);
        }
        if (lt == 0) {
            if (mean) mean[row] = m;
            if (rstd) rstd[row] = r;
        }
    }
}

// Programmatic dependent launch (sm_90): the partial-sum kernel is launched while the row kernel
// still runs and waits here, before its first read, until that kernel has finished and its writes
// are visible; the row kernel lets it launch from its start. Both are no-ops without the launch
// attribute (and below sm_90).
__device__ __forceinline__ void wait_for_prior_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Input gradient, with x̂ = (x − μ)·r (RMSNorm: μ = 0), g = dy·γ and h the row length:
//   LayerNorm  dx = r·(g − mean(g) − x̂·mean(g·x̂))
//   RMSNorm    dx = r·(g − x̂·mean(g·x̂))   (= r·γ·dy − x·r³·mean(dy·γ·x))
// and, when `partial` is set, the block's Σ over its rows of dy·x̂ (dγ) and dy (dβ) per column,
// written to partial[blockIdx.x·h + j] and partial[(gridDim.x + blockIdx.x)·h + j].
template <typename T, int TT, int VPT, bool PF = kPrefetch>
__global__ void __launch_bounds__(team_block<TT>())
    norm_bwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma, const float* __restrict__ mean,
                    const float* __restrict__ rstd, const T* __restrict__ dy, T* __restrict__ dx,
                    float* __restrict__ partial, int rows, int h, bool layernorm) {
    constexpr int V = kVec<T>, BT = team_block<TT>(), NT = BT / TT;
    __shared__ float sh[2 * BT / 32];
    allow_dependent_launch();  // the partial-sum kernel may start; it waits for this grid's end
    const int nvec = h / V, lt = static_cast<int>(threadIdx.x) % TT, team = static_cast<int>(threadIdx.x) / TT;
    float acc_g[VPT][V], acc_b[VPT][V];
#pragma unroll
    for (int k = 0; k < VPT; ++k)
#pragma unroll
        for (int e = 0; e < V; ++e) acc_g[k][e] = acc_b[k][e] = 0.0f;
    // A row's x, dy (zeros past the end), μ and r.
    const auto load_row = [&](int row, uint4(&rx)[VPT], uint4(&rdy)[VPT], float& m, float& r) {
        const bool active = row < rows;
        const std::size_t off = static_cast<std::size_t>(active ? row : 0) * h;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lt + k * TT;
            const bool ok = active && c < nvec;
            rx[k] = ok ? reinterpret_cast<const uint4*>(x + off)[c] : make_uint4(0, 0, 0, 0);
            rdy[k] = ok ? reinterpret_cast<const uint4*>(dy + off)[c] : make_uint4(0, 0, 0, 0);
        }
        m = active && layernorm ? mean[row] : 0.0f;
        r = active ? rstd[row] : 0.0f;
    };
    const int step = static_cast<int>(gridDim.x) * NT;
    uint4 nx[VPT], ndy[VPT];
    float nm = 0.0f, nr = 0.0f;
    if constexpr (PF) load_row(static_cast<int>(blockIdx.x) * NT + team, nx, ndy, nm, nr);
    for (int row0 = static_cast<int>(blockIdx.x) * NT; row0 < rows; row0 += step) {
        const int row = row0 + team;
        const bool active = row < rows;
        const std::size_t off = static_cast<std::size_t>(active ? row : 0) * h;
        uint4 rx[VPT], rdy[VPT];
        float m, r;
        if constexpr (PF) {  // this row was loaded during the previous one; start the next
#pragma unroll
            for (int k = 0; k < VPT; ++k) {
                rx[k] = nx[k];
                rdy[k] = ndy[k];
            }
            m = nm;
            r = nr;
            load_row(row + step, nx, ndy, nm, nr);
        } else {
            load_row(row, rx, rdy, m, r);
        }
        float sums[2] = {0.0f, 0.0f};  // Σ g, Σ g·x̂
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lt + k * TT;
            if (c >= nvec) continue;
            float xv[V], dv[V], gv[V];
            unpack16(rx[k], xv, T{});
            unpack16(rdy[k], dv, T{});
            load_vec(gamma + c * V, gv);
#pragma unroll
            for (int e = 0; e < V; ++e) {
                const float g = dv[e] * gv[e], xh = (xv[e] - m) * r;
                sums[0] += g;
                sums[1] += g * xh;
                acc_g[k][e] += dv[e] * xh;  // inactive rows add dy = 0
                acc_b[k][e] += dv[e];
            }
        }
        team_sum<TT>(sums, sh);
        if (!active || !dx) continue;
        const float mean_g = layernorm ? sums[0] / static_cast<float>(h) : 0.0f;
        const float mean_gx = sums[1] / static_cast<float>(h);
        T* dxr = dx + off;
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lt + k * TT;
            if (c >= nvec) continue;
            float xv[V], dv[V], gv[V], o[V];
            unpack16(rx[k], xv, T{});
            unpack16(rdy[k], dv, T{});
            load_vec(gamma + c * V, gv);
#pragma unroll
            for (int e = 0; e < V; ++e) {
                const float g = dv[e] * gv[e], xh = (xv[e] - m) * r;
                o[e] = r * (g - mean_g - xh * mean_gx);
            }
            store_vec(dxr + c * V, o);
        }
    }
    if (!partial) return;
    float* pg = partial + static_cast<std::size_t>(blockIdx.x) * h;
    float* pb = partial + (static_cast<std::size_t>(gridDim.x) + blockIdx.x) * h;
    if constexpr (NT == 1) {
#pragma unroll
        for (int k = 0; k < VPT; ++k) {
            const int c = lt + k * TT;
            if (c >= nvec) continue;
            store_vec(pg + c * V, acc_g[k]);
            store_vec(pb + c * V, acc_b[k]);
        }
    } else {
        // The block's teams in order: team 0 stores, team t adds its values to teams 0..t−1's.
        constexpr int S = TT * VPT * V;  // one team's values of one gradient
        __shared__ float comb[2 * S];
        for (int t = 0; t < NT; ++t) {
            if (team == t)
#pragma unroll
                for (int k = 0; k < VPT; ++k)
#pragma unroll
                    for (int e = 0; e < V; ++e) {
                        const int i = (k * V + e) * TT + lt;
                        comb[i] = t == 0 ? acc_g[k][e] : comb[i] + acc_g[k][e];
                        comb[S + i] = t == 0 ? acc_b[k][e] : comb[S + i] + acc_b[k][e];
                    }
            __syncthreads();
        }
        for (int j = static_cast<int>(threadIdx.x); j < h; j += BT) {
            const int c = j / V, e = j % V;
            const int i = ((c / TT) * V + e) * TT + c % TT;
            pg[j] = comb[i];
            pb[j] = comb[S + i];
        }
    }
}

// dst0[j] += Σ_b partial[b·h + j], dst1[j] += Σ_b partial[(chunks + b)·h + j] (blockIdx.y picks the
// output; a null one is skipped): thread (tx, ty) adds blocks ty, ty + 32, … in order, then thread
// ty = 0 adds the 32 sums in order.
template <typename G>
__global__ void __launch_bounds__(32 * kFinishRows)
    norm_param_finish_kernel(const float* __restrict__ partial, int chunks, int h, G* dst0, G* dst1) {
    __shared__ float s[kFinishRows][33];
    wait_for_prior_grid();
    G* dst = blockIdx.y == 0 ? dst0 : dst1;
    if (!dst) return;  // the whole block
    const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
    const int j = static_cast<int>(blockIdx.x) * 32 + tx;
    const float* p = partial + static_cast<std::size_t>(blockIdx.y) * chunks * h;
    float sum = 0.0f;
    if (j < h)
#pragma unroll 8
        for (int c = ty; c < chunks; c += kFinishRows) sum += p[static_cast<std::size_t>(c) * h + j];
    s[ty][tx] = sum;
    __syncthreads();
    if (ty == 0 && j < h) {
        float t = 0.0f;
#pragma unroll
        for (int i = 0; i < kFinishRows; ++i) t += s[i][tx];
        dst[j] = from_float<G>(to_float(dst[j]) + t);
    }
}

// The team for rows of nvec vectors: the smallest TT (32·2^k ≤ kMaxTeamThreads) with nvec ≤
// TT·kMaxVecPerThread, and VPT = ⌈nvec / TT⌉ (1..4 for a warp; 3 or 4 above, since a team of half
// the size would otherwise do); {0, 0} when rows are longer.
struct TeamShape {
    int tt = 0, vpt = 0;
};
TeamShape team_shape(int nvec) {
    for (int tt = 32; tt <= kMaxTeamThreads; tt *= 2)
        if (nvec <= tt * kMaxVecPerThread) return {tt, (nvec + tt - 1) / tt};
    return {};
}

template <int N>
using IntC = std::integral_constant<int, N>;

// f(IntC<TT>{}, IntC<VPT>{}) for the shape.
template <typename F>
void with_team(TeamShape t, F&& f) {
    const auto big = [&](auto tt) {
        if (t.vpt == 3)
            f(tt, IntC<3>{});
        else
            f(tt, IntC<4>{});
    };
    switch (t.tt) {
    case 32:
        switch (t.vpt) {
        case 1: f(IntC<32>{}, IntC<1>{}); return;
        case 2: f(IntC<32>{}, IntC<2>{}); return;
        case 3: f(IntC<32>{}, IntC<3>{}); return;
        default: f(IntC<32>{}, IntC<4>{}); return;
        }
    case 64: big(IntC<64>{}); return;
    case 128: big(IntC<128>{}); return;
    case 256: big(IntC<256>{}); return;
    default: big(IntC<512>{}); return;
    }
}

// The main path's team for [*, h] rows of T at these addresses, or {0, 0} (the fallback).
template <typename T>
TeamShape vector_team(int h, std::initializer_list<const void*> ptrs) {
    if (h % kVec<T> != 0) return {};
    for (const void* p : ptrs)
        if (p && !is_aligned16(p)) return {};
    return team_shape(h / kVec<T>);
}

template <typename T, bool PF = kPrefetch>
void launch_norm_fwd(Context& ctx, TeamShape shape, const T* x, const T* gamma, const T* beta, T* y, float* mean, float* rstd,
                     int rows, int h, float eps, bool layernorm) {
    with_team(shape, [&](auto tt, auto vpt) {
        constexpr int TT = decltype(tt)::value, VPT = decltype(vpt)::value, BT = team_block<TT>(), NT = BT / TT;
        constexpr bool P = PF && TT <= 256;  // 512-thread blocks have 128 registers a thread: no room
        const unsigned want = static_cast<unsigned>((rows + NT - 1) / NT);
        const unsigned grid = std::min(want, resident_grid<norm_fwd_kernel<T, TT, VPT, P>>(BT));
        norm_fwd_kernel<T, TT, VPT, P><<<grid, BT, 0, ctx.stream()>>>(x, gamma, beta, y, mean, rstd, rows, h, eps, layernorm);
        LLMPLAN_CHECK_LAUNCH();
    });
}

// dx (nullable) and, when dst0 or dst1 is set, dst0 += Σ dy·x̂ and dst1 += Σ dy (LayerNorm only).
template <typename T, typename G, bool PF = kPrefetch>
void launch_norm_bwd(Context& ctx, TeamShape shape, const T* x, const T* gamma, const float* mean, const float* rstd,
                     const T* dy, T* dx, G* dst0, G* dst1, int rows, int h, bool layernorm) {
    with_team(shape, [&](auto tt, auto vpt) {
        constexpr int TT = decltype(tt)::value, VPT = decltype(vpt)::value, BT = team_block<TT>(), NT = BT / TT;
        constexpr bool P = PF && TT <= 256;  // 512-thread blocks have 128 registers a thread: no room
        const unsigned want = static_cast<unsigned>((rows + NT - 1) / NT);
        const unsigned grid = std::min(want, resident_grid<norm_bwd_kernel<T, TT, VPT, P>>(BT));
        const bool params = dst0 || dst1;
        float* partial =
            params ? static_cast<float*>(ctx.scratch(sizeof(float) * 2 * static_cast<std::size_t>(grid) * h)) : nullptr;
        norm_bwd_kernel<T, TT, VPT, P><<<grid, BT, 0, ctx.stream()>>>(x, gamma, mean, rstd, dy, dx, partial, rows, h,
                                                                   layernorm);
        LLMPLAN_CHECK_LAUNCH();
        if (!params) return;
        cudaLaunchConfig_t cfg{};
        cfg.gridDim = dim3(static_cast<unsigned>((h + 31) / 32), layernorm ? 2u : 1u);
        cfg.blockDim = dim3(32, kFinishRows);
        cfg.stream = ctx.stream();
        cudaLaunchAttribute attr[1];
        attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;  // overlap its launch with the row kernel
        attr[0].val.programmaticStreamSerializationAllowed = 1;
        cfg.attrs = attr;
        cfg.numAttrs = 1;
        LLMPLAN_CUDA_CHECK(cudaLaunchKernelEx(&cfg, norm_param_finish_kernel<G>, static_cast<const float*>(partial),
                                              static_cast<int>(grid), h, dst0, layernorm ? dst1 : static_cast<G*>(nullptr)));
    });
}

// --- fallback: one block per row -------------------------------------------------------------------

template <typename T>
__global__ void __launch_bounds__(kNormThreads) layernorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                     const T* __restrict__ beta, T* __restrict__ y,
                                                                     float* __restrict__ mean, float* __restrict__ rstd,
                                                                     int h, float eps) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    float s = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) s += to_float(xr[i]);
    const float m = block_sum(s, sh) / static_cast<float>(h);
    float v = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float d = to_float(xr[i]) - m;
        v += d * d;
    }
    const float r = rsqrtf(block_sum(v, sh) / static_cast<float>(h) + eps);
    T* yr = y + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float b = beta ? to_float(beta[i]) : 0.0f;
        yr[i] = from_float<T>((to_float(xr[i]) - m) * r * to_float(gamma[i]) + b);
    }
    if (threadIdx.x == 0) {
        if (mean) mean[row] = m;
        if (rstd) rstd[row] = r;
    }
}

template <typename T>
__global__ void __launch_bounds__(kNormThreads) layernorm_bwd_dx_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                        const float* __restrict__ mean,
                                                                        const float* __restrict__ rstd,
                                                                        const T* __restrict__ dy, T* __restrict__ dx, int h) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    const T* dyr = dy + row * h;
    const float m = mean[row], r = rstd[row];
    float s1 = 0.0f, s2 = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float g = to_float(dyr[i]) * to_float(gamma[i]);
        s1 += g;
        s2 += g * (to_float(xr[i]) - m) * r;
    }
    const float mean_g = block_sum(s1, sh) / static_cast<float>(h);
    const float mean_gx = block_sum(s2, sh) / static_cast<float>(h);
    T* dxr = dx + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float g = to_float(dyr[i]) * to_float(gamma[i]);
        const float xh = (to_float(xr[i]) - m) * r;
        dxr[i] = from_float<T>(r * (g - mean_g - xh * mean_gx));
    }
}

template <typename T>
struct LayerNormParamGrad {  // acc[0] += dy·x̂ (dgamma), acc[1] += dy (dbeta)
    const T* x;
    const T* dy;
    const float* mean;
    const float* rstd;
    int h;
    __device__ void operator()(int t, int j, float (&acc)[2]) const {
        const std::size_t i = static_cast<std::size_t>(t) * h + j;
        const float g = to_float(dy[i]);
        acc[0] += g * (to_float(x[i]) - mean[t]) * rstd[t];
        acc[1] += g;
    }
};

template <typename T>
__global__ void __launch_bounds__(kNormThreads) rmsnorm_fwd_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                   T* __restrict__ y, float* __restrict__ rstd, int h,
                                                                   float eps) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    float s = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) {
        const float v = to_float(xr[i]);
        s += v * v;
    }
    const float r = rsqrtf(block_sum(s, sh) / static_cast<float>(h) + eps);
    T* yr = y + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x) yr[i] = from_float<T>(to_float(xr[i]) * r * to_float(gamma[i]));
    if (threadIdx.x == 0 && rstd) rstd[row] = r;
}

template <typename T>
__global__ void __launch_bounds__(kNormThreads) rmsnorm_bwd_dx_kernel(const T* __restrict__ x, const T* __restrict__ gamma,
                                                                      const float* __restrict__ rstd,
                                                                      const T* __restrict__ dy, T* __restrict__ dx, int h) {
    __shared__ float sh[32];
    const std::size_t row = blockIdx.x;
    const T* xr = x + row * h;
    const T* dyr = dy + row * h;
    const float r = rstd[row];
    float s = 0.0f;
    for (int i = threadIdx.x; i < h; i += blockDim.x) s += to_float(dyr[i]) * to_float(gamma[i]) * to_float(xr[i]);
    const float mean_s = block_sum(s, sh) / static_cast<float>(h);
    const float r3 = r * r * r;
    T* dxr = dx + row * h;
    for (int i = threadIdx.x; i < h; i += blockDim.x)
        dxr[i] = from_float<T>(r * to_float(gamma[i]) * to_float(dyr[i]) - to_float(xr[i]) * r3 * mean_s);
}

template <typename T>
struct RmsNormParamGrad {  // acc[0] += dy·x·rstd (dgamma)
    const T* x;
    const T* dy;
    const float* rstd;
    int h;
    __device__ void operator()(int t, int j, float (&acc)[1]) const {
        const std::size_t i = static_cast<std::size_t>(t) * h + j;
        acc[0] += to_float(dy[i]) * to_float(x[i]) * rstd[t];
    }
};

void check_shape(int T, int h, const char* what) {
    if (T <= 0 || h <= 0) throw std::invalid_argument(std::string("llmplan kernels: ") + what + ": T and h must be positive");
}

}  // namespace

void layernorm_forward(Context& ctx, const void* x, const void* gamma, const void* beta, void* y, float* mean, float* rstd,
                       int T, int h, float eps, DType dt) {
    check_shape(T, h, "layernorm_forward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        const TeamShape shape = vector_team<T_>(h, {x, gamma, beta, y});
        if (shape.tt) {
            launch_norm_fwd<T_>(ctx, shape, static_cast<const T_*>(x), static_cast<const T_*>(gamma),
                                static_cast<const T_*>(beta), static_cast<T_*>(y), mean, rstd, T, h, eps, true);
            return;
        }
        layernorm_fwd_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
            static_cast<const T_*>(x), static_cast<const T_*>(gamma), static_cast<const T_*>(beta), static_cast<T_*>(y),
            mean, rstd, h, eps);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void layernorm_backward(Context& ctx, const void* x, const void* gamma, const float* mean, const float* rstd, const void* dy,
                        void* dx, void* dgamma, void* dbeta, int T, int h, DType dt, DType grad_dt) {
    check_shape(T, h, "layernorm_backward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        const TeamShape shape = vector_team<T_>(h, {x, gamma, dy, dx});
        if (shape.tt) {
            if (dgamma || dbeta) {
                dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                    using G = decltype(gtag);
                    launch_norm_bwd<T_, G>(ctx, shape, static_cast<const T_*>(x), static_cast<const T_*>(gamma), mean, rstd,
                                           static_cast<const T_*>(dy), static_cast<T_*>(dx), static_cast<G*>(dgamma),
                                           static_cast<G*>(dbeta), T, h, true);
                });
            } else if (dx) {
                launch_norm_bwd<T_, float>(ctx, shape, static_cast<const T_*>(x), static_cast<const T_*>(gamma), mean, rstd,
                                           static_cast<const T_*>(dy), static_cast<T_*>(dx), nullptr, nullptr, T, h, true);
            }
            return;
        }
        if (dx) {
            layernorm_bwd_dx_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
                static_cast<const T_*>(x), static_cast<const T_*>(gamma), mean, rstd, static_cast<const T_*>(dy),
                static_cast<T_*>(dx), h);
            LLMPLAN_CHECK_LAUNCH();
        }
        if (dgamma || dbeta) {
            dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                using G = decltype(gtag);
                const LayerNormParamGrad<T_> f{static_cast<const T_*>(x), static_cast<const T_*>(dy), mean, rstd, h};
                if (dgamma) {
                    column_reduce<2, G>(ctx, f, static_cast<G*>(dgamma), static_cast<G*>(dbeta), T, h);
                } else {
                    column_reduce<1, G>(ctx, ColumnValue<T_>{static_cast<const T_*>(dy), h}, static_cast<G*>(dbeta), nullptr, T,
                                        h);
                }
            });
        }
    });
}

void rmsnorm_forward(Context& ctx, const void* x, const void* gamma, void* y, float* rstd, int T, int h, float eps,
                     DType dt) {
    check_shape(T, h, "rmsnorm_forward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        const TeamShape shape = vector_team<T_>(h, {x, gamma, y});
        if (shape.tt) {
            launch_norm_fwd<T_>(ctx, shape, static_cast<const T_*>(x), static_cast<const T_*>(gamma), nullptr,
                                static_cast<T_*>(y), nullptr, rstd, T, h, eps, false);
            return;
        }
        rmsnorm_fwd_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
            static_cast<const T_*>(x), static_cast<const T_*>(gamma), static_cast<T_*>(y), rstd, h, eps);
        LLMPLAN_CHECK_LAUNCH();
    });
}

void rmsnorm_backward(Context& ctx, const void* x, const void* gamma, const float* rstd, const void* dy, void* dx,
                      void* dgamma, int T, int h, DType dt, DType grad_dt) {
    check_shape(T, h, "rmsnorm_backward");
    dispatch(dt, [&](auto tag) {
        using T_ = decltype(tag);
        const TeamShape shape = vector_team<T_>(h, {x, gamma, dy, dx});
        if (shape.tt) {
            if (dgamma) {
                dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                    using G = decltype(gtag);
                    launch_norm_bwd<T_, G>(ctx, shape, static_cast<const T_*>(x), static_cast<const T_*>(gamma), nullptr,
                                           rstd, static_cast<const T_*>(dy), static_cast<T_*>(dx), static_cast<G*>(dgamma),
                                           nullptr, T, h, false);
                });
            } else if (dx) {
                launch_norm_bwd<T_, float>(ctx, shape, static_cast<const T_*>(x), static_cast<const T_*>(gamma), nullptr,
                                           rstd, static_cast<const T_*>(dy), static_cast<T_*>(dx), nullptr, nullptr, T, h,
                                           false);
            }
            return;
        }
        if (dx) {
            rmsnorm_bwd_dx_kernel<T_><<<static_cast<unsigned>(T), kNormThreads, 0, ctx.stream()>>>(
                static_cast<const T_*>(x), static_cast<const T_*>(gamma), rstd, static_cast<const T_*>(dy),
                static_cast<T_*>(dx), h);
            LLMPLAN_CHECK_LAUNCH();
        }
        if (dgamma) {
            dispatch_grad<T_>(dt, grad_dt, [&](auto gtag) {
                using G = decltype(gtag);
                column_reduce<1, G>(ctx, RmsNormParamGrad<T_>{static_cast<const T_*>(x), static_cast<const T_*>(dy), rstd, h},
                                    static_cast<G*>(dgamma), nullptr, T, h);
            });
        }
    });
}

}  // namespace llmplan::kernels::cuda
