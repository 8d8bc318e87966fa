// Data-parallel runs as a user starts them (`leadbench run --nproc 2`, Gloo on CPU) against the same
// run on one rank: the same global batches, so the same selected samples, per-round losses within
// 1e-5 (the gradients are summed in another order, so not bit for bit), the same suite scores and
// token counts, and the same config hash; and a rank killed mid-run ends the run at once with a
// message naming it, and no record. Each test starts the built program (LEADBENCH_EXE).
#include "core/distributed.h"
#include "core/json_io.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using lbtest::fresh_dir;

// test_run.cpp's tiny world: every phase runs in about a second per rank.
std::string tiny_config(const fs::path& dir, const std::string& selector) {
  std::string path = (dir / (selector + ".json")).string();
  std::ofstream(path) << R"({
    "world": {"pool_size": 240, "corpus_docs": 200, "mmlu_items": 8, "gsm_items": 4, "code_items": 4, "qa_items": 8},
    "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 64},
    "proxy_model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 32},
    "pretrain": {"epochs": 1, "train": {"batch_size": 32}},
    "train": {"batch_size": 8, "epochs": 1},
    "eval": {"max_new_tokens": 8, "limit": 4},
    "lead": {"warmup_fraction": 0.05, "warmup_epochs": 1, "rho": 0.1},
    "selection": {"selector": ")" << selector << R"(", "budget_fraction": 0.1},
    "runtime": {"progress": "off", "threads": 1, "dist_timeout": 60}
  })";
  return path;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Runs LEADBENCH_EXE with `args` (and `env` added) to the end, output into `log`; its exit status.
