// import_megatron_bridge.cpp — a Megatron Bridge (NeMo 2 / NeMo 26.x) training config as llmplan
// flags and a model shape (job_import.h). The file is the YAML of Megatron Bridge's ConfigContainer:
// what `logger.save_config_filepath` and every checkpoint's run_config.yaml hold (ConfigContainer.
// to_yaml: yaml.safe_dump of to_dict(), Megatron-LM's megatron/training/config/container.py and
// yaml_utils.py as of 2026-08-22; NVIDIA-NeMo/Megatron-Bridge at 067f987d, src/megatron/bridge/
// training/config.py), or an override file of a recipe (the same sections, fewer keys). Its sections carry
// Megatron-Core's own field names — TransformerConfig / ModelParallelConfig under `model`,
// DistributedDataParallelConfig under `ddp`, OptimizerConfig under `optimizer`, and Bridge's
// `train`, `dataset`, `mixed_precision`, `comm_overlap`, `dist`, `peft` — so each field becomes the
// Megatron-LM argument of the same meaning and the Megatron import reads them (one reading of each
// Megatron setting; docs/IMPORTS.md, "Megatron Bridge", lists every field).
#include "planner/job_import.h"
#include "planner/job_import_detail.h"

#include "core/error.h"
#include "core/text.h"
#include "core/yaml.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace llmplan {

namespace {

using Json = nlohmann::ordered_json;

// The config as Megatron-LM argument words, with the YAML field of each argument.
struct Translation {
    std::vector<std::string> words;
    std::map<std::string, std::string> field_of;  // "--num-layers" → "model.num_layers"
    std::vector<ImportIgnored> ignored;
    std::vector<std::string> shape_refusals;     // model fields whose shape llmplan cannot read from the config
    std::string precision_preset;                // mixed_precision given as a preset's name

