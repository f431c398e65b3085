// module.cpp — the `llmplan._llmplan` extension: the llmplan command line (cli/app.h) called
// in-process. The package (llmplan/__init__.py) turns keyword arguments into the CLI's flags and
// parses the JSON report; this file only runs the command line and hands back its exit code and
// its two outputs, so the Python results are the CLI's by construction (docs/PYTHON.md).
#include "cli/app.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

// One command line at a time: the GIL is released while the planner runs (a search may take
// seconds), and the planner's process-wide state (the GPU catalog, the framework registry) is
// set up once and read by one command line at a time, as in the CLI.
std::mutex run_mutex;

py::tuple run(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    int code = 0;
    {
        py::gil_scoped_release release;
        const std::lock_guard<std::mutex> lock(run_mutex);
        code = llmplan::cli::run(args, out, err);
    }
    return py::make_tuple(code, py::bytes(out.str()), py::bytes(err.str()));
}

}  // namespace

PYBIND11_MODULE(_llmplan, m) {
    m.doc() = "The llmplan command line, in-process (use the llmplan package, not this module)";
    m.def("run", &run, py::arg("args"),
          "Run `llmplan ARGS...` in this process; returns (exit code, stdout bytes, stderr bytes)");
    m.attr("__version__") = LLMPLAN_VERSION;
}
