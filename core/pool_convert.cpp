// Converters of public instruction pools to the messages format, validation and statistics of
// messages-format files; see pool_convert.h for the accepted formats and the rules.
#include "core/pool_convert.h"

#include "core/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace lb {
namespace {

using nlohmann::json;

const char* const kHint =
    "; fix or remove the record, or pass --skip-bad to skip bad records (they are counted and reported)";

bool is_blank(const std::string& s) { return s.find_first_not_of(" \t\r\n\v\f") == std::string::npos; }

std::string type_name(const json& j) { return j.is_null() ? "null" : j.type_name(); }

void require_object(const json& rec, const std::string& where, const char* expected) {
  if (!rec.is_object())
    throw RecordError("not a JSON object",
                      where + ": expected a JSON object with " + expected + ", got " + type_name(rec));
}

// A required string field: missing, null or not a string is a RecordError naming the field.
std::string req_string(const json& rec, const char* field, const std::string& where) {
  auto it = rec.find(field);
  if (it == rec.end())
    throw RecordError(std::string("missing field \"") + field + "\"",
                      where + ": missing field \"" + field + "\"");
  if (!it->is_string())
    throw RecordError(std::string("field \"") + field + "\" is not a string",
                      where + ": field \"" + field + "\" must be a string, got " + type_name(*it));
  return it->get<std::string>();
}

// An optional string field: absent or null gives "", any other non-string is a RecordError.
std::string opt_string(const json& rec, const char* field, const std::string& where) {
  auto it = rec.find(field);
  if (it == rec.end() || it->is_null()) return "";
  if (!it->is_string())
    throw RecordError(std::string("field \"") + field + "\" is not a string",
                      where + ": field \"" + field + "\" must be a string when present, got " + type_name(*it));
  return it->get<std::string>();
}

// The record's own id when it has one ("id": string or integer), else "<dataset>_<index>".
std::string record_id(const json& rec, const std::string& dataset, int64_t index, const std::string& where) {
  auto it = rec.find("id");
  if (it != rec.end() && !it->is_null()) {
    if (it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
    if (it->is_number_unsigned()) return std::to_string(it->get<uint64_t>());  // exact above 2^63 - 1
    if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
    throw RecordError("field \"id\" is not a string or integer",
                      where + ": field \"id\" must be a non-empty string or an integer when present, got " +
                          type_name(*it));
  }
  return dataset + "_" + std::to_string(index);
}

std::string join_prompt(const std::string& instruction, const std::string& input) {
  if (is_blank(input)) return instruction;
  if (is_blank(instruction)) return input;
  return instruction + "\n\n" + input;
}

Sample single_turn(std::string uid, const std::string& dataset, std::string user, std::string assistant) {
  Sample s;
  s.uid = std::move(uid);
  s.dataset = dataset;
  s.messages.push_back({"user", std::move(user)});
  s.messages.push_back({"assistant", std::move(assistant)});
  return s;
}

void check_not_blank(const std::string& text, const char* kind, const std::string& where, const std::string& what) {
  if (is_blank(text)) throw RecordError(kind, where + ": " + what);
}

// alpaca / codealpaca / dolly: instruction + optional input/context, one response field.
RecordOutcome convert_instruction_record(const json& rec, const std::string& dataset, const RecordLocation& loc,
                                         const char* input_field, const char* output_field, bool has_category) {
  const std::string where = loc.str();
  std::string fields = std::string("\"instruction\", \"") + input_field + "\" and \"" + output_field + "\"";
  require_object(rec, where, fields.c_str());
  std::string instruction = req_string(rec, "instruction", where);
  std::string input = opt_string(rec, input_field, where);
  std::string output = req_string(rec, output_field, where);
  if (has_category) opt_string(rec, "category", where);
  std::string user = join_prompt(instruction, input);
  check_not_blank(user, "empty prompt", where,
                  std::string("fields \"instruction\" and \"") + input_field + "\" are both empty");
  check_not_blank(output, "empty response", where, std::string("field \"") + output_field + "\" is empty");
  RecordOutcome out;
  out.samples.push_back(single_turn(record_id(rec, dataset, loc.index, where), dataset, std::move(user), std::move(output)));
  return out;
}

RecordOutcome convert_gsm8k(const json& rec, const std::string& dataset, const RecordLocation& loc) {
  const std::string where = loc.str();
  require_object(rec, where, "\"question\" and \"answer\"");
  std::string question = req_string(rec, "question", where);
  std::string answer = req_string(rec, "answer", where);
  check_not_blank(question, "empty prompt", where, "field \"question\" is empty");
  check_not_blank(answer, "empty response", where, "field \"answer\" is empty");
  size_t pos = answer.rfind("#### ");
  while (pos != std::string::npos && pos > 0 && answer[pos - 1] != '\n')
    pos = pos == 0 ? std::string::npos : answer.rfind("#### ", pos - 1);
  if (pos == std::string::npos)
    throw RecordError("answer without \"#### N\" line",
                      where + ": field \"answer\" has no final line \"#### <number>\", so this is not a GSM8K "
                              "train record (use --format alpaca or another format for other data)");
  RecordOutcome out;
  out.samples.push_back(single_turn(record_id(rec, dataset, loc.index, where), dataset, std::move(question), std::move(answer)));
  return out;
}

RecordOutcome convert_sharegpt(const json& rec, const std::string& dataset, const RecordLocation& loc) {
  const std::string where = loc.str();
  require_object(rec, where, "\"conversations\": [{\"from\", \"value\"}, ...]");
  auto it = rec.find("conversations");
  if (it == rec.end())
    throw RecordError("missing field \"conversations\"", where + ": missing field \"conversations\"");
  if (!it->is_array())
    throw RecordError("field \"conversations\" is not a list",
                      where + ": field \"conversations\" must be a list of {\"from\", \"value\"}, got " + type_name(*it));
  if (it->empty()) throw RecordError("empty conversation", where + ": field \"conversations\" is an empty list");
  Sample s;
  s.uid = record_id(rec, dataset, loc.index, where);
  s.dataset = dataset;
  std::string system = opt_string(rec, "system", where);
  if (!is_blank(system)) s.messages.push_back({"system", system});
  bool has_assistant = false;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& turn = (*it)[i];
    const std::string w = where + ": conversations[" + std::to_string(i) + "]";
    if (!turn.is_object())
      throw RecordError("turn is not a JSON object", w + ": expected {\"from\", \"value\"}, got " + type_name(turn));
    std::string from = req_string(turn, "from", w);
    std::string value = req_string(turn, "value", w);
    std::string role;
    if (from == "human" || from == "user")
      role = "user";
    else if (from == "gpt" || from == "assistant" || from == "chatgpt" || from == "bard" || from == "bing")
      role = "assistant";
    else if (from == "system")
      role = "system";
    else
      throw RecordError("unknown speaker",
                        w + ": field \"from\" is '" + from +
                            "'; expected human, gpt or system (also accepted: user, assistant, chatgpt, bard, bing)");
    if (is_blank(value))
      throw RecordError(role == "assistant" ? "empty response" : "empty prompt",
                        w + ": field \"value\" is empty (" + from + " turn)");
    has_assistant |= role == "assistant";
    s.messages.push_back({role, std::move(value)});
  }
  if (!has_assistant)
    throw RecordError("no assistant turn", where + ": no gpt turn in \"conversations\", so there is nothing to train on");
  RecordOutcome out;
  out.samples.push_back(std::move(s));
  return out;
}

RecordOutcome convert_ultrachat(const json& rec, const std::string& dataset, const RecordLocation& loc) {
  const std::string where = loc.str();
  require_object(rec, where, "\"data\": [user turn, assistant turn, ...]");
  auto it = rec.find("data");
  if (it == rec.end()) throw RecordError("missing field \"data\"", where + ": missing field \"data\"");
  if (!it->is_array())
    throw RecordError("field \"data\" is not a list",
                      where + ": field \"data\" must be a list of turns (strings, user first), got " + type_name(*it));
  if (it->empty()) throw RecordError("empty conversation", where + ": field \"data\" is an empty list");
  if (it->size() % 2 != 0)
    throw RecordError("odd number of turns",
                      where + ": field \"data\" has " + std::to_string(it->size()) +
                          " turns; UltraChat turns alternate user, assistant, so the last user turn has no answer "
                          "(remove it or the record)");
  Sample s;
  s.uid = record_id(rec, dataset, loc.index, where);
  s.dataset = dataset;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& turn = (*it)[i];
    const bool user = i % 2 == 0;
    const std::string w = where + ": data[" + std::to_string(i) + "] (" + (user ? "user" : "assistant") + " turn)";
    if (!turn.is_string())
      throw RecordError("turn is not a string", w + ": expected a string, got " + type_name(turn));
    if (is_blank(turn.get<std::string>()))
      throw RecordError(user ? "empty prompt" : "empty response", w + ": the turn is empty");
    s.messages.push_back({user ? "user" : "assistant", turn.get<std::string>()});
  }
  RecordOutcome out;
  out.samples.push_back(std::move(s));
  return out;
}

