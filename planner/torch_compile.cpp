// torch_compile.cpp — the compiled training step (torch_compile.h): the tensors AOTAutograd's
// min-cut partitioner keeps per decoder layer, replayed in the torch_sim simulator one node per
// layer. Sources: docs/REFERENCES.md §13; the derivation tensor by tensor: docs/MEMORY_MODEL.md §7.2.
#include "planner/torch_compile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "planner/framework.h"

#include <cmath>
#include <cstdint>

namespace llmplan {

using torchsim::Cat;
using torchsim::Sim;
using torchsim::TensorType;
using torchsim::V;

bool pytorch_compile(const TrainConfig& c) {
    // Only a given option is read (default none), so that a report on any pytorch plan can ask.
    for (const auto& [key, value] : c.framework_options)
        if (key == "compile") return framework_option_choice(c, key, {"none", "inductor"}) == "inductor";
    return false;
}

void validate_pytorch_compile(const ModelSpec& m, const TrainConfig& c) {
    const auto fail = [](const std::string& what) {
        throw InputError("--compile: " + what + " is not modelled with torch.compile (measured: one GPU, sdpa, "
                         "no dropout; docs/validation/pytorch_memory.md)");
    };
    const std::string& f = m.family;
    if (f != "gpt2" && f != "llama" && f != "mistral" && f != "qwen2" && f != "qwen3")
        fail("family \"" + f + "\" (gpt2, llama, mistral, qwen2 and qwen3 are)");
    if (m.sliding_window > 0) fail("a sliding-window model");
    if (c.parallel.gpus > 1) fail("--gpus " + std::to_string(c.parallel.gpus) + " (DDP / FSDP2)");
    if (c.grad_accum() > 1) fail("gradient accumulation (--global-batch)");
    if (c.lora.enabled()) fail("--lora-rank");
    if (c.dropout > 0) fail("--dropout above 0 (the partitioner never recomputes random ops)");
    if (c.attention == Attention::eager) fail("--attention eager");
    if (c.recompute == Recompute::selective) fail("--recompute selective");
    if (framework_option_choice(c, "trainer", {"none", "hf"}) == "hf") fail("--trainer hf");
}

namespace {

struct Tensor {
    std::string name;
    double elements = 0;
    TensorType dtype = TensorType::bf16;
    Cat cat = Cat::activation;
};

struct Shape {
    bool gpt2 = false;
    bool amp = false;
    TensorType rd = TensorType::f32;  // the residual stream (embedding output, residual adds)
    TensorType cd = TensorType::f32;  // matmul outputs
    TensorType pd = TensorType::f32;  // parameters
    double b = 1, s = 1, T = 1, h = 0, f = 0, q = 0, kv = 0, V = 0;
    explicit Shape(const ModelSpec& m, const TrainConfig& c) {
        gpt2 = m.family == "gpt2";
        amp = c.precision == Precision::amp_bf16;
        pd = c.precision == Precision::bf16 ? TensorType::bf16 : TensorType::f32;
        rd = pd;
        cd = c.precision == Precision::fp32 ? TensorType::f32 : TensorType::bf16;
        b = static_cast<double>(c.micro_batch);
        s = static_cast<double>(c.seq);
        T = b * s;
        h = m.d_model;
        f = m.d_ff;
        q = static_cast<double>(m.q_dim());
        kv = static_cast<double>(m.kv_dim());
        V = static_cast<double>(m.vocab_size);
    }
    // Attention's log-sum-exp, fp32 per (batch, head, position): cuDNN / flash for bf16, the
    // memory-efficient kernel (rows padded to 32) for fp32.
    double lse(const ModelSpec& m) const {
        const double len = cd == TensorType::bf16 ? s : std::ceil(s / 32) * 32;
        return b * m.n_heads * len;
    }
};

// The matmul weights of one layer (autocast casts each to bf16 once and the backward needs it).
double matmul_weights(const ModelSpec& m, const Shape& sh) {
    double norms = sh.gpt2 ? 4 * sh.h : 2 * sh.h;
    if (m.qk_norm == QkNorm::per_head) norms += 2.0 * m.head_dim;
    return static_cast<double>(params_per_layer(m)) - norms;
}

// What the partitioner keeps from one decoder layer (torch_compile.h lists the rules).
std::vector<Tensor> layer_tensors(const ModelSpec& m, const TrainConfig& c) {
    const Shape sh(m, c);
    const double T = sh.T;
    const TensorType cd = sh.cd, rd = sh.rd, f32 = TensorType::f32;
    std::vector<Tensor> t;
    if (sh.gpt2) {
        t.push_back({"ln_1 input (residual)", T * sh.h, rd});
        t.push_back({"ln_1 mean + rstd", 2 * T, f32});
        t.push_back({"ln_1 output (c_attn input)", T * sh.h, cd});
        t.push_back({"c_attn output (q, k, v)", 3 * T * sh.h, cd});
        t.push_back({"attention output (c_proj input)", T * sh.h, cd});
        t.push_back({"attention log-sum-exp", sh.lse(m), f32});
        t.push_back({"residual after attention (ln_2 input)", T * sh.h, rd});
        t.push_back({"ln_2 mean + rstd", 2 * T, f32});
        t.push_back({"ln_2 output (c_fc input)", T * sh.h, cd});
        t.push_back({"c_fc output (GELU input)", T * sh.f, cd});
        t.push_back({"GELU output (c_proj input)", T * sh.f, cd});
    } else {
        t.push_back({"input_layernorm input (residual)", T * sh.h, rd});
        t.push_back({"input_layernorm rstd", T, f32});
        t.push_back({"normed input (q/k/v_proj input)", T * sh.h, cd});
        if (m.qk_norm == QkNorm::per_head) {
            t.push_back({"q_proj output (q_norm input)", T * sh.q, cd});
            t.push_back({"k_proj output (k_norm input)", T * sh.kv, cd});
            t.push_back({"q_norm rstd", T * m.n_heads, f32});
            t.push_back({"k_norm rstd", T * m.n_kv_heads, f32});
        }
        t.push_back({"q after rotary (SDPA input)", T * sh.q, cd});
        // K and V repeated to every head (repeat_kv): with a mask, SDPA gets no enable_gqa.
        t.push_back({"k after rotary, repeated to every head", T * sh.q, cd});
        t.push_back({"v repeated to every head", T * sh.q, cd});
        t.push_back({"attention output (o_proj input)", T * sh.q, cd});
        t.push_back({"attention log-sum-exp", sh.lse(m), f32});
        t.push_back({"residual after attention (post_attention_layernorm input)", T * sh.h, rd});
        t.push_back({"post_attention_layernorm rstd", T, f32});
        t.push_back({"normed input (gate/up_proj input)", T * sh.h, cd});
        t.push_back({"gate_proj output (SiLU input)", T * sh.f, cd});
        t.push_back({"up_proj output", T * sh.f, cd});
        t.push_back({"SiLU(gate) * up (down_proj input)", T * sh.f, cd});
    }
    if (sh.amp) t.push_back({"autocast bf16 weight copies", matmul_weights(m, sh), TensorType::bf16, Cat::weight_cast});
    return t;
}

double bytes_of(const Tensor& x) { return torchsim::round_alloc(x.elements * torchsim::dtype_bytes(x.dtype)); }

}  // namespace

std::vector<CompiledSaved> compiled_layer_saved(const ModelSpec& m, const TrainConfig& c) {
    std::vector<CompiledSaved> out;
    for (const Tensor& x : layer_tensors(m, c)) out.push_back({x.name, bytes_of(x), x.cat});
    return out;
}

torchsim::StepPeaks run_compiled_step(const ModelSpec& m, const TrainConfig& c, Sim& sim) {
    const Shape sh(m, c);
    const double T = sh.T, h = sh.h, V_ = sh.V;
    const bool ckpt = c.recompute == Recompute::full;
    const double grad_bytes = c.precision == Precision::bf16 ? 2.0 : 4.0;
    const std::vector<Tensor> per_layer = layer_tensors(m, c);
    const std::vector<ParamTensor> tensors = param_tensors(m);
    torchsim::StepPeaks r;
    const V ids = sim.tensor(T, TensorType::i64, Cat::temporary, "input_ids");
    const V labels = sim.tensor(T, TensorType::i64, Cat::temporary, "labels");
    sim.start_phase("forward");
    sim.set_where("embedding");
    const V wte = sim.param(V_ * h, sh.pd, grad_bytes, "embed_tokens");
    std::vector<V> emb_in{wte};
    if (sh.gpt2) emb_in.push_back(sim.param(static_cast<double>(m.max_positions) * h, sh.pd, grad_bytes, "wpe"));
    V hs = sim.op("embedding", emb_in, T * h, sh.rd, {ids}, Cat::activation);
    // The causal mask as an additive bias in the matmul dtype, one for every layer (CSE).
    const V mask = sim.tensor(sh.b * sh.s * sh.s, sh.cd, Cat::activation, "attention mask bias");
    const double mlp_grads = 2 * T * sh.f * torchsim::dtype_bytes(sh.cd);  // the MLP's two matmul-output gradients
    const auto is_input = [](const Tensor& x) { return x.name.find("input (residual)") != std::string::npos; };
    double recomputed = 0;  // with checkpointing: what the layer's recomputation makes again
    for (const Tensor& x : per_layer)
        if (!is_input(x)) recomputed += bytes_of(x);
    for (int l = 0; l < m.n_layers; ++l) {
        sim.set_where("layer " + std::to_string(l) + " (compiled)");
        // The layer's parameter tensors, each receiving its own .grad.
        std::vector<V> inputs{hs};
        for (const ParamTensor& p : tensors)
            if (p.block == Block::layer) inputs.push_back(sim.param(static_cast<double>(p.elements()), sh.pd, grad_bytes, p.name));
        std::vector<V> saved{hs, mask}, made;
        if (!ckpt)
            for (const Tensor& x : per_layer) {
                if (is_input(x)) continue;  // hs itself
                made.push_back(sim.tensor(x.elements, x.dtype, x.cat, x.name));
                saved.push_back(made.back());
            }
        const V out = sim.op("layer " + std::to_string(l), inputs, T * h, sh.rd, saved, Cat::activation,
                             ckpt ? recomputed + mlp_grads : mlp_grads);
        sim.drop(made);
        sim.drop(hs);
        hs = out;
    }
    sim.set_where("final norm + head");
    const V wn = sim.param(sh.gpt2 ? 2 * h : h, sh.pd, grad_bytes, "final norm");
    const V stats = sim.tensor(sh.gpt2 ? 2 * T : T, TensorType::f32, Cat::activation, "final norm statistics");
    const V x = sim.op("final norm", {hs, wn}, T * h, sh.cd, {hs, stats});
    sim.drop({stats, hs});
    const V head = m.tied_embeddings ? wte : sim.param(V_ * h, sh.pd, grad_bytes, "lm_head");
    std::vector<V> head_saved{x};
    V cast = -1;
    if (sh.amp) {
        cast = sim.tensor(V_ * h, TensorType::bf16, Cat::weight_cast, "lm_head bf16 copy");
        head_saved.push_back(cast);
    }
    const V logits = sim.op("lm_head", {x, head}, T * V_, sh.cd, head_saved, Cat::logits);
    if (cast >= 0) sim.drop(cast);
    sim.drop(x);
    // The loss inside the graph; its backward: the logits output's tangent (zeros_like), the
    // gradient of the logits (grad_into: T·V in their dtype; fp32 reuses the tangent's buffer), a
    // padded copy for a bf16 matmul when V is not a multiple of 8, the head's weight gradient in
    // the matmul dtype.
    const double cdb = torchsim::dtype_bytes(sh.cd);
    const double tangent = sh.cd == TensorType::f32 ? 0 : T * V_ * cdb;
    const double padded = sh.cd == TensorType::bf16 && std::fmod(V_, 8) != 0 ? T * std::ceil(V_ / 8) * 8 * cdb : 0;
    const V lse = sim.tensor(T, TensorType::f32, Cat::logits, "cross-entropy log-sum-exp");
    const V loss = sim.op("cross_entropy", {logits}, 1, TensorType::f32, {lse}, Cat::logits,
                          torchsim::round_alloc(tangent) + torchsim::round_alloc(padded) + torchsim::round_alloc(V_ * h * cdb));
    sim.drop(lse);
    r.forward_peak = sim.peak();
    r.forward_cats = sim.peak_by_cat();
    r.forward_where = sim.peak_where();
    sim.drop(mask);
    sim.keep(logits);
    r.forward_end = sim.allocated();
    sim.start_phase("backward");
    sim.backward(loss);
    r.backward_peak = sim.peak();
    r.backward_cats = sim.peak_by_cat();
    r.backward_where = sim.peak_where();
    sim.drop({ids, labels});
    return r;
}

std::string compiled_assumption(const ModelSpec& m, const TrainConfig& c) {
    double bytes = 0;
    const std::vector<CompiledSaved> saved = compiled_layer_saved(m, c);
    for (const CompiledSaved& t : saved) bytes += t.bytes;
    const bool ckpt = c.recompute == Recompute::full;
    return std::string("torch.compile: inductor, default mode (no CUDA graphs); saved tensors per AOTAutograd's min-cut "
                       "partitioner: ") +
           (ckpt ? "each checkpointed layer keeps its input; its recomputation makes " : "each layer keeps ") +
           std::to_string(saved.size()) + " tensors, " + format_bytes(bytes, ByteUnit::gib) +
           " (matmul inputs, the MLP's first matmul outputs, attention output and log-sum-exp, q/k/v with K and V "
           "repeated to every head, the norms' inputs and rstd" +
           (c.precision == Precision::amp_bf16 ? ", autocast's bf16 weight copies" : "") +
           "); element-wise chains recomputed in the backward, fused in the forward; the causal mask as one additive "
           "bias; backward starts from the logits' tangent and gradient" +
           (c.precision != Precision::fp32 && m.vocab_size % 8 != 0 ? " (and a copy padded to 8 columns)" : "") +
           "; optimizer step unchanged (torch.compile wraps the model, not the optimizer)";
}

}  // namespace llmplan
