// test_shard_plan.cpp — the shard plan of DDP and ZeRO 1–3 (engine/shard_plan.h): a
// five-parameter layout worked by hand for n = 2, 3, 4; invariants on real presets; and the
// per-step volumes against the planner's collective list (planner/perf.cpp) for the same model.
#include "engine/shard_plan.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "reference/model.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "tiny_models.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace llmplan;
using namespace llmplan::dist;

namespace {

// embed (10) | layers.0.w (6) layers.0.b (3) | layers.1.w (6) | final_norm (4): Ψ = 29, L = 2.
FlatLayout tiny_layout(bool tied = false) {
    FlatLayout l;
    l.params = {{"embed_tokens.weight", 0, 10},
                {"layers.0.w", 10, 6},
                {"layers.0.b", 16, 3},
                {"layers.1.w", 19, 6},
                {"final_norm.weight", 25, 4}};
    if (tied) l.tied_head = "embed_tokens.weight";
    return l;
}

// fp32, slices aligned to one element, buckets of at most 10 elements (first one 4).
ShardOptions tiny_options(int n, int zero, int m = 1) {
    ShardOptions o;
    o.world = n;
    o.zero = zero;
    o.element_bytes = 4;
    o.align_bytes = 4;
    o.bucket_cap_bytes = 40;
    o.first_bucket_bytes = 16;
    o.micro_batches = m;
    return o;
}

struct UnitWant {
    Range flat;
    std::size_t padded, shard, shard_offset;
};

void check_units(const ShardPlan& s, const std::vector<UnitWant>& want) {
    REQUIRE(s.units.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        INFO("unit " << i);
        CHECK(s.units[i].flat == want[i].flat);
        CHECK(s.units[i].padded == want[i].padded);
        CHECK(s.units[i].shard == want[i].shard);
        CHECK(s.units[i].shard_offset == want[i].shard_offset);
    }
}

// Every element of [0, Ψ) is owned by exactly one rank; every rank's pieces fill distinct places
// of its shard buffer; each parameter's pieces add up to it.
void check_ownership_exactly_once(const ShardPlan& s) {
    std::vector<int> owners(s.total, 0);
    for (const Unit& u : s.units)
        for (int r = 0; r < s.options.world; ++r) {
            const Range o = u.owned(r);
            for (std::size_t e = o.begin; e < o.end; ++e) ++owners[e];
        }
    CHECK(std::all_of(owners.begin(), owners.end(), [](int c) { return c == 1; }));
    std::vector<std::vector<int>> slot(static_cast<std::size_t>(s.options.world), std::vector<int>(s.shard_elements, 0));
    for (const ParamOwnership& w : s.ownership) {
        std::size_t sum = 0;
        for (const ParamPiece& p : w.pieces) {
            sum += p.count;
            CHECK(p.flat_begin == s.params[w.param].offset + p.param_begin);
            for (std::size_t k = 0; k < p.count; ++k) ++slot[static_cast<std::size_t>(p.rank)][p.shard_offset + k];
        }
        CHECK(sum == s.params[w.param].size);
    }
    for (const auto& r : slot) CHECK(std::all_of(r.begin(), r.end(), [](int c) { return c <= 1; }));
}

}  // namespace

TEST_CASE("shard plan: buckets of a five-parameter layout in backward order, by hand", "[dist][shard][golden]") {
    const ShardPlan s = plan_shards(tiny_layout(), tiny_options(2, 0));
    CHECK(s.layers == 2);
    CHECK(s.param_step == std::vector<int>{0, 1, 1, 2, 3});
    CHECK(s.total == 29);
    // First bucket ≤ 16 B: final_norm alone; then ≤ 40 B: layers.1.w + layers.0.b (36 B); layers.0.w
    // (the embedding would make it 64 B); the embedding.
    check_units(s, {{{25, 29}, 4, 0, 25}, {{16, 25}, 9, 0, 16}, {{10, 16}, 6, 0, 10}, {{0, 10}, 10, 0, 0}});
    CHECK(s.units[0].ready_after_step == 3);
    CHECK(s.units[1].ready_after_step == 1);  // complete once layer 0's backward ran
    CHECK(s.units[3].ready_after_step == 0);
    CHECK(s.units[1].first_param == 2);
    CHECK(s.units[1].last_param == 4);
    // DDP: one all-reduce per bucket, unpadded, every rank holds everything.
    REQUIRE(s.calls.size() == 4);
    CHECK(s.calls[1].kind == CommKind::all_reduce);
    CHECK(s.calls[1].count == 9);
    CHECK(s.calls[1].bytes == 36);
    REQUIRE(s.volumes.size() == 1);
    CHECK(s.volumes[0].purpose == "gradient all-reduce");
    CHECK(s.volumes[0].calls_per_step == 4);
    CHECK(s.volumes[0].bytes_per_step == 116);
    CHECK(s.volumes[0].padding_bytes_per_step() == 0);
    CHECK(s.link_bytes_per_step() == Approx(116.0));  // 2(n−1)/n = 1
    CHECK(s.param_elements_per_rank == 29);
    CHECK(s.grad_elements_per_rank == 29);
    CHECK(s.optimizer_elements_per_rank == 29);
    CHECK(s.ownership[3].pieces.size() == 2);  // replicated: both ranks hold layers.1.w whole
    CHECK(s.ownership[3].pieces[1].count == 6);
}

