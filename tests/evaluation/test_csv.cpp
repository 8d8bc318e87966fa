// RFC-4180 CSV reader on the quirks of the MMLU files: quoted newlines, CRLF, no final newline,
// doubled quotes, and errors that name file and line.
#include "core/json_io.h"
#include "evaluation/csv.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using namespace lb;

TEST_CASE("csv: quoted fields with commas, doubled quotes and embedded newlines") {
  auto rows = parse_csv("a,\"b, c\",\"say \"\"hi\"\"\"\n\"line1\nline2\",x,y\n", "t.csv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].fields == std::vector<std::string>{"a", "b, c", "say \"hi\""});
  CHECK(rows[1].fields == std::vector<std::string>{"line1\nline2", "x", "y"});
  CHECK(rows[0].line == 1);
  CHECK(rows[1].line == 2);
}

TEST_CASE("csv: CRLF rows, LF inside a quoted field of a CRLF file, CRLF inside a field") {
  auto rows = parse_csv("q1,\"a\nb\",B\r\nq2,\"c\r\nd\",C\r\n", "t.csv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].fields[1] == "a\nb");
  CHECK(rows[0].fields[2] == "B");  // no stray \r
  CHECK(rows[1].fields[1] == "c\r\nd");
  CHECK(rows[1].fields[2] == "C");
  CHECK(rows[1].line == 3);  // row 1 spans lines 1-2
}

TEST_CASE("csv: no final newline, empty fields, blank lines skipped") {
  auto rows = parse_csv("a,,c\n\nd,e,", "t.csv");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].fields == std::vector<std::string>{"a", "", "c"});
  CHECK(rows[1].fields == std::vector<std::string>{"d", "e", ""});
  CHECK(rows[1].line == 3);
  auto one = parse_csv("\"x\",1", "t.csv");
  REQUIRE(one.size() == 1);
  CHECK(one[0].fields == std::vector<std::string>{"x", "1"});
}

TEST_CASE("csv: malformed input names file and line") {
  try {
    parse_csv("a,b\nc,\"never closed\nmore", "bad.csv");
    FAIL("expected an error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("bad.csv:2") != std::string::npos);
  }
  CHECK_THROWS_WITH(parse_csv("a,b\"c\n", "q.csv"), Catch::Contains("q.csv:1"));
  CHECK_THROWS_WITH(parse_csv("a,\"b\"c\n", "q.csv"), Catch::Contains("q.csv:1"));
}

TEST_CASE("csv: wrong column count is an error with file and line") {
  const std::string path = "test_csv_columns.csv";
  {
    std::ofstream f(path, std::ios::binary);
    f << "q,1,2,3,4,A\r\n\"multi\nline\",1,2,3,4,B\r\nq3,1,2,3,C\r\n";
  }
  CHECK_NOTHROW(read_csv_file(path, 0));
  try {
    read_csv_file(path, 6);
    FAIL("expected an error");
  } catch (const InputError& e) {
    std::string msg = e.what();
    CHECK(msg.find(path + ":4") != std::string::npos);
    CHECK(msg.find("expected 6 columns, found 5") != std::string::npos);
  }
  std::remove(path.c_str());
}
