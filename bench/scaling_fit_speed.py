#!/usr/bin/env python3
"""How long `llmplan scaling --fit` takes on 10^3, 10^4 and 10^5 runs, side by side with another
binary (say main's) on the same files.

The runs are generated: N log-uniform in [1e7, 1e11], D log-uniform in [1e9, 1e13], the loss from
Chinchilla's published law E + A/N^alpha + B/D^beta (1.69, 406.4, 410.7, 0.34, 0.28;
docs/REFERENCES.md §5) times exp(noise), the noise normal with sigma 0.01, a fixed seed per size.
Each binary fits each file once per round, in turn (A B A B ...); a fit that passes the limit is
stopped and shown as "> LIMIT s". Prints a Markdown table: median wall time, the ratio A / B and
the fitted alpha and beta of each (the two fits must agree to the digits shown).

Usage: bench/scaling_fit_speed.py [--rounds 3] [--limit 300] [--sizes 1000,10000,100000] A [B]
"""
import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def write_runs(n, path):
    rng = random.Random(20240416 + n)
    with open(path, "w") as f:
        f.write("parameters,tokens,loss\n")
        for _ in range(n):
            N = 10 ** rng.uniform(7, 11)
            D = 10 ** rng.uniform(9, 13)
            L = (1.69 + 406.4 / N ** 0.34 + 410.7 / D ** 0.28) * math.exp(rng.gauss(0, 0.01))
            f.write(f"{N:.6g},{D:.6g},{L:.6f}\n")


def fit(binary, csv, limit):
    """(seconds or None past the limit, 'alpha, beta')."""
    start = time.monotonic()
    try:
        p = subprocess.run([binary, "scaling", "--fit", csv, "--json"], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None, "-"
    seconds = time.monotonic() - start
    if p.returncode != 0:
        sys.exit(f"{binary} scaling --fit {csv}: exit {p.returncode}: {p.stderr.strip()}")
    law = json.loads(p.stdout)["law"]
    return seconds, f"{law['alpha']:.4f}, {law['beta']:.4f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b", nargs="?")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=float, default=300)
    ap.add_argument("--sizes", default="1000,10000,100000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    binaries = [args.a] + ([args.b] if args.b else [])
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, {cpu}; load average "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])} at the start")
    print(f"date:    {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("binaries: " + "   ".join(f"{n}: {b}" for n, b in zip("AB", binaries)))
    print(f"command: {' '.join(sys.argv)}")
    print()
    head = ["runs"] + [f"{n} wall, median of {args.rounds}" for n in "AB"[: len(binaries)]]
    if args.b:
        head.append("A / B")
    head += [f"{n}: alpha, beta" for n in "AB"[: len(binaries)]]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    with tempfile.TemporaryDirectory() as work:
        for n in sizes:
            csv = os.path.join(work, f"runs_{n}.csv")
            write_runs(n, csv)
            times = [[] for _ in binaries]
            laws = ["-"] * len(binaries)
            for _ in range(args.rounds):
                for i, b in enumerate(binaries):
                    t, law = fit(b, csv, args.limit)
                    times[i].append(t)
                    laws[i] = law
            med = [None if None in t else statistics.median(t) for t in times]
            shown = [f"> {args.limit:g} s" if m is None else f"{m:.2f} s" for m in med]
            row = [str(n)] + shown
            if args.b:
                a, b = med
                row.append("-" if a is None else f"< {a / args.limit:.3g}" if b is None else f"{a / b:.3g}")
            print("| " + " | ".join(row + laws) + " |", flush=True)


if __name__ == "__main__":
    main()
