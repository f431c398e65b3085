// fuzz_law.cpp — `scaling --law-file`'s reader (planner/scaling's law_from_json) on any bytes, then
// the law's compute-optimal allocation for one budget, as `llmplan scaling --law-file F --compute C`
// computes it. A law the reader accepts is bounded (validate_law) and its frontier is either
// finite, at least one parameter and one token, or refused (compute_optimal): a NaN, an infinity
// or N_opt below 1 that gets through is a finding, as is a sanitizer report or an exception other
// than InputError.
#include "fuzz/fuzz_support.h"
#include "planner/scaling.h"

#include <cmath>
#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        const LawChoice law = law_from_json(text, "--law-file law.json");
        (void)law_to_json(law.law);
        const ComputeOptimum o = optimum_for_compute(law, 5.76e23);
        fuzz::check(std::isfinite(o.parameters) && o.parameters >= 1 && std::isfinite(o.tokens) && o.tokens >= 1 &&
                        std::isfinite(o.loss) && o.loss > 0,
                    "the compute-optimal allocation is not finite and positive");
    });
    return 0;
}
