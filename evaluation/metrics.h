// The suites' metrics, each with a standard error: mean with SE, accuracy per group, the last
// number of a generation (GSM8K), pass@k (unbiased estimator, HumanEval), and SQuAD F1 / exact match
// with the official answer normalisation (TyDiQA).
#pragma once

#include "evaluation/suite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lb {

// Mean of per-item values scaled by `scale` (100: percent), with the standard error of the mean
// (sample standard deviation / sqrt(n); 0 when n < 2).
Score mean_score(const std::vector<double>& values, double scale = 100.0);

// The unweighted mean of several scores; its standard error combines theirs as independent
// estimates: sqrt(sum se_i^2) / m. n is the sum of the n_i.
Score average_of_scores(const std::vector<Score>& scores);

nlohmann::json score_to_json(const Score& s);

// ---- GSM8K ----
// The last number in a text: handles thousands separators ("1,234"), currency ("$5"), a
// trailing sentence period ("is 8."), negatives ("-3", "$-3", "-$3") and decimals ("2.50", ".5").
// A minus sign directly after a digit or letter is a hyphen, not a sign ("5-3" gives 3).
// Returns the number as canonical text (no commas, no "$", no trailing ".0"), or nullopt.
std::optional<std::string> last_number(const std::string& text);
// Canonical text of one number ("1,234.50" -> "1234.5", "-0" -> "0"); nullopt if not a number.
std::optional<std::string> canonical_number(const std::string& text);
// Whether two canonical numbers are equal (numerically, so "18" == "18.00").
bool numbers_equal(const std::string& a, const std::string& b);
// The gold answer of a GSM8K record: the text after the last "####".
std::optional<std::string> gsm8k_gold_answer(const std::string& answer_field);

// ---- HumanEval ----
// Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k), computed in the stable
// product form 1 - prod_{i=n-c+1..n} (1 - k/i). Requires 0 <= c <= n and 1 <= k <= n.
double pass_at_k(int64_t n, int64_t c, int64_t k);

// ---- SQuAD ----
// The official SQuAD v1.1 normalisation: lower-case, remove punctuation, remove the articles
// a/an/the, collapse white space. Lower-casing covers Latin, Greek and Cyrillic; punctuation is the
// ASCII set of the official script (Python's string.punctuation).
std::string squad_normalize(const std::string& text);
std::vector<std::string> squad_tokens(const std::string& text);  // normalised, split on white space
double squad_f1(const std::string& prediction, const std::string& gold);       // in [0, 1]
double squad_exact(const std::string& prediction, const std::string& gold);    // 0 or 1
// Max over gold answers (0 with no gold answers).
double squad_max_f1(const std::string& prediction, const std::vector<std::string>& golds);
double squad_max_exact(const std::string& prediction, const std::vector<std::string>& golds);

// ---- MMLU ----
// The category (STEM, humanities, social sciences, other) of an MMLU subject, from the standard
// subject -> subcategory -> category map of the MMLU authors; "" for an unknown subject.
std::string mmlu_category(const std::string& subject);
const std::vector<std::string>& mmlu_subjects();  // the 57 subjects, sorted
const std::vector<std::string>& mmlu_categories();  // "STEM", "humanities", "social sciences", "other"

}  // namespace lb
