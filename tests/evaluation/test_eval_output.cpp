// What `leadbench eval` writes for other tools and what it reads from them: the lm-evaluation-harness
// style results file, the per-sample JSONL, open-instruct's prediction files (GSM8K matched by
// position and question text, HumanEval one line per sample), --config and eval.limit.
#include "core/json_io.h"
#include "evaluation/eval_command.h"
#include "evaluation/evaluator.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace lb;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name) : path(fs::current_path() / ("tmp_evalout_" + name)) {
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
  std::string file(const std::string& rel) const { return (path / rel).string(); }
};

int eval_with_stderr(const std::vector<std::string>& args, std::string* err) {
  std::ostringstream captured;
  std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
  int rc = 0;
  try {
    rc = cmd_eval(args);
  } catch (...) {
    std::cerr.rdbuf(old);
    throw;
  }
  std::cerr.rdbuf(old);
  *err = captured.str();
  return rc;
}

const char* const kGsm =
    "{\"question\": \"Ann has 2 cats and gets 3 more. How many cats?\", \"answer\": \"2+3=5\\n#### 5\"}\n"
    "{\"question\": \"Bob has 10 pens and loses 4. How many pens?\", \"answer\": \"10-4=6\\n#### 6\"}\n"
    "{\"question\": \"Cy reads 7 pages a day for 2 days. How many pages?\", \"answer\": \"7*2=14\\n#### 14\"}\n";

std::string oi_gsm_line(const std::string& q, const std::string& out) {
  return nlohmann::json({{"question", q}, {"answer", "x"}, {"model_output", out}, {"prediction", "x"}}).dump() + "\n";
}

std::vector<nlohmann::json> read_lines(const std::string& path) {
  std::vector<nlohmann::json> v;
  for_each_jsonl(path, [&](const nlohmann::json& j, int64_t) { v.push_back(j); });
  return v;
}

}  // namespace

TEST_CASE("open-instruct gsm8k predictions: matched by position, checked by question text", "[eval_output]") {
  TempDir d("oi_gsm");
  const std::string data = d.write("gsm8k/test.jsonl", kGsm);
  EvalConfig cfg;
  Suite s = load_real_suite("gsm8k", data, cfg, nullptr);
  const std::string good = d.write(
      "good.jsonl", oi_gsm_line("Ann has 2 cats and gets 3 more. How many cats?", "2 + 3 = 5. So the answer is 5.") +
                        oi_gsm_line("Bob has 10 pens and loses 4. How many pens?", "So the answer is 7.") +
                        oi_gsm_line("Cy reads 7 pages a day for 2 days. How many pages?", "7 * 2 = 14"));
  CHECK(detect_predictions_format(good) == "open-instruct");
  auto preds = read_open_instruct_predictions(good, s, false, nullptr);
  REQUIRE(preds.size() == 3);
  CHECK(preds[1].id == "1");
  SuiteResult r = score_predictions(s, preds);
  CHECK(r.headline.value == Approx(200.0 / 3));
  REQUIRE(r.per_item.size() == 3);
  CHECK(r.per_item[1]["value"] == 0.0);
  CHECK(r.per_item[1]["extracted"] == "7");

  // Lines swapped: the error names the line and the problem it should have been.
  const std::string swapped = d.write(
      "swapped.jsonl", oi_gsm_line("Bob has 10 pens and loses 4. How many pens?", "6") +
                           oi_gsm_line("Ann has 2 cats and gets 3 more. How many cats?", "5"));
  CHECK_THROWS_WITH(read_open_instruct_predictions(swapped, s, false, nullptr),
                    Catch::Contains("swapped.jsonl:1") && Catch::Contains("does not match problem 0") &&
                        Catch::Contains("--max_num_examples"));
  // Even with skip_bad a mismatch stops: the file belongs to other data.
  CHECK_THROWS_WITH(read_open_instruct_predictions(swapped, s, true, nullptr), Catch::Contains("swapped.jsonl:1"));
  // More lines than problems.
  const std::string extra = d.write("extra.jsonl", std::string(read_text_file(good)) + oi_gsm_line("Extra?", "1"));
  CHECK_THROWS_WITH(read_open_instruct_predictions(extra, s, false, nullptr),
                    Catch::Contains("extra.jsonl:4") && Catch::Contains("no problem 3"));
  // A line without model_output names the field.
  const std::string bad = d.write("bad.jsonl", "{\"question\": \"Ann has 2 cats and gets 3 more. How many cats?\"}\n");
  CHECK_THROWS_WITH(read_open_instruct_predictions(bad, s, false, nullptr),
                    Catch::Contains("bad.jsonl:1") && Catch::Contains("model_output"));
}

