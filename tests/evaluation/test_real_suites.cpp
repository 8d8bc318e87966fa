// Gold predictions on the real benchmark files give 100 % and wrong ones give 0 %, through the same
// scoring path as `leadbench eval` (HumanEval: the canonical solutions pass all 164 problems' tests in
// the sandbox). Skipped when ../shared/data is absent.
#include "evaluation/evaluator.h"
#include "evaluation/metrics.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>

using namespace lb;
namespace fs = std::filesystem;

namespace {

bool have_data(const char* sub) {
  if (!fs::exists(fs::path(LEADBENCH_SHARED_DATA) / sub)) {
    std::printf("SKIPPED: %s not found under LEADBENCH_SHARED_DATA (%s)\n", sub, LEADBENCH_SHARED_DATA);
    return false;
  }
  return true;
}

Suite load(const std::string& name, std::shared_ptr<Sandbox> sb = nullptr) {
  EvalConfig cfg;
  return load_real_suite(name, LEADBENCH_SHARED_DATA, cfg, sb);
}

}  // namespace

TEST_CASE("real mmlu: 14042 questions, gold letters 100 %, shifted letters 0 %") {
  if (!have_data("mmlu")) return;
  Suite s = load("mmlu");
  REQUIRE(s.items.size() == 14042);
  std::vector<Prediction> gold, wrong;
  for (const auto& it : s.items) {
    gold.push_back({it.id, {std::string(1, char('A' + it.answer)) + ". some text"}, -1});
    wrong.push_back({it.id, {std::string(1, char('A' + (it.answer + 1) % 4))}, -1});
  }
  SuiteResult g = score_predictions(s, gold), w = score_predictions(s, wrong);
  CHECK(g.headline.value == Approx(100.0));
  CHECK(g.headline.n == 14042);
  CHECK(g.warnings.empty());
  CHECK(w.headline.value == Approx(0.0));
  CHECK(g.details["groups"].size() == 57);
  CHECK(g.details["categories"].size() == 4);
  int64_t per_cat = 0;
  for (const auto& c : g.details["categories"]) per_cat += c["n"].get<int64_t>();
  CHECK(per_cat == 14042);
  // Spot checks of ids and answers against the README's answer counts.
  int counts[4] = {0, 0, 0, 0};
  for (const auto& it : s.items) ++counts[it.answer];
  CHECK(counts[0] == 3222);
  CHECK(counts[1] == 3462);
  CHECK(counts[2] == 3582);
  CHECK(counts[3] == 3776);
  CHECK(s.items.front().id == "abstract_algebra/0");
  CHECK(s.items.front().prompt.rfind(
            "The following are multiple choice questions (with answers) about  abstract algebra.\n\n", 0) == 0);
}

TEST_CASE("real gsm8k: 1319 problems, reference solutions 100 %, off-by-one 0 %") {
  if (!have_data("gsm8k")) return;
  Suite s = load("gsm8k");
  REQUIRE(s.items.size() == 1319);
  std::vector<Prediction> gold, wrong;
  for (const auto& it : s.items) {
    gold.push_back({it.id, {"Let me think. #### " + it.references[0]}, -1});
    auto v = std::stold(it.references[0]);
    wrong.push_back({it.id, {"The answer is " + canonical_number(std::to_string(static_cast<long long>(v) + 1)).value() + "."}, -1});
  }
  CHECK(score_predictions(s, gold).headline.value == Approx(100.0));
  CHECK(score_predictions(s, wrong).headline.value == Approx(0.0));
  CHECK(s.items[0].id == "0");
  CHECK(s.items[0].prompt.find("There are 15 trees in the grove.") != std::string::npos);
}

TEST_CASE("real humaneval: the canonical solutions pass all 164 problems in the sandbox, stubs pass none") {
  if (!have_data("humaneval")) return;
  SandboxConfig sc;
  sc.workers = 4;
  auto sb = std::make_shared<Sandbox>(sc);
  if (!sb->probe().empty()) {
    std::printf("SKIPPED: the sandbox cannot run here: %s\n", sb->probe().c_str());
    return;
  }
  EvalConfig cfg;
  cfg.sandbox = sc;
  Suite s = load_real_suite("humaneval", LEADBENCH_SHARED_DATA, cfg, sb);
  REQUIRE(s.items.size() == 164);
  s.pass_ks = {1};
  std::vector<Prediction> gold, wrong;
  for (const auto& it : s.items) {
    gold.push_back({it.id, {it.references[0]}, -1});
    wrong.push_back({it.id, {"    raise NotImplementedError\n"}, -1});
  }
  SuiteResult g = score_predictions(s, gold);
  CHECK(g.metric == "pass@1");
  CHECK(g.headline.value == Approx(100.0));
  CHECK(g.details["problems_never_passed"] == 0);
  SuiteResult w = score_predictions(s, wrong);
  CHECK(w.headline.value == Approx(0.0));
}

TEST_CASE("real tydiqa: 5077 questions in 9 languages, gold answers F1 = EM = 100, wrong 0") {
  if (!have_data("tydiqa")) return;
  Suite s = load("tydiqa");
  REQUIRE(s.items.size() == 5077);
  std::vector<Prediction> gold, wrong;
  for (const auto& it : s.items) {
    gold.push_back({it.id, {it.references[0] + "\nextra line"}, -1});
    wrong.push_back({it.id, {"qqqq zzzz"}, -1});
  }
  SuiteResult g = score_predictions(s, gold);
  CHECK(g.metric == "f1");
  CHECK(g.headline.value == Approx(100.0));
  CHECK(g.details["exact_match"]["value"].get<double>() == Approx(100.0));
  CHECK(g.details["groups"].size() == 9);
  CHECK(g.details["groups"]["bengali"]["n"] == 113);
  SuiteResult w = score_predictions(s, wrong);
  CHECK(w.headline.value == Approx(0.0));
}
