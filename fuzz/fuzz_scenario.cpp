// fuzz_scenario.cpp — the GUI's scenario reader (gui/scenario: scenario_from_json, plain C++, no Qt)
// on any bytes, through the JSON reading path (core/file.h's parse_json_text), then what the GUI
// does with a loaded scenario short of planning: the model (only where no file is named: a preset
// by its name, a parameter count or a saved shape; a scenario naming a config.json or a Hugging Face
// ORG/NAME would make the reader open paths from the input), the training and the serving config,
// and writing the scenario back, which must read back as the same scenario.
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
        fuzz::accepts(text, [&] { (void)resolve_config(s); });
        fuzz::accepts(text, [&] { (void)resolve_infer_config(s); });
        const nlohmann::json written = nlohmann::json::parse(scenario_to_json(s).dump());
        const Scenario back = scenario_from_json(written, "scenario written back");
        fuzz::check(back == s, "scenario_to_json then scenario_from_json changed the scenario", text);
    });
    return 0;
}
