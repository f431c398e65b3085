#!/usr/bin/env python3
"""compare.py — llmplan's predicted step time against the step times measure_steps.py measured.

For every measured run it writes the run's transformers config to a temporary file and runs

  llmplan plan --hf-config CFG --gpu GPU --gpus 1 --micro-batch B --global-batch B --seq S
               --precision amp-bf16|bf16 --attention flash --recompute none --json
               --framework F [--elementwise eager]

(the runs are eager transformers under torch.autocast: amp-bf16, and --elementwise eager for the
profiles that do not decide it themselves; the pytorch profile models eager transformers itself)

for each framework profile asked for (default: generic), then prints a markdown table of measured
and predicted step time and the error of the predicted throughput (+ = predicted faster), with
the median |error| and the mean signed error. Every run is held out (measure_steps.py: no
constant is fitted to them). Standard library only.

  python3 validation/step_time/compare.py [--llmplan build/llmplan] [--gpu h200]
      [--measurements validation/step_time/step_time_h200.json[,MORE.json]] [--frameworks generic,pytorch]
      [--out docs/validation/step_time.md] [--max-error 0.10]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PRECISION = {"amp-bf16": "amp-bf16", "bf16": "bf16"}


def plan(llmplan, cfg_path, r, gpu, framework):
    c = r["config"]
    cmd = [llmplan, "plan", "--hf-config", cfg_path, "--gpu", gpu, "--gpus", "1", "--micro-batch", str(c["batch"]),
           "--global-batch", str(c["batch"]), "--seq", str(c["seq"]), "--precision", PRECISION[c["precision"]],
           "--attention", "flash", "--recompute", c.get("recompute", "none"), "--framework", framework, "--json"]
    if c.get("compile"):
        cmd += ["--compile"] if framework == "pytorch" else ["--elementwise", "fused"]
    else:
        cmd += ["--elementwise", "eager"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, (p.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(p.stdout)["time"]["step_seconds"], None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llmplan", default=os.path.join(ROOT, "build", "llmplan"))
    ap.add_argument("--gpu", default="h200")
    ap.add_argument("--measurements", default=os.path.join(HERE, "step_time_h200.json"))
    ap.add_argument("--frameworks", default="generic")
    ap.add_argument("--out")
    ap.add_argument("--max-error", type=float, help="exit 1 when a planned run's |throughput error| exceeds this (ctest)")
    a = ap.parse_args()
    docs = [json.load(open(path)) for path in a.measurements.split(",")]
    frameworks = a.frameworks.split(",")
    lines = [f"Measured: {doc['gpu']} ({doc['nvidia_smi']}), torch {doc['versions']['torch']}, transformers "
             f"{doc['versions']['transformers']}, {doc['date_utc']}; {doc['timed_steps']} timed steps after "
             f"{doc['warmup_steps']} warm-up, median. All runs held out." for doc in docs]
    doc = {"results": [r for d in docs for r in d["results"]]}
    lines += ["",
             "| run | params | measured step | " + " | ".join(f"{f}: predicted, error" for f in frameworks) + " |",
             "| --- | ---: | ---: | " + " | ".join("---:" for _ in frameworks) + " |"]
    errors = {f: [] for f in frameworks}
    with tempfile.TemporaryDirectory() as tmp:
        for r in doc["results"]:
            c = r["config"]
            if "error" in r:
                lines.append(f"| {c['name']} | | not measured: {' '.join(r['error'].split())[:80]} | " + " | ".join("" for _ in frameworks) + " |")
                continue
            if c.get("compile") and "pytorch" not in frameworks:
                continue  # torch.compile: planned by the pytorch profile's --compile only
            path = os.path.join(tmp, c["name"] + ".json")
            with open(path, "w") as f:
                json.dump(r["hf_config"], f)
            cells = []
            for fw in frameworks:
                pred, err = plan(a.llmplan, path, r, a.gpu, fw)
                if pred is None:
                    cells.append(f"refused: {err[:60]}")
                    continue
                e = r["step_s"] / pred - 1  # throughput error: predicted tokens/s over measured, minus 1
                errors[fw].append(e)
                cells.append(f"{pred * 1e3:.1f} ms, {e:+.1%}")
            lines.append(f"| {c['name']} | {r['parameters'] / 1e6:.0f}M | {r['step_s'] * 1e3:.1f} ms | " + " | ".join(cells) + " |")
    lines.append("")
    for fw in frameworks:
        e = errors[fw]
        if e:
            lines.append(f"- {fw}: {len(e)} runs, median |error| {statistics.median(abs(x) for x in e):.1%}, "
                         f"mean signed {statistics.mean(e):+.1%}, max |error| {max(abs(x) for x in e):.1%}")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    if a.max_error is not None:
        worst = max((abs(x) for e in errors.values() for x in e), default=None)
        if worst is None or worst > a.max_error or any(not e for e in errors.values()):
            print(f"FAIL: worst |error| {worst} against --max-error {a.max_error} (or a framework planned nothing)")
            sys.exit(1)


if __name__ == "__main__":
    main()
