// A suite is data: items, prompt format version, generation settings and a metric. Real suites
// (MMLU, GSM8K, HumanEval, TyDiQA) and their synthetic analogues produce the same structures, and one
// evaluator scores any of them on a model, or scores a predictions file made elsewhere.
#pragma once

#include "core/generate.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lb {

enum class SuiteKind {
  multiple_choice,  // MMLU: pick the choice whose answer letter has the highest log-likelihood; accuracy
  final_number,     // GSM8K: generate chain-of-thought, exact match of the last number
  code,             // HumanEval: generate a completion, run hidden tests; pass@k
  extractive_qa,    // TyDiQA: generate a short answer; SQuAD F1 / EM, per group then averaged
};

const char* suite_kind_name(SuiteKind k);

struct SuiteItem {
  std::string id;                       // stable id used in predictions files
  std::string group;                    // MMLU subject, TyDiQA language, ...; "" when none
  std::string category;                 // MMLU category (STEM, humanities, ...); "" when none
  std::string prompt;                   // the full prompt text (few-shot exemplars included)
  std::vector<std::string> choices;     // multiple_choice: continuations to score (e.g. " A", " B", ...)
  int answer = -1;                      // multiple_choice: index of the right choice
  std::vector<std::string> references;  // final_number: the gold number; extractive_qa: gold answers
  std::string test_code;                // code: the hidden tests (program text run by the code checker)
  std::string entry_point;              // code: the function under test
  std::string code_prefix;              // code: text the completion continues (the HumanEval prompt)
  // Text placed right before the model's answer: appended to `prompt` when the suite uses raw text,
  // or opening the assistant turn when it uses the chat template (e.g. "Answer:"). "" = none.
  std::string answer_prefix;
};

// Checks a code completion; true when all hidden tests pass. The real suite runs Python in the
// sandbox; the synthetic suite interprets its tiny language in-process.
using CodeChecker = std::function<bool(const SuiteItem& item, const std::string& completion)>;

struct Suite {
  std::string name;      // "mmlu", "gsm8k", "humaneval", "tydiqa", or "syn_mmlu", ...
  std::string version;   // prompt/format version; shows in tables
  SuiteKind kind = SuiteKind::multiple_choice;
  std::vector<SuiteItem> items;
  GenerationOptions generation;  // generative suites: max_new_tokens, stops, temperature, top_p
  int samples_per_item = 1;      // code: n for pass@k
  std::vector<int> pass_ks = {1};  // code: k values to report
  bool chat_template = true;     // wrap prompts in the chat template (tuned chat models) or use raw text
  CodeChecker code_checker;      // code suites only
  int code_checker_parallelism = 1;  // how many checks may run at once (1: the checker is not thread-safe)
};

// One reported number with its standard error and the number of items it averages.
struct Score {
  double value = 0;   // in [0, 100]
  double stderr_ = 0;  // standard error, same units
  int64_t n = 0;
};

struct SuiteResult {
  std::string suite;
  std::string version;
  std::string metric;                // "accuracy", "exact_match", "pass@1", "f1"
  Score headline;                    // the number tables show
  nlohmann::json details;            // per group / per category / other metrics (em, pass@k for all k)
  std::vector<std::string> warnings; // e.g. missing predictions, partial run
  // One entry per item in suite order, filled by score_predictions: {"id", "value" (the headline
  // metric of this item, 0..1), and what it was computed from}. Not part of to_json (records keep
  // their layout); the per-sample JSONL of `leadbench eval` is written from it.
  std::vector<nlohmann::json> per_item;
  nlohmann::json to_json() const;
};

}  // namespace lb
