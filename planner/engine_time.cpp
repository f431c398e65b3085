// engine_time.cpp — the engine's kernel list and its calibrated time; see engine_time.h.
#include "planner/engine_time.h"

#include "core/error.h"
#include "core/json.h"
#include "engine/logits_stride.h"
#include "planner/perf.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace llmplan {

namespace {

constexpr std::array<const char*, kEngineKernels> kKernelNames = {
    "linear_forward", "linear_backward",
    "layernorm_forward", "layernorm_backward", "rmsnorm_forward", "rmsnorm_backward",
    "gelu_forward", "gelu_backward", "swiglu_forward", "swiglu_backward",
    "rotary_forward", "rotary_backward", "residual_add",
    "attention_eager_forward", "attention_eager_backward", "attention_flash_forward", "attention_flash_backward",
    "cross_entropy", "embedding_forward", "embedding_backward",
    "zero_grad", "global_norm", "adamw", "check_nonfinite"};

// The number of dimensions each kernel's key has (engine_time.h).
int dims_of(EngineKernel k) {
    switch (k) {
        case EngineKernel::linear_forward:
        case EngineKernel::linear_backward: return 6;
        case EngineKernel::layernorm_forward:
        case EngineKernel::layernorm_backward:
        case EngineKernel::rmsnorm_forward:
        case EngineKernel::rmsnorm_backward:
        case EngineKernel::cross_entropy: return 2;
        case EngineKernel::rotary_forward:
        case EngineKernel::rotary_backward: return 4;
        case EngineKernel::attention_eager_forward:
        case EngineKernel::attention_eager_backward:
        case EngineKernel::attention_flash_forward:
        case EngineKernel::attention_flash_backward: return 5;
        case EngineKernel::embedding_forward:
        case EngineKernel::embedding_backward: return 3;
        default: return 1;
    }
}

bool is_attention(EngineKernel k) {
    return k == EngineKernel::attention_eager_forward || k == EngineKernel::attention_eager_backward ||
           k == EngineKernel::attention_flash_forward || k == EngineKernel::attention_flash_backward;
}
bool is_linear(EngineKernel k) { return k == EngineKernel::linear_forward || k == EngineKernel::linear_backward; }

// The analytic work of one call: FLOPs of its matmuls and the bytes it must move through HBM if
// each operand is read or written once (e = bytes of the storage type; statistics, the flash
// log-sum-exp, master weights and AdamW moments are fp32). Used to carry a measured time from
// one shape to another (engine_time.h) and for the uncalibrated roofline.
}  // namespace

