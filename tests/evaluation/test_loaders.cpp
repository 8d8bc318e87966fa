// Loaders reject malformed records with file and line (or count them with skip_bad), and
// score_predictions / `leadbench eval` report unknown, missing and duplicate ids.
#include "core/json_io.h"
#include "evaluation/eval_command.h"
#include "evaluation/evaluator.h"
#include "evaluation/loaders.h"
#include "evaluation/prompts.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace lb;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the working directory (the build folder), removed at the end of the test.
struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::current_path() / ("tmp_eval_" + name)) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = path / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

}  // namespace

TEST_CASE("loaders: MMLU folder, bad column count and bad answer name file and line, skip_bad counts") {
  TempDir d("mmlu");
  d.write("dev/astronomy_dev.csv", "d1,a,b,c,d,A\nd2,a,b,c,d,B\n");
  d.write("test/astronomy_test.csv", "q0,a,b,c,d,C\r\n\"q1\nwith newline\",a,b,c,d,D\r\nq2,a,b,c,A\r\nq3,a,b,c,d,E");
  try {
    load_mmlu(d.path.string());
    FAIL("expected an error");
  } catch (const InputError& e) {
    std::string msg = e.what();
    CHECK(msg.find("astronomy_test.csv:4") != std::string::npos);
    CHECK(msg.find("expected 6 columns") != std::string::npos);
  }
  int64_t skipped = 0;
  MmluData data = load_mmlu(d.path.string(), {true, &skipped});
  CHECK(skipped == 2);
  REQUIRE(data.test.at("astronomy").size() == 2);
  CHECK(data.test.at("astronomy")[1].row == 1);
  CHECK(data.test.at("astronomy")[1].question == "q1\nwith newline");
  CHECK(data.test.at("astronomy")[1].answer == 3);

  d.write("test/astronomy_test.csv", "q0,a,b,c,d,E\n");
  CHECK_THROWS_WITH(load_mmlu(d.path.string()), Catch::Contains("astronomy_test.csv:1") && Catch::Contains("answer"));

  // The prompt: subject header, 2 exemplars (only 2 dev rows here), the question, "Answer:".
  d.write("test/astronomy_test.csv", "What is a star?,gas,rock,ice,metal,A\n");
  RealSuiteConfig cfg;
  cfg.chat_template = false;
  Suite s = build_mmlu_suite(load_mmlu(d.path.string()), cfg);
  REQUIRE(s.items.size() == 1);
  CHECK(s.items[0].id == "astronomy/0");
  CHECK(s.items[0].category == "STEM");
  CHECK(s.items[0].prompt + s.items[0].answer_prefix ==
        "The following are multiple choice questions (with answers) about  astronomy.\n\n"
        "d1\nA. a\nB. b\nC. c\nD. d\nAnswer: A\n\n"
        "d2\nA. a\nB. b\nC. c\nD. d\nAnswer: B\n\n"
        "What is a star?\nA. gas\nB. rock\nC. ice\nD. metal\nAnswer:");
  const std::vector<std::string> letters = {" A", " B", " C", " D"};
  CHECK(s.items[0].choices == letters);
}

