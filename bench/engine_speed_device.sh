#!/usr/bin/env bash
# engine_speed_device.sh — the engine-speed measurements in one device call, in the order that keeps the most
# useful results if the call is cut: the calibration (validation/engine/calibrate.sh plus the
# benchmark's own Llama shape at 2,048 tokens), the side-by-side with PyTorch
# (engine_vs_pytorch.sh, with that calibration so each engine JSON carries the predicted step
# time), then the validation matrix (validation/engine/run_matrix.sh). Everything lands in
# $OUT/engine_speed.tar after each stage (the device tool returns a few files only).
# Usage: bench/engine_speed_device.sh BIN_DIR   (BIN_DIR holds llmplan; $OUT from the device tool)
# Stages can be skipped: SKIP="matrix pytorch calibrate".
set -u
bin=$1/llmplan
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$OUT/work
mkdir -p "$work"
pack() { tar -cf "$OUT/engine_speed.tar" -C "$work" .; }
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader | tee "$work/device.txt"
date -u +%FT%TZ >>"$work/device.txt"
skip() { case " ${SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }
cal=$work/calibration_h100.json
if ! skip calibrate; then
    t0=$(date +%s)
    bash "$root/validation/engine/calibrate.sh" "$bin" "$cal" fp32,mixed-bf16,mixed-fp16 >"$work/calibrate.log" 2>&1
    "$bin" profile calibrate --model tinyllama-1.1b --precision mixed-bf16 --micro-batch 4 --seq 2048 --out "$cal" \
        >>"$work/calibrate.log" 2>&1
    echo "calibrate rc=$? in $(( $(date +%s) - t0 )) s"
    pack
fi
if ! skip pytorch; then
    CAL=$cal bash "$here/engine_vs_pytorch.sh" "$bin" "$work/side_by_side" \
        gpt2-124m:16:1024 gpt2-350m:16:1024 tinyllama-1.1b:4:2048 2>&1 | tee "$work/side_by_side.log"
    pack
fi
if ! skip matrix; then
    CAL=$cal TARBALL= bash "$root/validation/engine/run_matrix.sh" "$bin" "$work/matrix" 2>&1 | tee "$work/matrix.log" | tail -3
    pack
fi
echo "done"
