// test_pytorch_choices.cpp — the pytorch profile's choices beyond its measured fixtures: the
// optimizer implementation (foreach / fused / for-loop), ZeroRedundancyOptimizer's partition,
// gradient accumulation, selective activation checkpointing, the Hugging Face Trainer preset and
// the families added after the first measurements. None of these is measured yet
// (docs/validation/pytorch_memory.md, "Prepared, not yet measured"); the values below are counted
// by hand from the PyTorch sources cited in docs/MEMORY_MODEL.md §7.1.
//
// Model: a tiny Llama (hidden 64, MLP 128, 2 layers, 2 query heads of 32, 1 KV head, vocabulary
// 256, untied), trained on batch 2 × sequence 32 (T = 64 tokens). Its 21 parameter tensors:
// embed_tokens and lm_head 256·64 = 16,384 elements each, per layer two norms of 64, q_proj and
// o_proj 64·64 = 4,096, k_proj and v_proj 64·32 = 2,048, gate/up/down 64·128 = 8,192; the final
// norm 64 — P = 2·16,384 + 2·36,992 + 64 = 106,816 parameters. Allocations round up to 512 B.
#include "cli_run.h"

#include "planner/memory.h"
#include "planner/pytorch_profile.h"

#include "core/error.h"
#include "core/gpu.h"
#include "core/hf_config.h"

#include "pytorch_fixtures.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace llmplan;
using nlohmann::json;

namespace {

TrainConfig job(Precision p = Precision::amp_bf16) {
    TrainConfig c;
    c.framework = Framework::pytorch;
    c.precision = p;
    c.attention = Attention::flash;
    c.micro_batch = 2;
    c.seq = 32;
    return c;
}

TrainConfig with_option(TrainConfig c, const std::string& key, const std::string& value) {
    c.framework_options.push_back({key, value});
    return c;
}

const StageMemory& plan(const ModelSpec& m, const TrainConfig& c, MemoryPlan& keep) {
    keep = plan_memory(m, *find_gpu("h100-sxm"), c);
    return keep.worst();
}

double phase(const StageMemory& s, const std::string& name) {
    for (const PhaseTotal& p : s.phases)
        if (p.name == name) return p.bytes;
    FAIL("no phase " << name);
    return 0;
}

// The tiny Llama's tensors in parameter order (elements).
std::vector<double> tiny_tensors() {
    std::vector<double> t{16384};
    for (int l = 0; l < 2; ++l)
        for (double e : {64.0, 4096.0, 2048.0, 2048.0, 4096.0, 64.0, 8192.0, 8192.0, 8192.0}) t.push_back(e);
    t.push_back(64);
    t.push_back(16384);
    return t;
}

}  // namespace

TEST_CASE("pytorch optimizer step: foreach, fused and for-loop temporaries, by hand", "[pytorch][optimizer]") {
    const std::vector<double> t = tiny_tensors();
    REQUIRE(t.size() == 21);
    // foreach: _foreach_sqrt(exp_avg_sqs) makes one fp32 tensor per parameter:
    // embed + lm_head 2 × 65,536; per layer 2 norms × 512 (256 B rounded) + q, o 16,384 each +
    // k, v 8,192 each + gate/up/down 32,768 each = 148,480; final norm 512.
    const OptimizerStep fe = pytorch_optimizer_step(Optimizer::adamw, OptimizerImpl::foreach, t, 4);
    CHECK(fe.temporaries == 2 * 65536 + 2 * 148480 + 512);  // 428,544
    CHECK(fe.step_tensors == 0);                             // step counters on the CPU
    // for-loop: exp_avg_sq.sqrt() and its quotient, both of the largest tensor (16,384 × 4 B).
    const OptimizerStep fl = pytorch_optimizer_step(Optimizer::adamw, OptimizerImpl::forloop, t, 4);
    CHECK(fl.temporaries == 2 * 65536);
    CHECK(fl.step_tensors == 0);
    // fused: no temporaries; a 0-d fp32 step tensor per parameter on the GPU, 512 B each.
    const OptimizerStep fu = pytorch_optimizer_step(Optimizer::adamw, OptimizerImpl::fused, t, 4);
    CHECK(fu.temporaries == 0);
    CHECK(fu.step_tensors == 21 * 512);
    // SGD (with or without momentum) updates in place and keeps no step counter.
    const OptimizerStep sgd = pytorch_optimizer_step(Optimizer::sgd_momentum, OptimizerImpl::foreach, t, 4);
    CHECK(sgd.temporaries == 0);
    CHECK(sgd.step_tensors == 0);
}

