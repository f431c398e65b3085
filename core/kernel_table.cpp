#include "core/kernel_table.h"

#include "core/error.h"
#include "core/file.h"
#include "core/kernel_table_texts.h"
#include "core/quantity.h"
#include "core/text.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <map>
#include <unordered_map>
#include <nlohmann/json.hpp>

namespace llmplan {

namespace {

using Json = nlohmann::json;

const Json& member(const Json& o, const char* key, const std::string& where, const std::string& what) {
    if (!o.is_object() || !o.contains(key)) throw InputError(what + ": " + where + "." + key + " is missing");
    return o.at(key);
}
// A positive number no larger than `max` (sizes: 1e15; TFLOP/s: 1e6, a thousand times any GPU's
// peak; GB/s: 1e7), so that no rate or time derived from it overflows.
double positive(const Json& o, const char* key, const std::string& where, const std::string& what, double max = 1e15) {
    const Json& v = member(o, key, where, what);
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0)
        throw InputError(what + ": " + where + "." + key + " must be a positive number (is " + v.dump() + ")");
    if (v.get<double>() > max)
        throw InputError(what + ": " + where + "." + key + " must be at most " + format_fixed(max, 0) + " (is " + v.dump() + ")");
    return v.get<double>();
}
constexpr double kMaxTflops = 1e6, kMaxGbps = 1e7;
std::string text(const Json& o, const char* key, const std::string& where, const std::string& what) {
    const Json& v = member(o, key, where, what);
    if (!v.is_string() || v.get<std::string>().empty())
        throw InputError(what + ": " + where + "." + key + " must be a non-empty string (is " + v.dump() + ")");
    return v.get<std::string>();
}
const Json* rows(const Json& doc, const char* key, const std::string& what) {
    if (!doc.contains(key)) return nullptr;
    if (!doc.at(key).is_array()) throw InputError(what + ": " + key + " must be a list of rows");
    return &doc.at(key);
}

// Linear interpolation in log2(x) over points sorted by x (equal x averaged by the caller),
// clamped to the first and last point.
double interp_log(const std::vector<std::pair<double, double>>& pts, double x) {
    if (x <= pts.front().first) return pts.front().second;
    if (x >= pts.back().first) return pts.back().second;
    const auto hi = std::upper_bound(pts.begin(), pts.end(), x, [](double v, const auto& p) { return v < p.first; });
    const auto lo = hi - 1;
    const double f = std::log2(x / lo->first) / std::log2(hi->first / lo->first);
    return lo->second + f * (hi->second - lo->second);
}

// Points (x, value) with rows of one x averaged, sorted by x.
std::vector<std::pair<double, double>> averaged(const std::vector<std::pair<double, double>>& raw) {
    std::map<double, std::pair<double, int>> by_x;
    for (const auto& [x, v] : raw) {
        by_x[x].first += v;
        ++by_x[x].second;
    }
    std::vector<std::pair<double, double>> out;
    for (const auto& [x, s] : by_x) out.emplace_back(x, s.first / s.second);
    return out;
}

std::string clamp_note(const char* name, double asked, double lo, double hi, double& x) {
    x = std::clamp(asked, lo, hi);
    if (x == asked) return "";
    return std::string(name) + " " + format_fixed(asked, 0) + " → " + format_fixed(x, 0);
}
void add_note(std::string& notes, const std::string& n) {
    if (n.empty()) return;
    notes += (notes.empty() ? "" : ", ") + n;
}

}  // namespace

namespace {
std::uint64_t next_lookup_cache_id() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1);
}
}  // namespace

