// measured_tab.cpp — see measured_tab.h.
#include "gui/tabs/measured_tab.h"

#include "core/error.h"
#include "core/file.h"
#include "gui/figures.h"
#include "gui/widgets.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace llmplan::gui {

namespace {

// The first number under any of `keys` in a JSON tree (depth first), or NaN.
double find_number(const nlohmann::json& j, const std::vector<std::string>& keys) {
    if (j.is_object()) {
        for (const std::string& k : keys)
            if (j.contains(k) && j[k].is_number()) return j[k].get<double>();
        for (const auto& [key, value] : j.items()) {
            const double v = find_number(value, keys);
            if (std::isfinite(v)) return v;
        }
    } else if (j.is_array()) {
        for (const auto& value : j) {
            const double v = find_number(value, keys);
            if (std::isfinite(v)) return v;
        }
    }
    return std::numeric_limits<double>::quiet_NaN();
}

// What a profiler report may measure, the keys it may use for it, and the planner's prediction.
struct Measurable {
    const char* key;
    const char* label;
    std::vector<std::string> aliases;
    double scale;  // display = value / scale
    const char* unit;
    double (*predicted)(const Evaluation&);
};

const std::vector<Measurable>& measurables() {
    static const std::vector<Measurable> m = {
        {"peak_allocated", "peak allocated", {"peak_allocated_bytes", "max_memory_allocated", "peak_allocated"}, kGiB, "GiB",
         [](const Evaluation& e) { return e.memory.worst().peak_allocated; }},
        {"reserved", "reserved", {"reserved_estimate_bytes", "max_memory_reserved", "reserved_bytes"}, kGiB, "GiB",
         [](const Evaluation& e) { return e.memory.worst().reserved_estimate; }},
        {"device_total", "device total (used)", {"device_used_bytes", "device_total_used_bytes"}, kGiB, "GiB",
         [](const Evaluation& e) { return e.memory.worst().device_total; }},
        {"step_seconds", "step time", {"step_seconds", "step_time_seconds", "seconds_per_step"}, 1e-3, "ms",
         [](const Evaluation& e) { return e.perf.step_seconds; }},
        {"tokens_per_second", "throughput", {"tokens_per_second"}, 1, "tok/s",
         [](const Evaluation& e) { return e.perf.tokens_per_second; }},
        {"mfu", "MFU", {"mfu"}, 0.01, "%", [](const Evaluation& e) { return e.perf.mfu; }},
    };
    return m;
}

}  // namespace

bool read_measured(const QString& path, Measured* found, QString* error) {
    nlohmann::json j;
    try {
        j = read_json_file(path.toStdString(), "profile report");
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
    Measured m;
    const bool object = j.is_object();
    const nlohmann::json& root = object && j.contains("measured") ? j["measured"] : j;
    if (object && j.contains("schema") && j["schema"] == "llmplan.profile/1") {
        // `llmplan profile`'s report: measured.memory.peak_allocated.peak_bytes, measured.time.
        // step_seconds.median, measured.time.tokens_per_second and mfu.
        const auto number_at = [&](const std::vector<const char*>& keys) -> std::optional<double> {
            const nlohmann::json* v = &root;
            for (const char* k : keys) {
                if (!v->is_object() || !v->contains(k)) return std::nullopt;
                v = &(*v)[k];
            }
            if (!v->is_number()) return std::nullopt;
            return v->get<double>();
        };
        const struct {
            const char* key;
            std::vector<const char*> keys;
        } wanted[] = {{"peak_allocated", {"memory", "peak_allocated", "peak_bytes"}},
                      {"step_seconds", {"time", "step_seconds", "median"}},
                      {"tokens_per_second", {"time", "tokens_per_second"}},
                      {"mfu", {"time", "mfu"}}};
        for (const auto& [key, keys] : wanted) {
            const std::optional<double> v = number_at(keys);
            if (!v) {
                QString at = "measured";
                for (const char* k : keys) at += QString(".") + k;
                if (error) *error = path + ": not a complete llmplan.profile/1 report (no number at " + at + ")";
                return false;
            }
            m[key] = *v;
        }
    } else {
        for (const Measurable& k : measurables()) {
            const double v = find_number(root, k.aliases);
            if (std::isfinite(v)) m[k.key] = v;
        }
    }
    if (m.empty()) {
        if (error) *error = path + ": no measured quantity found (see the Measured tab for the keys read)";
        return false;
    }
    *found = std::move(m);
    return true;
}

MeasuredTab::MeasuredTab(QWidget* parent) : Tab(parent) {
    auto* l = new QVBoxLayout(this);
    auto* open = new QPushButton("Open profiler report…");
    connect(open, &QPushButton::clicked, this, &MeasuredTab::open_requested);
    auto* top = new QHBoxLayout();
    top->addWidget(open);
    top->addStretch(1);
    l->addLayout(top);
    auto* status = new QLabel(
        "Open a JSON report of a measured run to overlay measured against predicted: an `llmplan profile --json` "
        "report (llmplan.profile/1: peak, step time, tokens/s, MFU), or any JSON read tolerantly: peak_allocated_bytes or max_memory_allocated, "
        "reserved_estimate_bytes or max_memory_reserved, device_used_bytes, step_seconds, tokens_per_second, mfu "
        "(the first found, depth first).");
    status->setObjectName("measuredStatus");
    status->setWordWrap(true);
    l->addWidget(status);
    table_ = make_table({"quantity", "predicted", "measured", "error"}, "measuredTable");
    l->addWidget(table_, 1);
}

void MeasuredTab::refresh(const Evaluation& e, const Overlays& o) {
    if (o.measured.empty()) {
        table_->setRowCount(0);
        return;
    }
    table_->setRowCount(static_cast<int>(o.measured.size()));
    int row = 0;
    for (const Measurable& m : measurables()) {
        const auto it = o.measured.find(m.key);
        if (it == o.measured.end()) continue;
        const double predicted = m.predicted(e), measured = it->second;
        set_cell(table_, row, 0, m.label);
        set_number(table_, row, 1, q(format_fixed(predicted / m.scale, 2) + " " + m.unit), predicted);
        set_number(table_, row, 2, q(format_fixed(measured / m.scale, 2) + " " + m.unit), measured);
        set_number(table_, row, 3,
                   measured != 0 ? q(format_signed_delta(100 * (predicted - measured) / measured, "") + "%") : "–",
                   measured != 0 ? (predicted - measured) / measured : 0);
        ++row;
    }
    table_->resizeColumnsToContents();
}

}  // namespace llmplan::gui
