// test_llmplan_profile.cpp — `--framework llmplan` against the engine it describes: the planner's
// peak must equal the arena peak the CPU reference engine measures (target: within 1%).
#include "planner/llmplan_profile.h"
#include "planner/memory.h"

#include "core/error.h"
#include "core/file.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "reference/model.h"
#include "tiny_models.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using namespace llmplan;

namespace {

using test::gpt2_like;
using test::llama_like;

double phase(const StageMemory& s, const std::string& name) {
    for (const PhaseTotal& p : s.phases)
        if (p.name == name) return p.bytes;
    FAIL("no phase " << name);
    return 0;
}

// A `llmplan profile --json` fixture's model (a preset) and job, as --framework llmplan plans it.
ModelSpec fixture_model(const nlohmann::json& j) {
    return preset_or_throw(j.at("model").at("name").get<std::string>(), "--model");
}
TrainConfig fixture_config(const nlohmann::json& j) {
    const nlohmann::json& job = j.at("job");
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = parse_precision(job.at("precision").get<std::string>(), "--precision");
    c.recompute = parse_recompute(job.at("recompute").get<std::string>(), "--recompute");
    c.attention = parse_attention(job.at("attention").get<std::string>(), "--attention");
    c.micro_batch = job.at("micro_batch").get<int>();
    c.seq = job.at("seq").get<int>();
    return c;
}

}  // namespace

TEST_CASE("framework llmplan: predicts the engine's measured peak exactly", "[llmplan_profile]") {
    const bool llama = GENERATE(false, true);
    const ModelSpec m = llama ? llama_like(3, 64, 8, 2, 160, 100) : gpt2_like(3, 48, 4, 192, 100, 64);
    const int B = 3, S = 20;
    const auto [ids, targets] = test::random_tokens(m, B, S);
    for (const Recompute r : {Recompute::none, Recompute::selective, Recompute::full})
        for (const Attention a : {Attention::eager, Attention::flash}) {
            reference::TrainOptions opt;
            opt.recompute = r;
            opt.attention = a;
            reference::ReferenceModel engine(m, opt, 1);
            const reference::StepStats st = engine.train_step(ids, targets, B, S, reference::AdamW{});
            TrainConfig c;
            c.framework = Framework::llmplan;
            c.precision = Precision::fp32;
            c.recompute = r;
            c.attention = a;
            c.micro_batch = B;
            c.seq = S;
            const StageMemory s = plan_memory(m, *find_gpu("h100-sxm"), c).worst();
            INFO(m.name << " recompute " << to_string(r) << ", " << to_string(a) << ": predicted " << s.peak_allocated
                        << " B, measured " << st.memory.total_peak << " B");
            CHECK(s.peak_allocated == static_cast<double>(st.memory.total_peak));
        }
}

TEST_CASE("framework llmplan: refuses what the engine does not run", "[llmplan_profile]") {
    TrainConfig c;
    c.framework = Framework::llmplan;
    const ModelSpec m = llama_like(2, 64, 8, 2, 160, 100);
    c.precision = Precision::amp_fp16;
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("h100-sxm"), c), Catch::Contains("--precision amp-fp16"));
    c.precision = Precision::bf16;
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("h100-sxm"), c), Catch::Contains("--precision bf16"));
    c.precision = Precision::fp32;
    c.parallel.gpus = 2;
    c.parallel.tp = 2;
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("h100-sxm"), c), Catch::Contains("data parallel only"));
}

