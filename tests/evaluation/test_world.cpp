// Tests of the synthetic world: determinism for a seed, defect rates as configured, no suite item in
// the pool, gold answers scoring 100 % through the metric code, and every sequence fitting the model.
#include "core/config.h"
#include "core/pool.h"
#include "core/tokenizer.h"
#include "evaluation/metrics.h"
#include "evaluation/world.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>

#include <unistd.h>

using namespace lb;

namespace {

const World& default_world() {
  static const World w = generate_world(WorldConfig{});
  return w;
}

std::string pool_bytes(const Pool& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) out += Pool::sample_to_json(p.samples[i], &p.truth[i]).dump() + "\n";
  return out;
}

std::string suites_bytes(const std::vector<Suite>& suites) {
  std::string out;
  for (const auto& s : suites) {
    out += s.name + "|" + s.version + "|" + std::to_string(s.generation.max_new_tokens) + "\n";
    for (const auto& it : s.items) {
      nlohmann::json j = {{"id", it.id},           {"group", it.group},   {"category", it.category},
                          {"prompt", it.prompt},   {"choices", it.choices}, {"answer", it.answer},
                          {"refs", it.references}, {"tests", it.test_code}, {"entry", it.entry_point}};
      out += j.dump() + "\n";
    }
  }
  return out;
}

const Suite& suite(const World& w, const std::string& name) {
  for (const auto& s : w.suites)
    if (s.name == name) return s;
  FAIL("no suite " << name);
  throw std::logic_error("unreachable");
}

// Checks every "a+b=c." step of a worked answer; returns the number of wrong steps.
int wrong_steps(const std::string& text, int* steps) {
  static const std::regex eq(R"((\d+)([-+*])(\d+)=(-?\d+)\.)");
  int bad = 0;
  *steps = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), eq); it != std::sregex_iterator(); ++it) {
    long a = std::stol((*it)[1]), b = std::stol((*it)[3]), c = std::stol((*it)[4]);
    char op = (*it)[2].str()[0];
    long want = op == '+' ? a + b : op == '-' ? a - b : a * b;
    ++*steps;
    if (want != c) ++bad;
  }
  return bad;
}

}  // namespace

TEST_CASE("world: the same seed gives identical bytes, another seed a different world") {
  WorldConfig cfg;
  cfg.pool_size = 800;
  cfg.corpus_docs = 600;
  World a = generate_world(cfg);
  World b = generate_world(cfg);
  CHECK(pool_bytes(a.pool) == pool_bytes(b.pool));
  CHECK(suites_bytes(a.suites) == suites_bytes(b.suites));
  CHECK(a.base_corpus == b.base_corpus);
  cfg.seed += 1;
  World c = generate_world(cfg);
  CHECK(pool_bytes(a.pool) != pool_bytes(c.pool));
  CHECK(suites_bytes(a.suites) != suites_bytes(c.suites));
  CHECK(a.base_corpus != c.base_corpus);
}

