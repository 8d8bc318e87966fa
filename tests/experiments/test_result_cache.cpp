// Reuse of LEAD's offline stage across runs (core/result_cache.h), end to end on a tiny world: an
// ablation that differs only once the rounds start reuses the stage and gives the record a recompute
// gives, charged at the measured cost; a changed field that shapes the stage (lead.warmup_fraction,
// train.lr, seed) computes it again.
#include "core/json_io.h"
#include "core/result_cache.h"
#include "experiments/runner.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

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

nlohmann::json run(const std::string& cfg, const fs::path& dir, const std::string& name, std::vector<std::string> extra) {
  const std::string out = (dir / (name + ".json")).string();
  std::vector<std::string> args = {cfg, "runtime.cache_dir=" + (dir / "cache").string(), "--out", out, "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  REQUIRE(lb::cmd_run(args) == 0);
  return lb::read_json_file(out);
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  if (!fs::exists(dir / "cache" / "results")) return 0;
  for (const auto& e : fs::directory_iterator(dir / "cache" / "results"))
    if (e.path().extension() == ".safetensors") ++n;
  return n;
}

}  // namespace

TEST_CASE("result cache: a LEAD ablation reuses the offline stage, bit-identical to a recompute, charged its measured cost",
          "[result_cache]") {
  fs::path dir = lbtest::fresh_dir("result_cache");
  const std::string cfg = tiny_config(dir);
  const nlohmann::json lead = run(cfg, dir, "lead", {});
  CHECK(!lead.contains("reused"));
  CHECK(lead["telemetry"]["offline"]["reused"] == false);
  CHECK(entries(dir) == 1);

  // The ablation without smoothing: the same offline stage, reused.
  const nlohmann::json reused = run(cfg, dir, "nosmooth", {"lead.smoothing=0"});
  REQUIRE(reused.contains("reused"));
  REQUIRE(reused["reused"].size() == 1);
  CHECK(reused["telemetry"]["offline"]["reused"] == true);
  CHECK(entries(dir) == 1);
  const nlohmann::json& note = reused["reused"][0];
  CHECK(note["what"] == "lead-offline");
  CHECK(note["measured"].contains("date"));
  // The program is named by its file name, not by this machine's path to it.
  const std::string command = note["measured"]["command"].get<std::string>();
  CHECK(command.substr(0, command.find(' ')).find('/') == std::string::npos);
  // Charged what the first run measured for the same work, tokens and seconds.
  for (const char* phase : {"offline_training", "offline_inference"}) {
    INFO(phase);
    CHECK(reused["phases"][phase]["forward_tokens"] == lead["phases"][phase]["forward_tokens"]);
    CHECK(reused["phases"][phase]["computed_tokens"] == lead["phases"][phase]["computed_tokens"]);
    CHECK(reused["phases"][phase]["backward_tokens"] == lead["phases"][phase]["backward_tokens"]);
    CHECK(note["charged"][phase]["seconds"].get<double>() == Approx(lead["phases"][phase]["seconds"].get<double>()).epsilon(1e-12));
    CHECK(reused["phases"][phase]["seconds"].get<double>() >= note["charged"][phase]["seconds"].get<double>());
  }

  // The same ablation computed from scratch: the same record content (same host, same threads,
  // the same computation, so the floats are the same bits).
  const nlohmann::json fresh = run(cfg, dir, "nosmooth_fresh", {"lead.smoothing=0", "runtime.reuse_offline=false"});
  CHECK(!fresh.contains("reused"));
  CHECK(fresh["selected"]["uids"] == reused["selected"]["uids"]);
  CHECK(fresh["rounds"].size() == reused["rounds"].size());
  for (size_t r = 0; r < fresh["rounds"].size() && r < reused["rounds"].size(); ++r)
    CHECK(fresh["rounds"][r]["mean_loss"] == reused["rounds"][r]["mean_loss"]);
  CHECK(fresh["suites"] == reused["suites"]);
  CHECK(fresh["telemetry"]["offline"]["ifd_mean"] == reused["telemetry"]["offline"]["ifd_mean"]);
  CHECK(fresh["telemetry"]["offline"]["cluster_task_sizes"] == reused["telemetry"]["offline"]["cluster_task_sizes"]);

  // Fields that shape the offline stage make new entries: nothing is reused.
  for (const std::string& change : {std::string("lead.warmup_fraction=0.1"), std::string("train.lr=0.002"),
                                    std::string("seed=7"), std::string("inference.max_batch_tokens=1024")}) {
    INFO(change);
    const size_t before = entries(dir);
    const nlohmann::json other = run(cfg, dir, "changed", {change});
    CHECK(!other.contains("reused"));
    CHECK(entries(dir) == before + 1);
  }
  fs::remove_all(dir);
}

