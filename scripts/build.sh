#!/usr/bin/env bash
# build.sh — install what is missing, configure a Release build in build/ and build the CLI.
# Afterwards the CLI is at build/llmplan. Extra arguments go to the configure step
# (e.g. -DLLMPLAN_CUDA=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build --target llmplan -j "$(nproc)"
