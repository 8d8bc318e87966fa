// The LEAD selector driven through setup()/select_round()/update() with synthetic scores and
// feedback: budget stop, IDU and reward bookkeeping, and every bad-input fallback.
#include "lead/lead_selector.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <set>

using namespace lb;

namespace {

struct SyntheticPool {
  std::vector<int> task_of;
  std::vector<double> ifd;
  std::vector<double> utility;
};

// n samples over `tasks` tasks; IFD in three bands (0.2, 0.5, 0.8) plus jitter; utility in [1, 3).
SyntheticPool make_pool(int n, int tasks, uint64_t seed) {
  SyntheticPool p;
  Rng rng(seed);
  for (int i = 0; i < n; ++i) {
    p.task_of.push_back(static_cast<int>(rng.below(tasks)));
    p.ifd.push_back(0.2 + 0.3 * static_cast<double>(rng.below(3)) + 0.01 * rng.uniform());
    p.utility.push_back(1.0 + 2.0 * rng.uniform());
  }
  return p;
}

// The trainer's answer to a round: loss = 0.8 * current utility, a 3-dim gradient sketch.
RoundFeedback fake_feedback(const LeadSelector& sel, const Round& r, int64_t round, double lr, std::vector<float> g) {
  RoundFeedback fb;
  fb.round = round;
  fb.ids = r.ids;
  for (SampleId id : r.ids) fb.losses.push_back(static_cast<float>(0.8 * sel.utility()[id]));
  fb.grad_mean = torch::tensor(g);
  fb.lr_mean = lr;
  return fb;
}

// Runs select/update until selection stops; returns the rounds' ids.
std::vector<std::vector<SampleId>> run_all(LeadSelector& sel, int64_t cap = 100000) {
  std::vector<std::vector<SampleId>> rounds;
  Rng grads(99);
  for (int64_t t = 0; t < cap; ++t) {
    auto r = sel.select_round();
    if (!r) break;
    rounds.push_back(r->ids);
    std::vector<float> g = {float(grads.uniform()), float(grads.uniform()), float(grads.uniform())};
    sel.update(fake_feedback(sel, *r, t, 0.01, g));
  }
  return rounds;
}

int64_t count_trained(const LeadSelector& sel) {
  int64_t n = 0;
  for (int32_t u : sel.uses()) n += u > 0 ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("LEAD stops at the budget exactly, trimming the last round", "[lead][selector]") {
  SyntheticPool p = make_pool(2000, 4, 1);
  LeadConfig cfg;
  cfg.num_clusters = 3;
  cfg.rho = 0.05;
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {"a", "b", "c", "d"}, p.ifd, p.utility, 97, 5);
  CHECK(sel.clusters().centroids.size() == 3);
  auto rounds = run_all(sel);
  CHECK(sel.unique_selected() == 97);
  CHECK(count_trained(sel) == 97);
  CHECK(sel.stop_reason().find("budget reached") != std::string::npos);
  CHECK(!sel.select_round().has_value());  // stays stopped
  const auto tel = sel.telemetry();
  REQUIRE(tel["rounds"].size() == rounds.size());
  int64_t trimmed = 0;
  for (const auto& r : tel["rounds"]) trimmed += r["trimmed_to_budget"].get<int64_t>();
  CHECK(trimmed > 0);  // 97 is not a sum of whole rounds of ~33 new samples
  // Every sample appears at most once per round and at most max_uses times overall.
  for (const auto& r : rounds) CHECK(std::set<SampleId>(r.begin(), r.end()).size() == r.size());
  for (int32_t u : sel.uses()) CHECK(u <= cfg.max_uses);
}

TEST_CASE("LEAD rounds select per task within the drawn cluster, by utility", "[lead][selector]") {
  SyntheticPool p = make_pool(3000, 3, 2);
  LeadConfig cfg;
  cfg.num_clusters = 3;
  cfg.rho = 0.02;
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {}, p.ifd, p.utility, 500, 7);
  auto r = sel.select_round();
  REQUIRE(r);
  const int k = sel.telemetry()["rounds"][0]["cluster"];
  for (SampleId id : r->ids) CHECK(sel.cluster_of()[id] == k);
  for (const auto& g : sel.groups().clusters[k]) {
    const int64_t q = group_quota(static_cast<int64_t>(g.members.size()), cfg.rho);
    std::vector<SampleId> chosen;
    for (SampleId id : r->ids)
      if (p.task_of[id] == g.task) chosen.push_back(id);
    CHECK(static_cast<int64_t>(chosen.size()) == q);
    // Nothing unchosen in this group ranks above the worst chosen one.
    double worst = 1e9;
    for (SampleId id : chosen) worst = std::min(worst, p.utility[id]);
    for (SampleId id : g.members)
      if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) CHECK(p.utility[id] <= worst);
  }
}

