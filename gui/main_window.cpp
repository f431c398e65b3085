// main_window.cpp — the window: inputs → evaluate() / evaluate_inference() (the planner) → views.
// Nothing is computed here; every number on screen is a field of the planner's MemoryPlan,
// PerfPlan, InferPlan, SearchResult, LoraCount or scaling-law results, formatted.
#include "gui/main_window.h"

#include "planner/report.h"

#include "core/error.h"
#include "core/file.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "gui/figures.h"
#include "planner/lora.h"
#include "planner/quant.h"
#include "planner/scaling.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolBar>
#include <QVBoxLayout>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>

namespace llmplan::gui {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

QString q(const std::string& s) { return QString::fromStdString(s); }

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

void set_cell(QTableWidget* t, int row, int col, const QString& text, const QString& tip = {}) {
    auto* item = new QTableWidgetItem(text);
    if (!tip.isEmpty()) item->setToolTip(tip);
    t->setItem(row, col, item);
}

void set_number(QTableWidget* t, int row, int col, const QString& text, double value, const QString& tip = {}) {
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

QSpinBox* spin(const char* name, int lo, int hi, int value, const QString& special = {}) {
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

std::string percent_delta(double a, double b) {
    if (a == 0) return b == 0 ? "0%" : "–";
    return format_signed_delta(100 * (b - a) / std::abs(a), "") + "%";
}

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
    double scale;       // display = value / scale
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

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle("llmplan — training and serving memory, time and cost");
    auto* splitter = new QSplitter(this);
    auto* scroll = new QScrollArea();
    scroll->setWidget(build_inputs());
    scroll->setWidgetResizable(true);
    scroll->setMinimumWidth(330);
    splitter->addWidget(scroll);

    auto* right = new QWidget();
    auto* rl = new QVBoxLayout(right);
    error_ = new QLabel();
    error_->setObjectName("errorMessage");
    error_->setWordWrap(true);
    error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    error_->setStyleSheet("QLabel { background: #fde2e1; color: #8a1c14; border: 1px solid #e0a39e; padding: 6px; }");
    error_->hide();
    rl->addWidget(error_);
    views_ = new QWidget();
    auto* vl = new QVBoxLayout(views_);
    vl->setContentsMargins(0, 0, 0, 0);
    vl->addWidget(build_summary());
    tabs_ = new QTabWidget();
    tabs_->setObjectName("views");
    tabs_->addTab(build_memory_tab(), "Memory");
    tabs_->addTab(build_time_tab(), "Step time");
    tabs_->addTab(build_comm_tab(), "Communication");
    tabs_->addTab(build_scaling_tab(), "Scaling");
    tabs_->addTab(build_search_tab(), "Search");
    tabs_->addTab(build_compare_tab(), "Compare A/B");
    tabs_->addTab(build_measured_tab(), "Measured");
    vl->addWidget(tabs_, 1);
    pages_ = new QStackedWidget();
    pages_->setObjectName("pages");
    pages_->addWidget(views_);
    pages_->addWidget(build_infer_page());
    rl->addWidget(pages_, 1);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 1);
    setCentralWidget(splitter);
    status_ = new QLabel();
    status_->setObjectName("recomputeStatus");
    statusBar()->addWidget(status_, 1);
    build_menus();
    connect_inputs();
    resize(1480, 940);
    recompute();
}

// ---- inputs ---------------------------------------------------------------------------------------

QWidget* MainWindow::build_inputs() {
    auto* panel = new QWidget();
    auto* layout = new QVBoxLayout(panel);

    auto* mode_row = new QFormLayout();
    mode_ = new QComboBox();
    mode_->setObjectName("mode");
    mode_->addItem("training (llmplan plan)", "training");
    mode_->addItem("inference / serving (llmplan infer)", "inference");
    mode_->setToolTip("training: plan_memory + plan_perf; inference: plan_inference (docs/INFERENCE.md)");
    mode_row->addRow("mode", mode_);
    layout->addLayout(mode_row);

    auto* model_box = new QGroupBox("Model");
    auto* mf = new QFormLayout(model_box);
    source_ = new QComboBox();
    source_->setObjectName("modelSource");
    source_->addItem("preset", "preset");
    source_->addItem("Hugging Face config.json", "hf_config");
    source_->addItem("parameter count", "params");
    source_->addItem("shape from a scenario file", "shape");
    mf->addRow("from", source_);
    source_pages_ = new QStackedWidget();
    std::vector<std::string> names;
    for (const Preset& p : model_presets()) names.push_back(p.name);
    preset_ = combo("modelPreset", names);
    for (int i = 0; i < preset_->count(); ++i)
        preset_->setItemData(i, q(model_presets()[static_cast<std::size_t>(i)].description), Qt::ToolTipRole);
    source_pages_->addWidget(preset_);
    auto* hf = new QWidget();
    auto* hl = new QHBoxLayout(hf);
    hl->setContentsMargins(0, 0, 0, 0);
    hf_path_ = new QLineEdit();
    hf_path_->setObjectName("hfConfigPath");
    hf_path_->setPlaceholderText("path/to/config.json");
    auto* browse = new QPushButton("Browse…");
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, "Hugging Face config.json", {}, "JSON (*.json)");
        if (!f.isEmpty()) hf_path_->setText(f);
    });
    hl->addWidget(hf_path_, 1);
    hl->addWidget(browse);
    source_pages_->addWidget(hf);
    params_ = new QLineEdit("7B");
    params_->setObjectName("params");
    params_->setToolTip("Parameter count (7B, 124M, 1.1e9): a Llama-2 style shape is derived (docs/MEMORY_MODEL.md §0)");
    source_pages_->addWidget(params_);
    shape_label_ = new QLabel();
    shape_label_->setWordWrap(true);
    source_pages_->addWidget(shape_label_);
    mf->addRow("model", source_pages_);
    layout->addWidget(model_box);

    auto* cluster_box = new QGroupBox("GPUs");
    auto* cf = new QFormLayout(cluster_box);
    gpus_form_ = cf;
    gpu_ = new QComboBox();
    gpu_->setObjectName("gpu");
    for (const GpuSpec& g : gpu_catalog()) {
        gpu_->addItem(q(g.name + "  (" + g.display_name + ")"), q(g.name));
        gpu_->setItemData(gpu_->count() - 1, q(g.source), Qt::ToolTipRole);
    }
    cf->addRow("GPU", gpu_);
    gpus_ = spin("gpus", 1, 1 << 24, 8);
    cf->addRow("GPUs", gpus_);
    gpus_per_node_ = spin("gpusPerNode", 1, 1024, 8);
    cf->addRow("per node", gpus_per_node_);
    layout->addWidget(cluster_box);

    auto* layout_box = layout_box_ = new QGroupBox("Parallel layout");
    auto* lf = new QFormLayout(layout_box);
    tp_ = spin("tp", 1, 1 << 20, 1);
    tp_->setToolTip("tensor parallel (Megatron; Shoeybi et al. 2019)");
    pp_ = spin("pp", 1, 1 << 20, 1);
    pp_->setToolTip("pipeline parallel (1F1B)");
    cp_ = spin("cp", 1, 1 << 20, 1);
    cp_->setToolTip("context parallel (ring attention)");
    ep_ = spin("ep", 1, 1 << 20, 1);
    ep_->setToolTip("expert parallel (MoE)");
    virtual_stages_ = spin("virtualStages", 1, 1024, 1);
    virtual_stages_->setToolTip("interleaved pipeline: model chunks per pipeline rank");
    dp_label_ = new QLabel();
    dp_label_->setObjectName("dp");
    dp_label_->setToolTip("data parallel = GPUs ÷ (tp × pp × cp), derived by the planner");
    zero_ = combo("zero", {"0", "1", "2", "3"});
    zero_->setToolTip("ZeRO stage over the data-parallel group (Rajbhandari et al. 2020)");
    sp_ = new QCheckBox("sequence parallel");
    sp_->setObjectName("sp");
    lf->addRow("TP", tp_);
    lf->addRow("PP", pp_);
    lf->addRow("DP", dp_label_);
    lf->addRow("CP", cp_);
    lf->addRow("EP", ep_);
    lf->addRow("virtual stages", virtual_stages_);
    lf->addRow("ZeRO", zero_);
    lf->addRow("", sp_);
    layout->addWidget(layout_box);

    auto* job_box = job_box_ = new QGroupBox("Training job");
    auto* jf = new QFormLayout(job_box);
    framework_ = combo("framework", {"generic", "pytorch"});
    framework_->setToolTip("generic: the textbook (Megatron-like) model; pytorch: PyTorch eager + HF transformers, op by op");
    std::vector<std::string> precisions = {""};
    for (const std::string& p : precision_names()) precisions.push_back(p);
    precision_ = combo("precision", precisions);
    precision_->setItemText(0, "default (mixed-bf16; amp-bf16 for pytorch)");
    optimizer_ = combo("optimizer", optimizer_names());
    recompute_ = combo("recompute", {"none", "selective", "full"});
    attention_ = combo("attention", {"flash", "eager"});
    offload_ = combo("offload", {"none", "optimizer", "optimizer+params"});
    dropout_ = new QDoubleSpinBox();
    dropout_->setObjectName("dropout");
    dropout_->setRange(0, 0.999);
    dropout_->setSingleStep(0.05);
    dropout_->setDecimals(3);
    micro_batch_ = spin("microBatch", 1, 1 << 20, 1);
    global_batch_ = spin("globalBatch", 0, std::numeric_limits<int>::max(), 0, "default (micro × dp × pp)");
    seq_ = spin("seq", 0, 1 << 24, 0, "default (context, ≤ 4096)");
    seq_->setSingleStep(512);
    jf->addRow("framework", framework_);
    jf->addRow("precision", precision_);
    jf->addRow("optimizer", optimizer_);
    jf->addRow("recompute", recompute_);
    jf->addRow("attention", attention_);
    jf->addRow("offload", offload_);
    jf->addRow("dropout", dropout_);
    jf->addRow("micro-batch", micro_batch_);
    jf->addRow("global batch", global_batch_);
    jf->addRow("sequence", seq_);
    layout->addWidget(job_box);

    layout->addWidget(build_lora_inputs());

    auto* run_box = run_box_ = new QGroupBox("Training run");
    auto* rf = new QFormLayout(run_box);
    tokens_ = new QLineEdit();
    tokens_->setObjectName("tokens");
    tokens_->setPlaceholderText("20 per parameter");
    price_ = new QLineEdit();
    price_->setObjectName("price");
    price_->setPlaceholderText("default cloud price");
    rf->addRow("tokens", tokens_);
    rf->addRow("$ / GPU-hour", price_);
    layout->addWidget(run_box);
    layout->addWidget(build_infer_inputs());
    layout->addStretch(1);
    select_data(zero_, "1");
    select_data(preset_, "llama-2-7b");
    return panel;
}

