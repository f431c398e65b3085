#!/usr/bin/env python3
"""The routed experts of one MoE layer on one GPU, term by term: what llmplan's time model charges
for them (docs/PERFORMANCE_MODEL.md §2, "Mixture of experts") against what a GPU runs.

One expert-parallel rank's share of a layer is emulated on one GPU: T tokens each routed to top_k of
E_local experts, balanced (every expert receives T·top_k/E_local rows — 8,192 for Qwen3-30B-A3B's
EP 8 rank with micro-batch 4 × 4,096), no all-to-all. Timed with CUDA events, median of --iters:
  gemm_*      torch._grouped_mm (one CUTLASS grouped GEMM over the local experts) and, for
              comparison, torch.mm per expert (cuBLAS, one GEMM per expert): fc1 (gate and up
              fused, d → 2f) and fc2 (f → d), forward, and forward + backward (dgrad, wgrad);
  permute     x[idx] (each token's d-vector gathered top_k times in expert order);
  unpermute   index_add_ of the top_k weighted expert outputs back to the tokens;
  swiglu      silu(gate) · up over the T·top_k rows (eager);
  layer       router-free expert block forward + backward (permute, fc1, SwiGLU, fc2, unpermute).
Writes JSON (--out). Needs PyTorch ≥ 2.8 (torch._grouped_mm) on a CUDA GPU.

  python3 validation/moe_layer/measure_moe_layer.py --out moe_layer_h100.json
"""
import argparse, json, os, sys, time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gpu_timing import timed  # noqa: E402

SHAPES = {  # name: (d, f, E_local, top_k, T) — one EP rank's share
    "qwen3-30b-a3b-ep8": (2048, 768, 16, 8, 16384),
    "deepseek-v3-ep64": (7168, 2048, 4, 8, 4096 * 8),   # 256 experts / 64 ranks, 8,192 rows per expert
    "qwen3-235b-a22b-ep32": (4096, 1536, 4, 8, 4096 * 8),  # 128 / 32, 8,192 rows per expert
}


def measure(name, d, f, E, k, T, iters):
    dev, dt = "cuda", torch.bfloat16
    rows = T * k
    per = rows // E
    offs = torch.arange(per, rows + 1, per, device=dev, dtype=torch.int32)
    x = torch.randn(T, d, device=dev, dtype=dt)
    # balanced routing: copy j of token t goes to expert (t·k + j) mod E; rows sorted by expert
    expert_of = (torch.arange(T, device=dev)[:, None] * k + torch.arange(k, device=dev)[None, :]) % E
    order = torch.argsort(expert_of.reshape(-1), stable=True)
    token_idx = (order // k).contiguous()
    probs = torch.rand(rows, device=dev, dtype=dt)
    w1 = (torch.randn(E, d, 2 * f, device=dev, dtype=dt) * 0.02)
    w2 = (torch.randn(E, f, d, device=dev, dtype=dt) * 0.02)
    xp = x[token_idx]
    h = torch._grouped_mm(xp, w1, offs=offs)
    a = torch.nn.functional.silu(h[:, :f]) * h[:, f:]
    r = {"name": name, "d": d, "f": f, "experts": E, "top_k": k, "tokens": T, "rows_per_expert": per}
    fl1, fl2 = 2 * rows * d * 2 * f, 2 * rows * f * d
    r["fc1_flops"], r["fc2_flops"] = fl1, fl2
    r["gemm_fc1_grouped_s"] = timed(lambda: torch._grouped_mm(xp, w1, offs=offs), iters)
    r["gemm_fc2_grouped_s"] = timed(lambda: torch._grouped_mm(a, w2, offs=offs), iters)
    w1s, w2s = [w1[e] for e in range(E)], [w2[e] for e in range(E)]
    xs, as_ = list(xp.split(per)), list(a.split(per))
    r["gemm_fc1_cublas_s"] = timed(lambda: [torch.mm(xs[e], w1s[e]) for e in range(E)], iters)
    r["gemm_fc2_cublas_s"] = timed(lambda: [torch.mm(as_[e], w2s[e]) for e in range(E)], iters)
    # forward + backward of the GEMMs alone (dgrad and wgrad through autograd)
    xg = xp.detach().requires_grad_(True)
    w1g = w1.detach().requires_grad_(True)
    ag = a.detach().requires_grad_(True)
    w2g = w2.detach().requires_grad_(True)
    g1 = torch.randn(rows, 2 * f, device=dev, dtype=dt)
    g2 = torch.randn(rows, d, device=dev, dtype=dt)
    r["gemm_fc1_grouped_fwd_bwd_s"] = timed(lambda: torch._grouped_mm(xg, w1g, offs=offs).backward(g1), iters)
    r["gemm_fc2_grouped_fwd_bwd_s"] = timed(lambda: torch._grouped_mm(ag, w2g, offs=offs).backward(g2), iters)
    # the memory-bound pieces
    r["permute_s"] = timed(lambda: x[token_idx], iters)
    y = torch._grouped_mm(a, w2, offs=offs)
    r["unpermute_s"] = timed(lambda: torch.zeros(T, d, device=dev, dtype=dt).index_add_(0, token_idx, y * probs[:, None]), iters)
    r["swiglu_s"] = timed(lambda: torch.nn.functional.silu(h[:, :f]) * h[:, f:], iters)
    r["bytes_one_activation"] = T * d * 2

    def block():
        xi = x.detach().requires_grad_(True)
        p = xi[token_idx]
        hh = torch._grouped_mm(p, w1g, offs=offs)
        aa = torch.nn.functional.silu(hh[:, :f]) * hh[:, f:]
        yy = torch._grouped_mm(aa, w2g, offs=offs)
        out = torch.zeros(T, d, device=dev, dtype=dt).index_add_(0, token_idx, yy * probs[:, None])
        out.backward(torch.ones_like(out))
    r["layer_fwd_bwd_s"] = timed(block, iters)
    for key in ("fc1", "fc2"):
        fl = r[f"{key}_flops"]
        r[f"{key}_grouped_tflops"] = fl / r[f"gemm_{key}_grouped_s"] / 1e12
        r[f"{key}_cublas_tflops"] = fl / r[f"gemm_{key}_cublas_s"] / 1e12
        r[f"{key}_grouped_fwd_bwd_tflops"] = 3 * fl / r[f"gemm_{key}_grouped_fwd_bwd_s"] / 1e12
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--iters", type=int, default=20)
    a = ap.parse_args()
    props = torch.cuda.get_device_properties(0)
    rows = [measure(n, *s, a.iters) for n, s in SHAPES.items()]
    rec = {"gpu": props.name, "torch": torch.__version__, "cuda": torch.version.cuda,
           "made": time.strftime("%Y-%m-%d"), "iters": a.iters, "rows": rows}
    with open(a.out, "w") as f:
        json.dump(rec, f, indent=1)
    for r in rows:
        print(r["name"], {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items() if k.endswith(("tflops", "_s"))})


if __name__ == "__main__":
    main()
