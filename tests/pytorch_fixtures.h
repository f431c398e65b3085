// pytorch_fixtures.h — what the tests of the pytorch profile share: the measured runs of
// validation/pytorch_memory/ (measure.py's configurations and their results) turned into the job
// llmplan plans for each, and the tiny Llama the hand-counted cases use.
#pragma once

#include "core/config.h"
#include "core/hf_config.h"
#include "core/model.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

namespace llmplan::test {

inline const std::string kPytorchMemoryDir = std::string(LLMPLAN_VALIDATION_DIR) + "/pytorch_memory/";

// A file of validation/pytorch_memory/ (a fixture or shapes.json).
inline nlohmann::json load_pytorch_fixture(const std::string& name) {
    std::ifstream in(kPytorchMemoryDir + name);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

// The model of a measured configuration: its shape from shapes.json, imported as a Hugging Face config.
inline ModelSpec pytorch_fixture_model(const nlohmann::json& cfg, const nlohmann::json& shapes) {
    const std::string shape = cfg["shape"].get<std::string>();
    return model_from_hf_config(shapes.at(shape), shape);
}

// The job llmplan plans for a measured configuration: measure.py's flags as llmplan's.
inline TrainConfig pytorch_fixture_job(const nlohmann::json& cfg) {
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
    // per step, PYTORCH_CUDA_ALLOC_CONF, torch.compile.
    if (cfg.value("trainer", std::string()) == "hf")
        c.framework_options.push_back({"trainer", "hf"});
    else
        c.framework_options.push_back({"optimizer_impl", cfg.value("optimizer_impl", std::string("fused"))});
    c.global_batch = cfg.value("accum", 1) * c.micro_batch * c.parallel.gpus;
    if (cfg.value("alloc_conf", std::string()) == "expandable_segments:True")
        c.framework_options.push_back({"expandable_segments", "true"});
    if (cfg.value("compile", false)) c.framework_options.push_back({"compile", "inductor"});
    return c;
}

// A tiny Llama from a Hugging Face config: hidden 64, MLP 128, 2 layers, 2 query heads of 32,
// 1 KV head, vocabulary 256, untied.
inline ModelSpec hf_tiny_llama() {
    const nlohmann::json cfg = {{"model_type", "llama"},     {"hidden_size", 64},       {"intermediate_size", 128},
                                {"num_hidden_layers", 2},    {"num_attention_heads", 2}, {"num_key_value_heads", 1},
                                {"head_dim", 32},            {"vocab_size", 256},       {"max_position_embeddings", 512},
                                {"tie_word_embeddings", false}};
    return model_from_hf_config(cfg, "tiny-llama");
}

}  // namespace llmplan::test
