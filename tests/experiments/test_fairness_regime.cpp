// The fair-training rule (record and tables), the hash-neutral selection knobs added with it, the
// paper_regime sweep's plan, and the regime computation of `leadbench data regime`.
#include "core/json_io.h"
#include "experiments/experiment_config.h"
#include "experiments/record.h"
#include "experiments/regime.h"
#include "experiments/sweep.h"
#include "experiments/table.h"
#include "fake_records.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

TEST_CASE("fair-training rule: the static protocol's steps and passes, within 10 %", "[fairness]") {
  // Budget 75, batch 16, 10 epochs: 750 sample passes in 10 x ceil(75 / 16) = 50 optimizer steps.
  lb::TrainingFairness f = lb::training_fairness(75, 16, 10, 50, 750);
  REQUIRE(f.known);
  CHECK(f.reference_steps == 50);
  CHECK(f.reference_passes == 750);
  CHECK(f.within_10pct);
  // LEAD's rounds of 1-8 samples: 245 steps for the same 750 passes (paper_main, seed 0).
  f = lb::training_fairness(75, 16, 10, 245, 750);
  CHECK_FALSE(f.within_10pct);
  CHECK(f.steps_ratio == Approx(4.9));
  CHECK(f.passes_ratio == Approx(1.0));
  // Exactly 10 % off is within; 56 steps of 50 is not.
  CHECK(lb::training_fairness(75, 16, 10, 55, 675).within_10pct);
  CHECK_FALSE(lb::training_fairness(75, 16, 10, 56, 750).within_10pct);
  // Nothing trained (the base model): no verdict.
  CHECK_FALSE(lb::training_fairness(0, 16, 10, 0, 0).known);
  CHECK(lb::training_fairness(0, 16, 10, 0, 0).to_json().is_null());
  const auto j = lb::training_fairness(75, 16, 10, 110, 750).to_json();
  CHECK(j["reference"]["optimizer_steps"] == 50);
  CHECK(j["within_10pct"] == false);
}

TEST_CASE("fair-training rule: read from records, marked beside the score in the tables", "[fairness]") {
  fs::path dir = lbtest::fresh_dir("fairness");
  auto write = [&](const std::string& name, int64_t steps, int64_t passes, uint64_t seed) {
    lbtest::FakeRun f;
    f.name = f.selector = name;
    f.seed = seed;
    f.scores = {40, 30, 20, 50};
    f.stderrs = {3, 3, 3, 3};
    f.hash = std::string("000000000000") + (name == "lead" ? "aa" : "bb") + "0" + std::to_string(seed);
    nlohmann::json rec = lbtest::fake_record(f);  // budget 25 of 1000
    rec["config"]["train"] = {{"batch_size", 16}, {"epochs", 10}};
    rec["selected"]["optimizer_steps"] = steps;
    rec["selected"]["sample_passes"] = passes;
    lb::write_json_atomic((dir / (name + "-s" + std::to_string(seed) + ".json")).string(), rec);
  };
  // Reference for budget 25: 250 passes in 10 x 2 = 20 steps.
  for (uint64_t s = 0; s < 2; ++s) {
    write("random", 20, 250, s);
    write("lead", 120, 250, s);
  }
  auto scan = lb::scan_results_dir(dir.string());
  REQUIRE(scan.records.size() == 4);
  const lb::TrainingFairness f = lb::training_fairness_of_record(scan.records[0].raw);
  REQUIRE(f.known);
  CHECK(f.reference_steps == 20);
  lb::Tables t = lb::make_tables(scan.records, scan.problems, {"cmd", "sha", "host", "date"});
  INFO(t.markdown);
  CHECK(t.markdown.find("| lead |") != std::string::npos);
  const auto lead_row = t.markdown.substr(t.markdown.find("| lead |"));
  CHECK(lead_row.substr(0, lead_row.find('\n')).find("‡") != std::string::npos);
  const auto random_row = t.markdown.substr(t.markdown.find("| random |"));
  CHECK(random_row.substr(0, random_row.find('\n')).find("‡") == std::string::npos);
  CHECK(t.markdown.find("‡ lead (pool 1000): 2 of 2 runs trained outside the fair-training rule") != std::string::npos);
  CHECK(t.markdown.find("120 optimizer steps against the static protocol's 20") != std::string::npos);
  CHECK(t.latex.find("\\ddagger") != std::string::npos);
  // Replays of each seed's own source record are one row, not one per seed.
  for (uint64_t s = 0; s < 2; ++s) {
    lbtest::FakeRun f;
    f.name = "lead_replay";
    f.selector = "fixed";
    f.seed = s;
    f.hash = "00000000000000c" + std::to_string(s);
    nlohmann::json rec = lbtest::fake_record(f);
    rec["config"]["selection"]["fixed_ids_from"] = "results/x/lead-s" + std::to_string(s) + ".json";
    rec["config"]["selection"]["selector"] = "fixed";
    lb::write_json_atomic((dir / ("lead_replay-s" + std::to_string(s) + ".json")).string(), rec);
  }
  scan = lb::scan_results_dir(dir.string());
  int replay_rows = 0;
  for (const auto& row : lb::group_rows(scan.records)) replay_rows += row.name == "lead_replay" ? 1 : 0;
  CHECK(replay_rows == 1);
  // A record without the counts (the fixture's default) gets no mark.
  CHECK_FALSE(lb::training_fairness_of_record(lbtest::fake_record(lbtest::FakeRun{})).known);
  fs::remove_all(dir);
}

