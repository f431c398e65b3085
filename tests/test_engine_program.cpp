// test_engine_program.cpp — the engine's step program (engine/program.h): a tiny model's program
// checked by hand, the CPU reference's measured books equal to the program's replay, and one
// refusal message everywhere.
#include "core/error.h"
#include "engine/init.h"
#include "engine/program.h"
#include "planner/engine_time.h"
#include "planner/llmplan_profile.h"
#include "profiler/runner.h"
#include "reference/model.h"
#include "tests/tiny_models.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace llmplan;

namespace {

std::size_t count_events(const EngineProgram& p, ProgramEvent::Kind k) {
    std::size_t n = 0;
    for_each_step_event(p, [&](const ProgramEvent& e, std::int64_t) { n += e.kind == k ? 1 : 0; });
    return n;
}

double bytes_in(const EngineProgram& p, MemoryCategory c) {
    double b = 0;
    for (const ProgramBuffer& x : p.buffers) b += x.category == c ? x.bytes() : 0;
    return b;
}

}  // namespace

TEST_CASE("engine program: a tiny GPT-2's step by hand", "[engine_program]") {
    // 2 layers, d 64, 4 heads (head_dim 16), d_ff 256, V 100, 32 learned positions, tied; B 2, S 16
    // (T = 32), fp32, no recompute, flash attention.
    const ModelSpec m = test::gpt2_like(2, 64, 4, 256, 100, 32);
    EngineStepOptions o;
    o.micro_batch = 2;
    o.seq = 16;
    const EngineProgram p = build_engine_program(m, o);
    // Ψ: wte 100·64 + wpe 32·64 + 2 layers × (4 norm + 3·(64·64 + 64) q, k, v + 64·64 + 64 o +
    // 256·64 + 256 up + 64·256 + 64 down) + final norm 128 = 6,400 + 2,048 + 2 × 49,984 + 128.
    REQUIRE(p.layout.size() == 2 + 2 * 16 + 2);
    CHECK(p.layout.back().offset + p.layout.back().size == 108544);
    CHECK(p.layout[2].name == "layers.0.attn_norm.weight");
    // Kernels: forward zero_grad, 2 embeddings + their add, 2 × 12 per layer (norm, q, k, v,
    // attention, o, add, norm, up, GELU, down, add), final norm, head, cross-entropy = 31;
    // backward head, final norm, 2 × 12 per layer, 2 embeddings = 28; optimizer global norm + 36
    // AdamW (one per tensor) = 37.
    CHECK(count_events(p, ProgramEvent::Kind::kernel) == 31 + 28 + 37);
    // Buffers: 4 statics; forward 3 residuals, 2 × 14 kept fields (no probabilities, no up: GELU),
    // final norm mean, rstd and output, logits; backward 9 gradient buffers (no up: GELU).
    CHECK(p.buffers.size() == 4 + 3 + 28 + 3 + 1 + 9);
    CHECK(count_events(p, ProgramEvent::Kind::alloc) == p.buffers.size());
    CHECK(count_events(p, ProgramEvent::Kind::free) == p.buffers.size() - 4);  // all but the statics
    CHECK(bytes_in(p, MemoryCategory::parameters) == 4 * 108544);
    CHECK(bytes_in(p, MemoryCategory::gradients) == 4 * 108544);
    CHECK(bytes_in(p, MemoryCategory::optimizer) == 8 * 108544);
    // One layer kept: stats 4·(32 + 32) · 2 norms, [T,d] ln1_out q k v att x_mid ln2_out = 7 × 2,048
    // floats, lse 2·4·16 = 128 floats, up and GELU outputs 2 × 8,192 floats = 123,904 B.
    CHECK(p.bytes_of(BufferRole::layer_field, 0) == 123904);
    // Activations: 3 residuals 3 × 8,192 + final norm 256 + 8,192 + 2 layers = 280,832 B.
    CHECK(bytes_in(p, MemoryCategory::activations) == 280832);
    CHECK(bytes_in(p, MemoryCategory::logits) == 32 * 100 * 4);
    // Workspace: the gradient buffers 4·(3·2,048 + 2·2,048 + 2·2,048 + 2·8,192) = 122,880 B.
    CHECK(bytes_in(p, MemoryCategory::workspace) == 122880);

    const EngineBooksReplay r = replay_engine_books(p);
    const double statics = 16 * 108544;  // 1,736,704
    CHECK(r.statics == statics);
    CHECK(r.at_mark(StepMark::forward_end) == statics + 280832 + 12800);
    CHECK(r.at_mark(StepMark::head_backward) == statics + 280832 + 12800 + 8192);
    // The gradient buffers exist once the logits, final-norm output (8,192) and stats (256) are freed.
    CHECK(r.at_mark(StepMark::backward_workspace) == statics + 280832 - 8448 + 122880);
    CHECK(r.total_peak == 2131968);
    CHECK(r.total_peak_phase == MemoryPhase::backward);
    CHECK(r.at_peak[static_cast<std::size_t>(MemoryCategory::activations)] == 272384);
    CHECK(r.at_peak[static_cast<std::size_t>(MemoryCategory::logits)] == 0);
    CHECK(r.at_peak[static_cast<std::size_t>(MemoryCategory::workspace)] == 122880);
    CHECK(r.peak[static_cast<std::size_t>(MemoryCategory::activations)] == 280832);
    CHECK(r.peak_phase[static_cast<std::size_t>(MemoryCategory::activations)] == MemoryPhase::forward);
    CHECK(r.at_mark(StepMark::optimizer_step) == statics);  // everything else freed
}

