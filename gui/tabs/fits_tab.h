// fits_tab.h — the What fits tab: for the GPU, GPU count and job of the inputs, which preset
// models fit for full training, LoRA and QLoRA fine-tuning and serving (what_fits, planner/
// what_fits.h), each with its fastest layout or its largest batch and context. Run on request
// (it plans every preset: a second or two).
#pragma once

#include "gui/tabs/tab.h"
#include "planner/what_fits.h"

#include <vector>

class QLabel;
class QTableWidget;

namespace llmplan::gui {

class FitsTab : public Tab {
    Q_OBJECT

public:
    explicit FitsTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;  // nothing: on request
    // Checks every preset on the scenario's GPU, GPU count and job; false (and a message) on invalid input.
    bool run(const Scenario& s);
    const std::vector<ModelFit>& result() const { return result_; }

signals:
    void check_requested();

private:
    QLabel* status_;
    QTableWidget* table_;
    std::vector<ModelFit> result_;
};

}  // namespace llmplan::gui
