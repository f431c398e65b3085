// backend.h — the GPU backend's interface: what `llmplan profile` (and profile calibrate, profile
// comm, profile --gpus N, mpirun) asks of the GPU, behind one abstract class.
//
// The CLI and the GUI link no CUDA, cuBLAS, NCCL or MPI library: the GPU code (kernels/, the
// communicator, the MPI session) is built into a shared module, build/libllmplan_cuda.so (target
// llmplan_cuda, backend/cuda/), which backend/loader.h opens with dlopen the first time a command
// needs the GPU. So `llmplan plan` and `llmplan --help` start in a few milliseconds and run on
// machines without CUDA; `profile --device cuda` without the module (or without a driver or GPU)
// is refused in one line that names the file looked for and why it failed.
//
// Plain C++ (no CUDA, NCCL or MPI type): the types that cross are the plain host types of
// kernels/device.h, kernels/op_timing.h, kernels/comm.h, profiler/runner.h and dist/mpi_session.h.
// Both sides are built from one tree by one compiler (C++ types, std::string and std::function
// cross the boundary); kAbiVersion guards against a module of another build: bump it whenever this
// file or one of those headers changes a type that crosses.
#pragma once

#include "dist/mpi_session.h"
#include "kernels/comm.h"
#include "kernels/device.h"
#include "kernels/op_timing.h"
#include "profiler/runner.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace llmplan::backend {

// The interface version; the loader refuses a module that reports another one.
inline constexpr int kAbiVersion = 1;
// The module's file name and its one exported symbol (a C function returning the BackendEntry).
inline constexpr const char* kModuleFile = "libllmplan_cuda.so";
inline constexpr const char* kEntrySymbol = "llmplan_backend_entry";

using StepProgress = std::function<void(int, int, const profiler::StepTiming&, bool)>;

class GpuBackend {
public:
    virtual ~GpuBackend() = default;

    // Whether the engine can run here (a driver, a GPU this build has code for); when not, `why`
    // says why in one line ("no CUDA driver …", "no CUDA device …"). Never throws.
    virtual bool gpu_available(std::string* why) = 0;
    // The visible devices (kernels/device.h). Never throws.
    virtual kernels::DeviceQuery query_devices() = 0;

    // `llmplan profile --device cuda`: the request's steps on the GPU engine (kernels/engine.h);
    // request.storage is already resolved (profiler::storage_of). With world > 1 this process is
    // one rank: its communicator comes first (kernels/comm.h). Throws InputError for shapes the
    // engine refuses, std::runtime_error for CUDA/NCCL failures.
    virtual profiler::ProfileMeasurement run_profile(const profiler::ProfileRequest& request,
                                                     const StepProgress& progress) = 0;

    // `llmplan profile calibrate` (kernels/op_timing.h): one kernel shape, the launch floor, the
    // device-to-device copy bandwidth.
    virtual double time_engine_kernel(const kernels::EngineKernelShape& shape) = 0;
    virtual double launch_seconds() = 0;
    virtual double copy_bandwidth(std::size_t bytes) = 0;

    // `llmplan profile comm`: the GPUs this process sees (0 with the reason in `why`: no NCCL in
    // the module, no driver, no GPU; no CUDA context is created), and one rank's bus-bandwidth
    // measurement (kernels/comm.h Communicator::measure_busbw); `ready` is called once the
    // communicator is up, `progress` after each size. Throws kernels::CommError on NCCL failures.
    virtual int comm_visible_gpus(std::string* why) = 0;
    virtual std::vector<kernels::BusbwSample> measure_busbw(const kernels::CommConfig& config,
                                                            const kernels::BusbwOptions& options,
                                                            const std::function<void(const kernels::CommDeviceInfo&)>& ready,
                                                            const std::function<void(const kernels::BusbwSample&)>& progress) = 0;

    // `mpirun -np N llmplan profile …`: a session (MPI_Init_thread now, MPI_Finalize when it is
    // destroyed), or nullptr with `why` when the module was built without MPI. Throws
    // std::runtime_error when MPI fails to start.
    virtual std::unique_ptr<kernels::MpiSession> mpi_session(std::string* why) = 0;
};

// What llmplan_backend_entry() returns. abi_version comes first and is read before anything else,
// so that a module of any other version is refused without touching the rest.
struct BackendEntry {
    int abi_version;
    const char* llmplan_version;  // the module's project version, for the refusal's message
    GpuBackend* (*create)();      // one backend for the process; never destroyed (CUDA's own exit order)
};

}  // namespace llmplan::backend

// The module's only exported symbol (backend/cuda/module.cpp).
extern "C" const llmplan::backend::BackendEntry* llmplan_backend_entry();
