// text.cpp — small string helpers (see text.h): trimming, splitting, edit distance, suggestions.
#include "core/text.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <limits>

namespace llmplan {

namespace {

char lower_char(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Lower case without '-', '_' and '.': the form closest_match compares for containment.
std::string loose(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        if (c != '-' && c != '_' && c != '.') out += lower_char(c);
    return out;
}

}  // namespace

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = lower_char(c);
    return out;
}

std::string trim(std::string_view text) {
    std::size_t begin = 0, end = text.size();
    while (begin < end && is_space(text[begin])) ++begin;
    while (end > begin && is_space(text[end - 1])) --end;
    return std::string(text.substr(begin, end - begin));
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
        const std::size_t pos = text.find(sep, start);
        if (pos == std::string_view::npos) {
            fields.push_back(trim(text.substr(start)));
            return fields;
        }
        fields.push_back(trim(text.substr(start, pos - start)));
        start = pos + 1;
    }
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += sep;
        out += parts[i];
    }
    return out;
}

int edit_distance(std::string_view a, std::string_view b) {
    // One row of the dynamic-programming table at a time.
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];  // table[i-1][j-1]
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];  // table[i-1][j]
            const std::size_t cost = lower_char(a[i - 1]) == lower_char(b[j - 1]) ? 0 : 1;
            row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return static_cast<int>(std::min<std::size_t>(row[b.size()], std::numeric_limits<int>::max()));
}

std::vector<std::string> name_words(std::string_view name, const std::vector<std::string_view>& dropped) {
    std::vector<std::string> words;
    if (!std::all_of(name.begin(), name.end(), [](char ch) { return ch >= 0x20 && ch <= 0x7e; })) return words;
    std::string w;
    const auto flush = [&] {
        if (w.empty() || std::find(dropped.begin(), dropped.end(), w) != dropped.end()) {
            w.clear();
            return;
        }
        std::size_t letters = 0;
        while (letters < w.size() && std::isalpha(static_cast<unsigned char>(w[letters]))) ++letters;
        if (letters >= 3 && letters < w.size() && std::isdigit(static_cast<unsigned char>(w[letters]))) {
            words.push_back(w.substr(0, letters));
            w.erase(0, letters);
        }
        words.push_back(w);
        w.clear();
    };
    for (const char ch : name) {
        if (std::isalnum(static_cast<unsigned char>(ch))) w += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        else flush();
    }
    flush();
    return words;
}

std::optional<std::string> closest_match(std::string_view value, const std::vector<std::string>& options) {
    const std::string v = loose(value);
    if (v.empty()) return std::nullopt;

    // 1. Same name once case and separators are ignored.
    for (const std::string& option : options)
        if (loose(option) == v) return option;

    // 2. The value is an abbreviation of an option.
    const std::string* best = nullptr;
    int best_distance = std::numeric_limits<int>::max();
    if (v.size() >= 3) {
        for (const std::string& option : options) {
            if (loose(option).find(v) == std::string::npos) continue;
            const int d = edit_distance(value, option);
            if (d < best_distance) best = &option, best_distance = d;
        }
        if (best) return *best;
    }

    // 3. A near miss, or an option with something added to it.
    const int threshold = std::max(2, static_cast<int>(value.size() / 3));
    for (const std::string& option : options) {
        const std::string o = loose(option);
        const int d = edit_distance(value, option);
        const bool contained = o.size() >= 3 && v.find(o) != std::string::npos;
        if ((d <= threshold || contained) && d < best_distance) best = &option, best_distance = d;
    }
    if (best) return *best;
    return std::nullopt;
}

std::string escape_controls(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (u < 0x20 || u == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_int(std::int64_t n) {
    // Work on the magnitude as unsigned so that INT64_MIN has one too.
    const bool negative = n < 0;
    std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
    std::string digits;
    do {
        digits += static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude > 0);
    std::string out;
    if (negative) out += '-';
    for (std::size_t i = digits.size(); i > 0; --i) {
        out += digits[i - 1];
        if (i > 1 && (i - 1) % 3 == 0) out += ',';
    }
    return out;
}

}  // namespace llmplan
