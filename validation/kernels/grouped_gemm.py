#!/usr/bin/env python3
"""A mixture-of-experts layer's expert GEMMs, timed on one CUDA GPU three ways; writes one JSON file.

llmplan's time model (planner/perf.cpp, "Routed experts run as grouped GEMMs") times each local
expert's up (with gate) and down GEMM at the kernel table's rate for ONE GEMM of that expert's
shape (m = the tokens routed to it, k, n), i.e. it assumes a grouped GEMM runs its experts as fast
as the same GEMMs launched one by one. This script checks that assumption where it matters, at the
expert shapes of the published MoE runs llmplan is validated on (docs/validation/published_runs.md):

  grouped   torch._grouped_mm over the E local experts (PyTorch's grouped GEMM, which torchtitan's
            MoE calls; Megatron-Core's TEGroupedMLP calls Transformer Engine's grouped GEMM, which
            is not installed on the lent machine)
  loop      E torch.mm calls, one per expert (cuBLAS: the kernel table's kind of GEMM)
  merged    one torch.mm of all E·m rows against one expert's weight (the same FLOPs as one dense
            GEMM: the best case)

each for the forward (x_e · W_e), the input gradient (dy_e · W_eᵀ) and the weight gradient
(x_eᵀ · dy_e), in bf16, reported as TFLOP/s on the same FLOP count (2·E·m·k·n per product).

  grouped_gemm.py --out FILE [--reps 20]

Output schema "llmplan.grouped-gemm/1".
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gpu_timing import timed  # noqa: E402  (validation/gpu_timing.py: median of CUDA-event times, in seconds)

# name, local experts E, tokens per expert m, model width d, expert width f, gated (up+gate in one GEMM)
CONFIGS = [
    ("gpt-oss-120b ep8 mbs1 (H100 row)", 16, 1024, 2880, 2880, True),
    ("gpt-oss-120b ep8 mbs4 (B200 row)", 16, 4096, 2880, 2880, True),
    ("qwen3-30b-a3b ep16 mbs1", 8, 4096, 2048, 768, True),
    ("qwen3-235b-a22b ep32 etp1", 4, 4096, 4096, 1536, True),
    ("deepseek-v3 ep32", 8, 4096, 7168, 2048, True),
    ("fine-grained, few tokens", 32, 256, 2048, 1536, True),
]


def one(E, m, k, n, reps):
    dev, dt = "cuda", torch.bfloat16
    x = torch.randn(E * m, k, device=dev, dtype=dt)
    w = torch.randn(E, n, k, device=dev, dtype=dt)  # row-major (n, k) per expert, as nn.Linear
    dy = torch.randn(E * m, n, device=dev, dtype=dt)
    offs = torch.arange(m, E * m + 1, m, device=dev, dtype=torch.int32)
    wt = w.transpose(-2, -1)  # (E, k, n) view: x_e · W_eᵀ
    flops = 2.0 * E * m * k * n
    xs, dys = x.split(m), dy.split(m)
    res = {}
    res["grouped_fwd"] = timed(lambda: torch._grouped_mm(x, wt, offs=offs), reps=reps)
    res["grouped_dgrad"] = timed(lambda: torch._grouped_mm(dy, w, offs=offs), reps=reps)
    res["grouped_wgrad"] = timed(lambda: torch._grouped_mm(dy.t(), x, offs=offs), reps=reps)
    res["loop_fwd"] = timed(lambda: [torch.mm(xs[e], wt[e]) for e in range(E)], reps=reps)
    res["loop_dgrad"] = timed(lambda: [torch.mm(dys[e], w[e]) for e in range(E)], reps=reps)
    res["loop_wgrad"] = timed(lambda: [torch.mm(dys[e].t(), xs[e]) for e in range(E)], reps=reps)
    res["merged_fwd"] = timed(lambda: torch.mm(x, wt[0]), reps=reps)
    res["merged_dgrad"] = timed(lambda: torch.mm(dy, w[0]), reps=reps)
    res["merged_wgrad"] = timed(lambda: torch.mm(dy.t(), x), reps=reps)
    return {key: {"ms": v * 1e3, "tflops": flops / v / 1e12} for key, v in res.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=20)
    a = ap.parse_args()
    rows = []
    for name, E, m, d, f, gated in CONFIGS:
        for gemm, k, n in (("up" + ("+gate" if gated else ""), d, (2 if gated else 1) * f), ("down", f, d)):
            r = one(E, m, k, n, a.reps)
            rows.append({"config": name, "gemm": gemm, "experts": E, "m": m, "k": k, "n": n, "results": r})
            print(f"{name:34} {gemm:8} E{E:3} m{m:5} k{k:5} n{n:5} " +
                  " ".join(f"{key} {v['tflops']:6.0f}" for key, v in r.items()), flush=True)
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,power.limit,clocks.max.sm", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    out = {"schema": "llmplan.grouped-gemm/1", "date": datetime.date.today().isoformat(),
           "gpu": torch.cuda.get_device_name(), "nvidia_smi": smi, "torch": torch.__version__,
           "cuda": torch.version.cuda, "dtype": "bf16", "reps": a.reps, "rows": rows}
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
