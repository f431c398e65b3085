// model.cpp — the CPU reference training step: parameter layout, forward, backward with the
// three recompute modes, AdamW, and the memory books (model.h describes what is kept where).
#include "reference/model.h"

#include "core/error.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace llmplan::reference {

// --- arena and buffers -------------------------------------------------------------------------

void Arena::allocate(MemoryCategory c, std::size_t bytes) {
    const auto i = static_cast<std::size_t>(c);
    stats_.current[i] += bytes;
    stats_.total_current += bytes;
    if (stats_.current[i] > stats_.peak[i]) {
        stats_.peak[i] = stats_.current[i];
        stats_.peak_phase[i] = phase_;
    }
    if (stats_.total_current > stats_.total_peak) {
        stats_.total_peak = stats_.total_current;
        stats_.total_peak_phase = phase_;
    }
}

void Arena::release(MemoryCategory c, std::size_t bytes) {
    const auto i = static_cast<std::size_t>(c);
    if (bytes > stats_.current[i]) throw std::logic_error("Arena: releasing more than was allocated");
    stats_.current[i] -= bytes;
    stats_.total_current -= bytes;
}

void Arena::reset_peaks() {
    stats_.peak = stats_.current;
    stats_.peak_phase.fill(phase_);
    stats_.total_peak = stats_.total_current;
    stats_.total_peak_phase = phase_;
}

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

// The tensors of one layer's forward, by role (model.h lists which ones each mode keeps).
enum Field : int {
    f_ln1_mean, f_ln1_rstd, f_ln1_out, f_q, f_k, f_v, f_probs, f_lse, f_att,
    f_x_mid, f_ln2_mean, f_ln2_rstd, f_ln2_out, f_fc, f_up, f_act, kFields
};

using LayerBuffers = std::array<Buffer, kFields>;
using LayerView = std::array<float*, kFields>;

// Pointers into the flat parameter (or gradient) buffer for one layer; null where absent.
struct LayerParams {
    float *ln1_w = nullptr, *ln1_b = nullptr, *wq = nullptr, *bq = nullptr, *wk = nullptr, *bk = nullptr,
          *wv = nullptr, *bv = nullptr, *wo = nullptr, *bo = nullptr, *ln2_w = nullptr, *ln2_b = nullptr,
          *wg = nullptr, *bg = nullptr, *wu = nullptr, *bu = nullptr, *wd = nullptr, *bd = nullptr;
};

struct ModelParams {
    float *wte = nullptr, *wpe = nullptr, *lnf_w = nullptr, *lnf_b = nullptr, *head = nullptr;
    std::vector<LayerParams> layers;
};

