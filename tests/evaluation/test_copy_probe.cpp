// The copy probe: scoring against hand-counted predictions, and the spans the synthetic world builds
// (each syn_tydiqa answer twice, echo words, first characters cut at UTF-8 boundaries).
#include "core/tokenizer.h"
#include "evaluation/copy_probe.h"
#include "evaluation/world.h"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>

using namespace lb;

namespace {

CopySpan span(const std::string& kind, const std::string& group, const std::string& before, const std::string& target,
              size_t first_bytes) {
  ByteTokenizer tok;
  CopySpan s;
  s.kind = kind;
  s.group = group;
  s.tokens = {tok::kBos};
  for (int32_t t : tok.encode(before)) s.tokens.push_back(t);
  s.begin = s.tokens.size();
  for (int32_t t : tok.encode(target)) s.tokens.push_back(t);
  s.end = s.tokens.size();
  s.first_end = s.begin + first_bytes;
  return s;
}

// Predicts the true next token everywhere except at the listed (span index, position) pairs.
ArgmaxFn oracle_except(const std::vector<CopySpan>& spans, std::multimap<size_t, size_t> wrong) {
  return [spans, wrong](const std::vector<std::vector<int32_t>>& seqs) {
    std::vector<std::vector<int32_t>> out(seqs.size());
    for (size_t k = 0; k < seqs.size(); ++k) {
      out[k].assign(seqs[k].size(), 0);
      for (size_t i = 0; i + 1 < seqs[k].size(); ++i) out[k][i] = seqs[k][i + 1];
      auto range = wrong.equal_range(k);
      for (auto it = range.first; it != range.second; ++it) out[k][it->second - 1] = 32;  // a space
    }
    return out;
  };
}

}  // namespace

TEST_CASE("copy probe: first character, rest and whole span against hand-counted predictions") {
  std::vector<CopySpan> spans = {
      span("qa", "latin", "Sono Tul Sifi. Q? Sono Tul ", "Sifi", 1),  // 0: all right
      span("qa", "latin", "Gige Bin Poku. Q? Gige Bin ", "Poku", 1),  // 1: first character wrong
      span("qa", "latin", "Piro Bin Tiso. Q? Piro Bin ", "Tiso", 1),  // 2: one later byte wrong
      span("echo", "", "ka mo. Again: ka ", "mo", 1),                 // 3: all right
  };
  std::multimap<size_t, size_t> wrong = {{1, spans[1].begin}, {2, spans[2].begin + 2}};
  const auto scores = score_copy_spans(spans, oracle_except(spans, wrong));
  REQUIRE(scores.size() == 2);
  const CopyScore& qa = scores.at("qa/latin");
  CHECK(qa.spans == 3);
  CHECK(qa.first_ok == 2);
  CHECK(qa.rest_tokens == 9);
  CHECK(qa.rest_ok == 8);
  CHECK(qa.whole_ok == 1);
  const auto j = qa.to_json();
  CHECK(j["first_char_pct"].get<double>() == Approx(200.0 / 3));
  CHECK(j["rest_pct"].get<double>() == Approx(800.0 / 9));
  const CopyScore& echo = scores.at("echo");
  CHECK(echo.spans == 1);
  CHECK(echo.whole_ok == 1);
  CHECK(echo.rest_tokens == 1);
}

TEST_CASE("copy probe: a 2-byte first character counts only when both bytes are right") {
  std::vector<CopySpan> spans = {span("qa", "cyrillic", "x ", "\xd0\xb3\xd0\xbe", 2)};  // "го"
  const auto right = score_copy_spans(spans, oracle_except(spans, {}));
  CHECK(right.at("qa/cyrillic").first_ok == 1);
  const auto second_byte_wrong = score_copy_spans(spans, oracle_except(spans, {{0, spans[0].begin + 1}}));
  CHECK(second_byte_wrong.at("qa/cyrillic").first_ok == 0);
  CHECK(second_byte_wrong.at("qa/cyrillic").rest_ok == 2);
}

TEST_CASE("copy probe: spans that do not fit their sequence are refused") {
  CopySpan s = span("qa", "", "ab ", "cd", 1);
  s.end = s.tokens.size() + 1;
  CHECK_THROWS_AS(score_copy_spans({s}, oracle_except({s}, {})), std::invalid_argument);
  s = span("qa", "", "ab ", "cd", 1);
  s.first_end = s.begin;
  CHECK_THROWS_AS(score_copy_spans({s}, oracle_except({s}, {})), std::invalid_argument);
}

