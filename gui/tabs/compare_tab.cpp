// compare_tab.cpp — see compare_tab.h.
#include "gui/tabs/compare_tab.h"

#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/widgets.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace llmplan::gui {

namespace {

const char* const kUnpinned = "Pin a scenario as A, then change inputs: every figure and chart shows B (current) against A.";

std::string percent_delta(double a, double b) {
    if (a == 0) return b == 0 ? "0%" : "–";
    const double pct = 100 * (b - a) / std::abs(a);
    return std::string(pct > 0 ? "+" : pct < 0 ? "−" : "±") + format_fixed(std::abs(pct), 1) + "%";
}

}  // namespace

CompareTab::CompareTab(QWidget* parent) : Tab(parent) {
    auto* l = new QVBoxLayout(this);
    auto* top = new QHBoxLayout();
    auto* pin_button = new QPushButton("Pin current as A");
    pin_button->setObjectName("pin");
    connect(pin_button, &QPushButton::clicked, this, &CompareTab::pin_requested);
    auto* unpin_button = new QPushButton("Unpin");
    connect(unpin_button, &QPushButton::clicked, this, &CompareTab::unpin_requested);
    top->addWidget(pin_button);
    top->addWidget(unpin_button);
    top->addStretch(1);
    l->addLayout(top);
    status_ = new QLabel(kUnpinned);
    status_->setWordWrap(true);
    l->addWidget(status_);
    table_ = make_table({"figure", "A (pinned)", "B (current)", "Δ", "Δ %"}, "compareTable");
    l->addWidget(table_, 1);
}

void CompareTab::refresh(const Evaluation& e, const Overlays& o) {
    if (!o.pinned) {
        table_->setRowCount(0);
        status_->setText(kUnpinned);
        return;
    }
    status_->setText("A: " + o.pinned_name + " — B: the current inputs.");
    const std::vector<Figure> fa = key_figures(*o.pinned), fb = key_figures(e);
    table_->setRowCount(static_cast<int>(fb.size()));
    for (std::size_t i = 0; i < fb.size(); ++i) {
        const int row = static_cast<int>(i);
        const Figure& a = fa[i];
        const Figure& b = fb[i];
        set_cell(table_, row, 0, q(b.label), q(b.how));
        set_number(table_, row, 1, q(a.text), a.value);
        set_number(table_, row, 2, q(b.text), b.value);
        set_number(table_, row, 3, q(format_signed_delta(b.value - a.value, b.unit)), b.value - a.value);
        set_cell(table_, row, 4, q(percent_delta(a.value, b.value)));
    }
    table_->resizeColumnsToContents();
}

}  // namespace llmplan::gui
