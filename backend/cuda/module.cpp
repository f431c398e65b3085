// module.cpp — the GPU backend module (target llmplan_cuda, build/libllmplan_cuda.so): GpuBackend
// (backend/backend.h) over the CUDA engine and kernels (llmplan_kernels), the NCCL communicator
// (llmplan_comm, when NCCL was found) and the MPI session (dist/mpi_session.cpp, when MPI was
// found), and the module's one exported symbol, llmplan_backend_entry (a version script keeps
// every other symbol local: backend/cuda/exports.map).
#include "backend/cuda/module.h"

#include "kernels/engine.h"

#include <stdexcept>

namespace llmplan::backend {

namespace {

class CudaBackend final : public GpuBackend {
public:
    bool gpu_available(std::string* why) override { return kernels::engine_gpu_available(why); }
    kernels::DeviceQuery query_devices() override { return kernels::query_devices(); }

    profiler::ProfileMeasurement run_profile(const profiler::ProfileRequest& request, const StepProgress& progress) override {
        return run_engine_profile(request, progress);
    }

    double time_engine_kernel(const kernels::EngineKernelShape& shape) override { return kernels::gpu_time_engine_kernel(shape); }
    double launch_seconds() override { return kernels::gpu_launch_seconds(); }
    double copy_bandwidth(std::size_t bytes) override { return kernels::gpu_copy_bandwidth(bytes); }

    int comm_visible_gpus(std::string* why) override {
#if LLMPLAN_HAVE_NCCL
        return kernels::comm_visible_gpus(why);
#else
        if (why) *why = "the GPU backend was built without NCCL (no nccl.h/libnccl at configure time)";
        return 0;
#endif
    }

    std::vector<kernels::BusbwSample> measure_busbw(const kernels::CommConfig& config, const kernels::BusbwOptions& options,
                                                    const std::function<void(const kernels::CommDeviceInfo&)>& ready,
                                                    const std::function<void(const kernels::BusbwSample&)>& progress) override {
#if LLMPLAN_HAVE_NCCL
        kernels::Communicator comm(config);
        if (ready) ready(comm.device_info());
        return comm.measure_busbw(options, progress);
#else
        (void)config, (void)options, (void)ready, (void)progress;
        throw std::runtime_error("the GPU backend was built without NCCL");
#endif
    }

    std::unique_ptr<kernels::MpiSession> mpi_session(std::string* why) override {
#if LLMPLAN_HAVE_MPI
        (void)why;
        return kernels::start_mpi_session();
#else
        if (why) *why = "the GPU backend was built without MPI (no MPI found at configure time; libopenmpi-dev)";
        return nullptr;
#endif
    }
};

GpuBackend* create() {
    static CudaBackend backend;  // never destroyed before exit: the process keeps the module open
    return &backend;
}

constexpr BackendEntry kEntry{kAbiVersion, LLMPLAN_VERSION, &create};

}  // namespace

}  // namespace llmplan::backend

extern "C" const llmplan::backend::BackendEntry* llmplan_backend_entry() { return &llmplan::backend::kEntry; }
