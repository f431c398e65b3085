// loader.cpp — see loader.h.
#include "backend/loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <vector>

namespace llmplan::backend {

namespace {

std::string dl_error() {
    const char* e = dlerror();
    return e ? e : "unknown dlopen error";
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// The directory of the running executable ("" when /proc is not there).
std::string exe_dir() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : exe.parent_path().string();
}

std::vector<std::string> split_path(const char* list) {
    std::vector<std::string> out;
    if (!list) return out;
    std::string item;
    for (const char* p = list;; ++p) {
        if (*p == ':' || *p == '\0') {
            if (!item.empty()) out.push_back(item);
            item.clear();
            if (*p == '\0') break;
        } else {
            item += *p;
        }
    }
    return out;
}

LoadResult search() {
    if (const char* file = std::getenv("LLMPLAN_BACKEND"); file && *file) {
        LoadResult r = load_module(file);
        if (!r.backend) r.error += " (LLMPLAN_BACKEND)";
        return r;
    }
    std::vector<std::string> dirs;
    if (const std::string d = exe_dir(); !d.empty()) {
        dirs.push_back(d);
        // An installed tree (cmake --install, the .deb): bin/../lib/<triplet>/llmplan, say.
        dirs.push_back((std::filesystem::path(d) / LLMPLAN_MODULE_RELDIR).lexically_normal().string());
    }
    const char* env_path = std::getenv("LLMPLAN_BACKEND_PATH");
    for (const std::string& d : split_path(env_path)) dirs.push_back(d);
    for (const std::string& d : dirs) {
        const std::string file = d + "/" + kModuleFile;
        if (exists(file)) return load_module(file);
    }
    // Not in any of those: the system's search, by name.
    LoadResult r = load_module(kModuleFile);
    if (!r.backend) {
        std::string where = dirs.empty() ? std::string("(no executable directory)") : dirs.front();
        for (std::size_t i = 1; i < dirs.size(); ++i) where += ", " + dirs[i];
        r.error = std::string("the GPU backend ") + kModuleFile + " was not found in " + where +
                  (env_path && *env_path ? "" : " (LLMPLAN_BACKEND_PATH unset)") + " nor by the system's library search (" +
                  r.error + "); build it (target llmplan_cuda, a CUDA build) or point LLMPLAN_BACKEND at it";
    }
    return r;
}

}  // namespace

LoadResult load_module(const std::string& path) {
    LoadResult r;
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        r.error = dl_error();
        // dlerror names the file itself when that file is what failed; else (a library it needs,
        // a bad ELF) it may not: put the module's path first.
        if (r.error.rfind(path, 0) != 0) r.error = path + ": " + r.error;
        return r;
    }
    using Entry = const BackendEntry* (*)();
    dlerror();
    auto entry = reinterpret_cast<Entry>(dlsym(handle, kEntrySymbol));
    if (!entry) {
        r.error = path + " is not a llmplan GPU backend: " + dl_error();
        dlclose(handle);
        return r;
    }
    const BackendEntry* e = entry();
    if (!e || e->abi_version != kAbiVersion) {
        r.error = path + " is a GPU backend of another llmplan (interface version " +
                  (e ? std::to_string(e->abi_version) : std::string("unknown")) + ", this llmplan needs " +
                  std::to_string(kAbiVersion) + "); rebuild it from this tree (target llmplan_cuda)";
        dlclose(handle);
        return r;
    }
    r.backend = e->create ? e->create() : nullptr;
    if (!r.backend) {
        r.error = path + ": the GPU backend could not be created";
        dlclose(handle);
    }
    return r;  // loaded: the handle stays open for the process's life
}

GpuBackend* gpu_backend(std::string* why) {
    static std::once_flag once;
    static LoadResult loaded;
    std::call_once(once, [] { loaded = search(); });
    if (!loaded.backend && why) *why = loaded.error;
    return loaded.backend;
}

}  // namespace llmplan::backend
