// test_search.cpp — the layout search: what it enumerates, that it keeps only layouts that fit,
// that its order and numbers are those of `plan`, and H100 throughput against measurements.
#include "planner/search.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "planner/memory.h"
#include "planner/what_fits.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmplan;

namespace {

TrainConfig base_job(int gpus) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.seq = 4096;
    c.global_batch = 64;
    return c;
}

}  // namespace

TEST_CASE("search: the enumerated space, counted by hand", "[search]") {
    // llama-2-7b (32 layers, 32 heads, d_ff 11008) on 8 H100s, global batch 64, ZeRO 0 and 1,
    // recompute none, micro-batches 1 and 2, no interleaving, tensor parallel up to 8:
    //   tp ∈ {1, 2, 4, 8} (all divide 32 heads and 11008), pp ∈ divisors of 8/tp dividing 32.
    //   (tp, pp, dp): (1,1,8) (1,2,4) (1,4,2) (1,8,1) (2,1,4) (2,2,2) (2,4,1) (4,1,2) (4,2,1) (8,1,1)
    //   sp doubles the tp > 1 rows (6 of 10): 16 layouts; ZeRO-1 only where dp > 1: rows
    //   (1,1,8) (1,2,4) (1,4,2) and, with and without sp, (2,1,4) (2,2,2) (4,1,2): 9 more;
    //   micro-batches 1 and 2 both divide every 64/dp: 2 × (16 + 9) = 50.
    SearchSpace space;
    space.zero = {0, 1};
    space.recompute = {Recompute::none};
    space.micro_batches = {1, 2};
    space.virtual_stages = {1};
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const SearchResult r = search_layouts(m, gpu, base_job(8), default_cluster(gpu, 8), PerfOptions{}, space,
                                          SearchRank::time, 1000);
    CHECK(r.evaluated == 50);
    CHECK(r.rejected == 0);
    CHECK(r.fitting == r.top.size());
    CHECK(r.fitting > 0);
    CHECK(r.fitting < r.evaluated);  // tp 1, ZeRO-0 on one 80 GB card does not fit 7B with AdamW
    for (std::size_t i = 1; i < r.top.size(); ++i) CHECK(r.top[i - 1].step_seconds <= r.top[i].step_seconds);
    for (const SearchCandidate& c : r.top) CHECK(c.device_total <= gpu.memory_bytes);
}

TEST_CASE("search: MoE models also try expert parallelism, counted by hand", "[search]") {
    // mixtral-8x7b (8 experts) on 8 H100s, tp 1 only (max_tp 1), pp ∈ {1, 2, 4, 8} (all divide 32
    // layers), ZeRO 0, recompute none, micro-batch 1, no interleaving, no sp (tp 1):
    //   dp = 8, 4, 2, 1; ep ∈ divisors of 8 that divide dp: 4 + 3 + 2 + 1 = 10 layouts.
    SearchSpace space;
    space.zero = {0};
    space.recompute = {Recompute::none};
    space.micro_batches = {1};
    space.virtual_stages = {1};
    space.max_tp = 1;
    const ModelSpec m = preset_or_throw("mixtral-8x7b", "--model");
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const SearchResult all = search_layouts(m, gpu, base_job(8), default_cluster(gpu, 8), PerfOptions{}, space,
                                            SearchRank::memory, 1000);
    CHECK(all.evaluated == 10);
    CHECK(all.rejected == 0);
    // Splitting the experts 8 ways leaves each GPU an eighth of the expert weights (plan_memory).
    TrainConfig c = base_job(8);
    c.micro_batch = 1;
    c.parallel.ep = 8;
    const double split = plan_memory(m, gpu, c).worst().parameters;
    c.parallel.ep = 1;
    const double whole = plan_memory(m, gpu, c).worst().parameters;
    const ParamBreakdown b = count_params(m);
    CHECK(whole - split == Approx(2.0 * static_cast<double>(b.routed_experts) * 7 / 8));  // bf16 weights
    space.ep = {2};  // only ep 2: the dp 8, 4, 2 rows
    CHECK(search_layouts(m, gpu, base_job(8), default_cluster(gpu, 8), PerfOptions{}, space, SearchRank::memory, 1000)
              .evaluated == 3);
    space.ep = {3};
    CHECK_THROWS_WITH(search_layouts(m, gpu, base_job(8), default_cluster(gpu, 8), PerfOptions{}, space,
                                     SearchRank::memory, 10),
                      "--ep 3 does not divide the 8 experts of mixtral-8x7b");
    space.ep = {2};
    CHECK_THROWS_WITH(search_layouts(preset_or_throw("llama-2-7b", "--model"), gpu, base_job(8),
                                     default_cluster(gpu, 8), PerfOptions{}, space, SearchRank::memory, 10),
                      "--ep 2 needs a mixture-of-experts model; llama-2-7b is dense");
}

