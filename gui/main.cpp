// main.cpp — llmplan-gui. With --screenshot it renders the window offscreen and exits:
//   llmplan-gui --scenario docs/images/gui_scenario.json --screenshot docs/images/gui.png [--tab memory] [--pin A.json] [--profile run.json]
#include "gui/main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QPixmap>

#include <cstdio>

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
    QCommandLineOption size_opt("size", "Window size for --screenshot, WxH (default 1480x940).", "WxH");
    parser.addOptions({scenario_opt, pin_opt, shot_opt, tab_opt, profile_opt, size_opt});
    parser.process(app);

    llmplan::gui::MainWindow window;
    auto load = [&](const QString& path) {
        QString error;
        if (!window.load_scenario(path, &error)) {
            std::fprintf(stderr, "llmplan-gui: %s\n", error.toUtf8().constData());
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
            std::fprintf(stderr, "llmplan-gui: %s\n", error.toUtf8().constData());
            return 2;
        }
    }
    if (parser.isSet(tab_opt)) {
        window.select_tab(parser.value(tab_opt));
        if (parser.value(tab_opt) == "search") window.run_search();
    }
    if (parser.isSet(shot_opt)) {
        if (parser.isSet(size_opt)) {
            const QStringList wh = parser.value(size_opt).split('x');
            if (wh.size() == 2) window.resize(wh[0].toInt(), wh[1].toInt());
        }
        window.show();
        QApplication::processEvents();
        if (window.showing_error())
            std::fprintf(stderr, "llmplan-gui: input error: %s\n", window.error_message().toUtf8().constData());
        if (!window.grab().save(parser.value(shot_opt), "PNG")) {
            std::fprintf(stderr, "llmplan-gui: cannot write %s\n", parser.value(shot_opt).toUtf8().constData());
            return 1;
        }
        return 0;
    }
    window.show();
    return QApplication::exec();
}
