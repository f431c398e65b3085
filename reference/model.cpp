// model.cpp — the CPU reference training step: the step program's (engine/program.h) buffers
// allocated and freed as its events say, the math of each of its stretches (forward, backward
// with the three recompute modes), AdamW, and the memory books (model.h).
#include "reference/model.h"

#include "core/error.h"
#include "engine/init.h"
#include "engine/param_views.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace llmplan::reference {

// --- arena and buffers -------------------------------------------------------------------------

void Arena::allocate(MemoryCategory c, std::size_t bytes) { stats_.add(c, bytes, phase_); }

void Arena::release(MemoryCategory c, std::size_t bytes) {
    if (!stats_.remove(c, bytes)) throw std::logic_error("Arena: releasing more than was allocated");
}

void Arena::reset_peaks() { stats_.reset_peaks(phase_); }

Buffer::Buffer(Arena& arena, MemoryCategory category, std::size_t elements)
    : data_(std::make_unique<float[]>(elements)), size_(elements), arena_(&arena), category_(category) {
    arena.allocate(category, bytes());
}

Buffer::Buffer(Buffer&& o) noexcept
    : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)), arena_(std::exchange(o.arena_, nullptr)),
      category_(o.category_) {}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
    if (this != &o) {
        reset();
        data_ = std::move(o.data_);
        size_ = std::exchange(o.size_, 0);
        arena_ = std::exchange(o.arena_, nullptr);
        category_ = o.category_;
    }
    return *this;
}

void Buffer::reset() {
    if (arena_ && size_ > 0) arena_->release(category_, bytes());
    data_.reset();
    size_ = 0;
    arena_ = nullptr;
}

// --- the model ---------------------------------------------------------------------------------

