#!/usr/bin/env python3
"""trace_ops.py — the aten operations of one Hugging Face training step, with the allocator's count.

Evidence for the op-level model behind `llmplan plan --framework pytorch` (planner/torch_sim.cpp):
for small two-layer GPT-2, Llama (GQA), Qwen3, Gemma 2, Gemma 3 and GPT-NeoX models in every
precision / attention mode of measure.py (and checkpointing), logs each aten op of the second
training step (forward, backward, optimizer) with its output shapes and dtypes and
torch.cuda.memory_allocated() after it. Also copies the transformers sources the model follows.
Run on a GPU machine:

  python3 trace_ops.py --out DIR [--families qwen3,gemma2,gemma3_text,gpt_neox]
"""
import argparse
import inspect
import os
import sys

import torch
import transformers
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

SHAPES = {
    "gpt2": dict(model_type="gpt2", n_embd=256, n_layer=2, n_head=4, n_positions=512, vocab_size=1000),
    "llama": dict(model_type="llama", hidden_size=256, intermediate_size=640, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, vocab_size=1000, max_position_embeddings=512),
    # Families modelled later (not yet traced): per-head QK-norm and head_dim != hidden/heads (qwen3);
    # Gemma norms, soft-capping and a sliding window shorter than the traced sequence (s = 128), one
    # sliding and one global layer (gemma2, gemma3_text); partial rotary and parallel residual (gpt_neox).
    "qwen3": dict(model_type="qwen3", hidden_size=256, intermediate_size=640, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=96, vocab_size=1000,
                  max_position_embeddings=512),
    "gemma2": dict(model_type="gemma2", hidden_size=256, intermediate_size=640, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, head_dim=96, query_pre_attn_scalar=96,
                   sliding_window=64, vocab_size=1000, max_position_embeddings=512),
    "gemma3_text": dict(model_type="gemma3_text", hidden_size=256, intermediate_size=640, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, head_dim=96, query_pre_attn_scalar=96,
                        sliding_window=64, layer_types=["sliding_attention", "full_attention"], vocab_size=1000,
                        max_position_embeddings=512),
    "gpt_neox": dict(model_type="gpt_neox", hidden_size=256, intermediate_size=1024, num_hidden_layers=2,
                     num_attention_heads=4, vocab_size=1000, max_position_embeddings=512),
}
FIRST = ("gpt2", "llama")  # traced on the H100 (traces_h100.txt.gz)
LATER = ("qwen3", "gemma2", "gemma3_text", "gpt_neox")
MODES = [(f, p, a, r) for f in FIRST for p in ("fp32", "amp-bf16", "bf16") for a in ("eager", "sdpa")
         for r in ("none",)] + [(f, p, "sdpa", "full") for f in FIRST for p in ("fp32", "amp-bf16", "bf16")] \
        + [("llama", "amp-bf16", "eager", "full")] \
        + [(f, p, a, "none") for f in LATER for p in ("fp32", "amp-bf16", "bf16") for a in ("eager", "sdpa")] \
        + [(f, "amp-bf16", a, "full") for f in LATER for a in ("eager", "sdpa")]


def fmt(x):
    if isinstance(x, torch.Tensor):
        return f"{str(x.dtype).replace('torch.', '')}{list(x.shape)}"
    return ""


class Trace(TorchDispatchMode):
    def __init__(self, log):
        super().__init__()
        self.log = log
        self.phase = "?"

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        flat, _ = tree_flatten(out)
        ins, _ = tree_flatten((args, kwargs))
        self.log.append(f"{self.phase} {func.__name__} -> {' '.join(fmt(o) for o in flat if isinstance(o, torch.Tensor))}"
                        f"  <- {' '.join(fmt(i) for i in ins if isinstance(i, torch.Tensor))}"
                        f"  | {torch.cuda.memory_allocated()}")
        return out


def run(fam, prec, attn, rec, b=2, s=128):
    shape = dict(SHAPES[fam])
    mt = shape.pop("model_type")
    config = transformers.AutoConfig.for_model(mt, **shape)
    if mt == "gpt2":
        config.resid_pdrop = config.embd_pdrop = config.attn_pdrop = 0.0
    config.use_cache = False
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation=attn)
    if prec == "bf16":
        model = model.to(torch.bfloat16)
    model = model.cuda()
    if rec == "full":
        model.gradient_checkpointing_enable()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    ids = torch.randint(0, shape["vocab_size"], (b, s), device="cuda")
    log = []
    for step in range(2):
        tr = Trace(log) if step == 1 else None
        if tr:
            log.append(f"# start {torch.cuda.memory_allocated()}")
            tr.__enter__()
            tr.phase = "F"
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=prec == "amp-bf16"):
            out = model(input_ids=ids, labels=ids)
        if tr:
            tr.phase = "B"
        out.loss.backward()
        del out
        if tr:
            tr.phase = "O"
        opt.step()
        opt.zero_grad(set_to_none=True)
        if tr:
            tr.__exit__(None, None, None)
            log.append(f"# end {torch.cuda.memory_allocated()}")
    return log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--families", help="comma-separated: trace only these (default: all of SHAPES)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = a.families.split(",") if a.families else list(SHAPES)
    with open(os.path.join(a.out, "traces.txt"), "w") as f:
        f.write(f"# torch {torch.__version__} transformers {transformers.__version__}\n")
        for m in [m for m in MODES if m[0] in only]:
            f.write(f"\n=== {' '.join(m)}\n")
            try:
                f.write("\n".join(run(*m)) + "\n")
            except Exception as e:  # record and go on
                f.write(f"ERROR {type(e).__name__}: {e}\n")
    import transformers.models.gpt2.modeling_gpt2 as g, transformers.models.llama.modeling_llama as l
    import transformers.models.qwen3.modeling_qwen3 as q3, transformers.models.gemma2.modeling_gemma2 as g2
    import transformers.models.gemma3.modeling_gemma3 as g3, transformers.models.gpt_neox.modeling_gpt_neox as nx
    import transformers.integrations.sdpa_attention as sd, transformers.masking_utils as mu
    import transformers.loss.loss_utils as lu, transformers.activations as ac, transformers.modeling_layers as ml
    import transformers.modeling_utils as mod
    with open(os.path.join(a.out, "sources.txt"), "w") as f:
        for m in (g, l, q3, g2, g3, nx, sd, lu, ac, ml, mu):
            f.write(f"\n##### {m.__file__}\n" + inspect.getsource(m))
        f.write("\n##### gradient_checkpointing_enable\n" + inspect.getsource(mod.PreTrainedModel.gradient_checkpointing_enable))
        f.write("\n##### mask functions\n")
        for name in ("sdpa_mask", "eager_mask", "create_causal_mask", "_preprocess_mask_arguments"):
            if hasattr(mu, name):
                try:
                    f.write(inspect.getsource(getattr(mu, name)) + "\n")
                except Exception:
                    pass
        import torch.utils.checkpoint as ck
        f.write("\n##### torch checkpoint\n" + inspect.getsource(ck.CheckpointFunction))


if __name__ == "__main__":
    main()
