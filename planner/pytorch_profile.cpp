// pytorch_profile.cpp — Hugging Face transformers training steps, op by op, in the torch_sim
// simulator. Each function mirrors one transformers 5.17 module (modeling_gpt2.py,
// modeling_llama.py, integrations/sdpa_attention.py, loss/loss_utils.py, activations.py) as
// traced on an H100 (validation/pytorch_memory/trace_ops.py); the comments name the aten ops the
// trace shows. The Qwen3, Gemma 2/3 and GPT-NeoX modules (modeling_qwen3.py, modular_gemma2.py,
// modeling_gemma3.py, modular_gpt_neox.py, masking_utils.py; versions cited in
// docs/validation/pytorch_memory.md) are written from the sources, not yet traced.
// Autocast rules: torch/csrc/autograd/autocast_mode / aten/src/ATen/autocast_mode.cpp
// (mm/addmm/bmm/sdpa in bf16, layer_norm/pow/softmax/log_softmax in fp32, weight casts of leaf
// tensors cached until autocast exits).
#include "planner/pytorch_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/framework.h"
#include "planner/lora.h"
#include "planner/torch_alloc.h"
#include "planner/torch_compile.h"
#include "planner/torch_sim.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <sstream>

namespace llmplan {

using torchsim::Cat;
using torchsim::TensorType;
using torchsim::Sim;
using torchsim::V;

namespace {

// The decoder blocks the profile writes op by op (transformers 5 modules; docs/MODEL_FAMILIES.md
// lists each family's tensors, docs/validation/pytorch_memory.md what each family's forward
// allocates beyond Llama's).
enum class Arch {
    gpt2,   // modeling_gpt2.py: LayerNorm, fused c_attn, gelu_new MLP, learned positions
    llama,  // modeling_llama.py and the families built from it (Mistral, Qwen2, Qwen3, Gemma 2/3)
    neox    // modeling_gpt_neox.py: LayerNorm, fused query_key_value, partial rotary, GELU MLP,
            // parallel residual
};

struct Family {
    const char* name;   // HF model_type
    Arch arch;
    bool gemma;         // GemmaRMSNorm (fp32 · (1 + w), then type_as), four norms per layer,
                        // embedding × √d, GeGLU
    bool qk_norm_inline;// Qwen3: q_norm right after q_proj, k_norm after k_proj (Gemma 3: after v_proj)
    bool attn_softcap;  // Gemma 2's eager attention caps the scores (Gemma 3 does not pass softcap)
    bool local_rope;    // Gemma 3: a second rotary table (rope_local_base_freq) for sliding layers
    bool window_only;   // Mistral: a window replaces the causal mask (one mask for every layer)
    bool both_masks;    // Gemma 2/3 build the full and the sliding mask whatever the layer types
};

// The families the profile models; validate_pytorch_profile refuses every other one.
constexpr Family kFamilies[] = {
    {"gpt2", Arch::gpt2, false, false, false, false, false, false},
    {"llama", Arch::llama, false, false, false, false, false, false},
    {"mistral", Arch::llama, false, false, false, false, true, false},
    {"qwen2", Arch::llama, false, false, false, false, false, false},
    {"qwen3", Arch::llama, false, true, false, false, false, false},
    {"gemma2", Arch::llama, true, false, true, false, false, true},
    {"gemma3_text", Arch::llama, true, false, false, true, false, true},
    {"gpt_neox", Arch::neox, false, false, false, false, false, false},
};

const Family* find_family(const std::string& name) {
    for (const Family& f : kFamilies)
        if (name == f.name) return &f;
    return nullptr;
}

std::string family_list() {
    std::string out;
    for (const Family& f : kFamilies) out += (out.empty() ? "" : ", ") + std::string(f.name);
    return out;
}

bool fsdp(const TrainConfig& c) { return c.parallel.gpus > 1 && c.parallel.zero >= 2; }

TensorType promote(TensorType a, TensorType b) { return (a == TensorType::f32 || b == TensorType::f32) ? TensorType::f32 : TensorType::bf16; }

struct Program {
    const ModelSpec& m;
    const TrainConfig& c;
    const Family& fam;  // validate_pytorch_profile has checked that the family is one of kFamilies
    Sim sim;
    bool amp = false;       // forward under autocast(bfloat16)
    TensorType pd = TensorType::f32;  // parameter dtype in the forward (FSDP2: bf16 gathered copies)
    TensorType cd = TensorType::f32;  // matmul output dtype
    double b = 1, s = 1, T = 1;
    std::map<V, V> cast_cache;  // autocast's weight cache
    int layer = -1;
    // --recompute selective: each decoder layer under torch.utils.checkpoint with the op policy of
    // sac_policy(); mm_count counts the layer's bias-free matmuls (the policy saves every second).
    bool sac = false;
    int mm_count = 0;
    // A later micro-batch of gradient accumulation: every .grad already exists.
    bool grads_exist = false;

    Program(const ModelSpec& model, const TrainConfig& config)
        : m(model), c(config), fam(*find_family(model.family)) {
        amp = c.precision == Precision::amp_bf16 && !fsdp(c);
        pd = (c.precision == Precision::bf16 || fsdp(c)) ? TensorType::bf16 : TensorType::f32;
        cd = (amp || pd == TensorType::bf16) ? TensorType::bf16 : TensorType::f32;
        b = static_cast<double>(c.micro_batch);
        s = static_cast<double>(c.seq);
        T = b * s;
        sac = c.recompute == Recompute::selective;
    }

    double grad_bytes() const {
        if (fsdp(c)) return 4.0 / c.parallel.gpus;  // FSDP2: fp32 gradient shards (reduce_dtype)
        return c.precision == Precision::bf16 ? 2.0 : 4.0;
    }
    // With LoRA the base is frozen (requires_grad False); adapters are fp32 trainable parameters.
    V param(double elements, const std::string& name) {
        return sim.param(elements, pd, grad_bytes(), name, !c.lora.enabled(), grads_exist);
    }
    bool targeted(unsigned bit) const { return c.lora.enabled() && (c.lora.targets & bit); }

    void where(const std::string& w) { sim.set_where(w); }
    std::string at(const std::string& what) const {
        return layer >= 0 ? "layer " + std::to_string(layer) + " " + what : what;
    }

    // autocast: a fp32 leaf weight is cast to bf16 once per autocast region and cached.
    V weight(V w) {
        if (!amp) return w;
        auto it = cast_cache.find(w);
        if (it != cast_cache.end()) return it->second;
        const V cw = sim.op("cast_weight", {w}, sim.dtype_elements(w), TensorType::bf16, {}, Cat::weight_cast);
        cast_cache[w] = cw;
        return cw;
    }
    void exit_autocast() {
        for (auto& [w, cw] : cast_cache) sim.drop(cw);
        cast_cache.clear();
    }

    // The op policy of --recompute selective (pytorch_sac_policy() states it): a bias-free
    // matmul (aten.mm) is saved when it is the odd one counted in its layer (1st, 3rd, ...); a
    // biased one (aten.addmm: at::linear's 2-D and contiguous 3-D paths, GPT-2's Conv1D) is not in
    // the list, so it is recomputed and not counted; the fused SDPA kernels' outputs are saved.
    bool sac_saves_matmul(bool bias) { return !bias && ++mm_count % 2 == 1; }
    void sac_save_attention(V x) {
        if (sac && sim.in_checkpoint()) sim.sac_save(x);
    }

    // nn.Linear / Conv1D: (add)mm(x, W) saves its (bf16-cast under autocast) input and weight.
    // `w` holds the weight and its bias: rows = x's elements / in_features (the allocator
    // histories show GPT-2's c_attn output at exactly T·3h·4 B).
    V linear(V x, V w, double in_features, double out_features, Cat cat = Cat::activation, bool lora_here = false) {
        V xin = x;
        const bool cast = amp && sim.dtype(x) == TensorType::f32;
        if (cast) xin = sim.op("cast_input", {x}, sim.dtype_elements(x), TensorType::bf16);
        const V cw = weight(w);
        const bool bias = sim.dtype_elements(w) > in_features * out_features;  // addmm rather than mm
        const double rows = sim.dtype_elements(x) / in_features;
        // autograd saves the input only when the weight needs a gradient (frozen base: W alone).
        const std::vector<V> saved = sim.requires_grad(w) ? std::vector<V>{xin, cw} : std::vector<V>{cw};
        V y = sim.op("mm", {xin, cw}, rows * out_features, cd, saved, cat);
        if (sac && sim.in_checkpoint() && sac_saves_matmul(bias)) sim.sac_save(y);
        if (cast) sim.drop(xin);
        if (lora_here) y = lora_branch(x, y, rows, in_features, out_features);
        return y;
    }

    // PEFT LoraLayer.forward: result = base(x); x = x.to(lora_A.dtype) (fp32 adapters);
    // result = result + lora_B(lora_A(dropout(x))) * scaling; result.to(base dtype).
    V lora_branch(V x, V y, double rows, double in_features, double out_features) {
        const double r = c.lora.rank;
        const V A = sim.param(r * in_features, TensorType::f32, 4, "lora_A");
        const V B = sim.param(out_features * r, TensorType::f32, 4, "lora_B");
        V xa = x;
        if (sim.dtype(x) != TensorType::f32) xa = sim.op("to_fp32", {x}, sim.dtype_elements(x), TensorType::f32);
        const V a = sim.op("lora_A", {xa, A}, rows * r, TensorType::f32, {xa, A});
        if (xa != x) sim.drop(xa);
        const V bo = sim.op("lora_B", {a, B}, rows * out_features, TensorType::f32, {a, B});
        sim.drop(a);
        const V scaled = sim.op("scaling", {bo}, rows * out_features, TensorType::f32);
        sim.drop(bo);
        const V sum = add(y, scaled, rows * out_features);
        sim.drop({y, scaled});
        if (sim.dtype(sum) == sim.dtype(x) || sim.dtype(x) == TensorType::f32) return sum;
        const V back = sim.op("to_dtype", {sum}, rows * out_features, sim.dtype(x));
        sim.drop(sum);
        return back;
    }

    // nn.LayerNorm (native_layer_norm): saves input, mean and rstd; fp32 under autocast.
    V layer_norm(V x, V w) {
        const V stats = sim.tensor(2 * T, TensorType::f32, Cat::activation, "mean+rstd");
        const V y = sim.op("layer_norm", {x, w}, T * m.d_model, amp ? TensorType::f32 : sim.dtype(x), {x, stats}, Cat::activation,
                           2 * T * m.d_model * 4);
        sim.drop(stats);
        return y;
    }

    // x ** k (saves x). PowBackward0 = grad · k · x^(k-1): x^(k-1) and its product with k are
    // made before the gradient and freed after it (allocator history of
    // l1b128k-bf16-eager-b2-s2048-ckpt: pow_Tensor_Scalar, mul_Scalar, then mul_Tensor).
    V pow(V x) {
        const double n = sim.dtype_elements(x), bytes = n * torchsim::dtype_bytes(sim.dtype(x));
        const V p = sim.op("pow", {x}, n, sim.dtype(x), {x}, Cat::activation, bytes);
        sim.backward_temp(p, bytes);
        sim.backward_temp_first(p);
        return p;
    }

