// comm.h — NCCL collectives for the engine's data parallelism and for `llmplan profile comm`:
// one Communicator per process (one process per GPU, device = rank on one node).
//
// Plain C++ (no CUDA or NCCL type: streams, events and device buffers travel as void*), so
// host code, the C++20 engine face and nvcc alike can include it. Implemented in
// kernels/cuda/nccl_comm.cu, target llmplan_comm, which exists only when CUDA is on and NCCL
// was found (kernels/CMakeLists.txt); callers guard their use with LLMPLAN_HAVE_NCCL.
//
// What it guarantees:
//  * Setup: the ncclUniqueId travels through a file (dist/rendezvous.h: rank 0 writes it
//    atomically, the others poll with the timeout) or, under mpirun, through
//    CommConfig::broadcast_id (an MPI_Bcast from rank 0, dist/mpi_session.h), then ncclCommInitRankConfig with a blocking
//    communicator (a non-blocking one put a 70–180 µs floor under every collective: NCCL hands
//    each launch to a helper thread); a rank that never joins is stopped, and named, by the
//    launcher's timeout (dist/launcher.h).
//  * Collectives (all-reduce sum, reduce-scatter sum, all-gather; DType fp32, bf16, fp16) run on the
//    communicator's own CUDA stream (cudaStreamNonBlocking); wait_for()/record() order it against
//    compute streams through CUDA events.
//  * Every call is timed with a CUDA event pair on that stream and counted in bytes (nccl-tests'
//    S: the all-reduce's buffer, the all-gather's output, the reduce-scatter's input); take_calls()
//    returns them.
//  * Errors: every CUDA and NCCL result is checked. synchronize() polls cudaStreamQuery and
//    ncclCommGetAsyncError; an NCCL error, or a wait longer than timeout_seconds (a peer that died
//    or hangs), aborts the communicator (ncclCommAbort, which also releases the GPU kernels
//    waiting on the peer) and throws CommError naming the rank, what it waited for and why.
#pragma once

#include "core/vocab.h"
#include "dist/collective.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmplan::kernels {


// A failed or timed-out collective, or a failed setup: the message is one line naming the rank.
class CommError : public std::runtime_error {
public:
    explicit CommError(const std::string& message) : std::runtime_error(message) {}
};

struct CommConfig {
    int rank = 0, world = 1;
    int device = -1;               // CUDA device; -1: the rank (one node, one GPU per rank); mpirun: the local rank
    std::string id_file;           // where rank 0 publishes the ncclUniqueId (a fresh path per run)
    double timeout_seconds = 60;   // the longest one wait may take: the id file, init, a synchronize
    // Set: the id travels through it instead of id_file (mpirun: dist/mpi_session.h's
    // MpiSession::broadcast from rank 0). Every rank calls it once with the id's bytes, rank 0's
    // filled by ncclGetUniqueId; it must leave rank 0's bytes in every rank's buffer, or throw.
    std::function<void(void* data, std::size_t bytes)> broadcast_id;
};

// One collective as it ran.
struct CommCall {
    dist::CommKind kind = dist::CommKind::all_reduce;
    DType type = DType::fp32;
    std::size_t count = 0;     // elements per rank as NCCL took them
    std::uint64_t bytes = 0;   // nccl-tests' S
    double ms = 0;             // CUDA-event time on the communication stream
};

// The GPU a rank runs on and the versions it runs with.
struct CommDeviceInfo {
    int index = 0;
    std::string name, pci_bus_id;
    std::uint64_t total_memory_bytes = 0;
    int nccl_version = 0;          // ncclGetVersion: major·10000 + minor·100 + patch
    int cuda_runtime_version = 0;  // e.g. 13000
    int cuda_driver_version = 0;
};

// How many CUDA devices this process sees (0 with the reason in `why` when none or no driver).
// Does not create a CUDA context.
int comm_visible_gpus(std::string* why = nullptr) noexcept;

// One rank's measurement of the three collectives (`llmplan profile comm`, the nccl-tests way):
// for each collective and each total size S (rounded down as dist::busbw_round_bytes says) it
// runs `warmup` untimed and `iters` timed out-of-place calls back to back, times the timed ones
// with one CUDA event pair and checks every output element (rank r sends r + 1).
struct BusbwOptions {
    std::vector<dist::CommKind> kinds{dist::CommKind::all_reduce, dist::CommKind::all_gather,
                                      dist::CommKind::reduce_scatter};
    std::vector<std::uint64_t> sizes;  // requested S, bytes
    int iters = 20, warmup = 5;
    DType type = DType::fp32;
};
struct BusbwSample {
    dist::CommKind kind = dist::CommKind::all_reduce;
    std::uint64_t bytes = 0;   // S after rounding
    std::size_t count = 0;     // elements per rank passed to NCCL
    double time_us = 0;        // this rank's mean per iteration
    unsigned long long errors = 0;  // wrong output elements on this rank
};

class Communicator {
public:
    // Throws CommError (setup failed or timed out) or std::invalid_argument (bad config).
    explicit Communicator(const CommConfig& config);
    ~Communicator();  // finalizes and destroys (aborts after an error or a timeout); never throws
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    int rank() const;
    int world() const;
    int device() const;
    CommDeviceInfo device_info() const;

    // Device pointers of this rank's GPU; enqueued on the communication stream. count is NCCL's:
    // all_reduce: the buffer's elements; reduce_scatter: the receive count (send = count × world);
    // all_gather: the send count (receive = count × world). In place is allowed as NCCL allows it.
    void all_reduce(const void* send, void* recv, std::size_t count, DType type);
    void reduce_scatter(const void* send, void* recv, std::size_t recv_count, DType type);
    void all_gather(const void* send, void* recv, std::size_t send_count, DType type);

    void* stream() const;               // the communication stream (cudaStream_t)
    void wait_for(void* cuda_event);    // the communication stream waits for an event of another stream
    void record(void* cuda_event);      // records an event on the communication stream

    // Waits for everything enqueued, polling for NCCL errors; on an error or after the timeout it
    // aborts the communicator and throws CommError. The communicator is unusable afterwards.
    void synchronize();
    // The calls since the last take, with their times (synchronizes first).
    std::vector<CommCall> take_calls();
    void set_call_timing(bool on);      // default on: an event pair around every call

    // The bus-bandwidth measurement (see BusbwOptions); `progress` is called after each size.
    std::vector<BusbwSample> measure_busbw(const BusbwOptions& options,
                                           const std::function<void(const BusbwSample&)>& progress = {});

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace llmplan::kernels
