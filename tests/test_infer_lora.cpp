// test_infer_lora.cpp — `llmplan infer` and LoRA/QLoRA in `plan`: counts as PEFT prints them,
// bytes per format, KV cache, paged blocks, fit searches and the seed lecture's out-of-memory.
#include "planner/infer.h"
#include "planner/lora.h"
#include "planner/memory.h"
#include "planner/quant.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"
#include "core/presets.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmplan;

TEST_CASE("LoRA: trainable parameters exactly as PEFT prints them", "[lora][golden]") {
    const ModelSpec llama = preset_or_throw("llama-2-7b", "--model");
    LoraConfig l;
    l.rank = 8;  // PEFT default targets for Llama: q_proj, v_proj
    // PEFT: "trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622"
    CHECK(count_lora(llama, l).adapter_params == 4194304);
    l.rank = 16;
    l.targets = parse_lora_targets("all", "--lora-targets");
    // 32 × 16 × (4·(4096 + 4096) + 3·(4096 + 11008)) = 39,976,960 (PEFT, all linear layers, r 16)
    CHECK(count_lora(llama, l).adapter_params == 39976960);
    // GPT-2: q, v → the fused c_attn (768 → 2304) once per layer: 12 × 8 × (768 + 2304) = 294,912.
    LoraConfig g;
    g.rank = 8;
    CHECK(count_lora(preset_or_throw("gpt2-124m", "--model"), g).adapter_params == 294912);
    CHECK(parse_lora_targets("q_proj, v_proj", "--lora-targets") == (lora_q | lora_v));
    CHECK_THROWS_WITH(parse_lora_targets("q,x", "--lora-targets"), Catch::Contains("--lora-targets"));
}

TEST_CASE("LoRA and QLoRA memory: frozen base, fp32 adapters with their gradients and AdamW", "[lora][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.seq = 2048;
    c.lora.rank = 8;
    const StageMemory s = plan_memory(m, *find_gpu("a100-80g"), c).worst();
    const double psi = 6738415616.0, a = 4194304.0;
    CHECK(s.parameters == Approx(psi * 2 + a * 4));  // bf16 base + fp32 adapters
    CHECK(s.gradients == Approx(a * 4));
    CHECK(s.master == 0);
    CHECK(s.optimizer_states == Approx(a * 8));  // AdamW m, v
    // QLoRA: the 6,476,005,376 layer matmul weights in NF4 with double quantization
    // (0.5 + 1/64 + 4/16384 B each), the rest (embedding, head, norms: 262,410,240) in bf16.
    c.lora.base_quant = BaseQuant::nf4;
    const StageMemory q = plan_memory(m, *find_gpu("a100-80g"), c).worst();
    const double layer_matmul = 32.0 * (4 * 4096.0 * 4096 + 3 * 4096.0 * 11008);
    CHECK(layer_matmul == 6476005376.0);
    CHECK(q.parameters == Approx(layer_matmul * (0.5 + 1.0 / 64 + 4.0 / 16384) + (psi - layer_matmul) * 2 + a * 4));
    CHECK(q.temporary >= 2 * 4096.0 * 11008);  // one matrix dequantized to bf16
    // Paged optimizer (bitsandbytes): the adapters' AdamW state leaves the GPU peak for CPU memory.
    c.lora.paged_optimizer = true;
    const StageMemory paged = plan_memory(m, *find_gpu("a100-80g"), c).worst();
    CHECK(paged.optimizer_states == 0);
    CHECK(paged.cpu_offload == Approx(a * 8));
    TrainConfig bad;
    bad.lora.base_quant = BaseQuant::nf4;
    CHECK_THROWS_WITH(plan_memory(m, *find_gpu("a100-80g"), bad), Catch::Contains("needs --lora-rank"));
}

TEST_CASE("quant: bytes per weight of each format", "[infer][golden]") {
    CHECK(weight_bytes_per_element({WeightFormat::bf16}, 4096) == 2);
    CHECK(weight_bytes_per_element({WeightFormat::int8}, 4096) == Approx(1 + 4.0 / 4096));
    CHECK(weight_bytes_per_element({WeightFormat::int4, 128}, 4096) == Approx(0.5 + 2.5 / 128));
    CHECK(weight_bytes_per_element({WeightFormat::int3, 64}, 4096) == Approx(0.375 + 2.375 / 64));
    CHECK(weight_bytes_per_element({WeightFormat::nf4, 64, true}, 4096) == Approx(0.5 + 1.0 / 64 + 4.0 / 16384));
    CHECK(weight_bytes_per_element({WeightFormat::nf4, 64, false}, 4096) == Approx(0.5625));
    // QLoRA §3: double quantization saves (32 − 8)/64 − 32/(64·256) ≈ 0.373 bits per parameter.
    CHECK((0.5625 - weight_bytes_per_element({WeightFormat::nf4, 64, true}, 4096)) * 8 == Approx(0.373).epsilon(0.01));
    CHECK_THROWS_WITH(parse_weight_format("int5", "--weights"), Catch::Contains("--weights"));
}

