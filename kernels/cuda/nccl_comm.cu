// nccl_comm.cu — the Communicator of kernels/comm.h: NCCL setup through a unique-id file (or an MPI
// broadcast, CommConfig::broadcast_id), the three collectives on a dedicated stream with per-call
// CUDA-event timing, error and timeout polling (ncclCommGetAsyncError, ncclCommAbort), and one
// rank's share of `llmplan profile comm`.
// Built into llmplan_comm (CUDA and NCCL only, kernels/CMakeLists.txt).
#include "kernels/comm.h"

#include "kernels/cuda/nccl_check.cuh"
#include "dist/rendezvous.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <thread>

namespace llmplan::kernels {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string cuda_text(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

std::string seconds_text(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f s", s);
    return buf;
}

ncclDataType_t nccl_type(DType t) {
    switch (t) {
        case DType::fp32: return ncclFloat32;
        case DType::bf16: return ncclBfloat16;
        case DType::fp16: return ncclFloat16;
    }
    return ncclFloat32;
}

// Blocking communicators (ncclConfig_t::blocking = 1). A non-blocking one (blocking = 0) would
// turn a peer that never joins into a timeout here rather than at the launcher, but NCCL then
// hands every collective's launch to a helper thread: on 2 × H100 (2026-11-25) that put a
// 70–180 µs floor under every call (1–32 MiB ran at a third to a half of the bus bandwidth a
// single process driving both GPUs measured: validation/nccl/nccl_busbw_2gpu_h100.json). A rank that hangs in init is stopped, and named,
// by the launcher's timeout (dist/launcher.h); stuck collectives still time out in
// synchronize(), which aborts the communicator.
constexpr int kBlocking = 1;

}  // namespace

int comm_visible_gpus(std::string* why) noexcept {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        if (why) *why = "no usable CUDA device (" + cuda_text(e) + ")";
        return 0;
    }
    if (count == 0 && why) *why = "no CUDA device visible";
    return count;
}

struct Communicator::Impl {
    CommConfig config;
    int device = 0;
    ncclComm_t comm = nullptr;
    cudaStream_t stream = nullptr;
    bool broken = false;  // aborted after an error or a timeout
    bool timing = true;
    struct Pending {
        CommCall call;
        cudaEvent_t start = nullptr, stop = nullptr;
    };
    std::vector<Pending> pending;
    std::vector<cudaEvent_t> pool;
    // The measurement's buffers (measure_busbw).
    void* send = nullptr;
    void* recv = nullptr;
    std::size_t buffer_bytes = 0;
    unsigned long long* errors = nullptr;
    cudaEvent_t bench_start = nullptr, bench_stop = nullptr;

