// quantity.cpp — parsing and printing of counts, byte sizes, FLOP budgets and bounded numbers
// (see quantity.h). All number conversion goes through std::from_chars / std::to_chars so that
// results do not depend on the C locale.
#include "core/quantity.h"

#include "core/error.h"
#include "core/text.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace llmplan {

namespace {

constexpr double kMaxCount = 1e18;
constexpr double kMaxBytes = 1e18;
constexpr double kMaxFlops = 1e40;

// flag: "text" tail
[[noreturn]] void fail(std::string_view flag, std::string_view text, const std::string& tail) {
    throw InputError(std::string(flag) + ": \"" + std::string(text) + "\" " + tail);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "nan", "inf", "infinity" with an optional sign, any case.
bool is_non_finite_word(std::string_view t) {
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
    const std::string w = to_lower(t);
    return w == "nan" || w == "inf" || w == "infinity";
}

// The number at the start of a string: optional '-', digits with an optional '.', then an exponent
// only where 'e'/'E' is followed by (a sign and) at least one digit, so that the 'E' of "1.5E" is
// left over as a suffix.
struct Scanned {
    bool ok = false;        // a number was found
    bool overflow = false;  // beyond the range of double (the value is then meaningless)
    double value = 0;       // 0 on underflow
    std::size_t length = 0; // characters consumed
};

Scanned scan_number(std::string_view s) {
    Scanned r;
    std::size_t i = 0;
    if (i < s.size() && s[i] == '-') ++i;
    std::size_t digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && is_digit(s[i])) ++i, ++digits;
    }
    if (digits == 0) return r;
    bool negative_exponent = false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        std::size_t j = i + 1;
        if (j < s.size() && (s[j] == '+' || s[j] == '-')) negative_exponent = s[j] == '-', ++j;
        if (j < s.size() && is_digit(s[j])) {
            while (j < s.size() && is_digit(s[j])) ++j;
            i = j;
        } else {
            negative_exponent = false;
        }
    }
    const char* first = s.data();
    const char* last = s.data() + i;
    const auto [end, ec] = std::from_chars(first, last, r.value, std::chars_format::general);
    if (ec == std::errc::result_out_of_range) {
        // from_chars leaves the value alone; an exponent of -400 underflows, anything else overflows.
        r.value = 0;
        r.overflow = !negative_exponent;
    } else if (ec != std::errc() || end != last) {
        return r;
    }
    r.ok = true;
    r.length = i;
    return r;
}

std::string shortest(double v) {
    std::array<char, 64> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return std::string(buf.data(), res.ptr);
}

std::string count_noun(std::string_view flag) {
    const std::string f = to_lower(flag);
    if (f.find("param") != std::string::npos) return "parameter count";
    if (f.find("token") != std::string::npos) return "token count";
    return "count";
}

}  // namespace

std::int64_t parse_count(std::string_view text, std::string_view flag) {
    const std::string noun = count_noun(flag);
    const std::string t = trim(text);
    if (is_non_finite_word(t)) fail(flag, text, "is not a " + noun + " (expected a finite number such as 7B)");
    const Scanned num = scan_number(t);
    if (!num.ok) fail(flag, text, "is not a " + noun + " (expected a number with an optional K, M, B or T suffix, e.g. 7B)");

    const std::string suffix = trim(std::string_view(t).substr(num.length));
    double multiplier = 1;
    if (!suffix.empty()) {
        const std::string s = to_lower(suffix);
        if (s == "k") multiplier = 1e3;
        else if (s == "m") multiplier = 1e6;
        else if (s == "b" || s == "g") multiplier = 1e9;
        else if (s == "t") multiplier = 1e12;
        else fail(flag, text, "is not a " + noun + " (unknown suffix \"" + suffix + "\"; use K, M, B or T, e.g. 7B)");
    }
    if (t[0] == '-') fail(flag, text, "must be a positive " + noun);
    if (num.overflow || num.value * multiplier > kMaxCount) fail(flag, text, "is too large (at most 1e18)");
    if (num.value == 0) fail(flag, text, "must be a positive " + noun);
    const double rounded = std::round(num.value * multiplier);
    if (rounded < 1) fail(flag, text, "rounds to 0; a " + noun + " must be at least 1");
    return static_cast<std::int64_t>(rounded);
}

