// test_model_source.cpp — what a user names as a model (core/model_source.h): presets, ORG/NAME
// from a fake Hugging Face hub cache built in a temporary folder (refs/main, several snapshots,
// config.json linked into ../../blobs as the real cache does), huggingface_hub's environment
// precedence for the hub folder, the one-line errors, and --hf-config folders; then the same
// through every CLI front end that takes a model.
//
// The expected hub folders below were computed by Python 3.13's os.path.expanduser, expandvars and
// join running the HF_HOME / HUGGINGFACE_HUB_CACHE / HF_HUB_CACHE expressions of huggingface_hub's
// constants.py (docs/REFERENCES.md §9) under the same environments.
#include "core/model_source.h"

#include "cli_run.h"
#include "core/error.h"
#include "core/hf_config.h"
#include "core/model.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <pwd.h>
#include <unistd.h>

using namespace llmplan;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& file) { return std::string(LLMPLAN_TEST_DATA) + "/hf/" + file; }

// Sets environment variables for one test and puts every one it touched back afterwards. The
// Hugging Face variables start unset, and HOME is /home/u unless a test says otherwise.
class Env {
public:
    Env() {
        for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME"}) unset(name);
        set("HOME", "/home/u");
    }
    ~Env() {
        for (const auto& [name, value] : saved_) {
            if (value) ::setenv(name.c_str(), value->c_str(), 1);
            else ::unsetenv(name.c_str());
        }
    }
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;
    void set(const std::string& name, const std::string& value) {
        save(name);
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    void unset(const std::string& name) {
        save(name);
        ::unsetenv(name.c_str());
    }

private:
    void save(const std::string& name) {
        if (saved_.count(name)) return;
        const char* v = std::getenv(name.c_str());
        saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A hub cache in a fresh temporary folder, laid out as huggingface_hub writes it:
//   hub/models--TinyLlama--TinyLlama-1.1B/blobs/{tiny,l2}
//   hub/models--TinyLlama--TinyLlama-1.1B/snapshots/aaaa1111/config.json -> ../../blobs/tiny  (2 h old)
//   hub/models--TinyLlama--TinyLlama-1.1B/snapshots/bbbb2222/config.json -> ../../blobs/l2    (1 h old)
//   hub/models--TinyLlama--TinyLlama-1.1B/snapshots/cccc3333/tokenizer.json                  (newest, no config)
//   hub/models--TinyLlama--TinyLlama-1.1B/snapshots/dddd4444/config.json -> ../../blobs/gone  (newest, dangling)
// The two configs are the real TinyLlama 1.1B and Llama 2 7B config.json files (tests/data/hf/),
// two revisions that differ so that each test sees which one was read. refs/main is written by
// each test.
struct FakeCache {
    fs::path root = fs::temp_directory_path() / ("llmplan_model_source_" + std::to_string(::getpid()));
    fs::path hub = root / "hub";
    fs::path repo = hub / "models--TinyLlama--TinyLlama-1.1B";
    fs::path snapshots = repo / "snapshots";
    fs::file_time_type now = fs::file_time_type::clock::now();

    FakeCache() {
        fs::remove_all(root);
        write(repo / "blobs/tiny", read(fixture("tinyllama-1.1b.json")));
        write(repo / "blobs/l2", read(fixture("llama-2-7b.json")));
        for (const char* rev : {"aaaa1111", "bbbb2222", "cccc3333", "dddd4444"}) fs::create_directories(snapshots / rev);
        fs::create_symlink("../../blobs/tiny", snapshots / "aaaa1111/config.json");
        fs::create_symlink("../../blobs/l2", snapshots / "bbbb2222/config.json");
        write(snapshots / "cccc3333/tokenizer.json", "{}");
        fs::create_symlink("../../blobs/gone", snapshots / "dddd4444/config.json");
        age("aaaa1111", std::chrono::hours(2));
        age("bbbb2222", std::chrono::hours(1));
        age("cccc3333", std::chrono::minutes(1));
        age("dddd4444", std::chrono::minutes(0));
    }
    ~FakeCache() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }
    FakeCache(const FakeCache&) = delete;
    FakeCache& operator=(const FakeCache&) = delete;

    // Sets a snapshot folder's modification time to `ago` before `now`.
    void age(const std::string& revision, fs::file_time_type::duration ago) {
        fs::last_write_time(snapshots / revision, now - ago);
    }
    void ref(const std::string& text) { write(repo / "refs/main", text); }
    std::string config(const std::string& revision) const { return (snapshots / revision / "config.json").string(); }
};

constexpr std::int64_t kTinyLlamaParams = 1'100'048'384;  // docs/REFERENCES.md §6
constexpr std::int64_t kLlama2Params = 6'738'415'616;     // docs/REFERENCES.md §6

std::string not_found(const std::string& flag, const std::string& id, const std::string& looked_in) {
    return flag + " " + id + ": not a preset and not in the Hugging Face cache (looked in " + looked_in +
           "); fetch its config with: hf download " + id + " config.json";
}

}  // namespace

TEST_CASE("hub folder: huggingface_hub's order HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME, ~",
          "[model_source]") {
    Env env;
    CHECK(hf_hub_cache_dir() == "/home/u/.cache/huggingface/hub");
    env.set("XDG_CACHE_HOME", "/xdg");
    CHECK(hf_hub_cache_dir() == "/xdg/huggingface/hub");
    env.set("HF_HOME", "/hf");
    CHECK(hf_hub_cache_dir() == "/hf/hub");
    env.set("HUGGINGFACE_HUB_CACHE", "/legacy");
    CHECK(hf_hub_cache_dir() == "/legacy");
    env.set("HF_HUB_CACHE", "/new");
    CHECK(hf_hub_cache_dir() == "/new");
    // Each one alone.
    env.unset("HF_HUB_CACHE");
    env.unset("HF_HOME");
    env.unset("XDG_CACHE_HOME");
    CHECK(hf_hub_cache_dir() == "/legacy");
    env.unset("HUGGINGFACE_HUB_CACHE");
    env.set("HF_HOME", "/hf");
    CHECK(hf_hub_cache_dir() == "/hf/hub");
    // A variable set to "" counts as set (os.getenv returns ""), and os.path.join("", "hub") is "hub".
    env.set("HF_HOME", "");
    CHECK(hf_hub_cache_dir() == "hub");
    env.unset("HF_HOME");
    env.set("XDG_CACHE_HOME", "");
    CHECK(hf_hub_cache_dir() == "huggingface/hub");
    env.unset("XDG_CACHE_HOME");
    env.set("HF_HOME", "/h/");
    CHECK(hf_hub_cache_dir() == "/h/hub");
}

TEST_CASE("hub folder: ~ and $VARS expanded as Python's os.path does", "[model_source]") {
    Env env;
    env.set("HOME", "/home/u/");
    env.set("HF_HOME", "~/hf");
    CHECK(hf_hub_cache_dir() == "/home/u/hf/hub");
    env.set("HOME", "/home/u");
    env.set("HF_HOME", "~");
    CHECK(hf_hub_cache_dir() == "/home/u/hub");
    env.set("HF_HOME", "~root/hf");
    CHECK(hf_hub_cache_dir() == std::string(::getpwnam("root")->pw_dir) + "/hf/hub");
    env.set("HF_HOME", "~nosuchuser_llmplan/hf");  // an unknown user: left as it is
    CHECK(hf_hub_cache_dir() == "~nosuchuser_llmplan/hf/hub");
    env.set("HOME", "");  // HOME set but empty: "~" is "/"
    env.set("HF_HOME", "~");
    CHECK(hf_hub_cache_dir() == "/hub");
    env.set("HF_HOME", "~/x");
    CHECK(hf_hub_cache_dir() == "/x/hub");
    env.set("HOME", "/home/u");
    env.unset("HF_HOME");
    env.set("XDG_CACHE_HOME", "~/xc");
    CHECK(hf_hub_cache_dir() == "/home/u/xc/huggingface/hub");
    env.unset("XDG_CACHE_HOME");
    env.set("HUGGINGFACE_HUB_CACHE", "~/legacy");
    CHECK(hf_hub_cache_dir() == "/home/u/legacy");
    env.unset("HUGGINGFACE_HUB_CACHE");

    env.set("LLMPLAN_T_ROOT", "/data");
    env.unset("LLMPLAN_T_UNSET");
    env.set("HF_HUB_CACHE", "$LLMPLAN_T_ROOT/cache");
    CHECK(hf_hub_cache_dir() == "/data/cache");
    env.set("HF_HUB_CACHE", "${LLMPLAN_T_ROOT}x/$LLMPLAN_T_UNSET/${LLMPLAN_T_UNSET}/a$/b${LLMPLAN_T_ROOT");
    CHECK(hf_hub_cache_dir() == "/datax/$LLMPLAN_T_UNSET/${LLMPLAN_T_UNSET}/a$/b${LLMPLAN_T_ROOT");
    env.unset("HF_HUB_CACHE");
    env.set("HF_HOME", "$LLMPLAN_T_ROOT$LLMPLAN_T_ROOT/${}x");
    CHECK(hf_hub_cache_dir() == "/data/data/${}x/hub");
    // A value put in is not scanned again, but HF_HOME's hub folder is expanded twice (once as
    // HF_HOME, once as HF_HUB_CACHE's default), so one level of indirection goes through there.
    env.set("LLMPLAN_T_A", "$LLMPLAN_T_B");
    env.set("LLMPLAN_T_B", "/b");
    env.set("HF_HOME", "$LLMPLAN_T_A");
    CHECK(hf_hub_cache_dir() == "/b/hub");
    env.set("HF_HUB_CACHE", "$LLMPLAN_T_A");
    CHECK(hf_hub_cache_dir() == "$LLMPLAN_T_B");
}

TEST_CASE("ORG/NAME: the snapshot refs/main names, else the newest holding config.json", "[model_source]") {
    Env env;
    FakeCache cache;
    env.set("HF_HUB_CACHE", cache.hub.string());

    SECTION("refs/main names an older snapshot: that one, its config.json followed into blobs") {
        cache.ref("aaaa1111");  // as huggingface_hub writes it, no newline
        const CachedConfig c = find_cached_hf_config("TinyLlama/TinyLlama-1.1B", "--model");
        CHECK(c.revision == "aaaa1111");
        CHECK(c.path == cache.config("aaaa1111"));
        const NamedModel m = model_from_name("TinyLlama/TinyLlama-1.1B", "--model");
        CHECK(m.spec.name == "TinyLlama/TinyLlama-1.1B");
        CHECK(m.spec.family == "llama");
        CHECK(m.preset == nullptr);
        CHECK(m.file == cache.config("aaaa1111"));
        CHECK(m.origin == "Hugging Face cache " + cache.config("aaaa1111"));
        CHECK(count_params(m.spec).total() == kTinyLlamaParams);
        ModelSpec direct = model_from_hf_config_file(fixture("tinyllama-1.1b.json"), "--hf-config");
        direct.name = m.spec.name;
        CHECK(m.spec == direct);
    }
    SECTION("a hand-written refs/main with a newline") {
        cache.ref("aaaa1111\n");
        CHECK(find_cached_hf_config("TinyLlama/TinyLlama-1.1B", "--model").revision == "aaaa1111");
    }
    SECTION("no refs/main: the newest snapshot with config.json (not cccc3333, not the dangling dddd4444)") {
        const NamedModel m = model_from_name("TinyLlama/TinyLlama-1.1B", "--model");
        CHECK(m.file == cache.config("bbbb2222"));
        // The config's own "_name_or_path" (meta-llama/Llama-2-7b-hf) does not rename it.
        CHECK(m.spec.name == "TinyLlama/TinyLlama-1.1B");
        CHECK(count_params(m.spec).total() == kLlama2Params);
    }
    SECTION("refs/main names a snapshot without config.json, a dangling one, one not there, or a path") {
        for (const char* ref : {"cccc3333", "dddd4444", "eeee5555", "../../blobs", "aaaa1111/../bbbb2222", ""}) {
            cache.ref(ref);
            CHECK(find_cached_hf_config("TinyLlama/TinyLlama-1.1B", "--model").revision == "bbbb2222");
        }
    }
    SECTION("equal modification times: the greatest name") {
        fs::create_directories(cache.snapshots / "abab0000");
        fs::create_symlink("../../blobs/tiny", cache.snapshots / "abab0000/config.json");
        cache.age("abab0000", std::chrono::hours(1));
        cache.age("bbbb2222", std::chrono::hours(1));
        CHECK(find_cached_hf_config("TinyLlama/TinyLlama-1.1B", "--model").revision == "bbbb2222");
        cache.age("abab0000", std::chrono::minutes(30));
        CHECK(find_cached_hf_config("TinyLlama/TinyLlama-1.1B", "--model").revision == "abab0000");
    }
    SECTION("the repo found through HF_HOME, XDG_CACHE_HOME and HOME as well") {
        env.unset("HF_HUB_CACHE");
        const fs::path home = cache.root / "home";
        fs::create_directories(home / ".cache/huggingface");
        fs::create_directory_symlink(cache.hub, home / ".cache/huggingface/hub");
        env.set("HOME", home.string());
        const std::string expected = (home / ".cache/huggingface/hub/models--TinyLlama--TinyLlama-1.1B/snapshots/bbbb2222/config.json").string();
        CHECK(model_from_name("TinyLlama/TinyLlama-1.1B", "--model").file == expected);
        env.set("XDG_CACHE_HOME", (home / ".cache").string());
        env.set("HOME", "/nonexistent");
        CHECK(model_from_name("TinyLlama/TinyLlama-1.1B", "--model").file == expected);
        env.set("HF_HOME", (home / ".cache/huggingface").string());
        env.set("XDG_CACHE_HOME", "/nonexistent");
        CHECK(model_from_name("TinyLlama/TinyLlama-1.1B", "--model").file == expected);
    }
}

TEST_CASE("the models of the hub cache: every models--ORG--NAME with a snapshot holding config.json", "[model_source]") {
    Env env;
    FakeCache cache;
    env.set("HF_HUB_CACHE", cache.hub.string());
    CHECK(cached_hf_model_ids() == std::vector<std::string>{"TinyLlama/TinyLlama-1.1B"});
    // Another model (listed in order), one whose only snapshot lacks config.json, a dataset, a
    // folder name that is no valid id, a stray file: only the model joins the list.
    write(cache.hub / "models--Qwen--Qwen3-0.6B/snapshots/ffff/config.json", read(fixture("llama-2-7b.json")));
    fs::create_directories(cache.hub / "models--gpt2--gpt2/snapshots/eeee");
    write(cache.hub / "models--gpt2--gpt2/snapshots/eeee/tokenizer.json", "{}");
    write(cache.hub / "datasets--org--set/snapshots/1111/config.json", "{}");
    write(cache.hub / "models--bad..id--x/snapshots/2222/config.json", "{}");
    write(cache.hub / "models--stray", "not a folder");
    CHECK(cached_hf_model_ids() == std::vector<std::string>{"Qwen/Qwen3-0.6B", "TinyLlama/TinyLlama-1.1B"});
    // No hub folder at all: nothing, no error.
    env.set("HF_HUB_CACHE", (cache.root / "nowhere").string());
    CHECK(cached_hf_model_ids().empty());
}

TEST_CASE("ORG/NAME not in the cache: one line with the folder looked in and the command to fetch it",
          "[model_source][errors]") {
    Env env;
    CHECK_THROWS_WITH(model_from_name("Qwen/QwQ-32B", "--model"),
                      not_found("--model", "Qwen/QwQ-32B", "/home/u/.cache/huggingface/hub/models--Qwen--QwQ-32B"));
    CHECK_THROWS_WITH(
        model_from_name("Qwen/QwQ-32B", "models"),
        "models Qwen/QwQ-32B: not a preset and not in the Hugging Face cache (looked in "
        "/home/u/.cache/huggingface/hub/models--Qwen--QwQ-32B); fetch its config with: hf download Qwen/QwQ-32B config.json");

    FakeCache cache;
    env.set("HF_HUB_CACHE", cache.hub.string());
    CHECK_THROWS_WITH(model_from_name("Qwen/QwQ-32B", "--model"),
                      not_found("--model", "Qwen/QwQ-32B", (cache.hub / "models--Qwen--QwQ-32B").string()));
    // The repo is there but no snapshot holds config.json (only tokenizer files were fetched).
    fs::create_directories(cache.hub / "models--Qwen--QwQ-32B/snapshots/abc");
    write(cache.hub / "models--Qwen--QwQ-32B/snapshots/abc/tokenizer.json", "{}");
    CHECK_THROWS_WITH(model_from_name("Qwen/QwQ-32B", "--model"),
                      not_found("--model", "Qwen/QwQ-32B",
                                (cache.hub / "models--Qwen--QwQ-32B/snapshots").string() +
                                    ": no snapshot holds config.json"));
    // The cache is matched as huggingface_hub writes it: case matters (so this id is not found
    // there, and it names a preset: that is taken, and the origin says why).
    const NamedModel lower = model_from_name("tinyllama/tinyllama-1.1b", "--model");
    CHECK(lower.origin == "preset tinyllama-1.1b (tinyllama/tinyllama-1.1b is not in the Hugging Face cache)");
    CHECK(lower.file.empty());
    // An id not in the cache that llmplan has as a preset: the preset read from that repository's
    // config.json, or the one its NAME names.
    const NamedModel qwen = model_from_name("Qwen/Qwen3-8B", "--model");
    REQUIRE(qwen.preset);
    CHECK(qwen.preset->name == "qwen3-8b");
    CHECK(qwen.origin == "preset qwen3-8b (Qwen/Qwen3-8B is not in the Hugging Face cache)");
    CHECK(model_from_name("meta-llama/Meta-Llama-3-70B-Instruct", "--model").preset->name == "llama-3-70b");
    CHECK_THROWS_WITH(model_from_name("mistralai/Mistral-7B-Instruct-v0.3", "--model"),
                      Catch::StartsWith("--model mistralai/Mistral-7B-Instruct-v0.3: not a preset and not in the Hugging Face cache"));
}

TEST_CASE("a config in the cache that does not parse: the flag, the id and the file", "[model_source][errors]") {
    Env env;
    FakeCache cache;
    env.set("HF_HUB_CACHE", cache.hub.string());
    const fs::path cfg = cache.hub / "models--google-bert--bert-base-uncased/snapshots/86b5e0934494bd15c9632b12f734a8a67f723594/config.json";
    write(cfg, R"({"model_type": "bert", "hidden_size": 768})");
    CHECK_THROWS_WITH(model_from_name("google-bert/bert-base-uncased", "--model"),
                      Catch::StartsWith("--model google-bert/bert-base-uncased " + cfg.string() +
                                        ": unsupported model_type \"bert\" ("));
    write(cfg, "{oops");
    CHECK_THROWS_WITH(model_from_name("google-bert/bert-base-uncased", "--model"),
                      Catch::StartsWith("--model google-bert/bert-base-uncased " + cfg.string() + ": not valid JSON at line 1, column 2: "));
}

TEST_CASE("malformed ORG/NAME: one line, never a path outside the hub folder", "[model_source][errors]") {
    Env env;
    const std::string head = "not a preset, nor a Hugging Face model id ORG/NAME";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"a/b/c", "more than one \"/\""},
        {"../../etc/passwd", "more than one \"/\""},
        {"Qwen/", "the name is empty"},
        {"/Qwen3-8B", "the organization is empty"},
        {"/", "the organization is empty"},
        {"../x", "\"--\" and \"..\" may not appear"},
        {"Qwen/..", "\"--\" and \"..\" may not appear"},
        {"Qwen/Qwen3..8B", "\"--\" and \"..\" may not appear"},
        {"a--b/c", "\"--\" and \"..\" may not appear"},
        {"Qwen/Qwen 3", "only letters, digits, \"-\", \"_\" and \".\" may appear"},
        {"Qwen/Qwen3\n8B", "only letters, digits, \"-\", \"_\" and \".\" may appear"},
        {"Qwen/Qwen3~8B", "only letters, digits, \"-\", \"_\" and \".\" may appear"},
        {"Qwen\\x/y", "only letters, digits, \"-\", \"_\" and \".\" may appear"},
        {"Qwen/Qwën3", "only letters, digits, \"-\", \"_\" and \".\" may appear"},
        {"./x", "the organization and the name start and end with a letter, a digit or \"_\""},
        {"Qwen/-x", "the organization and the name start and end with a letter, a digit or \"_\""},
        {"Qwen/x.", "the organization and the name start and end with a letter, a digit or \"_\""},
        {"-Qwen/x", "the organization and the name start and end with a letter, a digit or \"_\""},
        {"Qwen/" + std::string(97, 'a'), "the name is longer than 96 characters"},
        {"Qwen/model.git", "the name ends in \".git\""},
    };
    for (const auto& [id, reason] : cases) {
        const std::string quoted = nlohmann::json(id).dump();
        CHECK_THROWS_WITH(model_from_name(id, "--model"), "--model " + quoted + ": " + head + " (" + reason + ")");
    }
    CHECK_THROWS_WITH(model_from_name("Qwen/Qwen3\n8B", "--model"),
                      "--model \"Qwen/Qwen3\\n8B\": " + head + " (only letters, digits, \"-\", \"_\" and \".\" may appear)");
    CHECK_THROWS_WITH(check_hf_model_id("gpt2", "--model"),
                      "--model \"gpt2\": " + head + " (no \"/\" between ORG and NAME)");
    // Valid ids at the edges of the rules pass the check (and then are looked up).
    for (const std::string& id : std::vector<std::string>{"a/b", "_x/y_", "Org.A/N-1_2.3", "Qwen/" + std::string(96, 'a'), "a.git/b"})
        CHECK_NOTHROW(check_hf_model_id(id, "--model"));
}

