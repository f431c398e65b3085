#!/usr/bin/env bash
# The H100 validation matrix of docs/validation/gpu_engine.md: `llmplan profile --device cuda
# --framework llmplan --json` for both families, fp32, mixed-bf16 and mixed-fp16, recompute
# none/selective/full, eager and flash, several batch sizes. Usage: run_matrix.sh LLMPLAN OUTDIR
# (one JSON and one progress log per run; a run that fails or passes its time limit is logged and
# skipped; with TARBALL set, OUTDIR is packed into it after each run; with ONLY set, only the runs
# whose name contains it, e.g. ONLY=fp16; with CAL set to a calibration file (calibrate.sh), the
# predicted step time is the engine's kernels timed from it). The last runs ("offcal_") use a
# sequence length or batch the calibration did not measure (its attention shapes are scaled).
set -u
bin=$1
out=$2
mkdir -p "$out"
run() {  # name model precision recompute attention batch [seq, default 1024]
    local name=$1 seq=${7:-1024}
    case "$name" in *"${ONLY:-}"*) ;; *) return 0 ;; esac
    timeout 45 "$bin" profile --device cuda --framework llmplan --json --model "$2" --precision "$3" \
        --recompute "$4" --attention "$5" --micro-batch "$6" --seq "$seq" --gpu h100-sxm --steps 3 --warmup 1 ${CAL:+--calibration "$CAL"} \
        >"$out/$name.json" 2>"$out/$name.err"
    echo "$name rc=$?"
    if [ -n "${TARBALL:-}" ]; then tar -cf "$TARBALL" -C "$out" .; fi  # what has finished, if the call is cut
}
run gpt2-124m_fp32_none_flash_b4        gpt2-124m      fp32       none      flash 4
run gpt2-124m_fp32_selective_eager_b4   gpt2-124m      fp32       selective eager 4
run gpt2-124m_fp32_full_flash_b8        gpt2-124m      fp32       full      flash 8
run gpt2-124m_bf16_none_flash_b16       gpt2-124m      mixed-bf16 none      flash 16
run gpt2-124m_bf16_none_eager_b8        gpt2-124m      mixed-bf16 none      eager 8
run gpt2-124m_bf16_selective_eager_b8   gpt2-124m      mixed-bf16 selective eager 8
run gpt2-124m_bf16_full_flash_b32       gpt2-124m      mixed-bf16 full      flash 32
run gpt2-350m_bf16_none_flash_b8        gpt2-350m      mixed-bf16 none      flash 8
run gpt2-350m_fp32_selective_flash_b4   gpt2-350m      fp32       selective flash 4
run tinyllama-1.1b_bf16_full_flash_b4   tinyllama-1.1b mixed-bf16 full      flash 4
run tinyllama-1.1b_bf16_selective_eager_b2 tinyllama-1.1b mixed-bf16 selective eager 2
run tinyllama-1.1b_bf16_none_flash_b2   tinyllama-1.1b mixed-bf16 none      flash 2
run tinyllama-1.1b_fp32_full_flash_b2   tinyllama-1.1b fp32       full      flash 2
run tinyllama-1.1b_fp32_none_eager_b1   tinyllama-1.1b fp32       none      eager 1
run gpt2-124m_fp16_none_flash_b8        gpt2-124m      mixed-fp16 none      flash 8
run gpt2-124m_fp16_none_flash_b16       gpt2-124m      mixed-fp16 none      flash 16
run gpt2-124m_fp16_selective_eager_b8   gpt2-124m      mixed-fp16 selective eager 8
run tinyllama-1.1b_fp16_full_flash_b4   tinyllama-1.1b mixed-fp16 full      flash 4
run offcal_gpt2-124m_bf16_none_flash_b8_s512      gpt2-124m      mixed-bf16 none      flash 8 512
run offcal_gpt2-350m_fp16_selective_flash_b12      gpt2-350m      mixed-fp16 selective flash 12
run offcal_tinyllama-1.1b_bf16_none_flash_b2_s2048 tinyllama-1.1b mixed-bf16 none      flash 2 2048
run offcal_tinyllama-1.1b_fp32_selective_flash_b3  tinyllama-1.1b fp32       selective flash 3
