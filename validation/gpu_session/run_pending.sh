#!/bin/bash
# Every GPU measurement the repository waits for. Run from the repository root on the lent machine:
#   validation/gpu_session/run_pending.sh BIN OUT [STEPS]
# STEPS (default all): a comma list of tests, counts, traces, measure — one device call is at
# most 10 minutes, so run "tests,counts" in one call and "traces" and "measure" in others.
# BIN holds build/llmplan, build/libllmplan_cuda.so and build/tests/llmplan_gpu_{kernels,engine}
# built on the CPU machine (CUDA 13, sm_90) and carried over; OUT receives:
#   gpu_kernels.txt, gpu_engine.txt      the GPU tests of the engine on this tree;
#   transformers_counts.json             validation/params/count_params.py: numel() of every
#                                        parameter transformers builds for models/*.json and
#                                        tests/data/hf/*.json (meta device, no memory needed);
#   pytorch_1gpu_families.json           validation/pytorch_memory/measure.py for the Qwen3,
#                                        Gemma 2/3 and GPT-NeoX shapes (held-out runs marked);
#   traces_families/                     trace_ops.py op traces of the same families.
# Each step runs even when an earlier one fails; the last line of each file says its exit code.
set -u
bin=$1
out=$2
steps=,${3:-tests,counts,traces,measure},
want() { [[ $steps == *",$1,"* ]]; }
mkdir -p "$out"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/lib:${LD_LIBRARY_PATH:-}
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
tail -n 1 "$out"/*.txt 2>/dev/null
