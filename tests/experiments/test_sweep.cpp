// Config files and sweeps: errors name the key and the file, `extends` chains, grid x variants
// expansion, and resuming after a simulated kill without redoing finished runs.
#include "core/json_io.h"
#include "experiments/experiment_config.h"
#include "experiments/record.h"
#include "experiments/sweep.h"
#include "fake_records.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace {

using lbtest::fresh_dir;

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config errors name the key and the file") {
  fs::path dir = fresh_dir("config_errors");
  write(dir / "unknown.json", R"({"train": {"lr": 0.01, "lrr": 2}})");
  std::string e = error_of([&] { lb::load_experiment_config((dir / "unknown.json").string(), {}); });
  CHECK(e.find("train.lrr") != std::string::npos);
  CHECK(e.find("unknown.json") != std::string::npos);

  write(dir / "type.json", R"({"selection": {"budget_fraction": "much"}})");
  e = error_of([&] { lb::load_experiment_config((dir / "type.json").string(), {}); });
  CHECK(e.find("selection.budget_fraction") != std::string::npos);
  CHECK(e.find("type.json") != std::string::npos);

  // A bad key in the parent file is blamed on the parent, not the child.
  write(dir / "parent.json", R"({"world": {"pool_sise": 10}})");
  write(dir / "child.json", R"({"extends": "parent.json", "seed": 3})");
  e = error_of([&] { lb::load_experiment_config((dir / "child.json").string(), {}); });
  CHECK(e.find("world.pool_sise") != std::string::npos);
  CHECK(e.find("parent.json") != std::string::npos);

  write(dir / "syntax.json", "{\n  \"seed\": 1,\n  \"train\": {\"lr\": }\n}\n");
  e = error_of([&] { lb::load_experiment_config((dir / "syntax.json").string(), {}); });
  CHECK(e.find("syntax.json") != std::string::npos);
  CHECK(e.find("syntax.json:3:") != std::string::npos);  // file:line:column

  e = error_of([&] { lb::load_experiment_config("", {"selection.selektor=lead"}); });
  CHECK(e.find("selection.selektor") != std::string::npos);

  lb::ExperimentConfig cfg = lb::load_experiment_config("", {"selection.selector=magic"});
  e = error_of([&] { lb::validate_experiment_config(cfg, "cli"); });
  CHECK(e.find("selection.selector") != std::string::npos);
  CHECK(e.find("magic") != std::string::npos);

  // Impossible copy warm-up settings: each error names the key to fix.
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad_warmups = {
      {{"pretrain.copy_warmup_steps=-5"}, "pretrain.copy_warmup_steps"},
      {{"pretrain.copy_warmup_steps=5", "pretrain.copy_warmup_lr=0"}, "pretrain.copy_warmup_lr"},
      {{"pretrain.copy_warmup_steps=5", "pretrain.epochs=0"}, "pretrain.epochs"},
      {{"pretrain.copy_warmup_steps=5", "pretrain.copy_warmup_restatements=1.5"}, "pretrain.copy_warmup_restatements"},
      {{"pretrain.copy_warmup_steps=5", "pretrain.copy_warmup_suffixes=-0.1"}, "pretrain.copy_warmup_suffixes"}};
  for (const auto& [overrides, key] : bad_warmups) {
    INFO(key);
    cfg = lb::load_experiment_config("", overrides);
    e = error_of([&] { lb::validate_experiment_config(cfg, "cli"); });
    CHECK(e.find(key) != std::string::npos);
  }

  // Sandbox limits and pass@k values of the eval section: the full key, the value, at load time.
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad_eval = {
      {{"eval.sandbox.timeout_s=-1"}, "config key 'eval.sandbox.timeout_s' in cli: must be > 0"},
      {{"eval.sandbox.max_processes=0"}, "config key 'eval.sandbox.max_processes' in cli: must be >= 3"},
      {{"eval.sandbox.tmpfs_mb=0"}, "config key 'eval.sandbox.tmpfs_mb' in cli: must be >= 1, got 0"},
      {{"eval.pass_ks=0"}, "config key 'eval.pass_ks' in cli: entry 0 must be >= 1"},
      {{"eval.code_samples=2", "eval.pass_ks=1,5"}, "config key 'eval.pass_ks' in cli: entry 5 needs at least 5 samples"},
      {{"eval.pass_ks=3"}, "config key 'eval.pass_ks' in cli: entry 3 needs at least 3 samples per problem, but world.code_samples is 1"}};
  for (const auto& [overrides, expect] : bad_eval) {
    INFO(expect);
    cfg = lb::load_experiment_config("", overrides);
    e = error_of([&] { lb::validate_experiment_config(cfg, "cli"); });
    CHECK(e.find(expect) != std::string::npos);
  }
  // With the loader's sources, the eval checks name the override that set the value, not the file.
  {
    lb::ConfigSources sources;
    cfg = lb::load_experiment_config("", {"eval.pass_ks=0"}, &sources);
    e = error_of([&] { lb::validate_experiment_config(cfg, "exp.json", &sources); });
    CHECK(e.find("'eval.pass_ks' in command-line override 'eval.pass_ks=0'") != std::string::npos);
    cfg = lb::load_experiment_config("", {"eval.sandbox.timeout_s=-1"}, &sources);
    e = error_of([&] { lb::validate_experiment_config(cfg, "exp.json", &sources); });
    CHECK(e.find("'eval.sandbox.timeout_s' in command-line override") != std::string::npos);
  }
  cfg = lb::load_experiment_config("", {"eval.code_samples=4", "eval.pass_ks=1,4", "eval.code_temperature=0.8"});
  CHECK(error_of([&] { lb::validate_experiment_config(cfg, "cli"); }).empty());
  fs::remove_all(dir);
}

