// Select-once baselines (see static_selectors.h).
#include "baselines/static_selectors.h"

#include "baselines/kcenter.h"
#include "baselines/ranking.h"
#include "core/progress.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace lb {

void check_budget(const std::string& selector, int64_t budget, size_t pool_size) {
  if (budget <= 0)
    throw std::invalid_argument(selector + ": the budget must be a positive number of samples, got " +
                                std::to_string(budget) + " (set the experiment's budget)");
  if (budget > static_cast<int64_t>(pool_size))
    throw std::invalid_argument(selector + ": budget " + std::to_string(budget) + " exceeds the pool of " +
                                std::to_string(pool_size) + " samples; lower the budget or use 'full'");
}

std::vector<SampleId> all_ids(size_t n) {
  std::vector<SampleId> ids(n);
  std::iota(ids.begin(), ids.end(), SampleId{0});
  return ids;
}

std::vector<double> score_ifd(SelectionContext& ctx, DecoderModel& model, const std::vector<SampleId>& ids, Phase phase,
                              nlohmann::json& tel) {
  auto cond = ctx.engine.response_loss(model, ids, phase);
  auto uncond = ctx.engine.response_only_loss(model, ids, phase);
  auto ifd = ifd_scores(cond, uncond);
  int64_t valid = 0, below = 0;
  double sum = 0;
  for (double s : ifd) {
    if (std::isnan(s)) continue;
    ++valid;
    sum += s;
    if (s < 1.0) ++below;
  }
  tel["scored"] = static_cast<int64_t>(ids.size());
  tel["ifd_valid"] = valid;
  tel["ifd_below_one"] = below;
  tel["ifd_mean"] = valid ? sum / valid : 0.0;
  return ifd;
}

// ---- StaticSelector ----

void StaticSelector::prepare(SelectionContext& ctx) {
  const PhaseStats before_inf = ctx.ledger.stats(Phase::offline_inference);
  const PhaseStats before_train = ctx.ledger.stats(Phase::offline_training);
  double t0 = now_seconds();
  selected_ = choose(ctx);
  // Guard the contract every baseline promises: unique ids inside the pool.
  std::vector<SampleId> sorted = selected_;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw std::logic_error(name() + ": selected a sample twice (a bug in the selector)");
  if (!sorted.empty() && (sorted.front() < 0 || sorted.back() >= static_cast<SampleId>(ctx.pool.size())))
    throw std::logic_error(name() + ": selected an id outside the pool (a bug in the selector)");
  const PhaseStats& inf = ctx.ledger.stats(Phase::offline_inference);
  const PhaseStats& train = ctx.ledger.stats(Phase::offline_training);
  telemetry_["selector"] = name();
  telemetry_["selected"] = static_cast<int64_t>(selected_.size());
  telemetry_["prepare_seconds"] = now_seconds() - t0;
  telemetry_["offline_inference_forward_tokens"] = inf.forward_tokens - before_inf.forward_tokens;
  telemetry_["offline_inference_samples"] = inf.samples - before_inf.samples;
  telemetry_["offline_inference_seconds"] = inf.seconds - before_inf.seconds;
  telemetry_["offline_training_tokens"] = train.backward_tokens - before_train.backward_tokens;
  telemetry_["offline_training_seconds"] = train.seconds - before_train.seconds;
  nlohmann::json round0 = nlohmann::json::object();
  round0["round"] = 0;
  round0["added"] = static_cast<int64_t>(selected_.size());
  round0["epochs"] = ctx.epochs;
  telemetry_["rounds"] = nlohmann::json::array({round0});
  prepared_ = true;
}

std::optional<Round> StaticSelector::next_round(SelectionContext& ctx) {
  if (!prepared_) prepare(ctx);
  if (done_) return std::nullopt;
  done_ = true;
  return Round{selected_, ctx.epochs};
}

// ---- the selectors ----

std::vector<SampleId> RandomSelector::choose(SelectionContext& ctx) {
  check_budget(name(), ctx.budget, ctx.pool.size());
  auto ids = all_ids(ctx.pool.size());
  Rng rng = Rng::derive(ctx.seeds.selection, "baseline:random");
  rng.shuffle(ids);
  ids.resize(ctx.budget);
  return ids;
}

std::vector<SampleId> FullSelector::choose(SelectionContext& ctx) {
  if (ctx.pool.size() == 0) throw std::invalid_argument("full: the pool is empty");
  telemetry_["budget_ignored"] = ctx.budget;
  return all_ids(ctx.pool.size());
}

std::vector<SampleId> LongestSelector::choose(SelectionContext& ctx) {
  check_budget(name(), ctx.budget, ctx.pool.size());
  const size_t n = ctx.pool.size();
  if (ctx.tokens.full.size() != n)
    throw std::invalid_argument("longest: the token cache holds " + std::to_string(ctx.tokens.full.size()) +
                                " samples but the pool " + std::to_string(n) + "; rebuild the cache for this pool");
  // Key: truncated response tokens (what is trained), then untruncated response bytes (the byte
  // tokenizer's token count before truncation), so that responses longer than max_len still rank.
  std::vector<SampleId> ids = all_ids(n);
  std::vector<int64_t> trained(n), untruncated(n, 0);
  for (size_t i = 0; i < n; ++i) {
    trained[i] = ctx.tokens.response_tokens(static_cast<SampleId>(i));
    for (const auto& m : ctx.pool.samples[i].messages)
      if (m.role == "assistant") untruncated[i] += static_cast<int64_t>(m.content.size()) + 1;  // + END
  }
  std::stable_sort(ids.begin(), ids.end(), [&](SampleId a, SampleId b) {
    if (trained[a] != trained[b]) return trained[a] > trained[b];
    if (untruncated[a] != untruncated[b]) return untruncated[a] > untruncated[b];
    return a < b;
  });
  ids.resize(ctx.budget);
  int64_t total = 0;
  for (auto id : ids) total += trained[id];
  telemetry_["mean_response_tokens"] = ids.empty() ? 0.0 : double(total) / ids.size();
  return ids;
}

