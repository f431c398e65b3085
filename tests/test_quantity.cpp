// test_quantity.cpp — every accepted form and every rejected form of the number parsers in
// core/quantity, and the exact output of its formatters.
#include "core/error.h"
#include "core/quantity.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace llmplan;

namespace {

constexpr double KiB = 1024.0;
constexpr double MiB = 1024.0 * KiB;
constexpr double GiB = 1024.0 * MiB;
constexpr double TiB = 1024.0 * GiB;

// What every parser error must look like: one line that starts with the flag and the quoted text.
std::string prefix(const std::string& flag, const std::string& text) { return flag + ": \"" + text + "\" "; }

}  // namespace

// ---------------------------------------------------------------------------------------- counts

TEST_CASE("parse_count accepts plain numbers", "[quantity]") {
    CHECK(parse_count("1000", "--params") == 1000);
    CHECK(parse_count("1", "--params") == 1);
    CHECK(parse_count("6738415616", "--params") == 6738415616);
    CHECK(parse_count("1.1e9", "--params") == 1100000000);
    CHECK(parse_count("1E3", "--params") == 1000);
    CHECK(parse_count("2.5e+3", "--params") == 2500);
    CHECK(parse_count("1e18", "--params") == 1000000000000000000);
    CHECK(parse_count("1.", "--params") == 1);
    CHECK(parse_count("0.6", "--params") == 1);  // rounds to nearest
    CHECK(parse_count("2.5", "--params") == 3);  // halves round away from zero
    CHECK(parse_count("1234.4", "--params") == 1234);
}

TEST_CASE("parse_count accepts suffixes", "[quantity]") {
    CHECK(parse_count("7B", "--params") == 7000000000);
    CHECK(parse_count("70b", "--params") == 70000000000);
    CHECK(parse_count("7.5B", "--params") == 7500000000);
    CHECK(parse_count("124M", "--params") == 124000000);
    CHECK(parse_count("124m", "--params") == 124000000);
    CHECK(parse_count("1.5k", "--params") == 1500);
    CHECK(parse_count("1.5K", "--params") == 1500);
    CHECK(parse_count("2T", "--tokens") == 2000000000000);
    CHECK(parse_count("2t", "--tokens") == 2000000000000);
    CHECK(parse_count("7G", "--params") == 7000000000);
    CHECK(parse_count("7g", "--params") == 7000000000);
    CHECK(parse_count(".5K", "--params") == 500);
    CHECK(parse_count("1e3K", "--params") == 1000000);
    CHECK(parse_count("1000000T", "--params") == 1000000000000000000);
    CHECK(parse_count("0.0005K", "--params") == 1);  // 0.5 rounds to 1
}

TEST_CASE("parse_count trims whitespace", "[quantity]") {
    CHECK(parse_count("  7B  ", "--params") == 7000000000);
    CHECK(parse_count("\t124M\n", "--params") == 124000000);
    CHECK(parse_count("7 B", "--params") == 7000000000);  // space before the suffix
}

TEST_CASE("parse_count rejects junk with the flag, the value and the expected form", "[quantity]") {
    REQUIRE_THROWS_AS(parse_count("7Q", "--params"), InputError);
    REQUIRE_THROWS_WITH(parse_count("7Q", "--params"),
                        "--params: \"7Q\" is not a parameter count (unknown suffix \"Q\"; use K, M, B or T, e.g. 7B)");
    REQUIRE_THROWS_WITH(parse_count("7BB", "--params"),
                        "--params: \"7BB\" is not a parameter count (unknown suffix \"BB\"; use K, M, B or T, e.g. 7B)");
    REQUIRE_THROWS_WITH(parse_count("B7", "--params"),
                        "--params: \"B7\" is not a parameter count (expected a number with an optional K, M, B or T "
                        "suffix, e.g. 7B)");
    const std::vector<std::pair<std::string, std::string>> cases{
        {"7Q", "unknown suffix \"Q\""},      {"7BB", "unknown suffix \"BB\""},  {"B7", "expected a number"},
        {"abc", "expected a number"},         {"", "expected a number"},         {"   ", "expected a number"},
        {"1_000", "unknown suffix \"_000\""}, {"1,000", "unknown suffix \",000\""}, {"7P", "unknown suffix \"P\""},
        {"1e", "unknown suffix \"e\""},       {"2E+", "unknown suffix \"E+\""},  {"+5", "expected a number"},
        {"7B7", "unknown suffix \"B7\""},     {"0x10", "unknown suffix \"x10\""}, {".", "expected a number"},
        {"-", "expected a number"},           {"7 B B", "unknown suffix \"B B\""},
    };
    for (const auto& [text, detail] : cases) {
        INFO("text: " << text);
        REQUIRE_THROWS_AS(parse_count(text, "--params"), InputError);
        REQUIRE_THROWS_WITH(parse_count(text, "--params"), Catch::StartsWith(prefix("--params", text)) &&
                                                                Catch::Contains("is not a parameter count") &&
                                                                Catch::Contains(detail) && !Catch::Contains("\n"));
    }
}

