// test_llmplan_dist_books.cpp — `--framework llmplan` on several GPUs: one rank's engine books
// (planner/llmplan_profile.h llmplan_engine_books) for DDP and ZeRO 1–3, and the replay they come
// from checked on one GPU against the CPU reference engine's measured books.
#include "planner/llmplan_profile.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include "core/config.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "engine/shard_plan.h"
#include "reference/model.h"
#include "tiny_models.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace llmplan;

namespace {

enum { kP = 0, kG = 1, kO = 2, kA = 3, kL = 4, kW = 5 };

TrainConfig tiny_config(Precision p, int gpus, int zero) {
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = p;
    c.recompute = Recompute::none;
    c.attention = Attention::flash;
    c.micro_batch = 2;
    c.seq = 8;
    c.parallel.gpus = gpus;
    c.parallel.zero = zero;
    return c;
}

// The job of a validation/engine_dist fixture as the planner takes it.
TrainConfig fixture_config(const nlohmann::json& job) {
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = parse_precision(job.at("precision").get<std::string>(), "--precision");
    c.recompute = parse_recompute(job.at("recompute").get<std::string>(), "--recompute");
    c.attention = parse_attention(job.at("attention").get<std::string>(), "--attention");
    c.micro_batch = job.at("micro_batch").get<int>();
    c.seq = job.at("seq").get<int>();
    c.parallel.gpus = job.at("gpus").get<int>();
    c.parallel.zero = job.at("zero").get<int>();
    return c;
}

}  // namespace

// The replay (one GPU) against the CPU reference engine, which keeps the same books: every
// category's peak, its phase and the total peak equal to the byte, both families, every recompute
// mode and both attentions (fp32: the CPU engine's precision).
TEST_CASE("engine books: the replay equals the CPU engine on one device", "[llmplan_books]") {
    const bool llama = GENERATE(false, true);
    const ModelSpec m = llama ? test::llama_like(3, 64, 8, 2, 160, 100) : test::gpt2_like(3, 48, 4, 192, 100, 64);
    const int B = 3, S = 20;
    const auto [ids, targets] = test::random_tokens(m, B, S);
    for (const Recompute r : {Recompute::none, Recompute::selective, Recompute::full})
        for (const Attention a : {Attention::eager, Attention::flash}) {
            reference::TrainOptions opt;
            opt.recompute = r;
            opt.attention = a;
            reference::ReferenceModel engine(m, opt, 1);
            engine.reset_peaks();
            const reference::StepStats st = engine.train_step(ids, targets, B, S, reference::AdamW{});
            TrainConfig c;
            c.framework = Framework::llmplan;
            c.precision = Precision::fp32;
            c.recompute = r;
            c.attention = a;
            c.micro_batch = B;
            c.seq = S;
            const EngineBooks b = llmplan_engine_books(m, c);
            INFO(m.name << " recompute " << to_string(r) << ", " << to_string(a));
            for (std::size_t k = 0; k < static_cast<std::size_t>(kMemoryCategories); ++k) {
                INFO("category " << k);
                CHECK(b.peak[k] == static_cast<double>(st.memory.peak[k]));
                CHECK(b.peak_phase[k] == to_string(st.memory.peak_phase[k]));
            }
            CHECK(b.total_peak == static_cast<double>(st.memory.total_peak));
            CHECK(b.total_peak_phase == to_string(st.memory.total_peak_phase));
            CHECK(b.total_peak == plan_memory(m, *find_gpu("h100-sxm"), c).worst().peak_allocated);
        }
}

