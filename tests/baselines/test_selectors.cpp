// End-to-end tests of every baseline on a tiny hand-made pool and a tiny decoder: exact budget, no
// sample twice, determinism for a seed, Longest's rule, and the iterative selectors' per-round
// re-scoring of the whole remaining pool (their selection_inference counters).
#include "baselines/factory.h"
#include "baselines/fixed_selector.h"
#include "core/json_io.h"
#include "baselines/iterative_selectors.h"
#include "baselines/static_selectors.h"
#include "core/inference.h"
#include "core/trainer.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

using namespace lb;

namespace {

Pool tiny_pool(int n) {
  Pool pool;
  const char* sources[] = {"alpha", "beta", "gamma"};
  for (int i = 0; i < n; ++i) {
    Sample s;
    s.uid = "s" + std::to_string(i);
    s.dataset = sources[i % 3];
    std::string prompt = "question " + std::to_string(i) + (i % 2 ? " about cats" : " on numbers");
    // Distinct response lengths: sample i has 3 + (i * 7) % 41 bytes.
    std::string answer(3 + (i * 7) % 41, static_cast<char>('a' + i % 26));
    s.messages = {{"user", prompt}, {"assistant", answer}};
    pool.add(s);
  }
  return pool;
}

ModelConfig tiny_model() {
  ModelConfig m;
  m.d_model = 16;
  m.n_layers = 1;
  m.n_heads = 2;
  m.n_kv_heads = 2;
  m.d_ff = 32;
  m.max_seq_len = 96;
  return m;
}

struct World {
  Pool pool;
  ByteTokenizer tok;
  TokenCache tokens;
  Ledger ledger;
  TrainConfig train;
  std::unique_ptr<Trainer> trainer;
  std::unique_ptr<InferenceEngine> engine;
  SeedConfig seeds;
  bool with_proxy = true;

  explicit World(int n = 36) : pool(tiny_pool(n)) {
    tokens = TokenCache::build(pool, tok, 96);  // no sample is truncated: all response lengths differ
    train.batch_size = 4;
    train.lr = 1e-3;
    train.sketch = "none";
    trainer = std::make_unique<Trainer>(DecoderModel(tiny_model(), LoraConfig{}, 11), train, tokens, ledger,
                                        torch::kCPU, seeds.data_order);
    engine = std::make_unique<InferenceEngine>(tokens, ledger, torch::kCPU);
  }
  SelectionContext context(int64_t budget) {
    SelectionContext ctx{pool, tokens, *trainer, *engine, ledger, budget, seeds, /*epochs=*/1, {}, {}, {}};
    ctx.base_model = [] { return DecoderModel(tiny_model(), LoraConfig{}, 11); };
    if (with_proxy) {
      ctx.proxy_model = [] {
        ModelConfig p = tiny_model();
        p.d_model = 8;
        p.d_ff = 16;
        return DecoderModel(p, LoraConfig{}, 12);
      };
    }
    ctx.make_trainer = [this](DecoderModel m) {
      return std::make_unique<Trainer>(std::move(m), train, tokens, ledger, torch::kCPU, seeds.data_order);
    };
    return ctx;
  }
};

struct RunResult {
  std::vector<SampleId> unique_selected;   // in first-selected order
  std::vector<std::vector<SampleId>> rounds;
  nlohmann::json telemetry;
};

// The runner's loop (selector.h).
RunResult run_selector(Selector& sel, SelectionContext& ctx) {
  RunResult out;
  std::set<SampleId> seen;
  sel.prepare(ctx);
  int guard = 0;
  while (auto round = sel.next_round(ctx)) {
    REQUIRE(++guard < 100);
    out.rounds.push_back(round->ids);
    for (auto id : round->ids)
      if (seen.insert(id).second) out.unique_selected.push_back(id);
    auto fb = ctx.trainer.train_round(round->ids, round->epochs);
    sel.observe(ctx, fb);
  }
  out.telemetry = sel.telemetry();
  return out;
}

}  // namespace

TEST_CASE("every baseline selects exactly the budget, never twice, deterministically", "[baselines]") {
  BaselineConfig cfg;
  cfg.warmup_fraction = 0.2;
  cfg.perturbations = 3;
  cfg.iterative_ifd_rounds = 3;
  cfg.diverse_evol_rounds = 2;
  cfg.prompt_uncertainty_rounds = 2;
  for (const auto& name : baseline_names()) {
    INFO("selector " << name);
    World w1, w2;
    auto c1 = w1.context(10), c2 = w2.context(10);
    auto s1 = make_baseline(name, cfg), s2 = make_baseline(name, cfg);
    auto r1 = run_selector(*s1, c1), r2 = run_selector(*s2, c2);
    const size_t want = name == "full" ? w1.pool.size() : 10;
    CHECK(r1.unique_selected.size() == want);
    size_t trained = 0;
    for (auto& r : r1.rounds) trained += r.size();
    CHECK(trained == want);  // train_mode "new": no sample handed to the trainer twice
    CHECK(r1.unique_selected == r2.unique_selected);
    CHECK(r1.telemetry.is_object());
  }
  CHECK_THROWS_WITH(make_baseline("lead_but_misspelled", cfg), Catch::Contains("known: random"));
}