    // The fp32 core of every RMSNorm here: x.float(); pow(2).mean(-1); + eps; rsqrt; x·rsqrt.
    // Returns x·rsqrt (fp32); `width` is the normalised (last) dimension.
    V rms_core(V x, double width) {
        const double n = sim.dtype_elements(x), rows = n / width;
        V xf = x;
        if (sim.dtype(x) != TensorType::f32) xf = sim.op("to_fp32", {x}, n, TensorType::f32);
        const V p = pow(xf);
        const V mean = sim.op("mean", {p}, rows, TensorType::f32);
        sim.drop(p);
        const V var = sim.op("add_eps", {mean}, rows, TensorType::f32);
        sim.drop(mean);
        const V r = sim.op("rsqrt", {var}, rows, TensorType::f32);
        sim.save_output(r);
        sim.drop(var);
        // Its backward computes r's gradient first: grad·x (fp32) summed over the row, then x's.
        const V nrm = sim.op("mul", {xf, r}, n, TensorType::f32, {xf, r}, Cat::activation, n * 4);
        sim.backward_temp_first(nrm);
        sim.drop(r);
        if (xf != x) sim.drop(xf);
        return nrm;
    }

    // LlamaRMSNorm (also Qwen3's, and its per-head q_norm / k_norm with width head_dim):
    // rms_core; .to(input dtype); weight·x.
    V rms_norm(V x, V w, double width) {
        const double n = sim.dtype_elements(x);
        const V nrm = rms_core(x, width);
        V nd = nrm;
        if (sim.dtype(x) != TensorType::f32) nd = sim.op("to_dtype", {nrm}, n, sim.dtype(x));
        // weight · x saves x only for the weight's gradient (a frozen LoRA base keeps nothing here).
        // Backward: x's gradient (grad·w), then the weight's: grad·x at full size, summed over
        // the rows through an fp32 buffer of twice that (allocator history of
        // l1b128k-bf16-eager-b2-s2048-ckpt: 16 MiB mul_Tensor, 64 MiB sum_dim_IntList, both
        // freed before the node returns).
        const TensorType yd = promote(pd, sim.dtype(nd));
        const V y = sim.op("mul_weight", {w, nd}, n, yd, sim.requires_grad(w) ? std::vector<V>{nd} : std::vector<V>{},
                           Cat::activation, sim.requires_grad(w) ? n * torchsim::dtype_bytes(yd) : 0);
        if (sim.requires_grad(w)) sim.backward_temp(y, 2 * n * 4);
        // LlamaRMSNorm.forward's hidden_states (the fp32 normalised x) lives until it returns.
        if (nd != nrm) sim.drop(nd);
        sim.drop(nrm);
        return y;
    }

    // GemmaRMSNorm (Gemma 2 and 3, also their q_norm / k_norm): output = rms_core(x) · (1 +
    // weight.float()), in fp32, then .type_as(x). Unlike Llama's the product is taken in fp32, so
    // it saves the fp32 normalised x (and the small 1 + w) and, for a bf16 input, makes an fp32
    // product and a bf16 copy of it.
    V gemma_norm(V x, V w, double width) {
        const double n = sim.dtype_elements(x);
        const V nrm = rms_core(x, width);
        V wf = w;
        if (pd != TensorType::f32) wf = sim.op("weight.float", {w}, width, TensorType::f32);
        const V w1 = sim.op("one_plus_w", {wf}, width, TensorType::f32);
        if (wf != w) sim.drop(wf);
        // (x · (1 + w)) saves x for the weight's gradient and 1 + w for x's.
        std::vector<V> saved{w1};
        if (sim.requires_grad(w)) saved.insert(saved.begin(), nrm);
        const V y = sim.op("mul_1pw", {nrm, w1}, n, TensorType::f32, saved);
        sim.drop({nrm, w1});
        if (sim.dtype(x) == TensorType::f32) return y;
        const V yd = sim.op("type_as", {y}, n, sim.dtype(x));
        sim.drop(y);
        return yd;
    }

    // The norm of the Llama-architecture families: Gemma's or Llama's.
    V norm(V x, V w, double width) { return fam.gemma ? gemma_norm(x, w, width) : rms_norm(x, w, width); }

    // nn.Dropout / F.dropout in training: native_dropout keeps a 1-byte mask for backward; with
    // p = 0 it returns its input (aten dropout's shortcut), so nothing is stored.
    V dropout(V x) {
        if (c.dropout <= 0) return x;
        const double n = sim.dtype_elements(x);
        const V mask = sim.tensor(n, TensorType::b8, Cat::activation, "dropout mask");
        const V y = sim.op("dropout", {x}, n, sim.dtype(x), {mask});
        sim.drop({mask, x});
        return y;
    }

    // x + y: AddBackward0 hands its output's gradient to both (Sim::pass_gradient).
    V add(V x, V y, double elements = -1) {
        const V out = sim.op("add", {x, y}, elements < 0 ? sim.dtype_elements(x) : elements,
                             promote(sim.dtype(x), sim.dtype(y)));
        sim.pass_gradient(out);
        return out;
    }

    // GPT-2's gelu_new (NewGELUActivation): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), op by op;
    // autocast runs pow in fp32 (a cast copy of x), so the rest is fp32.
    V gelu_new(V x) {
        const double n = sim.dtype_elements(x);
        const TensorType xd = sim.dtype(x);
        const V half = sim.op("mul_half", {x}, n, xd);
        V xp = x;
        if (amp && xd != TensorType::f32) xp = sim.op("cast_pow", {x}, n, TensorType::f32);
        const TensorType pdt = sim.dtype(xp);
        const V p = pow(xp);
        if (xp != x) sim.drop(xp);
        const V p2 = sim.op("mul", {p}, n, pdt);
        sim.drop(p);
        const V s1 = add(x, p2, n);
        sim.drop(p2);
        const V s2 = sim.op("mul", {s1}, n, sim.dtype(s1));
        sim.drop(s1);
        const V t = sim.op("tanh", {s2}, n, sim.dtype(s2));
        sim.save_output(t);
        sim.drop(s2);
        const V t1 = sim.op("add_one", {t}, n, sim.dtype(t));
        sim.drop(t);
        const V g = sim.op("mul", {half, t1}, n, promote(xd, sim.dtype(t1)), {half, t1});
        sim.drop({half, t1});
        return g;
    }

    // softmax over the last dimension, saving its output. Its CUDA backward
    // (softmax_backward_cuda_out) allocates grad_input, then a grad · output temporary of the
    // same size freed inside the op (allocator histories of alloc-g124-fp32-eager-b4-s1024-ckpt
    // and alloc-l1b128k-bf16-eager-b2-s2048-ckpt: a mul_Tensor block under
    // _softmax_backward_data after its output, freed before SoftmaxBackward0 returns).
    V softmax(V x, TensorType dtype) {
        const double elements = sim.dtype_elements(x);
        const V p = sim.op("softmax", {x}, elements, dtype, {}, Cat::activation, elements * torchsim::dtype_bytes(dtype));
        sim.save_output(p);
        return p;
    }

    // scores + additive mask (the mask needs no gradient): the scores receive the incoming
    // gradient itself (Sim::pass_gradient).
    V add_mask(V scores, V mask) {
        const V out = sim.op("add_mask", {scores, mask}, sim.dtype_elements(scores),
                             promote(sim.dtype(scores), sim.dtype(mask)));
        sim.pass_gradient(out);
        return out;
    }

    // Eager attention's matmul(q, kᵀ)·scale + mask → softmax → matmul(p, v); q, k, v are
    // [b, heads, s, d]; returns the output made contiguous as [b, s, heads·d]. softcap: Gemma 2's
    // scores / cap → tanh (saves its output) → · cap before the mask, in the scores' dtype.
    // The attention weights (after dropout) are returned to the decoder layer, whose local
    // variable keeps them until the layer returns: *weights receives them (the caller drops them).
    V eager_attention(V q, V k, V v, V mask, bool llama, bool softcap, V* weights) {
        const double a = m.n_heads, d = m.head_dim, S2 = b * a * s * s, n = T * a * d;
        const int rep = m.n_heads / m.n_kv_heads;
        // repeat_kv (Llama): expand + reshape copies K and V to all heads when grouped.
        V kr = k, vr = v;
        if (llama && rep > 1) {
            kr = sim.op("repeat_kv", {k}, n, sim.dtype(k));
            vr = sim.op("repeat_kv", {v}, n, sim.dtype(v));
        }
        // matmul(q, kᵀ): autocast casts fp32 q / k to bf16; bmm needs contiguous operands.
        V qm = q, km = kr;
        std::vector<V> tmp;
        if (amp && sim.dtype(q) == TensorType::f32) { qm = sim.op("cast_q", {q}, n, TensorType::bf16); tmp.push_back(qm); }
        if (amp && sim.dtype(kr) == TensorType::f32) { km = sim.op("cast_k", {kr}, n, TensorType::bf16); tmp.push_back(km); }
        // bmm needs each operand's batch dimensions mergeable: q is in the transposed
        // [b, s, heads, d] layout of its projection (GPT-2: a strided view of the fused qkv
        // output), so matmul copies it; kᵀ too, unless repeat_kv has made k contiguous (the
        // l1b128k history: one copy at the matmul, of q, saved with repeat_kv's k). Each copy's
        // backward only reshapes the gradient (no allocation in the histories).
        qm = sim.op("clone_q", {qm}, n, sim.dtype(qm));
        sim.pass_gradient(qm);
        tmp.push_back(qm);
        V kc = km;
        if (!llama || rep == 1) {
            kc = sim.op("clone_kT", {km}, n, sim.dtype(km));
            sim.pass_gradient(kc);
            tmp.push_back(kc);
        }
        const V sc = sim.op("bmm_qk", {qm, kc}, S2, sim.dtype(qm), {qm, kc});
        sim.drop(tmp);
        V scaled = sim.op("scale", {sc}, S2, sim.dtype(sc));
        sim.drop(sc);
        if (softcap) {
            const V dv = sim.op("softcap_div", {scaled}, S2, sim.dtype(scaled));
            sim.drop(scaled);
            const V t = sim.op("softcap_tanh", {dv}, S2, sim.dtype(dv));
            sim.save_output(t);
            sim.drop(dv);
            scaled = sim.op("softcap_mul", {t}, S2, sim.dtype(t));
            sim.drop(t);
        }
        const V masked = add_mask(scaled, mask);
        sim.drop(scaled);
        // Llama: softmax(dtype=float32).to(query.dtype); GPT-2: softmax (fp32 under autocast).type(v.dtype).
        const TensorType smd = llama ? TensorType::f32 : (amp ? TensorType::f32 : sim.dtype(masked));
        // softmax(x, dtype=float32) on bf16 scores converts x to fp32 first (ATen's softmax:
        // input.toType(dtype), then _softmax), a copy freed once the output exists (allocator
        // history of l1b128k-bf16-eager-b2-s2048-ckpt: two fp32 score-sized blocks, one freed).
        V sm_in = masked;
        if (llama && sim.dtype(masked) != smd) sm_in = sim.op("softmax_input_fp32", {masked}, S2, smd);
        const V p = softmax(sm_in, smd);
        if (sm_in != masked) sim.drop(sm_in);
        // GPT-2 reassigns attn_weights at the softmax; Llama's one statement
        // `attn_weights = softmax(attn_weights, dtype=float32).to(query.dtype)` keeps the masked
        // scores until the cast exists (the l1b128k history frees them after it).
        if (!llama) sim.drop(masked);
        const TensorType target = llama ? sim.dtype(q) : sim.dtype(v);
        V pt = p;
        if (target != smd) { pt = sim.op("to_dtype", {p}, S2, target); sim.drop(p); }
        if (llama) sim.drop(masked);
        if (pt == p) {  // dropout would drop Python's reference to the softmax output
            pt = dropout(p);
        } else {
            pt = dropout(pt);
        }
        V pm = pt;
        if (amp && sim.dtype(pt) == TensorType::f32) pm = sim.op("cast_p", {pt}, S2, TensorType::bf16);
        V vm = vr;
        if (!llama) vm = sim.op("clone_v", {vr}, n, sim.dtype(vr));
        const V o = sim.op("bmm_pv", {pm, vm}, n, sim.dtype(pm), {pm, vm});
        if (pm != pt) sim.drop(pm);
        *weights = pt;
        if (vm != vr) sim.drop(vm);
        const V out = sim.op("contiguous", {o}, n, sim.dtype(o));  // transpose(1, 2).contiguous()
        sim.drop(o);
        // eager_attention_forward's repeat_kv copies (its key_states / value_states) live until it returns.
        if (llama && rep > 1) sim.drop({kr, vr});
        return out;
    }

