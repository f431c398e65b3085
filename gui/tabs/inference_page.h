// inference_page.h — the serving view, shown instead of the headline and tabs in inference mode:
// fits / does not fit with the headroom (of the card, or of vLLM's reservation), the key serving
// figures, the InferPlan's memory terms as a stacked bar against the capacity line with the device
// total marked, and the terms table with each formula and source.
#pragma once

#include "gui/chart_view.h"
#include "gui/scenario.h"

#include <map>
#include <string>

class QLabel;
class QTableWidget;

namespace llmplan::gui {

class InferencePage : public QWidget {
public:
    explicit InferencePage(QWidget* parent = nullptr);
    // `pinned`: plan A of an A/B comparison (nullptr: none): its bar beside the current one, Δs in the figures.
    void refresh(const InferEvaluation& current, const InferEvaluation* pinned = nullptr);
    ChartView* chart() const { return view_; }
    const StackedBarChart& chart_data() const { return data_; }  // what the chart was last handed
    // While the input is invalid: the verdict, figures and chart greyed (the last valid plan).
    void set_stale(bool stale);

private:
    QLabel* verdict_;
    std::map<std::string, QLabel*> labels_, names_;
    QWidget* headline_ = nullptr;
    QString verdict_text_;
    int verdict_style_ = 0;
    ChartView* view_;
    QTableWidget* table_;
    StackedBarChart data_;
};

}  // namespace llmplan::gui
