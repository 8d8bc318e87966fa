// End to end on a tiny world (seconds): `run` produces a complete record, the base model is cached
// and reused, and the pseudo-selector "base" evaluates without training.
#include "core/json_io.h"
#include "experiments/cli.h"
#include "experiments/record.h"
#include "experiments/runner.h"
#include "experiments/sweep.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

using lbtest::fresh_dir;

// A world and model small enough for a test: every phase runs, nothing means anything.
std::string tiny_config(const fs::path& dir) {
  std::string path = (dir / "tiny.json").string();
  std::ofstream(path) << R"({
    "world": {"pool_size": 240, "corpus_docs": 200, "mmlu_items": 8, "gsm_items": 4, "code_items": 4, "qa_items": 8},
    "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 64},
    "proxy_model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 32},
    "pretrain": {"epochs": 1, "train": {"batch_size": 32}},
    "train": {"batch_size": 8, "epochs": 1},
    "eval": {"max_new_tokens": 8, "limit": 4},
    "lead": {"warmup_fraction": 0.05, "warmup_epochs": 1, "rho": 0.1},
    "selection": {"selector": "lead", "budget_fraction": 0.1},
    "runtime": {"progress": "off", "threads": 2}
  })";
  return path;
}

}  // namespace

TEST_CASE("run produces a complete record written atomically") {
  fs::path dir = fresh_dir("run");
  std::string cfg_path = tiny_config(dir);
  std::string out = (dir / "results" / "lead.json").string();
  std::string cache = "runtime.cache_dir=" + (dir / "cache").string();
  REQUIRE(lb::cmd_run({cfg_path, cache, "--out", out, "--quiet"}) == 0);
  REQUIRE(fs::exists(out));
  nlohmann::json rec = lb::read_json_file(out);
  auto problems = lb::run_record_problems(rec);
  for (const auto& p : problems) INFO(p);
  CHECK(problems.empty());
  lb::RunRecord r = lb::parse_run_record(rec, out);
  CHECK(r.selector == "lead");
  CHECK(r.pool_size == 240);
  CHECK(r.budget == 24);
  CHECK(r.suites.size() == 4);
  for (const auto& s : r.suites) {
    CHECK(s.value >= 0);
    CHECK(s.value <= 100);
    CHECK(s.stderr_ >= 0);
    CHECK(s.n > 0);
  }
  CHECK(r.phases.count("training"));
  CHECK(r.phases.at("training").backward_tokens > 0);
  CHECK(r.phases.at("offline_inference").forward_tokens > 0);  // LEAD's one scoring pass
  CHECK(r.phases.at("evaluation").seconds > 0);
  // Selected ids, picks by source and defect add up to the unique count.
  const auto& sel = rec["selected"];
  int64_t unique = sel["unique"].get<int64_t>();
  CHECK(unique > 0);
  CHECK(unique <= r.budget);
  CHECK(static_cast<int64_t>(sel["uids"].size()) == unique);
  int64_t by_source = 0, by_defect = 0;
  for (auto& [k, v] : rec["picks"]["by_source"].items()) by_source += v.get<int64_t>();
  for (auto& [k, v] : rec["picks"]["by_defect"].items()) by_defect += v.get<int64_t>();
  CHECK(by_source == unique);
  CHECK(by_defect == unique);
  CHECK(rec["data_fraction"].get<double>() == Approx(unique / 240.0));
  CHECK(rec["telemetry"].contains("rounds"));
  CHECK(!rec["rounds"].empty());
  CHECK(rec["config_hash"].get<std::string>().size() == 16);
  CHECK(rec["config"]["selection"]["selector"] == "lead");
  // No temporary file is left next to the record.
  for (const auto& e : fs::directory_iterator(dir / "results"))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);

  // --skip-existing: the same run is not redone (the record stays byte-identical).
  std::string before = lb::read_text_file(out);
  REQUIRE(lb::cmd_run({cfg_path, cache, "--out", out, "--quiet", "--skip-existing"}) == 0);
  CHECK(lb::read_text_file(out) == before);

  // A second run (another selector) reuses the cached base model; "base" trains nothing.
  std::string out2 = (dir / "results" / "base.json").string();
  REQUIRE(lb::cmd_run({cfg_path, cache, "selection.selector=base", "--out", out2, "--quiet"}) == 0);
  nlohmann::json rec2 = lb::read_json_file(out2);
  CHECK(lb::run_record_problems(rec2).empty());
  CHECK(rec2["base_model"]["from_cache"] == true);
  CHECK(rec2["selected"]["unique"] == 0);
  CHECK(rec2["phases"]["training"]["backward_tokens"] == 0);
  CHECK(rec2["budget"] == 0);
  fs::remove_all(dir);
}

