// fuzz_job_text.cpp — core/job_text's train_config_from_text (every job flag of the CLI and every
// job field of the GUI) on any text: the input is split at NUL bytes into the JobText fields in
// declaration order; the first byte gives the two flags and the GPU's default GPUs per node.
// A config that is returned must lie in the flags' ranges, and then goes through the checks every
// command makes against a model (resolve_defaults, validate_config on the llama-2-7b preset).
#include "core/job_text.h"
#include "core/presets.h"
#include "fuzz/fuzz_support.h"

#include <cmath>
#include <string>
#include <vector>

using namespace llmplan;
using llmplan::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string text = fuzz::text_of(data + 1, size - 1);
    std::vector<std::string> fields(1);
    for (const char c : text) {
        if (c == '\0') fields.emplace_back();
        else fields.back() += c;
    }
    JobText t;
    std::string* slots[] = {&t.gpus,      &t.gpus_per_node, &t.tp,          &t.pp,         &t.cp,          &t.ep,
                            &t.virtual_stages, &t.zero,     &t.precision,   &t.optimizer,  &t.recompute,   &t.attention,
                            &t.dropout,   &t.micro_batch,   &t.seq,         &t.global_batch, &t.offload,   &t.framework,
                            &t.lora_rank, &t.lora_alpha,    &t.lora_targets, &t.base_quant, &t.offload_activations};
    for (std::size_t i = 0; i < fields.size() && i < std::size(slots); ++i) *slots[i] = fields[i];
    t.sp = (data[0] & 1) != 0;
    t.paged_optimizer = (data[0] & 2) != 0;
    const int default_gpus_per_node = 1 + (data[0] >> 2) % 16;
    fuzz::accepts(text, [&] {
        const TrainConfig c = train_config_from_text(t, default_gpus_per_node);
        const ParallelLayout& p = c.parallel;
        check(p.gpus >= 1 && p.gpus_per_node >= 1 && p.tp >= 1 && p.pp >= 1 && p.cp >= 1 && p.ep >= 1 &&
                  p.virtual_stages >= 1 && p.zero >= 0 && p.zero <= 3,
              "layout out of range", text);
        check(c.micro_batch >= 1 && c.seq >= 0 && c.global_batch >= 0 && c.lora.rank >= 0 && c.offload_activations >= 0,
              "job out of range", text);
        check(std::isfinite(c.dropout) && c.dropout >= 0 && c.dropout < 1, "dropout out of range", text);
        check(std::isfinite(c.lora.alpha) && c.lora.alpha > 0, "lora alpha out of range", text);
        static const ModelSpec model = preset_or_throw("llama-2-7b", "--model");
        const TrainConfig resolved = resolve_defaults(model, c);
        (void)validate_config(model, resolved);
    });
    return 0;
}