// tiny-gpt2 (2 layers, d 16, 4 heads, d_ff 64, vocab 32, 16 positions, tied): 768 embedding
// elements (512 tokens + 256 positions), 3,280 per layer, 32 in the final norm: Ψ = 7,360.
// Mixed-bf16 (2-byte storage) on n = 2 ranks: units are padded to n × 64 = 128 elements.
// B = 2, S = 8 (T = 16), recompute none, flash. Sizes in bytes.
TEST_CASE("engine books: ZeRO 0-3 on 2 GPUs, worked by hand", "[llmplan_books]") {
    const ModelSpec m = test::tiny_gpt2();
    REQUIRE(count_params(m).total() == 7360);
    const EngineBooks one = llmplan_engine_books(m, tiny_config(Precision::mixed_bf16, 1, 0));
    const double statics1 = 7360 * 2 + 7360 * 2 + 12 * 7360;  // weights, gradients, master + m + v
    REQUIRE(one.statics == statics1);
    // Activations: 3 residual tensors (T·d·2 = 512 each), 2 layers × 8,192 kept (flash), final-norm
    // statistics 128 and output 512: 18,560 at the end of the forward.
    CHECK(one.peak[kA] == 18560);
    const double logits = one.peak[kL];  // T × V(padded stride) × 2: as on one GPU

    SECTION("DDP keeps the one-GPU books") {
        const EngineBooks b = llmplan_engine_books(m, tiny_config(Precision::mixed_bf16, 2, 0));
        CHECK(b.peak == one.peak);
        CHECK(b.total_peak == one.total_peak);
        CHECK(b.padded_elements == 7360);  // DDP: buckets unpadded
        CHECK(b.shard_elements == 0);
    }
    SECTION("ZeRO-1: one bucket padded to 7,424, slices of 3,712") {
        const EngineBooks b = llmplan_engine_books(m, tiny_config(Precision::mixed_bf16, 2, 1));
        CHECK(b.padded_elements == 7424);
        CHECK(b.shard_elements == 3712);
        CHECK(b.peak[kP] == 7424 * 2);
        CHECK(b.peak[kG] == 7424 * 2);
        CHECK(b.peak[kO] == 12 * 3712);
        CHECK(b.total_peak == one.total_peak - statics1 + 7424 * 2 + 7424 * 2 + 12 * 3712);
    }
    SECTION("ZeRO-2: the bucket's staging from the output layer's backward (tied) to the end") {
        const EngineBooks b = llmplan_engine_books(m, tiny_config(Precision::mixed_bf16, 2, 2));
        CHECK(b.peak[kP] == 7424 * 2);
        CHECK(b.peak[kG] == 3712 * 2 + 7424 * 2);
        CHECK(b.peak_phase[kG] == "backward");
        CHECK(b.max_staging_bytes == 7424 * 2);
        // The one-GPU peak is in the backward (gradient buffers), where the staging is live too.
        CHECK(b.total_peak == one.total_peak - statics1 + 7424 * 2 + 3712 * 2 + 12 * 3712 + 7424 * 2);
    }
    SECTION("ZeRO-3: units pre 768, layers 3,328 each, post 128 (padded); Ψ′ = 7,552, slices 3,776") {
        const EngineBooks b = llmplan_engine_books(m, tiny_config(Precision::mixed_bf16, 2, 3));
        CHECK(b.padded_elements == 7552);
        CHECK(b.shard_elements == 3776);
        CHECK(b.peak[kO] == 12 * 3776);
        // Gathered in the forward: pre (tied: held to the logits) + layers.0 + layers.1 (prefetched
        // during layer 0) = 7,424 elements; the same in the backward.
        CHECK(b.max_gathered_bytes == 7424 * 2);
        CHECK(b.peak[kP] == 3776 * 2 + 7424 * 2);
        CHECK(b.peak_phase[kP] == "forward");
        // Staging during layer 0's backward: pre (tied, since the output layer) + layers.1 (its
        // reduce-scatter in flight) + layers.0 = 7,424 elements.
        CHECK(b.max_staging_bytes == 7424 * 2);
        CHECK(b.peak[kG] == 3776 * 2 + 7424 * 2);
        CHECK(b.peak[kA] == 18560);
        CHECK(b.peak[kL] == logits);
        // The work buffers of the backward: 3 [T, d] + 2 [T, q] + 2 [T, kv] + 2 [T, f] = 7,680.
        CHECK(b.peak[kW] == 7680);
        // The total peaks at layer 1's backward: statics 60,416 + activations 17,408 (2 residuals +
        // layer 0 + layer 1's kept) + gathered 14,848 (pre, layers.1, layers.0) + staging 8,448
        // (pre, post in flight, layers.1) + work 7,680 = 108,800.
        CHECK(b.statics == 60416);
        CHECK(b.total_peak == 108800);
        CHECK(b.total_peak_phase == "backward");
        CHECK(b.at_peak[kP] == 7552 + 14848);
        CHECK(b.at_peak[kG] == 7552 + 8448);
        CHECK(b.at_peak[kL] == 0);
    }
}

