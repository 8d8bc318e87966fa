// LEAD (Lin et al., arXiv 2505.07437) behind the common Selector interface: offline IFD clusters
// and base-model utilities, then per round an EXP3 draw of a cluster, per-task top-utility
// selection, and an in-loop IDU update from the trainer's losses and gradient sketch. In the
// default configuration no forward pass happens outside training once the rounds start.
//
// Documented choices and fallbacks (each logged with a "lead:" line and listed in telemetry):
//   - budget > pool size: the budget is lowered to the pool size (the dev split excluded).
//   - the last round would overshoot the budget: it keeps every repeated sample (they add no unique
//     sample) and the best new samples by (utility desc, SampleId asc) up to the budget exactly.
//   - a drawn cluster with no eligible sample left is retired from the bandit (its probability mass
//     is renormalised over the live arms, no reward is recorded) and the draw is repeated; at most K
//     redraws per round; when every cluster is retired, selection stops with that reason.
//   - fewer distinct IFD values than K (all-zero IFD included): K is lowered (see kmeans1d.h).
//   - the quotas floor(n * rho) of the drawn cluster add up to fewer than lead.min_round_samples
//     (default one full batch): the floor is apportioned over the task groups by largest remainders;
//     with min_round_samples = 0 and every quota 0: one sample per task group (fine_select.h).
//   - selection.full_batch_rounds (the runner's default): the round's size is moved to the nearest
//     whole number of batches by largest remainders; only the round trimmed to the budget and the
//     last consolidation round (trimmed to the compute target) can end in a partial batch.
//   - a NaN in-loop loss: that sample keeps its utility and is left out of the reward; a NaN
//     utility (no response tokens) ranks last and is replaced by l + Delta L' once trained.
//   - no gradient sketch (train.sketch = none): Delta L' = 0.
//   - reward "dev_loss" scores a held-out dev split with the engine after every round: that
//     inference is charged to selection_inference, so this variant is NOT free of selection inference.
#pragma once

#include "core/selector.h"
#include "lead/bandit.h"
#include "lead/fine_select.h"
#include "lead/kmeans1d.h"
#include "lead/lead_config.h"
#include "lead/utility.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace lb {

class LeadSelector : public Selector {
 public:
  explicit LeadSelector(LeadConfig cfg = {});

  std::string name() const override { return "lead"; }
  void prepare(SelectionContext& ctx) override;
  std::optional<Round> next_round(SelectionContext& ctx) override;
  void observe(SelectionContext& ctx, const RoundFeedback& feedback) override;
  nlohmann::json telemetry() const override;
  // Delta L' needs the round's gradient sketch (unless the ablation turns the loss change off).
  bool wants_gradient_sketch() const override { return cfg_.use_loss_change; }

  // The end of the offline stage from precomputed scores: prepare() computes IFD and the base-model
  // losses and calls this; tests and benchmarks call it directly. Arrays are pool-sized;
  // held_out[i] != 0 leaves sample i out of selection (the dev split). Invalid IFD values must
  // already be mapped to 0 (ifd_from_losses).
  void setup(const std::vector<int>& task_of, std::vector<std::string> task_names, const std::vector<double>& ifd,
             std::vector<double> initial_utility, int64_t budget, uint64_t selection_seed,
             const std::vector<char>& held_out = {}, int64_t target_passes = 0);
  // next_round() without a context.
  std::optional<Round> select_round();
  // observe() without a context; dev_loss_after is the dev_loss reward's measurement (NaN otherwise).
  void update(const RoundFeedback& feedback, double dev_loss_after = std::numeric_limits<double>::quiet_NaN());

