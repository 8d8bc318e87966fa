// Sweep expansion, resumable parallel execution and Slurm scripts; see sweep.h.
#include "experiments/sweep.h"

#include "core/device.h"
#include "core/json_io.h"
#include "core/progress.h"
#include "experiments/cli.h"
#include "experiments/record.h"
#include "experiments/record_lock.h"
#include "experiments/table.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

extern char** environ;

namespace fs = std::filesystem;

namespace lb {

namespace {

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// "a.b.c" -> "/a/b/c", the JSON pointer of a dotted config key.
std::string config_key_pointer(const std::string& key) {
  std::string p = "/";
  for (char ch : key) p += ch == '.' ? '/' : ch;
  return p;
}

std::string fmt_duration(double s) {
  char b[32];
  if (s < 60)
    std::snprintf(b, sizeof(b), "%.1f s", s);
  else
    std::snprintf(b, sizeof(b), "%dm%02ds", int(s) / 60, int(s) % 60);
  return b;
}

// `sweep.slurm`: every key known, every value in range, so that sbatch never sees a bad line.
SlurmRequest parse_slurm_request(const nlohmann::json& j, const std::string& config_path) {
  const std::string where = "'sweep.slurm' in " + config_path;
  if (!j.is_object()) throw ConfigError(where + " must be an object, e.g. {\"cpus_per_task\": 4, \"mem\": \"32G\"}");
  SlurmRequest r;
  auto integer = [&](const std::string& key, int lo, int hi, int* out) {
    const auto& v = j.at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi)
      throw ConfigError("'sweep.slurm." + key + "' in " + config_path + " is " + v.dump() + "; give an integer in [" +
                        std::to_string(lo) + ", " + std::to_string(hi) + "]");
    *out = static_cast<int>(v.get<int64_t>());
  };
  auto text = [&](const std::string& key, const std::regex& rule, const char* what, std::string* out) {
    const auto& v = j.at(key);
    if (!v.is_string() || !std::regex_match(v.get<std::string>(), rule))
      throw ConfigError("'sweep.slurm." + key + "' in " + config_path + " is " + v.dump() + "; give " + what);
    *out = v.get<std::string>();
  };
  static const std::regex mem_rule("[0-9]+[KMGT]?"), name_rule("[A-Za-z0-9_.+-]+"),
      time_rule("[0-9]+(:[0-5]?[0-9]){0,2}|[0-9]+-[0-9]+(:[0-5]?[0-9]){0,2}"), option_rule("--[a-z][a-z0-9-]*(=[^\\s'\"`$\\\\]+)?");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "cpus_per_task") integer(k, 1, 4096, &r.cpus_per_task);
    else if (k == "gpus_per_task") integer(k, 0, 64, &r.gpus_per_task);
    else if (k == "nodes") integer(k, 1, 100000, &r.nodes);
    else if (k == "tasks_per_node") integer(k, 1, 1024, &r.tasks_per_node);
    else if (k == "mem") text(k, mem_rule, "a memory size such as \"32G\" (digits, then K, M, G or T)", &r.mem);
    else if (k == "time") text(k, time_rule, "a Slurm time limit such as \"04:00:00\" or \"1-12:00:00\"", &r.time);
    else if (k == "partition") text(k, name_rule, "a partition name (letters, digits, _ . + -)", &r.partition);
    else if (k == "account") text(k, name_rule, "an account name (letters, digits, _ . + -)", &r.account);
    else if (k == "extra") {
      if (!it.value().is_array()) throw ConfigError(where + ": 'extra' must be a list of \"--option[=value]\" strings");
      for (const auto& o : it.value()) {
        if (!o.is_string() || !std::regex_match(o.get<std::string>(), option_rule))
          throw ConfigError(where + ": 'extra' entry " + o.dump() +
                            " is not one sbatch option \"--name[=value]\" (no spaces, quotes, $ or backslashes)");
        r.extra.push_back(o.get<std::string>());
      }
    } else if (k != "description") {
      throw ConfigError("unknown key 'sweep.slurm." + k + "' in " + config_path +
                        "; known: cpus_per_task, gpus_per_task, mem, time, partition, account, nodes, tasks_per_node, "
                        "extra, description");
    }
  }
  return r;
}

}  // namespace

