#!/bin/bash
# Device call (2026-12-05, fourth session; call3.sh cut to 450 s for the device time left): one call for whichever GPU the device tool lends (gpu.txt
# names it), everything timed alone on the GPU, in this order:
#  1. on an H100 only: validation/kernels/measure_kernels.py, the H100's kernel tables (GEMM,
#     attention, memory-bound; the script and arguments of the H200 table but a 150 s budget);
#  2. validation/step_time/measure_steps.py: held-out PyTorch step times on one GPU;
#  3. `llmplan profile calibrate --kernel-table` on GPT-2 124M (the kernel table a user writes for
#     their GPU), then `llmplan plan --kernel-table` reading it back;
#  4. the GPU tests gpu.kernels, gpu.engine and gpu.smoke on the current tree.
# .gpu/bin: build/llmplan, build/libllmplan_cuda.so, build/tests/llmplan_gpu_{kernels,engine,smoke}
# built on the CPU machine (CUDA 13, sm_90) at aa8820c, libtomlplusplus.so.3 in .gpu/bin/lib.
set -u
export PYTHONUNBUFFERED=1
B=$PWD/.gpu/bin
export LD_LIBRARY_PATH=$B/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
T0=$(date +%s)
el() { echo $(( $(date +%s) - T0 )); }
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader
  python3 -c "import torch,transformers;print(torch.__version__,transformers.__version__,torch.version.cuda)"
  date -u +%FT%TZ; } > $OUT/gpu.txt 2>&1
G=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | grep -q H200 && echo h200 || echo h100)
STEP_S=180
if [ $G = h100 ]; then
  (timeout 140 python3 validation/kernels/measure_kernels.py --out $OUT/kernel_tables_h100.json --budget-seconds 125;
   echo "measure_kernels rc=$? $(el) s") > $OUT/kernel_tables_h100_log.txt 2>&1
  STEP_S=100
fi
(timeout $STEP_S python3 validation/step_time/measure_steps.py --out $OUT/step_time_$G.json;
 echo "step_time rc=$? $(el) s") > $OUT/step_time_log.txt 2>&1
CAL_S=$(( 290 - $(el) )); [ $CAL_S -gt 60 ] && CAL_S=60
if [ $CAL_S -gt 20 ]; then
  (timeout $CAL_S $B/llmplan profile calibrate --model gpt2-124m --precision mixed-bf16 --micro-batch 4,8 --seq 1024 \
     --attention flash --out $OUT/calibration_gpt2.json --kernel-table $OUT/kernel_table_calibrate_gpt2.json;
   echo "calibrate rc=$? $(el) s") > $OUT/calibrate.txt 2>&1
  (timeout 20 $B/llmplan plan --model gpt2-124m --gpu $G --micro-batch 8 --seq 1024 \
     --kernel-table $OUT/kernel_table_calibrate_gpt2.json; echo "plan rc=$?") >> $OUT/calibrate.txt 2>&1
fi
T_S=$(( 450 - $(el) )); [ $T_S -gt 150 ] && T_S=150
(timeout $T_S $B/llmplan_gpu_kernels; echo "gpu.kernels rc=$? $(el) s") > $OUT/gpu_kernels.txt 2>&1 &
(timeout $T_S $B/llmplan_gpu_engine; echo "gpu.engine rc=$? $(el) s") > $OUT/gpu_engine.txt 2>&1 &
(timeout 60 $B/llmplan_gpu_smoke; echo "gpu.smoke rc=$?") > $OUT/gpu_smoke.txt 2>&1 &
wait
nvidia-smi --query-gpu=clocks.sm,power.draw,temperature.gpu --format=csv,noheader >> $OUT/gpu.txt
tail -n 2 $OUT/*.txt