QGroupBox* MainWindow::build_lora_inputs() {
    lora_box_ = new QGroupBox("LoRA / QLoRA fine-tuning");
    auto* f = new QFormLayout(lora_box_);
    lora_rank_ = spin("loraRank", 0, 1 << 20, 0, "off (full training)");
    lora_rank_->setToolTip("--lora-rank: adapters of rank r on a frozen base (Hu et al. 2021, PEFT); 0: full training");
    lora_alpha_ = new QDoubleSpinBox();
    lora_alpha_->setObjectName("loraAlpha");
    lora_alpha_->setRange(0.001, 1e6);
    lora_alpha_->setDecimals(3);
    lora_alpha_->setValue(16);
    lora_alpha_->setToolTip("--lora-alpha: the adapters' scaling α/r; no effect on memory or time");
    lora_targets_ = new QLineEdit("q,v");
    lora_targets_->setObjectName("loraTargets");
    lora_targets_->setToolTip("--lora-targets: adapted projections, any of q,k,v,o,gate,up,down, or all (PEFT's default: q,v)");
    base_quant_ = combo("baseQuant", {"none", "nf4", "int8"});
    base_quant_->setToolTip("--base-quant: frozen base weights in nf4 (QLoRA, Dettmers et al. 2023) or int8 (LLM.int8)");
    paged_optimizer_ = new QCheckBox("paged optimizer");
    paged_optimizer_->setObjectName("pagedOptimizer");
    paged_optimizer_->setToolTip("--paged-optimizer: bitsandbytes paged optimizer, state in unified memory (not on the GPU peak)");
    trainable_label_ = new QLabel("–");
    trainable_label_->setObjectName("trainable");
    trainable_label_->setWordWrap(true);
    f->addRow("rank", lora_rank_);
    f->addRow("alpha", lora_alpha_);
    f->addRow("targets", lora_targets_);
    f->addRow("base weights", base_quant_);
    f->addRow("", paged_optimizer_);
    f->addRow("trainable", trainable_label_);
    return lora_box_;
}

QGroupBox* MainWindow::build_infer_inputs() {
    infer_box_ = new QGroupBox("Serving (llmplan infer)");
    auto* f = new QFormLayout(infer_box_);
    inf_weights_ = combo("inferWeights", weight_format_names());
    inf_weights_->setToolTip("--weights: format of the layers' matmul weights (LLM.int8, GPTQ/AWQ int4/int3, NF4)");
    inf_group_ = spin("inferGroupSize", 1, 1 << 20, 128);
    inf_group_->setToolTip("--group-size: quantization group for int4/int3 (GPTQ, AWQ)");
    inf_double_quant_ = new QCheckBox("nf4 double quantization");
    inf_double_quant_->setObjectName("inferDoubleQuant");
    inf_double_quant_->setChecked(true);
    std::vector<std::string> kv = {""};
    for (const char* k : {"bf16", "fp16", "fp32", "fp8", "int8"}) kv.push_back(k);
    inf_kv_ = combo("inferKvCache", kv);
    inf_kv_->setItemText(0, "default (bf16; fp32 for fp32 weights)");
    inf_batch_ = spin("inferBatch", 1, 1 << 24, 1);
    inf_batch_->setToolTip("--batch: sequences decoded together");
    inf_prompt_ = spin("inferPrompt", 1, 1 << 24, 512);
    inf_prompt_->setSingleStep(256);
    inf_generate_ = spin("inferGenerate", 0, 1 << 24, 256);
    inf_generate_->setSingleStep(128);
    inf_chunk_ = spin("inferPrefillChunk", 0, 1 << 30, 0, "whole prompts");
    inf_chunk_->setToolTip("--prefill-chunk: tokens per prefill pass (chunked prefill)");
    inf_tp_ = spin("inferTp", 1, 1024, 1);
    inf_tp_->setToolTip("--tp: tensor-parallel GPUs serving the model");
    inf_attention_ = combo("inferAttention", {"flash", "eager"});
    inf_framework_ = combo("inferFramework", {"generic", "hf", "vllm"});
    inf_framework_->setToolTip("generic: allocate what is needed; hf: transformers generate; vllm: reserves "
                               "gpu_memory_utilization of the card, KV in paged blocks");
    inf_util_ = new QDoubleSpinBox();
    inf_util_->setObjectName("inferGpuMemoryUtilization");
    inf_util_->setRange(0.01, 1);
    inf_util_->setSingleStep(0.05);
    inf_util_->setDecimals(3);
    inf_util_->setValue(0.9);
    inf_util_->setToolTip("--gpu-memory-utilization: vLLM's reservation of the card");
    inf_block_ = spin("inferBlockSize", 1, 1 << 16, 16);
    inf_block_->setToolTip("--block-size: vLLM paged-attention block (tokens)");
    f->addRow("weights", inf_weights_);
    f->addRow("group size", inf_group_);
    f->addRow("", inf_double_quant_);
    f->addRow("KV cache", inf_kv_);
    f->addRow("batch", inf_batch_);
    f->addRow("prompt tokens", inf_prompt_);
    f->addRow("generated tokens", inf_generate_);
    f->addRow("prefill chunk", inf_chunk_);
    f->addRow("TP", inf_tp_);
    f->addRow("attention", inf_attention_);
    f->addRow("framework", inf_framework_);
    f->addRow("vLLM memory use", inf_util_);
    f->addRow("vLLM block", inf_block_);
    infer_box_->hide();
    return infer_box_;
}

Mode MainWindow::mode() const { return data_of(mode_) == "inference" ? Mode::inference : Mode::training; }

void MainWindow::update_mode() {
    const bool infer = mode() == Mode::inference;
    for (QGroupBox* b : {layout_box_, job_box_, lora_box_, run_box_}) b->setVisible(!infer);
    infer_box_->setVisible(infer);
    gpus_form_->setRowVisible(gpus_, !infer);  // serving uses the inference TP's GPUs
    gpus_form_->setRowVisible(gpus_per_node_, !infer);
    pages_->setCurrentIndex(infer ? 1 : 0);
}

