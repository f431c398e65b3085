// compare_tab.h — the Compare A/B tab: Pin / Unpin (handed to the window, which owns the pinned
// plan) and, when pinned, A, B, Δ and Δ % of every key figure.
#pragma once

#include "gui/tabs/tab.h"

class QLabel;
class QTableWidget;

namespace llmplan::gui {

class CompareTab : public Tab {
    Q_OBJECT

public:
    explicit CompareTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;

signals:
    void pin_requested();
    void unpin_requested();

private:
    QLabel* status_;
    QTableWidget* table_;
};

}  // namespace llmplan::gui
