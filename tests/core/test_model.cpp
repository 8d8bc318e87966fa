// Tests of the decoder model: shapes and names, seeded init, causality, LoRA at init, frozen-base
// gradients, the cached forward against the full forward (with left padding), and clone_model.
#include "core/model.h"

#include <catch2/catch.hpp>

#include <set>

using namespace lb;

namespace {

ModelConfig tiny_config(int n_kv_heads = 2, bool tie = true) {
  ModelConfig c;
  c.vocab_size = 50;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 4;
  c.n_kv_heads = n_kv_heads;
  c.d_ff = 48;
  c.max_seq_len = 24;
  c.tie_embeddings = tie;
  c.init_std = 0.2;  // large enough that attention patterns are far from uniform
  return c;
}

LoraConfig lora_config(int rank, double dropout = 0.0, bool train_base = false) {
  LoraConfig l;
  l.rank = rank;
  l.alpha = 8.0;
  l.dropout = dropout;
  l.train_base = train_base;
  return l;
}

torch::Tensor random_tokens(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, vocab, {B, T}, torch::kLong);
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Gives every LoRA B a non-zero value, so that adapters change the output.
void perturb_adapters(DecoderModel& m) {
  torch::NoGradGuard ng;
  torch::manual_seed(99);
  for (auto& p : m->named_parameters())
    if (p.key().find("lora_b") != std::string::npos) p.value().normal_(0, 0.3);
}

// Smeared keys with every head at its own mix, away from the even start, so that a wrong previous
// key would show.
DecoderModel smeared_model(ModelConfig c, const LoraConfig& lora, uint64_t seed) {
  c.smeared_keys = true;
  DecoderModel m(c, lora, seed);
  torch::NoGradGuard ng;
  torch::manual_seed(seed + 100);
  for (auto& p : m->named_parameters())
    if (p.key().find("smear") != std::string::npos) p.value().uniform_(-3, 3);
  return m;
}

}  // namespace

TEST_CASE("model: shapes, grouped KV heads and readable parameter names", "[model]") {
  ModelConfig c = tiny_config(/*n_kv_heads=*/2, /*tie=*/false);
  DecoderModel m(c, LoraConfig{}, 1);
  auto tokens = random_tokens(3, 10, c.vocab_size, 1);
  auto logits = m->forward(tokens);
  CHECK(logits.sizes() == torch::IntArrayRef({3, 10, c.vocab_size}));
  CHECK(m->hidden_states(tokens).sizes() == torch::IntArrayRef({3, 10, c.d_model}));

  auto named = m->named_parameters();
  const int64_t hd = c.d_model / c.n_heads;
  REQUIRE(named.find("embed.weight"));
  REQUIRE(named.find("head.weight"));
  REQUIRE(named.find("norm.weight"));
  REQUIRE(named.find("blocks.1.attn_norm.weight"));
  REQUIRE(named.find("blocks.1.mlp_norm.weight"));
  CHECK(named["blocks.1.attn.q.weight"].sizes() == torch::IntArrayRef({c.n_heads * hd, c.d_model}));
  CHECK(named["blocks.1.attn.k.weight"].sizes() == torch::IntArrayRef({c.n_kv_heads * hd, c.d_model}));
  CHECK(named["blocks.1.attn.v.weight"].sizes() == torch::IntArrayRef({c.n_kv_heads * hd, c.d_model}));
  CHECK(named["blocks.0.mlp.gate.weight"].sizes() == torch::IntArrayRef({c.d_ff, c.d_model}));
  CHECK(named["blocks.0.mlp.down.weight"].sizes() == torch::IntArrayRef({c.d_model, c.d_ff}));

  const int64_t per_block = 2 * c.d_model                              // norms
                            + 2 * c.d_model * c.d_model                // q, o
                            + 2 * c.d_model * c.n_kv_heads * hd        // k, v
                            + 3 * c.d_model * c.d_ff;                  // gate, up, down
  const int64_t expected = 2 * c.vocab_size * c.d_model + c.d_model + c.n_layers * per_block;
  CHECK(m->parameter_count(false) == expected);
  CHECK(m->parameter_count(true) == expected);

  ModelConfig ref;  // the reference config of the speed benchmark: about 1.85 M parameters
  DecoderModel big(ref, LoraConfig{}, 1);
  CHECK(big->parameter_count(false) > 1800000);
  CHECK(big->parameter_count(false) < 1900000);
}

