#!/usr/bin/env bash
# setup.sh — install the Debian 12 packages llmplan's build needs, only those that are missing.
# Idempotent: a second run installs nothing and prints one line. Used by scripts/build.sh and
# scripts/test.sh; run it alone to prepare a machine. CUDA is not installed here: the CUDA
# engine is built only when nvcc is present (e.g. /usr/local/cuda), and skipped otherwise.
#   scripts/setup.sh          the build's packages
#   scripts/setup.sh --fuzz   those and clang's, for the fuzz targets (scripts/fuzz.sh)
set -euo pipefail

packages=(
  g++ make cmake            # C++20 toolchain, CMake >= 3.25
  libcli11-dev              # CLI11 (command line)
  nlohmann-json3-dev        # nlohmann/json (reports, HF configs)
  libtomlplusplus-dev       # toml++ (torchtitan job TOMLs for --torchtitan)
  catch2                    # Catch2 v2 (tests)
  qt6-base-dev qt6-charts-dev  # Qt 6 Widgets + Charts (GUI)
  qt6-svg-dev               # Qt 6 Svg: the GUI's chart export as SVG (QSvgGenerator)
  libqt6opengl6-dev         # Qt6OpenGL: Qt6Charts' CMake package needs it, qt6-charts-dev does not pull it in
  pybind11-dev python3-dev  # the Python package (python/, docs/PYTHON.md): pybind11 and Python's headers
  python3-setuptools        # pip install --no-build-isolation ./python, offline
  python3-pytest            # the Python tests (python.api, python.docs_example, schemas.reports)
  python3-jsonschema        # the reports against schemas/ (schemas.reports)
  dpkg-dev file             # the .deb packages: dpkg-shlibdeps computes their dependencies, CPack finds ELF files with file
  man-db                    # man -l: the install.deb test renders every generated man page
)
# Only for scripts/fuzz.sh: libFuzzer needs clang. -fsanitize=fuzzer,address,undefined links the
# runtimes of libclang-rt-14-dev (libclang_rt.fuzzer, .asan, .ubsan_standalone), which clang-14
# only recommends (not installed with --no-install-recommends). libfuzzer-14-dev is not needed:
# it holds a standalone libFuzzer.a for linking by hand, which -fsanitize=fuzzer does not use.
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all build packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: error: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
