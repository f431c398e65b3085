// test_gui.cpp — QTest widget tests of llmplan-gui (run offscreen: QT_QPA_PLATFORM=offscreen).
// The window must show exactly what the planner computes for its inputs, survive invalid input
// with the planner's message, and round-trip scenarios through JSON.
#include "core/error.h"
#include "core/gpu.h"
#include "core/job_text.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/main_window.h"
#include "gui/widgets.h"
#include "planner/accuracy.h"
#include "planner/search.h"
#include "planner/infer.h"
#include "planner/lora.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDir>
#include <QFile>
#include <QFontMetrics>
#include <QScreen>
#include <QScrollArea>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QHeaderView>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QWheelEvent>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <fstream>

using namespace llmplan;
using namespace llmplan::gui;

namespace {

// (kGiB: gui/widgets.h.)

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

// Lets the layouts finish: a shown page lays out in posted events, some of which post more.
void settle() {
    for (int i = 0; i < 3; ++i) QApplication::processEvents();
}

// Every visible label whose text does not fit its box: "name: text (needs W×H, has w×h)".
// One-line labels: each line's advance within the width; word-wrapped ones: heightForWidth within
// the height. Rich text is measured as QLabel lays it out (heightForWidth).
QStringList clipped_labels(const QWidget& root) {
    QStringList out;
    // A panel that scrolls only vertically must be no wider than its viewport (else its right edge is cut).
    for (const QScrollArea* a : root.findChildren<QScrollArea*>())
        if (a->isVisible() && a->widget() && a->horizontalScrollBarPolicy() == Qt::ScrollBarAlwaysOff &&
            a->widget()->width() > a->viewport()->width() + 1)
            out << QString("%1 is %2 wide in a %3 viewport").arg(a->objectName().isEmpty() ? QString("a scroll area") : a->objectName())
                       .arg(a->widget()->width()).arg(a->viewport()->width());
    for (const QLabel* l : root.findChildren<QLabel*>()) {
        if (!l->isVisible() || l->text().isEmpty() || l->width() <= 0) continue;
        const QRect box = l->contentsRect();
        const bool rich = l->textFormat() == Qt::RichText || (l->textFormat() == Qt::AutoText && Qt::mightBeRichText(l->text()));
        int need_w = 0, need_h = 0;
        if (l->wordWrap() || rich) {
            need_h = l->heightForWidth(l->width());
            need_w = 0;
            if (need_h <= l->height() + 1) continue;
        } else {
            const QFontMetrics fm(l->font());
            for (const QString& line : l->text().split('\n')) need_w = std::max(need_w, fm.horizontalAdvance(line));
            need_h = fm.height() * static_cast<int>(l->text().count('\n') + 1);
            if (need_w <= box.width() + 1 && need_h <= box.height() + 2) continue;
        }
        out << QString("%1 \"%2\" (needs %3×%4, has %5×%6)")
                   .arg(l->objectName().isEmpty() ? QString("label") : l->objectName(), l->text().left(60))
                   .arg(need_w).arg(need_h).arg(box.width()).arg(box.height());
    }
    return out;
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
        // The error band, as `plan` prints it (planner/accuracy.h: describe).
        {
            const std::optional<AccuracyBand> b = accuracy_band(expected.model, expected.config);
            QVERIFY(b.has_value());
            const AccuracyBandText text = describe(*b, perf.tokens_per_second / expected.config.parallel.gpus);
            bool shown = false;
            for (const Figure& f : key_figures(*w.evaluation()))
                if (f.key == "error_band") shown = f.text == text.range && f.how == text.how;
            QVERIFY(shown);
        }

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
        // The planner's message, then the valid sizes nearest the one typed (valid_layout_values):
        // TP must divide the 8 GPUs and the 32 heads.
        QCOMPARE(w.error_message(), expected + "\nValid with the other inputs as they are: TP 1, 2, 4, 8");
        QVERIFY(child<QLabel>(w, "errorMessage")->isVisibleTo(&w));
        QCOMPARE(w.evaluation()->memory.worst().device_total, before);  // the last valid plan stays
        // The field at fault is marked, no other.
        QVERIFY(child<QSpinBox>(w, "tp")->property("invalid").toBool());
        QVERIFY(!child<QSpinBox>(w, "pp")->property("invalid").toBool());
        QVERIFY(!child<QSpinBox>(w, "gpus")->property("invalid").toBool());
        // The verdict and the charts are greyed: they show the last valid plan, not this input.
        auto* verdict = child<QLabel>(w, "verdict");
        QCOMPARE(verdict->property("verdictStyle").toInt(), static_cast<int>(VerdictStyle::stale));
        QVERIFY(verdict->text().startsWith("Input invalid — the last valid plan, greyed: "));
        QVERIFY(!verdict->styleSheet().contains("#1b7a2e"));  // not green
        QVERIFY(child<ChartView>(w, "memoryChart")->stale());
        QVERIFY(child<ChartView>(w, "timeChart")->stale());
        // A model that changes while the input is invalid does not change the greyed verdict's claim.
        choose(w, "modelPreset", "llama-3.1-405b");
        QVERIFY(w.showing_error());
        QVERIFY(verdict->text().startsWith("Input invalid"));
        choose(w, "modelPreset", "llama-2-7b");
        // The Search and What fits tabs stay usable (they choose the layout); the views of the plan do not.
        auto* views = child<QTabWidget>(w, "views");
        for (int i = 0; i < views->count(); ++i)
            QCOMPARE(views->widget(i)->isEnabled(), views->tabText(i) == "Search" || views->tabText(i) == "What fits");
        QVERIFY(child<QPushButton>(w, "runSearch")->isEnabled());
        QVERIFY(w.run_search());
        QVERIFY(!w.search_result().top.empty());
        w.apply_search_row(0);  // a valid layout: the error, the marks and the grey go
        QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
        QVERIFY(!child<QSpinBox>(w, "tp")->property("invalid").toBool());
        QVERIFY(!child<ChartView>(w, "memoryChart")->stale());
        QVERIFY(verdict->property("verdictStyle").toInt() != static_cast<int>(VerdictStyle::stale));
        for (int i = 0; i < views->count(); ++i) QVERIFY(views->widget(i)->isEnabled());
        child<QSpinBox>(w, "tp")->setValue(1);
        child<QSpinBox>(w, "pp")->setValue(1);
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

    void hf_model_id_in_the_preset_field() {
        // A Hugging Face cache with one snapshot whose config.json links into blobs (core/model_source.h).
        QTemporaryDir dir;
        const std::filesystem::path hub = dir.filePath("hub").toStdString();
        const std::filesystem::path repo = hub / "models--TinyLlama--TinyLlama-1.1B";
        std::filesystem::create_directories(repo / "blobs");
        std::filesystem::create_directories(repo / "snapshots/aaaa1111");
        std::filesystem::copy_file(std::string(LLMPLAN_SOURCE_DIR) + "/tests/data/hf/tinyllama-1.1b.json", repo / "blobs/tiny");
        std::filesystem::create_symlink("../../blobs/tiny", repo / "snapshots/aaaa1111/config.json");
        const QByteArray saved = qgetenv("HF_HUB_CACHE");
        const bool had = qEnvironmentVariableIsSet("HF_HUB_CACHE");
        qputenv("HF_HUB_CACHE", QByteArray::fromStdString(hub.string()));

        MainWindow a;
        choose(a, "modelSource", "preset");
        child<QSpinBox>(a, "gpus")->setValue(1);
        auto* preset = child<QComboBox>(a, "modelPreset");
        QVERIFY(preset->isEditable());
        preset->setEditText("TinyLlama/TinyLlama-1.1B");
        QVERIFY2(!a.showing_error(), qPrintable(a.error_message()));
        QCOMPARE(a.evaluation()->model.name, std::string("TinyLlama/TinyLlama-1.1B"));
        QCOMPARE(a.evaluation()->origin,
                 "Hugging Face cache " + (repo / "snapshots/aaaa1111/config.json").string());
        QCOMPARE(a.evaluation()->memory.params.total(), std::int64_t{1100048384});
        // Saved and loaded as typed.
        QString err;
        const QString path = dir.filePath("tiny.json");
        QVERIFY2(a.save_scenario(path, &err), qPrintable(err));
        MainWindow b;
        QVERIFY2(b.load_scenario(path, &err), qPrintable(err));
        QCOMPARE(b.scenario().source, ModelSource::preset);
        QCOMPARE(b.scenario().model, std::string("TinyLlama/TinyLlama-1.1B"));
        QCOMPARE(b.evaluation()->memory.params.total(), std::int64_t{1100048384});
        // Not in the cache and no preset of it: the CLI's one line.
        preset->setEditText("Qwen/QwQ-32B");
        QVERIFY(a.showing_error());
        QCOMPARE(a.error_message(), QString::fromStdString("--model Qwen/QwQ-32B: not a preset and not in the Hugging Face "
                                                           "cache (looked in " + (hub / "models--Qwen--QwQ-32B").string() +
                                                           "); fetch its config with: hf download Qwen/QwQ-32B config.json"));
        // Not in the cache but a preset's own repository: the preset, as the CLI plans it.
        preset->setEditText("Qwen/Qwen3-8B");
        QVERIFY2(!a.showing_error(), qPrintable(a.error_message()));
        QCOMPARE(a.evaluation()->origin, std::string("preset qwen3-8b (Qwen/Qwen3-8B is not in the Hugging Face cache)"));
        // On a machine whose cache lacks it, the scenario's saved shape is used.
        qputenv("HF_HUB_CACHE", QByteArray::fromStdString((hub / "elsewhere").string()));
        MainWindow c;
        QVERIFY2(c.load_scenario(path, &err), qPrintable(err));
        QCOMPARE(c.scenario().source, ModelSource::shape);
        QCOMPARE(c.evaluation()->memory.params.total(), std::int64_t{1100048384});
        if (had) qputenv("HF_HUB_CACHE", saved);
        else qunsetenv("HF_HUB_CACHE");
    }

    void defaults_are_the_clis() {
        // The window opens on the CLI's defaults, read from the same structs the CLI reads
        // (JobText, InferText, kDefaultGpu), with the GUI's start model: a plan that fits.
        MainWindow w;
        const Scenario s = w.scenario();
        QCOMPARE(s, default_scenario());
        QCOMPARE(s.gpu, std::string(kDefaultGpu));
        QCOMPARE(s.model, std::string(kStartModel));
        const GpuSpec& gpu = gpu_or_throw(kDefaultGpu, "--gpu");
        const TrainConfig cli = train_config_from_text(JobText{}, gpu.default_gpus_per_node);
        const TrainConfig gui = resolve_config(s);
        QCOMPARE(gui.parallel.gpus, cli.parallel.gpus);
        QCOMPARE(gui.parallel.gpus_per_node, cli.parallel.gpus_per_node);
        QCOMPARE(gui.parallel.tp, cli.parallel.tp);
        QCOMPARE(gui.parallel.zero, cli.parallel.zero);
        QCOMPARE(gui.precision, cli.precision);
        QCOMPARE(gui.optimizer, cli.optimizer);
        QCOMPARE(gui.recompute, cli.recompute);
        QCOMPARE(gui.micro_batch, cli.micro_batch);
        QCOMPARE(gui.parallel.zero, 0);  // hand-checked: `llmplan plan` without --zero is ZeRO-0 on 1 GPU
        QCOMPARE(gui.parallel.gpus, 1);
        const InferConfig infer_cli = infer_config_from_text(InferText{});
        const InferConfig infer_gui = resolve_infer_config(s);
        QCOMPARE(infer_gui.weights.format, infer_cli.weights.format);
        QCOMPARE(infer_gui.kv, infer_cli.kv);
        QCOMPARE(infer_gui.kv, WeightFormat::bf16);
        QCOMPARE(infer_gui.batch, infer_cli.batch);
        QCOMPARE(infer_gui.prompt, infer_cli.prompt);
        QCOMPARE(infer_gui.generate, infer_cli.generate);
        QCOMPARE(infer_gui.framework, infer_cli.framework);
        // The widgets show it: the H100, ZeRO-0, bf16 weights; and the first screen fits.
        QCOMPARE(child<QComboBox>(w, "gpu")->currentData().toString(), QString(kDefaultGpu));
        QCOMPARE(child<QComboBox>(w, "zero")->currentData().toString(), QString("0"));
        QCOMPARE(child<QComboBox>(w, "inferWeights")->currentData().toString(), QString("bf16"));
        QVERIFY(!w.showing_error());
        QVERIFY(w.evaluation()->memory.fits);
        QCOMPARE(child<QLabel>(w, "verdict")->property("verdictStyle").toInt(), static_cast<int>(VerdictStyle::fits));
        // A saved scenario stores those defaults (bf16 weights, the default KV cache).
        QTemporaryDir dir;
        QString err;
        QVERIFY2(w.save_scenario(dir.filePath("s.json"), &err), qPrintable(err));
        const Scenario back = load_scenario_file(dir.filePath("s.json").toStdString());
        QCOMPARE(back.infer.weights, std::string("bf16"));
        QCOMPARE(back.infer.kv_cache, std::string(""));
        QCOMPARE(back.zero, 0);
    }

    void bf16_without_bf16_warns() {
        // The planner's warning (precision_fallback_warning), shown under the verdict in both modes.
        MainWindow w;
        choose(w, "gpu", "v100-32g");
        choose(w, "modelPreset", "gpt2-124m");
        QVERIFY(!w.showing_error());
        const QString text = child<QLabel>(w, "verdict")->text();
        QVERIFY2(text.contains("\nwarning: --precision mixed-bf16: the v100-32g (NVIDIA Tesla V100 SXM2 32GB) has no bf16 "
                               "tensor cores"),
                 qPrintable(text));
        choose(w, "precision", "mixed-fp16");
        QVERIFY(!child<QLabel>(w, "verdict")->text().contains("warning"));
        choose(w, "mode", "inference");
        QVERIFY(child<QLabel>(w, "inferVerdict")->text().contains("warning: --weights bf16: the v100-32g"));
        choose(w, "inferWeights", "fp16");
        QVERIFY(!child<QLabel>(w, "inferVerdict")->text().contains("warning"));
    }

    void wheel_changes_only_focused_inputs() {
        MainWindow w;
        w.show();
        auto* optimizer = child<QComboBox>(w, "optimizer");
        auto* gpus = child<QSpinBox>(w, "gpus");
        QCOMPARE(optimizer->focusPolicy(), Qt::StrongFocus);
        const int before = optimizer->currentIndex();
        const int gpus_before = gpus->value();
        for (QWidget* input : {static_cast<QWidget*>(optimizer), static_cast<QWidget*>(gpus)}) {
            QVERIFY(!input->hasFocus());
            const QPointF at(input->width() / 2.0, input->height() / 2.0);
            QWheelEvent down(at, input->mapToGlobal(at), QPoint(), QPoint(0, -120), Qt::NoButton, Qt::NoModifier,
                             Qt::NoScrollPhase, false);
            QApplication::sendEvent(input, &down);
            QVERIFY(!down.isAccepted());  // left to the scroll area
        }
        QCOMPARE(optimizer->currentIndex(), before);
        QCOMPARE(gpus->value(), gpus_before);
    }

    void verdict_states_and_shortfall() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        auto* verdict = child<QLabel>(w, "verdict");
        // ZeRO-2, micro-batch 3: 78.24 of 79.18 GiB (hand-checked with `llmplan plan`): fits, 0.94 GiB
        // free, under the 5% margin: tight, in amber.
        choose(w, "zero", "2");
        child<QSpinBox>(w, "microBatch")->setValue(3);
        QVERIFY(w.evaluation()->memory.fits);
        QCOMPARE(fit_state(w.evaluation()->memory.headroom_bytes, w.evaluation()->memory.capacity_bytes), FitState::tight);
        QCOMPARE(verdict->property("verdictStyle").toInt(), static_cast<int>(VerdictStyle::tight));
        QVERIFY2(verdict->text().startsWith("TIGHT — fits with only 0.94 GiB (1.2%) free of 79.18 GiB on 8 × "), qPrintable(verdict->text()));
        QVERIFY(verdict->text().contains("under the 5% margin"));
        QCOMPARE(child<QLabel>(w, "figure_headroom_name")->text(), QString("headroom:"));
        // ZeRO-1, micro-batch 3: 89.37 GiB, short by 10.19 GiB: said so, not as a positive "headroom".
        choose(w, "zero", "1");
        QVERIFY(!w.evaluation()->memory.fits);
        QCOMPARE(verdict->property("verdictStyle").toInt(), static_cast<int>(VerdictStyle::does_not_fit));
        QVERIFY(verdict->text().startsWith("DOES NOT FIT — short by 10.19 GiB of 79.18 GiB"));
        QCOMPARE(child<QLabel>(w, "figure_headroom_name")->text(), QString("short by:"));
        QCOMPARE(child<QLabel>(w, "figure_headroom")->text(), QString("10.19 GiB"));
        // micro-batch 1: 54.45 GiB, 24.73 GiB free: fits.
        child<QSpinBox>(w, "microBatch")->setValue(1);
        QCOMPARE(verdict->property("verdictStyle").toInt(), static_cast<int>(VerdictStyle::fits));
        QVERIFY(verdict->text().startsWith("FITS — headroom 24.73 GiB (31.2%) of 79.18 GiB"));
    }

