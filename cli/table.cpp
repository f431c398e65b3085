// table.cpp — column widths, alignment and rules for the CLI's tables.
#include "cli/table.h"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace llmplan::cli {

std::size_t display_width(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right_align)
    : headers_(std::move(headers)), right_(std::move(right_align)) {
    right_.resize(headers_.size(), false);
}

void Table::add(std::vector<std::string> row) {
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

std::string fixed(double x, int decimals) {
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s << std::setprecision(decimals) << x;
    return s.str();
}

std::string bytes_text(double b) {
    if (b >= 1024.0 * 1024 * 1024) return fixed(b / (1024.0 * 1024 * 1024), 3) + " GiB";
    if (b >= 1024.0 * 1024) return fixed(b / (1024.0 * 1024), 2) + " MiB";
    return fixed(b / 1024.0, 1) + " KiB";
}

double pct_error(double measured, double predicted) { return measured != 0 ? 100.0 * (predicted - measured) / measured : 0.0; }

}  // namespace llmplan::cli
