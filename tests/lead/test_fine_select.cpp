// Fine selection: per-task quotas, eligibility, deterministic ties, and agreement with a full sort.
#include "lead/fine_select.h"
#include "core/seeds.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace lb;

namespace {

// The naive oracle: sort each group's eligible members completely.
std::vector<SampleId> oracle(const std::vector<TaskGroup>& groups, const std::vector<double>& u,
                             const std::vector<int32_t>& uses, int max_uses, double rho) {
  std::vector<SampleId> out;
  for (const auto& g : groups) {
    std::vector<SampleId> c;
    for (SampleId id : g.members)
      if (uses[id] < max_uses) c.push_back(id);
    std::sort(c.begin(), c.end(), [&](SampleId a, SampleId b) { return utility_ranks_before(u[a], a, u[b], b); });
    const size_t q = std::min<size_t>(c.size(), static_cast<size_t>(group_quota(g.members.size(), rho)));
    out.insert(out.end(), c.begin(), c.begin() + q);
  }
  return out;
}

}  // namespace

TEST_CASE("cluster x task index groups samples and skips tasks absent from a cluster", "[lead][fine]") {
  //            id: 0  1  2  3  4  5   6
  std::vector<int> cluster = {0, 1, 0, 1, 0, -1, 1};
  std::vector<int> task = {0, 0, 2, 2, 0, 1, 2};
  ClusterTaskIndex idx = ClusterTaskIndex::build(cluster, task, 2, 3);
  REQUIRE(idx.clusters.size() == 2);
  REQUIRE(idx.clusters[0].size() == 2);  // tasks 0 and 2; task 1 only in the held-out sample
  CHECK(idx.clusters[0][0].task == 0);
  CHECK(idx.clusters[0][0].members == std::vector<SampleId>{0, 4});
  CHECK(idx.clusters[0][1].task == 2);
  CHECK(idx.clusters[0][1].members == std::vector<SampleId>{2});
  CHECK(idx.clusters[1][1].members == std::vector<SampleId>{3, 6});
  CHECK(idx.cluster_size(1) == 3);
  CHECK_THROWS(ClusterTaskIndex::build({0, 5}, {0, 0}, 2, 1));
}

TEST_CASE("quota is floor(n * rho), robust to binary rounding", "[lead][fine]") {
  CHECK(group_quota(200, 0.015) == 3);
  CHECK(group_quota(199, 0.015) == 2);
  CHECK(group_quota(66, 0.015) == 0);
  CHECK(group_quota(67, 0.015) == 1);
  CHECK(group_quota(1000, 0.1) == 100);
  CHECK(group_quota(10, 0.3) == 3);
}

TEST_CASE("fine selection takes the top utility per task, respects eligibility, breaks ties by id", "[lead][fine]") {
  // Task 0: ids 0..9, task 1: ids 10..19. rho = 0.3 -> 3 per task.
  std::vector<TaskGroup> groups(2);
  groups[0].task = 0;
  groups[1].task = 1;
  for (SampleId i = 0; i < 10; ++i) groups[0].members.push_back(i);
  for (SampleId i = 10; i < 20; ++i) groups[1].members.push_back(i);
  std::vector<double> u(20, 1.0);
  u[3] = 9;
  u[7] = 8;
  u[5] = 8;  // tie with 7: id 5 first
  u[1] = 7;
  u[12] = 5;
  u[15] = std::nan("");  // ranks last
  std::vector<int32_t> uses(20, 0);
  uses[3] = 4;  // trained max_uses times: not eligible
  FineSelectScratch scratch;
  FineSelection s = fine_select(groups, u.data(), uses.data(), 4, 0.3, scratch);
  CHECK(s.ids == std::vector<SampleId>{5, 7, 1, 12, 10, 11});  // task 1: 12 then ties 10, 11 by id
  REQUIRE(s.per_task.size() == 2);
  CHECK(s.per_task[0] == std::pair<int, int64_t>{0, 3});
  CHECK(s.per_task[1] == std::pair<int, int64_t>{1, 3});
  CHECK(s.eligible == 19);
  CHECK(!s.min_one_fallback);

  // Fewer eligible than the quota: take what is left.
  std::fill(uses.begin(), uses.begin() + 9, 4);
  s = fine_select(groups, u.data(), uses.data(), 4, 0.3, scratch);
  CHECK(s.ids.front() == 9);
  CHECK(s.per_task[0] == std::pair<int, int64_t>{0, 1});
}

