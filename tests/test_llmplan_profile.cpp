// test_llmplan_profile.cpp — `--framework llmplan` against the engine it describes: the planner's
// peak must equal the arena peak the CPU reference engine measures (issue 6 target: within 1%).
#include "planner/llmplan_profile.h"
#include "planner/memory.h"

#include "core/error.h"
#include "core/gpu.h"
#include "kernels/reference/model.h"

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace llmplan;

namespace {

ModelSpec gpt2_like(int layers, int d, int heads, int ff, int vocab, int positions) {
    ModelSpec m;
    m.name = "gpt2-like";
    m.family = "gpt2";
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = m.n_kv_heads = heads;
    m.head_dim = d / heads;
    m.d_ff = ff;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.vocab_size = vocab;
    m.max_positions = positions;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.tied_embeddings = true;
    return m;
}

ModelSpec llama_like(int layers, int d, int heads, int kv, int ff, int vocab) {
    ModelSpec m;
    m.name = "llama-like";
    m.family = "llama";
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = heads;
    m.n_kv_heads = kv;
    m.head_dim = d / heads;
    m.d_ff = ff;
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.vocab_size = vocab;
    m.max_positions = 4096;
    m.position = PositionEmbedding::rotary;
    m.tied_embeddings = false;
    return m;
}

}  // namespace

TEST_CASE("framework llmplan: predicts the engine's measured peak exactly", "[llmplan_profile]") {
    const bool llama = GENERATE(false, true);
    const ModelSpec m = llama ? llama_like(3, 64, 8, 2, 160, 100) : gpt2_like(3, 48, 4, 192, 100, 64);
    const int B = 3, S = 20;
    std::mt19937 gen(7);
    std::uniform_int_distribution<int> tok(0, static_cast<int>(m.vocab_size) - 1);
    std::vector<int> ids(static_cast<std::size_t>(B * S)), targets(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ids[i] = tok(gen);
        targets[i] = tok(gen);
    }
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
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("h100-sxm"), c), Catch::Contains("--precision mixed-bf16"));
    c.precision = Precision::fp32;
    c.parallel.gpus = 2;
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("h100-sxm"), c), Catch::Contains("one device"));
}