int run_program(const std::vector<std::string>& args, const fs::path& log,
                const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::vector<std::string> argv_s = {LEADBENCH_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_s = log.string();
  pid_t pid = ::fork();
  if (pid == 0) {
    for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
                          "SLURM_PROCID", "SLURM_NTASKS", "LEADBENCH_FAULT_KILL_RANK"})
      ::unsetenv(v);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    int fd = ::open(log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One rank and two ranks of `selector`; checks that the records agree.
void check_two_ranks_equal_one(const std::string& selector) {
  if (!lb::ProcessGroup::available()) {
    std::cout << "SKIPPED: this build has no Gloo (install libgloo-dev, rebuild)" << std::endl;
    return;
  }
  fs::path dir = fresh_dir("dp_" + selector);
  const std::string cfg = tiny_config(dir, selector);
  const std::string cache = "runtime.cache_dir=" + (dir / "cache").string();
  const fs::path one = dir / "one.json", two = dir / "two.json";
  REQUIRE(run_program({"run", cfg, cache, "--out", one.string()}, dir / "one.log") == 0);
  const int rc = run_program({"run", cfg, cache, "--out", two.string(), "--nproc", "2"}, dir / "two.log");
  INFO(read_text(dir / "two.log"));
  REQUIRE(rc == 0);
  const nlohmann::json a = lb::read_json_file(one.string()), b = lb::read_json_file(two.string());

  CHECK(a["config_hash"] == b["config_hash"]);  // the number of ranks is a runtime setting
  CHECK_FALSE(a.contains("distributed"));
  REQUIRE(b.contains("distributed"));
  CHECK(b["distributed"]["world_size"] == 2);
  // Which samples, in which order: the selector decided alike.
  CHECK(a["selected"]["uids"] == b["selected"]["uids"]);
  CHECK(a["selected"]["optimizer_steps"] == b["selected"]["optimizer_steps"]);
  CHECK(a["selected"]["sample_passes"] == b["selected"]["sample_passes"]);
  REQUIRE(a["rounds"].size() == b["rounds"].size());
  REQUIRE(!a["rounds"].empty());
  double max_loss_diff = 0;
  for (size_t r = 0; r < a["rounds"].size(); ++r) {
    const auto &ra = a["rounds"][r], &rb = b["rounds"][r];
    CHECK(ra["samples"] == rb["samples"]);
    CHECK(ra["steps"] == rb["steps"]);
    CHECK(ra["tokens"] == rb["tokens"]);  // real tokens: an integer count over every rank
    const double la = ra["mean_loss"].get<double>(), lb_ = rb["mean_loss"].get<double>();
    max_loss_diff = std::max(max_loss_diff, std::abs(la - lb_));
    CHECK(std::abs(la - lb_) <= 1e-5);
  }
  WARN("largest per-round mean-loss difference, 1 vs 2 ranks: " << max_loss_diff);
  // The same scores on every suite (the models differ in the last bits only).
  REQUIRE(a["suites"].size() == b["suites"].size());
  for (const auto& [name, sa] : a["suites"].items()) {
    REQUIRE(b["suites"].contains(name));
    CHECK(sa["value"].get<double>() == Approx(b["suites"][name]["value"].get<double>()).margin(1e-6));
    CHECK(sa["n"] == b["suites"][name]["n"]);
  }
  CHECK(a["average"]["value"].get<double>() == Approx(b["average"]["value"].get<double>()).margin(1e-6));
  // Token counts over all ranks equal one rank's (padding may differ: the batches are cut otherwise).
  for (const char* phase : {"training", "offline_inference", "selection_inference", "evaluation"}) {
    if (!a["phases"].contains(phase)) continue;
    INFO(phase);
    CHECK(a["phases"][phase]["forward_tokens"] == b["phases"][phase]["forward_tokens"]);
    CHECK(a["phases"][phase]["backward_tokens"] == b["phases"][phase]["backward_tokens"]);
  }
}

}  // namespace

TEST_CASE("run on 2 data-parallel ranks selects what 1 rank does: LEAD", "[distributed]") {
  check_two_ranks_equal_one("lead");
}

TEST_CASE("run on 2 data-parallel ranks selects what 1 rank does: iterative IFD", "[distributed]") {
  check_two_ranks_equal_one("iterative_ifd");
}

TEST_CASE("run on 2 data-parallel ranks selects what 1 rank does: DiverseEvol (sharded embeddings)", "[distributed]") {
  check_two_ranks_equal_one("diverse_evol");
}

TEST_CASE("a killed rank ends a data-parallel run with an error naming it, within the timeout", "[distributed]") {
  if (!lb::ProcessGroup::available()) {
    std::cout << "SKIPPED: this build has no Gloo (install libgloo-dev, rebuild)" << std::endl;
    return;
  }
  fs::path dir = fresh_dir("dp_kill");
  const std::string cfg = tiny_config(dir, "lead");
  const std::string cache = "runtime.cache_dir=" + (dir / "cache").string();
  for (const char* victim : {"1", "0"}) {
    const fs::path out = dir / (std::string("killed") + victim + ".json");
    const fs::path log = dir / (std::string("killed") + victim + ".log");
    const auto t0 = std::chrono::steady_clock::now();
    const int rc = run_program({"run", cfg, cache, "--out", out.string(), "--nproc", "2", "runtime.dist_timeout=30"}, log,
                               {{"LEADBENCH_FAULT_KILL_RANK", victim}});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string text = read_text(log);
    INFO(text);
    CHECK(rc != 0);
    CHECK(seconds < 30);  // the survivor's collective fails when the peer's connection closes
    CHECK(text.find(std::string("rank ") + victim + " of 2 (pid") != std::string::npos);  // the launcher names it
    CHECK(text.find("was killed by signal 9") != std::string::npos);
    CHECK(text.find("has died or stopped answering") != std::string::npos);  // the survivor says why it stops
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("run checks the data-parallel environment before any work", "[distributed]") {
  fs::path dir = fresh_dir("dp_env");
  const std::string cfg = tiny_config(dir, "random");
  const fs::path log = dir / "env.log";
  CHECK(run_program({"run", cfg}, log, {{"RANK", "0"}, {"WORLD_SIZE", "2"}}) == 2);
  CHECK(read_text(log).find("MASTER_ADDR is unset") != std::string::npos);
  CHECK(run_program({"run", cfg, "--nproc", "2"}, log, {{"RANK", "0"}, {"WORLD_SIZE", "1"}}) == 2);
  CHECK(read_text(log).find("drop --nproc under torchrun") != std::string::npos);
  CHECK(run_program({"run", cfg, "--nproc", "two"}, log) == 2);
  CHECK(read_text(log).find("--nproc needs a whole number") != std::string::npos);
}