TEST_CASE("the round floor and the replay list are hashed only away from their neutral value", "[fairness]") {
  lb::ExperimentConfig cfg;
  cfg.lead.min_round_samples = 0;
  const std::string legacy = lb::experiment_config_hash(cfg);
  // A record written before the knobs existed reads as the neutral setting.
  nlohmann::json old_record = lb::experiment_config_json(cfg);
  old_record["lead"].erase("min_round_samples");
  old_record["selection"].erase("fixed_ids_from");
  CHECK(lb::config_hash(lb::experiment_hash_view(old_record)) == legacy);
  auto other = cfg;
  other.lead.min_round_samples = -1;
  CHECK(lb::experiment_config_hash(other) != legacy);
  other.lead.min_round_samples = 16;
  CHECK(lb::experiment_config_hash(other) != legacy);
  other = cfg;
  other.selection.fixed_ids_from = "picks.txt";
  CHECK(lb::experiment_config_hash(other) != legacy);
  // The resolved config still shows them.
  CHECK(lb::experiment_config_json(cfg)["lead"].contains("min_round_samples"));
  CHECK(lb::experiment_config_json(cfg)["selection"].contains("fixed_ids_from"));
  // The default is one full batch.
  CHECK(lb::ExperimentConfig{}.lead.min_round_samples == -1);
}

TEST_CASE("whole-batch rounds: hashed only for selectors with rounds, and only when on", "[fairness]") {
  for (const char* selector : {"random", "ifd", "fixed", "base", "superfiltering"}) {
    INFO(selector);
    lb::ExperimentConfig on;
    on.selection.selector = selector;
    auto off = on;
    off.selection.full_batch_rounds = false;
    CHECK(lb::experiment_config_hash(on) == lb::experiment_config_hash(off));
  }
  for (const char* selector : {"lead", "iterative_ifd", "diverse_evol", "prompt_uncertainty"}) {
    INFO(selector);
    lb::ExperimentConfig on;
    on.selection.selector = selector;
    auto off = on;
    off.selection.full_batch_rounds = false;
    CHECK(lb::experiment_config_hash(on) != lb::experiment_config_hash(off));
    // A record written before the knob existed reads as false.
    nlohmann::json old_record = lb::experiment_config_json(off);
    old_record["selection"].erase("full_batch_rounds");
    CHECK(lb::config_hash(lb::experiment_hash_view(old_record)) == lb::experiment_config_hash(off));
  }
  CHECK(lb::ExperimentConfig{}.selection.full_batch_rounds);
  // The static selectors' committed paper_regime records keep their names (hashes).
  const fs::path config = fs::path(LEADBENCH_SOURCE_DIR) / "experiments" / "configs" / "paper_regime_seeds_1_5.json";
  lb::SweepPlan plan = lb::plan_sweep(config.string(), {}, "results/paper_regime");
  std::map<std::string, std::string> record_of;
  for (const auto& run : plan.runs)
    if (run.config.seed == 1) record_of[run.config.label()] = fs::path(run.record_path).filename().string();
  CHECK(record_of["random"] == "random-b2.5-s1-aa76fcea70dfebb2.json");
  CHECK(record_of["ifd"] == "ifd-b2.5-s1-818a516ab1ee5958.json");
  CHECK(record_of["lead"] != "lead-b2.5-s1-6772a6a4ae79b96e.json");  // rounds in whole batches now
}