TEST_CASE("engine program: the CPU reference's books are the program's replay", "[engine_program]") {
    const ModelSpec models[] = {test::gpt2_like(2, 32, 4, 96, 50, 16), test::llama_like(3, 32, 4, 2, 80, 60, 64)};
    for (const ModelSpec& m : models)
        for (const Recompute rc : {Recompute::none, Recompute::selective, Recompute::full})
            for (const Attention at : {Attention::eager, Attention::flash}) {
                const int B = 2, S = 12;
                reference::TrainOptions to;
                to.recompute = rc;
                to.attention = at;
                reference::ReferenceModel model(m, to, 1);
                const test::Tokens tok = test::random_tokens(m, B, S);
                const reference::StepStats st = model.train_step(tok.ids, tok.targets, B, S, reference::AdamW{});
                EngineStepOptions o;
                o.recompute = rc;
                o.attention = at;
                o.micro_batch = B;
                o.seq = S;
                const EngineProgram p = build_engine_program(m, o);
                const EngineBooksReplay r = replay_engine_books(p);
                INFO(m.name << " recompute " << to_string(rc) << ", " << to_string(at));
                for (std::size_t c = 0; c < kMemoryCategories; ++c) {
                    CHECK(static_cast<double>(st.memory.peak[c]) == r.peak[c]);
                    CHECK(st.memory.peak_phase[c] == r.peak_phase[c]);
                    CHECK(static_cast<double>(st.memory.current[c]) ==
                          (c <= static_cast<std::size_t>(MemoryCategory::optimizer) ? r.peak[c] : 0.0));
                }
                CHECK(static_cast<double>(st.memory.total_peak) == r.total_peak);
                CHECK(st.memory.total_peak_phase == r.total_peak_phase);
                // The reference's layout is the program's.
                REQUIRE(model.params().size() == p.layout.size());
                for (std::size_t i = 0; i < p.layout.size(); ++i) {
                    CHECK(model.params()[i].name == p.layout[i].name);
                    CHECK(model.params()[i].offset == p.layout[i].offset);
                }
            }
}

TEST_CASE("engine program: one refusal, the same message everywhere", "[engine_program]") {
    ModelSpec moe = test::llama_like(2, 32, 4, 2, 80, 60);
    moe.n_experts = 4;
    moe.top_k = 2;
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = Precision::fp32;
    const std::string why = engine_supports(moe, c);
    CHECK(why == "model llama-like: mixture of experts is not supported by llmplan's engine (it trains GPT-2 and "
                 "Llama-style decoders: no MoE, relative positions, parallel residual, partial rotary, sliding window or "
                 "squared ReLU)");
    CHECK_THROWS_WITH(validate_llmplan_profile(moe, c), why);
    CHECK_THROWS_WITH(engine_step_kernels(moe, c), why);
    CHECK_THROWS_WITH(reference::ReferenceModel(moe), why);
    CHECK_THROWS_WITH(build_engine_program(moe, engine_step_options(c)), why);
    // A squared-ReLU MLP (Nemotron) has GELU's matrices but no kernel of the engine computes relu(x)².
    ModelSpec relu2 = test::tiny_gpt2();
    relu2.activation = Activation::relu2;
    CHECK(engine_supports(relu2, c).starts_with("model " + relu2.name + ": a squared-ReLU MLP is not supported"));
    CHECK_THROWS_WITH(reference::ReferenceModel(relu2), engine_supports(relu2, c));
    // Flags are named.
    const ModelSpec ok = test::tiny_llama();
    c.precision = Precision::amp_fp16;
    CHECK(engine_supports(ok, c) == "--precision amp-fp16: the engine runs fp32, mixed-bf16 and mixed-fp16");
    c.precision = Precision::fp32;
    c.dropout = 0.1;
    CHECK(engine_supports(ok, c) == "--dropout: the engine has no dropout");
    c.dropout = 0;
    CHECK(engine_supports(ok, c).empty());
    ModelSpec wide = test::llama_like(1, 1024, 2, 2, 64, 60);  // head_dim 512
    c.attention = Attention::flash;
    CHECK(engine_supports(wide, c).starts_with("--attention flash: "));
    c.attention = Attention::eager;
    CHECK(engine_supports(wide, c).empty());
}

