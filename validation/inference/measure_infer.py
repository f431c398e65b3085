#!/usr/bin/env python3
"""measure_infer.py — what PyTorch + transformers allocate when serving a model.

For `llmplan infer --framework hf`: each configuration runs in a fresh process on a
randomly initialised model (no download; shapes from validation/pytorch_memory/shapes.json) and
records torch.cuda.max_memory_allocated() counting from an empty GPU:
  forward   — model(input_ids) once, under torch.no_grad() or recording autograd (the seed lecture)
  generate  — model.generate(input_ids, max_new_tokens=G, min_new_tokens=G, do_sample=False)

  python3 measure_infer.py --all --out results.json
"""
import argparse, json, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = json.load(open(os.path.join(HERE, "..", "pytorch_memory", "shapes.json")))

def cfg(name, shape, dtype, mode, batch, prompt, gen=0, attention="sdpa", grad=False):
    return dict(name=name, shape=shape, dtype=dtype, mode=mode, batch=batch, prompt=prompt, generate=gen,
                attention=attention, autograd=grad)

CONFIGS = [
    cfg("tl1b-bf16-fwd-b32-p512", "tinyllama-1.1b", "bf16", "forward", 32, 512),
    cfg("tl1b-fp32-fwd-b8-p512", "tinyllama-1.1b", "fp32", "forward", 8, 512),
    cfg("tl1b-fp32-fwd-autograd-b100-p25-eager", "tinyllama-1.1b", "fp32", "forward", 100, 25, attention="eager", grad=True),
    cfg("tl1b-fp32-fwd-nograd-b100-p25-eager", "tinyllama-1.1b", "fp32", "forward", 100, 25, attention="eager"),
    cfg("l400gqa-bf16-fwd-b16-p1024", "llama-gqa-400m", "bf16", "forward", 16, 1024),
    cfg("g350-bf16-fwd-b16-p1024", "gpt2-350m", "bf16", "forward", 16, 1024),
    cfg("tl1b-bf16-gen-b16-p256-g128", "tinyllama-1.1b", "bf16", "generate", 16, 256, 128),
    cfg("tl1b-bf16-gen-b64-p512-g64", "tinyllama-1.1b", "bf16", "generate", 64, 512, 64),
    cfg("l1b128k-bf16-gen-b8-p1024-g128", "llama3-1b-128k", "bf16", "generate", 8, 1024, 128),
    cfg("l400gqa-bf16-gen-b32-p512-g128", "llama-gqa-400m", "bf16", "generate", 32, 512, 128),
]

def run_one(c):
    import torch, transformers
    shape = dict(SHAPES[c["shape"]]); mt = shape.pop("model_type")
    config = transformers.AutoConfig.for_model(mt, **shape)
    torch.cuda.reset_peak_memory_stats()
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation=c["attention"])
    model = model.to(torch.bfloat16 if c["dtype"] == "bf16" else torch.float32).cuda().eval()
    after_model = torch.cuda.memory_allocated()
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, shape["vocab_size"], (c["batch"], c["prompt"]), generator=g).cuda()
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    if c["mode"] == "forward":
        if c["autograd"]:
            out = model(ids)
        else:
            with torch.no_grad():
                out = model(ids)
    else:
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=c["generate"], min_new_tokens=c["generate"], do_sample=False,
                                 pad_token_id=0)
    torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    return dict(config=c, parameters=sum(p.numel() for p in model.parameters()), after_model_bytes=after_model,
                max_memory_allocated=torch.cuda.max_memory_allocated(), max_memory_reserved=torch.cuda.max_memory_reserved(),
                seconds=secs, versions=dict(torch=torch.__version__, transformers=transformers.__version__),
                gpu=torch.cuda.get_device_name())

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run"); ap.add_argument("--all", action="store_true"); ap.add_argument("--out")
    a = ap.parse_args()
    if a.run:
        c = next(x for x in CONFIGS if x["name"] == a.run)
        try:
            r = run_one(c)
        except Exception as e:  # out of memory is a result too
            r = dict(config=c, error=f"{type(e).__name__}: {str(e)[:300]}")
        print(json.dumps(r)); return
    results = []
    for c in CONFIGS:
        p = subprocess.run([sys.executable, __file__, "--run", c["name"]], capture_output=True, text=True)
        line = [l for l in p.stdout.splitlines() if l.startswith("{")]
        r = json.loads(line[-1]) if line else dict(config=c, error=p.stderr[-500:])
        results.append(r)
        print(c["name"], r.get("max_memory_allocated", r.get("error")), flush=True)
        if a.out:
            json.dump(dict(schema="llmplan.infer_measurements/1", script="validation/inference/measure_infer.py",
                           results=results), open(a.out, "w"), indent=1)

if __name__ == "__main__":
    main()