// splitmix64 (Steele et al. 2014): a tiny generator with the same output everywhere.
struct SplitMix64 {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() {  // (0, 1]
        return (static_cast<double>(next() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    }
};

void add_into(float* y, const float* x, size_t n) {
    for (size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace

struct ReferenceModel::Impl {
    ModelSpec spec;
    TrainOptions opt;
    Arena arena;
    std::vector<ParamInfo> infos;
    Buffer params, grads, m, v;
    ModelParams P, G;  // parameter and gradient views with the same layout
    int steps = 0;

    // Geometry of the current pass.
    int B = 0, S = 0, T = 0;
    int d = 0, L = 0, H = 0, KVH = 0, hd = 0, qd = 0, kvd = 0, f = 0, V = 0;
    bool layernorm = true, swiglu = false, rotary = false, eager = false;

    // Forward state kept for the backward.
    std::vector<Buffer> resid;             // resid[l]: input of layer l; resid[L]: final-norm input
    std::vector<LayerBuffers> saved;       // per layer, the fields the mode keeps
    LayerBuffers scratch;                  // the fields it does not keep (workspace, one layer)
    Buffer lnf_mean, lnf_rstd, lnf_out, logits;
    std::vector<int> ids_copy;
    Recompute mode = Recompute::none;

    // ---- setup ----

    Impl(const ModelSpec& s, const TrainOptions& o, std::uint64_t seed) : spec(s), opt(o) {
        check_engine_supports(spec, "reference model", "the CPU reference");
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

        // Layout: embeddings, layer 0 … L−1 (each in param_tensors() order), final norm, head.
        const std::vector<ParamTensor> tensors = param_tensors(spec);
        size_t offset = 0;
        auto push = [&](const ParamTensor& t, std::string name) {
            ParamInfo p;
            p.name = std::move(name);
            p.offset = offset;
            p.size = static_cast<size_t>(t.elements());
            p.rows = t.rows;
            p.cols = t.cols;
            p.decay = t.is_matrix();
            offset += p.size;
            infos.push_back(std::move(p));
        };
        for (const ParamTensor& t : tensors)
            if (t.block == Block::embedding) push(t, t.name);
        for (int l = 0; l < L; ++l)
            for (const ParamTensor& t : tensors)
                if (t.block == Block::layer) {
                    std::string name = t.name;
                    const size_t star = name.find('*');
                    if (star == std::string::npos || name.find('*', star + 1) != std::string::npos)
                        throw std::logic_error("reference model: unexpected tensor name " + name);
                    name.replace(star, 1, std::to_string(l));
                    push(t, name);
                }
        for (const ParamTensor& t : tensors)
            if (t.block == Block::final_norm || t.block == Block::head) push(t, t.name);

        params = Buffer(arena, MemoryCategory::parameters, offset);
        grads = Buffer(arena, MemoryCategory::gradients, offset);
        m = Buffer(arena, MemoryCategory::optimizer, offset);
        v = Buffer(arena, MemoryCategory::optimizer, offset);
        P = views(params.data());
        G = views(grads.data());
        init(seed);
        saved.resize(sz(L));
        resid.resize(sz(L + 1));
    }

    const ParamInfo* find(std::string_view name) const {
        for (const ParamInfo& p : infos)
            if (p.name == name) return &p;
        return nullptr;
    }

    ModelParams views(float* base) const {
        auto at = [&](const std::string& name) -> float* {
            const ParamInfo* p = find(name);
            return p ? base + p->offset : nullptr;
        };
        ModelParams mp;
        mp.wte = at("embed_tokens.weight");
        mp.wpe = at("embed_positions.weight");
        mp.lnf_w = at("final_norm.weight");
        mp.lnf_b = at("final_norm.bias");
        mp.head = spec.tied_embeddings ? mp.wte : at("lm_head.weight");
        for (int l = 0; l < L; ++l) {
            const std::string p = "layers." + std::to_string(l) + ".";
            LayerParams lp;
            lp.ln1_w = at(p + "attn_norm.weight");
            lp.ln1_b = at(p + "attn_norm.bias");
            lp.wq = at(p + "attn.q_proj.weight");
            lp.bq = at(p + "attn.q_proj.bias");
            lp.wk = at(p + "attn.k_proj.weight");
            lp.bk = at(p + "attn.k_proj.bias");
            lp.wv = at(p + "attn.v_proj.weight");
            lp.bv = at(p + "attn.v_proj.bias");
            lp.wo = at(p + "attn.o_proj.weight");
            lp.bo = at(p + "attn.o_proj.bias");
            lp.ln2_w = at(p + "mlp_norm.weight");
            lp.ln2_b = at(p + "mlp_norm.bias");
            lp.wg = at(p + "mlp.gate_proj.weight");
            lp.bg = at(p + "mlp.gate_proj.bias");
            lp.wu = at(p + "mlp.up_proj.weight");
            lp.bu = at(p + "mlp.up_proj.bias");
            lp.wd = at(p + "mlp.down_proj.weight");
            lp.bd = at(p + "mlp.down_proj.bias");
            mp.layers.push_back(lp);
        }
        return mp;
    }

    void init(std::uint64_t seed) {
        SplitMix64 rng{seed};
        constexpr double two_pi = 6.283185307179586;
        for (const ParamInfo& p : infos) {
            float* w = params.data() + p.offset;
            const bool is_bias = p.name.ends_with(".bias");
            const bool is_norm = p.name.find("norm") != std::string::npos;
            if (p.rows > 1 && p.cols > 1) {
                for (size_t i = 0; i < p.size; i += 2) {  // Box–Muller: two normals per pair of uniforms
                    const double r = std::sqrt(-2.0 * std::log(rng.uniform())), a = two_pi * rng.uniform();
                    w[i] = static_cast<float>(opt.init_std * r * std::cos(a));
                    if (i + 1 < p.size) w[i + 1] = static_cast<float>(opt.init_std * r * std::sin(a));
                }
            } else {
                const float value = is_norm && !is_bias ? 1.0f : 0.0f;
                for (size_t i = 0; i < p.size; ++i) w[i] = value;
            }
        }
    }

    // ---- geometry and storage ----

    void begin(std::span<const int> ids, std::span<const int> targets, int batch, int seq) {
        if (batch <= 0 || seq <= 0)
            throw InputError("reference model: batch and sequence must be positive (got " + std::to_string(batch) + " × " +
                             std::to_string(seq) + ")");
        if (spec.position == PositionEmbedding::learned && seq > spec.max_positions)
            throw InputError("reference model: sequence " + std::to_string(seq) + " exceeds the " +
                             std::to_string(spec.max_positions) + " learned positions");
        const auto tokens = static_cast<std::int64_t>(batch) * seq;
        if (tokens > std::numeric_limits<int>::max()) throw InputError("reference model: too many tokens in one pass");
        if (ids.size() != static_cast<size_t>(tokens) || targets.size() != static_cast<size_t>(tokens))
            throw InputError("reference model: ids and targets must hold batch × sequence = " + std::to_string(tokens) +
                             " tokens (got " + std::to_string(ids.size()) + " and " + std::to_string(targets.size()) + ")");
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
        ids_copy.assign(ids.begin(), ids.end());
    }

    size_t field_size(int fld) const {
        const size_t t = sz(T);
        switch (fld) {
            case f_ln1_mean: case f_ln2_mean: return layernorm ? t : 0;
            case f_ln1_rstd: case f_ln2_rstd: return t;
            case f_ln1_out: case f_x_mid: case f_ln2_out: return t * sz(d);
            case f_q: case f_att: return t * sz(qd);
            case f_k: case f_v: return t * sz(kvd);
            case f_probs: return eager ? sz(B) * sz(H) * sz(S) * sz(S) : 0;
            case f_lse: return eager ? 0 : sz(B) * sz(H) * sz(S);
            case f_fc: case f_act: return t * sz(f);
            case f_up: return swiglu ? t * sz(f) : 0;
            default: return 0;
        }
    }

    static bool kept(int fld, Recompute r) {
        switch (r) {
            case Recompute::none: return true;
            case Recompute::selective: return fld != f_probs && fld != f_lse;
            case Recompute::full: return false;
        }
        return false;
    }

    float* scratch_field(int fld) {
        const size_t n = field_size(fld);
        if (n == 0) return nullptr;
        Buffer& b = scratch[sz(fld)];
        if (b.size() != n) b = Buffer(arena, MemoryCategory::workspace, n);
        return b.data();
    }

    // Pointers for layer l: kept fields from saved[l] (allocated if `allocate`), the rest scratch.
    LayerView layer_view(int l, bool train, bool allocate) {
        LayerView view{};
        for (int fld = 0; fld < kFields; ++fld) {
            const size_t n = field_size(fld);
            if (n == 0) continue;
            if (train && kept(fld, mode)) {
                Buffer& b = saved[sz(l)][sz(fld)];
                if (allocate) b = Buffer(arena, MemoryCategory::activations, n);
                view[sz(fld)] = b.data();
            } else {
                view[sz(fld)] = scratch_field(fld);
            }
        }
        return view;
    }

    void release_forward_state() {
        for (Buffer& b : resid) b.reset();
        for (LayerBuffers& lb : saved)
            for (Buffer& b : lb) b.reset();
        for (Buffer& b : scratch) b.reset();
        lnf_mean.reset();
        lnf_rstd.reset();
        lnf_out.reset();
        logits.reset();
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
        attention_forward(a[f_q], a[f_k], a[f_v], a[f_att], a[f_probs], a[f_lse], B, S, H, KVH, hd, eager);
    }

    // One layer's forward from x into the view; x_out null: stop before the down projection (the
    // recompute in the backward needs everything but the layer's output).
    void layer_forward(const LayerParams& p, const float* x, const LayerView& a, float* x_out) const {
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        norm_forward(x, p.ln1_w, p.ln1_b, a[f_ln1_out], a[f_ln1_mean], a[f_ln1_rstd]);
        linear_forward(a[f_ln1_out], p.wq, p.bq, a[f_q], T, d, qd);
        linear_forward(a[f_ln1_out], p.wk, p.bk, a[f_k], T, d, kvd);
        linear_forward(a[f_ln1_out], p.wv, p.bv, a[f_v], T, d, kvd);
        if (rotary) {
            rotary_forward(a[f_q], B, S, H, hd, opt.rope_base);
            rotary_forward(a[f_k], B, S, KVH, hd, opt.rope_base);
        }
        attention_core(a);
        linear_forward(a[f_att], p.wo, p.bo, a[f_x_mid], T, qd, d);
        add_into(a[f_x_mid], x, td);
        norm_forward(a[f_x_mid], p.ln2_w, p.ln2_b, a[f_ln2_out], a[f_ln2_mean], a[f_ln2_rstd]);
        if (swiglu) {
            linear_forward(a[f_ln2_out], p.wg, p.bg, a[f_fc], T, d, f);
            linear_forward(a[f_ln2_out], p.wu, p.bu, a[f_up], T, d, f);
            swiglu_forward(a[f_fc], a[f_up], a[f_act], tf);
        } else {
            linear_forward(a[f_ln2_out], p.wu, p.bu, a[f_fc], T, d, f);
            gelu_forward(a[f_fc], a[f_act], tf);
        }
        if (!x_out) return;
        linear_forward(a[f_act], p.wd, p.bd, x_out, T, f, d);
        add_into(x_out, a[f_x_mid], td);
    }

    // Gradient workspace of the backward.
    struct GradWork {
        Buffer res, ln, tmp, att, dq, dk, dv, act, fc, up;
    };

    // d.res holds dL/d(x_out) on entry and dL/d(x) on exit.
    void layer_backward(const LayerParams& p, LayerParams& g, const float* x, const LayerView& a, GradWork& w) const {
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        // MLP.
        linear_backward(a[f_act], p.wd, w.res.data(), w.act.data(), g.wd, g.bd, T, f, d);
        if (swiglu) {
            swiglu_backward(a[f_fc], a[f_up], w.act.data(), w.fc.data(), w.up.data(), tf);
            linear_backward(a[f_ln2_out], p.wg, w.fc.data(), w.ln.data(), g.wg, g.bg, T, d, f);
            linear_backward(a[f_ln2_out], p.wu, w.up.data(), w.tmp.data(), g.wu, g.bu, T, d, f);
            add_into(w.ln.data(), w.tmp.data(), td);
        } else {
            gelu_backward(a[f_fc], w.act.data(), w.fc.data(), tf);
            linear_backward(a[f_ln2_out], p.wu, w.fc.data(), w.ln.data(), g.wu, g.bu, T, d, f);
        }
        norm_backward(a[f_x_mid], p.ln2_w, a[f_ln2_mean], a[f_ln2_rstd], w.ln.data(), w.tmp.data(), g.ln2_w, g.ln2_b);
        add_into(w.res.data(), w.tmp.data(), td);  // residual: dL/dx_mid
        // Attention.
        linear_backward(a[f_att], p.wo, w.res.data(), w.att.data(), g.wo, g.bo, T, qd, d);
        attention_backward(a[f_q], a[f_k], a[f_v], a[f_att], a[f_probs], a[f_lse], w.att.data(), w.dq.data(), w.dk.data(),
                           w.dv.data(), B, S, H, KVH, hd, eager);
        if (rotary) {
            rotary_backward(w.dq.data(), B, S, H, hd, opt.rope_base);
            rotary_backward(w.dk.data(), B, S, KVH, hd, opt.rope_base);
        }
        linear_backward(a[f_ln1_out], p.wq, w.dq.data(), w.ln.data(), g.wq, g.bq, T, d, qd);
        linear_backward(a[f_ln1_out], p.wk, w.dk.data(), w.tmp.data(), g.wk, g.bk, T, d, kvd);
        add_into(w.ln.data(), w.tmp.data(), td);
        linear_backward(a[f_ln1_out], p.wv, w.dv.data(), w.tmp.data(), g.wv, g.bv, T, d, kvd);
        add_into(w.ln.data(), w.tmp.data(), td);
        norm_backward(x, p.ln1_w, a[f_ln1_mean], a[f_ln1_rstd], w.ln.data(), w.tmp.data(), g.ln1_w, g.ln1_b);
        add_into(w.res.data(), w.tmp.data(), td);  // residual: dL/dx
    }

    // ---- passes ----

    // Forward over the batch set by begin(). train: keep what the backward needs (per the
    // recompute mode) and leave dlogits in `logits`; otherwise keep nothing. Returns the loss.
    float forward(std::span<const int> targets, bool train) {
        arena.set_phase(MemoryPhase::forward);
        mode = opt.recompute;
        const size_t td = sz(T) * sz(d);
        const MemoryCategory keep = train ? MemoryCategory::activations : MemoryCategory::workspace;
        // Residual stream: one buffer per layer boundary when training; two, alternating, otherwise.
        Buffer pingpong[2];
        std::vector<float*> x(sz(L + 1));
        for (int l = 0; l <= L; ++l) {
            if (train) {
                resid[sz(l)] = Buffer(arena, MemoryCategory::activations, td);
                x[sz(l)] = resid[sz(l)].data();
            } else {
                if (pingpong[l % 2].empty()) pingpong[l % 2] = Buffer(arena, MemoryCategory::workspace, td);
                x[sz(l)] = pingpong[l % 2].data();
            }
            if (l == 0) {
                embedding_forward(P.wte, ids_copy.data(), x[0], T, d);
                if (P.wpe)
                    for (int t = 0; t < T; ++t) add_into(x[0] + sz(t) * sz(d), P.wpe + sz(t % S) * sz(d), sz(d));
            } else {
                const LayerView a = layer_view(l - 1, train, true);
                layer_forward(P.layers[sz(l - 1)], x[sz(l - 1)], a, x[sz(l)]);
            }
        }
        if (layernorm) lnf_mean = Buffer(arena, keep, sz(T));
        lnf_rstd = Buffer(arena, keep, sz(T));
        lnf_out = Buffer(arena, keep, td);
        norm_forward(x[sz(L)], P.lnf_w, P.lnf_b, lnf_out.data(), lnf_mean.data(), lnf_rstd.data());
        logits = Buffer(arena, MemoryCategory::logits, sz(T) * sz(V));
        linear_forward(lnf_out.data(), P.head, nullptr, logits.data(), T, d, V);
        float loss;
        if (train) {
            // Fused: the gradient overwrites the logits in place.
            loss = cross_entropy_forward_backward(logits.data(), targets.data(), logits.data(), T, V);
        } else {
            loss = cross_entropy_forward(logits.data(), targets.data(), T, V);
            release_forward_state();
        }
        arena.set_phase(MemoryPhase::idle);
        return loss;
    }

    void backward() {
        arena.set_phase(MemoryPhase::backward);
        const size_t td = sz(T) * sz(d), tf = sz(T) * sz(f);
        GradWork w;
        w.ln = Buffer(arena, MemoryCategory::workspace, td);
        // lm_head (tied: into the token embedding's gradient); logits hold dlogits.
        linear_backward(lnf_out.data(), P.head, logits.data(), w.ln.data(), G.head, nullptr, T, d, V);
        logits.reset();
        lnf_out.reset();
        w.res = Buffer(arena, MemoryCategory::workspace, td);
        w.tmp = Buffer(arena, MemoryCategory::workspace, td);
        norm_backward(resid[sz(L)].data(), P.lnf_w, lnf_mean.data(), lnf_rstd.data(), w.ln.data(), w.res.data(), G.lnf_w,
                      G.lnf_b);
        lnf_mean.reset();
        lnf_rstd.reset();
        w.att = Buffer(arena, MemoryCategory::workspace, sz(T) * sz(qd));
        w.dq = Buffer(arena, MemoryCategory::workspace, sz(T) * sz(qd));
        w.dk = Buffer(arena, MemoryCategory::workspace, sz(T) * sz(kvd));
        w.dv = Buffer(arena, MemoryCategory::workspace, sz(T) * sz(kvd));
        w.act = Buffer(arena, MemoryCategory::workspace, tf);
        w.fc = Buffer(arena, MemoryCategory::workspace, tf);
        if (swiglu) w.up = Buffer(arena, MemoryCategory::workspace, tf);
        for (int l = L - 1; l >= 0; --l) {
            resid[sz(l + 1)].reset();  // layer l's output: no longer needed
            const LayerView a = layer_view(l, true, false);
            const float* x = resid[sz(l)].data();
            if (mode == Recompute::full) layer_forward(P.layers[sz(l)], x, a, nullptr);
            if (mode == Recompute::selective) attention_core(a);  // rewrites the kept output with the same values
            layer_backward(P.layers[sz(l)], G.layers[sz(l)], x, a, w);
            for (Buffer& b : saved[sz(l)]) b.reset();
        }
        embedding_backward(ids_copy.data(), w.res.data(), G.wte, T, d);
        if (G.wpe)
            for (int t = 0; t < T; ++t) add_into(G.wpe + sz(t % S) * sz(d), w.res.data() + sz(t) * sz(d), sz(d));
        release_forward_state();
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

void check_engine_supports(const ModelSpec& spec, const std::string& who, const std::string& engine) {
    validate_model(spec, who + " " + spec.name);
    auto refuse = [&](const std::string& what) {
        throw InputError(who + " " + spec.name + ": " + what + " is not supported by " + engine);
    };
    if (spec.is_moe()) refuse("mixture of experts");
    if (spec.position == PositionEmbedding::relative) refuse("relative position embedding");
    if (spec.parallel_residual) refuse("parallel residual");
    if (spec.position == PositionEmbedding::rotary && spec.rotary_pct != 1.0) refuse("partial rotary (rotary_pct < 1)");
    if (spec.position == PositionEmbedding::rotary && spec.head_dim % 2 != 0) refuse("rotary with an odd head_dim");
    if (spec.sliding_window != 0) refuse("sliding-window attention");
    if (spec.vocab_size > std::numeric_limits<int>::max() || spec.max_positions > std::numeric_limits<int>::max())
        refuse("a vocabulary or context over 2^31");
}

ReferenceModel::ReferenceModel(const ModelSpec& spec, const TrainOptions& options, std::uint64_t seed)
    : impl_(std::make_unique<Impl>(spec, options, seed)) {}
ReferenceModel::~ReferenceModel() = default;
ReferenceModel::ReferenceModel(ReferenceModel&&) noexcept = default;
ReferenceModel& ReferenceModel::operator=(ReferenceModel&&) noexcept = default;

float ReferenceModel::forward_backward(std::span<const int> ids, std::span<const int> targets, int B, int S,
                                       bool accumulate) {
    impl_->begin(ids, targets, B, S);
    if (!accumulate) impl_->zero_grad();
    const float loss = impl_->forward(targets, true);
    impl_->backward();
    return loss;
}

float ReferenceModel::loss_only(std::span<const int> ids, std::span<const int> targets, int B, int S) {
    impl_->begin(ids, targets, B, S);
    return impl_->forward(targets, false);
}

float ReferenceModel::optimizer_step(const AdamW& opt) { return impl_->optimizer(opt); }

StepStats ReferenceModel::train_step(std::span<const int> ids, std::span<const int> targets, int B, int S,
                                     const AdamW& opt) {
    using clock = std::chrono::steady_clock;
    auto seconds = [](clock::time_point a, clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
    StepStats st;
    const auto t0 = clock::now();
    impl_->begin(ids, targets, B, S);
    impl_->zero_grad();
    st.loss = impl_->forward(targets, true);
    const auto t1 = clock::now();
    impl_->backward();
    const auto t2 = clock::now();
    st.grad_norm = impl_->optimizer(opt);
    const auto t3 = clock::now();
    st.forward_s = seconds(t0, t1);
    st.backward_s = seconds(t1, t2);
    st.optimizer_s = seconds(t2, t3);
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
const MemoryStats& ReferenceModel::memory() const { return impl_->arena.stats(); }
void ReferenceModel::reset_peaks() { impl_->arena.reset_peaks(); }
const ModelSpec& ReferenceModel::spec() const { return impl_->spec; }
const TrainOptions& ReferenceModel::options() const { return impl_->opt; }

}  // namespace llmplan::reference
