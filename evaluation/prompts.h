// Prompts for the real suites, built the way open-instruct builds them (the harness the LEAD
// paper used), turned into Suites. Templates are data; the version string of each suite names the
// prompt format and its settings, and shows in every table.
#pragma once

#include "core/config.h"
#include "evaluation/loaders.h"
#include "evaluation/suite.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lb {

struct RealSuiteConfig {
  bool chat_template = true;        // wrap prompts as a user turn (tuned chat models) or raw text with BOS
  int mmlu_shots = 5;               // exemplars per subject, the first rows of its dev file
  int gsm8k_shots = 8;              // chain-of-thought exemplars (at most 8)
  int gsm8k_max_new_tokens = 512;   // open-instruct's limit for the chain of thought
  int humaneval_max_new_tokens = 512;  // completion length limit
  int humaneval_samples = 20;       // n samples per problem for pass@k (paper: n = 20)
  double humaneval_temperature = 0.8;  // sampling temperature (paper: 0.8)
  double humaneval_top_p = 0.95;    // nucleus mass for the samples
  std::vector<int> humaneval_ks = {1, 10};  // pass@k values reported; the first is the headline
  int tydiqa_shots = 1;             // exemplars per language
  int tydiqa_max_context_tokens = 512;  // passage length limit in tokens of our byte tokenizer (= bytes)
  int tydiqa_max_new_tokens = 50;   // short extractive answers
  uint64_t fewshot_seed = 4;        // choice of the TyDiQA exemplars
  // Added later; each is left out of config hashes while it holds its default (drop_neutral_prompt_fields).
  // Per-suite chat template: "inherit" takes chat_template, "on"/"off" set it for that suite only.
  std::string mmlu_chat_template = "inherit";
  std::string gsm8k_chat_template = "inherit";
  std::string humaneval_chat_template = "inherit";
  std::string tydiqa_chat_template = "inherit";
  bool gsm8k_stop_at_double_newline = false;  // raw prompts stop at "\n" (open-instruct default) or "\n\n"
  int tydiqa_max_per_language = 0;  // > 0: a seeded sample of this many questions per language (LEAD: 200)

  // The chat setting of one suite ("mmlu", ...) after its per-suite override.
  bool chat_for(const std::string& suite) const;

  template <class V> void visit(V& v) {
    v.field("chat_template", chat_template, "chat models get the prompt as a user turn; base models raw text");
    v.field("mmlu_shots", mmlu_shots, "open-instruct default: 5 exemplars from the dev split");
    v.field("gsm8k_shots", gsm8k_shots, "open-instruct default: the 8 chain-of-thought exemplars of Wei et al.");
    v.field("gsm8k_max_new_tokens", gsm8k_max_new_tokens, "room for a chain of thought");
    v.field("humaneval_max_new_tokens", humaneval_max_new_tokens, "room for a function body");
    v.field("humaneval_samples", humaneval_samples, "n of pass@k; the paper reports pass@10 from n = 20");
    v.field("humaneval_temperature", humaneval_temperature, "sampling temperature of the paper's pass@10");
    v.field("humaneval_top_p", humaneval_top_p, "nucleus sampling mass, open-instruct's default");
    v.field("humaneval_ks", humaneval_ks, "pass@k values to report, each <= humaneval_samples; first = headline");
    v.field("tydiqa_shots", tydiqa_shots, "open-instruct default: 1 exemplar per language");
    v.field("tydiqa_max_context_tokens", tydiqa_max_context_tokens,
            "open-instruct truncates passages to 512 tokens; ours are bytes");
    v.field("tydiqa_max_new_tokens", tydiqa_max_new_tokens, "answers are short spans");
    v.field("fewshot_seed", fewshot_seed, "which passages serve as TyDiQA exemplars");
    v.field("mmlu_chat_template", mmlu_chat_template, "inherit = chat_template; LEAD scored MMLU without it",
            OneOf{"inherit", "on", "off"});
    v.field("gsm8k_chat_template", gsm8k_chat_template, "inherit = chat_template; LEAD used it for GSM8K",
            OneOf{"inherit", "on", "off"});
    v.field("humaneval_chat_template", humaneval_chat_template, "inherit = chat_template; LEAD ran HumanEval without it",
            OneOf{"inherit", "on", "off"});
    v.field("tydiqa_chat_template", tydiqa_chat_template, "inherit = chat_template; LEAD used it for TyDiQA",
            OneOf{"inherit", "on", "off"});
    v.field("gsm8k_stop_at_double_newline", gsm8k_stop_at_double_newline,
            "raw prompts: open-instruct stops at a newline unless --stop_at_double_newline");
    v.field("tydiqa_max_per_language", tydiqa_max_per_language,
            "0 = every question; LEAD's eval.sh samples 200 per language (--max_num_examples_per_lang)", AtLeast{0});
  }
};

