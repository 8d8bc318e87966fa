// Greedy k-center with an incremental min-distance array, and k-means++/Lloyd (see kcenter.h).
#include "baselines/kcenter.h"

#include "core/seeds.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace lb {

DistanceMetric parse_distance_metric(const std::string& name) {
  if (name == "l2") return DistanceMetric::l2;
  if (name == "cosine") return DistanceMetric::cosine;
  throw std::invalid_argument("unknown k-center distance '" + name + "'; choose l2 or cosine");
}

namespace {

torch::Tensor squared_l2(const torch::Tensor& a, const torch::Tensor& b) {
  auto a2 = a.pow(2).sum(1, /*keepdim=*/true);          // [A, 1]
  auto b2 = b.pow(2).sum(1, /*keepdim=*/true).t();      // [1, B]
  return (a2 + b2 - 2.0 * torch::mm(a, b.t())).clamp_min(0.0);
}

torch::Tensor unit_rows(const torch::Tensor& x) { return x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12); }

// Distance on rows that were already prepared (unit rows for cosine).
torch::Tensor prepared_distance(const torch::Tensor& a, const torch::Tensor& b, DistanceMetric metric) {
  if (metric == DistanceMetric::l2) return squared_l2(a, b).sqrt();
  return (1.0 - torch::mm(a, b.t())).clamp(0.0, 2.0);
}

torch::Tensor index_rows(const torch::Tensor& x, const std::vector<int64_t>& rows, int64_t begin, int64_t end) {
  std::vector<int64_t> part(rows.begin() + begin, rows.begin() + end);
  auto idx = torch::tensor(part, torch::kLong).to(x.device());
  return x.index_select(0, idx);
}

// First position of the maximum (deterministic on every device).
int64_t first_argmax(const torch::Tensor& v) {
  auto m = v.max();
  auto hits = (v == m).nonzero();
  return hits[0][0].item<int64_t>();
}

}  // namespace

torch::Tensor pairwise_distance(const torch::Tensor& a, const torch::Tensor& b, DistanceMetric metric) {
  auto af = a.to(torch::kFloat32), bf = b.to(torch::kFloat32);
  if (metric == DistanceMetric::cosine) return prepared_distance(unit_rows(af), unit_rows(bf), metric);
  return prepared_distance(af, bf, metric);
}

KCenterResult kcenter_greedy(const torch::Tensor& embeddings, const std::vector<int64_t>& selected,
                             const std::vector<int64_t>& candidates, int64_t k, DistanceMetric metric,
                             int64_t block_rows) {
  torch::NoGradGuard no_grad;
  if (embeddings.dim() != 2) throw std::invalid_argument("kcenter_greedy: embeddings must be [N, D]");
  const int64_t n = embeddings.size(0);
  for (auto r : selected)
    if (r < 0 || r >= n) throw std::invalid_argument("kcenter_greedy: selected row " + std::to_string(r) + " out of range");
  for (auto r : candidates)
    if (r < 0 || r >= n) throw std::invalid_argument("kcenter_greedy: candidate row " + std::to_string(r) + " out of range");
  block_rows = std::max<int64_t>(block_rows, 1);
  KCenterResult out;
  const int64_t c = static_cast<int64_t>(candidates.size());
  k = std::min<int64_t>(std::max<int64_t>(k, 0), c);
  if (k == 0) return out;

  torch::Tensor e = embeddings.to(torch::kFloat32);
  if (metric == DistanceMetric::cosine) e = unit_rows(e);
  torch::Tensor cand = index_rows(e, candidates, 0, c);  // [C, D]
  const double inf = std::numeric_limits<double>::infinity();
  torch::Tensor min_d = torch::full({c}, inf, cand.options());

  // Min distance of every candidate to the selected set, in [block x block] tiles.
  const int64_t s = static_cast<int64_t>(selected.size());
  for (int64_t sb = 0; sb < s; sb += block_rows) {
    torch::Tensor sel = index_rows(e, selected, sb, std::min(s, sb + block_rows));
    for (int64_t cb = 0; cb < c; cb += block_rows) {
      int64_t ce = std::min(c, cb + block_rows);
      auto d = std::get<0>(prepared_distance(cand.slice(0, cb, ce), sel, metric).min(1));
      min_d.slice(0, cb, ce).copy_(torch::minimum(min_d.slice(0, cb, ce), d));
    }
  }

  auto add_pick = [&](int64_t j, double dist) {
    out.picked.push_back(candidates[j]);
    out.pick_distance.push_back(dist);
    auto d = prepared_distance(cand, cand.slice(0, j, j + 1), metric).squeeze(1);  // O(C * D)
    min_d = torch::minimum(min_d, d);
    min_d.index_put_({j}, -inf);  // never again
  };

  if (s == 0) {  // no centre yet: start from the candidate farthest from the mean
    auto mean = cand.mean(0, /*keepdim=*/true);
    if (metric == DistanceMetric::cosine) mean = unit_rows(mean);
    auto d = prepared_distance(cand, mean, metric).squeeze(1);
    int64_t j = first_argmax(d);
    add_pick(j, d[j].item<double>());
  }
  while (static_cast<int64_t>(out.picked.size()) < k) {
    int64_t j = first_argmax(min_d);
    add_pick(j, min_d[j].item<double>());
  }
  return out;
}

