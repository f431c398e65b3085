// infer.cpp — serving memory and speed; the model is described in infer.h and docs/INFERENCE.md.
#include "planner/infer.h"

#include "planner/flops.h"

#include "core/error.h"
#include "core/precision.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/comm.h"
#include "planner/perf.h"
#include "planner/pytorch_profile.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace llmplan {

const char* to_string(InferFramework f) {
    switch (f) {
        case InferFramework::generic: return "generic";
        case InferFramework::hf: return "hf";
        case InferFramework::vllm: return "vllm";
    }
    return "?";
}

InferFramework parse_infer_framework(std::string_view text, std::string_view flag) {
    const std::string t = to_lower(trim(text));
    if (t == "generic") return InferFramework::generic;
    if (t == "hf" || t == "transformers") return InferFramework::hf;
    if (t == "vllm") return InferFramework::vllm;
    throw InputError(std::string(flag) + ": \"" + std::string(text) + "\" is not an inference framework; use generic, hf or vllm");
}

namespace {

std::string gib(double b) { return format_bytes(b, ByteUnit::gib); }
std::string num(double v) { return format_int(static_cast<std::int64_t>(std::llround(v))); }
double kv_element_bytes(WeightFormat f) {
    return f == WeightFormat::fp32 ? 4 : (f == WeightFormat::fp8 || f == WeightFormat::int8) ? 1 : 2;
}

struct Sizes {
    double weights = 0, largest_matrix = 0;  // bytes per GPU; largest quantized matrix (elements)
    double routed_expert_bytes = 0;          // the part of `weights` in routed experts
    double matmul_flops = 0;                 // per token per GPU: 2 × active layer matmul parameters (router included)
    std::string weights_formula;
};

// Bytes per GPU of what is served. The multi-token-prediction modules are left out: transformers
// does not build them and vLLM loads them only as a speculative-decoding draft (docs/INFERENCE.md).
Sizes weight_sizes(const ModelSpec& m, const InferConfig& c) {
    Sizes s;
    const double other = unquantized_bytes(c.weights.format);
    double quantized = 0, plain = 0, qbytes = 0;
    for (const ParamTensor& t : param_tensors(m)) {
        if (t.block == Block::mtp) continue;
        const bool split = t.tp != TpSplit::replicated;
        const double elems = static_cast<double>(t.total_elements()) / (split ? c.tp : 1);
        // A token runs top_k of the n_experts experts of an MoE layer (count_params' `active`).
        const double active = t.expert ? static_cast<double>(m.top_k) / m.n_experts : 1.0;
        double bytes = 0;
        if (t.matmul_weight && t.block == Block::layer) {
            quantized += elems;
            bytes = elems * weight_bytes_per_element(c.weights, static_cast<double>(t.cols));
            qbytes += bytes;
            s.largest_matrix = std::max(s.largest_matrix, static_cast<double>(t.elements()) / (split ? c.tp : 1));
            s.matmul_flops += 2 * elems * active;
        } else {
            plain += elems;
            bytes = elems * other;
            // The router is a matmul too (planner/flops.h counts its 2·d·E), though no format quantizes it.
            if (t.group == ParamGroup::router && t.is_matrix()) s.matmul_flops += 2 * elems;
        }
        if (t.expert) s.routed_expert_bytes += bytes;
    }
    s.weights = qbytes + plain * other;
    std::ostringstream f;
    f << num(quantized) << " layer matmul weights × " << weight_format_formula(c.weights, static_cast<double>(m.d_model))
      << " + " << num(plain) << " embedding/norm/head parameters × " << other << " B" << (c.tp > 1 ? " (÷ tp where split)" : "");
    if (m.mtp_layers > 0) f << "; the " << m.mtp_layers << " multi-token-prediction module(s) are not served";
    s.weights_formula = f.str();
    return s;
}

// FLOPs of Q·Kᵀ and softmax·V per key, one layer, every head: 2 multiply-adds per element of the
// query and of the value. MLA as the kernels run it: expanded per head (prefill, and transformers'
// cache), or against the latent itself when the cache holds it (decode: keys are the kv_lora_rank
// + qk_rope_head_dim latent, values its kv_lora_rank part; DeepSeek-V2 §2.1.2 "absorbed" W^UK, W^UV).
double attention_flops_per_key(const ModelSpec& m, bool latent) {
    const double h = m.n_heads;
    if (m.is_mla() && latent) return 2 * h * (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) + 2 * h * m.mla.kv_lora_rank;
    return 2 * h * m.qk_head_dim() + 2 * h * m.v_head_dim();
}

struct Memory {
    double kv = 0, kv_waste = 0, kv_prompt = 0, activations = 0, logits = 0, framework = 0, prefill_peak = 0,
           decode_peak = 0, peak = 0;
    double state = 0;  // a hybrid's Mamba layers' recurrent state, the batch's (held from the prefill on)
    std::int64_t vllm_blocks_per_sequence = 0;
    std::string act_formula;
};

// Tokens vLLM schedules per step (its max_num_batched_tokens): the prefill chunk, or every prompt
// of the batch when the prefill is not chunked.
std::int64_t batched_tokens(const InferConfig& c) { return c.prefill_chunk > 0 ? c.prefill_chunk : c.batch * c.prompt; }

Memory memory_for(const ModelSpec& m, const InferConfig& c, const Sizes& w, const KvLayout& kv) {
    Memory r;
    const std::int64_t ctx = c.prompt + c.generate;
    const double b = static_cast<double>(c.batch);
    const double needed = b * kv.bytes_at(static_cast<double>(ctx));
    if (c.framework == InferFramework::vllm) {
        const VllmKvPool pool = vllm_kv_pool(kv, c.block_size);
        r.vllm_blocks_per_sequence = vllm_blocks_per_request(pool, c.block_size, ctx, batched_tokens(c));
        r.kv = b * static_cast<double>(r.vllm_blocks_per_sequence) * pool.block_bytes;
        r.kv_waste = r.kv - needed;
    } else {
        r.kv = needed;
    }
    // The prompt's KV when the prefill ends. transformers keeps every layer's whole prompt: a
    // sliding layer's cache is a view of the prompt-long K and V until the first decode step
    // replaces it (DynamicSlidingWindowLayer.update).
    const double all_prompt = b * static_cast<double>(c.prompt);
    r.kv_prompt = c.framework == InferFramework::hf ? all_prompt * kv.bytes_per_token()
                                                     : b * kv.bytes_at(static_cast<double>(c.prompt));
    const double one_layer = b * kv.largest_layer_at(static_cast<double>(ctx));
    r.state = b * recurrent_state(m, c).per_sequence();
    // Prefill working set of one layer (nothing is kept for backward at inference).
    const double ab = c.weights.format == WeightFormat::fp32 ? 4 : 2;
    const double pass = c.prefill_chunk > 0 ? std::min<double>(static_cast<double>(c.prefill_chunk), all_prompt) : all_prompt;
    const double seqs = std::max(1.0, std::ceil(pass / static_cast<double>(c.prompt)));
    const double h = m.d_model, tp = c.tp;
    const double hidden = 3 * pass * h * ab;  // residual stream, normed input, block output
    // q, k, v as the attention kernel reads them, and its output. Standard k, v: the kv heads of
    // this GPU (replicated when fewer than tp). MLA: expanded per head, plus the latents.
    double q = static_cast<double>(m.q_dim()) / tp, out = static_cast<double>(m.attn_out_dim()) / tp, k = 0, v = 0;
    std::string attn_text = "q, k, v, out";
    if (m.is_mla()) {
        k = static_cast<double>(m.k_dim()) / tp;
        v = static_cast<double>(m.v_dim()) / tp;
        q += m.mla.q_lora_rank + m.mla.kv_lora_rank + m.mla.qk_rope_head_dim;
        attn_text = "q, expanded k and v, out, MLA latents";
    } else {
        k = v = static_cast<double>(m.kv_dim()) / std::min(c.tp, m.n_kv_heads);
    }
    double attn = layers_in_set(m, LayerSet::attention, 0, m.n_layers) == 0 ? 0 : pass * (q + k + v + out) * ab;
    if (c.attention == Attention::eager) {
        const double a_local = static_cast<double>(m.n_heads) / c.tp, s = static_cast<double>(c.prompt);
        attn += seqs * a_local * s * s * (ab + 4);
        attn_text += " + scores and fp32 softmax b·a·s²·" + std::to_string(static_cast<int>(ab + 4)) + " B";
    }
    // The MLP's gate/up/product of the widest layer kind: a dense layer's d_ff, or an MoE layer's
    // top_k routed experts plus its shared expert.
    const double mlp_k = mlp_matrices(m.activation);
    double widest = 0;
    if (moe_layer_count(m) < m.n_layers) widest = m.d_ff;
    if (moe_layer_count(m) > 0)
        widest = std::max(widest, static_cast<double>(m.expert_d_ff()) * m.top_k + static_cast<double>(m.shared_d_ff));
    const double mlp = pass * widest / tp * mlp_k * ab;
    // A Mamba layer's working set: in_proj's output [z, x, B, C, dt], the convolution's output and
    // the scan's output (a hybrid model).
    double mamba = m.has_mamba() ? pass * static_cast<double>(m.mamba.in_proj_width() + m.mamba.conv_channels() + m.mamba.d_inner()) /
                                       tp * ab
                                 : 0;
    // A Gated DeltaNet layer's likewise: in_proj's output [q, k, v, z, β, α], the convolution's
    // output and the delta rule's output.
    if (m.has_gdn())
        mamba = std::max(mamba, pass * static_cast<double>(m.gdn.in_proj_width() + m.gdn.conv_channels() + m.gdn.value_dim()) / tp * ab);
    double dequant = 0;
    if (c.weights.format == WeightFormat::int4 || c.weights.format == WeightFormat::int3 ||
        c.weights.format == WeightFormat::nf4 || c.weights.format == WeightFormat::int8)
        dequant = w.largest_matrix * 2;  // one matrix dequantized to fp16 for its matmul
    r.activations = hidden + std::max({attn, mlp, mamba}) + dequant;
    if (c.framework == InferFramework::hf && c.tp == 1) {
        // transformers: replay the forward op by op (pytorch_profile), when the family is modelled.
        TrainConfig tc;
        tc.framework = Framework::pytorch;
        tc.precision = c.weights.format == WeightFormat::fp32 ? Precision::fp32 : Precision::bf16;
        tc.micro_batch = c.batch;
        tc.seq = c.prompt;
        tc.attention = c.attention;
        try {
            const PytorchForward pf = pytorch_forward(m, tc, c.autograd, !c.forward_only);
            r.activations = pf.activations + pf.other + dequant + kPytorchWorkspaceBytes / 2;
            r.logits = pf.logits;
            std::ostringstream ft;
            ft << "PyTorch " << (c.autograd ? "forward recording autograd (no torch.no_grad: every activation kept)"
                                           : "no_grad forward")
              << " of " << c.batch << " × " << c.prompt << " tokens replayed op by op (torch_sim), peak at " << pf.where
              << "; + cuBLAS workspace 32 MiB" << (dequant > 0 ? " + one dequantized matrix" : "");
            r.act_formula = ft.str();
            if (c.forward_only) r.kv = r.kv_prompt;  // use_cache=True keeps the prompt's K and V
            r.framework = c.forward_only ? 0 : one_layer;
            // generate's prefill holds three more [b, prompt, h] tensors than a plain no_grad forward:
            // measured on 4 generate runs (validation/inference), not yet traced to their ops.
            const double generate_extra = c.forward_only ? 0 : kHfGeneratePrefillHidden * all_prompt * h * ab;
            r.framework += generate_extra;
            r.prefill_peak = w.weights + r.kv_prompt + r.state + r.activations + r.logits + generate_extra;
            r.decode_peak = c.forward_only ? 0 : w.weights + r.kv + r.state + r.framework + b * static_cast<double>(m.vocab_size) * (ab + 4);
            r.peak = std::max(r.prefill_peak, r.decode_peak);
            return r;
        } catch (const InputError&) {
            // not a family the pytorch profile models: the analytic working set below
        }
    }
    std::ostringstream af;
    af << num(pass) << " prefill tokens: residual/norm/out 3·t·h·" << ab << " B + max(attention: " << attn_text << " "
       << gib(attn) << ", MLP " << mlp_k << "·t·f·" << ab << " B " << gib(mlp)
       << (mamba > 0 ? std::string(m.has_gdn() ? ", Gated DeltaNet" : ", Mamba") + " in_proj, convolution and scan outputs " + gib(mamba)
                     : std::string())
       << ")"
       << (dequant > 0 ? " + one dequantized matrix " + gib(dequant) : "");
    r.act_formula = af.str();
    // Logits of the last position of every sequence (compute dtype + the sampler's fp32 copy).
    r.logits = b * static_cast<double>(m.vocab_size) / c.tp * (ab + 4);
    // transformers' DynamicCache grows by torch.cat: one layer's cache exists twice for a moment.
    if (c.framework == InferFramework::hf) r.framework = one_layer;
    r.prefill_peak = w.weights + r.kv_prompt + r.state + r.activations + r.logits;
    r.decode_peak = w.weights + r.kv + r.state + r.framework + r.logits + b * h * ab * 8;
    r.peak = std::max(r.prefill_peak, r.decode_peak);
    return r;
}

// "2 × 32 layers × 8 kv heads × 128 × 2 B = … per token × 16 sequences × 1024 tokens", or per
// kind of layer with its window.
std::string kv_formula(const ModelSpec& m, const KvLayout& kv, const InferConfig& c, const Memory& mem,
                       const VllmKvPool& pool) {
    std::ostringstream f;
    const std::int64_t ctx = c.prompt + c.generate;
    const bool uniform = kv.groups.size() == 1 && kv.groups[0].attention == LayerAttention::global;
    if (uniform && !m.is_mla()) {
        f << "2 × " << kv.groups[0].layers << " layers × " << std::ceil(static_cast<double>(m.n_kv_heads) / c.tp) << " kv heads × "
          << m.head_dim << " × " << kv_element_bytes(c.kv) << " B = " << format_bytes(kv.bytes_per_token(), ByteUnit::gib, 6)
          << " per token × " << c.batch << " sequences × " << ctx << " tokens";
    } else {
        f << kv.per_layer_formula << " per token and layer; ";
        for (std::size_t i = 0; i < kv.groups.size(); ++i) {
            const KvGroup& g = kv.groups[i];
            f << (i ? " + " : "") << g.layers << " " << to_string(g.attention) << " layers × ";
            if (g.attention == LayerAttention::global) f << ctx;
            else f << "min(" << ctx << ", " << g.window << ")";
        }
        f << " tokens × " << c.batch << " sequences";
    }
    if (c.framework == InferFramework::vllm) {
        f << " in blocks of " << c.block_size << " tokens × " << pool.group_size << " layers, " << mem.vllm_blocks_per_sequence
          << " per sequence";
        if (pool.kinds.size() > 1 || pool.padding_layers() > 0) {
            f << " (KV cache groups:";
            for (std::size_t i = 0; i < pool.kinds.size(); ++i)
                f << (i ? " + " : " ") << pool.kinds[i].groups << " " << to_string(pool.kinds[i].kind.attention);
            if (pool.padding_layers() > 0) f << ", " << pool.padding_layers() << " padding layers";
            f << ")";
        }
        f << " (waste " << gib(mem.kv_waste) << ")";
    }
    return f.str();
}

}  // namespace

