// test_file.cpp — core/file.h: the one file reader and its one error policy, every failure mode,
// the JSON depth limit; and the reader reached through each command (cli::run). The one writer on
// every kind of path: regular files, links, folders, read-only places, long names, FIFOs, device
// nodes (made inside the test's own folder, never /dev's), the process's standard output.
#include "cli/app.h"
#include "cli_run.h"
#include "core/error.h"
#include "core/file.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace llmplan;
namespace fs = std::filesystem;

namespace {

// A fresh folder for this test binary's files (removed at the end of each test case).
struct TempDir {
    fs::path path;
    TempDir() {
        std::string name = (fs::temp_directory_path() / "llmplan_test_file-XXXXXX").string();
        REQUIRE(mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string write(const std::string& name, const std::string& text) const {
        const fs::path p = path / name;
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    std::string fifo(const std::string& name) const {
        const fs::path p = path / name;
        REQUIRE(mkfifo(p.c_str(), 0600) == 0);
        return p.string();
    }
};

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no InputError)";
}

std::string nested(int depth) { return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']'); }

using test::CliResult;
using test::run_cli;

// Exit 2, nothing on stdout, exactly one line on stderr, equal to `line`.
void expect_one_line(const std::vector<std::string>& args, const std::string& line) {
    const CliResult r = run_cli(args);
    INFO(Catch::Detail::stringify(args) << "\nerr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find(line) != std::string::npos);
}

}  // namespace

TEST_CASE("read_text_file: the bytes of a regular file, as they are", "[file]") {
    const TempDir d;
    const std::string text = std::string("a\0b\r\n{\"x\": 1}\n", 14);
    CHECK(read_text_file(d.write("t.bin", text), "--x") == text);
    CHECK(read_text_file(d.write("empty", ""), "--x").empty());
    // A file exactly at the cap is read; one byte more is refused.
    CHECK(read_text_file(d.write("ten", "0123456789"), "--x", 10) == "0123456789");
    CHECK(*read_text_file_if_present(d.write("p", "here"), "--out") == "here");
}

TEST_CASE("read_text_file: every failure is one InputError line naming what, the path and why", "[file][errors]") {
    const TempDir d;
    const std::string missing = (d.path / "missing.json").string();
    CHECK(message_of([&] { read_text_file(missing, "--cluster"); }) ==
          "--cluster " + missing + ": cannot open the file (No such file or directory)");
    CHECK(message_of([&] { read_text_file(d.path.string(), "--cluster"); }) ==
          "--cluster " + d.path.string() + ": is a directory, not a file");
    const std::string fifo = d.fifo("pipe");  // no writer: a blocking open would hang here
    CHECK(message_of([&] { read_text_file(fifo, "--calibration"); }) ==
          "--calibration " + fifo + ": is a FIFO, not a regular file");
    CHECK(message_of([&] { read_text_file("/dev/null", "--fit"); }) ==
          "--fit /dev/null: is a character device, not a regular file");
    const std::string big = d.write("big", std::string(3 << 20, 'x'));
    CHECK(message_of([&] { read_text_file(big, "--law-file", std::uint64_t{2} << 20); }) ==
          "--law-file " + big + ": the file is 3 MiB, more than the 2 MiB an input file may be");
    const std::string odd = d.write("odd", std::string((5 << 19) + 1, 'x'));
    CHECK(message_of([&] { read_text_file(odd, "--law-file", std::uint64_t{2} << 20); }) ==
          "--law-file " + odd + ": the file is 2.5 MiB, more than the 2 MiB an input file may be");
    const std::string eleven = d.write("eleven", "01234567890");
    CHECK(message_of([&] { read_text_file(eleven, "--x", 10); }) ==
          "--x " + eleven + ": the file is 11 bytes, more than the 10 bytes an input file may be");
    if (geteuid() != 0) {  // root reads every file
        const std::string locked = d.write("locked", "{}");
        REQUIRE(chmod(locked.c_str(), 0) == 0);
        CHECK(message_of([&] { read_text_file(locked, "--cluster"); }) ==
              "--cluster " + locked + ": cannot open the file (Permission denied)");
    }
    // Without `what`, the path alone starts the line.
    CHECK(message_of([&] { read_text_file(missing, ""); }) == missing + ": cannot open the file (No such file or directory)");
    // _if_present: nothing there is no error; anything else is.
    CHECK_FALSE(read_text_file_if_present(missing, "--out").has_value());
    CHECK(message_of([&] { read_text_file_if_present(d.path.string(), "--out"); }) ==
          "--out " + d.path.string() + ": is a directory, not a file");
    CHECK(message_of([&] { read_text_file_if_present(fifo, "--out"); }) == "--out " + fifo + ": is a FIFO, not a regular file");
}

TEST_CASE("read_json_file: syntax errors with their position, on one line", "[file][json][errors]") {
    const TempDir d;
    const std::string ok = d.write("ok.json", R"({"a": [1, {"b": "]]]}}"}], "c": null})");
    const nlohmann::json j = read_json_file(ok, "--cluster");
    CHECK(j["a"][1]["b"] == "]]]}}");
    const nlohmann::ordered_json o = read_json_file<nlohmann::ordered_json>(d.write("o.json", R"({"z": 1, "a": 2})"), "x");
    CHECK(o.begin().key() == "z");

    const std::string bad = d.write("bad.json", "{\"a\": 1,\n \"b\": 2,\n oops}\n");
    const std::string m = message_of([&] { read_json_file(bad, "--cluster"); });
    CHECK(m == "--cluster " + bad + ": not valid JSON at line 3, column 2: found a word that is not a value where an object "
               "key should be (text needs double quotes; the literals are true, false and null)");
    CHECK(m.find('\n') == std::string::npos);
    CHECK(m.find("[json.exception") == std::string::npos);
    CHECK(message_of([&] { read_json_file(d.write("empty.json", ""), "--x"); })
              .find(": not valid JSON: the text is empty, expected a value") != std::string::npos);
    // The file's own errors come first: a missing file is not "not valid JSON".
    CHECK(message_of([&] { read_json_file((d.path / "none.json").string(), "--x"); }).find("cannot open the file") !=
          std::string::npos);
    CHECK(message_of([&] { parse_json_text("[1,", "--calibration c.json"); })
              .rfind("--calibration c.json: not valid JSON at line 1, column 4: the text ends where a value should be", 0) == 0);
    // nlohmann's parser stops at a NUL byte: without the scan, what follows one was ignored and
    // the file accepted (tests/bad_inputs/files/nul_inside.json).
    const std::string nul = std::string("{\"gpus\": 8}\n") + '\0' + "garbage";
    CHECK(message_of([&] { parse_json_text(nul, "--cluster c.json"); }) ==
          "--cluster c.json: not valid JSON at line 2, column 1: found a NUL byte (a binary file?)");
    CHECK(message_of([&] { parse_json_text(std::string("[\"a") + '\0' + "\"]", "x"); }) ==
          "x: not valid JSON at line 1, column 4: found a NUL byte (a binary file?)");
}

