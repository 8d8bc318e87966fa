// Separate, recorded seeds for each source of randomness, and a small deterministic RNG.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace lb {

struct SeedConfig {
  uint64_t init = 1;        // model initialisation, LoRA init, dropout
  uint64_t data_order = 2;  // shuffling inside a training round
  uint64_t selection = 3;   // random choices of the selector (random subsets, bandit draws, k-means++)
  uint64_t fewshot = 4;     // few-shot exemplar sampling and generation sampling in evaluation

  template <class V> void visit(V& v) {
    v.field("init", init, "model and adapter initialisation, dropout masks");
    v.field("data_order", data_order, "order of samples within a training round");
    v.field("selection", selection, "selector randomness: random subsets, bandit draws, k-means++ seeding");
    v.field("fewshot", fewshot, "few-shot exemplar choice and sampled generations in evaluation");
  }
  // All four derived from one run seed (seed 0 keeps the defaults above, other seeds shift them).
  static SeedConfig from_run_seed(uint64_t seed) {
    SeedConfig s;
    s.init = 1 + 1000 * seed;
    s.data_order = 2 + 1000 * seed;
    s.selection = 3 + 1000 * seed;
    s.fewshot = 4 + 1000 * seed;
    return s;
  }
};

// splitmix64: a tiny, well-mixed generator whose output is the same on every platform
// (std::mt19937_64 is too, but std distributions are not; use these helpers instead).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return (next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next_u64() % n; }
  // Fisher-Yates shuffle.
  template <class Vec> void shuffle(Vec& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }
  // A child generator for a named purpose, independent of how much this one was used.
  static Rng derive(uint64_t seed, const std::string& purpose) {
    uint64_t h = 1469598103934665603ull ^ seed;
    for (unsigned char c : purpose) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return Rng(h);
  }

 private:
  uint64_t state_;
};

}  // namespace lb
