#!/bin/sh
# validation/engine_dist/run_mpi.sh — `mpirun -np 2 llmplan profile …` (docs/MULTI_GPU.md §2): the
# MPI launch path on 2 GPUs of one node, beside llmplan's own launcher on the same flags, and
# `profile comm` under mpirun. The binary: an MPI + CUDA + NCCL build (sm_90) copied to $BIN.
# usage: BIN=build-devrun-mpi OUT=/some/dir sh validation/engine_dist/run_mpi.sh
set -u
BIN=${BIN:-build-devrun-mpi}
OUT=${OUT:-validation/engine_dist/mpi}
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0  # as the lent machines set it (docs/MULTI_GPU.md)
{
  date -u +%Y-%m-%dT%H:%M:%SZ
  which mpirun; mpirun --version 2>&1 | head -1
  nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv 2>&1
  ldd "$BIN/llmplan" | grep -E "mpi|nccl" 2>&1
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
rc() { echo "$1 rc=$2" >> "$OUT/rc.txt"; echo "$1 rc=$2"; }
P="--model gpt2-124m --precision mixed-bf16 --micro-batch 8 --seq 1024 --steps 3 --warmup 1 --framework llmplan \
--calibration validation/engine/calibration/h100.json"
# --allow-run-as-root: the lent machines run as root (Open MPI refuses root without it).
timeout 50 mpirun --allow-run-as-root -np 2 "$BIN/llmplan" profile --gpus 2 --zero 1 $P --json \
  > "$OUT/mpi_zero1.json" 2> "$OUT/mpi_zero1.log"; rc mpi_zero1 $?
timeout 40 "$BIN/llmplan" profile --gpus 2 --zero 1 $P --json > "$OUT/launcher_zero1.json" 2> "$OUT/launcher_zero1.log"
rc launcher_zero1 $?
timeout 25 mpirun --allow-run-as-root -np 2 "$BIN/llmplan" profile comm --gpus 2 --max-bytes 64MiB \
  > "$OUT/mpi_comm.txt" 2> "$OUT/mpi_comm.log"; rc mpi_comm $?
tail -5 "$OUT/mpi_zero1.log"; tail -3 "$OUT/mpi_comm.log"; cat "$OUT/mpi_comm.txt"
