// fuzz_scaling_csv.cpp — `scaling --fit`'s CSV reader (planner/scaling_fit's parse_runs_csv) on any
// bytes. Every run it returns must hold finite, positive numbers; up to 200 runs are then fitted
// (fit_scaling_law, tens of milliseconds), and a fit that is not refused must give a law whose
// constants are finite and positive (more runs are left to tests/test_scaling.cpp: the fit's time
// grows with them).
#include "fuzz/fuzz_support.h"
#include "planner/scaling_fit.h"

#include <cmath>
#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        const std::vector<ScalingRun> runs = parse_runs_csv(text, "--fit runs.csv");
        for (const ScalingRun& r : runs) {
            const bool ok = std::isfinite(r.params) && r.params > 0 && std::isfinite(r.tokens) && r.tokens > 0 &&
                            std::isfinite(r.loss) && r.loss > 0;
            fuzz::check(ok, "parse_runs_csv returned a non-finite or non-positive run", text);
        }
        if (runs.size() > 200) return;
        const FitResult f = fit_scaling_law(runs);
        for (const double v : {f.law.E, f.law.A, f.law.B, f.law.alpha, f.law.beta, f.objective})
            fuzz::check(std::isfinite(v) && v >= 0, "fit_scaling_law gave a non-finite or negative constant", text);
    });
    return 0;
}
