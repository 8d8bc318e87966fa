// Prompt construction for the real suites (see prompts.h). The layouts follow open-instruct's
// evaluation scripts; the few-shot material (CoT exemplars, language templates) is data below.
#include "evaluation/prompts.h"

#include "core/seeds.h"
#include "evaluation/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

namespace lb {

const std::vector<CotExemplar>& gsm8k_cot_exemplars() {
  // The eight exemplars of Wei et al. (2022), "Chain-of-thought prompting", table 20, as
  // open-instruct's eval/gsm/examplars.py writes their answers ("cot_answer": "... So the answer is N.").
  static const std::vector<CotExemplar> v = {
      {"There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, "
       "there will be 21 trees. How many trees did the grove workers plant today?",
       "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have "
       "been 21 - 15 = 6. So the answer is 6."},
      {"If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
       "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. So the answer is 5."},
      {"Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
       "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, "
       "they had 74 - 35 = 39. So the answer is 39."},
      {"Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did "
       "Jason give to Denny?",
       "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. "
       "So the answer is 8."},
      {"Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have "
       "now?",
       "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. "
       "So the answer is 9."},
      {"There were nine computers in the server room. Five more computers were installed each day, from monday to "
       "thursday. How many computers are now in the server room?",
       "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 "
       "computers were added. 9 + 20 is 29. So the answer is 29."},
      {"Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf "
       "balls did he have at the end of wednesday?",
       "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, "
       "he had 35 - 2 = 33 golf balls. So the answer is 33."},
      {"Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
       "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars "
       "left. 23 - 15 is 8. So the answer is 8."},
  };
  return v;
}

const QaTemplate& tydiqa_template(const std::string& language) {
  // open-instruct's per-language templates (instruction, passage, question, answer labels).
  static const std::map<std::string, QaTemplate> m = {
      {"english",
       {"Answer the following question based on the information in the given passage.", "Passage:", "Question:",
        "Answer:"}},
      {"arabic",
       {"أجب على السؤال التالي بناءً على المعلومات في المقطع المعطى.", "المقطع:", "السؤال:", "الإجابة:"}},
      {"bengali",
       {"প্রদত্ত অধ্যায়ের তথ্যের উপর ভিত্তি করে নিম্নলিখিত প্রশ্নের উত্তর দিন।", "অধ্যায়:", "প্রশ্ন:",
        "উত্তর:"}},
      {"finnish",
       {"Vastaa seuraavaan kysymykseen annetun kappaleen tiedon perusteella.", "Kappale:", "Kysymys:", "Vastaus:"}},
      {"indonesian",
       {"Jawab pertanyaan berikut berdasarkan informasi di bagian yang diberikan.", "Bagian:", "Pertanyaan:",
        "Jawaban:"}},
      {"korean", {"주어진 문단의 정보에 기반하여 다음 질문에 답하십시오.", "문단:", "질문:", "답변:"}},
      {"russian",
       {"Ответьте на следующий вопрос на основе информации в данном отрывке.", "Отрывок:", "Вопрос:", "Ответ:"}},
      {"swahili",
       {"Jibu swali lifuatalo kulingana na habari kwenye kifungu kilichotolewa.", "Kifungu:", "Swali:", "Jibu:"}},
      {"telugu",
       {"ఇచ్చిన పేరాలోని సమాచారం ఆధారంగా కింది ప్రశ్నకు సమాధానం ఇవ్వండి.", "పేరా:", "ప్రశ్న:",
        "సమాధానం:"}},
  };
  auto it = m.find(language);
  return it == m.end() ? m.at("english") : it->second;
}

std::string mmlu_subject_text(const std::string& subject) {
  std::string s = subject;
  for (char& c : s)
    if (c == '_') c = ' ';
  return s;
}

std::string truncate_utf8(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
  return text.substr(0, cut);
}

bool RealSuiteConfig::chat_for(const std::string& suite) const {
  const std::string* v = suite == "mmlu"        ? &mmlu_chat_template
                         : suite == "gsm8k"     ? &gsm8k_chat_template
                         : suite == "humaneval" ? &humaneval_chat_template
                         : suite == "tydiqa"    ? &tydiqa_chat_template
                                                : nullptr;
  if (!v || *v == "inherit") return chat_template;
  return *v == "on";
}

void drop_neutral_prompt_fields(nlohmann::json& prompts) {
  if (!prompts.is_object()) return;
  auto erase_if = [&](const char* key, const nlohmann::json& neutral) {
    const auto it = prompts.find(key);
    if (it != prompts.end() && *it == neutral) prompts.erase(it);
  };
  for (const char* k : {"mmlu_chat_template", "gsm8k_chat_template", "humaneval_chat_template", "tydiqa_chat_template"})
    erase_if(k, "inherit");
  erase_if("gsm8k_stop_at_double_newline", false);
  erase_if("tydiqa_max_per_language", 0);
}

void drop_neutral_eval_fields(nlohmann::json& eval) {
  if (!eval.is_object()) return;
  const auto it = eval.find("limit_seed");
  if (it != eval.end() && *it == 0) eval.erase(it);
  if (eval.contains("prompts")) drop_neutral_prompt_fields(eval["prompts"]);
}

namespace {
const char* mode_name(bool chat) { return chat ? "chat" : "raw"; }

std::string strip(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// open-instruct's format_example without the answer: question, "\nA. ..." per choice, "\nAnswer:".
std::string mmlu_question_block(const MmluQuestion& q) {
  static const char* letters[] = {"A", "B", "C", "D"};
  std::string s = q.question;
  for (size_t j = 0; j < q.choices.size() && j < 4; ++j) s += std::string("\n") + letters[j] + ". " + q.choices[j];
  return s + "\nAnswer:";
}
}  // namespace

Suite build_mmlu_suite(const MmluData& data, const RealSuiteConfig& cfg) {
  if (cfg.mmlu_shots < 0 || cfg.mmlu_shots > 5) throw std::invalid_argument("mmlu_shots must be in 0..5 (the dev split has 5 rows per subject)");
  const bool chat = cfg.chat_for("mmlu");
  Suite s;
  s.name = "mmlu";
  s.version = "oi-mmlu-v2 k=" + std::to_string(cfg.mmlu_shots) + " " + mode_name(chat);
  s.kind = SuiteKind::multiple_choice;
  s.chat_template = chat;
  for (const auto& kv : data.test) {
    const std::string& subject = kv.first;
    // open-instruct's format_subject puts a space before every word, so the header has two spaces
    // after "about": "... about  abstract algebra.".
    std::string header =
        "The following are multiple choice questions (with answers) about  " + mmlu_subject_text(subject) + ".\n\n";
    const auto& dev = data.dev.at(subject);
    for (int k = 0; k < cfg.mmlu_shots && k < static_cast<int>(dev.size()); ++k)
      header += mmlu_question_block(dev[k]) + " " + std::string(1, char('A' + dev[k].answer)) + "\n\n";
    for (const auto& q : kv.second) {
      SuiteItem it;
      it.id = subject + "/" + std::to_string(q.row);
      it.group = subject;
      it.category = mmlu_category(subject);
      if (it.category.empty()) it.category = "other";
      std::string body = header + mmlu_question_block(q);  // ends "\nAnswer:"
      if (chat) {
        it.prompt = body;  // the user turn keeps "Answer:"; the assistant turn opens with "The answer is:"
        it.answer_prefix = "The answer is:";
      } else {
        it.prompt = body.substr(0, body.size() - std::string("Answer:").size());
        it.answer_prefix = "Answer:";
      }
      it.choices = {" A", " B", " C", " D"};
      it.answer = q.answer;
      s.items.push_back(std::move(it));
    }
  }
  return s;
}

Suite build_gsm8k_suite(const std::vector<Gsm8kProblem>& problems, const RealSuiteConfig& cfg) {
  const auto& ex = gsm8k_cot_exemplars();
  if (cfg.gsm8k_shots < 0 || cfg.gsm8k_shots > static_cast<int>(ex.size()))
    throw std::invalid_argument("gsm8k_shots must be in 0..8");
  const bool chat = cfg.chat_for("gsm8k");
  Suite s;
  s.name = "gsm8k";
  s.version = "oi-gsm8k-cot-v2 k=" + std::to_string(cfg.gsm8k_shots) + " " + mode_name(chat);
  s.kind = SuiteKind::final_number;
  s.chat_template = chat;
  s.generation.max_new_tokens = cfg.gsm8k_max_new_tokens;
  s.generation.temperature = 0.0;
  // open-instruct stops raw prompts at a newline (or a blank line with --stop_at_double_newline); chat
  // prompts have no stop string: the model ends its turn.
  if (!chat) s.generation.stop = {cfg.gsm8k_stop_at_double_newline ? "\n\n" : "\n"};
  std::string prefix = cfg.gsm8k_shots > 0 ? "Answer the following questions.\n\n" : "Answer the following question.\n\n";
  for (int k = 0; k < cfg.gsm8k_shots; ++k)
    prefix += std::string("Question: ") + ex[k].question + "\nAnswer: " + ex[k].answer + "\n\n";
  for (const auto& p : problems) {
    SuiteItem it;
    it.id = std::to_string(p.index);
    it.prompt = prefix + "Question: " + strip(p.question) + (chat ? "" : "\n");
    it.answer_prefix = "Answer:";
    it.references = {p.gold};
    s.items.push_back(std::move(it));
  }
  return s;
}

Suite build_humaneval_suite(const std::vector<HumanEvalProblem>& problems, const RealSuiteConfig& cfg,
                            CodeChecker checker, int checker_parallelism) {
  const bool chat = cfg.chat_for("humaneval");
  Suite s;
  s.name = "humaneval";
  s.kind = SuiteKind::code;
  s.chat_template = chat;
  s.samples_per_item = cfg.humaneval_samples;
  s.pass_ks = cfg.humaneval_ks;
  s.generation.max_new_tokens = cfg.humaneval_max_new_tokens;
  s.generation.temperature = cfg.humaneval_temperature;
  s.generation.top_p = cfg.humaneval_top_p;
  s.generation.stop = {"\nclass", "\ndef", "\n#", "\nif", "\nprint"};  // the Codex paper's, as open-instruct
  if (chat) s.generation.stop.push_back("\n```");
  char temp[32];
  std::snprintf(temp, sizeof temp, "%g", cfg.humaneval_temperature);
  s.version = "oi-humaneval-v2 n=" + std::to_string(cfg.humaneval_samples) + " T=" + temp + " " + mode_name(chat);
  s.code_checker = std::move(checker);
  s.code_checker_parallelism = checker_parallelism;
  for (const auto& p : problems) {
    SuiteItem it;
    it.id = p.task_id;
    it.code_prefix = p.prompt;
    it.test_code = p.test;
    it.entry_point = p.entry_point;
    it.references = {p.canonical_solution};
    if (chat) {
      // open-instruct without the HumanEvalPack instructions: the model writes the whole function
      // again after the opened code block; the program is still prompt + completion.
      it.prompt = "Complete the following python function.\n\n\n" + p.prompt;
      it.answer_prefix = "Here is the completed function:\n\n\n```python\n";
    } else {
      it.prompt = p.prompt;
    }
    s.items.push_back(std::move(it));
  }
  return s;
}

std::string humaneval_program(const SuiteItem& item, const std::string& completion) {
  return item.code_prefix + completion + "\n\n" + item.test_code + "\n\ncheck(" + item.entry_point + ")\n";
}

Suite build_tydiqa_suite(const std::vector<TydiqaQuestion>& questions, const RealSuiteConfig& cfg,
                         const ContextTruncator& truncate_context) {
  if (cfg.tydiqa_shots < 0) throw std::invalid_argument("tydiqa_shots must be >= 0");
  const bool chat = cfg.chat_for("tydiqa");
  Suite s;
  s.name = "tydiqa";
  s.version = "oi-tydiqa-goldp-v2 k=" + std::to_string(cfg.tydiqa_shots) + " ctx=" +
              std::to_string(cfg.tydiqa_max_context_tokens) + (truncate_context ? "tok " : "B ") + mode_name(chat);
  if (cfg.tydiqa_max_per_language > 0) s.version += " per-lang=" + std::to_string(cfg.tydiqa_max_per_language);
  s.kind = SuiteKind::extractive_qa;
  s.chat_template = chat;
  s.generation.max_new_tokens = cfg.tydiqa_max_new_tokens;
  s.generation.temperature = 0.0;
  if (!chat) s.generation.stop = {"\n"};  // open-instruct: raw prompts stop at a newline, chat ones at end of turn
  const int max_ctx = std::max(0, cfg.tydiqa_max_context_tokens);
  auto cut = [&](const std::string& text) {
    if (max_ctx == 0) return text;
    return truncate_context ? truncate_context(text, max_ctx) : truncate_utf8(text, static_cast<size_t>(max_ctx));
  };

  // Exemplars: TyDiQA GoldP has no train file here, so each language draws its exemplars from its own
  // dev questions (a seeded choice of shots + 1 candidates; an item never serves as its own exemplar).
  std::map<std::string, std::vector<size_t>> by_lang;
  for (size_t i = 0; i < questions.size(); ++i) by_lang[questions[i].language].push_back(i);
  std::map<std::string, std::vector<size_t>> candidates;
  for (auto& kv : by_lang) {
    std::vector<size_t> idx = kv.second;
    Rng rng = Rng::derive(cfg.fewshot_seed, "tydiqa/" + kv.first);
    rng.shuffle(idx);
    idx.resize(std::min(idx.size(), static_cast<size_t>(cfg.tydiqa_shots) + 1));
    candidates[kv.first] = idx;
  }
  // The questions asked: all, or a seeded sample per language (LEAD's --max_num_examples_per_lang).
  std::vector<bool> asked(questions.size(), cfg.tydiqa_max_per_language <= 0);
  if (cfg.tydiqa_max_per_language > 0) {
    for (auto& kv : by_lang) {
      std::vector<size_t> idx = kv.second;
      Rng rng = Rng::derive(cfg.fewshot_seed, "tydiqa-questions/" + kv.first);
      rng.shuffle(idx);
      idx.resize(std::min(idx.size(), static_cast<size_t>(cfg.tydiqa_max_per_language)));
      for (size_t i : idx) asked[i] = true;
    }
  }
  for (size_t i = 0; i < questions.size(); ++i) {
    if (!asked[i]) continue;
    const auto& q = questions[i];
    const QaTemplate& t = tydiqa_template(q.language);
    std::string prompt = t.instruction + "\n\n";
    int used = 0;
    for (size_t c : candidates[q.language]) {
      if (used >= cfg.tydiqa_shots) break;
      if (c == i) continue;
      const auto& e = questions[c];
      prompt += t.passage + " " + cut(e.context) + "\n" + t.question + " " + e.question + "\n" + t.answer + " " +
                e.answers.front() + "\n\n";
      ++used;
    }
    prompt += t.passage + " " + cut(q.context) + "\n" + t.question + " " + q.question + "\n";
    SuiteItem it;
    it.id = q.id;
    it.group = q.language;
    it.prompt = std::move(prompt);
    it.answer_prefix = t.answer;
    it.references = q.answers;
    s.items.push_back(std::move(it));
  }
  return s;
}

std::string open_instruct_prompt_text(const Suite& suite, const SuiteItem& item) {
  if (!suite.chat_template) return item.prompt + item.answer_prefix;
  // eval/templates.py create_prompt_with_tulu_chat_format(messages, add_bos=False) for one user turn.
  std::string text = "<|user|>\n" + item.prompt + "\n<|assistant|>\n";
  if (item.answer_prefix.empty()) return text;
  const char last = text.back();
  return text + ((last == '\n' || last == ' ') ? "" : " ") + item.answer_prefix;
}

// ---- partial runs ------------------------------------------------------------------------------

std::vector<size_t> stratified_limit_indices(const Suite& suite, int64_t limit, uint64_t seed) {
  const size_t total = suite.items.size();
  std::vector<size_t> all(total);
  for (size_t i = 0; i < total; ++i) all[i] = i;
  if (limit <= 0 || static_cast<size_t>(limit) >= total) return all;
  // Strata in order of first appearance.
  std::vector<std::string> names;
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < total; ++i) {
    auto& m = members[suite.items[i].group];
    if (m.empty()) names.push_back(suite.items[i].group);
    m.push_back(i);
  }
  const size_t g = names.size();
  if (static_cast<size_t>(limit) < g)
    throw std::invalid_argument("a limit of " + std::to_string(limit) + " items is below the " + std::to_string(g) +
                                " groups of " + suite.name + " (one item each at least); raise the limit to >= " +
                                std::to_string(g));
  // One item per stratum, then the rest in proportion to what each stratum has left.
  const int64_t rest = limit - static_cast<int64_t>(g);
  const int64_t spare_total = static_cast<int64_t>(total - g);
  std::vector<int64_t> quota(g, 1);
  std::vector<std::pair<double, size_t>> remainders;
  int64_t given = 0;
  for (size_t k = 0; k < g; ++k) {
    const int64_t spare = static_cast<int64_t>(members[names[k]].size()) - 1;
    const double exact = spare_total > 0 ? static_cast<double>(rest) * static_cast<double>(spare) / static_cast<double>(spare_total) : 0.0;
    const int64_t whole = static_cast<int64_t>(std::floor(exact));
    quota[k] += whole;
    given += whole;
    remainders.push_back({exact - static_cast<double>(whole), k});
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t r = 0; given < rest && r < remainders.size(); ++r) {
    const size_t k = remainders[r].second;
    if (quota[k] < static_cast<int64_t>(members[names[k]].size())) {
      ++quota[k];
      ++given;
    }
  }
  std::vector<size_t> out;
  for (size_t k = 0; k < g; ++k) {
    std::vector<size_t> idx = members[names[k]];
    Rng rng = Rng::derive(seed, "limit/" + suite.name + "/" + names[k]);
    rng.shuffle(idx);
    idx.resize(static_cast<size_t>(quota[k]));
    out.insert(out.end(), idx.begin(), idx.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

LimitedSuite limit_suite(const Suite& suite, int64_t limit, uint64_t seed) {
  LimitedSuite out;
  const auto idx = stratified_limit_indices(suite, limit, seed);
  out.suite = suite;
  out.suite.items.clear();
  for (size_t i : idx) out.suite.items.push_back(suite.items[i]);
  bool grouped = false;
  nlohmann::json strata = nlohmann::json::object();
  for (const auto& it : suite.items) {
    grouped |= !it.group.empty();
    auto& e = strata[it.group.empty() ? "all" : it.group];
    if (e.is_null()) e = nlohmann::json::array({0, 0});
    e[1] = e[1].get<int64_t>() + 1;
  }
  for (const auto& it : out.suite.items) {
    auto& e = strata[it.group.empty() ? "all" : it.group];
    e[0] = e[0].get<int64_t>() + 1;
  }
  const std::string by = !grouped ? "none" : suite.name == "mmlu" ? "subject" : suite.name == "tydiqa" ? "language" : "group";
  out.record = {{"limit", limit},
                {"seed", seed},
                {"items_in_suite", suite.items.size()},
                {"items_evaluated", out.suite.items.size()},
                {"stratified_by", by},
                {"strata", strata}};
  if (out.suite.items.size() < suite.items.size()) {
    out.warning = "PARTIAL RUN (eval.limit=" + std::to_string(limit) + ", eval.limit_seed=" + std::to_string(seed) +
                  "): " + std::to_string(out.suite.items.size()) + " of " + std::to_string(suite.items.size()) +
                  " items of " + suite.name +
                  (by == "none" ? std::string(", a uniform sample")
                                : ", stratified by " + by + " (" + std::to_string(strata.size()) + " strata, each present)") +
                  "; for testing only, not comparable with full-suite numbers";
  }
  return out;
}

}  // namespace lb
