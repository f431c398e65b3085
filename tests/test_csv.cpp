// test_csv.cpp — core/csv.h: RFC 4180 records with their positions, and locale-independent numbers.
#include "core/csv.h"
#include "core/error.h"

#include <catch2/catch.hpp>

#include <clocale>
#include <string>
#include <vector>

using namespace llmplan;

namespace {

// The texts of every record's fields.
std::vector<std::vector<std::string>> texts(const std::string& csv) {
    std::vector<std::vector<std::string>> out;
    for (const CsvRecord& r : parse_csv(csv, "t.csv")) {
        out.emplace_back();
        for (const CsvField& f : r) out.back().push_back(f.text);
    }
    return out;
}

using Rows = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("parse_csv: plain records, LF or CRLF, blank lines skipped, fields trimmed", "[csv]") {
    CHECK(texts("a,b\n1,2\n") == Rows{{"a", "b"}, {"1", "2"}});
    CHECK(texts("a,b\r\n1,2\r\n") == Rows{{"a", "b"}, {"1", "2"}});
    CHECK(texts("a,b\r\n\r\n  \n1,2") == Rows{{"a", "b"}, {"1", "2"}});  // no newline at the end
    CHECK(texts("a,b\r") == Rows{{"a", "b"}});                             // a CR that ends the text
    CHECK(texts(" a \t, b ,,\n") == Rows{{"a", "b", "", ""}});
    CHECK(texts("").empty());
    CHECK(texts("\xEF\xBB\xBF").empty());
    // The byte-order mark is not part of the first name, and columns count after it.
    const std::vector<CsvRecord> bom = parse_csv("\xEF\xBB\xBFparams,loss\n", "t.csv");
    CHECK(bom[0][0].text == "params");
    CHECK(bom[0][0].column == 1);
    CHECK(bom[0][1].column == 8);
}

TEST_CASE("parse_csv: quoted fields keep commas, doubled quotes and line breaks", "[csv]") {
    CHECK(texts(R"("a,b","say ""hi""",c)") == Rows{{"a,b", "say \"hi\"", "c"}});
    CHECK(texts("\"two\r\nlines\",x\r\ny,z\r\n") == Rows{{"two\r\nlines", "x"}, {"y", "z"}});
    CHECK(texts(R"( "padded" , "" ,"")") == Rows{{"padded", "", ""}});
    CHECK(texts("ab\"c,d\n") == Rows{{"ab\"c", "d"}});  // a quote inside an unquoted field is kept
    // Positions: line and column of each field's first character, the quoted line break counted.
    const std::vector<CsvRecord> r = parse_csv("\"x\ny\",\"\xC3\xA9\",z\nw", "t.csv");
    REQUIRE(r.size() == 2);
    CHECK(r[0][1].line == 2);
    CHECK(r[0][1].column == 4);
    CHECK(r[0][2].column == 8);  // "é" is one character
    CHECK(r[1][0].line == 3);
    CHECK(r[1][0].column == 1);
}

TEST_CASE("parse_csv: broken quoting is one line naming the position", "[csv][errors]") {
    CHECK_THROWS_WITH(parse_csv("a,b\n1,\"2\n3\n", "--fit r.csv"),
                      "--fit r.csv line 2, column 3: the quoted field that starts here has no closing quote");
    CHECK_THROWS_WITH(parse_csv("a,\"b\"x,c\n", "--fit r.csv"),
                      "--fit r.csv line 1, column 6: \"x\" after a closing quote (expected a comma or the end of the line)");
    CHECK_THROWS_WITH(parse_csv("\"b\"\x01", "--fit r.csv"),
                      "--fit r.csv line 1, column 4: \"\\x01\" after a closing quote (expected a comma or the end of the line)");
}

TEST_CASE("csv_number: std::from_chars, whatever the locale", "[csv]") {
    const auto number = [](const std::string& text) { return csv_number(CsvField{text, 3, 7}, "--fit r.csv", "loss"); };
    CHECK(number("1e9") == 1e9);
    CHECK(number("+2.5") == 2.5);
    CHECK(number("-0.125") == -0.125);
    CHECK(number(".5") == 0.5);
    CHECK(number("6.02E23") == 6.02e23);
    // A locale with a decimal comma changes nothing (strtod would read "2.5" as 2 there).
    const std::string old = std::setlocale(LC_NUMERIC, nullptr);
    if (std::setlocale(LC_NUMERIC, "de_DE.UTF-8") || std::setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        CHECK(number("2.5") == 2.5);
        CHECK_THROWS_AS(number("2,5"), InputError);
    }
    std::setlocale(LC_NUMERIC, old.c_str());
    CHECK_THROWS_WITH(number("2,5"), "--fit r.csv line 3, column 7 (loss): \"2,5\" is not a number");
    CHECK_THROWS_WITH(number(""), "--fit r.csv line 3, column 7 (loss): \"\" is not a number");
    CHECK_THROWS_WITH(number("0x10"), "--fit r.csv line 3, column 7 (loss): \"0x10\" is not a number");
    CHECK_THROWS_WITH(number("1e999"), "--fit r.csv line 3, column 7 (loss): \"1e999\" is out of range");
    CHECK_THROWS_WITH(number("inf"), "--fit r.csv line 3, column 7 (loss): \"inf\" is not a finite number");
    CHECK_THROWS_WITH(number("nan"), "--fit r.csv line 3, column 7 (loss): \"nan\" is not a finite number");
    CHECK_THROWS_WITH(number("1\n2"), "--fit r.csv line 3, column 7 (loss): \"1\\n2\" is not a number");
}
