#!/usr/bin/env bash
# fuzz.sh — build the libFuzzer targets of fuzz/ with clang (AddressSanitizer + UBSan, build-fuzz/)
# and run each for a bounded time on its seed corpus; exits non-zero if any target finds a crash,
# a sanitizer report, an exception other than InputError, a broken promise of its reader (see
# fuzz/fuzz_support.h), a timeout or an out-of-memory. Part of .ci/run; docs/RELIABILITY.md.
#
#   scripts/fuzz.sh                 every target, 30 s each (LLMPLAN_FUZZ_SECONDS to change)
#   scripts/fuzz.sh hf_config law   only these targets
#
# Seeds: fuzz/corpus/TARGET/ (committed) plus the repository's own files of that kind (models/,
# tests/data/, tests/bad_inputs/files/, docs/images/*scenario.json, validation/nccl/), copied into
# build-fuzz/fuzz-work/TARGET/corpus/, where libFuzzer also keeps what it finds. A finding is saved
# as build-fuzz/fuzz-work/TARGET/crash-* (or timeout-*, oom-*); the script prints the command that
# replays it. The targets write only inside their own temporary folders (fuzz_support.h).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --fuzz

seconds="${LLMPLAN_FUZZ_SECONDS:-30}"
all=(quantity job_text hf_config scaling_csv law calibration cluster scenario megatron_bridge)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

build=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMPLAN_FUZZ=ON \
  -DLLMPLAN_TESTS=OFF -DLLMPLAN_CUDA=OFF -DLLMPLAN_GUI=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"

# The repository's files of each target's kind, as seeds.
seeds_of() {
  case "$1" in
    hf_config) ls models/*.json tests/data/hf/*.json tests/bad_inputs/files/hf_*.json ;;
    scaling_csv) ls tests/data/*.csv tests/bad_inputs/files/*.csv ;;
    law) ls tests/bad_inputs/files/law_*.json ;;
    calibration) ls validation/nccl/*.json tests/bad_inputs/files/cal_*.json ;;
    cluster) ls tests/bad_inputs/files/cluster_*.json ;;
    scenario) ls docs/images/*scenario.json ;;
    megatron_bridge) ls tests/data/imports/*.yaml tests/bad_inputs/files/bridge_*.yaml ;;
  esac
}

run_target() {
  local t=$1 work="$build/fuzz-work/$1"
  mkdir -p "$work/corpus"
  cp fuzz/corpus/"$t"/* "$work/corpus/"
  for f in $(seeds_of "$t"); do cp "$f" "$work/corpus/seed-$(basename "$f")"; done
  # -timeout: one input taking longer is a hang; -rss_limit_mb: libFuzzer's default memory cap.
  # UBSan already stops at its first report (-fno-sanitize-recover, CMakeLists.txt).
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
}

# Two targets at a time (CI has 2 cores); each libFuzzer process is single-threaded.
failed=()
start=$SECONDS
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  for t in "${targets[@]:i:2}"; do
    run_target "$t" &
    pids+=("$!:$t")
  done
  for p in "${pids[@]}"; do
    t=${p#*:}
    work="$build/fuzz-work/$t"
    if wait "${p%%:*}"; then
      runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo "?")
      echo "fuzz $t: ok, $runs inputs in ${seconds} s, corpus $(ls "$work/corpus" | wc -l) files"
    else
      failed+=("$t")
      echo "fuzz $t: FAILED — the end of $work/log:"
      tail -n 40 "$work/log"
      for a in "$work"/crash-* "$work"/timeout-* "$work"/oom-* "$work"/leak-*; do
        [ -e "$a" ] && echo "  replay: $build/fuzz/fuzz_$t $a"
      done
    fi
  done
done
echo "fuzz: ${#targets[@]} targets in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
