// init.h — the engine's initial weights, the same on every device from the same seed: the CPU
// reference (reference/model.cpp) writes them into its parameter buffer, the CUDA engine
// (kernels/cuda/engine.cu) computes them on the host and uploads them, so both start from the
// same bits (tests/gpu_engine.cpp compares them). Header-only, plain C++20: nvcc includes it too.
//   matrices   N(0, init_std²), by Box–Muller from splitmix64 uniforms in layout order (GPT-2's
//              initialisation, without its residual scaling), large ones on several threads with
//              the same bits;
//   norms      weights 1, biases 0;   other vectors (biases)   0.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <thread>
#include <vector>

namespace llmplan {

// splitmix64 (Steele, Lea and Flood 2014, "Fast splittable pseudorandom number generators"): a
// tiny generator with the same output on every platform. Its k-th value (k = 1, 2, …) is a mix of
// seed + k·γ alone, so a stream can be entered at any position: SplitMix64{seed + n·γ} continues
// after n values (the paper's §2; what lets the matrices below be filled by several threads).
struct SplitMix64 {
    static constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ULL;
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += kGamma);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() { return (static_cast<double>(next() >> 11) + 1.0) * (1.0 / 9007199254740992.0); }  // (0, 1]
};

// w[0, n) = N(0, std²) by Box–Muller, two normals per pair of uniforms, from the stream at `state`
// (the pair at i draws the stream's values i and i + 1).
inline void engine_normals(float* w, std::size_t n, std::uint64_t state, float init_std) {
    constexpr double two_pi = 6.283185307179586;
    SplitMix64 rng{state};
    for (std::size_t i = 0; i < n; i += 2) {
        const double r = std::sqrt(-2.0 * std::log(rng.uniform())), a = two_pi * rng.uniform();
        w[i] = static_cast<float>(init_std * r * std::cos(a));
        if (i + 1 < n) w[i + 1] = static_cast<float>(init_std * r * std::sin(a));
    }
}

// Fills `weights` (the flat buffer of `layout`'s elements: .name, .offset, .size, .rows, .cols).
// The matrices draw one splitmix64 stream in layout order (each value pair one normal pair); a
// large matrix is split into chunks of whole pairs, each entered at its own position of the
// stream and filled on its own thread, so the bits do not depend on the thread count (a 3.4B
// model's 13.7 GB of fp32 weights took ~45 s on one core).
template <class Layout>
void engine_initial_weights(const Layout& layout, std::uint64_t seed, float init_std, float* weights) {
    constexpr std::size_t kChunk = std::size_t{1} << 22;  // values per thread's chunk (even)
    const std::size_t threads = std::max<std::size_t>(1, std::min<std::size_t>(std::thread::hardware_concurrency(), 32));
    std::uint64_t drawn = 0;  // stream values drawn before the current matrix
    for (const auto& p : layout) {
        float* w = weights + p.offset;
        const std::string_view name = p.name;
        const bool is_bias = name.ends_with(".bias");
        const bool is_norm = name.find("norm") != std::string_view::npos;
        if (p.rows > 1 && p.cols > 1) {
            const std::size_t chunks = (p.size + kChunk - 1) / kChunk;
            auto fill = [&, drawn](std::size_t c) {
                const std::size_t begin = c * kChunk, n = std::min(kChunk, p.size - begin);
                engine_normals(w + begin, n, seed + (drawn + begin) * SplitMix64::kGamma, init_std);
            };
            if (chunks < 2 || threads < 2) {
                for (std::size_t c = 0; c < chunks; ++c) fill(c);
            } else {
                std::vector<std::thread> pool;
                std::atomic<std::size_t> next{0};
                for (std::size_t t = 0; t < std::min(threads, chunks); ++t)
                    pool.emplace_back([&] {
                        for (std::size_t c = next++; c < chunks; c = next++) fill(c);
                    });
                for (std::thread& t : pool) t.join();
            }
            drawn += p.size + p.size % 2;  // an odd size still draws a whole last pair
        } else {
            const float value = is_norm && !is_bias ? 1.0f : 0.0f;
            for (std::size_t i = 0; i < p.size; ++i) w[i] = value;
        }
    }
}

}  // namespace llmplan
