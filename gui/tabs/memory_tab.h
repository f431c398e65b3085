// memory_tab.h — the Memory tab: the most loaded GPU's memory as a stacked bar, one segment per
// planner term, against the capacity line (A and B side by side when pinned, the measured device
// total or peak as a marker), and the terms table with each formula and source.
#pragma once

#include "gui/tabs/tab.h"

class QTableWidget;

namespace llmplan::gui {

class MemoryTab : public Tab {
public:
    explicit MemoryTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;
    ChartView* chart() const override { return view_; }
    const StackedBarChart& chart_data() const { return data_; }  // what the chart was last handed

private:
    ChartView* view_;
    QTableWidget* table_;
    StackedBarChart data_;
};

}  // namespace llmplan::gui