SweepPlan plan_sweep(const std::string& config_path, const std::vector<std::string>& cli_overrides,
                     const std::string& results_dir) {
  SweepPlan plan;
  plan.config_path = config_path;
  nlohmann::json sweep = load_sweep_section(config_path);
  std::string where = "the sweep section of " + config_path;
  if (!sweep.is_null() && !sweep.is_object()) throw ConfigError(where + " must be an object with `grid` and/or `variants`");

  // Grid: key -> values; "seed" varies slowest so that every selector's first seed finishes first.
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;
  std::vector<std::pair<std::string, nlohmann::json>> variants;  // (name, set)
  if (sweep.is_object()) {
    for (auto it = sweep.begin(); it != sweep.end(); ++it)
      if (it.key() != "grid" && it.key() != "variants" && it.key() != "overrides" && it.key() != "slurm")
        throw ConfigError("unknown key 'sweep." + it.key() + "' in " + config_path +
                          "; known: grid, variants, overrides, slurm");
    if (sweep.contains("slurm")) plan.slurm = parse_slurm_request(sweep["slurm"], config_path);
    if (sweep.contains("grid")) {
      const auto& g = sweep["grid"];
      if (!g.is_object()) throw ConfigError("'sweep.grid' in " + config_path + " must be an object of key: [values]");
      for (auto it = g.begin(); it != g.end(); ++it) {
        if (!it.value().is_array() || it.value().empty())
          throw ConfigError("'sweep.grid." + it.key() + "' in " + config_path + " must be a non-empty list of values");
        grid.emplace_back(it.key(), std::vector<nlohmann::json>(it.value().begin(), it.value().end()));
      }
      std::stable_partition(grid.begin(), grid.end(), [](const auto& kv) { return kv.first == "seed"; });
    }
    if (sweep.contains("variants")) {
      const auto& vs = sweep["variants"];
      if (!vs.is_array()) throw ConfigError("'sweep.variants' in " + config_path + " must be a list of {name, set}");
      for (size_t i = 0; i < vs.size(); ++i) {
        std::string w = "'sweep.variants[" + std::to_string(i) + "]' in " + config_path;
        if (!vs[i].is_object() || !vs[i].contains("name") || !vs[i]["name"].is_string())
          throw ConfigError(w + " needs a string `name`");
        nlohmann::json set = vs[i].value("set", nlohmann::json::object());
        if (!set.is_object()) throw ConfigError(w + ": `set` must be an object of key: value");
        for (auto it = vs[i].begin(); it != vs[i].end(); ++it)
          if (it.key() != "name" && it.key() != "set" && it.key() != "description")
            throw ConfigError(w + ": unknown key '" + it.key() + "'; known: name, set, description");
        variants.emplace_back(vs[i]["name"].get<std::string>(), set);
      }
    }
  }
  if (variants.empty()) variants.emplace_back("", nlohmann::json::object());

  // Conditional overrides: {when: {key: value}, set: {key: value}} applied to the runs whose
  // resolved config (after grid and variant) has every `when` value.
  struct Conditional {
    std::string where;
    std::vector<std::pair<std::string, nlohmann::json>> when;
    nlohmann::json set;
    int matched = 0;
  };
  std::vector<Conditional> conditionals;
  if (sweep.is_object() && sweep.contains("overrides")) {
    const auto& os = sweep["overrides"];
    if (!os.is_array()) throw ConfigError("'sweep.overrides' in " + config_path + " must be a list of {when, set}");
    const nlohmann::json defaults = experiment_config_json(ExperimentConfig{});
    for (size_t i = 0; i < os.size(); ++i) {
      Conditional c;
      c.where = "'sweep.overrides[" + std::to_string(i) + "]' in " + config_path;
      if (!os[i].is_object()) throw ConfigError(c.where + " must be an object {when, set}");
      for (auto it = os[i].begin(); it != os[i].end(); ++it)
        if (it.key() != "when" && it.key() != "set" && it.key() != "description")
          throw ConfigError(c.where + ": unknown key '" + it.key() + "'; known: when, set, description");
      if (!os[i].contains("when") || !os[i]["when"].is_object() || os[i]["when"].empty())
        throw ConfigError(c.where + " needs a non-empty object `when` of key: value");
      if (!os[i].contains("set") || !os[i]["set"].is_object() || os[i]["set"].empty())
        throw ConfigError(c.where + " needs a non-empty object `set` of key: value");
      for (auto it = os[i]["when"].begin(); it != os[i]["when"].end(); ++it) {
        if (!defaults.contains(nlohmann::json::json_pointer(config_key_pointer(it.key()))))
          throw ConfigError(c.where + ": `when` names unknown config key '" + it.key() + "'");
        c.when.emplace_back(it.key(), it.value());
      }
      c.set = os[i]["set"];
      conditionals.push_back(std::move(c));
    }
  }

  // Odometer over the grid.
  std::vector<size_t> pos(grid.size(), 0);
  std::map<std::string, int> seen_hash;
  int index = 0;
  for (;;) {
    for (const auto& [vname, vset] : variants) {
      SweepRun run;
      for (size_t k = 0; k < grid.size(); ++k)
        run.overrides.push_back(grid[k].first + "=" + value_text(grid[k].second[pos[k]]));
      if (!vname.empty()) run.overrides.push_back("name=" + vname);
      for (auto it = vset.begin(); it != vset.end(); ++it) run.overrides.push_back(it.key() + "=" + value_text(it.value()));
      // Apply with error messages that say where each override came from.
      ConfigSources sources;  // which file, grid key or override set each key (for the errors)
      ExperimentConfig cfg = load_experiment_config(config_path, {}, &sources);
      for (size_t k = 0; k < grid.size(); ++k)
        config_set(cfg, grid[k].first, value_text(grid[k].second[pos[k]]), "'sweep.grid' of " + config_path, &sources);
      if (!vname.empty()) cfg.name = vname;
      for (auto it = vset.begin(); it != vset.end(); ++it)
        config_set(cfg, it.key(), value_text(it.value()), "sweep variant '" + vname + "' of " + config_path, &sources);
      if (!conditionals.empty()) {
        const nlohmann::json resolved = experiment_config_json(cfg);
        for (auto& c : conditionals) {
          bool match = true;
          for (const auto& [key, value] : c.when)
            match = match && resolved.at(nlohmann::json::json_pointer(config_key_pointer(key))) == value;
          if (!match) continue;
          ++c.matched;
          for (auto it = c.set.begin(); it != c.set.end(); ++it) {
            config_set(cfg, it.key(), value_text(it.value()), c.where, &sources);
            run.overrides.push_back(it.key() + "=" + value_text(it.value()));
          }
        }
      }
      config_apply_overrides(cfg, cli_overrides, &sources);
      for (const auto& o : cli_overrides) run.overrides.push_back(o);
      // Every rule of the run's full resolved config; the message names the run.
      try {
        validate_experiment_config(cfg, config_path, &sources);
      } catch (const ConfigError& e) {
        throw ConfigError("sweep run " + std::to_string(index) + " (" + cfg.label() + ", seed " + std::to_string(cfg.seed) +
                          ") of " + config_path + ": " + e.what());
      }
      run.index = index++;
      run.config = cfg;
      run.hash = experiment_config_hash(cfg);
      if (seen_hash.count(run.hash))
        throw ConfigError(config_path + ": sweep runs " + std::to_string(seen_hash[run.hash]) + " and " +
                          std::to_string(run.index) + " resolve to the same config; remove the duplicate");
      seen_hash[run.hash] = run.index;
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%g", cfg.selection.budget_fraction * 100);
      run.label = cfg.label() + "-b" + pct + "-s" + std::to_string(cfg.seed);
      plan.runs.push_back(std::move(run));
    }
    size_t k = grid.size();
    while (k > 0) {
      --k;
      if (++pos[k] < grid[k].second.size()) break;
      pos[k] = 0;
      if (k == 0) {
        k = grid.size() + 1;  // wrapped around: done
        break;
      }
    }
    if (grid.empty() || k == grid.size() + 1) break;
  }
  for (const auto& c : conditionals)
    if (c.matched == 0)
      throw ConfigError(c.where + " matches no run of the sweep; check its `when` values against the grid");
  plan.results_dir = results_dir.empty() ? (plan.runs.empty() ? std::string("results/runs") : plan.runs[0].config.runtime.out_dir)
                                         : results_dir;
  for (auto& r : plan.runs)
    r.record_path = (fs::path(plan.results_dir) /
                     run_record_file_name(r.config.label(), r.config.selection.budget_fraction, r.config.seed, r.hash))
                        .string();
  return plan;
}

