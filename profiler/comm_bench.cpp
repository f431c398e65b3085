// comm_bench.cpp — `llmplan profile comm`'s measurement per rank (through the GPU backend module,
// backend/backend.h) and its report, table and calibration merge; see comm_bench.h.
#include "profiler/comm_bench.h"

#include "backend/loader.h"
#include "core/error.h"
#include "core/file.h"
#include "core/vocab.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace llmplan::profiler {

namespace {

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
}

std::string version_text(int code, bool nccl) {
    // NCCL ≥ 2.9: major·10000 + minor·100 + patch; CUDA: major·1000 + minor·10 (cudaRuntimeGetVersion).
    if (nccl) return std::to_string(code / 10000) + "." + std::to_string(code / 100 % 100) + "." + std::to_string(code % 100);
    return std::to_string(code / 1000) + "." + std::to_string(code % 1000 / 10);
}

double round_to(double v, int digits) {
    double scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    return static_cast<double>(static_cast<long long>(v * scale + (v >= 0 ? 0.5 : -0.5))) / scale;
}

}  // namespace

std::string parse_comm_dtype(const std::string& text, const std::string& flag) {
    const std::string t = lower(text);
    if (t == "float" || t == "fp32" || t == "float32") return "float";
    if (t == "bfloat16" || t == "bf16") return "bfloat16";
    if (t == "half" || t == "fp16" || t == "float16") return "half";
    throw InputError(flag + ": \"" + text + "\" is not a collective data type (use float, bfloat16 or half)");
}

std::vector<dist::CommKind> parse_comm_kinds(const std::string& text, const std::string& flag) {
    std::vector<dist::CommKind> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        item = lower(item);
        if (item == "all") {
            for (const dist::CommKind k : {dist::CommKind::all_reduce, dist::CommKind::all_gather, dist::CommKind::reduce_scatter})
                if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
            continue;
        }
        dist::CommKind k;
        if (!dist::parse_comm_kind(item, k))
            throw InputError(flag + ": \"" + item + "\" is not a collective (use all_reduce, all_gather, reduce_scatter or all)");
        if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
    }
    if (out.empty()) throw InputError(flag + ": \"" + text + "\" names no collective");
    return out;
}

namespace {
std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}
}  // namespace

int comm_visible_gpus(std::string* why) {
    backend::GpuBackend* gpu = backend::gpu_backend(why);
    return gpu ? gpu->comm_visible_gpus(why) : 0;
}

nlohmann::ordered_json run_comm_rank(int rank, int world, const std::string& id_file, const CommBenchOptions& o,
                                     double timeout_seconds, const std::function<void(const std::string&)>& progress,
                                     int device, const std::function<void(void*, std::size_t)>& broadcast_id) {
    kernels::CommConfig config;
    config.rank = rank;
    config.world = world;
    config.id_file = id_file;
    config.device = device;
    config.broadcast_id = broadcast_id;
    config.timeout_seconds = timeout_seconds;
    std::string why;
    backend::GpuBackend* gpu = backend::gpu_backend(&why);
    if (!gpu) throw InputError(why);
    kernels::BusbwOptions b;
    b.kinds = o.kinds;
    b.sizes = dist::busbw_sizes(o.min_bytes, o.max_bytes);
    b.iters = o.iters;
    b.warmup = o.warmup;
    for (const DTypeTraits& t : kDTypes)
        if (o.dtype == t.nccl_name) b.type = t.type;
    kernels::CommDeviceInfo d;
    const std::vector<kernels::BusbwSample> samples = gpu->measure_busbw(
        config, b,
        [&](const kernels::CommDeviceInfo& ready) {
            d = ready;
            if (progress)
                progress("rank " + std::to_string(rank) + " of " + std::to_string(world) + " on GPU " + std::to_string(d.index) +
                         " (" + d.name + ", " + d.pci_bus_id + "), NCCL " + version_text(d.nccl_version, true));
        },
        [&](const kernels::BusbwSample& s) {
            if (progress)
                progress(std::string(dist::to_string(s.kind)) + " " + std::to_string(s.bytes) + " bytes: " + fixed(s.time_us, 2) +
                         " us, " + std::to_string(s.errors) + " wrong elements");
        });
    nlohmann::ordered_json j;
    j["rank"] = rank;
    j["world"] = world;
    j["device"] = {{"index", d.index},
                   {"name", d.name},
                   {"pci_bus_id", d.pci_bus_id},
                   {"total_memory_bytes", d.total_memory_bytes}};
    j["nccl_version_code"] = d.nccl_version;
    j["cuda_runtime_version_code"] = d.cuda_runtime_version;
    j["cuda_driver_version_code"] = d.cuda_driver_version;
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const kernels::BusbwSample& s : samples)
        rows.push_back({{"collective", dist::to_string(s.kind)},
                        {"bytes", s.bytes},
                        {"count", s.count},
                        {"time_us", s.time_us},
                        {"errors", s.errors}});
    j["results"] = rows;
    return j;
}


