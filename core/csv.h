// csv.h — comma-separated values as RFC 4180 defines them and spreadsheets, pandas and R write
// them, and numbers in them read the same in every locale.
//
//   - A UTF-8 byte-order mark at the start is skipped (Excel's "CSV UTF-8" writes one).
//   - Records end at LF or CRLF; lines holding only spaces and tabs are skipped.
//   - A field that starts with '"' (after spaces or tabs) is quoted: commas, CR and LF inside it
//     are part of it and "" is one '"'; only spaces or tabs may follow its closing quote.
//   - Unquoted fields lose their leading and trailing spaces and tabs; a '"' inside one is kept.
// Errors are one InputError line "WHERE line L, column C: REASON"; columns count characters (UTF-8
// code points) from 1, lines count LF from 1, both in the file as given (after the mark).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

struct CsvField {
    std::string text;
    int line = 0, column = 0;  // where the field starts
};

using CsvRecord = std::vector<CsvField>;

std::vector<CsvRecord> parse_csv(std::string_view text, const std::string& where);

// A decimal number as std::from_chars reads it ("1e9", "-2.5", ".5", a leading '+' allowed;
// no locale, no hex, no surrounding spaces): the value, or InputError
// "WHERE line L, column C (NAME): "TEXT" is not a number" / "... is out of range" / "... is not a
// finite number" (inf, nan). NAME names the column ("loss").
double csv_number(const CsvField& field, const std::string& where, const std::string& name);

}  // namespace llmplan
