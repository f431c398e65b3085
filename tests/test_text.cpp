// test_text.cpp — the string helpers in core/text: case folding, trimming, split/join, edit
// distance, "did you mean" suggestions and thousands separators.
#include "core/text.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using namespace llmplan;

TEST_CASE("to_lower folds ASCII letters only", "[text]") {
    CHECK(to_lower("") == "");
    CHECK(to_lower("Llama-2-7B") == "llama-2-7b");
    CHECK(to_lower("GiB_80 x") == "gib_80 x");
    CHECK(to_lower("already lower 123") == "already lower 123");
    CHECK(to_lower("\xC3\x84") == "\xC3\x84");  // UTF-8 bytes pass through untouched
}

TEST_CASE("trim removes surrounding whitespace", "[text]") {
    CHECK(trim("") == "");
    CHECK(trim("   ") == "");
    CHECK(trim("abc") == "abc");
    CHECK(trim("  abc  ") == "abc");
    CHECK(trim("\t\n\r\f\vabc def\v\f\r\n\t") == "abc def");
    CHECK(trim(" a b ") == "a b");  // inner spaces stay
}

TEST_CASE("split keeps empty fields and trims each", "[text]") {
    CHECK(split("a,b,c", ',') == std::vector<std::string>{"a", "b", "c"});
    CHECK(split(" a , b ,c ", ',') == std::vector<std::string>{"a", "b", "c"});
    CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
    CHECK(split(",a,", ',') == std::vector<std::string>{"", "a", ""});
    CHECK(split("", ',') == std::vector<std::string>{""});
    CHECK(split("  ", ',') == std::vector<std::string>{""});
    CHECK(split("abc", ',') == std::vector<std::string>{"abc"});
    CHECK(split(",", ',') == std::vector<std::string>{"", ""});
    CHECK(split("k=v; x = y", ';') == std::vector<std::string>{"k=v", "x = y"});
}

TEST_CASE("join puts the separator between parts", "[text]") {
    CHECK(join({}, ", ") == "");
    CHECK(join({"a"}, ", ") == "a");
    CHECK(join({"a", "b", "c"}, ", ") == "a, b, c");
    CHECK(join({"a", "", "c"}, "+") == "a++c");
    CHECK(join({"x", "y"}, "") == "xy");
    CHECK(join(split("a,b,c", ','), " | ") == "a | b | c");
}

TEST_CASE("edit_distance is case-insensitive Levenshtein", "[text]") {
    CHECK(edit_distance("", "") == 0);
    CHECK(edit_distance("abc", "") == 3);
    CHECK(edit_distance("", "abcd") == 4);
    CHECK(edit_distance("kitten", "sitting") == 3);
    CHECK(edit_distance("sitting", "kitten") == 3);
    CHECK(edit_distance("flaw", "lawn") == 2);
    CHECK(edit_distance("bf61", "bf16") == 2);  // a transposition costs two
    CHECK(edit_distance("h300", "h200") == 1);
    CHECK(edit_distance("H100-SXM", "h100-sxm") == 0);
    CHECK(edit_distance("GiB", "gib") == 0);
    CHECK(edit_distance("abc", "abd") == 1);
    CHECK(edit_distance("abc", "xabc") == 1);
}

TEST_CASE("closest_match finds near misses", "[text]") {
    const std::vector<std::string> gpus{"v100-32g", "a100-40g", "a100-80g", "h100-sxm", "h100-pcie",
                                        "h200",     "b200",     "mi300x",   "l40s",     "rtx-4090"};
    CHECK(closest_match("h300", gpus) == "h200");
    CHECK(closest_match("H200", gpus) == "h200");
    CHECK(closest_match("mi300", gpus) == "mi300x");
    CHECK(closest_match("l40", gpus) == "l40s");
    CHECK(closest_match("rtx-4080", gpus) == "rtx-4090");
    CHECK(closest_match("xyz", gpus) == std::nullopt);
    CHECK(closest_match("tpu-v5", gpus) == std::nullopt);
    CHECK(closest_match("", gpus) == std::nullopt);
    CHECK(closest_match("--", gpus) == std::nullopt);
    CHECK(closest_match("h200", {}) == std::nullopt);

    const std::vector<std::string> precisions{"fp32", "amp-bf16", "amp-fp16", "mixed-bf16", "mixed-fp16", "bf16", "fp8"};
    CHECK(closest_match("bf61", precisions) == "bf16");
    CHECK(closest_match("fp33", precisions) == "fp32");
}