TEST_CASE("LEAD update applies IDU with Delta L' and computes the learning-progress reward", "[lead][selector]") {
  SyntheticPool p = make_pool(600, 2, 3);
  LeadConfig cfg;
  cfg.num_clusters = 1;  // one arm: every round trains the same cluster
  cfg.rho = 0.05;
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {}, p.ifd, p.utility, 200, 1);

  // Round 0: first round, Delta L' = 0: U = 0.9 * l + 0.1 * U0, l = 0.8 U0 -> U = 0.82 U0.
  auto r0 = sel.select_round();
  REQUIRE(r0);
  std::vector<double> before(sel.utility());
  sel.update(fake_feedback(sel, *r0, 0, 0.5, {1, 0, 0}));
  CHECK(sel.last_loss_change().which == LossChangeCase::first_round);
  double progress = 0;
  for (SampleId id : r0->ids) {
    CHECK(sel.utility()[id] == Approx(0.82 * before[id]));
    progress += before[id] - 0.8 * before[id];
  }
  progress /= r0->ids.size();
  CHECK(sel.telemetry()["rounds"][0]["raw_reward"].get<double>() == Approx(progress));
  CHECK(sel.telemetry()["rounds"][0]["normalised_reward"].get<double>() == 0.0);  // single reward

  // Round 1: same cluster, g_k = g_prev = (1,0,0): zero denominator, Delta L' = -0.5 * 1.
  auto r1 = sel.select_round();
  REQUIRE(r1);
  before = sel.utility();
  sel.update(fake_feedback(sel, *r1, 1, 0.5, {0, 2, 0}));
  CHECK(sel.last_loss_change().which == LossChangeCase::zero_denominator);
  CHECK(sel.last_loss_change().delta_loss == Approx(-0.5));
  for (SampleId id : r1->ids) {
    const float l = static_cast<float>(0.8 * before[id]);
    CHECK(sel.utility()[id] == Approx(0.9 * (l - 0.5) + 0.1 * before[id]));
  }
  // Round 2: g_k = g_prev = (0,2,0) again.
  auto r2 = sel.select_round();
  REQUIRE(r2);
  sel.update(fake_feedback(sel, *r2, 2, 0.1, {0, 0, 1}));
  CHECK(sel.last_loss_change().delta_loss == Approx(-0.1 * 4));
  // Samples not trained keep their utility.
  std::set<SampleId> trained(r0->ids.begin(), r0->ids.end());
  trained.insert(r1->ids.begin(), r1->ids.end());
  trained.insert(r2->ids.begin(), r2->ids.end());
  for (SampleId id = 0; id < 600; ++id)
    if (!trained.count(id)) CHECK(sel.utility()[id] == p.utility[id]);
}

