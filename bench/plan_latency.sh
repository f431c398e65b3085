#!/usr/bin/env bash
# plan_latency.sh — `llmplan plan` (and `llmplan --help`) as whole processes, start-up to exit:
# wall time and peak resident memory, optionally side by side with another llmplan binary (A/B).
# Targets (docs/BENCHMARKS.md): plan ≤ 10 ms median, --help ≤ 5 ms, plan's peak RSS ≤ 30 MB.
# Uses hyperfine when installed (apt-get install hyperfine) for the times, otherwise a loop that
# times every run and reports min / median / max; peak RSS from /usr/bin/time -f %M when present.
# Usage: bench/plan_latency.sh [build/llmplan] [runs] [baseline llmplan, e.g. an older build]
set -euo pipefail
bin=${1:-build/llmplan}
runs=${2:-200}
base=${3:-}
cases=(
  "plan --params 7B --gpus 8 --zero 3"
  "--help"
  "plan --model llama-3.1-405b --gpus 1008 --tp 8 --pp 7 --sp --virtual-stages 2 --global-batch 2016 --zero 1"
  "plan --model mixtral-8x7b --gpus 64 --ep 8 --tp 2 --zero 1 --json"
  "plan --params 7B --framework pytorch --gpus 8 --zero 3 --recompute full"
)
bins=("$bin")
[[ -n $base ]] && bins+=("$base")
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "date:    $(date -u +%F)"

# min / median / max of the wall time of `runs` runs, in ms.
loop_times() {
  local b=$1 c=$2 t0 t1 times=()
  for _ in 1 2 3; do $b $c >/dev/null; done  # warm-up: page cache, dynamic loader
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    $b $c >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f / %.2f / %.2f ms", a[1]/1000, a[int((NR+1)/2)]/1000, a[NR]/1000}'
}

# Peak RSS (MB) of one run, the largest of 5.
peak_rss() {
  local b=$1 c=$2 kb max=0 out
  [[ -x /usr/bin/time ]] || { echo "-"; return; }
  out=$(mktemp)
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f %M -o "$out" $b $c >/dev/null 2>&1
    kb=$(tail -n 1 "$out")
    (( kb > max )) && max=$kb
  done
  rm -f "$out"
  awk -v k="$max" 'BEGIN {printf "%.1f MB", k/1024}'
}

if command -v hyperfine >/dev/null 2>&1; then
  for c in "${cases[@]}"; do
    args=()
    for b in "${bins[@]}"; do args+=("$b $c"); done
    table=$(mktemp)
    hyperfine -N --warmup 10 --runs "$runs" --export-markdown "$table" "${args[@]}" >/dev/null 2>&1
    cat "$table"
    rm -f "$table"
  done
else
  echo
  echo "| command | binary | wall min / median / max ($runs runs) |"
  echo "| --- | --- | --- |"
  for c in "${cases[@]}"; do
    for b in "${bins[@]}"; do echo "| \`llmplan $c\` | $b | $(loop_times "$b" "$c") |"; done
  done
fi
echo
echo "| command | binary | peak RSS (largest of 5 runs) |"
echo "| --- | --- | --- |"
for c in "${cases[@]:0:2}"; do
  for b in "${bins[@]}"; do echo "| \`llmplan $c\` | $b | $(peak_rss "$b" "$c") |"; done
done
