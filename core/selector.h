// The common selector interface. A selector sees the pool, the shared trainer, the shared inference
// engine and a budget; it never reaches into evaluation. The experiment runner drives it:
//
//   selector.prepare(ctx);                       // offline stage (timed; may train warm-up models)
//   while (auto round = selector.next_round(ctx)) {
//     auto feedback = ctx.trainer.train_round(round->ids, round->epochs);
//     selector.observe(ctx, feedback);           // in-loop losses, gradient sketch, lr
//   }
//
// The runner times prepare/next_round/observe as Phase::selection; the engine and trainer charge
// their own work to the phase passed to them (Phase scopes nest exclusively, see ledger.h).
#pragma once

#include "core/inference.h"
#include "core/ledger.h"
#include "core/model.h"
#include "core/pool.h"
#include "core/result_cache.h"
#include "core/seeds.h"
#include "core/trainer.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lb {

struct Round {
  std::vector<SampleId> ids;  // samples to train this round (may repeat across rounds if the method allows)
  int epochs = 1;             // passes over `ids`
};

struct SelectionContext {
  const Pool& pool;
  const TokenCache& tokens;
  Trainer& trainer;          // the run's trainer; trainer.model() is the model being tuned
  InferenceEngine& engine;   // shared scoring engine
  Ledger& ledger;
  int64_t budget = 0;        // unique samples to select
  SeedConfig seeds;
  int epochs = 3;            // configured passes per selected sample (TrainConfig::epochs)
  // A fresh copy of the base model (with the run's adapter setup), e.g. for warm-up models.
  std::function<DecoderModel()> base_model;
  // A fresh copy of the small proxy base model (Superfiltering); empty when not configured.
  std::function<DecoderModel()> proxy_model;
  // A trainer with the run's TrainConfig around another model (warm-up models); its steps should
  // be charged to Phase::offline_training.
  std::function<std::unique_ptr<Trainer>(DecoderModel)> make_trainer;
  // Reuse of repeated offline work across the runs of a sweep (core/result_cache.h); null or
  // disabled: everything is computed. `cache_context` is the runner's part of every key: the base
  // model's and the tokens' content hashes and every config section that shapes offline work.
  ResultCache* cache = nullptr;
  nlohmann::json cache_context = nlohmann::json::object();
  // selection.full_batch_rounds: selectors with rounds (LEAD, the iterative baselines) size them in
  // whole batches of trainer.config().batch_size, so that they take the static protocol's optimizer
  // steps for the same sample passes. The runner sets it from the config; false: rounds as the
  // selector's rule gives them (the arithmetic of records made before the rule).
  bool full_batch_rounds = false;
};

class Selector {
 public:
  virtual ~Selector() = default;
  virtual std::string name() const = 0;
  // Offline stage: one-off scoring before training.
  virtual void prepare(SelectionContext& ctx) {}
  // The next round's samples, or nullopt when selection is finished.
  virtual std::optional<Round> next_round(SelectionContext& ctx) = 0;
  // What the trainer computed anyway during the round.
  virtual void observe(SelectionContext& ctx, const RoundFeedback& feedback) {}
  // Whether observe() reads RoundFeedback::grad_mean: the runner has the trainer compute the
  // gradient sketch only for selectors that ask, so that the others' costs carry no sketch.
  virtual bool wants_gradient_sketch() const { return false; }
  // Per-round telemetry and anything else worth keeping in the run record.
  virtual nlohmann::json telemetry() const { return nlohmann::json::object(); }
};

}  // namespace lb
