// job_import_detail.h — the record every importer writes into (planner/job_import.cpp); private to
// the import_*.cpp files.
#pragma once

#include "planner/job_import.h"

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace llmplan::import_detail {

class Recorder {
public:
    Recorder(JobImport& result, const FlagGiven& g) : r(result), given(g) {}
    // A value read from the file / one derived (`how`: the rule); set unless the flag was given.
    void take(const std::string& flag, std::string& slot, const std::string& value, const std::string& field);
    void derive(const std::string& flag, std::string& slot, const std::string& value, const std::string& how);
    void take_flag(const std::string& flag, bool& slot, bool value, const std::string& field);
    // A --framework-option KEY=VALUE, unless the user gave that key.
    void option(std::vector<std::string>& options, const std::string& key, const std::string& value,
                const std::string& field, bool derived = false);
    void ignore(const std::string& field, const std::string& why);
    // Numbers of the file, errors naming the import flag, the file and the field.
    std::int64_t integer(const std::string& field, const std::string& text, std::int64_t lo, std::int64_t hi) const;
    double real(const std::string& field, const std::string& text, double lo, double hi) const;
    [[noreturn]] void fail(const std::string& field, const std::string& why) const;
    // The data-parallel size of the job as it stands (--gpus ÷ (--tp × --pp × --cp)).
    std::int64_t data_parallel(const JobText& job) const;
    std::int64_t value_of(const std::string& text, const char* flag) const;

    JobImport& r;
    const FlagGiven& given;

private:
    void record(std::vector<ImportedValue>& list, const std::string& flag, std::string& slot, const std::string& value,
                const std::string& field, const std::string& how);
};

// An argparse-style argument list (Megatron-LM's, `vllm serve`'s) read as NAME → VALUE ("" for a
// switch), the last one given winning as in argparse: `--NAME=VALUE`, or `--NAME VALUE` when NAME is
// not a switch and the next word does not start with `value_stop`. Every other word goes to `word`.
struct ArgumentSyntax {
    const std::set<std::string>& switches;
    std::string value_stop = "--";                     // Megatron: "--"; vLLM: "-"
    std::map<std::string, std::string> aliases = {};   // whole words read as others (vLLM's -tp)
    bool underscores_as_dashes = false;                // vLLM reads --max_model_len as --max-model-len
    bool bare_dashes_are_words = true;                 // "--" alone is a word (Megatron), not a name
};
struct ArgumentList {
    std::map<std::string, std::string> values;
    std::vector<std::string> order;  // the names in the order first given
};
ArgumentList read_argument_list(const std::vector<std::string>& words, const ArgumentSyntax& syntax,
                                const std::function<void(const std::string&)>& word);

// The argparse argument of a config field: recompute_method → --recompute-method.
std::string argument_name(const std::string& field);

// Megatron-LM's argument list, as words, recorded under `flag` (import_megatron's work; the Megatron
// Bridge import translates its config into these words).
JobImport import_megatron_words(const std::vector<std::string>& words, const std::string& flag, const std::string& source,
                                JobText& job, const FlagGiven& given);

}  // namespace llmplan::import_detail
