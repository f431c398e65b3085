"""CUDA-event timing for the validation scripts that run on a lent GPU (validation/*/): one
function, so every script's "median of N after warm-ups" means the same.

    sys.path.insert(0, <this folder>); from gpu_timing import timed
"""
import statistics

import torch


def timed(fn, reps=10, warm=3):
    """Median wall time in seconds of `reps` calls of fn() after `warm` untimed ones, each call
    between two CUDA events on the current stream (the device synchronized after each)."""
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        torch.cuda.synchronize()
        out.append(a.elapsed_time(b) / 1e3)
    return statistics.median(out)