TEST_CASE("parse_count names what is counted after the flag", "[quantity]") {
    REQUIRE_THROWS_WITH(parse_count("x", "--tokens"), Catch::StartsWith("--tokens: \"x\" is not a token count ("));
    REQUIRE_THROWS_WITH(parse_count("x", "--steps"), Catch::StartsWith("--steps: \"x\" is not a count ("));
}

TEST_CASE("parse_count rejects negative, zero and non-finite values", "[quantity]") {
    REQUIRE_THROWS_WITH(parse_count("-5", "--params"), "--params: \"-5\" must be a positive parameter count");
    REQUIRE_THROWS_WITH(parse_count("-7B", "--params"), "--params: \"-7B\" must be a positive parameter count");
    REQUIRE_THROWS_WITH(parse_count("0", "--params"), "--params: \"0\" must be a positive parameter count");
    REQUIRE_THROWS_WITH(parse_count("0B", "--params"), "--params: \"0B\" must be a positive parameter count");
    REQUIRE_THROWS_WITH(parse_count("-0", "--params"), "--params: \"-0\" must be a positive parameter count");
    REQUIRE_THROWS_WITH(parse_count("1e-400", "--params"), "--params: \"1e-400\" must be a positive parameter count");
    REQUIRE_THROWS_WITH(parse_count("0.4", "--params"),
                        "--params: \"0.4\" rounds to 0; a parameter count must be at least 1");
    for (const std::string text : {"nan", "NaN", "inf", "-inf", "Infinity", "+inf"}) {
        INFO("text: " << text);
        REQUIRE_THROWS_WITH(parse_count(text, "--params"),
                            prefix("--params", text) + "is not a parameter count (expected a finite number such as 7B)");
    }
}

TEST_CASE("parse_count rejects values above 1e18", "[quantity]") {
    REQUIRE_THROWS_WITH(parse_count("1e19", "--params"), "--params: \"1e19\" is too large (at most 1e18)");
    REQUIRE_THROWS_WITH(parse_count("1000001T", "--params"), "--params: \"1000001T\" is too large (at most 1e18)");
    REQUIRE_THROWS_WITH(parse_count("1e400", "--params"), "--params: \"1e400\" is too large (at most 1e18)");
    REQUIRE_THROWS_WITH(parse_count("1.1e9T", "--params"), "--params: \"1.1e9T\" is too large (at most 1e18)");
}

TEST_CASE("parse_count quotes the text as given, surrounding spaces included", "[quantity]") {
    REQUIRE_THROWS_WITH(parse_count(" 7Q ", "--params"), Catch::StartsWith("--params: \" 7Q \" is not"));
}

// ------------------------------------------------------------------------------------------ bytes

