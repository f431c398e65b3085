// what_fits.cpp — see what_fits.h.
#include "planner/what_fits.h"

#include "core/error.h"
#include "planner/infer.h"
#include "planner/perf.h"
#include "planner/search.h"

#include <sstream>

namespace llmplan {

namespace {

TrainFit train_fit(const ModelSpec& model, const GpuSpec& gpu, TrainConfig job, double margin) {
    TrainFit fit;
    job.parallel.tp = job.parallel.pp = job.parallel.cp = job.parallel.ep = job.parallel.virtual_stages = 1;
    job.parallel.sp = false;
    job.micro_batch = 1;
    SearchSpace space;
    space.zero = {0, 3};
    space.recompute = {Recompute::none, Recompute::full};
    space.micro_batches = {1};
    space.virtual_stages = {1};
    space.min_headroom = margin;
    try {
        const SearchResult r = search_layouts(model, gpu, job, default_cluster(gpu, job.parallel.gpus_per_node), PerfOptions{},
                                              space, SearchRank::time, 1);
        if (r.top.empty()) return fit;
        const SearchCandidate& c = r.top.front();
        const ParallelLayout& p = c.config.parallel;
        std::ostringstream s;
        s << "tp " << p.tp << ", pp " << p.pp << ", dp " << p.dp();
        if (p.ep > 1) s << ", ep " << p.ep;
        s << ", ZeRO-" << p.zero << ", recompute " << to_string(c.config.recompute);
        fit.fits = true;
        fit.layout = s.str();
        fit.step_seconds = c.step_seconds;
        fit.device_total = c.device_total;
    } catch (const InputError&) {  // no layout the checks accept: it does not fit
    }
    return fit;
}

}  // namespace

ModelFit what_fits(const ModelSpec& model, const GpuSpec& gpu, const TrainConfig& job, double margin) {
    ModelFit f;
    f.model = model.name;
    f.parameters = static_cast<double>(count_params(model).total());
    f.full = train_fit(model, gpu, job, margin);
    TrainConfig lora = job;
    lora.lora.rank = 16;
    lora.lora.targets = parse_lora_targets("q,v", "--lora-targets");
    f.lora = train_fit(model, gpu, lora, margin);
    lora.lora.base_quant = BaseQuant::nf4;
    f.qlora = train_fit(model, gpu, lora, margin);
    for (int tp = 1; tp <= job.parallel.gpus && !f.serves; tp *= 2) {
        if (model.n_heads % tp != 0) continue;
        InferText t;
        t.tp = std::to_string(tp);
        try {
            const InferPlan p = plan_inference(model, gpu, infer_config_from_text(t));
            if (!p.fits) continue;
            f.serves = true;
            f.serve_tp = tp;
            f.serve_max_batch = p.max_batch;
            f.serve_max_context = p.max_context;  // at the CLI's default batch, 1
        } catch (const InputError&) {  // this tensor-parallel size is refused: try the next
        }
    }
    return f;
}

}  // namespace llmplan