TEST_CASE("run: only LEAD's trainer sketches gradients; the replay control trains LEAD's picks; fairness is recorded") {
  fs::path dir = fresh_dir("sketch");
  std::string cfg_path = tiny_config(dir);
  std::string cache = "runtime.cache_dir=" + (dir / "cache").string();
  const std::string lead_out = (dir / "lead.json").string(), random_out = (dir / "random.json").string(),
                    fixed_out = (dir / "fixed.json").string();
  REQUIRE(lb::cmd_run({cfg_path, cache, "--out", lead_out, "--quiet"}) == 0);
  REQUIRE(lb::cmd_run({cfg_path, cache, "selection.selector=random", "--out", random_out, "--quiet"}) == 0);
  REQUIRE(lb::cmd_run({cfg_path, cache, "selection.selector=fixed", "selection.fixed_ids_from=" + lead_out, "--out",
                       fixed_out, "--quiet"}) == 0);
  const nlohmann::json lead = lb::read_json_file(lead_out), rnd = lb::read_json_file(random_out),
                       fixed = lb::read_json_file(fixed_out);
  CHECK(lead["selected"]["gradient_sketch"] == "last_block");
  CHECK(lead["selected"]["sketched_steps"] == lead["selected"]["optimizer_steps"]);
  CHECK(lead["selected"]["sketched_steps"].get<int64_t>() > 0);
  CHECK(rnd["selected"]["gradient_sketch"] == "none");
  CHECK(rnd["selected"]["sketched_steps"] == 0);
  for (const auto& r : rnd["rounds"]) CHECK(r["grad_norm"] == 0);
  // The replay: LEAD's unique picks, trained once as a static selector does (train.epochs = 1, batch 8).
  CHECK(fixed["selector"] == "fixed");
  CHECK(lb::run_record_problems(fixed).empty());
  CHECK(fixed["selected"]["uids"] == lead["selected"]["uids"]);
  CHECK(fixed["selected"]["gradient_sketch"] == "none");
  CHECK(fixed["rounds"].size() == 1);
  const int64_t n = static_cast<int64_t>(lead["selected"]["uids"].size());
  CHECK(fixed["selected"]["sample_passes"] == n);
  CHECK(fixed["selected"]["optimizer_steps"] == (n + 7) / 8);
  // Fairness: random trains the static protocol; the record says so.
  CHECK(rnd["fairness"]["within_10pct"] == true);
  CHECK(rnd["fairness"]["reference"]["optimizer_steps"] == 3);  // ceil(24 / 8) x 1 epoch
  CHECK(lead["fairness"]["optimizer_steps"] == lead["selected"]["optimizer_steps"]);
  // Whole-batch rounds (selection.full_batch_rounds, the default): every LEAD round is a multiple of
  // the batch (8) but the one trimmed to the budget and the last one, trimmed to the compute target.
  CHECK(lead["telemetry"]["full_batch_rounds"] == true);
  int partial = 0;
  for (const auto& r : lead["telemetry"]["rounds"]) {
    CHECK(r.contains("batch_rounded"));
    partial += r["selected"].get<int64_t>() % 8 != 0 ? 1 : 0;
  }
  CHECK(partial <= 2);
  // A replay list that names a sample outside the pool fails before training, naming the file.
  const std::string bad = (dir / "bad_ids.txt").string();
  std::ofstream(bad) << "no-such-sample\n";
  CHECK_THROWS_WITH(lb::cmd_run({cfg_path, cache, "selection.selector=fixed", "selection.fixed_ids_from=" + bad, "--out",
                                 (dir / "bad.json").string(), "--quiet"}),
                    Catch::Contains(bad) && Catch::Contains("line 1") && Catch::Contains("no-such-sample"));
  CHECK_FALSE(fs::exists(dir / "bad.json"));
  fs::remove_all(dir);
}

TEST_CASE("run: a copy warm-up pre-trains another base model, cached under its own hash") {
  fs::path dir = fresh_dir("warmup");
  std::string cfg_path = tiny_config(dir);
  std::string cache = "runtime.cache_dir=" + (dir / "cache").string();
  std::string plain = (dir / "plain.json").string(), warm = (dir / "warm.json").string();
  REQUIRE(lb::cmd_run({cfg_path, cache, "selection.selector=base", "--out", plain, "--quiet"}) == 0);
  REQUIRE(lb::cmd_run({cfg_path, cache, "selection.selector=base", "pretrain.copy_warmup_steps=2", "--out", warm,
                       "--quiet"}) == 0);
  nlohmann::json a = lb::read_json_file(plain), b = lb::read_json_file(warm);
  CHECK(lb::run_record_problems(b).empty());
  CHECK(b["base_model"]["from_cache"] == false);
  CHECK(a["base_model"]["hash"] != b["base_model"]["hash"]);
  CHECK(a["config_hash"] != b["config_hash"]);
  CHECK(b["config"]["pretrain"]["copy_warmup_steps"] == 2);
  // Both checkpoints sit side by side in the cache.
  size_t models = 0;
  for (const auto& e : fs::directory_iterator(dir / "cache" / "models"))
    models += e.path().extension() == ".safetensors";
  CHECK(models == 2);
  fs::remove_all(dir);
}

TEST_CASE("probe: a malformed --echoes or a second config is a usage error, before any work") {
  CHECK_THROWS_AS(lb::cmd_probe({"--echoes", "12abc"}), lb::UsageError);
  CHECK_THROWS_AS(lb::cmd_probe({"--echoes", "-3"}), lb::UsageError);
  CHECK_THROWS_AS(lb::cmd_probe({"a.json", "b.json"}), lb::UsageError);
}
