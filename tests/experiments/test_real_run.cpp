// Runs and evaluations on a pretrained checkpoint, end to end on the tiny committed fixture
// (tests/data/real_run, made by tests/fixtures/make_run_fixture.py): a random Llama with its own
// tokenizer.json, a 36-sample messages-format pool and a few suite items in the real file formats.
// Nothing is learnt; what is checked is that every stage runs on real formats and the record says
// which checkpoint, tokenizer, template and truncation were used.
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/peft_adapter.h"
#include "core/sha256.h"
#include "experiments/cmd_eval.h"
#include "experiments/experiment_config.h"
#include "experiments/record.h"
#include "experiments/runner.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

const std::string kFixture = std::string(LEADBENCH_SOURCE_DIR) + "/tests/data/real_run";

std::string real_config(const fs::path& dir, const std::string& extra = "") {
  const std::string path = (dir / "real.json").string();
  std::ofstream(path) << R"({
    "model": {"checkpoint": ")" << kFixture << R"(/checkpoint"},
    "pool": {"path": ")" << kFixture << R"(/pool.jsonl"},
    "lora": {"rank": 4, "alpha": 8},
    "train": {"batch_size": 4, "epochs": 1, "max_length": 128, "lr": 0.001},
    "inference": {"max_batch_tokens": 1024},
    "eval": {"suites": ["gsm8k", "mmlu"], "data": ")" << kFixture << R"(/suites", "max_new_tokens": 6,
             "prompts": {"gsm8k_shots": 1, "mmlu_shots": 2}},
    "lead": {"warmup_fraction": 0.2, "warmup_epochs": 1, "rho": 0.2},
    "baselines": {"iterative_ifd_rounds": 2, "warmup_min_samples": 4},
    "selection": {"budget_fraction": 0.25},
    "runtime": {"progress": "off", "threads": 2}
    )" << extra << R"(
  })";
  return path;
}

nlohmann::json run_selector(const std::string& selector, const std::vector<std::string>& more = {}) {
  const fs::path dir = lbtest::fresh_dir("real_run_" + selector);
  const std::string out = (dir / (selector + ".json")).string();
  std::vector<std::string> args = {real_config(dir), "selection.selector=" + selector, "--out", out, "--quiet"};
  args.insert(args.end(), more.begin(), more.end());
  REQUIRE(lb::cmd_run(args) == 0);
  REQUIRE(fs::exists(out));
  return lb::read_json_file(out);
}

void check_record(const nlohmann::json& rec, const std::string& selector) {
  for (const auto& p : lb::run_record_problems(rec)) INFO(p);
  CHECK(lb::run_record_problems(rec).empty());
  CHECK(rec["selector"] == selector);
  CHECK(rec["pool_size"] == 36);
  CHECK(rec["budget"] == 9);
  CHECK(rec["selected"]["unique"].get<int64_t>() > 0);
  CHECK(rec["selected"]["unique"].get<int64_t>() <= 9);
  CHECK(rec["phases"]["training"]["backward_tokens"].get<int64_t>() > 0);
  // Which checkpoint, tokenizer, template and pool.
  const auto& ck = rec["checkpoint"];
  CHECK(ck["path"] == kFixture + "/checkpoint");
  CHECK(ck["architecture"] == "LlamaForCausalLM");
  CHECK(ck["config_sha256"] == lb::sha256_file(kFixture + "/checkpoint/config.json"));
  CHECK(ck["first_shard"] == "model.safetensors");
  CHECK(ck["first_shard_sha256"] == lb::sha256_file(kFixture + "/checkpoint/model.safetensors"));
  CHECK(rec["tokenizer"]["chat_template"] == "tulu");
  CHECK(rec["tokenizer"]["sha256"] == lb::sha256_file(kFixture + "/checkpoint/tokenizer.json"));
  CHECK(rec["tokenizer"]["vocab_size"] == 320);
  CHECK(rec["pool"]["sha256"] == lb::sha256_file(kFixture + "/pool.jsonl"));
  // Truncation at train.max_length = 128: the longest alpaca answers and multi-turn code samples (5 of 36).
  CHECK(rec["truncation"]["max_length"] == 128);
  CHECK(rec["truncation"]["truncated"].get<int64_t>() > 0);
  CHECK(rec["truncation"]["truncated"].get<int64_t>() < 36);
  CHECK(rec["memory_estimate"]["total"].get<int64_t>() > 0);
  CHECK(!rec.contains("world_version"));
  // LoRA from the config on the loaded model.
  CHECK(rec["base_model"]["trainable_parameters"].get<int64_t>() < rec["base_model"]["parameters"].get<int64_t>());
  // Both real suites were evaluated.
  CHECK(rec["suite_order"] == nlohmann::json({"gsm8k", "mmlu"}));
  CHECK(rec["suites"]["gsm8k"]["n"] == 3);
  CHECK(rec["suites"]["mmlu"]["n"] == 3);
}

}  // namespace

