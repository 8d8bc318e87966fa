// LEAD's two-stage in-loop selector; the choices and fallbacks are listed in lead_selector.h.
#include "lead/lead_selector.h"

#include "core/json_io.h"
#include "core/ledger.h"
#include "core/progress.h"

#include <algorithm>
#include <map>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace lb {

namespace {

// Adds the seconds of a scope to a total (LEAD's online bookkeeping time).
struct AddElapsed {
  double& total;
  double t0;
  ~AddElapsed() { total += now_seconds() - t0; }
};


constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double finite_mean(const std::vector<float>& v) {
  double s = 0;
  int64_t n = 0;
  for (float x : v)
    if (std::isfinite(x)) {
      s += x;
      ++n;
    }
  return n ? s / n : kNaN;
}

nlohmann::json number_or_null(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

}  // namespace

LeadSelector::LeadSelector(LeadConfig cfg) : cfg_(std::move(cfg)) { cfg_.validate(); }

void LeadSelector::fallback(const std::string& what) {
  log_line("lead: " + what);
  fallbacks_.push_back(what);
}

void LeadSelector::stop(const std::string& why) {
  if (stop_reason_.empty()) {
    stop_reason_ = why;
    log_line("lead: selection stops: " + why);
  }
}

// ---------------------------------------------------------------------------------------------
// Offline stage.

void LeadSelector::prepare(SelectionContext& ctx) {
  const Pool& pool = ctx.pool;
  const int64_t n = static_cast<int64_t>(pool.size());
  if (n == 0) throw InputError("LEAD: the pool is empty; give the run a pool with at least one sample");
  if (ctx.budget < 0) throw InputError("LEAD: budget must be >= 0, got " + std::to_string(ctx.budget));
  if (!ctx.base_model || !ctx.make_trainer)
    throw std::invalid_argument("LEAD: the selection context lacks base_model or make_trainer (runner bug)");
  batch_size_ = ctx.trainer.config().batch_size;
  full_batch_rounds_ = ctx.full_batch_rounds;

  // Dev split for the dev_loss reward: held out of selection, chosen with the selection seed.
  std::vector<char> held_out;
  if (cfg_.reward == "dev_loss") {
    const int64_t dev_n = std::min<int64_t>(cfg_.dev_samples, std::max<int64_t>(1, n / 10));
    std::vector<SampleId> order(n);
    std::iota(order.begin(), order.end(), 0);
    Rng rng = Rng::derive(ctx.seeds.selection, "lead.dev");
    for (int64_t i = 0; i < dev_n; ++i) std::swap(order[i], order[i + rng.below(n - i)]);
    dev_ids_.assign(order.begin(), order.begin() + dev_n);
    std::sort(dev_ids_.begin(), dev_ids_.end());
    held_out.assign(n, 0);
    for (SampleId id : dev_ids_) held_out[id] = 1;
    if (dev_n < cfg_.dev_samples)
      fallback("dev split lowered from " + std::to_string(cfg_.dev_samples) + " to " + std::to_string(dev_n) +
               " samples (at most 10 % of the pool)");
  }

  // 1. Warm-up model on a random warmup_fraction of the pool (partial Fisher-Yates, selection seed).
  const int64_t warm_n = std::max<int64_t>(1, static_cast<int64_t>(std::floor(n * cfg_.warmup_fraction)));
  std::vector<SampleId> order(n);
  std::iota(order.begin(), order.end(), 0);
  {
    Rng rng = Rng::derive(ctx.seeds.selection, "lead.warmup");
    for (int64_t i = 0; i < warm_n; ++i) std::swap(order[i], order[i + rng.below(n - i)]);
  }
  std::vector<SampleId> warm_ids(order.begin(), order.begin() + warm_n);
  std::vector<SampleId> all_ids(n);
  std::iota(all_ids.begin(), all_ids.end(), 0);

  // 1, 2 and 4 are the same for LEAD and its ablations of one seed (they differ only once the rounds
  // start), so with a result cache they run once per key and later runs reuse them, charged at
  // their measured cost (core/result_cache.h).
  auto offline_work = [&](std::map<std::string, std::vector<float>>& out) {
    {
      std::unique_ptr<Trainer> warm = ctx.make_trainer(ctx.base_model());
      const int64_t batch = std::max(1, warm->config().batch_size);
      warm->set_planned_total_steps(((warm_n + batch - 1) / batch) * cfg_.warmup_epochs);  // decaying schedules
      if (cfg_.warmup_epochs > 0) warm->train_round(warm_ids, cfg_.warmup_epochs, Phase::offline_training);
      // 2. IFD with the warm-up model.
      out["conditional"] = ctx.engine.response_loss(warm->model(), all_ids, Phase::offline_inference);
      out["unconditional"] = ctx.engine.response_only_loss(warm->model(), all_ids, Phase::offline_inference);
    }  // the warm-up model is freed here
    // 4. Initial utility: the base model's response loss.
    DecoderModel base = ctx.base_model();
    out["base_loss"] = ctx.engine.response_loss(base, all_ids, Phase::offline_inference);
  };
  std::map<std::string, std::vector<float>> offline;
  bool reused = false;
  if (ctx.cache && ctx.cache->enabled()) {
    nlohmann::json key = ctx.cache_context;
    key["pool_size"] = n;
    key["warmup_fraction"] = cfg_.warmup_fraction;
    key["warmup_epochs"] = cfg_.warmup_epochs;
    key["selection_seed"] = ctx.seeds.selection;
    offline = ctx.cache->get_or_compute("lead-offline", key, ctx.ledger, offline_work, &reused);
  } else {
    offline_work(offline);
  }
  for (const char* name : {"conditional", "unconditional", "base_loss"})
    if (offline[name].size() != static_cast<size_t>(n))
      throw std::runtime_error("LEAD: the offline stage's '" + std::string(name) + "' holds " +
                               std::to_string(offline[name].size()) + " values for a pool of " + std::to_string(n) +
                               " (a stale result-cache entry? delete it from runtime.cache_dir/results)");
  const std::vector<float>& conditional = offline["conditional"];
  const std::vector<float>& unconditional = offline["unconditional"];
  std::vector<double> ifd(n);
  int64_t ifd_above_one = 0, ifd_invalid = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double c = conditional[i], u = unconditional[i];
    ifd[i] = ifd_from_losses(c, u);
    if (!std::isfinite(c) || !std::isfinite(u) || !(u > 0)) ++ifd_invalid;
    else if (c / u > 1.0) ++ifd_above_one;
  }