TEST_CASE("infer: KV cache, paged blocks, what fits", "[infer][golden]") {
    const ModelSpec m = preset_or_throw("llama-3-8b", "--model");
    InferConfig c;
    c.batch = 16;
    c.prompt = 1000;
    c.generate = 24;
    const InferPlan p = plan_inference(m, *find_gpu("h100-sxm"), c);
    // 2 (K, V) × 32 layers × 8 kv heads × 128 × 2 B = 131,072 B per token.
    CHECK(p.kv_bytes_per_token == 131072);
    CHECK(p.kv_cache == Approx(131072.0 * 16 * 1024));
    CHECK(p.weights == Approx(8030261248.0 * 2));
    CHECK(p.fits);
    // vLLM: 1,024 tokens fit 64 blocks exactly; 1,025 need 65 (15 tokens of waste per sequence).
    c.framework = InferFramework::vllm;
    c.generate = 25;
    const InferPlan v = plan_inference(m, *find_gpu("h100-sxm"), c);
    CHECK(v.kv_cache == Approx(131072.0 * 16 * 65 * 16));
    CHECK(v.kv_waste == Approx(131072.0 * 16 * 15));
    CHECK(v.vllm_max_sequences == v.vllm_kv_blocks / 65);
    // The largest batch fits, one more does not.
    c.framework = InferFramework::generic;
    const InferPlan g = plan_inference(m, *find_gpu("h100-sxm"), c);
    InferConfig at = c, over = c;
    at.batch = g.max_batch;
    over.batch = g.max_batch + 1;
    CHECK(plan_inference(m, *find_gpu("h100-sxm"), at).fits);
    CHECK_FALSE(plan_inference(m, *find_gpu("h100-sxm"), over).fits);
    // int4 weights (GPTQ, group 128): the 6,979,321,856 layer matmul weights at 0.5 + 2.5/128 B, the
    // embedding, head and norms (1,050,939,392) stay bf16.
    c.weights = {WeightFormat::int4, 128};
    CHECK(plan_inference(m, *find_gpu("h100-sxm"), c).weights == Approx(6979321856.0 * (0.5 + 2.5 / 128) + 1050939392.0 * 2));
}

TEST_CASE("infer: a decode step reads weights and KV once (memory-bound)", "[infer][golden]") {
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    InferConfig c;
    c.batch = 1;
    c.prompt = 512;
    c.generate = 256;
    const GpuSpec& h100 = *find_gpu("h100-sxm");
    const InferPlan p = plan_inference(m, h100, c);
    CHECK_FALSE(p.decode_compute_bound);
    const double bytes = 6738415616.0 * 2 + 640 * 524288.0;  // weights + KV at the mean context 512 + 128
    CHECK(p.decode_bytes_per_step == Approx(bytes));
    CHECK(p.decode_step_seconds == Approx(bytes / (3.35e12 * kDecodeBandwidthEfficiency) + 32 * kGraphDecodeOverheadPerLayer));
    CHECK(p.tokens_per_second_per_sequence == Approx(1 / p.decode_step_seconds));
}

TEST_CASE("infer: the seed lecture's TinyLlama, fp32, 100 prompts on a T4", "[infer][validation]") {
    // Seed lecture 003: `model(input_ids)` on 100 chat prompts (about 25 tokens each after the
    // template and padding) with TinyLlama-1.1B in fp32 on a T4 (14.75 GiB): CUDA out of memory.
    const ModelSpec m = model_from_hf_config_file(std::string(LLMPLAN_TEST_DATA) + "/hf/tinyllama-1.1b.json", "--hf-config");
    InferConfig c;
    c.weights = {WeightFormat::fp32};
    c.kv = WeightFormat::fp32;
    c.framework = InferFramework::hf;
    c.forward_only = true;
    c.autograd = true;  // called without torch.no_grad(): autograd keeps every activation
    c.attention = Attention::eager;
    c.batch = 100;
    c.prompt = 28;
    c.generate = 0;
    const GpuSpec& t4 = *find_gpu("t4");
    const InferPlan oom = plan_inference(m, t4, c);
    CHECK_FALSE(oom.fits);
    CHECK(oom.activations > 2 * oom.weights);  // the cause: activations kept for a backward that never comes
    // The fixes: torch.no_grad(), or bf16 weights (half of everything), or fewer prompts at once.
    InferConfig no_grad = c;
    no_grad.autograd = false;
    CHECK(plan_inference(m, t4, no_grad).fits);
    InferConfig half = c;
    half.weights = {WeightFormat::bf16};
    half.kv = WeightFormat::bf16;
    CHECK(plan_inference(m, t4, half).fits);
    InferConfig fewer = c;
    fewer.batch = 50;
    CHECK(plan_inference(m, t4, fewer).fits);
}

