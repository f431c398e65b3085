// test_pytorch_compile.cpp — `--compile` under `--framework pytorch` (planner/torch_compile.h):
// the tensors the min-cut partitioner keeps per layer, counted by hand, and the compiled runs
// measured on one H200 (validation/pytorch_memory/pytorch_choices_1gpu_h200.json, group
// "compile": measure.py wraps the model in torch.compile, inductor default mode, foreach AdamW).
// Six compiled runs are in-sample (the rules were checked against them), two are held out
// (measure.py marks them; their errors are the accuracy claim of docs/validation/pytorch_memory.md,
// "torch.compile"). Each must be within 5% of max_memory_allocated(). LLMPLAN_PRINT_TABLE=1
// prints the table of that section.
#include "cli_run.h"
#include "pytorch_fixtures.h"

#include "planner/memory.h"
#include "planner/pytorch_profile.h"
#include "planner/torch_compile.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace llmplan;
using nlohmann::json;

namespace {

TrainConfig compiled_job(Precision p) {
    TrainConfig c;
    c.framework = Framework::pytorch;
    c.precision = p;
    c.attention = Attention::flash;
    c.micro_batch = 2;
    c.seq = 32;
    c.framework_options.push_back({"compile", "inductor"});
    return c;
}

}  // namespace

TEST_CASE("torch.compile: what the partitioner keeps from one tiny Llama layer, counted by hand", "[pytorch][compile]") {
    // amp-bf16 (fp32 residual stream, bf16 matmuls), T = 64, every size 512-byte rounded:
    //   input_layernorm input 64·64·4 = 16,384; its rstd 64·4 = 256 → 512; normed input 64·64·2 = 8,192;
    //   q after rotary, K and V repeated to both heads, attention output: 64·64·2 = 8,192 each;
    //   log-sum-exp 2 batch · 2 heads · 32 · 4 = 512; residual after attention 16,384; its rstd 512;
    //   normed input of gate/up 8,192; gate, up and SiLU(gate)·up 64·128·2 = 16,384 each;
    //   autocast's bf16 copies of the 7 matmul weights (4,096 + 2,048 + 2,048 + 4,096 + 3 · 8,192 =
    //   36,864 elements) · 2 = 73,728.
    // 15 tensors: 16,384 + 512 + 5 · 8,192 + 512 + 16,384 + 512 + 8,192 + 3 · 16,384 = 132,608
    // activation bytes + 73,728 = 206,336.
    const std::vector<CompiledSaved> amp = compiled_layer_saved(test::hf_tiny_llama(), compiled_job(Precision::amp_bf16));
    REQUIRE(amp.size() == 15);
    double total = 0, casts = 0;
    for (const CompiledSaved& t : amp) {
        total += t.bytes;
        if (t.cat == torchsim::Cat::weight_cast) casts += t.bytes;
    }
    CHECK(total == 206336);
    CHECK(casts == 73728);
    CHECK(amp[0].bytes == 16384);
    CHECK(amp[4].name == "k after rotary, repeated to every head");
    CHECK(amp[4].bytes == 8192);
    // bf16 model: no weight copies, the residual stream in bf16 (8,192 each): 14 tensors,
    // 132,608 − 2 · 8,192 = 116,224 bytes.
    const std::vector<CompiledSaved> bf = compiled_layer_saved(test::hf_tiny_llama(), compiled_job(Precision::bf16));
    REQUIRE(bf.size() == 14);
    double bf_total = 0;
    for (const CompiledSaved& t : bf) bf_total += t.bytes;
    CHECK(bf_total == 116224);
    // The eager profile keeps more from the same layer (no recomputation of element-wise ops).
    TrainConfig eager = compiled_job(Precision::amp_bf16);
    eager.framework_options.clear();
    double eager_total = 0;
    for (const PytorchSavedTensor& t : pytorch_layer_saved(test::hf_tiny_llama(), eager, 0)) eager_total += t.bytes;
    CHECK(eager_total > total);
}

