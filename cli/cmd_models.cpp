// cmd_models.cpp — `llmplan models [NAME] [--hf-config PATH]`: the presets, or one model's shape
// and exact parameter breakdown (NAME: a preset or a Hugging Face ORG/NAME, core/model_source.h).
#include "cli/commands.h"
#include "cli/help_export.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/json.h"
#include "core/model_source.h"
#include "core/model_text.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/report.h"

#include <sstream>

namespace llmplan::cli {

void setup_models(CLI::App& parent, ModelsCommand& cmd) {
    cmd.app = parent.add_subcommand("models", "List the model presets, or show one model's shape and parameter count");
    cmd.app->add_option("name", cmd.name,
                        "A preset, or a Hugging Face ORG/NAME from the local Hugging Face cache, to show in detail")
        ->type_name("NAME")->check(values_of(ValueSet::model));
    cmd.app->add_option("--hf-config", cmd.hf_config,
                        "Show the model described by a Hugging Face config.json, or by a folder holding one")
        ->type_name("PATH");
    cmd.app->add_flag("--json", cmd.json, "Print JSON");
}

namespace {

std::string detail(const ModelSpec& m, const std::string& source) {
    const ParamBreakdown b = count_params(m);
    const std::string yes = "yes", no = "no";
    std::ostringstream o;
    o << m.name << (source.empty() ? "" : " — " + source) << "\n";
    Table shape({"field", "value"});
    shape.add({"family", m.family});
    shape.add({"layers", std::to_string(m.n_layers)});
    shape.add({"d_model", std::to_string(m.d_model)});
    if (m.is_mla()) {
        shape.add({"heads", std::to_string(m.n_heads)});
        shape.add({"attention", mla_text(m)});
    } else {
        shape.add({"heads / kv heads / head_dim", std::to_string(m.n_heads) + " / " + std::to_string(m.n_kv_heads) +
                                                      " / " + std::to_string(m.head_dim)});
    }
    if (const std::string p = layer_pattern_text(m); !p.empty()) shape.add({"attention layers", p});
    if (const std::string h = hybrid_text(m); !h.empty()) shape.add({"layers by kind", h.substr(h.find(": ") + 2)});
    if (const std::string g = gdn_text(m); !g.empty()) shape.add({"token mixers", g});
    else if (m.attention_output_gate) shape.add({"attention output gate", "sigmoid, per channel"});
    if (m.qk_norm != QkNorm::none) shape.add({"QK-norm", qk_norm_text(m.qk_norm)});
    if (m.attention_sinks) shape.add({"attention sinks", "one logit per head"});
    if (const std::string c = softcap_text(m); !c.empty()) shape.add({"logit soft-capping", c});
    const int moe = moe_layer_count(m);
    if (!m.is_moe() || uniform_experts(m)) {
        shape.add({"d_ff", std::to_string(m.d_ff) + " (" + to_string(m.activation) + ")"});
        if (m.is_moe()) shape.add({"experts", std::to_string(m.n_experts) + ", top-" + std::to_string(m.top_k)});
    } else {
        const int dense = layers_in_set(m, LayerSet::dense, 0, m.n_layers);
        if (dense > 0)
            shape.add({"d_ff", std::to_string(m.d_ff) + " (" + to_string(m.activation) + "), in " +
                                   std::to_string(dense) + " dense layer" + (dense == 1 ? "" : "s")});
        shape.add({"experts", std::to_string(m.n_experts) + " of " + std::to_string(m.expert_d_ff()) + " (" +
                                  to_string(m.activation) + "), top-" + std::to_string(m.top_k) +
                                  (m.moe_latent > 0 ? ", on a latent width of " + std::to_string(m.moe_latent) : "") +
                                  (moe == m.n_layers ? ", in every layer"
                                                     : ", in " + std::to_string(moe) + " of " +
                                                           std::to_string(m.n_layers) + " layers")});
        if (m.shared_d_ff > 0)
            shape.add({"shared expert", std::to_string(m.shared_d_ff) + (m.shared_expert_gate ? ", gated" : "")});
    }
    if (m.router_bias || m.expert_bias)
        shape.add({"biases (router / experts)", (m.router_bias ? yes : no) + " / " + (m.expert_bias ? yes : no)});
    if (m.capacity_factor > 0) {
        std::ostringstream c;
        c << m.capacity_factor << " × the balanced share";
        shape.add({"capacity factor", c.str()});
    }
    shape.add({"norm", to_string(m.norm)});
    if (m.norms_per_layer != 2)
        shape.add({"norms per layer", std::to_string(m.norms_per_layer) + " (before and after attention and MLP)"});
    if (m.embedding_norm) shape.add({"embedding norm", yes});
    shape.add({"vocabulary", std::to_string(m.vocab_size)});
    shape.add({"positions", std::to_string(m.max_positions) + " (" + to_string(m.position) + ")"});
    shape.add({"biases (qkv / out / mlp)", (m.qkv_bias ? yes : no) + " / " + (m.out_bias ? yes : no) + " / " +
                                               (m.mlp_bias ? yes : no)});
    shape.add({"tied embeddings", m.tied_embeddings ? yes : no});
    if (m.mtp_layers > 0)
        shape.add({"MTP modules", m.mtp_repeated ? "1, run at " + std::to_string(m.mtp_layers) + " depths (trained, not served)"
                                                 : std::to_string(m.mtp_layers) + " (trained, not served)"});
    o << shape.str() << "\nParameters\n";
    Table t({"group", "parameters", "share"}, {false, true, true});
    const double total = static_cast<double>(b.total());
    for (const BreakdownRow& r : param_breakdown_rows(b)) {
        std::ostringstream pct;
        pct.precision(1);
        pct << std::fixed << 100.0 * static_cast<double>(r.parameters) / total << "%";
        t.add({std::string(2 * static_cast<std::size_t>(r.depth), ' ') + r.label, format_int(r.parameters), pct.str()});
    }
    t.rule();
    t.add({"total", format_int(b.total()), format_count(total)});
    if (m.is_moe()) t.add({"active per token", format_int(b.active), format_count(static_cast<double>(b.active))});
    if (b.mtp > 0) t.add({"+ MTP, not served", format_int(b.mtp), format_count(static_cast<double>(b.mtp))});
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
            out << report_text(model_to_json(m.spec, m.preset), "models report");
        } else {
            out << detail(m.spec, m.preset ? m.preset->source : "from " + m.file);
        }
        return 0;
    }
    if (cmd.json) {
        out << report_text(models_to_json(model_presets()), "models report");
        return 0;
    }
    // active: per token, for mixture-of-experts models (count_params; "" for dense models, where all are).
    Table t({"name", "parameters", "active", "layers", "d_model", "heads", "kv", "d_ff", "vocab", "description"},
            {false, true, true, true, true, true, true, true, true, false});
    for (const Preset& p : model_presets()) {
        const ModelSpec& m = p.spec;
        const ParamBreakdown b = count_params(m);
        // d_ff: the dense MLP's width; "-" where no layer has one (every layer routes to narrower experts).
        const bool dense_mlp = !m.is_moe() || uniform_experts(m) || moe_layer_count(m) < m.n_layers;
        t.add({p.name, format_count(static_cast<double>(b.total())),
               m.is_moe() ? format_count(static_cast<double>(b.active)) : "", std::to_string(m.n_layers),
               std::to_string(m.d_model), std::to_string(m.n_heads), std::to_string(m.n_kv_heads), dense_mlp ? std::to_string(m.d_ff) : "-",
               std::to_string(m.vocab_size), p.description});
    }
    out << t.str() << "\nactive: the parameters one token passes through, for mixture-of-experts models.\n"
        << "`llmplan models NAME` shows a shape and its exact parameter breakdown.\n";
    return 0;
}

}  // namespace llmplan::cli