    void value(const std::string& arg, const std::string& v, const std::string& path) {
        words.push_back(arg + "=" + v);
        field_of[arg] = path;
    }
    void on(const std::string& arg, const std::string& path) {
        words.push_back(arg);
        field_of[arg] = path;
    }
    void ignore(const std::string& path, const std::string& why) { ignored.push_back({path, why}); }
    // A true/false field that turns Megatron's switch `arg` on (`on_when` true) or off: the switch
    // when the field says so, its YAML field recorded either way; anything but a boolean (or 0/1)
    // listed as ignored.
    void flag(const std::string& arg, const Json& v, const std::string& path, bool on_when = true) {
        if (!v.is_boolean() && !v.is_number_integer()) {
            ignore(path, "expected true or false");
            return;
        }
        if ((v.is_boolean() ? v.get<bool>() : v.get<std::int64_t>() != 0) == on_when) on(arg, path);
        else field_of[arg] = path;
    }
};

using import_detail::argument_name;

// A scalar as Megatron's argument text; representer objects ({_target_: torch.bfloat16} for a
// dtype, {_name_: auto} for an enum) as their name; nothing for a list or another mapping.
std::optional<std::string> scalar_text(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return std::string(v.get<bool>() ? "true" : "false");
    if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
    if (v.is_number_float()) return v.dump();
    if (v.is_object()) {
        if (v.contains("_name_") && v["_name_"].is_string()) return v["_name_"].get<std::string>();
        if (v.contains("_target_") && v["_target_"].is_string()) {
            const std::string t = v["_target_"].get<std::string>();
            if (t == "torch.bfloat16") return std::string("bf16");
            if (t == "torch.float16") return std::string("fp16");
            if (t == "torch.float32") return std::string("fp32");
            if (t.rfind("torch.float8", 0) == 0 || t.rfind("torch.uint8", 0) == 0) return std::string("fp8");
            return t;
        }
    }
    return std::nullopt;
}

bool truthy(const Json& v) { return v.is_boolean() ? v.get<bool>() : (v.is_number() ? v.get<double>() != 0 : false); }

// A list of names (recompute_modules, cuda_graph_scope) as Megatron's comma list.
std::optional<std::string> name_list(const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (!v.is_array()) return std::nullopt;
    std::vector<std::string> names;
    for (const Json& e : v) {
        const auto s = scalar_text(e);
        if (!s) return std::nullopt;
        names.push_back(*s);
    }
    return join(names, ",");
}

// A precision field of MixedPrecisionConfig, which Bridge also sets on the model (model.bf16,
// model.fp8, …): handled (true) or not one (false). `section` holds the field; `path` names it.
bool precision_field(const Json& section, const std::string& prefix, const std::string& key, const Json& v, Translation& t) {
    const std::string path = prefix + key;
    if (key == "bf16" || key == "fp16" || key == "first_last_layers_bf16" || key == "fp8_param_gather" || key == "fp4_param_gather") {
        t.flag(argument_name(key), v, path);
    } else if (key == "fp8_param" || key == "fp4_param") {
        t.flag(argument_name(key + "_gather"), v, path);
    } else if (key == "fp8" || key == "fp4") {
        if (const auto s = scalar_text(v)) t.value("--" + key + "-format", *s, path);
    } else if (key == "fp8_recipe" || key == "fp4_recipe") {
        const std::string base = key.substr(0, 3);
        if (!(section.contains(base) && section[base].is_string())) t.ignore(path, prefix + base + " is null: no " + (base == "fp8" ? "FP8" : "FP4"));
        else if (const auto s = scalar_text(v)) t.value(argument_name(key), *s, path);
    } else if (key == "num_layers_at_start_in_bf16" || key == "num_layers_at_end_in_bf16") {
        if (const auto s = scalar_text(v)) t.value(argument_name(key), *s, path);
    } else {
        return false;
    }
    return true;
}

// model: TransformerConfig and ModelParallelConfig fields (megatron/core/transformer/
// transformer_config.py, model_parallel_config.py), plus the provider's own (GPTModelProvider,
// MambaModelProvider: vocab_size, should_pad_vocab, hybrid_override_pattern, seq_length).
void translate_model(const Json& model, Translation& t) {
    // Fields read under their Megatron-LM argument name (--num-layers, ...).
    static const std::set<std::string> kValues{
        "num_layers", "hidden_size", "ffn_hidden_size", "num_attention_heads", "kv_channels", "seq_length", "max_position_embeddings",
        "normalization", "position_embedding_type", "rotary_percent", "tensor_model_parallel_size", "pipeline_model_parallel_size",
        "context_parallel_size", "expert_model_parallel_size", "expert_tensor_parallel_size", "recompute_granularity",
        "recompute_method", "recompute_num_layers", "hidden_dropout", "moe_router_topk", "moe_ffn_hidden_size",
        "moe_shared_expert_intermediate_size", "moe_latent_size", "hybrid_override_pattern", "hybrid_layer_pattern", "mamba_num_heads",
        "mamba_head_dim", "mamba_state_dim", "mamba_num_groups", "mtp_num_layers", "mtp_hybrid_override_pattern",
        "moe_token_dispatcher_type", "cuda_graph_impl", "cross_entropy_loss_fusion", "overlap_moe_expert_parallel_comm",
        "attention_backend", "make_vocab_size_divisible_by"};
    // Switches of Megatron-LM that a true field turns on.
    static const std::set<std::string> kSwitches{"sequence_parallel", "qk_layernorm", "add_qkv_bias", "account_for_embedding_in_pipeline_split",
                                                  "account_for_loss_in_pipeline_split", "mtp_use_repeated_layer"};
    static const std::set<std::string> kLists{"recompute_modules", "cuda_graph_scope"};
    const int heads = model.contains("num_attention_heads") && model["num_attention_heads"].is_number_integer()
                          ? model["num_attention_heads"].get<int>()
                          : 0;
    std::string backend;
    for (const auto& [key, v] : model.items()) {
        const std::string path = "model." + key;
        if (key == "_target_") {
            t.ignore(path, "the provider class (" + (v.is_string() ? escape_controls(v.get<std::string>()) : std::string("?")) + "): the fields below give the shape");
            continue;
        }
        if (v.is_null()) continue;  // unset: Megatron's default, as if absent
        if ((key == "recompute_modules" || key == "recompute_method" || key == "recompute_num_layers") &&
            !(model.contains("recompute_granularity") && model["recompute_granularity"].is_string())) {
            t.ignore(path, "model.recompute_granularity is null: nothing is recomputed");
            continue;
        }
        if (precision_field(model, "model.", key, v, t)) continue;
        if (kValues.count(key)) {
            const auto s = scalar_text(v);
            if (!s) t.ignore(path, "expected a single value");
            else t.value(argument_name(key), *s, path);
        } else if (kSwitches.count(key)) {
            if (!v.is_boolean()) t.ignore(path, "expected true or false");
            else if (v.get<bool>()) t.on(argument_name(key), path);
            else t.field_of[argument_name(key)] = path;
        } else if (kLists.count(key)) {
            const auto s = name_list(v);
            const std::string arg = key == "cuda_graph_scope" ? "--cuda-graph-modules" : argument_name(key);
            if (!s) t.ignore(path, "expected a list of names");
            else if (!s->empty()) t.value(arg, *s, path);
            else t.field_of[arg] = path;
        } else if (key == "num_moe_experts") {
            if (const auto s = scalar_text(v)) t.value("--num-experts", *s, path);
        } else if (key == "virtual_pipeline_model_parallel_size") {
            if (const auto s = scalar_text(v)) t.value("--num-virtual-stages-per-pipeline-rank", *s, path);
        } else if (key == "num_query_groups") {
            if (const auto s = scalar_text(v)) {
                t.value("--num-query-groups", *s, path);
                if (v.is_number_integer() && v.get<int>() != heads) t.on("--group-query-attention", path);
            }
        } else if (key == "add_bias_linear") {
            if (v.is_boolean() && !v.get<bool>()) t.on("--disable-bias-linear", path);
            else t.field_of["--disable-bias-linear"] = path;
        } else if (key == "share_embeddings_and_output_weights") {
            if (v.is_boolean() && !v.get<bool>()) t.on("--untie-embeddings-and-output-weights", path);
            else t.field_of["--untie-embeddings-and-output-weights"] = path;
        } else if (key == "gated_linear_unit" || key == "activation_func") {
            continue;  // read together below
        } else if (key == "vocab_size") {
            // GPTModelProvider pads the vocabulary only with should_pad_vocab (Hugging Face models' is
            // their own, already padded).
            const auto s = scalar_text(v);
            const bool pad = model.contains("should_pad_vocab") && truthy(model["should_pad_vocab"]);
            if (s) t.value(pad ? "--vocab-size" : "--padded-vocab-size", *s, path);
        } else if (key == "should_pad_vocab") {
            continue;  // read with vocab_size
        } else if (key == "moe_flex_dispatcher_backend") {
            backend = scalar_text(v).value_or("");
        } else if (key == "moe_hybridep_num_sms" || key == "moe_deepep_num_sms") {
            continue;  // read with the backend below
        } else if (key == "multi_latent_attention" || key == "window_size" || key == "moe_layer_freq" || key == "experimental_attention_variant" ||
                   key == "linear_attention_freq" || key == "heterogeneous_block_specs") {
            bool every_layer = key == "moe_layer_freq" && ((v.is_number_integer() && v.get<std::int64_t>() == 1) || (v.is_array() && !v.empty()));
            if (key == "moe_layer_freq" && v.is_array())
                for (const Json& e : v) every_layer = every_layer && e.is_number_integer() && e.get<std::int64_t>() == 1;
            const bool plain = (key == "multi_latent_attention" && v.is_boolean() && !v.get<bool>()) || every_layer;
            if (!plain) t.shape_refusals.push_back(path);
            else t.ignore(path, "the default: nothing to read");
        } else {
            t.ignore(path, "not used by the plan");
        }
    }
    // gated_linear_unit with SiLU is SwiGLU (--swiglu); squared ReLU (--squared-relu); else GELU.
    const bool glu = model.contains("gated_linear_unit") && truthy(model["gated_linear_unit"]);
    std::string act;
    if (model.contains("activation_func")) act = scalar_text(model["activation_func"]).value_or("");
    if (glu && (act.empty() || act.find("silu") != std::string::npos)) {
        t.on("--swiglu", "model.gated_linear_unit, model.activation_func");
    } else if (act.find("squared_relu") != std::string::npos) {
        t.on("--squared-relu", "model.activation_func");
    } else if (glu) {
        t.shape_refusals.push_back("model.activation_func (" + escape_controls(act) + " with a gated linear unit)");
    } else if (model.contains("activation_func") && !act.empty() && act.find("gelu") == std::string::npos) {
        t.shape_refusals.push_back("model.activation_func (" + escape_controls(act) + ")");
    }
    // The flex dispatcher's SMs: DeepEP's or HybridEP's, whichever backend runs it.
    const std::string sms = backend == "hybridep" ? "moe_hybridep_num_sms" : "moe_deepep_num_sms";
    if (!backend.empty() && model.contains(sms) && !model[sms].is_null()) {
        if (const auto s = scalar_text(model[sms])) t.value("--moe-flex-dispatcher-num-sms", *s, "model." + sms);
    }
    for (const char* k : {"moe_hybridep_num_sms", "moe_deepep_num_sms"})
        if (model.contains(k) && !model[k].is_null() && ("model." + std::string(k)) != t.field_of["--moe-flex-dispatcher-num-sms"])
            t.ignore("model." + std::string(k), backend.empty() ? "no moe_flex_dispatcher_backend" : "the other backend's");
}

// mixed_precision: a MixedPrecisionConfig (src/megatron/bridge/training/mixed_precision.py) or the
// name of one of its presets.
void translate_precision(const Json& mp, Translation& t) {
    if (mp.is_null()) return;
    if (mp.is_string()) {
        static const std::map<std::string, std::vector<std::string>> kPresets{
            {"bf16_mixed", {"--bf16"}},
            {"fp16_mixed", {"--fp16"}},
            {"bf16_with_fp8_delayed_scaling_mixed", {"--bf16", "--fp8-format=hybrid", "--fp8-recipe=delayed"}},
            {"bf16_with_fp8_current_scaling_mixed", {"--bf16", "--fp8-format=e4m3", "--fp8-recipe=tensorwise"}},
            {"bf16_with_fp8_subchannel_scaling_mixed", {"--bf16", "--fp8-format=e4m3", "--fp8-recipe=blockwise"}},
            {"bf16_with_mxfp8_mixed", {"--bf16", "--fp8-format=e4m3", "--fp8-recipe=mxfp8"}},
            {"bf16_with_nvfp4_mixed", {"--bf16", "--fp4-format=e2m1", "--fp4-recipe=nvfp4"}},
        };
        const std::string name = mp.get<std::string>();
        const auto it = kPresets.find(name);
        if (it == kPresets.end()) {
            t.ignore("mixed_precision", "\"" + escape_controls(name) + "\" is not a preset this import knows: --precision decides");
            return;
        }
        for (const std::string& w : it->second) {
            t.words.push_back(w);
            t.field_of[w.substr(0, w.find('='))] = "mixed_precision";
        }
        t.precision_preset = name;
        return;
    }
    if (!mp.is_object()) {
        t.ignore("mixed_precision", "expected a mapping or a preset name");
        return;
    }
    for (const auto& [key, v] : mp.items()) {
        const std::string path = "mixed_precision." + key;
        if (key == "_target_" || v.is_null() || precision_field(mp, "mixed_precision.", key, v, t)) continue;
        if (key == "grad_reduce_in_fp32") {
            // Bridge copies it to ddp.grad_reduce_in_fp32 (training/mixed_precision.py), the field read.
            t.ignore(path, "ddp.grad_reduce_in_fp32 is the one read (Bridge copies this there)");
        } else {
            t.ignore(path, "not used by the plan");
        }
    }
}

}  // namespace

