// comm_tab.h — the Communication tab: every collective of a step on one GPU (purpose, kind, group,
// link and bus bandwidth, size, calls, time, exposed time, NCCL algorithm/protocol, overlap rule),
// sortable; when pinned, A's time and exposed time of the same collective and the Δs, plus a row
// for each collective only A has.
#pragma once

#include "gui/tabs/tab.h"

class QTableWidget;

namespace llmplan::gui {

class CommTab : public Tab {
public:
    explicit CommTab(QWidget* parent = nullptr);
    void refresh(const Evaluation& current, const Overlays& overlays) override;

private:
    QTableWidget* table_;
};

}  // namespace llmplan::gui
