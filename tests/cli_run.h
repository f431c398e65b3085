// cli_run.h — runs the CLI in-process for the tests: cli::run() with its exit code, standard
// output and standard error captured.
#pragma once

#include "cli/app.h"

#include <sstream>
#include <string>
#include <vector>

namespace llmplan::test {

struct CliResult {
    int code;
    std::string out, err;
};

inline CliResult run_cli(std::vector<std::string> args) {
    std::ostringstream out, err;
    const int code = cli::run(args, out, err);
    return {code, out.str(), err.str()};
}

}  // namespace llmplan::test
