// Readers of predictions files: leadbench's {"id", "output"|"outputs"} JSONL and open-instruct's
// gsm8k / humaneval / tydiqa files (see predictions.h for the layouts and how each is matched).
#include "evaluation/predictions.h"

#include "core/json_io.h"

#include <algorithm>
#include <map>

namespace lb {

namespace {
std::string strip_text(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}
}  // namespace

std::vector<Prediction> read_predictions(const std::string& path, bool skip_bad, int64_t* skipped) {
  if (!file_exists(path)) throw InputError(path + ": predictions file not found");
  std::vector<Prediction> out;
  int64_t local_skipped = 0;
  for_each_jsonl(
      path,
      [&](const nlohmann::json& j, int64_t line) {
        const std::string where = path + ":" + std::to_string(line);
        if (!j.is_object()) throw InputError(where + ": expected an object {\"id\": ..., \"output\": ...}");
        Prediction p;
        const auto& id = require_field(j, "id", where);
        if (id.is_string()) p.id = id.get<std::string>();
        else if (id.is_number_integer()) p.id = std::to_string(id.get<int64_t>());
        else throw InputError(where + ": field 'id' must be a string or an integer");
        const bool has_one = j.contains("output"), has_many = j.contains("outputs");
        if (has_one == has_many)
          throw InputError(where + ": give exactly one of 'output' (a string) or 'outputs' (a list of strings)");
        if (has_one) {
          if (!j["output"].is_string()) throw InputError(where + ": field 'output' must be a string");
          p.outputs.push_back(j["output"].get<std::string>());
        } else {
          if (!j["outputs"].is_array() || j["outputs"].empty())
            throw InputError(where + ": field 'outputs' must be a non-empty list of strings");
          for (const auto& o : j["outputs"]) {
            if (!o.is_string()) throw InputError(where + ": field 'outputs' must hold strings only");
            p.outputs.push_back(o.get<std::string>());
          }
        }
        out.push_back(std::move(p));
      },
      skip_bad, &local_skipped);
  if (skipped) *skipped += local_skipped;
  return out;
}

std::string detect_predictions_format(const std::string& path) {
  if (!file_exists(path)) throw InputError(path + ": predictions file not found");
  nlohmann::json first;
  int64_t first_line = 0, ignored = 0;
  struct Done {};
  try {
    for_each_jsonl(
        path,
        [&](const nlohmann::json& j, int64_t line) {
          if (!j.is_object()) return;
          first = j;
          first_line = line;
          throw Done{};
        },
        true, &ignored);
  } catch (const Done&) {
  }
  if (first_line == 0) throw InputError(path + ": no line is a JSON object, so the predictions layout cannot be detected");
  if (first.contains("id") && (first.contains("output") || first.contains("outputs"))) return "leadbench";
  if (first.contains("model_output") || first.contains("completion") || first.contains("prediction_text"))
    return "open-instruct";
  throw InputError(path + ":" + std::to_string(first_line) +
                   ": the fields fit no known predictions layout: leadbench's {\"id\", \"output\"|\"outputs\"} or "
                   "open-instruct's (gsm8k \"model_output\", humaneval \"completion\", tydiqa \"prediction_text\"); "
                   "fix the file or give --predictions-format");
}

std::vector<Prediction> read_open_instruct_predictions(const std::string& path, const Suite& suite, bool skip_bad,
                                                       int64_t* skipped) {
  if (!file_exists(path)) throw InputError(path + ": predictions file not found");
  if (suite.name == "mmlu")
    throw InputError(path + ": open-instruct writes no per-question predictions file for MMLU (only per-subject CSVs "
                            "of probabilities); give leadbench's {\"id\": \"<subject>/<row>\", \"output\": \"A\"} lines");
  struct Row {
    nlohmann::json j;
    int64_t line;
  };
  std::vector<Row> rows;
  int64_t local_skipped = 0;
  const char* output_field = suite.name == "gsm8k" ? "model_output" : suite.name == "humaneval" ? "completion" : "prediction_text";
  const char* id_field = suite.name == "gsm8k" ? "question" : suite.name == "humaneval" ? "task_id" : "id";
  for_each_jsonl(
      path,
      [&](const nlohmann::json& j, int64_t line) {
        const std::string where = path + ":" + std::to_string(line);
        if (!j.is_object()) throw InputError(where + ": expected a JSON object (an open-instruct " + suite.name + " prediction)");
        const auto& out = require_field(j, output_field, where);
        if (!out.is_string()) throw InputError(where + ": field '" + output_field + "' must be a string");
        const auto& id = require_field(j, id_field, where);
        if (!id.is_string()) throw InputError(where + ": field '" + id_field + "' must be a string");
        rows.push_back({j, line});
      },
      skip_bad, &local_skipped);
  if (skipped) *skipped += local_skipped;
  std::vector<Prediction> out;
  if (suite.name == "gsm8k") {
    // No ids: line k is problem k - 1; the question text must agree (a skipped line keeps the others' places).
    for (const auto& r : rows) {
      const std::string where = path + ":" + std::to_string(r.line);
      const size_t k = static_cast<size_t>(r.line - 1);
      const auto it = std::find_if(suite.items.begin(), suite.items.end(),
                                   [&](const SuiteItem& item) { return item.id == std::to_string(k); });
      if (it == suite.items.end())
        throw InputError(where + ": line " + std::to_string(r.line) + " has no problem " + std::to_string(k) +
                         " to match (the suite has " + std::to_string(suite.items.size()) +
                         " problems); open-instruct predictions are matched by position, so the file must come "
                         "from the same test file in its order");
      const std::string q = r.j["question"].get<std::string>();
      const std::string want = "Question: " + strip_text(q), asked = strip_text(it->prompt);
      if (asked.size() < want.size() || asked.compare(asked.size() - want.size(), want.size(), want) != 0)
        throw InputError(where + ": the question does not match problem " + std::to_string(k) +
                         " of the test file (\"" + q.substr(0, 60) + "...\"); open-instruct predictions are matched by "
                         "position, so a file made with --max_num_examples (a random sample) or from another test "
                         "file cannot be scored");
      out.push_back({it->id, {r.j["model_output"].get<std::string>()}, -1});
    }
    return out;
  }
  if (suite.name == "humaneval") {
    std::map<std::string, size_t> index;
    for (const auto& r : rows) {
      const std::string task = r.j["task_id"].get<std::string>();
      auto [pos, inserted] = index.emplace(task, out.size());
      if (inserted) out.push_back({task, {}, -1});
      out[pos->second].outputs.push_back(r.j["completion"].get<std::string>());
    }
    return out;
  }
  for (const auto& r : rows) out.push_back({r.j["id"].get<std::string>(), {r.j["prediction_text"].get<std::string>()}, -1});
  return out;
}

}  // namespace lb