TEST_CASE("extends chains apply parent first and the run hash ignores runtime settings") {
  fs::path dir = fresh_dir("extends");
  write(dir / "parent.json", R"({"seed": 5, "world": {"pool_size": 100}, "train": {"lr": 0.5}})");
  write(dir / "child.json", R"({"extends": "parent.json", "train": {"lr": 0.25}, "sweep": {"grid": {"seed": [1, 2]}}})");
  auto cfg = lb::load_experiment_config((dir / "child.json").string(), {"world.pool_size=200"});
  CHECK(cfg.seed == 5);
  CHECK(cfg.train.lr == 0.25);
  CHECK(cfg.world.pool_size == 200);
  auto other = cfg;
  other.runtime.threads = 7;
  other.runtime.out_dir = "elsewhere";
  CHECK(lb::experiment_config_hash(cfg) == lb::experiment_config_hash(other));
  other.train.lr = 0.3;
  CHECK(lb::experiment_config_hash(cfg) != lb::experiment_config_hash(other));
  fs::remove_all(dir);
}

TEST_CASE("knobs added after the committed results are hashed only away from their neutral value") {
  lb::ExperimentConfig cfg;
  const std::string off = lb::experiment_config_hash(cfg);
  auto other = cfg;
  other.pretrain.copy_warmup_lr = 0.01;  // no warm-up: its rate cannot change the weights
  CHECK(lb::experiment_config_hash(other) == off);
  CHECK(lb::pretrain_hash(cfg.model, cfg.pretrain, "c") == lb::pretrain_hash(other.model, other.pretrain, "c"));
  other.pretrain.copy_warmup_steps = 500;
  const std::string on = lb::experiment_config_hash(other);
  CHECK(on != off);
  CHECK(lb::pretrain_hash(cfg.model, cfg.pretrain, "c") != lb::pretrain_hash(other.model, other.pretrain, "c"));
  other.pretrain.copy_warmup_lr = 0.002;
  CHECK(lb::experiment_config_hash(other) != on);
  other.pretrain.copy_warmup_lr = cfg.pretrain.copy_warmup_lr;
  other.pretrain.copy_warmup_restatements = 0.5;
  CHECK(lb::experiment_config_hash(other) != on);
  const std::string restated = lb::experiment_config_hash(other);
  other.pretrain.copy_warmup_suffixes = 0.5;
  CHECK(lb::experiment_config_hash(other) != restated);
  CHECK(lb::pretrain_hash(other.model, other.pretrain, "c") != lb::pretrain_hash(other.model, [&] {
          auto p = other.pretrain;
          p.copy_warmup_suffixes = 0;
          return p;
        }(), "c"));
  other.pretrain.copy_warmup_steps = 0;  // the shares of a warm-up that is off change nothing
  CHECK(lb::experiment_config_hash(other) == off);
  // The resolved config (what records store) still shows every field.
  CHECK(lb::experiment_config_json(cfg)["pretrain"].contains("copy_warmup_steps"));
  CHECK(lb::experiment_config_json(cfg)["model"].contains("smeared_keys"));

  other = cfg;
  other.model.smeared_keys = true;
  CHECK(lb::experiment_config_hash(other) != off);
  CHECK(lb::pretrain_hash(other.model, other.pretrain, "c") != lb::pretrain_hash(cfg.model, cfg.pretrain, "c"));
  other = cfg;
  other.proxy_model.smeared_keys = true;
  CHECK(lb::experiment_config_hash(other) != off);
  other = cfg;
  other.world.qa_span_first = true;
  CHECK(lb::experiment_config_hash(other) != off);

  // A record written before the knobs existed (no such keys) reads as the neutral setting, which is
  // what tables group by.
  nlohmann::json old_record = lb::experiment_config_json(cfg);
  old_record["pretrain"].erase("copy_warmup_steps");
  old_record["pretrain"].erase("copy_warmup_lr");
  old_record["pretrain"].erase("copy_warmup_restatements");
  old_record["pretrain"].erase("copy_warmup_suffixes");
  old_record["model"].erase("smeared_keys");
  old_record["proxy_model"].erase("smeared_keys");
  old_record["world"].erase("qa_span_first");
  CHECK(lb::experiment_hash_view(old_record) == lb::experiment_hash_view(lb::experiment_config_json(cfg)));
  CHECK(lb::experiment_hash_view(old_record) != lb::experiment_hash_view(lb::experiment_config_json(other)));
}

