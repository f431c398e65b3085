#!/usr/bin/env python3
"""Fits the Megatron profile's fitted constants on the `fit` runs of runs.json and reports what they
give on the `held_out` ones (planner/framework_megatron.cpp; docs/PERFORMANCE_MODEL.md):

  s  the MoE host work per MoE layer forward, one for the torch.distributed token dispatchers
     (allgather, alltoall: kMoeHostSecondsPerLayerForwardTorch) and one for the flex dispatcher
     (kMoeHostSecondsPerLayerForwardFlex; §2, "MoE host work"): the report's time.moe_host gives
     its size v = the MoE layer forwards of the step (v_torch or v_flex by the run's dispatcher);
  c  the MoE host work per local expert per MoE layer pass (kMoeHostSecondsPerLocalExpert): its
     size u = local experts × MoE layer passes (u = v = 0 where a CUDA graph covers the MoE layers);
  φ  the share of the tensor-parallel communication --tp-comm-overlap hides that the step still
     pays (kTpOverlapHiddenCost; §3): the report's collectives with hidden_cost_share > 0 give
     the hidden part h = seconds − what the pipelining leaves exposed.

    fit_megatron.py --llmplan build/llmplan [--check | --cross-validate]

Every run with a --framework megatron prediction is planned with its recipe's settings; its step
without the four terms is step₀ = step − s₀·v − c₀·u − φ₀·h (s₀, c₀, φ₀ the constants llmplan
uses), and s_torch, s_flex, c, φ minimise Σ ln²(measured step / (step₀ + s·v + c·u + φ·h)) over the fit runs with
u, v or h > 0 (coordinate descent, each coordinate by bisection on its derivative; the sum is convex
here). Nothing is written: the values are copied into the source by hand, with this script's output
in the docs. --check (the ctest test validation.megatron_fits) fails when a fit is more than 1% from
the constant llmplan uses. --cross-validate refits leaving out one source table at a time (every
`group` of runs.json with MoE host work: fitted on the other tables' `fit` runs, scored on all of
the left-out table's runs), with one per-layer constant for all dispatchers and with one per
dispatcher kind, and prints both (a few minutes). Python 3 standard library only.
"""
import argparse, json, math, os, statistics, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as R  # noqa: E402