void MainWindow::connect_inputs() {
    auto changed = [this] {
        if (!updating_) recompute();
    };
    connect(mode_, &QComboBox::currentIndexChanged, this, [this, changed] {
        update_mode();
        changed();
    });
    connect(source_, &QComboBox::currentIndexChanged, this, [this, changed] {
        update_model_source_page();
        changed();
    });
    for (QComboBox* c : {preset_, gpu_, zero_, precision_, optimizer_, recompute_, attention_, framework_, offload_, base_quant_,
                         inf_weights_, inf_kv_, inf_attention_, inf_framework_})
        connect(c, &QComboBox::currentIndexChanged, this, changed);
    for (QSpinBox* s : {gpus_, gpus_per_node_, tp_, pp_, cp_, ep_, virtual_stages_, micro_batch_, global_batch_, seq_, lora_rank_,
                        inf_group_, inf_batch_, inf_prompt_, inf_generate_, inf_chunk_, inf_tp_, inf_block_})
        connect(s, &QSpinBox::valueChanged, this, changed);
    for (QLineEdit* e : {hf_path_, params_, tokens_, price_, lora_targets_}) connect(e, &QLineEdit::textChanged, this, changed);
    for (QCheckBox* c : {sp_, paged_optimizer_, inf_double_quant_}) connect(c, &QCheckBox::toggled, this, changed);
    for (QDoubleSpinBox* d : {dropout_, lora_alpha_, inf_util_}) connect(d, &QDoubleSpinBox::valueChanged, this, changed);
    connect(gpu_, &QComboBox::currentIndexChanged, this, [this] {  // the GPU's usual server size
        if (updating_) return;
        if (const GpuSpec* g = find_gpu(data_of(gpu_))) gpus_per_node_->setValue(g->default_gpus_per_node);
    });
}

void MainWindow::update_model_source_page() { source_pages_->setCurrentIndex(source_->currentIndex()); }

Scenario MainWindow::scenario() const {
    Scenario s;
    s.mode = mode();
    const std::string src = data_of(source_);
    s.source = src == "hf_config" ? ModelSource::hf_config
             : src == "params"    ? ModelSource::params
             : src == "shape"     ? ModelSource::shape
                                  : ModelSource::preset;
    switch (s.source) {
        case ModelSource::preset: s.model = data_of(preset_); break;
        case ModelSource::hf_config: s.model = hf_path_->text().trimmed().toStdString(); break;
        case ModelSource::params: s.model = params_->text().toStdString(); break;
        case ModelSource::shape: s.model = loaded_shape_.name; break;
    }
    s.shape = loaded_shape_;
    s.gpu = data_of(gpu_);
    s.gpus = gpus_->value();
    s.gpus_per_node = gpus_per_node_->value();
    s.tp = tp_->value();
    s.pp = pp_->value();
    s.cp = cp_->value();
    s.ep = ep_->value();
    s.virtual_stages = virtual_stages_->value();
    s.zero = zero_->currentData().toInt();
    s.sp = sp_->isChecked();
    s.precision = data_of(precision_);
    s.optimizer = data_of(optimizer_);
    s.recompute = data_of(recompute_);
    s.attention = data_of(attention_);
    s.offload = data_of(offload_);
    s.framework = data_of(framework_);
    s.dropout = dropout_->value();
    s.micro_batch = micro_batch_->value();
    s.global_batch = global_batch_->value();
    s.seq = seq_->value();
    s.tokens = tokens_->text().trimmed().toStdString();
    s.price = price_->text().trimmed().toStdString();
    s.lora_rank = lora_rank_->value();
    s.lora_alpha = lora_alpha_->value();
    s.lora_targets = lora_targets_->text().trimmed().toStdString();
    s.base_quant = data_of(base_quant_);
    s.paged_optimizer = paged_optimizer_->isChecked();
    InferInputs& in = s.infer;
    in.weights = data_of(inf_weights_);
    in.group_size = inf_group_->value();
    in.double_quant = inf_double_quant_->isChecked();
    in.kv_cache = data_of(inf_kv_);
    in.batch = inf_batch_->value();
    in.prompt = inf_prompt_->value();
    in.generate = inf_generate_->value();
    in.prefill_chunk = inf_chunk_->value();
    in.tp = inf_tp_->value();
    in.attention = data_of(inf_attention_);
    in.framework = data_of(inf_framework_);
    in.gpu_memory_utilization = inf_util_->value();
    in.block_size = inf_block_->value();
    return s;
}

void MainWindow::set_scenario(const Scenario& s) {
    updating_ = true;
    select_data(mode_, to_string(s.mode));
    update_mode();
    select_data(source_, to_string(s.source));
    loaded_shape_ = s.shape;
    shape_label_->setText(q(s.shape.name + ": " + std::to_string(s.shape.n_layers) + " layers, d_model " +
                            std::to_string(s.shape.d_model) + " (shape from the scenario file)"));
    if (s.source == ModelSource::preset) select_data(preset_, s.model);
    if (s.source == ModelSource::hf_config) hf_path_->setText(q(s.model));
    if (s.source == ModelSource::params) params_->setText(q(s.model));
    update_model_source_page();
    select_data(gpu_, s.gpu);
    auto clamp = [](QSpinBox* b, std::int64_t v) {
        b->setValue(static_cast<int>(std::clamp<std::int64_t>(v, b->minimum(), b->maximum())));
    };
    clamp(gpus_, s.gpus);
    clamp(gpus_per_node_, s.gpus_per_node);
    clamp(tp_, s.tp);
    clamp(pp_, s.pp);
    clamp(cp_, s.cp);
    clamp(ep_, s.ep);
    clamp(virtual_stages_, s.virtual_stages);
    select_data(zero_, std::to_string(s.zero));
    sp_->setChecked(s.sp);
    select_data(precision_, s.precision);
    select_data(optimizer_, s.optimizer);
    select_data(recompute_, s.recompute);
    select_data(attention_, s.attention);
    select_data(offload_, s.offload);
    select_data(framework_, s.framework);
    dropout_->setValue(s.dropout);
    clamp(micro_batch_, s.micro_batch);
    clamp(global_batch_, s.global_batch);
    clamp(seq_, s.seq);
    tokens_->setText(q(s.tokens));
    price_->setText(q(s.price));
    clamp(lora_rank_, s.lora_rank);
    lora_alpha_->setValue(s.lora_alpha);
    lora_targets_->setText(q(s.lora_targets));
    select_data(base_quant_, s.base_quant);
    paged_optimizer_->setChecked(s.paged_optimizer);
    const InferInputs& in = s.infer;
    select_data(inf_weights_, in.weights);
    clamp(inf_group_, in.group_size);
    inf_double_quant_->setChecked(in.double_quant);
    select_data(inf_kv_, in.kv_cache);
    clamp(inf_batch_, in.batch);
    clamp(inf_prompt_, in.prompt);
    clamp(inf_generate_, in.generate);
    clamp(inf_chunk_, in.prefill_chunk);
    clamp(inf_tp_, in.tp);
    select_data(inf_attention_, in.attention);
    select_data(inf_framework_, in.framework);
    inf_util_->setValue(in.gpu_memory_utilization);
    clamp(inf_block_, in.block_size);
    updating_ = false;
    recompute();
}

// ---- planning -------------------------------------------------------------------------------------

void MainWindow::recompute() {
    const Scenario s = scenario();
    if (s.mode == Mode::inference) {
        try {
            QElapsedTimer timer;
            timer.start();
            current_infer_ = evaluate_inference(s);
            show_error({});
            refresh_inference();
            last_seconds_ = static_cast<double>(timer.nsecsElapsed()) * 1e-9;
            status_->setText(QString("planned in %1 ms, views updated in %2 ms · %3 · %4")
                                 .arg(current_infer_->seconds * 1e3, 0, 'f', 2)
                                 .arg((last_seconds_ - current_infer_->seconds) * 1e3, 0, 'f', 1)
                                 .arg(q(current_infer_->origin))
                                 .arg(q(format_count(static_cast<double>(count_params(current_infer_->model).total())) +
                                        " parameters")));
        } catch (const InputError& e) {
            show_error(q(e.what()));
        } catch (const std::exception& e) {
            show_error(QString("internal error: ") + e.what());
        }
        return;
    }
    try {
        QElapsedTimer timer;
        timer.start();
        Evaluation e = evaluate(s);
        current_ = std::move(e);
        show_error({});
        refresh_views();
        last_seconds_ = static_cast<double>(timer.nsecsElapsed()) * 1e-9;
        status_->setText(QString("planned in %1 ms, views updated in %2 ms · %3 · %4")
                             .arg(current_->seconds * 1e3, 0, 'f', 1)
                             .arg((last_seconds_ - current_->seconds) * 1e3, 0, 'f', 1)
                             .arg(q(current_->origin))
                             .arg(q(format_count(static_cast<double>(current_->memory.params.total())) + " parameters")));
    } catch (const InputError& e) {
        show_error(q(e.what()));
    } catch (const std::exception& e) {  // a planner bug must not take the window down
        show_error(QString("internal error: ") + e.what());
    }
}

void MainWindow::show_error(const QString& message) {
    error_->setText(message);
    error_->setVisible(!message.isEmpty());
    pages_->setEnabled(message.isEmpty());
    const bool have = mode() == Mode::inference ? current_infer_.has_value() : current_.has_value();
    if (!message.isEmpty()) status_->setText(have ? "input error: showing the last valid plan (greyed)" : "input error");
}