TEST_CASE("parse_json_text: nesting deeper than kMaxJsonDepth is refused before parsing", "[file][json][errors]") {
    CHECK(kMaxJsonDepth == 512);
    CHECK(parse_json_text(nested(kMaxJsonDepth), "x").is_array());
    CHECK(message_of([&] { parse_json_text(nested(kMaxJsonDepth + 1), "--law-file l.json"); }) ==
          "--law-file l.json: JSON nested deeper than 512 levels (line 1, column 513)");
    // 10^5 levels: refused at once (nlohmann's parser, destructor and dump never see it).
    CHECK(message_of([&] { parse_json_text(nested(100000), "x"); }) == "x: JSON nested deeper than 512 levels (line 1, column 513)");
    const std::string objects = "{\"a\":\n" + std::string(600, '{') + std::string(600, '}') + "}";
    CHECK(message_of([&] { parse_json_text(objects, "x"); }) == "x: JSON nested deeper than 512 levels (line 2, column 512)");
    // Brackets inside strings (escaped quotes included) do not count.
    const std::string in_string = "[\"\\\"" + std::string(1000, '[') + "\"]";
    CHECK(parse_json_text(in_string, "x")[0].get<std::string>().size() == 1001);
    const TempDir d;
    const std::string deep = d.write("deep.json", nested(100000));
    CHECK(message_of([&] { read_json_file(deep, "--cluster"); }) ==
          "--cluster " + deep + ": JSON nested deeper than 512 levels (line 1, column 513)");
}

