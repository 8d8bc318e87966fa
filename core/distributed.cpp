// The launch environment, the Gloo process group and its collectives; see distributed.h.
#include "core/distributed.h"

#include "core/config.h"
#include "core/ledger.h"

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <cerrno>
#include <cstdlib>
#include <limits>

namespace lb {

namespace {

// A decimal integer in [lo, hi], or a ConfigError naming the variable, its value and what to do.
int env_int(const char* name, const char* value, long lo, long hi, const std::string& hint) {
  std::string v = value ? value : "";
  char* end = nullptr;
  errno = 0;
  const long x = v.empty() ? 0 : std::strtol(v.c_str(), &end, 10);
  if (v.empty() || errno != 0 || *end != '\0' || x < lo || x > hi)
    throw ConfigError(std::string("environment variable ") + name + " is '" + v + "': it must be an integer in [" +
                      std::to_string(lo) + ", " + std::to_string(hi) + "]; " + hint);
  return static_cast<int>(x);
}

bool is_set(const char* v) { return v != nullptr; }

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

}  // namespace

DistEnv parse_dist_env(const std::function<const char*(const char*)>& get) {
  DistEnv env;
  const char* rank = get("RANK");
  const char* world = get("WORLD_SIZE");
  const char* local_rank = get("LOCAL_RANK");
  const char* local_world = get("LOCAL_WORLD_SIZE");
  const char* rank_name = "RANK";
  const char* world_name = "WORLD_SIZE";
  const char* local_rank_name = "LOCAL_RANK";
  const char* local_world_name = "LOCAL_WORLD_SIZE";
  if (!is_set(rank) && !is_set(world) && is_set(get("SLURM_PROCID")) && is_set(get("SLURM_NTASKS"))) {
    // srun sets these for every task of a step; a one-task job (a sweep's array job) stays alone.
    rank = get("SLURM_PROCID");
    world = get("SLURM_NTASKS");
    local_rank = get("SLURM_LOCALID");
    local_world = get("SLURM_NTASKS_PER_NODE");
    rank_name = "SLURM_PROCID";
    world_name = "SLURM_NTASKS";
    local_rank_name = "SLURM_LOCALID";
    local_world_name = "SLURM_NTASKS_PER_NODE";
    env.source = "slurm";
  } else if (is_set(rank) || is_set(world)) {
    env.source = "torchrun";
  }
  if (env.source.empty()) return env;  // one rank, nothing to connect
  if (is_set(rank) != is_set(world))
    throw ConfigError(std::string("environment variable ") + (is_set(rank) ? world_name : rank_name) +
                      " is unset while " + (is_set(rank) ? rank_name : world_name) +
                      " is set: a data-parallel launch needs both (torchrun and srun set both); unset the other for a single-rank run");
  const std::string hint_world = "set it to the number of ranks (or unset RANK and WORLD_SIZE for a single-rank run)";
  env.world_size = env_int(world_name, world, 1, 1 << 16, hint_world);
  env.rank = env_int(rank_name, rank, 0, env.world_size - 1,
                     "every rank needs a distinct RANK below WORLD_SIZE = " + std::to_string(env.world_size));
  env.local_rank = is_set(local_rank) ? env_int(local_rank_name, local_rank, 0, env.world_size - 1,
                                                "it must be below WORLD_SIZE = " + std::to_string(env.world_size))
                                      : env.rank;
  // SLURM_NTASKS_PER_NODE may read "2(x3)" on uneven layouts: then keep the whole world.
  env.local_world_size = env.world_size;
  if (is_set(local_world)) {
    const std::string v = local_world;
    if (env.source != "slurm" || v.find('(') == std::string::npos)
      env.local_world_size = env_int(local_world_name, local_world, 1, env.world_size,
                                     "it must be between 1 and WORLD_SIZE = " + std::to_string(env.world_size));
  }
  if (env.world_size == 1) return env;
  const char* addr = get("MASTER_ADDR");
  const char* port = get("MASTER_PORT");
  if (!addr || !*addr)
    throw ConfigError(std::string("environment variable MASTER_ADDR is ") + (addr ? "empty" : "unset") + " but " +
                      world_name + " = " + std::to_string(env.world_size) +
                      ": set it to the host name or address of rank 0 (127.0.0.1 on one machine; `leadbench run --nproc N` sets it)");
  env.master_addr = addr;
  env.master_port = env_int("MASTER_PORT", port, 1, 65535,
                            "set it to a free TCP port on MASTER_ADDR, the same on every rank (torchrun's default is 29500)");
  const char* agent = get("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_store = agent && std::string(agent) == "True";
  if (env.agent_store && get("TORCHELASTIC_RESTART_COUNT"))
    env.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", get("TORCHELASTIC_RESTART_COUNT"), 0, 1 << 30,
                                "torchrun sets it to the number of restarts so far");
  return env;
}

DistEnv dist_env_from_environment() {
  return parse_dist_env([](const char* name) -> const char* { return std::getenv(name); });
}

#ifdef USE_C10D_GLOO
bool ProcessGroup::available() { return true; }

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

ProcessGroup::~ProcessGroup() = default;

ProcessGroupPtr ProcessGroup::create(const DistEnv& env, std::chrono::milliseconds timeout) {
  if (env.world_size <= 1) return nullptr;
  if (timeout.count() <= 0) throw ConfigError("the collective timeout must be positive (runtime.dist_timeout)");
  ProcessGroupPtr g(new ProcessGroup());
  g->rank_ = env.rank;
  g->size_ = env.world_size;
  g->timeout_ = timeout;
  g->impl_ = std::make_unique<Impl>();
  const double t0 = now_seconds();
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(env.master_port);
    opts.isServer = env.rank == 0 && !env.agent_store;
    opts.numWorkers = static_cast<std::size_t>(env.world_size);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    g->impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
    if (env.agent_store)
      g->impl_->store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(env.restart_count),
                                                               g->impl_->store);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(is_loopback(env.master_addr)
                                   ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                   : c10d::ProcessGroupGloo::createDefaultDevice());
    options->threads = 1;
    g->impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->impl_->store, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    const c10::Error* ce = dynamic_cast<const c10::Error*>(&e);
    throw DistributedError("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                           ": could not join the process group at MASTER_ADDR:MASTER_PORT = " + where + " after " +
                           std::to_string(static_cast<int>(now_seconds() - t0)) + " s (" +
                           (ce ? ce->what_without_backtrace() : e.what()) +
                           "); check that every rank started with the same MASTER_ADDR/MASTER_PORT and WORLD_SIZE, "
                           "that rank 0 can listen on that port, and that no rank died at start-up");
  }
  return g;
}

