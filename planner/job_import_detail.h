// job_import_detail.h — the record every importer writes into (planner/job_import.cpp); private to
// the import_*.cpp files.
#pragma once

#include "planner/job_import.h"

#include <cstdint>
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

}  // namespace llmplan::import_detail
