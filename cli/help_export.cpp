// help_export.cpp — see help_export.h. Man page markup: man(7) (groff's an macros); bash's
// programmable completion: bash(1), "Programmable Completion" (complete -F, COMP_WORDS, COMP_CWORD,
// COMPREPLY, compgen -W / -f).
#include "cli/help_export.h"

#include "core/config.h"
#include "core/gpu.h"
#include "core/presets.h"
#include "core/vocab.h"
#include "planner/quant.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <utility>

namespace llmplan::cli {

namespace {

struct ValueSetInfo {
    ValueSet set;
    const char* tag;  // the validator's name: "llmplan-values:<tag>"
};
constexpr std::array<ValueSetInfo, 8> kValueSets{{
    {ValueSet::gpu, "gpu"},
    {ValueSet::model, "model"},
    {ValueSet::framework, "framework"},
    {ValueSet::precision, "precision"},
    {ValueSet::optimizer, "optimizer"},
    {ValueSet::recompute, "recompute"},
    {ValueSet::attention, "attention"},
    {ValueSet::weights, "weights"},
}};

std::string validator_name(ValueSet set) {
    for (const ValueSetInfo& v : kValueSets)
        if (v.set == set) return std::string("llmplan-values:") + v.tag;
    return {};
}

// The words of a set, from the table its flag's parser reads.
std::vector<std::string> words_of(ValueSet set) {
    std::vector<std::string> w;
    switch (set) {
        case ValueSet::gpu:
            for (const GpuSpec& g : gpu_catalog()) w.push_back(g.name);
            break;
        case ValueSet::model:
            for (const Preset& p : model_presets()) w.push_back(p.name);
            break;
        case ValueSet::framework: w = framework_names(); break;
        case ValueSet::precision: w = precision_names(); break;
        case ValueSet::optimizer: w = optimizer_names(); break;
        case ValueSet::recompute: w.assign(kRecomputeNames.begin(), kRecomputeNames.end()); break;
        case ValueSet::attention: w.assign(kAttentionNames.begin(), kAttentionNames.end()); break;
        case ValueSet::weights: w = weight_format_names(); break;
    }
    return w;
}

std::string join_words(const std::vector<std::string>& words, const char* sep) {
    std::string s;
    for (const std::string& w : words) s += (s.empty() ? "" : sep) + w;
    return s;
}

bool shown(const CLI::Option* o) { return !o->get_group().empty(); }  // group "": hidden
bool takes_value(const CLI::Option* o) { return o->get_expected_max() > 0; }  // flags expect 0
bool completes_files(const CLI::Option* o) {
    const std::string t = o->get_type_name();
    return t == "FILE" || t == "PATH" || t == "CSV";
}

// Every command below `app` with its words ("plan", "profile calibrate"), depth first, in
// definition order.
void walk(const CLI::App* app, const std::string& path, std::vector<std::pair<std::string, const CLI::App*>>& out) {
    out.emplace_back(path, app);
    for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; }))
        walk(sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

// "profile calibrate" → "profile"; "plan" → "".
std::string parent_of(const std::string& path) {
    const std::size_t cut = path.find_last_of(' ');
    return cut == std::string::npos ? std::string() : path.substr(0, cut);
}

std::string page_name(const std::string& path) {
    std::string n = path.empty() ? "llmplan" : "llmplan-";
    for (char c : path) n += c == ' ' ? '-' : c;
    return n;
}

// --- roff ---------------------------------------------------------------------------------------

// Text for a roff line: backslashes escaped, a leading '.' or '\'' (a request) defused.
std::string roff_text(const std::string& s) {
    std::string r;
    for (char c : s) r += c == '\\' ? std::string("\\e") : std::string(1, c);
    if (!r.empty() && (r[0] == '.' || r[0] == '\'')) r = "\\&" + r;
    return r;
}

// Multi-line text as roff lines (empty lines become paragraph breaks).
std::string roff_lines(const std::string& s) {
    std::string out, line;
    std::istringstream in(s);
    while (std::getline(in, line)) out += line.empty() ? ".PP\n" : roff_text(line) + "\n";
    return out;
}

// A flag or command name in bold, its hyphens as roff's minus sign (so it can be searched and pasted).
std::string roff_name(const std::string& s) {
    std::string r;
    for (char c : s) r += c == '-' ? std::string("\\-") : c == '\\' ? std::string("\\e") : std::string(1, c);
    return r;
}

std::string option_heading(const CLI::Option* o) {
    std::string names;
    if (!o->nonpositional()) return "\\fI" + roff_name(o->get_name(true)) + "\\fR";
    for (const std::string& s : o->get_snames()) names += (names.empty() ? "" : ", ") + ("\\fB\\-" + roff_name(s) + "\\fR");
    for (const std::string& l : o->get_lnames()) names += (names.empty() ? "" : ", ") + ("\\fB\\-\\-" + roff_name(l) + "\\fR");
    if (takes_value(o)) names += " \\fI" + roff_name(o->get_type_name()) + "\\fR";
    return names;
}

std::string option_entry(const CLI::Option* o) {
    std::string text = o->get_description();
    if (o->get_required()) text += " (required)";
    if (!o->get_default_str().empty()) text += " (default: " + o->get_default_str() + ")";
    const std::vector<std::string> words = value_words(*o);
    std::string entry = ".TP\n" + option_heading(o) + "\n" + roff_lines(text);
    if (!words.empty()) entry += ".br\n" + roff_text("Values: " + join_words(words, ", ") + ".") + "\n";
    return entry;
}

std::string man_page(const std::string& path, const CLI::App* app, const std::string& version) {
    const std::string name = page_name(path);
    std::string upper;
    for (char c : name) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    const std::string command = path.empty() ? "llmplan" : "llmplan " + path;
    std::ostringstream p;
    p << ".\\\" Generated from llmplan's command-line definition (llmplan --help-man); do not edit.\n";
    p << ".TH " << roff_name(upper) << " 1 \"\" \"llmplan " << version << "\" \"llmplan manual\"\n.nh\n";  // .nh: no hyphenation, flags stay whole
    // NAME's text without a leading "llmplan — " (the top-level description starts with it).
    std::string summary = app->get_description();
    if (const std::string lead = command + " — "; summary.rfind(lead, 0) == 0) summary = summary.substr(lead.size());
    p << ".SH NAME\n" << roff_name(name) << " \\- " << roff_text(summary) << "\n";

    const auto subs = app->get_subcommands([](const CLI::App*) { return true; });
    std::vector<const CLI::Option*> positionals, flags;
    for (const CLI::Option* o : app->get_options())
        if (shown(o)) (o->nonpositional() ? flags : positionals).push_back(o);

    p << ".SH SYNOPSIS\n.B " << roff_name(command) << "\n";
    if (!flags.empty()) p << "[\\fIOPTIONS\\fR]\n";
    for (const CLI::Option* o : positionals)
        p << (o->get_required() ? "\\fI" : "[\\fI") << roff_name(o->get_name(true)) << (o->get_required() ? "\\fR\n" : "\\fR]\n");
    if (!subs.empty()) p << "[\\fICOMMAND\\fR [\\fIOPTIONS\\fR]]\n";

    p << ".SH DESCRIPTION\n" << roff_lines(app->get_description());
    if (!subs.empty()) {
        p << ".SH COMMANDS\n";
        for (const CLI::App* s : subs) {
            const std::string sub_path = path.empty() ? s->get_name() : path + " " + s->get_name();
            p << ".TP\n\\fB" << roff_name(s->get_name()) << "\\fR\n" << roff_lines(s->get_description())
              << ".br\nSee \\fB" << roff_name(page_name(sub_path)) << "\\fR(1).\n";
        }
    }
    if (!positionals.empty()) {
        p << ".SH ARGUMENTS\n";
        for (const CLI::Option* o : positionals) p << option_entry(o);
    }
    // Options by CLI11 group, in the order the groups first appear.
    std::vector<std::string> groups;
    for (const CLI::Option* o : flags)
        if (std::find(groups.begin(), groups.end(), o->get_group()) == groups.end()) groups.push_back(o->get_group());
    for (const std::string& g : groups) {
        p << ".SH " << (g == "Options" ? std::string("OPTIONS") : roff_text(g)) << "\n";
        for (const CLI::Option* o : flags)
            if (o->get_group() == g) p << option_entry(o);
    }
    if (const std::string footer = app->get_footer(); !footer.empty())
        p << ".SH NOTES\n.nf\n" << roff_lines(footer) << ".fi\n";
    p << ".SH SEE ALSO\n";
    std::vector<std::string> see;
    if (!path.empty()) see.push_back(page_name(parent_of(path)));
    for (const CLI::App* s : subs) see.push_back(page_name(path.empty() ? s->get_name() : path + " " + s->get_name()));
    for (std::size_t i = 0; i < see.size(); ++i) p << "\\fB" << roff_name(see[i]) << "\\fR(1)" << (i + 1 < see.size() ? ",\n" : "\n");
    if (see.empty()) p << "The documentation in /usr/share/doc/llmplan (docs/*.md).\n";
    return p.str();
}

// --- bash ---------------------------------------------------------------------------------------

// A word list as a single-quoted bash string (the words hold no quote; any would be closed and escaped).
std::string bash_quote(const std::string& s) {
    std::string r = "'";
    for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return r + "'";
}

}  // namespace

