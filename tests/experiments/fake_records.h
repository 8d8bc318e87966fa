// Hand-made run records for the table, sweep and record tests: complete records with chosen
// scores and timings, independent of any training.
#pragma once

#include "experiments/record.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lbtest {

struct FakeRun {
  std::string name = "lead";
  std::string selector = "lead";
  uint64_t seed = 0;
  double budget_fraction = 0.025;
  int64_t pool_size = 1000;
  std::vector<double> scores;   // one per suite, in suite order
  std::vector<double> stderrs;  // same length
  double training_seconds = 10;
  double selection_inference_seconds = 0;
  double offline_inference_seconds = 2;
  std::string hash = "00000000000000aa";
  std::vector<int> clusters;  // LEAD telemetry: chosen cluster per round
};

inline nlohmann::json fake_record(const FakeRun& f) {
  static const std::vector<std::string> suites = {"syn_mmlu", "syn_gsm8k", "syn_humaneval", "syn_tydiqa"};
  static const std::vector<std::string> metrics = {"accuracy", "exact_match", "pass@1", "f1"};
  nlohmann::json s = nlohmann::json::object(), order = nlohmann::json::array();
  std::vector<lb::SuiteScore> sc;
  for (size_t i = 0; i < f.scores.size(); ++i) {
    s[suites[i]] = {{"metric", metrics[i]}, {"version", "world-v1"}, {"value", f.scores[i]},
                    {"stderr", f.stderrs[i]}, {"n", 100}, {"result", nlohmann::json::object()}};
    order.push_back(suites[i]);
    sc.push_back({suites[i], metrics[i], "world-v1", f.scores[i], f.stderrs[i], 100});
  }
  double avg = 0, se = 0;
  lb::average_of_suites(sc, &avg, &se);
  auto phase = [](double sec, int64_t fwd, int64_t bwd) {
    return nlohmann::json{{"seconds", sec}, {"forward_tokens", fwd}, {"backward_tokens", bwd},
                          {"computed_tokens", fwd}, {"samples", 1}, {"padding_efficiency", 1.0}};
  };
  nlohmann::json phases = {
      {"offline_training", phase(0, 0, 0)},
      {"offline_inference", phase(f.offline_inference_seconds, 100000, 0)},
      {"selection", phase(0.5, 0, 0)},
      {"selection_inference", phase(f.selection_inference_seconds, f.selection_inference_seconds > 0 ? 500000 : 0, 0)},
      {"training", phase(f.training_seconds, 20000, 20000)},
      {"evaluation", phase(5, 30000, 0)},
  };
  phases["selection_cost_seconds"] = f.offline_inference_seconds + 0.5 + f.selection_inference_seconds + f.training_seconds;
  nlohmann::json rounds = nlohmann::json::array(), tele_rounds = nlohmann::json::array();
  for (size_t r = 0; r < f.clusters.size(); ++r) tele_rounds.push_back({{"round", r}, {"cluster", f.clusters[r]}});
  nlohmann::json config = {{"name", f.name}, {"seed", f.seed},
                           {"selection", {{"selector", f.selector}, {"budget_fraction", f.budget_fraction}}},
                           {"world", {{"pool_size", f.pool_size}}}};
  return {{"format", lb::kRunRecordFormat}, {"format_version", lb::kRunRecordVersion},
          {"name", f.name}, {"selector", f.selector}, {"seed", f.seed},
          {"budget_fraction", f.budget_fraction}, {"budget", static_cast<int64_t>(f.budget_fraction * f.pool_size + 0.5)},
          {"pool_size", f.pool_size}, {"data_fraction", f.budget_fraction},
          {"config", config}, {"config_hash", f.hash}, {"git_sha", "abc123def456"},
          {"device", "cpu (2 threads, LibTorch 1.13.0)"}, {"date", "2026-11-28T20:00:00Z"},
          {"command", "leadbench run test.json"}, {"suites", s}, {"suite_order", order},
          {"average", {{"value", avg}, {"stderr", se}, {"suites", sc.size()}}},
          {"phases", phases}, {"padding_efficiency", {{"training", 1.0}}}, {"peak_memory_bytes", 1000000},
          {"wall_seconds", 20.0}, {"base_model", {{"hash", "b"}}}, {"selected", {{"unique", 25}, {"uids", nlohmann::json::array()}}},
          {"rounds", rounds}, {"picks", {{"by_source", nlohmann::json::object()}, {"by_defect", nlohmann::json::object()}}},
          {"telemetry", {{"rounds", tele_rounds}}}};
}

}  // namespace lbtest
