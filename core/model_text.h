// model_text.h — a model as a person reads it, written once for every front end: the lines
// `llmplan plan` prints under "model", the fields of `llmplan models NAME`, and the GUI's model
// panel. The names of the parts follow docs/MODEL_FAMILIES.md.
//
// The families llmplan planned before today's read exactly as they always have: for GPT-2, Llama,
// Mixtral, GPT-NeoX and Chinchilla model_shape_line() keeps its old form and model_detail_line()
// is empty (Mistral's adds its window, "attention: 32 sliding (4096)").
#pragma once

#include "core/model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llmplan {

// Layers, width, attention, MLP, norm, vocabulary and positions on one line, e.g.
//   "32 layers, d_model 4096, 32 heads × 128, d_ff 11008 swiglu, rmsnorm, vocab 32000, rotary positions"
//   "61 layers, d_model 7168, 128 heads MLA (q rank 1536, kv rank 512, qk 128 + 64 rope, v 128),
//    swiglu MLPs, rmsnorm, vocab 129280, rotary positions"
std::string model_shape_line(const ModelSpec& m);

// What the shape line leaves out, "; "-separated, "" when nothing: the experts when they are more
// than Mixtral's "E experts top-k" (fine-grained, shared, dense layers between them, biases,
// capacity), the layer pattern, QK-norm, attention sinks, soft-capping, Gemma's four norms, the
// embedding norm. E.g.
//   "58 MoE layers of 256 experts (2048) top-8 + shared (2048); 3 dense layers (18432)"
//   "attention: 52 sliding (1024) + 10 global; QK-norm per head; 4 norms per layer"
std::string model_detail_line(const ModelSpec& m);

// The exact count, and for MoE the active count per token, and the MTP modules outside it:
//   "6,738,415,616 parameters (6.74B)"
//   "671,026,404,352 parameters (671B), 37.6B active per token; + 11.6B in 1 MTP module, trained, not served"
std::string model_params_line(const ModelSpec& m, const ParamBreakdown& b);

// The size in a headline: "6.74B parameters"; MoE: "671B parameters, 37.6B active per token".
std::string model_size_text(const ModelSpec& m, const ParamBreakdown& b);

// The breakdown as `llmplan models NAME` and the GUI list it: embedding, attention, mlp, then for
// MoE models the MLP's parts (depth 1: dense, routed experts, shared experts, router), norm, head.
struct BreakdownRow {
    std::string label;
    std::int64_t parameters = 0;
    int depth = 0;  // 1: a part of the row above
};
std::vector<BreakdownRow> param_breakdown_rows(const ParamBreakdown& b);

// The pieces, for tables (`llmplan models NAME`):
// Mixtral's form of MoE: every layer routes among experts as wide as d_ff and nothing is shared;
// such a model reads "d_ff F act, E experts top-k" on the shape line, as it always has.
bool uniform_experts(const ModelSpec& m);
// "MLA (q rank 1536, kv rank 512, qk 128 + 64 rope, v 128)"; "" for standard attention.
std::string mla_text(const ModelSpec& m);
// Which attention each layer uses, when not every layer attends globally with RoPE:
// "52 sliding (1024) + 10 global", "36 chunked (8192) + 12 global NoPE", "32 sliding (4096)"; else "".
std::string layer_pattern_text(const ModelSpec& m);
// Qwen3-Next's mixers: "36 Gated DeltaNet (16 key heads × 128, 32 value heads × 128, conv 4, chunk 64)
// + 12 gated attention", or "" when no layer has a Gated DeltaNet.
std::string gdn_text(const ModelSpec& m);
// "hybrid layers: 23 Mamba-2 (…) + 6 attention + 23 MoE (MEMEM*E…)", or "" for a transformer.
std::string hybrid_text(const ModelSpec& m);
// The routed experts: "8 experts top-2" (every layer, of d_ff), or
// "58 MoE layers of 256 experts (2048) top-8 + shared (2048); 3 dense layers (18432)"; "" when dense.
std::string experts_text(const ModelSpec& m);
// "per head", "full width", "L2, no weights"; "" for none.
std::string qk_norm_text(QkNorm n);
// "attention 50, final 30"; "" when neither is capped.
std::string softcap_text(const ModelSpec& m);

}  // namespace llmplan
