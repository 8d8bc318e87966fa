// The evaluator on a tiny random model: multiple choice picks the argmax of the choices'
// log-likelihoods, generative suites produce one prediction per item (n per item for code), runs are
// deterministic for a seed, a partial run warns, and evaluation time lands in Phase::evaluation.
#include <atomic>

#include "core/generate.h"
#include "core/model.h"
#include "evaluation/evaluator.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

using namespace lb;

namespace {

DecoderModel tiny_model() {
  ModelConfig mc;
  mc.d_model = 32;
  mc.n_layers = 1;
  mc.n_heads = 2;
  mc.n_kv_heads = 2;
  mc.d_ff = 64;
  mc.max_seq_len = 64;
  DecoderModel m(mc, LoraConfig{}, 7);
  m->eval();
  return m;
}

Suite mc_suite() {
  Suite s;
  s.name = "toy_mc";
  s.version = "t1";
  s.kind = SuiteKind::multiple_choice;
  s.chat_template = false;
  for (int i = 0; i < 6; ++i) {
    SuiteItem it;
    it.id = "q" + std::to_string(i);
    it.group = i % 2 ? "odd" : "even";
    it.prompt = "Question " + std::to_string(i) + "?\n";
    it.answer_prefix = "Answer:";
    it.choices = {" A", " B", " C", " D"};
    it.answer = i % 4;
    s.items.push_back(it);
  }
  return s;
}

}  // namespace

TEST_CASE("evaluator: multiple choice = argmax of continuation log-likelihoods") {
  torch::manual_seed(0);
  DecoderModel m = tiny_model();
  ByteTokenizer tok;
  Suite s = mc_suite();
  Ledger ledger;
  EvalConfig cfg;
  std::vector<Prediction> preds;
  SuiteResult r = evaluate_suite(m, tok, s, cfg, ledger, torch::kCPU, 1, &preds);
  REQUIRE(preds.size() == 6);
  CHECK(r.metric == "accuracy");
  CHECK(r.headline.n == 6);
  int correct = 0;
  for (size_t i = 0; i < s.items.size(); ++i) {
    std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> pairs;
    auto ctx = item_prompt_tokens(tok, s, s.items[i]);
    CHECK(ctx.front() == tok::kBos);
    for (const auto& c : s.items[i].choices) pairs.emplace_back(ctx, tok.encode(c));
    auto lp = continuation_logprobs(m, pairs, torch::kCPU);
    int best = 0;
    for (int c = 1; c < 4; ++c)
      if (lp[c] > lp[best]) best = c;
    CHECK(preds[i].choice == best);
    correct += best == s.items[i].answer;
  }
  CHECK(r.headline.value == Approx(100.0 * correct / 6));
  CHECK(ledger.stats(Phase::evaluation).forward_tokens > 0);
  CHECK(ledger.stats(Phase::training).forward_tokens == 0);
}

TEST_CASE("evaluator: generative and code suites, determinism, partial runs") {
  torch::manual_seed(0);
  DecoderModel m = tiny_model();
  ByteTokenizer tok;
  Suite g;
  g.name = "toy_gen";
  g.kind = SuiteKind::final_number;
  g.chat_template = true;
  g.generation.max_new_tokens = 8;
  for (int i = 0; i < 5; ++i) {
    SuiteItem it;
    it.id = std::to_string(i);
    it.prompt = "What is " + std::to_string(i) + "+1?";
    it.answer_prefix = "Answer:";
    it.references = {std::to_string(i + 1)};
    g.items.push_back(it);
  }
  Ledger ledger;
  EvalConfig cfg;
  std::vector<Prediction> p1, p2;
  SuiteResult r1 = evaluate_suite(m, tok, g, cfg, ledger, torch::kCPU, 5, &p1);
  SuiteResult r2 = evaluate_suite(m, tok, g, cfg, ledger, torch::kCPU, 5, &p2);
  REQUIRE(p1.size() == 5);
  for (size_t i = 0; i < p1.size(); ++i) CHECK(p1[i].outputs == p2[i].outputs);
  CHECK(r1.headline.value == r2.headline.value);
  CHECK(r1.warnings.empty());

  cfg.limit = 2;
  SuiteResult part = evaluate_suite(m, tok, g, cfg, ledger, torch::kCPU, 5);
  CHECK(part.headline.n == 2);
  REQUIRE_FALSE(part.warnings.empty());
  CHECK(part.warnings[0].find("PARTIAL RUN: 2 of 5") != std::string::npos);

  // A code suite: n samples per item, each checked; the checker sees every sample.
  Suite c;
  c.name = "toy_code";
  c.kind = SuiteKind::code;
  c.chat_template = false;
  c.samples_per_item = 3;
  c.pass_ks = {1, 3};
  c.generation.max_new_tokens = 4;
  c.generation.temperature = 1.0;
  for (int i = 0; i < 3; ++i) {
    SuiteItem it;
    it.id = "c" + std::to_string(i);
    it.prompt = "def f" + std::to_string(i) + "():";
    c.items.push_back(it);
  }
  std::atomic<int> calls{0};
  c.code_checker = [&](const SuiteItem& item, const std::string&) {
    ++calls;
    return item.id == "c0";  // c0 always passes, the others never
  };
  EvalConfig cc;
  std::vector<Prediction> cp;
  SuiteResult cr = evaluate_suite(m, tok, c, cc, ledger, torch::kCPU, 9, &cp);
  CHECK(calls == 9);
  REQUIRE(cp.size() == 3);
  CHECK(cp[0].outputs.size() == 3);
  CHECK(cr.metric == "pass@1");
  CHECK(cr.headline.value == Approx(100.0 / 3));
  CHECK(cr.details["pass_at_k"]["pass@3"]["value"].get<double>() == Approx(100.0 / 3));
}
