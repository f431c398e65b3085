// app.cpp — builds the CLI11 app from the subcommands, parses, dispatches, and turns every
// failure into one line and an exit code.
#include "cli/app.h"

#include "cli/commands.h"
#include "core/error.h"
#include "core/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace llmplan::cli {

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    CLI::App app{"llmplan — what an LLM training or serving job will cost, before it runs.", "llmplan"};
    app.set_version_flag("--version", std::string("llmplan ") + LLMPLAN_VERSION);
    app.require_subcommand(0, 1);
    app.footer("Examples:\n  llmplan plan --params 7B --gpus 8 --zero 3\n  llmplan plan --model llama-3-8b --gpu a100-80g "
               "--micro-batch 2 --recompute full --json\n"
               "  llmplan plan --model Qwen/Qwen3-8B --gpus 8 --zero 3   (after: hf download Qwen/Qwen3-8B config.json)\n"
               "  llmplan search --model llama-3-70b --gpus 1024\n"
               "  llmplan scaling --compute 5.76e23\n  llmplan infer --model llama-3-8b --weights int4 --batch 32\n"
               "  llmplan profile --model gpt2-124m --micro-batch 16 --seq 1024\n"
               "  llmplan models llama-2-70b\n"
               "  llmplan gpus");
    PlanCommand plan;
    ModelsCommand models;
    GpusCommand gpus;
    SearchCommand search;
    ScalingCommand scaling;
    InferCommand infer;
    ProfileCommand profile;
    ProfileCalibrateCommand calibrate;
    ProfileCommCommand comm;
    setup_plan(app, plan);
    setup_infer(app, infer);
    setup_search(app, search);
    setup_profile(app, profile);
    setup_profile_calibrate(*profile.app, calibrate);
    setup_profile_comm(*profile.app, comm);
    setup_scaling(app, scaling);
    setup_models(app, models);
    setup_gpus(app, gpus);

    std::string context = "llmplan";
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes arguments last-first
        app.parse(reversed);
        if (plan.app->parsed()) { context = "llmplan plan"; return run_plan(plan, out, err); }
        if (search.app->parsed()) { context = "llmplan search"; return run_search(search, out, err); }
        if (scaling.app->parsed()) { context = "llmplan scaling"; return run_scaling(scaling, out, err); }
        if (infer.app->parsed()) { context = "llmplan infer"; return run_infer(infer, out, err); }
        if (calibrate.app->parsed()) {
            context = "llmplan profile calibrate";
            return run_profile_calibrate(calibrate, out, err);
        }
        if (comm.app->parsed()) { context = "llmplan profile comm"; return run_profile_comm(comm, out, err); }
        if (profile.app->parsed()) { context = "llmplan profile"; return run_profile(profile, out, err); }
        if (models.app->parsed()) { context = "llmplan models"; return run_models(models, out, err); }
        if (gpus.app->parsed()) { context = "llmplan gpus"; return run_gpus(gpus, out, err); }
        out << app.help();
        return args.empty() ? 0 : 2;
    } catch (const CLI::CallForHelp&) {
        out << (plan.app->parsed() ? plan.app->help() : search.app->parsed() ? search.app->help()
                : scaling.app->parsed() ? scaling.app->help() : infer.app->parsed() ? infer.app->help()
                : calibrate.app->parsed() ? calibrate.app->help()
                : comm.app->parsed() ? comm.app->help()
                : profile.app->parsed() ? profile.app->help()
                : models.app->parsed() ? models.app->help()
                : gpus.app->parsed() ? gpus.app->help() : app.help());
        return 0;
    } catch (const CLI::CallForVersion& e) {
        out << e.what() << "\n";
        return 0;
    } catch (const CLI::ParseError& e) {
        for (CLI::App* sub : app.get_subcommands()) {
            context = "llmplan " + sub->get_name();
            for (CLI::App* nested : sub->get_subcommands()) context += " " + nested->get_name();
        }
        std::string msg = e.what();
        std::replace(msg.begin(), msg.end(), '\n', ' ');
        err << context << ": error: " << escape_controls(msg) << " (see " << context << " --help)\n";
        return 2;
    } catch (const InputError& e) {
        err << context << ": error: " << escape_controls(e.what()) << "\n";
        return 2;
    } catch (const nlohmann::json::exception& e) {
        // Every reader checks types before it reads (docs/RELIABILITY.md): one that did not is a
        // bug, reported in one line without the library's text.
        err << context << ": error: a JSON value of an unexpected type or a missing key reached a reader unchecked "
            << "(an llmplan bug; JSON error " << e.id << ")\n";
        return 1;
    } catch (const std::exception& e) {
        err << context << ": error: " << escape_controls(e.what()) << "\n";
        return 1;
    }
}

}  // namespace llmplan::cli