    // SDPA: cuDNN attention for bf16 (GQA natively), memory-efficient for fp32 without
    // enable_gqa (GPT-2), the math fallback for fp32 with enable_gqa (transformers' Llama).
    // With a materialised mask (a sliding window shorter than the sequence) see sdpa_masked.
    V sdpa_attention(V q, V k, V v, bool enable_gqa, V mask = -1) {
        if (mask >= 0) return sdpa_masked(q, k, v, mask);
        const double a = m.n_heads, d = m.head_dim, n = T * a * d, S2 = b * a * s * s;
        V qm = q, km = k;
        std::vector<V> tmp;
        if (amp && sim.dtype(q) == TensorType::f32) { qm = sim.op("cast_q", {q}, n, TensorType::bf16); tmp.push_back(qm); }
        if (amp && sim.dtype(k) == TensorType::f32) {
            km = sim.op("cast_k", {k}, sim.dtype_elements(k), TensorType::bf16);
            tmp.push_back(km);
        }
        // transformers passes enable_gqa=True; with grouped heads only the math backend takes it in fp32.
        if (sim.dtype(qm) == TensorType::bf16 || !enable_gqa || m.n_kv_heads == m.n_heads) {
            // cuDNN / memory-efficient: saves q, k, v, out and the fp32 log-sum-exp (b·a·s).
            const double lse_len = sim.dtype(qm) == TensorType::bf16 ? s : std::ceil(s / 32) * 32;
            const V lse = sim.tensor(b * a * lse_len, TensorType::f32, Cat::activation, "lse");
            sac_save_attention(lse);
            const V out = sim.op(sim.dtype(qm) == TensorType::bf16 ? "sdpa_cudnn" : "sdpa_efficient", {qm, km, v}, n,
                                 sim.dtype(qm), {qm, km, v, lse});
            sac_save_attention(out);
            sim.save_output(out);
            sim.drop(lse);
            sim.drop(tmp);
            return out;  // [b, s, a, d] in memory: transpose + reshape need no copy
        }
        // Math fallback (aten _scaled_dot_product_attention_math): q·√scale, kᵀ·√scale,
        // repeat_interleave of K and V for GQA, an s×s causal mask per call, fp32 softmax.
        const V qs = sim.op("q_scale", {qm}, n, TensorType::f32);
        const V ones = sim.tensor(s * s, TensorType::b8, Cat::temporary, "ones");
        const V tril = sim.tensor(s * s, TensorType::b8, Cat::temporary, "tril");
        sim.drop(ones);
        const V causal = sim.tensor(s * s, TensorType::f32, Cat::temporary, "causal mask");
        sim.drop(tril);
        const V kr = sim.op("repeat_k", {km}, n, TensorType::f32);
        const V vr = sim.op("repeat_v", {v}, n, TensorType::f32);
        const V ks = sim.op("k_scale", {kr}, n, TensorType::f32);
        sim.drop(kr);
        const V kc = sim.op("clone_kT", {ks}, n, TensorType::f32);
        sim.drop(ks);
        const V sc = sim.op("bmm_qk", {qs, kc}, S2, TensorType::f32, {qs, kc});
        sim.drop({qs, kc});
        const V masked = add_mask(sc, causal);
        sim.drop(sc);
        const V p = softmax(masked, TensorType::f32);
        sim.drop(masked);
        const V o = sim.op("bmm_pv", {p, vr}, n, TensorType::f32, {p, vr});
        sim.drop({p, vr, causal});
        sim.drop(tmp);
        const V out = sim.op("contiguous", {o}, n, TensorType::f32);  // HF: reshape(...).contiguous()
        sim.drop(o);
        return out;
    }

    // SDPA with a boolean mask (integrations/sdpa_attention.py): transformers then repeats K and V
    // to every head (use_gqa_in_sdpa needs attention_mask None), autocast casts q, k, v, and
    // aten's scaled_dot_product_attention turns the bool mask into an additive one in the query
    // dtype (convert_boolean_attn_mask: logical_not, then where) that the kernel saves for backward:
    // cuDNN for bf16, memory-efficient for fp32 (both accept a bias; flash does not).
    V sdpa_masked(V q, V k, V v, V mask) {
        const double a = m.n_heads, d = m.head_dim, n = T * a * d;
        const int rep = m.n_heads / m.n_kv_heads;
        V kr = k, vr = v;
        if (rep > 1) {
            kr = sim.op("repeat_kv", {k}, n, sim.dtype(k));
            vr = sim.op("repeat_kv", {v}, n, sim.dtype(v));
        }
        V qm = q, km = kr, vm = vr;
        std::vector<V> tmp;
        if (amp && sim.dtype(q) == TensorType::f32) { qm = sim.op("cast_q", {q}, n, TensorType::bf16); tmp.push_back(qm); }
        if (amp && sim.dtype(kr) == TensorType::f32) { km = sim.op("cast_k", {kr}, n, TensorType::bf16); tmp.push_back(km); }
        if (amp && sim.dtype(vr) == TensorType::f32) { vm = sim.op("cast_v", {vr}, n, TensorType::bf16); tmp.push_back(vm); }
        if (km != kr && kr != k) sim.drop(kr);  // the fp32 repeat is only the cast's input
        if (vm != vr && vr != v) sim.drop(vr);
        const double mask_elements = b * s * s;  // the [b, 1, s, s] broadcast of the mask
        const V inv = sim.op("mask.logical_not", {mask}, mask_elements, TensorType::b8, {}, Cat::temporary);
        const V bias = sim.op("sdpa additive mask", {inv}, mask_elements, sim.dtype(qm));
        sim.drop(inv);
        const bool bf = sim.dtype(qm) == TensorType::bf16;
        const double lse_len = bf ? s : std::ceil(s / 32) * 32;
        const V lse = sim.tensor(b * a * lse_len, TensorType::f32, Cat::activation, "lse");
        sac_save_attention(lse);
        const V out = sim.op(bf ? "sdpa_cudnn_masked" : "sdpa_efficient_masked", {qm, km, vm}, n, sim.dtype(qm),
                             {qm, km, vm, lse, bias});
        sac_save_attention(out);
        sim.save_output(out);
        sim.drop({lse, bias});
        sim.drop(tmp);
        if (km == kr && kr != k) sim.drop(kr);
        if (vm == vr && vr != v) sim.drop(vr);
        return out;
    }

    // Rotary embedding (apply_rotary_pos_emb): x·cos + rotate_half(x)·sin; cos/sin are fp32
    // under autocast, so the result is fp32 there.
    V rope(V x, TensorType cos_dtype) {
        const double n = sim.dtype_elements(x);
        const TensorType out = promote(sim.dtype(x), cos_dtype);
        const V m1 = sim.op("mul_cos", {x}, n, out);
        // rotate_half: cat(-x2, x1) of the halves' views. Backward: cat hands each its slice of
        // the gradient, neg makes x2's, and each half's SliceBackward0 a zero-filled gradient of
        // x's size, the second added into the first (allocator history of
        // l1b128k-bf16-eager-b2-s2048-ckpt: neg, zeros, zeros, the second freed).
        const std::vector<V> halves = sim.split(x, {n / 2, n / 2});
        sim.backward_temp(halves[0], n * torchsim::dtype_bytes(sim.dtype(x)));
        const V ng = sim.op("neg", {halves[1]}, n / 2, sim.dtype(x));
        const V ct = sim.op("cat", {ng, halves[0]}, n, sim.dtype(x));
        sim.pass_gradient(ct, true);
        sim.drop(halves);
        sim.drop(ng);
        const V m2 = sim.op("mul_sin", {ct}, n, out);
        sim.drop(ct);
        const V e = add(m1, m2, n);
        sim.drop({m1, m2});
        return e;
    }

    // GPT-NeoX rotates rotary_ndims = int(head_size · rotary_pct) dimensions of each head.
    double rotary_dims() const { return fam.arch == Arch::neox ? std::floor(m.head_dim * m.rotary_pct) : m.head_dim; }

    // GPT-NeoX's apply_rotary_pos_emb: rope on the first rotary_dims of each head (a view), then
    // torch.cat([rotated, pass], -1): a full-size copy in the promoted dtype, even when every
    // dimension rotates.
    V rope_partial(V x, TensorType cos_dtype) {
        const double n = sim.dtype_elements(x), rot = n * rotary_dims() / m.head_dim;
        const TensorType out = promote(sim.dtype(x), cos_dtype);
        const V m1 = sim.op("mul_cos", {x}, rot, out);
        const V ng = sim.op("neg", {x}, rot / 2, sim.dtype(x));
        const V ct = sim.op("cat", {ng, x}, rot, sim.dtype(x));
        sim.drop(ng);
        const V m2 = sim.op("mul_sin", {ct}, rot, out);
        sim.drop(ct);
        const V e = add(m1, m2, rot);
        sim.drop({m1, m2});
        const V full = sim.op("cat_pass", {e, x}, n, out);
        sim.drop(e);
        return full;
    }

