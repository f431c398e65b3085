#!/usr/bin/env python3
"""Measures what activation offloading to the CPU rests on, on the GPU it runs on: the bandwidth of
pinned-memory copies device -> host and host -> device (one direction at a time, and both at
once), and how much a large bf16 GEMM slows while such copies run beside it on another stream.

    python3 validation/host_link/host_link.py --out validation/host_link/host_link_h100.json

Copies: cudaMemcpyAsync through torch's non_blocking copy_ between a device tensor and a pinned
host tensor, timed with CUDA events (median of 10 after 3 warm-ups) for 64 MiB .. 1 GiB.
Overlap: an 8192^3 bf16 matmul repeated 50 times on the default stream, timed alone and with
1 GiB D2H copies looping on a second stream for the whole time. Needs PyTorch with CUDA.
Results feed core/gpu.cpp (host_link_bandwidth of the part measured) and docs/GPUS.md.
"""
import argparse, datetime, json, os, statistics, subprocess, sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from gpu_timing import timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    dev = torch.device("cuda")
    rows = []
    for mib in (64, 256, 1024):
        n = mib << 20
        g = torch.empty(n, dtype=torch.uint8, device=dev)
        h = torch.empty(n, dtype=torch.uint8, pin_memory=True)
        g2 = torch.empty(n, dtype=torch.uint8, device=dev)
        h2 = torch.empty(n, dtype=torch.uint8, pin_memory=True)
        d2h = timed(lambda: h.copy_(g, non_blocking=True))
        h2d = timed(lambda: g.copy_(h, non_blocking=True))
        s1, s2 = torch.cuda.Stream(), torch.cuda.Stream()

        def both():
            ev = torch.cuda.current_stream().record_event()
            s1.wait_event(ev); s2.wait_event(ev)
            with torch.cuda.stream(s1):
                h.copy_(g, non_blocking=True)
            with torch.cuda.stream(s2):
                g2.copy_(h2, non_blocking=True)
            torch.cuda.current_stream().wait_stream(s1)
            torch.cuda.current_stream().wait_stream(s2)
        bi = timed(both)
        rows.append({"bytes": n, "d2h_seconds": d2h, "h2d_seconds": h2d, "both_seconds": bi,
                     "d2h_GBps": n / d2h / 1e9, "h2d_GBps": n / h2d / 1e9, "both_each_GBps": n / bi / 1e9})
        print(rows[-1], flush=True)
        del g, h, g2, h2

    a = torch.randn(8192, 8192, dtype=torch.bfloat16, device=dev)
    b = torch.randn(8192, 8192, dtype=torch.bfloat16, device=dev)
    reps = 50
    gemm_alone = timed(lambda: [a @ b for _ in range(reps)], reps=5, warm=1)
    n = 1 << 30
    g = torch.empty(n, dtype=torch.uint8, device=dev)
    h = torch.empty(n, dtype=torch.uint8, pin_memory=True)
    side = torch.cuda.Stream()
    copies = max(1, int(gemm_alone / (n / (rows[-1]["d2h_GBps"] * 1e9))) + 2)

    # time the GEMMs only (events around the GEMM loop on the default stream)
    vals = []
    for i in range(6):
        torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        ev = torch.cuda.current_stream().record_event()
        side.wait_event(ev)
        with torch.cuda.stream(side):
            for _ in range(copies):
                h.copy_(g, non_blocking=True)
        s.record()
        for _ in range(reps):
            a @ b
        e.record()
        torch.cuda.synchronize()
        if i:
            vals.append(s.elapsed_time(e) / 1e3)
    gemm_beside = statistics.median(vals)
    flops = 2 * 8192 ** 3 * reps
    out = {
        "schema": "llmplan.host_link/1",
        "made": datetime.date.today().isoformat(),
        "gpu": torch.cuda.get_device_name(),
        "driver": subprocess.run(["nvidia-smi", "--query-gpu=driver_version,power.limit", "--format=csv,noheader"],
                                 capture_output=True, text=True).stdout.strip(),
        "torch": torch.__version__,
        "copies": rows,
        "gemm": {"shape": [8192, 8192, 8192], "dtype": "bf16", "reps": reps,
                 "alone_seconds": gemm_alone, "beside_d2h_seconds": gemm_beside,
                 "alone_TFLOPs": flops / gemm_alone / 1e12, "beside_d2h_TFLOPs": flops / gemm_beside / 1e12,
                 "slowdown": gemm_beside / gemm_alone - 1},
    }
    print(json.dumps(out["gemm"]), flush=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
