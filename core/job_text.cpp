// job_text.cpp — see job_text.h. The ranges are the CLI's (they were cli/options.cpp's).
#include "core/job_text.h"

#include <tuple>

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"

namespace llmplan {

TrainConfig train_config_from_text(const JobText& o, int default_gpus_per_node) {
    constexpr std::int64_t kMaxGpus = 1 << 24, kMaxBatch = std::int64_t{1} << 40;
    auto small = [](const std::string& text, const char* flag, std::int64_t lo, std::int64_t hi) {
        return static_cast<int>(parse_int(text, flag, lo, hi));
    };
    TrainConfig c;
    ParallelLayout& p = c.parallel;
    p.gpus = small(o.gpus, "--gpus", 1, kMaxGpus);
    p.gpus_per_node = o.gpus_per_node.empty() ? default_gpus_per_node : small(o.gpus_per_node, "--gpus-per-node", 1, 1024);
    p.tp = small(o.tp, "--tp", 1, kMaxGpus);
    p.pp = small(o.pp, "--pp", 1, kMaxGpus);
    p.cp = small(o.cp, "--cp", 1, kMaxGpus);
    p.ep = small(o.ep, "--ep", 1, kMaxGpus);
    if (!trim(o.etp).empty()) p.etp = small(o.etp, "--etp", 1, kMaxGpus);
    p.virtual_stages = small(o.virtual_stages, "--virtual-stages", 1, 1024);
    p.sp = o.sp;
    if (!trim(o.zero).empty()) p.zero = small(o.zero, "--zero", 0, 3);
    if (to_lower(trim(o.pp_layers)) == "balanced") {
        p.split.balanced = true;
    } else if (!trim(o.pp_layers).empty()) {
        for (const std::string& n : split(o.pp_layers, ','))
            p.split.layers.push_back(small(n, "--pp-layers", 0, 1 << 20));
    }
    if (!trim(o.pp_first_last).empty()) {
        const std::vector<std::string> fl = split(o.pp_first_last, ',');
        if (fl.size() != 2 || (fl[0].empty() && fl[1].empty()))
            throw InputError("--pp-first-last: \"" + o.pp_first_last +
                             "\" is not F,L (the first and last stages' layers; either may be left out: 3, or ,4)");
        if (!fl[0].empty()) p.split.first = small(fl[0], "--pp-first-last", 1, 1 << 20);
        if (!fl[1].empty()) p.split.last = small(fl[1], "--pp-first-last", 1, 1 << 20);
    }
    p.split.embedding_as_layer = o.embedding_in_pipeline_split;
    p.split.loss_as_layer = o.loss_in_pipeline_split;
    c.framework = parse_framework(o.framework, "--framework");
    if (trim(o.zero).empty()) p.zero = default_zero_stage(c.framework, p);
    if (o.precision.empty())  // PyTorch's mixed precision is autocast over an fp32 model
        c.precision = c.framework == Framework::pytorch ? Precision::amp_bf16 : Precision::mixed_bf16;
    else
        c.precision = parse_precision(o.precision, "--precision");
    if (framework_bf16_is_mixed(c.framework) && c.precision == Precision::bf16) {
        c.input_notes.push_back(std::string("--precision bf16 under --framework ") + to_string(c.framework) + " is " +
                                (c.framework == Framework::deepspeed ? "DeepSpeed's \"bf16\"" : "Megatron-LM's --bf16") +
                                ", which keeps fp32 master weights: planned as mixed-bf16");
        c.precision = Precision::mixed_bf16;
    }
    c.optimizer = parse_optimizer(o.optimizer, "--optimizer");
    c.recompute = parse_recompute(o.recompute, "--recompute");
    c.attention = parse_attention(o.attention, "--attention");
    c.dropout = parse_real(o.dropout, "--dropout", 0.0, 0.999);
    c.micro_batch = parse_int(o.micro_batch, "--micro-batch", 1, 1 << 20);
    if (!o.seq.empty()) c.seq = parse_int(o.seq, "--seq", 1, std::int64_t{1} << 24);
    if (!o.global_batch.empty()) c.global_batch = parse_int(o.global_batch, "--global-batch", 1, kMaxBatch);
    c.offload = parse_offload(o.offload, "--offload");
    c.offload_activations = small(o.offload_activations, "--offload-activations", 0, 1 << 20);
    for (const std::string& option : o.framework_options) {
        const std::size_t eq = option.find('=');
        const std::string key = eq == std::string::npos ? std::string() : to_lower(trim(option.substr(0, eq)));
        const std::string value = eq == std::string::npos ? std::string() : trim(option.substr(eq + 1));
        if (key.empty() || value.empty())
            throw InputError("--framework-option \"" + option + "\": expected KEY=VALUE, e.g. reduce_bucket_size=5e8");
        for (const auto& [k, v] : c.framework_options)
            if (k == key) throw InputError("--framework-option " + key + ": given twice (\"" + v + "\" and \"" + value + "\")");
        c.framework_options.emplace_back(key, value);
    }
    for (const auto& [flag, key, value] : {std::tuple<const char*, const char*, const std::string&>{"--optimizer-impl", "optimizer_impl", o.optimizer_impl},
                                           {"--trainer", "trainer", o.trainer}}) {
        if (value.empty()) continue;
        for (const auto& [k, v] : c.framework_options)
            if (k == key)
                throw InputError(std::string(flag) + " " + value + ": --framework-option " + key + "=" + v + " sets it too; give one of them");
        c.framework_options.emplace_back(key, to_lower(trim(value)));
    }
    if (o.compile) {
        // pytorch: what torch.compile's partitioner saves (compile=inductor); torchtitan: its
        // training.compile (compile=true: fused element-wise kernels, docs/PERFORMANCE_MODEL.md §2).
        if (c.framework != Framework::pytorch && c.framework != Framework::torchtitan)
            throw InputError(std::string("--compile: torch.compile is modelled only under --framework pytorch or torchtitan (not ") +
                             to_string(c.framework) + ")");
        for (const auto& [k, v] : c.framework_options)
            if (k == "compile") throw InputError("--compile: --framework-option compile=" + v + " sets it too; give one of them");
        c.framework_options.emplace_back("compile", c.framework == Framework::pytorch ? "inductor" : "true");
    }
    c.lora.rank = static_cast<int>(parse_int(o.lora_rank, "--lora-rank", 0, 1 << 20));
    c.lora.alpha = parse_real(o.lora_alpha, "--lora-alpha", 1e-9, 1e9);
    c.lora.targets = parse_lora_targets(o.lora_targets, "--lora-targets");
    c.lora.base_quant = parse_base_quant(o.base_quant, "--base-quant");
    c.lora.paged_optimizer = o.paged_optimizer;
    return c;
}

}  // namespace llmplan
