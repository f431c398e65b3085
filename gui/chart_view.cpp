// chart_view.cpp — ChartView on Qt Charts (deprecated from Qt 6.10; see chart_view.h).
#include "gui/chart_view.h"

#include <QBarCategoryAxis>
#include <QBarSet>
#include <QBuffer>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QGraphicsScene>
#include <QPainter>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPen>
#include <QScatterSeries>
#include <QStackedBarSeries>
#include <QSvgGenerator>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace llmplan::gui {

namespace {

class QtChartsView final : public ChartView {
public:
    explicit QtChartsView(QWidget* parent) : ChartView(parent), view_(new QChartView(this)) {
        auto* layout = new QVBoxLayout(this);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->addWidget(view_);
        view_->setRenderHint(QPainter::Antialiasing);
        setMinimumHeight(260);
    }

    void show_stacked_bars(const StackedBarChart& c) override {
        auto* chart = fresh(c.title);
        auto* series = new QStackedBarSeries();
        double top = 0;
        QVector<double> totals(c.categories.size(), 0.0);
        for (const auto& stack : c.stacks) {
            auto* set = new QBarSet(stack.name);
            for (qsizetype i = 0; i < stack.values.size(); ++i) {
                set->append(stack.values[i]);
                if (i < totals.size()) totals[i] += stack.values[i];
            }
            const QStringList tips = stack.tooltips;
            QObject::connect(set, &QBarSet::hovered, set, [tips](bool on, int index) {
                if (on && index >= 0 && index < tips.size()) QToolTip::showText(QCursor::pos(), tips[index]);
                else QToolTip::hideText();
            });
            series->append(set);
        }
        for (double t : totals) top = std::max(top, t);
        chart->addSeries(series);
        auto* x = new QBarCategoryAxis();
        x->append(c.categories);
        auto* y = new QValueAxis();
        y->setTitleText(c.value_axis);
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        const auto n = static_cast<double>(c.categories.size());
        if (c.limit) {
            top = std::max(top, *c.limit);
            auto* line = new QLineSeries();
            line->setName(c.limit_label);
            line->append(-0.5, *c.limit);
            line->append(n - 0.5, *c.limit);
            QPen pen(Qt::red);
            pen.setWidth(2);
            pen.setStyle(Qt::DashLine);
            line->setPen(pen);
            chart->addSeries(line);
            line->attachAxis(x);
            line->attachAxis(y);
        }
        if (!c.markers.isEmpty()) {
            auto* marks = new QScatterSeries();
            marks->setName(c.marker_label);
            marks->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
            marks->setMarkerSize(14);
            marks->setColor(Qt::black);
            for (qsizetype i = 0; i < c.markers.size(); ++i)
                if (std::isfinite(c.markers[i])) {
                    marks->append(static_cast<double>(i), c.markers[i]);
                    top = std::max(top, c.markers[i]);
                }
            chart->addSeries(marks);
            marks->attachAxis(x);
            marks->attachAxis(y);
        }
        y->setRange(0, top > 0 ? top * 1.08 : 1);
        y->applyNiceNumbers();
    }

    void show_lines(const LineChart& c) override {
        auto* chart = fresh(c.title);
        QAbstractAxis* x = nullptr;
        if (c.log_x) {
            auto* lx = new QLogValueAxis();
            lx->setBase(10);
            lx->setLabelFormat("%.0e");
            x = lx;
        } else {
            x = new QValueAxis();
        }
        x->setTitleText(c.x_axis);
        auto* y = new QValueAxis();
        y->setTitleText(c.y_axis);
        chart->addAxis(x, Qt::AlignBottom);
        chart->addAxis(y, Qt::AlignLeft);
        double lo = INFINITY, hi = -INFINITY;
        for (const auto& s : c.series) {
            QXYSeries* series = nullptr;
            if (s.scatter) {
                auto* sc = new QScatterSeries();
                sc->setMarkerSize(12);
                series = sc;
            } else {
                auto* line = new QLineSeries();
                if (s.dashed) {
                    QPen pen = line->pen();
                    pen.setStyle(Qt::DashLine);
                    pen.setWidth(2);
                    line->setPen(pen);
                }
                series = line;
            }
            series->setName(s.name);
            for (const QPointF& p : s.points) {
                if (!std::isfinite(p.x()) || !std::isfinite(p.y()) || (c.log_x && p.x() <= 0)) continue;
                series->append(p);
                lo = std::min(lo, p.y());
                hi = std::max(hi, p.y());
            }
            chart->addSeries(series);
            series->attachAxis(x);
            series->attachAxis(y);
        }
        if (std::isfinite(lo) && std::isfinite(hi)) {
            const double pad = std::max(1e-3, (hi - lo) * 0.05);
            y->setRange(lo - pad, hi + pad);
        }
    }

    QByteArray png() override {
        QByteArray bytes;
        QBuffer buffer(&bytes);
        if (!buffer.open(QIODevice::WriteOnly) || !view_->grab().save(&buffer, "PNG")) return {};
        return bytes;
    }

    QByteArray svg() override {
        QByteArray bytes;
        QBuffer buffer(&bytes);
        if (!buffer.open(QIODevice::WriteOnly)) return {};
        const QRect area = view_->viewport()->rect();
        QSvgGenerator svg;
        svg.setOutputDevice(&buffer);
        svg.setSize(area.size());
        svg.setViewBox(area);
        svg.setTitle(view_->chart()->title());
        svg.setDescription("llmplan-gui chart");
        QPainter painter;
        if (!painter.begin(&svg)) return {};
        painter.setRenderHint(QPainter::Antialiasing);
        // The scene as the view shows it, as vector paths and text (not a bitmap).
        view_->scene()->render(&painter, QRectF(area), view_->mapToScene(area).boundingRect());
        if (!painter.end()) return {};
        return bytes;
    }

private:
    QChart* fresh(const QString& title) {
        auto* chart = new QChart();
        chart->setTitle(title);
        chart->legend()->setAlignment(Qt::AlignRight);
        chart->setAnimationOptions(QChart::NoAnimation);
        QChart* old = view_->chart();
        view_->setChart(chart);  // the view owns the new chart; the old one is ours to delete
        delete old;
        return chart;
    }

    QChartView* view_;
};

}  // namespace

ChartView* make_chart_view(QWidget* parent) { return new QtChartsView(parent); }

}  // namespace llmplan::gui
