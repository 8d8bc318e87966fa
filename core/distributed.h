// Data-parallel ranks on PyTorch's c10d: the launch environment (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT, as torchrun and srun set them), a Gloo process group over a TCPStore
// with a collective timeout, and the few collectives the trainer and the inference engine use.
// A world of one rank needs no process group: callers hold a null ProcessGroupPtr and run alone.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lb {

// The ranks of a launch, read from the environment.
struct DistEnv {
  int rank = 0;              // RANK (or SLURM_PROCID)
  int world_size = 1;        // WORLD_SIZE (or SLURM_NTASKS)
  int local_rank = 0;        // LOCAL_RANK (or SLURM_LOCALID); default: rank
  int local_world_size = 1;  // LOCAL_WORLD_SIZE (or SLURM_NTASKS_PER_NODE); default: world_size
  std::string master_addr;   // MASTER_ADDR: where rank 0's TCPStore listens
  int master_port = 0;       // MASTER_PORT
  std::string source;        // "torchrun" (RANK/WORLD_SIZE), "slurm" (SLURM_*), "" (none: one rank)
  // TORCHELASTIC_USE_AGENT_STORE=True (torchrun 2.x): torchrun's agent hosts the TCPStore at
  // MASTER_ADDR:MASTER_PORT, so every rank connects as a client, under the key prefix
  // "/worker/attempt_<TORCHELASTIC_RESTART_COUNT>", as PyTorch's env:// rendezvous does.
  bool agent_store = false;
  int restart_count = 0;
};

// Reads and checks the variables through `get` (null: unset). World size 1 without RANK/WORLD_SIZE;
// srun's SLURM_PROCID/SLURM_NTASKS stand in for RANK/WORLD_SIZE when those are unset. Throws
// ConfigError naming the variable, its value and what to set.
DistEnv parse_dist_env(const std::function<const char*(const char*)>& get);
DistEnv dist_env_from_environment();

// A collective that failed or timed out: another rank died or stopped answering.
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class ProcessGroup;
using ProcessGroupPtr = std::shared_ptr<ProcessGroup>;

class ProcessGroup {
 public:
  // Connects the ranks of `env` (rank 0 hosts the TCPStore at MASTER_ADDR:MASTER_PORT) with Gloo;
  // every collective fails after `timeout`. Returns null for a world of one rank.
  static ProcessGroupPtr create(const DistEnv& env, std::chrono::milliseconds timeout);
  // Whether this build has Gloo (its headers were found at configure time); else create() refuses
  // a world of more than one rank.
  static bool available();
  ~ProcessGroup();

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Sum over ranks, in place. The tensors are flattened into one buffer (one collective: one
  // bucket); each ends with the same values on every rank.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors, const std::string& what);
  void all_reduce_sum(torch::Tensor& tensor, const std::string& what);
  // Every rank's `tensor` (same shape and dtype on all ranks), stacked in rank order: [size, ...].
  torch::Tensor all_gather(const torch::Tensor& tensor, const std::string& what);
  // Rank `root`'s values into `tensor` on every rank.
  void broadcast(torch::Tensor& tensor, int root, const std::string& what);
  void barrier(const std::string& what);

 private:
  ProcessGroup() = default;
  void wait(const std::function<void()>& run, const std::string& what);
  int rank_ = 0;
  int size_ = 1;
  std::chrono::milliseconds timeout_{0};
  struct Impl;  // the c10d store and Gloo group (distributed.cpp: only it includes c10d's headers)
  std::unique_ptr<Impl> impl_;
};

}  // namespace lb
