// shard_plan.cpp — units, ownership, buckets, the ZeRO-3 schedule and the per-step volumes of
// data parallelism and ZeRO 1–3; the rules and their sources are in shard_plan.h.
#include "engine/shard_plan.h"

#include "core/error.h"
#include "engine/program.h"

#include <algorithm>
#include <charconv>
#include <limits>

namespace llmplan::dist {

FlatLayout engine_flat_layout(const ModelSpec& spec) {
    FlatLayout out;
    for (EngineParamSlot& p : engine_param_layout(spec)) out.params.push_back({std::move(p.name), p.offset, p.size});
    if (spec.tied_embeddings) out.tied_head = "embed_tokens.weight";
    return out;
}

Range Unit::owned(int rank) const {
    if (shard == 0) return flat;  // DDP: replicated
    const std::size_t b = flat.begin + static_cast<std::size_t>(rank) * shard;
    const std::size_t e = b + shard;
    return {std::min(b, flat.end), std::min(e, flat.end)};
}

std::vector<int> compute_steps(const std::vector<FlatParam>& params, int* layers_out) {
    // layers.N.* → N + 1; before the first layer → 0; after the last → L + 1.
    std::vector<int> layer(params.size(), -1);
    int layers = 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const std::string& n = params[i].name;
        if (n.rfind("layers.", 0) != 0) continue;
        int v = 0;
        const char* first = n.data() + 7;
        const char* last = n.data() + n.size();
        const auto [ptr, ec] = std::from_chars(first, last, v);
        if (ec != std::errc() || ptr == first || ptr == last || *ptr != '.' || v < 0) continue;
        layer[i] = v;
        layers = std::max(layers, v + 1);
    }
    std::vector<int> steps(params.size(), 0);
    bool seen_layer = false;
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (layer[i] >= 0) {
            steps[i] = layer[i] + 1;
            seen_layer = true;
        } else {
            steps[i] = seen_layer ? layers + 1 : 0;
        }
    }
    if (layers_out) *layers_out = layers;
    return steps;
}

