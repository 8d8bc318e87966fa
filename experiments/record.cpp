// Run records: completeness check, reader, results-folder scan; see record.h.
#include "experiments/record.h"

#include "core/json_io.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace lb {

namespace {

enum class Kind { string, number, integer, object, array, any };

struct FieldSpec {
  const char* name;
  Kind kind;
};

const std::vector<FieldSpec>& field_specs() {
  static const std::vector<FieldSpec> specs = {
      {"format", Kind::string},          {"format_version", Kind::integer},
      {"name", Kind::string},            {"selector", Kind::string},
      {"seed", Kind::integer},           {"budget_fraction", Kind::number},
      {"budget", Kind::integer},         {"pool_size", Kind::integer},
      {"data_fraction", Kind::number},   {"config", Kind::object},
      {"config_hash", Kind::string},     {"git_sha", Kind::string},
      {"device", Kind::string},          {"date", Kind::string},
      {"command", Kind::string},         {"suites", Kind::object},
      {"suite_order", Kind::array},      {"average", Kind::object},
      {"phases", Kind::object},          {"padding_efficiency", Kind::object},
      {"peak_memory_bytes", Kind::integer}, {"wall_seconds", Kind::number},
      {"base_model", Kind::object},      {"selected", Kind::object},
      {"rounds", Kind::array},           {"picks", Kind::object},
      {"telemetry", Kind::object},
  };
  return specs;
}

bool has_kind(const nlohmann::json& v, Kind k) {
  switch (k) {
    case Kind::string: return v.is_string();
    case Kind::number: return v.is_number();
    case Kind::integer: return v.is_number_integer() || v.is_number_unsigned();
    case Kind::object: return v.is_object();
    case Kind::array: return v.is_array();
    case Kind::any: return true;
  }
  return false;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::string: return "a string";
    case Kind::number: return "a number";
    case Kind::integer: return "an integer";
    case Kind::object: return "an object";
    case Kind::array: return "a list";
    case Kind::any: return "anything";
  }
  return "?";
}

double number_at(const nlohmann::json& obj, const char* key, const std::string& where) {
  const auto& v = require_field(obj, key, where);
  if (v.is_null()) return std::nan("");  // NaN is written as null by nlohmann
  if (!v.is_number()) throw InputError(where + ": field \"" + key + "\" must be a number, got " + v.type_name());
  return v.get<double>();
}

}  // namespace

const std::vector<std::string>& run_record_required_fields() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : field_specs()) n.push_back(s.name);
    return n;
  }();
  return names;
}

std::vector<std::string> run_record_problems(const nlohmann::json& record) {
  std::vector<std::string> out;
  if (!record.is_object()) return {"the record is not a JSON object"};
  for (const auto& s : field_specs()) {
    auto it = record.find(s.name);
    if (it == record.end())
      out.push_back(std::string("missing field \"") + s.name + "\"");
    else if (!has_kind(*it, s.kind))
      out.push_back(std::string("field \"") + s.name + "\" must be " + kind_name(s.kind) + ", got " + it->type_name());
  }
  if (out.empty() && record["format"] != kRunRecordFormat)
    out.push_back("field \"format\" is " + record["format"].dump() + ", expected \"" + kRunRecordFormat + "\"");
  return out;
}

RunRecord parse_run_record(const nlohmann::json& j, const std::string& source) {
  auto problems = run_record_problems(j);
  if (!problems.empty()) {
    std::string msg = source + ": not a complete run record: " + problems[0];
    if (problems.size() > 1) msg += " (and " + std::to_string(problems.size() - 1) + " more)";
    throw InputError(msg + "; re-run it (a sweep redoes runs whose record does not parse)");
  }
  RunRecord r;
  r.file = source;
  r.name = j["name"].get<std::string>();
  r.selector = j["selector"].get<std::string>();
  r.seed = j["seed"].get<uint64_t>();
  r.budget_fraction = j["budget_fraction"].get<double>();
  r.budget = j["budget"].get<int64_t>();
  r.pool_size = j["pool_size"].get<int64_t>();
  r.data_fraction = j["data_fraction"].get<double>();
  r.config_hash = j["config_hash"].get<std::string>();
  r.git_sha = j["git_sha"].get<std::string>();
  r.device = j["device"].get<std::string>();
  r.date = j["date"].get<std::string>();
  const auto& suites = j["suites"];
  for (const auto& name_json : j["suite_order"]) {
    if (!name_json.is_string()) throw InputError(source + ": \"suite_order\" must list suite names");
    std::string name = name_json.get<std::string>();
    std::string where = source + ": suites." + name;
    const auto& s = require_field(suites, name.c_str(), source + ": suites (listed in suite_order)");
    SuiteScore sc;
    sc.suite = name;
    sc.metric = require_string(s, "metric", where);
    sc.version = require_string(s, "version", where);
    sc.value = number_at(s, "value", where);
    sc.stderr_ = number_at(s, "stderr", where);
    sc.n = static_cast<int64_t>(number_at(s, "n", where));
    r.suites.push_back(sc);
  }
  r.average = number_at(j["average"], "value", source + ": average");
  r.average_stderr = number_at(j["average"], "stderr", source + ": average");
  for (auto it = j["phases"].begin(); it != j["phases"].end(); ++it) {
    if (!it.value().is_object()) continue;  // scalar totals such as selection_cost_seconds
    std::string where = source + ": phases." + it.key();
    PhaseCost c;
    c.seconds = number_at(it.value(), "seconds", where);
    c.forward_tokens = static_cast<int64_t>(number_at(it.value(), "forward_tokens", where));
    c.backward_tokens = static_cast<int64_t>(number_at(it.value(), "backward_tokens", where));
    r.phases[it.key()] = c;
  }
  r.selection_cost_seconds = number_at(j["phases"], "selection_cost_seconds", source + ": phases");
  r.wall_seconds = j["wall_seconds"].get<double>();
  r.peak_memory_bytes = j["peak_memory_bytes"].get<int64_t>();
  r.raw = j;
  return r;
}

