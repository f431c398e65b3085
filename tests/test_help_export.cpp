// Man pages and bash completion written from the CLI11 definition (cli/help_export.h), and
// `llmplan --version` (core/build_info.h).
#include "cli/help_export.h"
#include "cli_run.h"
#include "core/build_info.h"
#include "core/gpu.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <unistd.h>

using llmplan::test::run_cli;
namespace cli = llmplan::cli;

namespace {

// A small app with every shape the generators handle: a tagged flag, a file flag, a plain value,
// a switch, a tagged positional, a nested command, and texts that need roff escapes.
struct Toy {
    CLI::App app{"llmplan — what a toy does.", "llmplan"};
    std::string gpu = "h100-sxm", file, n, name;
    bool json = false;
    Toy() {
        CLI::App* run = app.add_subcommand("run", "Run the toy");
        run->add_option("--gpu", gpu, "GPU type")->capture_default_str()->type_name("NAME")->check(cli::values_of(cli::ValueSet::recompute));
        run->add_option("--cluster", file, ".dot first, then a back\\slash")->type_name("FILE");
        run->add_option("-n,--count", n, "How many")->type_name("N");
        run->add_flag("--json", json, "Print JSON");
        run->footer("Examples:\n  llmplan run --gpu h100-sxm");
        CLI::App* deep = run->add_subcommand("deep", "Deeper");
        deep->add_option("name", name, "A preset")->type_name("NAME")->check(cli::values_of(cli::ValueSet::attention));
    }
};

}  // namespace

TEST_CASE("llmplan --version: the project version and, from a git checkout, the commit", "[cli][install]") {
    const auto r = run_cli({"--version"});
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == std::string("llmplan ") + llmplan::build_version() + "\n");
    std::string version = LLMPLAN_PROJECT_VERSION;  // CMakeLists.txt's project(VERSION)
    for (std::size_t at = version.find('.'); at != std::string::npos; at = version.find('.', at + 2)) version.insert(at, "\\");
    CHECK(std::regex_match(r.out, std::regex("llmplan " + version + "( \\(git [0-9a-f]{7,}(-dirty)?\\))?\n")));
}

TEST_CASE("a value-set tag checks nothing and names its words", "[cli][install]") {
    Toy t;
    // The flag's own parser checks later and names the flag: CLI11 takes any text.
    REQUIRE_NOTHROW(t.app.parse(std::vector<std::string>{"nope", "--gpu", "run"}));
    CHECK(t.gpu == "nope");
    const CLI::Option* gpu = t.app.get_subcommand("run")->get_option("--gpu");
    CHECK(cli::value_words(*gpu) == std::vector<std::string>{"none", "selective", "full"});
    CHECK(cli::value_words(*t.app.get_subcommand("run")->get_option("--count")).empty());
    CLI::App a;
    std::string g;
    CLI::Option* o = a.add_option("--gpu", g)->check(cli::values_of(cli::ValueSet::gpu));
    const std::vector<std::string> words = cli::value_words(*o);
    REQUIRE(words.size() == llmplan::gpu_catalog().size());
    CHECK(words.front() == "v100-32g");
    CHECK(std::find(words.begin(), words.end(), "h100-sxm") != words.end());
    std::string h;
    const CLI::Option* plain = a.add_option("--plain", h);
    CHECK(o->get_type_name() == plain->get_type_name());  // the tag adds nothing to --help's type column
    CHECK(o->get_type_name() == "TEXT");
}

