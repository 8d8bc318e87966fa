// LEAD's fine stage: within the drawn cluster, per task, the top floor(n_{k,task} * rho) eligible
// samples by utility. Cost is linear in the cluster's size (std::nth_element on each task group's
// eligible members, then a sort of the chosen few), never a sort of the pool.
//
// Order and ties: higher utility first; equal utilities by ascending SampleId; a NaN utility ranks
// below every number. Eligible: trained fewer than max_uses times.
// Quota: floor(n * rho) with n the group's size (eligible or not), computed as floor(n*rho*(1+1e-12))
// so that e.g. 200 * 0.015 is 3 despite binary rounding. If every group's quota is 0 but the cluster
// still has eligible samples (small groups), one sample per group with an eligible member is taken
// instead (FineSelection::min_one_fallback) so that a round is never empty while the cluster is not.
// Round floor (min_total > 0, lead.min_round_samples): when the quotas add up to fewer than
// min_total samples, the round takes min(min_total, eligible) samples instead, apportioned across
// the task groups in proportion to their sizes by largest remainders (largest_remainder_quotas);
// the one-per-group fallback is then never needed. A floor below the quotas' total changes nothing.
// Whole batches (round_multiple > 0, selection.full_batch_rounds): the round's size is then moved to
// the nearest multiple of round_multiple (halves up, at least one multiple, at most the eligible
// count) and apportioned across the task groups by largest remainders in the same way, so that the
// trainer steps through whole batches only and a round costs as many optimizer steps per sample
// as the static protocol's.
#pragma once

#include "core/pool.h"

#include <cstdint>
#include <vector>

namespace lb {

struct TaskGroup {
  int task = 0;
  std::vector<SampleId> members;  // ascending SampleId
};

// Samples grouped by cluster, then by task (ascending task; tasks absent from a cluster have no
// group). Built once after clustering.
struct ClusterTaskIndex {
  std::vector<std::vector<TaskGroup>> clusters;
  // cluster_of[i] < 0 leaves sample i out (e.g. a held-out dev split).
  static ClusterTaskIndex build(const std::vector<int>& cluster_of, const std::vector<int>& task_of, int num_clusters,
                                int num_tasks);
  int64_t cluster_size(int k) const;
};

struct FineSelection {
  std::vector<SampleId> ids;                   // group by group (ascending task), best first within a group
  std::vector<std::pair<int, int64_t>> per_task;  // (task, number selected) for each group with a selection
  int64_t eligible = 0;                        // eligible samples in the cluster before this round
  bool min_one_fallback = false;
  bool floor_applied = false;                  // the round floor replaced the floor(n * rho) quotas
  bool batch_rounded = false;                  // whole batches replaced the quotas' total
  int64_t quota_total = 0;                     // sum of floor(n * rho) (capped by eligible) before either rule
};

int64_t group_quota(int64_t group_size, double rho);

// A candidate copied out of the pool-sized arrays, so that the partial sort reads contiguous memory.
struct FineCandidate {
  double utility;
  SampleId id;
};
// Reused between calls (no allocation per round once warm).
struct FineSelectScratch {
  std::vector<FineCandidate> candidates;  // every group's eligible members, group after group
  std::vector<int64_t> begin;             // per group: offset of its candidates (size groups + 1)
};

// Hamilton's method: `seats` apportioned in proportion to `sizes`, each group capped at its
// `capacity`. Every group first gets floor(seats * size / total); the seats left go one each to the
// largest remainders (ties: larger group, then lower index). A group whose share exceeds its
// capacity keeps its capacity and the rest is apportioned again over the others. The result sums to
// min(seats, sum of capacities). sizes and capacity have the same length; sizes are >= 0.
std::vector<int64_t> largest_remainder_quotas(const std::vector<int64_t>& sizes, const std::vector<int64_t>& capacity,
                                              int64_t seats);

// utility and uses are pool-sized arrays indexed by SampleId. One pass reads each member's uses and
// utility once; the partial sorts then run on the copied candidates.
// Eligible: min_uses <= uses < max_uses (min_uses = 1 restricts a round to samples already trained).
FineSelection fine_select(const std::vector<TaskGroup>& groups, const double* utility, const int32_t* uses,
                          int max_uses, double rho, FineSelectScratch& scratch, int min_uses = 0,
                          int64_t min_total = 0, int64_t round_multiple = 0);

// The whole-batch round size for `total` samples: the nearest multiple of `multiple` (halves up),
// at least `multiple`, at most `cap`. multiple <= 0: total unchanged.
int64_t whole_batch_round_size(int64_t total, int64_t multiple, int64_t cap);

// True when a ranks before b: higher utility, then lower id; NaN last.
inline bool utility_ranks_before(double ua, SampleId a, double ub, SampleId b) {
  const bool na = ua != ua, nb = ub != ub;
  if (na != nb) return nb;
  if (!na && ua != ub) return ua > ub;
  return a < b;
}

}  // namespace lb
