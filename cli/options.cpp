// options.cpp — binds the model and job flags and turns their text into validated core types.
// Numbers are taken as text and parsed by core/quantity so that every bad value gets the same
// kind of one-line message naming the flag.
#include "cli/options.h"

#include "core/derive.h"
#include "core/error.h"
#include "core/file.h"
#include "core/model_source.h"
#include "core/quantity.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <sstream>
#include <utility>

namespace llmplan::cli {

void add_model_options(CLI::App& app, ModelOptions& o) {
    app.add_option("--model,-m", o.model,
                   "Model: a preset (see `llmplan models`), e.g. llama-2-7b, or a Hugging Face ORG/NAME whose "
                   "config.json is in the local Hugging Face cache, e.g. Qwen/Qwen3-8B")
        ->type_name("NAME");
    app.add_option("--hf-config", o.hf_config, "Hugging Face config.json of the model, or a folder holding one")
        ->type_name("PATH");
    app.add_option("--params", o.params, "Parameter count; derives a standard Llama-style shape (7B, 124M, 1.1e9)")
        ->type_name("N");
}

void add_perf_options(CLI::App& app, PerfFlags& o) {
    app.add_option("--cluster", o.cluster,
                   "Cluster JSON: gpu, gpus, gpus_per_node, inter_node_bandwidth, nvlink_bandwidth, price_per_gpu_hour")
        ->type_name("FILE");
    app.add_option("--inter-node-bandwidth", o.inter_node_bandwidth,
                   "Network bandwidth per node (default: one NIC per GPU, e.g. 8x400Gb/s for H100)")
        ->type_name("BW");
    app.add_option("--nvlink-bandwidth", o.nvlink_bandwidth,
                   "Collective bus bandwidth inside a node (default: 82% of the GPU's one-way link)")->type_name("BW");
    app.add_option("--price-per-gpu-hour", o.price, "USD per GPU-hour (default: a typical 2026 cloud price)")->type_name("USD");
    app.add_option("--mfu", o.mfu, "Take this model-FLOPs utilisation (0-1) instead of the compute model")->type_name("X");
    app.add_option("--tokens", o.tokens, "Training tokens (default: 20 per parameter, Chinchilla)")->type_name("N");
    app.add_option("--calibration", o.calibration,
                   "Compute-model calibration JSON (gemm_efficiency, elementwise_traffic, memory_bandwidth)")->type_name("FILE");
    app.add_option("--peak-flops", o.peak_flops,
                   "Dense peak FLOP/s of one GPU for the job's precision, instead of the catalog's (989T, 1.2e15)")
        ->type_name("F");
    app.add_option("--power-limit", o.power_limit,
                   "Board power limit in watts (40-100% of the GPU's TDP): lowers the sustained matmul clock "
                   "(docs/PERFORMANCE_MODEL.md §2) and the board power in the energy")
        ->type_name("W");
    app.add_option("--goodput", o.goodput, "Fraction of the run's wall time that trains (0-1): expected time = steady state ÷ X")
        ->type_name("X");
    app.add_option("--mtbf-hours", o.mtbf_hours,
                   "Mean time between failures of one GPU with its share of host and network, in hours (Llama 3: about "
                   "50,700); the job's is this ÷ GPUs")
        ->type_name("H");
    app.add_option("--checkpoint-minutes", o.checkpoint_minutes,
                   "Minutes training stops to write one checkpoint (with --mtbf-hours; interval: Young's optimum)")
        ->type_name("MIN");
    app.add_option("--restart-minutes", o.restart_minutes,
                   "Minutes from a failure to training again: detect, reschedule, load the checkpoint (with --mtbf-hours)")
        ->type_name("MIN");
    app.add_option("--batch-rampup", o.batch_rampup,
                   "Tokens over which the global batch grows linearly from one micro-batch per data-parallel rank")
        ->type_name("TOKENS");
    app.add_option("--pue", o.pue, "Data-centre power usage effectiveness")->capture_default_str()->type_name("X");
    app.add_option("--grid-intensity", o.grid_intensity, "kg CO2e per kWh of the grid")->capture_default_str()->type_name("X");
}

namespace {

nlohmann::json read_cluster(const std::string& path) {
    const nlohmann::json j = read_json_file(path, "--cluster");
    if (!j.is_object()) throw InputError("--cluster " + path + ": expected a JSON object");
    static const char* kKeys[] = {"gpu", "gpus", "gpus_per_node", "inter_node_bandwidth", "nvlink_bandwidth",
                                  "price_per_gpu_hour", "pue", "grid_intensity"};
    for (const auto& [key, value] : j.items()) {
        bool known = false;
        for (const char* k : kKeys) known = known || key == k;
        if (!known) throw InputError("--cluster " + path + ": unknown key \"" + key + "\"");
    }
    return j;
}

// A cluster value as text (numbers are written as they are).
std::string text_of(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    std::ostringstream s;
    s << v.dump();
    return s.str();
}

}  // namespace

// Parses the values a --cluster file gave with their flags' parsers; a refusal names the file and
// its key (`--cluster c.json: "gpus": ...`), not a flag the user did not type.
template <typename Parse>
void parse_from_cluster(const std::string& path, const std::vector<std::pair<const char*, const char*>>& from_file,
                        Parse&& parse) {
    try {
        parse();
    } catch (const InputError& e) {
        for (const auto& [flag, key] : from_file)
            if (auto r = renamed(e, flag, "--cluster " + path + ": \"" + key + "\"")) throw *r;
        throw;
    }
}

void apply_cluster_file(const CLI::App& app, const PerfFlags& p, JobOptions& job) {
    if (p.cluster.empty()) return;
    const nlohmann::json j = read_cluster(p.cluster);
    std::vector<std::pair<const char*, const char*>> from_file;
    auto take = [&](const char* key, const char* flag, std::string& field) {
        if (!j.contains(key) || app.count(flag) != 0) return;
        field = text_of(j[key]);
        from_file.emplace_back(flag, key);
    };
    take("gpu", "--gpu", job.gpu);
    take("gpus", "--gpus", job.gpus);
    take("gpus_per_node", "--gpus-per-node", job.gpus_per_node);
    // Checked here, by the parsers resolve_gpu and resolve_job use, while the file can be named.
    parse_from_cluster(p.cluster, from_file, [&] {
        const GpuSpec gpu = resolve_gpu(job);
        resolve_job(job, gpu);
    });
}

ResolvedPerf resolve_perf(const PerfFlags& o, const GpuSpec& gpu, const TrainConfig& config) {
    PerfFlags f = o;
    std::vector<std::pair<const char*, const char*>> from_file;
    if (!o.cluster.empty()) {  // the file fills what the flags left unset
        const nlohmann::json j = read_cluster(o.cluster);
        auto take = [&](const char* key, const char* flag, std::string& field, bool unset) {
            if (!unset || !j.contains(key)) return;
            field = text_of(j[key]);
            from_file.emplace_back(flag, key);
        };
        take("inter_node_bandwidth", "--inter-node-bandwidth", f.inter_node_bandwidth, f.inter_node_bandwidth.empty());
        take("nvlink_bandwidth", "--nvlink-bandwidth", f.nvlink_bandwidth, f.nvlink_bandwidth.empty());
        take("price_per_gpu_hour", "--price-per-gpu-hour", f.price, f.price.empty());
        take("pue", "--pue", f.pue, o.pue == "1.2");
        take("grid_intensity", "--grid-intensity", f.grid_intensity, o.grid_intensity == "0.4");
    }
    ResolvedPerf r;
    parse_from_cluster(o.cluster, from_file, [&] {
        r.cluster = default_cluster(gpu, config.parallel.gpus_per_node);
        if (!f.inter_node_bandwidth.empty()) {
            const double node = parse_bandwidth(f.inter_node_bandwidth, "--inter-node-bandwidth");
            r.cluster.network_per_gpu = node / config.parallel.gpus_per_node;
            r.cluster.network_description = f.inter_node_bandwidth + " per node (given)";
        }
        if (!f.nvlink_bandwidth.empty()) r.cluster.nvlink_bus_bandwidth = parse_bandwidth(f.nvlink_bandwidth, "--nvlink-bandwidth");
        if (!f.price.empty()) {
            r.cluster.price_per_gpu_hour = parse_price_per_gpu_hour(f.price);
            r.cluster.price_source = "given";
        }
        if (!f.mfu.empty()) r.options.mfu = parse_real(f.mfu, "--mfu", 1e-4, 1);
        if (!f.tokens.empty()) r.options.tokens = static_cast<double>(parse_count(f.tokens, "--tokens"));
        r.options.pue = parse_real(f.pue, "--pue", 1, 10);
        if (!f.calibration.empty()) {
            apply_calibration(read_text_file(f.calibration, "--calibration"), "--calibration " + f.calibration, r.options);
        }
        r.options.grid_intensity = parse_real(f.grid_intensity, "--grid-intensity", 0, 10);
        if (!f.peak_flops.empty()) r.options.peak_flops = parse_flops(f.peak_flops, "--peak-flops");
        if (!f.power_limit.empty()) r.options.power_limit_watts = parse_real(f.power_limit, "--power-limit", 1, 1e5);
        if (!f.goodput.empty()) r.options.goodput = parse_real(f.goodput, "--goodput", 1e-3, 1);
        if (!f.mtbf_hours.empty()) r.options.mtbf_hours = parse_real(f.mtbf_hours, "--mtbf-hours", 1e-3, 1e12);
        if (!f.checkpoint_minutes.empty()) r.options.checkpoint_minutes = parse_real(f.checkpoint_minutes, "--checkpoint-minutes", 0, 1e6);
        if (!f.restart_minutes.empty()) r.options.restart_minutes = parse_real(f.restart_minutes, "--restart-minutes", 0, 1e6);
        if (!f.batch_rampup.empty()) r.options.rampup_tokens = static_cast<double>(parse_count(f.batch_rampup, "--batch-rampup"));
    });
    return r;
}

void add_job_options(CLI::App& app, JobOptions& o, bool layout) {
    app.add_option("--gpu", o.gpu, "GPU type (see `llmplan gpus`)")->capture_default_str()->type_name("NAME");
    app.add_option("--gpu-memory", o.gpu_memory, "Override the GPU memory capacity (80GB, 80GiB)")->type_name("BYTES");
    app.add_option("--gpus", o.gpus, "Total number of GPUs")->capture_default_str()->type_name("N");
    app.add_option("--gpus-per-node", o.gpus_per_node, "GPUs per node (default: the GPU's usual server)")->type_name("N");
    if (layout) app.add_option("--tp", o.tp, "Tensor-parallel size")->capture_default_str()->type_name("N");
    if (layout) app.add_option("--pp", o.pp, "Pipeline-parallel size (1F1B)")->capture_default_str()->type_name("N");
    if (layout) app.add_option("--cp", o.cp, "Context-parallel size (ring attention)")->capture_default_str()->type_name("N");
    if (layout) app.add_option("--ep", o.ep, "Expert-parallel size (MoE)")->capture_default_str()->type_name("N");
    if (layout)
        app.add_option("--virtual-stages", o.virtual_stages, "Interleaved pipeline: model chunks per pipeline rank")
            ->capture_default_str()->type_name("V");
    if (layout)
        app.add_option("--pp-layers", o.pp_layers,
                       "Uneven pipeline stages: transformer layers per stage (7,8,8,8,8,8,7,7), per model chunk with "
                       "--virtual-stages, or 'balanced' (the remainder on the middle stages)")
            ->type_name("LIST");
    if (layout)
        app.add_option("--pp-first-last", o.pp_first_last,
                       "Layers on the first and last pipeline stages, the rest spread equally (Megatron-LM's "
                       "--decoder-first/last-pipeline-num-layers); either may be left out: 3, or ,4")
            ->type_name("F,L");
    if (layout)
        app.add_flag("--account-for-embedding-in-pipeline-split", o.embedding_in_pipeline_split,
                     "Count the embedding as a layer of the pipeline split: stage 0 holds one layer fewer (Megatron-LM)");
    if (layout)
        app.add_flag("--account-for-loss-in-pipeline-split", o.loss_in_pipeline_split,
                     "Count the loss as a layer of the pipeline split: the last stage holds one layer fewer (Megatron-LM)");
    if (layout) app.add_flag("--sp", o.sp, "Megatron sequence parallelism (with --tp > 1)");
    if (layout) app.add_option("--zero", o.zero, "ZeRO stage over the data-parallel group: 0, 1, 2 or 3")->capture_default_str()->type_name("S");
    app.add_option("--precision", o.precision,
                   "fp32 | amp-bf16 | amp-fp16 | mixed-bf16 | mixed-fp16 | bf16 | fp8 "
                   "(default mixed-bf16; amp-bf16 under --framework pytorch)")->type_name("P");
    app.add_option("--optimizer", o.optimizer, "adamw | adam | sgd | sgd-momentum | adafactor | lion | adamw-8bit")
        ->capture_default_str()->type_name("O");
    if (layout) app.add_option("--recompute", o.recompute, "Activation recomputation: none | selective | full")->capture_default_str()->type_name("R");
    app.add_option("--attention", o.attention, "flash (fused, no s² storage) | eager (materialised scores)")
        ->capture_default_str()->type_name("A");
    app.add_option("--dropout", o.dropout, "Dropout probability (0: no dropout, no masks stored)")->capture_default_str()->type_name("P");
    if (layout) app.add_option("--micro-batch", o.micro_batch, "Sequences per GPU per forward pass")->capture_default_str()->type_name("B");
    app.add_option("--seq", o.seq, "Tokens per sequence (default: the model's context, at most 4096)")->type_name("T");
    app.add_option("--global-batch", o.global_batch,
                   "Sequences per optimizer step (default: micro-batch × dp × pp)")->type_name("B");
    if (layout)
        app.add_option("--offload", o.offload, "none | optimizer | optimizer+params (ZeRO-Offload / ZeRO-Infinity)")
            ->capture_default_str()->type_name("O");
    app.add_option("--lora-rank", o.lora_rank, "LoRA rank r: fine-tune adapters on a frozen base (0: full training)")
        ->capture_default_str()->type_name("R");
    app.add_option("--lora-alpha", o.lora_alpha, "LoRA alpha (scaling; no effect on memory)")->capture_default_str()->type_name("A");
    app.add_option("--lora-targets", o.lora_targets, "Adapted projections: q,k,v,o,gate,up,down or all")
        ->capture_default_str()->type_name("LIST");
    app.add_option("--base-quant", o.base_quant, "Frozen base weights for LoRA: none | nf4 (QLoRA) | int8")
        ->capture_default_str()->type_name("Q");
    app.add_flag("--paged-optimizer", o.paged_optimizer, "LoRA: bitsandbytes paged optimizer (state in unified memory)");
    app.add_option("--framework", o.framework,
                   "Whose behaviour to model: generic (textbook), pytorch (PyTorch eager + Hugging Face, op by op), "
                   "llmplan (llmplan's own engine: its memory books, and its kernels' step time with --calibration), "
                   "megatron (Megatron-LM / Megatron-Core), deepspeed (DeepSpeed ZeRO) or torchtitan (FSDP2); "
                   "docs/MEMORY_MODEL.md §7-§11")
        ->capture_default_str()->type_name("F");
    app.add_option("--framework-option", o.framework_options,
                   "A setting of the framework as KEY=VALUE (repeatable), e.g. reduce_bucket_size=2e8 under deepspeed; "
                   "`llmplan plan` prints the keys a framework takes when one is wrong (docs/MEMORY_MODEL.md §9-§11)")
        ->type_name("KEY=VALUE");
}

ResolvedModel resolve_model(const ModelOptions& o) {
    const int given = !o.model.empty() + !o.hf_config.empty() + !o.params.empty();
    if (given == 0)
        throw InputError("no model given: use --model NAME (see `llmplan models`) or ORG/NAME (from the Hugging Face cache), "
                         "--hf-config PATH or --params N (e.g. --params 7B)");
    if (given > 1) throw InputError("--model, --hf-config and --params each name the model; give only one of them");
    if (!o.model.empty() || !o.hf_config.empty()) {
        NamedModel m = o.model.empty() ? model_from_hf_path(o.hf_config, "--hf-config") : model_from_name(o.model, "--model");
        return {std::move(m.spec), std::move(m.origin), false};
    }
    const std::int64_t n = parse_count(o.params, "--params");
    return {derive_shape(n, "--params"), "--params " + o.params, true};
}

GpuSpec resolve_gpu(const JobOptions& o) {
    GpuSpec gpu = gpu_or_throw(o.gpu, "--gpu");
    if (!o.gpu_memory.empty()) gpu.memory_bytes = parse_bytes(o.gpu_memory, "--gpu-memory");
    return gpu;
}

TrainConfig resolve_job(const JobOptions& o, const GpuSpec& gpu) {
    return train_config_from_text(o, gpu.default_gpus_per_node);
}

}  // namespace llmplan::cli
