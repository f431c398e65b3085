#!/usr/bin/env python3
"""Measure kernel throughput tables on the local CUDA GPU; write one JSON file.

What it measures (each a list of rows in the JSON):
  gemm          torch.matmul(A(m,k), B(k,n)) in bf16, fp16, fp32 with TF32 allowed
                ("tf32"), strict fp32 ("fp32", few sizes), and fp8 e4m3 through
                torch._scaled_mm with per-tensor fp32 scales and bf16 output.
  attention     F.scaled_dot_product_attention forward and forward+backward, bf16,
                (batch, heads, seq, head_dim), backend forced with
                torch.nn.attention.sdpa_kernel (FLASH_ATTENTION, CUDNN_ATTENTION).
  memory_bound  copy, add, bf16->fp32 cast, layer_norm and rms_norm forward.
  meta          versions, device properties, nvidia-smi clocks/power, argv, time.

How: CUDA events around a loop of N calls after 3 warm-up calls; N is chosen from
one timed call so a loop takes ~30 ms; the median of 3 loops is reported, with
torch.cuda.synchronize() around each loop. Nothing is flushed: this is the
steady-state throughput of back-to-back kernels (small kernels include launch cost).

FLOP counts:
  gemm: 2*m*n*k.
  attention forward: 4*b*h*s*s*d (two matmuls, s x s x d each, 2 FLOPs per MAC),
    halved when causal; backward: 2.5x forward. Both as counted in the
    FlashAttention-2 paper (Dao 2023). h = query heads. bwd_us = (fwd+bwd) - fwd.
  memory_bound: bytes moved = bytes read + bytes written (ideal, one pass each).

Output schema "llmplan.kernel-tables/1"; the file is rewritten atomically
(os.replace of FILE.tmp) after every row, so a kill leaves valid JSON.

Usage: measure_kernels.py --out FILE [--budget-seconds S] [--quick]
Then: llmplan plan ... --kernel-table FILE (docs/PERFORMANCE_MODEL.md §2, "Measured kernel tables").
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

SCHEMA = "llmplan.kernel-tables/1"
MiB, GiB = 1 << 20, 1 << 30
DEV = "cuda"
TARGET_MS = 30.0          # length of one timed loop
RESERVE_S = 4.0           # kept back for the final write
MAX_OPERANDS = 8 * GiB    # gemm: skip shapes whose A+B+C exceed this

# name -> (input dtype, input bytes/elt, output bytes/elt)
GEMM_DTYPES = {
    "bf16": (torch.bfloat16, 2, 2),
    "fp16": (torch.float16, 2, 2),
    "tf32": (torch.float32, 4, 4),
    "fp32": (torch.float32, 4, 4),
    "fp8_e4m3": (torch.float8_e4m3fn, 1, 2),
}
SQUARES = [256, 512, 1024, 2048, 4096, 8192, 16384]
TOKENS = [2048, 8192, 32768]
NK = [(4096, 4096), (12288, 4096), (4096, 11008), (14336, 4096), (4096, 14336),
      (1024, 4096), (8192, 8192), (28672, 8192), (8192, 28672), (2560, 2560),
      (768, 768), (3072, 768), (50304, 768), (128256, 4096)]
SMALL_N = [64, 128, 256, 512, 1024, 2048]
FP32_STRICT = [1024, 4096, 8192]
SEQS = [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]
ATTN_TOKENS = 16384       # batch*seq >= this
HQ = 32
MEM_SIZES = [MiB * 4 ** i for i in range(7)]      # 1 MiB ... 4 GiB
HIDDEN = 4096


class Budget:
    def __init__(self, seconds):
        self.t0, self.seconds = time.monotonic(), seconds

    def elapsed(self):
        return time.monotonic() - self.t0

    def left(self):
        return self.seconds - RESERVE_S - self.elapsed()


class OutOfBudget(Exception):
    pass


def log(budget, msg):
    print(f"[{budget.elapsed():6.1f}s] {msg}", file=sys.stderr, flush=True)


def bench(fn, budget):
    """Median microseconds per call of fn() (see module docstring)."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)

    def timed_call():
        torch.cuda.synchronize()
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        return max(start.elapsed_time(end), 1e-3)

    if 3 * timed_call() / 1e3 > budget.left():     # first warm-up (pessimistic: includes setup)
        raise OutOfBudget()
    fn()                                           # second warm-up
    est_ms = timed_call()                          # third warm-up, timed as the estimate
    n = int(min(10000, max(1, round(TARGET_MS / est_ms))))
    loops = 3
    while loops > 1 and loops * n * est_ms / 1e3 > budget.left():
        loops -= 1
    if n * est_ms / 1e3 > budget.left():
        raise OutOfBudget()
    times = []
    for _ in range(loops):
        torch.cuda.synchronize()
        start.record()
        for _ in range(n):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) * 1e3 / n)
    return statistics.median(times), n


