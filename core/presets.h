// presets.h — named model shapes for --model: GPT-2, Llama 2/3, Mistral, Mixtral, GPT-3 and
// Chinchilla written out here, and today's models (Llama 3.1, Qwen2.5, Qwen3, DeepSeek, Gemma,
// GPT-OSS, Llama 4, Phi-3, OLMo 2, BLOOM, Nemotron-4) and classic published training runs (OPT,
// BLOOM 176B, LLaMA, Falcon, MPT, DBRX) read from their published config.json (or, for Nemotron-4,
// OPT-175B and LLaMA, one written from the paper's table), bundled in models/ (core/model_configs.h).
//
// Each preset carries its source (Hugging Face config.json or paper table) and the parameter
// count its authors published: exact where one is (docs/REFERENCES.md §6), else the model card's
// rounded figure (docs/PRESETS.md); tests/test_presets.cpp checks count_params() against both.
#pragma once

#include "core/model.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// A parameter count as its source states it: rounded to `step` (e.g. 8.2B: total 8.2e9, step
// 1e8), the active count of an MoE model likewise, and whether that source leaves the input
// embedding out of the active count (OpenAI's gpt-oss card, DeepSeek-V2-Lite's).
struct PublishedCount {
    double total = 0;   // 0: the source gives no total (or one that counts more than the language model)
    double active = 0;  // 0: dense model, or none given
    double step = 0;    // the rounding of both figures
    bool active_excludes_embedding = false;
};

struct Preset {
    std::string name;                // what --model takes, e.g. "llama-2-7b"
    std::string description;         // one line for `llmplan models`
    ModelSpec spec;                  // spec.name == name
    std::int64_t published_params;   // exact published parameter count; 0 if none is published
    std::string source;              // where the shape (and the count) come from
    PublishedCount published = {};  // the rounded figures of a model card / paper (docs/PRESETS.md)
};

// All presets, in the order `llmplan models` lists them.
const std::vector<Preset>& model_presets();

// The preset of that name (case-insensitive), else the one preset whose name has the same words
// once the publisher, the tuned variants and "base"/"hf" are left out ("Llama 3.1 405B",
// "llama3-70b", "Llama-2-70b-hf", "gemma-2-9b-it"; docs/PRESETS.md; not for a name with a "/"),
// or nullptr.
const Preset* find_preset(std::string_view name);

// For a Hugging Face model id ORG/NAME that is not in the local cache: the preset read from that
// repository's config.json (its source names it), else the preset NAME names (find_preset), or
// nullptr.
const Preset* preset_for_hf_id(std::string_view id);

// The preset's spec; an unknown name throws InputError naming `flag`, with a suggestion and the
// other ways to name a model (core/model_source.h), in one line:
//   --model: unknown model "llama-2-8b" (did you mean "llama-2-7b"? `llmplan models` lists the presets;
//   a Hugging Face ORG/NAME in the local cache, or --hf-config PATH, works too)
ModelSpec preset_or_throw(std::string_view name, std::string_view flag);

// The Llama layout (RMSNorm, SwiGLU, rotary, no biases, untied head; head_dim = d / heads), shared
// by the Llama/Mistral presets and by derive_shape().
ModelSpec llama_like(const char* name, const char* family, int layers, int d, int heads, int kv_heads, int ff,
                     std::int64_t vocab, std::int64_t positions);

}  // namespace llmplan