TEST_CASE("pytorch optimizer step: the implementation moves the step's peak and the state", "[pytorch][optimizer]") {
    const ModelSpec m = test::hf_tiny_llama();
    MemoryPlan a, b, d;
    const StageMemory& foreach_ = plan(m, job(), a);
    const StageMemory& fused = plan(m, with_option(job(), "optimizer_impl", "fused"), b);
    const StageMemory& forloop = plan(m, with_option(job(), "optimizer_impl", "forloop"), d);
    // The state: 2 × 106,816 × 4 B; fused adds 21 step tensors of 512 B.
    CHECK(foreach_.optimizer_states == 2 * 106816 * 4);
    CHECK(fused.optimizer_states == 2 * 106816 * 4 + 21 * 512);
    CHECK(forloop.optimizer_states == foreach_.optimizer_states);
    // The step: parameters + state + workspace + every .grad (P × 4 B) + the temporaries.
    const double grads = 106816.0 * 4;
    CHECK(phase(foreach_, "optimizer_step") ==
          foreach_.parameters + foreach_.optimizer_states + kPytorchWorkspaceBytes + grads + 428544);
    CHECK(phase(fused, "optimizer_step") == fused.parameters + fused.optimizer_states + kPytorchWorkspaceBytes + grads);
    CHECK(phase(forloop, "optimizer_step") ==
          forloop.parameters + forloop.optimizer_states + kPytorchWorkspaceBytes + grads + 131072);
    // The forward and backward are the same for all three; only the fused state differs.
    CHECK(phase(fused, "backward") - phase(foreach_, "backward") == 21 * 512);
}

TEST_CASE("pytorch optimizer step: the default and the option are stated, bad values refused", "[pytorch][optimizer]") {
    std::string stated;
    CHECK(pytorch_optimizer_impl(job(), &stated) == OptimizerImpl::foreach);
    CHECK(stated.rfind("foreach (PyTorch's default", 0) == 0);
    CHECK(pytorch_optimizer_impl(with_option(job(), "trainer", "hf"), &stated) == OptimizerImpl::fused);
    CHECK(stated == "fused (the Hugging Face Trainer's default optim adamw_torch_fused)");
    CHECK(pytorch_optimizer_impl(with_option(with_option(job(), "trainer", "hf"), "optimizer_impl", "foreach")) ==
          OptimizerImpl::foreach);
    CHECK_THROWS_WITH(validate_pytorch_profile(test::hf_tiny_llama(), with_option(job(), "optimizer_impl", "apex")),
                      Catch::Contains("--framework-option optimizer_impl=apex") &&
                          Catch::Contains("default, foreach, fused, forloop"));
    CHECK_THROWS_WITH(validate_pytorch_profile(test::hf_tiny_llama(), with_option(job(), "trainer", "lightning")),
                      Catch::Contains("--framework-option trainer=lightning"));
}

