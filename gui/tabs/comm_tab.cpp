// comm_tab.cpp — see comm_tab.h.
#include "gui/tabs/comm_tab.h"

#include "gui/figures.h"
#include "gui/widgets.h"

#include <QTableWidget>
#include <QVBoxLayout>

namespace llmplan::gui {

CommTab::CommTab(QWidget* parent) : Tab(parent) {
    auto* l = new QVBoxLayout(this);
    l->setContentsMargins(0, 0, 0, 0);  // the table is the whole tab
    table_ = make_table({"collective", "kind", "group", "link", "size", "calls", "time", "exposed", "algorithm", "overlap",
                         "A time", "Δ time", "A exposed", "Δ exposed"},
                        "collectives");
    table_->setSortingEnabled(true);
    l->addWidget(table_);
}

void CommTab::refresh(const Evaluation& e, const Overlays& o) {
    const PerfPlan& p = e.perf;
    table_->setSortingEnabled(false);
    // A/B: the pinned plan's collective of the same purpose and kind (a row each for those only A has).
    std::vector<const CollectiveUse*> only_a;
    auto in_a = [&o](const CollectiveUse& u) -> const CollectiveUse* {
        if (!o.pinned) return nullptr;
        for (const CollectiveUse& a : o.pinned->perf.collectives)
            if (a.purpose == u.purpose && a.kind == u.kind) return &a;
        return nullptr;
    };
    if (o.pinned)
        for (const CollectiveUse& a : o.pinned->perf.collectives) {
            bool matched = false;
            for (const CollectiveUse& u : p.collectives) matched = matched || (a.purpose == u.purpose && a.kind == u.kind);
            if (!matched) only_a.push_back(&a);
        }
    for (int col = 10; col < 14; ++col) table_->setColumnHidden(col, !o.pinned);
    table_->setRowCount(static_cast<int>(p.collectives.size() + only_a.size()));
    auto deltas = [this](int row, const CollectiveUse* a, double time, double exposed) {
        const double at = a ? a->seconds : 0, ae = a ? a->exposed_seconds : 0;
        set_number(table_, row, 10, a ? q(format_duration(at)) : QString("–"), at);
        set_number(table_, row, 11, q(format_signed_delta((time - at) * 1e3, "ms")), time - at);
        set_number(table_, row, 12, a ? q(format_duration(ae)) : QString("–"), ae);
        set_number(table_, row, 13, q(format_signed_delta((exposed - ae) * 1e3, "ms")), exposed - ae);
    };
    int row = 0;
    for (const CollectiveUse* a : only_a) {
        set_cell(table_, row, 0, q(a->purpose + " (A only)"));
        set_cell(table_, row, 1, to_string(a->kind));
        for (int col = 2; col < 10; ++col) set_cell(table_, row, col, "");
        deltas(row, a, 0, 0);
        ++row;
    }
    for (const CollectiveUse& u : p.collectives) {
        if (o.pinned) deltas(row, in_a(u), u.seconds, u.exposed_seconds);
        const QString tip = q(u.overlap + "\nNCCL alpha-beta model (nccl-tests PERFORMANCE.md; docs/PERFORMANCE_MODEL.md §3)");
        set_cell(table_, row, 0, q(u.purpose), tip);
        set_cell(table_, row, 1, to_string(u.kind));
        set_number(table_, row, 2, QString::number(u.group), u.group);
        set_cell(table_, row, 3, q(std::string(to_string(u.link)) + " " + format_fixed(u.bus_bandwidth / 1e9, 0) + " GB/s"));
        set_number(table_, row, 4, q(u.bytes >= 1e9 ? format_bytes(u.bytes, ByteUnit::gb) : format_fixed(u.bytes / 1e6, 1) + " MB"), u.bytes);
        set_number(table_, row, 5, q(format_fixed(u.count, 0)), u.count);
        set_number(table_, row, 6, q(format_duration(u.seconds)), u.seconds);
        set_number(table_, row, 7, q(format_duration(u.exposed_seconds)), u.exposed_seconds);
        set_cell(table_, row, 8, q(std::string(to_string(u.each.algorithm)) + "/" + to_string(u.each.protocol)));
        set_cell(table_, row, 9, q(u.overlap), tip);
        ++row;
    }
    table_->setSortingEnabled(true);
    table_->resizeColumnsToContents();
}

}  // namespace llmplan::gui