TEST_CASE("engine program: gradient accumulation repeats the micro-batch, the books stay one micro-batch's",
          "[engine_program]") {
    // The tiny GPT-2 of the first test (B 2, S 16), A = 3 micro-batches per optimizer step.
    const ModelSpec m = test::gpt2_like(2, 64, 4, 256, 100, 32);
    EngineStepOptions o;
    o.micro_batch = 2;
    o.seq = 16;
    const EngineProgram one = build_engine_program(m, o);
    o.accumulation = 3;
    const EngineProgram p = build_engine_program(m, o);
    // Kernels: zero_grad once, then 3 × (30 forward without it + 28 backward), then the optimizer's
    // 37: 1 + 174 + 37 = 212 (one micro-batch: 31 + 28 + 37 = 96).
    CHECK(count_events(one, ProgramEvent::Kind::kernel) == 96);
    CHECK(count_events(p, ProgramEvent::Kind::kernel) == 212);
    // The same 48 buffers, allocated and freed again by each micro-batch: the 4 statics once, the
    // 44 per-step buffers 3 times.
    CHECK(p.buffers.size() == one.buffers.size());
    CHECK(p.buffers.size() == 48);
    CHECK(count_events(p, ProgramEvent::Kind::alloc) == 4 + 3 * 44);
    CHECK(count_events(p, ProgramEvent::Kind::free) == 3 * 44);
    // Phases: 3 × (forward, backward), optimizer, idle.
    CHECK(count_events(p, ProgramEvent::Kind::phase) == 3 * 2 + 2);
    // Stored once, whatever A: the micro-batch's events from its forward phase to its backward's end.
    CHECK(p.events.size() == one.events.size());
    const ProgramIndex x = index_program(p, m.n_layers);
    CHECK(p.micro_begin == x.forward_begin);
    CHECK(p.micro_begin < x.backward_begin);
    CHECK(x.backward_begin < p.micro_end);
    CHECK(p.events[p.micro_end].kind == ProgramEvent::Kind::phase);
    CHECK(p.events[p.micro_end].phase == MemoryPhase::optimizer);
    // The walk: micro-batch 0, 1, 2 in order, the optimizer's events as the last micro-batch's.
    std::vector<std::int64_t> seen;
    for_each_step_event(p, [&](const ProgramEvent& e, std::int64_t a) {
        if (e.kind == ProgramEvent::Kind::phase && e.phase == MemoryPhase::forward) seen.push_back(a);
    });
    CHECK(seen == std::vector<std::int64_t>{0, 1, 2});
    // The books: the same numbers as one micro-batch (hand-checked in the first test): each
    // micro-batch frees what it allocated, and the gradients are accumulated in place.
    const EngineBooksReplay r = replay_engine_books(p);
    const double statics = 16 * 108544;
    CHECK(r.statics == statics);
    CHECK(r.total_peak == 2131968);
    CHECK(r.total_peak_phase == MemoryPhase::backward);
    CHECK(r.forward_peak == statics + 280832 + 12800);
    CHECK(r.at_peak[static_cast<std::size_t>(MemoryCategory::activations)] == 272384);
    CHECK(r.at_peak[static_cast<std::size_t>(MemoryCategory::workspace)] == 122880);
    CHECK(r.peak[static_cast<std::size_t>(MemoryCategory::gradients)] == 4 * 108544);
    std::size_t ends = 0;
    for (const auto& [mark, bytes] : r.marks)
        if (mark == StepMark::forward_end) {
            ++ends;
            CHECK(bytes == statics + 280832 + 12800);  // every micro-batch's forward holds the same
        }
    CHECK(ends == 3);
    CHECK(r.at_mark(StepMark::optimizer_step) == statics);
    // Zero micro-batches is refused, naming the flag.
    o.accumulation = 0;
    CHECK(engine_supports(m, o).starts_with("--global-batch: 0 micro-batches per step"));
}

