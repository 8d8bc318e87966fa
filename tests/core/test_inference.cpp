// Tests of the batched no-grad inference engine: losses and embeddings equal a one-at-a-time
// reference, results come back in the caller's order, and length bucketing keeps padding low.
#include "core/inference.h"
#include "tiny_world.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace lb;
using namespace lb::testing;

TEST_CASE("engine losses equal a one-at-a-time reference, in the caller's order", "[inference]") {
  TokenCache tokens = tokens_of(random_chats(23, 31, 6, 64), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 71);
  model->train();
  Ledger ledger;
  InferenceConfig cfg;
  cfg.max_batch_tokens = 200;  // several buckets
  InferenceEngine engine(tokens, ledger, torch::kCPU, cfg);
  std::vector<SampleId> ids = {5, 3, 22, 0, 3, 17, 9, 11, 1, 2, 4, 6, 7, 8, 10, 12, 13, 14, 15, 16, 18, 19, 20, 21};
  auto losses = engine.response_loss(model, ids, Phase::selection_inference);
  auto only = engine.response_only_loss(model, ids, Phase::offline_inference);
  CHECK(model->is_training());  // the caller's mode is restored
  REQUIRE(losses.size() == ids.size());
  model->eval();
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < ids.size(); ++k) {
    INFO("id " << ids[k]);
    CHECK(std::abs(losses[k] - reference_loss(model, tokens.full[ids[k]]).item<double>()) < 1e-5);
    CHECK(std::abs(only[k] - reference_loss(model, tokens.response_only[ids[k]]).item<double>()) < 1e-5);
  }
  // The same id twice, at two batch positions: the matmuls' blocking (and so the last bits) may
  // depend on the row's position on some CPUs (seen on AMD EPYC), so equal within float rounding.
  CHECK(std::abs(losses[1] - losses[4]) <= 1e-6 * std::max(1.0, std::abs(static_cast<double>(losses[1]))));
  // Phases are charged: real tokens are the inputs of next-token prediction.
  int64_t real = 0;
  for (SampleId id : ids) real += static_cast<int64_t>(tokens.full[id].ids.size()) - 1;
  CHECK(ledger.stats(Phase::selection_inference).forward_tokens == real);
  CHECK(ledger.stats(Phase::selection_inference).samples == static_cast<int64_t>(ids.size()));
  CHECK(ledger.stats(Phase::offline_inference).forward_tokens > 0);
  CHECK(ledger.stats(Phase::training).forward_tokens == 0);
  CHECK(ledger.stats(Phase::training).backward_tokens == 0);
}

TEST_CASE("loss_of scores arbitrary sequences; no targets gives NaN", "[inference]") {
  TokenCache tokens;
  DecoderModel model(tiny_model_config(), LoraConfig{}, 72);
  Ledger ledger;
  InferenceEngine engine(tokens, ledger, torch::kCPU);
  ByteTokenizer tok;
  std::vector<Encoded> seqs = {tok.encode_plain("hello world", 64), tok.encode_plain("", 64),
                               tok.encode_chat({{"user", "only a question"}}, 64), Encoded{{tok::kBos}, {0}},
                               tok.encode_plain("a much longer piece of text to score here", 64)};
  auto losses = engine.loss_of(model, seqs, Phase::evaluation);
  REQUIRE(losses.size() == 5);
  model->eval();
  torch::NoGradGuard no_grad;
  CHECK(std::abs(losses[0] - reference_loss(model, seqs[0]).item<double>()) < 1e-5);
  CHECK(std::abs(losses[1] - reference_loss(model, seqs[1]).item<double>()) < 1e-5);  // EOS only
  CHECK(std::isnan(losses[2]));  // no assistant turn: nothing to score
  CHECK(std::isnan(losses[3]));  // one token: nothing to predict
  CHECK(std::abs(losses[4] - reference_loss(model, seqs[4]).item<double>()) < 1e-5);
}

TEST_CASE("response masking in the engine: only response tokens count", "[inference]") {
  std::vector<std::vector<Message>> chats = {
      {{"user", "name a colour"}, {"assistant", "blue"}, {"user", "and another"}},
      {{"user", "name a colour"}, {"assistant", "blue"}, {"user", "zzzzzzzzzzzz qq"}},
      {{"user", "name a colour"}, {"assistant", "red!"}, {"user", "and another"}},
  };
  TokenCache tokens = tokens_of(chats, 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 73);
  Ledger ledger;
  InferenceEngine engine(tokens, ledger, torch::kCPU);
  auto l = engine.response_loss(model, {0, 1, 2}, Phase::selection_inference);
  CHECK(std::abs(l[0] - l[1]) < 1e-6);
  CHECK(std::abs(l[0] - l[2]) > 1e-4);
}

