// scaling_tab.h — the Scaling tab: loss against model size under a scaling law (chinchilla,
// epoch, chinchilla-unrounded, kaplan; docs/SCALING.md): iso-FLOP curves at this run's compute
// C = 6ND (and ×0.1, ×10), the compute-optimal frontier, this model and the optimum at the same
// compute, and the run's assessment in words.
#pragma once

#include "gui/tabs/tab.h"

class QComboBox;
class QLabel;

namespace llmplan::gui {

class ScalingTab : public Tab {
public:
    explicit ScalingTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;
    ChartView* chart() const override { return view_; }
    const LineChart& chart_data() const { return data_; }  // what the chart was last handed

private:
    void draw();  // the last refreshed run under the chosen law

    QComboBox* law_;
    ChartView* view_;
    QLabel* text_;
    LineChart data_;
    bool have_run_ = false;
    double params_ = 0, tokens_ = 0;  // N and D of the last refreshed plan
};

}  // namespace llmplan::gui
