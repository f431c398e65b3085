#!/usr/bin/env python3
"""Parameter counts of Hugging Face causal LMs, computed by hand from config.json.

Independent of transformers and torch (Python 3 standard library only). Every shape and class
default used here is the one docs/MODEL_FAMILIES.md cites from the transformers source; the
section names below match that file. validation/params/count_params.py measures the same numbers
with transformers; validation/params/README.md says how the two are used.

Usage: hand_count.py PATH [PATH ...] [--out FILE]
  PATH is a config.json file or a directory of *.json configs. Prints one JSON object keyed by
  file name: total, active, components, layer counts, and (DeepSeek-V3, GLM-4.5, Nemotron 3,
  Qwen3-Next, Qwen3.5) mtp outside the total.
"""

import argparse
import json
import os
import sys

COMPONENTS = ("embedding", "attention", "dense_mlp", "routed_experts", "shared_experts",
              "router", "norm", "head", "mamba", "latent_projections", "linear_attention")


class ConfigError(Exception):
    pass


# Class defaults of the transformers config classes (docs/MODEL_FAMILIES.md, one section each).
DEFAULTS = {
    "llama": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=None, head_dim=None,
                  attention_bias=False, mlp_bias=False, tie_word_embeddings=False),
    "mistral": dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                    num_attention_heads=32, num_key_value_heads=8, head_dim=None,
                    tie_word_embeddings=False),
    "mixtral": dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                    num_attention_heads=32, num_key_value_heads=8, head_dim=None, num_local_experts=8,
                    num_experts_per_tok=2, tie_word_embeddings=False),
    "qwen2": dict(vocab_size=151936, hidden_size=4096, intermediate_size=22016, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=32, head_dim=None,
                  tie_word_embeddings=False),
    "qwen3": dict(vocab_size=151936, hidden_size=4096, intermediate_size=22016, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=32, head_dim=128, attention_bias=False,
                  tie_word_embeddings=False),
    "qwen3_moe": dict(vocab_size=151936, hidden_size=2048, intermediate_size=6144, num_hidden_layers=24,
                      num_attention_heads=32, num_key_value_heads=4, head_dim=None, attention_bias=False,
                      moe_intermediate_size=768, num_experts=128, num_experts_per_tok=8,
                      decoder_sparse_step=1, mlp_only_layers=None, tie_word_embeddings=False),
    "qwen2_moe": dict(vocab_size=151936, hidden_size=2048, intermediate_size=5632, num_hidden_layers=24,
                      num_attention_heads=16, num_key_value_heads=16, head_dim=None,
                      moe_intermediate_size=1408, shared_expert_intermediate_size=5632, num_experts=60,
                      num_experts_per_tok=4, decoder_sparse_step=1, mlp_only_layers=None, qkv_bias=True,
                      tie_word_embeddings=False),
    "phi3": dict(vocab_size=32064, hidden_size=3072, intermediate_size=8192, num_hidden_layers=32,
                 num_attention_heads=32, num_key_value_heads=None, head_dim=None,
                 tie_word_embeddings=False),
    "olmo2": dict(vocab_size=50304, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=None, head_dim=None, attention_bias=False,
                  tie_word_embeddings=False),
    "gemma2": dict(vocab_size=256000, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                   num_attention_heads=8, num_key_value_heads=4, head_dim=256, attention_bias=False,
                   tie_word_embeddings=True),
    "gemma3_text": dict(vocab_size=262208, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                        num_attention_heads=8, num_key_value_heads=4, head_dim=256, attention_bias=False,
                        tie_word_embeddings=True),
    "gpt_oss": dict(vocab_size=201088, hidden_size=2880, intermediate_size=2880, num_hidden_layers=36,
                    num_attention_heads=64, num_key_value_heads=8, head_dim=64, num_local_experts=128,
                    num_experts_per_tok=4, attention_bias=True, tie_word_embeddings=False),
    "llama4_text": dict(vocab_size=202048, hidden_size=5120, intermediate_size=8192,
                        intermediate_size_mlp=16384, num_hidden_layers=48, num_attention_heads=40,
                        num_key_value_heads=8, head_dim=128, num_local_experts=16, num_experts_per_tok=1,
                        moe_layers=None, interleave_moe_layer_step=1, attention_bias=False,
                        tie_word_embeddings=False),
    "deepseek_v3": dict(vocab_size=129280, hidden_size=7168, intermediate_size=18432,
                        moe_intermediate_size=2048, num_hidden_layers=61, num_attention_heads=128,
                        n_shared_experts=1, n_routed_experts=256, num_experts_per_tok=8,
                        first_k_dense_replace=3, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                        qk_rope_head_dim=64, v_head_dim=128, attention_bias=False, mlp_bias=False,
                        tie_word_embeddings=False, num_nextn_predict_layers=0),
    "deepseek_v2": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                        moe_intermediate_size=1407, num_hidden_layers=32, num_attention_heads=32,
                        n_shared_experts=2, n_routed_experts=64, num_experts_per_tok=None,
                        first_k_dense_replace=0, q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
                        qk_rope_head_dim=64, v_head_dim=128, attention_bias=False, mlp_bias=False,
                        tie_word_embeddings=False),
    "glm4_moe": dict(vocab_size=151552, hidden_size=4096, intermediate_size=10944, num_hidden_layers=46,
                     num_attention_heads=96, num_key_value_heads=8, head_dim=128, attention_bias=False,
                     use_qk_norm=False, moe_intermediate_size=1408, n_routed_experts=128, n_shared_experts=1,
                     num_experts_per_tok=8, first_k_dense_replace=1, tie_word_embeddings=False,
                     num_nextn_predict_layers=0),
    "minimax_m2": dict(vocab_size=200064, hidden_size=3072, intermediate_size=1536, num_hidden_layers=62,
                       num_attention_heads=48, num_key_value_heads=8, head_dim=128, num_local_experts=256,
                       num_experts_per_tok=8, use_qk_norm=True, tie_word_embeddings=False),
    "gpt_neox": dict(vocab_size=50432, hidden_size=6144, num_hidden_layers=44, num_attention_heads=64,
                     intermediate_size=24576, attention_bias=True, tie_word_embeddings=False),
    "gpt2": dict(vocab_size=50257, n_positions=1024, hidden_size=768, num_hidden_layers=12,
                 num_attention_heads=12, n_inner=None, add_cross_attention=False, tie_word_embeddings=True),
    "bloom": dict(vocab_size=250880, hidden_size=64, num_hidden_layers=2, num_attention_heads=8,
                  tie_word_embeddings=True),
    "nemotron": dict(vocab_size=256000, hidden_size=6144, intermediate_size=24576, num_hidden_layers=32,
                     num_attention_heads=48, num_key_value_heads=None, head_dim=None, attention_bias=False,
                     mlp_bias=False, tie_word_embeddings=False),
    # Qwen3NextConfig; Qwen3_5MoeTextConfig (its subclass: no intermediate_size, decoder_sparse_step or
    # mlp_only_layers, every layer MoE). full_attention_interval is an __init__ argument, not a field.
    "qwen3_next": dict(vocab_size=151936, hidden_size=2048, intermediate_size=5632, num_hidden_layers=48,
                       num_attention_heads=16, num_key_value_heads=2, head_dim=256, attention_bias=False,
                       tie_word_embeddings=False, linear_conv_kernel_dim=4, linear_key_head_dim=128,
                       linear_value_head_dim=128, linear_num_key_heads=16, linear_num_value_heads=32,
                       decoder_sparse_step=1, moe_intermediate_size=512, shared_expert_intermediate_size=512,
                       num_experts_per_tok=10, num_experts=512, mlp_only_layers=None, layer_types=None,
                       full_attention_interval=4),
    "qwen3_5_moe_text": dict(vocab_size=248320, hidden_size=2048, num_hidden_layers=40, num_attention_heads=16,
                             num_key_value_heads=2, head_dim=256, attention_bias=False, tie_word_embeddings=False,
                             linear_conv_kernel_dim=4, linear_key_head_dim=128, linear_value_head_dim=128,
                             linear_num_key_heads=16, linear_num_value_heads=32, moe_intermediate_size=512,
                             shared_expert_intermediate_size=512, num_experts_per_tok=8, num_experts=256,
                             layer_types=None, full_attention_interval=4),
    "nemotron_h": dict(vocab_size=131072, hidden_size=4096, intermediate_size=21504, num_hidden_layers=None,
                       num_attention_heads=32, num_key_value_heads=8, head_dim=128, attention_bias=False,
                       mlp_bias=False, use_bias=False, use_conv_bias=True, tie_word_embeddings=False,
                       mamba_num_heads=128, mamba_head_dim=64, ssm_state_size=128, n_groups=8, conv_kernel=4,
                       n_routed_experts=None, num_experts_per_tok=None, moe_intermediate_size=None,
                       moe_shared_expert_intermediate_size=0, n_shared_experts=1,
                       hybrid_override_pattern=None, moe_latent_size=None, num_nextn_predict_layers=0,
                       mtp_hybrid_override_pattern="*E"),
    # OPTConfig: word_embed_proj_dim None -> hidden_size; tie_word_embeddings PretrainedConfig's True.
    "opt": dict(vocab_size=50272, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, ffn_dim=3072,
                max_position_embeddings=2048, do_layer_norm_before=True, _remove_final_layer_norm=False,
                word_embed_proj_dim=None, enable_bias=True, layer_norm_elementwise_affine=True,
                tie_word_embeddings=True),
    # FalconConfig: num_kv_heads None -> H; ffn_hidden_size None -> 4 d; num_ln_in_parallel_attn None
    # (-> 2 under new_decoder_architecture, FalconDecoderLayer); lm_head tied (_tied_weights_keys).
    "falcon": dict(vocab_size=65024, hidden_size=4544, num_hidden_layers=32, num_attention_heads=71,
                   num_kv_heads=None, new_decoder_architecture=False, multi_query=True, parallel_attn=True,
                   bias=False, alibi=False, num_ln_in_parallel_attn=None, ffn_hidden_size=None,
                   tie_word_embeddings=True),
    # MptConfig and MptAttentionConfig (attn_config); ffn_config is llm-foundry's (no class in transformers).
    "mpt": dict(vocab_size=50368, hidden_size=2048, num_hidden_layers=24, num_attention_heads=16,
                expansion_ratio=4, max_seq_len=2048, no_bias=True, learned_pos_emb=True,
                norm_type="low_precision_layernorm", tie_word_embeddings=True, attn_config=None,
                ffn_config=None),
    # DbrxConfig; its nested DbrxAttentionConfig and DbrxFFNConfig defaults are NESTED_DEFAULTS["dbrx"].
    "dbrx": dict(vocab_size=32000, hidden_size=2048, num_hidden_layers=24, num_attention_heads=16,
                 max_seq_len=2048, tie_word_embeddings=False, attn_config=None, ffn_config=None),
}