TEST_CASE("names without a slash are presets, unknown ones get a suggestion and the other ways",
          "[model_source][errors]") {
    Env env;
    const NamedModel m = model_from_name("Llama-2-7B", "--model");
    REQUIRE(m.preset != nullptr);
    CHECK(m.preset->name == "llama-2-7b");
    CHECK(m.spec.name == "llama-2-7b");
    CHECK(m.origin == "preset Llama-2-7B");
    CHECK(m.file.empty());
    CHECK(count_params(m.spec).total() == kLlama2Params);
    CHECK_THROWS_WITH(model_from_name("llama-2-8b", "--model"),
                      "--model: unknown model \"llama-2-8b\" (did you mean \"llama-2-7b\"? `llmplan models` lists the "
                      "presets; a Hugging Face ORG/NAME in the local cache, or --hf-config PATH, works too)");
    CHECK_THROWS_WITH(model_from_name("Grok-1", "--model"),
                      "--model: unknown model \"Grok-1\" (`llmplan models` lists the presets; a Hugging Face "
                      "ORG/NAME in the local cache, or --hf-config PATH, works too)");
}

TEST_CASE("hf-config paths: a file, or a folder holding config.json", "[model_source]") {
    FakeCache cache;
    const std::string snapshot = (cache.snapshots / "aaaa1111").string();

    const NamedModel dir = model_from_hf_path(snapshot, "--hf-config");
    CHECK(dir.file == snapshot + "/config.json");
    CHECK(dir.origin == "--hf-config " + snapshot);
    CHECK(dir.preset == nullptr);
    CHECK(dir.spec.name == "hf:llama");  // a config without "_name_or_path" keeps hf:<model_type>
    CHECK(count_params(dir.spec).total() == kTinyLlamaParams);
    CHECK(model_from_hf_path(snapshot + "/", "--hf-config").file == snapshot + "/config.json");

    const NamedModel file = model_from_hf_path(fixture("llama-2-7b.json"), "--hf-config");
    CHECK(file.file == fixture("llama-2-7b.json"));
    CHECK(file.origin == "--hf-config " + fixture("llama-2-7b.json"));
    CHECK(file.spec.name == "hf:meta-llama/Llama-2-7b-hf");
    CHECK(count_params(file.spec).total() == kLlama2Params);

    const std::string empty = (cache.snapshots / "cccc3333").string();
    CHECK_THROWS_WITH(model_from_hf_path(empty, "--hf-config"), "--hf-config " + empty + ": the folder has no config.json");
    const std::string dangling = (cache.snapshots / "dddd4444").string();
    CHECK_THROWS_WITH(model_from_hf_path(dangling, "--hf-config"),
                      "--hf-config " + dangling + ": the folder has no config.json");
    const std::string missing = (cache.root / "nowhere").string();
    CHECK_THROWS_WITH(model_from_hf_path(missing, "--hf-config"),
                      "--hf-config " + missing + ": cannot open the file (No such file or directory)");
}