// Mixed-bf16 and mixed-fp16: the CPU engine is fp32 only, so the GPU engine's books
// (kernels/engine.h, allocated in kernels/cuda/engine.cu; tests/gpu_engine.cpp checks the engine
// against the same per-category formulas on an H100) are worked out here by hand for small shapes.
// mixed-fp16 stores the same buffers in fp16 (2 bytes, as bf16; its dynamic loss scale is a host
// value and the overflow flag a scalar outside the books), so the same hand-worked numbers hold
// for both precisions.
TEST_CASE("framework llmplan: mixed-bf16 and mixed-fp16 books, worked by hand", "[llmplan_profile]") {
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = GENERATE(Precision::mixed_bf16, Precision::mixed_fp16);
    INFO("precision " << to_string(c.precision));
    c.micro_batch = 3;
    c.seq = 20;
    const GpuSpec& gpu = *find_gpu("h100-sxm");

    SECTION("GPT-2-like, recompute none, flash: the peak once the backward's gradient buffers exist") {
        // L 3, d 48, 4 heads (q = kv = 48), f 192, V 100, 64 positions; T = 60 tokens.
        // P = wte 4,800 + wpe 3,072 + 3 × 28,272 per layer + final norm 96 = 92,784.
        // Statics: weights 2P + gradients 2P (bf16) + master, m, v 12P (fp32) = 16P = 1,484,544 B.
        // LayerNorm statistics (mean, rstd, fp32): 2 × 60 × 4 = 480 B per norm.
        // Per layer kept: 2 norms' stats 960 + bf16 [ln1_out, q, att, x_mid, ln2_out] 5 × 5,760
        //   + [k, v] 2 × 5,760 + [fc, act] 2 × 23,040 + flash lse 3 × 4 × 20 × 4 = 960 → 88,320 B.
        // Activations: 4 boundaries × 5,760 + 3 × 88,320 + final-norm stats 480 + output 5,760 = 294,240 B.
        // Logits: rows padded to 128 (V 100 rounded up to 64, kernels/engine.h): 60 × 128 × 2 = 15,360 B.
        // Backward buffers: 2 × (3 × 2,880 + 2 × 2,880 + 2 × 2,880 + 2 × 11,520)
        //   = 86,400 B. Head backward: 1,484,544 + 294,240 + 15,360 + 5,760 = 1,799,904 B; with the
        //   buffers (logits, final-norm output and stats freed): 1,484,544 + 294,240 − 6,240 + 86,400 = 1,858,944 B.
        c.recompute = Recompute::none;
        c.attention = Attention::flash;
        const ModelSpec m = gpt2_like(3, 48, 4, 192, 100, 64);
        REQUIRE(count_params(m).total() == 92784);
        const StageMemory s = plan_memory(m, gpu, c).worst();
        CHECK(s.parameters == 185568);
        CHECK(s.gradients == 185568);
        CHECK(s.optimizer_states == 1113408);
        CHECK(phase(s, "forward_end") == 1484544 + 294240 + 15360);
        CHECK(phase(s, "backward_head") == 1799904);
        CHECK(phase(s, "backward_workspace") == 1858944);
        CHECK(s.peak_allocated == 1858944);
        CHECK(s.activations == 294240 - 6240);
        CHECK(s.logits == 0);
        CHECK(s.temporary == 86400);
        // The terms name the storage type the engine uses.
        const std::string half = c.precision == Precision::mixed_fp16 ? "2 B (fp16)" : "2 B (bf16)";
        REQUIRE(!s.terms.empty());
        CHECK(s.terms.front().formula.find(half) != std::string::npos);
    }
    SECTION("Llama-like with GQA, selective, eager: the probabilities are recomputed into the workspace") {
        // L 3, d 64, 8 heads × 8 (q 64), 2 KV heads (kv 16), f 160, V 100, untied head.
        // P = wte 6,400 + 3 × 41,088 per layer + final norm 64 + head 6,400 = 136,128; statics 16P = 2,178,048 B.
        // RMSNorm rstd (fp32): 240 B per norm. Per layer kept: 480 + 2 × (5 × 3,840 + 2 × 960 + 3 × 9,600)
        //   = 480 + 2 × 49,920 = 100,320 B. Recomputed store (bf16 probabilities): 3 × 8 × 20 × 20 × 2 = 19,200 B.
        // Activations (the store not kept): 4 × 7,680 + 3 × 100,320 + 240 + 7,680 = 339,600 B. Logits 60 × 128 × 2
        //   = 15,360 B (rows padded to 64). Backward buffers:
        //   2 × (3 × 3,840 + 2 × 3,840 + 2 × 960 + 3 × 9,600) = 99,840 B.
        // Head backward: 2,178,048 + 339,600 + 19,200 + 15,360 + 7,680 = 2,559,888 B; with the buffers:
        //   2,178,048 + 339,600 − 7,920 + 19,200 + 99,840 = 2,628,768 B.
        c.recompute = Recompute::selective;
        c.attention = Attention::eager;
        const ModelSpec m = llama_like(3, 64, 8, 2, 160, 100);
        REQUIRE(count_params(m).total() == 136128);
        const StageMemory s = plan_memory(m, gpu, c).worst();
        CHECK(s.parameters + s.gradients + s.optimizer_states == 2178048);
        CHECK(phase(s, "backward_head") == 2559888);
        CHECK(s.peak_allocated == 2628768);
        CHECK(s.temporary == 19200 + 99840);
    }
    SECTION("a large vocabulary: the peak during the output layer's backward") {
        // GPT-2-like with V 5,000, full recompute, eager: P = 327,984, statics 5,247,744 B; activations
        // = 4 × 5,760 + 480 + 5,760 = 29,280 B; one layer's recomputed fields 960 + 2 × (7 × 2,880
        // + 2 × 11,520) + probabilities 3 × 4 × 400 × 2 = 9,600 → 96,960 B; logits, rows padded from
        // 5,000 to 5,056 (79 × 64): 60 × 5,056 × 2 = 606,720 B.
        // Head backward: 5,247,744 + 29,280 + 96,960 + 606,720 + 5,760 = 5,986,464 B.
        c.recompute = Recompute::full;
        c.attention = Attention::eager;
        const ModelSpec m = gpt2_like(3, 48, 4, 192, 5000, 64);
        REQUIRE(count_params(m).total() == 327984);
        const StageMemory s = plan_memory(m, gpu, c).worst();
        CHECK(s.peak_allocated == 5986464);
        CHECK(s.logits == 606720);
        CHECK(s.temporary == 96960 + 5760);
    }
}

