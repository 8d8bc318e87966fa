// Evaluation settings are checked before any work: impossible sandbox limits and pass@k values give
// a config error naming the key and the value (exit code 2 from `leadbench eval`), not a sandbox that
// "needs user namespaces" or a "pass@0" headline.
#include "core/config.h"
#include "evaluation/eval_command.h"
#include "evaluation/evaluator.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace lb;
namespace fs = std::filesystem;

namespace {

std::string error_of(const EvalConfig& cfg, const std::string& prefix = "", const std::string& source = "") {
  try {
    validate_eval_config(cfg, prefix, source);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Runs `leadbench eval` with stderr captured.
int eval_with_stderr(const std::vector<std::string>& args, std::string* err) {
  std::ostringstream captured;
  std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
  int rc = 0;
  try {
    rc = cmd_eval(args);
  } catch (...) {
    std::cerr.rdbuf(old);
    throw;
  }
  std::cerr.rdbuf(old);
  *err = captured.str();
  return rc;
}

}  // namespace

TEST_CASE("eval config: the defaults are valid") {
  CHECK(error_of(EvalConfig{}).empty());
  CHECK_NOTHROW(validate_sandbox_config(SandboxConfig{}));
}

TEST_CASE("eval config: each impossible sandbox limit is an error naming the key and the value") {
  struct Case {
    std::function<void(SandboxConfig&)> set;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {[](SandboxConfig& c) { c.timeout_s = -1; }, "sandbox.timeout_s must be > 0"},
      {[](SandboxConfig& c) { c.timeout_s = 0; }, "sandbox.timeout_s must be > 0"},
      {[](SandboxConfig& c) { c.timeout_s = std::nan(""); }, "sandbox.timeout_s"},
      {[](SandboxConfig& c) { c.timeout_s = 1e300; }, "sandbox.timeout_s"},
      {[](SandboxConfig& c) { c.cpu_seconds = 0; }, "sandbox.cpu_seconds must be >= 1, got 0"},
      {[](SandboxConfig& c) { c.memory_mb = 0; }, "sandbox.memory_mb must be >= 64 (Python needs that much address space), got 0"},
      {[](SandboxConfig& c) { c.memory_mb = 32; }, "sandbox.memory_mb must be >= 64 (Python needs that much address space), got 32"},
      {[](SandboxConfig& c) { c.max_processes = 0; }, "sandbox.max_processes must be >= 3"},
      {[](SandboxConfig& c) { c.max_processes = 2; }, "got 2"},
      {[](SandboxConfig& c) { c.max_processes = -3; }, "got -3"},
      {[](SandboxConfig& c) { c.max_file_mb = 0; }, "sandbox.max_file_mb must be >= 1, got 0"},
      {[](SandboxConfig& c) { c.tmpfs_mb = 0; }, "sandbox.tmpfs_mb must be >= 1, got 0"},
      {[](SandboxConfig& c) { c.tmpfs_mb = -64; }, "sandbox.tmpfs_mb must be >= 1, got -64"},
      {[](SandboxConfig& c) { c.output_limit_bytes = 0; }, "sandbox.output_limit_bytes must be >= 1, got 0"},
      {[](SandboxConfig& c) { c.workers = 0; }, "sandbox.workers must be in 1..1024, got 0"},
      {[](SandboxConfig& c) { c.workers = 100000; }, "sandbox.workers must be in 1..1024, got 100000"},
      {[](SandboxConfig& c) { c.python = "python3"; }, "sandbox.python must be an absolute path"},
      {[](SandboxConfig& c) { c.bwrap = ""; }, "sandbox.bwrap"},
  };
  for (const auto& c : cases) {
    INFO(c.expect);
    EvalConfig cfg;
    c.set(cfg.sandbox);
    const std::string e = error_of(cfg);
    CHECK(e.find(c.expect) != std::string::npos);
    CHECK(e.find("user namespaces") == std::string::npos);
    CHECK_THROWS_AS(validate_sandbox_config(cfg.sandbox), ConfigError);
  }
  // The experiment config names the whole key and the file.
  EvalConfig cfg;
  cfg.sandbox.timeout_s = -1;
  CHECK(error_of(cfg, "eval.", "quick.json") ==
        "config key 'eval.sandbox.timeout_s' in quick.json: must be > 0 (seconds of wall clock per program), got -1");
}

TEST_CASE("eval config: pass@k values must be >= 1, distinct and within the samples per problem") {
  EvalConfig cfg;
  cfg.pass_ks = {0};
  CHECK(error_of(cfg).find("pass_ks entry 0 must be >= 1") != std::string::npos);
  cfg.pass_ks = {1, -2};
  CHECK(error_of(cfg).find("pass_ks entry -2 must be >= 1") != std::string::npos);
  cfg.pass_ks = {1, 10, 1};
  CHECK(error_of(cfg).find("pass_ks lists 1 twice") != std::string::npos);
  cfg.pass_ks = {1, 10};
  CHECK(error_of(cfg).empty());
  cfg.code_samples = 5;
  CHECK(error_of(cfg).find("pass_ks entry 10 needs at least 10 samples per problem, but code_samples is 5") !=
        std::string::npos);
  cfg.code_samples = 10;
  CHECK(error_of(cfg).empty());
  cfg.code_samples = -1;
  CHECK(error_of(cfg).find("code_samples must be >= 0") != std::string::npos);
  cfg = EvalConfig{};
  cfg.prompts.humaneval_ks = {};
  CHECK(error_of(cfg).find("prompts.humaneval_ks must name at least one k") != std::string::npos);
  cfg.prompts.humaneval_ks = {0};
  CHECK(error_of(cfg, "eval.").find("eval.prompts.humaneval_ks entry 0 must be >= 1") != std::string::npos);
}

TEST_CASE("leadbench eval: bad sandbox or pass@k settings exit 2 with the key, before the sandbox is probed") {
  const fs::path dir = fs::current_path() / "tmp_eval_config_cli";
  fs::remove_all(dir);
  fs::create_directories(dir / "humaneval");
  std::ofstream(dir / "humaneval" / "HumanEval.jsonl")
      << R"({"task_id": "HumanEval/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"})"
      << "\n";
  const std::string preds = (dir / "preds.jsonl").string();
  std::ofstream(preds) << R"({"id": "HumanEval/0", "output": "    return 1\n"})" << "\n";
  const std::vector<std::string> base = {"--suite", "humaneval", "--data", dir.string(), "--predictions", preds};
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"sandbox.timeout_s=-1", "sandbox.timeout_s must be > 0"},
      {"sandbox.max_processes=0", "sandbox.max_processes must be >= "},
      {"sandbox.tmpfs_mb=0", "sandbox.tmpfs_mb must be >= 1"},
      {"sandbox.memory_mb=0", "sandbox.memory_mb must be >= 64"},
      {"pass_ks=0", "pass_ks entry 0 must be >= 1"},
      {"pass_ks=-1", "pass_ks entry -1 must be >= 1"},
  };
  for (const auto& [override_arg, expect] : bad) {
    INFO(override_arg);
    auto args = base;
    args.push_back(override_arg);
    std::string err;
    CHECK(eval_with_stderr(args, &err) == 2);
    CHECK(err.find(expect) != std::string::npos);
    CHECK(err.find("user namespaces") == std::string::npos);
  }
  // pass@10 of one sample per problem: the predictions cannot give it.
  auto args = base;
  args.push_back("pass_ks=1,10");
  std::string err;
  CHECK(eval_with_stderr(args, &err) == 2);
  CHECK(err.find("pass_ks entry 10 needs at least 10 samples per problem") != std::string::npos);
  CHECK(err.find("HumanEval/0") != std::string::npos);
  fs::remove_all(dir);
}