TEST_CASE("model: bad configs are rejected with a message", "[model]") {
  ModelConfig c = tiny_config();
  c.n_kv_heads = 3;  // does not divide 4 heads
  CHECK_THROWS_WITH(DecoderModel(c, LoraConfig{}, 1), Catch::Contains("n_kv_heads"));
  c = tiny_config();
  c.d_model = 30;
  CHECK_THROWS_WITH(DecoderModel(c, LoraConfig{}, 1), Catch::Contains("divisible"));
  LoraConfig l = lora_config(2);
  l.targets = {"q", "qkv"};
  CHECK_THROWS_WITH(DecoderModel(tiny_config(), l, 1), Catch::Contains("qkv"));
}

TEST_CASE("model: initialisation depends on the seed only, not on global RNG state", "[model]") {
  ModelConfig c = tiny_config();
  torch::manual_seed(5);
  DecoderModel a(c, LoraConfig{}, 7);
  torch::Tensor after_a = torch::rand({4});
  torch::manual_seed(5);
  torch::Tensor untouched = torch::rand({4});
  CHECK(torch::equal(after_a, untouched));  // building a model draws nothing from the global RNG
  torch::manual_seed(123);
  DecoderModel b(c, LoraConfig{}, 7);
  DecoderModel d(c, LoraConfig{}, 8);
  auto pa = a->named_parameters(), pb = b->named_parameters(), pd = d->named_parameters();
  for (auto& item : pa) {
    CHECK(torch::equal(item.value(), pb[item.key()]));
    if (item.key().find("norm") == std::string::npos) CHECK_FALSE(torch::equal(item.value(), pd[item.key()]));
  }
  // Output projections are initialised smaller (1/sqrt(2 n_layers)).
  double q_std = pa["blocks.0.attn.q.weight"].std().item<double>();
  double o_std = pa["blocks.0.attn.o.weight"].std().item<double>();
  CHECK(q_std == Approx(c.init_std).epsilon(0.1));
  CHECK(o_std == Approx(c.init_std / 2.0).epsilon(0.1));
}

TEST_CASE("model: attention is causal", "[model]") {
  ModelConfig c = tiny_config();
  const bool smeared = GENERATE(false, true);
  INFO("smeared keys " << smeared);
  DecoderModel m = smeared ? smeared_model(c, LoraConfig{}, 3) : DecoderModel(c, LoraConfig{}, 3);
  auto tokens = random_tokens(2, 12, c.vocab_size, 3);
  auto changed = tokens.clone();
  changed.index_put_({torch::indexing::Slice(), 8}, (tokens.index({torch::indexing::Slice(), 8}) + 1) % c.vocab_size);
  auto a = m->forward(tokens), b = m->forward(changed);
  using torch::indexing::Slice;
  CHECK(torch::equal(a.index({Slice(), Slice(0, 8)}), b.index({Slice(), Slice(0, 8)})));
  CHECK(max_abs_diff(a.index({Slice(), Slice(8)}), b.index({Slice(), Slice(8)})) > 1e-4);
}