void fill_engine_kernel_work(EngineKernelCall& c) {
    const double e = static_cast<double>(dtype_bytes(c.dtype));
    auto D = [&](std::size_t i) { return static_cast<double>(c.dims.at(i)); };
    double f = 0, b = 0;
    switch (c.kernel) {
        case EngineKernel::linear_forward: {  // y = x·Wᵀ + b: 2·T·k·n (GELU: the pre-activation written too)
            const double T = D(0), k = D(1), n = D(2), bias = D(3), gelu = D(5);
            f = 2 * T * k * n;
            b = e * (T * k + n * k + T * n + bias * n + gelu * T * n);
            break;
        }
        case EngineKernel::linear_backward: {  // dx = dy·W, dW += dyᵀ·x: 4·T·k·n; db += Σ dy (GELU: pre read)
            const double T = D(0), k = D(1), n = D(2), bias = D(3), gelu = D(5);
            f = 4 * T * k * n;
            b = e * (2 * T * n + 2 * T * k + 3 * n * k) + bias * e * (T * n + 2 * n) + gelu * e * T * k;
            break;
        }
        case EngineKernel::layernorm_forward: b = e * (2 * D(0) * D(1) + 2 * D(1)) + 8 * D(0); break;
        case EngineKernel::rmsnorm_forward: b = e * (2 * D(0) * D(1) + D(1)) + 4 * D(0); break;
        case EngineKernel::layernorm_backward: b = e * (3 * D(0) * D(1) + 5 * D(1)) + 8 * D(0); break;
        case EngineKernel::rmsnorm_backward: b = e * (3 * D(0) * D(1) + 3 * D(1)) + 4 * D(0); break;
        case EngineKernel::gelu_forward: b = 2 * e * D(0); break;
        case EngineKernel::gelu_backward:
        case EngineKernel::swiglu_forward:
        case EngineKernel::residual_add: b = 3 * e * D(0); break;
        case EngineKernel::swiglu_backward: b = 5 * e * D(0); break;
        case EngineKernel::rotary_forward:
        case EngineKernel::rotary_backward: b = 2 * e * D(0) * D(1) * D(2) * D(3); break;
        case EngineKernel::attention_flash_forward:
        case EngineKernel::attention_flash_backward:
        case EngineKernel::attention_eager_forward:
        case EngineKernel::attention_eager_backward: {
            const double B = D(0), S = D(1), H = D(2), KV = D(3), hd = D(4);
            const double qkvo = e * B * S * (2 * H * hd + 2 * KV * hd);  // q and out, k and v
            const double sq = B * H * S * S * hd;                        // one full S×S×hd matmul / 2
            switch (c.kernel) {
                // Causal flash kernels skip the masked half: QKᵀ and PV are 2 × 2·S²·hd / 2 per head.
                case EngineKernel::attention_flash_forward: f = 2 * sq; b = qkvo + 4 * B * H * S; break;
                // Backward: QKᵀ again, dV, dP, dQ, dK: 5 matmuls over the causal half.
                case EngineKernel::attention_flash_backward: f = 5 * sq; b = 2 * qkvo + 8 * B * H * S; break;
                // Eager: full batched GEMMs (the mask is applied afterwards): 2 in the forward, 4 backward,
                // with the [B, heads, S, S] scores written and read.
                case EngineKernel::attention_eager_forward: f = 4 * sq; b = qkvo + 3 * e * B * H * S * S; break;
                default: f = 8 * sq; b = 2 * qkvo + 4 * e * B * H * S * S; break;
            }
            break;
        }
        case EngineKernel::cross_entropy: b = 3 * e * D(0) * D(1) + 8 * D(0); break;  // two reads, one write
        case EngineKernel::embedding_forward: b = 2 * e * D(0) * D(1); break;
        case EngineKernel::embedding_backward: b = 3 * e * D(0) * D(1); break;
        case EngineKernel::zero_grad: b = D(0); break;
        case EngineKernel::global_norm: b = e * D(0); break;
        case EngineKernel::check_nonfinite: b = e * D(0); break;  // reads the gradients once
        case EngineKernel::adamw:  // fp32 weight, m, v read and written, the gradient read, the copy written
            b = D(0) * (24 + e + (c.dtype == DType::fp32 ? 0 : e));
            break;
    }
    c.flops = f;
    c.bytes = b;
}

namespace {

// Groups calls of identical (kernel, dims, phase) as the step list is built.
class StepList {
public:
    explicit StepList(DType dtype) : dtype_(dtype) {}
    void add(EngineKernel k, std::vector<std::int64_t> dims, EngineTimePhase phase, double calls = 1) {
        for (EngineKernelCall& c : calls_)
            if (c.kernel == k && c.phase == phase && c.dims == dims) {
                c.calls += calls;
                return;
            }
        EngineKernelCall c;
        c.kernel = k;
        c.dtype = dtype_;
        c.dims = std::move(dims);
        c.phase = phase;
        c.calls = calls;
        fill_engine_kernel_work(c);
        calls_.push_back(std::move(c));
    }
    std::vector<EngineKernelCall> take() { return std::move(calls_); }

private:
    DType dtype_;
    std::vector<EngineKernelCall> calls_;
};

double roofline_seconds(const EngineKernelCall& c, const GpuSpec& g) {
    const double peak = c.dtype == DType::fp32 ? g.peak_fp32 : c.dtype == DType::fp16 ? g.peak_fp16 : g.peak_bf16;
    // Matmuls at the architecture's GEMM efficiency (perf.h); attention kernels at half of it (a
    // guess: they are fused kernels with softmax work between the matmuls).
    const double eff = gemm_efficiency_for(g) * (is_attention(c.kernel) ? 0.5 : 1.0);
    const double compute = c.flops > 0 && peak > 0 ? c.flops / (peak * eff) : 0;
    return compute + c.bytes / (0.8 * g.memory_bandwidth) + 4e-6;
}

double work_of(const EngineKernelCall& c) { return c.flops > 0 ? c.flops : c.bytes; }

// The leading dimensions that set a kernel's size rather than its shape (engine_time.h).
std::size_t size_dims(EngineKernel k) {
    return is_attention(k) || k == EngineKernel::rotary_forward || k == EngineKernel::rotary_backward ? 2 : 1;
}

// The nearest measured works below (or equal) and above a call's, and the time the rule of
// engine_time.h gives from them.
struct Bracket {
    double below_work = 0, below_t = 0, above_work = std::numeric_limits<double>::infinity(), above_t = 0;
    void add(double w, double t, double target) {
        if (w <= 0) return;
        if (w <= target && w > below_work) {
            below_work = w;
            below_t = t;
        }
        if (w > target && w < above_work) {
            above_work = w;
            above_t = t;
        }
    }
    bool found() const { return below_work > 0 || above_t > 0; }
    double seconds(double work) const {
        if (below_work > 0 && above_t > 0) return std::max(below_t, above_t * work / above_work);
        if (above_t > 0) return above_t * work / above_work;
        return below_t * work / below_work;
    }
};

}  // namespace

