#!/usr/bin/env python3
"""Fits the Megatron profile's MoE host work per local expert (planner/framework_megatron.cpp,
kMoeHostSecondsPerLocalExpert; docs/PERFORMANCE_MODEL.md §2, "MoE host work") on the `fit` MoE runs
of runs.json, and reports what the fitted value gives on the `held_out` ones.

    fit_moe_host.py --llmplan build/llmplan

Each MoE run with a --framework megatron prediction is planned with its recipe's settings; the
report's time.moe_host gives the term's size u = local experts × MoE layer passes (0 under a
full-iteration CUDA graph or a graphed MoE layer) and step_seconds − moe_host_seconds the step
without it. The constant c minimises Σ ln²(measured step / (step₀ + c·u)) over the fit runs with
u > 0 (bisection on the derivative; the sum is convex in c here). Nothing is written: the value is
copied into the source by hand, with this script's output in the docs. Python 3 standard library.
"""
import argparse, json, math, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as R  # noqa: E402


def moe_rows(llmplan):
    runs = json.load(open(os.path.join(HERE, "runs.json")))["runs"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in runs:
            if "not_expressible" in run:
                continue
            flags = R.framework_flags(run)
            if flags is None or flags[1] != "megatron":
                continue
            args = R.plan_args(run, tmp, framework=True) + flags
            p = subprocess.run([llmplan, "plan", "--json"] + args, capture_output=True, text=True)
            if p.returncode != 0:
                continue
            t = json.loads(p.stdout)["time"]
            h = t["moe_host"]
            meas, _ = R.measured_throughput(run)
            if meas is None:
                continue
            measured_step = run["batch"]["global"] * run["seq"] / (meas * run["gpu"]["count"])
            u = h["local_experts"] * h["layer_passes"]
            step0 = t["step_seconds"] - t["moe_host_seconds"]
            # MoE runs: those with the term, and those whose MoE layers a CUDA graph covers (the
            # recipes of dense runs here set no cuda_graph option)
            if h["local_experts"] > 0 or any(o.startswith("cuda_graph") for o in run.get("framework_options", [])):
                rows.append({"id": run["id"], "split": run["split"], "u": u, "step0": step0, "measured": measured_step,
                             "constant": h["per_local_expert_seconds"]})
    return rows


def loss_grad(rows, c):
    return sum(-2 * math.log(r["measured"] / (r["step0"] + c * r["u"])) * r["u"] / (r["step0"] + c * r["u"]) for r in rows)


def fit(rows):
    lo, hi = 0.0, 0.01
    for _ in range(200):
        mid = (lo + hi) / 2
        (lo, hi) = (mid, hi) if loss_grad(rows, mid) < 0 else (lo, mid)
    return (lo + hi) / 2


def summary(rows, c):
    errs = [r["measured"] / (r["step0"] + c * r["u"]) - 1 for r in rows]  # throughput error
    return (f"{len(errs)} runs: median |error| {100 * statistics.median(abs(e) for e in errs):.1f}%, "
            f"mean {100 * statistics.mean(errs):+.1f}%, {sum(abs(e) > 0.25 for e in errs)} beyond ±25%")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llmplan", default=os.path.join(HERE, "..", "..", "build", "llmplan"))
    ap.add_argument("--check", action="store_true",
                    help="fail unless the fit gives llmplan's own constant (its reports' per_local_expert_seconds) to within 1%%")
    a = ap.parse_args()
    rows = moe_rows(a.llmplan)
    fit_rows = [r for r in rows if r["split"] == "fit" and r["u"] > 0]
    c = fit(fit_rows)
    print(f"fitted on {len(fit_rows)} MoE fit runs with host work: {1e3 * c:.4f} ms per local expert per MoE layer pass")
    for split in ("fit", "held_out"):
        part = [r for r in rows if r["split"] == split]
        print(f"  {split:8s} without the term: {summary(part, 0)}")
        print(f"  {split:8s} with {1e3 * c:.2f} ms:     {summary(part, c)}")
    if a.check:
        used = max(r["constant"] for r in rows)
        if abs(c / used - 1) > 0.01:
            sys.exit(f"fit_moe_host.py: the fit gives {1e3 * c:.4f} ms, llmplan uses {1e3 * used:.4f} ms: refit "
                     "(kMoeHostSecondsPerLocalExpert, planner/framework_megatron.cpp) or explain the change")
        print(f"llmplan's constant {1e3 * used:.4f} ms is the fit's to within 1%")


if __name__ == "__main__":
    main()
