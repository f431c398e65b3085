#!/usr/bin/env bash
# nccl_busbw.sh — build and run llmplan's NCCL bus-bandwidth measurement (profiler/nccl_busbw.cu,
# target llmplan_nccl_busbw): all-reduce, all-gather and reduce-scatter from 1 MiB to 2 GiB on the
# visible GPUs, algbw and busbw as nccl-tests defines them, JSON schema llmplan.nccl_busbw/1.
#
# Usage:
#   bench/nccl_busbw.sh build              configure ${BUILD_DIR:-build-cuda} with CUDA on and build
#                                          the binary (needs nvcc and NCCL, no GPU)
#   bench/nccl_busbw.sh run [FLAGS...]     run the built binary here (needs GPUs); FLAGS go to it,
#                                          e.g. --gpus 2 --out validation/nccl/nccl_busbw_2gpu_h100.json
#   bench/nccl_busbw.sh                    build, then run when a GPU is visible, else say how to
#
# The build directory is git-ignored (/build-*/), so it can travel to a GPU machine that cannot
# configure llmplan itself (no CLI11/nlohmann there): build here, copy or carry build-cuda/, then
# `bench/nccl_busbw.sh run ...` there. The binary links cudart statically and needs only the
# driver and libnccl.so.2 on that machine. Fixture recorded this way (validation/nccl/README.md),
# through the workplace's device tool with carry ["build-cuda"], on one H100:
#   bench/nccl_busbw.sh run --out $OUT/nccl_busbw_1gpu_h100.json
# On shared multi-GPU hosts keep NVLink multicast off (NCCL_NVLS_ENABLE=0, as the lent machines
# set it); the JSON records every NCCL_* variable it ran with under "nccl_env".
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-cuda}
bin=$build_dir/profiler/llmplan_nccl_busbw

build() {
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DLLMPLAN_CUDA=ON -DLLMPLAN_TESTS=OFF -DLLMPLAN_WERROR=ON
  cmake --build "$build_dir" --target llmplan_nccl_busbw -j "$(nproc)"
  echo "built $bin"
}

run() {
  if [[ ! -x $bin ]]; then
    echo "nccl_busbw.sh: $bin is missing: run 'bench/nccl_busbw.sh build' first (needs nvcc and NCCL)" >&2
    exit 1
  fi
  echo "machine: $(uname -m), $(nproc) cores; date: $(date -u +%FT%TZ)" >&2
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >&2 || true
  "$bin" "$@"
}

case ${1:-} in
  build) build ;;
  run) shift; run "$@" ;;
  "")
    build
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
      run
    else
      echo "no GPU here: copy $build_dir/ to a GPU machine (same path in this repository) and run"
      echo "  bench/nccl_busbw.sh run [--gpus N] [--out FILE]"
    fi
    ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "nccl_busbw.sh: unknown mode '$1' (build, run or none; see --help)" >&2; exit 2 ;;
esac