TEST_CASE("shard plan: ZeRO-2 slices of the five-parameter layout for n = 2, 3, 4, by hand", "[dist][shard][golden]") {
    SECTION("n = 2") {
        const ShardPlan s = plan_shards(tiny_layout(), tiny_options(2, 2));
        // Buckets 4, 9, 6, 10 padded to multiples of 2: 4, 10, 6, 10; slices 2, 5, 3, 5.
        check_units(s, {{{25, 29}, 4, 2, 0}, {{16, 25}, 10, 5, 2}, {{10, 16}, 6, 3, 7}, {{0, 10}, 10, 5, 10}});
        CHECK(s.padded_total == 30);
        CHECK(s.shard_elements == 15);
        CHECK(s.units[1].owned(0) == Range{16, 21});
        CHECK(s.units[1].owned(1) == Range{21, 25});  // + one element of padding
        // layers.1.w [19, 25): rank 0 holds its first 2 elements, rank 1 the other 4.
        const ParamOwnership& w = s.ownership[3];
        CHECK(w.unit == 1);
        REQUIRE(w.pieces.size() == 2);
        CHECK(w.pieces[0].rank == 0);
        CHECK(w.pieces[0].param_begin == 0);
        CHECK(w.pieces[0].count == 2);
        CHECK(w.pieces[0].shard_offset == 5);  // bucket 1's slice starts at 2, element 19 is its 4th
        CHECK(w.pieces[1].rank == 1);
        CHECK(w.pieces[1].param_begin == 2);
        CHECK(w.pieces[1].count == 4);
        CHECK(w.pieces[1].shard_offset == 2);
        // layers.0.b [16, 19) lies in rank 0's slice only.
        REQUIRE(s.ownership[2].pieces.size() == 1);
        CHECK(s.ownership[2].pieces[0].rank == 0);
        CHECK(s.param_elements_per_rank == 29);
        CHECK(s.grad_elements_per_rank == 15);
        CHECK(s.optimizer_elements_per_rank == 15);
        // Reduce-scatter per bucket in the backward, all-gather per bucket after the optimizer.
        REQUIRE(s.calls.size() == 8);
        CHECK(s.calls[1].kind == CommKind::reduce_scatter);
        CHECK(s.calls[1].count == 5);
        CHECK(s.calls[1].bytes == 40);
        CHECK(s.calls[1].unpadded_bytes == 36);
        CHECK(s.calls[4].kind == CommKind::all_gather);
        CHECK(s.calls[4].phase == "after optimizer");
        const CommVolume* rs = s.volume("gradient reduce-scatter");
        const CommVolume* ag = s.volume("parameter all-gather");
        REQUIRE(rs);
        REQUIRE(ag);
        CHECK(rs->bytes_per_step == 120);
        CHECK(rs->unpadded_bytes_per_step == 116);
        CHECK(rs->padding_bytes_per_step() == 4);
        CHECK(ag->bytes_per_step == 120);
        CHECK(s.link_bytes_per_step() == Approx(120.0));  // (120 + 120) × 1/2
        check_ownership_exactly_once(s);
    }
    SECTION("n = 3") {
        const ShardPlan s = plan_shards(tiny_layout(), tiny_options(3, 2));
        check_units(s, {{{25, 29}, 6, 2, 0}, {{16, 25}, 9, 3, 2}, {{10, 16}, 6, 2, 5}, {{0, 10}, 12, 4, 7}});
        CHECK(s.shard_elements == 11);
        CHECK(s.units[0].owned(1) == Range{27, 29});
        CHECK(s.units[0].owned(2).empty());  // rank 2's slice of the first bucket is all padding
        CHECK(s.units[3].owned(2) == Range{8, 10});
        CHECK(s.ownership[4].pieces.size() == 2);  // final_norm: ranks 0 and 1
        check_ownership_exactly_once(s);
    }
    SECTION("n = 4") {
        const ShardPlan s = plan_shards(tiny_layout(), tiny_options(4, 2));
        check_units(s, {{{25, 29}, 4, 1, 0}, {{16, 25}, 12, 3, 1}, {{10, 16}, 8, 2, 4}, {{0, 10}, 12, 3, 6}});
        CHECK(s.padded_total == 36);
        CHECK(s.shard_elements == 9);
        CHECK(s.units[1].owned(3).empty());
        CHECK(s.volume("gradient reduce-scatter")->padding_bytes_per_step() == 7 * 4);
        check_ownership_exactly_once(s);
    }
}