  const std::vector<float>& base_loss = offline["base_loss"];
  std::vector<double> initial(base_loss.begin(), base_loss.end());
  int64_t base_nan = 0;
  for (double& u : initial)
    if (!std::isfinite(u)) {
      u = kNaN;
      ++base_nan;
    }

  std::vector<int> task_of(n);
  for (int64_t i = 0; i < n; ++i) task_of[i] = pool.samples[i].task;
  int64_t budget = ctx.budget;

  const int64_t target = cfg_.match_compute ? budget * std::max(1, ctx.epochs) : 0;
  setup(task_of, pool.tasks, ifd, std::move(initial), budget, ctx.seeds.selection, held_out, target);

  offline_["reused"] = reused;
  offline_["warmup_samples"] = warm_n;
  offline_["warmup_epochs"] = cfg_.warmup_epochs;
  offline_["ifd_ratio_above_one_zeroed"] = ifd_above_one;
  offline_["ifd_invalid_zeroed"] = ifd_invalid;
  offline_["base_loss_nan"] = base_nan;
  offline_["ifd_mean"] = std::accumulate(ifd.begin(), ifd.end(), 0.0) / n;
  if (ifd_invalid > 0)
    fallback(std::to_string(ifd_invalid) + " samples with an invalid IFD (NaN/inf loss or zero denominator) got IFD 0");
  if (base_nan > 0)
    fallback(std::to_string(base_nan) + " samples without a finite base-model loss rank last until trained");

  if (cfg_.reward == "dev_loss") {
    dev_loss_prev_ = finite_mean(ctx.engine.response_loss(ctx.trainer.model(), dev_ids_, Phase::selection_inference));
    offline_["dev_samples"] = static_cast<int64_t>(dev_ids_.size());
    offline_["dev_loss_initial"] = number_or_null(dev_loss_prev_);
  }
}

