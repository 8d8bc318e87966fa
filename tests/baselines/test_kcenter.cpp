// Tests of greedy k-center (against a naive oracle and on constructed points) and of k-means.
#include "baselines/kcenter.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

using namespace lb;

namespace {

// The textbook O(N^2)-per-pick greedy k-center, the oracle for the incremental version.
std::vector<int64_t> naive_kcenter(const torch::Tensor& x, std::vector<int64_t> selected, const std::vector<int64_t>& cand,
                                   int64_t k, DistanceMetric metric) {
  auto d = pairwise_distance(x, x, metric).to(torch::kFloat64);
  auto acc = d.accessor<double, 2>();
  std::vector<int64_t> out;
  std::set<int64_t> used;
  if (selected.empty()) {
    // The candidates' mean (of unit rows for cosine), as kcenter.h documents.
    auto idx = torch::tensor(cand, torch::kLong);
    auto rows = x.index_select(0, idx);
    if (metric == DistanceMetric::cosine) rows = rows / rows.norm(2, {1}, true);
    auto mean = rows.mean(0, true);
    auto dm = pairwise_distance(x, mean, metric).to(torch::kFloat64);
    double best = -1;
    int64_t arg = -1;
    for (auto c : cand)
      if (dm[c][0].item<double>() > best) best = dm[c][0].item<double>(), arg = c;
    out.push_back(arg);
    used.insert(arg);
    selected.push_back(arg);
  }
  while (static_cast<int64_t>(out.size()) < k) {
    double best = -1;
    int64_t arg = -1;
    for (auto c : cand) {
      if (used.count(c)) continue;
      double m = std::numeric_limits<double>::infinity();
      for (auto s : selected) m = std::min(m, acc[c][s]);
      if (m > best) best = m, arg = c;
    }
    out.push_back(arg);
    used.insert(arg);
    selected.push_back(arg);
  }
  return out;
}

}  // namespace

TEST_CASE("k-center picks the far point first", "[kcenter]") {
  // Three points near the origin (one selected) and one far away.
  auto x = torch::tensor({0.0f, 0.0f, 0.1f, 0.0f, 0.0f, 0.2f, 10.0f, 10.0f}).view({4, 2});
  auto r = kcenter_greedy(x, {0}, {1, 2, 3}, 2, DistanceMetric::l2);
  REQUIRE(r.picked.size() == 2);
  CHECK(r.picked[0] == 3);
  CHECK(r.pick_distance[0] == Approx(std::sqrt(200.0)).epsilon(1e-4));
  CHECK(r.picked[1] == 2);  // 0.2 from the selected origin beats 0.1
  CHECK(r.pick_distance[1] == Approx(0.2).margin(1e-3));
}

TEST_CASE("k-center never picks a selected or repeated row and caps k", "[kcenter]") {
  auto x = torch::randn({30, 4}, torch::TensorOptions().dtype(torch::kFloat32));
  std::vector<int64_t> cand;
  for (int64_t i = 5; i < 30; ++i) cand.push_back(i);
  auto r = kcenter_greedy(x, {0, 1, 2, 3, 4}, cand, 100, DistanceMetric::l2, 7);
  CHECK(r.picked.size() == cand.size());
  std::set<int64_t> uniq(r.picked.begin(), r.picked.end());
  CHECK(uniq.size() == r.picked.size());
  CHECK(*uniq.begin() >= 5);
}

TEST_CASE("incremental k-center matches the naive oracle (l2 and cosine, blocked)", "[kcenter]") {
  torch::manual_seed(3);
  auto x = torch::randn({60, 8});
  std::vector<int64_t> cand;
  for (int64_t i = 0; i < 60; ++i)
    if (i % 7 != 0) cand.push_back(i);
  std::vector<int64_t> sel = {0, 7, 14};
  for (auto metric : {DistanceMetric::l2, DistanceMetric::cosine}) {
    auto fast = kcenter_greedy(x, sel, cand, 12, metric, /*block_rows=*/5);
    CHECK(fast.picked == naive_kcenter(x, sel, cand, 12, metric));
    auto fast0 = kcenter_greedy(x, {}, cand, 6, metric, 4);  // empty selected set
    CHECK(fast0.picked == naive_kcenter(x, {}, cand, 6, metric));
    // Pick distances never increase (farthest-first traversal).
    for (size_t i = 1; i < fast.pick_distance.size(); ++i)
      CHECK(fast.pick_distance[i] <= fast.pick_distance[i - 1] + 1e-5);
  }
}

TEST_CASE("k-center ties go to the earliest candidate", "[kcenter]") {
  // Four points at the same distance from the selected centre.
  auto x = torch::tensor({0.f, 0.f, 1.f, 0.f, -1.f, 0.f, 0.f, 1.f, 0.f, -1.f}).view({5, 2});
  auto r = kcenter_greedy(x, {0}, {3, 1, 4, 2}, 1, DistanceMetric::l2);
  CHECK(r.picked == std::vector<int64_t>{3});
  CHECK_THROWS(kcenter_greedy(x, {9}, {1}, 1, DistanceMetric::l2));
  CHECK_THROWS(parse_distance_metric("manhattan"));
}

TEST_CASE("k-means separates well-separated blobs and is deterministic for a seed", "[kcenter]") {
  torch::manual_seed(5);
  auto a = torch::randn({20, 3}) * 0.1;
  auto b = torch::randn({20, 3}) * 0.1 + 5.0;
  auto c = torch::randn({20, 3}) * 0.1 - 5.0;
  auto x = torch::cat({a, b, c});
  auto assign = kmeans_assign(x, 3, 10, 42, 16);
  REQUIRE(assign.size() == 60);
  for (int blob = 0; blob < 3; ++blob) {
    std::set<int64_t> labels(assign.begin() + blob * 20, assign.begin() + blob * 20 + 20);
    CHECK(labels.size() == 1);
  }
  std::set<int64_t> all(assign.begin(), assign.end());
  CHECK(all.size() == 3);
  CHECK(kmeans_assign(x, 3, 10, 42, 7) == assign);
}