TEST_CASE("shard plan: ZeRO-1 reduces once per step, ZeRO-2 every micro-batch", "[dist][shard][golden]") {
    const ShardPlan z1 = plan_shards(tiny_layout(), tiny_options(2, 1, 3));
    const ShardPlan z2 = plan_shards(tiny_layout(), tiny_options(2, 2, 3));
    CHECK(z1.volume("gradient reduce-scatter")->calls_per_step == 4);
    CHECK(z2.volume("gradient reduce-scatter")->calls_per_step == 12);
    CHECK(z2.volume("gradient reduce-scatter")->bytes_per_step == 3 * 120);
    CHECK(z1.volume("parameter all-gather")->calls_per_step == 4);
    CHECK(z2.volume("parameter all-gather")->calls_per_step == 4);
    CHECK(z1.grad_elements_per_rank == 29);  // ZeRO-1 keeps whole gradients to accumulate them
    CHECK(z1.optimizer_elements_per_rank == 15);
    const ShardPlan ddp = plan_shards(tiny_layout(), tiny_options(2, 0, 3));
    CHECK(ddp.volume("gradient all-reduce")->calls_per_step == 4);  // no_sync on the first two
}

TEST_CASE("shard plan: ZeRO-3 layer units, gathers with one-step prefetch, by hand", "[dist][shard][golden]") {
    SECTION("n = 2, untied") {
        const ShardPlan s = plan_shards(tiny_layout(), tiny_options(2, 3, 2));
        check_units(s, {{{0, 10}, 10, 5, 0}, {{10, 19}, 10, 5, 5}, {{19, 25}, 6, 3, 10}, {{25, 29}, 4, 2, 13}});
        CHECK(s.units[0].name == "pre");
        CHECK(s.units[1].name == "layers.0");
        CHECK(s.units[3].name == "post");
        CHECK(s.param_elements_per_rank == 15);
        CHECK(s.grad_elements_per_rank == 15);
        CHECK(s.forward.steps == std::vector<int>{0, 1, 2, 3});
        REQUIRE(s.forward.gathers.size() == 4);
        // Unit u is needed at position u and gathered while position u − 1 computes.
        for (int u = 0; u < 4; ++u) {
            CHECK(s.forward.gathers[static_cast<std::size_t>(u)].unit == u);
            CHECK(s.forward.gathers[static_cast<std::size_t>(u)].issue_at == std::max(0, u - 1));
            CHECK(s.forward.gathers[static_cast<std::size_t>(u)].last_use == u);
        }
        CHECK(s.forward.max_gathered == 20);  // pre + layers.0 while the embedding runs
        CHECK(s.backward.steps == std::vector<int>{3, 2, 1, 0});
        REQUIRE(s.backward.reduces.size() == 4);
        CHECK(s.backward.reduces[0].unit == 3);
        CHECK(s.backward.reduces[3].unit == 0);
        // Backward issue order: AG post, AG layers.1, RS post, AG layers.0, RS layers.1, AG pre, RS layers.0, RS pre.
        std::vector<std::pair<CommKind, int>> order;
        for (const CommCall& c : s.calls)
            if (c.phase == "backward") order.emplace_back(c.kind, c.unit);
        const std::vector<std::pair<CommKind, int>> want = {
            {CommKind::all_gather, 3},     {CommKind::all_gather, 2}, {CommKind::reduce_scatter, 3},
            {CommKind::all_gather, 1},     {CommKind::reduce_scatter, 2}, {CommKind::all_gather, 0},
            {CommKind::reduce_scatter, 1}, {CommKind::reduce_scatter, 0}};
        CHECK(order == want);
        // Per micro-batch (m = 2): Ψ' = 30 elements gathered twice and reduce-scattered once.
        CHECK(s.volume("parameter all-gather, forward")->calls_per_step == 8);
        CHECK(s.volume("parameter all-gather, forward")->bytes_per_step == 2 * 120);
        CHECK(s.volume("parameter all-gather, backward")->bytes_per_step == 2 * 120);
        CHECK(s.volume("gradient reduce-scatter")->bytes_per_step == 2 * 120);
        CHECK(s.volume("gradient reduce-scatter")->unpadded_bytes_per_step == 2 * 116);
        check_ownership_exactly_once(s);
    }
    SECTION("n = 2, tied: the head keeps the embedding gathered through the pass") {
        const ShardPlan s = plan_shards(tiny_layout(true), tiny_options(2, 3));
        REQUIRE(s.forward.gathers.size() == 4);
        CHECK(s.forward.gathers[0].unit == 0);
        CHECK(s.forward.gathers[0].last_use == 3);
        CHECK(s.forward.max_gathered == 26);  // pre + layers.0 + layers.1 at position 1
        CHECK(s.backward.gathers[0].unit == 0);  // the head's backward needs it first
        CHECK(s.backward.gathers[0].issue_at == 0);
        CHECK(s.backward.gathers[0].last_use == 3);
        CHECK(s.backward.reduces.back().unit == 0);  // its gradient is complete after the embedding's backward
        CHECK(s.volume("parameter all-gather, forward")->calls_per_step == 4);  // still one gather per unit
    }
    SECTION("n = 3 and n = 4") {
        const ShardPlan s3 = plan_shards(tiny_layout(), tiny_options(3, 3));
        check_units(s3, {{{0, 10}, 12, 4, 0}, {{10, 19}, 9, 3, 4}, {{19, 25}, 6, 2, 7}, {{25, 29}, 6, 2, 9}});
        check_ownership_exactly_once(s3);
        const ShardPlan s4 = plan_shards(tiny_layout(), tiny_options(4, 3));
        check_units(s4, {{{0, 10}, 12, 3, 0}, {{10, 19}, 12, 3, 3}, {{19, 25}, 8, 2, 6}, {{25, 29}, 4, 1, 8}});
        CHECK(s4.shard_elements == 9);
        CHECK(s4.units[3].owned(3) == Range{28, 29});
        check_ownership_exactly_once(s4);
    }
}

