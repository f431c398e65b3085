#!/usr/bin/env python3
"""A check of the mechanism behind the Megatron profile's MoE host work (docs/PERFORMANCE_MODEL.md
§2, "MoE host work"): an MoE layer whose experts' GEMMs are issued one per local expert from
host-side token counts (a device-to-host copy and sync per layer, as Megatron's token dispatchers
do) keeps the GPU waiting for the host for a time that grows with the local experts, at a fixed
amount of expert work per GPU.

Eager PyTorch on one GPU, bf16, an MoE layer of Qwen3-30B-A3B's shape (hidden 2048, expert FFN 768,
SwiGLU, top-8), T tokens: router, top-k, permutation by expert, tokens per expert copied to the host
(`.tolist()`, the sync), then per local expert gate/up GEMM, SwiGLU, down GEMM, and the weighted
un-permutation; forward and backward through autograd, L layers back to back. The same routed rows
(T·top-k, balanced over E local experts) for E = 2 … 32, so the GPU's work is nearly the same while
the host issues E times the per-expert operations. Measured per E: the wall time of a step and the
GPU's busy time (the sum of its kernels' times, torch.profiler); their difference is what the GPU
waited. Not Megatron and not Transformer Engine (whose per-GEMM host cost differs, and whose
fused permutation kernels are fewer): it checks the shape of the effect — linear in E, zero slope
without the per-expert loop — not the fitted constant.

    python3 moe_host.py --out moe_host_<gpu>.json

Needs PyTorch with CUDA; nothing else.
"""
import argparse, json, platform, statistics, time

import torch
import torch.nn.functional as F


class MoE(torch.nn.Module):
    def __init__(self, h, f, experts, top_k, grouped):
        super().__init__()
        self.router = torch.nn.Linear(h, experts, bias=False)
        self.w1 = torch.nn.Parameter(torch.randn(experts, 2 * f, h) * 0.02)
        self.w2 = torch.nn.Parameter(torch.randn(experts, h, f) * 0.02)
        self.e, self.k, self.grouped = experts, top_k, grouped

    def forward(self, x):
        t = x.shape[0]
        logits = self.router(x)
        # balanced routing (as the published runs force it): token i to experts (i·k + j) mod E
        idx = (torch.arange(t, device=x.device)[:, None] * self.k + torch.arange(self.k, device=x.device)) % self.e
        probs = torch.softmax(logits, dim=-1).gather(1, idx)
        flat = idx.reshape(-1)
        order = torch.argsort(flat, stable=True)
        rows = x.repeat_interleave(self.k, dim=0)[order]
        counts = torch.bincount(flat, minlength=self.e)
        if self.grouped:  # one grouped GEMM per projection, offsets on the device: no sync, no loop
            offs = torch.cumsum(counts, 0).to(torch.int32)
            gu = torch._grouped_mm(rows, self.w1.transpose(1, 2), offs=offs)
            g, u = gu.chunk(2, dim=-1)
            out = torch._grouped_mm(F.silu(g) * u, self.w2.transpose(1, 2), offs=offs)
        else:  # host-side splits (the sync), then one GEMM pair per local expert
            splits = counts.tolist()
            outs = []
            for e, part in enumerate(torch.split(rows, splits)):
                g, u = (part @ self.w1[e].t()).chunk(2, dim=-1)
                outs.append((F.silu(g) * u) @ self.w2[e].t())
            out = torch.cat(outs)
        back = torch.empty_like(out)
        back[order] = out
        return (back.view(t, self.k, -1) * probs[..., None]).sum(1)


def step_times(model, x, steps, warmup):
    def one():
        y = x
        for layer in model:
            y = layer(y)
        y.float().pow(2).mean().backward()
    for _ in range(warmup):
        one()
    torch.cuda.synchronize()
    walls = []
    for _ in range(steps):
        t0 = time.perf_counter()
        one()
        torch.cuda.synchronize()
        walls.append(time.perf_counter() - t0)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        one()
        torch.cuda.synchronize()
    # the kernels' own times, each once (an operator's self device time is 0, a kernel's its duration)
    busy = sum(getattr(e, "self_device_time_total", getattr(e, "self_cuda_time_total", 0)) for e in prof.key_averages()) * 1e-6
    return statistics.median(walls), busy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokens", type=int, default=4096)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    dev = torch.device("cuda")
    h, f, k = 2048, 768, 8
    rows = []
    for grouped in (False, True):
        for e in (2, 4, 8, 16, 32):
            model = torch.nn.ModuleList(MoE(h, f, e, k, grouped) for _ in range(a.layers)).to(dev, torch.bfloat16)
            x = torch.randn(a.tokens, h, device=dev, dtype=torch.bfloat16, requires_grad=True)
            try:
                wall, busy = step_times(model, x, a.steps, 3)
            except Exception as err:  # e.g. no grouped GEMM backward in this PyTorch: keep the rest
                print(f"skipped (grouped={grouped}, E={e}): {err}", flush=True)
                continue
            rows.append({"loop_per_expert": not grouped, "local_experts": e, "layers": a.layers, "tokens": a.tokens,
                         "wall_s": wall, "gpu_busy_s": busy, "waiting_s": max(0.0, wall - busy),
                         "waiting_per_layer_pass_ms": max(0.0, wall - busy) / a.layers * 1e3})
            print(json.dumps(rows[-1]), flush=True)
            del model, x
            torch.cuda.empty_cache()
    loop = [r for r in rows if r["loop_per_expert"]]
    # least-squares slope of the waiting per layer pass (fwd + bwd) over the local experts
    xs, ys = [r["local_experts"] for r in loop], [r["waiting_per_layer_pass_ms"] for r in loop]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    out = {"schema": "llmplan.moe_host_check/1", "gpu": torch.cuda.get_device_name(),
           "torch": torch.__version__, "cpu": platform.processor() or platform.machine(),
           "shape": {"hidden": h, "expert_ffn": f, "top_k": k, "tokens": a.tokens, "dtype": "bf16"},
           "rows": rows, "slope_ms_per_local_expert_per_layer_pass": slope, "intercept_ms": my - slope * mx}
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)
    print("slope %.4f ms per local expert per MoE layer pass (fwd+bwd), intercept %.3f ms" % (slope, my - slope * mx))


if __name__ == "__main__":
    main()
