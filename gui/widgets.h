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

// A headline: the verdict (bold, larger, wrapping) over `figures` as "label: value" pairs that flow
// into as many rows as the width needs (a narrow window wraps them rather than growing).
// The verdict is named `verdict_name`, each value label value_prefix + key, each name label
// value_prefix + key + "_name"; `values` and `names` map key → label.
struct Headline {
    QWidget* widget = nullptr;
    QLabel* verdict = nullptr;
    std::map<std::string, QLabel*> values, names;
};
Headline make_headline(const char* verdict_name, const char* value_prefix,
                       const std::vector<std::pair<const char*, const char*>>& figures);

// The verdict's three states (FitState, planner/memory.h) and the stale one (input invalid: the
// last valid plan, greyed): green, amber, red, grey.
enum class VerdictStyle { fits, tight, does_not_fit, stale };
void set_verdict(QLabel* verdict, VerdictStyle style, const QString& text);

// Combo boxes and spin boxes under `root` take the mouse wheel only when they have the keyboard
// focus (click or Tab into them); otherwise the wheel scrolls the panel that holds them.
void wheel_only_when_focused(QWidget* root);

// Marks an input as invalid (a red frame; property "invalid" true) or clears the mark.
void mark_invalid(QWidget* input, bool invalid);

}  // namespace llmplan::gui