TEST_CASE("shard plan: one rank communicates nothing: bad layouts and options are refused", "[dist][shard][errors]") {
    CHECK(plan_shards(tiny_layout(), tiny_options(1, 3)).calls.empty());
    FlatLayout gap = tiny_layout();
    gap.params[2].offset = 17;
    CHECK_THROWS_AS(plan_shards(gap, tiny_options(2, 0)), InputError);
    CHECK_THROWS_AS(plan_shards(FlatLayout{}, tiny_options(2, 0)), InputError);
    CHECK_THROWS_AS(plan_shards(tiny_layout(), tiny_options(0, 0)), InputError);
    CHECK_THROWS_AS(plan_shards(tiny_layout(), tiny_options(2, 4)), InputError);
    ShardOptions odd = tiny_options(2, 2);
    odd.align_bytes = 6;
    CHECK_THROWS_AS(plan_shards(tiny_layout(), odd), InputError);
    FlatLayout tied = tiny_layout();
    tied.tied_head = "wte";
    CHECK_THROWS_AS(plan_shards(tied, tiny_options(2, 3)), InputError);
}

TEST_CASE("shard plan: the layout is the engine's (the CPU reference's, tensor by tensor)", "[dist][shard]") {
    for (const ModelSpec& spec : {test::tiny_gpt2(), test::tiny_llama()}) {
        const reference::ReferenceModel ref(spec);
        const FlatLayout l = engine_flat_layout(spec);
        REQUIRE(l.params.size() == ref.params().size());
        for (std::size_t i = 0; i < l.params.size(); ++i) {
            CHECK(l.params[i].name == ref.params()[i].name);
            CHECK(l.params[i].offset == ref.params()[i].offset);
            CHECK(l.params[i].size == ref.params()[i].size);
        }
        CHECK(l.tied_head == (spec.tied_embeddings ? "embed_tokens.weight" : ""));
    }
}

