// options.cpp — binds the model and job flags and turns their text into validated core types.
// Numbers are taken as text and parsed by core/quantity so that every bad value gets the same
// kind of one-line message naming the flag.
#include "cli/options.h"

#include "cli/help_export.h"
#include "core/derive.h"
#include "core/error.h"
#include "core/file.h"
#include "core/kernel_table.h"
#include "core/model_source.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/framework.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

namespace llmplan::cli {

void add_model_options(CLI::App& app, ModelOptions& o) {
    app.add_option("--model,-m", o.model,
                   "Model: a preset (see `llmplan models`), e.g. llama-2-7b, or a Hugging Face ORG/NAME whose "
                   "config.json is in the local Hugging Face cache, e.g. Qwen/Qwen3-8B")
        ->type_name("NAME")->check(values_of(ValueSet::model));
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
    app.add_option("--kernel-table", o.kernel_table,
                   "Measured kernel rates (validation/kernels/measure_kernels.py on your GPU): its rows replace the "
                   "GPU's built-in table's of the same dtype / backend / op; 'none': the catalog's efficiencies")
        ->type_name("FILE");
    app.add_option("--elementwise", o.elementwise,
                   "Element-wise kernels: fused (Megatron-LM / Transformer Engine, torch.compile; the default) or eager "
                   "(PyTorch op by op: composite RMSNorm, RoPE and SwiGLU move more bytes); under --framework torchtitan "
                   "its --framework-option compile decides (docs/PERFORMANCE_MODEL.md §2)")
        ->type_name("K");
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
void parse_from_cluster(const std::string& path, const std::vector<std::pair<std::string, std::string>>& from_file,
                        Parse&& parse) {
    try {
        parse();
    } catch (const InputError& e) {
        for (const auto& [flag, key] : from_file)
            if (auto r = renamed(e, flag, "--cluster " + path + ": \"" + key + "\"")) throw *r;
        throw;
    }
}

void apply_cluster_file(const CLI::App& app, PerfFlags& p, JobOptions& job) {
    if (p.cluster.empty()) return;
    const nlohmann::json j = read_cluster(p.cluster);
    // The file fills what the command line (or --config) did not give: an explicit flag wins even
    // when its value is the default (CLI11's count(), never a comparison with the default text).
    std::vector<std::pair<std::string, std::string>> job_from_file;
    auto fill = [&](const char* key, const char* flag, std::string& slot, std::vector<std::pair<std::string, std::string>>& taken) {
        if (!j.contains(key) || app.count(flag) != 0) return;
        slot = text_of(j[key]);
        taken.emplace_back(flag, key);
    };
    fill("gpu", "--gpu", job.gpu, job_from_file);
    fill("gpus", "--gpus", job.gpus, job_from_file);
    fill("gpus_per_node", "--gpus-per-node", job.gpus_per_node, job_from_file);
    fill("inter_node_bandwidth", "--inter-node-bandwidth", p.inter_node_bandwidth, p.from_cluster);
    fill("nvlink_bandwidth", "--nvlink-bandwidth", p.nvlink_bandwidth, p.from_cluster);
    fill("price_per_gpu_hour", "--price-per-gpu-hour", p.price, p.from_cluster);
    fill("pue", "--pue", p.pue, p.from_cluster);
    fill("grid_intensity", "--grid-intensity", p.grid_intensity, p.from_cluster);
    // The job's values are checked here, by the parsers resolve_gpu and resolve_job use, while the
    // file can be named; the cluster's own values where resolve_perf parses them.
    if (!job_from_file.empty())
        parse_from_cluster(p.cluster, job_from_file, [&] {
            const GpuSpec gpu = resolve_gpu(job);
            resolve_job(job, gpu);
        });
}

ResolvedPerf resolve_perf(const PerfFlags& o, const GpuSpec& gpu, const TrainConfig& config) {
    const PerfFlags& f = o;  // apply_cluster_file has filled it from --cluster
    ResolvedPerf r;
    parse_from_cluster(o.cluster, o.from_cluster, [&] {
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
        if (!f.elementwise.empty()) {
            r.options.elementwise = parse_elementwise_kernels(f.elementwise, "--elementwise");
            elementwise_choice(config, r.options.elementwise);  // refused here when the framework decides otherwise
        }
        if (f.kernel_table == "none") {
            r.options.no_kernel_table = true;
        } else if (!f.kernel_table.empty()) {
            KernelTable table = read_kernel_table(f.kernel_table, "--kernel-table");
            if (const KernelTable* builtin = builtin_kernel_table(gpu.kernel_table)) {
                KernelTable base = *builtin;  // as this GPU sees it: memory-bound rows at its bandwidth
                for (KernelMemoryRow& row : base.memory_bound) row.gbps *= kernel_table_memory_scale(gpu);
                table = merge_kernel_tables(base, table);
                table.name += " over the built-in table, " + gpu.kernel_table_source;
            }
            r.options.kernel_table = std::make_shared<const KernelTable>(std::move(table));
        }
        if (!f.goodput.empty()) r.options.goodput = parse_real(f.goodput, "--goodput", 1e-3, 1);
        if (!f.mtbf_hours.empty()) r.options.mtbf_hours = parse_real(f.mtbf_hours, "--mtbf-hours", 1e-3, 1e12);
        if (!f.checkpoint_minutes.empty()) r.options.checkpoint_minutes = parse_real(f.checkpoint_minutes, "--checkpoint-minutes", 0, 1e6);
        if (!f.restart_minutes.empty()) r.options.restart_minutes = parse_real(f.restart_minutes, "--restart-minutes", 0, 1e6);
        if (!f.batch_rampup.empty()) r.options.rampup_tokens = static_cast<double>(parse_count(f.batch_rampup, "--batch-rampup"));
    });
    return r;
}

void add_job_options(CLI::App& app, JobOptions& o, bool layout) {
    app.add_option("--gpu", o.gpu, "GPU type (see `llmplan gpus`)")->capture_default_str()->type_name("NAME")->check(values_of(ValueSet::gpu));
    app.add_option("--gpu-memory", o.gpu_memory, "Override the GPU memory capacity (80GB, 80GiB)")->type_name("BYTES");
    app.add_option("--gpus", o.gpus, "Total number of GPUs")->capture_default_str()->type_name("N");
    app.add_option("--gpus-per-node", o.gpus_per_node, "GPUs per node (default: the GPU's usual server)")->type_name("N");
    if (layout) app.add_option("--tp", o.tp, "Tensor-parallel size")->capture_default_str()->type_name("N");
    if (layout) app.add_option("--pp", o.pp, "Pipeline-parallel size (1F1B)")->capture_default_str()->type_name("N");
    if (layout) app.add_option("--cp", o.cp, "Context-parallel size (ring attention)")->capture_default_str()->type_name("N");
    if (layout) app.add_option("--ep", o.ep, "Expert-parallel size (MoE)")->capture_default_str()->type_name("N");
    if (layout)
        app.add_option("--etp", o.etp,
                       "Expert tensor-parallel size (MoE), 1 or --tp (default: --tp); 1 with --tp > 1 is Megatron-Core's "
                       "parallel folding: expert parallelism spans the tensor-parallel ranks too")
            ->type_name("N");
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
    if (layout)
        app.add_option("--zero", o.zero,
                       "ZeRO stage over the data-parallel group: 0, 1, 2 or 3 (default, with data parallelism: 1 under megatron "
                       "and megatron-bridge, the distributed optimizer; 3 under torchtitan, FSDP2; else 0)")
            ->type_name("S");
    std::string precisions;  // the flag values, from core/vocab.h
    for (const char* name : kPrecisionNames) precisions += (precisions.empty() ? "" : " | ") + std::string(name);
    app.add_option("--precision", o.precision,
                   precisions + " (default mixed-bf16; amp-bf16 under --framework pytorch)")->type_name("P")->check(values_of(ValueSet::precision));
    app.add_option("--optimizer", o.optimizer, "adamw | adam | sgd | sgd-momentum | adafactor | lion | adamw-8bit")
        ->capture_default_str()->type_name("O")->check(values_of(ValueSet::optimizer));
    if (layout) app.add_option("--recompute", o.recompute, "Activation recomputation: none | selective | full")->capture_default_str()->type_name("R")->check(values_of(ValueSet::recompute));
    app.add_option("--attention", o.attention, "flash (fused, no s² storage) | eager (materialised scores)")
        ->capture_default_str()->type_name("A")->check(values_of(ValueSet::attention));
    app.add_option("--dropout", o.dropout, "Dropout probability (0: no dropout, no masks stored)")->capture_default_str()->type_name("P");
    if (layout) app.add_option("--micro-batch", o.micro_batch, "Sequences per GPU per forward pass")->capture_default_str()->type_name("B");
    app.add_option("--seq", o.seq, "Tokens per sequence (default: the model's context, at most 4096)")->type_name("T");
    app.add_option("--global-batch", o.global_batch,
                   "Sequences per optimizer step (default: micro-batch × dp × pp)")->type_name("B");
    if (layout)
        app.add_option("--offload", o.offload, "none | optimizer | optimizer+params (ZeRO-Offload / ZeRO-Infinity)")
            ->capture_default_str()->type_name("O");
    if (layout)
        app.add_option("--offload-activations", o.offload_activations,
                       "Layers whose saved activations go to CPU memory during forward and come back for backward "
                       "(Transformer Engine's CPU offloading: Megatron-LM --cpu-offloading-num-layers, NeMo "
                       "activation_offload_layers); needs --pp 1 and --recompute none")
            ->capture_default_str()->type_name("N");
    app.add_option("--lora-rank", o.lora_rank, "LoRA rank r: fine-tune adapters on a frozen base (0: full training)")
        ->capture_default_str()->type_name("R");
    app.add_option("--lora-alpha", o.lora_alpha, "LoRA alpha (scaling; no effect on memory)")->capture_default_str()->type_name("A");
    app.add_option("--lora-targets", o.lora_targets,
                   "Adapted projections: " + lora_target_names() + " (a recurrent mixer's projections) or all")
        ->capture_default_str()->type_name("LIST");
    app.add_option("--base-quant", o.base_quant, "Frozen base weights for LoRA: none | nf4 (QLoRA) | int8")
        ->capture_default_str()->type_name("Q");
    app.add_flag("--paged-optimizer", o.paged_optimizer, "LoRA: bitsandbytes paged optimizer (state in unified memory)");
    app.add_option("--framework", o.framework,
                   "Whose behaviour to model: generic (textbook), pytorch (PyTorch eager + Hugging Face, op by op), "
                   "llmplan (llmplan's own engine: its memory books, and its kernels' step time with --calibration), "
                   "megatron (Megatron-LM / Megatron-Core; named alone its performance settings), megatron-bridge (NeMo's "
                   "Megatron Bridge performance recipes), deepspeed (DeepSpeed ZeRO) or torchtitan (FSDP2); also " +
                       framework_aliases() + "; docs/MEMORY_MODEL.md §7-§11")
        ->capture_default_str()->type_name("F")->check(values_of(ValueSet::framework));
    app.add_option("--framework-option", o.framework_options,
                   "A setting of the framework as KEY=VALUE (repeatable), e.g. reduce_bucket_size=2e8 under deepspeed; "
                   "`llmplan plan` prints the keys a framework takes when one is wrong (docs/MEMORY_MODEL.md §9-§11)")
        ->type_name("KEY=VALUE");
    app.add_option("--optimizer-impl", o.optimizer_impl,
                   "Under --framework pytorch: torch.optim's implementation, fused | foreach | forloop (default: PyTorch's "
                   "own, foreach for AdamW on CUDA); the same as --framework-option optimizer_impl=IMPL (docs/MEMORY_MODEL.md §7.1)")
        ->type_name("IMPL");
    app.add_flag("--compile", o.compile,
                 "Under --framework pytorch: the model wrapped in torch.compile (inductor, default mode, no CUDA graphs): "
                 "the saved tensors AOTAutograd's min-cut partitioner keeps; the same as --framework-option compile=inductor "
                 "(docs/MEMORY_MODEL.md §7.2). Under --framework torchtitan: training.compile, fused element-wise kernels; "
                 "the same as --framework-option compile=true (docs/PERFORMANCE_MODEL.md §2)");
    app.add_option("--trainer", o.trainer,
                   "Under --framework pytorch: hf plans the Hugging Face Trainer's defaults (fused AdamW); the same as "
                   "--framework-option trainer=hf (docs/MEMORY_MODEL.md §7.1)")
        ->type_name("T");
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


void add_config_options(CLI::App& app, std::string& write_config) {
    // Read by apply_job_file after parsing (CLI11 reads a config file only for the top-level app).
    app.add_option("--config", "Read flags from a TOML job file: one `long-flag-name = value` per line (as "
                               "--write-config writes it); flags on the command line win")
        ->type_name("FILE");
    app.add_option("--write-config", write_config,
                   "Write the resolved job (the flags given and the values the imports set) as a TOML job file for --config")
        ->type_name("FILE");
}

void add_import_options(CLI::App& app, ImportFlags& o) {
    add_config_options(app, o.write_config);
    app.add_option("--deepspeed", o.deepspeed,
                   "Import a DeepSpeed ds_config.json (ZeRO stage, offload, bf16/fp16, batch sizes, bucket sizes); "
                   "explicit flags win (docs/IMPORTS.md)")
        ->type_name("FILE");
    app.add_option("--megatron-args", o.megatron_args,
                   "Import a Megatron-LM argument list, a file or the arguments themselves (model shape, parallel "
                   "sizes, recompute, batch, precision); explicit flags win (docs/IMPORTS.md)")
        ->type_name("FILE|ARGS");
    app.add_option("--megatron-bridge", o.megatron_bridge,
                   "Import a Megatron Bridge (NeMo 2 / NeMo 26.x) config YAML: the ConfigContainer a run saves "
                   "(logger.save_config_filepath, a checkpoint's run_config.yaml) or a recipe's override file (model "
                   "shape, parallel sizes, batch, precision, recompute, overlaps, dispatcher, CUDA graphs, LoRA); "
                   "explicit flags win (docs/IMPORTS.md)")
        ->type_name("FILE");
    app.add_option("--torchtitan", o.torchtitan,
                   "Import a torchtitan job TOML (model flavour, parallelism degrees, activation checkpointing, float8, "
                   "batch and sequence); explicit flags win (docs/IMPORTS.md)")
        ->type_name("FILE");
}

void apply_job_file(CLI::App& app) {
    const CLI::Option* config = app.get_option_no_throw("--config");
    if (config == nullptr || config->count() == 0) return;
    const std::string path = config->as<std::string>();
    const std::string what = "--config " + path;
    std::istringstream text(read_text_file(path, "--config"));
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigTOML().from_config(text);  // CLI11's own TOML reader
    } catch (const CLI::ParseError& e) {
        throw InputError(what + ": " + e.what());
    }
    for (const CLI::ConfigItem& item : items) {
        if (item.name == "++" || item.name == "--") continue;  // CLI11's section markers
        if (!item.parents.empty() && !(item.parents.size() == 1 && item.parents[0] == app.get_name()))
            throw InputError(what + ": [" + item.parents[0] + "] " + item.name + ": not a section of `llmplan " + app.get_name() + "`");
        CLI::Option* opt = app.get_option_no_throw("--" + item.name);
        if (opt == nullptr || item.name == "config" || item.name == "help")
            throw InputError(what + ": \"" + item.name + "\" is not a flag of `llmplan " + app.get_name() + "`");
        if (opt->count() > 0) continue;  // the command line wins
        try {
            if (opt->get_expected_max() == 0) {
                if (item.inputs.size() != 1 || (item.inputs[0] != "true" && item.inputs[0] != "false"))
                    throw InputError(what + ": " + item.name + ": expected true or false");
                if (item.inputs[0] == "false") continue;
            }
            opt->add_result(item.inputs);
            opt->run_callback();
        } catch (const CLI::ParseError& e) {
            throw InputError(what + ": " + item.name + ": " + e.what());
        }
    }
}

std::string argument_list_text(const std::string& value, const char* flag, std::string* source) {
    // A value without blanks that names a file is the file; anything else is the arguments.
    const bool one_word = value.find_first_of(" \t\n") == std::string::npos && value.rfind("--", 0) != 0;
    if (one_word) {
        *source = value;
        return read_text_file(value, flag);
    }
    *source = "'" + (value.size() > 60 ? value.substr(0, 57) + "..." : value) + "'";
    return value;
}

PreparedJob prepare_job(const CLI::App& app, const ModelOptions& m, const JobOptions& j, const PerfFlags& p,
                        const ImportFlags& imports, std::ostream& err, const std::set<std::string>& search_space) {
    PreparedJob r{{}, j, p, {}};
    apply_cluster_file(app, r.perf, r.job);
    const int kinds = !imports.deepspeed.empty() + !imports.megatron_args.empty() + !imports.megatron_bridge.empty() + !imports.torchtitan.empty();
    if (kinds > 1)
        throw InputError("--deepspeed, --megatron-args, --megatron-bridge and --torchtitan each describe the job; give only one of them");
    const FlagGiven given = [&](std::string_view flag) {  // a flag this command lacks (search: --tp) counts as not given
        const CLI::Option* o = app.get_option_no_throw(std::string(flag));
        return o != nullptr && o->count() > 0;
    };
    const bool model_given = !m.model.empty() || !m.hf_config.empty() || !m.params.empty();
    std::optional<ResolvedModel> model;
    if (model_given) model = resolve_model(m);
    if (!imports.deepspeed.empty()) {
        r.imports.push_back(import_deepspeed(read_text_file(imports.deepspeed, "--deepspeed"), imports.deepspeed, r.job, given,
                                             model ? &model->spec : nullptr));
    } else if (!imports.megatron_args.empty()) {
        std::string source;
        const std::string text = argument_list_text(imports.megatron_args, "--megatron-args", &source);
        r.imports.push_back(import_megatron(text, source, r.job, given));
    } else if (!imports.megatron_bridge.empty()) {
        r.imports.push_back(import_megatron_bridge(read_text_file(imports.megatron_bridge, "--megatron-bridge"), imports.megatron_bridge, r.job, given));
    } else if (!imports.torchtitan.empty()) {
        r.imports.push_back(import_torchtitan(read_text_file(imports.torchtitan, "--torchtitan"), imports.torchtitan, r.job, given));
    }
    for (JobImport& imp : r.imports) {
        // A flag this command does not take (search chooses --tp, --zero, ... itself) was not used.
        for (auto* list : {&imp.taken, &imp.derived}) {
            std::vector<ImportedValue> kept;
            for (ImportedValue& v : *list) {
                if (v.flag.rfind("--", 0) == 0 && (app.get_option_no_throw(v.flag) == nullptr || search_space.count(v.flag)))
                    imp.ignored.push_back({v.field + " (" + v.flag + " " + v.value + ")",
                                           "`llmplan " + app.get_name() + "` chooses " + v.flag + " itself"});
                else
                    kept.push_back(std::move(v));
            }
            *list = std::move(kept);
        }
        if (!model && imp.model) model = ResolvedModel{*imp.model, imp.flag + " " + imp.source, false};
        if (!model && !imp.model_name.empty()) {
            ModelOptions named;
            named.model = imp.model_name;
            model = resolve_model(named);
        }
        if (!imp.tokens.empty()) r.perf.tokens = imp.tokens;
        err << import_text(imp);
    }
    r.model = model ? std::move(*model) : resolve_model(m);  // the latter: "no model given"
    if (!imports.write_config.empty()) write_job_config(app, r.imports, imports.write_config);
    return r;
}

namespace {

std::string toml_string(const std::string& s) {
    std::string o = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        if (c == '\n') { o += "\\n"; continue; }
        o += c;
    }
    return o + "\"";
}

}  // namespace

void write_job_config(const CLI::App& app, const std::vector<JobImport>& imports, const std::string& path) {
    // name → values, in the order of the command's options.
    std::vector<std::pair<std::string, std::vector<std::string>>> entries;
    std::vector<bool> is_flag;
    auto slot = [&](const std::string& name) -> std::vector<std::string>* {
        for (auto& [n, v] : entries)
            if (n == name) return &v;
        return nullptr;
    };
    static const std::set<std::string> kNotJob{"help", "config", "write-config", "scenario", "write-scenario", "json", "csv", "report", "deepspeed", "torchtitan",
                                               "vllm-args", "quiet", "out"};
    bool megatron_model = false;
    for (const JobImport& imp : imports)
        megatron_model = megatron_model || ((imp.flag == "--megatron-args" || imp.flag == "--megatron-bridge") && imp.model);
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_lnames().empty()) continue;
        const std::string name = opt->get_lnames().front();
        if (kNotJob.count(name) || ((name == "megatron-args" || name == "megatron-bridge") && !megatron_model)) continue;
        const bool flag = opt->get_expected_max() == 0;
        std::vector<std::string> values;
        if (opt->count() > 0) values = flag ? std::vector<std::string>{"true"} : opt->results();
        entries.emplace_back(name, values);
        is_flag.push_back(flag);
    }
    for (const JobImport& imp : imports)
        for (const ImportedValue& v : imp.applied()) {
            if (v.flag.rfind("--", 0) != 0) continue;  // not a flag: "(model) vocabulary"
            std::vector<std::string>* s = slot(v.flag.substr(2));
            if (!s) continue;
            if (v.flag == "--framework-option") s->push_back(v.value);
            else *s = {v.value};
        }
    std::ostringstream o;
    o << "# llmplan " << app.get_name() << " job file: read it back with `llmplan " << app.get_name() << " --config FILE`.\n";
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& [name, values] = entries[i];
        if (values.empty()) continue;
        o << name << " = ";
        if (is_flag[i]) {
            o << (values.front() == "false" ? "false" : "true");
        } else if (values.size() > 1 || name == "framework-option") {
            o << "[";
            for (std::size_t k = 0; k < values.size(); ++k) o << (k ? ", " : "") << toml_string(values[k]);
            o << "]";
        } else {
            o << toml_string(values.front());
        }
        o << "\n";
    }
    write_output_file(path, o.str(), "--write-config");
}