std::vector<SampleId> PerplexitySelector::choose(SelectionContext& ctx) {
  check_budget(name(), ctx.budget, ctx.pool.size());
  if (!ctx.base_model) throw std::invalid_argument(name() + ": the context has no base_model factory");
  DecoderModel base = ctx.base_model();
  auto ids = all_ids(ctx.pool.size());
  auto loss = ctx.engine.response_loss(base, ids, Phase::offline_inference);
  std::vector<double> ppl(loss.size());
  for (size_t i = 0; i < loss.size(); ++i) ppl[i] = std::isfinite(loss[i]) ? std::exp(double(loss[i])) : std::nan("");
  auto picked = top_k_by_score(ids, ppl, ctx.budget, /*descending=*/high_);
  double sum = 0;
  int64_t n = 0;
  for (auto id : picked)
    if (!std::isnan(ppl[id])) sum += ppl[id], ++n;
  telemetry_["mean_selected_perplexity"] = n ? sum / n : 0.0;
  return picked;
}

std::vector<SampleId> IfdSelector::warmup_subset(SelectionContext& ctx, int64_t n) {
  auto ids = all_ids(ctx.pool.size());
  Rng rng = Rng::derive(ctx.seeds.selection, "baseline:ifd:warmup");
  if (cfg_.warmup_sampling == "random") {
    rng.shuffle(ids);
    ids.resize(n);
    return ids;
  }
  if (cfg_.warmup_sampling != "kmeans")
    throw std::invalid_argument("ifd: unknown warmup_sampling '" + cfg_.warmup_sampling + "'; choose random or kmeans");
  // Cherry LLM: cluster the pool in the base model's embedding space and take the same number of
  // samples from every cluster (round-robin over clusters, random order inside each).
  DecoderModel base = ctx.base_model();
  auto emb = ctx.engine.embeddings(base, ids, Phase::offline_inference);
  int64_t k = std::max<int64_t>(1, std::min<int64_t>(cfg_.warmup_clusters, n));
  auto assign = kmeans_assign(emb, k, cfg_.kmeans_iterations, ctx.seeds.selection, cfg_.kcenter_block_rows);
  std::vector<std::vector<SampleId>> members(k);
  for (size_t i = 0; i < assign.size(); ++i) members[assign[i]].push_back(static_cast<SampleId>(i));
  for (auto& m : members) rng.shuffle(m);
  std::vector<SampleId> out;
  for (size_t depth = 0; static_cast<int64_t>(out.size()) < n; ++depth)
    for (auto& m : members)
      if (depth < m.size() && static_cast<int64_t>(out.size()) < n) out.push_back(m[depth]);
  telemetry_["warmup_clusters"] = k;
  return out;
}

std::vector<SampleId> IfdSelector::choose(SelectionContext& ctx) {
  check_budget(name(), ctx.budget, ctx.pool.size());
  if (!ctx.base_model || !ctx.make_trainer)
    throw std::invalid_argument("ifd: the context needs base_model and make_trainer to train the warm-up model");
  const int64_t pool = static_cast<int64_t>(ctx.pool.size());
  int64_t n_warm = static_cast<int64_t>(std::llround(cfg_.warmup_fraction * pool));
  n_warm = std::min(pool, std::max(n_warm, cfg_.warmup_min_samples));
  auto warm_ids = warmup_subset(ctx, n_warm);
  auto trainer = ctx.make_trainer(ctx.base_model());
  auto fb = trainer->train_round(warm_ids, cfg_.warmup_epochs, Phase::offline_training);
  telemetry_["warmup_samples"] = n_warm;
  telemetry_["warmup_epochs"] = cfg_.warmup_epochs;
  telemetry_["warmup_sampling"] = cfg_.warmup_sampling;
  telemetry_["warmup_mean_loss"] = fb.mean_loss;
  auto ids = all_ids(ctx.pool.size());
  nlohmann::json tel = nlohmann::json::object();
  auto ifd = score_ifd(ctx, trainer->model(), ids, Phase::offline_inference, tel);
  int64_t filled = 0;
  auto picked = select_top_ifd(ids, ifd, ctx.budget, &filled);
  tel["filled_with_ifd_at_least_one_or_invalid"] = filled;
  telemetry_["ifd"] = tel;
  return picked;
}

std::vector<SampleId> SuperfilteringSelector::choose(SelectionContext& ctx) {
  check_budget(name(), ctx.budget, ctx.pool.size());
  if (!ctx.proxy_model)
    throw std::invalid_argument(
        "superfiltering needs a small proxy model, but none is configured: set the experiment's proxy model "
        "(a smaller decoder pre-trained on the same base corpus) or drop 'superfiltering' from the selectors");
  DecoderModel proxy = ctx.proxy_model();
  auto ids = all_ids(ctx.pool.size());
  nlohmann::json tel = nlohmann::json::object();
  tel["proxy_parameters"] = proxy->parameter_count(false);
  auto ifd = score_ifd(ctx, proxy, ids, Phase::offline_inference, tel);
  int64_t filled = 0;
  auto picked = select_top_ifd(ids, ifd, ctx.budget, &filled);
  tel["filled_with_ifd_at_least_one_or_invalid"] = filled;
  telemetry_["ifd"] = tel;
  return picked;
}

}  // namespace lb
