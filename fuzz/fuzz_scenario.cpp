// fuzz_scenario.cpp — the GUI's scenario reader (gui/scenario: scenario_from_json, plain C++, no Qt)
// on any bytes, through the JSON reading path (core/file.h's parse_json_text), then what the GUI
// does with a loaded scenario short of planning: the model (only where no file is named: a preset
// by its name, a parameter count or a saved shape; a scenario naming a config.json or a Hugging Face
// ORG/NAME would make the reader open paths from the input), the training and the serving config,
// and writing the scenario back. Writing normalises (the config as resolved: "all" LoRA targets
// spelled out, the model's shape added), so the check is that a written scenario reads back as one
// that writes the same again: nothing is lost or changed after the first save. Only for a config
// that resolves: one that does not is written with the defaults in place of the typed layout and
// job (all but LoRA), a loss this check would report on every such input.
#include "core/file.h"
#include "fuzz/fuzz_support.h"
#include "gui/scenario.h"

#include <string>

using namespace llmplan;
using namespace llmplan::gui;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        const Scenario s = scenario_from_json(parse_json_text(text, "scenario s.json"), "scenario s.json");
        const bool opens_files = s.source == ModelSource::hf_config ||
                                 (s.source == ModelSource::preset && s.model.find('/') != std::string::npos);
        if (!opens_files) fuzz::accepts(text, [&] { (void)resolve_model(s); });
        const bool config_ok = fuzz::accepts(text, [&] { (void)resolve_config(s); });
        fuzz::accepts(text, [&] { (void)resolve_infer_config(s); });
        if (!config_ok) {
            (void)scenario_to_json(s);  // the GUI saves it all the same
            return;
        }
        const auto save_and_load = [](const Scenario& x) {
            return scenario_from_json(nlohmann::json::parse(scenario_to_json(x).dump()), "scenario written back");
        };
        const Scenario once = save_and_load(s);
        fuzz::check(save_and_load(once) == once, "a saved scenario changes when saved and loaded again", text);
    });
    return 0;
}
