// Validation of LeadConfig: values that cannot work are errors naming the key and what to do.
#include "lead/lead_config.h"

#include <cmath>

namespace lb {

namespace {
void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) throw ConfigError("LEAD config key '" + key + "': " + what);
}
}  // namespace

void LeadConfig::validate() const {
  require(warmup_fraction > 0 && warmup_fraction <= 1, "warmup_fraction",
          "must be in (0, 1], got " + std::to_string(warmup_fraction));
  require(warmup_epochs >= 0, "warmup_epochs", "must be >= 0 (0 = IFD from the base model), got " +
                                                   std::to_string(warmup_epochs));
  require(num_clusters >= 1, "num_clusters", "must be >= 1 (1 = no clustering), got " + std::to_string(num_clusters));
  require(kmeans_max_iterations >= 1, "kmeans_max_iterations", "must be >= 1");
  require(bandit == "exp3" || bandit == "uniform", "bandit", "must be exp3 or uniform, got '" + bandit + "'");
  require(gamma > 0 && gamma <= 1, "gamma", "must be in (0, 1], got " + std::to_string(gamma));
  require(alpha >= 0 && alpha < 1, "alpha", "must be in [0, 1) (0 = plain EXP3), got " + std::to_string(alpha));
  require(rho > 0 && rho <= 1, "rho",
          "must be in (0, 1]: rho = 0 would select nothing per round; got " + std::to_string(rho));
  require(max_uses >= 1, "max_uses", "must be >= 1, got " + std::to_string(max_uses));
  require(smoothing >= 0 && smoothing <= 1, "smoothing", "must be in [0, 1], got " + std::to_string(smoothing));
  require(reward == "learning_progress" || reward == "mean_idu" || reward == "dev_loss", "reward",
          "must be learning_progress, mean_idu or dev_loss, got '" + reward + "'");
  require(dev_samples >= 1, "dev_samples", "must be >= 1");
  require(min_round_samples >= -1, "min_round_samples",
          "must be -1 (one full batch), 0 (no floor) or a sample count, got " + std::to_string(min_round_samples));
  require(max_rounds >= 1, "max_rounds", "must be >= 1, got " + std::to_string(max_rounds));
}

}  // namespace lb