QString MainWindow::error_message() const { return error_->text(); }
bool MainWindow::showing_error() const { return !error_->isHidden(); }

void MainWindow::refresh_views() {
    dp_label_->setText(QString::number(current_->memory.config.parallel.dp()));
    refresh_lora_label();
    refresh_summary();
    refresh_memory();
    refresh_time();
    refresh_comm();
    refresh_scaling();
    refresh_compare();
    refresh_measured();
}

void MainWindow::refresh_lora_label() {
    const Evaluation& e = *current_;
    const LoraConfig& l = e.memory.config.lora;
    const double total = static_cast<double>(e.memory.params.total());
    if (!l.enabled()) {
        trainable_label_->setText(q("all " + format_count(total) + " (full training)"));
        trainable_label_->setToolTip({});
        return;
    }
    const LoraCount lc = count_lora(e.model, l);
    trainable_label_->setText(q(format_count(lc.adapter_params) + " of " + format_count(total) + " (" +
                                format_fixed(100 * lc.adapter_params / total, 3) + "%)"));
    trainable_label_->setToolTip(q(lc.description + "; " + std::to_string(lc.modules_per_layer) + " adapters per layer, " +
                                   format_count(lc.per_layer) + " parameters per layer (count_lora, planner/lora.h)"));
}

// ---- inference ------------------------------------------------------------------------------------

QWidget* MainWindow::build_infer_page() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    l->setContentsMargins(0, 0, 0, 0);
    auto* box = new QWidget();
    auto* grid = new QGridLayout(box);
    grid->setContentsMargins(4, 4, 4, 4);
    infer_verdict_ = new QLabel();
    infer_verdict_->setObjectName("inferVerdict");
    QFont big = infer_verdict_->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    infer_verdict_->setFont(big);
    infer_verdict_->setWordWrap(true);
    grid->addWidget(infer_verdict_, 0, 0, 1, 8);
    const std::vector<std::pair<const char*, const char*>> keys = {
        {"device_total", "device total"},  {"headroom", "headroom"},          {"max_batch", "largest batch"},
        {"max_context", "longest context"}, {"ttft", "time to first token"},  {"token_latency", "per-token latency"},
        {"tokens_per_second", "tok/s per sequence"}, {"tokens_per_second_per_gpu", "tok/s per GPU"},
        {"peak_allocated", "peak allocated"}, {"kv_cache", "KV cache"},       {"vllm_kv_blocks", "vLLM KV blocks"},
        {"vllm_max_sequences", "vLLM sequences"}};
    int i = 0;
    for (const auto& [key, label] : keys) {
        auto* name = new QLabel(QString(label) + ":");
        name->setStyleSheet("color: #555;");
        auto* value = new QLabel("–");
        value->setObjectName(QString("infer_") + key);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        infer_labels_[key] = value;
        const int row = 1 + i / 4, col = 2 * (i % 4);
        grid->addWidget(name, row, col);
        grid->addWidget(value, row, col + 1);
        ++i;
    }
    l->addWidget(box);
    infer_view_ = make_chart_view(w);
    infer_view_->setObjectName("inferChart");
    l->addWidget(infer_view_, 3);
    infer_table_ = make_table({"term", "GiB", "how (hover for the source)"}, "inferTerms");
    l->addWidget(infer_table_, 2);
    return w;
}

void MainWindow::refresh_inference() {
    const InferEvaluation& e = *current_infer_;
    const InferPlan& p = e.plan;
    const InferConfig& c = p.config;
    const bool vllm = c.framework == InferFramework::vllm;
    infer_verdict_->setText(q((p.fits ? "FITS — headroom " : "DOES NOT FIT — short by ") + format_bytes(std::abs(p.headroom)) +
                              (vllm ? " of vLLM's reservation (" + format_fixed(100 * c.gpu_memory_utilization, 0) + "% of " +
                                          format_bytes(p.capacity) + ")"
                                    : " of " + format_bytes(p.capacity)) +
                              " on " + (c.tp > 1 ? std::to_string(c.tp) + " × " : "") + e.gpu.display_name + "\n" +
                              std::to_string(c.batch) + " × (" + std::to_string(c.prompt) + " + " + std::to_string(c.generate) +
                              ") tokens, weights " + to_string(c.weights.format) + ", KV cache " + to_string(c.kv) + ", " +
                              to_string(c.framework)));
    infer_verdict_->setStyleSheet(p.fits ? "color: #1b7a2e;" : "color: #b3261e;");
    for (auto& [key, label] : infer_labels_) {
        label->setText("–");
        label->setToolTip(vllm ? QString() : QString("vLLM only (framework vllm)"));
    }
    for (const Figure& f : infer_figures(e)) {
        auto it = infer_labels_.find(f.key);
        if (it == infer_labels_.end()) continue;
        it->second->setText(q(f.text));
        it->second->setToolTip(q(f.how));
    }

    const std::vector<MemorySegment> segs = infer_segments(e);
    StackedBarChart chart;
    chart.title = q("Serving memory per GPU (" + e.model.name + " on " + e.gpu.name + ", framework " + to_string(c.framework) + ")");
    chart.value_axis = "GiB";
    chart.categories = {"current"};
    for (const MemorySegment& sg : segs) chart.stacks.push_back({q(sg.label), {sg.gib}, {q(sg.tooltip)}});
    chart.limit = p.capacity / kGiB;
    chart.limit_label = q("capacity " + format_bytes(p.capacity));
    // The terms are the planner's parts; the device total is max(prefill, decode) + context (or
    // vLLM's reservation + context), so it is marked rather than implied by the stack's height.
    chart.marker_label = q(vllm ? "device total (vLLM reservation + context)" : "device total (peak + context)");
    chart.markers = {p.device_total / kGiB};
    infer_data_ = chart;
    infer_view_->show_stacked_bars(chart);

    infer_table_->setRowCount(static_cast<int>(p.terms.size()) + 2);
    int row = 0;
    for (std::size_t i = 0; i < p.terms.size(); ++i) {
        const MemoryTerm& t = p.terms[i];
        const QString tip = q(segs[i].tooltip);
        set_cell(infer_table_, row, 0, q(t.label), tip);
        set_number(infer_table_, row, 1, q(format_fixed(t.bytes / kGiB, 2)), t.bytes, tip);
        set_cell(infer_table_, row, 2, q(t.formula), tip);
        ++row;
    }
    set_cell(infer_table_, row, 0, "peak allocated");
    set_number(infer_table_, row, 1, q(format_fixed(p.peak / kGiB, 2)), p.peak);
    set_cell(infer_table_, row, 2,
             vllm ? "weights + activations + graphs + this batch's KV blocks"
                  : "max(prefill: weights + prompt KV + activations, last decode step: weights + full KV)");
    ++row;
    set_cell(infer_table_, row, 0, "device total");
    set_number(infer_table_, row, 1, q(format_fixed(p.device_total / kGiB, 2)), p.device_total);
    set_cell(infer_table_, row, 2,
             q("of " + format_bytes(p.capacity) + ": " + (p.fits ? "fits" : "does not fit") +
               (vllm ? "; vLLM: " + std::to_string(p.vllm_kv_blocks) + " KV blocks of " + std::to_string(c.block_size) +
                           " tokens → up to " + std::to_string(p.vllm_max_sequences) + " sequences at once"
                     : "")));
    infer_table_->resizeColumnsToContents();
}

// ---- summary --------------------------------------------------------------------------------------

QWidget* MainWindow::build_summary() {
    auto* box = new QWidget();
    auto* grid = new QGridLayout(box);
    grid->setContentsMargins(4, 4, 4, 4);
    verdict_ = new QLabel();
    verdict_->setObjectName("verdict");
    QFont big = verdict_->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    verdict_->setFont(big);
    grid->addWidget(verdict_, 0, 0, 1, 8);
    const std::vector<std::pair<const char*, const char*>> keys = {
        {"device_total", "device total"}, {"headroom", "headroom"},         {"step_time", "step time"},
        {"tokens_per_second", "throughput"}, {"mfu", "MFU"},                {"training_days", "training time"},
        {"cost", "cost"},                 {"energy", "energy"},             {"max_micro_batch", "max micro-batch"},
        {"gpu_hours", "GPU-hours"},       {"co2", "CO₂"},                   {"peak_allocated", "peak allocated"},
        {"trainable", "trainable"}};
    int i = 0;
    for (const auto& [key, label] : keys) {
        auto* name = new QLabel(QString(label) + ":");
        name->setStyleSheet("color: #555;");
        auto* value = new QLabel("–");
        value->setObjectName(QString("figure_") + key);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        figure_labels_[key] = value;
        const int row = 1 + i / 4, col = 2 * (i % 4);
        grid->addWidget(name, row, col);
        grid->addWidget(value, row, col + 1);
        ++i;
    }
    return box;
}

