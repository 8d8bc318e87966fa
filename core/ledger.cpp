// Phase timers and token counters; see ledger.h.
#include "core/ledger.h"

#include "core/device.h"

namespace lb {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::offline_training: return "offline_training";
    case Phase::offline_inference: return "offline_inference";
    case Phase::selection: return "selection";
    case Phase::selection_inference: return "selection_inference";
    case Phase::training: return "training";
    case Phase::evaluation: return "evaluation";
    default: return "unknown";
  }
}

bool phase_is_selection_cost(Phase p) { return p != Phase::evaluation && p != Phase::count; }

nlohmann::json PhaseStats::to_json() const {
  return {{"seconds", seconds},
          {"forward_tokens", forward_tokens},
          {"backward_tokens", backward_tokens},
          {"computed_tokens", computed_tokens},
          {"samples", samples},
          {"padding_efficiency", padding_efficiency()}};
}

void Ledger::charge_running(Clock::time_point now) {
  if (!stack_.empty()) {
    stats_[static_cast<int>(stack_.back())].seconds += std::chrono::duration<double>(now - since_).count();
  }
  since_ = now;
}

void Ledger::push(Phase p) {
  device_synchronize(device_);
  charge_running(Clock::now());
  stack_.push_back(p);
}

void Ledger::pop() {
  device_synchronize(device_);
  charge_running(Clock::now());
  if (!stack_.empty()) stack_.pop_back();
}

void Ledger::add_forward(Phase p, int64_t real_tokens, int64_t computed_tokens, int64_t samples) {
  auto& s = stats_[static_cast<int>(p)];
  s.forward_tokens += real_tokens;
  s.computed_tokens += computed_tokens;
  s.samples += samples;
}

void Ledger::add_backward(Phase p, int64_t real_tokens) { stats_[static_cast<int>(p)].backward_tokens += real_tokens; }

void Ledger::add_measured(Phase p, const PhaseStats& m) {
  auto& s = stats_[static_cast<int>(p)];
  s.seconds += m.seconds;
  s.forward_tokens += m.forward_tokens;
  s.backward_tokens += m.backward_tokens;
  s.computed_tokens += m.computed_tokens;
  s.samples += m.samples;
}

std::array<PhaseStats, kPhaseCount> Ledger::snapshot() {
  device_synchronize(device_);
  charge_running(Clock::now());
  return stats_;
}

double Ledger::selection_cost_seconds() const {
  double t = 0;
  for (int i = 0; i < kPhaseCount; ++i)
    if (phase_is_selection_cost(static_cast<Phase>(i))) t += stats_[i].seconds;
  return t;
}

nlohmann::json Ledger::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (int i = 0; i < kPhaseCount; ++i) j[phase_name(static_cast<Phase>(i))] = stats_[i].to_json();
  j["selection_cost_seconds"] = selection_cost_seconds();
  return j;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace lb
