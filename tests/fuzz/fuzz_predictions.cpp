// libFuzzer target: the predictions-file readers of evaluation/predictions.h as `leadbench eval
// --predictions` reaches them (format detection, leadbench's JSONL, open-instruct's gsm8k / humaneval /
// tydiqa / mmlu files matched to a small suite), then the metric functions of evaluation/metrics.h on
// every output read. The first input byte picks the reader, skip_bad and ".gz"; the rest is the file.
// Expected error: lb::InputError. What is read must keep the suite's ids, and the metrics their ranges.
#include "core/json_io.h"
#include "evaluation/metrics.h"
#include "evaluation/predictions.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <set>
#include <string>

namespace {

// A three-item suite of each real kind, with the ids and prompts that the open-instruct matchers read.
lb::Suite small_suite(int which) {
  lb::Suite s;
  static const char* kNames[] = {"gsm8k", "humaneval", "tydiqa", "mmlu"};
  s.name = kNames[which];
  for (int i = 0; i < 3; ++i) {
    lb::SuiteItem item;
    item.id = which == 0 ? std::to_string(i) : which == 1 ? "HumanEval/" + std::to_string(i) : "q" + std::to_string(i);
    item.prompt = "Question: what is " + std::to_string(i) + " + 1?";
    item.references = {std::to_string(i + 1), "the answer " + std::to_string(i)};
    s.items.push_back(item);
  }
  return s;
}

void check_metrics(const std::string& output, const std::vector<std::string>& golds) {
  if (auto n = lb::last_number(output)) {
    if (!lb::canonical_number(*n)) __builtin_trap();  // the canonical text is a number
    if (!lb::numbers_equal(*n, *n)) __builtin_trap();
  }
  const double f1 = lb::squad_max_f1(output, golds), em = lb::squad_max_exact(output, golds);
  if (!(f1 >= 0.0 && f1 <= 1.0) || !(em == 0.0 || em == 1.0) || em > f1) __builtin_trap();
  // A text always matches itself once normalised, unless nothing is left of it.
  if (!lb::squad_tokens(output).empty() && lb::squad_f1(output, output) != 1.0) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string content = lb_fuzz::as_string(data + 1, size - 1);
  const bool skip_bad = (mode & 0x10) != 0;
  const bool gz = (mode & 0x20) != 0;
  const int reader = (mode & 0x0f) % 6;  // 0 detect, 1 leadbench, 2.. open-instruct gsm8k/humaneval/tydiqa/mmlu
  const std::string path = lb_fuzz::scratch_file(content, gz ? ".jsonl.gz" : ".jsonl");
  try {
    if (reader == 0) {
      const std::string format = lb::detect_predictions_format(path);
      if (format != "leadbench" && format != "open-instruct") __builtin_trap();
      return 0;
    }
    int64_t skipped = 0;
    if (reader == 1) {
      for (const auto& p : lb::read_predictions(path, skip_bad, &skipped)) {
        if (p.outputs.empty()) __builtin_trap();
        for (const auto& o : p.outputs) check_metrics(o, {"42", "an answer"});
      }
    } else {
      const lb::Suite suite = small_suite(reader - 2);
      std::set<std::string> ids;
      for (const auto& item : suite.items) ids.insert(item.id);
      for (const auto& p : lb::read_open_instruct_predictions(path, suite, skip_bad, &skipped)) {
        if (p.outputs.empty()) __builtin_trap();
        // gsm8k is matched by position: every prediction names an item of the suite.
        if (suite.name == "gsm8k" && ids.count(p.id) == 0) __builtin_trap();
        for (const auto& o : p.outputs) check_metrics(o, suite.items[0].references);
      }
    }
    if (skipped < 0 || (!skip_bad && skipped != 0)) __builtin_trap();
  } catch (const lb::InputError&) {
  }
  return 0;
}
