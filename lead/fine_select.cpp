// Per-task top-utility selection inside one cluster; see fine_select.h.
#include "lead/fine_select.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace lb {

ClusterTaskIndex ClusterTaskIndex::build(const std::vector<int>& cluster_of, const std::vector<int>& task_of,
                                         int num_clusters, int num_tasks) {
  if (cluster_of.size() != task_of.size())
    throw std::invalid_argument("ClusterTaskIndex::build: cluster and task arrays differ in length");
  // Count first so that every member list is allocated once.
  std::vector<int64_t> counts(static_cast<size_t>(num_clusters) * num_tasks, 0);
  for (size_t i = 0; i < cluster_of.size(); ++i) {
    const int k = cluster_of[i];
    if (k < 0) continue;
    const int t = task_of[i];
    if (k >= num_clusters || t < 0 || t >= num_tasks)
      throw std::invalid_argument("ClusterTaskIndex::build: sample " + std::to_string(i) + " has cluster " +
                                  std::to_string(k) + " / task " + std::to_string(t) + " out of range");
    ++counts[static_cast<size_t>(k) * num_tasks + t];
  }
  ClusterTaskIndex index;
  index.clusters.resize(num_clusters);
  std::vector<int> slot(static_cast<size_t>(num_clusters) * num_tasks, -1);
  for (int k = 0; k < num_clusters; ++k)
    for (int t = 0; t < num_tasks; ++t) {
      const int64_t c = counts[static_cast<size_t>(k) * num_tasks + t];
      if (c == 0) continue;  // a task absent from this cluster gets no group
      slot[static_cast<size_t>(k) * num_tasks + t] = static_cast<int>(index.clusters[k].size());
      index.clusters[k].push_back(TaskGroup{t, {}});
      index.clusters[k].back().members.reserve(c);
    }
  for (size_t i = 0; i < cluster_of.size(); ++i) {
    const int k = cluster_of[i];
    if (k < 0) continue;
    index.clusters[k][slot[static_cast<size_t>(k) * num_tasks + task_of[i]]].members.push_back(
        static_cast<SampleId>(i));
  }
  return index;
}

int64_t ClusterTaskIndex::cluster_size(int k) const {
  int64_t n = 0;
  for (const auto& g : clusters[k]) n += static_cast<int64_t>(g.members.size());
  return n;
}

int64_t group_quota(int64_t group_size, double rho) {
  return static_cast<int64_t>(std::floor(static_cast<double>(group_size) * rho * (1.0 + 1e-12)));
}

std::vector<int64_t> largest_remainder_quotas(const std::vector<int64_t>& sizes, const std::vector<int64_t>& capacity,
                                              int64_t seats) {
  if (sizes.size() != capacity.size())
    throw std::invalid_argument("largest_remainder_quotas: sizes and capacity differ in length");
  const size_t n = sizes.size();
  std::vector<int64_t> out(n, 0);
  std::vector<char> active(n, 0);
  int64_t capacity_total = 0;
  for (size_t g = 0; g < n; ++g) {
    if (sizes[g] < 0 || capacity[g] < 0) throw std::invalid_argument("largest_remainder_quotas: negative size or capacity");
    active[g] = capacity[g] > 0 ? 1 : 0;
    capacity_total += capacity[g];
  }
  int64_t left = std::min(std::max<int64_t>(seats, 0), capacity_total);
  while (left > 0) {
    int64_t total = 0;
    for (size_t g = 0; g < n; ++g)
      if (active[g]) total += sizes[g];
    // Active groups of size 0 (possible only if every active group is empty) share equally.
    auto weight = [&](size_t g) { return total > 0 ? sizes[g] : int64_t{1}; };
    int64_t weight_total = 0;
    for (size_t g = 0; g < n; ++g)
      if (active[g]) weight_total += weight(g);
    std::vector<int64_t> share(n, 0);
    std::vector<std::pair<int64_t, size_t>> remainders;  // (remainder numerator, group)
    int64_t given = 0;
    for (size_t g = 0; g < n; ++g) {
      if (!active[g]) continue;
      // Exact integer arithmetic: left * weight = share * weight_total + remainder.
      const __int128 num = static_cast<__int128>(left) * weight(g);
      share[g] = static_cast<int64_t>(num / weight_total);
      remainders.emplace_back(static_cast<int64_t>(num % weight_total), g);
      given += share[g];
    }
    std::sort(remainders.begin(), remainders.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first > b.first;
      if (sizes[a.second] != sizes[b.second]) return sizes[a.second] > sizes[b.second];
      return a.second < b.second;
    });
    for (size_t i = 0; given < left && i < remainders.size(); ++i, ++given) ++share[remainders[i].second];
    // Groups over capacity keep their capacity; the others' shares are recomputed without them.
    bool capped = false;
    for (size_t g = 0; g < n; ++g)
      if (active[g] && out[g] + share[g] >= capacity[g]) {
        left -= capacity[g] - out[g];
        out[g] = capacity[g];
        active[g] = 0;
        capped = true;
      }
    if (!capped) {
      for (size_t g = 0; g < n; ++g)
        if (active[g]) out[g] += share[g];
      left = 0;
    }
  }
  return out;
}

