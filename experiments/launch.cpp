// Local data-parallel ranks for `leadbench run --nproc N`; see launch.h.
#include "experiments/launch.h"

#include "experiments/cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace lb {

namespace {

// The running ranks, for the signal handler (written before the handler is installed).
constexpr int kMaxRanks = 256;
volatile sig_atomic_t g_child_count = 0;
pid_t g_children[kMaxRanks];

void forward_signal(int sig) {
  for (int i = 0; i < g_child_count; ++i)
    if (g_children[i] > 0) ::kill(g_children[i], sig);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  return "stopped (status " + std::to_string(status) + ")";
}

}  // namespace

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("--nproc: cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("--nproc: cannot bind a socket on 127.0.0.1 to find a free port: " + why +
                             "; start the ranks yourself with MASTER_PORT set (README, data-parallel runs)");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

int launch_local_ranks(int nproc, const std::vector<std::string>& run_args) {
  if (nproc < 1 || nproc > kMaxRanks) throw UsageError("--nproc must be in 1.." + std::to_string(kMaxRanks));
  const std::string exe = self_executable();
  const int port = free_local_port();
  std::cerr << "leadbench run: starting " << nproc << " ranks (Gloo, MASTER_ADDR=127.0.0.1 MASTER_PORT=" << port << ")\n";
  std::vector<std::string> argv_s = {"leadbench", "run"};
  argv_s.insert(argv_s.end(), run_args.begin(), run_args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::map<pid_t, int> rank_of;
  g_child_count = 0;
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      const std::string why = std::strerror(errno);
      forward_signal(SIGTERM);
      throw std::runtime_error("--nproc: fork failed for rank " + std::to_string(r) + ": " + why);
    }
    if (pid == 0) {
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execv(exe.c_str(), argv.data());
      const std::string msg = "leadbench run: rank " + std::to_string(r) + ": cannot start " + exe + ": " + std::strerror(errno) + "\n";
      (void)!::write(2, msg.data(), msg.size());
      ::_exit(127);
    }
    rank_of[pid] = r;
    g_children[r] = pid;
    g_child_count = r + 1;
  }
  struct sigaction sa{}, old_int{}, old_term{};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);

  using Clock = std::chrono::steady_clock;
  int alive = nproc;
  int failed_rank = -1, failed_status = 0;
  Clock::time_point term_at{}, kill_at{};
  bool termed = false, killed = false;
  while (alive > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (pid == 0) {
      const auto now = Clock::now();
      if (failed_rank >= 0 && !termed && now >= term_at) {
        std::cerr << "leadbench run: stopping the remaining ranks (SIGTERM)\n";
        forward_signal(SIGTERM);
        termed = true;
      }
      if (termed && !killed && now >= kill_at) {
        forward_signal(SIGKILL);
        killed = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    auto it = rank_of.find(pid);
    if (it == rank_of.end()) continue;
    const int r = it->second;
    g_children[r] = -1;
    --alive;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && failed_rank < 0) {
      failed_rank = r;
      failed_status = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      std::cerr << "leadbench run: rank " << r << " of " << nproc << " (pid " << pid << ") " << describe_status(status)
                << "; the run fails" << (alive ? ", the other ranks stop" : "") << "\n";
      term_at = Clock::now() + std::chrono::seconds(5);  // time to report their own failed collective
      kill_at = term_at + std::chrono::seconds(10);
    }
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_child_count = 0;
  if (failed_rank >= 0) {
    std::cerr << "leadbench run: failed: rank " << failed_rank << " of " << nproc << " failed first (its message is above); rank 0 writes the record only at the end of a run every rank finished\n";
    return failed_status == 0 ? 1 : failed_status;
  }
  return 0;
}

}  // namespace lb
