// test_backend_loader.cpp — backend/loader.h without a GPU: a missing module, a file that is not a
// shared library, a library without the entry point and a module of another interface version are
// each refused in one line naming the file and the reason.
#include "backend/loader.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

using llmplan::backend::load_module;
using llmplan::backend::LoadResult;

namespace {

void check_refused(const LoadResult& r, const std::string& path, const std::string& reason) {
    INFO("error: " << r.error);
    CHECK(r.backend == nullptr);
    CHECK(std::count(r.error.begin(), r.error.end(), '\n') == 0);
    CHECK(r.error.rfind(path, 0) == 0);  // the file first
    CHECK(r.error.find(reason) != std::string::npos);
}

}  // namespace

TEST_CASE("loader: a missing module is refused with dlopen's reason", "[backend]") {
    const std::string path = "/nonexistent/libllmplan_cuda.so";
    check_refused(load_module(path), path, "cannot open shared object file: No such file or directory");
}

TEST_CASE("loader: a file that is not a shared library is refused", "[backend]") {
    const std::filesystem::path path = std::filesystem::temp_directory_path() / "llmplan_test_not_a_library.so";
    {
        std::ofstream f(path);
        // Longer than an ELF header (64 bytes), so that dlopen reads and rejects the header itself.
        for (int i = 0; i < 8; ++i) f << "this is a text file, not an ELF shared object\n";
    }
    const LoadResult r = load_module(path.string());
    std::filesystem::remove(path);
    check_refused(r, path.string(), "invalid ELF header");
}

TEST_CASE("loader: a shared library without llmplan_backend_entry is refused", "[backend]") {
    // The C math library: a real shared object on every glibc system, without the entry point.
    check_refused(load_module("libm.so.6"), "libm.so.6", "is not a llmplan GPU backend: ");
    CHECK(load_module("libm.so.6").error.find("llmplan_backend_entry") != std::string::npos);
}

TEST_CASE("loader: a module of another interface version is refused without being used", "[backend]") {
    const std::string path = LLMPLAN_TEST_WRONG_ABI_MODULE;
    const LoadResult r = load_module(path);
    check_refused(r, path, "is a GPU backend of another llmplan (interface version " +
                               std::to_string(llmplan::backend::kAbiVersion + 1000) + ", this llmplan needs " +
                               std::to_string(llmplan::backend::kAbiVersion) + ")");
}
