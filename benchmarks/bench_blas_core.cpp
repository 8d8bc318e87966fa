// Speed and rounding of the BLAS kernels OpenBLAS chose (OPENBLAS_CORETYPE selects them when the
// process starts): on the reference CPU model (d_model 192, 4 layers, ~1.82 M parameters) it scores
// 512 sequences of 10..128 tokens with the inference engine, then trains 20 steps of batch 16 x 128
// with the shared trainer, and prints real tokens/s of both (warm-up excluded, median of --repeats)
// and the BLAS core. --dump=FILE writes every per-sample loss and the training losses (one number a
// line, %.9g) so that two cores can be compared: benchmarks/compare_blas_core.sh runs both.
#include "core/device.h"
#include "core/inference.h"
#include "core/progress.h"
#include "core/seeds.h"
#include "core/trainer.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

using namespace lb;

namespace {

Encoded random_sequence(Rng& rng, int len) {
  Encoded e;
  for (int t = 0; t <= len; ++t) {
    e.ids.push_back(static_cast<int32_t>(rng.below(256)));
    e.loss_mask.push_back(t > 0 ? 1 : 0);
  }
  return e;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  std::cerr << "bench_blas_core: this is a debug build (NDEBUG unset); speed is only reported for Release builds\n";
  return 1;
#endif
  int threads = 1, repeats = 3, steps = 20;
  std::string dump;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
    else if (std::strncmp(argv[i], "--repeats=", 10) == 0) repeats = std::max(1, std::atoi(argv[i] + 10));
    else if (std::strncmp(argv[i], "--steps=", 8) == 0) steps = std::max(1, std::atoi(argv[i] + 8));
    else if (std::strncmp(argv[i], "--dump=", 7) == 0) dump = argv[i] + 7;
    else {
      std::cerr << "usage: bench_blas_core [--threads=N] [--repeats=N] [--steps=N] [--dump=FILE]\n";
      return 2;
    }
  }
  set_threads(threads);
  Progress::force(false);
  ModelConfig mc;  // the reference config
  mc.max_seq_len = 128;

  // Scoring: 512 sequences of 10..128 tokens (as bench_train's BM_inference_response_loss).
  Rng rng(3);
  TokenCache pool;
  for (int i = 0; i < 512; ++i) pool.full.push_back(random_sequence(rng, 9 + static_cast<int>(rng.below(119))));
  std::vector<SampleId> ids(pool.full.size());
  int64_t real = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<SampleId>(i);
    real += static_cast<int64_t>(pool.full[i].ids.size()) - 1;
  }
  DecoderModel scorer(mc, LoraConfig{}, 1);
  Ledger ledger;
  InferenceEngine engine(pool, ledger, torch::kCPU);
  std::vector<float> losses = engine.response_loss(scorer, ids, Phase::selection_inference);  // warm-up
  std::vector<double> inf_rate;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now_seconds();
    losses = engine.response_loss(scorer, ids, Phase::selection_inference);
    inf_rate.push_back(real / (now_seconds() - t0));
  }

  // Training: `steps` optimizer steps of 16 x 128 from a fixed init.
  Rng trng(1);
  TokenCache batch;
  for (int i = 0; i < 16; ++i) batch.full.push_back(random_sequence(trng, 128));
  std::vector<SampleId> bids(16);
  for (int i = 0; i < 16; ++i) bids[i] = i;
  std::vector<double> train_rate;
  std::vector<double> train_losses;
  for (int r = 0; r < repeats; ++r) {
    DecoderModel model(mc, LoraConfig{}, 1);
    TrainConfig cfg;
    cfg.batch_size = 16;
    cfg.sketch = "none";
    Trainer trainer(model, cfg, batch, ledger, torch::kCPU, 2);
    trainer.train_round(bids);  // warm-up step, not timed
    std::vector<double> run_losses;
    const double t0 = now_seconds();
    for (int s = 0; s < steps; ++s) run_losses.push_back(trainer.train_round(bids).mean_loss);
    train_rate.push_back(16.0 * 128 * steps / (now_seconds() - t0));
    train_losses = run_losses;
  }
  std::printf("bench_blas_core: git %s, %s\n", build_git_sha(), device_description(torch::kCPU).c_str());
  std::printf("  scoring  %9.0f real tok/s (median of %d; 512 sequences, %lld tokens)\n", median(inf_rate), repeats,
              static_cast<long long>(real));
  std::printf("  training %9.0f tok/s (median of %d; %d steps of 16 x 128, after one warm-up step)\n", median(train_rate),
              repeats, steps);
  if (!dump.empty()) {
    FILE* f = std::fopen(dump.c_str(), "w");
    if (!f) {
      std::cerr << "bench_blas_core: cannot write " << dump << "\n";
      return 1;
    }
    std::fprintf(f, "# core %s\n", blas_core().c_str());
    for (float v : losses) std::fprintf(f, "score %.9g\n", v);
    for (double v : train_losses) std::fprintf(f, "train %.9g\n", v);
    std::fclose(f);
  }
  return 0;
}
