// The evaluator: runs any suite (real or synthetic) on a model and scores it, and scores
// predictions made elsewhere with the very same metric code (score_predictions).
#pragma once

#include "core/ledger.h"
#include "core/model.h"
#include "core/tokenizer.h"
#include "evaluation/loaders.h"
#include "evaluation/predictions.h"
#include "evaluation/prompts.h"
#include "evaluation/sandbox.h"
#include "evaluation/suite.h"

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lb {

struct EvalConfig {
  int64_t limit = 0;                // items per suite; 0 = all. A partial run warns loudly in its result
  uint64_t limit_seed = 0;          // which items a partial run takes (stratified_limit_indices); not hashed at 0
  int generation_batch_size = 32;   // requests generated together
  int64_t max_batch_tokens = 8192;  // tokens per log-likelihood batch (multiple choice)
  int max_new_tokens = 0;           // > 0 overrides every generative suite's limit
  int code_samples = 0;             // > 0 overrides n (samples per code problem)
  double code_temperature = -1;     // >= 0 overrides the code suites' sampling temperature
  std::vector<int> pass_ks;         // non-empty overrides the k values of pass@k
  RealSuiteConfig prompts;          // shots and prompt settings of the real suites
  SandboxConfig sandbox;            // how HumanEval programs are run

  template <class V> void visit(V& v) {
    v.field("limit", limit, "0 evaluates every item; a smaller number is a smoke run and says so");
    v.field("limit_seed", limit_seed, "seed of the stratified subsample a limit takes (per MMLU subject, per TyDiQA language)");
    v.field("generation_batch_size", generation_batch_size, "generation requests per batch");
    v.field("max_batch_tokens", max_batch_tokens, "tokens per batch when scoring choices by log-likelihood");
    v.field("max_new_tokens", max_new_tokens, "0 keeps each suite's own limit");
    v.field("code_samples", code_samples, "0 keeps the suite's n for pass@k");
    v.field("code_temperature", code_temperature, "negative keeps the suite's temperature");
    v.field("pass_ks", pass_ks, "empty keeps the suite's k values");
    v.section("prompts", prompts, "prompt format of the real suites (open-instruct conventions)");
    v.section("sandbox", sandbox, "bubblewrap sandbox for model-written code");
  }
};

// Scores predictions against a suite: unknown, missing and duplicate ids are reported in warnings
// and details (a missing id counts as wrong). Used after generation and by `leadbench eval`.
SuiteResult score_predictions(const Suite& suite, const std::vector<Prediction>& predictions);

// Runs the suite on the model (log-likelihood of choices, or generation with the suite's options;
// code: samples_per_item generations checked by suite.code_checker), then score_predictions.
// Time and forward tokens go to Phase::evaluation. `predictions_out` (optional) receives what the
// model produced, to save and re-score later.
SuiteResult evaluate_suite(DecoderModel& model, const ChatTokenizer& tok, const Suite& suite, const EvalConfig& cfg,
                           Ledger& ledger, torch::Device device, uint64_t seed,
                           std::vector<Prediction>* predictions_out = nullptr);

// The token ids of an item's prompt: the chat template with the prompt as a user turn and the
// assistant turn opened with answer_prefix, or (ChatTokenizer::encode_text_prompt) bos + prompt +
// answer_prefix as raw text.
std::vector<int32_t> item_prompt_tokens(const ChatTokenizer& tok, const Suite& suite, const SuiteItem& item);

// The items of a partial run: `limit` items evenly spread over the suite (all when limit <= 0).
std::vector<size_t> limited_item_indices(size_t total, int64_t limit);

// Loads a real suite: name in mmlu|gsm8k|humaneval|tydiqa; data_path is the suite's own file or
// folder, or a folder that holds it under the suite's name (e.g. ../shared/data). HumanEval checks
// completions with `sandbox` (required for humaneval).
Suite load_real_suite(const std::string& name, const std::string& data_path, const EvalConfig& cfg,
                      std::shared_ptr<Sandbox> sandbox, const LoadOptions& opt = {});

// The HumanEval checker: the problem's prompt, the completion, its tests and check(entry_point), run
// in `sandbox` to its end (Sandbox::run_python_to_end), so an early exit with status 0 is a failure.
CodeChecker humaneval_checker(std::shared_ptr<Sandbox> sandbox);

// Checks the evaluation settings before any work: the sandbox limits, code_samples, and pass_ks
// (each k >= 1, no repeats, k <= code_samples when that is set; prompts.humaneval_ks: at least one k,
// each >= 1). Throws ConfigError naming the key (key_prefix + name, e.g.
// "eval.sandbox.timeout_s" with key_prefix "eval."), and the source (a file) when given.
void validate_eval_config(const EvalConfig& cfg, const std::string& key_prefix = "", const std::string& source = "",
                          const ConfigSources* sources = nullptr);

// A fixed-column table of results: one row per suite, then its groups/categories, then warnings.
std::string format_results_table(const std::vector<SuiteResult>& results);

}  // namespace lb