def set_tf32(on):
    m = torch.backends.cuda.matmul
    if hasattr(m, "fp32_precision"):       # torch >= 2.9; mixing old and new API can raise
        m.fp32_precision = "tf32" if on else "ieee"
    else:
        m.allow_tf32 = on


# ---------------------------------------------------------------- gemm
def gemm_fits(dt, m, n, k):
    _, eb, ob = GEMM_DTYPES[dt]
    return eb * (m * k + k * n) + ob * m * n <= MAX_OPERANDS


def gemm_job(dt, m, n, k):
    def run(budget):
        torch_dt = GEMM_DTYPES[dt][0]
        if dt == "fp8_e4m3":
            a = torch.randn(m, k, device=DEV, dtype=torch.bfloat16).to(torch_dt)
            b = torch.randn(n, k, device=DEV, dtype=torch.bfloat16).to(torch_dt).t()  # column-major (k,n)
            one = torch.ones((), device=DEV, dtype=torch.float32)
            fn = lambda: torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
        else:
            if torch_dt == torch.float32:
                set_tf32(dt == "tf32")
            a = torch.randn(m, k, device=DEV, dtype=torch_dt)
            b = torch.randn(k, n, device=DEV, dtype=torch_dt)
            c = torch.empty(m, n, device=DEV, dtype=torch_dt)
            fn = lambda: torch.matmul(a, b, out=c)
        us, iters = bench(fn, budget)
        return {"us": round(us, 3), "tflops": round(2 * m * n * k / us / 1e6, 2), "iters": iters}
    return {"dtype": dt, "m": m, "n": n, "k": k}, run


def gemm_jobs(dtypes, shapes):
    return [gemm_job(dt, m, n, k) for dt in dtypes for (m, n, k) in shapes if gemm_fits(dt, m, n, k)]


