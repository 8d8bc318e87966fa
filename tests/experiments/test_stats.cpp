// Statistics for leaderboards: t quantiles against published table values, intervals, and the
// paired t-test against a hand-computed case.
#include "experiments/stats.h"

#include <catch2/catch.hpp>

#include <cmath>

using Catch::Detail::Approx;

TEST_CASE("t quantiles match the published t table") {
  // Two-sided 95 % critical values t_{0.975, df} from any statistics table.
  CHECK(lb::t_quantile(0.975, 1) == Approx(12.7062).epsilon(1e-5));
  CHECK(lb::t_quantile(0.975, 2) == Approx(4.3027).epsilon(1e-4));
  CHECK(lb::t_quantile(0.975, 4) == Approx(2.7764).epsilon(1e-4));
  CHECK(lb::t_quantile(0.975, 30) == Approx(2.0423).epsilon(1e-4));
  CHECK(lb::t_quantile(0.95, 10) == Approx(1.8125).epsilon(1e-4));
  CHECK(lb::t_quantile(0.025, 4) == Approx(-2.7764).epsilon(1e-4));
  CHECK(lb::normal_quantile(0.975) == Approx(1.959964).epsilon(1e-6));
  CHECK_THROWS(lb::t_quantile(1.0, 3));
  CHECK_THROWS(lb::t_quantile(0.5, 0));
}

TEST_CASE("interval over seeds uses t with n-1 degrees of freedom") {
  auto m = lb::interval_over_seeds({1, 2, 3, 4, 5});
  CHECK(m.n == 5);
  CHECK(m.mean == Approx(3));
  // sd = sqrt(2.5) = 1.58114; half width = 2.776445 * 1.58114 / sqrt(5) = 1.96324
  CHECK(m.half_width == Approx(1.96324).epsilon(1e-5));
  auto one = lb::interval_over_seeds({7});
  CHECK(one.mean == Approx(7));
  CHECK(std::isnan(one.half_width));
  auto se = lb::interval_from_stderr(50, 2);
  CHECK(se.half_width == Approx(3.919928).epsilon(1e-6));
  CHECK(se.method == "normal from standard error");
}

TEST_CASE("paired t-test matches a hand-computed case") {
  // a - b = {1, 2, 0, 3}: mean 1.5, sd sqrt(5/3), t = 1.5 / (sd / 2) = 2.323790, df 3.
  // Two-sided p from the closed-form t(3) CDF: F(t) = 1/2 + (x/(1+t^2/3) + atan x)/pi, x = t/sqrt 3.
  auto r = lb::paired_t_test({5, 7, 6, 9}, {4, 5, 6, 6});
  CHECK(r.n == 4);
  CHECK(r.mean_diff == Approx(1.5));
  CHECK(r.sd_diff == Approx(std::sqrt(5.0 / 3.0)));
  CHECK(r.t == Approx(2.323790).epsilon(1e-6));
  CHECK(r.df == 3);
  CHECK(r.p_value == Approx(0.1027281).epsilon(1e-5));
  // Symmetric in sign.
  auto s = lb::paired_t_test({4, 5, 6, 6}, {5, 7, 6, 9});
  CHECK(s.t == Approx(-2.323790).epsilon(1e-6));
  CHECK(s.p_value == Approx(r.p_value));
  // One pair: no test; identical differences: no noise.
  CHECK(std::isnan(lb::paired_t_test({1}, {0}).p_value));
  CHECK(lb::paired_t_test({2, 3, 4}, {1, 2, 3}).p_value == 0);
  CHECK(lb::paired_t_test({1, 2, 3}, {1, 2, 3}).p_value == 1);
  CHECK_THROWS(lb::paired_t_test({1, 2}, {1}));
}