void LeadSelector::setup(const std::vector<int>& task_of, std::vector<std::string> task_names,
                         const std::vector<double>& ifd, std::vector<double> initial_utility, int64_t budget,
                         uint64_t selection_seed, const std::vector<char>& held_out, int64_t target_passes) {
  const size_t n = task_of.size();
  if (ifd.size() != n || initial_utility.size() != n || (!held_out.empty() && held_out.size() != n))
    throw std::invalid_argument("LeadSelector::setup: task, IFD, utility and held-out arrays differ in length");
  if (n == 0) throw InputError("LEAD: the pool is empty; give the run a pool with at least one sample");
  if (budget < 0) throw InputError("LEAD: budget must be >= 0, got " + std::to_string(budget));

  int num_tasks = 0;
  for (int t : task_of) {
    if (t < 0) throw std::invalid_argument("LeadSelector::setup: negative task index");
    num_tasks = std::max(num_tasks, t + 1);
  }
  while (static_cast<int>(task_names.size()) < num_tasks) task_names.push_back("task" + std::to_string(task_names.size()));
  task_names_ = std::move(task_names);
  task_of_ = task_of;

  // 3. Clusters: 1-D k-means on IFD over the selectable samples.
  std::vector<SampleId> selectable;
  selectable.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (held_out.empty() || !held_out[i]) selectable.push_back(static_cast<SampleId>(i));
  if (selectable.empty()) throw InputError("LEAD: every pool sample is held out; nothing is left to select");
  std::vector<double> values(selectable.size());
  for (size_t j = 0; j < selectable.size(); ++j) values[j] = ifd[selectable[j]];
  kmeans_ = kmeans_1d(values, cfg_.num_clusters, Rng::derive(selection_seed, "lead.kmeans"), cfg_.kmeans_max_iterations);
  for (const auto& note : kmeans_.notes) fallback("k-means: " + note);
  const int k = static_cast<int>(kmeans_.centroids.size());
  cluster_of_.assign(n, -1);
  for (size_t j = 0; j < selectable.size(); ++j) cluster_of_[selectable[j]] = kmeans_.labels[j];
  groups_ = ClusterTaskIndex::build(cluster_of_, task_of_, k, num_tasks);

  utility_ = std::move(initial_utility);
  uses_.assign(n, 0);
  cluster_eligible_.assign(k, 0);
  cluster_repeatable_.assign(k, 0);
  for (int c = 0; c < k; ++c) cluster_eligible_[c] = groups_.cluster_size(c);

  const int64_t selectable_n = static_cast<int64_t>(selectable.size());
  if (budget > selectable_n) {
    fallback("budget " + std::to_string(budget) + " exceeds the " + std::to_string(selectable_n) +
             " selectable samples; lowered to " + std::to_string(selectable_n));
    budget = selectable_n;
  }
  budget_ = budget;
  round_floor_ = cfg_.round_floor(batch_size_);
  if (target_passes < 0) throw std::invalid_argument("LeadSelector::setup: negative target_passes");
  target_passes_ = target_passes;
  if (target_passes_ > 0 && target_passes_ > budget_ * static_cast<int64_t>(cfg_.max_uses)) {
    fallback("match_compute: " + std::to_string(target_passes_) + " sample passes cannot be reached with " +
             std::to_string(budget_) + " samples trained at most max_uses = " + std::to_string(cfg_.max_uses) +
             " times; LEAD stops at " + std::to_string(budget_ * cfg_.max_uses));
    target_passes_ = budget_ * cfg_.max_uses;
  }
  passes_ = 0;
  consolidating_ = false;
  bookkeeping_seconds_ = 0;
  unique_ = 0;
  rounds_issued_ = 0;
  pending_cluster_ = -1;
  stop_reason_.clear();
  rounds_ = nlohmann::json::array();

  bandit_.emplace(k, cfg_.gamma, cfg_.alpha, cfg_.bandit == "uniform");
  for (int c = 0; c < k; ++c)
    if (cluster_eligible_[c] == 0) {
      fallback("cluster " + std::to_string(c) + " is empty after k-means; retired from the bandit");
      bandit_->retire(c);
    }
  bandit_rng_ = Rng::derive(selection_seed, "lead.bandit");
  prev_cluster_ = -1;
  g_cluster_.assign(k, torch::Tensor());
  g_cluster_norm2_.assign(k, 0.0);
  prepared_ = true;

  offline_["pool_size"] = static_cast<int64_t>(n);
  offline_["selectable"] = selectable_n;
  offline_["budget"] = budget_;
  offline_["tasks"] = task_names_;
  offline_["clusters_requested"] = cfg_.num_clusters;
  offline_["clusters"] = k;
  offline_["ifd_centroids"] = kmeans_.centroids;
  offline_["cluster_sizes"] = kmeans_.sizes;
  offline_["kmeans_iterations"] = kmeans_.iterations;
  offline_["kmeans_converged"] = kmeans_.converged;
  nlohmann::json per_cluster = nlohmann::json::array();
  for (int c = 0; c < k; ++c) {
    nlohmann::json sizes = nlohmann::json::object();
    for (const auto& g : groups_.clusters[c]) sizes[task_names_[g.task]] = static_cast<int64_t>(g.members.size());
    per_cluster.push_back(sizes);
  }
  offline_["cluster_task_sizes"] = per_cluster;
}

