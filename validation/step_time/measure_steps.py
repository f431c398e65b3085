#!/usr/bin/env python3
"""measure_steps.py — step time of PyTorch + transformers training on one GPU, for the time model.

Each configuration trains a randomly initialised transformers causal LM (built from a config on
the GPU, no download) with torch.optim.AdamW(fused=True) and times whole optimizer steps
(forward, backward, optimizer) with torch.cuda.synchronize() around each: WARMUP steps first,
then STEPS timed steps; the median step is reported with tokens/s. Precision amp-bf16 = fp32
parameters under torch.autocast(bfloat16) (llmplan --precision amp-bf16); bf16 = the model in
bfloat16 (llmplan --precision bf16). Attention is transformers' "sdpa" with PyTorch's
FlashAttention-2 backend forced (llmplan --attention flash): the other SDPA backends are switched
off with torch.backends.cuda.enable_{mem_efficient,math,cudnn}_sdp(False) — global flags that
torch.compile traces through (the sdpa_kernel context manager, with which step_time_h200.json and
step_time_h100.json were measured — the same backend — made Dynamo
fail on the compiled runs); if the flash backend refuses the shape the run says so and is not timed.
compile = torch.compile(model) (inductor, default mode); recompute full =
model.gradient_checkpointing_enable() (llmplan --recompute full).

These runs are held out: no constant of llmplan's time model is fitted to them; they are compared
with `llmplan plan --gpu h200 --gpus 1 ...` by validation/step_time/compare.py.

  python3 measure_steps.py --out FILE [--only NAME,...] [--list] [--history DIR]

--history DIR records the caching allocator's history (torch.cuda.memory._record_memory_history,
Python stacks of the allocations) from the model's creation through the warm-up steps of each run
and writes DIR/NAME.pickle.gz (torch.cuda.memory._dump_snapshot, gzipped), for
validation/pytorch_memory/alloc_history.py; those runs' times are not comparable (recording slows
the host) and are written to the JSON like the others, marked "history": true.
"""
import argparse
import json
import os
import statistics
import sys
import time

WARMUP, STEPS = 3, 8

SHAPES = {
    # GPT-2 family (learned positions, LayerNorm, GELU, tied head): the MPT/llm-foundry shape.
    "gpt2-124m": dict(model_type="gpt2", n_embd=768, n_layer=12, n_head=12, n_positions=2048, vocab_size=50304),
    "gpt2-350m": dict(model_type="gpt2", n_embd=1024, n_layer=24, n_head=16, n_positions=2048, vocab_size=50304),
    "gpt2-1.3b": dict(model_type="gpt2", n_embd=2048, n_layer=24, n_head=16, n_positions=2048, vocab_size=50304),
    # Llama 3.2 1B (GQA 32/8, SwiGLU, RMSNorm, tied, 128k vocabulary).
    "llama3-1b": dict(model_type="llama", hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                      num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                      max_position_embeddings=8192, tie_word_embeddings=True, rope_theta=500000.0),
    # Llama 3 8B's layer (d 4096, f 14336, GQA 32/8, 128k vocabulary, untied), 8 of its 32 layers.
    "llama3-8b-8l": dict(model_type="llama", hidden_size=4096, intermediate_size=14336, num_hidden_layers=8,
                         num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
                         max_position_embeddings=8192, tie_word_embeddings=False, rope_theta=500000.0),
}


def cfg(name, shape, precision, batch, seq, compile=False, recompute="none"):
    c = dict(name=name, shape=shape, precision=precision, batch=batch, seq=seq, compile=compile)
    if recompute != "none":
        c["recompute"] = recompute
    return c


CONFIGS = [
    cfg("gpt2-124m-amp-b16-s1024", "gpt2-124m", "amp-bf16", 16, 1024),
    cfg("gpt2-350m-amp-b16-s1024", "gpt2-350m", "amp-bf16", 16, 1024),
    cfg("gpt2-1.3b-amp-b8-s2048", "gpt2-1.3b", "amp-bf16", 8, 2048),
    cfg("llama3-1b-amp-b8-s2048", "llama3-1b", "amp-bf16", 8, 2048),
    cfg("llama3-1b-amp-b2-s8192", "llama3-1b", "amp-bf16", 2, 8192),
    cfg("llama3-8b-8l-amp-b2-s4096", "llama3-8b-8l", "amp-bf16", 2, 4096),
    cfg("llama3-8b-8l-bf16-b1-s8192", "llama3-8b-8l", "bf16", 1, 8192),
    cfg("gpt2-124m-amp-b16-s1024-compiled", "gpt2-124m", "amp-bf16", 16, 1024, compile=True),
    cfg("llama3-1b-amp-b8-s2048-compiled", "llama3-1b", "amp-bf16", 8, 2048, compile=True),
    # Added 2026-12-05 (fifth session, H100): gradient checkpointing, and a larger batch compiled.
    cfg("llama3-1b-amp-b8-s2048-ckpt", "llama3-1b", "amp-bf16", 8, 2048, recompute="full"),
    cfg("llama3-8b-8l-amp-b4-s4096-ckpt", "llama3-8b-8l", "amp-bf16", 4, 4096, recompute="full"),
    cfg("gpt2-350m-amp-b16-s1024-compiled", "gpt2-350m", "amp-bf16", 16, 1024, compile=True),
]


