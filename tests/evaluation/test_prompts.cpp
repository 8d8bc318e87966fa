// The real suites' prompts against hand-checked strings: each expected text below was written out
// from open-instruct's evaluation scripts (eval/mmlu, eval/gsm, eval/codex_humaneval, eval/tydiqa and
// eval/templates.py's tulu format, as of commit 0083913, the last before LEAD's paper), not produced
// by the builder. Also the stratified subsample of partial runs (eval.limit).
#include "evaluation/prompts.h"

#include "evaluation/evaluator.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

using namespace lb;

namespace {

MmluQuestion mmlu_row(const std::string& subject, const std::string& q, std::vector<std::string> choices, int answer,
                      int64_t row) {
  MmluQuestion m;
  m.subject = subject;
  m.question = q;
  m.choices = std::move(choices);
  m.answer = answer;
  m.row = row;
  return m;
}

MmluData tiny_mmlu() {
  MmluData d;
  d.dev["high_school_biology"] = {mmlu_row("high_school_biology", "d1", {"a", "b", "c", "d"}, 1, 0)};
  d.test["high_school_biology"] = {mmlu_row("high_school_biology", "What is a cell?", {"x", "y", "z", "w"}, 0, 0)};
  return d;
}

TydiqaQuestion qa(const std::string& id, const std::string& lang, const std::string& ctx, const std::string& q,
                  const std::string& a) {
  TydiqaQuestion t;
  t.id = id;
  t.language = lang;
  t.context = ctx;
  t.question = q;
  t.answers = {a};
  return t;
}

// The eight exemplars as open-instruct's eval/gsm/examplars.py writes them, in "Question: ..\nAnswer: ..\n\n" form.
const char* const kGsm8kEightShots =
    "Question: There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are "
    "done, there will be 21 trees. How many trees did the grove workers plant today?\n"
    "Answer: There are 15 trees originally. Then there were 21 trees after some more were planted. So there must "
    "have been 21 - 15 = 6. So the answer is 6.\n\n"
    "Question: If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?\n"
    "Answer: There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. So the answer is 5.\n\n"
    "Question: Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in "
    "total?\n"
    "Answer: Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating "
    "35, they had 74 - 35 = 39. So the answer is 39.\n\n"
    "Question: Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops "
    "did Jason give to Denny?\n"
    "Answer: Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = "
    "8. So the answer is 8.\n\n"
    "Question: Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he "
    "have now?\n"
    "Answer: Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = "
    "9. So the answer is 9.\n\n"
    "Question: There were nine computers in the server room. Five more computers were installed each day, from "
    "monday to thursday. How many computers are now in the server room?\n"
    "Answer: There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
    "computers were added. 9 + 20 is 29. So the answer is 29.\n\n"
    "Question: Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many "
    "golf balls did he have at the end of wednesday?\n"
    "Answer: Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 "
    "more, he had 35 - 2 = 33 golf balls. So the answer is 33.\n\n"
    "Question: Olivia has $23. She bought five bagels for $3 each. How much money does she have left?\n"
    "Answer: Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 "
    "dollars left. 23 - 15 is 8. So the answer is 8.\n\n";

Suite grouped_suite(const std::vector<std::pair<std::string, int>>& groups) {
  Suite s;
  s.name = "mmlu";
  for (const auto& [g, n] : groups)
    for (int i = 0; i < n; ++i) {
      SuiteItem it;
      it.id = g + "/" + std::to_string(i);
      it.group = g;
      s.items.push_back(it);
    }
  return s;
}

}  // namespace