namespace {

std::size_t round_up(std::size_t x, std::size_t m) { return (x + m - 1) / m * m; }

void check(const FlatLayout& layout, const ShardOptions& o) {
    if (o.world < 1) throw InputError("shard plan: world size " + std::to_string(o.world) + ": needs at least 1 rank");
    if (o.zero < 0 || o.zero > 3) throw InputError("shard plan: ZeRO stage " + std::to_string(o.zero) + " is not 0, 1, 2 or 3");
    if (o.element_bytes == 0) throw InputError("shard plan: element size 0 bytes");
    if (o.align_bytes == 0 || o.align_bytes % o.element_bytes != 0)
        throw InputError("shard plan: alignment " + std::to_string(o.align_bytes) + " B is not a positive multiple of the " +
                         std::to_string(o.element_bytes) + " B element");
    if (o.bucket_cap_bytes < o.element_bytes)
        throw InputError("shard plan: bucket cap " + std::to_string(o.bucket_cap_bytes) + " B is smaller than one element");
    if (o.micro_batches < 1) throw InputError("shard plan: micro-batches " + std::to_string(o.micro_batches) + " < 1");
    if (layout.params.empty()) throw InputError("shard plan: the layout has no parameters");
    std::size_t offset = 0;
    for (const FlatParam& p : layout.params) {
        if (p.size == 0) throw InputError("shard plan: parameter " + p.name + " has no elements");
        if (p.offset != offset)
            throw InputError("shard plan: parameter " + p.name + " starts at " + std::to_string(p.offset) + ", expected " +
                             std::to_string(offset) + " (the layout must be contiguous from 0, in order)");
        offset += p.size;
    }
    if (!layout.tied_head.empty() &&
        std::none_of(layout.params.begin(), layout.params.end(), [&](const FlatParam& p) { return p.name == layout.tied_head; }))
        throw InputError("shard plan: tied parameter " + layout.tied_head + " is not in the layout");
}

// Gradient buckets in backward order (reverse layout): close a bucket before it would pass its cap.
std::vector<Unit> make_buckets(const ShardPlan& s) {
    const ShardOptions& o = s.options;
    std::vector<Unit> out;
    const std::size_t n = s.params.size();
    std::size_t end = n;  // params [i, end) in the open bucket
    std::size_t bytes = 0;
    auto cap = [&]() {
        return out.empty() && o.first_bucket_bytes > 0 ? o.first_bucket_bytes : o.bucket_cap_bytes;
    };
    auto close = [&](std::size_t first) {
        Unit u;
        u.index = static_cast<int>(out.size());
        u.name = "bucket " + std::to_string(u.index);
        u.first_param = first;
        u.last_param = end;
        u.flat = {s.params[first].offset, s.params[end - 1].offset + s.params[end - 1].size};
        int ready = std::numeric_limits<int>::max();
        for (std::size_t k = first; k < end; ++k) ready = std::min(ready, s.param_step[k]);
        u.ready_after_step = ready;
        out.push_back(u);
        end = first;
        bytes = 0;
    };
    for (std::size_t i = n; i-- > 0;) {
        const std::size_t b = s.params[i].size * o.element_bytes;
        if (bytes > 0 && bytes + b > cap()) close(i + 1);
        bytes += b;
    }
    if (end > 0) close(0);
    return out;
}

// ZeRO-3 units: pre, layers.0 … layers.L−1, post (empty ones skipped), in layout order.
std::vector<Unit> make_layer_units(const ShardPlan& s) {
    std::vector<Unit> out;
    std::size_t i = 0;
    while (i < s.params.size()) {
        std::size_t j = i;
        while (j < s.params.size() && s.param_step[j] == s.param_step[i]) ++j;
        Unit u;
        u.index = static_cast<int>(out.size());
        const int step = s.param_step[i];
        u.name = step == 0 ? "pre" : step == s.layers + 1 ? "post" : "layers." + std::to_string(step - 1);
        u.first_param = i;
        u.last_param = j;
        u.flat = {s.params[i].offset, s.params[j - 1].offset + s.params[j - 1].size};
        u.ready_after_step = step;
        out.push_back(u);
        i = j;
    }
    return out;
}

PassSchedule make_pass(const ShardPlan& s, bool forward, const std::vector<int>& unit_of_step, int tied_unit) {
    PassSchedule p;
    const int steps = s.layers + 2;
    for (int k = 0; k < steps; ++k) p.steps.push_back(forward ? k : steps - 1 - k);
    const std::size_t U = s.units.size();
    std::vector<int> first(U, -1), last(U, -1);
    for (int pos = 0; pos < steps; ++pos) {
        const int step = p.steps[static_cast<std::size_t>(pos)];
        std::vector<int> uses;
        if (unit_of_step[static_cast<std::size_t>(step)] >= 0) uses.push_back(unit_of_step[static_cast<std::size_t>(step)]);
        if (tied_unit >= 0 && step == s.layers + 1) uses.push_back(tied_unit);  // the head reads the tied embedding
        for (const int u : uses) {
            if (first[static_cast<std::size_t>(u)] < 0) first[static_cast<std::size_t>(u)] = pos;
            last[static_cast<std::size_t>(u)] = pos;
        }
    }
    for (std::size_t u = 0; u < U; ++u) {
        if (first[u] < 0) continue;
        // One-step prefetch: issued when the step before its first use starts.
        p.gathers.push_back({static_cast<int>(u), std::max(0, first[u] - 1), first[u], last[u]});
        if (!forward) p.reduces.push_back({static_cast<int>(u), last[u]});
    }
    std::stable_sort(p.gathers.begin(), p.gathers.end(), [](const GatherEvent& a, const GatherEvent& b) {
        return a.first_use != b.first_use ? a.first_use < b.first_use : a.unit < b.unit;
    });
    std::stable_sort(p.reduces.begin(), p.reduces.end(), [](const ReduceEvent& a, const ReduceEvent& b) {
        return a.after != b.after ? a.after < b.after : a.unit < b.unit;
    });
    for (int pos = 0; pos < steps; ++pos) {
        std::size_t resident = 0;
        for (const GatherEvent& g : p.gathers)
            if (g.issue_at <= pos && pos <= g.last_use) resident += s.units[static_cast<std::size_t>(g.unit)].padded;
        p.max_gathered = std::max(p.max_gathered, resident);
    }
    return p;
}

}  // namespace

