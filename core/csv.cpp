// csv.cpp — RFC 4180 records and locale-independent numbers (csv.h).
#include "core/csv.h"

#include "core/error.h"
#include "core/text.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace llmplan {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Walks the text keeping the line and column (in code points) of the next character.
class Cursor {
public:
    explicit Cursor(std::string_view text) : text_(text) {}
    bool done() const { return at_ >= text_.size(); }
    char peek(std::size_t ahead = 0) const { return at_ + ahead < text_.size() ? text_[at_ + ahead] : '\0'; }
    bool has(std::size_t ahead) const { return at_ + ahead < text_.size(); }
    char take() {
        const char c = text_[at_++];
        if (c == '\n') ++line_, column_ = 1;
        else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column_;  // not a UTF-8 continuation byte
        return c;
    }
    // At a record's end: LF, CRLF, or a CR that ends the text.
    bool at_end_of_record() const { return peek() == '\n' || (peek() == '\r' && (peek(1) == '\n' || !has(1))); }
    void take_end_of_record() {
        if (peek() == '\r') ++at_;  // a CR does not move the column
        if (!done()) take();
    }
    int line() const { return line_; }
    int column() const { return column_; }

private:
    std::string_view text_;
    std::size_t at_ = 0;
    int line_ = 1, column_ = 1;
};

std::string position(const std::string& where, int line, int column) {
    return where + " line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string trim_blanks(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && is_blank(s[b])) ++b;
    while (e > b && is_blank(s[e - 1])) --e;
    return s.substr(b, e - b);
}

}  // namespace

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& where) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    Cursor c(text);
    std::vector<CsvRecord> records;
    while (!c.done()) {
        CsvRecord record;
        for (;;) {  // one field per pass
            CsvField field;
            field.line = c.line();
            field.column = c.column();
            std::size_t blanks = 0;
            while (is_blank(c.peek(blanks))) ++blanks;
            if (c.peek(blanks) == '"') {
                for (std::size_t i = 0; i < blanks; ++i) c.take();
                const int open_line = c.line(), open_column = c.column();
                c.take();
                for (;;) {
                    if (c.done())
                        throw InputError(position(where, open_line, open_column) +
                                         ": the quoted field that starts here has no closing quote");
                    const char ch = c.take();
                    if (ch != '"') {
                        field.text += ch;
                    } else if (c.peek() == '"') {
                        field.text += '"';
                        c.take();
                    } else {
                        break;
                    }
                }
                while (is_blank(c.peek())) c.take();
                if (!c.done() && c.peek() != ',' && !c.at_end_of_record())
                    throw InputError(position(where, c.line(), c.column()) + ": \"" +
                                     escape_controls(std::string(1, c.peek())) +
                                     "\" after a closing quote (expected a comma or the end of the line)");
            } else {
                while (!c.done() && c.peek() != ',' && !c.at_end_of_record()) field.text += c.take();
                field.text = trim_blanks(field.text);
            }
            record.push_back(std::move(field));
            if (c.peek() == ',') {
                c.take();
                continue;
            }
            if (!c.done()) c.take_end_of_record();
            break;
        }
        const bool blank_line = record.size() == 1 && record[0].text.empty();
        if (!blank_line) records.push_back(std::move(record));
    }
    return records;
}

double csv_number(const CsvField& field, const std::string& where, const std::string& name) {
    const std::string at = position(where, field.line, field.column) + " (" + name + ")";
    std::string_view s = field.text;
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    std::string shown = "\"";  // built in steps: GCC 12 warns (-Wrestrict) on "\"" + std::string
    shown += escape_controls(field.text);
    shown += '"';
    if (s.empty() || end != s.data() + s.size() || (ec != std::errc() && ec != std::errc::result_out_of_range))
        throw InputError(at + ": " + shown + " is not a number");
    if (ec == std::errc::result_out_of_range) throw InputError(at + ": " + shown + " is out of range");
    if (!std::isfinite(v)) throw InputError(at + ": " + shown + " is not a finite number");
    return v;
}

}  // namespace llmplan
