// Phase timers and token counters: where every second and every token of a run went.
//
// Phases are exclusive: entering a phase pauses the one that was running and leaving it resumes
// that one, so each wall-clock second is counted in exactly one phase (a baseline's `selection`
// that calls the inference engine shows that time under `selection_inference`, not twice).
// On CUDA the clock is read after a device synchronisation.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

enum class Phase : int {
  offline_training = 0,  // warm-up / proxy models trained only to score data, before selection
  offline_inference,     // one-off scoring passes before training (IFD, base-model loss, ...)
  selection,             // the selector's own bookkeeping (sorting, bandit, k-center, ...)
  selection_inference,   // forward passes done only to score data, between training rounds
  training,              // forward+backward on the selected data
  evaluation,            // suites
  count
};

constexpr int kPhaseCount = static_cast<int>(Phase::count);
const char* phase_name(Phase p);
// The phases whose sum is the cost the paper compares (everything but evaluation).
bool phase_is_selection_cost(Phase p);

struct PhaseStats {
  double seconds = 0;
  int64_t forward_tokens = 0;   // real (non-pad) tokens that went through a forward pass
  int64_t backward_tokens = 0;  // real tokens that went through a backward pass
  int64_t computed_tokens = 0;  // tokens computed including padding
  int64_t samples = 0;          // sequences processed
  nlohmann::json to_json() const;
  double padding_efficiency() const { return computed_tokens ? double(forward_tokens) / computed_tokens : 1.0; }
};

class Ledger {
 public:
  explicit Ledger(torch::Device device = torch::kCPU) : device_(device) {}

  class Scope {
   public:
    Scope(Ledger& l, Phase p) : l_(&l) { l_->push(p); }
    ~Scope() {
      if (l_) l_->pop();
    }
    Scope(Scope&& o) noexcept : l_(o.l_) { o.l_ = nullptr; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Ledger* l_;
  };

  // RAII: time the enclosed block as phase p.
  Scope scope(Phase p) { return Scope(*this, p); }

  void add_forward(Phase p, int64_t real_tokens, int64_t computed_tokens, int64_t samples);
  void add_backward(Phase p, int64_t real_tokens);
  // Adds work measured elsewhere (a reused result, core/result_cache.h): its seconds and tokens.
  void add_measured(Phase p, const PhaseStats& s);
  // Every phase's stats with the running phase charged up to now.
  std::array<PhaseStats, kPhaseCount> snapshot();

  const PhaseStats& stats(Phase p) const { return stats_[static_cast<int>(p)]; }
  double selection_cost_seconds() const;  // sum of seconds over phase_is_selection_cost phases
  nlohmann::json to_json() const;
  torch::Device device() const { return device_; }

 private:
  using Clock = std::chrono::steady_clock;
  void push(Phase p);
  void pop();
  void charge_running(Clock::time_point now);

  torch::Device device_;
  std::array<PhaseStats, kPhaseCount> stats_{};
  std::vector<Phase> stack_;
  Clock::time_point since_{};
};

// A monotonic wall clock in seconds, for progress lines and benchmarks.
double now_seconds();

}  // namespace lb
