// Iterative model-aware baselines (see iterative_selectors.h).
#include "baselines/iterative_selectors.h"

#include "baselines/ranking.h"
#include "baselines/static_selectors.h"
#include "core/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace lb {

Encoded drop_instruction_tokens(const Encoded& seq, double drop_rate, Rng& rng) {
  Encoded out;
  out.ids.reserve(seq.ids.size());
  out.loss_mask.reserve(seq.loss_mask.size());
  for (size_t i = 0; i < seq.ids.size(); ++i) {
    bool instruction_byte = seq.loss_mask[i] == 0 && seq.ids[i] >= 0 && seq.ids[i] < 256;
    if (instruction_byte && rng.uniform() < drop_rate) continue;
    out.ids.push_back(seq.ids[i]);
    out.loss_mask.push_back(seq.loss_mask[i]);
  }
  return out;
}

// ---- IterativeSelector ----

void IterativeSelector::prepare(SelectionContext& ctx) {
  check_budget(name(), ctx.budget, ctx.pool.size());
  if (cfg_.train_mode != "new" && cfg_.train_mode != "cumulative")
    throw std::invalid_argument(name() + ": unknown train_mode '" + cfg_.train_mode + "'; choose new or cumulative");
  int rounds = planned_rounds();
  if (rounds <= 0) throw std::invalid_argument(name() + ": the number of rounds must be positive, got " + std::to_string(rounds));
  rounds = static_cast<int>(std::min<int64_t>(rounds, ctx.budget));  // no empty rounds
  sizes_ = ctx.full_batch_rounds ? split_in_batches(ctx.budget, rounds, ctx.trainer.config().batch_size)
                                 : split_evenly(ctx.budget, rounds);
  full_batch_rounds_ = ctx.full_batch_rounds;
  taken_.assign(ctx.pool.size(), 0);
  selected_.clear();
  rounds_ = nlohmann::json::array();
  round_ = 0;
  prepared_ = true;
}

std::optional<Round> IterativeSelector::next_round(SelectionContext& ctx) {
  if (!prepared_) prepare(ctx);
  if (round_ >= sizes_.size()) return std::nullopt;
  std::vector<SampleId> remaining;
  remaining.reserve(taken_.size() - selected_.size());
  for (size_t i = 0; i < taken_.size(); ++i)
    if (!taken_[i]) remaining.push_back(static_cast<SampleId>(i));
  const int64_t k = sizes_[round_];

  const PhaseStats before = ctx.ledger.stats(Phase::selection_inference);
  double t0 = now_seconds();
  nlohmann::json info = nlohmann::json::object();
  std::vector<SampleId> picks;
  if (round_ == 0 && random_first_round()) {
    Rng rng = Rng::derive(ctx.seeds.selection, "baseline:" + name() + ":seed_set");
    picks = remaining;
    rng.shuffle(picks);
    picks.resize(k);
    info["how"] = "random seed set";
    info["scored"] = 0;
  } else {
    picks = pick(ctx, remaining, k, info);
    info["scored"] = static_cast<int64_t>(remaining.size());
  }
  if (static_cast<int64_t>(picks.size()) != k)
    throw std::logic_error(name() + ": round " + std::to_string(round_) + " picked " + std::to_string(picks.size()) +
                           " samples instead of " + std::to_string(k) + " (a bug in the selector)");
  for (SampleId id : picks) {
    if (id < 0 || id >= static_cast<SampleId>(taken_.size()) || taken_[id])
      throw std::logic_error(name() + ": round " + std::to_string(round_) + " picked sample " + std::to_string(id) +
                             " twice or outside the pool (a bug in the selector)");
    taken_[id] = 1;
    selected_.push_back(id);
  }
  const PhaseStats& after = ctx.ledger.stats(Phase::selection_inference);
  info["round"] = static_cast<int64_t>(round_);
  info["added"] = k;
  info["selected_total"] = static_cast<int64_t>(selected_.size());
  info["trainer_step"] = ctx.trainer.step();
  info["scoring_forward_tokens"] = after.forward_tokens - before.forward_tokens;
  info["scoring_computed_tokens"] = after.computed_tokens - before.computed_tokens;
  info["scoring_samples"] = after.samples - before.samples;
  info["scoring_seconds"] = after.seconds - before.seconds;
  info["round_selection_seconds"] = now_seconds() - t0;
  if (Progress::enabled()) {
    char line[200];
    std::snprintf(line, sizeof line, "%-18s | round %3zu | +%7lld | %8zu/%-8lld | scored %9lld | tokens %12lld | %8.2f s",
                  name().c_str(), round_, static_cast<long long>(k), selected_.size(),
                  static_cast<long long>(ctx.budget), static_cast<long long>(info["scored"].get<int64_t>()),
                  static_cast<long long>(info["scoring_forward_tokens"].get<int64_t>()),
                  info["round_selection_seconds"].get<double>());
    log_line(line);
  }
  rounds_.push_back(info);
  ++round_;
  Round r;
  r.ids = cfg_.train_mode == "cumulative" ? selected_ : picks;
  r.epochs = ctx.epochs;
  return r;
}