void MainWindow::refresh_summary() {
    const Evaluation& e = *current_;
    const MemoryPlan& m = e.memory;
    verdict_->setText(q((m.fits ? "FITS — headroom " : "DOES NOT FIT — short by ") +
                        format_bytes(std::abs(m.headroom_bytes)) + " of " + format_bytes(m.capacity_bytes) + " on " +
                        std::to_string(m.config.parallel.gpus) + " × " + m.gpu.display_name));
    verdict_->setStyleSheet(m.fits ? "color: #1b7a2e;" : "color: #b3261e;");
    std::map<std::string, Figure> a;
    if (pinned_)
        for (const Figure& f : key_figures(*pinned_)) a[f.key] = f;
    for (const Figure& f : key_figures(e)) {
        auto it = figure_labels_.find(f.key);
        if (it == figure_labels_.end()) continue;
        QString text = q(f.text);
        if (auto pa = a.find(f.key); pa != a.end() && pinned_)
            text += q("  (Δ " + format_signed_delta(f.value - pa->second.value, f.unit) + ")");
        it->second->setText(text);
        it->second->setToolTip(q(f.how));
    }
}

// ---- memory ---------------------------------------------------------------------------------------

QWidget* MainWindow::build_memory_tab() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    memory_view_ = make_chart_view(w);
    memory_view_->setObjectName("memoryChart");
    l->addWidget(memory_view_, 3);
    memory_table_ = make_table({"term", "GiB", "A GiB", "Δ", "how (hover for the source)"}, "memoryTerms");
    l->addWidget(memory_table_, 2);
    return w;
}

void MainWindow::refresh_memory() {
    const Evaluation& e = *current_;
    const std::vector<MemorySegment> b = memory_segments(e);
    std::vector<MemorySegment> a;
    if (pinned_) a = memory_segments(*pinned_);
    StackedBarChart c;
    c.title = q("Memory per GPU, most loaded stage (" + e.memory.gpu.name + ")");
    c.value_axis = "GiB";
    if (pinned_) c.categories = {"A: " + pinned_name_, "B: current"};
    else c.categories = {"current"};
    std::vector<std::string> keys;
    for (const auto& s : b) keys.push_back(s.key);
    for (const auto& s : a)
        if (std::find(keys.begin(), keys.end(), s.key) == keys.end()) keys.push_back(s.key);
    auto find = [](const std::vector<MemorySegment>& v, const std::string& key) -> const MemorySegment* {
        for (const auto& s : v)
            if (s.key == key) return &s;
        return nullptr;
    };
    for (const std::string& key : keys) {
        StackedBarChart::Stack st;
        const MemorySegment* sb = find(b, key);
        const MemorySegment* sa = find(a, key);
        st.name = q((sb ? sb : sa)->label);
        if (pinned_) {
            st.values.push_back(sa ? sa->gib : 0);
            st.tooltips.push_back(q(sa ? "A — " + sa->tooltip : "not in A"));
        }
        st.values.push_back(sb ? sb->gib : 0);
        st.tooltips.push_back(q(sb ? sb->tooltip : "not in this plan"));
        c.stacks.push_back(std::move(st));
    }
    c.limit = e.memory.capacity_bytes / kGiB;
    c.limit_label = q("capacity " + format_bytes(e.memory.capacity_bytes));
    if (!measured_.empty()) {
        const auto it = measured_.find("device_total");
        const auto pk = measured_.find("peak_allocated");
        const auto pick = it != measured_.end() ? it : pk;
        if (pick != measured_.end()) {
            c.marker_label = pick == it ? "measured device total" : "measured peak allocated";
            if (pinned_) c.markers.push_back(std::numeric_limits<double>::quiet_NaN());
            c.markers.push_back(pick->second / kGiB);
        }
    }
    memory_data_ = c;
    memory_view_->show_stacked_bars(c);

    memory_table_->setColumnHidden(2, !pinned_);
    memory_table_->setColumnHidden(3, !pinned_);
    const StageMemory& w = e.memory.worst();
    memory_table_->setRowCount(static_cast<int>(keys.size()) + 1);
    int row = 0;
    for (const std::string& key : keys) {
        const MemorySegment* sb = find(b, key);
        const MemorySegment* sa = find(a, key);
        const double vb = sb ? sb->gib : 0, va = sa ? sa->gib : 0;
        const QString tip = q(sb ? sb->tooltip : sa->tooltip);
        set_cell(memory_table_, row, 0, q((sb ? sb : sa)->label), tip);
        set_number(memory_table_, row, 1, q(format_fixed(vb, 2)), vb, tip);
        set_number(memory_table_, row, 2, q(format_fixed(va, 2)), va);
        set_number(memory_table_, row, 3, q(format_signed_delta(vb - va, "")), vb - va);
        std::string how;
        if (sb) {
            for (const MemoryTerm& t : w.terms)
                if (t.key == key) how = t.formula;
            if (how.empty()) {  // the reserve: the tooltip's formula line
                const std::size_t from = sb->tooltip.find('\n') + 1;
                how = sb->tooltip.substr(from, sb->tooltip.find('\n', from) - from);
            }
        }
        set_cell(memory_table_, row, 4, q(how), tip);
        ++row;
    }
    const double total = w.device_total / kGiB;
    const double total_a = pinned_ ? pinned_->memory.worst().device_total / kGiB : 0;
    const QString tip = q("reserved estimate + CUDA context; peak allocated " + format_bytes(w.peak_allocated) + " at " +
                          w.peak_phase + "; capacity " + format_bytes(e.memory.capacity_bytes));
    set_cell(memory_table_, row, 0, "device total", tip);
    set_number(memory_table_, row, 1, q(format_fixed(total, 2)), total, tip);
    set_number(memory_table_, row, 2, q(format_fixed(total_a, 2)), total_a);
    set_number(memory_table_, row, 3, q(format_signed_delta(total - total_a, "")), total - total_a);
    set_cell(memory_table_, row, 4,
             q((e.memory.fits ? "fits, headroom " : "does not fit, short by ") + format_bytes(std::abs(e.memory.headroom_bytes)) +
               (e.memory.config.parallel.pp > 1 ? "; stage " + std::to_string(w.stage) + ": " + w.placement : "")),
             tip);
    memory_table_->resizeColumnsToContents();
}

// ---- step time ------------------------------------------------------------------------------------

QWidget* MainWindow::build_time_tab() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    time_view_ = make_chart_view(w);
    time_view_->setObjectName("timeChart");
    l->addWidget(time_view_, 3);
    time_table_ = make_table({"figure", "value", "A", "Δ", "how"}, "timeFigures");
    l->addWidget(time_table_, 2);
    return w;
}

void MainWindow::refresh_time() {
    const Evaluation& e = *current_;
    const std::vector<TimeSegment> b = time_segments(e);
    std::vector<TimeSegment> a;
    if (pinned_) a = time_segments(*pinned_);
    StackedBarChart c;
    c.title = "Step time split (slowest stage)";
    c.value_axis = "ms per step";
    if (pinned_) c.categories = {"A: " + pinned_name_, "B: current"};
    else c.categories = {"current"};
    for (std::size_t i = 0; i < b.size(); ++i) {
        StackedBarChart::Stack st;
        st.name = q(b[i].label);
        if (pinned_) {
            st.values.push_back(a[i].ms);
            st.tooltips.push_back(q("A — " + a[i].tooltip));
        }
        st.values.push_back(b[i].ms);
        st.tooltips.push_back(q(b[i].tooltip));
        c.stacks.push_back(std::move(st));
    }
    if (const auto it = measured_.find("step_seconds"); it != measured_.end()) {
        c.marker_label = "measured step time";
        if (pinned_) c.markers.push_back(std::numeric_limits<double>::quiet_NaN());
        c.markers.push_back(it->second * 1e3);
    }
    time_data_ = c;
    time_view_->show_stacked_bars(c);

    std::map<std::string, Figure> fa;
    if (pinned_)
        for (const Figure& f : key_figures(*pinned_)) fa[f.key] = f;
    const std::vector<Figure> figs = key_figures(e);
    time_table_->setColumnHidden(2, !pinned_);
    time_table_->setColumnHidden(3, !pinned_);
    time_table_->setRowCount(static_cast<int>(figs.size()) + 4);
    int row = 0;
    for (const Figure& f : figs) {
        set_cell(time_table_, row, 0, q(f.label));
        set_number(time_table_, row, 1, q(f.text), f.value, q(f.how));
        if (auto it = fa.find(f.key); it != fa.end()) {
            set_number(time_table_, row, 2, q(it->second.text), it->second.value);
            set_number(time_table_, row, 3, q(format_signed_delta(f.value - it->second.value, f.unit)), f.value - it->second.value);
        }
        set_cell(time_table_, row, 4, q(f.how));
        ++row;
    }
    const PerfPlan& p = e.perf;
    auto extra = [&](const std::string& label, double v, const std::string& text, const std::string& how) {
        set_cell(time_table_, row, 0, q(label));
        set_number(time_table_, row, 1, q(text), v);
        set_cell(time_table_, row, 4, q(how));
        ++row;
    };
    extra("FLOPs per token", p.per_token.model, format_sci(p.per_token.model, 3),
          "exact model FLOPs (fwd + bwd); 6N " + format_sci(p.flops_6n, 3) + ", 6N+12·L·d·T " + format_sci(p.flops_palm, 3) +
              "; with recompute " + format_sci(p.per_token.hardware, 3) + " (docs/PERFORMANCE_MODEL.md §1)");
    extra("tokens per step", p.tokens_per_step, format_count(p.tokens_per_step),
          "global batch " + std::to_string(e.memory.config.global_batch) + " × " + std::to_string(e.memory.config.seq) + " tokens");
    extra("peak FLOP/s per GPU", p.peak_flops, format_sci(p.peak_flops, 3), "dense peak for the precision (docs/GPUS.md)");
    extra("GEMM efficiency", p.gemm_efficiency, format_fixed(100 * p.gemm_efficiency, 1) + "%",
          "achieved ÷ peak for the per-GPU matmul shapes (calibration: docs/PERFORMANCE_MODEL.md §2)");
    time_table_->resizeColumnsToContents();
}