TEST_CASE("closest_match ignores separators and accepts abbreviations", "[text]") {
    const std::vector<std::string> models{"llama-2-7b", "llama-2-13b", "llama-2-70b", "gpt2", "gpt2-medium"};
    CHECK(closest_match("llama2-7b", models) == "llama-2-7b");
    CHECK(closest_match("LLAMA_2_70B", models) == "llama-2-70b");
    CHECK(closest_match("llama.2.13b", models) == "llama-2-13b");
    CHECK(closest_match("gpt-2", models) == "gpt2");
    CHECK(closest_match("gpt2medium", models) == "gpt2-medium");

    const std::vector<std::string> gpus{"a100-40g", "a100-80g", "h100-sxm", "h100-pcie", "h200"};
    CHECK(closest_match("h100", gpus) == "h100-sxm");  // contained beats the closer "h200"; ties -> first
    CHECK(closest_match("a100-80", gpus) == "a100-80g");
    CHECK(closest_match("pcie", gpus) == "h100-pcie");
    CHECK(closest_match("h100-sxm5", gpus) == "h100-sxm");  // the option is contained in the value
    CHECK(closest_match("A100_80G", gpus) == "a100-80g");

    const std::vector<std::string> optimizers{"adamw", "adam", "sgd", "sgd-momentum", "adamw-8bit"};
    CHECK(closest_match("adamw8bit", optimizers) == "adamw-8bit");
    CHECK(closest_match("adamw8bt", optimizers) == "adamw-8bit");  // nearer than the contained "adamw"
    CHECK(closest_match("sgdmomentum", optimizers) == "sgd-momentum");
}

TEST_CASE("closest_match breaks ties by list order and respects the distance limit", "[text]") {
    CHECK(closest_match("abx", {"aby", "abz"}) == "aby");
    CHECK(closest_match("abx", {"abz", "aby"}) == "abz");
    // Short values allow a distance of 2 ...
    CHECK(closest_match("ab", {"xy"}) == "xy");
    CHECK(closest_match("abc", {"xyz"}) == std::nullopt);
    // ... longer ones a third of their length: 12 characters allow 4.
    CHECK(closest_match("abcdefghijkl", {"abcdefghwxyz"}) == "abcdefghwxyz");
    CHECK(closest_match("abcdefghijkl", {"abcdefgvwxyz"}) == std::nullopt);
    // Containment needs at least three characters.
    CHECK(closest_match("a", {"zzzzzza"}) == std::nullopt);
    CHECK(closest_match("zzzzzzab", {"ab"}) == std::nullopt);
}

TEST_CASE("format_int groups digits in threes", "[text]") {
    CHECK(format_int(0) == "0");
    CHECK(format_int(7) == "7");
    CHECK(format_int(999) == "999");
    CHECK(format_int(1000) == "1,000");
    CHECK(format_int(123456) == "123,456");
    CHECK(format_int(1234567) == "1,234,567");
    CHECK(format_int(6738415616) == "6,738,415,616");
    CHECK(format_int(-1) == "-1");
    CHECK(format_int(-1234) == "-1,234");
    CHECK(format_int(-123456) == "-123,456");
    CHECK(format_int(std::numeric_limits<std::int64_t>::max()) == "9,223,372,036,854,775,807");
    CHECK(format_int(std::numeric_limits<std::int64_t>::min()) == "-9,223,372,036,854,775,808");
}

TEST_CASE("escape_controls keeps a message on one line", "[text]") {
    CHECK(escape_controls("plain text, UTF-8 \xc3\xa9") == "plain text, UTF-8 \xc3\xa9");
    CHECK(escape_controls("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(escape_controls(std::string("\x00\x1b[31m\x7f", 7)) == "\\x00\\x1b[31m\\x7f");
    CHECK(escape_controls("").empty());
}

TEST_CASE("name_words: a product's words whatever its punctuation", "[text]") {
    using V = std::vector<std::string>;
    CHECK(name_words("NVIDIA H100 80GB HBM3") == V{"nvidia", "h100", "80gb", "hbm", "3"});
    CHECK(name_words("NVIDIA H100 80GB HBM3", {"nvidia", "hbm3"}) == V{"h100", "80gb"});  // dropped before the split
    CHECK(name_words("Meta-Llama-3.1-405B_Instruct") == V{"meta", "llama", "3", "1", "405b", "instruct"});
    CHECK(name_words("llama3-70b") == V{"llama", "3", "70b"});
    CHECK(name_words("rtx4090") == V{"rtx", "4090"});
    CHECK(name_words("MI300X") == V{"mi300x"});  // two letters: whole
    CHECK(name_words("  --  ").empty());
    CHECK(name_words("").empty());
    CHECK(name_words("a100\n").empty());       // a control character: a damaged value
    CHECK(name_words("h100\x7f").empty());
    CHECK(name_words("h100\xc3\xa9").empty());  // a non-ASCII byte
}
