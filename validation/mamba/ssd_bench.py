#!/usr/bin/env python3
"""Times Mamba-2's SSD scan (mamba_ssm's chunked Triton kernels, the ones Megatron-Core trains with)
forward and backward at Nemotron 3 shapes, to check llmplan's kSsdScanEfficiency (planner/perf.h,
docs/PERFORMANCE_MODEL.md §2). Needs torch and mamba_ssm; where mamba_ssm is missing it says so and
writes {"available": false}. Usage: ssd_bench.py OUT.json"""
import json
import sys


def main(out):
    result = {"available": False}
    try:
        import torch
        from mamba_ssm.ops.triton.ssd_combined import mamba_chunk_scan_combined
    except Exception as e:  # noqa: BLE001 - any import failure means "not here"
        result["why"] = f"{type(e).__name__}: {e}"
        json.dump(result, open(out, "w"), indent=2)
        print(result)
        return 0
    result["available"] = True
    result["device"] = torch.cuda.get_device_name()
    rows = []
    # (name, heads, head_dim, state, groups) — Nemotron 3 Nano and Super; chunk 128, bf16, b 1, T 8192.
    for name, H, P, N, G in [("nano", 64, 64, 128, 8), ("super", 128, 64, 128, 8)]:
        T, Q = 8192, 128
        dev, dt = "cuda", torch.bfloat16
        x = torch.randn(1, T, H, P, device=dev, dtype=dt, requires_grad=True)
        dtv = torch.rand(1, T, H, device=dev, dtype=torch.float32, requires_grad=True)
        A = -torch.rand(H, device=dev, dtype=torch.float32)
        B = torch.randn(1, T, G, N, device=dev, dtype=dt, requires_grad=True)
        C = torch.randn(1, T, G, N, device=dev, dtype=dt, requires_grad=True)
        D = torch.ones(H, device=dev, dtype=torch.float32)
        def fwd():
            return mamba_chunk_scan_combined(x, dtv, A, B, C, chunk_size=Q, D=D)
        for _ in range(3):
            y = fwd(); y.sum().backward()
        torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        n = 20
        s.record()
        for _ in range(n):
            y = fwd()
        e.record(); torch.cuda.synchronize()
        t_fwd = s.elapsed_time(e) / n / 1e3
        g = torch.ones_like(y)
        s.record()
        for _ in range(n):
            y = fwd(); y.backward(g)
        e.record(); torch.cuda.synchronize()
        t_both = s.elapsed_time(e) / n / 1e3
        flops_fwd = T * (2 * G * Q * N + 2 * H * Q * P + 4 * H * N * P)  # llmplan's count (flops.h)
        rows.append({"model": name, "heads": H, "head_dim": P, "state": N, "groups": G, "seq": T, "chunk": Q,
                     "forward_s": t_fwd, "forward_backward_s": t_both, "flops_forward": flops_fwd,
                     "forward_tflops": flops_fwd / t_fwd / 1e12,
                     "backward_over_forward": (t_both - t_fwd) / t_fwd})
    result["rows"] = rows
    json.dump(result, open(out, "w"), indent=2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "ssd_bench.json"))