nlohmann::ordered_json busbw_report(const std::vector<nlohmann::ordered_json>& ranks, const CommBenchOptions& o,
                                    const BusbwRunInfo& info) {
    const int n = static_cast<int>(ranks.size());
    if (n == 0) throw std::runtime_error("profile comm: no rank results");
    std::vector<const nlohmann::ordered_json*> by_rank(static_cast<std::size_t>(n), nullptr);
    for (const auto& r : ranks) {
        const int k = r.at("rank").get<int>();
        if (k < 0 || k >= n || by_rank[static_cast<std::size_t>(k)])
            throw std::runtime_error("profile comm: rank results are not ranks 0 … " + std::to_string(n - 1) + " once each");
        by_rank[static_cast<std::size_t>(k)] = &r;
    }
    const nlohmann::ordered_json& first = *by_rank[0];
    const auto& rows0 = first.at("results");
    for (const auto* r : by_rank) {
        const auto& rows = r->at("results");
        if (rows.size() != rows0.size())
            throw std::runtime_error("profile comm: rank " + std::to_string(r->at("rank").get<int>()) + " measured " +
                                     std::to_string(rows.size()) + " rows, rank 0 " + std::to_string(rows0.size()));
        for (std::size_t i = 0; i < rows.size(); ++i)
            if (rows[i].at("collective") != rows0[i].at("collective") || rows[i].at("bytes") != rows0[i].at("bytes"))
                throw std::runtime_error("profile comm: rank " + std::to_string(r->at("rank").get<int>()) +
                                         " measured other rows than rank 0");
    }
    const int nccl = first.at("nccl_version_code").get<int>();
    const int runtime = first.at("cuda_runtime_version_code").get<int>();
    const int driver = first.at("cuda_driver_version_code").get<int>();

    nlohmann::ordered_json j;
    j["schema"] = kBusbwSchema;
    j["program"] = "llmplan profile comm (profiler/comm_bench.cpp, kernels/cuda/nccl_comm.cu)";
    j["command"] = info.command;
    j["date"] = info.date;
    j["host"] = info.host;
    j["gpu_name"] = first.at("device").at("name");
    j["gpu_count"] = n;
    nlohmann::ordered_json devices = nlohmann::ordered_json::array();
    for (const auto* r : by_rank) devices.push_back(r->at("device"));
    j["devices"] = devices;
    j["nccl_version"] = version_text(nccl, true);
    j["nccl_version_code"] = nccl;
    j["cuda_runtime_version"] = version_text(runtime, false);
    j["cuda_runtime_version_code"] = runtime;
    j["cuda_driver_version"] = version_text(driver, false);
    nlohmann::ordered_json env = nlohmann::ordered_json::object();
    for (const auto& [k, v] : info.nccl_env) env[k] = v;
    j["nccl_env"] = env;
    j["dtype"] = o.dtype;
    j["reduce_op"] = "sum";
    j["in_place"] = false;
    j["warmup_iters"] = o.warmup;
    j["iters"] = o.iters;
    j["launch"] = info.launch;
    j["timing"] =
        "CUDA events recorded on each rank's communication stream around the timed iterations (issued right after the "
        "warm-up ones, with no host wait between); time_us is the slowest rank's mean per iteration, min_gpu_time_us "
        "the fastest rank's";
    j["definitions"] =
        "nccl-tests doc/PERFORMANCE.md: algbw = bytes / time; busbw = algbw * factor, factor 2(n-1)/n for all_reduce "
        "and (n-1)/n for all_gather and reduce_scatter; bytes is the total size S: the buffer for all_reduce, the "
        "output for all_gather, the input for reduce_scatter; GB/s = 1e9 bytes/s; count is the per-rank element count "
        "passed to NCCL";
    j["check"] =
        "after the timed iterations every output element is compared with its exact value (rank r sends r+1); errors "
        "counts wrong elements over all GPUs";
    j["note"] = n == 1 ? "one GPU: NCCL runs each collective as a local device-to-device copy, so nothing crosses a link; "
                         "the busbw factor is 0 for n = 1 and busbw is reported as 0"
                       : "one process per GPU, started by llmplan; ncclCommInitRankConfig (non-blocking) with the unique "
                         "id shared through a file; NCCL chose algorithm and protocol itself (see nccl_env for overrides)";
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < rows0.size(); ++i) {
        double slowest = 0, fastest = 1e300;
        unsigned long long errors = 0;
        for (const auto* r : by_rank) {
            const auto& row = r->at("results")[i];
            const double t = row.at("time_us").get<double>();
            slowest = std::max(slowest, t);
            fastest = std::min(fastest, t);
            errors += row.at("errors").get<unsigned long long>();
        }
        const std::string name = rows0[i].at("collective").get<std::string>();
        dist::CommKind kind;
        if (!dist::parse_comm_kind(name, kind)) throw std::runtime_error("profile comm: unknown collective " + name);
        const auto bytes = rows0[i].at("bytes").get<std::uint64_t>();
        const double factor = dist::busbw_factor(kind, n);
        const double algbw = slowest > 0 ? static_cast<double>(bytes) / (slowest * 1e-6) / 1e9 : 0;
        results.push_back({{"collective", name},
                           {"bytes", bytes},
                           {"count", rows0[i].at("count")},
                           {"time_us", round_to(slowest, 2)},
                           {"min_gpu_time_us", round_to(fastest, 2)},
                           {"algbw_GBps", round_to(algbw, 3)},
                           {"busbw_factor", round_to(factor, 6)},
                           {"busbw_GBps", round_to(algbw * factor, 3)},
                           {"errors", errors}});
    }
    j["results"] = results;
    return j;
}