namespace {

using std::size_t;
inline size_t sz(int a) { return static_cast<size_t>(a); }

// One layer's tensors, indexed by LayerField (engine/program.h).
using LayerView = std::array<float*, kLayerFields>;
inline size_t fi(LayerField f) { return static_cast<size_t>(f); }

// Pointers into the flat parameter (or gradient) buffer for one layer; null where absent.
// The named views of the flat parameter buffer (engine/param_views.h).
using LayerParams = EngineLayerViews<float*>;
using ModelParams = EngineModelViews<float*>;

void add_into(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace

struct ReferenceModel::Impl : ProgramIndex {
    ModelSpec spec;
    TrainOptions opt;
    Arena arena;
    std::vector<ParamInfo> infos;
    Buffer params, grads, m, v;
    ModelParams P, G;  // parameter and gradient views with the same layout
    int steps = 0;

    // Geometry of the current pass.
    int B = 0, S = 0, T = 0;  // T: one micro-batch's tokens
    int A = 1, micro = 0;     // micro-batches per step and the one running
    int counted = 0;          // the step's targets ≥ 0 (the cross-entropy's denominator)
    int d = 0, L = 0, H = 0, KVH = 0, hd = 0, qd = 0, kvd = 0, f = 0, V = 0;
    bool layernorm = true, swiglu = false, rotary = false, eager = false;

    // The step's program for the current B × S (engine/program.h): its buffers, allocated and
    // freed as its events say, and which buffer holds what.
    EngineProgram prog;
    std::vector<Buffer> bufs;               // by program buffer index
    std::vector<int> ids_copy;              // all A micro-batches'
    const int* micro_ids() const { return ids_copy.data() + sz(micro) * sz(T); }

    // ---- setup ----

    Impl(const ModelSpec& s, const TrainOptions& o, std::uint64_t seed) : spec(s), opt(o) {
        validate_model(spec, "reference model " + spec.name);
        const EngineProgram statics = build_engine_program(spec, step_options(1, 1, 1));
        d = spec.d_model;
        L = spec.n_layers;
        H = spec.n_heads;
        KVH = spec.n_kv_heads;
        hd = spec.head_dim;
        qd = H * hd;
        kvd = KVH * hd;
        f = spec.d_ff;
        V = static_cast<int>(spec.vocab_size);
        layernorm = spec.norm == Norm::layernorm;
        swiglu = spec.activation == Activation::swiglu;
        rotary = spec.position == PositionEmbedding::rotary;
        eager = opt.attention == Attention::eager;
        infos = statics.layout;
        // Weights, gradients, AdamW m and v: the program's allocations before its first phase.
        for (const ProgramEvent& e : statics.events) {
            if (e.kind == ProgramEvent::Kind::phase) break;
            if (e.kind != ProgramEvent::Kind::alloc) continue;
            const ProgramBuffer& pb = statics.buffers[sz(e.buffer)];
            Buffer buf(arena, pb.category, pb.elements);
            switch (pb.role) {
                case BufferRole::weights: params = std::move(buf); break;
                case BufferRole::gradients: grads = std::move(buf); break;
                case BufferRole::adam_m: m = std::move(buf); break;
                case BufferRole::adam_v: v = std::move(buf); break;
                default: throw std::logic_error("reference model: unexpected static buffer " + pb.name());
            }
        }
        P = views(params.data());
        G = views(grads.data());
        init(seed);
    }

    EngineStepOptions step_options(int batch, int seq, int accumulation) const {
        EngineStepOptions o;
        o.accumulation = accumulation;
        o.recompute = opt.recompute;
        o.attention = opt.attention;
        o.micro_batch = batch;
        o.seq = seq;
        return o;
    }

    const ParamInfo* find(std::string_view name) const {
        for (const ParamInfo& p : infos)
            if (p.name == name) return &p;
        return nullptr;
    }

    ModelParams views(float* base) const { return engine_param_views(infos, L, spec.tied_embeddings, base, sizeof(float)); }

    void init(std::uint64_t seed) { engine_initial_weights(infos, seed, opt.init_std, params.data()); }

    // ---- geometry and storage ----

    void begin(std::span<const int> ids, std::span<const int> targets, int batch, int seq, int accumulation = 1) {
        if (accumulation <= 0)
            throw InputError("reference model: micro-batches per step must be positive (got " +
                             std::to_string(accumulation) + ")");
        if (batch <= 0 || seq <= 0)
            throw InputError("reference model: batch and sequence must be positive (got " + std::to_string(batch) + " × " +
                             std::to_string(seq) + ")");
        if (spec.position == PositionEmbedding::learned && seq > spec.max_positions)
            throw InputError("reference model: sequence " + std::to_string(seq) + " exceeds the " +
                             std::to_string(spec.max_positions) + " learned positions");
        const auto tokens = static_cast<std::int64_t>(batch) * seq;
        if (tokens * accumulation > std::numeric_limits<int>::max())
            throw InputError("reference model: too many tokens in one step");
        const auto all = static_cast<size_t>(tokens * accumulation);
        if (ids.size() != all || targets.size() != all)
            throw InputError("reference model: ids and targets must hold micro-batches × batch × sequence = " +
                             std::to_string(all) + " tokens (got " + std::to_string(ids.size()) + " and " +
                             std::to_string(targets.size()) + ")");
        for (int id : ids)
            if (id < 0 || id >= V)
                throw InputError("reference model: token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                 std::to_string(V) + ")");
        for (int t : targets)
            if (t < -1 || t >= V)
                throw InputError("reference model: target " + std::to_string(t) + " is outside [0, " + std::to_string(V) +
                                 ") and not −1");
        B = batch;
        S = seq;
        T = static_cast<int>(tokens);
        A = accumulation;
        micro = 0;
        counted = static_cast<int>(std::count_if(targets.begin(), targets.end(), [](int t) { return t >= 0; }));
        ids_copy.assign(ids.begin(), ids.end());
        program_for(batch, seq, accumulation);
    }

    // The program for B × S and its index of buffers by role (built when B or S changes).
    void program_for(int batch, int seq, int accumulation) {
        if (!bufs.empty() && prog.options.micro_batch == batch && prog.options.seq == seq &&
            prog.options.accumulation == accumulation)
            return;
        prog = build_engine_program(spec, step_options(batch, seq, accumulation));
        if (prog.element_bytes != 4) throw std::logic_error("reference model: the program is not fp32");
        bufs = std::vector<Buffer>(prog.buffers.size());
        static_cast<ProgramIndex&>(*this) = index_program(prog, L);
    }

    float* ptr(int id) { return id < 0 ? nullptr : bufs[sz(id)].data(); }

    // Pointers for layer l: the kept fields from saved[l], the rest from the shared scratch.
    LayerView layer_view(int l) {
        LayerView view{};
        for (int i = 0; i < kLayerFields; ++i) view[sz(i)] = ptr(saved[sz(l)][sz(i)] >= 0 ? saved[sz(l)][sz(i)] : scratch[sz(i)]);
        return view;
    }

    void release_forward_state() {
        for (Buffer& b : bufs) b.reset();
    }

    // Runs the program's events from `begin` (a phase event) up to (not including) the next phase
    // event — or the forward_end mark when `until` is backward: allocations and frees on the arena,
    // the math of each stretch at its mark. Returns the loss (head_forward).
    float run(size_t begin, MemoryPhase until, std::span<const int> targets, bool train) {
        float loss = 0;
        for (size_t i = begin; i < prog.events.size(); ++i) {
            const ProgramEvent& e = prog.events[i];
            switch (e.kind) {
                case ProgramEvent::Kind::phase:
                    if (i != begin) return loss;
                    arena.set_phase(e.phase);
                    break;
                case ProgramEvent::Kind::alloc: {
                    const ProgramBuffer& b = prog.buffers[sz(e.buffer)];
                    bufs[sz(e.buffer)] = Buffer(arena, b.category, b.elements);
                    break;
                }
                case ProgramEvent::Kind::free: bufs[sz(e.buffer)].reset(); break;
                case ProgramEvent::Kind::kernel: break;  // the math runs per stretch, at the marks
                case ProgramEvent::Kind::mark:
                    if (e.mark == StepMark::forward_end && until == MemoryPhase::backward) return loss;
                    loss = step(e, targets, train, loss);
                    break;
            }
        }
        return loss;
    }

    // ---- math ----

    void norm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd) const {
        if (layernorm)
            layernorm_forward(x, w, b, y, mean, rstd, T, d, opt.norm_eps);
        else
            rmsnorm_forward(x, w, y, rstd, T, d, opt.norm_eps);
    }

    void norm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* dy, float* dx,
                       float* dw, float* db) const {
        if (layernorm)
            layernorm_backward(x, w, mean, rstd, dy, dx, dw, db, T, d);
        else
            rmsnorm_backward(x, w, rstd, dy, dx, dw, T, d);
    }