# ---------------------------------------------------------------- attention
def attn_job(backend, seq, d, hkv, causal):
    batch = max(1, ATTN_TOKENS // seq)
    base = {"backend": backend.name.lower(), "batch": batch, "seq": seq, "heads": HQ,
            "kv_heads": hkv, "head_dim": d, "causal": causal}

    def run(budget):
        # q, out, dq, grad_out: hq heads each; k, v, dk, dv: hkv heads each (bf16); + slack
        need = 2 * batch * seq * d * (6 * HQ + 4 * hkv)
        free = torch.cuda.mem_get_info()[0]
        if need > 0.6 * free:
            return {"skipped": f"needs ~{need / GiB:.1f} GiB, free {free / GiB:.1f} GiB"}
        mk = lambda h: torch.randn(batch, h, seq, d, device=DEV, dtype=torch.bfloat16,
                                   requires_grad=True)
        q, k, v = mk(HQ), mk(hkv), mk(hkv)
        g = torch.ones(batch, HQ, seq, d, device=DEV, dtype=torch.bfloat16)
        kw = {"is_causal": causal}
        if hkv != HQ:
            kw["enable_gqa"] = True
        fwd = lambda: F.scaled_dot_product_attention(q, k, v, **kw)
        fwdbwd = lambda: torch.autograd.grad(fwd(), (q, k, v), g)
        with sdpa_kernel(backend):
            fwd_us, _ = bench(fwd, budget)
            tot_us, _ = bench(fwdbwd, budget)
        flops = 4 * batch * HQ * seq * seq * d * (0.5 if causal else 1.0)
        bwd_us = tot_us - fwd_us
        return {"fwd_us": round(fwd_us, 3), "fwd_tflops": round(flops / fwd_us / 1e6, 2),
                "bwd_us": round(bwd_us, 3),
                "bwd_tflops": round(2.5 * flops / bwd_us / 1e6, 2) if bwd_us > 0 else None,
                "fwd_bwd_us": round(tot_us, 3)}
    return base, run


def attn_jobs(backend, seqs, dims, causals):
    jobs = []
    for d in dims:
        for causal in causals:
            for seq in seqs:
                if seq > 32768 and not (d == 128 and causal):
                    continue
                if not causal and (seq > 16384 or d != 128):
                    continue
                for hkv in (HQ, 8):
                    jobs.append(attn_job(backend, seq, d, hkv, causal))
    return jobs


# ---------------------------------------------------------------- memory bound
def mem_job(op, nbytes):
    def run(budget):
        numel = nbytes // 2                                  # bf16 input
        x = torch.randn(numel, device=DEV, dtype=torch.bfloat16)
        moved = 2 * nbytes
        if op == "copy":
            y = torch.empty_like(x)
            fn = lambda: y.copy_(x)
        elif op == "add":
            y, z = torch.randn_like(x), torch.empty_like(x)
            fn = lambda: torch.add(x, y, out=z)
            moved = 3 * nbytes
        elif op == "cast_bf16_fp32":
            y = torch.empty(numel, device=DEV, dtype=torch.float32)
            fn = lambda: y.copy_(x)
            moved = 3 * nbytes
        else:
            x2 = x.view(-1, HIDDEN)
            w = torch.ones(HIDDEN, device=DEV, dtype=torch.bfloat16)
            bias = torch.zeros(HIDDEN, device=DEV, dtype=torch.bfloat16)
            if op == "layer_norm":
                fn = lambda: F.layer_norm(x2, (HIDDEN,), w, bias, 1e-5)
            else:
                fn = lambda: F.rms_norm(x2, (HIDDEN,), w, 1e-6)
        us, iters = bench(fn, budget)
        return {"bytes_moved": moved, "us": round(us, 3),
                "gbps": round(moved / us / 1e3, 1), "iters": iters}
    base = {"op": op, "bytes": nbytes}
    if op in ("layer_norm", "rms_norm"):
        base.update(tokens=nbytes // (2 * HIDDEN), hidden=HIDDEN)
    return base, run


# ---------------------------------------------------------------- driver
def nvidia_smi():
    try:
        r = subprocess.run(["nvidia-smi", "--query-gpu=clocks.max.sm,clocks.sm,power.limit,power.draw",
                            "--format=csv,noheader"], capture_output=True, text=True, timeout=5)
        return r.stdout.strip() or None
    except Exception:
        return None


class Report:
    def __init__(self, path, budget):
        self.path, self.budget, self.skipped = path, budget, 0
        p = torch.cuda.get_device_properties(0)
        self.doc = {"schema": SCHEMA, "meta": {
            "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "argv": sys.argv, "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "device": torch.cuda.get_device_name(0),
            "sm_count": p.multi_processor_count, "total_memory_bytes": p.total_memory,
            "compute_capability": f"{p.major}.{p.minor}",
            "nvidia_smi_fields": "clocks.max.sm,clocks.sm,power.limit,power.draw",
            "nvidia_smi_start": nvidia_smi(), "budget_seconds": budget.seconds,
            "timing": "CUDA events, 3 warm-up calls, median of 3 loops of ~30 ms",
            "stages": {}}, "gemm": [], "attention": [], "memory_bound": []}
        self.save()

    def save(self):
        meta = self.doc["meta"]
        meta["budget_used_s"] = round(self.budget.elapsed(), 2)
        meta["rows_skipped_for_budget"] = self.skipped
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.doc, f, indent=1)
        os.replace(tmp, self.path)

    def stage(self, name, section, jobs):
        done = 0
        for base, run in jobs:
            if self.budget.left() <= 0:
                self.skipped += 1
                continue
            row = dict(base)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    row.update(run(self.budget))
                except OutOfBudget:
                    self.skipped += 1
                    continue
                except Exception as e:    # backend refusal, OOM, ...: record and go on
                    why = [str(w.message).splitlines()[0] for w in caught][:4]
                    row["error"] = " | ".join([f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"] + why)[:600]
                finally:
                    try:
                        torch.cuda.synchronize()
                        torch.cuda.empty_cache()
                    except Exception:     # a sticky CUDA error: keep what is saved
                        pass
            self.doc[section].append(row)
            done += 1
            keys = ("us", "tflops", "fwd_tflops", "bwd_tflops", "gbps", "skipped", "error")
            log(self.budget, f"{name}: " + " ".join(f"{k}={v}" for k, v in row.items()
                                                    if k in base or k in keys))
            self.save()
        self.doc["meta"]["stages"][name] = f"{done}/{len(jobs)}"
        self.save()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-seconds", type=float, default=240.0)
    ap.add_argument("--quick", action="store_true", help="tiny subset, for a smoke test")
    args = ap.parse_args()
    budget = Budget(args.budget_seconds)
    if not torch.cuda.is_available():
        sys.exit("no CUDA device")
    torch.manual_seed(0)
    rep = Report(args.out, budget)

    q = args.quick
    squares = [1024, 4096] if q else SQUARES
    tokens, nk = ([2048], NK[:1]) if q else (TOKENS, NK)
    main_shapes = [(s, s, s) for s in squares] + [(m, n, k) for m in tokens for (n, k) in nk]
    small_n = [(8192, n, 8192) for n in (SMALL_N[1:2] if q else SMALL_N)]
    strict = [(s, s, s) for s in (FP32_STRICT[:1] if q else FP32_STRICT)]
    seqs = [1024, 4096] if q else SEQS
    mem_sizes = [16 * MiB] if q else MEM_SIZES
    flash, cudnn = SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION
    mem_ops = ["copy", "add", "cast_bf16_fp32", "layer_norm", "rms_norm"]

    # Most valuable first; whatever the budget leaves out is counted in meta.
    rep.stage("gemm_bf16_fp8", "gemm", gemm_jobs(["bf16", "fp8_e4m3"], main_shapes))
    rep.stage("attn_flash_causal_d128", "attention", attn_jobs(flash, seqs, [128], [True]))
    rep.stage("memory_bound", "memory_bound", [mem_job(op, s) for s in mem_sizes for op in mem_ops])
    rep.stage("gemm_small_n", "gemm", gemm_jobs(["bf16", "fp8_e4m3"], small_n))
    rep.stage("attn_flash_rest", "attention",
              attn_jobs(flash, seqs, [128], [False]) + attn_jobs(flash, seqs, [64, 256], [True]))
    rep.stage("attn_cudnn", "attention",
              attn_jobs(cudnn, seqs, [128], [True, False]) + attn_jobs(cudnn, seqs, [64, 256], [True]))
    rep.stage("gemm_fp16_tf32", "gemm", gemm_jobs(["fp16", "tf32"], main_shapes))
    rep.stage("gemm_fp32_strict", "gemm", gemm_jobs(["fp32"], strict))
    set_tf32(False)

    rep.doc["meta"]["nvidia_smi_end"] = nvidia_smi()
    rep.doc["meta"]["complete"] = True
    rep.save()
    log(budget, f"wrote {args.out}; {rep.skipped} rows skipped for budget")


if __name__ == "__main__":
    main()
