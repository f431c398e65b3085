// widgets.h — the small widget helpers shared by the window's inputs panel and its views
// (gui/tabs/): named combos and spin boxes, read-only sortable tables, and the headline grid of a
// verdict over figure labels. Display only; nothing here knows the planner.
#pragma once

#include <QString>
#include <QStringList>

#include <map>
#include <string>
#include <utility>
#include <vector>

class QComboBox;
class QLabel;
class QSpinBox;
class QTableWidget;
class QWidget;

namespace llmplan::gui {

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

inline QString q(const std::string& s) { return QString::fromStdString(s); }

// A read-only table of whole rows, named `name` (tests and screenshots find it by that name).
QTableWidget* make_table(const QStringList& headers, const char* name);
// A text cell, and a number cell that sorts by `value` rather than by its text.
void set_cell(QTableWidget* t, int row, int col, const QString& text, const QString& tip = {});
void set_number(QTableWidget* t, int row, int col, const QString& text, double value, const QString& tip = {});

// A combo whose items carry their text as data, and a spin box; both named `name`.
QComboBox* combo(const char* name, const std::vector<std::string>& items);
QSpinBox* spin(const char* name, int lo, int hi, int value, const QString& special = {});
// Selects the item whose data is `value`, adding it if the list lacks it (the planner judges it).
void select_data(QComboBox* c, const std::string& value);
std::string data_of(const QComboBox* c);

// A headline: the verdict (bold, larger) over `figures` as "label: value" pairs, four per row.
// The verdict is named `verdict_name`, each value label value_prefix + key; `values` maps key → label.
struct Headline {
    QWidget* widget = nullptr;
    QLabel* verdict = nullptr;
    std::map<std::string, QLabel*> values;
};
Headline make_headline(const char* verdict_name, const char* value_prefix,
                       const std::vector<std::pair<const char*, const char*>>& figures);
// The verdict's text in green (fits) or red (does not fit).
void set_verdict(QLabel* verdict, bool fits, const QString& text);

}  // namespace llmplan::gui