TEST_CASE("engine program: accumulation in the time model: the step's kernels are A micro-batches'",
          "[engine_program]") {
    const ModelSpec m = test::tiny_llama();
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = Precision::mixed_bf16;
    c.micro_batch = 2;
    c.seq = 16;
    c.global_batch = 2;
    const auto calls = [&](MemoryPhase ph) {
        double n = 0;
        for (const EngineKernelCall& k : engine_step_kernels(m, c)) n += k.phase == ph ? k.calls : 0;
        return n;
    };
    const double f1 = calls(MemoryPhase::forward), b1 = calls(MemoryPhase::backward), o1 = calls(MemoryPhase::optimizer);
    c.global_batch = 8;  // 4 micro-batches of 2
    CHECK(engine_step_options(c).accumulation == 4);
    CHECK(calls(MemoryPhase::forward) == 4 * f1 - 3);  // zero_grad once
    CHECK(calls(MemoryPhase::backward) == 4 * b1);
    CHECK(calls(MemoryPhase::optimizer) == o1);
}

TEST_CASE("engine program: accumulation runs on the CPU reference, the planner and one GPU, not on several",
          "[engine_program]") {
    const ModelSpec m = test::tiny_llama();
    TrainConfig c;
    c.framework = Framework::llmplan;
    c.precision = Precision::fp32;
    c.micro_batch = 2;
    c.seq = 16;
    c.global_batch = 6;
    // The step program, the reference and the planner's books accept it ...
    CHECK(engine_supports(m, c).empty());
    CHECK_NOTHROW(validate_llmplan_profile(m, c));
    CHECK(engine_step_options(c).accumulation == 3);
    // ... the CUDA engine too on one GPU; with several it refuses, in one line naming the flag.
    CHECK(cuda_engine_supports(engine_step_options(c)).empty());
    c.parallel.gpus = 2;
    c.global_batch = 12;
    CHECK(cuda_engine_supports(engine_step_options(c)) ==
          "--global-batch: 3 micro-batches per step on 2 GPUs; the CUDA engine accumulates gradients on one GPU only "
          "(--global-batch = --micro-batch × --gpus with several); several ranks with accumulation run in the planner "
          "(--framework llmplan)");
    c.global_batch = 4;
    CHECK(cuda_engine_supports(engine_step_options(c)).empty());
    c.parallel.gpus = 1;
    // The profiler: the CPU reference runs 3 micro-batches a step, its books the program's replay;
    // the CUDA path refuses before looking for a GPU.
    profiler::ProfileRequest req;
    req.model = m;
    req.batch = 2;
    req.seq = 16;
    req.accumulation = 3;
    req.steps = 1;
    req.warmup = 0;
    req.device = profiler::ProfileDevice::cpu;
    const profiler::ProfileMeasurement run = profiler::run_profile(req, {});
    EngineStepOptions o;
    o.micro_batch = 2;
    o.seq = 16;
    o.accumulation = 3;
    CHECK(run.total_peak_bytes == replay_engine_books(build_engine_program(m, o)).total_peak);
    REQUIRE(run.steps.size() == 1);
    // The CUDA path with 2 ranks refuses before looking for a GPU.
    req.device = profiler::ProfileDevice::cuda;
    req.world = 2;
    o.world = 2;
    REQUIRE_FALSE(cuda_engine_supports(o).empty());
    CHECK_THROWS_WITH(profiler::run_profile(req, {}), cuda_engine_supports(o));
}