TEST_CASE("fixed selector: the replay list is required, and only for it", "[fairness]") {
  lb::ExperimentConfig cfg;
  cfg.selection.selector = "fixed";
  CHECK_THROWS_WITH(lb::validate_experiment_config(cfg, "x.json"), Catch::Contains("selection.fixed_ids_from") &&
                                                                      Catch::Contains("x.json"));
  cfg.selection.fixed_ids_from = "picks.txt";
  CHECK_NOTHROW(lb::validate_experiment_config(cfg, "x.json"));
  cfg.selection.selector = "random";
  CHECK_THROWS_WITH(lb::validate_experiment_config(cfg, "x.json"), Catch::Contains("only read by selector fixed"));
}

TEST_CASE("paper_regime sweep: its selectors and seeds, LEAD with the round floor, replays of LEAD's records", "[fairness][regime]") {
  const fs::path config = fs::path(LEADBENCH_SOURCE_DIR) / "experiments" / "configs" / "paper_regime.json";
  lb::SweepPlan plan = lb::plan_sweep(config.string(), {}, "results/paper_regime");
  std::map<std::string, int> per_name;
  std::map<uint64_t, std::string> lead_record;
  for (const auto& run : plan.runs) {
    ++per_name[run.config.label()];
    if (run.config.label() == "lead") lead_record[run.config.seed] = run.record_path;
  }
  for (const char* name : {"lead", "random", "ifd", "iterative_ifd", "lead_replay", "lead_no_loss_change",
                           "lead_no_smoothing", "lead_no_bandit", "lead_reward_mean_idu"})
    CHECK(per_name[name] == 10);
  CHECK(plan.runs.size() == 90);
  for (const auto& run : plan.runs) {
    INFO(run.label << " seed " << run.config.seed);
    CHECK(run.config.seed >= 1);
    CHECK(run.config.seed <= 10);
    CHECK(run.config.world.pool_size == plan.runs.front().config.world.pool_size);
    if (run.config.selection.selector == "lead") CHECK(run.config.lead.min_round_samples == -1);
    if (run.config.label() == "lead_replay") {
      CHECK(run.config.selection.selector == "fixed");
      // The replay reads LEAD's record of the same seed, by the path the sweep writes it to.
      CHECK(fs::path(run.config.selection.fixed_ids_from) == fs::path(lead_record.at(run.config.seed)));
      // ...and so starts only after that run: the sweep knows the dependency.
      const int dep = lb::run_dependency(plan, run);
      REQUIRE(dep >= 0);
      CHECK(plan.runs[dep].config.label() == "lead");
      CHECK(plan.runs[dep].config.seed == run.config.seed);
    } else {
      CHECK(lb::run_dependency(plan, run) == -1);
    }
  }
  // Every replay comes after the run it reads, and the sweep goes seed after seed (replays included).
  std::vector<const lb::SweepRun*> all;
  for (const auto& run : plan.runs) all.push_back(&run);
  auto order = lb::sweep_start_order(plan, all);
  REQUIRE(order.size() == plan.runs.size());
  auto index_of = [&](const lb::SweepRun* r) { return std::find(order.begin(), order.end(), r) - order.begin(); };
  for (size_t i = 0; i < order.size(); ++i) {
    if (i > 0) CHECK(order[i - 1]->config.seed <= order[i]->config.seed);
    const int dep = lb::run_dependency(plan, *order[i]);
    if (dep >= 0) CHECK(index_of(&plan.runs[dep]) < static_cast<long>(i));
  }
  // A plan that lists a replay first: it moves to just after its source run.
  std::vector<const lb::SweepRun*> reversed(all.rbegin(), all.rend());
  auto fixed = lb::sweep_start_order(plan, reversed);
  REQUIRE(fixed.size() == reversed.size());
  for (size_t i = 0; i < fixed.size(); ++i) {
    const int dep = lb::run_dependency(plan, *fixed[i]);
    if (dep < 0) continue;
    const auto at = std::find(fixed.begin(), fixed.end(), &plan.runs[dep]) - fixed.begin();
    CHECK(at + 1 == static_cast<long>(i));
  }
  CHECK(order.front() == &plan.runs.front());
  // `sweep --dry-run` accepts it and writes nothing.
  fs::path out = lbtest::fresh_dir("paper_regime_dry");
  REQUIRE(lb::cmd_sweep({config.string(), "--out", out.string(), "--dry-run", "--quiet"}) == 0);
  CHECK(fs::is_empty(out));
  fs::remove_all(out);
}