TEST_CASE("fine selection falls back to one per task when every quota floors to zero", "[lead][fine]") {
  std::vector<TaskGroup> groups = {{0, {0, 1, 2}}, {3, {3, 4}}};
  std::vector<double> u = {1, 3, 2, 0.5, 0.7};
  std::vector<int32_t> uses(5, 0);
  uses[4] = 1;
  FineSelectScratch scratch;
  FineSelection s = fine_select(groups, u.data(), uses.data(), 4, 0.015, scratch);
  CHECK(s.min_one_fallback);
  CHECK(s.ids == std::vector<SampleId>{1, 4});
  // Nothing eligible: empty, no fallback.
  std::vector<int32_t> spent(5, 4);
  s = fine_select(groups, u.data(), spent.data(), 4, 0.015, scratch);
  CHECK(s.ids.empty());
  CHECK(s.eligible == 0);
}

TEST_CASE("fine selection with min_uses = 1 only takes samples already trained", "[lead][fine]") {
  std::vector<TaskGroup> groups = {{0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}};
  std::vector<double> u = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  std::vector<int32_t> uses = {0, 0, 1, 4, 2, 0, 3, 0, 1, 0};
  FineSelectScratch scratch;
  FineSelection s = fine_select(groups, u.data(), uses.data(), 4, 0.3, scratch, 1);
  CHECK(s.eligible == 4);                          // ids 2, 4, 6, 8 (id 3 is spent)
  CHECK(s.ids == std::vector<SampleId>{2, 4, 6});  // top 3 of them by utility
}

TEST_CASE("fine selection equals a full sort on random utilities with many ties", "[lead][fine]") {
  Rng rng(17);
  const int n = 5000;
  std::vector<int> cluster(n), task(n);
  std::vector<double> u(n);
  std::vector<int32_t> uses(n);
  for (int i = 0; i < n; ++i) {
    cluster[i] = static_cast<int>(rng.below(3));
    task[i] = static_cast<int>(rng.below(5));
    u[i] = static_cast<double>(rng.below(50)) / 10.0;  // coarse: many ties
    uses[i] = static_cast<int32_t>(rng.below(6));
  }
  ClusterTaskIndex idx = ClusterTaskIndex::build(cluster, task, 3, 5);
  FineSelectScratch scratch;
  for (int k = 0; k < 3; ++k) {
    FineSelection s = fine_select(idx.clusters[k], u.data(), uses.data(), 4, 0.05, scratch);
    CHECK(s.ids == oracle(idx.clusters[k], u, uses, 4, 0.05));
  }
}

TEST_CASE("largest-remainder quotas: hand-computed apportionments", "[lead][fine][floor]") {
  // 16 seats over sizes 50/30/20 (total 100): exact shares 8, 4.8, 3.2 -> floors 8, 4, 3 (15); the one
  // seat left goes to the largest remainder (.8): 8, 5, 3.
  CHECK(largest_remainder_quotas({50, 30, 20}, {50, 30, 20}, 16) == std::vector<int64_t>{8, 5, 3});
  // Group 1 can give only 2: it keeps 2, and 14 seats go over 50/20 (70): 10, 4.
  CHECK(largest_remainder_quotas({50, 30, 20}, {50, 2, 20}, 16) == std::vector<int64_t>{10, 2, 4});
  // Equal remainders and sizes: the lower index first. 16 over 10/10/10: 5.33 each -> 5, 5, 5 + 1.
  CHECK(largest_remainder_quotas({10, 10, 10}, {10, 10, 10}, 16) == std::vector<int64_t>{6, 5, 5});
  // Equal remainders, different sizes: the larger group first. 5 seats over 3/6/1 (10): 1.5, 3, 0.5
  // -> 1, 3, 0 (4); remainders .5 (size 3) and .5 (size 1): the size-3 group gets the seat.
  CHECK(largest_remainder_quotas({3, 6, 1}, {3, 6, 1}, 5) == std::vector<int64_t>{2, 3, 0});
  // More seats than capacity: everything.
  CHECK(largest_remainder_quotas({4, 2}, {1, 2}, 16) == std::vector<int64_t>{1, 2});
  CHECK(largest_remainder_quotas({4, 2}, {4, 2}, 0) == std::vector<int64_t>{0, 0});
  CHECK_THROWS(largest_remainder_quotas({1, 2}, {1}, 3));
}

