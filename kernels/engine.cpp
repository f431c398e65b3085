// engine.cpp — the host-side helpers of the GPU engine (kernels/engine.h): its options, and its
// shape from a ModelSpec: the spec checks and the parameter layout of the reference
// (reference/model.cpp) and, for data parallelism, the shard plan (engine/shard_plan.h). The
// engine itself (GpuModel) is kernels/cuda/engine.cu.
#include "kernels/engine.h"

#include "core/error.h"
#include "core/model.h"
#include "engine/shard_plan.h"
#include "reference/model.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace llmplan::kernels {

EngineOptions engine_options(Recompute recompute, Attention attention, DType precision) {
    EngineOptions o;
    o.recompute = recompute;
    o.eager = attention == Attention::eager;
    o.precision = precision;
    return o;
}

EngineShape engine_shape(const ModelSpec& spec, const EngineOptions& options) {
    reference::check_engine_supports(spec, "GPU engine model", "the GPU engine");  // the shapes the reference trains
    auto refuse = [&](const std::string& what) {
        throw InputError("GPU engine model " + spec.name + ": " + what + " is not supported by the GPU engine");
    };
    if (options.precision == DType::fp16) {
        const EngineOptions& o = options;
        if (!(o.loss_scale > 0) || !std::isfinite(o.loss_scale) || !(o.loss_scale_growth >= 1) ||
            !std::isfinite(o.loss_scale_growth) || !(o.loss_scale_backoff > 0) || !(o.loss_scale_backoff <= 1) ||
            o.loss_scale_interval < 1)
            throw InputError("GPU engine: the fp16 loss scale needs a finite scale > 0, growth ≥ 1, backoff in (0, 1] "
                             "and a growth interval ≥ 1 (got " + std::to_string(o.loss_scale) + ", " +
                             std::to_string(o.loss_scale_growth) + ", " + std::to_string(o.loss_scale_backoff) + ", " +
                             std::to_string(o.loss_scale_interval) + ")");
    }
    if (!options.eager && spec.head_dim > 256) refuse("flash attention with head_dim > 256");

    EngineShape s;
    s.name = spec.name;
    s.d = spec.d_model;
    s.layers = spec.n_layers;
    s.heads = spec.n_heads;
    s.kv_heads = spec.n_kv_heads;
    s.head_dim = spec.head_dim;
    s.d_ff = spec.d_ff;
    s.vocab = static_cast<int>(spec.vocab_size);
    s.max_positions = static_cast<int>(spec.max_positions);
    s.layernorm = spec.norm == Norm::layernorm;
    s.swiglu = spec.activation == Activation::swiglu;
    s.rotary = spec.position == PositionEmbedding::rotary;
    s.tied = spec.tied_embeddings;
    // Layout: embeddings, layer 0 … L−1 (each in param_tensors() order), final norm, head.
    const std::vector<ParamTensor> tensors = param_tensors(spec);
    std::size_t offset = 0;
    auto push = [&](const ParamTensor& t, std::string name) {
        EngineParam p;
        p.name = std::move(name);
        p.offset = offset;
        p.size = static_cast<std::size_t>(t.elements());
        p.rows = t.rows;
        p.cols = t.cols;
        p.decay = t.is_matrix();
        offset += p.size;
        s.params.push_back(std::move(p));
    };
    for (const ParamTensor& t : tensors)
        if (t.block == Block::embedding) push(t, t.name);
    for (int l = 0; l < s.layers; ++l)
        for (const ParamTensor& t : tensors)
            if (t.block == Block::layer) {
                std::string name = t.name;
                const std::size_t star = name.find('*');
                if (star == std::string::npos) throw std::logic_error("GPU engine: unexpected tensor name " + name);
                name.replace(star, 1, std::to_string(l));
                push(t, name);
            }
    for (const ParamTensor& t : tensors)
        if (t.block == Block::final_norm || t.block == Block::head) push(t, t.name);
    if (options.world == 1) return s;
    const EngineOptions& o = options;
    if (o.world < 2)
        throw InputError("GPU engine: world size " + std::to_string(o.world) + ": data parallelism needs at least 2 ranks");
    if (o.rank < 0 || o.rank >= o.world)
        throw InputError("GPU engine: rank " + std::to_string(o.rank) + " is outside 0 … " + std::to_string(o.world - 1));
    if (o.zero < 0 || o.zero > 3) throw InputError("GPU engine: ZeRO stage " + std::to_string(o.zero) + " is not 0, 1, 2 or 3");
    dist::FlatLayout layout;
    for (const EngineParam& p : s.params) layout.params.push_back({p.name, p.offset, p.size});
    if (s.tied) layout.tied_head = "embed_tokens.weight";
    dist::ShardOptions so;
    so.world = o.world;
    so.zero = o.zero;
    so.element_bytes = dtype_bytes(o.precision);
    so.bucket_cap_bytes = o.bucket_cap_bytes;
    so.first_bucket_bytes = o.first_bucket_bytes;
    s.plan = dist::plan_shards(layout, so);
    return s;
}

}  // namespace llmplan::kernels
