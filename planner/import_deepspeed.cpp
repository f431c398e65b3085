// import_deepspeed.cpp — a DeepSpeed ds_config.json as llmplan flags (job_import.h). The keys and
// defaults are DeepSpeed's (runtime/config.py, runtime/constants.py, runtime/zero/config.py,
// runtime/zero/offload_config.py, at edaa7221); "auto" is Hugging Face Trainer's placeholder,
// filled as its HfTrainerDeepSpeedConfig.trainer_config_finalize does
// (src/transformers/integrations/deepspeed.py at 02348331): docs/REFERENCES.md §11, every field
// in docs/IMPORTS.md.
#include "planner/job_import.h"
#include "planner/job_import_detail.h"

#include "core/error.h"
#include "core/file.h"
#include "core/text.h"

#include <cmath>
#include "planner/framework.h"

#include <set>

namespace llmplan {

namespace {

using import_detail::Recorder;

bool is_auto(const nlohmann::json& v) { return v.is_string() && v.get<std::string>() == "auto"; }

// A JSON number as an llmplan flag would be typed: integers as integers, others as they read.
std::string number_text(const nlohmann::json& v) {
    if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
    const double d = v.get<double>();
    if (d == static_cast<double>(static_cast<std::int64_t>(d)) && std::abs(d) < 9e15)
        return std::to_string(static_cast<std::int64_t>(d));
    return v.dump();
}

}  // namespace

JobImport import_deepspeed(const std::string& text, const std::string& source, JobText& job, const FlagGiven& given,
                           const ModelSpec* model) {
    JobImport result;
    result.flag = "--deepspeed";
    result.source = source;
    Recorder rec(result, given);
    const nlohmann::json j = parse_json_text<nlohmann::json>(text, "--deepspeed " + source);
    if (!j.is_object()) rec.fail("the file", "expected a JSON object (a DeepSpeed config)");
    std::set<std::string> used;  // the top-level keys read
    auto object = [&](const char* key) -> const nlohmann::json* {
        if (!j.contains(key)) return nullptr;
        used.insert(key);
        if (!j[key].is_object()) rec.fail(key, "expected an object");
        return &j[key];
    };
    // An integer field, or "auto" (nullopt), or absent (nullopt).
    auto count = [&](const nlohmann::json& parent, const std::string& key, const std::string& path) -> std::optional<std::int64_t> {
        if (!parent.contains(key)) return std::nullopt;
        const nlohmann::json& v = parent[key];
        if (is_auto(v)) return std::nullopt;
        if (!v.is_number_integer() || v.get<std::int64_t>() < 1) rec.fail(path, "expected a positive integer or \"auto\", got " + v.dump());
        return v.get<std::int64_t>();
    };

    rec.derive("--framework", job.framework, "deepspeed", "a DeepSpeed config: DeepSpeed's ZeRO engine");

    // Precision: "bf16" (or its older name "bfloat16") and "fp16", each {"enabled": true | false | "auto"}.
    auto enabled = [&](const char* key) -> std::optional<bool> {  // nullopt: absent or "auto"
        const nlohmann::json* o = object(key);
        if (!o) return false;
        for (const auto& [k, v] : o->items())
            if (k != "enabled") rec.ignore(std::string(key) + "." + k, "not used by the plan");
        if (!o->contains("enabled")) return false;
        const nlohmann::json& e = (*o)["enabled"];
        if (is_auto(e)) return std::nullopt;
        if (!e.is_boolean()) rec.fail(std::string(key) + ".enabled", "expected true, false or \"auto\"");
        return e.get<bool>();
    };
    const std::optional<bool> bf16 = j.contains("bf16") ? enabled("bf16") : enabled("bfloat16"), fp16 = enabled("fp16");
    const char* bf16_key = j.contains("bf16") ? "bf16" : "bfloat16";
    if (bf16 == true && fp16 == true) rec.fail("bf16.enabled and fp16.enabled", "both true (DeepSpeed refuses that too)");
    if (bf16 == true) rec.take("--precision", job.precision, "mixed-bf16", std::string(bf16_key) + ".enabled");
    else if (fp16 == true) rec.take("--precision", job.precision, "mixed-fp16", "fp16.enabled");
    else if (!bf16 || !fp16) rec.ignore(std::string(!bf16 ? bf16_key : "fp16") + ".enabled", "\"auto\": --precision decides");
    else rec.derive("--precision", job.precision, "fp32", "neither bf16 nor fp16 enabled: DeepSpeed trains in fp32");

    // ZeRO.
    const nlohmann::json* z = object("zero_optimization");
    const nlohmann::json empty = nlohmann::json::object();
    const nlohmann::json& zo = z ? *z : empty;
    std::set<std::string> zused;
    if (zo.contains("stage")) {
        zused.insert("stage");
        if (!is_auto(zo["stage"])) {
            if (!zo["stage"].is_number_integer()) rec.fail("zero_optimization.stage", "expected 0, 1, 2 or 3");
            rec.take("--zero", job.zero, std::to_string(rec.integer("zero_optimization.stage", zo["stage"].dump(), 0, 3)),
                     "zero_optimization.stage");
        } else {
            rec.ignore("zero_optimization.stage", "\"auto\": --zero decides");
        }
    } else {
        rec.derive("--zero", job.zero, "0", "no zero_optimization.stage: DeepSpeed's default stage 0");
    }
    auto offload_device = [&](const char* key) -> std::string {
        if (!zo.contains(key)) return "none";
        zused.insert(key);
        const nlohmann::json& o = zo[key];
        const std::string path = std::string("zero_optimization.") + key;
        if (o.is_null()) return "none";
        if (!o.is_object()) rec.fail(path, "expected an object {\"device\": \"cpu\" | \"nvme\" | \"none\"}");
        std::string device = "none";
        for (const auto& [k, v] : o.items()) {
            if (k == "device") {
                if (!v.is_string()) rec.fail(path + ".device", "expected \"cpu\", \"nvme\" or \"none\"");
                device = v.get<std::string>();
                if (device != "cpu" && device != "nvme" && device != "none")
                    rec.fail(path + ".device", "\"" + device + "\" is not cpu, nvme or none");
            } else {
                rec.ignore(path + "." + k, "not modelled (host-side buffers)");
            }
        }
        return device;
    };
    const std::string opt_device = offload_device("offload_optimizer"), param_device = offload_device("offload_param");
    if (param_device != "none")
        rec.take("--offload", job.offload, "optimizer+params",
                 "zero_optimization.offload_param.device " + param_device + (param_device == "nvme" ? " (modelled as host memory)" : ""));
    else if (opt_device != "none")
        rec.take("--offload", job.offload, "optimizer",
                 "zero_optimization.offload_optimizer.device " + opt_device + (opt_device == "nvme" ? " (modelled as host memory)" : ""));
    // The ZeRO settings the DeepSpeed profile takes, under their own names (planner/framework.h).
    for (const FrameworkOption& fo : framework_profile(Framework::deepspeed).option_list()) {
        if (!zo.contains(fo.key)) continue;
        zused.insert(fo.key);
        const nlohmann::json& v = zo[fo.key];
        const std::string path = "zero_optimization." + fo.key;
        if (is_auto(v)) {
            const std::int64_t h = model ? model->d_model : 0;
            std::int64_t filled = 0;
            std::string rule;
            if (fo.key == "reduce_bucket_size") filled = h * h, rule = "hidden_size²";
            else if (fo.key == "stage3_prefetch_bucket_size") filled = static_cast<std::int64_t>(0.9 * static_cast<double>(h * h)), rule = "0.9 · hidden_size², truncated";
            else if (fo.key == "stage3_param_persistence_threshold") filled = 10 * h, rule = "10 · hidden_size";
            const bool stage3_key = fo.key.rfind("stage3_", 0) == 0;
            if (stage3_key && job.zero != "3") {  // Hugging Face fills these for ZeRO-3 only
                rec.ignore(path, "\"auto\" at ZeRO stage " + job.zero + ": not filled (a stage-3 setting)");
                continue;
            }
            if (filled > 0)
                rec.option(job.framework_options, fo.key, std::to_string(filled),
                           path + " \"auto\" = " + rule + " (hidden_size " + std::to_string(h) + "; Hugging Face Trainer's rule)", true);
            else
                rec.ignore(path, "\"auto\": DeepSpeed's default " + fo.default_value);
        } else if (v.is_boolean()) {
            rec.option(job.framework_options, fo.key, v.get<bool>() ? "true" : "false", path);
        } else if (v.is_number() && v.get<double>() >= 0) {
            rec.option(job.framework_options, fo.key, number_text(v), path);
        } else {
            rec.fail(path, "expected a non-negative number, true/false or \"auto\", got " + v.dump());
        }
    }
    for (const auto& [k, v] : zo.items())
        if (!zused.count(k)) rec.ignore("zero_optimization." + k, "not modelled");

    // Batch: train_batch_size = train_micro_batch_size_per_gpu × gradient_accumulation_steps × data-parallel size
    // (runtime/config.py _batch_assertion); any two give the third, and a missing
    // gradient_accumulation_steps is 1 (_set_batch_related_parameters).
    for (const char* key : {"train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "train_batch_size"})
        if (j.contains(key)) used.insert(key);
    const std::optional<std::int64_t> micro = count(j, "train_micro_batch_size_per_gpu", "train_micro_batch_size_per_gpu"),
                                      gas = count(j, "gradient_accumulation_steps", "gradient_accumulation_steps"),
                                      total = count(j, "train_batch_size", "train_batch_size");
    for (const char* key : {"train_micro_batch_size_per_gpu", "gradient_accumulation_steps", "train_batch_size"})
        if (j.contains(key) && is_auto(j[key])) rec.ignore(key, "\"auto\": from llmplan's flags (--micro-batch, --global-batch) or their defaults");
    const std::int64_t dp = rec.data_parallel(job);
    if (micro) rec.take("--micro-batch", job.micro_batch, std::to_string(*micro), "train_micro_batch_size_per_gpu");
    if (total) {
        rec.take("--global-batch", job.global_batch, std::to_string(*total), "train_batch_size");
        if (!micro && gas) {
            if (*total % (*gas * dp) != 0)
                rec.fail("train_batch_size", std::to_string(*total) + " is not a multiple of gradient_accumulation_steps " +
                                                 std::to_string(*gas) + " × data-parallel size " + std::to_string(dp));
            rec.derive("--micro-batch", job.micro_batch, std::to_string(*total / (*gas * dp)),
                       "train_batch_size ÷ (gradient_accumulation_steps × data-parallel size " + std::to_string(dp) + ")");
        }
        if (!micro && !gas && !j.contains("train_micro_batch_size_per_gpu") && !j.contains("gradient_accumulation_steps")) {
            if (*total % dp != 0)
                rec.fail("train_batch_size", std::to_string(*total) + " is not a multiple of the data-parallel size " + std::to_string(dp));
            rec.derive("--micro-batch", job.micro_batch, std::to_string(*total / dp),
                       "train_batch_size ÷ data-parallel size " + std::to_string(dp) + " (gradient_accumulation_steps 1, DeepSpeed's rule)");
        }
        if (micro && gas && *micro * *gas * dp != *total)
            rec.fail("train_batch_size", std::to_string(*total) + " ≠ train_micro_batch_size_per_gpu " + std::to_string(*micro) +
                                             " × gradient_accumulation_steps " + std::to_string(*gas) + " × data-parallel size " +
                                             std::to_string(dp) + " (--gpus ÷ (--tp × --pp × --cp))");
    } else if (!j.contains("train_batch_size") && (micro || gas)) {
        const std::int64_t m = rec.value_of(job.micro_batch, "--micro-batch");
        const std::int64_t g = gas.value_or(1);
        rec.derive("--global-batch", job.global_batch, std::to_string(m * g * dp),
                   "micro-batch " + std::to_string(m) + " × gradient_accumulation_steps " + std::to_string(g) +
                       (gas ? "" : " (DeepSpeed's default)") + " × data-parallel size " + std::to_string(dp));
    }

    // The optimizer: DeepSpeed's Adam is AdamW unless adam_w_mode is false (ops/adam/fused_adam.py).
    if (const nlohmann::json* o = object("optimizer")) {
        std::string type;
        if (o->contains("type")) {
            if (!(*o)["type"].is_string()) rec.fail("optimizer.type", "expected a string");
            type = to_lower((*o)["type"].get<std::string>());
        }
        bool adam_w_mode = true;
        if (o->contains("params") && (*o)["params"].is_object() && (*o)["params"].contains("adam_w_mode") &&
            (*o)["params"]["adam_w_mode"].is_boolean())
            adam_w_mode = (*o)["params"]["adam_w_mode"].get<bool>();
        if (type == "adam" || type == "adamw" || type == "fusedadam" || type == "cpuadam")
            rec.take("--optimizer", job.optimizer, type == "adam" && !adam_w_mode ? "adam" : "adamw",
                     "optimizer.type " + (*o)["type"].get<std::string>());
        else if (type == "lion")
            rec.take("--optimizer", job.optimizer, "lion", "optimizer.type Lion");
        else if (!type.empty())
            rec.ignore("optimizer.type", "\"" + (*o)["type"].get<std::string>() + "\" is not modelled: --optimizer decides");
        if (o->contains("params")) rec.ignore("optimizer.params", "learning rate and betas do not change memory or time");
    }
    for (const auto& [k, v] : j.items())
        if (!used.count(k)) rec.ignore(k, "not used by the plan");
    return result;
}

}  // namespace llmplan
