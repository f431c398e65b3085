// logits_stride.h — the GPU engine's logits row stride, which the engine (kernels/cuda/engine.cu,
// kernels/cuda/timing.cu) and the planner (planner/llmplan_profile.cpp, planner/engine_time.cpp)
// must agree on. Header-only.
#pragma once

#include <cstdint>

namespace llmplan::dist {

// The logits' row stride in elements. 16-bit storage: V rounded up to a multiple of 64, so that
// every row starts 16-byte aligned and the output layer's GEMMs run on cuBLASLt's TMA kernels
// (kernels/cuda/linear.cu; GPT-2's 50,257 → 50,304, as llm.c pads its vocabulary; measured
// 29.7 → 4.4 ms for the three GEMMs at 16 × 1,024 tokens on an H100, bench/NOTES.md version 1).
// fp32: V (its GEMMs run on CUDA cores and the CPU reference engine's books are T × V).
inline std::int64_t logits_row_stride(std::int64_t vocab, bool sixteen_bit) {
    return sixteen_bit ? (vocab + 63) / 64 * 64 : vocab;
}

}  // namespace llmplan::dist
