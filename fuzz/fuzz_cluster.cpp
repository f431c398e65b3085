// fuzz_cluster.cpp — the `--cluster FILE` reader (cli/options: apply_cluster_file, then
// resolve_gpu, resolve_job and resolve_perf, as `llmplan plan` runs them) on any bytes. The bytes
// are written to a file in a temporary folder this process owns and created (the reader takes a
// path); nothing else on the filesystem is read or written.
#include "cli/options.h"
#include "fuzz/fuzz_support.h"

#include <cmath>
#include <string>
#include <vector>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fuzz::TempDir dir;
    const std::string text = fuzz::text_of(data, size);
    const std::string path = fuzz::write_file(dir, "cluster.json", text);
    fuzz::accepts(text, [&] {
        CLI::App app;
        cli::JobOptions job;
        cli::PerfFlags perf;
        cli::add_job_options(app, job);
        cli::add_perf_options(app, perf);
        app.parse(std::vector<std::string>{path, "--cluster"});  // CLI11 takes arguments last-first
        cli::apply_cluster_file(app, perf, job);
        const GpuSpec gpu = cli::resolve_gpu(job);
        const TrainConfig config = cli::resolve_job(job, gpu);
        const cli::ResolvedPerf r = cli::resolve_perf(perf, gpu, config);
        const ClusterSpec& c = r.cluster;
        fuzz::check(std::isfinite(c.network_per_gpu) && c.network_per_gpu > 0 && std::isfinite(c.nvlink_bus_bandwidth) &&
                        c.nvlink_bus_bandwidth > 0 && std::isfinite(c.price_per_gpu_hour) && c.price_per_gpu_hour >= 0,
                    "resolve_perf accepted a non-finite or non-positive cluster value");
        fuzz::check(std::isfinite(r.options.pue) && std::isfinite(r.options.grid_intensity),
                    "resolve_perf accepted a non-finite pue or grid intensity");
    });
    return 0;
}
