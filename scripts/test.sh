#!/usr/bin/env bash
# test.sh — install what is missing, build everything in build/ (Release, warnings as errors)
# and run the whole test suite through ctest. GPU tests skip (and say so) without a GPU.
#
#   scripts/test.sh              the suite, as above
#   scripts/test.sh --sanitize   the same suite on the host code built with AddressSanitizer and
#                                UBSan in build-asan/ (no CUDA, no GUI; a sanitizer report fails
#                                the test that triggered it; docs/RELIABILITY.md)
# Any other arguments are passed to CMake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build=build-asan
  # -O2 -g: the suite runs at near Release speed and reports carry line numbers.
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMPLAN_SANITIZE=ON -DLLMPLAN_CUDA=OFF -DLLMPLAN_GUI=OFF)
  # A report stops the process (-fno-sanitize-recover) with exit code 86, which no test expects
  # (the CLI's own codes are 0, 1 and 2; 77 is ctest's skip); leaks are reported too.
  export ASAN_OPTIONS="detect_leaks=1:exitcode=86:${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:${UBSAN_OPTIONS:-}"
fi
cmake -S . -B "$build" "${flags[@]}" -DLLMPLAN_TESTS=ON -DLLMPLAN_WERROR=ON "$@"
cmake --build "$build" -j "$(nproc)"
cd "$build"
ctest --output-on-failure -j "$(nproc)"
