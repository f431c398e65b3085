// torch_sim.cpp — replays a training step's tensor operations with PyTorch's lifetime rules.
// The rules and their sources are listed in torch_sim.h.
#include "planner/torch_sim.h"

#include <algorithm>
#include <cmath>

namespace llmplan::torchsim {

double dtype_bytes(TensorType t) {
    switch (t) {
        case TensorType::f32: return 4;
        case TensorType::bf16: return 2;
        case TensorType::i64: return 8;
        case TensorType::b8: return 1;
    }
    return 4;
}

const char* to_string(TensorType t) {
    switch (t) {
        case TensorType::f32: return "fp32";
        case TensorType::bf16: return "bf16";
        case TensorType::i64: return "int64";
        case TensorType::b8: return "bool";
    }
    return "?";
}

const char* to_string(Cat c) {
    switch (c) {
        case Cat::activation: return "activations";
        case Cat::weight_cast: return "weight_casts";
        case Cat::logits: return "logits";
        case Cat::gradient: return "gradients";
        case Cat::grad_flow: return "gradient_flow";
        case Cat::temporary: return "temporary";
        case Cat::count: break;
    }
    return "?";
}

// CUDACachingAllocator rounds every request up to a multiple of kMinBlockSize = 512 bytes.
double round_alloc(double bytes) { return bytes <= 0 ? 0 : std::ceil(bytes / 512.0) * 512.0; }

int Sim::new_storage(double bytes, Cat cat, const std::string& name) {
    Storage s;
    s.name = name;
    s.bytes = round_alloc(bytes);
    s.cat = cat;
    s.alive = true;
    storages_.push_back(s);
    allocated_ += s.bytes;
    by_cat_[static_cast<std::size_t>(cat)] += s.bytes;
    note();
    const int id = static_cast<int>(storages_.size()) - 1;
    events_.push_back({id, s.bytes});
    if (open_region_ >= 0) regions_[static_cast<std::size_t>(open_region_)].forward.emplace_back(id, true);
    return id;
}

void Sim::note() {
    if (allocated_ > peak_) {
        peak_ = allocated_;
        peak_by_cat_ = by_cat_;
        peak_where_ = where_;
    }
}

void Sim::start_phase(const std::string& phase) {
    peak_ = allocated_;
    peak_by_cat_ = by_cat_;
    peak_where_ = phase;
}

void Sim::maybe_free(int id) {
    Storage& s = storages_[static_cast<std::size_t>(id)];
    if (!s.alive || s.is_param || s.py > 0 || s.saved > 0 || s.grad_refs > 0) return;
    s.alive = false;
    allocated_ -= s.bytes;
    by_cat_[static_cast<std::size_t>(s.cat)] -= s.bytes;
    events_.push_back({id, 0});
    if (open_region_ >= 0) regions_[static_cast<std::size_t>(open_region_)].forward.emplace_back(id, false);
}

std::vector<int> Sim::grad_storages() const {
    std::vector<int> out;
    for (const Value& v : values_)
        if (v.is_param && v.param_grad >= 0) out.push_back(v.param_grad);
    return out;
}

V Sim::new_value(int storage, double elements, TensorType dtype, bool requires_grad, const std::string& name) {
    Value v;
    v.storage = storage;
    v.elements = elements;
    v.dtype = dtype;
    v.requires_grad = requires_grad;
    v.name = name;
    values_.push_back(v);
    return static_cast<V>(values_.size()) - 1;
}

V Sim::param(double elements, TensorType dtype, double grad_bytes_per_element, std::string name, bool trainable,
                bool grad_exists) {
    const V v = new_value(-1, elements, dtype, trainable, name);
    values_.back().is_param = true;
    values_.back().grad_exists = grad_exists;
    values_.back().param_grad_bytes = grad_bytes_per_element;
    return v;
}

V Sim::tensor(double elements, TensorType dtype, Cat cat, std::string name) {
    const int s = new_storage(elements * dtype_bytes(dtype), cat, name);
    ref_py(s);
    return new_value(s, elements, dtype, false, name);
}

void Sim::save(Node& n, V x) {
    const int s = values_[static_cast<std::size_t>(x)].storage;
    if (s < 0) return;  // a parameter: static memory
    if (n.region >= 0) {
        Region& r = regions_[static_cast<std::size_t>(n.region)];
        auto it = r.slot_of.find(s);
        int slot = 0;
        if (it != r.slot_of.end()) {
            slot = it->second;
        } else {
            Slot sl;
            sl.bytes = storages_[static_cast<std::size_t>(s)].bytes;
            sl.cat = storages_[static_cast<std::size_t>(s)].cat;
            if (std::find(r.inputs.begin(), r.inputs.end(), s) != r.inputs.end() ||
                std::find(r.cached.begin(), r.cached.end(), s) != r.cached.end())
                sl.existing = s;
            r.slots.push_back(sl);
            slot = static_cast<int>(r.slots.size()) - 1;
            r.slot_of[s] = slot;
        }
        n.slots.push_back(slot);
        return;
    }
    ++storages_[static_cast<std::size_t>(s)].saved;
    n.saved.push_back(s);
}

V Sim::op(const std::string& name, const std::vector<V>& inputs, double elements, TensorType dtype,
          const std::vector<V>& saved, Cat cat, double backward_temp) {
    bool needs_grad = false;
    for (V x : inputs)
        if (x >= 0 && values_[static_cast<std::size_t>(x)].requires_grad) needs_grad = true;
    needs_grad = needs_grad && grad_enabled;
    const V out = tensor(elements, dtype, cat, name);
    if (name == "mm" && !in_backward_ && first_mm_event_[0] < 0) first_mm_event_[0] = static_cast<int>(events_.size());
    values_[static_cast<std::size_t>(out)].requires_grad = needs_grad;
    if (!needs_grad) return out;
    Node n;
    n.name = name;
    n.where = where_;
    if (backward_temp > 0) n.backward_temps.push_back(backward_temp);
    n.region = open_region_;
    for (V x : inputs)
        if (x >= 0 && values_[static_cast<std::size_t>(x)].requires_grad) n.inputs.push_back(x);
    n.outputs = {out};
    for (V x : saved) save(n, x);
    nodes_.push_back(n);
    const int idx = static_cast<int>(nodes_.size()) - 1;
    values_[static_cast<std::size_t>(out)].producer = idx;
    if (open_region_ >= 0) {
        Region& r = regions_[static_cast<std::size_t>(open_region_)];
        if (r.first_node < 0) r.first_node = idx;
        r.last_node = idx;
    }
    return out;
}

void Sim::save_output(V out) {
    const int idx = values_[static_cast<std::size_t>(out)].producer;
    if (idx < 0) return;
    save(nodes_[static_cast<std::size_t>(idx)], out);
}

void Sim::pass_gradient(V out, bool views) {
    const int idx = values_[static_cast<std::size_t>(out)].producer;
    if (idx < 0) return;
    Node& n = nodes_[static_cast<std::size_t>(idx)];
    n.pass_through = n.outputs.size() == 1;
    n.pass_views = views;
}

void Sim::backward_temp(V out, double bytes) {
    const int idx = values_[static_cast<std::size_t>(out)].producer;
    if (idx >= 0 && bytes > 0) nodes_[static_cast<std::size_t>(idx)].backward_temps.push_back(bytes);
}

void Sim::backward_temp_first(V out) {
    const int idx = values_[static_cast<std::size_t>(out)].producer;
    if (idx >= 0) nodes_[static_cast<std::size_t>(idx)].temps_first = true;
}

std::vector<Sim::Saved> Sim::saved_by_nodes(int first, int last) const {
    std::vector<Saved> out;
    std::vector<int> seen;
    for (int i = std::max(first, 0); i <= last && i < next_node(); ++i)
        for (int s : nodes_[static_cast<std::size_t>(i)].saved) {
            if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
            seen.push_back(s);
            const Storage& st = storages_[static_cast<std::size_t>(s)];
            out.push_back({st.name, st.bytes, st.cat});
        }
    return out;
}

void Sim::hold_until_node(V x, int node) {
    const int s = values_[static_cast<std::size_t>(x)].storage;
    if (node < 0 || node >= next_node() || s < 0) return;
    ++storages_[static_cast<std::size_t>(s)].saved;
    nodes_[static_cast<std::size_t>(node)].saved.push_back(s);
}

void Sim::alloc_during_backward(int first, int last, double bytes, Cat cat) {
    if (first < 0 || last < first || last >= next_node()) return;
    nodes_[static_cast<std::size_t>(last)].alloc_before.emplace_back(bytes, cat);
    nodes_[static_cast<std::size_t>(first)].free_after.push_back(1);
}

// Views sharing x's storage, one node gathering their gradients into one gradient of x.
std::vector<V> Sim::split(V x, const std::vector<double>& elements) {
    const Value base = values_[static_cast<std::size_t>(x)];
    const bool rg = base.requires_grad && grad_enabled;
    std::vector<V> out;
    for (double e : elements) {
        if (base.storage >= 0) ref_py(base.storage);
        out.push_back(new_value(base.storage, e, base.dtype, rg, base.name + ".split"));
    }
    if (rg) {
        Node n;
        n.name = "split";
        n.where = where_;
        n.region = open_region_;
        n.inputs = {x};
        n.outputs = out;
        nodes_.push_back(n);
        for (V v : out) values_[static_cast<std::size_t>(v)].producer = static_cast<int>(nodes_.size()) - 1;
    }
    return out;
}

void Sim::drop(V x) {
    if (x < 0) return;
    const int s = values_[static_cast<std::size_t>(x)].storage;
    if (s < 0) return;
    Storage& st = storages_[static_cast<std::size_t>(s)];
    if (st.py > 0) --st.py;
    maybe_free(s);
}

void Sim::begin_checkpoint(const std::vector<V>& inputs) {
    Region r;
    for (V x : inputs) {
        const int s = values_[static_cast<std::size_t>(x)].storage;
        if (s < 0) continue;
        ref_py(s);  // the checkpoint keeps its inputs for the recomputation
        r.inputs.push_back(s);
    }
    regions_.push_back(r);
    open_region_ = static_cast<int>(regions_.size()) - 1;
}

void Sim::end_checkpoint() { open_region_ = -1; }

void Sim::sac_save(V x) {
    if (open_region_ < 0 || x < 0) return;
    const int s = values_[static_cast<std::size_t>(x)].storage;
    if (s < 0) return;
    Region& r = regions_[static_cast<std::size_t>(open_region_)];
    if (std::find(r.cached.begin(), r.cached.end(), s) != r.cached.end()) return;
    ref_py(s);  // the selective-checkpoint cache's reference
    r.cached.push_back(s);
}

void Sim::recompute(Region& r) {
    // The region's forward again: saved tensors (slots) are allocated and kept, the other outputs
    // allocated and freed where forward freed them; region inputs and cached outputs are reused.
    std::map<int, int> again;  // forward storage -> its recomputed temporary
    // Early stop (torch.utils.checkpoint's default): the recomputation ends once the last saved
    // tensor has been packed, i.e. before the next op allocates (allocator history of
    // alloc-l1b128k-bf16-eager-b2-s2048-ckpt: each recomputed layer ends at the MLP product that
    // down_proj saves; down_proj's output and the residual add are not made again).
    std::size_t stop = 0;
    for (std::size_t k = 0; k < r.forward.size(); ++k) {
        const auto& [s, alloc] = r.forward[k];
        const auto slot = r.slot_of.find(s);
        if (alloc && slot != r.slot_of.end() && r.slots[static_cast<std::size_t>(slot->second)].existing < 0) stop = k + 1;
    }
    while (stop < r.forward.size() && !r.forward[stop].second) ++stop;
    for (std::size_t k = 0; k < stop; ++k) {
        const auto& [s, alloc] = r.forward[k];
        const auto slot = r.slot_of.find(s);
        const bool reused = std::find(r.inputs.begin(), r.inputs.end(), s) != r.inputs.end() ||
                            std::find(r.cached.begin(), r.cached.end(), s) != r.cached.end();
        if (reused) continue;
        if (slot != r.slot_of.end()) {
            Slot& sl = r.slots[static_cast<std::size_t>(slot->second)];
            if (alloc && sl.existing < 0 && sl.storage < 0) sl.storage = new_storage(sl.bytes, sl.cat);
            continue;  // kept: its nodes hold it below
        }
        const Storage& orig = storages_[static_cast<std::size_t>(s)];
        if (alloc) {
            again[s] = new_storage(orig.bytes, orig.cat, orig.name);
        } else if (auto it = again.find(s); it != again.end()) {
            maybe_free(it->second);
            again.erase(it);
        }
    }
    for (const auto& [s, t] : again) maybe_free(t);  // outlived the region in forward: dropped now
    for (Slot& sl : r.slots) {
        if (sl.existing >= 0)
            sl.storage = sl.existing;
        else if (sl.storage < 0)  // allocated outside the region's forward
            sl.storage = new_storage(sl.bytes, sl.cat);
    }
    for (int i = r.first_node; i <= r.last_node; ++i) {
        Node& n = nodes_[static_cast<std::size_t>(i)];
        for (int slot : n.slots) {
            const int s = r.slots[static_cast<std::size_t>(slot)].storage;
            ++storages_[static_cast<std::size_t>(s)].saved;
            n.saved.push_back(s);
        }
        n.slots.clear();
    }
    for (int s : r.cached) {  // popped from the cache by the recomputation
        --storages_[static_cast<std::size_t>(s)].py;
        maybe_free(s);
    }
    r.cached.clear();
    r.recomputed = true;
}

// The gradient `bytes` reaching x: computed by the node (allocated here) or, with shared >= 0,
// the node's output gradient itself (pass_gradient). view: the node hands it back as a view
// (a linear's matmul: the input gradient reshaped to the input's 3-D shape, the weight
// gradient transposed), which the InputBuffer cannot add to in place. A gradient reaching a
// tensor that already has one is returned (the storage to add) for accumulate(), which the
// engine runs once the node has released its saved tensors and incoming gradient; -1 otherwise.
int Sim::grad_into(V x, double bytes, bool view, int shared) {
    Value& v = values_[static_cast<std::size_t>(x)];
    int& target = v.is_param ? v.param_grad : v.grad;
    if (target < 0 && !(v.is_param && v.grad_exists)) {
        target = shared >= 0 ? shared : new_storage(bytes, v.is_param ? Cat::gradient : Cat::grad_flow);
        ++storages_[static_cast<std::size_t>(target)].grad_refs;
        if (v.is_param) storages_[static_cast<std::size_t>(target)].is_param = true;  // .grad outlives backward
        v.grad_view = view;
        return -1;
    }
    const int incoming = shared >= 0 ? shared : new_storage(bytes, Cat::grad_flow);
    ++storages_[static_cast<std::size_t>(incoming)].grad_refs;
    return incoming;
}

// Adds `incoming` to x's gradient. A parameter whose .grad exists (a later micro-batch):
// AccumulateGrad adds in place. Otherwise InputBuffer::accumulate: old += new in place if the
// buffered gradient is a plain tensor held only by the buffer, else old + new into a new tensor,
// both addends released (allocator histories: lm_head's and the embedding's gradients of a tied
// weight, the q/k/v and the gate/up projections' input gradients meet in an add_Tensor block
// allocated after the projection's saved input is freed; a gradient reaching the residual
// stream's shared one is added in place).
void Sim::accumulate(V x, int incoming) {
    Value& v = values_[static_cast<std::size_t>(x)];
    int& target = v.is_param ? v.param_grad : v.grad;
    if (!(v.is_param && v.grad_exists) &&
        (v.grad_view || storages_[static_cast<std::size_t>(target)].grad_refs > 1)) {
        const int old = target;
        const double bytes = storages_[static_cast<std::size_t>(old)].bytes;
        target = new_storage(bytes, v.is_param ? Cat::gradient : Cat::grad_flow);
        ++storages_[static_cast<std::size_t>(target)].grad_refs;
        if (v.is_param) {
            storages_[static_cast<std::size_t>(target)].is_param = true;
            storages_[static_cast<std::size_t>(old)].is_param = false;
        }
        v.grad_view = false;
        --storages_[static_cast<std::size_t>(old)].grad_refs;
        maybe_free(old);
    }
    --storages_[static_cast<std::size_t>(incoming)].grad_refs;
    maybe_free(incoming);
}

void Sim::backward(V loss) {
    in_backward_ = true;
    {
        const int g = new_storage(4, Cat::grad_flow);  // ones_like(loss)
        ++storages_[static_cast<std::size_t>(g)].grad_refs;
        values_[static_cast<std::size_t>(loss)].grad = g;
    }
    for (int i = static_cast<int>(nodes_.size()) - 1; i >= 0; --i) {
        Node& n = nodes_[static_cast<std::size_t>(i)];
        bool reached = false;
        for (V o : n.outputs)
            if (values_[static_cast<std::size_t>(o)].grad >= 0) reached = true;
        if (!reached) continue;
        // Non-reentrant checkpoint recomputes from its unpack hook: when backward first needs a
        // saved tensor of the region, not at its first node (a residual add saves nothing).
        if (n.region >= 0 && !n.slots.empty() && !regions_[static_cast<std::size_t>(n.region)].recomputed)
            recompute(regions_[static_cast<std::size_t>(n.region)]);
        where_ = "backward: " + n.where + " " + n.name;
        for (const auto& [bytes, cat] : n.alloc_before) pending_.push_back(new_storage(bytes, cat));
        std::vector<int> temps;
        const auto make_temps = [&] {
            for (double bytes : n.backward_temps) temps.push_back(new_storage(bytes, Cat::temporary));
        };
        if (n.temps_first) make_temps();
        std::vector<std::pair<V, int>> to_add;  // gradients for tensors that already have one
        for (auto it = n.inputs.rbegin(); it != n.inputs.rend(); ++it) {
            const V x = *it;
            const Value& in = values_[static_cast<std::size_t>(x)];
            const Value& out = values_[static_cast<std::size_t>(n.outputs[0])];
            const bool same = n.pass_through && !in.is_param &&
                              (n.pass_views || (in.dtype == out.dtype && in.elements == out.elements));
            const int add = grad_into(x, in.elements * (in.is_param ? in.param_grad_bytes : dtype_bytes(in.dtype)),
                                      n.name == "mm", same ? out.grad : -1);
            if (add >= 0) to_add.emplace_back(x, add);
            if (n.name == "mm" && first_mm_event_[1] < 0) first_mm_event_[1] = static_cast<int>(events_.size());
        }
        if (!n.temps_first) make_temps();
        for (auto it = temps.rbegin(); it != temps.rend(); ++it) maybe_free(*it);
        for (int s : n.saved) {
            --storages_[static_cast<std::size_t>(s)].saved;
            maybe_free(s);
        }
        n.saved.clear();
        for (std::size_t k = 0; k < n.free_after.size() && !pending_.empty(); ++k) {
            const int s = pending_.front();  // first allocated, first released (layers in order)
            pending_.erase(pending_.begin());
            maybe_free(s);
        }
        for (V o : n.outputs) {
            Value& out = values_[static_cast<std::size_t>(o)];
            if (out.grad < 0) continue;
            --storages_[static_cast<std::size_t>(out.grad)].grad_refs;
            maybe_free(out.grad);
            out.grad = -1;
        }
        for (const auto& [x, add] : to_add) accumulate(x, add);
        if (n.region >= 0 && regions_[static_cast<std::size_t>(n.region)].first_node == i) {
            for (int s : regions_[static_cast<std::size_t>(n.region)].inputs) {
                --storages_[static_cast<std::size_t>(s)].py;
                maybe_free(s);
            }
        }
    }
    where_ = "after backward";
    for (Node& n : nodes_) {
        for (int s : n.saved) {
            --storages_[static_cast<std::size_t>(s)].saved;
            maybe_free(s);
        }
        n.saved.clear();
    }
    for (V x : kept_) drop(x);
    kept_.clear();
    drop(loss);
}

}  // namespace llmplan::torchsim
