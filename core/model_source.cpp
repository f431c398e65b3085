// model_source.cpp — presets, the local Hugging Face hub cache and config.json paths → NamedModel.
//
// The hub folder is huggingface_hub's constants.py HF_HUB_CACHE; the folder of a model id is its
// file_download.py repo_folder_name ("models--" + ORG + "--" + NAME), the revision refs/main
// names is read as try_to_load_from_cache reads it, and ids are checked as validate_repo_id checks
// them (utils/_validators.py). docs/REFERENCES.md §9 cites all four.
#include "core/model_source.h"

#include "core/error.h"
#include "core/file.h"
#include "core/hf_config.h"
#include "core/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include <pwd.h>
#include <unistd.h>

namespace llmplan {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> env(const std::string& name) {
    // A name with '=' is never a variable (getenv would match the value of a shorter name).
    if (name.find('=') != std::string::npos) return std::nullopt;
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
}

// Python's os.path.join(a, b) on POSIX.
std::string path_join(const std::string& a, const std::string& b) {
    if (!b.empty() && b.front() == '/') return b;
    if (a.empty() || a.back() == '/') return a + b;
    return a + "/" + b;
}

// Python's os.path.expanduser on POSIX: "~" and "~/..." take $HOME (else the password database's
// home of this user), "~user/..." that user's home; an unknown user leaves the path as it is.
std::string expand_user(const std::string& path) {
    if (path.empty() || path.front() != '~') return path;
    std::size_t i = path.find('/', 1);
    if (i == std::string::npos) i = path.size();
    std::string home;
    if (i == 1) {
        if (const std::optional<std::string> h = env("HOME")) {
            home = *h;
        } else {
            const passwd* pw = getpwuid(getuid());
            if (!pw || !pw->pw_dir) return path;
            home = pw->pw_dir;
        }
    } else {
        const passwd* pw = getpwnam(path.substr(1, i - 1).c_str());
        if (!pw || !pw->pw_dir) return path;
        home = pw->pw_dir;
    }
    while (!home.empty() && home.back() == '/') home.pop_back();
    const std::string out = home + path.substr(i);
    return out.empty() ? "/" : out;
}

bool ascii_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Python's os.path.expandvars on POSIX: $NAME (ASCII letters, digits, '_') and ${ANYTHING} become
// the variable's value where it is set and stay as they are where it is not; a value put in is not
// scanned again.
std::string expand_vars(const std::string& path) {
    std::string out;
    std::size_t i = 0;
    while (i < path.size()) {
        if (path[i] != '$') {
            out += path[i++];
            continue;
        }
        std::size_t end = i + 1;  // one past the reference
        std::string name;
        if (end < path.size() && ascii_word(path[end])) {
            while (end < path.size() && ascii_word(path[end])) ++end;
            name = path.substr(i + 1, end - i - 1);
        } else if (end < path.size() && path[end] == '{' && path.find('}', end) != std::string::npos) {
            const std::size_t close = path.find('}', end);
            name = path.substr(end + 1, close - end - 1);
            end = close + 1;
        } else {
            out += path[i++];  // a '$' that starts no reference
            continue;
        }
        if (const std::optional<std::string> value = env(name)) out += *value;
        else out.append(path, i, end - i);
        i = end;
    }
    return out;
}

// The id as a JSON string, so that no character of it can break the one-line message.
std::string quoted(std::string_view id) {
    return nlohmann::json(std::string(id)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> id_problem(std::string_view id) {
    const std::size_t slashes = static_cast<std::size_t>(std::count(id.begin(), id.end(), '/'));
    if (slashes == 0) return "no \"/\" between ORG and NAME";
    if (slashes > 1) return "more than one \"/\"";
    const std::size_t slash = id.find('/');
    const std::string_view org = id.substr(0, slash), name = id.substr(slash + 1);
    if (org.empty()) return "the organization is empty";
    if (name.empty()) return "the name is empty";
    for (const std::string_view part : {org, name})
        for (const char c : part)
            if (!ascii_word(c) && c != '-' && c != '.')
                return "only letters, digits, \"-\", \"_\" and \".\" may appear";
    if (id.find("--") != std::string_view::npos || id.find("..") != std::string_view::npos)
        return "\"--\" and \"..\" may not appear";
    for (const std::string_view part : {org, name})
        if (!ascii_word(part.front()) || !ascii_word(part.back()))
            return "the organization and the name start and end with a letter, a digit or \"_\"";
    if (name.size() > 96) return "the name is longer than 96 characters";
    if (name.size() >= 4 && name.substr(name.size() - 4) == ".git") return "the name ends in \".git\"";
    return std::nullopt;
}

// The revision refs/main names, or nullopt. A ref that cannot be read is as good as none: the
// newest snapshot is taken instead.
std::optional<std::string> main_ref(const std::string& repo) {
    try {
        if (const std::optional<std::string> text = read_text_file_if_present(path_join(repo, "refs/main"), "", 4096))
            return trim(*text);
    } catch (const InputError&) {
    }
    return std::nullopt;
}

}  // namespace

std::string hf_hub_cache_dir() {
    // constants.py: default_home = join(expanduser("~"), ".cache");
    // HF_HOME = expandvars(expanduser(getenv("HF_HOME", join(getenv("XDG_CACHE_HOME", default_home), "huggingface"))));
    // HUGGINGFACE_HUB_CACHE = getenv("HUGGINGFACE_HUB_CACHE", join(HF_HOME, "hub"));
    // HF_HUB_CACHE = expandvars(expanduser(getenv("HF_HUB_CACHE", HUGGINGFACE_HUB_CACHE))).
    const std::string default_home = path_join(expand_user("~"), ".cache");
    const std::string hf_home = expand_vars(
        expand_user(env("HF_HOME").value_or(path_join(env("XDG_CACHE_HOME").value_or(default_home), "huggingface"))));
    const std::string legacy = env("HUGGINGFACE_HUB_CACHE").value_or(path_join(hf_home, "hub"));
    return expand_vars(expand_user(env("HF_HUB_CACHE").value_or(legacy)));
}

void check_hf_model_id(std::string_view id, std::string_view flag) {
    if (const std::optional<std::string> problem = id_problem(id))
        throw InputError(std::string(flag) + " " + quoted(id) + ": not a preset, nor a Hugging Face model id ORG/NAME (" +
                         *problem + ")");
}

CachedConfig find_cached_hf_config(std::string_view id, std::string_view flag) {
    check_hf_model_id(id, flag);
    const std::string name(id);
    const std::size_t slash = name.find('/');
    const std::string repo =
        path_join(hf_hub_cache_dir(), "models--" + name.substr(0, slash) + "--" + name.substr(slash + 1));
    const std::string snapshots = path_join(repo, "snapshots");

    struct Snapshot {
        std::string revision;
        fs::file_time_type modified;
    };
    std::vector<Snapshot> found;  // the snapshots that hold config.json
    std::error_code ec;
    for (fs::directory_iterator it(snapshots, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ec_entry;
        const fs::path dir = it->path();
        if (!fs::is_directory(dir, ec_entry) || !fs::is_regular_file(dir / "config.json", ec_entry)) continue;
        const fs::file_time_type modified = fs::last_write_time(dir, ec_entry);
        if (!ec_entry) found.push_back({dir.filename().string(), modified});
    }
    if (found.empty()) {
        std::error_code ec_repo;
        const std::string where =
            fs::is_directory(repo, ec_repo) ? snapshots + ": no snapshot holds config.json" : repo;
        throw InputError(std::string(flag) + " " + name + ": not a preset and not in the Hugging Face cache (looked in " +
                         where + "); fetch its config with: hf download " + name + " config.json");
    }
    // refs/main is compared with the snapshots' names, never joined to a path as it is.
    const std::optional<std::string> ref = main_ref(repo);
    auto chosen = std::find_if(found.begin(), found.end(), [&](const Snapshot& s) { return ref && s.revision == *ref; });
    if (chosen == found.end())
        chosen = std::max_element(found.begin(), found.end(), [](const Snapshot& a, const Snapshot& b) {
            return a.modified != b.modified ? a.modified < b.modified : a.revision < b.revision;
        });
    return {path_join(path_join(snapshots, chosen->revision), "config.json"), chosen->revision};
}

std::vector<std::string> cached_hf_model_ids() {
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(hf_hub_cache_dir(), ec), end; !ec && it != end; it.increment(ec)) {
        const std::string folder = it->path().filename().string();
        constexpr std::string_view kPrefix = "models--";
        if (folder.rfind(kPrefix, 0) != 0) continue;
        // A valid id has no "--" in ORG or NAME (check_hf_model_id), so the first one splits them.
        const std::size_t split = folder.find("--", kPrefix.size());
        if (split == std::string::npos) continue;
        const std::string id = folder.substr(kPrefix.size(), split - kPrefix.size()) + "/" + folder.substr(split + 2);
        try {
            find_cached_hf_config(id, "--model");  // checks the id and that a snapshot holds config.json
        } catch (const InputError&) {
            continue;
        }
        ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

NamedModel model_from_name(std::string_view name, std::string_view flag) {
    const Preset* preset = find_preset(name);
    if (preset || name.find('/') == std::string_view::npos)  // not a preset: preset_or_throw's "did you mean" line
        return {preset_or_throw(name, flag), "preset " + std::string(name), preset, {}};
    check_hf_model_id(name, flag);  // a malformed id is refused as such, never read as a preset's name
    CachedConfig config;
    try {
        config = find_cached_hf_config(name, flag);
    } catch (const InputError&) {
        // An ORG/NAME not in the local cache whose model llmplan has as a preset: the preset (read
        // from the same config.json, or the same model by its name's words; presets.h
        // preset_for_hf_id). A config in the cache wins: it is the user's own.
        const Preset* p = preset_for_hf_id(name);
        if (!p) throw;
        return {p->spec, "preset " + p->name + " (" + std::string(name) + " is not in the Hugging Face cache)", p, {}};
    }
    NamedModel m{model_from_hf_config_file(config.path, std::string(flag) + " " + std::string(name)),
                 "Hugging Face cache " + config.path, nullptr, config.path};
    m.spec.name = std::string(name);
    return m;
}

NamedModel model_from_hf_path(const std::string& path, std::string_view flag) {
    const std::string where = std::string(flag) + " " + path;
    std::string file = path;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        file = path_join(path, "config.json");
        if (!fs::exists(file, ec)) throw InputError(where + ": the folder has no config.json");
    }
    return {model_from_hf_config_file(file, flag), where, nullptr, file};
}

}  // namespace llmplan