TEST_CASE("every command reads its files through the one reader: one line, exit 2", "[file][cli][errors]") {
    const TempDir d;
    const std::string dir = d.path.string();
    const std::string missing = (d.path / "missing.json").string();
    const std::string fifo = d.fifo("pipe");
    const std::string deep = d.write("deep.json", nested(1000));
    const std::string bad = d.write("bad.json", "{\n  \"gpu\": h100\n}\n");
    // plan: --cluster, --calibration, --hf-config
    expect_one_line({"plan", "--model", "gpt2-124m", "--cluster", missing},
                    "--cluster " + missing + ": cannot open the file (No such file or directory)\n");
    expect_one_line({"plan", "--model", "gpt2-124m", "--cluster", bad},
                    "--cluster " + bad + ": not valid JSON at line 2, column 10: found a word that is not a value where a value should be");
    expect_one_line({"plan", "--model", "gpt2-124m", "--framework", "llmplan", "--calibration", fifo},
                    "--calibration " + fifo + ": is a FIFO, not a regular file\n");
    expect_one_line({"plan", "--hf-config", deep}, "--hf-config " + deep + ": JSON nested deeper than 512 levels (line 1, column 513)\n");
    // search: --cluster
    expect_one_line({"search", "--model", "gpt2-124m", "--gpus", "8", "--cluster", dir},
                    "--cluster " + dir + ": is a directory, not a file\n");
    // infer, models, profile calibrate: --hf-config / --out
    expect_one_line({"infer", "--hf-config", dir}, "--hf-config " + dir + ": the folder has no config.json\n");
    expect_one_line({"models", "--hf-config", missing}, "--hf-config " + missing + ": cannot open the file (No such file or directory)\n");
    expect_one_line({"profile", "calibrate", "--model", "gpt2-124m", "--out", dir}, "--out " + dir + ": is a directory, not a file\n");
    // scaling: --fit, --law-file
    expect_one_line({"scaling", "--fit", missing}, "--fit " + missing + ": cannot open the file (No such file or directory)\n");
    expect_one_line({"scaling", "--compute", "1e21", "--law-file", deep},
                    "--law-file " + deep + ": JSON nested deeper than 512 levels (line 1, column 513)\n");
    expect_one_line({"scaling", "--compute", "1e21", "--law-file", fifo}, "--law-file " + fifo + ": is a FIFO, not a regular file\n");
}

// ---- write_output_file -------------------------------------------------------------------------