  const LeadConfig& config() const { return cfg_; }
  // The trainer's batch size, which lead.min_round_samples = -1 resolves to; prepare() sets it from
  // the run's trainer, callers of setup() may set it first (default: TrainConfig's).
  void set_batch_size(int batch_size) { batch_size_ = batch_size; }
  // selection.full_batch_rounds: every round's size moved to a whole number of batches
  // (fine_select.h); prepare() sets it from the context, callers of setup() may set it first.
  void set_full_batch_rounds(bool on) { full_batch_rounds_ = on; }
  bool full_batch_rounds() const { return full_batch_rounds_; }
  int64_t round_floor() const { return round_floor_; }
  const std::vector<double>& utility() const { return utility_; }
  const std::vector<int32_t>& uses() const { return uses_; }
  const std::vector<int>& cluster_of() const { return cluster_of_; }
  const KMeans1D& clusters() const { return kmeans_; }
  const ClusterTaskIndex& groups() const { return groups_; }
  const Exp3Bandit& bandit() const { return *bandit_; }
  int64_t unique_selected() const { return unique_; }
  int64_t budget() const { return budget_; }
  // Sample passes issued so far, and the compute target of match_compute (0 = none).
  int64_t passes() const { return passes_; }
  int64_t target_passes() const { return target_passes_; }
  // Seconds spent in select_round() and update(): LEAD's own online bookkeeping.
  double bookkeeping_seconds() const { return bookkeeping_seconds_; }
  int64_t rounds_issued() const { return rounds_issued_; }
  const std::string& stop_reason() const { return stop_reason_; }
  const std::vector<std::string>& fallbacks() const { return fallbacks_; }
  // The loss-change estimate of the last observed round.
  const LossChange& last_loss_change() const { return last_loss_change_; }

 private:
  void fallback(const std::string& what);  // logs and records a fallback
  void stop(const std::string& why);

  LeadConfig cfg_;
  // Pool-sized bookkeeping.
  std::vector<double> utility_;  // U(x)
  std::vector<int32_t> uses_;    // times selected for training
  std::vector<int> cluster_of_;  // -1: held out
  std::vector<int> task_of_;
  std::vector<std::string> task_names_;
  KMeans1D kmeans_;
  ClusterTaskIndex groups_;
  std::vector<int64_t> cluster_eligible_;    // per cluster: members with uses < max_uses
  std::vector<int64_t> cluster_repeatable_;  // per cluster: members with 1 <= uses < max_uses
  std::optional<Exp3Bandit> bandit_;
  Rng bandit_rng_{0};
  FineSelectScratch scratch_;

  int64_t budget_ = 0;
  int64_t unique_ = 0;
  int64_t passes_ = 0;         // sample passes issued (sum of round sizes)
  int64_t target_passes_ = 0;  // match_compute: stop once passes_ reaches this (0 = at the budget)
  bool consolidating_ = false;  // budget reached; rounds re-select among already-trained samples
  double bookkeeping_seconds_ = 0;
  double training_seconds_ = 0;  // the run's training time at the last observe (for the share)
  int64_t rounds_issued_ = 0;
  int pending_cluster_ = -1;
  bool prepared_ = false;
  bool min_one_logged_ = false;
  int batch_size_ = TrainConfig{}.batch_size;
  bool full_batch_rounds_ = false;
  int64_t round_floor_ = 0;  // samples per round at least (0 = none); from cfg_ and batch_size_ in setup
  std::string stop_reason_;

  // Loss-change state: each cluster's last gradient sketch (1-D float32 CPU, undefined: the
  // cluster has not been trained yet); g_prev = g_cluster_[prev_cluster_]. The tensors are the
  // trainer's own feedback tensors, kept by reference (the trainer hands a fresh one every round).
  int prev_cluster_ = -1;  // cluster trained by the previous round with a sketch; -1: none yet
  std::vector<torch::Tensor> g_cluster_;
  std::vector<double> g_cluster_norm2_;  // |g_cluster_[c]|^2, computed once when the sketch is stored
  bool no_sketch_logged_ = false;
  LossChange last_loss_change_;

  // dev_loss reward.
  std::vector<SampleId> dev_ids_;
  double dev_loss_prev_ = std::numeric_limits<double>::quiet_NaN();

  std::vector<std::string> fallbacks_;
  nlohmann::json offline_ = nlohmann::json::object();
  nlohmann::json rounds_ = nlohmann::json::array();
};

}  // namespace lb
