// Pure scoring and ranking functions of the baseline selectors (see ranking.h).
#include "baselines/ranking.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace lb {

std::vector<SampleId> top_k_by_score(const std::vector<SampleId>& candidates, const std::vector<double>& scores,
                                     int64_t k, bool descending) {
  if (scores.size() != candidates.size())
    throw std::invalid_argument("top_k_by_score: " + std::to_string(scores.size()) + " scores for " +
                                std::to_string(candidates.size()) + " candidates");
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto better = [&](size_t a, size_t b) {
    double sa = scores[a], sb = scores[b];
    bool na = std::isnan(sa), nb = std::isnan(sb);
    if (na != nb) return nb;  // numbers before NaN
    if (!na && sa != sb) return descending ? sa > sb : sa < sb;
    return candidates[a] < candidates[b];
  };
  int64_t n = std::min<int64_t>(std::max<int64_t>(k, 0), static_cast<int64_t>(order.size()));
  std::partial_sort(order.begin(), order.begin() + n, order.end(), better);
  std::vector<SampleId> out;
  out.reserve(n);
  for (int64_t i = 0; i < n; ++i) out.push_back(candidates[order[i]]);
  return out;
}

std::vector<double> ifd_scores(const std::vector<float>& conditioned_loss, const std::vector<float>& response_only_loss) {
  if (conditioned_loss.size() != response_only_loss.size())
    throw std::invalid_argument("ifd_scores: loss vectors differ in length");
  std::vector<double> out(conditioned_loss.size(), std::nan(""));
  for (size_t i = 0; i < out.size(); ++i) {
    double c = conditioned_loss[i], u = response_only_loss[i];
    if (std::isfinite(c) && std::isfinite(u) && u > 0) out[i] = c / u;
  }
  return out;
}

std::vector<SampleId> select_top_ifd(const std::vector<SampleId>& candidates, const std::vector<double>& ifd,
                                     int64_t k, int64_t* filled) {
  if (ifd.size() != candidates.size()) throw std::invalid_argument("select_top_ifd: scores and candidates differ in length");
  std::vector<SampleId> below, above, invalid;
  std::vector<double> below_s, above_s;
  for (size_t i = 0; i < candidates.size(); ++i) {
    double s = ifd[i];
    if (std::isnan(s)) {
      invalid.push_back(candidates[i]);
    } else if (s < 1.0) {
      below.push_back(candidates[i]);
      below_s.push_back(s);
    } else {
      above.push_back(candidates[i]);
      above_s.push_back(s);
    }
  }
  std::vector<SampleId> out = top_k_by_score(below, below_s, k, /*descending=*/true);
  int64_t rest = k - static_cast<int64_t>(out.size());
  int64_t fill = 0;
  if (rest > 0) {
    for (SampleId id : top_k_by_score(above, above_s, rest, /*descending=*/false)) out.push_back(id);
    rest = k - static_cast<int64_t>(out.size());
    std::sort(invalid.begin(), invalid.end());
    for (int64_t i = 0; i < rest && i < static_cast<int64_t>(invalid.size()); ++i) out.push_back(invalid[i]);
    fill = static_cast<int64_t>(out.size()) - static_cast<int64_t>(std::min<size_t>(below.size(), k));
  }
  if (filled) *filled = fill;
  return out;
}

double prompt_uncertainty(float original_loss, const std::vector<float>& perturbed_losses) {
  if (!std::isfinite(original_loss)) return std::nan("");
  double p0 = std::exp(-static_cast<double>(original_loss));
  double sum = 0;
  int64_t n = 0;
  for (float l : perturbed_losses) {
    if (!std::isfinite(l)) continue;
    sum += std::fabs(std::exp(-static_cast<double>(l)) - p0);
    ++n;
  }
  return n ? sum / n : std::nan("");
}

std::vector<int64_t> split_evenly(int64_t total, int parts) {
  if (parts <= 0) throw std::invalid_argument("split_evenly: parts must be positive, got " + std::to_string(parts));
  std::vector<int64_t> out(parts, total / parts);
  for (int64_t i = 0; i < total % parts; ++i) out[i] += 1;
  return out;
}

std::vector<int64_t> split_in_batches(int64_t total, int parts, int64_t batch) {
  if (parts <= 0) throw std::invalid_argument("split_in_batches: parts must be positive, got " + std::to_string(parts));
  if (batch <= 0 || total / batch < parts) return split_evenly(total, parts);
  std::vector<int64_t> out = split_evenly(total / batch, parts);
  for (int64_t& n : out) n *= batch;
  out.back() += total % batch;
  return out;
}

}  // namespace lb
