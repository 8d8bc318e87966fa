// Metric functions of the suites (see metrics.h); plain loops, checked against hand-computed cases
// in tests/evaluation/test_metrics.cpp.
#include "evaluation/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <unordered_map>

namespace lb {

Score mean_score(const std::vector<double>& values, double scale) {
  Score s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / values.size();
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  s.value = mean * scale;
  if (values.size() >= 2) s.stderr_ = std::sqrt(ss / (values.size() - 1)) / std::sqrt(double(values.size())) * scale;
  return s;
}

Score average_of_scores(const std::vector<Score>& scores) {
  Score s;
  if (scores.empty()) return s;
  double sum = 0, var = 0;
  for (const auto& x : scores) {
    sum += x.value;
    var += x.stderr_ * x.stderr_;
    s.n += x.n;
  }
  s.value = sum / scores.size();
  s.stderr_ = std::sqrt(var) / scores.size();
  return s;
}

nlohmann::json score_to_json(const Score& s) {
  return nlohmann::json{{"value", s.value}, {"stderr", s.stderr_}, {"n", s.n}};
}

// ---------------------------------------------------------------- numbers

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum_ascii(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace

std::optional<std::string> canonical_number(const std::string& raw) {
  std::string t;
  for (char c : raw)
    if (c != ',' && c != '$' && c != ' ') t.push_back(c);
  while (!t.empty() && t.back() == '.') t.pop_back();
  if (t.empty()) return std::nullopt;
  bool neg = false;
  size_t i = 0;
  if (t[0] == '-' || t[0] == '+') {
    neg = t[0] == '-';
    i = 1;
  }
  std::string int_part, frac_part;
  bool seen_dot = false;
  for (; i < t.size(); ++i) {
    if (is_digit(t[i])) {
      (seen_dot ? frac_part : int_part).push_back(t[i]);
    } else if (t[i] == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      return std::nullopt;
    }
  }
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  size_t nz = int_part.find_first_not_of('0');
  int_part = nz == std::string::npos ? "0" : int_part.substr(nz);
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.pop_back();
  std::string out = int_part;
  if (!frac_part.empty()) out += "." + frac_part;
  if (neg && out != "0") out = "-" + out;
  return out;
}

std::optional<std::string> last_number(const std::string& text) {
  std::optional<std::string> last;
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // A number starts at a digit, or at ".digit".
    bool starts = is_digit(text[i]) || (text[i] == '.' && i + 1 < n && is_digit(text[i + 1]));
    if (!starts) {
      ++i;
      continue;
    }
    // A preceding '.' that starts the number was handled by `starts`; skip numbers glued to a
    // previous number's digits (cannot happen: we consume whole numbers).
    size_t begin = i;
    std::string num;
    while (i < n) {
      char c = text[i];
      if (is_digit(c)) {
        num.push_back(c);
        ++i;
      } else if (c == ',' && i + 1 < n && is_digit(text[i + 1]) && !num.empty() &&
                 num.find('.') == std::string::npos) {
        ++i;  // thousands separator
      } else if (c == '.' && i + 1 < n && is_digit(text[i + 1]) && num.find('.') == std::string::npos) {
        num.push_back('.');
        ++i;
      } else {
        break;
      }
    }
    // Sign: a '-' right before the number (or before its '$') is a minus sign unless it joins two
    // words or numbers ("5-3", "x-1": hyphens).
    size_t j = begin;
    if (j > 0 && text[j - 1] == '$') --j;
    bool neg = j > 0 && text[j - 1] == '-' && !(j >= 2 && is_alnum_ascii(text[j - 2]));
    auto canon = canonical_number((neg ? "-" : "") + num);
    if (canon) last = canon;
  }
  return last;
}

bool numbers_equal(const std::string& a, const std::string& b) {
  auto ca = canonical_number(a), cb = canonical_number(b);
  if (!ca || !cb) return false;
  if (*ca == *cb) return true;
  const long double x = std::strtold(ca->c_str(), nullptr), y = std::strtold(cb->c_str(), nullptr);
  return std::fabs(double(x - y)) <= 1e-9 * std::max(1.0L, std::fabs(y));
}

std::optional<std::string> gsm8k_gold_answer(const std::string& answer_field) {
  auto p = answer_field.rfind("####");
  if (p == std::string::npos) return std::nullopt;
  return canonical_number(answer_field.substr(p + 4));
}

// ---------------------------------------------------------------- pass@k

double pass_at_k(int64_t n, int64_t c, int64_t k) {
  if (n < 1 || c < 0 || c > n || k < 1 || k > n)
    throw std::invalid_argument("pass_at_k: need 0 <= c <= n and 1 <= k <= n (n=" + std::to_string(n) +
                                ", c=" + std::to_string(c) + ", k=" + std::to_string(k) + ")");
  if (n - c < k) return 1.0;
  double prod = 1.0;
  for (int64_t i = n - c + 1; i <= n; ++i) prod *= 1.0 - double(k) / double(i);
  return 1.0 - prod;
}

// ---------------------------------------------------------------- SQuAD

namespace {

std::vector<uint32_t> utf8_decode(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    uint32_t cp;
    int len;
    if (c < 0x80) { cp = c; len = 1; }
    else if ((c >> 5) == 0x6) { cp = c & 0x1F; len = 2; }
    else if ((c >> 4) == 0xE) { cp = c & 0x0F; len = 3; }
    else if ((c >> 3) == 0x1E) { cp = c & 0x07; len = 4; }
    else { out.push_back(0xFFFD); ++i; continue; }
    if (i + len > s.size()) { out.push_back(0xFFFD); break; }
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc >> 6) != 0x2) { ok = false; break; }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) { out.push_back(0xFFFD); ++i; continue; }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) out.push_back(char(cp));
  else if (cp < 0x800) { out.push_back(char(0xC0 | (cp >> 6))); out.push_back(char(0x80 | (cp & 0x3F))); }
  else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