TEST_CASE("run on a checkpoint and a real pool: random, LEAD, iterative IFD", "[real_run]") {
  SECTION("random") { check_record(run_selector("random"), "random"); }
  SECTION("lead") {
    const nlohmann::json rec = run_selector("lead");
    check_record(rec, "lead");
    CHECK(rec["phases"]["offline_inference"]["forward_tokens"].get<int64_t>() > 0);
  }
  SECTION("iterative_ifd") {
    const nlohmann::json rec = run_selector("iterative_ifd");
    check_record(rec, "iterative_ifd");
    CHECK(rec["phases"]["selection_inference"]["forward_tokens"].get<int64_t>() > 0);
  }
  SECTION("superfiltering with its proxy checkpoint") {
    const nlohmann::json rec = run_selector("superfiltering", {"baselines.proxy_checkpoint=" + kFixture + "/proxy"});
    check_record(rec, "superfiltering");
    CHECK(rec["proxy_checkpoint"]["path"] == kFixture + "/proxy");
  }
}

TEST_CASE("the same real run twice gives the same picks and losses", "[real_run]") {
  const nlohmann::json a = run_selector("random"), b = run_selector("random");
  CHECK(a["selected"]["uids"] == b["selected"]["uids"]);
  CHECK(a["config_hash"] == b["config_hash"]);
  REQUIRE(a["rounds"].size() == b["rounds"].size());
  for (size_t i = 0; i < a["rounds"].size(); ++i)
    CHECK(a["rounds"][i]["mean_loss"].get<double>() == Approx(b["rounds"][i]["mean_loss"].get<double>()).epsilon(1e-5));
}

TEST_CASE("real-run config keys are hash-neutral at their defaults and checked", "[real_run]") {
  const lb::ExperimentConfig defaults;
  const nlohmann::json view = lb::experiment_hash_view(lb::experiment_config_json(defaults));
  CHECK(!view.contains("pool"));
  CHECK(!view["model"].contains("checkpoint"));
  CHECK(!view["model"].contains("chat_template"));
  CHECK(!view["train"].contains("max_length"));
  CHECK(!view["baselines"].contains("proxy_checkpoint"));
  CHECK(!view["eval"].contains("suites"));
  CHECK(!view["eval"].contains("data"));
  lb::ExperimentConfig c = defaults;
  c.model.checkpoint = "ckpt";
  CHECK(lb::experiment_config_hash(c) != lb::experiment_config_hash(defaults));
  CHECK(lb::experiment_hash_view(lb::experiment_config_json(c))["model"]["chat_template"] == "tulu");

  auto fails_with = [](const std::vector<std::string>& overrides, const std::string& text) {
    lb::ConfigSources sources;
    lb::ExperimentConfig cfg = lb::load_experiment_config("", overrides, &sources);
    try {
      lb::validate_experiment_config(cfg, "test", &sources);
      FAIL("expected a ConfigError mentioning " << text);
    } catch (const lb::ConfigError& e) {
      CHECK_THAT(e.what(), Catch::Contains(text));
    }
  };
  fails_with({"model.checkpoint=x"}, "pool.path");
  fails_with({"pool.path=x.jsonl"}, "model.checkpoint");
  fails_with({"model.chat_template=llama3"}, "model.chat_template");
  fails_with({"model.checkpoint=x", "pool.path=p", "selection.selector=superfiltering"}, "baselines.proxy_checkpoint");
  fails_with({"eval.suites=gsm8k"}, "eval.suites");
  fails_with({"model.checkpoint=x", "pool.path=p", "eval.suites=gsm8k"}, "eval.data");
  fails_with({"model.chat_template=vicuna"}, "tulu");
}