TEST_CASE("search: the winner's numbers are plan's numbers for the same layout", "[search]") {
    const ModelSpec m = preset_or_throw("llama-2-13b", "--model");
    const GpuSpec& gpu = *find_gpu("a100-80g");
    const ClusterSpec cl = default_cluster(gpu, 8);
    const SearchResult r = search_layouts(m, gpu, base_job(16), cl, PerfOptions{}, SearchSpace{}, SearchRank::time, 5);
    REQUIRE(!r.top.empty());
    const SearchCandidate& w = r.top.front();
    const MemoryPlan plan = plan_memory(m, gpu, w.config);
    const PerfPlan perf = plan_perf(plan, cl, PerfOptions{});
    CHECK(plan.fits);
    CHECK(plan.worst().device_total == Approx(w.device_total));
    CHECK(perf.step_seconds == Approx(w.step_seconds));
    CHECK(r.why.size() >= 2);
    // Ranked by memory, the first layout needs no more memory than the fastest one.
    const SearchResult mem = search_layouts(m, gpu, base_job(16), cl, PerfOptions{}, SearchSpace{}, SearchRank::memory, 5);
    CHECK(mem.top.front().device_total <= w.device_total);
}

TEST_CASE("search: nothing fits → an empty result, not an error: no GPUs → an error", "[search]") {
    const ModelSpec m = preset_or_throw("llama-3.1-405b", "--model");
    const GpuSpec& gpu = *find_gpu("rtx-4090");
    const SearchResult r = search_layouts(m, gpu, base_job(2), default_cluster(gpu, 8), PerfOptions{}, SearchSpace{},
                                          SearchRank::time, 10);
    CHECK(r.top.empty());
    CHECK(r.fitting == 0);
    TrainConfig none = base_job(2);
    none.parallel.gpus = 0;
    CHECK_THROWS_AS(search_layouts(m, gpu, none, default_cluster(gpu, 8), PerfOptions{}, SearchSpace{}, SearchRank::time, 10),
                    InputError);
}

TEST_CASE("perf on H100: GPT-2 training throughput within 10% of the lent GPU's measurements", "[perf][validation]") {
    // docs/REFERENCES.md §7: one H100, PyTorch 2.11, torch.compile, flash SDPA, fused AdamW, bf16:
    // GPT-2 124M at batch 16 × 1024: 448,000 tokens/s; at batch 32: 480,000; GPT-2 350M at 16: 177,000.
    struct Case {
        const char* model;
        std::int64_t batch;
        double measured;
        double table_error;  // the kernel-table model's relative error, recorded (docs/PERFORMANCE_MODEL.md §2)
    };
    for (const Case& k : {Case{"gpt2-124m", 16, 448000, -0.1004}, Case{"gpt2-124m", 32, 480000, -0.1508},
                          Case{"gpt2-350m", 16, 177000, -0.1532}}) {
        TrainConfig c;
        c.precision = Precision::amp_bf16;
        c.micro_batch = k.batch;
        c.seq = 1024;
        // torch.compile fuses the loss (inductor's reduction and pointwise kernels over the 16-bit
        // logits, no fp32 copy): the generic profile's fused cross-entropy.
        c.framework_options = {{"cross_entropy", "fused"}};
        const MemoryPlan plan = plan_memory(preset_or_throw(k.model, "--model"), *find_gpu("h100-sxm"), c);
        // The fitted efficiency (0.63 was fitted on these runs: in-sample).
        PerfOptions fitted;
        fitted.no_kernel_table = true;
        const PerfPlan p = plan_perf(plan, default_cluster(plan.gpu, 8), fitted);
        INFO(k.model << " b" << k.batch << ": predicted " << p.tokens_per_second << " tokens/s, measured " << k.measured);
        CHECK(std::fabs(p.tokens_per_second - k.measured) / k.measured < 0.10);
        // The default, the H100 kernel table (measured on the lent H100) × kKernelTableSustained (fitted on
        // published multi-GPU runs, not on these): pessimistic here (docs/PERFORMANCE_MODEL.md §2).
        const PerfPlan t = plan_perf(plan, default_cluster(plan.gpu, 8), PerfOptions{});
        INFO("kernel table: predicted " << t.tokens_per_second << " tokens/s, error " << t.tokens_per_second / k.measured - 1);
        CHECK(t.tokens_per_second / k.measured - 1 == Approx(k.table_error).margin(0.0005));
    }
}

