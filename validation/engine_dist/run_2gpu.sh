#!/bin/sh
# validation/engine_dist/run_2gpu.sh — the engine's data parallelism on 2 GPUs
# (docs/validation/multi_gpu_engine.md): the gpu.engine_dist test (DDP and ZeRO 1–3 against one
# GPU, books against the planner, collectives against the shard plan), the one-GPU engine test
# (world = 1 unchanged), and `llmplan profile --gpus 2` for ZeRO 0–3 with one-GPU baselines on the
# same global batch. Binaries from a CUDA + NCCL build (-DCMAKE_CUDA_ARCHITECTURES=90) copied to $BIN:
#   llmplan, llmplan_gpu_engine_dist, llmplan_gpu_engine.
# usage: BIN=build-devrun2 OUT=/some/dir sh validation/engine_dist/run_2gpu.sh [quick]
set -u
BIN=${BIN:-build-devrun2}
T_TEST=${T_TEST:-150}; T_RUN=${T_RUN:-90}; T_ENGINE=${T_ENGINE:-120}  # per-command limits (seconds)
OUT=${OUT:-validation/engine_dist}
mkdir -p "$OUT"
export NCCL_NVLS_ENABLE=0  # as the lent machines set it (docs/MULTI_GPU.md)
date -u +%Y-%m-%dT%H:%M:%SZ > "$OUT/date.txt"
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv > "$OUT/gpus.txt" 2>&1
nvidia-smi topo -m >> "$OUT/gpus.txt" 2>&1
rc() { echo "$1 rc=$2" >> "$OUT/rc.txt"; }

timeout $T_TEST "$BIN/llmplan_gpu_engine_dist" > "$OUT/gpu_engine_dist.txt" 2>&1; rc gpu_engine_dist $?
tail -1 "$OUT/gpu_engine_dist.txt"

P="--framework llmplan --steps 10 --warmup 3 --timeout $((T_RUN - 5)) --op-timeout 30"
# GPT-2 124M, mixed-bf16, 8 × 1024 tokens per rank: ZeRO 0-3 on 2 GPUs.
for z in 0 1 2 3; do
  n=gpt2-124m_bf16_b8_2gpu_zero$z
  timeout $T_RUN "$BIN/llmplan" profile --model gpt2-124m --precision mixed-bf16 --micro-batch 8 --seq 1024 --gpus 2 --zero $z \
    $P --report "$OUT/$n.json" > "$OUT/$n.txt" 2> "$OUT/$n.log"; rc $n $?
done
# One GPU: the same micro-batch (the compute a rank does) and the 2-GPU global batch (the same losses).
for b in 8 16; do
  n=gpt2-124m_bf16_b${b}_1gpu
  timeout $T_RUN "$BIN/llmplan" profile --model gpt2-124m --precision mixed-bf16 --micro-batch $b --seq 1024 \
    $P --report "$OUT/$n.json" > "$OUT/$n.txt" 2> "$OUT/$n.log"; rc $n $?
done
if [ "${1:-}" != quick ]; then
  # fp32, and a larger model (TinyLlama 1.1B: untied, GQA; 22 layer units for ZeRO-3).
  for z in 0 1 2 3; do
    n=gpt2-124m_fp32_b4_2gpu_zero$z
    timeout $T_RUN "$BIN/llmplan" profile --model gpt2-124m --precision fp32 --micro-batch 4 --seq 1024 --gpus 2 --zero $z \
      $P --report "$OUT/$n.json" > "$OUT/$n.txt" 2> "$OUT/$n.log"; rc $n $?
  done
  for z in 0 3; do
    n=tinyllama-1.1b_bf16_b2_2gpu_zero$z
    timeout $T_RUN "$BIN/llmplan" profile --model tinyllama-1.1b --precision mixed-bf16 --micro-batch 2 --seq 2048 --gpus 2 \
      --zero $z $P --report "$OUT/$n.json" > "$OUT/$n.txt" 2> "$OUT/$n.log"; rc $n $?
  done
fi
if [ "${SKIP_ENGINE:-0}" != 1 ]; then
  timeout $T_ENGINE "$BIN/llmplan_gpu_engine" > "$OUT/gpu_engine.txt" 2>&1; rc gpu_engine $?
  tail -1 "$OUT/gpu_engine.txt"
fi
cat "$OUT/rc.txt"
