// test_imports.cpp — the configs people already have (planner/job_import.h) through the CLI: each
// real-looking file in tests/data/imports gives exactly the plan of the equivalent llmplan flags;
// explicit flags win; bad files are one line naming the file and the field; --config and
// --write-config round-trip; --cluster never beats an explicit flag.
#include "cli_run.h"
#include "gui/scenario.h"
#include "planner/job_import.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

using namespace llmplan;

namespace {

const std::string kData = std::string(LLMPLAN_TEST_DATA) + "/imports/";

nlohmann::json run_json(std::vector<std::string> args) {
    const test::CliResult r = test::run_cli(std::move(args));
    INFO(r.err);
    REQUIRE(r.code == 0);
    return nlohmann::json::parse(r.out);
}

// The report without what differs by construction: the import record and the model's origin text.
nlohmann::json plan_part(nlohmann::json j) {
    j.erase("imports");
    if (j.contains("model") && j["model"].is_object()) j["model"].erase("origin");
    return j;
}

void expect_one_line_error(std::vector<std::string> args, const std::string& expected) {
    const test::CliResult r = test::run_cli(std::move(args));
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err == expected + "\n");
}

void write(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
}

std::string slurp(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

const nlohmann::json* find_value(const nlohmann::json& list, const std::string& flag, const std::string& value) {
    for (const nlohmann::json& v : list)
        if (v["flag"] == flag && v["value"] == value) return &v;
    return nullptr;
}

}  // namespace

TEST_CASE("imports: deepspeed gives the plan of the equivalent flags and auto bucket sizes from the hidden size", "[imports]") {
    const nlohmann::json imported = run_json({"plan", "--model", "llama-2-7b", "--gpus", "16", "--deepspeed",
                                              kData + "ds_zero3_offload.json", "--json"});
    const nlohmann::json flags = run_json(
        {"plan", "--model", "llama-2-7b", "--gpus", "16", "--framework", "deepspeed", "--precision", "mixed-bf16", "--zero", "3",
         "--offload", "optimizer", "--micro-batch", "2", "--global-batch", "256", "--optimizer", "adamw",
         "--framework-option", "reduce_bucket_size=200000000", "--framework-option", "contiguous_gradients=true",
         "--framework-option", "overlap_comm=true", "--framework-option", "stage3_param_persistence_threshold=1000000",
         "--framework-option", "stage3_max_live_parameters=1000000000",
         // "auto": 0.9 × 4096² = 15099494.4, truncated as Hugging Face's int(0.9 * hidden * hidden)
         "--framework-option", "stage3_prefetch_bucket_size=15099494", "--json"});
    CHECK(plan_part(imported) == plan_part(flags));
    CHECK(imported["inputs"]["grad_accum"] == 8);  // 256 = 2 × 8 × 16
    const nlohmann::json& rec = imported["imports"][0];
    CHECK(rec["flag"] == "--deepspeed");
    CHECK(find_value(rec["taken"], "--zero", "3")->at("field") == "zero_optimization.stage");
    CHECK(find_value(rec["derived"], "--framework", "deepspeed") != nullptr);
    std::vector<std::string> ignored;
    for (const nlohmann::json& i : rec["ignored"]) ignored.push_back(i["field"]);
    CHECK(ignored == std::vector<std::string>{"fp16.loss_scale", "zero_optimization.offload_optimizer.pin_memory",
                                              "zero_optimization.stage3_gather_16bit_weights_on_model_save",
                                              "gradient_accumulation_steps", "optimizer.params", "gradient_clipping",
                                              "scheduler", "steps_per_print", "wall_clock_breakdown"});
}

TEST_CASE("imports: explicit flags beat a deepspeed config and are recorded as overriding", "[imports]") {
    const test::CliResult r = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "16", "--deepspeed",
                                             kData + "ds_zero3_offload.json", "--zero", "2", "--framework-option",
                                             "reduce_bucket_size=5e8", "--json"});
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["inputs"]["parallel"]["zero"] == 2);
    CHECK(j["inputs"]["framework_options"]["reduce_bucket_size"] == "5e8");
    CHECK(find_value(j["imports"][0]["taken"], "--zero", "3")->at("overridden") == true);
    CHECK(find_value(j["imports"][0]["taken"], "--framework-option", "reduce_bucket_size=200000000")->at("overridden") == true);
    CHECK(r.err.find("took    --zero 3  ← zero_optimization.stage  (overridden by the explicit --zero)") != std::string::npos);
}

