// Tests of the shared trainer: per-sample losses from the update's own forward pass, response
// masking, schedules, LoRA freezing, gradient sketches, determinism, checkpoints, NaN detection.
#include "core/config.h"
#include "core/json_io.h"
#include "core/progress.h"
#include "core/safetensors.h"
#include "core/trainer.h"
#include "tiny_world.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

using namespace lb;
using namespace lb::testing;

namespace {

TrainConfig small_train_config(int batch_size) {
  TrainConfig c;
  c.lr = 3e-3;
  c.batch_size = batch_size;
  c.grad_clip = 1.0;
  return c;
}

std::vector<torch::Tensor> snapshot(DecoderModel& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
  return out;
}

std::vector<torch::Tensor> flat_last_block_grads(DecoderModel& m) {
  std::vector<torch::Tensor> flat;
  for (const auto& p : m->last_block_trainable_parameters())
    flat.push_back(p.grad().defined() ? p.grad().detach().reshape({-1}).clone() : torch::zeros({p.numel()}));
  return flat;
}

}  // namespace

TEST_CASE("per-sample losses of a batched step equal each sample computed alone", "[trainer]") {
  auto chats = random_chats(7, 11);
  TokenCache tokens = tokens_of(chats, 64);
  for (int micro : {0, 3}) {
    DecoderModel model(tiny_model_config(), LoraConfig{}, 5);
    DecoderModel before = clone_model(model);
    Ledger ledger;
    TrainConfig cfg = small_train_config(7);
    cfg.micro_batch_size = micro;
    Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 3);
    RoundFeedback fb = trainer.train_round(iota_ids(7));
    REQUIRE(fb.steps == 1);
    REQUIRE(fb.ids.size() == 7);
    double sum = 0;
    for (size_t k = 0; k < fb.ids.size(); ++k) {
      const double alone = reference_loss(before, tokens.full[fb.ids[k]]).item<double>();
      CHECK(std::abs(fb.losses[k] - alone) < 1e-5);
      sum += fb.losses[k];
    }
    CHECK(fb.mean_loss == Approx(sum / 7).epsilon(1e-12));
    // The update happened after the forward: the weights moved.
    auto after = snapshot(model);
    auto start = snapshot(before);
    bool moved = false;
    for (size_t i = 0; i < after.size(); ++i) moved |= !torch::equal(after[i], start[i]);
    CHECK(moved);
    // Tokens: inputs of every sample (length - 1), charged to training.
    int64_t real = 0;
    for (const auto& e : tokens.full) real += static_cast<int64_t>(e.ids.size()) - 1;
    CHECK(fb.tokens == real);
    CHECK(ledger.stats(Phase::training).forward_tokens == real);
    CHECK(ledger.stats(Phase::training).backward_tokens == real);
    CHECK(ledger.stats(Phase::training).computed_tokens >= real);
    CHECK(ledger.stats(Phase::training).samples == 7);
  }
}

TEST_CASE("gradient accumulation gives the same update as one full batch", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(8, 12), 64);
  std::vector<std::vector<torch::Tensor>> results;
  for (int micro : {0, 2, 3}) {
    DecoderModel model(tiny_model_config(), LoraConfig{}, 6);
    Ledger ledger;
    TrainConfig cfg = small_train_config(4);
    cfg.micro_batch_size = micro;
    Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 3);
    trainer.train_round(iota_ids(8));
    results.push_back(snapshot(model));
  }
  for (size_t r = 1; r < results.size(); ++r)
    for (size_t i = 0; i < results[0].size(); ++i)
      CHECK((results[r][i] - results[0][i]).abs().max().item<double>() < 1e-5);
}

TEST_CASE("loss counts response tokens only", "[trainer]") {
  // A later user turn sits after the response: causal attention never sees it, and its tokens
  // are not targets, so changing it must not change the loss; changing the response must.
  std::vector<std::vector<Message>> chats = {
      {{"user", "what is two plus two"}, {"assistant", "four, of course"}, {"user", "thanks a lot"}},
      {{"user", "what is two plus two"}, {"assistant", "four, of course"}, {"user", "XYZ qqq something else"}},
      {{"user", "what is two plus two"}, {"assistant", "five, of course"}, {"user", "thanks a lot"}},
  };
  TokenCache tokens = tokens_of(chats, 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 7);
  Ledger ledger;
  TrainConfig cfg = small_train_config(3);
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 3);
  RoundFeedback fb = trainer.train_round(iota_ids(3));
  std::map<SampleId, float> loss;
  for (size_t k = 0; k < fb.ids.size(); ++k) loss[fb.ids[k]] = fb.losses[k];
  CHECK(std::abs(loss[0] - loss[1]) < 1e-6);
  CHECK(std::abs(loss[0] - loss[2]) > 1e-4);
}

