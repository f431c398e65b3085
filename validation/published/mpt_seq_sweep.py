#!/usr/bin/env python3
"""mpt_seq_sweep.py — llm-foundry's MPT sequence sweeps planned with each attention kernel.

Plans every row of mpt_seq_sweep.json (the 8-GPU bf16 rows of llm-foundry's MPT benchmark tables:
sequence 512 to 65,536, models 125M to 30B, H100 and A100) with `llmplan plan --json`, once with
FlashAttention-2's rates (--framework-option attention_kernel=flash2, the default) and once with
the kernel the benchmark ran (attention_kernel=triton, llm-foundry's attn_impl triton), and prints
predicted against measured tokens/s per GPU, the error of each and the statistics by sequence
length. These rows were used to find the attention-kernel mechanism: they are a diagnostic,
neither fit nor held out (docs/validation/published_runs.md, "MPT sequence sweeps").

  python3 validation/published/mpt_seq_sweep.py [--llmplan build/llmplan] [--markdown]

Each row is planned as runs.json's MPT runs are — run.py's plan_args with the precision, attention
and extra flags of the runs.json MPT run of the same table — on a GPT-2-shaped model (exact GELU,
vocabulary 50,368, n_positions = the sequence), ZeRO-3 for FULL_SHARD and ZeRO-2 for SHARD_GRAD_OP,
recompute full where the row checkpoints activations. The parameter count of each plan is checked against the table's NumParams.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KERNELS = ("flash2", "triton")


# The plan's flags are built by run.py's plan_args from a runs.json-style entry, with the flags
# (extra_flags) of the runs.json MPT run of the same table: one place says how an MPT run is planned.
_spec = importlib.util.spec_from_file_location("published_run", os.path.join(HERE, "run.py"))
published = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(published)
TEMPLATE_RUN = {"a100_80gb": "mpt-a100-80g-125m-8gpu", "a100_40gb": "mpt-a100-40g-125m-128gpu", "h100_80gb": "mpt-h100-7b-8gpu"}


def plan(llmplan, cfg_path, row, kernel, template):
    entry = {"id": f"{row['model']}-{row['seq']}", "model": {"hf_config_file": cfg_path},
             "gpu": {"llmplan": template["gpu"]["llmplan"], "count": row["gpus"], "per_node": 8},
             "layout": {"tp": 1, "pp": 1, "cp": 1, "ep": 1, "virtual_stages": 1, "sp": False,
                        "zero": 3 if row["sharding"] == "FULL_SHARD" else 2},
             "batch": {"micro": row["micro_batch"], "global": row["global_batch"]}, "seq": row["seq"],
             "precision": template["precision"], "recompute": "full" if row["activation_checkpointing"] else "none",
             "attention": template["attention"], "dropout": template["dropout"],
             "extra_flags": [("attention_kernel=" + kernel) if f.startswith("attention_kernel=") else f
                             for f in template["extra_flags"]]}
    cmd = [llmplan, "plan", "--json"] + published.plan_args(entry, os.path.dirname(cfg_path))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr.strip()}")
    j = json.loads(p.stdout)
    return j["time"]["tokens_per_second"] / row["gpus"], j["model"]["parameters"]


def stats(errors):
    if not errors:
        return "—"
    return (f"{100 * statistics.median(abs(e) for e in errors):.1f}% / {100 * statistics.mean(errors):+.1f}% / "
            f"{sum(abs(e) > 0.25 for e in errors)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--llmplan", default=os.path.join(ROOT, "build", "llmplan"))
    ap.add_argument("--sweep", default=os.path.join(HERE, "mpt_seq_sweep.json"))
    ap.add_argument("--markdown", action="store_true", help="print the docs' tables")
    a = ap.parse_args()
    doc = json.load(open(a.sweep))
    runs = {r["id"]: r for r in json.load(open(os.path.join(HERE, "runs.json")))["runs"]}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for row in doc["rows"]:
            layers, d, heads = doc["shapes"][row["model"]]
            cfg = os.path.join(tmp, f"{row['model']}-{row['seq']}.json")
            with open(cfg, "w") as f:
                json.dump(dict(model_type="gpt2", activation_function="gelu", n_layer=layers, n_embd=d, n_head=heads, n_positions=row["seq"],
                               vocab_size=50368), f)
            pred = {}
            for k in KERNELS:
                pred[k], params = plan(a.llmplan, cfg, row, k, runs[TEMPLATE_RUN[row["gpu"]]])
            if params != row["num_params"]:
                print(f"warning: {row['model']} s={row['seq']}: {params} parameters planned, the table says "
                      f"{row['num_params']}", file=sys.stderr)
            results.append((row, {k: pred[k] / row["tokens_per_s_per_gpu"] - 1 for k in KERNELS}))
    if a.markdown:
        print("| table | model | seq | micro-batch | ckpt | measured tok/s/GPU | error, flash2 | error, triton |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row, err in results:
        t = row["table"].split(" with ")[0]
        if a.markdown:
            print(f"| {t} | {row['model']} | {row['seq']} | {row['micro_batch']} | "
                  f"{'yes' if row['activation_checkpointing'] else 'no'} | {row['tokens_per_s_per_gpu']:.0f} | "
                  f"{100 * err['flash2']:+.1f}% | {100 * err['triton']:+.1f}% |")
        else:
            print(f"{t:16s} {row['model']:5s} s={row['seq']:6d} mb={row['micro_batch']:3d} "
                  f"measured {row['tokens_per_s_per_gpu']:9.0f}  flash2 {100 * err['flash2']:+6.1f}%  "
                  f"triton {100 * err['triton']:+6.1f}%")
    print()
    print("| rows | n | flash2: median abs / mean / beyond 25% | triton: median abs / mean / beyond 25% |")
    print("| --- | --- | --- | --- |")
    buckets = [("all", lambda r: True), ("sequence ≤ 2,048", lambda r: r["seq"] <= 2048),
               ("4,096-8,192", lambda r: 4096 <= r["seq"] <= 8192), ("≥ 16,384", lambda r: r["seq"] >= 16384)]
    for name, keep in buckets:
        sel = [e for r, e in results if keep(r)]
        print(f"| {name} | {len(sel)} | {stats([e['flash2'] for e in sel])} | {stats([e['triton'] for e in sel])} |")


if __name__ == "__main__":
    main()
