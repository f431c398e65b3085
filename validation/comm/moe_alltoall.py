#!/usr/bin/env python3
"""llmplan's MoE all-to-all time against Megatron Core's measured all-to-all latencies
(moe_alltoall_table7.json: arXiv:2603.07685 Table 7, H100 and GB200, EP 8-64; held out): NCCL's
all-to-all (the alltoall dispatcher, llmplan's generic all-to-all) and HybridEP (the flex
dispatcher, `--framework megatron --framework-option moe_token_dispatcher_type=flex`).

  moe_alltoall.py --llmplan build/llmplan            print the two comparisons (markdown)
  moe_alltoall.py --llmplan build/llmplan --check    also fail unless every NCCL row is within
                                                     --tolerance (default 20%) of its measurement
                                                     (the HybridEP rows are printed, not checked)

For each row it plans one DeepSeek-V3 job whose all-to-all buffer is the table's (4,096 tokens per
rank, top-8, hidden 7,168, 16-bit: 469,762,048 B) with `llmplan plan --json` and reads the planned
time of one all-to-all (communication.collectives[].seconds_each); docs/PERFORMANCE_MODEL.md §3
("MoE all-to-all") records the result.
Python 3 standard library only.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUFFER = 4096 * 8 * 7168 * 2


def planned_seconds(llmplan, row, flex=False):
    ep = row["ep"]
    args = [llmplan, "plan", "--json", "--model", "deepseek-v3", "--gpu", row["gpu"], "--gpus", str(ep),
            "--gpus-per-node", str(row["gpus_per_node"]), "--ep", str(ep), "--zero", "1", "--micro-batch", "1",
            "--global-batch", str(ep), "--seq", "4096"]
    if flex:
        args += ["--framework", "megatron", "--framework-option", "moe_token_dispatcher_type=flex"]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"moe_alltoall.py: {' '.join(args[1:])}: {p.stderr.strip()}")
    for c in json.loads(p.stdout)["communication"]["collectives"]:
        if c["kind"] == "all-to-all":
            if int(c["bytes"]) != BUFFER:
                raise SystemExit(f"moe_alltoall.py: planned buffer {c['bytes']:.0f} B, the table's is {BUFFER} B")
            return c["seconds_each"]
    raise SystemExit("moe_alltoall.py: the plan has no all-to-all")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llmplan", required=True)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--tolerance", type=float, default=0.20)
    a = ap.parse_args()
    with open(os.path.join(HERE, "moe_alltoall_table7.json")) as f:
        data = json.load(f)
    bad = []
    for flex, keys, title in ((False, ("dispatch_us", "combine_us"), "NCCL all-to-all (alltoall dispatcher)"),
                              (True, ("hybridep_dispatch_us", "hybridep_combine_us"), "HybridEP (flex dispatcher)")):
        print(f"\n{title}\n")
        print("| GPU | EP | planned µs | dispatch µs (error) | combine µs (error) |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for row in data["rows"]:
            us = planned_seconds(a.llmplan, row, flex) * 1e6
            cells = []
            for key in keys:
                err = us / row[key] - 1
                cells.append(f"{row[key]} ({err:+.1%})")
                if not flex and abs(err) > a.tolerance:
                    bad.append(f"{row['gpu']} EP {row['ep']} {key}: {err:+.1%}")
            print(f"| {row['gpu']} | {row['ep']} | {us:.0f} | {cells[0]} | {cells[1]} |")
    if a.check and bad:
        print("beyond ±{:.0%}: ".format(a.tolerance) + "; ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
