// chart_view.h — the GUI's only view of a charting library.
//
// Views describe a chart as plain data (StackedBarChart, LineChart) and hand it to a ChartView.
// make_chart_view() returns the Qt Charts implementation (chart_view.cpp); Qt Charts is deprecated
// from Qt 6.10, and replacing it (Qt Graphs, or a QPainter chart) means writing one new
// implementation of this interface, nothing else.
#pragma once

#include <QByteArray>
#include <QColor>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <optional>
#include <vector>

namespace llmplan::gui {

// Bars made of stacked segments, one bar per category (e.g. "A (pinned)", "B (current)").
struct StackedBarChart {
    QString title, value_axis;
    QStringList categories;
    struct Stack {
        QString name;             // legend entry (a memory term, a part of the step)
        QVector<double> values;   // one per category
        QStringList tooltips;     // one per category: formula and source
    };
    std::vector<Stack> stacks;
    std::optional<double> limit;  // a horizontal line (the GPU's capacity)
    QString limit_label;
    QVector<double> markers;      // one per category (NaN: none), e.g. a measured value
    QString marker_label;
};

struct LineChart {
    QString title, x_axis, y_axis;
    bool log_x = false;
    struct Series {
        QString name;
        QVector<QPointF> points;
        bool scatter = false;  // markers only (e.g. the current model)
        bool dashed = false;
    };
    std::vector<Series> series;
};

class ChartView : public QWidget {
public:
    using QWidget::QWidget;
    ~ChartView() override = default;
    virtual void show_stacked_bars(const StackedBarChart& chart) = 0;
    virtual void show_lines(const LineChart& chart) = 0;
    // The chart as PNG bytes; empty if it cannot be encoded. (The caller writes the file:
    // write_output_file, core/file.h.)
    virtual QByteArray png() = 0;
    // The chart as SVG (vector, QSvgGenerator); empty if it cannot be rendered.
    virtual QByteArray svg() = 0;
};

ChartView* make_chart_view(QWidget* parent);

}  // namespace llmplan::gui
