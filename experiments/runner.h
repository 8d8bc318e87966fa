// One run: world -> pool -> base model (cached) -> a fresh trainable copy -> selector rounds on the
// shared trainer -> every suite -> one run record (JSON, written atomically). Also the `run` and
// `demo` commands, and `probe`.
#pragma once

#include "core/distributed.h"
#include "experiments/experiment_config.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lb {

struct RunOptions {
  std::string record_path;     // "" = runtime.out_dir / run_record_file_name(...)
  std::string command;         // recorded in the record ("" = this process's command line)
  bool write_record = true;
  // Data-parallel ranks (core/distributed.h): the trainer, its warm-up trainers and the inference
  // engine share every batch among them; every rank runs the same run, rank 0 alone writes. Null: alone.
  ProcessGroupPtr process_group;
};

// Executes the run and returns its record (also written to record_path unless write_record is off).
nlohmann::json execute_run(const ExperimentConfig& cfg, const RunOptions& options);

// Where `run` writes the record of cfg by default.
std::string default_record_path(const ExperimentConfig& cfg);

// Locates a shipped config (demo.json, quick.json, ...): $LEADBENCH_CONFIGS, then
// <executable>/../experiments/configs, then ./experiments/configs.
std::string find_shipped_config(const std::string& file_name);

// `leadbench run CONFIG [key=value ...] [--out FILE] [--skip-existing] [--nproc N]`; data-parallel
// when RANK/WORLD_SIZE (torchrun, srun) are set or --nproc N starts N local ranks.
int cmd_run(const std::vector<std::string>& args);
// `leadbench demo [--quick] [key=value ...] [--out DIR] [--resume]`.
int cmd_demo(const std::vector<std::string>& args);
// `leadbench probe [CONFIG] [key=value ...] [--echoes N] [--json FILE]`: the base model's in-context
// copying (evaluation/copy_probe.h).
int cmd_probe(const std::vector<std::string>& args);

}  // namespace lb
