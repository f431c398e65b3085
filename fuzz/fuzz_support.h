// fuzz_support.h — what every libFuzzer target in fuzz/ shares: the oracle for a refusal and a
// temporary folder the target owns.
//
// The oracle (docs/RELIABILITY.md): a reader given any bytes either returns a value or throws
// InputError with a non-empty message that adds no control character (a newline included) of its
// own: one it quotes from the input is the front end's to escape when it prints the line (the
// black-box corpus tests/bad_inputs/ checks what is printed). Any other exception escapes
// LLVMFuzzerTestOneInput, so libFuzzer reports it as a crash with its input; a crash, a sanitizer
// report (AddressSanitizer, UBSan with -fno-sanitize-recover) or a timeout is a finding too.
#pragma once

#include "core/error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace llmplan::fuzz {

inline std::string text_of(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Stops the run with the input saved (libFuzzer treats abort() as a crash).
[[noreturn]] inline void finding(std::string_view what, std::string_view detail) {
    std::fprintf(stderr, "fuzz finding: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(detail.size()), detail.data());
    std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
    if (!ok) finding(what, detail);
}

// A refusal's message: non-empty, and every control character in it (bytes 0-31 and 127) is one
// the input holds too (as itself, or possibly as a JSON escape such as \n or \u001b).
inline void check_message(const InputError& e, std::string_view input) {
    const std::string_view m = e.what();
    check(!m.empty(), "InputError with an empty message");
    const bool escapes = input.find('\\') != std::string_view::npos;
    for (const char c : m) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 32 || u == 127) && !escapes && input.find(c) == std::string_view::npos)
            finding("InputError message with a control character that is not from the input", m);
    }
}

// Runs `f` on `input`; an InputError passes the message check, anything else escapes.
template <class F>
bool accepts(std::string_view input, F&& f) {
    try {
        f();
        return true;
    } catch (const InputError& e) {
        check_message(e, input);
        return false;
    }
}

// A folder under the system's temporary directory that only this process writes, removed at exit.
// Targets that must hand a path to a reader write their input there and nowhere else.
class TempDir {
public:
    TempDir() {
        std::string name = (std::filesystem::temp_directory_path() / "llmplan_fuzz-XXXXXX").string();
        if (mkdtemp(name.data()) == nullptr) finding("mkdtemp failed", name);
        path_ = name;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Writes `text` to DIR/NAME (replacing it) and returns the path.
inline std::string write_file(const TempDir& dir, const char* name, const std::string& text) {
    const std::string p = (dir.path() / name).string();
    std::FILE* f = std::fopen(p.c_str(), "wb");
    if (f == nullptr) finding("cannot write the temporary file", p);
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) finding("cannot write the temporary file", p);
    return p;
}

}  // namespace llmplan::fuzz