const char* to_string(EngineKernel k) { return kKernelNames[static_cast<std::size_t>(k)]; }

std::optional<EngineKernel> parse_engine_kernel(std::string_view name) {
    for (std::size_t i = 0; i < kKernelNames.size(); ++i)
        if (name == kKernelNames[i]) return static_cast<EngineKernel>(i);
    return std::nullopt;
}

const char* to_string(EngineTimePhase p) {
    switch (p) {
        case EngineTimePhase::forward: return "forward";
        case EngineTimePhase::backward: return "backward";
        case EngineTimePhase::optimizer: return "optimizer";
    }
    return "?";
}

const char* to_string(KernelTimeSource s) {
    switch (s) {
        case KernelTimeSource::measured: return "measured";
        case KernelTimeSource::interpolated: return "interpolated";
        case KernelTimeSource::scaled: return "scaled";
        case KernelTimeSource::roofline: return "roofline";
    }
    return "?";
}

DType engine_dtype(Precision p) {
    switch (p) {
        case Precision::fp32: return DType::fp32;
        case Precision::mixed_bf16: return DType::bf16;
        case Precision::mixed_fp16: return DType::fp16;
        default: break;
    }
    throw InputError(std::string("--precision ") + to_string(p) +
                     ": the engine runs fp32, mixed-bf16 and mixed-fp16 (--framework llmplan)");
}