TEST_CASE("LEAD loss-change follows each cluster's last gradient, ablations switch it off", "[lead][selector]") {
  SyntheticPool p = make_pool(1500, 2, 4);
  LeadConfig cfg;
  cfg.num_clusters = 3;
  cfg.rho = 0.03;
  cfg.bandit = "uniform";
  // Reference: loss_change() on the vectors, in double precision; the selector caches norms and
  // takes the dot product from BLAS. Short sketches and one long enough for BLAS's blocked kernels.
  for (int64_t dim : {int64_t(2), int64_t(70001)}) {
    LeadSelector sel(cfg);
    sel.setup(p.task_of, {}, p.ifd, p.utility, 1000, 3);
    std::vector<std::vector<float>> last(3);
    std::vector<float> prev;
    Rng rng(8);
    for (int t = 0; t < 12; ++t) {
      auto r = sel.select_round();
      REQUIRE(r);
      const int k = sel.telemetry()["rounds"][t]["cluster"];
      std::vector<float> g(dim);
      for (auto& x : g) x = float(rng.uniform() - 0.5);
      const LossChange expect = loss_change(last[k].empty() ? nullptr : &last[k], prev.empty() ? nullptr : &prev, 0.2);
      sel.update(fake_feedback(sel, *r, t, 0.2, g));
      INFO("dim " << dim << " round " << t);
      CHECK(sel.last_loss_change().which == expect.which);
      // Float32 dot products: errors are relative to the norms, not to Delta L' (which can cancel).
      double scale = 0;
      for (float x : last[k]) scale += double(x) * x;
      for (float x : prev) scale += double(x) * x;
      CHECK(sel.last_loss_change().beta == Approx(expect.beta).epsilon(1e-4).margin(1e-4));
      CHECK(sel.last_loss_change().delta_loss == Approx(expect.delta_loss).epsilon(1e-5).margin(1e-6 * 0.2 * scale));
      last[k] = g;
      prev = g;
    }
  }

  LeadConfig off = cfg;
  off.use_loss_change = false;
  off.smoothing = 0.0;
  LeadSelector plain(off);
  plain.setup(p.task_of, {}, p.ifd, p.utility, 1000, 3);
  for (int t = 0; t < 3; ++t) {
    auto r = plain.select_round();
    REQUIRE(r);
    auto fb = fake_feedback(plain, *r, t, 0.2, {1, 1});
    plain.update(fb);
    CHECK(plain.last_loss_change().delta_loss == 0.0);
    for (size_t i = 0; i < fb.ids.size(); ++i) CHECK(plain.utility()[fb.ids[i]] == Approx(fb.losses[i]));  // IU only
  }
}

TEST_CASE("LEAD reward variants: mean IDU", "[lead][selector]") {
  SyntheticPool p = make_pool(500, 2, 5);
  LeadConfig cfg;
  cfg.num_clusters = 2;
  cfg.rho = 0.05;
  cfg.reward = "mean_idu";
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {}, p.ifd, p.utility, 100, 3);
  auto r = sel.select_round();
  REQUIRE(r);
  sel.update(fake_feedback(sel, *r, 0, 0.1, {1, 0}));
  double mean = 0;
  for (SampleId id : r->ids) mean += sel.utility()[id];
  mean /= r->ids.size();
  CHECK(sel.telemetry()["rounds"][0]["raw_reward"].get<double>() == Approx(mean));
}

TEST_CASE("LEAD is deterministic for a seed and differs across seeds", "[lead][selector]") {
  SyntheticPool p = make_pool(3000, 5, 6);
  LeadConfig cfg;
  cfg.rho = 0.02;
  auto run = [&](uint64_t seed) {
    LeadSelector sel(cfg);
    sel.setup(p.task_of, {}, p.ifd, p.utility, 300, seed);
    return run_all(sel);
  };
  CHECK(run(42) == run(42));
  CHECK(run(42) != run(43));
}

