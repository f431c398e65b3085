// file.h — the one way llmplan reads an input file (a --cluster, --calibration, --hf-config, --fit
// or --law-file file, a GUI scenario, a rank's result), and the one way it writes an output file
// (a --report, --out or --result-file, a GUI save or export), each with one error policy.
//
// Every failure is one InputError line "WHAT PATH: REASON", WHAT naming the flag or the file's
// role ("--cluster", "scenario"):
//   --cluster /tmp/c.json: cannot open the file (No such file or directory)
//   --cluster /tmp: is a directory, not a file
//   --cluster /tmp/fifo: is a FIFO, not a regular file
//   --cluster /tmp/big.json: the file is 80.5 MiB, more than the 64 MiB an input file may be
//   --cluster /tmp/c.json: not valid JSON (parse error at line 3, column 5: syntax error ...)
//   --cluster /tmp/c.json: JSON nested deeper than 512 levels (line 1, column 513)
// The file is opened without blocking and checked with fstat before anything is read, so a FIFO
// or a device never hangs the reader.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmplan {

// The largest file read_text_file accepts unless told otherwise (every input llmplan reads is a
// few kilobytes; this only stops a wrong path from filling memory).
inline constexpr std::uint64_t kMaxInputFileBytes = std::uint64_t{64} << 20;

// The deepest nesting of arrays and objects parse_json_text accepts. Checked by a scan of the
// text before parsing, so a file nested 10^5 deep is refused rather than recursed through (the
// destructor and dump() of nlohmann::json recurse). llmplan's own files nest at most 6 deep.
inline constexpr int kMaxJsonDepth = 512;

// The whole file as bytes; InputError "WHAT PATH: REASON" if it is missing, unreadable, not a
// regular file, or larger than max_bytes.
std::string read_text_file(const std::string& path, const std::string& what,
                           std::uint64_t max_bytes = kMaxInputFileBytes);

// As read_text_file, but nullopt when nothing is at `path` (a file the caller creates if absent,
// e.g. a calibration file that measurements are merged into).
std::optional<std::string> read_text_file_if_present(const std::string& path, const std::string& what,
                                                     std::uint64_t max_bytes = kMaxInputFileBytes);

// Parses JSON text; InputError "WHERE: not valid JSON (parse error at line L, column C: ...)" or
// "WHERE: JSON nested deeper than 512 levels (line L, column C)". WHERE is usually "WHAT PATH".
template <class Json = nlohmann::json>
Json parse_json_text(const std::string& text, const std::string& where);
extern template nlohmann::json parse_json_text<nlohmann::json>(const std::string&, const std::string&);
extern template nlohmann::ordered_json parse_json_text<nlohmann::ordered_json>(const std::string&, const std::string&);

// read_text_file then parse_json_text, errors as "WHAT PATH: ...".
template <class Json = nlohmann::json>
Json read_json_file(const std::string& path, const std::string& what, std::uint64_t max_bytes = kMaxInputFileBytes) {
    return parse_json_text<Json>(read_text_file(path, what, max_bytes), what.empty() ? path : what + " " + path);
}

// Writes `content` to `path` whole, or fails and leaves what was there. By what `path` is:
//   nothing (or a regular file): a temporary in the same folder, then rename(2) over the name, so a
//     reader never sees half a file and a failure leaves the old file (or none). The temporary's
//     name is short (".llmplan-XXXXXXXX.tmp"), so a name up to NAME_MAX works; an existing
//     file's permission bits are kept; one the user may not write is not replaced.
//   a symbolic link to a regular file: the file it points to, as above; the link stays.
//   a character device or a FIFO (/dev/null, /dev/full, a terminal, a pipe): opened and written
//     as it is, never created, truncated or replaced (a FIFO waits for its reader, as a shell's
//     redirection does).
//   this process's standard output or error (/dev/stdout redirected to a file): written through
//     that descriptor, so the two do not overwrite each other.
//   a directory, a block device, a socket, a link to nothing: refused.
// Every failure throws std::runtime_error, one line "WHAT: cannot write \"PATH\": REASON", e.g.
//   --report: cannot write "/tmp/d": it is a directory
//   --report: cannot write "/dev/full": No space left on device
// Front ends treat it as a failure to write (the CLI exits 1). SIGINT, SIGTERM, SIGHUP and SIGQUIT
// are held back in the calling thread while a temporary exists, so a stop leaves no stray file.
void write_output_file(const std::string& path, std::string_view content, const std::string& what);

}  // namespace llmplan
