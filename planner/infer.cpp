// infer.cpp — serving memory and speed; the model is described in infer.h and docs/INFERENCE.md.
#include "planner/infer.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/comm.h"
#include "planner/flops.h"
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

struct Sizes {
    double weights = 0, largest_matrix = 0;  // bytes per GPU; largest quantized matrix (elements)
    double matmul_params = 0;                // layer matmul parameters per GPU (for FLOPs)
    std::string weights_formula;
};

Sizes weight_sizes(const ModelSpec& m, const InferConfig& c) {
    Sizes s;
    const double other = unquantized_bytes(c.weights.format);
    double quantized = 0, plain = 0, qbytes = 0;
    for (const ParamTensor& t : param_tensors(m)) {
        const bool split = t.tp != TpSplit::replicated;
        const double elems = static_cast<double>(t.total_elements()) / (split ? c.tp : 1);
        if (t.matmul_weight && t.block == Block::layer) {
            quantized += elems;
            qbytes += elems * weight_bytes_per_element(c.weights, static_cast<double>(t.cols));
            s.largest_matrix = std::max(s.largest_matrix, static_cast<double>(t.elements()) / (split ? c.tp : 1));
            s.matmul_params += elems / (t.expert ? m.n_experts / std::max(1, m.top_k) : 1);
        } else {
            plain += elems;
        }
    }
    s.weights = qbytes + plain * other;
    std::ostringstream f;
    f << num(quantized) << " layer matmul weights × " << weight_format_formula(c.weights, static_cast<double>(m.d_model))
      << " + " << num(plain) << " embedding/norm/head parameters × " << other << " B" << (c.tp > 1 ? " (÷ tp where split)" : "");
    s.weights_formula = f.str();
    return s;
}

struct Memory {
    double kv = 0, kv_waste = 0, activations = 0, logits = 0, framework = 0, prefill_peak = 0, decode_peak = 0, peak = 0;
    std::string act_formula;
};

Memory memory_for(const ModelSpec& m, const InferConfig& c, const Sizes& w, double kv_per_token) {
    Memory r;
    const double ctx = static_cast<double>(c.prompt + c.generate), b = static_cast<double>(c.batch);
    const double tokens_needed = b * ctx;
    if (c.framework == InferFramework::vllm) {
        const double blocks = std::ceil(ctx / c.block_size);
        r.kv = b * blocks * c.block_size * kv_per_token;
        r.kv_waste = r.kv - tokens_needed * kv_per_token;
    } else {
        r.kv = tokens_needed * kv_per_token;
    }
    // Prefill working set of one layer (nothing is kept for backward at inference).
    const double ab = c.weights.format == WeightFormat::fp32 ? 4 : 2;
    const double all_prompt = b * static_cast<double>(c.prompt);
    const double pass = c.prefill_chunk > 0 ? std::min<double>(static_cast<double>(c.prefill_chunk), all_prompt) : all_prompt;
    const double seqs = std::max(1.0, std::ceil(pass / static_cast<double>(c.prompt)));
    const double h = m.d_model, q = static_cast<double>(m.q_dim()) / c.tp,
                 kv = static_cast<double>(m.kv_dim()) / std::min(c.tp, m.n_kv_heads) * 1.0, f = static_cast<double>(m.d_ff) / c.tp;
    const double hidden = 3 * pass * h * ab;  // residual stream, normed input, block output
    double attn = pass * (2 * q + 2 * kv) * ab;
    std::string attn_text = "q, k, v, out";
    if (c.attention == Attention::eager) {
        const double a_local = static_cast<double>(m.n_heads) / c.tp, s = static_cast<double>(c.prompt);
        attn += seqs * a_local * s * s * (ab + 4);
        attn_text += " + scores and fp32 softmax b·a·s²·" + std::to_string(static_cast<int>(ab + 4)) + " B";
    }
    const double mlp_k = m.activation == Activation::swiglu ? 3 : 2;
    const double mlp = pass * f * mlp_k * ab * (m.is_moe() ? m.top_k : 1);
    double dequant = 0;
    if (c.weights.format == WeightFormat::int4 || c.weights.format == WeightFormat::int3 ||
        c.weights.format == WeightFormat::nf4 || c.weights.format == WeightFormat::int8)
        dequant = w.largest_matrix * 2;  // one matrix dequantized to fp16 for its matmul
    r.activations = hidden + std::max(attn, mlp) + dequant;
    const double kv_prompt = all_prompt * kv_per_token;
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
            const double cache = c.forward_only ? kv_prompt : kv_prompt;  // use_cache=True keeps the prompt's K and V
            r.kv = c.forward_only ? kv_prompt : r.kv;
            r.framework = c.forward_only ? 0 : r.kv / m.n_layers;
            // generate's prefill holds three more [b, prompt, h] tensors than a plain no_grad forward:
            // measured on 4 generate runs (validation/inference), not yet traced to their ops.
            const double generate_extra = c.forward_only ? 0 : kHfGeneratePrefillHidden * all_prompt * h * ab;
            r.framework += generate_extra;
            r.prefill_peak = w.weights + cache + r.activations + r.logits + generate_extra;
            r.decode_peak = c.forward_only ? 0 : w.weights + r.kv + r.framework + b * static_cast<double>(m.vocab_size) * (ab + 4);
            r.peak = std::max(r.prefill_peak, r.decode_peak);
            return r;
        } catch (const InputError&) {
            // not a family the pytorch profile models: the analytic working set below
        }
    }
    std::ostringstream af;
    af << num(pass) << " prefill tokens: residual/norm/out 3·t·h·" << ab << " B + max(attention: " << attn_text << " "
       << gib(attn) << ", MLP " << mlp_k << "·t·f·" << ab << " B " << gib(mlp) << ")"
       << (dequant > 0 ? " + one dequantized matrix " + gib(dequant) : "");
    r.act_formula = af.str();
    // Logits of the last position of every sequence (compute dtype + the sampler's fp32 copy).
    r.logits = b * static_cast<double>(m.vocab_size) / c.tp * (ab + 4);
    // transformers' DynamicCache grows by torch.cat: one layer's cache exists twice for a moment.
    if (c.framework == InferFramework::hf) r.framework = r.kv / m.n_layers;
    r.prefill_peak = w.weights + kv_prompt + r.activations + r.logits;
    r.decode_peak = w.weights + r.kv + r.framework + r.logits + b * h * ab * 8;
    r.peak = std::max(r.prefill_peak, r.decode_peak);
    return r;
}

}  // namespace