TEST_CASE("LEAD bad input: budget larger than the pool", "[lead][selector][bad-input]") {
  SyntheticPool p = make_pool(300, 3, 7);
  LeadConfig cfg;
  cfg.num_clusters = 3;
  cfg.rho = 0.1;
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {}, p.ifd, p.utility, 10000, 1);
  CHECK(sel.budget() == 300);
  CHECK(!sel.fallbacks().empty());
  run_all(sel);
  CHECK(sel.unique_selected() == 300);
  CHECK(count_trained(sel) == 300);
  CHECK(!sel.stop_reason().empty());
}

TEST_CASE("LEAD bad input: exhausted clusters are retired, then selection stops", "[lead][selector][bad-input]") {
  SyntheticPool p = make_pool(200, 2, 8);
  LeadConfig cfg;
  cfg.num_clusters = 3;
  cfg.rho = 0.2;
  cfg.max_uses = 2;
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {}, p.ifd, p.utility, 200, 2);
  // Utilities that rise after training keep re-picking the same samples until they are spent.
  int64_t rounds = 0;
  while (auto r = sel.select_round()) {
    RoundFeedback fb;
    fb.ids = r->ids;
    for (SampleId id : r->ids) fb.losses.push_back(static_cast<float>(10.0 + sel.utility()[id]));
    fb.grad_mean = torch::tensor(std::vector<float>{1, 0});
    fb.lr_mean = 0.1;
    sel.update(fb);
    REQUIRE(++rounds < 1000);
  }
  CHECK(sel.unique_selected() == 200);  // every sample is trained before its cluster runs dry
  for (int32_t u : sel.uses()) CHECK(u <= 2);
  int retired = 0;
  const nlohmann::json tel = sel.telemetry();
  for (const auto& r : tel["rounds"])
    if (r.contains("retired_clusters")) retired += static_cast<int>(r["retired_clusters"].size());
  CHECK(retired >= 1);  // a spent cluster was drawn, retired and the draw repeated
  CHECK(retired <= 3);
}

TEST_CASE("LEAD bad input: rho = 0 and other impossible settings are clear errors", "[lead][selector][bad-input]") {
  LeadConfig cfg;
  cfg.rho = 0;
  CHECK_THROWS_WITH(LeadSelector(cfg), Catch::Contains("rho"));
  cfg = LeadConfig{};
  cfg.num_clusters = 0;
  CHECK_THROWS_WITH(LeadSelector(cfg), Catch::Contains("num_clusters"));
  cfg = LeadConfig{};
  cfg.bandit = "ucb";
  CHECK_THROWS_WITH(LeadSelector(cfg), Catch::Contains("bandit"));
  cfg = LeadConfig{};
  cfg.reward = "accuracy";
  CHECK_THROWS_WITH(LeadSelector(cfg), Catch::Contains("reward"));
  LeadSelector ok{LeadConfig{}};
  CHECK_THROWS(ok.setup({}, {}, {}, {}, 10, 1));                       // empty pool
  CHECK_THROWS(ok.setup({0, 0}, {}, {0.1, 0.2}, {1, 1}, -1, 1));       // negative budget
  CHECK_THROWS(ok.setup({0, 0}, {}, {0.1}, {1, 1}, 1, 1));             // length mismatch
  CHECK_THROWS_AS(ok.select_round(), std::logic_error);                // before setup
}

TEST_CASE("LEAD bad input: K above the distinct IFD values and all-zero IFD", "[lead][selector][bad-input]") {
  SyntheticPool p = make_pool(400, 3, 9);
  LeadConfig cfg;
  cfg.rho = 0.05;
  std::vector<double> two(400);
  for (int i = 0; i < 400; ++i) two[i] = i % 2 ? 0.3 : 0.6;
  LeadSelector a(cfg);
  a.setup(p.task_of, {}, two, p.utility, 50, 1);
  CHECK(a.clusters().centroids.size() == 2);
  CHECK(a.bandit().arms() == 2);
  run_all(a);
  CHECK(a.unique_selected() == 50);

  LeadSelector z(cfg);
  z.setup(p.task_of, {}, std::vector<double>(400, 0.0), p.utility, 50, 1);
  CHECK(z.clusters().centroids.size() == 1);
  CHECK(!z.fallbacks().empty());
  run_all(z);
  CHECK(z.unique_selected() == 50);
}