TEST_CASE("the round floor fills a batch by largest remainders instead of one per group", "[lead][fine][floor]") {
  // Sizes 5 and 3 at rho 0.015: every quota floors to 0. Legacy: one per group (2 samples). With a
  // floor of 4: 4 * 5/8 = 2.5 and 4 * 3/8 = 1.5 -> 2 and 1, then the equal remainders .5/.5 give the
  // seat to the larger group: 3 and 1.
  std::vector<TaskGroup> groups = {{0, {0, 1, 2, 3, 4}}, {1, {5, 6, 7}}};
  std::vector<double> u = {1, 5, 3, 2, 4, 0.1, 0.9, 0.5};
  std::vector<int32_t> uses(8, 0);
  FineSelectScratch scratch;
  FineSelection legacy = fine_select(groups, u.data(), uses.data(), 4, 0.015, scratch);
  CHECK(legacy.min_one_fallback);
  CHECK_FALSE(legacy.floor_applied);
  CHECK(legacy.ids == std::vector<SampleId>{1, 6});
  FineSelection floored = fine_select(groups, u.data(), uses.data(), 4, 0.015, scratch, 0, 4);
  CHECK_FALSE(floored.min_one_fallback);
  CHECK(floored.floor_applied);
  CHECK(floored.ids == std::vector<SampleId>{1, 4, 2, 6});  // best first within each group
  CHECK(floored.per_task == std::vector<std::pair<int, int64_t>>{{0, 3}, {1, 1}});
  // Fewer eligible than the floor: all of them.
  std::vector<int32_t> most_spent(8, 4);
  most_spent[0] = 0;
  most_spent[7] = 0;
  FineSelection few = fine_select(groups, u.data(), most_spent.data(), 4, 0.015, scratch, 0, 4);
  CHECK(few.ids == std::vector<SampleId>{0, 7});
  // A floor below the quotas' total changes nothing: rho 0.5 gives 2 + 1 = 3 >= 2.
  FineSelection plain = fine_select(groups, u.data(), uses.data(), 4, 0.5, scratch);
  FineSelection low_floor = fine_select(groups, u.data(), uses.data(), 4, 0.5, scratch, 0, 2);
  CHECK_FALSE(low_floor.floor_applied);
  CHECK(low_floor.ids == plain.ids);
}

TEST_CASE("whole-batch round size: nearest multiple, halves up, at least one batch, at most the cap", "[lead][fine][batches]") {
  CHECK(whole_batch_round_size(28, 16, 1000) == 32);
  CHECK(whole_batch_round_size(24, 16, 1000) == 32);  // 1.5 batches: halves up
  CHECK(whole_batch_round_size(23, 16, 1000) == 16);
  CHECK(whole_batch_round_size(40, 16, 1000) == 48);
  CHECK(whole_batch_round_size(39, 16, 1000) == 32);
  CHECK(whole_batch_round_size(0, 16, 1000) == 16);
  CHECK(whole_batch_round_size(3, 16, 1000) == 16);
  CHECK(whole_batch_round_size(28, 16, 20) == 20);  // fewer eligible than a batch
  CHECK(whole_batch_round_size(28, 0, 1000) == 28);  // off
}