TEST_CASE("parse_bytes accepts decimal and binary units", "[quantity]") {
    CHECK(parse_bytes("80GB", "--gpu-memory") == 80e9);
    CHECK(parse_bytes("80GiB", "--gpu-memory") == 80 * GiB);
    CHECK(parse_bytes("80gib", "--gpu-memory") == 80 * GiB);
    CHECK(parse_bytes("80gB", "--gpu-memory") == 80e9);
    CHECK(parse_bytes("80Gb", "--gpu-memory") == 80e9);
    CHECK(parse_bytes("80gb", "--gpu-memory") == 80e9);
    CHECK(parse_bytes("80GIB", "--gpu-memory") == 80 * GiB);
    CHECK(parse_bytes("512MiB", "--gpu-memory") == 512 * MiB);
    CHECK(parse_bytes("512MB", "--gpu-memory") == 512e6);
    CHECK(parse_bytes("4KiB", "--gpu-memory") == 4 * KiB);
    CHECK(parse_bytes("4kb", "--gpu-memory") == 4000);
    CHECK(parse_bytes("1.5TB", "--gpu-memory") == 1.5e12);
    CHECK(parse_bytes("2TiB", "--gpu-memory") == 2 * TiB);
    CHECK(parse_bytes("1.5e3GB", "--gpu-memory") == 1.5e12);
    CHECK(parse_bytes("0.5GiB", "--gpu-memory") == 0.5 * GiB);
}

TEST_CASE("parse_bytes accepts plain bytes, spaces and surrounding whitespace", "[quantity]") {
    CHECK(parse_bytes("1024", "--gpu-memory") == 1024);
    CHECK(parse_bytes("1024B", "--gpu-memory") == 1024);
    CHECK(parse_bytes("1024b", "--gpu-memory") == 1024);
    CHECK(parse_bytes("1024 B", "--gpu-memory") == 1024);
    CHECK(parse_bytes("24 GB", "--gpu-memory") == 24e9);
    CHECK(parse_bytes("  24 GiB  ", "--gpu-memory") == 24 * GiB);
    CHECK(parse_bytes("1e18", "--gpu-memory") == 1e18);
    CHECK(parse_bytes("1e9GB", "--gpu-memory") == 1e18);
}

TEST_CASE("parse_bytes rejects a bare prefix as ambiguous", "[quantity]") {
    REQUIRE_THROWS_AS(parse_bytes("80G", "--gpu-memory"), InputError);
    REQUIRE_THROWS_WITH(parse_bytes("80G", "--gpu-memory"),
                        "--gpu-memory: \"80G\" is ambiguous (write 80GB for 10^9 bytes or 80GiB for 2^30 bytes)");
    REQUIRE_THROWS_WITH(parse_bytes("80g", "--gpu-memory"),
                        "--gpu-memory: \"80g\" is ambiguous (write 80GB for 10^9 bytes or 80GiB for 2^30 bytes)");
    REQUIRE_THROWS_WITH(parse_bytes("80M", "--gpu-memory"),
                        "--gpu-memory: \"80M\" is ambiguous (write 80MB for 10^6 bytes or 80MiB for 2^20 bytes)");
    REQUIRE_THROWS_WITH(parse_bytes("4k", "--gpu-memory"),
                        "--gpu-memory: \"4k\" is ambiguous (write 4KB for 10^3 bytes or 4KiB for 2^10 bytes)");
    REQUIRE_THROWS_WITH(parse_bytes("1.5 T", "--gpu-memory"),
                        "--gpu-memory: \"1.5 T\" is ambiguous (write 1.5TB for 10^12 bytes or 1.5TiB for 2^40 bytes)");
}

