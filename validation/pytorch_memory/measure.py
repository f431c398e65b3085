#!/usr/bin/env python3
"""measure.py — what PyTorch really allocates when training Hugging Face transformers models.

Runs a few training steps of a randomly initialised transformers model (no download: the model is
built from a config) and records torch.cuda.max_memory_allocated / max_memory_reserved, the
allocated bytes after each phase, and the device's used memory, as JSON. Each configuration runs
in a fresh process so the caching allocator starts empty, exactly what `llmplan plan
--framework pytorch` predicts.

  python3 measure.py --list                       # the configuration matrix
  python3 measure.py --run NAME                   # one configuration, JSON to stdout
  python3 measure.py --all --out results.json     # every single-GPU configuration, one process each
  LLMPLAN_MEASURE_CONFIG=NAME torchrun --nproc_per_node 2 measure.py   # a 2-GPU configuration

Flags of a configuration map onto llmplan's: precision fp32 (no autocast) | amp-bf16 (fp32 model,
torch.autocast(bfloat16)) | bf16 (model.to(bfloat16)); attention eager|sdpa (= llmplan
eager|flash); recompute full = model.gradient_checkpointing_enable(); dropout P; optimizer
torch.optim.AdamW(fused=True); zero 0 = DDP, 1 = DDP + ZeroRedundancyOptimizer, 2/3 = FSDP2
fully_shard per decoder layer and root, reshard_after_forward False/True.
"""
import argparse
import json
import os
import subprocess
import sys
import time

# Model shapes (transformers config fields), shared with the C++ test and the inference scripts.
# Small enough for fp32 AdamW on one 80 GB GPU.
HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "shapes.json")) as f:
    SHAPES = json.load(f)


def cfg(name, shape, precision, attention, batch, seq, recompute="none", dropout=0.0, gpus=1, zero=0, held_out=False):
    c = dict(name=name, shape=shape, precision=precision, attention=attention, batch=batch, seq=seq,
             recompute=recompute, dropout=dropout, gpus=gpus, zero=zero)
    if held_out:  # not to be looked at while the profile is adjusted; its error is reported apart
        c["held_out"] = True
    return c