// The plan's StageMemory for several GPUs: the terms at the total peak add up to it, the persistent
// weights and gradients in their own terms (what plan_perf reads).
TEST_CASE("engine books: plan --gpus N --framework llmplan", "[llmplan_books]") {
    const ModelSpec m = test::gpt2_like(4, 128, 4, 512, 1000, 64);
    for (const Precision p : {Precision::fp32, Precision::mixed_bf16})
        for (int zero = 0; zero <= 3; ++zero) {
            TrainConfig c = tiny_config(p, 4, zero);
            c.micro_batch = 4;
            c.seq = 64;
            const StageMemory s = plan_memory(m, *find_gpu("h100-sxm"), c).worst();
            const EngineBooks b = llmplan_engine_books(m, c);
            INFO("ZeRO-" << zero << " " << to_string(p));
            CHECK(s.peak_allocated == b.total_peak);
            double sum = 0;
            for (const MemoryTerm& t : s.terms) sum += t.bytes;
            CHECK(sum == Approx(s.peak_allocated).epsilon(1e-12));
            if (zero == 3) CHECK(s.parameters == static_cast<double>(b.shard_elements) * (p == Precision::fp32 ? 4 : 2));
            // Every rank's books shrink with the stage.
            if (zero >= 1) {
                TrainConfig lower = c;
                lower.parallel.zero = zero - 1;
                CHECK(llmplan_engine_books(m, lower).statics > b.statics);
            }
        }
}

// The step time on N data-parallel GPUs (planner/perf.cpp): every rank runs the one-GPU engine step
// on its micro-batch (the same forward and backward as one GPU with that micro-batch); with ZeRO ≥ 1
// AdamW runs on 1/N of the parameters; the collectives' exposed time comes on top.
TEST_CASE("engine books: the step time of N data-parallel ranks is the engine's own", "[llmplan_books]") {
    const ModelSpec m = test::gpt2_like(4, 128, 4, 512, 1000, 64);
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    TrainConfig c = tiny_config(Precision::mixed_bf16, 1, 0);
    c.micro_batch = 4;
    c.seq = 64;
    const PerfPlan one = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, 8), PerfOptions{});
    REQUIRE(one.engine_time.has_value());
    for (int zero = 0; zero <= 3; ++zero) {
        TrainConfig d = c;
        d.parallel.gpus = 2;
        d.parallel.zero = zero;
        const PerfPlan p = plan_perf(plan_memory(m, gpu, d), default_cluster(gpu, 8), PerfOptions{});
        INFO("ZeRO-" << zero);
        REQUIRE(p.engine_time.has_value());
        CHECK(p.compute_seconds == one.compute_seconds);
        CHECK(p.optimizer_seconds == Approx(one.optimizer_seconds / (zero >= 1 ? 2 : 1)));
        CHECK(p.step_seconds == Approx(p.compute_seconds + p.optimizer_seconds + p.comm_exposed_seconds));
        CHECK(p.comm_exposed_seconds > 0);
    }
}

// The 2-GPU validation runs (docs/validation/multi_gpu_engine.md): every fixture in
// validation/engine_dist/ is recomputed from its inputs and the worst rank's measured peak must be
// within 2% of the prediction (the target; the books are exact by construction), the collectives'
// bytes equal to the shard plan's.
TEST_CASE("engine books: the 2-GPU fixtures, per-rank peak within 2% of the prediction", "[llmplan_books]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(LLMPLAN_VALIDATION_DIR) / "engine_dist";
    std::vector<fs::path> files;
    if (fs::exists(dir))
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
        std::ifstream in(file);
        const nlohmann::json j = nlohmann::json::parse(in);
        if (!j.contains("ranks")) continue;
        const nlohmann::json& job = j.at("job");
        TrainConfig c = fixture_config(job);
        const ModelSpec m = preset_or_throw(j.at("model").at("name").get<std::string>(), "--model");
        const EngineBooks b = llmplan_engine_books(m, c);
        for (const nlohmann::json& r : j.at("ranks")) {
            const double measured = r.at("memory").at("peak_allocated").at("peak_bytes").get<double>();
            INFO(file.filename().string() << " rank " << r.at("rank").get<int>() << ": predicted " << b.total_peak
                                          << " B, measured " << measured << " B");
            CHECK(std::fabs(b.total_peak - measured) <= 0.02 * measured);
        }
        CHECK(j.at("communication").at("bytes_equal_shard_plan").get<bool>());
    }
}