// ---------------------------------------------------------------------------------------------
// Rounds.

std::optional<Round> LeadSelector::next_round(SelectionContext& ctx) { return select_round(); }

std::optional<Round> LeadSelector::select_round() {
  if (!prepared_) throw std::logic_error("LeadSelector: next_round before prepare/setup");
  if (!stop_reason_.empty()) return std::nullopt;
  const double t_start = now_seconds();
  AddElapsed add_time{bookkeeping_seconds_, t_start};
  if (unique_ >= budget_) {
    const std::string reached =
        "budget reached: " + std::to_string(unique_) + " unique samples selected (budget " + std::to_string(budget_) + ")";
    if (passes_ >= target_passes_) {
      stop(target_passes_ > 0 ? reached + " and training compute matched: " + std::to_string(passes_) +
                                    " sample passes (target " + std::to_string(target_passes_) + ")"
                              : reached);
      return std::nullopt;
    }
    consolidating_ = true;  // from now on rounds re-select among the samples already trained
  }
  if (rounds_issued_ >= cfg_.max_rounds) {
    stop("max_rounds = " + std::to_string(cfg_.max_rounds) + " reached with " + std::to_string(unique_) +
         " of " + std::to_string(budget_) + " unique samples");
    return std::nullopt;
  }

  // Coarse: draw a live cluster; retire clusters with nothing eligible (at most K redraws).
  std::vector<double> probabilities;
  std::vector<int> retired;
  FineSelection sel;
  int cluster = -1;
  for (int attempt = 0; attempt <= bandit_->arms(); ++attempt) {
    probabilities = bandit_->probabilities();
    const int drawn = bandit_->draw(bandit_rng_);
    if (drawn < 0) break;
    if ((consolidating_ ? cluster_repeatable_ : cluster_eligible_)[drawn] > 0) {
      sel = fine_select(groups_.clusters[drawn], utility_.data(), uses_.data(), cfg_.max_uses, cfg_.rho, scratch_,
                        consolidating_ ? 1 : 0, round_floor_, full_batch_rounds_ ? batch_size_ : 0);
    } else {
      sel = FineSelection{};
    }
    if (!sel.ids.empty()) {
      cluster = drawn;
      break;
    }
    if (!consolidating_)
      fallback("round " + std::to_string(rounds_issued_) + ": cluster " + std::to_string(drawn) +
               " has no eligible sample left (each trained " + std::to_string(cfg_.max_uses) +
               " times); retired from the bandit, drawing again");
    bandit_->retire(drawn);
    retired.push_back(drawn);
  }
  if (cluster < 0 && consolidating_) {
    stop("budget reached: " + std::to_string(unique_) + " unique samples; every selected sample trained max_uses = " +
         std::to_string(cfg_.max_uses) + " times after " + std::to_string(passes_) + " sample passes (target " +
         std::to_string(target_passes_) + ")");
    return std::nullopt;
  }
  if (cluster < 0) {
    stop("no cluster has an eligible sample left (every selectable sample trained max_uses = " +
         std::to_string(cfg_.max_uses) + " times) with " + std::to_string(unique_) + " of " +
         std::to_string(budget_) + " unique samples");
    return std::nullopt;
  }
  if (sel.min_one_fallback && !min_one_logged_) {
    min_one_logged_ = true;
    fallback("cluster " + std::to_string(cluster) + ": every task quota floor(n * rho) is 0 (groups smaller than 1/rho = " +
             std::to_string(1.0 / cfg_.rho) + "); taking one sample per task group (counted per round in telemetry)");
  }

  // Trim the round so that the budget is met exactly: keep repeats, keep the best new samples.
  const int64_t remaining = budget_ - unique_;
  int64_t new_count = 0;
  for (SampleId id : sel.ids) new_count += uses_[id] == 0 ? 1 : 0;
  int64_t trimmed = 0;
  if (new_count > remaining) {
    std::vector<SampleId> fresh;
    fresh.reserve(new_count);
    for (SampleId id : sel.ids)
      if (uses_[id] == 0) fresh.push_back(id);
    auto better = [this](SampleId a, SampleId b) { return utility_ranks_before(utility_[a], a, utility_[b], b); };
    std::nth_element(fresh.begin(), fresh.begin() + remaining, fresh.end(), better);
    std::vector<SampleId> dropped(fresh.begin() + remaining, fresh.end());
    std::sort(dropped.begin(), dropped.end());
    std::vector<SampleId> kept;
    kept.reserve(sel.ids.size());
    for (SampleId id : sel.ids)
      if (!std::binary_search(dropped.begin(), dropped.end(), id)) kept.push_back(id);
    trimmed = static_cast<int64_t>(dropped.size());
    sel.ids = std::move(kept);
    new_count = remaining;
  }

  // Consolidation: no more passes than the compute target (keep the best by utility).
  if (consolidating_ && passes_ + static_cast<int64_t>(sel.ids.size()) > target_passes_) {
    const int64_t keep = target_passes_ - passes_;
    auto better = [this](SampleId a, SampleId b) { return utility_ranks_before(utility_[a], a, utility_[b], b); };
    std::vector<SampleId> ranked = sel.ids;
    std::nth_element(ranked.begin(), ranked.begin() + keep, ranked.end(), better);
    std::vector<SampleId> dropped(ranked.begin() + keep, ranked.end());
    std::sort(dropped.begin(), dropped.end());
    std::vector<SampleId> kept;
    for (SampleId id : sel.ids)
      if (!std::binary_search(dropped.begin(), dropped.end(), id)) kept.push_back(id);
    trimmed = static_cast<int64_t>(dropped.size());
    sel.ids = std::move(kept);
  }

  // Book the round: uses, eligibility, unique count, per-task counts.
  std::vector<int64_t> per_task(task_names_.size(), 0);
  for (SampleId id : sel.ids) {
    ++per_task[task_of_[id]];
    const int32_t before = uses_[id]++;
    const int c = cluster_of_[id];
    if (uses_[id] == cfg_.max_uses) --cluster_eligible_[c];
    const bool was_repeatable = before >= 1 && before < cfg_.max_uses;
    const bool is_repeatable = uses_[id] >= 1 && uses_[id] < cfg_.max_uses;
    cluster_repeatable_[c] += static_cast<int64_t>(is_repeatable) - static_cast<int64_t>(was_repeatable);
  }
  unique_ += new_count;
  passes_ += static_cast<int64_t>(sel.ids.size());
  pending_cluster_ = cluster;

  nlohmann::json rec;
  rec["round"] = rounds_issued_;
  rec["cluster"] = cluster;
  rec["stage"] = consolidating_ ? "consolidate" : "select";
  rec["probabilities"] = probabilities;
  if (!retired.empty()) rec["retired_clusters"] = retired;
  rec["selected"] = static_cast<int64_t>(sel.ids.size());
  rec["new_unique"] = new_count;
  rec["unique_so_far"] = unique_;
  rec["passes_so_far"] = passes_;
  rec["trimmed_to_budget"] = trimmed;
  rec["min_one_fallback"] = sel.min_one_fallback;
  if (round_floor_ > 0) rec["floor_applied"] = sel.floor_applied;
  if (full_batch_rounds_) {
    rec["quota_total"] = sel.quota_total;
    rec["batch_rounded"] = sel.batch_rounded;
  }
  rec["eligible_in_cluster"] = sel.eligible;
  nlohmann::json pt = nlohmann::json::object();
  for (size_t t = 0; t < per_task.size(); ++t)
    if (per_task[t] > 0) pt[task_names_[t]] = per_task[t];
  rec["per_task"] = pt;
  rounds_.push_back(std::move(rec));
  ++rounds_issued_;
  return Round{std::move(sel.ids), 1};
}

