// engine.cpp — GpuModel (kernels/engine.h): the spec checks (engine_supports) and the parameter
// layout (engine_param_layout) of the step program, engine/program.h, in C++20, over the engine
// proper (kernels/cuda/engine.cu).
#include "kernels/engine.h"

#include "core/error.h"
#include "core/model.h"
#include "engine/engine_layout.h"
#include "engine/program.h"
#include "engine/shard_plan.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace llmplan::kernels {

EngineOptions engine_options(Recompute recompute, Attention attention, DType precision) {
    EngineOptions o;
    o.recompute = recompute == Recompute::none        ? EngineRecompute::none
                  : recompute == Recompute::selective ? EngineRecompute::selective
                                                      : EngineRecompute::full;
    o.eager = attention == Attention::eager;
    o.precision = precision;
    return o;
}

EngineShape engine_shape(const ModelSpec& spec, const EngineOptions& options) {
    validate_model(spec, "GPU engine model " + spec.name);
    EngineStepOptions step;  // what engine/program.h engine_supports reads
    step.precision = options.precision == DType::fp32   ? Precision::fp32
                     : options.precision == DType::bf16 ? Precision::mixed_bf16
                                                        : Precision::mixed_fp16;
    step.attention = options.eager ? Attention::eager : Attention::flash;
    step.world = options.world;
    step.zero = options.world > 1 ? options.zero : 0;
    if (const std::string why = engine_supports(spec, step); !why.empty()) throw InputError(why);
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
    if (options.world != 1) s.dist = engine_dist_plan(s, options);
    return s;
}

EngineDistPlan engine_dist_plan(const EngineShape& s, const EngineOptions& o) {
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
    const dist::ShardPlan plan = dist::plan_shards(layout, so);
    EngineDistPlan d;
    d.world = o.world;
    d.rank = o.rank;
    d.zero = o.zero;
    d.padded_total = plan.padded_total;
    d.shard_elements = plan.shard_elements;
    const std::vector<std::size_t> bases = dist::padded_bases(plan);
    for (const dist::Unit& u : plan.units) {
        EngineDistUnit e;
        e.begin = u.flat.begin;
        e.end = u.flat.end;
        e.padded = u.padded;
        e.shard = u.shard;
        e.shard_offset = u.shard_offset;
        e.padded_base = bases[static_cast<std::size_t>(u.index)];
        e.first_param = u.first_param;
        e.last_param = u.last_param;
        e.ready_after_step = u.ready_after_step;
        e.first_grad_step = dist::first_grad_step(plan, u);
        d.units.push_back(e);
    }
    d.param_unit.resize(plan.ownership.size());
    for (const dist::ParamOwnership& w : plan.ownership) {
        d.param_unit[w.param] = w.unit;
        if (o.zero == 0) continue;
        for (const dist::ParamPiece& piece : w.pieces)
            if (piece.rank == o.rank) d.pieces.push_back({w.param, piece.param_begin, piece.count, piece.shard_offset});
    }
    for (const dist::GatherEvent& g : plan.forward.gathers) d.forward_gathers.push_back({g.unit, g.issue_at, g.first_use, g.last_use});
    for (const dist::GatherEvent& g : plan.backward.gathers) d.backward_gathers.push_back({g.unit, g.issue_at, g.first_use, g.last_use});
    for (const dist::ReduceEvent& r : plan.backward.reduces) d.backward_reduces.push_back({r.unit, r.after});
    return d;
}

GpuModel::GpuModel(const ModelSpec& spec, const EngineOptions& options, std::uint64_t seed)
    : shape_(engine_shape(spec, options)), core_(std::make_unique<EngineCore>(shape_, options, seed)) {}
GpuModel::~GpuModel() = default;

float GpuModel::forward_backward(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S) {
    try {
        return core_->forward_backward(ids, targets, B, S);
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
}
float GpuModel::optimizer_step(const EngineAdamW& opt) { return core_->optimizer_step(opt); }
EngineStepStats GpuModel::train_step(const std::vector<int>& ids, const std::vector<int>& targets, int B, int S,
                                     const EngineAdamW& opt) {
    try {
        return core_->train_step(ids, targets, B, S, opt);
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
}
const std::vector<EngineParam>& GpuModel::params() const { return core_->params(); }
std::size_t GpuModel::param_count() const { return core_->param_count(); }
std::vector<float> GpuModel::parameters() const { return core_->parameters(); }
std::vector<float> GpuModel::gradients() const { return core_->gradients(); }
std::vector<float> GpuModel::grad(const std::string& name) const { return core_->grad(name); }
std::vector<float> GpuModel::param(const std::string& name) const { return core_->param(name); }
EngineMemory GpuModel::memory() const { return core_->memory(); }
void GpuModel::reset_peaks() { core_->reset_peaks(); }
const EngineOptions& GpuModel::options() const { return core_->options(); }
std::string GpuModel::device_name() const { return core_->device_name(); }
std::vector<float> GpuModel::adam_m() const { return core_->adam_m(); }
std::vector<float> GpuModel::adam_v() const { return core_->adam_v(); }
int GpuModel::optimizer_steps() const { return core_->optimizer_steps(); }
float GpuModel::loss_scale() const { return core_->loss_scale(); }

}  // namespace llmplan::kernels
