// text.h — small string helpers: case folding, trimming, splitting and joining, "did you mean"
// suggestions for misspelled names, and integers with thousands separators.
//
// Everything here is ASCII-only and locale-independent, so results do not change when a front end
// (the Qt GUI, for one) calls setlocale().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// ASCII lower case; other bytes are copied unchanged.
std::string to_lower(std::string_view text);

// Removes leading and trailing whitespace (space, \t, \n, \r, \f, \v).
std::string trim(std::string_view text);

// Splits at every `sep` and trims each field. Empty fields are kept: split("a,,b", ',') is
// {"a", "", "b"} and split("", ',') is {""}.
std::vector<std::string> split(std::string_view text, char sep);

// Joins `parts` with `sep` between them; an empty list gives "".
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// The words of a product's name as people and tools write it ("NVIDIA H100 80GB HBM3",
// "Meta-Llama-3-70B-Instruct"), for a lookup that does not depend on its punctuation: lower case,
// split at anything not a letter or digit, and a run of 3 or more letters split from the digits
// after it ("llama3" -> "llama", "3"; "rtx4090" -> "rtx", "4090"; "h100", "mi300x" stay whole);
// a word in `dropped` (lower case) is left out before that split. Printable ASCII only: a name with
// a control character or a non-ASCII byte has no words (a damaged value, never a name). The GPU
// catalog and the model presets each read these words their own way (core/gpu.cpp,
// core/presets.cpp).
std::vector<std::string> name_words(std::string_view name, const std::vector<std::string_view>& dropped = {});

// Levenshtein distance (insertions, deletions, substitutions each cost 1), ignoring ASCII case.
int edit_distance(std::string_view a, std::string_view b);

// The option the user most likely meant by `value`, or nullopt when none is close. Comparison
// ignores case; "loose" forms below also drop '-', '_' and '.'. In order of preference:
//   1. an option whose loose form equals value's            ("llama2-7b" -> "llama-2-7b");
//   2. an option whose loose form contains value's (value at least 3 loose characters), the one
//      with the smallest edit distance                      ("h100" -> "h100-sxm");
//   3. the option with the smallest edit distance, if that distance is at most
//      max(2, value.size() / 3), or whose loose form (at least 3 characters) is contained in
//      value's                                               ("h300" -> "h200").
// Ties go to the option listed first.
std::optional<std::string> closest_match(std::string_view value, const std::vector<std::string>& options);

// Text safe to print on one line: \n, \r and \t as those two-character escapes, every other ASCII
// control character (and DEL) as \xHH; everything else (UTF-8 included) unchanged. For echoing a
// value the user typed, or a whole message, so that an error stays one line on a terminal.
std::string escape_controls(std::string_view text);

// A name or label read from a file (a model's "_name_or_path", a scaling law's "name" and
// "source", a calibration's "source"): it is printed in tables on stdout and in reports, so it is
// kept with its control characters escaped (escape_controls) and never reaches a terminal raw.
inline std::string label_from_file(std::string_view text) { return escape_controls(text); }

// Decimal with ',' between groups of three digits: 6738415616 -> "6,738,415,616", -1234 -> "-1,234".
std::string format_int(std::int64_t n);

}  // namespace llmplan
