#!/usr/bin/env python3
"""measure_lora.py — LoRA fine-tuning memory with PyTorch + transformers + PEFT.

Each configuration is a fresh process: a randomly initialised model (shapes from
validation/pytorch_memory/shapes.json) in bf16 (or fp32 under autocast), PEFT LoRA adapters
(lora_dropout 0, fp32 adapters as PEFT creates them), torch.optim.AdamW(fused=True) on the
adapters, 3 steps of forward(labels) / backward / step / zero_grad(set_to_none=True);
torch.cuda.max_memory_allocated() over the steps, counting from an empty GPU.
QLoRA needs bitsandbytes; if it is missing the run says so.

  python3 measure_lora.py --all --out lora_h100.json
"""
import argparse, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = json.load(open(os.path.join(HERE, "..", "pytorch_memory", "shapes.json")))
TARGETS = {"llama": {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj", "up": "up_proj",
                     "down": "down_proj"},
           "gpt2": {"q": "c_attn", "k": "c_attn", "v": "c_attn", "o": "attn.c_proj", "up": "c_fc", "down": "mlp.c_proj"}}

def cfg(name, shape, precision, attention, batch, seq, rank, targets):
    return dict(name=name, shape=shape, precision=precision, attention=attention, batch=batch, seq=seq, rank=rank,
                targets=targets)

CONFIGS = [
    cfg("tl1b-bf16-sdpa-b4-s1024-r8-qv", "tinyllama-1.1b", "bf16", "sdpa", 4, 1024, 8, "q,v"),
    cfg("tl1b-bf16-sdpa-b4-s2048-r16-all", "tinyllama-1.1b", "bf16", "sdpa", 4, 2048, 16, "q,k,v,o,gate,up,down"),
    cfg("tl1b-amp-sdpa-b4-s1024-r8-qv", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 1024, 8, "q,v"),
    cfg("l160-bf16-eager-b4-s1024-r8-all", "llama-160m", "bf16", "eager", 4, 1024, 8, "q,k,v,o,gate,up,down"),
    cfg("l400gqa-bf16-sdpa-b8-s2048-r16-qv", "llama-gqa-400m", "bf16", "sdpa", 8, 2048, 16, "q,v"),
    cfg("g124-bf16-sdpa-b8-s1024-r8-attn", "gpt2-124m", "bf16", "sdpa", 8, 1024, 8, "q,v"),
    cfg("g124-bf16-eager-b8-s1024-r8-all", "gpt2-124m", "bf16", "eager", 8, 1024, 8, "q,o,up,down"),
    cfg("l1b128k-bf16-sdpa-b4-s2048-r8-qv", "llama3-1b-128k", "bf16", "sdpa", 4, 2048, 8, "q,v"),
]

def run_one(c):
    import torch, transformers, peft
    shape = dict(SHAPES[c["shape"]]); mt = shape.pop("model_type")
    config = transformers.AutoConfig.for_model(mt, **shape)
    if mt == "gpt2":
        config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0.0
    config.use_cache = False
    torch.cuda.reset_peak_memory_stats()
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation=c["attention"])
    if c["precision"] == "bf16":
        model = model.to(torch.bfloat16)
    model = model.cuda()
    fam = "gpt2" if mt == "gpt2" else "llama"
    mods = sorted({TARGETS[fam][t] for t in c["targets"].split(",") if t in TARGETS[fam]})
    lcfg = peft.LoraConfig(r=c["rank"], lora_alpha=16, lora_dropout=0.0, target_modules=mods,
                           fan_in_fan_out=(fam == "gpt2"), task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, lcfg)
    model.train()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    adapter_dtypes = sorted({str(p.dtype) for p in model.parameters() if p.requires_grad})
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, fused=True)
    ids = torch.randint(0, shape["vocab_size"], (c["batch"], c["seq"]), generator=torch.Generator().manual_seed(1)).cuda()
    peaks = []
    for _ in range(3):
        torch.cuda.reset_peak_memory_stats()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=c["precision"] == "amp-bf16"):
            out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        del out
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        peaks.append(torch.cuda.max_memory_allocated())
    return dict(config=c, trainable=trainable, adapter_dtypes=adapter_dtypes, target_modules=mods,
                max_memory_allocated=max(peaks), per_step_peaks=peaks,
                max_memory_reserved=torch.cuda.max_memory_reserved(),
                versions=dict(torch=torch.__version__, transformers=transformers.__version__, peft=peft.__version__),
                gpu=torch.cuda.get_device_name())

def main():
    ap = argparse.ArgumentParser(); ap.add_argument("--run"); ap.add_argument("--all", action="store_true"); ap.add_argument("--out")
    a = ap.parse_args()
    if a.run:
        c = next(x for x in CONFIGS if x["name"] == a.run)
        try:
            r = run_one(c)
        except Exception as e:
            r = dict(config=c, error=f"{type(e).__name__}: {str(e)[:300]}")
        print(json.dumps(r)); return
    results = []
    try:
        import bitsandbytes  # noqa: F401
        qlora = "bitsandbytes is installed (QLoRA runs not in this matrix yet)"
    except Exception:
        qlora = "bitsandbytes is not installed on this machine: no QLoRA (4-bit base) runs"
    for c in CONFIGS:
        p = subprocess.run([sys.executable, __file__, "--run", c["name"]], capture_output=True, text=True)
        line = [l for l in p.stdout.splitlines() if l.startswith("{")]
        r = json.loads(line[-1]) if line else dict(config=c, error=p.stderr[-500:])
        results.append(r)
        print(c["name"], r.get("max_memory_allocated", r.get("error")), r.get("trainable"), flush=True)
        if a.out:
            json.dump(dict(schema="llmplan.lora_measurements/1", script="validation/inference/measure_lora.py", qlora=qlora,
                           results=results), open(a.out, "w"), indent=1)

if __name__ == "__main__":
    main()