double parse_bytes(std::string_view text, std::string_view flag) {
    const std::string t = trim(text);
    if (is_non_finite_word(t)) fail(flag, text, "is not a size in bytes (expected a finite number and a unit such as 80GB or 80GiB)");
    const Scanned num = scan_number(t);
    if (!num.ok) fail(flag, text, "is not a size in bytes (expected a number and a unit such as 80GB or 80GiB)");

    const std::string number(std::string_view(t).substr(0, num.length));
    const std::string unit = trim(std::string_view(t).substr(num.length));
    const std::string u = to_lower(unit);
    double multiplier = 1;
    if (!u.empty() && u != "b") {
        static constexpr std::string_view kPrefixes = "kmgt";
        const std::size_t power = kPrefixes.find(u[0]);  // 0 for K ... 3 for T
        const std::string rest = u.substr(1);
        const int exponent = static_cast<int>(power) + 1;
        if (power == std::string_view::npos || (rest != "" && rest != "b" && rest != "ib"))
            fail(flag, text,
                 "is not a size in bytes (unknown unit \"" + unit +
                     "\"; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 80GiB)");
        if (rest.empty()) {
            const std::string p(1, static_cast<char>(u[0] - 'a' + 'A'));
            const std::string e = std::to_string(3 * exponent), e2 = std::to_string(10 * exponent);
            fail(flag, text,
                 "is ambiguous (write " + number + p + "B for 10^" + e + " bytes or " + number + p + "iB for 2^" + e2 +
                     " bytes)");
        }
        multiplier = rest == "b" ? std::pow(1000.0, exponent) : std::pow(1024.0, exponent);
    }
    if (t[0] == '-') fail(flag, text, "must be a positive size");
    const double bytes = num.value * multiplier;
    if (num.overflow || bytes > kMaxBytes) fail(flag, text, "is too large (at most 1e18 bytes)");
    if (bytes == 0) fail(flag, text, "must be a positive size");
    return bytes;
}

double parse_bandwidth(std::string_view text, std::string_view flag) {
    std::string t = trim(text);
    const std::string expected = "is not a bandwidth (expected e.g. 400GB/s, 3.2Tb/s or 8x400Gb/s)";
    if (is_non_finite_word(t)) fail(flag, text, expected);
    double count = 1;
    // "8x400Gb/s": a count, then x, * or × (U+00D7: two bytes in UTF-8, found as a whole, so a
    // stray byte of it is not taken for it), then the rate.
    constexpr std::string_view kTimes = "×";
    std::size_t x = t.find_first_of("x*"), width = 1;
    if (const std::size_t times = t.find(kTimes); times < x) x = times, width = kTimes.size();
    if (x != std::string::npos && x > 0) {
        const std::string head = trim(std::string_view(t).substr(0, x));
        const Scanned c = scan_number(head);
        if (c.ok && c.length == head.size()) {
            count = c.value;
            t = trim(std::string_view(t).substr(x + width));
        }
    }
    const Scanned num = scan_number(t);
    if (!num.ok) fail(flag, text, expected);
    std::string unit = trim(std::string_view(t).substr(num.length));
    if (unit.size() < 3 || unit.substr(unit.size() - 2) != "/s") fail(flag, text, expected);
    unit = unit.substr(0, unit.size() - 2);
    const char kind = unit.back();  // 'B' bytes or 'b' bits
    if (kind != 'B' && kind != 'b') fail(flag, text, expected);
    const std::string prefix = to_lower(unit.substr(0, unit.size() - 1));
    static constexpr std::string_view kPrefixes = "kmgt";
    double multiplier = 1;
    if (!prefix.empty()) {
        const std::size_t power = kPrefixes.find(prefix[0]);
        if (prefix.size() != 1 || power == std::string_view::npos) fail(flag, text, expected);
        multiplier = std::pow(1000.0, static_cast<double>(power + 1));
    }
    if (t[0] == '-' || count <= 0) fail(flag, text, "must be a positive bandwidth");
    const double bytes = count * num.value * multiplier / (kind == 'b' ? 8 : 1);
    if (num.overflow || bytes > kMaxBytes) fail(flag, text, "is too large (at most 1e18 bytes/s)");
    if (bytes == 0) fail(flag, text, "must be a positive bandwidth");
    return bytes;
}

double parse_flops(std::string_view text, std::string_view flag) {
    const std::string t = trim(text);
    if (is_non_finite_word(t)) fail(flag, text, "is not a FLOP count (expected a finite number such as 5.76e23)");
    const Scanned num = scan_number(t);
    if (!num.ok) fail(flag, text, "is not a FLOP count (expected a number such as 5.76e23, 100P or 1.5E FLOPs)");

    const std::string suffix = trim(std::string_view(t).substr(num.length));
    std::string s = to_lower(suffix);
    for (std::string_view word : {std::string_view("flops"), std::string_view("flop")}) {
        if (s.size() >= word.size() && s.compare(s.size() - word.size(), word.size(), word) == 0) {
            s = trim(std::string_view(s).substr(0, s.size() - word.size()));
            break;
        }
    }
    double multiplier = 1;
    if (!s.empty()) {
        static constexpr std::string_view kPrefixes = "kmgtpe";
        const std::size_t power = s.size() == 1 ? kPrefixes.find(s[0]) : std::string_view::npos;
        if (power == std::string_view::npos)
            fail(flag, text,
                 "is not a FLOP count (unknown suffix \"" + suffix +
                     "\"; use K, M, G, T, P or E, optionally followed by FLOPs, e.g. 5.76e23 or 100P)");
        multiplier = std::pow(1000.0, static_cast<double>(power) + 1);
    }
    if (t[0] == '-') fail(flag, text, "must be a positive FLOP count");
    const double flops = num.value * multiplier;
    if (num.overflow || flops > kMaxFlops) fail(flag, text, "is too large (at most 1e40)");
    if (flops == 0) fail(flag, text, "must be a positive FLOP count");
    return flops;
}