// Leaves the RealSuiteConfig keys added after results were committed out of a config's hash while
// they hold their defaults; `prompts` is the JSON of a RealSuiteConfig (eval.prompts).
void drop_neutral_prompt_fields(nlohmann::json& prompts);
// The same for an EvalConfig's JSON (the "eval" section): limit_seed = 0, then its "prompts".
void drop_neutral_eval_fields(nlohmann::json& eval);

// One GSM8K chain-of-thought exemplar (the 8 of Wei et al. 2022, as data).
struct CotExemplar {
  const char* question;
  const char* answer;  // reasoning that ends "So the answer is N." (open-instruct's cot_answer)
};
const std::vector<CotExemplar>& gsm8k_cot_exemplars();

// Per-language TyDiQA templates: instruction, passage label, question label, answer label.
struct QaTemplate {
  std::string instruction, passage, question, answer;
};
// The template of a language; English for a language without one.
const QaTemplate& tydiqa_template(const std::string& language);

// MMLU subject as the prompt writes it: "high_school_biology" -> "high school biology".
std::string mmlu_subject_text(const std::string& subject);

// Cuts UTF-8 text to at most max_bytes bytes without splitting a character.
std::string truncate_utf8(const std::string& text, size_t max_bytes);

Suite build_mmlu_suite(const MmluData& data, const RealSuiteConfig& cfg);
Suite build_gsm8k_suite(const std::vector<Gsm8kProblem>& problems, const RealSuiteConfig& cfg);
// `checker` runs a completion against the problem's tests (the sandbox, see sandbox.h).
Suite build_humaneval_suite(const std::vector<HumanEvalProblem>& problems, const RealSuiteConfig& cfg,
                            CodeChecker checker, int checker_parallelism);
// `truncate_context` cuts a passage to at most n tokens of the model's tokenizer (encode, keep the
// first n, decode: open-instruct's rule); without it passages are cut to n bytes.
using ContextTruncator = std::function<std::string(const std::string& text, int max_tokens)>;
Suite build_tydiqa_suite(const std::vector<TydiqaQuestion>& questions, const RealSuiteConfig& cfg,
                         const ContextTruncator& truncate_context = {});

// The text open-instruct hands its tokenizer for an item (which then adds BOS): with the suite's chat
// template on, the tulu format without BOS ("<|user|>\n" + prompt + "\n<|assistant|>\n") followed by
// the answer prefix (a space between them only when the template does not end in white space); off,
// prompt + answer prefix. For tests and for tools that render with another tokenizer.
std::string open_instruct_prompt_text(const Suite& suite, const SuiteItem& item);

// ---- partial runs (eval.limit) ----
// A seeded, stratified subsample: items are grouped by SuiteItem::group (MMLU subject, TyDiQA
// language; suites without groups form one stratum), each stratum gets one item, and the rest of the
// limit is shared in proportion to the strata's remaining sizes (largest remainders, ties to the
// earlier stratum). Within a stratum the items are a seeded shuffle's first ones (Rng::derive(seed,
// "limit/<suite>/<group>")). Indices come back in suite order. A limit below the number of strata
// is a std::invalid_argument naming both numbers; limit <= 0 or >= size: all.
std::vector<size_t> stratified_limit_indices(const Suite& suite, int64_t limit, uint64_t seed);

struct LimitedSuite {
  Suite suite;             // the chosen items only
  nlohmann::json record;   // {"limit", "seed", "items_in_suite", "items_evaluated", "stratified_by", "strata": {g: [chosen, total]}}
  std::string warning;     // empty when every item is kept
};
LimitedSuite limit_suite(const Suite& suite, int64_t limit, uint64_t seed);

// The program run for one HumanEval completion: prompt + completion + tests + check(entry_point).
std::string humaneval_program(const SuiteItem& item, const std::string& completion);

}  // namespace lb