RecordOutcome convert_math(const json& rec, const std::string& dataset, const RecordLocation& loc) {
  const std::string where = loc.str();
  require_object(rec, where, "\"problem\" and \"solution\"");
  std::string problem = req_string(rec, "problem", where);
  std::string solution = req_string(rec, "solution", where);
  opt_string(rec, "level", where);  // checked, not kept: the messages format has no slot for them
  opt_string(rec, "type", where);
  check_not_blank(problem, "empty prompt", where, "field \"problem\" is empty");
  check_not_blank(solution, "empty response", where, "field \"solution\" is empty");
  RecordOutcome out;
  out.samples.push_back(single_turn(record_id(rec, dataset, loc.index, where), dataset, std::move(problem), std::move(solution)));
  return out;
}

bool is_none_constraint(const std::string& c) {
  std::string t;
  for (char ch : c)
    if (!std::isspace(static_cast<unsigned char>(ch))) t += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return t.empty() || t == "none" || t == "none.";
}

// One unnatural instance or reformulation.
Sample convert_unnatural_item(const json& item, const std::string& task_instruction, bool with_constraints,
                              std::string uid, const std::string& dataset, const std::string& where) {
  require_object(item, where, "\"instruction_with_input\" and \"output\"");
  std::string user;
  if (item.contains("instruction_with_input") && !item["instruction_with_input"].is_null()) {
    user = req_string(item, "instruction_with_input", where);
  } else {
    std::string instruction = opt_string(item, "instruction", where);
    if (instruction.empty()) instruction = task_instruction;
    if (is_blank(instruction))
      throw RecordError("missing field \"instruction_with_input\"",
                        where + ": missing field \"instruction_with_input\" (and no \"instruction\" to build it from)");
    user = join_prompt(instruction, opt_string(item, "input", where));
  }
  if (with_constraints) {
    std::string constraints = opt_string(item, "constraints", where);
    if (!is_none_constraint(constraints)) user += "\n" + constraints;
  }
  std::string output = req_string(item, "output", where);
  check_not_blank(user, "empty prompt", where, "field \"instruction_with_input\" is empty");
  check_not_blank(output, "empty response", where, "field \"output\" is empty");
  return single_turn(std::move(uid), dataset, std::move(user), std::move(output));
}

