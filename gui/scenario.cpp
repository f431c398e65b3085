// scenario.cpp — the GUI's inputs → the planner (as cli/cmd_plan.cpp drives it), and scenario JSON.
#include "gui/scenario.h"

#include "core/derive.h"
#include "core/error.h"
#include "core/file.h"
#include "core/job_text.h"
#include "core/gpu.h"
#include "core/json.h"
#include "core/model_source.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "planner/lora.h"
#include "planner/report.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <sstream>

namespace llmplan::gui {

const char* to_string(ModelSource s) {
    switch (s) {
        case ModelSource::preset: return "preset";
        case ModelSource::hf_config: return "hf_config";
        case ModelSource::params: return "params";
        case ModelSource::shape: return "shape";
    }
    return "preset";
}

const char* to_string(Mode m) { return m == Mode::inference ? "inference" : "training"; }

namespace {

// A number as the text a person would have typed for its flag, so the CLI's own parsers (and so
// their messages, naming the flag and the value) judge the GUI's values.
std::string as_text(std::int64_t v) { return std::to_string(v); }
std::string as_text(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

}  // namespace

void set_layout(Scenario& s, const ParallelLayout& p) {
    s.tp = p.tp;
    s.pp = p.pp;
    s.cp = p.cp;
    s.ep = p.ep;
    s.etp = p.etp_chosen_by_llmplan ? 0 : p.etp;  // llmplan's own choice is made again from the rest
    s.virtual_stages = p.virtual_stages;
    s.zero = p.zero;
    s.sp = p.sp;
}

Scenario default_scenario() {
    Scenario s;
    s.source = ModelSource::preset;
    s.model = kStartModel;
    s.gpu = kDefaultGpu;
    const JobText job;  // the CLI's job flags with nothing given
    const TrainConfig c = train_config_from_text(job, gpu_or_throw(s.gpu, "--gpu").default_gpus_per_node);
    s.gpus = c.parallel.gpus;
    s.gpus_per_node = c.parallel.gpus_per_node;
    set_layout(s, c.parallel);
    s.precision = job.precision;
    s.optimizer = job.optimizer;
    s.recompute = job.recompute;
    s.attention = job.attention;
    s.offload = job.offload;
    s.offload_activations = c.offload_activations;
    s.framework = job.framework;
    s.dropout = c.dropout;
    s.micro_batch = c.micro_batch;
    s.global_batch = c.global_batch;  // 0: resolved by the planner, as without --global-batch
    s.seq = c.seq;                    // 0: the model's context, at most 4096
    s.lora_rank = c.lora.rank;
    s.lora_alpha = c.lora.alpha;
    s.lora_targets = job.lora_targets;
    s.base_quant = job.base_quant;
    s.paged_optimizer = c.lora.paged_optimizer;
    const InferText serve;  // the CLI's infer flags with nothing given
    const InferConfig ic = infer_config_from_text(serve);
    InferInputs& in = s.infer;
    in.weights = serve.weights;
    in.group_size = ic.weights.group_size;
    in.double_quant = serve.double_quant;
    in.kv_cache = serve.kv;
    in.batch = ic.batch;
    in.prompt = ic.prompt;
    in.generate = ic.generate;
    in.prefill_chunk = serve.prefill_chunk.empty() ? 0 : ic.prefill_chunk;
    in.tp = ic.tp;
    in.attention = serve.attention;
    in.framework = serve.framework;
    in.gpu_memory_utilization = ic.gpu_memory_utilization;
    in.block_size = ic.block_size;
    return s;
}

ModelSpec resolve_model(const Scenario& s, std::string* origin, bool* derived) {
    auto set = [&](std::string o, bool d) {
        if (origin) *origin = std::move(o);
        if (derived) *derived = d;
    };
    switch (s.source) {
        case ModelSource::preset:  // a preset or a Hugging Face ORG/NAME, as --model takes them
        case ModelSource::hf_config: {
            if (s.source == ModelSource::hf_config && s.model.empty())
                throw InputError("--hf-config: no config.json chosen (use Browse…)");
            NamedModel m = s.source == ModelSource::preset ? model_from_name(s.model, "--model")
                                                           : model_from_hf_path(s.model, "--hf-config");
            set(std::move(m.origin), false);
            return std::move(m.spec);
        }
        case ModelSource::params:
            set("--params " + s.model, true);
            return derive_shape(parse_count(s.model, "--params"), "--params");
        case ModelSource::shape:
            validate_model(s.shape, "scenario model");
            set("scenario shape", false);
            return s.shape;
    }
    throw InputError("unknown model source");
}

TrainConfig resolve_config(const Scenario& s) {
    // The fields as text, through the CLI's own parser (core/job_text.h): same ranges, same messages.
    JobText t;
    t.gpus = as_text(std::int64_t{s.gpus});
    t.gpus_per_node = as_text(std::int64_t{s.gpus_per_node});
    t.tp = as_text(std::int64_t{s.tp});
    t.pp = as_text(std::int64_t{s.pp});
    t.cp = as_text(std::int64_t{s.cp});
    t.ep = as_text(std::int64_t{s.ep});
    if (s.etp > 0) t.etp = as_text(std::int64_t{s.etp});
    t.virtual_stages = as_text(std::int64_t{s.virtual_stages});
    t.sp = s.sp;
    t.zero = as_text(std::int64_t{s.zero});
    t.framework = s.framework;
    t.precision = s.precision;
    t.optimizer = s.optimizer;
    t.recompute = s.recompute;
    t.attention = s.attention;
    t.offload = s.offload;
    t.offload_activations = as_text(std::int64_t{s.offload_activations});
    t.dropout = as_text(s.dropout);
    t.micro_batch = as_text(std::int64_t{s.micro_batch});
    if (s.seq != 0) t.seq = as_text(std::int64_t{s.seq});
    if (s.global_batch != 0) t.global_batch = as_text(std::int64_t{s.global_batch});
    t.lora_rank = as_text(std::int64_t{s.lora_rank});
    t.lora_alpha = as_text(s.lora_alpha);
    t.lora_targets = s.lora_targets;
    t.base_quant = s.base_quant;
    t.paged_optimizer = s.paged_optimizer;
    return train_config_from_text(t, s.gpus_per_node);
}

InferConfig resolve_infer_config(const Scenario& s) {
    // As `llmplan infer` builds it from its flags (planner/infer.h infer_config_from_text).
    const InferInputs& in = s.infer;
    InferText t;
    t.weights = in.weights;
    t.group_size = as_text(std::int64_t{in.group_size});
    t.double_quant = in.double_quant;
    t.kv = in.kv_cache;
    t.batch = as_text(in.batch);
    t.prompt = as_text(in.prompt);
    t.generate = as_text(in.generate);
    if (in.prefill_chunk != 0) t.prefill_chunk = as_text(in.prefill_chunk);
    t.tp = as_text(std::int64_t{in.tp});
    t.attention = in.attention;
    t.framework = in.framework;
    t.utilization = as_text(in.gpu_memory_utilization);
    t.block_size = as_text(std::int64_t{in.block_size});
    return infer_config_from_text(t);
}

Evaluation evaluate(const Scenario& s) {
    const auto start = std::chrono::steady_clock::now();
    Evaluation e;
    e.model = resolve_model(s, &e.origin, &e.derived);
    e.gpu = gpu_or_throw(s.gpu, "--gpu");
    e.memory = plan_memory(e.model, e.gpu, resolve_config(s));
    e.cluster = default_cluster(e.gpu, e.memory.config.parallel.gpus_per_node);
    if (!s.price.empty()) {
        e.cluster.price_per_gpu_hour = parse_price_per_gpu_hour(s.price);
        e.cluster.price_source = "given";
    }
    if (!s.tokens.empty()) e.perf_options.tokens = static_cast<double>(parse_count(s.tokens, "--tokens"));
    e.perf = plan_perf(e.memory, e.cluster, e.perf_options);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return e;
}

InferEvaluation evaluate_inference(const Scenario& s) {
    const auto start = std::chrono::steady_clock::now();
    InferEvaluation e;
    e.model = resolve_model(s, &e.origin, &e.derived);
    e.gpu = gpu_or_throw(s.gpu, "--gpu");
    e.plan = plan_inference(e.model, e.gpu, resolve_infer_config(s));
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return e;
}

double trainable_parameters(const Evaluation& e) {
    const TrainConfig& c = e.memory.config;
    return c.lora.enabled() ? count_lora(e.model, c.lora).adapter_params : static_cast<double>(e.memory.params.total());
}

nlohmann::ordered_json report_json(const Evaluation& e) {
    return plan_to_json(e.memory, e.perf, e.cluster, e.origin, e.derived);
}

nlohmann::ordered_json scenario_to_json(const Scenario& s, const Evaluation* resolved) {
    ModelSpec shape = s.shape;
    if (resolved) {
        shape = resolved->model;
    } else {
        try {
            shape = resolve_model(s);
        } catch (const InputError&) {  // the model_source (as typed) is written all the same
        }
    }
    bool valid_shape = true;
    try {
        validate_model(shape, "model");
    } catch (const InputError&) {
        valid_shape = false;
    }
    TrainConfig c;
    bool config_ok = true;
    try {
        c = resolve_config(s);
    } catch (const InputError&) {  // keep what was typed where it does not parse
        config_ok = false;
    }
    if (resolved) c = resolved->memory.config;
    nlohmann::ordered_json j;
    j["schema"] = "llmplan.scenario/1";
    const nlohmann::json inputs = config_json(c);  // the keys of a plan report's `inputs`
    for (const auto& [key, value] : inputs.items()) j[key] = value;
    if (s.precision.empty() && !resolved) j["precision"] = "";
    if (!resolved && !config_ok)  // keep what was typed (resolve_config failed, perhaps on it)
        j["lora"] = {{"rank", s.lora_rank}, {"alpha", s.lora_alpha}, {"targets", s.lora_targets},
                     {"base_quant", s.base_quant}, {"paged_optimizer", s.paged_optimizer}};
    j["gpu"] = s.gpu;
    if (valid_shape) j["model"] = model_shape_json(shape);
    j["model_source"] = {{"kind", to_string(s.source)}, {"value", s.source == ModelSource::shape ? shape.name : s.model}};
    j["run"] = {{"tokens", s.tokens}, {"price_per_gpu_hour", s.price}};
    j["mode"] = to_string(s.mode);
    const InferInputs& in = s.infer;
    j["inference"] = {{"weights", in.weights}, {"group_size", in.group_size}, {"double_quant", in.double_quant},
                      {"kv_cache", in.kv_cache}, {"batch", in.batch}, {"prompt", in.prompt}, {"generate", in.generate},
                      {"prefill_chunk", in.prefill_chunk}, {"tp", in.tp}, {"attention", in.attention},
                      {"framework", in.framework}, {"gpu_memory_utilization", in.gpu_memory_utilization},
                      {"block_size", in.block_size}};
    return j;
}

namespace {

struct Reader {
    const nlohmann::json& j;
    std::string what;
    bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }
    [[noreturn]] void bad(const std::string& key, const std::string& expected) const {
        throw InputError(what + ": \"" + key + "\" must be " + expected);
    }
    std::int64_t integer(const char* key, std::int64_t fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_number_integer()) bad(key, "an integer");
        return j[key].get<std::int64_t>();
    }
    int small(const char* key, int fallback) const {
        const std::int64_t v = integer(key, fallback);
        if (v < -(1 << 30) || v > (1 << 30)) bad(key, "a small integer");
        return static_cast<int>(v);
    }
    double real(const char* key, double fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_number()) bad(key, "a number");
        return j[key].get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_boolean()) bad(key, "true or false");
        return j[key].get<bool>();
    }
    std::string text(const char* key, const std::string& fallback) const {
        if (!has(key)) return fallback;
        if (!j[key].is_string()) bad(key, "a string");
        return j[key].get<std::string>();
    }
};

}  // namespace

