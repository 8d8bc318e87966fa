// Means, Student-t intervals and the paired t-test; see stats.h.
#include "experiments/stats.h"

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace lb {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double mean_of(const std::vector<double>& xs) {
  if (xs.empty()) return kNaN;
  double s = 0;
  for (double x : xs) s += x;
  return s / static_cast<double>(xs.size());
}

double sample_sd(const std::vector<double>& xs) {
  if (xs.size() < 2) return 0;
  double m = mean_of(xs), ss = 0;
  for (double x : xs) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(xs.size() - 1));
}

double t_quantile(double p, double df) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("t_quantile: p must be in (0, 1)");
  if (!(df > 0)) throw std::invalid_argument("t_quantile: degrees of freedom must be positive");
  boost::math::students_t dist(df);
  return boost::math::quantile(dist, p);
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) throw std::invalid_argument("normal_quantile: p must be in (0, 1)");
  boost::math::normal dist(0.0, 1.0);
  return boost::math::quantile(dist, p);
}

MeanInterval interval_over_seeds(const std::vector<double>& xs, double level) {
  MeanInterval r;
  r.n = static_cast<int>(xs.size());
  r.mean = mean_of(xs);
  if (xs.size() < 2) {
    r.half_width = kNaN;
    r.method = "none";
    return r;
  }
  double q = t_quantile(0.5 + level / 2, static_cast<double>(xs.size() - 1));
  r.half_width = q * sample_sd(xs) / std::sqrt(static_cast<double>(xs.size()));
  r.method = "t over seeds";
  return r;
}

MeanInterval interval_from_stderr(double value, double stderr_value, double level) {
  MeanInterval r;
  r.n = 1;
  r.mean = value;
  if (!std::isfinite(stderr_value) || stderr_value < 0) {
    r.half_width = kNaN;
    r.method = "none";
    return r;
  }
  r.half_width = normal_quantile(0.5 + level / 2) * stderr_value;
  r.method = "normal from standard error";
  return r;
}

PairedTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_t_test: the two samples differ in length");
  PairedTest r;
  r.n = static_cast<int>(a.size());
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  r.mean_diff = mean_of(d);
  if (r.n < 2) {
    r.p_value = kNaN;
    r.t = kNaN;
    return r;
  }
  r.sd_diff = sample_sd(d);
  r.df = r.n - 1;
  if (r.sd_diff == 0) {
    // Every pair differs by the same amount: no noise to test against.
    r.t = r.mean_diff == 0 ? 0 : std::copysign(std::numeric_limits<double>::infinity(), r.mean_diff);
    r.p_value = r.mean_diff == 0 ? 1 : 0;
    return r;
  }
  r.t = r.mean_diff / (r.sd_diff / std::sqrt(static_cast<double>(r.n)));
  boost::math::students_t dist(r.df);
  r.p_value = 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(r.t)));
  return r;
}

}  // namespace lb