ShardPlan plan_shards(const FlatLayout& layout, const ShardOptions& o) {
    check(layout, o);
    ShardPlan s;
    s.options = o;
    s.align_elements = o.align_bytes / o.element_bytes;
    s.params = layout.params;
    s.tied_head = layout.tied_head;
    s.param_step = compute_steps(s.params, &s.layers);
    s.total = layout.total();
    const auto n = static_cast<std::size_t>(o.world);
    const bool sharded = o.zero >= 1;
    const std::size_t quantum = n * s.align_elements;  // every padded unit is a multiple of it

    s.units = o.zero == 3 ? make_layer_units(s) : make_buckets(s);
    std::size_t shard_offset = 0;
    for (Unit& u : s.units) {
        u.padded = sharded ? round_up(u.flat.size(), quantum) : u.flat.size();
        u.shard = sharded ? u.padded / n : 0;
        u.shard_offset = sharded ? shard_offset : u.flat.begin;
        shard_offset += u.shard;
        s.padded_total += u.padded;
    }
    s.shard_elements = sharded ? s.padded_total / n : 0;

    // Ownership: the pieces of every parameter, rank by rank.
    s.ownership.resize(s.params.size());
    for (const Unit& u : s.units) {
        for (std::size_t i = u.first_param; i < u.last_param; ++i) {
            ParamOwnership& w = s.ownership[i];
            w.param = i;
            w.unit = u.index;
            w.step = s.param_step[i];
            const FlatParam& p = s.params[i];
            for (int r = 0; r < o.world; ++r) {
                if (!sharded) {
                    w.pieces.push_back({r, 0, p.size, p.offset, p.offset});
                    continue;
                }
                const Range own = u.owned(r);
                const std::size_t b = std::max(own.begin, p.offset), e = std::min(own.end, p.offset + p.size);
                if (b >= e) continue;
                w.pieces.push_back({r, b - p.offset, e - b, b, u.shard_offset + (b - own.begin)});
            }
        }
    }

    // Per-rank storage between steps.
    const std::size_t shard = s.shard_elements;
    s.param_elements_per_rank = o.zero >= 3 ? shard : s.total;
    s.grad_elements_per_rank = o.zero >= 2 ? shard : s.total;
    s.optimizer_elements_per_rank = o.zero >= 1 ? shard : s.total;

    // ZeRO-3: the forward and backward schedules.
    if (o.zero == 3) {
        std::vector<int> unit_of_step(static_cast<std::size_t>(s.layers + 2), -1);
        for (const Unit& u : s.units) unit_of_step[static_cast<std::size_t>(u.ready_after_step)] = u.index;
        int tied_unit = -1;
        if (!s.tied_head.empty())
            for (std::size_t i = 0; i < s.params.size(); ++i)
                if (s.params[i].name == s.tied_head) tied_unit = s.ownership[i].unit;
        s.forward = make_pass(s, true, unit_of_step, tied_unit);
        s.backward = make_pass(s, false, unit_of_step, tied_unit);
    }

    // The step's collectives.
    const int m = o.micro_batches;
    const std::size_t eb = o.element_bytes;
    auto call = [&](CommKind kind, std::string phase, const Unit& u, int per_step) {
        CommCall c;
        c.kind = kind;
        c.phase = std::move(phase);
        c.unit = u.index;
        c.bytes = static_cast<std::uint64_t>(u.padded) * eb;
        c.unpadded_bytes = static_cast<std::uint64_t>(u.flat.size()) * eb;
        c.count = kind == CommKind::all_reduce ? u.padded : u.shard;
        c.per_step = per_step;
        s.calls.push_back(c);
    };
    if (o.world > 1) {
        if (o.zero == 0) {
            for (const Unit& u : s.units) call(CommKind::all_reduce, "backward", u, 1);
        } else if (o.zero <= 2) {
            for (const Unit& u : s.units) call(CommKind::reduce_scatter, "backward", u, o.zero == 2 ? m : 1);
            for (const Unit& u : s.units) call(CommKind::all_gather, "after optimizer", u, 1);
        } else {
            for (const GatherEvent& g : s.forward.gathers)
                call(CommKind::all_gather, "forward", s.units[static_cast<std::size_t>(g.unit)], m);
            // Backward: gathers and reduce-scatters interleaved by position.
            std::size_t gi = 0, ri = 0;
            const auto& G = s.backward.gathers;
            const auto& R = s.backward.reduces;
            while (gi < G.size() || ri < R.size()) {
                if (ri >= R.size() || (gi < G.size() && G[gi].issue_at <= R[ri].after)) {
                    call(CommKind::all_gather, "backward", s.units[static_cast<std::size_t>(G[gi++].unit)], m);
                } else {
                    call(CommKind::reduce_scatter, "backward", s.units[static_cast<std::size_t>(R[ri++].unit)], m);
                }
            }
        }
    }
    auto purpose_of = [&](const CommCall& c) -> std::string {
        if (c.kind == CommKind::all_reduce) return "gradient all-reduce";
        if (c.kind == CommKind::reduce_scatter) return "gradient reduce-scatter";
        if (o.zero == 3) return "parameter all-gather, " + c.phase;
        return "parameter all-gather";
    };
    for (const CommCall& c : s.calls) {
        const std::string purpose = purpose_of(c);
        auto it = std::find_if(s.volumes.begin(), s.volumes.end(), [&](const CommVolume& v) { return v.purpose == purpose; });
        if (it == s.volumes.end()) {
            CommVolume v;
            v.kind = c.kind;
            v.purpose = purpose;
            s.volumes.push_back(v);
            it = s.volumes.end() - 1;
        }
        const auto k = static_cast<std::uint64_t>(c.per_step);
        it->calls_per_step += k;
        it->bytes_per_step += k * c.bytes;
        it->unpadded_bytes_per_step += k * c.unpadded_bytes;
    }
    for (CommVolume& v : s.volumes)
        v.link_bytes_per_step = static_cast<double>(v.bytes_per_step) * busbw_factor(v.kind, o.world);
    return s;
}

const CommVolume* ShardPlan::volume(const std::string& purpose) const {
    for (const CommVolume& v : volumes)
        if (v.purpose == purpose) return &v;
    return nullptr;
}

std::uint64_t ShardPlan::bytes_per_step(CommKind k) const {
    std::uint64_t b = 0;
    for (const CommVolume& v : volumes)
        if (v.kind == k) b += v.bytes_per_step;
    return b;
}

std::uint64_t ShardPlan::unpadded_bytes_per_step(CommKind k) const {
    std::uint64_t b = 0;
    for (const CommVolume& v : volumes)
        if (v.kind == k) b += v.unpadded_bytes_per_step;
    return b;
}

double ShardPlan::link_bytes_per_step() const {
    double b = 0;
    for (const CommVolume& v : volumes) b += v.link_bytes_per_step;
    return b;
}

}  // namespace llmplan::dist
