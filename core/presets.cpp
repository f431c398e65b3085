// presets.cpp — the preset table: every shape copied from its Hugging Face config.json or paper
// table (cited beside it), with the exact published parameter count where one exists.
//
// Counts cited as "docs/REFERENCES.md §6" are the published figures there; those marked "HF checkpoint"
// (gpt2-large, gpt2-xl, Llama-3.1-405B) are the parameter counts of the released Hugging Face
// checkpoints as given in the project brief. tests/test_presets.cpp checks all of them.
#include "core/presets.h"

#include "core/error.h"
#include "core/hf_config.h"
#include "core/model_configs.h"
#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace llmplan {

namespace {

// GPT-2 layout (HF GPT2Config / modeling_gpt2.py): LayerNorm, GELU MLP of 4·d (n_inner = null),
// learned positions, biases on every projection, lm_head tied to wte. vocab 50257, n_positions 1024
// in all four released sizes.
ModelSpec gpt2_like(const char* name, int layers, int d, int heads) {
    ModelSpec m;
    m.name = name;
    m.family = "gpt2";
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = m.n_kv_heads = heads;
    m.head_dim = d / heads;
    m.d_ff = 4 * d;
    m.activation = Activation::gelu;
    m.norm = Norm::layernorm;
    m.vocab_size = 50257;
    m.max_positions = 1024;
    m.position = PositionEmbedding::learned;
    m.qkv_bias = m.out_bias = m.mlp_bias = true;
    m.tied_embeddings = true;
    m.gelu_tanh_op_by_op = true;  // GPT2Config's activation_function "gelu_new"
    return m;
}

std::vector<Preset> build_presets() {
    std::vector<Preset> p;

    // ---- GPT-2 (Radford et al. 2019, Table 2; shapes from the HF config.json of each size) ----
    // HF "gpt2": n_layer 12, n_embd 768, n_head 12. 124,439,808: docs/REFERENCES.md §6.
    p.push_back({"gpt2-124m", "GPT-2 small (OpenAI 2019)", gpt2_like("gpt2-124m", 12, 768, 12), 124'439'808,
                 "Hugging Face gpt2 config.json (n_layer 12, n_embd 768, n_head 12); count: docs/REFERENCES.md §6"});
    // HF "gpt2-medium": n_layer 24, n_embd 1024, n_head 16. 354,823,168: docs/REFERENCES.md §6.
    p.push_back({"gpt2-350m", "GPT-2 medium (OpenAI 2019)", gpt2_like("gpt2-350m", 24, 1024, 16), 354'823'168,
                 "Hugging Face gpt2-medium config.json (n_layer 24, n_embd 1024, n_head 16); count: docs/REFERENCES.md §6"});
    // HF "gpt2-large": n_layer 36, n_embd 1280, n_head 20. 774,030,080 = the checkpoint's tensors
    // (wte + wpe + h.*; lm_head tied).
    p.push_back({"gpt2-774m", "GPT-2 large (OpenAI 2019)", gpt2_like("gpt2-774m", 36, 1280, 20), 774'030'080,
                 "Hugging Face gpt2-large config.json (n_layer 36, n_embd 1280, n_head 20); count: HF checkpoint"});
    // HF "gpt2-xl": n_layer 48, n_embd 1600, n_head 25 (head_dim 64). 1,557,611,200 = the checkpoint.
    p.push_back({"gpt2-1.5b", "GPT-2 XL (OpenAI 2019)", gpt2_like("gpt2-1.5b", 48, 1600, 25), 1'557'611'200,
                 "Hugging Face gpt2-xl config.json (n_layer 48, n_embd 1600, n_head 25); count: HF checkpoint"});

    // ---- TinyLlama (Zhang et al. 2024) ----
    // HF TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T config.json: hidden_size 2048,
    // num_hidden_layers 22, num_attention_heads 32, num_key_value_heads 4, intermediate_size 5632,
    // vocab_size 32000, max_position_embeddings 2048, tie_word_embeddings false.
    p.push_back({"tinyllama-1.1b", "TinyLlama 1.1B (Llama-2 architecture, GQA 4 kv heads)",
                 llama_like("tinyllama-1.1b", "llama", 22, 2048, 32, 4, 5632, 32000, 2048), 1'100'048'384,
                 "Hugging Face TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T config.json; count: docs/REFERENCES.md §6"});

    // ---- Llama 2 (Touvron et al. 2023, Table 1: context 4k; GQA for 70B only) ----
    // HF meta-llama/Llama-2-7b-hf: hidden 4096, layers 32, heads 32 (kv 32), intermediate 11008,
    // vocab 32000, max_position_embeddings 4096.
    p.push_back({"llama-2-7b", "Llama 2 7B (Meta 2023)",
                 llama_like("llama-2-7b", "llama", 32, 4096, 32, 32, 11008, 32000, 4096), 6'738'415'616,
                 "Hugging Face meta-llama/Llama-2-7b-hf config.json; Touvron et al. 2023 Table 1; count: docs/REFERENCES.md §6"});
    // HF meta-llama/Llama-2-13b-hf: hidden 5120, layers 40, heads 40 (kv 40), intermediate 13824.
    p.push_back({"llama-2-13b", "Llama 2 13B (Meta 2023)",
                 llama_like("llama-2-13b", "llama", 40, 5120, 40, 40, 13824, 32000, 4096), 13'015'864'320,
                 "Hugging Face meta-llama/Llama-2-13b-hf config.json; Touvron et al. 2023 Table 1; count: docs/REFERENCES.md §6"});
    // HF meta-llama/Llama-2-70b-hf: hidden 8192, layers 80, heads 64, num_key_value_heads 8,
    // intermediate 28672.
    p.push_back({"llama-2-70b", "Llama 2 70B (Meta 2023, GQA 8 kv heads)",
                 llama_like("llama-2-70b", "llama", 80, 8192, 64, 8, 28672, 32000, 4096), 68'976'648'192,
                 "Hugging Face meta-llama/Llama-2-70b-hf config.json; Touvron et al. 2023 Table 1; count: docs/REFERENCES.md §6"});

    // ---- Llama 3 / 3.1 (Grattafiori et al. 2024, "The Llama 3 Herd of Models", Table 3) ----
    // HF meta-llama/Meta-Llama-3-8B: hidden 4096, layers 32, heads 32, kv 8, intermediate 14336,
    // vocab_size 128256, max_position_embeddings 8192.
    p.push_back({"llama-3-8b", "Llama 3 8B (Meta 2024, GQA 8 kv heads, 128K vocabulary)",
                 llama_like("llama-3-8b", "llama", 32, 4096, 32, 8, 14336, 128256, 8192), 8'030'261'248,
                 "Hugging Face meta-llama/Meta-Llama-3-8B config.json; count: docs/REFERENCES.md §6"});
    // HF meta-llama/Meta-Llama-3-70B: hidden 8192, layers 80, heads 64, kv 8, intermediate 28672,
    // vocab 128256, max_position_embeddings 8192.
    p.push_back({"llama-3-70b", "Llama 3 70B (Meta 2024, GQA 8 kv heads, 128K vocabulary)",
                 llama_like("llama-3-70b", "llama", 80, 8192, 64, 8, 28672, 128256, 8192), 70'553'706'496,
                 "Hugging Face meta-llama/Meta-Llama-3-70B config.json; count: docs/REFERENCES.md §6"});
    // HF meta-llama/Llama-3.1-405B: hidden 16384, layers 126, heads 128, kv 8, intermediate 53248,
    // vocab 128256, max_position_embeddings 131072 (Llama 3 paper Table 3: 126 layers, 16,384,
    // FFN 53,248, 128 heads, 8 kv heads). 405,853,388,800 = the checkpoint's tensors.
    p.push_back({"llama-3.1-405b", "Llama 3.1 405B (Meta 2024, GQA 8 kv heads, 128K context)",
                 llama_like("llama-3.1-405b", "llama", 126, 16384, 128, 8, 53248, 128256, 131072), 405'853'388'800,
                 "Hugging Face meta-llama/Llama-3.1-405B config.json; Llama 3 paper (2024) Table 3; count: HF checkpoint"});

    // ---- Mistral 7B v0.1 (Jiang et al. 2023, Table 1) ----
    // HF mistralai/Mistral-7B-v0.1: hidden 4096, layers 32, heads 32, kv 8, intermediate 14336,
    // vocab 32000, max_position_embeddings 32768, sliding_window 4096.
    {
        ModelSpec m = llama_like("mistral-7b", "mistral", 32, 4096, 32, 8, 14336, 32000, 32768);
        m.sliding_window = 4096;
        p.push_back({"mistral-7b", "Mistral 7B v0.1 (2023, GQA 8 kv heads, sliding window 4096)", m, 7'241'732'096,
                     "Hugging Face mistralai/Mistral-7B-v0.1 config.json; Jiang et al. 2023 Table 1; count: docs/REFERENCES.md §6"});
    }

    // ---- Mixtral 8x7B (Jiang et al. 2024, Table 1) ----
    // HF mistralai/Mixtral-8x7B-v0.1: hidden 4096, layers 32, heads 32, kv 8, intermediate 14336
    // (per expert), num_local_experts 8, num_experts_per_tok 2, vocab 32000,
    // max_position_embeddings 32768, sliding_window null.
    {
        ModelSpec m = llama_like("mixtral-8x7b", "mixtral", 32, 4096, 32, 8, 14336, 32000, 32768);
        m.n_experts = 8;
        m.top_k = 2;
        p.push_back({"mixtral-8x7b", "Mixtral 8x7B (Mistral AI 2024, 8 experts, top-2)", m, 46'702'792'704,
                     "Hugging Face mistralai/Mixtral-8x7B-v0.1 config.json; Jiang et al. 2024 Table 1; count: docs/REFERENCES.md §6"});
    }

    // ---- GPT-3 175B (Brown et al. 2020, Table 2.1 and §2.1) ----
    // 96 layers, d_model 12288, 96 heads of d_head 128, d_ff = 4·d_model, n_ctx 2048; "the same
    // model and architecture as GPT-2" (§2.1): LayerNorm, GELU, learned positions, biases, tied
    // embeddings, the GPT-2 BPE vocabulary of 50257. The alternating dense / locally banded sparse
    // attention adds no parameters. Table 2.1's "175.0B" is rounded, so no exact count is published;
    // this shape gives 174,604,259,328 (tests/test_presets.cpp).
    {
        ModelSpec m = gpt2_like("gpt3-175b", 96, 12288, 96);
        m.max_positions = 2048;
        p.push_back({"gpt3-175b", "GPT-3 175B (Brown et al. 2020)", m, 0,
                     "Brown et al. 2020, Table 2.1 (96 layers, d_model 12288, 96 heads of 128, context 2048), GPT-2 "
                     "architecture; published \"175.0B\" is rounded, exact count unpublished"});
    }

    // ---- Chinchilla 70B (Hoffmann et al. 2022, Table 4) ----
    // 80 layers, d_model 8192, 64 heads, key/value size 128 (Table 4); ffn 4·d_model = 32768.
    // Chinchilla follows Gopher (Hoffmann et al. §4.1), and Gopher (Rae et al. 2021, §2) uses
    // RMSNorm instead of LayerNorm and Transformer-XL relative positional encodings, a 32,000-token
    // SentencePiece vocabulary and a 2048-token context. Neither paper lists biases or the MLP
    // activation: we assume a bias-free GELU MLP and tied embeddings. The paper's "70B" is rounded;
    // this shape gives 70,057,992,192 (tests/test_presets.cpp).
    {
        ModelSpec m;
        m.name = "chinchilla-70b";
        m.family = "gopher";
        m.n_layers = 80;
        m.d_model = 8192;
        m.n_heads = m.n_kv_heads = 64;
        m.head_dim = 128;
        m.d_ff = 4 * 8192;
        m.activation = Activation::gelu;
        m.norm = Norm::rmsnorm;
        m.vocab_size = 32000;
        m.max_positions = 2048;
        m.position = PositionEmbedding::relative;
        m.tied_embeddings = true;
        p.push_back({"chinchilla-70b", "Chinchilla 70B (DeepMind 2022, Gopher architecture)", m, 0,
                     "Hoffmann et al. 2022, Table 4 (80 layers, d_model 8192, 64 heads, kv size 128); Gopher "
                     "architecture (Rae et al. 2021); published \"70B\" is rounded, exact count unpublished"});
    }
    // ---- today's models, read from their config.json in models/ (docs/PRESETS.md: the origin
    //      of each file and of each published figure) ----
    struct FromConfig {
        const char* name;
        const char* description;
        std::int64_t exact;  // an exact published count, else 0
        PublishedCount published;
        const char* source;
        const char* config = nullptr;  // models/<config>.json when another preset's file holds the shape, else name
    };
    constexpr double B = 1e9;
    const FromConfig from_config[] = {
        {"llama-3.1-8b", "Llama 3.1 8B (Meta 2024, GQA 8 kv heads, 128K context)", 8'030'261'248, {8.0 * B, 0, B},
         "meta-llama/Llama-3.1-8B config.json; count: the HF checkpoint (as Llama 3 8B, docs/REFERENCES.md §6)"},
        {"llama-3.1-70b", "Llama 3.1 70B (Meta 2024, GQA 8 kv heads, 128K context)", 70'553'706'496, {70 * B, 0, B},
         "meta-llama/Llama-3.1-70B config.json; count: the HF checkpoint (as Llama 3 70B, docs/REFERENCES.md §6)"},
        {"qwen2.5-7b", "Qwen2.5 7B (Alibaba 2024, GQA 4 kv heads, q/k/v biases)", 0, {7.61 * B, 0, 0.01 * B},
         "Qwen/Qwen2.5-7B config.json; model card: 7.61B"},
        {"qwen2.5-72b", "Qwen2.5 72B (Alibaba 2024, GQA 8 kv heads, q/k/v biases)", 0, {72.7 * B, 0, 0.1 * B},
         "Qwen/Qwen2.5-72B config.json; model card: 72.7B"},
        {"qwen3-0.6b", "Qwen3 0.6B (Alibaba 2025, QK-norm, tied embeddings)", 0, {0.6 * B, 0, 0.1 * B},
         "Qwen/Qwen3-0.6B config.json; model card: 0.6B"},
        {"qwen3-8b", "Qwen3 8B (Alibaba 2025, QK-norm, head_dim 128)", 0, {8.2 * B, 0, 0.1 * B},
         "Qwen/Qwen3-8B config.json; model card: 8.2B"},
        {"qwen3-32b", "Qwen3 32B (Alibaba 2025, QK-norm, 64 heads of 128)", 0, {32.8 * B, 0, 0.1 * B},
         "Qwen/Qwen3-32B config.json; model card: 32.8B"},
        {"qwen3-30b-a3b", "Qwen3 30B-A3B (Alibaba 2025, MoE: 128 experts of 768, top-8)", 0, {30.5 * B, 3.3 * B, 0.1 * B},
         "Qwen/Qwen3-30B-A3B config.json; model card: 30.5B total, 3.3B activated"},
        {"qwen3-235b-a22b", "Qwen3 235B-A22B (Alibaba 2025, MoE: 128 experts of 1536, top-8)", 0, {235 * B, 22 * B, B},
         "Qwen/Qwen3-235B-A22B config.json; model card: 235B total, 22B activated"},
        {"qwen1.5-moe-a2.7b", "Qwen1.5-MoE-A2.7B (Alibaba 2024, 60 experts top-4 + a gated shared expert)", 0,
         {14.3 * B, 2.7 * B, 0.1 * B}, "Qwen/Qwen1.5-MoE-A2.7B config.json; model card: 14.3B total, 2.7B activated"},
        {"deepseek-v2-lite", "DeepSeek-V2-Lite (2024, MLA, 64 experts top-6 + 2 shared)", 0,
         {15.7 * B, 2.4 * B, 0.1 * B, true},
         "deepseek-ai/DeepSeek-V2-Lite config.json; model card: 15.7B total, 2.4B activated (without the input embedding)"},
        {"deepseek-v3", "DeepSeek-V3 (2024, MLA, 256 experts top-8 + 1 shared, 1 MTP module)", 0, {671 * B, 37 * B, B},
         "deepseek-ai/DeepSeek-V3 config.json; DeepSeek-V3 technical report: 671B total, 37B activated (MTP apart)"},
        {"gemma-2-9b", "Gemma 2 9B (Google 2024, local/global layers, soft-capping)", 0, {9 * B, 0, B},
         "google/gemma-2-9b config.json (reconstructed: docs/PRESETS.md §2); model card: 9B; Gemma 2 report Table 2: "
         "8,324,201,984 non-embedding"},
        {"gemma-3-27b", "Gemma 3 27B, language model (Google 2025, 5 local : 1 global, QK-norm)", 0, {27 * B, 0, B},
         "google/gemma-3-27b-pt config.json (text_config); model card: 27B"},
        {"gpt-oss-20b", "gpt-oss-20b (OpenAI 2025, 32 experts top-4, sinks, banded window 128)", 0,
         {20.91 * B, 3.61 * B, 0.01 * B, true},
         "openai/gpt-oss-20b config.json; model card: 20.91B total, 3.61B active (without the input embedding)"},
        {"gpt-oss-120b", "gpt-oss-120b (OpenAI 2025, 128 experts top-4, sinks, banded window 128)", 0,
         {116.83 * B, 5.13 * B, 0.01 * B, true},
         "openai/gpt-oss-120b config.json; model card: 116.83B total, 5.13B active (without the input embedding)"},
        {"llama-4-scout", "Llama 4 Scout, language model (Meta 2025, 16 experts top-1 + shared, chunked attention)", 0,
         {0, 17 * B, B},
         "meta-llama/Llama-4-Scout-17B-16E config.json (text_config); model card: 17B active (its 109B total includes "
         "the vision encoder)"},
        {"llama-4-maverick", "Llama 4 Maverick, language model (Meta 2025, 128 experts top-1 + shared, MoE every 2nd layer)",
         0, {400 * B, 17 * B, B},
         "meta-llama/Llama-4-Maverick-17B-128E config.json (text_config); model card: 400B total, 17B active"},
        {"phi-3-mini", "Phi-3-mini 4K (Microsoft 2024, sliding window 2047)", 0, {3.8 * B, 0, 0.1 * B},
         "microsoft/Phi-3-mini-4k-instruct config.json; model card: 3.8B"},
        {"olmo-2-7b", "OLMo 2 7B (AI2 2024, post-norms, QK-norm over the projection)", 0, {7 * B, 0, B},
         "allenai/OLMo-2-1124-7B config.json; model card: 7B"},
        {"llama-3.2-1b", "Llama 3.2 1B (Meta 2024, GQA 8 kv heads, tied embeddings)", 0, {1.23 * B, 0, 0.01 * B},
         "meta-llama/Llama-3.2-1B config.json; model card: 1.23B"},
        {"llama-3.2-3b", "Llama 3.2 3B (Meta 2024, GQA 8 kv heads, tied embeddings)", 0, {3.21 * B, 0, 0.01 * B},
         "meta-llama/Llama-3.2-3B config.json; model card: 3.21B"},
        {"mixtral-8x22b", "Mixtral 8x22B (Mistral AI 2024, 8 experts, top-2)", 0, {141 * B, 39 * B, B},
         "mistralai/Mixtral-8x22B-v0.1 config.json; Mistral AI's announcement: 141B total, 39B active"},
        {"qwen2-57b-a14b", "Qwen2-57B-A14B (Alibaba 2024, 64 experts top-8 + a gated shared expert)", 0, {57 * B, 14 * B, B},
         "Qwen/Qwen2-57B-A14B config.json; model card: 57B total, 14B activated"},
        {"deepseek-v2", "DeepSeek-V2 (2024, MLA, 160 experts top-6 + 2 shared)", 0, {236 * B, 21 * B, B},
         "deepseek-ai/DeepSeek-V2 config.json; DeepSeek-V2 report: 236B total, 21B activated"},
        {"kimi-k2", "Kimi K2 (Moonshot AI 2025, DeepSeek-V3 architecture: MLA, 384 experts top-8 + 1 shared)", 0,
         {0, 32 * B, B},
         "moonshotai/Kimi-K2-Base config.json (model_type kimi_k2, architecture DeepseekV3ForCausalLM: read as deepseek_v3); "
         "model card: 32B activated (its \"1T\" total is rounded to the trillion)"},
        {"bloom-560m", "BLOOM 560M (BigScience 2022, ALiBi, embedding LayerNorm)", 559'214'592, {559.2 * 1e6, 0, 1e5},
         "bigscience/bloom-560m config.json (reconstructed: docs/PRESETS.md §2); model card: 559,214,592"},
        {"nemotron-4-15b", "Nemotron-4 15B (NVIDIA 2024, squared-ReLU MLP, GQA 8 kv heads, half-rotary heads)", 0,
         {15.7 * B, 0, 0.1 * B},
         "NemotronConfig fields written from the Nemotron-4 15B report (arXiv:2402.16819 §2; docs/PRESETS.md §2); "
         "report: 3.2B embedding + 12.5B non-embedding"},
        {"nemotron-4-340b", "Nemotron-4 340B (NVIDIA 2024, squared-ReLU MLP, GQA 8 kv heads, half-rotary heads)", 0,
         {341.0 * B, 0, 0.1 * B},
         "NemotronConfig fields written from the Nemotron-4 340B report (arXiv:2406.11704 Table 1; docs/PRESETS.md "
         "§2); report: 9.4B embedding + 331.6B non-embedding"},
        {"glm-4.5", "GLM-4.5 355B-A32B (Zhipu AI 2025, 160 experts top-8 + 1 shared, 3 dense layers, QK-norm, 1 MTP layer; "
                    "GLM-4.6 and 4.7 share its shape)",
         0, {0, 32 * B, B, true},
         "zai-org/GLM-4.5 config.json (reconstructed: docs/PRESETS.md §2); model card: 32B activated (its 355B total "
         "includes the MTP layer)"},
        {"glm-4.5-air", "GLM-4.5-Air 106B-A12B (Zhipu AI 2025, 128 experts top-8 + 1 shared, 1 dense layer, 1 MTP layer)", 0,
         {0, 12 * B, B, true},
         "zai-org/GLM-4.5-Air config.json (reconstructed: docs/PRESETS.md §2); model card: 12B activated (its 106B total "
         "includes the MTP layer)"},
        {"minimax-m2", "MiniMax-M2 230B-A10B (MiniMax 2025, 256 experts top-8 in every layer, QK-norm over the projection; "
                       "M2.1, M2.5 and M2.7 share its shape)",
         0, {0, 10 * B, B, true},
         "MiniMaxAI/MiniMax-M2 config.json (reconstructed: docs/PRESETS.md §2); model card: 10B activated (230B total, "
         "rounded: 228.7B here)"},
        {"qwen3-next-80b-a3b",
         "Qwen3-Next 80B-A3B (Alibaba 2025, 36 Gated DeltaNet + 12 gated-attention layers, 512 experts top-10 + 1 shared)",
         0, {80 * B, 3 * B, B, true},
         "Qwen/Qwen3-Next-80B-A3B-Instruct config.json (identical in the Thinking release; docs/PRESETS.md); model card: "
         "80B total, 3B activated"},
        {"qwen3.5-397b-a17b",
         "Qwen3.5 397B-A17B, language model (Alibaba 2026, 45 Gated DeltaNet + 15 gated-attention layers, 512 experts "
         "top-10 + 1 shared, 1 MTP layer)",
         0, {0, 17 * B, B, true},
         "Qwen/Qwen3.5-397B-A17B config.json (text_config; docs/PRESETS.md); model card: 17B activated (its 397B total "
         "includes the vision encoder; its MTP layer, 6.6B, is counted apart)"},
        {"nemotron-3-nano",
         "Nemotron 3 Nano 30B-A3B (NVIDIA 2025, hybrid: 23 Mamba-2 + 23 MoE (128 experts top-6 + shared) + 6 attention layers)",
         0, {31.6 * B, 0, 0.1 * B},
         "NemotronHConfig fields written from Megatron Bridge's Nemotron 3 Nano recipe (docs/PRESETS.md §2); model card: "
         "31.6B total"},
        {"nemotron-3-super",
         "Nemotron 3 Super 120B-A12B (NVIDIA 2026, hybrid: 40 Mamba-2 + 40 latent MoE (512 experts top-22 on 1024) + 8 attention "
         "layers, one MTP module)",
         0, {},
         "NemotronHConfig fields written from Megatron-LM's Nemotron 3 Super arguments and Megatron Bridge's tests (docs/PRESETS.md "
         "§2); its name, 120B-A12B, rounds both down (120.7B total, 12.8B active here)"},
        // ---- classic published training runs (docs/PRESETS.md §1-§3) ----
        {"opt-175b", "OPT-175B (Meta 2022, GPT-3-like: learned positions, ReLU MLP, biases, tied embeddings)", 0,
         {175 * B, 0, B},
         "OPTConfig fields written from metaseq's MODEL_SIZES[\"175b\"] and Zhang et al. 2022 Table 1 (reconstructed: "
         "docs/PRESETS.md §2); paper: 175B"},
        {"opt-66b", "OPT-66B (Meta 2022)", 0, {66 * B, 0, B},
         "facebook/opt-66b config.json (assembled: docs/PRESETS.md §2); paper: 66B"},
        {"opt-30b", "OPT-30B (Meta 2022)", 0, {30 * B, 0, B},
         "OPTConfig fields written from metaseq's MODEL_SIZES[\"30b\"] (reconstructed: docs/PRESETS.md §2); paper: 30B"},
        {"bloom-176b", "BLOOM 176B (BigScience 2022, ALiBi, embedding LayerNorm, 250K vocabulary)", 176'247'271'424,
         {176'247'271'424.0, 0, 1e5},
         "bigscience/bloom config.json (reconstructed: docs/PRESETS.md §2); model card: 176,247,271,424"},
        {"llama-7b", "LLaMA 7B (Meta 2023, the first LLaMA: 2048 context)", 0, {6.7 * B, 0, 0.1 * B},
         "LlamaConfig fields written from Touvron et al. 2023 Table 2 (reconstructed: docs/PRESETS.md §2); paper: 6.7B"},
        {"llama-13b", "LLaMA 13B (Meta 2023, the first LLaMA: 2048 context)", 0, {13.0 * B, 0, 0.1 * B},
         "LlamaConfig fields written from Touvron et al. 2023 Table 2 (reconstructed: docs/PRESETS.md §2); paper: 13.0B"},
        {"llama-33b", "LLaMA 33B (Meta 2023, the first LLaMA: 2048 context)", 0, {32.5 * B, 0, 0.1 * B},
         "LlamaConfig fields written from Touvron et al. 2023 Table 2 (reconstructed: docs/PRESETS.md §2); paper: 32.5B"},
        {"llama-65b", "LLaMA 65B (Meta 2023, the first LLaMA: 2048 context)", 0, {65.2 * B, 0, 0.1 * B},
         "LlamaConfig fields written from Touvron et al. 2023 Table 2 (reconstructed: docs/PRESETS.md §2); paper: 65.2B"},
        {"falcon-7b", "Falcon-7B (TII 2023, multi-query attention, parallel attention/MLP with one LayerNorm)", 0,
         {7 * B, 0, B}, "tiiuae/falcon-7b config.json (reconstructed: docs/PRESETS.md §2); model card: 7B"},
        {"falcon-40b", "Falcon-40B (TII 2023, 8 KV groups, parallel attention/MLP with two LayerNorms)", 0,
         {40 * B, 0, 10 * B},
         "tiiuae/falcon-40b config.json (the -instruct file, the same shape: docs/PRESETS.md §1); model card: 40B (the name's figure, "
         "rounded to tens of billions: 41.3B here)"},
        {"falcon-180b", "Falcon-180B (TII 2023, 8 KV groups, parallel attention/MLP with two LayerNorms)", 0,
         {180 * B, 0, 10 * B},
         "tiiuae/falcon-180B config.json (reconstructed: docs/PRESETS.md §2); model card: 180B (the name's figure, "
         "rounded to tens of billions: 178.6B here)"},
        {"mpt-7b", "MPT-7B (MosaicML 2023, ALiBi, no biases, LayerNorm without bias)", 0, {6.7 * B, 0, 0.1 * B},
         "mosaicml/mpt-7b config.json (the -instruct file, the same shape: docs/PRESETS.md §1); model card: 6.7B"},
        {"dbrx", "DBRX 132B (Databricks 2024, 16 experts top-4, GQA 8 kv heads)", 0, {132 * B, 36 * B, B},
         "databricks/dbrx-base config.json (reconstructed: docs/PRESETS.md §2); model card: 132B total, 36B active"},
        {"llama-3.3-70b", "Llama 3.3 70B (Meta 2024, Instruct only; the shape of Llama 3.1 70B, read from its file)", 0,
         {70 * B, 0, B},
         "meta-llama/Llama-3.3-70B-Instruct config.json: every shape field equal to llama-3.1-70b's (docs/PRESETS.md §1); "
         "model card: 70B",
         "llama-3.1-70b"},
        // ---- models of published training/inference benchmarks (docs/PRESETS.md §1-§3) ----
        {"qwen3-1.7b", "Qwen3 1.7B (Alibaba 2025, QK-norm, tied embeddings)", 0, {1.7 * B, 0, 0.1 * B},
         "Qwen/Qwen3-1.7B config.json (reconstructed: docs/PRESETS.md §2); model card: 1.7B (1.4B non-embedding)"},
        {"qwen3-4b", "Qwen3 4B (Alibaba 2025, QK-norm, tied embeddings)", 0, {4.0 * B, 0, 0.1 * B},
         "Qwen/Qwen3-4B config.json (assembled: docs/PRESETS.md §1); model card: 4.0B (3.6B non-embedding)"},
        {"qwen3-14b", "Qwen3 14B (Alibaba 2025, QK-norm, 40 heads of 128)", 0, {14.8 * B, 0, 0.1 * B},
         "Qwen/Qwen3-14B config.json; model card: 14.8B (13.2B non-embedding)"},
        {"qwen2.5-14b", "Qwen2.5 14B (Alibaba 2024, GQA 8 kv heads, q/k/v biases)", 0, {14.7 * B, 0, 0.1 * B},
         "Qwen/Qwen2.5-14B config.json; model card: 14.7B (13.1B non-embedding; the card truncates 14.77B)"},
        {"qwen2.5-32b", "Qwen2.5 32B (Alibaba 2024, GQA 8 kv heads, q/k/v biases)", 0, {32.5 * B, 0, 0.3 * B},
         "Qwen/Qwen2.5-32B config.json (the shape of validation/published/configs/qwen2.5-32b-instruct.json); model "
         "card: 32.5B, 0.26B below the 32.76B the file gives (its 31.0B non-embedding is 31.2B here): checked to 0.3B"},
        {"qwen2.5-3b", "Qwen2.5 3B (Alibaba 2024, GQA 2 kv heads, q/k/v biases, tied embeddings)", 0,
         {3.09 * B, 0, 0.01 * B}, "Qwen/Qwen2.5-3B config.json; model card: 3.09B (2.77B non-embedding)"},
        {"nemotron-h-8b",
         "Nemotron-H 8B (NVIDIA 2025, hybrid: 24 Mamba-2 + 24 squared-ReLU MLP + 4 attention layers)", 0,
         {8.1 * B, 0, 0.01 * B},
         "nvidia/Nemotron-H-8B-Base-8K config.json (reconstructed: NemotronHConfig fields written from Megatron Bridge's "
         "and Megatron-LM's Nemotron-H 8B shape, docs/PRESETS.md §2); checkpoint total 8,100,852,736 as recorded in "
         "public code; name: 8B"},
        {"nemotron-h-47b",
         "Nemotron-H 47B (NVIDIA 2025, hybrid: 45 Mamba-2 + 48 squared-ReLU MLP + 5 attention layers; pruned from 56B)",
         0, {47 * B, 0, 0.5 * B},
         "nvidia/Nemotron-H-47B-Base-8K config.json (reconstructed: NemotronHConfig fields written from Megatron "
         "Bridge's and Megatron-LM's Nemotron-H 47B shape, docs/PRESETS.md §2); name: 47B (46.8B here)"},
        {"nemotron-h-56b",
         "Nemotron-H 56B (NVIDIA 2025, hybrid: 54 Mamba-2 + 54 squared-ReLU MLP + 10 attention layers)", 0,
         {56 * B, 0, 0.5 * B},
         "nvidia/Nemotron-H-56B-Base-8K config.json (reconstructed: NemotronHConfig fields written from Megatron "
         "Bridge's and Megatron-LM's Nemotron-H 56B shape, docs/PRESETS.md §2); name: 56B (56.3B here)"},
        {"mistral-nemo-12b", "Mistral NeMo 12B (Mistral AI and NVIDIA 2024, GQA 8 kv heads, head_dim 128, 128K context)",
         0, {12 * B, 0, 0.5 * B},
         "mistralai/Mistral-Nemo-Base-2407 config.json; Mistral AI: 12B (12.2B here)"},
        {"gemma-2-2b", "Gemma 2 2B (Google 2024, local/global layers, soft-capping)", 0, {2.6 * B, 0, 0.1 * B},
         "google/gemma-2-2b config.json (reconstructed: docs/PRESETS.md §2); Gemma 2 report Table 2: "
         "2,024,517,888 non-embedding"},
        {"gemma-2-27b", "Gemma 2 27B (Google 2024, local/global layers, soft-capping, head_dim 128)", 0,
         {27 * B, 0, B},
         "google/gemma-2-27b config.json (reconstructed: docs/PRESETS.md §2); model card: 27B; Gemma 2 report "
         "Table 2: 26,047,480,320 non-embedding"},
        // ---- models of published training-efficiency reports (docs/PRESETS.md §1-§3) ----
        {"gpt-neox-20b", "GPT-NeoX-20B (EleutherAI 2022, parallel attention and MLP, rotary on a quarter of each head)",
         20'554'567'680, {20.6 * B, 0, 0.1 * B},
         "EleutherAI/gpt-neox-20b config.json (reconstructed: docs/PRESETS.md §2); model card: 20,554,567,680 parameters"},
        {"pythia-12b", "Pythia 12B (EleutherAI 2023, GPT-NeoX architecture, parallel attention and MLP)", 0,
         {12 * B, 0, 0.5 * B},
         "EleutherAI/pythia-12b config.json (reconstructed: docs/PRESETS.md §2); model card: 12B, 11,327,027,200 "
         "non-embedding"},
        {"olmo-2-13b", "OLMo 2 13B (AI2 2024, post-norms, QK-norm over the projection)", 0, {13 * B, 0, B},
         "allenai/OLMo-2-1124-13B config.json; model card: 13B"},
        {"olmo-2-32b", "OLMo 2 32B (AI2 2025, post-norms, QK-norm over the projection, GQA 8 kv heads)", 0,
         {32 * B, 0, B},
         "allenai/OLMo-2-0325-32B config.json (reconstructed: docs/PRESETS.md §2); model card: 32B"},
        {"phi-4", "Phi-4 (Microsoft 2024, GQA 10 kv heads, 16K context)", 0, {14 * B, 0, B},
         "microsoft/phi-4 config.json (assembled: docs/PRESETS.md §1); Phi-4 technical report: 14B (14.66B here)"},
    };
    for (const FromConfig& f : from_config) {
        const auto& configs = bundled_model_configs();
        const std::string file = f.config ? f.config : f.name;
        const auto it = std::find_if(configs.begin(), configs.end(),
                                     [&](const ModelConfigText& c) { return c.name == file; });
        if (it == configs.end()) throw std::logic_error(std::string("preset ") + f.name + ": models/" + file + ".json is not bundled");
        ModelSpec m = model_from_hf_config(nlohmann::json::parse(it->json), "models/" + file + ".json");
        m.name = f.name;
        p.push_back({f.name, f.description, m, f.exact, f.source, f.published});
    }
    return p;
}

}  // namespace

// Llama layout (HF LlamaConfig / modeling_llama.py): RMSNorm, SwiGLU MLP (gate, up, down),
// rotary positions, no biases, untied lm_head. Mistral and Mixtral share it.
ModelSpec llama_like(const char* name, const char* family, int layers, int d, int heads, int kv_heads, int ff,
                     std::int64_t vocab, std::int64_t positions) {
    ModelSpec m;
    m.name = name;
    m.family = family;
    m.n_layers = layers;
    m.d_model = d;
    m.n_heads = heads;
    m.n_kv_heads = kv_heads;
    m.head_dim = d / heads;
    m.d_ff = ff;
    m.activation = Activation::swiglu;
    m.norm = Norm::rmsnorm;
    m.vocab_size = vocab;
    m.max_positions = positions;
    m.position = PositionEmbedding::rotary;
    m.tied_embeddings = false;
    return m;
}

const std::vector<Preset>& model_presets() {
    static const std::vector<Preset> presets = build_presets();
    return presets;
}

namespace {

// A model's name as people and model hubs write it ("Llama 3.1 405B", "llama3-70b",
// "Meta-Llama-3-70B-Instruct", "gemma-2-9b-it"), as the words that say which model it is: its
// name_words (core/text.h: "llama3" -> "llama", "3") without the words that name a release of the
// same shape: the publisher ("meta"), the tuned variants ("instruct", "chat", "it") and the base
// ("base", "hf").
std::vector<std::string> model_words(std::string_view name) {
    static const std::vector<std::string_view> dropped = {"meta", "instruct", "chat", "it", "base", "hf"};
    std::vector<std::string> words = name_words(name, dropped);  // core/text.h
    std::sort(words.begin(), words.end());  // compared as a multiset: "llama-3.3-70b" has two 3s
    return words;
}

}  // namespace

const Preset* find_preset(std::string_view name) {
    const std::string key = to_lower(name);
    for (const Preset& p : model_presets())
        if (p.name == key) return &p;
    // Else the one preset whose name has the same words (model_words); not for ORG/NAME, a Hugging
    // Face id (preset_for_hf_id, once the id is checked and not in the cache).
    if (name.find('/') != std::string_view::npos) return nullptr;
    const std::vector<std::string> words = model_words(name);
    if (words.empty()) return nullptr;
    static const std::vector<std::vector<std::string>> preset_words = [] {  // each preset's, in model_presets' order
        std::vector<std::vector<std::string>> out;
        for (const Preset& p : model_presets()) out.push_back(model_words(p.name));
        return out;
    }();
    const Preset* found = nullptr;
    for (std::size_t i = 0; i < preset_words.size(); ++i)
        if (preset_words[i] == words) {
            if (found) return nullptr;  // two presets with those words: neither
            found = &model_presets()[i];
        }
    return found;
}

const Preset* preset_for_hf_id(std::string_view id) {
    const std::size_t slash = id.find('/');
    if (slash == std::string_view::npos) return nullptr;
    // The repository whose config.json the preset was read from, as its source names it.
    const std::string want = to_lower(id) + " config.json";
    for (const Preset& p : model_presets()) {
        const std::string source = to_lower(p.source);
        for (std::size_t at = source.find(want); at != std::string::npos; at = source.find(want, at + 1))
            if (at == 0 || source[at - 1] == ' ') return &p;
    }
    return find_preset(id.substr(slash + 1));
}

ModelSpec preset_or_throw(std::string_view name, std::string_view flag) {
    if (const Preset* p = find_preset(name)) return p->spec;
    std::vector<std::string> names;
    for (const Preset& p : model_presets()) names.push_back(p.name);
    const std::optional<std::string> suggestion = closest_match(to_lower(name), names);
    std::string message = std::string(flag) + ": unknown model \"" + std::string(name) + "\" (";
    if (suggestion) message += "did you mean \"" + *suggestion + "\"? ";
    message += "`llmplan models` lists the presets; a Hugging Face ORG/NAME in the local cache, or --hf-config PATH, works too)";
    throw InputError(message);
}

}  // namespace llmplan