unsigned long long busbw_errors(const nlohmann::ordered_json& report) {
    unsigned long long e = 0;
    for (const auto& r : report.at("results")) e += r.at("errors").get<unsigned long long>();
    return e;
}

std::string busbw_table(const nlohmann::ordered_json& report) {
    std::ostringstream o;
    o << "  " << report.at("gpu_count").get<int>() << " × " << report.at("gpu_name").get<std::string>() << ", NCCL "
      << report.at("nccl_version").get<std::string>() << ", " << report.at("dtype").get<std::string>() << ", "
      << report.at("warmup_iters").get<int>() << " warm-up + " << report.at("iters").get<int>()
      << " timed iterations per size (nccl-tests definitions)\n\n";
    char line[160];
    std::snprintf(line, sizeof line, "  %-15s %14s %12s %12s %12s %12s %7s\n", "collective", "bytes (S)", "time_us",
                  "min_time_us", "algbw_GB/s", "busbw_GB/s", "errors");
    o << line;
    std::string last;
    for (const auto& r : report.at("results")) {
        const std::string c = r.at("collective").get<std::string>();
        if (!last.empty() && c != last) o << "\n";
        last = c;
        std::snprintf(line, sizeof line, "  %-15s %14llu %12.2f %12.2f %12.3f %12.3f %7llu\n", c.c_str(),
                      static_cast<unsigned long long>(r.at("bytes").get<std::uint64_t>()), r.at("time_us").get<double>(),
                      r.at("min_gpu_time_us").get<double>(), r.at("algbw_GBps").get<double>(),
                      r.at("busbw_GBps").get<double>(), r.at("errors").get<unsigned long long>());
        o << line;
    }
    return o.str();
}

std::string merge_collectives(const std::string& existing, const nlohmann::ordered_json& report, const std::string& what) {
    const std::string gpu = report.at("gpu_name").get<std::string>();
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    const bool fresh = existing.empty();
    if (!fresh) {
        j = parse_json_text<nlohmann::ordered_json>(existing, what);
        if (!j.is_object() || (j.contains("schema") && j["schema"] != kCalibrationSchema))
            throw InputError(what + ": the existing file is not a " + std::string(kCalibrationSchema) + " file");
        if (j.contains("gpu") && j["gpu"].is_string() && j["gpu"].get<std::string>() != gpu)
            throw InputError(what + ": the existing file was measured on " + j["gpu"].get<std::string>() + ", not on " + gpu +
                             "; write to another file");
        if (j.contains("collectives") && !j["collectives"].is_array())
            throw InputError(what + ": \"collectives\" in the existing file is not an array");
    } else {
        j["schema"] = kCalibrationSchema;
        j["gpu"] = gpu;
    }
    const int n = report.at("gpu_count").get<int>();
    const std::string dtype = report.at("dtype").get<std::string>();
    std::vector<std::string> measured;
    for (const auto& r : report.at("results")) {
        const std::string c = r.at("collective").get<std::string>();
        if (std::find(measured.begin(), measured.end(), c) == measured.end()) measured.push_back(c);
    }
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    if (j.contains("collectives"))
        for (const auto& e : j["collectives"]) {
            // Compared as JSON values: an entry of another shape (a string for "gpus") is kept, not read.
            const bool same = e.is_object() && e.contains("gpus") && e["gpus"] == n && e.contains("dtype") &&
                              e["dtype"] == dtype && e.contains("collective") &&
                              std::any_of(measured.begin(), measured.end(), [&](const std::string& c) { return e["collective"] == c; });
            if (!same) list.push_back(e);
        }
    for (const auto& r : report.at("results")) {
        nlohmann::ordered_json e;
        e["collective"] = r.at("collective");
        e["gpus"] = n;
        e["dtype"] = dtype;
        e["bytes"] = r.at("bytes");
        e["time_us"] = r.at("time_us");
        e["algbw_GBps"] = r.at("algbw_GBps");
        e["busbw_GBps"] = r.at("busbw_GBps");
        e["nccl_version"] = report.at("nccl_version");
        e["date"] = report.at("date");
        list.push_back(e);
    }
    j["collectives"] = list;
    return j.dump(1) + "\n";
}

}  // namespace llmplan::profiler