TEST_CASE("a checkpoint run names what is missing before any work", "[real_run]") {
  const fs::path dir = lbtest::fresh_dir("real_run_missing");
  // A checkpoint folder without tokenizer.json.
  const fs::path bare = dir / "bare";
  fs::create_directories(bare);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(kFixture + "/checkpoint/" + f, bare / f);
  const std::string cfg = real_config(dir);
  const std::string out = (dir / "r.json").string();
  REQUIRE_THROWS_WITH(lb::cmd_run({cfg, "selection.selector=random", "model.checkpoint=" + bare.string(), "--out", out, "--quiet"}),
                      Catch::Contains("no tokenizer.json") && Catch::Contains(bare.string()));
  REQUIRE_THROWS_WITH(lb::cmd_run({cfg, "selection.selector=random", "pool.path=" + (dir / "none.jsonl").string(), "--out", out, "--quiet"}),
                      Catch::Contains("none.jsonl"));
  REQUIRE_THROWS_WITH(lb::cmd_run({cfg, "selection.selector=random", "train.max_length=4096", "--out", out, "--quiet"}),
                      Catch::Contains("train.max_length") && Catch::Contains("512"));
  CHECK(!fs::exists(out));
}

TEST_CASE("eval --model evaluates a checkpoint on real suite items and writes predictions and scores", "[real_run]") {
  const fs::path dir = lbtest::fresh_dir("eval_model");
  for (const std::string suite : {"gsm8k", "mmlu"}) {
    REQUIRE(lb::cmd_eval_cli({"--model", kFixture + "/checkpoint", "--suite", suite, "--data", kFixture + "/suites", "--out",
                              dir.string(), "max_new_tokens=6", "prompts.gsm8k_shots=1", "prompts.mmlu_shots=2", "--quiet"}) == 0);
    const fs::path scores = dir / (suite + ".scores.json"), preds = dir / (suite + ".predictions.jsonl");
    REQUIRE(fs::exists(scores));
    REQUIRE(fs::exists(preds));
    const nlohmann::json j = lb::read_json_file(scores.string());
    CHECK(j["suite"] == suite);
    CHECK(j["n"] == 3);
    CHECK(j["checkpoint"]["config_sha256"] == lb::sha256_file(kFixture + "/checkpoint/config.json"));
    CHECK(j["tokenizer"]["chat_template"] == "tulu");
    CHECK(j["forward_tokens"].get<int64_t>() > 0);
    // The same results in lm-evaluation-harness's layout and one line per item.
    const nlohmann::json lm = lb::read_json_file((dir / (suite + ".lm_eval.json")).string());
    REQUIRE(lm.contains("results"));
    CHECK(lm["results"].contains(suite));
    CHECK(lm["n-samples"][suite]["effective"] == 3);
    std::ifstream samples(dir / (suite + ".samples.jsonl"));
    int lines = 0;
    for (std::string line; std::getline(samples, line);) ++lines;
    CHECK(lines == 3);
    // The predictions re-score to the same number with `eval --predictions`.
    const std::string rescored = (dir / (suite + ".rescored.json")).string();
    REQUIRE(lb::cmd_eval_cli({"--suite", suite, "--data", kFixture + "/suites", "--predictions", preds.string(), "--json",
                              rescored, "prompts.gsm8k_shots=1", "prompts.mmlu_shots=2", "--quiet"}) == 0);
    CHECK(lb::read_json_file(rescored)["value"].get<double>() == Approx(j["value"].get<double>()));
  }
  // eval.limit: a seeded subsample, recorded in the scores.
  const fs::path part = dir / "limited";
  REQUIRE(lb::cmd_eval_cli({"--model", kFixture + "/checkpoint", "--suite", "gsm8k", "--data", kFixture + "/suites", "--out",
                            part.string(), "max_new_tokens=4", "prompts.gsm8k_shots=1", "limit=2", "--quiet"}) == 0);
  const nlohmann::json lj = lb::read_json_file((part / "gsm8k.scores.json").string());
  CHECK(lj["n"] == 2);
  REQUIRE(lj.contains("limit"));
  CHECK(lj["limit"]["items_in_suite"] == 3);
  CHECK(lb::read_json_file((part / "gsm8k.lm_eval.json").string())["n-samples"]["gsm8k"]["original"] == 3);
  // Missing pieces are clear errors, not crashes.
  CHECK(lb::cmd_eval_cli({"--model", kFixture + "/checkpoint", "--adapter", (dir / "no-adapter").string(), "--suite",
                          "gsm8k", "--data", kFixture + "/suites", "--out", dir.string(), "--quiet"}) == 1);
  CHECK(lb::cmd_eval_cli({"--model", (dir / "nothing").string(), "--suite", "gsm8k", "--data", kFixture + "/suites",
                          "--out", dir.string()}) == 1);
  CHECK(lb::cmd_eval_cli({"--model", kFixture + "/checkpoint", "--suite", "gsm8k", "--data", kFixture + "/suites"}) == 2);
}