InferPlan plan_inference(const ModelSpec& m, const GpuSpec& gpu, const InferConfig& c) {
    validate_model(m, "model " + m.name);
    if (c.batch < 1) throw InputError("--batch: must be a positive integer");
    if (c.prompt < 1) throw InputError("--prompt: must be a positive integer");
    if (c.generate < 0) throw InputError("--generate: must not be negative");
    if (c.tp < 1) throw InputError("--tp: must be a positive integer");
    if (m.n_heads % c.tp) throw InputError("--tp " + std::to_string(c.tp) + " does not divide the " + std::to_string(m.n_heads) + " attention heads");
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
    const double kv_heads_local = std::ceil(static_cast<double>(m.n_kv_heads) / c.tp);
    const double kvb = c.kv == WeightFormat::fp32 ? 4 : (c.kv == WeightFormat::fp8 || c.kv == WeightFormat::int8) ? 1 : 2;
    p.kv_bytes_per_token = 2.0 * m.n_layers * kv_heads_local * m.head_dim * kvb;  // K and V (Pope et al. 2022)

    auto fits_with = [&](const InferConfig& cc) {
        const Memory mm = memory_for(m, cc, w, p.kv_bytes_per_token);
        if (cc.framework == InferFramework::vllm) {
            const double budget = cc.gpu_memory_utilization * p.capacity;
            return w.weights + mm.activations + mm.logits + kVllmGraphBytes + mm.kv <= budget &&
                   budget + p.overhead <= p.capacity * 1.0 + 1e-9;
        }
        return mm.peak + p.overhead <= p.capacity;
    };

    const Memory mem = memory_for(m, c, w, p.kv_bytes_per_token);
    p.kv_cache = mem.kv;
    p.kv_waste = mem.kv_waste;
    p.activations = mem.activations;
    p.logits = mem.logits;
    p.framework_extra = mem.framework;
    p.peak = mem.peak;
    if (c.framework == InferFramework::vllm) {
        const double budget = c.gpu_memory_utilization * p.capacity;
        p.framework_extra = kVllmGraphBytes;
        p.peak = w.weights + mem.activations + mem.logits + kVllmGraphBytes + mem.kv;
        p.device_total = budget + p.overhead;
        const double free_for_kv = budget - (w.weights + mem.activations + mem.logits + kVllmGraphBytes);
        p.vllm_kv_blocks = free_for_kv > 0 ? static_cast<std::int64_t>(free_for_kv / (c.block_size * p.kv_bytes_per_token)) : 0;
        const std::int64_t per_seq = static_cast<std::int64_t>(std::ceil(static_cast<double>(c.prompt + c.generate) / c.block_size));
        p.vllm_max_sequences = per_seq > 0 ? p.vllm_kv_blocks / per_seq : 0;
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

    // --- time ------------------------------------------------------------------------------------
    const Precision compute = c.weights.format == WeightFormat::fp32 ? Precision::fp32
                              : c.weights.format == WeightFormat::fp8 ? Precision::fp8
                                                                       : Precision::mixed_bf16;
    const double peak_flops = peak_for(gpu, compute);
    const ForwardFlops ff = forward_flops_per_token(m, c.prompt);
    const double b = static_cast<double>(c.batch), prompt = static_cast<double>(c.prompt);
    p.prefill_flops = b * prompt * (ff.total() - ff.logits) / c.tp + b * ff.logits / c.tp;
    const double n_pre = std::min<double>(m.d_model, b * prompt);
    const double eff_pre = gemm_efficiency_for(gpu) * n_pre / (n_pre + 128);
    p.prefill_seconds = p.prefill_flops / (peak_flops * eff_pre);
    const double mean_ctx = prompt + static_cast<double>(c.generate) / 2;
    p.decode_bytes_per_step = p.weights + b * mean_ctx * p.kv_bytes_per_token;
    const double t_mem = p.decode_bytes_per_step / (gpu.memory_bandwidth * kDecodeBandwidthEfficiency);
    const ForwardFlops fd = forward_flops_per_token(m, static_cast<std::int64_t>(mean_ctx) * 2);  // attention over mean_ctx keys
    const double decode_flops = b * fd.total() / c.tp;
    const double eff_dec = gemm_efficiency_for(gpu) * b / (b + 128);
    const double t_comp = decode_flops / (peak_flops * eff_dec);
    p.decode_compute_bound = t_comp > t_mem;
    double t_step = std::max(t_mem, t_comp);
    if (c.tp > 1) {
        const ClusterSpec cl = default_cluster(gpu, gpu.default_gpus_per_node);
        const LinkModel link{LinkKind::nvlink, nvlink_group_busbw(cl, c.tp)};
        t_step += 2.0 * m.n_layers * collective_time(Collective::all_reduce, b * m.d_model * 2, c.tp, link).seconds;
    }
    t_step += m.n_layers * (c.framework == InferFramework::hf ? kHfDecodeOverheadPerLayer : kGraphDecodeOverheadPerLayer);
    p.decode_step_seconds = t_step;
    p.tokens_per_second_per_sequence = 1 / t_step;
    p.tokens_per_second_per_gpu = b / t_step / c.tp;
    p.total_seconds = p.prefill_seconds + static_cast<double>(c.generate) * t_step;

    // --- the explanation -------------------------------------------------------------------------
    const std::string src_kv = "K and V per layer (Pope et al. 2022, 'Efficiently Scaling Transformer Inference')";
    p.terms.push_back({"weights", "weights", p.weights, w.weights_formula, "quant.h: LLM.int8, GPTQ, AWQ, QLoRA NF4"});
    {
        std::ostringstream f;
        f << "2 × " << m.n_layers << " layers × " << kv_heads_local << " kv heads × " << m.head_dim << " × "
          << kvb << " B = " << format_bytes(p.kv_bytes_per_token, ByteUnit::gib, 6) << " per token × " << c.batch
          << " sequences × " << (c.prompt + c.generate) << " tokens";
        if (c.framework == InferFramework::vllm)
            f << " in blocks of " << c.block_size << " (waste " << gib(p.kv_waste) << ")";
        p.terms.push_back({"kv_cache", "KV cache", p.kv_cache, f.str(), src_kv + (c.framework == InferFramework::vllm ? "; vLLM paged attention (Kwon et al. 2023)" : "")});
    }
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
