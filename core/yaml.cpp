// yaml.cpp — the block-style YAML subset of yaml.h (the grammar: YAML 1.1 as PyYAML reads it,
// https://yaml.org/spec/1.1/ §§ 7-9; docs/IMPORTS.md, "Megatron Bridge", says which files it serves).
#include "core/yaml.h"

#include "core/error.h"
#include "core/text.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace llmplan {

namespace {

using Json = nlohmann::ordered_json;

constexpr int kMaxDepth = 100;
constexpr std::size_t kMaxNodes = 1'000'000;

struct Line {
    int indent = 0;    // leading spaces
    std::string rest;  // the text after them, as written (trailing blanks and \r removed)
    int number = 0;    // 1-based
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The line without its comment: '#' at the start or after a blank, outside quotes of this line.
std::string strip_comment(const std::string& s) {
    char quote = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (quote == '"') {
            if (c == '\\') ++i;
            else if (c == '"') quote = 0;
        } else if (quote == '\'') {
            if (c == '\'' && i + 1 < s.size() && s[i + 1] == '\'') ++i;  // '' is a quote inside the string
            else if (c == '\'') quote = 0;
        } else if ((c == '"' || c == '\'') && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '[' || s[i - 1] == '{' || s[i - 1] == ',' ||
                                               s[i - 1] == ':' || s[i - 1] == '-')) {
            quote = c;
        } else if (c == '#' && (i == 0 || s[i - 1] == ' ')) {
            return trim(s.substr(0, i));
        }
    }
    return trim(s);
}

// A quoted scalar written over several lines (its lines joined by '\n', each trimmed), folded as
// YAML 1.1 §9.1.4 says: a line break is a space, each empty line between two is a newline, and in
// "…" a backslash at the end of a line joins the next one directly.
std::string fold_quoted(const std::string& raw, char quote) {
    std::string out;
    std::size_t empties = 0;
    bool first = true;
    std::size_t start = 0;
    while (start <= raw.size()) {
        std::size_t end = raw.find('\n', start);
        if (end == std::string::npos) end = raw.size();
        const std::string piece = first ? raw.substr(start, end - start) : trim(raw.substr(start, end - start));
        if (first) {
            out = piece;
            while (!out.empty() && out.back() == ' ') out.pop_back();
            first = false;
        } else if (piece.empty() && end != raw.size()) {
            ++empties;
        } else {
            std::size_t slashes = 0;
            while (slashes < out.size() && out[out.size() - 1 - slashes] == '\\') ++slashes;
            if (quote == '"' && slashes % 2 == 1 && empties == 0) out.pop_back();
            else if (empties > 0) out.append(empties, '\n');
            else out.push_back(' ');
            empties = 0;
            out.append(piece);
        }
        if (end == raw.size()) break;
        start = end + 1;
    }
    return out;
}

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned long cp = 0;
        if (c < 0x80) { ++i; continue; }
        if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
        else return false;
        if (i + n >= s.size()) return false;
        for (std::size_t k = 1; k <= n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n + 1;
    }
    return true;
}

std::string spaces(int n) { return std::to_string(n) + (n == 1 ? " space" : " spaces"); }

bool is_dash_item(std::string_view content) { return content == "-" || starts_with(content, "- "); }