TEST_CASE("whole batches: the round's size moves to a multiple of the batch, by largest remainders", "[lead][fine][batches]") {
  // Two groups of 1000 and 900 at rho 0.015: quotas 15 + 13 = 28. At batch 16 the round takes 32:
  // 32 * 1000/1900 = 16.84 and 32 * 900/1900 = 15.16 -> 16 + 15, the seat left to the larger
  // remainder (.84): 17 and 15. Utility falls with the id, so each group gives its lowest ids.
  std::vector<TaskGroup> groups(2);
  groups[0].task = 0;
  groups[1].task = 1;
  for (SampleId i = 0; i < 1000; ++i) groups[0].members.push_back(i);
  for (SampleId i = 1000; i < 1900; ++i) groups[1].members.push_back(i);
  std::vector<double> u(1900);
  for (size_t i = 0; i < u.size(); ++i) u[i] = -static_cast<double>(i);
  std::vector<int32_t> uses(1900, 0);
  FineSelectScratch scratch;
  FineSelection plain = fine_select(groups, u.data(), uses.data(), 4, 0.015, scratch, 0, 16);
  CHECK(plain.ids.size() == 28);
  CHECK_FALSE(plain.batch_rounded);
  CHECK(plain.quota_total == 28);
  FineSelection whole = fine_select(groups, u.data(), uses.data(), 4, 0.015, scratch, 0, 16, 16);
  CHECK(whole.batch_rounded);
  CHECK_FALSE(whole.floor_applied);
  CHECK(whole.quota_total == 28);
  CHECK(whole.per_task == std::vector<std::pair<int, int64_t>>{{0, 17}, {1, 15}});
  REQUIRE(whole.ids.size() == 32);
  for (int i = 0; i < 17; ++i) CHECK(whole.ids[i] == i);
  for (int i = 0; i < 15; ++i) CHECK(whole.ids[17 + i] == 1000 + i);
  // rho 0.0105: 10 + 9 = 19 -> one batch of 16: 8.42 and 7.58 -> 8 + 7, the seat to .58: 8 and 8.
  FineSelection down = fine_select(groups, u.data(), uses.data(), 4, 0.0105, scratch, 0, 16, 16);
  CHECK(down.quota_total == 19);
  CHECK(down.per_task == std::vector<std::pair<int, int64_t>>{{0, 8}, {1, 8}});
  // A whole number of batches already: the quotas stand. rho 0.017: 17 + floor(15.3) = 32.
  FineSelection exact = fine_select(groups, u.data(), uses.data(), 4, 0.017, scratch, 0, 16, 16);
  CHECK(exact.quota_total == 32);
  CHECK_FALSE(exact.batch_rounded);
  CHECK(exact.ids == fine_select(groups, u.data(), uses.data(), 4, 0.017, scratch).ids);
  // Eligibility caps the round: 8 + 4 samples left, the quotas 15 and 13 capped to them (12), and
  // a batch of 16 is more than the cluster has: all 12.
  std::vector<int32_t> spent(1900, 4);
  for (SampleId i = 0; i < 8; ++i) spent[i] = 0;
  for (SampleId i = 1000; i < 1004; ++i) spent[i] = 0;
  FineSelection capped = fine_select(groups, u.data(), spent.data(), 4, 0.015, scratch, 0, 16, 16);
  CHECK(capped.ids.size() == 12);
  // 12 + 8 left (20): nearer to one batch than to two, so 16 of them.
  for (SampleId i = 8; i < 12; ++i) spent[i] = 0;
  for (SampleId i = 1004; i < 1008; ++i) spent[i] = 0;
  CHECK(fine_select(groups, u.data(), spent.data(), 4, 0.015, scratch, 0, 16, 16).ids.size() == 16);
  // The floor and whole batches together: quotas 0 (tiny groups), floor 16 = one batch.
  std::vector<TaskGroup> tiny = {{0, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}, {1, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}}};
  FineSelection both = fine_select(tiny, u.data(), uses.data(), 4, 0.015, scratch, 0, 16, 16);
  CHECK(both.floor_applied);
  CHECK_FALSE(both.batch_rounded);
  CHECK(both.ids.size() == 16);
}
