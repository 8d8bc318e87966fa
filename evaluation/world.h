// The seeded synthetic world, the embedded default of every demo and test: a base corpus to
// pre-train a small byte-level decoder, an instruction pool of 8 sources with defects in known
// per-source rates, and four suites (syn_mmlu, syn_gsm8k, syn_humaneval, syn_tydiqa) that test the
// same skills as the real benchmarks with the same metrics. Everything is a pure function of
// WorldConfig: the same config gives byte-identical output on every platform.
//
// The world. Made-up countries (capital, flag colour, national animal) and people (birthplace, job),
// a lexicon of real English words in categories, 1-2 digit arithmetic, word problems, a tiny
// programming language (evaluation/tiny_lang.h) and short passages in four made-up languages written
// in four scripts (Latin, Cyrillic, Greek, Armenian; UTF-8). The base corpus states facts in several
// phrasings, restates the facts of each passage ("... so Vebe fol Ziva.") and never asks questions. Half of the knowledge keys are the suite's: syn_mmlu asks them and the
// corpus never states them; the pool's open questions teach them (no pool sample asks them with
// options). So a tuned model's syn_mmlu score depends on which instruction samples it saw, and the
// base model sits at chance.
//
// Sources -> suites: general (open questions, mostly on syn_mmlu's facts, and 4-choice questions on
// the corpus's facts) -> syn_mmlu; math (arithmetic with worked steps, arithmetic 4-choice) ->
// syn_gsm8k and syn_mmlu; gsm (word problems with worked steps) -> syn_gsm8k; code (tiny-language
// functions) -> syn_humaneval; complex (passages, answers that restate the question's key) ->
// syn_tydiqa; multiturn (two-turn passage or knowledge dialogues), verbose (padded,
// low-information answers) and noisy (auto-generated, many defects) mix all tasks.
//
// Why these formats: a ~2M-parameter byte-level model trained for minutes on 2 CPU cores learns
// facts, formats and copying by continuation, but not to point at an option letter or to look an
// answer up in a passage with nothing to continue from (world-v1 used both; no tuned model left
// chance). world-v2 scores options by their text, lets answers restate their key, and opens the
// code answer with the function's header, as HumanEval's prompt does.
//
// Formats (prompt = the user message; every sequence fits ModelConfig::max_seq_len = 128 tokens):
//   syn_mmlu      "What is the capital of Dobrani?\nA. Kelum\nB. Sotira\nC. Varno\nD. Pelik" -> "Sotira";
//                 scored by the log-likelihood of each option's text as the assistant's answer
//                 (choices = the option texts); the gold position is balanced over A-D.
//   syn_gsm8k     "Mia has 7 pens. She buys 2 more. Then she loses 3. How many pens now?" ->
//                 "7+2=9. 9-3=6. The answer is 6."; every intermediate result is one digit, so each
//                 step is an arithmetic fact of the corpus; metric: the last number of the generation.
//   syn_humaneval "Write f(x): return 3 times x plus 1." -> "def f(x) = 3 * x + 1"; the suite opens
//                 the assistant turn with the header "def f(x) = " (code_prefix) and the model writes
//                 the body; hidden tests such as "f(2) == 7" run header + body in tiny_lang;
//                 references[0] holds the canonical solution. The checker is thread-safe.
//   syn_tydiqa    "Tomar veli Kasun. Pira suki Mafo.\nQ: Ke Tomar veli?" -> pool answer
//                 "Tomar veli Kasun."; the suite opens the assistant turn with the key "Tomar veli "
//                 and scores the span up to "." with SQuAD F1/EM per language (group), then averaged.
#pragma once

#include "core/pool.h"
#include "evaluation/suite.h"
#include "evaluation/tiny_lang.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// Mixture weight and defect rates of one pool source. Rates are fractions of the source's samples;
// the generator assigns exactly round(rate * n) samples each defect, so measured rates match.
struct SourceConfig {
  double weight = 0.125;
  double wrong_answer = 0;     // a plausible but wrong final answer (wrong option, span, number, buggy code)
  double truncated = 0;        // the response cut off before its answer
  double duplicate = 0;        // an exact copy of another sample of the source (new id)
  double near_duplicate = 0;   // a copy with a trivially reworded instruction
  double verbose_padding = 0;  // the answer wrapped in low-information filler
  double noise = 0;            // characters of the response garbled, as in careless auto-generation