TEST_CASE("open-instruct humaneval predictions: one line per sample, grouped by task_id", "[eval_output]") {
  TempDir d("oi_he");
  Suite s;
  s.name = "humaneval";
  s.kind = SuiteKind::code;
  const std::string path = d.write("codex_eval_predictions.jsonl",
                                   "{\"task_id\": \"HumanEval/0\", \"prompt\": \"p\", \"completion\": \"a\"}\n"
                                   "{\"task_id\": \"HumanEval/1\", \"prompt\": \"p\", \"completion\": \"c\"}\n"
                                   "{\"task_id\": \"HumanEval/0\", \"prompt\": \"p\", \"completion\": \"b\"}\n");
  CHECK(detect_predictions_format(path) == "open-instruct");
  auto preds = read_open_instruct_predictions(path, s, false, nullptr);
  REQUIRE(preds.size() == 2);
  CHECK(preds[0].id == "HumanEval/0");
  CHECK(preds[0].outputs == std::vector<std::string>{"a", "b"});
  CHECK(preds[1].outputs == std::vector<std::string>{"c"});

  const std::string leadbench = d.write("ours.jsonl", "{\"id\": \"HumanEval/0\", \"outputs\": [\"a\"]}\n");
  CHECK(detect_predictions_format(leadbench) == "leadbench");
  const std::string neither = d.write("neither.jsonl", "{\"text\": \"a\"}\n");
  CHECK_THROWS_WITH(detect_predictions_format(neither), Catch::Contains("neither.jsonl:1") && Catch::Contains("layout"));
  Suite mmlu;
  mmlu.name = "mmlu";
  CHECK_THROWS_WITH(read_open_instruct_predictions(path, mmlu, false, nullptr), Catch::Contains("MMLU"));
}

TEST_CASE("lm-eval style results and per-sample lines of a scored MMLU suite", "[eval_output]") {
  MmluData data;
  auto row = [](const std::string& subj, int answer, int64_t r) {
    MmluQuestion q;
    q.subject = subj;
    q.question = "q" + std::to_string(r);
    q.choices = {"a", "b", "c", "d"};
    q.answer = answer;
    q.row = r;
    return q;
  };
  data.dev["astronomy"] = {row("astronomy", 0, 0)};
  data.dev["virology"] = {row("virology", 0, 0)};
  data.test["astronomy"] = {row("astronomy", 0, 0), row("astronomy", 1, 1)};
  data.test["virology"] = {row("virology", 2, 0), row("virology", 3, 1)};
  EvalConfig cfg;
  cfg.prompts.mmlu_shots = 1;
  Suite s = build_mmlu_suite(data, cfg.prompts);
  // astronomy: right, wrong; virology: right, right -> 3/4.
  std::vector<Prediction> preds = {{"astronomy/0", {"A"}, -1}, {"astronomy/1", {"C"}, -1},
                                   {"virology/0", {"C"}, -1},  {"virology/1", {"D"}, -1}};
  SuiteResult r = score_predictions(s, preds);
  nlohmann::json j = lm_eval_results({r}, {s}, {10}, cfg);
  CHECK(j["results"]["mmlu"]["acc,none"].get<double>() == Approx(0.75));
  // stderr of the mean of (1, 0, 1, 1): sd 0.5 / sqrt(4) = 0.25.
  CHECK(j["results"]["mmlu"]["acc_stderr,none"].get<double>() == Approx(0.25));
  CHECK(j["results"]["mmlu_astronomy"]["acc,none"].get<double>() == Approx(0.5));
  CHECK(j["results"]["mmlu_virology"]["acc,none"].get<double>() == Approx(1.0));
  CHECK(j["group_subtasks"]["mmlu"] == nlohmann::json::array({"mmlu_astronomy", "mmlu_virology"}));
  CHECK(j["versions"]["mmlu"] == s.version);
  CHECK(j["n-shot"]["mmlu"] == 1);
  CHECK(j["n-samples"]["mmlu"]["original"] == 10);
  CHECK(j["n-samples"]["mmlu"]["effective"] == 4);
  CHECK(j["configs"]["mmlu"]["output_type"] == "multiple_choice");
  CHECK(j["configs"]["mmlu"]["num_fewshot"] == 1);
  CHECK(j["higher_is_better"]["mmlu"]["acc"] == true);
  CHECK(j["config"]["limit"].is_null());

  TempDir d("samples");
  write_samples_jsonl(d.file("s.jsonl"), s, preds, r);
  auto lines = read_lines(d.file("s.jsonl"));
  REQUIRE(lines.size() == 4);
  CHECK(lines[1]["doc_id"] == 1);
  CHECK(lines[1]["id"] == "astronomy/1");
  CHECK(lines[1]["target"] == "B");
  CHECK(lines[1]["resps"] == nlohmann::json::array({"C"}));
  CHECK(lines[1]["value"] == 0.0);
  CHECK(lines[1]["choice"] == 2);
  CHECK(lines[2]["value"] == 1.0);
  CHECK(lines[2]["group"] == "virology");
}

