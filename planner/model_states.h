// model_states.h — bytes of weights, gradients, master weights and optimizer state.
//
// Sources: ZeRO paper (Rajbhandari et al., SC'20) §3 and Fig. 1 for mixed precision with Adam
// (2 + 2 + K=12 bytes per parameter) and the ZeRO stages; PyTorch autocast keeps fp32 weights and
// gradients (4 + 4 + 8); pure bf16 keeps everything in bf16 (2 + 2 + 4); bitsandbytes 8-bit Adam;
// Adafactor's factored second moment (Shazeer & Stern 2018, §3). See docs/MEMORY_MODEL.md §1–2.
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "core/precision.h"

namespace llmplan {

// Storage sizes (bytes per element) a precision implies: the row of the precision table
// (core/precision.h).
PrecisionBytes precision_bytes(Precision p);

// Optimizer-state bytes for one tensor of rows × cols elements (one copy, unsharded).
//   adam/adamw: m and v (2 states); sgd: none; sgd-momentum, lion: one momentum;
//   adafactor (β1 = None, the transformers default): row + column second-moment factors for a
//     matrix, a full second moment for a vector;
//   adamw-8bit (bitsandbytes): tensors of ≥ 4096 elements keep m and v in 8 bits plus one fp32
//     absmax per 256-element block each (2 + 8/256 bytes per element); smaller ones use 32-bit states.
double optimizer_state_bytes(Optimizer o, std::int64_t rows, std::int64_t cols, double state_elem_bytes);

// Number of optimizer states per element for the per-element optimizers (2 for Adam) — used in
// explanations; adafactor and adamw-8bit report their effective bytes per element instead.
const char* optimizer_state_description(Optimizer o);

// ZeRO paper §3 closed form for Ψ parameters on N_d data-parallel ranks, for optimizers whose
// state is a fixed number of bytes per parameter (all but adafactor, whose state depends on
// shapes: use the per-tensor path in memory.h). Bytes per GPU.
struct ModelStateBytes {
    double parameters = 0;
    double gradients = 0;
    double master = 0;
    double optimizer_states = 0;
    double optimizer() const { return master + optimizer_states; }  // "optimizer state" incl. master (ZeRO's K)
    double total() const { return parameters + gradients + master + optimizer_states; }
};
ModelStateBytes model_state_bytes(double psi, Precision p, Optimizer o, int zero_stage, int dp);

}  // namespace llmplan
