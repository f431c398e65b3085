// main_window.h — llmplan-gui's window: the inputs panel on the left, the planner's figures and
// views on the right (memory, step time, communication, scaling, search, A/B compare, measured).
// In inference mode the right side is the serving view of plan_inference instead (memory terms
// against capacity, fit, largest batch and context, vLLM blocks, latency, throughput).
//
// Every input change re-plans synchronously (the planner takes a few milliseconds) and refreshes
// every view; invalid input shows the planner's InputError message above the views, which keep
// the last valid plan (greyed) until the input is valid again. docs/GUI.md describes the views.
#pragma once

#include "gui/chart_view.h"
#include "gui/scenario.h"
#include "planner/search.h"

#include <QMainWindow>

#include <map>
#include <optional>
#include <string>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTabWidget;
class QTableWidget;
class QWidget;

namespace llmplan::gui {

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
    const StackedBarChart& memory_chart() const { return memory_data_; }
    const StackedBarChart& time_chart() const { return time_data_; }
    const StackedBarChart& infer_chart() const { return infer_data_; }
    const LineChart& scaling_chart() const { return scaling_data_; }
    const SearchResult& search_result() const { return search_; }

    // File actions; false (and *error set) on failure. The app stays alive either way.
    bool load_scenario(const QString& path, QString* error = nullptr);
    bool save_scenario(const QString& path, QString* error = nullptr);
    bool export_report(const QString& path, QString* error = nullptr);
    bool export_chart_png(const QString& path, QString* error = nullptr);  // the current tab's chart
    bool export_chart_svg(const QString& path, QString* error = nullptr);
    bool export_chart(const QString& path, QString* error = nullptr);      // by suffix: .svg, else PNG
    bool open_profile(const QString& path, QString* error = nullptr);

    // What-if: pin the current plan as A; the views then compare the current one (B) with it.
    bool pin();
    void unpin();
    bool pinned() const { return pinned_.has_value(); }

    // Search with the current model, GPUs and job; apply one row of the result to the inputs.
    bool run_search();
    void apply_search_row(int row);

    // Shows the tab of that name: memory, time, communication, scaling, search, compare, measured.
    void select_tab(const QString& name);
    // Wall time of the last successful recompute: planner calls and every view's refresh.
    double last_recompute_seconds() const { return last_seconds_; }

public slots:
    void recompute();

private:
    QWidget* build_inputs();
    QGroupBox* build_lora_inputs();
    QGroupBox* build_infer_inputs();
    QWidget* build_infer_page();
    void update_mode();
    void refresh_inference();
    void refresh_lora_label();
    QWidget* build_summary();
    QWidget* build_memory_tab();
    QWidget* build_time_tab();
    QWidget* build_comm_tab();
    QWidget* build_scaling_tab();
    QWidget* build_search_tab();
    QWidget* build_compare_tab();
    QWidget* build_measured_tab();
    void build_menus();
    void connect_inputs();
    void update_model_source_page();
    void show_error(const QString& message);
    void refresh_views();
    void refresh_summary();
    void refresh_memory();
    void refresh_time();
    void refresh_comm();
    void refresh_scaling();
    void refresh_compare();
    void refresh_measured();
    ChartView* current_chart() const;

    // Inputs.
    QComboBox *mode_, *source_, *preset_, *gpu_, *zero_, *precision_, *optimizer_, *recompute_, *attention_, *framework_,
        *offload_;
    QLineEdit *hf_path_, *params_, *tokens_, *price_;
    QLabel *shape_label_, *dp_label_;
    QStackedWidget* source_pages_;
    QSpinBox *gpus_, *gpus_per_node_, *tp_, *pp_, *cp_, *ep_, *virtual_stages_, *micro_batch_, *global_batch_, *seq_;
    QCheckBox* sp_;
    QDoubleSpinBox* dropout_;
    QFormLayout* gpus_form_;
    QGroupBox *layout_box_, *job_box_, *lora_box_, *run_box_, *infer_box_;
    // LoRA / QLoRA.
    QSpinBox* lora_rank_;
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

    // Views.
    QLabel *error_, *status_, *verdict_;
    std::map<std::string, QLabel*> figure_labels_;
    QWidget* views_;
    QStackedWidget* pages_;  // 0: training views, 1: inference view
    QLabel* infer_verdict_;
    std::map<std::string, QLabel*> infer_labels_;
    ChartView* infer_view_;
    QTableWidget* infer_table_;
    QTabWidget* tabs_;
    ChartView *memory_view_, *time_view_, *scaling_view_;
    QTableWidget *memory_table_, *time_table_, *comm_table_, *search_table_, *compare_table_, *measured_table_;
    QComboBox* law_;
    QLabel *scaling_text_, *search_status_, *compare_status_, *measured_status_;
    QSpinBox* search_top_;

    std::optional<Evaluation> current_, pinned_;
    std::optional<InferEvaluation> current_infer_;
    StackedBarChart infer_data_;
    QString pinned_name_;
    StackedBarChart memory_data_, time_data_;
    LineChart scaling_data_;
    SearchResult search_;
    std::map<std::string, double> measured_;  // report key → measured value (open_profile)
    QString measured_name_;
    bool updating_ = false;
    double last_seconds_ = 0;
};

}  // namespace llmplan::gui
