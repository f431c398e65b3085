// main_window.cpp — the window: inputs → evaluate() / evaluate_inference() (the planner) → the
// headline and the views (gui/tabs/). Nothing is computed here; every number on screen is a field
// of the planner's MemoryPlan, PerfPlan, InferPlan, SearchResult, LoraCount or scaling-law
// results, formatted.
#include "gui/main_window.h"

#include "planner/report.h"

#include "core/error.h"
#include "core/file.h"
#include "core/gpu.h"
#include "core/json.h"
#include "core/model_text.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "core/text.h"
#include "gui/figures.h"
#include "gui/tabs/comm_tab.h"
#include "gui/tabs/compare_tab.h"
#include "gui/tabs/fits_tab.h"
#include "gui/tabs/inference_page.h"
#include "gui/tabs/measured_tab.h"
#include "gui/tabs/memory_tab.h"
#include "gui/tabs/scaling_tab.h"
#include "gui/tabs/search_tab.h"
#include "gui/tabs/time_tab.h"
#include "gui/widgets.h"
#include "planner/lora.h"
#include "planner/quant.h"
#include "planner/search.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QRegularExpression>
#include <QPushButton>
#include <QScreen>
#include <QSignalBlocker>
#include <QScrollBar>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace llmplan::gui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle("llmplan — training and serving memory, time and cost");
    auto* splitter = new QSplitter(this);
    auto* scroll = new QScrollArea();
    QWidget* inputs = build_inputs();
    wheel_only_when_focused(inputs);
    scroll->setWidget(inputs);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    inputs_scroll_ = scroll;
    fit_inputs_panel();
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
    auto* views = new QWidget();
    auto* vl = new QVBoxLayout(views);
    vl->setContentsMargins(0, 0, 0, 0);
    vl->addWidget(build_summary());
    vl->addWidget(build_tabs(), 1);
    pages_ = new QStackedWidget();
    pages_->setObjectName("pages");
    pages_->addWidget(views);
    pages_->addWidget(infer_page_ = new InferencePage());
    // Below the views' smallest height (a short screen, a large scale factor) they scroll rather
    // than squeeze; the headline's figures wrap to the width (make_headline), so nothing scrolls sideways.
    auto* pages_scroll = new QScrollArea();
    pages_scroll->setObjectName("viewsScroll");
    pages_scroll->setWidget(pages_);
    pages_scroll->setWidgetResizable(true);
    pages_scroll->setFrameShape(QFrame::NoFrame);
    pages_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    rl->addWidget(pages_scroll, 1);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);
    setCentralWidget(splitter);
    status_ = new QLabel();
    status_->setObjectName("recomputeStatus");
    statusBar()->addWidget(status_, 1);
    build_menus();
    connect_inputs();
    // The first window: 1480 × 940, or 90% of the screen where that is smaller.
    QSize size(1480, 940);
    if (const QScreen* screen = QGuiApplication::primaryScreen())
        size = size.boundedTo(screen->availableGeometry().size() * 0.9);
    resize(size);
    splitter_ = splitter;
    set_scenario(default_scenario());  // the CLI's defaults (plans once)
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
    // Editable: a Hugging Face ORG/NAME from the local cache is typed in, as --model takes it.
    preset_->setEditable(true);
    preset_->setInsertPolicy(QComboBox::NoInsert);
    preset_->setToolTip("A preset, or a Hugging Face ORG/NAME whose config.json is in the local Hugging Face cache "
                        "(hf download ORG/NAME config.json), e.g. Qwen/Qwen3-8B");
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
    // What the planner plans: the model as `llmplan plan` describes it (core/model_text.h).
    model_label_ = new QLabel();
    model_label_->setObjectName("modelSummary");
    model_label_->setWordWrap(true);
    model_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    mf->addRow(model_label_);
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
    // Sizes accept 0 (and the planner says why it is wrong) rather than silently reverting to 1.
    gpus_ = spin("gpus", 0, 1 << 24, 8);
    cf->addRow("GPUs", gpus_);
    gpus_per_node_ = spin("gpusPerNode", 0, 1024, 8);
    cf->addRow("per node", gpus_per_node_);
    layout->addWidget(cluster_box);

    auto* layout_box = layout_box_ = new QGroupBox("Parallel layout");
    auto* lf = new QFormLayout(layout_box);
    tp_ = spin("tp", 0, 1 << 20, 1);
    tp_->setToolTip("tensor parallel (Megatron; Shoeybi et al. 2019)");
    pp_ = spin("pp", 0, 1 << 20, 1);
    pp_->setToolTip("pipeline parallel (1F1B)");
    cp_ = spin("cp", 0, 1 << 20, 1);
    cp_->setToolTip("context parallel (ring attention)");
    ep_ = spin("ep", 0, 1 << 20, 1);
    ep_->setToolTip("expert parallel (MoE)");
    etp_ = combo("etp", {"tp", "1"});
    etp_->setToolTip("the routed experts' tensor parallel (--etp): split like the dense layers (tp), or whole on "
                     "each rank (1, Megatron-Core's parallel folding)");
    virtual_stages_ = spin("virtualStages", 0, 1024, 1);
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
    lf->addRow("expert TP", etp_);
    lf->addRow("virtual stages", virtual_stages_);
    lf->addRow("ZeRO", zero_);
    lf->addRow("", sp_);
    layout->addWidget(layout_box);

    auto* job_box = job_box_ = new QGroupBox("Training job");
    auto* jf = new QFormLayout(job_box);
    framework_ = combo("framework", framework_names());  // the registry's names, as the CLI's --framework
    framework_->setToolTip("Whose behaviour to model: generic (textbook); pytorch (PyTorch eager + HF transformers, op by op); "
                           "llmplan (llmplan's own engine); megatron (Megatron-LM / Megatron-Core); megatron-bridge (Megatron-Core "
                           "under NeMo's Megatron Bridge performance-recipe defaults); deepspeed (DeepSpeed ZeRO); "
                           "torchtitan (FSDP2) — with each framework's default options (docs/MEMORY_MODEL.md §7-§11)");
    std::vector<std::string> precisions = {""};
    for (const std::string& p : precision_names()) precisions.push_back(p);
    precision_ = combo("precision", precisions);
    precision_->setItemText(0, "default (mixed-bf16; amp-bf16 for pytorch)");
    optimizer_ = combo("optimizer", optimizer_names());
    recompute_ = combo("recompute", {"none", "selective", "full"});
    attention_ = combo("attention", {"flash", "eager"});
    offload_ = combo("offload", {"none", "optimizer", "optimizer+params"});
    offload_activations_ = spin("offloadActivations", 0, 1 << 20, 0, "none");
    offload_activations_->setToolTip("Layers whose saved activations go to CPU memory during the forward and come back for the "
                                     "backward (Transformer Engine's CPU offloading, --offload-activations; needs pp 1 and no "
                                     "recompute; docs/MEMORY_MODEL.md §4)");
    dropout_ = new QDoubleSpinBox();
    dropout_->setObjectName("dropout");
    dropout_->setRange(0, 0.999);
    dropout_->setSingleStep(0.05);
    dropout_->setDecimals(3);
    micro_batch_ = spin("microBatch", 0, 1 << 20, 1);
    global_batch_ = spin("globalBatch", 0, std::numeric_limits<int>::max(), 0, "default (micro × dp × pp)");
    seq_ = spin("seq", 0, 1 << 24, 0, "default (context, ≤ 4096)");
    seq_->setSingleStep(512);
    jf->addRow("framework", framework_);
    jf->addRow("precision", precision_);
    jf->addRow("optimizer", optimizer_);
    jf->addRow("recompute", recompute_);
    jf->addRow("attention", attention_);
    jf->addRow("offload", offload_);
    jf->addRow("offload activations", offload_activations_);
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
    // Combo boxes as narrow as the panel (their long items show in full in the open list), so the
    // panel never needs a horizontal scroll bar.
    for (QComboBox* c : panel->findChildren<QComboBox*>()) {
        c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        c->setMinimumContentsLength(8);
    }
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
    lora_targets_->setToolTip(QString::fromStdString("--lora-targets: adapted projections, any of " + lora_target_names() +
                                                     ", or all (PEFT's default: q,v)"));
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
    inf_group_ = spin("inferGroupSize", 0, 1 << 20, 128);
    inf_group_->setToolTip("--group-size: quantization group for int4/int3 (GPTQ, AWQ)");
    inf_double_quant_ = new QCheckBox("nf4 double quantization");
    inf_double_quant_->setObjectName("inferDoubleQuant");
    inf_double_quant_->setChecked(true);
    std::vector<std::string> kv = {""};
    for (const char* k : {"bf16", "fp16", "fp32", "fp8", "int8"}) kv.push_back(k);
    inf_kv_ = combo("inferKvCache", kv);
    inf_kv_->setItemText(0, "default (bf16; fp32 for fp32 weights)");
    inf_batch_ = spin("inferBatch", 0, 1 << 24, 1);
    inf_batch_->setToolTip("--batch: sequences decoded together");
    inf_prompt_ = spin("inferPrompt", 0, 1 << 24, 512);
    inf_prompt_->setSingleStep(256);
    inf_generate_ = spin("inferGenerate", 0, 1 << 24, 256);
    inf_generate_->setSingleStep(128);
    inf_chunk_ = spin("inferPrefillChunk", 0, 1 << 30, 0, "whole prompts");
    inf_chunk_->setToolTip("--prefill-chunk: tokens per prefill pass (chunked prefill)");
    inf_tp_ = spin("inferTp", 0, 1024, 1);
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
    inf_block_ = spin("inferBlockSize", 0, 1 << 16, 16);
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
    if (inputs_scroll_) fit_inputs_panel();
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (shown_) return;
    shown_ = true;
    // The inputs panel: about a third of the first window, 300 to 430 pixels (at least its
    // minimum); the views take the rest and every later change of the window's width.
    const int panel = std::max(inputs_scroll_->minimumWidth(), std::clamp(width() / 3, 300, 430));
    splitter_->setSizes({panel, std::max(1, width() - panel)});
}

