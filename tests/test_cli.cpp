// test_cli.cpp — the command line in-process: exit codes, one-line errors, tables and JSON.
#include "cli/app.h"
#include "cli_run.h"

#include "core/gpu.h"
#include "core/presets.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "planner/report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace llmplan;

namespace {

using Result = test::CliResult;
Result run(std::vector<std::string> args) { return test::run_cli(std::move(args)); }

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// A bad-input run: exit 2, nothing on stdout, exactly one line on stderr containing `needle`.
void expect_input_error(std::vector<std::string> args, const std::string& needle) {
    const Result r = run(args);
    INFO("args: " << Catch::Detail::stringify(args) << "\nerr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(lines(r.err) == 1);
    CHECK(r.err.find(needle) != std::string::npos);
}

}  // namespace

TEST_CASE("the README example: plan --params 7B --gpus 8 --zero 3", "[cli]") {
    const Result r = run({"plan", "--params", "7B", "--gpus", "8", "--zero", "3"});
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("6,738,415,616 parameters") != std::string::npos);
    CHECK(r.out.find("FITS") != std::string::npos);
    CHECK(r.out.find("ZeRO-3 shards over 8 data-parallel ranks") != std::string::npos);
    CHECK(r.out.find("Largest micro-batch that fits") != std::string::npos);
}

TEST_CASE("plan --json report carries the schema and the planner's numbers", "[cli][json]") {
    const Result r = run({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "3", "--seq", "4096", "--json"});
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["schema"] == "llmplan.plan/1");
    CHECK(j["model"]["parameters"] == 6738415616);
    const auto& g = j["memory"]["per_gpu"];
    CHECK(g["parameters_bytes"] == 842301952LL * 2);
    CHECK(g["gradients_bytes"] == 842301952LL * 2);
    CHECK(g["optimizer_bytes"] == 842301952LL * 12);
    CHECK(g["activations_bytes"] == 17330864128LL);
    CHECK(g["peak_allocated_bytes"] == 32546283520LL);
    CHECK(g["reserved_estimate_bytes"].is_number_integer());
    CHECK(j["memory"]["gpu_capacity_bytes"] == 85017493504LL);
    CHECK(j["memory"]["fits"] == true);
    CHECK(j["inputs"]["parallel"]["dp"] == 8);
    CHECK(j["inputs"]["precision"] == "mixed-bf16");
    CHECK(j["inputs"]["model"]["layers"] == 32);
    CHECK(j["memory"]["terms"].size() >= 8);
}

TEST_CASE("plan --report writes the same JSON atomically, and nothing on a bad path", "[cli][json]") {
    const std::string path = "llmplan_test_report.json";
    std::remove(path.c_str());
    const Result r = run({"plan", "--model", "gpt2-124m", "--report", path});
    REQUIRE(r.code == 0);
    std::ifstream f(path);
    REQUIRE(f.good());
    const nlohmann::json j = nlohmann::json::parse(f);
    CHECK(j["model"]["parameters"] == 124439808);
    const Result json = run({"plan", "--model", "gpt2-124m", "--json"});
    CHECK(nlohmann::json::parse(json.out) == j);
    std::remove(path.c_str());

    const Result bad = run({"plan", "--model", "gpt2-124m", "--report", "/nonexistent-dir/r.json"});
    CHECK(bad.code == 1);
    CHECK(bad.out.empty());
    CHECK(lines(bad.err) == 1);
    CHECK(bad.err.find("--report: cannot write \"/nonexistent-dir/r.json\"") != std::string::npos);
}

