#!/usr/bin/env python3
"""One context-parallel rank's ring attention, timed on one CUDA GPU; writes one JSON file.

PyTorch's context parallelism (torch/distributed/tensor/experimental/_attention.py,
`_templated_ring_attention` and `_templated_ring_attention_backward`; torchtitan's CP runs of
December 2024 used it with the all-gather rotater and round-robin load balancing, the defaults)
runs, on each rank and for each attention call, cp calls of the fused SDPA kernel — the local
causal block, then cp - 1 non-causal blocks of half the queries or half the keys — and merges their
outputs in fp32 (`_SDPAMerger`: a bf16 -> fp32 copy of each block output, out - sigmoid(lse_b - lse)
* (out - out_b), lse - logsigmoid(lse - lse_b), and for a half-query block `_partial_update`'s
chunk + torch.cat of the whole fp32 output and lse); its backward runs the cp SDPA backward calls
and accumulates dq, dk, dv in fp32 (`grad += ...`, `_partial_update` for half blocks, torch.cat of
dk and dv for the next rank). This script replays exactly those kernels for one rank with the
communication left out (the received K/V and dK/dV are the rank's own tensors: same shapes, no
network), so what it measures is the rank's compute: SDPA at the shapes CP calls it with, plus the
fp32 merges and accumulations.

For each configuration it also times one causal SDPA forward + backward over the rank's s/cp
tokens (what llmplan's time model looks up for the attention core under CP) and reports both as
TFLOP/s on the same FLOP count (the rank's share of the causal attention: 4·h·s²·d/2 ÷ cp forward,
2.5× that backward).

  ring_attention_rank.py --out FILE [--configs 32768:1,65536:2,131072:4,262144:8] [--heads 32]
                         [--head-dim 128] [--rank -1]

--rank -1 (default) times rank 0 and rank cp - 1 (the two load-balance paths: half queries
against whole key blocks, whole queries against half key blocks); both are reported.
Output schema "llmplan.ring-attention-rank/1"; validation/kernels/README-style notes in
docs/PERFORMANCE_MODEL.md §2 ("Context parallelism: the rank's ring attention").
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys

import torch
import torch.nn.functional as F

aten = torch.ops.aten


def timed(fn, reps=3):
    """Median over `reps` loops of CUDA-event time per call (ms), after 2 warm-up calls."""
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    s = torch.cuda.Event(enable_timing=True)
    e = torch.cuda.Event(enable_timing=True)
    s.record()
    fn()
    e.record()
    torch.cuda.synchronize()
    one = max(s.elapsed_time(e), 1e-3)
    n = max(1, min(50, int(300 / one)))
    out = []
    for _ in range(reps):
        s.record()
        for _ in range(n):
            fn()
        e.record()
        torch.cuda.synchronize()
        out.append(s.elapsed_time(e) / n)
    return statistics.median(out)


def partial_update(original, new, n_chunks, idx, add):
    chunks = list(original.chunk(n_chunks, dim=2))
    if add:
        chunks[idx] += new
    else:
        chunks[idx] = new
    return torch.cat(chunks, dim=2)


class Merger:
    def __init__(self):
        self.out = None
        self.lse = None

    def step(self, block_out, block_lse, partial):
        block_out = block_out.to(torch.float32)
        block_lse = block_lse.to(torch.float32).unsqueeze(-1)
        if self.lse is None:
            self.lse, self.out = block_lse, block_out
            return
        lse = self.lse.chunk(2, dim=2)[1] if partial else self.lse
        out = self.out.chunk(2, dim=2)[1] if partial else self.out
        out = out - F.sigmoid(block_lse - lse) * (out - block_out)
        lse = lse - F.logsigmoid(lse - block_lse)
        if partial:
            self.lse = partial_update(self.lse, lse, 2, 1, False)
            self.out = partial_update(self.out, out, 2, 1, False)
        else:
            self.lse, self.out = lse, out


def ring_forward(q, k, v, cp, rank):
    merger = Merger()
    key, value = k.contiguous(), v.contiguous()
    for i in range(cp):
        if i < cp - 1:  # the rank's K and V packed for the next rank (the exchange itself left out)
            torch.cat([key.flatten(), value.flatten()])
        if i == 0:
            qq, kk, vv, partial, causal = q, key, value, False, True
        elif i <= rank:
            qq, kk, vv, partial, causal = q, key.chunk(2, dim=2)[0], value.chunk(2, dim=2)[0], False, False
        else:
            qq, kk, vv, partial, causal = q.chunk(2, dim=2)[1], key, value, True, False
        out, lse, *_ = aten._scaled_dot_product_flash_attention(qq, kk, vv, 0.0, causal, False)
        merger.step(out, lse, partial)
    return merger.out.to(q.dtype), merger.lse.squeeze(-1)


def ring_backward(q, k, v, out, lse, dout, cp, rank):
    grad_q = torch.zeros_like(q, dtype=torch.float32)
    grad_k = torch.zeros_like(k, dtype=torch.float32)
    grad_v = torch.zeros_like(v, dtype=torch.float32)
    key, value = k.contiguous(), v.contiguous()
    for i in range(cp):
        if i != cp - 1:
            torch.cat([key.flatten(), value.flatten()])
        if i == 0:
            qq, kk, vv, o, do, l, causal = q, key, value, out, dout, lse, True
        elif i <= rank:
            qq, kk, vv, o, do, l, causal = q, key.chunk(2, dim=2)[0], value.chunk(2, dim=2)[0], out, dout, lse, False
        else:
            qq, kk, vv = q.chunk(2, dim=2)[1], key, value
            o, do, l, causal = out.chunk(2, dim=2)[1], dout.chunk(2, dim=2)[1], lse.chunk(2, dim=2)[1].contiguous(), False
        # As the CP code does: the forward's own cum_seq / max / philox arguments (unused by the
        # dense kernel), whatever the block's shape.
        cum_q, cum_k, max_q, max_k, seed, offset = REST
        gq, gk, gv = aten._scaled_dot_product_flash_attention_backward(
            do, qq, kk, vv, o, l, cum_q, cum_k, max_q, max_k, 0.0, causal, seed, offset)[:3]
        if i == 0:
            grad_k += gk
            grad_v += gv
        else:
            if i <= rank:
                grad_k = partial_update(grad_k, gk, 2, 0, True)
                grad_v = partial_update(grad_v, gv, 2, 0, True)
            else:
                grad_k += gk
                grad_v += gv
        torch.cat([grad_k.flatten(), grad_v.flatten()])  # dK, dV packed for the next rank
        if i <= rank:
            grad_q += gq
        else:
            grad_q = partial_update(grad_q, gq, 2, 1, True)
    return grad_q.to(q.dtype), grad_k.to(k.dtype), grad_v.to(v.dtype)


REST = None  # cum_seq_q, cum_seq_k, max_q, max_k, philox_seed, philox_offset of a forward call


def main():
    global REST
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--configs", default="32768:1,65536:2,131072:4,262144:8")
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--head-dim", type=int, default=128)
    ap.add_argument("--rank", type=int, default=-1)
    a = ap.parse_args()
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,power.limit,clocks.max.sm", "--format=csv,noheader"],
                         capture_output=True, text=True).stdout.strip()
    result = {"schema": "llmplan.ring-attention-rank/1",
              "meta": {"gpu": props.name, "sms": props.multi_processor_count, "nvidia_smi": smi,
                       "torch": torch.__version__, "cuda": torch.version.cuda, "argv": sys.argv,
                       "time": datetime.datetime.now(datetime.timezone.utc).isoformat()},
              "heads": a.heads, "head_dim": a.head_dim, "rows": []}
    h, d = a.heads, a.head_dim
    for cfg in a.configs.split(","):
        seq, cp = (int(x) for x in cfg.split(":"))
        s = seq // cp
        torch.manual_seed(0)
        q = torch.randn(1, h, s, d, device=dev, dtype=torch.bfloat16)
        k = torch.randn(1, h, s, d, device=dev, dtype=torch.bfloat16)
        v = torch.randn(1, h, s, d, device=dev, dtype=torch.bfloat16)
        dout = torch.randn(1, h, s, d, device=dev, dtype=torch.bfloat16)
        fwd_flops = 4 * h * seq * seq * d / 2 / cp  # the rank's share of the causal attention
        # The model's lookup: one causal SDPA over the rank's s tokens, forward and backward.
        qr = q.detach().requires_grad_()
        kr = k.detach().requires_grad_()
        vr = v.detach().requires_grad_()

        def causal_fwd():
            return F.scaled_dot_product_attention(qr, kr, vr, is_causal=True)

        def causal_fb():
            o = F.scaled_dot_product_attention(qr, kr, vr, is_causal=True)
            o.backward(dout)

        with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.FLASH_ATTENTION):
            c_f = timed(causal_fwd)
            c_fb = timed(causal_fb)
        local_fwd = 4 * h * s * s * d / 2
        row = {"seq": seq, "cp": cp, "tokens_per_rank": s,
               "causal_local": {"fwd_ms": c_f, "bwd_ms": c_fb - c_f,
                                "fwd_tflops": local_fwd / c_f / 1e9, "bwd_tflops": 2.5 * local_fwd / (c_fb - c_f) / 1e9},
               "ranks": []}
        REST = tuple(aten._scaled_dot_product_flash_attention(q, k, v, 0.0, True, False)[2:8])
        for rank in ([0, cp - 1] if a.rank < 0 else [a.rank]):
            if cp == 1 and rank > 0:
                continue
            out, lse = ring_forward(q, k, v, cp, rank)
            f = timed(lambda: ring_forward(q, k, v, cp, rank))
            b = timed(lambda: ring_backward(q, k, v, out, lse, dout, cp, rank))
            # the SDPA kernels alone (no merge, no accumulation), for the split of the time
            def sdpa_only_fwd():
                for i in range(cp):
                    if i == 0:
                        aten._scaled_dot_product_flash_attention(q, k, v, 0.0, True, False)
                    elif i <= rank:
                        aten._scaled_dot_product_flash_attention(q, k.chunk(2, dim=2)[0], v.chunk(2, dim=2)[0], 0.0, False, False)
                    else:
                        aten._scaled_dot_product_flash_attention(q.chunk(2, dim=2)[1], k, v, 0.0, False, False)
            sf = timed(sdpa_only_fwd)
            row["ranks"].append({"rank": rank, "fwd_ms": f, "bwd_ms": b, "sdpa_fwd_ms": sf,
                                 "fwd_tflops": fwd_flops / f / 1e9, "bwd_tflops": 2.5 * fwd_flops / b / 1e9,
                                 "fwd_bwd_vs_causal_local": (f + b) / c_fb})
            del out, lse
        result["rows"].append(row)
        print(json.dumps(row), flush=True)
        tmp = a.out + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(result, fh, indent=1)
        os.replace(tmp, a.out)
        del q, k, v, dout, qr, kr, vr
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
