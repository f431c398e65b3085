// checked.h — 64-bit integer products of counts that come from input (batch × sequence, ...):
// an overflow is reported to the caller, which refuses the input in one line, never wrapped
// into a negative count (docs/RELIABILITY.md, "Ranges").
#pragma once

#include <cstdint>
#include <optional>

namespace llmplan {

// a × b, or nothing where the product leaves int64.
inline std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
    std::int64_t out = 0;
    if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
    return out;
}

}  // namespace llmplan