TEST_CASE("learning-rate schedules at hand-computed steps", "[trainer]") {
  TrainConfig c;
  c.lr = 2e-5;
  c.schedule = "constant";
  CHECK(lr_at(c, 0, 100) == 2e-5);
  CHECK(lr_at(c, 99, 100) == 2e-5);

  c.schedule = "step_decay";  // LEAD's authors: lr * 0.995^(step // 8)
  c.decay_every = 8;
  c.decay_rate = 0.995;
  CHECK(lr_at(c, 0, 0) == Approx(2e-5).epsilon(1e-12));
  CHECK(lr_at(c, 7, 0) == Approx(2e-5).epsilon(1e-12));
  CHECK(lr_at(c, 8, 0) == Approx(2e-5 * 0.995).epsilon(1e-12));
  CHECK(lr_at(c, 17, 0) == Approx(2e-5 * 0.995 * 0.995).epsilon(1e-12));
  CHECK(lr_at(c, 800, 0) == Approx(2e-5 * std::pow(0.995, 100)).epsilon(1e-12));

  c.lr = 1.0;
  c.schedule = "linear";
  c.warmup_steps = 4;
  c.min_lr_ratio = 0.0;
  CHECK(lr_at(c, 0, 14) == Approx(0.25));
  CHECK(lr_at(c, 1, 14) == Approx(0.5));
  CHECK(lr_at(c, 3, 14) == Approx(1.0));
  CHECK(lr_at(c, 4, 14) == Approx(1.0));   // decay starts: 10 decay steps
  CHECK(lr_at(c, 9, 14) == Approx(0.5));
  CHECK(lr_at(c, 13, 14) == Approx(0.1));
  CHECK(lr_at(c, 14, 14) == Approx(0.0).margin(1e-12));
  CHECK(lr_at(c, 30, 14) == Approx(0.0).margin(1e-12));  // past the end: stays at the floor
  c.min_lr_ratio = 0.2;
  CHECK(lr_at(c, 9, 14) == Approx(0.2 + 0.8 * 0.5));

  c.schedule = "cosine";
  c.warmup_steps = 0;
  c.min_lr_ratio = 0.1;
  CHECK(lr_at(c, 0, 10) == Approx(1.0));
  CHECK(lr_at(c, 5, 10) == Approx(0.1 + 0.9 * 0.5));
  CHECK(lr_at(c, 10, 10) == Approx(0.1));
  c.min_lr_ratio = 0.0;
  CHECK(lr_at(c, 2, 10) == Approx(0.5 * (1 + std::cos(M_PI * 0.2))));
  c.warmup_steps = 2;
  CHECK(lr_at(c, 0, 12) == Approx(0.5));
  CHECK(lr_at(c, 7, 12) == Approx(0.5));  // halfway through 10 decay steps

  c.schedule = "exponential";
  CHECK_THROWS_AS(lr_at(c, 0, 10), ConfigError);
}

TEST_CASE("the trainer uses the schedule and reports the mean lr of the round", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(8, 13), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 8);
  Ledger ledger;
  TrainConfig cfg = small_train_config(2);
  cfg.schedule = "step_decay";
  cfg.decay_every = 2;
  cfg.decay_rate = 0.5;
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 3);
  RoundFeedback fb = trainer.train_round(iota_ids(8));  // steps 0..3: lr, lr, lr/2, lr/2
  CHECK(fb.steps == 4);
  CHECK(trainer.step() == 4);
  CHECK(fb.lr_mean == Approx(cfg.lr * 0.75));
  CHECK_THROWS_AS(Trainer(model, [] { TrainConfig c; c.schedule = "bogus"; return c; }(), tokens, ledger, torch::kCPU, 1),
                  ConfigError);
}

