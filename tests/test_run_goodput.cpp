// test_run_goodput.cpp — the GPU's speed under a power limit or a given peak (--power-limit,
// --peak-flops) and the whole run's goodput (--goodput, --mtbf-hours with checkpoint and restart
// times, --batch-rampup), each against arithmetic worked out by hand in the comments.
#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "planner/memory.h"
#include "planner/perf.h"
#include "cli_run.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmplan;

namespace {

// llama-2-7b on 8 H100s, data parallel with ZeRO-1, micro-batch 1 × 4096, global batch 256.
TrainConfig dp8() {
    TrainConfig c;
    c.parallel.gpus = 8;
    c.parallel.zero = 1;
    c.seq = 4096;
    c.global_batch = 256;
    return c;
}

PerfPlan perf(const PerfOptions& o, TrainConfig c = dp8(), const char* gpu = "h100-sxm") {
    const GpuSpec& g = gpu_or_throw(gpu, "t");
    const MemoryPlan plan = plan_memory(preset_or_throw("llama-2-7b", "t"), g, c);
    return plan_perf(plan, default_cluster(g, 8), o);
}

}  // namespace

TEST_CASE("power limit: the clock falls as the cube root of the dynamic power left", "[perf][power][golden]") {
    const GpuSpec& h100 = gpu_or_throw("h100-sxm", "t");  // TDP 700 W
    // f = ((c − 0.36)/0.64)^(1/3): 600 W → c = 6/7, (0.857143 − 0.36)/0.64 = 0.776786, f = 0.919250.
    CHECK(power_capped_clock(600, h100) == Approx(0.9192502217726916).epsilon(1e-12));
    // The lowest accepted limit, 40% (280 W): (0.04/0.64)^(1/3) = 0.0625^(1/3) = 0.396850.
    CHECK(power_capped_clock(280, h100) == Approx(0.39685026299205).epsilon(1e-12));
    CHECK(power_capped_clock(700, h100) == 1);
    CHECK_THROWS_WITH(power_capped_clock(279, h100),
                      "--power-limit 279 W: must be between 280 and 700 W on the h100-sxm (40–100% of its 700 W board power, "
                      "the range the clock model was fitted on)");
    CHECK_THROWS_WITH(power_capped_clock(800, h100), Catch::StartsWith("--power-limit 800 W: must be between 280 and 700 W"));
    GpuSpec custom = h100;
    custom.tdp_watts = 0;
    CHECK_THROWS_WITH(power_capped_clock(300, custom), Catch::Contains("no board power (TDP)"));
}

TEST_CASE("power limit: matmuls slow by the clock, element-wise work and the MFU's peak do not", "[perf][power][golden]") {
    const PerfPlan free = perf({});
    PerfOptions o;
    o.power_limit_watts = 600;
    const PerfPlan capped = perf(o);
    const double f = 0.9192502217726916;
    CHECK(capped.clock_fraction == Approx(f).epsilon(1e-12));
    CHECK(capped.peak_flops == free.peak_flops);  // the MFU still divides by the datasheet peak
    CHECK(capped.matmul_seconds == Approx(free.matmul_seconds / f).epsilon(1e-12));
    CHECK(capped.elementwise_seconds == Approx(free.elementwise_seconds).epsilon(1e-12));
    CHECK(capped.mfu < free.mfu);
    // The board draws at most the limit: 600 W × (0.3 + 0.7 × busy).
    CHECK(capped.board_watts == 600);
    CHECK(capped.average_power_watts == Approx(600 * (0.3 + 0.7 * capped.busy_fraction)));
    CHECK(free.board_watts == 700);
}

TEST_CASE("a given peak (--peak-flops) replaces the catalog's for the rate and the MFU", "[perf][power][golden]") {
    const PerfPlan free = perf({});
    PerfOptions o;
    o.peak_flops = 800e12;
    const PerfPlan given = perf(o);
    CHECK(given.peak_given);
    CHECK(given.peak_flops == 800e12);
    CHECK(given.matmul_seconds == Approx(free.matmul_seconds * 989.4 / 800).epsilon(1e-12));
    CHECK(given.mfu == Approx(given.model_flops_per_step / (given.step_seconds * 8 * 800e12)).epsilon(1e-12));
}

TEST_CASE("goodput: a given fraction divides the steady state", "[perf][goodput][golden]") {
    PerfOptions o;
    o.mfu = 0.5;
    o.tokens = 1e12;
    o.goodput = 0.9;
    const PerfPlan r = perf(o);
    // 953,675 steps of 256 × 4096 tokens at MFU 0.5 (tests/test_perf.cpp); expected = steady ÷ 0.9.
    CHECK(r.goodput.modelled);
    CHECK(r.goodput.given);
    CHECK(r.goodput.expected_seconds == Approx(r.training_seconds / 0.9).epsilon(1e-12));
    CHECK(r.goodput.expected_gpu_hours == Approx(8 * r.training_seconds / 0.9 / 3600).epsilon(1e-12));
    CHECK(r.goodput.expected_cost == Approx(r.goodput.expected_gpu_hours * 2.50).epsilon(1e-12));
    // Without an option the expected run is the steady state and nothing says otherwise.
    o.goodput = 0;
    const PerfPlan steady = perf(o);
    CHECK_FALSE(steady.goodput.modelled);
    CHECK(steady.goodput.expected_seconds == steady.training_seconds);
}

