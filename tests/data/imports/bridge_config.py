#!/usr/bin/env python3
"""Writes bridge_qwen3_30b_a3b_h100.yaml: a Megatron Bridge ConfigContainer in the form
ConfigContainer.to_yaml writes it (yaml.safe_dump(to_dict(), default_flow_style=False), with
Megatron-LM's representers: {_target_, _call_} for a dtype or a function, {_target_, _call_, _args_,
_name_} for an enum), for the recipe qwen3_30b_a3b_pretrain_16gpu_h100_bf16_config as traced at
Megatron Bridge 3a9559f0 (validation/published/runs.json, mbcard-h100-qwen3-30b-a3b-16gpu-bf16).
Only a subset of each section's fields is written (the real file has every dataclass field); the
ones llmplan reads are all here, with a few of the others it must list as ignored.

    python3 tests/data/imports/bridge_config.py      # needs PyYAML
"""
import os
import yaml


def fn(target):
    return {"_target_": target, "_call_": False}


cfg = {
    "_target_": "megatron.bridge.training.config.ConfigContainer",
    "model": {
        "_target_": "megatron.bridge.models.qwen.qwen_provider.Qwen3MoEModelProvider",
        "num_layers": 48, "hidden_size": 2048, "ffn_hidden_size": 6144, "num_attention_heads": 32,
        "num_query_groups": 4, "kv_channels": 128, "qk_layernorm": True, "normalization": "RMSNorm",
        "gated_linear_unit": True, "activation_func": fn("torch.nn.functional.silu"),
        "add_bias_linear": False, "add_qkv_bias": False, "share_embeddings_and_output_weights": False,
        "position_embedding_type": "rope", "rotary_percent": 1.0, "rotary_base": 1000000,
        "seq_length": 4096, "max_position_embeddings": 40960, "vocab_size": 151936, "should_pad_vocab": False,
        "make_vocab_size_divisible_by": 128, "hidden_dropout": 0.0, "attention_dropout": 0.0,
        "num_moe_experts": 128, "moe_router_topk": 8, "moe_ffn_hidden_size": 768, "moe_layer_freq": 1,
        "moe_shared_expert_intermediate_size": None, "moe_grouped_gemm": True,
        "moe_router_force_load_balancing": True, "moe_token_dispatcher_type": "flex",
        "moe_flex_dispatcher_backend": "hybridep", "moe_hybridep_num_sms": 32,
        "tensor_model_parallel_size": 1, "pipeline_model_parallel_size": 1,
        "virtual_pipeline_model_parallel_size": None, "context_parallel_size": 1,
        "expert_model_parallel_size": 16, "expert_tensor_parallel_size": 1, "sequence_parallel": False,
        "recompute_granularity": None, "recompute_modules": ["core_attn"], "recompute_method": None,
        "cross_entropy_loss_fusion": True, "cuda_graph_impl": "transformer_engine",
        "cuda_graph_scope": ["moe_router", "moe_preprocess"], "bf16": True, "fp16": False,
        "params_dtype": fn("torch.bfloat16"), "multi_latent_attention": False,
        "attention_backend": {"_target_": "megatron.core.transformer.enums.AttnBackend", "_call_": True,
                              "_args_": [5], "_name_": "auto"},
        "init_method_std": 0.02, "layernorm_epsilon": 1.0e-06,
    },
    "train": {"_target_": "megatron.bridge.training.config.TrainingConfig", "micro_batch_size": 1,
              "global_batch_size": 1024, "train_iters": 50, "exit_signal_handler": False},
    "dataset": {"_target_": "megatron.bridge.data.builders.hf_dataset.MockGPTDatasetConfig", "seq_length": 4096,
                "random_seed": 1234},
    "mixed_precision": {"_target_": "megatron.bridge.training.mixed_precision.MixedPrecisionConfig", "bf16": True,
                        "fp16": False, "fp8": None, "fp8_recipe": "tensorwise", "fp8_param_gather": False,
                        "grad_reduce_in_fp32": False, "params_dtype": fn("torch.bfloat16")},
    "ddp": {"_target_": "megatron.core.distributed.distributed_data_parallel_config.DistributedDataParallelConfig",
            "use_distributed_optimizer": True, "overlap_grad_reduce": True, "overlap_param_gather": True,
            "grad_reduce_in_fp32": False, "average_in_collective": True, "use_megatron_fsdp": False},
    "optimizer": {"_target_": "megatron.bridge.training.config.OptimizerConfig", "optimizer": "adam", "lr": 0.0003,
                  "use_precision_aware_optimizer": True, "main_params_dtype": fn("torch.float32"),
                  "exp_avg_dtype": fn("torch.float32"), "exp_avg_sq_dtype": fn("torch.float32")},
    "comm_overlap": {"_target_": "megatron.bridge.training.comm_overlap.CommOverlapConfig", "tp_comm_overlap": False,
                     "overlap_moe_expert_parallel_comm": True, "delay_wgrad_compute": False},
    "logger": {"_target_": "megatron.bridge.training.config.LoggerConfig", "log_interval": 1, "log_throughput": True},
    "checkpoint": {"_target_": "megatron.bridge.training.config.CheckpointConfig", "save": None, "save_interval": 1000},
    "peft": None,
}

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "bridge_qwen3_30b_a3b_h100.yaml"), "w") as f:
    f.write("# Written by tests/data/imports/bridge_config.py in the form of Megatron Bridge's ConfigContainer.to_yaml\n")
    yaml.safe_dump(cfg, f, default_flow_style=False)
