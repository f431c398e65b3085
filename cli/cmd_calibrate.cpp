// cmd_calibrate.cpp — `llmplan profile calibrate`: times every kernel of the training engine for
// a model on this GPU (profiler/calibrate.h) and writes the calibration file that
// `plan --framework llmplan --calibration FILE` and `profile --calibration FILE` use.
#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/file.h"
#include "core/quantity.h"
#include "core/text.h"
#include "profiler/calibrate.h"
#include "profiler/runner.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <map>
#include <sstream>

namespace llmplan::cli {

void setup_profile_calibrate(CLI::App& profile_app, ProfileCalibrateCommand& cmd) {
    cmd.app = profile_app.add_subcommand(
        "calibrate", "Time every kernel of the training engine for a model on this GPU and write a calibration file");
    add_model_options(*cmd.app, cmd.model);
    cmd.app->add_option("--precision", cmd.precision, "Storage types to measure: fp32, mixed-bf16, mixed-fp16 (comma list)")
        ->capture_default_str()
        ->type_name("LIST");
    cmd.app->add_option("--micro-batch", cmd.micro_batch, "Micro-batch sizes to measure (comma list); others are interpolated")
        ->capture_default_str()
        ->type_name("LIST");
    cmd.app->add_option("--seq", cmd.seq, "Sequence length")->capture_default_str()->type_name("N");
    cmd.app->add_option("--attention", cmd.attention, "Attention forms to measure: flash, eager (comma list)")
        ->capture_default_str()
        ->type_name("LIST");
    cmd.app->add_option("--out", cmd.out,
                        "Calibration file to write; an existing one (same GPU) keeps its other entries and keys")
        ->type_name("FILE");
    cmd.app->add_option("--kernel-table", cmd.kernel_table,
                        "Also write the measured GEMM (cuBLAS, the model's shapes) and copy rates as a kernel table: "
                        "`plan --kernel-table FILE` reads it over the GPU's built-in table, or alone on a GPU without one")
        ->type_name("FILE");
    cmd.app->add_flag("--dry-run", cmd.dry_run, "List the kernel shapes that would be measured, without a GPU");
    cmd.app->footer("Example:\n  llmplan profile calibrate --model gpt2-124m --precision mixed-bf16 --micro-batch 4,16 "
                    "--out h100.json\n  llmplan plan --model gpt2-124m --framework llmplan --micro-batch 8 --calibration "
                    "h100.json\n  llmplan profile calibrate --model llama-3.1-8b --micro-batch 1,2,4 --seq 4096 --out cal.json "
                    "--kernel-table my-gpu-kernels.json\n  llmplan plan --model llama-3.1-8b --gpu h100-sxm --kernel-table "
                    "my-gpu-kernels.json");
}

namespace {

int parse_positive(const std::string& text, const char* flag) {
    return static_cast<int>(parse_int(text, flag, 1, 1 << 20));
}

}  // namespace

int run_profile_calibrate(const ProfileCalibrateCommand& cmd, std::ostream& out, std::ostream& err) {
    profiler::CalibrateRequest req;
    req.model = resolve_model(cmd.model).spec;
    req.precisions.clear();
    for (const std::string& p : split(cmd.precision, ',')) {
        const Precision pr = parse_precision(p, "--precision");
        if (pr != Precision::fp32 && pr != Precision::mixed_bf16 && pr != Precision::mixed_fp16)
            throw InputError("--precision " + p + ": the engine runs fp32, mixed-bf16 and mixed-fp16");
        if (std::find(req.precisions.begin(), req.precisions.end(), pr) == req.precisions.end()) req.precisions.push_back(pr);
    }
    req.micro_batches.clear();
    for (const std::string& b : split(cmd.micro_batch, ',')) req.micro_batches.push_back(parse_positive(b, "--micro-batch"));
    req.seq = parse_positive(cmd.seq, "--seq");
    if (req.model.position == PositionEmbedding::learned && req.seq > req.model.max_positions)
        throw InputError("--seq " + cmd.seq + ": " + req.model.name + " has " + std::to_string(req.model.max_positions) +
                         " learned positions");
    req.attentions.clear();
    for (const std::string& a : split(cmd.attention, ',')) {
        const Attention at = parse_attention(a, "--attention");
        if (std::find(req.attentions.begin(), req.attentions.end(), at) == req.attentions.end()) req.attentions.push_back(at);
    }
    const std::vector<EngineKernelCall> shapes = profiler::calibration_shapes(req);  // refuses unsupported models
    if (cmd.dry_run) {
        Table t({"kernel", "dtype", "dims", "GFLOP", "MB moved"}, {false, false, false, true, true});
        for (const EngineKernelCall& s : shapes) {
            std::string dims;
            for (std::size_t i = 0; i < s.dims.size(); ++i) dims += (i ? "," : "") + std::to_string(s.dims[i]);
            t.add({to_string(s.kernel), to_string(s.dtype), dims, fixed(s.flops / 1e9, 2), fixed(s.bytes / 1e6, 2)});
        }
        out << "llmplan profile calibrate: " << shapes.size() << " kernel shapes for " << req.model.name
            << " (--dry-run: nothing measured)\n\n"
            << t.str();
        return 0;
    }
    if (cmd.out.empty()) throw InputError("--out: give the calibration file to write (or --dry-run to list the shapes)");
    if (!cmd.kernel_table.empty() && cmd.kernel_table == cmd.out)
        throw InputError("--kernel-table " + cmd.kernel_table + ": the same file as --out; give the kernel table its own file");
    const std::string existing = read_text_file_if_present(cmd.out, "--out").value_or("");
    (void)profiler::calibration_gpu();  // refuse in one line before any output
    err << "llmplan profile calibrate: " << req.model.name << ": timing " << shapes.size() << " kernel shapes\n";
    int last_percent = -1;
    const profiler::CalibrationRun run =
        profiler::run_calibration(req, [&](int done, int total, const std::string& what) {
            const int percent = 100 * done / std::max(1, total);
            if (percent / 10 != last_percent / 10 || done == total) {
                err << "llmplan profile calibrate: " << done << "/" << total << "  " << what << "\n";
                last_percent = percent;
            }
        });
    const std::string text = profiler::calibration_json(run, req, existing, "--out " + cmd.out);
    const std::string table =
        cmd.kernel_table.empty() ? std::string() : profiler::kernel_table_json(run, "--kernel-table " + cmd.kernel_table);
    write_output_file(cmd.out, text, "--out");
    if (!cmd.kernel_table.empty()) write_output_file(cmd.kernel_table, table, "--kernel-table");

    const std::map<std::string, profiler::BestRates> rates = profiler::best_rates(run.kernels);
    out << "llmplan profile calibrate: " << run.kernels.size() << " kernel shapes of " << req.model.name << " timed on "
        << run.gpu << " in " << fixed(run.seconds, 1) << " s -> " << cmd.out << "\n";
    out << "  launch floor " << fixed(run.launch_seconds * 1e6, 2) << " µs; device copy " << fixed(run.copy_bandwidth / 1e12, 2)
        << " TB/s (read + write)\n";
    for (const auto& [dt, r] : rates)
        out << "  " << dt << ": best matmul " << fixed(r.matmul_flops / 1e12, 1) << " TFLOP/s, best attention "
            << fixed(r.attention_flops / 1e12, 1) << " TFLOP/s\n";
    if (!run.skipped.empty()) {
        out << "  " << run.skipped.size() << " shapes could not be timed (the planner scales a neighbour for them):\n";
        for (const std::string& s : run.skipped) out << "    " << s << "\n";
    }
    out << "  use: llmplan plan --model " << req.model.name << " --framework llmplan --calibration " << cmd.out << "\n";
    if (!cmd.kernel_table.empty())
        out << "  kernel table -> " << cmd.kernel_table << " (GEMM rows of the model's shapes and a copy row); use: "
            << "llmplan plan --model " << req.model.name << " --kernel-table " << cmd.kernel_table << "\n";
    return 0;
}

}  // namespace llmplan::cli
