// init.h — the engine's initial weights, the same on every device from the same seed: the CPU
// reference (reference/model.cpp) writes them into its parameter buffer, the CUDA engine
// (kernels/cuda/engine.cu) computes them on the host and uploads them, so both start from the
// same bits (tests/gpu_engine.cpp compares them). Header-only, plain C++20: nvcc includes it too.
//   matrices   N(0, init_std²), by Box–Muller from splitmix64 uniforms in layout order (GPT-2's
//              initialisation, without its residual scaling);
//   norms      weights 1, biases 0;   other vectors (biases)   0.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace llmplan {

// splitmix64 (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number generators"): a
// tiny generator with the same output on every platform.
struct SplitMix64 {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * (1.0 / 9007199254740992.0); }  // (0, 1]
};

// Fills `weights` (the flat buffer of `layout`'s elements: .name, .offset, .size, .rows, .cols).
template <class Layout>
void engine_initial_weights(const Layout& layout, std::uint64_t seed, float init_std, float* weights) {
    SplitMix64 rng{seed};
    constexpr double two_pi = 6.283185307179586;
    for (const auto& p : layout) {
        float* w = weights + p.offset;
        const std::string_view name = p.name;
        const bool is_bias = name.ends_with(".bias");
        const bool is_norm = name.find("norm") != std::string_view::npos;
        if (p.rows > 1 && p.cols > 1) {
            for (std::size_t i = 0; i < p.size; i += 2) {  // Box–Muller: two normals per pair of uniforms
                const double r = std::sqrt(-2.0 * std::log(rng.uniform())), a = two_pi * rng.uniform();
                w[i] = static_cast<float>(init_std * r * std::cos(a));
                if (i + 1 < p.size) w[i + 1] = static_cast<float>(init_std * r * std::sin(a));
            }
        } else {
            const float value = is_norm && !is_bias ? 1.0f : 0.0f;
            for (std::size_t i = 0; i < p.size; ++i) w[i] = value;
        }
    }
}

}  // namespace llmplan
