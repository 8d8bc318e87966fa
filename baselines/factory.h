// Builds a baseline selector by name; the experiment runner's single entry point into baselines/.
#pragma once

#include "baselines/baseline_config.h"
#include "core/selector.h"

#include <memory>
#include <string>
#include <vector>

namespace lb {

// Every name make_baseline accepts, static selectors first.
const std::vector<std::string>& baseline_names();
// The iterative model-aware ones (re-score the pool after every round).
bool is_iterative_baseline(const std::string& name);
// Throws std::invalid_argument listing the known names for an unknown one.
std::unique_ptr<Selector> make_baseline(const std::string& name, const BaselineConfig& cfg);

}  // namespace lb
