#!/usr/bin/env python3
"""Time the recurrent mixers' chunked scans on this GPU: Gated DeltaNet's chunked gated delta rule
(flash-linear-attention's `chunk_gated_delta_rule`, the kernel Megatron-Core's GatedDeltaNet and
transformers' Qwen3-Next call) and Mamba-2's SSD scan (mamba_ssm's `mamba_chunk_scan_combined`,
the Triton kernels Megatron-Core's MambaMixer calls), forward and forward + backward, in bf16.

Each row gives the kernel's time and its FLOPs by llmplan's own count (docs/PERFORMANCE_MODEL.md
§1, "Gated DeltaNet layers" and "Mamba-2 layers"), so the achieved fraction of the 16-bit peak
is time ÷ FLOPs. The libraries are imported from PYTHONPATH (they are Triton code, no build);
the script records their versions and commits as given on the command line.

Usage: recurrent_scan_bench.py --out FILE [--fla-commit C] [--mamba-commit C] [--budget-s S]
                               [--only gated_delta_rule|ssd] [--shapes training|chains]

--shapes chains times the gated delta rule alone over one sequence of 16,384 tokens with 4 to 64
value heads (the chains, sequences × value heads on the GPU, that its kernels parallelise over),
for llmplan's rule below 32 chains (docs/PERFORMANCE_MODEL.md §2, `delta_rule_rate`).
"""

import argparse
import json
import math
import sys
import time

import torch


def gdn_flops(tokens, heads, dk, dv, chunk):
    """Forward FLOPs of the chunked gated delta rule (WY form), per llmplan's count:
    per head and token 6·C·dk + 4·C·dv + 6·dk·dv + (2/3)·C² (the unit-triangular inverse)."""
    return tokens * heads * (6 * chunk * dk + 4 * chunk * dv + 6 * dk * dv + 2 * chunk * chunk / 3)


def ssd_flops(tokens, heads, head_dim, state, groups, chunk):
    """Forward FLOPs of Mamba-2's SSD scan, llmplan's ForwardFlops::ssm per token:
    2·G·Q·N + 2·H·Q·P + 4·H·N·P."""
    return tokens * (2 * groups * chunk * state + 2 * heads * chunk * head_dim + 4 * heads * state * head_dim)


def timed(fn, iters):
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3 / iters


def bench(fwd, bwd_inputs, min_s=0.5):
    """Seconds per forward and per forward + backward (median of three timed runs)."""
    out = fwd()
    loss_grad = torch.randn_like(out)

    def fwd_bwd():
        for t in bwd_inputs:
            t.grad = None
        fwd().backward(loss_grad)

    fwd_bwd()  # compile the backward kernels
    torch.cuda.synchronize()
    once = max(timed(fwd_bwd, 1), 1e-6)
    iters = max(3, min(200, int(min_s / once)))
    f = sorted(timed(fwd, iters) for _ in range(3))[1]
    fb = sorted(timed(fwd_bwd, iters) for _ in range(3))[1]
    return f, fb, iters


def gdn_rows(shapes, deadline):
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    rows = []
    for batch, seq, heads, dk, dv in shapes:
        if time.time() > deadline:
            break
        dev, dt = "cuda", torch.bfloat16
        q = torch.randn(batch, seq, heads, dk, device=dev, dtype=dt, requires_grad=True)
        k = torch.nn.functional.normalize(torch.randn(batch, seq, heads, dk, device=dev, dtype=torch.float32), dim=-1).to(dt).requires_grad_()
        v = torch.randn(batch, seq, heads, dv, device=dev, dtype=dt, requires_grad=True)
        g = torch.nn.functional.logsigmoid(torch.randn(batch, seq, heads, device=dev, dtype=torch.float32)).requires_grad_()
        beta = torch.rand(batch, seq, heads, device=dev, dtype=dt).requires_grad_()

        def fwd():
            o, _ = chunk_gated_delta_rule(q, k, v, g, beta, use_qk_l2norm_in_kernel=True)
            return o

        t0 = time.time()
        f, fb, iters = bench(fwd, [q, k, v, g, beta])
        flops = gdn_flops(batch * seq, heads, dk, dv, 64)
        rows.append({"kernel": "fla.chunk_gated_delta_rule", "batch": batch, "seq": seq, "heads": heads,
                     "key_head_dim": dk, "value_head_dim": dv, "chunk": 64, "dtype": "bf16",
                     "fwd_s": f, "fwd_bwd_s": fb, "bwd_s": fb - f, "iters": iters,
                     "fwd_flops_llmplan": flops, "fwd_tflops": flops / f / 1e12,
                     "bwd_over_fwd_time": (fb - f) / f, "wall_s": time.time() - t0})
        print(json.dumps(rows[-1]), flush=True)
        del q, k, v, g, beta
        torch.cuda.empty_cache()
    return rows