TEST_CASE("search: a headroom margin keeps only layouts with that share of the card free", "[search]") {
    // ZeRO 0–2, micro-batches 1–3, global batch 96: with a 5% margin a layout must leave
    // 0.05 × 79.18 GiB free; ZeRO-2, micro-batch 3 on tp 1 (78.24 GiB, `llmplan plan`) fits without it.
    SearchSpace space;
    space.zero = {0, 1, 2};
    space.recompute = {Recompute::none};
    space.micro_batches = {1, 2, 3};
    space.virtual_stages = {1};
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    TrainConfig job = base_job(8);
    job.global_batch = 96;
    const SearchResult all = search_layouts(m, gpu, job, default_cluster(gpu, 8), PerfOptions{}, space, SearchRank::time, 1000);
    space.min_headroom = 0.05;
    const SearchResult kept = search_layouts(m, gpu, job, default_cluster(gpu, 8), PerfOptions{}, space, SearchRank::time, 1000);
    std::size_t with_margin = 0;
    for (const SearchCandidate& c : all.top) with_margin += c.headroom >= 0.05 * gpu.memory_bytes ? 1 : 0;
    CHECK(kept.fitting == with_margin);
    CHECK(kept.fitting < all.fitting);  // some layouts fit with less than 5% to spare
    CHECK(kept.fitting > 0);
    for (const SearchCandidate& c : kept.top) CHECK(c.headroom >= 0.05 * gpu.memory_bytes);
}

TEST_CASE("fit_state: tight below the margin, short when negative", "[search]") {
    CHECK(fit_state(-1, 100) == FitState::does_not_fit);
    CHECK(fit_state(0, 100) == FitState::tight);
    CHECK(fit_state(4.99, 100) == FitState::tight);
    CHECK(fit_state(5, 100) == FitState::fits);
    CHECK(fit_state(5, 100, 0) == FitState::fits);
    CHECK(kHeadroomMargin == 0.05);
}

TEST_CASE("valid_layout_values: the sizes the checks accept, nearest first", "[search]") {
    // llama-2-7b: 32 heads, 32 kv heads, d_ff 11008, 32 layers. On 8 GPUs tp must divide 8 and 32:
    // 1, 2, 4, 8; asked for the 2 nearest to tp 3: 2 and 4.
    const ModelSpec m = preset_or_throw("llama-2-7b", "--model");
    TrainConfig c;
    c.parallel.gpus = 8;
    c.parallel.gpus_per_node = 8;
    c.parallel.tp = 3;
    CHECK(valid_layout_values(m, c, "--tp", 10) == std::vector<int>{1, 2, 4, 8});
    CHECK(valid_layout_values(m, c, "--tp", 2) == std::vector<int>{2, 4});
    // pp with tp 1 on 8 GPUs: divisors of 8 that divide the 32 layers.
    c.parallel.tp = 1;
    c.parallel.pp = 3;
    CHECK(valid_layout_values(m, c, "--pp", 10) == std::vector<int>{1, 2, 4, 8});
    // On 6 GPUs tp must divide 6 and 32: 1 and 2.
    c.parallel.pp = 1;
    c.parallel.gpus = 6;
    c.parallel.tp = 3;
    CHECK(valid_layout_values(m, c, "--tp", 10) == std::vector<int>{1, 2});
    CHECK(valid_layout_values(m, c, "--gpus", 10).empty());  // not a layout size
}