double KvLayout::bytes_per_token() const {
    double b = 0;
    for (const KvGroup& g : groups) b += g.layers * g.bytes_per_token;
    return b;
}

double KvLayout::tokens_held(const KvGroup& g, double n) {
    return g.attention == LayerAttention::global ? n : std::min(n, static_cast<double>(g.window));
}

double KvLayout::bytes_at(double n) const {
    double b = 0;
    for (const KvGroup& g : groups) b += g.layers * g.bytes_per_token * tokens_held(g, n);
    return b;
}

double KvLayout::largest_layer_at(double n) const {
    double b = 0;
    for (const KvGroup& g : groups) b = std::max(b, g.bytes_per_token * tokens_held(g, n));
    return b;
}

KvLayout kv_layout(const ModelSpec& m, const InferConfig& c) {
    KvLayout kv;
    const double e = kv_element_bytes(c.kv);
    std::ostringstream f;
    double per_layer = 0;
    if (m.is_mla() && c.framework != InferFramework::hf) {
        // The latent c_KV and the decoupled RoPE key, shared by every head (DeepSeek-V2 §2.1.2,
        // Table 1): vLLM (MLAAttentionSpec, one "kv head" of kv_lora_rank + qk_rope_head_dim),
        // SGLang (MLATokenToKVPool) and DeepSeek's own inference code ("absorb") store it; every
        // tensor-parallel rank holds all of it (vLLM's get_num_kv_heads: 1 for MLA).
        kv.mla_latent = true;
        per_layer = (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) * e;
        f << "(" << m.mla.kv_lora_rank << " + " << m.mla.qk_rope_head_dim << ") × " << e
          << " B (MLA latent + RoPE key, on every GPU)";
    } else if (m.is_mla()) {
        // transformers' DeepseekV3Attention caches the up-projected keys (qk_nope + qk_rope per head,
        // the RoPE key repeated per head) and values.
        const double heads = static_cast<double>(m.n_heads) / c.tp;
        per_layer = heads * (m.mla.qk_head_dim() + m.mla.v_head_dim) * e;
        f << heads << " heads × (" << m.mla.qk_head_dim() << " + " << m.mla.v_head_dim << ") × " << e
          << " B (MLA expanded K and V)";
    } else {
        // K and V of this GPU's kv heads, replicated when there are fewer kv heads than GPUs
        // (vLLM's get_num_kv_heads: max(1, kv_heads / tp)).
        const double heads = std::ceil(static_cast<double>(m.n_kv_heads) / c.tp);
        per_layer = 2 * heads * m.head_dim * e;
        f << "2 × " << heads << " kv heads × " << m.head_dim << " × " << e << " B";
    }
    kv.per_layer_formula = f.str() + " = " + num(per_layer) + " B";
    for (const LayerGroup& lg : layer_groups(m)) {
        if (!lg.kind.has_attention()) continue;  // a hybrid's Mamba and MLP layers hold no K and V
        auto it = std::find_if(kv.groups.begin(), kv.groups.end(),
                               [&](const KvGroup& g) { return g.attention == lg.kind.attention; });
        if (it == kv.groups.end()) {
            const std::int64_t window = lg.kind.attention == LayerAttention::sliding   ? m.sliding_window
                                        : lg.kind.attention == LayerAttention::chunked ? m.attention_chunk
                                                                                       : 0;
            kv.groups.push_back({lg.kind.attention, lg.count, window, per_layer});
        } else {
            it->layers += lg.count;
        }
    }
    return kv;
}