RunRecord read_run_record(const std::string& path) { return parse_run_record(read_json_file(path), path); }

RecordScan scan_results_dir(const std::string& dir) {
  RecordScan scan;
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(dir + ": not a folder; pass the results folder a `run` or `sweep` wrote into");
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    if (name.find(".json.tmp.") != std::string::npos) {
      scan.problems.push_back(it->path().string() +
                              ": partial write (a temporary file left by a killed writer); delete it, the run will be redone");
      continue;
    }
    if (it->path().extension() != ".json") continue;
    // Only run records: other JSON (sweep plans, telemetry dumps) lives under names starting "_".
    if (!name.empty() && name[0] == '_') continue;
    // Nor are the tables' CSV sidecars (tables/<name>.csv.meta.json).
    if (name.size() > 10 && name.compare(name.size() - 10, 10, ".meta.json") == 0) continue;
    files.push_back(it->path().string());
  }
  if (ec) throw InputError(dir + ": cannot list (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    try {
      scan.records.push_back(read_run_record(f));
    } catch (const std::exception& e) {
      std::string msg = e.what();
      // read_json_file / parse_run_record already name the file.
      scan.problems.push_back(msg.rfind(f, 0) == 0 ? msg : f + ": " + msg);
    }
  }
  std::sort(scan.problems.begin(), scan.problems.end());
  return scan;
}

std::string run_record_file_name(const std::string& name, double budget_fraction, uint64_t seed,
                                 const std::string& config_hash) {
  std::string safe;
  for (char c : name) safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') ? c : '_';
  char pct[32];
  std::snprintf(pct, sizeof(pct), "%g", budget_fraction * 100);
  return safe + "-b" + pct + "-s" + std::to_string(seed) + "-" + config_hash + ".json";
}

void average_of_suites(const std::vector<SuiteScore>& suites, double* value, double* stderr_value) {
  if (suites.empty()) {
    *value = std::nan("");
    *stderr_value = std::nan("");
    return;
  }
  double s = 0, v = 0;
  for (const auto& x : suites) {
    s += x.value;
    v += x.stderr_ * x.stderr_;
  }
  double k = static_cast<double>(suites.size());
  *value = s / k;
  *stderr_value = std::sqrt(v) / k;
}

std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string machine_description() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  struct utsname u {};
  ::uname(&u);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::string(host) + ", " + std::to_string(cores) + " cores, " + u.sysname + " " + u.release + " " + u.machine;
}

TrainingFairness training_fairness(int64_t budget, int64_t batch_size, int64_t epochs, int64_t optimizer_steps,
                                   int64_t sample_passes) {
  TrainingFairness f;
  if (budget <= 0 || batch_size <= 0 || epochs <= 0) return f;  // nothing to compare with
  f.known = true;
  f.batch_size = batch_size;
  f.optimizer_steps = optimizer_steps;
  f.sample_passes = sample_passes;
  f.reference_passes = budget * epochs;
  f.reference_steps = epochs * ((budget + batch_size - 1) / batch_size);
  f.steps_ratio = static_cast<double>(optimizer_steps) / static_cast<double>(f.reference_steps);
  f.passes_ratio = static_cast<double>(sample_passes) / static_cast<double>(f.reference_passes);
  // A tiny tolerance so that exactly 10 % off (e.g. 55 of 50 steps) counts as within.
  const double tol = 0.10 + 1e-9;
  f.within_10pct = std::fabs(f.steps_ratio - 1.0) <= tol && std::fabs(f.passes_ratio - 1.0) <= tol;
  return f;
}

TrainingFairness training_fairness_of_record(const nlohmann::json& record) {
  if (!record.is_object() || !record.contains("selected") || !record.contains("config")) return {};
  const auto& sel = record["selected"];
  const auto& cfg = record["config"];
  if (!sel.is_object() || !sel.contains("optimizer_steps") || !sel.contains("sample_passes") ||
      !sel["optimizer_steps"].is_number() || !sel["sample_passes"].is_number())
    return {};
  if (!cfg.is_object() || !cfg.contains("train") || !cfg["train"].is_object()) return {};
  const auto& train = cfg["train"];
  if (!train.contains("batch_size") || !train.contains("epochs") || !train["batch_size"].is_number() ||
      !train["epochs"].is_number() || !record.contains("budget") || !record["budget"].is_number())
    return {};
  return training_fairness(record["budget"].get<int64_t>(), train["batch_size"].get<int64_t>(),
                           train["epochs"].get<int64_t>(), sel["optimizer_steps"].get<int64_t>(),
                           sel["sample_passes"].get<int64_t>());
}

nlohmann::json TrainingFairness::to_json() const {
  if (!known) return nullptr;
  return {{"batch_size", batch_size},
          {"optimizer_steps", optimizer_steps},
          {"sample_passes", sample_passes},
          {"reference", {{"optimizer_steps", reference_steps},
                         {"sample_passes", reference_passes},
                         {"rule", "static protocol: budget x train.epochs sample passes in full batches of train.batch_size"}}},
          {"steps_ratio", steps_ratio},
          {"passes_ratio", passes_ratio},
          {"within_10pct", within_10pct}};
}

}  // namespace lb
