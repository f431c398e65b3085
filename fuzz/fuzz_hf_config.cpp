// fuzz_hf_config.cpp — the Hugging Face config.json reader on any bytes: the JSON reading path
// (core/file.h's parse_json_text: depth limit, syntax errors as one line) and then
// model_from_hf_config on what it parsed. A model that is returned has passed validate_model;
// it must also export and re-import as the same shape where its family can be written.
#include "core/file.h"
#include "core/hf_config.h"
#include "fuzz/fuzz_support.h"

#include <algorithm>
#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        const nlohmann::json j = parse_json_text(text, "--hf-config config.json");
        const ModelSpec m = model_from_hf_config(j, "--hf-config config.json");
        fuzz::check(m.n_layers > 0 && m.d_model > 0 && m.vocab_size > 0, "model_from_hf_config: non-positive size", text);
        // Export: refused in one line where the family cannot express the model, else a config
        // that reads back as the same shape.
        const std::vector<std::string>& types = supported_hf_model_types();
        if (std::find(types.begin(), types.end(), m.family) == types.end()) return;
        nlohmann::json out;
        if (!fuzz::accepts(text, [&] { out = hf_config_from_model(m, m.family); })) return;
        ModelSpec back = model_from_hf_config(out, "exported config");
        back.name = m.name;
        fuzz::check(back == m, "hf config export/import changed the model", text);
    });
    return 0;
}
