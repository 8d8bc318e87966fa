// Training and scoring throughput of the shared trainer and inference engine on the reference CPU
// config (d_model 192, 4 layers, 6 heads, d_ff 512, vocab 263, ~1.82 M parameters; batch 16 x 128).
// Compare with benchmarks/train_reference.py (the same step in PyTorch's Python API) through
// benchmarks/compare_train.sh. Flags: --threads=N (default 2) plus Google Benchmark's own.
#include "core/device.h"
#include "core/inference.h"
#include "core/progress.h"
#include "core/seeds.h"
#include "core/trainer.h"

#include <benchmark/benchmark.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace lb;

constexpr int kBatch = 16;
constexpr int kSeq = 128;  // input tokens per sequence (sequences hold kSeq + 1 tokens)

ModelConfig reference_model() {
  ModelConfig c;  // the defaults are the reference config
  c.max_seq_len = kSeq;
  return c;
}

// Random byte sequences of `len` + 1 tokens, every position after the first a target.
Encoded random_sequence(Rng& rng, int len) {
  Encoded e;
  for (int t = 0; t <= len; ++t) {
    e.ids.push_back(static_cast<int32_t>(rng.below(256)));
    e.loss_mask.push_back(t > 0 ? 1 : 0);
  }
  return e;
}

// One optimizer step of batch 16 x 128 per iteration, through the whole trainer (batching, per-sample
// losses to the host, NaN check, gradient sketch, clipping, AdamW).
void BM_train_step(benchmark::State& state) {
  const std::string sketch = state.range(0) == 0 ? "none" : state.range(0) == 1 ? "last_block" : "countsketch";
  Rng rng(1);
  TokenCache tokens;
  for (int i = 0; i < kBatch; ++i) tokens.full.push_back(random_sequence(rng, kSeq));
  DecoderModel model(reference_model(), LoraConfig{}, 1);
  Ledger ledger;
  TrainConfig cfg;
  cfg.batch_size = kBatch;
  cfg.sketch = sketch;
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 2);
  std::vector<SampleId> ids(kBatch);
  for (int i = 0; i < kBatch; ++i) ids[i] = i;
  for (int i = 0; i < 3; ++i) trainer.train_round(ids);  // warm-up, not timed
  for (auto _ : state) {
    auto fb = trainer.train_round(ids);
    benchmark::DoNotOptimize(fb.mean_loss);
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kBatch * kSeq,
                                               benchmark::Counter::kIsRate);
  state.counters["params"] = static_cast<double>(model->parameter_count(true));
  state.SetLabel("sketch=" + sketch);
}
BENCHMARK(BM_train_step)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

// The bare model step without the trainer (forward, cross-entropy, backward, AdamW): the trainer's
// overhead is the difference from BM_train_step.
void BM_model_step(benchmark::State& state) {
  Rng rng(1);
  DecoderModel model(reference_model(), LoraConfig{}, 1);
  model->train();
  std::vector<int64_t> ids;
  for (int i = 0; i < kBatch * (kSeq + 1); ++i) ids.push_back(static_cast<int64_t>(rng.below(256)));
  auto seqs = torch::tensor(ids, torch::kInt64).view({kBatch, kSeq + 1});
  auto inputs = seqs.narrow(1, 0, kSeq).contiguous(), targets = seqs.narrow(1, 1, kSeq).contiguous();
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0));
  auto step = [&] {
    opt.zero_grad();
    auto logits = model->forward(inputs);
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}));
    loss.backward();
    opt.step();
    return loss.item<float>();
  };
  for (int i = 0; i < 3; ++i) step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kBatch * kSeq,
                                               benchmark::Counter::kIsRate);
}
BENCHMARK(BM_model_step)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

// Scoring a pool of 512 sequences with lengths spread over 10..128 tokens: real tokens per second
// and padding efficiency (real / computed tokens) of the length-bucketed engine.
void BM_inference_response_loss(benchmark::State& state) {
  Rng rng(3);
  TokenCache tokens;
  for (int i = 0; i < 512; ++i) tokens.full.push_back(random_sequence(rng, 9 + static_cast<int>(rng.below(119))));
  std::vector<SampleId> ids(tokens.full.size());
  int64_t real = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<SampleId>(i);
    real += static_cast<int64_t>(tokens.full[i].ids.size()) - 1;
  }
  DecoderModel model(reference_model(), LoraConfig{}, 1);
  Ledger ledger;
  InferenceEngine engine(tokens, ledger, torch::kCPU);
  engine.response_loss(model, ids, Phase::selection_inference);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(engine.response_loss(model, ids, Phase::selection_inference));
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * real, benchmark::Counter::kIsRate);
  state.counters["padding_eff"] = engine.last_padding_efficiency();
}
BENCHMARK(BM_inference_response_loss)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  std::cerr << "bench_train: this is a debug build (NDEBUG unset); speed is only reported for Release builds\n";
  return 1;
#endif
  int threads = 2;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
    else rest.push_back(argv[i]);
  }
  int n = static_cast<int>(rest.size());
  lb::set_threads(threads);
  lb::Progress::force(false);
  benchmark::AddCustomContext("device", lb::device_description(torch::kCPU));
  benchmark::AddCustomContext("git_sha", lb::build_git_sha());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