  template <class V> void visit(V& v) {
    v.field("weight", weight, "share of the pool drawn from this source (weights are normalised)");
    v.field("wrong_answer", wrong_answer, "fraction with a wrong final answer: the defect that hurts most");
    v.field("truncated", truncated, "fraction whose response stops before the answer");
    v.field("duplicate", duplicate, "fraction that exactly repeats another sample: wastes budget");
    v.field("near_duplicate", near_duplicate, "fraction that repeats another sample with a reworded prompt");
    v.field("verbose_padding", verbose_padding, "fraction padded with filler around the answer");
    v.field("noise", noise, "fraction with garbled characters in the response");
  }
};

struct WorldConfig {
  uint64_t seed = 20250507;  // the whole world is a function of this seed and the knobs below
  int pool_size = 3000;      // instruction pool samples; 2.5 % of it is the default budget (75)

  // The paper's mixture in miniature (Tulu-like: general chat, complex reasoning, dialogues,
  // verbose GPT-style answers, noisy auto-generated data, code, math, grade-school math).
  SourceConfig general{0.24, 0.05, 0.0, 0.04, 0.04, 0.0, 0.0};
  SourceConfig complex{0.11, 0.06, 0.04, 0.0, 0.03, 0.0, 0.0};
  SourceConfig multiturn{0.10, 0.06, 0.05, 0.0, 0.0, 0.0, 0.0};
  SourceConfig verbose{0.08, 0.04, 0.0, 0.0, 0.0, 0.70, 0.0};
  SourceConfig noisy{0.11, 0.30, 0.15, 0.05, 0.0, 0.0, 0.20};
  SourceConfig code{0.12, 0.08, 0.05, 0.03, 0.0, 0.0, 0.0};
  SourceConfig math{0.10, 0.08, 0.0, 0.05, 0.0, 0.0, 0.0};
  SourceConfig gsm{0.14, 0.10, 0.05, 0.0, 0.03, 0.0, 0.0};

  // Suite sizes.
  int mmlu_items = 400;   // 4 subjects x 100
  int gsm_items = 100;
  int code_items = 100;
  int qa_items = 100;     // 4 languages x 25

  // Difficulty.
  int countries = 20;              // made-up countries, 3 facts each (capital, flag colour, animal)
  int people = 20;                 // made-up people, 2 facts each (birthplace, job)
  double knowledge_holdout = 0.5;  // share of facts (and arithmetic pairs, words) asked only by syn_mmlu
  int max_operand = 5;             // largest number in a problem statement (results stay <= 99)
  int gsm_steps = 2;               // operations per word problem (1 to 3; 3 needs max_seq_len ~192)
  int qa_sentences = 2;            // sentences per passage (more = more distractors)
  int qa_vocabulary = 24;          // names and objects per passage language: too many to guess an answer
  double qa_two_word_answers = 0.3;  // share of passage answers with two words (F1 gives partial credit)
  bool qa_span_first = false;      // passage sentences put the answer first ("Ziva fol Vebe."), answers are the bare span
  int max_seq_len = 128;           // every pool sample and suite prompt+answer fits in this many tokens

  // Base corpus.
  int corpus_docs = 8000;  // documents (<= ~120 bytes each) for pre-training the base model

  // Code suite sampling (pass@k): n samples per item, temperature, and the k values reported.
  int code_samples = 1;            // 1 greedy sample is the CPU default; the paper uses n = 20
  double code_temperature = 0.0;   // 0 = greedy; the paper samples at 0.8
  std::vector<int> code_pass_ks = {1};

