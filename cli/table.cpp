// table.cpp — column widths, alignment and rules for the CLI's tables.
#include "cli/table.h"

#include "core/quantity.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace llmplan::cli {

std::size_t display_width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_align)
    : headers_(std::move(headers)), right_(std::move(right_align)) {
    right_.resize(headers_.size(), false);
}

namespace {

// A cell that prints "nan" or "inf" as a word (as to_chars and iostreams print them) came from a number that bypassed the
// format_* functions (core/quantity.h): an llmplan bug, caught here for every table.
void check_cell(const std::string& cell) {
    std::string word;
    for (std::size_t i = 0; i <= cell.size(); ++i) {
        const char c = i < cell.size() ? cell[i] : ' ';
        if (std::isalpha(static_cast<unsigned char>(c))) {
            word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            continue;
        }
        if (word == "nan" || word == "inf")
            throw std::logic_error("table cell \"" + cell + "\" prints a non-finite number (an llmplan bug)");
        word.clear();
    }
}

}  // namespace

void Table::add(std::vector<std::string> row) {
    for (const std::string& cell : row) check_cell(cell);
    row.resize(headers_.size());
    rows_.push_back(std::move(row));
}

void Table::rule() { rows_.emplace_back(); }

std::string Table::str(int indent) const {
    std::vector<std::size_t> width(headers_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));
    };
    measure(headers_);
    for (const auto& r : rows_) measure(r);
    std::size_t total = 0;
    for (std::size_t w : width) total += w + 2;
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    std::string out;
    auto line = [&](const std::vector<std::string>& row) {
        std::string l = pad;
        for (std::size_t i = 0; i < row.size(); ++i) {
            const std::string gap(width[i] - display_width(row[i]), ' ');
            const bool last = i + 1 == row.size();
            if (right_[i]) l += gap + row[i];
            else l += row[i] + (last ? "" : gap);
            if (!last) l += "  ";
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + "\n";
    };
    line(headers_);
    for (const auto& r : rows_) {
        // Rules span the columns but stop short of a long free-text last column.
        if (r.empty()) out += pad + std::string(std::min<std::size_t>(total > 2 ? total - 2 : 0, 72), '-') + "\n";
        else line(r);
    }
    return out;
}

std::string fixed(double x, int decimals) { return format_fixed(x, decimals); }

std::string bytes_text(double b) {
    if (b >= 1024.0 * 1024 * 1024) return fixed(b / (1024.0 * 1024 * 1024), 3) + " GiB";
    if (b >= 1024.0 * 1024) return fixed(b / (1024.0 * 1024), 2) + " MiB";
    return fixed(b / 1024.0, 1) + " KiB";
}

double pct_error(double measured, double predicted) { return measured != 0 ? 100.0 * (predicted - measured) / measured : 0.0; }

}  // namespace llmplan::cli
