// elem_bench_variants.cu — part of bench/elem_bench (not built by CMake): compiles the new
// elementwise.cu and norms.cu in this translation unit, so the benchmark reaches their internal
// variants (unroll depth, row prefetch) besides the public API. See elem_bench.cu.
#include "kernels/cuda/elementwise.cu"
#include "kernels/cuda/norms.cu"

namespace llmplan::kernels::cuda::bench {

template <int U>
void gelu_fwd_u(Context& ctx, const bf16* x, bf16* y, std::size_t n) {
    launch_ew<U>(ctx, EwPtrs<bf16, 1, 1>{{x}, {y}}, n, GeluForward{});
}
template <int U>
void add_u(Context& ctx, const bf16* a, const bf16* b, bf16* y, std::size_t n) {
    launch_ew<U>(ctx, EwPtrs<bf16, 2, 1>{{a, b}, {y}}, n, Add{});
}
template void gelu_fwd_u<1>(Context&, const bf16*, bf16*, std::size_t);
template void gelu_fwd_u<4>(Context&, const bf16*, bf16*, std::size_t);
template void add_u<1>(Context&, const bf16*, const bf16*, bf16*, std::size_t);
template void add_u<4>(Context&, const bf16*, const bf16*, bf16*, std::size_t);

// LayerNorm without the next-row prefetch (bf16, main path only).
void layernorm_fwd_nopf(Context& ctx, const bf16* x, const bf16* g, const bf16* b, bf16* y, float* mean, float* rstd, int T,
                        int h) {
    const TeamShape s = vector_team<bf16>(h, {x, g, b, y});
    launch_norm_fwd<bf16, false>(ctx, s, x, g, b, y, mean, rstd, T, h, 1e-5f, true);
}
void layernorm_bwd_nopf(Context& ctx, const bf16* x, const bf16* g, const float* mean, const float* rstd, const bf16* dy,
                        bf16* dx, bf16* dg, bf16* db, int T, int h) {
    const TeamShape s = vector_team<bf16>(h, {x, g, dy, dx});
    launch_norm_bwd<bf16, bf16, false>(ctx, s, x, g, mean, rstd, dy, dx, dg, db, T, h, true);
}
int norm_team(int h, int bytes) {
    const TeamShape s = bytes == 2 ? team_shape(h / 8) : team_shape(h / 4);
    return s.tt * 10 + s.vpt;
}

}  // namespace llmplan::kernels::cuda::bench