def ssd_rows(shapes, deadline):
    from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
    rows = []
    for batch, seq, heads, head_dim, state, groups, chunk in shapes:
        if time.time() > deadline:
            break
        dev, dt = "cuda", torch.bfloat16
        x = torch.randn(batch, seq, heads, head_dim, device=dev, dtype=dt, requires_grad=True)
        dtv = torch.nn.functional.softplus(torch.randn(batch, seq, heads, device=dev, dtype=torch.float32) - 4).requires_grad_()
        A = (-torch.rand(heads, device=dev, dtype=torch.float32) * 8 - 1).requires_grad_()
        B = torch.randn(batch, seq, groups, state, device=dev, dtype=dt, requires_grad=True)
        C = torch.randn(batch, seq, groups, state, device=dev, dtype=dt, requires_grad=True)
        D = torch.randn(heads, device=dev, dtype=torch.float32, requires_grad=True)

        def fwd():
            return mamba_chunk_scan_combined(x, dtv, A, B, C, chunk_size=chunk, D=D)

        t0 = time.time()
        f, fb, iters = bench(fwd, [x, dtv, A, B, C, D])
        flops = ssd_flops(batch * seq, heads, head_dim, state, groups, chunk)
        rows.append({"kernel": "mamba_ssm.mamba_chunk_scan_combined", "batch": batch, "seq": seq, "heads": heads,
                     "head_dim": head_dim, "state": state, "groups": groups, "chunk": chunk, "dtype": "bf16",
                     "fwd_s": f, "fwd_bwd_s": fb, "bwd_s": fb - f, "iters": iters,
                     "fwd_flops_llmplan": flops, "fwd_tflops": flops / f / 1e12,
                     "bwd_over_fwd_time": (fb - f) / f, "wall_s": time.time() - t0})
        print(json.dumps(rows[-1]), flush=True)
        del x, dtv, A, B, C, D
        torch.cuda.empty_cache()
    return rows


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--fla-commit", default="")
    ap.add_argument("--mamba-commit", default="")
    ap.add_argument("--budget-s", type=float, default=420)
    ap.add_argument("--only", choices=("gated_delta_rule", "ssd"), help="time one of the two kernels")
    ap.add_argument("--shapes", choices=("training", "chains"), default="training",
                    help="training: the models' shapes (default); chains: the delta rule over 4 to 64 chains")
    args = ap.parse_args(argv)
    start = time.time()
    deadline = start + args.budget_s
    props = torch.cuda.get_device_properties(0)
    record = {"schema": "llmplan.recurrent_scan_bench/1",
              "meta": {"date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), "argv": sys.argv,
                       "device": props.name, "sm_count": props.multi_processor_count,
                       "torch": torch.__version__, "cuda": torch.version.cuda,
                       "fla_commit": args.fla_commit, "mamba_ssm_commit": args.mamba_commit,
                       "shapes": args.shapes},
              "gated_delta_rule": [], "ssd": [], "errors": []}
    try:
        import triton
        record["meta"]["triton"] = triton.__version__
    except Exception as e:  # noqa: BLE001
        record["errors"].append(f"triton: {e}")

    def save():
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
            f.write("\n")

    # Qwen3-Next (32 value heads of 128, keys repeated to them), Qwen3.5-397B (64), at the
    # sequence lengths training uses; batch × sequence = 16K tokens.
    gdn = [(4, 4096, 32, 128, 128), (2, 8192, 32, 128, 128), (4, 4096, 64, 128, 128), (1, 16384, 32, 128, 128),
           (8, 2048, 32, 128, 128)]
    # Nemotron-3 Nano / Nemotron-H (64 heads × 64, state 128, 8 groups, chunk 128), 128 heads, one group.
    ssd = [(4, 4096, 64, 64, 128, 8, 128), (2, 8192, 128, 64, 128, 8, 128), (4, 4096, 128, 64, 128, 1, 256),
           (1, 16384, 64, 64, 128, 8, 128)]
    if args.shapes == "chains":
        # One sequence of 16K tokens, 4 to 64 value heads of 128 (keys as many): chains 4 … 64;
        # and 32 chains as 2 sequences × 16 heads, against 1 × 32.
        gdn = [(1, 16384, h, 128, 128) for h in (4, 8, 16, 32, 64)] + [(2, 16384, 16, 128, 128)]
        ssd = []
    for name, fn, shapes in (("gated_delta_rule", gdn_rows, gdn), ("ssd", ssd_rows, ssd)):
        if args.only and name != args.only:
            continue
        try:
            record[name] = fn(shapes, deadline if name == "ssd" else start + args.budget_s * 0.6)
        except Exception as e:  # noqa: BLE001 — record and go on with the other kernel
            import traceback
            record["errors"].append(f"{name}: {type(e).__name__}: {e}\n{traceback.format_exc()[-2000:]}")
            print(record["errors"][-1], flush=True)
        save()
    save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
