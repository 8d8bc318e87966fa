// The synthetic world generator: entities and facts, the four suites, the 8-source instruction pool
// with defects, and the base corpus; see world.h for the formats and the source -> suite map.
#include "evaluation/world.h"

#include "core/config.h"
#include "core/tokenizer.h"
#include "evaluation/copy_probe.h"
#include "evaluation/evaluator.h"
#include "core/seeds.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <sstream>

namespace lb {

namespace {

// ---------------------------------------------------------------------------------------------
// Small text helpers

std::string capitalize(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string article(const std::string& word) {
  return std::string("aeiou").find(word[0]) != std::string::npos ? "an" : "a";
}

template <class T> const T& pick(Rng& rng, const std::vector<T>& v) { return v[rng.below(v.size())]; }

// Tokens of a conversation under the chat template: BOS + per turn (role, content, END).
int64_t chat_tokens(const std::vector<Message>& messages) {
  int64_t n = 1;
  for (const auto& m : messages) n += 2 + static_cast<int64_t>(m.content.size());
  return n;
}

// Tokens of a suite prompt wrapped for generation: BOS USER content END ASSISTANT.
int64_t prompt_tokens(const std::string& prompt) { return 4 + static_cast<int64_t>(prompt.size()); }

// Splits UTF-8 text into code points (as byte strings).
std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0xF0) n = 4;
    else if (c >= 0xE0) n = 3;
    else if (c >= 0xC0) n = 2;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// ---------------------------------------------------------------------------------------------
// Word makers: syllables of one script, each word unique across the whole world.

struct Script {
  std::vector<std::string> onsets, vowels, codas;
  bool capitalized;  // Latin names get a capital letter; the other scripts are written lower-case
};

const Script& latin_script() {
  static const Script s{{"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"},
                        {"a", "e", "i", "o", "u"}, {"n", "r", "l", "s"}, true};
  return s;
}
const Script& cyrillic_script() {
  static const Script s{{"б", "в", "г", "д", "к", "л", "м", "н", "п", "р", "с", "т"},
                        {"а", "е", "и", "о", "у"}, {"н", "р", "л", "с"}, false};
  return s;
}
const Script& greek_script() {
  static const Script s{{"β", "γ", "δ", "κ", "λ", "μ", "ν", "π", "ρ", "σ", "τ"},
                        {"α", "ε", "ι", "ο", "υ"}, {"ν", "ρ", "ς"}, false};
  return s;
}
const Script& armenian_script() {
  static const Script s{{"բ", "գ", "դ", "կ", "լ", "մ", "ն", "պ", "ռ", "ս", "տ"},
                        {"ա", "ե", "ի", "ո"}, {"ն", "ր", "ս"}, false};
  return s;
}

class WordMaker {
 public:
  explicit WordMaker(Rng rng) : rng_(rng) {}
  // A new word of `syllables` CV syllables, with a final consonant with probability coda_p.
  std::string make(const Script& sc, int syllables, double coda_p) {
    for (int attempt = 0; attempt < 10000; ++attempt) {
      std::string w;
      for (int i = 0; i < syllables; ++i) w += pick(rng_, sc.onsets) + pick(rng_, sc.vowels);
      if (rng_.uniform() < coda_p) w += pick(rng_, sc.codas);
      if (sc.capitalized) w = capitalize(w);
      // Words that SQuAD normalisation would drop or that read as English are avoided.
      if (used_.insert(w).second) return w;
    }
    throw ConfigError("synthetic world: ran out of distinct made-up words; lower countries/people");
  }

