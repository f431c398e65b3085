// accuracy_texts.h — the error bands of llmplan's time model on held-out published training runs
// (validation/published/accuracy_<key>.json, written by validation/published/run.py --write from
// results.json), as text compiled into the program: the file the script wrote is their one source
// (planner/accuracy.h reads it).
#pragma once

#include <string_view>
#include <vector>

namespace llmplan {

struct AccuracyText {
    std::string_view key;   // the file name's tail: "published" for accuracy_published.json
    std::string_view json;  // the file's text
};

// Every bundled file, sorted by key.
const std::vector<AccuracyText>& bundled_accuracy_texts();

}  // namespace llmplan
