// engine.cpp — the host-side helpers of the GPU engine (kernels/engine.h): its options, and its
// shape from a ModelSpec: the spec checks (engine_supports) and the parameter layout
// (engine_param_layout) of the step program, engine/program.h, and, for data parallelism, the
// shard plan (engine/shard_plan.h). The engine itself (GpuModel) is kernels/cuda/engine.cu.
#include "kernels/engine.h"

#include "core/error.h"
#include "core/model.h"
#include "engine/program.h"
#include "engine/shard_plan.h"

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

EngineStepOptions engine_step_options(const EngineOptions& options, std::int64_t B, std::int64_t S, std::int64_t A) {
    EngineStepOptions step;
    step.precision = options.precision == DType::fp32   ? Precision::fp32
                     : options.precision == DType::bf16 ? Precision::mixed_bf16
                                                        : Precision::mixed_fp16;
    step.recompute = options.recompute;
    step.attention = options.eager ? Attention::eager : Attention::flash;
    step.micro_batch = B;
    step.seq = S;
    step.accumulation = A;
    step.world = options.world;
    step.zero = options.world > 1 ? options.zero : 0;
    step.bucket_cap_bytes = options.bucket_cap_bytes;
    step.first_bucket_bytes = options.first_bucket_bytes;
    return step;
}

EngineShape engine_shape(const ModelSpec& spec, const EngineOptions& options) {
    validate_model(spec, "GPU engine model " + spec.name);
    if (const std::string why = engine_supports(spec, engine_step_options(options)); !why.empty()) throw InputError(why);
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
    for (const EngineParamSlot& p : engine_param_layout(spec))  // engine/program.h
        s.params.push_back({p.name, p.offset, p.size, p.rows, p.cols, p.decay});
    if (options.world == 1) return s;
    const EngineOptions& o = options;
    if (o.world < 2)
        throw InputError("GPU engine: world size " + std::to_string(o.world) + ": data parallelism needs at least 2 ranks");
    if (o.rank < 0 || o.rank >= o.world)
        throw InputError("GPU engine: rank " + std::to_string(o.rank) + " is outside 0 … " + std::to_string(o.world - 1));
    if (o.zero < 0 || o.zero > 3) throw InputError("GPU engine: ZeRO stage " + std::to_string(o.zero) + " is not 0, 1, 2 or 3");
    dist::ShardOptions so;
    so.world = o.world;
    so.zero = o.zero;
    so.element_bytes = dtype_bytes(o.precision);
    so.bucket_cap_bytes = o.bucket_cap_bytes;
    so.first_bucket_bytes = o.first_bucket_bytes;
    s.plan = dist::plan_shards(dist::engine_flat_layout(spec), so);
    return s;
}

}  // namespace llmplan::kernels
