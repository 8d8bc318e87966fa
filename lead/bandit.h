// LEAD's coarse stage: an EXP3 bandit over the IFD clusters (as in the authors' code), with the
// optional EXP3.S share term and a uniform no-bandit ablation.
//
//   p_i = (1 - gamma) w_i / sum_j w_j + gamma / K
//   r_hat = min-max normalisation of the raw reward to [-1, 1] over the reward history (this one included;
//           0 while all rewards seen so far are equal)
//   w_k <- w_k exp(gamma r_hat / (K p_k))             for the drawn arm k (others unchanged)
//   EXP3.S (alpha > 0): w_i <- w_i exp(gamma x_i / K) + (e alpha / K) sum_j w_j,   x_k = r_hat / p_k, others 0
//
// Arms can be retired (a cluster with no eligible sample left): draws then use p restricted to the
// live arms and renormalised, and the update divides by that renormalised probability.
// Weights are rescaled (divided by their maximum) only if the maximum leaves [1e-150, 1e150];
// probabilities are unchanged by the rescaling.
#pragma once

#include "core/seeds.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

class Exp3Bandit {
 public:
  // uniform = true: p_i = 1/K over live arms and updates leave the weights alone.
  Exp3Bandit(int arms, double gamma, double alpha = 0.0, bool uniform = false);

  int arms() const { return static_cast<int>(weights_.size()); }
  // Probabilities over all arms (retired arms 0), renormalised over the live ones.
  std::vector<double> probabilities() const;
  // Draws a live arm with u = rng.uniform(); returns -1 when every arm is retired.
  int draw(Rng& rng) const;
  // Min-max normalises `raw_reward` over the history (after appending it), updates the weight of
  // `arm` and returns the normalised reward.
  double update(int arm, double raw_reward);
  // Normalised value of `raw` over the current history, without changing anything.
  double normalise(double raw) const;

  void retire(int arm);
  bool live(int arm) const { return live_[arm] != 0; }
  int live_count() const;

  const std::vector<double>& weights() const { return weights_; }
  const std::vector<double>& reward_history() const { return history_; }

 private:
  double gamma_;
  double alpha_;
  bool uniform_;
  std::vector<double> weights_;
  std::vector<char> live_;
  std::vector<double> history_;
  double min_reward_ = 0;
  double max_reward_ = 0;
};

}  // namespace lb