bool run_is_done(const SweepRun& run, std::string* why) {
  if (!file_exists(run.record_path)) {
    if (why) *why = "missing";
    return false;
  }
  try {
    RunRecord r = read_run_record(run.record_path);
    if (r.config_hash != run.hash) {
      if (why) *why = run.record_path + ": config hash " + r.config_hash + " differs from the run's " + run.hash;
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    if (why) *why = e.what();
    return false;
  }
}

std::vector<std::string> run_arguments(const SweepPlan& plan, const SweepRun& run, int threads,
                                       const std::string& device, int progress) {
  std::vector<std::string> a = {"run", plan.config_path};
  for (const auto& o : run.overrides) a.push_back(o);
  a.push_back("--out");
  a.push_back(run.record_path);
  a.push_back("--threads");
  a.push_back(std::to_string(threads));
  a.push_back("--device");
  a.push_back(device);
  if (progress == 1) a.push_back("--progress");
  if (progress == 0) a.push_back("--quiet");
  return a;
}

namespace {

std::string log_path_of(const SweepPlan& plan, const SweepRun& run) {
  return (fs::path(plan.results_dir) / "logs" / (fs::path(run.record_path).stem().string() + ".log")).string();
}

// Starts `exe args` in its own process group, with `lock_fd` (the run's record lock) inherited and
// named in the child's environment. The child dies with this process: the parent-death signal is
// set before exec and getppid() checked after it, for a parent killed in between. Between fork and
// exec only async-signal-safe calls run (this process may have other threads).
pid_t spawn_run(const std::string& exe, const std::vector<std::string>& args, const std::string& log_path, int lock_fd) {
  std::error_code ec;
  if (!log_path.empty()) fs::create_directories(fs::path(log_path).parent_path(), ec);
  std::vector<std::string> argv_s = {exe};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string env_prefix = std::string(kRecordLockFdEnv) + "=";
  std::vector<std::string> env_s;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, env_prefix.c_str(), env_prefix.size()) != 0) env_s.emplace_back(*e);
  env_s.push_back(env_prefix + std::to_string(lock_fd));
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("cannot start a run: pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(err_pipe[0]);
    ::close(err_pipe[1]);
    throw std::runtime_error("cannot start " + exe + " (fork: " + std::strerror(err) + ")");
  }
  if (pid == 0) {
    auto fail = [&](int err) {
      ssize_t ignored = ::write(err_pipe[1], &err, sizeof(err));
      (void)ignored;
      ::_exit(127);
    };
    ::setpgid(0, 0);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(errno);
    if (::getppid() != parent) ::_exit(137);  // the parent died before the death signal was armed
    // The parent's handlers do not survive exec, but its signal mask would: start unblocked.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!log_path.empty()) {
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) fail(errno);
    }
    if (::fcntl(lock_fd, F_SETFD, 0) != 0) fail(errno);  // inherited by the run, and only this lock
    ::execve(exe.c_str(), argv.data(), envp.data());
    fail(errno);
  }
  ::setpgid(pid, pid);  // also here, so that the group exists before any signal is forwarded to it
  ::close(err_pipe[1]);
  int child_err = 0;
  ssize_t n;
  do {
    n = ::read(err_pipe[0], &child_err, sizeof(child_err));
  } while (n < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof(child_err))) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw std::runtime_error("cannot start " + exe + " (" + std::strerror(child_err) + ")");
  }
  return pid;
}

