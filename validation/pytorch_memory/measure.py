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
eager|flash); recompute full = model.gradient_checkpointing_enable(), selective = each decoder
layer under torch.utils.checkpoint with torchtitan's op policy (sac_policy below; llmplan
--recompute selective); dropout P; optimizer torch.optim.AdamW with optimizer_impl fused (the
first 40 runs) | foreach | forloop (llmplan --framework-option optimizer_impl=...); zero 0 = DDP,
1 = DDP + ZeroRedundancyOptimizer, 2/3 = FSDP2 fully_shard per decoder layer and root,
reshard_after_forward False/True; accum k = k micro-batches per optimizer step (llmplan
--global-batch k·batch·gpus; the peak of micro-batch 1 and of the later ones recorded apart);
trainer hf = the step run by transformers.Trainer with its defaults (bf16=True for amp-bf16,
gradient_checkpointing for recompute full; llmplan --framework-option trainer=hf); compile =
torch.compile(model) (inductor, default mode; llmplan models no --compile yet: these runs are its
data); alloc_conf = PYTORCH_CUDA_ALLOC_CONF for the run (e.g. expandable_segments:True).
Every run also records the caching allocator's segments at the end (torch.cuda.memory_snapshot:
segment sizes, pool, allocated / active bytes) and its counters, for the allocator model.
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