KernelTable parse_kernel_table(const std::string& json_text, const std::string& what) {
    const Json doc = parse_json_text<Json>(json_text, what);
    if (!doc.is_object()) throw InputError(what + ": a kernel table must be a JSON object");
    const Json& schema = member(doc, "schema", "", what);
    if (!schema.is_string() || schema.get<std::string>() != kKernelTableSchema)
        throw InputError(what + ": schema must be \"" + kKernelTableSchema + "\" (is " + schema.dump() + ")");
    KernelTable t;
    t.name = what;
    if (doc.contains("meta") && doc.at("meta").is_object()) {
        const Json& meta = doc.at("meta");
        if (meta.contains("device") && meta.at("device").is_string()) t.device = meta.at("device").get<std::string>();
        if (meta.contains("date_utc") && meta.at("date_utc").is_string()) t.date = meta.at("date_utc").get<std::string>();
    }
    if (const Json* g = rows(doc, "gemm", what)) {
        for (std::size_t i = 0; i < g->size(); ++i) {
            const std::string where = "gemm[" + std::to_string(i) + "]";
            const Json& r = g->at(i);
            t.gemm.push_back({text(r, "dtype", where, what), positive(r, "m", where, what), positive(r, "n", where, what),
                              positive(r, "k", where, what), positive(r, "tflops", where, what, kMaxTflops)});
        }
    }
    if (const Json* a = rows(doc, "attention", what)) {
        for (std::size_t i = 0; i < a->size(); ++i) {
            const std::string where = "attention[" + std::to_string(i) + "]";
            const Json& r = a->at(i);
            KernelAttentionRow row{text(r, "backend", where, what), positive(r, "seq", where, what),
                                   positive(r, "heads", where, what), positive(r, "kv_heads", where, what),
                                   positive(r, "head_dim", where, what), true,
                                   positive(r, "fwd_tflops", where, what, kMaxTflops),
                                   positive(r, "bwd_tflops", where, what, kMaxTflops)};
            const Json& c = member(r, "causal", where, what);
            if (!c.is_boolean()) throw InputError(what + ": " + where + ".causal must be true or false (is " + c.dump() + ")");
            row.causal = c.get<bool>();
            if (row.kv_heads > row.heads)
                throw InputError(what + ": " + where + ".kv_heads must not exceed heads (" + format_fixed(row.kv_heads, 0) + " > " +
                                 format_fixed(row.heads, 0) + ")");
            t.attention.push_back(row);
        }
    }
    if (const Json* mb = rows(doc, "memory_bound", what)) {
        for (std::size_t i = 0; i < mb->size(); ++i) {
            const std::string where = "memory_bound[" + std::to_string(i) + "]";
            const Json& r = mb->at(i);
            t.memory_bound.push_back({text(r, "op", where, what), positive(r, "bytes", where, what), positive(r, "gbps", where, what, kMaxGbps)});
        }
    }
    if (t.gemm.empty() && t.attention.empty() && t.memory_bound.empty())
        throw InputError(what + ": gemm, attention and memory_bound are all missing or empty: nothing to use");
    t.lookup_cache_id = next_lookup_cache_id();
    return t;
}

KernelTable read_kernel_table(const std::string& path, const std::string& flag) {
    const std::string what = flag + " " + path;
    return parse_kernel_table(read_text_file(path, flag), what);
}

const KernelTable* builtin_kernel_table(std::string_view key) {
    static const std::vector<KernelTable> tables = [] {
        std::vector<KernelTable> v;
        for (const KernelTableText& t : bundled_kernel_tables()) {
            v.push_back(parse_kernel_table(std::string(t.json), "validation/kernels/kernel_tables_" + std::string(t.key) + ".json"));
            v.back().name = std::string(t.key);
        }
        return v;
    }();
    for (const KernelTable& t : tables)
        if (t.name == key) return &t;
    return nullptr;
}

std::vector<std::string> builtin_kernel_table_keys() {
    std::vector<std::string> keys;
    for (const KernelTableText& t : bundled_kernel_tables()) keys.emplace_back(t.key);
    return keys;
}

KernelTable merge_kernel_tables(const KernelTable& base, const KernelTable& over) {
    KernelTable t = over;
    t.gemm.clear();
    t.attention.clear();
    t.memory_bound.clear();
    auto keep = [](const auto& base_rows, const auto& over_rows, auto key, auto& out) {
        for (const auto& r : base_rows)
            if (std::none_of(over_rows.begin(), over_rows.end(), [&](const auto& o) { return key(o) == key(r); })) out.push_back(r);
        out.insert(out.end(), over_rows.begin(), over_rows.end());
    };
    keep(base.gemm, over.gemm, [](const KernelGemmRow& r) { return r.dtype; }, t.gemm);
    keep(base.attention, over.attention, [](const KernelAttentionRow& r) { return r.backend; }, t.attention);
    keep(base.memory_bound, over.memory_bound, [](const KernelMemoryRow& r) { return r.op; }, t.memory_bound);
    t.lookup_cache_id = next_lookup_cache_id();
    return t;
}

