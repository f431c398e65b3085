// pytorch_profile.cpp — Hugging Face transformers training steps, op by op, in the torch_sim
// simulator. Each function mirrors one transformers 5.17 module (modeling_gpt2.py,
// modeling_llama.py, integrations/sdpa_attention.py, loss/loss_utils.py, activations.py) as
// traced on an H100 (validation/pytorch_memory/trace_ops.py); the comments name the aten ops the
// trace shows. Autocast rules: torch/csrc/autograd/autocast_mode / aten/src/ATen/autocast_mode.cpp
// (mm/addmm/bmm/sdpa in bf16, layer_norm/pow/softmax/log_softmax in fp32, weight casts of leaf
// tensors cached until autocast exits).
#include "planner/pytorch_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/lora.h"
#include "planner/torch_sim.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace llmplan {

using torchsim::Cat;
using torchsim::TensorType;
using torchsim::Sim;
using torchsim::V;

namespace {

bool is_gpt2(const ModelSpec& m) { return m.family == "gpt2"; }

bool fsdp(const TrainConfig& c) { return c.parallel.gpus > 1 && c.parallel.zero >= 2; }

TensorType promote(TensorType a, TensorType b) { return (a == TensorType::f32 || b == TensorType::f32) ? TensorType::f32 : TensorType::bf16; }

struct Program {
    const ModelSpec& m;
    const TrainConfig& c;
    Sim sim;
    bool amp = false;       // forward under autocast(bfloat16)
    TensorType pd = TensorType::f32;  // parameter dtype in the forward (FSDP2: bf16 gathered copies)
    TensorType cd = TensorType::f32;  // matmul output dtype
    double b = 1, s = 1, T = 1;
    std::map<V, V> cast_cache;  // autocast's weight cache
    int layer = -1;

    Program(const ModelSpec& model, const TrainConfig& config) : m(model), c(config) {
        amp = c.precision == Precision::amp_bf16 && !fsdp(c);
        pd = (c.precision == Precision::bf16 || fsdp(c)) ? TensorType::bf16 : TensorType::f32;
        cd = (amp || pd == TensorType::bf16) ? TensorType::bf16 : TensorType::f32;
        b = static_cast<double>(c.micro_batch);
        s = static_cast<double>(c.seq);
        T = b * s;
    }

    double grad_bytes() const {
        if (fsdp(c)) return 4.0 / c.parallel.gpus;  // FSDP2: fp32 gradient shards (reduce_dtype)
        return c.precision == Precision::bf16 ? 2.0 : 4.0;
    }
    // With LoRA the base is frozen (requires_grad False); adapters are fp32 trainable parameters.
    V param(double elements, const std::string& name) { return sim.param(elements, pd, grad_bytes(), name, !c.lora.enabled()); }
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