TEST_CASE("bad input: one line naming the flag and value, exit code 2", "[cli][errors]") {
    expect_input_error({"plan", "--params", "7Q"}, "--params: \"7Q\"");
    expect_input_error({"plan", "--params", "-5"}, "--params: \"-5\"");
    expect_input_error({"plan", "--params", ""}, "--params");
    expect_input_error({"plan", "--params", "nan"}, "--params: \"nan\"");
    expect_input_error({"plan", "--model", "llama-2-8b"}, "did you mean \"llama-2-7b\"?");
    expect_input_error({"plan", "--model", "llama-2-7b", "--tp", "3", "--gpus", "6"},
                       "--tp 3 does not divide the 32 attention heads");
    expect_input_error({"plan", "--model", "llama-2-7b", "--gpus", "6", "--tp", "4"}, "--gpus 6 is not divisible");
    expect_input_error({"plan", "--model", "llama-2-7b", "--gpus", "abc"}, "--gpus: \"abc\"");
    expect_input_error({"plan", "--model", "llama-2-7b", "--zero", "4"}, "--zero: \"4\"");
    expect_input_error({"plan", "--model", "llama-2-7b", "--precision", "fp9"}, "--precision: unknown precision \"fp9\"");
    expect_input_error({"plan", "--model", "llama-2-7b", "--gpu", "h300"}, "--gpu: unknown GPU \"h300\"");
    expect_input_error({"plan", "--model", "llama-2-7b", "--gpu-memory", "80G"}, "--gpu-memory: \"80G\" is ambiguous");
    expect_input_error({"plan", "--model", "llama-2-7b", "--units", "kb"}, "--units: \"kb\"");
    expect_input_error({"plan", "--model", "llama-2-7b", "--params", "7B"}, "give only one of them");
    expect_input_error({"plan"}, "no model given");
    expect_input_error({"plan", "--model", "llama-2-7b", "--frobnicate"}, "--frobnicate");
    expect_input_error({"plan", "--hf-config", "/nonexistent/config.json"}, "--hf-config");
    expect_input_error({"explode"}, "explode");
}

TEST_CASE("ZeRO-3 on one GPU plans, with a warning", "[cli]") {
    const Result r = run({"plan", "--model", "gpt2-124m", "--zero", "3"});
    CHECK(r.code == 0);
    CHECK(r.out.find("warning: ZeRO-3 on a single data-parallel rank shards nothing") != std::string::npos);
    const Result j = run({"plan", "--model", "gpt2-124m", "--zero", "3", "--json"});
    CHECK(j.code == 0);
    CHECK(nlohmann::json::parse(j.out)["warnings"].size() == 1);
    CHECK(j.err.find("warning") != std::string::npos);
}

TEST_CASE("models and gpus list the catalogs", "[cli]") {
    const Result models = run({"models"});
    CHECK(models.code == 0);
    for (const Preset& p : model_presets()) CHECK(models.out.find(p.name) != std::string::npos);
    const Result one = run({"models", "llama-2-7b"});
    CHECK(one.code == 0);
    CHECK(one.out.find("6,738,415,616") != std::string::npos);
    const Result gpus = run({"gpus"});
    CHECK(gpus.code == 0);
    for (const char* name : {"v100-32g", "a100-40g", "a100-80g", "h100-sxm", "h100-pcie", "h200", "b200", "mi300x", "l40s", "rtx-4090"})
        CHECK(gpus.out.find(name) != std::string::npos);
    const Result gj = run({"gpus", "--json"});
    CHECK(nlohmann::json::parse(gj.out)["gpus"].size() == gpu_catalog().size());
    CHECK(run({"--help"}).code == 0);
    CHECK(run({"plan", "--help"}).out.find("--zero") != std::string::npos);
}

TEST_CASE("plan --gpu works for the rows added for GH200, MI250X, MI355X, L4, A40 and RTX A6000", "[cli][gpu]") {
    for (const char* key : {"gh200", "gh200-144g", "mi250x", "mi355x", "l4", "a40", "rtx-a6000"}) {
        CAPTURE(key);
        const GpuSpec& g = gpu_or_throw(key, "--gpu");
        const Result r = run({"plan", "--model", "gpt2-124m", "--gpu", key, "--gpus", std::to_string(g.default_gpus_per_node)});
        CHECK(r.code == 0);
        CHECK(r.out.find(g.display_name) != std::string::npos);
        const Result j = run({"plan", "--model", "gpt2-124m", "--gpu", key, "--json"});
        REQUIRE(j.code == 0);
        CHECK(nlohmann::json::parse(j.out)["gpu"]["name"] == key);
    }
    // An alias and a name as the tools print it.
    CHECK(run({"plan", "--model", "gpt2-124m", "--gpu", "grace hopper"}).code == 0);
    CHECK(run({"plan", "--model", "gpt2-124m", "--gpu", "AMD Instinct MI250X", "--gpus", "8"}).code == 0);
}

