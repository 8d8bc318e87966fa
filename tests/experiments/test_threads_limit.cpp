// --threads is bounded (1 .. max(256, 4 x hardware threads), 0 = all cores): a huge value is a
// usage error (exit code 2) before any work, also with `sweep --dry-run`, instead of a stalled host.
#include "core/device.h"
#include "experiments/cli.h"
#include "experiments/sweep.h"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

TEST_CASE("threads: --threads above the limit is a usage error before any work") {
  REQUIRE(lb::max_threads() >= 256);
  const std::string too_many = std::to_string(lb::max_threads() + 1);
  REQUIRE_THROWS_AS(lb::parse_args({"--threads", "100000"}, {}, {}), lb::UsageError);
  CHECK_THROWS_WITH(lb::parse_args({"--threads=" + too_many}, {}, {}),
                    Catch::Contains("--threads " + too_many) && Catch::Contains(std::to_string(lb::max_threads())));
  CHECK(lb::parse_args({"--threads", std::to_string(lb::max_threads())}, {}, {}).common.threads == lb::max_threads());
  CHECK(lb::parse_args({"--threads", "0"}, {}, {}).common.threads == 0);
  CHECK_THROWS_AS(lb::parse_args({"--threads", "-1"}, {}, {}), lb::UsageError);
  // The command stops at the flag, before it reads the config or starts a thread.
  CHECK_THROWS_AS(lb::cmd_sweep({"no-such-config.json", "--threads", "100000", "--dry-run"}), lb::UsageError);
  // The setter refuses too (a config's runtime.threads goes through it).
  CHECK_THROWS_AS(lb::set_threads(lb::max_threads() + 1), std::invalid_argument);
}