    // GPT-NeoX's eager_attention_forward: baddbmm(zeros, q, kᵀ, alpha=scaling) on [b·heads, s, d]
    // views (a zeros tensor of the scores' size in the query dtype, cast to bf16 with q and k under
    // autocast, where baddbmm runs in bf16; kᵀ needs no copy), + mask, softmax without a dtype
    // (fp32 under autocast, else the scores' dtype) .to(v dtype), dropout, matmul with v (a strided
    // view of query_key_value: the matmul's reshape copies it), transpose(1, 2).contiguous().
    V neox_eager_attention(V q, V k, V v, V mask) {
        const double a = m.n_heads, d = m.head_dim, S2 = b * a * s * s, n = T * a * d;
        std::vector<V> tmp{sim.tensor(S2, sim.dtype(q), Cat::temporary, "attn_scores zeros")};
        V qm = q, km = k;
        if (amp && sim.dtype(q) == TensorType::f32) {
            tmp.push_back(sim.tensor(S2, TensorType::bf16, Cat::temporary, "cast zeros"));
            qm = sim.op("cast_q", {q}, n, TensorType::bf16);
            tmp.push_back(qm);
        }
        if (amp && sim.dtype(k) == TensorType::f32) { km = sim.op("cast_k", {k}, n, TensorType::bf16); tmp.push_back(km); }
        const V sc = sim.op("baddbmm_qk", {qm, km}, S2, sim.dtype(qm), {qm, km});
        sim.drop(tmp);
        const V masked = add_mask(sc, mask);
        sim.drop(sc);
        const TensorType smd = amp ? TensorType::f32 : sim.dtype(masked);
        const V p = softmax(masked, smd);
        sim.drop(masked);
        V pt = p;
        if (sim.dtype(v) != smd) { pt = sim.op("to_dtype", {p}, S2, sim.dtype(v)); sim.drop(p); }
        pt = dropout(pt);
        const V vm = sim.op("clone_v", {v}, n, sim.dtype(v));
        const V o = sim.op("bmm_pv", {pt, vm}, n, sim.dtype(pt), {pt, vm});
        sim.drop({pt, vm});
        const V out = sim.op("contiguous", {o}, n, sim.dtype(o));
        sim.drop(o);
        return out;
    }

    // An activation that saves its input and keeps its dtype (not an autocast fp32 op):
    // nn.functional.gelu (GPT-NeoX's "gelu"), gelu(approximate="tanh") (Gemma's
    // gelu_pytorch_tanh), silu.
    V act(V x, const char* name) { return sim.op(name, {x}, sim.dtype_elements(x), sim.dtype(x), {x}); }

    struct LayerParams {
        V norm1, norm2, norm3, norm4, q_norm, k_norm, wq, wk, wv, wqkv, wo, wfc, wproj, wgate, wup, wdown;
        double elements = 0;
    };
    LayerParams layer_params() {
        const double h = m.d_model, q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()),
                     f = m.d_ff;
        LayerParams p{};
        if (fam.arch == Arch::neox) {
            p.norm1 = param(2 * h, "input_layernorm");
            p.wqkv = param(h * 3 * h + (m.qkv_bias ? 3 * h : 0), "query_key_value");
            p.wo = param(h * h + (m.out_bias ? h : 0), "dense");
            p.norm2 = param(2 * h, "post_attention_layernorm");
            p.wfc = param(h * f + f, "dense_h_to_4h");
            p.wproj = param(f * h + h, "dense_4h_to_h");
        } else if (fam.arch == Arch::gpt2) {
            p.norm1 = param(2 * h, "ln_1");
            p.wqkv = param(h * 3 * h + 3 * h, "c_attn");
            p.wo = param(h * h + h, "attn.c_proj");
            p.norm2 = param(2 * h, "ln_2");
            p.wfc = param(h * f + f, "c_fc");
            p.wproj = param(f * h + h, "mlp.c_proj");
        } else {
            p.norm1 = param(h, "input_layernorm");
            p.wq = param(h * q + (m.qkv_bias ? q : 0), "q_proj");
            p.wk = param(h * kv + (m.qkv_bias ? kv : 0), "k_proj");
            p.wv = param(h * kv + (m.qkv_bias ? kv : 0), "v_proj");
            p.wo = param(q * h + (m.out_bias ? h : 0), "o_proj");
            p.norm2 = param(h, "post_attention_layernorm");
            p.wgate = param(h * f, "gate_proj");
            p.wup = param(h * f, "up_proj");
            p.wdown = param(f * h, "down_proj");
            if (m.qk_norm == QkNorm::per_head) {
                p.q_norm = param(m.head_dim, "q_norm");
                p.k_norm = param(m.head_dim, "k_norm");
            }
            if (fam.gemma) {
                p.norm3 = param(h, "pre_feedforward_layernorm");
                p.norm4 = param(h, "post_feedforward_layernorm");
            }
        }
        p.elements = static_cast<double>(params_per_layer(m));
        return p;
    }

    V gpt2_block(V hs, const LayerParams& p, V mask) {
        const double h = m.d_model;
        where(at("ln_1 + attention"));
        // GPT2Block.forward's local variables decide when Python lets go (allocator histories,
        // docs/validation/pytorch_memory.md): hidden_states holds ln_1's output until the
        // residual add and ln_2's until the second one; attn_output, the attention weights,
        // the residual and feed_forward_hidden_states live until the block returns.
        const V x = layer_norm(hs, p.norm1);
        const V qkv = linear(x, p.wqkv, h, 3 * h, Cat::activation, targeted(lora_q | lora_k | lora_v));
        const std::vector<V> parts = sim.split(qkv, {T * h, T * h, T * h});
        sim.drop(qkv);
        V weights = -1;
        const V attn = c.attention == Attention::eager ? eager_attention(parts[0], parts[1], parts[2], mask, false, false, &weights)
                                                      : sdpa_attention(parts[0], parts[1], parts[2], false);
        const V o = dropout(linear(attn, p.wo, h, h, Cat::activation, targeted(lora_o)));  // resid_dropout
        sim.drop(attn);
        sim.drop(parts);  // GPT2Attention's query/key/value views of c_attn's output, until it returns
        const V h2 = add(o, hs);
        sim.drop({x, hs});
        where(at("ln_2 + MLP"));
        const V x2 = layer_norm(h2, p.norm2);
        const V f1 = linear(x2, p.wfc, h, m.d_ff, Cat::activation, targeted(lora_up));
        const V g = gelu_new(f1);
        sim.drop(f1);
        const V mo = dropout(linear(g, p.wproj, m.d_ff, h, Cat::activation, targeted(lora_down)));  // mlp.dropout
        sim.drop(g);
        const V h3 = add(h2, mo);
        sim.drop(x2);
        sim.drop({h2, o});
        if (weights >= 0) sim.drop(weights);
        sim.drop(mo);
        return h3;
    }

    // Self-attention of the Llama-architecture families, from the normed input x to o_proj's
    // output: q/k/v projections, QK-norm (Qwen3 right after each projection, Gemma 3 after all
    // three), rotary embedding, eager or SDPA attention (with the layer's mask), o_proj.
    // x stays the caller's (its hidden_states variable holds it until the attention returns);
    // *weights receives eager attention's weights (the layer's `_` holds them until it returns).
    V llama_attention(V x, const LayerParams& p, V mask, TensorType cos_dtype, V* weights) {
        const double h = m.d_model, q_dim = static_cast<double>(m.q_dim()), kv_dim = static_cast<double>(m.kv_dim());
        const bool qk = m.qk_norm == QkNorm::per_head;
        V q = linear(x, p.wq, h, q_dim, Cat::activation, targeted(lora_q));
        if (qk && fam.qk_norm_inline) q = swap(q, norm(q, p.q_norm, m.head_dim));
        V k = linear(x, p.wk, h, kv_dim, Cat::activation, targeted(lora_k));
        if (qk && fam.qk_norm_inline) k = swap(k, norm(k, p.k_norm, m.head_dim));
        const V v = linear(x, p.wv, h, kv_dim, Cat::activation, targeted(lora_v));
        if (qk && !fam.qk_norm_inline) {
            q = swap(q, norm(q, p.q_norm, m.head_dim));
            k = swap(k, norm(k, p.k_norm, m.head_dim));
        }
        const V qe = rope(q, cos_dtype);
        const V ke = rope(k, cos_dtype);
        sim.drop({q, k});
        const bool softcap = fam.attn_softcap && m.attn_softcap > 0;
        const V attn = c.attention == Attention::eager ? eager_attention(qe, ke, v, mask, true, softcap, weights)
                                                      : sdpa_attention(qe, ke, v, true, mask);
        const V o = linear(attn, p.wo, q_dim, h, Cat::activation, targeted(lora_o));
        sim.drop(attn);
        sim.drop({qe, ke, v});  // the attention module's query/key/value_states, until it returns
        return o;
    }

    // Replaces x by y (y computed from x): drops Python's reference to x.
    V swap(V x, V y) {
        sim.drop(x);
        return y;
    }

    V llama_layer(V hs, const LayerParams& p, V mask, TensorType cos_dtype) {
        const double h = m.d_model;
        where(at("input norm + attention"));
        // LlamaDecoderLayer.forward: hidden_states holds the norm output until self_attn returns
        // and post_attention_layernorm's until the MLP returns; `_` (the attention weights) lives
        // until the layer returns.
        const V x = rms_norm(hs, p.norm1, h);
        V weights = -1;
        const V o = llama_attention(x, p, mask, cos_dtype, &weights);
        sim.drop(x);
        const V h2 = add(hs, o);
        sim.drop({o, hs});
        where(at("post-attention norm + MLP"));
        const V x2 = rms_norm(h2, p.norm2, h);
        const V g = linear(x2, p.wgate, h, m.d_ff, Cat::activation, targeted(lora_gate));
        const V sg = act(g, "silu");
        sim.drop(g);
        const V u = linear(x2, p.wup, h, m.d_ff, Cat::activation, targeted(lora_up));
        const V mu = sim.op("mul", {sg, u}, T * m.d_ff, promote(sim.dtype(sg), sim.dtype(u)), {sg, u});
        sim.drop({sg, u});
        const V dn = linear(mu, p.wdown, m.d_ff, h, Cat::activation, targeted(lora_down));
        sim.drop(mu);
        sim.drop(x2);
        const V h3 = add(h2, dn);
        sim.drop({dn, h2});
        if (weights >= 0) sim.drop(weights);
        return h3;
    }

    // Gemma2DecoderLayer / Gemma3DecoderLayer: input norm → attention → post-attention norm →
    // residual add; pre-feedforward norm → GeGLU MLP (gelu_pytorch_tanh) → post-feedforward norm
    // → residual add. Every norm is a GemmaRMSNorm.
    V gemma_layer(V hs, const LayerParams& p, V mask, TensorType cos_dtype) {
        const double h = m.d_model;
        where(at("input norm + attention"));
        const V x = gemma_norm(hs, p.norm1, h);
        V weights = -1;
        const V o = llama_attention(x, p, mask, cos_dtype, &weights);
        sim.drop(x);
        const V on = gemma_norm(o, p.norm2, h);  // post_attention_layernorm
        sim.drop(o);
        const V h2 = add(hs, on);
        sim.drop({on, hs});
        where(at("pre-feedforward norm + MLP"));
        const V x2 = gemma_norm(h2, p.norm3, h);
        const V g = linear(x2, p.wgate, h, m.d_ff, Cat::activation, targeted(lora_gate));
        const V sg = act(g, "gelu_tanh");
        sim.drop(g);
        const V u = linear(x2, p.wup, h, m.d_ff, Cat::activation, targeted(lora_up));
        const V mu = sim.op("mul", {sg, u}, T * m.d_ff, promote(sim.dtype(sg), sim.dtype(u)), {sg, u});
        sim.drop({sg, u});
        const V dn = linear(mu, p.wdown, m.d_ff, h, Cat::activation, targeted(lora_down));
        sim.drop(mu);
        sim.drop(x2);
        const V dnn = gemma_norm(dn, p.norm4, h);  // post_feedforward_layernorm
        sim.drop(dn);
        const V h3 = add(h2, dnn);
        sim.drop({dnn, h2});
        if (weights >= 0) sim.drop(weights);
        return h3;
    }