    void attention_core(const LayerView& a) const {
        attention_forward(a[fi(LayerField::q)], a[fi(LayerField::k)], a[fi(LayerField::v)], a[fi(LayerField::att)], a[fi(LayerField::probs)], a[fi(LayerField::lse)], B, S, H, KVH, hd, eager);
    }

    // One layer's forward from x into the view; x_out null: stop before the down projection (the
    // recompute in the backward needs everything but the layer's output).
    void layer_forward(const LayerParams& p, const float* x, const LayerView& a, float* x_out) const {
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        norm_forward(x, p.ln1_w, p.ln1_b, a[fi(LayerField::ln1_out)], a[fi(LayerField::ln1_mean)], a[fi(LayerField::ln1_rstd)]);
        linear_forward(a[fi(LayerField::ln1_out)], p.wq, p.bq, a[fi(LayerField::q)], T, d, qd);
        linear_forward(a[fi(LayerField::ln1_out)], p.wk, p.bk, a[fi(LayerField::k)], T, d, kvd);
        linear_forward(a[fi(LayerField::ln1_out)], p.wv, p.bv, a[fi(LayerField::v)], T, d, kvd);
        if (rotary) {
            rotary_forward(a[fi(LayerField::q)], B, S, H, hd, opt.rope_base);
            rotary_forward(a[fi(LayerField::k)], B, S, KVH, hd, opt.rope_base);
        }
        attention_core(a);
        linear_forward(a[fi(LayerField::att)], p.wo, p.bo, a[fi(LayerField::x_mid)], T, qd, d);
        add_into(a[fi(LayerField::x_mid)], x, td);
        norm_forward(a[fi(LayerField::x_mid)], p.ln2_w, p.ln2_b, a[fi(LayerField::ln2_out)], a[fi(LayerField::ln2_mean)], a[fi(LayerField::ln2_rstd)]);
        if (swiglu) {
            linear_forward(a[fi(LayerField::ln2_out)], p.wg, p.bg, a[fi(LayerField::fc)], T, d, f);
            linear_forward(a[fi(LayerField::ln2_out)], p.wu, p.bu, a[fi(LayerField::up)], T, d, f);
            swiglu_forward(a[fi(LayerField::fc)], a[fi(LayerField::up)], a[fi(LayerField::act)], tf);
        } else {
            linear_forward(a[fi(LayerField::ln2_out)], p.wu, p.bu, a[fi(LayerField::fc)], T, d, f);
            gelu_forward(a[fi(LayerField::fc)], a[fi(LayerField::act)], tf);
        }
        if (!x_out) return;
        linear_forward(a[fi(LayerField::act)], p.wd, p.bd, x_out, T, f, d);
        add_into(x_out, a[fi(LayerField::x_mid)], td);
    }

