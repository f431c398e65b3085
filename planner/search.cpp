// search.cpp — enumerate layouts, plan each, keep the best; see search.h.
#include "planner/search.h"

#include "core/error.h"
#include "planner/framework.h"
#include "planner/memory.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace llmplan {

namespace {

std::vector<int> divisors(int n) {
    std::vector<int> d;
    for (int i = 1; i <= n; ++i)
        if (n % i == 0) d.push_back(i);
    return d;
}

std::string layout_name(const TrainConfig& c) {
    const ParallelLayout& p = c.parallel;
    std::ostringstream s;
    s << "tp " << p.tp << (p.sp ? "+sp" : "") << ", pp " << p.pp;
    if (p.virtual_stages > 1) s << "×" << p.virtual_stages;
    if (!p.split.even()) s << " (uneven stages)";
    if (p.cp > 1) s << ", cp " << p.cp;
    s << ", dp " << p.dp() << ", ZeRO-" << p.zero << ", micro-batch " << c.micro_batch << ", recompute "
      << to_string(c.recompute);
    return s.str();
}

std::string pct(double v) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(1);
    s << 100 * v << "%";
    return s.str();
}

std::string secs(double v) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(v < 1 ? 1 : 2);
    if (v < 1)
        s << v * 1e3 << " ms";
    else
        s << v << " s";
    return s.str();
}

// Why the winner beats another layout: the step-time components that differ most.
std::string compare(const SearchCandidate& w, const SearchCandidate& o) {
    struct Part {
        const char* what;
        double winner, other;
    };
    const Part parts[] = {{"compute", w.compute_seconds, o.compute_seconds},
                          {"pipeline bubble", w.bubble_seconds, o.bubble_seconds},
                          {"exposed communication", w.comm_exposed_seconds, o.comm_exposed_seconds},
                          {"optimizer step", w.optimizer_seconds, o.optimizer_seconds},
                          {"MoE host work", w.moe_host_seconds, o.moe_host_seconds}};
    std::vector<Part> sorted(std::begin(parts), std::end(parts));
    std::sort(sorted.begin(), sorted.end(),
              [](const Part& a, const Part& b) { return (a.other - a.winner) > (b.other - b.winner); });
    std::ostringstream s;
    s << secs(o.step_seconds - w.step_seconds) << " per step faster than " << layout_name(o.config) << ": ";
    int shown = 0;
    for (const Part& p : sorted) {
        if (p.other - p.winner <= 1e-6 * w.step_seconds || shown == 2) continue;
        s << (shown ? "; " : "") << p.what << " " << secs(p.winner) << " vs " << secs(p.other);
        ++shown;
    }
    if (shown == 0) s << "the same components, marginally smaller";
    return s.str();
}

}  // namespace

