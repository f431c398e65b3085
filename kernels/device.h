// device.h — which CUDA GPUs this machine has: the host-side API of the kernels library.
//
// Plain C++ on purpose: no CUDA type or header appears here, so any host code (CLI, tests, the
// later GUI) can include it with an ordinary C++ compiler. It exists only when llmplan is built
// with LLMPLAN_CUDA=ON (target llmplan_kernels).
#pragma once

#include <string>
#include <vector>

namespace llmplan::kernels {

// One GPU as the CUDA runtime sees it (indices follow CUDA_VISIBLE_DEVICES).
struct DeviceInfo {
    int index = 0;
    std::string name;                // e.g. "NVIDIA H100 80GB HBM3"
    int sm_major = 0;                // compute capability, e.g. 9.0 for Hopper
    int sm_minor = 0;
    double total_memory_bytes = 0;   // global memory
    double free_memory_bytes = -1;   // free now; negative when it could not be read (device busy)
    int multiprocessors = 0;         // SM count
    double memory_clock_khz = 0;     // peak memory clock
    int memory_bus_width_bits = 0;
};

struct DeviceQuery {
    bool ok = false;                 // true when at least one device was found and queried
    std::string error;               // why not, e.g. "no CUDA device" or the CUDA error text
    int driver_version = 0;          // e.g. 13000 for CUDA 13.0; 0 when no driver is installed
    int runtime_version = 0;         // the CUDA runtime llmplan was built with, e.g. 13000
    std::vector<DeviceInfo> devices;
};

// Lists the visible CUDA devices. Never throws and never aborts: on a machine without a driver
// or a GPU it returns ok == false with the reason in `error`. Reading free memory creates the
// CUDA runtime's primary context on each device (kept for later use by the same process).
DeviceQuery query_devices() noexcept;

// Runs a one-thread kernel on `device` and checks its result: proves that the GPU code this build
// carries (CMAKE_CUDA_ARCHITECTURES, default sm_90) runs there. Returns "" on success, else why
// not (e.g. "cudaErrorNoKernelImageForDevice: ..." for a GPU the build has no code for). Never throws.
std::string run_probe_kernel(int device) noexcept;

}  // namespace llmplan::kernels
