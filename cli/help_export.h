// help_export.h — the CLI's own definition (the CLI11 app that app.cpp builds) written out as man
// pages and a bash completion script. The build runs the hidden `llmplan --help-man DIR` and
// `llmplan --bash-completion FILE` (cli/CMakeLists.txt), so the pages and the completion always
// say what the binary parses: one source of truth for commands, flags, help texts and defaults.
//
// A flag whose values form a fixed set carries a value-set tag (values_of below), attached where the
// flag is defined; the set's words come from the catalog or name table that the flag's parser
// reads (the GPU catalog, the presets, core/config.h's and core/vocab.h's name tables), so the
// completion offers exactly what the parser takes. A flag whose type name is FILE, PATH or CSV
// completes file names.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

namespace llmplan::cli {

enum class ValueSet { gpu, model, framework, precision, optimizer, recompute, attention, weights };

// A validator that checks nothing (the flag's own parser checks and names the flag) and only tags
// the option with `set`: add_option(...)->check(values_of(ValueSet::gpu)).
CLI::Validator values_of(ValueSet set);

// The words of the option's value set, in the catalog's order; empty when it carries no tag.
std::vector<std::string> value_words(const CLI::Option& option);

// One roff man page per command: file name ("llmplan.1", "llmplan-plan.1",
// "llmplan-profile-calibrate.1", ...) → page. `version` goes in the page footer.
std::map<std::string, std::string> man_pages(const CLI::App& app, const std::string& version);

// A bash completion script for `llmplan`: subcommands, flags, and the words of each flag's value set.
// Needs only bash (not the bash-completion package's helpers) to load and run.
std::string bash_completion(const CLI::App& app);

}  // namespace llmplan::cli