TEST_CASE("model: LoRA at initialisation equals the base model exactly", "[model][lora]") {
  for (bool tie : {true, false}) {
    ModelConfig c = tiny_config(2, tie);
    DecoderModel base(c, LoraConfig{}, 11);
    DecoderModel adapted(c, lora_config(4, /*dropout=*/0.1), 11);
    auto tokens = random_tokens(2, 9, c.vocab_size, 4);
    base->eval();
    adapted->eval();
    CHECK(torch::equal(base->forward(tokens), adapted->forward(tokens)));
    // In training mode the dropped-out adapter path runs beside the base matmul: still exact at init.
    base->train();
    adapted->train();
    CHECK(torch::equal(base->forward(tokens), adapted->forward(tokens)));
    // Once B moves away from zero the adapters do change the output.
    perturb_adapters(adapted);
    adapted->eval();
    base->eval();
    CHECK(max_abs_diff(base->forward(tokens), adapted->forward(tokens)) > 1e-3);
  }
}

TEST_CASE("model: adapters added after construction match construction with adapters", "[model][lora]") {
  ModelConfig c = tiny_config();
  DecoderModel a(c, lora_config(4), 21);
  DecoderModel b(c, LoraConfig{}, 21);
  b->add_adapters(lora_config(4), 21);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (auto& item : pa) {
    REQUIRE(pb.find(item.key()));
    CHECK(torch::equal(item.value(), pb[item.key()]));
    CHECK(item.value().requires_grad() == pb[item.key()].requires_grad());
  }
  CHECK_THROWS(b->add_adapters(lora_config(4), 21));  // twice is an error
}

TEST_CASE("model: with the base frozen only adapter parameters get gradients", "[model][lora]") {
  ModelConfig c = tiny_config();
  LoraConfig l = lora_config(4);
  l.targets = {"q", "v", "down"};
  DecoderModel m(c, l, 5);
  perturb_adapters(m);  // so that the gradient of every A is non-zero too
  auto tokens = random_tokens(2, 10, c.vocab_size, 5);
  auto logits = m->forward(tokens);
  auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, c.vocab_size}), tokens.roll(-1, 1).reshape({-1}));
  loss.backward();
  int64_t adapter_numel = 0;
  int adapters = 0;
  for (auto& item : m->named_parameters()) {
    const bool is_adapter = item.key().find("lora_") != std::string::npos;
    INFO(item.key());
    CHECK(item.value().requires_grad() == is_adapter);
    if (is_adapter) {
      ++adapters;
      adapter_numel += item.value().numel();
      REQUIRE(item.value().grad().defined());
      CHECK(item.value().grad().abs().sum().item<double>() > 0);
      CHECK((item.key().find(".q.") != std::string::npos || item.key().find(".v.") != std::string::npos ||
             item.key().find(".down.") != std::string::npos));
    } else {
      CHECK_FALSE(item.value().grad().defined());
    }
  }
  CHECK(adapters == c.n_layers * 3 * 2);
  CHECK(m->parameter_count(true) == adapter_numel);
  CHECK(m->trainable_parameters().size() == static_cast<size_t>(adapters));
  auto last = m->last_block_trainable_parameters();
  CHECK(last.size() == 6);
  std::set<const void*> last_ptrs;
  for (auto& p : last) last_ptrs.insert(p.data_ptr());
  for (auto& item : m->named_parameters())
    if (item.key().rfind("blocks.1.", 0) == 0 && item.value().requires_grad()) CHECK(last_ptrs.count(item.value().data_ptr()));

  DecoderModel full(c, lora_config(4, 0.0, /*train_base=*/true), 5);
  CHECK(full->parameter_count(true) == full->parameter_count(false));
}