// ---- communication --------------------------------------------------------------------------------

QWidget* MainWindow::build_comm_tab() {
    comm_table_ = make_table({"collective", "kind", "group", "link", "size", "calls", "time", "exposed", "algorithm", "overlap",
                              "A time", "Δ time", "A exposed", "Δ exposed"},
                             "collectives");
    comm_table_->setSortingEnabled(true);
    return comm_table_;
}

void MainWindow::refresh_comm() {
    const PerfPlan& p = current_->perf;
    comm_table_->setSortingEnabled(false);
    // A/B: the pinned plan's collective of the same purpose and kind (a row each for those only A has).
    std::vector<const CollectiveUse*> only_a;
    auto in_a = [this](const CollectiveUse& u) -> const CollectiveUse* {
        if (!pinned_) return nullptr;
        for (const CollectiveUse& a : pinned_->perf.collectives)
            if (a.purpose == u.purpose && a.kind == u.kind) return &a;
        return nullptr;
    };
    if (pinned_)
        for (const CollectiveUse& a : pinned_->perf.collectives) {
            bool matched = false;
            for (const CollectiveUse& u : p.collectives) matched = matched || (a.purpose == u.purpose && a.kind == u.kind);
            if (!matched) only_a.push_back(&a);
        }
    for (int col = 10; col < 14; ++col) comm_table_->setColumnHidden(col, !pinned_);
    comm_table_->setRowCount(static_cast<int>(p.collectives.size() + only_a.size()));
    auto deltas = [this](int row, const CollectiveUse* a, double time, double exposed) {
        const double at = a ? a->seconds : 0, ae = a ? a->exposed_seconds : 0;
        set_number(comm_table_, row, 10, a ? q(format_duration(at)) : QString("–"), at);
        set_number(comm_table_, row, 11, q(format_signed_delta((time - at) * 1e3, "ms")), time - at);
        set_number(comm_table_, row, 12, a ? q(format_duration(ae)) : QString("–"), ae);
        set_number(comm_table_, row, 13, q(format_signed_delta((exposed - ae) * 1e3, "ms")), exposed - ae);
    };
    int row = 0;
    for (const CollectiveUse* a : only_a) {
        set_cell(comm_table_, row, 0, q(a->purpose + " (A only)"));
        set_cell(comm_table_, row, 1, to_string(a->kind));
        for (int col = 2; col < 10; ++col) set_cell(comm_table_, row, col, "");
        deltas(row, a, 0, 0);
        ++row;
    }
    for (const CollectiveUse& u : p.collectives) {
        if (pinned_) deltas(row, in_a(u), u.seconds, u.exposed_seconds);
        const QString tip = q(u.overlap + "\nNCCL alpha-beta model (nccl-tests PERFORMANCE.md; docs/PERFORMANCE_MODEL.md §3)");
        set_cell(comm_table_, row, 0, q(u.purpose), tip);
        set_cell(comm_table_, row, 1, to_string(u.kind));
        set_number(comm_table_, row, 2, QString::number(u.group), u.group);
        set_cell(comm_table_, row, 3, q(std::string(to_string(u.link)) + " " + format_fixed(u.bus_bandwidth / 1e9, 0) + " GB/s"));
        set_number(comm_table_, row, 4, q(format_fixed(u.bytes / 1e6, 1) + " MB"), u.bytes);
        set_number(comm_table_, row, 5, q(format_fixed(u.count, 0)), u.count);
        set_number(comm_table_, row, 6, q(format_duration(u.seconds)), u.seconds);
        set_number(comm_table_, row, 7, q(format_duration(u.exposed_seconds)), u.exposed_seconds);
        set_cell(comm_table_, row, 8, q(std::string(to_string(u.each.algorithm)) + "/" + to_string(u.each.protocol)));
        set_cell(comm_table_, row, 9, q(u.overlap), tip);
        ++row;
    }
    comm_table_->setSortingEnabled(true);
    comm_table_->resizeColumnsToContents();
}

// ---- scaling --------------------------------------------------------------------------------------

QWidget* MainWindow::build_scaling_tab() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    auto* top = new QHBoxLayout();
    law_ = combo("law", {"chinchilla", "epoch", "chinchilla-unrounded", "kaplan"});
    law_->setToolTip("Hoffmann et al. 2022 approach 3; Besiroglu et al. 2024 (epoch); Kaplan et al. 2020 (docs/SCALING.md)");
    connect(law_, &QComboBox::currentIndexChanged, this, [this] {
        if (current_) refresh_scaling();
    });
    top->addWidget(new QLabel("law"));
    top->addWidget(law_);
    top->addStretch(1);
    l->addLayout(top);
    scaling_view_ = make_chart_view(w);
    scaling_view_->setObjectName("scalingChart");
    l->addWidget(scaling_view_, 1);
    scaling_text_ = new QLabel();
    scaling_text_->setObjectName("scalingText");
    scaling_text_->setWordWrap(true);
    l->addWidget(scaling_text_);
    return w;
}

void MainWindow::refresh_scaling() {
    const Evaluation& e = *current_;
    try {
        const LawChoice law = law_choice(data_of(law_), 20, "--law");
        const double n = static_cast<double>(e.memory.params.total()), d = e.perf.training_tokens;
        const RunAssessment run = assess_run(law, n, d);
        LineChart c;
        c.title = q("Loss vs model size: iso-FLOP curves and the compute-optimal frontier (" + law.name + ")");
        c.x_axis = "parameters";
        c.y_axis = "loss (nats/token)";
        c.log_x = true;
        for (double k : {0.1, 1.0, 10.0}) {
            LineChart::Series s;
            s.name = q("C = " + format_sci(run.compute * k, 2) + " FLOPs");
            for (const IsoflopPoint& p : isoflop_curve(law, run.compute * k, 41)) s.points.push_back({p.params, p.loss});
            c.series.push_back(std::move(s));
        }
        LineChart::Series frontier;
        frontier.name = "compute-optimal frontier";
        frontier.dashed = true;
        for (int i = -20; i <= 20; ++i) {  // budgets C·10^(i/10): sample points of the planner's frontier
            const ComputeOptimum o = optimum_for_compute(law, run.compute * std::pow(10.0, i / 10.0));
            frontier.points.push_back({o.parameters, o.loss});
        }
        c.series.push_back(std::move(frontier));
        c.series.push_back({"this model (" + q(format_count(n)) + ", " + q(format_count(d)) + " tokens)", {{n, run.loss}}, true, false});
        c.series.push_back({"optimum at the same compute", {{run.optimal.parameters, run.optimal.loss}}, true, false});
        scaling_data_ = c;
        scaling_view_->show_lines(c);
        scaling_text_->setText(q("This run: " + format_count(n) + " parameters × " + format_count(d) + " tokens = " +
                                 format_sci(run.compute, 3) + " FLOPs (6ND), predicted loss " + format_fixed(run.loss, 3) +
                                 ". The compute-optimal run of the same compute: " + format_count(run.optimal.parameters) +
                                 " parameters × " + format_count(run.optimal.tokens) + " tokens, loss " +
                                 format_fixed(run.optimal.loss, 3) + " (" + format_fixed(run.tokens_per_parameter, 1) +
                                 " vs " + format_fixed(run.optimal_tokens_per_parameter, 1) + " tokens per parameter; " +
                                 (run.overtraining >= 1 ? "over-trained ×" : "under-trained ×") +
                                 format_fixed(run.overtraining >= 1 ? run.overtraining : 1 / run.overtraining, 2) + ")."));
    } catch (const std::exception& ex) {
        scaling_text_->setText(QString("scaling view unavailable: ") + ex.what());
    }
}

