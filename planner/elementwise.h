// elementwise.h — eager PyTorch's element-wise kernels against fused ones (docs/PERFORMANCE_MODEL.md §2,
// "Eager element-wise kernels").
//
// The generic time model's element-wise term E = k × saved activation bytes ÷ HBM bandwidth was
// fitted on Megatron-LM with fused kernels (Korthikanti et al. 2022, Table 5): one kernel per norm,
// per bias + activation, per bias + dropout + residual add, per rotary embedding. Eager PyTorch runs
// a composite module op by op, each op its own kernel reading and writing its tensors through HBM.
// eager_extra_bytes lists, for one layer, the bytes those ops move BEYOND what the fused kernel of
// the same module moves (one read of its inputs and one write of its outputs, forward; the output
// gradient and saved inputs read and the input gradients written, backward), so that
//     eager element-wise time = E (the fitted fused term) + extra bytes ÷ HBM rate
// keeps the fit valid. This is the one table of those ops: every count is in elementwise.cpp beside
// the code it models.
#pragma once

#include "core/config.h"
#include "core/model.h"

#include <string>
#include <vector>

namespace llmplan {

// Which element-wise kernels the step runs: fused (Megatron-LM / Transformer Engine, torch.compile;
// the generic default) or eager (PyTorch without torch.compile).
enum class ElementwiseKernels { fused, eager };
const char* to_string(ElementwiseKernels k);
// "fused" | "eager" (case-insensitive); InputError naming `flag` and the value otherwise.
ElementwiseKernels parse_elementwise_kernels(const std::string& text, const std::string& flag);

// Whose eager model code the ops are: the modules differ in their rotary embedding only.
enum class EagerCode {
    transformers,  // Hugging Face transformers: apply_rotary_pos_emb with rotate_half (slices, neg, cat)
    torchtitan,    // torchtitan: apply_rotary_emb as a complex multiply in fp32 (view_as_complex)
};

// The element-wise kernels a job runs: fused or eager, whose eager code, and what decided it
// (printed on the plan's "rates from" line; elementwise_choice in planner/framework.h decides).
struct ElementwiseChoice {
    ElementwiseKernels kernels = ElementwiseKernels::fused;
    EagerCode code = EagerCode::transformers;
    std::string source;
};

// One module's extra bytes, per token of the micro-batch on one GPU, for one layer.
struct EagerOp {
    std::string name;
    double forward = 0, backward = 0;
    // The tensor its kernels stream, in bytes per token: the module's width on this rank × the
    // element size its ops mostly run in (fp32 inside transformers' RMSNorm and torchtitan's RoPE,
    // fp32 under autocast for gelu_new). The time model looks the op's bandwidth up at tokens × this
    // (a kernel table's copy rows at that size), not at one activation tensor's size. Per layer
    // (eager_extra_bytes of a layer kind); 0 in the sums over layers.
    double tensor_bytes = 0;
};
struct EagerTraffic {
    std::vector<EagerOp> ops;  // the modules with extra traffic (none when every module is one kernel)
    double forward = 0, backward = 0;
};

// One layer of kind `kind` of model m under config c (precision, dropout, tp with or without
// sequence parallelism): the bytes eager PyTorch moves per token beyond the fused kernels.
// Element sizes: the activations' (precision_bytes(c.precision).activation), fp32 where the module
// computes in fp32.
EagerTraffic eager_extra_bytes(const ModelSpec& m, const TrainConfig& c, const LayerKind& kind, EagerCode code);
// The layers `groups` (core/model.h layer_groups): Σ count × one layer's, each module's bytes summed
// over the layers (ops in the order they first appear).
EagerTraffic eager_extra_bytes(const ModelSpec& m, const TrainConfig& c, const std::vector<LayerGroup>& groups, EagerCode code);

}  // namespace llmplan