// SIGINT, SIGTERM and SIGHUP while a sweep runs: the handler forwards the signal to every running
// child's process group (the children are not in the terminal's group) and records it; the sweep
// then starts nothing more, waits for the children and returns.
volatile std::sig_atomic_t g_sweep_signal = 0;
constexpr int kMaxForwardGroups = 256;
std::atomic<pid_t> g_sweep_groups[kMaxForwardGroups];

void forward_signal(int sig) {
  g_sweep_signal = sig;
  for (auto& g : g_sweep_groups) {
    pid_t pg = g.load();
    if (pg > 0) ::kill(-pg, sig);
  }
}

class SignalForwarding {
 public:
  SignalForwarding() {
    for (auto& g : g_sweep_groups) g.store(0);
    g_sweep_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waitpid returns EINTR and the loop sees the signal
    // A signal the sweep was started ignoring (nohup, `&` in a script) stays ignored, for its runs too.
    for (size_t i = 0; i < kSignals.size(); ++i) {
      installed_[i] = ::sigaction(kSignals[i], nullptr, &old_[i]) == 0 && old_[i].sa_handler != SIG_IGN &&
                      ::sigaction(kSignals[i], &sa, nullptr) == 0;
    }
  }
  ~SignalForwarding() {
    for (size_t i = 0; i < kSignals.size(); ++i)
      if (installed_[i]) ::sigaction(kSignals[i], &old_[i], nullptr);
    for (auto& g : g_sweep_groups) g.store(0);
  }
  static bool add(pid_t pg) {
    for (auto& g : g_sweep_groups) {
      pid_t empty = 0;
      if (g.compare_exchange_strong(empty, pg)) return true;
    }
    return false;
  }
  static void remove(pid_t pg) {
    for (auto& g : g_sweep_groups) {
      pid_t v = pg;
      g.compare_exchange_strong(v, 0);
    }
  }

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
  bool installed_[3] = {false, false, false};
};

}  // namespace

