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

namespace {

// Sums of b*b, and with a: a*a, a*b, (a-b)^2, in one double-precision pass over the sketches (the
// reference; LeadSelector's per-round path is sums_from_dot). Four interleaved accumulators.
SketchSums sketch_sums(const float* a, const float* b, int64_t n) {
  double a2[4] = {0, 0, 0, 0}, b2[4] = {0, 0, 0, 0}, ab[4] = {0, 0, 0, 0}, d2[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) {
      const double y = b[i + j];
      b2[j] += y * y;
      if (a) {
        const double x = a[i + j];
        a2[j] += x * x;
        ab[j] += x * y;
        d2[j] += (x - y) * (x - y);
      }
    }
  for (; i < n; ++i) {
    const double y = b[i];
    b2[0] += y * y;
    if (a) {
      const double x = a[i];
      a2[0] += x * x;
      ab[0] += x * y;
      d2[0] += (x - y) * (x - y);
    }
  }
  SketchSums s;
  for (int j = 0; j < 4; ++j) {
    s.k2 += a2[j];
    s.prev2 += b2[j];
    s.dot += ab[j];
    s.diff2 += d2[j];
  }
  return s;
}

}  // namespace

SketchSums sums_from_dot(double k2, double prev2, double dot) {
  return SketchSums{k2, prev2, dot, std::max(0.0, k2 + prev2 - 2.0 * dot)};
}

LossChange loss_change_from_sums(bool has_k, bool has_prev, const SketchSums& s, double eta) {
  LossChange out;
  if (!has_prev) {
    out.which = LossChangeCase::first_round;
    return out;
  }
  if (!has_k) {
    out.which = LossChangeCase::unseen_cluster;
    out.delta_loss = -eta * s.prev2;
    return out;
  }
  if (!(s.diff2 > 0)) {
    out.which = LossChangeCase::zero_denominator;
    out.delta_loss = -eta * s.prev2;
    return out;
  }
  const double beta = std::clamp((s.prev2 - s.dot) / s.diff2, 0.0, 1.0);
  // ||beta g_k + (1 - beta) g_prev||^2 expanded, as DESIGN.md writes Delta L'.
  const double mix2 =
      beta * beta * s.k2 + (1.0 - beta) * (1.0 - beta) * s.prev2 + 2.0 * beta * (1.0 - beta) * s.dot;
  out.beta = beta;
  out.delta_loss = -eta * std::max(0.0, mix2);
  return out;
}

LossChange loss_change(const float* g_k, const float* g_prev, int64_t n, double eta) {
  const SketchSums s = g_prev != nullptr ? sketch_sums(g_k, g_prev, n) : SketchSums{};
  return loss_change_from_sums(g_k != nullptr, g_prev != nullptr, s, eta);
}

LossChange loss_change(const std::vector<float>* g_k, const std::vector<float>* g_prev, double eta) {
  if (g_k && g_prev && g_k->size() != g_prev->size())
    throw std::invalid_argument("loss_change: gradient sketches differ in length (" + std::to_string(g_k->size()) +
                                " vs " + std::to_string(g_prev->size()) + ")");
  const int64_t n = g_prev ? static_cast<int64_t>(g_prev->size()) : 0;
  return loss_change(g_k ? g_k->data() : nullptr, g_prev ? g_prev->data() : nullptr, n, eta);
}

}  // namespace lb