  template <class V> void visit(V& v) {
    v.field("seed", seed, "the world is a pure function of the seed and these knobs");
    v.field("pool_size", pool_size, "instruction pool size; ~3000 trains on 2 CPU cores in minutes");
    v.section("general", general, "knowledge Q&A and 4-choice questions (feeds syn_mmlu)");
    v.section("complex", complex, "multi-fact passages with extractive answers (feeds syn_tydiqa)");
    v.section("multiturn", multiturn, "two-turn dialogues over passages or knowledge");
    v.section("verbose", verbose, "mostly padded, low-information answers");
    v.section("noisy", noisy, "auto-generated data with many wrong, truncated and garbled answers");
    v.section("code", code, "tiny-language function synthesis (feeds syn_humaneval)");
    v.section("math", math, "arithmetic with worked steps and arithmetic 4-choice (feeds syn_gsm8k, syn_mmlu)");
    v.section("gsm", gsm, "word problems with worked steps (feeds syn_gsm8k)");
    v.field("mmlu_items", mmlu_items, "syn_mmlu size; 400 gives a standard error of ~2.2 points near chance");
    v.field("gsm_items", gsm_items, "syn_gsm8k size");
    v.field("code_items", code_items, "syn_humaneval size");
    v.field("qa_items", qa_items, "syn_tydiqa size, split evenly over the four languages");
    v.field("countries", countries, "made-up countries; more = more facts to memorise in pre-training");
    v.field("people", people, "made-up people; more = more facts to memorise in pre-training");
    v.field("knowledge_holdout", knowledge_holdout,
            "share of knowledge keys never asked in the pool (0 = suite facts may also appear in the pool)");
    v.field("max_operand", max_operand, "largest number in problem statements; a tiny model handles 1 digit");
    v.field("gsm_steps", gsm_steps, "operations per word problem: 1 to 3 (3 needs max_seq_len ~192)");
    v.field("qa_sentences", qa_sentences, "sentences per passage: each extra one is a distractor");
    v.field("qa_vocabulary", qa_vocabulary, "names and objects per passage language; many, so answers must be read, not guessed");
    v.field("qa_two_word_answers", qa_two_word_answers, "share of two-word answers, so F1 differs from EM");
    v.field("qa_span_first", qa_span_first, "passage language writes object-verb-subject ('Ziva fol Vebe.') and answers are the bare span; false: subject-verb-object, answers restate the key ('Vebe fol Ziva.')");
    v.field("max_seq_len", max_seq_len, "token budget every sample and suite item must fit (model context)");
    v.field("corpus_docs", corpus_docs, "base-corpus documents; each fact appears in several of them");
    v.field("code_samples", code_samples, "syn_humaneval samples per item (n of pass@k)");
    v.field("code_temperature", code_temperature, "syn_humaneval sampling temperature (0 = greedy)");
    v.field("code_pass_ks", code_pass_ks, "k values of pass@k; each must be <= code_samples");
  }
};

struct World {
  std::vector<std::string> base_corpus;  // plain-text pre-training documents
  Pool pool;                             // messages format; pool.truth holds each sample's defect
  std::vector<Suite> suites;             // syn_mmlu, syn_gsm8k, syn_humaneval, syn_tydiqa
};

// Version of the world's formats; bump when any template changes (it shows in suite tables).
inline constexpr const char* kWorldVersion = "world-v3";

// Builds the world. Throws ConfigError on invalid knobs (negative sizes, gsm_steps outside 1..3,
// pass@k larger than the samples, all weights zero, a defect rate sum above 1, ...).
World generate_world(const WorldConfig& cfg);
// The checks generate_world runs first, alone (to reject a config before any work).
void check_world_config(const WorldConfig& cfg);

// The copy warm-up that can open pre-training (PretrainConfig::copy_warmup_steps): n documents drawn
// from their own streams of the world's seed, echo documents ("<line>. Again: <line>.", as the corpus
// writes them) and, evenly interleaved at restatement_share, passages with their facts restated (as
// the corpus writes them), so that the base model learns to copy from its context. Of the echoes,
// the share suffix_share are suffix echoes ("<line>. Part: <the line from its k-th word on>.", k >= 1,
// from a stream of their own): copying them needs a look-up by content, not by position.
std::vector<std::string> copy_warmup_documents(const WorldConfig& cfg, int64_t n, double restatement_share = 0,
                                               double suffix_share = 0);

// The code checker of syn_humaneval: parses code_prefix + completion as a tiny-language program and
// runs the item's hidden tests (item.test_code) in-process under `limits`.
CodeChecker tiny_code_checker(const tiny::Limits& limits = {});

// Counts per source and defect: {"general": {"n": 540, "none": 470, "wrong_answer": 27, ...}, ...}.
nlohmann::json pool_defect_counts(const Pool& pool);

}  // namespace lb
