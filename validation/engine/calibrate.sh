#!/usr/bin/env bash
# The calibration of docs/validation/gpu_engine.md (step time): `llmplan profile calibrate` for the
# three models of the validation matrix (run_matrix.sh), fp32 and mixed-bf16 (and mixed-fp16 where
# the binary runs it), both attention forms, at micro-batches that deliberately leave out most of
# the matrix's own sizes (1, 4 and 16 for GPT-2; 1 and 4 for TinyLlama), so that the matrix checks
# interpolation, not only shapes measured exactly. All three write one file.
# Usage: calibrate.sh LLMPLAN OUTFILE [PRECISIONS]   (PRECISIONS default: fp32,mixed-bf16)
set -eu
bin=$1
out=$2
precisions=${3:-fp32,mixed-bf16}
rm -f "$out"
"$bin" profile calibrate --model gpt2-124m --precision "$precisions" --micro-batch 1,4,16 --seq 1024 --out "$out"
"$bin" profile calibrate --model gpt2-350m --precision "$precisions" --micro-batch 1,4,16 --seq 1024 --out "$out"
"$bin" profile calibrate --model tinyllama-1.1b --precision "$precisions" --micro-batch 1,4 --seq 1024 --out "$out"
