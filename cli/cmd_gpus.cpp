// cmd_gpus.cpp — `llmplan gpus`: the GPU catalog (capacity, bandwidth, dense peaks, links, power).
#include "cli/commands.h"
#include "cli/table.h"
#include "core/json.h"
#include "core/quantity.h"
#include "planner/report.h"

#include <sstream>

namespace llmplan::cli {

void setup_gpus(CLI::App& parent, GpusCommand& cmd) {
    cmd.app = parent.add_subcommand("gpus", "List the GPU catalog: memory, bandwidth, dense peak FLOP/s, links");
    cmd.app->add_flag("--json", cmd.json, "Print JSON");
}

namespace {
std::string tflops(double v) { return v > 0 ? fixed(v / 1e12, 1) : "-"; }
}  // namespace

int run_gpus(const GpusCommand& cmd, std::ostream& out, std::ostream&) {
    if (cmd.json) {
        out << report_text(gpus_to_json(gpu_catalog()), "gpus report");
        return 0;
    }
    Table t({"name", "GPU", "memory GiB", "HBM TB/s", "bf16 TF", "fp8 TF", "fp4 TF", "tf32 TF", "fp32 TF", "link (GB/s per direction)", "host link", "W"},
            {false, false, true, true, true, true, true, true, true, false, false, true});
    for (const GpuSpec& g : gpu_catalog())
        t.add({g.name, g.display_name, fixed(g.memory_bytes / (1024.0 * 1024 * 1024), 0), fixed(g.memory_bandwidth / 1e12, 2),
               tflops(g.peak_bf16), tflops(g.peak_fp8), tflops(g.peak_fp4), tflops(g.peak_tf32), tflops(g.peak_fp32),
               g.intra_node_link + " " + fixed(g.intra_node_bandwidth / 1e9, 0), g.host_link + " " + fixed(g.host_link_bandwidth / 1e9, 0),
               fixed(g.tdp_watts, 0)});
    out << t.str() << "\nPeaks are dense (no sparsity), from the vendors' datasheets; docs/GPUS.md cites each.\n";
    return 0;
}

}  // namespace llmplan::cli