TEST_CASE("parse_bytes rejects junk, unknown units and out-of-range sizes", "[quantity]") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "is not a size in bytes (expected a number and a unit such as 80GB or 80GiB)"},
        {"GB", "is not a size in bytes (expected a number and a unit such as 80GB or 80GiB)"},
        {"abc", "is not a size in bytes (expected a number and a unit such as 80GB or 80GiB)"},
        {"80XB", "is not a size in bytes (unknown unit \"XB\"; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 80GiB)"},
        {"80Gi", "is not a size in bytes (unknown unit \"Gi\"; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 80GiB)"},
        {"80GBB", "is not a size in bytes (unknown unit \"GBB\"; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 80GiB)"},
        {"80PB", "is not a size in bytes (unknown unit \"PB\"; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 80GiB)"},
        {"80 G B", "is not a size in bytes (unknown unit \"G B\"; use B, KB, KiB, MB, MiB, GB, GiB, TB or TiB, e.g. 80GiB)"},
        {"nan", "is not a size in bytes (expected a finite number and a unit such as 80GB or 80GiB)"},
        {"infGB", "is not a size in bytes (expected a number and a unit such as 80GB or 80GiB)"},
        {"inf", "is not a size in bytes (expected a finite number and a unit such as 80GB or 80GiB)"},
        {"-1GB", "must be a positive size"},
        {"-80GiB", "must be a positive size"},
        {"-1e999GB", "must be a positive size"},
        {"1e-999GB", "must be a positive size"},
        {"0", "must be a positive size"},
        {"0GiB", "must be a positive size"},
        {"2e9GB", "is too large (at most 1e18 bytes)"},
        {"1e19", "is too large (at most 1e18 bytes)"},
        {"1e999GB", "is too large (at most 1e18 bytes)"},
    };
    for (const auto& [text, tail] : cases) {
        INFO("text: " << text);
        REQUIRE_THROWS_AS(parse_bytes(text, "--gpu-memory"), InputError);
        REQUIRE_THROWS_WITH(parse_bytes(text, "--gpu-memory"), prefix("--gpu-memory", text) + tail);
    }
}

// ------------------------------------------------------------------------------------------ FLOPs

TEST_CASE("parse_flops accepts plain numbers and FLOP suffixes", "[quantity]") {
    CHECK(parse_flops("5.76e23", "--flops") == 5.76e23);
    CHECK(parse_flops("1e24", "--flops") == 1e24);
    CHECK(parse_flops("1E24", "--flops") == 1e24);
    CHECK(parse_flops("3.14e23 FLOPs", "--flops") == 3.14e23);
    CHECK(parse_flops("3.14e23FLOPs", "--flops") == 3.14e23);
    CHECK(parse_flops("3.14e23 FLOP", "--flops") == 3.14e23);
    CHECK(parse_flops("3.14e23 flops", "--flops") == 3.14e23);
    CHECK(parse_flops("3.14e23 FLOPS", "--flops") == 3.14e23);
    CHECK(parse_flops("  1000  ", "--flops") == 1000);
    CHECK(parse_flops("1e40", "--flops") == 1e40);
}

TEST_CASE("parse_flops accepts SI prefixes: a trailing E alone is exa", "[quantity]") {
    CHECK(parse_flops("2K", "--flops") == 2e3);
    CHECK(parse_flops("2M", "--flops") == 2e6);
    CHECK(parse_flops("2G", "--flops") == 2e9);
    CHECK(parse_flops("2T", "--flops") == 2e12);
    CHECK(parse_flops("100P", "--flops") == 1e17);
    CHECK(parse_flops("100p", "--flops") == 1e17);
    CHECK(parse_flops("1.5E", "--flops") == 1.5e18);
    CHECK(parse_flops("1.5e", "--flops") == 1.5e18);
    CHECK(parse_flops("1.5 E", "--flops") == 1.5e18);
    CHECK(parse_flops("1.5EFLOPs", "--flops") == 1.5e18);
    CHECK(parse_flops("2 PFLOPs", "--flops") == 2e15);
    CHECK(parse_flops("2 P FLOPs", "--flops") == 2e15);
    CHECK(parse_flops("1e", "--flops") == 1e18);
    CHECK(parse_flops("2E3P", "--flops") == 2e18);  // exponent, then prefix
    CHECK(parse_flops("1e6E", "--flops") == 1e24);
}

