#!/usr/bin/env python3
"""Parameter counts measured with Hugging Face transformers (reference for llmplan's counts).

Needs torch and transformers (written for transformers 5.17). For every config.json in the given
directories it builds AutoModelForCausalLM.from_config(config) on the meta device (no memory, no
weights, no download), sums numel() over model.named_parameters() (a tied lm_head is listed once),
sorts each parameter into the components of hand_count.py, and writes one JSON object keyed by
file name. Composite image-text configs (gemma3, llama4, qwen3_5_moe) are built as the text CausalLM from
text_config only, as llmplan counts only the language model.

Usage: count_params.py [DIR ...] [--out FILE]
  defaults: DIR = models tests/data/hf, FILE = validation/params/transformers_counts.json
"""

import argparse
import json
import os
import sys

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM

COMPONENTS = ("embedding", "attention", "dense_mlp", "routed_experts", "shared_experts",
              "router", "norm", "head", "mamba", "latent_projections", "linear_attention")
COMPOSITE = ("gemma3", "llama4", "qwen3_5_moe")
# Keys of a published config.json that would make from_config do more than build the layout:
# remote code (`auto_map`) and checkpoint quantization (`quantization_config`, e.g. DeepSeek-V3's
# fp8 and gpt-oss's mxfp4); neither changes which parameters the native classes register.
DROPPED_KEYS = ("auto_map", "quantization_config")
# Nested-config values that transformers 5.17's strict config classes refuse although they change no
# parameter: DBRX's published ffn_config writes moe_normalize_expert_weights 1 (a float field: given
# as 1.0) and llm-foundry's uniform_expert_assignment (a training-time routing switch that
# DbrxFFNConfig does not know: dropped).
NESTED_FIXES = {"dbrx": {"ffn_config": {"float": ("moe_normalize_expert_weights",),
                                        "drop": ("uniform_expert_assignment",)}}}


def classify(name):
    """Component of one parameter name (docs/MODEL_FAMILIES.md, "Conventions used below")."""
    parts = name.split(".")
    modules = parts[:-1]
    if parts[0] in ("lm_head", "embed_out"):
        return "head"
    # (DBRX's norm_attn_norm holds norm_1, attn and norm_2: only its norm_* are norms)
    if any(("norm" in m and m != "norm_attn_norm") or m.startswith("ln_") for m in modules):
        return "norm"
    if any(m in ("embed_tokens", "embed_in", "wte", "wpe", "word_embeddings", "embeddings", "embed_positions")
           for m in modules):
        return "embedding"
    if "linear_attn" in modules:  # Qwen3-Next / Qwen3.5: a Gated DeltaNet mixer (its gated norm: norm, above)
        return "linear_attention"
    if any(m.startswith("shared_expert") for m in modules):
        return "shared_experts"
    if "experts" in modules:
        return "routed_experts"
    if any(m in ("router", "gate") for m in modules):
        return "router"
    if any(m in ("self_attn", "self_attention", "attention", "attn") for m in modules):
        return "attention"
    if any(m in ("mlp", "feed_forward", "block_sparse_moe", "ffn") for m in modules):
        return "dense_mlp"
    if modules and modules[-1] in ("fc1", "fc2") and "layers" in modules:  # OPT's decoder-layer MLP
        return "dense_mlp"
    if "mixer" in modules:  # NemotronH: one mixer per layer, its kind by the tensors it holds
        leaf = modules[-1] if modules[-1] != "mixer" else parts[-1]
        if leaf in ("in_proj", "conv1d", "out_proj", "A_log", "D", "dt_bias"):
            return "mamba"
        if leaf in ("fc1_latent_proj", "fc2_latent_proj"):
            return "latent_projections"
        if leaf in ("q_proj", "k_proj", "v_proj", "o_proj"):
            return "attention"
        if leaf in ("up_proj", "down_proj"):
            return "dense_mlp"
    return None


def experts_per_token_fraction(config):
    """k / E from the built config, 1.0 for a dense model."""
    E = None
    for key in ("num_local_experts", "num_experts", "n_routed_experts"):
        if getattr(config, key, None):
            E = getattr(config, key)
            break
    k = getattr(config, "num_experts_per_tok", None)
    ffn = getattr(config, "ffn_config", None)  # DBRX: DbrxFFNConfig's moe_num_experts, moe_top_k
    if E is None and k is None and getattr(ffn, "moe_num_experts", None):
        E, k = ffn.moe_num_experts, ffn.moe_top_k
    return k / E if E and k else 1.0


def build_config(raw):
    raw = {key: value for key, value in raw.items() if key not in DROPPED_KEYS}
    for sub, fix in NESTED_FIXES.get(raw.get("model_type"), {}).items():
        if isinstance(raw.get(sub), dict):
            raw[sub] = {key: float(value) if key in fix["float"] and type(value) is int else value
                        for key, value in raw[sub].items() if key not in fix["drop"]}
    config = AutoConfig.for_model(**raw)
    note = None
    if raw.get("model_type") in COMPOSITE:
        config = config.text_config
        note = f"{raw['model_type']}: text CausalLM only, built from text_config ({config.model_type})"
    return config, note


def count_one(raw):
    config, note = build_config(raw)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    comps = {name: 0 for name in COMPONENTS}
    unclassified = {}
    for name, param in model.named_parameters():
        component = classify(name)
        if component is None:
            unclassified[name] = param.numel()
        else:
            comps[component] += param.numel()
    total = sum(comps.values()) + sum(unclassified.values())
    routed = comps["routed_experts"]
    active = total - routed + round(routed * experts_per_token_fraction(config))
    buffers = {name: buf.numel() for name, buf in model.named_buffers()}
    out = {
        "model_type": config.model_type,
        "class": type(model).__name__,
        "total": total,
        "active": active,
        "components": comps,
        "buffers_numel": sum(buffers.values()),
        "buffer_names": sorted({name.split(".")[-1] for name in buffers}),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
    }
    if unclassified:
        out["unclassified"] = unclassified
    if note:
        out["note"] = note
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", default=["models", "tests/data/hf"])
    parser.add_argument("--out", default="validation/params/transformers_counts.json")
    args = parser.parse_args(argv)
    results, failed = {}, 0
    for directory in args.dirs:
        for file_name in sorted(os.listdir(directory)):
            if not file_name.endswith(".json"):
                continue
            path = os.path.join(directory, file_name)
            if file_name in results:
                print(f"count_params.py: {path}: a second config named {file_name}", file=sys.stderr)
                return 1
            try:
                with open(path, encoding="utf-8") as f:
                    results[file_name] = count_one(json.load(f))
            except Exception as e:  # record the failure of one config and go on with the others
                failed += 1
                results[file_name] = {"error": f"{type(e).__name__}: {e}",
                                      "transformers_version": transformers.__version__,
                                      "torch_version": torch.__version__}
            r = results[file_name]
            print(f"{file_name}: {r.get('total', r.get('error'))}", flush=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {args.out}: {len(results) - failed} counted, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