# Nested config classes' defaults (a field absent from the config.json object, or the object absent).
NESTED_DEFAULTS = {
    "mpt": {"attn_config": dict(attn_type="multihead_attention", alibi=True, qk_ln=False, rope=False),
            "ffn_config": dict(ffn_type="mptmlp", ffn_hidden_size=None)},
    "dbrx": {"attn_config": dict(kv_n_heads=1),
             "ffn_config": dict(ffn_hidden_size=3584, moe_num_experts=4, moe_top_k=1)},
}

# config.json names that mean the same field (the config classes' attribute_map / __init__ aliases).
ALIASES = {
    "gpt2": {"n_embd": "hidden_size", "n_layer": "num_hidden_layers", "n_head": "num_attention_heads",
             "max_position_embeddings": "n_positions"},
    "bloom": {"n_embed": "hidden_size", "n_layer": "num_hidden_layers", "n_head": "num_attention_heads"},
    "mixtral": {"num_experts": "num_local_experts"},
    "gpt_oss": {"num_experts": "num_local_experts"},
    "qwen3_moe": {"num_local_experts": "num_experts"},
    "deepseek_v3": {"num_local_experts": "n_routed_experts"},
    "falcon": {"n_embed": "hidden_size"},  # FalconConfig.__post_init__ pops n_embed
    "mpt": {"d_model": "hidden_size", "n_layers": "num_hidden_layers", "n_heads": "num_attention_heads"},
    "dbrx": {"d_model": "hidden_size", "n_layers": "num_hidden_layers", "n_heads": "num_attention_heads"},
}

