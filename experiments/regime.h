// The paper's selection regime at a smaller pool: from LEAD's (cluster, task) group sizes (as run
// records store them, telemetry.offline.cluster_task_sizes), the smallest pool at which
//   (a) every group holding >= min_group_share of the pool has a quota floor(n * rho) >= 1,
//   (b) a round of the mean cluster trains at least min_round_batches full batches, and
//   (c) the budget is reached in a number of rounds within max_rounds_factor of the paper's
//       (paper_budget / paper_round samples).
// Group sizes at another pool P are the recorded shares times P (the world's source mix is fixed;
// the IFD clusters are assumed to keep their shares). Several records (seeds) must all satisfy the
// conditions. `leadbench data regime` prints the result.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct RegimeInput {
  // Per record: cluster -> task group sizes, and the pool they were counted in.
  struct Groups {
    std::string source;
    int64_t pool_size = 0;
    std::vector<std::vector<int64_t>> clusters;
  };
  std::vector<Groups> records;
  double rho = 0.015;
  double budget_fraction = 0.025;
  int64_t batch_size = 16;
  double min_group_share = 0.01;
  double min_round_batches = 2;
  double max_rounds_factor = 2;
  int64_t paper_pool = 600000, paper_budget = 15000, paper_round = 1300;
  int64_t step = 100;         // pools searched: multiples of this
  int64_t max_pool = 2000000; // give up above this
};

// What the conditions say at one pool, for the worst record.
struct RegimeAt {
  int64_t pool = 0;
  int64_t budget = 0;
  int64_t smallest_listed_quota = 0;  // (a): the smallest quota among groups >= min_group_share
  double mean_round = 0;              // (b): mean over clusters of the round size sum floor(n * rho)
  int64_t smallest_round = 0;         // the smallest cluster's round
  double rounds = 0;                  // (c): budget / mean_round
  bool a = false, b = false, c = false;
  nlohmann::json to_json() const;
};

RegimeAt regime_at(const RegimeInput& in, int64_t pool);

struct RegimeResult {
  double paper_rounds = 0;   // paper_budget / paper_round
  double rounds_limit = 0;   // paper_rounds * max_rounds_factor
  int64_t pool_a = 0, pool_b = 0, pool_c = 0;  // the smallest searched pool meeting each condition alone
  RegimeAt chosen;           // the smallest searched pool meeting all three (pool 0: none up to max_pool)
  RegimeAt at_paper_pool;    // the same numbers at the paper's pool
  nlohmann::json to_json() const;
};

RegimeResult compute_regime(const RegimeInput& in);

// Reads the group sizes of a LEAD run record; InputError naming the file when it has none.
RegimeInput::Groups regime_groups_of_record(const std::string& path);

}  // namespace lb
