// hf_config.h — read and write Hugging Face transformers `config.json` files as ModelSpecs.
//
// Import follows the transformers config classes field by field, defaults included (GPT2Config,
// LlamaConfig, MistralConfig, MixtralConfig, Qwen2Config, GPTNeoXConfig, and the families of
// docs/MODEL_FAMILIES.md: Qwen3, Qwen3-MoE, Qwen2-MoE, DeepSeek-V2/V3, Gemma 2, Gemma 3 (text or
// the text_config of the image-text config), Phi-3, GPT-OSS, Llama 4 (likewise), OLMo 2, BLOOM, and the
// classic published-run families OPT, Falcon, MPT and DBRX). Fields that fix the
// shape (sizes, layers, heads, vocabulary, positions, experts) are required; fields that older
// configs may lack (num_key_value_heads, head_dim, biases, tie_word_embeddings, ...) take the
// class's default. Unknown fields are ignored. Export is the inverse: importing an exported
// config gives back the same ModelSpec apart from its name (and family, which becomes model_type).
#pragma once

#include "core/model.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// The ModelSpec a parsed config.json describes. `what` names the source in error messages,
// e.g. "--hf-config llama.json". Throws InputError (one line) for an unsupported model_type, a
// missing required field, a field of the wrong JSON type, or a shape validate_model() rejects.
// name = "hf:" + _name_or_path when that field is present, else "hf:" + model_type;
// family = model_type.
ModelSpec model_from_hf_config(const nlohmann::json& cfg, std::string_view what);

// Reads and parses `path`, then model_from_hf_config(json, flag + " " + path). A missing or
// unreadable file, or one that is not JSON, throws a one-line InputError naming flag and path
// (read_json_file, core/file.h).
ModelSpec model_from_hf_config_file(const std::string& path, std::string_view flag);

// A config.json of `model_type` describing `spec`. Throws InputError if the type is unsupported
// or cannot express the spec (e.g. RMSNorm as gpt2, biases as mistral, experts as llama).
nlohmann::json hf_config_from_model(const ModelSpec& spec, std::string_view model_type);

// The model_type values understood above (export: gpt2, llama, mistral, mixtral, qwen2, gpt_neox).
const std::vector<std::string>& supported_hf_model_types();

}  // namespace llmplan
