// Peak resident memory of loading a Hugging Face checkpoint with lb::load_hf_checkpoint on the CPU
// (float32 compute), against the weights' float32 size: the goal is at most 1.1x (one copy, each
// tensor converted once from the memory-mapped file). Prints one JSON line; also prints the memory
// estimate of a LoRA run on the same model. Make a checkpoint with
//   .venv-ref/bin/python tests/fixtures/make_hf_checkpoints.py --big DIR --big-params 1e9
// or run benchmarks/hf_load_memory.sh, which does both.
//   bench_hf_load FOLDER
#include "core/hf_checkpoint.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

namespace {

// kB fields of /proc/self/status (VmHWM: peak resident, VmRSS: resident now).
int64_t status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: bench_hf_load FOLDER\n";
    return 2;
  }
  torch::set_num_threads(1);
  torch::ones({8}).sum();  // LibTorch's own start-up memory belongs to the baseline
  const int64_t base_kb = status_kb("VmHWM");
  const auto t0 = std::chrono::steady_clock::now();
  lb::LoadedHfModel loaded;
  try {
    loaded = lb::load_hf_checkpoint(argv[1], torch::kCPU);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int64_t peak_kb = status_kb("VmHWM"), rss_kb = status_kb("VmRSS");
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const int64_t params = loaded.model->parameter_count(false);
  const double fp32 = 4.0 * params;
  std::printf(
      "{\"parameters\": %lld, \"fp32_weight_bytes\": %.0f, \"baseline_hwm_bytes\": %lld, \"peak_hwm_bytes\": %lld, "
      "\"ru_maxrss_bytes\": %lld, \"rss_after_bytes\": %lld, \"peak_over_fp32\": %.4f, "
      "\"peak_minus_baseline_over_fp32\": %.4f, \"load_seconds\": %.2f}\n",
      static_cast<long long>(params), fp32, static_cast<long long>(base_kb) * 1024,
      static_cast<long long>(peak_kb) * 1024, static_cast<long long>(ru.ru_maxrss) * 1024,
      static_cast<long long>(rss_kb) * 1024, peak_kb * 1024.0 / fp32, (peak_kb - base_kb) * 1024.0 / fp32, seconds);
  lb::LoraConfig lora;
  lora.rank = 64;
  std::printf("LoRA r64, batch 8 x 2048 tokens, bf16 base: %s\n",
              lb::format_memory_estimate(lb::estimate_memory(loaded.model->config(), lora, 8, 2048, 2, true)).c_str());
  return 0;
}
