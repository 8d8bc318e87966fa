// Prompts for the real suites, built the way open-instruct builds them (the harness the LEAD
// paper used), turned into Suites. Templates are data; the version string of each suite names the
// prompt format and its settings, and shows in every table.
#pragma once

#include "evaluation/loaders.h"
#include "evaluation/suite.h"

#include <cstdint>
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
  }
};

// One GSM8K chain-of-thought exemplar (the 8 of Wei et al. 2022, as data).
struct CotExemplar {
  const char* question;
  const char* answer;  // reasoning that ends "The answer is N."
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
Suite build_tydiqa_suite(const std::vector<TydiqaQuestion>& questions, const RealSuiteConfig& cfg);

// The program run for one HumanEval completion: prompt + completion + tests + check(entry_point).
std::string humaneval_program(const SuiteItem& item, const std::string& completion);

}  // namespace lb