int run_dependency(const SweepPlan& plan, const SweepRun& run) {
  const std::string& from = run.config.selection.fixed_ids_from;
  if (from.empty()) return -1;
  const fs::path want = fs::path(from).lexically_normal();
  for (size_t i = 0; i < plan.runs.size(); ++i)
    if (&plan.runs[i] != &run && fs::path(plan.runs[i].record_path).lexically_normal() == want) return static_cast<int>(i);
  return -1;
}

std::vector<const SweepRun*> sweep_start_order(const SweepPlan& plan, std::vector<const SweepRun*> todo) {
  // Plan order, except that a replay listed before the run it reads moves to just after it; the
  // scheduler below holds a replay back while its source run is live and starts the next runs
  // meanwhile, so that a sweep finishes seed after seed, replays included.
  std::set<const SweepRun*> pending(todo.begin(), todo.end());
  std::multimap<const SweepRun*, const SweepRun*> replays_of;  // source run -> replays listed before it
  std::vector<const SweepRun*> order;
  order.reserve(todo.size());
  std::function<void(const SweepRun*)> place = [&](const SweepRun* r) {
    order.push_back(r);
    pending.erase(r);
    auto [first, last] = replays_of.equal_range(r);
    std::vector<const SweepRun*> after;
    for (auto it = first; it != last; ++it) after.push_back(it->second);
    replays_of.erase(first, last);
    for (const SweepRun* replay : after) place(replay);
  };
  for (const SweepRun* r : todo) {
    const int dep = run_dependency(plan, *r);
    if (dep >= 0 && pending.count(&plan.runs[dep]))
      replays_of.emplace(&plan.runs[dep], r);
    else
      place(r);
  }
  for (const auto& [source, replay] : replays_of) order.push_back(replay);  // a dependency cycle: left to fail
  return order;
}

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options) {
  SweepOutcome out;
  out.total = static_cast<int>(plan.runs.size());
  std::vector<const SweepRun*> todo;
  for (const auto& r : plan.runs) {
    std::string why;
    if (run_is_done(r, &why)) {
      ++out.already_done;
      continue;
    }
    if (why != "missing") out.redo.push_back(r.label + ": previous record unusable, redoing (" + why + ")");
    todo.push_back(&r);
  }
  todo = sweep_start_order(plan, std::move(todo));
  int budget = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int jobs = std::max(1, std::min(options.jobs, std::max<int>(1, static_cast<int>(todo.size()))));
  int threads_each = std::max(1, budget / jobs);
  log_line("sweep: " + std::to_string(out.total) + " runs in " + plan.results_dir + ": " +
           std::to_string(out.already_done) + " already done, " + std::to_string(todo.size()) + " to run with " +
           std::to_string(jobs) + " job(s) x " + std::to_string(threads_each) + " thread(s)");
  for (const auto& r : out.redo) log_line("sweep: " + r);
  if (options.dry_run) {
    for (auto* r : todo) log_line("would run: " + joined_command_line(run_arguments(plan, *r, threads_each, options.device, options.progress)));
    return out;
  }
  double t0 = now_seconds();
  int finished = 0;
  auto report = [&](const SweepRun& r, int rc, double secs, const std::string& log) {
    ++finished;
    char head[64];
    std::snprintf(head, sizeof(head), "[%3d/%zu]", finished, todo.size());
    double elapsed = now_seconds() - t0;
    double eta = finished < static_cast<int>(todo.size()) ? elapsed / finished * (todo.size() - finished) : 0;
    if (rc == 0) {
      ++out.ran;
      log_line(std::string(head) + " done   " + r.label + "  " + fmt_duration(secs) + "  (sweep " + fmt_duration(elapsed) +
               ", ETA " + fmt_duration(eta) + ")");
    } else {
      ++out.failed;
      std::string f = r.label + ": exit code " + std::to_string(rc) + (log.empty() ? "" : ", log: " + log);
      out.failures.push_back(f);
      log_line(std::string(head) + " FAILED " + f);
    }
  };

  // Each run's record lock is taken before it starts (a run another process is writing is skipped)
  // and held until it ended; the done check is repeated under the lock, for a run that another
  // process finished meanwhile.
  auto lock_run = [&](const SweepRun& r, RecordLock& lock) {
    lock = RecordLock::try_acquire(r.record_path);
    if (!lock.held()) {
      ++out.busy;
      out.skipped_busy.push_back(r.label + ": " + lock.busy_message(r.record_path));
      log_line("          skip   " + r.label + ": " + lock.busy_message(r.record_path));
      return false;
    }
    if (run_is_done(r, nullptr)) {
      ++out.already_done;
      log_line("          skip   " + r.label + ": finished by another process meanwhile");
      return false;
    }
    remove_stale_record_temporaries(r.record_path);
    return true;
  };

  if (options.execute) {
    for (auto* r : todo) {
      RecordLock lock;
      if (!lock_run(*r, lock)) continue;
      double s = now_seconds();
      int rc = options.execute(*r);
      report(*r, rc, now_seconds() - s, "");
    }
    return out;
  }

  std::string exe = options.executable.empty() ? self_executable() : options.executable;
  struct Live {
    const SweepRun* run;
    double start;
    std::string log;
    RecordLock lock;
  };
  std::map<pid_t, Live> live;
  SignalForwarding forwarding;
  size_t next = 0;
  while ((next < todo.size() && !g_sweep_signal) || !live.empty()) {
    while (!g_sweep_signal && next < todo.size() && static_cast<int>(live.size()) < jobs) {
      // A replay whose source run is still running waits for it (it reads that run's record); the
      // first run in order that does not wait starts instead.
      auto waits = [&](const SweepRun* r) {
        const int dep = run_dependency(plan, *r);
        return dep >= 0 && std::any_of(live.begin(), live.end(), [&](const auto& l) { return l.second.run == &plan.runs[dep]; });
      };
      size_t pick = next;
      while (pick < todo.size() && waits(todo[pick])) ++pick;
      if (pick == todo.size()) break;
      std::rotate(todo.begin() + next, todo.begin() + pick, todo.begin() + pick + 1);
      const SweepRun* r = todo[next++];
      RecordLock lock;
      if (!lock_run(*r, lock)) continue;
      std::string log = options.inherit_output ? std::string() : log_path_of(plan, *r);
      auto args = run_arguments(plan, *r, threads_each, options.device, options.progress < 0 ? 1 : options.progress);
      pid_t pid = spawn_run(exe, args, log, lock.fd());
      SignalForwarding::add(pid);
      if (g_sweep_signal) ::kill(-pid, g_sweep_signal);  // a signal that came while it started
      log_line("          start  " + r->label + (log.empty() ? std::string() : "  (log: " + log + ")"));
      live.emplace(pid, Live{r, now_seconds(), log, std::move(lock)});
    }
    if (live.empty()) continue;
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno != EINTR) break;
      if (g_sweep_signal)  // again from here: the handler reaches only the groups it has room for
        for (const auto& l : live) ::kill(-l.first, g_sweep_signal);
      continue;
    }
    auto it = live.find(pid);
    if (it == live.end()) continue;
    SignalForwarding::remove(pid);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (g_sweep_signal && rc != 0) {
      // Stopped by the forwarded signal: not a failure, the next sweep redoes it. A record is only
      // ever renamed into place whole, so nothing of it is left but temporaries, removed here.
      ++out.interrupted;
      remove_stale_record_temporaries(it->second.run->record_path);
      log_line("          stop   " + it->second.run->label + " (" + strsignal(g_sweep_signal) + ")");
      live.erase(it);
      continue;
    }
    // A run that exited 0 but left no usable record counts as failed.
    std::string why;
    if (rc == 0 && !run_is_done(*it->second.run, &why)) rc = 1;
    report(*it->second.run, rc, now_seconds() - it->second.start, it->second.log);
    live.erase(it);
  }
  out.signal = g_sweep_signal;
  return out;
}

