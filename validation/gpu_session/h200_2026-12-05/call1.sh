#!/bin/bash
# Device call 1 (2026-12-05): GPU tests, transformers counts, family traces and every 1-GPU PyTorch
# measurement group, in parallel (memory measurements are per process; timings are not used here).
set -u
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
export PYTHONUNBUFFERED=1 TORCHINDUCTOR_COMPILE_THREADS=4
R=/tmp/r; rm -rf $R; mkdir -p $R/alloc_history
T0=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv,noheader > $R/gpu.txt
python3 -c "import torch,transformers;print(torch.__version__,transformers.__version__,torch.version.cuda)" >> $R/gpu.txt 2>&1
( (timeout 300 .gpu/bin/llmplan_gpu_kernels; echo "gpu.kernels rc=$?") > $R/gpu_kernels.txt 2>&1
  (timeout 240 .gpu/bin/llmplan_gpu_engine; echo "gpu.engine rc=$?") > $R/gpu_engine.txt 2>&1
  (timeout 60 .gpu/bin/llmplan_gpu_smoke; echo "gpu.smoke rc=$?") > $R/gpu_smoke.txt 2>&1 ) &
(timeout 300 python3 validation/params/count_params.py models tests/data/hf --out $R/transformers_counts.json; echo "count_params rc=$?") > $R/count_params.txt 2>&1 &
(timeout 400 python3 validation/pytorch_memory/trace_ops.py --out $R/traces_families --families qwen3,gemma2,gemma3_text,gpt_neox; echo "trace_ops rc=$?") > $R/trace_ops.txt 2>&1 &
(timeout 520 python3 validation/pytorch_memory/measure.py --all --shapes qwen3-0.6b,gemma2-300m,gemma3-270m,pythia-410m --jobs 4 --out $R/pytorch_1gpu_families.json; echo "measure rc=$?") > $R/measure.txt 2>&1 &
(LLMPLAN_HISTORY_DIR=$R/alloc_history timeout 530 python3 validation/pytorch_memory/measure.py --all --group compile,optim,accum,sac,trainer,alloc --jobs 6 --out $R/pytorch_choices_1gpu.json; echo "groups rc=$?") > $R/groups.txt 2>&1 &
wait
echo "elapsed $(( $(date +%s) - T0 )) s" >> $R/gpu.txt
# the allocator histories are large: keep them only if small enough to come back
du -sb $R/alloc_history >> $R/gpu.txt
tar -C /tmp -czf $OUT/call1.tgz --exclude=r/alloc_history r
tar -C /tmp -czf $OUT/history.tgz r/alloc_history; [ $(stat -c %s $OUT/history.tgz) -lt 16000000 ] || { echo "history.tgz too large, dropped" >> $R/gpu.txt; rm $OUT/history.tgz; }
ls -la $OUT; tail -n 2 $R/*.txt