namespace {

std::string read_all(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// The names in a folder, sorted (a leftover temporary would show here).
std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

// write_output_file's message, or "(written)".
std::string write_message(const std::string& path, const std::string& content) {
    try {
        write_output_file(path, content, "--report");
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "(written)";
}

// A character device like /dev/null (1, 3) or /dev/full (1, 7), made inside the test's folder;
// "" where mknod is not permitted (not root, or a container without CAP_MKNOD).
std::string device_node(const TempDir& d, const std::string& name, unsigned minor) {
    const fs::path p = d.path / name;
    if (::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, minor)) != 0) {
        WARN("SKIP: cannot make a device node here (" << std::strerror(errno) << ")");
        return "";
    }
    return p.string();
}

// Runs `f` in a child process and returns the text it returned. As root, the child first becomes
// user and group 65534 (nobody), so that permissions apply to it. `f` must not use Catch.
std::string in_child(const std::function<std::string()>& f, bool unprivileged) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string out;
        if (unprivileged && ::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
            out = "(cannot become nobody)";
        else
            out = f();
        [[maybe_unused]] const ssize_t n = ::write(fds[1], out.data(), out.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    return out;
}

}  // namespace

TEST_CASE("write_output_file: a regular file is replaced whole, nothing is left beside it", "[file][write]") {
    const TempDir d;
    const std::string fresh = (d.path / "r.json").string();
    write_output_file(fresh, "{\"a\": 1}\n", "--report");
    CHECK(read_all(fresh) == "{\"a\": 1}\n");
    CHECK(names_in(d.path) == std::vector<std::string>{"r.json"});
    // An existing file: new contents, its permission bits kept.
    REQUIRE(::chmod(fresh.c_str(), 0640) == 0);
    write_output_file(fresh, "second", "--report");
    CHECK(read_all(fresh) == "second");
    CHECK((fs::status(fresh).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    CHECK(names_in(d.path) == std::vector<std::string>{"r.json"});
    // A write that fails half-way (here: a file size limit) leaves the old file as it was and no
    // temporary; the message is one line.
    const std::string message = in_child(
        [&] {
            ::signal(SIGXFSZ, SIG_IGN);
            const rlimit limit{100, 100};
            ::setrlimit(RLIMIT_FSIZE, &limit);
            return write_message(fresh, std::string(1000, 'x'));
        },
        false);
    CHECK(message == "--report: cannot write \"" + fresh + "\": File too large");
    CHECK(read_all(fresh) == "second");
    CHECK(names_in(d.path) == std::vector<std::string>{"r.json"});
}

TEST_CASE("write_output_file: through a symbolic link the file is replaced and the link kept", "[file][write]") {
    const TempDir d;
    fs::create_directory(d.path / "sub");
    const std::string target = d.write("sub/t.json", "old");
    fs::create_symlink("sub/t.json", d.path / "l.json");
    fs::create_symlink("l.json", d.path / "ll.json");  // a chain of links
    write_output_file((d.path / "ll.json").string(), "new", "--report");
    CHECK(fs::is_symlink(d.path / "l.json"));
    CHECK(fs::is_symlink(d.path / "ll.json"));
    CHECK(fs::read_symlink(d.path / "l.json") == "sub/t.json");
    CHECK(read_all(target) == "new");
    CHECK(names_in(d.path) == std::vector<std::string>{"l.json", "ll.json", "sub"});
    CHECK(names_in(d.path / "sub") == std::vector<std::string>{"t.json"});
    // A link to nothing, and a link to a folder: refused, the link untouched.
    fs::create_symlink("missing.json", d.path / "dangling");
    const std::string dangling = (d.path / "dangling").string();
    CHECK(write_message(dangling, "x") == "--report: cannot write \"" + dangling + "\": it is a symbolic link to a file that does not exist");
    CHECK(fs::is_symlink(dangling));
    CHECK_FALSE(fs::exists(d.path / "missing.json"));
    fs::create_directory_symlink("sub", d.path / "to_dir");
    const std::string to_dir = (d.path / "to_dir").string();
    CHECK(write_message(to_dir, "x") == "--report: cannot write \"" + to_dir + "\": it is a directory");
    CHECK(fs::is_symlink(to_dir));
}

TEST_CASE("write_output_file: folders, missing folders and read-only places fail in one line", "[file][write][errors]") {
    const TempDir d;
    const std::string dir = d.path.string();
    CHECK(write_message(dir, "x") == "--report: cannot write \"" + dir + "\": it is a directory");
    CHECK(fs::is_directory(dir));
    const std::string nowhere = (d.path / "missing" / "r.json").string();
    CHECK(write_message(nowhere, "x") == "--report: cannot write \"" + nowhere + "\": No such file or directory");
    // A read-only folder and a read-only file, as an unprivileged user (as root: as user nobody).
    REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    fs::create_directory(d.path / "ro");
    REQUIRE(::chmod((d.path / "ro").c_str(), 0555) == 0);
    const std::string in_ro = (d.path / "ro" / "r.json").string();
    CHECK(in_child([&] { return write_message(in_ro, "x"); }, true) ==
          "--report: cannot write \"" + in_ro + "\": Permission denied");
    CHECK(names_in(d.path / "ro").empty());
    const std::string locked = d.write("locked.json", "keep");
    REQUIRE(::chmod(locked.c_str(), 0444) == 0);
    CHECK(in_child([&] { return write_message(locked, "x"); }, true) ==
          "--report: cannot write \"" + locked + "\": Permission denied");
    CHECK(read_all(locked) == "keep");
}

TEST_CASE("write_output_file: a name of NAME_MAX characters deep in folders", "[file][write]") {
    const TempDir d;
    fs::path deep = d.path;
    for (int i = 0; i < 12; ++i) deep /= std::string(200, static_cast<char>('a' + i));  // ~2.4 kB of path
    fs::create_directories(deep);
    const std::string longest(NAME_MAX, 'r');
    write_output_file((deep / longest).string(), "whole", "--report");
    CHECK(read_all(deep / longest) == "whole");
    write_output_file((deep / longest).string(), "again", "--report");  // and replaced
    CHECK(read_all(deep / longest) == "again");
    CHECK(names_in(deep) == std::vector<std::string>{longest});
    const std::string too_long = (deep / std::string(NAME_MAX + 1, 'r')).string();
    CHECK(write_message(too_long, "x") == "--report: cannot write \"" + too_long + "\": File name too long");
    CHECK(names_in(deep) == std::vector<std::string>{longest});
}

TEST_CASE("write_output_file: a FIFO is written in place to its reader", "[file][write]") {
    const TempDir d;
    const std::string fifo = d.fifo("pipe");
    std::string content(1 << 20, 'x');  // more than a pipe holds: the writer waits for the reader
    for (std::size_t i = 0; i < content.size(); i += 4096) content[i] = static_cast<char>('a' + i / 4096 % 26);
    std::string received;
    std::thread reader([&] {
        const int fd = ::open(fifo.c_str(), O_RDONLY);
        char buf[65536];
        for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) received.append(buf, static_cast<std::size_t>(n));
        ::close(fd);
    });
    write_output_file(fifo, content, "--report");
    reader.join();
    CHECK(received == content);
    struct stat st {};
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK(names_in(d.path) == std::vector<std::string>{"pipe"});
    // A reader that goes away: EPIPE, one line, and this process lives on (no SIGPIPE).
    std::thread quitter([&] { ::close(::open(fifo.c_str(), O_RDONLY)); });
    const std::string message = write_message(fifo, content);
    quitter.join();
    CHECK(message == "--report: cannot write \"" + fifo + "\": Broken pipe");
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("write_output_file: device nodes are written in place, never replaced", "[file][write]") {
    const TempDir d;
    const auto is_device = [](const std::string& p, unsigned minor) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, minor);
    };
    const std::string null_node = device_node(d, "null", 3);
    if (!null_node.empty()) {
        write_output_file(null_node, "discarded", "--report");
        CHECK(is_device(null_node, 3));
        const std::string full_node = device_node(d, "full", 7);
        CHECK(write_message(full_node, "no room") == "--report: cannot write \"" + full_node + "\": No space left on device");
        CHECK(is_device(full_node, 7));
        CHECK(names_in(d.path) == std::vector<std::string>{"full", "null"});
    }
}

TEST_CASE("write_output_file: this process's standard output is written through its descriptor", "[file][write]") {
    const TempDir d;
    const fs::path out = d.path / "out.txt";
    fs::create_symlink("/proc/self/fd/1", d.path / "stdout");  // as /dev/stdout is
    const std::string message = in_child(
        [&] {
            const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || ::dup2(fd, STDOUT_FILENO) < 0) return std::string("(cannot redirect)");
            [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, "before ", 7);
            const std::string m = write_message((d.path / "stdout").string(), "report ");
            n = ::write(STDOUT_FILENO, "after", 5);
            return m;
        },
        false);
    CHECK(message == "(written)");
    CHECK(read_all(out) == "before report after");  // not replaced by the report alone
    CHECK(fs::is_symlink(d.path / "stdout"));
}

TEST_CASE("plan and infer reporting to a folder or a full device: exit 1, one line, nothing replaced", "[file][write][cli]") {
    const TempDir d;
    const std::string dir = d.path.string();
    const CliResult r = run_cli({"plan", "--model", "gpt2-124m", "--report", dir});
    CHECK(r.code == 1);
    CHECK(r.err == "llmplan plan: error: --report: cannot write \"" + dir + "\": it is a directory\n");
    const std::string full_node = device_node(d, "full", 7);
    if (!full_node.empty()) {
        const CliResult f = run_cli({"infer", "--model", "gpt2-124m", "--report", full_node});
        CHECK(f.code == 1);
        CHECK(f.err == "llmplan infer: error: --report: cannot write \"" + full_node + "\": No space left on device\n");
    }
}
