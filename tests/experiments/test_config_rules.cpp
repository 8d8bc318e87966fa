// Config rules at load time: every value of the resolved config is checked before any work, with
// the dotted key, the file or override that set it and exit code 2; `sweep --dry-run` checks each
// run's full config the same way; config files reject duplicate keys, 1e999 and narrowed integers.
#include "core/model.h"
#include "experiments/experiment_config.h"
#include "experiments/sweep.h"
#include "lead/lead_config.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string read(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const lb::ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a ConfigError: ") + e.what();
  }
  return "";
}

// The error validate_experiment_config gives for defaults plus `overrides`.
std::string validation_error(const std::vector<std::string>& overrides) {
  return error_of([&] {
    lb::ConfigSources sources;
    lb::ExperimentConfig cfg = lb::load_experiment_config("", overrides, &sources);
    lb::validate_experiment_config(cfg, "cli", &sources);
  });
}

// Runs the leadbench binary; returns its exit code, stderr in *err.
int run_leadbench(const std::string& args, const fs::path& dir, std::string* err) {
  const fs::path err_file = dir / "stderr.txt";
  const std::string cmd = "timeout 60 '" + std::string(LEADBENCH_EXE) + "' " + args + " > /dev/null 2> '" + err_file.string() + "'";
  const int status = std::system(cmd.c_str());
  *err = read(err_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("config rules: every check that ran late is now declared and runs at load time", "[config]") {
  CHECK(validation_error({}).empty());
  // Each override breaks one rule; the error names the dotted key (with its section) and the override.
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Once checked in the Trainer constructor, i.e. after pre-training:
      {"train.schedule=cosin", "train.schedule"},
      {"train.sketch=bogus", "train.sketch"},
      {"train.lr=-0.001", "train.lr"},
      {"train.batch_size=0", "train.batch_size"},
      {"train.micro_batch_size=-4", "train.micro_batch_size"},
      {"train.decay_every=0", "train.decay_every"},
      {"train.sketch_dim=0", "train.sketch_dim"},
      {"pretrain.train.schedule=cosin", "pretrain.train.schedule"},
      // Once std::invalid_argument in the model's constructor:
      {"model.n_heads=0", "model.n_heads"},
      {"model.vocab_size=0", "model.vocab_size"},
      {"model.d_ff=-1", "model.d_ff"},
      {"model.d_model=190", "model.d_model"},  // not divisible by 6 heads
      {"model.d_model=198", "model.d_model"},  // head dim 33: odd, no rotary embedding
      {"model.n_kv_heads=4", "model.n_kv_heads"},
      {"proxy_model.n_kv_heads=3", "proxy_model.n_kv_heads"},
      {"lora.dropout=1.5", "lora.dropout"},
      {"lora.rank=-1", "lora.rank"},
      {"lora.targets=q,qkv", "lora.targets"},
      // Once in LeadConfig::validate (LEAD runs only), named without their section:
      {"lead.gamma=0", "lead.gamma"},
      {"lead.rho=0", "lead.rho"},
      {"lead.alpha=1", "lead.alpha"},
      {"lead.bandit=exp4", "lead.bandit"},
      {"lead.reward=accuracy", "lead.reward"},
      {"lead.warmup_fraction=0", "lead.warmup_fraction"},
      {"lead.warmup_epochs=-1", "lead.warmup_epochs"},
      {"lead.num_clusters=0", "lead.num_clusters"},
      {"lead.kmeans_max_iterations=0", "lead.kmeans_max_iterations"},
      {"lead.max_uses=0", "lead.max_uses"},
      {"lead.smoothing=1.5", "lead.smoothing"},
      {"lead.dev_samples=0", "lead.dev_samples"},
      {"lead.max_rounds=0", "lead.max_rounds"},
      // Once in validate_experiment_config's block:
      {"selection.selector=magic", "selection.selector"},
      {"selection.budget_fraction=0", "selection.budget_fraction"},
      {"selection.budget_fraction=1.5", "selection.budget_fraction"},
      {"selection.max_rounds=0", "selection.max_rounds"},
      {"runtime.progress=loud", "runtime.progress"},
      {"runtime.threads=-1", "runtime.threads"},
      {"runtime.device=tpu", "runtime.device"},
      {"model.max_seq_len=64", "model.max_seq_len"},
      {"pretrain.copy_warmup_lr=0", "pretrain.copy_warmup_lr"},
      // New: an empty pool, which no selector can work with.
      {"world.pool_size=0", "world.pool_size"},
  };
  for (const auto& [override_, key] : cases) {
    INFO(override_);
    const std::string e = validation_error({override_});
    CHECK(e.find("config key '" + key + "'") != std::string::npos);
    CHECK(e.find("command-line override '" + override_ + "'") != std::string::npos);
  }
  // LEAD's rules hold whatever the selector (the section is part of every run's config).
  CHECK(validation_error({"selection.selector=random", "lead.gamma=0"}).find("lead.gamma") != std::string::npos);
  // The world's own checks run too, before the world is generated.
  const std::string e = validation_error({"world.gsm_steps=4"});
  CHECK(e.find("gsm_steps") != std::string::npos);
  CHECK(e.find("cli") != std::string::npos);
}

TEST_CASE("config rules: a value set in a file is blamed on that file, also along an extends chain", "[config]") {
  const fs::path dir = lbtest::fresh_dir("config_rules_file");
  write(dir / "parent.json", R"({"lora": {"rank": 4, "dropout": 1.5}})");
  write(dir / "child.json", R"({"extends": "parent.json", "train": {"lr": 0.01}})");
  const std::string e = error_of([&] {
    lb::ConfigSources sources;
    auto cfg = lb::load_experiment_config((dir / "child.json").string(), {}, &sources);
    lb::validate_experiment_config(cfg, (dir / "child.json").string(), &sources);
  });
  CHECK(e.find("config key 'lora.dropout' in " + (dir / "parent.json").string()) != std::string::npos);
  CHECK(e.find("in [0, 1)") != std::string::npos);
  CHECK(e.find("1.5") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("config rules: library users who bypass configs get the same rules as ConfigError", "[config]") {
  lb::LeadConfig lead;
  lead.gamma = 0;
  CHECK_THROWS_WITH(lead.validate(), Catch::Contains("lead.gamma") && Catch::Contains("in (0, 1]"));
  lb::ModelConfig m;
  m.n_kv_heads = 4;
  CHECK_THROWS_AS(lb::DecoderModel(m, lb::LoraConfig{}, 1), lb::ConfigError);
  lb::LoraConfig lora;
  lora.rank = 2;
  lora.dropout = 1.5;
  CHECK_THROWS_WITH(lb::DecoderModel(lb::ModelConfig{}, lora, 1), Catch::Contains("lora.dropout"));
}

TEST_CASE("config files: duplicate keys, numbers beyond a double and narrowed integers are errors", "[config]") {
  const fs::path dir = lbtest::fresh_dir("config_rules_json");
  auto load = [&](const std::string& name) {
    return error_of([&] { lb::load_experiment_config((dir / name).string(), {}); });
  };
  write(dir / "dup.json", R"({"train": {"lr": 0.01, "epochs": 3, "lr": 0.02}})");
  std::string e = load("dup.json");
  CHECK(e.find("'train.lr'") != std::string::npos);
  CHECK(e.find("dup.json") != std::string::npos);
  // In the parent of an extends chain: the parent is named.
  write(dir / "dup_parent.json", R"({"seed": 1, "seed": 2})");
  write(dir / "dup_child.json", R"({"extends": "dup_parent.json"})");
  e = load("dup_child.json");
  CHECK(e.find("'seed'") != std::string::npos);
  CHECK(e.find("dup_parent.json") != std::string::npos);

  write(dir / "huge.json", R"({"train": {"lr": 1e999}})");
  e = load("huge.json");
  CHECK(e.find("'train.lr'") != std::string::npos);
  CHECK(e.find("huge.json") != std::string::npos);
  CHECK(error_of([] { lb::load_experiment_config("", {"train.lr=1e999"}); }).find("train.lr") != std::string::npos);

  write(dir / "narrow.json", R"({"model": {"n_heads": 4294967300}})");
  e = load("narrow.json");
  CHECK(e.find("model.n_heads") != std::string::npos);
  CHECK(e.find("narrow.json") != std::string::npos);
  e = error_of([] { lb::load_experiment_config("", {"world.pool_size=10000000000"}); });
  CHECK(e.find("world.pool_size") != std::string::npos);
  CHECK(e.find("range") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("run: a config error exits 2 before any work, naming the key", "[config][cli]") {
  const fs::path dir = lbtest::fresh_dir("config_rules_cli");
  const std::string quick = std::string(LEADBENCH_SOURCE_DIR) + "/experiments/configs/quick.json";
  const std::string where =
      " runtime.cache_dir='" + (dir / "cache").string() + "' runtime.out_dir='" + (dir / "out").string() + "' --quiet";
  // The typo that once surfaced after ten minutes of pre-training; and two that were once
  // std::invalid_argument (exit 1, a bare "error:").
  for (const auto& [override_, key] : std::vector<std::pair<std::string, std::string>>{
           {"train.schedule=cosin", "train.schedule"}, {"lora.rank=4 lora.dropout=1.5", "lora.dropout"},
           {"lead.gamma=0", "lead.gamma"}}) {
    INFO(override_);
    std::string err;
    CHECK(run_leadbench("run '" + quick + "' " + override_ + where, dir, &err) == 2);
    CHECK(err.find("config error: config key '" + key + "'") != std::string::npos);
  }
  CHECK(!fs::exists(dir / "cache"));  // nothing was pre-trained
  CHECK(!fs::exists(dir / "out"));
  write(dir / "dup.json", R"({"extends": ")" + quick + R"(", "seed": 1, "seed": 2})");
  std::string err;
  CHECK(run_leadbench("run '" + (dir / "dup.json").string() + "'" + where, dir, &err) == 2);
  CHECK(err.find("'seed'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("sweep --dry-run checks every run's full config and names the run", "[config][sweep]") {
  const fs::path dir = lbtest::fresh_dir("config_rules_sweep");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"("train.lr": [0.001, -0.001])", "train.lr"},
      {R"("train.micro_batch_size": [0, -4])", "train.micro_batch_size"},
      {R"("model.n_heads": [6, 0])", "model.n_heads"},
      {R"("model.n_kv_heads": [6, 4])", "model.n_kv_heads"},
      {R"("world.pool_size": [100, 0])", "world.pool_size"},
  };
  for (const auto& [grid, key] : bad) {
    INFO(grid);
    write(dir / "sweep.json", R"({"world": {"pool_size": 100}, "sweep": {"grid": {)" + grid + "}}}");
    const std::string e = error_of([&] {
      lb::cmd_sweep({(dir / "sweep.json").string(), "--out", (dir / "results").string(), "--dry-run", "--quiet"});
    });
    CHECK(e.find("sweep run 1") != std::string::npos);  // the second run of the grid
    CHECK(e.find("config key '" + key + "'") != std::string::npos);
    CHECK(e.find("'sweep.grid' of") != std::string::npos);
    std::string err;
    CHECK(run_leadbench("sweep '" + (dir / "sweep.json").string() + "' --out '" + (dir / "results").string() +
                            "' --dry-run --quiet",
                        dir, &err) == 2);
    CHECK(err.find(key) != std::string::npos);
  }
  // A variant's `set` is checked the same way.
  write(dir / "variants.json", R"({"world": {"pool_size": 100}, "sweep": {"variants": [
      {"name": "ok", "set": {"lead.gamma": 0.2}}, {"name": "bad", "set": {"lead.gamma": 0}}]}})");
  const std::string e = error_of([&] { lb::plan_sweep((dir / "variants.json").string(), {}); });
  CHECK(e.find("(bad, seed 0)") != std::string::npos);
  CHECK(e.find("sweep variant 'bad'") != std::string::npos);
  CHECK(!fs::exists(dir / "results"));
  fs::remove_all(dir);
}
