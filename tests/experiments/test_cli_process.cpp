// The leadbench program as a user starts it: a sweep's runs die with the sweep (SIGKILL) and stop
// with it (SIGTERM) leaving no partial record; a record another process holds the lock of is refused
// by `run` (exit 75) and skipped by `sweep`, naming the holder's pid; --version; the common options
// on `eval`; the help texts. Each test starts the built program (LEADBENCH_EXE) as a child process.
#include "core/device.h"
#include "experiments/sweep.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <torch/version.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

using lbtest::fresh_dir;

// The tiny world of test_run.cpp with one random run per seed, its base model pre-trained for long
// enough (tens of seconds) that a test catches the run while it is working.
std::string tiny_sweep_config(const fs::path& dir, int pretrain_epochs) {
  std::string path = (dir / "tiny_sweep.json").string();
  std::ofstream(path) << R"({
    "world": {"pool_size": 240, "corpus_docs": 200, "mmlu_items": 8, "gsm_items": 4, "code_items": 4, "qa_items": 8},
    "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 64},
    "proxy_model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "n_kv_heads": 2, "d_ff": 32},
    "pretrain": {"epochs": )" << pretrain_epochs << R"(, "train": {"batch_size": 32}},
    "train": {"batch_size": 8, "epochs": 1},
    "eval": {"max_new_tokens": 8, "limit": 4},
    "selection": {"selector": "random", "budget_fraction": 0.1},
    "runtime": {"progress": "off", "threads": 1},
    "sweep": {"grid": {"seed": [0]}}
  })";
  return path;
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Starts LEADBENCH_EXE with `args` in a process group of its own, stdout and stderr into `log`.
pid_t start(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_s = {LEADBENCH_EXE};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_s = log.string();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    int fd = ::open(log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Runs LEADBENCH_EXE to the end; returns its exit status (128 + signal when killed).
int run_program(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = start(args, log);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The processes whose parent is `parent` and whose command line is `leadbench run ...`.
std::vector<pid_t> run_children_of(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_text(e.path() / "stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent || state == 'Z') continue;
    std::string cmdline = read_text(e.path() / "cmdline");
    size_t first = cmdline.find('\0');
    if (first != std::string::npos && cmdline.compare(first + 1, 4, std::string("run\0", 4)) == 0)
      out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

pid_t wait_for_run_child(pid_t parent, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    auto kids = run_children_of(parent);
    if (!kids.empty()) return kids[0];
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

// True once `pid` no longer runs: reaped by us (we are the subreaper of orphans), gone, or a zombie.
bool gone(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return true;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return stat.empty() || (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z');
}

bool wait_gone(pid_t pid, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (gone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return gone(pid);
}

// Orphaned grandchildren (a sweep's runs after the sweep died) are re-parented to this process while
// it lives, so that a test can see them end and reap them.
struct Subreaper {
  Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Subreaper() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
};

void kill_and_reap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// Holds `<record>.lock` the way a writer does: flock(LOCK_EX | LOCK_NB), this process's pid inside.
struct HeldLock {
  int fd = -1;
  explicit HeldLock(const std::string& record_path) {
    fs::create_directories(fs::path(record_path).parent_path());
    fd = ::open((record_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    const std::string pid = std::to_string(::getpid()) + "\n";
    REQUIRE(::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size()));
  }
  ~HeldLock() {
    if (fd >= 0) ::close(fd);
  }
};

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("sweep: a run dies with its sweep when the sweep is killed") {
  Subreaper reaper;
  fs::path dir = fresh_dir("sweep_sigkill");
  std::string cfg = tiny_sweep_config(dir, 60);
  pid_t sweep = start({"sweep", cfg, "runtime.cache_dir=" + (dir / "cache").string(), "--out", (dir / "results").string(),
                       "--threads", "1", "--quiet", "--no-table"},
                      dir / "sweep.log");
  pid_t child = wait_for_run_child(sweep, 60);
  INFO(read_text(dir / "sweep.log"));
  REQUIRE(child > 0);
  ::kill(sweep, SIGKILL);
  ::waitpid(sweep, nullptr, 0);
  const bool died = wait_gone(child, 5);
  if (!died) kill_and_reap(child);
  CHECK(died);
  fs::remove_all(dir);
}

TEST_CASE("sweep: SIGTERM stops the running run, leaves no partial record and exits 143") {
  Subreaper reaper;
  fs::path dir = fresh_dir("sweep_sigterm");
  std::string cfg = tiny_sweep_config(dir, 60);
  const fs::path results = dir / "results";
  pid_t sweep = start({"sweep", cfg, "runtime.cache_dir=" + (dir / "cache").string(), "--out", results.string(),
                       "--threads", "1", "--quiet", "--no-table"},
                      dir / "sweep.log");
  pid_t child = wait_for_run_child(sweep, 60);
  REQUIRE(child > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well into its work
  ::kill(sweep, SIGTERM);
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 1000 && !exited; ++i) {  // up to 20 s
    exited = ::waitpid(sweep, &status, WNOHANG) == sweep;
    if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!exited) kill_and_reap(sweep);
  const bool died = wait_gone(child, 5);
  if (!died) kill_and_reap(child);
  INFO(read_text(dir / "sweep.log"));
  REQUIRE(exited);
  CHECK(WIFEXITED(status));
  CHECK((WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) == 128 + SIGTERM);
  CHECK(died);
  CHECK(read_text(dir / "sweep.log").find("stopped by") != std::string::npos);
  // No record, temporary or lock is left; only the sweep's own plan (named with a leading '_').
  for (const auto& f : files_in(results)) {
    INFO(f);
    CHECK(f == "_sweep_plan.json");
  }
  fs::remove_all(dir);
}

TEST_CASE("run: a record whose lock another process holds is refused with exit 75, naming its pid") {
  fs::path dir = fresh_dir("run_locked");
  std::string cfg = tiny_sweep_config(dir, 1);
  const std::string out = (dir / "results" / "r.json").string();
  const std::vector<std::string> args = {"run", cfg, "runtime.cache_dir=" + (dir / "cache").string(), "--out", out,
                                         "--threads", "1", "--quiet"};
  {
    HeldLock lock(out);
    CHECK(run_program(args, dir / "run.log") == 75);
    const std::string log = read_text(dir / "run.log");
    INFO(log);
    CHECK(log.find(out + " is already being run by pid " + std::to_string(::getpid())) != std::string::npos);
    CHECK(!fs::exists(out));
  }
  // Released: the run goes ahead and removes its lock when done.
  CHECK(run_program(args, dir / "run2.log") == 0);
  CHECK(fs::exists(out));
  CHECK(!fs::exists(out + ".lock"));
  fs::remove_all(dir);
}

TEST_CASE("sweep: a run whose record is locked is skipped and named; its own runs share the sweep's lock") {
  fs::path dir = fresh_dir("sweep_locked");
  std::string cfg = tiny_sweep_config(dir, 1);
  const std::string cache = "runtime.cache_dir=" + (dir / "cache").string();
  const fs::path results = dir / "results";
  lb::SweepPlan plan = lb::plan_sweep(cfg, {cache}, results.string());
  REQUIRE(plan.runs.size() == 1);
  const std::vector<std::string> args = {"sweep", cfg, cache, "--out", results.string(), "--threads", "1", "--quiet",
                                         "--no-table"};
  {
    HeldLock lock(plan.runs[0].record_path);
    CHECK(run_program(args, dir / "sweep.log") == 75);
    const std::string log = read_text(dir / "sweep.log");
    INFO(log);
    CHECK(log.find("already being run by pid " + std::to_string(::getpid())) != std::string::npos);
    CHECK(!fs::exists(plan.runs[0].record_path));
    CHECK(!fs::exists(results / "logs"));  // the holder's log is not truncated by a second run
  }
  // The child run adopts the lock its sweep holds (it would refuse with 75 if it locked again).
  CHECK(run_program(args, dir / "sweep2.log") == 0);
  INFO(read_text(dir / "sweep2.log"));
  CHECK(lb::run_is_done(plan.runs[0], nullptr));
  CHECK(!fs::exists(plan.runs[0].record_path + ".lock"));
  fs::remove_all(dir);
}

TEST_CASE("version: --version and `version` print the version, the git commit and the LibTorch version") {
  fs::path dir = fresh_dir("version");
  for (const char* flag : {"--version", "version"}) {
    INFO(flag);
    CHECK(run_program({flag}, dir / "out.txt") == 0);
    const std::string out = read_text(dir / "out.txt");
    INFO(out);
    CHECK(out.find(std::string("leadbench ") + lb::build_version() + " (git " + lb::build_git_sha() + ")") !=
          std::string::npos);
    CHECK(out.find(std::string("LibTorch ") + TORCH_VERSION) != std::string::npos);
    // OpenBLAS's generic kernels only where the CPU has nothing better: leadbench restarts itself
    // with the AVX2 or AVX-512 ones when OpenBLAS did not recognise the CPU (experiments/main.cpp).
    if (!std::getenv("OPENBLAS_CORETYPE") && !std::getenv("LEADBENCH_KEEP_BLAS") &&
        out.find("OpenBLAS, Prescott kernels") != std::string::npos)
      CHECK(!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
  }
  fs::remove_all(dir);
}

TEST_CASE("eval takes the options every command takes (--threads, --quiet)") {
  fs::path dir = fresh_dir("eval_threads");
  fs::create_directories(dir / "gsm8k");
  std::ofstream(dir / "gsm8k" / "test.jsonl") << "{\"question\": \"a\", \"answer\": \"#### 3\"}\n"
                                                 "{\"question\": \"b\", \"answer\": \"#### 4\"}\n";
  const std::string preds = (dir / "preds.jsonl").string();
  std::ofstream(preds) << "{\"id\": 0, \"output\": \"3\"}\n{\"id\": 1, \"output\": \"5\"}\n";
  const std::string json = (dir / "result.json").string();
  CHECK(run_program({"eval", "--threads", "2", "--suite", "gsm8k", "--data", dir.string(), "--predictions", preds,
                     "--quiet", "--json", json},
                    dir / "out.txt") == 0);
  INFO(read_text(dir / "out.txt"));
  CHECK(fs::exists(json));
  CHECK(run_program({"eval", "--threads=2", "--suite=gsm8k", "--data", dir.string(), "--predictions", preds},
                    dir / "out2.txt") == 0);
  // Still strict: an unknown option or a stray argument is a usage error (2).
  CHECK(run_program({"eval", "--suite", "gsm8k", "--data", dir.string(), "--predictions", preds, "--thread", "2"},
                    dir / "out3.txt") == 2);
  CHECK(read_text(dir / "out3.txt").find("unknown option '--thread'") != std::string::npos);
  CHECK(run_program({"eval", "--suite", "gsm8k", "--data", dir.string(), "--predictions", preds, "stray"},
                    dir / "out4.txt") == 2);
  fs::remove_all(dir);
}

TEST_CASE("help: the top level says what eval does, table's usage line lists every option") {
  fs::path dir = fresh_dir("help");
  REQUIRE(run_program({"--help"}, dir / "top.txt") == 0);
  const std::string top = read_text(dir / "top.txt");
  INFO(top);
  CHECK(top.find("evaluate a model") == std::string::npos);  // eval scores prediction files
  CHECK(top.find("score a predictions file") != std::string::npos);
  CHECK(top.find("--version") != std::string::npos);

  REQUIRE(run_program({"table", "--help"}, dir / "table.txt") == 0);
  // The usage block: the "usage:" line and its indented continuation lines.
  std::istringstream in(read_text(dir / "table.txt"));
  std::string line, usage;
  while (std::getline(in, line)) {
    if (usage.empty() ? line.rfind("usage:", 0) == 0 : line.rfind("          ", 0) == 0)
      usage += line + "\n";
    else if (!usage.empty())
      break;
  }
  INFO(usage);
  for (const char* option : {"--out", "--reference", "--no-plots", "--strict", "--compare", "--budget"}) {
    INFO(option);
    CHECK(usage.find(option) != std::string::npos);
  }
  fs::remove_all(dir);
}