TEST_CASE("regime: hand-computed conditions on two clusters", "[regime]") {
  // One record at pool 1000: cluster 0 has groups 300 and 200, cluster 1 has 400 and 100.
  lb::RegimeInput in;
  in.records.push_back({"r.json", 1000, {{300, 200}, {400, 100}}});
  in.rho = 0.01;
  in.budget_fraction = 0.05;
  in.batch_size = 4;
  in.paper_budget = 100;
  in.paper_round = 20;  // the paper's 5 rounds; (c) allows 2.5 to 10
  // At pool 1000: quotas 3, 2 | 4, 1 -> rounds 5 and 5, mean 5 < 2 x 4 = 8: (b) fails; (a) holds
  // (the smallest group, 100 = 10 %, has quota 1); budget 50 / 5 = 10 rounds: (c) holds.
  lb::RegimeAt at = lb::regime_at(in, 1000);
  CHECK(at.budget == 50);
  CHECK(at.smallest_listed_quota == 1);
  CHECK(at.mean_round == Approx(5));
  CHECK(at.smallest_round == 5);
  CHECK(at.rounds == Approx(10));
  CHECK(at.a);
  CHECK_FALSE(at.b);
  CHECK(at.c);
  // At 1600: 4.8 -> 4, 3.2 -> 3 | 6.4 -> 6, 1.6 -> 1: rounds 7 and 7 (mean 7 < 8);
  // at 1700: 5, 3 | 6, 1 -> 8 and 7, mean 7.5; at 1800: 5, 3 | 7, 1 -> 8 and 8: (b) holds.
  CHECK_FALSE(lb::regime_at(in, 1700).b);
  CHECK(lb::regime_at(in, 1800).b);
  lb::RegimeResult r = lb::compute_regime(in);
  CHECK(r.paper_rounds == Approx(5));
  CHECK(r.pool_a == 1000);  // 100 * 0.01 * P / 1000 >= 1 from P = 1000
  CHECK(r.pool_b == 1800);
  CHECK(r.pool_c == 1000);  // below, the floors make rounds small: e.g. 900 -> 3 and 3, 45 / 3 = 15 rounds
  // At 1800 the budget 90 takes 90 / 8 = 11.25 > 10 rounds, at 1900 95 / 8; at 2000 the quotas are
  // exact (6, 4 | 8, 2): 100 / 10 = 10 rounds, and all three hold.
  CHECK_FALSE(lb::regime_at(in, 1800).c);
  CHECK_FALSE(lb::regime_at(in, 1900).c);
  CHECK(r.chosen.pool == 2000);
  CHECK(r.chosen.rounds == Approx(10));
  // Groups under min_group_share do not count for (a): with a 0.5 % group that never reaches quota 1
  // before pool 20 000, (a) still holds from 1000.
  in.records[0].clusters[1].push_back(5);
  CHECK(lb::regime_at(in, 1000).a);
  CHECK(lb::regime_at(in, 1000).smallest_listed_quota == 1);
  // No record: an error.
  CHECK_THROWS(lb::compute_regime(lb::RegimeInput{}));
}

TEST_CASE("regime: a record without LEAD's group sizes is an error naming the file", "[regime][bad-input]") {
  fs::path dir = lbtest::fresh_dir("regime_bad");
  const std::string path = (dir / "random.json").string();
  lbtest::FakeRun f;
  f.name = f.selector = "random";
  f.scores = {1, 1, 1, 1};
  f.stderrs = {1, 1, 1, 1};
  lb::write_json_atomic(path, lbtest::fake_record(f));
  CHECK_THROWS_WITH(lb::regime_groups_of_record(path), Catch::Contains(path) && Catch::Contains("cluster_task_sizes"));
  nlohmann::json rec = lbtest::fake_record(f);
  rec["telemetry"]["offline"] = {{"pool_size", 100}, {"cluster_task_sizes", {{{"a", 60}, {"b", -1}}}}};
  lb::write_json_atomic(path, rec);
  CHECK_THROWS_WITH(lb::regime_groups_of_record(path), Catch::Contains("cluster_task_sizes[0].b"));
  rec["telemetry"]["offline"]["cluster_task_sizes"] = {{{"a", 60}, {"b", 40}}};
  lb::write_json_atomic(path, rec);
  const auto g = lb::regime_groups_of_record(path);
  CHECK(g.pool_size == 100);
  CHECK(g.clusters == std::vector<std::vector<int64_t>>{{60, 40}});
  fs::remove_all(dir);
}
