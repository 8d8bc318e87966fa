// 1-D k-means for LEAD's difficulty clusters: k-means++ seeding from a given Rng, then Lloyd
// iterations until no label changes. Deterministic for a seed; clusters are numbered by ascending
// centroid, so cluster 0 holds the easiest (lowest-IFD) samples.
//
// Fallbacks (reported in KMeans1D::notes, never a crash):
//   - k larger than the number of distinct values: k is lowered to that number (each distinct
//     value then is its own cluster's centroid), e.g. all-zero IFD gives a single cluster;
//   - a cluster that empties during Lloyd keeps its previous centroid;
//   - non-finite values are treated as 0 (callers map invalid IFD to 0 before this anyway).
#pragma once

#include "core/seeds.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct KMeans1D {
  std::vector<double> centroids;  // ascending; size = effective k
  std::vector<int> labels;        // per value: index into centroids
  std::vector<int64_t> sizes;     // per cluster: number of values
  int requested_k = 0;
  int iterations = 0;             // Lloyd iterations run
  bool converged = false;
  std::vector<std::string> notes;  // fallbacks taken, human-readable
};

// values: the points; k >= 1; rng: k-means++ seeding. Empty input gives zero clusters.
KMeans1D kmeans_1d(const std::vector<double>& values, int k, Rng rng, int max_iterations = 100);

}  // namespace lb
