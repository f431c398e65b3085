#!/usr/bin/env bash
# nccl_busbw.sh — build and run llmplan's NCCL bus-bandwidth measurement, `llmplan profile comm`:
# all-reduce, all-gather and reduce-scatter from 1 MiB to 2 GiB on the visible GPUs (one process
# per GPU), algbw and busbw as nccl-tests defines them, JSON schema llmplan.nccl_busbw/1
# (docs/REPORTS.md).
#
# Usage:
#   bench/nccl_busbw.sh build              configure ${BUILD_DIR:-build-cuda} with CUDA on and build
#                                          the CLI and its GPU backend module (needs nvcc and NCCL, no GPU)
#   bench/nccl_busbw.sh run [FLAGS...]     run `llmplan profile comm` here (needs GPUs); FLAGS go to it,
#                                          e.g. --gpus 2 --report validation/nccl/profile_comm_2gpu_h100.json
#                                          (--out FILE merges the busbw into a calibration file)
#   bench/nccl_busbw.sh                    build, then run when a GPU is visible, else say how to
#
# The build directory is git-ignored (/build-*/), so it can travel to a GPU machine that cannot
# configure llmplan itself (no CLI11/nlohmann there): build here, copy or carry build-cuda/, then
# `bench/nccl_busbw.sh run ...` there. build-cuda/llmplan links no GPU library; it opens
# build-cuda/libllmplan_cuda.so beside it (static cudart), which needs the driver, libnccl.so.2 and
# libcublas/libcublasLt.so.13 on that machine. On shared multi-GPU hosts keep NVLink multicast off
# (NCCL_NVLS_ENABLE=0, as the lent machines set it); the JSON records every NCCL_* variable it ran
# with under "nccl_env".
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-cuda}
bin=$build_dir/llmplan
module=$build_dir/libllmplan_cuda.so

build() {
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DLLMPLAN_CUDA=ON -DLLMPLAN_TESTS=OFF -DLLMPLAN_WERROR=ON
  cmake --build "$build_dir" --target llmplan llmplan_cuda -j "$(nproc)"
  echo "built $bin and $module"
}

run() {
  if [[ ! -x $bin || ! -f $module ]]; then
    echo "nccl_busbw.sh: $bin or $module is missing: run 'bench/nccl_busbw.sh build' first (needs nvcc and NCCL)" >&2
    exit 1
  fi
  echo "machine: $(uname -m), $(nproc) cores; date: $(date -u +%FT%TZ)" >&2
  command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >&2 || true
  "$bin" profile comm "$@"
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
      echo "  bench/nccl_busbw.sh run [--gpus N] [--report FILE]"
    fi
    ;;
  -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) echo "nccl_busbw.sh: unknown mode '$1' (build, run or none; see --help)" >&2; exit 2 ;;
esac
