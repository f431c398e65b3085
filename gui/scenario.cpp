// scenario.cpp — the GUI's inputs → the planner (as cli/cmd_plan.cpp drives it), and scenario JSON.
#include "gui/scenario.h"

#include "core/derive.h"
#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"
#include "core/json.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "planner/lora.h"
#include "planner/plan_json.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
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

ModelSpec resolve_model(const Scenario& s, std::string* origin, bool* derived) {
    auto set = [&](std::string o, bool d) {
        if (origin) *origin = std::move(o);
        if (derived) *derived = d;
    };
    switch (s.source) {
        case ModelSource::preset:
            set("preset " + s.model, false);
            return preset_or_throw(s.model, "--model");
        case ModelSource::hf_config:
            if (s.model.empty()) throw InputError("--hf-config: no config.json chosen (use Browse…)");
            set("--hf-config " + s.model, false);
            return model_from_hf_config_file(s.model, "--hf-config");
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
    TrainConfig c;
    ParallelLayout& p = c.parallel;
    p.gpus = s.gpus;
    p.gpus_per_node = s.gpus_per_node;
    p.tp = s.tp;
    p.pp = s.pp;
    p.cp = s.cp;
    p.ep = s.ep;
    p.virtual_stages = s.virtual_stages;
    p.sp = s.sp;
    p.zero = s.zero;
    if (p.gpus < 1) throw InputError("--gpus: must be a positive integer");
    if (p.gpus_per_node < 1) throw InputError("--gpus-per-node: must be a positive integer");
    if (p.tp < 1 || p.pp < 1 || p.cp < 1 || p.ep < 1 || p.virtual_stages < 1)
        throw InputError("--tp, --pp, --cp, --ep and --virtual-stages must be positive integers");
    if (p.zero < 0 || p.zero > 3) throw InputError("--zero: must be between 0 and 3");
    c.framework = parse_framework(s.framework, "--framework");
    if (s.precision.empty())  // as the CLI: PyTorch's mixed precision is autocast over an fp32 model
        c.precision = c.framework == Framework::pytorch ? Precision::amp_bf16 : Precision::mixed_bf16;
    else
        c.precision = parse_precision(s.precision, "--precision");
    c.optimizer = parse_optimizer(s.optimizer, "--optimizer");
    c.recompute = parse_recompute(s.recompute, "--recompute");
    c.attention = parse_attention(s.attention, "--attention");
    c.offload = parse_offload(s.offload, "--offload");
    if (!(s.dropout >= 0 && s.dropout <= 0.999)) throw InputError("--dropout: must be between 0 and 0.999");
    c.dropout = s.dropout;
    if (s.micro_batch < 1) throw InputError("--micro-batch: must be a positive integer");
    c.micro_batch = s.micro_batch;
    c.seq = s.seq;
    c.global_batch = s.global_batch;
    // LoRA / QLoRA as cli/options.cpp parses --lora-rank, --lora-alpha, --lora-targets, --base-quant.
    c.lora.rank = static_cast<int>(parse_int(as_text(std::int64_t{s.lora_rank}), "--lora-rank", 0, 1 << 20));
    c.lora.alpha = parse_real(as_text(s.lora_alpha), "--lora-alpha", 1e-9, 1e9);
    c.lora.targets = parse_lora_targets(s.lora_targets, "--lora-targets");
    c.lora.base_quant = parse_base_quant(s.base_quant, "--base-quant");
    c.lora.paged_optimizer = s.paged_optimizer;
    return c;
}

InferConfig resolve_infer_config(const Scenario& s) {
    // As cli/cmd_infer.cpp builds it from its flags (same parsers, same ranges, same messages).
    const InferInputs& in = s.infer;
    InferConfig c;
    c.weights.format = parse_weight_format(in.weights, "--weights");
    c.weights.group_size = static_cast<int>(parse_int(as_text(std::int64_t{in.group_size}), "--group-size", 1, 1 << 20));
    c.weights.double_quant = in.double_quant;
    c.kv = in.kv_cache.empty() ? (c.weights.format == WeightFormat::fp32 ? WeightFormat::fp32 : WeightFormat::bf16)
                               : parse_weight_format(in.kv_cache, "--kv-cache");
    c.batch = parse_int(as_text(in.batch), "--batch", 1, std::int64_t{1} << 24);
    c.prompt = parse_int(as_text(in.prompt), "--prompt", 1, std::int64_t{1} << 24);
    c.generate = parse_int(as_text(in.generate), "--generate", 0, std::int64_t{1} << 24);
    if (in.prefill_chunk != 0) c.prefill_chunk = parse_int(as_text(in.prefill_chunk), "--prefill-chunk", 1, std::int64_t{1} << 30);
    c.tp = static_cast<int>(parse_int(as_text(std::int64_t{in.tp}), "--tp", 1, 1024));
    c.attention = parse_attention(in.attention, "--attention");
    c.framework = parse_infer_framework(in.framework, "--framework");
    c.gpu_memory_utilization = parse_real(as_text(in.gpu_memory_utilization), "--gpu-memory-utilization", 0.01, 1);
    c.block_size = static_cast<int>(parse_int(as_text(std::int64_t{in.block_size}), "--block-size", 1, 1 << 16));
    return c;
}

Evaluation evaluate(const Scenario& s) {
    const auto start = std::chrono::steady_clock::now();
    Evaluation e;
    e.model = resolve_model(s, &e.origin, &e.derived);
    e.gpu = gpu_or_throw(s.gpu, "--gpu");
    e.memory = plan_memory(e.model, e.gpu, resolve_config(s));
    e.cluster = default_cluster(e.gpu, e.memory.config.parallel.gpus_per_node);
    if (!s.price.empty()) {
        e.cluster.price_per_gpu_hour = parse_real(s.price, "--price-per-gpu-hour", 0, 1e6);
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
    nlohmann::ordered_json report = plan_to_json(e.memory);
    add_perf_json(report, e.perf, e.cluster);
    if (e.memory.config.lora.enabled()) {  // as cli/cmd_plan.cpp
        const LoraCount lc = count_lora(e.memory.model, e.memory.config.lora);
        report["lora"] = {{"trainable_parameters", lc.adapter_params}, {"per_layer", lc.per_layer},
                          {"modules_per_layer", lc.modules_per_layer}, {"modules", lc.description}};
    }
    report["model"]["origin"] = e.origin;
    report["model"]["derived"] = e.derived;
    return report;
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

template <typename E, std::size_t N>
E enum_of(const Reader& r, const char* key, const E (&values)[N], E fallback) {
    const std::string t = r.text(key, to_string(fallback));
    for (E v : values)
        if (t == to_string(v)) return v;
    r.bad(key, "one of the names `llmplan plan` prints");
}

ModelSpec shape_from_json(const nlohmann::json& j, const std::string& what) {
    if (!j.is_object()) throw InputError(what + ": \"model\" must be an object (a model shape)");
    const Reader r{j, what + " model"};
    ModelSpec m;
    m.name = r.text("name", "custom");
    m.family = r.text("family", "llama");
    m.n_layers = r.small("layers", 0);
    m.d_model = r.small("d_model", 0);
    m.n_heads = r.small("heads", 0);
    m.n_kv_heads = r.small("kv_heads", m.n_heads);
    m.head_dim = r.small("head_dim", m.n_heads > 0 ? m.d_model / m.n_heads : 0);
    m.d_ff = r.small("d_ff", 0);
    static const Activation kAct[] = {Activation::gelu, Activation::swiglu};
    static const Norm kNorm[] = {Norm::layernorm, Norm::rmsnorm};
    static const PositionEmbedding kPos[] = {PositionEmbedding::learned, PositionEmbedding::rotary,
                                             PositionEmbedding::relative};
    m.activation = enum_of(r, "activation", kAct, m.activation);
    m.norm = enum_of(r, "norm", kNorm, m.norm);
    m.position = enum_of(r, "position_embedding", kPos, m.position);
    m.vocab_size = r.integer("vocab_size", 0);
    m.max_positions = r.integer("max_positions", 0);
    m.qkv_bias = r.boolean("qkv_bias", false);
    m.out_bias = r.boolean("out_bias", false);
    m.mlp_bias = r.boolean("mlp_bias", false);
    m.tied_embeddings = r.boolean("tied_embeddings", false);
    m.n_experts = r.small("experts", 1);
    m.top_k = r.small("top_k", 1);
    m.parallel_residual = r.boolean("parallel_residual", false);
    m.rotary_pct = r.real("rotary_pct", 1.0);
    m.sliding_window = r.small("sliding_window", 0);
    validate_model(m, what + " model");
    return m;
}

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
    Scenario s;
    s.gpu = r.text("gpu", s.gpu);
    s.precision = r.text("precision", "");
    s.optimizer = r.text("optimizer", s.optimizer);
    s.recompute = r.text("recompute", s.recompute);
    s.attention = r.text("attention", s.attention);
    s.offload = r.text("offload", s.offload);
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
        s.shape = shape_from_json(j["model"], what);
        s.source = ModelSource::shape;
        s.model = s.shape.name;
        if (const Preset* preset = find_preset(s.shape.name); preset && preset->spec == s.shape) {
            s.source = ModelSource::preset;
            s.model = preset->name;
        }
    }
    if (r.has("model_source")) {
        const Reader ms{j["model_source"], what + " model_source"};
        const std::string kind = ms.text("kind", "shape"), value = ms.text("value", "");
        if (kind == "preset") s.source = ModelSource::preset, s.model = value;
        else if (kind == "params") s.source = ModelSource::params, s.model = value;
        else if (kind == "hf_config" && (std::filesystem::exists(value) || !r.has("model")))
            s.source = ModelSource::hf_config, s.model = value;
        else if (kind != "shape" && kind != "hf_config")
            ms.bad("kind", "preset, hf_config, params or shape");
    } else if (!r.has("model")) {
        throw InputError(what + ": no \"model\" (a shape) or \"model_source\"");
    }
    return s;
}

Scenario load_scenario_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw InputError(path + ": cannot open the file");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw InputError(path + ": not valid JSON (" + std::string(e.what()) + ")");
    }
    return scenario_from_json(j, path);
}

void write_text_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw InputError(path + ": cannot write the file");
        out << text;
        out.close();
        if (!out) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            throw InputError(path + ": cannot write the file");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw InputError(path + ": cannot write the file (" + ec.message() + ")");
    }
}

}  // namespace llmplan::gui
