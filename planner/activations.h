// activations.h — what one transformer layer saves for backward, tensor by tensor.
//
// Source: Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer
// Models", §4.1 and Table 2 (16-bit activations, dropout, eager attention, GELU MLP of 4h):
// per layer sbh(34 + 5as/h) without parallelism. Each term of that derivation is one tensor
// below; the same list extends it to GQA (smaller K, V), SwiGLU (a third MLP tensor), no dropout
// (no masks), flash attention (no s² tensors; the fp32 log-sum-exp instead, Dao et al. 2022 §3.1),
// fp32/fp8 storage, tensor/sequence/context parallelism, and to the layers of today's models,
// per layer kind (core/model.h LayerKind): multi-head latent attention (DeepSeek-V2 §2.1; what
// Megatron-LM's MLASelfAttention keeps), QK-norm, Gemma's post-norms, soft-capping, attention
// sinks, and MoE layers with fine-grained routed experts, shared experts and a capacity factor.
// docs/MEMORY_MODEL.md §4 walks through it.
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
    bool routed = false;    // one per routed token copy an expert-parallel rank receives (MoE dispatch)
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

// Tensors one layer of kind `kind` keeps for backward with the given recompute mode (the
// config's attention, dropout and precision apply). Full recompute keeps only the layer input.
// MoE layers: the balanced expectation — every token's top_k expert passes (× capacity_factor
// when tokens are dropped beyond a capacity), whatever the expert parallelism.
std::vector<SavedTensor> layer_saved_tensors(const ModelSpec& m, const TrainConfig& c, Recompute mode,
                                             const LayerKind& kind);

// Sum over a tensor list, bytes on one rank.
double saved_bytes(const std::vector<SavedTensor>& tensors, const ActivationShape& shape);

// One micro-batch through the layers `groups` (core/model.h layer_groups): Σ count × the bytes
// one layer of that kind keeps, on one rank.
double layers_saved_bytes(const ModelSpec& m, const TrainConfig& c, Recompute mode, const std::vector<LayerGroup>& groups);

// Dropless routing (capacity_factor 0) is bounded only by the routing itself: an expert-parallel
// rank may receive min(top_k, experts on the rank) copies of every token of the ep ranks of its
// expert-parallel group, instead of the balanced top_k copies of one rank's tokens. The ratio of
// the two, ep · min(top_k, n_experts/ep) / top_k (1 for dense models, ep 1 or a capacity factor),
// and the bytes one layer of `kind` then keeps on one rank for one micro-batch (the received
// tokens and the expert MLP tensors scaled by the ratio; the combine, on the sending rank, holds
// its own tokens' copies). Not planned: the plan uses the balanced expectation.
double dropless_worst_case_ratio(const ModelSpec& m, const TrainConfig& c);
double dropless_worst_case_bytes(const ModelSpec& m, const TrainConfig& c, Recompute mode, const LayerKind& kind);

// Tensors outside the layers: on the first pipeline stage (embedding dropout mask) and on the
// last (final-norm input, output-layer input; Korthikanti §4.3). Logits are separate: logits_bytes.
std::vector<SavedTensor> first_stage_saved_tensors(const ModelSpec& m, const TrainConfig& c);
std::vector<SavedTensor> last_stage_saved_tensors(const ModelSpec& m, const TrainConfig& c);

// fp32 logits for the cross-entropy, vocabulary split over tensor-parallel ranks:
// 4·s·b·V/t bytes (Korthikanti §4.3, "4sbv/t"), 2·s·b·V/t with a fused loss (FrameworkProfile::
// loss_kernel: only the 16-bit logits); twice that with Gemma 2's final soft-capping
// (its tanh output is kept for backward too). One output head: the main model's, or one MTP module's.
double logits_bytes(const ModelSpec& m, const TrainConfig& c);
// Its parts: the logits of one output head on a rank, s·b·⌈V/t⌉, and the bytes the loss keeps of
// each, 4 (fp32 copy) or 2 (fused loss: the 16-bit logits).
double logits_per_rank(const ModelSpec& m, const TrainConfig& c);
double logit_bytes_kept(const TrainConfig& c);
// The memory table's name for them: "logits (fp32, for the loss)", or "(16-bit, fused loss)".
std::string logits_label(const TrainConfig& c);

// One DeepSeek-V3 multi-token-prediction module on the last stage (V3 report §2.2; Megatron-LM
// MultiTokenPredictionLayer): the input of the next-token embedding's norm, the 2d-wide input of
// the projection 2d → d, its transformer layer (mtp_layer_kind), its final-norm and output-layer
// inputs. The hidden-state norm reads the tensor the main model's final norm already keeps. Its
// logits are one more logits_bytes.
std::vector<SavedTensor> mtp_saved_tensors(const ModelSpec& m, const TrainConfig& c, Recompute mode);

// Korthikanti Table 2 closed forms (16-bit, dropout, eager, GELU 4h, MHA), bytes per layer:
//   none: sbh(34 + 5as/h); tp: sbh(10 + 24/t + 5as/(ht)); tp+sp: sbh(34/t + 5as/(ht));
//   tp+selective: sbh(10 + 24/t); tp+sp+selective: 34sbh/t; full: 2sbh.
double korthikanti_layer_bytes(double s, double b, double h, double a, int t, bool sp, Recompute r);

}  // namespace llmplan
