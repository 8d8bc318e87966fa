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

FineSelection fine_select(const std::vector<TaskGroup>& groups, const double* utility, const int32_t* uses,
                          int max_uses, double rho, FineSelectScratch& scratch, int min_uses) {
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
  if (quota_total == 0 && out.eligible > 0) {
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
