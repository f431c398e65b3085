#!/bin/bash
# Every GPU measurement the repository still waits for. Run from the repository root on the lent machine:
#   validation/gpu_session/run_pending.sh BIN OUT [STEPS]
# Done on 2026-12-05 on one H200 (validation/gpu_session/h200_2026-12-05/): tests, counts, traces,
# measure and the 1-GPU groups (pt_optim, pt_accum_sac, pt_trainer_alloc, pt_compile), the kernel
# tables (validation/kernels/). Done on 2026-12-05 (second call, validation/gpu_session/h200_2026-12-05b/,
# one H200, tree aa8820c): tests (gpu.kernels 919 checks, gpu.engine 322 checks, gpu.smoke: all pass),
# step_time (7 of 9 runs; the two torch.compile runs fail in Dynamo with the flash backend forced),
# and `profile calibrate --kernel-table` read back by `plan --kernel-table`. Not yet: an H100 kernel
# table (validation/kernels/measure_kernels.py on a lent H100). Still to run (STEPS, default all of these):
#   tests        gpu.kernels / gpu.engine on the current tree (run whenever device code changes);
#   step_time    validation/step_time/measure_steps.py: PyTorch step times on one GPU, held out,
#                for the time model (compare with validation/step_time/compare.py); alone on the GPU;
#   mfu34b       llmplan profile of the Llama-style 3.4B (head size 100, bench/data/llama-3.4b-hd100.json)
#                on the CUDA engine: the MFU target of the engine (at least 180 s for the first run);
#   history_nx   measure.py's hist-nx-amp-sdpa-b8-s2048-ckpt: the allocator history of the one
#                PyTorch run whose reserved memory the replay misses (+17.6%);
#   pt_optim2, pt_accum2   the 2-GPU PyTorch groups (need 2 GPUs: the multi-GPU issue).
# One device call is at most 10 minutes: put "tests,step_time" in one call, the others in another.
# BIN holds build/llmplan, build/libllmplan_cuda.so and build/tests/llmplan_gpu_{kernels,engine}
# built on the CPU machine (CUDA 13, sm_90) and carried over (llmplan also needs
# libtomlplusplus.so.3 from the build machine in BIN/lib). Each step runs even when an earlier one
# fails; the last line of each output file says its exit code. Older steps stay available by name:
# counts, traces, measure, pt_optim, pt_accum_sac, pt_trainer_alloc, pt_compile.
set -u
bin=$1
out=$2
steps=,${3:-tests,step_time,mfu34b,history_nx,pt_optim2,pt_accum2},
want() { [[ $steps == *",$1,"* ]]; }
mkdir -p "$out"
export LD_LIBRARY_PATH=$bin/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
if want tests; then
(timeout 240 "$bin/llmplan_gpu_kernels"; echo "gpu.kernels rc=$?") >"$out/gpu_kernels.txt" 2>&1
(timeout 240 "$bin/llmplan_gpu_engine"; echo "gpu.engine rc=$?") >"$out/gpu_engine.txt" 2>&1
fi
want counts && (timeout 240 python3 validation/params/count_params.py models tests/data/hf --out "$out/transformers_counts.json";
 echo "count_params rc=$?") >"$out/count_params.txt" 2>&1
want traces && (timeout 560 python3 validation/pytorch_memory/trace_ops.py --out "$out/traces_families" \
     --families qwen3,gemma2,gemma3_text,gpt_neox; echo "trace_ops rc=$?") >"$out/trace_ops.txt" 2>&1
want measure && (timeout 560 python3 validation/pytorch_memory/measure.py --all \
     --shapes qwen3-0.6b,gemma2-300m,gemma3-270m,pythia-410m --jobs 2 \
     --out "$out/pytorch_1gpu_families.json"; echo "measure rc=$?") >"$out/measure.txt" 2>&1
pt() {  # step name, output stem, measure.py arguments
  local step=$1 stem=$2; shift 2
  want "$step" && (timeout 570 python3 validation/pytorch_memory/measure.py --all "$@" \
     --out "$out/pytorch_choices_$stem.json"; echo "$step rc=$?") >"$out/$stem.txt" 2>&1
}
pt pt_optim optim --group optim --jobs 2
pt pt_optim2 optim2 --group optim --gpus 2
pt pt_accum_sac accum_sac --group accum,sac --jobs 2
pt pt_accum2 accum2 --group accum --gpus 2
mkdir -p "$out/alloc_history"
export LLMPLAN_HISTORY_DIR="$out/alloc_history"
pt pt_trainer_alloc trainer_alloc --group trainer,alloc --jobs 2
pt pt_compile compile --group compile --jobs 2
want step_time && (timeout 300 python3 validation/step_time/measure_steps.py --out "$out/step_time.json";
 echo "step_time rc=$?") >"$out/step_time.txt" 2>&1
want mfu34b && for rc in none selective full; do
  (timeout 200 "$bin/llmplan" profile --device cuda --framework llmplan --hf-config bench/data/llama-3.4b-hd100.json \
     --gpu h200 --precision mixed-bf16 --recompute $rc --micro-batch 4 --global-batch 4 --seq 2048 --steps 3 --warmup 1 \
     --json --report "$out/mfu_3.4b_$rc.json"; echo "mfu34b $rc rc=$?") >"$out/mfu_3.4b_$rc.txt" 2>&1
done
want history_nx && (LLMPLAN_HISTORY_DIR="$out/alloc_history" timeout 120 python3 validation/pytorch_memory/measure.py \
     --run hist-nx-amp-sdpa-b8-s2048-ckpt > "$out/hist_nx.json"; echo "history_nx rc=$?") >"$out/history_nx.txt" 2>&1
tail -n 1 "$out"/*.txt 2>/dev/null