RecordOutcome convert_unnatural(const json& rec, const ConvertOptions& opts, const std::string& dataset,
                                const RecordLocation& loc) {
  const std::string where = loc.str();
  require_object(rec, where, "\"instruction\" and \"instances\": [{\"instruction_with_input\", \"output\"}, ...]");
  auto inst = rec.find("instances");
  if (inst == rec.end()) throw RecordError("missing field \"instances\"", where + ": missing field \"instances\"");
  if (!inst->is_array())
    throw RecordError("field \"instances\" is not a list",
                      where + ": field \"instances\" must be a list of {\"instruction_with_input\", \"output\"}, got " +
                          type_name(*inst));
  const json empty_list = json::array();
  const json* reform = &empty_list;
  if (auto r = rec.find("reformulations"); r != rec.end() && !r->is_null()) {
    if (!r->is_array())
      throw RecordError("field \"reformulations\" is not a list",
                        where + ": field \"reformulations\" must be a list when present, got " + type_name(*r));
    if (opts.unnatural_reformulations) reform = &*r;
  }
  if (inst->empty() && reform->empty())
    throw RecordError("no instances", where + ": field \"instances\" is an empty list");
  std::string task_instruction = opt_string(rec, "instruction", where);
  const std::string prefix = dataset + "_" + std::to_string(loc.index) + "_";
  RecordOutcome out;
  auto take = [&](const json& list, const char* name, const char* tag, bool constraints) {
    for (size_t k = 0; k < list.size(); ++k) {
      const std::string w = where + ": " + name + "[" + std::to_string(k) + "]";
      try {
        out.samples.push_back(convert_unnatural_item(list[k], task_instruction, constraints,
                                                     prefix + tag + std::to_string(k), dataset, w));
      } catch (const RecordError& e) {
        out.rejections.push_back({w, e.kind, e.what()});
      }
    }
  };
  take(*inst, "instances", "", opts.unnatural_constraints);
  take(*reform, "reformulations", "r", false);
  return out;
}

std::string parse_error_text(const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  auto p = what.find("syntax error");
  if (p != std::string::npos) return what.substr(p);
  p = what.find("] ");
  return p == std::string::npos ? what : what.substr(p + 2);
}

// Parses one record's text; on failure returns false and sets the error and the line of the error.
bool parse_record(const std::string& text, size_t begin, size_t end, int64_t first_line, json* out,
                  std::string* error, int64_t* error_line) {
  try {
    *out = json::parse(text.begin() + static_cast<std::ptrdiff_t>(begin), text.begin() + static_cast<std::ptrdiff_t>(end));
    return true;
  } catch (const json::parse_error& e) {
    *error = parse_error_text(e);
    size_t upto = std::min(end, begin + (e.byte == 0 ? 0 : static_cast<size_t>(e.byte - 1)));
    *error_line = first_line + std::count(text.begin() + static_cast<std::ptrdiff_t>(begin),
                                          text.begin() + static_cast<std::ptrdiff_t>(upto), '\n');
    return false;
  } catch (const json::out_of_range& e) {  // a number beyond a double's range (1e999): no position given
    const std::string what = e.what();
    const auto p = what.find("number overflow");
    *error = p == std::string::npos ? what : what.substr(p);
    *error_line = first_line;
    return false;
  }
}

// First clause of an InputError from Pool::sample_from_json, without its location and with list
// indices blanked, for counting rejections by kind.
std::string kind_of_message(const std::string& message, const std::string& where) {
  std::string k = message.compare(0, where.size(), where) == 0 ? message.substr(where.size()) : message;
  while (!k.empty() && (k[0] == ':' || k[0] == ' ')) k.erase(0, 1);
  size_t cut = k.find_first_of(";('");
  if (cut != std::string::npos) k = k.substr(0, cut);
  std::string out;
  for (size_t i = 0; i < k.size(); ++i) {
    out += k[i];
    if (k[i] == '[') {
      while (i + 1 < k.size() && std::isdigit(static_cast<unsigned char>(k[i + 1]))) ++i;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ',')) out.pop_back();
  return out;
}