TEST_CASE("ZeroRedundancyOptimizer partition: largest first onto the emptiest rank", "[pytorch][optimizer]") {
    // 10 → rank 0; 9 → rank 1; 8 → rank 1 (9 < 10); 7 → rank 0 (10 < 17); 1 → rank 0 (17 = 17: the first).
    CHECK(zero_partition_largest({7, 10, 1, 9, 8}, 2) == std::vector<double>{10, 7, 1});
    CHECK(zero_partition_largest({5, 5, 5}, 4) == std::vector<double>{5});
    // The tiny Llama over 2 ranks: 16,384, 16,384 on one each, then the 8,192s alternate...
    // the heavier rank holds 53,440 of the 106,816 elements (hand-run below).
    const std::vector<double> part = zero_partition_largest(tiny_tensors(), 2);
    double sum = 0;
    for (double e : part) sum += e;
    // sorted: 16384 ×2, 8192 ×6, 4096 ×4, 2048 ×4, 64 ×5. The equal pairs split evenly (each
    // rank 16,384 + 3·8,192 + 2·4,096 + 2·2,048 = 53,248), then the five 64s go 0, 1, 0, 1, 0.
    CHECK(sum == 53248 + 3 * 64);
    TrainConfig c = job();
    c.parallel.gpus = 2;
    c.parallel.zero = 1;
    MemoryPlan keep;
    const StageMemory& s = plan(test::hf_tiny_llama(), c, keep);
    CHECK(s.optimizer_states == 2 * (53248 + 3 * 64) * 4);
}

TEST_CASE("pytorch gradient accumulation: later micro-batches start with every .grad", "[pytorch][accumulation]") {
    const ModelSpec m = test::hf_tiny_llama();
    TrainConfig c = job();
    MemoryPlan a, b;
    const StageMemory& one = plan(m, c, a);
    c.global_batch = 8;  // 4 micro-batches of 2
    const StageMemory& four = plan(m, c, b);
    // The forward of micro-batch 2.. is the first one's with all P × 4 B of gradients allocated.
    CHECK(phase(four, "later_microbatch_forward_peak") - phase(four, "forward_peak") == 106816.0 * 4);
    // Its backward holds every gradient from the start; the first builds them up as it goes, so
    // the later backward is higher by the gradients not yet made at the first one's peak.
    CHECK(phase(four, "later_microbatch_backward") > phase(four, "backward"));
    CHECK(phase(four, "later_microbatch_backward") <= phase(four, "backward") + 106816.0 * 4 + 65536);
    CHECK(four.peak_allocated == phase(four, "later_microbatch_backward"));
    CHECK(four.peak_phase == "later_microbatch_backward");
    // Without accumulation nothing changes.
    CHECK(one.phases.size() == 4);
    CHECK(phase(one, "backward") == phase(four, "backward"));
}

TEST_CASE("pytorch selective checkpointing: the policy's cached outputs, by hand", "[pytorch][sac]") {
    const ModelSpec m = test::hf_tiny_llama();
    TrainConfig c = job(Precision::bf16);
    MemoryPlan a, b;
    c.recompute = Recompute::full;
    const StageMemory& full = plan(m, c, a);
    c.recompute = Recompute::selective;
    const StageMemory& sac = plan(m, c, b);
    // After the forward, selective checkpointing keeps per layer what the policy caches (bf16,
    // T = 64): q_proj's output 64·64·2 = 8,192 B (mm 1), v_proj's 64·32·2 = 4,096 B (mm 3),
    // gate_proj's 64·128·2 = 16,384 B (mm 5), down_proj's 8,192 B (mm 7), the cuDNN SDPA output
    // 8,192 B and its fp32 log-sum-exp 2·2·32·4 = 512 B: 45,568 B per layer beyond full
    // checkpointing (which keeps only the layer input).
    CHECK(phase(sac, "forward_end") - phase(full, "forward_end") == 2 * 45568);
    CHECK(pytorch_sac_policy().find("q_proj, v_proj, gate_proj, down_proj") != std::string::npos);
    CHECK_NOTHROW(validate_pytorch_profile(m, c));
}