    // Gradient workspace of the backward.
    struct GradWork {
        float *ln, *res, *tmp, *att, *dq, *dk, *dv, *act, *fc, *up;
    };
    GradWork grad_work() {
        auto g = [&](GradField x) { return ptr(gradw[static_cast<size_t>(x)]); };
        return {g(GradField::ln), g(GradField::res), g(GradField::tmp), g(GradField::att), g(GradField::dq),
                g(GradField::dk), g(GradField::dv), g(GradField::act), g(GradField::fc), g(GradField::up)};
    }

    // d.res holds dL/d(x_out) on entry and dL/d(x) on exit.
    void layer_backward(const LayerParams& p, LayerParams& g, const float* x, const LayerView& a, GradWork& w) const {
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        // MLP.
        linear_backward(a[fi(LayerField::act)], p.wd, w.res, w.act, g.wd, g.bd, T, f, d);
        if (swiglu) {
            swiglu_backward(a[fi(LayerField::fc)], a[fi(LayerField::up)], w.act, w.fc, w.up, tf);
            linear_backward(a[fi(LayerField::ln2_out)], p.wg, w.fc, w.ln, g.wg, g.bg, T, d, f);
            linear_backward(a[fi(LayerField::ln2_out)], p.wu, w.up, w.tmp, g.wu, g.bu, T, d, f);
            add_into(w.ln, w.tmp, td);
        } else {
            gelu_backward(a[fi(LayerField::fc)], w.act, w.fc, tf);
            linear_backward(a[fi(LayerField::ln2_out)], p.wu, w.fc, w.ln, g.wu, g.bu, T, d, f);
        }
        norm_backward(a[fi(LayerField::x_mid)], p.ln2_w, a[fi(LayerField::ln2_mean)], a[fi(LayerField::ln2_rstd)], w.ln, w.tmp, g.ln2_w, g.ln2_b);
        add_into(w.res, w.tmp, td);  // residual: dL/dx_mid
        // Attention.
        linear_backward(a[fi(LayerField::att)], p.wo, w.res, w.att, g.wo, g.bo, T, qd, d);
        attention_backward(a[fi(LayerField::q)], a[fi(LayerField::k)], a[fi(LayerField::v)], a[fi(LayerField::att)], a[fi(LayerField::probs)], a[fi(LayerField::lse)], w.att, w.dq, w.dk,
                           w.dv, B, S, H, KVH, hd, eager);
        if (rotary) {
            rotary_backward(w.dq, B, S, H, hd, opt.rope_base);
            rotary_backward(w.dk, B, S, KVH, hd, opt.rope_base);
        }
        linear_backward(a[fi(LayerField::ln1_out)], p.wq, w.dq, w.ln, g.wq, g.bq, T, d, qd);
        linear_backward(a[fi(LayerField::ln1_out)], p.wk, w.dk, w.tmp, g.wk, g.bk, T, d, kvd);
        add_into(w.ln, w.tmp, td);
        linear_backward(a[fi(LayerField::ln1_out)], p.wv, w.dv, w.tmp, g.wv, g.bv, T, d, kvd);
        add_into(w.ln, w.tmp, td);
        norm_backward(x, p.ln1_w, a[fi(LayerField::ln1_mean)], a[fi(LayerField::ln1_rstd)], w.ln, w.tmp, g.ln1_w, g.ln1_b);
        add_into(w.res, w.tmp, td);  // residual: dL/dx
    }

