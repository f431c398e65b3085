// fits_tab.cpp — see fits_tab.h.
#include "gui/tabs/fits_tab.h"

#include "core/gpu.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "core/text.h"
#include "gui/figures.h"
#include "gui/widgets.h"
#include "planner/memory.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace llmplan::gui {

FitsTab::FitsTab(QWidget* parent) : Tab(parent) {
    auto* l = new QVBoxLayout(this);
    auto* top = new QHBoxLayout();
    auto* run = new QPushButton("Check every preset");
    run->setObjectName("runFits");
    run->setToolTip("what_fits for every preset on this GPU and GPU count, with this precision, optimizer and sequence");
    connect(run, &QPushButton::clicked, this, &FitsTab::check_requested);
    top->addWidget(run);
    top->addStretch(1);
    l->addLayout(top);
    status_ = new QLabel("Which models these GPUs hold: full training, LoRA and QLoRA (rank 16 on q,v; QLoRA on an nf4 "
                         "base) with the fastest layout that leaves 5% of the card free, and serving in bf16 (the fewest "
                         "tensor-parallel GPUs that hold it, its largest batch of 512 + 256 tokens and longest context).");
    status_->setObjectName("fitsStatus");
    status_->setWordWrap(true);
    l->addWidget(status_);
    table_ = make_table({"model", "parameters", "full training", "LoRA", "QLoRA", "serving (bf16)"}, "fitsTable");
    table_->setSortingEnabled(true);
    l->addWidget(table_, 1);
}

void FitsTab::refresh(const Evaluation&, const Overlays&) {}

bool FitsTab::run(const Scenario& s) {
    result_.clear();
    try {
        const GpuSpec gpu = gpu_or_throw(s.gpu, "--gpu");
        Scenario job = s;  // the layout is each model's own (the search chooses it)
        job.tp = job.pp = job.cp = job.ep = job.virtual_stages = 1;
        job.sp = false;
        job.zero = 0;
        job.micro_batch = 1;
        job.global_batch = 0;
        job.seq = 0;
        job.lora_rank = 0;
        job.base_quant = "none";
        job.paged_optimizer = false;
        const TrainConfig config = resolve_config(job);
        for (const Preset& p : model_presets()) result_.push_back(what_fits(p.spec, gpu, config, kHeadroomMargin));
        status_->setText(QString("%1 presets on %2 × %3:").arg(result_.size()).arg(config.parallel.gpus).arg(q(gpu.display_name)));
    } catch (const std::exception& e) {
        table_->setRowCount(0);
        status_->setText(QString("what fits: ") + e.what());
        return false;
    }
    auto train = [](const TrainFit& t) {
        return t.fits ? q("yes, " + format_bytes(t.device_total) + " per GPU: " + t.layout) : QString("no");
    };
    table_->setSortingEnabled(false);
    table_->setRowCount(static_cast<int>(result_.size()));
    int row = 0;
    for (const ModelFit& f : result_) {
        set_cell(table_, row, 0, q(f.model));
        set_number(table_, row, 1, q(format_count(f.parameters)), f.parameters);
        set_cell(table_, row, 2, train(f.full));
        set_cell(table_, row, 3, train(f.lora));
        set_cell(table_, row, 4, train(f.qlora));
        set_cell(table_, row, 5,
                 f.serves ? q("tp " + std::to_string(f.serve_tp) + ": batch up to " + std::to_string(f.serve_max_batch) +
                              ", context up to " + format_int(f.serve_max_context))
                          : QString("no"));
        ++row;
    }
    table_->setSortingEnabled(true);
    table_->sortByColumn(1, Qt::AscendingOrder);
    table_->resizeColumnsToContents();
    return true;
}

}  // namespace llmplan::gui
