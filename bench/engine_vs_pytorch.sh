#!/usr/bin/env bash
# engine_vs_pytorch.sh — the side-by-side: llmplan's engine (`llmplan profile`, mixed-bf16,
# flash attention, no recompute) and the PyTorch baseline (bench/pytorch_baseline.py: torch.compile,
# bf16 autocast, flash SDPA, fused AdamW) on the same model, batch and sequence, in one call on one
# GPU. Writes OUT/<config>.{engine,pytorch}.json and prints the table of bench/NOTES.md last.
# Usage: bench/engine_vs_pytorch.sh LLMPLAN OUT [CONFIG ...]   (CONFIG: model:batch:seq)
set -u
bin=$1
out=$2
shift 2
configs=${*:-gpt2-124m:16:1024 gpt2-350m:16:1024 tinyllama-1.1b:4:2048}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for c in $configs; do
    IFS=: read -r model batch seq <<<"$c"
    name="${model}_b${batch}_s${seq}"
    "$bin" models "$model" --json >"$out/$name.shape.json"
    timeout 300 python3 "$here/pytorch_baseline.py" --model-json "$out/$name.shape.json" --batch "$batch" --seq "$seq" \
        --steps 20 --warmup 5 >"$out/$name.pytorch.json" 2>"$out/$name.pytorch.err"
    echo "$name pytorch rc=$?"
    timeout 300 "$bin" profile --device cuda --framework llmplan --json --model "$model" --precision mixed-bf16 \
        --attention flash --recompute none --micro-batch "$batch" --seq "$seq" --steps 10 --warmup 2 \
        ${CAL:+--calibration "$CAL"} >"$out/$name.engine.json" 2>"$out/$name.engine.err"
    echo "$name engine rc=$?"
done
python3 - "$out" $configs <<'PY'
import json, sys
out = sys.argv[1]
print("| config | llmplan tokens/s | PyTorch tokens/s | ratio | llmplan MFU | PyTorch MFU | llmplan step | predicted (planner) | error |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for c in sys.argv[2:]:
    model, batch, seq = c.split(":")
    name = f"{model}_b{batch}_s{seq}"
    try:
        ej = json.load(open(f"{out}/{name}.engine.json"))
        e = ej["measured"]
        p = json.load(open(f"{out}/{name}.pytorch.json"))
    except Exception as ex:  # a failed run is reported, not hidden
        print(f"| {name} | failed: {ex} | | | | |")
        continue
    et, pt = e["time"]["tokens_per_second"], p["tokens_per_second"]
    mfu = e["time"]["mfu"]
    step = e["time"]["step_seconds"]["median"]
    pred = ej["predicted"]["time"]["step_seconds"]
    print(f"| {model} {batch}×{seq} | {et/1e3:.1f}K | {pt/1e3:.1f}K | {et/pt:.2f} | {100*mfu:.1f}% | {100*mfu*pt/et:.1f}% "
          f"| {1e3*step:.1f} ms | {1e3*pred:.1f} ms | {100*(pred-step)/step:+.1f}% |")
PY
