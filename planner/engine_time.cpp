// engine_time.cpp — the engine's kernel list and its calibrated time; see engine_time.h.
#include "planner/engine_time.h"

#include "core/error.h"
#include "core/json.h"
#include "core/text.h"
#include "engine/program.h"
#include "planner/perf.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace llmplan {

namespace {


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
    void add(EngineKernel k, std::vector<std::int64_t> dims, MemoryPhase phase, double calls = 1) {
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
                     ": the engine runs fp32, mixed-bf16 and mixed-fp16");
}

// The engine's step, call by call: the kernel events of its program (engine/program.h), in order.
std::vector<EngineKernelCall> engine_step_kernels(const ModelSpec& m, const TrainConfig& c) {
    if (const std::string why = engine_supports(m, c); !why.empty()) throw InputError(why);
    if (c.parallel.gpus != 1) throw InputError("--gpus " + std::to_string(c.parallel.gpus) + ": the engine's time model covers one device");
    const EngineProgram program = build_engine_program(m, engine_step_options(c));
    StepList s(engine_dtype(c.precision));
    MemoryPhase phase = MemoryPhase::forward;
    for_each_step_event(program, [&](const ProgramEvent& e, std::int64_t) {  // A micro-batches with accumulation
        if (e.kind == ProgramEvent::Kind::phase)
            phase = e.phase == MemoryPhase::idle ? MemoryPhase::forward : e.phase;
        if (e.kind != ProgramEvent::Kind::kernel) return;
        s.add(e.kernel, {e.dims.begin(), e.dims.begin() + engine_kernel_dims(e.kernel)}, phase, e.calls);
    });
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
            case MemoryPhase::idle:  // never: the step's calls start in its forward
            case MemoryPhase::forward: r.forward_seconds += t; break;
            case MemoryPhase::backward: r.backward_seconds += t; break;
            case MemoryPhase::optimizer: r.optimizer_seconds += t; break;
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
    if (j.contains("gpu") && j["gpu"].is_string()) cal.gpu = label_from_file(j["gpu"].get<std::string>());
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
        if (static_cast<int>(t.dims.size()) != engine_kernel_dims(t.kernel))
            throw InputError(where + ": " + name + " takes " + std::to_string(engine_kernel_dims(t.kernel)) + " dims");
        if (t.dims[0] <= 0) throw InputError(where + ": dims[0] must be positive");
        t.seconds = e["seconds"].get<double>();
        if (!(t.seconds > 0 && t.seconds < 1e4)) throw InputError(where + ": seconds must be positive");
        cal.kernels.push_back(std::move(t));
    }
    return cal;
}

}  // namespace llmplan