TEST_CASE("progress lines count the steps of the round, not of the run", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(8, 13), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 8);
  Ledger ledger;
  Trainer trainer(model, small_train_config(2), tokens, ledger, torch::kCPU, 3);
  trainer.train_round(iota_ids(8));  // 4 steps
  // Capture stderr while the second round runs with progress forced on.
  const std::string path = "trainer_progress.tmp.txt";
  std::fflush(stderr);
  const int saved = dup(fileno(stderr));
  REQUIRE(std::freopen(path.c_str(), "w", stderr) != nullptr);
  Progress::force(true);
  trainer.train_round(iota_ids(8));  // steps 5..8 of the run, 1..4 of the round
  Progress::force(false);
  std::fflush(stderr);
  dup2(saved, fileno(stderr));
  close(saved);
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  CHECK(text.find("4/4") != std::string::npos);  // the last step always prints
  CHECK(text.find("8/4") == std::string::npos);
}

TEST_CASE("with a frozen base only the adapters change", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(6, 14), 64);
  LoraConfig lora;
  lora.rank = 4;
  lora.alpha = 8;
  DecoderModel model(tiny_model_config(), lora, 9);
  REQUIRE(model->parameter_count(true) < model->parameter_count(false));
  std::vector<std::pair<std::string, torch::Tensor>> before;
  for (const auto& p : model->named_parameters(true)) before.emplace_back(p.key(), p.value().detach().clone());
  Ledger ledger;
  TrainConfig cfg = small_train_config(3);
  cfg.lr = 1e-2;
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 3);
  trainer.train_round(iota_ids(6), 2);
  int changed_adapters = 0, frozen = 0;
  for (const auto& [name, old] : before) {
    const torch::Tensor& now = model->named_parameters(true)[name];
    if (now.requires_grad()) {
      CHECK(name.find("lora") != std::string::npos);
      changed_adapters += torch::equal(now, old) ? 0 : 1;
    } else {
      ++frozen;
      INFO(name);
      CHECK(torch::equal(now, old));
    }
  }
  CHECK(frozen > 0);
  CHECK(changed_adapters > 0);
}

TEST_CASE("gradient sketch is the mean of the round's per-step gradients", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(6, 15), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 10);
  DecoderModel ref = clone_model(model);
  Ledger ledger;
  TrainConfig cfg = small_train_config(3);
  cfg.grad_clip = 0.5;  // the sketch is taken before clipping
  cfg.weight_decay = 0.01;
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 4);
  RoundFeedback fb = trainer.train_round(iota_ids(6));
  REQUIRE(fb.steps == 2);
  REQUIRE(fb.grad_mean.defined());

  // By hand: the same two steps on a copy, with LibTorch's own clipping and AdamW.
  auto params = ref->trainable_parameters();
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(cfg.lr)
                                      .betas(std::make_tuple(cfg.beta1, cfg.beta2))
                                      .eps(cfg.eps)
                                      .weight_decay(cfg.weight_decay));
  torch::Tensor expected;
  for (int step = 0; step < 2; ++step) {
    opt.zero_grad();
    torch::Tensor loss = torch::zeros({});
    for (int k = 0; k < 3; ++k) loss = loss + reference_loss(ref, tokens.full[fb.ids[step * 3 + k]]) / 3.0;
    loss.backward();
    auto g = torch::cat(flat_last_block_grads(ref));
    expected = step == 0 ? g : expected + g;
    torch::nn::utils::clip_grad_norm_(params, cfg.grad_clip);
    opt.step();
  }
  expected = expected / 2.0;
  REQUIRE(expected.sizes() == fb.grad_mean.sizes());
  const double scale = expected.abs().max().item<double>();
  CHECK((fb.grad_mean - expected).abs().max().item<double>() < 1e-4 * scale);
  CHECK(fb.grad_norm == Approx(expected.norm().item<double>()).epsilon(1e-4));
  // And the weights followed the same path.
  auto a = snapshot(model), b = snapshot(ref);
  for (size_t i = 0; i < a.size(); ++i) CHECK((a[i] - b[i]).abs().max().item<double>() < 1e-5);
}