std::int64_t parse_int(std::string_view text, std::string_view flag, std::int64_t min, std::int64_t max) {
    const bool positive_only = min == 1 && max >= (std::int64_t{1} << 20);
    const std::string range = "between " + format_int(min) + " and " + format_int(max);
    const std::string t = trim(text);
    std::int64_t value = 0;
    const char* first = t.data();
    const char* last = t.data() + t.size();
    const auto [end, ec] = std::from_chars(first, last, value);
    if (t.empty() || end != last || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        if (positive_only) fail(flag, text, "must be a positive integer");
        fail(flag, text, "is not an integer (expected a whole number " + range + ")");
    }
    const bool below = ec == std::errc::result_out_of_range ? t[0] == '-' : value < min;
    const bool above = ec == std::errc::result_out_of_range ? t[0] != '-' : value > max;
    if (positive_only && below) fail(flag, text, "must be a positive integer");
    if (positive_only && above) fail(flag, text, "must be a positive integer no larger than " + format_int(max));
    if (below || above) fail(flag, text, "must be " + range);
    return value;
}

double parse_real(std::string_view text, std::string_view flag, double min, double max) {
    const std::string range = "between " + shortest(min) + " and " + shortest(max);
    const std::string t = trim(text);
    if (is_non_finite_word(t)) fail(flag, text, "is not a finite number (expected a value " + range + ")");
    const Scanned num = scan_number(t);
    if (!num.ok || num.length != t.size()) fail(flag, text, "is not a number (expected a value " + range + ")");
    const double v = num.overflow ? (t[0] == '-' ? -HUGE_VAL : HUGE_VAL) : num.value;
    if (!(v >= min && v <= max)) fail(flag, text, "must be " + range);
    return v == 0 ? 0.0 : v;  // "-0" is zero, and never prints as "$-0"
}

namespace {

// The value a formatter may print: finite (else an llmplan bug, std::logic_error), zero unsigned.
double printable(double v, const char* formatter) {
    if (!std::isfinite(v))
        throw std::logic_error(std::string(formatter) + ": asked to print " + (std::isnan(v) ? "NaN" : "an infinity") +
                               " (an llmplan bug: every printed number must be finite)");
    return v == 0 ? 0.0 : v;  // -0 becomes 0
}

// "-0.00" -> "0.00": a negative value that rounded to zero prints without its sign.
std::string unsigned_zero(std::string s) {
    if (!s.empty() && s[0] == '-' && s.find_first_of("123456789", 1) == std::string::npos) s.erase(0, 1);
    return s;
}

std::string fixed_text(double v, int decimals) {
    decimals = std::clamp(decimals, 0, 20);
    std::array<char, 512> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, decimals);
    return unsigned_zero(std::string(buf.data(), res.ptr));
}

}  // namespace

std::string format_fixed(double v, int decimals) { return fixed_text(printable(v, "format_fixed"), decimals); }

std::string format_bytes(double bytes, ByteUnit unit, int decimals) {
    bytes = printable(bytes, "format_bytes");
    const double scaled = unit == ByteUnit::gib ? bytes / 1073741824.0 : bytes / 1e9;
    return fixed_text(scaled, decimals) + (unit == ByteUnit::gib ? " GiB" : " GB");
}

std::string format_count(double n) {
    n = printable(n, "format_count");
    if (n < 0) {  // (not "-" + ...: GCC 12 -O3 reports a false -Wrestrict on that)
        std::string out = format_count(-n);
        out.insert(out.begin(), '-');
        return out;
    }
    std::array<char, 512> buf{};
    // Round to three significant digits first, so that 999,999 becomes 1M rather than 1000K.
    auto res = std::to_chars(buf.data(), buf.data() + buf.size(), n, std::chars_format::scientific, 2);
    double r = n;
    std::from_chars(buf.data(), res.ptr, r);

    static constexpr std::array<std::pair<double, const char*>, 4> kScales{
        {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}}};
    for (const auto& [scale, suffix] : kScales) {
        if (r < scale) continue;
        const double scaled = r / scale;
        const int decimals = scaled >= 100 ? 0 : scaled >= 10 ? 1 : 2;
        res = std::to_chars(buf.data(), buf.data() + buf.size(), scaled, std::chars_format::fixed, decimals);
        std::string s(buf.data(), res.ptr);
        if (s.find('.') != std::string::npos) {
            while (s.back() == '0') s.pop_back();
            if (s.back() == '.') s.pop_back();
        }
        return s + suffix;
    }
    res = std::to_chars(buf.data(), buf.data() + buf.size(), r, std::chars_format::general, 3);
    return unsigned_zero(std::string(buf.data(), res.ptr));
}

std::string format_sci(double v, int digits) {
    v = printable(v, "format_sci");
    if (digits < 1) digits = 1;
    if (digits > 17) digits = 17;
    std::array<char, 64> buf{};
    const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::scientific, digits - 1);
    return unsigned_zero(std::string(buf.data(), res.ptr));
}

}  // namespace llmplan