TEST_CASE("LEAD bad input: a task absent from a cluster and tiny groups (quota 0)", "[lead][selector][bad-input]") {
  // Task 1 exists only at low IFD, so the high-IFD cluster has no task-1 group.
  std::vector<int> task;
  std::vector<double> ifd, u;
  for (int i = 0; i < 60; ++i) {
    task.push_back(i < 20 ? 1 : 0);
    ifd.push_back(i < 40 ? 0.1 : 0.9);
    u.push_back(1.0 + i * 0.01);
  }
  LeadConfig cfg;
  cfg.num_clusters = 2;  // rho = 0.015 default: every quota floors to 0 -> one per task group
  cfg.min_round_samples = 0;  // the original rule, without the round floor
  LeadSelector sel(cfg);
  sel.setup(task, {"big", "small"}, ifd, u, 30, 4);
  REQUIRE(sel.groups().clusters[1].size() == 1);
  CHECK(sel.groups().clusters[1][0].task == 0);
  auto rounds = run_all(sel);
  CHECK(sel.unique_selected() == 30);
  const nlohmann::json tel = sel.telemetry();
  for (const auto& r : tel["rounds"]) {
    CHECK(r["min_one_fallback"].get<bool>());
    CHECK(r["selected"].get<int64_t>() <= 2);
  }
}

TEST_CASE("LEAD round floor: tiny groups fill one full batch per round by largest remainders", "[lead][selector][floor]") {
  // The pool of the test above: with the default floor (-1 = the batch size, 8 here) a round takes
  // 8 samples, never the one-per-group fallback, until the budget trims the last round.
  std::vector<int> task;
  std::vector<double> ifd, u;
  for (int i = 0; i < 60; ++i) {
    task.push_back(i < 20 ? 1 : 0);
    ifd.push_back(i < 40 ? 0.1 : 0.9);
    u.push_back(1.0 + i * 0.01);
  }
  LeadConfig cfg;
  cfg.num_clusters = 2;
  cfg.match_compute = false;
  REQUIRE(cfg.min_round_samples == -1);
  LeadSelector sel(cfg);
  sel.set_batch_size(8);
  sel.setup(task, {"big", "small"}, ifd, u, 30, 4);
  CHECK(sel.round_floor() == 8);
  auto rounds = run_all(sel);
  CHECK(sel.unique_selected() == 30);
  REQUIRE(rounds.size() >= 4);
  const nlohmann::json tel = sel.telemetry();
  CHECK(tel["round_floor"] == 8);
  int64_t total = 0;
  for (size_t r = 0; r < rounds.size(); ++r) {
    const auto& rec = tel["rounds"][r];
    CHECK_FALSE(rec["min_one_fallback"].get<bool>());
    CHECK(rec["floor_applied"].get<bool>());
    if (r + 1 < rounds.size()) CHECK(rounds[r].size() == 8);
    total += static_cast<int64_t>(rounds[r].size());
  }
  CHECK(total == 30);  // 8 + 8 + 8 + 6 (trimmed to the budget)
  // The low-IFD cluster (20 of task 0 and 20 of task 1) splits a floor of 8 as 4 + 4.
  for (size_t r = 0; r < rounds.size(); ++r) {
    const auto& rec = tel["rounds"][r];
    if (rec["cluster"].get<int>() != sel.cluster_of()[0] || rec["trimmed_to_budget"].get<int64_t>() > 0) continue;
    CHECK(rec["per_task"]["big"] == 4);
    CHECK(rec["per_task"]["small"] == 4);
  }
  // A floor of 0 is the original rule, and min_round_samples below -1 is an error naming the key.
  cfg.min_round_samples = -2;
  CHECK_THROWS_WITH(cfg.validate(), Catch::Contains("min_round_samples"));
}