RecurrentState recurrent_state(const ModelSpec& m, const InferConfig& c) {
    RecurrentState r;
    r.layers = layers_in_set(m, LayerSet::mamba, 0, m.n_layers);
    if (r.layers == 0 && m.has_gdn()) {
        // Gated DeltaNet (Qwen3-Next, Qwen3.5): the convolution's last K − 1 inputs over q, k, v and
        // one dk × dv state per value head, both in the model's dtype (vLLM's gated_delta_net state
        // shapes and dtypes with mamba_ssm_cache_dtype "auto"; transformers' cache likewise).
        const GdnShape& a = m.gdn;
        r.gdn = true;
        r.layers = layers_in_set(m, LayerSet::gdn, 0, m.n_layers);
        const double e = c.weights.format == WeightFormat::fp32 ? 4 : 2, tp = c.tp;
        r.conv_bytes = (a.conv_kernel - 1.0) * static_cast<double>(a.conv_channels()) / tp * e;
        r.ssm_bytes = static_cast<double>(a.v_heads) * a.k_head_dim * a.v_head_dim / tp * e;
        std::ostringstream f;
        f << r.layers << " Gated DeltaNet layers × (conv " << (a.conv_kernel - 1) << " × " << a.conv_channels()
          << (c.tp > 1 ? " ÷ tp" : "") << " × " << e << " B + state " << a.v_heads << " × " << a.k_head_dim << " × "
          << a.v_head_dim << (c.tp > 1 ? " ÷ tp" : "") << " × " << e << " B) = " << format_bytes(r.per_sequence(), ByteUnit::gib, 4)
          << " per sequence, whatever its length";
        r.formula = f.str();
        return r;
    }
    if (r.layers == 0) return r;
    const MambaShape& a = m.mamba;
    const double model_bytes = c.weights.format == WeightFormat::fp32 ? 4 : 2;
    const double ssm_elem = c.framework == InferFramework::vllm ? 4 : model_bytes;
    const double tp = c.tp;
    r.conv_bytes = (a.conv_kernel - 1.0) * static_cast<double>(a.conv_channels()) / tp * model_bytes;
    r.ssm_bytes = static_cast<double>(a.heads) * a.head_dim * a.state / tp * ssm_elem;
    std::ostringstream f;
    f << r.layers << " Mamba layers × (conv " << (a.conv_kernel - 1) << " × " << a.conv_channels() << (c.tp > 1 ? " ÷ tp" : "")
      << " × " << model_bytes << " B + SSM " << a.heads << " × " << a.head_dim << " × " << a.state << (c.tp > 1 ? " ÷ tp" : "")
      << " × " << ssm_elem << " B" << (c.framework == InferFramework::vllm ? " (fp32: vLLM's Nemotron-H default)" : "") << ") = "
      << format_bytes(r.per_sequence(), ByteUnit::gib, 4) << " per sequence, whatever its length";
    r.formula = f.str();
    return r;
}

