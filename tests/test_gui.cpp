// test_gui.cpp — QTest widget tests of llmplan-gui (run offscreen: QT_QPA_PLATFORM=offscreen).
// The window must show exactly what the planner computes for its inputs, survive invalid input
// with the planner's message, and round-trip scenarios through JSON.
#include "core/error.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/main_window.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

using namespace llmplan;
using namespace llmplan::gui;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

template <typename T>
T* child(const MainWindow& w, const char* name) {
    T* c = w.findChild<T*>(name);
    if (!c) qFatal("no widget named %s", name);
    return c;
}

void choose(const MainWindow& w, const char* name, const QString& data) {
    QComboBox* c = child<QComboBox>(w, name);
    const int i = c->findData(data);
    if (i < 0) qFatal("%s has no item %s", name, qPrintable(data));
    c->setCurrentIndex(i);
}

// What `llmplan plan` computes for the same job, straight from the planner.
MemoryPlan direct_plan(const char* model, int gpus, int tp, int pp, int zero, Recompute recompute) {
    TrainConfig c;
    c.parallel.gpus = gpus;
    c.parallel.gpus_per_node = 8;
    c.parallel.tp = tp;
    c.parallel.pp = pp;
    c.parallel.zero = zero;
    c.recompute = recompute;
    return plan_memory(preset_or_throw(model, "--model"), gpu_or_throw("h100-sxm", "--gpu"), c);
}

double stack_total(const StackedBarChart& chart, int category) {
    double sum = 0;
    for (const auto& s : chart.stacks) sum += s.values[category];
    return sum;
}

}  // namespace

class GuiTest : public QObject {
    Q_OBJECT

private slots:
    void figures_follow_the_planner() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        choose(w, "gpu", "h100-sxm");
        child<QSpinBox>(w, "gpus")->setValue(8);
        choose(w, "zero", "3");
        QVERIFY(!w.showing_error());
        const MemoryPlan expected = direct_plan("llama-2-7b", 8, 1, 1, 3, Recompute::none);
        QVERIFY(w.evaluation());
        const StageMemory& got = w.evaluation()->memory.worst();
        QCOMPARE(got.device_total, expected.worst().device_total);
        QCOMPARE(got.peak_allocated, expected.worst().peak_allocated);
        QCOMPARE(w.evaluation()->memory.fits, expected.fits);
        // The stacked bar: one segment per planner term (+ the allocator reserve), summing to the device total.
        const StackedBarChart& chart = w.memory_chart();
        QCOMPARE(chart.categories.size(), 1);
        QVERIFY(std::abs(stack_total(chart, 0) - expected.worst().device_total / kGiB) < 1e-9);
        for (const MemoryTerm& t : expected.worst().terms) {
            bool found = false;
            for (const auto& s : chart.stacks)
                if (s.name == QString::fromStdString(t.label)) {
                    QVERIFY(std::abs(s.values[0] - t.bytes / kGiB) < 1e-12);
                    QVERIFY(s.tooltips[0].contains(QString::fromStdString(t.source)));  // formula and source
                    found = true;
                }
            QVERIFY2(found, t.label.c_str());
        }
        QVERIFY(chart.limit && std::abs(*chart.limit - expected.capacity_bytes / kGiB) < 1e-12);
        QCOMPARE(child<QLabel>(w, "figure_device_total")->text(),
                 QString::fromStdString(format_fixed(expected.worst().device_total / kGiB, 2) + " GiB"));
        // Time, as plan_perf computes it on the default cluster.
        const PerfPlan perf = plan_perf(expected, default_cluster(expected.gpu, 8), PerfOptions{});
        QCOMPARE(w.evaluation()->perf.step_seconds, perf.step_seconds);
        QCOMPARE(w.evaluation()->perf.cost, perf.cost);
        QCOMPARE(child<QLabel>(w, "figure_step_time")->text(), QString::fromStdString(format_duration(perf.step_seconds)));
        double split = 0;
        for (const auto& s : w.time_chart().stacks) split += s.values[0];
        QVERIFY(std::abs(split - perf.step_seconds * 1e3) < 1e-6 * perf.step_seconds * 1e3);
        QCOMPARE(child<QTableWidget>(w, "collectives")->rowCount(), static_cast<int>(perf.collectives.size()));

