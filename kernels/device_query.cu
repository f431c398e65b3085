// device_query.cu — the CUDA runtime calls behind kernels/device.h: device query and probe kernel.
// Every CUDA call is checked; errors become DeviceQuery::error, never exceptions or aborts.
#include "kernels/device.h"

#include <cuda_runtime.h>

#include <string>
#include <utility>

namespace llmplan::kernels {
namespace {

std::string describe(cudaError_t status) {
    return std::string(cudaGetErrorName(status)) + ": " + cudaGetErrorString(status);
}

__global__ void probe_kernel(int* out, int value) {
    *out = value * 2 + 1;
}

}  // namespace

DeviceQuery query_devices() noexcept {
    DeviceQuery result;
    try {
        // Both succeed without a GPU; the driver version is 0 when no NVIDIA driver is installed.
        if (cudaDriverGetVersion(&result.driver_version) != cudaSuccess) result.driver_version = 0;
        if (cudaRuntimeGetVersion(&result.runtime_version) != cudaSuccess) result.runtime_version = 0;

        int count = 0;
        const cudaError_t status = cudaGetDeviceCount(&count);
        if (status != cudaSuccess) {
            (void)cudaGetLastError();  // clear the error so later runtime calls start clean
            result.error = result.driver_version == 0 ? "no NVIDIA driver (" + describe(status) + ")"
                                                      : describe(status);
            return result;
        }
        if (count == 0) {
            result.error = "no CUDA device";
            return result;
        }

        int previous = 0;
        const bool had_current = cudaGetDevice(&previous) == cudaSuccess;
        for (int index = 0; index < count; ++index) {
            cudaDeviceProp prop{};
            const cudaError_t prop_status = cudaGetDeviceProperties(&prop, index);
            if (prop_status != cudaSuccess) {
                (void)cudaGetLastError();
                result.error = "device " + std::to_string(index) + ": " + describe(prop_status);
                result.devices.clear();
                return result;
            }
            DeviceInfo info;
            info.index = index;
            info.name = prop.name;
            info.sm_major = prop.major;
            info.sm_minor = prop.minor;
            info.total_memory_bytes = static_cast<double>(prop.totalGlobalMem);
            info.multiprocessors = prop.multiProcessorCount;
            info.memory_bus_width_bits = prop.memoryBusWidth;
            // cudaDeviceProp::memoryClockRate is gone in CUDA 13; the attribute remains.
            int clock_khz = 0;
            if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, index) == cudaSuccess) {
                info.memory_clock_khz = clock_khz;
            } else {
                (void)cudaGetLastError();
            }
            // Free memory needs a context on the device (busy or exclusive-mode GPUs refuse it).
            size_t free_bytes = 0;
            size_t total_bytes = 0;
            if (cudaSetDevice(index) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
                info.free_memory_bytes = static_cast<double>(free_bytes);
            } else {
                (void)cudaGetLastError();
            }
            result.devices.push_back(std::move(info));
        }
        if (had_current) (void)cudaSetDevice(previous);
        result.ok = true;
    } catch (...) {  // only std::bad_alloc can get here (strings, the vector)
        result.ok = false;
        result.devices.clear();
        try {
            result.error = "device query failed: out of host memory";
        } catch (...) {
        }
    }
    return result;
}

std::string run_probe_kernel(int device) noexcept {
    try {
        int previous = 0;
        const bool had_current = cudaGetDevice(&previous) == cudaSuccess;
        std::string error;
        int* d_out = nullptr;
        cudaError_t status = cudaSetDevice(device);
        if (status == cudaSuccess) status = cudaMalloc(&d_out, sizeof(int));
        if (status == cudaSuccess) {
            probe_kernel<<<1, 1>>>(d_out, device + 20);
            status = cudaGetLastError();  // launch errors, e.g. no kernel image for this device
        }
        if (status == cudaSuccess) status = cudaDeviceSynchronize();
        int h_out = 0;
        if (status == cudaSuccess) status = cudaMemcpy(&h_out, d_out, sizeof(int), cudaMemcpyDeviceToHost);
        if (status != cudaSuccess) {
            (void)cudaGetLastError();
            error = "device " + std::to_string(device) + ": " + describe(status);
        } else if (h_out != (device + 20) * 2 + 1) {
            error = "device " + std::to_string(device) + ": probe kernel returned " + std::to_string(h_out) +
                    ", expected " + std::to_string((device + 20) * 2 + 1);
        }
        if (d_out != nullptr) (void)cudaFree(d_out);
        if (had_current) (void)cudaSetDevice(previous);
        return error;
    } catch (...) {  // std::bad_alloc from the strings
        return "probe kernel failed: out of host memory";
    }
}

}  // namespace llmplan::kernels
