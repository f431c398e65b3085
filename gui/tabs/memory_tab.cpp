// memory_tab.cpp — see memory_tab.h.
#include "gui/tabs/memory_tab.h"

#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/widgets.h"

#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace llmplan::gui {

MemoryTab::MemoryTab(QWidget* parent)
    : BarChartTab(parent, "memoryChart", {"term", "GiB", "A GiB", "Δ", "how (hover for the source)"}, "memoryTerms") {}

void MemoryTab::refresh(const Evaluation& e, const Overlays& o) {
    const std::vector<MemorySegment> b = memory_segments(e);
    std::vector<MemorySegment> a;
    if (o.pinned) a = memory_segments(*o.pinned);
    StackedBarChart c;
    c.title = q("Memory per GPU, most loaded stage (" + e.memory.gpu.name + ")\n") + o.caption;
    c.value_axis = "GiB";
    c.categories = o.categories();
    std::vector<std::string> keys;
    for (const auto& s : b) keys.push_back(s.key);
    for (const auto& s : a)
        if (std::find(keys.begin(), keys.end(), s.key) == keys.end()) keys.push_back(s.key);
    auto find = [](const std::vector<MemorySegment>& v, const std::string& key) -> const MemorySegment* {
        for (const auto& s : v)
            if (s.key == key) return &s;
        return nullptr;
    };
    for (const std::string& key : keys) {
        StackedBarChart::Stack st;
        const MemorySegment* sb = find(b, key);
        const MemorySegment* sa = find(a, key);
        st.key = q(key);
        st.name = q((sb ? sb : sa)->label);
        if (o.pinned) {
            st.values.push_back(sa ? sa->gib : 0);
            st.tooltips.push_back(q(sa ? "A — " + sa->tooltip : "not in A"));
        }
        st.values.push_back(sb ? sb->gib : 0);
        st.tooltips.push_back(q(sb ? sb->tooltip : "not in this plan"));
        c.stacks.push_back(std::move(st));
    }
    c.limit = e.memory.capacity_bytes / kGiB;
    c.limit_label = q("capacity " + format_bytes(e.memory.capacity_bytes));
    const auto it = o.markers_source().find("device_total");
    const auto pk = o.markers_source().find("peak_allocated");
    const auto pick = it != o.markers_source().end() ? it : pk;
    if (pick != o.markers_source().end()) {
        c.marker_label = pick == it ? "measured device total" : "measured peak allocated";
        c.markers = o.markers(pick->second / kGiB);
    }
    data_ = c;
    view_->show_stacked_bars(c);

    table_->setColumnHidden(2, !o.pinned);
    table_->setColumnHidden(3, !o.pinned);
    const StageMemory& w = e.memory.worst();
    table_->setRowCount(static_cast<int>(keys.size()) + 1);
    int row = 0;
    for (const std::string& key : keys) {
        const MemorySegment* sb = find(b, key);
        const MemorySegment* sa = find(a, key);
        const double vb = sb ? sb->gib : 0, va = sa ? sa->gib : 0;
        const QString tip = q(sb ? sb->tooltip : sa->tooltip);
        set_cell(table_, row, 0, q((sb ? sb : sa)->label), tip);
        set_number(table_, row, 1, q(format_fixed(vb, 2)), vb, tip);
        set_number(table_, row, 2, q(format_fixed(va, 2)), va);
        set_number(table_, row, 3, q(format_signed_delta(vb - va, "")), vb - va);
        std::string how;
        if (sb) {
            for (const MemoryTerm& t : w.terms)
                if (t.key == key) how = t.formula;
            if (how.empty()) {  // the reserve: the tooltip's formula line
                const std::size_t from = sb->tooltip.find('\n') + 1;
                how = sb->tooltip.substr(from, sb->tooltip.find('\n', from) - from);
            }
        }
        set_cell(table_, row, 4, q(how), tip);
        ++row;
    }
    const double total = w.device_total / kGiB;
    const double total_a = o.pinned ? o.pinned->memory.worst().device_total / kGiB : 0;
    const QString tip = q("reserved estimate + CUDA context; peak allocated " + format_bytes(w.peak_allocated) + " at " +
                          w.peak_phase + "; capacity " + format_bytes(e.memory.capacity_bytes));
    set_cell(table_, row, 0, "device total", tip);
    set_number(table_, row, 1, q(format_fixed(total, 2)), total, tip);
    set_number(table_, row, 2, q(format_fixed(total_a, 2)), total_a);
    set_number(table_, row, 3, q(format_signed_delta(total - total_a, "")), total - total_a);
    set_cell(table_, row, 4,
             q((e.memory.fits ? "fits, headroom " : "does not fit, short by ") + format_bytes(std::abs(e.memory.headroom_bytes)) +
               (e.memory.config.parallel.pp > 1 ? "; stage " + std::to_string(w.stage) + ": " + w.placement : "")),
             tip);
    table_->resizeColumnsToContents();
}

}  // namespace llmplan::gui