TEST_CASE("a different selection seed changes random picks", "[baselines]") {
  World w1, w2;
  w2.seeds.selection = 999;
  auto c1 = w1.context(10), c2 = w2.context(10);
  RandomSelector a, b;
  CHECK(run_selector(a, c1).unique_selected != run_selector(b, c2).unique_selected);
}

TEST_CASE("longest picks the longest responses", "[baselines]") {
  World w;
  auto ctx = w.context(5);
  LongestSelector sel;
  auto picked = run_selector(sel, ctx).unique_selected;
  std::vector<SampleId> ids(w.pool.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<SampleId>(i);
  std::stable_sort(ids.begin(), ids.end(),
                   [&](SampleId a, SampleId b) { return w.tokens.response_tokens(a) > w.tokens.response_tokens(b); });
  ids.resize(5);
  CHECK(picked == ids);
  CHECK(w.tokens.response_tokens(picked.back()) > w.tokens.response_tokens(static_cast<SampleId>(0)));
}

TEST_CASE("budget errors and a missing proxy model are clear errors", "[baselines]") {
  World w;
  w.with_proxy = false;
  auto ctx = w.context(10);
  SuperfilteringSelector sf;
  CHECK_THROWS_WITH(sf.prepare(ctx), Catch::Contains("proxy"));
  auto big = w.context(1000);
  RandomSelector r;
  CHECK_THROWS_WITH(r.prepare(big), Catch::Contains("exceeds the pool"));
  DiverseEvolSelector d{BaselineConfig{}};
  CHECK_THROWS_WITH(d.prepare(big), Catch::Contains("exceeds the pool"));
}

TEST_CASE("static scoring is charged to offline phases, never to selection_inference", "[baselines]") {
  World w;
  auto ctx = w.context(10);
  BaselineConfig cfg;
  cfg.warmup_fraction = 0.2;
  IfdSelector ifd(cfg);
  auto r = run_selector(ifd, ctx);
  CHECK(w.ledger.stats(Phase::offline_training).backward_tokens > 0);
  CHECK(w.ledger.stats(Phase::offline_inference).samples == 2 * static_cast<int64_t>(w.pool.size()));
  CHECK(w.ledger.stats(Phase::selection_inference).samples == 0);
  CHECK(r.telemetry["ifd"]["scored"] == static_cast<int64_t>(w.pool.size()));
}

TEST_CASE("iterative selectors re-score the whole remaining pool every round", "[baselines]") {
  BaselineConfig cfg;
  cfg.iterative_ifd_rounds = 3;
  cfg.diverse_evol_rounds = 2;
  cfg.prompt_uncertainty_rounds = 2;
  cfg.perturbations = 3;
  const int64_t n = 36, budget = 9;
  // Expected scored sequences per round, from the remaining pool size before the round.
  struct Case {
    std::string name;
    bool random_first;
    int64_t per_remaining;  // sequences per remaining sample (0: the whole pool once)
  };
  for (const Case& c : {Case{"iterative_ifd", false, 2}, Case{"diverse_evol", true, 0},
                        Case{"prompt_uncertainty", true, 1 + cfg.perturbations}}) {
    INFO("selector " << c.name);
    World w(static_cast<int>(n));
    auto ctx = w.context(budget);
    auto sel = make_baseline(c.name, cfg);
    auto r = run_selector(*sel, ctx);
    auto rounds = r.telemetry["rounds"];
    REQUIRE(rounds.size() == 3);
    int64_t remaining = n, expect_total = 0;
    for (size_t i = 0; i < rounds.size(); ++i) {
      int64_t expect = 0;
      if (!(i == 0 && c.random_first)) expect = c.per_remaining ? c.per_remaining * remaining : n;
      CHECK(rounds[i]["scoring_samples"].get<int64_t>() == expect);
      CHECK(rounds[i]["added"].get<int64_t>() == 3);
      expect_total += expect;
      remaining -= rounds[i]["added"].get<int64_t>();
    }
    CHECK(w.ledger.stats(Phase::selection_inference).samples == expect_total);
    CHECK(w.ledger.stats(Phase::selection_inference).forward_tokens > 0);
    CHECK(w.ledger.stats(Phase::offline_inference).samples == 0);
  }
}

TEST_CASE("cumulative train mode hands every round all samples selected so far", "[baselines]") {
  BaselineConfig cfg;
  cfg.train_mode = "cumulative";
  cfg.iterative_ifd_rounds = 3;
  World w;
  auto ctx = w.context(9);
  IterativeIfdSelector sel(cfg);
  auto r = run_selector(sel, ctx);
  REQUIRE(r.rounds.size() == 3);
  CHECK(r.rounds[0].size() == 3);
  CHECK(r.rounds[1].size() == 6);
  CHECK(r.rounds[2].size() == 9);
  CHECK(r.unique_selected.size() == 9);
}

TEST_CASE("IFD with Cherry's k-means warm-up sampling embeds the pool once more and still meets the budget", "[baselines]") {
  World w;
  auto ctx = w.context(10);
  BaselineConfig cfg;
  cfg.warmup_sampling = "kmeans";
  cfg.warmup_clusters = 4;
  cfg.warmup_min_samples = 8;
  IfdSelector ifd(cfg);
  auto r = run_selector(ifd, ctx);
  CHECK(r.unique_selected.size() == 10);
  CHECK(r.telemetry["warmup_clusters"] == 4);
  CHECK(r.telemetry["warmup_samples"] == 8);
  // embeddings (1 pass) + conditioned and response-only losses (2 passes) with the warm-up model
  CHECK(w.ledger.stats(Phase::offline_inference).samples == 3 * static_cast<int64_t>(w.pool.size()));
  World w2;
  auto ctx2 = w2.context(10);
  IfdSelector again(cfg);
  CHECK(run_selector(again, ctx2).unique_selected == r.unique_selected);
  cfg.warmup_sampling = "clusters";
  IfdSelector bad(cfg);
  World w3;
  auto ctx3 = w3.context(10);
  CHECK_THROWS_WITH(bad.prepare(ctx3), Catch::Contains("warmup_sampling"));
}

namespace {

std::filesystem::path fixed_test_dir() {
  return std::filesystem::temp_directory_path() / ("leadbench_test_fixed_" + std::to_string(::getpid()));
}

std::string write_temp(const std::string& name, const std::string& text) {
  auto dir = fixed_test_dir();
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string load_error(const std::string& path, const Pool& pool) {
  try {
    load_fixed_ids(path, pool);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("fixed: the replay list from a record, a JSON list or a file of uids", "[baselines][fixed]") {
  Pool pool = tiny_pool(12);
  const std::vector<SampleId> want = {7, 2, 9};
  CHECK(load_fixed_ids(write_temp("ids.txt", "s7\n  s2 \n\ns9\n"), pool) == want);
  CHECK(load_fixed_ids(write_temp("ids.json", "[\"s7\", \"s2\", \"s9\"]"), pool) == want);
  CHECK(load_fixed_ids(write_temp("rec.json", R"({"selected": {"unique": 3, "uids": ["s7", "s2", "s9"]}})"), pool) == want);
  std::filesystem::remove_all(fixed_test_dir());
}

TEST_CASE("fixed: unknown, repeated or no ids are errors naming the file and the entry", "[baselines][fixed][bad-input]") {
  Pool pool = tiny_pool(12);
  std::string path = write_temp("unknown.txt", "s1\ns99\n");
  std::string e = load_error(path, pool);
  CHECK_THAT(e, Catch::Contains(path) && Catch::Contains("line 2") && Catch::Contains("s99") && Catch::Contains("not in the pool"));
  path = write_temp("twice.json", "[\"s1\", \"s3\", \"s1\"]");
  e = load_error(path, pool);
  CHECK_THAT(e, Catch::Contains(path) && Catch::Contains("entry 2") && Catch::Contains("listed twice") &&
                    Catch::Contains("entry 0"));
  path = write_temp("empty.txt", "\n  \n");
  CHECK_THAT(load_error(path, pool), Catch::Contains(path) && Catch::Contains("empty"));
  path = write_temp("empty_record.json", R"({"selected": {"uids": []}})");
  CHECK_THAT(load_error(path, pool), Catch::Contains(path) && Catch::Contains("empty"));
  path = write_temp("not_record.json", R"({"selected": 3})");
  CHECK_THAT(load_error(path, pool), Catch::Contains(path) && Catch::Contains("selected.uids"));
  path = write_temp("numbers.json", "[1, 2]");
  CHECK_THAT(load_error(path, pool), Catch::Contains("entry 0") && Catch::Contains("not a uid string"));
  CHECK_THAT(load_error("/nonexistent/ids.txt", pool), Catch::Contains("/nonexistent/ids.txt") && Catch::Contains("not found"));
  std::filesystem::remove_all(fixed_test_dir());
}

TEST_CASE("fixed: trains the listed samples once, for the configured epochs, in full batches", "[baselines][fixed]") {
  World w;
  auto ctx = w.context(10);
  ctx.epochs = 2;
  const std::vector<SampleId> ids = {5, 1, 30, 12, 7, 8, 21, 3};
  FixedSelector sel(ids, "picks.txt");
  CHECK_FALSE(sel.wants_gradient_sketch());
  sel.prepare(ctx);
  auto round = sel.next_round(ctx);
  REQUIRE(round);
  CHECK(round->ids == ids);
  CHECK(round->epochs == 2);
  const int64_t before = w.trainer->step();
  RoundFeedback fb = w.trainer->train_round(round->ids, round->epochs);
  CHECK(w.trainer->step() - before == 4);  // 2 epochs x 8 samples / batch 4: full batches only
  CHECK(fb.steps == 4);
  CHECK_FALSE(sel.next_round(ctx).has_value());
  CHECK(sel.telemetry()["source"] == "picks.txt");
  CHECK(sel.telemetry()["listed"] == 8);
}