TEST_CASE("torch.compile: the measured compiled runs within 5% of max_memory_allocated", "[pytorch][compile][validation]") {
    const json shapes = test::load_pytorch_fixture("shapes.json");
    const json doc = test::load_pytorch_fixture("pytorch_choices_1gpu_h200.json");
    const bool print = std::getenv("LLMPLAN_PRINT_TABLE") != nullptr;
    if (print)
        std::cout << "| run | part | measured peak GiB | predicted GiB | error | forward_end | backward | optimizer | "
                     "reserved |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
    int n = 0;
    for (const json& r : doc["results"]) {
        const json& cfg = r["config"];
        if (cfg.value("group", std::string()) != "compile" || !cfg.value("compile", false)) continue;
        ++n;
        const std::string name = cfg["name"].get<std::string>();
        const MemoryPlan plan =
            plan_memory(test::pytorch_fixture_model(cfg, shapes), *find_gpu("h100-sxm"), test::pytorch_fixture_job(cfg));
        const StageMemory& s = plan.worst();
        const double measured = r["max_memory_allocated"].get<double>();
        const double e = 100.0 * (s.peak_allocated - measured) / measured;
        // Phases against step 2 (the steady state: optimizer state exists).
        const json& step = r["steps"][1];
        const auto phase = [&](const char* key) {
            for (const PhaseTotal& p : s.phases)
                if (p.name == key) return p.bytes;
            return 0.0;
        };
        const auto perr = [](double p, double mval) { return 100.0 * (p - mval) / mval; };
        const double e_fe = perr(phase("forward_end"), step["forward_end"].get<double>());
        const double e_bw = perr(phase("backward"), step["backward_peak"].get<double>());
        const double e_op = perr(phase("optimizer_step"), step["optimizer_peak"].get<double>());
        const double e_rs = perr(s.reserved_estimate, r["max_memory_reserved"].get<double>());
        if (print) {
            char line[400];
            std::snprintf(line, sizeof line, "| %s | %s | %.2f | %.2f | %+.2f%% | %+.2f%% | %+.2f%% | %+.2f%% | %+.1f%% |\n",
                          name.c_str(), cfg.value("held_out", false) ? "held out" : "in-sample", measured / (1 << 30),
                          s.peak_allocated / (1 << 30), e, e_fe, e_bw, e_op, e_rs);
            std::cout << line;
        }
        INFO(name << ": measured " << measured << " B, predicted " << s.peak_allocated << " B (" << e << "%)");
        CHECK(std::fabs(e) <= 5.0);
    }
    CHECK(n == 8);
}

TEST_CASE("plan --compile: the flag, its statement and its refusals", "[pytorch][compile][cli]") {
    using llmplan::test::run_cli;
    const std::string cfg = std::string(LLMPLAN_TEST_DATA) + "/hf/tiny-qwen3.json";
    const auto flag = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--compile", "--json"});
    const auto option = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--framework-option",
                                 "compile=inductor", "--json"});
    REQUIRE(flag.code == 0);
    CHECK(flag.out == option.out);
    const json j = json::parse(flag.out);
    CHECK(j["memory"]["torch_compile"]["backend"] == "inductor");
    CHECK(j["memory"]["torch_compile"]["cudagraphs"] == false);
    const auto text = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--compile"});
    REQUIRE(text.code == 0);
    CHECK(text.out.find("PyTorch + torch.compile(model) (inductor, default mode)") != std::string::npos);
    CHECK(text.out.find("torch.compile: inductor, default mode (no CUDA graphs); saved tensors per AOTAutograd's "
                        "min-cut partitioner") != std::string::npos);
    const auto eager = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--json"});
    REQUIRE(eager.code == 0);
    CHECK(!json::parse(eager.out)["memory"].contains("torch_compile"));
    // Refusals: one line naming the flag, exit 2.
    const auto generic = run_cli({"plan", "--hf-config", cfg, "--compile"});
    CHECK(generic.code == 2);
    CHECK(generic.err == "llmplan plan: error: --compile: torch.compile is modelled only under --framework pytorch or torchtitan (not generic)\n");
    const auto gpus = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--compile", "--gpus", "2"});
    CHECK(gpus.code == 2);
    CHECK(gpus.err.find("--compile: --gpus 2 (DDP / FSDP2) is not modelled with torch.compile") != std::string::npos);
    const auto eager_attn = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--compile", "--attention", "eager"});
    CHECK(eager_attn.code == 2);
    CHECK(eager_attn.err.find("--compile: --attention eager is not modelled") != std::string::npos);
    const auto both = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--compile", "--framework-option",
                               "compile=none"});
    CHECK(both.code == 2);
    CHECK(both.err == "llmplan plan: error: --compile: --framework-option compile=none sets it too; give one of them\n");
    const auto bad = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--framework-option", "compile=cudagraphs"});
    CHECK(bad.code == 2);
    CHECK(bad.err.find("--framework-option compile=cudagraphs: choose one of none, inductor") != std::string::npos);
}
