// Sweeps: the product of a config file's list-valued keys (selectors x budgets x seeds x knobs) and
// its named variants, run as parallel child processes within a thread budget. Resumable: a run whose
// record exists, parses and carries the same config hash is never redone, so a killed sweep restarts
// where it stopped. `--slurm` writes a job-array script running the same runs on a cluster.
// Each child runs in its own process group and dies with the sweep (parent-death signal); SIGINT,
// SIGTERM and SIGHUP are forwarded to the children, which the sweep waits for before it returns. A
// run's record lock (record_lock.h) is taken by the sweep and inherited by its child, so no two
// processes run one record at once.
//
// The sweep section of a config file:
//   "sweep": {
//     "grid": {"selection.selector": ["lead", "random"], "seed": [0, 1, 2]},
//     "variants": [{"name": "lead_no_delta", "set": {"selection.selector": "lead", "lead.use_loss_change": false}}],
//     "overrides": [{"when": {"selection.selector": "lead", "selection.budget_fraction": 1.0},
//                    "set": {"lead.max_rounds": 20000}}],
//     "slurm": {"cpus_per_task": 8, "gpus_per_task": 1, "mem": "64G", "time": "04:00:00", "partition": "gpu"}
//   }
// `overrides` change only the runs whose config, after grid and variant, has every `when` value (the
// other runs keep their hashes); one that matches no run is an error (a typo in a value).
#pragma once

#include "experiments/experiment_config.h"

#include <functional>
#include <string>
#include <vector>

namespace lb {

struct SweepRun {
  int index = 0;
  std::vector<std::string> overrides;  // key=value, grid and variant first, then the command line's
  ExperimentConfig config;             // resolved
  std::string hash;                    // experiment_config_hash(config)
  std::string record_path;             // results_dir / run_record_file_name(...)
  std::string label;                   // "lead-b2.5-s0" for progress lines
};

// What each Slurm array task asks the cluster for (`sweep.slurm` in the config; sweep metadata, not
// part of any run's config hash). Every field is checked when the sweep is planned, with the key and
// the file in the message. 0 / "" = not requested (the cluster's default).
struct SlurmRequest {
  int cpus_per_task = 0;       // 0: the sweep's --threads, else 4
  int gpus_per_task = 0;       // --gpus-per-task; with GPUs the runs get --device cuda unless --device says otherwise
  std::string mem;             // --mem, e.g. "32G" (a number with an optional K/M/G/T suffix)
  std::string time;            // --time: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS
  std::string partition;       // --partition
  std::string account;         // --account
  int nodes = 1;               // --nodes; with nodes x tasks_per_node > 1 each array task starts one rank
  int tasks_per_node = 1;      // per task with srun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)
  std::vector<std::string> extra;  // further #SBATCH options, each "--name[=value]"
};

struct SweepPlan {
  std::string config_path;
  std::string results_dir;
  std::vector<SweepRun> runs;
  SlurmRequest slurm;
};

// Expands the sweep of `config_path`; results_dir "" = the config's runtime.out_dir (after overrides).
// Errors name the file and the key.
SweepPlan plan_sweep(const std::string& config_path, const std::vector<std::string>& cli_overrides,
                     const std::string& results_dir = "");

// True when the run's record exists, parses and has the run's config hash; else `why` says what is
// there instead ("missing", or the problem with the file).
bool run_is_done(const SweepRun& run, std::string* why);

// The index in `plan.runs` of the run whose record `run` reads (selector fixed replaying another run
// of the same sweep through selection.fixed_ids_from), or -1. Such a run starts only after that run
// has finished: run_sweep orders the runs so and waits for it with --jobs > 1. A Slurm job array
// does not know the order: submit the replays after the array (`--dependency=afterany`).
int run_dependency(const SweepPlan& plan, const SweepRun& run);
// `todo` (runs of `plan`) in the order run_sweep starts them: plan order, a replay listed before its
// source run moved to just after it. run_sweep with --jobs > 1 starts the next run in this order
// that is not a replay of a live run.
std::vector<const SweepRun*> sweep_start_order(const SweepPlan& plan, std::vector<const SweepRun*> todo);

struct SweepOptions {
  int jobs = 1;           // runs at once
  int threads = 0;        // total thread budget (0 = all cores), split over jobs
  std::string device = "auto";
  int progress = -1;      // passed to children: 1 --progress, 0 --quiet
  bool dry_run = false;   // list what would run
  std::string executable; // leadbench binary to start (default: this one)
  bool inherit_output = false;  // children write to this terminal (demo) instead of per-run log files
  // Tests: execute a run in-process (sequentially) instead of starting a process; returns an exit code.
  std::function<int(const SweepRun&)> execute;
};

struct SweepOutcome {
  int total = 0;
  int already_done = 0;
  int ran = 0;
  int failed = 0;
  std::vector<std::string> failures;  // "label: exit code N, log: path"
  std::vector<std::string> redo;      // runs whose previous record was unusable (named, with why)
  int busy = 0;                       // skipped: another process holds the record's lock
  std::vector<std::string> skipped_busy;  // "label: <record> is already being run by pid N (lock ...)"
  int interrupted = 0;                // runs stopped by a forwarded SIGINT/SIGTERM/SIGHUP
  int signal = 0;                     // that signal (0: the sweep was not interrupted)
};

SweepOutcome run_sweep(const SweepPlan& plan, const SweepOptions& options);

// The `leadbench` arguments of one run (after the program name).
std::vector<std::string> run_arguments(const SweepPlan& plan, const SweepRun& run, int threads,
                                       const std::string& device, int progress);

// Writes results_dir/sweep.slurm (a job array of the runs that depend on no other run, one per task,
// lines in results_dir/_sweep_runs.txt), and when the sweep has replays (run_dependency) a second
// array results_dir/sweep-replays.slurm (_sweep_replays.txt), plus results_dir/submit.sh, which
// submits the first array and the second with --dependency=afterany on it. Returns the path of
// submit.sh. `cpus_per_task` applies when plan.slurm.cpus_per_task is 0.
std::string write_slurm_script(const SweepPlan& plan, const SweepOptions& options, int cpus_per_task);

// `leadbench sweep CONFIG [key=value ...] [--jobs N] [--out DIR] [--slurm] [--dry-run]`.
int cmd_sweep(const std::vector<std::string>& args);

}  // namespace lb
