// presets.h — named model shapes (GPT-2, Llama, Mistral, Mixtral, GPT-3, Chinchilla) for --model.
//
// Each preset carries its source (Hugging Face config.json or paper table) and, where the authors
// published an exact figure, the parameter count; tests/test_presets.cpp checks that
// count_params() reproduces every published figure exactly (docs/REFERENCES.md §6).
#pragma once

#include "core/model.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

struct Preset {
    std::string name;                // what --model takes, e.g. "llama-2-7b"
    std::string description;         // one line for `llmplan models`
    ModelSpec spec;                  // spec.name == name
    std::int64_t published_params;   // exact published parameter count; 0 if none is published
    std::string source;              // where the shape (and the count) come from
};

// All presets, in the order `llmplan models` lists them.
const std::vector<Preset>& model_presets();

// The preset of that name (case-insensitive), or nullptr.
const Preset* find_preset(std::string_view name);

// The preset's spec; an unknown name throws InputError naming `flag`, with a suggestion and the
// other ways to name a model (core/model_source.h), in one line:
//   --model: unknown model "llama2-7b" (did you mean "llama-2-7b"? `llmplan models` lists the presets;
//   a Hugging Face ORG/NAME in the local cache, or --hf-config PATH, works too)
ModelSpec preset_or_throw(std::string_view name, std::string_view flag);

// The Llama layout (RMSNorm, SwiGLU, rotary, no biases, untied head; head_dim = d / heads), shared
// by the Llama/Mistral presets and by derive_shape().
ModelSpec llama_like(const char* name, const char* family, int layers, int d, int heads, int kv_heads, int ff,
                     std::int64_t vocab, std::int64_t positions);

}  // namespace llmplan
