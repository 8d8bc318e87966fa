// CUDA checks: the same training steps on CPU and GPU agree, bf16 autocast trains, the engine agrees.
// Skipped (with a message) on machines without a GPU, which includes CI.
#include "core/device.h"
#include "core/inference.h"
#include "core/ledger.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/trainer.h"

#include <catch2/catch.hpp>
#include <torch/cuda.h>

#include <cmath>
#include <iostream>

namespace {

lb::Pool tiny_pool() {
  lb::Pool pool;
  for (int i = 0; i < 24; ++i) {
    lb::Sample s;
    s.uid = "s" + std::to_string(i);
    s.dataset = i % 2 ? "odd" : "even";
    std::string q = "what is " + std::to_string(i) + " plus " + std::to_string(i % 7) + "?";
    std::string a = std::string(1 + i % 5, ' ') + "it is " + std::to_string(i + i % 7) + ".";
    s.messages = {{"user", q}, {"assistant", a}};
    pool.add(std::move(s));
  }
  return pool;
}

lb::ModelConfig tiny_model() {
  lb::ModelConfig m;
  m.d_model = 64;
  m.n_layers = 2;
  m.n_heads = 4;
  m.n_kv_heads = 2;
  m.d_ff = 128;
  m.max_seq_len = 64;
  return m;
}

std::vector<lb::SampleId> all_ids(const lb::Pool& p) {
  std::vector<lb::SampleId> ids(p.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<lb::SampleId>(i);
  return ids;
}

lb::RoundFeedback train_on(torch::Device device, bool bf16, const lb::TokenCache& cache, const lb::Pool& pool) {
  lb::DecoderModel model(tiny_model(), lb::LoraConfig{}, 11);
  model->to(device);
  lb::TrainConfig tc;
  tc.batch_size = 8;
  tc.bf16 = bf16;
  lb::Ledger ledger(device);
  lb::Trainer trainer(model, tc, cache, ledger, device, 5);
  trainer.train_round(all_ids(pool), 1);
  return trainer.train_round(all_ids(pool), 1);
}

}  // namespace

TEST_CASE("cuda: fp32 training on the GPU matches the CPU") {
  if (!torch::cuda::is_available()) {
    std::cout << "SKIPPED: no CUDA device on this machine" << std::endl;
    return;
  }
  auto pool = tiny_pool();
  lb::ByteTokenizer tok;
  auto cache = lb::TokenCache::build(pool, tok, 64);
  auto cpu = train_on(torch::kCPU, false, cache, pool);
  auto gpu = train_on(torch::Device(torch::kCUDA), false, cache, pool);
  REQUIRE(cpu.ids == gpu.ids);
  double max_diff = 0;
  for (size_t i = 0; i < cpu.losses.size(); ++i) max_diff = std::max(max_diff, double(std::abs(cpu.losses[i] - gpu.losses[i])));
  std::cout << "cpu vs cuda per-sample loss max |diff| after 2 rounds: " << max_diff << std::endl;
  CHECK(max_diff < 2e-3);
}

TEST_CASE("cuda: bf16 autocast trains to finite, lower loss") {
  if (!torch::cuda::is_available()) {
    std::cout << "SKIPPED: no CUDA device on this machine" << std::endl;
    return;
  }
  auto pool = tiny_pool();
  lb::ByteTokenizer tok;
  auto cache = lb::TokenCache::build(pool, tok, 64);
  lb::DecoderModel model(tiny_model(), lb::LoraConfig{}, 11);
  torch::Device dev(torch::kCUDA);
  model->to(dev);
  lb::TrainConfig tc;
  tc.batch_size = 8;
  tc.bf16 = true;
  lb::Ledger ledger(dev);
  lb::Trainer trainer(model, tc, cache, ledger, dev, 5);
  auto first = trainer.train_round(all_ids(pool), 1);
  lb::RoundFeedback last;
  for (int r = 0; r < 5; ++r) last = trainer.train_round(all_ids(pool), 1);
  CHECK(std::isfinite(last.mean_loss));
  CHECK(last.mean_loss < first.mean_loss);
  lb::InferenceEngine engine(cache, ledger, dev);
  auto l = engine.response_loss(trainer.model(), all_ids(pool), lb::Phase::evaluation);
  for (float x : l) CHECK(std::isfinite(x));
}