uint64_t hash_bytes(uint64_t h, const std::string& s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t finish_hash(uint64_t h) {  // splitmix64 finaliser
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;

int64_t code_points(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

json summary_json(const LengthSummary& s) {
  return {{"n", s.n}, {"mean", s.mean}, {"p5", s.p5}, {"p50", s.p50}, {"p95", s.p95}};
}

json lengths_json(const LengthStats& l) {
  return {{"prompt_tokens", summary_json(l.prompt_tokens)},
          {"response_tokens", summary_json(l.response_tokens)},
          {"prompt_chars", summary_json(l.prompt_chars)},
          {"response_chars", summary_json(l.response_chars)}};
}

}  // namespace

// ---- formats, locations, tallies ---------------------------------------------------------------

SourceFormat parse_source_format(const std::string& name) {
  for (SourceFormat f : {SourceFormat::alpaca, SourceFormat::codealpaca, SourceFormat::dolly, SourceFormat::unnatural,
                         SourceFormat::gsm8k, SourceFormat::sharegpt, SourceFormat::ultrachat, SourceFormat::math})
    if (name == source_format_name(f)) return f;
  throw InputError("unknown pool format '" + name + "'; expected one of " + source_format_choices());
}

const char* source_format_name(SourceFormat f) {
  switch (f) {
    case SourceFormat::alpaca: return "alpaca";
    case SourceFormat::codealpaca: return "codealpaca";
    case SourceFormat::dolly: return "dolly";
    case SourceFormat::unnatural: return "unnatural";
    case SourceFormat::gsm8k: return "gsm8k";
    case SourceFormat::sharegpt: return "sharegpt";
    case SourceFormat::ultrachat: return "ultrachat";
    case SourceFormat::math: return "math";
  }
  return "?";
}

std::string source_format_choices() { return "alpaca|codealpaca|dolly|unnatural|gsm8k|sharegpt|ultrachat|math"; }

SourceFormat detect_source_format(const std::string& path) {
  struct Found {};
  json first;
  std::string where;
  try {
    for_each_source_record(path, [&](const json* rec, const RecordLocation& loc, const std::string&) {
      if (rec && rec->is_object()) {
        first = *rec;
        where = loc.str();
        throw Found{};
      }
    });
  } catch (const Found&) {
  }
  if (where.empty())
    throw InputError(path + ": no record is a JSON object, so the format cannot be detected; check the file");
  auto has = [&](const char* k) { return first.contains(k); };
  if (has("conversations")) return SourceFormat::sharegpt;
  if (has("instances")) return SourceFormat::unnatural;
  if (has("question") && has("answer")) return SourceFormat::gsm8k;
  if (has("instruction") && has("response")) return SourceFormat::dolly;
  if (has("data")) return SourceFormat::ultrachat;
  if (has("problem") && has("solution")) return SourceFormat::math;
  std::string keys;
  for (auto it = first.begin(); it != first.end(); ++it) keys += (keys.empty() ? "" : ", ") + it.key();
  if (has("instruction") && has("output"))
    throw InputError(where + ": fields {" + keys +
                     "} fit both alpaca and codealpaca (the same layout); give the format explicitly "
                     "(--format alpaca or --format codealpaca)");
  throw InputError(where + ": fields {" + keys + "} match no known pool format; give the format explicitly, one of " +
                   source_format_choices());
}

std::string RecordLocation::str() const {
  return file + ":" + std::to_string(line) + " (record " + std::to_string(index) + ")";
}

RecordError::RecordError(std::string k, const std::string& message) : InputError(message), kind(std::move(k)) {}

void RecordTally::reject(Rejection r) {
  ++rejected;
  ++rejected_by_kind[r.kind];
  if (static_cast<int>(first_rejections.size()) < kListed) first_rejections.push_back(std::move(r));
}

std::string RecordTally::summary() const {
  std::ostringstream o;
  o << "records read: " << records << ", samples kept: " << accepted << ", rejected: " << rejected << "\n";
  if (rejected > 0) {
    o << "rejected by reason:\n";
    std::vector<std::pair<std::string, int64_t>> kinds(rejected_by_kind.begin(), rejected_by_kind.end());
    std::stable_sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [k, n] : kinds) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "  %10lld  ", static_cast<long long>(n));
      o << buf << k << "\n";
    }
    o << "first " << first_rejections.size() << " rejected:\n";
    for (const auto& r : first_rejections) o << "  " << r.message << "\n";
  }
  return o.str();
}

nlohmann::json RecordTally::to_json() const {
  json first = json::array();
  for (const auto& r : first_rejections) first.push_back({{"where", r.where}, {"kind", r.kind}, {"message", r.message}});
  json by_kind = json::object();
  for (const auto& [k, n] : rejected_by_kind) by_kind[k] = n;
  return {{"records", records}, {"accepted", accepted}, {"rejected", rejected},
          {"rejected_by_kind", by_kind}, {"first_rejections", first}};
}

// ---- reading source records --------------------------------------------------------------------