// The H100 validation matrix (docs/validation/gpu_engine.md): every `llmplan profile --device cuda
// --framework llmplan --json` output kept in validation/engine/. The prediction is recomputed here
// from the fixture's inputs (model preset, precision, recompute, attention, micro-batch, sequence)
// and must be within 1% of the peak the GPU engine measured (the target).
TEST_CASE("framework llmplan: the H100 matrix, predicted peak within 1% of measured", "[llmplan_profile]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(LLMPLAN_VALIDATION_DIR) / "engine";
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 12);
    for (const fs::path& file : files) {
        std::ifstream in(file);
        const nlohmann::json j = nlohmann::json::parse(in);
        REQUIRE(j.at("schema") == "llmplan.profile/1");
        REQUIRE(j.at("job").at("device") == "cuda");
        const ModelSpec m = fixture_model(j);
        const TrainConfig c = fixture_config(j);
        const double predicted = plan_memory(m, *find_gpu("h100-sxm"), c).worst().peak_allocated;
        const double measured = j.at("measured").at("memory").at("peak_allocated").at("peak_bytes").get<double>();
        const double err = (predicted - measured) / measured;
        INFO(file.filename().string() << ": predicted " << predicted << " B, measured " << measured << " B ("
                                      << 100 * err << "%)");
        CHECK(std::fabs(err) <= 0.01);
        CHECK(predicted == j.at("predicted").at("memory").at("peak_allocated").get<double>());
    }
}

// The same matrix measured again on an H200 after the engine was rebuilt around engine/program.h
// (validation/engine/h200_2026-12-04/run_gpu.sh, through the GPU backend module): the predicted
// peak equals the measured one to the byte in every run, and so does each category's peak.
TEST_CASE("framework llmplan: the H200 re-run of the matrix, predicted = measured to the byte", "[llmplan_profile]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(LLMPLAN_VALIDATION_DIR) / "engine" / "h200_2026-12-04";
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() == 22);
    for (const fs::path& file : files) {
        INFO(file.filename().string());
        const nlohmann::json j = read_json_file(file.string(), "fixture");
        const ModelSpec m = fixture_model(j);
        const TrainConfig c = fixture_config(j);
        const double predicted = plan_memory(m, *find_gpu("h200"), c).worst().peak_allocated;
        CHECK(predicted == j.at("measured").at("memory").at("peak_allocated").at("peak_bytes").get<double>());
        const EngineBooks books = llmplan_engine_books(m, c);
        for (int k = 0; k < kMemoryCategories; ++k) {
            const char* name = to_string(static_cast<MemoryCategory>(k));
            CHECK(books.peak[static_cast<std::size_t>(k)] == j.at("measured").at("memory").at(name).at("peak_bytes").get<double>());
        }
    }
}
