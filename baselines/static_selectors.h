// Select-once baselines: score the pool once in prepare() (charged to offline_inference, warm-up
// training to offline_training), then hand the trainer one round of ctx.budget samples for
// ctx.epochs passes. Random, Full data, Longest response, Perplexity (high/low), IFD (Cherry LLM)
// and Superfiltering (IFD from a small proxy model).
#pragma once

#include "baselines/baseline_config.h"
#include "core/selector.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lb {

// Checks 0 < budget <= pool size; throws std::invalid_argument naming the selector otherwise.
void check_budget(const std::string& selector, int64_t budget, size_t pool_size);

class StaticSelector : public Selector {
 public:
  void prepare(SelectionContext& ctx) override;
  std::optional<Round> next_round(SelectionContext& ctx) override;
  nlohmann::json telemetry() const override { return telemetry_; }
  const std::vector<SampleId>& selected() const { return selected_; }

 protected:
  // Chooses the samples (called once, from prepare).
  virtual std::vector<SampleId> choose(SelectionContext& ctx) = 0;
  nlohmann::json telemetry_ = nlohmann::json::object();

 private:
  std::vector<SampleId> selected_;
  bool prepared_ = false;
  bool done_ = false;
};

class RandomSelector : public StaticSelector {
 public:
  std::string name() const override { return "random"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;
};

// The whole pool, ignoring the budget: the reference point for "x % of the data beats all of it".
class FullSelector : public StaticSelector {
 public:
  std::string name() const override { return "full"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;
};

// Longest responses in tokens (TokenCache::response_tokens); ties broken by the untruncated
// response length, then by id.
class LongestSelector : public StaticSelector {
 public:
  std::string name() const override { return "longest"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;
};

// Base-model response perplexity exp(mean response-token loss); `high` picks the most perplexing.
class PerplexitySelector : public StaticSelector {
 public:
  explicit PerplexitySelector(bool high) : high_(high) {}
  std::string name() const override { return high_ ? "ppl_high" : "ppl_low"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;

 private:
  bool high_;
};

// Cherry LLM: train a warm-up model on a small subset, score IFD with it, keep the top IFD < 1.
class IfdSelector : public StaticSelector {
 public:
  explicit IfdSelector(BaselineConfig cfg) : cfg_(std::move(cfg)) {}
  std::string name() const override { return "ifd"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;

 private:
  std::vector<SampleId> warmup_subset(SelectionContext& ctx, int64_t n);
  BaselineConfig cfg_;
};

// Superfiltering: IFD from the small pre-trained proxy model directly (no warm-up), top IFD < 1.
class SuperfilteringSelector : public StaticSelector {
 public:
  std::string name() const override { return "superfiltering"; }

 protected:
  std::vector<SampleId> choose(SelectionContext& ctx) override;
};

// Scores IFD of `ids` with `model`, charging the forward passes to `phase`; fills telemetry
// counts (valid, below_one) into `tel`.
std::vector<double> score_ifd(SelectionContext& ctx, DecoderModel& model, const std::vector<SampleId>& ids, Phase phase,
                              nlohmann::json& tel);

// All pool ids 0..n-1.
std::vector<SampleId> all_ids(size_t n);

}  // namespace lb