TEST_CASE("leadbench eval: --config, limit, lm-eval file and samples from an open-instruct gsm8k file", "[eval_output]") {
  TempDir d("cmd");
  const std::string data = d.write("gsm8k/test.jsonl", kGsm);
  const std::string preds = d.write(
      "predictions.jsonl", oi_gsm_line("Ann has 2 cats and gets 3 more. How many cats?", "5") +
                               oi_gsm_line("Bob has 10 pens and loses 4. How many pens?", "6") +
                               oi_gsm_line("Cy reads 7 pages a day for 2 days. How many pages?", "14"));
  const std::string config = std::string(LEADBENCH_SOURCE_DIR) + "/experiments/configs/paper_eval.json";
  std::string err;
  REQUIRE(eval_with_stderr({"--suite", "gsm8k", "--data", data, "--predictions", preds, "--config", config, "limit=2",
                            "limit_seed=3", "--json", d.file("out.json"), "--lm-eval-json", d.file("lm.json"),
                            "--samples", d.file("samples.jsonl")},
                           &err) == 0);
  CHECK(err.find("WARNING: PARTIAL RUN") != std::string::npos);
  nlohmann::json out = read_json_file(d.file("out.json"));
  CHECK(out["value"] == Approx(100.0));
  CHECK(out["n"] == 2);
  CHECK(out["details"]["limit"]["limit"] == 2);
  CHECK(out["details"]["limit"]["seed"] == 3);
  CHECK(out["details"]["predictions_outside_limit"] == 1);
  CHECK(out["details"]["predictions_format"] == "open-instruct");
  CHECK(out["config"]["prompts"]["gsm8k_chat_template"] == "on");  // from paper_eval.json
  CHECK(out["warnings"][0].get<std::string>().find("PARTIAL RUN") != std::string::npos);
  nlohmann::json lm = read_json_file(d.file("lm.json"));
  CHECK(lm["results"]["gsm8k"]["exact_match,last_number"] == Approx(1.0));
  CHECK(lm["n-samples"]["gsm8k"]["original"] == 3);
  CHECK(lm["n-samples"]["gsm8k"]["effective"] == 2);
  CHECK(lm["config"]["limit"] == 2);
  CHECK(lm["configs"]["gsm8k"]["apply_chat_template"] == true);
  CHECK(read_lines(d.file("samples.jsonl")).size() == 2);

  // A config file with other sections, a bad format name and a limit below zero are usage errors (2).
  const std::string other = d.write("other.json", "{\"train\": {\"lr\": 1}}");
  CHECK(eval_with_stderr({"--suite", "gsm8k", "--data", data, "--predictions", preds, "--config", other}, &err) == 2);
  CHECK(err.find("reads only the \"eval\" section") != std::string::npos);
  CHECK(eval_with_stderr({"--suite", "gsm8k", "--data", data, "--predictions", preds, "--predictions-format", "csv"},
                         &err) == 2);
  // A mismatched open-instruct file is bad input (1), naming the line.
  const std::string wrong = d.write("wrong.jsonl", oi_gsm_line("Something else?", "5"));
  CHECK(eval_with_stderr({"--suite", "gsm8k", "--data", data, "--predictions", wrong}, &err) == 1);
  CHECK(err.find("wrong.jsonl:1") != std::string::npos);
}
