// fuzz_calibration.cpp — the `--calibration` reader (planner/perf's apply_calibration, which also
// reads the engine kernel times through planner/engine_time's parse_engine_calibration) on any
// bytes; an accepted file then times one small job as `plan --framework llmplan --calibration F`
// does (engine_step_time with its kernel times; measured_collective_seconds with its collectives).
// The values must lie in the ranges the reader checks; a sanitizer report is a finding.
#include "core/config.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "fuzz/fuzz_support.h"
#include "planner/engine_time.h"
#include "planner/perf.h"

#include <cmath>
#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        PerfOptions o;
        apply_calibration(text, "--calibration cal.json", o);
        fuzz::check(std::isfinite(o.gemm_efficiency) && std::isfinite(o.elementwise_traffic) &&
                        std::isfinite(o.memory_bandwidth),
                    "apply_calibration accepted a non-finite value", text);
        static const ModelSpec model = preset_or_throw("gpt2-124m", "--model");
        static const GpuSpec& gpu = gpu_or_throw("h100-sxm", "--gpu");
        TrainConfig c;
        c.seq = 128;
        c = resolve_defaults(model, c);
        if (o.engine_calibration) (void)engine_step_time(model, c, gpu, o.engine_calibration.get());
        for (const Collective kind : {Collective::all_reduce, Collective::all_gather, Collective::reduce_scatter})
            for (const double bytes : {1.0, 1e6, 1e12}) (void)measured_collective_seconds(o.measured_collectives, kind, 8, bytes);
    });
    return 0;
}
