// test_yaml.cpp — core/yaml.h: the block-style YAML that PyYAML's safe_dump writes (Megatron
// Bridge's ConfigContainer.to_yaml), read as PyYAML's safe_load reads it — every expected value
// below is what safe_load gives for the same text (checked with PyYAML 6.0.3), except where a
// comment says the reader differs on purpose (.inf, .nan and 3:30 stay strings) — and refusals.
#include "core/error.h"
#include "core/yaml.h"

#include <catch2/catch.hpp>

#include <string>

using namespace llmplan;
using Json = nlohmann::ordered_json;

namespace {

Json yaml(const std::string& text) { return read_yaml(text, "t.yaml"); }

void refused(const std::string& text, const std::string& message) {
    CHECK_THROWS_WITH(read_yaml(text, "t.yaml"), message);
}

}  // namespace

TEST_CASE("yaml: block mappings, indentless sequences and items that are mappings", "[yaml]") {
    const Json j = yaml(
        "_target_: megatron.bridge.training.config.ConfigContainer\n"
        "model:\n"
        "  num_layers: 48   # a comment\n"
        "  recompute_modules:\n"
        "  - core_attn\n"
        "  - moe_act\n"
        "  cuda_graph_scope: []\n"
        "  params_dtype:\n"
        "    _call_: false\n"
        "    _target_: torch.bfloat16\n"
        "list:\n"
        "- a: 1\n"
        "  b: 2\n"
        "- - x\n"
        "  - y\n"
        "-\n"
        "  nested: true\n"
        "- \n"
        "empty:\n");
    CHECK(j.dump() ==
          R"({"_target_":"megatron.bridge.training.config.ConfigContainer","model":{"num_layers":48,"recompute_modules":["core_attn","moe_act"],)"
          R"("cuda_graph_scope":[],"params_dtype":{"_call_":false,"_target_":"torch.bfloat16"}},)"
          R"("list":[{"a":1,"b":2},["x","y"],{"nested":true},null],"empty":null})");
}

TEST_CASE("yaml: plain scalars resolve as PyYAML's loader resolves them", "[yaml]") {
    const Json j = yaml(
        "a: 1\nb: -3\nc: 1.0e-06\nd: 1e5\ne: .5\nf: 1_000\ng: 0x1F\nh: 017\ni: 0b101\n"
        "j: yes\nk: Off\nl: ~\nm: null\nn: .inf\no: .nan\np: '1'\nq: \"true\"\nr: 1.\ns: 3:30\nt: 99999999999999999999\n");
    CHECK(j["a"] == 1);
    CHECK(j["b"] == -3);
    CHECK(j["c"].get<double>() == 1.0e-06);
    CHECK(j["d"] == "1e5");  // YAML 1.1 floats need a dot
    CHECK(j["e"].get<double>() == 0.5);
    CHECK(j["f"] == 1000);
    CHECK(j["g"] == 31);
    CHECK(j["h"] == 15);  // YAML 1.1 octal
    CHECK(j["i"] == 5);
    CHECK(j["j"] == true);
    CHECK(j["k"] == false);
    CHECK(j["l"].is_null());
    CHECK(j["m"].is_null());
    CHECK(j["n"] == ".inf");  // nothing non-finite leaves the reader
    CHECK(j["o"] == ".nan");
    CHECK(j["p"] == "1");
    CHECK(j["q"] == "true");
    CHECK(j["r"].get<double>() == 1.0);
    CHECK(j["s"] == "3:30");  // sexagesimal is not read
    CHECK(j["t"].get<double>() == 1e20);
}

TEST_CASE("yaml: quoted scalars, their escapes and their folding over lines", "[yaml]") {
    const Json j = yaml(
        "a: 'it''s \"q\" # not a comment'\n"
        "b: \"\\xE9 \\u2713 tab\\t\\\"\"\n"
        "c: \"long words\n"
        "  folded\\\n"
        "  \\ joined\n"
        "\n"
        "  after a blank\"\n"
        "d: 'one\n"
        "\n"
        "\n"
        "  two'\n");
    CHECK(j["a"] == "it's \"q\" # not a comment");
    CHECK(j["b"] == "\xC3\xA9 \xE2\x9C\x93 tab\t\"");
    CHECK(j["c"] == "long words folded joined\nafter a blank");
    CHECK(j["d"] == "one\n\ntwo");
}

