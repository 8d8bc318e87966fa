// `leadbench eval`: scores a predictions file made elsewhere against a real suite, with the same
// metric code as a normal evaluation.
#pragma once

#include "evaluation/evaluator.h"
#include "evaluation/predictions.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lb {


// An lm-evaluation-harness-style results document for scored suites: "results" -> task ->
// "<metric>,<filter>" and "<metric>_stderr,<filter>" as fractions (lm-eval's scale; leadbench's own
// JSON is in percent), with MMLU subjects and TyDiQA languages as subtasks "<suite>_<group>";
// "configs" (prompt settings of each task), "versions" (leadbench's prompt-format version), "n-shot",
// "higher_is_better", "n-samples" ({"original": items in the suite, "effective": items scored}) and
// "config" (limit, limit_seed, the resolved eval config), plus git hash and date.
// `items_in_suite[i]` is the size of results[i]'s suite before eval.limit.
nlohmann::json lm_eval_results(const std::vector<SuiteResult>& results, const std::vector<Suite>& suites,
                               const std::vector<int64_t>& items_in_suite, const EvalConfig& cfg);

// One line per scored item, in suite order: {"doc_id" (0-based position), "id", "group", "target",
// "resps" (the model's outputs), "metric", "value" (0..1) and the per-item fields of
// SuiteResult::per_item (choice, extracted number, answer, passed samples ...)}. Written atomically.
void write_samples_jsonl(const std::string& path, const Suite& suite, const std::vector<Prediction>& predictions,
                         const SuiteResult& result);

// Applies the "eval" section of a config file (a run config or experiments/configs/paper_eval.json) to
// cfg, recording where each value came from; any other top-level key but "description" is a
// ConfigError naming the file and the key.
void apply_eval_config_file(EvalConfig& cfg, const std::string& config_file, ConfigSources* sources);
// args: everything after "eval" but the options every command takes, which `leadbench eval` reads
// first (experiments/cmd_eval.h). Returns the process exit status (0 ok, 1 bad input, 2 usage).
int cmd_eval(const std::vector<std::string>& args);

// The usage text of `leadbench eval`.
std::string eval_usage();

}  // namespace lb
