// 1-D k-means on data with known clusters; beta*, Delta L' on constructed vectors; the IDU update.
#include "lead/kmeans1d.h"
#include "lead/utility.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace lb;

TEST_CASE("1-D k-means finds three well-separated clusters for every seed", "[lead][kmeans]") {
  const std::vector<double> v = {10.2, 1.0, 5.1, 0.9, 9.8, 1.1, 4.9, 10.0, 5.0};
  for (uint64_t seed : {1ull, 2ull, 3ull, 42ull, 1000ull}) {
    KMeans1D km = kmeans_1d(v, 3, Rng(seed));
    REQUIRE(km.centroids.size() == 3);
    CHECK(km.converged);
    CHECK(km.centroids[0] == Approx(1.0));
    CHECK(km.centroids[1] == Approx(5.0));
    CHECK(km.centroids[2] == Approx(10.0));
    CHECK(km.labels == std::vector<int>{2, 0, 1, 0, 2, 0, 1, 2, 1});
    CHECK(km.sizes == std::vector<int64_t>{3, 3, 3});
    CHECK(km.notes.empty());
  }
}

TEST_CASE("1-D k-means is identical for the same seed", "[lead][kmeans]") {
  std::vector<double> v;
  Rng data(5);
  for (int i = 0; i < 2000; ++i) v.push_back(data.uniform());  // no structure: seeding matters
  KMeans1D a = kmeans_1d(v, 7, Rng(9)), b = kmeans_1d(v, 7, Rng(9));
  CHECK(a.centroids == b.centroids);
  CHECK(a.labels == b.labels);
  // Clusters are contiguous intervals numbered by ascending centroid.
  for (size_t i = 0; i < v.size(); ++i)
    for (size_t j = 0; j < v.size(); j += 97)
      if (v[i] < v[j]) CHECK(a.labels[i] <= a.labels[j]);
}

TEST_CASE("1-D k-means lowers k to the number of distinct values, all-zero input gives one cluster",
          "[lead][kmeans]") {
  KMeans1D two = kmeans_1d({0.2, 0.2, 0.7, 0.7, 0.7}, 7, Rng(1));
  REQUIRE(two.centroids.size() == 2);
  CHECK(two.centroids[0] == Approx(0.2));
  CHECK(two.centroids[1] == Approx(0.7));
  CHECK(two.labels == std::vector<int>{0, 0, 1, 1, 1});
  CHECK(two.requested_k == 7);
  CHECK(!two.notes.empty());
  KMeans1D zero = kmeans_1d(std::vector<double>(50, 0.0), 7, Rng(1));
  CHECK(zero.centroids.size() == 1);
  CHECK(zero.sizes == std::vector<int64_t>{50});
  KMeans1D nonfinite = kmeans_1d({std::nan(""), 1.0, 0.0}, 2, Rng(1));
  CHECK(nonfinite.labels == std::vector<int>{0, 1, 0});
  CHECK(kmeans_1d({}, 3, Rng(1)).centroids.empty());
  CHECK_THROWS(kmeans_1d({1.0}, 0, Rng(1)));
}

TEST_CASE("beta* and Delta L' on constructed gradients", "[lead][utility]") {
  const double eta = 0.5;
  using V = std::vector<float>;
  SECTION("orthogonal: beta* = 1/2, mix (1/2, 1/2)") {
    V gk = {1, 0}, gp = {0, 1};
    LossChange lc = loss_change(&gk, &gp, eta);
    CHECK(lc.which == LossChangeCase::regular);
    CHECK(lc.beta == Approx(0.5));
    CHECK(lc.delta_loss == Approx(-eta * 0.5));
  }
  SECTION("parallel, g_k longer: beta* clipped to 0, Delta L' = -eta |g_prev|^2") {
    V gk = {2, 0}, gp = {1, 0};
    LossChange lc = loss_change(&gk, &gp, eta);
    CHECK(lc.beta == 0.0);
    CHECK(lc.delta_loss == Approx(-eta * 1.0));
  }
  SECTION("parallel, g_prev longer: beta* clipped to 1, Delta L' = -eta |g_k|^2") {
    V gk = {1, 0}, gp = {2, 0};
    LossChange lc = loss_change(&gk, &gp, eta);
    CHECK(lc.beta == 1.0);
    CHECK(lc.delta_loss == Approx(-eta * 1.0));
  }
  SECTION("anti-parallel, equal length: beta* = 1/2, the mix vanishes") {
    V gk = {-3, 4}, gp = {3, -4};
    LossChange lc = loss_change(&gk, &gp, eta);
    CHECK(lc.beta == Approx(0.5));
    CHECK(lc.delta_loss == Approx(0.0).margin(1e-12));
  }
  SECTION("general: the closed form of DESIGN.md") {
    V gk = {1, 2, 0}, gp = {2, 0, 1};
    // |gp|^2 = 5, gk.gp = 2, |gk-gp|^2 = 1+4+1 = 6 -> beta = 3/6 = 0.5, mix = (1.5, 1, 0.5): |.|^2 = 3.5
    LossChange lc = loss_change(&gk, &gp, 0.1);
    CHECK(lc.beta == Approx(0.5));
    CHECK(lc.delta_loss == Approx(-0.35));
    // = -eta [b^2 dk^2 + (1-b)^2 dp^2 + 2 b (1-b) gk.gp]
    CHECK(lc.delta_loss == Approx(-0.1 * (0.25 * 5 + 0.25 * 5 + 2 * 0.25 * 2)));
  }
  SECTION("zero-norm g_k: beta* = 1, Delta L' = 0; zero-norm g_prev: beta* = 0, Delta L' = 0") {
    V z = {0, 0}, g = {3, 4};
    LossChange a = loss_change(&z, &g, eta);
    CHECK(a.beta == 1.0);
    CHECK(a.delta_loss == Approx(0.0).margin(1e-12));
    LossChange b = loss_change(&g, &z, eta);
    CHECK(b.beta == 0.0);
    CHECK(b.delta_loss == Approx(0.0).margin(1e-12));
  }
  SECTION("identical vectors or both zero: zero denominator, beta* = 0, exact -eta |g|^2") {
    V g = {3, 4}, z = {0, 0};
    LossChange a = loss_change(&g, &g, eta);
    CHECK(a.which == LossChangeCase::zero_denominator);
    CHECK(a.beta == 0.0);
    CHECK(a.delta_loss == Approx(-eta * 25));
    LossChange b = loss_change(&z, &z, eta);
    CHECK(b.which == LossChangeCase::zero_denominator);
    CHECK(b.delta_loss == 0.0);
  }
  SECTION("first round: Delta L' = 0; never-trained cluster: beta* = 0, Delta L' = -eta |g_prev|^2") {
    V g = {3, 4};
    LossChange first = loss_change(&g, nullptr, eta);
    CHECK(first.which == LossChangeCase::first_round);
    CHECK(first.delta_loss == 0.0);
    LossChange first2 = loss_change(nullptr, nullptr, eta);
    CHECK(first2.delta_loss == 0.0);
    LossChange unseen = loss_change(nullptr, &g, eta);
    CHECK(unseen.which == LossChangeCase::unseen_cluster);
    CHECK(unseen.beta == 0.0);
    CHECK(unseen.delta_loss == Approx(-eta * 25));
  }
  SECTION("length mismatch is an error") {
    V a = {1, 2}, b = {1, 2, 3};
    CHECK_THROWS_AS(loss_change(&a, &b, eta), std::invalid_argument);
  }
}