TEST_CASE("copy probe: the world's spans hold each syn_tydiqa answer, with and without it in context") {
  WorldConfig cfg;
  cfg.pool_size = 200;
  cfg.corpus_docs = 200;
  const World world = generate_world(cfg);
  const auto spans = copy_probe_spans(cfg, world, 10);
  const Suite* qa = nullptr;
  for (const auto& s : world.suites)
    if (s.name == "syn_tydiqa") qa = &s;
  REQUIRE(qa != nullptr);
  ByteTokenizer tok;
  std::map<std::string, int> per_kind;
  const std::vector<std::string> cycle = {"qa_chat", "restatement", "qa_chat_control", "restatement_control"};
  size_t qi = 0;
  for (const auto& s : spans) {
    ++per_kind[s.kind];
    REQUIRE(s.begin < s.first_end);
    REQUIRE(s.first_end <= s.end);
    REQUIRE(s.end <= s.tokens.size());
    const std::string target = tok.decode(std::vector<int32_t>(s.tokens.begin() + s.begin, s.tokens.begin() + s.end));
    const std::string first = tok.decode(std::vector<int32_t>(s.tokens.begin() + s.begin, s.tokens.begin() + s.first_end));
    // The first character is one whole UTF-8 character.
    CHECK(first.size() == ((static_cast<unsigned char>(first[0]) & 0x80) ? 2u : 1u));
    const std::string before = tok.decode(std::vector<int32_t>(s.tokens.begin(), s.tokens.begin() + s.begin));
    if (s.kind == "echo" || s.kind == "echo_control") {
      // The scored word starts after a space; without the control, it was read earlier in the text.
      CHECK(before.back() == ' ');
      if (s.kind == "echo") CHECK(before.find(target) != std::string::npos);
    } else {
      const SuiteItem& it = qa->items[qi / 4];
      CHECK(s.kind == cycle[qi % 4]);
      CHECK(s.group == it.group);
      CHECK(target == it.references.at(0));
      CHECK(before.size() >= it.answer_prefix.size());
      CHECK(before.substr(before.size() - it.answer_prefix.size()) == it.answer_prefix);
      // The passage holds the answer; in the control it holds another object in its place.
      const bool control = qi % 4 >= 2;
      CHECK((before.find(it.references.at(0)) != std::string::npos) == !control);
      ++qi;
    }
  }
  for (const auto& k : cycle) CHECK(per_kind[k] == static_cast<int>(qa->items.size()));
  CHECK(per_kind["echo"] >= 40);  // 10 lines of 4-8 words
  CHECK(per_kind["echo_control"] == per_kind["echo"]);
}

// A perfect copier: predicts the token that followed the most recent earlier occurrence of the
// longest suffix (up to 16 tokens) of the text so far; with no earlier match, a space.
std::vector<std::vector<int32_t>> perfect_copier(const std::vector<std::vector<int32_t>>& seqs) {
  std::vector<std::vector<int32_t>> out(seqs.size());
  for (size_t k = 0; k < seqs.size(); ++k) {
    const auto& t = seqs[k];
    out[k].assign(t.size(), 32);
    for (size_t i = 0; i < t.size(); ++i) {  // predicts t[i + 1] from t[0..i]
      size_t best_len = 0, best_next = 0;
      for (size_t j = 0; j < i; ++j) {  // candidate: t[j + 1] follows a match ending at j
        size_t len = 0;
        while (len < 16 && len <= j && t[j - len] == t[i - len]) ++len;
        if (len > 0 && len >= best_len) best_len = len, best_next = j + 1;
      }
      if (best_len > 0) out[k][i] = t[best_next];
    }
  }
  return out;
}

TEST_CASE("copy probe: a perfect copier scores in context and not in the controls") {
  WorldConfig cfg;
  cfg.pool_size = 200;
  cfg.corpus_docs = 200;
  const World world = generate_world(cfg);
  const auto scores = score_copy_spans(copy_probe_spans(cfg, world, 20), perfect_copier);
  for (const std::string group : {"latin", "cyrillic", "greek", "armenian"}) {
    INFO(group);
    CHECK(scores.at("qa_chat/" + group).first_ok == scores.at("qa_chat/" + group).spans);
    CHECK(scores.at("restatement/" + group).whole_ok == scores.at("restatement/" + group).spans);
    CHECK(scores.at("qa_chat_control/" + group).first_ok == 0);
    CHECK(scores.at("restatement_control/" + group).first_ok == 0);
  }
  const CopyScore& echo = scores.at("echo");
  const CopyScore& control = scores.at("echo_control");
  // Each line's first word follows "Again: ", which the text never held before, and repeated
  // syllables or digits inside a line mislead this copier now and then; most words it gets.
  CHECK(echo.first_ok * 4 >= echo.spans * 3);
  CHECK(control.first_ok * 5 < control.spans);  // only chance matches on short words and digits
}