void LeadSelector::observe(SelectionContext& ctx, const RoundFeedback& feedback) {
  double dev_after = kNaN;
  if (cfg_.reward == "dev_loss")
    dev_after = finite_mean(ctx.engine.response_loss(ctx.trainer.model(), dev_ids_, Phase::selection_inference));
  update(feedback, dev_after);
  nlohmann::json seconds = nlohmann::json::object();
  for (int p = 0; p < kPhaseCount; ++p)
    seconds[phase_name(static_cast<Phase>(p))] = ctx.ledger.stats(static_cast<Phase>(p)).seconds;
  if (!rounds_.empty()) rounds_.back()["phase_seconds"] = seconds;
  training_seconds_ = ctx.ledger.stats(Phase::training).seconds;
}

void LeadSelector::update(const RoundFeedback& feedback, double dev_loss_after) {
  if (pending_cluster_ < 0) throw std::logic_error("LeadSelector: observe without a round issued by next_round");
  if (feedback.losses.size() != feedback.ids.size())
    throw std::invalid_argument("LeadSelector::observe: feedback has " + std::to_string(feedback.ids.size()) +
                                " ids but " + std::to_string(feedback.losses.size()) + " losses");
  const int k = pending_cluster_;
  pending_cluster_ = -1;
  AddElapsed add_time{bookkeeping_seconds_, now_seconds()};

  // Gradient sketch of this round, kept without a copy when it already is contiguous CPU float32.
  const bool has_sketch = feedback.grad_mean.defined() && feedback.grad_mean.numel() > 0;
  torch::Tensor g_now;
  if (has_sketch) {
    g_now = feedback.grad_mean.detach();
    if (g_now.device().type() != torch::kCPU || g_now.scalar_type() != torch::kFloat32)
      g_now = g_now.to(torch::kCPU, torch::kFloat32);
    g_now = g_now.contiguous().reshape({-1});
  }
  const int64_t g_len = has_sketch ? g_now.numel() : 0;

  // Loss-change estimate Delta L'_k for this round's samples. g_prev is the stored sketch of the
  // cluster the previous round trained (that round's gradient), so one copy per cluster suffices.
  LossChange lc;
  if (!cfg_.use_loss_change) {
    lc.which = LossChangeCase::disabled;
  } else if (!has_sketch) {
    lc.which = LossChangeCase::disabled;
    if (!no_sketch_logged_) {
      no_sketch_logged_ = true;
      fallback("no gradient sketch in the trainer's feedback (train.sketch = none): Delta L' = 0");
    }
  } else {
    // Delta L' needs |g_k|^2, |g_prev|^2 (cached when each sketch was stored), and g_k . g_prev:
    // one BLAS dot per round, the only pass over the sketches (bench_lead:
    // BM_loss_change_cached_norms).
    const bool has_k = g_cluster_[k].defined(), has_prev = prev_cluster_ >= 0;
    SketchSums sums;
    if (has_prev) {
      const torch::Tensor& gp = g_cluster_[prev_cluster_];
      if (gp.numel() != g_len || (has_k && g_cluster_[k].numel() != g_len))
        throw std::invalid_argument("LeadSelector::observe: the gradient sketch changed length between rounds");
      sums.prev2 = g_cluster_norm2_[prev_cluster_];
      if (has_k) {
        sums.k2 = g_cluster_norm2_[k];
        // The same sketch when k trained last round: dot = |g|^2 and the difference is exactly 0.
        const double dot = k == prev_cluster_ ? sums.k2 : torch::dot(g_cluster_[k], gp).item<double>();
        sums = sums_from_dot(sums.k2, sums.prev2, dot);
      }
    }
    lc = loss_change_from_sums(has_k, has_prev, sums, feedback.lr_mean);
  }
  last_loss_change_ = lc;

  // IDU update and the round's reward terms.
  double progress_sum = 0, idu_sum = 0;
  int64_t progress_n = 0, idu_n = 0, nan_losses = 0;
  for (size_t i = 0; i < feedback.ids.size(); ++i) {
    const SampleId id = feedback.ids[i];
    if (id < 0 || id >= static_cast<SampleId>(utility_.size()))
      throw std::invalid_argument("LeadSelector::observe: sample id " + std::to_string(id) + " is not in the pool");
    const double loss = feedback.losses[i];
    if (!std::isfinite(loss)) {
      ++nan_losses;
      continue;
    }
    const double before = utility_[id];
    if (std::isfinite(before)) {
      utility_[id] = idu_update(before, loss, lc.delta_loss, cfg_.smoothing);
      progress_sum += before - loss;
      ++progress_n;
    } else {
      utility_[id] = loss + lc.delta_loss;  // no finite earlier utility to smooth with
    }
    idu_sum += utility_[id];
    ++idu_n;
  }

  double reward = 0;
  if (cfg_.reward == "learning_progress") {
    reward = progress_n ? progress_sum / progress_n : 0.0;
  } else if (cfg_.reward == "mean_idu") {
    reward = idu_n ? idu_sum / idu_n : 0.0;
  } else {  // dev_loss
    reward = (std::isfinite(dev_loss_prev_) && std::isfinite(dev_loss_after)) ? dev_loss_prev_ - dev_loss_after : 0.0;
    if (std::isfinite(dev_loss_after)) dev_loss_prev_ = dev_loss_after;
  }
  const double normalised = bandit_->update(k, reward);

  if (has_sketch && cfg_.use_loss_change) {  // the sketches serve Delta L' only
    g_cluster_[k] = g_now;  // kept, not copied: RoundFeedback::grad_mean is not written after observe
    g_cluster_norm2_[k] = torch::dot(g_now, g_now).item<double>();
    prev_cluster_ = k;
  }

  if (!rounds_.empty()) {
    nlohmann::json& rec = rounds_.back();
    rec["raw_reward"] = reward;
    rec["normalised_reward"] = normalised;
    rec["beta"] = lc.beta;
    rec["delta_loss"] = lc.delta_loss;
    rec["loss_change_case"] = loss_change_case_name(lc.which);
    rec["lr"] = feedback.lr_mean;
    rec["grad_norm"] = feedback.grad_norm;
    rec["mean_loss"] = feedback.mean_loss;
    rec["trained"] = static_cast<int64_t>(feedback.ids.size());
    rec["nan_losses"] = nan_losses;
    if (cfg_.reward == "dev_loss") rec["dev_loss"] = number_or_null(dev_loss_after);
  }
}

nlohmann::json LeadSelector::telemetry() const {
  nlohmann::json j;
  j["selector"] = "lead";
  j["offline"] = offline_;
  j["rounds"] = rounds_;
  j["rounds_issued"] = rounds_issued_;
  j["unique_selected"] = unique_;
  j["sample_passes"] = passes_;
  j["target_sample_passes"] = target_passes_;
  j["round_floor"] = round_floor_;
  j["full_batch_rounds"] = full_batch_rounds_;
  j["online_bookkeeping_seconds"] = bookkeeping_seconds_;
  if (training_seconds_ > 0) {
    j["training_seconds"] = training_seconds_;
    j["online_bookkeeping_share_of_training"] = bookkeeping_seconds_ / training_seconds_;
  }
  j["stop_reason"] = stop_reason_;
  j["fallbacks"] = fallbacks_;
  if (bandit_) {
    j["final_probabilities"] = bandit_->probabilities();
    j["final_weights"] = bandit_->weights();
  }
  j["selection_inference_free"] = cfg_.reward != "dev_loss";
  return j;
}

}  // namespace lb