int64_t whole_batch_round_size(int64_t total, int64_t multiple, int64_t cap) {
  if (multiple <= 0) return total;
  int64_t size = (total + multiple / 2) / multiple * multiple;
  size = std::max(size, multiple);
  return std::min(size, cap);
}

FineSelection fine_select(const std::vector<TaskGroup>& groups, const double* utility, const int32_t* uses,
                          int max_uses, double rho, FineSelectScratch& scratch, int min_uses, int64_t min_total,
                          int64_t round_multiple) {
  FineSelection out;
  auto better = [](const FineCandidate& a, const FineCandidate& b) {
    return utility_ranks_before(a.utility, a.id, b.utility, b.id);
  };
  // One pass: copy each group's eligible members with their utility.
  scratch.candidates.clear();
  scratch.begin.assign(groups.size() + 1, 0);
  for (size_t g = 0; g < groups.size(); ++g) {
    scratch.begin[g] = static_cast<int64_t>(scratch.candidates.size());
    for (SampleId id : groups[g].members)
      if (uses[id] < max_uses && uses[id] >= min_uses) scratch.candidates.push_back(FineCandidate{utility[id], id});
  }
  scratch.begin[groups.size()] = static_cast<int64_t>(scratch.candidates.size());
  out.eligible = static_cast<int64_t>(scratch.candidates.size());

  std::vector<int64_t> quotas(groups.size());
  int64_t quota_total = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const int64_t eligible = scratch.begin[g + 1] - scratch.begin[g];
    quotas[g] = std::min(group_quota(static_cast<int64_t>(groups[g].members.size()), rho), eligible);
    quota_total += quotas[g];
  }
  out.quota_total = quota_total;
  // Both rules below apportion a round size over the groups in proportion to their sizes.
  auto apportion = [&](int64_t seats) {
    std::vector<int64_t> sizes(groups.size()), capacity(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
      sizes[g] = static_cast<int64_t>(groups[g].members.size());
      capacity[g] = scratch.begin[g + 1] - scratch.begin[g];
    }
    quotas = largest_remainder_quotas(sizes, capacity, seats);
  };
  int64_t round_size = quota_total;
  if (min_total > 0 && quota_total < std::min(min_total, out.eligible)) {
    round_size = std::min(min_total, out.eligible);
    out.floor_applied = true;
  }
  if (round_multiple > 0 && out.eligible > 0) {
    const int64_t whole = whole_batch_round_size(round_size, round_multiple, out.eligible);
    if (whole != round_size) {
      round_size = whole;
      out.batch_rounded = true;
    }
  }
  if (out.floor_applied || out.batch_rounded) {
    apportion(round_size);
  } else if (quota_total == 0 && out.eligible > 0) {
    out.min_one_fallback = true;
    for (size_t g = 0; g < groups.size(); ++g) quotas[g] = scratch.begin[g + 1] > scratch.begin[g] ? 1 : 0;
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const int64_t q = quotas[g];
    if (q <= 0) continue;
    auto first = scratch.candidates.begin() + scratch.begin[g];
    auto last = scratch.candidates.begin() + scratch.begin[g + 1];
    if (last - first > q) std::nth_element(first, first + q, last, better);
    std::sort(first, first + q, better);
    for (auto it = first; it != first + q; ++it) out.ids.push_back(it->id);
    out.per_task.emplace_back(groups[g].task, q);
  }
  return out;
}

}  // namespace lb
