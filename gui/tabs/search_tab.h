// search_tab.h — the Search tab: search_layouts with the current model, GPUs and job (run on
// request only, not on every input change: it can take up to a second); the fastest layouts that
// fit, sortable; a row is handed back to the window (apply_requested) to load into the inputs.
#pragma once

#include "gui/tabs/tab.h"
#include "planner/search.h"

class QLabel;
class QSpinBox;
class QTableWidget;

namespace llmplan::gui {

class SearchTab : public Tab {
    Q_OBJECT

public:
    explicit SearchTab(QWidget* parent = nullptr);
    // Nothing: the last search's result stays until the next search.
    void refresh(const Evaluation& current, const Overlays& overlays) override;
    // Searches with the scenario's model, GPUs and job and shows the result; false on invalid input.
    bool run(const Scenario& s);
    const SearchResult& result() const { return result_; }

signals:
    void search_requested();          // “Search layouts” pressed
    void apply_requested(int index);  // a row of result().top chosen (double-click or Apply)

private:
    QSpinBox* top_;
    QLabel* status_;
    QTableWidget* table_;
    SearchResult result_;
};

}  // namespace llmplan::gui
