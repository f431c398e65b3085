// import_torchtitan.cpp — a torchtitan job TOML as llmplan flags (job_import.h). Sections, keys
// and defaults are torchtitan's torchtitan/config/job_config.py at 238fa995 (the last TOML job
// config before its move to Python config files), its llama3 flavours from
// torchtitan/models/llama3/__init__.py (docs/REFERENCES.md §11; every
// key in docs/IMPORTS.md). Read with toml++ (Debian's libtomlplusplus-dev).
#include "planner/job_import.h"
#include "planner/job_import_detail.h"

#include "core/error.h"
#include "core/text.h"

#include <toml++/toml.h>

#include <map>
#include <set>
#include <sstream>

namespace llmplan {

namespace {

using import_detail::Recorder;

// torchtitan's llama3 flavours that are llmplan presets of the same shape (dim, layers, heads,
// kv heads, ffn from ffn_dim_multiplier and multiple_of, vocabulary 128256, 131072 positions).
const std::map<std::string, std::string>& flavour_presets() {
    static const std::map<std::string, std::string> m{
        {"llama3/8B", "llama-3.1-8b"}, {"llama3/70B", "llama-3.1-70b"}, {"llama3/405B", "llama-3.1-405b"}};
    return m;
}

}  // namespace

JobImport import_torchtitan(const std::string& text, const std::string& source, JobText& job, const FlagGiven& given) {
    JobImport result;
    result.flag = "--torchtitan";
    result.source = source;
    Recorder rec(result, given);
    toml::table doc;
    try {
        doc = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        std::ostringstream where;
        where << "line " << e.source().begin.line << ", column " << e.source().begin.column;
        rec.fail(where.str(), std::string(e.description()));
    }
    std::set<std::string> used;  // "section.key"
    auto node = [&](const char* section, const char* key) -> toml::node_view<toml::node> {
        toml::node_view<toml::node> v = doc[section][key];
        if (v) used.insert(std::string(section) + "." + key);
        return v;
    };
    auto integer = [&](const char* section, const char* key, std::int64_t fallback) -> std::int64_t {
        auto v = node(section, key);
        if (!v) return fallback;
        if (!v.is_integer()) rec.fail(std::string(section) + "." + key, "expected an integer");
        return *v.value<std::int64_t>();
    };
    auto string = [&](const char* section, const char* key, const std::string& fallback) -> std::string {
        auto v = node(section, key);
        if (!v) return fallback;
        if (!v.is_string()) rec.fail(std::string(section) + "." + key, "expected a string");
        return *v.value<std::string>();
    };
    auto boolean = [&](const char* section, const char* key, bool fallback) -> bool {
        auto v = node(section, key);
        if (!v) return fallback;
        if (!v.is_boolean()) rec.fail(std::string(section) + "." + key, "expected true or false");
        return *v.value<bool>();
    };
    auto positive = [&](const char* section, const char* key, std::int64_t fallback) {
        const std::int64_t v = integer(section, key, fallback);
        if (v < 1) rec.fail(std::string(section) + "." + key, "expected a positive integer, got " + std::to_string(v));
        return v;
    };

    rec.derive("--framework", job.framework, "torchtitan", "a torchtitan job: FSDP2 and torchtitan's parallelisms");

    // [model]: name and flavour → a preset of the same shape.
    const std::string name = string("model", "name", "llama3"), flavour = string("model", "flavor", "debugmodel");
    if (const auto it = flavour_presets().find(name + "/" + flavour); it != flavour_presets().end()) {
        const bool over = given("--model") || given("--hf-config") || given("--params");
        rec.r.taken.push_back({"--model", it->second, "model.name " + name + ", model.flavor " + flavour, "", over});
        if (!over) result.model_name = it->second;
    } else {
        rec.ignore("model.flavor", name + " " + flavour + " is not an llmplan preset: --model, --hf-config or --params decides");
    }
    bool fp8 = false;
    if (auto conv = node("model", "converters")) {
        const toml::array* list = conv.as_array();
        if (!list) rec.fail("model.converters", "expected a list of strings");
        for (const toml::node& n : *list) {
            if (!n.is_string()) rec.fail("model.converters", "expected a list of strings");
            const std::string c = *n.value<std::string>();
            if (c.find("float8") != std::string::npos) fp8 = true;
            else rec.ignore("model.converters " + c, "not modelled");
        }
    }
    if (boolean("float8", "enable_float8_linear", false)) fp8 = true;

    // [parallelism]: degrees (default 1; data_parallel_shard_degree -1 takes the GPUs left).
    const std::int64_t rep = positive("parallelism", "data_parallel_replicate_degree", 1);
    const std::int64_t shard_in = integer("parallelism", "data_parallel_shard_degree", -1);
    if (shard_in == 0 || shard_in < -1) rec.fail("parallelism.data_parallel_shard_degree", "expected -1 or a positive integer");
    const std::int64_t tp = positive("parallelism", "tensor_parallel_degree", 1), pp = positive("parallelism", "pipeline_parallel_degree", 1),
                       cp = positive("parallelism", "context_parallel_degree", 1), ep = positive("parallelism", "expert_parallel_degree", 1);
    if (doc["parallelism"]["tensor_parallel_degree"]) rec.take("--tp", job.tp, std::to_string(tp), "parallelism.tensor_parallel_degree");
    if (doc["parallelism"]["pipeline_parallel_degree"]) rec.take("--pp", job.pp, std::to_string(pp), "parallelism.pipeline_parallel_degree");
    if (doc["parallelism"]["context_parallel_degree"]) rec.take("--cp", job.cp, std::to_string(cp), "parallelism.context_parallel_degree");
    if (doc["parallelism"]["expert_parallel_degree"]) rec.take("--ep", job.ep, std::to_string(ep), "parallelism.expert_parallel_degree");
    // Expert tensor parallel: torchtitan's default degree is 1 (experts whole on each rank, expert
    // parallelism taking the tensor-parallel ranks too); it may only be 1 or the tensor degree.
    if (doc["parallelism"]["expert_tensor_parallel_degree"])
        rec.take("--etp", job.etp, std::to_string(positive("parallelism", "expert_tensor_parallel_degree", 1)),
                 "parallelism.expert_tensor_parallel_degree");
    else if (ep > 1 && tp > 1)
        rec.derive("--etp", job.etp, "1", "parallelism.expert_tensor_parallel_degree's default 1 (torchtitan)");
    if (rec.value_of(job.tp, "--tp") > 1)
        rec.take_flag("--sp", job.sp, true, "tensor_parallel_degree > 1: torchtitan's plan shards the norms' sequence (SequenceParallel)");
    if (shard_in > 0)
        rec.derive("--gpus", job.gpus, std::to_string(rep * shard_in * tp * pp * cp),
                   "data_parallel_replicate_degree × data_parallel_shard_degree × tensor × pipeline × context degrees");
    if (shard_in > 0 && rec.value_of(job.gpus, "--gpus") != rep * shard_in * tp * pp * cp)
        rec.fail("parallelism", "replicate " + std::to_string(rep) + " × shard " + std::to_string(shard_in) + " × tensor " +
                                    std::to_string(tp) + " × pipeline " + std::to_string(pp) + " × context " + std::to_string(cp) +
                                    " = " + std::to_string(rep * shard_in * tp * pp * cp) + " GPUs, but --gpus " + job.gpus +
                                    " (torchtitan needs the product to be the world size)");
    const std::int64_t dp = rec.data_parallel(job);
    const std::int64_t shard = shard_in > 0 ? shard_in : dp / rep;
    if (shard_in < 0 && dp % rep != 0)
        rec.fail("parallelism.data_parallel_replicate_degree", std::to_string(rep) + " does not divide the data-parallel size " + std::to_string(dp));
    if (rep > 1 && shard > 1)
        rec.fail("parallelism.data_parallel_replicate_degree", "HSDP (replicate " + std::to_string(rep) + " × shard " +
                                                                   std::to_string(shard) + ") is not modelled; use one of the two");
    const std::string reshard = string("parallelism", "fsdp_reshard_after_forward", "default");
    if (reshard != "default" && reshard != "always" && reshard != "never")
        rec.fail("parallelism.fsdp_reshard_after_forward", "\"" + reshard + "\" is not default, always or never");
    if (shard > 1) {
        rec.derive("--zero", job.zero, "3", "data_parallel_shard_degree " + std::to_string(shard) + ": FSDP2 fully_shard");
        if (reshard != "default") rec.option(job.framework_options, "reshard_after_forward_policy", reshard, "parallelism.fsdp_reshard_after_forward");
    } else {
        rec.derive("--zero", job.zero, "0", "no sharded data parallelism: replicas (DDP) or one GPU");
        if (reshard != "default") rec.ignore("parallelism.fsdp_reshard_after_forward", "no FSDP");
    }
    const std::string schedule = string("parallelism", "pipeline_parallel_schedule", "1F1B");
    if (pp > 1 && schedule != "1F1B") rec.ignore("parallelism.pipeline_parallel_schedule", "\"" + schedule + "\": llmplan models 1F1B (--virtual-stages for interleaving)");

    // [training]: batch, sequence, precision, offload, steps.
    const bool local_given = static_cast<bool>(doc["training"]["local_batch_size"]) || static_cast<bool>(doc["training"]["batch_size"]);
    const char* local_key = doc["training"]["local_batch_size"] ? "local_batch_size" : "batch_size";
    const std::int64_t local = positive("training", local_key, 8);
    const std::int64_t global_in = integer("training", "global_batch_size", -1);
    if (pp > 1) {
        const std::int64_t micro = positive("parallelism", "pipeline_parallel_microbatch_size", 1);
        rec.derive("--micro-batch", job.micro_batch, std::to_string(micro), "parallelism.pipeline_parallel_microbatch_size (pipeline micro-batches)");
    } else if (local_given) {
        rec.take("--micro-batch", job.micro_batch, std::to_string(local), std::string("training.") + local_key);
    } else {
        rec.derive("--micro-batch", job.micro_batch, std::to_string(local), "torchtitan's default training.local_batch_size 8");
    }
    if (global_in > 0) rec.take("--global-batch", job.global_batch, std::to_string(global_in), "training.global_batch_size");
    else
        rec.derive("--global-batch", job.global_batch, std::to_string(local * dp),
                   std::string("training.") + local_key + " " + std::to_string(local) + " × data-parallel size " + std::to_string(dp));
    if (doc["training"]["seq_len"]) rec.take("--seq", job.seq, std::to_string(positive("training", "seq_len", 2048)), "training.seq_len");
    else rec.derive("--seq", job.seq, "2048", "torchtitan's default training.seq_len 2048");
    const std::string dtype = string("training", "dtype", "float32"), mp = string("training", "mixed_precision_param", "bfloat16");
    if (fp8) rec.take("--precision", job.precision, "fp8", "model.converters float8 (Float8Linear)");
    else if (dtype == "bfloat16") rec.take("--precision", job.precision, "bf16", "training.dtype bfloat16");
    else if (mp == "float32") rec.take("--precision", job.precision, "fp32", "training.mixed_precision_param float32");
    else if (mp == "bfloat16")
        rec.derive("--precision", job.precision, "mixed-bf16", "training.mixed_precision_param bfloat16 (torchtitan's default)");
    else rec.fail("training.mixed_precision_param", "\"" + mp + "\" is not bfloat16 or float32");
    if (dtype != "float32" && dtype != "bfloat16") rec.fail("training.dtype", "\"" + dtype + "\" is not float32 or bfloat16");
    if (boolean("training", "enable_cpu_offload", false)) rec.take("--offload", job.offload, "optimizer+params", "training.enable_cpu_offload");
    if (doc["training"]["steps"]) {
        const std::int64_t steps = positive("training", "steps", 10000);
        const std::int64_t gbs = rec.value_of(job.global_batch, "--global-batch"), seq = rec.value_of(job.seq, "--seq");
        const bool over = given("--tokens");
        rec.r.derived.push_back({"--tokens", std::to_string(steps * gbs * seq), "training.steps",
                                 "training.steps × global batch × sequence", over});
        if (!over) result.tokens = std::to_string(steps * gbs * seq);
    }

    // [activation_checkpoint] (default mode selective, selective_ac_option "2").
    const bool ac_given = static_cast<bool>(doc["activation_checkpoint"]["mode"]);
    const std::string mode = string("activation_checkpoint", "mode", "selective");
    const std::string ac_how = ac_given ? "activation_checkpoint.mode" : "torchtitan's default activation_checkpoint.mode selective";
    if (mode == "none" || mode == "full") {
        if (ac_given) rec.take("--recompute", job.recompute, mode, ac_how);
        else rec.derive("--recompute", job.recompute, mode, ac_how);
    } else if (mode == "selective") {
        if (ac_given) rec.take("--recompute", job.recompute, "selective", ac_how);
        else rec.derive("--recompute", job.recompute, "selective", ac_how);
        const bool opt_given = static_cast<bool>(doc["activation_checkpoint"]["selective_ac_option"]);
        const std::string option = string("activation_checkpoint", "selective_ac_option", "2");
        rec.option(job.framework_options, "selective_ac_option", option,
                   opt_given ? "activation_checkpoint.selective_ac_option" : "torchtitan's default selective_ac_option \"2\"", !opt_given);
    } else {
        rec.fail("activation_checkpoint.mode", "\"" + mode + "\" is not modelled (none, selective or full)");
    }
    // compile.enable: torch.compile's fused element-wise kernels (the profile's compile option;
    // docs/PERFORMANCE_MODEL.md §2); torchtitan's default is eager.
    if (boolean("compile", "enable", false)) rec.option(job.framework_options, "compile", "true", "compile.enable");
    if (doc["optimizer"]["name"]) {
        const std::string o = string("optimizer", "name", "AdamW");
        if (o == "AdamW") rec.take("--optimizer", job.optimizer, "adamw", "optimizer.name AdamW");
        else if (o == "Adam") rec.take("--optimizer", job.optimizer, "adam", "optimizer.name Adam");
        else rec.fail("optimizer.name", "\"" + o + "\" is not Adam or AdamW");
    } else {
        rec.derive("--optimizer", job.optimizer, "adamw", "torchtitan's default optimizer.name AdamW");
    }
    // Everything else, listed.
    for (const auto& [section, value] : doc) {
        const std::string s(section.str());
        if (const toml::table* t = value.as_table()) {
            for (const auto& [key, v] : *t) {
                const std::string path = s + "." + std::string(key.str());
                if (!used.count(path) && path != "compile.enable") rec.ignore(path, "not used by the plan");
            }
        } else {
            rec.ignore(s, "not used by the plan");
        }
    }
    return result;
}

}  // namespace llmplan
