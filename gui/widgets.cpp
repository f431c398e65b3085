// widgets.cpp — see widgets.h.
#include "gui/widgets.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QTableWidget>

namespace llmplan::gui {

namespace {

// A table cell that sorts by its number, not its text.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(const QString& text, double value) : QTableWidgetItem(text) {
        setData(Qt::UserRole, value);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
    bool operator<(const QTableWidgetItem& other) const override {
        return data(Qt::UserRole).toDouble() < other.data(Qt::UserRole).toDouble();
    }
};

}  // namespace

QTableWidget* make_table(const QStringList& headers, const char* name) {
    auto* t = new QTableWidget(0, static_cast<int>(headers.size()));
    t->setObjectName(name);
    t->setHorizontalHeaderLabels(headers);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->setVisible(false);
    t->horizontalHeader()->setStretchLastSection(true);
    t->setWordWrap(false);
    return t;
}

void set_cell(QTableWidget* t, int row, int col, const QString& text, const QString& tip) {
    auto* item = new QTableWidgetItem(text);
    if (!tip.isEmpty()) item->setToolTip(tip);
    t->setItem(row, col, item);
}

void set_number(QTableWidget* t, int row, int col, const QString& text, double value, const QString& tip) {
    auto* item = new NumberItem(text, value);
    if (!tip.isEmpty()) item->setToolTip(tip);
    t->setItem(row, col, item);
}

QComboBox* combo(const char* name, const std::vector<std::string>& items) {
    auto* c = new QComboBox();
    c->setObjectName(name);
    for (const std::string& s : items) c->addItem(q(s), q(s));
    return c;
}

QSpinBox* spin(const char* name, int lo, int hi, int value, const QString& special) {
    auto* s = new QSpinBox();
    s->setObjectName(name);
    s->setRange(lo, hi);
    s->setValue(value);
    if (!special.isEmpty()) s->setSpecialValueText(special);
    s->setKeyboardTracking(true);
    return s;
}

void select_data(QComboBox* c, const std::string& value) {
    int i = c->findData(q(value));
    if (i < 0) {  // keep values the list lacks (the planner will judge them)
        c->addItem(q(value), q(value));
        i = c->count() - 1;
    }
    c->setCurrentIndex(i);
}

std::string data_of(const QComboBox* c) { return c->currentData().toString().toStdString(); }

Headline make_headline(const char* verdict_name, const char* value_prefix,
                       const std::vector<std::pair<const char*, const char*>>& figures) {
    Headline h;
    h.widget = new QWidget();
    auto* grid = new QGridLayout(h.widget);
    grid->setContentsMargins(4, 4, 4, 4);
    h.verdict = new QLabel();
    h.verdict->setObjectName(verdict_name);
    QFont big = h.verdict->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    h.verdict->setFont(big);
    grid->addWidget(h.verdict, 0, 0, 1, 8);
    int i = 0;
    for (const auto& [key, label] : figures) {
        auto* name = new QLabel(QString(label) + ":");
        name->setStyleSheet("color: #555;");
        auto* value = new QLabel("–");
        value->setObjectName(QString(value_prefix) + key);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        h.values[key] = value;
        const int row = 1 + i / 4, col = 2 * (i % 4);
        grid->addWidget(name, row, col);
        grid->addWidget(value, row, col + 1);
        ++i;
    }
    return h;
}

void set_verdict(QLabel* verdict, bool fits, const QString& text) {
    verdict->setText(text);
    verdict->setStyleSheet(fits ? "color: #1b7a2e;" : "color: #b3261e;");
}

}  // namespace llmplan::gui