// A PEFT adapter written by save_peft_adapter: B = 0 leaves the model as it was (same answers as
// the base); a large B changes what it answers. The scores file names the adapter.
TEST_CASE("eval --model --adapter applies a PEFT adapter before evaluating", "[real_run]") {
  const fs::path dir = lbtest::fresh_dir("eval_model_adapter");
  auto make_adapter = [&](const std::string& name, double b_value) {
    lb::DecoderModel m = lb::load_hf_checkpoint(kFixture + "/checkpoint").model;
    lb::LoraConfig lora;
    lora.rank = 4;
    lora.alpha = 8;
    lora.targets = {"q", "v", "o", "down"};
    m->add_adapters(lora, /*init_seed=*/3);
    {
      torch::NoGradGuard ng;
      for (auto& p : m->named_parameters(true))
        if (p.key().size() > 7 && p.key().compare(p.key().size() - 7, 7, ".lora_b") == 0) p.value().fill_(b_value);
    }
    const std::string folder = (dir / name).string();
    lb::save_peft_adapter(m, folder);
    return folder;
  };
  auto eval_to = [&](const std::string& out, const std::string& adapter) {
    std::vector<std::string> args = {"--model", kFixture + "/checkpoint", "--suite", "gsm8k", "--data", kFixture + "/suites",
                                     "--out", (dir / out).string(), "max_new_tokens=6", "prompts.gsm8k_shots=1", "--quiet"};
    if (!adapter.empty()) args.insert(args.end(), {"--adapter", adapter});
    REQUIRE(lb::cmd_eval_cli(args) == 0);
    return lb::read_json_file((dir / out / "gsm8k.scores.json").string());
  };
  const nlohmann::json base = eval_to("base", "");
  const nlohmann::json zero = eval_to("zero", make_adapter("zero", 0.0));
  const nlohmann::json big = eval_to("big", make_adapter("big", 0.5));
  CHECK(!base.contains("adapter"));
  REQUIRE(zero.contains("adapter"));
  CHECK(zero["adapter"]["r"] == 4);
  CHECK(zero["adapter"]["parameters"].get<int64_t>() > 0);
  auto answers = [&](const std::string& out) {
    std::ifstream in(dir / out / "gsm8k.predictions.jsonl");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all;
  };
  CHECK(answers("zero") == answers("base"));
  // A large adapter moves the logits far beyond the base's margins (checked below), so the greedy
  // text it generates is another.
  CHECK(answers("big") != answers("base"));
  lb::DecoderModel with = lb::load_hf_checkpoint(kFixture + "/checkpoint").model;
  lb::load_peft_adapter(with, (dir / "big").string());
  with->eval();
  lb::DecoderModel plain = lb::load_hf_checkpoint(kFixture + "/checkpoint").model;
  torch::NoGradGuard ng;
  const torch::Tensor ids = torch::arange(1, 9, torch::kLong).unsqueeze(0);
  CHECK((with->forward(ids) - plain->forward(ids)).abs().max().item<double>() > 1e-2);
}

// The same command on a llama.cpp .gguf file: weights and tokenizer both come from the file.
TEST_CASE("eval --model reads a .gguf checkpoint with its own tokenizer", "[real_run]") {
  const fs::path dir = lbtest::fresh_dir("eval_model_gguf");
  const std::string gguf = std::string(LEADBENCH_SOURCE_DIR) + "/tests/core/golden/gguf/tiny_q8_0.gguf";
  REQUIRE(lb::cmd_eval_cli({"--model", gguf, "--suite", "gsm8k", "--data", kFixture + "/suites", "--out", dir.string(),
                            "max_new_tokens=4", "prompts.gsm8k_shots=1", "--quiet"}) == 0);
  const nlohmann::json j = lb::read_json_file((dir / "gsm8k.scores.json").string());
  CHECK(j["checkpoint"]["format"] == "gguf");
  CHECK(j["checkpoint"]["sha256"] == lb::sha256_file(gguf));
  CHECK(j["n"] == 3);
}