CLI::Validator values_of(ValueSet set) {
    CLI::Validator v([](std::string&) { return std::string(); }, "", validator_name(set));
    v.non_modifying();
    return v;
}

std::vector<std::string> value_words(const CLI::Option& option) {
    auto& o = const_cast<CLI::Option&>(option);  // CLI11 2.1 looks validators up only through a non-const Option
    for (const ValueSetInfo& v : kValueSets) {
        try {
            o.get_validator(validator_name(v.set));
            return words_of(v.set);
        } catch (const CLI::OptionNotFound&) {
        }
    }
    return {};
}

std::map<std::string, std::string> man_pages(const CLI::App& app, const std::string& version) {
    std::vector<std::pair<std::string, const CLI::App*>> commands;
    walk(&app, "", commands);
    std::map<std::string, std::string> pages;
    for (const auto& [path, a] : commands) pages[page_name(path) + ".1"] = man_page(path, a, version);
    return pages;
}

std::string bash_completion(const CLI::App& app) {
    std::vector<std::pair<std::string, const CLI::App*>> commands;
    walk(&app, "", commands);
    std::ostringstream s;
    s << "# bash completion for llmplan. Generated from llmplan's command-line definition\n"
         "# (llmplan --bash-completion FILE, at build time); do not edit.\n"
         "_llmplan() {\n"
         "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" path=\"\" i\n"
         "    (( COMP_CWORD > 0 )) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
         "    # --flag=value: bash splits at '=' (COMP_WORDBREAKS)\n"
         "    if [[ $cur == = ]]; then cur=\"\"; prev=\"${COMP_WORDS[COMP_CWORD-1]}\";\n"
         "    elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then prev=\"${COMP_WORDS[COMP_CWORD-2]}\"; fi\n"
         "    for (( i = 1; i < COMP_CWORD; i++ )); do\n"
         "        case \"$path|${COMP_WORDS[i]}\" in\n";
    for (const auto& [path, a] : commands) {
        if (path.empty()) continue;
        s << "            " << bash_quote(parent_of(path) + "|" + a->get_name()) << ") path=" << bash_quote(path) << " ;;\n";
    }
    s << "        esac\n"
         "    done\n"
         "    case \"$path|$prev\" in\n";
    // The flags that take a value: their set's words, file names, or nothing to offer.
    std::map<std::string, std::vector<std::string>> by_completion;  // bash action → case patterns
    for (const auto& [path, a] : commands) {
        for (const CLI::Option* o : a->get_options()) {
            if (!shown(o) || !o->nonpositional() || !takes_value(o)) continue;
            std::string action;
            if (const auto words = value_words(*o); !words.empty())
                action = "COMPREPLY=($(compgen -W " + bash_quote(join_words(words, " ")) + " -- \"$cur\"))";
            else if (completes_files(o))
                action = "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"))";
            else
                action = "COMPREPLY=()";
            for (const std::string& l : o->get_lnames()) by_completion[action].push_back(bash_quote(path + "|--" + l));
            for (const std::string& n : o->get_snames()) by_completion[action].push_back(bash_quote(path + "|-" + n));
        }
    }
    for (const auto& [action, patterns] : by_completion) {
        s << "        ";
        for (std::size_t i = 0; i < patterns.size(); ++i) s << (i ? "|" : "") << patterns[i];
        s << ")\n            " << action << "; return 0 ;;\n";
    }
    s << "    esac\n"
         "    local flags=\"\" words=\"\"\n"
         "    case \"$path\" in\n";
    for (const auto& [path, a] : commands) {
        std::vector<std::string> flags, words;
        for (const CLI::Option* o : a->get_options()) {
            if (!shown(o)) continue;
            if (o->nonpositional()) {
                for (const std::string& l : o->get_lnames()) flags.push_back("--" + l);
            } else {
                for (const std::string& w : value_words(*o)) words.push_back(w);
            }
        }
        for (const CLI::App* sub : a->get_subcommands([](const CLI::App*) { return true; })) words.push_back(sub->get_name());
        s << "        " << bash_quote(path) << ") flags=" << bash_quote(join_words(flags, " "))
          << "; words=" << bash_quote(join_words(words, " ")) << " ;;\n";
    }
    s << "    esac\n"
         "    if [[ $cur == -* ]]; then\n"
         "        COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
         "    else\n"
         "        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
         "    fi\n"
         "    return 0\n"
         "}\n"
         "complete -F _llmplan llmplan\n";
    return s.str();
}

}  // namespace llmplan::cli
