// cmd_infer.cpp — `llmplan infer`: serving memory (weights by format, KV cache, activations), the
// largest batch and context, time to first token and decode speed. Model: planner/infer.h.
#include "cli/commands.h"
#include "cli/help_export.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/file.h"
#include "core/gpu.h"
#include "core/json.h"
#include "core/model_text.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/infer.h"
#include "planner/report.h"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <sstream>

namespace llmplan::cli {

void setup_infer(CLI::App& parent, InferCommand& cmd) {
    cmd.app = parent.add_subcommand("infer", "Serving a model: memory (weights, KV cache), largest batch/context, latency and throughput");
    CLI::App& a = *cmd.app;
    add_model_options(a, cmd.model);
    a.add_option("--gpu", cmd.gpu, "GPU type (see `llmplan gpus`)")->capture_default_str()->type_name("NAME")->check(values_of(ValueSet::gpu));
    a.add_option("--gpu-memory", cmd.gpu_memory, "Override the GPU memory capacity (80GB, 80GiB)")->type_name("BYTES");
    a.add_option("--weights", cmd.weights, "Weight format: fp32 | fp16 | bf16 | fp8 | int8 | int4 | int3 | nf4")
        ->capture_default_str()->type_name("F")->check(values_of(ValueSet::weights));
    a.add_option("--group-size", cmd.group_size, "Quantization group for int4/int3 (GPTQ, AWQ)")->capture_default_str()->type_name("G");
    a.add_flag("--no-double-quant", cmd.no_double_quant, "nf4 without QLoRA's double quantization of the absmax");
    a.add_option("--kv-cache", cmd.kv, "KV-cache element: bf16 | fp16 | fp32 | fp8 | int8 (default: bf16, fp32 for fp32 weights)")
        ->type_name("F");
    a.add_option("--batch", cmd.batch, "Sequences decoded together")->capture_default_str()->type_name("B");
    a.add_option("--prompt", cmd.prompt, "Prompt tokens per sequence")->capture_default_str()->type_name("T");
    a.add_option("--generate", cmd.generate, "Generated tokens per sequence")->capture_default_str()->type_name("T");
    a.add_option("--prefill-chunk", cmd.prefill_chunk, "Tokens per prefill pass (chunked prefill; default: all prompts at once)")
        ->type_name("T");
    a.add_option("--tp", cmd.tp, "Tensor-parallel GPUs")->capture_default_str()->type_name("N");
    a.add_option("--attention", cmd.attention, "flash | eager")->capture_default_str()->type_name("A")->check(values_of(ValueSet::attention));
    a.add_option("--framework", cmd.framework, "generic | hf (transformers generate) | vllm")->capture_default_str()->type_name("F");
    a.add_option("--gpu-memory-utilization", cmd.utilization, "vLLM's reservation of the card")->capture_default_str()->type_name("X");
    a.add_option("--block-size", cmd.block_size, "vLLM paged-attention block (tokens)")->capture_default_str()->type_name("N");
    a.add_flag("--forward-only", cmd.forward_only, "hf: one forward pass over the prompts (model(input_ids)), no decoding");
    a.add_flag("--autograd", cmd.autograd, "hf: the forward records autograd (called without torch.no_grad())");
    a.add_flag("--json", cmd.json, "Print JSON (schema llmplan.infer/1)");
    a.add_option("--report", cmd.report, "Also write the JSON report to FILE")->type_name("FILE");
    add_config_options(a, cmd.write_config);
    add_scenario_option(a, nullptr);
    a.add_option("--vllm-args", cmd.vllm_args,
                 "Import a `vllm serve` command line, a file or the arguments themselves (model, tensor-parallel-size, "
                 "max-model-len, gpu-memory-utilization, kv-cache-dtype, quantization, max-num-seqs, block-size); "
                 "explicit flags win (docs/IMPORTS.md)")
        ->type_name("FILE|ARGS");
}

namespace {

std::string fix(double v, int d) { return format_fixed(v, d); }

std::string ms(double s) { return s < 1 ? fix(s * 1e3, 2) + " ms" : fix(s, 2) + " s"; }

}  // namespace

int run_infer(const InferCommand& cmd, std::ostream& out, std::ostream& err) {
    InferText text_in;
    text_in.weights = cmd.weights;
    text_in.group_size = cmd.group_size;
    text_in.double_quant = !cmd.no_double_quant;
    text_in.kv = cmd.kv;
    text_in.batch = cmd.batch;
    text_in.prompt = cmd.prompt;
    text_in.generate = cmd.generate;
    text_in.prefill_chunk = cmd.prefill_chunk;
    text_in.tp = cmd.tp;
    text_in.attention = cmd.attention;
    text_in.framework = cmd.framework;
    text_in.utilization = cmd.utilization;
    text_in.block_size = cmd.block_size;
    std::vector<JobImport> imports;
    ModelOptions model_flags = cmd.model;
    if (!cmd.vllm_args.empty()) {
        std::string source;
        const std::string args = argument_list_text(cmd.vllm_args, "--vllm-args", &source);
        const CLI::App& app = *cmd.app;
        imports.push_back(import_vllm(args, source, text_in, [&](std::string_view flag) {
            const CLI::Option* o = app.get_option_no_throw(std::string(flag));
            return o != nullptr && o->count() > 0;
        }));
        if (!imports.back().model_name.empty()) model_flags.model = imports.back().model_name;
        err << import_text(imports.back());
    }
    if (!cmd.write_config.empty()) write_job_config(*cmd.app, imports, cmd.write_config);
    const ResolvedModel model = resolve_model(model_flags);
    GpuSpec gpu = gpu_or_throw(cmd.gpu, "--gpu");
    if (!cmd.gpu_memory.empty()) gpu.memory_bytes = parse_bytes(cmd.gpu_memory, "--gpu-memory");
    InferConfig c = infer_config_from_text(text_in);
    c.forward_only = cmd.forward_only;
    c.autograd = cmd.autograd;
    if (c.forward_only) c.generate = 0;
    const InferPlan p = plan_inference(model.spec, gpu, c);

    nlohmann::ordered_json j = infer_to_json(p, model.origin);
    if (!imports.empty()) {
        j["imports"] = nlohmann::ordered_json::array();
        for (const JobImport& imp : imports) j["imports"].push_back(import_json(imp));
    }
    const std::string text = report_text(j, "infer report");
    if (!cmd.report.empty()) write_output_file(cmd.report, text, "--report");
    if (cmd.json) {
        out << text;
        for (const std::string& w : p.warnings) err << "llmplan infer: warning: " << w << "\n";
        return 0;
    }
    out << "llmplan infer: " << model.spec.name << " (" << model_size_text(model.spec, count_params(model.spec))
        << ") on " << (c.tp > 1 ? std::to_string(c.tp) + " × " : "") << gpu.display_name << "\n";
    out << "  serving " << c.batch << " sequence" << (c.batch == 1 ? "" : "s") << " × (" << c.prompt << " prompt + " << c.generate
        << " generated) tokens; weights " << to_string(c.weights.format) << ", KV cache " << to_string(c.kv) << ", "
        << to_string(c.attention) << " attention, framework " << to_string(c.framework) << "\n\nMemory per GPU (GiB)\n";
    Table t({"term", "GiB", "how"}, {false, true, false});
    for (const MemoryTerm& term : p.terms)
        if (term.key != "overhead") t.add({term.label, fix(term.bytes / (1 << 30), 2), term.formula});
    t.rule();
    t.add({"peak allocated", fix(p.peak / (1 << 30), 2),
           std::string(c.framework == InferFramework::vllm ? "weights + activations + graphs + this batch's KV blocks"
                       : c.forward_only                    ? "weights + prompt KV (use_cache) + activations + logits"
                                                           : "max(prefill: weights + prompt KV + activations, last decode step: weights + full KV)") +
               (p.state.layers > 0 ? (p.state.gdn ? " + the Gated DeltaNet state" : " + the Mamba state") : "")});
    for (const MemoryTerm& term : p.terms)
        if (term.key == "overhead") t.add({"+ " + term.label, fix(term.bytes / (1 << 30), 2), term.formula});
    t.add({"device total", fix(p.device_total / (1 << 30), 2),
           "of " + fix(p.capacity / (1 << 30), 2) + " GiB: " + (p.fits ? "FITS" : "DOES NOT FIT") +
               (c.framework == InferFramework::vllm ? " (vLLM reserves " + fix(100 * c.gpu_memory_utilization, 0) + "%)" : "")});
    out << t.str();
    out << "  largest batch at " << (c.prompt + c.generate) << " tokens: " << p.max_batch << "; longest context at batch "
        << c.batch << ": " << p.max_context << " tokens\n";
    if (c.framework == InferFramework::vllm) {
        out << "  vLLM KV blocks: " << p.vllm_kv_blocks << " of " << c.block_size << " tokens";
        if (p.vllm_pool.group_size != model.spec.n_layers) out << " × " << p.vllm_pool.group_size << " layers";
        out << ", " << p.vllm_blocks_per_sequence << " per sequence → up to " << p.vllm_max_sequences << " sequences of "
            << (c.prompt + c.generate) << " tokens at once\n";
    }
    out << "\nSpeed\n";
    Table s({"", "value", "how"}, {false, true, false});
    s.add({"time to first token", ms(p.prefill_seconds), prefill_time_text(p)});
    s.add({"per-token latency", ms(p.decode_step_seconds),
           std::string(p.decode_compute_bound ? "compute-bound" : "memory-bound: ") +
               (p.decode_compute_bound ? "" : format_bytes(p.decode_bytes_per_step, ByteUnit::gb) + " (weights" +
                                                   (model.spec.is_moe() ? " with " + fix(p.experts_touched, 1) + " of " +
                                                                              std::to_string(model.spec.n_experts) +
                                                                              " routed experts per layer"
                                                                        : std::string()) +
                                                   " + KV) per step at " + fix(100 * kDecodeBandwidthEfficiency, 0) +
                                                   "% of " + fix(gpu.memory_bandwidth / 1e12, 2) + " TB/s") +
               " + framework overhead"});
    s.add({"decode speed", fix(p.tokens_per_second_per_sequence, 1) + " tok/s",
           "per sequence; " + format_count(p.tokens_per_second_per_gpu) + " tok/s per GPU for the batch"});
    s.add({"whole request", ms(p.total_seconds), "prefill + " + std::to_string(c.generate) + " decode steps"});
    out << s.str();
    for (const std::string& w : p.warnings) out << "warning: " << w << "\n";
    return 0;
}

}  // namespace llmplan::cli