TEST_CASE("engine program: A micro-batches of b on the CPU reference equal one batch of A·b", "[engine_program]") {
    const ModelSpec models[] = {test::gpt2_like(2, 32, 4, 96, 50, 16), test::llama_like(2, 32, 4, 2, 80, 60, 64)};
    for (const ModelSpec& m : models)
        for (const Recompute rc : {Recompute::none, Recompute::full}) {
            const int A = 3, b = 2, S = 8;
            reference::TrainOptions to;
            to.recompute = rc;
            reference::ReferenceModel acc(m, to, 5), whole(m, to, 5);
            test::Tokens tok = test::random_tokens(m, A * b, S, 11);
            // Ignored targets, unevenly: 5 in the first micro-batch, none in the others (the step's
            // mean is over its 43 counted targets, not the mean of the micro-batches' means).
            for (int i = 0; i < 5; ++i) tok.targets[static_cast<std::size_t>(3 * i)] = -1;
            const reference::AdamW opt;
            const reference::StepStats sa = acc.train_step(tok.ids, tok.targets, b, S, opt, A);
            const reference::StepStats sw = whole.train_step(tok.ids, tok.targets, A * b, S, opt);
            INFO(m.name << " recompute " << to_string(rc));
            CHECK(sa.loss == Approx(sw.loss).epsilon(1e-6));
            CHECK(sa.grad_norm == Approx(sw.grad_norm).epsilon(1e-5));
            // The gradients (after the step: those the optimizer used) and the updated weights.
            const auto ga = acc.gradients(), gw = whole.gradients();
            const auto pa = acc.parameters(), pw = whole.parameters();
            double gmax = 0, gdiff = 0, pdiff = 0;
            for (std::size_t i = 0; i < ga.size(); ++i) {
                gmax = std::max(gmax, static_cast<double>(std::abs(gw[i])));
                gdiff = std::max(gdiff, static_cast<double>(std::abs(ga[i] - gw[i])));
                pdiff = std::max(pdiff, static_cast<double>(std::abs(pa[i] - pw[i])));
            }
            CHECK(gmax > 1e-3);
            CHECK(gdiff <= 1e-5 * gmax);
            CHECK(pdiff <= 1e-6);
            // The books: the program's replay with accumulation, which are one micro-batch of b's.
            EngineStepOptions o;
            o.recompute = rc;
            o.micro_batch = b;
            o.seq = S;
            o.accumulation = A;
            const EngineBooksReplay r = replay_engine_books(build_engine_program(m, o));
            o.accumulation = 1;
            const EngineBooksReplay r1 = replay_engine_books(build_engine_program(m, o));
            CHECK(r.total_peak == r1.total_peak);
            CHECK(static_cast<double>(sa.memory.total_peak) == r.total_peak);
            CHECK(sa.memory.total_peak_phase == r.total_peak_phase);
            for (std::size_t c = 0; c < kMemoryCategories; ++c) {
                CHECK(static_cast<double>(sa.memory.peak[c]) == r.peak[c]);
                CHECK(sa.memory.peak_phase[c] == r.peak_phase[c]);
            }
            // The whole batch's peak is larger: accumulation is what keeps it down.
            CHECK(static_cast<double>(sw.memory.total_peak) > r.total_peak);
        }
}

TEST_CASE("engine init: the threaded fill draws the one splitmix64 stream, bit for bit", "[engine_program]") {
    // The matrices' normals as one sequential stream (the definition in engine/init.h): pairs of
    // uniforms in layout order, an odd matrix drawing a whole last pair.
    struct Slot {
        std::string name;
        std::size_t offset, size;
        std::int64_t rows, cols;
    };
    const std::size_t big = (std::size_t{1} << 23) + 5;  // three chunks of 2^22, the last of 5 values
    const std::vector<Slot> layout = {{"a.weight", 0, 15, 3, 5},
                                      {"norm.weight", 15, 7, 1, 7},
                                      {"b.weight", 22, big, 2, 2},
                                      {"c.bias", 22 + big, 3, 1, 3},
                                      {"d.weight", 25 + big, 9, 3, 3}};
    const std::size_t n = 34 + big;
    std::vector<float> want(n), got(n, -1.0f);
    SplitMix64 rng{42};
    const double std_dev = 0.02f;  // init_std is a float, widened as engine_normals widens it
    for (const Slot& s : layout) {
        float* w = want.data() + s.offset;
        if (s.rows > 1 && s.cols > 1) {
            for (std::size_t i = 0; i < s.size; i += 2) {
                const double r = std::sqrt(-2.0 * std::log(rng.uniform())), a = 6.283185307179586 * rng.uniform();
                w[i] = static_cast<float>(std_dev * r * std::cos(a));
                if (i + 1 < s.size) w[i + 1] = static_cast<float>(std_dev * r * std::sin(a));
            }
        } else {
            std::fill(w, w + s.size, s.name == "norm.weight" ? 1.0f : 0.0f);
        }
    }
    engine_initial_weights(layout, 42, 0.02f, got.data());
    CHECK(std::memcmp(want.data(), got.data(), n * sizeof(float)) == 0);
    CHECK(got[15] == 1.0f);
    CHECK(got[22 + big] == 0.0f);
}