# Old spellings that transformers 5.17's config classes no longer read (they would build the class
# default in their place; llmplan reads them): a config that uses one without the current name is
# not counted (ConfigError), as transformers would not build the model it describes.
OLD_NAMES = {
    "opt": {"d_model": "hidden_size"},  # OPT configs before transformers 4.20
    "falcon": {"n_layer": "num_hidden_layers", "n_head": "num_attention_heads", "n_head_kv": "num_kv_heads"},
}

# Composite image-text configs: only the language model (built from text_config) is counted.
COMPOSITE = {"gemma3": "gemma3_text", "llama4": "llama4_text", "qwen3_5_moe": "qwen3_5_moe_text"}


class Cfg:
    """config.json values over the family's class defaults."""

    def __init__(self, model_type, raw):
        self.model_type = model_type
        self.values = dict(DEFAULTS[model_type])
        aliases = ALIASES.get(model_type, {})
        for key, value in raw.items():
            self.values[aliases.get(key, key)] = value

    def __getitem__(self, key):
        return self.values[key]

    def get(self, key, default=None):
        value = self.values.get(key, default)
        return default if value is None else value

    def kv_heads(self):
        return self.get("num_key_value_heads", self["num_attention_heads"])

    def head_dim(self):
        # `head_dim or d // H`: a null or absent head_dim falls back to d/H except where the class
        # default (qwen3 128, gemma 256, gpt_oss 64, llama4 128) is not null.
        return self.get("head_dim", self["hidden_size"] // self["num_attention_heads"])


def linear(n_in, n_out, bias):
    return n_in * n_out + (n_out if bias else 0)


def gated_mlp(d, width, bias=False):
    """gate_proj + up_proj (d→width) and down_proj (width→d)."""
    return 2 * linear(d, width, bias) + linear(width, d, bias)


def new_counts():
    return {name: 0 for name in COMPONENTS}


def finish(cfg, comps, layers, routed_active_fraction, extra=None):
    total = sum(comps.values())
    active = None  # experts per token not set: the active count is undefined
    if routed_active_fraction is not None:
        active = total - comps["routed_experts"] + round(comps["routed_experts"] * routed_active_fraction)
    out = {"model_type": cfg.model_type, "total": total, "active": active, "components": comps,
           "layers": layers}
    if extra:
        out.update(extra)
    return out


def embed_and_head(cfg, comps):
    V, d = cfg["vocab_size"], cfg["hidden_size"]
    comps["embedding"] += V * d
    comps["head"] += 0 if cfg["tie_word_embeddings"] else V * d


def gqa_attention(cfg, q_bias, kv_bias, o_bias):
    d, H, K, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg.kv_heads(), cfg.head_dim()
    return (linear(d, H * hd, q_bias) + 2 * linear(d, K * hd, kv_bias) + linear(H * hd, d, o_bias))


def count_dense_llama_like(cfg):
    """llama, mistral, qwen2, qwen3, phi3, olmo2, gemma2, gemma3_text."""
    t = cfg.model_type
    d, L, I = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    H, K, hd = cfg["num_attention_heads"], cfg.kv_heads(), cfg.head_dim()
    comps = new_counts()
    embed_and_head(cfg, comps)
    if t == "qwen2":
        attn = gqa_attention(cfg, True, True, False)
    elif t in ("mistral", "phi3"):
        attn = gqa_attention(cfg, False, False, False)
    else:
        b = bool(cfg.get("attention_bias", False))
        attn = gqa_attention(cfg, b, b, b)
    mlp = gated_mlp(d, I, bool(cfg.get("mlp_bias", False)) if t == "llama" else False)
    norms = {"gemma2": 4 * d, "gemma3_text": 4 * d + 2 * hd, "qwen3": 2 * d + 2 * hd,
             "olmo2": 2 * d + H * hd + K * hd}.get(t, 2 * d)
    comps["attention"] = L * attn
    comps["dense_mlp"] = L * mlp
    comps["norm"] = L * norms + d
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def qwen_moe_layers(cfg):
    L = cfg["num_hidden_layers"]
    only = cfg.get("mlp_only_layers", [])
    step = cfg["decoder_sparse_step"]
    E = cfg["num_experts"]
    return [(i not in only) and E > 0 and (i + 1) % step == 0 for i in range(L)]


def count_qwen_moe(cfg):
    """qwen3_moe, qwen2_moe."""
    t = cfg.model_type
    d, I, Im = cfg["hidden_size"], cfg["intermediate_size"], cfg["moe_intermediate_size"]
    E, k, hd = cfg["num_experts"], cfg["num_experts_per_tok"], cfg.head_dim()
    comps = new_counts()
    embed_and_head(cfg, comps)
    is_moe = qwen_moe_layers(cfg)
    n_moe = sum(is_moe)
    n_dense = len(is_moe) - n_moe
    if t == "qwen3_moe":
        b = bool(cfg.get("attention_bias", False))
        attn = gqa_attention(cfg, b, b, b)
        layer_norms = 2 * d + 2 * hd
        shared = 0
    else:
        qkv = bool(cfg["qkv_bias"])
        attn = gqa_attention(cfg, qkv, qkv, False)
        layer_norms = 2 * d
        shared = gated_mlp(d, cfg["shared_expert_intermediate_size"]) + d  # + shared_expert_gate d→1
    L = len(is_moe)
    comps["attention"] = L * attn
    comps["norm"] = L * layer_norms + d
    comps["dense_mlp"] = n_dense * gated_mlp(d, I)
    comps["routed_experts"] = n_moe * E * gated_mlp(d, Im)
    comps["shared_experts"] = n_moe * shared
    comps["router"] = n_moe * E * d
    return finish(cfg, comps, {"dense": n_dense, "moe": n_moe}, k / E if E else 1.0)


def count_mixtral(cfg):
    """mixtral, minimax_m2: every layer MoE (num_local_experts of intermediate_size, no shared expert,
    no dense MLP), GQA without biases; minimax_m2 adds q/k norms over the whole projection [H·hd],
    [K·hd] (qk_norm_type per_layer) and a router e_score_correction_bias that is a buffer; no MTP
    module is built."""
    d, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    E, k = cfg["num_local_experts"], cfg["num_experts_per_tok"]
    qk = 0
    if cfg.model_type == "minimax_m2" and cfg.get("use_qk_norm", True):
        qk = (cfg["num_attention_heads"] + cfg.kv_heads()) * cfg.head_dim()
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * gqa_attention(cfg, False, False, False)
    comps["norm"] = L * (2 * d + qk) + d
    comps["routed_experts"] = L * E * gated_mlp(d, I)
    comps["router"] = L * E * d
    return finish(cfg, comps, {"dense": 0, "moe": L}, k / E)


def mla_attention(cfg):
    """DeepSeek-V2/V3 multi-head latent attention: (projection parameters, norm parameters)."""
    d, H = cfg["hidden_size"], cfg["num_attention_heads"]
    qr, kvr = cfg.get("q_lora_rank"), cfg["kv_lora_rank"]
    nope, rope, v = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"], cfg["v_head_dim"]
    b = bool(cfg.get("attention_bias", False))
    qh = nope + rope
    if qr is None:
        proj, norms = linear(d, H * qh, False), 0
    else:
        proj, norms = linear(d, qr, b) + linear(qr, H * qh, False), qr  # q_a_proj, q_b_proj; q_a_layernorm
    proj += linear(d, kvr + rope, b) + linear(kvr, H * (nope + v), False) + linear(H * v, d, b)
    norms += kvr  # kv_a_layernorm
    return proj, norms


def dense_then_routed(cfg, attn, attn_norms, mlp_bias=False):
    """DeepSeek's layer plan, which GLM-4.5 keeps: first_k_dense_replace dense layers (width I), the
    rest MoE (E routed experts of Im, n_shared_experts shared ones of Im each, the router [E, d]),
    each layer with `attn` attention parameters and 2 d + `attn_norms` norm weights. Returns the
    components, the layer split and one MTP depth's block (enorm, hnorm, eh_proj 2d→d, an MoE decoder
    layer, shared_head.norm)."""
    d, I, Im, L = (cfg["hidden_size"], cfg["intermediate_size"], cfg["moe_intermediate_size"],
                   cfg["num_hidden_layers"])
    E, ns = cfg["n_routed_experts"], cfg.get("n_shared_experts")
    n_dense = min(cfg["first_k_dense_replace"], L)
    n_moe = L - n_dense
    shared = gated_mlp(d, Im * ns, mlp_bias) if ns is not None else 0
    moe_routed, moe_router = E * gated_mlp(d, Im), E * d
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * attn
    comps["norm"] = L * (2 * d + attn_norms) + d
    comps["dense_mlp"] = n_dense * gated_mlp(d, I, mlp_bias)
    comps["routed_experts"] = n_moe * moe_routed
    comps["shared_experts"] = n_moe * shared
    comps["router"] = n_moe * moe_router
    block = 2 * d + 2 * d * d + attn + 2 * d + attn_norms + moe_routed + shared + moe_router + d
    return comps, {"dense": n_dense, "moe": n_moe}, block


def count_deepseek(cfg):
    """deepseek_v3, deepseek_v2."""
    t = cfg.model_type
    E, k = cfg["n_routed_experts"], cfg.get("num_experts_per_tok")
    mlp_bias = bool(cfg.get("mlp_bias", False)) if t == "deepseek_v2" else False
    attn, attn_norms = mla_attention(cfg)
    comps, layers, block = dense_then_routed(cfg, attn, attn_norms, mlp_bias)
    extra = None
    if t == "deepseek_v3":
        n_mtp = cfg.get("num_nextn_predict_layers", 0)
        # One MTP depth (the block), plus the checkpoint's copies of embed_tokens and
        # shared_head.head (docs/MODEL_FAMILIES.md).
        copies = 2 * cfg["vocab_size"] * cfg["hidden_size"]
        extra = {"mtp": {"layers": n_mtp, "block": n_mtp * block, "embed_head_copies": n_mtp * copies,
                         "total": n_mtp * (block + copies), "built_by_transformers": False}}
    return finish(cfg, comps, layers, None if k is None else k / E, extra)


def count_glm4_moe(cfg):
    """glm4_moe (GLM-4.5/4.6/4.7, 4.5-Air): GQA with q/k/v biases iff attention_bias (o_proj never),
    per-head q/k norms [hd] iff use_qk_norm; DeepSeek's layer plan (dense_then_routed); the router's
    e_score_correction_bias is a buffer. The MTP layer (num_nextn_predict_layers) is not built; its
    block is reported apart (the checkpoint's copies of embed_tokens and shared_head.head, where
    stored, are not trained apart)."""
    E, k = cfg["n_routed_experts"], cfg["num_experts_per_tok"]
    b = bool(cfg.get("attention_bias", False))
    qk = 2 * cfg.head_dim() if cfg.get("use_qk_norm", False) else 0
    comps, layers, block = dense_then_routed(cfg, gqa_attention(cfg, b, b, False), qk)
    n_mtp = cfg.get("num_nextn_predict_layers", 0)
    extra = {"mtp": {"layers": n_mtp, "block": n_mtp * block, "total": n_mtp * block, "built_by_transformers": False}}
    return finish(cfg, comps, layers, k / E, extra)


def count_gpt_oss(cfg):
    d, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    E, k, H = cfg["num_local_experts"], cfg["num_experts_per_tok"], cfg["num_attention_heads"]
    b = bool(cfg["attention_bias"])
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * (gqa_attention(cfg, b, b, b) + H)  # + sinks [H]
    comps["norm"] = L * 2 * d + d
    # gate_up_proj [E, d, 2I] + bias [E, 2I], down_proj [E, I, d] + bias [E, d]
    comps["routed_experts"] = L * E * (d * 2 * I + 2 * I + I * d + d)
    comps["router"] = L * (E * d + E)
    return finish(cfg, comps, {"dense": 0, "moe": L}, k / E)


def count_llama4(cfg):
    d, I, Imlp, L = (cfg["hidden_size"], cfg["intermediate_size"], cfg["intermediate_size_mlp"],
                     cfg["num_hidden_layers"])
    E, k = cfg["num_local_experts"], cfg["num_experts_per_tok"]
    step = cfg["interleave_moe_layer_step"]
    moe_layers = cfg.get("moe_layers", list(range(step - 1, L, step)))
    n_moe = sum(1 for i in range(L) if i in moe_layers)
    n_dense = L - n_moe
    b = bool(cfg.get("attention_bias", False))
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * gqa_attention(cfg, b, b, b)
    comps["norm"] = L * 2 * d + d
    comps["dense_mlp"] = n_dense * gated_mlp(d, Imlp)
    comps["routed_experts"] = n_moe * E * gated_mlp(d, I)
    comps["shared_experts"] = n_moe * gated_mlp(d, I)
    comps["router"] = n_moe * E * d
    return finish(cfg, comps, {"dense": n_dense, "moe": n_moe}, k / E)


def count_gpt2(cfg):
    if cfg.get("add_cross_attention", False):
        raise ConfigError("gpt2: add_cross_attention=true (encoder-decoder use) is not counted")
    V, d, L, P = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["n_positions"]
    inner = cfg.get("n_inner", 4 * d)
    comps = new_counts()
    comps["embedding"] = V * d + P * d
    comps["head"] = 0 if cfg["tie_word_embeddings"] else V * d
    comps["attention"] = L * (linear(d, 3 * d, True) + linear(d, d, True))
    comps["dense_mlp"] = L * (linear(d, inner, True) + linear(inner, d, True))
    comps["norm"] = L * 2 * (2 * d) + 2 * d
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_bloom(cfg):
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * (linear(d, 3 * d, True) + linear(d, d, True))
    comps["dense_mlp"] = L * (linear(d, 4 * d, True) + linear(4 * d, d, True))
    comps["norm"] = 2 * d + L * 2 * (2 * d) + 2 * d  # embedding LayerNorm, 2 per layer, ln_f
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_gpt_neox(cfg):
    d, L, I = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    b = bool(cfg["attention_bias"])
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * (linear(d, 3 * d, b) + linear(d, d, b))
    comps["dense_mlp"] = L * (linear(d, I, True) + linear(I, d, True))
    comps["norm"] = L * 2 * (2 * d) + 2 * d
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_nemotron(cfg):
    """NemotronForCausalLM: LayerNorm1P norms (weight and bias), q/k/v/o (bias iff attention_bias),
    an ungated MLP up_proj (d→I) and down_proj (I→d) (bias iff mlp_bias; hidden_act relu2 has no
    parameters), final norm, lm_head untied by default. Rotary (partial_rotary_factor) adds nothing."""
    d, L, I = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    attn_bias, mlp_bias = bool(cfg["attention_bias"]), bool(cfg["mlp_bias"])
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * gqa_attention(cfg, attn_bias, attn_bias, attn_bias)
    comps["dense_mlp"] = L * (linear(d, I, mlp_bias) + linear(I, d, mlp_bias))
    layer_norm = 2 * d  # weight [d] + bias [d]
    comps["norm"] = L * 2 * layer_norm + layer_norm  # input_layernorm, post_attention_layernorm; final norm
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_nemotron_h(cfg):
    """NemotronHForCausalLM (transformers modeling_nemotron_h.py): every layer one pre-norm (RMSNorm
    weight [d]) and one mixer, as hybrid_override_pattern spells it: M a Mamba-2 mixer (in_proj
    d -> 2*di + 2*G*N + H, no bias; depthwise conv1d over di + 2*G*N channels of conv_kernel taps
    with a bias; dt_bias, A_log, D of H; a gated RMSNorm weight [di]; out_proj di -> d, no bias;
    di = H*P), * attention (q/k/v/o, no biases), - an ungated MLP (up d -> I, down I -> d), E an
    MoE (router gate [E, d]; E experts of up/down at moe_intermediate_size; a shared expert of
    n_shared_experts * moe_shared_expert_intermediate_size); final norm_f; lm_head untied."""
    d = cfg["hidden_size"]
    pattern = cfg["hybrid_override_pattern"]
    if not pattern:
        names = {"mamba": "M", "attention": "*", "mlp": "-", "moe": "E"}
        pattern = "".join(names[t] for t in cfg["layers_block_type"])
    H, P, N, G, k = (cfg["mamba_num_heads"], cfg["mamba_head_dim"], cfg["ssm_state_size"], cfg["n_groups"],
                     cfg["conv_kernel"])
    di = H * P
    comps = new_counts()
    embed_and_head(cfg, comps)
    counts = {c: pattern.count(c) for c in "M*-E"}
    conv_channels = di + 2 * G * N
    comps["mamba"] = counts["M"] * (linear(d, 2 * di + 2 * G * N + H, False) + conv_channels * k + conv_channels + 3 * H +
                                    linear(di, d, False))
    comps["attention"] = counts["*"] * gqa_attention(cfg, False, False, False)
    I = cfg["intermediate_size"]
    comps["dense_mlp"] = counts["-"] * (linear(d, I, False) + linear(I, d, False))
    fraction = 1.0
    moe_layer = 0
    if counts["E"]:
        E, topk, F = cfg["n_routed_experts"], cfg["num_experts_per_tok"], cfg["moe_intermediate_size"]
        S = cfg["n_shared_experts"] * cfg["moe_shared_expert_intermediate_size"]
        Lw = cfg["moe_latent_size"] or d  # latent MoE: experts on the latent width, d -> latent -> d projections
        latent = (linear(d, Lw, False) + linear(Lw, d, False)) if cfg["moe_latent_size"] else 0
        routed, router, shared = E * (linear(Lw, F, False) + linear(F, Lw, False)), E * d, linear(d, S, False) + linear(S, d, False)
        comps["router"] = counts["E"] * router
        comps["routed_experts"] = counts["E"] * routed
        comps["shared_experts"] = counts["E"] * shared
        comps["latent_projections"] = counts["E"] * latent
        moe_layer = routed + router + shared + latent
        fraction = topk / E
    comps["norm"] = len(pattern) * d + counts["M"] * di + d
    extra = None
    n_mtp = cfg["num_nextn_predict_layers"] or 0
    if n_mtp:
        # One MTP module (Megatron-Core / Megatron Bridge, not built by transformers): enorm, hnorm,
        # eh_proj 2d -> d, its layers (mtp_hybrid_override_pattern, "*E": attention and MoE, each with
        # its pre-norm), the final norm; the embedding and output head are the model's.
        mp = cfg["mtp_hybrid_override_pattern"]
        block = 2 * d + 2 * d * d + len(mp) * d + mp.count("*") * gqa_attention(cfg, False, False, False) + \
            mp.count("E") * moe_layer + d
        extra = {"mtp": {"layers": n_mtp, "block": n_mtp * block, "total": n_mtp * block, "built_by_transformers": False}}
    return finish(cfg, comps, {"dense": counts["-"], "moe": counts["E"], "mamba": counts["M"], "attention": counts["*"]},
                  fraction, extra)


def gated_deltanet(cfg):
    """Qwen3-Next's / Qwen3.5's Gated DeltaNet mixer (`linear_attn`): (its parameters, its gated
    norm's weight). in_proj_qkvz d -> 2 key_dim + 2 value_dim and in_proj_ba d -> 2 Hv (Qwen3.5
    splits them into in_proj_qkv, in_proj_z, in_proj_b, in_proj_a: the same rows), no biases;
    depthwise conv1d over q, k, v (2 key_dim + value_dim channels) of linear_conv_kernel_dim taps,
    no bias; dt_bias and A_log [Hv]; out_proj value_dim -> d, no bias; norm (RMSNormGated) [head_v_dim]."""
    d, K = cfg["hidden_size"], cfg["linear_conv_kernel_dim"]
    hk, hv = cfg["linear_num_key_heads"], cfg["linear_num_value_heads"]
    key_dim, value_dim = hk * cfg["linear_key_head_dim"], hv * cfg["linear_value_head_dim"]
    conv_dim = 2 * key_dim + value_dim
    mixer = (linear(d, 2 * key_dim + 2 * value_dim, False) + linear(d, 2 * hv, False) + conv_dim * K + 2 * hv +
             linear(value_dim, d, False))
    return mixer, cfg["linear_value_head_dim"]


def hybrid_layer_types(cfg):
    """layer_types, or every full_attention_interval-th layer "full_attention" and the rest
    "linear_attention" (the config classes' __post_init__)."""
    L = cfg["num_hidden_layers"]
    types = cfg.get("layer_types")
    if types is None:
        step = cfg["full_attention_interval"]
        types = ["linear_attention" if (i + 1) % step else "full_attention" for i in range(L)]
    if len(types) != L:
        raise ConfigError(f"layer_types lists {len(types)} layers, num_hidden_layers is {L}")
    legacy = {"attention": "full_attention", "mamba": "linear_attention"}  # remap_legacy_layer_types
    types = [legacy.get(t, t) for t in types]
    for t in types:
        if t not in ("linear_attention", "full_attention"):
            raise ConfigError(f"layer_types: {t!r} is neither linear_attention nor full_attention")
    return types


def count_qwen3_next(cfg):
    """qwen3_next (Qwen3-Next), qwen3_5_moe_text (Qwen3.5's language model): per layer a Gated
    DeltaNet ("linear_attention") or a gated attention ("full_attention": q_proj d -> 2 H hd, the
    query and its output gate; k/v_proj d -> K hd; o_proj H hd -> d; all biased iff attention_bias;
    q_norm, k_norm [hd]), two RMSNorms [d], and Qwen2-MoE's MoE block (router [E, d], E experts of
    Im, a shared expert of shared_expert_intermediate_size and its gate d -> 1), or, in qwen3_next's
    dense layers (qwen_moe_layers), an MLP of I. The checkpoints' MTP layers (fc 2d -> d, two
    pre-fc norms, a full-attention MoE decoder layer, a norm; embed_tokens and lm_head shared) are
    not built by transformers: reported apart, as many as mtp_num_hidden_layers, else vLLM's
    default num_nextn_predict_layers 1 (Qwen3-Next's config names none)."""
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    E, k, Im = cfg["num_experts"], cfg["num_experts_per_tok"], cfg["moe_intermediate_size"]
    H, hd = cfg["num_attention_heads"], cfg.head_dim()
    types = hybrid_layer_types(cfg)
    is_moe = qwen_moe_layers(cfg) if cfg.model_type == "qwen3_next" else [E > 0] * L
    n_moe, n_attn = sum(is_moe), types.count("full_attention")
    n_dense, n_gdn = L - n_moe, L - n_attn
    b = bool(cfg.get("attention_bias", False))
    attn = gqa_attention(cfg, b, b, b) + linear(d, H * hd, b)  # + q_proj's output-gate half
    gdn, gdn_norm = gated_deltanet(cfg)
    shared = gated_mlp(d, cfg["shared_expert_intermediate_size"]) + d  # + shared_expert_gate d -> 1
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = n_attn * attn
    comps["linear_attention"] = n_gdn * gdn
    comps["norm"] = L * 2 * d + n_attn * 2 * hd + n_gdn * gdn_norm + d
    comps["dense_mlp"] = n_dense * gated_mlp(d, cfg["intermediate_size"]) if n_dense else 0
    comps["routed_experts"] = n_moe * E * gated_mlp(d, Im)
    comps["shared_experts"] = n_moe * shared
    comps["router"] = n_moe * E * d
    n_mtp = cfg.get("mtp_num_hidden_layers", cfg.get("num_nextn_predict_layers", 1))
    block = 2 * d + 2 * d * d + (attn + 2 * d + 2 * hd + E * gated_mlp(d, Im) + shared + E * d) + d
    extra = {"mtp": {"layers": n_mtp, "block": n_mtp * block, "total": n_mtp * block, "built_by_transformers": False}}
    layers = {"dense": n_dense, "moe": n_moe, "linear_attention": n_gdn, "attention": n_attn}
    return finish(cfg, comps, layers, k / E if E else 1.0, extra)


def nested(cfg, key):
    """A nested config object (MPT's, DBRX's attn_config / ffn_config) over its class's defaults."""
    raw = cfg.get(key, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg.model_type}: {key} must be an object")
    values = dict(NESTED_DEFAULTS[cfg.model_type][key])
    values.update(raw)
    return values


def layer_norm(d, affine=True, bias=True):
    """nn.LayerNorm(d): weight [d] and bias [d] (none without elementwise_affine; no bias with bias=False)."""
    return (d + (d if bias else 0)) if affine else 0


def count_opt(cfg):
    """OPTForCausalLM (modeling_opt.py): embed_tokens [V, d]; embed_positions, an
    OPTLearnedPositionalEmbedding of max_position_embeddings + 2 rows (its padding offset: position
    ids are shifted by 2); per layer q/k/v/out_proj Linear(d -> d) and fc1 (d -> ffn_dim), fc2
    (ffn_dim -> d), all biased iff enable_bias, self_attn_layer_norm and final_layer_norm (LayerNorm,
    weight and bias); the decoder's final_layer_norm; lm_head (d -> V, no bias), tied by default.
    Not counted (ConfigError, as llmplan refuses them): word_embed_proj_dim != hidden_size
    (OPT-350m's project_in / project_out), do_layer_norm_before false or _remove_final_layer_norm
    (no final LayerNorm), layer_norm_elementwise_affine false (parameterless LayerNorms)."""
    V, d, L = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"]
    F, P = cfg["ffn_dim"], cfg["max_position_embeddings"]
    if cfg.get("word_embed_proj_dim", d) != d:
        raise ConfigError(f"opt: word_embed_proj_dim {cfg['word_embed_proj_dim']} != hidden_size {d} "
                          "(project_in/project_out) is not counted")
    if not cfg["do_layer_norm_before"] or cfg["_remove_final_layer_norm"]:
        raise ConfigError("opt: a model without the final LayerNorm (do_layer_norm_before false or "
                          "_remove_final_layer_norm true) is not counted")
    if not cfg["layer_norm_elementwise_affine"]:
        raise ConfigError("opt: layer_norm_elementwise_affine false (LayerNorms without parameters) is not counted")
    b = bool(cfg["enable_bias"])
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["embedding"] += (P + 2) * d
    comps["attention"] = L * 4 * linear(d, d, b)
    comps["dense_mlp"] = L * (linear(d, F, b) + linear(F, d, b))
    comps["norm"] = L * 2 * layer_norm(d) + layer_norm(d)
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_falcon(cfg):
    """FalconForCausalLM (modeling_falcon.py): word_embeddings [V, d]; per layer
    self_attention.query_key_value Linear(d -> (2 K + H) hd) under new_decoder_architecture (K =
    num_kv_heads, None -> H), d -> H hd + 2 hd under multi_query (one K and one V head), else d -> 3 d;
    self_attention.dense (d -> d); mlp.dense_h_to_4h (d -> ffn_hidden_size, None -> 4 d) and
    dense_4h_to_h back; all four biased iff bias; hd = d // H. LayerNorms (weight and bias), per
    FalconDecoderLayer: parallel_attn false -> input_layernorm and post_attention_layernorm;
    parallel_attn with num_ln_in_parallel_attn 2 (its default under new_decoder_architecture) ->
    ln_attn and ln_mlp; otherwise ONE input_layernorm (Falcon-7B); then ln_f. lm_head (d -> V, no
    bias) tied by default. alibi or rotary: no parameters."""
    V, d, L, H = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    if d % H:
        raise ConfigError(f"falcon: hidden_size {d} is not divisible by num_attention_heads {H}")
    hd = d // H
    if cfg["new_decoder_architecture"]:
        qkv = (2 * cfg.get("num_kv_heads", H) + H) * hd
    elif cfg["multi_query"]:
        qkv = d + 2 * hd
    else:
        qkv = 3 * d
    F = cfg.get("ffn_hidden_size", 4 * d)
    b = bool(cfg["bias"])
    n_ln = cfg.get("num_ln_in_parallel_attn", 2 if cfg["new_decoder_architecture"] else None)
    norms_per_layer = 2 if (not cfg["parallel_attn"] or n_ln == 2) else 1
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * (linear(d, qkv, b) + linear(d, d, b))
    comps["dense_mlp"] = L * (linear(d, F, b) + linear(F, d, b))
    comps["norm"] = L * norms_per_layer * layer_norm(d) + layer_norm(d)
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_mpt(cfg):
    """MptForCausalLM (modeling_mpt.py), the released MPT-7B / MPT-30B layout it builds: wte [V, d];
    per block norm_1, attn.Wqkv Linear(d -> 3 d), attn.out_proj (d -> d), norm_2, ffn.up_proj
    (d -> 4 d), ffn.down_proj (4 d -> d), no linear biases; norm_f; every LayerNorm with its bias
    removed (weight [d] only); ALiBi, no position table; lm_head tied by default. transformers' port
    ignores expansion_ratio, no_bias, learned_pos_emb, the attention type and ffn_config, which
    MosaicML's llm-foundry (the model the config describes, and llmplan's reading) honours: a config
    that sets any of them away from the released layout is not counted (ConfigError), nor are qk_ln
    or norm types other than LayerNorm (llmplan refuses them)."""
    V, d, L = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"]
    attn, ffn = nested(cfg, "attn_config"), nested(cfg, "ffn_config")
    released = {"expansion_ratio": cfg["expansion_ratio"] == 4, "no_bias": bool(cfg["no_bias"]),
                "attn_config.attn_type": attn["attn_type"] == "multihead_attention",
                "attn_config.alibi": bool(attn["alibi"]), "attn_config.qk_ln": not attn["qk_ln"],
                "ffn_config.ffn_type": ffn["ffn_type"] in ("mptmlp", "te_ln_mlp"),
                "ffn_config.ffn_hidden_size": ffn["ffn_hidden_size"] in (None, 4 * d),
                "norm_type": "layernorm" in str(cfg["norm_type"]).lower()}
    for field, ok in released.items():
        if not ok:
            raise ConfigError(f"mpt: {field} outside the released layout that transformers' MptForCausalLM "
                              "builds is not counted")
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * (linear(d, 3 * d, False) + linear(d, d, False))
    comps["dense_mlp"] = L * (linear(d, 4 * d, False) + linear(4 * d, d, False))
    comps["norm"] = L * 2 * layer_norm(d, bias=False) + layer_norm(d, bias=False)
    return finish(cfg, comps, {"dense": L, "moe": 0}, 1.0)


def count_dbrx(cfg):
    """DbrxForCausalLM (modeling_dbrx.py): wte [V, d]; per block norm_1 and norm_2
    (nn.LayerNorm(d, bias=False): weight [d]), attn.Wqkv Linear(d -> d + 2 K hd) (K =
    attn_config.kv_n_heads, hd = d // H), attn.out_proj (d -> d), no biases; ffn.router.layer
    Linear(d -> E, no bias); the experts' w1, v1, w2, each [E * ffn_hidden_size, d] (a gated MLP);
    every block MoE, top moe_top_k; norm_f (bias=False); lm_head (d -> V, no bias), never tied
    (DbrxConfig raises on tie_word_embeddings). Rotary positions: buffers only."""
    V, d, L, H = cfg["vocab_size"], cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"]
    if cfg["tie_word_embeddings"]:
        raise ConfigError("dbrx: tie_word_embeddings is not supported by DbrxConfig")
    attn, ffn = nested(cfg, "attn_config"), nested(cfg, "ffn_config")
    K, hd = attn["kv_n_heads"], d // H
    E, k, F = ffn["moe_num_experts"], ffn["moe_top_k"], ffn["ffn_hidden_size"]
    comps = new_counts()
    embed_and_head(cfg, comps)
    comps["attention"] = L * (linear(d, d + 2 * K * hd, False) + linear(d, d, False))
    comps["routed_experts"] = L * 3 * E * F * d
    comps["router"] = L * linear(d, E, False)
    comps["norm"] = L * 2 * layer_norm(d, bias=False) + layer_norm(d, bias=False)
    return finish(cfg, comps, {"dense": 0, "moe": L}, k / E)


COUNTERS = {
    "llama": count_dense_llama_like, "mistral": count_dense_llama_like, "qwen2": count_dense_llama_like,
    "qwen3": count_dense_llama_like, "phi3": count_dense_llama_like, "olmo2": count_dense_llama_like,
    "gemma2": count_dense_llama_like, "gemma3_text": count_dense_llama_like,
    "qwen3_moe": count_qwen_moe, "qwen2_moe": count_qwen_moe, "mixtral": count_mixtral,
    "deepseek_v3": count_deepseek, "deepseek_v2": count_deepseek, "gpt_oss": count_gpt_oss,
    "llama4_text": count_llama4, "gpt2": count_gpt2, "bloom": count_bloom, "gpt_neox": count_gpt_neox,
    "nemotron": count_nemotron, "nemotron_h": count_nemotron_h,
    "glm4_moe": count_glm4_moe, "minimax_m2": count_mixtral,
    "qwen3_next": count_qwen3_next, "qwen3_5_moe_text": count_qwen3_next,
    "opt": count_opt, "falcon": count_falcon, "mpt": count_mpt, "dbrx": count_dbrx,
}


def count_config(raw):
    model_type = raw.get("model_type")
    note = None
    if model_type in COMPOSITE:
        text = raw.get("text_config") or {}
        note = f"{model_type}: language model only, built from text_config as {COMPOSITE[model_type]}"
        model_type = COMPOSITE[model_type]
        raw = text
    if model_type not in COUNTERS:
        raise ConfigError(f"model_type {model_type!r} is not one of {', '.join(sorted(COUNTERS))}")
    for old, current in OLD_NAMES.get(model_type, {}).items():
        if old in raw and current not in raw:
            raise ConfigError(f"{model_type}: {old} (now {current}) is not read by transformers 5.17's config "
                              "class; the model it describes is not what transformers builds")
    out = COUNTERS[model_type](Cfg(model_type, raw))
    if note:
        out["note"] = note
    return out


def config_paths(paths):
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                if name.endswith(".json"):
                    yield os.path.join(path, name)
        else:
            yield path


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="config.json files or directories of them")
    parser.add_argument("--out", help="also write the JSON to this file")
    args = parser.parse_args(argv)
    results = {}
    for path in config_paths(args.paths):
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
            name = os.path.basename(path)
            if name in results:
                raise ConfigError(f"a second config named {name} (results are keyed by file name)")
            results[name] = count_config(raw)
        except (OSError, ValueError, KeyError, TypeError, ConfigError) as e:
            print(f"hand_count.py: {path}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
    text = json.dumps(results, indent=2, sort_keys=True) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