    // ---- passes ----

    // One stretch of the step, at its mark (engine/program.h StepMark).
    float step(const ProgramEvent& e, std::span<const int> targets, bool train, float loss) {
        switch (e.mark) {
            case StepMark::embed_forward: {
                float* x0 = ptr(resid[0]);
                embedding_forward(P.wte, micro_ids(), x0, T, d);
                if (P.wpe)
                    for (int t = 0; t < T; ++t) add_into(x0 + sz(t) * sz(d), P.wpe + sz(t % S) * sz(d), sz(d));
                break;
            }
            case StepMark::layer_forward:
                layer_forward(P.layers[sz(e.layer)], ptr(resid[sz(e.layer)]), layer_view(e.layer), ptr(resid[sz(e.layer + 1)]));
                break;
            case StepMark::final_norm_forward:
                norm_forward(ptr(resid[sz(L)]), P.lnf_w, P.lnf_b, ptr(lnf_out), ptr(lnf_mean), ptr(lnf_rstd));
                break;
            case StepMark::head_forward:
                linear_forward(ptr(lnf_out), P.head, nullptr, ptr(logits), T, d, V);
                // Training: fused, the gradient overwrites the logits in place.
                // Accumulation: each micro-batch's share of the step's mean (the step's count).
                return train ? cross_entropy_forward_backward(ptr(logits), targets.data(), ptr(logits), T, V,
                                                              A > 1 ? std::max(counted, 1) : 0)
                             : cross_entropy_forward(ptr(logits), targets.data(), T, V);
            case StepMark::head_backward: {
                // lm_head (tied: into the token embedding's gradient); logits hold dlogits.
                const GradWork w = grad_work();
                linear_backward(ptr(lnf_out), P.head, ptr(logits), w.ln, G.head, nullptr, T, d, V);
                break;
            }
            case StepMark::final_norm_backward: {
                const GradWork w = grad_work();
                norm_backward(ptr(resid[sz(L)]), P.lnf_w, ptr(lnf_mean), ptr(lnf_rstd), w.ln, w.res, G.lnf_w, G.lnf_b);
                break;
            }
            case StepMark::layer_backward: {
                GradWork w = grad_work();
                const int l = e.layer;
                const LayerView a = layer_view(l);
                const float* x = ptr(resid[sz(l)]);
                if (opt.recompute == Recompute::full) layer_forward(P.layers[sz(l)], x, a, nullptr);
                if (opt.recompute == Recompute::selective) attention_core(a);  // rewrites the kept output with the same values
                layer_backward(P.layers[sz(l)], G.layers[sz(l)], x, a, w);
                break;
            }
            case StepMark::embed_backward: {
                const GradWork w = grad_work();
                embedding_backward(micro_ids(), w.res, G.wte, T, d);
                if (G.wpe)
                    for (int t = 0; t < T; ++t) add_into(G.wpe + sz(t % S) * sz(d), w.res + sz(t) * sz(d), sz(d));
                break;
            }
            case StepMark::forward_end:
            case StepMark::backward_workspace:
            case StepMark::optimizer_step: break;  // points the books read
        }
        return loss;
    }

    // The program's forward. train: keep what the backward needs (per the recompute mode) and
    // leave dlogits in the logits; otherwise the same buffers, all freed after the loss.
    float forward(std::span<const int> targets, bool train) {
        const float loss = run(forward_begin, MemoryPhase::backward, targets.subspan(sz(micro) * sz(T), sz(T)), train);
        if (!train) release_forward_state();
        arena.set_phase(MemoryPhase::idle);
        return loss;
    }

    // The program's backward (up to its optimizer phase).
    void backward() {
        run(backward_begin, MemoryPhase::optimizer, {}, true);
        arena.set_phase(MemoryPhase::idle);
    }