// PyYAML's resolution of a plain scalar.
Json resolve_plain(const std::string& s) {
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
        if (s == t) return true;
    for (const char* f : {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
        if (s == f) return false;
    // PyYAML's int and float patterns (resolver.py; sexagesimal 1:30 and .inf/.nan stay strings).
    std::size_t i = 0;
    const bool sign = s[0] == '-' || s[0] == '+';
    if (sign) i = 1;
    std::string body;
    for (std::size_t k = i; k < s.size(); ++k)
        if (s[k] != '_') body += s[k];
    if (body.empty()) return s;
    auto all = [&](std::size_t from, const char* set) { return from < body.size() && body.find_first_not_of(set, from) == std::string::npos; };
    int base = 0;
    std::size_t from = 0;
    if (body.size() > 2 && body[0] == '0' && body[1] == 'b' && all(2, "01")) base = 2, from = 2;
    else if (body.size() > 2 && body[0] == '0' && body[1] == 'x' && all(2, "0123456789abcdefABCDEF")) base = 16, from = 2;
    else if (body.size() > 1 && body[0] == '0' && all(1, "01234567")) base = 8, from = 1;
    else if (body == "0" || (body[0] != '0' && all(0, "0123456789"))) base = 10;
    if (base != 0 && !(s[i] == '_' && base == 10)) {
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(body.c_str() + from, &end, base);
        if (errno == 0 && *end == '\0') return s[0] == '-' ? -v : v;
        errno = 0;  // beyond 64 bits: a float, as Python's int would still compare
        const double d = std::strtod(body.c_str(), &end);
        if (base == 10 && errno == 0 && *end == '\0' && std::isfinite(d)) return s[0] == '-' ? -d : d;
        return s;
    }
    // [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?  or  \.[0-9_]+([eE][-+][0-9]+)? (no sign)
    const std::size_t dot = body.find('.');
    if (dot == std::string::npos || (dot == 0 && sign)) return s;
    const std::size_t e = body.find_first_of("eE");
    const std::string mantissa_int = body.substr(0, dot), frac = body.substr(dot + 1, e == std::string::npos ? std::string::npos : e - dot - 1);
    if (mantissa_int.find_first_not_of("0123456789") != std::string::npos || frac.find_first_not_of("0123456789") != std::string::npos) return s;
    if (dot == 0 && frac.empty()) return s;
    if (e != std::string::npos) {
        const std::string ex = body.substr(e + 1);
        if (ex.size() < 2 || (ex[0] != '-' && ex[0] != '+') || ex.find_first_not_of("0123456789", 1) != std::string::npos) return s;
    }
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(body.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(d)) return s;
    return s[0] == '-' ? -d : d;
    return s;
}

class Parser {
public:
    Parser(std::vector<Line> lines, std::string what) : lines_(std::move(lines)), what_(std::move(what)) {}

    Json document() {
        skip_blank();
        if (pos_ < lines_.size() && lines_[pos_].indent == 0 && (lines_[pos_].rest == "---" || starts_with(lines_[pos_].rest, "--- "))) {
            Line& l = lines_[pos_];
            const std::string after = trim(l.rest.substr(3));
            if (after.empty()) ++pos_;
            else l = Line{4, after, l.number};  // "--- value": the value is the document
            skip_blank();
        }
        Json doc = nullptr;
        if (pos_ < lines_.size() && !is_end(lines_[pos_])) doc = block(0);
        skip_blank();
        if (pos_ < lines_.size() && is_end(lines_[pos_])) {
            if (lines_[pos_].rest == "---" || starts_with(lines_[pos_].rest, "--- "))
                fail(lines_[pos_], "a second document (\"---\"): one document per file");
            ++pos_;
            skip_blank();
        }
        if (pos_ < lines_.size()) fail(lines_[pos_], "unexpected text after the document: \"" + excerpt(lines_[pos_].rest) + "\"");
        return doc;
    }

private:
    std::vector<Line> lines_;
    std::string what_;
    std::size_t pos_ = 0;
    int depth_ = 0;
    std::size_t nodes_ = 0;
    std::map<std::string, Json> anchors_;

    static bool is_end(const Line& l) { return l.indent == 0 && (l.rest == "..." || l.rest == "---" || starts_with(l.rest, "--- ")); }
    static std::string excerpt(const std::string& s) { return escape_controls(s.size() > 40 ? s.substr(0, 37) + "..." : s); }

    [[noreturn]] void fail(const Line& l, const std::string& why) const {
        throw InputError(what_ + ": line " + std::to_string(l.number) + ": " + why);
    }
    [[noreturn]] void fail_at_end(const std::string& why) const {
        throw InputError(what_ + ": line " + std::to_string(lines_.empty() ? 1 : lines_.back().number) + ": " + why);
    }
    void count(const Line& l, std::size_t n = 1) {
        nodes_ += n;
        if (nodes_ > kMaxNodes) fail(l, "more than " + format_int(static_cast<std::int64_t>(kMaxNodes)) + " values (aliases expanded)");
    }
    struct Deeper {
        Parser& p;
        Deeper(Parser& parser, const Line& l) : p(parser) {
            if (++p.depth_ > kMaxDepth) p.fail(l, "nested more than " + std::to_string(kMaxDepth) + " levels deep");
        }
        ~Deeper() { --p.depth_; }
    };

    void skip_blank() {
        while (pos_ < lines_.size() && strip_comment(lines_[pos_].rest).empty()) ++pos_;
    }

    // A node of block context whose first line is the next non-blank one, indented at least `min`.
    Json block(int min) {
        skip_blank();
        if (pos_ >= lines_.size()) fail_at_end("a value is missing at the end of the file");
        const Line& l = lines_[pos_];
        Deeper d(*this, l);
        if (l.indent < min) fail(l, "expected a value indented at least " + std::to_string(min) + " spaces");
        const std::string content = strip_comment(l.rest);
        if (is_dash_item(content)) return sequence(l.indent);
        if (mapping_key(content, l)) return mapping(l.indent);
        const int parent = min - 1;
        ++pos_;
        return inline_value(content, parent, lines_[pos_ - 1]);
    }

    // The key of a "key: value" line, or nothing when the line is not one.
    std::optional<std::pair<std::string, std::string>> mapping_key(const std::string& content, const Line& l) {
        if (content.empty() || content[0] == '[' || content[0] == '{' || content[0] == '&' || content[0] == '*' || content[0] == '!' ||
            content[0] == '|' || content[0] == '>' || content[0] == '%' || content[0] == '@' || content[0] == '`')
            return std::nullopt;
        if (starts_with(content, "? ") || content == "?") fail(l, "complex mapping keys (\"? \") are not read");
        std::string key;
        std::size_t i = 0;
        if (content[0] == '"' || content[0] == '\'') {
            const std::size_t close = quoted_end(content, 0);
            if (close == std::string::npos) return std::nullopt;
            key = unquote(content.substr(0, close + 1), l);
            i = close + 1;
            while (i < content.size() && content[i] == ' ') ++i;
            if (i >= content.size() || content[i] != ':' || (i + 1 < content.size() && content[i + 1] != ' ')) return std::nullopt;
        } else {
            std::size_t colon = std::string::npos;
            for (std::size_t k = 0; k < content.size(); ++k)
                if (content[k] == ':' && (k + 1 == content.size() || content[k + 1] == ' ')) {
                    colon = k;
                    break;
                }
            if (colon == std::string::npos) return std::nullopt;
            key = trim(content.substr(0, colon));
            i = colon;
            if (key.empty()) fail(l, "a mapping entry without a key");
        }
        if (key == "<<") fail(l, "merge keys (<<) are not read");
        return std::make_pair(key, trim(content.substr(i + 1)));
    }

    Json mapping(int indent) {
        Json m = Json::object();
        count(lines_[pos_]);
        while (true) {
            skip_blank();
            if (pos_ >= lines_.size() || is_end(lines_[pos_])) break;
            const Line& l = lines_[pos_];
            if (l.indent < indent) break;
            const std::string content = strip_comment(l.rest);
            if (l.indent > indent) fail(l, "unexpected indentation: " + spaces(l.indent) + " where the mapping above has " + spaces(indent));
            if (is_dash_item(content)) fail(l, "a sequence item where a mapping key was expected");
            const auto kv = mapping_key(content, l);
            if (!kv) fail(l, "expected \"key: value\", found \"" + excerpt(content) + "\"");
            const Line here = l;
            ++pos_;
            Json value;
            if (kv->second.empty()) value = nested(indent, here);
            else value = inline_value(kv->second, indent, here);
            m[kv->first] = std::move(value);
        }
        return m;
    }

    // The value of "key:" with nothing after the colon: a block on the following lines (more
    // indented, or a sequence at the key's own indentation), or null.
    Json nested(int indent, const Line& at) {
        skip_blank();
        if (pos_ < lines_.size() && !is_end(lines_[pos_])) {
            const Line& n = lines_[pos_];
            if (n.indent > indent) return block(indent + 1);
            if (n.indent == indent && is_dash_item(strip_comment(n.rest))) return sequence(indent);
        }
        count(at);
        return nullptr;
    }

    Json sequence(int indent) {
        Json a = Json::array();
        count(lines_[pos_]);
        while (true) {
            skip_blank();
            if (pos_ >= lines_.size() || is_end(lines_[pos_])) break;
            Line& l = lines_[pos_];
            if (l.indent < indent) break;
            const std::string content = strip_comment(l.rest);
            if (l.indent > indent) fail(l, "unexpected indentation: " + spaces(l.indent) + " where the sequence above has " + spaces(indent));
            if (!is_dash_item(content)) break;  // the mapping that holds an indentless sequence goes on
            std::size_t k = 1;
            while (k < l.rest.size() && l.rest[k] == ' ') ++k;
            if (k >= l.rest.size() || strip_comment(l.rest.substr(k)).empty()) {
                const Line here = l;
                ++pos_;
                skip_blank();
                if (pos_ < lines_.size() && !is_end(lines_[pos_]) && lines_[pos_].indent > indent) a.push_back(block(indent + 1));
                else {
                    count(here);
                    a.push_back(nullptr);
                }
            } else {
                // "- item": the item read as if it stood on its own line at its column.
                l = Line{indent + static_cast<int>(k), l.rest.substr(k), l.number};
                a.push_back(block(indent + 1));
            }
        }
        return a;
    }

    static std::size_t quoted_end(const std::string& s, std::size_t open) {
        const char q = s[open];
        for (std::size_t i = open + 1; i < s.size(); ++i) {
            if (q == '"' && s[i] == '\\') {
                ++i;
                continue;
            }
            if (s[i] == q) {
                if (q == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
                    ++i;
                    continue;
                }
                return i;
            }
        }
        return std::string::npos;
    }

    static void append_utf8(std::string& out, unsigned long cp) {
        if (cp < 0x80) out += static_cast<char>(cp);
        else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // A whole quoted scalar (quotes included; line breaks already folded into spaces) as its text.
    std::string unquote(const std::string& s, const Line& l) const {
        std::string out;
        const char q = s[0];
        for (std::size_t i = 1; i + 1 < s.size(); ++i) {
            const char c = s[i];
            if (q == '\'') {
                out += c;
                if (c == '\'') ++i;  // '' is one quote
                continue;
            }
            if (c != '\\') {
                out += c;
                continue;
            }
            if (++i + 1 > s.size() - 1) fail(l, "a backslash at the end of a quoted string");
            const char e = s[i];
            switch (e) {
                case 'n': out += '\n'; break;
                case 't': out += '\t'; break;
                case 'r': out += '\r'; break;
                case '0': out += '\0'; break;
                case ' ': out += ' '; break;
                case '/': out += '/'; break;
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case 'x': case 'u': case 'U': {
                    const std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + n >= s.size()) fail(l, std::string("\\") + e + " needs " + std::to_string(n) + " hexadecimal digits");
                    unsigned long cp = 0;
                    for (std::size_t k = 1; k <= n; ++k) {
                        const char h = s[i + k];
                        if (!std::isxdigit(static_cast<unsigned char>(h))) fail(l, std::string("\\") + e + " needs hexadecimal digits");
                        cp = cp * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
                    }
                    if (cp > 0x10FFFF) fail(l, "a character code above U+10FFFF");
                    append_utf8(out, cp);
                    i += n;
                    break;
                }
                default: fail(l, std::string("unknown escape \\") + e + " in a double-quoted string");
            }
        }
        return out;
    }

    // A value written after "key: " or "- " (or alone on a line), `parent` the indentation of the
    // line that holds it: continuation lines must be indented more.
    Json inline_value(std::string content, int parent, const Line& l) {
        Deeper d(*this, l);
        if (content[0] == '&') {
            const std::size_t sp = content.find(' ');
            const std::string name = content.substr(1, sp == std::string::npos ? std::string::npos : sp - 1);
            if (name.empty()) fail(l, "an anchor (&) without a name");
            const std::string rest = sp == std::string::npos ? "" : trim(content.substr(sp));
            Json v = rest.empty() ? nested(parent, l) : inline_value(rest, parent, l);
            anchors_[name] = v;
            return v;
        }
        if (content[0] == '*') {
            const std::string name = trim(content.substr(1));
            const auto it = anchors_.find(name);
            if (name.empty() || name.find(' ') != std::string::npos) fail(l, "an alias (*) must name one anchor");
            if (it == anchors_.end()) fail(l, "alias *" + excerpt(name) + " names no anchor above it");
            count(l, size_of(it->second));
            return it->second;
        }
        if (content[0] == '!') fail(l, "tags (\"" + excerpt(content.substr(0, content.find(' '))) + "\") are not read: write the value itself");
        if (content[0] == '[' || content[0] == '{') return flow_value(content, parent, l);
        if (content[0] == '"' || content[0] == '\'') {
            // Over several lines: folded (fold_quoted).
            std::string text = content;
            std::size_t close = quoted_end(text, 0);
            bool folded = false;
            while (close == std::string::npos) {
                if (pos_ >= lines_.size()) fail(l, std::string("the ") + content[0] + " quote is not closed");
                text.push_back('\n');
                text.append(trim(lines_[pos_].rest));
                ++pos_;
                folded = true;
                close = quoted_end(text, 0);
            }
            if (folded) {
                text = fold_quoted(text, content[0]);
                close = quoted_end(text, 0);
            }
            const std::string after = strip_comment(text.substr(close + 1));
            if (!after.empty()) fail(l, "text after a quoted string: \"" + excerpt(after) + "\"");
            count(l);
            return unquote(text.substr(0, close + 1), l);
        }
        if (content[0] == '|' || content[0] == '>') return block_scalar(content, parent, l);
        if (content[0] == '%' || content[0] == '@' || content[0] == '`') fail(l, "a plain value cannot start with " + content.substr(0, 1));
        // A plain scalar, folded with the following lines indented more than its parent.
        std::string text = content;
        while (pos_ < lines_.size() && !is_end(lines_[pos_]) && lines_[pos_].indent > parent) {
            const std::string more = strip_comment(lines_[pos_].rest);
            if (more.empty() || mapping_key(more, lines_[pos_]) || is_dash_item(more)) break;
            text.push_back(' ');
            text.append(more);
            ++pos_;
        }
        count(l);
        return resolve_plain(text);
    }

    Json block_scalar(const std::string& header, int parent, const Line& l) {
        const bool literal = header[0] == '|';
        char chomp = 0;
        for (std::size_t i = 1; i < header.size(); ++i) {
            const char c = header[i];
            if (c == '+' || c == '-') chomp = c;
            else if (!std::isdigit(static_cast<unsigned char>(c))) fail(l, "a block scalar's header is | or > with - or + only");
        }
        std::vector<std::string> body;
        int indent = -1;
        while (pos_ < lines_.size()) {
            const Line& n = lines_[pos_];
            if (trim(n.rest).empty()) {
                body.emplace_back();
                ++pos_;
                continue;
            }
            if (n.indent <= parent || (indent >= 0 && n.indent < indent)) break;
            if (indent < 0) indent = n.indent;
            body.push_back(std::string(static_cast<std::size_t>(n.indent - indent), ' ') + n.rest);
            ++pos_;
        }
        std::size_t trailing = 0;
        while (!body.empty() && body.back().empty()) {
            body.pop_back();
            ++trailing;
        }
        std::string out;
        for (std::size_t i = 0; i < body.size(); ++i) {
            if (i > 0) out += literal || body[i].empty() || body[i - 1].empty() ? "\n" : " ";
            out += body[i];
        }
        if (chomp != '-' && !body.empty()) out += '\n';
        if (chomp == '+') out += std::string(trailing, '\n');
        count(l);
        return out;
    }

    // [a, b], {k: v}: on this line or continued on the next ones until the brackets close.
    Json flow_value(std::string text, int parent, const Line& l) {
        auto balanced = [](const std::string& s) {
            int open = 0;
            char quote = 0;
            for (std::size_t i = 0; i < s.size(); ++i) {
                const char c = s[i];
                if (quote) {
                    if (quote == '"' && c == '\\') ++i;
                    else if (c == quote) quote = 0;
                } else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n')) {
                    while (i < s.size() && s[i] != '\n') ++i;
                } else if (c == '"' || c == '\'') quote = c;
                else if (c == '[' || c == '{') ++open;
                else if (c == ']' || c == '}') --open;
            }
            return open <= 0;
        };
        while (!balanced(text)) {
            if (pos_ >= lines_.size() || lines_[pos_].indent <= parent) fail(l, std::string("the ") + text[0] + " is not closed");
            text.push_back('\n');
            text.append(trim(lines_[pos_].rest));  // comments: skipped by the flow scanner
            ++pos_;
        }
        std::size_t i = 0;
        Json v = flow_node(text, i, l);
        skip_flow_blank(text, i);
        if (i < text.size()) fail(l, "text after a flow collection: \"" + excerpt(text.substr(i)) + "\"");
        return v;
    }

    // Blanks, line breaks and comments between the parts of a flow collection.
    static void skip_flow_blank(const std::string& s, std::size_t& i) {
        while (i < s.size()) {
            if (s[i] == ' ' || s[i] == '\n') ++i;
            else if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n'))
                while (i < s.size() && s[i] != '\n') ++i;
            else break;
        }
    }

    Json flow_node(const std::string& s, std::size_t& i, const Line& l) {
        Deeper d(*this, l);
        skip_flow_blank(s, i);
        if (i >= s.size()) fail(l, "a flow collection ends early");
        count(l);
        const char c = s[i];
        if (c == '[' || c == '{') {
            const char close = c == '[' ? ']' : '}';
            Json out = c == '[' ? Json::array() : Json::object();
            ++i;
            while (true) {
                skip_flow_blank(s, i);
                if (i >= s.size()) fail(l, std::string("the ") + c + " is not closed");
                if (s[i] == close) {
                    ++i;
                    return out;
                }
                if (c == '[') {
                    out.push_back(flow_node(s, i, l));
                } else {
                    Json key = flow_node(s, i, l);
                    if (!key.is_string() && !key.is_number() && !key.is_boolean()) fail(l, "a flow mapping's key must be a plain value");
                    const std::string k = key.is_string() ? key.get<std::string>() : key.dump();
                    skip_flow_blank(s, i);
                    if (i < s.size() && s[i] == ':') {
                        ++i;
                        out[k] = flow_node(s, i, l);
                    } else {
                        out[k] = nullptr;
                    }
                }
                skip_flow_blank(s, i);
                if (i < s.size() && s[i] == ',') ++i;
                else if (i >= s.size() || s[i] != close) fail(l, std::string("expected , or ") + close + " in a flow collection");
            }
        }
        if (c == '"' || c == '\'') {
            const std::size_t end = quoted_end(s, i);
            if (end == std::string::npos) fail(l, std::string("the ") + c + " quote is not closed");
            const std::string q = s.substr(i, end - i + 1);
            i = end + 1;
            return unquote(q.find('\n') == std::string::npos ? q : fold_quoted(q, c), l);
        }
        if (c == '*') {
            std::size_t e = i + 1;
            while (e < s.size() && s[e] != ',' && s[e] != ']' && s[e] != '}' && s[e] != ' ') ++e;
            const std::string name = s.substr(i + 1, e - i - 1);
            const auto it = anchors_.find(name);
            if (it == anchors_.end()) fail(l, "alias *" + excerpt(name) + " names no anchor above it");
            i = e;
            count(l, size_of(it->second));
            return it->second;
        }
        if (c == '&') {
            std::size_t e = i + 1;
            while (e < s.size() && s[e] != ' ' && s[e] != ',' && s[e] != ']' && s[e] != '}') ++e;
            const std::string name = s.substr(i + 1, e - i - 1);
            if (name.empty()) fail(l, "an anchor (&) without a name");
            i = e;
            Json v = flow_node(s, i, l);
            anchors_[name] = v;
            return v;
        }
        if (c == '!' || c == '|' || c == '>') fail(l, std::string("\"") + c + "\" inside a flow collection is not read");
        std::size_t e = i;
        while (e < s.size() && s[e] != ',' && s[e] != ']' && s[e] != '}' && !(s[e] == ':' && (e + 1 == s.size() || s[e + 1] == ' ' || s[e + 1] == '\n')) &&
               !(s[e] == '#' && e > i && (s[e - 1] == ' ' || s[e - 1] == '\n')))
            ++e;
        std::string plain = s.substr(i, e - i);
        for (char& ch : plain)
            if (ch == '\n') ch = ' ';
        i = e;
        if (trim(plain).rfind("? ", 0) == 0) fail(l, "complex mapping keys (\"? \") are not read");
        return resolve_plain(trim(plain));
    }

    static std::size_t size_of(const Json& v) {
        std::size_t n = 1;
        if (v.is_structured())
            for (const auto& child : v) n += size_of(child);
        return n;
    }
};

}  // namespace

