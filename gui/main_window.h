// main_window.h — llmplan-gui's window: the inputs panel on the left; on the right the headline
// (verdict and key figures) over the training views, one tab each (gui/tabs/: memory, step time,
// communication, scaling, search, A/B compare, measured). In inference mode the right side is the
// serving view of plan_inference instead (gui/tabs/inference_page.h).
//
// Every input change re-plans synchronously (the planner takes a few milliseconds) and hands the
// plan to every view; invalid input shows the planner's InputError message above the views, which
// keep the last valid plan (greyed) until the input is valid again. The window owns what the views
// draw over the plan: the pinned plan A and a measured run. docs/GUI.md describes the views.
#pragma once

#include "gui/chart_view.h"
#include "gui/scenario.h"
#include "planner/report.h"
#include "planner/search.h"
#include "planner/what_fits.h"

#include <QMainWindow>

#include <map>
#include <optional>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QScrollArea;
class QShowEvent;
class QSplitter;
class QSpinBox;
class QStackedWidget;
class QTabWidget;
class QWidget;

namespace llmplan::gui {

class Tab;
class MemoryTab;
class TimeTab;
class ScalingTab;
class SearchTab;
class FitsTab;
class InferencePage;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);

    // The inputs panel as a Scenario, and back (set_scenario re-plans once).
    Scenario scenario() const;
    void set_scenario(const Scenario& s);

    // The last successful plan (nullptr before the first), and the current input error ("" if none).
    const Evaluation* evaluation() const { return current_ ? &*current_ : nullptr; }
    // Inference mode: the last successful plan_inference (nullptr before the first).
    const InferEvaluation* inference() const { return current_infer_ ? &*current_infer_ : nullptr; }
    Mode mode() const;
    QString error_message() const;
    bool showing_error() const;

    // The data last handed to the charts (what the tests compare with the planner).
    const StackedBarChart& memory_chart() const;
    const StackedBarChart& time_chart() const;
    const StackedBarChart& infer_chart() const;
    const LineChart& scaling_chart() const;
    const SearchResult& search_result() const;

    // File actions; false (and *error set) on failure. The app stays alive either way.
    bool load_scenario(const QString& path, QString* error = nullptr);
    bool save_scenario(const QString& path, QString* error = nullptr);
    bool export_report(const QString& path, QString* error = nullptr);
    bool export_chart_png(const QString& path, QString* error = nullptr);  // the current tab's chart
    bool export_chart_svg(const QString& path, QString* error = nullptr);
    bool export_chart(const QString& path, QString* error = nullptr);      // by suffix: .svg, else PNG
    bool open_profile(const QString& path, QString* error = nullptr);

    // What-if: pin the current plan as A; the views then compare the current one (B) with it (in
    // inference mode the serving plans: their chart and figures).
    bool pin();
    void unpin();
    bool pinned() const { return mode() == Mode::inference ? pinned_infer_.has_value() : pinned_.has_value(); }

    // Search with the current model, GPUs and job; apply one row of the result to the inputs.
    bool run_search();
    void apply_search_row(int row);
    // What fits: every preset on the current GPU, GPU count and job (planner/what_fits.h).
    bool run_what_fits();
    const std::vector<ModelFit>& what_fits_result() const;

    // Shows the tab of that name: memory, time, communication, scaling, search, compare, measured, fits.
    void select_tab(const QString& name);
    // Wall time of the last successful recompute: planner calls and every view's refresh.
    double last_recompute_seconds() const { return last_seconds_; }

public slots:
    void recompute();

protected:
    void showEvent(QShowEvent* event) override;

private:
    QWidget* build_inputs();
    QGroupBox* build_lora_inputs();
    QGroupBox* build_infer_inputs();
    QWidget* build_summary();
    QTabWidget* build_tabs();
    void build_menus();
    void connect_inputs();
    void update_mode();
    void fit_inputs_panel();
    void update_model_source_page();
    void update_applicable_inputs();
    void show_error(const QString& message);
    // Greys the verdict, charts and the views that show the plan while the input is invalid (the
    // Search tab stays usable: it chooses the layout itself).
    void set_stale(bool stale);
    // Marks the inputs at fault and returns the line of valid values to suggest ("" if none).
    QString mark_invalid_inputs(const QString& message);
    void refresh_views();
    void refresh_summary();
    void refresh_lora_label();
    void refresh_model_label(const ModelSpec& m, const ParamBreakdown& b);
    void open_profile_dialog();
    ChartView* current_chart() const;

    // Inputs.
    QComboBox *mode_, *source_, *preset_, *gpu_, *zero_, *etp_, *precision_, *optimizer_, *recompute_, *attention_, *framework_,
        *offload_;
    QLineEdit *hf_path_, *params_, *tokens_, *price_;
    QLabel *shape_label_, *dp_label_, *model_label_;
    QStackedWidget* source_pages_;
    QScrollArea* inputs_scroll_ = nullptr;
    QSplitter* splitter_ = nullptr;
    bool shown_ = false;
    QSpinBox *gpus_, *gpus_per_node_, *tp_, *pp_, *cp_, *ep_, *virtual_stages_, *micro_batch_, *global_batch_, *seq_;
    QCheckBox* sp_;
    QDoubleSpinBox* dropout_;
    QFormLayout* gpus_form_;
    QGroupBox *layout_box_, *job_box_, *lora_box_, *run_box_, *infer_box_;
    // LoRA / QLoRA.
    QSpinBox* lora_rank_;
    QSpinBox* offload_activations_;
    QDoubleSpinBox* lora_alpha_;
    QLineEdit* lora_targets_;
    QComboBox* base_quant_;
    QCheckBox* paged_optimizer_;
    QLabel* trainable_label_;
    // Inference.
    QComboBox *inf_weights_, *inf_kv_, *inf_attention_, *inf_framework_;
    QSpinBox *inf_group_, *inf_batch_, *inf_prompt_, *inf_generate_, *inf_chunk_, *inf_tp_, *inf_block_;
    QCheckBox* inf_double_quant_;
    QDoubleSpinBox* inf_util_;
    ModelSpec loaded_shape_;  // the shape of a scenario loaded with ModelSource::shape

    // Headline and views.
    QLabel *error_, *status_, *verdict_;
    std::map<std::string, QLabel*> figure_labels_, figure_names_;
    QWidget* summary_ = nullptr;
    QString verdict_text_;  // the verdict of the last valid plan
    QStackedWidget* pages_;  // 0: headline and training tabs, 1: inference page
    QTabWidget* tabs_;
    std::vector<Tab*> tab_list_;  // the pages of tabs_, in order
    MemoryTab* memory_tab_;
    TimeTab* time_tab_;
    ScalingTab* scaling_tab_;
    SearchTab* search_tab_;
    FitsTab* fits_tab_;
    InferencePage* infer_page_;

    std::optional<Evaluation> current_, pinned_;
    std::optional<InferEvaluation> current_infer_, pinned_infer_;
    QString pinned_name_;
    std::map<std::string, double> measured_;  // report key → measured value (open_profile)
    MeasuredRun measured_run_;                // what that run was
    bool updating_ = false;
    double last_seconds_ = 0;
};

}  // namespace llmplan::gui
