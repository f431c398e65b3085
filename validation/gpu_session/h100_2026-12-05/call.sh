#!/bin/bash
# Device call (2026-12-05, fourth session; lent H100 SXM): the H100's kernel tables, alone on the GPU,
# by validation/kernels/measure_kernels.py (the H200 table's script; a 130 s budget for the device
# time left). Outputs in $OUT: kernel_tables_h100.json, its log and gpu.txt.
set -u
export PYTHONUNBUFFERED=1
T0=$(date +%s)
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader
  python3 -c "import torch;print(torch.__version__,torch.version.cuda)"; date -u +%FT%TZ; } > $OUT/gpu.txt 2>&1
(timeout 150 python3 validation/kernels/measure_kernels.py --out $OUT/kernel_tables_h100.json --budget-seconds 130;
 echo "measure_kernels rc=$? $(( $(date +%s) - T0 )) s") > $OUT/kernel_tables_h100_log.txt 2>&1
nvidia-smi --query-gpu=clocks.sm,power.draw,temperature.gpu --format=csv,noheader >> $OUT/gpu.txt
tail -n 3 $OUT/*.txt