int VllmKvPool::padding_layers() const {
    int n = 0;
    for (const VllmKvGroups& k : kinds) n += k.groups * group_size - k.kind.layers;
    return n;
}

VllmKvPool vllm_kv_pool(const KvLayout& kv, int block_size) {
    // _get_kv_cache_groups_uniform_page_size: the group size is the smallest kind's layer count,
    // or the largest when it is under 1.5 × the smallest (fewer padding layers).
    VllmKvPool pool;
    int fewest = 0, most = 0;
    for (const KvGroup& g : kv.groups) {
        fewest = fewest == 0 ? g.layers : std::min(fewest, g.layers);
        most = std::max(most, g.layers);
    }
    pool.group_size = most < 1.5 * fewest ? most : fewest;
    for (const KvGroup& g : kv.groups) pool.kinds.push_back({g, (g.layers + pool.group_size - 1) / pool.group_size});
    // Every layer's KV is alike in size (one page size for the pool): block_size tokens of one layer, × group_size.
    pool.block_bytes = static_cast<double>(block_size) * pool.group_size * (kv.groups.empty() ? 0 : kv.groups[0].bytes_per_token);
    return pool;
}

std::int64_t vllm_blocks_per_request(const VllmKvPool& pool, int block_size, std::int64_t context, std::int64_t batched) {
    const auto cdiv = [&](std::int64_t t) { return (t + block_size - 1) / block_size; };
    std::int64_t blocks = 0;
    for (const VllmKvGroups& k : pool.kinds) {
        std::int64_t per_group = 0;
        switch (k.kind.attention) {
            case LayerAttention::global: per_group = cdiv(context); break;  // FullAttentionSpec
            // SlidingWindowSpec: the last window − 1 computed tokens plus those scheduled in a step;
            // + 1 as the window need not start at a block boundary.
            case LayerAttention::sliding: per_group = cdiv(std::min(k.kind.window - 1 + batched, context)) + 1; break;
            // ChunkedLocalAttentionSpec: at most a chunk of computed tokens plus those scheduled.
            case LayerAttention::chunked: per_group = cdiv(std::min(k.kind.window + batched, context)); break;
        }
        blocks += per_group * k.groups;
    }
    return blocks;
}

