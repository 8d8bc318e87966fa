// The run record: one JSON file per (config, selector, seed) run, and its checked reader.
// The runner writes it atomically; `table` and `sweep` read it back (a sweep skips a run whose
// record exists and parses with the same config hash).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lb {

constexpr const char* kRunRecordFormat = "leadbench.run";
constexpr int kRunRecordVersion = 1;

// Top-level fields every complete record has.
const std::vector<std::string>& run_record_required_fields();

// Names of missing or wrongly typed fields of a record (empty: complete).
std::vector<std::string> run_record_problems(const nlohmann::json& record);

struct SuiteScore {
  std::string suite;
  std::string metric;
  std::string version;
  double value = 0;    // [0, 100]
  double stderr_ = 0;  // standard error, same units
  int64_t n = 0;       // items scored
};

struct PhaseCost {
  double seconds = 0;
  int64_t forward_tokens = 0;
  int64_t backward_tokens = 0;
};

// What tables need from a record (the full JSON stays in `raw`).
struct RunRecord {
  std::string file;  // where it was read from
  std::string name;  // row label: the selector or the ablation variant
  std::string selector;
  uint64_t seed = 0;
  double budget_fraction = 0;
  int64_t budget = 0;
  int64_t pool_size = 0;
  double data_fraction = 0;  // unique samples trained / pool size
  std::string config_hash, git_sha, device, date;
  std::vector<SuiteScore> suites;  // in the record's suite order
  double average = 0, average_stderr = 0;
  std::map<std::string, PhaseCost> phases;  // by phase name
  double selection_cost_seconds = 0;         // everything but evaluation
  double wall_seconds = 0;
  int64_t peak_memory_bytes = 0;
  nlohmann::json raw;
};

// Checks completeness and reads the fields tables use; throws InputError naming `source` and the
// first problem.
RunRecord parse_run_record(const nlohmann::json& j, const std::string& source);
RunRecord read_run_record(const std::string& path);

// Every *.json record under `dir` (recursive), and every file that is not a usable record: corrupt
// JSON, an incomplete record, or a temporary file a killed writer left behind (`*.tmp.<pid>`).
struct RecordScan {
  std::vector<RunRecord> records;     // sorted by file name
  std::vector<std::string> problems;  // "path: what is wrong"
};
RecordScan scan_results_dir(const std::string& dir);

// "lead-b2.5-s0-0123456789abcdef.json": readable and unique per config hash.
std::string run_record_file_name(const std::string& name, double budget_fraction, uint64_t seed,
                                 const std::string& config_hash);

// The average over suites of headline scores, with the standard error of that mean treating suites
// as independent: sqrt(sum se_i^2) / k.
void average_of_suites(const std::vector<SuiteScore>& suites, double* value, double* stderr_value);

// The fair-training rule (paper/FAIRNESS.md): a run's tuned model should get the compute of the
// static protocol for its budget, in the run's batch size: sample passes = budget x train.epochs and
// optimizer steps = train.epochs x ceil(budget / train.batch_size), each within 10 %.
struct TrainingFairness {
  bool known = false;  // false: nothing trained (base) or a record without the counts
  int64_t batch_size = 0;
  int64_t optimizer_steps = 0, sample_passes = 0;
  int64_t reference_steps = 0, reference_passes = 0;
  double steps_ratio = 0, passes_ratio = 0;  // this run / the reference
  bool within_10pct = false;
  nlohmann::json to_json() const;  // {batch_size, optimizer_steps, sample_passes, reference, ..., within_10pct}
};
TrainingFairness training_fairness(int64_t budget, int64_t batch_size, int64_t epochs, int64_t optimizer_steps,
                                   int64_t sample_passes);
// From a record's budget, config.train and selected.{optimizer_steps, sample_passes}; records made
// before the rule existed carry these too.
TrainingFairness training_fairness_of_record(const nlohmann::json& record);

// UTC now as ISO 8601 ("2026-11-28T20:40:00Z").
std::string utc_now_iso8601();
// This machine in a few words ("hostname, 2 cores, Linux 6.1").
std::string machine_description();

}  // namespace lb
