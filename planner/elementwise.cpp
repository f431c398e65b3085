// elementwise.cpp — the eager ops of a transformer layer and the bytes they move beyond fused kernels
// (elementwise.h; docs/PERFORMANCE_MODEL.md §2 "Eager element-wise kernels"; sources in
// docs/REFERENCES.md §14).
//
// Conventions, per element of the module's input (a = the activations' bytes, 2 in bf16; fp32 = 4):
//  * a kernel reads each input once and writes its output once; a reduction over the hidden
//    dimension (mean, sum_to_size) writes a per-token scalar, counted as nothing; a broadcast
//    operand of one row (a norm weight, rsqrt per token, the rotary table) is counted as nothing;
//  * a cast `.float()` / `.to(fp32)` / `.type_as(x)` is a copy kernel (read a, write 4 or back),
//    and no kernel at all when the tensor already has that type (a = 4);
//  * autograd's backward formulas are PyTorch's (tools/autograd/derivatives.yaml and
//    FunctionsManual.cpp): MulBackward0 computes grad·other and grad·self, a broadcast operand's
//    gradient reduced by sum_to_size; PowBackward0 is grad·(2·x.pow(1)) — three kernels, pow(x, 1)
//    being a copy (Pow.cpp); MeanBackward1 expands and divides (one write); SliceBackward0 writes
//    zeros of the input's size and copies the slice in; views (reshape, view_as_complex,
//    view_as_real, flatten, transpose, cat's backward) move nothing; a tensor whose gradient
//    arrives n times adds n − 1 times (the engine's InputBuffer: read two, write one);
//  * the fused kernel of a module (Megatron-LM / Transformer Engine's fused norms, bias-SwiGLU and
//    bias-dropout-add, TE's fused RoPE; torch.compile's generated kernels) reads its inputs and
//    writes its outputs once: 2a forward, 3a backward for a norm (read dy and x, write dx), 2a for
//    RoPE each way, 3a forward and 5a backward for SwiGLU (read the gate and up outputs, write h;
//    read dh, gate and up, write their two gradients).
// What eager runs as ONE kernel has no extra bytes: F.layer_norm (native_layer_norm and
// native_layer_norm_backward), F.gelu (gelu and gelu_backward, exact or tanh; not transformers'
// op-by-op "gelu_new", counted below), a bias inside the
// matmul (addmm / cuBLASLt's bias epilogue), the residual add (Megatron's fused bias-dropout-add
// also writes the sum once), the attention core (SDPA / FlashAttention).
#include "planner/elementwise.h"

#include "core/error.h"
#include "core/text.h"
#include "planner/model_states.h"

#include <algorithm>