TEST_CASE("embeddings are mean-pooled hidden states over real tokens", "[inference]") {
  TokenCache tokens = tokens_of(random_chats(9, 32, 6, 64), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 74);
  Ledger ledger;
  InferenceConfig cfg;
  cfg.max_batch_tokens = 150;
  InferenceEngine engine(tokens, ledger, torch::kCPU, cfg);
  std::vector<SampleId> ids = {8, 2, 5, 0, 1, 3, 4, 6, 7};
  auto emb = engine.embeddings(model, ids, Phase::selection_inference);
  REQUIRE(emb.sizes() == torch::IntArrayRef({9, 32}));
  torch::NoGradGuard no_grad;
  model->eval();
  for (size_t k = 0; k < ids.size(); ++k) {
    const auto& e = tokens.full[ids[k]];
    std::vector<int64_t> in(e.ids.begin(), e.ids.end());
    auto h = model->hidden_states(torch::tensor(in, torch::kInt64).view({1, -1}))[0].mean(0);
    CHECK((emb[k] - h).abs().max().item<double>() < 1e-5);
  }
}

TEST_CASE("length bucketing keeps padding efficiency >= 0.9 on a wide length spread", "[inference]") {
  // 300 sequences with lengths spread over 10..128 tokens.
  Rng rng(33);
  TokenCache tokens;
  for (int i = 0; i < 300; ++i) {
    const int len = 10 + static_cast<int>(rng.below(119));
    Encoded e;
    e.ids.push_back(tok::kBos);
    e.loss_mask.push_back(0);
    for (int t = 1; t < len; ++t) {
      e.ids.push_back('a' + static_cast<int>(rng.below(26)));
      e.loss_mask.push_back(1);
    }
    tokens.full.push_back(e);
  }
  DecoderModel model(tiny_model_config(128), LoraConfig{}, 75);
  Ledger ledger;
  InferenceEngine engine(tokens, ledger, torch::kCPU);
  auto losses = engine.response_loss(model, iota_ids(300), Phase::selection_inference);
  INFO("padding efficiency " << engine.last_padding_efficiency());
  CHECK(engine.last_padding_efficiency() >= 0.9);
  CHECK(ledger.stats(Phase::selection_inference).padding_efficiency() >= 0.9);
  for (float l : losses) CHECK(std::isfinite(l));
  // Without bucketing (arbitrary order, one batch cap) the same pool would waste far more.
  int64_t real = 0;
  for (const auto& e : tokens.full) real += static_cast<int64_t>(e.ids.size()) - 1;
  CHECK(static_cast<double>(real) / (300.0 * 127.0) < 0.6);
}

TEST_CASE("plan_length_buckets covers every sequence once within the limits", "[inference]") {
  Rng rng(34);
  std::vector<int64_t> lengths;
  for (int i = 0; i < 500; ++i) lengths.push_back(static_cast<int64_t>(rng.below(130)));  // zeros are skipped
  InferenceConfig cfg;
  cfg.max_batch_tokens = 1000;
  cfg.max_batch_size = 16;
  cfg.min_padding_efficiency = 0.9;
  auto buckets = plan_length_buckets(lengths, cfg);
  std::multiset<size_t> seen;
  for (const auto& b : buckets) {
    REQUIRE(!b.empty());
    int64_t longest = 0, real = 0;
    for (size_t i : b) {
      seen.insert(i);
      longest = std::max(longest, lengths[i]);
      real += lengths[i];
    }
    CHECK(static_cast<int64_t>(b.size()) <= 16);
    CHECK((b.size() == 1 || static_cast<int64_t>(b.size()) * longest <= 1000));
    CHECK(static_cast<double>(real) >= 0.9 * static_cast<double>(b.size()) * longest - 1e-9);
  }
  size_t nonzero = 0;
  for (size_t i = 0; i < lengths.size(); ++i)
    if (lengths[i] > 0) {
      ++nonzero;
      CHECK(seen.count(i) == 1);
    }
  CHECK(seen.size() == nonzero);
}
