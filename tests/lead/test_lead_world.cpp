// The whole LEAD selector on a tiny hand-built world (a tiny pool, a tiny DecoderModel, the shared
// trainer and engine): zero selection inference in the default configuration, determinism for a seed.
#include "lead/lead_selector.h"

#include <catch2/catch.hpp>

#include <memory>

using namespace lb;

namespace {

// 3 tasks x 16 samples of short arithmetic-style chats.
Pool tiny_pool() {
  Pool pool;
  const char* tasks[] = {"add", "echo", "count"};
  for (int t = 0; t < 3; ++t)
    for (int i = 0; i < 16; ++i) {
      Sample s;
      s.uid = std::string(tasks[t]) + "-" + std::to_string(i);
      s.dataset = tasks[t];
      std::string q, a;
      if (t == 0) {
        q = std::to_string(i) + "+" + std::to_string(i % 5) + "=?";
        a = std::to_string(i + i % 5);
      } else if (t == 1) {
        q = "say " + std::string(static_cast<size_t>(1 + i % 7), 'x');
        a = std::string(static_cast<size_t>(1 + i % 7), 'x');
      } else {
        q = "count to " + std::to_string(i % 6);
        for (int k = 1; k <= i % 6; ++k) a += std::to_string(k) + " ";
        if (i % 4 == 0) a = "no";  // a few odd answers
      }
      s.messages = {{"user", q}, {"assistant", a}};
      pool.add(std::move(s));
    }
  return pool;
}

struct TinyWorld {
  Pool pool = tiny_pool();
  TokenCache tokens;
  Ledger ledger;
  ModelConfig model_cfg;
  LoraConfig lora;
  TrainConfig train_cfg;
  std::unique_ptr<InferenceEngine> engine;
  std::unique_ptr<Trainer> trainer;

  TinyWorld() {
    model_cfg.d_model = 32;
    model_cfg.n_layers = 2;
    model_cfg.n_heads = 2;
    model_cfg.n_kv_heads = 2;
    model_cfg.d_ff = 64;
    model_cfg.max_seq_len = 48;
    train_cfg.lr = 3e-3;
    train_cfg.batch_size = 4;
    tokens = TokenCache::build(pool, ByteTokenizer{}, model_cfg.max_seq_len);
    engine = std::make_unique<InferenceEngine>(tokens, ledger, torch::kCPU);
    trainer = std::make_unique<Trainer>(DecoderModel(model_cfg, lora, 1), train_cfg, tokens, ledger, torch::kCPU, 2);
  }

  SelectionContext context(int64_t budget, uint64_t selection_seed) {
    SelectionContext ctx{pool, tokens, *trainer, *engine, ledger};
    ctx.budget = budget;
    ctx.seeds.selection = selection_seed;
    ctx.base_model = [this]() { return DecoderModel(model_cfg, lora, 1); };
    ctx.make_trainer = [this](DecoderModel m) {
      return std::make_unique<Trainer>(m, train_cfg, tokens, ledger, torch::kCPU, 2);
    };
    return ctx;
  }
};

struct RunResult {
  std::vector<std::vector<SampleId>> rounds;
  std::vector<double> utility;
  nlohmann::json telemetry;
};

// The runner's loop (see core/selector.h).
RunResult run_lead(TinyWorld& w, LeadConfig cfg, int64_t budget, uint64_t seed) {
  LeadSelector sel(cfg);
  SelectionContext ctx = w.context(budget, seed);
  {
    auto s = w.ledger.scope(Phase::selection);
    sel.prepare(ctx);
  }
  RunResult out;
  for (int guard = 0; guard < 200; ++guard) {
    std::optional<Round> round;
    {
      auto s = w.ledger.scope(Phase::selection);
      round = sel.next_round(ctx);
    }
    if (!round) break;
    out.rounds.push_back(round->ids);
    RoundFeedback fb = w.trainer->train_round(round->ids, round->epochs);
    auto s = w.ledger.scope(Phase::selection);
    sel.observe(ctx, fb);
  }
  out.utility = sel.utility();
  out.telemetry = sel.telemetry();
  return out;
}

LeadConfig tiny_config() {
  LeadConfig cfg;
  cfg.num_clusters = 3;
  cfg.rho = 0.25;
  cfg.warmup_fraction = 0.1;
  cfg.warmup_epochs = 2;
  return cfg;
}

}  // namespace

TEST_CASE("LEAD on a tiny world: no selection inference, budget met, telemetry complete", "[lead][world]") {
  TinyWorld w;
  RunResult r = run_lead(w, tiny_config(), 12, 3);
  REQUIRE(!r.rounds.empty());
  CHECK(r.telemetry["unique_selected"] == 12);
  CHECK(w.ledger.stats(Phase::selection_inference).forward_tokens == 0);
  CHECK(w.ledger.stats(Phase::selection_inference).samples == 0);
  CHECK(w.ledger.stats(Phase::offline_inference).forward_tokens > 0);  // IFD and base loss
  CHECK(w.ledger.stats(Phase::offline_training).backward_tokens > 0);  // warm-up model
  CHECK(w.ledger.stats(Phase::training).backward_tokens > 0);
  const auto& off = r.telemetry["offline"];
  CHECK(off["warmup_samples"] == 4);  // floor(48 * 0.1)
  CHECK(off["pool_size"] == 48);
  CHECK(off["tasks"].size() == 3);
  for (const auto& rec : r.telemetry["rounds"]) {
    for (const char* key : {"cluster", "probabilities", "raw_reward", "normalised_reward", "beta", "delta_loss",
                            "per_task", "unique_so_far", "phase_seconds"})
      CHECK(rec.contains(key));
  }
  // The first round has no previous gradient; later rounds use the trainer's sketch.
  CHECK(r.telemetry["rounds"][0]["loss_change_case"] == "first_round");
  if (r.telemetry["rounds"].size() > 1) CHECK(r.telemetry["rounds"][1]["loss_change_case"] != "first_round");
}

TEST_CASE("LEAD on a tiny world is deterministic for a seed", "[lead][world]") {
  TinyWorld a, b;
  RunResult ra = run_lead(a, tiny_config(), 10, 5);
  RunResult rb = run_lead(b, tiny_config(), 10, 5);
  CHECK(ra.rounds == rb.rounds);
  CHECK(ra.utility == rb.utility);
  CHECK(ra.telemetry["offline"]["ifd_centroids"] == rb.telemetry["offline"]["ifd_centroids"]);
}

TEST_CASE("LEAD dev_loss reward does charge selection inference", "[lead][world]") {
  TinyWorld w;
  LeadConfig cfg = tiny_config();
  cfg.reward = "dev_loss";
  cfg.dev_samples = 4;
  RunResult r = run_lead(w, cfg, 8, 3);
  CHECK(w.ledger.stats(Phase::selection_inference).forward_tokens > 0);
  CHECK(r.telemetry["selection_inference_free"] == false);
  CHECK(r.telemetry["offline"]["dev_samples"] == 4);
}
