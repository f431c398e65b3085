// elem_bench_optim.cu — part of bench/elem_bench (not built by CMake): compiles the new optim.cu
// here so that the benchmark can force AdamW's vector or one-element path. See elem_bench.cu.
#include "kernels/cuda/optim.cu"

namespace llmplan::kernels::cuda::bench {

void adamw_forced(Context& ctx, float* p, const bf16* g, float* m, float* v, std::size_t n, const AdamWHyper& hy,
                  const float* clip, bf16* copy, bool vectors) {
    AdamWArgs a{};
    a.lr = hy.lr;
    a.beta1 = hy.beta1;
    a.beta2 = hy.beta2;
    a.eps = hy.eps;
    a.keep = static_cast<float>(1.0 - static_cast<double>(hy.lr) * hy.weight_decay);
    a.bc1 = static_cast<float>(1.0 - hy.beta1);
    a.bc2 = static_cast<float>(1.0 - hy.beta2);
    a.grad_scale = 1.0f;
    a.max_grad_norm = 1.0f;
    launch_adamw(ctx, p, g, m, v, n, a, clip, nullptr, copy, vectors);
}

}  // namespace llmplan::kernels::cuda::bench