// The engine's step, call by call, as kernels/cuda/engine.cu issues it (GpuModel::Impl::forward,
// layer_forward, backward, layer_backward, optimizer).
std::vector<EngineKernelCall> engine_step_kernels(const ModelSpec& m, const TrainConfig& c) {
    if (m.is_moe() || m.position == PositionEmbedding::relative || m.parallel_residual || m.rotary_pct < 1 ||
        m.sliding_window > 0)
        throw InputError("--framework llmplan: the engine trains GPT-2 and Llama-style decoders (no MoE, relative "
                         "positions, parallel residual, partial rotary or sliding window)");
    if (c.parallel.gpus != 1)
        throw InputError("--framework llmplan: the engine's time model covers one device (multi-GPU is issue 8)");
    StepList s(engine_dtype(c.precision));
    using K = EngineKernel;
    using P = EngineTimePhase;
    const std::int64_t B = c.micro_batch, S = c.seq, T = B * S, d = m.d_model, q = m.q_dim(), kv = m.kv_dim(),
                       f = m.d_ff, V = m.vocab_size, L = m.n_layers, H = m.n_heads, KVH = m.n_kv_heads,
                       hd = m.head_dim;
    const bool ln = m.norm == Norm::layernorm, swiglu = m.activation == Activation::swiglu,
               rotary = m.position == PositionEmbedding::rotary, learned = m.position == PositionEmbedding::learned,
               eager = c.attention == Attention::eager;
    const std::int64_t qkv_b = m.qkv_bias ? 1 : 0, out_b = m.out_bias ? 1 : 0, mlp_b = m.mlp_bias ? 1 : 0;
    const K norm_f = ln ? K::layernorm_forward : K::rmsnorm_forward, norm_b = ln ? K::layernorm_backward : K::rmsnorm_backward;
    const K att_f = eager ? K::attention_eager_forward : K::attention_flash_forward,
            att_b = eager ? K::attention_eager_backward : K::attention_flash_backward;
    const std::vector<std::int64_t> att_dims = {B, S, H, KVH, hd};
    // GPT-2's GELU runs in cuBLASLt's epilogues in 16-bit storage when d_ff is a multiple of 8
    // (kernels/cuda/linear.cu, fused_gelu).
    const bool gelu_fused = !swiglu && c.precision != Precision::fp32 && f % 8 == 0;
    const std::int64_t N = count_params(m).total();

    // layer_forward: with_out = false is the full-recompute re-run (stops after the activation).
    auto layer_forward = [&](P ph, double n, bool with_out) {
        s.add(norm_f, {T, d}, ph, n);
        s.add(K::linear_forward, {T, d, q, qkv_b, q, 0}, ph, n);
        s.add(K::linear_forward, {T, d, kv, qkv_b, kv, 0}, ph, 2 * n);
        if (rotary) {
            s.add(K::rotary_forward, {B, S, H, hd}, ph, n);
            s.add(K::rotary_forward, {B, S, KVH, hd}, ph, n);
        }
        s.add(att_f, att_dims, ph, n);
        s.add(K::linear_forward, {T, q, d, out_b, d, 0}, ph, n);
        s.add(K::residual_add, {T * d}, ph, n);
        s.add(norm_f, {T, d}, ph, n);
        if (swiglu) {
            s.add(K::linear_forward, {T, d, f, mlp_b, f, 0}, ph, 2 * n);
            s.add(K::swiglu_forward, {T * f}, ph, n);
        } else if (gelu_fused) {  // the GELU in the fc GEMM's epilogue (kernels/cuda/linear.cu)
            s.add(K::linear_forward, {T, d, f, mlp_b, f, 1}, ph, n);
        } else {
            s.add(K::linear_forward, {T, d, f, mlp_b, f, 0}, ph, n);
            s.add(K::gelu_forward, {T * f}, ph, n);
        }
        if (!with_out) return;
        s.add(K::linear_forward, {T, f, d, mlp_b, d, 0}, ph, n);
        s.add(K::residual_add, {T * d}, ph, n);
    };

    // Forward phase (the step's first event precedes zero_grad).
    s.add(K::zero_grad, {N * static_cast<std::int64_t>(dtype_bytes(engine_dtype(c.precision)))}, P::forward);
    s.add(K::embedding_forward, {T, d, V}, P::forward);
    if (learned) {
        s.add(K::embedding_forward, {T, d, m.max_positions}, P::forward);
        s.add(K::residual_add, {T * d}, P::forward);
    }
    layer_forward(P::forward, static_cast<double>(L), true);
    s.add(norm_f, {T, d}, P::forward);
    // The output layer writes the logits with their padded row stride (kernels/engine.h).
    const std::int64_t Vrow = dist::logits_row_stride(V, c.precision != Precision::fp32);
    s.add(K::linear_forward, {T, d, V, 0, Vrow, 0}, P::forward);
    s.add(K::cross_entropy, {T, V}, P::forward);

    // Backward phase.
    const double nL = static_cast<double>(L);
    s.add(K::linear_backward, {T, d, V, 0, Vrow, 0}, P::backward);
    s.add(norm_b, {T, d}, P::backward);
    if (c.recompute == Recompute::full) layer_forward(P::backward, nL, false);
    if (c.recompute == Recompute::selective) s.add(att_f, att_dims, P::backward, nL);
    // The down projection; GPT-2 in 16-bit storage: its dx through GELU' in the same GEMM.
    s.add(K::linear_backward, {T, f, d, mlp_b, d, gelu_fused ? 1 : 0}, P::backward, nL);
    if (swiglu) {
        s.add(K::swiglu_backward, {T * f}, P::backward, nL);
        s.add(K::linear_backward, {T, d, f, mlp_b, f, 0}, P::backward, 2 * nL);  // up's dx accumulates into gate's
    } else {
        if (!gelu_fused) s.add(K::gelu_backward, {T * f}, P::backward, nL);
        s.add(K::linear_backward, {T, d, f, mlp_b, f, 0}, P::backward, nL);
    }
    s.add(norm_b, {T, d}, P::backward, nL);
    s.add(K::residual_add, {T * d}, P::backward, nL);
    s.add(K::linear_backward, {T, q, d, out_b, d, 0}, P::backward, nL);
    s.add(att_b, att_dims, P::backward, nL);
    if (rotary) {
        s.add(K::rotary_backward, {B, S, H, hd}, P::backward, nL);
        s.add(K::rotary_backward, {B, S, KVH, hd}, P::backward, nL);
    }
    s.add(K::linear_backward, {T, d, q, qkv_b, q, 0}, P::backward, nL);
    s.add(K::linear_backward, {T, d, kv, qkv_b, kv, 0}, P::backward, 2 * nL);  // k's and v's dx accumulate into q's
    s.add(norm_b, {T, d}, P::backward, nL);
    s.add(K::residual_add, {T * d}, P::backward, nL);
    s.add(K::embedding_backward, {T, d, V}, P::backward);
    if (learned) s.add(K::embedding_backward, {T, d, m.max_positions}, P::backward);

    // Optimizer phase: (fp16: the inf/NaN check of the scaled gradients) the global norm over the
    // flat gradient, one AdamW launch per tensor.
    if (c.precision == Precision::mixed_fp16) s.add(K::check_nonfinite, {N}, P::optimizer);
    s.add(K::global_norm, {N}, P::optimizer);
    for (const ParamTensor& t : param_tensors(m)) {
        const double copies = t.block == Block::layer ? nL : 1;
        s.add(K::adamw, {t.elements()}, P::optimizer, copies);
    }
    return s.take();
}