TEST_CASE("pipeline plans print every stage", "[cli]") {
    const Result r = run({"plan", "--model", "llama-2-13b", "--gpus", "16", "--tp", "4", "--pp", "4", "--sp"});
    CHECK(r.code == 0);
    CHECK(r.out.find("Per pipeline stage") != std::string::npos);
    CHECK(r.out.find("most loaded pipeline stage 0 of 4") != std::string::npos);
}

TEST_CASE("plan --framework pytorch: TinyLlama as measured on an H100", "[cli][pytorch]") {
    // Measured (validation/pytorch_memory/pytorch_1gpu_h100.json, tl1b-amp-sdpa-b4-s2048):
    // max_memory_allocated 38,578,835,968 B with autocast bf16, SDPA, AdamW(fused), b 4, s 2048.
    const std::string cfg = std::string(LLMPLAN_TEST_DATA) + "/hf/tinyllama-1.1b.json";
    const Result r = run({"plan", "--hf-config", cfg, "--framework", "pytorch", "--micro-batch", "4", "--seq", "2048",
                          "--framework-option", "optimizer_impl=fused", "--json"});
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["inputs"]["framework"] == "pytorch");
    CHECK(j["inputs"]["precision"] == "amp-bf16");  // the profile's default
    const double peak = j["memory"]["per_gpu"]["peak_allocated_bytes"].get<double>();
    CHECK(std::abs(peak - 38578835968.0) / 38578835968.0 < 0.03);
    CHECK(j["memory"]["per_gpu"]["reserved_estimate_bytes"].get<double>() > peak);
    const Result t = run({"plan", "--hf-config", cfg, "--framework", "pytorch", "--micro-batch", "4", "--seq", "2048"});
    REQUIRE(t.code == 0);
    CHECK(t.out.find("torch.autocast(bfloat16)") != std::string::npos);
    CHECK(t.out.find("autocast weight copies") != std::string::npos);
    // Without the option the run is planned with PyTorch's default implementation, and says so.
    CHECK(t.out.find("adamw foreach (PyTorch's default for CUDA parameters") != std::string::npos);
}

TEST_CASE("plan --framework pytorch refuses what it does not model, naming the flag", "[cli][pytorch][errors]") {
    expect_input_error({"plan", "--params", "1B", "--framework", "pytorch", "--tp", "2", "--gpus", "2", "--precision", "amp-bf16"},
                       "--framework pytorch models data parallelism only");
    expect_input_error({"plan", "--params", "1B", "--framework", "pytorch", "--precision", "fp8"}, "--precision fp8");
    expect_input_error({"plan", "--params", "1B", "--framework", "pytorch", "--gpus", "2", "--zero", "3", "--precision", "bf16"},
                       "--zero 3");
    expect_input_error({"plan", "--model", "mixtral-8x7b", "--framework", "pytorch"}, "mixture-of-experts");
    expect_input_error({"plan", "--params", "1B", "--framework", "tensorflow"}, "--framework");
}

TEST_CASE("plan: time, communication and cost sections, and their JSON keys", "[cli][perf]") {
    const Result t = run({"plan", "--params", "7B", "--gpus", "8", "--zero", "3"});
    REQUIRE(t.code == 0);
    CHECK(t.out.find("Compute and time per step") != std::string::npos);
    CHECK(t.out.find("ZeRO-3 parameter all-gather, forward") != std::string::npos);
    CHECK(t.out.find("Training run") != std::string::npos);
    const Result r = run({"plan", "--model", "llama-2-7b", "--gpus", "16", "--zero", "1", "--global-batch", "256", "--tokens",
                          "1T", "--price-per-gpu-hour", "2", "--json"});
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["compute"]["tokens_per_step"] == 256.0 * 4096);
    CHECK(j["compute"]["flops_per_step"].get<double>() == Approx(j["compute"]["flops_per_token_model"].get<double>() * 256 * 4096));
    CHECK(j["communication"]["collectives"].size() == 2);  // reduce-scatter + all-gather
    CHECK(j["communication"]["collectives"][0]["link"] == "network");  // 16 GPUs on 2 nodes: dp spans them
    CHECK(j["communication"]["bytes_per_gpu_per_step"].get<double>() > 0);
    CHECK(j["time"]["step_seconds"].get<double>() > 0);
    CHECK(j["time"]["mfu"].get<double>() > 0.2);
    CHECK(j["time"]["mfu"].get<double>() < 0.8);
    CHECK(j["training"]["tokens"] == 1e12);
    CHECK(j["training"]["cost"].get<double>() == Approx(j["training"]["gpu_hours"].get<double>() * 2));
    CHECK(j["training"]["energy_kwh"].get<double>() > 0);
}

