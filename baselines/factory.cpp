// Builds a baseline selector by name (see factory.h).
#include "baselines/factory.h"

#include "baselines/iterative_selectors.h"
#include "baselines/static_selectors.h"

#include <stdexcept>

namespace lb {

const std::vector<std::string>& baseline_names() {
  static const std::vector<std::string> names = {"random", "full", "longest", "ppl_high", "ppl_low",
                                                 "ifd", "superfiltering", "iterative_ifd", "diverse_evol",
                                                 "prompt_uncertainty"};
  return names;
}

bool is_iterative_baseline(const std::string& name) {
  return name == "iterative_ifd" || name == "diverse_evol" || name == "prompt_uncertainty";
}

std::unique_ptr<Selector> make_baseline(const std::string& name, const BaselineConfig& cfg) {
  if (name == "random") return std::make_unique<RandomSelector>();
  if (name == "full") return std::make_unique<FullSelector>();
  if (name == "longest") return std::make_unique<LongestSelector>();
  if (name == "ppl_high") return std::make_unique<PerplexitySelector>(true);
  if (name == "ppl_low") return std::make_unique<PerplexitySelector>(false);
  if (name == "ifd") return std::make_unique<IfdSelector>(cfg);
  if (name == "superfiltering") return std::make_unique<SuperfilteringSelector>();
  if (name == "iterative_ifd") return std::make_unique<IterativeIfdSelector>(cfg);
  if (name == "diverse_evol") return std::make_unique<DiverseEvolSelector>(cfg);
  if (name == "prompt_uncertainty") return std::make_unique<PromptUncertaintySelector>(cfg);
  std::string list;
  for (const auto& n : baseline_names()) list += (list.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown baseline selector '" + name + "'; known: " + list);
}

}  // namespace lb
