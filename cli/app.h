// app.h — the llmplan command line as a function, so tests can run it in-process.
//
// Exit codes: 0 success; 1 a runtime failure (e.g. a report file cannot be written);
// 2 bad input (unknown flag, bad value, invalid combination) — always one line on `err`.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace llmplan::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace llmplan::cli