void for_each_source_record(
    const std::string& path,
    const std::function<void(const json* record, const RecordLocation& where, const std::string& parse_error)>& fn) {
  const std::string text = read_text_file(path);
  const size_t n = text.size();
  size_t i = 0;
  int64_t line = 1;
  if (n >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  auto skip_ws = [&] {
    while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) {
      if (text[i] == '\n') ++line;
      ++i;
    }
  };
  skip_ws();
  int64_t index = 0;
  if (i < n && text[i] == '[') {
    // One JSON array: find each element's span (strings and nesting aware), parse it on its own.
    ++i;
    bool after_comma = false;
    for (;;) {
      skip_ws();
      if (i >= n)
        throw InputError(path + ":" + std::to_string(line) +
                         ": the file ends before the closing ']' of its array; the file is truncated, re-create it");
      if (text[i] == ']') {
        if (after_comma)
          throw InputError(path + ":" + std::to_string(line) + ": a ',' is followed by ']' (a trailing comma after record " +
                           std::to_string(index - 1) + "); remove the comma");
        ++i;
        break;
      }
      const size_t begin = i;
      const int64_t begin_line = line;
      int depth = 0;
      bool in_string = false, escaped = false;
      for (; i < n; ++i) {
        const char c = text[i];
        if (c == '\n') ++line;
        if (in_string) {
          if (escaped)
            escaped = false;
          else if (c == '\\')
            escaped = true;
          else if (c == '"')
            in_string = false;
          continue;
        }
        if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (depth == 0 && c == ']') break;
          if (depth > 0) --depth;
        } else if (c == ',' && depth == 0) {
          break;
        }
      }
      if (i >= n)
        throw InputError(path + ":" + std::to_string(begin_line) + " (record " + std::to_string(index) +
                         "): the file ends inside this record (an unclosed string, '{' or '['), so the records after "
                         "it cannot be found; fix the record or re-create the file");
      size_t end = i;
      while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
      RecordLocation loc{path, begin_line, index};
      json rec;
      std::string err;
      int64_t err_line = begin_line;
      if (end == begin) {
        loc.line = begin_line;
        fn(nullptr, loc, "empty record between commas");
      } else if (parse_record(text, begin, end, begin_line, &rec, &err, &err_line)) {
        fn(&rec, loc, "");
      } else {
        loc.line = err_line;
        fn(nullptr, loc, err);
      }
      ++index;
      after_comma = text[i] == ',';
      ++i;
      if (!after_comma) break;  // the closing ']'
    }
    skip_ws();
    if (i < n)
      throw InputError(path + ":" + std::to_string(line) +
                       ": unexpected text after the closing ']' of the array; remove it (one JSON array or JSONL "
                       "with one record a line is expected)");
    return;
  }
  // JSONL: one record a non-blank line.
  size_t start = i;
  while (start < n) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = n;
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    bool blank = true;
    for (size_t k = start; k < stop && blank; ++k) blank = text[k] == ' ' || text[k] == '\t';
    if (!blank) {
      RecordLocation loc{path, line, index};
      json rec;
      std::string err;
      int64_t err_line = line;
      if (parse_record(text, start, stop, line, &rec, &err, &err_line))
        fn(&rec, loc, "");
      else
        fn(nullptr, loc, err);
      ++index;
    }
    ++line;
    start = end + 1;
  }
}

// ---- conversion --------------------------------------------------------------------------------

RecordOutcome convert_record(const json& record, const ConvertOptions& opts, const RecordLocation& where) {
  const std::string dataset = opts.dataset.empty() ? source_format_name(opts.format) : opts.dataset;
  switch (opts.format) {
    case SourceFormat::alpaca:
    case SourceFormat::codealpaca: return convert_instruction_record(record, dataset, where, "input", "output", false);
    case SourceFormat::dolly: return convert_instruction_record(record, dataset, where, "context", "response", true);
    case SourceFormat::gsm8k: return convert_gsm8k(record, dataset, where);
    case SourceFormat::sharegpt: return convert_sharegpt(record, dataset, where);
    case SourceFormat::unnatural: return convert_unnatural(record, opts, dataset, where);
    case SourceFormat::ultrachat: return convert_ultrachat(record, dataset, where);
    case SourceFormat::math: return convert_math(record, dataset, where);
  }
  throw InputError("unknown pool format");
}

Pool convert_pool_file(const std::string& input, const ConvertOptions& opts, RecordTally* tally) {
  RecordTally local;
  RecordTally& t = tally ? *tally : local;
  t = RecordTally{};
  Pool pool;
  std::unordered_map<std::string, std::string> first_use;  // uid -> location of its first record
  auto fail = [&](Rejection r) {
    if (!opts.skip_bad) throw InputError(r.message + kHint);
    t.reject(std::move(r));
  };
  for_each_source_record(input, [&](const json* rec, const RecordLocation& loc, const std::string& parse_error) {
    ++t.records;
    const std::string where = loc.str();
    if (!rec) {
      fail({where, "invalid JSON", where + ": invalid JSON (" + parse_error + ")"});
      return;
    }
    RecordOutcome out;
    try {
      out = convert_record(*rec, opts, loc);
    } catch (const RecordError& e) {
      fail({where, e.kind, e.what()});
      return;
    }
    for (auto& r : out.rejections) fail(std::move(r));
    for (auto& s : out.samples) {
      auto seen = first_use.find(s.uid);
      if (seen != first_use.end()) {
        fail({where, "duplicate id",
              where + ": id '" + s.uid + "' was already used by " + seen->second +
                  "; ids must be unique within a pool (change one id or remove the duplicate)"});
        continue;
      }
      try {  // the produced sample must pass the same rules every pool reader applies
        Pool::sample_from_json(Pool::sample_to_json(s, nullptr), where, nullptr);
      } catch (const InputError& e) {
        fail({where, "invalid sample", e.what()});
        continue;
      }
      first_use.emplace(s.uid, where);
      pool.add(std::move(s));
      ++t.accepted;
    }
  });
  if (pool.size() == 0)
    throw InputError(input + ": no record could be converted as format '" + source_format_name(opts.format) +
                     "' (" + std::to_string(t.records) + " records read, " + std::to_string(t.rejected) +
                     " rejected); check --format and the file\n" + t.summary());
  return pool;
}