namespace {

std::string number_text(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

}  // namespace

void add_scenario_option(CLI::App& app, std::string* write_scenario) {
    app.add_option("--scenario", "Read the job from a GUI scenario file (llmplan.scenario/1, or a plan report); flags "
                                 "on the command line and in --config win")
        ->type_name("FILE");
    if (write_scenario)
        app.add_option("--write-scenario", *write_scenario, "Write the resolved job as a GUI scenario file (File → Open in llmplan-gui)")
            ->type_name("FILE");
}

void apply_scenario_file(CLI::App& app) {
    const CLI::Option* option = app.get_option_no_throw("--scenario");
    if (option == nullptr || option->count() == 0) return;
    const std::string path = option->as<std::string>();
    const gui::Scenario s = gui::load_scenario_file(path);
    const bool infer = app.get_name() == "infer";
    if ((s.mode == gui::Mode::inference) != infer)
        throw InputError("--scenario " + path + ": a " + gui::to_string(s.mode) + " scenario; use `llmplan " +
                         (infer ? "plan" : "infer") + " --scenario`");
    auto set = [&](const char* flag, const std::string& value) {
        CLI::Option* o = app.get_option(flag);
        if (o->count() > 0) return;  // the command line and --config win
        if (o->get_expected_max() == 0) {
            if (value != "true") return;
            o->add_result("true");
        } else {
            o->add_result(value);
        }
        o->run_callback();
    };
    auto integer = [](std::int64_t v) { return std::to_string(v); };
    if (app.count("--model") + app.count("--hf-config") + app.count("--params") == 0) {
        switch (s.source) {
            case gui::ModelSource::preset: set("--model", s.model); break;
            case gui::ModelSource::hf_config: set("--hf-config", s.model); break;
            case gui::ModelSource::params: set("--params", s.model); break;
            case gui::ModelSource::shape:
                throw InputError("--scenario " + path + ": its model is a shape (\"" + s.shape.name +
                                 "\") with no preset, config.json or parameter count; give --model, --hf-config or --params");
        }
    }
    set("--gpu", s.gpu);
    if (infer) {
        const gui::InferInputs& in = s.infer;
        set("--weights", in.weights);
        set("--group-size", integer(in.group_size));
        set("--no-double-quant", in.double_quant ? "false" : "true");
        if (!in.kv_cache.empty()) set("--kv-cache", in.kv_cache);
        set("--batch", integer(in.batch));
        set("--prompt", integer(in.prompt));
        set("--generate", integer(in.generate));
        if (in.prefill_chunk != 0) set("--prefill-chunk", integer(in.prefill_chunk));
        set("--tp", integer(in.tp));
        set("--attention", in.attention);
        set("--framework", in.framework);
        set("--gpu-memory-utilization", number_text(in.gpu_memory_utilization));
        set("--block-size", integer(in.block_size));
        return;
    }
    set("--gpus", integer(s.gpus));
    set("--gpus-per-node", integer(s.gpus_per_node));
    set("--tp", integer(s.tp));
    set("--pp", integer(s.pp));
    set("--cp", integer(s.cp));
    set("--ep", integer(s.ep));
    if (s.etp > 0) set("--etp", integer(s.etp));
    set("--virtual-stages", integer(s.virtual_stages));
    set("--sp", s.sp ? "true" : "false");
    set("--zero", integer(s.zero));
    if (!s.precision.empty()) set("--precision", s.precision);
    set("--optimizer", s.optimizer);
    set("--recompute", s.recompute);
    set("--attention", s.attention);
    set("--offload", s.offload);
    set("--offload-activations", integer(s.offload_activations));
    set("--framework", s.framework);
    set("--dropout", number_text(s.dropout));
    set("--micro-batch", integer(s.micro_batch));
    if (s.global_batch != 0) set("--global-batch", integer(s.global_batch));
    if (s.seq != 0) set("--seq", integer(s.seq));
    if (!s.tokens.empty()) set("--tokens", s.tokens);
    if (!s.price.empty()) set("--price-per-gpu-hour", s.price);
    set("--lora-rank", integer(s.lora_rank));
    set("--lora-alpha", number_text(s.lora_alpha));
    set("--lora-targets", s.lora_targets);
    set("--base-quant", s.base_quant);
    set("--paged-optimizer", s.paged_optimizer ? "true" : "false");
}

gui::Scenario scenario_from_job(const ModelOptions& flags, const PreparedJob& prepared, const TrainConfig& c) {
    const JobOptions& j = prepared.job;
    const PerfFlags& p = prepared.perf;
    // What a scenario cannot hold is refused, never dropped.
    std::vector<std::string> lost;
    if (!c.parallel.split.even()) lost.emplace_back("an uneven pipeline split");
    if (!c.framework_options.empty()) lost.emplace_back("--framework-option");
    if (!j.gpu_memory.empty()) lost.emplace_back("--gpu-memory");
    const PerfFlags defaults;
    for (const auto& [text, flag] : std::vector<std::pair<std::string, const char*>>{
             {p.inter_node_bandwidth, "--inter-node-bandwidth"}, {p.nvlink_bandwidth, "--nvlink-bandwidth"}, {p.mfu, "--mfu"},
             {p.calibration, "--calibration"}, {p.kernel_table, "--kernel-table"}, {p.peak_flops, "--peak-flops"}, {p.power_limit, "--power-limit"}, {p.elementwise, "--elementwise"},
             {p.goodput, "--goodput"}, {p.mtbf_hours, "--mtbf-hours"}, {p.checkpoint_minutes, "--checkpoint-minutes"},
             {p.restart_minutes, "--restart-minutes"}, {p.batch_rampup, "--batch-rampup"}})
        if (!text.empty()) lost.emplace_back(flag);
    if (parse_real(p.pue, "--pue", 1, 10) != parse_real(defaults.pue, "--pue", 1, 10)) lost.emplace_back("--pue");
    if (parse_real(p.grid_intensity, "--grid-intensity", 0, 10) != parse_real(defaults.grid_intensity, "--grid-intensity", 0, 10))
        lost.emplace_back("--grid-intensity");
    if (!lost.empty())
        throw InputError("--write-scenario: a GUI scenario cannot hold " + join(lost, ", ") + "; use --write-config");
    gui::Scenario s;
    if (!flags.model.empty()) s.source = gui::ModelSource::preset, s.model = flags.model;
    else if (!flags.hf_config.empty()) s.source = gui::ModelSource::hf_config, s.model = flags.hf_config;
    else if (!flags.params.empty()) s.source = gui::ModelSource::params, s.model = flags.params;
    else s.source = gui::ModelSource::shape, s.shape = prepared.model.spec, s.model = prepared.model.spec.name;
    s.gpu = j.gpu;
    const ParallelLayout& l = c.parallel;
    s.gpus = l.gpus, s.gpus_per_node = l.gpus_per_node, s.tp = l.tp, s.pp = l.pp, s.cp = l.cp, s.ep = l.ep;
    s.virtual_stages = l.virtual_stages, s.sp = l.sp, s.zero = l.zero;
    s.etp = l.etp_chosen_by_llmplan ? 0 : l.etp;
    s.precision = j.precision.empty() ? "" : to_string(c.precision);
    s.optimizer = to_string(c.optimizer), s.recompute = to_string(c.recompute), s.attention = to_string(c.attention);
    s.offload = to_string(c.offload), s.framework = to_string(c.framework);
    s.offload_activations = c.offload_activations;
    s.dropout = c.dropout, s.micro_batch = c.micro_batch;
    s.global_batch = j.global_batch.empty() ? 0 : c.global_batch;
    s.seq = j.seq.empty() ? 0 : c.seq;
    s.tokens = p.tokens, s.price = p.price;
    s.lora_rank = c.lora.rank, s.lora_alpha = c.lora.alpha, s.lora_targets = j.lora_targets, s.base_quant = to_string(c.lora.base_quant);
    s.paged_optimizer = c.lora.paged_optimizer;
    return s;
}

}  // namespace llmplan::cli
