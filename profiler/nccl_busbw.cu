// nccl_busbw.cu — NCCL bus bandwidth of all-reduce, all-gather and reduce-scatter on this
// machine's GPUs: llmplan's own small counterpart of nccl-tests, whose numbers calibrate and check
// the collective-time model (planner/comm.cpp).
//
// One process drives every GPU (ncclCommInitAll, one communicator per GPU, collectives launched
// inside ncclGroupStart/End). For each collective and each total size S (powers of two from
// --min-bytes to --max-bytes) it runs --warmup untimed and --iters timed out-of-place iterations,
// times them with CUDA events on each GPU's stream (the slowest GPU counts) and reports, as
// nccl-tests defines them (nccl-tests doc/PERFORMANCE.md):
//   time   mean time of one iteration
//   algbw  S / time
//   busbw  algbw × factor, factor = 2(n-1)/n for all-reduce, (n-1)/n for all-gather and
//          reduce-scatter, with S the all-gather's output and the reduce-scatter's input.
// Bandwidths are in GB/s = 1e9 bytes per second, as nccl-tests prints them. After the timed
// iterations a kernel checks every output element (rank r sends r+1, so each sum is n(n+1)/2 and
// all-gather block j holds j+1) and the number of wrong elements is reported.
//
// Output: JSON (schema llmplan.nccl_busbw/1) on stdout or in --out FILE (written atomically), a
// human-readable table on stderr. Exit codes: 0 ok, 2 bad flags, 1 CUDA/NCCL/other failure or
// wrong results. Build: profiler/CMakeLists.txt (target llmplan_nccl_busbw, CUDA and NCCL only);
// bench/nccl_busbw.sh builds and explains how to run it. `llmplan profile comm` measures the same
// table with one process per GPU (profiler/comm_bench.cpp, kernels/cuda/nccl_comm.cu) and shares
// the definitions (dist/collective.h) and the check kernels (kernels/cuda/nccl_check.cuh).
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include "kernels/cuda/nccl_check.cuh"  // fill and check kernels, shared with `llmplan profile comm`
#include "dist/collective.h"   // nccl-tests conventions: busbw factor, sizes, rounding

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

extern char** environ;

