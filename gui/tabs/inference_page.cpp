// inference_page.cpp — see inference_page.h.
#include "gui/tabs/inference_page.h"

#include "core/quantity.h"
#include "gui/figures.h"
#include "gui/widgets.h"

#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace llmplan::gui {

InferencePage::InferencePage(QWidget* parent) : QWidget(parent) {
    auto* l = new QVBoxLayout(this);
    l->setContentsMargins(0, 0, 0, 0);
    Headline h = make_headline("inferVerdict", "infer_",
                               {{"device_total", "device total"},
                                {"headroom", "headroom"},
                                {"max_batch", "largest batch"},
                                {"max_context", "longest context"},
                                {"ttft", "time to first token"},
                                {"token_latency", "per-token latency"},
                                {"tokens_per_second", "tok/s per sequence"},
                                {"tokens_per_second_per_gpu", "tok/s per GPU"},
                                {"peak_allocated", "peak allocated"},
                                {"kv_cache", "KV cache"},
                                {"vllm_kv_blocks", "vLLM KV blocks"},
                                {"vllm_max_sequences", "vLLM sequences"}});
    verdict_ = h.verdict;
    verdict_->setWordWrap(true);
    labels_ = std::move(h.values);
    names_ = std::move(h.names);
    headline_ = h.widget;
    l->addWidget(h.widget);
    view_ = make_chart_view(this);
    view_->setObjectName("inferChart");
    l->addWidget(view_, 3);
    table_ = make_table({"term", "GiB", "how (hover for the source)"}, "inferTerms");
    l->addWidget(table_, 2);
}

