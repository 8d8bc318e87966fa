// The paper's regime at a smaller pool (see regime.h).
#include "experiments/regime.h"

#include "core/json_io.h"
#include "lead/fine_select.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lb {

RegimeAt regime_at(const RegimeInput& in, int64_t pool) {
  RegimeAt out;
  out.pool = pool;
  out.budget = std::max<int64_t>(1, std::llround(in.budget_fraction * static_cast<double>(pool)));
  out.smallest_listed_quota = std::numeric_limits<int64_t>::max();
  out.mean_round = std::numeric_limits<double>::infinity();
  out.smallest_round = std::numeric_limits<int64_t>::max();
  out.rounds = 0;
  for (const auto& rec : in.records) {
    if (rec.pool_size <= 0) continue;
    const double scale = static_cast<double>(pool) / static_cast<double>(rec.pool_size);
    double round_sum = 0;
    for (const auto& cluster : rec.clusters) {
      int64_t round = 0;
      for (int64_t n : cluster) {
        const int64_t scaled = std::llround(static_cast<double>(n) * scale);
        const int64_t q = group_quota(scaled, in.rho);
        round += q;
        if (static_cast<double>(n) >= in.min_group_share * static_cast<double>(rec.pool_size))
          out.smallest_listed_quota = std::min(out.smallest_listed_quota, q);
      }
      round_sum += static_cast<double>(round);
      out.smallest_round = std::min(out.smallest_round, round);
    }
    const double mean_round = rec.clusters.empty() ? 0 : round_sum / static_cast<double>(rec.clusters.size());
    out.mean_round = std::min(out.mean_round, mean_round);
    const double rounds = mean_round > 0 ? static_cast<double>(out.budget) / mean_round : std::numeric_limits<double>::infinity();
    out.rounds = std::max(out.rounds, rounds);
  }
  if (out.smallest_listed_quota == std::numeric_limits<int64_t>::max()) out.smallest_listed_quota = 0;
  const double paper_rounds = static_cast<double>(in.paper_budget) / static_cast<double>(in.paper_round);
  out.a = out.smallest_listed_quota >= 1;
  out.b = out.mean_round >= in.min_round_batches * static_cast<double>(in.batch_size);
  out.c = out.rounds <= paper_rounds * in.max_rounds_factor && out.rounds >= paper_rounds / in.max_rounds_factor;
  return out;
}

RegimeResult compute_regime(const RegimeInput& in) {
  if (in.records.empty()) throw InputError("regime: no record with LEAD's (cluster, task) group sizes was given");
  if (!(in.rho > 0) || in.batch_size < 1 || in.step < 1 || in.paper_round < 1)
    throw InputError("regime: rho must be > 0 and batch size, step and the paper's round size >= 1");
  RegimeResult r;
  r.paper_rounds = static_cast<double>(in.paper_budget) / static_cast<double>(in.paper_round);
  r.rounds_limit = r.paper_rounds * in.max_rounds_factor;
  for (int64_t pool = in.step; pool <= in.max_pool; pool += in.step) {
    const RegimeAt at = regime_at(in, pool);
    if (at.a && r.pool_a == 0) r.pool_a = pool;
    if (at.b && r.pool_b == 0) r.pool_b = pool;
    if (at.c && r.pool_c == 0) r.pool_c = pool;
    if (at.a && at.b && at.c) {
      r.chosen = at;
      break;
    }
  }
  r.at_paper_pool = regime_at(in, in.paper_pool);
  return r;
}

nlohmann::json RegimeAt::to_json() const {
  return {{"pool", pool},
          {"budget", budget},
          {"smallest_quota_of_groups_over_min_share", smallest_listed_quota},
          {"mean_round", mean_round},
          {"smallest_round", smallest_round},
          {"rounds_to_budget", rounds},
          {"a", a},
          {"b", b},
          {"c", c}};
}

nlohmann::json RegimeResult::to_json() const {
  return {{"paper_rounds", paper_rounds},
          {"rounds_limit", rounds_limit},
          {"smallest_pool_a", pool_a},
          {"smallest_pool_b", pool_b},
          {"smallest_pool_c", pool_c},
          {"chosen", chosen.to_json()},
          {"at_paper_pool", at_paper_pool.to_json()}};
}

RegimeInput::Groups regime_groups_of_record(const std::string& path) {
  const nlohmann::json j = read_json_file(path);
  const nlohmann::json* off = nullptr;
  if (j.is_object() && j.contains("telemetry") && j["telemetry"].is_object() && j["telemetry"].contains("offline"))
    off = &j["telemetry"]["offline"];
  if (!off || !off->is_object() || !off->contains("cluster_task_sizes") || !(*off)["cluster_task_sizes"].is_array() ||
      !off->contains("pool_size") || !(*off)["pool_size"].is_number_integer())
    throw InputError(path + ": not a LEAD run record with telemetry.offline.cluster_task_sizes and pool_size; give a record of selector lead");
  RegimeInput::Groups g;
  g.source = path;
  g.pool_size = (*off)["pool_size"].get<int64_t>();
  const auto& clusters = (*off)["cluster_task_sizes"];
  for (size_t k = 0; k < clusters.size(); ++k) {
    if (!clusters[k].is_object())
      throw InputError(path + ": telemetry.offline.cluster_task_sizes[" + std::to_string(k) + "] must map task names to sizes");
    std::vector<int64_t> sizes;
    for (auto it = clusters[k].begin(); it != clusters[k].end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0)
        throw InputError(path + ": telemetry.offline.cluster_task_sizes[" + std::to_string(k) + "]." + it.key() +
                         " must be a non-negative integer");
      sizes.push_back(it.value().get<int64_t>());
    }
    g.clusters.push_back(std::move(sizes));
  }
  if (g.pool_size <= 0 || g.clusters.empty())
    throw InputError(path + ": telemetry.offline has no clusters or a pool size of 0");
  return g;
}

}  // namespace lb
