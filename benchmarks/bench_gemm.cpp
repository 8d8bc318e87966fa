// The fp32 GEMM rate of this machine through LibTorch (the BLAS every phase runs on): matmul at the
// shapes of the reference model's scoring and training passes beside one large square matmul, at
// --threads=N (default 1). Each case reports GFLOP/s (2*M*N*K per matmul); the phases' tokens/s are
// read against these numbers (benchmarks/README.md).
#include "core/device.h"

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

// y[M, N] = x[M, K] * w[N, K]^T, the layout of every projection in core/model.cpp.
void BM_matmul(benchmark::State& state) {
  const int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({M, K});
  auto w = torch::randn({N, K});
  auto wt = w.t();
  for (int i = 0; i < 3; ++i) benchmark::DoNotOptimize(torch::matmul(x, wt));  // warm-up
  for (auto _ : state) {
    auto y = torch::matmul(x, wt);
    benchmark::DoNotOptimize(y.data_ptr<float>());
  }
  const double flops = 2.0 * double(M) * double(N) * double(K);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Shapes: the scoring engine's bucket (max_batch_tokens 8192 rows), a training micro-batch
// (16 x 128 = 2048 rows), for the fused q/k/v (192 -> 576), gate/up (192 -> 1024), down (512 -> 192)
// and the tied output head (192 -> 263); the backward's weight gradient (K = rows); a 2048^3 square.
void shapes(benchmark::internal::Benchmark* b) {
  for (int64_t rows : {8192, 2048}) {
    b->Args({rows, 192, 576});
    b->Args({rows, 192, 1024});
    b->Args({rows, 512, 192});
    b->Args({rows, 192, 263});
  }
  b->Args({576, 2048, 192});  // dW of q/k/v: [576, rows] x [rows, 192]
  b->Args({1024, 2048, 192});
  b->Args({2048, 2048, 2048});
}
BENCHMARK(BM_matmul)->Apply(shapes)->ArgNames({"M", "K", "N"})->Unit(benchmark::kMillisecond)->MinTime(0.5);

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  std::cerr << "bench_gemm: refusing to measure speed in a debug build (configure with -DCMAKE_BUILD_TYPE=Release)\n";
  return 1;
#endif
  int threads = 1;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
  lb::set_threads(threads);
  benchmark::AddCustomContext("threads", std::to_string(threads));
  int bargc = 0;
  std::vector<char*> bargv;
  for (int i = 0; i < argc; ++i)
    if (std::strncmp(argv[i], "--threads=", 10) != 0) bargv.push_back(argv[i]), ++bargc;
  benchmark::Initialize(&bargc, bargv.data());
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