TEST_CASE("result cache: content hashes see one changed weight or token; a corrupt entry is recomputed", "[result_cache]") {
  lb::ModelConfig mc;
  mc.d_model = 16;
  mc.n_layers = 1;
  mc.n_heads = 2;
  mc.n_kv_heads = 2;
  mc.d_ff = 32;
  lb::DecoderModel a(mc, lb::LoraConfig{}, 1), b(mc, lb::LoraConfig{}, 1), c(mc, lb::LoraConfig{}, 2);
  CHECK(lb::model_content_hash(a) == lb::model_content_hash(b));
  CHECK(lb::model_content_hash(a) != lb::model_content_hash(c));
  {
    torch::NoGradGuard g;
    auto p = b->parameters().front();
    float* x = p.data_ptr<float>();
    x[0] = std::nextafter(x[0], 1.0f);  // one ulp
  }
  CHECK(lb::model_content_hash(a) != lb::model_content_hash(b));

  lb::TokenCache t1, t2;
  t1.full.push_back(lb::Encoded{{1, 2, 3}, {0, 1, 1}});
  t2 = t1;
  CHECK(lb::token_content_hash(t1) == lb::token_content_hash(t2));
  t2.full[0].loss_mask[1] = 0;
  CHECK(lb::token_content_hash(t1) != lb::token_content_hash(t2));

  // get_or_compute: computes once, then loads the same bits (NaN included); a damaged file is
  // recomputed, not trusted.
  fs::path dir = lbtest::fresh_dir("result_cache_unit");
  lb::ResultCache cache(dir.string());
  lb::Ledger ledger;
  int calls = 0;
  auto work = [&](std::map<std::string, std::vector<float>>& out) {
    ++calls;
    auto s = ledger.scope(lb::Phase::offline_inference);
    ledger.add_forward(lb::Phase::offline_inference, 10, 12, 2);
    out["x"] = {1.5f, std::nanf(""), -0.0f};
  };
  nlohmann::json key = {{"k", 1}};
  bool hit = true;
  auto first = cache.get_or_compute("unit", key, ledger, work, &hit);
  CHECK(!hit);
  auto second = cache.get_or_compute("unit", key, ledger, work, &hit);
  CHECK(hit);
  CHECK(calls == 1);
  REQUIRE(second["x"].size() == 3);
  CHECK(std::memcmp(first["x"].data(), second["x"].data(), 3 * sizeof(float)) == 0);
  CHECK(ledger.stats(lb::Phase::offline_inference).forward_tokens == 20);  // charged twice: once done, once reused
  CHECK(cache.reused().size() == 1);
  cache.get_or_compute("unit", {{"k", 2}}, ledger, work, &hit);
  CHECK(!hit);
  CHECK(calls == 2);
  // Damage every entry: the next call computes again.
  for (const auto& e : fs::directory_iterator(dir / "results"))
    if (e.path().extension() == ".safetensors") std::ofstream(e.path(), std::ios::binary) << "garbage";
  cache.get_or_compute("unit", key, ledger, work, &hit);
  CHECK(!hit);
  CHECK(calls == 3);
  fs::remove_all(dir);
}
