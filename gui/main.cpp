// main.cpp — llmplan-gui. With --screenshot it renders the window offscreen and exits:
//   llmplan-gui --scenario docs/images/gui_scenario.json --screenshot docs/images/gui.png [--tab memory] [--pin A.json] [--profile run.json]
#include "core/file.h"
#include "core/text.h"
#include "gui/main_window.h"

#include <QApplication>
#include <QBuffer>
#include <QCommandLineParser>
#include <QPixmap>

#include <cstdio>
#include <exception>
#include <optional>
#include <string_view>

namespace {

// The largest side --size accepts: a 16384 × 16384 screenshot is a 1 GiB image already, and larger
// ones exhaust memory or take minutes to paint (docs/GUI.md, docs/RELIABILITY.md).
constexpr int kMaxScreenshotSide = 16384;

// One line on stderr, control characters escaped.
void say(const QString& message) {
    std::fprintf(stderr, "llmplan-gui: %s\n", llmplan::escape_controls(message.toStdString()).c_str());
}

// "WxH" with 1 ≤ W, H ≤ kMaxScreenshotSide, or nullopt.
std::optional<QSize> parse_size(const QString& text) {
    const QStringList wh = text.split('x');
    if (wh.size() != 2) return std::nullopt;
    bool ok_w = false, ok_h = false;
    const int w = wh[0].toInt(&ok_w), h = wh[1].toInt(&ok_h);
    if (!ok_w || !ok_h || w < 1 || h < 1 || w > kMaxScreenshotSide || h > kMaxScreenshotSide) return std::nullopt;
    return QSize(w, h);
}

}  // namespace

int main(int argc, char** argv) {
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        if (QByteArray(argv[i]) == "--screenshot" || QByteArray(argv[i]).startsWith("--screenshot=")) screenshot = true;
    if (screenshot && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    QApplication::setApplicationName("llmplan-gui");
    QCommandLineParser parser;
    parser.setApplicationDescription("llmplan desktop GUI: training and serving memory, time and cost, what-if (docs/GUI.md)");
    parser.addHelpOption();
    QCommandLineOption scenario_opt("scenario", "Open this scenario (or llmplan plan report) JSON.", "FILE");
    QCommandLineOption pin_opt("pin", "Pin this scenario as A, then open --scenario as B.", "FILE");
    QCommandLineOption shot_opt("screenshot", "Render the window offscreen to this PNG and exit.", "OUT.png");
    QCommandLineOption tab_opt("tab", "Tab to show: memory, time, communication, scaling, search, compare, measured.", "NAME");
    QCommandLineOption profile_opt("profile", "Open this measured-run JSON (Measured tab overlay).", "FILE");
    QCommandLineOption size_opt(
        "size", "Window size for --screenshot, WxH, each side 1 to 16384 pixels (default 1480x940).", "WxH");
    parser.addOptions({scenario_opt, pin_opt, shot_opt, tab_opt, profile_opt, size_opt});
    parser.process(app);
    std::optional<QSize> size;
    if (parser.isSet(size_opt) && !(size = parse_size(parser.value(size_opt)))) {
        say("--size: \"" + parser.value(size_opt) + "\" is not WIDTHxHEIGHT with each side from 1 to " +
            QString::number(kMaxScreenshotSide) + " pixels");
        return 2;
    }

    llmplan::gui::MainWindow window;
    auto load = [&](const QString& path) {
        QString error;
        if (!window.load_scenario(path, &error)) {
            say(error);
            return false;
        }
        return true;
    };
    if (parser.isSet(pin_opt)) {
        if (!load(parser.value(pin_opt))) return 2;
        window.pin();
    }
    if (parser.isSet(scenario_opt) && !load(parser.value(scenario_opt))) return 2;
    if (parser.isSet(profile_opt)) {
        QString error;
        if (!window.open_profile(parser.value(profile_opt), &error)) {
            say(error);
            return 2;
        }
    }
    if (parser.isSet(tab_opt)) {
        window.select_tab(parser.value(tab_opt));
        if (parser.value(tab_opt) == "search") window.run_search();
    }
    if (parser.isSet(shot_opt)) {
        if (size) window.resize(*size);
        window.show();
        QApplication::processEvents();
        if (window.showing_error()) say("input error: " + window.error_message());
        QByteArray png;
        QBuffer buffer(&png);
        if (!buffer.open(QIODevice::WriteOnly) || !window.grab().save(&buffer, "PNG")) {
            say("--screenshot: cannot render the window as PNG");
            return 1;
        }
        try {
            llmplan::write_output_file(parser.value(shot_opt).toStdString(),
                                       std::string_view(png.constData(), static_cast<std::size_t>(png.size())),
                                       "--screenshot");
        } catch (const std::exception& e) {
            say(e.what());
            return 1;
        }
        return 0;
    }
    window.show();
    return QApplication::exec();
}
