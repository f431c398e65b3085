// quant.cpp — bytes per weight by format; formulas and sources in quant.h.
#include "planner/quant.h"

#include "core/error.h"
#include "core/text.h"

#include <sstream>

namespace llmplan {

namespace {
struct Named {
    const char* name;
    WeightFormat f;
};
constexpr Named kFormats[] = {{"fp32", WeightFormat::fp32}, {"fp16", WeightFormat::fp16}, {"bf16", WeightFormat::bf16},
                              {"fp8", WeightFormat::fp8},   {"int8", WeightFormat::int8}, {"int4", WeightFormat::int4},
                              {"int3", WeightFormat::int3}, {"nf4", WeightFormat::nf4}};
}  // namespace

const char* to_string(WeightFormat f) {
    for (const Named& n : kFormats)
        if (n.f == f) return n.name;
    return "?";
}

std::vector<std::string> weight_format_names() {
    std::vector<std::string> v;
    for (const Named& n : kFormats) v.emplace_back(n.name);
    return v;
}

WeightFormat parse_weight_format(std::string_view text, std::string_view flag) {
    const std::string t = to_lower(trim(text));
    for (const Named& n : kFormats)
        if (t == n.name) return n.f;
    std::string msg = std::string(flag) + ": \"" + std::string(text) + "\" is not a weight format";
    if (auto guess = closest_match(t, weight_format_names())) msg += " (did you mean \"" + *guess + "\"?)";
    throw InputError(msg + "; choose one of " + join(weight_format_names(), ", "));
}

double weight_bytes_per_element(const QuantSpec& q, double in_features) {
    switch (q.format) {
        case WeightFormat::fp32: return 4;
        case WeightFormat::fp16:
        case WeightFormat::bf16: return 2;
        case WeightFormat::fp8: return 1;  // one per-tensor scale: negligible
        case WeightFormat::int8: return 1 + 4 / in_features;  // LLM.int8: fp32 scale per output row
        case WeightFormat::int4:
        case WeightFormat::int3: {
            const double bits = q.format == WeightFormat::int4 ? 4 : 3;
            return bits / 8 + (2 + bits / 8) / q.group_size;  // fp16 scale + b-bit zero per group
        }
        case WeightFormat::nf4:
            return q.double_quant ? 0.5 + 1.0 / 64 + 4.0 / (64 * 256)  // 8-bit absmax + fp32 per 256 blocks
                                  : 0.5 + 4.0 / 64;                     // fp32 absmax per 64
    }
    return 2;
}

std::string weight_format_formula(const QuantSpec& q, double in_features) {
    std::ostringstream s;
    s.precision(4);
    const double b = weight_bytes_per_element(q, in_features);
    switch (q.format) {
        case WeightFormat::fp32: s << "4 B"; break;
        case WeightFormat::fp16:
        case WeightFormat::bf16: s << "2 B"; break;
        case WeightFormat::fp8: s << "1 B (+ a per-tensor scale)"; break;
        case WeightFormat::int8: s << "1 B + fp32 scale per output row (LLM.int8) = " << b << " B"; break;
        case WeightFormat::int4:
        case WeightFormat::int3:
            s << (q.format == WeightFormat::int4 ? 4 : 3) << " bits + fp16 scale and zero per " << q.group_size
              << " (GPTQ/AWQ) = " << b << " B";
            break;
        case WeightFormat::nf4:
            s << "4 bits + absmax per 64" << (q.double_quant ? " in 8 bits (double quantization)" : " in fp32") << " = " << b
              << " B";
            break;
    }
    return s.str();
}

double unquantized_bytes(WeightFormat f) { return f == WeightFormat::fp32 ? 4 : 2; }

}  // namespace llmplan