SearchResult search_layouts(const ModelSpec& model, const GpuSpec& gpu, const TrainConfig& base_in,
                            const ClusterSpec& cluster, const PerfOptions& options, const SearchSpace& space,
                            SearchRank rank, std::size_t top_n,
                            const std::function<void(std::size_t, std::size_t)>& progress) {
    const auto start = std::chrono::steady_clock::now();
    validate_model(model, "model " + model.name);
    TrainConfig base = base_in;
    const int G = base.parallel.gpus;
    if (G < 1) throw InputError("--gpus " + std::to_string(G) + ": must be a positive integer");
    if (base.seq <= 0) base.seq = default_seq(model);
    if (base.global_batch <= 0) {
        // About 4M tokens per step (a power of two of sequences), at least one sequence per GPU.
        std::int64_t g = 1;
        while (g * 2 * base.seq <= (std::int64_t{1} << 22)) g *= 2;
        while (g < G) g *= 2;
        base.global_batch = g;
    }
    for (int ep : space.ep) {
        if (ep > 1 && !model.is_moe())
            throw InputError("--ep " + std::to_string(ep) + " needs a mixture-of-experts model; " + model.name + " is dense");
        if (ep < 1 || (model.is_moe() && model.n_experts % ep))
            throw InputError("--ep " + std::to_string(ep) + " does not divide the " + std::to_string(model.n_experts) +
                             " experts of " + model.name);
    }
    if (space.etp.empty()) throw InputError("--etp: give 1, tp or both (1,tp)");
    for (int etp : space.etp)
        if (etp != 0 && etp != 1) throw InputError("--etp " + std::to_string(etp) + ": search tries 1 or tp");
    const int max_tp = space.max_tp > 0 ? space.max_tp : base.parallel.gpus_per_node;
    const std::vector<ParamTensor> tensors = param_tensors(model);
    const ParamBreakdown params = count_params(model);

    // The combinations, built first so progress can say how far along the search is.
    std::vector<TrainConfig> todo;
    for (int tp : divisors(G)) {
        if (tp > max_tp || model.n_heads % tp || model.n_kv_heads % tp || model.d_ff % tp) continue;
        if (model.is_moe() && (model.expert_d_ff() % tp || model.shared_d_ff % tp)) continue;
        for (int cp : space.cp) {
            if (cp < 1 || (G / tp) % cp || base.seq % cp || (cp > 1 && base.attention != Attention::flash)) continue;
            for (int pp : divisors(G / (tp * cp))) {
                if (pp > model.n_layers || (space.max_pp > 0 && pp > space.max_pp)) continue;
                // A pipeline size that does not divide the layers gets the balanced split
                // (core/config.h PipelineSplit::balanced); with interleaving, where p·v does not
                // divide them, the split plan gives by default (default_pipeline_split: the
                // embedding and the loss counted as layers where that divides, as NVIDIA's recipes).
                const bool uneven = model.n_layers % pp != 0;
                const int dp = G / (tp * cp * pp);
                if (base.global_batch % dp) continue;
                const std::int64_t per_rank = base.global_batch / dp;
                // Expert parallelism splits the experts over ranks of the data × context group.
                // With the experts whole on each rank (etp 1, tp > 1) over tp × data × context.
                std::vector<std::pair<int, int>> eps{{1, 0}};  // (ep, etp; 0 = tp)
                if (model.is_moe()) {
                    eps.clear();
                    std::vector<int> etps = space.etp;
                    if (tp == 1) etps = {0};  // etp 1 is etp = tp
                    ParallelLayout probe = base.parallel;  // ep must fit tp × cp × dp (expert_shard_group)
                    probe.tp = tp, probe.cp = cp, probe.pp = pp;
                    for (int etp : etps) {
                        probe.etp = etp;
                        for (int ep : space.ep.empty() ? divisors(model.n_experts) : space.ep) {
                            probe.ep = ep;
                            if (ep >= 1 && model.n_experts % ep == 0 && probe.expert_shard_group() > 0) eps.emplace_back(ep, etp);
                        }
                    }
                }
                for (const auto& [ep, etp] : eps)
                for (int v : space.virtual_stages) {
                    if (v > 1 && pp == 1) continue;
                    PipelineSplit split;  // equal stages
                    if (v == 1 && uneven) split.balanced = true;
                    if (v > 1 && model.n_layers % (pp * v)) {
                        split = default_pipeline_split(model.n_layers, pp, v);
                        if (split.even()) continue;  // no split places every layer
                        split.chosen_by_llmplan = false;  // search's own choice, shown as "(uneven)"
                    }
                    for (bool sp : {false, true}) {
                        if (sp && (tp == 1 || base.seq % tp)) continue;
                        if (etp == 1 && !sp) continue;  // Megatron: MoE under tensor parallelism needs sequence parallelism
                        for (int zero : space.zero) {
                            if (zero > 0 && dp * cp == 1) continue;  // nothing to shard
                            for (Recompute rc : space.recompute) {
                                std::vector<std::int64_t> mbs = space.micro_batches;
                                if (mbs.empty())
                                    for (std::int64_t b = 1; b <= 64; b *= 2) mbs.push_back(b);
                                for (std::int64_t mb : mbs) {
                                    if (mb < 1 || per_rank % mb) continue;
                                    // Interleaving needs whole rounds of pp micro-batches (Megatron).
                                    if (v > 1 && (per_rank / mb) % pp) continue;
                                    TrainConfig c = base;
                                    c.parallel.tp = tp;
                                    c.parallel.cp = cp;
                                    c.parallel.pp = pp;
                                    c.parallel.ep = ep;
                                    c.parallel.etp = etp;
                                    c.parallel.virtual_stages = v;
                                    c.parallel.split = split;
                                    c.parallel.sp = sp;
                                    c.parallel.zero = zero;
                                    c.recompute = rc;
                                    c.micro_batch = mb;
                                    todo.push_back(c);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    SearchResult result;
    std::vector<SearchCandidate> fitting;
    auto better = [rank](const SearchCandidate& a, const SearchCandidate& b) {
        if (rank == SearchRank::memory)
            return a.device_total != b.device_total ? a.device_total < b.device_total : a.step_seconds < b.step_seconds;
        return a.step_seconds != b.step_seconds ? a.step_seconds < b.step_seconds : a.device_total < b.device_total;
    };
    const std::size_t keep = std::max<std::size_t>(top_n, 64);  // room for the comparisons in `why`
    for (std::size_t i = 0; i < todo.size(); ++i) {
        if (progress && i % 4096 == 0) progress(i, todo.size());
        const TrainConfig& c = todo[i];
        ++result.evaluated;
        try {
            const MemoryPlan mp = plan_memory_quick(model, tensors, params, gpu, c);
            if (!mp.fits || mp.headroom_bytes < space.min_headroom * mp.capacity_bytes) continue;
            ++result.fitting;
            const PerfPlan pf = plan_perf(mp, cluster, options);
            SearchCandidate s;
            s.config = mp.config;
            s.device_total = mp.worst().device_total;
            s.headroom = mp.headroom_bytes;
            s.step_seconds = pf.step_seconds;
            s.tokens_per_second = pf.tokens_per_second;
            s.mfu = pf.mfu;
            s.compute_seconds = pf.compute_seconds;
            s.bubble_seconds = pf.bubble_seconds;
            s.comm_exposed_seconds = pf.comm_exposed_seconds;
            s.optimizer_seconds = pf.optimizer_seconds;
            s.moe_host_seconds = pf.moe_host.seconds;
            s.training_seconds = pf.training_seconds;
            s.cost = pf.cost;
            fitting.push_back(s);
            if (fitting.size() > 4 * keep) {  // keep the best `keep` in memory
                std::nth_element(fitting.begin(), fitting.begin() + static_cast<std::ptrdiff_t>(keep), fitting.end(), better);
                fitting.resize(keep);
            }
        } catch (const InputError&) {
            ++result.rejected;  // a combination the checks refuse (e.g. --seq over the positions)
        }
    }
    if (progress) progress(todo.size(), todo.size());
    std::sort(fitting.begin(), fitting.end(), better);

    if (!fitting.empty()) {
        const SearchCandidate& w = fitting.front();
        result.why.push_back("fits: " + secs(w.step_seconds) + " per step, MFU " + pct(w.mfu) + ", " +
                             std::to_string(static_cast<long long>(std::llround(w.headroom / (1 << 30)))) +
                             " GiB to spare on the most loaded GPU");
        // Against the runner-up and the best layout of each other tensor-parallel size / ZeRO stage.
        std::vector<const SearchCandidate*> others;
        if (fitting.size() > 1) others.push_back(&fitting[1]);
        auto best_where = [&](auto pred) -> const SearchCandidate* {
            for (const SearchCandidate& s : fitting)
                if (pred(s)) return &s;
            return nullptr;
        };
        if (const auto* o = best_where([&](const SearchCandidate& s) { return s.config.parallel.tp != w.config.parallel.tp; }))
            others.push_back(o);
        if (const auto* o = best_where([&](const SearchCandidate& s) { return s.config.parallel.pp != w.config.parallel.pp; }))
            others.push_back(o);
        if (const auto* o = best_where([&](const SearchCandidate& s) { return s.config.recompute != w.config.recompute; }))
            others.push_back(o);
        std::vector<const SearchCandidate*> seen;
        for (const SearchCandidate* o : others) {
            if (std::find(seen.begin(), seen.end(), o) != seen.end()) continue;
            seen.push_back(o);
            if (rank == SearchRank::time) result.why.push_back(compare(w, *o));
        }
    }
    if (fitting.size() > top_n) fitting.resize(top_n);
    result.top = std::move(fitting);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

std::vector<int> valid_layout_values(const ModelSpec& model, const TrainConfig& config, const std::string& flag, std::size_t n) {
    int* field = nullptr;
    TrainConfig c = config;
    if (flag == "--tp") field = &c.parallel.tp;
    else if (flag == "--pp") field = &c.parallel.pp;
    else if (flag == "--cp") field = &c.parallel.cp;
    else if (flag == "--ep") field = &c.parallel.ep;
    else if (flag == "--virtual-stages") field = &c.parallel.virtual_stages;
    if (!field || n == 0) return {};
    const int own = *field;
    // Every size up to the GPU count (expert parallel: up to the experts; interleaving: the layers).
    const int limit = flag == "--virtual-stages" ? model.n_layers : flag == "--ep" ? std::max(1, model.n_experts) : c.parallel.gpus;
    std::vector<int> ok;
    for (int v = 1; v <= std::min(limit, 1 << 16); ++v) {
        *field = v;
        try {
            const TrainConfig r = resolve_defaults(model, c);
            validate_config(model, r);
            framework_profile(r.framework).validate(model, r);
            ok.push_back(v);
        } catch (const InputError&) {
        }
    }
    std::stable_sort(ok.begin(), ok.end(), [own](int a, int b) { return std::abs(a - own) < std::abs(b - own); });
    if (ok.size() > n) ok.resize(n);
    std::sort(ok.begin(), ok.end());
    return ok;
}

}  // namespace llmplan