 private:
  Rng rng_;
  std::set<std::string> used_;
};

// ---------------------------------------------------------------------------------------------
// The world's entities

const std::vector<std::string> kColors = {"red", "blue", "green", "yellow", "white", "black", "orange", "purple"};
const std::vector<std::string> kAnimals = {"lion", "tiger", "bear", "wolf", "fox", "deer", "horse", "camel", "zebra", "moose"};
const std::vector<std::string> kJobs = {"painter", "farmer", "baker", "doctor", "teacher",
                                        "pilot",   "sailor", "singer", "tailor", "miner"};
const std::vector<std::pair<std::string, std::vector<std::string>>> kLexicon = {
    {"fruit", {"apple", "pear", "plum", "grape", "lemon", "mango", "peach", "cherry", "melon", "lime"}},
    {"tool", {"hammer", "saw", "drill", "wrench", "chisel", "shovel", "rake", "axe", "pliers", "spade"}},
    {"vehicle", {"car", "bus", "train", "truck", "bike", "boat", "ship", "tram", "van", "plane"}},
    {"instrument", {"piano", "drum", "flute", "harp", "violin", "guitar", "horn", "cello", "banjo", "oboe"}},
    {"garment", {"shirt", "coat", "hat", "sock", "scarf", "glove", "boot", "dress", "skirt", "belt"}},
    {"bird", {"crow", "owl", "hawk", "duck", "swan", "eagle", "robin", "dove", "goose", "heron"}},
};

struct Country {
  std::string name, capital, color, animal;
};
struct Person {
  std::string name;
  int country = 0;
  std::string job;
};
struct Word {
  std::string word;
  int category = 0;
};

// A made-up language for the passage suite.
struct Language {
  std::string group;                 // the suite group: "latin", "cyrillic", "greek", "armenian"
  std::vector<std::string> names;    // sentence subjects
  std::vector<std::string> objects;  // answers
  std::vector<std::string> verbs;    // relations
  std::string question_word;
  std::string so_word;               // opens the corpus's restatement of a passage fact ("so ...")
};

// One knowledge key of the 4-choice suite; `held_out` keys are asked only by syn_mmlu.
struct KnowledgeKey {
  std::string subject;  // arithmetic | geography | biography | vocabulary
  int entity = 0;       // country, person or word index; arithmetic: a
  int relation = 0;     // geography: 0 capital 1 flag 2 animal; biography: 0 birthplace 1 job; arithmetic: op
  int b = 0;            // arithmetic: second operand
  bool held_out = false;
};

struct Entities {
  std::vector<Country> countries;
  std::vector<Person> people;
  std::vector<Word> words;
  std::vector<Language> languages;
  std::map<std::string, std::vector<KnowledgeKey>> keys_by_subject;  // all keys of a subject
  // (subject, entity, relation) of every held-out geography, biography and vocabulary key: the facts
  // only syn_mmlu asks, never stated in the base corpus.
  std::set<std::tuple<std::string, int, int>> held_facts;
  bool held(const std::string& subject, int entity, int relation = 0) const {
    return held_facts.count({subject, entity, relation}) > 0;
  }
  std::vector<std::string> girl_names = {"Mia", "Ana", "Lea", "Eva", "Ivy", "Zoe", "Amy", "Kim"};
  std::vector<std::string> boy_names = {"Tom", "Raj", "Sam", "Max", "Leo", "Ben", "Dan", "Ian"};
  std::vector<std::string> objects = {"pens", "cards", "coins", "eggs", "books", "apples", "shells", "stamps", "beads"};
};

const std::vector<std::string> kSubjects = {"arithmetic", "geography", "biography", "vocabulary"};
const std::map<std::string, std::string> kSubjectCategory = {
    {"arithmetic", "STEM"}, {"geography", "social sciences"}, {"biography", "humanities"}, {"vocabulary", "other"}};

int arith(int a, int op, int b) { return op == 0 ? a + b : op == 1 ? a - b : a * b; }
const char* op_symbol(int op) { return op == 0 ? "+" : op == 1 ? "-" : "*"; }

Entities make_entities(const WorldConfig& cfg) {
  Entities e;
  WordMaker words(Rng::derive(cfg.seed, "world/words"));
  Rng rng = Rng::derive(cfg.seed, "world/entities");
  for (int i = 0; i < cfg.countries; ++i) {
    Country c;
    c.name = words.make(latin_script(), 2 + static_cast<int>(rng.below(2)), 0.5);
    c.capital = words.make(latin_script(), 2, 0.6);
    c.color = pick(rng, kColors);
    c.animal = pick(rng, kAnimals);
    e.countries.push_back(c);
  }
  for (int i = 0; i < cfg.people; ++i) {
    Person p;
    p.name = words.make(latin_script(), 2, 0.3) + " " + words.make(latin_script(), 1, 1.0);
    p.country = static_cast<int>(rng.below(e.countries.size()));
    p.job = pick(rng, kJobs);
    e.people.push_back(p);
  }
  for (size_t c = 0; c < kLexicon.size(); ++c)
    for (const auto& w : kLexicon[c].second) e.words.push_back({w, static_cast<int>(c)});

  const std::vector<std::pair<std::string, const Script*>> scripts = {
      {"latin", &latin_script()}, {"cyrillic", &cyrillic_script()}, {"greek", &greek_script()}, {"armenian", &armenian_script()}};
  for (const auto& [group, sc] : scripts) {
    Language L;
    L.group = group;
    // Many names and objects: an answer is too rare to guess, it has to be read from the passage.
    for (int i = 0; i < cfg.qa_vocabulary; ++i) L.names.push_back(words.make(*sc, 2, 0.0));
    for (int i = 0; i < cfg.qa_vocabulary; ++i) L.objects.push_back(words.make(*sc, 2, 0.0));
    for (int i = 0; i < 3; ++i) L.verbs.push_back(words.make(*sc, 1, 1.0));
    L.question_word = words.make(*sc, 1, 0.0);
    L.so_word = words.make(*sc, 1, 0.0);
    e.languages.push_back(L);
  }

  // Knowledge keys, each subject's keys shuffled and the first share held out for syn_mmlu.
  auto& ar = e.keys_by_subject["arithmetic"];
  for (int op = 0; op < 3; ++op)
    for (int a = 0; a <= cfg.max_operand; ++a)
      for (int b = 0; b <= cfg.max_operand; ++b) {
        if (op == 1 && b > a) continue;
        ar.push_back({"arithmetic", a, op, b, false});
      }
  auto& geo = e.keys_by_subject["geography"];
  for (int c = 0; c < cfg.countries; ++c)
    for (int r = 0; r < 3; ++r) geo.push_back({"geography", c, r, 0, false});
  auto& bio = e.keys_by_subject["biography"];
  for (int p = 0; p < cfg.people; ++p)
    for (int r = 0; r < 2; ++r) bio.push_back({"biography", p, r, 0, false});
  auto& voc = e.keys_by_subject["vocabulary"];
  for (size_t w = 0; w < e.words.size(); ++w) voc.push_back({"vocabulary", static_cast<int>(w), 0, 0, false});
  Rng hold = Rng::derive(cfg.seed, "world/holdout");
  for (auto& [subject, keys] : e.keys_by_subject) {
    hold.shuffle(keys);
    size_t n_held = static_cast<size_t>(std::llround(cfg.knowledge_holdout * static_cast<double>(keys.size())));
    for (size_t i = 0; i < keys.size(); ++i) keys[i].held_out = i < n_held;
  }
  for (const auto& [subject, keys] : e.keys_by_subject)
    if (subject != "arithmetic")  // arithmetic keys also need b; the corpus states all of them anyway
      for (const auto& k : keys)
        if (k.held_out) e.held_facts.insert({subject, k.entity, k.relation});
  return e;
}

// ---------------------------------------------------------------------------------------------
// Tasks: one clean conversation plus a plausible wrong final answer.

struct Task {
  std::vector<Message> messages;
  std::string wrong;  // replacement for the last assistant turn when the sample gets wrong_answer
};

Task single_turn(const std::string& user, const std::string& answer, const std::string& wrong) {
  return Task{{{"user", user}, {"assistant", answer}}, wrong};
}

// --- Knowledge (4-choice and open questions)

struct Question {
  std::string text;                  // the question line
  std::string answer;                // correct option text
  std::vector<std::string> pool;     // candidates for distractors (may include the answer)
  std::string statement;             // the answer as a sentence (open-question form)
};

Question knowledge_question(const Entities& e, const KnowledgeKey& k, Rng& rng, int form) {
  Question q;
  if (k.subject == "arithmetic") {
    int r = arith(k.entity, k.relation, k.b);
    q.text = "What is " + std::to_string(k.entity) + op_symbol(k.relation) + std::to_string(k.b) + "?";
    q.answer = std::to_string(r);
    for (int d : {1, 2, 3, 10, -1, -2, -3, -10})
      if (r + d >= 0) q.pool.push_back(std::to_string(r + d));
    q.statement = std::to_string(k.entity) + op_symbol(k.relation) + std::to_string(k.b) + "=" + q.answer + ".";
  } else if (k.subject == "geography") {
    const Country& c = e.countries[k.entity];
    if (k.relation == 0) {
      q.text = "What is the capital of " + c.name + "?";
      q.answer = c.capital;
      // Distractors as familiar as the answer: the corpus never names the suite's capitals, and a
      // model prefers names it has read; so suite answers compete with suite answers.
      for (int o = 0; o < static_cast<int>(e.countries.size()); ++o)
        if (e.held("geography", o) == e.held("geography", k.entity)) q.pool.push_back(e.countries[o].capital);
      q.statement = "The capital of " + c.name + " is " + c.capital + ".";
    } else if (k.relation == 1) {
      q.text = "What color is the flag of " + c.name + "?";
      q.answer = c.color;
      q.pool = kColors;
      q.statement = "The flag of " + c.name + " is " + c.color + ".";
    } else {
      q.text = "What is the national animal of " + c.name + "?";
      q.answer = c.animal;
      q.pool = kAnimals;
      q.statement = "The national animal of " + c.name + " is the " + c.animal + ".";
    }
  } else if (k.subject == "biography") {
    const Person& p = e.people[k.entity];
    if (k.relation == 0) {
      q.text = "Where was " + p.name + " born?";
      q.answer = e.countries[p.country].name;
      for (const auto& o : e.countries) q.pool.push_back(o.name);
      q.statement = p.name + " was born in " + q.answer + ".";
    } else {
      q.text = "What is the job of " + p.name + "?";
      q.answer = p.job;
      q.pool = kJobs;
      q.statement = p.name + " is " + article(p.job) + " " + p.job + ".";
    }
  } else {  // vocabulary
    const Word& w = e.words[k.entity];
    const std::string& cat = kLexicon[w.category].first;
    if (form % 2 == 0) {
      q.text = "Which of these is " + article(cat) + " " + cat + "?";
      q.answer = w.word;
      for (int o = 0; o < static_cast<int>(e.words.size()); ++o)
        if (e.words[o].category != w.category && e.held("vocabulary", o) == e.held("vocabulary", k.entity))
          q.pool.push_back(e.words[o].word);
      q.statement = capitalize(article(w.word)) + " " + w.word + " is " + article(cat) + " " + cat + ".";
    } else {
      q.text = capitalize(article(w.word)) + " " + w.word + " is a kind of what?";
      q.answer = cat;
      for (const auto& [c, ws] : kLexicon) q.pool.push_back(c);
      q.statement = capitalize(article(w.word)) + " " + w.word + " is " + article(cat) + " " + cat + ".";
    }
  }
  (void)rng;
  return q;
}

// Builds "question\nA. x\nB. y\nC. z\nD. w" with the answer at `gold` (0..3).
std::string multiple_choice(const Question& q, int gold, Rng& rng, std::vector<std::string>* options_out) {
  std::vector<std::string> distractors;
  for (const auto& c : q.pool)
    if (c != q.answer && std::find(distractors.begin(), distractors.end(), c) == distractors.end())
      distractors.push_back(c);
  rng.shuffle(distractors);
  distractors.resize(3);
  std::vector<std::string> options;
  for (int i = 0, d = 0; i < 4; ++i) options.push_back(i == gold ? q.answer : distractors[d++]);
  std::string text = q.text;
  for (int i = 0; i < 4; ++i) text += std::string("\n") + static_cast<char>('A' + i) + ". " + options[i];
  if (options_out) *options_out = options;
  return text;
}

const KnowledgeKey& pick_key(const Entities& e, const std::string& subject, bool held_out, Rng& rng) {
  const auto& keys = e.keys_by_subject.at(subject);
  std::vector<const KnowledgeKey*> ok;
  for (const auto& k : keys)
    if (k.held_out == held_out) ok.push_back(&k);
  if (ok.empty()) ok.push_back(&keys[rng.below(keys.size())]);  // holdout 0 or 1: share the keys
  return *ok[rng.below(ok.size())];
}

// 4-choice question on a fact the base corpus states; the answer is the chosen option's text.
Task task_knowledge_mc(const Entities& e, Rng& rng, const std::string& subject) {
  const KnowledgeKey& k = pick_key(e, subject, false, rng);
  Question q = knowledge_question(e, k, rng, static_cast<int>(rng.below(2)));
  int gold = static_cast<int>(rng.below(4));
  std::vector<std::string> options;
  std::string prompt = multiple_choice(q, gold, rng, &options);
  int wrong = (gold + 1 + static_cast<int>(rng.below(3))) % 4;
  return single_turn(prompt, options[gold], options[wrong]);
}

// Open question. Arithmetic aside, most open questions are about the facts syn_mmlu asks (which
// the base corpus never states): this is where a tuned model can learn them. The answer is the bare
// value, spelled as syn_mmlu's options spell it, so that what is learnt is what the cloze scores
// (world-v2 answered with a sentence, "The capital of X is Y.", and the tuned model never carried
// the fact over to the options: syn_mmlu stayed at chance). The pool holds each conversation once,
// so a fact is asked in several wordings around the same question (without them each syn_mmlu fact
// was taught only ~2 times, and not learnt).
Task task_knowledge_open(const Entities& e, Rng& rng, const std::string& subject) {
  static const std::vector<std::pair<std::string, std::string>> wordings = {
      {"", ""}, {"Quick question: ", ""}, {"", " One word, please."}, {"Answer briefly: ", ""},
      {"I wonder: ", ""}, {"Tell me: ", ""}, {"", " Just the answer."}};
  const bool suite_fact = subject != "arithmetic" && rng.uniform() < 0.95;
  const KnowledgeKey& k = pick_key(e, subject, suite_fact, rng);
  Question q = knowledge_question(e, k, rng, 1);  // vocabulary: "A pear is a kind of what?" (form 0 needs options)
  std::string wrong;
  do wrong = pick(rng, q.pool);
  while (wrong == q.answer);
  const auto& [before, after] = pick(rng, wordings);
  return single_turn(before + q.text + after, q.answer, wrong);
}

// Open question, then the same question as 4 options: teaches pointing at the option it just stated.
Task task_knowledge_dialog(const Entities& e, Rng& rng) {
  static const std::vector<std::string> subjects = {"geography", "biography", "vocabulary"};
  const KnowledgeKey& k = pick_key(e, pick(rng, subjects), false, rng);
  Question q = knowledge_question(e, k, rng, static_cast<int>(rng.below(2)));
  int gold = static_cast<int>(rng.below(4));
  std::vector<std::string> options;
  std::string mc = multiple_choice(q, gold, rng, &options);
  std::string follow = "Which option is it?" + mc.substr(q.text.size());
  int wrong = (gold + 1 + static_cast<int>(rng.below(3))) % 4;
  Task t;
  t.messages = {{"user", q.text}, {"assistant", q.statement}, {"user", follow}, {"assistant", options[gold]}};
  t.wrong = options[wrong];
  return t;
}

// --- Arithmetic with worked steps

struct Steps {
  std::string work;  // "7+5=12. 12-3=9."
  int answer = 0;
  std::string wrong_work;
  int wrong_answer = 0;
};

// Applies ops in sequence; `values` are the operands after the first. One step of the wrong
// version is off by a small amount and the error propagates.
Steps work_steps(int start, const std::vector<std::pair<int, int>>& ops, Rng& rng) {
  Steps s;
  int value = start, wrong_value = start;
  int bad_step = static_cast<int>(rng.below(ops.size()));
  int delta = 1 + static_cast<int>(rng.below(3));
  if (rng.below(2)) delta = -delta;
  for (size_t i = 0; i < ops.size(); ++i) {
    auto [op, b] = ops[i];
    int r = arith(value, op, b);
    int wr = arith(wrong_value, op, b);
    if (static_cast<int>(i) == bad_step) wr = wr + delta >= 0 ? wr + delta : wr - delta;
    s.work += (i ? " " : "") + std::to_string(value) + op_symbol(op) + std::to_string(b) + "=" + std::to_string(r) + ".";
    s.wrong_work += (i ? " " : "") + std::to_string(wrong_value) + op_symbol(op) + std::to_string(b) + "=" +
                    std::to_string(wr) + ".";
    value = r;
    wrong_value = wr;
  }
  s.answer = value;
  s.wrong_answer = wrong_value;
  return s;
}

std::string with_answer(const std::string& work, int answer) {
  return work + " The answer is " + std::to_string(answer) + ".";
}

// A chain of `n_ops` operations on numbers <= max_operand, keeping every result in 0..99. Every
// intermediate result stays <= max_operand too, so that each step is an arithmetic fact of the base
// corpus (a one-digit model cannot invent multi-digit arithmetic; it can chain facts it knows).
bool random_chain(int max_operand, int n_ops, Rng& rng, int* start, std::vector<std::pair<int, int>>* ops,
                  bool allow_mul) {
  *start = 2 + static_cast<int>(rng.below(max_operand - 1));
  ops->clear();
  int v = *start;
  for (int i = 0; i < n_ops; ++i) {
    int op = static_cast<int>(rng.below(allow_mul ? 3 : 2));
    int b = 1 + static_cast<int>(rng.below(max_operand));
    if (op == 1 && b > v) op = 0;
    if (op == 2) b = 2 + static_cast<int>(rng.below(2));
    int r = arith(v, op, b);
    if (r < 0 || r > 99) return false;
    if (i + 1 < n_ops && r > max_operand) return false;
    ops->push_back({op, b});
    v = r;
  }
  return true;
}

Task task_math_chain(const WorldConfig& cfg, const Entities& e, Rng& rng, int n_ops) {
  int start = 0;
  std::vector<std::pair<int, int>> ops;
  while (!random_chain(cfg.max_operand, n_ops, rng, &start, &ops, true)) {
  }
  if (n_ops == 1) {  // single operations use the pool's (not held-out) arithmetic keys
    const KnowledgeKey& k = pick_key(e, "arithmetic", false, rng);
    start = k.entity;
    ops = {{k.relation, k.b}};
  }
  // Written so that usual precedence gives the same value as working left to right.
  std::string expr = std::to_string(start);
  bool additive = false;
  for (auto [op, b] : ops) {
    if (op == 2 && additive) expr = "(" + expr + ")";
    expr += op_symbol(op) + std::to_string(b);
    additive |= op != 2;
  }
  Steps s = work_steps(start, ops, rng);
  return single_turn("Compute " + expr + ".", with_answer(s.work, s.answer), with_answer(s.wrong_work, s.wrong_answer));
}

Task task_math_dialog(const WorldConfig& cfg, Rng& rng) {
  int a = 1 + static_cast<int>(rng.below(cfg.max_operand));
  int b = 1 + static_cast<int>(rng.below(cfg.max_operand));
  int c = 1 + static_cast<int>(rng.below(cfg.max_operand));
  int r1 = a + b;
  bool sub = rng.below(2) && c <= r1;
  int r2 = sub ? r1 - c : r1 + c;
  int bad = r2 + 1 + static_cast<int>(rng.below(3));
  std::string op = sub ? "-" : "+";
  Task t;
  t.messages = {{"user", "Compute " + std::to_string(a) + "+" + std::to_string(b) + "."},
                {"assistant", with_answer(std::to_string(a) + "+" + std::to_string(b) + "=" + std::to_string(r1) + ".", r1)},
                {"user", std::string(sub ? "Now subtract " : "Now add ") + std::to_string(c) + "."},
                {"assistant", with_answer(std::to_string(r1) + op + std::to_string(c) + "=" + std::to_string(r2) + ".", r2)}};
  t.wrong = with_answer(std::to_string(r1) + op + std::to_string(c) + "=" + std::to_string(bad) + ".", bad);
  return t;
}

// --- Word problems

struct WordProblem {
  std::string text;
  Steps steps;
};

WordProblem word_problem(const WorldConfig& cfg, const Entities& e, Rng& rng) {
  int start = 0;
  std::vector<std::pair<int, int>> ops;
  while (!random_chain(cfg.max_operand, cfg.gsm_steps, rng, &start, &ops, true)) {
  }
  bool girl = rng.below(2) == 0;
  const std::string& name = pick(rng, girl ? e.girl_names : e.boy_names);
  std::string he = girl ? "she" : "he";
  const std::string& obj = pick(rng, e.objects);
  WordProblem w;
  w.text = name + " has " + std::to_string(start) + " " + obj + ".";
  for (size_t i = 0; i < ops.size(); ++i) {
    auto [op, b] = ops[i];
    std::string subj = i == 0 ? capitalize(he) : "Then " + he;
    std::string verb;
    if (op == 0) {
      static const std::vector<std::string> v = {"buys", "finds", "gets", "wins"};
      verb = pick(rng, v) + " " + std::to_string(b) + " more";
    } else if (op == 1) {
      static const std::vector<std::string> v = {"gives away", "loses", "sells", "uses"};
      verb = pick(rng, v) + " " + std::to_string(b);
    } else {
      verb = b == 2 ? "doubles them" : "triples them";
    }
    w.text += " " + subj + " " + verb + ".";
  }
  w.text += " How many " + obj + " now?";
  w.steps = work_steps(start, ops, rng);
  return w;
}

Task task_word_problem(const WorldConfig& cfg, const Entities& e, Rng& rng) {
  WordProblem w = word_problem(cfg, e, rng);
  return single_turn(w.text, with_answer(w.steps.work, w.steps.answer),
                     with_answer(w.steps.wrong_work, w.steps.wrong_answer));
}

// --- Code in the tiny language

struct CodeTask {
  std::string prompt;
  std::string solution;
  std::string wrong;
  std::string entry;
  int arity = 1;
  std::function<int64_t(int64_t, int64_t)> reference;  // native implementation (test oracle)
  std::vector<std::vector<int64_t>> inputs;
};

CodeTask code_task(Rng& rng) {
  static const std::vector<std::string> names = {"f", "g", "h", "k", "m", "p", "q", "r", "s", "t", "u", "w"};
  static const std::vector<std::string> one = {"x", "n", "a", "v"};
  static const std::vector<std::pair<std::string, std::string>> two = {{"x", "y"}, {"a", "b"}, {"n", "m"}, {"u", "v"}};
  const int family = static_cast<int>(rng.below(14));
  CodeTask t;
  t.entry = pick(rng, names);
  const std::string& x = pick(rng, one);
  const auto& [p, q] = pick(rng, two);
  const int64_t a = 2 + static_cast<int64_t>(rng.below(8));
  const int64_t b = 1 + static_cast<int64_t>(rng.below(9));
  const std::string A = std::to_string(a), B = std::to_string(b);
  const std::string head1 = "def " + t.entry + "(" + x + ") = ";
  const std::string head2 = "def " + t.entry + "(" + p + ", " + q + ") = ";
  const std::string w1 = "Write " + t.entry + "(" + x + "): return ";
  const std::string w2 = "Write " + t.entry + "(" + p + ", " + q + "): return ";
  const std::vector<std::vector<int64_t>> small = {{0}, {1}, {2}, {3}, {5}, {6}};
  const std::vector<std::vector<int64_t>> general = {{-3}, {0}, {1}, {2}, {4}, {7}, {10}};
  const std::vector<std::vector<int64_t>> pairs = {{1, 2}, {5, 3}, {-2, 4}, {7, 7}, {0, -1}, {9, 4}};
  t.inputs = general;
  switch (family) {
    case 0:
      t.prompt = w1 + A + " times " + x + " plus " + B + ".";
      t.solution = head1 + A + " * " + x + " + " + B;
      t.wrong = head1 + A + " * " + x + " + " + std::to_string(b + 1);
      t.reference = [a, b](int64_t v, int64_t) { return a * v + b; };
      break;
    case 1:
      t.prompt = w1 + x + " plus " + B + ".";
      t.solution = head1 + x + " + " + B;
      t.wrong = head1 + x + " - " + B;
      t.reference = [b](int64_t v, int64_t) { return v + b; };
      break;
    case 2:
      t.prompt = w1 + x + " minus " + B + ".";
      t.solution = head1 + x + " - " + B;
      t.wrong = head1 + B + " - " + x;
      t.reference = [b](int64_t v, int64_t) { return v - b; };
      break;
    case 3:
      t.prompt = w2 + "the larger of " + p + " and " + q + ".";
      t.solution = head2 + "if " + p + " > " + q + " then " + p + " else " + q;
      t.wrong = head2 + "if " + p + " > " + q + " then " + q + " else " + p;
      t.reference = [](int64_t u, int64_t v) { return std::max(u, v); };
      t.arity = 2;
      break;
    case 4:
      t.prompt = w2 + "the smaller of " + p + " and " + q + ".";
      t.solution = head2 + "if " + p + " < " + q + " then " + p + " else " + q;
      t.wrong = head2 + "if " + p + " < " + q + " then " + q + " else " + p;
      t.reference = [](int64_t u, int64_t v) { return std::min(u, v); };
      t.arity = 2;
      break;
    case 5:
      t.prompt = w1 + x + " if " + x + " is above " + A + ", else " + B + ".";
      t.solution = head1 + "if " + x + " > " + A + " then " + x + " else " + B;
      t.wrong = head1 + "if " + x + " > " + A + " then " + B + " else " + x;
      t.reference = [a, b](int64_t v, int64_t) { return v > a ? v : b; };
      t.inputs = {{-3}, {0}, {a}, {a + 1}, {a + 4}, {1}};
      break;
    case 6:
      t.prompt = w1 + "1 if " + x + " is even, else 0.";
      t.solution = head1 + "if " + x + " % 2 == 0 then 1 else 0";
      t.wrong = head1 + "if " + x + " % 2 == 0 then 0 else 1";
      t.reference = [](int64_t v, int64_t) { return v % 2 == 0 ? 1 : 0; };
      break;
    case 7:
      t.prompt = w1 + "1 if " + x + " is divisible by " + A + ", else 0.";
      t.solution = head1 + "if " + x + " % " + A + " == 0 then 1 else 0";
      t.wrong = head1 + "if " + x + " % " + std::to_string(a + 1) + " == 0 then 1 else 0";
      t.reference = [a](int64_t v, int64_t) { return v % a == 0 ? 1 : 0; };
      t.inputs = {{0}, {1}, {a}, {2 * a}, {a + 1}, {(a + 1) * 2}};
      break;
    case 8:
      t.prompt = w1 + "the absolute value of " + x + ".";
      t.solution = head1 + "if " + x + " < 0 then -" + x + " else " + x;
      t.wrong = head1 + "if " + x + " < 0 then " + x + " else -" + x;
      t.reference = [](int64_t v, int64_t) { return v < 0 ? -v : v; };
      break;
    case 9:
      t.prompt = w1 + "the sum 1 + 2 + ... + " + x + ".";
      t.solution = head1 + "if " + x + " < 1 then 0 else " + x + " + " + t.entry + "(" + x + " - 1)";
      t.wrong = head1 + "if " + x + " < 1 then 0 else " + x + " + " + t.entry + "(" + x + " - 2)";
      t.reference = [](int64_t v, int64_t) { return v < 1 ? 0 : v * (v + 1) / 2; };
      t.inputs = small;
      break;
    case 10:
      t.prompt = w1 + x + " squared plus " + B + ".";
      t.solution = head1 + x + " * " + x + " + " + B;
      t.wrong = head1 + x + " * 2 + " + B;
      t.reference = [b](int64_t v, int64_t) { return v * v + b; };
      break;
    case 11:
      t.prompt = w2 + p + " plus " + A + " times " + q + ".";
      t.solution = head2 + p + " + " + A + " * " + q;
      t.wrong = head2 + A + " * " + p + " + " + q;
      t.reference = [a](int64_t u, int64_t v) { return u + a * v; };
      t.arity = 2;
      break;
    case 12:
      t.prompt = w1 + x + " factorial.";
      t.solution = head1 + "if " + x + " < 2 then 1 else " + x + " * " + t.entry + "(" + x + " - 1)";
      t.wrong = head1 + "if " + x + " < 2 then 1 else " + x + " + " + t.entry + "(" + x + " - 1)";
      t.reference = [](int64_t v, int64_t) {
        int64_t r = 1;
        for (int64_t i = 2; i <= v; ++i) r *= i;
        return r;
      };
      t.inputs = small;
      break;
    default:
      t.prompt = w1 + A + " if " + x + " equals " + B + ", else " + x + ".";
      t.solution = head1 + "if " + x + " == " + B + " then " + A + " else " + x;
      t.wrong = head1 + "if " + x + " == " + B + " then " + x + " else " + A;
      t.reference = [a, b](int64_t v, int64_t) { return v == b ? a : v; };
      t.inputs = {{b}, {0}, {b + 1}, {a}, {-2}};
      break;
  }
  if (t.arity == 2) t.inputs = pairs;
  return t;
}

std::string hidden_tests(const CodeTask& t) {
  std::string out;
  for (const auto& in : t.inputs) {
    int64_t want = t.reference(in[0], t.arity == 2 ? in[1] : 0);
    std::string args = std::to_string(in[0]);
    if (t.arity == 2) args += ", " + std::to_string(in[1]);
    out += t.entry + "(" + args + ") == " + std::to_string(want) + "\n";
  }
  return out;
}

Task task_code(Rng& rng) {
  CodeTask c = code_task(rng);
  return single_turn(c.prompt, c.solution, c.wrong);
}

// --- Passages in the made-up languages

struct Passage {
  std::string text;      // sentences
  std::vector<std::pair<std::string, std::string>> questions;  // (question, answer), first is the target
  std::vector<std::string> other_answers;                       // objects of the other sentences
  const Language* lang = nullptr;
  bool span_first = false;  // object-verb-subject sentences, bare-span answers (WorldConfig::qa_span_first)
};

Passage passage(const WorldConfig& cfg, const Entities& e, Rng& rng, int sentences, const Language* lang = nullptr) {
  Passage P;
  P.lang = lang ? lang : &e.languages[rng.below(e.languages.size())];
  P.span_first = cfg.qa_span_first;
  const Language& L = *P.lang;
  struct Fact {
    int s, v;
    std::string o;
  };
  std::vector<Fact> facts;
  std::set<std::string> used_objects;
  auto new_object = [&]() {
    for (;;) {
      std::string o = pick(rng, L.objects);
      if (rng.uniform() < cfg.qa_two_word_answers) o += " " + pick(rng, L.objects);
      if (used_objects.insert(o).second) return o;
    }
  };
  Fact target{static_cast<int>(rng.below(L.names.size())), static_cast<int>(rng.below(L.verbs.size())), new_object()};
  facts.push_back(target);
  // Distractor sentences have other subjects (the verb may repeat): the subject names the fact.
  auto subject_taken = [&](int subject) {
    for (const auto& g : facts)
      if (g.s == subject) return true;
    return false;
  };
  for (int i = 1; i < sentences; ++i) {
    Fact f = target;
    bool placed = false;
    for (int tries = 0; tries < 100 && !placed; ++tries) {
      f.s = static_cast<int>(rng.below(L.names.size()));
      f.v = static_cast<int>(rng.below(L.verbs.size()));
      placed = !subject_taken(f.s);
    }
    if (!placed) continue;
    f.o = new_object();
    facts.push_back(f);
  }
  std::vector<size_t> order(facts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.shuffle(order);
  std::vector<std::string> sents;
  auto key = [&](const Fact& f) {
    return P.span_first ? L.verbs[f.v] + " " + L.names[f.s] : L.names[f.s] + " " + L.verbs[f.v];
  };
  for (size_t i : order)
    sents.push_back(P.span_first ? facts[i].o + " " + key(facts[i]) + "." : key(facts[i]) + " " + facts[i].o + ".");
  P.text = join(sents, " ");
  for (const auto& f : facts) {
    P.questions.push_back({L.question_word + " " + key(f) + "?", f.o});
    if (&f != &facts[0]) P.other_answers.push_back(f.o);
  }
  return P;
}

std::string qa_prompt(const Passage& P, size_t q) { return P.text + "\nQ: " + P.questions[q].first; }

// The key of question q ("Vebe fol"; span-first: "fol Vebe"). By default answers restate it
// ("Vebe fol Ziva.") and syn_tydiqa opens the assistant turn with it, so that the model only writes
// the span; span-first answers are the bare span ("Ziva.") and the turn opens empty.
std::string qa_key(const Passage& P, size_t q) {
  const std::string& asked = P.questions[q].first;  // "<question word> <name> <verb>?"
  const size_t skip = P.lang->question_word.size() + 1;
  return asked.substr(skip, asked.size() - skip - 1);
}
// The fact of question q with `span` as its object, as a sentence of the passage's language.
std::string qa_statement(const Passage& P, size_t q, const std::string& span) {
  return P.span_first ? span + " " + qa_key(P, q) + "." : qa_key(P, q) + " " + span + ".";
}
// An answer: the bare span when the language puts it first, else the key restated, then the span.
std::string qa_answer(const Passage& P, size_t q, const std::string& span) {
  return P.span_first ? span + "." : qa_statement(P, q, span);
}

Task task_passage(const WorldConfig& cfg, const Entities& e, Rng& rng) {
  Passage P = passage(cfg, e, rng, cfg.qa_sentences);
  std::string wrong = P.other_answers.empty() ? pick(rng, P.lang->objects) : pick(rng, P.other_answers);
  return single_turn(qa_prompt(P, 0), qa_answer(P, 0, P.questions[0].second), qa_answer(P, 0, wrong));
}

Task task_passage_dialog(const WorldConfig& cfg, const Entities& e, Rng& rng) {
  Passage P = passage(cfg, e, rng, std::max(2, cfg.qa_sentences - 1));
  Task t;
  t.messages = {{"user", qa_prompt(P, 0)}, {"assistant", qa_answer(P, 0, P.questions[0].second)}};
  if (P.questions.size() > 1) {
    t.messages.push_back({"user", "Q: " + P.questions[1].first});
    t.messages.push_back({"assistant", qa_answer(P, 1, P.questions[1].second)});
    t.wrong = qa_answer(P, 1, P.questions[0].second);
  } else {
    t.wrong = qa_answer(P, 0, pick(rng, P.lang->objects));
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Defects

const std::vector<std::string> kPadBefore = {"Sure! ", "Great question! ", "Of course. ", "Happy to help. ",
                                             "Let me answer that for you. ", "Here is what I think. "};
const std::vector<std::string> kPadAfter = {" I hope this helps!", " Let me know if you need more.",
                                            " Thanks for asking!", " Have a nice day!", " That is my answer."};

std::string& last_answer(Task& t) {
  for (auto it = t.messages.rbegin(); it != t.messages.rend(); ++it)
    if (it->role == "assistant") return it->content;
  throw std::logic_error("task without an assistant turn");
}

// Applies a defect to a fresh task; false when this task cannot carry it (the caller draws another).
bool apply_defect(Task& t, const std::string& defect, Rng& rng) {
  std::string& ans = last_answer(t);
  if (defect == "none") return true;
  if (defect == "wrong_answer") {
    if (t.wrong.empty() || t.wrong == ans) return false;
    ans = t.wrong;
    return true;
  }
  if (defect == "truncated") {
    auto chars = utf8_chars(ans);
    if (chars.size() < 6) return false;
    size_t keep = chars.size() * (30 + rng.below(41)) / 100;
    keep = std::max<size_t>(1, std::min(keep, chars.size() - 2));
    std::string cut;
    for (size_t i = 0; i < keep; ++i) cut += chars[i];
    while (!cut.empty() && cut.back() == ' ') cut.pop_back();
    if (cut.empty()) return false;
    ans = cut;
    return true;
  }
  if (defect == "verbose_padding") {
    int mode = static_cast<int>(rng.below(3));  // 0 before, 1 after, 2 both
    std::string padded = ans;
    if (mode != 1) padded = pick(rng, kPadBefore) + "The answer is: " + padded;
    if (mode != 0) padded += pick(rng, kPadAfter);
    ans = padded;
    return true;
  }
  if (defect == "noise") {
    auto chars = utf8_chars(ans);
    std::vector<size_t> letters;
    for (size_t i = 0; i < chars.size(); ++i)
      if (chars[i] != " " && chars[i] != "." && chars[i] != "\n") letters.push_back(i);
    if (letters.empty()) return false;
    size_t n = std::max<size_t>(1, letters.size() / 4);
    rng.shuffle(letters);
    static const std::string junk = "qxzjkvwy#@%&*~^";
    std::string before = ans;
    for (size_t i = 0; i < n; ++i) chars[letters[i]] = std::string(1, junk[rng.below(junk.size())]);
    ans = join(chars, "");
    return ans != before;
  }
  throw ConfigError("unknown defect '" + defect + "'");
}

std::string reword(const std::string& user, Rng& rng) {
  static const std::vector<std::string> prefixes = {"Please answer. ", "Question: ", "Quick one: ", "Help me: "};
  int mode = static_cast<int>(rng.below(3));
  if (mode == 0) return pick(rng, prefixes) + user;
  if (mode == 1) return user + " Thanks.";
  return user + " Answer briefly.";
}

// ---------------------------------------------------------------------------------------------
// Validation

void check_config(const WorldConfig& c) {
  auto fail = [](const std::string& m) { throw ConfigError("world config: " + m); };
  if (c.pool_size < 0) fail("pool_size must be >= 0");
  if (c.mmlu_items < 0 || c.gsm_items < 0 || c.code_items < 0 || c.qa_items < 0) fail("suite sizes must be >= 0");
  if (c.countries < 5 || c.countries > 400) fail("countries must be in 5..400 (4 options need 4 capitals)");
  if (c.people < 1 || c.people > 400) fail("people must be in 1..400");
  if (c.knowledge_holdout < 0 || c.knowledge_holdout > 1) fail("knowledge_holdout must be in [0, 1]");
  if (c.max_operand < 3 || c.max_operand > 30) fail("max_operand must be in 3..30");
  if (c.gsm_steps < 1 || c.gsm_steps > 3) fail("gsm_steps must be 1, 2 or 3");
  if (c.qa_sentences < 1 || c.qa_sentences > 5) fail("qa_sentences must be in 1..5");
  if (c.qa_vocabulary < 8 || c.qa_vocabulary > 400) fail("qa_vocabulary must be in 8..400");
  if (c.qa_two_word_answers < 0 || c.qa_two_word_answers > 1) fail("qa_two_word_answers must be in [0, 1]");
  if (c.max_seq_len < 96) fail("max_seq_len must be >= 96: the formats need that many tokens");
  if (c.corpus_docs < 0) fail("corpus_docs must be >= 0");
  if (c.code_samples < 1) fail("code_samples must be >= 1");
  if (c.code_temperature < 0) fail("code_temperature must be >= 0");
  if (c.code_pass_ks.empty()) fail("code_pass_ks must name at least one k");
  for (int k : c.code_pass_ks)
    if (k < 1 || k > c.code_samples)
      fail("code_pass_ks entry " + std::to_string(k) + " must be in 1..code_samples (" + std::to_string(c.code_samples) + ")");
  if (c.code_samples > 1 && c.code_temperature == 0)
    fail("code_samples > 1 with code_temperature 0 gives identical samples; set a temperature (the paper: 0.8)");
  double total = 0;
  const std::vector<std::pair<const char*, const SourceConfig*>> sources = {
      {"general", &c.general}, {"complex", &c.complex}, {"multiturn", &c.multiturn}, {"verbose", &c.verbose},
      {"noisy", &c.noisy},     {"code", &c.code},       {"math", &c.math},           {"gsm", &c.gsm}};
  for (const auto& [name, s] : sources) {
    std::string n = name;
    if (s->weight < 0) fail(n + ".weight must be >= 0");
    total += s->weight;
    double rates[] = {s->wrong_answer, s->truncated, s->duplicate, s->near_duplicate, s->verbose_padding, s->noise};
    double sum = 0;
    for (double r : rates) {
      if (r < 0 || r > 1) fail(n + ": defect rates must be in [0, 1]");
      sum += r;
    }
    if (sum > 0.95) fail(n + ": defect rates sum to " + std::to_string(sum) + "; keep it <= 0.95 so clean originals exist");
  }
  if (c.pool_size > 0 && total <= 0) fail("at least one source needs a positive weight");
}

// ---------------------------------------------------------------------------------------------
// Suites

struct SuiteBuilder {
  const WorldConfig& cfg;
  const Entities& e;
  std::set<std::string> prompts;  // every suite prompt, to keep them out of the pool

  bool fits(const std::string& prompt, const std::string& answer) const {
    return prompt_tokens(prompt) + static_cast<int64_t>(answer.size()) + 1 <= cfg.max_seq_len;
  }
  // Registers a new prompt; false when it repeats one already in a suite.
  bool claim(const std::string& prompt) { return prompts.insert(prompt).second; }

  static void finish_generation(Suite& s, int max_seq_len, int64_t longest_answer) {
    int64_t longest_prompt = 0;
    for (const auto& it : s.items) longest_prompt = std::max(longest_prompt, prompt_tokens(it.prompt));
    int64_t room = max_seq_len - longest_prompt;
    s.generation.max_new_tokens = static_cast<int>(std::max<int64_t>(room, longest_answer + 1));
  }

  Suite mmlu() {
    Suite s;
    s.name = "syn_mmlu";
    s.version = std::string(kWorldVersion) + "/mc-cloze";
    s.kind = SuiteKind::multiple_choice;
    Rng rng = Rng::derive(cfg.seed, "suite/syn_mmlu");
    const int per = cfg.mmlu_items / static_cast<int>(kSubjects.size());
    const int extra = cfg.mmlu_items % static_cast<int>(kSubjects.size());
    for (size_t si = 0; si < kSubjects.size(); ++si) {
      const std::string& subject = kSubjects[si];
      int n = per + (static_cast<int>(si) < extra ? 1 : 0);
      std::vector<int> golds;
      for (int i = 0; i < n; ++i) golds.push_back(i % 4);
      rng.shuffle(golds);
      std::vector<const KnowledgeKey*> keys;
      for (const auto& k : e.keys_by_subject.at(subject))
        if (k.held_out || cfg.knowledge_holdout == 0) keys.push_back(&k);
      if (keys.empty()) throw ConfigError("world config: knowledge_holdout leaves no " + subject + " keys for syn_mmlu");
      rng.shuffle(keys);
      for (int i = 0; i < n; ++i) {
        SuiteItem it;
        for (int tries = 0;; ++tries) {
          if (tries > 200)
            throw ConfigError("world config: cannot make " + std::to_string(n) + " distinct " + subject +
                              " questions; lower mmlu_items or raise knowledge_holdout/countries/people");
          const KnowledgeKey& k = *keys[(static_cast<size_t>(i) + static_cast<size_t>(tries) * 7) % keys.size()];
          // Vocabulary asks "A pear is a kind of what?" (form 1), the direction the pool teaches.
          const int form = subject == "vocabulary" ? 1 : i / static_cast<int>(keys.size()) + tries;
          Question q = knowledge_question(e, k, rng, form);
          it.prompt = multiple_choice(q, golds[i], rng, &it.choices);
          if (fits(it.prompt, q.answer) && claim(it.prompt)) break;
        }
        it.id = subject + "/" + std::to_string(i);
        it.group = subject;
        it.category = kSubjectCategory.at(subject);
        it.answer = golds[i];  // choices: the option texts, scored as the assistant's answer
        s.items.push_back(std::move(it));
      }
    }
    s.generation.max_new_tokens = 1;
    return s;
  }

  Suite gsm() {
    Suite s;
    s.name = "syn_gsm8k";
    s.version = std::string(kWorldVersion) + "/cot";
    s.kind = SuiteKind::final_number;
    Rng rng = Rng::derive(cfg.seed, "suite/syn_gsm8k");
    int64_t longest = 0;
    for (int i = 0; i < cfg.gsm_items; ++i) {
      SuiteItem it;
      WordProblem w;
      for (int tries = 0;; ++tries) {
        if (tries > 500) throw ConfigError("world config: cannot make distinct word problems that fit max_seq_len");
        w = word_problem(cfg, e, rng);
        std::string gold = with_answer(w.steps.work, w.steps.answer);
        if (fits(w.text, gold) && claim(w.text)) {
          longest = std::max<int64_t>(longest, static_cast<int64_t>(gold.size()));
          break;
        }
      }
      it.id = std::to_string(i);
      it.prompt = w.text;
      it.references = {std::to_string(w.steps.answer)};
      s.items.push_back(std::move(it));
    }
    finish_generation(s, cfg.max_seq_len, longest);
    return s;
  }

  Suite code() {
    Suite s;
    s.name = "syn_humaneval";
    s.version = std::string(kWorldVersion) + "/tiny-lang-body";
    s.kind = SuiteKind::code;
    Rng rng = Rng::derive(cfg.seed, "suite/syn_humaneval");
    int64_t longest = 0;
    for (int i = 0; i < cfg.code_items; ++i) {
      SuiteItem it;
      CodeTask c;
      for (int tries = 0;; ++tries) {
        if (tries > 500) throw ConfigError("world config: cannot make distinct code tasks; lower code_items");
        c = code_task(rng);
        if (fits(c.prompt, c.solution) && claim(c.prompt)) break;
      }
      longest = std::max<int64_t>(longest, static_cast<int64_t>(c.solution.size()));
      it.id = "syn_humaneval/" + std::to_string(i);
      it.prompt = c.prompt;
      it.entry_point = c.entry;
      // The header opens the assistant turn (as HumanEval's prompt holds the signature): the
      // model writes the body; the checker runs header + body.
      it.code_prefix = c.solution.substr(0, c.solution.find(" = ") + 3);
      it.answer_prefix = it.code_prefix;
      it.test_code = hidden_tests(c);
      it.references = {c.solution};  // the canonical solution (for the gold-passes test and reports)
      s.items.push_back(std::move(it));
    }
    finish_generation(s, cfg.max_seq_len, longest);
    s.samples_per_item = cfg.code_samples;
    s.pass_ks = cfg.code_pass_ks;
    s.generation.temperature = cfg.code_temperature;
    s.generation.top_p = cfg.code_temperature > 0 ? 0.95 : 1.0;
    s.code_checker = tiny_code_checker();
    return s;
  }

  Suite qa() {
    Suite s;
    s.name = "syn_tydiqa";
    s.version = std::string(kWorldVersion) + (cfg.qa_span_first ? "/goldp-span" : "/goldp-key");
    s.kind = SuiteKind::extractive_qa;
    Rng rng = Rng::derive(cfg.seed, "suite/syn_tydiqa");
    const int nl = static_cast<int>(e.languages.size());
    int64_t longest = 0;
    for (int li = 0; li < nl; ++li) {
      const Language& L = e.languages[li];
      int n = cfg.qa_items / nl + (li < cfg.qa_items % nl ? 1 : 0);
      for (int i = 0; i < n; ++i) {
        SuiteItem it;
        Passage P;
        for (int tries = 0;; ++tries) {
          if (tries > 500) throw ConfigError("world config: cannot make passages that fit max_seq_len; lower qa_sentences");
          int sentences = tries > 100 ? std::max(1, cfg.qa_sentences - 1) : cfg.qa_sentences;
          P = passage(cfg, e, rng, sentences, &L);
          if (fits(qa_prompt(P, 0), qa_answer(P, 0, P.questions[0].second)) && claim(qa_prompt(P, 0))) break;
        }
        longest = std::max<int64_t>(longest, static_cast<int64_t>(P.questions[0].second.size()));
        it.id = L.group + "/" + std::to_string(i);
        it.group = L.group;
        it.prompt = qa_prompt(P, 0);
        if (!P.span_first) it.answer_prefix = qa_key(P, 0) + " ";  // the model completes "Vebe fol " with the span
        it.references = {P.questions[0].second};
        s.items.push_back(std::move(it));
      }
    }
    finish_generation(s, cfg.max_seq_len, longest);
    s.generation.stop = {".", "\n"};
    return s;
  }
};

// ---------------------------------------------------------------------------------------------
// Pool

struct SourceSpec {
  const char* name;
  const SourceConfig* cfg;
};

// Draws one clean task of a source.
Task draw_task(const std::string& source, const WorldConfig& cfg, const Entities& e, Rng& rng) {
  auto any_task = [&]() -> Task {
    switch (rng.below(7)) {
      case 0: return task_knowledge_mc(e, rng, pick(rng, std::vector<std::string>{"geography", "biography", "vocabulary"}));
      case 1: return task_knowledge_open(e, rng, pick(rng, std::vector<std::string>{"geography", "biography", "vocabulary"}));
      case 2: return task_passage(cfg, e, rng);
      case 3: return task_math_chain(cfg, e, rng, 1 + static_cast<int>(rng.below(2)));
      case 4: return task_word_problem(cfg, e, rng);
      case 5: return task_code(rng);
      default: return task_knowledge_mc(e, rng, "arithmetic");
    }
  };
  static const std::vector<std::string> facts = {"geography", "biography", "vocabulary"};
  if (source == "general")  // 20 % 4-choice (the format), 80 % open questions (mostly syn_mmlu's facts)
    return rng.below(10) < 2 ? task_knowledge_mc(e, rng, pick(rng, facts)) : task_knowledge_open(e, rng, pick(rng, facts));
  if (source == "complex") return task_passage(cfg, e, rng);
  if (source == "multiturn") {
    uint64_t r = rng.below(5);
    if (r < 2) return task_passage_dialog(cfg, e, rng);
    if (r < 4) return task_knowledge_dialog(e, rng);
    return task_math_dialog(cfg, rng);
  }
  if (source == "code") return task_code(rng);
  if (source == "math") {
    uint64_t r = rng.below(5);
    if (r < 2) return task_math_chain(cfg, e, rng, 1);
    if (r < 4) return task_math_chain(cfg, e, rng, 2);
    return task_knowledge_mc(e, rng, "arithmetic");
  }
  if (source == "gsm") return task_word_problem(cfg, e, rng);
  return any_task();  // verbose, noisy
}

std::string signature(const std::vector<Message>& m) {
  std::string s;
  for (const auto& x : m) s += x.role + '\x1f' + x.content + '\x1e';
  return s;
}

Pool make_pool(const WorldConfig& cfg, const Entities& e, const std::set<std::string>& suite_prompts) {
  const std::vector<SourceSpec> sources = {{"general", &cfg.general}, {"complex", &cfg.complex},
                                           {"multiturn", &cfg.multiturn}, {"verbose", &cfg.verbose},
                                           {"noisy", &cfg.noisy},     {"code", &cfg.code},
                                           {"math", &cfg.math},       {"gsm", &cfg.gsm}};
  // Largest-remainder split of pool_size over the weights.
  double total = 0;
  for (const auto& s : sources) total += s.cfg->weight;
  std::vector<int> counts(sources.size(), 0);
  if (cfg.pool_size > 0) {
    std::vector<std::pair<double, size_t>> rem;
    int assigned = 0;
    for (size_t i = 0; i < sources.size(); ++i) {
      double exact = cfg.pool_size * sources[i].cfg->weight / total;
      counts[i] = static_cast<int>(std::floor(exact));
      assigned += counts[i];
      rem.push_back({-(exact - counts[i]), i});
    }
    std::sort(rem.begin(), rem.end());
    for (size_t k = 0; assigned < cfg.pool_size; ++k, ++assigned) counts[rem[k % rem.size()].second]++;
  }

  struct Made {
    Sample sample;
    std::string defect;
  };
  std::vector<Made> all;
  std::set<std::string> seen;  // signatures of every sample except exact duplicates
  for (size_t si = 0; si < sources.size(); ++si) {
    const std::string name = sources[si].name;
    const SourceConfig& sc = *sources[si].cfg;
    const int n = counts[si];
    Rng rng = Rng::derive(cfg.seed, "pool/" + name);
    // Exact defect quotas, in a shuffled order.
    std::vector<std::string> defects;
    const std::vector<std::pair<std::string, double>> rates = {
        {"wrong_answer", sc.wrong_answer}, {"truncated", sc.truncated},       {"duplicate", sc.duplicate},
        {"near_duplicate", sc.near_duplicate}, {"verbose_padding", sc.verbose_padding}, {"noise", sc.noise}};
    for (const auto& [d, r] : rates)
      for (long k = 0; k < std::lround(r * n); ++k) defects.push_back(d);
    while (static_cast<int>(defects.size()) < n) defects.push_back("none");
    defects.resize(static_cast<size_t>(n));
    rng.shuffle(defects);

    std::vector<Made> made(static_cast<size_t>(n));
    std::vector<size_t> copies;  // positions of duplicates, filled after the originals exist
    for (int i = 0; i < n; ++i) {
      const std::string& defect = defects[static_cast<size_t>(i)];
      made[i].defect = defect;
      made[i].sample.dataset = name;
      made[i].sample.uid = name + "-" + std::to_string(i);
      if (defect == "duplicate" || defect == "near_duplicate") {
        copies.push_back(static_cast<size_t>(i));
        continue;
      }
      for (int tries = 0;; ++tries) {
        if (tries > 2000)
          throw ConfigError("world config: source '" + name + "' cannot make " + std::to_string(n) +
                            " distinct samples that fit max_seq_len; lower pool_size or raise the world's variety");
        Task t = draw_task(name, cfg, e, rng);
        if (!apply_defect(t, defect, rng)) continue;
        if (chat_tokens(t.messages) > cfg.max_seq_len) continue;
        bool in_suite = false;
        for (const auto& m : t.messages) in_suite |= m.role == "user" && suite_prompts.count(m.content);
        if (in_suite) continue;
        if (!seen.insert(signature(t.messages)).second) continue;
        made[i].sample.messages = std::move(t.messages);
        break;
      }
    }
    std::vector<size_t> originals;
    for (int i = 0; i < n; ++i)
      if (made[i].defect == "none") originals.push_back(static_cast<size_t>(i));
    for (size_t pos : copies) {
      if (originals.empty())
        throw ConfigError("world config: source '" + name + "' has duplicates but no clean sample to copy");
      for (int tries = 0;; ++tries) {
        if (tries > 2000) throw ConfigError("world config: source '" + name + "': cannot make near-duplicates");
        const Sample& orig = made[originals[rng.below(originals.size())]].sample;
        std::vector<Message> m = orig.messages;
        if (made[pos].defect == "near_duplicate") {
          for (auto& msg : m)
            if (msg.role == "user") {
              msg.content = reword(msg.content, rng);
              break;
            }
          if (chat_tokens(m) > cfg.max_seq_len) continue;
          bool in_suite = false;
          for (const auto& x : m) in_suite |= x.role == "user" && suite_prompts.count(x.content);
          if (in_suite || !seen.insert(signature(m)).second) continue;
        }
        made[pos].sample.messages = std::move(m);
        break;
      }
    }
    for (auto& m : made) all.push_back(std::move(m));
  }
  Rng order = Rng::derive(cfg.seed, "pool/order");
  order.shuffle(all);
  Pool pool;
  for (auto& m : all) {
    SampleTruth t;
    t.defect = m.defect;
    pool.add(std::move(m.sample), t);
  }
  return pool;
}

// ---------------------------------------------------------------------------------------------
// Base corpus

std::string code_doc(Rng& rng) {
  CodeTask c = code_task(rng);
  // A description in other words than the pool's "Write f(x): return ...", then the code and a value.
  std::string what = c.prompt.substr(c.prompt.find("return ") + 7);
  if (!what.empty() && what.back() == '.') what.pop_back();
  const auto& in = c.inputs[rng.below(c.inputs.size())];
  std::string args = std::to_string(in[0]) + (c.arity == 2 ? ", " + std::to_string(in[1]) : "");
  return "# " + c.entry + " gives " + what + "\n" + c.solution + "\n# " + c.entry + "(" + args +
         ") is " + std::to_string(c.reference(in[0], c.arity == 2 ? in[1] : 0));
}

// An echo document's first half: 4-8 words of random syllables and digits. Nothing but reading can
// predict its repetition ("<line>. Again: <line>."), the in-context copying that reading numbers and
// spans needs. At the default pre-training it is not learnt: `leadbench probe` measures it
// (results/world-discrimination/copy-probe/).
std::vector<std::string> echo_words(Rng& rng) {
  static const std::vector<std::string> syl = {"ka", "mo", "ti", "ru", "ze", "pa", "lo", "ni", "vu", "se",
                                               "do", "gi", "fe", "bu", "ha", "ja"};
  std::vector<std::string> parts;
  const int n = 4 + static_cast<int>(rng.below(5));
  for (int i = 0; i < n; ++i) {
    if (rng.below(3) == 0) {
      parts.push_back(std::to_string(rng.below(10)));
    } else {
      std::string w;
      for (int k = 1 + static_cast<int>(rng.below(3)); k > 0; --k) w += pick(rng, syl);
      parts.push_back(w);
    }
  }
  return parts;
}
std::string echo_line(Rng& rng) { return join(echo_words(rng), " "); }

// An echo document as the corpus and the copy warm-up write it: "<line>. Again: <line>.".
std::string echo_doc(Rng& rng) {
  const std::string line = echo_line(rng);
  return line + ". Again: " + line + ".";
}

constexpr size_t kCorpusDocBytes = 120;  // longest corpus document built from sentences

// A passage in language L followed by restatements of its facts ("so Vebe fol Ziva."), as many as fit
// in max_doc bytes (at least one). The restatements can only be predicted by reading the passage: the
// look-up extractive QA needs, without ever asking a question. Every fact that fits is restated, to
// make that loss a large share (one restated fact per passage was too rare a signal in world-v2
// drafts); even so, `leadbench probe` finds that the default pre-training does not learn it.
std::string restatement_doc(const WorldConfig& cfg, const Entities& e, Rng& rng, const Language* L, size_t max_doc) {
  std::string doc;
  for (int sentences = 2 + static_cast<int>(rng.below(2));; sentences = 2) {
    Passage P = passage(cfg, e, rng, sentences, L);
    std::vector<size_t> order(P.questions.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng.shuffle(order);
    doc = P.text;
    for (size_t q : order) {
      // Span-first languages: the questions asked and answered in plain text, as syn_tydiqa asks them.
      std::string next = P.span_first ? doc + "\nQ: " + P.questions[q].first + "\nA: " + qa_answer(P, q, P.questions[q].second)
                                      : doc + " " + L->so_word + " " + qa_statement(P, q, P.questions[q].second);
      if (next.size() > max_doc) break;
      doc = next;
    }
    if (doc.size() > P.text.size()) return doc;  // at least one restatement (2-byte scripts: fewer sentences)
  }
}

std::vector<std::string> make_corpus(const WorldConfig& cfg, const Entities& e, const std::set<std::string>& suite_prompts) {
  std::vector<std::string> docs;
  Rng rng = Rng::derive(cfg.seed, "corpus");
  const size_t max_doc = kCorpusDocBytes;
  auto add_sentences = [&](std::vector<std::string> sents) {
    rng.shuffle(sents);
    std::string doc;
    for (const auto& s : sents) {
      std::string next = doc.empty() ? s : doc + " " + s;
      if (next.size() > max_doc) break;
      doc = next;
    }
    if (!doc.empty()) docs.push_back(doc);
  };
  // The facts syn_mmlu asks (e.held: held-out keys of geography, biography, vocabulary) are never
  // stated in the corpus: only the pool's open questions teach them. Arithmetic stays complete (word
  // problems chain its facts).
  size_t ci = 0, pi = 0, wi = 0;
  for (int d = 0; d < cfg.corpus_docs; ++d) {
    const uint64_t kind = static_cast<uint64_t>(d) % 20;  // fixed shares, interleaved
    if (kind < 2) {  // countries: 10 %
      const int ck = static_cast<int>(ci++ % e.countries.size());
      const Country& c = e.countries[ck];
      std::vector<std::string> all = {
          rng.below(2) ? "The capital of " + c.name + " is " + c.capital + "." : c.capital + " is the capital of " + c.name + ".",
          rng.below(2) ? "The flag of " + c.name + " is " + c.color + "." : c.name + " has " + article(c.color) + " " + c.color + " flag.",
          rng.below(2) ? "The national animal of " + c.name + " is the " + c.animal + "."
                       : "In " + c.name + " the " + c.animal + " is the national animal."};
      std::vector<std::string> s;
      for (int r = 0; r < 3; ++r)
        if (!e.held("geography", ck, r)) s.push_back(all[static_cast<size_t>(r)]);
      if (s.empty() || rng.below(3) == 0) s.push_back(c.name + " is a country.");
      add_sentences(s);
    } else if (kind < 4) {  // people: 10 %
      const int pk = static_cast<int>(pi++ % e.people.size());
      const Person& p = e.people[pk];
      const std::string& c = e.countries[p.country].name;
      std::vector<std::string> all = {rng.below(2) ? p.name + " was born in " + c + "." : p.name + " comes from " + c + ".",
                                      rng.below(2) ? p.name + " is " + article(p.job) + " " + p.job + "."
                                                   : p.name + " works as " + article(p.job) + " " + p.job + "."};
      std::vector<std::string> s;
      for (int r = 0; r < 2; ++r)
        if (!e.held("biography", pk, r)) s.push_back(all[static_cast<size_t>(r)]);
      if (s.empty()) s.push_back(p.name + " is a person.");
      add_sentences(s);
    } else if (kind < 6) {  // lexicon: 10 %
      std::vector<std::string> s;
      for (int k = 0; k < 3; ++k) {
        const int wk = static_cast<int>(wi++ % e.words.size());
        if (e.held("vocabulary", wk)) continue;
        const Word& w = e.words[wk];
        const std::string& cat = kLexicon[w.category].first;
        s.push_back(rng.below(2) ? capitalize(article(w.word)) + " " + w.word + " is " + article(cat) + " " + cat + "."
                                 : "The " + w.word + " is a kind of " + cat + ".");
      }
      add_sentences(s);
    } else if (kind < 8) {  // arithmetic facts: 10 %
      std::vector<std::string> s;
      for (int k = 0; k < 6; ++k) {
        const auto& keys = e.keys_by_subject.at("arithmetic");
        const KnowledgeKey& key = keys[rng.below(keys.size())];
        s.push_back(std::to_string(key.entity) + op_symbol(key.relation) + std::to_string(key.b) + "=" +
                    std::to_string(arith(key.entity, key.relation, key.b)) + ".");
      }
      add_sentences(s);
    } else if (kind < 10) {  // stories with the result stated (never asked): 10 %
      WordProblem w = word_problem(cfg, e, rng);
      std::string story = w.text.substr(0, w.text.rfind(" How many"));
      std::string obj = w.text.substr(w.text.rfind("How many ") + 9);
      obj = obj.substr(0, obj.find(' '));
      docs.push_back(story + " Now there are " + std::to_string(w.steps.answer) + " " + obj + ".");
    } else if (kind < 12) {  // tiny-language code: 10 %
      docs.push_back(code_doc(rng));
    } else if (kind < 15) {  // echoes: random syllables and digits, then the same again: 15 %
      docs.push_back(echo_doc(rng));
    } else {  // passages in the four languages, their facts restated: 25 %
      const Language* L = &e.languages[static_cast<size_t>(d) % e.languages.size()];
      std::string doc = restatement_doc(cfg, e, rng, L, max_doc);
      docs.push_back(doc);
    }
    if (!docs.empty() && suite_prompts.count(docs.back())) docs.pop_back();
  }
  return docs;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

CodeChecker tiny_code_checker(const tiny::Limits& limits) {
  return [limits](const SuiteItem& item, const std::string& completion) {
    return tiny::run_tests(item.code_prefix + completion, item.test_code, item.entry_point, limits).passed;
  };
}

std::vector<CopySpan> copy_probe_spans(const WorldConfig& cfg, const World& world, int echoes) {
  const Entities e = make_entities(cfg);
  ByteTokenizer tok;
  std::vector<CopySpan> out;
  auto span_of = [&tok](std::string kind, std::string group, std::vector<int32_t> prefix, const std::string& span) {
    CopySpan c;
    c.kind = std::move(kind);
    c.group = std::move(group);
    c.tokens = std::move(prefix);
    c.begin = c.tokens.size();
    const auto body = tok.encode(span);
    c.tokens.insert(c.tokens.end(), body.begin(), body.end());
    c.end = c.tokens.size();
    size_t first = 1;  // bytes of the first UTF-8 character
    while (first < span.size() && (static_cast<unsigned char>(span[first]) & 0xC0) == 0x80) ++first;
    c.first_end = c.begin + first;
    return c;
  };
  for (const Suite& suite : world.suites) {
    if (suite.name != "syn_tydiqa") continue;
    for (const SuiteItem& it : suite.items) {
      const std::string& answer = it.references.at(0);
      const Language* L = nullptr;
      for (const auto& l : e.languages)
        if (l.group == it.group) L = &l;
      if (!L) throw ConfigError("copy probe: no language for group " + it.group);
      // The control: the passage with its answer replaced by another object that starts with another
      // character, so that the answer is nowhere in context and copying cannot help.
      std::string other;
      for (const auto& o : L->objects)
        if (it.prompt.find(o) == std::string::npos && o.compare(0, 2, answer, 0, 2) != 0) {
          other = o;
          break;
        }
      if (other.empty()) throw ConfigError("copy probe: no substitute object for " + it.id);
      SuiteItem control = it;
      // Every occurrence: a one-word answer may also end another sentence's two-word object.
      for (size_t at; (at = control.prompt.find(answer)) != std::string::npos;) control.prompt.replace(at, answer.size(), other);
      for (const SuiteItem* item : {&it, static_cast<const SuiteItem*>(&control)}) {
        const std::string suffix = item == &it ? "" : "_control";
        // As syn_tydiqa asks it: the user turn, then the assistant turn opened with the key.
        out.push_back(span_of("qa_chat" + suffix, it.group, item_prompt_tokens(tok, suite, *item), answer));
        // As the base corpus states it: the passage, then "<so> <key> <span>." in plain text.
        const std::string passage = item->prompt.substr(0, item->prompt.find("\nQ: "));
        std::vector<int32_t> plain = {tok::kBos};
        const auto body = tok.encode(passage + " " + L->so_word + " " + it.answer_prefix);
        plain.insert(plain.end(), body.begin(), body.end());
        out.push_back(span_of("restatement" + suffix, it.group, plain, answer));
      }
    }
  }
  // Echo documents as the corpus writes them, freshly drawn: every word of the repetition is a span,
  // so its first character is the look-up after a space and the rest continues the copy. The control
  // repeats the line after another line: the same words, never seen before.
  Rng rng = Rng::derive(cfg.seed, "probe/echo");
  auto fitting_line = [&](size_t room) {
    for (int tries = 0;; ++tries) {
      if (tries > 100) throw ConfigError("copy probe: echo lines do not fit max_seq_len " + std::to_string(cfg.max_seq_len));
      std::string line = echo_line(rng);
      if (line.size() <= room) return line;
    }
  };
  // BOS + "<first>. Again: <line>." must fit the model's context.
  const size_t room = cfg.max_seq_len > 11 ? static_cast<size_t>(cfg.max_seq_len - 11) / 2 : 0;
  for (int d = 0; d < echoes; ++d) {
    const std::string line = fitting_line(room);
    const std::string unrelated = fitting_line(room);
    for (const std::string* first : {&line, &unrelated}) {
      const std::string text = *first + ". Again: ";
      size_t at = 0;
      while (at < line.size()) {
        size_t next = line.find(' ', at);
        if (next == std::string::npos) next = line.size();
        std::vector<int32_t> prefix = {tok::kBos};
        const auto body = tok.encode(text + line.substr(0, at));
        prefix.insert(prefix.end(), body.begin(), body.end());
        out.push_back(span_of(first == &line ? "echo" : "echo_control", "", prefix, line.substr(at, next - at)));
        at = next + 1;
      }
    }
  }
  return out;
}

// A suffix echo: the line, then its words from a random one on ("<line>. Part: <words k..>."), k >= 1.
// Its first characters cannot be predicted; the rest only by finding the characters just read in
// the line and copying what follows them: the look-up by content that extractive QA needs ("Vebe fol"
// -> the span after it), where a full echo can be copied by position from the line's start.
std::string suffix_echo_doc(Rng& rng) {
  const std::vector<std::string> words = echo_words(rng);
  const size_t k = 1 + static_cast<size_t>(rng.below(words.size() - 2));  // echo lines have 4-8 words
  return join(words, " ") + ". Part: " +
         join(std::vector<std::string>(words.begin() + static_cast<std::ptrdiff_t>(k), words.end()), " ") + ".";
}

std::vector<std::string> copy_warmup_documents(const WorldConfig& cfg, int64_t n, double restatement_share,
                                               double suffix_share) {
  std::vector<std::string> docs;
  docs.reserve(static_cast<size_t>(std::max<int64_t>(0, n)));
  Rng rng = Rng::derive(cfg.seed, "copy_warmup");
  Rng passages = Rng::derive(cfg.seed, "copy_warmup/restatements");
  Rng suffixes = Rng::derive(cfg.seed, "copy_warmup/suffixes");
  const Entities e = restatement_share > 0 ? make_entities(cfg) : Entities{};
  // Evenly interleaved: the next document is of a kind when its running share falls behind.
  auto due = [](int64_t taken, double share, int64_t seen) {
    return share > 0 && static_cast<double>(taken) < share * static_cast<double>(seen);
  };
  int64_t restated = 0, echoes = 0, suffixed = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (due(restated, restatement_share, i + 1)) {
      const Language* L = &e.languages[static_cast<size_t>(restated++) % e.languages.size()];
      docs.push_back(restatement_doc(cfg, e, passages, L, kCorpusDocBytes));
      continue;
    }
    // Among the echoes, suffix echoes interleaved the same way, from their own stream.
    if (due(suffixed, suffix_share, ++echoes)) {
      ++suffixed;
      docs.push_back(suffix_echo_doc(suffixes));
      continue;
    }
    docs.push_back(echo_doc(rng));
  }
  return docs;
}

void check_world_config(const WorldConfig& cfg) { check_config(cfg); }

World generate_world(const WorldConfig& cfg) {
  check_config(cfg);
  Entities e = make_entities(cfg);
  World w;
  SuiteBuilder sb{cfg, e, {}};
  w.suites.push_back(sb.mmlu());
  w.suites.push_back(sb.gsm());
  w.suites.push_back(sb.code());
  w.suites.push_back(sb.qa());
  w.pool = make_pool(cfg, e, sb.prompts);
  w.base_corpus = make_corpus(cfg, e, sb.prompts);
  return w;
}

nlohmann::json pool_defect_counts(const Pool& pool) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < pool.size(); ++i) {
    auto& src = out[pool.samples[i].dataset];
    if (!src.contains("n")) src["n"] = 0;
    src["n"] = src["n"].get<int64_t>() + 1;
    const std::string& d = pool.truth[i].defect;
    if (!src.contains(d)) src[d] = 0;
    src[d] = src[d].get<int64_t>() + 1;
  }
  return out;
}

}  // namespace lb