TEST_CASE("plan: cluster flags and a cluster file", "[cli][perf]") {
    const Result a = run({"plan", "--model", "llama-2-7b", "--gpus", "16", "--zero", "1", "--json"});
    const Result b = run({"plan", "--model", "llama-2-7b", "--gpus", "16", "--zero", "1", "--inter-node-bandwidth", "8x100Gb/s", "--json"});
    REQUIRE(a.code == 0);
    REQUIRE(b.code == 0);
    const nlohmann::json ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
    CHECK(jb["communication"]["cluster"]["network_bandwidth_per_gpu"].get<double>() == Approx(12.5e9));
    CHECK(jb["communication"]["seconds_per_step"].get<double>() > ja["communication"]["seconds_per_step"].get<double>());
    const std::string path = "cluster_test.json";
    {
        std::ofstream f(path);
        f << R"({"gpu": "a100-80g", "gpus": 32, "inter_node_bandwidth": "8x200Gb/s", "price_per_gpu_hour": 1.25})";
    }
    const Result c = run({"plan", "--model", "llama-2-7b", "--cluster", path, "--zero", "1", "--json"});
    std::remove(path.c_str());
    REQUIRE(c.code == 0);
    const nlohmann::json jc = nlohmann::json::parse(c.out);
    CHECK(jc["inputs"]["gpu"] == "a100-80g");
    CHECK(jc["inputs"]["parallel"]["gpus"] == 32);
    CHECK(jc["training"]["price_per_gpu_hour"] == 1.25);
    expect_input_error({"plan", "--params", "7B", "--inter-node-bandwidth", "fast"}, "--inter-node-bandwidth");
    expect_input_error({"plan", "--params", "7B", "--mfu", "2"}, "--mfu");
    expect_input_error({"plan", "--params", "7B", "--pue", "0.5"}, "--pue");
    expect_input_error({"plan", "--params", "7B", "--cluster", "no-such-cluster.json"}, "--cluster");
}

TEST_CASE("search: a table with the winner first, JSON and CSV, bad flags", "[cli][search]") {
    const Result t = run({"search", "--model", "llama-2-7b", "--gpus", "8", "--quiet"});
    REQUIRE(t.code == 0);
    CHECK(t.out.find("layouts/s") != std::string::npos);
    CHECK(t.out.find("Why #1:") != std::string::npos);
    CHECK(t.out.find("llmplan plan --model llama-2-7b") != std::string::npos);
    // The command printed for #1 plans the same job: precision, optimizer, framework and its
    // options as searched, so its step time is #1's.
    const std::vector<std::string> job = {"--model", "llama-2-7b", "--gpus", "16", "--gpu", "h100", "--precision", "fp8",
                                          "--optimizer", "sgd", "--framework", "megatron", "--framework-option",
                                          "grad_reduce_in_bf16=true"};
    std::vector<std::string> sargs = {"search", "--quiet", "--top", "1"};
    sargs.insert(sargs.end(), job.begin(), job.end());
    const Result st = run(sargs);
    REQUIRE(st.code == 0);
    const std::size_t at = st.out.find("llmplan plan ");
    REQUIRE(at != std::string::npos);
    const std::string line = st.out.substr(at, st.out.find('\n', at) - at);
    CHECK(line.find("--precision fp8") != std::string::npos);
    CHECK(line.find("--optimizer sgd") != std::string::npos);
    CHECK(line.find("--framework megatron --framework-option grad_reduce_in_bf16=true") != std::string::npos);
    std::vector<std::string> pargs;
    std::istringstream words(line.substr(std::string("llmplan ").size()));
    for (std::string w; words >> w;) pargs.push_back(w);
    pargs.push_back("--json");
    sargs.push_back("--json");
    const Result sj = run(sargs), pj = run(pargs);
    REQUIRE(sj.code == 0);
    REQUIRE(pj.code == 0);
    CHECK(nlohmann::json::parse(pj.out)["time"]["step_seconds"].get<double>() ==
          Approx(nlohmann::json::parse(sj.out)["layouts"][0]["step_seconds"].get<double>()).epsilon(1e-9));
    const Result j = run({"search", "--model", "llama-2-7b", "--gpus", "8", "--top", "3", "--json"});
    REQUIRE(j.code == 0);
    const nlohmann::json js = nlohmann::json::parse(j.out);
    CHECK(js["schema"] == "llmplan.search/1");
    CHECK(js["layouts"].size() == 3);
    CHECK(js["layouts"][0]["step_seconds"].get<double>() <= js["layouts"][1]["step_seconds"].get<double>());
    const Result c = run({"search", "--model", "llama-2-7b", "--gpus", "8", "--top", "2", "--csv"});
    REQUIRE(c.code == 0);
    CHECK(lines(c.out) == 3);  // header + 2 layouts
    expect_input_error({"search", "--model", "llama-2-7b", "--gpus", "8", "--rank", "speed"}, "--rank");
    expect_input_error({"search", "--model", "llama-2-7b", "--gpus", "8", "--zero-stages", "5"}, "--zero-stages");
    expect_input_error({"search", "--model", "llama-2-7b", "--gpus", "8", "--json", "--csv"}, "--json and --csv");
    const Result none = run({"search", "--model", "llama-3.1-405b", "--gpu", "rtx-4090", "--gpus", "2", "--quiet"});
    CHECK(none.code == 1);
    CHECK(none.out.find("No layout fits") != std::string::npos);
}