TEST_CASE("countsketch preserves inner products approximately and is deterministic", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(12, 16), 64);
  auto run = [&](const std::string& sketch, uint64_t init_seed) {
    DecoderModel model(tiny_model_config(), LoraConfig{}, init_seed);
    Ledger ledger;
    TrainConfig cfg = small_train_config(4);
    cfg.sketch = sketch;
    cfg.sketch_dim = 4096;
    Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 5);
    std::vector<SampleId> first = {0, 1, 2, 3, 4, 5, 6, 7}, second = {4, 5, 6, 7, 8, 9, 10, 11};
    auto g1 = trainer.train_round(first).grad_mean;
    auto g2 = trainer.train_round(second).grad_mean;
    return std::make_pair(g1, g2);
  };
  auto [a1, a2] = run("all", 21);
  auto [c1, c2] = run("countsketch", 21);
  REQUIRE(c1.numel() == 4096);
  REQUIRE(a1.numel() > 4096);
  const double n1 = a1.norm().item<double>(), n2 = a2.norm().item<double>();
  CHECK(c1.norm().item<double>() == Approx(n1).epsilon(0.1));
  CHECK(c2.norm().item<double>() == Approx(n2).epsilon(0.1));
  const double exact = a1.dot(a2).item<double>(), approx = c1.dot(c2).item<double>();
  INFO("exact " << exact << " sketched " << approx << " |a1||a2| " << n1 * n2);
  CHECK(std::abs(approx - exact) < 0.1 * n1 * n2);
  // The same gradients always map to the same sketch (the hashes come from a fixed seed).
  auto [d1, d2] = run("countsketch", 21);
  CHECK(torch::equal(c1, d1));
  CHECK(torch::equal(c2, d2));
  // sketch = none: no tensor.
  DecoderModel model(tiny_model_config(), LoraConfig{}, 1);
  Ledger ledger;
  TrainConfig cfg = small_train_config(4);
  cfg.sketch = "none";
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 5);
  CHECK_FALSE(trainer.train_round({0, 1, 2, 3}).grad_mean.defined());
}

TEST_CASE("the gradient sketch is computed only when asked for, and does not change the update", "[trainer][sketch]") {
  TokenCache tokens = tokens_of(random_chats(8, 18), 64);
  for (const std::string sketch : {"last_block", "countsketch"}) {
    INFO("train.sketch = " << sketch);
    auto run = [&](bool on) {
      DecoderModel model(tiny_model_config(), LoraConfig{}, 23);
      Ledger ledger;
      TrainConfig cfg = small_train_config(4);
      cfg.sketch = sketch;
      Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 6);
      CHECK(trainer.gradient_sketch());  // on by default
      trainer.set_gradient_sketch(on);
      CHECK(trainer.gradient_sketch() == on);
      RoundFeedback fb = trainer.train_round(iota_ids(8), 2);
      CHECK(fb.grad_mean.defined() == on);
      CHECK(trainer.sketched_steps() == (on ? 4 : 0));
      return std::make_pair(snapshot(model), fb.losses);
    };
    auto [with, losses_with] = run(true);
    auto [without, losses_without] = run(false);
    // The same computation either way (the sketch only reads gradients): identical weights.
    REQUIRE(with.size() == without.size());
    for (size_t i = 0; i < with.size(); ++i) CHECK(torch::equal(with[i], without[i]));
    CHECK(losses_with == losses_without);
  }
}

TEST_CASE("two runs with one seed give identical losses and weights", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(10, 17), 64);
  auto run = [&]() {
    DecoderModel model(tiny_model_config(), LoraConfig{}, 31);
    Ledger ledger;
    Trainer trainer(model, small_train_config(4), tokens, ledger, torch::kCPU, 77);
    std::vector<float> losses;
    std::vector<SampleId> order;
    for (int r = 0; r < 2; ++r) {
      auto fb = trainer.train_round(iota_ids(10), 2);
      losses.insert(losses.end(), fb.losses.begin(), fb.losses.end());
      order.insert(order.end(), fb.ids.begin(), fb.ids.end());
    }
    return std::make_tuple(losses, order, snapshot(model));
  };
  auto [l1, o1, w1] = run();
  auto [l2, o2, w2] = run();
  CHECK(l1 == l2);
  CHECK(o1 == o2);
  for (size_t i = 0; i < w1.size(); ++i) CHECK(torch::equal(w1[i], w2[i]));
  // Another data-order seed trains in another order.
  DecoderModel model(tiny_model_config(), LoraConfig{}, 31);
  Ledger ledger;
  Trainer other(model, small_train_config(4), tokens, ledger, torch::kCPU, 78);
  auto fb = other.train_round(iota_ids(10), 2);
  CHECK(std::vector<SampleId>(o1.begin(), o1.begin() + 10) != fb.ids);
}