// The same fixtures against the two other targets of the multi-GPU engine (docs/MULTI_GPU.md), recomputed here from their inputs:
// the collectives' bytes per step equal the shard plan's (padded) volumes exactly. Their step
// time was predicted within 8.8% with the first engine's calibration; since then the
// planner models the faster engine (padded logits, GELU in the GEMMs, the new attention and
// element-wise kernels), which these runs predate, so the time is not compared here until the
// 2-GPU matrix is measured again (docs/validation/multi_gpu_engine.md); the prediction is still
// made, calibrated (v0 file), and printed with LLMPLAN_PRINT_TABLE. The 1-GPU reference runs in
// the folder carry no "ranks" and are skipped.
TEST_CASE("engine books: the 2-GPU fixtures, collective bytes exact", "[llmplan_books]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(LLMPLAN_VALIDATION_DIR) / "engine_dist";
    // The 2-GPU fixtures ran the first engine (before the fused kernels): its calibration.
    std::ifstream cal_in(fs::path(LLMPLAN_VALIDATION_DIR) / "engine" / "v0" / "calibration_h100.json");
    REQUIRE(cal_in);
    std::stringstream cal_text;
    cal_text << cal_in.rdbuf();
    PerfOptions o;
    apply_calibration(cal_text.str(), "h100.json", o);
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    int checked = 0;
    for (const fs::path& file : files) {
        std::ifstream in(file);
        const nlohmann::json j = nlohmann::json::parse(in);
        if (!j.contains("ranks")) continue;
        const nlohmann::json& job = j.at("job");
        TrainConfig c = fixture_config(job);
        c.global_batch = c.micro_batch * c.parallel.gpus;
        const ModelSpec m = preset_or_throw(j.at("model").at("name").get<std::string>(), "--model");
        // Bytes: every collective the ranks ran, against the shard plan.
        dist::ShardOptions so;
        so.world = c.parallel.gpus;
        so.zero = c.parallel.zero;
        so.element_bytes = c.precision == Precision::fp32 ? 4 : 2;
        const dist::ShardPlan shards = dist::plan_shards(dist::engine_flat_layout(m), so);
        for (const nlohmann::json& u : j.at("communication").at("collectives")) {
            const std::string purpose = u.at("purpose").get<std::string>();
            const dist::CommVolume* v = shards.volume(purpose);
            if (!v) continue;  // the 16-byte norm/overflow exchange is the engine's, not the plan's
            INFO(file.filename().string() << ": " << purpose);
            CHECK(u.at("bytes_per_step").get<double>() == static_cast<double>(v->bytes_per_step));
        }
        // Step time.
        const PerfPlan p = plan_perf(plan_memory(m, gpu, c), default_cluster(gpu, c.parallel.gpus), o);
        const double measured = j.at("measured").at("time").at("step_seconds").at("median").get<double>();
        const double err = (p.step_seconds - measured) / measured;
        INFO(file.filename().string() << ": predicted " << p.step_seconds * 1e3 << " ms, measured " << measured * 1e3
                                      << " ms (" << 100 * err << "%)");
        REQUIRE(p.engine_time.has_value());
        CHECK(p.engine_time->calibrated);
        if (std::getenv("LLMPLAN_PRINT_TABLE"))
            std::cout << file.stem().string() << ": predicted " << p.step_seconds * 1e3 << " ms, measured "
                      << measured * 1e3 << " ms, " << 100 * err << "%\n";
        ++checked;
    }
    CHECK(checked >= 10);
}
