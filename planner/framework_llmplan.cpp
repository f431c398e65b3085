// framework_llmplan.cpp — the `llmplan` framework profile: llmplan's own engine. Memory from the
// engine's arena books (planner/llmplan_profile.h; on several GPUs the shard plan's replay,
// planner/llmplan_books.cpp), no allocator reserve (the arenas are exact), and the step time as the
// sum of the engine's kernels timed from a calibration (planner/engine_time.h,
// docs/PERFORMANCE_MODEL.md §7).
#include "planner/framework.h"
#include "planner/engine_time.h"
#include "planner/llmplan_profile.h"
#include "planner/perf.h"

namespace llmplan {

namespace {

class LlmplanProfile final : public FrameworkProfile {
public:
    Framework framework() const override { return Framework::llmplan; }
    void validate(const ModelSpec& m, const TrainConfig& c) const override { validate_llmplan_profile(m, c); }
    double allocator_reserve(const TrainConfig&) const override { return 0; }
    // The engine's cross_entropy kernel computes the loss and the logits' gradient in one fused
    // pass over the 16-bit logits (engine/engine_kernels.h); its step time is its calibrated
    // kernels' (step_time), this names the convention for the plan's text.
    LossKernel loss_kernel(const TrainConfig&) const override {
        return {true, "llmplan's engine: one fused cross_entropy kernel (forward and backward)"};
    }
    StageMemory plan_stage(const ModelSpec& m, const std::vector<ParamTensor>&, const TrainConfig& c, int,
                           bool) const override {
        return plan_llmplan_stage(m, c);
    }
    // The engine's kernels one after another on one stream, each timed from the calibration
    // (engine_time.h), replace the generic compute terms. Data parallel only (tp = pp = cp = ep = 1,
    // docs/MULTI_GPU.md §5): every rank runs the one-GPU step on its micro-batch, and with ZeRO ≥ 1
    // AdamW on its 1/N slices; the collectives' exposed time is added by plan_perf as for any
    // framework. LoRA and model-parallel layouts keep the generic model.
    void step_time(const MemoryPlan& plan, const PerfOptions& opt, ComputeTime& t) const override {
        const TrainConfig& c = plan.config;
        const ParallelLayout& p = c.parallel;
        const bool engine_dp = p.tp == 1 && p.pp == 1 && p.cp == 1 && p.ep == 1;
        if (!engine_dp || c.lora.enabled()) return;
        const double mb = t.micro_batches;
        TrainConfig one = c;
        one.parallel.gpus = 1;
        one.parallel.zero = 0;
        one.global_batch = c.micro_batch * static_cast<std::int64_t>(mb);
        // The step program runs the mb micro-batches (engine/program.h: accumulation), so its
        // kernels' forward and backward are the step's; one micro-batch's is their mb-th.
        const EngineStepTime et = engine_step_time(plan.model, one, plan.gpu, opt.engine_calibration.get());
        t.microbatch_forward_seconds = et.forward_seconds / mb;
        t.microbatch_backward_seconds = et.backward_seconds / mb;
        t.optimizer_seconds = et.optimizer_seconds / (p.gpus > 1 && p.zero >= 1 ? p.gpus : 1);
        t.matmul_seconds = et.matmul_seconds;
        t.compute_seconds = et.forward_seconds + et.backward_seconds;
        t.elementwise_seconds = t.compute_seconds - t.matmul_seconds;
        t.bubble_seconds = 0;
        t.engine_time = et;
    }
    std::string profile_prediction_note() const override { return " (the engine's own books)"; }
    std::string profile_step_time_note() const override { return {}; }
};

}  // namespace

std::shared_ptr<const FrameworkProfile> make_llmplan_profile() { return std::make_shared<const LlmplanProfile>(); }

}  // namespace llmplan