        // Change the layout: the figures follow.
        child<QSpinBox>(w, "tp")->setValue(2);
        choose(w, "recompute", "selective");
        const MemoryPlan after = direct_plan("llama-2-7b", 8, 2, 1, 3, Recompute::selective);
        QCOMPARE(w.evaluation()->memory.worst().device_total, after.worst().device_total);
        QCOMPARE(child<QLabel>(w, "dp")->text(), QString("4"));
        QVERIFY2(w.last_recompute_seconds() < 0.05,  // interactive: planner + every view under 50 ms
                 qPrintable(QString::number(w.last_recompute_seconds() * 1e3) + " ms"));
        QVERIFY(!w.scaling_chart().series.empty());
    }

    void invalid_input_shows_the_planners_message() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        const double before = w.evaluation()->memory.worst().device_total;
        child<QSpinBox>(w, "tp")->setValue(3);  // does not divide 32 heads nor 8 GPUs
        QVERIFY(w.showing_error());
        QString expected;
        try {
            direct_plan("llama-2-7b", 8, 3, 1, 1, Recompute::none);
        } catch (const InputError& e) {
            expected = e.what();
        }
        QVERIFY(!expected.isEmpty());
        QCOMPARE(w.error_message(), expected);
        QVERIFY(child<QLabel>(w, "errorMessage")->isVisibleTo(&w));
        QCOMPARE(w.evaluation()->memory.worst().device_total, before);  // the last valid plan stays
        // A bad parameter count: parse_count's message.
        child<QSpinBox>(w, "tp")->setValue(1);
        QVERIFY(!w.showing_error());
        choose(w, "modelSource", "params");
        child<QLineEdit>(w, "params")->setText("7Q");
        QVERIFY(w.showing_error());
        QVERIFY(w.error_message().startsWith("--params"));
        child<QLineEdit>(w, "params")->setText("7B");
        QVERIFY(!w.showing_error());
        QCOMPARE(w.evaluation()->memory.params.total(), std::int64_t{6738415616});
        // Unreadable files: a message, no crash.
        QString err;
        QVERIFY(!w.load_scenario("/nonexistent/scenario.json", &err));
        QVERIFY(!err.isEmpty());
        QVERIFY(!w.open_profile("/nonexistent/profile.json", &err));
    }

    void save_load_round_trip() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        MainWindow a;
        choose(a, "modelPreset", "llama-2-13b");
        child<QSpinBox>(a, "gpus")->setValue(16);
        child<QSpinBox>(a, "tp")->setValue(2);
        child<QSpinBox>(a, "pp")->setValue(2);
        child<QCheckBox>(a, "sp")->setChecked(true);
        choose(a, "zero", "1");
        choose(a, "recompute", "selective");
        choose(a, "optimizer", "adamw-8bit");
        child<QSpinBox>(a, "microBatch")->setValue(2);
        child<QSpinBox>(a, "seq")->setValue(2048);
        child<QSpinBox>(a, "globalBatch")->setValue(64);
        child<QLineEdit>(a, "tokens")->setText("1T");
        child<QLineEdit>(a, "price")->setText("3");
        QVERIFY2(!a.showing_error(), qPrintable(a.error_message()));
        const QString path = dir.filePath("scenario.json");
        QString err;
        QVERIFY2(a.save_scenario(path, &err), qPrintable(err));

        MainWindow b;
        QVERIFY2(b.load_scenario(path, &err), qPrintable(err));
        QVERIFY(!b.showing_error());
        QCOMPARE(b.scenario().model, std::string("llama-2-13b"));
        QCOMPARE(b.scenario().tp, 2);
        QCOMPARE(b.scenario().pp, 2);
        QCOMPARE(b.scenario().sp, true);
        QCOMPARE(b.scenario().optimizer, std::string("adamw-8bit"));
        QCOMPARE(b.scenario().tokens, std::string("1T"));
        const Evaluation& ea = *a.evaluation();
        const Evaluation& eb = *b.evaluation();
        QCOMPARE(eb.memory.worst().device_total, ea.memory.worst().device_total);
        QCOMPARE(eb.perf.step_seconds, ea.perf.step_seconds);
        QCOMPARE(eb.perf.cost, ea.perf.cost);
        QCOMPARE(eb.memory.config.global_batch, std::int64_t{64});

        // The scenario file has the keys of a plan report's `inputs`.
        std::ifstream in(path.toStdString());
        const nlohmann::json j = nlohmann::json::parse(in);
        for (const char* key : {"precision", "optimizer", "parallel", "recompute", "attention", "dropout", "micro_batch", "seq",
                                "global_batch", "grad_accum", "offload", "framework", "gpu", "model"})
            QVERIFY2(j.contains(key), key);

        // An exported plan report loads as a scenario too (its inputs).
        const QString report = dir.filePath("plan.json");
        QVERIFY2(a.export_report(report, &err), qPrintable(err));
        MainWindow c;
        QVERIFY2(c.load_scenario(report, &err), qPrintable(err));
        QCOMPARE(c.evaluation()->memory.worst().device_total, ea.memory.worst().device_total);

        // A derived model (--params) round-trips as a parameter count.
        choose(a, "modelSource", "params");
        child<QLineEdit>(a, "params")->setText("1.3B");
        QVERIFY(a.save_scenario(path, &err));
        QVERIFY(b.load_scenario(path, &err));
        QCOMPARE(b.scenario().source, ModelSource::params);
        QCOMPARE(b.evaluation()->memory.params.total(), a.evaluation()->memory.params.total());
        QVERIFY(a.export_chart_png(dir.filePath("chart.png"), &err));
        QVERIFY(QFileInfo(dir.filePath("chart.png")).size() > 0);
    }

    void pin_compares_a_and_b() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        choose(w, "zero", "1");
        const double a = w.evaluation()->memory.worst().device_total;
        QVERIFY(w.pin());
        choose(w, "zero", "3");
        const double b = w.evaluation()->memory.worst().device_total;
        QVERIFY(b < a);
        QCOMPARE(w.memory_chart().categories.size(), 2);
        QVERIFY(std::abs(stack_total(w.memory_chart(), 0) - a / kGiB) < 1e-9);
        QVERIFY(std::abs(stack_total(w.memory_chart(), 1) - b / kGiB) < 1e-9);
        auto* table = child<QTableWidget>(w, "compareTable");
        QVERIFY(table->rowCount() > 5);
        QVERIFY(child<QLabel>(w, "figure_device_total")->text().contains("Δ"));
        w.unpin();
        QCOMPARE(w.memory_chart().categories.size(), 1);
    }

    void search_rows_apply() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(16);
        QVERIFY(w.run_search());
        QVERIFY(!w.search_result().top.empty());
        QVERIFY(child<QTableWidget>(w, "searchResults")->rowCount() > 0);
        const SearchCandidate best = w.search_result().top.front();
        w.apply_search_row(0);
        QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
        const TrainConfig& c = w.evaluation()->memory.config;
        QCOMPARE(c.parallel.tp, best.config.parallel.tp);
        QCOMPARE(c.parallel.pp, best.config.parallel.pp);
        QCOMPARE(c.parallel.zero, best.config.parallel.zero);
        QCOMPARE(c.micro_batch, best.config.micro_batch);
        // The same model for plan and search: the applied layout plans to the searched step time.
        QVERIFY(std::abs(w.evaluation()->perf.step_seconds - best.step_seconds) <= 1e-9 * best.step_seconds);
    }

    void measured_overlay_is_tolerant() {
        QTemporaryDir dir;
        const QString path = dir.filePath("measured.json");
        {
            std::ofstream out(path.toStdString());
            out << R"({"schema": "something/1", "results": [{"max_memory_allocated": 12000000000, "note": "x"}],
                       "step_seconds": 0.5})";
        }
        MainWindow w;
        QString err;
        QVERIFY2(w.open_profile(path, &err), qPrintable(err));
        QCOMPARE(child<QTableWidget>(w, "measuredTable")->rowCount(), 2);
        QCOMPARE(w.memory_chart().markers.size(), 1);
        QVERIFY(std::abs(w.memory_chart().markers[0] - 12e9 / kGiB) < 1e-9);
        {
            std::ofstream out(path.toStdString());
            out << R"({"nothing": 1})";
        }
        QVERIFY(!w.open_profile(path, &err));
    }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
