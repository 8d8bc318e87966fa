// LEAD's configuration: every constant of DESIGN.md ("LEAD, as this harness implements it") as a
// config key with the paper's default, plus the ablation switches.
#pragma once

#include "core/config.h"

#include <cstdint>
#include <string>

namespace lb {

struct LeadConfig {
  // Offline stage.
  double warmup_fraction = 0.01;  // share of the pool the warm-up model is trained on (paper: 1 %)
  int warmup_epochs = 4;          // warm-up passes (paper: 4)
  int num_clusters = 7;           // K of the 1-D k-means on IFD; 1 = no clustering
  int kmeans_max_iterations = 100;  // Lloyd iterations cap (1-D converges in a few)

  // Online rounds.
  std::string bandit = "exp3";  // exp3 | uniform (no bandit)
  double gamma = 0.1;           // EXP3 exploration rate
  double alpha = 0.0;           // EXP3.S share term (Auer et al. 2002); 0 = plain EXP3
  double rho = 0.015;           // share of each cluster x task group selected per round
  int max_uses = 4;             // a sample is eligible while trained fewer than this many times
  double smoothing = 0.1;       // b of the IDU update; 0 = no smoothing
  bool use_loss_change = true;  // add Delta L' to the in-loop loss; false = IU + smoothing only
  std::string reward = "learning_progress";  // learning_progress | mean_idu | dev_loss
  int64_t dev_samples = 64;     // dev_loss reward: held-out dev split size (taken out of selection)
  int64_t max_rounds = 1000;    // hard cap on rounds (the budget normally stops first)
  // Training compute: once the budget of unique samples is reached, keep running rounds over the
  // samples already selected (still eligible: trained < max_uses times) until LEAD has trained as
  // many sample passes as a static selector does (budget x train.epochs). Without it LEAD would
  // stop after ~1 pass per sample while every baseline trains train.epochs passes.
  bool match_compute = true;
  // Round floor: every round selects at least this many samples (while the cluster has that many
  // eligible), apportioned over its task groups by largest remainders (fine_select.h). -1 = one full
  // batch (train.batch_size); 0 = none, the original rule: floor(n * rho) per group and, when every
  // quota is 0, one sample per group (the records made before the floor existed; not hashed).
  int64_t min_round_samples = -1;

  template <class V> void visit(V& v) {
    v.field("warmup_fraction", warmup_fraction, "share of the pool the warm-up (IFD) model is trained on; paper 1 %", Range{0, 1, "(]"});
    v.field("warmup_epochs", warmup_epochs, "epochs of warm-up training; paper 4", AtLeast{0});
    v.field("num_clusters", num_clusters, "K of the 1-D k-means on IFD (bandit arms); paper 7, 1 = no clustering", Positive{});
    v.field("kmeans_max_iterations", kmeans_max_iterations, "cap on Lloyd iterations; 1-D k-means converges in a few", Positive{});
    v.field("bandit", bandit, "exp3 (paper) | uniform (ablation: no bandit, uniform cluster choice)", OneOf{"exp3", "uniform"});
    v.field("gamma", gamma, "EXP3 exploration rate; paper 0.1", Range{0, 1, "(]"});
    v.field("alpha", alpha, "EXP3.S share term for non-stationary rewards; 0 = plain EXP3 as in the authors' code", Range{0, 1, "[)"});
    v.field("rho", rho, "per round, the top floor(n_{k,task} * rho) of each task group of the drawn cluster; paper 0.015", Range{0, 1, "(]"});
    v.field("max_uses", max_uses, "a sample stays eligible while trained fewer than this many times; paper 4", Positive{});
    v.field("smoothing", smoothing, "b of the IDU update U <- (1-b)(l + dL') + b U; paper 0.1, 0 = no smoothing", Range{0, 1});
    v.field("use_loss_change", use_loss_change, "add the loss-change estimate dL' to the in-loop loss (false: ablation)");
    v.field("reward", reward, "bandit reward: learning_progress (default) | mean_idu | dev_loss (does inference)", OneOf{"learning_progress", "mean_idu", "dev_loss"});
    v.field("dev_samples", dev_samples, "dev_loss reward only: size of the held-out dev split of the pool", Positive{});
    v.field("match_compute", match_compute,
            "after the budget is reached, re-select among the selected samples (uses < max_uses) until sample passes = budget x train.epochs, the compute of static selectors; false stops at the budget");
    v.field("max_rounds", max_rounds, "stop after this many rounds even if the budget is not reached", Positive{});
    v.field("min_round_samples", min_round_samples,
            "each round selects at least this many samples, split over the cluster's task groups by largest remainders; -1 = train.batch_size (one full batch), 0 = no floor (floor(n * rho) per group, one per group when all are 0)",
            AtLeast{-1});
  }

  // Runs the rules declared above (rho = 0, gamma outside (0, 1], ... are errors) for a selector
  // built without a config file; throws ConfigError naming "lead.<key>". Config files get the
  // same rules at load time (validate_experiment_config).
  void validate() const;
  // The round floor in samples for a trainer of batch size `batch_size` (0 = no floor).
  int64_t round_floor(int batch_size) const { return min_round_samples < 0 ? batch_size : min_round_samples; }
};

}  // namespace lb
