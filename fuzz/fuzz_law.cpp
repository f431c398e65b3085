// fuzz_law.cpp — `scaling --law-file`'s reader (planner/scaling's law_from_json) on any bytes, then
// the law's compute-optimal allocation for one budget, as `llmplan scaling --law-file F --compute C`
// computes it (no finiteness check here: degenerate laws are the arithmetic's business; a
// sanitizer report or an exception other than InputError is a finding).
#include "fuzz/fuzz_support.h"
#include "planner/scaling.h"

#include <string>

using namespace llmplan;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::text_of(data, size);
    fuzz::accepts(text, [&] {
        const LawChoice law = law_from_json(text, "--law-file law.json");
        (void)law_to_json(law.law);
        (void)optimum_for_compute(law, 5.76e23);
    });
    return 0;
}
