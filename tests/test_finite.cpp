// test_finite.cpp — ranges and finite outputs (docs/RELIABILITY.md): the formatters and the report
// check refuse NaN, infinities and negative zero; a broad walk of the CLI's JSON reports finds only
// finite numbers; and each input that used to print "inf days", "-nan" or a negative parameter
// count is refused in one line naming the input.
#include "cli_run.h"

#include "cli/table.h"
#include "core/config.h"
#include "core/json.h"
#include "core/model.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "planner/scaling.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <stdexcept>

using namespace llmplan;

namespace {

using Result = test::CliResult;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// A bad-input run: exit 2, nothing on stdout, exactly one line on stderr containing every needle.
void expect_refusal(const std::vector<std::string>& args, const std::vector<std::string>& needles) {
    const Result r = test::run_cli(args);
    INFO("args: " << Catch::Detail::stringify(args) << "\nerr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(lines(r.err) == 1);
    for (const std::string& n : needles) CHECK(r.err.find(n) != std::string::npos);
}

// Every number in j, with its path; fails the test on the first that is not finite.
int count_numbers(const nlohmann::json& j, const std::string& path) {
    if (j.is_object()) {
        int n = 0;
        for (auto it = j.begin(); it != j.end(); ++it) n += count_numbers(it.value(), path + "." + it.key());
        return n;
    }
    if (j.is_array()) {
        int n = 0;
        for (std::size_t i = 0; i < j.size(); ++i) n += count_numbers(j[i], path + "[" + std::to_string(i) + "]");
        return n;
    }
    if (!j.is_number()) return 0;
    INFO(path);
    CHECK(std::isfinite(j.get<double>()));
    return 1;
}

std::string write_file(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST_CASE("formatters refuse NaN and infinities and never print -0", "[finite]") {
    for (double bad : {kNaN, kInf, -kInf}) {
        CHECK_THROWS_AS(format_fixed(bad, 2), std::logic_error);
        CHECK_THROWS_AS(format_count(bad), std::logic_error);
        CHECK_THROWS_AS(format_sci(bad), std::logic_error);
        CHECK_THROWS_AS(format_bytes(bad), std::logic_error);
        CHECK_THROWS_AS(cli::fixed(bad, 1), std::logic_error);
    }
    CHECK_THROWS_WITH(format_fixed(kNaN, 1), Catch::StartsWith("format_fixed: asked to print NaN"));
    CHECK(format_fixed(-0.0, 2) == "0.00");
    CHECK(format_fixed(-0.001, 2) == "0.00");  // rounds to zero: no sign
    CHECK(format_fixed(-0.006, 2) == "-0.01");
    CHECK(format_fixed(2.345, 1) == "2.3");
    CHECK(format_count(-0.0) == "0");
    CHECK(format_sci(-0.0) == "0.00e+00");
    CHECK(format_bytes(-0.0) == "0.00 GiB");
    CHECK(parse_real("-0", "--price-per-gpu-hour", 0, 1e6) == 0.0);
    CHECK_FALSE(std::signbit(parse_real("-0", "--price-per-gpu-hour", 0, 1e6)));
}

TEST_CASE("a table cell that prints nan or inf is an llmplan bug", "[finite]") {
    cli::Table t({"a", "b"});
    CHECK_NOTHROW(t.add({"infer", "Infinity Fabric"}));  // words, not numbers
    CHECK_THROWS_AS(t.add({"x", "-nan days"}), std::logic_error);
    CHECK_THROWS_AS(t.add({"x", "inf"}), std::logic_error);
}

TEST_CASE("check_report names the key path of a non-finite or impossible number", "[finite]") {
    nlohmann::json j = {{"perf", {{"step_seconds", 1.5}, {"list", {1, 2, 3}}}}, {"delta", -2.0}};
    CHECK_NOTHROW(check_report(j, "plan report"));
    j["perf"]["step_seconds"] = kNaN;
    CHECK_THROWS_WITH(check_report(j, "plan report"),
                      Catch::StartsWith("plan report: $.perf.step_seconds is NaN (an llmplan bug"));
    j["perf"]["step_seconds"] = 1.0;
    j["perf"]["list"][1] = kInf;
    CHECK_THROWS_WITH(check_report(j, "r"), Catch::StartsWith("r: $.perf.list[1] is infinite"));
    j["perf"]["list"][1] = -0.0;
    CHECK_THROWS_WITH(check_report(j, "r"), Catch::StartsWith("r: $.perf.list[1] is a negative zero"));
    j["perf"]["list"][1] = 2;
    j["perf"]["peak_bytes"] = -5;
    CHECK_THROWS_WITH(check_report(j, "r"), Catch::StartsWith("r: $.perf.peak_bytes is negative"));
    j["perf"]["peak_bytes"] = 5;
    j["error_pct"] = {{"step_seconds", -3.5}};  // a difference may be negative
    CHECK_NOTHROW(check_report(j, "r"));
    CHECK(report_text(j, "r", -1) == j.dump() + "\n");
    nlohmann::ordered_json o = {{"tokens", -1.0}};
    CHECK_THROWS_WITH(report_text(o, "r"), Catch::StartsWith("r: $.tokens is negative"));
}

TEST_CASE("every JSON report of a broad set of commands holds only finite numbers", "[finite][cli][json]") {
    std::vector<std::vector<std::string>> commands = {
        {"gpus", "--json"},
        {"models", "--json"},
        {"scaling", "--compute", "5.76e23", "--json"},
        {"scaling", "--compute", "1e21", "--law", "kaplan", "--json"},
        {"scaling", "--compute", "1e21", "--law", "tokens-per-param", "--json"},
        {"scaling", "--params", "70B", "--json"},
        {"scaling", "--tokens", "2T", "--json"},
        {"scaling", "--params", "7B", "--tokens", "2T", "--json"},
        {"scaling", "--compute", "1e22", "--inference-tokens", "1T", "--json"},
        {"scaling", "--isoflop", "1e19,1e21", "--points", "4", "--json"},
        {"scaling", "--gpus", "64", "--days", "10", "--gpu", "v100-32g", "--json"},
        {"scaling", "--compute", "1e21", "--flops", "exact", "--json"},
        {"plan", "--params", "7B", "--gpu", "v100-32g", "--precision", "mixed-fp16", "--json"},
        {"plan", "--params", "7B", "--gpu", "a100-80g", "--precision", "fp8", "--json"},
        {"plan", "--params", "7B", "--price-per-gpu-hour", "-0", "--json"},
        {"plan", "--params", "10M", "--json"},
        {"plan", "--params", "1T", "--gpus", "1536", "--tp", "8", "--pp", "12", "--zero", "1", "--json"},
        {"search", "--model", "llama-2-7b", "--gpus", "8", "--top", "3", "--json"},
        {"infer", "--model", "llama-2-7b", "--json"},
        {"infer", "--model", "llama-2-7b", "--weights", "int4", "--batch", "32", "--json"},
    };
    for (const char* model : {"deepseek-v3", "qwen3-30b-a3b", "gemma-3-27b", "gpt-oss-20b", "llama-4-scout",
                              "qwen3-0.6b", "gemma-2-9b", "deepseek-v2-lite", "bloom-560m", "qwen3-8b"}) {
        commands.push_back({"models", model, "--json"});
        commands.push_back({"plan", "--model", model, "--gpus", "64", "--zero", "3", "--recompute", "full", "--json"});
        commands.push_back({"plan", "--model", model, "--gpu", "v100-32g", "--precision", "amp-fp16", "--json"});
        commands.push_back({"infer", "--model", model, "--gpu", "h200", "--tp", "8", "--weights", "fp8", "--json"});
    }
    int numbers = 0;
    for (const auto& args : commands) {
        INFO("args: " << Catch::Detail::stringify(args));
        const Result r = test::run_cli(args);
        INFO("err: " << r.err);
        REQUIRE(r.code == 0);
        const nlohmann::json j = nlohmann::json::parse(r.out);
        numbers += count_numbers(j, "$");
        CHECK_NOTHROW(check_report(j, "report"));
    }
    CHECK(numbers > 5000);  // 6,662 numbers when this was written
}

TEST_CASE("fp8 on a GPU without fp8 or bf16 throughput is refused, naming the flag and the GPU", "[finite][cli]") {
    expect_refusal({"plan", "--params", "7B", "--gpu", "v100-32g", "--precision", "fp8"},
                   {"--precision fp8: the v100-32g (NVIDIA Tesla V100 SXM2 32GB) has no fp8 or bf16 matrix throughput",
                    "choose one of fp32, amp-bf16, amp-fp16, mixed-bf16, mixed-fp16, bf16"});
    expect_refusal({"infer", "--model", "llama-2-7b", "--gpu", "v100-32g", "--weights", "fp8"}, {"--weights fp8: the v100-32g"});
    // A100 has no fp8 but falls back to bf16 as the precision table documents.
    const Result a100 = test::run_cli({"plan", "--params", "7B", "--gpu", "a100-80g", "--precision", "fp8"});
    CHECK(a100.code == 0);
    CHECK(a100.out.find("inf") == std::string::npos);
}

TEST_CASE("sizes whose products leave int64 are refused, not printed as negative counts", "[finite][model]") {
    ModelSpec m = preset_or_throw("llama-2-7b", "t");
    m.d_model = 1 << 20;
    m.n_heads = 1024;
    m.n_kv_heads = 1024;
    m.head_dim = 1024;
    m.vocab_size = std::int64_t{1} << 32;
    CHECK_THROWS_WITH(validate_model(m, "--hf-config big.json"),
                      Catch::StartsWith("--hf-config big.json: the sizes give ") && Catch::Contains("more than 10^15"));
    const std::string path = write_file("finite_big_config.json", R"({"model_type": "llama", "hidden_size": 1048576,
        "intermediate_size": 16777216, "num_hidden_layers": 100000, "num_attention_heads": 1024,
        "vocab_size": 4294967296, "max_position_embeddings": 4096})");
    expect_refusal({"plan", "--hf-config", path}, {"--hf-config", "more than 10^15"});
    std::remove(path.c_str());
    // Tokens per step = global batch × sequence, checked before it reaches 64-bit arithmetic.
    expect_refusal({"plan", "--params", "7B", "--global-batch", "1099511627776", "--seq", "16777216"},
                   {"--global-batch 1099511627776 × --seq 16777216 is more than 10^15 tokens per step"});
    expect_refusal({"plan", "--params", "7B", "--global-batch", "1099511627776", "--seq", "4096"},
                   {"is more than 10^15 tokens per step"});
}

TEST_CASE("degenerate scaling laws and fits are refused naming the input", "[finite][scaling]") {
    const std::string tiny = write_file("finite_tiny_law.json", R"({"E": 1.7, "A": 400, "B": 400, "alpha": 1e-9, "beta": 0.3})");
    expect_refusal({"scaling", "--law-file", tiny, "--compute", "1e21"},
                   {"--law-file " + tiny + ": \"alpha\" = 1.00e-09 is outside [1.00e-02, 5.00e+00]: the law is degenerate"});
    const std::string huge = write_file("finite_huge_law.json", R"({"E": 1.7, "A": 400, "B": 400, "alpha": 0.3, "beta": 1e9})");
    expect_refusal({"scaling", "--law-file", huge, "--compute", "1e21"}, {"\"beta\" = 1.00e+09 is outside"});
    // Constants in range whose frontier still overflows: G = (αA/(βB))^(1/(α+β)).
    const std::string flat = write_file("finite_flat_law.json", R"({"E": 1.7, "A": 1e20, "B": 1e-20, "alpha": 0.01, "beta": 0.01})");
    expect_refusal({"scaling", "--law-file", flat, "--compute", "1e21"},
                   {"scaling law \"file\"", "is degenerate at 1.00e+21 FLOPs", "alpha 1.00e-02, beta 1.00e-02"});
    expect_refusal({"scaling", "--law-file", flat, "--params", "7B", "--then-plan"}, {"scaling law \"file\"", "is degenerate"});
    expect_refusal({"scaling", "--law-file", flat, "--tokens", "1T"}, {"is degenerate"});
    for (const std::string& p : {tiny, huge, flat}) std::remove(p.c_str());

    std::string one_size = "parameters,tokens,loss\n";
    for (int i = 1; i <= 8; ++i) one_size += "1e9," + std::to_string(i) + "e10," + std::to_string(3.0 - 0.1 * i) + "\n";
    const std::string same = write_file("finite_one_size.csv", one_size);
    expect_refusal({"scaling", "--fit", same}, {"--fit: every run has 1.00e+09 parameters; fitting A and alpha needs runs at two or more model sizes"});
    const std::string flops = write_file("finite_flops.csv", "parameters,flops,loss\n1e9,1e300,2.5\n");
    expect_refusal({"scaling", "--fit", flops}, {"--fit " + flops + " line 2, column 5 (FLOPs): 1e300 is outside [1.00e+00, 1.00e+40]"});
    const std::string tiny_n = write_file("finite_tiny_n.csv", "parameters,flops,loss\n1e-300,1e20,2.5\n");
    expect_refusal({"scaling", "--fit", tiny_n}, {"(parameters): 1e-300 is outside [1.00e+00, 1.00e+15]"});
    for (const std::string& p : {same, flops, tiny_n}) std::remove(p.c_str());
    // validate_law directly.
    ScalingLaw law = scaling_laws().front();
    CHECK_NOTHROW(validate_law(law, "x"));
    law.E = kNaN;
    CHECK_THROWS_WITH(validate_law(law, "x"), Catch::Contains("\"E\" = 0.00e+00 (not finite) is outside"));
}

TEST_CASE("absurd calibration collectives and a negative-zero price are refused or printed as 0", "[finite][cli][perf]") {
    const std::string cal = write_file("finite_calibration.json",
                                       R"({"collectives": [{"collective": "all_reduce", "gpus": 8, "bytes": 1e-300, "time_us": 1e300}]})");
    expect_refusal({"plan", "--params", "7B", "--gpus", "8", "--calibration", cal},
                   {"--calibration " + cal + ": collectives[0]: \"bytes\" = 1e-300 is outside [1, 1e15]"});
    write_file(cal, R"({"collectives": [{"collective": "all_reduce", "gpus": 8, "bytes": 1024, "time_us": 1e300}]})");
    expect_refusal({"plan", "--params", "7B", "--gpus", "8", "--calibration", cal}, {"\"time_us\" = 1e+300 is outside [0.001, 1e10]"});
    write_file(cal, R"({"collectives": [{"collective": "all_reduce", "gpus": 1000000000000, "bytes": 1024, "time_us": 10}]})");
    expect_refusal({"plan", "--params", "7B", "--gpus", "8", "--calibration", cal}, {"\"gpus\" = 1000000000000 is outside"});
    std::remove(cal.c_str());

    const Result r = test::run_cli({"plan", "--params", "7B", "--price-per-gpu-hour", "-0"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("$-0") == std::string::npos);
    CHECK(r.out.find("$0.00 per GPU-hour") != std::string::npos);
}
