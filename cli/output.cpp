// output.cpp — atomic report files: a reader never sees half a report, a failure leaves nothing.
#include "cli/output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace llmplan::cli {

void write_file_atomically(const std::string& path, const std::string& content, const std::string& flag) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    auto fail = [&](const std::string& why) {
        std::remove(tmp.c_str());
        throw std::runtime_error(flag + ": cannot write \"" + path + "\": " + why);
    };
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) fail(std::strerror(errno));
        f << content;
        f.flush();
        if (!f) fail(std::strerror(errno));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(std::strerror(errno));
}

}  // namespace llmplan::cli
