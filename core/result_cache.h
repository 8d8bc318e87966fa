// A content-addressed store for deterministic work that several runs of a sweep repeat: LEAD's
// offline stage (warm-up model, IFD over the pool, base-model losses) is the same for LEAD and its
// ablations of one seed, which differ only in what happens once the rounds start.
//
// An entry is keyed by a hash of everything that determines its result: the weights the work starts
// from (hashed by content, not by config), the token sequences, every config section the work reads,
// the seeds, the torch CPU generator's state, LibTorch's thread count, the device, the LibTorch
// version and the bytes of the running executable (so a rebuild never reuses an older build's floats).
// It holds the result arrays bit for bit, the generator state after the work (so that whatever runs
// next draws the same numbers), and what the work cost when it was measured, per phase. Reusing an
// entry charges that measured cost to the run's ledger and records the reuse in the run record
// (`reused`), so that cost tables stay what the work costs, not what loading it costs.
//
// Files: <cache_dir>/results/<what>-<key>.safetensors (float arrays stored as their int32 bit
// patterns, since NaN marks a sample without a loss), written atomically under a file lock: a second
// process asking for the same key while the first computes it waits and then loads it.
#pragma once

#include "core/ledger.h"
#include "core/model.h"
#include "core/pool.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lb {

// 128-bit FNV-1a style content hash (two 64-bit lanes with different offsets), as 32 hex digits.
class ContentHash {
 public:
  void bytes(const void* data, size_t n);
  void text(const std::string& s);  // length-prefixed
  void u64(uint64_t v) { bytes(&v, sizeof v); }
  void tensor(const torch::Tensor& t);  // dtype, shape and contiguous CPU bytes
  std::string hex() const;

 private:
  uint64_t a_ = 1469598103934665603ull, b_ = 0x84222325cbf29ce4ull;
};

// Every named parameter and buffer of the model (names, dtypes, shapes, bytes), its config and
// adapter config, and whether it is in training mode.
std::string model_content_hash(DecoderModel& model);
// Every sequence of the cache (ids and loss masks, full and response-only) and its max_len.
std::string token_content_hash(const TokenCache& tokens);
// The executable's bytes, LibTorch's version, thread count and the CPU model: what makes the same
// inputs give the same floats. Computed once per process (the executable is read once).
nlohmann::json numeric_environment();
// The torch CPU generator's state (dropout masks draw from it).
torch::Tensor cpu_generator_state();
void set_cpu_generator_state(const torch::Tensor& state);

struct CachedResult {
  std::map<std::string, std::vector<float>> arrays;
  std::array<PhaseStats, kPhaseCount> cost{};  // what the work cost, per phase, when it was measured
  nlohmann::json measured = nlohmann::json::object();  // when, where, by which command
  torch::Tensor generator_after;              // torch CPU generator state after the work (may be undefined)
};

class ResultCache {
 public:
  // dir empty: disabled (every call computes).
  explicit ResultCache(std::string dir = {}) : dir_(std::move(dir)) {}
  bool enabled() const { return !dir_.empty(); }

  // The entry for (what, key JSON) if present, else compute() runs with `ledger` timing it, and its
  // arrays, the phases it charged and the generator state after it are stored. On a hit the stored
  // cost is added to `ledger`, the generator state is restored, and a note is appended to `reused`.
  // The key JSON gets numeric_environment() and the generator state before the work added.
  // compute() fills `out` with the arrays.
  std::map<std::string, std::vector<float>> get_or_compute(
      const std::string& what, nlohmann::json key, Ledger& ledger,
      const std::function<void(std::map<std::string, std::vector<float>>& out)>& compute, bool* hit = nullptr);

  // The key's hash (exposed for tests: a changed field must change it).
  static std::string key_hash(const std::string& what, const nlohmann::json& key);
  std::string entry_path(const std::string& what, const std::string& hash) const;

  // One JSON object per reused entry of this cache's life (the run record's `reused`).
  const nlohmann::json& reused() const { return reused_; }

 private:
  std::string dir_;
  nlohmann::json reused_ = nlohmann::json::array();
};

}  // namespace lb
