// fuzz_scaling_csv.cpp — `scaling --fit`'s CSV reader (planner/scaling_fit's parse_runs_csv) on any
// bytes. Every run it returns must hold finite, positive numbers. (The fit itself is not run here:
// it takes seconds per input; tests/test_scaling.cpp covers it.)
#include "fuzz/fuzz_support.h"
#include "planner/scaling_fit.h"

#include <cmath>
#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        for (const ScalingRun& r : parse_runs_csv(text, "--fit runs.csv")) {
            const bool ok = std::isfinite(r.params) && r.params > 0 && std::isfinite(r.tokens) && r.tokens > 0 &&
                            std::isfinite(r.loss) && r.loss > 0;
            fuzz::check(ok, "parse_runs_csv returned a non-finite or non-positive run", text);
        }
    });
    return 0;
}
