// Checked file I/O: text (plain or gzip), JSON with line numbers in syntax errors, JSONL with
// per-record errors, and atomic writes (temporary file + rename) so no result is ever half-written.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace lb {

// Any input problem: the message names the file, the line or record, and what to do.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a whole file; transparently gunzips when the name ends in ".gz".
std::string read_text_file(const std::string& path);

// Parses a JSON document; a syntax error names file, line and column.
nlohmann::json parse_json_text(const std::string& text, const std::string& source);
nlohmann::json read_json_file(const std::string& path);

// Calls fn(record, line_number) for each non-blank line of a JSONL file (".gz" accepted). A line
// that is not valid JSON throws InputError naming file and line, unless skip_bad is set: then it
// is counted in *skipped (which must be non-null) and reported by the caller.
void for_each_jsonl(const std::string& path,
                    const std::function<void(const nlohmann::json&, int64_t line)>& fn,
                    bool skip_bad = false, int64_t* skipped = nullptr);

// Writes through a temporary file in the same folder, fsyncs, then renames over `path`.
// Creates missing parent folders.
void write_file_atomic(const std::string& path, const std::string& content);
void write_json_atomic(const std::string& path, const nlohmann::json& j, int indent = 2);

// Field access with errors that name the source and the field.
const nlohmann::json& require_field(const nlohmann::json& obj, const char* field,
                                    const std::string& where);
std::string require_string(const nlohmann::json& obj, const char* field, const std::string& where);

bool file_exists(const std::string& path);

}  // namespace lb
