// time_tab.h — the Step time tab: the step split into compute, exposed communication, pipeline
// bubble and optimizer step as a stacked bar (A and B when pinned, the measured step time as a
// marker), and a table of every key figure (with A and Δ when pinned), FLOPs per token, tokens
// per step, peak FLOP/s and GEMM efficiency.
#pragma once

#include "gui/tabs/tab.h"

class QTableWidget;

namespace llmplan::gui {

class TimeTab : public Tab {
public:
    explicit TimeTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;
    ChartView* chart() const override { return view_; }
    const StackedBarChart& chart_data() const { return data_; }  // what the chart was last handed

private:
    ChartView* view_;
    QTableWidget* table_;
    StackedBarChart data_;
};

}  // namespace llmplan::gui