namespace {
KernelLookup gemm_tflops_computed(const KernelTable& t, std::string_view dtype, double m, double n, double k);
KernelLookup attention_tflops_computed(const KernelTable& t, std::string_view backend, double seq, double head_dim, bool causal,
                                       double gqa_ratio);
KernelLookup memory_gbps_computed(const KernelTable& t, std::string_view op, double bytes);

// The lookups of one thread remembered by (table, kind, name, arguments): a search plans thousands
// of layouts whose GEMMs, attention and copies share a few hundred shapes. Only for a table whose
// rows do not change (KernelTable::lookup_cache_id); bounded: cleared at 2^16 results.
template <typename Compute>
KernelLookup remembered(const KernelTable& t, char kind, std::string_view name, std::array<double, 4> args, Compute&& compute) {
    if (t.lookup_cache_id == 0) return compute();
    struct Key {
        std::uint64_t table;
        char kind;
        std::string name;
        std::array<double, 4> args;
        bool operator==(const Key&) const = default;
    };
    struct Hash {
        std::size_t operator()(const Key& key) const {
            std::size_t h = std::hash<std::uint64_t>{}(key.table) * 31u + static_cast<std::size_t>(key.kind);
            h = h * 1000003u ^ std::hash<std::string>{}(key.name);
            for (double v : key.args) h = h * 1000003u ^ std::hash<double>{}(v);
            return h;
        }
    };
    thread_local std::unordered_map<Key, KernelLookup, Hash> memo;
    Key key{t.lookup_cache_id, kind, std::string(name), args};
    if (const auto it = memo.find(key); it != memo.end()) return it->second;
    if (memo.size() >= (1u << 16)) memo.clear();
    KernelLookup out = compute();
    memo.emplace(std::move(key), out);
    return out;
}
}  // namespace

KernelLookup gemm_tflops(const KernelTable& t, std::string_view dtype, double m, double n, double k) {
    return remembered(t, 'g', dtype, {m, n, k, 0}, [&] { return gemm_tflops_computed(t, dtype, m, n, k); });
}

KernelLookup attention_tflops(const KernelTable& t, std::string_view backend, double seq, double head_dim, bool causal,
                              double gqa_ratio) {
    return remembered(t, causal ? 'C' : 'a', backend, {seq, head_dim, gqa_ratio, 0},
                      [&] { return attention_tflops_computed(t, backend, seq, head_dim, causal, gqa_ratio); });
}

KernelLookup memory_gbps(const KernelTable& t, std::string_view op, double bytes) {
    return remembered(t, 'm', op, {bytes, 0, 0, 0}, [&] { return memory_gbps_computed(t, op, bytes); });
}

