// output.h — writing reports: whole files or nothing (write to a temporary, then rename).
#pragma once

#include <string>

namespace llmplan::cli {

// Writes `content` to `path` atomically; throws std::runtime_error naming `flag` and the path.
void write_file_atomically(const std::string& path, const std::string& content, const std::string& flag);

}  // namespace llmplan::cli