double expected_experts_touched(int experts, int top_k, double tokens) {
    const double e = experts;
    return e * (1 - std::pow(1 - top_k / e, tokens));
}

std::string prefill_time_text(const InferPlan& p) {
    std::string out = format_sci(p.prefill_flops, 3) + " prefill FLOPs per GPU at the GEMM efficiency of the time model";
    if (p.prefill_scan_seconds > 0) {
        const double s = p.prefill_scan_seconds;
        out += ", the recurrent scans' " + (s < 1 ? format_fixed(s * 1e3, 2) + " ms" : format_fixed(s, 2) + " s") +
               " of it at their own measured rates (docs/INFERENCE.md)";
    }
    return out;
}

InferPlan plan_inference(const ModelSpec& m, const GpuSpec& gpu, const InferConfig& c) {
    validate_model(m, "model " + m.name);
    if (c.batch < 1) throw InputError("--batch: must be a positive integer");
    if (c.prompt < 1) throw InputError("--prompt: must be a positive integer");
    if (c.generate < 0) throw InputError("--generate: must not be negative");
    if (c.tp < 1) throw InputError("--tp: must be a positive integer");
    if (m.n_heads % c.tp) throw InputError("--tp " + std::to_string(c.tp) + " does not divide the " + std::to_string(m.n_heads) + " attention heads");
    if (m.has_mamba() && (m.mamba.heads % c.tp || m.mamba.groups % c.tp))
        throw InputError("--tp " + std::to_string(c.tp) + " does not divide the " + std::to_string(m.mamba.heads) + " Mamba heads and " +
                         std::to_string(m.mamba.groups) + " groups (a hybrid's Mamba layers split both over the GPUs)");
    if (m.has_gdn() && (m.gdn.k_heads % c.tp || m.gdn.v_heads % c.tp))
        throw InputError("--tp " + std::to_string(c.tp) + " does not divide the " + std::to_string(m.gdn.k_heads) +
                         " Gated DeltaNet key heads and " + std::to_string(m.gdn.v_heads) + " value heads (both split over the GPUs)");
    if (c.weights.group_size < 1) throw InputError("--group-size: must be a positive integer");
    if (c.kv != WeightFormat::fp32 && c.kv != WeightFormat::fp16 && c.kv != WeightFormat::bf16 && c.kv != WeightFormat::fp8 &&
        c.kv != WeightFormat::int8)
        throw InputError(std::string("--kv-cache ") + to_string(c.kv) + ": the KV cache is fp32, fp16, bf16, fp8 or int8");
    if (c.framework == InferFramework::vllm && !(c.gpu_memory_utilization > 0 && c.gpu_memory_utilization <= 1))
        throw InputError("--gpu-memory-utilization: must be in (0, 1]");
    if (c.block_size < 1) throw InputError("--block-size: must be a positive integer");
    if ((c.forward_only || c.autograd) && c.framework != InferFramework::hf)
        throw InputError("--forward-only and --autograd describe a transformers forward: use them with --framework hf");
    if (m.max_positions > 0 && m.position == PositionEmbedding::learned && c.prompt + c.generate > m.max_positions)
        throw InputError("--prompt + --generate = " + std::to_string(c.prompt + c.generate) + " exceeds the " +
                         std::to_string(m.max_positions) + " learned positions of " + m.name);

    InferPlan p;
    p.model = m;
    p.gpu = gpu;
    p.config = c;
    p.capacity = gpu.memory_bytes;
    p.overhead = kGenericCudaContextBytes;
    const Sizes w = weight_sizes(m, c);
    p.weights = w.weights;
    p.kv = kv_layout(m, c);
    p.state = recurrent_state(m, c);
    p.kv_bytes_per_token = p.kv.bytes_per_token();

    auto fits_with = [&](const InferConfig& cc) {
        const Memory mm = memory_for(m, cc, w, p.kv);
        if (cc.framework == InferFramework::vllm) {
            const double budget = cc.gpu_memory_utilization * p.capacity;
            return w.weights + mm.activations + mm.logits + kVllmGraphBytes + mm.kv + mm.state <= budget &&
                   budget + p.overhead <= p.capacity * 1.0 + 1e-9;
        }
        return mm.peak + p.overhead <= p.capacity;
    };

    const Memory mem = memory_for(m, c, w, p.kv);
    p.kv_cache = mem.kv;
    p.kv_prefill = mem.kv_prompt;
    p.kv_waste = mem.kv_waste;
    p.activations = mem.activations;
    p.logits = mem.logits;
    p.framework_extra = mem.framework;
    p.peak = mem.peak;
    p.recurrent_state = mem.state;
    if (c.framework == InferFramework::vllm) {
        const double budget = c.gpu_memory_utilization * p.capacity;
        p.framework_extra = kVllmGraphBytes;
        p.peak = w.weights + mem.activations + mem.logits + kVllmGraphBytes + mem.kv + mem.state;
        p.device_total = budget + p.overhead;
        const double free_for_kv = budget - (w.weights + mem.activations + mem.logits + kVllmGraphBytes);
        // get_num_blocks: the memory left ÷ (page size × layers per group); every group draws from this pool.
        p.vllm_pool = vllm_kv_pool(p.kv, c.block_size);
        p.vllm_kv_blocks = free_for_kv > 0 && p.vllm_pool.block_bytes > 0 ? static_cast<std::int64_t>(free_for_kv / p.vllm_pool.block_bytes) : 0;
        p.vllm_blocks_per_sequence = mem.vllm_blocks_per_sequence;
        p.vllm_max_sequences = p.vllm_blocks_per_sequence > 0 ? p.vllm_kv_blocks / p.vllm_blocks_per_sequence : 0;
        // A hybrid: each sequence also holds its Mamba state (vLLM allocates it from the same pool,
        // its page padded to the attention page: the padding is not modelled).
        if (p.state.layers > 0) {
            const double per_seq = static_cast<double>(p.vllm_blocks_per_sequence) * p.vllm_pool.block_bytes + p.state.per_sequence();
            p.vllm_max_sequences = free_for_kv > 0 && per_seq > 0 ? static_cast<std::int64_t>(free_for_kv / per_seq) : 0;
        }
    } else {
        p.device_total = p.peak + p.overhead;
    }
    p.fits = fits_with(c);
    p.headroom = c.framework == InferFramework::vllm
                     ? c.gpu_memory_utilization * p.capacity - p.peak
                     : p.capacity - p.device_total;

    // Largest batch and longest context that fit (doubling, then bisection).
    auto largest = [&](auto with) -> std::int64_t {
        if (!with(1)) return 0;
        std::int64_t lo = 1, hi = 2;
        constexpr std::int64_t kLimit = std::int64_t{1} << 24;
        while (hi <= kLimit && with(hi)) { lo = hi; hi *= 2; }
        if (hi > kLimit) return kLimit;
        while (hi - lo > 1) {
            const std::int64_t mid = lo + (hi - lo) / 2;
            (with(mid) ? lo : hi) = mid;
        }
        return lo;
    };
    p.max_batch = largest([&](std::int64_t b) {
        InferConfig cc = c;
        cc.batch = b;
        return fits_with(cc);
    });
    p.max_context = largest([&](std::int64_t ctx) {
        if (ctx <= c.generate) return true;
        if (m.position == PositionEmbedding::learned && m.max_positions > 0 && ctx > m.max_positions) return false;
        InferConfig cc = c;
        cc.prompt = ctx - c.generate;
        return fits_with(cc);
    });
    if (m.position == PositionEmbedding::learned && m.max_positions > 0) p.max_context = std::min<std::int64_t>(p.max_context, m.max_positions);
    {  // not even a one-token prompt fits (e.g. the weights alone exceed the card): no context at all
        InferConfig one = c;
        one.prompt = 1;
        if (p.max_context <= c.generate && !fits_with(one)) p.max_context = 0;
    }

    // --- time ------------------------------------------------------------------------------------
    // The matmuls: fp32 and fp8 in their own format, fp16 weights in fp16, every other format in bf16.
    const Precision compute = c.weights.format == WeightFormat::fp32   ? Precision::fp32
                              : c.weights.format == WeightFormat::fp8  ? Precision::fp8
                              : c.weights.format == WeightFormat::fp16 ? Precision::mixed_fp16
                                                                       : Precision::mixed_bf16;
    if (std::string note = precision_fallback_warning(gpu, compute, "--weights", to_string(c.weights.format)); !note.empty())
        p.warnings.push_back(std::move(note));
    const double peak_flops = precision_peak_flops(gpu, compute, "--weights");
    const double b = static_cast<double>(c.batch), prompt = static_cast<double>(c.prompt), tp = c.tp;
    // Matmul FLOPs: 2 per active parameter and token (weight_sizes), the logits 2·d·V of the last
    // position only; attention per layer kind over the keys each position meets. Prefill runs MLA
    // expanded per head (vLLM's and SGLang's compute-friendly path), decode against the latent.
    const double logits_flops = 2.0 * m.d_model * static_cast<double>(m.vocab_size) / tp;
    double prefill_attention = 0, decode_attention = 0;
    const double mean_ctx = prompt + static_cast<double>(c.generate) / 2;
    for (const KvGroup& g : p.kv.groups) {
        prefill_attention += g.layers * mean_keys_per_query(m, g.attention, c.prompt) * attention_flops_per_key(m, false) / tp;
        decode_attention += g.layers * KvLayout::tokens_held(g, mean_ctx) * attention_flops_per_key(m, p.kv.mla_latent) / tp;
    }
    // A hybrid's Mamba layers: the SSD scan over the prompt (flops.h ForwardFlops::ssm, per token);
    // a Gated DeltaNet layer's delta rule likewise. They run at their own measured rates
    // (planner/perf.h kSsdScanEfficiency, delta_rule_forward_seconds), not the GEMMs'.
    double prefill_ssm = 0, prefill_delta = 0, gdn_layers = 0;
    for (const LayerGroup& lg : layer_groups(m))
        if (lg.kind.has_mamba() || lg.kind.has_gdn()) {
            const ForwardFlops f = layer_forward_flops(m, lg.kind, c.prompt);
            prefill_ssm += lg.count * f.ssm / tp;
            prefill_delta += lg.count * f.delta_rule / tp;
            if (lg.kind.has_gdn()) gdn_layers += lg.count;
        }
    p.prefill_flops = b * prompt * (w.matmul_flops + prefill_attention + prefill_ssm + prefill_delta) + b * logits_flops;
    const double n_pre = std::min<double>(m.d_model, b * prompt);
    const double eff_pre = gemm_efficiency_for(gpu) * n_pre / (n_pre + 128);
    const double peak16 = gpu.peak_bf16 > 0 ? gpu.peak_bf16 : peak_flops;
    p.prefill_scan_seconds = b * prompt * prefill_ssm / (recurrent_scan_peak(peak16) * kSsdScanEfficiency);
    if (prefill_delta > 0)  // one call per GDN layer, each walking a prompt's chunks in order
        p.prefill_scan_seconds +=
            delta_rule_forward_seconds(b * prompt * prefill_delta, gdn_layers, prompt, m.gdn.chunk, peak16, 1);
    p.prefill_seconds = (p.prefill_flops - b * prompt * (prefill_ssm + prefill_delta)) / (peak_flops * eff_pre) + p.prefill_scan_seconds;
    // A decode step reads every weight but the routed experts no token of the batch picks, and
    // every sequence's KV at the mean context.
    p.decode_weight_bytes = p.weights;
    if (m.is_moe()) {
        p.experts_touched = expected_experts_touched(m.n_experts, m.top_k, b);
        p.decode_weight_bytes -= w.routed_expert_bytes * (1 - p.experts_touched / m.n_experts);
    }
    // … and every sequence's Mamba state, read and written once (a hybrid).
    p.decode_bytes_per_step = p.decode_weight_bytes + b * p.kv.bytes_at(mean_ctx) + 2 * b * p.state.per_sequence();
    const double t_mem = p.decode_bytes_per_step / (gpu.memory_bandwidth * kDecodeBandwidthEfficiency);
    const double decode_flops = b * (w.matmul_flops + decode_attention + logits_flops);
    const double eff_dec = gemm_efficiency_for(gpu) * b / (b + 128);
    const double t_comp = decode_flops / (peak_flops * eff_dec);
    p.decode_compute_bound = t_comp > t_mem;
    double t_step = std::max(t_mem, t_comp);
    if (c.tp > 1) {
        const ClusterSpec cl = default_cluster(gpu, gpu.default_gpus_per_node);
        const LinkModel link{LinkKind::nvlink, nvlink_group_busbw(cl, c.tp)};
        // One all-reduce per tensor-parallel block: a transformer layer's two, a hybrid layer's one.
        double blocks = 0;
        for (const LayerGroup& lg : layer_groups(m)) blocks += lg.count * ((lg.kind.mixer != Mixer::none ? 1 : 0) + (lg.kind.ffn ? 1 : 0));
        t_step += blocks * collective_time(Collective::all_reduce, b * m.d_model * 2, c.tp, link).seconds;
    }
    t_step += m.n_layers * (c.framework == InferFramework::hf ? kHfDecodeOverheadPerLayer : kGraphDecodeOverheadPerLayer);
    p.decode_step_seconds = t_step;
    p.tokens_per_second_per_sequence = 1 / t_step;
    p.tokens_per_second_per_gpu = b / t_step / c.tp;
    p.total_seconds = p.prefill_seconds + static_cast<double>(c.generate) * t_step;

    // --- the explanation -------------------------------------------------------------------------
    std::string src_kv = m.is_mla() ? (p.kv.mla_latent ? "MLA's compressed latent and RoPE key per layer (DeepSeek-V2 §2.1.2, Table 1), as vLLM and SGLang store it"
                                                        : "MLA expanded to per-head K and V, as transformers' DeepseekV3Attention caches it")
                                    : "K and V per layer (Pope et al. 2022, 'Efficiently Scaling Transformer Inference')";
    if (p.kv.groups.size() > 1 || (!p.kv.groups.empty() && p.kv.groups[0].attention != LayerAttention::global))
        src_kv += "; sliding/chunked layers keep at most their window (docs/INFERENCE.md)";
    if (c.framework == InferFramework::vllm)
        src_kv += "; vLLM paged attention (Kwon et al. 2023), hybrid KV cache manager's groups and max_memory_usage_bytes";
    p.terms.push_back({"weights", "weights", p.weights, w.weights_formula, "quant.h: LLM.int8, GPTQ, AWQ, QLoRA NF4"});
    p.terms.push_back({"kv_cache", "KV cache", p.kv_cache, kv_formula(m, p.kv, c, mem, p.vllm_pool), src_kv});
    if (p.state.layers > 0)
        p.terms.push_back({"recurrent_state", p.state.gdn ? "Gated DeltaNet state" : "Mamba state", p.recurrent_state,
                           std::to_string(c.batch) + " sequences × " + p.state.formula,
                           p.state.gdn ? "Gated DeltaNet's convolution and delta-rule states per sequence (vLLM "
                                         "MambaStateShapeCalculator.gated_delta_net_state_shape; docs/INFERENCE.md)"
                                       : "Mamba-2's convolution and SSM states per sequence (vLLM MambaStateShapeCalculator; docs/INFERENCE.md)"});
    p.terms.push_back({"activations", c.autograd ? "activations kept by autograd" : "prefill activations (one layer)",
                       p.activations, mem.act_formula,
                       c.autograd ? std::string("PyTorch keeps what backward would need when the forward records autograd")
                                  : std::string("inference keeps no activations for backward: one layer's working set")});
    if (c.forward_only)
        p.terms.push_back({"logits", "logits (every position)", p.logits,
                           std::to_string(c.batch) + " × " + std::to_string(c.prompt) + " positions × vocab " +
                               std::to_string(m.vocab_size) + " in the model dtype (returned by model(input_ids))",
                           "transformers CausalLM forward without logits_to_keep"});
    else
        p.terms.push_back({"logits", "logits (last position)", p.logits,
                           std::to_string(c.batch) + " × vocab " + std::to_string(m.vocab_size) + " × (2 + 4 B for the sampler's fp32 copy)",
                           "generate computes the last position's logits only"});
    if (c.framework == InferFramework::hf && !c.forward_only)
        p.terms.push_back({"framework", "generate: cache growth and prefill extras", p.framework_extra,
                           "one layer's KV cache held twice while torch.cat grows it + 3 × b·prompt·h in the model dtype during prefill (measured)",
                           "transformers DynamicCache.update (torch.cat); validation/inference/infer_h100.json"});
    if (c.framework == InferFramework::vllm)
        p.terms.push_back({"framework", "vLLM CUDA graphs and sampler", p.framework_extra, "about 0.5 GiB (assumed)",
                           "vLLM reserves gpu_memory_utilization of the card; KV blocks take the rest"});
    p.terms.push_back({"overhead", "CUDA context", p.overhead, gib(p.overhead) + " per GPU (measured)", "docs/MEMORY_MODEL.md §6"});
    return p;
}

