#!/bin/bash
# Device call (2026-12-05, fifth session, second call; on the H100 or H200 lent — gpu.txt names it,
# the files carry its key), timed alone on the GPU:
#  1. validation/step_time/measure_steps.py on one GPU: two torch.compile runs (FlashAttention
#     forced by global SDPA flags, which Dynamo traces), two with gradient checkpointing, and
#     llama3-1b at 8 x 2,048 again for its max_memory_reserved (the pytorch profile calls it "does
#     not fit" on the H100) — cut to what ~6 minutes of device time allow;
#  2. the same script with --history on llama3-1b at 8 x 2,048: the caching allocator's history
#     through the warm-up steps, for validation/pytorch_memory/alloc_history.py.
# Outputs in $OUT: step_time_<gpu>b.json, step_time_history_<gpu>.json,
# llama3-1b-amp-b8-s2048.pickle.gz, the logs and gpu.txt.
set -u
export PYTHONUNBUFFERED=1
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader
  python3 -c "import torch,transformers;print(torch.__version__,transformers.__version__,torch.version.cuda)"
  date -u +%FT%TZ; } > $OUT/gpu.txt 2>&1
G=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -q H200 && echo h200 || echo h100)
ONLY=gpt2-124m-amp-b16-s1024-compiled,llama3-1b-amp-b8-s2048-compiled,llama3-1b-amp-b8-s2048-ckpt,llama3-1b-amp-b8-s2048,llama3-8b-8l-amp-b4-s4096-ckpt
(timeout 250 python3 validation/step_time/measure_steps.py --out $OUT/step_time_${G}b.json --only $ONLY;
 echo "step_time rc=$? $(el) s") > $OUT/step_time_log.txt 2>&1
(timeout 110 python3 validation/step_time/measure_steps.py --out $OUT/step_time_history_${G}.json \
   --only llama3-1b-amp-b8-s2048 --history $OUT; echo "history rc=$? $(el) s") > $OUT/history_log.txt 2>&1
ls -la $OUT >> $OUT/history_log.txt
nvidia-smi --query-gpu=clocks.sm,power.draw,temperature.gpu --format=csv,noheader >> $OUT/gpu.txt
tail -n 12 $OUT/*.txt
