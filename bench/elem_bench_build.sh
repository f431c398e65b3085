#!/bin/bash
# Builds bench/elem_bench (see elem_bench.cu) against build/'s llmplan_kernels; output build/bench/elem_bench.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build
NVCC="/usr/local/cuda/bin/nvcc -O3 -arch=sm_90 -std=c++20 -I. -DLLMPLAN_HAVE_NCCL=1"
mkdir -p $B/bench
$NVCC -c bench/elem_bench.cu -o $B/bench/elem_bench.o &
$NVCC -c bench/elem_bench_variants.cu -o $B/bench/elem_bench_variants.o &
$NVCC -c bench/elem_bench_optim.cu -o $B/bench/elem_bench_optim.o
wait
c++ -O3 -Wl,--as-needed $B/bench/elem_bench.o $B/bench/elem_bench_variants.o $B/bench/elem_bench_optim.o -o $B/bench/elem_bench \
  -Wl,-rpath,/usr/local/cuda/lib $B/kernels/libllmplan_kernels.a $B/reference/libllmplan_reference.a \
  /usr/local/cuda/lib/libcublas.so /usr/local/cuda/lib/libcublasLt.so /usr/local/cuda/lib/libculibos.a \
  $(ls $B/kernels/libllmplan_comm.a 2>/dev/null) $B/engine/libllmplan_engine.a $B/dist/libllmplan_dist.a $B/core/libllmplan_core.a \
  /usr/local/cuda/lib/libcudart_static.a -ldl -lrt $(ls /usr/local/cuda/lib/libnccl.so 2>/dev/null) \
  $(ls /usr/lib/x86_64-linux-gnu/openmpi/lib/libmpi.so 2>/dev/null)