TEST_CASE("search --headroom keeps only layouts with that share of the card free, infer warns on bf16 without bf16", "[cli][search]") {
    const Result h = run({"search", "--model", "llama-2-7b", "--gpus", "8", "--headroom", "5%", "--top", "500", "--json"});
    REQUIRE(h.code == 0);
    const nlohmann::json layouts = nlohmann::json::parse(h.out)["layouts"];
    CHECK(layouts.size() > 10);
    for (const auto& l : layouts) {  // headroom ≥ 5% of the capacity (device total + headroom)
        const double headroom = l["headroom_bytes"].get<double>(), total = l["device_total_bytes"].get<double>();
        CHECK(headroom >= 0.05 * (total + headroom) * (1 - 1e-12));
    }
    const Result t = run({"search", "--model", "llama-2-7b", "--gpus", "8", "--headroom", "5", "--quiet"});
    REQUIRE(t.code == 0);
    CHECK(t.out.find("with 5.0% of it free (--headroom)") != std::string::npos);
    expect_input_error({"search", "--model", "llama-2-7b", "--gpus", "8", "--headroom", "100"}, "--headroom");
    expect_input_error({"search", "--model", "llama-2-7b", "--gpus", "8", "--headroom", "five"}, "--headroom");
    const Result i = run({"infer", "--model", "llama-2-7b", "--gpu", "v100-32g"});
    REQUIRE(i.code == 0);
    CHECK(i.out.find("warning: --weights bf16: the v100-32g (NVIDIA Tesla V100 SXM2 32GB) has no bf16 tensor cores") !=
          std::string::npos);
    CHECK(run({"infer", "--model", "llama-2-7b"}).out.find("warning:") == std::string::npos);
}

TEST_CASE("scaling: compute-optimal answer as table and JSON, and the hand-off to plan", "[cli][scaling]") {
    const Result t = run({"scaling", "--compute", "5.76e23"});
    REQUIRE(t.code == 0);
    CHECK(t.out.find("law epoch") != std::string::npos);
    CHECK(t.out.find("llmplan plan --params") != std::string::npos);
    const Result j = run({"scaling", "--compute", "5.76e23", "--json"});
    REQUIRE(j.code == 0);
    const nlohmann::json js = nlohmann::json::parse(j.out);
    CHECK(js["schema"] == "llmplan.scaling/1");
    CHECK(js["law"]["name"] == "epoch");
    CHECK(js["compute_flops"] == 5.76e23);
    const double n = js["optimal"]["parameters"], d = js["optimal"]["tokens"];
    CHECK(6 * n * d == Approx(5.76e23));
    CHECK(js["optimal"]["loss"].get<double>() > 1.8);
    CHECK(js["architecture"]["layers"].get<int>() > 0);
    const Result budget = run({"scaling", "--gpus", "64", "--days", "10", "--gpu", "a100-80g", "--mfu", "0.5", "--json"});
    REQUIRE(budget.code == 0);
    CHECK(nlohmann::json::parse(budget.out)["compute_flops"].get<double>() == Approx(64 * 10 * 24 * 3600 * 312e12 * 0.5));
    const Result then = run({"scaling", "--compute", "1e21", "--then-plan", "--gpus", "8"});
    REQUIRE(then.code == 0);
    CHECK(then.out.find("Memory per GPU") != std::string::npos);
    CHECK(then.out.find("Training run") != std::string::npos);
}