TEST_CASE("imports: deepspeed batch sizes follow DeepSpeed's rules and bad files are one line", "[imports][errors]") {
    const std::string path = "imports_ds_test.json";
    write(path, R"({"train_batch_size": 64, "gradient_accumulation_steps": 4, "zero_optimization": {"stage": 1}})");
    const nlohmann::json j = run_json({"plan", "--model", "llama-2-7b", "--gpus", "8", "--deepspeed", path, "--json"});
    CHECK(j["inputs"]["micro_batch"] == 2);  // 64 ÷ (4 × 8)
    CHECK(j["inputs"]["precision"] == "fp32");  // neither bf16 nor fp16: DeepSpeed's fp32
    write(path, R"({"train_batch_size": 64, "bf16": {"enabled": "auto"}})");  // alone: gradient_accumulation_steps 1
    const nlohmann::json alone = run_json({"plan", "--model", "llama-2-7b", "--gpus", "8", "--deepspeed", path, "--json"});
    CHECK(alone["inputs"]["micro_batch"] == 8);
    CHECK(alone["inputs"]["grad_accum"] == 1);
    CHECK(alone["inputs"]["precision"] == "mixed-bf16");  // "auto": llmplan's default
    write(path, R"({"train_batch_size": 64, "train_micro_batch_size_per_gpu": 4, "gradient_accumulation_steps": 4})");
    expect_one_line_error({"plan", "--model", "llama-2-7b", "--gpus", "8", "--deepspeed", path},
                          "llmplan plan: error: --deepspeed imports_ds_test.json: train_batch_size: 64 ≠ "
                          "train_micro_batch_size_per_gpu 4 × gradient_accumulation_steps 4 × data-parallel size 8 "
                          "(--gpus ÷ (--tp × --pp × --cp))");
    write(path, R"({"zero_optimization": {"stage": "three"}})");
    expect_one_line_error({"plan", "--model", "llama-2-7b", "--deepspeed", path},
                          "llmplan plan: error: --deepspeed imports_ds_test.json: zero_optimization.stage: expected 0, 1, 2 or 3");
    write(path, R"({"zero_optimization": {"stage": 3, "offload_param": {"device": "disk"}}})");
    expect_one_line_error({"plan", "--model", "llama-2-7b", "--deepspeed", path},
                          "llmplan plan: error: --deepspeed imports_ds_test.json: zero_optimization.offload_param.device: "
                          "\"disk\" is not cpu, nvme or none");
    std::remove(path.c_str());
}

TEST_CASE("imports: megatron-args give the shape and the job of a pretrain_gpt.py launch", "[imports]") {
    // --gpus 16 from the launch line: torchrun --nproc_per_node 8 --nnodes 2.
    const nlohmann::json imported = run_json({"plan", "--megatron-args", kData + "megatron_llama2_7b.sh", "--json"});
    const nlohmann::json flags = run_json({"plan", "--model", "llama-2-7b", "--gpus", "16", "--framework", "megatron", "--tp", "2",
                                           "--pp", "2", "--sp", "--zero", "1", "--precision", "mixed-bf16", "--recompute",
                                           "selective", "--dropout", "0.0", "--micro-batch", "1", "--seq", "4096",
                                           "--global-batch", "64", "--optimizer", "adamw",
                                           "--tokens", "262144000",  // --train-iters 1000 × 64 × 4096
                                           // the arguments leave out Megatron-LM's performance flags:
                                           "--framework-option", "tp_comm_overlap=false", "--framework-option",
                                           "overlap_param_gather=false", "--framework-option", "cross_entropy_loss_fusion=false",
                                           "--framework-option", "fp8_param_gather=false", "--framework-option",
                                           "moe_token_dispatcher_type=allgather", "--json"});
    CHECK(plan_part(imported) == plan_part(flags));
    // What the arguments leave out is Megatron-LM's argument default, said so; not the performance
    // setting the profile plans when named alone.
    CHECK(imported["inputs"]["framework_options"]["overlap_param_gather"] == "false");
    CHECK(find_value(imported["imports"][0]["derived"], "--framework-option", "overlap_param_gather=false")->at("how") ==
          "no --overlap-param-gather: Megatron-LM's argument default false");
    CHECK(imported["inputs"]["framework_options"]["moe_token_dispatcher_type"] == "allgather");
    CHECK(imported["model"]["name"] == "llama-2-7b");  // the shape is the preset's
    CHECK(imported["model"]["origin"] == "--megatron-args " + kData + "megatron_llama2_7b.sh");
    // The same arguments inline, and Megatron's defaults where they are left out.
    const nlohmann::json inline_args = run_json(
        {"plan", "--gpus", "8", "--megatron-args",
         "--num-layers 12 --hidden-size 768 --num-attention-heads 12 --seq-length 1024 --max-position-embeddings 1024 "
         "--vocab-size 50257 --micro-batch-size 4",
         "--json"});
    CHECK(inline_args["inputs"]["precision"] == "fp32");
    CHECK(inline_args["inputs"]["dropout"] == 0.1);
    CHECK(inline_args["inputs"]["global_batch"] == 32);  // micro 4 × dp 8
    CHECK(inline_args["model"]["name"] == "megatron");
    CHECK(inline_args["inputs"]["model"]["vocab_size"] == 50304);  // 50257 padded to a multiple of 128
    CHECK(inline_args["inputs"]["model"]["d_ff"] == 3072);          // 4 × hidden
    CHECK(inline_args["inputs"]["model"]["tied_embeddings"] == true);
    CHECK(inline_args["inputs"]["model"]["position_embedding"] == "learned");
    expect_one_line_error({"plan", "--megatron-args", "--num-layers 12 --hidden-size 768 --num-attention-heads 12 --seq-length 1024"},
                          "llmplan plan: error: --megatron-args '--num-layers 12 --hidden-size 768 --num-attention-heads 1...': "
                          "--vocab-size: missing: the model's shape needs --vocab-size or --padded-vocab-size");
    expect_one_line_error({"plan", "--megatron-args", "--num-layers 2 --hidden-size 128 --num-attention-heads 6 --group-query-attention "
                                                      "--num-query-groups 4 --vocab-size 100 --seq-length 64"},
                          "llmplan plan: error: --megatron-args '--num-layers 2 --hidden-size 128 --num-attention-heads 6 ...': "
                          "--num-query-groups: 4 does not divide --num-attention-heads 6");
    expect_one_line_error({"plan", "--params", "7B", "--megatron-args", "--tensor-model-parallel-size two"},
                          "llmplan plan: error: --megatron-args '--tensor-model-parallel-size two': "
                          "--tensor-model-parallel-size: \"two\" must be a positive integer");
    // NVFP4: --fp4-format e2m1 (recipe nvfp4 by default) on top of --bf16, --fp4-param-gather a switch.
    const std::string gpt2 = "--num-layers 12 --hidden-size 768 --num-attention-heads 12 --seq-length 1024 "
                             "--max-position-embeddings 1024 --vocab-size 50257 --micro-batch-size 4 --bf16 ";
    const nlohmann::json fp4 = run_json({"plan", "--gpus", "8", "--gpu", "b200", "--megatron-args",
                                         gpt2 + "--fp4-format e2m1 --fp4-param-gather --use-distributed-optimizer", "--json"});
    CHECK(fp4["inputs"]["precision"] == "nvfp4");
    CHECK(fp4["inputs"]["framework_options"]["fp4_param_gather"] == "true");
    // --fp8-recipe mxfp8 is MXFP8; the per-tensor recipes plan as fp8.
    CHECK(run_json({"plan", "--gpus", "8", "--gpu", "b200", "--megatron-args", gpt2 + "--fp8-format e4m3 --fp8-recipe mxfp8",
                    "--json"})["inputs"]["precision"] == "mxfp8");
    CHECK(run_json({"plan", "--gpus", "8", "--gpu", "b200", "--megatron-args", gpt2 + "--fp8-format hybrid --fp8-recipe tensorwise",
                    "--json"})["inputs"]["precision"] == "fp8");
    expect_one_line_error({"plan", "--gpus", "8", "--gpu", "b200", "--megatron-args", gpt2 + "--fp4-format e4m3"},
                          "llmplan plan: error: --megatron-args '--num-layers 12 --hidden-size 768 --num-attention-heads 1...': "
                          "--fp4-format: \"e4m3\" is not e2m1");
}

