// param_views.h — the engine's named views of its flat parameter buffer: which pointer of a layer
// (or of the model) each parameter name of engine_param_layout (program.h) is, written once for the
// CPU reference (reference/model.cpp, float*) and the CUDA engine (kernels/cuda/engine_state.cuh,
// void* into device memory, and the data-parallel views of kernels/cuda/data_parallel.cu).
// Header-only, plain C++20: nvcc includes it too.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

// One layer's weights and biases (nullptr where the model has none: e.g. biases of Llama, the
// gate of GPT-2's MLP, LayerNorm's bias under RMSNorm).
template <class Ptr>
struct EngineLayerViews {
    Ptr ln1_w{}, ln1_b{}, wq{}, bq{}, wk{}, bk{}, wv{}, bv{}, wo{}, bo{}, ln2_w{}, ln2_b{}, wg{}, bg{}, wu{}, bu{}, wd{},
        bd{};
};

template <class Ptr>
struct EngineModelViews {
    Ptr wte{}, wpe{}, lnf_w{}, lnf_b{}, head{};
    std::vector<EngineLayerViews<Ptr>> layers;
};

// The view of `name` (param_tensors()'s names; "layers.N." + the layer tensor's name), or nullptr
// when no view has that name.
template <class Ptr>
Ptr* engine_view_slot(EngineModelViews<Ptr>& v, std::string_view name) {
    using L = EngineLayerViews<Ptr>;
    static constexpr std::pair<std::string_view, Ptr L::*> kLayer[] = {
        {"attn_norm.weight", &L::ln1_w},  {"attn_norm.bias", &L::ln1_b},  {"attn.q_proj.weight", &L::wq},
        {"attn.q_proj.bias", &L::bq},     {"attn.k_proj.weight", &L::wk}, {"attn.k_proj.bias", &L::bk},
        {"attn.v_proj.weight", &L::wv},   {"attn.v_proj.bias", &L::bv},   {"attn.o_proj.weight", &L::wo},
        {"attn.o_proj.bias", &L::bo},     {"mlp_norm.weight", &L::ln2_w}, {"mlp_norm.bias", &L::ln2_b},
        {"mlp.gate_proj.weight", &L::wg}, {"mlp.gate_proj.bias", &L::bg}, {"mlp.up_proj.weight", &L::wu},
        {"mlp.up_proj.bias", &L::bu},     {"mlp.down_proj.weight", &L::wd}, {"mlp.down_proj.bias", &L::bd}};
    if (name == "embed_tokens.weight") return &v.wte;
    if (name == "embed_positions.weight") return &v.wpe;
    if (name == "final_norm.weight") return &v.lnf_w;
    if (name == "final_norm.bias") return &v.lnf_b;
    if (name == "lm_head.weight") return &v.head;
    constexpr std::string_view prefix = "layers.";
    if (name.substr(0, prefix.size()) != prefix) return nullptr;
    const std::size_t dot = name.find('.', prefix.size());
    if (dot == std::string_view::npos || dot == prefix.size()) return nullptr;
    std::size_t l = 0;
    for (const char c : name.substr(prefix.size(), dot - prefix.size())) {
        if (c < '0' || c > '9') return nullptr;
        l = l * 10 + static_cast<std::size_t>(c - '0');
    }
    if (l >= v.layers.size()) return nullptr;
    for (const auto& [field, member] : kLayer)
        if (name.substr(dot + 1) == field) return &(v.layers[l].*member);
    return nullptr;
}

// Sets the view of one parameter; with tied embeddings the output head is the token embedding.
// std::logic_error for a name no view has (the layout and this table disagree).
template <class Ptr>
void set_engine_view(EngineModelViews<Ptr>& v, std::string_view name, Ptr p, bool tied) {
    Ptr* slot = engine_view_slot(v, name);
    if (!slot) throw std::logic_error("engine: no view for parameter " + std::string(name));
    *slot = p;
    if (tied && name == "embed_tokens.weight") v.head = p;
}

// The views of every parameter of `layout` (elements with .name and .offset, in elements) in a
// buffer at `base` whose elements are `element_bytes` wide.
template <class Ptr, class Layout>
EngineModelViews<Ptr> engine_param_views(const Layout& layout, int layers, bool tied, Ptr base,
                                         std::size_t element_bytes) {
    EngineModelViews<Ptr> v;
    v.layers.resize(static_cast<std::size_t>(layers));
    for (const auto& p : layout) {
        char* at = static_cast<char*>(static_cast<void*>(base)) + p.offset * element_bytes;
        set_engine_view(v, p.name, static_cast<Ptr>(static_cast<void*>(at)), tied);
    }
    return v;
}

}  // namespace llmplan