TEST_CASE("checkpoint round trip and bit-exact resume", "[trainer][checkpoint]") {
  TempDir dir("ckpt");
  const std::string path = dir.file("run.safetensors");
  TokenCache tokens = tokens_of(random_chats(12, 18), 64);
  LoraConfig lora;  // adapters with dropout: the resumed run needs the torch generator state too
  lora.rank = 4;
  lora.dropout = 0.1;
  lora.train_base = true;
  TrainConfig cfg = small_train_config(4);
  cfg.schedule = "cosine";
  cfg.warmup_steps = 2;
  cfg.sketch = "countsketch";
  cfg.sketch_dim = 256;
  const nlohmann::json resolved = {{"train", config_to_json(cfg)}, {"note", "resume test"}};
  std::vector<SampleId> r1 = {0, 1, 2, 3, 4, 5}, r2 = {6, 7, 8, 9, 10, 11}, r3 = {0, 2, 4, 6, 8, 10}, r4 = iota_ids(12);

  torch::manual_seed(123);
  DecoderModel model(tiny_model_config(), lora, 41);
  Ledger ledger;
  Trainer a(model, cfg, tokens, ledger, torch::kCPU, 9);
  a.set_planned_total_steps(20);
  a.train_round(r1);
  a.train_round(r2, 2);
  a.save_checkpoint(path, resolved);
  auto a3 = a.train_round(r3);
  auto a4 = a.train_round(r4, 2);

  torch::manual_seed(999);  // a different generator state, restored by the checkpoint
  DecoderModel fresh(tiny_model_config(), lora, 42);  // different weights, restored too
  Ledger ledger_b;
  Trainer b(fresh, cfg, tokens, ledger_b, torch::kCPU, 1234);  // the seed comes from the checkpoint
  nlohmann::json loaded = b.load_checkpoint(path);
  CHECK(loaded == resolved);
  CHECK(b.step() == a.step() - a3.steps - a4.steps);
  auto b3 = b.train_round(r3);
  auto b4 = b.train_round(r4, 2);
  CHECK(b3.round == a3.round);
  CHECK(b3.ids == a3.ids);
  CHECK(b3.losses == a3.losses);
  CHECK(b4.ids == a4.ids);
  CHECK(b4.losses == a4.losses);
  CHECK(b4.lr_mean == a4.lr_mean);
  CHECK(torch::equal(b4.grad_mean, a4.grad_mean));
  auto wa = model->named_parameters(true);
  auto wb = fresh->named_parameters(true);
  for (const auto& p : wa) {
    INFO(p.key());
    CHECK(torch::equal(p.value(), wb[p.key()]));
  }
  // The file is plain safetensors: the weights load into a bare model by their names.
  auto file = safetensors::load_file(path);
  CHECK(file.metadata.at("format") == "leadbench-trainer-checkpoint/1");
  REQUIRE(file.find("model/embed.weight") != nullptr);
}