nlohmann::json IterativeSelector::telemetry() const {
  nlohmann::json t = nlohmann::json::object();
  t["selector"] = name();
  t["train_mode"] = cfg_.train_mode;
  t["round_sizes"] = sizes_;
  t["full_batch_rounds"] = full_batch_rounds_;
  t["selected"] = static_cast<int64_t>(selected_.size());
  int64_t tokens = 0, samples = 0;
  double seconds = 0;
  for (const auto& r : rounds_) {
    tokens += r["scoring_forward_tokens"].get<int64_t>();
    samples += r["scoring_samples"].get<int64_t>();
    seconds += r["scoring_seconds"].get<double>();
  }
  t["scoring_forward_tokens"] = tokens;
  t["scoring_samples"] = samples;
  t["scoring_seconds"] = seconds;
  t["rounds"] = rounds_;
  return t;
}

// ---- Iterative IFD ----

std::vector<SampleId> IterativeIfdSelector::pick(SelectionContext& ctx, const std::vector<SampleId>& remaining,
                                                 int64_t k, nlohmann::json& info) {
  auto ifd = score_ifd(ctx, ctx.trainer.model(), remaining, Phase::selection_inference, info);
  int64_t filled = 0;
  auto picks = select_top_ifd(remaining, ifd, k, &filled);
  info["filled_with_ifd_at_least_one_or_invalid"] = filled;
  return picks;
}

// ---- DiverseEvol ----

std::vector<SampleId> DiverseEvolSelector::pick(SelectionContext& ctx, const std::vector<SampleId>& remaining, int64_t k,
                                                nlohmann::json& info) {
  // The whole pool is embedded: distances to the selected set need the selected samples' current
  // embeddings too (the model moved since they were picked).
  auto ids = all_ids(ctx.pool.size());
  torch::Tensor emb = ctx.engine.embeddings(ctx.trainer.model(), ids, Phase::selection_inference);
  emb = emb.to(ctx.ledger.device());  // distances on the run's device (the engine hands back CPU tensors)
  auto res = kcenter_greedy(emb, selected_, remaining, k, parse_distance_metric(cfg_.kcenter_metric),
                            cfg_.kcenter_block_rows);
  info["embedded"] = static_cast<int64_t>(ids.size());
  info["metric"] = cfg_.kcenter_metric;
  if (!res.pick_distance.empty()) {
    info["first_pick_distance"] = res.pick_distance.front();
    info["last_pick_distance"] = res.pick_distance.back();
  }
  return res.picked;
}

// ---- Prompt uncertainty (Active Instruction Tuning) ----

std::vector<SampleId> PromptUncertaintySelector::pick(SelectionContext& ctx, const std::vector<SampleId>& remaining,
                                                      int64_t k, nlohmann::json& info) {
  if (cfg_.perturbations <= 0) throw std::invalid_argument("prompt_uncertainty: perturbations must be positive");
  if (!(cfg_.drop_rate >= 0 && cfg_.drop_rate <= 1)) throw std::invalid_argument("prompt_uncertainty: drop_rate must be in [0, 1]");
  const int m = cfg_.perturbations;
  const int64_t chunk = std::max<int64_t>(1, cfg_.perturb_chunk);
  // One generator per round, consumed in sample order: results do not depend on the chunk size.
  Rng rng = Rng::derive(ctx.seeds.selection, "baseline:prompt_uncertainty:round" + std::to_string(scored_rounds_++));
  std::vector<double> uncertainty(remaining.size(), std::nan(""));
  double sum_p0 = 0;
  int64_t n_p0 = 0;
  for (size_t b = 0; b < remaining.size(); b += chunk) {
    size_t e = std::min(remaining.size(), b + static_cast<size_t>(chunk));
    std::vector<Encoded> seqs;
    seqs.reserve((e - b) * (m + 1));
    for (size_t i = b; i < e; ++i) {
      const Encoded& orig = ctx.tokens.full[remaining[i]];
      seqs.push_back(orig);  // perturbation 0 is the original prompt, scored in the same batch (as the authors do)
      for (int j = 0; j < m; ++j) seqs.push_back(drop_instruction_tokens(orig, cfg_.drop_rate, rng));
    }
    auto losses = ctx.engine.loss_of(ctx.trainer.model(), seqs, Phase::selection_inference);
    for (size_t i = b; i < e; ++i) {
      size_t base = (i - b) * (m + 1);
      std::vector<float> perturbed(losses.begin() + base + 1, losses.begin() + base + 1 + m);
      uncertainty[i] = prompt_uncertainty(losses[base], perturbed);
      if (std::isfinite(losses[base])) sum_p0 += std::exp(-double(losses[base])), ++n_p0;
    }
  }
  auto picks = top_k_by_score(remaining, uncertainty, k, /*descending=*/true);
  double sum_u = 0;
  for (size_t i = 0; i < remaining.size(); ++i)
    if (!std::isnan(uncertainty[i])) sum_u += uncertainty[i];
  info["perturbations"] = m;
  info["drop_rate"] = cfg_.drop_rate;
  info["mean_uncertainty"] = remaining.empty() ? 0.0 : sum_u / remaining.size();
  info["mean_response_probability"] = n_p0 ? sum_p0 / n_p0 : 0.0;
  return picks;
}

}  // namespace lb
