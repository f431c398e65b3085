#!/bin/bash
# Device call (2026-12-05, s6-cuda): gpu.kernels and gpu.engine side by side (both mostly CPU
# reference work; the kernel timings are informational), then `llmplan profile` of the Llama-style
# 3.4B (d 3200, 32 heads of 100) for MFU and accumulation; outputs packed after each stage.
# Run as `bash .gpucuda/run1.sh` (device tool, lent H200, 2026-12-05 05:24 UTC, limit 330 s) with
# .gpucuda/ holding build/llmplan, build/libllmplan_cuda.so, build/tests/llmplan_gpu_{kernels,engine}
# of branch s6-cuda at commit 9e0f148 (CUDA 13, sm_90, built on the CPU machine), libtomlplusplus.so.3
# in .gpucuda/lib and bench/data/llama-3.4b-hd100.json. Outputs: cuda_gpu.txt (gpu.txt here),
# cuda_gpu_kernels.txt, cuda_gpu_engine.txt, cuda_mfu_*.err (the profile runs: cut by their 80 s
# timeout before their first step; the third, full recompute, by the call's limit).
set -u
G=$(cd "$(dirname "$0")" && pwd)
export LD_LIBRARY_PATH=$G/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
R=/tmp/r; rm -rf $R; mkdir -p $R
T0=$(date +%s)
pack() { tar -czf $OUT/cuda1.tgz -C /tmp r; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader > $R/gpu.txt
date -u +%FT%TZ >> $R/gpu.txt
(timeout 150 $G/llmplan_gpu_kernels; echo "gpu.kernels rc=$?") > $R/cuda_gpu_kernels.txt 2>&1 &
(timeout 150 $G/llmplan_gpu_engine; echo "gpu.engine rc=$?") > $R/cuda_gpu_engine.txt 2>&1 &
wait
echo "tests done $(( $(date +%s) - T0 )) s" >> $R/gpu.txt; pack
for cfg in "none 4 4" "none 4 16" "full 4 4"; do
  set -- $cfg
  n=mfu_3.4b_$1_b$2_g$3
  timeout 80 $G/llmplan profile --device cuda --framework llmplan --hf-config $G/llama-3.4b-hd100.json --gpu h200 \
    --precision mixed-bf16 --recompute $1 --micro-batch $2 --global-batch $3 --seq 2048 --steps 3 --warmup 1 --json \
    > $R/$n.json 2> $R/$n.err
  echo "profile $cfg rc=$? $(( $(date +%s) - T0 )) s" >> $R/gpu.txt; pack
done
# (added by the lead) held-out PyTorch step times for the time model, after everything above, if time is left
EL=$(( $(date +%s) - T0 )); LEFT=$(( 540 - EL ))
if [ $LEFT -gt 60 ]; then
  [ $LEFT -gt 220 ] && LEFT=220
  (cd $G/.. && PYTHONUNBUFFERED=1 timeout $LEFT python3 validation/step_time/measure_steps.py --out $OUT/step_time_h200.json \
     --only gpt2-124m-amp-b16-s1024,gpt2-350m-amp-b16-s1024,gpt2-1.3b-amp-b8-s2048,llama3-1b-amp-b8-s2048,llama3-1b-amp-b2-s8192,llama3-8b-8l-amp-b2-s4096,llama3-8b-8l-bf16-b1-s8192 \
     2> $OUT/step_time_log.txt; echo "step_time rc=$? $(( $(date +%s) - T0 )) s" >> $OUT/step_time_log.txt)
fi
tail -n 2 $R/*.txt