TEST_CASE("world: the copy warm-up's echo documents are deterministic, well formed and not the corpus's") {
  WorldConfig cfg;
  cfg.pool_size = 800;
  cfg.corpus_docs = 600;
  const auto a = copy_warmup_documents(cfg, 300);
  REQUIRE(a.size() == 300);
  CHECK(a == copy_warmup_documents(cfg, 300));
  const auto head = copy_warmup_documents(cfg, 10);  // a longer warm-up extends a shorter one
  CHECK(std::equal(head.begin(), head.end(), a.begin()));
  CHECK(copy_warmup_documents(cfg, 0).empty());
  const World w = generate_world(cfg);
  const std::set<std::string> corpus(w.base_corpus.begin(), w.base_corpus.end());
  std::set<std::string> distinct;
  ByteTokenizer tok;
  for (const auto& d : a) {
    INFO(d);
    const size_t mid = d.find(". Again: ");
    REQUIRE(mid != std::string::npos);
    CHECK(d.substr(0, mid) + "." == d.substr(mid + 9));  // "<line>. Again: <line>."
    CHECK(static_cast<int>(tok.encode_plain(d, 1 << 30).ids.size()) <= cfg.max_seq_len);
    distinct.insert(d);
  }
  CHECK(distinct.size() > 290);  // fresh lines, not a handful repeated
  size_t in_corpus = 0;
  for (const auto& d : distinct) in_corpus += corpus.count(d);
  CHECK(in_corpus <= 2);  // its own stream: a short line may coincide with a corpus echo by chance
  cfg.seed += 1;
  CHECK(copy_warmup_documents(cfg, 300) != a);
  cfg.seed -= 1;

  // Restatements interleaved at the given share; the echoes between them are the same stream.
  const auto mixed = copy_warmup_documents(cfg, 300, 0.25);
  CHECK(mixed == copy_warmup_documents(cfg, 300, 0.25));
  std::vector<std::string> echoes, restated;
  for (const auto& d : mixed) (d.find(". Again: ") != std::string::npos ? echoes : restated).push_back(d);
  CHECK(restated.size() == 75);
  CHECK(std::equal(echoes.begin(), echoes.end(), a.begin()));
  for (size_t i = 0; i + 4 <= mixed.size(); i += 4) {  // one in every four
    int r = 0;
    for (size_t k = i; k < i + 4; ++k) r += mixed[k].find(". Again: ") == std::string::npos;
    CHECK(r == 1);
  }
  // Each is a passage in one of the languages with at least one fact restated after its so-word,
  // and fits the model's context like the corpus's documents.
  std::set<std::string> so_words;  // the last sentence is a restatement: "<so-word> <key> <span>."
  for (const auto& d : restated) {
    INFO(d);
    CHECK(d.size() <= 120);
    CHECK(static_cast<int>(tok.encode_plain(d, 1 << 30).ids.size()) <= cfg.max_seq_len);
    CHECK(corpus.count(d) == 0);  // fresh passages, not the corpus's
    const size_t last = d.rfind(". ") + 2;
    so_words.insert(d.substr(last, d.find(' ', last) - last));
  }
  CHECK(so_words.size() == 4);  // one so-word per language, all four languages
  const auto all = copy_warmup_documents(cfg, 8, 1.0);
  for (const auto& d : all) CHECK(d.find(". Again: ") == std::string::npos);

  // Suffix echoes: the share of the echoes, interleaved; the full echoes between them are the same
  // stream, and the restatements stay where they were.
  const auto suffixed = copy_warmup_documents(cfg, 300, 0.25, 0.5);
  CHECK(suffixed == copy_warmup_documents(cfg, 300, 0.25, 0.5));
  std::vector<std::string> full, parts, restated_too;
  for (size_t i = 0; i < suffixed.size(); ++i) {
    const auto& d = suffixed[i];
    if (d.find(". Again: ") != std::string::npos) full.push_back(d);
    else if (d.find(". Part: ") != std::string::npos) parts.push_back(d);
    else restated_too.push_back(d);
    if (d.find(". Again: ") == std::string::npos && d.find(". Part: ") == std::string::npos) CHECK(d == mixed[i]);
  }
  CHECK(restated_too.size() == 75);
  CHECK(parts.size() == 113);  // half of the 225 echoes, rounded up (the first echo is a suffix echo)
  CHECK(std::equal(full.begin(), full.end(), a.begin()));
  std::set<size_t> starts;
  for (const auto& d : parts) {
    INFO(d);
    const size_t mid = d.find(". Part: ");
    const std::string line = d.substr(0, mid), part = d.substr(mid + 8, d.size() - mid - 9);
    REQUIRE(d.back() == '.');
    CHECK(static_cast<int>(tok.encode_plain(d, 1 << 30).ids.size()) <= cfg.max_seq_len);
    // a proper suffix of whole words, at least two of them
    REQUIRE(part.size() < line.size());
    CHECK(line.compare(line.size() - part.size(), part.size(), part) == 0);
    CHECK(line[line.size() - part.size() - 1] == ' ');
    CHECK(part.find(' ') != std::string::npos);
    starts.insert(line.size() - part.size());
  }
  CHECK(starts.size() > 10);  // the start varies
  CHECK(copy_warmup_documents(cfg, 300, 0.25, 0) == mixed);
}

