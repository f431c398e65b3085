// time_tab.h — the Step time tab: the step split into compute, exposed communication, pipeline
// bubble and optimizer step as a stacked bar (A and B when pinned, the measured step time as a
// marker), and a table of every key figure (with A and Δ when pinned), FLOPs per token, tokens
// per step, peak FLOP/s and GEMM efficiency.
#pragma once

#include "gui/tabs/tab.h"

namespace llmplan::gui {

class TimeTab : public BarChartTab {
public:
    explicit TimeTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;
};

}  // namespace llmplan::gui
