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
                          int max_uses, double rho, std::vector<SampleId>& scratch) {
  FineSelection out;
  auto better = [utility](SampleId a, SampleId b) {
    return utility_ranks_before(utility[a], a, utility[b], b);
  };
  std::vector<int64_t> quotas(groups.size());
  std::vector<int64_t> eligible(groups.size(), 0);
  int64_t quota_total = 0;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (SampleId id : groups[g].members) eligible[g] += uses[id] < max_uses ? 1 : 0;
    out.eligible += eligible[g];
    quotas[g] = group_quota(static_cast<int64_t>(groups[g].members.size()), rho);
    quota_total += std::min(quotas[g], eligible[g]);
  }
  if (quota_total == 0 && out.eligible > 0) {
    out.min_one_fallback = true;
    for (size_t g = 0; g < groups.size(); ++g) quotas[g] = eligible[g] > 0 ? 1 : 0;
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const int64_t q = std::min(quotas[g], eligible[g]);
    if (q <= 0) continue;
    scratch.clear();
    for (SampleId id : groups[g].members)
      if (uses[id] < max_uses) scratch.push_back(id);
    if (static_cast<int64_t>(scratch.size()) > q) std::nth_element(scratch.begin(), scratch.begin() + q, scratch.end(), better);
    std::sort(scratch.begin(), scratch.begin() + q, better);
    out.ids.insert(out.ids.end(), scratch.begin(), scratch.begin() + q);
    out.per_task.emplace_back(groups[g].task, q);
  }
  return out;
}

}  // namespace lb
