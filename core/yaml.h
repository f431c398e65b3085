// yaml.h — the YAML that configuration dumpers write, read into a JSON tree (the form the importers
// walk). The subset is what PyYAML's safe_dump writes in block style (Megatron Bridge's
// ConfigContainer.to_yaml, Hydra/OmegaConf configs written by hand): block mappings and sequences
// by indentation (a sequence may sit at its key's own indentation), "- key: value" items, plain,
// 'single-' and "double-quoted" scalars (also folded over several lines), | and > block scalars,
// flow collections ([a, b], {k: v}), comments, one document ("---" / "..."), and anchors (&a) with
// aliases (*a). Tags (!!python/…), complex keys ("? "), several documents and tabs for indentation
// are refused. Plain scalars resolve as PyYAML's loader does: null (~, null, empty), booleans
// (true/false/yes/no/on/off in any of YAML 1.1's three cases), integers, floats (".inf" and ".nan"
// stay strings: nothing non-finite leaves the reader); quoted scalars are strings.
// Limits against hostile input: 100 levels of nesting, 1,000,000 nodes after aliases are expanded.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace llmplan {

// The document as JSON (a mapping keeps its keys' order; a repeated key: the last one wins, as
// PyYAML's). Throws InputError "WHAT: line N: what is wrong" on anything outside the subset.
nlohmann::ordered_json read_yaml(const std::string& text, const std::string& what);

}  // namespace llmplan
