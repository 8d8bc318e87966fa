// LEAD's own bookkeeping at pool scale: one selection round (bandit draw + per-task partial sort in
// the drawn cluster) plus the IDU/reward/bandit update, on synthetic utilities; and the offline
// clustering (k-means + cluster x task index). Training and scoring are not part of it.
//
//   cmake --build build-lead --target bench_lead && build-lead/benchmarks/bench_lead
#include "lead/lead_selector.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>

using namespace lb;

namespace {

struct Synthetic {
  std::vector<int> task_of;
  std::vector<double> ifd, utility;
};

Synthetic make_synthetic(int64_t n) {
  Synthetic s;
  Rng rng(12345);
  s.task_of.resize(n);
  s.ifd.resize(n);
  s.utility.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    s.task_of[i] = static_cast<int>(rng.below(8));  // 8 sources, as the paper's mixture
    s.ifd[i] = rng.uniform();
    s.utility[i] = 0.5 + 2.0 * rng.uniform();
  }
  return s;
}

LeadConfig bench_config() {
  LeadConfig cfg;  // paper defaults: K = 7, rho = 0.015, gamma = 0.1, b = 0.1, max_uses = 4
  cfg.max_rounds = int64_t(1) << 40;
  return cfg;
}

// One round: select_round() + update() with a trainer-like feedback (losses, gradient sketch).
void BM_lead_round(benchmark::State& state) {
  const int64_t n = state.range(0);
  const int64_t sketch_dim = state.range(1);
  const Synthetic s = make_synthetic(n);
  LeadSelector sel(bench_config());
  sel.setup(s.task_of, {}, s.ifd, s.utility, n, 7);
  Rng grads(3);
  int64_t selected = 0, rounds = 0, resets = 0;
  for (auto _ : state) {
    auto round = sel.select_round();
    if (!round) {  // budget spent: start over (not timed)
      state.PauseTiming();
      sel.setup(s.task_of, {}, s.ifd, s.utility, n, 7);
      ++resets;
      state.ResumeTiming();
      round = sel.select_round();
    }
    state.PauseTiming();  // what the trainer hands back is not LEAD's cost
    RoundFeedback fb;
    fb.ids = round->ids;
    fb.losses.resize(fb.ids.size());
    for (size_t i = 0; i < fb.ids.size(); ++i) fb.losses[i] = static_cast<float>(0.8 * sel.utility()[fb.ids[i]]);
    fb.grad_mean = torch::randn({sketch_dim});
    fb.lr_mean = 1e-3;
    state.ResumeTiming();
    sel.update(fb);
    selected += static_cast<int64_t>(round->ids.size());
    ++rounds;
  }
  state.counters["samples_per_round"] = rounds ? double(selected) / rounds : 0;
  state.counters["resets"] = double(resets);
}
BENCHMARK(BM_lead_round)
    ->Args({10000, 4096})
    ->Args({100000, 4096})
    ->Args({1000000, 4096})
    ->Args({1000000, 1 << 20})
    ->ArgNames({"pool", "sketch"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Delta L' from two gradient sketches, the two ways: the reference loss_change() (four sums in one
// double-precision pass) and what LeadSelector does per round (norms cached when a sketch is
// stored, one float32 BLAS dot). Side by side, so their ratio comes from one run.
std::vector<float> random_sketch(int64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.uniform() * 2 - 1) * 1e-2f;
  return v;
}
void BM_loss_change_reference(benchmark::State& state) {
  const auto a = random_sketch(state.range(0), 1), b = random_sketch(state.range(0), 2);
  for (auto _ : state) benchmark::DoNotOptimize(loss_change(&a, &b, 1e-3).delta_loss);
  state.SetBytesProcessed(state.iterations() * state.range(0) * 2 * int64_t(sizeof(float)));
}
void BM_loss_change_cached_norms(benchmark::State& state) {
  auto a = random_sketch(state.range(0), 1), b = random_sketch(state.range(0), 2);
  const torch::Tensor ta = torch::from_blob(a.data(), {state.range(0)}), tb = torch::from_blob(b.data(), {state.range(0)});
  const double k2 = torch::dot(ta, ta).item<double>(), prev2 = torch::dot(tb, tb).item<double>();
  for (auto _ : state) {
    const SketchSums s = sums_from_dot(k2, prev2, torch::dot(ta, tb).item<double>());
    benchmark::DoNotOptimize(loss_change_from_sums(true, true, s, 1e-3).delta_loss);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0) * 2 * int64_t(sizeof(float)));
}
// 442752: the demo model's last block (d_model 192, d_ff 512); 2^20: a paper-scale countsketch.
BENCHMARK(BM_loss_change_reference)->Arg(442752)->Arg(1 << 20)->ArgName("sketch")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_loss_change_cached_norms)->Arg(442752)->Arg(1 << 20)->ArgName("sketch")->Unit(benchmark::kMicrosecond);

// The offline bookkeeping once scores exist: k-means (K = 7) on IFD and the cluster x task index.
void BM_lead_setup(benchmark::State& state) {
  const int64_t n = state.range(0);
  const Synthetic s = make_synthetic(n);
  for (auto _ : state) {
    LeadSelector sel(bench_config());
    sel.setup(s.task_of, {}, s.ifd, s.utility, n, 7);
    benchmark::DoNotOptimize(sel.clusters().centroids.data());
  }
}
BENCHMARK(BM_lead_setup)->Arg(10000)->Arg(100000)->Arg(1000000)->ArgName("pool")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