TEST_CASE("loaders: GSM8K, HumanEval and TyDiQA reject malformed records with file and line") {
  TempDir d("formats");
  std::string gsm = d.write("gsm.jsonl",
                            "{\"question\": \"1+1?\", \"answer\": \"2\\n#### 2\"}\n"
                            "{\"question\": \"no answer\"}\n"
                            "{\"question\": \"x\", \"answer\": \"no marker\"}\n"
                            "not json\n"
                            "{\"question\": \"2+2?\", \"answer\": \"#### 4\"}\n");
  CHECK_THROWS_WITH(load_gsm8k(gsm), Catch::Contains("gsm.jsonl:2") && Catch::Contains("answer"));
  int64_t skipped = 0;
  auto probs = load_gsm8k(gsm, {true, &skipped});
  CHECK(skipped == 3);
  REQUIRE(probs.size() == 2);
  CHECK(probs[1].index == 4);  // the id is the 0-based line number
  CHECK(probs[1].gold == "4");

  std::string he = d.write("he.jsonl",
                           "{\"task_id\": \"T/0\", \"prompt\": \"def f():\\n\", \"test\": \"def check(c): pass\", "
                           "\"entry_point\": \"f\"}\n"
                           "{\"task_id\": \"T/1\", \"prompt\": \"def g():\\n\", \"entry_point\": \"g\"}\n");
  CHECK_THROWS_WITH(load_humaneval(he), Catch::Contains("he.jsonl:2") && Catch::Contains("test"));
  skipped = 0;
  CHECK(load_humaneval(he, {true, &skipped}).size() == 1);
  CHECK(skipped == 1);

  std::string ty = d.write(
      "ty.json",
      "{\"data\": [{\"title\": \"t\", \"paragraphs\": [{\"context\": \"Paris is in France.\", \"qas\": ["
      "{\"id\": \"english-1\", \"question\": \"Where is Paris?\", \"answers\": [{\"text\": \"France\", \"answer_start\": 12}]},"
      "{\"id\": \"english-2\", \"question\": \"No answers?\"},"
      "{\"id\": \"finnish-3\", \"question\": \"Missä?\", \"answers\": [{\"text\": \"Ranskassa\", \"answer_start\": 0}]}"
      "]}]}]}");
  CHECK_THROWS_WITH(load_tydiqa(ty), Catch::Contains("ty.json") && Catch::Contains("qas[1]") && Catch::Contains("answers"));
  skipped = 0;
  auto qs = load_tydiqa(ty, {true, &skipped});
  CHECK(skipped == 1);
  REQUIRE(qs.size() == 2);
  CHECK(qs[0].language == "english");
  CHECK(qs[1].language == "finnish");
  RealSuiteConfig cfg;
  cfg.tydiqa_shots = 1;
  cfg.tydiqa_max_context_tokens = 5;
  Suite s = build_tydiqa_suite(qs, cfg);
  REQUIRE(s.items.size() == 2);
  CHECK(s.items[1].answer_prefix == "Vastaus:");
  CHECK(s.items[1].prompt.find("Kappale: Paris\n") != std::string::npos);  // context cut to 5 bytes
  CHECK(s.items[0].prompt.find("Passage: Paris\nQuestion: Where is Paris?\n") != std::string::npos);
}

TEST_CASE("loaders: an empty suite file, subject CSV or TyDiQA file is an error naming the file") {
  TempDir d("empty");
  const std::string gsm = d.write("gsm.jsonl", "");
  CHECK_THROWS_WITH(load_gsm8k(gsm), Catch::Contains(gsm) && Catch::Contains("no GSM8K problems"));
  const std::string he = d.write("he.jsonl", "\n\n");
  CHECK_THROWS_WITH(load_humaneval(he), Catch::Contains(he) && Catch::Contains("no HumanEval problems"));
  // Every record malformed and skipped: still nothing to score.
  const std::string bad = d.write("bad.jsonl", "{\"question\": \"no answer\"}\nnot json\n");
  int64_t skipped = 0;
  CHECK_THROWS_WITH(load_gsm8k(bad, {true, &skipped}),
                    Catch::Contains(bad) && Catch::Contains("all 2 records were malformed and skipped"));

  // MMLU: an empty test CSV is not a subject left out, an empty dev CSV not a 0-shot prompt.
  d.write("mmlu/dev/astronomy_dev.csv", "d1,a,b,c,d,A\n");
  d.write("mmlu/test/astronomy_test.csv", "q0,a,b,c,d,C\n");
  d.write("mmlu/dev/anatomy_dev.csv", "d1,a,b,c,d,A\n");
  const std::string empty_test = d.write("mmlu/test/anatomy_test.csv", "");
  CHECK_THROWS_WITH(load_mmlu((d.path / "mmlu").string()),
                    Catch::Contains(empty_test) && Catch::Contains("subject 'anatomy'"));
  d.write("mmlu/test/anatomy_test.csv", "q0,a,b,c,d,B\n");
  REQUIRE(load_mmlu((d.path / "mmlu").string()).test.size() == 2);
  const std::string empty_dev = d.write("mmlu/dev/anatomy_dev.csv", "");
  CHECK_THROWS_WITH(load_mmlu((d.path / "mmlu").string()), Catch::Contains(empty_dev));

  // TyDiQA: a file without articles, or whose articles hold no question, in a folder of languages.
  d.write("tydiqa/english.json",
          "{\"data\": [{\"title\": \"t\", \"paragraphs\": [{\"context\": \"c\", \"qas\": ["
          "{\"id\": \"english-1\", \"question\": \"q\", \"answers\": [{\"text\": \"c\", \"answer_start\": 0}]}]}]}]}");
  const std::string no_articles = d.write("tydiqa/finnish.json", "{\"data\": []}");
  CHECK_THROWS_WITH(load_tydiqa((d.path / "tydiqa").string()),
                    Catch::Contains(no_articles) && Catch::Contains("no articles"));
  d.write("tydiqa/finnish.json", "{\"data\": [{\"title\": \"t\", \"paragraphs\": []}]}");
  CHECK_THROWS_WITH(load_tydiqa((d.path / "tydiqa").string()),
                    Catch::Contains(no_articles) && Catch::Contains("no questions"));
}