    // GPTNeoXLayer: attention on input_layernorm(x); parallel residual (the default):
    // x + attn(ln1(x)) + mlp(ln2(x)), evaluated as (mlp + attn) + x; otherwise sequential.
    // hidden_dropout (post_attention_dropout, post_mlp_dropout) is 0 by default: not modelled.
    V neox_layer(V hs, const LayerParams& p, V mask, TensorType cos_dtype) {
        const double h = m.d_model;
        where(at("input layernorm + attention"));
        const V x = layer_norm(hs, p.norm1);
        const V qkv = linear(x, p.wqkv, h, 3 * h, Cat::activation, targeted(lora_q | lora_k | lora_v));
        sim.drop(x);
        // [b, s, heads, 3·head_size] viewed and sliced: q, k, v are strided views of one storage.
        const std::vector<V> parts = sim.split(qkv, {T * h, T * h, T * h});
        sim.drop(qkv);
        const V qe = rope_partial(parts[0], cos_dtype);
        const V ke = rope_partial(parts[1], cos_dtype);
        // GPTNeoXAttention has no num_key_value_groups: SDPA runs without enable_gqa (MHA).
        const V attn = c.attention == Attention::eager ? neox_eager_attention(qe, ke, parts[2], mask)
                                                      : sdpa_attention(qe, ke, parts[2], false);
        sim.drop({qe, ke});
        sim.drop(parts);
        const V o = linear(attn, p.wo, h, h, Cat::activation, targeted(lora_o));
        sim.drop(attn);
        where(at("post-attention layernorm + MLP"));
        V a = hs;
        if (!m.parallel_residual) {
            a = add(o, hs);
            sim.drop({o, hs});
        }
        const V x2 = layer_norm(a, p.norm2);
        const V f1 = linear(x2, p.wfc, h, m.d_ff, Cat::activation, targeted(lora_up));
        sim.drop(x2);
        const V g = act(f1, "gelu");
        sim.drop(f1);
        const V mo = linear(g, p.wproj, m.d_ff, h, Cat::activation, targeted(lora_down));
        sim.drop(g);
        if (!m.parallel_residual) {
            const V out = add(mo, a);
            sim.drop({mo, a});
            return out;
        }
        const V s1 = add(mo, o);
        sim.drop({mo, o});
        const V out = add(s1, hs);
        sim.drop({s1, hs});
        return out;
    }

    struct Result : torchsim::StepPeaks {
        std::vector<Sim::Saved> layer_saved;  // what layer `saved_layer` keeps (no checkpointing)
    };
    int saved_layer = 0;

    // Forward only (inference / a notebook's `model(input_ids)`): with record_grad false the ops
    // run as under torch.no_grad() (nothing saved); last_logits_only computes the head for the
    // last position of each sequence (generate's logits_to_keep=1).
    bool forward_only = false, record_grad = true, last_logits_only = false;
    // Autograd nodes [first, last] of each decoder layer (in forward order).
    std::vector<std::pair<int, int>> layer_nodes;

    // Gemma's final_logit_softcapping (Gemma2ForCausalLM.forward): logits / cap → tanh (saves
    // its output) → · cap, each a new logits-sized tensor in the head's dtype; the output keeps the
    // last one, backward adds three logits-sized gradients.
    V logit_softcap(V logits) {
        const double n = sim.dtype_elements(logits);
        const TensorType dt = sim.dtype(logits);
        const V dv = sim.op("softcap_div", {logits}, n, dt, {}, Cat::logits);
        sim.drop(logits);
        const V t = sim.op("softcap_tanh", {dv}, n, dt, {}, Cat::logits);
        sim.save_output(t);
        sim.drop(dv);
        const V out = sim.op("softcap_mul", {t}, n, dt, {}, Cat::logits);
        sim.drop(t);
        return out;
    }

    Result run() {
        const double h = m.d_model, V_ = static_cast<double>(m.vocab_size);
        sim.grad_enabled = record_grad;
        const bool gpt2 = fam.arch == Arch::gpt2;
        const bool ckpt = c.recompute == Recompute::full || sac;
        const bool z3 = fsdp(c) && c.parallel.zero == 3;
        Result r;
        const V ids = sim.tensor(T, TensorType::i64, Cat::temporary, "input_ids");
        const V labels = sim.tensor(T, TensorType::i64, Cat::temporary, "labels");
        sim.start_phase("forward");
        where("embedding");
        const V wte = param(V_ * h, "embed_tokens");
        // FSDP2: the root module's parameters (embedding, final norm, head) are gathered in bf16
        // for the whole step; each decoder layer's when it runs (kept until its backward with
        // reshard_after_forward=False).
        const double root_params = static_cast<double>(count_params(m).total()) - m.n_layers * static_cast<double>(params_per_layer(m));
        V root_gather = -1;
        if (fsdp(c)) root_gather = sim.tensor(root_params, TensorType::bf16, Cat::weight_cast, "FSDP root all-gather");
        V hs = sim.op("embedding", {wte}, T * h, pd, {ids}, Cat::activation, 4 * T * 8);
        // Gemma 2: hidden_states * normalizer (√d as a 0-d tensor of the embedding dtype); Gemma 3:
        // Gemma3TextScaledWordEmbedding's lookup · embed_scale. A new tensor; the lookup is freed.
        if (fam.gemma) hs = swap(hs, sim.op("embed_scale", {hs}, T * h, pd));
        TensorType cos_dtype = pd;
        std::vector<V> tables;  // rotary cos, sin (Gemma 3: also the local pair)
        if (gpt2) {
            const V wpe = param(static_cast<double>(m.max_positions) * h, "wpe");
            const V pe = sim.op("embedding", {wpe}, s * h, pd, {ids});
            const V sum = add(hs, pe);
            sim.drop({hs, pe});
            hs = dropout(sum);  // embd_pdrop
        }
        // Masks (masking_utils.create_causal_mask / create_sliding_window_causal_mask), built once
        // per forward for the kinds of layer the model has (Gemma 2/3: both always; Mistral: the
        // window replaces the causal mask). Eager: eager_mask's where() output, a float
        // [b, 1, s, s] in the embedding dtype. SDPA: no causal mask (is_causal); a sliding-window
        // mask only when s >= window (_ignore_causal_mask_sdpa skips it while kv_length <
        // local_size), a bool [b, 1, s, s] that vmap expands from one [s, s] result (s² bytes).
        const bool window = m.sliding_window > 0;
        bool any_sliding = false;
        for (int l = 0; l < m.n_layers; ++l) any_sliding = any_sliding || m.layer(l).attention == LayerAttention::sliding;
        const bool full_mask = !(fam.window_only && window);
        const bool sliding_mask = window && (fam.both_masks || any_sliding);
        V mask_full = -1, mask_sliding = -1;
        if (c.attention == Attention::eager) {
            // sdpa_mask's bool [s, s] (causal_mask_function's comparison) lives until eager_mask's
            // where() has made the float mask (allocator histories: an s²-byte le_Tensor block,
            // freed after the where_self one).
            const auto eager_mask = [&](const char* name) {
                const V bool_mask = sim.tensor(s * s, TensorType::b8, Cat::temporary, "causal mask (bool)");
                const V out = sim.tensor(b * s * s, sim.dtype(hs), Cat::activation, name);
                sim.drop(bool_mask);
                return out;
            };
            if (full_mask) mask_full = eager_mask("attention mask");
            if (sliding_mask) mask_sliding = eager_mask("sliding-window mask");
        } else if (sliding_mask && s >= m.sliding_window) {
            mask_sliding = sim.tensor(s * s, TensorType::b8, Cat::activation, "sliding-window mask (bool)");
        }
        // The rotary tables after the masks (the decoder models' forward: create_causal_mask, then
        // rotary_emb); rotary_emb's inv_freq @ positions is the forward's first matmul, where cuBLAS
        // makes the thread's workspace (allocator history of l1b128k-bf16-eager-b2-s2048-ckpt).
        if (!gpt2) {
            cos_dtype = amp ? TensorType::f32 : pd;
            sim.note_first_matmul();
            for (int t = 0; t < (fam.local_rope ? 2 : 1); ++t) {
                tables.push_back(sim.tensor(s * rotary_dims(), cos_dtype, Cat::activation, "cos"));
                tables.push_back(sim.tensor(s * rotary_dims(), cos_dtype, Cat::activation, "sin"));
            }
        }
        for (int l = 0; l < m.n_layers; ++l) {
            layer = l;
            const LayerParams p = layer_params();
            V gathered = -1;
            if (fsdp(c)) gathered = sim.tensor(p.elements, TensorType::bf16, Cat::weight_cast, "FSDP layer all-gather");
            const V mask = window && m.layer(l).attention == LayerAttention::sliding ? mask_sliding : mask_full;
            std::vector<V> cp_inputs{hs};
            if (mask >= 0) cp_inputs.push_back(mask);
            if (ckpt) sim.begin_checkpoint(cp_inputs);
            mm_count = 0;
            const int first_node = sim.next_node();
            const V out = gpt2                   ? gpt2_block(hs, p, mask)
                          : fam.arch == Arch::neox ? neox_layer(hs, p, mask, cos_dtype)
                          : fam.gemma              ? gemma_layer(hs, p, mask, cos_dtype)
                                                   : llama_layer(hs, p, mask, cos_dtype);
            layer_nodes.emplace_back(first_node, sim.next_node() - 1);
            const int last_node = sim.next_node() - 1;
            if (ckpt) sim.end_checkpoint();
            if (gathered >= 0) {
                // Unsharded bf16 gradients of the layer until its reduce-scatter (fp32).
                sim.alloc_during_backward(first_node, last_node, p.elements * (2 + 4), Cat::grad_flow);
                if (z3) {
                    sim.drop(gathered);  // resharded after forward; gathered again (and the next
                                         // layer prefetched) for backward
                    sim.alloc_during_backward(first_node, last_node, 2 * p.elements * 2, Cat::weight_cast);
                } else {
                    sim.hold_until_node(gathered, first_node);
                    sim.drop(gathered);
                }
            }
            hs = out;
        }
        layer = -1;
        where("final norm + head");
        const V x = gpt2                   ? layer_norm(hs, param(2 * h, "ln_f"))
                    : fam.arch == Arch::neox ? layer_norm(hs, param(2 * h, "final_layer_norm"))
                                             : norm(hs, param(h, "norm"), h);
        sim.drop(hs);
        const V head = m.tied_embeddings ? wte : param(V_ * h, "lm_head");
        V head_in = x;
        if (last_logits_only) head_in = sim.op("last_position", {x}, b * h, sim.dtype(x));
        V logits = linear(head_in, head, h, V_, Cat::logits);
        if (head_in != x) sim.drop(head_in);
        if (m.final_softcap > 0) logits = logit_softcap(logits);
        const auto drop_model_tensors = [&] {
            sim.drop(x);
            if (mask_full >= 0) sim.drop(mask_full);
            if (mask_sliding >= 0) sim.drop(mask_sliding);
            sim.drop(tables);
        };
        if (saved_layer < static_cast<int>(layer_nodes.size()))
            r.layer_saved = sim.saved_by_nodes(layer_nodes[static_cast<std::size_t>(saved_layer)].first,
                                               layer_nodes[static_cast<std::size_t>(saved_layer)].second);
        if (forward_only) {
            if (amp) exit_autocast();
            r.forward_peak = sim.peak();
            r.forward_cats = sim.peak_by_cat();
            r.forward_where = sim.peak_where();
            drop_model_tensors();
            r.forward_end = sim.allocated();  // the output keeps the logits
            return r;
        }
        where("loss (fp32 upcast, log_softmax)");
        // ForCausalLMLoss: logits.float(); cross_entropy = log_softmax (saves its output) + nll_loss.
        V lf = logits;
        if (sim.dtype(logits) != TensorType::f32) lf = sim.op("logits.float", {logits}, T * V_, TensorType::f32, {}, Cat::logits);
        const V shifted = sim.tensor(T * 2, TensorType::i64, Cat::temporary, "shift_labels");
        const V ls = sim.op("log_softmax", {lf}, T * V_, TensorType::f32, {}, Cat::logits);
        sim.save_output(ls);
        const V loss = sim.op("nll_loss", {ls}, 1, TensorType::f32, {}, Cat::logits);
        if (lf != logits) sim.drop(lf);
        sim.drop(ls);
        sim.drop(shifted);
        if (amp) exit_autocast();  // the training loop's `with torch.autocast(...)` ends after the loss
        r.forward_peak = sim.peak();
        r.forward_cats = sim.peak_by_cat();
        r.forward_where = sim.peak_where();
        // Leaving the model: last hidden state, mask, rotary tables, FSDP root gather are dropped.
        // A plain loop's `out` keeps the logits until after backward (measure.py: `del out` after
        // loss.backward()); the Hugging Face Trainer's compute_loss returns only the loss, so the
        // outputs (the logits) are gone before training_step calls backward (transformers
        // trainer.py; measured: the Trainer's backward peak is one logits tensor below the plain
        // loop's, docs/validation/pytorch_memory.md).
        // A loop that drops the outputs itself (`model(...).loss.backward()`,
        // --framework-option keep_outputs=false) releases them as the Trainer does.
        drop_model_tensors();
        if (pytorch_keeps_outputs(c))
            sim.keep(logits);
        else
            sim.drop(logits);
        r.forward_end = sim.allocated();
        sim.start_phase("backward");
        sim.backward(loss);
        if (root_gather >= 0) sim.drop(root_gather);
        r.backward_peak = sim.peak();
        r.backward_cats = sim.peak_by_cat();
        r.backward_where = sim.peak_where();
        sim.drop({ids, labels});
        return r;
    }
};

std::string gib(double bytes) { return format_bytes(bytes, ByteUnit::gib); }

}  // namespace

