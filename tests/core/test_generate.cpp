// Tests of generation and continuation scoring against naive references: greedy decoding vs a loop
// of full forwards, seeded sampling independent of batching, stop strings, and per-pair log-likelihoods.
#include "core/generate.h"
#include "core/seeds.h"

#include <catch2/catch.hpp>

using namespace lb;

namespace {

ModelConfig tiny_byte_config(int max_seq_len = 40) {
  ModelConfig c;  // the byte tokenizer's vocabulary, so END/EOS exist
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.d_ff = 48;
  c.max_seq_len = max_seq_len;
  c.init_std = 0.3;
  return c;
}

std::vector<int32_t> random_prompt(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> p = {tok::kBos};
  while (p.size() < n) p.push_back(static_cast<int32_t>(rng.below(256)));
  return p;
}

// The oracle: one sequence at a time, a full forward per new token, argmax.
std::string naive_greedy(DecoderModel& m, std::vector<int32_t> seq, int max_new) {
  torch::NoGradGuard ng;
  std::string text;
  for (int i = 0; i < max_new && static_cast<int64_t>(seq.size()) < m->config().max_seq_len; ++i) {
    std::vector<int64_t> ids(seq.begin(), seq.end());
    auto logits = m->forward(torch::tensor(ids, torch::kLong).unsqueeze(0));
    const int32_t next = static_cast<int32_t>(logits[0][-1].argmax().item<int64_t>());
    if (next == tok::kEnd || next == tok::kEos) break;
    seq.push_back(next);
    if (next < 256) text.push_back(static_cast<char>(next));
  }
  return text;
}

double naive_logprob(DecoderModel& m, const std::vector<int32_t>& ctx, const std::vector<int32_t>& cont) {
  torch::NoGradGuard ng;
  std::vector<int64_t> full(ctx.begin(), ctx.end());
  full.insert(full.end(), cont.begin(), cont.end());
  auto lp = torch::log_softmax(m->forward(torch::tensor(full, torch::kLong).unsqueeze(0))[0], -1);
  double s = 0;
  for (size_t j = 0; j < cont.size(); ++j) {
    const int64_t t = static_cast<int64_t>(ctx.size() + j) - 1;  // position predicting cont[j]
    s += lp[t][cont[j]].item<double>();
  }
  return s;
}

}  // namespace

TEST_CASE("generate: greedy equals a naive loop of full forwards and argmax", "[generate]") {
  ModelConfig c = tiny_byte_config();
  c.smeared_keys = GENERATE(false, true);  // smeared keys: the cache also carries each row's last key
  INFO("smeared keys " << c.smeared_keys);
  DecoderModel m(c, LoraConfig{}, 31);
  {
    torch::NoGradGuard ng;
    torch::manual_seed(31);
    for (auto& p : m->named_parameters())
      if (p.key().find("smear") != std::string::npos) p.value().uniform_(-3, 3);
  }
  m->eval();
  ByteTokenizer tok;
  std::vector<GenerationRequest> reqs;
  for (size_t i = 0; i < 5; ++i) {
    GenerationRequest r;
    r.prompt = random_prompt(3 + 4 * i, 100 + i);  // lengths 3..19: left padding in one batch
    r.options.max_new_tokens = 12 + static_cast<int>(i);
    reqs.push_back(r);
  }
  Ledger ledger;
  auto out = generate(m, tok, reqs, torch::kCPU, /*batch_size=*/4, &ledger, Phase::evaluation);
  REQUIRE(out.size() == reqs.size());
  size_t total_chars = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    INFO("request " << i);
    CHECK(out[i] == naive_greedy(m, reqs[i].prompt, reqs[i].options.max_new_tokens));
    total_chars += out[i].size();
  }
  CHECK(total_chars > 20);  // the oracle had something to compare
  CHECK(ledger.stats(Phase::evaluation).forward_tokens > 0);
  CHECK(ledger.stats(Phase::evaluation).samples == 5);
  CHECK(m->is_training() == false);
}

TEST_CASE("generate: prompts near max_seq_len stop at the model's length", "[generate]") {
  DecoderModel m(tiny_byte_config(24), LoraConfig{}, 32);
  ByteTokenizer tok;
  GenerationRequest r;
  r.prompt = random_prompt(40, 7);  // longer than max_seq_len: keeps its last 23 tokens
  r.options.max_new_tokens = 10;
  auto out = generate(m, tok, {r}, torch::kCPU);
  std::vector<int32_t> tail(r.prompt.end() - 23, r.prompt.end());
  CHECK(out[0] == naive_greedy(m, tail, 10));
  CHECK(out[0].size() <= 1);
}

