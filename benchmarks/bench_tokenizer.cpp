// Tokenizer throughput: HfTokenizer::encode over a JSONL of texts (made by
// benchmarks/tokenizer_reference.py texts), single thread; a warm-up pass, then N timed passes.
// Prints one JSON line (median wall and CPU seconds, tokens, a hash of every id) that
// benchmarks/compare_tokenizer.sh sets beside Hugging Face's numbers.
//   bench_tokenizer TOKENIZER_PATH TEXTS.jsonl [PASSES]
#include "core/hf_tokenizer.h"
#include "core/json_io.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
#ifndef NDEBUG
  std::cerr << "bench_tokenizer: this is a debug build (NDEBUG unset); speed is only reported for Release builds\n";
  return 1;
#endif
  if (argc < 3) {
    std::cerr << "usage: bench_tokenizer TOKENIZER_PATH TEXTS.jsonl [PASSES]\n";
    return 2;
  }
  const int passes = argc > 3 ? std::max(1, std::atoi(argv[3])) : 3;
  try {
    std::vector<std::string> texts;
    size_t bytes = 0;
    lb::for_each_jsonl(argv[2], [&](const nlohmann::json& r, int64_t) {
      texts.push_back(lb::require_string(r, "text", argv[2]));
      bytes += texts.back().size();
    });
    const lb::HfTokenizer tok = lb::HfTokenizer::load(argv[1]);
    uint64_t h = 0xcbf29ce484222325ull;
    int64_t tokens = 0;
    for (const std::string& t : texts) {  // warm-up, and the ids' hash
      const std::vector<int32_t> ids = tok.encode(t, false);
      tokens += static_cast<int64_t>(ids.size());
      for (int32_t id : ids)
        for (int k = 0; k < 4; ++k) h = (h ^ ((static_cast<uint32_t>(id) >> (8 * k)) & 0xff)) * 0x100000001b3ull;
      h = (h ^ 0xff) * 0x100000001b3ull;
    }
    std::vector<double> walls, cpus;
    int64_t sink = 0;
    for (int p = 0; p < passes; ++p) {
      const auto w = std::chrono::steady_clock::now();
      const double c = cpu_seconds();
      for (const std::string& t : texts) sink += static_cast<int64_t>(tok.encode(t, false).size());
      cpus.push_back(cpu_seconds() - c);
      walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - w).count());
    }
    if (sink != tokens * passes) throw std::runtime_error("token count changed between passes");
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    std::cout << nlohmann::json{{"impl", "leadbench"},      {"texts", texts.size()}, {"bytes", bytes},
                                {"tokens", tokens},          {"ids_fnv", hex},        {"wall_s", median(walls)},
                                {"cpu_s", median(cpus)}}
                     .dump()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "bench_tokenizer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