Scenario scenario_from_json(const nlohmann::json& input, const std::string& what) {
    if (!input.is_object()) throw InputError(what + ": expected a JSON object (a scenario or an llmplan plan report)");
    // A whole plan report: its `inputs` are the scenario.
    const bool report = input.contains("schema") && input["schema"].is_string() &&
                        input["schema"].get<std::string>().rfind("llmplan.plan/", 0) == 0;
    if (report && !input.contains("inputs")) throw InputError(what + ": a plan report without \"inputs\"");
    const nlohmann::json& j = report ? input["inputs"] : input;
    if (!j.is_object()) throw InputError(what + ": \"inputs\" must be an object");
    const Reader r{j, what};
    Scenario s = default_scenario();
    s.gpu = r.text("gpu", s.gpu);
    s.precision = r.text("precision", "");
    s.optimizer = r.text("optimizer", s.optimizer);
    s.recompute = r.text("recompute", s.recompute);
    s.attention = r.text("attention", s.attention);
    s.offload = r.text("offload", s.offload);
    s.offload_activations = r.small("offload_activations", 0);
    s.framework = r.text("framework", s.framework);
    s.dropout = r.real("dropout", 0);
    s.micro_batch = r.integer("micro_batch", 1);
    s.global_batch = r.integer("global_batch", 0);
    s.seq = r.integer("seq", 0);
    if (r.has("parallel")) {
        if (!j["parallel"].is_object()) r.bad("parallel", "an object");
        const Reader p{j["parallel"], what + " parallel"};
        s.gpus = p.small("gpus", s.gpus);
        s.gpus_per_node = p.small("gpus_per_node", s.gpus_per_node);
        s.tp = p.small("tp", 1);
        s.pp = p.small("pp", 1);
        s.cp = p.small("cp", 1);
        s.ep = p.small("ep", 1);
        // A plan report writes the experts' tp whatever it is (expert_tp()): tp is the default.
        const int etp = p.small("etp", 0);
        s.etp = etp == s.tp ? 0 : etp;
        s.virtual_stages = p.small("virtual_stages", 1);
        s.sp = p.boolean("sp", false);
        s.zero = p.small("zero", 0);
    }
    if (r.has("lora")) {
        if (!j["lora"].is_object()) r.bad("lora", "an object");
        const Reader l{j["lora"], what + " lora"};
        s.lora_rank = l.small("rank", 0);
        s.lora_alpha = l.real("alpha", s.lora_alpha);
        s.lora_targets = l.text("targets", s.lora_targets);
        s.base_quant = l.text("base_quant", s.base_quant);
        s.paged_optimizer = l.boolean("paged_optimizer", false);
    }
    const std::string mode = r.text("mode", "training");
    if (mode == "inference") s.mode = Mode::inference;
    else if (mode != "training") r.bad("mode", "\"training\" or \"inference\"");
    if (r.has("inference")) {
        if (!j["inference"].is_object()) r.bad("inference", "an object");
        const Reader in{j["inference"], what + " inference"};
        InferInputs& v = s.infer;
        v.weights = in.text("weights", v.weights);
        v.group_size = in.small("group_size", v.group_size);
        v.double_quant = in.boolean("double_quant", v.double_quant);
        v.kv_cache = in.text("kv_cache", v.kv_cache);
        v.batch = in.integer("batch", v.batch);
        v.prompt = in.integer("prompt", v.prompt);
        v.generate = in.integer("generate", v.generate);
        v.prefill_chunk = in.integer("prefill_chunk", v.prefill_chunk);
        v.tp = in.small("tp", v.tp);
        v.attention = in.text("attention", v.attention);
        v.framework = in.text("framework", v.framework);
        v.gpu_memory_utilization = in.real("gpu_memory_utilization", v.gpu_memory_utilization);
        v.block_size = in.small("block_size", v.block_size);
    }
    if (r.has("run")) {
        const Reader run{j["run"], what + " run"};
        s.tokens = run.text("tokens", "");
        s.price = run.text("price_per_gpu_hour", "");
    }
    // The model: model_source where it is usable, else the shape (a preset when it is one).
    if (r.has("model")) {
        if (!j["model"].is_object()) r.bad("model", "an object (a model shape)");
        s.shape = model_shape_from_json(j["model"], what + " model");
        s.source = ModelSource::shape;
        s.model = s.shape.name;
        if (const Preset* preset = find_preset(s.shape.name); preset && preset->spec == s.shape) {
            s.source = ModelSource::preset;
            s.model = preset->name;
        }
    }
    if (r.has("model_source")) {
        if (!j["model_source"].is_object()) r.bad("model_source", "an object {\"kind\", \"value\"}");
        const Reader ms{j["model_source"], what + " model_source"};
        const std::string kind = ms.text("kind", "shape"), value = ms.text("value", "");
        // A file, or a Hugging Face ORG/NAME, that this machine lacks leaves the shape in use.
        const auto in_hf_cache = [&] {
            try {
                find_cached_hf_config(value, "--model");
                return true;
            } catch (const InputError&) {
                return false;
            }
        };
        if (kind != "preset" && kind != "params" && kind != "hf_config" && kind != "shape")
            ms.bad("kind", "preset, hf_config, params or shape");
        if (kind == "preset" && (value.find('/') == std::string::npos || !r.has("model") || in_hf_cache()))
            s.source = ModelSource::preset, s.model = value;
        else if (kind == "params") s.source = ModelSource::params, s.model = value;
        else if (kind == "hf_config" && (std::filesystem::exists(value) || !r.has("model")))
            s.source = ModelSource::hf_config, s.model = value;
    } else if (!r.has("model")) {
        throw InputError(what + ": no \"model\" (a shape) or \"model_source\"");
    }
    return s;
}

Scenario load_scenario_file(const std::string& path) {
    return scenario_from_json(read_json_file(path, "scenario"), path);
}

}  // namespace llmplan::gui
