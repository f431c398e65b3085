// model_source.h — the model a user names, in one place for every front end (the CLI's --model,
// --hf-config and `llmplan models NAME`, the GUI's model source):
//   NAME        a preset (core/presets.h), case-insensitive;
//   ORG/NAME    a Hugging Face model id, read from the local hub cache, never from the network:
//               <hub>/models--ORG--NAME/snapshots/<revision>/config.json;
//   PATH        (--hf-config) a config.json file, or a folder holding one.
// The hub folder and the cache layout are huggingface_hub's (docs/REFERENCES.md §9). Every
// failure is one InputError line naming the flag and the value, e.g.
//   --model Qwen/Qwen3-8B: not a preset and not in the Hugging Face cache (looked in
//   /root/.cache/huggingface/hub/models--Qwen--Qwen3-8B); fetch its config with: hf download Qwen/Qwen3-8B config.json
// (one line).
#pragma once

#include "core/model.h"
#include "core/presets.h"

#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// A resolved model and where it came from.
struct NamedModel {
    ModelSpec spec;                  // a preset's spec; an ORG/NAME model is named ORG/NAME as typed
    std::string origin;              // for reports: "preset llama-2-7b", "Hugging Face cache FILE", "--hf-config PATH"
    const Preset* preset = nullptr;  // the preset, when it is one
    std::string file;                // the config.json read; empty for a preset
};

// huggingface_hub's hub cache folder (constants.py HF_HUB_CACHE), from the environment:
// $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE (its older name), else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. As there, a variable set to ""
// counts as set, and `~` and $VAR / ${VAR} in the values are expanded as Python's
// os.path.expanduser and os.path.expandvars do.
std::string hf_hub_cache_dir();

// A Hugging Face model id ORG/NAME checked as huggingface_hub's validate_repo_id checks it (one
// "/", letters, digits, '-', '_' and '.', each part starting and ending with a letter, digit or
// '_', no "--" or "..", a name of at most 96 characters not ending in ".git"), so it can never
// leave the hub folder. Throws InputError `FLAG "ID": not a preset, nor a Hugging Face model id
// ORG/NAME (REASON)`.
void check_hf_model_id(std::string_view id, std::string_view flag);

// The config.json of an ORG/NAME in the hub cache and its revision: the one refs/main names when
// that snapshot holds config.json, else the snapshot most recently modified that holds one (ties:
// the greatest name). config.json may be a link (into ../../blobs): it is followed. Throws the
// not-found line above when there is none.
struct CachedConfig {
    std::string path;
    std::string revision;
};
CachedConfig find_cached_hf_config(std::string_view id, std::string_view flag);

// The models of the hub cache, as ORG/NAME ids, sorted: every models--ORG--NAME folder whose id
// check_hf_model_id accepts and one of whose snapshots holds config.json (what --model ORG/NAME
// would read). Other folders (datasets--…, spaces--…, anything else) are skipped; an unreadable or
// missing hub folder gives an empty list.
std::vector<std::string> cached_hf_model_ids();

// --model NAME: a preset (unknown names without "/": preset_or_throw's "did you mean" line), else
// an ORG/NAME from the hub cache, parsed by model_from_hf_config_file.
NamedModel model_from_name(std::string_view name, std::string_view flag);

// --hf-config PATH: a config.json file, or a folder holding config.json.
NamedModel model_from_hf_path(const std::string& path, std::string_view flag);

}  // namespace llmplan