TEST_CASE("man pages: one per command, roff from the definition", "[cli][install]") {
    Toy t;
    const auto pages = cli::man_pages(t.app, "9.9.9");
    REQUIRE(pages.size() == 3);
    REQUIRE(pages.count("llmplan.1") == 1);
    REQUIRE(pages.count("llmplan-run-deep.1") == 1);
    CHECK(pages.at("llmplan-run.1") ==
          ".\\\" Generated from llmplan's command-line definition (llmplan --help-man); do not edit.\n"
          ".TH LLMPLAN\\-RUN 1 \"\" \"llmplan 9.9.9\" \"llmplan manual\"\n"
          ".nh\n"
          ".SH NAME\n"
          "llmplan\\-run \\- Run the toy\n"
          ".SH SYNOPSIS\n"
          ".B llmplan run\n"
          "[\\fIOPTIONS\\fR]\n"
          "[\\fICOMMAND\\fR [\\fIOPTIONS\\fR]]\n"
          ".SH DESCRIPTION\n"
          "Run the toy\n"
          ".SH COMMANDS\n"
          ".TP\n"
          "\\fBdeep\\fR\n"
          "Deeper\n"
          ".br\n"
          "See \\fBllmplan\\-run\\-deep\\fR(1).\n"
          ".SH OPTIONS\n"
          ".TP\n"
          "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
          "Print this help message and exit\n"
          ".TP\n"
          "\\fB\\-\\-gpu\\fR \\fINAME\\fR\n"
          "GPU type (default: h100-sxm)\n"
          ".br\n"
          "Values: none, selective, full.\n"
          ".TP\n"
          "\\fB\\-\\-cluster\\fR \\fIFILE\\fR\n"
          "\\&.dot first, then a back\\eslash\n"
          ".TP\n"
          "\\fB\\-n\\fR, \\fB\\-\\-count\\fR \\fIN\\fR\n"
          "How many\n"
          ".TP\n"
          "\\fB\\-\\-json\\fR\n"
          "Print JSON\n"
          ".SH NOTES\n"
          ".nf\n"
          "Examples:\n"
          "  llmplan run --gpu h100-sxm\n"
          ".fi\n"
          ".SH SEE ALSO\n"
          "\\fBllmplan\\fR(1),\n"
          "\\fBllmplan\\-run\\-deep\\fR(1)\n");
    const std::string& top = pages.at("llmplan.1");
    CHECK(top.find(".SH NAME\nllmplan \\- what a toy does.\n") != std::string::npos);  // "llmplan — " dropped
    const std::string& deep = pages.at("llmplan-run-deep.1");
    CHECK(deep.find(".B llmplan run deep\n[\\fIOPTIONS\\fR]\n[\\fIname\\fR]\n") != std::string::npos);
    CHECK(deep.find(".SH ARGUMENTS\n.TP\n\\fIname\\fR\nA preset\n.br\nValues: flash, eager.\n") != std::string::npos);
    CHECK(deep.find(".SH SEE ALSO\n\\fBllmplan\\-run\\fR(1)\n") != std::string::npos);
}

TEST_CASE("llmplan --help-man DIR writes every command's page, and bad use is one line", "[cli][install]") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("llmplan_man_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto r = run_cli({"--help-man", dir.string(), "--bash-completion", (dir / "completion").string()});
    CHECK(r.code == 0);
    CHECK(r.out.empty());
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"completion", "llmplan-gpus.1", "llmplan-infer.1", "llmplan-models.1",
                                            "llmplan-plan.1", "llmplan-profile-calibrate.1", "llmplan-profile-comm.1",
                                            "llmplan-profile.1", "llmplan-scaling.1", "llmplan-search.1", "llmplan.1"});
    std::filesystem::remove_all(dir);

    const auto extra = run_cli({"--help-man", "/tmp", "plan"});
    CHECK(extra.code == 2);
    CHECK(extra.err == "llmplan: error: \"plan\": --help-man DIR and --bash-completion FILE take nothing else\n");
    const auto missing = run_cli({"--bash-completion"});
    CHECK(missing.code == 2);
    CHECK(missing.err == "llmplan: error: --bash-completion needs a value\n");
    // Not listed by --help.
    CHECK(run_cli({"--help"}).out.find("help-man") == std::string::npos);
}

TEST_CASE("bash completion: commands, flags and value sets from the definition", "[cli][install]") {
    Toy t;
    const std::string s = cli::bash_completion(t.app);
    CHECK(s.find("            '|run') path='run' ;;\n            'run|deep') path='run deep' ;;\n") != std::string::npos);
    CHECK(s.find("        'run|--gpu')\n            COMPREPLY=($(compgen -W 'none selective full' -- \"$cur\")); return 0 ;;\n") !=
          std::string::npos);
    CHECK(s.find("        'run|--cluster')\n            compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n") !=
          std::string::npos);
    CHECK(s.find("        'run|--count'|'run|-n')\n            COMPREPLY=(); return 0 ;;\n") != std::string::npos);
    CHECK(s.find("        'run') flags='--help --gpu --cluster --count --json'; words='deep' ;;\n") != std::string::npos);
    CHECK(s.find("        'run deep') flags='--help'; words='flash eager' ;;\n") != std::string::npos);
    CHECK(s.find("--json')") == std::string::npos);  // a switch takes no value
    CHECK(s.substr(s.size() - 29) == "complete -F _llmplan llmplan\n");
}