TEST_CASE("every run of each committed sweep has its record, with the config's hash") {
  // Guards the configs against drifting from their committed results: a default changed in demo.json
  // must be pinned (or the sweep re-run) in every config that extends it.
  const fs::path root = LEADBENCH_SOURCE_DIR;
  if (!fs::exists(root / "results")) {
    WARN("skipped: no committed results/ next to " << root.string());
    return;
  }
  for (const char* name : {"demo", "paper_main", "ablations", "budgets", "scaling"}) {
    const fs::path config = root / "experiments" / "configs" / (std::string(name) + ".json");
    const fs::path out = root / "results" / name;
    INFO(config.string());
    REQUIRE(fs::exists(out));  // a committed sweep's results may not go missing either
    lb::SweepPlan plan = lb::plan_sweep(config.string(), {}, out.string());
    REQUIRE(!plan.runs.empty());
    for (const auto& run : plan.runs) {
      std::string why;
      const bool done = lb::run_is_done(run, &why);
      INFO(name << ": " << run.label << ": " << run.record_path << ": " << why);
      CHECK(done);
    }
  }
}

TEST_CASE("in every shipped sweep LEAD can match the static selectors' training compute") {
  // match_compute re-trains selected samples until LEAD's sample passes equal budget x train.epochs;
  // a sample is trained at most lead.max_uses times, so max_uses < epochs leaves LEAD with less
  // compute than every static selector (the selector logs a fallback and stops early).
  int configs = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(LEADBENCH_SOURCE_DIR) / "experiments" / "configs")) {
    if (entry.path().extension() != ".json") continue;
    ++configs;
    lb::SweepPlan plan = lb::plan_sweep(entry.path().string(), {}, "unused-out-dir");
    REQUIRE(!plan.runs.empty());
    for (const auto& run : plan.runs) {
      if (run.config.selection.selector != "lead" || !run.config.lead.match_compute) continue;
      INFO(entry.path().filename().string() << ": " << run.label);
      CHECK(run.config.lead.max_uses >= run.config.train.epochs);
    }
  }
  CHECK(configs >= 6);  // the shipped configs were found
}