TEST_CASE("every CLI front end that takes a model takes ORG/NAME and --hf-config folders", "[model_source][cli]") {
    Env env;
    FakeCache cache;
    cache.ref("aaaa1111");
    env.set("HF_HUB_CACHE", cache.hub.string());
    const std::string id = "TinyLlama/TinyLlama-1.1B";
    const std::string cfg = cache.config("aaaa1111");

    const test::CliResult plan = test::run_cli({"plan", "--model", id, "--gpus", "1", "--json"});
    REQUIRE(plan.code == 0);
    const nlohmann::json p = nlohmann::json::parse(plan.out);
    CHECK(p["model"]["name"] == id);
    CHECK(p["model"]["origin"] == "Hugging Face cache " + cfg);
    CHECK(p["model"]["parameters"] == kTinyLlamaParams);
    const test::CliResult text = test::run_cli({"plan", "--model", id, "--gpus", "1"});
    REQUIRE(text.code == 0);
    CHECK(text.out.rfind("llmplan plan: TinyLlama/TinyLlama-1.1B on 1 × ", 0) == 0);

    const test::CliResult infer = test::run_cli({"infer", "--model", id, "--json"});
    REQUIRE(infer.code == 0);
    CHECK(nlohmann::json::parse(infer.out)["model"]["name"] == id);

    const test::CliResult search = test::run_cli({"search", "--model", id, "--gpus", "8", "--json"});
    REQUIRE(search.code == 0);
    CHECK(nlohmann::json::parse(search.out)["model"]["name"] == id);

    const test::CliResult models = test::run_cli({"models", id});
    REQUIRE(models.code == 0);
    CHECK(models.out.rfind(id + " — from " + cfg + "\n", 0) == 0);
    CHECK(models.out.find("1,100,048,384") != std::string::npos);
    const test::CliResult models_json = test::run_cli({"models", id, "--json"});
    REQUIRE(models_json.code == 0);
    CHECK(nlohmann::json::parse(models_json.out)["shape"]["name"] == id);

    const std::string snapshot = (cache.snapshots / "aaaa1111").string();
    const test::CliResult folder = test::run_cli({"models", "--hf-config", snapshot});
    REQUIRE(folder.code == 0);
    CHECK(folder.out.rfind("hf:llama — from " + snapshot + "/config.json\n", 0) == 0);
    const test::CliResult plan_folder = test::run_cli({"plan", "--hf-config", snapshot, "--gpus", "1", "--json"});
    REQUIRE(plan_folder.code == 0);
    CHECK(nlohmann::json::parse(plan_folder.out)["model"]["origin"] == "--hf-config " + snapshot);

    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"plan", "--model", "Qwen/QwQ-32B"}, {"infer", "--model", "Qwen/QwQ-32B"},
          {"search", "--model", "Qwen/QwQ-32B"}}) {
        const test::CliResult r = test::run_cli(args);
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(r.err == "llmplan " + args[0] + ": error: " +
                           not_found("--model", "Qwen/QwQ-32B", (cache.hub / "models--Qwen--QwQ-32B").string()) + "\n");
    }
    const test::CliResult models_missing = test::run_cli({"models", "Qwen/QwQ-32B"});
    CHECK(models_missing.code == 2);
    CHECK(models_missing.err ==
          "llmplan models: error: " + not_found("models", "Qwen/QwQ-32B", (cache.hub / "models--Qwen--QwQ-32B").string()) +
              "\n");
}