TEST_CASE("world: default sizes, 8 sources in proportion, defect rates as configured") {
  const WorldConfig cfg;
  const World& w = default_world();
  REQUIRE(w.pool.size() == static_cast<size_t>(cfg.pool_size));
  CHECK(w.base_corpus.size() > static_cast<size_t>(cfg.corpus_docs) * 95 / 100);
  REQUIRE(w.suites.size() == 4);
  CHECK(suite(w, "syn_mmlu").items.size() == static_cast<size_t>(cfg.mmlu_items));
  CHECK(suite(w, "syn_gsm8k").items.size() == static_cast<size_t>(cfg.gsm_items));
  CHECK(suite(w, "syn_humaneval").items.size() == static_cast<size_t>(cfg.code_items));
  CHECK(suite(w, "syn_tydiqa").items.size() == static_cast<size_t>(cfg.qa_items));

  nlohmann::json counts = pool_defect_counts(w.pool);
  const std::map<std::string, const SourceConfig*> sources = {
      {"general", &cfg.general}, {"complex", &cfg.complex}, {"multiturn", &cfg.multiturn}, {"verbose", &cfg.verbose},
      {"noisy", &cfg.noisy},     {"code", &cfg.code},       {"math", &cfg.math},           {"gsm", &cfg.gsm}};
  REQUIRE(counts.size() == sources.size());
  double total_weight = 0;
  for (const auto& [name, sc] : sources) total_weight += sc->weight;
  for (const auto& [name, sc] : sources) {
    INFO("source " << name << ": " << counts[name].dump());
    REQUIRE(counts.contains(name));
    const double n = counts[name]["n"].get<double>();
    CHECK(std::abs(n / cfg.pool_size - sc->weight / total_weight) < 0.002);
    auto rate = [&](const char* d) { return counts[name].contains(d) ? counts[name][d].get<double>() / n : 0.0; };
    const double tol = 1.0 / n + 1e-9;
    CHECK(std::abs(rate("wrong_answer") - sc->wrong_answer) <= tol);
    CHECK(std::abs(rate("truncated") - sc->truncated) <= tol);
    CHECK(std::abs(rate("duplicate") - sc->duplicate) <= tol);
    CHECK(std::abs(rate("near_duplicate") - sc->near_duplicate) <= tol);
    CHECK(std::abs(rate("verbose_padding") - sc->verbose_padding) <= tol);
    CHECK(std::abs(rate("noise") - sc->noise) <= tol);
    CHECK(rate("none") > 0.2);
  }
}

TEST_CASE("world: defects are what they claim to be") {
  const World& w = default_world();
  std::map<std::string, int> by_signature;
  auto sig = [](const Sample& s) {
    std::string out;
    for (const auto& m : s.messages) out += m.role + ":" + m.content + "\n";
    return out;
  };
  std::set<std::string> duplicated;  // signatures of declared duplicates (their originals repeat too)
  for (size_t i = 0; i < w.pool.size(); ++i) {
    by_signature[sig(w.pool.samples[i])]++;
    if (w.pool.truth[i].defect == "duplicate") duplicated.insert(sig(w.pool.samples[i]));
  }
  int gsm_checked = 0;
  for (size_t i = 0; i < w.pool.size(); ++i) {
    const Sample& s = w.pool.samples[i];
    const std::string& d = w.pool.truth[i].defect;
    const std::string& answer = s.messages.back().content;
    REQUIRE(s.messages.back().role == "assistant");
    if (d == "duplicate" || duplicated.count(sig(s))) {
      CHECK(by_signature[sig(s)] >= 2);
    } else {
      INFO(sig(s));
      CHECK(by_signature[sig(s)] == 1);  // only declared duplicates repeat
    }
    if (d == "verbose_padding") CHECK(answer.size() > 15);
    if (s.dataset == "gsm" || (s.dataset == "math" && answer.find("The answer is") != std::string::npos)) {
      int steps = 0;
      int bad = wrong_steps(answer, &steps);
      if (d == "none" || d == "duplicate" || d == "near_duplicate") {
        INFO(answer);
        CHECK(steps >= 1);
        CHECK(bad == 0);
        auto last = last_number(answer);
        REQUIRE(last);
        CHECK(*last == std::to_string(std::stol(answer.substr(answer.rfind(' ') + 1))));
        ++gsm_checked;
      } else if (d == "wrong_answer") {
        INFO(answer);
        CHECK(bad >= 1);
      }
    }
  }
  CHECK(gsm_checked > 300);
}

