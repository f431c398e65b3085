// gpu_engine_dist.cpp — the GPU engine on 2 GPUs (data parallelism: DDP and ZeRO 1–3 over NCCL,
// kernels/engine.h, docs/MULTI_GPU.md) against the engine on one GPU trained on the same global
// batch (ctest: gpu.engine_dist, label gpu). Exits 77 (ctest "Skipped") with fewer than 2 GPUs, 0
// when every check passes, 1 otherwise; prints one line per check.
//
// The parent starts itself twice (dist/launcher.h, one process per GPU, as `llmplan
// profile --gpus 2` does). Each rank trains every configuration for 3 steps on its half of the
// same seeded global batch (2 × B sequences; rank r takes rows r·B … r·B + B − 1) with small
// gradient buckets (16 KiB first, 64 KiB after: several buckets, some padded, some one tensor
// larger than the cap) and checks on its own:
//   * its books (every category's peak and the total peak) equal llmplan_engine_books (the
//     planner's --framework llmplan books for 2 GPUs) and replay_engine_books of the rank's step
//     program (engine/program.h) to the byte;
//   * every step's collectives: per purpose the calls and bytes equal the shard plan's
//     (engine/shard_plan.h, padded units) exactly;
// and writes its losses, skipped steps and final fp32 weights (ZeRO: all-gathered). The parent then
// trains the one-GPU engine with micro-batch 2 × B on the same batches and checks:
//   * the ranks' weights are bit for bit the same;
//   * loss (mean of the ranks') and weights equal the one-GPU run's: fp32 within 1e-5 (loss,
//     relative), ‖Δw‖/‖w‖ ≤ 1e-5 and ‖Δw‖/‖w − w₀‖ ≤ 1e-3 (reduction order only); bf16 within 1e-2,
//     1e-3 and 5e-2 (the sum of the ranks' bf16 gradients rounds once more than one GPU's);
//   * fp16 (bf16's tolerances), and with a loss scale that overflows: the ranks skip the same steps
//     as one GPU does (each rank scales by S / 2, so the summed gradients carry S as one GPU's do).
#include "kernels/comm.h"
#include "dist/launcher.h"
#include "engine/program.h"
#include "engine/shard_plan.h"
#include "kernels/engine.h"
#include "planner/llmplan_profile.h"
#include "tiny_models.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace llmplan;
using llmplan::DType;

constexpr int kSteps = 3, kB = 2, kS = 16;
constexpr std::size_t kCap = 64 << 10, kFirst = 16 << 10;

struct Config {
    std::string name;
    ModelSpec spec;
    DType dt;
    int zero;
    float loss_scale = 65536.0f;
};

std::vector<Config> configs() {
    // GPT-2 style (tied, odd vocabulary: padded units) and Llama style (untied, GQA).
    const ModelSpec gpt = test::gpt2_like(3, 64, 4, 256, 101, 32, "dist-gpt2");
    const ModelSpec llama = test::llama_like(2, 64, 4, 2, 160, 97, 64, "dist-llama");
    std::vector<Config> out;
    for (int z = 0; z <= 3; ++z) {
        out.push_back({"gpt2 fp32 zero" + std::to_string(z), gpt, DType::fp32, z});
        out.push_back({"llama fp32 zero" + std::to_string(z), llama, DType::fp32, z});
        out.push_back({"gpt2 bf16 zero" + std::to_string(z), gpt, DType::bf16, z});
    }
    // fp16: its default scale (2^16), and one that overflows: every rank skips what one GPU skips.
    out.push_back({"gpt2 fp16 zero1", gpt, DType::fp16, 1});
    out.push_back({"gpt2 fp16 zero2 scale 2^40", gpt, DType::fp16, 2, std::ldexp(1.0f, 40)});
    out.push_back({"llama fp16 zero3 scale 2^40", llama, DType::fp16, 3, std::ldexp(1.0f, 40)});
    return out;
}

Precision precision_of(DType dt) {
    return dt == DType::fp32 ? Precision::fp32 : dt == DType::bf16 ? Precision::mixed_bf16 : Precision::mixed_fp16;
}

