// Can the decoder learn to copy in context? A 2-layer model trained for a few hundred steps on
// "random string, separator, the same string" must copy it. Every string has the same length, so a
// head attending a fixed distance back suffices: this checks attention, RoPE and the causal mask
// (a bug shows as copy accuracy near chance, 1/16), not the key look-up extractive QA needs, which
// `leadbench probe` measures on the base model.
#include "core/model.h"
#include "core/seeds.h"
#include "tiny_world.h"

#include <catch2/catch.hpp>

#include <torch/torch.h>

using namespace lb;

TEST_CASE("model: a 2-layer decoder learns to copy a random string in context", "[model][learning]") {
  torch::manual_seed(0);
  ModelConfig c = testing::tiny_model_config(32);  // 2 layers, 2 heads
  c.vocab_size = 20;                                // symbols 0..15, separator 16, BOS 17
  c.d_model = 64;
  c.d_ff = 128;
  DecoderModel m(c, LoraConfig{}, 7);
  m->train();
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.0));
  const int64_t L = 10, B = 32, T = 2 * L + 2;
  Rng rng(5);
  auto batch = [&]() {
    torch::Tensor t = torch::empty({B, T}, torch::kLong);
    auto a = t.accessor<int64_t, 2>();
    for (int64_t b = 0; b < B; ++b) {
      a[b][0] = 17;
      for (int64_t i = 0; i < L; ++i) a[b][1 + i] = a[b][L + 2 + i] = static_cast<int64_t>(rng.below(16));
      a[b][L + 1] = 16;
    }
    return t;
  };
  // Loss and accuracy on the copied half (positions L+2 .. 2L+1, predicted from the position before).
  auto copy_logits = [&](const torch::Tensor& x) { return m->forward(x).narrow(1, L + 1, L); };
  for (int step = 0; step < 400; ++step) {
    torch::Tensor x = batch();
    torch::Tensor logits = copy_logits(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.reshape({-1, c.vocab_size}),
                                                              x.narrow(1, L + 2, L).reshape({-1}));
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  m->eval();
  torch::NoGradGuard ng;
  torch::Tensor x = batch();
  double acc = copy_logits(x).argmax(-1).eq(x.narrow(1, L + 2, L)).to(torch::kFloat64).mean().item<double>();
  INFO("copy accuracy " << acc);
  CHECK(acc > 0.9);
}