namespace {

// One job-array script: a task reads its line of `runs_path` and runs it, as one process, or with
// several ranks as one srun step whose tasks get the torchrun variables from Slurm's.
std::string slurm_array_script(const SweepPlan& plan, const std::string& exe, const std::string& script_path,
                               const std::string& runs_path, size_t n_tasks, int cpus, const std::string& what) {
  const SlurmRequest& q = plan.slurm;
  const int ranks = q.nodes * q.tasks_per_node;
  std::string s;
  s += "#!/bin/bash\n";
  s += "# Slurm job array for `" + command_line() + "`: " + what + ", one leadbench run per array task.\n";
  s += "# Submit from the folder the sweep was planned in (config and results paths are relative to it),\n";
  s += "# with " + (fs::path(plan.results_dir) / "submit.sh").string() + " (it orders replays after the runs they replay).\n";
  s += "# A task whose record already exists (same config hash) exits at once, so resubmitting resumes.\n";
  s += "# Then: leadbench table " + plan.results_dir + "\n";
  s += "#SBATCH --job-name=leadbench-sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(n_tasks == 0 ? 0 : n_tasks - 1) + "\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(cpus) + "\n";
  if (q.gpus_per_task > 0) s += "#SBATCH --gpus-per-task=" + std::to_string(q.gpus_per_task) + "\n";
  if (!q.mem.empty()) s += "#SBATCH --mem=" + q.mem + "\n";
  if (!q.time.empty()) s += "#SBATCH --time=" + q.time + "\n";
  if (!q.partition.empty()) s += "#SBATCH --partition=" + q.partition + "\n";
  if (!q.account.empty()) s += "#SBATCH --account=" + q.account + "\n";
  if (ranks > 1) {
    s += "#SBATCH --nodes=" + std::to_string(q.nodes) + "\n";
    s += "#SBATCH --ntasks-per-node=" + std::to_string(q.tasks_per_node) + "\n";
  }
  for (const auto& o : q.extra) s += "#SBATCH " + o + "\n";
  s += "#SBATCH --output=" + plan.results_dir + "/logs/slurm-%A_%a.log\n";
  s += "set -euo pipefail\n";
  s += "LEADBENCH=\"${LEADBENCH:-" + exe + "}\"\n";
  s += "mkdir -p " + joined_command_line({plan.results_dir + "/logs"}) + "\n";
  s += "line=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " + joined_command_line({runs_path}) + ")\n";
  if (ranks <= 1) {
    s += "eval \"\\\"$LEADBENCH\\\" $line\"\n";
  } else {
    // One rank per Slurm task; rank 0's node is the rendezvous, on a port of this array task's own.
    s += "export LEADBENCH line\n";
    s += "export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n";
    s += "export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n";
    s += "srun --kill-on-bad-exit=1 bash -c 'export RANK=$SLURM_PROCID WORLD_SIZE=$SLURM_NTASKS "
         "LOCAL_RANK=$SLURM_LOCALID; eval \"\\\"$LEADBENCH\\\" $line\"'\n";
  }
  write_file_atomic(script_path, s);
  ::chmod(script_path.c_str(), 0755);
  return script_path;
}

}  // namespace