TEST_CASE("Delta L' never falls below -eta min(|g_k|^2, |g_prev|^2)", "[lead][utility]") {
  Rng rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> a(5), b(5);
    double na = 0, nb = 0;
    for (int i = 0; i < 5; ++i) {
      a[i] = float(rng.uniform() * 2 - 1);
      b[i] = float(rng.uniform() * 2 - 1);
      na += double(a[i]) * a[i];
      nb += double(b[i]) * b[i];
    }
    LossChange lc = loss_change(&a, &b, 1.0);
    CHECK(lc.delta_loss <= 0.0);
    CHECK(lc.delta_loss >= -std::min(na, nb) - 1e-9);
    CHECK(lc.beta >= 0.0);
    CHECK(lc.beta <= 1.0);
  }
}

TEST_CASE("IDU update and its limits b = 0 and b = 1", "[lead][utility]") {
  // (1 - 0.1)(2.0 - 0.5) + 0.1 * 3.0 = 1.35 + 0.3
  CHECK(idu_update(3.0, 2.0, -0.5, 0.1) == Approx(1.65));
  CHECK(idu_update(3.0, 2.0, -0.5, 0.0) == Approx(1.5));  // no smoothing: l + Delta L'
  CHECK(idu_update(3.0, 2.0, -0.5, 1.0) == Approx(3.0));  // full smoothing: U unchanged
}

TEST_CASE("IFD from losses: ratio, > 1 and invalid map to 0", "[lead][utility]") {
  CHECK(ifd_from_losses(1.0, 2.0) == Approx(0.5));
  CHECK(ifd_from_losses(2.0, 2.0) == Approx(1.0));
  CHECK(ifd_from_losses(3.0, 2.0) == 0.0);
  CHECK(ifd_from_losses(1.0, 0.0) == 0.0);
  CHECK(ifd_from_losses(std::nan(""), 1.0) == 0.0);
  CHECK(ifd_from_losses(1.0, std::nan("")) == 0.0);
  CHECK(ifd_from_losses(INFINITY, 1.0) == 0.0);
}

TEST_CASE("beta* and Delta L' on long sketches match a naive double-precision loop", "[lead][utility]") {
  // Lengths around the four interleaved accumulators, and the demo model's last-block size.
  Rng rng(11);
  for (int64_t n : {int64_t(1), int64_t(7), int64_t(8), int64_t(1023), int64_t(1024), int64_t(1025), int64_t(8199),
                    int64_t(442752)}) {
    std::vector<float> a(n), b(n);
    for (int64_t i = 0; i < n; ++i) {
      a[i] = float(rng.uniform() * 2 - 1) * 1e-2f;
      b[i] = float(rng.uniform() * 2 - 1) * 1e-2f + 0.5f * a[i];
    }
    double a2 = 0, b2 = 0, ab = 0, d2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double x = a[i], y = b[i];
      a2 += x * x;
      b2 += y * y;
      ab += x * y;
      d2 += (x - y) * (x - y);
    }
    const double eta = 1e-3;
    const double beta = std::clamp((b2 - ab) / d2, 0.0, 1.0);
    const double mix2 = beta * beta * a2 + (1 - beta) * (1 - beta) * b2 + 2 * beta * (1 - beta) * ab;
    const LossChange lc = loss_change(&a, &b, eta);
    INFO("n = " << n);
    CHECK(lc.which == LossChangeCase::regular);
    CHECK(lc.beta == Approx(beta).epsilon(1e-5));
    CHECK(lc.delta_loss == Approx(-eta * mix2).epsilon(1e-5));
    const LossChange unseen = loss_change(nullptr, &b, eta);
    CHECK(unseen.delta_loss == Approx(-eta * b2).epsilon(1e-5));
  }
}
