// time_tab.cpp — see time_tab.h.
#include "gui/tabs/time_tab.h"

#include <algorithm>

#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/widgets.h"

#include <QTableWidget>
#include <QVBoxLayout>

namespace llmplan::gui {

TimeTab::TimeTab(QWidget* parent) : BarChartTab(parent, "timeChart", {"figure", "value", "A", "Δ", "how"}, "timeFigures") {}

void TimeTab::refresh(const Evaluation& e, const Overlays& o) {
    const std::vector<TimeSegment> b = time_segments(e);
    std::vector<TimeSegment> a;
    if (o.pinned) a = time_segments(*o.pinned);
    StackedBarChart c;
    c.title = "Step time split (slowest stage)\n" + o.caption;
    // Milliseconds, or seconds once a step takes more than ten (no "50000.0 ms" on the axis).
    const double step_ms = std::max(e.perf.step_seconds, o.pinned ? o.pinned->perf.step_seconds : 0.0) * 1e3;
    const double scale = step_ms > 1e4 ? 1e3 : 1;
    c.value_axis = scale > 1 ? "s per step" : "ms per step";
    c.categories = o.categories();
    for (std::size_t i = 0; i < b.size(); ++i) {
        StackedBarChart::Stack st;
        st.key = q(b[i].key);
        st.name = q(b[i].label);
        if (o.pinned) {
            st.values.push_back(a[i].ms / scale);
            st.tooltips.push_back(q("A — " + a[i].tooltip));
        }
        st.values.push_back(b[i].ms / scale);
        st.tooltips.push_back(q(b[i].tooltip));
        c.stacks.push_back(std::move(st));
    }
    if (const auto it = o.markers_source().find("step_seconds"); it != o.markers_source().end()) {
        c.marker_label = "measured step time";
        c.markers = o.markers(it->second * 1e3 / scale);
    }
    data_ = c;
    view_->show_stacked_bars(c);

    const std::map<std::string, Figure> fa = figures_by_key(o.pinned);
    const std::vector<Figure> figs = key_figures(e);
    table_->setColumnHidden(2, !o.pinned);
    table_->setColumnHidden(3, !o.pinned);
    table_->setRowCount(static_cast<int>(figs.size()) + 4);
    int row = 0;
    for (const Figure& f : figs) {
        set_cell(table_, row, 0, q(f.label));
        set_number(table_, row, 1, q(f.text), f.value, q(f.how));
        if (auto it = fa.find(f.key); it != fa.end()) {
            set_number(table_, row, 2, q(it->second.text), it->second.value);
            set_number(table_, row, 3, q(format_signed_delta(f.value - it->second.value, f.unit)), f.value - it->second.value);
        }
        set_cell(table_, row, 4, q(f.how));
        ++row;
    }
    const PerfPlan& p = e.perf;
    auto extra = [&](const std::string& label, double v, const std::string& text, const std::string& how) {
        set_cell(table_, row, 0, q(label));
        set_number(table_, row, 1, q(text), v);
        set_cell(table_, row, 4, q(how));
        ++row;
    };
    extra("FLOPs per token", p.per_token.model, format_sci(p.per_token.model, 3),
          "exact model FLOPs (fwd + bwd); 6N " + format_sci(p.flops_6n, 3) + ", 6N+12·L·d·T " + format_sci(p.flops_palm, 3) +
              "; with recompute " + format_sci(p.per_token.hardware, 3) + " (docs/PERFORMANCE_MODEL.md §1)");
    extra("tokens per step", p.tokens_per_step, format_count(p.tokens_per_step),
          "global batch " + std::to_string(e.memory.config.global_batch) + " × " + std::to_string(e.memory.config.seq) + " tokens");
    extra("peak FLOP/s per GPU", p.peak_flops, format_sci(p.peak_flops, 3), "dense peak for the precision (docs/GPUS.md)");
    extra("GEMM efficiency", p.gemm_efficiency, format_fixed(100 * p.gemm_efficiency, 1) + "%",
          "achieved ÷ peak for the per-GPU matmul shapes (calibration: docs/PERFORMANCE_MODEL.md §2)");
    table_->resizeColumnsToContents();
}

}  // namespace llmplan::gui
