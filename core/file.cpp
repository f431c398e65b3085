// file.cpp — reading an input file, parsing JSON, and writing an output file, each with one error
// policy (file.h).
#include "core/file.h"

#include "core/error.h"
#include "core/text.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <utility>

#include <fcntl.h>
#include <signal.h>
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

// Throws if arrays/objects nest deeper than kMaxJsonDepth (brackets inside strings do not count),
// or if the text holds a NUL byte: valid JSON never does, and nlohmann's parser takes one for the
// end of its input, so `{"gpus": 8}` followed by NUL and anything at all would be accepted.
void check_depth(const std::string& text, const std::string& where) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\0')
            throw InputError(where + ": not valid JSON at " + position(text, i) + ": found a NUL byte (a binary file?)");
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

namespace {

std::string after(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : ""; }

// e.what() without its "[json.exception.parse_error.101] " id.
std::string without_id(const std::string& what) {
    const std::size_t close = what.find("] ");
    return what.rfind("[json.exception", 0) == 0 && close != std::string::npos ? what.substr(close + 2) : what;
}

// nlohmann's syntax error detail, "<context> - <problem>[; expected <tokens>][; last read: '<text>']"
// (e.g. "object key - unexpected end of input; expected string literal"), in llmplan's words:
// "the text ends where an object key should be, expected a quoted key".
std::string syntax_problem(const std::string& detail) {
    const std::size_t dash = detail.find(" - ");
    if (dash == std::string::npos) return detail;
    const std::string context = detail.substr(0, dash);
    std::string body = detail.substr(dash + 3);
    if (const std::size_t last = body.find("; last read: "); last != std::string::npos) body.resize(last);
    std::string problem = body, expected;
    if (const std::size_t e = body.find("; expected "); e != std::string::npos) {
        problem = body.substr(0, e);
        expected = body.substr(e + 11);
    }
    std::string where = "in " + context;
    if (context == "value") where = "where a value should be";
    else if (context == "object key") where = "where an object key should be";
    else if (context == "object separator") where = "after an object key";
    else if (context == "object" || context == "array") where = "in an " + context;
    std::string found, hint;
    if (problem == "unexpected end of input") {
        found = "the text ends";
    } else if (problem == "invalid literal") {
        found = "found a word that is not a value";
        hint = "text needs double quotes; the literals are true, false and null";
    } else if (const std::string u = after(problem, "unexpected "); !u.empty()) {
        found = "found " + (u == "number literal" ? std::string("a number") : u == "string literal" ? std::string("a string") : u);
    } else if (const std::string c = after(problem, "invalid string: control character "); !c.empty()) {
        found = "found control character " + c.substr(0, c.find(" must")) + " inside a string";
        hint = "write it escaped";
    } else if (const std::string i = after(problem, "invalid string: "); !i.empty()) {
        found = "found an invalid string (" + i + ")";
    } else {
        found = "found " + std::string(problem.rfind("invalid", 0) == 0 ? "an " : "") + problem;
    }
    if (expected == "'[', '{', or a literal") expected = context == "value" ? "" : "a value";
    else if (expected == "string literal") expected = "a quoted key";
    else if (expected == "end of input") expected = "nothing more";
    else if (expected.rfind("digit", 0) == 0) expected = "a " + expected;
    return found + " " + where + (expected.empty() ? "" : ", expected " + expected) + (hint.empty() ? "" : " (" + hint + ")");
}

}  // namespace

template <class Json>
Json parse_json_text(const std::string& text, const std::string& where) {
    check_depth(text, where);
    try {
        return Json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error
        // while parsing object key - ...". The position is recomputed from e.byte (the bytes read,
        // the offending one last), so columns count from 1 on every line.
        if (text.find_first_not_of(" \t\r\n") == std::string::npos)
            throw InputError(where + ": not valid JSON: the text is empty, expected a value");
        const std::string detail = without_id(e.what());
        const std::string marker = "syntax error while parsing ";
        const std::size_t syntax = detail.find(marker);
        const std::string problem =
            syntax == std::string::npos ? detail : syntax_problem(detail.substr(syntax + marker.size()));
        throw InputError(where + ": not valid JSON at " + position(text, e.byte > 0 ? e.byte - 1 : 0) + ": " +
                         escape_controls(problem));
    } catch (const nlohmann::json::exception& e) {
        // A number beyond double's range: "[json.exception.out_of_range.406] number overflow parsing '1e999'".
        const std::string detail = without_id(e.what());
        const std::size_t quote = detail.find('\'');
        const std::string token = quote == std::string::npos ? "" : detail.substr(quote + 1, detail.rfind('\'') - quote - 1);
        const std::size_t at = token.empty() ? std::string::npos : text.find(token);
        if (detail.rfind("number overflow", 0) == 0 && at != std::string::npos)
            throw InputError(where + ": not valid JSON at " + position(text, at) + ": the number " + escape_controls(token) +
                             " is too large");
        throw InputError(where + ": not valid JSON: " + escape_controls(detail));
    }
}

template nlohmann::json parse_json_text<nlohmann::json>(const std::string&, const std::string&);
template nlohmann::ordered_json parse_json_text<nlohmann::ordered_json>(const std::string&, const std::string&);

// ---- writing ----------------------------------------------------------------------------------