InferConfig infer_config_from_text(const InferText& t) {
    InferConfig c;
    c.weights.format = parse_weight_format(t.weights, "--weights");
    c.weights.group_size = static_cast<int>(parse_int(t.group_size, "--group-size", 1, 1 << 20));
    c.weights.double_quant = t.double_quant;
    c.kv = t.kv.empty() ? (c.weights.format == WeightFormat::fp32 ? WeightFormat::fp32 : WeightFormat::bf16)
                        : parse_weight_format(t.kv, "--kv-cache");
    c.batch = parse_int(t.batch, "--batch", 1, std::int64_t{1} << 24);
    c.prompt = parse_int(t.prompt, "--prompt", 1, std::int64_t{1} << 24);
    c.generate = parse_int(t.generate, "--generate", 0, std::int64_t{1} << 24);
    if (!t.prefill_chunk.empty()) c.prefill_chunk = parse_int(t.prefill_chunk, "--prefill-chunk", 1, std::int64_t{1} << 30);
    c.tp = static_cast<int>(parse_int(t.tp, "--tp", 1, 1024));
    c.attention = parse_attention(t.attention, "--attention");
    c.framework = parse_infer_framework(t.framework, "--framework");
    c.gpu_memory_utilization = parse_real(t.utilization, "--gpu-memory-utilization", 0.01, 1);
    c.block_size = static_cast<int>(parse_int(t.block_size, "--block-size", 1, 1 << 16));
    return c;
}

}  // namespace llmplan