TEST_CASE("loaders: the real HumanEval.jsonl.gz cut short is an error, not fewer problems") {
  const fs::path real = fs::path(LEADBENCH_SHARED_DATA) / "humaneval" / "HumanEval.jsonl.gz";
  if (!fs::exists(real)) {
    std::printf("SKIPPED: %s not found\n", real.string().c_str());
    return;
  }
  std::ifstream in(real, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TempDir d("he_cut");
  REQUIRE(load_humaneval(d.write("full.jsonl.gz", bytes)).size() == 164);
  for (size_t cut : {bytes.size() / 4, bytes.size() / 2, bytes.size() * 3 / 4, bytes.size() - 8, bytes.size() - 1}) {
    INFO("cut at " << cut << " of " << bytes.size() << " bytes");
    const std::string path = d.write("cut.jsonl.gz", bytes.substr(0, cut));
    int64_t skipped = 0;
    CHECK_THROWS_WITH(load_humaneval(path, {true, &skipped}),
                      Catch::Contains(path) && Catch::Contains("truncated gzip stream"));
  }
}

TEST_CASE("score_predictions: unknown, missing and duplicate ids are reported, missing count as wrong") {
  Suite s;
  s.name = "toy";
  s.kind = SuiteKind::final_number;
  for (int i = 0; i < 4; ++i) {
    SuiteItem it;
    it.id = std::to_string(i);
    it.references = {std::to_string(i * 10)};
    s.items.push_back(it);
  }
  std::vector<Prediction> preds = {
      {"0", {"so 0"}, -1}, {"1", {"The answer is $10."}, -1}, {"1", {"11"}, -1}, {"9", {"90"}, -1}, {"2", {"21"}, -1}};
  SuiteResult r = score_predictions(s, preds);
  CHECK(r.metric == "exact_match");
  CHECK(r.headline.value == Approx(50.0));  // 0 and 1 right; 2 wrong; 3 missing -> wrong
  CHECK(r.headline.n == 4);
  CHECK(r.details["predictions"]["missing"] == 1);
  CHECK(r.details["predictions"]["unknown"] == 1);
  CHECK(r.details["predictions"]["duplicate"] == 1);
  REQUIRE(r.warnings.size() == 3);
  CHECK(r.warnings[0].find("MISSING PREDICTIONS: 1 of 4") != std::string::npos);
}

TEST_CASE("leadbench eval: scores a predictions file, --skip-bad counts bad lines, --json is written") {
  TempDir d("cmd");
  d.write("gsm8k/test.jsonl",
          "{\"question\": \"a\", \"answer\": \"#### 3\"}\n{\"question\": \"b\", \"answer\": \"#### -4\"}\n"
          "{\"question\": \"c\", \"answer\": \"#### 1,000\"}\n");
  std::string preds = d.write("preds.jsonl",
                              "{\"id\": \"0\", \"output\": \"so 3.\"}\n"
                              "{\"id\": 1, \"output\": \"it is -4\"}\n"
                              "{\"id\": \"2\", \"outputs\": 5}\n"
                              "broken\n"
                              "{\"id\": \"7\", \"output\": \"1\"}\n");
  const std::string json_out = (d.path / "out" / "result.json").string();
  CHECK(cmd_eval({"--suite", "gsm8k", "--data", d.path.string(), "--predictions", preds}) == 1);  // bad line
  CHECK(cmd_eval({"--suite", "gsm8k"}) == 2);  // usage
  REQUIRE(cmd_eval({"--suite", "gsm8k", "--data", d.path.string(), "--predictions", preds, "--skip-bad", "--json",
                    json_out}) == 0);
  auto j = read_json_file(json_out);
  CHECK(j["suite"] == "gsm8k");
  CHECK(j["value"].get<double>() == Approx(200.0 / 3));
  CHECK(j["details"]["skipped_prediction_lines"] == 2);
  CHECK(j["details"]["predictions"]["missing"] == 1);
  CHECK(j["details"]["predictions"]["unknown"] == 1);
}