uint32_t lower_cp(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;                         // Latin-1
  if (c >= 0x100 && c <= 0x17F) {                                                    // Latin Extended-A
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    if (c >= 0x149 && c <= 0x177) return (c % 2 == 0) ? c + 1 : c;
    if (c < 0x138) return (c % 2 == 0) ? c + 1 : c;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;                         // Greek
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;                                       // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
    return (c % 2 == 0) ? c + 1 : c;
  if (c == 0x4C0) return 0x4CF;
  if (c >= 0x4C1 && c <= 0x4CE) return (c % 2 == 1) ? c + 1 : c;
  if (c >= 0x1E00 && c <= 0x1EFF) return (c % 2 == 0) ? c + 1 : c;                  // Latin Extended Additional
  return c;
}

// Python's str.split() white space.
bool is_space_cp(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

bool is_ascii_punct(uint32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

// Word characters for the \b of the article regex: letters, digits and '_' of any script; not
// white space, not ASCII punctuation, not common Unicode punctuation.
bool is_word_cp(uint32_t c) {
  if (c < 0x80) return is_alnum_ascii(char(c)) || c == '_';
  if (is_space_cp(c)) return false;
  if ((c >= 0x2010 && c <= 0x205E) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF01 && c <= 0xFF0F) ||
      c == 0x060C || c == 0x061B || c == 0x061F || c == 0x06D4 || c == 0x0964 || c == 0x0965 || c == 0xAB ||
      c == 0xBB || c == 0xBF || c == 0xA1 || c == 0xB7)
    return false;
  return true;
}

}  // namespace

std::string squad_normalize(const std::string& text) {
  // lower-case and remove punctuation
  std::vector<uint32_t> cps;
  for (uint32_t c : utf8_decode(text)) {
    c = lower_cp(c);
    if (!is_ascii_punct(c)) cps.push_back(c);
  }
  // remove articles: whole word runs equal to a / an / the become a space
  std::vector<uint32_t> no_articles;
  for (size_t i = 0; i < cps.size();) {
    if (!is_word_cp(cps[i])) {
      no_articles.push_back(cps[i++]);
      continue;
    }
    size_t j = i;
    while (j < cps.size() && is_word_cp(cps[j])) ++j;
    const size_t len = j - i;
    bool article = (len == 1 && cps[i] == 'a') || (len == 2 && cps[i] == 'a' && cps[i + 1] == 'n') ||
                   (len == 3 && cps[i] == 't' && cps[i + 1] == 'h' && cps[i + 2] == 'e');
    if (article) no_articles.push_back(' ');
    else no_articles.insert(no_articles.end(), cps.begin() + i, cps.begin() + j);
    i = j;
  }
  // collapse white space
  std::string out;
  bool pending_space = false;
  for (uint32_t c : no_articles) {
    if (is_space_cp(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    utf8_append(out, c);
  }
  return out;
}

std::vector<std::string> squad_tokens(const std::string& text) {
  std::vector<std::string> toks;
  const std::string norm = squad_normalize(text);
  size_t i = 0;
  while (i < norm.size()) {
    size_t j = norm.find(' ', i);
    if (j == std::string::npos) j = norm.size();
    if (j > i) toks.push_back(norm.substr(i, j - i));
    i = j + 1;
  }
  return toks;
}

double squad_f1(const std::string& prediction, const std::string& gold) {
  const auto p = squad_tokens(prediction), g = squad_tokens(gold);
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& t : g) ++counts[t];
  int64_t same = 0;
  for (const auto& t : p) {
    auto it = counts.find(t);
    if (it != counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = double(same) / p.size(), recall = double(same) / g.size();
  return 2 * precision * recall / (precision + recall);
}

double squad_exact(const std::string& prediction, const std::string& gold) {
  return squad_normalize(prediction) == squad_normalize(gold) ? 1.0 : 0.0;
}

double squad_max_f1(const std::string& prediction, const std::vector<std::string>& golds) {
  double best = 0;
  for (const auto& g : golds) best = std::max(best, squad_f1(prediction, g));
  return best;
}

double squad_max_exact(const std::string& prediction, const std::vector<std::string>& golds) {
  double best = 0;
  for (const auto& g : golds) best = std::max(best, squad_exact(prediction, g));
  return best;
}

// ---------------------------------------------------------------- MMLU categories

namespace {
// subject -> subcategory, as in the MMLU authors' categories.py; subcategory -> category below.
const std::map<std::string, std::string>& subject_subcategory() {
  static const std::map<std::string, std::string> m = {
      {"abstract_algebra", "math"}, {"anatomy", "health"}, {"astronomy", "physics"},
      {"business_ethics", "business"}, {"clinical_knowledge", "health"}, {"college_biology", "biology"},
      {"college_chemistry", "chemistry"}, {"college_computer_science", "computer science"},
      {"college_mathematics", "math"}, {"college_medicine", "health"}, {"college_physics", "physics"},
      {"computer_security", "computer science"}, {"conceptual_physics", "physics"},
      {"econometrics", "economics"}, {"electrical_engineering", "engineering"},
      {"elementary_mathematics", "math"}, {"formal_logic", "philosophy"}, {"global_facts", "other"},
      {"high_school_biology", "biology"}, {"high_school_chemistry", "chemistry"},
      {"high_school_computer_science", "computer science"}, {"high_school_european_history", "history"},
      {"high_school_geography", "geography"}, {"high_school_government_and_politics", "politics"},
      {"high_school_macroeconomics", "economics"}, {"high_school_mathematics", "math"},
      {"high_school_microeconomics", "economics"}, {"high_school_physics", "physics"},
      {"high_school_psychology", "psychology"}, {"high_school_statistics", "math"},
      {"high_school_us_history", "history"}, {"high_school_world_history", "history"},
      {"human_aging", "health"}, {"human_sexuality", "culture"}, {"international_law", "law"},
      {"jurisprudence", "law"}, {"logical_fallacies", "philosophy"}, {"machine_learning", "computer science"},
      {"management", "business"}, {"marketing", "business"}, {"medical_genetics", "health"},
      {"miscellaneous", "other"}, {"moral_disputes", "philosophy"}, {"moral_scenarios", "philosophy"},
      {"nutrition", "health"}, {"philosophy", "philosophy"}, {"prehistory", "history"},
      {"professional_accounting", "other"}, {"professional_law", "law"}, {"professional_medicine", "health"},
      {"professional_psychology", "psychology"}, {"public_relations", "politics"},
      {"security_studies", "politics"}, {"sociology", "culture"}, {"us_foreign_policy", "politics"},
      {"virology", "health"}, {"world_religions", "philosophy"},
  };
  return m;
}
const std::map<std::string, std::string>& subcategory_category() {
  static const std::map<std::string, std::string> m = {
      {"physics", "STEM"}, {"chemistry", "STEM"}, {"biology", "STEM"}, {"computer science", "STEM"},
      {"math", "STEM"}, {"engineering", "STEM"},
      {"history", "humanities"}, {"philosophy", "humanities"}, {"law", "humanities"},
      {"politics", "social sciences"}, {"culture", "social sciences"}, {"economics", "social sciences"},
      {"geography", "social sciences"}, {"psychology", "social sciences"},
      {"other", "other"}, {"business", "other"}, {"health", "other"},
  };
  return m;
}
}  // namespace

std::string mmlu_category(const std::string& subject) {
  auto it = subject_subcategory().find(subject);
  if (it == subject_subcategory().end()) return "";
  return subcategory_category().at(it->second);
}

const std::vector<std::string>& mmlu_subjects() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> out;
    for (const auto& kv : subject_subcategory()) out.push_back(kv.first);
    return out;
  }();
  return v;
}

const std::vector<std::string>& mmlu_categories() {
  static const std::vector<std::string> v = {"STEM", "humanities", "social sciences", "other"};
  return v;
}

}  // namespace lb
