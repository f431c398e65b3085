// test_pytorch_profile.cpp — `--framework pytorch` against every measured PyTorch run.
//
// Fixtures: validation/pytorch_memory/pytorch_*.json, written by measure.py on the lent H100 /
// H200 (PyTorch 2.11, transformers 5.17). Each configuration is planned with the same model
// shape (shapes.json, imported as a Hugging Face config) and flags; the predicted peak must be
// within 3% of torch.cuda.max_memory_allocated() (the largest over ranks for 2-GPU runs). The
// reserved estimate (the caching allocator replayed, planner/torch_alloc.h: no constant of it was
// fitted to these runs) must be within 6% of max_memory_reserved() on every run but the two with
// eager attention and checkpointing, which it under-predicts by 11–13% (a known miss,
// docs/validation/pytorch_memory.md): those are checked to stay low by at most 15%, so that a fix
// shows here. With LLMPLAN_PRINT_TABLE=1 the test also prints the markdown accuracy table of
// docs/validation/pytorch_memory.md.
#include "planner/memory.h"
#include "planner/pytorch_profile.h"
#include "planner/torch_sim.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"
#include "core/presets.h"

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

const std::string kDir = std::string(LLMPLAN_VALIDATION_DIR) + "/pytorch_memory/";

json load(const std::string& name) {
    std::ifstream in(kDir + name);
    REQUIRE(in.good());
    return json::parse(in);
}

struct Case {
    std::string name, file;
    json config;
    double peak = 0, reserved = 0;
    double segments = 0;  // allocator_stats num_device_alloc, the largest over ranks
};

// Every successful run of every fixture; 2-GPU runs take the largest value over their ranks.
std::vector<Case> cases() {
    std::vector<Case> out;
    for (const char* file : {"pytorch_1gpu_h100.json", "pytorch_1gpu_rerun_h200.json", "pytorch_2gpu_h200.json"}) {
        const json doc = load(file);
        const json results = doc.contains("results") ? doc["results"] : json::array({doc});
        for (const json& r : results) {
            const json ranks = r.contains("ranks") ? r["ranks"] : json::array({r});
            if (!ranks[0].contains("max_memory_allocated")) continue;  // an out-of-memory attempt (rerun elsewhere)
            Case c;
            c.file = file;
            c.config = r.contains("config") ? r["config"] : ranks[0]["config"];
            c.name = c.config["name"].get<std::string>();
            for (const json& k : ranks) {
                c.peak = std::max(c.peak, k["max_memory_allocated"].get<double>());
                c.reserved = std::max(c.reserved, k["max_memory_reserved"].get<double>());
                if (k.contains("allocator_stats"))
                    c.segments = std::max(c.segments, k["allocator_stats"]["num_device_alloc"].get<double>());
            }
            out.push_back(c);
        }
    }
    return out;
}

MemoryPlan plan_for(const json& cfg, const json& shapes) {
    const ModelSpec m = model_from_hf_config(shapes.at(cfg["shape"].get<std::string>()), cfg["shape"].get<std::string>());
    TrainConfig c;
    c.framework = Framework::pytorch;
    c.precision = parse_precision(cfg["precision"].get<std::string>(), "--precision");
    c.attention = cfg["attention"] == "eager" ? Attention::eager : Attention::flash;
    c.micro_batch = cfg["batch"].get<std::int64_t>();
    c.seq = cfg["seq"].get<std::int64_t>();
    c.recompute = parse_recompute(cfg["recompute"].get<std::string>(), "--recompute");
    c.dropout = cfg["dropout"].get<double>();
    c.parallel.gpus = cfg["gpus"].get<int>();
    c.parallel.zero = cfg["zero"].get<int>();
    // The first fixtures were all measured with torch.optim.AdamW(fused=True) and record no
    // implementation; later ones name it (measure.py --optimizer-impl).
    // measure.py's later settings: the Trainer (its own default implementation), k micro-batches
    // per step, PYTORCH_CUDA_ALLOC_CONF.
    if (cfg.value("trainer", std::string()) == "hf")
        c.framework_options.push_back({"trainer", "hf"});
    else
        c.framework_options.push_back({"optimizer_impl", cfg.value("optimizer_impl", std::string("fused"))});
    c.global_batch = cfg.value("accum", 1) * c.micro_batch * c.parallel.gpus;
    if (cfg.value("alloc_conf", std::string()) == "expandable_segments:True")
        c.framework_options.push_back({"expandable_segments", "true"});
    return plan_memory(m, *find_gpu("h100-sxm"), c);
}