TEST_CASE("corrupt or mismatched checkpoints are rejected with the file named", "[trainer][checkpoint]") {
  TempDir dir("bad_ckpt");
  const std::string good = dir.file("good.safetensors");
  TokenCache tokens = tokens_of(random_chats(4, 19), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 51);
  Ledger ledger;
  Trainer trainer(model, small_train_config(2), tokens, ledger, torch::kCPU, 1);
  trainer.train_round(iota_ids(4));
  trainer.save_checkpoint(good, {{"k", 1}});
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& content) {
    const std::string p = dir.file(name);
    std::ofstream out(p, std::ios::binary);
    out << content;
    return p;
  };
  auto expect_rejected = [&](const std::string& p, const std::string& fragment) {
    DecoderModel m(tiny_model_config(), LoraConfig{}, 52);
    Ledger l;
    Trainer t(m, small_train_config(2), tokens, l, torch::kCPU, 1);
    auto w0 = m->parameters()[0].detach().clone();
    try {
      t.load_checkpoint(p);
      FAIL("no error for " << p);
    } catch (const InputError& e) {
      const std::string msg = e.what();
      INFO(msg);
      CHECK(msg.find(p) != std::string::npos);
      CHECK(msg.find(fragment) != std::string::npos);
    }
    CHECK(torch::equal(m->parameters()[0], w0));  // nothing was half-loaded
    CHECK(t.step() == 0);
  };
  expect_rejected(dir.file("missing.safetensors"), "cannot open");
  expect_rejected(write("empty.safetensors", ""), "fewer than the 8-byte");
  expect_rejected(write("truncated.safetensors", bytes.substr(0, bytes.size() / 2)), "outside");
  expect_rejected(write("short_header.safetensors", bytes.substr(0, 40)), "runs past the end");
  std::string garbage = bytes;
  garbage[8] = 'x';  // the header's opening brace
  expect_rejected(write("garbage.safetensors", garbage), "not valid JSON");
  std::string huge = bytes;
  huge[7] = '\x7f';
  expect_rejected(write("huge_len.safetensors", huge), "exceeds");

  // A header that lies: shift one tensor's end offset (the data no longer matches the shape).
  {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
    auto header = nlohmann::json::parse(bytes.substr(8, n));
    auto& entry = header["model/embed.weight"];
    entry["data_offsets"][1] = entry["data_offsets"][1].get<uint64_t>() - 4;
    std::string head = header.dump();
    std::string lie;
    for (int i = 0; i < 8; ++i) lie.push_back(static_cast<char>((head.size() >> (8 * i)) & 0xff));
    lie += head + bytes.substr(8 + n);
    expect_rejected(write("lying.safetensors", lie), "data_offsets");
  }
  // A valid safetensors file that is not a trainer checkpoint.
  {
    safetensors::TensorFile f;
    f.add("x", torch::ones({2}));
    safetensors::save_file(dir.file("plain.safetensors"), f);
    expect_rejected(dir.file("plain.safetensors"), "not a leadbench trainer checkpoint");
  }
  // A checkpoint of another model size.
  {
    ModelConfig wide = tiny_model_config();
    wide.d_model = 48;
    wide.n_heads = 3;
    wide.n_kv_heads = 3;
    DecoderModel other(wide, LoraConfig{}, 53);
    Ledger l;
    Trainer t(other, small_train_config(2), tokens, l, torch::kCPU, 1);
    t.save_checkpoint(dir.file("wide.safetensors"), {});
    expect_rejected(dir.file("wide.safetensors"), "shape");
  }
  // A checkpoint with adapters: extra tensors the model does not have.
  {
    LoraConfig lora;
    lora.rank = 2;
    DecoderModel other(tiny_model_config(), lora, 54);
    Ledger l;
    Trainer t(other, small_train_config(2), tokens, l, torch::kCPU, 1);
    t.save_checkpoint(dir.file("lora.safetensors"), {});
    expect_rejected(dir.file("lora.safetensors"), "does not belong");
  }
  // The good file still loads.
  DecoderModel m(tiny_model_config(), LoraConfig{}, 55);
  Ledger l;
  Trainer t(m, small_train_config(2), tokens, l, torch::kCPU, 1);
  CHECK(t.load_checkpoint(good) == nlohmann::json{{"k", 1}});
  CHECK(t.step() == 2);
}

TEST_CASE("a checkpoint with a flipped bit or NaN weights is rejected before anything loads", "[trainer][checkpoint]") {
  TempDir dir("flip_ckpt");
  const std::string good = dir.file("good.safetensors");
  TokenCache tokens = tokens_of(random_chats(4, 19), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 51);
  Ledger ledger;
  Trainer trainer(model, small_train_config(2), tokens, ledger, torch::kCPU, 1);
  trainer.train_round(iota_ids(4));
  trainer.save_checkpoint(good, {{"k", 1}});
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto rejected_with = [&](const std::string& p) -> std::string {
    DecoderModel m(tiny_model_config(), LoraConfig{}, 52);
    Ledger l;
    Trainer t(m, small_train_config(2), tokens, l, torch::kCPU, 1);
    auto w0 = m->parameters()[0].detach().clone();
    std::string msg;
    try {
      t.load_checkpoint(p);
    } catch (const InputError& e) {
      msg = e.what();
    }
    CHECK(torch::equal(m->parameters()[0], w0));  // nothing was half-loaded
    CHECK(t.step() == 0);
    return msg;
  };
  // A bit flipped in the middle of the weights: the format is intact, the checksum is not.
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[i]);
  const size_t mid = 8 + header_len + (bytes.size() - 8 - header_len) / 2;
  std::string flipped = bytes;
  flipped[mid] = static_cast<char>(flipped[mid] ^ 0x04);
  {
    std::ofstream(dir.file("flipped.safetensors"), std::ios::binary) << flipped;
  }
  std::string msg = rejected_with(dir.file("flipped.safetensors"));
  CHECK(msg.find(dir.file("flipped.safetensors")) != std::string::npos);
  CHECK(msg.find("checksum mismatch") != std::string::npos);
  // Weights full of NaN, written with a valid checksum (a run that diverged).
  auto file = safetensors::load_file(good);
  for (auto& [name, t] : file.tensors)
    if (name.rfind("model/", 0) == 0) t.fill_(std::nan(""));
  safetensors::save_file(dir.file("nan.safetensors"), file);
  msg = rejected_with(dir.file("nan.safetensors"));
  CHECK(msg.find(dir.file("nan.safetensors")) != std::string::npos);
  CHECK(msg.find("NaN or infinite") != std::string::npos);
}

