// loader.h — finds and opens the GPU backend module (backend/backend.h) at run time, with dlopen.
// Plain C++; links only the dynamic loader (-ldl), never CUDA.
//
// Where it looks, first hit wins (docs/ARCHITECTURE.md, "Why the GPU backend is a dlopen-ed module"):
//   1. LLMPLAN_BACKEND=FILE: exactly that file (nothing else is tried);
//   2. libllmplan_cuda.so next to the executable (the directory of /proc/self/exe: build/ for a
//      build tree);
//   3. libllmplan_cuda.so where an install puts it, relative to the executable's directory
//      (LLMPLAN_INSTALL_MODULEDIR from bin/, e.g. bin/../lib/llmplan/, the same in an unpacked .deb:
//      backend/CMakeLists.txt, cmake/install.cmake);
//   4. libllmplan_cuda.so in each directory of LLMPLAN_BACKEND_PATH (colon-separated);
//   5. the system's dlopen search (LD_LIBRARY_PATH, the ld.so cache, /usr/lib…).
// A file that exists in 2, 3 or 4 is the one meant: if it does not open, that is the answer (the
// dlerror text names, e.g., the missing libcublasLt.so.13) and later places are not tried.
// The module must export llmplan_backend_entry() with this build's kAbiVersion; any other version
// is refused. Every refusal is one line naming the file and the reason.
#pragma once

#include "backend/backend.h"

#include <string>

namespace llmplan::backend {

// The process's backend: searched and opened on the first call (then kept: the module is never
// closed), nullptr with the one-line reason in `why` when there is none. Later calls give the same
// answer. Never throws.
GpuBackend* gpu_backend(std::string* why);

// One module file opened and checked (no search, nothing kept): `path` as dlopen takes it (a bare
// name goes through the system's search). On failure backend is nullptr and error says why in one
// line; a refused module is closed again. For gpu_backend() and the loader's tests.
struct LoadResult {
    GpuBackend* backend = nullptr;
    std::string error;
};
LoadResult load_module(const std::string& path);

}  // namespace llmplan::backend
