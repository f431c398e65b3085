// test_file.cpp — core/file.h: the one file reader and its one error policy, every failure mode,
// the JSON depth limit; and the reader reached through each command (cli::run).
#include "cli/app.h"
#include "cli_run.h"
#include "core/error.h"
#include "core/file.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
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
    CHECK(m.rfind("--cluster " + bad + ": not valid JSON (parse error at line 3, column 2: syntax error", 0) == 0);
    CHECK(m.find('\n') == std::string::npos);
    CHECK(m.find("[json.exception") == std::string::npos);
    CHECK(message_of([&] { read_json_file(d.write("empty.json", ""), "--x"); })
              .find(": not valid JSON (parse error at line 1, column 1: ") != std::string::npos);
    // The file's own errors come first: a missing file is not "not valid JSON".
    CHECK(message_of([&] { read_json_file((d.path / "none.json").string(), "--x"); }).find("cannot open the file") !=
          std::string::npos);
    CHECK(message_of([&] { parse_json_text("[1,", "--calibration c.json"); })
              .rfind("--calibration c.json: not valid JSON (parse error at line 1, column 4: ", 0) == 0);
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
                    "--cluster " + bad + ": not valid JSON (parse error at line 2, column 10: ");
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
