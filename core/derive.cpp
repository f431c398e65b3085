// derive.cpp — search for the standard decoder shape closest to a parameter count (rule in derive.h).
#include "core/derive.h"

#include "core/error.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "core/text.h"

#include <cmath>
#include <limits>

namespace llmplan {

namespace {

ModelSpec llama_style(int d_model, int layers) {
    const int head_dim = d_model < 2048 ? 64 : 128;
    const int heads = d_model / head_dim;
    const int d_ff = (8 * d_model / 3 + 255) / 256 * 256;  // Llama: multiple_of = 256 on 2/3 · 4d
    return llama_like("derived", "llama", layers, d_model, heads, heads, d_ff, 32000, 4096);
}

}  // namespace

ModelSpec derive_shape(std::int64_t target, const char* flag) {
    if (target < 10'000'000 || target > 20'000'000'000'000)
        throw InputError(std::string(flag) + ": " + format_int(target) +
                         " parameters is outside the range a shape can be derived for (10M to 20T); name a model with --model");
    const double n_target = static_cast<double>(target);
    ModelSpec best;
    double best_score = std::numeric_limits<double>::infinity();
    for (int d = 64; d <= 65536; d += (d < 2048 ? 64 : 128)) {
        const ModelSpec one = llama_style(d, 1);
        const ParamBreakdown b1 = count_params(one);
        const double per_layer = static_cast<double>(params_per_layer(one));
        const double fixed = static_cast<double>(b1.total()) - per_layer;
        // Every depth that lands within 10% of the target.
        const double lo = std::max(1.0, std::ceil((n_target / 1.10 - fixed) / per_layer));
        const double hi = std::min(4096.0, std::floor((n_target * 1.10 - fixed) / per_layer));
        for (double l = lo; l <= hi; ++l) {
            const int layers = static_cast<int>(l);
            const double n = fixed + per_layer * layers;
            const double err = std::abs(std::log(n / n_target));
            const ModelSpec m = llama_style(d, layers);
            const double aspect = static_cast<double>(d) / layers;
            const double score = err + 0.5 * std::abs(std::log(aspect / 128.0)) + (m.n_heads % 8 ? 0.05 : 0.0) +
                                 (layers % 4 ? 0.05 : 0.0);
            if (score < best_score) {
                best_score = score;
                best = m;
            }
        }
    }
    if (best.n_layers == 0)
        throw InputError(std::string(flag) + ": no standard decoder shape within 10% of " +
                         format_count(n_target) + " parameters; name a model with --model");
    return best;
}

}  // namespace llmplan