TEST_CASE("parse_flops rejects junk, non-positive and out-of-range values", "[quantity]") {
    const std::string unknown = "\"; use K, M, G, T, P or E, optionally followed by FLOPs, e.g. 5.76e23 or 100P)";
    const std::vector<std::pair<std::string, std::string>> cases{
        {"", "is not a FLOP count (expected a number such as 5.76e23, 100P or 1.5E FLOPs)"},
        {"FLOPs", "is not a FLOP count (expected a number such as 5.76e23, 100P or 1.5E FLOPs)"},
        {"e24", "is not a FLOP count (expected a number such as 5.76e23, 100P or 1.5E FLOPs)"},
        {"5X", "is not a FLOP count (unknown suffix \"X" + unknown},
        {"5 PE", "is not a FLOP count (unknown suffix \"PE" + unknown},
        {"5e+", "is not a FLOP count (unknown suffix \"e+" + unknown},
        {"5 FLOPs P", "is not a FLOP count (unknown suffix \"FLOPs P" + unknown},
        {"5Y", "is not a FLOP count (unknown suffix \"Y" + unknown},
        {"nan", "is not a FLOP count (expected a finite number such as 5.76e23)"},
        {"-inf", "is not a FLOP count (expected a finite number such as 5.76e23)"},
        {"-1e23", "must be a positive FLOP count"},
        {"0", "must be a positive FLOP count"},
        {"0 FLOPs", "must be a positive FLOP count"},
        {"1e-999", "must be a positive FLOP count"},
        {"1e41", "is too large (at most 1e40)"},
        {"1e23E", "is too large (at most 1e40)"},
        {"1e999", "is too large (at most 1e40)"},
    };
    for (const auto& [text, tail] : cases) {
        INFO("text: " << text);
        REQUIRE_THROWS_AS(parse_flops(text, "--flops"), InputError);
        REQUIRE_THROWS_WITH(parse_flops(text, "--flops"), prefix("--flops", text) + tail);
    }
}

// ------------------------------------------------------------------------------- integers and reals

TEST_CASE("parse_int accepts integers within the range", "[quantity]") {
    CHECK(parse_int("0", "--zero", 0, 3) == 0);
    CHECK(parse_int("3", "--zero", 0, 3) == 3);
    CHECK(parse_int(" 2 ", "--zero", 0, 3) == 2);
    CHECK(parse_int("-4", "--offset", -10, 10) == -4);
    CHECK(parse_int("8", "--gpus", 1, 1 << 24) == 8);
    CHECK(parse_int("16777216", "--gpus", 1, 1 << 24) == 16777216);
    CHECK(parse_int("007", "--gpus", 1, 1 << 24) == 7);
    CHECK(parse_int("9223372036854775807", "--big", 0, std::numeric_limits<std::int64_t>::max()) ==
          std::numeric_limits<std::int64_t>::max());
}

TEST_CASE("parse_int names the range when it is rejected", "[quantity]") {
    REQUIRE_THROWS_AS(parse_int("4", "--zero", 0, 3), InputError);
    REQUIRE_THROWS_WITH(parse_int("4", "--zero", 0, 3), "--zero: \"4\" must be between 0 and 3");
    REQUIRE_THROWS_WITH(parse_int("-1", "--zero", 0, 3), "--zero: \"-1\" must be between 0 and 3");
    REQUIRE_THROWS_WITH(parse_int("2000", "--gpus-per-node", 1, 1024),
                        "--gpus-per-node: \"2000\" must be between 1 and 1,024");
    REQUIRE_THROWS_WITH(parse_int("99999999999999999999", "--zero", 0, 3),
                        "--zero: \"99999999999999999999\" must be between 0 and 3");
    REQUIRE_THROWS_WITH(parse_int("-99999999999999999999", "--zero", 0, 3),
                        "--zero: \"-99999999999999999999\" must be between 0 and 3");
    for (const std::string text : {"1.5", "abc", "", "  ", "1e3", "3x", "+1", "0x3", "1 2", "1,0"}) {
        INFO("text: " << text);
        REQUIRE_THROWS_WITH(parse_int(text, "--zero", 0, 3),
                            prefix("--zero", text) + "is not an integer (expected a whole number between 0 and 3)");
    }
}

