// beta*, Delta L' and their documented edge cases; see utility.h.
#include "lead/utility.h"

#include <algorithm>
#include <stdexcept>

namespace lb {

const char* loss_change_case_name(LossChangeCase c) {
  switch (c) {
    case LossChangeCase::regular: return "regular";
    case LossChangeCase::first_round: return "first_round";
    case LossChangeCase::unseen_cluster: return "unseen_cluster";
    case LossChangeCase::zero_denominator: return "zero_denominator";
    case LossChangeCase::disabled: return "disabled";
  }
  return "unknown";
}

LossChange loss_change(const float* g_k, const float* g_prev, int64_t n, double eta) {
  LossChange out;
  if (g_prev == nullptr) {
    out.which = LossChangeCase::first_round;
    return out;
  }
  double prev2 = 0;
  for (int64_t i = 0; i < n; ++i) prev2 += double(g_prev[i]) * g_prev[i];
  if (g_k == nullptr) {
    out.which = LossChangeCase::unseen_cluster;
    out.delta_loss = -eta * prev2;
    return out;
  }
  double dot = 0, diff2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = g_k[i], b = g_prev[i];
    dot += a * b;
    diff2 += (a - b) * (a - b);
  }
  if (!(diff2 > 0)) {
    out.which = LossChangeCase::zero_denominator;
    out.delta_loss = -eta * prev2;
    return out;
  }
  const double beta = std::clamp((prev2 - dot) / diff2, 0.0, 1.0);
  double mix2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double m = beta * g_k[i] + (1.0 - beta) * g_prev[i];
    mix2 += m * m;
  }
  out.beta = beta;
  out.delta_loss = -eta * mix2;
  return out;
}

LossChange loss_change(const std::vector<float>* g_k, const std::vector<float>* g_prev, double eta) {
  if (g_k && g_prev && g_k->size() != g_prev->size())
    throw std::invalid_argument("loss_change: gradient sketches differ in length (" + std::to_string(g_k->size()) +
                                " vs " + std::to_string(g_prev->size()) + ")");
  const int64_t n = g_prev ? static_cast<int64_t>(g_prev->size()) : 0;
  return loss_change(g_k ? g_k->data() : nullptr, g_prev ? g_prev->data() : nullptr, n, eta);
}

}  // namespace lb
