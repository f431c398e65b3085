#!/usr/bin/env python3
"""pytorch_baseline.py — the PyTorch training step llmplan's engine is measured against.

A compact decoder-only transformer written here (no transformers import), trained the way a user
runs it on one GPU: bf16 autocast, flash SDPA (F.scaled_dot_product_attention, is_causal),
fused AdamW (lr 3e-4, betas 0.9/0.95, weight decay 0.1 on matrices, eps 1e-8), gradient clipping
at 1.0, torch.compile on the model. Shapes come from llmplan itself
(`llmplan models NAME --json`), so both sides train the same model:
  GPT-2 style: LayerNorm, GELU (tanh), learned positions, biases, tied embeddings;
  Llama style: RMSNorm, SwiGLU, rotary embeddings, GQA, no biases, untied head.
Random tokens (uniform ids and targets, fixed seed): speed does not depend on the values.

Prints one JSON object (schema llmplan.pytorch_baseline/1): the median step time over --steps
after --warmup steps (CUDA events), tokens/s, peak memory, versions.
Usage: pytorch_baseline.py --model-json shape.json --batch 16 --seq 1024 [--steps 20 --warmup 5]
       [--no-compile]
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Rotary(nn.Module):
    def __init__(self, head_dim, seq, base=10000.0):
        super().__init__()
        inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
        ang = torch.outer(torch.arange(seq, dtype=torch.float64), inv)
        self.register_buffer("cos", ang.cos().float(), persistent=False)
        self.register_buffer("sin", ang.sin().float(), persistent=False)

    def forward(self, x):  # x [B, heads, S, hd]; rotate pairs (2i, 2i+1)
        S = x.shape[2]
        c, s = self.cos[:S].to(x.dtype), self.sin[:S].to(x.dtype)
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack((x1 * c - x2 * s, x1 * s + x2 * c), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg, seq):
        super().__init__()
        d, H, KV, hd, f = cfg["d_model"], cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["d_ff"]
        self.H, self.KV, self.hd = H, KV, hd
        self.llama = cfg["activation"] == "swiglu"
        norm = (lambda: nn.RMSNorm(d, eps=1e-5)) if cfg["norm"] == "rmsnorm" else (lambda: nn.LayerNorm(d, eps=1e-5))
        self.n1, self.n2 = norm(), norm()
        self.q = nn.Linear(d, H * hd, bias=cfg["qkv_bias"])
        self.k = nn.Linear(d, KV * hd, bias=cfg["qkv_bias"])
        self.v = nn.Linear(d, KV * hd, bias=cfg["qkv_bias"])
        self.o = nn.Linear(H * hd, d, bias=cfg["out_bias"])
        if self.llama:
            self.gate = nn.Linear(d, f, bias=cfg["mlp_bias"])
        self.up = nn.Linear(d, f, bias=cfg["mlp_bias"])
        self.down = nn.Linear(f, d, bias=cfg["mlp_bias"])
        self.rot = Rotary(hd, seq) if cfg["position_embedding"] == "rotary" else None

    def forward(self, x):
        B, S, _ = x.shape
        h = self.n1(x)
        q = self.q(h).view(B, S, self.H, self.hd).transpose(1, 2)
        k = self.k(h).view(B, S, self.KV, self.hd).transpose(1, 2)
        v = self.v(h).view(B, S, self.KV, self.hd).transpose(1, 2)
        if self.rot is not None:
            q, k = self.rot(q), self.rot(k)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.KV != self.H)
        x = x + self.o(a.transpose(1, 2).reshape(B, S, self.H * self.hd))
        h = self.n2(x)
        m = F.silu(self.gate(h)) * self.up(h) if self.llama else F.gelu(self.up(h), approximate="tanh")
        return x + self.down(m)


class Model(nn.Module):
    def __init__(self, cfg, seq):
        super().__init__()
        d, V = cfg["d_model"], cfg["vocab_size"]
        self.wte = nn.Embedding(V, d)
        self.wpe = nn.Embedding(cfg["max_positions"], d) if cfg["position_embedding"] == "learned" else None
        self.blocks = nn.ModuleList(Block(cfg, seq) for _ in range(cfg["layers"]))
        self.nf = nn.RMSNorm(d, eps=1e-5) if cfg["norm"] == "rmsnorm" else nn.LayerNorm(d, eps=1e-5)
        self.head = nn.Linear(d, V, bias=False)
        if cfg["tied_embeddings"]:
            self.head.weight = self.wte.weight
        for name, p in self.named_parameters():  # the engine's init: N(0, 0.02) matrices, ones/zeros
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.ones_(p)

    def forward(self, ids, targets):
        x = self.wte(ids)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(ids.shape[1], device=ids.device))
        for b in self.blocks:
            x = b(x)
        logits = self.head(self.nf(x))
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), targets.view(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model-json", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--seq", type=int, required=True)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--no-compile", action="store_true")
    a = ap.parse_args()
    cfg = json.load(open(a.model_json))["shape"]
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = True
    dev = torch.device("cuda")
    model = Model(cfg, a.seq).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=3e-4, betas=(0.9, 0.95), eps=1e-8, fused=True)
    fwd = model if a.no_compile else torch.compile(model)
    V = cfg["vocab_size"]
    g = torch.Generator(device=dev).manual_seed(1)
    ids = torch.randint(0, V, (a.batch, a.seq), device=dev, generator=g)
    tgt = torch.randint(0, V, (a.batch, a.seq), device=dev, generator=g)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = fwd(ids, tgt)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    t0 = time.time()
    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    compile_s = time.time() - t0
    torch.cuda.reset_peak_memory_stats()
    times, losses = [], []
    for _ in range(a.steps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        loss = step()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / 1e3)
        losses.append(loss.item())
    times.sort()
    med = times[len(times) // 2]
    tokens = a.batch * a.seq
    print(json.dumps({
        "schema": "llmplan.pytorch_baseline/1",
        "model": cfg["name"], "parameters": n_params, "batch": a.batch, "seq": a.seq,
        "compile": not a.no_compile, "steps": a.steps, "warmup": a.warmup, "warmup_seconds": compile_s,
        "step_seconds": {"median": med, "min": times[0], "max": times[-1]},
        "tokens_per_second": tokens / med,
        "peak_allocated_bytes": torch.cuda.max_memory_allocated(),
        "losses": losses,
        "torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(),
    }))


if __name__ == "__main__":
    sys.exit(main())