def cfg(name, shape, precision, attention, batch, seq, recompute="none", dropout=0.0, gpus=1, zero=0, held_out=False,
        group=None, **extra):
    c = dict(name=name, shape=shape, precision=precision, attention=attention, batch=batch, seq=seq,
             recompute=recompute, dropout=dropout, gpus=gpus, zero=zero)
    # extra: optimizer_impl (default fused, as the first runs), accum, trainer, compile, alloc_conf.
    c.update(extra)
    if group:  # the question a run answers (measure.py --group)
        c["group"] = group
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
    # The same job again with the allocator's history recorded (group "history": run by name only), to
    # diagnose its reserved miss (docs/validation/pytorch_memory.md).
    cfg("hist-nx-amp-sdpa-b8-s2048-ckpt", "pythia-410m", "amp-bf16", "sdpa", 8, 2048, recompute="full",
        group="history", record_history=True),
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
] + [
    # ---- Prepared for the next GPU session (docs/validation/pytorch_memory.md, "Prepared, not yet
    # measured"). held_out runs are marked before measuring: no constant or rule may be derived
    # from them; their errors are the accuracy claim.
    # Optimizer implementation (group "optim"): the same job under fused / foreach / forloop, small
    # batches so that the step can be the peak; 1 GPU, DDP + ZeroRedundancyOptimizer, FSDP2.
    *[cfg(f"opt-{impl}-{tag}", shape, prec, "sdpa", b, s_, gpus=g, zero=z, optimizer_impl=impl, group="optim",
          held_out=ho)
      for impl in ("fused", "foreach", "forloop")
      for (tag, shape, prec, b, s_, g, z, ho) in (
          ("tl1b-amp-b1-s512", "tinyllama-1.1b", "amp-bf16", 1, 512, 1, 0, False),
          ("l400gqa-fp32-b2-s1024", "llama-gqa-400m", "fp32", 2, 1024, 1, 0, False),
          ("g350-bf16-b4-s1024", "gpt2-350m", "bf16", 4, 1024, 1, 0, impl == "forloop"),
          ("l1b128k-amp-b1-s1024", "llama3-1b-128k", "amp-bf16", 1, 1024, 1, 0, impl == "foreach"),
          ("2gpu-tl1b-zero1-b4-s2048", "tinyllama-1.1b", "amp-bf16", 4, 2048, 2, 1, False),
          ("2gpu-g350-zero1-b1-s512", "gpt2-350m", "amp-bf16", 1, 512, 2, 1, impl == "foreach"),
          ("2gpu-tl1b-fsdp-z3-b1-s1024", "tinyllama-1.1b", "amp-bf16", 1, 1024, 2, 3, impl == "forloop"))],
    # Gradient accumulation (group "accum"): k micro-batches per step, foreach (PyTorch's default).
    cfg("acc-g124-amp-sdpa-b4-s1024-k4", "gpt2-124m", "amp-bf16", "sdpa", 4, 1024, accum=4, optimizer_impl="foreach",
        group="accum"),
    cfg("acc-tl1b-amp-sdpa-b2-s2048-k2", "tinyllama-1.1b", "amp-bf16", "sdpa", 2, 2048, accum=2,
        optimizer_impl="foreach", group="accum"),
    cfg("acc-l400gqa-bf16-sdpa-b8-s2048-k8", "llama-gqa-400m", "bf16", "sdpa", 8, 2048, accum=8,
        optimizer_impl="foreach", group="accum"),
    cfg("acc-l1b128k-amp-sdpa-b1-s2048-k4", "llama3-1b-128k", "amp-bf16", "sdpa", 1, 2048, accum=4,
        optimizer_impl="foreach", group="accum", held_out=True),
    cfg("acc-2gpu-g350-ddp-b4-s1024-k4", "gpt2-350m", "amp-bf16", "sdpa", 4, 1024, gpus=2, zero=0, accum=4,
        optimizer_impl="foreach", group="accum", held_out=True),
    # Selective activation checkpointing (group "sac"): torchtitan's op policy per decoder layer.
    cfg("sac-l160-amp-sdpa-b8-s2048", "llama-160m", "amp-bf16", "sdpa", 8, 2048, recompute="selective",
        optimizer_impl="foreach", group="sac"),
    cfg("sac-l400gqa-bf16-sdpa-b8-s4096", "llama-gqa-400m", "bf16", "sdpa", 8, 4096, recompute="selective",
        optimizer_impl="foreach", group="sac"),
    cfg("sac-tl1b-amp-sdpa-b8-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 8, 2048, recompute="selective",
        optimizer_impl="foreach", group="sac"),
    cfg("sac-g350-amp-sdpa-b8-s1024", "gpt2-350m", "amp-bf16", "sdpa", 8, 1024, recompute="selective",
        optimizer_impl="foreach", group="sac"),
    cfg("sac-l1b128k-bf16-eager-b2-s2048", "llama3-1b-128k", "bf16", "eager", 2, 2048, recompute="selective",
        optimizer_impl="foreach", group="sac", held_out=True),
    cfg("sac-q3-amp-sdpa-b4-s2048", "qwen3-0.6b", "amp-bf16", "sdpa", 4, 2048, recompute="selective",
        optimizer_impl="foreach", group="sac", held_out=True),
    # The Hugging Face Trainer with its defaults (group "trainer").
    cfg("hf-g124-amp-sdpa-b8-s1024", "gpt2-124m", "amp-bf16", "sdpa", 8, 1024, trainer="hf", group="trainer"),
    cfg("hf-tl1b-amp-sdpa-b4-s2048-ckpt-k2", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048, recompute="full",
        accum=2, trainer="hf", group="trainer"),
    cfg("hf-l400gqa-fp32-sdpa-b2-s1024", "llama-gqa-400m", "fp32", "sdpa", 2, 1024, trainer="hf", group="trainer"),
    cfg("hf-q3-amp-sdpa-b4-s1024-k4", "qwen3-0.6b", "amp-bf16", "sdpa", 4, 1024, accum=4, trainer="hf",
        group="trainer", held_out=True),
    # The caching allocator (group "alloc"): reserved bytes and segments on jobs of the first 40,
    # with the default allocator (repeats of in-sample runs; the two reserved misses also record
    # the allocator's history, torch.cuda.memory._record_memory_history, for their diagnosis) and
    # with expandable_segments:True (new: two of them held out).
    *[cfg(f"alloc-{tag}{'-exp' if exp else ''}", shape, prec, att, b, s_, recompute=rc, optimizer_impl="fused",
          group="alloc", held_out=exp and ho,
          **({"alloc_conf": "expandable_segments:True"} if exp else {}),
          **({"record_history": True} if (miss and not exp) else {}))
      for exp in (False, True)
      for (tag, shape, prec, att, b, s_, rc, ho, miss) in (
          ("g124-amp-sdpa-b16-s1024", "gpt2-124m", "amp-bf16", "sdpa", 16, 1024, "none", False, False),
          ("l160-bf16-sdpa-b16-s1024", "llama-160m", "bf16", "sdpa", 16, 1024, "none", False, False),
          ("tl1b-amp-sdpa-b8-s2048-ckpt", "tinyllama-1.1b", "amp-bf16", "sdpa", 8, 2048, "full", True, False),
          ("g124-fp32-eager-b4-s1024-ckpt", "gpt2-124m", "fp32", "eager", 4, 1024, "full", False, True),
          ("l1b128k-bf16-eager-b2-s2048-ckpt", "llama3-1b-128k", "bf16", "eager", 2, 2048, "full", False, True),
          ("l400gqa-amp-eager-b2-s2048", "llama-gqa-400m", "amp-bf16", "eager", 2, 2048, "none", True, False))],
    # torch.compile (group "compile"): each compiled run next to its eager twin (the eager twins of
    # the first 40 are re-run here with foreach so that both halves share the optimizer).
    *[cfg(f"cmp-{tag}{'-compiled' if comp else ''}", shape, prec, att, b, s_, recompute=rc, optimizer_impl="foreach",
          group="compile", held_out=ho and comp, **({"compile": True} if comp else {}))
      for comp in (False, True)
      for (tag, shape, prec, att, b, s_, rc, ho) in (
          ("g124-amp-sdpa-b8-s1024", "gpt2-124m", "amp-bf16", "sdpa", 8, 1024, "none", False),
          ("g124-fp32-sdpa-b4-s1024", "gpt2-124m", "fp32", "sdpa", 4, 1024, "none", False),
          ("l160-amp-sdpa-b8-s2048", "llama-160m", "amp-bf16", "sdpa", 8, 2048, "none", False),
          ("l400gqa-bf16-sdpa-b8-s2048", "llama-gqa-400m", "bf16", "sdpa", 8, 2048, "none", False),
          ("tl1b-amp-sdpa-b4-s2048", "tinyllama-1.1b", "amp-bf16", "sdpa", 4, 2048, "none", False),
          ("tl1b-amp-sdpa-b8-s2048-ckpt", "tinyllama-1.1b", "amp-bf16", "sdpa", 8, 2048, "full", False),
          ("q3-bf16-sdpa-b4-s2048", "qwen3-0.6b", "bf16", "sdpa", 4, 2048, "none", True),
          ("l1b128k-amp-sdpa-b2-s2048", "llama3-1b-128k", "amp-bf16", "sdpa", 2, 2048, "none", True))],
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


def sac_policy():
    """torchtitan's op policy (its llama3 op_sac_save_list and activation_checkpoint.py's custom
    policy): save the outputs of aten.mm (every second one per layer: 1st, 3rd, ...) and of the
    fused SDPA kernels; recompute the rest (aten.addmm, biased linears, is not in the list).
    Written from those files, not copied; the same rule as llmplan's pytorch_sac_policy(). A new
    policy (with its own counts) per checkpointed call."""
    import torch
    from torch.utils.checkpoint import CheckpointPolicy
    aten = torch.ops.aten
    always = {aten._scaled_dot_product_efficient_attention.default, aten._scaled_dot_product_flash_attention.default}
    if hasattr(aten, "_scaled_dot_product_cudnn_attention"):
        always.add(aten._scaled_dot_product_cudnn_attention.default)
    counts = {"forward": 0, "recompute": 0}

    def policy(ctx, func, *args, **kwargs):
        if func == aten.mm.default:
            mode = "recompute" if ctx.is_recompute else "forward"
            counts[mode] += 1
            return CheckpointPolicy.MUST_SAVE if counts[mode] % 2 == 1 else CheckpointPolicy.PREFER_RECOMPUTE
        return CheckpointPolicy.MUST_SAVE if func in always else CheckpointPolicy.PREFER_RECOMPUTE
    return policy


def wrap_selective(model):
    """Each decoder layer's forward under torch.utils.checkpoint(use_reentrant=False) with the SAC
    policy (a fresh policy context per layer call, as torchtitan's ptd_checkpoint_wrapper does)."""
    import functools
    from torch.utils.checkpoint import checkpoint, create_selective_checkpoint_contexts
    base = model.base_model
    layers = base.h if hasattr(base, "h") else base.layers
    for layer in layers:
        inner = layer.forward

        def fwd(*args, _inner=inner, **kwargs):
            ctx = functools.partial(create_selective_checkpoint_contexts, sac_policy())
            return checkpoint(_inner, *args, use_reentrant=False, context_fn=ctx, **kwargs)
        layer.forward = fwd


def allocator_summary():
    """The caching allocator's segments now (torch.cuda.memory_snapshot) and its counters."""
    import torch
    segs = torch.cuda.memory_snapshot()
    out = dict(segments=[dict(size=g["total_size"], pool="small" if g.get("segment_type") == "small" else "large",
                              allocated=g.get("allocated_size", 0), active=g.get("active_size", 0),
                              blocks=len(g.get("blocks", []))) for g in segs])
    st = torch.cuda.memory_stats()
    out["stats"] = {k: v for k, v in st.items()
                    if k.startswith(("segment.", "reserved_bytes.", "allocated_bytes.", "inactive_split_bytes.",
                                     "requested_bytes.")) and k.endswith((".current", ".peak"))}
    return out


def run_trainer(c, model, dev, ids):
    """The step as transformers.Trainer runs it with its defaults (no evaluation, saving, logging)."""
    import torch
    import transformers

    class Data(torch.utils.data.Dataset):
        def __len__(self):
            return 10 ** 6

        def __getitem__(self, i):
            row = ids[i % ids.shape[0]].cpu()
            return dict(input_ids=row, labels=row)

    peaks = []

    class Record(transformers.TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            torch.cuda.synchronize()
            peaks.append(dict(step=state.global_step, max_memory_allocated=torch.cuda.max_memory_allocated(),
                              allocated=torch.cuda.memory_allocated()))
            torch.cuda.reset_peak_memory_stats()

    args = transformers.TrainingArguments(
        output_dir="/tmp/llmplan_trainer", max_steps=STEPS, per_device_train_batch_size=c["batch"],
        gradient_accumulation_steps=c.get("accum", 1), bf16=c["precision"] == "amp-bf16",
        gradient_checkpointing=c["recompute"] == "full", report_to=[], save_strategy="no",
        logging_strategy="no", eval_strategy="no", dataloader_num_workers=0, disable_tqdm=True)
    trainer = transformers.Trainer(model=model, args=args, train_dataset=Data(), callbacks=[Record()])
    torch.cuda.reset_peak_memory_stats()
    trainer.train()
    return dict(trainer_steps=peaks, optim=str(args.optim), trainer_optimizer=type(trainer.optimizer).__name__,
                trainer_optimizer_defaults={k: str(v) for k, v in trainer.optimizer.defaults.items()
                                            if k in ("foreach", "fused", "weight_decay")})


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
    if c["recompute"] == "full" and c.get("trainer") != "hf":
        model.gradient_checkpointing_enable()
    if c["recompute"] == "selective":
        wrap_selective(model)
    model.train()
    after_model = torch.cuda.memory_allocated()
    if c.get("trainer") == "hf":
        g = torch.Generator(device="cpu").manual_seed(1)
        ids = torch.randint(0, SHAPES[c["shape"]]["vocab_size"], (c["batch"], c["seq"]), generator=g)
        extra = run_trainer(c, model, dev, ids)
        print(json.dumps(dict(config=c, parameters=n_params, after_model_bytes=after_model, **extra,
                              max_memory_allocated=max(p["max_memory_allocated"] for p in extra["trainer_steps"]),
                              max_memory_reserved=torch.cuda.max_memory_reserved(),
                              allocator=allocator_summary(), gpu=torch.cuda.get_device_name(),
                              versions=dict(torch=torch.__version__, transformers=transformers.__version__))))
        return

    # optimizer_impl: fused (the first 40 runs) | foreach | forloop (foreach=False, fused=False).
    impl = c.get("optimizer_impl", "fused")
    impl_kwargs = dict(fused=True) if impl == "fused" else dict(foreach=impl == "foreach", fused=False)
    wrapped = model
    if distributed:
        if c["zero"] in (0, 1):
            from torch.nn.parallel import DistributedDataParallel as DDP
            wrapped = DDP(model, device_ids=[rank])
            if c["zero"] == 1:
                from torch.distributed.optim import ZeroRedundancyOptimizer
                opt = ZeroRedundancyOptimizer(wrapped.parameters(), optimizer_class=torch.optim.AdamW, lr=1e-4,
                                              **impl_kwargs)
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
        opt = torch.optim.AdamW(wrapped.parameters(), lr=1e-4, **impl_kwargs)
    if c.get("compile"):
        wrapped = torch.compile(wrapped)  # inductor, default mode
    after_wrap = torch.cuda.memory_allocated()
    accum = c.get("accum", 1)

    g = torch.Generator(device="cpu").manual_seed(1)
    vocab = SHAPES[c["shape"]]["vocab_size"]
    ids = torch.randint(0, vocab, (c["batch"], c["seq"]), generator=g).to(dev)
    autocast = c["precision"] == "amp-bf16" and not (distributed and c["zero"] >= 2)
    steps = []
    if c.get("record_history"):  # every allocation and free with its stack, for the allocator model
        torch.cuda.memory._record_memory_history(max_entries=1_000_000)
    torch.cuda.synchronize()
    for step in range(STEPS):
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
        t0 = time.perf_counter()
        micro = []
        for k in range(accum):  # micro-batch 1 builds the .grad tensors, the later ones add into them
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                out = wrapped(input_ids=ids, labels=ids)
            loss = out.loss
            torch.cuda.synchronize()
            fwd_peak = torch.cuda.max_memory_allocated()
            fwd_end = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            (loss / accum).backward()
            del out
            torch.cuda.synchronize()
            bwd_peak = torch.cuda.max_memory_allocated()
            bwd_end = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            micro.append(dict(forward_peak=fwd_peak, forward_end=fwd_end, backward_peak=bwd_peak, backward_end=bwd_end))
        fwd_peak = max(m["forward_peak"] for m in micro)
        bwd_peak = max(m["backward_peak"] for m in micro)
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        opt_peak = torch.cuda.max_memory_allocated()
        opt_end = torch.cuda.memory_allocated()
        steps.append(dict(start=start, forward_peak=fwd_peak, forward_end=fwd_end, backward_peak=bwd_peak,
                          backward_end=bwd_end, optimizer_peak=opt_peak, optimizer_end=opt_end,
                          loss=float(loss.item()), seconds=time.perf_counter() - t0,
                          **(dict(microbatches=micro) if accum > 1 else {})))
    if c.get("record_history") and os.environ.get("LLMPLAN_HISTORY_DIR"):
        torch.cuda.memory._dump_snapshot(os.path.join(os.environ["LLMPLAN_HISTORY_DIR"], c["name"] + ".pickle"))
        torch.cuda.memory._record_memory_history(enabled=None)
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
                  allocator=allocator_summary(),
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
    ap.add_argument("--group", help="with --all: only configurations of these groups (optim, accum, sac, trainer, "
                                    "alloc, compile; comma-separated); without it the first runs and families")
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
        groups = a.group.split(",") if a.group else [None]
        todo = [c for c in CONFIGS if c["gpus"] == a.gpus and (not a.shapes or c["shape"] in a.shapes.split(","))
                and c.get("group") in groups]
        results = {}

        def one(c):
            if c["gpus"] == 1:
                cmd = [sys.executable, __file__, "--run", c["name"]]
            else:
                # The name travels in the environment: torchrun's own parser claims "--run".
                cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={c['gpus']}",
                       __file__]
            t0 = time.time()
            env = dict(os.environ, LLMPLAN_MEASURE_CONFIG=c["name"])
            if c.get("alloc_conf"):  # read by the caching allocator when CUDA starts
                env["PYTORCH_CUDA_ALLOC_CONF"] = c["alloc_conf"]
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
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