TEST_CASE("goodput from failures: Young's interval and the first-order losses", "[perf][goodput][golden]") {
    PerfOptions o;
    o.mfu = 0.5;
    o.tokens = 1e12;
    // A GPU fails every 24 h, so the 8-GPU job every M = 3 h; a checkpoint takes δ = 1.5 min
    // (0.025 h), a restart R = 9 min (0.15 h).
    o.mtbf_hours = 24;
    o.checkpoint_minutes = 1.5;
    o.restart_minutes = 9;
    const PerfPlan r = perf(o);
    const RunGoodput& g = r.goodput;
    CHECK(g.job_mtbf_hours == 3);
    // τ = √(2δM) = √0.15 = 0.387298 h; δ/τ = τ/(2M) = 0.064550; R/M = 0.05;
    // goodput = 1 − 0.064550 − 0.064550 − 0.05 = 0.820901.
    CHECK(g.checkpoint_interval_hours == Approx(0.3872983346207417).epsilon(1e-12));
    CHECK(g.checkpoint_fraction == Approx(0.06454972243679029).epsilon(1e-12));
    CHECK(g.lost_work_fraction == Approx(0.06454972243679029).epsilon(1e-12));
    CHECK(g.restart_fraction == Approx(0.05).epsilon(1e-12));
    CHECK(g.goodput == Approx(0.8209005551264195).epsilon(1e-12));
    CHECK(g.expected_seconds == Approx(r.training_seconds / 0.8209005551264195).epsilon(1e-12));
    // Llama 3 (§3.3.4): 419 unexpected interruptions in 54 days on 16,384 GPUs: one per 3.09 h,
    // a GPU's MTBF 54 · 24 · 16,384 / 419 = 50,677 h. At 16,384 GPUs the job fails as often:
    // the same arithmetic at that scale gives the job MTBF back.
    TrainConfig big = dp8();
    big.parallel.gpus = 16384;
    big.global_batch = 16384;
    o.mtbf_hours = 54.0 * 24 * 16384 / 419;
    CHECK(perf(o, big).goodput.job_mtbf_hours == Approx(54.0 * 24 / 419).epsilon(1e-12));
    // Checkpoints of no cost (asynchronous): only the restarts remain.
    o.mtbf_hours = 24;
    o.checkpoint_minutes = 0;
    CHECK(perf(o).goodput.goodput == Approx(1 - 0.05).epsilon(1e-12));
}

TEST_CASE("goodput refusals name the flag", "[perf][goodput]") {
    PerfOptions o;
    o.goodput = 0.9;
    o.mtbf_hours = 1000;
    CHECK_THROWS_WITH(perf(o), "--goodput and --mtbf-hours each set the run's goodput; give only one of them");
    o = {};
    o.checkpoint_minutes = 5;
    CHECK_THROWS_WITH(perf(o), "--checkpoint-minutes needs --mtbf-hours (how often a GPU fails)");
    o = {};
    o.mtbf_hours = 1;  // the 8-GPU job fails every 7.5 min; a restart takes 10
    o.restart_minutes = 10;
    CHECK_THROWS_WITH(perf(o), Catch::StartsWith("--mtbf-hours 1: the job (8 GPUs) fails every 7.5 minutes"));
    o = {};
    o.goodput = 1.5;
    CHECK_THROWS_WITH(perf(o), "--goodput 1.5: must be in (0, 1]");
}

TEST_CASE("batch ramp-up: the extra steps pay the per-step costs", "[perf][goodput][golden]") {
    PerfOptions o;
    o.tokens = 1e11;
    o.rampup_tokens = 1e10;
    const PerfPlan r = perf(o);
    const RunGoodput& g = r.goodput;
    // From b0 = 1 × 8 ranks = 8 to B = 256 sequences of 4096 tokens over 1e10 tokens:
    // 1e10 · ln(32) / (4096 · 248) = 34,118.02 steps instead of 1e10 / (256 · 4096) = 9,536.74.
    CHECK(g.rampup_tokens == 1e10);
    CHECK(g.rampup_steps == Approx(34118.02134655099).epsilon(1e-12));
    // Paid again per extra step: the optimizer step and the collectives run once per step
    // (ZeRO-1's gradient reduce-scatter and parameter all-gather); pp 1: no bubble.
    double per_step = r.optimizer_seconds + r.bubble_seconds;
    int once = 0;
    for (const CollectiveUse& u : r.collectives)
        if (u.count == 1) {
            per_step += u.exposed_seconds;
            ++once;
        }
    CHECK(once == 2);
    CHECK(g.rampup_extra_seconds == Approx((34118.02134655099 - 9536.7431640625) * per_step).epsilon(1e-12));
    CHECK(g.goodput == 1);
    CHECK(g.expected_seconds == Approx(r.training_seconds + g.rampup_extra_seconds).epsilon(1e-12));
}

TEST_CASE("goodput: checkpoints that cost nothing are said so and not printed as an interval of 0", "[perf][goodput][cli]") {
    // --checkpoint-minutes 0 (the default): Young's interval √(2δM) is 0, so no work is lost.
    const auto r = llmplan::test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "64", "--zero", "1", "--mtbf-hours",
                                           "1e12", "--restart-minutes", "1e6"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("checkpoints cost nothing (--checkpoint-minutes 0: Young's √(2δM) is 0, no work is lost)") !=
          std::string::npos);
    CHECK(r.out.find("0.0 µs") == std::string::npos);
    const auto timed = llmplan::test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "64", "--zero", "1", "--mtbf-hours",
                                               "50000", "--checkpoint-minutes", "2"});
    REQUIRE(timed.code == 0);
    CHECK(timed.out.find(", Young's √(2δM)), lost work ") != std::string::npos);
}