// The run measure.py makes, as the caching allocator sees it: the parameters moved to the GPU
// tensor by tensor, DDP's buckets, the library workspaces, then kPytorchMeasuredSteps steps of
// (micro-batches of) forward and backward as the simulator replayed them, the optimizer step (its
// state created in the first step, its temporaries) and zero_grad(set_to_none=True). Returns the
// replayed allocator (max_memory_reserved = peak_reserved()).
struct RunShape {
    std::vector<double> params;     // bytes of each parameter tensor on this GPU, in module order
    std::vector<double> buckets;    // DDP reducer buckets (bytes), built at wrap time and again in step 2
    std::vector<double> workspace;  // library workspaces (bytes) made in step 1: {forward thread, autograd thread, the rest}
    std::vector<double> states;     // optimizer state tensors (bytes) created in the first step
    OptimizerImpl impl = OptimizerImpl::foreach;
    std::vector<double> updated;    // bytes of each tensor the step updates (its temporaries' sizes)
    bool adam = true;
    std::int64_t accum = 1;
};

torchsim::CachingAllocator replay_run(const RunShape& run, const Sim& first, const Sim* later, bool expandable) {
    torchsim::CachingAllocator a(expandable);
    std::int64_t next_static = std::int64_t{1} << 50;
    std::vector<std::int64_t> held;
    const auto hold = [&](double bytes) {
        a.allocate(next_static, bytes);
        held.push_back(next_static++);
    };
    for (double b : run.params) hold(b);
    std::vector<std::int64_t> first_buckets;
    for (double b : run.buckets) {
        hold(b);
        first_buckets.push_back(held.back());
    }
    const std::vector<int> grads = first.grad_storages();
    // Step 1 creates the workspaces lazily: the forward thread's (workspace[0] and the rest,
    // workspace[2]) at the forward's first matmul, the autograd thread's (workspace[1]) at the
    // backward's first (allocator history of alloc-g124-fp32-eager-b4-s1024-ckpt: 32 + 1 MiB
    // after c_attn's output, 32 MiB after lm_head's weight gradient).
    const int fwd_ws = first.first_forward_matmul_event(), bwd_ws = first.first_backward_matmul_event();
    constexpr double kLtWorkspace = 1024.0 * 1024;
    for (int step = 1; step <= kPytorchMeasuredSteps; ++step) {
        if (step == 2)  // the reducer rebuilds its buckets in gradient-ready order in iteration 2's forward
            for (double b : run.buckets) hold(b);
        // Micro-batches 3.. repeat micro-batch 2's allocations and frees on a cache that already
        // holds what they need: at most three are replayed.
        for (std::int64_t k = 0; k < std::min<std::int64_t>(run.accum, 3); ++k) {
            const Sim& sim = k == 0 || !later ? first : *later;
            const std::int64_t base = (static_cast<std::int64_t>(step) * 1000 + k) * 100'000'000;
            const std::vector<Sim::Event>& events = sim.events();
            for (std::size_t i = 0; i <= events.size(); ++i) {
                if (step == 1 && k == 0) {
                    if (static_cast<int>(i) == std::max(fwd_ws, 0)) {
                        hold(run.workspace[0]);
                        // The rest in cuBLASLt's 1 MiB workspaces, small-pool requests (the
                        // GPT-2 history: getCUDABlasLtWorkspace allocates 1 MiB per thread).
                        for (double left = run.workspace[2]; left > 0; left -= kLtWorkspace) hold(std::min(left, kLtWorkspace));
                    }
                    if (static_cast<int>(i) == (bwd_ws < 0 ? static_cast<int>(events.size()) : bwd_ws)) hold(run.workspace[1]);
                }
                if (i == events.size()) break;
                const Sim::Event& e = events[i];
                if (e.bytes > 0)
                    a.allocate(base + e.storage, e.bytes);
                else
                    a.release(base + e.storage);
            }
        }
        if (step == 2)  // the first set is gone by the end of iteration 2's backward (measured)
            for (std::int64_t id : first_buckets) a.release(id);
        if (step == 1)
            for (double b : run.states) hold(b);
        if (run.adam && run.impl == OptimizerImpl::foreach) {  // _foreach_sqrt's list, freed after addcdiv_
            std::vector<std::int64_t> tmp;
            for (double b : run.updated) {
                a.allocate(next_static, b);
                tmp.push_back(next_static++);
            }
            for (std::int64_t id : tmp) a.release(id);
        } else if (run.adam && run.impl == OptimizerImpl::forloop) {  // sqrt, then its quotient, per tensor
            for (double b : run.updated) {
                a.allocate(next_static, b);
                a.allocate(next_static + 1, b);
                a.release(next_static);
                a.release(next_static + 1);
                next_static += 2;
            }
        }
        const std::int64_t base = (static_cast<std::int64_t>(step) * 1000) * 100'000'000;
        for (int g : grads) a.release(base + g);  // zero_grad(set_to_none=True)
    }
    return a;
}

const char* to_string(OptimizerImpl impl) {
    switch (impl) {
        case OptimizerImpl::foreach: return "foreach";
        case OptimizerImpl::fused: return "fused";
        case OptimizerImpl::forloop: return "forloop";
    }
    return "?";
}

bool pytorch_hf_trainer(const TrainConfig& c) {
    return framework_option_choice(c, "trainer", {"none", "hf"}) == "hf";
}

bool pytorch_keeps_outputs(const TrainConfig& c) { return !pytorch_hf_trainer(c) && framework_option_flag(c, "keep_outputs"); }

OptimizerImpl pytorch_optimizer_impl(const TrainConfig& c, std::string* stated) {
    const std::string v = framework_option_choice(c, "optimizer_impl", {"default", "foreach", "fused", "forloop"});
    const bool hf = pytorch_hf_trainer(c);
    OptimizerImpl impl = OptimizerImpl::foreach;
    std::string why;
    if (v == "fused" || (v == "default" && hf)) impl = OptimizerImpl::fused;
    if (v == "forloop") impl = OptimizerImpl::forloop;
    if (v != "default") {
        why = "as given";
    } else if (hf) {
        // transformers TrainingArguments: optim defaults to "adamw_torch_fused" with torch >= 2.8.
        why = "the Hugging Face Trainer's default optim adamw_torch_fused";
    } else {
        // torch.optim.AdamW/Adam/SGD with foreach=None, fused=None: _default_to_fused_or_foreach(
        // use_fused=False) picks foreach for CUDA tensors.
        why = "PyTorch's default for CUDA parameters; --framework-option optimizer_impl=fused|forloop to change";
    }
    if (stated) *stated = std::string(to_string(impl)) + " (" + why + ")";
    return impl;
}

OptimizerStep pytorch_optimizer_step(Optimizer opt, OptimizerImpl impl, const std::vector<double>& elements,
                                     double state_bytes) {
    OptimizerStep out;
    if (opt != Optimizer::adamw && opt != Optimizer::adam) return out;  // SGD: in place, no step counter
    if (impl == OptimizerImpl::fused) {
        out.step_tensors = static_cast<double>(elements.size()) * torchsim::round_alloc(4);
        return out;
    }
    if (impl == OptimizerImpl::foreach) {
        for (double e : elements) out.temporaries += torchsim::round_alloc(e * state_bytes);
        return out;
    }
    double largest = 0;
    for (double e : elements) largest = std::max(largest, e);
    out.temporaries = 2 * torchsim::round_alloc(largest * state_bytes);
    return out;
}

std::vector<double> zero_partition_largest(std::vector<double> elements, int ranks) {
    std::stable_sort(elements.begin(), elements.end(), [](double a, double b) { return a > b; });
    std::vector<std::vector<double>> parts(static_cast<std::size_t>(std::max(ranks, 1)));
    std::vector<double> sizes(parts.size(), 0.0);
    for (double e : elements) {
        const std::size_t r = static_cast<std::size_t>(std::min_element(sizes.begin(), sizes.end()) - sizes.begin());
        parts[r].push_back(e);
        sizes[r] += e;
    }
    const std::size_t most = static_cast<std::size_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
    return parts[most];
}

std::string pytorch_sac_policy() {
    return "torch.utils.checkpoint per decoder layer with torchtitan's op policy: save aten.mm outputs 1, 3, 5, ... of "
           "each layer (Llama: q_proj, v_proj, gate_proj, down_proj), the cuDNN / memory-efficient SDPA outputs and "
           "log-sum-exp; recompute everything else (biased linears run aten.addmm: recomputed)";
}