JobImport import_megatron_bridge(const std::string& text, const std::string& source, JobText& job, const FlagGiven& given) {
    const std::string what = "--megatron-bridge " + source;
    const Json doc = read_yaml(text, what);
    if (!doc.is_object() || !(doc.contains("model") || doc.contains("train")))
        throw InputError(what + ": not a Megatron Bridge config: expected a YAML mapping with the sections model, train, ddp, ... "
                                "(ConfigContainer.to_yaml, e.g. logger.save_config_filepath or a checkpoint's run_config.yaml)");
    Translation t;
    auto section = [&](const char* name) -> const Json* {
        if (!doc.contains(name) || doc[name].is_null()) return nullptr;
        if (!doc[name].is_object()) throw InputError(what + ": " + name + ": expected a mapping of fields");
        return &doc[name];
    };
    if (const Json* m = section("model")) translate_model(*m, t);
    if (const Json* p = section("train")) {
        for (const auto& [key, v] : p->items()) {
            const std::string path = "train." + key;
            if (v.is_null() || key == "_target_") continue;
            if (key == "micro_batch_size" || key == "global_batch_size" || key == "train_iters" || key == "train_samples") {
                if (const auto s = scalar_text(v)) t.value(argument_name(key), *s, path);
            } else {
                t.ignore(path, "not used by the plan");
            }
        }
    }
    if (const Json* d = section("dataset")) {
        const bool model_seq = doc.contains("model") && doc["model"].is_object() && doc["model"].contains("seq_length") &&
                               !doc["model"]["seq_length"].is_null();
        for (const auto& [key, v] : d->items()) {
            if (key == "seq_length" && !model_seq && !v.is_null()) {
                if (const auto s = scalar_text(v)) t.value("--seq-length", *s, "dataset.seq_length");
            } else if (!v.is_null() && key != "_target_") {
                t.ignore("dataset." + key, key == "seq_length" ? "model.seq_length gives it" : "not used by the plan");
            }
        }
    }
    translate_precision(doc.contains("mixed_precision") ? doc["mixed_precision"] : Json(), t);
    bool fsdp = false;
    std::string strategy = "optim_grads_params";  // Megatron FSDP's default sharding
    // ddp: DistributedDataParallelConfig (megatron/core/distributed/distributed_data_parallel_config.py).
    const bool bf16 = std::find(t.words.begin(), t.words.end(), "--bf16") != t.words.end();
    if (const Json* d = section("ddp")) {
        for (const auto& [key, v] : d->items()) {
            const std::string path = "ddp." + key;
            if (v.is_null() || key == "_target_") continue;
            if (key == "use_distributed_optimizer" || key == "overlap_param_gather") {
                t.flag(argument_name(key), v, path);
            } else if (key == "grad_reduce_in_fp32") {
                // Megatron-LM reduces bf16 gradients in fp32 unless --grad-reduce-in-bf16.
                if (bf16) t.flag("--grad-reduce-in-bf16", v, path, false);
                else t.field_of["--grad-reduce-in-bf16"] = path;
            } else if (key == "use_megatron_fsdp") {
                fsdp = truthy(v);
                if (!fsdp) t.ignore(path, "false: no Megatron FSDP");
            } else if (key == "data_parallel_sharding_strategy") {
                if (v.is_string()) strategy = v.get<std::string>();
            } else if (key == "overlap_grad_reduce") {
                t.ignore(path, "the gradient reduce is planned bucketed under the last micro-batch's backward either way (docs/PERFORMANCE_MODEL.md §3)");
            } else {
                t.ignore(path, "not used by the plan");
            }
        }
    }
    if (const Json* d = section("dist")) {
        for (const auto& [key, v] : d->items()) {
            if (v.is_null() || key == "_target_") continue;
            if (key == "use_megatron_fsdp") fsdp = fsdp || truthy(v);
            else t.ignore("dist." + key, "not used by the plan");
        }
    }
    // optimizer: OptimizerConfig (megatron/core/optimizer/optimizer_config.py).
    if (const Json* o = section("optimizer")) {
        for (const auto& [key, v] : o->items()) {
            const std::string path = "optimizer." + key;
            if (v.is_null() || key == "_target_") continue;
            if (key == "optimizer") {
                if (const auto s = scalar_text(v)) t.value("--optimizer", *s, path);
            } else if (key == "use_precision_aware_optimizer") {
                t.flag("--use-precision-aware-optimizer", v, path);
            } else if (key == "main_params_dtype" || key == "exp_avg_dtype" || key == "exp_avg_sq_dtype" || key == "store_param_remainders") {
                if (const auto s = scalar_text(v)) t.value(argument_name(key), *s, path);
            } else {
                t.ignore(path, "not used by the plan");
            }
        }
    }
    // comm_overlap: Bridge's CommOverlapConfig (src/megatron/bridge/training/comm_overlap.py).
    if (const Json* c = section("comm_overlap")) {
        for (const auto& [key, v] : c->items()) {
            const std::string path = "comm_overlap." + key;
            if (v.is_null() || key == "_target_") continue;
            if (key == "tp_comm_overlap") {
                t.flag("--tp-comm-overlap", v, path);
            } else if (key == "overlap_p2p_comm" || key == "overlap_moe_expert_parallel_comm") {
                if (const auto s = scalar_text(v)) t.value(argument_name(key), *s, path);
            } else {
                t.ignore(path, "not used by the plan");
            }
        }
    }
    // peft: LoRA (src/megatron/bridge/peft/lora.py): dim, alpha, target_modules in Megatron's names.
    std::map<std::string, std::string> lora;
    if (const Json* p = section("peft")) {
        const std::string target = p->contains("_target_") ? scalar_text((*p)["_target_"]).value_or("") : "";
        if (target.find("LoRA") == std::string::npos && target.find("lora") == std::string::npos) {
            t.ignore("peft", "\"" + escape_controls(target) + "\" is not LoRA: not planned");
        } else {
            if (p->contains("dim")) lora["--lora-rank"] = scalar_text((*p)["dim"]).value_or("");
            if (p->contains("alpha")) lora["--lora-alpha"] = scalar_text((*p)["alpha"]).value_or("");
            if (p->contains("target_modules")) {
                static const std::map<std::string, std::string> kTargets{
                    {"linear_qkv", "q,k,v"}, {"linear_q", "q"}, {"linear_kv", "k,v"},  {"linear_proj", "o"},
                    {"linear_fc1", "gate,up"}, {"linear_fc2", "down"}, {"in_proj", "in_proj"}, {"out_proj", "out_proj"}};
                std::vector<std::string> names;
                for (const Json& m : (*p)["target_modules"].is_array() ? (*p)["target_modules"] : Json::array()) {
                    const std::string n = scalar_text(m).value_or("");
                    const auto it = kTargets.find(n);
                    if (it == kTargets.end()) throw InputError(what + ": peft.target_modules: \"" + escape_controls(n) + "\" is not one of linear_qkv, linear_proj, linear_fc1, linear_fc2, in_proj, out_proj");
                    names.push_back(it->second);
                }
                lora["--lora-targets"] = join(names, ",");
            }
        }
    }
    for (const auto& [key, v] : doc.items()) {
        static const std::set<std::string> kRead{"model", "train", "dataset", "mixed_precision", "ddp", "dist", "optimizer", "comm_overlap", "peft"};
        if (!kRead.count(key) && !v.is_null() && key != "_target_") t.ignore(key, "not used by the plan");
    }
    if (!t.shape_refusals.empty() && !(given("--model") || given("--hf-config") || given("--params"))) {
        throw InputError(what + ": " + t.shape_refusals.front() +
                         ": llmplan does not read this model's shape from a Bridge config; give the model with --model or --hf-config (the config's parallel, batch and recipe settings are still read)");
    }
    // Without the shape's key fields the Megatron import reads no model (a model flag gave it).
    std::vector<std::string> words;
    static const std::set<std::string> kShape{"--num-layers", "--hidden-size", "--num-attention-heads"};
    for (const std::string& w : t.words) {
        const std::string arg = w.substr(0, w.find('='));
        if (!t.shape_refusals.empty() && kShape.count(arg)) continue;
        words.push_back(w);
    }

    // Megatron's own reading, then its fields named as the YAML names them.
    auto rename = [&](const std::string& s) {
        std::string out;
        std::size_t i = 0;
        while (i < s.size()) {
            if (s.compare(i, 2, "--") == 0 && (i == 0 || (!std::isalnum(static_cast<unsigned char>(s[i - 1])) && s[i - 1] != '-'))) {
                std::size_t e = i + 2;
                while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '-')) ++e;
                const auto it = t.field_of.find(s.substr(i, e - i));
                if (it != t.field_of.end()) {
                    out += it->second;
                    i = e;
                    continue;
                }
            }
            out += s[i++];
        }
        return out;
    };
    JobImport r;
    try {
        r = import_detail::import_megatron_words(words, "--megatron-bridge", source, job, given);
    } catch (const InputError& e) {
        throw InputError(rename(e.what()));
    }
    import_detail::Recorder rec(r, given);
    for (auto* list : {&r.taken, &r.derived})
        for (ImportedValue& v : *list) {
            v.field = rename(v.field);
            v.how = rename(v.how);
            if (v.flag == "--framework") v.how = "a Megatron Bridge config: Megatron-Core's memory and time";
            if (v.flag == "--precision" && !t.precision_preset.empty()) v.field = "mixed_precision: " + t.precision_preset;
        }
    for (ImportIgnored& i : r.ignored) {
        // Words of the translation that the Megatron import did not use: their YAML field, not the argument.
        i.field = rename(i.field.substr(0, i.field.find('=')));
    }
    for (ImportIgnored& i : t.ignored) r.ignored.push_back(std::move(i));
    if (fsdp) {
        const std::string zero = strategy == "optim_grads" ? "2" : strategy == "optim" ? "1" : "3";
        rec.take("--zero", job.zero, zero, "ddp.use_megatron_fsdp, data_parallel_sharding_strategy " + escape_controls(strategy) + " (Megatron FSDP)");
    }
    for (const auto& [flag, value] : lora) {
        if (value.empty()) continue;
        std::string* slot = flag == "--lora-rank" ? &job.lora_rank : flag == "--lora-alpha" ? &job.lora_alpha : &job.lora_targets;
        rec.take(flag, *slot, value, flag == "--lora-rank" ? "peft.dim" : flag == "--lora-alpha" ? "peft.alpha" : "peft.target_modules");
    }
    return r;
}

}  // namespace llmplan
