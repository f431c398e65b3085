// job_import.h — the configs people already have, read into llmplan's own job text:
//   DeepSpeed's ds_config.json        (import_deepspeed,  --deepspeed FILE)
//   Megatron-LM / NeMo argument lists (import_megatron,   --megatron-args FILE|'ARGS')
//   Megatron Bridge's config YAML     (import_megatron_bridge, --megatron-bridge FILE)
//   torchtitan's job TOML             (import_torchtitan, --torchtitan FILE)
//   vLLM's engine arguments           (import_vllm,       infer --vllm-args 'ARGS')
// Each fills the fields of a JobText (core/job_text.h) or InferText (planner/infer.h) the user did
// not give (`given(flag)` false) and records what it did: the values it took from the file, the
// values it derived (a default of the framework, a product of other values), and the fields it
// ignored with the reason. An explicit flag always wins; the import records that as overridden.
// Every field mapped, with the framework's own source of its name and default:
// docs/IMPORTS.md. Bad files are one InputError line naming the flag, the file and the field.
#pragma once

#include "core/job_text.h"
#include "core/model.h"
#include "planner/infer.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// One llmplan flag set from the file.
struct ImportedValue {
    std::string flag;        // "--tp", "--framework-option", "--model"
    std::string value;       // as the flag would be typed: "2", "reduce_bucket_size=2e8"
    std::string field;       // the file's field(s): "zero_optimization.stage", "--tensor-model-parallel-size"
    std::string how;         // derived values: the rule; taken values: empty
    bool overridden = false; // an explicit flag gave this one: the file's value was not used
};

struct ImportIgnored {
    std::string field, why;
};

struct JobImport {
    std::string flag;    // "--deepspeed"
    std::string source;  // the file, or the argument text as given
    std::vector<ImportedValue> taken, derived;
    std::vector<ImportIgnored> ignored;
    std::optional<ModelSpec> model;  // a shape the file spells out (Megatron's --num-layers, ...), unless a model flag was given
    std::string model_name;          // a model the file names (a preset, a Hugging Face ORG/NAME)
    std::string tokens;              // training tokens the file implies (steps × batch × sequence)
    // The values that were used (not overridden), taken and derived, in order.
    std::vector<ImportedValue> applied() const;
};

// Whether the user gave a flag (on the command line or in a --config job file).
using FlagGiven = std::function<bool(std::string_view flag)>;

// `model`: the model the job runs, when known before the import (DeepSpeed's "auto" bucket sizes
// follow its hidden size, as Hugging Face's Trainer fills them); null when the import names it.
JobImport import_deepspeed(const std::string& text, const std::string& source, JobText& job, const FlagGiven& given,
                           const ModelSpec* model);
JobImport import_megatron(const std::string& args, const std::string& source, JobText& job, const FlagGiven& given);
// A Megatron Bridge ConfigContainer YAML (NeMo 2 / 26.x): its fields as Megatron-LM's arguments.
JobImport import_megatron_bridge(const std::string& text, const std::string& source, JobText& job, const FlagGiven& given);
JobImport import_torchtitan(const std::string& text, const std::string& source, JobText& job, const FlagGiven& given);
JobImport import_vllm(const std::string& args, const std::string& source, InferText& job, const FlagGiven& given);

// The `imports` entry of a JSON report, and the lines printed on stderr.
nlohmann::ordered_json import_json(const JobImport& r);
std::string import_text(const JobImport& r);

// Shell-like words of an argument list (Megatron's and vLLM's): blanks and newlines separate,
// '…' and "…" quote, a backslash escapes the next character (a backslash-newline joins lines),
// '#' starts a comment at the start of a word. Throws InputError "WHAT: ..." on an open quote.
std::vector<std::string> split_argument_words(const std::string& text, const std::string& what);

}  // namespace llmplan