double err(double predicted, double measured) { return 100.0 * (predicted - measured) / measured; }

}  // namespace

TEST_CASE("pytorch profile: every measured run within 3% (peak) and 6% (reserved) but two known misses",
          "[pytorch][validation]") {
    const json shapes = load("shapes.json");
    const std::vector<Case> all = cases();
    REQUIRE(all.size() >= 39);
    const bool print = std::getenv("LLMPLAN_PRINT_TABLE") != nullptr;
    if (print)
        std::cout << "| configuration | GPUs | measured peak GiB | predicted GiB | error | measured reserved GiB | "
                     "predicted GiB | error | peak at |\n|---|---|---|---|---|---|---|---|---|\n";
    double worst = 0, worst_reserved = 0;
    const std::vector<std::string> reserved_misses{"g124-fp32-eager-b4-s1024-ckpt", "l1b128k-bf16-eager-b2-s2048-ckpt"};
    std::vector<double> reserved_errors;
    for (const Case& c : all) {
        const MemoryPlan plan = plan_for(c.config, shapes);
        const StageMemory& s = plan.worst();
        const double e = err(s.peak_allocated, c.peak), er = err(s.reserved_estimate, c.reserved);
        worst = std::max(worst, std::fabs(e));
        worst_reserved = std::max(worst_reserved, std::fabs(er));
        if (print) {
            char line[400];
            std::snprintf(line, sizeof line, "| %s | %d | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %+.1f%% | %s |\n",
                          c.name.c_str(), c.config["gpus"].get<int>(), c.peak / (1 << 30), s.peak_allocated / (1 << 30), e,
                          c.reserved / (1 << 30), s.reserved_estimate / (1 << 30), er, s.peak_phase.c_str());
            std::cout << line;
        }
        INFO(c.name << " (" << c.file << "): measured peak " << c.peak << " B, predicted " << s.peak_allocated << " B ("
                    << e << "%); reserved measured " << c.reserved << ", predicted " << s.reserved_estimate << " (" << er << "%)");
        CHECK(std::fabs(e) <= 3.0);
        reserved_errors.push_back(std::fabs(er));
        if (std::find(reserved_misses.begin(), reserved_misses.end(), c.name) != reserved_misses.end()) {
            CHECK(er < -10.0);
            CHECK(er >= -15.0);
        } else {
            CHECK(std::fabs(er) <= 6.0);
        }
    }
    std::sort(reserved_errors.begin(), reserved_errors.end());
    if (print)
        std::cout << "\nworst |error|: peak " << worst << "%, reserved " << worst_reserved << "% (median |error| "
                  << reserved_errors[reserved_errors.size() / 2] << "%)\n";
}

TEST_CASE("pytorch profile: the replayed allocator reserves as many segments as the measured runs", "[pytorch][validation]") {
    // torch.cuda.memory_stats()["num_device_alloc"] (cudaMalloc calls) against the replay's
    // segments: an independent check of the allocator model (reserved bytes can agree by accident,
    // the count of segments too only if the blocks are placed as PyTorch places them). Measured
    // agreement, 2026-12-05: 1 GPU within 16% (most within 3%; TinyLlama fp32 +16%, eager with
    // checkpointing −10%), 2 GPUs within 25% (DDP's buckets: the replay makes more segments).
    const json shapes = load("shapes.json");
    for (const Case& c : cases()) {
        if (c.segments <= 0) continue;
        const MemoryPlan plan = plan_for(c.config, shapes);
        const double replayed = pytorch_allocator_segments(plan.model, plan.config);
        INFO(c.name << ": measured " << c.segments << " segments, replayed " << replayed);
        CHECK(std::fabs(replayed - c.segments) / c.segments <= (c.config["gpus"].get<int>() == 1 ? 0.16 : 0.25));
    }
}
