// fuzz_quantity.cpp — core/quantity's parsers on any text: the first byte picks the parser, the
// rest is the text. A value that is returned must lie in the range quantity.h promises, and must
// print (format_bytes, format_count, format_sci) without a sanitizer report.
#include "core/quantity.h"
#include "fuzz/fuzz_support.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

using namespace llmplan;
using llmplan::fuzz::accepts;
using llmplan::fuzz::check;

namespace {

void print(double v) {
    (void)format_bytes(v, ByteUnit::gib);
    (void)format_bytes(v, ByteUnit::gb, 0);
    (void)format_count(v);
    (void)format_sci(v);
}

void in_range(double v, double hi, const std::string& text, const char* parser) {
    check(std::isfinite(v) && v > 0 && v <= hi, parser, text);
    print(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string text = fuzz::text_of(data + 1, size - 1);
    switch (data[0] % 8) {
        case 0:
            accepts(text, [&] {
                const std::int64_t n = parse_count(text, "--params");
                check(n >= 1 && n <= 1'000'000'000'000'000'000, "parse_count out of range", text);
                print(static_cast<double>(n));
            });
            break;
        case 1: accepts(text, [&] { in_range(parse_bytes(text, "--gpu-memory"), 1e18, text, "parse_bytes out of range"); }); break;
        case 2: accepts(text, [&] { in_range(parse_flops(text, "--compute"), 1e40, text, "parse_flops out of range"); }); break;
        case 3:
            accepts(text, [&] { in_range(parse_bandwidth(text, "--nvlink-bandwidth"), 1e18, text, "parse_bandwidth out of range"); });
            break;
        case 4:
            accepts(text, [&] {
                const std::int64_t v = parse_int(text, "--zero", 0, 3);
                check(v >= 0 && v <= 3, "parse_int out of [0, 3]", text);
            });
            break;
        case 5:
            accepts(text, [&] {
                constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
                (void)parse_int(text, "--seed", lo, hi);
            });
            break;
        case 6:
            accepts(text, [&] {
                const double v = parse_real(text, "--dropout", 0.0, 0.999);
                check(std::isfinite(v) && v >= 0 && v <= 0.999, "parse_real out of [0, 0.999]", text);
            });
            break;
        default:
            accepts(text, [&] {
                const double lo = -std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::max();
                const double v = parse_real(text, "--x", lo, hi);
                check(std::isfinite(v), "parse_real not finite", text);
            });
            break;
    }
    return 0;
}
