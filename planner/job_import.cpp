// job_import.cpp — what the importers share (job_import.h): the record of taken, derived and
// ignored values, the report, and the argument-list splitter.
#include "planner/job_import.h"
#include "planner/job_import_detail.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"

namespace llmplan {

std::vector<ImportedValue> JobImport::applied() const {
    std::vector<ImportedValue> out;
    for (const auto* list : {&taken, &derived})
        for (const ImportedValue& v : *list)
            if (!v.overridden) out.push_back(v);
    return out;
}

nlohmann::ordered_json import_json(const JobImport& r) {
    auto values = [](const std::vector<ImportedValue>& list) {
        nlohmann::ordered_json a = nlohmann::ordered_json::array();
        for (const ImportedValue& v : list) {
            nlohmann::ordered_json e = {{"flag", v.flag}, {"value", v.value}, {"field", v.field}};
            if (!v.how.empty()) e["how"] = v.how;
            e["overridden"] = v.overridden;
            a.push_back(e);
        }
        return a;
    };
    nlohmann::ordered_json j = {{"flag", r.flag}, {"source", r.source}, {"taken", values(r.taken)},
                                {"derived", values(r.derived)}, {"ignored", nlohmann::ordered_json::array()}};
    for (const ImportIgnored& i : r.ignored) j["ignored"].push_back({{"field", i.field}, {"why", i.why}});
    return j;
}

namespace {

std::string overridden_note(const ImportedValue& v) {
    if (!v.overridden) return "";
    return v.flag.rfind("--", 0) == 0 ? "  (overridden by the explicit " + v.flag + ")"
                                      : std::string("  (overridden by --model, --hf-config or --params)");
}

}  // namespace

std::string import_text(const JobImport& r) {
    std::string s;
    const std::string head = "  ";
    s += r.flag + " " + escape_controls(r.source) + ":\n";
    // Every part may quote the file: control characters escaped, so none reaches the terminal.
    for (const ImportedValue& v : r.taken)
        s += head + "took    " + v.flag + " " + escape_controls(v.value) + "  ← " + escape_controls(v.field) + overridden_note(v) + "\n";
    for (const ImportedValue& v : r.derived)
        s += head + "derived " + v.flag + " " + escape_controls(v.value) + "  ← " + escape_controls(v.how) + overridden_note(v) + "\n";
    for (const ImportIgnored& i : r.ignored) s += head + "ignored " + escape_controls(i.field) + ": " + escape_controls(i.why) + "\n";
    return s;
}

namespace import_detail {

std::string argument_name(const std::string& field) {
    std::string a = "--" + field;
    for (char& c : a) c = c == '_' ? '-' : c;
    return a;
}

ArgumentList read_argument_list(const std::vector<std::string>& words, const ArgumentSyntax& syntax,
                                const std::function<void(const std::string&)>& word) {
    ArgumentList a;
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string w = words[i];
        if (const auto it = syntax.aliases.find(w); it != syntax.aliases.end()) w = it->second;
        if (w.rfind("--", 0) != 0 || (syntax.bare_dashes_are_words && w.size() == 2)) {
            word(w);
            continue;
        }
        std::string name = w, value;
        const std::size_t eq = w.find('=');
        if (eq != std::string::npos) {
            name = w.substr(0, eq);
            value = w.substr(eq + 1);
        }
        if (syntax.underscores_as_dashes)
            for (char& c : name) c = c == '_' ? '-' : c;
        if (eq == std::string::npos && !syntax.switches.count(name) && i + 1 < words.size() &&
            words[i + 1].rfind(syntax.value_stop, 0) != 0)
            value = words[++i];
        if (!a.values.count(name)) a.order.push_back(name);
        a.values[name] = value;
    }
    return a;
}

}  // namespace import_detail

std::vector<std::string> split_argument_words(const std::string& text, const std::string& what) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\' && i + 1 < text.size()) {
            if (text[i + 1] == '\n') {  // a continued line
                ++i;
                continue;
            }
            word += text[++i];
            in_word = true;
        } else if (c == '\'' || c == '"') {
            const std::size_t close = text.find(c, i + 1);
            if (close == std::string::npos)
                throw InputError(what + ": the " + std::string(1, c) + " quote at character " + std::to_string(i + 1) +
                                 " is not closed");
            word += text.substr(i + 1, close - i - 1);
            i = close;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else if (c == '#' && !in_word) {
            const std::size_t eol = text.find('\n', i);
            i = eol == std::string::npos ? text.size() : eol;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (in_word) words.push_back(word);
    return words;
}

namespace import_detail {

void Recorder::take(const std::string& flag, std::string& slot, const std::string& value, const std::string& field) {
    record(r.taken, flag, slot, value, field, "");
}

void Recorder::derive(const std::string& flag, std::string& slot, const std::string& value, const std::string& how) {
    record(r.derived, flag, slot, value, how, how);
}

void Recorder::record(std::vector<ImportedValue>& list, const std::string& flag, std::string& slot, const std::string& value,
                      const std::string& field, const std::string& how) {
    const bool over = given(flag);
    list.push_back({flag, value, field, how, over});
    if (!over) slot = value;
}

void Recorder::take_flag(const std::string& flag, bool& slot, bool value, const std::string& field) {
    const bool over = given(flag);
    r.taken.push_back({flag, value ? "true" : "false", field, "", over});
    if (!over) slot = value;
}

void Recorder::option(std::vector<std::string>& options, const std::string& key, const std::string& value,
                      const std::string& field, bool derived) {
    const std::string typed = key + "=" + value;
    bool over = false;
    for (const std::string& o : options) {
        const std::size_t eq = o.find('=');
        if (to_lower(trim(o.substr(0, eq))) == key) over = true;
    }
    (derived ? r.derived : r.taken).push_back({"--framework-option", typed, field, derived ? field : "", over});
    if (!over) options.push_back(typed);
}

void Recorder::ignore(const std::string& field, const std::string& why) { r.ignored.push_back({field, why}); }

std::int64_t Recorder::integer(const std::string& field, const std::string& text, std::int64_t lo, std::int64_t hi) const {
    return parse_int(text, r.flag + " " + r.source + ": " + field, lo, hi);
}

double Recorder::real(const std::string& field, const std::string& text, double lo, double hi) const {
    return parse_real(text, r.flag + " " + r.source + ": " + field, lo, hi);
}

void Recorder::fail(const std::string& field, const std::string& why) const {
    throw InputError(r.flag + " " + r.source + ": " + field + ": " + why);
}

std::int64_t Recorder::value_of(const std::string& text, const char* flag) const {
    return parse_int(text, flag, 1, std::int64_t{1} << 40);
}

std::int64_t Recorder::data_parallel(const JobText& job) const {
    const std::int64_t gpus = value_of(job.gpus, "--gpus"), tp = value_of(job.tp, "--tp"), pp = value_of(job.pp, "--pp"),
                       cp = value_of(job.cp, "--cp");
    if (gpus % (tp * pp * cp) != 0)
        throw InputError("--gpus " + job.gpus + " is not a multiple of --tp × --pp × --cp = " + std::to_string(tp * pp * cp));
    return gpus / (tp * pp * cp);
}

}  // namespace import_detail

}  // namespace llmplan