namespace {
KernelLookup gemm_tflops_computed(const KernelTable& t, std::string_view dtype, double m, double n, double k) {
    KernelLookup out;
    if (!(m > 0) || !(n > 0) || !(k > 0)) return out;
    std::array<double, 3> lo{1e300, 1e300, 1e300}, hi{0, 0, 0};  // the measured range of m, n, k
    for (const KernelGemmRow& r : t.gemm) {
        if (r.dtype != dtype) continue;
        const std::array<double, 3> x{r.m, r.n, r.k};
        for (int i = 0; i < 3; ++i) {
            lo[i] = std::min(lo[i], x[i]);
            hi[i] = std::max(hi[i], x[i]);
        }
    }
    if (hi[0] == 0) return out;  // no rows of the dtype
    const std::array<double, 3> asked{m, n, k};
    const char* names[] = {"m", "n", "k"};
    std::array<double, 3> q{};
    for (int i = 0; i < 3; ++i) {
        double x = 0;
        add_note(out.clamped, clamp_note(names[i], asked[i], lo[i], hi[i], x));
        q[i] = std::log2(x);
    }
    // Every row's squared distance in log2 space, nearest first; rows of one point (equal m, n, k)
    // are then merged into their mean.
    struct Near {
        double d2;
        const KernelGemmRow* row;
    };
    std::vector<Near> near;
    near.reserve(t.gemm.size());
    for (const KernelGemmRow& r : t.gemm) {
        if (r.dtype != dtype) continue;
        const double a = std::log2(r.m) - q[0], b = std::log2(r.n) - q[1], c = std::log2(r.k) - q[2];
        near.push_back({a * a + b * b + c * c, &r});
    }
    std::stable_sort(near.begin(), near.end(), [](const Near& x, const Near& y) { return x.d2 < y.d2; });  // ties: row order
    struct Point {
        double d2, sum;
        int count;
        const KernelGemmRow* row;
    };
    std::vector<Point> points;  // the nearest distinct points, at most kKernelTableNeighbours
    for (const Near& e : near) {
        auto same = std::find_if(points.begin(), points.end(), [&](const Point& p) {
            return p.row->m == e.row->m && p.row->n == e.row->n && p.row->k == e.row->k;
        });
        if (same != points.end()) {
            same->sum += e.row->tflops;
            ++same->count;
            continue;
        }
        if (static_cast<int>(points.size()) == kKernelTableNeighbours) {
            if (e.d2 > points.back().d2) break;  // farther than every kept point: no more merging either
            continue;
        }
        points.push_back({e.d2, e.row->tflops, 1, e.row});
    }
    if (points.front().d2 < 1e-18) {  // a measured point: its value
        out.value = points.front().sum / points.front().count;
        return out;
    }
    double wsum = 0, vsum = 0;
    for (const Point& p : points) {
        const double w = 1 / p.d2;
        wsum += w;
        vsum += w * p.sum / p.count;
    }
    out.value = vsum / wsum;
    return out;
}

KernelLookup attention_tflops_computed(const KernelTable& t, std::string_view backend, double seq, double head_dim, bool causal,
                                       double gqa_ratio) {
    KernelLookup out;
    bool mask = causal;
    auto has = [&](bool c) {
        return std::any_of(t.attention.begin(), t.attention.end(), [&](const KernelAttentionRow& r) { return r.backend == backend && r.causal == c; });
    };
    if (!has(mask)) {
        if (!has(!mask) || !(seq > 0) || !(head_dim > 0) || !(gqa_ratio > 0)) return out;
        mask = !mask;
        add_note(out.clamped, std::string(causal ? "causal" : "non-causal") + " → " + (mask ? "causal" : "non-causal") + " rows");
    }
    // Lines of sequence length by (GQA ratio, head_dim).
    struct Line {
        std::vector<std::pair<double, double>> fwd, bwd;
    };
    std::map<double, std::map<double, Line>> lines;  // ratio -> head_dim -> line
    for (const KernelAttentionRow& r : t.attention) {
        if (r.backend != backend || r.causal != mask) continue;
        Line& l = lines[r.heads / r.kv_heads][r.head_dim];
        l.fwd.emplace_back(r.seq, r.fwd_tflops);
        l.bwd.emplace_back(r.seq, r.bwd_tflops);
    }
    double seq_lo = 1e300, seq_hi = 0;
    for (auto& [ratio, by_dim] : lines)
        for (auto& [dim, l] : by_dim) {
            l.fwd = averaged(l.fwd);
            l.bwd = averaged(l.bwd);
            seq_lo = std::min(seq_lo, l.fwd.front().first);
            seq_hi = std::max(seq_hi, l.fwd.back().first);
        }
    double x = 0;
    add_note(out.clamped, clamp_note("seq", seq, seq_lo, seq_hi, x));
    // Per ratio: each head_dim line at seq, then across head_dim; then across ratios.
    std::vector<std::pair<double, double>> by_ratio_f, by_ratio_b;
    double dim_lo = 1e300, dim_hi = 0, ratio_lo = 1e300, ratio_hi = 0;
    for (const auto& [ratio, by_dim] : lines) {
        std::vector<std::pair<double, double>> f, b;
        for (const auto& [dim, l] : by_dim) {
            f.emplace_back(dim, interp_log(l.fwd, seq));
            b.emplace_back(dim, interp_log(l.bwd, seq));
            dim_lo = std::min(dim_lo, dim);
            dim_hi = std::max(dim_hi, dim);
        }
        by_ratio_f.emplace_back(ratio, interp_log(f, head_dim));
        by_ratio_b.emplace_back(ratio, interp_log(b, head_dim));
        ratio_lo = std::min(ratio_lo, ratio);
        ratio_hi = std::max(ratio_hi, ratio);
    }
    add_note(out.clamped, clamp_note("head_dim", head_dim, dim_lo, dim_hi, x));
    add_note(out.clamped, clamp_note("GQA ratio", gqa_ratio, ratio_lo, ratio_hi, x));
    out.value = interp_log(by_ratio_f, gqa_ratio);
    out.backward = interp_log(by_ratio_b, gqa_ratio);
    return out;
}

KernelLookup memory_gbps_computed(const KernelTable& t, std::string_view op, double bytes) {
    KernelLookup out;
    std::vector<std::pair<double, double>> pts;
    for (const KernelMemoryRow& r : t.memory_bound)
        if (r.op == op) pts.emplace_back(r.bytes, r.gbps);
    if (pts.empty() || !(bytes > 0)) return out;
    pts = averaged(pts);
    double x = 0;
    add_note(out.clamped, clamp_note((std::string(op) + " bytes").c_str(), bytes, pts.front().first, pts.back().first, x));
    out.value = interp_log(pts, bytes);
    return out;
}

}  // namespace

}  // namespace llmplan