TEST_CASE("scaling: --fit writes a law that --law-file reads: CSV curves: bad input", "[cli][scaling]") {
    const std::string law = "fitted_law_test.json";
    const Result f = run({"scaling", "--fit", std::string(LLMPLAN_TEST_DATA) + "/chinchilla_fig4_points.csv",
                          "--drop-highest-loss", "5", "--out", law});
    REQUIRE(f.code == 0);
    CHECK(f.out.find("alpha") != std::string::npos);
    const Result use = run({"scaling", "--law-file", law, "--compute", "5.76e23", "--json"});
    std::remove(law.c_str());
    REQUIRE(use.code == 0);
    const double tpp = nlohmann::json::parse(use.out)["optimal"]["tokens_per_parameter"];
    CHECK(tpp > 15);
    CHECK(tpp < 25);
    const Result csv = run({"scaling", "--isoflop", "1e20,1e21", "--points", "5", "--csv"});
    REQUIRE(csv.code == 0);
    CHECK(lines(csv.out) == 11);  // header + 2 × 5
    expect_input_error({"scaling"}, "nothing to answer");
    expect_input_error({"scaling", "--compute", "abc"}, "--compute");
    expect_input_error({"scaling", "--law", "chinchila", "--compute", "1e21"}, "did you mean");
    expect_input_error({"scaling", "--compute", "1e21", "--params", "7B"}, "not both");
    expect_input_error({"scaling", "--fit", "no-such-runs.csv"}, "--fit");
    expect_input_error({"scaling", "--days", "3"}, "--days needs --gpus");
}

TEST_CASE("plan --kernel-table: a user's table is used and named, a bad one refused in one line", "[cli][perf][kernel_table]") {
    const std::string path = "kernel_table_test.json";
    {
        std::ofstream f(path);
        f << R"({"schema": "llmplan.kernel-tables/1", "gemm": [{"dtype": "bf16", "m": 4096, "n": 4096, "k": 4096, "tflops": 400}]})";
    }
    const Result r = run({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "1", "--kernel-table", path, "--json"});
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    // One bf16 point: every GEMM at 400 TFLOP/s × the sustained fraction; attention from the H100's
    // built-in (measured) table, which the file's rows extend.
    CHECK(j["compute"]["gemm_efficiency"].get<double>() == Approx(400e12 * kKernelTableSustained / 989.4e12).epsilon(1e-12));
    const std::string gemm = j["compute"]["rate_sources"]["gemm"].get<std::string>();
    CHECK(gemm.find("kernel table (--kernel-table " + path + " over the built-in table, measured on an H100 SXM5 80GB") == 0);
    CHECK(j["compute"]["rate_sources"]["attention"].get<std::string>().find("kernel table: flash_attention rows") == 0);
    {
        std::ofstream f(path);
        f << R"({"schema": "llmplan.kernel-tables/1", "gemm": [{"dtype": "bf16", "m": 4096, "n": 4096, "k": 4096, "tflops": "fast"}]})";
    }
    expect_input_error({"plan", "--model", "llama-2-7b", "--kernel-table", path},
                       "--kernel-table " + path + ": gemm[0].tflops must be a positive number (is \"fast\")");
    expect_input_error({"plan", "--model", "llama-2-7b", "--kernel-table", "no-such-table.json"}, "--kernel-table no-such-table.json");
    std::remove(path.c_str());
}