struct Batch {
    std::vector<int> ids, targets;
};
// The global batch of a step: 2 × B sequences, the same on every rank and for the one-GPU run.
Batch global_batch(const ModelSpec& spec, int step) {
    std::mt19937_64 gen(1000 + static_cast<unsigned>(step));
    std::uniform_int_distribution<int> tok(0, static_cast<int>(spec.vocab_size) - 1);
    Batch b;
    const std::size_t n = 2 * kB * kS;
    b.ids.resize(n);
    b.targets.resize(n);
    for (int& t : b.ids) t = tok(gen);
    for (int& t : b.targets) t = tok(gen);
    return b;
}

kernels::EngineOptions options(const Config& c) {
    kernels::EngineOptions o = kernels::engine_options(Recompute::none, Attention::flash, c.dt);
    o.loss_scale = c.loss_scale;
    o.bucket_cap_bytes = kCap;
    o.first_bucket_bytes = kFirst;
    return o;
}

std::string file_of(const std::string& dir, const Config& c, int rank, const char* what) {
    std::string name = c.name;
    std::replace(name.begin(), name.end(), ' ', '_');
    std::replace(name.begin(), name.end(), '^', '_');
    return dir + "/" + name + "_r" + std::to_string(rank) + "." + what;
}

// ---- a rank ----

int rank_main(int rank, const std::string& id_file, const std::string& dir) {
    std::ofstream checks(dir + "/checks_r" + std::to_string(rank) + ".txt");
    int failed = 0;
    auto check = [&](bool ok, const std::string& what) {
        checks << (ok ? "pass" : "FAIL") << "  rank " << rank << ": " << what << "\n";
        checks.flush();
        if (!ok) ++failed;
    };
    kernels::CommConfig cc;
    cc.rank = rank;
    cc.world = 2;
    cc.id_file = id_file;
    cc.timeout_seconds = 60;
    kernels::Communicator comm(cc);
    for (const Config& c : configs()) {
        kernels::EngineOptions o = options(c);
        o.world = 2;
        o.rank = rank;
        o.zero = c.zero;
        o.comm = &comm;
        kernels::GpuModel model(c.spec, o, 7);
        model.reset_peaks();
        // The shard plan with the engine's caps, and the planner's books for this rank.
        dist::ShardOptions so;
        so.world = 2;
        so.zero = c.zero;
        so.element_bytes = dtype_bytes(c.dt);
        so.bucket_cap_bytes = kCap;
        so.first_bucket_bytes = kFirst;
        const dist::ShardPlan plan = dist::plan_shards(dist::engine_flat_layout(c.spec), so);
        std::ofstream losses(file_of(dir, c, rank, "losses"));
        bool comm_ok = true;
        std::string comm_detail;
        for (int step = 0; step < kSteps; ++step) {
            const Batch g = global_batch(c.spec, step);
            const auto b = static_cast<std::ptrdiff_t>(rank) * kB * kS, e = b + kB * kS;
            const std::vector<int> ids(g.ids.begin() + b, g.ids.begin() + e), targets(g.targets.begin() + b, g.targets.begin() + e);
            const kernels::EngineStepStats st = model.train_step(ids, targets, kB, kS, kernels::EngineAdamW{});
            losses << st.loss << " " << (st.skipped ? 1 : 0) << "\n";
            std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> seen;  // purpose → calls, bytes
            for (const kernels::EngineCommCall& call : st.comm) {
                ++seen[call.purpose].first;
                seen[call.purpose].second += call.bytes;
            }
            for (const dist::CommVolume& v : plan.volumes) {
                const auto it = seen.find(v.purpose);
                const std::uint64_t calls = it == seen.end() ? 0 : it->second.first;
                const std::uint64_t bytes = it == seen.end() ? 0 : it->second.second;
                if (calls != v.calls_per_step || bytes != v.bytes_per_step) {
                    comm_ok = false;
                    comm_detail += " " + v.purpose + ": " + std::to_string(calls) + " calls " + std::to_string(bytes) +
                                   " B, plan " + std::to_string(v.calls_per_step) + " calls " +
                                   std::to_string(v.bytes_per_step) + " B;";
                }
                seen.erase(v.purpose);
            }
            for (const auto& [purpose, cb] : seen)
                if (purpose != "norm and overflow all-gather") {
                    comm_ok = false;
                    comm_detail += " unexpected " + purpose + ";";
                }
        }
        check(comm_ok, c.name + ": every step's collectives equal the shard plan's (calls and padded bytes, " +
                           std::to_string(plan.units.size()) + " units)" + comm_detail);
        TrainConfig tc;
        tc.framework = Framework::llmplan;
        tc.precision = precision_of(c.dt);
        tc.recompute = Recompute::none;
        tc.attention = Attention::flash;
        tc.micro_batch = kB;
        tc.seq = kS;
        tc.parallel.gpus = 2;
        tc.parallel.zero = c.zero;
        const EngineBooks books = llmplan_engine_books(c.spec, tc, kCap, kFirst);
        const kernels::EngineMemory mem = model.memory();
        bool same = mem.total_peak == static_cast<std::size_t>(books.total_peak);
        std::ostringstream detail;
        detail << " total " << mem.total_peak << " vs " << books.total_peak << ";";
        for (std::size_t k = 0; k < static_cast<std::size_t>(kMemoryCategories); ++k) {
            if (mem.peak[k] != static_cast<std::size_t>(books.peak[k])) {
                same = false;
                detail << " " << to_string(static_cast<MemoryCategory>(k)) << " " << mem.peak[k]
                       << " vs " << books.peak[k] << ";";
            }
        }
        check(same, c.name + ": books equal the planner's (every category's peak and the total)" + detail.str());
        const EngineBooksReplay replay = replay_engine_books(build_engine_program(c.spec, kernels::engine_step_options(o, kB, kS)));
        bool replayed = static_cast<double>(mem.total_peak) == replay.total_peak;
        for (std::size_t k = 0; k < static_cast<std::size_t>(kMemoryCategories); ++k)
            replayed = replayed && static_cast<double>(mem.peak[k]) == replay.peak[k];
        check(replayed, c.name + ": books equal the step program's replay (every category's peak and the total, " +
                            std::to_string(mem.total_peak) + " vs " + std::to_string(static_cast<std::size_t>(replay.total_peak)) + " B)");
        const std::vector<float> w = model.parameters();  // ZeRO: all-gathered (both ranks call it)
        std::ofstream wf(file_of(dir, c, rank, "weights"), std::ios::binary);
        wf.write(reinterpret_cast<const char*>(w.data()), static_cast<std::streamsize>(w.size() * sizeof(float)));
    }
    return failed == 0 ? 0 : 1;
}