TEST_CASE("what_fits: training, LoRA, QLoRA and serving on one and two H100s", "[search]") {
    const GpuSpec& h100 = *find_gpu("h100-sxm");
    TrainConfig one;  // the CLI's defaults: 1 GPU, mixed-bf16, AdamW
    one.parallel.gpus_per_node = 8;
    // llama-2-7b on one H100: full training needs 16 bytes per parameter (108 GiB): no; LoRA and
    // QLoRA fit (`llmplan plan --lora-rank 16 [--base-quant nf4]`: 31.53 and 22.22 GiB with no
    // recompute; the search may pick another layout); serving fits one GPU (`llmplan infer`: 13.68 GiB).
    const ModelFit small = what_fits(preset_or_throw("llama-2-7b", "--model"), h100, one, kHeadroomMargin);
    CHECK(small.model == "llama-2-7b");
    CHECK(small.parameters == 6738415616.0);
    CHECK(!small.full.fits);
    CHECK(small.lora.fits);
    CHECK(small.qlora.fits);
    CHECK(small.lora.device_total > small.qlora.device_total);  // the nf4 base is a quarter of bf16
    CHECK(small.lora.device_total <= 0.95 * h100.memory_bytes);
    CHECK(small.serves);
    CHECK(small.serve_tp == 1);
    CHECK(small.serve_max_batch > 1);
    // llama-2-70b: 128.5 GiB of bf16 weights: no training, no LoRA on one card; served on 2 H100s
    // (`llmplan infer --tp 2`: 64.24 GiB of weights each).
    TrainConfig two = one;
    two.parallel.gpus = 2;
    const ModelFit big = what_fits(preset_or_throw("llama-2-70b", "--model"), h100, two, kHeadroomMargin);
    CHECK(!big.full.fits);
    CHECK(big.serves);
    CHECK(big.serve_tp == 2);
    const ModelFit big_one = what_fits(preset_or_throw("llama-2-70b", "--model"), h100, one, kHeadroomMargin);
    CHECK(!big_one.serves);
    CHECK(big_one.serve_tp == 0);
    CHECK(!big_one.lora.fits);
}

TEST_CASE("search: --etp 1 also tries the experts whole on each rank, counted by hand", "[search][moe]") {
    // mixtral-8x7b on 8 H100s, tp ∈ {1, 2}, pp 1 (max_pp 1), ZeRO 0, recompute none, micro-batch 1:
    //   tp 1, dp 8: ep ∈ {1, 2, 4, 8}, no sp: 4 layouts (etp 1 is etp = tp there);
    //   tp 2, dp 4, etp = tp: ep ∈ {1, 2, 4} (divides dp) × sp {no, yes}: 6;
    //   tp 2, etp 1: ep ∈ {1, 2, 4, 8} (divides tp × dp = 8) × sp yes only (Megatron needs it): 4.
    SearchSpace space;
    space.zero = {0};
    space.recompute = {Recompute::none};
    space.micro_batches = {1};
    space.virtual_stages = {1};
    space.max_tp = 2;
    space.max_pp = 1;
    const ModelSpec m = preset_or_throw("mixtral-8x7b", "--model");
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    auto search = [&] {
        return search_layouts(m, gpu, base_job(8), default_cluster(gpu, 8), PerfOptions{}, space, SearchRank::memory, 1000);
    };
    CHECK(search().evaluated == 10);  // the default: etp = tp only
    space.etp = {0, 1};
    const SearchResult both = search();
    CHECK(both.evaluated == 14);
    for (const SearchCandidate& c : both.top)  // those that fit
        if (c.config.parallel.expert_tp() == 1 && c.config.parallel.tp == 2) CHECK(c.config.parallel.sp);
    space.etp = {1};
    CHECK(search().evaluated == 8);
    space.etp = {2};
    CHECK_THROWS_WITH(search(), "--etp 2: search tries 1 or tp");
}