void MainWindow::fit_inputs_panel() {
    // As narrow as the inputs shown allow (they differ by mode), with room for the vertical scroll bar.
    QScrollArea* a = inputs_scroll_;
    a->setMinimumWidth(a->widget()->minimumSizeHint().width() + a->verticalScrollBar()->sizeHint().width() + 2 * a->frameWidth());
}

void MainWindow::connect_inputs() {
    auto changed = [this] {
        update_applicable_inputs();
        if (!updating_) recompute();
    };
    connect(mode_, &QComboBox::currentIndexChanged, this, [this, changed] {
        update_mode();
        changed();
    });
    connect(source_, &QComboBox::currentIndexChanged, this, [this, changed] {
        // "parameter count" starts from the size of the model planned so far, not an unrelated 7B.
        if (!updating_ && data_of(source_) == "params") {
            const std::int64_t n = mode() == Mode::inference ? (current_infer_ ? count_params(current_infer_->model).total() : 0)
                                                             : (current_ ? current_->memory.params.total() : 0);
            if (n > 0) {
                const QSignalBlocker quiet(params_);
                params_->setText(q(format_count(static_cast<double>(n))));
            }
        }
        update_model_source_page();
        changed();
    });
    connect(preset_, &QComboBox::currentTextChanged, this, changed);  // editable: a choice or typed text
    for (QComboBox* c : {gpu_, zero_, etp_, precision_, optimizer_, recompute_, attention_, framework_, offload_, base_quant_,
                         inf_weights_, inf_kv_, inf_attention_, inf_framework_})
        connect(c, &QComboBox::currentIndexChanged, this, changed);
    for (QSpinBox* s : {gpus_, gpus_per_node_, tp_, pp_, cp_, ep_, virtual_stages_, micro_batch_, global_batch_, seq_, offload_activations_, lora_rank_,
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

void MainWindow::update_applicable_inputs() {
    // Inputs that the other inputs make irrelevant are disabled (their values are kept).
    const std::string weights = data_of(inf_weights_);
    inf_double_quant_->setEnabled(weights == "nf4");
    inf_group_->setEnabled(weights == "int4" || weights == "int3");
    const bool vllm = data_of(inf_framework_) == "vllm";
    inf_util_->setEnabled(vllm);
    inf_block_->setEnabled(vllm);
    const bool lora = lora_rank_->value() > 0;
    for (QWidget* input : std::initializer_list<QWidget*>{lora_alpha_, lora_targets_, base_quant_, paged_optimizer_})
        input->setEnabled(lora);
    virtual_stages_->setEnabled(pp_->value() > 1 || virtual_stages_->value() > 1);
    etp_->setEnabled(tp_->value() > 1 || data_of(etp_) != "tp");
}

Scenario MainWindow::scenario() const {
    Scenario s;
    s.mode = mode();
    const std::string src = data_of(source_);
    s.source = src == "hf_config" ? ModelSource::hf_config
             : src == "params"    ? ModelSource::params
             : src == "shape"     ? ModelSource::shape
                                  : ModelSource::preset;
    switch (s.source) {
        case ModelSource::preset: s.model = preset_->currentText().trimmed().toStdString(); break;
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
    s.etp = data_of(etp_) == "1" ? 1 : 0;
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
    s.offload_activations = offload_activations_->value();
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
    select_data(etp_, s.etp == 1 ? "1" : "tp");
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
    clamp(offload_activations_, s.offload_activations);
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
    update_applicable_inputs();
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
            refresh_model_label(current_infer_->model, count_params(current_infer_->model));
            infer_page_->refresh(*current_infer_, pinned_infer_ ? &*pinned_infer_ : nullptr);
            last_seconds_ = static_cast<double>(timer.nsecsElapsed()) * 1e-9;
            status_->setText(QString("planned in %1 ms, views updated in %2 ms · %3 · %4")
                                 .arg(current_infer_->seconds * 1e3, 0, 'f', 2)
                                 .arg((last_seconds_ - current_infer_->seconds) * 1e3, 0, 'f', 1)
                                 .arg(q(current_infer_->origin))
                                 .arg(q(model_size_text(current_infer_->model, count_params(current_infer_->model)))));
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
        refresh_model_label(current_->model, current_->memory.params);
        refresh_views();
        last_seconds_ = static_cast<double>(timer.nsecsElapsed()) * 1e-9;
        status_->setText(QString("planned in %1 ms, views updated in %2 ms · %3 · %4")
                             .arg(current_->seconds * 1e3, 0, 'f', 1)
                             .arg((last_seconds_ - current_->seconds) * 1e3, 0, 'f', 1)
                             .arg(q(current_->origin))
                             .arg(q(model_size_text(current_->model, current_->memory.params))));
    } catch (const InputError& e) {
        show_error(q(e.what()));
    } catch (const std::exception& e) {  // a planner bug must not take the window down
        show_error(QString("internal error: ") + e.what());
    }
}

void MainWindow::show_error(const QString& message) {
    const QString suggestion = mark_invalid_inputs(message);
    error_->setText(suggestion.isEmpty() ? message : message + "\n" + suggestion);
    error_->setVisible(!message.isEmpty());
    set_stale(!message.isEmpty());
    const bool have = mode() == Mode::inference ? current_infer_.has_value() : current_.has_value();
    if (!message.isEmpty()) status_->setText(have ? "input error: showing the last valid plan (greyed)" : "input error");
}

void MainWindow::set_stale(bool stale) {
    for (Tab* tab : tab_list_) {
        if (tab == search_tab_ || tab == fits_tab_) continue;  // Search and What fits choose the layout: they stay usable
        tab->setEnabled(!stale);
        if (ChartView* chart = tab->chart()) chart->set_stale(stale);
    }
    summary_->setEnabled(!stale);
    infer_page_->set_stale(stale);
    if (stale) {
        if (current_) set_verdict(verdict_, VerdictStyle::stale, "Input invalid — the last valid plan, greyed: " + verdict_text_);
    } else if (current_ && mode() == Mode::training) {
        refresh_summary();
    }
}

QString MainWindow::mark_invalid_inputs(const QString& message) {
    const bool infer = mode() == Mode::inference;
    // The CLI flag each input stands for (the planner's messages name the flag at fault).
    const std::vector<std::pair<const char*, QWidget*>> shared = {
        {"--model", preset_}, {"--hf-config", hf_path_}, {"--params", params_}, {"--gpu", gpu_}};
    const std::vector<std::pair<const char*, QWidget*>> training = {
        {"--gpus", gpus_}, {"--gpus-per-node", gpus_per_node_}, {"--tp", tp_}, {"--pp", pp_}, {"--cp", cp_}, {"--ep", ep_}, {"--etp", etp_},
        {"--virtual-stages", virtual_stages_}, {"--zero", zero_}, {"--sp", sp_}, {"--precision", precision_},
        {"--optimizer", optimizer_}, {"--recompute", recompute_}, {"--attention", attention_}, {"--offload", offload_}, {"--offload-activations", offload_activations_},
        {"--framework", framework_}, {"--dropout", dropout_}, {"--micro-batch", micro_batch_},
        {"--global-batch", global_batch_}, {"--seq", seq_}, {"--tokens", tokens_}, {"--price-per-gpu-hour", price_},
        {"--lora-rank", lora_rank_}, {"--lora-alpha", lora_alpha_}, {"--lora-targets", lora_targets_},
        {"--base-quant", base_quant_}, {"--paged-optimizer", paged_optimizer_}};
    const std::vector<std::pair<const char*, QWidget*>> serving = {
        {"--weights", inf_weights_}, {"--group-size", inf_group_}, {"--kv-cache", inf_kv_}, {"--batch", inf_batch_},
        {"--prompt", inf_prompt_}, {"--generate", inf_generate_}, {"--prefill-chunk", inf_chunk_}, {"--tp", inf_tp_},
        {"--attention", inf_attention_}, {"--framework", inf_framework_}, {"--gpu-memory-utilization", inf_util_},
        {"--block-size", inf_block_}};
    for (const auto* list : {&shared, &training, &serving})
        for (const auto& [flag, input] : *list) mark_invalid(input, false);
    if (message.isEmpty()) return {};
    const auto& own = infer ? serving : training;
    auto input_of = [&](const QString& flag) -> QWidget* {
        for (const auto* list : {&own, &shared})
            for (const auto& [f, input] : *list)
                if (flag == f) return input;
        return nullptr;
    };
    // The layout sizes that are wrong on their own: marked, with the valid values nearest them.
    QStringList suggestions;
    if (!infer) {
        try {
            const Scenario s = scenario();
            const ModelSpec model = resolve_model(s);
            const TrainConfig config = resolve_config(s);
            const std::vector<std::pair<const char*, int>> sizes = {
                {"--tp", s.tp}, {"--pp", s.pp}, {"--cp", s.cp}, {"--ep", s.ep}, {"--virtual-stages", s.virtual_stages}};
            for (const auto& [flag, value] : sizes) {
                const std::vector<int> ok = valid_layout_values(model, config, flag, 6);
                if (ok.empty() || std::find(ok.begin(), ok.end(), value) != ok.end()) continue;
                mark_invalid(input_of(flag), true);
                QStringList values;
                for (int v : ok) values << QString::number(v);
                const QString name = QString(flag).mid(2).toUpper().replace("VIRTUAL-STAGES", "virtual stages");
                suggestions << name + " " + values.join(", ");
            }
        } catch (const std::exception&) {  // the model or a field does not parse: the message says which
        }
    }
    if (suggestions.isEmpty()) {  // else the flag the message names first
        static const QRegularExpression flag_re("--[a-z][a-z0-9-]*");
        if (const QRegularExpressionMatch m = flag_re.match(message); m.hasMatch())
            if (QWidget* input = input_of(m.captured(0))) mark_invalid(input, true);
        return {};
    }
    return "Valid with the other inputs as they are: " + suggestions.join("; ");
}

QString MainWindow::error_message() const { return error_->text(); }
bool MainWindow::showing_error() const { return !error_->isHidden(); }

void MainWindow::refresh_views() {
    dp_label_->setText(QString::number(current_->memory.config.parallel.dp()));
    refresh_lora_label();
    refresh_summary();
    QStringList mismatch;
    if (!measured_.empty())
        for (const std::string& m : measured_run_mismatches(measured_run_, current_->memory)) mismatch << q(m);
    const ParallelLayout& p = current_->memory.config.parallel;
    const FitState state = fit_state(current_->memory.headroom_bytes, current_->memory.capacity_bytes);
    const QString caption = q(current_->memory.model.name + " · " + std::to_string(p.gpus) + " × " + current_->gpu.name + " · tp " +
                              std::to_string(p.tp) + ", pp " + std::to_string(p.pp) + ", dp " + std::to_string(p.dp()) +
                              ", ZeRO-" + std::to_string(p.zero) + ", micro-batch " +
                              std::to_string(current_->memory.config.micro_batch) + " · " +
                              (state == FitState::fits ? "fits" : state == FitState::tight ? "tight" : "does not fit")) +
                            (pinned_ ? " · A: " + pinned_name_ : QString());
    const Overlays overlays{pinned_ ? &*pinned_ : nullptr, pinned_name_, measured_, mismatch.join(", "), caption};
    for (Tab* tab : tab_list_) tab->refresh(*current_, overlays);
}

void MainWindow::refresh_model_label(const ModelSpec& m, const ParamBreakdown& b) {
    std::string text = model_shape_line(m);
    if (const std::string detail = model_detail_line(m); !detail.empty()) text += "\n" + detail;
    model_label_->setText(q(text + "\n" + model_params_line(m, b)));
    // Hover: the exact breakdown, as `llmplan models NAME` lists it.
    std::ostringstream tip;  // (not string concatenation: GCC 12 -O3 reports a false -Wrestrict on it)
    tip << "Parameters (count_params, core/model.h)";
    for (const BreakdownRow& r : param_breakdown_rows(b))
        tip << "\n" << (r.depth > 0 ? "    " : "") << r.label << ": " << format_int(r.parameters);
    tip << "\ntotal: " << format_int(b.total());
    if (m.is_moe()) tip << "\nactive per token: " << format_int(b.active);
    if (b.mtp > 0) tip << "\nMTP modules, not served: " << format_int(b.mtp);
    model_label_->setToolTip(q(tip.str()));
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

// ---- headline and tabs ----------------------------------------------------------------------------

QWidget* MainWindow::build_summary() {
    Headline h = make_headline("verdict", "figure_",
                               {{"device_total", "device total"},
                                {"headroom", "headroom"},
                                {"step_time", "step time"},
                                {"tokens_per_second", "throughput"},
                                {"mfu", "MFU"},
                                {"training_days", "training time"},
                                {"cost", "cost"},
                                {"energy", "energy"},
                                {"max_micro_batch", "max micro-batch"},
                                {"gpu_hours", "GPU-hours"},
                                {"co2", "CO₂"},
                                {"peak_allocated", "peak allocated"},
                                {"trainable", "trainable"}});
    verdict_ = h.verdict;
    figure_labels_ = std::move(h.values);
    figure_names_ = std::move(h.names);
    summary_ = h.widget;
    return h.widget;
}

void MainWindow::refresh_summary() {
    const Evaluation& e = *current_;
    const MemoryPlan& m = e.memory;
    const FitState state = fit_state(m.headroom_bytes, m.capacity_bytes);
    const std::string on = " of " + format_bytes(m.capacity_bytes) + " on " + std::to_string(m.config.parallel.gpus) + " × " +
                           m.gpu.display_name;
    const std::string pct = format_fixed(100 * m.headroom_bytes / m.capacity_bytes, 1) + "%";
    verdict_text_ = q(state == FitState::fits ? "FITS — headroom " + format_bytes(m.headroom_bytes) + " (" + pct + ")" + on
                      : state == FitState::tight
                          ? "TIGHT — fits with only " + format_bytes(m.headroom_bytes) + " (" + pct + ") free" + on +
                                ", under the " + format_fixed(100 * kHeadroomMargin, 0) + "% margin"
                          : "DOES NOT FIT — short by " + format_bytes(-m.headroom_bytes) + on);
    set_verdict(verdict_, state == FitState::fits ? VerdictStyle::fits : state == FitState::tight ? VerdictStyle::tight
                                                                                                  : VerdictStyle::does_not_fit,
                verdict_text_);
    for (const std::string& w : m.warnings) verdict_->setText(verdict_->text() + q("\nwarning: " + w));
    const std::map<std::string, Figure> a = figures_by_key(pinned_ ? &*pinned_ : nullptr);
    for (const Figure& f : key_figures(e)) {
        auto it = figure_labels_.find(f.key);
        if (it == figure_labels_.end()) continue;
        QString text = q(f.text);
        if (auto pa = a.find(f.key); pa != a.end())
            text += q("  (Δ " + format_signed_delta(f.value - pa->second.value, f.unit) + ")");
        it->second->setText(text);
        it->second->setToolTip(q(f.how));
        if (f.key == "headroom") figure_names_.at(f.key)->setText(q(f.label + ":"));  // "short by:" when it does not fit
    }
}

QTabWidget* MainWindow::build_tabs() {
    tabs_ = new QTabWidget();
    tabs_->setObjectName("views");
    auto add = [this](Tab* tab, const char* title) {
        tabs_->addTab(tab, title);
        tab_list_.push_back(tab);
    };
    add(memory_tab_ = new MemoryTab(), "Memory");
    add(time_tab_ = new TimeTab(), "Step time");
    add(new CommTab(), "Communication");
    add(scaling_tab_ = new ScalingTab(), "Scaling");
    add(search_tab_ = new SearchTab(), "Search");
    connect(search_tab_, &SearchTab::search_requested, this, [this] { run_search(); });
    connect(search_tab_, &SearchTab::apply_requested, this, &MainWindow::apply_search_row);
    auto* compare = new CompareTab();
    add(compare, "Compare A/B");
    connect(compare, &CompareTab::pin_requested, this, [this] { pin(); });
    connect(compare, &CompareTab::unpin_requested, this, &MainWindow::unpin);
    auto* measured = new MeasuredTab();
    add(measured, "Measured");
    connect(measured, &MeasuredTab::open_requested, this, &MainWindow::open_profile_dialog);
    add(fits_tab_ = new FitsTab(), "What fits");
    connect(fits_tab_, &FitsTab::check_requested, this, [this] { run_what_fits(); });
    return tabs_;
}

const StackedBarChart& MainWindow::memory_chart() const { return memory_tab_->chart_data(); }
const StackedBarChart& MainWindow::time_chart() const { return time_tab_->chart_data(); }
const StackedBarChart& MainWindow::infer_chart() const { return infer_page_->chart_data(); }
const LineChart& MainWindow::scaling_chart() const { return scaling_tab_->chart_data(); }
const SearchResult& MainWindow::search_result() const { return search_tab_->result(); }

void MainWindow::select_tab(const QString& name) {
    const QStringList names = {"memory", "time", "communication", "scaling", "search", "compare", "measured", "fits"};
    const auto i = names.indexOf(name.toLower());
    if (i >= 0) tabs_->setCurrentIndex(static_cast<int>(i));
}

// ---- search ---------------------------------------------------------------------------------------

bool MainWindow::run_search() { return search_tab_->run(scenario()); }

bool MainWindow::run_what_fits() { return fits_tab_->run(scenario()); }
const std::vector<ModelFit>& MainWindow::what_fits_result() const { return fits_tab_->result(); }

void MainWindow::apply_search_row(int index) {
    const SearchResult& r = search_tab_->result();
    if (index < 0 || index >= static_cast<int>(r.top.size())) return;
    const TrainConfig& c = r.top[static_cast<std::size_t>(index)].config;
    Scenario s = scenario();
    set_layout(s, c.parallel);
    s.recompute = to_string(c.recompute);
    s.micro_batch = c.micro_batch;
    s.global_batch = c.global_batch;
    s.seq = c.seq;
    set_scenario(s);
}

// ---- A/B and measured -----------------------------------------------------------------------------

bool MainWindow::pin() {
    if (mode() == Mode::inference) {
        if (!current_infer_) return false;
        pinned_infer_ = current_infer_;
        if (!showing_error()) infer_page_->refresh(*current_infer_, &*pinned_infer_);
        return true;
    }
    if (!current_) return false;
    pinned_ = current_;
    const Scenario s = scenario();
    pinned_name_ = q(current_->memory.model.name + ", " + std::to_string(s.gpus) + " GPUs, tp" + std::to_string(s.tp) + " pp" +
                     std::to_string(s.pp) + " z" + std::to_string(s.zero));
    if (!showing_error()) refresh_views();
    return true;
}

void MainWindow::unpin() {
    if (mode() == Mode::inference) {
        pinned_infer_.reset();
        if (current_infer_ && !showing_error()) infer_page_->refresh(*current_infer_, nullptr);
        return;
    }
    pinned_.reset();
    if (current_ && !showing_error()) refresh_views();
}

bool MainWindow::open_profile(const QString& path, QString* error) {
    if (!read_measured(path, &measured_, error, &measured_run_)) return false;
    if (current_ && !showing_error()) refresh_views();
    return true;
}

void MainWindow::open_profile_dialog() {
    const QString f = QFileDialog::getOpenFileName(this, "Profiler report", {}, "JSON (*.json)");
    QString err;
    if (!f.isEmpty() && !open_profile(f, &err)) QMessageBox::warning(this, "llmplan", err);
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
        write_output_file(path.toStdString(), scenario_to_json(s, resolved).dump(2) + "\n", "scenario");
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
}

bool MainWindow::export_report(const QString& path, QString* error) {
    // Training: the same llmplan.plan/1 report as `llmplan plan --json`; inference: the same
    // llmplan.infer/1 report as `llmplan infer --json`.
    const bool infer = mode() == Mode::inference;
    if (showing_error() || (infer ? !current_infer_ : !current_)) {
        if (error) *error = (infer ? "no valid inference plan to export: " : "no valid plan to export: ") + error_message();
        return false;
    }
    try {
        const nlohmann::ordered_json report =
            infer ? infer_to_json(current_infer_->plan, current_infer_->origin) : report_json(*current_);
        write_output_file(path.toStdString(), report_text(report, "report"), "report");
        return true;
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
}

ChartView* MainWindow::current_chart() const {
    if (mode() == Mode::inference) return infer_page_->chart();
    return tab_list_[static_cast<std::size_t>(tabs_->currentIndex())]->chart();  // nullptr: a tab without a chart
}

namespace {

// Writes encoded chart bytes with write_output_file (core/file.h); false and the reason on failure.
bool write_chart(const QString& path, const QByteArray& bytes, const char* format, QString* error) {
    try {
        if (bytes.isEmpty()) throw std::runtime_error(std::string("chart: cannot render the ") + format);
        write_output_file(path.toStdString(), std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())),
                          "chart");
        return true;
    } catch (const std::exception& e) {
        if (error) *error = q(e.what());
        return false;
    }
}

}  // namespace

namespace {

// The refusal to export from a tab without a chart (rather than some other tab's chart).
bool no_chart(const QTabWidget* tabs, QString* error) {
    if (error)
        *error = "chart: the " + tabs->tabText(tabs->currentIndex()) +
                 " tab has no chart; choose Memory, Step time or Scaling to export one";
    return false;
}

}  // namespace

bool MainWindow::export_chart_png(const QString& path, QString* error) {
    ChartView* chart = current_chart();
    return chart ? write_chart(path, chart->png(), "PNG", error) : no_chart(tabs_, error);
}

bool MainWindow::export_chart_svg(const QString& path, QString* error) {
    ChartView* chart = current_chart();
    return chart ? write_chart(path, chart->svg(), "SVG", error) : no_chart(tabs_, error);
}

bool MainWindow::export_chart(const QString& path, QString* error) {
    return path.endsWith(".svg", Qt::CaseInsensitive) ? export_chart_svg(path, error) : export_chart_png(path, error);
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
        const bool infer = mode() == Mode::inference;  // the schema export_report writes
        const QString f = QFileDialog::getSaveFileName(this, infer ? "Export report (llmplan.infer/1)" : "Export report (llmplan.plan/1)",
                                                       infer ? "infer.json" : "plan.json", "JSON (*.json)");
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
    file->addAction("Open &profiler report…", this, &MainWindow::open_profile_dialog);
    file->addSeparator();
    file->addAction("&Quit", QKeySequence::Quit, qApp, &QApplication::quit);
    // Keyboard: every view and the search have a shortcut, listed here.
    QMenu* view = menuBar()->addMenu("&View");
    const std::vector<std::pair<const char*, const char*>> views = {
        {"&Memory", "memory"}, {"Step &time", "time"}, {"&Communication", "communication"}, {"Sc&aling", "scaling"},
        {"&Search", "search"}, {"Compare &A/B", "compare"}, {"M&easured", "measured"}, {"What &fits", "fits"}};
    for (std::size_t i = 0; i < views.size(); ++i) {
        const QString name = views[i].second;
        view->addAction(views[i].first, QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + static_cast<int>(i))), this,
                        [this, name] { select_tab(name); });
    }
    view->addSeparator();
    view->addAction("Search &layouts", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_F), this, [this] {
        select_tab("search");
        run_search();
    });
    QMenu* cmp = menuBar()->addMenu("&Compare");
    cmp->addAction("&Pin current as A", QKeySequence(Qt::CTRL | Qt::Key_P), this, [this] { pin(); });
    cmp->addAction("&Unpin", this, [this] { unpin(); });
}

}  // namespace llmplan::gui