TEST_CASE("generate: sampling is reproducible and independent of batch composition", "[generate]") {
  DecoderModel m(tiny_byte_config(), LoraConfig{}, 33);
  ByteTokenizer tok;
  auto make = [](size_t len, uint64_t prompt_seed, uint64_t seed) {
    GenerationRequest r;
    r.prompt = random_prompt(len, prompt_seed);
    r.options.max_new_tokens = 15;
    r.options.temperature = 1.0;
    r.options.top_p = 0.9;
    r.options.seed = seed;
    return r;
  };
  GenerationRequest target = make(6, 1, 77);
  auto alone = generate(m, tok, {target}, torch::kCPU);
  auto again = generate(m, tok, {target}, torch::kCPU);
  CHECK(alone == again);
  std::vector<GenerationRequest> mixed = {make(15, 2, 5), target, make(3, 3, 6), make(9, 4, 7)};
  auto batched = generate(m, tok, mixed, torch::kCPU, /*batch_size=*/3);
  CHECK(batched[1] == alone[0]);
  auto batched_small = generate(m, tok, mixed, torch::kCPU, /*batch_size=*/1);
  CHECK(batched == batched_small);
  // Another seed gives another sample (the text is 15 random-ish bytes long).
  GenerationRequest other = target;
  other.options.seed = 78;
  auto different = generate(m, tok, {other}, torch::kCPU);
  CHECK(different[0] != alone[0]);
  // A vanishing top_p keeps only the most likely token: the same as greedy.
  GenerationRequest narrow = target;
  narrow.options.top_p = 1e-9;
  CHECK(generate(m, tok, {narrow}, torch::kCPU)[0] == naive_greedy(m, target.prompt, 15));
}

TEST_CASE("generate: stop strings cut the text before their first occurrence", "[generate]") {
  DecoderModel m(tiny_byte_config(), LoraConfig{}, 34);
  ByteTokenizer tok;
  GenerationRequest r;
  r.prompt = random_prompt(5, 9);
  r.options.max_new_tokens = 20;
  const std::string full = generate(m, tok, {r}, torch::kCPU)[0];
  REQUIRE(full.size() >= 8);
  const std::string stop = full.substr(4, 2);
  r.options.stop = {"never-occurs", stop};
  const std::string cut = generate(m, tok, {r}, torch::kCPU)[0];
  CHECK(cut == full.substr(0, full.find(stop)));
  CHECK(cut.size() <= 4);
  r.options.stop = {full.substr(0, 1)};  // a stop string right at the start gives an empty text
  CHECK(generate(m, tok, {r}, torch::kCPU)[0].empty());
  r.options.max_new_tokens = 3;
  r.options.stop = {};
  CHECK(generate(m, tok, {r}, torch::kCPU)[0] == naive_greedy(m, r.prompt, 3));
}

TEST_CASE("generate: invalid options are errors naming the request", "[generate]") {
  DecoderModel m(tiny_byte_config(), LoraConfig{}, 35);
  ByteTokenizer tok;
  GenerationRequest r;
  r.prompt = random_prompt(4, 1);
  r.options.top_p = 0.0;
  CHECK_THROWS_WITH(generate(m, tok, {GenerationRequest{}, r}, torch::kCPU), Catch::Contains("request 1"));
  r.options.top_p = 1.0;
  r.prompt.push_back(9999);
  CHECK_THROWS_WITH(generate(m, tok, {r}, torch::kCPU), Catch::Contains("vocabulary"));
}

TEST_CASE("continuation_logprobs equals a naive per-pair computation", "[generate]") {
  DecoderModel m(tiny_byte_config(24), LoraConfig{}, 36);
  std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> pairs;
  for (size_t i = 0; i < 7; ++i) {
    auto ctx = random_prompt(2 + 3 * i, 200 + i);
    auto cont = random_prompt(1 + i % 4, 300 + i);
    cont.erase(cont.begin());  // drop the BOS
    cont.push_back(tok::kEnd);
    pairs.push_back({ctx, cont});
  }
  Ledger ledger;
  // A small token budget forces several batches of different lengths.
  auto got = continuation_logprobs(m, pairs, torch::kCPU, /*max_batch_tokens=*/48, &ledger, Phase::selection_inference);
  REQUIRE(got.size() == pairs.size());
  int64_t inputs = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [ctx, cont] = pairs[i];
    std::vector<int32_t> c = ctx;
    const size_t total = ctx.size() + cont.size();
    if (total > 25) c.erase(c.begin(), c.begin() + (total - 25));  // left truncation to max_seq_len + 1
    inputs += static_cast<int64_t>(c.size() + cont.size()) - 1;
    INFO("pair " << i << " context " << ctx.size() << " kept " << c.size());
    CHECK(got[i] == Approx(naive_logprob(m, c, cont)).margin(1e-4));
    CHECK(got[i] < 0);
  }
  CHECK(ledger.stats(Phase::selection_inference).forward_tokens == inputs);
  CHECK(ledger.stats(Phase::selection_inference).samples == 7);
  CHECK_THROWS_WITH(continuation_logprobs(m, {{{}, {1}}}, torch::kCPU), Catch::Contains("context is empty"));
  CHECK_THROWS_WITH(continuation_logprobs(m, {{{1}, {}}}, torch::kCPU), Catch::Contains("continuation is empty"));
}