namespace llmplan {

const char* to_string(ElementwiseKernels k) { return k == ElementwiseKernels::eager ? "eager" : "fused"; }

ElementwiseKernels parse_elementwise_kernels(const std::string& text, const std::string& flag) {
    const std::string v = to_lower(trim(text));
    if (v == "fused") return ElementwiseKernels::fused;
    if (v == "eager") return ElementwiseKernels::eager;
    throw InputError(flag + " " + text + ": expected fused (Megatron-LM / Transformer Engine kernels, torch.compile) or eager "
                                         "(PyTorch op by op, no torch.compile)");
}

namespace {

// RMSNorm as eager PyTorch runs it, per element (torchtitan 9dec370 torchtitan/models/norms.py
// RMSNorm: `x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)` on `x.float()`, `.type_as(x)`,
// `* self.weight`; the same op sequence as transformers' LlamaRMSNorm (modeling_llama.py) and, in
// PyTorch's 2024 releases, ATen's composite rms_norm behind F.rms_norm / nn.RMSNorm
// (aten/src/ATen/native/layer_norm.cpp: upcast, pow, mean, add, rsqrt, mul, type_as, mul by the
// weight); by 2.11 F.rms_norm is one kernel (docs/REFERENCES.md §14)). `weighted` = false: an L2
// norm without a weight (Llama 4's QK L2Norm).
//   forward:  float (a + 4), pow (4 + 4), mean (4), + eps and rsqrt (per token), x·rsqrt (4 + 4),
//             type_as (4 + a), ·weight (a + a)                        = 2(a + 4) + 20 + 2a
//   backward: ·weight: grad·w (a + a) and grad·y then sum_to_size (a + a + a, + a read)   = 6a
//             type_as: grad to fp32 (a + 4); x·rsqrt: grad·rsqrt (4 + 4), grad·x then sum (4 + 4 + 4, + 4)
//             mean: expand / d (4); pow: x.pow(1) (4 + 4), 2· (4 + 4), grad· (4 + 4 + 4)
//             the two gradients of the fp32 x added (4 + 4 + 4); float: back to a (4 + a)
//                                                                    = 2(a + 4) + 24 + 4 + 28 + 12 + 6a
// Minus the fused kernel's 2a forward and 3a backward. bf16 (a = 2): 36 − 4 = 32 forward,
// 92 − 6 = 86 backward.
EagerOp rms_norm(double a, bool weighted) {
    const double cast = a == 4 ? 0 : a + 4;
    const double w = weighted ? 1 : 0;
    return {weighted ? "RMSNorm" : "L2 norm", 2 * cast + 20 + w * 2 * a - 2 * a,
            2 * cast + 24 + 4 + 28 + 12 + w * 6 * a - 3 * a, 4};
}

// Rotary embedding, per rotated element.
//  torchtitan 9dec370 torchtitan/models/llama/model.py apply_rotary_emb: view_as_complex(xq.float()
//    .reshape(..., -1, 2)) * freqs_cis, view_as_real, flatten, .type_as(xq):
//    forward: float (a + 4), complex multiply (4 + 4), type_as (4 + a); backward: grad to fp32
//    (a + 4), grad·conj(freqs) (4 + 4), back to a (4 + a). Each way 2(a + 4) + 8 − 2a: 16 in bf16.
//  transformers' apply_rotary_pos_emb (modeling_llama.py): q·cos + rotate_half(q)·sin, rotate_half
//    = cat(−x[..., d/2:], x[..., :d/2]) in the activations' dtype:
//    forward: q·cos (2a), neg of half (a), cat (2a), ·sin (2a), add (3a)            = 10a
//    backward: add passes the gradient; grad·cos, grad·sin (2a each), cat's backward slices (views),
//    neg of half (a), two SliceBackward0 (zeros a + copy of half a, each), the three gradients of q
//    added (2 × 3a)                                                                  = 15a
//    Minus 2a each way: 8a and 13a (16 and 26 in bf16).
EagerOp rope(double a, EagerCode code) {
    if (code == EagerCode::torchtitan) {
        const double cast = a == 4 ? 0 : a + 4;
        return {"RoPE (complex multiply)", 2 * cast + 8 - 2 * a, 2 * cast + 8 - 2 * a, 4};
    }
    return {"RoPE (rotate_half)", 8 * a, 13 * a, a};
}

// SwiGLU, per element of the MLP's inner width (torchtitan FeedForward `w2(F.silu(w1(x)) * w3(x))`,
// transformers' LlamaMLP `down_proj(act_fn(gate_proj(x)) * up_proj(x))`):
//   forward: silu (2a), mul (3a) = 5a; backward: MulBackward0 grad·up and grad·silu (3a each),
//   SiluBackward0 (read grad and x, write: 3a) = 9a. Minus 3a and 5a: 2a and 4a.
EagerOp swiglu(double a) { return {"SwiGLU (silu, mul)", 2 * a, 4 * a, a}; }

// GELU's tanh approximation op by op, per element of the MLP's inner width: transformers'
// NewGELUActivation (activation "gelu_new", GPT-2's; activations.py)
//   0.5 * x * (1.0 + torch.tanh(sqrt(2/pi) * (x + 0.044715 * torch.pow(x, 3.0))))
// evaluated left to right: m = 0.5·x, p = pow(x, 3), q = 0.044715·p, u = x + q, v = c·u, t = tanh(v),
// w = 1 + t, y = m·w. Under torch.autocast (amp) pow is on autocast's float32 list, so x is cast to
// fp32 (a + 4) before it, and every op from there on runs in fp32 by type promotion (f = 4; without
// autocast f = a); y, fp32, is cast back to a by the next matmul's autocast (4 + a).
//   forward:  m (2a), pow (2f), ·0.044715 (2f), x + q (a + 2f), ·c (2f), tanh (2f), 1 + t (2f),
//             m·w (a + 2f); amp: the two casts (2a + 8)                          = 4a + 14f (+ 2a + 8)
//   backward: y's cast back (amp: a + 4); MulBackward0 grad·w (3f, amp: cast to a, f + a) and grad·m
//             (2f + a); 1 + t passes the gradient; TanhBackward (3f); ·c (2f); x + q: x's gradient
//             (amp: cast to a, f + a), q's passes; ·0.044715 (2f); PowBackward0 x.pow(2), 3·, grad·
//             (7f), the cast's backward (amp: f + a); m's ·0.5 (2a); x's three gradients added (6a)
//                                                                                  = 19f + 9a (+ 4a + 16)
// Minus F.gelu's one kernel, 2a forward and 3a backward (gelu_backward reads dy and x, writes dx).
// amp bf16 (a = 2, f = 4): 76 − 4 = 72 forward, 118 − 6 = 112 backward; bf16: 32 and 50; fp32: 64 and 100.
EagerOp gelu_tanh(double a, bool autocast) {
    const double f = autocast ? 4 : a;
    const double fwd = 4 * a + 14 * f + (autocast ? 2 * a + 8 : 0);
    const double bwd = 19 * f + 9 * a + (autocast ? 4 * a + 16 : 0);
    return {"GELU tanh (gelu_new, op by op)", fwd - 2 * a, bwd - 3 * a, f};
}

// Squared ReLU op by op, per element of the MLP's inner width: transformers' ReLUSquaredActivation
// (activation "relu2", Nemotron's; activations.py) `torch.square(F.relu(x))`, Megatron-LM's
// squared_relu `torch.pow(F.relu(x), 2)`: relu, then pow(·, 2) (torch.square is pow). Under
// torch.autocast (amp) pow is on autocast's float32 list, so relu's output is cast to fp32 (a + 4)
// before it and the square is fp32 (f = 4; without autocast f = a), cast back by the next matmul's
// autocast (4 + a).
//   forward:  relu (2a), pow (2f); amp: the two casts (2a + 8)                     = 2a + 2f (+ 2a + 8)
//   backward: the cast back's backward (amp: a + 4); PowBackward0 x.pow(1), 2·, grad· (7f); the
//             cast's backward (amp: 4 + a); ReluBackward0 (threshold_backward: read the gradient and
//             relu's output, write: 3a)                                           = 7f + 3a (+ 2a + 8)
// Minus one fused activation kernel, 2a forward and 3a backward (Transformer Engine's srelu and
// dsrelu, a torch.compile'd or Megatron-fused squared ReLU). bf16 (a = f = 2): 4 forward, 14
// backward; amp bf16 (a = 2, f = 4): 20 and 40; fp32: 8 and 28.
EagerOp relu2(double a, bool autocast) {
    const double f = autocast ? 4 : a;
    const double fwd = 2 * a + 2 * f + (autocast ? 2 * a + 8 : 0);
    const double bwd = 7 * f + 3 * a + (autocast ? 2 * a + 8 : 0);
    return {"squared ReLU (relu, pow)", fwd - 2 * a, bwd - 3 * a, f};
}

// Dropout before a residual add, per element (nn.Dropout → native_dropout: writes the output and
// a bool mask; then the add reads it back): the output is written and read once more than by a
// fused bias-dropout-add, 2a forward; the backward (grad·mask·scale, the add passing its gradient)
// moves what the fused kernel's backward moves.
EagerOp dropout_add(double a) { return {"dropout, then residual add", 2 * a, 0, a}; }

}  // namespace

EagerTraffic eager_extra_bytes(const ModelSpec& m, const TrainConfig& c, const LayerKind& kind, EagerCode code) {
    const ParallelLayout& p = c.parallel;
    const double a = precision_bytes(c.precision).activation;
    const double tp = p.tp, seq_split = p.sp ? p.tp : 1;  // sequence-parallel regions: ÷ tp under --sp
    const double d = m.d_model;
    EagerTraffic t;
    // op: per element, its tensor_bytes the element size; `elements` over all its kernels of the
    // layer, `width` the elements per token of the largest one tensor they stream.
    auto add = [&](EagerOp op, double elements, double width) {
        op.forward *= elements;
        op.backward *= elements;
        op.tensor_bytes *= width;
        if (op.forward == 0 && op.backward == 0) return;
        t.forward += op.forward;
        t.backward += op.backward;
        t.ops.push_back(std::move(op));
    };
    // The layer's norms on the residual stream (2, Gemma's 4); LayerNorm is one kernel.
    if (m.norm == Norm::rmsnorm) add(rms_norm(a, true), m.norms_per_layer * d / seq_split, d / seq_split);
    // QK-norm on the rank's query and key heads.
    if (m.qk_norm != QkNorm::none && m.norm == Norm::rmsnorm)
        add(rms_norm(a, m.qk_norm != QkNorm::unweighted), static_cast<double>(m.q_dim() + m.k_dim()) / tp,
            static_cast<double>(m.q_dim()) / tp);
    // Rotary embedding on the rank's queries and keys (MLA: the decoupled RoPE part of each query
    // head and the one shared RoPE key, replicated; GPT-NeoX: rotary_pct of each head).
    if (m.position == PositionEmbedding::rotary && kind.rope) {
        const double rotated_q = m.is_mla() ? static_cast<double>(m.n_heads) * m.mla.qk_rope_head_dim / tp
                                            : static_cast<double>(m.q_dim()) * m.rotary_pct / tp;
        const double rotated_k = m.is_mla() ? m.mla.qk_rope_head_dim : static_cast<double>(m.k_dim()) * m.rotary_pct / tp;
        add(rope(a, code), rotated_q + rotated_k, rotated_q);
    }
    // The MLP's activation: SwiGLU and squared ReLU on the dense MLP's inner width, or on each
    // routed token copy's expert width (top_k × capacity) and the shared experts'; GELU is one
    // kernel unless written op by op (gelu_new).
    const double inner = kind.moe ? m.top_k * m.expert_capacity() * static_cast<double>(m.expert_d_ff()) +
                                        static_cast<double>(m.shared_d_ff)
                                  : static_cast<double>(m.d_ff);
    const bool autocast = c.precision == Precision::amp_bf16 || c.precision == Precision::amp_fp16;
    if (gated_mlp(m.activation)) add(swiglu(a), inner / tp, inner / tp);
    if (m.activation == Activation::relu2) add(relu2(a, autocast), inner / tp, inner / tp);
    if (m.activation == Activation::gelu && m.gelu_tanh_op_by_op)
        add(gelu_tanh(a, autocast), static_cast<double>(m.d_ff) / tp, static_cast<double>(m.d_ff) / tp);
    // Dropout after the attention output projection and after the MLP.
    if (c.dropout > 0) add(dropout_add(a), 2 * d / seq_split, d / seq_split);
    return t;
}

EagerTraffic eager_extra_bytes(const ModelSpec& m, const TrainConfig& c, const std::vector<LayerGroup>& groups, EagerCode code) {
    EagerTraffic t;
    for (const LayerGroup& group : groups) {
        const EagerTraffic layer = eager_extra_bytes(m, c, group.kind, code);
        t.forward += group.count * layer.forward;
        t.backward += group.count * layer.backward;
        for (const EagerOp& op : layer.ops) {
            auto it = std::find_if(t.ops.begin(), t.ops.end(), [&](const EagerOp& o) { return o.name == op.name; });
            if (it == t.ops.end()) it = t.ops.insert(t.ops.end(), {op.name, 0, 0});
            it->forward += group.count * op.forward;
            it->backward += group.count * op.backward;
        }
    }
    return t;
}

}  // namespace llmplan