TEST_CASE("world: no suite item appears in the pool, held-out facts are never asked there") {
  const World& w = default_world();
  std::set<std::string> user_turns;
  for (const auto& s : w.pool.samples)
    for (const auto& m : s.messages)
      if (m.role == "user") user_turns.insert(m.content);
  std::set<std::string> suite_prompts;
  for (const auto& s : w.suites)
    for (const auto& it : s.items) {
      INFO(s.name << " " << it.id);
      CHECK(user_turns.count(it.prompt) == 0);
      CHECK(suite_prompts.insert(it.prompt).second);  // no item repeats inside the suites either
    }
  // Generated problems must not occur even inside a longer pool instruction.
  for (const char* name : {"syn_gsm8k", "syn_humaneval", "syn_tydiqa"})
    for (const auto& it : suite(w, name).items)
      for (const auto& u : user_turns) {
        if (u.find(it.prompt) != std::string::npos) FAIL(name << " item " << it.id << " is inside pool prompt: " << u);
      }
  // The pool asks syn_mmlu's facts only as open questions, never with 4 options.
  int checked = 0, taught = 0;
  for (const auto& it : suite(w, "syn_mmlu").items) {
    if (it.group != "geography" && it.group != "biography") continue;
    std::string question = it.prompt.substr(0, it.prompt.find('\n'));
    bool open_form = false;
    for (const auto& u : user_turns) {
      if (u.find(question + "\n") != std::string::npos) FAIL("syn_mmlu question '" << question << "' is asked with options in the pool");
      open_form |= u.find(question) != std::string::npos;  // the question, maybe in other words around it
    }
    taught += open_form;
    ++checked;
  }
  CHECK(checked == WorldConfig{}.mmlu_items / 2);
  CHECK(taught > checked / 2);  // most of them are taught by an open question somewhere in the pool
}

TEST_CASE("world: gold answers score 100 % through the metric code") {
  const World& w = default_world();
  const Suite& mmlu = suite(w, "syn_mmlu");
  CHECK(mmlu.kind == SuiteKind::multiple_choice);
  CHECK(mmlu.chat_template);
  std::map<std::string, std::map<int, int>> letters;
  std::set<std::string> categories;
  for (const auto& it : mmlu.items) {
    REQUIRE(it.choices.size() == 4);  // the option texts, in the listed order
    REQUIRE(it.answer >= 0);
    REQUIRE(it.answer < 4);
    for (int c = 0; c < 4; ++c)
      CHECK(it.prompt.find(std::string("\n") + char('A' + c) + ". " + it.choices[c]) != std::string::npos);
    letters[it.group][it.answer]++;
    categories.insert(it.category);
    // The gold option is listed under its letter, and the four options differ.
    std::set<std::string> options;
    size_t pos = it.prompt.find('\n');
    while (pos != std::string::npos) {
      size_t next = it.prompt.find('\n', pos + 1);
      options.insert(it.prompt.substr(pos + 4, next == std::string::npos ? std::string::npos : next - pos - 4));
      pos = next;
    }
    CHECK(options.size() == 4);
  }
  CHECK(letters.size() == 4);
  CHECK(categories == std::set<std::string>{"STEM", "humanities", "social sciences", "other"});
  for (const auto& [subject, by_letter] : letters)
    for (int l = 0; l < 4; ++l) CHECK(std::abs(by_letter.at(l) - WorldConfig{}.mmlu_items / 16.0) <= 1);  // gold letters balanced

  const Suite& gsm = suite(w, "syn_gsm8k");
  CHECK(gsm.kind == SuiteKind::final_number);
  for (const auto& it : gsm.items) {
    REQUIRE(it.references.size() == 1);
    auto got = last_number("3+4=7. 7-2=" + it.references[0] + ". The answer is " + it.references[0] + ".");
    REQUIRE(got);
    CHECK(numbers_equal(*got, it.references[0]));
  }

  const Suite& code = suite(w, "syn_humaneval");
  CHECK(code.kind == SuiteKind::code);
  REQUIRE(code.code_checker);
  std::set<std::string> families;
  for (const auto& it : code.items) {
    INFO(it.prompt << "\n" << it.references[0] << "\n" << it.test_code);
    REQUIRE(it.references.size() == 1);
    // The header opens the assistant turn; the model writes the body, the checker runs both.
    REQUIRE(it.code_prefix.size() < it.references[0].size());
    CHECK(it.references[0].compare(0, it.code_prefix.size(), it.code_prefix) == 0);
    CHECK(it.answer_prefix == it.code_prefix);
    const std::string body = it.references[0].substr(it.code_prefix.size());
    CHECK(code.code_checker(it, body));
    CHECK_FALSE(code.code_checker(it, body + " + 1"));                 // off by one everywhere
    CHECK_FALSE(code.code_checker(it, body.substr(0, body.size() / 2)));  // truncated
    CHECK_FALSE(code.code_checker(it, "0"));                           // a constant
    families.insert(it.prompt.substr(it.prompt.find("return")));
  }
  CHECK(families.size() > 30);

  const Suite& qa = suite(w, "syn_tydiqa");
  CHECK(qa.kind == SuiteKind::extractive_qa);
  std::map<std::string, int> per_language;
  int two_word = 0;
  for (const auto& it : qa.items) {
    REQUIRE(it.references.size() == 1);
    CHECK(squad_max_f1(it.references[0], it.references) == 1.0);
    CHECK(squad_max_exact(it.references[0], it.references) == 1.0);
    CHECK(it.prompt.find(it.references[0] + ".") != std::string::npos);  // extractive: a span of the passage
    // The assistant turn opens with the question's key ("Vebe fol "), which the passage states
    // right before the answer.
    CHECK(it.prompt.find(it.answer_prefix + it.references[0] + ".") != std::string::npos);
    size_t words = 1 + std::count(it.references[0].begin(), it.references[0].end(), ' ');
    CHECK(squad_tokens(it.references[0]).size() == words);  // normalisation drops no word of an answer
    per_language[it.group]++;
    two_word += it.references[0].find(' ') != std::string::npos;
  }
  CHECK(per_language == std::map<std::string, int>{{"armenian", 25}, {"cyrillic", 25}, {"greek", 25}, {"latin", 25}});
  CHECK(two_word >= 3);  // two-word answers exist (fewer in 2-byte scripts: they fit the context less often)
}