TEST_CASE("yaml: block scalars, flow collections, anchors and aliases", "[yaml]") {
    const Json j = yaml(
        "lit: |\n  a\n   b\n\n  c\n"
        "fold: >-\n  a\n  b\n"
        "flow: {k: [1, 'two', {x: null}], e: {}}\n"
        "multi: [a,\n  b, # comment\n  c]\n"
        "shared: &id001\n- x\n- y\n"
        "again: *id001\n"
        "inline: &s 5\n"
        "ref: [*s, *s]\n");
    CHECK(j["lit"] == "a\n b\n\nc\n");
    CHECK(j["fold"] == "a b");
    CHECK(j["flow"].dump() == R"({"k":[1,"two",{"x":null}],"e":{}})");
    CHECK(j["multi"].dump() == R"(["a","b","c"])");
    CHECK(j["again"].dump() == R"(["x","y"])");
    CHECK(j["ref"].dump() == "[5,5]");
}

TEST_CASE("yaml: documents, markers and what is refused", "[yaml]") {
    CHECK(yaml("").is_null());
    CHECK(yaml("# only a comment\n").is_null());
    CHECK(yaml("---\na: 1\n...\n")["a"] == 1);
    CHECK(yaml("\xEF\xBB\xBFk: v\r\n")["k"] == "v");  // a byte-order mark and CRLF lines
    refused("a: 1\n---\nb: 2\n", "t.yaml: line 2: a second document (\"---\"): one document per file");
    refused("a:\n\tb: 1\n", "t.yaml: line 2: a tab in the indentation (YAML indents with spaces)");
    refused("a: 'open\n", "t.yaml: line 1: the ' quote is not closed");
    refused("a: !!python/object:x {}\n", "t.yaml: line 1: tags (\"!!python/object:x\") are not read: write the value itself");
    refused("? a\n: b\n", "t.yaml: line 1: complex mapping keys (\"? \") are not read");
    refused("a: *nope\n", "t.yaml: line 1: alias *nope names no anchor above it");
    refused("a: 1\n  b: 2\n", "t.yaml: line 2: unexpected indentation: 2 spaces where the mapping above has 0 spaces");
    refused("a:\n  b: 1\n c: 2\n", "t.yaml: line 3: unexpected indentation: 1 space where the mapping above has 0 spaces");
    refused("- a\nb: 1\n", "t.yaml: line 2: unexpected text after the document: \"b: 1\"");
    refused("a: [1, 2\n", "t.yaml: line 1: the [ is not closed");
    refused("<<: *x\n", "t.yaml: line 1: merge keys (<<) are not read");
    refused("a: \"\\q\"\n", "t.yaml: line 1: unknown escape \\q in a double-quoted string");
    refused("a: 1\nnum_lay\xA0rs: 2\n", "t.yaml: line 2: not UTF-8 text (YAML files are UTF-8)");
    refused("a: \xC0\x80\n", "t.yaml: line 1: not UTF-8 text (YAML files are UTF-8)");  // an overlong NUL
    refused("a: \xED\xA0\x80\n", "t.yaml: line 1: not UTF-8 text (YAML files are UTF-8)");  // a surrogate
    // 200 levels of nesting, and aliases that would expand to 10^9 values: refused, not recursed.
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += std::string(static_cast<std::size_t>(2 * i), ' ') + "k:\n";
    CHECK_THROWS_WITH(read_yaml(deep, "t.yaml"), Catch::Contains("nested more than 100 levels deep"));
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'j'; ++c)
        bomb += std::string(1, c) + ": &" + c + " [*" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
                static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
                static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + ", *" +
                static_cast<char>(c - 1) + ", *" + static_cast<char>(c - 1) + "]\n";
    CHECK_THROWS_WITH(read_yaml(bomb, "t.yaml"), Catch::Contains("more than 1,000,000 values (aliases expanded)"));
}
