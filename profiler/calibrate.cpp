// calibrate.cpp — see calibrate.h.
#include "profiler/calibrate.h"

#include "core/error.h"
#include "core/file.h"
#include "core/kernel_table.h"
#include "backend/loader.h"
#include "profiler/runner.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <sstream>

namespace llmplan::profiler {

namespace {

std::string describe(EngineKernel k, DType dtype, const std::vector<std::int64_t>& dims) {
    std::ostringstream s;
    s << to_string(k) << " " << to_string(dtype) << " [";
    for (std::size_t i = 0; i < dims.size(); ++i) s << (i ? "," : "") << dims[i];
    s << "]";
    return s.str();
}

std::string now_utc() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::vector<EngineKernelCall> calibration_shapes(const CalibrateRequest& r) {
    std::vector<EngineKernelCall> out;
    for (Precision p : r.precisions)
        for (int b : r.micro_batches)
            for (Attention a : r.attentions) {
                TrainConfig c;
                c.precision = p;
                c.micro_batch = b;
                c.global_batch = b;
                c.seq = r.seq;
                c.attention = a;
                c.framework = Framework::llmplan;
                for (EngineKernelCall& k : engine_step_kernels(r.model, c)) {
                    const bool seen = std::any_of(out.begin(), out.end(), [&](const EngineKernelCall& o) {
                        return o.kernel == k.kernel && o.dtype == k.dtype && o.dims == k.dims;
                    });
                    if (!seen) out.push_back(std::move(k));
                }
            }
    return out;
}

backend::GpuBackend& calibration_gpu() {
    std::string why;
    if (!cuda_device_available(&why)) throw InputError("llmplan profile calibrate needs a GPU: " + why);
    return *backend::gpu_backend(nullptr);  // loaded: cuda_device_available said so
}

CalibrationRun run_calibration(const CalibrateRequest& r, const std::function<void(int, int, const std::string&)>& progress) {
    backend::GpuBackend& gpu = calibration_gpu();
    const std::vector<EngineKernelCall> shapes = calibration_shapes(r);
    CalibrationRun run;
    using namespace kernels;
    const auto t0 = std::chrono::steady_clock::now();
    const DeviceQuery q = gpu.query_devices();
    run.gpu = q.ok && !q.devices.empty() ? q.devices.front().name : "unknown GPU";
    run.launch_seconds = gpu.launch_seconds();
    run.copy_bandwidth = gpu.copy_bandwidth(static_cast<std::size_t>(kCalibrationCopyBytes));
    const int total = static_cast<int>(shapes.size());
    int done = 0;
    for (const EngineKernelCall& s : shapes) {
        const std::string what = describe(s.kernel, s.dtype, s.dims);
        EngineKernelShape shape;
        shape.kernel = to_string(s.kernel);
        shape.dt = s.dtype;
        shape.dims = s.dims;
        try {
            EngineKernelTiming t;
            t.kernel = s.kernel;
            t.dtype = s.dtype;
            t.dims = s.dims;
            t.seconds = gpu.time_engine_kernel(shape);
            run.kernels.push_back(std::move(t));
        } catch (const std::exception& e) {
            run.skipped.push_back(what + ": " + e.what());
        }
        if (progress) progress(++done, total, what);
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return run;
}

std::map<std::string, BestRates> best_rates(const std::vector<EngineKernelTiming>& timings) {
    std::map<std::string, BestRates> out;
    for (const EngineKernelTiming& t : timings) {
        EngineKernelCall c;
        c.kernel = t.kernel;
        c.dtype = t.dtype;
        c.dims = t.dims;
        fill_engine_kernel_work(c);
        if (c.flops <= 0) continue;
        const bool matmul = t.kernel == EngineKernel::linear_forward || t.kernel == EngineKernel::linear_backward;
        double& best = matmul ? out[to_string(t.dtype)].matmul_flops : out[to_string(t.dtype)].attention_flops;
        best = std::max(best, c.flops / t.seconds);
    }
    return out;
}

std::string calibration_json(const CalibrationRun& run, const CalibrateRequest& r, const std::string& existing,
                             const std::string& what) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    if (!existing.empty()) {
        j = parse_json_text<nlohmann::ordered_json>(existing, what);
        if (!j.is_object() || (j.contains("schema") && j["schema"] != "llmplan.calibration/1"))
            throw InputError(what + ": the existing file is not a llmplan.calibration/1 file");
        if (j.contains("gpu") && j["gpu"].is_string() && j["gpu"].get<std::string>() != run.gpu)
            throw InputError(what + ": the existing file was measured on " + j["gpu"].get<std::string>() + ", not on " +
                             run.gpu + "; write to another file");
    }
    j["schema"] = "llmplan.calibration/1";
    j["gpu"] = run.gpu;
    nlohmann::ordered_json model_list = nlohmann::ordered_json::array();
    if (j.contains("models") && j["models"].is_array())
        for (const auto& m : j["models"])
            if (m.is_string() && m.get<std::string>() != r.model.name) model_list.push_back(m);
    model_list.push_back(r.model.name);
    j["models"] = model_list;
    j["source"] = "llmplan profile calibrate on " + run.gpu + ", " + now_utc();
    j["launch_seconds"] = run.launch_seconds;

    // Merge: previous entries for shapes not measured now are kept.
    std::vector<EngineKernelTiming> merged;
    if (j.contains("engine_kernels")) {
        const EngineCalibration old = parse_engine_calibration(j.dump(), what + " (existing)");
        for (const EngineKernelTiming& t : old.kernels) {
            const bool replaced = std::any_of(run.kernels.begin(), run.kernels.end(), [&](const EngineKernelTiming& n) {
                return n.kernel == t.kernel && n.dtype == t.dtype && n.dims == t.dims;
            });
            if (!replaced) merged.push_back(t);
        }
    }
    merged.insert(merged.end(), run.kernels.begin(), run.kernels.end());

    // Informational summary (not read back): the best matmul and attention rates and the median
    // bandwidth of the memory-bound kernels, per storage type.
    std::map<std::string, std::vector<double>> bandwidths;
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const EngineKernelTiming& t : merged) {
        EngineKernelCall c;
        c.kernel = t.kernel;
        c.dtype = t.dtype;
        c.dims = t.dims;
        nlohmann::ordered_json e;
        e["kernel"] = to_string(t.kernel);
        e["dtype"] = to_string(t.dtype);
        e["dims"] = t.dims;
        e["seconds"] = t.seconds;
        fill_engine_kernel_work(c);
        const double flops = c.flops, bytes = c.bytes;
        if (flops > 0) {
            e["tflops"] = std::round(flops / t.seconds / 1e10) / 100;
        } else {
            e["gbps"] = std::round(bytes / t.seconds / 1e8) / 10;
            if (t.seconds > 20 * run.launch_seconds) bandwidths[to_string(t.dtype)].push_back(bytes / t.seconds);
        }
        list.push_back(e);
    }
    nlohmann::ordered_json summary;
    summary["copy_bandwidth"] = run.copy_bandwidth;
    for (const auto& [dt, rate] : best_rates(merged)) {
        if (rate.matmul_flops > 0) summary["best_matmul_flops"][dt] = rate.matmul_flops;
        if (rate.attention_flops > 0) summary["best_attention_flops"][dt] = rate.attention_flops;
    }
    for (auto& [dt, v] : bandwidths) {
        std::sort(v.begin(), v.end());
        summary["median_memory_bound_bandwidth"][dt] = v[v.size() / 2];
    }
    summary["note"] = "informational: plan reads engine_kernels and launch_seconds";
    j["measured"] = summary;
    j["engine_kernels"] = list;
    if (!run.skipped.empty()) j["skipped"] = run.skipped;
    return j.dump(1) + "\n";
}

std::string kernel_table_json(const CalibrationRun& run, const std::string& what) {
    nlohmann::ordered_json j;
    j["schema"] = kKernelTableSchema;
    j["meta"] = {{"device", run.gpu},
                 {"date_utc", now_utc()},
                 {"source", "llmplan profile calibrate: the training engine's linear_forward GEMMs (cuBLAS) and device copy"},
                 {"timing", "median of repeated back-to-back launches (profiler/calibrate.h)"}};
    nlohmann::ordered_json gemm = nlohmann::ordered_json::array();
    for (const EngineKernelTiming& t : run.kernels) {
        // linear_forward dims: {T, k, n, bias, ld, gelu} (engine/engine_kernels.h)
        if (t.kernel != EngineKernel::linear_forward || t.dims.size() < 3 || !(t.seconds > 0)) continue;
        if (t.dims.size() >= 6 && t.dims[5] != 0) continue;  // GELU in the epilogue: not a plain GEMM
        const double m = static_cast<double>(t.dims[0]), k = static_cast<double>(t.dims[1]), n = static_cast<double>(t.dims[2]);
        const char* dtype = t.dtype == DType::bf16 ? "bf16" : t.dtype == DType::fp16 ? "fp16" : "fp32";
        gemm.push_back({{"dtype", dtype}, {"m", m}, {"n", n}, {"k", k}, {"us", t.seconds * 1e6},
                        {"tflops", 2 * m * n * k / t.seconds / 1e12}});
    }
    if (gemm.empty())
        throw InputError(what + ": the calibration timed no GEMM (linear_forward) to make a kernel table of");
    j["gemm"] = gemm;
    j["attention"] = nlohmann::ordered_json::array();
    nlohmann::ordered_json memory = nlohmann::ordered_json::array();
    if (run.copy_bandwidth > 0)
        memory.push_back({{"op", "copy"}, {"bytes", kCalibrationCopyBytes}, {"gbps", run.copy_bandwidth / 1e9}});
    j["memory_bound"] = memory;
    std::string text = j.dump(1) + "\n";
    (void)parse_kernel_table(text, what);  // what `plan --kernel-table` will read: refuse here, not there
    return text;
}

}  // namespace llmplan::profiler
