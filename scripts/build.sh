#!/usr/bin/env bash
# build.sh — install what is missing, configure a Release build in build/ and build the CLI and,
# in a CUDA build, its GPU backend module. Afterwards the CLI is at build/llmplan and the module at
# build/libllmplan_cuda.so (opened at run time by `llmplan profile`; docs/ARCHITECTURE.md), with
# the man pages and bash completion the CLI writes (target llmplan_man: then `cmake --install build
# --component cli` installs the CLI; docs/INSTALL.md).
# Extra arguments go to the configure step (e.g. -DLLMPLAN_CUDA=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=(llmplan llmplan_man)
grep -q '^LLMPLAN_CUDA:BOOL=ON$' build/CMakeCache.txt && targets+=(llmplan_cuda)
cmake --build build --target "${targets[@]}" -j "$(nproc)"
