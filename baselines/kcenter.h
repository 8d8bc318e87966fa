// Greedy k-center (farthest-point) selection for DiverseEvol and a small k-means for the IFD warm-up
// subset, both on embedding matrices with blocked torch distance computations.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

enum class DistanceMetric { l2, cosine };
DistanceMetric parse_distance_metric(const std::string& name);  // "l2" | "cosine"; throws naming the choices

// Distances [A, B] between the rows of a [A, D] and b [B, D] (float32, any device).
torch::Tensor pairwise_distance(const torch::Tensor& a, const torch::Tensor& b, DistanceMetric metric);

struct KCenterResult {
  std::vector<int64_t> picked;        // rows of `embeddings`, in pick order
  std::vector<double> pick_distance;  // each pick's distance to the selected set at the time it was picked
};

// Greedy k-center: starting from the rows in `selected`, repeatedly adds the row among `candidates`
// farthest from everything selected so far (ties: the earliest candidate in `candidates`).
// Cost: O(|candidates| * |selected| * D) once, in blocks of `block_rows`, to initialise the
// min-distance array, then O(|candidates| * D) per pick (an incremental min update), so
// O(N * (|selected| + k)) in all, never an N x N matrix. With no selected rows the first pick is the
// candidate farthest from the candidates' mean (the mean of unit rows for cosine).
KCenterResult kcenter_greedy(const torch::Tensor& embeddings, const std::vector<int64_t>& selected,
                             const std::vector<int64_t>& candidates, int64_t k, DistanceMetric metric,
                             int64_t block_rows = 4096);

// Lloyd's k-means with k-means++ seeding from `seed` (squared L2). Returns each row's cluster in [0, k).
std::vector<int64_t> kmeans_assign(const torch::Tensor& embeddings, int64_t k, int iterations, uint64_t seed,
                                   int64_t block_rows = 4096);

}  // namespace lb