namespace {

constexpr const char* kProgram = "llmplan_nccl_busbw";
constexpr const char* kSchema = "llmplan.nccl_busbw/1";

// Bad flags: exit code 2. Everything else (CUDA, NCCL, files, wrong results): exit code 1.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

#define CHECK_CUDA(call)                                                                          \
    do {                                                                                          \
        const cudaError_t status_ = (call);                                                       \
        if (status_ != cudaSuccess) {                                                             \
            throw std::runtime_error(std::string("CUDA error in ") + #call + ": " +               \
                                     cudaGetErrorName(status_) + ": " + cudaGetErrorString(status_)); \
        }                                                                                         \
    } while (0)

#define CHECK_NCCL(call)                                                                          \
    do {                                                                                          \
        const ncclResult_t result_ = (call);                                                      \
        if (result_ != ncclSuccess) {                                                             \
            const char* last_ = ncclGetLastError(nullptr);                                        \
            throw std::runtime_error(std::string("NCCL error in ") + #call + ": " +               \
                                     ncclGetErrorString(result_) +                                \
                                     (last_ && *last_ ? std::string(" (") + last_ + ")" : std::string())); \
        }                                                                                         \
    } while (0)

const char* kUsage =
    "usage: llmplan_nccl_busbw [--gpus N] [--min-bytes SIZE] [--max-bytes SIZE] [--iters N]\n"
    "                          [--warmup N] [--dtype float|bfloat16] [--collectives LIST] [--out FILE]\n"
    "NCCL bus bandwidth (nccl-tests definitions) of all-reduce, all-gather and reduce-scatter over\n"
    "the visible GPUs, one process driving all of them (ncclCommInitAll). JSON on stdout or in FILE.\n"
    "  --gpus N            GPUs to use (default: all visible)\n"
    "  --min-bytes SIZE    smallest total size S (default 1M; K/M/G are powers of 1024)\n"
    "  --max-bytes SIZE    largest total size S (default 2G); sizes double from min to max\n"
    "  --iters N           timed iterations per size (default 20)\n"
    "  --warmup N          untimed iterations per size before them (default 5)\n"
    "  --dtype T           float (default, as nccl-tests) or bfloat16\n"
    "  --collectives LIST  comma-separated subset of all_reduce,all_gather,reduce_scatter (default all)\n"
    "  --out FILE          write the JSON to FILE (atomically) instead of stdout\n";

// The collectives: dist::CommKind (dist/collective.h), with its names and nccl-tests' conventions.
using llmplan::dist::CommKind;

struct Options {
    int gpus = 0;  // 0: all visible
    std::uint64_t min_bytes = 1ull << 20;
    std::uint64_t max_bytes = 2ull << 30;
    int iters = 20;
    int warmup = 5;
    std::string dtype = "float";
    std::vector<CommKind> collectives{CommKind::all_reduce, CommKind::all_gather, CommKind::reduce_scatter};
    std::string out;
};

// "1048576", "1M", "1MiB", "1MB", "2G" (K/M/G = 2^10, 2^20, 2^30, as nccl-tests reads -b/-e).
std::uint64_t parse_size(const std::string& flag, const std::string& text) {
    const std::string bad = flag + ": '" + text + "' is not a size in bytes (e.g. 1048576, 1M, 2G)";
    std::size_t pos = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == 0 || pos > 15) throw UsageError(bad);
    std::uint64_t value = std::stoull(text.substr(0, pos));
    std::string suffix = text.substr(pos);
    for (char& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (suffix == "B" || suffix.empty()) {
    } else if (suffix == "K" || suffix == "KB" || suffix == "KIB") {
        value <<= 10;
    } else if (suffix == "M" || suffix == "MB" || suffix == "MIB") {
        value <<= 20;
    } else if (suffix == "G" || suffix == "GB" || suffix == "GIB") {
        value <<= 30;
    } else {
        throw UsageError(bad);
    }
    if (value == 0) throw UsageError(flag + ": the size must be positive, got '" + text + "'");
    return value;
}

int parse_count(const std::string& flag, const std::string& text, int minimum) {
    std::size_t pos = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos == 0 || pos != text.size() || pos > 9) {
        throw UsageError(flag + ": '" + text + "' is not a whole number");
    }
    const int value = std::stoi(text);
    if (value < minimum) {
        throw UsageError(flag + ": must be at least " + std::to_string(minimum) + ", got " + text);
    }
    return value;
}

std::vector<CommKind> parse_collectives(const std::string& text) {
    std::vector<CommKind> result;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        CommKind c;
        if (!llmplan::dist::parse_comm_kind(item, c)) {
            throw UsageError("--collectives: unknown collective '" + item +
                             "' (choose from all_reduce, all_gather, reduce_scatter)");
        }
        if (std::find(result.begin(), result.end(), c) == result.end()) result.push_back(c);
    }
    if (result.empty()) throw UsageError("--collectives: the list is empty");
    return result;
}

// Returns false when --help was asked for.
bool parse_args(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") return false;
        std::string value;
        bool has_value = false;
        const std::size_t eq = arg.find('=');
        if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_value = true;
        }
        const bool known = arg == "--gpus" || arg == "--min-bytes" || arg == "--max-bytes" || arg == "--iters" ||
                           arg == "--warmup" || arg == "--dtype" || arg == "--collectives" || arg == "--out";
        if (!known) throw UsageError("unknown argument '" + std::string(argv[i]) + "' (see --help)");
        if (!has_value) {
            if (i + 1 >= argc) throw UsageError(arg + ": missing value");
            value = argv[++i];
        }
        if (arg == "--gpus") {
            options.gpus = parse_count(arg, value, 1);
        } else if (arg == "--min-bytes") {
            options.min_bytes = parse_size(arg, value);
        } else if (arg == "--max-bytes") {
            options.max_bytes = parse_size(arg, value);
        } else if (arg == "--iters") {
            options.iters = parse_count(arg, value, 1);
        } else if (arg == "--warmup") {
            options.warmup = parse_count(arg, value, 0);
        } else if (arg == "--dtype") {
            if (value == "fp32" || value == "float32") value = "float";
            if (value == "bf16") value = "bfloat16";
            if (value != "float" && value != "bfloat16") {
                throw UsageError("--dtype: '" + value + "' is not supported (choose float or bfloat16)");
            }
            options.dtype = value;
        } else if (arg == "--collectives") {
            options.collectives = parse_collectives(value);
        } else {
            if (value.empty()) throw UsageError("--out: empty file name");
            options.out = value;
        }
    }
    if (options.min_bytes > options.max_bytes) {
        throw UsageError("--min-bytes (" + std::to_string(options.min_bytes) + ") is larger than --max-bytes (" +
                         std::to_string(options.max_bytes) + ")");
    }
    return true;
}

