// test_profile_comm.cpp — `llmplan profile comm` without a GPU: the refusal in one line (exit 2)
// where the GPU backend module, NCCL in it or GPUs are missing, its flag checks, and the report, table and calibration merge
// built from ranks' results (profiler/comm_bench.h) as the children would return them.
#include "cli/app.h"
#include "cli_run.h"
#include "core/error.h"
#include "profiler/comm_bench.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

using namespace llmplan;
using nlohmann::ordered_json;

namespace {

using Result = test::CliResult;
Result run(std::vector<std::string> args) { return test::run_cli(std::move(args)); }

void expect_refusal(std::vector<std::string> args, const std::string& needle) {
    const Result r = run(args);
    INFO("args: " << Catch::Detail::stringify(args) << "\nerr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.rfind("llmplan profile comm: error: ", 0) == 0);
    CHECK(r.err.find(needle) != std::string::npos);
}

// One rank's result as run_comm_rank returns it.
ordered_json rank_result(int rank, int world, const std::vector<double>& times, unsigned long long errors = 0) {
    ordered_json j;
    j["rank"] = rank;
    j["world"] = world;
    j["device"] = {{"index", rank}, {"name", "NVIDIA H100 80GB HBM3"}, {"pci_bus_id", "0000:00:0" + std::to_string(6 + rank) + ".0"},
                   {"total_memory_bytes", 85017493504ull}};
    j["nccl_version_code"] = 22803;
    j["cuda_runtime_version_code"] = 13000;
    j["cuda_driver_version_code"] = 13000;
    j["results"] = ordered_json::array();
    j["results"].push_back({{"collective", "all_reduce"}, {"bytes", 1048576}, {"count", 262144}, {"time_us", times[0]}, {"errors", errors}});
    j["results"].push_back({{"collective", "all_gather"}, {"bytes", 1048576}, {"count", 131072}, {"time_us", times[1]}, {"errors", 0}});
    return j;
}

profiler::BusbwRunInfo info() {
    profiler::BusbwRunInfo i;
    i.command = "llmplan profile comm --gpus 2";
    i.date = "2026-11-25T17:01:20Z";
    i.host = "vm";
    i.launch = "test";
    i.nccl_env = {{"NCCL_NVLS_ENABLE", "0"}};
    return i;
}

}  // namespace

TEST_CASE("profile comm: refused in one line, exit 2, where it cannot run (no module, no NCCL, no GPU or too few)",
          "[cli][profile][comm]") {
    // No machine running the unit tests has 4096 GPUs: no GPU backend module (or no NCCL in it),
    // no GPU, or too few; comm_visible_gpus says which.
    std::string why;
    const int visible = profiler::comm_visible_gpus(&why);
    expect_refusal({"profile", "comm", "--gpus", "4096"}, visible == 0 ? "needs a GPU: " + why : "GPUs asked");
    if (visible == 0) expect_refusal({"profile", "comm"}, "needs a GPU: " + why);
}

TEST_CASE("profile comm: bad flags are refused before any GPU is touched, naming the flag", "[cli][profile][comm][errors]") {
    expect_refusal({"profile", "comm", "--gpus", "two"}, "--gpus");
    expect_refusal({"profile", "comm", "--gpus", "0"}, "--gpus");
    expect_refusal({"profile", "comm", "--min-bytes", "1M"}, "--min-bytes: \"1M\" is ambiguous");
    expect_refusal({"profile", "comm", "--max-bytes", "1.5B"}, "--max-bytes");
    expect_refusal({"profile", "comm", "--min-bytes", "2GiB", "--max-bytes", "1MiB"}, "larger than --max-bytes");
    expect_refusal({"profile", "comm", "--iters", "0"}, "--iters");
    expect_refusal({"profile", "comm", "--warmup", "-1"}, "--warmup");
    expect_refusal({"profile", "comm", "--dtype", "int8"}, "--dtype: \"int8\"");
    expect_refusal({"profile", "comm", "--collectives", "all_to_all"}, "--collectives: \"all_to_all\"");
    expect_refusal({"profile", "comm", "--timeout", "0"}, "--timeout");
    expect_refusal({"profile", "comm", "--world", "2"}, "set by llmplan for its ranks");
    const Result help = run({"profile", "comm", "--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("--max-bytes") != std::string::npos);
    CHECK(help.out.find("--rank") == std::string::npos);  // the children's flags stay hidden
}

TEST_CASE("profile comm: ranks' results make an llmplan.nccl_busbw/1 report (slowest rank, nccl-tests busbw)",
          "[profile][comm]") {
    profiler::CommBenchOptions o;
    o.kinds = {dist::CommKind::all_reduce, dist::CommKind::all_gather};
    // The order of the ranks' files does not matter.
    const ordered_json report = profiler::busbw_report({rank_result(1, 2, {40.0, 20.0}, 3), rank_result(0, 2, {35.0, 25.0})}, o, info());
    CHECK(report["schema"] == "llmplan.nccl_busbw/1");
    CHECK(report["gpu_count"] == 2);
    CHECK(report["devices"][1]["pci_bus_id"] == "0000:00:07.0");
    CHECK(report["nccl_version"] == "2.28.3");
    CHECK(report["cuda_runtime_version"] == "13.0");
    CHECK(report["nccl_env"]["NCCL_NVLS_ENABLE"] == "0");
    CHECK(report["dtype"] == "float");
    REQUIRE(report["results"].size() == 2);
    const auto& ar = report["results"][0];
    CHECK(ar["time_us"].get<double>() == 40.0);          // the slowest rank
    CHECK(ar["min_gpu_time_us"].get<double>() == 35.0);  // the fastest
    CHECK(ar["algbw_GBps"].get<double>() == Approx(1048576 / 40e-6 / 1e9).margin(1e-3));
    CHECK(ar["busbw_factor"].get<double>() == 1.0);      // 2(n−1)/n for n = 2
    CHECK(ar["busbw_GBps"].get<double>() == Approx(26.214).margin(1e-3));
    CHECK(ar["errors"] == 3);
    const auto& ag = report["results"][1];
    CHECK(ag["busbw_factor"].get<double>() == 0.5);      // (n−1)/n
    CHECK(ag["busbw_GBps"].get<double>() == Approx(1048576 / 25e-6 / 1e9 / 2).margin(1e-3));
    CHECK(profiler::busbw_errors(report) == 3);
    const std::string table = profiler::busbw_table(report);
    CHECK(table.find("2 × NVIDIA H100 80GB HBM3, NCCL 2.28.3") != std::string::npos);
    CHECK(table.find("all_gather") != std::string::npos);
    // A missing rank, a rank twice, or ranks that measured other rows: refused.
    CHECK_THROWS(profiler::busbw_report({rank_result(0, 2, {1, 1}), rank_result(0, 2, {1, 1})}, o, info()));
    ordered_json odd = rank_result(1, 2, {1, 1});
    odd["results"][1]["bytes"] = 2097152;
    CHECK_THROWS(profiler::busbw_report({rank_result(0, 2, {1, 1}), odd}, o, info()));
}

TEST_CASE("profile comm --out: only the calibration file's \"collectives\" change", "[profile][comm]") {
    profiler::CommBenchOptions o;
    const ordered_json report = profiler::busbw_report({rank_result(0, 2, {35.0, 25.0}), rank_result(1, 2, {40.0, 20.0})}, o, info());
    SECTION("a new file") {
        const ordered_json j = ordered_json::parse(profiler::merge_collectives("", report, "--out c.json"));
        CHECK(j["schema"] == "llmplan.calibration/1");
        CHECK(j["gpu"] == "NVIDIA H100 80GB HBM3");
        REQUIRE(j["collectives"].size() == 2);
        CHECK(j["collectives"][0]["collective"] == "all_reduce");
        CHECK(j["collectives"][0]["gpus"] == 2);
        CHECK(j["collectives"][0]["dtype"] == "float");
        CHECK(j["collectives"][0]["time_us"].get<double>() == 40.0);
        CHECK(j["collectives"][0]["busbw_GBps"] == report["results"][0]["busbw_GBps"]);
    }
    SECTION("an existing file keeps its other keys and the other GPU counts' entries") {
        ordered_json old;
        old["schema"] = "llmplan.calibration/1";
        old["gpu"] = "NVIDIA H100 80GB HBM3";
        old["gemm_efficiency"] = 0.7;
        old["engine_kernels"] = ordered_json::array({{{"kernel", "linear_forward"}, {"seconds", 1e-4}}});
        old["collectives"] = ordered_json::array(
            {{{"collective", "all_reduce"}, {"gpus", 2}, {"dtype", "float"}, {"bytes", 1048576}, {"time_us", 99.0}},
             {{"collective", "all_reduce"}, {"gpus", 4}, {"dtype", "float"}, {"bytes", 1048576}, {"time_us", 50.0}},
             {{"collective", "all_reduce"}, {"gpus", 2}, {"dtype", "bfloat16"}, {"bytes", 1048576}, {"time_us", 30.0}}});
        const ordered_json j = ordered_json::parse(profiler::merge_collectives(old.dump(), report, "--out c.json"));
        CHECK(j["gemm_efficiency"] == 0.7);
        CHECK(j["engine_kernels"] == old["engine_kernels"]);
        REQUIRE(j["collectives"].size() == 4);  // the 4-GPU and bf16 entries kept, the 2-GPU float one replaced
        CHECK(j["collectives"][0]["gpus"] == 4);
        CHECK(j["collectives"][1]["dtype"] == "bfloat16");
        CHECK(j["collectives"][2]["time_us"].get<double>() == 40.0);
        // Keys keep their order: nothing but "collectives" moved.
        std::vector<std::string> keys;
        for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
        CHECK(keys == std::vector<std::string>{"schema", "gpu", "gemm_efficiency", "engine_kernels", "collectives"});
    }
    SECTION("files that are not calibrations of this GPU are refused") {
        CHECK_THROWS_WITH(profiler::merge_collectives("{", report, "--out c.json"), Catch::Equals("--out c.json: not valid JSON at line 1, column 2: the text ends where an object key should be, expected a quoted key"));
        CHECK_THROWS_AS(profiler::merge_collectives(R"({"schema": "llmplan.profile/1"})", report, "--out c.json"), InputError);
        CHECK_THROWS_WITH(profiler::merge_collectives(R"({"gpu": "NVIDIA A100-SXM4-80GB"})", report, "--out c.json"),
                          Catch::Contains("measured on NVIDIA A100-SXM4-80GB"));
        CHECK_THROWS_AS(profiler::merge_collectives(R"({"collectives": 3})", report, "--out c.json"), InputError);
    }
}

TEST_CASE("profile comm: collectives and dtypes as the flags name them", "[profile][comm]") {
    CHECK(profiler::parse_comm_dtype("bf16", "--dtype") == "bfloat16");
    CHECK(profiler::parse_comm_dtype("FP32", "--dtype") == "float");
    CHECK(profiler::parse_comm_dtype("fp16", "--dtype") == "half");
    CHECK(profiler::parse_comm_kinds("all", "--collectives").size() == 3);
    CHECK(profiler::parse_comm_kinds("reducescatter,all_reduce,reduce_scatter", "--collectives") ==
          std::vector<dist::CommKind>{dist::CommKind::reduce_scatter, dist::CommKind::all_reduce});
    CHECK_THROWS_AS(profiler::parse_comm_kinds(",", "--collectives"), InputError);
    CHECK(dist::busbw_sizes(1 << 20, 3 << 20) == std::vector<std::uint64_t>{1 << 20, 2 << 20});
    CHECK(dist::busbw_round_bytes(dist::CommKind::all_gather, 1000, 4, 3) == 996);
    CHECK(dist::busbw_count(dist::CommKind::reduce_scatter, 996, 4, 3) == 83);
    CHECK(dist::busbw_count(dist::CommKind::all_reduce, 996, 4, 3) == 249);
}