namespace {

// Blocks `signals` in this thread for its lifetime. A SIGPIPE that our own write raised meanwhile
// (the write then fails with EPIPE, which is reported) is taken off before the old mask returns.
class HeldSignals {
public:
    explicit HeldSignals(std::initializer_list<int> signals) {
        sigset_t set;
        sigemptyset(&set);
        for (const int s : signals) sigaddset(&set, s);
        sigset_t pending;
        sigpending(&pending);
        pipe_was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        holds_pipe_ = sigismember(&set, SIGPIPE) == 1;
        pthread_sigmask(SIG_BLOCK, &set, &old_);
    }
    ~HeldSignals() {
        sigset_t pending;
        sigpending(&pending);
        if (holds_pipe_ && !pipe_was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
            sigset_t pipe;
            sigemptyset(&pipe);
            sigaddset(&pipe, SIGPIPE);
            const timespec now{};
            sigtimedwait(&pipe, nullptr, &now);
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    HeldSignals(const HeldSignals&) = delete;
    HeldSignals& operator=(const HeldSignals&) = delete;

private:
    sigset_t old_{};
    bool pipe_was_pending_ = false, holds_pipe_ = false;
};

// 0 when every byte was written, else the errno of the failure.
int write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno;
        if (n == 0) return EIO;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

// The folder and the last name of a path: "a/b/c" -> {"a/b", "c"}, "c" -> {".", "c"}, "/c" -> {"/", "c"}.
std::pair<std::string, std::string> split_path(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// ".llmplan-" + 8 random hex digits + ".tmp": 21 characters, whatever the target's name.
std::string temporary_name() {
    static std::mt19937 generator{std::random_device{}() ^ static_cast<unsigned>(::getpid())};
    char buf[32];
    std::snprintf(buf, sizeof buf, ".llmplan-%08x.tmp", static_cast<unsigned>(generator()));
    return buf;
}

// A temporary in `dir`, filled, flushed to disk and renamed over `name`; the temporary is removed
// on every failure. `mode`: permission bits to give the file (an existing file's), or none.
// Returns "" on success, else why it failed.
std::string replace_file(const std::string& dir, const std::string& name, std::string_view content,
                         std::optional<mode_t> mode) {
    if (name.empty() || name == "." || name == "..") return "the name does not end in a file name";
    const Fd d{::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0) return errno_text(errno);
    // A stop (Ctrl-C, kill) waits until the temporary is renamed or removed.
    const HeldSignals held{SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    std::string tmp;
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
        tmp = temporary_name();
        fd = ::openat(d.fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) return errno_text(errno);
    }
    if (fd < 0) return "cannot create a temporary file beside it";
    const Fd f{fd};
    int e = 0;
    if (mode && ::fchmod(f.fd, *mode & 0777) != 0) e = errno;
    if (e == 0) e = write_all(f.fd, content);
    if (e == 0 && ::fsync(f.fd) != 0) e = errno;
    if (e == 0 && ::renameat(d.fd, tmp.c_str(), d.fd, name.c_str()) != 0) e = errno;
    if (e != 0) {
        ::unlinkat(d.fd, tmp.c_str(), 0);
        return errno_text(e);
    }
    return "";
}

// Opens an existing device or FIFO as it is (no O_CREAT, no O_TRUNC) and writes to it.
std::string write_in_place(const std::string& path, std::string_view content) {
    const Fd f{::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC)};
    if (f.fd < 0) return errno_text(errno);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) return errno_text(errno);
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) return "it was replaced while being opened";
    // A reader that went away: EPIPE, reported, rather than SIGPIPE ending the process.
    const HeldSignals held{SIGPIPE};
    if (const int e = write_all(f.fd, content)) return errno_text(e);
    return "";
}

// The standard output or error that `st` is, or -1.
int standard_stream_of(const struct stat& st) {
    for (const int fd : {STDOUT_FILENO, STDERR_FILENO}) {
        struct stat s {};
        if (::fstat(fd, &s) == 0 && s.st_dev == st.st_dev && s.st_ino == st.st_ino) return fd;
    }
    return -1;
}

}  // namespace

void write_output_file(const std::string& path, std::string_view content, const std::string& what) {
    const auto fail = [&](const std::string& why) {
        throw std::runtime_error(what + ": cannot write \"" + path + "\": " + why);
    };
    if (path.empty()) fail("no file name");
    const auto done = [&](const std::string& why) {
        if (!why.empty()) fail(why);
    };
    struct stat target {};
    if (::stat(path.c_str(), &target) != 0) {
        const int e = errno;
        struct stat link {};
        if (e == ENOENT && ::lstat(path.c_str(), &link) == 0)
            fail("it is a symbolic link to a file that does not exist");
        if (e != ENOENT) fail(errno_text(e));
        const auto [dir, name] = split_path(path);
        return done(replace_file(dir, name, content, std::nullopt));
    }
    if (const int fd = standard_stream_of(target); fd >= 0) {
        const HeldSignals held{SIGPIPE};
        if (const int e = write_all(fd, content)) fail(errno_text(e));
        return;
    }
    if (S_ISDIR(target.st_mode)) fail("it is a directory");
    if (S_ISCHR(target.st_mode) || S_ISFIFO(target.st_mode)) return done(write_in_place(path, content));
    if (!S_ISREG(target.st_mode))
        fail(std::string("it is ") + kind_of(target.st_mode) +
             " (llmplan writes regular files, character devices and FIFOs only)");
    // A regular file, perhaps behind symbolic links: replace the file itself, keep the links.
    std::string real = path;
    struct stat link {};
    if (::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
        char* resolved = ::realpath(path.c_str(), nullptr);
        if (!resolved) fail(errno_text(errno));
        real = resolved;
        std::free(resolved);
    }
    if (::faccessat(AT_FDCWD, real.c_str(), W_OK, AT_EACCESS) != 0) fail(errno_text(errno));
    const auto [dir, name] = split_path(real);
    done(replace_file(dir, name, content, target.st_mode));
}

}  // namespace llmplan