    float optimizer(const AdamW& o) {
        arena.set_phase(MemoryPhase::optimizer);
        const float norm = global_norm({{grads.data(), grads.size()}});
        float scale = 1.0f;
        if (o.max_grad_norm > 0 && norm > o.max_grad_norm) scale = o.max_grad_norm / norm;
        ++steps;
        for (const ParamInfo& p : infos)
            adamw_update(params.data() + p.offset, grads.data() + p.offset, m.data() + p.offset, v.data() + p.offset, p.size,
                         o, steps, scale, p.decay);
        arena.set_phase(MemoryPhase::idle);
        return norm;
    }

    void zero_grad() { std::fill(grads.data(), grads.data() + grads.size(), 0.0f); }
};

ReferenceModel::ReferenceModel(const ModelSpec& spec, const TrainOptions& options, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(spec, options, seed)) {}
ReferenceModel::~ReferenceModel() = default;
ReferenceModel::ReferenceModel(ReferenceModel&&) noexcept = default;
ReferenceModel& ReferenceModel::operator=(ReferenceModel&&) noexcept = default;

float ReferenceModel::forward_backward(std::span<const int> ids, std::span<const int> targets, int B, int S,
                                       bool accumulate, int A) {
    impl_->begin(ids, targets, B, S, A);
    if (!accumulate) impl_->zero_grad();
    float loss = 0;
    for (impl_->micro = 0; impl_->micro < A; ++impl_->micro) {
        loss += impl_->forward(targets, true);
        impl_->backward();
    }
    return loss;
}

float ReferenceModel::loss_only(std::span<const int> ids, std::span<const int> targets, int B, int S) {
    impl_->begin(ids, targets, B, S);
    return impl_->forward(targets, false);
}

float ReferenceModel::optimizer_step(const AdamW& opt) { return impl_->optimizer(opt); }

StepStats ReferenceModel::train_step(std::span<const int> ids, std::span<const int> targets, int B, int S,
                                     const AdamW& opt, int A) {
    using clock = std::chrono::steady_clock;
    auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
    StepStats st;
    const auto t0 = clock::now();
    impl_->begin(ids, targets, B, S, A);
    impl_->zero_grad();
    auto t = t0;  // the micro-batches' forward and backward times, back to back
    for (impl_->micro = 0; impl_->micro < A; ++impl_->micro) {
        st.loss += impl_->forward(targets, true);
        const auto t1 = clock::now();
        st.forward_s += seconds(t, t1);
        impl_->backward();
        t = clock::now();
        st.backward_s += seconds(t1, t);
    }
    st.grad_norm = impl_->optimizer(opt);
    const auto t3 = clock::now();
    st.optimizer_s = seconds(t, t3);
    st.total_s = seconds(t0, t3);
    st.memory = impl_->arena.stats();
    return st;
}

void ReferenceModel::zero_grad() { impl_->zero_grad(); }

const std::vector<ParamInfo>& ReferenceModel::params() const { return impl_->infos; }

const ParamInfo& ReferenceModel::param_info(std::string_view name) const {
    const ParamInfo* p = impl_->find(name);
    if (!p) throw std::out_of_range("reference model: no parameter named " + std::string(name));
    return *p;
}

std::span<float> ReferenceModel::param(std::string_view name) {
    const ParamInfo& p = param_info(name);
    return {impl_->params.data() + p.offset, p.size};
}

std::span<float> ReferenceModel::grad(std::string_view name) {
    const ParamInfo& p = param_info(name);
    return {impl_->grads.data() + p.offset, p.size};
}

std::span<float> ReferenceModel::parameters() { return impl_->params.span(); }
std::span<float> ReferenceModel::gradients() { return impl_->grads.span(); }
std::size_t ReferenceModel::param_count() const { return impl_->params.size(); }
int ReferenceModel::steps_taken() const { return impl_->steps; }
const MemoryBooks& ReferenceModel::memory() const { return impl_->arena.stats(); }
void ReferenceModel::reset_peaks() { impl_->arena.reset_peaks(); }
const ModelSpec& ReferenceModel::spec() const { return impl_->spec; }
const TrainOptions& ReferenceModel::options() const { return impl_->opt; }

}  // namespace llmplan::reference
