// model_states.cpp — per-element storage of each precision and optimizer, and ZeRO sharding.
#include "planner/model_states.h"

#include <cmath>
#include <stdexcept>

namespace llmplan {

PrecisionBytes precision_bytes(Precision p) { return precision_traits(p).bytes; }

double optimizer_state_bytes(Optimizer o, std::int64_t rows, std::int64_t cols, double s) {
    const double n = static_cast<double>(rows) * static_cast<double>(cols);
    switch (o) {
        case Optimizer::adam:
        case Optimizer::adamw: return 2 * s * n;  // exp_avg, exp_avg_sq
        case Optimizer::sgd: return 0;
        case Optimizer::sgd_momentum:
        case Optimizer::lion: return s * n;  // momentum buffer / Lion's single moment (Chen et al. 2023)
        case Optimizer::adafactor:
            // Shazeer & Stern 2018 §3: factored second moment R (rows) + C (cols) for matrices.
            if (rows > 1 && cols > 1) return s * static_cast<double>(rows + cols);
            return s * n;
        case Optimizer::adamw_8bit: {
            // bitsandbytes Optimizer8bit: min_8bit_size = 4096; blockwise (256) quantised m and v,
            // one fp32 absmax per block per state; smaller tensors keep fp32 m and v.
            if (n < 4096) return 8 * n;
            const double blocks = std::ceil(n / 256.0);
            return 2 * n + 2 * 4 * blocks;
        }
    }
    throw std::logic_error("optimizer_state_bytes: unknown optimizer");
}

const char* optimizer_state_description(Optimizer o) {
    switch (o) {
        case Optimizer::adam:
        case Optimizer::adamw: return "2 states (m, v)";
        case Optimizer::sgd: return "no state";
        case Optimizer::sgd_momentum: return "1 state (momentum)";
        case Optimizer::lion: return "1 state (momentum)";
        case Optimizer::adafactor: return "factored second moment (rows + cols per matrix)";
        case Optimizer::adamw_8bit: return "8-bit m, v + fp32 absmax per 256 (32-bit below 4096 elements)";
    }
    return "?";
}

ModelStateBytes model_state_bytes(double psi, Precision p, Optimizer o, int zero, int dp) {
    if (o == Optimizer::adafactor)
        throw std::invalid_argument("model_state_bytes: adafactor state depends on tensor shapes");
    const PrecisionBytes b = precision_bytes(p);
    // Per-element state bytes of a large matrix (8-bit Adam: the blockwise form).
    const double state_per_param = optimizer_state_bytes(o, 1 << 20, 1, b.state) / double(1 << 20);
    const double shard = psi / dp;  // ZeRO §3: P_os, P_os+g, P_os+g+p divide by N_d
    ModelStateBytes m;
    m.parameters = b.weight * (zero >= 3 ? shard : psi);
    m.gradients = b.grad * (zero >= 2 ? shard : psi);
    m.master = b.master * (zero >= 1 ? shard : psi);
    m.optimizer_states = state_per_param * (zero >= 1 ? shard : psi);
    return m;
}

}  // namespace llmplan
