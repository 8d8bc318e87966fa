// RFC-4180 CSV reading (see csv.h): a small state machine over the bytes of the file.
#include "evaluation/csv.h"

#include "core/json_io.h"

namespace lb {

std::vector<CsvRow> parse_csv(const std::string& text, const std::string& source) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  int64_t line = 1;        // current line of the cursor
  int64_t row_line = 1;    // line where the current row began
  bool in_quotes = false;
  bool field_was_quoted = false;
  bool row_has_content = false;  // any byte or separator seen in this row
  int64_t quote_line = 0;

  auto end_field = [&]() {
    row.fields.push_back(std::move(field));
    field.clear();
    field_was_quoted = false;
  };
  auto end_row = [&]() {
    if (row_has_content) {
      end_field();
      row.line = row_line;
      rows.push_back(std::move(row));
    }
    row = CsvRow();
    field.clear();
    field_was_quoted = false;
    row_has_content = false;
  };

  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < n && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case ',':
        end_field();
        row_has_content = true;
        break;
      case '"':
        if (!field.empty() || field_was_quoted)
          throw InputError(source + ":" + std::to_string(line) +
                           ": a double quote inside a field that is not quoted (RFC 4180 requires the "
                           "whole field to be quoted and inner quotes doubled); fix the file");
        in_quotes = true;
        field_was_quoted = true;
        row_has_content = true;
        quote_line = line;
        break;
      case '\r':
        if (i + 1 < n && text[i + 1] == '\n') ++i;  // CRLF
        end_row();
        ++line;
        row_line = line;
        break;
      case '\n':
        end_row();
        ++line;
        row_line = line;
        break;
      default:
        if (field_was_quoted)
          throw InputError(source + ":" + std::to_string(line) +
                           ": text after the closing quote of a quoted field; fix the file");
        field.push_back(c);
        row_has_content = true;
    }
  }
  if (in_quotes)
    throw InputError(source + ":" + std::to_string(quote_line) +
                     ": a quoted field is never closed (unterminated double quote); fix the file");
  end_row();  // a last row without a final newline
  return rows;
}

std::vector<CsvRow> read_csv_file(const std::string& path, size_t expected_columns) {
  std::vector<CsvRow> rows = parse_csv(read_text_file(path), path);
  if (expected_columns) {
    for (const auto& r : rows)
      if (r.fields.size() != expected_columns)
        throw InputError(path + ":" + std::to_string(r.line) + ": expected " + std::to_string(expected_columns) +
                         " columns, found " + std::to_string(r.fields.size()) +
                         "; quote fields that contain commas, or fix the row");
  }
  return rows;
}

}  // namespace lb