TEST_CASE("world: a span-first passage language asks for the bare span, which opens its sentence") {
  WorldConfig cfg;
  cfg.pool_size = 600;
  cfg.corpus_docs = 400;
  cfg.qa_span_first = true;
  const World w = generate_world(cfg);
  const Suite& qa = suite(w, "syn_tydiqa");
  CHECK(qa.version != suite(default_world(), "syn_tydiqa").version);  // another suite, another version
  for (const auto& it : qa.items) {
    INFO(it.prompt);
    REQUIRE(it.references.size() == 1);
    CHECK(it.answer_prefix.empty());  // the model writes the span itself
    // "<span> <verb> <name>." in the passage, the question "<question word> <verb> <name>?"
    const size_t q = it.prompt.find("\nQ: ");
    REQUIRE(q != std::string::npos);
    const std::string question = it.prompt.substr(q + 4);
    const std::string key = question.substr(question.find(' ') + 1, question.size() - question.find(' ') - 2);
    const std::string passage = it.prompt.substr(0, q);
    const std::string sentence = it.references[0] + " " + key + ".";
    CHECK((passage.rfind(sentence, 0) == 0 || passage.find(". " + sentence) != std::string::npos));
  }
  // The pool answers passage questions with the bare span; the corpus asks and answers them in
  // plain text ("\nQ: ...\nA: <span>.").
  int passages = 0;
  for (const auto& smp : w.pool.samples) {
    if (smp.dataset != "complex") continue;
    const std::string& a = smp.messages[1].content;
    if (a.empty() || a.back() != '.') continue;
    const std::string span = a.substr(0, a.size() - 1);
    passages += smp.messages[0].content.find(span + " ") != std::string::npos;
  }
  CHECK(passages > 30);
  int asked = 0;
  for (const auto& d : w.base_corpus) asked += d.find("\nA: ") != std::string::npos;
  CHECK(asked > 20);
  cfg.qa_span_first = false;  // the default language is unchanged: subject-verb-object, keys restated
  const World v = generate_world(cfg);
  for (const auto& it : suite(v, "syn_tydiqa").items) CHECK(!it.answer_prefix.empty());
  for (const auto& d : v.base_corpus) CHECK(d.find("\nA: ") == std::string::npos);
}

TEST_CASE("world: every sample and suite item fits the model context") {
  const WorldConfig cfg;
  const World& w = default_world();
  ByteTokenizer tok;
  for (const auto& s : w.pool.samples) {
    Encoded full = tok.encode_chat(s.messages, 0);
    INFO(s.uid);
    CHECK(static_cast<int>(full.ids.size()) <= cfg.max_seq_len);
  }
  for (const auto& s : w.suites) {
    for (const auto& it : s.items) {
      auto prompt = tok.encode_generation_prompt({{"user", it.prompt}});
      INFO(s.name << " " << it.id);
      if (s.kind == SuiteKind::multiple_choice)
        CHECK(static_cast<int>(prompt.size()) + 1 <= cfg.max_seq_len);
      else
        CHECK(static_cast<int>(prompt.size()) + s.generation.max_new_tokens <= cfg.max_seq_len);
    }
  }
  for (const auto& doc : w.base_corpus) {
    CHECK(!doc.empty());
    CHECK(static_cast<int>(doc.size()) + 1 <= cfg.max_seq_len);
  }
}

