// LEAD's sample utility: the loss-change estimate (beta*, Delta L') from in-loop gradient sketches,
// and the IDU update U <- (1-b)(l + Delta L') + b U.
//
//   beta*     = clip((|g_prev|^2 - g_k . g_prev) / |g_k - g_prev|^2, 0, 1)
//   Delta L'  = -eta * |beta* g_k + (1 - beta*) g_prev|^2
//
// beta* picks the point of the segment [g_prev, g_k] nearest the origin, so Delta L' is
// -eta * (distance from the origin to that segment)^2, never below -eta * min(|g_k|^2, |g_prev|^2).
// Cases (LossChangeCase): first round (no g_prev): Delta L' = 0; cluster never trained (no g_k):
// beta* = 0, Delta L' = -eta |g_prev|^2; |g_k - g_prev|^2 == 0 (identical vectors, e.g. the same
// cluster twice in a row, or both zero): beta* = 0 — every beta gives the same vector, so
// Delta L' = -eta |g_prev|^2 is exact, not an approximation.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace lb {

enum class LossChangeCase { regular, first_round, unseen_cluster, zero_denominator, disabled };
const char* loss_change_case_name(LossChangeCase c);

struct LossChange {
  double beta = 0;        // beta*
  double delta_loss = 0;  // Delta L'
  LossChangeCase which = LossChangeCase::regular;
};

// The four sums Delta L' needs: |g_k|^2, |g_prev|^2, g_k . g_prev, |g_k - g_prev|^2.
struct SketchSums {
  double k2 = 0, prev2 = 0, dot = 0, diff2 = 0;
};
// The sums from the two squared norms and the dot product (|g_k - g_prev|^2 = k2 + prev2 - 2 dot,
// floored at 0 against rounding): what LeadSelector uses each round, norms cached per sketch.
SketchSums sums_from_dot(double k2, double prev2, double dot);
// Delta L' from the sums (has_k: the cluster was trained before; has_prev: not the first round).
LossChange loss_change_from_sums(bool has_k, bool has_prev, const SketchSums& s, double eta);

// g_k: mean gradient of the last round that trained the cluster (nullptr: never trained);
// g_prev: the previous round's mean gradient (nullptr: this is the first round); n: their length.
// Computes the sums in one double-precision pass (the reference; LeadSelector caches norms and
// takes the dot product from BLAS, see lead_selector.cpp).
LossChange loss_change(const float* g_k, const float* g_prev, int64_t n, double eta);
LossChange loss_change(const std::vector<float>* g_k, const std::vector<float>* g_prev, double eta);

// IDU: the smoothed utility of a sample trained this round.
inline double idu_update(double utility_before, double loss_now, double delta_loss, double smoothing) {
  return (1.0 - smoothing) * (loss_now + delta_loss) + smoothing * utility_before;
}

// IFD difficulty from the warm-up model's conditional loss l(response | instruction) and
// unconditional loss l(response): their ratio, or 0 when the ratio exceeds 1 or is invalid (a NaN or
// infinite loss, a zero denominator), as the authors' code does.
inline double ifd_from_losses(double conditional, double unconditional) {
  if (!std::isfinite(conditional) || !std::isfinite(unconditional) || !(unconditional > 0)) return 0.0;
  const double r = conditional / unconditional;
  return (std::isfinite(r) && r >= 0.0 && r <= 1.0) ? r : 0.0;
}

}  // namespace lb