std::vector<int64_t> kmeans_assign(const torch::Tensor& embeddings, int64_t k, int iterations, uint64_t seed,
                                   int64_t block_rows) {
  torch::NoGradGuard no_grad;
  if (embeddings.dim() != 2) throw std::invalid_argument("kmeans_assign: embeddings must be [N, D]");
  const int64_t n = embeddings.size(0);
  if (n == 0) return {};
  k = std::max<int64_t>(1, std::min(k, n));
  block_rows = std::max<int64_t>(block_rows, 1);
  torch::Tensor x = embeddings.to(torch::kFloat32);
  Rng rng = Rng::derive(seed, "kmeans++");

  // k-means++ seeding: each next centre drawn with probability proportional to D(x)^2.
  std::vector<int64_t> centre_rows{static_cast<int64_t>(rng.below(n))};
  torch::Tensor d2 = squared_l2(x, x.slice(0, centre_rows[0], centre_rows[0] + 1)).squeeze(1);
  while (static_cast<int64_t>(centre_rows.size()) < k) {
    auto w = d2.to(torch::kCPU, torch::kFloat64).contiguous();
    const double* p = w.data_ptr<double>();
    double total = 0;
    for (int64_t i = 0; i < n; ++i) total += p[i];
    int64_t pick = static_cast<int64_t>(rng.below(n));
    if (total > 0) {
      double u = rng.uniform() * total, acc = 0;
      for (int64_t i = 0; i < n; ++i) {
        acc += p[i];
        if (acc > u && p[i] > 0) {
          pick = i;
          break;
        }
      }
    }
    centre_rows.push_back(pick);
    d2 = torch::minimum(d2, squared_l2(x, x.slice(0, pick, pick + 1)).squeeze(1));
  }
  torch::Tensor centres = x.index_select(0, torch::tensor(centre_rows, torch::kLong).to(x.device())).clone();

  torch::Tensor assign = torch::zeros({n}, torch::TensorOptions().dtype(torch::kLong).device(x.device()));
  for (int it = 0; it <= std::max(iterations, 0); ++it) {
    for (int64_t b = 0; b < n; b += block_rows) {
      int64_t e = std::min(n, b + block_rows);
      assign.slice(0, b, e).copy_(squared_l2(x.slice(0, b, e), centres).argmin(1));
    }
    if (it == iterations) break;
    auto sums = torch::zeros_like(centres).index_add_(0, assign, x);
    auto counts = torch::zeros({k}, x.options()).index_add_(0, assign, torch::ones({n}, x.options()));
    auto nonempty = counts > 0;
    auto updated = sums / counts.clamp_min(1.0).unsqueeze(1);
    centres = torch::where(nonempty.unsqueeze(1), updated, centres);  // an empty cluster keeps its centre
  }
  auto cpu = assign.to(torch::kCPU).contiguous();
  return std::vector<int64_t>(cpu.data_ptr<int64_t>(), cpu.data_ptr<int64_t>() + n);
}

}  // namespace lb