def run_one(c, history=None):
    import torch
    import transformers
    # FlashAttention-2 only (global flags: torch.compile traces through them) — except with
    # --sdpa-default, which leaves PyTorch's own choice: a compiled transformers model passes SDPA
    # a boolean causal mask (its mask is materialised under Dynamo), which the flash kernel refuses.
    default_sdpa = bool(c.get("sdpa_default"))
    torch.backends.cuda.enable_flash_sdp(True)
    torch.backends.cuda.enable_mem_efficient_sdp(default_sdpa)
    torch.backends.cuda.enable_math_sdp(default_sdpa)
    torch.backends.cuda.enable_cudnn_sdp(default_sdpa)
    if history:
        torch.cuda.memory._record_memory_history(enabled="all", context="alloc", stacks="python", max_entries=400000)
    shape = dict(SHAPES[c["shape"]])
    config = transformers.AutoConfig.for_model(shape.pop("model_type"), **shape)
    config.use_cache = False
    if config.model_type == "gpt2":
        config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0.0
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
    if c["precision"] == "bf16":
        model = model.to(torch.bfloat16)
    model.train()
    if c.get("recompute") == "full":
        model.gradient_checkpointing_enable()
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    step_model = torch.compile(model) if c["compile"] else model
    g = torch.Generator(device="cpu").manual_seed(1)
    ids = torch.randint(0, config.vocab_size, (c["batch"], c["seq"]), generator=g).cuda()
    autocast = c["precision"] == "amp-bf16"
    times = []
    t_first = time.perf_counter()
    for step in range(WARMUP + STEPS):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
            loss = step_model(input_ids=ids, labels=ids).loss
            loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= WARMUP:
            times.append(time.perf_counter() - t0)
        if history and step == WARMUP - 1:  # the allocator's history through the warm-up steps
            import gzip
            import shutil
            path = os.path.join(history, c["name"] + ".pickle")
            torch.cuda.memory._dump_snapshot(path)
            torch.cuda.memory._record_memory_history(enabled=None)
            with open(path, "rb") as src, gzip.open(path + ".gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.remove(path)
    step_s = statistics.median(times)
    tokens = c["batch"] * c["seq"]
    out = dict(config=c, hf_config=SHAPES[c["shape"]], parameters=n_params, step_s=step_s, steps_s=times,
               tokens_per_s=tokens / step_s, warmup_and_compile_s=time.perf_counter() - t_first - sum(times),
               loss=float(loss.item()), max_memory_allocated=torch.cuda.max_memory_allocated(),
               max_memory_reserved=torch.cuda.max_memory_reserved())
    if history:
        out["history"] = True
    if default_sdpa:  # which attention kernels the step ran (one profiled step)
        from torch.profiler import ProfilerActivity, profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                step_model(input_ids=ids, labels=ids).loss.backward()
            torch.cuda.synchronize()
        names = {}
        for ev in prof.key_averages():
            n = ev.key
            if any(k in n.lower() for k in ("fmha", "flash", "attention", "cudnn", "sdpa")):
                names[n[:120]] = round(getattr(ev, "device_time_total", getattr(ev, "cuda_time_total", 0)) / 1e3, 3)
        out["sdpa"] = "PyTorch's default backends"
        out["attention_kernels_ms"] = names
        opt.zero_grad(set_to_none=True)
    del model, step_model, opt, loss
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--only")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--history")
    ap.add_argument("--sdpa-default", action="store_true",
                    help="leave SDPA's backend to PyTorch (default: FlashAttention-2 forced)")
    a = ap.parse_args()
    todo = [dict(c, sdpa_default=a.sdpa_default) for c in CONFIGS if not a.only or c["name"] in a.only.split(",")]
    if a.list:
        for c in todo:
            print(c["name"], json.dumps(c))
        return
    import subprocess
    import torch
    import transformers
    smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm,power.limit",
                          "--format=csv,noheader"], capture_output=True, text=True).stdout.strip()
    doc = dict(schema="llmplan.step-time-measurements/1", script="validation/step_time/measure_steps.py",
               date_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), gpu=torch.cuda.get_device_name(),
               nvidia_smi=smi, versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                                             cuda=torch.version.cuda),
               warmup_steps=WARMUP, timed_steps=STEPS, held_out=True, results=[])
    for c in todo:
        t0 = time.time()
        try:
            r = run_one(c, a.history)
            status = f"{r['step_s'] * 1e3:.1f} ms/step, {r['tokens_per_s']:.0f} tokens/s"
        except Exception as e:  # a backend refusing a shape, an out-of-memory: recorded, not timed
            r, status = dict(config=c, error=f"{type(e).__name__}: {str(e)[:1500]}"), "FAILED"
        # Nothing of this run may stay for the next one's memory figures: a failed torch.compile
        # run's Dynamo caches hold the model (2026-12-06: +5 GiB in the next run's
        # max_memory_allocated on the H100), an exception's traceback its frames.
        import gc
        gc.collect()
        if c.get("compile"):
            torch._dynamo.reset()
            gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        doc["results"].append(r)
        print(f"[{len(doc['results'])}/{len(todo)}] {c['name']}: {status} ({time.time() - t0:.1f} s)",
              file=sys.stderr, flush=True)
        if a.out:
            with open(a.out + ".tmp", "w") as f:
                f.write(json.dumps(doc, indent=1) + "\n")
            os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
