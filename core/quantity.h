// quantity.h — parsing and printing of the numbers users type: parameter and token counts (7B),
// byte sizes (80GiB), FLOP budgets (5.76e23), bounded integers and reals.
//
// Every parser takes the flag the text came from and throws InputError with a one-line message
// that names the flag, quotes the text as given and says what was expected, e.g.
//   --gpu-memory: "80G" is ambiguous (write 80GB for 10^9 bytes or 80GiB for 2^30 bytes)
// Parsing and printing are locale-independent (std::from_chars / std::to_chars).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmplan {

// A positive count such as "7B", "124M", "1.1e9", "70b", "1.5k", "2T", "1000", rounded to the
// nearest integer. Suffixes (case-insensitive, optionally after spaces): K = 1e3, M = 1e6,
// B or G = 1e9, T = 1e12. Surrounding whitespace is ignored. Rejects empty text, anything else
// after the number ("7Q", "7BB", "1_000"), no leading number ("B7"), negatives, values that round
// to 0, NaN and infinity, and anything above 1e18.
std::int64_t parse_count(std::string_view text, std::string_view flag);

// A positive size in bytes: "80GB" (80e9), "80GiB" (80 * 2^30), "512MiB", "1.5TB", "24 GB",
// "1024", "1024B". Units KB KiB MB MiB GB GiB TB TiB, any letter case. A bare prefix ("80G",
// "80M") is rejected as ambiguous. Finite and at most 1e18.
double parse_bytes(std::string_view text, std::string_view flag);

// A positive FLOP count: "5.76e23", "1e24", "3.14e23 FLOPs", "100P" (1e17), "1.5E" (1.5e18).
// Optional SI prefix K M G T P E (1e3 .. 1e18, any case) then optional "FLOP"/"FLOPs" (any case).
// An 'e' followed by digits is an exponent; a trailing 'E' alone is exa. Finite and at most 1e40.
double parse_flops(std::string_view text, std::string_view flag);

// A positive bandwidth in bytes/s: "400GB/s" (4e11), "3.2Tb/s" (bits: 4e11 bytes/s), "25 GB/s",
// "8x400Gb/s" (a count times a rate: 4e11 bytes/s). Units (case of the prefix free, B = bytes,
// b = bits): B/s KB/s MB/s GB/s TB/s, b/s Kb/s Mb/s Gb/s Tb/s; decimal prefixes. Finite, at most 1e18.
double parse_bandwidth(std::string_view text, std::string_view flag);

// A decimal integer in [min, max]; surrounding whitespace is ignored. Messages name the range
// ("must be between 0 and 3"), or say "must be a positive integer" when min is 1 and max is at
// least 2^20.
std::int64_t parse_int(std::string_view text, std::string_view flag, std::int64_t min, std::int64_t max);

// A finite decimal number ("0.1", "1e-3", "-2") in [min, max]; surrounding whitespace is ignored.
// "-0" reads as 0.
double parse_real(std::string_view text, std::string_view flag, double min, double max);

// The price of one GPU-hour in US dollars, at most kMaxPricePerGpuHour; 0 is hardware already paid
// for. One range for --price-per-gpu-hour, a --cluster file's "price_per_gpu_hour" and the GUI's
// price field (gui/scenario.cpp); `scaling --budget` divides by it and so takes it from 1e-9.
inline constexpr double kMaxPricePerGpuHour = 1e6;
inline double parse_price_per_gpu_hour(std::string_view text, std::string_view flag = "--price-per-gpu-hour") {
    return parse_real(text, flag, 0, kMaxPricePerGpuHour);
}

// Printing. Every number the CLI prints goes through one of the format_* functions below (or
// json_report_text, core/json.h, for JSON): a NaN or an infinity reaching one is an llmplan bug and
// throws std::logic_error naming the formatter (docs/RELIABILITY.md, "Finite outputs"), so that a
// test catches it instead of a user reading "inf days"; and zero never prints as "-0" (a value that
// rounds to zero prints without a sign).

// x with `decimals` digits after the point (0..20): format_fixed(2.345, 1) -> "2.3", format_fixed(-0.001, 2) -> "0.00".
std::string format_fixed(double v, int decimals);

// How byte sizes are printed: GiB = 2^30 bytes, GB = 10^9 bytes.
enum class ByteUnit { gib, gb };

// "12.34 GiB" / "13.25 GB": always in GiB or GB, with `decimals` digits after the point.
std::string format_bytes(double bytes, ByteUnit unit = ByteUnit::gib, int decimals = 2);

// Three significant digits with a K/M/B/T suffix, trailing zeros trimmed:
// 6738415616 -> "6.74B", 124439808 -> "124M", 46702792704 -> "46.7B", 1.1e12 -> "1.1T", 950 -> "950".
std::string format_count(double n);

// Scientific notation with `digits` significant digits: format_sci(5.76e23) -> "5.76e+23",
// format_sci(1e24) -> "1.00e+24".
std::string format_sci(double v, int digits = 3);

}  // namespace llmplan