TEST_CASE("mmlu prompt: open-instruct's layout, raw (as LEAD scored it) and with the tulu template", "[prompts]") {
  RealSuiteConfig cfg;
  cfg.mmlu_shots = 1;
  cfg.chat_template = true;
  cfg.mmlu_chat_template = "off";  // the per-suite switch wins over chat_template
  Suite raw = build_mmlu_suite(tiny_mmlu(), cfg);
  REQUIRE(raw.items.size() == 1);
  CHECK_FALSE(raw.chat_template);
  CHECK(open_instruct_prompt_text(raw, raw.items[0]) ==
        "The following are multiple choice questions (with answers) about  high school biology.\n\n"
        "d1\nA. a\nB. b\nC. c\nD. d\nAnswer: B\n\n"
        "What is a cell?\nA. x\nB. y\nC. z\nD. w\nAnswer:");
  CHECK(raw.items[0].choices == std::vector<std::string>{" A", " B", " C", " D"});

  cfg.mmlu_chat_template = "on";
  cfg.chat_template = false;
  Suite chat = build_mmlu_suite(tiny_mmlu(), cfg);
  CHECK(chat.chat_template);
  CHECK(open_instruct_prompt_text(chat, chat.items[0]) ==
        "<|user|>\nThe following are multiple choice questions (with answers) about  high school biology.\n\n"
        "d1\nA. a\nB. b\nC. c\nD. d\nAnswer: B\n\n"
        "What is a cell?\nA. x\nB. y\nC. z\nD. w\nAnswer:\n<|assistant|>\nThe answer is:");
  CHECK(chat.version.find("raw") == std::string::npos);
  CHECK(raw.version.find("raw") != std::string::npos);
}

TEST_CASE("gsm8k prompt: the 8 chain-of-thought exemplars, chat (as LEAD ran it) and raw", "[prompts]") {
  Gsm8kProblem p;
  p.index = 0;
  p.question = "  Tom has 3 apples and buys 2 more. How many apples does he have?\n";
  p.gold = "5";
  RealSuiteConfig cfg;
  cfg.gsm8k_chat_template = "on";
  Suite chat = build_gsm8k_suite({p}, cfg);
  CHECK(open_instruct_prompt_text(chat, chat.items[0]) ==
        std::string("<|user|>\nAnswer the following questions.\n\n") + kGsm8kEightShots +
            "Question: Tom has 3 apples and buys 2 more. How many apples does he have?\n<|assistant|>\nAnswer:");
  CHECK(chat.generation.stop.empty());  // chat: the model ends its turn
  CHECK(chat.generation.max_new_tokens == 512);
  CHECK(chat.generation.temperature == 0.0);

  cfg.gsm8k_chat_template = "off";
  Suite raw = build_gsm8k_suite({p}, cfg);
  CHECK(open_instruct_prompt_text(raw, raw.items[0]) ==
        std::string("Answer the following questions.\n\n") + kGsm8kEightShots +
            "Question: Tom has 3 apples and buys 2 more. How many apples does he have?\nAnswer:");
  CHECK(raw.generation.stop == std::vector<std::string>{"\n"});
  cfg.gsm8k_stop_at_double_newline = true;
  CHECK(build_gsm8k_suite({p}, cfg).generation.stop == std::vector<std::string>{"\n\n"});

  cfg.gsm8k_shots = 0;  // open-instruct's zero-shot header is singular
  Suite zero = build_gsm8k_suite({p}, cfg);
  CHECK(open_instruct_prompt_text(zero, zero.items[0]) ==
        "Answer the following question.\n\n"
        "Question: Tom has 3 apples and buys 2 more. How many apples does he have?\nAnswer:");
}

TEST_CASE("humaneval prompt: the bare prompt (as LEAD ran it) and open-instruct's chat wording", "[prompts]") {
  HumanEvalProblem p;
  p.task_id = "HumanEval/0";
  p.prompt = "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n";
  p.canonical_solution = "    return a + b\n";
  p.test = "def check(c):\n    assert c(1, 2) == 3\n";
  p.entry_point = "add";
  RealSuiteConfig cfg;
  cfg.humaneval_chat_template = "off";
  Suite raw = build_humaneval_suite({p}, cfg, nullptr, 1);
  CHECK(open_instruct_prompt_text(raw, raw.items[0]) == "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n");
  CHECK(raw.generation.stop == std::vector<std::string>{"\nclass", "\ndef", "\n#", "\nif", "\nprint"});
  CHECK(raw.samples_per_item == 20);
  CHECK(raw.generation.temperature == Approx(0.8));
  CHECK(raw.generation.top_p == Approx(0.95));
  CHECK(humaneval_program(raw.items[0], "    return a + b\n") ==
        "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n    return a + b\n\n\ndef check(c):\n    assert c(1, 2) == 3\n"
        "\n\ncheck(add)\n");

  cfg.humaneval_chat_template = "on";
  Suite chat = build_humaneval_suite({p}, cfg, nullptr, 1);
  CHECK(open_instruct_prompt_text(chat, chat.items[0]) ==
        "<|user|>\nComplete the following python function.\n\n\ndef add(a, b):\n    \"\"\"Return a + b.\"\"\"\n"
        "\n<|assistant|>\nHere is the completed function:\n\n\n```python\n");
  CHECK(chat.generation.stop.back() == "\n```");
}