Pool validate_pool_file(const std::string& path, bool skip_bad, RecordTally* tally) {
  RecordTally local;
  RecordTally& t = tally ? *tally : local;
  t = RecordTally{};
  Pool pool;
  std::unordered_map<std::string, std::string> first_use;
  auto fail = [&](Rejection r) {
    if (!skip_bad) throw InputError(r.message + kHint);
    t.reject(std::move(r));
  };
  for_each_source_record(path, [&](const json* rec, const RecordLocation& loc, const std::string& parse_error) {
    ++t.records;
    const std::string where = loc.str();
    if (!rec) {
      fail({where, "invalid JSON", where + ": invalid JSON (" + parse_error + ")"});
      return;
    }
    SampleTruth truth;
    Sample s;
    try {
      s = Pool::sample_from_json(*rec, where, &truth);
    } catch (const InputError& e) {
      fail({where, kind_of_message(e.what(), where), e.what()});
      return;
    }
    for (size_t i = 0; i < s.messages.size(); ++i) {
      if (s.messages[i].role == "assistant" && is_blank(s.messages[i].content)) {
        fail({where, "empty response",
              where + ": messages[" + std::to_string(i) + "]: field \"content\" of an assistant turn is empty"});
        return;
      }
    }
    auto seen = first_use.find(s.uid);
    if (seen != first_use.end()) {
      fail({where, "duplicate id",
            where + ": id '" + s.uid + "' was already used by " + seen->second +
                "; ids must be unique within a pool (change one id or remove the duplicate)"});
      return;
    }
    first_use.emplace(s.uid, where);
    pool.add(std::move(s), std::move(truth));
    ++t.accepted;
  });
  if (pool.size() == 0)
    throw InputError(path + ": no valid record (" + std::to_string(t.records) +
                     " read); is this a messages-format file?\n" + t.summary());
  return pool;
}