// --- device code: kernels/cuda/nccl_check.cuh (fill the send buffers, count wrong outputs) --

using llmplan::kernels::cuda::nccl_check::check_kernel;
using llmplan::kernels::cuda::nccl_check::fill_kernel;
using llmplan::kernels::cuda::nccl_check::kBlocks;
using llmplan::kernels::cuda::nccl_check::kThreads;

// --- host side -------------------------------------------------------------------------------

struct Row {
    CommKind collective;
    std::uint64_t bytes;        // S
    std::size_t count;          // elements per rank passed to NCCL (output count for all-reduce,
                                // send count for all-gather, receive count for reduce-scatter)
    double time_us;             // slowest GPU's mean per iteration
    double min_gpu_time_us;     // fastest GPU's, to show the spread
    double algbw_gbps;
    double busbw_gbps;
    double factor;
    unsigned long long errors;  // wrong output elements, summed over GPUs
};

struct Gpu {
    int device = 0;
    std::string name;
    std::string pci_bus_id;
    double total_memory_bytes = 0;
    ncclComm_t comm = nullptr;
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr;
    cudaEvent_t stop = nullptr;
    void* send = nullptr;
    void* recv = nullptr;
    unsigned long long* errors = nullptr;
};

std::string json_escape(const std::string& s) {
    std::string out;
    for (const char ch : s) {
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    return "\"" + out + "\"";
}

std::string fixed(double value, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, value);
    return buf;
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string version_text(int code, bool nccl) {
    // NCCL >= 2.9: major*10000 + minor*100 + patch; CUDA: major*1000 + minor*10.
    if (nccl) {
        return std::to_string(code / 10000) + "." + std::to_string(code / 100 % 100) + "." + std::to_string(code % 100);
    }
    return std::to_string(code / 1000) + "." + std::to_string(code % 1000 / 10);
}

void write_output(const std::string& path, const std::string& text) {
    if (path.empty()) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return;
    }
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    {
        std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
        if (!file) throw std::runtime_error("--out: cannot write '" + tmp + "': " + std::strerror(errno));
        file << text;
        file.close();
        if (!file) {
            std::remove(tmp.c_str());
            throw std::runtime_error("--out: writing '" + tmp + "' failed");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw std::runtime_error("--out: cannot rename '" + tmp + "' to '" + path + "': " + why);
    }
}

class Bench {
public:
    Bench(const Options& options, std::string command) : options_(options), command_(std::move(command)) {}
    ~Bench() { release(); }
    Bench(const Bench&) = delete;
    Bench& operator=(const Bench&) = delete;

    std::string run() {
        date_ = utc_now();
        int visible = 0;
        const cudaError_t count_status = cudaGetDeviceCount(&visible);
        if (count_status != cudaSuccess) {
            throw std::runtime_error(std::string("no usable CUDA device: ") + cudaGetErrorName(count_status) + ": " +
                                     cudaGetErrorString(count_status));
        }
        if (visible == 0) throw std::runtime_error("no CUDA device visible");
        const int n = options_.gpus > 0 ? options_.gpus : visible;
        if (n > visible) {
            throw UsageError("--gpus " + std::to_string(n) + ": only " + std::to_string(visible) +
                             " CUDA device(s) visible");
        }
        CHECK_CUDA(cudaRuntimeGetVersion(&runtime_version_));
        CHECK_CUDA(cudaDriverGetVersion(&driver_version_));
        CHECK_NCCL(ncclGetVersion(&nccl_version_));
        esize_ = options_.dtype == "float" ? sizeof(float) : sizeof(__nv_bfloat16);
        nccl_type_ = options_.dtype == "float" ? ncclFloat32 : ncclBfloat16;

        gpus_.resize(static_cast<std::size_t>(n));
        std::vector<int> devices(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            Gpu& g = gpus_[static_cast<std::size_t>(i)];
            g.device = i;
            devices[static_cast<std::size_t>(i)] = i;
            cudaDeviceProp prop{};
            CHECK_CUDA(cudaGetDeviceProperties(&prop, i));
            g.name = prop.name;
            g.total_memory_bytes = static_cast<double>(prop.totalGlobalMem);
            char bus[32] = {0};
            if (cudaDeviceGetPCIBusId(bus, sizeof bus, i) == cudaSuccess) g.pci_bus_id = bus;
        }
        std::vector<ncclComm_t> comms(static_cast<std::size_t>(n), nullptr);
        CHECK_NCCL(ncclCommInitAll(comms.data(), n, devices.data()));
        for (int i = 0; i < n; ++i) gpus_[static_cast<std::size_t>(i)].comm = comms[static_cast<std::size_t>(i)];

        // One send and one receive buffer of the largest S per GPU serve every collective:
        // all-reduce S → S, all-gather S/n → S, reduce-scatter S → S/n.
        const std::size_t buffer = static_cast<std::size_t>(options_.max_bytes);
        for (int i = 0; i < n; ++i) {
            Gpu& g = gpus_[static_cast<std::size_t>(i)];
            CHECK_CUDA(cudaSetDevice(g.device));
            size_t free_bytes = 0;
            size_t total_bytes = 0;
            CHECK_CUDA(cudaMemGetInfo(&free_bytes, &total_bytes));
            if (2 * buffer + (256u << 20) > free_bytes) {
                throw std::runtime_error("GPU " + std::to_string(i) + " has " + std::to_string(free_bytes >> 20) +
                                         " MiB free, too little for two buffers of --max-bytes " +
                                         std::to_string(buffer) + " bytes; lower --max-bytes");
            }
            CHECK_CUDA(cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking));
            CHECK_CUDA(cudaEventCreate(&g.start));
            CHECK_CUDA(cudaEventCreate(&g.stop));
            CHECK_CUDA(cudaMalloc(&g.send, buffer));
            CHECK_CUDA(cudaMalloc(&g.recv, buffer));
            CHECK_CUDA(cudaMalloc(&g.errors, sizeof(unsigned long long)));
            launch_fill(g, buffer / esize_, static_cast<float>(i + 1));
        }
        sync_all();

        std::fprintf(stderr, "%s: %d × %s, NCCL %s, CUDA runtime %s, dtype %s, %d warm-up + %d timed iterations\n",
                     kProgram, n, gpus_[0].name.c_str(), version_text(nccl_version_, true).c_str(),
                     version_text(runtime_version_, false).c_str(), options_.dtype.c_str(), options_.warmup,
                     options_.iters);
        std::fprintf(stderr, "%-15s %14s %12s %12s %12s %8s\n", "collective", "bytes", "time_us", "algbw_GB/s",
                     "busbw_GB/s", "errors");
        for (const CommKind c : options_.collectives) {
            for (const std::uint64_t s : sizes()) {
                const Row row = measure(c, s);
                if (row.count == 0) continue;  // S too small to split into n blocks of whole elements
                std::fprintf(stderr, "%-15s %14llu %12.1f %12.2f %12.2f %8llu\n", llmplan::dist::to_string(c),
                             static_cast<unsigned long long>(row.bytes), row.time_us, row.algbw_gbps, row.busbw_gbps,
                             row.errors);
                rows_.push_back(row);
            }
        }
        return to_json();
    }

    bool all_correct() const {
        return std::all_of(rows_.begin(), rows_.end(), [](const Row& r) { return r.errors == 0; });
    }

private:
    // min, 2·min, 4·min, ... up to max (max itself only when it is min times a power of two).
    std::vector<std::uint64_t> sizes() const { return llmplan::dist::busbw_sizes(options_.min_bytes, options_.max_bytes); }

    void launch_fill(const Gpu& g, std::size_t count, float value) {
        if (nccl_type_ == ncclFloat32) {
            fill_kernel<<<kBlocks, kThreads, 0, g.stream>>>(static_cast<float*>(g.send), count, value);
        } else {
            fill_kernel<<<kBlocks, kThreads, 0, g.stream>>>(static_cast<__nv_bfloat16*>(g.send), count, value);
        }
        CHECK_CUDA(cudaGetLastError());
    }

    void launch_check(const Gpu& g, std::size_t count, float expected, std::size_t block) {
        if (nccl_type_ == ncclFloat32) {
            check_kernel<<<kBlocks, kThreads, 0, g.stream>>>(static_cast<const float*>(g.recv), count, expected,
                                                              block, g.errors);
        } else {
            check_kernel<<<kBlocks, kThreads, 0, g.stream>>>(static_cast<const __nv_bfloat16*>(g.recv), count,
                                                              expected, block, g.errors);
        }
        CHECK_CUDA(cudaGetLastError());
    }

    void sync_all() {
        for (const Gpu& g : gpus_) {
            CHECK_CUDA(cudaSetDevice(g.device));
            CHECK_CUDA(cudaStreamSynchronize(g.stream));
        }
    }

    void launch(CommKind c, std::size_t count) {
        CHECK_NCCL(ncclGroupStart());
        for (const Gpu& g : gpus_) {
            switch (c) {
                case CommKind::all_reduce:
                    CHECK_NCCL(ncclAllReduce(g.send, g.recv, count, nccl_type_, ncclSum, g.comm, g.stream));
                    break;
                case CommKind::all_gather:
                    CHECK_NCCL(ncclAllGather(g.send, g.recv, count, nccl_type_, g.comm, g.stream));
                    break;
                case CommKind::reduce_scatter:
                    CHECK_NCCL(ncclReduceScatter(g.send, g.recv, count, nccl_type_, ncclSum, g.comm, g.stream));
                    break;
            }
        }
        CHECK_NCCL(ncclGroupEnd());
    }

    Row measure(CommKind c, std::uint64_t requested) {
        const std::size_t n = gpus_.size();
        // S must split into n equal blocks of whole elements (nccl-tests rounds down the same way).
        const auto bytes = static_cast<std::size_t>(
            llmplan::dist::busbw_round_bytes(c, requested, esize_, static_cast<int>(n)));
        Row row{c, bytes, 0, 0, 0, 0, 0, llmplan::dist::busbw_factor(c, static_cast<int>(n)), 0};
        if (bytes == 0) return row;
        const std::size_t count = llmplan::dist::busbw_count(c, bytes, esize_, static_cast<int>(n));
        const std::size_t out_count = c == CommKind::reduce_scatter ? count : bytes / esize_;
        row.count = count;

        for (const Gpu& g : gpus_) {
            CHECK_CUDA(cudaSetDevice(g.device));
            CHECK_CUDA(cudaMemsetAsync(g.recv, 0, out_count * esize_, g.stream));
            CHECK_CUDA(cudaMemsetAsync(g.errors, 0, sizeof(unsigned long long), g.stream));
        }
        for (int i = 0; i < options_.warmup; ++i) launch(c, count);
        sync_all();

        for (const Gpu& g : gpus_) {
            CHECK_CUDA(cudaSetDevice(g.device));
            CHECK_CUDA(cudaEventRecord(g.start, g.stream));
        }
        for (int i = 0; i < options_.iters; ++i) launch(c, count);
        for (const Gpu& g : gpus_) {
            CHECK_CUDA(cudaSetDevice(g.device));
            CHECK_CUDA(cudaEventRecord(g.stop, g.stream));
        }
        sync_all();

        double slowest_ms = 0;
        double fastest_ms = 1e300;
        for (const Gpu& g : gpus_) {
            float ms = 0;
            CHECK_CUDA(cudaEventElapsedTime(&ms, g.start, g.stop));
            slowest_ms = std::max(slowest_ms, static_cast<double>(ms));
            fastest_ms = std::min(fastest_ms, static_cast<double>(ms));
        }
        row.time_us = slowest_ms * 1e3 / options_.iters;
        row.min_gpu_time_us = fastest_ms * 1e3 / options_.iters;
        row.algbw_gbps = static_cast<double>(bytes) / (row.time_us * 1e-6) / 1e9;
        row.busbw_gbps = row.algbw_gbps * row.factor;

        const float sum = static_cast<float>(n * (n + 1) / 2);
        for (const Gpu& g : gpus_) {
            CHECK_CUDA(cudaSetDevice(g.device));
            launch_check(g, out_count, c == CommKind::all_gather ? 0.0f : sum,
                         c == CommKind::all_gather ? count : 0);
        }
        sync_all();
        for (const Gpu& g : gpus_) {
            CHECK_CUDA(cudaSetDevice(g.device));
            unsigned long long errors = 0;
            CHECK_CUDA(cudaMemcpy(&errors, g.errors, sizeof errors, cudaMemcpyDeviceToHost));
            row.errors += errors;
        }
        return row;
    }

    std::string to_json() const {
        const int n = static_cast<int>(gpus_.size());
        std::ostringstream j;
        j << "{\n";
        j << "  \"schema\": " << json_escape(kSchema) << ",\n";
        j << "  \"program\": " << json_escape(std::string("profiler/nccl_busbw.cu (") + kProgram + ")") << ",\n";
        j << "  \"command\": " << json_escape(command_) << ",\n";
        j << "  \"date\": " << json_escape(date_) << ",\n";
        char host[256] = {0};
        if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
        j << "  \"host\": " << json_escape(host) << ",\n";
        j << "  \"gpu_name\": " << json_escape(gpus_[0].name) << ",\n";
        j << "  \"gpu_count\": " << n << ",\n";
        j << "  \"devices\": [";
        for (int i = 0; i < n; ++i) {
            const Gpu& g = gpus_[static_cast<std::size_t>(i)];
            j << (i ? ",\n" : "\n") << "    {\"index\": " << g.device << ", \"name\": " << json_escape(g.name)
              << ", \"pci_bus_id\": " << json_escape(g.pci_bus_id)
              << ", \"total_memory_bytes\": " << fixed(g.total_memory_bytes, 0) << "}";
        }
        j << "\n  ],\n";
        j << "  \"nccl_version\": " << json_escape(version_text(nccl_version_, true)) << ",\n";
        j << "  \"nccl_version_code\": " << nccl_version_ << ",\n";
        j << "  \"cuda_runtime_version\": " << json_escape(version_text(runtime_version_, false)) << ",\n";
        j << "  \"cuda_runtime_version_code\": " << runtime_version_ << ",\n";
        j << "  \"cuda_driver_version\": " << json_escape(version_text(driver_version_, false)) << ",\n";
        j << "  \"nccl_env\": {";
        bool first = true;
        for (char** e = environ; e && *e; ++e) {
            const std::string kv = *e;
            if (kv.rfind("NCCL_", 0) != 0) continue;
            const std::size_t eq = kv.find('=');
            j << (first ? "" : ", ") << json_escape(kv.substr(0, eq)) << ": "
              << json_escape(eq == std::string::npos ? "" : kv.substr(eq + 1));
            first = false;
        }
        j << "},\n";
        j << "  \"dtype\": " << json_escape(options_.dtype) << ",\n";
        j << "  \"reduce_op\": \"sum\",\n";
        j << "  \"in_place\": false,\n";
        j << "  \"warmup_iters\": " << options_.warmup << ",\n";
        j << "  \"iters\": " << options_.iters << ",\n";
        j << "  \"timing\": " << json_escape(
            "CUDA events recorded on each GPU's stream around the timed iterations; time_us is the slowest "
            "GPU's mean per iteration, min_gpu_time_us the fastest GPU's") << ",\n";
        j << "  \"definitions\": " << json_escape(
            "nccl-tests doc/PERFORMANCE.md: algbw = bytes / time; busbw = algbw * factor, factor 2(n-1)/n for "
            "all_reduce and (n-1)/n for all_gather and reduce_scatter; bytes is the total size S: the buffer for "
            "all_reduce, the output for all_gather, the input for reduce_scatter; GB/s = 1e9 bytes/s; count is "
            "the per-rank element count passed to NCCL") << ",\n";
        j << "  \"check\": " << json_escape(
            "after the timed iterations every output element is compared with its exact value (rank r sends "
            "r+1); errors counts wrong elements over all GPUs") << ",\n";
        if (n == 1) {
            j << "  \"note\": " << json_escape(
                "one GPU: NCCL runs each collective as a local device-to-device copy (all-reduce and "
                "reduce-scatter of one rank copy the input), so nothing crosses a link; the busbw factor is 0 "
                "for n = 1 and busbw is reported as 0. time_us and algbw_GBps measure NCCL's launch overhead "
                "and on-GPU copy speed only, not interconnect bandwidth") << ",\n";
        } else {
            j << "  \"note\": " << json_escape(
                "single process, " + std::to_string(n) + " GPUs, ncclCommInitAll; NCCL chose algorithm and "
                "protocol itself (see nccl_env for overrides)") << ",\n";
        }
        j << "  \"results\": [";
        for (std::size_t i = 0; i < rows_.size(); ++i) {
            const Row& r = rows_[i];
            j << (i ? ",\n" : "\n") << "    {\"collective\": " << json_escape(llmplan::dist::to_string(r.collective))
              << ", \"bytes\": " << r.bytes << ", \"count\": " << r.count << ", \"time_us\": " << fixed(r.time_us, 2)
              << ", \"min_gpu_time_us\": " << fixed(r.min_gpu_time_us, 2)
              << ", \"algbw_GBps\": " << fixed(r.algbw_gbps, 3) << ", \"busbw_factor\": " << fixed(r.factor, 6)
              << ", \"busbw_GBps\": " << fixed(r.busbw_gbps, 3) << ", \"errors\": " << r.errors << "}";
        }
        j << "\n  ]\n}\n";
        return j.str();
    }

    void release() noexcept {
        for (Gpu& g : gpus_) {
            if (cudaSetDevice(g.device) != cudaSuccess) continue;
            if (g.stream) (void)cudaStreamSynchronize(g.stream);
            if (g.comm) (void)ncclCommDestroy(g.comm);
            if (g.send) (void)cudaFree(g.send);
            if (g.recv) (void)cudaFree(g.recv);
            if (g.errors) (void)cudaFree(g.errors);
            if (g.start) (void)cudaEventDestroy(g.start);
            if (g.stop) (void)cudaEventDestroy(g.stop);
            if (g.stream) (void)cudaStreamDestroy(g.stream);
            g = Gpu{};
        }
    }

    const Options& options_;
    std::string command_;
    std::string date_;
    int runtime_version_ = 0;
    int driver_version_ = 0;
    int nccl_version_ = 0;
    std::size_t esize_ = sizeof(float);
    ncclDataType_t nccl_type_ = ncclFloat32;
    std::vector<Gpu> gpus_;
    std::vector<Row> rows_;
};

}  // namespace

int main(int argc, char** argv) {
    Options options;
    std::string command = kProgram;
    for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
    try {
        if (!parse_args(argc, argv, options)) {
            std::fputs(kUsage, stdout);
            return 0;
        }
        Bench bench(options, command);
        const std::string json = bench.run();
        if (!bench.all_correct()) {
            write_output(options.out, json);  // keep the evidence, but fail
            std::fprintf(stderr, "%s: error: some collectives returned wrong values (see \"errors\" in the JSON)\n",
                         kProgram);
            return 1;
        }
        write_output(options.out, json);
        return 0;
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: error: %s\n", kProgram, e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: error: %s\n", kProgram, e.what());
        return 1;
    }
}