TEST_CASE("tydiqa prompt: per-language template, exemplars, chat (as LEAD ran it) and raw", "[prompts]") {
  std::vector<TydiqaQuestion> qs = {
      qa("english-1", "english", "Paris is the capital of France.", "What is the capital of France?", "Paris"),
      qa("english-2", "english", "The Nile flows north.", "Which way does the Nile flow?", "north"),
      qa("finnish-3", "finnish", "Helsinki on Suomen pääkaupunki.", "Mikä on Suomen pääkaupunki?", "Helsinki"),
  };
  RealSuiteConfig cfg;
  cfg.tydiqa_shots = 1;
  cfg.tydiqa_chat_template = "on";
  Suite chat = build_tydiqa_suite(qs, cfg);
  REQUIRE(chat.items.size() == 3);
  CHECK(open_instruct_prompt_text(chat, chat.items[0]) ==
        "<|user|>\nAnswer the following question based on the information in the given passage.\n\n"
        "Passage: The Nile flows north.\nQuestion: Which way does the Nile flow?\nAnswer: north\n\n"
        "Passage: Paris is the capital of France.\nQuestion: What is the capital of France?\n"
        "\n<|assistant|>\nAnswer:");
  CHECK(chat.generation.stop.empty());
  CHECK(chat.generation.max_new_tokens == 50);
  // Finnish has one question: no other question can be its exemplar.
  cfg.tydiqa_chat_template = "off";
  Suite raw = build_tydiqa_suite(qs, cfg);
  CHECK(open_instruct_prompt_text(raw, raw.items[2]) ==
        "Vastaa seuraavaan kysymykseen annetun kappaleen tiedon perusteella.\n\n"
        "Kappale: Helsinki on Suomen pääkaupunki.\nKysymys: Mikä on Suomen pääkaupunki?\nVastaus:");
  CHECK(raw.generation.stop == std::vector<std::string>{"\n"});

  // Passages are cut by the model's tokenizer when one is given (here: a word "tokenizer").
  cfg.tydiqa_max_context_tokens = 2;
  auto words = [](const std::string& text, int n) {
    std::string out;
    int k = 0;
    for (size_t i = 0; i < text.size() && k < n; ++i) {
      if (text[i] == ' ' && ++k == n) break;
      out += text[i];
    }
    return out;
  };
  Suite cut = build_tydiqa_suite(qs, cfg, words);
  CHECK(cut.items[2].prompt.find("Kappale: Helsinki on\n") != std::string::npos);
  CHECK(cut.version.find("ctx=2tok") != std::string::npos);

  // LEAD's 200 questions per language: a seeded sample, every language kept.
  cfg.tydiqa_max_per_language = 1;
  Suite one = build_tydiqa_suite(qs, cfg);
  REQUIRE(one.items.size() == 2);
  CHECK(one.items[0].group == "english");
  CHECK(one.items[1].group == "finnish");
  CHECK(build_tydiqa_suite(qs, cfg).items[0].id == one.items[0].id);
}

TEST_CASE("new prompt keys stay out of config hashes at their defaults", "[prompts]") {
  EvalConfig cfg;
  nlohmann::json j = config_to_json(cfg);
  drop_neutral_eval_fields(j);
  CHECK_FALSE(j.contains("limit_seed"));
  CHECK_FALSE(j["prompts"].contains("mmlu_chat_template"));
  CHECK_FALSE(j["prompts"].contains("tydiqa_max_per_language"));
  CHECK(j["prompts"].contains("chat_template"));
  cfg.limit_seed = 3;
  cfg.prompts.gsm8k_chat_template = "on";
  j = config_to_json(cfg);
  drop_neutral_eval_fields(j);
  CHECK(j["limit_seed"] == 3);
  CHECK(j["prompts"]["gsm8k_chat_template"] == "on");
}