Json read_yaml(const std::string& text, const std::string& what) {
    std::vector<Line> lines;
    int number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string raw = text.substr(start, end - start);
        ++number;
        if (!raw.empty() && raw.back() == '\r') raw.pop_back();
        std::size_t indent = 0;
        while (indent < raw.size() && raw[indent] == ' ') ++indent;
        if (indent < raw.size() && raw[indent] == '\t' && !trim(raw).empty())
            throw InputError(what + ": line " + std::to_string(number) + ": a tab in the indentation (YAML indents with spaces)");
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.pop_back();
        if (raw.find('\0') != std::string::npos) throw InputError(what + ": line " + std::to_string(number) + ": a NUL byte: not a text file");
        if (!valid_utf8(raw)) throw InputError(what + ": line " + std::to_string(number) + ": not UTF-8 text (YAML files are UTF-8)");
        if (number == 1 && starts_with(raw, "\xEF\xBB\xBF")) {  // a UTF-8 byte-order mark
            raw = raw.substr(3);
            indent = 0;
            while (indent < raw.size() && raw[indent] == ' ') ++indent;
        }
        if (!raw.empty() && raw[0] == '%' && indent == 0) {
            if (starts_with(raw, "%YAML") || starts_with(raw, "%TAG")) {
                start = end + 1;
                continue;  // directives: the subset needs none
            }
        }
        lines.push_back(Line{static_cast<int>(indent), raw.substr(std::min(indent, raw.size())), number});
        if (end == text.size()) break;
        start = end + 1;
    }
    return Parser(std::move(lines), what).document();
}

}  // namespace llmplan
