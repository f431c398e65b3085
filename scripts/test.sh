#!/usr/bin/env bash
# test.sh — install what is missing, build everything in build/ (Release, warnings as errors)
# and run the whole test suite through ctest. GPU tests skip (and say so) without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLLMPLAN_TESTS=ON -DLLMPLAN_WERROR=ON "$@"
cmake --build build -j "$(nproc)"
cd build
ctest --output-on-failure -j "$(nproc)"
