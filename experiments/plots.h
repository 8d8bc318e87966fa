// Plots of a results folder with gnuplot (SVG and PNG): score vs budget, selection cost vs pool
// size, and the bandit's cluster choice per round. Without gnuplot the data and scripts are still
// written and a message says how to render them.
#pragma once

#include "experiments/record.h"
#include "experiments/table.h"

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

}  // namespace lb
