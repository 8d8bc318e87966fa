// Plots of a results folder with gnuplot (SVG and PNG): score vs budget, selection cost vs pool
// size, and the bandit's cluster choice per round. Without gnuplot the data and scripts are still
// written and a message says how to render them.
#pragma once

#include "experiments/record.h"
#include "experiments/table.h"

#include <cmath>
#include <string>
#include <vector>

namespace lb {

// Writes <name>.dat, <name>.gp and (when gnuplot runs) <name>.svg and <name>.png into out_dir.
// Returns one message per plot: written, skipped (why), or failed.
std::vector<std::string> write_plots(const std::vector<RunRecord>& records, const std::string& out_dir,
                                     const TableStamp& stamp);

// The bandit's cluster choice per round from a LEAD record's telemetry (empty when absent).
std::vector<int> bandit_cluster_choices(const nlohmann::json& telemetry);

bool gnuplot_available();

// cost = a * n^b by least squares on (log n, log cost); ok is false with fewer than two distinct
// n or a non-positive cost. The cost-vs-pool plot draws it out to kPaperPoolSize and writes the
// extrapolated costs to cost_vs_pool_fit.csv.
struct PowerLaw {
  double a = 0, b = 0;
  bool ok = false;
  double at(double n) const { return a * std::pow(n, b); }
};
PowerLaw fit_power_law(const std::vector<std::pair<double, double>>& points);

// The pool of the paper's efficiency claim (~600 000 samples).
constexpr double kPaperPoolSize = 600000;

}  // namespace lb