TEST_CASE("world: the base corpus never states the facts the knowledge suite asks, and states the others") {
  const World& w = default_world();
  std::regex capital(R"(What is the capital of (\w+)\?)");
  std::regex born(R"(Where was (\w+ \w+) born\?)");
  int checked = 0;
  for (const auto& it : suite(w, "syn_mmlu").items) {
    std::smatch m;
    std::string first = it.prompt.substr(0, it.prompt.find('\n'));
    if (!std::regex_match(first, m, capital) && !std::regex_match(first, m, born)) continue;
    const std::string& gold = it.choices[it.answer];
    int docs = 0;
    for (const auto& d : w.base_corpus)
      if (d.find(m[1].str()) != std::string::npos && d.find(gold) != std::string::npos) ++docs;
    INFO(first << " -> " << gold);
    CHECK(docs == 0);
    ++checked;
  }
  CHECK(checked > 20);
  // Facts the pool asks with options (not the suite's) are stated, in several documents.
  int stated = 0, mc = 0;
  for (const auto& s : w.pool.samples) {
    if (s.dataset != "general" || s.messages.size() != 2 || w.pool.truth[&s - &w.pool.samples[0]].defect != "none") continue;
    std::smatch m;
    std::string first = s.messages[0].content.substr(0, s.messages[0].content.find('\n'));
    if (first == s.messages[0].content || !std::regex_match(first, m, capital)) continue;
    int docs = 0;
    for (const auto& d : w.base_corpus)
      if (d.find(m[1].str()) != std::string::npos && d.find(s.messages[1].content) != std::string::npos) ++docs;
    stated += docs >= 5;
    ++mc;
  }
  CHECK(mc > 10);
  CHECK(stated == mc);
}

TEST_CASE("world: the pool round-trips through messages-format JSONL with its hidden defects") {
  WorldConfig cfg;
  cfg.pool_size = 300;
  cfg.corpus_docs = 10;
  World w = generate_world(cfg);
  std::string path = (std::filesystem::temp_directory_path() /
                      ("leadbench_world_pool_" + std::to_string(::getpid()) + ".jsonl")).string();
  w.pool.save_jsonl(path);
  Pool back = Pool::load_jsonl(path);
  std::remove(path.c_str());
  REQUIRE(back.size() == w.pool.size());
  CHECK(pool_bytes(back) == pool_bytes(w.pool));
  CHECK(back.tasks.size() == 8);
}

TEST_CASE("world: config knobs are documented and bad values are rejected") {
  WorldConfig cfg;
  auto docs = config_docs(cfg);
  CHECK(docs.size() > 20);
  for (const auto& d : docs) CHECK_FALSE(d.why.empty());
  config_apply_overrides(cfg, {"pool_size=500", "gsm.wrong_answer=0.5", "seed=3"});
  CHECK(cfg.pool_size == 500);
  CHECK(cfg.gsm.wrong_answer == 0.5);
  auto rejects = [](std::vector<std::string> kv) {
    WorldConfig c;
    config_apply_overrides(c, kv);
    CHECK_THROWS_AS(generate_world(c), ConfigError);
  };
  rejects({"knowledge_holdout=1.5"});
  rejects({"code_pass_ks=[1,10]"});
  rejects({"gsm_steps=7"});
  rejects({"noisy.wrong_answer=0.9", "noisy.noise=0.5"});
  rejects({"max_seq_len=32"});
  WorldConfig harder;
  config_apply_overrides(harder, {"pool_size=400", "corpus_docs=50", "gsm_steps=3", "max_seq_len=192",
                                  "knowledge_holdout=0", "code_samples=5", "code_temperature=0.8", "code_pass_ks=1,5"});
  World w = generate_world(harder);
  CHECK(w.pool.size() == 400);
  CHECK(suite(w, "syn_humaneval").samples_per_item == 5);
  CHECK(suite(w, "syn_humaneval").pass_ks == std::vector<int>{1, 5});
}
