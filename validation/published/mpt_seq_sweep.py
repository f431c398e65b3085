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

Each row is planned as runs.json's MPT runs are: a GPT-2-shaped model (exact GELU, vocabulary 50,368,
n_positions = the sequence), ZeRO-3 for FULL_SHARD and ZeRO-2 for SHARD_GRAD_OP, mixed-bf16,
recompute full where the row checkpoints activations, --elementwise eager, flash-attn's fused
cross-entropy. The parameter count of each plan is checked against the table's NumParams.
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
GPUS = {"a100_80gb": "a100-80g", "a100_40gb": "a100-40g", "h100_80gb": "h100-sxm"}
KERNELS = ("flash2", "triton")


def plan(llmplan, cfg_path, row, kernel):
    cmd = [llmplan, "plan", "--hf-config", cfg_path, "--gpu", GPUS[row["gpu"]], "--gpus", str(row["gpus"]),
           "--zero", "3" if row["sharding"] == "FULL_SHARD" else "2", "--micro-batch", str(row["micro_batch"]),
           "--global-batch", str(row["global_batch"]), "--seq", str(row["seq"]), "--precision", "mixed-bf16",
           "--attention", "flash", "--recompute", "full" if row["activation_checkpointing"] else "none",
           "--elementwise", "eager", "--framework-option", "cross_entropy=fused",
           "--framework-option", "attention_kernel=" + kernel, "--json"]
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
                pred[k], params = plan(a.llmplan, cfg, row, k)
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
