// fuzz_megatron_bridge.cpp — core/yaml's reader and the Megatron Bridge import
// (planner/import_megatron_bridge.cpp, --megatron-bridge FILE) on any text: the YAML reader alone
// must return a tree or refuse (fuzz_support.h's oracle), and the import of the same text, with no
// flag given, must give a job whose fields the CLI's own readers accept or refuse the same way.
#include "core/job_text.h"
#include "core/yaml.h"
#include "fuzz/fuzz_support.h"
#include "planner/job_import.h"

#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    try {
        const nlohmann::ordered_json doc = read_yaml(text, "fuzz.yaml");
        (void)doc.dump();  // every value it holds is one JSON can write (no NaN, no infinity)
    } catch (const InputError& e) {
        fuzz::check_message(e, text);
    }
    JobText job;
    try {
        const JobImport r = import_megatron_bridge(text, "fuzz.yaml", job, [](std::string_view) { return false; });
        (void)import_text(r);
        (void)import_json(r).dump();
        if (r.model) validate_model(*r.model, "fuzz");
        (void)train_config_from_text(job, 8);
    } catch (const InputError& e) {
        fuzz::check_message(e, text);
    }
    return 0;
}