def megatron_rows(llmplan):
    runs = json.load(open(os.path.join(HERE, "runs.json")))["runs"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in runs:
            if "not_expressible" in run:
                continue
            flags = R.framework_flags(run)
            if flags is None or flags[1] != "megatron":
                continue
            p = subprocess.run([llmplan, "plan", "--json"] + R.plan_args(run, tmp, framework=True) + flags,
                               capture_output=True, text=True)
            meas, _ = R.measured_throughput(run)
            if p.returncode != 0 or meas is None:
                continue
            rep = json.loads(p.stdout)
            t, h = rep["time"], rep["time"]["moe_host"]
            u = h["local_experts"] * h["layer_passes"]
            v = h["layer_forwards"]
            c0, s0 = h["per_local_expert_seconds"], h["per_layer_forward_seconds"]
            hidden, phi0 = 0.0, 0.0
            for col in rep["communication"]["collectives"]:
                f = col["hidden_cost_share"]
                if f > 0:
                    left = (col["exposed_seconds_per_step"] - f * col["seconds_per_step"]) / (1 - f)
                    hidden += col["seconds_per_step"] - left
                    phi0 = f
            flex = "moe_token_dispatcher_type=flex" in run.get("framework_options", [])
            rows.append({"id": run["id"], "split": run["split"], "group": run["group"], "u": u, "v_torch": 0 if flex else v,
                         "v_flex": v if flex else 0, "h": hidden, "c0": c0, "s0": s0, "flex": flex,
                         "phi0": phi0, "step0": t["step_seconds"] - t["moe_host_seconds"] - phi0 * hidden,
                         "measured": run["batch"]["global"] * run["seq"] / (meas * run["gpu"]["count"]),
                         "moe": u > 0 or any(o.startswith("cuda_graph") for o in run.get("framework_options", []))})
    return rows


def step(r, k):
    return r["step0"] + k["s_torch"] * r["v_torch"] + k["s_flex"] * r["v_flex"] + k["c"] * r["u"] + k["phi"] * r["h"]


def bisect(grad, lo, hi):
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if grad(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


SIZE = {"s_torch": "v_torch", "s_flex": "v_flex", "c": "u", "phi": "h"}  # each constant's size in a row
BOUND = {"s_torch": 0.1, "s_flex": 0.1, "c": 0.01, "phi": 1}


def fit(rows):
    # d/dx Σ ln²(m/t) = Σ −2·ln(m/t)·(dt/dx)/t, one coordinate at a time
    k = {name: 0.0 for name in SIZE}
    for _ in range(200):
        for name, size in SIZE.items():
            def grad(x):
                q = dict(k, **{name: x})
                return sum(-2 * math.log(r["measured"] / step(r, q)) * r[size] / step(r, q) for r in rows)
            k[name] = bisect(grad, 0, BOUND[name])
    return k


def summary(rows, k):
    errs = [r["measured"] / step(r, k) - 1 for r in rows]  # throughput error
    if not errs:
        return "no runs"
    return (f"{len(errs)} runs: median |error| {100 * statistics.median(abs(e) for e in errs):.1f}%, "
            f"mean {100 * statistics.mean(errs):+.1f}%, {sum(abs(e) > 0.25 for e in errs)} beyond ±25%")


def one_s(rows):
    """The rows with every MoE layer forward under one per-layer constant (s_torch; s_flex unused)."""
    return [dict(r, v_torch=r["v_torch"] + r["v_flex"], v_flex=0) for r in rows]


def cross_validate(rows):
    host = [r for r in rows if r["u"] > 0]
    pooled = {"one s": [], "s by dispatcher": []}
    for g in sorted({r["group"] for r in host}):
        train = [r for r in rows if r["split"] == "fit" and r["group"] != g and (r["u"] > 0 or r["h"] > 0)]
        test = [r for r in host if r["group"] == g]
        line = []
        for label, shape in (("one s", one_s), ("s by dispatcher", lambda rs: rs)):
            k = fit(shape(train))
            errs = [r["measured"] / step(r, k) - 1 for r in shape(test)]
            pooled[label] += errs
            line.append(f"{label}: median |error| {100 * statistics.median(abs(e) for e in errs):.1f}%, "
                        f"mean {100 * statistics.mean(errs):+.1f}%")
        print(f"  {g} ({len(test)} runs) — " + "; ".join(line))
    for label, errs in pooled.items():
        print(f"left-out tables pooled, {label}: {len(errs)} runs, median |error| "
              f"{100 * statistics.median(abs(e) for e in errs):.1f}%, mean {100 * statistics.mean(errs):+.1f}%, "
              f"{sum(abs(e) > 0.25 for e in errs)} beyond ±25%")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llmplan", default=os.path.join(HERE, "..", "..", "build", "llmplan"))
    ap.add_argument("--check", action="store_true",
                    help="fail unless each fit is llmplan's own constant to within 1%%")
    ap.add_argument("--cross-validate", action="store_true",
                    help="leave-one-source-out refits: one per-layer constant against one per dispatcher kind")
    a = ap.parse_args()
    rows = megatron_rows(a.llmplan)
    if a.cross_validate:
        cross_validate(rows)
        return
    fit_rows = [r for r in rows if r["split"] == "fit" and (r["u"] > 0 or r["h"] > 0)]
    k = fit(fit_rows)
    print(f"fitted on {len(fit_rows)} fit runs ({sum(r['u'] > 0 for r in fit_rows)} with MoE host work, "
          f"{sum(r['h'] > 0 for r in fit_rows)} with --tp-comm-overlap): s = {1e3 * k['s_torch']:.4f} ms per MoE layer "
          f"forward with the torch.distributed dispatchers, {1e3 * k['s_flex']:.4f} ms with the flex one "
          f"({sum(r['v_flex'] > 0 for r in fit_rows)} fit runs), c = {1e3 * k['c']:.4f} ms per local expert per MoE layer pass, φ = {k['phi']:.4f}")
    none = {name: 0.0 for name in SIZE}
    only_c = dict(k, s_torch=0.0, s_flex=0.0, c=fit([dict(r, v_torch=0, v_flex=0) for r in fit_rows])["c"])
    one_s = fit([dict(r, v_torch=r["v_torch"] + r["v_flex"], v_flex=0) for r in fit_rows])
    one_s["s_flex"] = one_s["s_torch"]
    for label, keep in (("MoE", lambda r: r["moe"]), ("with --tp-comm-overlap", lambda r: r["h"] > 0),
                        ("all under the profile", lambda r: True)):
        for split in ("fit", "held_out"):
            part = [r for r in rows if r["split"] == split and keep(r)]
            print(f"  {label}, {split}: without the terms {summary(part, none)}; "
                  f"with c alone (refitted, {1e3 * only_c['c']:.4f} ms) {summary(part, only_c)}; "
                  f"with one s for all dispatchers (refitted, {1e3 * one_s['s_torch']:.4f} ms) {summary(part, one_s)}; "
                  f"with them {summary(part, k)}")
    if a.check:
        used = {"s_torch": max(r["s0"] for r in rows if not r["flex"]), "s_flex": max(r["s0"] for r in rows if r["flex"]),
                "c": max(r["c0"] for r in rows), "phi": max(r["phi0"] for r in rows)}
        names = {"s_torch": "s_torch (kMoeHostSecondsPerLayerForwardTorch)",
                 "s_flex": "s_flex (kMoeHostSecondsPerLayerForwardFlex)", "c": "c (kMoeHostSecondsPerLocalExpert)",
                 "phi": "φ (kTpOverlapHiddenCost)"}
        bad = [f"{names[n]}: the fit gives {k[n]:.6g}, llmplan uses {used[n]:.6g}"
               for n in SIZE if not (used[n] > 0 and abs(k[n] / used[n] - 1) <= 0.01)]
        if bad:
            sys.exit("fit_megatron.py: refit planner/framework_megatron.cpp or explain the change — " + "; ".join(bad))
        print(f"llmplan's constants (s_torch {1e3 * used['s_torch']:.4f} ms, s_flex {1e3 * used['s_flex']:.4f} ms, c {1e3 * used['c']:.4f} ms, φ {used['phi']:.4f}) "
              f"are the fits' to within 1%")


if __name__ == "__main__":
    main()