    // nn.Linear / Conv1D: (add)mm(x, W) saves its (bf16-cast under autocast) input and weight.
    V linear(V x, V w, double out_features, Cat cat = Cat::activation, bool lora_here = false) {
        V xin = x;
        const bool cast = amp && sim.dtype(x) == TensorType::f32;
        if (cast) xin = sim.op("cast_input", {x}, sim.dtype_elements(x), TensorType::bf16);
        const V cw = weight(w);
        const double in_features = sim.dtype_elements(w) / out_features;
        const double rows = sim.dtype_elements(x) / in_features;
        // autograd saves the input only when the weight needs a gradient (frozen base: W alone).
        const std::vector<V> saved = sim.requires_grad(w) ? std::vector<V>{xin, cw} : std::vector<V>{cw};
        V y = sim.op("mm", {xin, cw}, rows * out_features, cd, saved, cat);
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
        const V sum = sim.op("add", {y, scaled}, rows * out_features, promote(sim.dtype(y), TensorType::f32));
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

    // LlamaRMSNorm: x.to(fp32); pow(2).mean; rsqrt; x·rsqrt; .to(dtype); weight·x.
    V rms_norm(V x, V w) {
        const double n = T * m.d_model;
        V xf = x;
        if (sim.dtype(x) != TensorType::f32) xf = sim.op("to_fp32", {x}, n, TensorType::f32);
        const V p = sim.op("pow", {xf}, n, TensorType::f32, {xf});
        const V mean = sim.op("mean", {p}, T, TensorType::f32);
        sim.drop(p);
        const V var = sim.op("add_eps", {mean}, T, TensorType::f32);
        sim.drop(mean);
        const V r = sim.op("rsqrt", {var}, T, TensorType::f32);
        sim.save_output(r);
        sim.drop(var);
        const V nrm = sim.op("mul", {xf, r}, n, TensorType::f32, {xf, r}, Cat::activation, 2 * n * 4);
        sim.drop(r);
        if (xf != x) sim.drop(xf);
        V nd = nrm;
        if (sim.dtype(x) != TensorType::f32) {
            nd = sim.op("to_dtype", {nrm}, n, sim.dtype(x));
            sim.drop(nrm);
        }
        // weight · x saves x only for the weight's gradient (a frozen LoRA base keeps nothing here).
        const V y = sim.op("mul_weight", {w, nd}, n, promote(pd, sim.dtype(nd)),
                           sim.requires_grad(w) ? std::vector<V>{nd} : std::vector<V>{});
        sim.drop(nd);
        return y;
    }

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

    V add(V x, V y) {
        return sim.op("add", {x, y}, sim.dtype_elements(x), promote(sim.dtype(x), sim.dtype(y)));
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
        const V p = sim.op("pow", {xp}, n, pdt, {xp});
        if (xp != x) sim.drop(xp);
        const V p2 = sim.op("mul", {p}, n, pdt);
        sim.drop(p);
        const V s1 = sim.op("add", {x, p2}, n, promote(xd, pdt));
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

    // Eager attention's matmul(q, kᵀ)·scale + mask → softmax → matmul(p, v); q, k, v are
    // [b, heads, s, d]; returns the output made contiguous as [b, s, heads·d].
    V eager_attention(V q, V k, V v, V mask, bool llama) {
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
        if (!llama) {  // GPT-2: q and k are strided views of the fused qkv output
            qm = sim.op("clone_q", {qm}, n, sim.dtype(qm));
            tmp.push_back(qm);
        }
        const V kc = sim.op("clone_kT", {km}, n, sim.dtype(km));
        tmp.push_back(kc);
        if (llama && rep > 1) sim.drop(kr);
        const V sc = sim.op("bmm_qk", {qm, kc}, S2, sim.dtype(qm), {qm, kc});
        sim.drop(tmp);
        const V scaled = sim.op("scale", {sc}, S2, sim.dtype(sc));
        sim.drop(sc);
        const V masked = sim.op("add_mask", {scaled, mask}, S2, promote(sim.dtype(scaled), sim.dtype(mask)));
        sim.drop(scaled);
        // Llama: softmax(dtype=float32).to(query.dtype); GPT-2: softmax (fp32 under autocast).type(v.dtype).
        const TensorType smd = llama ? TensorType::f32 : (amp ? TensorType::f32 : sim.dtype(masked));
        const V p = sim.op("softmax", {masked}, S2, smd);
        sim.save_output(p);
        sim.drop(masked);
        const TensorType target = llama ? sim.dtype(q) : sim.dtype(v);
        V pt = p;
        if (target != smd) { pt = sim.op("to_dtype", {p}, S2, target); sim.drop(p); }
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
        sim.drop(pt);
        if (vm != vr) sim.drop(vm);
        if (llama && rep > 1) sim.drop(vr);
        const V out = sim.op("contiguous", {o}, n, sim.dtype(o));  // transpose(1, 2).contiguous()
        sim.drop(o);
        return out;
    }

    // SDPA: cuDNN attention for bf16 (GQA natively), memory-efficient for fp32 without
    // enable_gqa (GPT-2), the math fallback for fp32 with enable_gqa (transformers' Llama).
    V sdpa_attention(V q, V k, V v, bool enable_gqa) {
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
            const V out = sim.op(sim.dtype(qm) == TensorType::bf16 ? "sdpa_cudnn" : "sdpa_efficient", {qm, km, v}, n,
                                 sim.dtype(qm), {qm, km, v, lse});
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
        const V mask = sim.tensor(s * s, TensorType::f32, Cat::temporary, "causal mask");
        sim.drop(tril);
        const V kr = sim.op("repeat_k", {km}, n, TensorType::f32);
        const V vr = sim.op("repeat_v", {v}, n, TensorType::f32);
        const V ks = sim.op("k_scale", {kr}, n, TensorType::f32);
        sim.drop(kr);
        const V kc = sim.op("clone_kT", {ks}, n, TensorType::f32);
        sim.drop(ks);
        const V sc = sim.op("bmm_qk", {qs, kc}, S2, TensorType::f32, {qs, kc});
        sim.drop({qs, kc});
        const V masked = sim.op("add_mask", {sc, mask}, S2, TensorType::f32);
        sim.drop(sc);
        const V p = sim.op("softmax", {masked}, S2, TensorType::f32);
        sim.save_output(p);
        sim.drop(masked);
        const V o = sim.op("bmm_pv", {p, vr}, n, TensorType::f32, {p, vr});
        sim.drop({p, vr, mask});
        sim.drop(tmp);
        const V out = sim.op("contiguous", {o}, n, TensorType::f32);  // HF: reshape(...).contiguous()
        sim.drop(o);
        return out;
    }

    // Rotary embedding (apply_rotary_pos_emb): x·cos + rotate_half(x)·sin; cos/sin are fp32
    // under autocast, so the result is fp32 there.
    V rope(V x, TensorType cos_dtype) {
        const double n = sim.dtype_elements(x);
        const TensorType out = promote(sim.dtype(x), cos_dtype);
        const V m1 = sim.op("mul_cos", {x}, n, out);
        const V ng = sim.op("neg", {x}, n / 2, sim.dtype(x));
        const V ct = sim.op("cat", {ng, x}, n, sim.dtype(x));
        sim.drop(ng);
        const V m2 = sim.op("mul_sin", {ct}, n, out);
        sim.drop(ct);
        const V e = sim.op("add", {m1, m2}, n, out);
        sim.drop({m1, m2});
        return e;
    }

    struct LayerParams {
        V norm1, norm2, wq, wk, wv, wqkv, wo, wfc, wproj, wgate, wup, wdown;
        double elements = 0;
    };
    LayerParams layer_params() {
        const double h = m.d_model, q = static_cast<double>(m.q_dim()), kv = static_cast<double>(m.kv_dim()),
                     f = m.d_ff;
        LayerParams p{};
        if (is_gpt2(m)) {
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
            p.wo = param(q * h, "o_proj");
            p.norm2 = param(h, "post_attention_layernorm");
            p.wgate = param(h * f, "gate_proj");
            p.wup = param(h * f, "up_proj");
            p.wdown = param(f * h, "down_proj");
        }
        p.elements = static_cast<double>(params_per_layer(m));
        return p;
    }

    V gpt2_block(V hs, const LayerParams& p, V mask) {
        const double h = m.d_model;
        where(at("ln_1 + attention"));
        const V x = layer_norm(hs, p.norm1);
        const V qkv = linear(x, p.wqkv, 3 * h, Cat::activation, targeted(lora_q | lora_k | lora_v));
        sim.drop(x);
        const std::vector<V> parts = sim.split(qkv, {T * h, T * h, T * h});
        sim.drop(qkv);
        const V attn = c.attention == Attention::eager ? eager_attention(parts[0], parts[1], parts[2], mask, false)
                                                      : sdpa_attention(parts[0], parts[1], parts[2], false);
        sim.drop(parts);
        const V o = dropout(linear(attn, p.wo, h, Cat::activation, targeted(lora_o)));  // resid_dropout
        sim.drop(attn);
        const V h2 = add(o, hs);
        sim.drop({o, hs});
        where(at("ln_2 + MLP"));
        const V x2 = layer_norm(h2, p.norm2);
        const V f1 = linear(x2, p.wfc, m.d_ff, Cat::activation, targeted(lora_up));
        sim.drop(x2);
        const V g = gelu_new(f1);
        sim.drop(f1);
        const V mo = dropout(linear(g, p.wproj, h, Cat::activation, targeted(lora_down)));  // mlp.dropout
        sim.drop(g);
        const V h3 = add(h2, mo);
        sim.drop({mo, h2});
        return h3;
    }

    V llama_layer(V hs, const LayerParams& p, V mask, TensorType cos_dtype) {
        const double h = m.d_model;
        where(at("input norm + attention"));
        const V x = rms_norm(hs, p.norm1);
        const V q = linear(x, p.wq, static_cast<double>(m.q_dim()), Cat::activation, targeted(lora_q));
        const V k = linear(x, p.wk, static_cast<double>(m.kv_dim()), Cat::activation, targeted(lora_k));
        const V v = linear(x, p.wv, static_cast<double>(m.kv_dim()), Cat::activation, targeted(lora_v));
        sim.drop(x);
        const V qe = rope(q, cos_dtype);
        const V ke = rope(k, cos_dtype);
        sim.drop({q, k});
        const V attn = c.attention == Attention::eager ? eager_attention(qe, ke, v, mask, true)
                                                      : sdpa_attention(qe, ke, v, true);
        sim.drop({qe, ke, v});
        const V o = linear(attn, p.wo, h, Cat::activation, targeted(lora_o));
        sim.drop(attn);
        const V h2 = add(hs, o);
        sim.drop({o, hs});
        where(at("post-attention norm + MLP"));
        const V x2 = rms_norm(h2, p.norm2);
        const V g = linear(x2, p.wgate, m.d_ff, Cat::activation, targeted(lora_gate));
        const V sg = sim.op("silu", {g}, T * m.d_ff, sim.dtype(g), {g});
        sim.drop(g);
        const V u = linear(x2, p.wup, m.d_ff, Cat::activation, targeted(lora_up));
        sim.drop(x2);
        const V mu = sim.op("mul", {sg, u}, T * m.d_ff, promote(sim.dtype(sg), sim.dtype(u)), {sg, u});
        sim.drop({sg, u});
        const V dn = linear(mu, p.wdown, h, Cat::activation, targeted(lora_down));
        sim.drop(mu);
        const V h3 = add(h2, dn);
        sim.drop({dn, h2});
        return h3;
    }

    struct Result {
        double forward_peak = 0, forward_end = 0, backward_peak = 0;
        std::vector<double> forward_cats, backward_cats;
        std::string forward_where, backward_where;
    };

    // Forward only (inference / a notebook's `model(input_ids)`): with record_grad false the ops
    // run as under torch.no_grad() (nothing saved); last_logits_only computes the head for the
    // last position of each sequence (generate's logits_to_keep=1).
    bool forward_only = false, record_grad = true, last_logits_only = false;

    Result run() {
        const double h = m.d_model, V_ = static_cast<double>(m.vocab_size);
        sim.grad_enabled = record_grad;
        const bool gpt2 = is_gpt2(m);
        const bool ckpt = c.recompute == Recompute::full;
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
        TensorType cos_dtype = pd;
        V cosv = -1, sinv = -1;
        if (gpt2) {
            const V wpe = param(static_cast<double>(m.max_positions) * h, "wpe");
            const V pe = sim.op("embedding", {wpe}, s * h, pd, {ids});
            const V sum = add(hs, pe);
            sim.drop({hs, pe});
            hs = dropout(sum);  // embd_pdrop
        } else {
            cos_dtype = amp ? TensorType::f32 : pd;
            cosv = sim.tensor(s * m.head_dim, cos_dtype, Cat::activation, "cos");
            sinv = sim.tensor(s * m.head_dim, cos_dtype, Cat::activation, "sin");
        }
        V mask = -1;
        if (c.attention == Attention::eager)  // masking_utils.eager_mask: [b, 1, s, s] in the embedding dtype
            mask = sim.tensor(b * s * s, sim.dtype(hs), Cat::activation, "attention mask");
        for (int l = 0; l < m.n_layers; ++l) {
            layer = l;
            const LayerParams p = layer_params();
            V gathered = -1;
            if (fsdp(c)) gathered = sim.tensor(p.elements, TensorType::bf16, Cat::weight_cast, "FSDP layer all-gather");
            std::vector<V> cp_inputs{hs};
            if (mask >= 0) cp_inputs.push_back(mask);
            if (ckpt) sim.begin_checkpoint(cp_inputs);
            const int first_node = sim.next_node();
            const V out = gpt2 ? gpt2_block(hs, p, mask) : llama_layer(hs, p, mask, cos_dtype);
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
        const V x = gpt2 ? layer_norm(hs, param(2 * h, "ln_f")) : rms_norm(hs, param(h, "norm"));
        sim.drop(hs);
        const V head = m.tied_embeddings ? wte : param(V_ * h, "lm_head");
        V head_in = x;
        if (last_logits_only) head_in = sim.op("last_position", {x}, b * h, sim.dtype(x));
        const V logits = linear(head_in, head, V_, Cat::logits);
        if (head_in != x) sim.drop(head_in);
        if (forward_only) {
            if (amp) exit_autocast();
            r.forward_peak = sim.peak();
            r.forward_cats = sim.peak_by_cat();
            r.forward_where = sim.peak_where();
            sim.drop(x);
            if (mask >= 0) sim.drop(mask);
            if (cosv >= 0) sim.drop({cosv, sinv});
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
        // Leaving the model: last hidden state, mask, rotary tables, FSDP root gather are dropped;
        // `out` keeps the logits until after backward.
        sim.drop(x);
        if (mask >= 0) sim.drop(mask);
        if (cosv >= 0) sim.drop({cosv, sinv});
        sim.keep(logits);
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

void validate_pytorch_profile(const ModelSpec& m, const TrainConfig& c) {
    const auto fail = [](const std::string& msg) { throw InputError(msg); };
    const std::string fam = m.family;
    if (m.is_moe()) fail("--framework pytorch: mixture-of-experts models are not modelled; use --framework generic");
    if (fam != "gpt2" && fam != "llama" && fam != "mistral" && fam != "qwen2")
        fail("--framework pytorch: models of family \"" + fam +
             "\" are not modelled (gpt2, llama, mistral, qwen2 are); use --framework generic");
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
    if (c.recompute == Recompute::selective)
        fail("--recompute selective: Hugging Face checkpointing is per decoder layer; use none or full");
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

StageMemory plan_pytorch_stage(const ModelSpec& m, const TrainConfig& c) {
    validate_pytorch_profile(m, c);
    Program prog(m, c);
    const Program::Result r = prog.run();
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
    double n_tensors = 0;  // parameter tensors (weights and biases of every layer + embeddings)
    for (const ParamTensor& t : param_tensors(m)) n_tensors += static_cast<double>(t.count);
    const double state_per_param = c.optimizer == Optimizer::adamw || c.optimizer == Optimizer::adam ? 2
                                   : c.optimizer == Optimizer::sgd_momentum                        ? 1
                                                                                                   : 0;
    const double shard = fs ? N : 1;
    st.parameters = P * w / shard;
    double opt_shard = shard;
    if (ddp && p.zero == 1) opt_shard = N;
    // AdamW(fused=True): exp_avg, exp_avg_sq in the parameter's dtype + a 4-byte step tensor per parameter.
    st.optimizer_states = state_per_param * P * w / opt_shard +
                          (state_per_param > 0 ? n_tensors / opt_shard * 512 : 0);
    st.master = 0;
    st.gradients = P * (fs ? 4.0 / N : w);
    double trainable = P;
    if (c.lora.enabled()) {
        // PEFT: the base is frozen (weights only); fp32 adapters with fp32 gradients and AdamW state.
        const LoraCount lc = count_lora(m, c.lora);
        trainable = lc.adapter_params;
        const double adapter_tensors = 2.0 * lc.modules_per_layer * m.n_layers;
        st.parameters = P * w + 4 * lc.adapter_params;
        st.gradients = 4 * lc.adapter_params;
        st.optimizer_states = state_per_param * 4 * lc.adapter_params / opt_shard +
                              (state_per_param > 0 ? adapter_tensors / opt_shard * 512 : 0);
    }
    // DDP: reducer buckets hold a flat copy of every gradient (fp32, gradient_as_bucket_view=False);
    // the second iteration rebuilds the buckets in gradient-ready order while the first set is
    // still allocated (measured: +P·4 B during step 2 on every 2-GPU fixture, on at least one rank).
    const double buckets = ddp ? trainable * 4 : 0;
    const double rebuild = ddp ? trainable * 4 : 0;
    st.communication_buffers = buckets + rebuild;
    const double workspace = kPytorchWorkspaceBytes + (c.recompute == Recompute::full ? kPytorchCheckpointExtraBytes : 0);
    const double static_bytes = st.parameters + st.optimizer_states + st.communication_buffers + workspace;

    const double fwd = static_bytes + r.forward_peak;
    const double fwd_end = static_bytes + r.forward_end;
    const double bwd = static_bytes + r.backward_peak;
    const double opt = static_bytes + st.gradients;
    st.phases = {{"forward_peak", fwd}, {"forward_end", fwd_end}, {"backward", bwd}, {"optimizer_step", opt}};
    const bool backward_peak = bwd >= fwd;
    st.peak_phase = backward_peak ? "backward" : "forward";
    st.peak_allocated = std::max({fwd, bwd, opt});
    const std::vector<double>& cats = backward_peak ? r.backward_cats : r.forward_cats;
    auto cat = [&](Cat k) { return cats[static_cast<std::size_t>(k)]; };
    st.activations = cat(Cat::activation);
    st.logits = cat(Cat::logits);
    st.zero3_gathered = cat(Cat::weight_cast);
    st.temporary = cat(Cat::temporary) + cat(Cat::grad_flow);
    const double grads_at_peak = cat(Cat::gradient);
    st.overhead = kGenericCudaContextBytes;
    st.reserved_estimate = st.peak_allocated * (1 + (c.recompute == Recompute::full ? kPytorchReserveFactorCheckpoint
                                                                                     : kPytorchReserveFactor));
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
        st.terms.push_back({"optimizer", "optimizer state", st.optimizer_states,
                            "AdamW exp_avg, exp_avg_sq of the " + a + " adapter params in fp32 + 512 B step tensors",
                            "torch.optim.AdamW(fused=True) state"});
    } else {
    st.terms.push_back({"parameters", "parameters", st.parameters,
                        format_int(pb.total()) + " params × " + std::to_string(static_cast<int>(w)) + " B (" + wd + ")" +
                            (fs ? " ÷ " + std::to_string(N) + " (FSDP2 shards)" : ""),
                        "model.to(dtype); FSDP2 fully_shard"});
    st.terms.push_back({"gradients", "gradients (at the peak)", grads_at_peak,
                        "parameter .grad tensors allocated so far in backward (all of them: " + gib(st.gradients) + " = " +
                            format_int(pb.total()) + " × " + (fs ? "4 B ÷ " + std::to_string(N) : std::to_string(static_cast<int>(w)) + " B") +
                            "); freed by zero_grad(set_to_none=True)",
                        "AccumulateGrad; torch.optim.Optimizer.zero_grad"});
    st.terms.push_back({"optimizer", "optimizer state", st.optimizer_states,
                        std::to_string(static_cast<int>(state_per_param)) + " × " + format_int(pb.total()) + " × " +
                            std::to_string(static_cast<int>(w)) + " B (" + to_string(c.optimizer) +
                            " exp_avg, exp_avg_sq in the parameter dtype) + 512 B step tensor × " +
                            format_int(static_cast<std::int64_t>(n_tensors)) +
                            (opt_shard > 1 ? " ÷ " + std::to_string(static_cast<int>(opt_shard)) +
                                                 (fs ? " (FSDP2 shards)" : " (ZeroRedundancyOptimizer partitions)")
                                           : ""),
                        "torch.optim.AdamW(fused=True) state; torch.distributed.optim.ZeroRedundancyOptimizer"});
    }
    st.terms.push_back({"activations", "activations (alive at the peak)", st.activations,
                        "tensors saved for backward by every op of " + std::to_string(m.n_layers) + " layers (" +
                            (prog.amp ? "autocast's bf16 input casts, fp32 norms, GELU and softmax"
                                      : std::string(prog.pd == TensorType::bf16 ? "bf16, with fp32 norm and softmax copies"
                                                                           : "fp32")) +
                            ", as PyTorch stores them), at " +
                            (backward_peak ? r.backward_where : r.forward_where),
                        src});
    st.terms.push_back({"logits", "logits and loss tensors", st.logits,
                        "logits (" + std::string(prog.cd == TensorType::f32 ? "fp32" : "bf16") + "), the fp32 upcast, log_softmax output and its gradients alive at the peak: b·s·V = " +
                            format_int(static_cast<std::int64_t>(prog.T)) + " × " + std::to_string(m.vocab_size),
                        "transformers ForCausalLMLoss (logits.float(), cross_entropy)"});
    st.terms.push_back({"weight_casts", fs ? "gathered bf16 parameters" : "autocast weight copies", st.zero3_gathered,
                        fs ? std::string("FSDP2 all-gathered bf16 parameters alive at the peak")
                           : std::string("bf16 copies of fp32 weights made by autocast and saved by the matmuls"),
                        fs ? "torch.distributed.fsdp.fully_shard (MixedPrecisionPolicy param_dtype=bfloat16)"
                           : "autocast weight cache (aten/src/ATen/autocast_mode.cpp)"});
    st.terms.push_back({"communication_buffers", "communication buffers", st.communication_buffers,
                        ddp ? "DDP buckets " + gib(buckets) + " (P × 4 B) + bucket rebuild in iteration 2 " + gib(rebuild)
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

}  // namespace llmplan
