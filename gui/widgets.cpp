// widgets.cpp — see widgets.h.
#include "gui/widgets.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLayout>
#include <QVBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QTableWidget>

#include <algorithm>
#include <vector>

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

namespace {

// A layout that places its items left to right and wraps them into rows (heightForWidth), so a
// row of figures never forces the window wider than the screen.
class FlowLayout final : public QLayout {
public:
    explicit FlowLayout(QWidget* parent) : QLayout(parent) {}
    ~FlowLayout() override {
        while (QLayoutItem* item = takeAt(0)) delete item;
    }
    void addItem(QLayoutItem* item) override { items_.push_back(item); }
    int count() const override { return static_cast<int>(items_.size()); }
    QLayoutItem* itemAt(int i) const override { return i >= 0 && i < count() ? items_[static_cast<std::size_t>(i)] : nullptr; }
    QLayoutItem* takeAt(int i) override {
        if (i < 0 || i >= count()) return nullptr;
        QLayoutItem* item = items_[static_cast<std::size_t>(i)];
        items_.erase(items_.begin() + i);
        return item;
    }
    Qt::Orientations expandingDirections() const override { return {}; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override { return arrange(QRect(0, 0, width, 0), false); }
    void setGeometry(const QRect& rect) override {
        QLayout::setGeometry(rect);
        arrange(rect, true);
    }
    QSize sizeHint() const override { return minimumSize(); }
    QSize minimumSize() const override {
        QSize size;
        for (const QLayoutItem* item : items_) size = size.expandedTo(item->minimumSize());
        const QMargins m = contentsMargins();
        return size + QSize(m.left() + m.right(), m.top() + m.bottom());
    }

private:
    static constexpr int kGapX = 18, kGapY = 4;
    int arrange(const QRect& rect, bool apply) const {
        const QRect r = rect.marginsRemoved(contentsMargins());
        int x = r.x(), y = r.y(), row_height = 0;
        for (QLayoutItem* item : items_) {
            if (item->isEmpty()) continue;
            const QSize hint = item->sizeHint();
            if (x > r.x() && x + hint.width() > r.right() + 1) {
                x = r.x();
                y += row_height + kGapY;
                row_height = 0;
            }
            if (apply) item->setGeometry(QRect(QPoint(x, y), QSize(std::min(hint.width(), r.width()), hint.height())));
            x += hint.width() + kGapX;
            row_height = std::max(row_height, hint.height());
        }
        return y + row_height - rect.y() + contentsMargins().bottom();
    }
    std::vector<QLayoutItem*> items_;
};

// Ignores wheel events while the input lacks the focus: the event then goes to the parent (the
// scroll area), as QApplication propagates an ignored wheel event.
class WheelGuard final : public QObject {
public:
    using QObject::QObject;
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Wheel) {
            auto* w = qobject_cast<QWidget*>(watched);
            if (w && !w->hasFocus()) {
                event->ignore();
                return true;
            }
        }
        return false;
    }
};

}  // namespace

Headline make_headline(const char* verdict_name, const char* value_prefix,
                       const std::vector<std::pair<const char*, const char*>>& figures) {
    Headline h;
    h.widget = new QWidget();
    auto* column = new QVBoxLayout(h.widget);
    column->setContentsMargins(4, 4, 4, 4);
    h.verdict = new QLabel();
    h.verdict->setObjectName(verdict_name);
    h.verdict->setWordWrap(true);
    h.verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont big = h.verdict->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    h.verdict->setFont(big);
    column->addWidget(h.verdict);
    auto* flow = new FlowLayout(nullptr);
    column->addLayout(flow);
    for (const auto& [key, label] : figures) {
        auto* pair = new QWidget();
        auto* row = new QHBoxLayout(pair);
        row->setContentsMargins(0, 0, 0, 0);
        row->setSpacing(4);
        auto* name = new QLabel(QString(label) + ":");
        name->setObjectName(QString(value_prefix) + key + "_name");
        name->setStyleSheet("color: #555;");
        auto* value = new QLabel("–");
        value->setObjectName(QString(value_prefix) + key);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        row->addWidget(name);
        row->addWidget(value);
        h.values[key] = value;
        h.names[key] = name;
        flow->addWidget(pair);
    }
    return h;
}

void set_verdict(QLabel* verdict, VerdictStyle style, const QString& text) {
    verdict->setText(text);
    switch (style) {
        case VerdictStyle::fits: verdict->setStyleSheet("color: #1b7a2e;"); break;
        case VerdictStyle::tight: verdict->setStyleSheet("color: #8a5a00;"); break;
        case VerdictStyle::does_not_fit: verdict->setStyleSheet("color: #b3261e;"); break;
        case VerdictStyle::stale: verdict->setStyleSheet("color: #8c8c8c;"); break;
    }
    verdict->setProperty("verdictStyle", static_cast<int>(style));
}

void wheel_only_when_focused(QWidget* root) {
    auto* guard = new WheelGuard(root);
    QList<QWidget*> inputs;
    for (QComboBox* c : root->findChildren<QComboBox*>()) inputs.push_back(c);
    for (QAbstractSpinBox* s : root->findChildren<QAbstractSpinBox*>()) inputs.push_back(s);
    for (QWidget* w : inputs) {
        w->setFocusPolicy(Qt::StrongFocus);  // the wheel alone no longer focuses (and so changes) it
        w->installEventFilter(guard);
    }
}

void mark_invalid(QWidget* input, bool invalid) {
    if (input->property("invalid").toBool() == invalid) return;
    input->setProperty("invalid", invalid);
    input->setStyleSheet(invalid ? QString("%1 { border: 2px solid #b3261e; }").arg(input->metaObject()->className()) : QString());
}

}  // namespace llmplan::gui