double engine_kernel_seconds(const EngineKernelCall& call, const EngineCalibration* cal, const GpuSpec& gpu,
                             KernelTimeSource* source) {
    auto done = [&](double t, KernelTimeSource src) {
        if (source) *source = src;
        return t;
    };
    if (!cal) return done(roofline_seconds(call, gpu), KernelTimeSource::roofline);
    const double floor = cal->launch_seconds;
    // Same kernel and type. The class: the same dimensions after the size ones (dims[0]; for
    // attention and rotary B and S, whose heads and head size fix the kernel's tiling).
    const std::size_t sized = size_dims(call.kernel);
    std::vector<std::pair<double, double>> line;  // (dims[0], seconds) of the class, one size dim
    Bracket in_class, any;                        // nearest works below and above
    const double work = work_of(call);
    for (const EngineKernelTiming& k : cal->kernels) {
        if (k.kernel != call.kernel || k.dtype != call.dtype || k.dims.size() != call.dims.size()) continue;
        if (k.dims == call.dims) return done(k.seconds, KernelTimeSource::measured);
        EngineKernelCall other = call;
        other.dims = k.dims;
        fill_engine_kernel_work(other);
        const double w = work_of(other);
        const bool same_class = std::equal(k.dims.begin() + static_cast<std::ptrdiff_t>(sized), k.dims.end(),
                                           call.dims.begin() + static_cast<std::ptrdiff_t>(sized));
        if (same_class && sized == 1) line.emplace_back(static_cast<double>(k.dims[0]), k.seconds);
        if (same_class) in_class.add(w, k.seconds, work);
        any.add(w, k.seconds, work);
    }
    const double x = static_cast<double>(call.dims[0]);
    if (!line.empty()) {
        std::sort(line.begin(), line.end());
        double t = 0;
        if (line.size() == 1 || x < line.front().first) {
            const auto& [x1, t1] = line.front();
            t = t1 * x / x1;
        } else if (x > line.back().first) {
            const auto& [x2, t2] = line.back();
            t = t2 * x / x2;
        } else {
            // The bracketing pair: a kernel's time is flat while it does not fill the GPU and
            // proportional to its work once it does, so between two measurements it is at least
            // the smaller one's and at least the larger one's scaled down; the larger of the two
            // (a straight line between them over-estimates where the smaller one under-fills the
            // GPU: +17% on TinyLlama's flash backward at batch 2 from batches 1 and 4).
            std::size_t i = 1;
            while (i + 1 < line.size() && line[i].first < x) ++i;
            const auto& [x1, t1] = line[i - 1];
            const auto& [x2, t2] = line[i];
            t = std::max(t1, t2 * x / x2);
        }
        return done(std::max(t, floor), KernelTimeSource::interpolated);
    }
    // The same rule on the work: within the class (attention at another batch or sequence
    // length), else over every shape of the kernel.
    if (in_class.found()) return done(std::max(in_class.seconds(work), floor), KernelTimeSource::interpolated);
    if (any.found()) return done(std::max(any.seconds(work), floor), KernelTimeSource::scaled);
    return done(roofline_seconds(call, gpu), KernelTimeSource::roofline);
}

