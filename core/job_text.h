// job_text.h — a training job as the text its user typed (the CLI's flags, the GUI's fields) and
// the one function that turns it into a TrainConfig, with the CLI's ranges and messages: the CLI
// (cli/options.cpp) and the GUI (gui/scenario.cpp) both call it, so a value is accepted or refused
// alike, with the same one-line message naming the flag.
#pragma once

#include "core/config.h"

#include <string>
#include <vector>

namespace llmplan {

struct JobText {
    std::string gpus = "1", gpus_per_node = "", tp = "1", pp = "1", cp = "1", ep = "1", virtual_stages = "1";
    std::string zero = "";  // empty: the framework's default (default_zero_stage)
    std::string etp = "";  // --etp: the experts' tensor-parallel size, 1 or tp; empty: tp
    bool sp = false;
    // Uneven pipeline stages (core/config.h PipelineSplit): "7,8,8,7" or "balanced"; "F,L" (either may be empty).
    std::string pp_layers = "", pp_first_last = "";
    bool embedding_in_pipeline_split = false, loss_in_pipeline_split = false;
    std::string precision = "";  // empty: mixed-bf16, or amp-bf16 under --framework pytorch
    std::string optimizer = "adamw", recompute = "none", attention = "flash";
    std::string dropout = "0", micro_batch = "1";
    std::string seq = "", global_batch = "";  // empty: the defaults (resolve_defaults)
    std::string offload = "none", framework = "generic";
    std::string offload_activations = "0";  // --offload-activations: layers whose activations go to CPU memory
    std::vector<std::string> framework_options{};  // --framework-option KEY=VALUE, each as typed
    // --optimizer-impl and --trainer: the pytorch profile's options optimizer_impl and trainer
    // under their own flags (empty: not given); the same as --framework-option KEY=VALUE.
    std::string optimizer_impl = "", trainer = "";
    // --compile: the pytorch profile's option compile=inductor (torch.compile(model), default mode);
    // the torchtitan profile's compile=true (training.compile).
    bool compile = false;
    std::string lora_rank = "0", lora_alpha = "16", lora_targets = "q,v", base_quant = "none";
    bool paged_optimizer = false;
};

// Throws InputError naming the flag (--gpus, --micro-batch, …) for a value out of range or
// unknown; a --framework-option that is not KEY=VALUE or repeats a key. (Whether the framework
// takes the key and the value is the profile's check: planner/framework.h.) An empty gpus_per_node takes `default_gpus_per_node` (the GPU's usual server).
TrainConfig train_config_from_text(const JobText& t, int default_gpus_per_node);

}  // namespace llmplan