TEST_CASE("pytorch profile: Pythia, Qwen3 and Gemma plan end to end", "[pytorch][families]") {
    const std::string data = std::string(LLMPLAN_TEST_DATA) + "/hf/";
    TrainConfig c = job(Precision::bf16);
    c.micro_batch = 1;
    c.seq = 128;
    for (const char* f : {"pythia-160m", "tiny-qwen3", "tiny-gemma2", "tiny-gemma3_text"}) {
        INFO(f);
        const ModelSpec m = model_from_hf_config_file(data + f + ".json", "--hf-config");
        for (Recompute r : {Recompute::none, Recompute::full, Recompute::selective}) {
            c.recompute = r;
            MemoryPlan keep;
            const StageMemory& s = plan(m, c, keep);
            CHECK(s.peak_allocated > s.parameters + s.optimizer_states);
            CHECK(std::isfinite(s.reserved_estimate));
        }
    }
}

TEST_CASE("plan --framework pytorch: the choices on the command line", "[pytorch][cli]") {
    using llmplan::test::run_cli;
    const std::string cfg = std::string(LLMPLAN_TEST_DATA) + "/hf/tiny-qwen3.json";
    const auto r = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--micro-batch", "2", "--seq", "64",
                            "--recompute", "selective", "--global-batch", "8"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("selective checkpointing (torch.utils.checkpoint per decoder layer with torchtitan's op policy") !=
          std::string::npos);
    CHECK(r.out.find("adamw foreach (PyTorch's default for CUDA parameters") != std::string::npos);
    CHECK(r.out.find("4 micro-batches accumulated per step") != std::string::npos);
    CHECK(r.out.find("later_microbatch_backward") != std::string::npos);
    const auto hf = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--framework-option", "trainer=hf"});
    REQUIRE(hf.code == 0);
    CHECK(hf.out.find("Hugging Face Trainer: PyTorch eager") != std::string::npos);
    CHECK(hf.out.find("adamw fused (the Hugging Face Trainer's default optim adamw_torch_fused)") != std::string::npos);
    const auto bad = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--framework-option",
                              "optimizer_impl=apex"});
    CHECK(bad.code == 2);
    CHECK(bad.out.empty());
    CHECK(bad.err.find("--framework-option optimizer_impl=apex: choose one of default, foreach, fused, forloop") !=
          std::string::npos);
    const auto lora = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--recompute", "selective",
                               "--lora-rank", "8"});
    CHECK(lora.code == 2);
    CHECK(lora.err.find("--recompute selective with --lora-rank is not modelled") != std::string::npos);
}

TEST_CASE("plan --optimizer-impl and --trainer: the pytorch profile's options under their own flags", "[pytorch][cli]") {
    using llmplan::test::run_cli;
    const std::string cfg = std::string(LLMPLAN_TEST_DATA) + "/hf/tiny-qwen3.json";
    // The flag gives the same plan as the option it names.
    const auto flag = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--optimizer-impl", "forloop", "--json"});
    const auto option = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--framework-option",
                                 "optimizer_impl=forloop", "--json"});
    REQUIRE(flag.code == 0);
    CHECK(flag.out == option.out);
    CHECK(flag.out.find("forloop") != std::string::npos);
    const auto trainer = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--trainer", "HF"});
    REQUIRE(trainer.code == 0);
    CHECK(trainer.out.find("adamw fused (the Hugging Face Trainer's default optim adamw_torch_fused)") != std::string::npos);
    // Both spellings of one option at once, and the option under a framework that takes none.
    const auto both = run_cli({"plan", "--hf-config", cfg, "--framework", "pytorch", "--optimizer-impl", "fused",
                               "--framework-option", "optimizer_impl=foreach"});
    CHECK(both.code == 2);
    CHECK(both.err == "llmplan plan: error: --optimizer-impl fused: --framework-option optimizer_impl=foreach sets it too; "
                      "give one of them\n");
    const auto generic = run_cli({"plan", "--hf-config", cfg, "--optimizer-impl", "fused"});
    CHECK(generic.code == 2);
    CHECK(generic.err.find("optimizer_impl: --framework generic takes cross_entropy") != std::string::npos);
}
