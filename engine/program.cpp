// program.cpp — the engine's step, event by event; see program.h.
#include "engine/program.h"

#include "core/error.h"
#include "engine/engine_layout.h"

#include <algorithm>
#include <limits>
#include <set>
#include <stdexcept>

namespace llmplan {

EngineStepOptions engine_step_options(const TrainConfig& c) {
    EngineStepOptions o;
    o.precision = c.precision;
    o.recompute = c.recompute;
    o.attention = c.attention;
    o.micro_batch = c.micro_batch;
    o.seq = c.seq;
    // --global-batch over --micro-batch × data parallel; 0 (not yet resolved): one micro-batch.
    o.accumulation = c.global_batch > 0 ? c.grad_accum() : 1;
    o.world = c.parallel.gpus;
    o.zero = c.parallel.gpus > 1 ? c.parallel.zero : 0;
    return o;
}

std::string engine_supports(const ModelSpec& m, const EngineStepOptions& o) {
    const auto model = [&](const std::string& what) {
        return "model " + m.name + ": " + what +
               " is not supported by llmplan's engine (it trains GPT-2 and Llama-style decoders: no MoE, relative "
               "positions, parallel residual, partial rotary, sliding window or squared ReLU)";
    };
    if (m.is_moe()) return model("mixture of experts");
    if (m.activation == Activation::relu2) return model("a squared-ReLU MLP");
    if (m.position == PositionEmbedding::relative) return model("relative position embedding");
    if (m.parallel_residual) return model("parallel residual");
    if (m.position == PositionEmbedding::rotary && m.rotary_pct != 1.0) return model("partial rotary (rotary_pct < 1)");
    if (m.position == PositionEmbedding::rotary && m.head_dim % 2 != 0) return model("rotary with an odd head_dim");
    if (m.sliding_window != 0) return model("sliding-window attention");
    if (m.vocab_size > std::numeric_limits<int>::max() || m.max_positions > std::numeric_limits<int>::max())
        return model("a vocabulary or context over 2^31");
    if (o.attention == Attention::flash && m.head_dim > 256)
        return "--attention flash: the engine's flash attention takes head_dim up to 256 (model " + m.name + ": " +
               std::to_string(m.head_dim) + "); use --attention eager";
    if (o.precision != Precision::fp32 && o.precision != Precision::mixed_bf16 && o.precision != Precision::mixed_fp16)
        return std::string("--precision ") + to_string(o.precision) + ": the engine runs fp32, mixed-bf16 and mixed-fp16";
    if (o.accumulation < 1)
        return "--global-batch: " + std::to_string(o.accumulation) +
               " micro-batches per step; the global batch must be a positive multiple of --micro-batch × the data-parallel "
               "ranks";
    if (o.world < 1) return "--gpus " + std::to_string(o.world) + ": needs at least one GPU";
    if (o.zero < 0 || o.zero > 3) return "--zero " + std::to_string(o.zero) + ": the engine runs ZeRO 0, 1, 2 or 3";
    return "";
}

std::string engine_supports(const ModelSpec& m, const TrainConfig& c) {
    const ParallelLayout& p = c.parallel;
    if (p.tp != 1 || p.pp != 1 || p.cp != 1 || p.ep != 1)
        return "--tp, --pp, --cp, --ep: the engine runs data parallel only (1 each; --gpus N = N data-parallel ranks "
               "with --zero 0-3)";
    if (p.zero < 0 || p.zero > 3) return "--zero " + std::to_string(p.zero) + ": the engine runs ZeRO 0, 1, 2 or 3";
    if (const std::string why = engine_supports(m, engine_step_options(c)); !why.empty()) return why;
    if (c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam)
        return std::string("--optimizer ") + to_string(c.optimizer) + ": the engine's optimizer is AdamW";
    if (c.offload != Offload::none) return "--offload: the engine keeps everything on the device";
    if (c.lora.enabled()) return "--lora-rank: the engine trains every parameter";
    if (c.dropout > 0) return "--dropout: the engine has no dropout";
    return "";
}

std::string cuda_engine_supports(const EngineStepOptions& o) {
    if (o.accumulation != 1 && o.world > 1)
        return "--global-batch: " + std::to_string(o.accumulation) + " micro-batches per step on " +
               std::to_string(o.world) +
               " GPUs; the CUDA engine accumulates gradients on one GPU only (--global-batch = --micro-batch × --gpus "
               "with several); several ranks with accumulation run in the planner (--framework llmplan)";
    return "";
}

std::vector<EngineParamSlot> engine_param_layout(const ModelSpec& spec) {
    std::vector<EngineParamSlot> out;
    const std::vector<ParamTensor> tensors = param_tensors(spec);
    std::size_t offset = 0;
    auto push = [&](const ParamTensor& t, std::string name) {
        EngineParamSlot p;
        p.name = std::move(name);
        p.offset = offset;
        p.size = static_cast<std::size_t>(t.elements());
        p.rows = t.rows;
        p.cols = t.cols;
        p.decay = t.is_matrix();
        offset += p.size;
        out.push_back(std::move(p));
    };
    for (const ParamTensor& t : tensors)
        if (t.block == Block::embedding) push(t, t.name);
    for (int l = 0; l < spec.n_layers; ++l)
        for (const ParamTensor& t : tensors)
            if (t.block == Block::layer) {
                std::string name = t.name;
                const std::size_t star = name.find('*');
                if (star == std::string::npos || name.find('*', star + 1) != std::string::npos)
                    throw std::logic_error("engine layout: unexpected tensor name " + name);
                name.replace(star, 1, std::to_string(l));
                push(t, name);
            }
    for (const ParamTensor& t : tensors)
        if (t.block == Block::final_norm || t.block == Block::head) push(t, t.name);
    return out;
}

namespace {

constexpr std::array<const char*, kLayerFields> kLayerFieldNames = {
    "ln1_mean", "ln1_rstd", "ln1_out", "q", "k", "v", "probs", "lse", "att",
    "x_mid", "ln2_mean", "ln2_rstd", "ln2_out", "fc", "up", "act"};
constexpr std::array<const char*, kGradFields> kGradFieldNames = {"ln", "res", "tmp", "att", "dq", "dk", "dv", "act", "fc", "up"};

// What each recompute mode keeps of a layer for its backward (reference/model.h lists it):
// none everything; selective all but the attention store (recomputed from q, k, v: Korthikanti
// et al. 2022 §5); full nothing (the layer is re-run from its input).
bool kept(LayerField f, Recompute r) {
    switch (r) {
        case Recompute::none: return true;
        case Recompute::selective: return f != LayerField::probs && f != LayerField::lse;
        case Recompute::full: return false;
    }
    return false;
}

}  // namespace

std::string ProgramBuffer::name() const {
    const std::string l = std::to_string(layer);
    switch (role) {
        case BufferRole::weights: return "weights";
        case BufferRole::gradients: return "gradients";
        case BufferRole::master: return "master";
        case BufferRole::adam_m: return "adam_m";
        case BufferRole::adam_v: return "adam_v";
        case BufferRole::residual: return "x." + l;
        case BufferRole::layer_field: return "layers." + l + "." + kLayerFieldNames[static_cast<std::size_t>(field)];
        case BufferRole::layer_scratch: return std::string("scratch.") + kLayerFieldNames[static_cast<std::size_t>(field)];
        case BufferRole::final_norm_mean: return "final_norm.mean";
        case BufferRole::final_norm_rstd: return "final_norm.rstd";
        case BufferRole::final_norm_out: return "final_norm.out";
        case BufferRole::logits: return "logits";
        case BufferRole::grad: return std::string("grad.") + kGradFieldNames[static_cast<std::size_t>(field)];
        case BufferRole::gathered: return "gathered.unit" + l;
        case BufferRole::staging: return "staging.unit" + l;
    }
    return "?";
}

double EngineProgram::bytes_of(BufferRole role, int layer) const {
    double b = 0;
    for (const ProgramBuffer& x : buffers)
        if (x.role == role && (layer < 0 || x.layer == layer)) b += x.bytes();
    return b;
}

namespace {

// Appends buffers and events; sizes in elements.
class Builder {
public:
    explicit Builder(EngineProgram& p) : p_(p) {}
    int alloc(BufferRole role, MemoryCategory cat, std::size_t elements, std::size_t element_bytes, int layer = -1,
              int field = -1) {
        if (elements == 0) return -1;  // an empty buffer allocates nothing
        ProgramBuffer b;
        b.role = role;
        b.category = cat;
        b.elements = elements;
        b.element_bytes = element_bytes;
        b.layer = layer;
        b.field = field;
        p_.buffers.push_back(b);
        const int id = static_cast<int>(p_.buffers.size()) - 1;
        ProgramEvent e;
        e.kind = ProgramEvent::Kind::alloc;
        e.buffer = id;
        p_.events.push_back(e);
        return id;
    }
    void release(int id) {
        if (id < 0) return;
        ProgramEvent e;
        e.kind = ProgramEvent::Kind::free;
        e.buffer = id;
        p_.events.push_back(e);
    }
    void phase(MemoryPhase ph) {
        ProgramEvent e;
        e.kind = ProgramEvent::Kind::phase;
        e.phase = ph;
        p_.events.push_back(e);
    }
    void mark(StepMark m, int layer = -1) {
        ProgramEvent e;
        e.kind = ProgramEvent::Kind::mark;
        e.mark = m;
        e.layer = layer;
        p_.events.push_back(e);
    }
    void kernel(EngineKernel k, std::initializer_list<std::int64_t> dims) {
        ProgramEvent e;
        e.kind = ProgramEvent::Kind::kernel;
        e.kernel = k;
        std::size_t i = 0;
        for (const std::int64_t d : dims) e.dims.at(i++) = d;
        if (static_cast<int>(i) != engine_kernel_dims(k)) throw std::logic_error("engine program: wrong dims for a kernel");
        p_.events.push_back(e);
    }

private:
    EngineProgram& p_;
};

}  // namespace

EngineProgram build_engine_program(const ModelSpec& m, const EngineStepOptions& o) {
    if (const std::string why = engine_supports(m, o); !why.empty()) throw InputError(why);
    if (o.micro_batch < 1 || o.seq < 1)
        throw InputError("--micro-batch " + std::to_string(o.micro_batch) + ", --seq " + std::to_string(o.seq) +
                         ": the engine's step needs at least one token");
    EngineProgram p;
    p.options = o;
    const bool mixed = o.precision != Precision::fp32;
    const std::size_t e = mixed ? 2 : 4;
    p.element_bytes = static_cast<double>(e);
    p.layout = engine_param_layout(m);
    const int n = o.world, zero = n > 1 ? o.zero : 0;
    p.options.zero = zero;
    Builder b(p);
    using K = EngineKernel;
    using R = BufferRole;
    using C = MemoryCategory;
    const auto u = [](std::int64_t x) { return static_cast<std::size_t>(x); };
    const std::int64_t B = o.micro_batch, S = o.seq, T = B * S, d = m.d_model, q = m.q_dim(), kv = m.kv_dim(),
                       f = m.d_ff, V = m.vocab_size, H = m.n_heads, KVH = m.n_kv_heads, hd = m.head_dim;
    const int L = m.n_layers;
    const bool ln = m.norm == Norm::layernorm, swiglu = m.activation == Activation::swiglu,
               rotary = m.position == PositionEmbedding::rotary, learned = m.position == PositionEmbedding::learned,
               eager = o.attention == Attention::eager;
    const std::int64_t qkv_b = m.qkv_bias ? 1 : 0, out_b = m.out_bias ? 1 : 0, mlp_b = m.mlp_bias ? 1 : 0;
    const K norm_f = ln ? K::layernorm_forward : K::rmsnorm_forward, norm_b = ln ? K::layernorm_backward : K::rmsnorm_backward;
    const K att_f = eager ? K::attention_eager_forward : K::attention_flash_forward,
            att_b = eager ? K::attention_eager_backward : K::attention_flash_backward;
    // GPT-2's GELU runs in cuBLASLt's epilogues in 16-bit storage when d_ff is a multiple of 8
    // (kernels/cuda/linear.cu, fused_gelu).
    const bool gelu_fused = !swiglu && mixed && f % 8 == 0;
    const std::int64_t N = count_params(m).total();
    // The logits' rows are padded to a multiple of 64 elements in bf16/fp16 (engine/logits_stride.h).
    p.logits_row = dist::logits_row_stride(V, mixed);

    // The shard plan (world > 1): weights, gradients and optimizer state per ZeRO stage.
    std::vector<int> first_grad;
    if (n > 1) {
        dist::ShardOptions so;
        so.world = n;
        so.zero = zero;
        so.element_bytes = e;
        so.bucket_cap_bytes = o.bucket_cap_bytes;
        so.first_bucket_bytes = o.first_bucket_bytes;
        p.shards = dist::plan_shards(dist::engine_flat_layout(m), so);
        for (const dist::Unit& unit : p.shards.units) first_grad.push_back(dist::first_grad_step(p.shards, unit));
    }
    const dist::ShardPlan& plan = p.shards;
    const std::size_t P = u(N), full = zero >= 1 ? plan.padded_total : P, shard = plan.shard_elements,
                      states = zero >= 1 ? shard : P;
    const auto unit_elements = [&](int unit) { return plan.units[static_cast<std::size_t>(unit)].padded; };

    // Between steps (kernels/cuda/engine.cu allocate_statics; ZeRO's shards in data_parallel.cu).
    b.alloc(R::weights, C::parameters, zero <= 2 ? full : shard, e);
    b.alloc(R::gradients, C::gradients, zero <= 1 ? full : shard, e);
    if (mixed) b.alloc(R::master, C::optimizer, states, 4);
    b.alloc(R::adam_m, C::optimizer, states, 4);
    b.alloc(R::adam_v, C::optimizer, states, 4);

    // One layer's fields (LayerField order).
    const auto field_elements = [&](LayerField fld) -> std::size_t {
        switch (fld) {
            case LayerField::ln1_mean: case LayerField::ln2_mean: return ln ? u(T) : 0;
            case LayerField::ln1_rstd: case LayerField::ln2_rstd: return u(T);
            case LayerField::ln1_out: case LayerField::x_mid: case LayerField::ln2_out: return u(T * d);
            case LayerField::q: case LayerField::att: return u(T * q);
            case LayerField::k: case LayerField::v: return u(T * kv);
            case LayerField::probs: return eager ? u(B * H * S * S) : 0;
            case LayerField::lse: return eager ? 0 : u(B * H * S);
            case LayerField::fc: case LayerField::act: return u(T * f);
            case LayerField::up: return swiglu ? u(T * f) : 0;
        }
        return 0;
    };
    // fp32 always: the norm statistics and the flash log-sum-exp.
    const auto field_bytes = [&](LayerField fld) -> std::size_t {
        switch (fld) {
            case LayerField::ln1_mean: case LayerField::ln1_rstd: case LayerField::ln2_mean: case LayerField::ln2_rstd:
            case LayerField::lse: return 4;
            default: return e;
        }
    };

    // A layer's forward kernels (kernels/cuda/engine.cu layer_forward); with_out false: the full
    // recompute's re-run, which stops after the MLP activation.
    const auto layer_kernels = [&](bool with_out) {
        b.kernel(norm_f, {T, d});
        b.kernel(K::linear_forward, {T, d, q, qkv_b, q, 0});
        b.kernel(K::linear_forward, {T, d, kv, qkv_b, kv, 0});
        b.kernel(K::linear_forward, {T, d, kv, qkv_b, kv, 0});
        if (rotary) {
            b.kernel(K::rotary_forward, {B, S, H, hd});
            b.kernel(K::rotary_forward, {B, S, KVH, hd});
        }
        b.kernel(att_f, {B, S, H, KVH, hd});
        b.kernel(K::linear_forward, {T, q, d, out_b, d, 0});
        b.kernel(K::residual_add, {T * d});
        b.kernel(norm_f, {T, d});
        if (swiglu) {
            b.kernel(K::linear_forward, {T, d, f, mlp_b, f, 0});
            b.kernel(K::linear_forward, {T, d, f, mlp_b, f, 0});
            b.kernel(K::swiglu_forward, {T * f});
        } else if (gelu_fused) {  // the GELU in the fc GEMM's epilogue (kernels/cuda/linear.cu)
            b.kernel(K::linear_forward, {T, d, f, mlp_b, f, 1});
        } else {
            b.kernel(K::linear_forward, {T, d, f, mlp_b, f, 0});
            b.kernel(K::gelu_forward, {T * f});
        }
        if (!with_out) return;
        b.kernel(K::linear_forward, {T, f, d, mlp_b, d, 0});
        b.kernel(K::residual_add, {T * d});
    };

    // The forward: per compute step p, ZeRO-3's gathers issued at p, then the step's buffers and
    // kernels; the units last used at p freed after it.
    std::vector<int> gathered(plan.units.size(), -1);
    const auto gather = [&](const std::vector<dist::GatherEvent>& events, int pos) {
        if (zero != 3) return;
        for (const dist::GatherEvent& g : events)
            if (g.issue_at == pos)
                gathered[static_cast<std::size_t>(g.unit)] =
                    b.alloc(R::gathered, C::parameters, unit_elements(g.unit), e, g.unit);
    };
    const auto ungather = [&](const std::vector<dist::GatherEvent>& events, int pos) {
        if (zero != 3) return;
        for (const dist::GatherEvent& g : events)
            if (g.last_use == pos) b.release(gathered[static_cast<std::size_t>(g.unit)]);
    };
    std::vector<int> resid(u(L + 1), -1);
    std::vector<std::array<int, kLayerFields>> fields(u(L));
    std::array<int, kLayerFields> scratch;
    scratch.fill(-1);
    int lnf_mean = -1, lnf_rstd = -1, lnf_out = -1, logits = -1;
    p.micro_begin = p.events.size();  // the micro-batch's forward phase
    b.phase(MemoryPhase::forward);
    b.kernel(K::zero_grad, {N * static_cast<std::int64_t>(e)});
    for (int pos = 0; pos <= L + 1; ++pos) {
        gather(plan.forward.gathers, pos);
        if (pos <= L) resid[u(pos)] = b.alloc(R::residual, C::activations, u(T * d), e, pos);
        if (pos == 0) {
            b.mark(StepMark::embed_forward);
            b.kernel(K::embedding_forward, {T, d, V});
            if (learned) {
                b.kernel(K::embedding_forward, {T, d, m.max_positions});
                b.kernel(K::residual_add, {T * d});
            }
        } else if (pos <= L) {
            const int l = pos - 1;
            fields[u(l)].fill(-1);
            for (int i = 0; i < kLayerFields; ++i) {
                const auto fld = static_cast<LayerField>(i);
                if (kept(fld, o.recompute))
                    fields[u(l)][u(i)] = b.alloc(R::layer_field, C::activations, field_elements(fld), field_bytes(fld), l, i);
                else if (l == 0)  // one layer's unkept fields, allocated once
                    scratch[u(i)] = b.alloc(R::layer_scratch, C::workspace, field_elements(fld), field_bytes(fld), -1, i);
            }
            b.mark(StepMark::layer_forward, l);
            layer_kernels(true);
        } else {
            if (ln) lnf_mean = b.alloc(R::final_norm_mean, C::activations, u(T), 4);
            lnf_rstd = b.alloc(R::final_norm_rstd, C::activations, u(T), 4);
            lnf_out = b.alloc(R::final_norm_out, C::activations, u(T * d), e);
            b.mark(StepMark::final_norm_forward);
            b.kernel(norm_f, {T, d});
            logits = b.alloc(R::logits, C::logits, u(T * p.logits_row), e);
            b.mark(StepMark::head_forward);
            // The output layer writes the logits with their padded row stride.
            b.kernel(K::linear_forward, {T, d, V, 0, p.logits_row, 0});
            b.kernel(K::cross_entropy, {T, V});
        }
        ungather(plan.forward.gathers, pos);
    }
    b.mark(StepMark::forward_end);

    // The backward: step k = L + 1 … 0, pass position L + 1 − k. ZeRO-2/3 allocate a unit's
    // gradient staging at the start of the step that first writes it and free it once the compute
    // stream waited for its reduce-scatter (when the next units' reduce-scatters are issued).
    b.phase(MemoryPhase::backward);
    std::set<int> staged;
    std::vector<int> staging(plan.units.size(), -1), in_flight;
    const auto before = [&](int k) {
        gather(plan.backward.gathers, L + 1 - k);
        if (zero >= 2)
            for (std::size_t un = 0; un < plan.units.size(); ++un)
                if (first_grad[un] == k && !staged.count(static_cast<int>(un))) {
                    staged.insert(static_cast<int>(un));
                    staging[un] = b.alloc(R::staging, C::gradients, unit_elements(static_cast<int>(un)), e,
                                          static_cast<int>(un));
                }
    };
    const auto after = [&](int k) {
        const int pos = L + 1 - k;
        std::vector<int> ready;
        if (zero == 3) {
            for (const dist::ReduceEvent& rd : plan.backward.reduces)
                if (rd.after == pos) ready.push_back(rd.unit);
        } else if (n > 1) {
            for (const dist::Unit& unit : plan.units)
                if (unit.ready_after_step == k) ready.push_back(unit.index);
        }
        if (!ready.empty() && zero >= 2) {
            for (const int un : in_flight) b.release(staging[static_cast<std::size_t>(un)]);
            in_flight = ready;
        }
        ungather(plan.backward.gathers, pos);
    };
    std::array<int, kGradFields> grad;
    grad.fill(-1);
    const auto galloc = [&](GradField g, std::int64_t elements) {
        grad[static_cast<std::size_t>(g)] =
            b.alloc(R::grad, C::workspace, u(elements), e, -1, static_cast<int>(g));
    };
    before(L + 1);
    galloc(GradField::ln, T * d);  // dL/d(final-norm output)
    b.mark(StepMark::head_backward);
    b.kernel(K::linear_backward, {T, d, V, 0, p.logits_row, 0});
    b.release(logits);
    b.release(lnf_out);
    galloc(GradField::res, T * d);  // the residual gradient
    galloc(GradField::tmp, T * d);
    b.mark(StepMark::final_norm_backward);
    b.kernel(norm_b, {T, d});
    b.release(lnf_mean);
    b.release(lnf_rstd);
    after(L + 1);
    galloc(GradField::att, T * q);
    galloc(GradField::dq, T * q);
    galloc(GradField::dk, T * kv);
    galloc(GradField::dv, T * kv);
    galloc(GradField::act, T * f);
    galloc(GradField::fc, T * f);
    if (swiglu) galloc(GradField::up, T * f);
    b.mark(StepMark::backward_workspace);
    for (int k = L; k >= 1; --k) {
        const int l = k - 1;
        b.release(resid[u(k)]);  // layer l's output: no longer needed
        before(k);
        b.mark(StepMark::layer_backward, l);
        if (o.recompute == Recompute::full) layer_kernels(false);
        if (o.recompute == Recompute::selective) b.kernel(att_f, {B, S, H, KVH, hd});
        // The down projection; GPT-2 in 16-bit storage: its dx through GELU' in the same GEMM.
        b.kernel(K::linear_backward, {T, f, d, mlp_b, d, gelu_fused ? 1 : 0});
        if (swiglu) {
            b.kernel(K::swiglu_backward, {T * f});
            b.kernel(K::linear_backward, {T, d, f, mlp_b, f, 0});
            b.kernel(K::linear_backward, {T, d, f, mlp_b, f, 0});  // up's dx accumulates into gate's
        } else {
            if (!gelu_fused) b.kernel(K::gelu_backward, {T * f});
            b.kernel(K::linear_backward, {T, d, f, mlp_b, f, 0});
        }
        b.kernel(norm_b, {T, d});
        b.kernel(K::residual_add, {T * d});
        b.kernel(K::linear_backward, {T, q, d, out_b, d, 0});
        b.kernel(att_b, {B, S, H, KVH, hd});
        if (rotary) {
            b.kernel(K::rotary_backward, {B, S, H, hd});
            b.kernel(K::rotary_backward, {B, S, KVH, hd});
        }
        b.kernel(K::linear_backward, {T, d, q, qkv_b, q, 0});
        b.kernel(K::linear_backward, {T, d, kv, qkv_b, kv, 0});  // k's and v's dx accumulate into q's
        b.kernel(K::linear_backward, {T, d, kv, qkv_b, kv, 0});
        b.kernel(norm_b, {T, d});
        b.kernel(K::residual_add, {T * d});
        for (const int id : fields[u(l)]) b.release(id);
        after(k);
    }
    before(0);
    b.mark(StepMark::embed_backward);
    b.kernel(K::embedding_backward, {T, d, V});
    if (learned) b.kernel(K::embedding_backward, {T, d, m.max_positions});
    after(0);
    // The end of the backward: the last reduce-scatters waited for, the forward's and the
    // backward's buffers freed.
    for (const int un : in_flight) b.release(staging[static_cast<std::size_t>(un)]);
    b.release(resid[0]);
    for (const int id : scratch) b.release(id);
    for (const int id : grad) b.release(id);

    // Accumulation: the micro-batch's events, run A times (for_each_step_event).
    p.micro_end = p.events.size();

    // The optimizer: (fp16: the inf/NaN check of the scaled gradients) the global norm over the
    // flat gradient, one AdamW launch per tensor.
    b.phase(MemoryPhase::optimizer);
    b.mark(StepMark::optimizer_step);
    if (o.precision == Precision::mixed_fp16) b.kernel(K::check_nonfinite, {N});
    b.kernel(K::global_norm, {N});
    for (const EngineParamSlot& s : p.layout) b.kernel(K::adamw, {static_cast<std::int64_t>(s.size)});
    b.phase(MemoryPhase::idle);
    return p;
}

double EngineBooksReplay::at_mark(StepMark m) const {
    for (const auto& [mark, bytes] : marks)
        if (mark == m) return bytes;
    return 0;
}

EngineBooksReplay replay_engine_books(const EngineProgram& p) {
    EngineBooksReplay r;
    std::array<double, kMemoryCategories> cur{};
    double total = 0, staging = 0;
    MemoryPhase phase = MemoryPhase::idle;
    bool statics_taken = false;
    for_each_step_event(p, [&](const ProgramEvent& ev, std::int64_t) {
        switch (ev.kind) {
            case ProgramEvent::Kind::phase:
                if (!statics_taken) r.statics = total;
                statics_taken = true;
                phase = ev.phase;
                break;
            case ProgramEvent::Kind::mark: r.marks.emplace_back(ev.mark, total); break;
            case ProgramEvent::Kind::kernel: break;
            case ProgramEvent::Kind::alloc: {
                const ProgramBuffer& buf = p.buffers[static_cast<std::size_t>(ev.buffer)];
                const auto c = static_cast<std::size_t>(buf.category);
                cur[c] += buf.bytes();
                total += buf.bytes();
                if (cur[c] > r.peak[c]) {
                    r.peak[c] = cur[c];
                    r.peak_phase[c] = phase;
                }
                if (total > r.total_peak) {
                    r.total_peak = total;
                    r.total_peak_phase = phase;
                    r.at_peak = cur;
                }
                if (phase == MemoryPhase::forward) r.forward_peak = std::max(r.forward_peak, total);
                if (phase == MemoryPhase::backward) r.backward_peak = std::max(r.backward_peak, total);
                if (buf.role == BufferRole::staging) {
                    staging += buf.bytes();
                    r.max_staging_bytes = std::max(r.max_staging_bytes, staging);
                }
                break;
            }
            case ProgramEvent::Kind::free: {
                const ProgramBuffer& buf = p.buffers[static_cast<std::size_t>(ev.buffer)];
                cur[static_cast<std::size_t>(buf.category)] -= buf.bytes();
                total -= buf.bytes();
                if (buf.role == BufferRole::staging) staging -= buf.bytes();
                break;
            }
        }
    });
    return r;
}

ProgramIndex index_program(const EngineProgram& program, int layers) {
    ProgramIndex x;
    const auto at = [](int i) { return static_cast<std::size_t>(i); };
    x.resid.assign(at(layers + 1), -1);
    x.saved.assign(at(layers), {});
    for (auto& a : x.saved) a.fill(-1);
    x.scratch.fill(-1);
    x.gradw.fill(-1);
    for (std::size_t i = 0; i < program.buffers.size(); ++i) {
        const ProgramBuffer& b = program.buffers[i];
        const int id = static_cast<int>(i);
        switch (b.role) {
            case BufferRole::residual: x.resid[at(b.layer)] = id; break;
            case BufferRole::layer_field: x.saved[at(b.layer)][at(b.field)] = id; break;
            case BufferRole::layer_scratch: x.scratch[at(b.field)] = id; break;
            case BufferRole::grad: x.gradw[at(b.field)] = id; break;
            case BufferRole::final_norm_mean: x.lnf_mean = id; break;
            case BufferRole::final_norm_rstd: x.lnf_rstd = id; break;
            case BufferRole::final_norm_out: x.lnf_out = id; break;
            case BufferRole::logits: x.logits = id; break;
            default: break;  // the statics, ZeRO's gathered units and staging
        }
    }
    for (std::size_t i = 0; i < program.events.size(); ++i) {
        const ProgramEvent& e = program.events[i];
        if (e.kind != ProgramEvent::Kind::phase) continue;
        if (e.phase == MemoryPhase::forward) x.forward_begin = i;
        if (e.phase == MemoryPhase::backward) x.backward_begin = i;
    }
    return x;
}

}  // namespace llmplan
