#!/usr/bin/env python3
"""compare.py — llmplan's generic (textbook) memory profile against measured PyTorch training.

Reads the single-GPU measurements of measure.py (pytorch_1gpu_h100.json), runs
`llmplan plan --framework generic ... --json` for every measured configuration, and writes a
markdown report (default docs/validation/pytorch_generic.md) comparing measured and predicted
peak allocated / reserved memory. The table is printed to stdout too. Standard library only.

  python3 validation/pytorch_memory/compare.py [--llmplan build/llmplan]
                                               [--out docs/validation/pytorch_generic.md]
                                               [--measurements validation/pytorch_memory/pytorch_1gpu_h100.json]
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
sys.dont_write_bytecode = True  # do not leave __pycache__ next to measure.py
sys.path.insert(0, HERE)
from measure import SHAPES  # noqa: E402  (measure.py imports torch only inside functions)

GIB = 1 << 30
MEASURED_ON = "2026-11-22"
PRECISION = {"fp32": "fp32", "amp-bf16": "amp-bf16", "bf16": "bf16"}
ATTENTION = {"sdpa": "flash", "eager": "eager"}
FRAMEWORK = "generic"


def rel(path):
    try:
        return os.path.relpath(path, ROOT)
    except ValueError:
        return path


def write_hf_configs(tmpdir, llmplan):
    """One HF config.json per shape: the SHAPES fields as given (model_type included)."""
    paths = {}
    for name, shape in SHAPES.items():
        cfg = dict(shape)
        if cfg["model_type"] == "llama" and "tie_word_embeddings" not in shape:
            cfg.pop("tie_word_embeddings", None)
        path = os.path.join(tmpdir, f"{name}.json")
        with open(path, "w") as f:
            json.dump(cfg, f, indent=1)
        proc = subprocess.run([llmplan, "models", "--hf-config", path], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"llmplan models --hf-config rejected shape {name}:\n{proc.stderr}{proc.stdout}")
        paths[name] = path
    return paths


def plan_args(c, config_path):
    return ["plan", "--hf-config", config_path, "--gpu", "h100-sxm", "--framework", FRAMEWORK,
            "--precision", PRECISION[c["precision"]], "--attention", ATTENTION[c["attention"]],
            "--micro-batch", str(c["batch"]), "--seq", str(c["seq"]), "--recompute", c["recompute"],
            "--dropout", str(c["dropout"]), "--json"]


def predict(llmplan, c, config_path):
    proc = subprocess.run([llmplan] + plan_args(c, config_path), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"llmplan plan failed for {c['name']}:\n{proc.stderr}{proc.stdout}")
    report = json.loads(proc.stdout)
    mem = report["memory"]
    return dict(peak=mem["per_gpu"]["peak_allocated_bytes"],
                reserved=mem["per_gpu"]["reserved_estimate_bytes"],
                phase=mem["per_gpu"].get("peak_phase", ""),
                params=report["model"]["parameters"],
                terms={t["key"]: t["bytes"] for t in mem["terms"]})


def err(pred, meas):
    return 100.0 * (pred - meas) / meas


def g(x):
    return f"{x / GIB:.2f}"


def pct(x):
    return f"{x:+.1f}%"


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def text_table(header, rows):
    cells = [header] + [[str(x) for x in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(r)) for r in cells]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


def within(errs, lim):
    return sum(1 for e in errs if abs(e) <= lim)


def stats_line(errs):
    a = [abs(e) for e in errs]
    return (f"median |error| {statistics.median(a):.1f}%, max |error| {max(a):.1f}%, "
            f"median signed error {statistics.median(errs):+.1f}%, "
            f"within 3%: {within(errs, 3)}/{len(errs)}, within 10%: {within(errs, 10)}/{len(errs)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llmplan", default=os.path.join(ROOT, "build", "llmplan"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "validation", "pytorch_generic.md"))
    ap.add_argument("--measurements", default=os.path.join(HERE, "pytorch_1gpu_h100.json"))
    args = ap.parse_args()
    llmplan = os.path.abspath(args.llmplan)

    with open(args.measurements) as f:
        data = json.load(f)
    results = [r for r in data["results"] if r["config"].get("gpus", 1) == 1]
    measured = [r for r in results if "error" not in r]
    failed = [r for r in results if "error" in r]

    rows = []
    with tempfile.TemporaryDirectory(prefix="llmplan-compare-") as tmp:
        configs = write_hf_configs(tmp, llmplan)
        for r in measured:
            c = r["config"]
            p = predict(llmplan, c, configs[c["shape"]])
            last = r["steps"][-1]
            rows.append(dict(
                c=c, r=r, p=p,
                e_peak=err(p["peak"], r["max_memory_allocated"]),
                e_res=err(p["reserved"], r["max_memory_reserved"]),
                # Steady-state breakdown of the measurement (last step):
                #   static  = allocated after optimizer.step + zero_grad(set_to_none) = weights + optimizer state
                #   fwd     = growth during forward = saved activations + logits/loss tensors
                #   grads   = allocated after backward minus at step start (gradients; activations freed)
                m_static=last["optimizer_end"],
                m_fwd=last["forward_end"] - last["start"],
                m_grads=last["backward_end"] - last["start"],
                m_bwd_over=last["backward_peak"] - last["forward_end"],
            ))

    versions = measured[0]["versions"] if measured else {}
    gpu = measured[0].get("gpu", "?") if measured else "?"
    concurrent = sorted({r.get("concurrent_jobs") for r in results if r.get("concurrent_jobs") is not None})

    header = ["config", "params", "measured peak alloc (GiB)", "generic predicted peak (GiB)", "error %",
              "measured reserved (GiB)", "predicted reserved (GiB)", "error %"]
    table = [[x["c"]["name"], f"{x['p']['params'] / 1e6:.0f}M" if x["p"]["params"] < 1e9
              else f"{x['p']['params'] / 1e9:.2f}B",
              g(x["r"]["max_memory_allocated"]), g(x["p"]["peak"]), pct(x["e_peak"]),
              g(x["r"]["max_memory_reserved"]), g(x["p"]["reserved"]), pct(x["e_res"])] for x in rows]

    peak_errs = [x["e_peak"] for x in rows]
    res_errs = [x["e_res"] for x in rows]

    # Groups.
    def group_rows(key, values):
        out = []
        for v in values:
            sel = [x for x in rows if key(x) == v]
            if not sel:
                continue
            e = [x["e_peak"] for x in sel]
            out.append([v, len(sel), f"{statistics.median(e):+.1f}%", f"{min(e):+.1f}%", f"{max(e):+.1f}%"])
        return out

    grp_header = ["group", "configs", "median peak error", "min", "max"]
    grp = []
    grp += group_rows(lambda x: "precision " + x["c"]["precision"],
                      ["precision fp32", "precision amp-bf16", "precision bf16"])
    grp += group_rows(lambda x: "attention " + x["c"]["attention"], ["attention eager", "attention sdpa"])
    grp += group_rows(lambda x: "recompute " + x["c"]["recompute"], ["recompute none", "recompute full"])
    grp += group_rows(lambda x: "family " + SHAPES[x["c"]["shape"]]["model_type"], ["family gpt2", "family llama"])

    # Breakdown: predicted terms vs what the per-phase measurements isolate.
    bd_header = ["config", "static meas (GiB)", "params+opt pred", "grads meas", "grads pred",
                 "fwd growth meas", "act+logits pred", "bwd overshoot meas"]
    bd = []
    for x in rows:
        t = x["p"]["terms"]
        static_pred = t.get("parameters", 0) + t.get("optimizer", 0)
        bd.append([x["c"]["name"], g(x["m_static"]), g(static_pred), g(x["m_grads"]), g(t.get("gradients", 0)),
                   g(x["m_fwd"]), g(t.get("activations", 0) + t.get("logits", 0)), g(x["m_bwd_over"])])

    def sub_stats(sel):
        e = [x["e_peak"] for x in sel]
        return stats_line(e) if e else "no configurations"

    amp = [x for x in rows if x["c"]["precision"] == "amp-bf16"]
    nonamp = [x for x in rows if x["c"]["precision"] != "amp-bf16"]
    static_errs = [err(x["p"]["terms"].get("parameters", 0) + x["p"]["terms"].get("optimizer", 0), x["m_static"])
                   for x in rows]
    grad_errs = [err(x["p"]["terms"].get("gradients", 0), x["m_grads"]) for x in rows if x["m_grads"] > 0]
    fwd_errs = [err(x["p"]["terms"].get("activations", 0) + x["p"]["terms"].get("logits", 0), x["m_fwd"])
                for x in rows]

    command = ("build/llmplan plan --hf-config <shape>.json --gpu h100-sxm --framework generic "
               "--precision <fp32|amp-bf16|bf16> --attention <flash if sdpa else eager> --micro-batch <batch> "
               "--seq <seq> --recompute <none|full> --dropout <p> --json")

    md = []
    md.append("# llmplan generic profile vs. measured PyTorch training memory (1 GPU)\n")
    md.append("Generated by `python3 validation/pytorch_memory/compare.py`; do not edit by hand.\n")
    md.append("> **The generic profile is not meant to match PyTorch.** It models a textbook, Megatron-like "
              "framework (half-precision gradients for the `mixed-*` precisions, fp32 logits `4sbV` only, no "
              "autocast weight caches, a fused in-place loss gradient, textbook per-layer activations). This report documents how far "
              "that is from a plain PyTorch eager + Hugging Face transformers training loop. The "
              "`--framework pytorch` profile is the one to be held to 3% of these measurements.\n")
    md.append("## What was compared\n")
    md.append(f"- **Measurements:** `{rel(args.measurements)}`, produced by `validation/pytorch_memory/measure.py` "
              f"on a lent {gpu} ({MEASURED_ON}): PyTorch {versions.get('torch', '?')}, transformers "
              f"{versions.get('transformers', '?')}, CUDA {versions.get('cuda', '?')}, Python "
              f"{versions.get('python', '?')}. Each configuration is a fresh process training a randomly "
              f"initialised `AutoModelForCausalLM` for {data.get('steps', '?')} steps with "
              "`torch.optim.AdamW(fused=True)`, `zero_grad(set_to_none=True)`; the figures are "
              "`torch.cuda.max_memory_allocated()` (max over the steps) and `max_memory_reserved()`."
              + (f" Measurement jobs ran {', '.join(str(c) for c in concurrent)} at a time on the GPU "
                 "(the allocator counters are per process)."
                 if concurrent and concurrent != [1] else "") + "\n")
    md.append("- **Prediction:** llmplan's `generic` framework profile, "
              "`memory.per_gpu.peak_allocated_bytes` (compared with max_memory_allocated) and "
              "`memory.per_gpu.reserved_estimate_bytes` (compared with max_memory_reserved). The HF "
              "config.json of each shape is written from `SHAPES` in measure.py.\n")
    md.append("- **Mapping:** precision fp32 → `fp32`, amp-bf16 (fp32 model under `torch.autocast(bfloat16)`) → "
              "`amp-bf16`, bf16 (`model.to(bfloat16)`) → `bf16`; attention sdpa → `flash`, eager → `eager`; "
              "`gradient_checkpointing_enable()` → `--recompute full`.\n")
    md.append("- **Error %** = (predicted − measured) / measured; negative means llmplan under-predicts.\n")
    md.append("Command, per configuration:\n")
    md.append("```\n" + command + "\n```\n")
    md.append("## Results\n")
    md.append(md_table(header, table) + "\n")
    if failed:
        md.append("Not measured (the measurement failed; last line of the error):\n")
        for r in failed:
            last = [ln for ln in r["error"].strip().splitlines() if ln.strip()][-1].strip()
            md.append(f"- `{r['config']['name']}`: {last}")
        md.append("")
    md.append("## Summary\n")
    md.append(f"- Peak allocated: {stats_line(peak_errs)}.")
    md.append(f"- Reserved: {stats_line(res_errs)}.")
    md.append(f"- Peak allocated, amp-bf16 only: {sub_stats(amp)}.")
    md.append(f"- Peak allocated, fp32 and pure bf16: {sub_stats(nonamp)}.\n")
    md.append("### Peak allocated error by group\n")
    md.append(md_table(grp_header, grp) + "\n")
    md.append("### Breakdown\n")
    md.append("The measurement records allocated bytes after each phase, which isolates some terms (last, "
              "steady-state step): *static* = allocated after `optimizer.step()` + `zero_grad(set_to_none)` "
              "(weights + optimizer state); *grads* = allocated after backward minus at step start (the "
              "gradients, activations freed); *fwd growth* = allocated at the end of forward minus at step "
              "start (saved activations, logits and loss tensors, autocast weight copies); *bwd overshoot* = "
              "how far the backward peak rises above the end of forward. Predicted columns are the generic "
              "profile's terms.\n")
    md.append(md_table(bd_header, bd) + "\n")
    md.append(f"- Static (params + optimizer): {stats_line(static_errs)}.")
    md.append(f"- Gradients: {stats_line(grad_errs)}.")
    md.append(f"- Forward growth vs. activations + logits: {stats_line(fwd_errs)}.\n")
    md.append("## Where the gap comes from\n")
    md.append(discussion(rows))
    md.append("")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(md))

    print(text_table(header, table))
    for r in failed:
        print(f"not measured: {r['config']['name']}")
    print()
    print("peak allocated:", stats_line(peak_errs))
    print("reserved:      ", stats_line(res_errs))
    print(f"wrote {rel(os.path.abspath(args.out))}")


def discussion(rows):
    """Data-driven paragraphs; numbers are recomputed on every run."""
    def med(sel, key):
        v = [key(x) for x in sel]
        return statistics.median(v) if v else float("nan")

    by = lambda cond: [x for x in rows if cond(x["c"])]  # noqa: E731
    amp, fp32, bf16 = by(lambda c: c["precision"] == "amp-bf16"), by(lambda c: c["precision"] == "fp32"), \
        by(lambda c: c["precision"] == "bf16")
    eager, sdpa = by(lambda c: c["attention"] == "eager"), by(lambda c: c["attention"] == "sdpa")
    ckpt, nockpt = by(lambda c: c["recompute"] == "full"), by(lambda c: c["recompute"] == "none")
    ep = lambda x: x["e_peak"]  # noqa: E731

    def grad_ratio(sel):
        v = [x["m_grads"] / x["p"]["terms"]["gradients"] for x in sel if x["p"]["terms"].get("gradients")]
        return statistics.median(v) if v else float("nan")

    def fwd_ratio(sel):
        v = [x["m_fwd"] / max(1, x["p"]["terms"].get("activations", 0) + x["p"]["terms"].get("logits", 0))
             for x in sel]
        return statistics.median(v) if v else float("nan")

    def over_logits(sel):
        v = [x["m_bwd_over"] / max(1, x["p"]["terms"].get("logits", 1)) for x in sel]
        return statistics.median(v) if v else float("nan")

    def ckpt_pairs(sel):
        out = []
        for ck in [x for x in sel if x["c"]["recompute"] == "full"]:
            for nc in sel:
                c, d = ck["c"], nc["c"]
                if d["recompute"] != "none" or any(c[k] != d[k] for k in
                                                   ("shape", "precision", "attention", "seq", "dropout")):
                    continue
                f = d["batch"] / c["batch"]
                pa = lambda x: x["p"]["terms"].get("activations", 0) + x["p"]["terms"].get("logits", 0)  # noqa
                pred = pa(nc) - f * pa(ck)
                if pred > 0:
                    out.append((d["name"], c["name"], (nc["m_fwd"] - f * ck["m_fwd"]) / pred))
        return out

    n_under = sum(1 for x in rows if x["e_peak"] < 0)
    paras = []
    paras.append(
        f"The generic profile under-predicts the PyTorch peak in {n_under} of {len(rows)} configurations "
        f"(median signed error {med(rows, ep):+.1f}%). By group the median peak error is "
        f"{med(fp32, ep):+.1f}% for fp32, {med(amp, ep):+.1f}% for amp-bf16 and {med(bf16, ep):+.1f}% for pure "
        f"bf16; {med(eager, ep):+.1f}% with eager attention and {med(sdpa, ep):+.1f}% with SDPA; "
        f"{med(nockpt, ep):+.1f}% without and {med(ckpt, ep):+.1f}% with full activation checkpointing.")
    static_off = statistics.median([x["m_static"] - x["p"]["terms"].get("parameters", 0)
                                    - x["p"]["terms"].get("optimizer", 0) for x in rows])
    grad_errs = [abs(err(x["p"]["terms"]["gradients"], x["m_grads"])) for x in rows if x["m_grads"] > 0]
    paras.append(
        f"**Weights, gradients, optimizer state: not the gap.** The static part (weights + AdamW state, "
        f"allocated after the optimizer step) is within a constant ~{static_off / 2**20:.0f} MiB of the "
        f"prediction in every configuration, and the gradients are within {max(grad_errs):.1f}% (the generic "
        f"profile already counts fp32 gradients for amp-bf16, where the parameters stay fp32). If anything "
        f"the generic profile over-counts here: it keeps the gradients resident at the end of the forward "
        f"pass, whereas with `zero_grad(set_to_none=True)` PyTorch has no gradients during the forward pass. "
        f"The whole gap is in the tensors of the forward and backward passes.")
    paras.append(
        f"**Vocabulary-sized tensors of the loss.** The generic profile counts one fp32 `4sbV` logits tensor "
        f"and an in-place loss gradient. In PyTorch the backward peak rises above the end of the forward "
        f"pass by a median {over_logits(rows):.2f}× that logits term (the gradient of the log-softmax and "
        f"the gradient of the logits are both materialised as fresh fp32 vocabulary-sized tensors, while the "
        f"saved activations are still alive), and with half-precision matmuls (amp-bf16, bf16) the forward "
        f"peak is a further transient fp32 upcast of the logits above the end of the forward pass. With full "
        f"checkpointing, where the per-layer activations are small, the forward growth is still a median "
        f"{fwd_ratio(ckpt):.2f}× the predicted activations + logits: about one more vocabulary-sized tensor "
        f"(the log-softmax output in fp32; the bf16 logits under autocast/bf16) plus, under autocast, the "
        f"bf16 weight copies of the autocast cache (~2 B/param). These terms are why the small-model, "
        f"large-vocabulary configurations (GPT-2 124M with V = 50257) have the largest errors even with "
        f"checkpointing.")
    pr = ckpt_pairs(rows)
    if pr:
        desc = "; ".join(f"{a} vs {b}: {r:.2f}×" for a, b, r in pr)
        paras.append(
            f"**Per-layer activations.** Where a configuration was measured with and without full "
            f"checkpointing (batch-scaled where the batches differ), the difference in forward growth "
            f"isolates the stored per-layer activations; measured over predicted: {desc}. The textbook "
            f"per-layer count (Korthikanti et al.) assumes fused kernels and half-precision storage; "
            f"transformers' eager Python modules store more: GPT-2's tanh-GELU is built from unfused "
            f"elementwise ops, Llama's RMSNorm and rotary embedding upcast to fp32 and save intermediates, "
            f"and under autocast the residual stream, layer norms and elementwise ops stay fp32 while only "
            f"the matmuls run in bf16. This is why amp-bf16 has the largest median error "
            f"({med(amp, ep):+.1f}%).")
    paras.append(
        "**Reserved.** The generic reserved estimate is the peak × 1.05 (allocator fragmentation); the "
        "reserved error therefore tracks the peak error, and PyTorch's caching allocator rounds and caches "
        "blocks differently per configuration.")
    paras.append(
        "None of this is a defect of the generic profile as a textbook (Megatron-like) model; it is why "
        "`--framework generic` should not be used to size a plain PyTorch/transformers run, and why a "
        "`pytorch` framework profile that models the fp32 activations kept under autocast, the unfused per-layer "
        "intermediates of transformers' modules, the autocast weight cache, "
        "the loss-path logits copies and the loss gradient is the one to be validated to 3% "
        "against these measurements.")
    return "\n\n".join(paras)


if __name__ == "__main__":
    main()
