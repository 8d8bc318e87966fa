// Data-parallel training throughput: one rank of the shared trainer on the reference CPU config
// (d_model 192, 4 layers, 6 heads, d_ff 512, ~1.82 M parameters; global batch 16 x 128 tokens,
// sketch none), its rank and world read from RANK/WORLD_SIZE/MASTER_* (core/distributed.h). Each
// rank trains its share of every global batch; rank 0 prints one JSON line with the global tokens/s.
// Start it through benchmarks/data_parallel.sh, which runs 1 and 2 ranks and prints the scaling.
// Flags: --threads=N (per rank, default 1) --steps=N (timed, default 30) --warmup=N (default 3).
#include "core/device.h"
#include "core/distributed.h"
#include "core/progress.h"
#include "core/seeds.h"
#include "core/trainer.h"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace {

using namespace lb;

constexpr int kBatch = 16;
constexpr int kSeq = 128;

Encoded random_sequence(Rng& rng, int len) {
  Encoded e;
  for (int t = 0; t <= len; ++t) {
    e.ids.push_back(static_cast<int32_t>(rng.below(256)));
    e.loss_mask.push_back(t > 0 ? 1 : 0);
  }
  return e;
}

int flag(int argc, char** argv, const char* name, int fallback) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) return std::stoi(argv[i] + prefix.size());
  return fallback;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  std::cerr << "bench_data_parallel: a debug build; speed is measured from Release builds only\n";
  return 1;
#endif
  try {
    const int threads = flag(argc, argv, "threads", 1);
    const int steps = flag(argc, argv, "steps", 30);
    const int warmup = flag(argc, argv, "warmup", 3);
    set_threads(threads);
    Progress::force(false);
    const DistEnv env = dist_env_from_environment();
    ProcessGroupPtr pg = ProcessGroup::create(env, std::chrono::seconds(300));
    Rng rng(1);
    TokenCache tokens;
    for (int i = 0; i < kBatch * steps; ++i) tokens.full.push_back(random_sequence(rng, kSeq));
    ModelConfig mc;  // the defaults are the reference config
    mc.max_seq_len = kSeq;
    DecoderModel model(mc, LoraConfig{}, 1);
    Ledger ledger;
    TrainConfig cfg;
    cfg.batch_size = kBatch;
    cfg.sketch = "none";
    Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 2);
    trainer.set_process_group(pg);
    std::vector<SampleId> warm(kBatch), all(kBatch * steps);
    for (int i = 0; i < kBatch; ++i) warm[i] = i;
    for (int i = 0; i < kBatch * steps; ++i) all[i] = i;
    for (int i = 0; i < warmup; ++i) trainer.train_round(warm);  // not timed
    if (pg) pg->barrier("start of the timed steps");
    const double c0 = cpu_seconds(), t0 = now_seconds();
    RoundFeedback fb = trainer.train_round(all);  // `steps` optimizer steps of 16 x 128
    if (pg) pg->barrier("end of the timed steps");
    const double wall = now_seconds() - t0, cpu = cpu_seconds() - c0;
    if (env.rank == 0)
      std::printf("{\"ranks\": %d, \"threads_per_rank\": %d, \"steps\": %lld, \"tokens\": %lld, \"seconds\": %.4f, "
                  "\"tokens_per_second\": %.1f, \"rank0_cpu_seconds\": %.4f, \"mean_loss\": %.6f, \"params\": %lld}\n",
                  pg ? pg->size() : 1, threads, static_cast<long long>(fb.steps), static_cast<long long>(fb.tokens), wall,
                  fb.tokens / wall, cpu, fb.mean_loss, static_cast<long long>(model->parameter_count(true)));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_data_parallel: " << e.what() << "\n";
    return 1;
  }
}