TEST_CASE("sweep expands grid x variants with seeds slowest") {
  fs::path dir = fresh_dir("expand");
  write(dir / "sweep.json", R"({
    "world": {"pool_size": 100},
    "sweep": {
      "grid": {"selection.selector": ["random", "longest"], "seed": [0, 1], "selection.budget_fraction": [0.1, 0.2]},
      "variants": [{"name": "a", "set": {"train.lr": 0.1}}, {"name": "b", "set": {"train.lr": 0.2}}]
    }
  })");
  auto plan = lb::plan_sweep((dir / "sweep.json").string(), {"train.epochs=1"}, (dir / "out").string());
  REQUIRE(plan.runs.size() == 16);
  CHECK(plan.runs[0].config.seed == 0);
  CHECK(plan.runs[7].config.seed == 0);
  CHECK(plan.runs[8].config.seed == 1);
  std::set<std::string> hashes, paths;
  for (const auto& r : plan.runs) {
    hashes.insert(r.hash);
    paths.insert(r.record_path);
    CHECK(r.config.train.epochs == 1);
    CHECK((r.config.name == "a" ? r.config.train.lr == 0.1 : r.config.train.lr == 0.2));
  }
  CHECK(hashes.size() == 16);
  CHECK(paths.size() == 16);

  write(dir / "bad.json", R"({"sweep": {"grid": {"selection.budgett": [0.1]}}})");
  std::string e = error_of([&] { lb::plan_sweep((dir / "bad.json").string(), {}); });
  CHECK(e.find("selection.budgett") != std::string::npos);
  CHECK(e.find("bad.json") != std::string::npos);

  write(dir / "dup.json", R"({"sweep": {"grid": {"seed": [1, 1]}}})");
  e = error_of([&] { lb::plan_sweep((dir / "dup.json").string(), {}); });
  CHECK(e.find("same config") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep overrides change only the runs they match") {
  fs::path dir = fresh_dir("overrides");
  write(dir / "plain.json", R"({
    "world": {"pool_size": 100},
    "sweep": {"grid": {"selection.selector": ["lead", "random"], "selection.budget_fraction": [0.1, 1]}}
  })");
  write(dir / "cond.json", R"({
    "world": {"pool_size": 100},
    "sweep": {
      "grid": {"selection.selector": ["lead", "random"], "selection.budget_fraction": [0.1, 1]},
      "overrides": [{"when": {"selection.selector": "lead", "selection.budget_fraction": 1.0},
                     "set": {"lead.max_rounds": 777}}]
    }
  })");
  auto plain = lb::plan_sweep((dir / "plain.json").string(), {}, (dir / "out").string());
  auto cond = lb::plan_sweep((dir / "cond.json").string(), {}, (dir / "out").string());
  REQUIRE(plain.runs.size() == 4);
  REQUIRE(cond.runs.size() == 4);
  int changed = 0;
  for (size_t i = 0; i < 4; ++i) {
    const auto& c = cond.runs[i].config;
    const bool target = c.selection.selector == "lead" && c.selection.budget_fraction == 1.0;
    CHECK(c.lead.max_rounds == (target ? 777 : plain.runs[i].config.lead.max_rounds));
    // Untouched runs keep their hash (and so their finished records); the matched one gets a new one
    // and passes the key on to its child process.
    CHECK((cond.runs[i].hash == plain.runs[i].hash) == !target);
    const auto& o = cond.runs[i].overrides;
    CHECK((std::find(o.begin(), o.end(), "lead.max_rounds=777") != o.end()) == target);
    changed += target;
  }
  CHECK(changed == 1);

  write(dir / "nomatch.json", R"({"sweep": {"grid": {"selection.selector": ["random"]},
    "overrides": [{"when": {"selection.selector": "lead"}, "set": {"lead.max_rounds": 5}}]}})");
  std::string e = error_of([&] { lb::plan_sweep((dir / "nomatch.json").string(), {}); });
  CHECK(e.find("matches no run") != std::string::npos);
  CHECK(e.find("sweep.overrides[0]") != std::string::npos);

  write(dir / "badkey.json", R"({"sweep": {"grid": {"seed": [0]},
    "overrides": [{"when": {"selection.selektor": "lead"}, "set": {"lead.max_rounds": 5}}]}})");
  e = error_of([&] { lb::plan_sweep((dir / "badkey.json").string(), {}); });
  CHECK(e.find("selection.selektor") != std::string::npos);
  CHECK(e.find("badkey.json") != std::string::npos);

  write(dir / "badset.json", R"({"sweep": {"grid": {"seed": [0]},
    "overrides": [{"when": {"seed": 0}, "set": {"lead.max_roundz": 5}}]}})");
  e = error_of([&] { lb::plan_sweep((dir / "badset.json").string(), {}); });
  CHECK(e.find("lead.max_roundz") != std::string::npos);

  write(dir / "noset.json", R"({"sweep": {"grid": {"seed": [0]}, "overrides": [{"when": {"seed": 0}}]}})");
  e = error_of([&] { lb::plan_sweep((dir / "noset.json").string(), {}); });
  CHECK(e.find("`set`") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep resumes after a simulated kill without redoing finished runs") {
  fs::path dir = fresh_dir("resume");
  write(dir / "sweep.json", R"({"world": {"pool_size": 100},
    "sweep": {"grid": {"seed": [0, 1], "selection.selector": ["random", "longest", "lead"]}}})");
  auto plan = lb::plan_sweep((dir / "sweep.json").string(), {}, (dir / "results").string());
  REQUIRE(plan.runs.size() == 6);

  // A fake run: writes a complete record with the run's hash, atomically, as the runner does.
  std::vector<std::string> executed;
  auto finish = [&](const lb::SweepRun& r) {
    executed.push_back(r.label);
    lbtest::FakeRun f;
    f.name = r.config.label();
    f.selector = r.config.selection.selector;
    f.seed = r.config.seed;
    f.scores = {10, 20, 30, 40};
    f.stderrs = {1, 1, 1, 1};
    f.hash = r.hash;
    lb::write_json_atomic(r.record_path, lbtest::fake_record(f));
    return 0;
  };

  // First attempt: killed while running the fourth run (it leaves a temporary file behind).
  lb::SweepOptions opt;
  int calls = 0;
  opt.execute = [&](const lb::SweepRun& r) {
    if (++calls == 4) {
      write(r.record_path + ".tmp.999", "{\"format\": \"leadb");
      throw std::runtime_error("simulated kill");
    }
    return finish(r);
  };
  CHECK_THROWS_WITH(lb::run_sweep(plan, opt), "simulated kill");
  CHECK(executed.size() == 3);

  // One finished record was damaged by hand: it is redone and named.
  { std::ofstream(plan.runs[1].record_path) << "{ not json"; }

  executed.clear();
  opt.execute = finish;
  auto out = lb::run_sweep(plan, opt);
  CHECK(out.total == 6);
  CHECK(out.already_done == 2);
  CHECK(out.ran == 4);
  CHECK(out.failed == 0);
  REQUIRE(out.redo.size() == 1);
  CHECK(out.redo[0].find(plan.runs[1].label) != std::string::npos);
  std::vector<std::string> expected = {plan.runs[1].label, plan.runs[3].label, plan.runs[4].label, plan.runs[5].label};
  CHECK(executed == expected);

  // A third attempt does nothing.
  executed.clear();
  out = lb::run_sweep(plan, opt);
  CHECK(out.already_done == 6);
  CHECK(executed.empty());

  // A record whose config hash differs (the config changed) is not taken as done.
  plan.runs[0].hash = "ffffffffffffffff";
  std::string why;
  CHECK_FALSE(lb::run_is_done(plan.runs[0], &why));
  CHECK(why.find("config hash") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep --dry-run lists the runs and writes nothing") {
  fs::path dir = fresh_dir("dry");
  write(dir / "sweep.json", R"({"world": {"pool_size": 100}, "sweep": {"grid": {"seed": [0, 1]}}})");
  fs::create_directories(dir / "results");
  write(dir / "results" / "_sweep_plan.json", "{\"command\": \"the real sweep\"}");
  REQUIRE(lb::cmd_sweep({(dir / "sweep.json").string(), "--out", (dir / "results").string(), "--dry-run", "--quiet"}) == 0);
  std::ifstream f(dir / "results" / "_sweep_plan.json");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  CHECK(text == "{\"command\": \"the real sweep\"}");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir / "results")) files += e.is_regular_file();
  CHECK(files == 1);
  fs::remove_all(dir);
}