#include <nlohmann/json.hpp>

#include <fstream>

namespace {
// A fixture under validation/ (measured runs and the model shapes they used).
nlohmann::json validation_json(const std::string& path) {
    std::ifstream in(std::string(LLMPLAN_VALIDATION_DIR) + "/" + path);
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}
}  // namespace

TEST_CASE("infer --framework hf against 10 measured transformers runs on an H100", "[infer][validation]") {
    // validation/inference/infer_h100.json (measure_infer.py; PyTorch 2.11, transformers 5.17):
    // forward passes (no_grad and autograd) and generate, bf16 and fp32, three families.
    // Target: peak within 5% of torch.cuda.max_memory_allocated().
    const nlohmann::json doc = validation_json("inference/infer_h100.json");
    const nlohmann::json shapes = validation_json("pytorch_memory/shapes.json");
    int checked = 0;
    for (const nlohmann::json& r : doc["results"]) {
        if (!r.contains("max_memory_allocated")) continue;
        const nlohmann::json& c = r["config"];
        const ModelSpec m = model_from_hf_config(shapes.at(c["shape"].get<std::string>()), c["shape"].get<std::string>());
        InferConfig ic;
        ic.weights = {c["dtype"] == "fp32" ? WeightFormat::fp32 : WeightFormat::bf16};
        ic.kv = ic.weights.format;
        ic.framework = InferFramework::hf;
        ic.batch = c["batch"];
        ic.prompt = c["prompt"];
        ic.generate = c["generate"];
        ic.attention = c["attention"] == "eager" ? Attention::eager : Attention::flash;
        ic.forward_only = c["mode"] == "forward";
        ic.autograd = c["autograd"];
        const InferPlan p = plan_inference(m, *find_gpu("h100-sxm"), ic);
        const double measured = r["max_memory_allocated"];
        INFO(c["name"].get<std::string>() << ": predicted " << p.peak << " B, measured " << measured << " B");
        CHECK(std::fabs(p.peak - measured) / measured < 0.05);
        ++checked;
    }
    CHECK(checked == 10);
}

#include "planner/pytorch_profile.h"

TEST_CASE("LoRA with PEFT: --framework pytorch against 8 measured fine-tuning runs on an H100", "[lora][validation]") {
    // validation/inference/lora_h100.json (measure_lora.py; PyTorch 2.11, transformers 5.17, PEFT):
    // LoRA r 8/16 on q,v / all linear layers, bf16 and amp-bf16 bases, GPT-2 and Llama families,
    // eager and SDPA. Target: peak within 5% of torch.cuda.max_memory_allocated(); the
    // trainable-parameter counts must equal PEFT's exactly.
    const nlohmann::json doc = validation_json("inference/lora_h100.json");
    const nlohmann::json shapes = validation_json("pytorch_memory/shapes.json");
    int checked = 0;
    for (const nlohmann::json& r : doc["results"]) {
        if (!r.contains("max_memory_allocated")) continue;
        const nlohmann::json& c = r["config"];
        const ModelSpec m = model_from_hf_config(shapes.at(c["shape"].get<std::string>()), c["shape"].get<std::string>());
        TrainConfig t;
        t.framework = Framework::pytorch;
        t.precision = parse_precision(c["precision"].get<std::string>(), "--precision");
        t.attention = c["attention"] == "eager" ? Attention::eager : Attention::flash;
        t.micro_batch = c["batch"];
        t.seq = c["seq"];
        t.lora.rank = c["rank"];
        t.lora.targets = parse_lora_targets(c["targets"].get<std::string>(), "--lora-targets");
        CHECK(count_lora(m, t.lora).adapter_params == r["trainable"].get<double>());
        const double predicted = plan_memory(m, *find_gpu("h100-sxm"), t).worst().peak_allocated;
        const double measured = r["max_memory_allocated"];
        INFO(c["name"].get<std::string>() << ": predicted " << predicted << " B, measured " << measured << " B");
        CHECK(std::fabs(predicted - measured) / measured < 0.05);
        ++checked;
    }
    CHECK(checked == 8);
}