TEST_CASE("plan --calibration: a measured compute model replaces the built-in constants", "[cli][perf]") {
    const std::string path = "calibration_test.json";
    {
        std::ofstream f(path);
        f << R"({"gemm_efficiency": 0.4, "elementwise_traffic": 6.5, "memory_bandwidth": 2.0e12, "source": "test"})";
    }
    // Eager attention: every matmul at the GEMM efficiency (flash attention has its own on the H100);
    // the H100's fitted efficiency, not its kernel table (--kernel-table none).
    const Result base = run({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "1", "--attention", "eager",
                             "--kernel-table", "none", "--json"});
    const Result cal = run({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "1", "--attention", "eager",
                            "--calibration", path, "--json"});
    REQUIRE(base.code == 0);
    REQUIRE(cal.code == 0);
    const nlohmann::json jb = nlohmann::json::parse(base.out), jc = nlohmann::json::parse(cal.out);
    // H100's built-in GEMM fraction is 0.63: 0.4 makes the matmuls 0.63/0.4 times longer.
    CHECK(jc["time"]["matmul_seconds"].get<double>() == Approx(jb["time"]["matmul_seconds"].get<double>() * 0.63 / 0.4));
    // With flash attention the calibrated efficiency replaces the FlashAttention-2 figure too.
    const Result flash = run({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "1", "--calibration", path, "--json"});
    REQUIRE(flash.code == 0);
    const nlohmann::json jf = nlohmann::json::parse(flash.out);
    CHECK(jf["compute"]["attention_efficiency"].get<double>() == jf["compute"]["gemm_efficiency"].get<double>());
    CHECK(jb["compute"]["attention_efficiency"].get<double>() == jb["compute"]["gemm_efficiency"].get<double>());
    CHECK(jc["time"]["calibration"].get<std::string>().find("test") != std::string::npos);
    {
        std::ofstream f(path);
        f << R"({"gemm_efficiency": 3})";
    }
    expect_input_error({"plan", "--params", "7B", "--calibration", path}, "gemm_efficiency");
    std::remove(path.c_str());
    expect_input_error({"plan", "--params", "7B", "--calibration", "no-such-calibration.json"}, "--calibration");
}

TEST_CASE("profile: a predicted out-of-memory is refused before running, unless --force", "[cli][profile]") {
    const std::string cfg = std::string(LLMPLAN_TEST_DATA) + "/profile/tiny-gpt2.json";
    const std::vector<std::string> base{"profile", "--hf-config", cfg, "--device", "cpu", "--precision", "fp32",
                                        "--framework", "llmplan", "--micro-batch", "2", "--seq", "16", "--steps", "1",
                                        "--warmup", "0", "--gpu-memory", "256KB"};  // the plan needs 655,360 B
    expect_input_error(base, "predicts out of memory");
    std::vector<std::string> forced = base;
    forced.push_back("--force");
    const Result r = run(forced);
    CHECK(r.code == 0);  // the CPU reference has the memory the 256 KB "GPU" lacks
    CHECK(r.err.find("running anyway (--force)") != std::string::npos);
}

TEST_CASE("every report starts with its schema from planner/report: one model's reports name it and its origin", "[cli][json]") {
    struct Case {
        std::vector<std::string> args;
        const char* schema;
        const char* model;  // "model" {name, origin} right after "schema" (nullptr: not a one-model header)
    };
    const std::vector<Case> cases = {
        {{"plan", "--model", "gpt2-124m", "--json"}, kPlanSchema, nullptr},
        {{"infer", "--model", "llama-2-7b", "--json"}, kInferSchema, "llama-2-7b"},
        {{"search", "--model", "llama-2-7b", "--gpus", "8", "--top", "1", "--json"}, kSearchSchema, "llama-2-7b"},
        {{"scaling", "--compute", "1e21", "--json"}, kScalingSchema, nullptr},
    };
    for (const Case& c : cases) {
        const Result r = run(c.args);
        INFO(Catch::Detail::stringify(c.args));
        REQUIRE(r.code == 0);
        const nlohmann::ordered_json j = nlohmann::ordered_json::parse(r.out);
        CHECK(j.begin().key() == "schema");
        CHECK(j["schema"] == c.schema);
        if (c.model) {
            CHECK(std::next(j.begin()).key() == "model");
            CHECK(j["model"].begin().key() == "name");
            CHECK(j["model"]["name"] == c.model);
            CHECK(j["model"]["origin"] == std::string("preset ") + c.model);
        }
    }
    // The catalogs are sorted objects: the schema is there, not first.
    CHECK(nlohmann::json::parse(run({"gpus", "--json"}).out)["schema"] == kGpusSchema);
    CHECK(nlohmann::json::parse(run({"models", "--json"}).out)["schema"] == kModelsSchema);
    CHECK(nlohmann::json::parse(run({"models", "gpt2-124m", "--json"}).out)["schema"] == kModelSchema);
}
