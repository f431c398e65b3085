// tab.h — what the training views (the tabs under the headline) have in common.
//
// MainWindow plans once per input change (evaluate(), gui/scenario.h) and hands the result to
// every tab's refresh(), with what is drawn over it: the pinned plan A of the A/B comparison and
// the values of a measured run (File ▸ Open profiler report). Tabs compute nothing themselves.
#pragma once

#include "gui/chart_view.h"
#include "gui/scenario.h"
#include "gui/widgets.h"

#include <QString>
#include <QStringList>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QVector>

#include <limits>
#include <map>
#include <string>

namespace llmplan::gui {

// A measured run: report key ("peak_allocated", "step_seconds", …) → measured value (bytes, s, …).
using Measured = std::map<std::string, double>;

// What the views draw over the current plan (B).
struct Overlays {
    const Evaluation* pinned = nullptr;  // A, when a plan is pinned
    QString pinned_name;
    const Measured& measured;  // empty: no measured run open
    // How the measured run differs from the current plan (measured_run_mismatches); "" if it
    // matches. The charts draw the measured markers only on a match.
    QString measured_mismatch = {};
    // The plan in one line (model, GPUs, layout, verdict): under each chart's title, so that an
    // exported chart says what it shows.
    QString caption = {};
    const Measured& markers_source() const {
        static const Measured none;
        return measured_mismatch.isEmpty() ? measured : none;
    }

    // The bars of a chart: A and B when pinned, else the current plan alone.
    // (Short labels, so an axis never cuts them; the Compare tab and the bars' tooltips name A.)
    QStringList categories() const { return pinned ? QStringList{"A (pinned)", "B (current)"} : QStringList{"current"}; }
    // A chart's markers for a value of the current plan (none on A's bar).
    QVector<double> markers(double current) const {
        QVector<double> m;
        if (pinned) m.push_back(std::numeric_limits<double>::quiet_NaN());
        m.push_back(current);
        return m;
    }
};

class Tab : public QWidget {
public:
    using QWidget::QWidget;
    // Shows `current` (the last valid plan) with `overlays`.
    virtual void refresh(const Evaluation& current, const Overlays& overlays) = 0;
    // The chart File ▸ Export chart writes while this tab is shown; nullptr: the tab has none.
    virtual ChartView* chart() const { return nullptr; }
};

// A tab that shows a stacked bar chart above a table (Memory, Step time): the two widgets, laid
// out 3 : 2, and the chart data last handed to the view.
class BarChartTab : public Tab {
public:
    BarChartTab(QWidget* parent, const char* chart_name, const QStringList& headers, const char* table_name)
        : Tab(parent) {
        auto* l = new QVBoxLayout(this);
        view_ = make_chart_view(this);
        view_->setObjectName(chart_name);
        l->addWidget(view_, 3);
        table_ = make_table(headers, table_name);
        table_->setMinimumHeight(120);  // the header and a few rows, however short the window
        l->addWidget(table_, 2);
    }
    ChartView* chart() const override { return view_; }
    const StackedBarChart& chart_data() const { return data_; }  // what the chart was last handed

protected:
    ChartView* view_;
    QTableWidget* table_;
    StackedBarChart data_;
};

}  // namespace llmplan::gui