TEST_CASE("model: forward_cached step by step equals the full forward", "[model][cache]") {
  const bool smeared = GENERATE(false, true);
  INFO("smeared keys " << smeared);
  for (int kv : {4, 2}) {
    ModelConfig c = tiny_config(kv);
    DecoderModel m = smeared ? smeared_model(c, lora_config(2), 8) : DecoderModel(c, lora_config(2), 8);
    perturb_adapters(m);
    m->eval();
    torch::NoGradGuard ng;
    const int64_t T = 11;
    auto tokens = random_tokens(2, T, c.vocab_size, 8);
    auto full = m->forward(tokens);
    KVCache cache;
    auto ones = torch::ones({2, T}, torch::kBool);
    auto pos = torch::arange(T, torch::kLong).unsqueeze(0).expand({2, T});
    using torch::indexing::Slice;
    // A prompt chunk of 4, then one token at a time.
    auto first = m->forward_cached(tokens.index({Slice(), Slice(0, 4)}), cache, ones.index({Slice(), Slice(0, 4)}),
                                   pos.index({Slice(), Slice(0, 4)}));
    CHECK(max_abs_diff(first, full.index({Slice(), Slice(0, 4)})) < 1e-5);
    for (int64_t t = 4; t < T; ++t) {
      auto step = m->forward_cached(tokens.index({Slice(), Slice(t, t + 1)}), cache, ones.index({Slice(), Slice(0, t + 1)}),
                                    pos.index({Slice(), Slice(t, t + 1)}));
      CHECK(max_abs_diff(step, full.index({Slice(), Slice(t, t + 1)})) < 1e-5);
    }
    CHECK(cache.length() == T);
    CHECK(cache.k[0].sizes() == torch::IntArrayRef({2, kv, T, c.d_model / c.n_heads}));
  }
}

TEST_CASE("model: forward_cached with left padding equals each sequence alone", "[model][cache]") {
  ModelConfig c = tiny_config(2);
  const bool smeared = GENERATE(false, true);
  INFO("smeared keys " << smeared);
  DecoderModel m = smeared ? smeared_model(c, LoraConfig{}, 9) : DecoderModel(c, LoraConfig{}, 9);
  m->eval();
  torch::NoGradGuard ng;
  using torch::indexing::Slice;
  // Sequences of 10, 7 and 4 real tokens, left-padded to 10 with an arbitrary pad id.
  std::vector<int64_t> lengths = {10, 7, 4};
  const int64_t T = 10, B = 3, pad_id = 0;
  auto all = random_tokens(B, T, c.vocab_size, 9);
  auto tokens = torch::full({B, T}, pad_id, torch::kLong);
  auto mask = torch::zeros({B, T}, torch::kBool);
  auto pos = torch::zeros({B, T}, torch::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t pad = T - lengths[b];
    tokens.index_put_({b, Slice(pad)}, all.index({b, Slice(0, lengths[b])}));
    mask.index_put_({b, Slice(pad)}, true);
    pos.index_put_({b, Slice(pad)}, torch::arange(lengths[b], torch::kLong));
  }
  KVCache cache;
  const int64_t chunk = 7;  // prompt chunk, then single steps
  std::vector<torch::Tensor> pieces;
  pieces.push_back(m->forward_cached(tokens.index({Slice(), Slice(0, chunk)}), cache, mask.index({Slice(), Slice(0, chunk)}),
                                     pos.index({Slice(), Slice(0, chunk)})));
  for (int64_t t = chunk; t < T; ++t)
    pieces.push_back(m->forward_cached(tokens.index({Slice(), Slice(t, t + 1)}), cache, mask.index({Slice(), Slice(0, t + 1)}),
                                       pos.index({Slice(), Slice(t, t + 1)})));
  auto cached = torch::cat(pieces, 1);
  REQUIRE(torch::isfinite(cached).all().item<bool>());
  for (int64_t b = 0; b < B; ++b) {
    const int64_t pad = T - lengths[b];
    auto alone = m->forward(all.index({Slice(b, b + 1), Slice(0, lengths[b])}))[0];
    INFO("sequence " << b);
    CHECK(max_abs_diff(cached.index({b, Slice(pad)}), alone) < 1e-5);
  }
}