EngineStepTime engine_step_time(const ModelSpec& m, const TrainConfig& c, const GpuSpec& gpu, const EngineCalibration* cal) {
    EngineStepTime r;
    r.calibrated = cal != nullptr && !cal->kernels.empty();
    if (cal) r.calibration_gpu = cal->gpu;
    std::array<double, kEngineKernels> by{}, calls{}, flops{}, bytes{};
    for (const EngineKernelCall& call : engine_step_kernels(m, c)) {
        KernelTimeSource src = KernelTimeSource::roofline;
        const double t = call.calls * engine_kernel_seconds(call, r.calibrated ? cal : nullptr, gpu, &src);
        switch (call.phase) {
            case EngineTimePhase::forward: r.forward_seconds += t; break;
            case EngineTimePhase::backward: r.backward_seconds += t; break;
            case EngineTimePhase::optimizer: r.optimizer_seconds += t; break;
        }
        if (is_linear(call.kernel)) r.matmul_seconds += t;
        if (is_attention(call.kernel)) r.attention_seconds += t;
        r.calls_by_source[static_cast<std::size_t>(src)] += call.calls;
        const auto i = static_cast<std::size_t>(call.kernel);
        by[i] += t;
        calls[i] += call.calls;
        flops[i] += call.calls * call.flops;
        bytes[i] += call.calls * call.bytes;
    }
    r.step_seconds = r.forward_seconds + r.backward_seconds + r.optimizer_seconds;
    for (std::size_t i = 0; i < by.size(); ++i)
        if (calls[i] > 0) r.by_kernel.push_back({static_cast<EngineKernel>(i), by[i], calls[i], flops[i], bytes[i]});
    std::sort(r.by_kernel.begin(), r.by_kernel.end(),
              [](const EngineKernelTime& a, const EngineKernelTime& b) { return a.seconds > b.seconds; });
    return r;
}

EngineCalibration parse_engine_calibration(const std::string& text, const std::string& what) {
    const nlohmann::json j = parse_json_object(text, what);
    EngineCalibration cal;
    if (j.contains("gpu") && j["gpu"].is_string()) cal.gpu = j["gpu"].get<std::string>();
    if (j.contains("launch_seconds")) {
        if (!j["launch_seconds"].is_number() || j["launch_seconds"].get<double>() < 0 || j["launch_seconds"].get<double>() > 1)
            throw InputError(what + ": \"launch_seconds\" must be a number in [0, 1]");
        cal.launch_seconds = j["launch_seconds"].get<double>();
    }
    if (!j.contains("engine_kernels")) return cal;
    if (!j["engine_kernels"].is_array()) throw InputError(what + ": \"engine_kernels\" must be an array");
    std::size_t index = 0;
    for (const nlohmann::json& e : j["engine_kernels"]) {
        const std::string where = what + ": engine_kernels[" + std::to_string(index++) + "]";
        if (!e.is_object() || !e.contains("kernel") || !e["kernel"].is_string() || !e.contains("dtype") ||
            !e["dtype"].is_string() || !e.contains("dims") || !e["dims"].is_array() || !e.contains("seconds") ||
            !e["seconds"].is_number())
            throw InputError(where + ": expected {\"kernel\", \"dtype\", \"dims\", \"seconds\"}");
        EngineKernelTiming t;
        const std::string name = e["kernel"].get<std::string>();
        const std::optional<EngineKernel> k = parse_engine_kernel(name);
        if (!k) throw InputError(where + ": unknown kernel \"" + name + "\"");
        t.kernel = *k;
        const std::string dtype = e["dtype"].get<std::string>();
        const std::optional<DType> dt = parse_dtype(dtype);
        if (!dt) throw InputError(where + ": dtype \"" + dtype + "\" is not fp32, bf16 or fp16");
        t.dtype = *dt;
        for (const nlohmann::json& v : e["dims"]) {
            if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
                throw InputError(where + ": dims must be whole numbers ≥ 0");
            t.dims.push_back(v.get<std::int64_t>());
        }
        // Files written before the linear kernels' row stride and GELU were dimensions: ld = n, no GELU.
        if ((t.kernel == EngineKernel::linear_forward || t.kernel == EngineKernel::linear_backward) && t.dims.size() == 4) {
            t.dims.push_back(t.dims[2]);
            t.dims.push_back(0);
        }
        if (static_cast<int>(t.dims.size()) != dims_of(t.kernel))
            throw InputError(where + ": " + name + " takes " + std::to_string(dims_of(t.kernel)) + " dims");
        if (t.dims[0] <= 0) throw InputError(where + ": dims[0] must be positive");
        t.seconds = e["seconds"].get<double>();
        if (!(t.seconds > 0 && t.seconds < 1e4)) throw InputError(where + ": seconds must be positive");
        cal.kernels.push_back(std::move(t));
    }
    return cal;
}

}  // namespace llmplan