TEST_CASE("LEAD budget 0 and max_rounds stop at once", "[lead][selector]") {
  SyntheticPool p = make_pool(100, 2, 10);
  LeadSelector zero{LeadConfig{}};
  zero.setup(p.task_of, {}, p.ifd, p.utility, 0, 1);
  CHECK(!zero.select_round());
  CHECK(zero.stop_reason().find("budget") != std::string::npos);
  LeadConfig cfg;
  cfg.max_rounds = 2;
  LeadSelector capped(cfg);
  capped.setup(p.task_of, {}, p.ifd, p.utility, 100, 1);
  CHECK(run_all(capped).size() == 2);
  CHECK(capped.stop_reason().find("max_rounds") != std::string::npos);
}

TEST_CASE("LEAD match_compute: after the budget, rounds re-select trained samples until passes = target", "[lead][selector]") {
  SyntheticPool p = make_pool(2000, 4, 21);
  LeadConfig cfg;
  cfg.rho = 0.02;
  LeadSelector sel(cfg);
  const int64_t budget = 60, target = budget * 3;
  sel.setup(p.task_of, {}, p.ifd, p.utility, budget, 5, {}, target);
  std::vector<int32_t> uses_before(2000, 0);
  int64_t passes = 0;
  bool saw_consolidation = false;
  Rng grads(3);
  for (int64_t t = 0; t < 10000; ++t) {
    const int64_t unique_before = sel.unique_selected();
    auto r = sel.select_round();
    if (!r) break;
    REQUIRE_FALSE(r->ids.empty());
    if (unique_before >= budget) {  // consolidation: only samples trained before, never a new one
      saw_consolidation = true;
      for (SampleId id : r->ids) CHECK(uses_before[id] >= 1);
    }
    for (SampleId id : r->ids) ++uses_before[id];
    passes += static_cast<int64_t>(r->ids.size());
    std::vector<float> g = {float(grads.uniform()), float(grads.uniform()), float(grads.uniform())};
    sel.update(fake_feedback(sel, *r, t, 0.01, g));
  }
  CHECK(saw_consolidation);
  CHECK(sel.unique_selected() == budget);
  CHECK(passes == target);  // trimmed to the target exactly
  CHECK(sel.passes() == target);
  for (int32_t u : sel.uses()) CHECK(u <= cfg.max_uses);
  CHECK(sel.stop_reason().find("training compute matched") != std::string::npos);
  CHECK(sel.telemetry()["target_sample_passes"] == target);
  CHECK(sel.telemetry()["rounds"].back()["stage"] == "consolidate");
}

TEST_CASE("LEAD match_compute: a target above budget x max_uses is lowered and logged", "[lead][selector][bad-input]") {
  SyntheticPool p = make_pool(600, 2, 8);
  LeadConfig cfg;
  cfg.max_uses = 2;
  LeadSelector sel(cfg);
  sel.setup(p.task_of, {}, p.ifd, p.utility, 20, 5, {}, 20 * 3);
  CHECK(sel.target_passes() == 40);
  REQUIRE_FALSE(sel.fallbacks().empty());
  CHECK(sel.fallbacks().back().find("match_compute") != std::string::npos);
  run_all(sel);
  CHECK(sel.unique_selected() == 20);
  CHECK(sel.passes() == 40);
  for (int32_t u : sel.uses()) CHECK(u <= 2);
}

TEST_CASE("LEAD without match_compute stops at the budget (target 0)", "[lead][selector]") {
  SyntheticPool p = make_pool(600, 2, 8);
  LeadSelector sel;
  sel.setup(p.task_of, {}, p.ifd, p.utility, 20, 5);
  run_all(sel);
  CHECK(sel.unique_selected() == 20);
  CHECK(sel.passes() < 40);  // about one pass per sample
  CHECK(sel.stop_reason().find("compute") == std::string::npos);
}