TEST_CASE("imports: megatron-args --squared-relu is a relu2 MLP (Nemotron-4 15B's arguments name its preset)", "[imports]") {
    // NeMo's Nemotron-4 15B: 32 layers, hidden 6144, FFN 24576, 48 heads in 8 query groups, squared
    // ReLU, LayerNorm (1p: the same parameters), RoPE on half of each head, no biases, untied, 256,000
    // tokens (arXiv:2402.16819 §2). --apply-layernorm-1p is not read (ignored, named).
    const std::string shape = "--num-layers 32 --hidden-size 6144 --ffn-hidden-size 24576 --num-attention-heads 48 "
                              "--group-query-attention --num-query-groups 8 --squared-relu --normalization LayerNorm "
                              "--apply-layernorm-1p --position-embedding-type rope --rotary-percent 0.5 --disable-bias-linear "
                              "--untie-embeddings-and-output-weights --seq-length 4096 --max-position-embeddings 4096 "
                              "--padded-vocab-size 256000 ";
    const std::string job = "--tensor-model-parallel-size 8 --micro-batch-size 1 --bf16 --hidden-dropout 0";
    const nlohmann::json imported = run_json({"plan", "--gpus", "8", "--megatron-args", shape + job, "--json"});
    CHECK(imported["model"]["name"] == "nemotron-4-15b");  // the shape is the preset's
    CHECK(imported["inputs"]["model"]["activation"] == "relu2");
    CHECK(imported["inputs"]["model"]["family"] == "nemotron");
    CHECK(imported["model"]["parameters"] == 15'628'775'424LL);
    const nlohmann::json flags = run_json({"plan", "--model", "nemotron-4-15b", "--gpus", "8", "--framework", "megatron", "--tp", "8",
                                           "--micro-batch", "1", "--seq", "4096", "--precision", "mixed-bf16", "--dropout", "0",
                                           "--framework-option", "cross_entropy_loss_fusion=false", "--framework-option",
                                           "overlap_param_gather=false", "--framework-option", "tp_comm_overlap=false",
                                           "--framework-option", "fp8_param_gather=false", "--framework-option",
                                           "moe_token_dispatcher_type=allgather", "--json"});
    CHECK(imported["memory"] == flags["memory"]);
    // Not a preset's shape: named "megatron", family nemotron; without the flag the MLP is GELU's.
    const std::string small = "--num-layers 2 --hidden-size 128 --num-attention-heads 4 --vocab-size 100 --seq-length 64 ";
    const nlohmann::json custom = run_json({"plan", "--gpus", "1", "--megatron-args", small + "--squared-relu", "--json"});
    CHECK(custom["model"]["name"] == "megatron");
    CHECK(custom["inputs"]["model"]["activation"] == "relu2");
    CHECK(custom["inputs"]["model"]["family"] == "nemotron");
    CHECK(run_json({"plan", "--gpus", "1", "--megatron-args", small, "--json"})["inputs"]["model"]["activation"] == "gelu");
    // Megatron-LM asserts not both (arguments.py: `if args.squared_relu: assert not args.swiglu`).
    expect_one_line_error({"plan", "--gpus", "1", "--megatron-args", small + "--squared-relu --swiglu"},
                          "llmplan plan: error: --megatron-args '--num-layers 2 --hidden-size 128 --num-attention-heads 4 ...': "
                          "--squared-relu: Megatron-LM refuses it with --swiglu");
}

TEST_CASE("imports: a Megatron Bridge config gives the plan of its recipe's flags, field by field", "[imports][bridge]") {
    // tests/data/imports/bridge_config.py wrote it in ConfigContainer.to_yaml's form, from the recipe
    // qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config (validation/published/runs.json's trace).
    const std::string file = kData + "bridge_qwen3_30b_a3b_h100.yaml";
    const nlohmann::json imported = run_json({"plan", "--megatron-bridge", file, "--gpus", "16", "--gpus-per-node", "8", "--json"});
    std::vector<std::string> args{"plan", "--model", "qwen3-30b-a3b", "--gpus", "16", "--gpus-per-node", "8", "--framework", "megatron",
                                  "--ep", "16", "--etp", "1", "--zero", "1", "--precision", "mixed-bf16", "--dropout", "0.0",
                                  "--micro-batch", "1", "--seq", "4096", "--global-batch", "1024", "--optimizer", "adamw",
                                  "--tokens", "209715200",  // train.train_iters 50 × 1024 × 4096
                                  "--json"};
    for (const char* o : {"grad_reduce_in_bf16=true", "moe_token_dispatcher_type=flex", "overlap_moe_expert_parallel_comm=true",
                          "overlap_param_gather=true", "cross_entropy_loss_fusion=true", "moe_flex_dispatcher_num_sms=32",
                          "cuda_graph_impl=transformer_engine", "cuda_graph_modules=moe_router,moe_preprocess",
                          "use_precision_aware_optimizer=true", "exp_avg_dtype=fp32", "exp_avg_sq_dtype=fp32", "main_params_dtype=fp32",
                          "attention_backend=auto",
                          // not in the file: the argument defaults, not the settings the profile plans named alone
                          "fp8_param_gather=false", "tp_comm_overlap=false"}) {
        args.insert(args.end() - 1, "--framework-option");
        args.insert(args.end() - 1, o);
    }
    const nlohmann::json flags = run_json(args);
    CHECK(plan_part(imported) == plan_part(flags));
    CHECK(imported["model"]["name"] == "qwen3-30b-a3b");  // the shape is the preset's
    CHECK(imported["model"]["origin"] == "--megatron-bridge " + file);
    const nlohmann::json& rec = imported["imports"][0];
    CHECK(rec["flag"] == "--megatron-bridge");
    // Each value under the YAML field it came from, and the fields it did not use, with the reason.
    const nlohmann::json* sms = find_value(rec["taken"], "--framework-option", "moe_flex_dispatcher_num_sms=32");
    REQUIRE(sms != nullptr);
    CHECK((*sms)["field"] == "model.moe_hybridep_num_sms");
    const nlohmann::json* bf16 = find_value(rec["taken"], "--framework-option", "grad_reduce_in_bf16=true");
    REQUIRE(bf16 != nullptr);
    CHECK((*bf16)["field"] == "ddp.grad_reduce_in_fp32");
    CHECK(find_value(rec["taken"], "--ep", "16") != nullptr);
    auto ignored = [&](const std::string& field) {
        for (const nlohmann::json& i : rec["ignored"])
            if (i["field"] == field) return i["why"].get<std::string>();
        return std::string("(not listed)");
    };
    CHECK(ignored("logger") == "not used by the plan");
    CHECK(ignored("model.recompute_modules") == "model.recompute_granularity is null: nothing is recomputed");
    CHECK(ignored("mixed_precision.fp8_recipe") == "mixed_precision.fp8 is null: no FP8");
    CHECK(ignored("optimizer.lr") == "not used by the plan");
    CHECK(ignored("mixed_precision.grad_reduce_in_fp32") == "ddp.grad_reduce_in_fp32 is the one read (Bridge copies this there)");

    // A shape llmplan does not read from the config: a model flag gives it, the rest is still read.
    const std::string path = "imports_bridge_test.yaml";
    write(path, "model:\n  num_layers: 61\n  hidden_size: 7168\n  num_attention_heads: 128\n  multi_latent_attention: true\n"
                "  tensor_model_parallel_size: 2\n  pipeline_model_parallel_size: 8\n  expert_model_parallel_size: 64\n"
                "train:\n  micro_batch_size: 1\n  global_batch_size: 8192\nmixed_precision: bf16_with_mxfp8_mixed\n");
    expect_one_line_error({"plan", "--megatron-bridge", path, "--gpus", "1024"},
                          "llmplan plan: error: --megatron-bridge imports_bridge_test.yaml: model.multi_latent_attention: llmplan does "
                          "not read this model's shape from a Bridge config; give the model with --model or --hf-config (the config's "
                          "parallel, batch and recipe settings are still read)");
    const nlohmann::json dsv3 = run_json({"plan", "--megatron-bridge", path, "--model", "deepseek-v3", "--gpus", "1024", "--gpu", "gb200", "--json"});
    CHECK(dsv3["model"]["name"] == "deepseek-v3");
    CHECK(dsv3["inputs"]["precision"] == "mxfp8");
    CHECK(dsv3["inputs"]["parallel"]["pp"] == 8);
    CHECK(dsv3["inputs"]["global_batch"] == 8192);
    // Bad values name the YAML field; a file that is not a Bridge config says what one is.
    write(path, "model:\n  tensor_model_parallel_size: two\n");
    expect_one_line_error({"plan", "--params", "7B", "--megatron-bridge", path},
                          "llmplan plan: error: --megatron-bridge imports_bridge_test.yaml: model.tensor_model_parallel_size: \"two\" must "
                          "be a positive integer");
    // A true/false field holding something else is listed, not read as false.
    write(path, "model:\n  num_layers: 2\n  hidden_size: 64\n  num_attention_heads: 4\n  vocab_size: 128\n  seq_length: 32\n"
                "ddp:\n  overlap_param_gather: sure\n  use_distributed_optimizer: 1\n");
    const nlohmann::json odd = run_json({"plan", "--megatron-bridge", path, "--json"});
    CHECK(odd["imports"][0]["ignored"].dump().find(R"({"field":"ddp.overlap_param_gather","why":"expected true or false"})") != std::string::npos);
    CHECK(odd["inputs"]["parallel"]["zero"] == 1);  // 1 is true
    write(path, "- a\n- b\n");
    expect_one_line_error({"plan", "--params", "7B", "--megatron-bridge", path},
                          "llmplan plan: error: --megatron-bridge imports_bridge_test.yaml: not a Megatron Bridge config: expected a "
                          "YAML mapping with the sections model, train, ddp, ... (ConfigContainer.to_yaml, e.g. "
                          "logger.save_config_filepath or a checkpoint's run_config.yaml)");
    write(path, "model:\n  num_layers: 2\n\tbad: 1\n");
    expect_one_line_error({"plan", "--params", "7B", "--megatron-bridge", path},
                          "llmplan plan: error: --megatron-bridge imports_bridge_test.yaml: line 3: a tab in the indentation (YAML "
                          "indents with spaces)");
    expect_one_line_error({"plan", "--params", "7B", "--megatron-bridge", path, "--megatron-args", "--bf16"},
                          "llmplan plan: error: --deepspeed, --megatron-args, --megatron-bridge and --torchtitan each describe the job; "
                          "give only one of them");
    std::remove(path.c_str());
}

TEST_CASE("imports: a torchtitan job TOML gives the preset and the plan of the equivalent flags", "[imports]") {
    const nlohmann::json imported = run_json({"plan", "--torchtitan", kData + "torchtitan_llama3_8b.toml", "--json"});
    const nlohmann::json flags = run_json({"plan", "--model", "llama-3.1-8b", "--gpus", "16", "--framework", "torchtitan", "--tp", "2",
                                           "--sp", "--zero", "3", "--micro-batch", "2", "--global-batch", "16", "--seq", "8192",
                                           "--recompute", "selective", "--framework-option", "selective_ac_option=op",
                                           "--framework-option", "compile=true",  // [compile] enable = true
                                           "--precision", "mixed-bf16", "--optimizer", "adamw",
                                           "--tokens", "131072000",  // training.steps 1000 × 16 × 8192
                                           "--json"});
    CHECK(imported.dump() != flags.dump());  // the import record is there
    CHECK(plan_part(imported) == plan_part(flags));
    CHECK(imported["model"]["origin"] == flags["model"]["origin"]);
    const std::string path = "imports_tt_test.toml";
    write(path, "[parallelism]\ntensor_parallel_degree = \"two\"\n");
    expect_one_line_error({"plan", "--params", "1B", "--torchtitan", path},
                          "llmplan plan: error: --torchtitan imports_tt_test.toml: parallelism.tensor_parallel_degree: expected an integer");
    expect_one_line_error({"plan", "--torchtitan", kData + "torchtitan_llama3_8b.toml", "--gpus", "32"},
                          "llmplan plan: error: --torchtitan " + kData + "torchtitan_llama3_8b.toml: parallelism: replicate 1 × "
                          "shard 8 × tensor 2 × pipeline 1 × context 1 = 16 GPUs, but --gpus 32 (torchtitan needs the product "
                          "to be the world size)");
    write(path, "[training\nseq_len = 4\n");
    const test::CliResult bad = test::run_cli({"plan", "--params", "1B", "--torchtitan", path});
    CHECK(bad.code == 2);
    CHECK(bad.err.rfind("llmplan plan: error: --torchtitan imports_tt_test.toml: line 1, column ", 0) == 0);
    std::remove(path.c_str());
}

TEST_CASE("imports: infer takes a vllm serve command line", "[imports]") {
    const nlohmann::json imported = run_json({"infer", "--vllm-args", slurp(kData + "vllm_serve.sh"), "--json"});
    const nlohmann::json flags = run_json({"infer", "--model", "llama-3-8b", "--tp", "2", "--gpu-memory-utilization", "0.85",
                                           "--block-size", "32", "--batch", "64", "--kv-cache", "fp8", "--framework", "vllm",
                                           "--prompt", "7936",  // --max-model-len 8192 − --generate 256
                                           "--json"});
    CHECK(plan_part(imported) == plan_part(flags));
    const nlohmann::json from_file = run_json({"infer", "--vllm-args", kData + "vllm_serve.sh", "--tp", "4", "--json"});
    CHECK(from_file["inputs"]["tp"] == 4);
    expect_one_line_error({"infer", "--model", "llama-3-8b", "--vllm-args", "--quantization squeezellm"},
                          "llmplan infer: error: --vllm-args '--quantization squeezellm': --quantization: \"squeezellm\" is not "
                          "modelled (awq, gptq, fp8, bitsandbytes)");
}

TEST_CASE("imports: the job file written by write-config reads back through config", "[imports][config]") {
    const std::string job = "imports_job_test.toml";
    const nlohmann::json imported = run_json({"plan", "--model", "llama-2-7b", "--gpus", "16", "--deepspeed",
                                              kData + "ds_zero3_offload.json", "--write-config", job, "--json"});
    const std::string text = slurp(job);
    CHECK(text.find("zero = \"3\"\n") != std::string::npos);
    CHECK(text.find("\ndeepspeed = ") == std::string::npos);  // its values are written, not the import
    const nlohmann::json rerun = run_json({"plan", "--config", job, "--json"});
    CHECK(plan_part(rerun) == plan_part(imported));
    // The command line beats the job file.
    CHECK(run_json({"plan", "--config", job, "--zero", "2", "--json"})["inputs"]["parallel"]["zero"] == 2);
    write(job, "model = \"llama-2-7b\"\nsp = true\ntp = \"2\"\nframework-option = [\"recompute_method=block\"]\n"
               "framework = \"megatron\"\nrecompute = \"full\"\ngpus = \"8\"\n");
    const nlohmann::json j = run_json({"plan", "--config", job, "--json"});
    CHECK(j["inputs"]["parallel"]["sp"] == true);
    CHECK(j["inputs"]["parallel"]["tp"] == 2);
    CHECK(j["inputs"]["framework_options"]["recompute_method"] == "block");
    write(job, "modle = \"llama-2-7b\"\n");
    expect_one_line_error({"plan", "--config", job}, "llmplan plan: error: --config imports_job_test.toml: \"modle\" is not a flag of `llmplan plan`");
    // Every command takes one: infer too.
    write(job, "model = \"llama-3-8b\"\nbatch = \"8\"\n");
    CHECK(run_json({"infer", "--config", job, "--json"})["inputs"]["batch"] == 8);
    std::remove(job.c_str());
}

TEST_CASE("imports: a cluster file fills only what no flag gave even when the flag is at its default", "[imports][precedence]") {
    const std::string path = "imports_cluster_test.json";
    write(path, R"({"gpu": "a100-80g", "pue": 1.5, "grid_intensity": 0.2, "price_per_gpu_hour": 3})");
    const nlohmann::json file = run_json({"plan", "--model", "llama-2-7b", "--cluster", path, "--json"});
    const nlohmann::json flags = run_json({"plan", "--model", "llama-2-7b", "--cluster", path, "--pue", "1.2", "--grid-intensity",
                                           "0.4", "--gpu", "h100-sxm", "--json"});
    const nlohmann::json plain = run_json({"plan", "--model", "llama-2-7b", "--price-per-gpu-hour", "3", "--json"});
    CHECK(file["inputs"]["gpu"] == "a100-80g");
    CHECK(flags["inputs"]["gpu"] == "h100-sxm");
    // Explicit --pue 1.2 and --grid-intensity 0.4 (the defaults) win over the file's 1.5 and 0.2.
    CHECK(flags["training"]["energy_kwh"] == plain["training"]["energy_kwh"]);
    CHECK(flags["training"]["co2_kg"] == plain["training"]["co2_kg"]);
    CHECK(file["training"]["co2_kg"].get<double>() != plain["training"]["co2_kg"].get<double>());
    std::remove(path.c_str());
}

TEST_CASE("imports: split_argument_words handles quotes and escapes and continued lines and comments", "[imports]") {
    CHECK(split_argument_words("a 'b c' \"d e\" f\\ g \\\n h # note\n--x=1", "t") ==
          std::vector<std::string>{"a", "b c", "d e", "f g", "h", "--x=1"});
    CHECK_THROWS_WITH(split_argument_words("--data-path 'x", "--megatron-args t"),
                      "--megatron-args t: the ' quote at character 13 is not closed");
}

TEST_CASE("imports: scaling fit reads a spreadsheet's CSV as the plain one", "[imports][csv]") {
    // The Chinchilla points as Excel's "CSV UTF-8" writes them: a byte-order mark, CRLF, a quoted
    // first column holding commas, quotes and a line break, and quoted numbers.
    const std::string plain = slurp(std::string(LLMPLAN_TEST_DATA) + "/chinchilla_fig4_points.csv");
    std::string excel = "\xEF\xBB\xBF\"run\",";
    std::size_t row = 0, at = 0;
    while (at < plain.size()) {
        std::size_t eol = plain.find('\n', at);
        if (eol == std::string::npos) eol = plain.size();
        const std::string line = plain.substr(at, eol - at);
        at = eol + 1;
        if (line.empty()) continue;
        if (row > 0) {
            excel += "\"run ";
            excel += std::to_string(row);
            excel += ", ablation \"\"b\"\"\r\nsecond line\",";
        }
        // Quote every field of the original line.
        std::string quoted;
        std::size_t from = 0;
        for (;;) {
            const std::size_t comma = line.find(',', from);
            quoted += '"';
            quoted += line.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
            quoted += '"';
            if (comma == std::string::npos) break;
            quoted += ",";
            from = comma + 1;
        }
        excel += quoted;
        excel += "\r\n";
        ++row;
    }
    const std::string path = "imports_fit_excel.csv";
    write(path, excel);
    const nlohmann::json a = run_json({"scaling", "--fit", std::string(LLMPLAN_TEST_DATA) + "/chinchilla_fig4_points.csv", "--json"});
    const nlohmann::json b = run_json({"scaling", "--fit", path, "--json"});
    std::remove(path.c_str());
    CHECK(a["fit"]["runs"] == 245);
    CHECK(b["fit"] == a["fit"]);
}

TEST_CASE("imports: a GUI scenario holds the experts' tensor parallel (--etp)", "[imports][config][scenario]") {
    gui::Scenario s;
    s.model = "qwen3-30b-a3b";
    s.gpus = 16;
    s.tp = 2;
    s.sp = true;
    s.ep = 8;
    s.etp = 1;
    s.zero = 1;
    const std::string scenario = "imports_scenario_etp.json", back = "imports_scenario_etp_back.json";
    write(scenario, gui::scenario_to_json(s).dump(2));
    CHECK(gui::load_scenario_file(scenario).etp == 1);
    const nlohmann::json cli = run_json({"plan", "--scenario", scenario, "--json"});
    CHECK(cli["inputs"]["parallel"]["etp"] == 1);
    CHECK(cli == run_json({"plan", "--model", "qwen3-30b-a3b", "--gpus", "16", "--tp", "2", "--sp", "--ep", "8", "--etp", "1",
                           "--zero", "1", "--json"}));
    // --write-scenario keeps an --etp given, and reads back the same.
    run_json({"plan", "--model", "qwen3-30b-a3b", "--gpus", "16", "--tp", "2", "--sp", "--ep", "8", "--etp", "1", "--zero", "1",
              "--write-scenario", back, "--json"});
    CHECK(gui::load_scenario_file(back).etp == 1);
    // The default (the experts split like the dense layers): a report writes etp = tp, read back as 0.
    s.etp = 0;
    s.ep = 4;
    write(scenario, gui::scenario_to_json(s).dump(2));
    CHECK(gui::scenario_to_json(s)["parallel"]["etp"] == 2);
    CHECK(gui::load_scenario_file(scenario).etp == 0);
    for (const std::string& f : {scenario, back}) std::remove(f.c_str());
}

TEST_CASE("imports: a GUI scenario holds --offload-activations", "[imports][config][scenario][offload]") {
    gui::Scenario s;
    s.model = "llama-2-7b";
    s.gpus = 8;
    s.zero = 3;
    s.offload_activations = 8;
    const std::string scenario = "imports_scenario_offload.json", back = "imports_scenario_offload_back.json";
    write(scenario, gui::scenario_to_json(s).dump(2));
    CHECK(gui::scenario_to_json(s)["offload_activations"] == 8);
    CHECK(gui::load_scenario_file(scenario).offload_activations == 8);
    const nlohmann::json cli = run_json({"plan", "--scenario", scenario, "--json"});
    CHECK(cli["inputs"]["offload_activations"] == 8);
    CHECK(cli == run_json({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "3", "--offload-activations", "8", "--json"}));
    // --write-scenario keeps it; a plan report loads as a scenario with it.
    run_json({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "3", "--offload-activations", "8", "--write-scenario", back,
              "--json"});
    CHECK(gui::load_scenario_file(back).offload_activations == 8);
    CHECK(gui::scenario_from_json(cli, "report").offload_activations == 8);
    // A bad value is the CLI's one line, naming the flag.
    s.offload_activations = 40;
    CHECK_THROWS_WITH(gui::evaluate(s), Catch::Contains("--offload-activations 40: the llama-2-7b model has 32 layers"));
    for (const std::string& f : {scenario, back}) std::remove(f.c_str());
}

TEST_CASE("imports: a GUI scenario reruns from the CLI and converts to a job file and back", "[imports][config][scenario]") {
    gui::Scenario s;
    s.model = "llama-3-8b";
    s.gpus = 16;
    s.tp = 2;
    s.sp = true;
    s.zero = 1;
    s.recompute = "selective";
    s.micro_batch = 2;
    s.seq = 4096;
    s.global_batch = 128;
    s.tokens = "1T";
    s.price = "2.5";
    s.dropout = 0.1;
    const std::string scenario = "imports_scenario_test.json", job = "imports_scenario_job.toml", back = "imports_scenario_back.json";
    write(scenario, gui::scenario_to_json(s).dump(2));
    // The plan the GUI shows for it (gui/scenario.h evaluate) is the plan the CLI makes from the file.
    const nlohmann::json gui_report = gui::report_json(gui::evaluate(s));
    const nlohmann::json cli = run_json({"plan", "--scenario", scenario, "--write-config", job, "--json"});
    CHECK(plan_part(cli) == plan_part(nlohmann::json::parse(gui_report.dump())));
    // The job file reruns it, and writes the same scenario back.
    const nlohmann::json rerun = run_json({"plan", "--config", job, "--write-scenario", back, "--json"});
    CHECK(rerun == cli);
    // (as the GUI itself saves and reopens it: the file carries the preset's shape too)
    CHECK(gui::load_scenario_file(back) == gui::scenario_from_json(gui::scenario_to_json(s), "gui"));
    // The command line beats the scenario.
    CHECK(run_json({"plan", "--scenario", scenario, "--tp", "4", "--json"})["inputs"]["parallel"]["tp"] == 4);
    // What a scenario cannot hold is refused, not dropped.
    expect_one_line_error({"plan", "--config", job, "--framework", "deepspeed", "--framework-option", "reduce_bucket_size=1e8",
                           "--zero", "2", "--write-scenario", back},
                          "llmplan plan: error: --write-scenario: a GUI scenario cannot hold --framework-option; use --write-config");
    expect_one_line_error({"infer", "--scenario", scenario},
                          "llmplan infer: error: --scenario imports_scenario_test.json: a training scenario; use `llmplan plan --scenario`");
    // A serving scenario drives infer.
    s.mode = gui::Mode::inference;
    s.infer.batch = 16;
    s.infer.weights = "int4";
    s.infer.framework = "vllm";
    write(scenario, gui::scenario_to_json(s).dump(2));
    const nlohmann::json served = run_json({"infer", "--scenario", scenario, "--json"});
    const nlohmann::json flags = run_json({"infer", "--model", "llama-3-8b", "--batch", "16", "--weights", "int4", "--framework", "vllm", "--json"});
    CHECK(served == flags);
    for (const std::string& f : {scenario, job, back}) std::remove(f.c_str());
}

TEST_CASE("imports: search takes the job from an import and lists the layout it searches itself as ignored", "[imports]") {
    const test::CliResult r = test::run_cli({"search", "--megatron-args", kData + "megatron_llama2_7b.sh", "--top", "1", "--json"});
    REQUIRE(r.code == 0);
    CHECK(nlohmann::json::parse(r.out)["model"]["name"] == "llama-2-7b");
    CHECK(r.err.find("ignored --tensor-model-parallel-size (--tp 2): `llmplan search` chooses --tp itself") != std::string::npos);
    CHECK(r.err.find("ignored --recompute-granularity (--recompute selective): `llmplan search` chooses --recompute itself") !=
          std::string::npos);
    CHECK(r.err.find("derived --gpus 16  ← torchrun --nproc-per-node × --nnodes") != std::string::npos);
}

TEST_CASE("imports: expert tensor parallelism from megatron-args and a torchtitan TOML", "[imports][moe]") {
    // Megatron-LM: --expert-tensor-parallel-size 1 is --etp 1 (ep 16 over tp 2 × dp 8).
    const nlohmann::json meg = run_json({"plan", "--model", "qwen3-30b-a3b", "--gpus", "16", "--megatron-args",
                                         "--tensor-model-parallel-size 2 --sequence-parallel --expert-model-parallel-size 16 "
                                         "--expert-tensor-parallel-size 1 --micro-batch-size 1 --seq-length 4096 --bf16 --hidden-dropout 0 "
                                         "--attention-dropout 0",
                                         "--json"});
    const nlohmann::json flags = run_json({"plan", "--model", "qwen3-30b-a3b", "--gpus", "16", "--framework", "megatron", "--tp", "2",
                                           "--sp", "--ep", "16", "--etp", "1", "--micro-batch", "1", "--seq", "4096", "--zero", "0",
                                           "--precision", "mixed-bf16", "--framework-option", "tp_comm_overlap=false",
                                           "--framework-option", "overlap_param_gather=false", "--framework-option",
                                           "cross_entropy_loss_fusion=false", "--framework-option", "fp8_param_gather=false",
                                           "--framework-option", "moe_token_dispatcher_type=allgather", "--json"});
    CHECK(meg["inputs"]["parallel"]["etp"] == 1);
    CHECK(meg["memory"] == flags["memory"]);
    CHECK(meg["time"] == flags["time"]);
    // torchtitan: expert_tensor_parallel_degree defaults to 1 with tensor and expert parallelism, or as given.
    const std::string path = "imports_tt_etp.toml";
    write(path, "[parallelism]\ntensor_parallel_degree = 2\nexpert_parallel_degree = 16\ndata_parallel_shard_degree = 8\n"
                "[training]\nseq_len = 4096\nlocal_batch_size = 1\n");
    const nlohmann::json tt = run_json({"plan", "--model", "qwen3-30b-a3b", "--torchtitan", path, "--json"});
    CHECK(tt["inputs"]["parallel"]["etp"] == 1);
    CHECK(find_value(tt["imports"][0]["derived"], "--etp", "1") != nullptr);
    write(path, "[parallelism]\ntensor_parallel_degree = 2\nexpert_parallel_degree = 4\nexpert_tensor_parallel_degree = 2\n"
                "data_parallel_shard_degree = 8\n[training]\nseq_len = 4096\nlocal_batch_size = 1\n");
    CHECK(run_json({"plan", "--model", "qwen3-30b-a3b", "--torchtitan", path, "--json"})["inputs"]["parallel"]["etp"] == 2);
    std::remove(path.c_str());
}
