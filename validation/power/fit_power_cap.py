#!/usr/bin/env python3
"""Fit the static share s of llmplan's power-limit model (docs/PERFORMANCE_MODEL.md §2) to the
power-limit traces published with Zeus (You, Chung and Chowdhury, NSDI 2023).

The model: under a board power limit P, a GPU that draws P0 without one runs its clock at
    f = ((P/P0 - s) / (1 - s)) ** (1/3)
of the uncapped clock (dynamic power ~ f * V^2 with V ~ f, above a static share s of P0), and a
compute-bound step takes 1/f as long. The traces give, per (workload, batch size, optimizer), the
time of one epoch and the average power at each power limit; P0 is the average power at the
highest limit (the GPU's default). Only the transformer workload (BERT-base fine-tuning on SQuAD
and Sentiment140) is used: the others draw far less than the board limit.

Data (not copied into this repository): github.com/ml-energy/zeus, commit 75a8b9398034,
examples/research_reproducibility/zeus_nsdi23/trace/summary_power_{v100,a40,rtx6000}.csv.
Usage: fit_power_cap.py summary_power_v100.csv summary_power_a40.csv summary_power_rtx6000.csv
No dependencies beyond Python 3.
"""
import csv
import math
import sys
from collections import defaultdict


def points(path):
    runs = defaultdict(dict)
    for r in csv.DictReader(open(path)):
        if r["network"] != "bert_base_uncased":
            continue
        key = (r["dataset"], r["batch_size"], r["optimizer"])
        runs[key][float(r["power_limit"])] = (float(r["time_per_epoch"]), float(r["average_power"]))
    out = []
    for by_limit in runs.values():
        top = max(by_limit)
        t0, p0 = by_limit[top]
        for limit, (t, _) in by_limit.items():
            if limit < top:
                out.append((limit / p0, t0 / t))  # (limit / uncapped draw, speed relative to uncapped)
    return out


def clock(x, s):
    if x >= 1:
        return 1.0
    if x <= s:
        return 0.0
    return ((x - s) / (1 - s)) ** (1 / 3)


def main():
    data = {path: points(path) for path in sys.argv[1:]}
    every = [p for pts in data.values() for p in pts]
    best = min((sum((clock(x, s / 1000) - r) ** 2 for x, r in every), s / 1000) for s in range(0, 900))
    s = best[1]
    print(f"points {len(every)}  s = {s:.3f}  rms {math.sqrt(best[0] / len(every)):.3f}")
    for path, pts in data.items():
        res = [clock(x, s) - r for x, r in pts]
        print(f"  {path}: {len(pts)} points, mean residual {sum(res) / len(res):+.3f}, "
              f"rms {math.sqrt(sum(e * e for e in res) / len(res)):.3f}")
    for x in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        near = [r for xx, r in every if abs(xx - x) < 0.05]
        if near:
            print(f"  limit/draw {x:.1f}: measured mean {sum(near) / len(near):.3f} (n {len(near)}), model {clock(x, s):.3f}")


if __name__ == "__main__":
    main()
