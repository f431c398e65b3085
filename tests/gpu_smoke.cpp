// gpu_smoke.cpp — the GPU smoke test (ctest: gpu.smoke, label gpu): lists the CUDA devices and
// checks that each reports sane figures and runs a kernel built into this binary (sm_90 unless
// CMAKE_CUDA_ARCHITECTURES says otherwise). Exits 77 (ctest "Skipped") where there is no driver or
// GPU, so the suite passes on CPU-only machines; 0 when every device looks sane, 1 otherwise.
#include "kernels/device.h"

#include <cstdio>
#include <string>

int main() {
    const llmplan::kernels::DeviceQuery query = llmplan::kernels::query_devices();
    if (!query.ok || query.devices.empty()) {
        std::printf("SKIP: no CUDA device available (%s); GPU tests skipped\n",
                    query.error.empty() ? "no CUDA device" : query.error.c_str());
        return 77;
    }

    std::printf("CUDA driver %d, runtime %d, %zu device(s)\n", query.driver_version, query.runtime_version,
                query.devices.size());
    int failures = 0;
    for (const llmplan::kernels::DeviceInfo& d : query.devices) {
        const double gib = 1024.0 * 1024.0 * 1024.0;
        std::printf("  [%d] %s  sm_%d%d  %d SMs  %.1f GiB total, %.1f GiB free  %.0f MHz memory clock, %d-bit bus\n",
                    d.index, d.name.c_str(), d.sm_major, d.sm_minor, d.multiprocessors, d.total_memory_bytes / gib,
                    d.free_memory_bytes / gib, d.memory_clock_khz / 1000.0, d.memory_bus_width_bits);
        if (!(d.total_memory_bytes > 0)) {
            std::printf("FAIL: device %d reports no global memory\n", d.index);
            ++failures;
        }
        if (d.sm_major < 7) {
            std::printf("FAIL: device %d has compute capability %d.%d (llmplan needs 7.0 or newer)\n", d.index,
                        d.sm_major, d.sm_minor);
            ++failures;
        }
        if (d.multiprocessors <= 0) {
            std::printf("FAIL: device %d reports %d multiprocessors\n", d.index, d.multiprocessors);
            ++failures;
        }
        if (d.free_memory_bytes > d.total_memory_bytes) {
            std::printf("FAIL: device %d reports more free memory than it has\n", d.index);
            ++failures;
        }
        const std::string probe = llmplan::kernels::run_probe_kernel(d.index);
        if (!probe.empty()) {
            std::printf("FAIL: probe kernel: %s\n", probe.c_str());
            ++failures;
        } else {
            std::printf("  [%d] probe kernel ran\n", d.index);
        }
    }
    if (failures != 0) return 1;
    std::printf("PASS: %zu device(s) look sane\n", query.devices.size());
    return 0;
}