    ~Impl() {
        if (stream) (void)cudaSetDevice(device);
        if (comm && !broken) {
            // Finish what was issued (polled, bounded), then finalize and destroy.
            bool clean = true;
            try {
                synchronize("the last collectives before closing");
            } catch (const std::exception&) {
                clean = false;  // synchronize aborted the communicator
            }
            if (clean && comm) {
                ncclResult_t r = ncclCommFinalize(comm);
                const Clock::time_point t0 = Clock::now();
                ncclResult_t state = r;
                while (r == ncclSuccess || r == ncclInProgress) {
                    if (ncclCommGetAsyncError(comm, &state) != ncclSuccess || state != ncclInProgress) break;
                    if (since(t0) > config.timeout_seconds) {
                        state = ncclInProgress;
                        break;
                    }
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
                if ((r == ncclSuccess || r == ncclInProgress) && state == ncclSuccess) {
                    (void)ncclCommDestroy(comm);
                } else {
                    (void)ncclCommAbort(comm);
                }
                comm = nullptr;
            }
        } else if (comm) {
            (void)ncclCommAbort(comm);
            comm = nullptr;
        }
        for (Pending& p : pending) {
            if (p.start) (void)cudaEventDestroy(p.start);
            if (p.stop) (void)cudaEventDestroy(p.stop);
        }
        for (cudaEvent_t e : pool) (void)cudaEventDestroy(e);
        if (bench_start) (void)cudaEventDestroy(bench_start);
        if (bench_stop) (void)cudaEventDestroy(bench_stop);
        if (send) (void)cudaFree(send);
        if (recv) (void)cudaFree(recv);
        if (errors) (void)cudaFree(errors);
        if (stream) (void)cudaStreamDestroy(stream);
    }

    std::string who() const { return "rank " + std::to_string(config.rank) + " (GPU " + std::to_string(device) + ")"; }

    void abort_comm() noexcept {
        if (comm) (void)ncclCommAbort(comm);
        comm = nullptr;
        broken = true;
    }

    [[noreturn]] void fail(const std::string& what) {
        abort_comm();
        throw CommError(who() + ": " + what);
    }

    std::string nccl_last_error() const {
        const char* last = ncclGetLastError(comm);
        return last && *last ? std::string(" (") + last + ")" : std::string();
    }

    void check_cuda(cudaError_t e, const char* call) {
        if (e != cudaSuccess) fail(std::string(call) + " failed: " + cuda_text(e));
    }

    // The communicator's state after a call: wait while it is in progress (ncclInProgress).
    void wait_ready(const std::string& what) {
        const Clock::time_point t0 = Clock::now();
        for (;;) {
            ncclResult_t state = ncclSuccess;
            const ncclResult_t q = ncclCommGetAsyncError(comm, &state);
            if (q != ncclSuccess) fail("ncclCommGetAsyncError failed: " + std::string(ncclGetErrorString(q)));
            if (state == ncclSuccess) return;
            if (state != ncclInProgress)
                fail(what + " failed: " + ncclGetErrorString(state) + nccl_last_error());
            if (since(t0) > config.timeout_seconds)
                fail(what + " did not complete within " + seconds_text(config.timeout_seconds) +
                     " (another rank failed, hangs or never joined); communicator aborted");
            // Spin for the first 2 ms, then sleep (a call still in progress after that waits
            // for a peer).
            if (since(t0) < 2e-3)
                std::this_thread::yield();
            else
                std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }

    void check_nccl(ncclResult_t r, const std::string& what) {
        if (r == ncclSuccess) return;
        if (r == ncclInProgress) {
            wait_ready(what);
            return;
        }
        fail(what + " failed: " + ncclGetErrorString(r) + nccl_last_error());
    }

    void usable() const {
        if (broken) throw CommError(who() + ": the communicator was aborted after an earlier error");
    }

    // Everything enqueued on the stream done, or an NCCL error / the timeout: abort and throw.
    void synchronize(const std::string& what) {
        usable();
        const Clock::time_point t0 = Clock::now();
        for (;;) {
            const cudaError_t q = cudaStreamQuery(stream);
            if (q == cudaSuccess) return;
            if (q != cudaErrorNotReady) fail("waiting for " + what + ": " + cuda_text(q));
            ncclResult_t state = ncclSuccess;
            const ncclResult_t g = ncclCommGetAsyncError(comm, &state);
            if (g != ncclSuccess) fail("ncclCommGetAsyncError failed: " + std::string(ncclGetErrorString(g)));
            if (state != ncclSuccess && state != ncclInProgress)
                fail(what + " failed: " + ncclGetErrorString(state) + nccl_last_error());
            if (since(t0) > config.timeout_seconds)
                fail(what + " did not finish within " + seconds_text(config.timeout_seconds) +
                     " (another rank failed or hangs); communicator aborted");
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

    cudaEvent_t event() {
        if (!pool.empty()) {
            cudaEvent_t e = pool.back();
            pool.pop_back();
            return e;
        }
        cudaEvent_t e = nullptr;
        check_cuda(cudaEventCreate(&e), "cudaEventCreate");
        return e;
    }

    void launch(dist::CommKind kind, const void* s, void* r, std::size_t count, DType type, bool timed) {
        usable();
        const std::size_t eb = dtype_bytes(type);
        const auto world = static_cast<std::uint64_t>(config.world);
        Pending p;
        p.call.kind = kind;
        p.call.type = type;
        p.call.count = count;
        p.call.bytes = kind == dist::CommKind::all_reduce ? count * eb : count * eb * world;  // nccl-tests' S
        if (timed) {
            p.start = event();
            p.stop = event();
            check_cuda(cudaEventRecord(p.start, stream), "cudaEventRecord");
        }
        const ncclDataType_t t = nccl_type(type);
        switch (kind) {
            case dist::CommKind::all_reduce:
                check_nccl(ncclAllReduce(s, r, count, t, ncclSum, comm, stream), "ncclAllReduce");
                break;
            case dist::CommKind::reduce_scatter:
                check_nccl(ncclReduceScatter(s, r, count, t, ncclSum, comm, stream), "ncclReduceScatter");
                break;
            case dist::CommKind::all_gather:
                check_nccl(ncclAllGather(s, r, count, t, comm, stream), "ncclAllGather");
                break;
        }
        if (timed) {
            check_cuda(cudaEventRecord(p.stop, stream), "cudaEventRecord");
            pending.push_back(p);
        }
    }

    template <typename T>
    void fill(std::size_t count, float value) {
        cuda::nccl_check::fill_kernel<T><<<cuda::nccl_check::kBlocks, cuda::nccl_check::kThreads, 0, stream>>>(
            static_cast<T*>(send), count, value);
        check_cuda(cudaGetLastError(), "fill_kernel launch");
    }
    template <typename T>
    void check_output(std::size_t count, float expected, std::size_t block) {
        cuda::nccl_check::check_kernel<T><<<cuda::nccl_check::kBlocks, cuda::nccl_check::kThreads, 0, stream>>>(
            static_cast<const T*>(recv), count, expected, block, errors);
        check_cuda(cudaGetLastError(), "check_kernel launch");
    }
};

Communicator::Communicator(const CommConfig& config) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.config = config;
    if (config.world < 1 || config.rank < 0 || config.rank >= config.world)
        throw std::invalid_argument("communicator: rank " + std::to_string(config.rank) + " of world " +
                                    std::to_string(config.world) + " is out of range");
    if (config.world > 1 && config.id_file.empty() && !config.broadcast_id)
        throw std::invalid_argument("communicator: " + std::to_string(config.world) + " ranks need an id file or a broadcast");
    if (!(config.timeout_seconds > 0)) throw std::invalid_argument("communicator: the timeout must be positive");
    m.device = config.device < 0 ? config.rank : config.device;
    std::string why;
    const int visible = comm_visible_gpus(&why);
    if (visible == 0) throw CommError(m.who() + ": " + why);
    if (m.device >= visible)
        throw CommError(m.who() + ": GPU " + std::to_string(m.device) + " does not exist (" + std::to_string(visible) +
                        " visible); one GPU per rank is needed");
    m.check_cuda(cudaSetDevice(m.device), "cudaSetDevice");
    m.check_cuda(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");

    ncclUniqueId id;
    static_assert(sizeof(ncclUniqueId) == NCCL_UNIQUE_ID_BYTES, "ncclUniqueId is NCCL_UNIQUE_ID_BYTES long");
    try {
        if (config.world > 1 && config.broadcast_id) {
            // mpirun: every rank takes part in the broadcast; rank 0's bytes win.
            std::memset(&id, 0, sizeof id);
            if (config.rank == 0) {
                const ncclResult_t r = ncclGetUniqueId(&id);
                if (r != ncclSuccess) throw CommError(m.who() + ": ncclGetUniqueId failed: " + ncclGetErrorString(r));
            }
            config.broadcast_id(&id, sizeof id);
        } else if (config.rank == 0) {
            const ncclResult_t r = ncclGetUniqueId(&id);
            if (r != ncclSuccess) throw CommError(m.who() + ": ncclGetUniqueId failed: " + ncclGetErrorString(r));
            if (config.world > 1) {
                std::vector<unsigned char> bytes(sizeof id);
                std::memcpy(bytes.data(), &id, sizeof id);
                dist::publish_file(config.id_file, bytes);
            }
        } else {
            const std::vector<unsigned char> bytes = dist::wait_for_file(config.id_file, sizeof id, config.timeout_seconds);
            std::memcpy(&id, bytes.data(), sizeof id);
        }
    } catch (const CommError&) {
        throw;
    } catch (const std::exception& e) {
        throw CommError(m.who() + ": the NCCL unique id: " + e.what());
    }

    ncclConfig_t nc = NCCL_CONFIG_INITIALIZER;
    nc.blocking = kBlocking;
    const ncclResult_t r = ncclCommInitRankConfig(&m.comm, config.world, id, config.rank, &nc);
    if (r != ncclSuccess && r != ncclInProgress) {
        const std::string text = std::string("ncclCommInitRankConfig failed: ") + ncclGetErrorString(r);
        if (m.comm) m.fail(text);
        m.broken = true;
        throw CommError(m.who() + ": " + text);
    }
    m.wait_ready("ncclCommInitRankConfig (" + std::to_string(config.world) + " ranks)");
}

Communicator::~Communicator() = default;

int Communicator::rank() const { return impl_->config.rank; }
int Communicator::world() const { return impl_->config.world; }
int Communicator::device() const { return impl_->device; }

CommDeviceInfo Communicator::device_info() const {
    Impl& m = *impl_;
    CommDeviceInfo d;
    d.index = m.device;
    cudaDeviceProp prop{};
    m.check_cuda(cudaGetDeviceProperties(&prop, m.device), "cudaGetDeviceProperties");
    d.name = prop.name;
    d.total_memory_bytes = prop.totalGlobalMem;
    char bus[32] = {0};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, m.device) == cudaSuccess) d.pci_bus_id = bus;
    m.check_cuda(cudaRuntimeGetVersion(&d.cuda_runtime_version), "cudaRuntimeGetVersion");
    m.check_cuda(cudaDriverGetVersion(&d.cuda_driver_version), "cudaDriverGetVersion");
    const ncclResult_t r = ncclGetVersion(&d.nccl_version);
    if (r != ncclSuccess) throw CommError(m.who() + ": ncclGetVersion failed: " + ncclGetErrorString(r));
    return d;
}

void Communicator::all_reduce(const void* send, void* recv, std::size_t count, DType type) {
    impl_->launch(dist::CommKind::all_reduce, send, recv, count, type, impl_->timing);
}
void Communicator::reduce_scatter(const void* send, void* recv, std::size_t recv_count, DType type) {
    impl_->launch(dist::CommKind::reduce_scatter, send, recv, recv_count, type, impl_->timing);
}
void Communicator::all_gather(const void* send, void* recv, std::size_t send_count, DType type) {
    impl_->launch(dist::CommKind::all_gather, send, recv, send_count, type, impl_->timing);
}

void* Communicator::stream() const { return impl_->stream; }
void Communicator::wait_for(void* cuda_event) {
    impl_->usable();
    impl_->check_cuda(cudaStreamWaitEvent(impl_->stream, static_cast<cudaEvent_t>(cuda_event), 0), "cudaStreamWaitEvent");
}
void Communicator::record(void* cuda_event) {
    impl_->usable();
    impl_->check_cuda(cudaEventRecord(static_cast<cudaEvent_t>(cuda_event), impl_->stream), "cudaEventRecord");
}
void Communicator::synchronize() { impl_->synchronize("the enqueued collectives"); }
void Communicator::set_call_timing(bool on) { impl_->timing = on; }

std::vector<CommCall> Communicator::take_calls() {
    Impl& m = *impl_;
    m.synchronize("the enqueued collectives");
    std::vector<CommCall> out;
    out.reserve(m.pending.size());
    for (Impl::Pending& p : m.pending) {
        float ms = 0;
        m.check_cuda(cudaEventElapsedTime(&ms, p.start, p.stop), "cudaEventElapsedTime");
        p.call.ms = ms;
        out.push_back(p.call);
        m.pool.push_back(p.start);
        m.pool.push_back(p.stop);
        p.start = p.stop = nullptr;
    }
    m.pending.clear();
    return out;
}

std::vector<BusbwSample> Communicator::measure_busbw(const BusbwOptions& o,
                                                     const std::function<void(const BusbwSample&)>& progress) {
    Impl& m = *impl_;
    m.usable();
    if (o.iters < 1 || o.warmup < 0) throw std::invalid_argument("measure_busbw: iters ≥ 1 and warmup ≥ 0");
    const int n = m.config.world;
    const std::size_t eb = dtype_bytes(o.type);
    std::uint64_t largest = 0;
    for (const std::uint64_t s : o.sizes) largest = std::max(largest, s);
    largest = largest / eb * eb;
    if (largest == 0) return {};
    // One send and one receive buffer of the largest S serve every collective:
    // all-reduce S → S, all-gather S/n → S, reduce-scatter S → S/n.
    if (m.buffer_bytes < largest) {
        if (m.send) m.check_cuda(cudaFree(m.send), "cudaFree");
        if (m.recv) m.check_cuda(cudaFree(m.recv), "cudaFree");
        m.send = m.recv = nullptr;
        m.buffer_bytes = 0;
        std::size_t free_bytes = 0, total_bytes = 0;
        m.check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
        if (2 * largest + (std::size_t{256} << 20) > free_bytes)
            throw CommError(m.who() + ": " + std::to_string(free_bytes >> 20) + " MiB free, too little for two buffers of " +
                            std::to_string(largest) + " bytes; lower --max-bytes");
        m.check_cuda(cudaMalloc(&m.send, largest), "cudaMalloc");
        m.check_cuda(cudaMalloc(&m.recv, largest), "cudaMalloc");
        m.buffer_bytes = largest;
    }
    if (!m.errors) m.check_cuda(cudaMalloc(&m.errors, sizeof(unsigned long long)), "cudaMalloc");
    if (!m.bench_start) m.check_cuda(cudaEventCreate(&m.bench_start), "cudaEventCreate");
    if (!m.bench_stop) m.check_cuda(cudaEventCreate(&m.bench_stop), "cudaEventCreate");
    const float mine = static_cast<float>(m.config.rank + 1);
    switch (o.type) {
        case DType::fp32: m.fill<float>(m.buffer_bytes / eb, mine); break;
        case DType::bf16: m.fill<__nv_bfloat16>(m.buffer_bytes / eb, mine); break;
        case DType::fp16: m.fill<__half>(m.buffer_bytes / eb, mine); break;
    }
    m.synchronize("filling the send buffer");

    std::vector<BusbwSample> out;
    for (const dist::CommKind kind : o.kinds) {
        for (const std::uint64_t requested : o.sizes) {
            BusbwSample s;
            s.kind = kind;
            s.bytes = dist::busbw_round_bytes(kind, requested, eb, n);
            if (s.bytes == 0) continue;  // S too small to split into n blocks of whole elements
            s.count = dist::busbw_count(kind, s.bytes, eb, n);
            const std::size_t out_count = kind == dist::CommKind::reduce_scatter ? s.count : s.bytes / eb;
            const std::string what = std::string(dist::to_string(kind)) + " of " + std::to_string(s.bytes) + " bytes";
            m.check_cuda(cudaMemsetAsync(m.recv, 0, out_count * eb, m.stream), "cudaMemsetAsync");
            m.check_cuda(cudaMemsetAsync(m.errors, 0, sizeof(unsigned long long), m.stream), "cudaMemsetAsync");
            // Warm-up, then the timed calls back to back with no host wait in between: the start
            // event fires when the last warm-up call completes, which all ranks do together.
            for (int i = 0; i < o.warmup; ++i) m.launch(kind, m.send, m.recv, s.count, o.type, false);
            m.check_cuda(cudaEventRecord(m.bench_start, m.stream), "cudaEventRecord");
            for (int i = 0; i < o.iters; ++i) m.launch(kind, m.send, m.recv, s.count, o.type, false);
            m.check_cuda(cudaEventRecord(m.bench_stop, m.stream), "cudaEventRecord");
            m.synchronize("the timed " + what);
            float ms = 0;
            m.check_cuda(cudaEventElapsedTime(&ms, m.bench_start, m.bench_stop), "cudaEventElapsedTime");
            s.time_us = static_cast<double>(ms) * 1e3 / o.iters;
            const float sum = static_cast<float>(n) * static_cast<float>(n + 1) / 2;
            const float expected = kind == dist::CommKind::all_gather ? 0.0f : sum;
            const std::size_t block = kind == dist::CommKind::all_gather ? s.count : 0;
            switch (o.type) {
                case DType::fp32: m.check_output<float>(out_count, expected, block); break;
                case DType::bf16: m.check_output<__nv_bfloat16>(out_count, expected, block); break;
                case DType::fp16: m.check_output<__half>(out_count, expected, block); break;
            }
            m.synchronize("checking the " + what);
            unsigned long long errors = 0;
            m.check_cuda(cudaMemcpy(&errors, m.errors, sizeof errors, cudaMemcpyDeviceToHost), "cudaMemcpy");
            s.errors = errors;
            out.push_back(s);
            if (progress) progress(s);
        }
    }
    return out;
}

}  // namespace llmplan::kernels