// ---- statistics --------------------------------------------------------------------------------

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  double pos = std::clamp(q, 0.0, 100.0) / 100.0 * static_cast<double>(values.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(values.size() - 1, lo + 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

LengthSummary LengthSummary::of(const std::vector<double>& values) {
  LengthSummary s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  s.p5 = percentile(values, 5);
  s.p50 = percentile(values, 50);
  s.p95 = percentile(values, 95);
  return s;
}

std::string normalise_for_duplicates(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (unsigned char c : text) {
    bool keep = c >= 0x80 || std::isalnum(c);
    if (!keep) {
      pending_space = true;
      continue;
    }
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
  }
  return out;
}

namespace {
constexpr int kMinHashes = 64, kBands = 16, kRows = 4;
constexpr double kSimilarJaccard = 0.8;
static_assert(kBands * kRows == kMinHashes, "bands x rows must cover the signature");

// Odd multipliers and offsets of the multiply-shift hash family, from a fixed splitmix64 stream.
struct MinHashFamily {
  uint64_t a[kMinHashes], b[kMinHashes];
  MinHashFamily() {
    uint64_t x = 0x4c45414442454e43ULL;  // fixed: signatures must not depend on the run
    for (int i = 0; i < kMinHashes; ++i) {
      a[i] = finish_hash(x += 0x9e3779b97f4a7c15ULL) | 1ULL;
      b[i] = finish_hash(x += 0x9e3779b97f4a7c15ULL);
    }
  }
};
}  // namespace

std::vector<uint32_t> minhash_signature(const std::vector<Message>& messages) {
  static const MinHashFamily family;
  std::vector<std::string> words;
  for (const Message& m : messages) {
    words.push_back("<" + m.role + ">");
    std::string norm = normalise_for_duplicates(m.content);
    size_t start = 0;
    while (start < norm.size()) {
      size_t end = norm.find(' ', start);
      if (end == std::string::npos) end = norm.size();
      words.push_back(norm.substr(start, end - start));
      start = end + 1;
    }
  }
  constexpr size_t kShingle = 3;
  std::vector<uint32_t> sig(kMinHashes, UINT32_MAX);
  const size_t count = words.size() >= kShingle ? words.size() - kShingle + 1 : 1;
  for (size_t i = 0; i < count; ++i) {
    uint64_t h = kFnvOffset;
    for (size_t k = i; k < std::min(words.size(), i + kShingle); ++k) h = hash_bytes(h, words[k] + "\x1f");
    h = finish_hash(h);
    for (int j = 0; j < kMinHashes; ++j) {
      const uint32_t v = static_cast<uint32_t>((family.a[j] * h + family.b[j]) >> 32);
      if (v < sig[j]) sig[j] = v;
    }
  }
  return sig;
}

double minhash_similarity(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

PoolStats compute_pool_stats(const Pool& pool) {
  PoolStats st;
  st.samples = static_cast<int64_t>(pool.size());
  const size_t n_tasks = pool.tasks.size();
  std::vector<int64_t> per_task(n_tasks, 0);
  struct Columns {
    std::vector<double> pt, rt, pc, rc;
  };
  Columns all;
  std::vector<Columns> by_task(n_tasks);
  ByteTokenizer tok;
  std::unordered_map<uint64_t, size_t> exact_seen, near_seen, prompt_seen;  // key hash -> first sample
  std::vector<std::vector<uint32_t>> signatures;
  signatures.reserve(pool.size());
  std::unordered_map<uint64_t, size_t> band_first;  // band hash (band index mixed in) -> first sample
  constexpr size_t kExamples = 5;
  for (size_t i = 0; i < pool.size(); ++i) {
    const Sample& s = pool.samples[i];
    ++per_task[static_cast<size_t>(s.task)];
    Encoded e = tok.encode_chat(s.messages, 0);
    const double resp_tokens = static_cast<double>(e.target_count());
    const double prompt_tokens = static_cast<double>(e.ids.size()) - resp_tokens;
    int64_t pc = 0, rc = 0, assistant_turns = 0;
    bool system = false;
    uint64_t exact = kFnvOffset, near = kFnvOffset, prompt = kFnvOffset;
    for (const Message& m : s.messages) {
      const bool is_assistant = m.role == "assistant";
      (is_assistant ? rc : pc) += code_points(m.content);
      assistant_turns += is_assistant;
      system |= m.role == "system";
      const std::string role_tag = m.role + "\x1f";
      exact = hash_bytes(hash_bytes(exact, role_tag), m.content + "\x1e");
      const std::string norm = normalise_for_duplicates(m.content) + "\x1e";
      near = hash_bytes(hash_bytes(near, role_tag), norm);
      if (!is_assistant) prompt = hash_bytes(hash_bytes(prompt, role_tag), norm);
    }
    st.multi_turn += assistant_turns > 1;
    st.with_system += system;
    for (Columns* c : {&all, &by_task[static_cast<size_t>(s.task)]}) {
      c->pt.push_back(prompt_tokens);
      c->rt.push_back(resp_tokens);
      c->pc.push_back(static_cast<double>(pc));
      c->rc.push_back(static_cast<double>(rc));
    }
    exact = finish_hash(exact);
    near = finish_hash(near);
    prompt = finish_hash(prompt);
    auto note = [&](int64_t& count, std::vector<std::pair<std::string, std::string>>& examples, size_t first) {
      ++count;
      if (examples.size() < kExamples) examples.emplace_back(s.uid, pool.samples[first].uid);
    };
    if (auto it = exact_seen.find(exact); it != exact_seen.end())
      note(st.exact_duplicates, st.exact_examples, it->second);
    else if (auto it2 = near_seen.find(near); it2 != near_seen.end())
      note(st.near_duplicates, st.near_examples, it2->second);
    else if (auto it3 = prompt_seen.find(prompt); it3 != prompt_seen.end())
      note(st.prompt_duplicates, st.prompt_examples, it3->second);
    exact_seen.emplace(exact, i);
    near_seen.emplace(near, i);
    prompt_seen.emplace(prompt, i);

    signatures.push_back(minhash_signature(s.messages));
    const std::vector<uint32_t>& sig = signatures.back();
    double best = 0;
    size_t best_first = 0;
    for (int band = 0; band < kBands; ++band) {
      uint64_t h = kFnvOffset ^ static_cast<uint64_t>(band);
      for (int r = 0; r < kRows; ++r) {
        const uint32_t v = sig[static_cast<size_t>(band * kRows + r)];
        h = hash_bytes(h, std::string(reinterpret_cast<const char*>(&v), sizeof v));
      }
      h = finish_hash(h);
      auto [it, inserted] = band_first.emplace(h, i);
      if (!inserted) {
        const double sim = minhash_similarity(sig, signatures[it->second]);
        if (sim > best || (sim == best && it->second < best_first)) {
          best = sim;
          best_first = it->second;
        }
      }
    }
    if (best >= kSimilarJaccard) {
      ++st.similar;
      if (st.similar_examples.size() < kExamples) st.similar_examples.emplace_back(s.uid, pool.samples[best_first].uid);
    }
  }
  auto summarise = [](const Columns& c) {
    return LengthStats{LengthSummary::of(c.pt), LengthSummary::of(c.rt), LengthSummary::of(c.pc), LengthSummary::of(c.rc)};
  };
  st.overall = summarise(all);
  for (size_t t = 0; t < n_tasks; ++t) {
    st.per_dataset.emplace_back(pool.tasks[t], per_task[t]);
    st.by_dataset.emplace_back(pool.tasks[t], summarise(by_task[t]));
  }
  return st;
}

nlohmann::json pool_stats_to_json(const PoolStats& s) {
  json per = json::array();
  for (const auto& [name, count] : s.per_dataset) per.push_back({{"dataset", name}, {"samples", count}});
  json by = json::object();
  for (const auto& [name, l] : s.by_dataset) by[name] = lengths_json(l);
  auto pairs = [](const std::vector<std::pair<std::string, std::string>>& v) {
    json a = json::array();
    for (const auto& [dup, first] : v) a.push_back({{"id", dup}, {"first", first}});
    return a;
  };
  return {
      {"samples", s.samples},
      {"per_dataset", per},
      {"multi_turn", s.multi_turn},
      {"with_system", s.with_system},
      {"lengths",
       {{"definition",
         "tokens: ByteTokenizer chat template without truncation; response = training targets (assistant "
         "content + END per assistant turn), prompt = all other tokens; chars: Unicode code points of "
         "system+user (prompt) and assistant (response) contents; percentiles by linear interpolation"},
        {"overall", lengths_json(s.overall)},
        {"by_dataset", by}}},
      {"duplicates",
       {{"definition",
         "counted against the first occurrence in file order; exact: same roles and contents byte for byte; "
         "near: same after normalisation (ASCII lower-cased, every run of ASCII non-alphanumerics -> one space, "
         "trimmed) but not exact; prompt: same normalised system+user turns, different normalised response"},
        {"exact", s.exact_duplicates},
        {"near", s.near_duplicates},
        {"same_prompt_different_response", s.prompt_duplicates},
        {"similar_definition",
         "estimated Jaccard >= 0.8 of word-3-gram shingles of the normalised conversation with an earlier "
         "record (MinHash 64, LSH 16 bands x 4 rows); includes exact and near duplicates"},
        {"similar", s.similar},
        {"similar_examples", pairs(s.similar_examples)},
        {"exact_examples", pairs(s.exact_examples)},
        {"near_examples", pairs(s.near_examples)},
        {"prompt_examples", pairs(s.prompt_examples)}}},
      {"records", s.tally.to_json()},
  };
}

std::string format_pool_stats(const PoolStats& s) {
  std::ostringstream o;
  char buf[256];
  auto pct = [&](int64_t k) { return s.samples ? 100.0 * static_cast<double>(k) / static_cast<double>(s.samples) : 0.0; };
  o << "samples: " << s.samples << "   multi-turn: " << s.multi_turn << "   with a system message: " << s.with_system
    << "\n\n";
  std::snprintf(buf, sizeof(buf), "%-24s %10s %7s\n", "source", "samples", "share");
  o << buf;
  for (const auto& [name, count] : s.per_dataset) {
    std::snprintf(buf, sizeof(buf), "%-24s %10lld %6.1f%%\n", name.c_str(), static_cast<long long>(count), pct(count));
    o << buf;
  }
  o << "\nlengths: tokens of the byte tokenizer's chat template, characters = code points\n";
  std::snprintf(buf, sizeof(buf), "%-24s %-8s | %8s %8s %8s %9s | %8s %8s %8s %9s\n", "source", "part", "tok p5",
                "tok p50", "tok p95", "tok mean", "chr p5", "chr p50", "chr p95", "chr mean");
  o << buf;
  auto row = [&](const std::string& name, const char* part, const LengthSummary& t, const LengthSummary& c) {
    std::snprintf(buf, sizeof(buf), "%-24s %-8s | %8.0f %8.0f %8.0f %9.1f | %8.0f %8.0f %8.0f %9.1f\n", name.c_str(),
                  part, t.p5, t.p50, t.p95, t.mean, c.p5, c.p50, c.p95, c.mean);
    o << buf;
  };
  auto rows = [&](const std::string& name, const LengthStats& l) {
    row(name, "prompt", l.prompt_tokens, l.prompt_chars);
    row(name, "response", l.response_tokens, l.response_chars);
  };
  rows("(all)", s.overall);
  if (s.by_dataset.size() > 1)
    for (const auto& [name, l] : s.by_dataset) rows(name, l);
  o << "\nduplicates (against the first occurrence; near = same after lower-casing and collapsing punctuation/space)\n";
  auto dup = [&](const char* label, int64_t k, const std::vector<std::pair<std::string, std::string>>& ex) {
    std::snprintf(buf, sizeof(buf), "%-34s %10lld %6.2f%%", label, static_cast<long long>(k), pct(k));
    o << buf;
    if (!ex.empty()) {
      o << "   e.g.";
      for (const auto& [d, f] : ex) o << " " << d << "=" << f;
    }
    o << "\n";
  };
  dup("exact", s.exact_duplicates, s.exact_examples);
  dup("near (not exact)", s.near_duplicates, s.near_examples);
  dup("same prompt, different response", s.prompt_duplicates, s.prompt_examples);
  dup("similar (shingle Jaccard >= 0.8)", s.similar, s.similar_examples);
  o << "\n" << s.tally.summary();
  return o.str();
}

}  // namespace lb