void validate_pytorch_profile(const ModelSpec& m, const TrainConfig& c) {
    const auto fail = [](const std::string& msg) { throw InputError(msg); };
    const std::string fam = m.family;
    if (m.is_moe())
        fail("--framework pytorch: mixture-of-experts models (family \"" + fam +
             "\") are not modelled (" + family_list() + " are); use --framework generic");
    if (!find_family(fam))
        fail("--framework pytorch: models of family \"" + fam + "\" are not modelled (" + family_list() +
             " are); use --framework generic");
    // The op sequences write GELU (gpt2, gpt_neox) or gated MLPs (llama and its kin).
    if (m.activation == Activation::relu2)
        fail("--framework pytorch: a squared-ReLU MLP (activation relu2) is not modelled; use --framework generic");
    if (fam == "gpt_neox" && c.lora.enabled())
        fail("--lora-rank with a gpt_neox model is not modelled under --framework pytorch (PEFT targets its fused "
             "query_key_value, which the adapter count does not describe); use --framework generic");
    if (c.precision != Precision::fp32 && c.precision != Precision::amp_bf16 && c.precision != Precision::bf16)
        fail(std::string("--precision ") + to_string(c.precision) +
             ": the pytorch profile models fp32, amp-bf16 and bf16 (use --framework generic)");
    const ParallelLayout& p = c.parallel;
    if (p.tp > 1 || p.pp > 1 || p.cp > 1 || p.ep > 1)
        fail("--framework pytorch models data parallelism only (DDP, ZeroRedundancyOptimizer, FSDP2); "
             "tensor, pipeline, context and expert parallelism need --framework generic");
    if (c.offload != Offload::none) fail("--offload: the pytorch profile has no CPU offload; use --framework generic");
    if (c.lora.base_quant != BaseQuant::none)
        fail("--base-quant: QLoRA's bitsandbytes layers are not modelled under --framework pytorch; use --framework generic");
    if (c.lora.paged_optimizer) fail("--paged-optimizer: bitsandbytes is not modelled under --framework pytorch");
    if (c.lora.enabled() && p.gpus > 1 && p.zero >= 2)
        fail("--lora-rank with FSDP (--zero 2/3) is not modelled under --framework pytorch");
    if (c.recompute == Recompute::selective && c.lora.enabled())
        fail("--recompute selective with --lora-rank is not modelled under --framework pytorch (the policy would count "
             "the adapters' matmuls); use --recompute full or none");
    pytorch_optimizer_impl(c);  // the option's value is checked here (InputError naming it)
    if (pytorch_compile(c)) validate_pytorch_compile(m, c);
    if (c.optimizer != Optimizer::adamw && c.optimizer != Optimizer::adam && c.optimizer != Optimizer::sgd &&
        c.optimizer != Optimizer::sgd_momentum)
        fail(std::string("--optimizer ") + to_string(c.optimizer) +
             ": the pytorch profile models adamw, adam, sgd and sgd-momentum (torch.optim)");
    if (p.gpus > 1 && p.zero >= 2 && c.precision != Precision::amp_bf16)
        fail("--zero " + std::to_string(p.zero) +
             " under --framework pytorch is FSDP2 with bf16 parameters and fp32 reduction: use --precision amp-bf16");
}

PytorchForward pytorch_forward(const ModelSpec& m, const TrainConfig& c, bool record_grad, bool last_logits_only) {
    TrainConfig cc = c;
    cc.parallel = ParallelLayout{};
    cc.recompute = Recompute::none;
    validate_pytorch_profile(m, cc);
    Program prog(m, cc);
    prog.forward_only = true;
    prog.record_grad = record_grad;
    prog.last_logits_only = last_logits_only;
    const Program::Result r = prog.run();
    PytorchForward f;
    f.peak = r.forward_peak;
    f.end = r.forward_end;
    f.where = r.forward_where;
    f.activations = r.forward_cats[static_cast<std::size_t>(Cat::activation)];
    f.logits = r.forward_cats[static_cast<std::size_t>(Cat::logits)];
    f.other = f.peak - f.activations - f.logits;
    return f;
}

std::vector<PytorchSavedTensor> pytorch_layer_saved(const ModelSpec& m, const TrainConfig& c, int layer) {
    TrainConfig cc = c;
    cc.recompute = Recompute::none;
    validate_pytorch_profile(m, cc);
    if (layer < 0 || layer >= m.n_layers)
        throw InputError("pytorch_layer_saved: layer " + std::to_string(layer) + " is not one of the model's " +
                         std::to_string(m.n_layers) + " layers");
    Program prog(m, cc);
    prog.saved_layer = layer;
    const Program::Result r = prog.run();
    std::vector<PytorchSavedTensor> out;
    for (const Sim::Saved& t : r.layer_saved) out.push_back({t.name, t.bytes, torchsim::to_string(t.cat)});
    return out;
}

