// file.cpp — reading an input file and parsing JSON with one error policy (file.h).
#include "core/file.h"

#include "core/error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmplan {

namespace {

std::string where_of(const std::string& path, const std::string& what) { return what.empty() ? path : what + " " + path; }

std::string errno_text(int e) { return std::strerror(e); }

// "512 bytes", "64 MiB", "80.5 MiB".
std::string size_text(std::uint64_t bytes) {
    constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
    if (bytes < kMiB) return std::to_string(bytes) + " bytes";
    if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / static_cast<double>(kMiB));
    return buf;
}

const char* kind_of(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "a special file";
}

// Closes the descriptor on every way out.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// nullopt when open() says ENOENT and `missing_ok`; every other failure throws.
std::optional<std::string> read_file(const std::string& path, const std::string& what, std::uint64_t max_bytes,
                                     bool missing_ok) {
    const std::string where = where_of(path, what);
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer; fstat then refuses it.
    const Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
    if (f.fd < 0) {
        const int e = errno;
        if (e == ENOENT && missing_ok) return std::nullopt;
        throw InputError(where + ": cannot open the file (" + errno_text(e) + ")");
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) throw InputError(where + ": cannot read the file (" + errno_text(errno) + ")");
    if (S_ISDIR(st.st_mode)) throw InputError(where + ": is a directory, not a file");
    if (!S_ISREG(st.st_mode)) throw InputError(where + ": is " + std::string(kind_of(st.st_mode)) + ", not a regular file");
    const auto too_big = [&](std::uint64_t size) {
        return InputError(where + ": the file is " + size_text(size) + ", more than the " + size_text(max_bytes) +
                          " an input file may be");
    };
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > max_bytes) throw too_big(size);
    std::string text;
    text.reserve(static_cast<std::size_t>(size));
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw InputError(where + ": cannot read the file (" + errno_text(errno) + ")");
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > max_bytes) throw too_big(text.size());  // it grew while being read
    }
    return text;
}

// Line and column (both from 1) of byte `at` of `text`.
std::string position(const std::string& text, std::size_t at) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < at && i < text.size(); ++i) {
        if (text[i] == '\n') ++line, column = 1;
        else ++column;
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Throws if arrays/objects nest deeper than kMaxJsonDepth (brackets inside strings do not count).
void check_depth(const std::string& text, const std::string& where) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth)
                throw InputError(where + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels (" +
                                 position(text, i) + ")");
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
}

}  // namespace

std::string read_text_file(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
    return *read_file(path, what, max_bytes, false);
}

std::optional<std::string> read_text_file_if_present(const std::string& path, const std::string& what,
                                                     std::uint64_t max_bytes) {
    return read_file(path, what, max_bytes, true);
}

template <class Json>
Json parse_json_text(const std::string& text, const std::string& where) {
    check_depth(text, where);
    try {
        return Json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 1: ..." — keep
        // the part after the bracketed id, on one line.
        std::string detail = e.what();
        if (const std::size_t close = detail.find("] "); detail.rfind("[json.exception", 0) == 0 && close != std::string::npos)
            detail = detail.substr(close + 2);
        for (char& c : detail)
            if (c == '\n' || c == '\r') c = ' ';
        throw InputError(where + ": not valid JSON (" + detail + ")");
    }
}

template nlohmann::json parse_json_text<nlohmann::json>(const std::string&, const std::string&);
template nlohmann::ordered_json parse_json_text<nlohmann::ordered_json>(const std::string&, const std::string&);

}  // namespace llmplan
