// EXP3 / EXP3.S over LEAD's clusters; see bandit.h for the formulas.
#include "lead/bandit.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lb {

Exp3Bandit::Exp3Bandit(int arms, double gamma, double alpha, bool uniform)
    : gamma_(gamma), alpha_(alpha), uniform_(uniform), weights_(arms > 0 ? arms : 0, 1.0),
      live_(arms > 0 ? arms : 0, 1) {
  if (arms <= 0) throw std::invalid_argument("Exp3Bandit: needs at least one arm, got " + std::to_string(arms));
  if (!(gamma > 0.0 && gamma <= 1.0))
    throw std::invalid_argument("Exp3Bandit: gamma must be in (0, 1], got " + std::to_string(gamma));
  if (!(alpha >= 0.0 && alpha < 1.0))
    throw std::invalid_argument("Exp3Bandit: alpha must be in [0, 1), got " + std::to_string(alpha));
}

int Exp3Bandit::live_count() const {
  int n = 0;
  for (char l : live_) n += l ? 1 : 0;
  return n;
}

void Exp3Bandit::retire(int arm) {
  if (arm < 0 || arm >= arms()) throw std::out_of_range("Exp3Bandit::retire: no arm " + std::to_string(arm));
  live_[arm] = 0;
}

std::vector<double> Exp3Bandit::probabilities() const {
  const int k = arms();
  std::vector<double> p(k, 0.0);
  if (uniform_) {
    for (int i = 0; i < k; ++i) p[i] = 1.0 / k;
  } else {
    double sum_w = 0;
    for (double w : weights_) sum_w += w;
    for (int i = 0; i < k; ++i) p[i] = (1.0 - gamma_) * weights_[i] / sum_w + gamma_ / k;
  }
  // Restrict to live arms and renormalise (a no-op while every arm is live).
  double live_mass = 0;
  for (int i = 0; i < k; ++i) live_mass += live_[i] ? p[i] : 0.0;
  for (int i = 0; i < k; ++i) p[i] = (live_[i] && live_mass > 0) ? p[i] / live_mass : 0.0;
  return p;
}

int Exp3Bandit::draw(Rng& rng) const {
  if (live_count() == 0) return -1;
  const std::vector<double> p = probabilities();
  const double u = rng.uniform();
  double acc = 0;
  int last_live = -1;
  for (int i = 0; i < arms(); ++i) {
    if (!live_[i]) continue;
    last_live = i;
    acc += p[i];
    if (u < acc) return i;
  }
  return last_live;  // rounding: u above the accumulated mass
}

double Exp3Bandit::normalise(double raw) const {
  double lo = history_.empty() ? raw : std::min(min_reward_, raw);
  double hi = history_.empty() ? raw : std::max(max_reward_, raw);
  if (!(hi > lo)) return 0.0;  // a single value or all equal: no information yet
  return 2.0 * (raw - lo) / (hi - lo) - 1.0;
}

double Exp3Bandit::update(int arm, double raw_reward) {
  if (arm < 0 || arm >= arms()) throw std::out_of_range("Exp3Bandit::update: no arm " + std::to_string(arm));
  if (!std::isfinite(raw_reward))
    throw std::invalid_argument("Exp3Bandit::update: reward must be finite, got " + std::to_string(raw_reward));
  const double r_hat = normalise(raw_reward);
  if (history_.empty()) {
    min_reward_ = max_reward_ = raw_reward;
  } else {
    min_reward_ = std::min(min_reward_, raw_reward);
    max_reward_ = std::max(max_reward_, raw_reward);
  }
  history_.push_back(raw_reward);
  if (uniform_) return r_hat;

  const int k = arms();
  const double p_arm = probabilities()[arm];
  if (!(p_arm > 0)) throw std::logic_error("Exp3Bandit::update: arm " + std::to_string(arm) + " is retired");
  double sum_w = 0;
  for (double w : weights_) sum_w += w;
  const double share = alpha_ > 0 ? std::exp(1.0) * alpha_ / k * sum_w : 0.0;
  weights_[arm] *= std::exp(gamma_ * r_hat / (k * p_arm));
  if (share > 0)
    for (int i = 0; i < k; ++i) weights_[i] += share;

  const double w_max = *std::max_element(weights_.begin(), weights_.end());
  if (w_max > 1e150 || w_max < 1e-150)
    for (double& w : weights_) w /= w_max;
  return r_hat;
}

}  // namespace lb