TEST_CASE("shard plan: invariants on presets (slices tile the buffer once, buckets in backward order within the cap)",
          "[dist][shard]") {
    for (const char* name : {"gpt2-124m", "tinyllama-1.1b", "llama-2-7b"}) {
        const FlatLayout layout = engine_flat_layout(preset_or_throw(name, "--model"));
        for (const int n : {2, 3, 4, 8}) {
            for (const int zero : {0, 1, 2, 3}) {
                for (const std::size_t eb : {std::size_t{2}, std::size_t{4}}) {
                    INFO(name << " n=" << n << " zero=" << zero << " element " << eb);
                    ShardOptions o;
                    o.world = n;
                    o.zero = zero;
                    o.element_bytes = eb;
                    const ShardPlan s = plan_shards(layout, o);
                    CHECK(s.align_elements == 128 / eb);
                    // Units tile [0, Ψ): buckets from the end backwards, layer units forwards.
                    std::vector<Range> tiles;
                    for (const Unit& u : s.units) tiles.push_back(u.flat);
                    std::sort(tiles.begin(), tiles.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
                    CHECK(tiles.front().begin == 0);
                    CHECK(tiles.back().end == s.total);
                    for (std::size_t k = 1; k < tiles.size(); ++k) CHECK(tiles[k].begin == tiles[k - 1].end);
                    std::size_t shard_offset = 0;
                    for (std::size_t k = 0; k < s.units.size(); ++k) {
                        const Unit& u = s.units[k];
                        if (zero < 3) {
                            CHECK(u.flat.end == (k == 0 ? s.total : s.units[k - 1].flat.begin));  // backward order
                            if (k > 0) CHECK(u.ready_after_step <= s.units[k - 1].ready_after_step);
                            const std::size_t cap = k == 0 ? o.first_bucket_bytes : o.bucket_cap_bytes;
                            CHECK((u.flat.size() * eb <= cap || u.last_param - u.first_param == 1));
                        }
                        if (zero == 0) continue;
                        CHECK(u.padded % (static_cast<std::size_t>(n) * s.align_elements) == 0);
                        CHECK(u.padded - u.flat.size() < static_cast<std::size_t>(n) * s.align_elements);
                        CHECK(u.shard * static_cast<std::size_t>(n) == u.padded);
                        CHECK(u.shard_offset == shard_offset);
                        shard_offset += u.shard;
                        // Slices of consecutive ranks follow each other, the padding at the end.
                        std::size_t at = u.flat.begin;
                        for (int r = 0; r < n; ++r) {
                            const Range own = u.owned(r);
                            if (own.empty()) continue;
                            CHECK(own.begin == at);
                            at = own.end;
                        }
                        CHECK(at == u.flat.end);
                    }
                    if (zero > 0) CHECK(shard_offset == s.shard_elements);
                    for (const ParamOwnership& w : s.ownership) {
                        std::size_t sum = 0;
                        for (const ParamPiece& p : w.pieces) sum += p.count;
                        CHECK(sum == s.params[w.param].size * (zero == 0 ? static_cast<std::size_t>(n) : 1));
                    }
                }
            }
        }
    }
}

// The planner's collective list (plan_perf) for the same model, precision, n, ZeRO stage and
// micro-batches per step, against the plan's volumes: the unpadded bytes equal the planner's
// bytes × count exactly; the padded bytes exceed them by the padding exactly.
TEST_CASE("shard plan: per-step volumes equal the planner's collective list (gpt2-124m, tinyllama-1.1b, llama-2-7b: n = 2, 4, 8)",
          "[dist][shard][planner]") {
    for (const char* name : {"gpt2-124m", "tinyllama-1.1b", "llama-2-7b"}) {
        const ModelSpec spec = preset_or_throw(name, "--model");
        const FlatLayout layout = engine_flat_layout(spec);
        for (const Precision precision : {Precision::fp32, Precision::mixed_bf16}) {
            const std::size_t eb = precision == Precision::fp32 ? 4 : 2;
            for (const int n : {2, 4, 8}) {
                for (const int zero : {0, 1, 2, 3}) {
                    for (const int m : {1, 4}) {
                        INFO(name << " " << to_string(precision) << " n=" << n << " zero=" << zero << " m=" << m);
                        TrainConfig c;
                        c.parallel.gpus = n;
                        c.parallel.zero = zero;
                        c.precision = precision;
                        c.seq = 1024;
                        c.micro_batch = 1;
                        c.global_batch = static_cast<std::int64_t>(n) * m;
                        const MemoryPlan mp = plan_memory(spec, *find_gpu("h100-sxm"), c);
                        REQUIRE(mp.config.grad_accum() == m);
                        const PerfPlan perf = plan_perf(mp, default_cluster(mp.gpu, 8), PerfOptions{});
                        const auto psi = static_cast<double>(layout.total());
                        REQUIRE(static_cast<double>(mp.worst().params_on_gpu) == psi);

                        ShardOptions o;
                        o.world = n;
                        o.zero = zero;
                        o.element_bytes = eb;
                        o.micro_batches = m;
                        const ShardPlan s = plan_shards(layout, o);
                        const double pad = static_cast<double>(s.padded_total - s.total) * static_cast<double>(eb);
                        auto planner = [&](Collective kind, const std::string& contains) {
                            double b = 0;
                            for (const CollectiveUse& u : perf.collectives)
                                if (u.kind == kind && u.purpose.find(contains) != std::string::npos) b += u.bytes * u.count;
                            return b;
                        };
                        auto mine = [&](const char* purpose, bool padded) {
                            const CommVolume* v = s.volume(purpose);
                            REQUIRE(v);
                            return static_cast<double>(padded ? v->bytes_per_step : v->unpadded_bytes_per_step);
                        };
                        if (zero == 0) {
                            CHECK(mine("gradient all-reduce", false) == planner(Collective::all_reduce, "all-reduce"));
                            CHECK(mine("gradient all-reduce", true) == psi * static_cast<double>(eb));  // DDP: no padding
                            CHECK(s.link_bytes_per_step() == Approx(perf.comm_bytes_per_gpu).epsilon(1e-12));
                        } else if (zero <= 2) {
                            // ZeRO-2 reduce-scatters every micro-batch (DeepSpeed), ZeRO-1 once: the
                            // planner counts the same.
                            const double rs_calls = zero == 2 ? m : 1;
                            CHECK(mine("gradient reduce-scatter", false) == planner(Collective::reduce_scatter, "reduce-scatter"));
                            CHECK(mine("parameter all-gather", false) == planner(Collective::all_gather, "all-gather"));
                            CHECK(mine("gradient reduce-scatter", true) - mine("gradient reduce-scatter", false) == rs_calls * pad);
                            CHECK(mine("parameter all-gather", true) - mine("parameter all-gather", false) == pad);
                            CHECK(s.link_bytes_per_step() - perf.comm_bytes_per_gpu ==
                                  Approx((rs_calls + 1) * pad * busbw_factor(CommKind::all_gather, n)).margin(1e-3));
                        } else {
                            // The planner's ZeRO-3 gathers already pad Ψ to ⌈Ψ/n⌉·n elements.
                            const double planner_padded = std::ceil(psi / n) * n * static_cast<double>(eb) * m;
                            const double extra = (static_cast<double>(s.padded_total) - std::ceil(psi / n) * n) *
                                                 static_cast<double>(eb) * m;
                            for (const char* pass : {"forward", "backward"}) {
                                const std::string purpose = std::string("parameter all-gather, ") + pass;
                                const double p = planner(Collective::all_gather, pass);
                                CHECK(p == planner_padded);
                                CHECK(mine(purpose.c_str(), false) == psi * static_cast<double>(eb) * m);
                                CHECK(mine(purpose.c_str(), true) - p == extra);
                                CHECK(mine(purpose.c_str(), true) - mine(purpose.c_str(), false) == pad * m);
                            }
                            CHECK(mine("gradient reduce-scatter", false) == planner(Collective::reduce_scatter, "reduce-scatter"));
                            CHECK(mine("gradient reduce-scatter", true) - mine("gradient reduce-scatter", false) == pad * m);
                        }
                    }
                }
            }
        }
    }
}
