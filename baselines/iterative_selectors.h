// Iterative model-aware baselines: after every training round they re-score the WHOLE remaining
// pool with the current model (ctx.trainer.model(), charged to selection_inference), add the best
// samples, train, and repeat until exactly ctx.budget unique samples were selected. This is the class
// of selectors LEAD's cost claim is about. Iterative IFD, DiverseEvol (k-center on current-model
// embeddings) and prompt uncertainty (Active Instruction Tuning).
#pragma once

#include "baselines/baseline_config.h"
#include "baselines/kcenter.h"
#include "core/selector.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lb {

class IterativeSelector : public Selector {
 public:
  explicit IterativeSelector(BaselineConfig cfg) : cfg_(std::move(cfg)) {}
  void prepare(SelectionContext& ctx) override;
  std::optional<Round> next_round(SelectionContext& ctx) override;
  nlohmann::json telemetry() const override;
  const std::vector<SampleId>& selected() const { return selected_; }
  // Planned number of new samples per round (sums to the budget; whole batches but for the last
  // round's remainder under ctx.full_batch_rounds, see split_in_batches).
  const std::vector<int64_t>& round_sizes() const { return sizes_; }

 protected:
  // Number of rounds the budget is split into (a random seed round, if any, included).
  virtual int planned_rounds() const = 0;
  // Whether round 0 is a random seed set (DiverseEvol, AIT) rather than a scored round.
  virtual bool random_first_round() const { return false; }
  // Picks `k` of `remaining` (never-selected ids, ascending) with the current model; may record
  // per-round details in `info`.
  virtual std::vector<SampleId> pick(SelectionContext& ctx, const std::vector<SampleId>& remaining, int64_t k,
                                     nlohmann::json& info) = 0;
  BaselineConfig cfg_;
  std::vector<SampleId> selected_;  // in selection order

 private:
  std::vector<int64_t> sizes_;
  bool full_batch_rounds_ = false;
  std::vector<uint8_t> taken_;
  size_t round_ = 0;
  bool prepared_ = false;
  nlohmann::json rounds_ = nlohmann::json::array();
};

// Each round: IFD of every unselected sample under the current model; the top IFD < 1 join.
class IterativeIfdSelector : public IterativeSelector {
 public:
  using IterativeSelector::IterativeSelector;
  std::string name() const override { return "iterative_ifd"; }

 protected:
  int planned_rounds() const override { return cfg_.iterative_ifd_rounds; }
  std::vector<SampleId> pick(SelectionContext& ctx, const std::vector<SampleId>& remaining, int64_t k,
                             nlohmann::json& info) override;
};

// DiverseEvol (Wu et al. 2023): a random seed set, then each round embeds the whole pool with the
// current model (mean-pooled final hidden states) and adds samples by greedy k-center.
class DiverseEvolSelector : public IterativeSelector {
 public:
  using IterativeSelector::IterativeSelector;
  std::string name() const override { return "diverse_evol"; }

 protected:
  int planned_rounds() const override { return cfg_.diverse_evol_rounds + 1; }
  bool random_first_round() const override { return true; }
  std::vector<SampleId> pick(SelectionContext& ctx, const std::vector<SampleId>& remaining, int64_t k,
                             nlohmann::json& info) override;
};

// Active Instruction Tuning (Kung et al. 2023): a random seed set, then each round perturbs every
// unselected instruction `perturbations` times (each instruction token dropped with `drop_rate`)
// and adds the samples whose response likelihood moves most (mean |p_perturbed - p_original|).
class PromptUncertaintySelector : public IterativeSelector {
 public:
  using IterativeSelector::IterativeSelector;
  std::string name() const override { return "prompt_uncertainty"; }

 protected:
  int planned_rounds() const override { return cfg_.prompt_uncertainty_rounds + 1; }
  bool random_first_round() const override { return true; }
  std::vector<SampleId> pick(SelectionContext& ctx, const std::vector<SampleId>& remaining, int64_t k,
                             nlohmann::json& info) override;

 private:
  int64_t scored_rounds_ = 0;
};

// A perturbed copy of `seq`: every instruction token (a byte outside the loss mask) is dropped with
// probability `drop_rate`; special tokens and response tokens are kept. Pure, for tests.
Encoded drop_instruction_tokens(const Encoded& seq, double drop_rate, Rng& rng);

}  // namespace lb
