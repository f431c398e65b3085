// search_tab.cpp — see search_tab.h.
#include "gui/tabs/search_tab.h"

#include "core/gpu.h"
#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/widgets.h"
#include "planner/memory.h"

#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QFrame>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace llmplan::gui {

SearchTab::SearchTab(QWidget* parent) : Tab(parent) {
    auto* l = new QVBoxLayout(this);
    auto* top = new QHBoxLayout();
    auto* run = new QPushButton("Search layouts");
    run->setObjectName("runSearch");
    run->setToolTip("search_layouts with this model, GPU count, precision, optimizer, sequence and global batch "
                    "(tp, pp, cp, v, sp, ZeRO, recompute, micro-batch; docs/PERFORMANCE_MODEL.md §6)");
    connect(run, &QPushButton::clicked, this, &SearchTab::search_requested);
    top_ = spin("searchTop", 1, 500, 25);
    auto* apply = new QPushButton("Apply selected layout");
    apply->setObjectName("applySearch");
    connect(apply, &QPushButton::clicked, this, [this] {
        const auto rows = table_->selectionModel()->selectedRows();
        if (!rows.isEmpty()) emit apply_requested(table_->item(rows.first().row(), 0)->data(Qt::UserRole).toInt() - 1);
    });
    top->addWidget(run);
    top->addWidget(new QLabel("top"));
    top->addWidget(top_);
    top->addWidget(apply);
    top->addStretch(1);
    l->addLayout(top);
    status_ = new QLabel("Press “Search layouts”: the fastest layouts that fit, for the current model and GPUs.");
    status_->setObjectName("searchStatus");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // The explanation scrolls when it is longer than a short window leaves room for.
    auto* explanation = new QScrollArea();
    explanation->setWidget(status_);
    explanation->setWidgetResizable(true);
    explanation->setFrameShape(QFrame::NoFrame);
    explanation->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    explanation->setMinimumHeight(60);
    explanation->setMaximumHeight(220);
    l->addWidget(explanation);
    table_ = make_table({"rank", "tp", "pp", "dp", "cp", "v", "sp", "ZeRO", "recompute", "micro", "global", "GiB/GPU", "step",
                         "tok/s", "MFU", "days", "cost"},
                        "searchResults");
    table_->setSortingEnabled(true);
    connect(table_, &QTableWidget::cellDoubleClicked, this,
            [this](int row, int) { emit apply_requested(table_->item(row, 0)->data(Qt::UserRole).toInt() - 1); });
    l->addWidget(table_, 1);
}

void SearchTab::refresh(const Evaluation&, const Overlays&) {}

bool SearchTab::run(const Scenario& s) {
    try {
        const ModelSpec model = resolve_model(s);
        const GpuSpec gpu = gpu_or_throw(s.gpu, "--gpu");
        // The layout is what the search chooses: the inputs' own (perhaps invalid) layout is not its concern.
        Scenario job = s;
        job.tp = job.pp = job.cp = job.ep = job.virtual_stages = 1;
        job.sp = false;
        job.zero = 0;
        job.micro_batch = 1;
        TrainConfig base = resolve_config(job);
        ClusterSpec cluster = default_cluster(gpu, base.parallel.gpus_per_node);
        if (!s.price.empty()) {
            cluster.price_per_gpu_hour = parse_real(s.price, "--price-per-gpu-hour", 0, 1e6);
            cluster.price_source = "given";
        }
        PerfOptions options;
        if (!s.tokens.empty()) options.tokens = static_cast<double>(parse_count(s.tokens, "--tokens"));
        SearchSpace space;
        space.min_headroom = kHeadroomMargin;  // a safety margin (planner/memory.h), as the verdict's "tight"
        result_ = search_layouts(model, gpu, base, cluster, options, space, SearchRank::time,
                                 static_cast<std::size_t>(top_->value()));
    } catch (const std::exception& e) {
        result_ = {};
        table_->setRowCount(0);
        status_->setTextFormat(Qt::PlainText);
        status_->setText(QString("search: ") + e.what());
        return false;
    }
    // The explanation, structured: what was searched, the winner, then why it beats each alternative.
    QString text = QString("<p>%1 layouts evaluated, %2 fit with at least %3% of the memory free, in %4 ms.</p>")
                       .arg(result_.evaluated)
                       .arg(result_.fitting)
                       .arg(100 * kHeadroomMargin, 0, 'f', 0)
                       .arg(result_.seconds * 1e3, 0, 'f', 1);
    if (!result_.why.empty()) {
        text += "<p><b>Winner (row 1):</b> " + q(result_.why.front()).toHtmlEscaped() + "</p>";
        if (result_.why.size() > 1) {
            text += "<p><b>Why not the alternatives:</b></p><ul>";
            for (std::size_t i = 1; i < result_.why.size(); ++i) text += "<li>" + q(result_.why[i]).toHtmlEscaped() + "</li>";
            text += "</ul>";
        }
    } else {
        text += "<p>No layout fits with that margin: try more GPUs, a smaller sequence or global batch, or a GPU with more memory.</p>";
    }
    text += "<p>Double-click a row (or select it and press Apply) to use it.</p>";
    status_->setTextFormat(Qt::RichText);
    status_->setText(text);
    table_->setSortingEnabled(false);
    table_->setRowCount(static_cast<int>(result_.top.size()));
    int row = 0;
    for (const SearchCandidate& c : result_.top) {
        const ParallelLayout& p = c.config.parallel;
        set_number(table_, row, 0, QString::number(row + 1), row + 1);
        table_->item(row, 0)->setData(Qt::UserRole, row + 1);
        set_number(table_, row, 1, QString::number(p.tp), p.tp);
        set_number(table_, row, 2, QString::number(p.pp), p.pp);
        set_number(table_, row, 3, QString::number(p.dp()), p.dp());
        set_number(table_, row, 4, QString::number(p.cp), p.cp);
        set_number(table_, row, 5, QString::number(p.virtual_stages), p.virtual_stages);
        set_cell(table_, row, 6, p.sp ? "yes" : "");
        set_number(table_, row, 7, QString::number(p.zero), p.zero);
        set_cell(table_, row, 8, to_string(c.config.recompute));
        set_number(table_, row, 9, QString::number(c.config.micro_batch), static_cast<double>(c.config.micro_batch));
        set_number(table_, row, 10, QString::number(c.config.global_batch), static_cast<double>(c.config.global_batch));
        set_number(table_, row, 11, q(format_fixed(c.device_total / kGiB, 2)), c.device_total);
        set_number(table_, row, 12, q(format_duration(c.step_seconds)), c.step_seconds);
        set_number(table_, row, 13, q(format_count(c.tokens_per_second)), c.tokens_per_second);
        set_number(table_, row, 14, q(format_fixed(100 * c.mfu, 1) + "%"), c.mfu);
        set_number(table_, row, 15, q(format_fixed(c.training_seconds / 86400, 1)), c.training_seconds);
        set_number(table_, row, 16, QString("$") + q(format_count(c.cost)), c.cost);
        ++row;
    }
    table_->setSortingEnabled(true);
    table_->sortByColumn(0, Qt::AscendingOrder);  // best first (rank 1 at the top)
    table_->resizeColumnsToContents();
    return true;
}

}  // namespace llmplan::gui
