// cmd_models.cpp — `llmplan models [NAME] [--hf-config PATH]`: the presets, or one model's shape
// and exact parameter breakdown (NAME: a preset or a Hugging Face ORG/NAME, core/model_source.h).
#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/json.h"
#include "core/model_source.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/report.h"

#include <sstream>

namespace llmplan::cli {

void setup_models(CLI::App& parent, ModelsCommand& cmd) {
    cmd.app = parent.add_subcommand("models", "List the model presets, or show one model's shape and parameter count");
    cmd.app->add_option("name", cmd.name,
                        "A preset, or a Hugging Face ORG/NAME from the local Hugging Face cache, to show in detail")
        ->type_name("NAME");
    cmd.app->add_option("--hf-config", cmd.hf_config,
                        "Show the model described by a Hugging Face config.json, or by a folder holding one")
        ->type_name("PATH");
    cmd.app->add_flag("--json", cmd.json, "Print JSON");
}

namespace {

std::string detail(const ModelSpec& m, const std::string& source) {
    const ParamBreakdown b = count_params(m);
    std::ostringstream o;
    o << m.name << (source.empty() ? "" : " — " + source) << "\n";
    Table shape({"field", "value"});
    shape.add({"family", m.family});
    shape.add({"layers", std::to_string(m.n_layers)});
    shape.add({"d_model", std::to_string(m.d_model)});
    shape.add({"heads / kv heads / head_dim", std::to_string(m.n_heads) + " / " + std::to_string(m.n_kv_heads) + " / " +
                                                  std::to_string(m.head_dim)});
    shape.add({"d_ff", std::to_string(m.d_ff) + " (" + to_string(m.activation) + ")"});
    if (m.is_moe()) shape.add({"experts", std::to_string(m.n_experts) + ", top-" + std::to_string(m.top_k)});
    shape.add({"norm", to_string(m.norm)});
    shape.add({"vocabulary", std::to_string(m.vocab_size)});
    shape.add({"positions", std::to_string(m.max_positions) + " (" + to_string(m.position) + ")"});
    shape.add({"biases (qkv / out / mlp)", std::string(m.qkv_bias ? "yes" : "no") + " / " + (m.out_bias ? "yes" : "no") +
                                               " / " + (m.mlp_bias ? "yes" : "no")});
    shape.add({"tied embeddings", m.tied_embeddings ? "yes" : "no"});
    o << shape.str() << "\nParameters\n";
    Table t({"group", "parameters", "share"}, {false, true, true});
    const double total = static_cast<double>(b.total());
    auto row = [&](const char* name, std::int64_t n) {
        std::ostringstream pct;
        pct.precision(1);
        pct << std::fixed << 100.0 * static_cast<double>(n) / total << "%";
        t.add({name, format_int(n), pct.str()});
    };
    row("embedding", b.embedding);
    row("attention", b.attention);
    row("mlp", b.mlp);
    row("norm", b.norm);
    row("head", b.head);
    t.rule();
    t.add({"total", format_int(b.total()), format_count(total)});
    if (m.is_moe()) t.add({"active per token", format_int(b.active), format_count(static_cast<double>(b.active))});
    o << t.str();
    return o.str();
}

}  // namespace

int run_models(const ModelsCommand& cmd, std::ostream& out, std::ostream&) {
    if (!cmd.name.empty() && !cmd.hf_config.empty())
        throw InputError("give either a model name or --hf-config, not both");
    if (!cmd.name.empty() || !cmd.hf_config.empty()) {
        const NamedModel m =
            cmd.name.empty() ? model_from_hf_path(cmd.hf_config, "--hf-config") : model_from_name(cmd.name, "models");
        if (cmd.json) {
            out << model_to_json(m.spec, m.preset).dump(2) << "\n";
        } else {
            out << detail(m.spec, m.preset ? m.preset->source : "from " + m.file);
        }
        return 0;
    }
    if (cmd.json) {
        out << models_to_json(model_presets()).dump(2) << "\n";
        return 0;
    }
    Table t({"name", "parameters", "layers", "d_model", "heads", "kv", "d_ff", "vocab", "description"},
            {false, true, true, true, true, true, true, true, false});
    for (const Preset& p : model_presets()) {
        const ModelSpec& m = p.spec;
        t.add({p.name, format_count(static_cast<double>(count_params(m).total())), std::to_string(m.n_layers),
               std::to_string(m.d_model), std::to_string(m.n_heads), std::to_string(m.n_kv_heads), std::to_string(m.d_ff),
               std::to_string(m.vocab_size), p.description});
    }
    out << t.str() << "\n`llmplan models NAME` shows a shape and its exact parameter breakdown.\n";
    return 0;
}

}  // namespace llmplan::cli
