// scaling_tab.cpp — see scaling_tab.h.
#include "gui/tabs/scaling_tab.h"

#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/widgets.h"
#include "planner/scaling.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <cmath>

namespace llmplan::gui {

ScalingTab::ScalingTab(QWidget* parent) : Tab(parent) {
    auto* l = new QVBoxLayout(this);
    auto* top = new QHBoxLayout();
    law_ = combo("law", {"chinchilla", "epoch", "chinchilla-unrounded", "kaplan"});
    law_->setToolTip("Hoffmann et al. 2022 approach 3; Besiroglu et al. 2024 (epoch); Kaplan et al. 2020 (docs/SCALING.md)");
    connect(law_, &QComboBox::currentIndexChanged, this, [this] {
        if (have_run_) draw();
    });
    top->addWidget(new QLabel("law"));
    top->addWidget(law_);
    top->addStretch(1);
    l->addLayout(top);
    view_ = make_chart_view(this);
    view_->setObjectName("scalingChart");
    l->addWidget(view_, 1);
    text_ = new QLabel();
    text_->setObjectName("scalingText");
    text_->setWordWrap(true);
    l->addWidget(text_);
}

void ScalingTab::refresh(const Evaluation& e, const Overlays&) {
    params_ = static_cast<double>(e.memory.params.total());
    tokens_ = e.perf.training_tokens;
    have_run_ = true;
    draw();
}

void ScalingTab::draw() {
    try {
        const LawChoice law = law_choice(data_of(law_), 20, "--law");
        const double n = params_, d = tokens_;
        const RunAssessment run = assess_run(law, n, d);
        LineChart c;
        c.title = q("Loss vs model size: iso-FLOP curves and the compute-optimal frontier (" + law.name + ")");
        c.x_axis = "parameters";
        c.y_axis = "loss (nats/token)";
        c.log_x = true;
        for (double k : {0.1, 1.0, 10.0}) {
            LineChart::Series s;
            s.name = q("C = " + format_sci(run.compute * k, 2) + " FLOPs");
            for (const IsoflopPoint& p : isoflop_curve(law, run.compute * k, 41)) s.points.push_back({p.params, p.loss});
            c.series.push_back(std::move(s));
        }
        LineChart::Series frontier;
        frontier.name = "compute-optimal frontier";
        frontier.dashed = true;
        for (int i = -20; i <= 20; ++i) {  // budgets C·10^(i/10): sample points of the planner's frontier
            const ComputeOptimum o = optimum_for_compute(law, run.compute * std::pow(10.0, i / 10.0));
            frontier.points.push_back({o.parameters, o.loss});
        }
        c.series.push_back(std::move(frontier));
        c.series.push_back({"this model (" + q(format_count(n)) + ", " + q(format_count(d)) + " tokens)", {{n, run.loss}}, true, false});
        c.series.push_back({"optimum at the same compute", {{run.optimal.parameters, run.optimal.loss}}, true, false});
        data_ = c;
        view_->show_lines(c);
        text_->setText(q("This run: " + format_count(n) + " parameters × " + format_count(d) + " tokens = " +
                         format_sci(run.compute, 3) + " FLOPs (6ND), predicted loss " + format_fixed(run.loss, 3) +
                         ". The compute-optimal run of the same compute: " + format_count(run.optimal.parameters) +
                         " parameters × " + format_count(run.optimal.tokens) + " tokens, loss " +
                         format_fixed(run.optimal.loss, 3) + " (" + format_fixed(run.tokens_per_parameter, 1) + " vs " +
                         format_fixed(run.optimal_tokens_per_parameter, 1) + " tokens per parameter; " +
                         (run.overtraining >= 1 ? "over-trained ×" : "under-trained ×") +
                         format_fixed(run.overtraining >= 1 ? run.overtraining : 1 / run.overtraining, 2) + ")."));
    } catch (const std::exception& ex) {
        text_->setText(QString("scaling view unavailable: ") + ex.what());
    }
}

}  // namespace llmplan::gui
