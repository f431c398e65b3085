#!/bin/bash
# The GPU check of the redesigned engine (the CUDA engine iterating engine/program.h, the GPU
# backend loaded as a module), run on the lent H200 on 2026-12-04. BIN holds build/llmplan,
# build/libllmplan_cuda.so and build/tests/llmplan_gpu_{kernels,engine}, built on the CPU machine
# with CUDA 13 for sm_90 and carried over; OUT receives the outputs kept in this folder:
# gpu_engine.txt, gpu_kernels.txt and one `llmplan profile --json` per run of ../run_matrix.sh.
# Usage: run_gpu.sh BIN OUT
set -u
bin=$1
out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
("$bin/llmplan_gpu_engine"; echo "gpu.engine rc=$?") >"$out/gpu_engine.txt" 2>&1
("$bin/llmplan_gpu_kernels"; echo "gpu.kernels rc=$?") >"$out/gpu_kernels.txt" 2>&1
bash "$here/run_matrix.sh" "$bin/llmplan" "$out"