TEST_CASE("model: smeared keys, fully unsmeared, equal the plain block; smearing changes the output and learns", "[model]") {
  ModelConfig c = tiny_config(2);
  DecoderModel plain(c, LoraConfig{}, 5);
  DecoderModel smeared = smeared_model(c, LoraConfig{}, 5);
  auto tokens = random_tokens(2, 12, c.vocab_size, 5);
  std::set<std::string> smear_names;
  for (auto& p : smeared->named_parameters())
    if (p.key().find("smear") != std::string::npos) smear_names.insert(p.key());
  CHECK(smear_names == std::set<std::string>{"blocks.0.attn.smear", "blocks.1.attn.smear"});
  CHECK(smeared->named_parameters()["blocks.0.attn.smear"].sizes() == torch::IntArrayRef({c.n_kv_heads}));
  CHECK(smeared->parameter_count(false) == plain->parameter_count(false) + 2 * c.n_kv_heads);
  CHECK(max_abs_diff(plain->forward(tokens), smeared->forward(tokens)) > 1e-3);
  {
    torch::NoGradGuard ng;
    for (const auto& name : smear_names) smeared->named_parameters()[name].fill_(40.0);  // s = sigmoid(40) = 1 in fp32
  }
  CHECK(max_abs_diff(plain->forward(tokens), smeared->forward(tokens)) < 1e-6);
  {
    torch::NoGradGuard ng;
    for (const auto& name : smear_names) smeared->named_parameters()[name].fill_(0.0);
  }
  smeared->forward(tokens).pow(2).mean().backward();
  for (const auto& name : smear_names) {
    INFO(name);
    auto g = smeared->named_parameters()[name].grad();
    REQUIRE(g.defined());
    CHECK(g.abs().sum().item<double>() > 0);
  }
}

TEST_CASE("model: clone_model is a deep copy", "[model]") {
  ModelConfig c = tiny_config(2, false);
  DecoderModel m(c, lora_config(3, 0.1), 12);
  perturb_adapters(m);
  m->eval();
  DecoderModel copy = clone_model(m);
  CHECK_FALSE(copy->is_training());
  auto pm = m->named_parameters(), pc = copy->named_parameters();
  REQUIRE(pm.size() == pc.size());
  for (auto& item : pm) {
    REQUIRE(pc.find(item.key()));
    CHECK(torch::equal(item.value(), pc[item.key()]));
    CHECK(item.value().requires_grad() == pc[item.key()].requires_grad());
    CHECK(item.value().data_ptr() != pc[item.key()].data_ptr());
  }
  auto tokens = random_tokens(2, 8, c.vocab_size, 12);
  torch::NoGradGuard ng;
  auto before = m->forward(tokens);
  CHECK(torch::equal(before, copy->forward(tokens)));
  pc["blocks.0.attn.q.lora_b"].add_(1.0);
  pc["embed.weight"].mul_(2.0);
  CHECK(torch::equal(before, m->forward(tokens)));  // the original is untouched
  CHECK_FALSE(torch::equal(before, copy->forward(tokens)));
}

TEST_CASE("model: adapter dropout acts only in training mode and follows the torch seed", "[model][lora]") {
  ModelConfig c = tiny_config();
  DecoderModel m(c, lora_config(4, /*dropout=*/0.5), 13);
  perturb_adapters(m);
  auto tokens = random_tokens(2, 8, c.vocab_size, 13);
  torch::NoGradGuard ng;
  m->eval();
  auto ev = m->forward(tokens);
  CHECK(torch::equal(ev, m->forward(tokens)));
  m->train();
  torch::manual_seed(4);
  auto tr1 = m->forward(tokens);
  torch::manual_seed(4);
  auto tr2 = m->forward(tokens);
  CHECK(torch::equal(tr1, tr2));
  CHECK(max_abs_diff(tr1, ev) > 1e-4);
  // With the adapters' B back at zero, dropout has nothing to act on: exactly the base model.
  for (auto& p : m->named_parameters())
    if (p.key().find("lora_b") != std::string::npos) p.value().zero_();
  DecoderModel base(c, LoraConfig{}, 13);
  base->train();
  CHECK(torch::equal(m->forward(tokens), base->forward(tokens)));
}
