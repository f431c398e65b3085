#!/usr/bin/env bash
# plan_latency.sh — wall time of `llmplan plan` as a whole process (start-up to exit).
# Target (issue 2): well under 50 ms. Uses hyperfine when installed (apt-get install hyperfine),
# otherwise times N runs in a loop. Usage: bench/plan_latency.sh [build/llmplan] [runs]
set -euo pipefail
bin=${1:-build/llmplan}
runs=${2:-200}
cases=(
  "plan --params 7B --gpus 8 --zero 3"
  "plan --model llama-3.1-405b --gpus 1008 --tp 8 --pp 7 --sp --virtual-stages 2 --global-batch 2016 --zero 1"
  "plan --model mixtral-8x7b --gpus 64 --ep 8 --tp 2 --zero 1 --json"
  "plan --params 7B --framework pytorch --gpus 8 --zero 3 --recompute full"
)
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date:    $(date -u +%F)"
if command -v hyperfine >/dev/null 2>&1; then
  args=()
  for c in "${cases[@]}"; do args+=("$bin $c"); done
  table=$(mktemp)
  hyperfine -N --warmup 10 --runs "$runs" --export-markdown "$table" "${args[@]}" >/dev/null 2>&1
  cat "$table"
  rm -f "$table"
else
  for c in "${cases[@]}"; do
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do $bin $c >/dev/null; done
    end=$(date +%s%N)
    echo "$c: $(( (end - start) / runs / 1000 )) µs per run (mean of $runs)"
  done
fi
