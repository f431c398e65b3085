// test_job_text.cpp — the job as typed text (core/job_text.h, planner/infer.h's InferText): the
// one parser the CLI and the GUI share, so both accept and refuse the same values with the same
// one-line messages.
#include "core/job_text.h"
#include "planner/infer.h"

#include "core/config.h"
#include "core/error.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace llmplan;

TEST_CASE("job text: defaults and values as the CLI takes them", "[job_text]") {
    const JobText t;
    TrainConfig c = train_config_from_text(t, 8);
    CHECK(c.parallel.gpus == 1);
    CHECK(c.parallel.gpus_per_node == 8);  // empty: the GPU's usual server
    CHECK(c.precision == Precision::mixed_bf16);
    CHECK(c.seq == 0);
    CHECK(c.global_batch == 0);
    CHECK(c.lora.rank == 0);
    const JobText pytorch{.framework = "pytorch"};  // PyTorch's mixed precision is autocast
    CHECK(train_config_from_text(pytorch, 8).precision == Precision::amp_bf16);
    const JobText u{.gpus = "16", .gpus_per_node = "4", .zero = "3", .precision = "mixed-fp16", .dropout = "0.1",
                    .micro_batch = "8", .seq = "2048", .global_batch = "256", .framework = "llmplan"};
    c = train_config_from_text(u, 8);
    CHECK(c.framework == Framework::llmplan);
    CHECK(c.precision == Precision::mixed_fp16);
    CHECK(c.parallel.gpus == 16);
    CHECK(c.parallel.gpus_per_node == 4);
    CHECK(c.parallel.zero == 3);
    CHECK(c.micro_batch == 8);
    CHECK(c.seq == 2048);
    CHECK(c.global_batch == 256);
    CHECK(c.dropout == 0.1);
}

TEST_CASE("job text: bf16 under Megatron or DeepSpeed is their mixed bf16, said so", "[job_text]") {
    // Megatron-LM's --bf16 and DeepSpeed's "bf16" keep fp32 master weights: there is no pure bf16
    // training to plan, so "bf16" reads as mixed-bf16 with a note among validate_config's warnings.
    const ModelSpec m = preset_or_throw("llama-3-8b", "--model");
    for (const char* fw : {"megatron", "megatron-bridge", "nemo", "deepspeed"}) {
        const TrainConfig c = train_config_from_text(JobText{.gpus = "8", .precision = "BF16", .seq = "4096", .framework = fw}, 8);
        CHECK(c.precision == Precision::mixed_bf16);
        REQUIRE(c.input_notes.size() == 1);
        CHECK(c.input_notes[0].find("--precision bf16 under --framework " + std::string(to_string(c.framework))) == 0);
        CHECK(c.input_notes[0].find("planned as mixed-bf16") != std::string::npos);
        const std::vector<std::string> w = validate_config(m, c);
        CHECK(std::find(w.begin(), w.end(), c.input_notes[0]) != w.end());
    }
    CHECK(train_config_from_text(JobText{.precision = "bf16", .framework = "deepspeed"}, 8).input_notes[0].find("DeepSpeed's \"bf16\"") !=
          std::string::npos);
    // Elsewhere bf16 is pure bf16 (no master copy), and nothing is noted.
    for (const char* fw : {"generic", "torchtitan"}) {
        const TrainConfig c = train_config_from_text(JobText{.precision = "bf16", .framework = fw}, 8);
        CHECK(c.precision == Precision::bf16);
        CHECK(c.input_notes.empty());
    }
}

TEST_CASE("job text: no --zero is the framework's own default where there is data parallelism", "[job_text]") {
    const auto zero = [](const char* fw, const char* gpus, const char* tp, const char* zero_text = "") {
        return train_config_from_text(JobText{.gpus = gpus, .tp = tp, .zero = zero_text, .framework = fw}, 8).parallel.zero;
    };
    CHECK(zero("megatron", "16", "2") == 1);         // the distributed optimizer over dp 8
    CHECK(zero("megatron-bridge", "16", "2") == 1);
    CHECK(zero("torchtitan", "8", "1") == 3);        // FSDP2 over every data-parallel rank
    CHECK(zero("generic", "16", "2") == 0);
    CHECK(zero("deepspeed", "16", "2") == 0);        // zero_optimization.stage's default
    CHECK(zero("pytorch", "8", "1") == 0);           // DDP
    CHECK(zero("megatron", "8", "8") == 0);          // no data parallelism: nothing to shard
    CHECK(zero("torchtitan", "1", "1") == 0);
    CHECK(zero("megatron", "16", "2", "0") == 0);    // as given
    CHECK(zero("torchtitan", "8", "1", "2") == 2);
    // Context parallelism counts: Megatron's distributed optimizer shards over dp × cp.
    CHECK(train_config_from_text(JobText{.gpus = "8", .tp = "4", .cp = "2", .framework = "megatron"}, 8).parallel.zero == 1);
}

TEST_CASE("job text: refusals name the flag", "[job_text]") {
    struct Case {
        std::string JobText::*field;
        const char* value;
        const char* needle;
    };
    const Case cases[] = {{&JobText::gpus, "0", "--gpus"},
                          {&JobText::zero, "4", "--zero"},
                          {&JobText::micro_batch, "two", "--micro-batch"},
                          {&JobText::dropout, "1", "--dropout"},
                          {&JobText::precision, "fp12", "--precision"},
                          {&JobText::lora_targets, "q,x", "--lora-targets"},
                          {&JobText::gpus_per_node, "0", "--gpus-per-node"}};
    for (const Case& k : cases) {
        JobText t;
        (t.*k.field).assign(k.value);
        CHECK_THROWS_WITH(train_config_from_text(t, 8), Catch::Contains(k.needle));
    }
}

TEST_CASE("infer text: defaults, the KV-cache rule and refusals", "[job_text]") {
    InferText t;
    InferConfig c = infer_config_from_text(t);
    CHECK(c.weights.format == WeightFormat::bf16);
    CHECK(c.kv == WeightFormat::bf16);
    CHECK(c.batch == 1);
    CHECK(c.prompt == 512);
    CHECK(c.generate == 256);
    CHECK(c.prefill_chunk == 0);
    CHECK(c.gpu_memory_utilization == 0.9);
    t.weights = "fp32";  // fp32 weights keep an fp32 cache unless told
    CHECK(infer_config_from_text(t).kv == WeightFormat::fp32);
    t.kv = "fp8";
    CHECK(infer_config_from_text(t).kv == WeightFormat::fp8);
    InferText bad;
    bad.generate = "-1";
    CHECK_THROWS_WITH(infer_config_from_text(bad), Catch::Contains("--generate"));
    bad = InferText{};
    bad.utilization = "1.5";
    CHECK_THROWS_WITH(infer_config_from_text(bad), Catch::Contains("--gpu-memory-utilization"));
    bad = InferText{};
    bad.framework = "tgi";
    CHECK_THROWS_AS(infer_config_from_text(bad), InputError);
}
