#!/bin/bash
# Device call (2026-12-05, fifth session; lent H100 SXM), everything timed alone on the GPU:
#  1. validation/kernels/measure_kernels.py: the H100's kernel tables (GEMM, attention, memory-bound;
#     the script of the H200 table, a 240 s budget; the H200's full table took 109 s);
#  2. validation/step_time/measure_steps.py: PyTorch step times on one H100 for the seven eager
#     configurations (the two torch.compile ones fail in Dynamo with FlashAttention forced, as on H200).
# Outputs in $OUT: kernel_tables_h100.json, step_time_h100.json, their logs and gpu.txt.
set -u
export PYTHONUNBUFFERED=1
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader
  python3 -c "import torch,transformers;print(torch.__version__,transformers.__version__,torch.version.cuda)"
  date -u +%FT%TZ; } > $OUT/gpu.txt 2>&1
(timeout 270 python3 validation/kernels/measure_kernels.py --out $OUT/kernel_tables_h100.json --budget-seconds 240;
 echo "measure_kernels rc=$? $(el) s") > $OUT/kernel_tables_h100_log.txt 2>&1
ONLY=gpt2-124m-amp-b16-s1024,gpt2-350m-amp-b16-s1024,gpt2-1.3b-amp-b8-s2048,llama3-1b-amp-b8-s2048,llama3-1b-amp-b2-s8192,llama3-8b-8l-amp-b2-s4096,llama3-8b-8l-bf16-b1-s8192
(timeout 240 python3 validation/step_time/measure_steps.py --out $OUT/step_time_h100.json --only $ONLY;
 echo "step_time rc=$? $(el) s") > $OUT/step_time_log.txt 2>&1
nvidia-smi --query-gpu=clocks.sm,power.draw,temperature.gpu --format=csv,noheader >> $OUT/gpu.txt
tail -n 3 $OUT/*.txt