namespace {

// --compile: the step as torch.compile runs it (torch_compile.h), in the program's simulator.
Program::Result compiled_result(Program& prog) { return {run_compiled_step(prog.m, prog.c, prog.sim), {}}; }

// The stage and the number of segments the replayed allocator reserved (its cudaMalloc calls).
StageMemory plan_stage_replayed(const ModelSpec& m, const TrainConfig& c, int* segments) {
    validate_pytorch_profile(m, c);
    Program prog(m, c);
    const bool compiled = pytorch_compile(c);
    const Program::Result r = compiled ? compiled_result(prog) : prog.run();
    const ParallelLayout& p = c.parallel;
    const int N = p.gpus;
    const bool ddp = N > 1 && p.zero <= 1, fs = N > 1 && p.zero >= 2;

    StageMemory st;
    st.stage = 0;
    st.first_layer = 0;
    st.layers = m.n_layers;
    st.placement = "whole model";
    const ParamBreakdown pb = count_params(m);
    const double P = static_cast<double>(pb.total());
    st.params_on_gpu = pb.total();
    const double w = c.precision == Precision::bf16 ? 2 : 4;  // stored parameter bytes
    const double state_per_param = c.optimizer == Optimizer::adamw || c.optimizer == Optimizer::adam ? 2
                                   : c.optimizer == Optimizer::sgd_momentum                        ? 1
                                                                                                   : 0;
    const double shard = fs ? N : 1;
    st.parameters = P * w / shard;
    // The tensors this GPU's optimizer updates (elements each): all of them; the largest
    // ZeroRedundancyOptimizer partition; FSDP2's dim-0 shard of each (rank 0 gets ceil(rows/N)).
    std::vector<double> local;
    double state_bytes = w;
    if (c.lora.enabled()) {
        // PEFT adapters (fp32): 2 tensors per targeted module and layer; their shapes differ
        // (r × in, out × r), each is taken at the mean size (the for-loop temporary is then low by
        // at most the spread of the adapter sizes).
        const LoraCount lc = count_lora(m, c.lora);
        const double adapter_tensors = 2.0 * lc.modules_per_layer * m.n_layers;
        local.assign(static_cast<std::size_t>(adapter_tensors), lc.adapter_params / adapter_tensors);
        state_bytes = 4;
    } else {
        for (const ParamTensor& t : param_tensors(m))
            for (std::int64_t k = 0; k < t.count; ++k)
                local.push_back(fs ? std::ceil(static_cast<double>(t.rows) / N) * static_cast<double>(t.cols)
                                   : static_cast<double>(t.elements()));
    }
    if (ddp && p.zero == 1) local = zero_partition_largest(local, N);
    double local_elements = 0;
    for (double e : local) local_elements += e;
    std::string impl_stated;
    const OptimizerImpl impl = pytorch_optimizer_impl(c, &impl_stated);
    const OptimizerStep step = pytorch_optimizer_step(c.optimizer, impl, local, state_bytes);
    st.optimizer_states = state_per_param * local_elements * state_bytes + step.step_tensors;
    st.master = 0;
    st.gradients = P * (fs ? 4.0 / N : w);
    double trainable = P;
    if (c.lora.enabled()) {
        // PEFT: the base is frozen (weights only); fp32 adapters with fp32 gradients and AdamW state.
        const LoraCount lc = count_lora(m, c.lora);
        trainable = lc.adapter_params;
        st.parameters = P * w + 4 * lc.adapter_params;
        st.gradients = 4 * lc.adapter_params;
    }
    // DDP: reducer buckets hold a flat copy of every gradient (fp32, gradient_as_bucket_view=False);
    // the second iteration rebuilds the buckets in gradient-ready order while the first set is
    // still allocated (measured: +P·4 B during step 2 on every 2-GPU fixture, on at least one rank).
    const double buckets = ddp ? trainable * 4 : 0;
    const double rebuild = ddp ? trainable * 4 : 0;
    st.communication_buffers = buckets + rebuild;
    const bool checkpointed = c.recompute != Recompute::none;
    const double workspace = kPytorchWorkspaceBytes + (checkpointed ? kPytorchCheckpointExtraBytes : 0);
    const double static_bytes = st.parameters + st.optimizer_states + st.communication_buffers + workspace;

    const double fwd = static_bytes + r.forward_peak;
    const double fwd_end = static_bytes + r.forward_end;
    const double bwd = static_bytes + r.backward_peak;
    // The step: states (allocated in the first step before the update runs), every .grad and the
    // implementation's temporaries.
    const double opt = static_bytes + st.gradients + step.temporaries;
    st.phases = {{"forward_peak", fwd}, {"forward_end", fwd_end}, {"backward", bwd}, {"optimizer_step", opt}};
    // Gradient accumulation: micro-batches 2..k run with every .grad allocated (zero_grad
    // set_to_none frees them only after the step) and add their gradients in place.
    const std::int64_t accum = std::max<std::int64_t>(1, c.grad_accum());
    Program::Result later;
    double fwd2 = 0, bwd2 = 0;
    std::unique_ptr<Program> later_prog;
    if (accum > 1) {
        later_prog = std::make_unique<Program>(m, c);
        later_prog->grads_exist = true;
        later = later_prog->run();
        fwd2 = static_bytes + st.gradients + later.forward_peak;
        bwd2 = static_bytes + st.gradients + later.backward_peak;
        st.phases.push_back({"later_microbatch_forward_peak", fwd2});
        st.phases.push_back({"later_microbatch_backward", bwd2});
    }
    const bool later_peak = accum > 1 && std::max(fwd2, bwd2) > std::max(fwd, bwd);
    const bool backward_peak = later_peak ? bwd2 >= fwd2 : bwd >= fwd;
    st.peak_allocated = std::max({fwd, bwd, opt, fwd2, bwd2});
    const bool step_peak = opt >= st.peak_allocated && opt > std::max({fwd, bwd, fwd2, bwd2});
    st.peak_phase = step_peak ? "optimizer_step"
                              : std::string(later_peak ? "later_microbatch_" : "") + (backward_peak ? "backward" : "forward");
    const Program::Result& at_peak = later_peak ? later : r;
    std::vector<double> cats = backward_peak ? at_peak.backward_cats : at_peak.forward_cats;
    if (step_peak) {  // nothing of the forward or backward is alive in the step
        cats.assign(cats.size(), 0.0);
        cats[static_cast<std::size_t>(Cat::temporary)] = step.temporaries;
    }
    auto cat = [&](Cat k) { return cats[static_cast<std::size_t>(k)]; };
    st.activations = cat(Cat::activation);
    st.logits = cat(Cat::logits);
    st.zero3_gathered = cat(Cat::weight_cast);
    st.temporary = cat(Cat::temporary) + cat(Cat::grad_flow);
    const double grads_at_peak = later_peak || step_peak ? st.gradients : cat(Cat::gradient);
    st.overhead = kGenericCudaContextBytes;
    // Reserved: the caching allocator replayed over the run's allocations and frees.
    RunShape run;
    run.accum = accum;
    run.impl = impl;
    run.adam = c.optimizer == Optimizer::adamw || c.optimizer == Optimizer::adam;
    {
        const std::vector<ParamTensor> tensors = param_tensors(m);
        const auto add = [&](const ParamTensor& t) {
            const double e = fs ? std::ceil(static_cast<double>(t.rows) / N) * static_cast<double>(t.cols)
                                : static_cast<double>(t.elements());
            run.params.push_back(e * w);
        };
        for (Block blk : {Block::embedding, Block::layer, Block::final_norm, Block::head}) {
            if (blk == Block::layer) {
                for (int l = 0; l < m.n_layers; ++l)
                    for (const ParamTensor& t : tensors)
                        if (t.block == Block::layer) add(t);
            } else {
                for (const ParamTensor& t : tensors)
                    if (t.block == blk)
                        for (std::int64_t k = 0; k < t.count; ++k) add(t);
            }
        }
        for (double e : local) {
            run.updated.push_back(e * state_bytes);
            if (run.adam && impl == OptimizerImpl::fused) run.states.push_back(4);
            for (int k = 0; k < static_cast<int>(state_per_param); ++k) run.states.push_back(e * state_bytes);
        }
        if (c.lora.enabled())
            for (double e : local) run.params.push_back(e * 4);
        if (ddp) {
            // DistributedDataParallel: fp32 buckets over the trainable tensors in reverse order, the
            // first capped at 1 MiB (_DEFAULT_FIRST_BUCKET_BYTES), the others at bucket_cap_mb = 25.
            std::vector<double> grads_fp32;
            if (c.lora.enabled())
                for (double e : local) grads_fp32.push_back(e * 4);
            else
                for (double b : run.params) grads_fp32.push_back(b / w * 4);
            double bucket = 0, cap = 1024.0 * 1024;
            for (auto it = grads_fp32.rbegin(); it != grads_fp32.rend(); ++it) {
                bucket += *it;
                if (bucket >= cap) {
                    run.buckets.push_back(bucket);
                    bucket = 0;
                    cap = 25.0 * 1024 * 1024;
                }
            }
            if (bucket > 0) run.buckets.push_back(bucket);
        }
        // The library workspaces: two cuBLAS workspaces (forward and autograd threads) and the
        // rest of the measured 65 MiB (+1 MiB with checkpointing), made as 1 MiB blocks.
        const double half = 32.0 * 1024 * 1024;
        run.workspace = {half, half, workspace - 2 * half};
    }
    const bool expandable = framework_option_flag(c, "expandable_segments");
    const torchsim::CachingAllocator alloc = replay_run(run, prog.sim, later_prog ? &later_prog->sim : nullptr, expandable);
    st.reserved_estimate = std::max(alloc.peak_reserved(), st.peak_allocated);
    if (segments) *segments = alloc.device_allocations();
    st.device_total = st.reserved_estimate + st.overhead;
    st.layer_microbatches = m.n_layers;
    st.microbatches_in_flight = 1;
    st.activations_per_layer = st.activations / m.n_layers;

    // --- the explanation ---------------------------------------------------------------------------
    const std::string src = "PyTorch 2.11 + transformers 5.17, traced op by op (validation/pytorch_memory/trace_ops.py)";
    const char* wd = w == 4 ? "fp32" : "bf16";
    if (c.lora.enabled()) {
        const LoraCount lc = count_lora(m, c.lora);
        const std::string a = format_int(static_cast<std::int64_t>(lc.adapter_params));
        st.terms.push_back({"parameters", "parameters", st.parameters,
                            format_int(pb.total()) + " frozen params × " + std::to_string(static_cast<int>(w)) + " B + " + a +
                                " LoRA params × 4 B (PEFT keeps adapters in fp32)",
                            "peft LoraModel; model.to(dtype)"});
        st.terms.push_back({"gradients", "gradients (at the peak)", grads_at_peak,
                            "LoRA adapters only: " + a + " × 4 B = " + gib(st.gradients) + " when all exist", "AccumulateGrad"});

    } else {
    st.terms.push_back({"parameters", "parameters", st.parameters,
                        format_int(pb.total()) + " params × " + std::to_string(static_cast<int>(w)) + " B (" + wd + ")" +
                            (fs ? " ÷ " + std::to_string(N) + " (FSDP2 shards)" : ""),
                        "model.to(dtype); FSDP2 fully_shard"});
    st.terms.push_back({"gradients", "gradients (at the peak)", grads_at_peak,
                        "parameter .grad tensors allocated so far in backward (all of them: " + gib(st.gradients) + " = " +
                            format_int(pb.total()) + " × " + (fs ? "4 B ÷ " + std::to_string(N) : std::to_string(static_cast<int>(w)) + " B") +
                            "); freed by zero_grad(set_to_none=True)" +
                            (accum > 1 ? "; " + std::to_string(accum) + " micro-batches per step: the first peaks at " +
                                             gib(std::max(fwd, bwd)) + ", the later ones (every .grad allocated, added in place) at " +
                                             gib(std::max(fwd2, bwd2))
                                       : std::string()),
                        "AccumulateGrad; torch.optim.Optimizer.zero_grad"});
    }
    {
        const std::string part = ddp && p.zero == 1 ? " (the largest ZeroRedundancyOptimizer partition: " +
                                                         format_int(static_cast<std::int64_t>(local.size())) + " tensors)"
                                 : fs ? " (FSDP2 dim-0 shards, rank 0's)"
                                      : "";
        st.terms.push_back({"optimizer", "optimizer state", st.optimizer_states,
                            std::to_string(static_cast<int>(state_per_param)) + " × " +
                                format_int(static_cast<std::int64_t>(local_elements)) + " elements" + part + " × " +
                                std::to_string(static_cast<int>(state_bytes)) + " B (" + to_string(c.optimizer) +
                                " state in the parameter dtype)" +
                                (step.step_tensors > 0 ? " + 512 B step tensor × " +
                                                             format_int(static_cast<std::int64_t>(local.size())) + " (fused: on the GPU)"
                                                       : std::string(" (step counters on the CPU)")) +
                                "; " + impl_stated + ", step temporaries " +
                                (step.temporaries == 0 ? std::string("none")
                                 : impl == OptimizerImpl::foreach
                                     ? "_foreach_sqrt(exp_avg_sqs) over " + format_int(static_cast<std::int64_t>(local.size())) +
                                           " tensors, " + gib(step.temporaries)
                                     : "sqrt and quotient of the largest tensor, " + gib(step.temporaries)) +
                                " (the step peaks at " + gib(opt) + ")",
                            "torch/optim/adam.py, adamw.py (_init_group, _multi_tensor_adam, _single_tensor_adam); "
                            "ZeroRedundancyOptimizer._partition_parameters (docs/MEMORY_MODEL.md §7.1)"});
    }
    std::string layer0;  // what one layer keeps (without checkpointing: the saved tensors are listed)
    if (!r.layer_saved.empty()) {
        double bytes = 0;
        for (const Sim::Saved& t : r.layer_saved) bytes += t.bytes;
        layer0 = "; layer 0 keeps " + std::to_string(r.layer_saved.size()) + " tensors, " + gib(bytes) +
                 " for backward";
    }
    if (compiled)
        st.terms.push_back({"activations", "activations (alive at the peak)", st.activations,
                            compiled_assumption(m, c) + "; at " +
                                (step_peak ? std::string("the optimizer step") : backward_peak ? r.backward_where : r.forward_where),
                            "torch/_functorch/partitioners.py min_cut_rematerialization_partition (docs/MEMORY_MODEL.md §7.2)"});
    else
    st.terms.push_back({"activations", "activations (alive at the peak)", st.activations,
                        "tensors saved for backward by every op of " + std::to_string(m.n_layers) + " layers (" +
                            (prog.amp ? "autocast's bf16 input casts, fp32 norms, GELU and softmax"
                                      : std::string(prog.pd == TensorType::bf16 ? "bf16, with fp32 norm and softmax copies"
                                                                           : "fp32")) +
                            ", as PyTorch stores them), at " +
                            (step_peak ? std::string("the optimizer step") : backward_peak ? at_peak.backward_where : at_peak.forward_where) + layer0,
                        src});
    st.terms.push_back({"logits", "logits and loss tensors", st.logits,
                        "logits (" + std::string(prog.cd == TensorType::f32 ? "fp32" : "bf16") + "), " +
                            (m.final_softcap > 0 ? "final_logit_softcapping's tanh and product, " : "") +
                            (compiled ? "the compiled backward's zeros tangent of the logits and their gradient"
                                      : "the fp32 upcast, log_softmax output and its gradients") +
                            " alive at the peak: b·s·V = " +
                            format_int(static_cast<std::int64_t>(prog.T)) + " × " + std::to_string(m.vocab_size),
                        "transformers ForCausalLMLoss (logits.float(), cross_entropy)"});
    st.terms.push_back({"weight_casts", fs ? "gathered bf16 parameters" : "autocast weight copies", st.zero3_gathered,
                        fs ? std::string("FSDP2 all-gathered bf16 parameters alive at the peak")
                           : std::string("bf16 copies of fp32 weights made by autocast and saved by the matmuls"),
                        fs ? "torch.distributed.fsdp.fully_shard (MixedPrecisionPolicy param_dtype=bfloat16)"
                           : "autocast weight cache (aten/src/ATen/autocast_mode.cpp)"});
    st.terms.push_back({"communication_buffers", "communication buffers", st.communication_buffers,
                        ddp ? "DDP buckets " + gib(buckets) + " (P × 4 B) + bucket rebuild in iteration 2 " + gib(rebuild) +
                                  " (the old set is freed by that iteration's backward end: from iteration 3 the backward "
                                  "peaks at " + gib(bwd - rebuild) + "; measured on at least one rank of each 2-GPU DDP run)"
                            : std::string("none (FSDP2 reduce-scatter buffers are per layer: in temporary)"),
                        "torch.nn.parallel.DistributedDataParallel reducer"});
    st.terms.push_back({"temporary", "temporaries and gradients in flight", st.temporary,
                        "op outputs not yet consumed, gradients flowing through backward, backward workspaces",
                        src});
    st.terms.push_back({"workspace", "library workspaces (allocator)", workspace,
                        "cuBLAS/cuBLASLt workspaces of the forward and autograd threads (measured 65 MiB" +
                            std::string(c.recompute == Recompute::full ? " + 1 MiB with checkpointing)" : ")"),
                        "measured: allocated bytes at step start minus parameters and optimizer state"});
    st.terms.push_back({"overhead", "CUDA context (outside the allocator)", st.overhead,
                        gib(st.overhead) + " per GPU (context, kernels, NCCL)",
                        "measured: device used minus PyTorch reserved (docs/MEMORY_MODEL.md §6)"});
    return st;
}

}  // namespace

StageMemory plan_pytorch_stage(const ModelSpec& m, const TrainConfig& c) { return plan_stage_replayed(m, c, nullptr); }

int pytorch_allocator_segments(const ModelSpec& m, const TrainConfig& c) {
    int segments = 0;
    plan_stage_replayed(m, c, &segments);
    return segments;
}

}  // namespace llmplan