std::string write_slurm_script(const SweepPlan& plan, const SweepOptions& options, int cpus_per_task) {
  const fs::path dir(plan.results_dir);
  const int cpus = plan.slurm.cpus_per_task > 0 ? plan.slurm.cpus_per_task : cpus_per_task;
  // With GPUs requested and no device chosen, the runs use them.
  const std::string device = plan.slurm.gpus_per_task > 0 && options.device == "auto" ? "cuda" : options.device;
  std::string first, replays;
  size_t n_first = 0, n_replays = 0;
  for (const auto& r : plan.runs) {
    auto args = run_arguments(plan, r, cpus, device, 1);
    args.push_back("--skip-existing");
    if (run_dependency(plan, r) >= 0) {
      replays += joined_command_line(args) + "\n";
      ++n_replays;
    } else {
      first += joined_command_line(args) + "\n";
      ++n_first;
    }
  }
  const std::string exe = options.executable.empty() ? self_executable() : options.executable;
  // slurmd opens each task's --output file before the script runs: its folder must exist already.
  fs::create_directories(dir / "logs");
  const std::string runs_path = (dir / "_sweep_runs.txt").string(), script = (dir / "sweep.slurm").string();
  const std::string replays_path = (dir / "_sweep_replays.txt").string(), replay_script = (dir / "sweep-replays.slurm").string();
  write_file_atomic(runs_path, first);
  slurm_array_script(plan, exe, script, runs_path, n_first, cpus, std::to_string(n_first) + " runs");
  std::string submit = "#!/bin/bash\n# Submits the sweep's job array";
  if (n_replays > 0) {
    write_file_atomic(replays_path, replays);
    slurm_array_script(plan, exe, replay_script, replays_path, n_replays, cpus,
                       std::to_string(n_replays) + " replays of runs in " + script);
    submit += "s: the runs, then the replays once the runs they replay have ended (afterany: a replay whose\n"
              "# run failed fails with a message and is redone by the next submission).\n";
  } else {
    fs::remove(replays_path);
    fs::remove(replay_script);
    submit += ".\n";
  }
  submit += "# Run it from the folder the sweep was planned in; extra arguments go to every sbatch.\n";
  submit += "set -euo pipefail\n";
  submit += "runs=$(sbatch --parsable \"$@\" " + joined_command_line({script}) + ")\n";
  submit += "echo \"submitted job array $runs (" + std::to_string(n_first) + " runs)\"\n";
  if (n_replays > 0) {
    submit += "replays=$(sbatch --parsable --dependency=afterany:${runs%%;*} \"$@\" " + joined_command_line({replay_script}) +
              ")\n";
    submit += "echo \"submitted job array $replays (" + std::to_string(n_replays) + " replays, after $runs)\"\n";
  }
  const std::string submit_path = (dir / "submit.sh").string();
  write_file_atomic(submit_path, submit);
  ::chmod(submit_path.c_str(), 0755);
  return submit_path;
}

