// memory_tab.h — the Memory tab: the most loaded GPU's memory as a stacked bar, one segment per
// planner term, against the capacity line (A and B side by side when pinned, the measured device
// total or peak as a marker), and the terms table with each formula and source.
#pragma once

#include "gui/tabs/tab.h"

namespace llmplan::gui {

class MemoryTab : public BarChartTab {
public:
    explicit MemoryTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;
};

}  // namespace llmplan::gui
