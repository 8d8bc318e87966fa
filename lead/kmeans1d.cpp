// 1-D k-means with k-means++ seeding; see kmeans1d.h. Assignment uses the midpoints between the
// sorted centroids (binary search), so a Lloyd iteration costs O(n log k).
#include "lead/kmeans1d.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace lb {
namespace {

// Label of x: index of the nearest centroid (ties go to the lower centroid).
inline int nearest(const std::vector<double>& midpoints, double x) {
  return static_cast<int>(std::lower_bound(midpoints.begin(), midpoints.end(), x) - midpoints.begin());
}

}  // namespace

KMeans1D kmeans_1d(const std::vector<double>& raw_values, int k, Rng rng, int max_iterations) {
  if (k < 1) throw std::invalid_argument("kmeans_1d: k must be >= 1, got " + std::to_string(k));
  if (max_iterations < 1) throw std::invalid_argument("kmeans_1d: max_iterations must be >= 1");
  KMeans1D out;
  out.requested_k = k;
  const size_t n = raw_values.size();
  if (n == 0) {
    out.notes.push_back("no values: zero clusters");
    return out;
  }

  std::vector<double> values(raw_values);
  int64_t non_finite = 0;
  for (double& v : values)
    if (!std::isfinite(v)) {
      v = 0.0;
      ++non_finite;
    }
  if (non_finite > 0)
    out.notes.push_back(std::to_string(non_finite) + " non-finite values treated as 0");

  // Effective k: at most the number of distinct values.
  std::vector<double> sorted(values);
  std::sort(sorted.begin(), sorted.end());
  const int64_t distinct = std::unique(sorted.begin(), sorted.end()) - sorted.begin();
  if (distinct < k) {
    out.notes.push_back("k = " + std::to_string(k) + " exceeds the " + std::to_string(distinct) +
                        " distinct values; using k = " + std::to_string(distinct));
    k = static_cast<int>(distinct);
  }

  // k-means++ seeding: the first centroid uniformly, each next one with probability ~ D(x)^2.
  std::vector<double> centroids;
  centroids.reserve(k);
  centroids.push_back(values[rng.below(n)]);
  std::vector<double> d2(n);
  for (size_t i = 0; i < n; ++i) d2[i] = (values[i] - centroids[0]) * (values[i] - centroids[0]);
  while (static_cast<int>(centroids.size()) < k) {
    double total = 0;
    for (double d : d2) total += d;
    const double target = rng.uniform() * total;
    double acc = 0;
    size_t pick = n;
    for (size_t i = 0; i < n; ++i) {
      if (d2[i] <= 0) continue;
      acc += d2[i];
      pick = i;  // the last positive-distance point covers rounding at the top end
      if (target < acc) break;
    }
    const double c = values[pick];
    centroids.push_back(c);
    for (size_t i = 0; i < n; ++i) d2[i] = std::min(d2[i], (values[i] - c) * (values[i] - c));
  }

  // Lloyd iterations on sorted centroids.
  std::vector<int> labels(n, -1);
  std::vector<double> midpoints;
  std::vector<double> sums(k);
  std::vector<int64_t> counts(k);
  int64_t emptied = 0;
  for (int it = 0; it < max_iterations; ++it) {
    std::sort(centroids.begin(), centroids.end());
    midpoints.resize(k - 1);
    for (int c = 0; c + 1 < k; ++c) midpoints[c] = 0.5 * (centroids[c] + centroids[c + 1]);
    bool changed = false;
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (size_t i = 0; i < n; ++i) {
      const int l = nearest(midpoints, values[i]);
      if (l != labels[i]) {
        labels[i] = l;
        changed = true;
      }
      sums[l] += values[i];
      ++counts[l];
    }
    out.iterations = it + 1;
    if (!changed) {
      out.converged = true;
      break;
    }
    for (int c = 0; c < k; ++c) {
      if (counts[c] > 0) centroids[c] = sums[c] / counts[c];
      else ++emptied;  // keeps its previous centroid
    }
  }
  if (emptied > 0)
    out.notes.push_back(std::to_string(emptied) + " empty-cluster events; those clusters kept their centroid");

  // Labels are the last assignment; each centroid is the mean of its cluster (or its kept value
  // if the cluster is empty).
  out.centroids = centroids;
  out.labels = std::move(labels);
  out.sizes.assign(k, 0);
  for (int l : out.labels) ++out.sizes[l];
  if (!out.converged) out.notes.push_back("k-means hit the iteration cap before converging");
  return out;
}

}  // namespace lb