// ---- the parent ----

int failures = 0, checks = 0;
void check(bool ok, const std::string& what) {
    ++checks;
    if (!ok) ++failures;
    std::printf("%s  %s\n", ok ? "pass" : "FAIL", what.c_str());
}

std::vector<float> read_floats(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> out(bytes.size() / sizeof(float));
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
    return out;
}

double norm_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    return std::sqrt(s);
}
double norm(const std::vector<float>& a) {
    double s = 0;
    for (const float x : a) s += static_cast<double>(x) * x;
    return std::sqrt(s);
}

void compare(const Config& c, const std::string& dir) {
    kernels::GpuModel one(c.spec, options(c), 7);
    const std::vector<float> w0 = one.parameters();
    std::vector<float> loss1;
    std::vector<int> skipped1;
    for (int step = 0; step < kSteps; ++step) {
        const Batch g = global_batch(c.spec, step);
        const kernels::EngineStepStats st = one.train_step(g.ids, g.targets, 2 * kB, kS, kernels::EngineAdamW{});
        loss1.push_back(st.loss);
        skipped1.push_back(st.skipped ? 1 : 0);
    }
    const std::vector<float> w1 = one.parameters();
    std::vector<float> rank_loss[2];
    std::vector<int> rank_skipped[2];
    for (int r = 0; r < 2; ++r) {
        std::ifstream in(file_of(dir, c, r, "losses"));
        float l = 0;
        int s = 0;
        while (in >> l >> s) {
            rank_loss[r].push_back(l);
            rank_skipped[r].push_back(s);
        }
    }
    const std::vector<float> wr0 = read_floats(file_of(dir, c, 0, "weights"));
    const std::vector<float> wr1 = read_floats(file_of(dir, c, 1, "weights"));
    if (rank_loss[0].size() != kSteps || rank_loss[1].size() != kSteps || wr0.size() != w1.size() || wr1.size() != w1.size()) {
        check(false, c.name + ": the ranks' results are incomplete");
        return;
    }
    const bool fp32 = c.dt == DType::fp32;
    const double loss_tol = fp32 ? 1e-5 : 1e-2, w_tol = fp32 ? 1e-5 : 1e-3, upd_tol = fp32 ? 1e-3 : 5e-2;
    double worst = 0;
    for (int s = 0; s < kSteps; ++s) {
        const double mean = 0.5 * (static_cast<double>(rank_loss[0][static_cast<std::size_t>(s)]) + rank_loss[1][static_cast<std::size_t>(s)]);
        worst = std::max(worst, std::fabs(mean - loss1[static_cast<std::size_t>(s)]) / std::fabs(loss1[static_cast<std::size_t>(s)]));
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, ": losses (mean of the ranks) = one GPU's on 2 × B: worst relative %.2e (tol %.0e)", worst, loss_tol);
    check(worst <= loss_tol, c.name + buf);
    check(rank_skipped[0] == skipped1 && rank_skipped[1] == skipped1,
          c.name + ": the ranks skip the steps one GPU skips (" + std::to_string(std::count(skipped1.begin(), skipped1.end(), 1)) +
              " of 3)");
    check(norm_diff(wr0, wr1) == 0, c.name + ": both ranks hold the same weights, bit for bit");
    const double rel = norm_diff(wr0, w1) / norm(w1), upd = norm_diff(wr0, w1) / std::max(norm_diff(w1, w0), 1e-30);
    std::snprintf(buf, sizeof buf, ": weights after 3 steps = one GPU's: ‖Δ‖/‖w‖ %.2e (tol %.0e), ‖Δ‖/‖w − w0‖ %.2e (tol %.0e)",
                  rel, w_tol, upd, upd_tol);
    const bool all_skipped = std::count(skipped1.begin(), skipped1.end(), 1) == kSteps;
    check(rel <= w_tol && (upd <= upd_tol || all_skipped), c.name + buf);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace llmplan;
    if (argc == 5 && std::strcmp(argv[1], "--rank") == 0) {
        try {
            return rank_main(std::atoi(argv[2]), argv[3], argv[4]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "rank %s: %s\n", argv[2], e.what());
            return 1;
        }
    }
    std::string why;
    const int gpus = kernels::comm_visible_gpus(&why);
    if (gpus < 2) {
        std::printf("gpu.engine_dist: skipped: needs 2 GPUs (%d visible%s%s)\n", gpus, why.empty() ? "" : ": ", why.c_str());
        return 77;
    }
    try {
        namespace fs = std::filesystem;
        std::string tmpl = (fs::temp_directory_path() / "llmplan-engine-dist-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary folder");
        const std::string dir = tmpl;
        dist::LaunchOptions launch;
        launch.program = dist::self_executable();
        launch.log_dir = dir;
        launch.timeout_seconds = 300;
        for (int r = 0; r < 2; ++r) launch.args.push_back({"--rank", std::to_string(r), dir + "/nccl_id", dir});
        const dist::LaunchResult result = dist::launch_ranks(launch);
        for (int r = 0; r < 2; ++r) {
            std::ifstream in(dir + "/checks_r" + std::to_string(r) + ".txt");
            for (std::string line; std::getline(in, line);) {
                ++checks;
                if (line.rfind("pass", 0) != 0) ++failures;
                std::printf("%s\n", line.c_str());
            }
        }
        check(result.ok, "both ranks finished: " + result.summary());
        if (result.ok)
            for (const Config& c : configs()) compare(c, dir);
        std::error_code ec;
        if (failures == 0) fs::remove_all(dir, ec);
    } catch (const std::exception& e) {
        std::printf("FAIL  exception: %s\n", e.what());
        ++failures;
    }
    std::printf("gpu.engine_dist: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