void ProcessGroup::wait(const std::function<void()>& run, const std::string& what) {
  const double t0 = now_seconds();
  try {
    run();
  } catch (const std::exception& e) {
    const c10::Error* ce = dynamic_cast<const c10::Error*>(&e);
    std::string peer = size_ == 2 ? "rank " + std::to_string(1 - rank_) : "another rank";
    throw DistributedError("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": collective '" + what +
                           "' failed after " + std::to_string(static_cast<int>(now_seconds() - t0)) + " s (timeout " +
                           std::to_string(timeout_.count() / 1000) + " s): " +
                           (ce ? ce->what_without_backtrace() : e.what()) + "; " + peer +
                           " has died or stopped answering (its own output says why; `leadbench run --nproc` names it). "
                           "If a rank is only slow, raise runtime.dist_timeout");
  }
}

void ProcessGroup::all_reduce_sum(torch::Tensor& tensor, const std::string& what) {
  std::vector<torch::Tensor> one{tensor};
  all_reduce_sum(one, what);
  tensor = one[0];
}

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors, const std::string& what) {
  if (tensors.empty()) return;
  // One flat buffer per dtype would be general; callers pass one dtype, checked here.
  const auto dtype = tensors[0].scalar_type();
  std::vector<torch::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) {
    if (t.scalar_type() != dtype) throw std::logic_error("all_reduce_sum: tensors of different dtypes in one call (" + what + ")");
    flat.push_back(t.detach().reshape({-1}).to(torch::kCPU));
  }
  std::vector<torch::Tensor> buffer{torch::cat(flat).contiguous()};
  wait([&] { impl_->pg->allreduce(buffer)->wait(); }, what);
  int64_t offset = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    auto part = buffer[0].narrow(0, offset, n).view(t.sizes()).to(t.device());
    if (t.is_leaf() && t.requires_grad()) {
      torch::NoGradGuard no_grad;
      t.copy_(part);
    } else {
      t.copy_(part);
    }
    offset += n;
  }
}

torch::Tensor ProcessGroup::all_gather(const torch::Tensor& tensor, const std::string& what) {
  std::vector<torch::Tensor> input{tensor.detach().to(torch::kCPU).contiguous()};
  std::vector<std::vector<torch::Tensor>> output(1);
  for (int r = 0; r < size_; ++r) output[0].push_back(torch::empty_like(input[0]));
  wait([&] { impl_->pg->allgather(output, input)->wait(); }, what);
  return torch::stack(output[0]);
}

void ProcessGroup::broadcast(torch::Tensor& tensor, int root, const std::string& what) {
  std::vector<torch::Tensor> buffer{tensor.detach().to(torch::kCPU).contiguous().clone()};
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  wait([&] { impl_->pg->broadcast(buffer, opts)->wait(); }, what);
  torch::NoGradGuard no_grad;
  tensor.copy_(buffer[0].view(tensor.sizes()));
}

void ProcessGroup::barrier(const std::string& what) {
  wait([&] { impl_->pg->barrier()->wait(); }, what);
}

#else  // built without Gloo's headers: one process only

struct ProcessGroup::Impl {};
ProcessGroup::~ProcessGroup() = default;
bool ProcessGroup::available() { return false; }

ProcessGroupPtr ProcessGroup::create(const DistEnv& env, std::chrono::milliseconds) {
  if (env.world_size <= 1) return nullptr;
  throw ConfigError("WORLD_SIZE = " + std::to_string(env.world_size) +
                    " asks for data-parallel ranks, but this leadbench was built without Gloo's headers; install "
                    "libgloo-dev (bash scripts/install.sh) and build again, or run one process");
}
void ProcessGroup::wait(const std::function<void()>&, const std::string&) {}
void ProcessGroup::all_reduce_sum(torch::Tensor&, const std::string&) { throw std::logic_error("no process group"); }
void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>&, const std::string&) { throw std::logic_error("no process group"); }
torch::Tensor ProcessGroup::all_gather(const torch::Tensor&, const std::string&) { throw std::logic_error("no process group"); }
void ProcessGroup::broadcast(torch::Tensor&, int, const std::string&) { throw std::logic_error("no process group"); }
void ProcessGroup::barrier(const std::string&) { throw std::logic_error("no process group"); }
#endif

}  // namespace lb