namespace {
const char* kSweepUsage =
    "usage: leadbench sweep CONFIG [key=value ...] [--jobs N] [--threads N] [--out DIR] [--device D]\n"
    "                       [--slurm] [--dry-run] [--no-table] [--progress|--quiet]\n"
    "  Runs every combination of CONFIG's `sweep.grid` lists and `sweep.variants`, each as its own\n"
    "  `leadbench run` process writing one record into DIR (default: the config's runtime.out_dir).\n"
    "  Resumable: runs whose record exists with the same config hash are skipped; re-run the same\n"
    "  command after a kill. Then writes the tables (leadbench table DIR) unless --no-table.\n"
    "  --jobs N     runs at once (default 1); --threads N is the total thread budget split over jobs\n"
    "  --slurm      write a Slurm job array (DIR/sweep.slurm, one run per task; replays in\n"
    "               DIR/sweep-replays.slurm) and DIR/submit.sh, which submits them, instead of running;\n"
    "               the config's sweep.slurm asks for CPUs, GPUs, memory, time, partition, nodes\n"
    "  --dry-run    list the runs that would start\n"
    "  A run whose record another process is writing (its lock DIR/<record>.json.lock is held) is\n"
    "  skipped and named; the sweep then exits with 75. Ctrl-C or SIGTERM stops the running runs (no\n"
    "  partial record is left) and exits; the runs also die when the sweep is killed.\n";
}

int cmd_sweep(const std::vector<std::string>& args) {
  ParsedArgs p = parse_args(args, {"--jobs", "--out"}, {"--slurm", "--dry-run", "--no-table"});
  if (p.common.help) {
    std::cout << kSweepUsage;
    return 0;
  }
  if (p.positional.size() != 1) throw UsageError(std::string("sweep needs one CONFIG file\n") + kSweepUsage);
  SweepOptions opt;
  try {
    opt.jobs = std::stoi(p.value("--jobs", "1"));
  } catch (const std::exception&) {
    throw UsageError("--jobs needs an integer");
  }
  if (opt.jobs < 1) throw UsageError("--jobs must be >= 1");
  opt.threads = p.common.threads;
  opt.device = p.common.device;
  opt.progress = p.common.progress;
  opt.dry_run = p.has("--dry-run");
  apply_common_flags(p.common);
  SweepPlan plan = plan_sweep(p.positional[0], p.overrides, p.value("--out"));
  if (plan.runs.empty()) throw ConfigError(p.positional[0] + ": the sweep has no runs");
  if (p.has("--slurm")) {
    int cpus = opt.threads > 0 ? opt.threads : 4;
    std::string path = write_slurm_script(plan, opt, cpus);
    log_line("wrote the Slurm job array for " + std::to_string(plan.runs.size()) + " runs into " + plan.results_dir +
             " (sweep.slurm" + (fs::exists(fs::path(plan.results_dir) / "sweep-replays.slurm") ? ", sweep-replays.slurm" : "") +
             "); submit with: bash " + path);
    return 0;
  }
  // A dry run writes nothing: the plan file describes the sweep that last ran for real.
  if (!opt.dry_run)
    write_json_atomic((fs::path(plan.results_dir) / "_sweep_plan.json").string(),
                      {{"command", command_line()},
                       {"config", plan.config_path},
                       {"runs", [&] {
                          nlohmann::json a = nlohmann::json::array();
                          for (const auto& r : plan.runs)
                            a.push_back({{"label", r.label}, {"hash", r.hash}, {"record", r.record_path}, {"overrides", r.overrides}});
                          return a;
                        }()}});
  SweepOutcome o = run_sweep(plan, opt);
  if (opt.dry_run) return 0;
  if (o.signal) {
    log_line(std::string("sweep: stopped by ") + strsignal(o.signal) + " after " + std::to_string(o.ran) + " run(s); " +
             std::to_string(o.interrupted) + " running run(s) stopped, no record of theirs written; re-run the same "
             "command to resume");
    return 128 + o.signal;
  }
  log_line("sweep: " + std::to_string(o.ran) + " ran, " + std::to_string(o.already_done) + " already done, " +
           std::to_string(o.failed) + " failed" +
           (o.busy ? ", " + std::to_string(o.busy) + " skipped (being run by another process)" : std::string()));
  for (const auto& f : o.failures) log_line("  failed: " + f);
  for (const auto& b : o.skipped_busy) log_line("  skipped: " + b);
  if (!p.has("--no-table")) {
    std::vector<std::string> targs = {plan.results_dir};
    cmd_table(targs);
  }
  return o.failed ? 1 : o.busy ? kRecordBusyExitCode : 0;
}

}  // namespace lb
