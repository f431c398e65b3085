// activations.h — what one transformer layer saves for backward, tensor by tensor.
//
// Source: Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
// Models", §4.1 and Table 2 (16-bit activations, dropout, eager attention, GELU MLP of 4h):
// per layer sbh(34 + 5as/h) without parallelism. Each term of that derivation is one tensor
// below; the same list extends it to GQA (smaller K, V), SwiGLU (a third MLP tensor), no dropout
// (no masks), flash attention (no s² tensors; the fp32 log-sum-exp instead, Dao et al. 2022 §3.1),
// fp32/fp8 storage, MoE (top-k expert activations) and tensor/sequence/context parallelism.
// docs/MEMORY_MODEL.md §3 walks through it.
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <string>
#include <vector>

namespace llmplan {

// How a saved tensor splits under tensor parallelism of size t.
enum class TpShard {
    split,       // inside the tensor-parallel region: ÷ t (Korthikanti's 24/t and 5as/(ht) terms)
    replicated,  // outside it (norm inputs, dropout masks): ÷ t only with sequence parallelism
};

struct SavedTensor {
    std::string name;       // e.g. "attention.softmax_output"
    double elements;        // per layer, per micro-batch, before any parallel split
    double element_bytes;   // storage size
    TpShard shard;
    double bytes_per_rank(int tp, bool sp) const {
        const bool divided = shard == TpShard::split || sp;
        return elements * element_bytes / (divided ? tp : 1);
    }
};

// Geometry of one micro-batch on one rank.
struct ActivationShape {
    double s;  // tokens per sequence on this rank (seq / cp)
    double b;  // micro-batch
    int tp;
    bool sp;
};
ActivationShape activation_shape(const TrainConfig& config);

// Tensors one layer keeps for backward with the given recompute mode (the config's attention,
// dropout and precision apply). Full recompute keeps only the layer input.
std::vector<SavedTensor> layer_saved_tensors(const ModelSpec& m, const TrainConfig& c, Recompute mode);

// Sum over a tensor list, bytes on one rank.
double saved_bytes(const std::vector<SavedTensor>& tensors, const ActivationShape& shape);

// Tensors outside the layers: on the first pipeline stage (embedding dropout mask) and on the
// last (final-norm input, output-layer input; Korthikanti §4.3). Logits are separate: logits_bytes.
std::vector<SavedTensor> first_stage_saved_tensors(const ModelSpec& m, const TrainConfig& c);
std::vector<SavedTensor> last_stage_saved_tensors(const ModelSpec& m, const TrainConfig& c);

// fp32 logits for the cross-entropy, vocabulary split over tensor-parallel ranks:
// 4·s·b·V/t bytes (Korthikanti §4.3, "4sbv/t").
double logits_bytes(const ModelSpec& m, const TrainConfig& c);

// Korthikanti Table 2 closed forms (16-bit, dropout, eager, GELU 4h, MHA), bytes per layer:
//   none: sbh(34 + 5as/h); tp: sbh(10 + 24/t + 5as/(ht)); tp+sp: sbh(34/t + 5as/(ht));
//   tp+selective: sbh(10 + 24/t); tp+sp+selective: 34sbh/t; full: 2sbh.
double korthikanti_layer_bytes(double s, double b, double h, double a, int t, bool sp, Recompute r);

}  // namespace llmplan