// ---- search ---------------------------------------------------------------------------------------

QWidget* MainWindow::build_search_tab() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    auto* top = new QHBoxLayout();
    auto* run = new QPushButton("Search layouts");
    run->setObjectName("runSearch");
    run->setToolTip("search_layouts with this model, GPU count, precision, optimizer, sequence and global batch "
                    "(tp, pp, cp, v, sp, ZeRO, recompute, micro-batch; docs/PERFORMANCE_MODEL.md §6)");
    connect(run, &QPushButton::clicked, this, [this] { run_search(); });
    search_top_ = spin("searchTop", 1, 500, 25);
    auto* apply = new QPushButton("Apply selected layout");
    apply->setObjectName("applySearch");
    connect(apply, &QPushButton::clicked, this, [this] {
        const auto rows = search_table_->selectionModel()->selectedRows();
        if (!rows.isEmpty()) {
            const int rank = search_table_->item(rows.first().row(), 0)->data(Qt::UserRole).toInt();
            apply_search_row(rank - 1);
        }
    });
    top->addWidget(run);
    top->addWidget(new QLabel("top"));
    top->addWidget(search_top_);
    top->addWidget(apply);
    top->addStretch(1);
    l->addLayout(top);
    search_status_ = new QLabel("Press “Search layouts”: the fastest layouts that fit, for the current model and GPUs.");
    search_status_->setObjectName("searchStatus");
    search_status_->setWordWrap(true);
    l->addWidget(search_status_);
    search_table_ = make_table({"rank", "tp", "pp", "dp", "cp", "v", "sp", "ZeRO", "recompute", "micro", "global", "GiB/GPU",
                                "step", "tok/s", "MFU", "days", "cost"},
                               "searchResults");
    search_table_->setSortingEnabled(true);
    connect(search_table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        apply_search_row(search_table_->item(row, 0)->data(Qt::UserRole).toInt() - 1);
    });
    l->addWidget(search_table_, 1);
    return w;
}

bool MainWindow::run_search() {
    const Scenario s = scenario();
    try {
        const ModelSpec model = resolve_model(s);
        const GpuSpec gpu = gpu_or_throw(s.gpu, "--gpu");
        TrainConfig base = resolve_config(s);
        ClusterSpec cluster = default_cluster(gpu, base.parallel.gpus_per_node);
        if (!s.price.empty()) {
            cluster.price_per_gpu_hour = parse_real(s.price, "--price-per-gpu-hour", 0, 1e6);
            cluster.price_source = "given";
        }
        PerfOptions options;
        if (!s.tokens.empty()) options.tokens = static_cast<double>(parse_count(s.tokens, "--tokens"));
        search_ = search_layouts(model, gpu, base, cluster, options, SearchSpace{}, SearchRank::time,
                                 static_cast<std::size_t>(search_top_->value()));
    } catch (const std::exception& e) {
        search_ = {};
        search_table_->setRowCount(0);
        search_status_->setText(QString("search: ") + e.what());
        return false;
    }
    QString why;
    for (const std::string& w : search_.why) why += q(w) + " ";
    search_status_->setText(QString("%1 layouts evaluated, %2 fit, in %3 ms. %4 Double-click a row (or select it and "
                                    "press Apply) to use it.")
                                .arg(search_.evaluated)
                                .arg(search_.fitting)
                                .arg(search_.seconds * 1e3, 0, 'f', 1)
                                .arg(why));
    search_table_->setSortingEnabled(false);
    search_table_->setRowCount(static_cast<int>(search_.top.size()));
    int row = 0;
    for (const SearchCandidate& c : search_.top) {
        const ParallelLayout& p = c.config.parallel;
        set_number(search_table_, row, 0, QString::number(row + 1), row + 1);
        search_table_->item(row, 0)->setData(Qt::UserRole, row + 1);
        set_number(search_table_, row, 1, QString::number(p.tp), p.tp);
        set_number(search_table_, row, 2, QString::number(p.pp), p.pp);
        set_number(search_table_, row, 3, QString::number(p.dp()), p.dp());
        set_number(search_table_, row, 4, QString::number(p.cp), p.cp);
        set_number(search_table_, row, 5, QString::number(p.virtual_stages), p.virtual_stages);
        set_cell(search_table_, row, 6, p.sp ? "yes" : "");
        set_number(search_table_, row, 7, QString::number(p.zero), p.zero);
        set_cell(search_table_, row, 8, to_string(c.config.recompute));
        set_number(search_table_, row, 9, QString::number(c.config.micro_batch), static_cast<double>(c.config.micro_batch));
        set_number(search_table_, row, 10, QString::number(c.config.global_batch), static_cast<double>(c.config.global_batch));
        set_number(search_table_, row, 11, q(format_fixed(c.device_total / kGiB, 2)), c.device_total);
        set_number(search_table_, row, 12, q(format_duration(c.step_seconds)), c.step_seconds);
        set_number(search_table_, row, 13, q(format_count(c.tokens_per_second)), c.tokens_per_second);
        set_number(search_table_, row, 14, q(format_fixed(100 * c.mfu, 1) + "%"), c.mfu);
        set_number(search_table_, row, 15, q(format_fixed(c.training_seconds / 86400, 1)), c.training_seconds);
        set_number(search_table_, row, 16, QString("$") + q(format_count(c.cost)), c.cost);
        ++row;
    }
    search_table_->setSortingEnabled(true);
    search_table_->resizeColumnsToContents();
    return true;
}

void MainWindow::apply_search_row(int index) {
    if (index < 0 || index >= static_cast<int>(search_.top.size())) return;
    const TrainConfig& c = search_.top[static_cast<std::size_t>(index)].config;
    Scenario s = scenario();
    s.tp = c.parallel.tp;
    s.pp = c.parallel.pp;
    s.cp = c.parallel.cp;
    s.ep = c.parallel.ep;
    s.virtual_stages = c.parallel.virtual_stages;
    s.sp = c.parallel.sp;
    s.zero = c.parallel.zero;
    s.recompute = to_string(c.recompute);
    s.micro_batch = c.micro_batch;
    s.global_batch = c.global_batch;
    s.seq = c.seq;
    set_scenario(s);
}

// ---- compare --------------------------------------------------------------------------------------

QWidget* MainWindow::build_compare_tab() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    auto* top = new QHBoxLayout();
    auto* pin_button = new QPushButton("Pin current as A");
    pin_button->setObjectName("pin");
    connect(pin_button, &QPushButton::clicked, this, [this] { pin(); });
    auto* unpin_button = new QPushButton("Unpin");
    connect(unpin_button, &QPushButton::clicked, this, [this] { unpin(); });
    top->addWidget(pin_button);
    top->addWidget(unpin_button);
    top->addStretch(1);
    l->addLayout(top);
    compare_status_ = new QLabel("Pin a scenario as A, then change inputs: every figure and chart shows B (current) against A.");
    compare_status_->setWordWrap(true);
    l->addWidget(compare_status_);
    compare_table_ = make_table({"figure", "A (pinned)", "B (current)", "Δ", "Δ %"}, "compareTable");
    l->addWidget(compare_table_, 1);
    return w;
}

bool MainWindow::pin() {
    if (!current_ || mode() == Mode::inference) return false;  // A/B compares training plans
    pinned_ = current_;
    const Scenario s = scenario();
    pinned_name_ = q(current_->memory.model.name + ", " + std::to_string(s.gpus) + " GPUs, tp" + std::to_string(s.tp) + " pp" +
                     std::to_string(s.pp) + " z" + std::to_string(s.zero));
    if (!showing_error()) refresh_views();
    return true;
}

void MainWindow::unpin() {
    pinned_.reset();
    if (current_ && !showing_error()) refresh_views();
}

void MainWindow::refresh_compare() {
    if (!pinned_) {
        compare_table_->setRowCount(0);
        compare_status_->setText("Pin a scenario as A, then change inputs: every figure and chart shows B (current) against A.");
        return;
    }
    compare_status_->setText("A: " + pinned_name_ + " — B: the current inputs.");
    const std::vector<Figure> fa = key_figures(*pinned_), fb = key_figures(*current_);
    compare_table_->setRowCount(static_cast<int>(fb.size()));
    for (std::size_t i = 0; i < fb.size(); ++i) {
        const int row = static_cast<int>(i);
        const Figure& a = fa[i];
        const Figure& b = fb[i];
        set_cell(compare_table_, row, 0, q(b.label), q(b.how));
        set_number(compare_table_, row, 1, q(a.text), a.value);
        set_number(compare_table_, row, 2, q(b.text), b.value);
        set_number(compare_table_, row, 3, q(format_signed_delta(b.value - a.value, b.unit)), b.value - a.value);
        set_cell(compare_table_, row, 4, q(percent_delta(a.value, b.value)));
    }
    compare_table_->resizeColumnsToContents();
}

