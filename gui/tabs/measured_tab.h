// measured_tab.h — the Measured tab: a measured run (an `llmplan profile --json` report, or any
// JSON read tolerantly) against the planner's prediction: predicted, measured and error of each
// quantity the run measured. The window owns the measured values (the memory and step-time charts
// draw them as markers); read_measured() reads them from a file.
#pragma once

#include "gui/tabs/tab.h"
#include "planner/report.h"

class QLabel;
class QTableWidget;

namespace llmplan::gui {

// Reads the measured quantities of a profiler report into *found; false (and *error set) if the
// file cannot be read, is an incomplete llmplan.profile/1 report, or measures nothing known.
// *run: what the run was (measured_run_from_json, planner/report.h), where given.
bool read_measured(const QString& path, Measured* found, QString* error, MeasuredRun* run = nullptr);

class MeasuredTab : public Tab {
    Q_OBJECT

public:
    explicit MeasuredTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;

signals:
    void open_requested();  // “Open profiler report…” pressed

private:
    QLabel* warning_;
    QTableWidget* table_;
};

}  // namespace llmplan::gui