void InferencePage::refresh(const InferEvaluation& e, const InferEvaluation* pinned) {
    const InferPlan& p = e.plan;
    const InferConfig& c = p.config;
    const bool vllm = c.framework == InferFramework::vllm;
    // Against the card (generic, hf) or vLLM's reservation of it; tight under kHeadroomMargin of the card.
    const FitState state = fit_state(p.headroom, p.capacity);
    const std::string of = vllm ? " of vLLM's reservation (" + format_fixed(100 * c.gpu_memory_utilization, 0) + "% of " +
                                      format_bytes(p.capacity) + ")"
                                : " of " + format_bytes(p.capacity);
    const std::string head = state == FitState::fits  ? "FITS — headroom " + format_bytes(p.headroom) + of
                             : state == FitState::tight ? "TIGHT — fits with only " + format_bytes(p.headroom) + " free" + of +
                                                              ", under the " + format_fixed(100 * kHeadroomMargin, 0) +
                                                              "% margin of the card"
                                                        : "DOES NOT FIT — short by " + format_bytes(-p.headroom) + of;
    std::string text = head + " on " + (c.tp > 1 ? std::to_string(c.tp) + " × " : "") + e.gpu.display_name + "\n" +
                       std::to_string(c.batch) + " × (" + std::to_string(c.prompt) + " + " + std::to_string(c.generate) +
                       ") tokens, weights " + to_string(c.weights.format) + ", KV cache " + to_string(c.kv) + ", " +
                       to_string(c.framework);
    for (const std::string& w : p.warnings) text += "\nwarning: " + w;
    verdict_text_ = q(text);
    const VerdictStyle style = state == FitState::fits    ? VerdictStyle::fits
                               : state == FitState::tight ? VerdictStyle::tight
                                                          : VerdictStyle::does_not_fit;
    verdict_style_ = static_cast<int>(style);
    set_verdict(verdict_, style, verdict_text_);
    for (auto& [key, label] : labels_) {
        label->setText("–");
        label->setToolTip(vllm ? QString() : QString("vLLM only (framework vllm)"));
    }
    std::map<std::string, Figure> a;
    if (pinned)
        for (Figure& f : infer_figures(*pinned)) a[f.key] = std::move(f);
    for (const Figure& f : infer_figures(e)) {
        auto it = labels_.find(f.key);
        if (it == labels_.end()) continue;
        QString shown = q(f.text);
        if (auto pa = a.find(f.key); pa != a.end()) shown += q("  (Δ " + format_signed_delta(f.value - pa->second.value, f.unit) + ")");
        it->second->setText(shown);
        it->second->setToolTip(q(f.how));
        // "short by:" when it does not fit; the batch and context with the CLI's qualifiers.
        if (f.key == "headroom" || f.key == "max_batch" || f.key == "max_context" || f.key == "vllm_max_sequences")
            names_.at(f.key)->setText(q(f.label + ":"));
    }

    const std::vector<MemorySegment> segs = infer_segments(e);
    const std::vector<MemorySegment> segs_a = pinned ? infer_segments(*pinned) : std::vector<MemorySegment>{};
    StackedBarChart chart;
    chart.title = q("Serving memory per GPU (" + e.model.name + " on " + e.gpu.name + ", framework " + to_string(c.framework) + ")");
    chart.value_axis = "GiB";
    chart.categories = pinned ? QStringList{"A (pinned)", "B (current)"} : QStringList{"current"};
    // One stack per term key of B, then of A (the same key, the same colour: term_color).
    std::vector<std::string> keys;
    for (const auto* list : {&segs, &segs_a})
        for (const MemorySegment& sg : *list)
            if (std::find(keys.begin(), keys.end(), sg.key) == keys.end()) keys.push_back(sg.key);
    auto sum = [](const std::vector<MemorySegment>& v, const std::string& key) {
        double gib = 0;
        std::string tip;
        for (const MemorySegment& sg : v)
            if (sg.key == key) gib += sg.gib, tip = sg.tooltip;
        return std::pair{gib, tip};
    };
    for (const std::string& key : keys) {
        StackedBarChart::Stack st;
        st.key = q(key);
        for (const auto* list : {&segs, &segs_a})
            for (const MemorySegment& sg : *list)
                if (sg.key == key && st.name.isEmpty()) st.name = q(sg.label);
        if (pinned) {
            const auto [gib, tip] = sum(segs_a, key);
            st.values.push_back(gib);
            st.tooltips.push_back(q(tip.empty() ? "not in A" : "A — " + tip));
        }
        const auto [gib, tip] = sum(segs, key);
        st.values.push_back(gib);
        st.tooltips.push_back(q(tip.empty() ? "not in this plan" : tip));
        chart.stacks.push_back(std::move(st));
    }
    chart.limit = p.capacity / kGiB;
    chart.limit_label = q("capacity " + format_bytes(p.capacity));
    // The terms are the planner's parts; the device total is max(prefill, decode) + context (or
    // vLLM's reservation + context), so it is marked rather than implied by the stack's height.
    chart.marker_label = q(vllm ? "device total (vLLM reservation + context)" : "device total (peak + context)");
    chart.markers = {p.device_total / kGiB};
    if (pinned) chart.markers = {pinned->plan.device_total / kGiB, p.device_total / kGiB};
    data_ = chart;
    view_->show_stacked_bars(chart);

    table_->setRowCount(static_cast<int>(p.terms.size()) + 2);
    int row = 0;
    for (std::size_t i = 0; i < p.terms.size(); ++i) {
        const MemoryTerm& t = p.terms[i];
        const QString tip = q(segs[i].tooltip);
        set_cell(table_, row, 0, q(t.label), tip);
        set_number(table_, row, 1, q(format_fixed(t.bytes / kGiB, 2)), t.bytes, tip);
        set_cell(table_, row, 2, q(t.formula), tip);
        ++row;
    }
    set_cell(table_, row, 0, "peak allocated");
    set_number(table_, row, 1, q(format_fixed(p.peak / kGiB, 2)), p.peak);
    set_cell(table_, row, 2,
             vllm ? "weights + activations + graphs + this batch's KV blocks"
                  : "max(prefill: weights + prompt KV + activations, last decode step: weights + full KV)");
    ++row;
    set_cell(table_, row, 0, "device total");
    set_number(table_, row, 1, q(format_fixed(p.device_total / kGiB, 2)), p.device_total);
    set_cell(table_, row, 2,
             q("of " + format_bytes(p.capacity) + ": " + (p.fits ? "fits" : "does not fit") +
               (vllm ? "; vLLM: " + std::to_string(p.vllm_kv_blocks) + " KV blocks of " + std::to_string(c.block_size) +
                           " tokens → up to " + std::to_string(p.vllm_max_sequences) + " sequences at once"
                     : "")));
    table_->resizeColumnsToContents();
}

void InferencePage::set_stale(bool stale) {
    headline_->setEnabled(!stale);
    table_->setEnabled(!stale);
    view_->set_stale(stale);
    if (verdict_text_.isEmpty()) return;
    if (stale) set_verdict(verdict_, VerdictStyle::stale, "Input invalid — the last valid plan, greyed: " + verdict_text_);
    else set_verdict(verdict_, static_cast<VerdictStyle>(verdict_style_), verdict_text_);
}

}  // namespace llmplan::gui
