// Small statistics for leaderboards: means, Student-t intervals (Boost.Math quantiles) and the
// paired t-test across seeds that says whether one selector's gap to another is more than noise.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace lb {

double mean_of(const std::vector<double>& xs);
// Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values.
double sample_sd(const std::vector<double>& xs);

// Quantile of Student's t distribution with `df` degrees of freedom (p in (0, 1)).
double t_quantile(double p, double df);
// Quantile of the standard normal distribution.
double normal_quantile(double p);

// A mean with a two-sided confidence interval of level `level` (0.95 by default).
struct MeanInterval {
  double mean = 0;
  double half_width = 0;  // NaN when it cannot be computed (one value, no standard error)
  int n = 0;              // values averaged
  std::string method;     // "t over seeds (n-1 df)" | "normal from standard error" | "none"
};

// Over seeds: mean ± t_{(1+level)/2, n-1} · sd / sqrt(n). One value: half_width NaN, method "none".
MeanInterval interval_over_seeds(const std::vector<double>& xs, double level = 0.95);
// One value with a known standard error: value ± z_{(1+level)/2} · se.
MeanInterval interval_from_stderr(double value, double stderr_value, double level = 0.95);

// Two-sided paired t-test of a - b (paired by index).
struct PairedTest {
  int n = 0;              // pairs
  double mean_diff = 0;   // mean of a_i - b_i
  double sd_diff = 0;     // sample sd of the differences
  double t = 0;           // mean_diff / (sd_diff / sqrt(n))
  double df = 0;          // n - 1
  double p_value = 1;     // two-sided; NaN with fewer than two pairs
};
PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace lb