TEST_CASE("sweep --slurm writes a job array with one run per task") {
  fs::path dir = fresh_dir("slurm");
  write(dir / "sweep.json", R"({"sweep": {"grid": {"seed": [0, 1, 2]}}})");
  auto plan = lb::plan_sweep((dir / "sweep.json").string(), {}, (dir / "results").string());
  lb::SweepOptions opt;
  opt.executable = "/opt/leadbench/bin/leadbench";
  const std::string submit = lb::write_slurm_script(plan, opt, 4);
  CHECK(submit == (dir / "results" / "submit.sh").string());
  const std::string text = lbtest::read_text(dir / "results" / "sweep.slurm");
  CHECK(text.find("#SBATCH --array=0-2\n") != std::string::npos);
  CHECK(text.find("#SBATCH --cpus-per-task=4\n") != std::string::npos);
  CHECK(text.find("SLURM_ARRAY_TASK_ID") != std::string::npos);
  // slurmd opens the tasks' log files before their script runs.
  CHECK(fs::is_directory(dir / "results" / "logs"));
  // Nothing asked for, nothing requested; one rank: no srun.
  for (const char* absent : {"--mem", "--time", "--gpus", "--partition", "--nodes", "srun "}) {
    INFO(absent);
    CHECK(text.find(absent) == std::string::npos);
  }
  std::ifstream rf(dir / "results" / "_sweep_runs.txt");
  std::string line;
  int n = 0;
  while (std::getline(rf, line)) {
    CHECK(line.rfind("run ", 0) == 0);
    CHECK(line.find("--skip-existing") != std::string::npos);
    CHECK(line.find(plan.runs[n].record_path) != std::string::npos);
    ++n;
  }
  CHECK(n == 3);
  // No replays: one array, submitted alone.
  CHECK_FALSE(fs::exists(dir / "results" / "sweep-replays.slurm"));
  const std::string sub = lbtest::read_text(submit);
  CHECK(sub.find("sbatch --parsable \"$@\" ") != std::string::npos);
  CHECK(sub.find("--dependency") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep.slurm: requests from the config reach the job array; replays wait for their runs") {
  fs::path dir = fresh_dir("slurm_requests");
  write(dir / "sweep.json", R"({"sweep": {
      "grid": {"seed": [0, 1]},
      "variants": [{"name": "lead", "set": {"selection.selector": "lead"}},
                   {"name": "replay", "set": {"selection.selector": "fixed"}}],
      "overrides": [{"when": {"name": "replay", "seed": 0}, "set": {"selection.fixed_ids_from": "RESULTS/lead0.json"}},
                    {"when": {"name": "replay", "seed": 1}, "set": {"selection.fixed_ids_from": "RESULTS/lead1.json"}}],
      "slurm": {"cpus_per_task": 8, "gpus_per_task": 1, "mem": "64G", "time": "1-12:00:00", "partition": "gpu",
                "account": "proj_42", "nodes": 2, "tasks_per_node": 4, "extra": ["--qos=high", "--exclusive"]}}})");
  // The replays read the lead records the sweep writes: put their real paths into the overrides.
  auto plan = lb::plan_sweep((dir / "sweep.json").string(), {}, (dir / "results").string());
  std::string cfg = lbtest::read_text(dir / "sweep.json");
  for (const auto& r : plan.runs)
    if (r.config.label() == "lead") {
      const std::string key = "RESULTS/lead" + std::to_string(r.config.seed) + ".json";
      cfg.replace(cfg.find(key), key.size(), r.record_path);
    }
  write(dir / "sweep.json", cfg);
  plan = lb::plan_sweep((dir / "sweep.json").string(), {}, (dir / "results").string());
  CHECK(plan.slurm.gpus_per_task == 1);
  lb::SweepOptions opt;
  opt.executable = "/opt/leadbench/bin/leadbench";
  const std::string submit = lb::write_slurm_script(plan, opt, 4);
  const std::string text = lbtest::read_text(dir / "results" / "sweep.slurm");
  for (const char* want : {"#SBATCH --array=0-1\n", "#SBATCH --cpus-per-task=8\n", "#SBATCH --gpus-per-task=1\n",
                           "#SBATCH --mem=64G\n", "#SBATCH --time=1-12:00:00\n", "#SBATCH --partition=gpu\n",
                           "#SBATCH --account=proj_42\n", "#SBATCH --nodes=2\n", "#SBATCH --ntasks-per-node=4\n",
                           "#SBATCH --qos=high\n", "#SBATCH --exclusive\n",
                           // Eight ranks: srun starts them with the torchrun variables.
                           "srun --kill-on-bad-exit=1", "RANK=$SLURM_PROCID", "WORLD_SIZE=$SLURM_NTASKS",
                           "LOCAL_RANK=$SLURM_LOCALID", "MASTER_ADDR=", "MASTER_PORT="}) {
    INFO(want);
    CHECK(text.find(want) != std::string::npos);
  }
  // GPUs asked for and no --device given: the runs use CUDA.
  const std::string runs = lbtest::read_text(dir / "results" / "_sweep_runs.txt");
  CHECK(runs.find("--device cuda") != std::string::npos);
  CHECK(runs.find("selection.selector=fixed") == std::string::npos);
  // The replays are a second array, submitted after the first has ended.
  const std::string replays = lbtest::read_text(dir / "results" / "_sweep_replays.txt");
  CHECK(replays.find("selection.selector=fixed") != std::string::npos);
  CHECK(lbtest::read_text(dir / "results" / "sweep-replays.slurm").find("#SBATCH --array=0-1\n") != std::string::npos);
  CHECK(lbtest::read_text(submit).find("--dependency=afterany:${runs%%;*}") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep.slurm: a bad request is a config error naming the key and the file") {
  fs::path dir = fresh_dir("slurm_bad");
  auto expect = [&](const std::string& slurm, const std::string& fragment) {
    write(dir / "sweep.json", R"({"sweep": {"grid": {"seed": [0]}, "slurm": )" + slurm + "}}");
    INFO(slurm);
    CHECK_THROWS_WITH(lb::plan_sweep((dir / "sweep.json").string(), {}, (dir / "results").string()),
                      Catch::Contains(fragment) && Catch::Contains("sweep.json"));
  };
  expect(R"({"cpus": 4})", "unknown key 'sweep.slurm.cpus'");
  expect(R"({"cpus_per_task": 0})", "'sweep.slurm.cpus_per_task'");
  expect(R"({"cpus_per_task": "4"})", "give an integer");
  expect(R"({"gpus_per_task": -1})", "'sweep.slurm.gpus_per_task'");
  expect(R"({"mem": "lots"})", "'sweep.slurm.mem'");
  expect(R"({"time": "4 hours"})", "'sweep.slurm.time'");
  expect(R"({"partition": "gpu; rm -rf /"})", "'sweep.slurm.partition'");
  expect(R"({"extra": ["--qos=high --x"]})", "not one sbatch option");
  expect(R"({"extra": "--qos=high"})", "must be a list");
  expect(R"([1])", "must be an object");
  fs::remove_all(dir);
}
