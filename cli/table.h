// table.h — aligned plain-text tables for the CLI (UTF-8 aware column widths).
#pragma once

#include <string>
#include <vector>

namespace llmplan::cli {

class Table {
public:
    // right_align[i]: numbers are right-aligned; missing entries mean left.
    explicit Table(std::vector<std::string> headers, std::vector<bool> right_align = {});
    void add(std::vector<std::string> row);
    void rule();  // a separator line before the next row
    std::string str(int indent = 2) const;

private:
    std::vector<std::string> headers_;
    std::vector<bool> right_;
    std::vector<std::vector<std::string>> rows_;  // an empty row is a rule
};

// Display width of UTF-8 text (code points; the tables use no wide characters).
std::size_t display_width(const std::string& s);

// Cell text shared by the commands: x with `decimals` digits after the point; bytes in the unit
// that suits them (KiB, MiB with 2 decimals, GiB with 3: tiny CPU models are KiB, GPU runs GiB);
// 100 · (predicted − measured) / measured (0 when nothing was measured).
std::string fixed(double x, int decimals);
std::string bytes_text(double b);
double pct_error(double measured, double predicted);

}  // namespace llmplan::cli