TEST_CASE("a NaN loss stops training with the step and the samples named", "[trainer]") {
  TokenCache tokens = tokens_of(random_chats(6, 20), 64);
  tokens.full[4].ids[2] = '#';  // a byte no other sample has (the others are lower-case letters)
  ModelConfig mc = tiny_model_config();
  mc.tie_embeddings = false;  // so that a poisoned input embedding row reaches sample 4 only
  DecoderModel model(mc, LoraConfig{}, 61);
  Ledger ledger;
  Trainer trainer(model, small_train_config(3), tokens, ledger, torch::kCPU, 1);
  trainer.train_round({0, 1, 2});  // step 0 is fine
  {
    torch::NoGradGuard no_grad;
    model->named_parameters(true)["embed.weight"]['#'].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  try {
    trainer.train_round({3, 4, 5});
    FAIL("no TrainingError");
  } catch (const TrainingError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("step 1") != std::string::npos);
    CHECK(msg.find("samples 4 of the batch") != std::string::npos);
    CHECK(msg.find("lower train.lr") != std::string::npos);
  }
}

TEST_CASE("length micro-batches: the same per-sample losses and update as one padded batch, with less padding",
          "[trainer][length_micro_batches]") {
  // Lengths 10..60 in one batch of 8: one padded batch wastes much of its compute on padding.
  TokenCache tokens = tokens_of(random_chats(16, 21, 10, 60), 64);
  std::vector<std::vector<torch::Tensor>> weights;
  std::vector<RoundFeedback> feedback;
  std::vector<PhaseStats> stats;
  for (bool by_length : {false, true}) {
    DecoderModel model(tiny_model_config(), LoraConfig{}, 6);
    Ledger ledger;
    TrainConfig cfg = small_train_config(8);
    cfg.length_micro_batches = by_length;
    Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 3);
    feedback.push_back(trainer.train_round(iota_ids(16), 2));
    weights.push_back(snapshot(model));
    stats.push_back(ledger.stats(Phase::training));
  }
  CHECK(feedback[1].steps == feedback[0].steps);
  CHECK(feedback[1].tokens == feedback[0].tokens);
  CHECK(stats[1].forward_tokens == stats[0].forward_tokens);
  CHECK(stats[1].samples == stats[0].samples);
  CHECK(stats[1].computed_tokens < stats[0].computed_tokens);
  CHECK(static_cast<double>(stats[1].forward_tokens) / stats[1].computed_tokens >= 0.9);
  // Each sample's loss of its last pass, matched by id (the order of first training may differ).
  REQUIRE(feedback[1].ids.size() == feedback[0].ids.size());
  std::map<SampleId, float> loss0;
  for (size_t k = 0; k < feedback[0].ids.size(); ++k) loss0[feedback[0].ids[k]] = feedback[0].losses[k];
  double worst_loss = 0, worst_weight = 0;
  for (size_t k = 0; k < feedback[1].ids.size(); ++k)
    worst_loss = std::max(worst_loss, std::abs(double(feedback[1].losses[k]) - loss0.at(feedback[1].ids[k])));
  for (size_t i = 0; i < weights[0].size(); ++i)
    worst_weight = std::max(worst_weight, (weights[1][i] - weights[0][i]).abs().max().item<double>());
  INFO("largest per-sample loss difference " << worst_loss << ", largest weight difference " << worst_weight);
  CHECK(worst_loss < 1e-4);   // float rounding of another summation order, over 4 steps
  CHECK(worst_weight < 1e-4);
}
