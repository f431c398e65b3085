// import_vllm.cpp — a `vllm serve` command line as `llmplan infer` flags (job_import.h). Names
// are vLLM's engine arguments (vllm/engine/arg_utils.py: EngineArgs fields as --kebab-case, with
// -tp, -pp, -dp and -q), defaults and KV-cache types its CacheConfig's (vllm/config/cache.py at
// 002f10e0): docs/REFERENCES.md §11, every argument in docs/IMPORTS.md. vLLM accepts '_' for '-'
// in argument names; so does this import.
#include "planner/job_import.h"
#include "planner/job_import_detail.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"

#include <map>
#include <set>

namespace llmplan {

namespace {

using import_detail::Recorder;

const std::set<std::string>& vllm_switches() {
    static const std::set<std::string> s{"--enforce-eager", "--trust-remote-code", "--enable-prefix-caching",
                                         "--no-enable-prefix-caching", "--enable-chunked-prefill", "--no-enable-chunked-prefill",
                                         "--disable-log-requests", "--disable-log-stats", "--enable-lora", "--enable-expert-parallel"};
    return s;
}

}  // namespace

JobImport import_vllm(const std::string& args, const std::string& source, InferText& job, const FlagGiven& given) {
    JobImport result;
    result.flag = "--vllm-args";
    result.source = source;
    Recorder rec(result, given);
    std::vector<std::string> positional;
    const import_detail::ArgumentList list = import_detail::read_argument_list(
        split_argument_words(args, "--vllm-args " + source),
        {vllm_switches(), "-",
         {{"-tp", "--tensor-parallel-size"}, {"-pp", "--pipeline-parallel-size"}, {"-dp", "--data-parallel-size"}, {"-q", "--quantization"}},
         true, false},
        [&](const std::string& w) { positional.push_back(w); });
    const std::map<std::string, std::string>& a = list.values;
    const std::vector<std::string>& order = list.order;
    std::set<std::string> used;
    auto has = [&](const std::string& n) {
        if (!a.count(n)) return false;
        used.insert(n);
        if (a.at(n).empty() && !vllm_switches().count(n)) rec.fail(n, "needs a value");
        return true;
    };
    rec.derive("--framework", job.framework, "vllm", "a vLLM server: its paged KV cache and memory reservation");

    // The model: `vllm serve MODEL` or --model.
    std::string model;
    for (std::size_t i = 0; i < positional.size(); ++i) {
        const std::string& p = positional[i];
        if (p == "vllm" || p == "serve" || p == "python" || p == "python3" || p == "-m" || p.find("vllm.entrypoints") == 0) continue;
        if (model.empty()) model = p;
        else rec.ignore(p, "a second positional word");
    }
    if (has("--model")) model = a.at("--model");
    if (!model.empty()) {
        const bool over = given("--model") || given("--hf-config") || given("--params");
        rec.r.taken.push_back({"--model", model, a.count("--model") ? "--model" : "the served model (vllm serve MODEL)", "", over});
        if (!over) result.model_name = model;
    }
    if (has("--tensor-parallel-size"))
        rec.take("--tp", job.tp, std::to_string(rec.integer("--tensor-parallel-size", a.at("--tensor-parallel-size"), 1, 1 << 20)),
                 "--tensor-parallel-size");
    if (has("--pipeline-parallel-size") && rec.integer("--pipeline-parallel-size", a.at("--pipeline-parallel-size"), 1, 1 << 20) > 1)
        rec.fail("--pipeline-parallel-size", "pipeline-parallel serving is not modelled (use tensor parallelism)");
    if (has("--data-parallel-size"))
        rec.ignore("--data-parallel-size", "replicas of the same server: each GPU's plan is the same");
    if (has("--gpu-memory-utilization")) {
        rec.real("--gpu-memory-utilization", a.at("--gpu-memory-utilization"), 0.01, 1);
        rec.take("--gpu-memory-utilization", job.utilization, a.at("--gpu-memory-utilization"), "--gpu-memory-utilization");
    }
    if (has("--block-size"))
        rec.take("--block-size", job.block_size, std::to_string(rec.integer("--block-size", a.at("--block-size"), 1, 1 << 16)), "--block-size");
    if (has("--max-num-seqs"))
        rec.take("--batch", job.batch, std::to_string(rec.integer("--max-num-seqs", a.at("--max-num-seqs"), 1, 1 << 24)),
                 "--max-num-seqs (the most sequences decoded together)");
    if (has("--max-num-batched-tokens"))
        rec.take("--prefill-chunk", job.prefill_chunk,
                 std::to_string(rec.integer("--max-num-batched-tokens", a.at("--max-num-batched-tokens"), 1, std::int64_t{1} << 30)),
                 "--max-num-batched-tokens (tokens per scheduler step: chunked prefill)");
    if (has("--max-model-len")) {
        const std::int64_t len = rec.integer("--max-model-len", a.at("--max-model-len"), 2, std::int64_t{1} << 30);
        const std::int64_t gen = parse_int(job.generate, "--generate", 1, std::int64_t{1} << 30);
        if (gen >= len) rec.fail("--max-model-len", std::to_string(len) + " leaves no prompt beside --generate " + job.generate);
        rec.derive("--prompt", job.prompt, std::to_string(len - gen),
                   "--max-model-len " + std::to_string(len) + " − --generate " + job.generate + ": the longest request the server takes");
    }
    // Weights: --quantization, else --dtype (auto: the checkpoint's, bf16 for the models llmplan knows).
    if (has("--quantization")) {
        const std::string q = to_lower(a.at("--quantization"));
        std::string w;
        if (q == "awq" || q == "gptq" || q == "awq_marlin" || q == "gptq_marlin" || q == "marlin") w = "int4";
        else if (q == "fp8" || q == "fbgemm_fp8" || q == "modelopt") w = "fp8";
        else if (q == "bitsandbytes") w = "nf4";
        else rec.fail("--quantization", "\"" + q + "\" is not modelled (awq, gptq, fp8, bitsandbytes)");
        rec.take("--weights", job.weights, w, "--quantization " + q + (w == "int4" ? " (4-bit)" : ""));
    } else if (has("--dtype")) {
        const std::string d = to_lower(a.at("--dtype"));
        const std::string w = d == "bfloat16" ? "bf16" : d == "float16" || d == "half" ? "fp16" : d == "float32" || d == "float" ? "fp32" : "";
        if (d == "auto") rec.ignore("--dtype", "auto: --weights decides (default bf16)");
        else if (w.empty()) rec.fail("--dtype", "\"" + d + "\" is not auto, bfloat16, float16 or float32");
        else rec.take("--weights", job.weights, w, "--dtype " + d);
    }
    if (has("--kv-cache-dtype")) {
        const std::string k = to_lower(a.at("--kv-cache-dtype"));
        if (k == "auto") rec.ignore("--kv-cache-dtype", "auto: the model's dtype (--kv-cache's default)");
        else if (k == "fp8" || k == "fp8_e4m3" || k == "fp8_e5m2") rec.take("--kv-cache", job.kv, "fp8", "--kv-cache-dtype " + k);
        else if (k == "bfloat16" || k == "float16") rec.take("--kv-cache", job.kv, k == "bfloat16" ? "bf16" : "fp16", "--kv-cache-dtype " + k);
        else rec.fail("--kv-cache-dtype", "\"" + k + "\" is not modelled (auto, float16, bfloat16, fp8, fp8_e4m3, fp8_e5m2)");
    }
    for (const std::string& n : order)
        if (!used.count(n)) rec.ignore(n, "not used by the plan");
    return result;
}

}  // namespace llmplan
