// options.cpp — binds the model and job flags and turns their text into validated core types.
// Numbers are taken as text and parsed by core/quantity so that every bad value gets the same
// kind of one-line message naming the flag.
#include "cli/options.h"

#include "core/derive.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/presets.h"
#include "core/quantity.h"

#include <limits>

namespace llmplan::cli {

void add_model_options(CLI::App& app, ModelOptions& o) {
    app.add_option("--model,-m", o.model, "Model preset (see `llmplan models`), e.g. llama-2-7b")->type_name("NAME");
    app.add_option("--hf-config", o.hf_config, "Hugging Face config.json of the model")->type_name("FILE");
    app.add_option("--params", o.params, "Parameter count; derives a standard Llama-style shape (7B, 124M, 1.1e9)")
        ->type_name("N");
}

void add_job_options(CLI::App& app, JobOptions& o) {
    app.add_option("--gpu", o.gpu, "GPU type (see `llmplan gpus`)")->capture_default_str()->type_name("NAME");
    app.add_option("--gpu-memory", o.gpu_memory, "Override the GPU memory capacity (80GB, 80GiB)")->type_name("BYTES");
    app.add_option("--gpus", o.gpus, "Total number of GPUs")->capture_default_str()->type_name("N");
    app.add_option("--gpus-per-node", o.gpus_per_node, "GPUs per node (default: the GPU's usual server)")->type_name("N");
    app.add_option("--tp", o.tp, "Tensor-parallel size")->capture_default_str()->type_name("N");
    app.add_option("--pp", o.pp, "Pipeline-parallel size (1F1B)")->capture_default_str()->type_name("N");
    app.add_option("--cp", o.cp, "Context-parallel size (ring attention)")->capture_default_str()->type_name("N");
    app.add_option("--ep", o.ep, "Expert-parallel size (MoE)")->capture_default_str()->type_name("N");
    app.add_option("--virtual-stages", o.virtual_stages, "Interleaved pipeline: model chunks per pipeline rank")
        ->capture_default_str()->type_name("V");
    app.add_flag("--sp", o.sp, "Megatron sequence parallelism (with --tp > 1)");
    app.add_option("--zero", o.zero, "ZeRO stage over the data-parallel group: 0, 1, 2 or 3")->capture_default_str()->type_name("S");
    app.add_option("--precision", o.precision,
                   "fp32 | amp-bf16 | amp-fp16 | mixed-bf16 | mixed-fp16 | bf16 | fp8 "
                   "(default mixed-bf16; amp-bf16 under --framework pytorch)")->type_name("P");
    app.add_option("--optimizer", o.optimizer, "adamw | adam | sgd | sgd-momentum | adafactor | lion | adamw-8bit")
        ->capture_default_str()->type_name("O");
    app.add_option("--recompute", o.recompute, "Activation recomputation: none | selective | full")->capture_default_str()->type_name("R");
    app.add_option("--attention", o.attention, "flash (fused, no s² storage) | eager (materialised scores)")
        ->capture_default_str()->type_name("A");
    app.add_option("--dropout", o.dropout, "Dropout probability (0: no dropout, no masks stored)")->capture_default_str()->type_name("P");
    app.add_option("--micro-batch", o.micro_batch, "Sequences per GPU per forward pass")->capture_default_str()->type_name("B");
    app.add_option("--seq", o.seq, "Tokens per sequence (default: the model's context, at most 4096)")->type_name("T");
    app.add_option("--global-batch", o.global_batch,
                   "Sequences per optimizer step (default: micro-batch × dp × pp)")->type_name("B");
    app.add_option("--offload", o.offload, "none | optimizer | optimizer+params (ZeRO-Offload / ZeRO-Infinity)")
        ->capture_default_str()->type_name("O");
    app.add_option("--framework", o.framework, "Memory behaviour to model: generic (textbook) or pytorch (PyTorch eager + Hugging Face, op by op)")->capture_default_str()->type_name("F");
}

ResolvedModel resolve_model(const ModelOptions& o) {
    const int given = !o.model.empty() + !o.hf_config.empty() + !o.params.empty();
    if (given == 0)
        throw InputError("no model given: use --model NAME (see `llmplan models`), --hf-config FILE or --params N (e.g. --params 7B)");
    if (given > 1) throw InputError("--model, --hf-config and --params each name the model; give only one of them");
    if (!o.model.empty()) return {preset_or_throw(o.model, "--model"), "preset " + o.model, false};
    if (!o.hf_config.empty()) return {model_from_hf_config_file(o.hf_config, "--hf-config"), "--hf-config " + o.hf_config, false};
    const std::int64_t n = parse_count(o.params, "--params");
    return {derive_shape(n, "--params"), "--params " + o.params, true};
}

GpuSpec resolve_gpu(const JobOptions& o) {
    GpuSpec gpu = gpu_or_throw(o.gpu, "--gpu");
    if (!o.gpu_memory.empty()) gpu.memory_bytes = parse_bytes(o.gpu_memory, "--gpu-memory");
    return gpu;
}

TrainConfig resolve_job(const JobOptions& o, const GpuSpec& gpu) {
    constexpr std::int64_t kMaxGpus = 1 << 24, kMaxBatch = std::int64_t{1} << 40;
    auto small = [](const std::string& text, const char* flag, std::int64_t lo, std::int64_t hi) {
        return static_cast<int>(parse_int(text, flag, lo, hi));
    };
    TrainConfig c;
    ParallelLayout& p = c.parallel;
    p.gpus = small(o.gpus, "--gpus", 1, kMaxGpus);
    p.gpus_per_node = o.gpus_per_node.empty() ? gpu.default_gpus_per_node : small(o.gpus_per_node, "--gpus-per-node", 1, 1024);
    p.tp = small(o.tp, "--tp", 1, kMaxGpus);
    p.pp = small(o.pp, "--pp", 1, kMaxGpus);
    p.cp = small(o.cp, "--cp", 1, kMaxGpus);
    p.ep = small(o.ep, "--ep", 1, kMaxGpus);
    p.virtual_stages = small(o.virtual_stages, "--virtual-stages", 1, 1024);
    p.sp = o.sp;
    p.zero = small(o.zero, "--zero", 0, 3);
    c.framework = parse_framework(o.framework, "--framework");
    if (o.precision.empty())  // PyTorch's mixed precision is autocast over an fp32 model
        c.precision = c.framework == Framework::pytorch ? Precision::amp_bf16 : Precision::mixed_bf16;
    else
        c.precision = parse_precision(o.precision, "--precision");
    c.optimizer = parse_optimizer(o.optimizer, "--optimizer");
    c.recompute = parse_recompute(o.recompute, "--recompute");
    c.attention = parse_attention(o.attention, "--attention");
    c.dropout = parse_real(o.dropout, "--dropout", 0.0, 0.999);
    c.micro_batch = parse_int(o.micro_batch, "--micro-batch", 1, 1 << 20);
    if (!o.seq.empty()) c.seq = parse_int(o.seq, "--seq", 1, std::int64_t{1} << 24);
    if (!o.global_batch.empty()) c.global_batch = parse_int(o.global_batch, "--global-batch", 1, kMaxBatch);
    c.offload = parse_offload(o.offload, "--offload");
    return c;
}

}  // namespace llmplan::cli
