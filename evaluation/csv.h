// RFC-4180 CSV reading for the MMLU files: quoted fields (with embedded commas, doubled quotes and
// newlines), CRLF or LF row ends, no final newline; errors name the file and the line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct CsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based line of the file where the row starts
};

// Parses CSV text. `source` names the file in errors (an unterminated quote, a stray quote
// inside an unquoted field). A blank line between rows is skipped. Line ends inside quoted fields
// are kept as they are in the file (CRLF stays CRLF).
std::vector<CsvRow> parse_csv(const std::string& text, const std::string& source);

// Reads and parses a file; every row must have `expected_columns` fields (0: any), else an
// InputError names file, line and the counts.
std::vector<CsvRow> read_csv_file(const std::string& path, size_t expected_columns = 0);

}  // namespace lb