// ---- measured -------------------------------------------------------------------------------------

QWidget* MainWindow::build_measured_tab() {
    auto* w = new QWidget();
    auto* l = new QVBoxLayout(w);
    auto* open = new QPushButton("Open profiler report…");
    connect(open, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, "Profiler report", {}, "JSON (*.json)");
        QString err;
        if (!f.isEmpty() && !open_profile(f, &err)) QMessageBox::warning(this, "llmplan", err);
    });
    auto* top = new QHBoxLayout();
    top->addWidget(open);
    top->addStretch(1);
    l->addLayout(top);
    measured_status_ = new QLabel(
        "Open a JSON report of a measured run to overlay measured against predicted: an `llmplan profile --json` "
        "report (llmplan.profile/1: peak, step time, tokens/s, MFU), or any JSON read tolerantly: peak_allocated_bytes or max_memory_allocated, "
        "reserved_estimate_bytes or max_memory_reserved, device_used_bytes, step_seconds, tokens_per_second, mfu "
        "(the first found, depth first).");
    measured_status_->setObjectName("measuredStatus");
    measured_status_->setWordWrap(true);
    l->addWidget(measured_status_);
    measured_table_ = make_table({"quantity", "predicted", "measured", "error"}, "measuredTable");
    l->addWidget(measured_table_, 1);
    return w;
}

bool MainWindow::open_profile(const QString& path, QString* error) {
    nlohmann::json j;
    try {
        j = read_json_file(path.toStdString(), "profile report");
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
    std::map<std::string, double> found;
    const nlohmann::json& root = j.contains("measured") ? j["measured"] : j;
    if (j.value("schema", std::string()) == "llmplan.profile/1") {
        // `llmplan profile`'s report: measured.memory.peak_allocated.peak_bytes, measured.time.
        // step_seconds.median, measured.time.tokens_per_second and mfu.
        try {
            found["peak_allocated"] = root.at("memory").at("peak_allocated").at("peak_bytes").get<double>();
            found["step_seconds"] = root.at("time").at("step_seconds").at("median").get<double>();
            found["tokens_per_second"] = root.at("time").at("tokens_per_second").get<double>();
            found["mfu"] = root.at("time").at("mfu").get<double>();
        } catch (const nlohmann::json::exception& e) {
            if (error) *error = path + ": not a complete llmplan.profile/1 report (" + QString(e.what()) + ")";
            return false;
        }
    } else {
        for (const Measurable& m : measurables()) {
            const double v = find_number(root, m.aliases);
            if (std::isfinite(v)) found[m.key] = v;
        }
    }
    if (found.empty()) {
        if (error) *error = path + ": no measured quantity found (see the Measured tab for the keys read)";
        return false;
    }
    measured_ = std::move(found);
    measured_name_ = QFileInfo(path).fileName();
    if (current_ && !showing_error()) refresh_views();
    return true;
}

void MainWindow::refresh_measured() {
    if (measured_.empty()) {
        measured_table_->setRowCount(0);
        return;
    }
    measured_table_->setRowCount(static_cast<int>(measured_.size()));
    int row = 0;
    for (const Measurable& m : measurables()) {
        const auto it = measured_.find(m.key);
        if (it == measured_.end()) continue;
        const double predicted = m.predicted(*current_), measured = it->second;
        set_cell(measured_table_, row, 0, m.label);
        set_number(measured_table_, row, 1, q(format_fixed(predicted / m.scale, 2) + " " + m.unit), predicted);
        set_number(measured_table_, row, 2, q(format_fixed(measured / m.scale, 2) + " " + m.unit), measured);
        set_number(measured_table_, row, 3,
                   measured != 0 ? q(format_signed_delta(100 * (predicted - measured) / measured, "") + "%") : "–",
                   measured != 0 ? (predicted - measured) / measured : 0);
        ++row;
    }
    measured_table_->resizeColumnsToContents();
}

// ---- files ----------------------------------------------------------------------------------------

bool MainWindow::load_scenario(const QString& path, QString* error) {
    try {
        set_scenario(load_scenario_file(path.toStdString()));
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
}

bool MainWindow::save_scenario(const QString& path, QString* error) {
    try {
        const Scenario s = scenario();
        // The training plan is current only in training mode (the model may have changed since).
        const Evaluation* resolved = showing_error() || s.mode == Mode::inference ? nullptr : evaluation();
        write_text_file(path.toStdString(), scenario_to_json(s, resolved).dump(2) + "\n");
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
}

bool MainWindow::export_report(const QString& path, QString* error) {
    if (mode() == Mode::inference) {  // the same llmplan.infer/1 report as `llmplan infer --json`
        if (!current_infer_ || showing_error()) {
            if (error) *error = "no valid inference plan to export: " + error_message();
            return false;
        }
        try {
            write_text_file(path.toStdString(), infer_to_json(current_infer_->plan, current_infer_->origin).dump(2) + "\n");
            return true;
        } catch (const std::exception& e) {
            if (error) *error = e.what();
            return false;
        }
    }
    if (!current_ || showing_error()) {
        if (error) *error = "no valid plan to export: " + error_message();
        return false;
    }
    try {
        write_text_file(path.toStdString(), report_json(*current_).dump(2) + "\n");
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
}

ChartView* MainWindow::current_chart() const {
    if (mode() == Mode::inference) return infer_view_;
    QWidget* tab = tabs_->currentWidget();
    for (ChartView* v : {memory_view_, time_view_, scaling_view_})
        if (tab->isAncestorOf(v)) return v;
    return memory_view_;
}

bool MainWindow::export_chart_png(const QString& path, QString* error) {
    if (!current_chart()->save_png(path)) {
        if (error) *error = path + ": cannot write the PNG";
        return false;
    }
    return true;
}

bool MainWindow::export_chart_svg(const QString& path, QString* error) {
    if (!current_chart()->save_svg(path)) {
        if (error) *error = path + ": cannot write the SVG";
        return false;
    }
    return true;
}

bool MainWindow::export_chart(const QString& path, QString* error) {
    return path.endsWith(".svg", Qt::CaseInsensitive) ? export_chart_svg(path, error) : export_chart_png(path, error);
}

void MainWindow::select_tab(const QString& name) {
    const QStringList names = {"memory", "time", "communication", "scaling", "search", "compare", "measured"};
    const auto i = names.indexOf(name.toLower());
    if (i >= 0) tabs_->setCurrentIndex(static_cast<int>(i));
}

void MainWindow::build_menus() {
    auto report = [this](bool ok, const QString& err) {
        if (!ok) QMessageBox::warning(this, "llmplan", err);
    };
    QMenu* file = menuBar()->addMenu("&File");
    file->addAction("&Open scenario…", QKeySequence::Open, this, [this, report] {
        const QString f = QFileDialog::getOpenFileName(this, "Open scenario or plan report", {}, "JSON (*.json)");
        QString err;
        if (!f.isEmpty()) report(load_scenario(f, &err), err);
    });
    file->addAction("&Save scenario…", QKeySequence::Save, this, [this, report] {
        const QString f = QFileDialog::getSaveFileName(this, "Save scenario", "scenario.json", "JSON (*.json)");
        QString err;
        if (!f.isEmpty()) report(save_scenario(f, &err), err);
    });
    file->addSeparator();
    file->addAction("Export &report JSON…", this, [this, report] {
        const QString f = QFileDialog::getSaveFileName(this, "Export report (llmplan.plan/1)", "plan.json", "JSON (*.json)");
        QString err;
        if (!f.isEmpty()) report(export_report(f, &err), err);
    });
    file->addAction("Export &chart (PNG or SVG)…", this, [this, report] {
        QString filter;
        QString f = QFileDialog::getSaveFileName(this, "Export chart", "chart.png", "PNG (*.png);;SVG (*.svg)", &filter);
        if (f.isEmpty()) return;
        if (QFileInfo(f).suffix().isEmpty()) f += filter.startsWith("SVG") ? ".svg" : ".png";
        QString err;
        report(export_chart(f, &err), err);
    });
    file->addAction("Open &profiler report…", this, [this, report] {
        const QString f = QFileDialog::getOpenFileName(this, "Profiler report", {}, "JSON (*.json)");
        QString err;
        if (!f.isEmpty()) report(open_profile(f, &err), err);
    });
    file->addSeparator();
    file->addAction("&Quit", QKeySequence::Quit, qApp, &QApplication::quit);
    QMenu* cmp = menuBar()->addMenu("&Compare");
    cmp->addAction("&Pin current as A", QKeySequence(Qt::CTRL | Qt::Key_P), this, [this] { pin(); });
    cmp->addAction("&Unpin", this, [this] { unpin(); });
}

}  // namespace llmplan::gui