TEST_CASE("parse_int says 'positive integer' for counts with no practical upper bound", "[quantity]") {
    constexpr std::int64_t kMax = std::int64_t{1} << 24;
    REQUIRE_THROWS_WITH(parse_int("-5", "--gpus", 1, kMax), "--gpus: \"-5\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("0", "--gpus", 1, kMax), "--gpus: \"0\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("1.5", "--gpus", 1, kMax), "--gpus: \"1.5\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("abc", "--gpus", 1, kMax), "--gpus: \"abc\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("", "--gpus", 1, kMax), "--gpus: \"\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("-99999999999999999999", "--gpus", 1, kMax),
                        "--gpus: \"-99999999999999999999\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("16777217", "--gpus", 1, kMax),
                        "--gpus: \"16777217\" must be a positive integer no larger than 16,777,216");
    REQUIRE_THROWS_WITH(parse_int("99999999999999999999", "--gpus", 1, kMax),
                        "--gpus: \"99999999999999999999\" must be a positive integer no larger than 16,777,216");
    // 2^20 is the smallest maximum that counts as "no practical bound".
    REQUIRE_THROWS_WITH(parse_int("0", "--micro-batch", 1, 1 << 20), "--micro-batch: \"0\" must be a positive integer");
    REQUIRE_THROWS_WITH(parse_int("0", "--x", 1, (1 << 20) - 1), "--x: \"0\" must be between 1 and 1,048,575");
}

TEST_CASE("parse_real accepts finite numbers within the range", "[quantity]") {
    CHECK(parse_real("0.1", "--dropout", 0.0, 0.999) == 0.1);
    CHECK(parse_real("0", "--dropout", 0.0, 0.999) == 0.0);
    CHECK(parse_real("0.999", "--dropout", 0.0, 0.999) == 0.999);
    CHECK(parse_real(" 1e-3 ", "--dropout", 0.0, 0.999) == 0.001);
    CHECK(parse_real(".5", "--dropout", 0.0, 0.999) == 0.5);
    CHECK(parse_real("-2.5", "--shift", -10.0, 10.0) == -2.5);
    CHECK(parse_real("1E1", "--shift", -10.0, 10.0) == 10.0);
}

TEST_CASE("parse_real rejects non-numbers, non-finite values and values out of range", "[quantity]") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"1", "must be between 0 and 0.999"},
        {"-0.5", "must be between 0 and 0.999"},
        {"1e999", "must be between 0 and 0.999"},
        {"-1e999", "must be between 0 and 0.999"},
        {"abc", "is not a number (expected a value between 0 and 0.999)"},
        {"", "is not a number (expected a value between 0 and 0.999)"},
        {"0.1x", "is not a number (expected a value between 0 and 0.999)"},
        {"0.1 0.2", "is not a number (expected a value between 0 and 0.999)"},
        {"1e", "is not a number (expected a value between 0 and 0.999)"},
        {"nan", "is not a finite number (expected a value between 0 and 0.999)"},
        {"inf", "is not a finite number (expected a value between 0 and 0.999)"},
        {"-Infinity", "is not a finite number (expected a value between 0 and 0.999)"},
    };
    for (const auto& [text, tail] : cases) {
        INFO("text: " << text);
        REQUIRE_THROWS_AS(parse_real(text, "--dropout", 0.0, 0.999), InputError);
        REQUIRE_THROWS_WITH(parse_real(text, "--dropout", 0.0, 0.999), prefix("--dropout", text) + tail);
    }
}

// ------------------------------------------------------------------------------------- formatting

TEST_CASE("format_bytes prints GiB or GB with fixed decimals", "[quantity]") {
    CHECK(format_bytes(13.25e9) == "12.34 GiB");
    CHECK(format_bytes(13.25e9, ByteUnit::gib) == "12.34 GiB");
    CHECK(format_bytes(13.25e9, ByteUnit::gb) == "13.25 GB");
    CHECK(format_bytes(80 * GiB) == "80.00 GiB");
    CHECK(format_bytes(80 * GiB, ByteUnit::gib, 0) == "80 GiB");
    CHECK(format_bytes(80 * GiB, ByteUnit::gb, 1) == "85.9 GB");
    CHECK(format_bytes(0) == "0.00 GiB");
    CHECK(format_bytes(512 * MiB) == "0.50 GiB");
    CHECK(format_bytes(-2 * GiB) == "-2.00 GiB");
    CHECK(format_bytes(1.5e9, ByteUnit::gb, 3) == "1.500 GB");
}