    void search_is_best_first_with_a_margin() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        w.select_tab("search");
        QVERIFY(w.run_search());
        const SearchResult& r = w.search_result();
        QVERIFY(r.top.size() > 3);
        // Every layout leaves the 5% margin free (search_layouts' min_headroom = kHeadroomMargin).
        for (const SearchCandidate& c : r.top) QVERIFY(c.headroom >= kHeadroomMargin * (c.device_total + c.headroom) * (1 - 1e-12));
        // The table shows rank 1 (the fastest) first, in order.
        auto* table = child<QTableWidget>(w, "searchResults");
        QCOMPARE(table->rowCount(), static_cast<int>(r.top.size()));
        for (int row = 0; row < table->rowCount(); ++row) QCOMPARE(table->item(row, 0)->text(), QString::number(row + 1));
        QCOMPARE(table->horizontalHeader()->sortIndicatorOrder(), Qt::AscendingOrder);
        // The explanation is structured: the winner, then why not each alternative, as a list.
        const QString why = child<QLabel>(w, "searchStatus")->text();
        QVERIFY(why.contains("<b>Winner (row 1):</b> fits: "));
        QVERIFY(why.contains("<b>Why not the alternatives:</b></p><ul><li>"));
    }

    void deltas_in_their_units() {
        QCOMPARE(format_signed_delta(48456, "ms"), std::string("+48.46 s"));
        QCOMPARE(format_signed_delta(-2053823, "USD"), std::string("−$2.05M"));
        QCOMPARE(format_signed_delta(4, ""), std::string("+4"));
        QCOMPARE(format_signed_delta(0, ""), std::string("±0"));
        QCOMPARE(format_signed_delta(-1.5, "days"), std::string("−36.0 h"));  // as format_duration shows times
        QCOMPARE(format_signed_delta(4, "days"), std::string("+4.0 days"));
        QCOMPARE(format_signed_delta(2.5, "GiB"), std::string("+2.50 GiB"));
        QCOMPARE(format_signed_delta(-12.26, "%"), std::string("−12.3%"));
        QCOMPARE(format_signed_delta(12300, "tok/s"), std::string("+12.3K tok/s"));
        // In the window: pinned A (ZeRO-1) against B (ZeRO-3); every Δ is formatted like its values.
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        choose(w, "zero", "1");
        QVERIFY(w.pin());
        choose(w, "zero", "3");
        auto* table = child<QTableWidget>(w, "compareTable");
        const std::vector<Figure> a = key_figures(*w.evaluation());
        bool step = false, cost = false, batch = false;
        for (int row = 0; row < table->rowCount(); ++row) {
            const QString delta = table->item(row, 3)->text();
            if (table->item(row, 0)->text() == "step time") step = delta.endsWith(" s") || delta.endsWith(" ms");
            if (table->item(row, 0)->text() == "cost") cost = delta.contains("$");
            if (table->item(row, 0)->text() == "largest micro-batch that fits") batch = !delta.contains(".");
        }
        QVERIFY(step);
        QVERIFY(cost);
        QVERIFY(batch);
    }

    void expert_tp_is_an_input() {
        // --etp in the form: the experts whole on each rank (1) or split like the dense layers (tp).
        MainWindow w;
        choose(w, "modelPreset", "qwen3-30b-a3b");
        child<QSpinBox>(w, "gpus")->setValue(16);
        child<QSpinBox>(w, "tp")->setValue(2);
        child<QCheckBox>(w, "sp")->setChecked(true);
        child<QSpinBox>(w, "ep")->setValue(8);
        choose(w, "etp", "1");
        QCOMPARE(w.scenario().etp, 1);
        QVERIFY(w.evaluation() != nullptr);
        QCOMPARE(w.evaluation()->memory.config.parallel.expert_tp(), 1);
        QVERIFY(child<QComboBox>(w, "etp")->isEnabled());
        // A scenario carries it both ways.
        Scenario s = w.scenario();
        s.etp = 0;
        w.set_scenario(s);
        QCOMPARE(data_of(child<QComboBox>(w, "etp")), std::string("tp"));
    }

    void offload_activations_is_an_input() {
        // --offload-activations in the form: the layers whose activations go to CPU memory.
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        child<QSpinBox>(w, "offloadActivations")->setValue(8);
        QCOMPARE(w.scenario().offload_activations, 8);
        QVERIFY(w.evaluation() != nullptr);
        QCOMPARE(w.evaluation()->memory.config.offload_activations, 8);
        QVERIFY(w.evaluation()->memory.worst().offloaded_activations > 0);
        Scenario s = w.scenario();
        s.offload_activations = 0;
        w.set_scenario(s);
        QCOMPARE(child<QSpinBox>(w, "offloadActivations")->value(), 0);
    }

    void colours_are_fixed_per_term() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        // Every term key the planner produces here has a colour of its own, the same in every chart.
        std::map<QString, QRgb> seen;
        auto check = [&](const StackedBarChart& c) {
            std::set<QRgb> in_chart;
            for (const auto& st : c.stacks) {
                QVERIFY2(!st.key.isEmpty(), qPrintable(st.name));
                const QColor colour = term_color(st.key);
                QVERIFY2(in_chart.insert(colour.rgb()).second, qPrintable("two terms share a colour: " + st.key));
                QVERIFY2(colour.lightnessF() < 0.75, qPrintable(st.key + " is too pale"));
                if (auto it = seen.find(st.key); it != seen.end()) QCOMPARE(it->second, colour.rgb());
                seen[st.key] = colour.rgb();
            }
        };
        check(w.memory_chart());
        check(w.time_chart());
        choose(w, "zero", "3");  // other terms (the gathered ZeRO-3 parameters), another order
        check(w.memory_chart());
        QVERIFY(w.pin());
        choose(w, "recompute", "full");
        check(w.memory_chart());
        choose(w, "mode", "inference");
        check(w.infer_chart());
        choose(w, "inferFramework", "vllm");
        check(w.infer_chart());
        QCOMPARE(term_color("parameters"), term_color("weights"));  // the same memory, trained or served
        QVERIFY(seen.size() >= 10);
    }

    void layout_fits_small_screens() {
        // The window opens within the screen (ctest's offscreen screen: 1920 × 1080; with
        // QT_SCALE_FACTOR=2, 960 × 540 logical pixels) and can be made as small as 1024 × 640.
        const QSize screen = QGuiApplication::primaryScreen()->availableGeometry().size();
        const QString scale = qEnvironmentVariable("QT_SCALE_FACTOR", "1");
        MainWindow w;
        w.show();
        QVERIFY2(w.width() <= screen.width() && w.height() <= screen.height(),
                 qPrintable(QString("opens %1×%2 on a %3×%4 screen").arg(w.width()).arg(w.height()).arg(screen.width()).arg(screen.height())));
        const QSize smallest = QSize(1024, 640).boundedTo(screen);
        QVERIFY2(w.minimumSizeHint().width() <= smallest.width() && w.minimumSizeHint().height() <= smallest.height(),
                 qPrintable(QString("minimum %1×%2").arg(w.minimumSizeHint().width()).arg(w.minimumSizeHint().height())));
        // A plan with a pinned A, a measured run and a long model name: the most text there is.
        QVERIFY(w.load_scenario(LLMPLAN_SOURCE_DIR "/docs/images/gui_scenario.json"));
        QVERIFY(w.pin());
        child<QSpinBox>(w, "microBatch")->setValue(2);
        const QString shots = qEnvironmentVariable("LLMPLAN_GUI_SHOTS", QCoreApplication::applicationDirPath());
        for (const QSize size : {QSize(1024, 640), QSize(1280, 720), QSize(1920, 1080)}) {
            const QSize want = size.boundedTo(screen);
            w.resize(want);
            settle();
            QCOMPARE(w.size(), want);  // nothing holds the window larger
            for (const char* tab : {"memory", "time", "communication", "scaling", "search", "compare", "measured", "fits"}) {
                w.select_tab(tab);
                if (QString(tab) == "search") w.run_search();
                if (QString(tab) == "fits" && w.what_fits_result().empty()) w.run_what_fits();
                settle();
                const QStringList clipped = clipped_labels(w);
                QVERIFY2(clipped.isEmpty(), qPrintable(QString("%1×%2 %3 tab: ").arg(want.width()).arg(want.height()).arg(tab) +
                                                       clipped.join("; ")));
                if (QString(tab) == "memory" || QString(tab) == "search")
                    QVERIFY(w.grab().save(QString("%1/gui_%2x%3_scale%4_%5.png").arg(shots).arg(want.width()).arg(want.height())
                                              .arg(scale, tab)));
            }
            // Pinning does not resize the window.
            w.unpin();
            QApplication::processEvents();
            QVERIFY(w.pin());
            QApplication::processEvents();
            QCOMPARE(w.size(), want);
            choose(w, "mode", "inference");
            settle();
            const QStringList clipped = clipped_labels(w);
            QVERIFY2(clipped.isEmpty(), qPrintable(QString("%1×%2 inference: ").arg(want.width()).arg(want.height()) + clipped.join("; ")));
            QVERIFY(w.grab().save(QString("%1/gui_%2x%3_scale%4_inference.png").arg(shots).arg(want.width()).arg(want.height()).arg(scale)));
            choose(w, "mode", "training");
        }
    }

    void inputs_say_what_applies() {
        MainWindow w;
        // 0 GPUs: the planner's message and the field marked, not a silent revert.
        child<QSpinBox>(w, "gpus")->setValue(0);
        QCOMPARE(child<QSpinBox>(w, "gpus")->value(), 0);
        QVERIFY(w.showing_error());
        QVERIFY2(w.error_message().startsWith("--gpus"), qPrintable(w.error_message()));
        QVERIFY(child<QSpinBox>(w, "gpus")->property("invalid").toBool());
        child<QSpinBox>(w, "gpus")->setValue(8);
        QVERIFY(!w.showing_error());
        QVERIFY(!child<QSpinBox>(w, "gpus")->property("invalid").toBool());
        // "parameter count" starts from the model planned so far: llama-3-70b stays about 70B.
        choose(w, "modelPreset", "llama-3-70b");
        choose(w, "modelSource", "params");
        QCOMPARE(child<QLineEdit>(w, "params")->text(), QString::fromStdString(format_count(70553706496.0)));
        QVERIFY(!w.showing_error());
        QVERIFY(std::abs(static_cast<double>(w.evaluation()->memory.params.total()) / 70553706496.0 - 1) < 0.05);
        // Inputs that do not apply are disabled: nf4 double quantization without nf4, vLLM's
        // settings outside vLLM, group size without int4/int3, LoRA settings without LoRA.
        choose(w, "inferWeights", "bf16");
        QVERIFY(!child<QCheckBox>(w, "inferDoubleQuant")->isEnabled());
        QVERIFY(!child<QSpinBox>(w, "inferGroupSize")->isEnabled());
        choose(w, "inferWeights", "nf4");
        QVERIFY(child<QCheckBox>(w, "inferDoubleQuant")->isEnabled());
        choose(w, "inferWeights", "int4");
        QVERIFY(child<QSpinBox>(w, "inferGroupSize")->isEnabled());
        QVERIFY(!child<QDoubleSpinBox>(w, "inferGpuMemoryUtilization")->isEnabled());
        QVERIFY(!child<QSpinBox>(w, "inferBlockSize")->isEnabled());
        choose(w, "inferFramework", "vllm");
        QVERIFY(child<QDoubleSpinBox>(w, "inferGpuMemoryUtilization")->isEnabled());
        QVERIFY(child<QSpinBox>(w, "inferBlockSize")->isEnabled());
        QVERIFY(!child<QComboBox>(w, "baseQuant")->isEnabled());
        child<QSpinBox>(w, "loraRank")->setValue(16);
        QVERIFY(child<QComboBox>(w, "baseQuant")->isEnabled());
    }

    void inference_pins_and_qualifies() {
        MainWindow w;
        choose(w, "mode", "inference");
        choose(w, "modelPreset", "llama-2-7b");
        QVERIFY(w.pin());  // A/B in inference mode too
        QVERIFY(w.pinned());
        child<QSpinBox>(w, "inferBatch")->setValue(32);
        QVERIFY(!w.showing_error());
        QCOMPARE(w.infer_chart().categories, QStringList({"A (pinned)", "B (current)"}));
        QVERIFY(std::abs(stack_total(w.infer_chart(), 1) - stack_total(w.infer_chart(), 0)) > 0.5);  // B's KV cache is larger
        QVERIFY(child<QLabel>(w, "infer_kv_cache")->text().contains("(Δ +"));
        // The CLI's qualifiers: the context at this batch, the batch at this request length.
        QCOMPARE(child<QLabel>(w, "infer_max_context_name")->text(), QString("longest context at batch 32:"));
        QCOMPARE(child<QLabel>(w, "infer_max_batch_name")->text(), QString("largest batch at 768 tokens:"));
        w.unpin();
        QVERIFY(!w.pinned());
        QCOMPARE(w.infer_chart().categories, QStringList({"current"}));
        // Weights larger than the card: no context fits, not "256".
        choose(w, "modelPreset", "llama-3-70b");
        QCOMPARE(child<QLabel>(w, "infer_max_context")->text(), QString("none"));
        QCOMPARE(w.inference()->plan.max_context, std::int64_t{0});
        QCOMPARE(child<QLabel>(w, "infer_headroom_name")->text(), QString("short by:"));
    }

    void exports_say_what_they_show() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        choose(w, "zero", "1");
        // The chart's title carries the model, the GPUs, the layout and the verdict.
        QCOMPARE(w.memory_chart().title, QString("Memory per GPU, most loaded stage (h100-sxm)\n"
                                                 "llama-2-7b · 8 × h100-sxm · tp 1, pp 1, dp 8, ZeRO-1, micro-batch 1 · fits"));
        QVERIFY(w.time_chart().title.endsWith("ZeRO-1, micro-batch 1 · fits"));
        // A step of 41.5 s (global batch 1024, as `llmplan search` picks) is drawn in seconds, not as 41530 ms.
        child<QSpinBox>(w, "globalBatch")->setValue(1024);
        QVERIFY(w.evaluation()->perf.step_seconds > 10);
        QCOMPARE(w.time_chart().value_axis, QString("s per step"));
        double total = 0;
        for (const auto& st : w.time_chart().stacks) total += st.values[0];
        QVERIFY(std::abs(total - w.evaluation()->perf.step_seconds) < 1e-9 * w.evaluation()->perf.step_seconds);
        // A tab without a chart exports nothing rather than another tab's chart.
        QTemporaryDir dir;
        QString err;
        w.select_tab("search");
        QVERIFY(!w.export_chart(dir.filePath("search.png"), &err));
        QCOMPARE(err, QString("chart: the Search tab has no chart; choose Memory, Step time or Scaling to export one"));
        QVERIFY(!QFileInfo::exists(dir.filePath("search.png")));
        w.select_tab("memory");
        QVERIFY2(w.export_chart(dir.filePath("memory.png"), &err), qPrintable(err));
    }

    void keyboard_shortcuts_are_listed() {
        // Every view has a shortcut in the View menu (Ctrl+1 … Ctrl+8) and Ctrl+Shift+F searches.
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        auto* views = child<QTabWidget>(w, "views");
        QAction* search = nullptr;
        int found = 0;
        for (QAction* a : w.findChildren<QAction*>()) {
            const QKeySequence k = a->shortcut();
            for (int i = 0; i < 8; ++i)
                if (k == QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i))) {
                    a->trigger();
                    QCOMPARE(views->currentIndex(), i);
                    ++found;
                }
            if (k == QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F)) search = a;
        }
        QCOMPARE(found, 8);
        QVERIFY(search);
        views->setCurrentIndex(0);
        search->trigger();
        QCOMPARE(views->tabText(views->currentIndex()), QString("Search"));
        QVERIFY(!w.search_result().top.empty());
    }

    void every_framework_of_the_cli() {
        // The framework box lists the registry's names (core/config.h framework_names), as --framework.
        MainWindow w;
        auto* box = child<QComboBox>(w, "framework");
        const std::vector<std::string> names = framework_names();
        QCOMPARE(box->count(), static_cast<int>(names.size()));
        for (int i = 0; i < box->count(); ++i) QCOMPARE(box->itemData(i).toString().toStdString(), names[i]);
        // Megatron's and DeepSpeed's conventions plan as the planner plans them.
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(8);
        // Each with a ZeRO stage it runs: the distributed optimizer, ZeRO-2, FSDP2's full shard.
        for (const auto& [name, zero] : {std::pair{"megatron", 1}, {"deepspeed", 2}, {"torchtitan", 3}}) {
            choose(w, "zero", QString::number(zero));
            choose(w, "framework", name);
            QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
            TrainConfig c;
            c.parallel.gpus = 8;
            c.parallel.gpus_per_node = 8;
            c.parallel.zero = zero;
            c.framework = parse_framework(name, "--framework");
            const MemoryPlan expected = plan_memory(preset_or_throw("llama-2-7b", "--model"), gpu_or_throw("h100-sxm", "--gpu"), c);
            QCOMPARE(w.evaluation()->memory.worst().device_total, expected.worst().device_total);
        }
    }

    void what_fits_lists_every_preset() {
        // A hub cache holding one model (core/model_source.h): it is listed after the presets.
        QTemporaryDir dir;
        const std::filesystem::path hub = dir.filePath("hub").toStdString();
        const std::filesystem::path snapshot = hub / "models--TinyLlama--TinyLlama-1.1B/snapshots/aaaa1111";
        std::filesystem::create_directories(snapshot);
        std::filesystem::copy_file(std::string(LLMPLAN_SOURCE_DIR) + "/tests/data/hf/tinyllama-1.1b.json",
                                   snapshot / "config.json");
        const QByteArray saved = qgetenv("HF_HUB_CACHE");
        const bool had = qEnvironmentVariableIsSet("HF_HUB_CACHE");
        qputenv("HF_HUB_CACHE", QByteArray::fromStdString(hub.string()));
        MainWindow w;  // one H100 (the CLI's defaults)
        w.select_tab("fits");
        QVERIFY(w.run_what_fits());
        if (had) qputenv("HF_HUB_CACHE", saved);
        else qunsetenv("HF_HUB_CACHE");
        QCOMPARE(w.what_fits_result().size(), model_presets().size() + 1);
        QCOMPARE(w.what_fits_result().back().model, std::string("TinyLlama/TinyLlama-1.1B"));
        QVERIFY(child<QLabel>(w, "fitsStatus")->text().contains("and 1 model of the Hugging Face cache"));
        auto* table = child<QTableWidget>(w, "fitsTable");
        QCOMPARE(table->rowCount(), static_cast<int>(model_presets().size()) + 1);
        // Exactly what_fits for each preset: llama-2-7b serves on one GPU but does not train in full.
        for (int row = 0; row < table->rowCount(); ++row) {
            if (table->item(row, 0)->text() != "llama-2-7b") continue;
            QCOMPARE(table->item(row, 2)->text(), QString("no"));
            QVERIFY(table->item(row, 3)->text().startsWith("yes, "));
            QVERIFY(table->item(row, 5)->text().startsWith("tp 1: batch up to "));
        }
        // Smallest first.
        QCOMPARE(table->item(0, 0)->text(), QString("gpt2-124m"));
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
        // The communication table: A's time and Δ per collective (ZeRO-3 adds gathers A did not have).
        auto* comm = child<QTableWidget>(w, "collectives");
        QVERIFY(!comm->isColumnHidden(11));
        QVERIFY(comm->rowCount() >= static_cast<int>(w.evaluation()->perf.collectives.size()));
        w.unpin();
        QVERIFY(comm->isColumnHidden(11));
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
        QCOMPARE(err, path + ": no measured quantity found (see the Measured tab for the keys read)");
        // Any JSON at all is a message, never an abort: an array, a number, a profile report with
        // a field of another type.
        for (const char* text : {"[1, 2, 3]", "42", "\"text\"", "null"}) {
            std::ofstream(path.toStdString()) << text;
            QVERIFY(!w.open_profile(path, &err));
            QCOMPARE(err, path + ": no measured quantity found (see the Measured tab for the keys read)");
        }
        std::ofstream(path.toStdString()) << R"({"schema": "llmplan.profile/1", "measured": {"memory": [], "time": 1}})";
        QVERIFY(!w.open_profile(path, &err));
        QCOMPARE(err, path + ": not a complete llmplan.profile/1 report (no number at measured.memory.peak_allocated.peak_bytes)");
        std::ofstream(path.toStdString()) << R"({"schema": 7, "mfu": 0.5})";  // not the profile schema: read tolerantly
        QVERIFY2(w.open_profile(path, &err), qPrintable(err));
        // An `llmplan profile --json` report (validation/engine fixture): peak, step time, tokens/s, MFU.
        const QString profile = QString::fromStdString(std::string(LLMPLAN_SOURCE_DIR) +
                                                       "/validation/engine/gpt2-124m_bf16_full_flash_b32.json");
        QVERIFY2(w.open_profile(profile, &err), qPrintable(err));
        QCOMPARE(child<QTableWidget>(w, "measuredTable")->rowCount(), 4);
        // The run is gpt2-124m, micro-batch 32 × 1024, recompute full: against the default plan it is
        // another job, said so, and not drawn on the charts.
        auto* warning = child<QLabel>(w, "measuredMismatch");
        QVERIFY(!warning->isHidden());
        QVERIFY2(warning->text().contains("model gpt2-124m, not " + QString(kStartModel)), qPrintable(warning->text()));
        QVERIFY(warning->text().contains("micro-batch 32, not 1"));
        QVERIFY(w.memory_chart().markers.isEmpty());
        QVERIFY(w.time_chart().markers.isEmpty());
        // Its own job: compared, and marked on the charts.
        choose(w, "modelPreset", "gpt2-124m");
        child<QSpinBox>(w, "microBatch")->setValue(32);
        child<QSpinBox>(w, "seq")->setValue(1024);
        choose(w, "recompute", "full");
        QVERIFY(!w.showing_error());
        QVERIFY2(warning->isHidden(), qPrintable(warning->text()));
        QVERIFY(std::abs(w.memory_chart().markers[0] - 6800068608.0 / kGiB) < 1e-9);
        QCOMPARE(w.time_chart().markers.size(), 1);
        // A change of model hides the marker again.
        choose(w, "modelPreset", "gpt2-350m");
        QVERIFY(w.memory_chart().markers.isEmpty());
    }

    void lora_inputs_follow_the_planner() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-7b");
        child<QSpinBox>(w, "gpus")->setValue(1);
        choose(w, "zero", "0");
        const double full = w.evaluation()->memory.worst().device_total;
        QCOMPARE(trainable_parameters(*w.evaluation()), static_cast<double>(w.evaluation()->memory.params.total()));
        child<QSpinBox>(w, "loraRank")->setValue(16);
        child<QLineEdit>(w, "loraTargets")->setText("q,k,v,o");
        choose(w, "baseQuant", "nf4");
        child<QCheckBox>(w, "pagedOptimizer")->setChecked(true);
        QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
        // What `llmplan plan --lora-rank 16 --lora-targets q,k,v,o --base-quant nf4 --paged-optimizer` computes.
        TrainConfig c;
        c.parallel.gpus = 1;
        c.parallel.zero = 0;
        c.lora.rank = 16;
        c.lora.targets = parse_lora_targets("q,k,v,o", "--lora-targets");
        c.lora.base_quant = BaseQuant::nf4;
        c.lora.paged_optimizer = true;
        const ModelSpec model = preset_or_throw("llama-2-7b", "--model");
        const MemoryPlan expected = plan_memory(model, gpu_or_throw("h100-sxm", "--gpu"), c);
        QCOMPARE(w.evaluation()->memory.worst().device_total, expected.worst().device_total);
        QCOMPARE(w.evaluation()->memory.worst().peak_allocated, expected.worst().peak_allocated);
        QVERIFY(expected.worst().device_total < full);
        const double trainable = count_lora(model, c.lora).adapter_params;
        QCOMPARE(trainable, 16.0 * 32 * 4 * (4096 + 4096));  // PEFT: r·(in + out) per projection
        QCOMPARE(trainable_parameters(*w.evaluation()), trainable);
        QCOMPARE(child<QLabel>(w, "figure_trainable")->text(), QString::fromStdString(format_count(trainable)));
        QVERIFY(child<QLabel>(w, "trainable")->text().startsWith(QString::fromStdString(format_count(trainable))));
        // The exported report carries the CLI's `lora` object.
        const nlohmann::ordered_json report = report_json(*w.evaluation());
        QCOMPARE(report["lora"]["trainable_parameters"].get<double>(), trainable);
        QCOMPARE(report["inputs"]["lora"]["targets"].get<std::string>(), std::string("q,k,v,o"));
        // A bad target list: parse_lora_targets' message, the last valid plan kept.
        child<QLineEdit>(w, "loraTargets")->setText("q,x");
        QVERIFY(w.showing_error());
        QVERIFY(w.error_message().startsWith("--lora-targets"));
        QCOMPARE(w.evaluation()->memory.worst().device_total, expected.worst().device_total);
        child<QLineEdit>(w, "loraTargets")->setText("all");
        QVERIFY(!w.showing_error());
        QVERIFY(trainable_parameters(*w.evaluation()) > trainable);
    }

    void inference_mode_follows_plan_inference() {
        MainWindow w;
        choose(w, "modelPreset", "llama-2-13b");
        choose(w, "gpu", "a100-80g");
        choose(w, "mode", "inference");
        QVERIFY(child<QWidget>(w, "inferTp")->isVisibleTo(&w));
        QVERIFY(!child<QWidget>(w, "tp")->isVisibleTo(&w));
        choose(w, "inferWeights", "int4");
        child<QSpinBox>(w, "inferBatch")->setValue(8);
        child<QSpinBox>(w, "inferPrompt")->setValue(1024);
        child<QSpinBox>(w, "inferGenerate")->setValue(512);
        choose(w, "inferFramework", "vllm");
        child<QDoubleSpinBox>(w, "inferGpuMemoryUtilization")->setValue(0.85);
        QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
        QVERIFY(w.inference());
        // `llmplan infer --model llama-2-13b --gpu a100-80g --weights int4 --batch 8 --prompt 1024
        //  --generate 512 --framework vllm --gpu-memory-utilization 0.85`, as cli/cmd_infer.cpp builds it.
        InferConfig c;
        c.weights.format = WeightFormat::int4;
        c.kv = WeightFormat::bf16;
        c.batch = 8;
        c.prompt = 1024;
        c.generate = 512;
        c.framework = InferFramework::vllm;
        c.gpu_memory_utilization = 0.85;
        const InferPlan e = plan_inference(preset_or_throw("llama-2-13b", "--model"), gpu_or_throw("a100-80g", "--gpu"), c);
        const InferPlan& g = w.inference()->plan;
        QCOMPARE(g.device_total, e.device_total);
        QCOMPARE(g.peak, e.peak);
        QCOMPARE(g.fits, e.fits);
        QCOMPARE(g.headroom, e.headroom);
        QCOMPARE(g.max_batch, e.max_batch);
        QCOMPARE(g.max_context, e.max_context);
        QCOMPARE(g.vllm_kv_blocks, e.vllm_kv_blocks);
        QCOMPARE(g.prefill_seconds, e.prefill_seconds);
        QCOMPARE(g.decode_step_seconds, e.decode_step_seconds);
        QCOMPARE(g.tokens_per_second_per_gpu, e.tokens_per_second_per_gpu);
        // The stacked bar: one segment per planner term, against the capacity; the device total marked.
        const StackedBarChart& chart = w.infer_chart();
        QCOMPARE(chart.stacks.size(), e.terms.size());
        for (std::size_t i = 0; i < e.terms.size(); ++i) {
            QCOMPARE(chart.stacks[i].name, QString::fromStdString(e.terms[i].label));
            QVERIFY(std::abs(chart.stacks[i].values[0] - e.terms[i].bytes / kGiB) < 1e-12);
        }
        QVERIFY(chart.limit && std::abs(*chart.limit - e.capacity / kGiB) < 1e-12);
        QVERIFY(std::abs(chart.markers[0] - e.device_total / kGiB) < 1e-12);
        QCOMPARE(child<QLabel>(w, "infer_max_batch")->text(), QString::number(e.max_batch));
        QCOMPARE(child<QLabel>(w, "infer_vllm_kv_blocks")->text(), QString::number(e.vllm_kv_blocks));
        QCOMPARE(child<QLabel>(w, "infer_ttft")->text(), QString::fromStdString(format_duration(e.prefill_seconds)));
        QCOMPARE(child<QLabel>(w, "infer_token_latency")->text(), QString::fromStdString(format_duration(e.decode_step_seconds)));
        QVERIFY(child<QLabel>(w, "inferVerdict")->text().startsWith(e.fits ? "FITS" : "DOES NOT FIT"));
        QVERIFY2(w.last_recompute_seconds() < 0.05, qPrintable(QString::number(w.last_recompute_seconds() * 1e3) + " ms"));

        // Invalid input: the planner's message inline, the last valid plan kept.
        child<QSpinBox>(w, "inferTp")->setValue(3);  // does not divide 40 heads
        QString expected;
        try {
            InferConfig bad = c;
            bad.tp = 3;
            plan_inference(preset_or_throw("llama-2-13b", "--model"), gpu_or_throw("a100-80g", "--gpu"), bad);
        } catch (const InputError& ex) {
            expected = ex.what();
        }
        QVERIFY(!expected.isEmpty());
        QVERIFY(w.showing_error());
        QCOMPARE(w.error_message(), expected);
        QCOMPARE(w.inference()->plan.device_total, e.device_total);
        child<QSpinBox>(w, "inferTp")->setValue(1);
        QVERIFY(!w.showing_error());
        // Back to training: the training views again.
        choose(w, "mode", "training");
        QVERIFY(!w.showing_error());
        QCOMPARE(w.evaluation()->memory.model.name, std::string("llama-2-13b"));
    }

    void lora_and_inference_round_trip() {
        QTemporaryDir dir;
        MainWindow a;
        choose(a, "modelPreset", "llama-2-7b");
        child<QSpinBox>(a, "gpus")->setValue(2);
        child<QSpinBox>(a, "loraRank")->setValue(64);
        child<QDoubleSpinBox>(a, "loraAlpha")->setValue(128);
        child<QLineEdit>(a, "loraTargets")->setText("all");
        choose(a, "baseQuant", "int8");
        child<QCheckBox>(a, "pagedOptimizer")->setChecked(true);
        choose(a, "inferWeights", "nf4");
        child<QCheckBox>(a, "inferDoubleQuant")->setChecked(false);
        choose(a, "inferKvCache", "fp8");
        child<QSpinBox>(a, "inferBatch")->setValue(4);
        child<QSpinBox>(a, "inferPrompt")->setValue(2000);
        child<QSpinBox>(a, "inferGenerate")->setValue(100);
        child<QSpinBox>(a, "inferPrefillChunk")->setValue(512);
        child<QSpinBox>(a, "inferTp")->setValue(2);
        choose(a, "inferAttention", "eager");
        choose(a, "inferFramework", "hf");
        child<QSpinBox>(a, "inferBlockSize")->setValue(32);
        QVERIFY2(!a.showing_error(), qPrintable(a.error_message()));
        const QString train_path = dir.filePath("train.json");
        QString err;
        QVERIFY2(a.save_scenario(train_path, &err), qPrintable(err));
        choose(a, "mode", "inference");
        QVERIFY2(!a.showing_error(), qPrintable(a.error_message()));
        const QString infer_path = dir.filePath("infer.json");
        QVERIFY2(a.save_scenario(infer_path, &err), qPrintable(err));

        // The file: the CLI report's inputs.lora object, and the infer report's input keys.
        std::ifstream in(infer_path.toStdString());
        const nlohmann::json j = nlohmann::json::parse(in);
        QCOMPARE(j["mode"].get<std::string>(), std::string("inference"));
        QCOMPARE(j["lora"]["rank"].get<int>(), 64);
        QCOMPARE(j["lora"]["alpha"].get<double>(), 128.0);
        QCOMPARE(j["lora"]["targets"].get<std::string>(), std::string("q,k,v,o,gate,up,down,in_proj,out_proj"));
        QCOMPARE(j["lora"]["base_quant"].get<std::string>(), std::string("int8"));
        QCOMPARE(j["lora"]["paged_optimizer"].get<bool>(), true);
        for (const char* key : {"weights", "group_size", "double_quant", "kv_cache", "batch", "prompt", "generate", "prefill_chunk",
                                "tp", "attention", "framework", "gpu_memory_utilization", "block_size"})
            QVERIFY2(j["inference"].contains(key), key);

        MainWindow b;
        QVERIFY2(b.load_scenario(infer_path, &err), qPrintable(err));
        QVERIFY2(!b.showing_error(), qPrintable(b.error_message()));
        QCOMPARE(b.mode(), Mode::inference);
        QVERIFY(b.scenario().infer == a.scenario().infer);
        QCOMPARE(b.scenario().model, a.scenario().model);
        QCOMPARE(b.scenario().lora_rank, 64);
        QCOMPARE(b.scenario().lora_targets, std::string("q,k,v,o,gate,up,down,in_proj,out_proj"));
        QCOMPARE(b.inference()->plan.device_total, a.inference()->plan.device_total);
        QCOMPARE(b.inference()->plan.decode_step_seconds, a.inference()->plan.decode_step_seconds);
        QCOMPARE(b.inference()->plan.config.prefill_chunk, std::int64_t{512});
        QCOMPARE(b.inference()->plan.config.weights.double_quant, false);
        // The inference report export is the CLI's llmplan.infer/1 (planner infer_to_json).
        const QString infer_report = dir.filePath("infer.json");
        QString infer_err;
        QVERIFY2(b.export_report(infer_report, &infer_err), qPrintable(infer_err));
        std::ifstream ir(infer_report.toStdString());
        const nlohmann::json ij = nlohmann::json::parse(ir);
        QCOMPARE(ij["schema"].get<std::string>(), std::string("llmplan.infer/1"));
        QCOMPARE(ij["memory"]["device_total_bytes"].get<double>(), b.inference()->plan.device_total);

        MainWindow t;
        QVERIFY2(t.load_scenario(train_path, &err), qPrintable(err));
        QCOMPARE(t.mode(), Mode::training);
        const LoraConfig& l = t.evaluation()->memory.config.lora;
        QCOMPARE(l.rank, 64);
        QCOMPARE(l.alpha, 128.0);
        QCOMPARE(l.targets, parse_lora_targets("all", "--lora-targets"));
        QCOMPARE(l.base_quant, BaseQuant::int8);
        QCOMPARE(l.paged_optimizer, true);
        choose(a, "mode", "training");
        QCOMPARE(t.evaluation()->memory.worst().device_total, a.evaluation()->memory.worst().device_total);
        QCOMPARE(trainable_parameters(*t.evaluation()), trainable_parameters(*a.evaluation()));
        // A plan report with LoRA loads its inputs.lora too.
        const QString report = dir.filePath("plan.json");
        QVERIFY2(a.export_report(report, &err), qPrintable(err));
        MainWindow r;
        QVERIFY2(r.load_scenario(report, &err), qPrintable(err));
        QCOMPARE(r.evaluation()->memory.config.lora.rank, 64);
        QCOMPARE(r.evaluation()->memory.worst().device_total, a.evaluation()->memory.worst().device_total);
    }

    void todays_models_describe_and_plan() {
        // deepseek-v3 (MLA, 256 fine-grained experts + a shared one, 3 dense layers, an MTP module): the
        // model panel reads as `llmplan plan` prints it, and every view plans it as the planner does.
        MainWindow w;
        choose(w, "modelPreset", "deepseek-v3");
        choose(w, "gpu", "h100-sxm");
        child<QSpinBox>(w, "gpus")->setValue(64);
        child<QSpinBox>(w, "gpusPerNode")->setValue(8);
        child<QSpinBox>(w, "ep")->setValue(8);
        choose(w, "zero", "3");
        QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
        const ModelSpec m = preset_or_throw("deepseek-v3", "--model");
        auto* summary = child<QLabel>(w, "modelSummary");
        QCOMPARE(summary->text(),
                 QString::fromStdString(
                     "61 layers, d_model 7168, 128 heads MLA (q rank 1536, kv rank 512, qk 128 + 64 rope, v 128), "
                     "swiglu MLPs, rmsnorm, vocab 129280, rotary positions\n"
                     "58 MoE layers of 256 experts (2048) top-8 + shared (2048); 3 dense layers (18432)\n"
                     "671,026,404,352 parameters (671B), 37.6B active per token; + 11.6B in 1 MTP module, trained, "
                     "not served"));
        for (const char* part : {"routed experts: 653,908,770,816", "shared experts: 2,554,331,136",
                                 "router: 106,430,464", "dense: 1,189,085,184", "active per token: 37,552,282,624",
                                 "MTP modules, not served: 11,610,067,968"})
            QVERIFY2(summary->toolTip().contains(part), part);

        // Memory and step time: `llmplan plan --model deepseek-v3 --gpus 64 --ep 8 --zero 3`.
        TrainConfig c;
        c.parallel.gpus = 64;
        c.parallel.gpus_per_node = 8;
        c.parallel.ep = 8;
        c.parallel.zero = 3;
        const MemoryPlan expected = plan_memory(m, gpu_or_throw("h100-sxm", "--gpu"), c);
        QCOMPARE(w.evaluation()->memory.params.total(), std::int64_t{671026404352});
        QCOMPARE(w.evaluation()->memory.worst().device_total, expected.worst().device_total);
        QVERIFY(std::abs(stack_total(w.memory_chart(), 0) - expected.worst().device_total / kGiB) < 1e-9);
        const PerfPlan perf = plan_perf(expected, default_cluster(expected.gpu, 8), PerfOptions{});
        QCOMPARE(w.evaluation()->perf.step_seconds, perf.step_seconds);
        double split = 0;
        for (const auto& st : w.time_chart().stacks) split += st.values[0];
        // The chart is in ms, or in s once a step takes more than ten seconds (time_tab.cpp).
        const double unit = w.time_chart().value_axis == "s per step" ? 1 : 1e3;
        QVERIFY(std::abs(split - perf.step_seconds * unit) < 1e-6 * perf.step_seconds * unit);

        // Inference: plan_inference with the same model; the panel stays.
        choose(w, "mode", "inference");
        QVERIFY2(!w.showing_error(), qPrintable(w.error_message()));
        const InferPlan served = plan_inference(m, gpu_or_throw("h100-sxm", "--gpu"), resolve_infer_config(w.scenario()));
        QCOMPARE(w.inference()->plan.device_total, served.device_total);
        QCOMPARE(w.inference()->plan.kv_bytes_per_token, served.kv_bytes_per_token);
        QVERIFY(summary->text().contains("37.6B active per token"));
        choose(w, "mode", "training");

        // The shape alone (a scenario without model_source) reads back as the preset, through
        // core/json's model_shape_from_json; with one field changed, as that shape.
        QTemporaryDir dir;
        QString err;
        const QString path = dir.filePath("v3.json");
        QVERIFY2(w.save_scenario(path, &err), qPrintable(err));
        nlohmann::json j;
        {
            std::ifstream in(path.toStdString());
            j = nlohmann::json::parse(in);
        }
        j.erase("model_source");
        auto write = [&](const nlohmann::json& doc) {
            std::ofstream out(path.toStdString());
            out << doc.dump(2);
        };
        write(j);
        MainWindow r;
        QVERIFY2(r.load_scenario(path, &err), qPrintable(err));
        QCOMPARE(r.scenario().source, ModelSource::preset);
        QCOMPARE(r.scenario().model, std::string("deepseek-v3"));
        QCOMPARE(r.evaluation()->memory.worst().device_total, expected.worst().device_total);
        j["model"]["mtp_layers"] = 0;
        write(j);
        QVERIFY2(r.load_scenario(path, &err), qPrintable(err));
        QCOMPARE(r.scenario().source, ModelSource::shape);
        QVERIFY(r.scenario().shape.is_mla() && r.scenario().shape.layer_kinds.size() == 61);
        QVERIFY(!child<QLabel>(r, "modelSummary")->text().contains("MTP"));
        j["model"]["mla"]["kv_lora_rank"] = "512";
        write(j);
        QVERIFY(!r.load_scenario(path, &err));
        QVERIFY2(err.contains("\"mla.kv_lora_rank\" must be an integer"), qPrintable(err));

        // Today's other families plan in every view without error, and the panel names their parts.
        const std::pair<const char*, const char*> others[] = {
            {"qwen3-30b-a3b", "48 MoE layers of 128 experts (768) top-8; QK-norm per head"},
            {"gemma-3-27b", "attention: 52 sliding (1024) + 10 global; QK-norm per head; 4 norms per layer"},
            {"gpt-oss-20b", "router and expert biases; attention: 12 sliding (128) + 12 global; attention sinks"},
            {"llama-4-scout", "48 MoE layers of 16 experts (8192) top-1 + shared (8192); attention: 36 chunked (8192) + "
                              "12 global NoPE; QK L2-norm (no weights)"}};
        child<QSpinBox>(w, "ep")->setValue(1);
        for (const auto& [name, detail] : others) {
            choose(w, "modelPreset", name);
            QVERIFY2(!w.showing_error(), qPrintable(QString(name) + ": " + w.error_message()));
            QCOMPARE(w.evaluation()->model.name, std::string(name));
            QVERIFY2(summary->text().contains(detail), qPrintable(summary->text()));
            QVERIFY(w.evaluation()->memory.worst().device_total > 0 && w.evaluation()->perf.step_seconds > 0);
            choose(w, "mode", "inference");
            QVERIFY2(!w.showing_error(), qPrintable(QString(name) + " (inference): " + w.error_message()));
            QCOMPARE(w.inference()->model.name, std::string(name));
            QVERIFY(w.inference()->plan.device_total > 0);
            choose(w, "mode", "training");
        }
    }

    void chart_exports_as_svg() {
        QTemporaryDir dir;
        MainWindow w;
        w.resize(1280, 820);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w) || true);
        QString err;
        const QString svg = dir.filePath("memory.svg");
        QVERIFY2(w.export_chart(svg, &err), qPrintable(err));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QXmlStreamReader xml(&f);
        bool root = false, text = false;
        int elements = 0;
        while (!xml.atEnd()) {
            if (xml.readNext() == QXmlStreamReader::StartElement) {
                ++elements;
                if (elements == 1) root = xml.name() == QLatin1String("svg");
                if (xml.name() == QLatin1String("text")) text = true;
            }
        }
        QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
        QVERIFY(root);
        QVERIFY(text);  // vector text (the title, axes, legend), not a bitmap
        QVERIFY(elements > 20);
        // Inference mode exports its chart; an unwritable path is an error, not a crash.
        choose(w, "mode", "inference");
        QVERIFY(w.export_chart(dir.filePath("infer.svg"), &err));
        QVERIFY(QFileInfo(dir.filePath("infer.svg")).size() > 0);
        QVERIFY(w.export_chart(dir.filePath("infer.png"), &err));
        QVERIFY(!w.export_chart("/nonexistent/dir/chart.svg", &err));
        QCOMPARE(err, QString("chart: cannot write \"/nonexistent/dir/chart.svg\": No such file or directory"));
        // Through write_output_file (core/file.h): a folder is refused, a link keeps pointing at
        // the chart it now holds.
        QVERIFY(!w.export_chart(dir.path(), &err));
        QCOMPARE(err, "chart: cannot write \"" + dir.path() + "\": it is a directory");
        QVERIFY(QFile::link("infer.png", dir.filePath("latest.png")));
        QVERIFY2(w.export_chart(dir.filePath("latest.png"), &err), qPrintable(err));
        QVERIFY(QFileInfo(dir.filePath("latest.png")).isSymLink());
        QFile png(dir.filePath("infer.png"));
        QVERIFY(png.open(QIODevice::ReadOnly));
        QVERIFY(png.read(8) == QByteArray("\x89PNG\r\n\x1a\n", 8));
    }
};

QTEST_MAIN(GuiTest)
#include "test_gui.moc"
