// model_configs.h — the Hugging Face config.json files bundled with llmplan (models/*.json), as
// text compiled into the program: the presets of today's models are read from them, so that a
// preset's shape has one source, the published config.json (docs/PRESETS.md gives each file's origin).
#pragma once

#include <string_view>
#include <vector>

namespace llmplan {

struct ModelConfigText {
    std::string_view name;  // file name without .json, e.g. "qwen3-8b"
    std::string_view json;  // the file's text
};

// Every bundled config, sorted by name.
const std::vector<ModelConfigText>& bundled_model_configs();

}  // namespace llmplan