TEST_CASE("format_count prints three significant digits with a suffix", "[quantity]") {
    CHECK(format_count(6738415616) == "6.74B");
    CHECK(format_count(124439808) == "124M");
    CHECK(format_count(46702792704) == "46.7B");
    CHECK(format_count(1.1e12) == "1.1T");
    CHECK(format_count(950) == "950");
    CHECK(format_count(0) == "0");
    CHECK(format_count(12.5) == "12.5");
    CHECK(format_count(1000) == "1K");
    CHECK(format_count(1500) == "1.5K");
    CHECK(format_count(7e9) == "7B");
    CHECK(format_count(70e9) == "70B");
    CHECK(format_count(999.6) == "1K");       // rounding carries into the next suffix
    CHECK(format_count(999999) == "1M");
    CHECK(format_count(999.4e9) == "999B");
    CHECK(format_count(1.5e15) == "1500T");
    CHECK(format_count(-2.5e9) == "-2.5B");
    CHECK(format_count(1.004e6) == "1M");  // 1.00M, zeros trimmed
}

TEST_CASE("format_sci prints the given number of significant digits", "[quantity]") {
    CHECK(format_sci(5.76e23) == "5.76e+23");
    CHECK(format_sci(1e24) == "1.00e+24");
    CHECK(format_sci(123456, 5) == "1.2346e+05");
    CHECK(format_sci(3.14e-5, 2) == "3.1e-05");
    CHECK(format_sci(6.0e23, 1) == "6e+23");
    CHECK(format_sci(-5.76e23) == "-5.76e+23");
}

TEST_CASE("parsers and formatters round-trip", "[quantity]") {
    CHECK(parse_count(format_count(7e9), "--params") == 7000000000);
    CHECK(parse_flops(format_sci(5.76e23), "--flops") == 5.76e23);
    CHECK(parse_bytes(format_bytes(80 * GiB).substr(0, 5) + "GiB", "--gpu-memory") == 80 * GiB);
}

TEST_CASE("parse_bandwidth: bytes and bits per second, with a count", "[quantity]") {
    CHECK(parse_bandwidth("400GB/s", "--x") == Approx(400e9));
    CHECK(parse_bandwidth("3.2Tb/s", "--x") == Approx(400e9));
    CHECK(parse_bandwidth("8x400Gb/s", "--x") == Approx(400e9));
    CHECK(parse_bandwidth("8 × 400 Gb/s", "--x") == Approx(400e9));
    CHECK(parse_bandwidth(" 25 GB/s ", "--x") == Approx(25e9));
    CHECK(parse_bandwidth("100Mb/s", "--x") == Approx(12.5e6));
    CHECK(parse_bandwidth("1000B/s", "--x") == Approx(1000));
    for (const char* bad : {"", "400", "400GB", "400GiB/s", "abc/s", "-1GB/s", "0GB/s", "400Xb/s", "inf GB/s", "0x400Gb/s"})
        CHECK_THROWS_AS(parse_bandwidth(bad, "--inter-node-bandwidth"), InputError);
    // One byte of "×" (0xC3 0x97) is not a "×": refused in one line (it used to throw
    // std::out_of_range from substr, found by fuzz/fuzz_quantity).
    for (const char* bad : {"3.3\xc3", "8\x97" "400Gb/s", "8\xc3" "400Gb/s", "8\xc3"})
        CHECK_THROWS_WITH(parse_bandwidth(bad, "--nvlink-bandwidth"), Catch::StartsWith("--nvlink-bandwidth: \"") &&
                                                                            Catch::Contains("is not a bandwidth"));
    try {
        parse_bandwidth("fast", "--inter-node-bandwidth");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()).find("--inter-node-bandwidth") != std::string::npos);
    }
}