CONFIGS = [
    # GPT-2 124M across precisions, attention forms, batch, sequence, dropout, checkpointing.
    cfg("g124-fp32-eager-b4-s1024", "gpt2-124m", "fp32", "eager", 4, 1024),
    cfg("g124-fp32-sdpa-b4-s1024", "gpt2-124m", "fp32", "sdpa", 4, 1024),
    cfg("g124-amp-eager-b8-s1024", "gpt2-124m", "amp-bf16", "eager", 8, 1024),
    cfg("g124-amp-sdpa-b8-s1024", "gpt2-124m", "amp-bf16", "sdpa", 8, 1024),
    cfg("g124-amp-sdpa-b16-s1024", "gpt2-124m", "amp-bf16", "sdpa", 16, 1024),
    cfg("g124-amp-sdpa-b8-s512-drop", "gpt2-124m", "amp-bf16", "sdpa", 8, 512, dropout=0.1),
    cfg("g124-amp-eager-b8-s512-drop", "gpt2-124m", "amp-bf16", "eager", 8, 512, dropout=0.1),
    cfg("g124-bf16-sdpa-b16-s1024", "gpt2-124m", "bf16", "sdpa", 16, 1024),
    cfg("g124-bf16-eager-b8-s1024", "gpt2-124m", "bf16", "eager", 8, 1024),
    cfg("g124-amp-sdpa-b16-s1024-ckpt", "gpt2-124m", "amp-bf16", "sdpa", 16, 1024, recompute="full"),
    cfg("g124-fp32-eager-b4-s1024-ckpt", "gpt2-124m", "fp32", "eager", 4, 1024, recompute="full"),
    # GPT-2 350M.
    cfg("g350-amp-sdpa-b8-s1024", "gpt2-350m", "amp-bf16", "sdpa", 8, 1024),
    cfg("g350-bf16-eager-b4-s1024", "gpt2-350m", "bf16", "eager", 4, 1024),
    cfg("g350-fp32-sdpa-b2-s1024-ckpt", "gpt2-350m", "fp32", "sdpa", 2, 1024, recompute="full"),
    # Llama-style, MHA and GQA.
    cfg("l160-amp-sdpa-b8-s2048", "llama-160m", "amp-bf16", "sdpa", 8, 2048),
    cfg("l160-amp-eager-b4-s2048", "llama-160m", "amp-bf16", "eager", 4, 2048),
    cfg("l160-fp32-sdpa-b4-s1024", "llama-160m", "fp32", "sdpa", 4, 1024),
    cfg("l160-bf16-sdpa-b16-s1024", "llama-160m", "bf16", "sdpa", 16, 1024),
    cfg("l400gqa-amp-sdpa-b8-s2048", "llama-gqa-400m", "amp-bf16", "sdpa", 8, 2048),
    cfg("l400gqa-amp-eager-b2-s2048", "llama-gqa-400m", "amp-bf16", "eager", 2, 2048),
    cfg("l400gqa-bf16-sdpa-b8-s4096", "llama-gqa-400m", "bf16", "sdpa", 8, 4096),
    cfg("l400gqa-amp-sdpa-b8-s4096-ckpt", "llama-gqa-400m", "amp-bf16", "sdpa", 8, 4096, recompute="full"),
    cfg("l400gqa-fp32-eager-b2-s1024", "llama-gqa-400m", "fp32", "eager", 2, 1024),
    cfg("tl1b-amp-sdpa-b4-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048),
    cfg("tl1b-bf16-sdpa-b8-s2048", "tinyllama-1.1b", "bf16", "sdpa", 8, 2048),
    cfg("tl1b-amp-sdpa-b8-s2048-ckpt", "tinyllama-1.1b", "amp-bf16", "sdpa", 8, 2048, recompute="full"),
    cfg("tl1b-fp32-sdpa-b2-s1024", "tinyllama-1.1b", "fp32", "sdpa", 2, 1024),
    cfg("tl1b-bf16-eager-b2-s2048", "tinyllama-1.1b", "bf16", "eager", 2, 2048),
    cfg("l1b128k-amp-sdpa-b4-s2048", "llama3-1b-128k", "amp-bf16", "sdpa", 4, 2048),
    cfg("l1b128k-bf16-sdpa-b8-s2048", "llama3-1b-128k", "bf16", "sdpa", 8, 2048),
    cfg("l1b128k-amp-sdpa-b8-s4096-ckpt", "llama3-1b-128k", "amp-bf16", "sdpa", 8, 4096, recompute="full"),
    cfg("l1b128k-bf16-eager-b2-s2048-ckpt", "llama3-1b-128k", "bf16", "eager", 2, 2048, recompute="full"),
    # Families added after the first 40 runs (modelled, not yet measured: docs/validation/pytorch_memory.md).
    # Qwen3-0.6B shape: per-head QK-norm, head_dim 128 != hidden/heads, GQA 16/8, 152k vocabulary, tied.
    cfg("q3-amp-sdpa-b4-s2048", "qwen3-0.6b", "amp-bf16", "sdpa", 4, 2048),
    cfg("q3-bf16-sdpa-b4-s2048", "qwen3-0.6b", "bf16", "sdpa", 4, 2048),
    cfg("q3-fp32-sdpa-b2-s1024", "qwen3-0.6b", "fp32", "sdpa", 2, 1024),
    cfg("q3-amp-eager-b2-s2048", "qwen3-0.6b", "amp-bf16", "eager", 2, 2048),
    cfg("q3-amp-sdpa-b8-s2048-ckpt", "qwen3-0.6b", "amp-bf16", "sdpa", 8, 2048, recompute="full"),
    cfg("q3-bf16-eager-b2-s1024-ckpt", "qwen3-0.6b", "bf16", "eager", 2, 1024, recompute="full", held_out=True),
    # Gemma 2, 300M: four norms, GeGLU, soft-capping (eager scores, logits), window 512 on even layers
    # (s >= 512 materialises the sliding mask under SDPA), 256k vocabulary, tied.
    cfg("g2-amp-sdpa-b2-s2048", "gemma2-300m", "amp-bf16", "sdpa", 2, 2048),
    cfg("g2-bf16-sdpa-b8-s1024", "gemma2-300m", "bf16", "sdpa", 8, 1024),
    cfg("g2-bf16-sdpa-b16-s256", "gemma2-300m", "bf16", "sdpa", 16, 256),
    cfg("g2-fp32-sdpa-b2-s1024", "gemma2-300m", "fp32", "sdpa", 2, 1024),
    cfg("g2-amp-eager-b2-s1024", "gemma2-300m", "amp-bf16", "eager", 2, 1024),
    cfg("g2-amp-sdpa-b4-s2048-ckpt", "gemma2-300m", "amp-bf16", "sdpa", 4, 2048, recompute="full"),
    cfg("g2-bf16-eager-b2-s2048-ckpt", "gemma2-300m", "bf16", "eager", 2, 2048, recompute="full", held_out=True),
    # Gemma 3 270M shape: QK-norm, 5 sliding (window 512) : 1 global layers, two rotary tables, GQA 4/1,
    # 262k vocabulary, tied.
    cfg("g3-amp-sdpa-b2-s2048", "gemma3-270m", "amp-bf16", "sdpa", 2, 2048),
    cfg("g3-bf16-sdpa-b4-s2048", "gemma3-270m", "bf16", "sdpa", 4, 2048),
    cfg("g3-fp32-sdpa-b2-s1024", "gemma3-270m", "fp32", "sdpa", 2, 1024),
    cfg("g3-amp-eager-b2-s1024", "gemma3-270m", "amp-bf16", "eager", 2, 1024),
    cfg("g3-bf16-sdpa-b2-s4096-ckpt", "gemma3-270m", "bf16", "sdpa", 2, 4096, recompute="full"),
    cfg("g3-fp32-eager-b2-s1024-ckpt", "gemma3-270m", "fp32", "eager", 2, 1024, recompute="full", held_out=True),
    # Pythia-410M shape (GPT-NeoX): LayerNorm, fused query_key_value, rotary on 25% of each head,
    # parallel residual, GELU MLP with biases, untied.
    cfg("nx-amp-sdpa-b8-s2048", "pythia-410m", "amp-bf16", "sdpa", 8, 2048),
    cfg("nx-bf16-sdpa-b8-s2048", "pythia-410m", "bf16", "sdpa", 8, 2048),
    cfg("nx-fp32-sdpa-b4-s1024", "pythia-410m", "fp32", "sdpa", 4, 1024),
    cfg("nx-amp-eager-b4-s1024", "pythia-410m", "amp-bf16", "eager", 4, 1024),
    cfg("nx-amp-sdpa-b8-s2048-ckpt", "pythia-410m", "amp-bf16", "sdpa", 8, 2048, recompute="full"),
    cfg("nx-fp32-eager-b2-s1024-ckpt", "pythia-410m", "fp32", "eager", 2, 1024, recompute="full", held_out=True),
    # Two GPUs, amp-bf16: DDP, ZeRO-1 (ZeroRedundancyOptimizer), FSDP2 without / with resharding.
    cfg("2gpu-tl1b-ddp-b4-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048, gpus=2, zero=0),
    cfg("2gpu-tl1b-zero1-b4-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048, gpus=2, zero=1),
    cfg("2gpu-tl1b-fsdp-z2-b4-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048, gpus=2, zero=2),
    cfg("2gpu-tl1b-fsdp-z3-b4-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048, gpus=2, zero=3),
    cfg("2gpu-g350-ddp-b8-s1024", "gpt2-350m", "amp-bf16", "sdpa", 8, 1024, gpus=2, zero=0),
    cfg("2gpu-g350-zero1-b8-s1024", "gpt2-350m", "amp-bf16", "sdpa", 8, 1024, gpus=2, zero=1),
    cfg("2gpu-g350-fsdp-z2-b8-s1024", "gpt2-350m", "amp-bf16", "sdpa", 8, 1024, gpus=2, zero=2),
    cfg("2gpu-g350-fsdp-z3-b8-s1024", "gpt2-350m", "amp-bf16", "sdpa", 8, 1024, gpus=2, zero=3),
]
STEPS = 3


def build_model(c):
    import torch
    import transformers
    shape = dict(SHAPES[c["shape"]])
    model_type = shape.pop("model_type")
    config = transformers.AutoConfig.for_model(model_type, **shape)
    if model_type == "gpt2":
        config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = c["dropout"]
    else:
        config.attention_dropout = c["dropout"]
    config.use_cache = False
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation=c["attention"])
    return model


def mib(x):
    return x


def run_one(c):
    import torch
    import transformers
    distributed = c["gpus"] > 1
    rank = 0
    if distributed:
        import torch.distributed as dist
        dist.init_process_group("nccl")
        rank = dist.get_rank()
        torch.cuda.set_device(rank)
    dev = torch.device("cuda", torch.cuda.current_device())
    torch.cuda.reset_peak_memory_stats()
    model = build_model(c)
    n_params = sum(p.numel() for p in model.parameters())
    if c["precision"] == "bf16":
        model = model.to(torch.bfloat16)
    model = model.to(dev)
    if c["recompute"] == "full":
        model.gradient_checkpointing_enable()
    model.train()
    after_model = torch.cuda.memory_allocated()

    opt_params = model.parameters()
    wrapped = model
    if distributed:
        if c["zero"] in (0, 1):
            from torch.nn.parallel import DistributedDataParallel as DDP
            wrapped = DDP(model, device_ids=[rank])
            if c["zero"] == 1:
                from torch.distributed.optim import ZeroRedundancyOptimizer
                opt = ZeroRedundancyOptimizer(wrapped.parameters(), optimizer_class=torch.optim.AdamW, lr=1e-4, fused=True)
        else:
            from torch.distributed.fsdp import fully_shard, MixedPrecisionPolicy
            mp = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
            base = model.base_model  # transformer (GPT-2), model (Llama family), gpt_neox
            layers = base.h if hasattr(base, "h") else base.layers
            reshard = c["zero"] == 3
            for layer in layers:
                fully_shard(layer, mp_policy=mp, reshard_after_forward=reshard)
            fully_shard(model, mp_policy=mp, reshard_after_forward=reshard)
            wrapped = model
    if not (distributed and c["zero"] == 1):
        opt = torch.optim.AdamW(wrapped.parameters(), lr=1e-4, fused=True)
    after_wrap = torch.cuda.memory_allocated()

    g = torch.Generator(device="cpu").manual_seed(1)
    vocab = SHAPES[c["shape"]]["vocab_size"]
    ids = torch.randint(0, vocab, (c["batch"], c["seq"]), generator=g).to(dev)
    autocast = c["precision"] == "amp-bf16" and not (distributed and c["zero"] >= 2)
    steps = []
    torch.cuda.synchronize()
    for step in range(STEPS):
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            out = wrapped(input_ids=ids, labels=ids)
        loss = out.loss
        torch.cuda.synchronize()
        fwd_peak = torch.cuda.max_memory_allocated()
        fwd_end = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        loss.backward()
        del out
        torch.cuda.synchronize()
        bwd_peak = torch.cuda.max_memory_allocated()
        bwd_end = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        opt_peak = torch.cuda.max_memory_allocated()
        opt_end = torch.cuda.memory_allocated()
        steps.append(dict(start=start, forward_peak=fwd_peak, forward_end=fwd_end, backward_peak=bwd_peak,
                          backward_end=bwd_end, optimizer_peak=opt_peak, optimizer_end=opt_end,
                          loss=float(loss.item()), seconds=time.perf_counter() - t0))
    # Whole-run peaks (what max_memory_allocated reports over the steps, counting from empty).
    peak_allocated = max(max(s["forward_peak"], s["backward_peak"], s["optimizer_peak"]) for s in steps)
    free, total = torch.cuda.mem_get_info()
    result = dict(config=c, parameters=n_params, after_model_bytes=after_model, after_wrap_bytes=after_wrap,
                  steps=steps, max_memory_allocated=peak_allocated,
                  max_memory_reserved=torch.cuda.max_memory_reserved(),
                  memory_reserved=torch.cuda.memory_reserved(),
                  device_used_bytes=total - free, device_total_bytes=total,
                  allocator_stats={k: v for k, v in torch.cuda.memory_stats().items()
                                   if k in ("num_alloc_retries", "num_ooms", "num_device_alloc", "num_device_free")},
                  gpu=torch.cuda.get_device_name(), rank=rank,
                  versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                                cuda=torch.version.cuda, python=sys.version.split()[0]))
    # max_memory_reserved is reset with the peaks each phase: report the running maximum instead.
    if distributed:
        import torch.distributed as dist
        gathered = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, result)
        dist.destroy_process_group()
        if rank == 0:
            print(json.dumps(dict(config=c, ranks=gathered)))
    else:
        print(json.dumps(result))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--run")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--shapes", help="with --all: only configurations of these shapes (comma-separated)")
    ap.add_argument("--gpus", type=int, default=1, help="with --all: run the configurations for this many GPUs")
    ap.add_argument("--out")
    ap.add_argument("--jobs", type=int, default=1, help="with --all: configurations run at once")
    a = ap.parse_args()
    if a.list:
        for c in CONFIGS:
            print(c["name"], json.dumps(c))
        return
    name = a.run or os.environ.get("LLMPLAN_MEASURE_CONFIG")
    if name:
        c = next(c for c in CONFIGS if c["name"] == name)
        run_one(c)
        return
    if a.all:
        # Each configuration in a fresh process (an empty caching allocator); --jobs of them at once
        # (per-process allocator statistics are unaffected; device_used_bytes then is not meaningful).
        from concurrent.futures import ThreadPoolExecutor
        todo = [c for c in CONFIGS if c["gpus"] == a.gpus and (not a.shapes or c["shape"] in a.shapes.split(","))]
        results = {}

        def one(c):
            if c["gpus"] == 1:
                cmd = [sys.executable, __file__, "--run", c["name"]]
            else:
                # The name travels in the environment: torchrun's own parser claims "--run".
                cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={c['gpus']}",
                       __file__]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, LLMPLAN_MEASURE_CONFIG=c["name"]))
            line = [l for l in p.stdout.splitlines() if l.startswith("{")]
            if p.returncode != 0 or not line:
                r, status = dict(config=c, error=(p.stderr or p.stdout)[-3000:]), "FAILED"
            else:
                r, status = json.loads(line[-1]), "ok"
            r["concurrent_jobs"] = a.jobs
            results[c["name"]] = r
            print(f"[{len(results)}/{len(todo)}] {c['name']}: {status} ({time.time() - t0:.1f} s)", file=sys.stderr, flush=True)
            doc = dict(schema="llmplan.pytorch-memory-measurements/1", script="validation/pytorch_memory/measure.py",
                       steps=STEPS, results=[results[k["name"]] for k in todo if k["name"] in results])
            if a.out:
                with open(a.out + ".tmp", "w") as f:
                    f.write(json.dumps(doc, indent=1) + "\n")
                os.replace(a.out + ".tmp", a.out)

        with ThreadPoolExecutor(max_workers=a.jobs) as pool:
            list(pool.map(one, todo))

if __name__ == "__main__":
    main()