TEST_CASE("eval.limit: stratified counts by largest remainders, every group present", "[prompts][limit]") {
  Suite s = grouped_suite({{"a", 50}, {"b", 30}, {"c", 20}});
  // 10 items: one per group, the other 7 shared as 7 * 49/97, 7 * 29/97, 7 * 19/97 = 3.54, 2.09, 1.37:
  // floors 3, 2, 1 and the last one to the largest remainder (a) -> 5, 3, 2.
  auto idx = stratified_limit_indices(s, 10, 1);
  REQUIRE(idx.size() == 10);
  std::map<std::string, int> per;
  for (size_t i : idx) ++per[s.items[i].group];
  CHECK(per["a"] == 5);
  CHECK(per["b"] == 3);
  CHECK(per["c"] == 2);
  CHECK(std::is_sorted(idx.begin(), idx.end()));
  CHECK(std::set<size_t>(idx.begin(), idx.end()).size() == idx.size());
  // Deterministic for a seed, another seed takes other items.
  CHECK(stratified_limit_indices(s, 10, 1) == idx);
  CHECK(stratified_limit_indices(s, 10, 2) != idx);
  // No limit, or a limit beyond the suite: everything. Below the number of groups: an error.
  CHECK(stratified_limit_indices(s, 0, 1).size() == 100);
  CHECK(stratified_limit_indices(s, 500, 1).size() == 100);
  CHECK_THROWS_WITH(stratified_limit_indices(s, 2, 1), Catch::Contains("below the 3 groups"));
  // Exactly one per group.
  per.clear();
  for (size_t i : stratified_limit_indices(s, 3, 7)) ++per[s.items[i].group];
  CHECK(per == std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}});

  // A suite without groups is one stratum: a uniform sample.
  Suite flat = grouped_suite({{"", 40}});
  flat.name = "gsm8k";
  CHECK(stratified_limit_indices(flat, 7, 1).size() == 7);

  LimitedSuite l = limit_suite(s, 10, 1);
  CHECK(l.suite.items.size() == 10);
  CHECK(l.record["limit"] == 10);
  CHECK(l.record["seed"] == 1);
  CHECK(l.record["items_in_suite"] == 100);
  CHECK(l.record["items_evaluated"] == 10);
  CHECK(l.record["stratified_by"] == "subject");
  CHECK(l.record["strata"]["a"] == nlohmann::json::array({5, 50}));
  CHECK(l.warning.find("PARTIAL RUN") != std::string::npos);
  CHECK(l.warning.find("10 of 100") != std::string::npos);
  CHECK(limit_suite(s, 0, 1).warning.empty());
}

TEST_CASE("eval.limit on the real MMLU: 200 items, all 57 subjects present", "[prompts][limit][shared_data]") {
  if (!std::filesystem::exists(std::string(LEADBENCH_SHARED_DATA) + "/mmlu")) {
    std::printf("SKIPPED: mmlu not found under LEADBENCH_SHARED_DATA (%s)\n", LEADBENCH_SHARED_DATA);
    return;
  }
  EvalConfig cfg;
  Suite s = load_real_suite("mmlu", LEADBENCH_SHARED_DATA, cfg, nullptr);
  LimitedSuite l = limit_suite(s, 200, 5);
  CHECK(l.suite.items.size() == 200);
  std::set<std::string> subjects;
  for (const auto& it : l.suite.items) subjects.insert(it.group);
  CHECK(subjects.size() == 57);
  CHECK(l.record["strata"].size() == 57);
  int64_t chosen = 0, total = 0;
  for (const auto& [k, v] : l.record["strata"].items()) {
    chosen += v[0].get<int64_t>();
    total += v[1].get<int64_t>();
    CHECK(v[0].get<int64_t>() >= 1);
  }
  CHECK(chosen == 200);
  CHECK(total == 14042);
}
